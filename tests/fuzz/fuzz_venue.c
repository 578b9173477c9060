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
 *   H K        the same, asking for binary poses ("poses":"binary")
 *   b K HEX    slot K sends the bytes HEX spells (two hex digits a byte,
 *              anything else skipped) as one binary message
 *   r K        slot K opens a new connection (dropping its old one) and
 *              says hello with the last resume token it was given
 *   c K        slot K opens a new connection and says nothing
 *   d K        slot K's connection drops (venue_disconnect)
 *   z K        slot K sent an oversized message (venue_too_large)
 *   p K        slot K stops reading its queue, or starts again
 *   t MS       the clock moves MS milliseconds (decimal, 50 when absent, at
 *              most 600000) and the venue ticks
 *   M TEXT     TEXT (expanded as below) is a document from another node of
 *              the cluster (venue_mesh_apply): this venue is node "a",
 *              and every document it publishes is checked to be one
 *   G NODE     node NODE is gone (venue_mesh_node_gone); G alone: the
 *              link to the others is lost
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
 * the guests); "$qN" the id of the Nth question (from 0) the venue has
 * announced in this input (999999, no question, before then).
 *
 * The identities: slot 0 an admin, 1 and 2 moderators, 3 a speaker, 4 and
 * 5 attendees, 6 and 7 guests; identity 8 is an attendee without a slot,
 * whose token any slot may use.
 *
 * The programme (the same for every input): "opening" in the plenary, live
 * from WALL0 to 15 minutes on, with a deck of 12 pages, speaker 3,
 * moderator 4 (an attendee: a moderator only there, only while it is
 * live), captioner 5; "panel" in breakout-1 from 10 to 25 minutes,
 * speaker 5, moderator 8, captioner 4; "closing" in the plenary from 15 to
 * 45 minutes, speakers 4 and 8, moderator 5, captioner 3. So a tick past
 * 15 minutes ends the opening and starts the closing; stars, questions,
 * votes, page turns and the floor start empty in each input.
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
 * ticks rising on a connection and never a frame of the receiver's own
 * avatar alone; binary poses frames whole, only to a session that asked
 * for them, naming only people it was told of; chat,
 * presence, room and announce frames for the room the client is in; "re"
 * only on replies; nobody twice in a roster, the joiner in it); a session
 * with frames queued was woken; no queue holds more than its bound; the
 * core calls wake, bind and close only for connections it has not
 * forgotten, and never closes a new connection as too slow before it
 * could read; every participant appears once, every welcomed connection
 * as connected; a session removed by a moderator is never resumed. After
 * a tick, an overflow room's last stage frame lists who stands on its
 * hall's stage (what the tick's own timers changed after its fan-out, a
 * recall or a resume grace running out, after one more tick). After
 * everyone leaves and the resume grace passes, the venue is empty.
 *
 * The programme's frames: session, programme, reminder, slides, caption,
 * question(s) name a session of the programme and its room; slides,
 * captions, questions and the floor reach only the session's room and its
 * overflow, while the client was told the session is live; a session's
 * state only moves on (scheduled, live, ended); a caption comes from a
 * captioner or an admin; a page is within the deck; questions come by
 * votes then time, votes never go down, and "voted" is true only for a
 * vote the store has (false only for one it has not, while no slot has
 * paused); a reminder is for a session the client starred, still
 * scheduled. After every step:
 * everyone's role in the core is the higher of their own (the registry's)
 * and what a live session of their room (or its floor) gives them; each
 * client that reads has been told, by joined and presence, every member
 * of its room with that role, every session's state, its stars as the
 * store has them, and for the live session of its room (or its hall's)
 * the page, the floor and the questions with their votes and answers.
 * A failed check aborts; ASan and UBSan catch the rest.
 *
 * Built with clang -fsanitize=fuzzer (see README.md) or, under gcc, with
 * replay_main.c, which runs the stored inputs through it as a CTest test.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
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

#include "chatlog.h"
#include "config.h"
#include "db.h"
#include "dm.h"
#include "mesh.h"
#include "outq.h"
#include "poses_bin.h"
#include "programme.h"
#include "proto.h"
#include "react.h"
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

#define NPROG        3  /* sessions in the programme */
#define SLIDES_PAGES 12 /* the opening's deck */
#define MIN_MS       60000LL
#define MAX_ROSTER   48     /* members of a room a client's mirror holds */
#define MAX_ASKED    NIDENT /* question ids "$q0".."$q8" name */

/* Small queues, so that inputs of a few lines reach the bounds. */
#define QUEUE_FRAMES 64
#define QUEUE_BYTES  32768

/* The store's folder: fuzz-venue-PID-XXXXXX under /dev/shm (or /tmp). */
static char dir[PATH_MAX];
static bool have_dir;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void remove_dir(const char *path);
static void setup_programme(void);

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

struct seen_user {
    char id[PROTO_USER_ID_MAX + 1];
    char role[16];
    long long ix; /* its index in binary poses; -1 when not told */
};

/* A question as a client was told of it (or as the store has it). */
struct qseen {
    long long id;
    long long votes;
    bool answered;
    bool voted; /* the store's: the user asked about voted for it */
};

struct seen_q {
    struct qseen *q; /* owned */
    size_t n, cap;
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
    bool binary;    /* its welcome said "poses":"binary" */
    unsigned wakes; /* since the last drain */
    size_t read;    /* frames written to it so far */
    bool stage_known;
    char stage[512]; /* the ids of the last stage frame, sorted, space-separated */
    /* What the client was told of its room's people: id and role. */
    struct seen_user roster[MAX_ROSTER];
    size_t nroster;
    bool roster_over; /* more than MAX_ROSTER: not checked until the next joined */
    /* What it was told of the programme, since its welcome. */
    bool prog_known;           /* the programme came */
    signed char pstate[NPROG]; /* each session's state (enum prog_state); -1 unknown */
    bool stars_known;
    bool starred[NPROG];
    /* Of each session's stage, since it joined its room. */
    int page[NPROG]; /* the last slides page; 0 none */
    char floor_user[NPROG][PROTO_USER_ID_MAX + 1];
    long long floor_until[NPROG];
    struct seen_q qs[NPROG];
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
#define NRESET 24
static struct db_stmt *reset_stmt[NRESET]; /* prepared once: parsing costs more than running */
static size_t nreset;

static struct venue *v;
static struct slot slots[NSLOTS];
/* Sessions removed by a moderator (closed 4003) in this input: they must
 * never be resumed. */
#define MAX_REMOVED 64
static char removed[MAX_REMOVED][PROTO_USER_ID_MAX + 1];
static size_t nremoved;
static long long now;
static struct programme *prog;
/* A slot stopped reading in this input: a session's queue (resumed, or
 * taken over by another slot) may then hold frames older than the step
 * that reads them. */
static bool lagged;
/* Question ids in the order the venue announced them, for "$qN". */
static long long asked[MAX_ASKED];
static size_t nasked;

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
    for (int k = 0; k < NPROG; k++)
        free(c->qs[k].q);
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
    "presence_batch",
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
    "breakout_view", /* issue 12: a breakout as its moderators see it */
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
    "voice",
    /* issue 12: finding a person */
    "found",
    "privacy",
    /* and what people say to each other */
    "chat_history",
    "chat_deleted",
    "reactions",
    "dm",
    "blocks",
    "report",
    "reported",
};
#define NSERVER_TYPES (sizeof(server_types) / sizeof(*server_types))

static const char *const error_codes[] = {
    "bad_request", "unknown_type", "unauthorized", "not_in_room", "not_found",
    "room_full",   "rate_limited", "forbidden",    "too_large",   "unavailable",
};
#define NERROR_CODES (sizeof(error_codes) / sizeof(*error_codes))

static const char *const reply_types[] = {"welcome", "joined", "left",    "error",
                                          "mod_ok",  "stars",  "found",   "privacy",
                                          "dm",      "blocks", "reported"};
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

/* ---- the programme, as the checker follows it ---- */

static const struct scene_place *hall_stage(const char *room, size_t *hall);

static const char *const prog_types[] = {"programme", "session",  "stars",     "reminder", "slides",
                                         "caption",   "question", "questions", "floor"};
#define NPROG_TYPES (sizeof(prog_types) / sizeof(*prog_types))

/* The index of session id in the programme (venue_programme_at), or -1. */
static int prog_index(const char *id)
{
    size_t n = venue_programme_count(v);
    for (size_t i = 0; id && i < n && i < NPROG; i++)
        if (strcmp(venue_programme_at(v, i)->id, id) == 0)
            return (int)i;
    return -1;
}

/* enum prog_state of a state's name, or -1. */
static int state_of(const char *name)
{
    for (int state = PROG_SCHEDULED; name && state <= PROG_ENDED; state++)
        if (strcmp(name, prog_state_name((enum prog_state)state)) == 0)
            return state;
    return -1;
}

static bool is_person(const struct prog_session *ps, enum prog_part part, const char *id)
{
    for (size_t i = 0; id && i < ps->npeople[part]; i++)
        if (strcmp(ps->people[part][i], id) == 0)
            return true;
    return false;
}

/* The room whose stage a member of room sees: an overflow room's hall
 * (one with a stage: room_link_stages), else room itself. */
static const char *stage_room(const char *room)
{
    size_t hall;
    return room && room[0] && hall_stage(room, &hall) ? scenes.scenes[hall]->id : room;
}

/* Does a frame of room's stage belong to c (a room not yet known: yes)? */
static bool sees_stage(const struct conn *c, const char *room)
{
    return !c->room_known || (c->room[0] && room && strcmp(stage_room(c->room), room) == 0);
}

static struct seen_user *roster_find(struct conn *c, const char *id)
{
    for (size_t i = 0; id && i < c->nroster; i++)
        if (strcmp(c->roster[i].id, id) == 0)
            return &c->roster[i];
    return NULL;
}

/* What a user object (joined's roster, presence) says of someone. */
static void roster_put(struct conn *c, json_t *user)
{
    const char *id = str(user, "id"), *role = str(user, "role");
    json_t *ix = json_object_get(user, "ix");
    struct seen_user *u = roster_find(c, id);
    if (!u && c->nroster == MAX_ROSTER) {
        c->roster_over = true;
        return;
    }
    if (!u)
        u = &c->roster[c->nroster++];
    snprintf(u->id, sizeof(u->id), "%s", id);
    snprintf(u->role, sizeof(u->role), "%s", role);
    u->ix = json_is_integer(ix) ? json_integer_value(ix) : -1;
}

static void roster_drop(struct conn *c, const char *id)
{
    struct seen_user *u = roster_find(c, id);
    if (u)
        *u = c->roster[--c->nroster];
}

static struct qseen *q_find(struct seen_q *sq, long long id)
{
    for (size_t i = 0; i < sq->n; i++)
        if (sq->q[i].id == id)
            return &sq->q[i];
    return NULL;
}

static struct qseen *q_add(struct seen_q *sq, long long id)
{
    if (sq->n == sq->cap) {
        sq->cap = sq->cap ? sq->cap * 2 : 8;
        sq->q = realloc(sq->q, sq->cap * sizeof(*sq->q));
        FUZZ_REQUIRE(sq->q);
    }
    memset(&sq->q[sq->n], 0, sizeof(*sq->q));
    sq->q[sq->n].id = id;
    return &sq->q[sq->n++];
}

/* A question the venue announced, for "$qN". */
static void q_announce(long long id)
{
    for (size_t i = 0; i < nasked; i++)
        if (asked[i] == id)
            return;
    if (nasked < MAX_ASKED)
        asked[nasked++] = id;
}

static void q_loaded(void *arg, const struct prog_question *q, bool voted)
{
    struct qseen *d = q_add(arg, q->id);
    d->votes = q->votes;
    d->answered = q->answered;
    d->voted = voted;
}

/* The store's questions of session into out; voted for user_id (NULL: nobody). */
static void store_questions(const char *session, const char *user_id, struct seen_q *out)
{
    out->n = 0;
    if (programme_questions_each(prog, session, user_id, q_loaded, out) < 0)
        fail("programme_questions_each: %s", programme_error(prog));
}

/* Scratch for store_questions, kept across calls. */
static struct seen_q scratch_qs[NPROG + 1];

/* c's room changed: what it knew of the old room's people and stage goes. */
static void stage_forget(struct conn *c)
{
    c->nroster = 0;
    c->roster_over = false;
    for (int k = 0; k < NPROG; k++) {
        c->page[k] = 0;
        c->floor_user[k][0] = '\0';
        c->floor_until[k] = 0;
        c->qs[k].n = 0;
    }
}

/* c was welcomed (or taken over by a resume): the programme comes again. */
static void prog_forget(struct conn *c)
{
    c->prog_known = false;
    c->stars_known = false;
    for (int k = 0; k < NPROG; k++) {
        c->pstate[k] = -1;
        c->starred[k] = false;
    }
    stage_forget(c);
}

static void set_room(struct conn *c, const char *room)
{
    c->room_known = true;
    c->stage_known = false; /* a stage frame follows joined in an overflow room */
    snprintf(c->room, sizeof(c->room), "%s", room ? room : "");
    stage_forget(c);
}

static bool person_ok(json_t *p)
{
    return str(p, "id") && str(p, "name");
}

static bool is_int(json_t *o, const char *key)
{
    return json_is_integer(json_object_get(o, key));
}

static long long int_of(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

/* A question object; in questions (with_voted) it also says "voted". */
static bool question_ok(json_t *q, bool with_voted)
{
    json_t *voted = json_object_get(q, "voted");
    return is_int(q, "id") && int_of(q, "id") > 0 && person_ok(json_object_get(q, "from")) &&
           str(q, "text") && str(q, "text")[0] && is_int(q, "votes") && int_of(q, "votes") >= 0 &&
           json_is_boolean(json_object_get(q, "answered")) && is_int(q, "ts") &&
           (with_voted ? json_is_boolean(voted) : voted == NULL);
}

static bool slides_ok(json_t *o, const struct prog_session *ps)
{
    char url[PROTO_SESSION_ID_MAX + 64];
    snprintf(url, sizeof(url), "/api/sessions/%s/slides?v=%d", ps->id, ps->slides_version);
    /* No deck is uploaded during an input: pages and url are the setup's. */
    return is_int(o, "pages") && int_of(o, "pages") == ps->slides_pages && is_int(o, "page") &&
           int_of(o, "page") >= 1 && int_of(o, "page") <= int_of(o, "pages") && str(o, "url") &&
           strcmp(str(o, "url"), url) == 0;
}

static bool programme_frame_ok(struct conn *c, json_t *j, const char *text, int len)
{
    json_t *list = json_object_get(j, "sessions"), *o;
    size_t i;

    if (!json_is_array(list) || json_array_size(list) != venue_programme_count(v))
        return false;
    json_array_foreach(list, i, o)
    {
        const struct prog_session *ps = venue_programme_at(v, i);
        json_t *slides = json_object_get(o, "slides");
        int state = state_of(str(o, "state"));
        if (!str(o, "id") || strcmp(str(o, "id"), ps->id) != 0 || !str(o, "room") ||
            strcmp(str(o, "room"), ps->room) != 0 || !str(o, "title") || !str(o, "description") ||
            !str(o, "start") || !str(o, "end") || state < 0 ||
            !(ps->slides_pages ? slides_ok(slides, ps) : json_is_null(slides)))
            return false;
        for (int part = 0; part < PROG_PART_COUNT; part++) {
            json_t *people = json_object_get(o, prog_part_field((enum prog_part)part)), *u;
            size_t n;
            if (!json_is_array(people) || json_array_size(people) != ps->npeople[part])
                return false;
            json_array_foreach(people, n, u)
            {
                if (!person_ok(u) || strcmp(str(u, "id"), ps->people[part][n]) != 0)
                    return false;
            }
        }
        if (c && c->pstate[i] > state)
            fail("programme says %s is %s after slot %d was told it is %s: %.*s", ps->id,
                 prog_state_name((enum prog_state)state), c->slot,
                 prog_state_name((enum prog_state)c->pstate[i]), len, text);
        if (c)
            c->pstate[i] = (signed char)state;
    }
    if (c)
        c->prog_known = true;
    return true;
}

static bool stars_frame_ok(struct conn *c, json_t *j, const char *text, int len)
{
    json_t *list = json_object_get(j, "sessions"), *x;
    bool seen[NPROG] = {false};
    size_t i;

    if (!json_is_array(list))
        return false;
    json_array_foreach(list, i, x)
    {
        int k = prog_index(json_string_value(x));
        if (k < 0)
            return false;
        if (seen[k])
            fail("stars lists %s twice: %.*s", json_string_value(x), len, text);
        seen[k] = true;
    }
    if (c) {
        memcpy(c->starred, seen, sizeof(seen));
        c->stars_known = true;
    }
    return true;
}

static bool floor_frame_ok(struct conn *c, json_t *j, const char *text, int len)
{
    json_t *u = json_object_get(j, "user"), *until = json_object_get(j, "until");
    const char *room = str(j, "room");
    int live = -1;
    bool unknown = false;

    if (!room ||
        !((json_is_null(u) && json_is_null(until)) || (person_ok(u) && json_is_integer(until))))
        return false;
    if (!c)
        return true;
    if (!sees_stage(c, room))
        fail("floor of %s to slot %d in %s: %.*s", room, c->slot, c->room, len, text);
    /* The floor is the room's live session's: the last one it heard of. */
    for (size_t k = 0; k < venue_programme_count(v); k++) {
        if (strcmp(venue_programme_at(v, k)->room, room) != 0)
            continue;
        unknown = unknown || c->pstate[k] < 0;
        if (c->pstate[k] == PROG_LIVE)
            live = (int)k;
    }
    if (live < 0 && !unknown)
        fail("floor of %s, where slot %d was told no session is live: %.*s", room, c->slot, len,
             text);
    if (live >= 0) {
        snprintf(c->floor_user[live], sizeof(c->floor_user[live]), "%s",
                 json_is_null(u) ? "" : str(u, "id"));
        c->floor_until[live] = json_is_null(u) ? 0 : (long long)json_integer_value(until);
    }
    return true;
}

static bool questions_frame_ok(struct conn *c, int k, json_t *j, const char *text, int len)
{
    const struct prog_session *ps = venue_programme_at(v, (size_t)k);
    json_t *list = json_object_get(j, "questions"), *q;
    struct seen_q *store = &scratch_qs[NPROG];
    size_t i;

    if (!json_is_array(list))
        return false;
    json_array_foreach(list, i, q)
    {
        json_t *prev = i ? json_array_get(list, i - 1) : NULL;
        if (!question_ok(q, true))
            return false;
        /* "by votes then time" */
        if (prev &&
            (int_of(prev, "votes") < int_of(q, "votes") ||
             (int_of(prev, "votes") == int_of(q, "votes") && int_of(prev, "ts") > int_of(q, "ts"))))
            fail("questions not by votes then time: %.*s", len, text);
        q_announce(int_of(q, "id"));
    }
    if (!c)
        return true;
    c->qs[k].n = 0;
    store_questions(ps->id, c->user_id, store);
    json_array_foreach(list, i, q)
    {
        struct qseen *d = q_add(&c->qs[k], int_of(q, "id")), *held = q_find(store, d->id);
        d->votes = int_of(q, "votes");
        d->answered = json_is_true(json_object_get(q, "answered"));
        /* Votes are never taken back: one the receiver made is in the
         * store. And a frame read in the step that made it (a join, or a
         * resume: no vote in between) says every vote the store has. */
        if (json_is_true(json_object_get(q, "voted")) && !(held && held->voted))
            fail("questions tells slot %d it voted for %lld, but the store has no such vote: "
                 "%.*s",
                 c->slot, d->id, len, text);
        if (!json_is_true(json_object_get(q, "voted")) && held && held->voted && !lagged)
            fail("questions tells slot %d it did not vote for %lld, but the store has its vote: "
                 "%.*s",
                 c->slot, d->id, len, text);
    }
    return true;
}

/* One of the programme's frames (prog_types) for c (NULL: a close's last
 * frame): false when malformed; fails on what breaks the rules. */
static bool check_prog_frame(struct conn *c, const char *type, json_t *j, struct frame *f)
{
    const char *text = (const char *)frame_data(f), *room = str(j, "room");
    int len = (int)f->len, k;
    bool is_session = strcmp(type, "session") == 0;
    const struct prog_session *ps;

    if (strcmp(type, "programme") == 0)
        return programme_frame_ok(c, j, text, len);
    if (strcmp(type, "stars") == 0)
        return stars_frame_ok(c, j, text, len);
    if (strcmp(type, "floor") == 0)
        return floor_frame_ok(c, j, text, len);
    k = prog_index(str(j, is_session ? "id" : "session"));
    if (k < 0 || !room)
        return false;
    ps = venue_programme_at(v, (size_t)k);
    if (strcmp(room, ps->room) != 0)
        return false;
    if (is_session) {
        int state = state_of(str(j, "state"));
        if (state < 0)
            return false;
        /* scheduled, live, ended: only onwards, and only when it changes */
        if (c && c->pstate[k] >= state)
            fail("slot %d told %s is %s after it was told %s: %.*s", c->slot, ps->id,
                 prog_state_name((enum prog_state)state),
                 prog_state_name((enum prog_state)c->pstate[k]), len, text);
        if (c)
            c->pstate[k] = (signed char)state;
        return true;
    }
    if (strcmp(type, "reminder") == 0) {
        char start[32];
        proto_time_text(ps->start_ms, start, sizeof(start));
        if (!str(j, "title") || strcmp(str(j, "title"), ps->title) != 0 || !str(j, "start") ||
            strcmp(str(j, "start"), start) != 0)
            return false;
        if (c && c->stars_known && !c->starred[k])
            fail("reminder of %s to slot %d, which has not starred it: %.*s", ps->id, c->slot, len,
                 text);
        if (c && c->pstate[k] >= 0 && c->pstate[k] != PROG_SCHEDULED)
            fail("reminder of %s to slot %d, told it is %s: %.*s", ps->id, c->slot,
                 prog_state_name((enum prog_state)c->pstate[k]), len, text);
        return true;
    }
    /* The rest is the session's stage: its room and overflow hear it, while it is live. */
    if (c && !sees_stage(c, room))
        fail("%s of %s's stage to slot %d in %s: %.*s", type, room, c->slot,
             c->room_known ? c->room : "?", len, text);
    if (c && c->pstate[k] >= 0 && c->pstate[k] != PROG_LIVE)
        fail("%s of %s to slot %d, told it is %s: %.*s", type, ps->id, c->slot,
             prog_state_name((enum prog_state)c->pstate[k]), len, text);
    if (strcmp(type, "slides") == 0) {
        if (!slides_ok(j, ps))
            return false;
        if (c)
            c->page[k] = (int)int_of(j, "page");
        return true;
    }
    if (strcmp(type, "caption") == 0) {
        json_t *from = json_object_get(j, "from");
        if (!person_ok(from) || !str(j, "text") || !str(j, "text")[0] || !is_int(j, "ts"))
            return false;
        if (!is_person(ps, PROG_CAPTIONER, str(from, "id")) &&
            strcmp(str(from, "id"), idents[0].id) != 0)
            fail("caption of %s from %s, neither its captioner nor an admin: %.*s", ps->id,
                 str(from, "id"), len, text);
        return true;
    }
    if (strcmp(type, "question") == 0) {
        json_t *q = json_object_get(j, "question");
        struct qseen *d;
        long long id, votes;
        bool answered;
        if (!question_ok(q, false))
            return false;
        id = int_of(q, "id");
        votes = int_of(q, "votes");
        answered = json_is_true(json_object_get(q, "answered"));
        q_announce(id);
        if (!c)
            return true;
        d = q_find(&c->qs[k], id);
        if (d && (votes < d->votes || (d->answered && !answered)))
            fail("question %lld of %s went back from %lld votes%s to %lld%s: %.*s", id, ps->id,
                 d->votes, d->answered ? " answered" : "", votes, answered ? " answered" : "", len,
                 text);
        if (!d)
            d = q_add(&c->qs[k], id);
        d->votes = votes;
        d->answered = answered;
        return true;
    }
    return questions_frame_ok(c, k, j, text, len);
}

/* One presence event (a frame, or an entry of a batch) for room: it names
 * a known event and a whole user, and c follows it in its roster. */
static bool presence_ok(struct conn *c, const char *room, json_t *e)
{
    const char *ev = str(e, "event");
    json_t *u = json_object_get(e, "user");

    if (!ev || (strcmp(ev, "join") != 0 && strcmp(ev, "leave") != 0 && strcmp(ev, "update") != 0) ||
        !user_ok(u) || (c && !in_room(c, room)))
        return false;
    if (c && strcmp(ev, "leave") == 0)
        roster_drop(c, str(u, "id"));
    else if (c)
        roster_put(c, u);
    return true;
}

/* How many ids a stage frame listed (c->stage, space-separated). */
static size_t stage_count(const struct conn *c)
{
    size_t n = c->stage[0] != '\0';
    for (const char *p = c->stage; *p; p++)
        n += *p == ' ';
    return n;
}

/*
 * A binary frame: only a binary poses frame, to a session that asked for
 * them (PROTOCOL.md, "Binary poses"): the head's kind, flags and count
 * match its length, the tick rises with the JSON ticks' rule, every entry
 * names someone the client was told of (its room's ix, or a place in the
 * last stage frame) and carries a unit rotation.
 */
static void check_binary(struct conn *c, struct frame *f)
{
    static const struct poses_bin_bounds unit = {{0, 0, 0}, {1, 1, 1}};
    const unsigned char *b = frame_data(f);
    size_t count;
    long long tick;

    if (f->len < POSES_BIN_HEAD || b[0] != POSES_BIN_FRAME || b[1] != 0)
        fail("binary frame that is no poses frame (%zu bytes, kind %d)", f->len,
             f->len ? b[0] : -1);
    count = (size_t)b[6] | (size_t)b[7] << 8;
    if (count == 0 || f->len != POSES_BIN_HEAD + count * POSES_BIN_ENTRY)
        fail("binary poses frame of %zu bytes says %zu entries", f->len, count);
    if (!c)
        return;
    if (!c->binary)
        fail("a binary poses frame to a JSON session (%s)", c->user_id);
    tick = (long long)((uint32_t)b[2] | (uint32_t)b[3] << 8 | (uint32_t)b[4] << 16 |
                       (uint32_t)b[5] << 24);
    if (tick <= c->poses_tick)
        fail("binary poses tick %lld after %lld on one connection", tick, c->poses_tick);
    c->poses_tick = tick;
    for (size_t i = 0; i < count; i++) {
        const unsigned char *e = b + POSES_BIN_HEAD + i * POSES_BIN_ENTRY;
        unsigned ix;
        float p[3], q[4];
        bool known = false;

        poses_bin_decode_entry(e, &unit, &ix, p, q);
        if (fabsf(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3] - 1.0f) > 0.01f)
            fail("binary poses entry %zu: rotation not a unit quaternion", i);
        if (ix & POSES_BIN_STAGE) {
            known = c->stage_known && (ix & POSES_BIN_IX_MAX) < stage_count(c);
        } else {
            for (size_t k = 0; k < c->nroster && !known; k++)
                known = c->roster[k].ix == (long long)ix;
            known = known || c->roster_over || !c->room_known;
        }
        if (!known)
            fail("binary poses entry %zu names ix %u, of nobody the client was told of", i, ix);
        if (count == 1 && !(ix & POSES_BIN_STAGE) && roster_find(c, c->user_id) &&
            roster_find(c, c->user_id)->ix == (long long)ix)
            fail("binary poses frame of the receiver's own avatar alone (ix %u)", ix);
    }
}

/* Check one frame the transport would write to c (NULL: a close's last
 * frame, checked for form only) and follow what it tells the client. */
static void check_frame(struct conn *c, struct frame *f)
{
    const char *text = (const char *)frame_data(f);
    json_error_t je;

    if (f->binary) {
        check_binary(c, f);
        if (trace)
            fprintf(stderr, "    -> %d: binary poses, %zu bytes\n", c ? c->slot : -1, f->len);
        return;
    }
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
            c->binary = json_is_string(json_object_get(j, "poses")) &&
                        strcmp(str(j, "poses"), "binary") == 0;
            c->poses_tick = -1;
            prog_forget(c);
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
        if (ok && c) {
            set_room(c, room);
            json_array_foreach(roster, i, u)
            {
                roster_put(c, u);
            }
        }
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
        ok = presence_ok(c, str(j, "room"), j);
    } else if (strcmp(type, "presence_batch") == 0) {
        /* A tick's presence events beyond the room's rate, in order. */
        json_t *events = json_object_get(j, "events"), *e;
        size_t i;
        ok = json_is_array(events) && json_array_size(events) > 0;
        json_array_foreach(events, i, e) ok = ok && presence_ok(c, str(j, "room"), e);
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
        if (c && c->binary)
            fail("a JSON poses frame to a session that asked for binary: %.*s", (int)f->len, text);
        json_array_foreach(users, i, u)
        {
            ok = ok && str(u, "id") && vec(json_object_get(u, "p"), 3) &&
                 vec(json_object_get(u, "q"), 4);
        }
        /* The room's one frame may hold the receiver's own entry (it skips
         * it), but none whose only entry is the receiver's is sent. */
        if (ok && c && json_array_size(users) == 1 &&
            strcmp(str(json_array_get(users, 0), "id"), c->user_id) == 0)
            fail("poses frame of the receiver's own avatar alone: %.*s", (int)f->len, text);
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
    } else if (strcmp(type, "breakout_view") == 0) {
        /* Each room lists at most everyone in it; over: just the room it left. */
        json_t *r;
        size_t i;
        ok = str(j, "from") && json_is_boolean(json_object_get(j, "active"));
        if (ok && json_is_true(json_object_get(j, "active"))) {
            ok = str(json_object_get(j, "by"), "id") &&
                 json_is_integer(json_object_get(j, "ends")) &&
                 json_is_array(json_object_get(j, "rooms"));
            json_array_foreach(json_object_get(j, "rooms"), i, r) ok =
                ok && str(r, "id") && json_is_array(json_object_get(r, "people")) &&
                json_integer_value(json_object_get(r, "count")) >=
                    (json_int_t)json_array_size(json_object_get(r, "people"));
        }
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
    } else if (one_of(type, prog_types, NPROG_TYPES)) {
        ok = check_prog_frame(c, type, j, f);
    } else if (strcmp(type, "found") == 0) {
        /* bounded, each person placed in a room */
        json_t *people = json_object_get(j, "people"), *p;
        size_t i;
        ok = str(j, "q") && json_is_array(people) && json_array_size(people) <= PROTO_FIND_MAX &&
             json_is_boolean(json_object_get(j, "truncated"));
        json_array_foreach(people, i, p) ok =
            ok && str(p, "user") && str(p, "name") && str(p, "room") && str(p, "room_name");
    } else if (strcmp(type, "chat_history") == 0) {
        json_t *lines = json_object_get(j, "lines"), *l;
        size_t i;
        ok = str(j, "room") && json_is_array(lines) && json_array_size(lines) <= CHATLOG_KEEP;
        json_array_foreach(lines, i, l) ok =
            ok && json_is_integer(json_object_get(l, "msg")) && str(l, "text");
    } else if (strcmp(type, "chat_deleted") == 0) {
        ok = str(j, "room") && json_is_integer(json_object_get(j, "msg"));
    } else if (strcmp(type, "reactions") == 0) {
        ok = str(j, "room") && json_is_object(json_object_get(j, "counts")) &&
             json_array_size(json_object_get(j, "by")) <= REACT_BY_MAX;
    } else if (strcmp(type, "dm") == 0) {
        ok = str(j, "text") && json_is_object(json_object_get(j, "from")) &&
             json_is_object(json_object_get(j, "to"));
    } else if (strcmp(type, "blocks") == 0) {
        ok = json_array_size(json_object_get(j, "users")) <= DM_BLOCKS_MAX;
    } else if (strcmp(type, "report") == 0 || strcmp(type, "reported") == 0) {
        ok = json_is_object(json_object_get(j, "about")) || str(j, "user");
    } else if (strcmp(type, "privacy") == 0) {
        ok = json_is_boolean(json_object_get(j, "findable")) &&
             json_is_boolean(json_object_get(j, "dms"));
    } else if (strcmp(type, "voice") == 0) {
        /* No media server here: voice is off, and says whether one is muted. */
        ok = str(j, "state") && strcmp(str(j, "state"), "off") == 0 &&
             json_is_boolean(json_object_get(j, "muted")) &&
             json_is_boolean(json_object_get(j, "locked"));
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
        code != VENUE_CLOSE_RESUMED && code != VENUE_CLOSE_REMOVED &&
        code != VENUE_CLOSE_UNSUPPORTED)
        fail("close with code %d", code);
    /* binary from a session that did not ask for it, and only then */
    if (code == VENUE_CLOSE_UNSUPPORTED && c->binary)
        fail("slot %d asked for binary poses and was closed 1003 (%s)", c->slot, reason);
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
    prog_forget(c);
}

