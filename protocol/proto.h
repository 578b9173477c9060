/*
 * proto.h - the venue.v1 wire protocol: parse client messages, encode
 * server messages.
 *
 * This module owns the text format and nothing else: it knows no rooms and
 * no sockets. Parsing turns one untrusted JSON text into a checked
 * struct proto_msg (every field: type, length, range, finite numbers, unit
 * quaternions, UTF-8) or a struct proto_error that names the field.
 * Encoding appends one complete JSON text to a caller-owned, reusable
 * struct proto_buf, so the hot path allocates only when a buffer grows.
 *
 * protocol/PROTOCOL.md is the public description of the same contract.
 */
#ifndef VENUE_PROTO_H
#define VENUE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "poses_bin.h"

#define PROTO_SUBPROTOCOL "venue.v1"

/* Limits, in Unicode code points for text; buffers hold the UTF-8 bytes. */
#define PROTO_NAME_MAX        64
#define PROTO_TEXT_MAX        500
#define PROTO_ROOM_MAX        64  /* room ids: [a-z0-9-], 1..64 bytes */
#define PROTO_TOKEN_MAX       128 /* tokens and resume tokens: printable ASCII */
#define PROTO_BROWSER_MAX     64  /* hello.browser: A-Z a-z 0-9 _ - */
#define PROTO_ID_STR_MAX      64  /* a client's message id when it is a string */
#define PROTO_REASON_MAX      200
#define PROTO_USER_ID_MAX     32     /* user ids: [A-Za-z0-9_-], 1..32 bytes */
#define PROTO_NODE_MAX        32     /* a cluster node's id: [A-Za-z0-9_-], 1..32 bytes */
#define PROTO_MOD_ROOMS_MAX   16     /* rooms of one breakout */
#define PROTO_MOD_TARGETS_MAX 200    /* participants named in one breakout */
#define PROTO_VIEW_PEOPLE_MAX 200    /* people listed per room of a breakout_view */
#define PROTO_MINUTES_MAX     525600 /* a year */
#define PROTO_CAPACITY_MAX    100000
#define PROTO_POS_LIMIT       100000.0f /* |coordinate| above this is refused */
#define PROTO_QUAT_EPS        0.01f     /* | |q| - 1 | above this is refused */
#define PROTO_SESSION_ID_MAX  64        /* programme session ids: [A-Za-z0-9_-] */
#define PROTO_PAGES_MAX       10000     /* slide numbers */
#define PROTO_FLOOR_MIN_S     10        /* the floor is given for this long at least */
#define PROTO_FLOOR_MAX_S     3600
#define PROTO_FLOOR_DEFAULT_S 120
#define PROTO_FIND_Q_MAX      64 /* find.q, in code points */
#define PROTO_FIND_MAX        20 /* people in one found reply at most */

enum proto_type {
    PROTO_HELLO,
    PROTO_JOIN,
    PROTO_LEAVE,
    PROTO_POSE,
    PROTO_CHAT,
    PROTO_STATUS,
    PROTO_HAND,
    PROTO_MOD,
    PROTO_STAR,    /* the programme: star a session */
    PROTO_SLIDE,   /* on stage: turn the slides */
    PROTO_CAPTION, /* a line of live captions */
    PROTO_ASK,     /* a question to the session */
    PROTO_VOTE,    /* a vote for a question */
    PROTO_FIND,    /* look for a person across the venue */
    PROTO_PRIVACY, /* whether others may find me, send me direct messages */
    PROTO_REACT,   /* applause, a thumbs up, a heart, a laugh */
    PROTO_DM,      /* a direct message to one registered participant */
    PROTO_BLOCK,   /* take no more direct messages from someone (or again) */
    PROTO_REPORT,  /* tell the moderators about someone */
    PROTO_TYPE_COUNT
};

/* The reactions, a small fixed set. */
enum proto_reaction {
    PROTO_REACT_APPLAUSE,
    PROTO_REACT_THUMBS_UP,
    PROTO_REACT_HEART,
    PROTO_REACT_LAUGH,
    PROTO_REACT_COUNT
};
/* "applause", "thumbs_up", ...: a static string. */
const char *proto_reaction_name(enum proto_reaction r);

