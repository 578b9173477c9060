/*
 * venue_int.h - the core's structs, shared by venue.c (events and
 * sessions) and room.c (membership and fan-out). Not for the transport.
 */
#ifndef VENUE_VENUE_INT_H
#define VENUE_VENUE_INT_H

#include <limits.h>
#include <stdint.h>

#include "metrics.h"
#include "outq.h"
#include "proto.h"
#include "registry.h"
#include "scene.h"
#include "store.h"
#include "venue.h"

#define SESSION_ID_LEN  24
#define RESUME_HASH_LEN 64  /* hex SHA-256 */
#define POSE_ENTRY_MAX  192 /* one encoded poses entry */
#define MUTED_FOREVER   LLONG_MAX

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
    enum role role;
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
    bool in_portal;       /* standing in a portal: no trigger until it steps out */
    bool on_stage;        /* inside its room's stage volume */
    long long pose_ms;
    char entry[POSE_ENTRY_MAX]; /* this avatar's encoded poses entry */
    size_t entry_len;

    void *conn; /* the transport's connection, NULL when detached */
    long long connected_ms;
    long long detached_ms;
    long long progress_ms; /* last time its queue moved or was empty */
    bool resync;           /* next poses frame: everyone, not just movers */
    long long seen_tick;   /* the last tick whose poses it has been given */
    struct outq out;       /* frames waiting to be written; owned */

    struct bucket rate[MRATE_COUNT];
    long long flood_since_ms; /* when the current stretch of excess began */
    long long excess_ms;      /* the last message over a rate */
    long long limited_ms;     /* the last rate_limited error sent */
};

struct room {
    char id[SCENE_ID_MAX + 1];
    char scene_url[SCENE_ID_MAX + 32];
    const struct scene *scene; /* borrowed from the venue's scene set */
    struct session **members;  /* owned array; sessions borrowed */
    size_t n, cap;
    unsigned arrivals; /* spreads spawn points */
    uint64_t fanout_bytes;
    bool locked;             /* joins refused but to moderators */
    int capacity;            /* set by a moderator; 0: the scene's */
    struct session **movers; /* this tick's movers; owned array, reused */
    size_t nmov, movers_cap;
    struct room *stage_of;           /* the room whose stage this overflow room receives */
    bool stage_changed;              /* someone stepped on or off this room's stage */
    const struct scene_place *stage; /* this room's stage place, or NULL */
};

/* A breakout running from one room: its people come back together. */
struct breakout {
    struct room *from;
    char actor_id[SESSION_ID_LEN];
    char actor_name[PROTO_NAME_MAX * 4 + 1];
    long long ends_ms; /* on the core's clock */
};

struct venue {
    struct venue_config cfg;
    struct venue_io io;
    const struct scene_set *scenes;
    struct store *store;
    struct registry *reg;  /* borrowed; NULL: no registration, everyone a guest */
    long long now;         /* the now_ms of the event being handled */
    long long wall_offset; /* wall clock ms = now + wall_offset */

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
    struct session **stage_scratch; /* scratch for overflow fan-out and breakouts, reused */
    size_t stage_scratch_cap;
    struct breakout *breakouts; /* owned */
    size_t nbreakouts, breakouts_cap;
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
/* Close s's connection with code; the session detaches (or dies before hello).
 * last, if not NULL, is written just before the close (the transport takes
 * its own reference). */
void venue_close_session(struct venue *v, struct session *s, int code, const char *reason,
                         struct frame *last);
/* Send an error and close: hello refused, kicked. */
void venue_refuse(struct venue *v, struct session *s, int code, const char *ecode,
                  const char *message, const struct proto_id *re);
/* Wall clock ms since the epoch. */
long long venue_wall(const struct venue *v);
/* The live or detached session of a user, or NULL. */
struct session *venue_find_user(const struct venue *v, const char *user_id);
/* The proto_user view of s. */
struct proto_user venue_user_view(const struct session *s);
/* Grow a scratch array to hold n elements of size sz. */
int venue_grow(void **arr, size_t *cap, size_t n, size_t sz);

/* ---- room.c: membership and fan-out ---- */

struct room *room_new(const struct scene *scene);
void room_free(struct room *r);
struct room *room_find(const struct venue *v, const char *id);
/* How a session comes into a room. */
enum room_enter_how {
    ROOM_ENTER_SELF,  /* it asked or walked: every rule applies */
    ROOM_ENTER_MOVED, /* a moderator moved it: only the room's capacity applies */
};
/* s enters r (leaving its room) near spawn point via (one of r's, through a
 * portal), or where arrival_pose puts it when via is NULL; sends joined to s
 * and presence to both rooms. Refusals are sent to s as errors. */
int room_enter(struct venue *v, struct session *s, struct room *r, const struct scene_spawn *via,
               enum room_enter_how how, const struct proto_id *re);
/* joined (and, in an overflow room, stage) for s, in its room now. */
void room_send_view(struct venue *v, struct session *s, const struct proto_id *re);
/* The capacity in force: a moderator's, else the scene's. */
int room_capacity(const struct room *r);
/* Free places in r for a session of this role (speakers and up may use the
 * reserved seats). */
int room_free_places(const struct room *r, enum role role);
/* Queue v->enc for every member of r, s included. */
void room_presence_all(struct venue *v, struct session *s, const char *event);
/* The room's settings changed: tell its members. */
void room_state_changed(struct venue *v, struct room *r);
/* Encode the stage message for overflow room r into v->enc. */
int room_encode_stage(struct venue *v, struct room *r);
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
/* One tick's poses fan-out, in two passes over every room: collect the
 * movers (and who is on stage), then send. */
void room_collect(struct venue *v, struct room *r);
void room_send(struct venue *v, struct room *r);
/* Link overflow rooms to the rooms whose stages they receive. */
void room_link_stages(struct venue *v);

/* ---- moderation.c ---- */

void mod_handle(struct venue *v, struct session *actor, const struct proto_msg *m);
/* Breakouts whose time is up come back. */
void mod_tick(struct venue *v);

#endif
