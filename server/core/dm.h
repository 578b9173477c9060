/*
 * dm.h - direct messages between registered participants, the blocks that
 * stop them, and reports that bring a person to the moderators' notice.
 *
 * A direct message is relayed, never stored: it reaches the recipient's
 * session (live, or detached and replayed on resume) or is refused with a
 * reason. The recipient keeps the last DM_KEPT it got, in memory, so that
 * a report carries what was actually said. A registered user's blocks are
 * kept in the registry; a guest's last as long as its session.
 *
 * Above sessions, beside moderation. A session owns its dm_state (made at
 * its first block or message received; freed with the session).
 */
#ifndef VENUE_DM_H
#define VENUE_DM_H

#include <stddef.h>

#include "proto.h"
#include "session.h"

struct venue;

#define DM_BLOCKS_MAX 256 /* people one participant may block */
#define DM_KEPT       5   /* direct messages a recipient keeps for a report */

struct dm_state {
    char blocked[DM_BLOCKS_MAX][PROTO_USER_ID_MAX + 1];
    size_t nblocked;
    struct {
        char from[SESSION_ID_LEN];
        char text[PROTO_TEXT_MAX * 4 + 1];
        long long ts_ms;
    } got[DM_KEPT]; /* a ring: the oldest overwritten */
    size_t got_next, got_n;
    long long last_report_ms; /* reports are one every REPORT_GAP_MS */
};

/* dm: s writes to m->u.dm.to; both hear `dm`, or s hears why not. */
void dm_send(struct venue *v, struct session *s, const struct proto_msg *m);
/* block: s blocks (or lets in again) a person; s hears `blocks`. */
void dm_block(struct venue *v, struct session *s, const struct proto_msg *m);
/* report: every moderator in the venue hears `report`, the audit log keeps
 * it, and s hears `reported`. */
void dm_report(struct venue *v, struct session *s, const struct proto_msg *m);
/* After welcome: a registered user's blocks from the registry, then
 * `blocks` to s so that a reload shows the truth. */
void dm_welcome(struct venue *v, struct session *s);

#endif
