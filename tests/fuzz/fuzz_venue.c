/*
 * fuzz_venue.c - libFuzzer target for the venue core: whole client
 * messages, moderation included, go through venue_message on a venue with
 * several sessions of different roles, interleaved with ticks, dropped
 * connections, resumes and restarts, and every frame the core queues is
 * checked.
 *
 * The input is a script of lines separated by '\n' (so a message cannot
 * hold a raw newline; JSON needs none). The first byte of a line says what
 * it does; the rest is its argument:
 *
 *   0..7 TEXT  slot 0..7 sends TEXT as one client message. A slot that
 *              was never used in this input first connects and says hello
 *              as its identity; a slot whose connection is gone (closed
 *              by the core, or 'd') drops the message.
 *   h K        slot K (the second byte, any byte b being slot b % 8, so
 *              '0'..'7' are 0..7) says hello as its identity, on a new
 *              connection if it has none
 *   r K        slot K opens a new connection (dropping its old one) and
 *              says hello with the last resume token it was given
 *   c K        slot K opens a new connection and says nothing
 *   d K        slot K's connection drops (venue_disconnect)
 *   z K        slot K sent an oversized message (venue_too_large)
 *   p K        slot K stops reading its queue, or starts again
 *   t MS       the clock moves MS milliseconds (decimal, 50 when absent, at
 *              most 600000) and the venue ticks
 *   S          restart: venue_shutdown, venue_free, venue_new on the same
 *              store (saved sessions come back, resumable)
 *   R          the same, and the new venue has --registration required if
 *              the old one was open, or open if it was required
 *   {...       the whole line is a message from slot 0 (so a file of one
 *              JSON message, like the parser's cases, is a script too)
 *   #...       a comment; so is an empty line or any other first byte
 *
 * In TEXT, "$uN" becomes a user id (N is 0..8): the one slot N was last
 * welcomed as, else identity N's registered id; "$rN" the last resume
 * token slot N was given; "$tN" identity N's registration token ("" for
 * the guests).
 *
 * The identities: slot 0 an admin, 1 and 2 moderators, 3 a speaker, 4 and
 * 5 attendees, 6 and 7 guests; identity 8 is an attendee without a slot,
 * whose token any slot may use.
 *
 * Set up once, on the first input: the scenes of scenes/demo (under
 * $VENUE_ROOT, or the working directory or its parents), a store and
 * registry in a temporary folder (on /dev/shm when there is one; removed
 * at exit, on a failed check, or by the next run if the process died)
 * with those users registered. Each input
 * gets a new venue on a store reset to that state, at the same clock and
 * wall time, so an input replays the same way on its own as in a run.
 *
 * Checked after every step: each frame is a JSON object with a known
 * "type" and the fields a client relies on (a known error code; poses
 * ticks rising on a connection and never the receiver's own avatar; chat,
 * presence, room and announce frames for the room the client is in; "re"
 * only on replies; nobody twice in a roster, the joiner in it); a session
 * with frames queued was woken; no queue holds more than its bound; the
 * core calls wake, bind and close only for connections it has not
 * forgotten, and never closes a new connection as too slow before it
 * could read; every participant appears once, every welcomed connection
 * as connected; a session removed by a moderator is never resumed. After
 * a tick, an overflow room's last stage frame lists who stands on its
 * hall's stage. After everyone leaves and the resume grace passes, the
 * venue is empty.
 * A failed check aborts; ASan and UBSan catch the rest.
 *
 * Built with clang -fsanitize=fuzzer (see README.md) or, under gcc, with
 * replay_main.c, which runs the stored inputs through it as a CTest test.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "config.h"
#include "outq.h"
#include "proto.h"
#include "registry.h"
#include "scene.h"
#include "store.h"
#include "venue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSLOTS      8
#define NIDENT      9 /* the slots' identities, and one attendee without a slot */
#define MAX_STEPS   2048
#define TICK_MAX_MS 600000
#define NOW0        1000000LL
#define WALL0       1767225600000LL /* 2026-01-01, fixed so that bans and mutes replay */

/* Small queues, so that inputs of a few lines reach the bounds. */
#define QUEUE_FRAMES 64
#define QUEUE_BYTES  32768

/* The store's folder: fuzz-venue-PID-XXXXXX under /dev/shm (or /tmp). */
static char dir[PATH_MAX];
static bool have_dir;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void remove_dir(const char *path);

static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz_venue: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    /* abort() runs no atexit handler: take the store's folder with us. */
    if (have_dir)
        remove_dir(dir);
    abort();
}

#define FUZZ_REQUIRE(cond)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail("%s:%d: %s", __FILE__, __LINE__, #cond);                                          \
    } while (0)

struct ident {
    const char *name;
    enum role role;
    char id[REG_ID_MAX];           /* registered users; "" for guests */
    char token[REG_TOKEN_LEN + 1]; /* "" for guests */
};