static const struct venue_io fake_io = {.wake = io_wake, .close = io_close, .bind = io_bind};

/* What node "a" publishes: one document of its own, whole JSON, bounded. */
static void mesh_publish(void *ctx, const char *data, size_t len)
{
    json_t *doc = json_loadb(data, len, 0, NULL);
    (void)ctx;
    FUZZ_REQUIRE(doc && json_is_array(json_object_get(doc, "ev")));
    FUZZ_REQUIRE(strcmp(json_string_value(json_object_get(doc, "n")), "a") == 0);
    FUZZ_REQUIRE(len <= MESH_OUT_MAX + 64 * 1024);
    json_decref(doc);
}

static const struct venue_mesh_io fake_mesh = {.publish = mesh_publish};

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
    cs->connected += p->connected && !p->node[0]; /* another node's are connected there */
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
 * whose position is in the stage's volume, however they got there. With
 * must false, false for a difference instead of failing.
 */
static bool check_stages(bool must)
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
        if (strcmp(want, c->stage) != 0 && !must)
            return false;
        if (strcmp(want, c->stage) != 0)
            fail("slot %d in %s was told the stage holds [%s], but [%s] stand on it", k, c->room,
                 c->stage, want);
    }
    return true;
}

/* The role a live session of room (or its floor) gives user_id there, as
 * PROTOCOL.md says: its moderators moderator, its speakers and whoever
 * holds its floor speaker; else ROLE_GUEST (nothing). */
