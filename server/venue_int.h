/*
 * venue_int.h - the core's structs, shared by venue.c (events and
 * sessions) and room.c (membership and fan-out). Not for the transport.
 */
#ifndef VENUE_VENUE_INT_H
#define VENUE_VENUE_INT_H

#include <stdint.h>

#include "metrics.h"
#include "outq.h"
#include "proto.h"
#include "scene.h"
#include "store.h"
#include "venue.h"

#define SESSION_ID_LEN  24
#define RESUME_HASH_LEN 64  /* hex SHA-256 */
#define POSE_ENTRY_MAX  192 /* one encoded poses entry */

struct bucket {
    double tokens;
    long long last_ms;
};

struct session {
    size_t index; /* in venue->sessions */
    char id[SESSION_ID_LEN];
    char resume_hash[RESUME_HASH_LEN + 1];
    bool hello; /* said hello: has a user */
    bool dead;  /* closed before hello or gone: freed at the next tick */
    char user_id[SESSION_ID_LEN];
    char name[PROTO_NAME_MAX * 4 + 1];
    const char *role; /* static string */
    enum proto_status status;
    bool hand;

    struct room *room; /* NULL when in no room */
    size_t slot;       /* index in room->members */
    float p[3], q[4];
    bool moved;           /* pose changed since the last tick */
    long long moved_tick; /* the tick that last sent its pose */
    bool store_dirty;     /* pose not yet written to SQLite */
    bool in_portal;       /* standing in a portal: no trigger until it steps out */
    long long pose_ms;
    char entry[POSE_ENTRY_MAX]; /* this avatar's encoded poses entry */
    size_t entry_len;

    void *conn; /* the transport's connection, NULL when detached */
    long long connected_ms;
    long long detached_ms;
    long long progress_ms; /* last time its queue moved or was empty */
    bool resync;           /* next poses frame: everyone, not just movers */
    struct outq out;       /* frames waiting to be written; owned */

    struct bucket rate[MRATE_COUNT];
    long long strike_window; /* the last second in which it was rate-limited */
    int strikes;             /* consecutive such seconds */
};

struct room {
    char id[SCENE_ID_MAX + 1];
    char scene_url[SCENE_ID_MAX + 32];
    const struct scene *scene; /* borrowed from the venue's scene set */
    struct session **members;  /* owned array; sessions borrowed */
    size_t n, cap;
    unsigned arrivals; /* spreads spawn points */
    uint64_t fanout_bytes;
};

struct venue {
    struct venue_config cfg;
    struct venue_io io;
    const struct scene_set *scenes;
    struct store *store;
    long long now; /* the now_ms of the event being handled */

    struct room **rooms; /* owned, one per scene */
    size_t nrooms, nrooms_cap;
    struct session **sessions; /* owned */
    size_t nsessions, cap;

    struct metrics m;
    long long tick;
    long long flushed_ms;

    struct proto_buf enc;     /* scratch for one encode, reused */
    struct proto_user *users; /* scratch roster, reused */
    size_t users_cap;
    struct session **movers; /* scratch for the tick, reused */
    size_t movers_cap;
    struct store_pose *batch; /* scratch for pose writes, reused */
    size_t batch_cap;
};

/* ---- venue.c: queues and replies ---- */

/* Queue f for s (the caller keeps its own reference). */
void venue_enqueue(struct venue *v, struct session *s, struct frame *f, enum metric_out type);
/* Queue what v->enc holds for s. */
void venue_send_enc(struct venue *v, struct session *s, enum metric_out type);
void venue_send_error(struct venue *v, struct session *s, const char *code, const char *message,
                      const struct proto_id *re);
/* Close s's connection with code; the session detaches (or dies before hello). */
void venue_close_session(struct venue *v, struct session *s, int code, const char *reason);
/* The proto_user view of s. */
struct proto_user venue_user_view(const struct session *s);
/* Grow a scratch array to hold n elements of size sz. */
int venue_grow(void **arr, size_t *cap, size_t n, size_t sz);

/* ---- room.c: membership and fan-out ---- */

struct room *room_new(const struct scene *scene);
void room_free(struct room *r);
struct room *room_find(const struct venue *v, const char *id);
/* s enters r (leaving its room) near spawn point via (one of r's, through a
 * portal), or where arrival_pose puts it when via is NULL; sends joined to s
 * and presence to both rooms. */
int room_enter(struct venue *v, struct session *s, struct room *r, const struct scene_spawn *via,
               const struct proto_id *re);
/* s leaves its room; the others see presence leave. */
void room_exit(struct venue *v, struct session *s);
/* Put s into r silently (a session restored at start). */
int room_add_member(struct room *r, struct session *s);
/* Queue v->enc for every member of r but except (NULL: everyone). */
void room_broadcast_enc(struct venue *v, struct room *r, const struct session *except,
                        enum metric_out type);
/* Presence of s to the rest of its room. */
void room_presence(struct venue *v, struct session *s, const char *event);
/* Encode the joined message for s into v->enc. */
int room_encode_joined(struct venue *v, struct session *s, const struct proto_id *re);
/* Encode s's poses entry from its pose. */
void room_encode_entry(struct venue *v, struct session *s);
/* One tick's poses fan-out for r. */
void room_fanout(struct venue *v, struct room *r);

#endif
