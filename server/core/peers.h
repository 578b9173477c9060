/*
 * peers.h - what one peer address may do however many connections it
 * opens: new sessions (hellos) and failed resumes, each a token bucket
 * keyed by the session's address (session->addr).
 *
 * A per-session limit cannot stop a client that opens a connection per
 * hello, nor a guesser that spreads resume tokens over fifty sockets; a
 * per-address one can. The table is bounded (PEERS_MAX addresses): an
 * address whose buckets are full again is as good as forgotten, so its
 * slot is taken first; when none is, the one idle longest in its probe
 * window gives way. Owned by the venue (venue->peers), allocated at start.
 */
#ifndef VENUE_PEERS_H
#define VENUE_PEERS_H

#include <stdbool.h>

#include "session.h"

struct venue;

#define PEERS_MAX 4096 /* addresses tracked at once: a power of two */

enum peer_limit { PEER_HELLO, PEER_RESUME_FAILED, PEER_LIMIT_COUNT };

struct peer {
    char addr[SESSION_ADDR_MAX]; /* "" and used_ms 0: a free slot */
    struct bucket b[PEER_LIMIT_COUNT];
    long long used_ms; /* the last take */
};

/* A table of PEERS_MAX free slots (the caller frees it), or NULL. */
struct peer *peers_new(void);

/*
 * Take one from addr's allowance of kind (--hello-rate and --hello-burst,
 * --resume-fail-rate and --resume-fail-burst): true when within it. The
 * caller refuses what is over it.
 */
bool peers_take(struct venue *v, const char *addr, enum peer_limit kind);

#endif
