/*
 * venue.h - the venue core: rooms, sessions, presence and poses, driven by
 * events and producing frames into per-session queues.
 *
 * There is no socket in here. The transport calls venue_connect,
 * venue_message and venue_disconnect for each connection, venue_tick at the
 * tick rate, and drains each session's queue with venue_peek/venue_sent
 * when its connection can be written. The core tells the transport what to
 * do through struct venue_io. Time comes in as now_ms on every call, so
 * tests drive the clock.
 *
 * The venue owns its rooms and sessions. The scene set, the store and the
 * registry are borrowed and must outlive it; after venue_set_scenes
 * succeeds the venue borrows the new set instead and the old one may go.
 */
#ifndef VENUE_VENUE_H
#define VENUE_VENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "metrics.h"
#include "outq.h"
#include "proto.h"
#include "registry.h"

struct venue;
struct session;
struct ngsi_notification;
struct twins;
struct twin_entity;
struct scene_set;
struct store;
struct registry;

/* Close codes the core asks for. */
enum {
    VENUE_CLOSE_GOING_AWAY = 1001,
    VENUE_CLOSE_UNSUPPORTED = 1003, /* binary where text is due */
    VENUE_CLOSE_POLICY = 1008,
    VENUE_CLOSE_TOO_LARGE = 1009,
    VENUE_CLOSE_UNAUTHORIZED = 4001,
    VENUE_CLOSE_RESUMED = 4002,
    VENUE_CLOSE_REMOVED = 4003, /* kicked or banned by a moderator */
};

struct venue_io {
    void *ctx;
    /* conn's session has frames queued: ask to write when possible. */
    void (*wake)(void *ctx, void *conn);
    /*
     * Close conn with this code and reason, after writing last if it is
     * not NULL (the transport takes a reference: frame_ref, frame_unref).
     * From this call on, the core has forgotten conn: the transport must
     * call no venue_* function for it again (not even venue_disconnect).
     */
    void (*close)(void *ctx, void *conn, int code, const char *reason, struct frame *last);
    /* conn now belongs to session s (a resume took over an older session). */
    void (*bind)(void *ctx, void *conn, struct session *s);
};

/*
 * A new venue with one room per scene. Loads sessions saved by the last
 * shutdown (detached, resumable for the grace period), records rooms in
 * the store and applies the room settings moderators left in the registry.
 * store and reg may be NULL (nothing kept; everyone a guest). NULL with a
 * reason in err.
 */
struct venue *venue_new(const struct venue_config *cfg, const struct venue_io *io,
                        const struct scene_set *scenes, struct store *store, struct registry *reg,
                        long long now_ms, char *err, size_t errlen);
/* Set the wall clock, as ms since the epoch at now_ms (tests). */
void venue_set_wall(struct venue *v, long long wall_ms, long long now_ms);
void venue_free(struct venue *v);

/* A connection opened. The returned session lives until venue_disconnect
 * or until the core closes it through io->close. */
struct session *venue_connect(struct venue *v, void *conn, long long now_ms);
/* The peer address of s's connection (text, e.g. "192.0.2.7"; cut to 63
 * bytes), for keeping a kicked guest out
 * (--kick-minutes). Kept in memory with the session only. */
void venue_set_address(struct session *s, const char *addr);
/* One whole client text message. */
void venue_message(struct venue *v, struct session *s, const char *buf, size_t len,
                   long long now_ms);
/* One whole client binary message: a binary pose (PROTOCOL.md, "Binary
 * poses"), which only a session that said hello with "poses":"binary" may
 * send; anyone else is closed with 1003. */
void venue_binary(struct venue *v, struct session *s, const unsigned char *buf, size_t len,
                  long long now_ms);
/* The client sent a message over the size limit; the transport closes it
 * with 1009 itself. Counts it and forgets conn like io->close would. */
void venue_too_large(struct venue *v, struct session *s, long long now_ms);
/* The connection is gone. The session waits the resume grace, if it had
 * said hello, then leaves its room. */
void venue_disconnect(struct venue *v, struct session *s, long long now_ms);

/* Periodic work: pose fan-out, timeouts, batched writes. */
void venue_tick(struct venue *v, long long now_ms);

/* The next frame to write for s, borrowed, or NULL. */
struct frame *venue_peek(struct session *s);
/* The frame from venue_peek has been handed to the transport. */
void venue_sent(struct venue *v, struct session *s, long long now_ms);

/*
 * Replace the scenes (SIGHUP). Rooms are matched by id; a room whose scene
 * changed tells its members with a `scene` message, and a scene with a new
 * id opens a new room. Rooms cannot be removed while running: the new set
 * must define every current room. All or nothing: -1 with a reason in err
 * leaves the venue as it was, still on the old set.
 */