/* Moderation actions, in the order PROTOCOL.md lists them. */
enum proto_mod_action {
    PROTO_MOD_KICK,
    PROTO_MOD_BAN,
    PROTO_MOD_UNBAN,
    PROTO_MOD_MUTE,
    PROTO_MOD_UNMUTE,
    PROTO_MOD_LOCK,
    PROTO_MOD_UNLOCK,
    PROTO_MOD_CAPACITY,
    PROTO_MOD_MOVE,
    PROTO_MOD_PROMOTE,
    PROTO_MOD_DEMOTE,
    PROTO_MOD_ANNOUNCE,
    PROTO_MOD_LOWER_HAND,
    PROTO_MOD_LOWER_ALL_HANDS,
    PROTO_MOD_CLOSE_ROOM,
    PROTO_MOD_BREAKOUT,
    PROTO_MOD_RECALL,
    PROTO_MOD_START_SESSION,
    PROTO_MOD_END_SESSION,
    PROTO_MOD_GIVE_FLOOR,
    PROTO_MOD_TAKE_FLOOR,
    PROTO_MOD_ANSWER,
    PROTO_MOD_LOCK_MICS,
    PROTO_MOD_UNLOCK_MICS,
    PROTO_MOD_DELETE_CHAT,
    PROTO_MOD_COUNT
};

/* "kick", "ban", ...: a static string. */
const char *proto_mod_action_name(enum proto_mod_action a);
/* The action named s (as proto_mod_action_name names it): 0, or -1. */
int proto_mod_action_parse(const char *s, enum proto_mod_action *out);

enum proto_status { PROTO_STATUS_ACTIVE, PROTO_STATUS_AWAY };

/* The optional client message id, echoed as "re" in the reply. */
enum proto_id_kind { PROTO_ID_NONE, PROTO_ID_INT, PROTO_ID_STR };
struct proto_id {
    enum proto_id_kind kind;
    long long num;                      /* when kind == PROTO_ID_INT */
    char str[PROTO_ID_STR_MAX * 4 + 1]; /* when kind == PROTO_ID_STR, UTF-8 */
};

/* A checked client message. Strings are NUL-terminated copies. Only the
 * union member of its type is set. A breakout's targets are the one part
 * on the heap (few messages have them): proto_msg_free releases them. */
struct proto_msg {
    enum proto_type type;
    struct proto_id id;
    union {
        struct {
            char name[PROTO_NAME_MAX * 4 + 1];
            char token[PROTO_TOKEN_MAX + 1];     /* "" when absent */
            char resume[PROTO_TOKEN_MAX + 1];    /* "" when absent */
            char browser[PROTO_BROWSER_MAX + 1]; /* the page's browser id; "" when absent */
            bool poses_binary;                   /* "poses":"binary": binary poses frames */
        } hello;
        struct {
            char room[PROTO_ROOM_MAX + 1];
            char near[PROTO_USER_ID_MAX + 1]; /* arrive beside this user; "" when absent */
        } join;
        struct {
            char q[PROTO_FIND_Q_MAX * 4 + 1]; /* 1..64 code points, as sent */
        } find;
        /* Absent fields keep their setting: {} only asks for the current one. */
        struct {
            bool has_findable, findable;
            bool has_dms, dms;
        } privacy;
        struct {
            float p[3]; /* metres, Y-up */
            float q[4]; /* x, y, z, w; normalised by the parser */
        } pose;
        struct {
            char text[PROTO_TEXT_MAX * 4 + 1];
        } chat;
        struct {
            enum proto_reaction kind;
        } react;
        struct {
            char to[PROTO_USER_ID_MAX + 1];
            char text[PROTO_TEXT_MAX * 4 + 1];
        } dm;
        /* block and report */
        struct {
            char user[PROTO_USER_ID_MAX + 1];
            bool on;                               /* block: true blocks, false lets in again */
            char reason[PROTO_REASON_MAX * 4 + 1]; /* report: what happened; "" when absent */
        } about;
        struct {
            enum proto_status status;
        } status;
        struct {
            bool up;
        } hand;
        struct {
            char session[PROTO_SESSION_ID_MAX + 1];
            bool on;
        } star;
        struct {
            int page;
        } slide;
        /* caption and ask */
        struct {
            char text[PROTO_TEXT_MAX * 4 + 1];
        } line;
        struct {
            long long question;
        } vote;
        /* Absent optional fields are "" or 0. room "*" means the whole venue. */
        struct {
            enum proto_mod_action action;
            char target[PROTO_USER_ID_MAX + 1];
            char room[PROTO_ROOM_MAX + 1];
            char reason[PROTO_REASON_MAX * 4 + 1];
            char text[PROTO_TEXT_MAX * 4 + 1];
            int minutes;
            int capacity;
            char rooms[PROTO_MOD_ROOMS_MAX][PROTO_ROOM_MAX + 1];
            size_t nrooms;
            char (*targets)[PROTO_USER_ID_MAX + 1]; /* owned: ntargets distinct ids, or NULL */
            size_t ntargets;
            char session[PROTO_SESSION_ID_MAX + 1];
            long long question;
            long long message; /* a chat line's msg */
            int seconds;
        } mod;
    } u;
};