static struct ident idents[NIDENT] = {
    {"Ada Admin", ROLE_ADMIN, "", ""},         {"Mo Moderator", ROLE_MODERATOR, "", ""},
    {"Mia Moderator", ROLE_MODERATOR, "", ""}, {"Sam Speaker", ROLE_SPEAKER, "", ""},
    {"Ann Attendee", ROLE_ATTENDEE, "", ""},   {"Art Attendee", ROLE_ATTENDEE, "", ""},
    {"Gus Guest", ROLE_GUEST, "", ""},         {"Gia Guest", ROLE_GUEST, "", ""},
    {"Otto Offline", ROLE_ATTENDEE, "", ""},
};

/* One connection of the fake transport. Freed as soon as the core has
 * forgotten it: a late callback for it fails live() (and would be a use
 * after free). */
struct conn {
    int slot;
    struct session *s;
    char user_id[PROTO_USER_ID_MAX + 1]; /* from the welcome on this connection */
    char session[PROTO_USER_ID_MAX + 1]; /* the session id of that welcome */
    bool room_known;                     /* room below is what the client was told */
    char room[PROTO_ROOM_MAX + 1];       /* "" for no room */
    long long poses_tick;
    unsigned wakes; /* since the last drain */
    size_t read;    /* frames written to it so far */
    bool stage_known;
    char stage[512]; /* the ids of the last stage frame, sorted, space-separated */
};

struct slot {
    struct conn *c; /* the live connection, or NULL */
    bool used;      /* connected at least once in this input */
    bool paused;    /* not reading its queue */
    char user_id[PROTO_USER_ID_MAX + 1];
    char resume[PROTO_TOKEN_MAX + 1];
};

static bool ready;
static bool trace;
static struct scene_set scenes;
static struct store *st;
static struct registry *reg;
static struct venue_config cfg;
#define NRESET 16
static sqlite3_stmt *reset_stmt[NRESET]; /* prepared once: parsing costs more than running */
static size_t nreset;

static struct venue *v;
static struct slot slots[NSLOTS];
/* Sessions removed by a moderator (closed 4003) in this input: they must
 * never be resumed. */
#define MAX_REMOVED 64
static char removed[MAX_REMOVED][PROTO_USER_ID_MAX + 1];
static size_t nremoved;
static long long now;

static int live_conns(void)
{
    int n = 0;
    for (int k = 0; k < NSLOTS; k++)
        n += slots[k].c != NULL;
    return n;
}

/* The slot whose live connection conn is; fails for one the core should
 * have forgotten. Looks the pointer up before touching it. */
static struct conn *live(void *conn, const char *what)
{
    for (int k = 0; k < NSLOTS; k++)
        if (slots[k].c && slots[k].c == conn)
            return slots[k].c;
    fail("io.%s for a connection the core had already forgotten", what);
}

/* The core has forgotten c (closed it, or the transport told it so). */
static void forget(struct conn *c)
{
    slots[c->slot].c = NULL;
    venue_metrics(v)->connections--;
    free(c);
}

/* ---- frame checks ---- */

/* "twin" (issue 9): no input feeds twins yet, but a room that shows
 * them may speak of them. */
static const char *const server_types[] = {
    "welcome",
    "joined",
    "left",
    "presence",
    "poses",
    "chat",
    "error",
    "pose",
    "scene",
    "mod_ok",
    "kicked",
    "announce",
    "room",
    "breakout",
    "stage",
    "twin",
    /* issue 10: the programme and the stage */
    "programme",
    "session",
    "stars",
    "reminder",
    "slides",
    "caption",
    "questions",
    "question",
    "floor",
};
#define NSERVER_TYPES (sizeof(server_types) / sizeof(*server_types))

static const char *const error_codes[] = {
    "bad_request", "unknown_type", "unauthorized", "not_in_room", "not_found",
    "room_full",   "rate_limited", "forbidden",    "too_large",   "unavailable",
};
#define NERROR_CODES (sizeof(error_codes) / sizeof(*error_codes))

static const char *const reply_types[] = {"welcome", "joined", "left", "error", "mod_ok"};
#define NREPLY_TYPES (sizeof(reply_types) / sizeof(*reply_types))

