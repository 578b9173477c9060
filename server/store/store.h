/*
 * store.h - what venued keeps across restarts, in SQLite (WAL) or in
 * PostgreSQL, which several nodes share (db.h).
 *
 * Owns one database connection and its prepared statements. Tables: rooms,
 * users, each user's last pose per room, and the sessions saved at shutdown
 * so that clients can resume after a restart. Nothing here is called per
 * pose message: the venue batches pose writes into one transaction.
 */
#ifndef VENUE_STORE_H
#define VENUE_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct store;

/* One user's pose in one room, as written in a batch. Strings borrowed. */
struct store_pose {
    const char *user_id;
    const char *room_id;
    float p[3];
    float q[4];
};

/* A session saved at shutdown. Strings borrowed when saving; when loading,
 * they point into memory valid only during the callback. */
struct store_session {
    const char *id;
    const char *resume_hash; /* hex SHA-256 of the resume token */
    const char *user_id;
    const char *name;
    const char *role;
    const char *room_id; /* NULL when in no room */
    float p[3];
    float q[4];
    bool findable; /* its privacy settings: a guest's last only this long */
    bool dms;
    bool away;         /* its status */
    long long hand_at; /* wall ms its hand went up; 0 when down */
};

/*
 * Open where: a postgresql:// URL, an SQLite file (a name ending in .db),
 * or a folder, whose venue.db is opened (created if needed). NULL with a
 * reason in err.
 */
struct store *store_open(const char *where, char *err, size_t errlen);
void store_close(struct store *st);

/* The node whose sessions store_sessions_save and _take keep: nodes
 * sharing a database each save their own. "" (the default) for a venue
 * of one node. */
void store_set_node(struct store *st, const char *node);

/* Record the rooms the scenes define (id, name, capacity). */
int store_room_put(struct store *st, const char *id, const char *name, int capacity);
/* Call fn for every stored room id; the string is valid during the call. */
int store_rooms_each(struct store *st, void (*fn)(void *arg, const char *id), void *arg);

int store_user_put(struct store *st, const char *id, const char *name, const char *role,
                   long long now_ms);

/* Write n last poses in one transaction. */
int store_poses_put(struct store *st, const struct store_pose *poses, size_t n, long long now_ms);
/* A user's last pose in a room: 1 found, 0 none, -1 error. */
int store_pose_get(struct store *st, const char *user_id, const char *room_id, float p[3],
                   float q[4]);

/* Replace this node's saved sessions with these, in one transaction. */
int store_sessions_save(struct store *st, const struct store_session *s, size_t n);
/* Call fn for each of this node's saved sessions, then forget them. */
int store_sessions_take(struct store *st, void (*fn)(void *arg, const struct store_session *s),
                        void *arg);

/*
 * Whether the database takes writes. A write that fails for the disk's
 * sake (full, an I/O error, read-only) sets failing, and is logged once an
 * outage; the next commit that reaches the disk clears it, and is logged.
 * Nothing else changes: readers go on, and a failed bookkeeping write
 * refuses nobody.
 */
struct store_health {
    bool failing;
    unsigned long long failures; /* failed writes since start */
    long long since;             /* wall seconds the outage began; 0 when not failing */
    char reason[128];            /* the database's words for the outage's first failure */
};
const struct store_health *store_health(const struct store *st);
/* A statement on st's database just failed (any module's): recorded when
 * the disk or the database server was why. */
void store_failed(struct store *st);

/*
 * Another connection's write lock. A store waits for it (up to 2 s) unless
 * told not to: a serving venue's store is impatient, so that the service
 * loop never waits on a lock; its writes then fail at once, and
 * store_locked says that this was why. store_probe takes the lock and
 * gives it back: 0 free, 1 held by another connection, -1 error.
 */
void store_patient(struct store *st, bool patient);
bool store_locked(const struct store *st);
int store_probe(struct store *st);

/* The database connection, for modules that keep their own tables in the
 * same database (registry.c). Borrowed. */
struct db *store_db(struct store *st);

/* The last error, for a log line. */
const char *store_error(struct store *st);

#endif
