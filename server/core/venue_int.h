/*
 * venue_int.h - the venue's own struct, shared by the core's files
 * (session.c, room.c, moderation.c, venue.c). Not for any other layer:
 * they see the venue through venue.h.
 */
#ifndef VENUE_VENUE_INT_H
#define VENUE_VENUE_INT_H

#include "chat.h"
#include "chatlog.h"
#include "mesh.h"
#include "config.h"
#include "metrics.h"
#include "moderation.h"
#include "peers.h"
#include "prog.h"
#include "programme.h"
#include "proto.h"
#include "registry.h"
#include "room.h"
#include "scene.h"
#include "session.h"
#include "store.h"
#include "twin.h"
#include "twins.h"
#include "venue.h"
#include "voice.h"

/* Voice: what the media server's client was given, and the sweep's state. */
struct venue_voice {
    struct venue_voice_io io; /* io.allow NULL: the venue has no voice */
    char url[256];            /* what clients connect to */
    bool up;                  /* the media server is reachable */
    char reason[128];         /* why not, for people */
    uint64_t epoch;           /* counts changes of up and reason */
    bool dirty;               /* rights may have changed: sweep at the next tick */
    long long swept_ms;
    struct session **pubs; /* scratch: one room's publishers; owned, reused */
    size_t pubs_cap;
    struct proto_voice_peer peers[VOICE_PEERS_MAX]; /* scratch: one listener's */
};

/* The cluster (mesh.c): io.publish NULL: one node on its own. */
struct venue_mesh {
    struct venue_mesh_io io;
    char node[PROTO_NODE_MAX + 1]; /* this node's id */
    struct proto_buf out;          /* this tick's events, comma-separated; owned */
    size_t nout;
    bool state_due;             /* this node's whole state goes at the next flush */
    bool ask_due;               /* and a request for everyone else's */
    bool seats_wanted;          /* a join waits for a seat: ask the cluster at the flush */
    unsigned long long made;    /* remote members made, for their session ids */
    unsigned long long dropped; /* events that could not go (MESH_OUT_MAX, no memory) */
};

#define VENUE_KICKS_MAX 256 /* kicked guests remembered at once */

struct venue {
    struct venue_config cfg;
    struct venue_io io;
    struct store *store;
    struct registry *reg;  /* borrowed; NULL: no registration, everyone a guest */
    long long now;         /* the now_ms of the event being handled */
    long long wall_offset; /* wall clock ms = now + wall_offset */

    struct room **rooms; /* owned, one per scene */
    size_t nrooms, nrooms_cap;
    struct session **sessions; /* owned */
    size_t nsessions, cap;
    size_t parked_sessions; /* sessions with messages waiting for the database (park.h) */
    size_t parked_bytes;    /* of those messages, in all */

    struct metrics m;
    long long tick;
    long long flushed_ms;

    struct proto_buf enc;     /* scratch for one encode, reused */
    struct proto_user *users; /* scratch roster, reused */
    size_t users_cap;
    struct session **picked; /* scratch: the people one moderation action moves; reused */
    size_t picked_cap;
    struct proto_person *view_people; /* scratch: a breakout_view's people; reused */
    size_t view_people_cap;
    struct breakout *breakouts; /* owned */
    size_t nbreakouts, breakouts_cap;
    struct store_pose *batch; /* scratch for pose writes, reused */
    size_t batch_cap;

    struct twin_table twins;  /* owned: the live twin values */
    struct twins *twin_store; /* borrowed; NULL: twins kept in memory only */

    struct chatlog *chatlog;         /* borrowed; NULL: chat kept in memory only */
    long long chat_last_id;          /* the last chat line's number */
    long long chat_ids_end;          /* the last of the block taken (chat.c) */
    bool chat_dirty;                 /* lines wait for the chatlog */
    struct chatlog_line *chat_batch; /* scratch for chat writes, reused */
    size_t chat_batch_cap;

    struct programme *prog_store; /* borrowed; NULL: the venue has no programme */
    struct prog_live *prog;       /* owned: the sessions, by start */
    size_t nprog;
    struct frame *prog_frame; /* the programme message every welcome shares; NULL: to encode */
    long long prog_next_ms;   /* wall ms the programme next needs the clock; 0: look now */

    struct venue_voice voice;
    struct venue_mesh mesh;

    /* Kicked guests kept out for --kick-minutes (moderation.c): a ring,
     * the oldest overwritten when full. In memory only. */
    struct kick_memo {
        char browser[PROTO_BROWSER_MAX + 1]; /* "" when its page sent none */
        char addr[SESSION_ADDR_MAX];
        char name[PROTO_NAME_MAX * 4 + 1];
        long long until; /* wall ms; 0: a free slot */
    } kicks[VENUE_KICKS_MAX];
    size_t kicks_next; /* the slot the next kick takes */

    struct session_index index[SESSION_KEY_COUNT];     /* sessions by user id, by resume hash */
    struct session *detached_oldest, *detached_newest; /* detached guests (session.c) */
    size_t ndetached_guests;
    struct peer *peers; /* owned: PEERS_MAX per-address allowances (peers.c) */
};

/* Wall clock ms since the epoch, at the event being handled. */
static inline long long venue_wall(const struct venue *v)
{
    return v->now + v->wall_offset;
}

#endif