static bool one_of(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static const char *str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static bool vec(json_t *a, size_t n)
{
    if (!json_is_array(a) || json_array_size(a) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!json_is_number(json_array_get(a, i)))
            return false;
    return true;
}

static bool user_ok(json_t *u)
{
    const char *role = str(u, "role");
    return str(u, "id") && str(u, "name") && role &&
           (strcmp(role, "guest") == 0 || strcmp(role, "attendee") == 0 ||
            strcmp(role, "speaker") == 0 || strcmp(role, "moderator") == 0 ||
            strcmp(role, "admin") == 0) &&
           json_is_boolean(json_object_get(u, "hand")) && vec(json_object_get(u, "p"), 3) &&
           vec(json_object_get(u, "q"), 4);
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ids[0..n) sorted and joined with spaces into out. */
static void id_list(char *out, size_t size, const char **ids, size_t n)
{
    size_t len = 0;
    qsort(ids, n, sizeof(*ids), by_str);
    out[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? " " : "", ids[i]);
}

/* A frame naming a room must name the one the client is in, once known. */
static bool in_room(const struct conn *c, const char *room)
{
    return !c->room_known || (room && strcmp(room, c->room) == 0);
}

static void set_room(struct conn *c, const char *room)
{
    c->room_known = true;
    c->stage_known = false; /* a stage frame follows joined in an overflow room */
    snprintf(c->room, sizeof(c->room), "%s", room ? room : "");
}

/* Check one frame the transport would write to c (NULL: a close's last
 * frame, checked for form only) and follow what it tells the client. */
static void check_frame(struct conn *c, struct frame *f)
{
    const char *text = (const char *)frame_data(f);
    json_error_t je;
    json_t *j = json_loadb(text, f->len, JSON_REJECT_DUPLICATES, &je);
    const char *type = j ? str(j, "type") : NULL;
    bool ok = true;

    if (!j || !json_is_object(j) || !one_of(type, server_types, NSERVER_TYPES))
        fail("frame is not a JSON object of a known type (%s): %.*s", j ? "type" : je.text,
             (int)f->len, text);
    /* Only a reply answers a request; frames for others carry no "re". */
    if (json_object_get(j, "re") &&
        (!one_of(type, reply_types, NREPLY_TYPES) ||
         !(json_is_string(json_object_get(j, "re")) || json_is_integer(json_object_get(j, "re")))))
        fail("\"re\" where no reply is: %.*s", (int)f->len, text);
    if (strcmp(type, "error") == 0) {
        ok = one_of(str(j, "code"), error_codes, NERROR_CODES) && str(j, "message");
    } else if (strcmp(type, "welcome") == 0) {
        json_t *u = json_object_get(j, "user");
        ok = str(j, "session") && str(j, "resume") && str(u, "id") &&
             json_is_array(json_object_get(j, "rooms"));
        for (size_t i = 0; ok && i < nremoved; i++)
            if (strcmp(removed[i], str(j, "session")) == 0)
                fail("session %s was removed by a moderator and then resumed", removed[i]);
        if (ok && c) {
            struct slot *sl = &slots[c->slot];
            snprintf(c->user_id, sizeof(c->user_id), "%s", str(u, "id"));
            snprintf(c->session, sizeof(c->session), "%s", str(j, "session"));
            snprintf(sl->user_id, sizeof(sl->user_id), "%s", str(u, "id"));
            snprintf(sl->resume, sizeof(sl->resume), "%s", str(j, "resume"));
            c->room_known = false; /* a resumed session hears its room next */
            c->poses_tick = -1;
        }
    } else if (strcmp(type, "joined") == 0) {
        json_t *roster = json_object_get(j, "roster"), *u;
        const char *room = str(json_object_get(j, "room"), "id");
        bool self = false;
        size_t i;
        ok = room && json_is_array(roster);
        json_array_foreach(roster, i, u)
        {
            ok = ok && user_ok(u);
            self = self || (c && str(u, "id") && strcmp(str(u, "id"), c->user_id) == 0);
            for (size_t k = 0; ok && k < i; k++)
                if (strcmp(str(u, "id"), str(json_array_get(roster, k), "id")) == 0)
                    fail("joined lists %s twice: %.*s", str(u, "id"), (int)f->len, text);
        }
        /* "everyone in the room, you included" */
        if (ok && c && c->user_id[0] && !self)
            fail("joined without the joiner in its roster: %.*s", (int)f->len, text);
        if (ok && c)
            set_room(c, room);
    } else if (strcmp(type, "left") == 0) {
        ok = str(j, "room") && (!c || in_room(c, str(j, "room")));
        if (ok && c)
            set_room(c, NULL);
    } else if (strcmp(type, "kicked") == 0) {
        json_t *room = json_object_get(j, "room");
        ok = str(j, "reason") && (json_is_null(room) || json_is_string(room));
        if (ok && c && json_is_string(room)) {
            ok = in_room(c, json_string_value(room));
            set_room(c, NULL);
        }
    } else if (strcmp(type, "presence") == 0) {
        const char *ev = str(j, "event");
        ok = ev &&
             (strcmp(ev, "join") == 0 || strcmp(ev, "leave") == 0 || strcmp(ev, "update") == 0) &&
             user_ok(json_object_get(j, "user")) && (!c || in_room(c, str(j, "room")));
    } else if (strcmp(type, "chat") == 0) {
        ok = str(j, "text") && str(json_object_get(j, "from"), "id") &&
             json_is_integer(json_object_get(j, "ts")) && (!c || in_room(c, str(j, "room")));
    } else if (strcmp(type, "room") == 0) {
        ok = json_is_boolean(json_object_get(j, "locked")) &&
             json_is_integer(json_object_get(j, "capacity")) && (!c || in_room(c, str(j, "room")));
    } else if (strcmp(type, "announce") == 0) {
        json_t *room = json_object_get(j, "room");
        ok = str(j, "text") &&
             (json_is_null(room) ||
              (json_is_string(room) && (!c || in_room(c, json_string_value(room)))));
    } else if (strcmp(type, "poses") == 0) {
        json_t *users = json_object_get(j, "users"), *u;
        json_t *tick = json_object_get(j, "tick");
        size_t i;
        ok = json_is_integer(tick) && json_is_array(users) && json_array_size(users) > 0;
        json_array_foreach(users, i, u)
        {
            ok = ok && str(u, "id") && vec(json_object_get(u, "p"), 3) &&
                 vec(json_object_get(u, "q"), 4);
            /* "Your own avatar is never in a poses frame sent to you" */
            if (ok && c && strcmp(str(u, "id"), c->user_id) == 0)
                fail("poses frame holds the receiver's own avatar: %.*s", (int)f->len, text);
        }
        /* "tick increases strictly from frame to frame on one connection" */
        if (ok && c) {
            if (json_integer_value(tick) <= c->poses_tick)
                fail("poses tick %lld after %lld on one connection",
                     (long long)json_integer_value(tick), c->poses_tick);
            c->poses_tick = json_integer_value(tick);
        }
    } else if (strcmp(type, "pose") == 0) {
        ok = vec(json_object_get(j, "p"), 3) && vec(json_object_get(j, "q"), 4) && str(j, "reason");
    } else if (strcmp(type, "mod_ok") == 0) {
        ok = str(j, "action") != NULL;
    } else if (strcmp(type, "breakout") == 0) {
        ok = str(j, "room") && str(j, "return_to") && json_is_integer(json_object_get(j, "ends"));
    } else if (strcmp(type, "stage") == 0) {
        /* Only an overflow room hears its hall's stage. */
        const struct scene *hall = scene_set_find(&scenes, str(j, "room") ? str(j, "room") : "");
        ok = hall && json_is_array(json_object_get(j, "users")) &&
             (!c || !c->room_known || strcmp(hall->overflow, c->room) == 0);
        if (ok && c) {
            json_t *u;
            size_t i, n = 0;
            const char *ids[64];
            json_array_foreach(json_object_get(j, "users"), i, u) if (n < 64) ids[n++] =
                str(u, "id") ? str(u, "id") : "";
            id_list(c->stage, sizeof(c->stage), ids, n);
            c->stage_known = true;
        }
    } else if (strcmp(type, "scene") == 0) {
        ok = str(j, "room") && str(j, "scene");
    } else if (strcmp(type, "twin") == 0) {
        ok = str(j, "entity") && json_is_object(json_object_get(j, "attrs"));
    } else if (strcmp(type, "programme") == 0) {
        ok = json_is_array(json_object_get(j, "sessions"));
    }
    if (!ok)
        fail("malformed %s frame%s: %.*s", type, c ? "" : " (a close's last frame)", (int)f->len,
             text);
    if (trace)
        fprintf(stderr, "    -> %d: %.*s\n", c ? c->slot : -1, (int)f->len, text);
    json_decref(j);
}

/* Write out slot k's queue, as the transport would when woken. */
static void drain(int k, bool force)
{
    struct conn *c = slots[k].c;
    struct frame *f;
    size_t n = 0, bytes = 0;

    if (!c || (slots[k].paused && !force))
        return;
    while ((f = venue_peek(c->s))) {
        n++;
        bytes += f->len;
        check_frame(c, f);
        venue_sent(v, c->s, now);
        c->read++;
    }
    if (n > QUEUE_FRAMES || bytes > QUEUE_BYTES)
        fail("slot %d's queue held %zu frames, %zu bytes: over its bound", k, n, bytes);
    if (n && !c->wakes)
        fail("slot %d had %zu frames queued and was never woken to write them", k, n);
    c->wakes = 0;
}

static void drain_all(bool force)
{
    for (int k = 0; k < NSLOTS; k++)
        drain(k, force);
}

/* ---- the fake transport ---- */

static void io_wake(void *ctx, void *conn)
{
    (void)ctx;
    live(conn, "wake")->wakes++;
}

static void io_close(void *ctx, void *conn, int code, const char *reason, struct frame *last)
{
    struct conn *c = live(conn, "close");
    (void)ctx;
    if (code != VENUE_CLOSE_GOING_AWAY && code != VENUE_CLOSE_POLICY &&
        code != VENUE_CLOSE_TOO_LARGE && code != VENUE_CLOSE_UNAUTHORIZED &&
        code != VENUE_CLOSE_RESUMED && code != VENUE_CLOSE_REMOVED)
        fail("close with code %d", code);
    FUZZ_REQUIRE(reason != NULL);
    if (trace)
        fprintf(stderr, "    -> %d: close %d %s\n", c->slot, code, reason);
    if (last)
        check_frame(NULL, last);
    if (code == VENUE_CLOSE_REMOVED && c->session[0] && nremoved < MAX_REMOVED)
        snprintf(removed[nremoved++], sizeof(*removed), "%s", c->session);
    /* Every step is followed by a drain, so a connection that reads is
     * never slow: one that has not been given its first frame yet cannot
     * be "too slow". */
    if (code == VENUE_CLOSE_POLICY && strncmp(reason, "too slow", 8) == 0 && !c->read &&
        !slots[c->slot].paused)
        fail("slot %d's new connection was closed as %s before it could read a frame", c->slot,
             reason);
    forget(c);
}

static void io_bind(void *ctx, void *conn, struct session *s)
{
    struct conn *c = live(conn, "bind");
    (void)ctx;
    FUZZ_REQUIRE(s != NULL);
    c->s = s;
    c->room_known = false;
    c->stage_known = false;
    c->poses_tick = -1;
}

static const struct venue_io fake_io = {.wake = io_wake, .close = io_close, .bind = io_bind};

/* ---- invariants of the whole venue ---- */

struct census {
    char (*ids)[PROTO_USER_ID_MAX + 1];
    size_t n, cap;
    size_t connected;
};

static void count_person(void *arg, const struct venue_person_view *p)
{
    struct census *cs = arg;
    FUZZ_REQUIRE(p->user.id && p->user.name && p->user.name[0] && p->user.role);
    for (size_t i = 0; i < cs->n; i++)
        if (strcmp(cs->ids[i], p->user.id) == 0)
            fail("user %s is in the venue twice", p->user.id);
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? cs->cap * 2 : 32;
        cs->ids = realloc(cs->ids, cs->cap * sizeof(*cs->ids));
        FUZZ_REQUIRE(cs->ids);
    }
    snprintf(cs->ids[cs->n++], sizeof(*cs->ids), "%s", p->user.id);
    cs->connected += p->connected;
}

static void check_venue(void)
{
    struct census cs = {0};
    size_t nrooms = venue_room_count(v), listed = 0;
    const struct metrics *m = venue_metrics_get(v);

    FUZZ_REQUIRE(nrooms == scenes.n);
    for (size_t i = 0; i < nrooms; i++) {
        struct venue_room_view rv;
        size_t before = cs.n;
        venue_room_get(v, i, &rv);
        FUZZ_REQUIRE(rv.id && rv.capacity > 0 && rv.count >= 0);
        venue_room_people(v, i, count_person, &cs);
        FUZZ_REQUIRE(cs.n - before == (size_t)rv.count);
        listed += (size_t)rv.count;
    }
    venue_room_people(v, SIZE_MAX, count_person, &cs);
    FUZZ_REQUIRE(listed <= cs.n);
    /* The transport's count, kept here as ws_adapter keeps it. */
    FUZZ_REQUIRE(m->connections == live_conns());
    if (cs.connected > (size_t)live_conns())
        fail("%zu participants connected on %d connections", cs.connected, live_conns());
    /* A connection that was welcomed carries a participant until it is
     * closed. */
    for (int k = 0; k < NSLOTS; k++) {
        struct conn *c = slots[k].c;
        bool found = false;
        if (!c || !c->user_id[0])
            continue;
        for (size_t i = 0; i < cs.n && !found; i++)
            found = strcmp(cs.ids[i], c->user_id) == 0;
        if (!found)
            fail("slot %d's connection is open but its participant %s is gone", k, c->user_id);
    }
    free(cs.ids);
}

/* The stage volume of the hall whose overflow room is room, or NULL. */
static const struct scene_place *hall_stage(const char *room, size_t *hall)
{
    for (size_t i = 0; i < scenes.n; i++) {
        const struct scene *sc = scenes.scenes[i];
        const struct scene_place *stage = NULL;
        if (strcmp(sc->overflow, room) != 0)
            continue;
        for (size_t k = 0; k < sc->nplaces; k++)
            if (sc->places[k].type == SCENE_PLACE_STAGE && sc->places[k].has_volume)
                stage = &sc->places[k];
        *hall = i;
        return stage;
    }
    return NULL;
}

struct on_stage {
    const struct scene *hall;
    const struct scene_place *stage;
    const char *ids[64];
    size_t n;
};

static void stage_person(void *arg, const struct venue_person_view *p)
{
    struct on_stage *os = arg;
    if (os->n < 64 && scene_place_at(os->hall, SCENE_PLACE_STAGE, p->user.p) == os->stage)
        os->ids[os->n++] = p->user.id;
}

/*
 * After a tick, an overflow room has been told who stands on its hall's
 * stage ("a stage message listing who is on the hall's stage"): the last
 * stage frame each reader in it got must list exactly the hall's people
 * whose position is in the stage's volume, however they got there.
 */
static void check_stages(void)
{
    for (int k = 0; k < NSLOTS; k++) {
        struct conn *c = slots[k].c;
        const struct scene_place *stage;
        struct on_stage os = {0};
        size_t hall;
        char want[sizeof(c->stage)];
        if (!c || slots[k].paused || !c->room_known || !c->stage_known ||
            !(stage = hall_stage(c->room, &hall)))
            continue;
        os.hall = scenes.scenes[hall];
        os.stage = stage;
        /* Rooms are in scene order (venue_room_get). */
        venue_room_people(v, hall, stage_person, &os);
        id_list(want, sizeof(want), os.ids, os.n);
        if (strcmp(want, c->stage) != 0)
            fail("slot %d in %s was told the stage holds [%s], but [%s] stand on it", k, c->room,
                 c->stage, want);
    }
}

/* ---- set-up ---- */

/* The store's files and their folder. */
static void remove_dir(const char *path)
{
    static const char *const files[] = {"venue.db", "venue.db-wal", "venue.db-shm",
                                        "venue.db-journal"};
    char file[PATH_MAX + 32];
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
        snprintf(file, sizeof(file), "%s/%s", path, files[i]);
        unlink(file);
    }
    rmdir(path);
}

