/*
 * chat.h - a room's chat: the lines said there, the recent ones kept so
 * that a late joiner or a reload sees them (and, through the chatlog, a
 * restart keeps them), and a moderator's delete.
 *
 * Above sessions, beside rooms: a joiner's view includes the history. Each
 * room owns its ring (allocated at its first line); the ring owns its lines
 * and the history frame it shares between joiners. Lines reach the chatlog
 * in batches with the poses, never one write per line.
 */
#ifndef VENUE_CHAT_H
#define VENUE_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include "chatlog.h"
#include "outq.h"
#include "proto.h"
#include "session.h"

struct venue;
struct room;

struct chat_line {
    long long id;
    char user_id[SESSION_ID_LEN];
    char name[PROTO_NAME_MAX * 4 + 1];
    char text[PROTO_TEXT_MAX * 4 + 1];
    long long ts_ms; /* wall clock */
    bool stored;     /* written to the chatlog */
    enum role role;  /* the sender's when it spoke (session_role), for the guest mark */
};

/* The last CHATLOG_KEEP lines of a room, oldest first from head. */
struct chat_ring {
    struct chat_line lines[CHATLOG_KEEP];
    size_t head, n;
    struct frame *history; /* chat_history as a joiner gets it; NULL: encode at the next join */
};

#define CHAT_ID_BLOCK 1000 /* line ids a node takes from the chatlog at once */

/* s says text in its room (the caller checked that it may): everyone
 * there hears it, the room keeps it, and the other nodes hear it (mesh). */
void chat_say(struct venue *v, struct session *s, const char *text);
/* Another node's s said line id at ts_ms: the same to this node's members;
 * kept in the ring, written by the node that numbered it. */
void chat_heard(struct venue *v, struct session *s, long long id, long long ts_ms,
                const char *text);
/* The room's recent lines to s, who just joined it. */
void chat_send_history(struct venue *v, struct session *s);
/*
 * A moderator removes line id from r: it leaves the ring and the chatlog
 * at once, and r's members hear chat_deleted. 1 deleted (author set to
 * the line's user id, SESSION_ID_LEN bytes), 0 r holds no such line, -1
 * the chatlog failed (err says why).
 */
int chat_delete(struct venue *v, struct room *r, long long id, char *author, char *err,
                size_t errlen);
/* Another node's moderator removed line id from r (and the chatlog): it
 * leaves the ring, and r's members hear it. */
void chat_forget(struct venue *v, struct room *r, long long id);
/* Write the lines not yet stored, in one batch. */
void chat_flush(struct venue *v);
/* Free r's ring. */
void chat_room_free(struct room *r);
/* Keep chat in cl (borrowed; it must outlive the venue): each room's kept
 * lines are loaded now, and a block of line ids taken. 0, or -1 with err. */
int chat_keep(struct venue *v, struct chatlog *cl, char *err, size_t errlen);

#endif
