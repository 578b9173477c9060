/*
 * react.h - reactions: applause, a thumbs up, a heart, a laugh. Sent by
 * anyone in a room but the muted, rate-limited per person, and gathered
 * per room over a tick: one `reactions` frame a tick at most for each
 * room, whatever the number of people clapping, encoded once.
 *
 * Above sessions, beside rooms. Each room owns its tally (inline).
 */
#ifndef VENUE_REACT_H
#define VENUE_REACT_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"
#include "session.h"

struct venue;

#define REACT_BY_MAX 64 /* who reacted, named per tick per room; the rest only counted */

struct react_tally {
    unsigned counts[PROTO_REACT_COUNT];          /* this tick's */
    unsigned long long total[PROTO_REACT_COUNT]; /* since the room opened */
    struct {
        char user_id[SESSION_ID_LEN];
        enum proto_reaction kind;
    } by[REACT_BY_MAX]; /* this tick's first REACT_BY_MAX */
    size_t nby;
    unsigned more; /* reactions this tick beyond by[] */
};

/* s reacts in its room: counted for the next tick, or refused (muted). */
void react_add(struct venue *v, struct session *s, const struct proto_msg *m);
/* Each room that had reactions this tick hears them; the tallies restart. */
void react_tick(struct venue *v);

#endif