/*
 * Why a text was refused. code is one of the protocol's error codes
 * ("bad_request", "unknown_type", "too_large"); message is for a person and
 * names the field ("pose.q: not a unit quaternion"). re is the message's id
 * when it could be read, so the error still answers the right request.
 */
struct proto_error {
    const char *code; /* static string */
    char message[160];
    struct proto_id re;
};

/*
 * Parse one client text of len bytes (not necessarily NUL-terminated).
 * Returns 0 and fills *out, or -1 and fills *err. Never keeps a pointer
 * into buf.
 */
int proto_parse(const char *buf, size_t len, struct proto_msg *out, struct proto_error *err);
/* Free what a parsed message owns; the struct itself is the caller's.
 * Safe on a message whose parse failed, and twice. */
void proto_msg_free(struct proto_msg *m);

/* True if the JSON text buf[0..len) nests arrays or objects deeper than
 * max: checked before jansson parses untrusted text (it recurses). */
bool proto_json_too_deep(const char *buf, size_t len, int max);
/* True if s[0..len) is valid UTF-8 with no overlong forms or surrogates. */
bool proto_utf8_valid(const char *s, size_t len);

/*
 * Remove the bidi embeddings, overrides and isolates from s (NUL-terminated
 * UTF-8), in place: a name keeps its letters and can no longer reorder
 * what follows it on screen ("Ω\u202Eevil"). hello.name gets the same.
 */
void proto_strip_bidi(char *s);

/* ---- Encoding -------------------------------------------------------- */

/*
 * A growable byte buffer. The owner frees it with proto_buf_free. Encoders
 * append; proto_buf_reset empties it without freeing, so a buffer kept
 * across ticks stops allocating once it has grown to its working size.
 */
struct proto_buf {
    char *data;
    size_t len;
    size_t cap;
};

