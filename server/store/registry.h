/*
 * registry.h - who may come in and what they may do: registered users and
 * their tokens, bans and mutes, per-room settings set by moderators, the
 * audit log, and how long each of these is kept.
 *
 * Backed by the store's database, SQLite or PostgreSQL (same connection,
 * own tables and prepared statements). Tokens are never stored: only their
 * SHA-256, so a copy of the database lets nobody in. Nothing here is
 * called per pose.
 */
#ifndef VENUE_REGISTRY_H
#define VENUE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/* Roles in rank order: each may act on the ranks below it. */
enum role { ROLE_GUEST, ROLE_ATTENDEE, ROLE_SPEAKER, ROLE_MODERATOR, ROLE_ADMIN, ROLE_COUNT };

/* "guest", "attendee", ...; a static string. */
const char *role_name(enum role r);
/* 0 and *out set, or -1 if s names no role. */
int role_parse(const char *s, enum role *out);
/* "guest, attendee, speaker, moderator, admin": for error messages. */
#define ROLE_NAMES "guest, attendee, speaker, moderator, admin"

#define REG_ID_MAX    24  /* "u-" + 16 hex digits, NUL included */
#define REG_NAME_MAX  257 /* 64 code points of UTF-8, NUL included */
#define REG_ORG_MAX   513 /* 128 code points of UTF-8, NUL included */
#define REG_TOKEN_LEN 32  /* hex digits of a 128-bit token */

struct reg_user {
    char id[REG_ID_MAX];
    char name[REG_NAME_MAX];
    char org[REG_ORG_MAX];
    enum role role;
    long long created_ms; /* wall clock, ms since the epoch */
    long long last_seen_ms;
    bool revoked;
};

struct registry;

/*
 * Check a name-like text before it is stored: valid UTF-8, min_cp..max_cp
 * code points, not only spaces, and no control characters (C0, DEL, C1,
 * line/paragraph separators, bidirectional overrides). 0 if fine; -1 with
 * "FIELD: reason" in err.
 */
int registry_check_text(const char *field, const char *s, size_t min_cp, size_t max_cp, char *err,
                        size_t errlen);

/*
 * The same for a person's name or organisation, which registry_user_add
 * stores without bidi embeddings, overrides and isolates (as hello.name
 * does): those are left out, not refused. 0 if fine; -1 with the reason.
 */
int registry_check_name(const char *field, const char *s, size_t min_cp, size_t max_cp, char *err,
                        size_t errlen);

/* Open the registry on st's database (creating its tables); st must
 * outlive it. NULL with a reason in err. */
struct registry *registry_open(struct store *st, char *err, size_t errlen);
void registry_close(struct registry *reg);

/*
 * Register a user with a fresh token of 128 random bits. name: 1..64 code
 * points, no control characters; org: 0..128 code points. expires_ms is the
 * token's expiry (wall clock ms), 0 for none. On success fills *out and
 * token (REG_TOKEN_LEN + 1 bytes) and returns 0; -1 with a reason naming
 * the field in err.
 */
int registry_user_add(struct registry *reg, const char *name, const char *org, enum role role,
                      long long expires_ms, long long now_ms, struct reg_user *out, char *token,
                      char *err, size_t errlen);
/*
 * Group several writes into one transaction (an import is all or
 * nothing). Not nested. commit and rollback end it (after a failed
 * commit, roll back); rollback never fails in a way the caller could act
 * on. registry_user_add inside it nests in a savepoint.
 */
int registry_begin(struct registry *reg);
int registry_commit(struct registry *reg);
void registry_rollback(struct registry *reg);

/*
 * An import written in steps (user_csv_import), so that a long list never
 * holds the database long: its users go in in short transactions, each
 * recorded under the import's id in the same transaction
 * (registry_import_user); one row then keeps them or undoes them all, and
 * the rest (forgetting the records, or deleting an undone import's users
 * with their tokens) is done by registry_import_tidy a step at a time. An
 * import still writing when the registry is opened, left by a process
 * that is gone, is undone then. 0, or -1 with reg's error.
 */
int registry_import_begin(struct registry *reg, long long now_ms, long long *id);
int registry_import_user(struct registry *reg, long long id, const char *user_id);
int registry_import_end(struct registry *reg, long long id, bool keep);
/* Tidy at most max rows of one ended import in one transaction: 1 done
 * (call again), 0 nothing left to tidy, -1 error. */
int registry_import_tidy(struct registry *reg, int max);

/* Record a guest (no token) so that its last poses have an owner. A
 * registered user with the same id is left alone. */
int registry_guest_put(struct registry *reg, const char *id, const char *name, long long now_ms);
/*
 * Whether a registered user (revoked ones included: their name still
 * means them to people) is called name, without bidi controls as stored
 * and without case for ASCII letters ("t moderator" is "T Moderator";
 * "É" is not "é" on SQLite, nor on PostgreSQL under the C ctype, where
 * lower() folds ASCII alone). 1 yes, 0 no, -1 error.
 */
