/*
 * room.h - a room: its members, the rules of entry, presence, and the
 * per-tick poses fan-out.
 *
 * Above sessions (it queues frames through session.h) and below
 * moderation and the dispatcher. The venue owns its rooms; a room owns its
 * member and mover arrays and borrows the sessions in them and its scene.
 */
#ifndef VENUE_ROOM_H
#define VENUE_ROOM_H

#include <stdbool.h>
#include <stdint.h>

#include "interest.h"
#include "metrics.h"
#include "proto.h"
#include "react.h"
#include "registry.h"
#include "scene.h"

struct venue;
struct session;
struct prog_live;
struct frame;

/* A grid cell's poses frames of this tick, in a tiered room. */
struct room_cell {
    struct frame *frame[2]; /* JSON, binary: a reference each, once built; NULL if empty */
    bool built[2];
    long only; /* the member index when the cell's list holds only that one, else -1 */
};

struct room {
    char id[SCENE_ID_MAX + 1];
    char scene_url[SCENE_ID_MAX + 32];
    const struct scene *scene; /* borrowed from the venue's scene set */
    struct session **members;  /* owned array; sessions borrowed */
    size_t n, cap;
    unsigned long members_gen; /* bumped on every arrival and departure: watchers compare it */
    unsigned arrivals;         /* spreads spawn points */
    uint64_t fanout_bytes;
    bool locked;  /* joins refused but to moderators */
    int capacity; /* set by a moderator; 0: the scene's */
    /* In a cluster, the seats this node may fill, leased in Redis so that
     * the nodes together never pass the capacity (mesh.c); -1: one node,
     * the capacity alone. */
    int lease;
    size_t nremote;          /* members that mirror another node's people */
    bool mics_locked;        /* attendees speak only with the floor */
    struct session **movers; /* this tick's movers; owned array, reused */
    size_t nmov, movers_cap;
    struct session **stage_scratch; /* the hall's stage people, for fan-out; owned, reused */
    size_t stage_scratch_cap;
    struct room *stage_of;           /* the room whose stage this overflow room receives */
    bool stage_changed;              /* someone stepped on or off this room's stage */
    const struct scene_place *stage; /* this room's stage place, or NULL */
    struct prog_live *live;          /* the programme's session live here, or NULL; borrowed */
    struct chat_ring *chat;   /* the recent chat (chat.c); owned, NULL before the first line */
    struct react_tally react; /* this tick's reactions (react.c) */
    struct poses_bin_bounds bounds; /* binary poses are quantised in this box */
    /* Interest tiers (interest.c), while the room holds scene interest.from. */
    struct interest interest; /* this tick's plan; owned */
    struct room_cell *cells;  /* per grid cell; owned array, reused */
    size_t cells_cap;
    struct session **tier_list; /* a cell's list as sessions; owned array, reused */
    size_t tier_list_cap;
    unsigned *free_ix; /* indexes those who left gave back; owned */
    size_t nfree, free_cap;
    unsigned next_ix; /* the lowest index never given */
    /* Presence over the room's rate, sent as one presence_batch at the
     * tick's end (or once it holds ROOM_PRESENCE_BATCH_MAX bytes). */
    struct proto_buf presence; /* owned */
    size_t npresence;
    double presence_tokens; /* presence sent at once: ROOM_PRESENCE_RATE a second */
    long long presence_ms;  /* when the tokens were last counted */
};

#define ROOM_PRESENCE_RATE      20.0
#define ROOM_PRESENCE_BURST     50.0
#define ROOM_PRESENCE_BATCH_MAX ((size_t)256 * 1024)

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
/* Where a join asked to stand (join.near): find.c works it out. */
struct room_arrival {
    bool placed; /* p and q are where to stand, in the room entered */
    float p[3], q[4];
    const struct proto_near *near; /* what joined says of it; NULL: nothing */
};
/* room_enter as s asked (ROOM_ENTER_SELF, no portal), arriving where a
 * says when a->placed (also when s is in r already: it moves there), and
 * with a->near in joined. */
int room_enter_arrival(struct venue *v, struct session *s, struct room *r,
                       const struct room_arrival *a, const struct proto_id *re);
/* s leaves its room; the others see presence leave. */
void room_exit(struct venue *v, struct session *s);
/* The role s would have in r: its own, or what r's live session gives it. */
enum role room_role_for(const struct venue *v, const struct room *r, const struct session *s);
/* Whether s, a member of r, stands on r's stage now: a change is told to
 * r's overflow room at the next tick. */
void room_stage_update(struct room *r, struct session *s);
/* Put s into r silently (a session restored at start). */
int room_add_member(struct room *r, struct session *s);
/* joined, the room's settings, in an overflow room the stage, and the
 * twins the room shows, for s in its room now. */
void room_send_view(struct venue *v, struct session *s, const struct proto_id *re);
/* The same with what became of join.near told in joined (near may be NULL). */
void room_send_view_near(struct venue *v, struct session *s, const struct proto_near *near,
                         const struct proto_id *re);

/* The capacity in force: a moderator's, else the scene's. */
int room_capacity(const struct room *r);
/* Free places in r for a session of this role (speakers and up may use the
 * reserved seats), and in a cluster among the seats this node holds. No
 * room holds more than the binary frames can index. */
int room_free_places(const struct room *r, enum role role);
/* The same by the capacity alone: the whole venue's free places. */
int room_places(const struct room *r, enum role role);
/* This node has filled every seat it holds in r (a cluster's lease). */
bool room_seats_short(const struct room *r);

/* Queue v->enc for every member of r but except (NULL: everyone). */
void room_broadcast_enc(struct venue *v, struct room *r, const struct session *except,
                        enum metric_out type);
/*
 * Presence of s to the rest of its room. It goes at once while the room's
 * presence stays within ROOM_PRESENCE_RATE a second (a burst of
 * ROOM_PRESENCE_BURST); beyond, it waits for the tick's end and goes to
 * every member as one presence_batch (which s, too, receives: clients skip
 * a join or leave about themselves), so that a mass arrival costs each
 * member a frame a tick, not a frame a person.
 */
void room_presence(struct venue *v, struct session *s, const char *event);
/* The same with s among the receivers of the first. */
void room_presence_all(struct venue *v, struct session *s, const char *event);
/* Send r's batched presence now, if any. */
void room_flush_presence(struct venue *v, struct room *r);
/* The room's settings changed: tell its members. */
void room_state_changed(struct venue *v, struct room *r);
/* Encode the stage message for overflow room r into v->enc. */
int room_encode_stage(struct venue *v, struct room *r);
/* Encode the joined message for s into v->enc; near, if not NULL, is
 * what became of join.near. */
int room_encode_joined(struct venue *v, struct session *s, const struct proto_id *re);
int room_encode_joined_near(struct venue *v, struct session *s, const struct proto_near *near,
                            const struct proto_id *re);
/* Write the first n of s's deferred exit poses (session.h, exits) now. */
void room_write_exits(struct venue *v, struct session *s, size_t n);
/* s's pose changed outside a tick's collect (arrival, restore): its poses
 * entries are encoded again when next needed. */
void room_pose_changed(struct session *s);

/* One tick's poses fan-out, in two passes over every room: collect the
 * movers (and who is on stage), then send. */
void room_collect(struct venue *v, struct room *r);
void room_send(struct venue *v, struct room *r);
/* Link overflow rooms to the rooms whose stages they receive. */
void room_link_stages(struct venue *v);

#endif