int venue_set_scenes(struct venue *v, const struct scene_set *scenes, char *err, size_t errlen);

/*
 * Shutting down: write last poses, save every session for resume after a
 * restart, and close every connection with 1001.
 */
void venue_shutdown(struct venue *v, long long now_ms);

/* A user was revoked or deleted: close its sessions (4001) and forget them. */
void venue_user_revoked(struct venue *v, const char *user_id, long long now_ms);

/*
 * Several nodes (mesh.h has what crosses them and why). The cluster's
 * client (server/cluster) starts the mesh with this node's id and a way to
 * publish one document a tick, hands in what the other nodes publish, says
 * when a node is gone, and asks for a resync when it (re)joined: this
 * node's whole state goes out and everyone else's is asked for.
 */
struct venue_mesh_io {
    void *ctx;
    /* Send data (len bytes, borrowed for the call) to every other node. */
    void (*publish)(void *ctx, const char *data, size_t len);
    /* A join waits for a seat this node does not hold: lease now, not at
     * the next beat (venue_mesh_lease). May be NULL. */
    void (*seats)(void *ctx);
};
void venue_mesh_start(struct venue *v, const char *node, const struct venue_mesh_io *io);
/* 0, or -1 when data is not a node's document (nothing applied). */
int venue_mesh_apply(struct venue *v, const char *data, size_t len, long long now_ms);
/* node's members leave (NULL: every other node's: the link is down). */
void venue_mesh_node_gone(struct venue *v, const char *node, long long now_ms);
void venue_mesh_resync(struct venue *v);
/*
 * The seats of room this node may fill, as the cluster leased them in
 * Redis (server/cluster/node.c): together the nodes' leases never pass the
 * room's capacity, so concurrent joins on several nodes never overfill it.
 * Until the first lease a clustered node fills no seat; joins past its
 * lease are room_full like any other. -1 for an unknown room or seats < 0.
 */
int venue_mesh_lease(struct venue *v, const char *room, int seats);
/* Events that could not be published (a tick over MESH_OUT_MAX, no memory). */
unsigned long long venue_mesh_dropped(const struct venue *v);

/* Count connections opened/closed by the transport. */
struct metrics *venue_metrics(struct venue *v);

/* ---- Live digital twins ---- */

enum venue_twin_result {
    VENUE_TWIN_OK,      /* applied: rooms that show it hear at the next tick */
    VENUE_TWIN_REFUSED, /* past a bound, or out of memory: nothing changed (err says) */
    VENUE_TWIN_BUSY,    /* over --ingest-rate: nothing changed, send it again later */
};
/* A checked NGSI-LD notification (net/ parsed it with ngsi.h): all of it
 * or nothing. */
enum venue_twin_result venue_twin_notify(struct venue *v, const struct ngsi_notification *n,
                                         long long now_ms, char *err, size_t errlen);
/* Keep the twins in store (borrowed; it must outlive the venue): what it
 * kept is loaded now, and changes are written with each flush. 0, or -1
 * with err. */
int venue_keep_twins(struct venue *v, struct twins *store, char *err, size_t errlen);

/* Keep each room's recent chat in cl (borrowed; it must outlive the
 * venue): what it kept is loaded now, and new lines are written with each
 * flush. 0, or -1 with err. */
struct chatlog;
int venue_keep_chat(struct venue *v, struct chatlog *cl, char *err, size_t errlen);

/* ---- What the venue shows of itself, read-only, for reports ---- */

/* One room as reports show it; borrowed pointers, valid until the next
 * venue_* call that is not a read. */
struct venue_room_view {
    const char *id;
    const char *name;
    const char *description; /* "" when the scene has none */
    const char *scene_url;
    int capacity; /* in force: a moderator's, else the scene's */
    int count;    /* sessions in it, detached ones (waiting for a resume) included */
    int here;     /* of those, this node's own (the rest are on other nodes) */
    bool locked;
    uint64_t fanout_bytes;
    size_t presence_waiting; /* presence events over the room's rate, for this tick's batch */
};

/* One person as reports show them. */
struct venue_person_view {
    struct proto_user user; /* borrowed pointers into the session */
    bool connected;         /* false while detached, waiting for a resume */
    const char *node;       /* the node it is connected to when another; "" here (borrowed) */
};

size_t venue_room_count(const struct venue *v);
/* Room i (0 .. venue_room_count - 1), in scene order. */
void venue_room_get(const struct venue *v, size_t i, struct venue_room_view *out);
/* Everyone in room i, in join order; room SIZE_MAX: everyone who said
 * hello and is in no room. fn is called once per person; a session closed
 * for good (kicked, revoked) is not listed even before it is reaped. */