int registry_name_registered(struct registry *reg, const char *name);
/* Revoke a user and all its tokens: 1 done, 0 no such user, -1 error. */
int registry_user_revoke(struct registry *reg, const char *id);
/* 1 found (fills *out), 0 not found, -1 error. */
int registry_user_get(struct registry *reg, const char *id, struct reg_user *out);
/* 1 done, 0 no such user, -1 error. */
int registry_user_set_role(struct registry *reg, const char *id, enum role role);
/* Call fn for each registered user (guests are not listed: see presence)
 * whose name, org or id contains search, case-insensitively for ASCII (all
 * when search is NULL or ""), newest first, at most limit. */
int registry_user_list(struct registry *reg, const char *search, size_t limit,
                       void (*fn)(void *arg, const struct reg_user *u), void *arg);

/* The user a token stands for: 1 valid (fills *out, updates last seen:
 * when that write fails, as on a full disk, still 1, with last_seen_ms
 * as it was, and a log line once), 0 unknown, expired or revoked, -1 a
 * failed read. */
int registry_token_check(struct registry *reg, const char *token, long long now_ms,
                         struct reg_user *out);

/* Bans and mutes. room NULL means the whole venue; until_ms 0 means for
 * good. A check looks at the room's entry and the venue's. */
enum sanction { SANCTION_BAN, SANCTION_MUTE };
int registry_sanction_set(struct registry *reg, enum sanction kind, const char *user_id,
                          const char *room, long long until_ms, const char *reason,
                          const char *actor_id, long long now_ms);
/* 1 removed, 0 there was none, -1 error. */
int registry_sanction_clear(struct registry *reg, enum sanction kind, const char *user_id,
                            const char *room);
/* 1 in force (until_ms set, 0 for good), 0 not, -1 error. */
int registry_sanction_check(struct registry *reg, enum sanction kind, const char *user_id,
                            const char *room, long long now_ms, long long *until_ms);

/* Room settings that moderators change and restarts keep. capacity 0:
 * the scene's. */
struct reg_room {
    bool locked;
    int capacity;
    bool mics_locked; /* attendees speak only with the floor */
};
/* 1 found, 0 none stored (defaults), -1 error. */
int registry_room_get(struct registry *reg, const char *room, struct reg_room *out);
int registry_room_set(struct registry *reg, const char *room, const struct reg_room *rs);

/* A registered user's privacy settings (the privacy message): whether
 * others may find them, and whether they take direct messages. Both true
 * until the user says otherwise. */
struct reg_privacy {
    bool findable;
    bool dms;
};
/* 1 found (fills *out), 0 no such registered user (*out holds the
 * defaults), -1 error. Guests have none: theirs last a session. */
int registry_privacy_get(struct registry *reg, const char *id, struct reg_privacy *out);
/* 1 done, 0 no such registered user, -1 error. */
int registry_privacy_set(struct registry *reg, const char *id, const struct reg_privacy *p);

/* A registered user blocks (on) or lets in again another's direct
 * messages. 0, or -1. */
int registry_block_set(struct registry *reg, const char *user_id, const char *blocked_id, bool on,
                       long long now_ms);
/* Call fn with the ids user_id blocks, oldest first, at most max. */
int registry_blocks_each(struct registry *reg, const char *user_id, size_t max,
                         void (*fn)(void *arg, const char *blocked_id), void *arg);

/* One moderation action, as written to the audit log. */
struct reg_audit {
    long long ts_ms; /* wall clock */
    const char *actor_id;
    const char *actor_name;
    const char *action;
    const char *target_id;   /* NULL when none */
    const char *target_name; /* NULL when none; listed: the name then, else (a row from before
                                names were kept) the users table's, else NULL */
    const char *room;        /* NULL when none */
    const char *reason;      /* NULL when none */
    const char *detail;      /* what was done, in words (a breakout's rooms and length); NULL */
    long long id;            /* set by registry_audit_list; ignored by add */
};
int registry_audit_add(struct registry *reg, const struct reg_audit *a);
/* Entries newest first, filtered by room and actor (NULL: any) and time,
 * at most limit. Strings are valid during the call. */
int registry_audit_list(struct registry *reg, const char *room, const char *actor_id,
                        long long since_ms, size_t limit,
                        void (*fn)(void *arg, const struct reg_audit *a), void *arg);

/*
 * Forget what is past its time: guests not seen for guest_days (their
 * records and stored last poses), any user's last poses older than that,
 * expired bans and mutes, expired or revoked tokens, audit entries older
 * than audit_days. Registered users are kept however long ago they were
 * seen; so are guests with a session saved for resume at shutdown. One
 * transaction. Returns the number of rows deleted, or -1.
 */
long registry_retain(struct registry *reg, long long now_ms, int guest_days, int audit_days);

const char *registry_error(struct registry *reg);

/* Another connection's write lock (store.h): registry_held looks now (1
 * held, 0 free, -1 error); registry_locked says whether the last failed
 * write met it, and so is worth trying again shortly. */
int registry_held(struct registry *reg);
bool registry_locked(const struct registry *reg);

#endif
