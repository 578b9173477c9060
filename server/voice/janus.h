/*
 * janus.h - venued's client of the Janus WebRTC gateway: one session, one
 * AudioBridge and one VideoRoom handle, one voice room per venue room, the
 * rooms' `allowed` lists and Janus' core tokens. No media passes through
 * venued; this only drives Janus.
 *
 * Why the WebSocket API and not HTTP: Janus pushes its events (a session's
 * timeout, talking events, a participant leaving) down the same socket, so
 * there is one connection per API, nothing to long-poll and no request
 * that waits on the service loop. Both connections are lws clients on
 * venued's own context: nothing here blocks, everything runs in callbacks
 * and lws_sul timers.
 *
 * Voice rooms. Every venue room gets a VideoRoom of audio-only publishers:
 * an SFU, so each browser places each voice with its own WebAudio panner
 * by the avatars' poses and subscribes only to the publishers venued says
 * are near it (an AudioBridge mix has no per-listener distance, and its
 * participants may unmute themselves; a VideoRoom `moderate` mute holds).
 * A stage room is the same kind of room in which venued lets only stage
 * rights publish: everyone else's publisher is muted the moment it appears.
 *
 * Watching. venued joins each room itself on a handle of its own, as a
 * publisher that never publishes (participant id JANUS_WATCH_ID), so that
 * Janus tells it of every publisher that appears or goes and of who starts
 * and stops talking; struct janus_events hands those on.
 *
 * Room numbers are derived from the venue room id (FNV-1a, 53 bits: a
 * JavaScript number), and each room's secret from the room key and the id,
 * so a restarted venued finds its rooms in a Janus that kept running, and
 * a restarted Janus gets the same numbers back. Rooms are made with
 * `permanent: false`, the `allowed` list on (holding only venued's own
 * watching token) and the admin key.
 *
 * Errors: functions returning int give 0 on success and -1 on refusal or
 * failure (a message in err where there is one), like the rest of venued.
 * Everything runs on the service thread.
 */
#ifndef VENUE_JANUS_H
#define VENUE_JANUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lws_context;
struct scene_set;
struct voice_status;
struct janus;

#define JANUS_SECRET_MAX   128  /* characters of one secret */
#define JANUS_URL_MAX      256  /* characters of an API URL */
#define JANUS_TOKEN_MAX    64   /* characters of one token */
#define JANUS_ROOMS_MAX    64   /* voice rooms (venue rooms beyond: no voice) */
#define JANUS_TOKENS_MAX   4096 /* tokens remembered for re-adding after a restart */
#define JANUS_PENDING_MAX  128  /* transactions in flight, both APIs together */
#define JANUS_TIMEOUT_MS   5000 /* a transaction without an answer this long fails */
#define JANUS_KEEPALIVE_MS 25000
#define JANUS_RX_MAX       65536 /* bytes of one message from Janus (more: hang up) */
#define JANUS_WATCH_ID     1     /* venued's own participant id in each room */
#define JANUS_EVENT_IDS    128   /* publishers read from one event (the rest: next sweep) */

enum janus_state { JANUS_DOWN, JANUS_CONNECTING, JANUS_READY };

/* What Janus tells venued, as it happens. Rooms are venue room ids. */
struct janus_events {
    void *ctx;
    /* READY reached (up) or lost (reason says why). */
    void (*state)(void *ctx, bool up, const char *reason);
    /* A publisher appeared (on) in a room, or unpublished or left. */
    void (*publisher)(void *ctx, const char *room, uint64_t participant, bool on);
    /* A publisher started (on) or stopped talking. */
    void (*talking)(void *ctx, const char *room, uint64_t participant, bool on);
};

/* What secrets.env (server/voice/janus-config.sh) holds. */
struct janus_secrets {
    char api[JANUS_SECRET_MAX + 1];
    char admin[JANUS_SECRET_MAX + 1];
    char room_key[JANUS_SECRET_MAX + 1];
    char ws_url[JANUS_URL_MAX + 1];    /* "" when the file has none */
    char admin_url[JANUS_URL_MAX + 1]; /* "" when the file has none */
};

/*
 * Read a secrets.env: KEY=VALUE lines, JANUS_API_SECRET, JANUS_ADMIN_SECRET
 * and JANUS_ROOM_KEY required. A file that its group or others may read or
 * write is refused (the secrets would not be secret). -1 with err set.
 */
int janus_read_secrets(const char *path, struct janus_secrets *out, char *err, size_t errlen);

/*
 * A client of the Janus at url (ws://host:port[/path]) and, when admin_url
 * is not "", its admin API (for tokens). scenes is borrowed for the call
 * only: one voice room per scene. ev is copied (its functions may be
 * NULL). Makes its own vhost (no listener) on ctx and starts connecting at
 * once; it never fails for Janus being down. NULL with err set for a bad
 * URL or no memory.
 */