static enum role granted_in(const char *room, const char *user_id)
{
    for (size_t k = 0; k < venue_programme_count(v); k++) {
        const struct prog_session *ps = venue_programme_at(v, k);
        if (ps->state != PROG_LIVE || strcmp(ps->room, room) != 0)
            continue;
        if (is_person(ps, PROG_MODERATOR, user_id))
            return ROLE_MODERATOR;
        if (is_person(ps, PROG_SPEAKER, user_id) ||
            (ps->floor_user[0] && strcmp(ps->floor_user, user_id) == 0))
            return ROLE_SPEAKER;
    }
    return ROLE_GUEST;
}

struct room_roles {
    const char *room;
    struct seen_user *people; /* owned */
    bool waiting;             /* presence waits for the tick's batch: told later */
    size_t n, cap;
};

/* A member's role in the core is the higher of their own (the registry
 * keeps it: promote and demote write it) and what the programme gives
 * them in this room. */
static void role_person(void *arg, const struct venue_person_view *p)
{
    struct room_roles *rr = arg;
    struct reg_user u;
    enum role own = registry_user_get(reg, p->user.id, &u) == 1 ? u.role : ROLE_GUEST;
    enum role want = granted_in(rr->room, p->user.id);
    if (own > want)
        want = own;
    if (strcmp(p->user.role, role_name(want)) != 0)
        fail("%s in %s has role %s in the core; their own role and the programme say %s",
             p->user.id, rr->room, p->user.role, role_name(want));
    if (rr->n == rr->cap) {
        rr->cap = rr->cap ? rr->cap * 2 : 16;
        rr->people = realloc(rr->people, rr->cap * sizeof(*rr->people));
        FUZZ_REQUIRE(rr->people);
    }
    snprintf(rr->people[rr->n].id, sizeof(rr->people[rr->n].id), "%s", p->user.id);
    snprintf(rr->people[rr->n].role, sizeof(rr->people[rr->n].role), "%s", p->user.role);
    rr->n++;
}

