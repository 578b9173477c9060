/*
 * chatlog.h - each room's recent chat, kept across restarts: the last
 * CHATLOG_KEEP lines of every room, for at most the retention period, so
 * that a late joiner or a reload sees what was just said.
 *
 * On the store's database, SQLite or PostgreSQL (own table and statements).
 * The venue writes in batches from its flush, never per line, deletes a
 * line a moderator removed at once, and reads each room back once at start.
 */
#ifndef VENUE_CHATLOG_H
#define VENUE_CHATLOG_H

#include <stddef.h>

#include "store.h"

#define CHATLOG_KEEP 50 /* lines kept per room */

/* One line of a room's chat. Strings borrowed: when writing, from the
 * caller; when reading, valid only during the callback. */
struct chatlog_line {
    long long id; /* the venue's number for it: unique (chatlog_reserve), rising on each node */
    const char *room;
    const char *user_id;
    const char *name;
    const char *text;
    long long ts_ms;  /* wall clock */
    const char *role; /* the sender's then: "guest", "attendee", ... (role_name) */
};

struct chatlog;

/* Open on st's database (creating its table); st must outlive it. NULL
 * with a reason in err. */
struct chatlog *chatlog_open(struct store *st, char *err, size_t errlen);
void chatlog_close(struct chatlog *cl);

/* Write n lines in one transaction, then trim their rooms to CHATLOG_KEEP.
 * All or nothing. */
int chatlog_put(struct chatlog *cl, const struct chatlog_line *lines, size_t n);
/* Forget line id: 1 deleted, 0 there was none, -1 error. */
int chatlog_delete(struct chatlog *cl, long long id);
/* Call fn with room's kept lines, oldest first (by time, then id). */
int chatlog_room_each(struct chatlog *cl, const char *room,
                      void (*fn)(void *arg, const struct chatlog_line *l), void *arg);
/*
 * Take n line ids (n > 0) for this process: *last is the last of them, and
 * (*last - n, *last] are its own, whatever else shares the database. Ids
 * are never given twice, also after their lines are deleted. 0, or -1.
 */
int chatlog_reserve(struct chatlog *cl, long long n, long long *last);
/* Forget lines older than keep_ms before now_ms. The number deleted, or -1. */
long chatlog_retain(struct chatlog *cl, long long now_ms, long long keep_ms);

/* The last error, for a log line. */
const char *chatlog_error(struct chatlog *cl);

#endif