void venue_room_people(const struct venue *v, size_t room,
                       void (*fn)(void *arg, const struct venue_person_view *p), void *arg);
const struct metrics *venue_metrics_get(const struct venue *v);
/* The twin entities, sorted by id (struct twin_entity in core/twin.h);
 * borrowed, valid until the next venue_* call that is not a read. */
size_t venue_twin_count(const struct venue *v);
const struct twin_entity *venue_twin_at(const struct venue *v, size_t i);
const struct twin_entity *venue_twin_find(const struct venue *v, const char *id);
/* Does room i's scene show this entity? */
bool venue_twin_shown_in(const struct venue *v, size_t room, const char *entity);

/* ---- The programme (core/programme.c) ---- */

struct programme;
struct prog_session;

/* Keep the programme in p (borrowed; it must outlive the venue): what it
 * holds is loaded now (names of the people from the registry), and every
 * change of state, slides, floor, stars and questions is written to it as
 * it happens. 0, or -1 with err. */
int venue_keep_programme(struct venue *v, struct programme *p, char *err, size_t errlen);
/*
 * Replace the programme with ss[0..n) (checked by programme_parse and
 * programme_check_people). Each room must be one of the venue's, and the
 * whole must fit the programme message (PROG_MESSAGE_MAX bytes). All or
 * nothing, the store too; then everyone hears `programme`, and sessions
 * whose time has come go live at the next tick. 0, or -1 with err naming
 * the session and field.
 */
#define PROG_MESSAGE_MAX (512L * 1024)
int venue_programme_set(struct venue *v, const struct prog_session *ss, size_t n, long long now_ms,
                        char *err, size_t errlen);
/* The sessions as the venue holds them now (states current), by start;
 * borrowed, valid until the next venue_* call that is not a read. */
size_t venue_programme_count(const struct venue *v);
const struct prog_session *venue_programme_at(const struct venue *v, size_t i);
const struct prog_session *venue_programme_find(const struct venue *v, const char *id);
/* The registered name of a person of the programme ("" when unknown). */
const char *venue_programme_name(const struct venue *v, const char *user_id);
/*
 * A new slide deck of pages pages was written for session id as version
 * venue_programme_find(v, id)->slides_version + 1: the session now shows
 * it from page 1, and its room and overflow hear `slides`. 0, or -1 with
 * err (no such session).
 */
int venue_slides_set(struct venue *v, const char *id, int pages, long long now_ms, char *err,
                     size_t errlen);

/* ---- Voice (core/voice.c): who may speak and hear; a media server's
 * client carries it out. Rooms are named by venue room id. ---- */

struct venue_voice_io {
    void *ctx;
    /* The voice room of a venue room, 0 when it has none. */
    uint64_t (*room_number)(void *ctx, const char *room);
    /* A session's token is valid (add) or withdrawn. */
    void (*token)(void *ctx, const char *token, bool add);
    /* token may (allow) or may no longer join room's voice room. */
    void (*allow)(void *ctx, const char *room, const char *token, bool allow);
    /* End a participant's media in room's voice room now. */
    void (*kick)(void *ctx, const char *room, uint64_t participant);
    /* Stop (mute) or resume forwarding a publisher's voice. */
    void (*mute)(void *ctx, const char *room, uint64_t participant, bool mute);
    /* The ICE servers (TURN) a user's page should use, as a JSON array,
     * valid until the next call; NULL: none. May itself be NULL. */
    const char *(*ice)(void *ctx, const char *user_id);
};

/* Give the venue voice: io is copied, every function but ice set; url is what
 * clients connect to (PROTOCOL.md). The media server counts as down until
 * venue_voice_state says up. Everyone in a room is allowed at once. */
void venue_voice_attach(struct venue *v, const struct venue_voice_io *io, const char *url);
/* The media server is reachable (up) or not (reason for people): every
 * client hears `voice`. Coming up, everyone in a room is allowed again. */
void venue_voice_state(struct venue *v, bool up, const char *reason, long long now_ms);
/* A publisher appeared (on) in or left room's voice room. One venued did
 * not give the id to, or not for that room, is kicked; one who may not
 * speak is muted. */
void venue_voice_publisher(struct venue *v, const char *room, uint64_t participant, bool on,
                           long long now_ms);
/* The media server hears a publisher start (on) or stop talking: its room
 * sees presence `update` with `talking`. */
void venue_voice_talking(struct venue *v, const char *room, uint64_t participant, bool on,
                         long long now_ms);

#endif