void proto_buf_reset(struct proto_buf *b);
void proto_buf_free(struct proto_buf *b);
int proto_buf_append(struct proto_buf *b, const void *data, size_t len);
int proto_buf_printf(struct proto_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* What the encoders need to know about a user: borrowed pointers. */
struct proto_user {
    const char *id;
    const char *name;
    const char *role;   /* "guest", "attendee", ... */
    const char *status; /* "active" | "away" */
    bool hand;
    long long hand_at; /* when the hand went up, ms since the epoch; 0 when down */
    bool muted;
    bool talking;   /* Janus hears this person speak */
    const float *p; /* [3] */
    const float *q; /* [4] */
    bool has_ix;    /* in a room: ix is its index in the binary poses frames */
    unsigned ix;
};

struct proto_room_info {
    const char *id;
    const char *name;
    int count;
    int capacity;
};

/*
 * Every encoder appends one complete JSON object to b and returns 0, or -1
 * when memory runs out (b is then left as it was). Strings are escaped;
 * numbers are written with fixed precision (positions to the millimetre,
 * quaternion components to 1e-5).
 */
/* poses_binary: the session gets binary poses frames ("poses":"binary"). */
int proto_encode_welcome(struct proto_buf *b, const char *session, const char *resume,
                         const struct proto_user *user, const struct proto_room_info *rooms,
                         size_t nrooms, int tick_hz, bool poses_binary, const struct proto_id *re);
/* scene is the room's scene URL, e.g. "/api/scenes/lobby". */
int proto_encode_joined(struct proto_buf *b, const char *room_id, const char *room_name,
                        const char *scene, const struct proto_user *roster, size_t n,
                        const struct proto_id *re);
/* What became of join.near: user is the id asked for; placed whether the
 * joiner stands beside them; reason (NULL when placed) says why not. */
struct proto_near {
    const char *user;
    bool placed;
    const char *reason;
};
/* joined with "near":{user, placed, reason?} when near is not NULL, and
 * the room's "bounds" {min, max} for binary poses when bounds is not NULL. */
int proto_encode_joined_near(struct proto_buf *b, const char *room_id, const char *room_name,
                             const char *scene, const struct proto_user *roster, size_t n,
                             const struct poses_bin_bounds *bounds, const struct proto_near *near,
                             const struct proto_id *re);
/* One person a find turned up: borrowed strings. */
struct proto_found {
    const char *user;
    const char *name;
    const char *role;
    const char *room;      /* the room's id */
    const char *room_name; /* the room's name, for people */
};
/* {"type":"found","q","people":[{user,name,role,room,room_name}],"truncated"} */
int proto_encode_found(struct proto_buf *b, const char *q, const struct proto_found *people,
                       size_t n, bool truncated, const struct proto_id *re);
/* {"type":"privacy","findable","dms","re"?}: the settings in force. */
int proto_encode_privacy(struct proto_buf *b, bool findable, bool dms, const struct proto_id *re);
/* event: "join" | "leave" | "update" */
int proto_encode_presence(struct proto_buf *b, const char *room, const char *event,
                          const struct proto_user *user);
/* One event of a presence_batch, {"event","user"}, appended to b after a
 * comma when b holds events already. */
int proto_encode_presence_event(struct proto_buf *b, const char *event,
                                const struct proto_user *user);
/* {"type":"presence_batch","room","events":[...]} around events[0..len),
 * what proto_encode_presence_event wrote. */
int proto_encode_presence_batch(struct proto_buf *b, const char *room, const char *events,
                                size_t len);
/* One line of a room's chat; borrowed strings. */
struct proto_chat_line {
    long long id; /* the venue's number for it: what a moderator's delete names */
    const char *user_id;
    const char *name;
    const char *text;
    long long ts_ms;
    const char *role; /* the sender's when it spoke: "guest", "attendee", ... */
};
int proto_encode_chat(struct proto_buf *b, const char *room, const struct proto_chat_line *l);
/* {"type":"chat_history","room":...,"lines":[...]}: a joiner's view of
 * the room's recent chat, oldest first. */
int proto_encode_chat_history(struct proto_buf *b, const char *room,
                              const struct proto_chat_line *lines, size_t n);
/* Who reacted with what in one tick; borrowed. */
struct proto_reactor {
    const char *user_id;
    enum proto_reaction kind;
};
/* {"type":"reactions","room":...,"counts":{...},"total":{...},"by":[...],"more":n}:
 * counts[] and total[] have PROTO_REACT_COUNT entries. */
int proto_encode_reactions(struct proto_buf *b, const char *room, const unsigned *counts,
                           const unsigned long long *total, const struct proto_reactor *by,
                           size_t nby, unsigned more);
/* A direct message, to both ends; borrowed strings. */
struct proto_dm {
    const char *from_id, *from_name;
    const char *to_id, *to_name;
    const char *text;
    long long ts_ms;
};
/* re: the sender's message id, on the sender's copy only (NULL otherwise). */
int proto_encode_dm(struct proto_buf *b, const struct proto_dm *d, const struct proto_id *re);
/* {"type":"blocks","users":[ids]}: whom I block, after welcome and each change. */
int proto_encode_blocks(struct proto_buf *b, const char *const *ids, size_t n,
                        const struct proto_id *re);
/* A report to the moderators; messages are what the reporter received from
 * the person reported (direct messages), oldest first. room NULL: not in one. */
struct proto_report {
    const char *from_id, *from_name;
    const char *about_id, *about_name;
    const char *room;
    const char *reason;
    struct {
        const char *text;
        long long ts_ms;
    } messages[8];
    size_t nmessages;
    long long ts_ms;
};
int proto_encode_report(struct proto_buf *b, const struct proto_report *r);
/* {"type":"reported","user":id,"moderators":n}: the reporter's receipt. */
int proto_encode_reported(struct proto_buf *b, const char *user_id, int moderators,
                          const struct proto_id *re);
/* {"type":"chat_deleted","room":...,"msg":id}: a moderator removed it. */
int proto_encode_chat_deleted(struct proto_buf *b, const char *room, long long id);
/* re may be NULL or of kind PROTO_ID_NONE: then no "re" is written. */
int proto_encode_error(struct proto_buf *b, const char *code, const char *message,
                       const struct proto_id *re);
/* {"type":"left","room":...}: the reply to leave. */
int proto_encode_left(struct proto_buf *b, const char *room, const struct proto_id *re);
/* {"type":"pose","p":[..],"q":[..],"reason":...}: the server corrected
 * the client's own pose (clamped to the floor, too fast, spawned). */
int proto_encode_pose_fix(struct proto_buf *b, const float p[3], const float q[4],
                          const char *reason);
/* {"type":"scene","room":...,"scene":...}: the room's scene changed. */
int proto_encode_scene(struct proto_buf *b, const char *room, const char *scene);

/* {"type":"mod_ok","action":...,"re":...}: a moderation action was done. */
int proto_encode_mod_ok(struct proto_buf *b, enum proto_mod_action action,
                        const struct proto_id *re);
/* {"type":"kicked","reason":...,"room":...}: removed from room (NULL: from
 * the venue, and the connection closes). */
int proto_encode_kicked(struct proto_buf *b, const char *reason, const char *room);
/* {"type":"announce","from":{"id","name"},"text","room"}: room NULL for the
 * whole venue (written as null). */
int proto_encode_announce(struct proto_buf *b, const char *from_id, const char *from_name,
                          const char *text, const char *room, long long ts_ms);
/* {"type":"room","room":...,"locked":bool,"capacity":N}: a room's settings changed. */
int proto_encode_room_state(struct proto_buf *b, const char *room, bool locked, int capacity);
/* {"type":"breakout","room":...,"return_to":...,"ends":ms}: you are in a
 * breakout until ends (ms since the epoch). */
int proto_encode_breakout(struct proto_buf *b, const char *room, const char *return_to,
                          long long ends_ms);
/* {"type":"stage","room":...,"users":[roster users],"bounds"?}: who is on
 * room's stage, for its overflow room; bounds (NULL: none) are the hall's. */
int proto_encode_stage(struct proto_buf *b, const char *room, const struct proto_user *users,
                       size_t n, const struct poses_bin_bounds *bounds);
/* ---- The programme and the stage ---- */

/* What a client connects to for voice (PROTOCOL.md, "Voice"). */
enum proto_voice_state { PROTO_VOICE_OFF, PROTO_VOICE_DOWN, PROTO_VOICE_UP };

struct proto_voice {
    enum proto_voice_state state;
    const char *reason; /* DOWN: why, for people */
    const char *url;    /* UP: the Janus WebSocket API */
    const char *token;  /* UP: this session's Janus token */
    uint64_t room;      /* UP: the voice room to publish in; 0: none */
    uint64_t listen;    /* UP: the voice room whose publishers to hear */
    uint64_t id;        /* UP: the participant id to join with */
    bool stage;         /* UP: "stage" mode, else "spatial" */
    double range;       /* UP: metres */
    bool publish;       /* UP: may speak now */
    bool muted;         /* a moderator muted this person */
    bool locked;        /* the room's microphones are locked */
    const char *ice;    /* UP: a JSON array of RTCIceServer objects, written as it is; NULL: none */
};
int proto_encode_voice(struct proto_buf *b, const struct proto_voice *v);

/* One publisher to hear: its participant id and whose avatar it is. */
struct proto_voice_peer {
    uint64_t id;
    const char *user;
};
int proto_encode_voice_peers(struct proto_buf *b, uint64_t room,
                             const struct proto_voice_peer *peers, size_t n);

/* A person of the programme: {"id","name"}. */
struct proto_person {
    const char *id;
    const char *name;
};

/* One room of a running breakout as its moderators see it: who is there
 * now, the first n of count listed. Borrowed strings and array. */
struct proto_breakout_room {
    const char *id;
    const struct proto_person *people;
    size_t n;     /* listed */
    size_t count; /* in the room */
};
/*
 * {"type":"breakout_view","active":true,"from":...,"by":{"id","name"},
 * "ends":ms,"minutes":N,"rooms":[{"id","count","people":[{"id","name"}]}]}:
 * a breakout from room from, started by by, for its moderators.
 */
int proto_encode_breakout_view(struct proto_buf *b, const char *from, const struct proto_person *by,
                               long long ends_ms, int minutes,
                               const struct proto_breakout_room *rooms, size_t nrooms);
/* {"type":"breakout_view","active":false,"from":...}: it is over. */
int proto_encode_breakout_view_end(struct proto_buf *b, const char *from);
/* One session as the protocol writes it (PROTOCOL.md, "The session
 * object"): borrowed strings. */
struct proto_session {
    const char *id;
    const char *title;
    const char *description;
    const char *room;
    long long start_ms, end_ms; /* written as ISO 8601 UTC */
    const char *state;
    const struct proto_person *people[3]; /* speakers, moderators, captioners */
    size_t npeople[3];
    int slides_pages; /* 0: "slides":null */
    int slides_page;
    int slides_version;
};
/* ISO 8601 UTC text of ms since the epoch into out (PROTO_TIME_MAX bytes). */
#define PROTO_TIME_MAX 32
void proto_time_text(long long ms, char *out, size_t size);
/* One session object (no type: a part of a message or a reply). */
int proto_encode_session_object(struct proto_buf *b, const struct proto_session *s);
/* The head {"type":"programme","sessions":[ and tail ]}: the caller puts
 * session objects between them, comma-separated. */
int proto_encode_programme_head(struct proto_buf *b);
int proto_encode_programme_tail(struct proto_buf *b);
/* {"type":"session","id","state","room"} */
int proto_encode_session_state(struct proto_buf *b, const char *id, const char *state,
                               const char *room);
/* {"type":"stars","sessions":[ids],"re"} */
int proto_encode_stars(struct proto_buf *b, const char *const *ids, size_t n,
                       const struct proto_id *re);
/* {"type":"reminder","session","title","room","start"} */
int proto_encode_reminder(struct proto_buf *b, const char *id, const char *title, const char *room,
                          long long start_ms);
/* {"type":"slides","session","room","pages","page","url"} */
int proto_encode_slides(struct proto_buf *b, const char *session, const char *room, int pages,
                        int page, int version);
/* {"type":"caption","session","room","from":{id,name},"text","ts"} */
int proto_encode_caption(struct proto_buf *b, const char *session, const char *room,
                         const char *from_id, const char *from_name, const char *text,
                         long long ts_ms);
/* A question object, for question and questions. voted < 0: not written. */
struct proto_question {
    long long id;
    const char *from_id;
    const char *from_name;
    const char *text;
    int votes;
    bool answered;
    long long ts_ms;
    int voted;
};
/* {"type":"question","session","room","question":{...}} */
int proto_encode_question(struct proto_buf *b, const char *session, const char *room,
                          const struct proto_question *q);
/* {"type":"questions","session","room","questions":[...]} */
int proto_encode_questions(struct proto_buf *b, const char *session, const char *room,
                           const struct proto_question *qs, size_t n);
/* {"type":"floor","room","user":{id,name}|null,"until":ms|null} */
int proto_encode_floor(struct proto_buf *b, const char *room, const char *user_id,
                       const char *user_name, long long until_ms);

/* An error that may name a room to go to instead ("overflow"); overflow
 * NULL writes none. */
int proto_encode_error_overflow(struct proto_buf *b, const char *code, const char *message,
                                const char *overflow, const struct proto_id *re);

/* One attribute of a twin message: borrowed strings. */
enum proto_twin_kind {
    PROTO_TWIN_NULL,
    PROTO_TWIN_NUMBER,
    PROTO_TWIN_BOOL,
    PROTO_TWIN_STRING,
    PROTO_TWIN_JSON
};
struct proto_twin_attr {
    const char *name;
    enum proto_twin_kind kind;
    double num;            /* NUMBER (finite); BOOL as 0 or 1 */
    const char *text;      /* STRING: any UTF-8; JSON: compact JSON text, written as is */
    const char *unit;      /* unitCode, "" when none */
    long long observed_ms; /* ms since the epoch; 0 unknown (written as null) */
};
/* {"type":"twin","entity":...,"etype":...,"attrs":{name:{"value","unit","observedAt"}}}:
 * the latest values of some of an entity's attributes. A JSON attribute's
 * text must come from a JSON encoder (it is not checked again). */
int proto_encode_twin(struct proto_buf *b, const char *entity, const char *etype,
                      const struct proto_twin_attr *attrs, size_t n);

/*
 * The poses frame is spliced from pieces so that a room encodes each
 * avatar once per tick and every receiver's frame is assembled by copying
 * those entries (server/core/room.c):
 *   proto_poses_head(out, size, tick, near)
 *                                         {"type":"poses","tick":N[,"near":K],"users":[
 *   proto_encode_pose_entry(b, id, p, q)  {"id":"..","p":[..],"q":[..]}
 *   PROTO_POSES_SEP between entries, PROTO_POSES_TAIL after the last.
 */
#define PROTO_POSES_HEAD_MAX 80 /* bytes of the head, NUL included */
#define PROTO_POSES_SEP      ","
#define PROTO_POSES_TAIL     "]}"
/* The head for tick into out (size bytes, at least PROTO_POSES_HEAD_MAX:
 * asserted); returns its length. near >= 0: a tiered frame, whose first
 * near entries are the nearest tier; -1: an untiered one. */
size_t proto_poses_head(char *out, size_t size, long long tick, int near);
int proto_encode_pose_entry(struct proto_buf *b, const char *id, const float p[3],
                            const float q[4]);

#endif