static void star_loaded(void *arg, const char *session_id)
{
    bool *starred = arg;
    int k = prog_index(session_id);
    FUZZ_REQUIRE(k >= 0);
    starred[k] = true;
}

/* c reads, and has read everything: what it was told of its room's
 * people and the programme must be what the venue holds now. */
static void check_client(struct conn *c, const struct room_roles *rooms, size_t nrooms)
{
    const char *hall;
    bool registered = false;

    for (int i = 0; i < NIDENT; i++)
        registered = registered || (idents[i].id[0] && strcmp(idents[i].id, c->user_id) == 0);
    /* "Every client gets the whole programme right after welcome", "a
     * registered participant its starred sessions" */
    if (!c->prog_known || (registered && !c->stars_known))
        fail("slot %d was welcomed but not told the programme%s", c->slot,
             c->prog_known ? "'s stars" : "");
    for (size_t k = 0; k < NPROG; k++) {
        const struct prog_session *ps = venue_programme_at(v, k);
        if (c->pstate[k] != (int)ps->state)
            fail("slot %d was told %s is %s, but it is %s", c->slot, ps->id,
                 c->pstate[k] < 0 ? "?" : prog_state_name((enum prog_state)c->pstate[k]),
                 prog_state_name(ps->state));
    }
    if (c->stars_known) {
        bool starred[NPROG] = {false};
        if (programme_stars_each(prog, c->user_id, star_loaded, starred) < 0)
            fail("programme_stars_each: %s", programme_error(prog));
        if (memcmp(starred, c->starred, sizeof(starred)) != 0)
            fail("slot %d's stars are not those the store has", c->slot);
    }
    if (!c->room_known || !c->room[0])
        return;
    for (size_t i = 0; i < nrooms && !c->roster_over; i++) {
        /* Presence over the room's rate waits for the tick's batch. */
        if (strcmp(rooms[i].room, c->room) != 0 || rooms[i].waiting)
            continue;
        for (size_t n = 0; n < rooms[i].n; n++) {
            const struct seen_user *u = &rooms[i].people[n];
            const struct seen_user *told = roster_find(c, u->id);
            if (!told)
                fail("slot %d in %s was never told of %s there", c->slot, c->room, u->id);
            if (strcmp(told->role, u->role) != 0)
                fail("slot %d in %s was told %s has role %s, but it is %s there", c->slot, c->room,
                     u->id, told->role, u->role);
        }
    }
    hall = stage_room(c->room);
    for (size_t k = 0; k < NPROG; k++) {
        const struct prog_session *ps = venue_programme_at(v, k);
        const struct seen_q *mine = &c->qs[k], *held = &scratch_qs[k];
        if (ps->state != PROG_LIVE || strcmp(ps->room, hall) != 0)
            continue;
        if (ps->slides_pages && c->page[k] != ps->slides_page)
            fail("slot %d in %s shows page %d of %s, which is at page %d", c->slot, c->room,
                 c->page[k], ps->id, ps->slides_page);
        if (strcmp(c->floor_user[k], ps->floor_user) != 0 ||
            (ps->floor_user[0] && c->floor_until[k] != ps->floor_until_ms))
            fail("slot %d in %s was told the floor of %s is [%s] until %lld, but it is [%s] "
                 "until %lld",
                 c->slot, c->room, ps->id, c->floor_user[k], c->floor_until[k], ps->floor_user,
                 ps->floor_until_ms);
        if (mine->n != held->n)
            fail("slot %d in %s was told of %zu questions in %s, the store has %zu", c->slot,
                 c->room, mine->n, ps->id, held->n);
        for (size_t i = 0; i < held->n; i++) {
            const struct qseen *q = q_find((struct seen_q *)mine, held->q[i].id);
            if (!q || q->votes != held->q[i].votes || q->answered != held->q[i].answered)
                fail("slot %d in %s: question %lld of %s has %lld votes%s in the store, the slot "
                     "was told %lld%s",
                     c->slot, c->room, held->q[i].id, ps->id, held->q[i].votes,
                     held->q[i].answered ? " (answered)" : "", q ? q->votes : -1,
                     q && q->answered ? " (answered)" : "");
        }
    }
}