/* Folders left by runs that died without cleaning up (a sanitizer report,
 * a timeout, libFuzzer's fork mode killing a job): those whose process is
 * gone. */
static void sweep(const char *base)
{
    DIR *d = opendir(base);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[PATH_MAX];
        int pid;
        if (sscanf(e->d_name, "fuzz-venue-%d-", &pid) != 1 || pid <= 0 || kill(pid, 0) == 0 ||
            errno != ESRCH)
            continue;
        snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
        remove_dir(path);
    }
    if (d)
        closedir(d);
}

static void cleanup(void)
{
    for (size_t i = 0; i < nreset; i++)
        sqlite3_finalize(reset_stmt[i]);
    registry_close(reg);
    store_close(st);
    remove_dir(dir);
    have_dir = false;
    scene_set_free(&scenes);
}

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void load_scenes(void)
{
    static const char *const guesses[] = {"scenes/demo", "../scenes/demo", "../../scenes/demo"};
    const char *root = getenv("VENUE_ROOT");
    char path[PATH_MAX], err[512];

    path[0] = '\0';
    if (root)
        snprintf(path, sizeof(path), "%s/scenes/demo", root);
    for (size_t i = 0; !root && i < sizeof(guesses) / sizeof(*guesses); i++)
        if (is_dir(guesses[i])) {
            snprintf(path, sizeof(path), "%s", guesses[i]);
            break;
        }
    if (!path[0])
        fail("no scenes/demo here; set VENUE_ROOT to the repository");
    if (scene_set_load(path, &scenes, err, sizeof(err)) < 0)
        fail("scenes %s: %s", path, err);
}

