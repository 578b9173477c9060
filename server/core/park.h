/*
 * park.h - client messages that wait: for the database's write lock, or,
 * in a cluster, a join for a seat the node does not hold yet.
 *
 * A serving venue never waits on a lock (store_patient). A message whose
 * sender is told that something was written (a moderation, a slide, a
 * star, a question, a vote, privacy, a block, a report) is handled only
 * when a probe finds the write lock free. While another process holds it
 * (a step of `venued user import`, an operator's sqlite3), the message is
 * kept, every later message of its session waits behind it in order, and
 * they are tried again at each tick. One that has waited PARK_WAIT_MS is
 * answered `busy` and dropped: nothing of it was written.
 *
 * A join waits the same way when its room has free places but this node
 * has filled the seats it leased (room.h, lease): the cluster is asked for
 * more at the tick's end (mesh.c), and the join goes when they come, or is
 * answered `busy` after PARK_WAIT_MS.
 *
 * Bounds: PARK_MAX messages a session and PARK_BYTES_MAX bytes in the
 * whole venue; a message past either is answered `busy` at once. Poses
 * never wait: they write nothing their sender is told of.
 */
#ifndef VENUE_PARK_H
#define VENUE_PARK_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"

#define PARK_MAX       16
#define PARK_BYTES_MAX (1u << 20)
#define PARK_WAIT_MS   2000

struct venue;
struct session;

/* One waiting message: its text as it came, owned. */
struct parked {
    char *buf;
    size_t len;
    long long since_ms;
};

/* A session's waiting messages, oldest first; the session owns it and
 * park_drop frees it. */
struct park {
    struct parked msg[PARK_MAX];
    size_t head, n;
};

/* Whether a message of type t writes what its sender is told of. */
bool park_writes(enum proto_type t);

/* Whether m from s must wait: s already has messages waiting, or m cannot
 * go yet (park_held). */
bool park_needed(struct venue *v, struct session *s, const struct proto_msg *m);

/* Whether m cannot go yet: it writes and another connection holds the
 * write lock, or it is a join that waits for a seat (which asks for one). */
bool park_held(struct venue *v, struct session *s, const struct proto_msg *m);

/* Keep buf to be handled later, or answer `busy` (to id) at a bound. */
void park_put(struct venue *v, struct session *s, const char *buf, size_t len,
              const struct proto_id *id);

/* The oldest message s keeps; NULL when none. */
const struct parked *park_first(const struct session *s);

/* Forget the oldest message s keeps. */
void park_pop(struct venue *v, struct session *s);

/* Forget all that s keeps (it goes). */
void park_drop(struct venue *v, struct session *s);

#endif
