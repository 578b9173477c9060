/*
 * session.h - one participant's session: who it is, where it stands, its
 * bounded queue of frames to write, its rate limits, and how a fresh
 * connection takes it over (resume, a second tab).
 *
 * The lowest layer of the core: rooms, moderation and the dispatcher call
 * in here; nothing here calls them. The venue owns every session (in
 * venue->sessions); a session owns its queue.
 */
#ifndef VENUE_SESSION_H
#define VENUE_SESSION_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"
#include "outq.h"
#include "proto.h"
#include "registry.h"
#include "secret.h"

struct venue;
struct room;
struct dm_state;

#define SESSION_ID_LEN   24 /* "s-"/"u-" and 16 hex digits, NUL included */
#define SESSION_ADDR_MAX 64 /* a peer address as text, NUL included: IPv6 with a zone fits */
#define RESUME_HASH_LEN  SECRET_SHA256_HEX
#define POSE_ENTRY_MAX   192 /* one encoded poses entry */
#define MUTED_FOREVER    LLONG_MAX

/* session.entry_stale: which of its poses entries no longer match its pose. */
#define SESSION_ENTRY_JSON 1u
#define SESSION_ENTRY_BIN  2u

/* A token bucket: one kind of message's allowance. */
struct bucket {
    double tokens;
    long long last_ms;
};

/* The keys the venue finds a session by (session_find_user,
 * session_find_resumable): each has its own index in the venue. */
enum session_key { SESSION_KEY_USER, SESSION_KEY_RESUME, SESSION_KEY_COUNT };

/*
 * One index: a chained hash table whose chains run through the sessions
 * (session->index_next), so that it holds no copy of a key. The venue owns
 * heads; a session is in a chain exactly while its key is not empty.
 */
struct session_index {
    struct session **heads; /* owned; nheads entries, a power of two, or NULL */
    size_t nheads;
    size_t n; /* sessions in the chains */
};

/* Rooms a session walked out of whose last pose is not written yet. */
#define SESSION_EXITS_MAX 4

struct session_exit {
    char room_id[PROTO_ROOM_MAX + 1];
    float p[3], q[4];
};

struct session {
    size_t index; /* in venue->sessions */
    char id[SESSION_ID_LEN];
    char resume_hash[RESUME_HASH_LEN + 1];
    bool hello; /* said hello: has a user */
    bool dead;  /* closed before hello or gone: freed at the next tick */
    char user_id[SESSION_ID_LEN];
    char name[PROTO_NAME_MAX * 4 + 1];
    char browser[PROTO_BROWSER_MAX + 1]; /* hello.browser, the page's own id; "" when none */
    char addr[SESSION_ADDR_MAX];         /* the peer's address, as the transport said; "" */
    enum role role;                      /* its own */
    bool registered;                     /* came in with a registration token (else a guest) */
    bool findable;                       /* others may find it: read with session_findable */
    bool dms;            /* it takes direct messages: read with session_accepts_dms */
    struct dm_state *dm; /* blocks and direct messages received (dm.c); owned, NULL until needed */
    bool dm_loaded;      /* a registered user's blocks were read from the registry */
    enum role granted;   /* given in its room by the programme (prog_grant); ROLE_GUEST: none */
    enum proto_status status;
    bool hand;
    long long hand_at;          /* wall ms the hand went up, for the queue; 0 when down */
    long long muted_until;      /* wall ms; MUTED_FOREVER; 0 when not muted */
    struct room *breakout_from; /* the room a breakout took it from, or NULL */

    struct room *room; /* NULL when in no room */
    size_t slot;       /* index in room->members */
    float p[3], q[4];
    bool moved;           /* pose changed since the last tick */
    long long moved_tick; /* the tick that last sent its pose */
    bool store_dirty;     /* pose not yet written to SQLite */
    /* Its last poses in rooms it changed out of, newest last, for the next
     * batch to write (a portal step writes nothing) and for coming back
     * before that batch. */
    struct session_exit exits[SESSION_EXITS_MAX];
    size_t nexits;
    bool in_portal; /* standing in a portal: no trigger until it steps out */
    bool on_stage;  /* inside its room's stage volume */
    bool talking;   /* the media server hears it speak */
    long long pose_ms;
    unsigned ix; /* its index in its room's binary poses frames, while in a room */
    /* Its poses entries as of its last move, each encoded when a frame
     * first needs it (room.c): JSON and binary. */
    char entry[POSE_ENTRY_MAX];
    size_t entry_len;
    unsigned char bentry[POSES_BIN_ENTRY];
    unsigned entry_stale; /* SESSION_ENTRY_JSON | SESSION_ENTRY_BIN: encode again */

    void *conn; /* the transport's connection, NULL when detached or remote */
    /* A remote member: someone connected to another node of the cluster,
     * mirrored here from what that node publishes (mesh.c). It has no
     * connection and no queue; it is never detached nor resumed here. */
    char node[PROTO_NODE_MAX + 1]; /* that node's id; "" for this node's own sessions */
    bool mesh_seen;                /* named in the state its node is publishing (mesh.c) */
    bool poses_binary;             /* the connection said hello with "poses":"binary" */
    long long connected_ms;
    long long detached_ms;
    long long progress_ms; /* last time its queue moved or was empty */
    bool resync;           /* next poses frame: everyone, not just movers */
    long long seen_tick;   /* the last tick whose poses it has been given */
    struct outq out;       /* frames waiting to be written; owned */