/*
 * After every step: the roles in force (in the core and as the room was
 * told them), and what every client that reads knows of the programme.
 */
static void check_programme(void)
{
    size_t nrooms = venue_room_count(v);
    struct room_roles *rooms = calloc(nrooms ? nrooms : 1, sizeof(*rooms));

    FUZZ_REQUIRE(rooms && venue_programme_count(v) == NPROG);
    for (size_t i = 0; i < nrooms; i++) {
        struct venue_room_view rv;
        venue_room_get(v, i, &rv);
        rooms[i].room = rv.id;
        rooms[i].waiting = rv.presence_waiting > 0;
        venue_room_people(v, i, role_person, &rooms[i]);
    }
    for (size_t k = 0; k < NPROG; k++) {
        const struct prog_session *ps = venue_programme_at(v, k);
        scratch_qs[k].n = 0;
        if (ps->state == PROG_LIVE)
            store_questions(ps->id, NULL, &scratch_qs[k]);
    }
    for (int k = 0; k < NSLOTS; k++)
        if (slots[k].c && !slots[k].paused && slots[k].c->user_id[0])
            check_client(slots[k].c, rooms, nrooms);
    for (size_t i = 0; i < nrooms; i++)
        free(rooms[i].people);
    free(rooms);
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
        db_finalize(reset_stmt[i]);
    for (size_t k = 0; k <= NPROG; k++)
        free(scratch_qs[k].q);
    programme_close(prog);
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
 * people arrive), saved sessions, guests, the registered roles (promote
 * and demote write them), and the programme's tables as setup left them
 * (states, page, floor; stars, questions and votes none). */