/* What an input may change in the store, put back before the next one:
 * sanctions, room settings, the audit log, last poses (they decide where
 * people arrive), saved sessions, guests, and the registered roles
 * (promote and demote write them). */
static void prepare_reset(void)
{
    sqlite3 *db = (sqlite3 *)store_db(st);
    char sql[2048];
    const char *tail = sql;
    size_t len =
        (size_t)snprintf(sql, sizeof(sql),
                         "BEGIN; DELETE FROM sanctions; DELETE FROM room_settings; "
                         "DELETE FROM audit; DELETE FROM last_poses; "
                         "DELETE FROM saved_sessions; DELETE FROM users WHERE registered = 0; "
                         "UPDATE users SET role = CASE id");
    for (int i = 0; i < NIDENT; i++)
        if (idents[i].id[0])
            len += (size_t)snprintf(sql + len, sizeof(sql) - len, " WHEN '%s' THEN '%s'",
                                    idents[i].id, role_name(idents[i].role));
    snprintf(sql + len, sizeof(sql) - len, " ELSE role END; COMMIT;");
    FUZZ_REQUIRE(len + 32 < sizeof(sql));
    while (*tail) {
        FUZZ_REQUIRE(nreset < NRESET);
        if (sqlite3_prepare_v2(db, tail, -1, &reset_stmt[nreset], &tail) != SQLITE_OK)
            fail("store reset: %s", sqlite3_errmsg(db));
        nreset += reset_stmt[nreset] != NULL;
    }
}