    /* Voice (voice.c): the token is made on first entering a room. */
    char voice_token[2 * 16 + 1];
    uint64_t voice_id;        /* its participant id in the media server */
    bool voice_pub;           /* publishing in its room's voice room */
    bool voice_jmuted;        /* muted there by venued */
    uint64_t voice_sig;       /* what its last `voice` said; 0: none sent */
    uint64_t voice_peers_sig; /* what its last `voice_peers` said; 0: none */

    struct bucket rate[MRATE_COUNT];
    long long flood_since_ms; /* when the current stretch of excess began */
    long long excess_ms;      /* the last message over a rate */
    long long limited_ms;     /* the last rate_limited error sent */
    struct park *park;        /* messages waiting for the database; NULL when none */

    /* The venue's indexes: the next session in the same chain of each. */
    struct session *index_next[SESSION_KEY_COUNT];
    /* Detached guests, oldest first, for --detached-guests (session.c). */
    struct session *detached_older, *detached_newer;
    bool detached_listed;
    bool user_row; /* its users row is written: a guest's at its first room */
};

/* A new session in v with its queue and full rate buckets, no connection
 * and no id yet. NULL when out of memory. */
struct session *session_new(struct venue *v);
/* Remove s from the venue and free it. It must have left its room and
 * have no connection. */
void session_free(struct venue *v, struct session *s);

/* Forget s's connection: it is detached and, if it had said hello,
 * resumable until the grace period ends; before hello it is dead. Past
 * --detached-guests detached guests, the one detached longest is dropped
 * as if its grace had ended. */
void session_detach(struct venue *v, struct session *s);
/* Close s's connection with code; the session detaches (or dies before
 * hello). last, if not NULL, is written just before the close (the
 * transport takes its own reference). */
void session_close(struct venue *v, struct session *s, int code, const char *reason,
                   struct frame *last);
/* Send an error and close: hello refused, kicked. */
void session_refuse(struct venue *v, struct session *s, int code, const char *ecode,
                    const char *message, const struct proto_id *re);

/* Queue f for s (the caller keeps its own reference). A detached session
 * keeps events to replay on resume; a full queue closes the session. */
void session_enqueue(struct venue *v, struct session *s, struct frame *f, enum metric_out type);
/* Queue what v->enc holds for s. */
void session_send_enc(struct venue *v, struct session *s, enum metric_out type);
void session_send_error(struct venue *v, struct session *s, const char *code, const char *message,
                        const struct proto_id *re);

/*
 * Take one token from s's bucket of this kind. False when the message must
 * be dropped: over the rate (the client hears rate_limited at most once a
 * second) or a flood (the session is closed).
 */
bool session_rate_take(struct venue *v, struct session *s, enum metric_rate kind,
                       const struct proto_id *re);

/* The live or detached session of a user, or NULL. O(1): an index. */
struct session *session_find_user(const struct venue *v, const char *user_id);
/* The session a resume token stands for, or NULL. O(1): an index. */
struct session *session_find_resumable(const struct venue *v, const char *token);
/*
 * The only ways to set s's user id and resume token, so that the indexes
 * follow: set_user copies user_id; set_resume keeps only the hash of
 * token; set_resume_hash takes a hash already made (a saved session's).
 * 0, or -1 (no digest, or no memory for the index: s is unchanged).
 */
int session_set_user(struct venue *v, struct session *s, const char *user_id);
int session_set_resume(struct venue *v, struct session *s, const char *token);
int session_set_resume_hash(struct venue *v, struct session *s, const char *hash);
/* FNV-1a of key, for the indexes and the per-address table: their keys
 * are random hex made here (ids, SHA-256 digests) or a bounded table's
 * (peers.c), so nothing needs a keyed hash. */
size_t session_hash(const char *key);
/* Free the venue's indexes (the sessions are the caller's). */
void session_index_free(struct venue *v);
/* Whether the indexes hold exactly the sessions with a key, each in the
 * chain of its key: for assert, O(sessions). */
bool session_index_valid(const struct venue *v);

/* A guest's users row, written the first time it enters a room (its last
 * poses need an owner): a guest that never enters one leaves no row. */
void session_keep_user(struct venue *v, struct session *s);
/*
 * s (a fresh connection) is taken over by t: t gets s's connection (its
 * own, if any, is closed with 4002), s dies, and welcome is queued ahead
 * of the events t missed while detached.
 */
void session_take_over(struct venue *v, struct session *s, struct session *t,
                       struct frame *welcome);
/*
 * Where s is connected, for the cluster (mesh.c). node not empty: s becomes
 * a mirror of that node's session; a connection it had here is closed with
 * VENUE_CLOSE_RESUMED (the person went on elsewhere) and its queue emptied.
 * node empty: s becomes this node's own, detached, resumable for the
 * grace period like anyone whose connection dropped.
 */
void session_set_node(struct venue *v, struct session *s, const char *node);
/* Ask the transport to write s's queue. */
void session_wake(struct venue *v, struct session *s);

/* The role in force in s's room: the higher of its own and the granted. */
enum role session_role(const struct session *s);

/*
 * Its privacy settings (the privacy message; a registered user's are kept
 * in the registry, a guest's for the session). Findable: find may list it
 * (a guest's only to people in its room). Accepts DMs: others may send it
 * direct messages. Both true for a new session.
 */
bool session_findable(const struct session *s);
bool session_accepts_dms(const struct session *s);

/* The proto_user view of s: borrowed pointers into s. */
struct proto_user session_user_view(const struct session *s);

#endif