static void prepare_reset(void)
{
    struct db *db = store_db(st);
    char sql[2048];
    const char *tail = sql;
    size_t len =
        (size_t)snprintf(sql, sizeof(sql),
                         "BEGIN; DELETE FROM sanctions; DELETE FROM room_settings; "
                         "DELETE FROM audit; DELETE FROM last_poses; "
                         "DELETE FROM saved_sessions; DELETE FROM users WHERE registered = 0; "
                         "DELETE FROM prog_votes; DELETE FROM prog_questions; "
                         "DELETE FROM prog_stars; DELETE FROM prog_people; "
                         "DELETE FROM prog_sessions; "
                         "INSERT INTO prog_sessions SELECT * FROM temp.fuzz_prog_sessions; "
                         "INSERT INTO prog_people SELECT * FROM temp.fuzz_prog_people; "
                         "UPDATE users SET role = CASE id");
    for (int i = 0; i < NIDENT; i++)
        if (idents[i].id[0])
            len += (size_t)snprintf(sql + len, sizeof(sql) - len, " WHEN '%s' THEN '%s'",
                                    idents[i].id, role_name(idents[i].role));
    snprintf(sql + len, sizeof(sql) - len, " ELSE role END; COMMIT;");
    FUZZ_REQUIRE(len + 32 < sizeof(sql));
    /* One statement at each ';' (no literal above holds one). */
    while (*tail) {
        const char *end = strchr(tail, ';');
        size_t n = end ? (size_t)(end - tail) : strlen(tail);
        char one[sizeof(sql)];
        while (n > 0 && *tail == ' ')
            tail++, n--;
        snprintf(one, sizeof(one), "%.*s", (int)n, tail);
        tail += end ? n + 1 : n;
        if (!one[0])
            continue;
        FUZZ_REQUIRE(nreset < NRESET);
        if (!(reset_stmt[nreset++] = db_prepare(db, one)))
            fail("store reset: %s", db_error(db));
    }
}