static void reset_store(void)
{
    for (size_t i = 0; i < nreset; i++) {
        if (sqlite3_step(reset_stmt[i]) != SQLITE_DONE)
            fail("store reset: %s", sqlite3_errmsg((sqlite3 *)store_db(st)));
        sqlite3_reset(reset_stmt[i]);
    }
}

static void setup(void)
{
    char err[512];

    trace = getenv("VENUE_FUZZ_TRACE") != NULL;
    config_defaults(&cfg);
    cfg.queue_frames = QUEUE_FRAMES;
    cfg.queue_max = QUEUE_BYTES;
    load_scenes();
    /* No bulk page cache allocation for each temporary b-tree: the
     * registry's sanction query makes one per call, and allocating and
     * touching it was most of an input's time. */
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
    {
        const char *base = is_dir("/dev/shm") ? "/dev/shm" : "/tmp";
        sweep(base);
        snprintf(dir, sizeof(dir), "%s/fuzz-venue-%d-XXXXXX", base, (int)getpid());
    }
    if (!mkdtemp(dir))
        fail("mkdtemp %s: %s", dir, strerror(errno));
    have_dir = true;
    if (!(st = store_open(dir, err, sizeof(err))) || !(reg = registry_open(st, err, sizeof(err))))
        fail("store in %s: %s", dir, err);
    /* Nothing here needs to survive a power cut, and fsync or a WAL file
     * would cap the execs per second and fill /dev/shm. */
    sqlite3_exec((sqlite3 *)store_db(st),
                 "PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; "
                 "PRAGMA journal_mode = MEMORY",
                 NULL, NULL, NULL);
    for (int i = 0; i < NIDENT; i++) {
        struct reg_user u;
        if (idents[i].role == ROLE_GUEST)
            continue;
        if (registry_user_add(reg, idents[i].name, "Fuzz City", idents[i].role, 0, WALL0 - 1000, &u,
                              idents[i].token, err, sizeof(err)) < 0)
            fail("registry_user_add: %s", err);
        snprintf(idents[i].id, sizeof(idents[i].id), "%s", u.id);
    }
    prepare_reset();
    atexit(cleanup);
    ready = true;
}

