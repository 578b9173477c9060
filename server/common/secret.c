/*
 * secret.c - randomness from getrandom(2), SHA-256 from libcrypto.
 */
#include "secret.h"

#include <assert.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <sys/random.h>

/* n bytes as 2n lowercase hex digits and a NUL into out. */
static void hex_encode(char *out, const unsigned char *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

int secret_random_hex(char *out, size_t outsize, size_t nbytes)
{
    unsigned char raw[SECRET_RANDOM_MAX];
    assert(nbytes >= 1 && nbytes <= sizeof(raw) && outsize >= 2 * nbytes + 1);
    (void)outsize; /* the assert's, gone under NDEBUG */
    out[0] = '\0';
    if (getrandom(raw, nbytes, 0) != (ssize_t)nbytes)
        return -1;
    hex_encode(out, raw, nbytes);
    return 0;
}

int secret_sha256_hex(const char *text, char out[SECRET_SHA256_HEX + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    out[0] = '\0';
    if (!EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL) ||
        len != SECRET_SHA256_HEX / 2)
        return -1;
    hex_encode(out, md, len);
    return 0;
}

int secret_turn_password(const char *key, const char *username, char out[SECRET_TURN_B64 + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    out[0] = '\0';
    if (!HMAC(EVP_sha1(), key, (int)strlen(key), (const unsigned char *)username, strlen(username),
              md, &len) ||
        len != 20)
        return -1;
    /* 20 bytes are 28 characters of base64, padding included. */
    if (EVP_EncodeBlock((unsigned char *)out, md, (int)len) != SECRET_TURN_B64) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}