static void reset_store(void)
{
    for (size_t i = 0; i < nreset; i++) {
        enum db_rc rc = db_step(reset_stmt[i]);
        db_reset(reset_stmt[i]);
        if (rc != DB_DONE)
            fail("store reset: %s", db_error(store_db(st)));
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
    db_exec(store_db(st), "PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; "
                          "PRAGMA journal_mode = MEMORY");
    for (int i = 0; i < NIDENT; i++) {
        struct reg_user u;
        if (idents[i].role == ROLE_GUEST)
            continue;
        if (registry_user_add(reg, idents[i].name, "Fuzz City", idents[i].role, 0, WALL0 - 1000, &u,
                              idents[i].token, err, sizeof(err)) < 0)
            fail("registry_user_add: %s", err);
        snprintf(idents[i].id, sizeof(idents[i].id), "%s", u.id);
    }
    if (!(prog = programme_open(st, reg, err, sizeof(err))))
        fail("%s", err);
    setup_programme();
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
    venue_mesh_start(v, "a", &fake_mesh);
    /* Node "a" holds every seat, as the only node of its cluster would. */
    for (size_t i = 0; i < venue_room_count(v); i++) {
        struct venue_room_view r;
        venue_room_get(v, i, &r);
        venue_mesh_lease(v, r.id, r.capacity);
    }
    if (venue_keep_programme(v, prog, err, sizeof(err)) < 0)
        fail("venue_keep_programme: %s", err);
}

/* The programme (the top of this file says what it is); people are
 * identities, -1 ending a list. */
static const struct {
    const char *id, *title, *room;
    int start_min, end_min;
    int people[PROG_PART_COUNT][3];
} programme_def[NPROG] = {
    {"opening", "Opening keynote", "plenary", 0, 15, {{3, -1}, {4, -1}, {5, -1}}},
    {"panel", "Twins for climate adaptation", "breakout-1", 10, 25, {{5, -1}, {8, -1}, {4, -1}}},
    {"closing", "Closing plenary", "plenary", 15, 45, {{4, 8, -1}, {5, -1}, {3, -1}}},
};

/*
 * Once, on a venue of its own: import the programme, give the opening its
 * deck, and tick at WALL0 so that the opening goes live; then keep a copy
 * of those rows, which prepare_reset puts back before each input.
 */
static void setup_programme(void)
{
    static struct prog_session ss[NPROG]; /* big: not on the stack */
    char err[512];

    memset(ss, 0, sizeof(ss));
    for (int i = 0; i < NPROG; i++) {
        struct prog_session *s = &ss[i];
        snprintf(s->id, sizeof(s->id), "%s", programme_def[i].id);
        snprintf(s->title, sizeof(s->title), "%s", programme_def[i].title);
        snprintf(s->room, sizeof(s->room), "%s", programme_def[i].room);
        s->start_ms = WALL0 + programme_def[i].start_min * MIN_MS;
        s->end_ms = WALL0 + programme_def[i].end_min * MIN_MS;
        for (int part = 0; part < PROG_PART_COUNT; part++)
            for (int n = 0; n < 3 && programme_def[i].people[part][n] >= 0; n++)
                snprintf(s->people[part][s->npeople[part]++], REG_ID_MAX, "%s",
                         idents[programme_def[i].people[part][n]].id);
    }
    if (programme_check_people(prog, ss, NPROG, err, sizeof(err)) < 0)
        fail("programme: %s", err);
    now = NOW0;
    open_venue();
    if (venue_programme_set(v, ss, NPROG, now, err, sizeof(err)) < 0 ||
        venue_slides_set(v, "opening", SLIDES_PAGES, now, err, sizeof(err)) < 0)
        fail("programme: %s", err);
    venue_tick(v, now);
    FUZZ_REQUIRE(venue_programme_count(v) == NPROG && prog_index("opening") == 0 &&
                 venue_programme_at(v, 0)->state == PROG_LIVE);
    venue_free(v);
    v = NULL;
    if (db_exec(store_db(st),
                "CREATE TEMP TABLE fuzz_prog_sessions AS SELECT * FROM prog_sessions; "
                "CREATE TEMP TABLE fuzz_prog_people AS SELECT * FROM prog_people") < 0)
        fail("programme copy: %s", db_error(store_db(st)));
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
    prog_forget(c);
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

static void hello_as(int k, bool binary)
{
    char text[256];
    const struct ident *id = &idents[k];
    const char *poses = binary ? ",\"poses\":\"binary\"" : "";
    if (id->token[0])
        snprintf(text, sizeof(text),
                 "{\"type\":\"hello\",\"id\":\"h%d\",\"name\":\"%s\",\"token\":\"%s\"%s}", k,
                 id->name, id->token, poses);
    else
        snprintf(text, sizeof(text), "{\"type\":\"hello\",\"id\":\"h%d\",\"name\":\"%s\"%s}", k,
                 id->name, poses);
    send_text(k, text, strlen(text));
}

/* Slot k's binary message: the bytes the hex digits of text spell. */
static void send_binary(int k, const char *text, size_t len)
{
    unsigned char *bytes = malloc(len / 2 + 1);
    size_t n = 0;
    int half = -1;
    FUZZ_REQUIRE(bytes);
    for (size_t i = 0; i < len; i++) {
        int d = isdigit((unsigned char)text[i])      ? text[i] - '0'
                : (text[i] >= 'a' && text[i] <= 'f') ? text[i] - 'a' + 10
                : (text[i] >= 'A' && text[i] <= 'F') ? text[i] - 'A' + 10
                                                     : -1;
        if (d < 0)
            continue;
        if (half < 0) {
            half = d;
        } else {
            FUZZ_REQUIRE(n < len / 2 + 1);
            bytes[n++] = (unsigned char)(half << 4 | d);
            half = -1;
        }
    }
    if (trace)
        fprintf(stderr, "  %d <- %zu binary bytes\n", k, n);
    if (slots[k].c)
        venue_binary(v, slots[k].c->s, bytes, n, now);
    free(bytes);
}

static void hello_resume(int k)
{
    char text[256];
    snprintf(text, sizeof(text),
             "{\"type\":\"hello\",\"id\":\"r%d\",\"name\":\"%s\",\"resume\":\"%s\"}", k,
             idents[k].name, slots[k].resume[0] ? slots[k].resume : "no-such-token");
    send_text(k, text, strlen(text));
}

/* What "$uN", "$rN", "$tN" and "$qN" stand for, or NULL. */
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
    case 'q': {
        static char id[24];
        snprintf(id, sizeof(id), "%lld", (size_t)n < nasked ? asked[n] : 999999LL);
        return id;
    }
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
            hello_as(k, false);
        drain_all(false);
        text = expand(line + skip, len - skip, &n);
        send_text(k, text, n);
        free(text);
        return;
    }
    switch (op) {
    case 'h':
    case 'H':
        if (slots[k].c || connect_slot(k))
            hello_as(k, op == 'H');
        break;
    case 'b':
        drain_all(false);
        send_binary(k, len > 2 ? line + 2 : line, len > 2 ? len - 2 : 0);
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
        lagged = true;
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
        /* What the tick's own timers change after its fan-out (a
         * breakout's recall, a resume grace running out, on the stage)
         * reaches the overflow room with the next tick: then once more. */
        if (!check_stages(false)) {
            venue_tick(v, now);
            drain_all(false);
            check_stages(true);
        }
        break;
    }
    case 'M': {
        size_t n;
        char *text = expand(line + 1, len - 1, &n);
        venue_mesh_apply(v, text, n, now);
        free(text);
        drain_all(false);
        break;
    }
    case 'G': {
        char node[40];
        size_t n = len - 1 < sizeof(node) - 1 ? len - 1 : sizeof(node) - 1;
        memcpy(node, line + 1, n);
        node[n] = '\0';
        venue_mesh_node_gone(v, n ? node : NULL, now);
        drain_all(false);
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
    nasked = 0;
    lagged = false;
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
            check_programme();
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
    check_programme();
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