static void open_venue(void)
{
    char err[256];
    v = venue_new(&cfg, &fake_io, &scenes, st, reg, now, err, sizeof(err));
    if (!v)
        fail("venue_new: %s", err);
    venue_set_wall(v, WALL0 + (now - NOW0), now);
}

/* ---- the steps of an input ---- */

/* A new connection for slot k, dropping the one it had. */
static struct conn *connect_slot(int k)
{
    struct slot *sl = &slots[k];
    struct conn *c;

    if (sl->c) {
        venue_disconnect(v, sl->c->s, now);
        forget(sl->c);
    }
    sl->used = true;
    c = calloc(1, sizeof(*c));
    FUZZ_REQUIRE(c);
    c->slot = k;
    c->poses_tick = -1;
    c->s = venue_connect(v, c, now);
    if (!c->s) {
        free(c);
        return NULL;
    }
    sl->c = c;
    venue_metrics(v)->connections++;
    return c;
}

/* Send text (placeholders already replaced) from slot k, if connected. */
static void send_text(int k, const char *text, size_t len)
{
    /* An exact-size heap copy, so ASan sees reads past the end. */
    char *copy = malloc(len ? len : 1);
    FUZZ_REQUIRE(copy);
    memcpy(copy, text, len);
    if (trace)
        fprintf(stderr, "  %d <- %.*s\n", k, (int)len, text);
    if (slots[k].c)
        venue_message(v, slots[k].c->s, copy, len, now);
    free(copy);
}

static void hello_as(int k)
{
    char text[256];
    const struct ident *id = &idents[k];
    if (id->token[0])
        snprintf(text, sizeof(text),
                 "{\"type\":\"hello\",\"id\":\"h%d\",\"name\":\"%s\",\"token\":\"%s\"}", k,
                 id->name, id->token);
    else
        snprintf(text, sizeof(text), "{\"type\":\"hello\",\"id\":\"h%d\",\"name\":\"%s\"}", k,
                 id->name);
    send_text(k, text, strlen(text));
}

static void hello_resume(int k)
{
    char text[256];
    snprintf(text, sizeof(text),
             "{\"type\":\"hello\",\"id\":\"r%d\",\"name\":\"%s\",\"resume\":\"%s\"}", k,
             idents[k].name, slots[k].resume[0] ? slots[k].resume : "no-such-token");
    send_text(k, text, strlen(text));
}

/* What "$uN", "$rN" and "$tN" stand for, or NULL. */
static const char *placeholder(char kind, int n)
{
    switch (kind) {
    case 'u':
        if (n < NSLOTS && slots[n].user_id[0])
            return slots[n].user_id;
        return idents[n].id[0] ? idents[n].id : "u-0000000000000000";
    case 'r':
        return n < NSLOTS ? slots[n].resume : "";
    case 't':
        return idents[n].token;
    default:
        return NULL;
    }
}

