/*
 * secret.h - random identifiers and tokens, and the SHA-256 under which
 * tokens are kept. The one place that reads the kernel's randomness and
 * hashes a secret, for the core's resume tokens and the registry's access
 * tokens alike, and signs a TURN relay's passwords.
 */
#ifndef VENUE_SECRET_H
#define VENUE_SECRET_H

#include <stddef.h>

#define SECRET_RANDOM_MAX 32 /* random bytes one call can give */
#define SECRET_SHA256_HEX 64 /* hex digits of a SHA-256 */

/*
 * nbytes (1..SECRET_RANDOM_MAX) random bytes as 2 * nbytes lowercase hex
 * digits and a NUL into out, which holds outsize bytes (asserted to be
 * enough). 0, or -1 when the kernel gives no randomness (out is then "").
 */
int secret_random_hex(char *out, size_t outsize, size_t nbytes);

/* The SHA-256 of text as hex into out. 0, or -1 if the digest failed (out
 * is then ""). */
int secret_sha256_hex(const char *text, char out[SECRET_SHA256_HEX + 1]);

/* A TURN relay's time-limited password for username, as coturn's
 * use-auth-secret checks it: base64 of HMAC-SHA1(key, username), into out
 * (SECRET_TURN_B64 + 1 bytes). 0, or -1 (out is then ""). */
#define SECRET_TURN_B64 28
int secret_turn_password(const char *key, const char *username, char out[SECRET_TURN_B64 + 1]);

#endif