struct janus *janus_new(struct lws_context *ctx, const char *url, const char *admin_url,
                        const struct janus_secrets *sec, const struct scene_set *scenes,
                        const struct janus_events *ev, char *err, size_t errlen);
/* Before lws_context_destroy: cancels the timers and detaches from the
 * connections (lws closes them with the context). NULL is fine. */
void janus_free(struct janus *j);

enum janus_state janus_state(const struct janus *j);
const char *janus_reason(const struct janus *j); /* why not ready; "" when ready */
/* What /healthz and /metrics print; lives as long as j. */
const struct voice_status *janus_status(const struct janus *j);

/* The voice room of a venue room, 0 when it has none. */
uint64_t janus_room_of(const struct janus *j, const char *venue_room_id);

/*
 * Tokens. Both are remembered (up to JANUS_TOKENS_MAX) and put back after
 * Janus restarts; when Janus is ready they are also sent now. -1 when the
 * table is full, the token is not 1..JANUS_TOKEN_MAX printable characters,
 * or (for the sending) no transaction place is free: then the token is
 * still remembered and goes out with the next recreation.
 */
int janus_add_token(struct janus *j, const char *token);    /* admin API add_token */
int janus_remove_token(struct janus *j, const char *token); /* remove_token, and from all rooms */
/* Add token to (allow true) or remove it from the room's `allowed` list. */
int janus_allow(struct janus *j, uint64_t room, const char *token, bool allow);
/* End a participant's media at once (not only its token). Needs READY; a
 * participant who is not there is no failure. */
int janus_kick(struct janus *j, uint64_t room, uint64_t participant);
/* Stop (mute) or resume forwarding a publisher's voice: VideoRoom
 * `moderate` of its stream mid "0" (our clients publish one audio track
 * and nothing else); it holds until venued says otherwise. Needs READY. */
int janus_mute(struct janus *j, uint64_t room, uint64_t participant, bool mute);

/* ---- The parsing of Janus' messages: exposed for the unit tests. ---- */

#define JANUS_TXN_MAX 32

enum janus_msg {
    JANUS_MSG_SUCCESS,
    JANUS_MSG_ACK,
    JANUS_MSG_ERROR,
    JANUS_MSG_EVENT,
    JANUS_MSG_TIMEOUT, /* the session timed out */
    JANUS_MSG_OTHER,   /* webrtcup, media, hangup, detached, slowlink, ... */
};

/* One message from Janus, every field checked for its type. */
struct janus_reply {
    enum janus_msg msg;
    char txn[JANUS_TXN_MAX + 1]; /* "" when it has none */
    uint64_t session;            /* session_id, 0 when absent */
    uint64_t sender;             /* sender (a handle), 0 when absent */
    uint64_t data_id;            /* data.id of a create/attach success, 0 when absent */
    int error_code;              /* error.code, or the plugin's error_code; 0: none */
    char error[128];             /* its reason, printable ASCII only */
    char plugin[48];             /* plugindata.plugin, "" when none */
    char result[24];             /* plugindata.data.videoroom */
    uint64_t room;               /* plugindata.data.room, 0 when absent */
    uint64_t id;                 /* data.id: the joined or talking participant; 0: none */
    uint64_t gone;               /* data.unpublished, .leaving or .kicked, an id; 0: none */
    uint64_t publishers[JANUS_EVENT_IDS]; /* data.publishers[].id */
    size_t npublishers;
};

/* Parse one message of len bytes. -1 (err set) for anything that is not a
 * Janus message: not JSON, no "janus", a field of the wrong type. */
int janus_parse(const char *buf, size_t len, struct janus_reply *r, char *err, size_t errlen);

/* What a request expected, to check its reply against. */
enum janus_op {
    JANUS_OP_CREATE,
    JANUS_OP_ATTACH,
    JANUS_OP_KEEPALIVE,
    JANUS_OP_ROOM,   /* a room's create */
    JANUS_OP_JOIN,   /* venued's watching join: "joined" */
    JANUS_OP_PLUGIN, /* allowed, moderate: "success" */
    JANUS_OP_KICK,   /* kick: "success", or nobody of that id */
    JANUS_OP_ADMIN,  /* add_token, remove_token */
};

/*
 * Whether r answers an op of ours: 1 done (ok), 0 not yet (an ack of an
 * asynchronous request), -1 failed (err says why: Janus' error, a missing
 * id, a reply of another plugin or room). room matters for the plugin's
 * ops. A room that exists already counts as created (its number and
 * secret are derived, so it is ours).
 */
int janus_verdict(const struct janus_reply *r, enum janus_op op, uint64_t room, char *err,
                  size_t errlen);

/* The derived room number of a venue room id (never 0). */
uint64_t janus_room_number(const char *venue_room_id);

#endif