/* text with its placeholders replaced, in a new buffer of *out_len bytes. */
static char *expand(const char *text, size_t len, size_t *out_len)
{
    size_t cap = len + 1, n = 0;
    char *out = malloc(cap);
    FUZZ_REQUIRE(out);
    for (size_t i = 0; i < len; i++) {
        const char *sub = NULL;
        if (text[i] == '$' && i + 2 < len && text[i + 2] >= '0' && text[i + 2] < '0' + NIDENT)
            sub = placeholder(text[i + 1], text[i + 2] - '0');
        size_t add = sub ? strlen(sub) : 1;
        if (n + add + 1 > cap) {
            cap = (n + add + 1) * 2;
            out = realloc(out, cap);
            FUZZ_REQUIRE(out);
        }
        if (sub) {
            memcpy(out + n, sub, add);
            i += 2;
        } else {
            out[n] = text[i];
        }
        n += add;
    }
    *out_len = n;
    return out;
}

static void restart(bool flip_registration)
{
    if (flip_registration)
        snprintf(cfg.registration, sizeof(cfg.registration), "%s",
                 strcmp(cfg.registration, "open") == 0 ? "required" : "open");
    venue_shutdown(v, now);
    FUZZ_REQUIRE(live_conns() == 0); /* everyone was closed with 1001 */
    venue_free(v);
    open_venue();
}

static void step(const char *line, size_t len)
{
    uint8_t op = (uint8_t)line[0];
    int k = len > 1 ? (uint8_t)line[1] % NSLOTS : 0;

    if (trace)
        fprintf(stderr, "step %.*s\n", (int)(len < 200 ? len : 200), line);
    if ((op >= '0' && op <= '7') || op == '{') {
        size_t n, skip = op == '{' ? 0 : 1;
        char *text;
        k = op == '{' ? 0 : op - '0';
        if (!slots[k].used && connect_slot(k))
            hello_as(k);
        drain_all(false);
        text = expand(line + skip, len - skip, &n);
        send_text(k, text, n);
        free(text);
        return;
    }
    switch (op) {
    case 'h':
        if (slots[k].c || connect_slot(k))
            hello_as(k);
        break;
    case 'r':
        if (connect_slot(k))
            hello_resume(k);
        break;
    case 'c':
        connect_slot(k);
        break;
    case 'd':
        if (slots[k].c) {
            venue_disconnect(v, slots[k].c->s, now);
            forget(slots[k].c);
        }
        break;
    case 'z':
        if (slots[k].c) {
            venue_too_large(v, slots[k].c->s, now);
            forget(slots[k].c);
        }
        break;
    case 'p':
        slots[k].paused = !slots[k].paused;
        break;
    case 't': {
        long long ms = 0;
        size_t i = 1, digits = 0;
        for (; i < len && digits < 7 && isdigit((unsigned char)line[i]); i++, digits++)
            ms = ms * 10 + (line[i] - '0');
        if (!digits)
            ms = 50;
        now += ms < TICK_MAX_MS ? ms : TICK_MAX_MS;
        venue_tick(v, now);
        drain_all(false);
        check_stages();
        break;
    }
    case 'S':
    case 'R':
        restart(op == 'R');
        break;
    default: /* '#' comments, and whatever else a mutation makes */
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    int steps = 0;

    if (!ready)
        setup();
    reset_store();
    memset(slots, 0, sizeof(slots));
    nremoved = 0;
    snprintf(cfg.registration, sizeof(cfg.registration), "open");
    now = NOW0;
    open_venue();

    while (p < end && steps < MAX_STEPS) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        if (len) {
            step(p, len);
            steps++;
            drain_all(false);
            check_venue();
        }
        p += len + 1;
    }

    /* Everyone reads what is left, then leaves; once the resume grace is
     * over nobody may remain. */
    drain_all(true);
    for (int k = 0; k < NSLOTS; k++)
        if (slots[k].c) {
            venue_disconnect(v, slots[k].c->s, now);
            forget(slots[k].c);
        }
    now += (cfg.resume_grace_s + 1) * 1000LL;
    venue_tick(v, now);
    check_venue();
    for (size_t i = 0; i < venue_room_count(v); i++) {
        struct venue_room_view rv;
        venue_room_get(v, i, &rv);
        if (rv.count)
            fail("room %s still holds %d after everyone left", rv.id, rv.count);
    }
    {
        struct census cs = {0};
        venue_room_people(v, SIZE_MAX, count_person, &cs);
        if (cs.n)
            fail("%zu participants still in the venue after everyone left", cs.n);
        free(cs.ids);
    }
    venue_free(v);
    v = NULL;
    return 0;
}
