/*
 * programme.c - the programme: an untrusted programme file parsed into
 * checked sessions, and the sessions, their people, stars, questions and
 * votes in the store's database (db.h: SQLite or PostgreSQL).
 *
 * The parser keeps no pointer into the JSON it read: a prog_session is
 * plain data. Times are wall-clock milliseconds since the epoch, computed
 * here from the civil date (no timegm, no TZ), so a programme means the
 * same on every machine whatever its time zone.
 *
 * The store half owns its prepared statements (prepared once in
 * programme_open, reset after each use) and nothing else: the connection
 * is the store's, the registry is borrowed for programme_check_people.
 */
#include "programme.h"

#include <assert.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "proto.h"

#define DAY_MS 86400000LL

/* The format is four levels deep (root, sessions, a session, a list of
 * people): anything much deeper is not a programme. */
#define PROG_DEPTH_MAX 8
/* Room for a field's path: "sessions[499] (" + an id + ").captioners[31]". */
#define WHERE_SIZE 128
/* Bytes of input quoted in a message, before "...". */
#define QUOTE_MAX 40

#define TIME_EXAMPLE "e.g. 2026-12-02T09:30:00Z"

#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))

static const char *const state_names[] = {
    [PROG_SCHEDULED] = "scheduled", [PROG_LIVE] = "live", [PROG_ENDED] = "ended"};

static const char *const part_fields[PROG_PART_COUNT] = {
    [PROG_SPEAKER] = "speakers", [PROG_MODERATOR] = "moderators", [PROG_CAPTIONER] = "captioners"};

const char *prog_state_name(enum prog_state s)
{
    return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s]
                                                                      : "scheduled";
}

const char *prog_part_field(enum prog_part p)
{
    return (unsigned)p < PROG_PART_COUNT ? part_fields[p] : "people";
}

/* A stored state name back to the enum; anything else is scheduled, which
 * lets the venue's clock decide again. */
static enum prog_state state_parse(const char *s)
{
    for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
        if (strcmp(s, state_names[i]) == 0)
            return (enum prog_state)i;
    return PROG_SCHEDULED;
}

/* ---- Ids -------------------------------------------------------------- */

static bool is_alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* 1..max of [A-Za-z0-9_-]: session ids and user ids. */
static bool word_valid(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || !(is_alnum(s[n]) || s[n] == '_' || s[n] == '-'))
            return false;
    return n > 0;
}

static bool session_id_valid(const char *s)
{
    return s && word_valid(s, PROG_ID_MAX - 1);
}

static bool user_id_valid(const char *s)
{
    return s && word_valid(s, REG_ID_MAX - 1);
}

/* As a scene id (scenes/scene.c): 1..64 of [a-z0-9-], not starting with
 * '-', since room ids appear in URLs. The store does not link the scenes,
 * hence a copy of the rule rather than a call. */
static bool room_id_valid(const char *s)
{
    size_t n = 0;
    if (s[0] == '-')
        return false;
    for (; s[n]; n++)
        if (n >= PROG_ROOM_MAX - 1 ||
            !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '-'))
            return false;
    return n > 0;
}

/* ---- Times ------------------------------------------------------------ */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil): exact for any year, no tables. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    long long era;
    unsigned yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static unsigned days_in_month(long long y, unsigned m)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* n decimal digits at *p, advancing it: the value, or -1. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return v;
}

/* Why a time did not parse: each gets its own sentence. */
enum time_why { TIME_OK, TIME_SYNTAX, TIME_NO_ZONE, TIME_NO_DATE, TIME_NO_TIME, TIME_BAD_ZONE };

/*
 * YYYY-MM-DDTHH:MM[:SS[.f...]] then Z or +HH:MM / -HH:MM, nothing else.
 * Fractions beyond milliseconds are cut (Python writes microseconds).
 * A time without a zone is refused rather than guessed: the server's
 * zone is nobody's business but its own.
 */
static enum time_why time_parse(const char *t, long long *ms)
{
    const char *p = t;
    int y, mo, d, h, mi, sec = 0, frac = 0, zone = 0;
    long long days;

    if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 0 || *p++ != '-' ||
        (d = digits(&p, 2)) < 0 || *p++ != 'T' || (h = digits(&p, 2)) < 0 || *p++ != ':' ||
        (mi = digits(&p, 2)) < 0)
        return TIME_SYNTAX;
    if (*p == ':') {
        p++;
        if ((sec = digits(&p, 2)) < 0)
            return TIME_SYNTAX;
        if (*p == '.') {
            int n = 0, scale = 100;
            for (p++; *p >= '0' && *p <= '9'; p++, n++) {
                frac += (*p - '0') * scale;
                scale /= 10;
            }
            if (n < 1 || n > 9)
                return TIME_SYNTAX;
        }
    }
    if (*p == '\0')
        return TIME_NO_ZONE;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, zh, zm;
        if ((zh = digits(&p, 2)) < 0 || *p++ != ':' || (zm = digits(&p, 2)) < 0)
            return TIME_SYNTAX;
        if (zh > 23 || zm > 59)
            return TIME_BAD_ZONE;
        zone = sign * (zh * 60 + zm);
    } else {
        return TIME_SYNTAX;
    }
    if (*p != '\0')
        return TIME_SYNTAX;
    if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > days_in_month(y, (unsigned)mo))
        return TIME_NO_DATE;
    if (h > 23 || mi > 59 || sec > 59)
        return TIME_NO_TIME;
    days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = ((days * 24 + h) * 60 + mi - zone) * 60000LL + sec * 1000LL + frac;
    return TIME_OK;
}

int programme_time_parse(const char *text, long long *ms)
{
    return text && time_parse(text, ms) == TIME_OK ? 0 : -1;
}

/* ---- Parsing: errors -------------------------------------------------- */

/* Where a parse is: the session's index, and its id once it was read. */
struct pctx {
    char *err; /* borrowed: the caller's buffer */
    size_t errlen;
    size_t i;       /* index in the file's sessions array */
    const char *id; /* borrowed: the session's checked id, "" until read */
};

/* Messages quote input: keep them one line of printable ASCII, so that a
 * log line cannot be forged or reordered by what a file contains. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7E)
            *s = '?';
}

/* s for a message: at most QUOTE_MAX bytes, then "...". Returns out. */
static const char *quote(char out[QUOTE_MAX + 4], const char *s)
{
    size_t len = strlen(s);
    if (len > QUOTE_MAX) {
        memcpy(out, s, QUOTE_MAX);
        memcpy(out + QUOTE_MAX, "...", 4);
    } else {
        memcpy(out, s, len + 1);
    }
    return out;
}

/* "sessions[3] (keynote).field", without the id before it was read and
 * without ".field" when field is NULL. */
static const char *where(const struct pctx *c, const char *field, char out[WHERE_SIZE])
{
    int k = c->id[0] ? snprintf(out, WHERE_SIZE, "sessions[%zu] (%s)", c->i, c->id)
                     : snprintf(out, WHERE_SIZE, "sessions[%zu]", c->i);
    if (field && k >= 0 && k < WHERE_SIZE)
        snprintf(out + k, WHERE_SIZE - (size_t)k, ".%s", field);
    return out;
}

static int fail_at(const struct pctx *c, const char *field, const char *fmt, ...) PRINTF_LIKE(3, 4);

static int fail_at(const struct pctx *c, const char *field, const char *fmt, ...)
{
    char at[WHERE_SIZE], msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s", where(c, field, at), msg);
    sanitize(c->err);
    return -1;
}

static int fail_top(char *err, size_t errlen, const char *fmt, ...) PRINTF_LIKE(3, 4);

static int fail_top(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    sanitize(err);
    return -1;
}

/* ---- Parsing: fields -------------------------------------------------- */

static const char *const session_fields[] = {"id",  "title",    "description", "room",      "start",
                                             "end", "speakers", "moderators",  "captioners"};

static bool session_field_known(const char *key)
{
    for (size_t i = 0; i < sizeof(session_fields) / sizeof(session_fields[0]); i++)
        if (strcmp(key, session_fields[i]) == 0)
            return true;
    return false;
}

/* The string at key into *out: 0 (NULL when absent or null and !need), or
 * -1 with the error ("missing" for a needed one absent or null). */
static int get_string(const struct pctx *c, json_t *obj, const char *key, bool need,
                      const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) { /* null is no value, as absent is */
        if (!need)
            return 0;
        fail_at(c, key, "missing");
        return -1;
    }
    *out = json_string_value(v);
    if (!*out) {
        fail_at(c, key, "not a string");
        return -1;
    }
    return 0;
}

static int get_text(const struct pctx *c, const char *field, const char *s, size_t min_cp,
                    size_t max_cp)
{
    char at[WHERE_SIZE];
    if (registry_check_text(where(c, field, at), s, min_cp, max_cp, c->err, c->errlen) < 0) {
        sanitize(c->err);
        return -1;
    }
    return 0;
}

/*
 * A description is paragraphs: unlike a name, it may hold line feeds.
 * Everything else registry_check_text refuses (other controls, CR, bidi
 * overrides) is refused here too; the check runs on a copy with each LF
 * read as a space, which counts the same number of code points.
 */
static int get_description(const struct pctx *c, const char *s, char *out, size_t size)
{
    size_t len = strlen(s);
    char *copy = malloc(len + 1);
    int rc;

    if (!copy)
        return fail_at(c, "description", "out of memory");
    for (size_t i = 0; i <= len; i++)
        copy[i] = s[i] == '\n' ? ' ' : s[i];
    rc = get_text(c, "description", copy, 0, (PROG_DESC_MAX - 1) / 4);
    free(copy);
    if (rc < 0)
        return -1;
    assert(len < size); /* 2000 code points are at most 8000 bytes */
    (void)size;         /* the assert's, gone under NDEBUG */
    memcpy(out, s, len + 1);
    return 0;
}

static int get_time(const struct pctx *c, json_t *obj, const char *key, long long *ms)
{
    char q[QUOTE_MAX + 4];
    const char *s;

    if (get_string(c, obj, key, true, &s) < 0)
        return -1;
    switch (time_parse(s, ms)) {
    case TIME_OK:
        return 0;
    case TIME_NO_ZONE:
        return fail_at(c, key,
                       "\"%s\" has no time zone: end it with Z or an offset such as "
                       "+01:00, " TIME_EXAMPLE,
                       quote(q, s));
    case TIME_NO_DATE:
        return fail_at(c, key, "\"%s\" is not a date of the calendar", quote(q, s));
    case TIME_NO_TIME:
        return fail_at(c, key, "\"%s\" is not a time of day (00:00:00 to 23:59:59)", quote(q, s));
    case TIME_BAD_ZONE:
        return fail_at(c, key, "\"%s\" has no such zone offset (at most 23:59)", quote(q, s));
    case TIME_SYNTAX:
        break;
    }
    return fail_at(c, key, "not an ISO 8601 time with a zone, " TIME_EXAMPLE);
}

/* One list of people: absent or null is none; each a user id, once. */
static int get_people(const struct pctx *c, json_t *obj, enum prog_part part,
                      struct prog_session *s)
{
    const char *key = part_fields[part];
    json_t *list = json_object_get(obj, key);
    char at[32], q[QUOTE_MAX + 4];
    size_t n;

    if (!list || json_is_null(list))
        return 0;
    if (!json_is_array(list))
        return fail_at(c, key, "not an array of user ids");
    n = json_array_size(list);
    if (n > PROG_PEOPLE_MAX)
        return fail_at(c, key, "%zu people, more than %d", n, PROG_PEOPLE_MAX);
    for (size_t k = 0; k < n; k++) {
        json_t *v = json_array_get(list, k);
        const char *id = json_string_value(v);
        snprintf(at, sizeof(at), "%s[%zu]", key, k);
        if (!json_is_string(v))
            return fail_at(c, at, "not a string");
        if (!user_id_valid(id))
            return fail_at(c, at, "not a user id \"%s\": use 1 to %d of A-Z, a-z, 0-9, '_' and '-'",
                           quote(q, id), REG_ID_MAX - 1);
        for (size_t j = 0; j < k; j++)
            if (strcmp(s->people[part][j], id) == 0)
                return fail_at(c, at, "\"%s\" is already %s[%zu]", id, key, j);
        assert(strlen(id) < REG_ID_MAX); /* user_id_valid */
        memcpy(s->people[part][k], id, strlen(id) + 1);
    }
    s->npeople[part] = n;
    return 0;
}

static int parse_session(struct pctx *c, json_t *js, struct prog_session *s)
{
    char q[QUOTE_MAX + 4];
    const char *id, *title, *desc, *room, *key;
    json_t *v;

    memset(s, 0, sizeof(*s));
    c->id = "";
    if (!json_is_object(js))
        return fail_at(c, NULL, "not an object");
    /* The id first, so that every later message can name the session. */
    if (get_string(c, js, "id", true, &id) < 0)
        return -1;
    if (!session_id_valid(id))
        return fail_at(c, "id", "not a valid id \"%s\": use 1 to %d of A-Z, a-z, 0-9, '_' and '-'",
                       quote(q, id), PROG_ID_MAX - 1);
    memcpy(s->id, id, strlen(id) + 1);
    c->id = s->id;
    /* A typo ("speaker") would otherwise drop a list without a word. */
    json_object_foreach(js, key, v)
    {
        if (!session_field_known(key))
            return fail_at(c, quote(q, key),
                           "unknown field; a session has id, title, description, room, start, "
                           "end, speakers, moderators and captioners");
    }
    if (get_string(c, js, "title", true, &title) < 0 ||
        get_text(c, "title", title, 1, (PROG_TITLE_MAX - 1) / 4) < 0)
        return -1;
    assert(strlen(title) < sizeof(s->title)); /* 200 code points are at most 800 bytes */
    memcpy(s->title, title, strlen(title) + 1);
    if (get_string(c, js, "description", false, &desc) < 0 ||
        (desc && get_description(c, desc, s->description, sizeof(s->description)) < 0))
        return -1;
    if (get_string(c, js, "room", true, &room) < 0)
        return -1;
    if (!room_id_valid(room))
        return fail_at(c, "room",
                       "not a valid room id \"%s\": use 1 to %d of a-z, 0-9 and '-', starting "
                       "with a letter or digit",
                       quote(q, room), PROG_ROOM_MAX - 1);
    memcpy(s->room, room, strlen(room) + 1);
    if (get_time(c, js, "start", &s->start_ms) < 0 || get_time(c, js, "end", &s->end_ms) < 0)
        return -1;
    if (s->end_ms <= s->start_ms) {
        char t[PROTO_TIME_MAX];
        proto_time_text(s->start_ms, t, sizeof(t));
        return fail_at(c, "end", "must be after the start (%s)", t);
    }
    for (int part = 0; part < PROG_PART_COUNT; part++)
        if (get_people(c, js, (enum prog_part)part, s) < 0)
            return -1;
    s->state = PROG_SCHEDULED;
    return 0;
}

const struct prog_session *programme_overlap(const struct prog_session *ss, size_t n,
                                             const struct prog_session *s)
{
    /* Half-open intervals: one session may end the minute the next one
     * starts. The same id is the same session (s may be its new copy). */
    for (size_t i = 0; i < n; i++) {
        const struct prog_session *o = &ss[i];
        if (o != s && strcmp(o->id, s->id) != 0 && strcmp(o->room, s->room) == 0 &&
            o->start_ms < s->end_ms && s->start_ms < o->end_ms)
            return o;
    }
    return NULL;
}

static int parse_root(json_t *root, struct prog_session **out, size_t *n, char *err, size_t errlen)
{
    struct pctx c = {.err = err, .errlen = errlen, .id = ""};
    struct prog_session *ss;
    json_t *list, *v;
    const char *key;
    char q[QUOTE_MAX + 4];
    size_t count;

    if (!json_is_object(root))
        return fail_top(err, errlen, "programme: not a JSON object");
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "sessions") != 0)
            return fail_top(err, errlen, "%s: unknown field; a programme has only sessions",
                            quote(q, key));
    }
    list = json_object_get(root, "sessions");
    if (!list)
        return fail_top(err, errlen, "sessions: missing");
    if (!json_is_array(list))
        return fail_top(err, errlen, "sessions: not an array");
    count = json_array_size(list);
    if (count > PROG_SESSIONS_MAX)
        return fail_top(err, errlen, "sessions: %zu sessions, more than %d", count,
                        PROG_SESSIONS_MAX);
    ss = calloc(count ? count : 1, sizeof(*ss)); /* never NULL for an empty programme */
    if (!ss)
        return fail_top(err, errlen, "programme: out of memory");
    /* In the file's order, each session against those before it, so that
     * the message names the first session that is wrong. */
    for (c.i = 0; c.i < count; c.i++) {
        struct prog_session *s = &ss[c.i];
        const struct prog_session *o;
        char a[PROTO_TIME_MAX], b[PROTO_TIME_MAX];
        if (parse_session(&c, json_array_get(list, c.i), s) < 0)
            goto fail;
        for (size_t j = 0; j < c.i; j++)
            if (strcmp(ss[j].id, s->id) == 0) {
                fail_at(&c, "id", "the same id as sessions[%zu]", j);
                goto fail;
            }
        o = programme_overlap(ss, c.i, s);
        if (o) {
            proto_time_text(o->start_ms, a, sizeof(a));
            proto_time_text(o->end_ms, b, sizeof(b));
            fail_at(&c, "start", "overlaps \"%s\" in room %s (%s to %s)", o->id, o->room, a, b);
            goto fail;
        }
    }
    *out = ss;
    *n = count;
    return 0;
fail:
    free(ss);
    return -1;
}

int programme_parse(const char *buf, size_t len, struct prog_session **out, size_t *n, char *err,
                    size_t errlen)
{
    json_error_t je;
    json_t *root;
    int rc;

    *out = NULL;
    *n = 0;
    if (errlen)
        err[0] = '\0';
    if (len > (size_t)PROG_FILE_MAX)
        return fail_top(err, errlen, "programme: %zu bytes, more than %ld", len, PROG_FILE_MAX);
    if (!buf) {
        buf = "";
        len = 0;
    }
    /* jansson recurses: refuse a deep nest before it sees one. */
    if (proto_json_too_deep(buf, len, PROG_DEPTH_MAX))
        return fail_top(err, errlen, "programme: nested deeper than %d levels", PROG_DEPTH_MAX);
    /* DECODE_ANY so that a bare string or number gets the clearer "not a
     * JSON object" instead of a syntax error. */
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root)
        return fail_top(err, errlen, "programme: invalid JSON: %.100s at line %d column %d",
                        je.text, je.line, je.column);
    rc = parse_root(root, out, n, err, errlen);
    json_decref(root);
    return rc;
}

/* ---- The store -------------------------------------------------------- */

/*
 * Tables of their own beside the store's and the registry's. A session's
 * state is its name (as roles are), so that the file reads plainly. A
 * question's votes are counted in its row, written in the same
 * transaction as the vote, so that listing by votes needs no aggregate.
 * The references make the database refuse an orphan; the deletes below
 * remove children first, so nothing depends on foreign_keys being on.
 */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS prog_sessions("
    "  id TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
    "  room TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'scheduled',"
    "  slides_pages INTEGER NOT NULL DEFAULT 0, slides_page INTEGER NOT NULL DEFAULT 0,"
    "  slides_version INTEGER NOT NULL DEFAULT 0,"
    "  floor_user TEXT NOT NULL DEFAULT '', floor_until_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS prog_sessions_start ON prog_sessions(start_ms, id);"
    "CREATE TABLE IF NOT EXISTS prog_people("
    "  session TEXT NOT NULL REFERENCES prog_sessions(id), part INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL, user_id TEXT NOT NULL,"
    "  PRIMARY KEY(session, part, seq), UNIQUE(session, part, user_id));"
    "CREATE TABLE IF NOT EXISTS prog_stars("
    "  user_id TEXT NOT NULL, session TEXT NOT NULL REFERENCES prog_sessions(id),"
    "  PRIMARY KEY(user_id, session));"
    "CREATE INDEX IF NOT EXISTS prog_stars_session ON prog_stars(session, user_id);"
    "CREATE TABLE IF NOT EXISTS prog_questions("
    "  id INTEGER PRIMARY KEY, session TEXT NOT NULL REFERENCES prog_sessions(id),"
    "  user_id TEXT NOT NULL, name TEXT NOT NULL, text TEXT NOT NULL, ts_ms INTEGER NOT NULL,"
    "  votes INTEGER NOT NULL DEFAULT 0, answered INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS prog_questions_session ON prog_questions(session, votes, ts_ms);"
    "CREATE INDEX IF NOT EXISTS prog_questions_ts ON prog_questions(ts_ms);"
    "CREATE TABLE IF NOT EXISTS prog_votes("
    "  question INTEGER NOT NULL REFERENCES prog_questions(id), user_id TEXT NOT NULL,"
    "  PRIMARY KEY(question, user_id));";

enum stmt {
    P_GONE_VOTES,     /* the five deletes of a replace, children first: ?1 is */
    P_GONE_QUESTIONS, /* the JSON array of the ids that stay */
    P_GONE_STARS,
    P_GONE_PEOPLE,
    P_GONE_SESSIONS,
    P_SESSION_PUT,
    P_PEOPLE_CLEAR,
    P_PERSON_ADD,
    P_SESSIONS_ALL,
    P_PEOPLE_OF,
    P_STATE_SAVE,
    P_SESSION_EXISTS,
    P_STAR_ADD,
    P_STAR_DEL,
    P_STARS_OF_USER,
    P_STARS_OF_SESSION,
    P_QUESTION_ADD,
    P_VOTE_ADD,
    P_VOTE_COUNT,
    P_QUESTION_EXISTS,
    P_QUESTION_ANSWER,
    P_QUESTIONS_OF,
    P_RETAIN_VOTES,
    P_RETAIN_QUESTIONS,
    P_COUNT
};

/* The ids that stay, from the JSON array in ?1: each engine's own way of
 * reading one (stmt_pg). */
#define KEPT    "(SELECT value FROM json_each(?1))"
#define KEPT_PG "(SELECT value FROM json_array_elements_text(CAST(?1 AS json)))"
#define GONE_VOTES(kept)                                                                           \
    "DELETE FROM prog_votes WHERE question IN "                                                    \
    "(SELECT id FROM prog_questions WHERE session NOT IN " kept ")"
#define GONE_QUESTIONS(kept) "DELETE FROM prog_questions WHERE session NOT IN " kept
#define GONE_STARS(kept)     "DELETE FROM prog_stars WHERE session NOT IN " kept
#define GONE_PEOPLE(kept)    "DELETE FROM prog_people WHERE session NOT IN " kept
#define GONE_SESSIONS(kept)  "DELETE FROM prog_sessions WHERE id NOT IN " kept
/* Whether the stored session's times are those being written. The stored
 * row's columns are named with the table's name: PostgreSQL takes a bare
 * one for ambiguous beside EXCLUDED's. */
#define SAME_TIMES "prog_sessions.start_ms = ?5 AND prog_sessions.end_ms = ?6"

static const char *const stmt_sql[P_COUNT] = {
    [P_GONE_VOTES] = GONE_VOTES(KEPT),
    [P_GONE_QUESTIONS] = GONE_QUESTIONS(KEPT),
    [P_GONE_STARS] = GONE_STARS(KEPT),
    [P_GONE_PEOPLE] = GONE_PEOPLE(KEPT),
    [P_GONE_SESSIONS] = GONE_SESSIONS(KEPT),
    /* A kept session keeps its deck; its state and floor only while its
     * times stay (SET reads the row as it was before the update). */
    [P_SESSION_PUT] = "INSERT INTO prog_sessions(id, title, description, room, start_ms, end_ms) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET "
                      "title = ?2, description = ?3, room = ?4, "
                      "state = CASE WHEN " SAME_TIMES " THEN prog_sessions.state "
                      "ELSE 'scheduled' END, "
                      "floor_user = CASE WHEN " SAME_TIMES " THEN prog_sessions.floor_user "
                      "ELSE '' END, "
                      "floor_until_ms = CASE WHEN " SAME_TIMES " THEN prog_sessions.floor_until_ms "
                      "ELSE 0 END, "
                      "start_ms = ?5, end_ms = ?6",
    [P_PEOPLE_CLEAR] = "DELETE FROM prog_people WHERE session = ?1",
    [P_PERSON_ADD] = "INSERT INTO prog_people(session, part, seq, user_id) VALUES(?1, ?2, ?3, ?4)",
    [P_SESSIONS_ALL] = "SELECT id, title, description, room, start_ms, end_ms, state, "
                       "slides_pages, slides_page, slides_version, floor_user, floor_until_ms "
                       "FROM prog_sessions ORDER BY start_ms, id",
    [P_PEOPLE_OF] = "SELECT part, user_id FROM prog_people WHERE session = ?1 ORDER BY part, seq",
    [P_STATE_SAVE] = "UPDATE prog_sessions SET state = ?2, slides_pages = ?3, slides_page = ?4, "
                     "slides_version = ?5, floor_user = ?6, floor_until_ms = ?7 WHERE id = ?1",
    [P_SESSION_EXISTS] = "SELECT 1 FROM prog_sessions WHERE id = ?1",
    [P_STAR_ADD] = "INSERT INTO prog_stars(user_id, session) "
                   "SELECT CAST(?1 AS TEXT), id FROM prog_sessions WHERE id = ?2 "
                   "ON CONFLICT(user_id, session) DO NOTHING",
    [P_STAR_DEL] = "DELETE FROM prog_stars WHERE user_id = ?1 AND session = ?2",
    [P_STARS_OF_USER] = "SELECT s.session FROM prog_stars s JOIN prog_sessions p "
                        "ON p.id = s.session WHERE s.user_id = ?1 ORDER BY p.start_ms, p.id",
    [P_STARS_OF_SESSION] = "SELECT user_id FROM prog_stars WHERE session = ?1 ORDER BY user_id",
    [P_QUESTION_ADD] = "INSERT INTO prog_questions(session, user_id, name, text, ts_ms) "
                       "SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS TEXT), "
                       "CAST(?4 AS TEXT), ?5 WHERE EXISTS "
                       "(SELECT 1 FROM prog_sessions WHERE id = ?1) RETURNING id",
    [P_VOTE_ADD] = "INSERT INTO prog_votes(question, user_id) SELECT ?1, CAST(?2 AS TEXT) "
                   "WHERE EXISTS (SELECT 1 FROM prog_questions WHERE id = ?1) "
                   "ON CONFLICT(question, user_id) DO NOTHING",
    [P_VOTE_COUNT] = "UPDATE prog_questions SET votes = votes + 1 WHERE id = ?1",
    [P_QUESTION_EXISTS] = "SELECT 1 FROM prog_questions WHERE id = ?1",
    [P_QUESTION_ANSWER] = "UPDATE prog_questions SET answered = 1 WHERE id = ?1",
    [P_QUESTIONS_OF] = "SELECT q.id, q.user_id, q.name, q.text, q.ts_ms, q.votes, q.answered, "
                       "EXISTS (SELECT 1 FROM prog_votes v WHERE v.question = q.id "
                       "AND v.user_id = ?2) FROM prog_questions q WHERE q.session = ?1 "
                       "ORDER BY q.votes DESC, q.ts_ms, q.id",
    [P_RETAIN_VOTES] = "DELETE FROM prog_votes WHERE question IN "
                       "(SELECT id FROM prog_questions WHERE ts_ms < ?1)",
    [P_RETAIN_QUESTIONS] = "DELETE FROM prog_questions WHERE ts_ms < ?1",
};

/* PostgreSQL's text of statement i where it differs from stmt_sql's, or
 * NULL: the kept ids are read as PostgreSQL reads JSON. */
static const char *stmt_pg(int i)
{
    switch (i) {
    case P_GONE_VOTES:
        return GONE_VOTES(KEPT_PG);
    case P_GONE_QUESTIONS:
        return GONE_QUESTIONS(KEPT_PG);
    case P_GONE_STARS:
        return GONE_STARS(KEPT_PG);
    case P_GONE_PEOPLE:
        return GONE_PEOPLE(KEPT_PG);
    case P_GONE_SESSIONS:
        return GONE_SESSIONS(KEPT_PG);
    default:
        return NULL;
    }
}

struct programme {
    struct db *db;                 /* borrowed from the store */
    struct store *st;              /* borrowed: told of a failed statement */
    struct registry *reg;          /* borrowed */
    struct db_stmt *stmt[P_COUNT]; /* owned */
    char err[256];
};

const char *programme_error(struct programme *p)
{
    return p->err;
}

static int fail(struct programme *p, const char *what)
{
    snprintf(p->err, sizeof(p->err), "programme: %s: %s", what, db_error(p->db));
    store_failed(p->st);
    return -1;
}

static int refuse(struct programme *p, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* A refusal of the caller's arguments (not the database's). */
static int refuse(struct programme *p, const char *fmt, ...)
{
    char msg[224];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(p->err, sizeof(p->err), "programme: %s", msg);
    sanitize(p->err);
    return -1;
}

/* Run a bound statement that returns no rows, and reset it: 0, or -1
 * with p->err. */
static int step_done(struct programme *p, struct db_stmt *s, const char *what)
{
    return db_run(s) == 0 ? 0 : fail(p, what);
}

/* A bound statement that returns at most a row: 1 a row, 0 none, -1. */
static int step_exists(struct programme *p, struct db_stmt *s, const char *what)
{
    enum db_rc rc = db_step(s);
    db_reset(s);
    if (rc == DB_ROW)
        return 1;
    return rc == DB_DONE ? 0 : fail(p, what);
}

/*
 * One transaction per call that writes several rows. db_begin takes
 * SQLite's write lock at BEGIN, so that another process writing (venued
 * user ...) makes us wait there instead of failing halfway. Inside a
 * transaction the caller opened (the registry's, an import's), a
 * savepoint instead: never a nested BEGIN. A savepoint is also what
 * PostgreSQL needs to leave the caller's transaction usable after one of
 * ours fails.
 */
static int tx_begin(struct programme *p, bool *inner)
{
    *inner = db_in_transaction(p->db);
    if ((*inner ? db_savepoint(p->db, "programme") : db_begin(p->db)) < 0)
        return fail(p, *inner ? "savepoint" : "begin");
    return 0;
}

static int tx_commit(struct programme *p, bool inner)
{
    if ((inner ? db_release(p->db, "programme") : db_commit(p->db)) < 0)
        return fail(p, inner ? "release" : "commit");
    return 0;
}

static void tx_rollback(struct programme *p, bool inner)
{
    if (inner)
        db_rollback_to(p->db, "programme");
    else if (db_in_transaction(p->db))
        db_rollback(p->db);
}

static const char *column_text(struct db_stmt *s, int i)
{
    const char *t = db_column_text(s, i);
    return t ? t : "";
}

static int column_int(struct db_stmt *s, int i)
{
    return (int)db_column_int64(s, i);
}

/* A column into a fixed field: cut rather than overrun, should the
 * database hold more than we wrote. */
static void column_copy(struct db_stmt *s, int i, char *out, size_t size)
{
    snprintf(out, size, "%s", column_text(s, i));
}

struct programme *programme_open(struct store *st, struct registry *reg, char *err, size_t errlen)
{
    struct programme *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "programme: out of memory");
        return NULL;
    }
    p->db = store_db(st);
    p->st = st;
    p->reg = reg;
    if (db_schema(p->db, schema) < 0) {
        snprintf(err, errlen, "programme: schema: %s", db_error(p->db));
        programme_close(p);
        return NULL;
    }
    for (int i = 0; i < P_COUNT; i++) {
        const char *pg = stmt_pg(i);
        const char *sql = pg ? db_sql(p->db, stmt_sql[i], pg) : stmt_sql[i];
        if (!(p->stmt[i] = db_prepare(p->db, sql))) {
            snprintf(err, errlen, "programme: prepare: %s", db_error(p->db));
            programme_close(p);
            return NULL;
        }
    }
    return p;
}

void programme_close(struct programme *p)
{
    if (!p)
        return;
    for (int i = 0; i < P_COUNT; i++)
        db_finalize(p->stmt[i]);
    free(p);
}

/* ---- People ----------------------------------------------------------- */

int programme_check_people(struct programme *p, const struct prog_session *ss, size_t n, char *err,
                           size_t errlen)
{
    struct reg_user u;
    for (size_t i = 0; i < n; i++) {
        struct pctx c = {.err = err, .errlen = errlen, .i = i, .id = ss[i].id};
        for (int part = 0; part < PROG_PART_COUNT; part++) {
            for (size_t k = 0; k < ss[i].npeople[part] && k < PROG_PEOPLE_MAX; k++) {
                const char *id = ss[i].people[part][k];
                char at[32];
                int rc = registry_user_get(p->reg, id, &u);
                snprintf(at, sizeof(at), "%s[%zu]", part_fields[part], k);
                if (rc < 0) {
                    snprintf(p->err, sizeof(p->err), "%s", registry_error(p->reg));
                    return fail_at(&c, at, "%s", registry_error(p->reg));
                }
                if (rc == 0)
                    return fail_at(&c, at, "no registered user \"%s\"", id);
                if (u.revoked)
                    return fail_at(&c, at, "user \"%s\" is revoked", id);
                if (u.role <= ROLE_GUEST)
                    return fail_at(&c, at, "\"%s\" is a guest, not a registered user", id);
            }
        }
    }
    return 0;
}

/* ---- The programme ---------------------------------------------------- */

/* The JSON array of ss's ids, for KEPT: new, free()d by the caller;
 * NULL out of memory. */
static char *id_array(const struct prog_session *ss, size_t n)
{
    json_t *a = json_array();
    char *text = NULL;
    bool ok = a != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = json_array_append_new(a, json_string(ss[i].id)) == 0;
    if (ok)
        text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return text;
}

static int put_session(struct programme *p, const struct prog_session *s)
{
    struct db_stmt *put = p->stmt[P_SESSION_PUT], *clear = p->stmt[P_PEOPLE_CLEAR];
    db_bind_text(put, 1, s->id);
    db_bind_text(put, 2, s->title);
    db_bind_text(put, 3, s->description);
    db_bind_text(put, 4, s->room);
    db_bind_int64(put, 5, s->start_ms);
    db_bind_int64(put, 6, s->end_ms);
    if (step_done(p, put, "prog_sessions") < 0)
        return -1;
    /* The lists are rewritten whole: their order is the file's. */
    db_bind_text(clear, 1, s->id);
    if (step_done(p, clear, "prog_people") < 0)
        return -1;
    for (int part = 0; part < PROG_PART_COUNT; part++) {
        for (size_t k = 0; k < s->npeople[part]; k++) {
            struct db_stmt *add = p->stmt[P_PERSON_ADD];
            db_bind_text(add, 1, s->id);
            db_bind_int64(add, 2, part);
            db_bind_int64(add, 3, (long long)k);
            db_bind_text(add, 4, s->people[part][k]);
            if (step_done(p, add, "prog_people") < 0)
                return -1;
        }
    }
    return 0;
}

/* What replace takes on trust from the caller (parse checked the rest):
 * the bounds that keep it within ss's arrays. */
static int replace_args_ok(struct programme *p, const struct prog_session *ss, size_t n)
{
    if (n > PROG_SESSIONS_MAX)
        return refuse(p, "%zu sessions, more than %d", n, PROG_SESSIONS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!memchr(ss[i].id, '\0', sizeof(ss[i].id)) || !session_id_valid(ss[i].id))
            return refuse(p, "sessions[%zu]: not a valid id", i);
        for (int part = 0; part < PROG_PART_COUNT; part++)
            if (ss[i].npeople[part] > PROG_PEOPLE_MAX)
                return refuse(p, "sessions[%zu] (%s).%s: more than %d people", i, ss[i].id,
                              part_fields[part], PROG_PEOPLE_MAX);
    }
    return 0;
}

int programme_replace(struct programme *p, const struct prog_session *ss, size_t n, char *err,
                      size_t errlen)
{
    static const enum stmt gone[] = {P_GONE_VOTES, P_GONE_QUESTIONS, P_GONE_STARS, P_GONE_PEOPLE,
                                     P_GONE_SESSIONS};
    char *kept;
    bool inner = false;

    if (replace_args_ok(p, ss, n) < 0)
        goto fail;
    kept = id_array(ss, n);
    if (!kept) {
        refuse(p, "out of memory");
        goto fail;
    }
    if (tx_begin(p, &inner) < 0) {
        free(kept);
        goto fail;
    }
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
        struct db_stmt *s = p->stmt[gone[i]];
        db_bind_text(s, 1, kept);
        if (step_done(p, s, "replace") < 0)
            goto undo;
    }
    for (size_t i = 0; i < n; i++)
        if (put_session(p, &ss[i]) < 0)
            goto undo;
    if (tx_commit(p, inner) < 0)
        goto undo;
    free(kept);
    return 0;
undo:
    tx_rollback(p, inner);
    free(kept);
fail:
    snprintf(err, errlen, "%s", p->err);
    return -1;
}

/* The people of session s->id into s. */
static int load_people(struct programme *p, struct prog_session *s)
{
    struct db_stmt *q = p->stmt[P_PEOPLE_OF];
    enum db_rc rc;
    db_bind_text(q, 1, s->id);
    while ((rc = db_step(q)) == DB_ROW) {
        int part = column_int(q, 0);
        if (part < 0 || part >= PROG_PART_COUNT || s->npeople[part] >= PROG_PEOPLE_MAX)
            continue; /* not ours to have written: skip rather than overrun */
        column_copy(q, 1, s->people[part][s->npeople[part]++], REG_ID_MAX);
    }
    db_reset(q);
    return rc == DB_DONE ? 0 : fail(p, "prog_people");
}

int programme_each(struct programme *p, void (*fn)(void *arg, const struct prog_session *s),
                   void *arg)
{
    struct db_stmt *q = p->stmt[P_SESSIONS_ALL];
    struct prog_session s;
    enum db_rc rc;

    while ((rc = db_step(q)) == DB_ROW) {
        memset(&s, 0, sizeof(s));
        column_copy(q, 0, s.id, sizeof(s.id));
        column_copy(q, 1, s.title, sizeof(s.title));
        column_copy(q, 2, s.description, sizeof(s.description));
        column_copy(q, 3, s.room, sizeof(s.room));
        s.start_ms = db_column_int64(q, 4);
        s.end_ms = db_column_int64(q, 5);
        s.state = state_parse(column_text(q, 6));
        s.slides_pages = column_int(q, 7);
        s.slides_page = column_int(q, 8);
        s.slides_version = column_int(q, 9);
        column_copy(q, 10, s.floor_user, sizeof(s.floor_user));
        s.floor_until_ms = db_column_int64(q, 11);
        if (load_people(p, &s) < 0) {
            db_reset(q);
            return -1;
        }
        fn(arg, &s);
    }
    db_reset(q);
    return rc == DB_DONE ? 0 : fail(p, "prog_sessions");
}

int programme_save_state(struct programme *p, const struct prog_session *s)
{
    struct db_stmt *q = p->stmt[P_STATE_SAVE];
    if ((unsigned)s->state >= sizeof(state_names) / sizeof(state_names[0]))
        return refuse(p, "%s: no such state %d", s->id, (int)s->state);
    if (s->slides_pages < 0 ||
        (s->slides_pages > 0 && (s->slides_page < 1 || s->slides_page > s->slides_pages)))
        return refuse(p, "%s: slide %d of %d", s->id, s->slides_page, s->slides_pages);
    if (!memchr(s->floor_user, '\0', sizeof(s->floor_user)))
        return refuse(p, "%s: floor user too long", s->id);
    db_bind_text(q, 1, s->id);
    db_bind_text(q, 2, state_names[s->state]);
    db_bind_int64(q, 3, s->slides_pages);
    db_bind_int64(q, 4, s->slides_pages > 0 ? s->slides_page : 0);
    db_bind_int64(q, 5, s->slides_version);
    db_bind_text(q, 6, s->floor_user);
    db_bind_int64(q, 7, s->floor_user[0] ? s->floor_until_ms : 0);
    if (step_done(p, q, "prog_sessions") < 0)
        return -1;
    if (db_changes(p->db) == 0)
        return refuse(p, "no session \"%s\"", s->id);
    return 0;
}

/* ---- Stars ------------------------------------------------------------ */

static int session_exists(struct programme *p, const char *id)
{
    struct db_stmt *q = p->stmt[P_SESSION_EXISTS];
    db_bind_text(q, 1, id);
    return step_exists(p, q, "prog_sessions");
}

int programme_star(struct programme *p, const char *user_id, const char *session_id, bool on)
{
    struct db_stmt *q = p->stmt[on ? P_STAR_ADD : P_STAR_DEL];
    int found;
    if (!user_id_valid(user_id))
        return refuse(p, "stars: not a user id");
    if (!session_id)
        return refuse(p, "stars: no session");
    db_bind_text(q, 1, user_id);
    db_bind_text(q, 2, session_id);
    if (step_done(p, q, "prog_stars") < 0)
        return -1;
    /* Starring twice is fine; starring what is not in the programme is
     * not (an unstar of it has nothing to do and says so by succeeding). */
    if (!on || db_changes(p->db) > 0)
        return 0;
    found = session_exists(p, session_id);
    if (found < 0)
        return -1;
    return found ? 0 : refuse(p, "stars: no session \"%.64s\"", session_id);
}

/* Each row's first column, a string, to fn. */
static int each_text(struct programme *p, struct db_stmt *q, const char *what,
                     void (*fn)(void *arg, const char *text), void *arg)
{
    enum db_rc rc;
    while ((rc = db_step(q)) == DB_ROW)
        fn(arg, column_text(q, 0));
    db_reset(q);
    return rc == DB_DONE ? 0 : fail(p, what);
}

int programme_stars_each(struct programme *p, const char *user_id,
                         void (*fn)(void *arg, const char *session_id), void *arg)
{
    struct db_stmt *q = p->stmt[P_STARS_OF_USER];
    db_bind_text(q, 1, user_id ? user_id : "");
    return each_text(p, q, "prog_stars", fn, arg);
}

int programme_starred_by_each(struct programme *p, const char *session_id,
                              void (*fn)(void *arg, const char *user_id), void *arg)
{
    struct db_stmt *q = p->stmt[P_STARS_OF_SESSION];
    db_bind_text(q, 1, session_id ? session_id : "");
    return each_text(p, q, "prog_stars", fn, arg);
}

/* ---- Questions -------------------------------------------------------- */

/*
 * A question's text and its asker's name, as the protocol lets them in
 * (ask.text, hello.name: one line, no C0 or C1 control): a stricter check
 * here would lose a question the venue already took. Valid UTF-8, 1 to
 * max_cp code points. 0, or -1 with "FIELD: reason" in err.
 */
static int line_check(const char *field, const char *s, size_t max_cp, char *err, size_t errlen)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t count = 0;

    if (!s) {
        snprintf(err, errlen, "%s: missing", field);
        return -1;
    }
    if (!proto_utf8_valid(s, strlen(s))) {
        snprintf(err, errlen, "%s: not valid UTF-8", field);
        return -1;
    }
    for (size_t i = 0; u[i]; i++) {
        /* C1 controls, U+0080..U+009F, are 0xC2 then 0x80..0x9F. */
        bool c1 = u[i] == 0xC2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F;
        if (u[i] < 0x20 || u[i] == 0x7F || c1) {
            snprintf(err, errlen, "%s: contains a control character (U+%04X)", field,
                     c1 ? u[i + 1] : u[i]);
            return -1;
        }
        count += (u[i] & 0xC0) != 0x80; /* a lead byte starts a code point */
    }
    if (count == 0 || count > max_cp) {
        if (count == 0)
            snprintf(err, errlen, "%s: must not be empty", field);
        else
            snprintf(err, errlen, "%s: must be 1..%zu characters, not %zu", field, max_cp, count);
        return -1;
    }
    return 0;
}

int programme_question_add(struct programme *p, struct prog_question *q)
{
    struct db_stmt *s = p->stmt[P_QUESTION_ADD];
    enum db_rc rc;
    long long id = 0;
    bool stored = false;
    char e[192];
    if (!q->session_id)
        return refuse(p, "question: no session");
    if (!user_id_valid(q->user_id))
        return refuse(p, "question: not a user id");
    if (line_check("question.name", q->name, (REG_NAME_MAX - 1) / 4, e, sizeof(e)) < 0 ||
        line_check("question.text", q->text, (PROG_QUESTION_MAX - 1) / 4, e, sizeof(e)) < 0)
        return refuse(p, "%s", e);
    db_bind_text(s, 1, q->session_id);
    db_bind_text(s, 2, q->user_id);
    db_bind_text(s, 3, q->name);
    db_bind_text(s, 4, q->text);
    db_bind_int64(s, 5, q->ts_ms);
    /* The new row's id, or no row when there is no such session; then the
     * end, where a write that fails says so. */
    if ((rc = db_step(s)) == DB_ROW) {
        id = db_column_int64(s, 0);
        stored = true;
        rc = db_step(s);
    }
    db_reset(s);
    if (rc != DB_DONE)
        return fail(p, "prog_questions");
    if (!stored)
        return refuse(p, "question: no session \"%.64s\"", q->session_id);
    /* What is stored: a new question has no votes and no answer yet. */
    q->id = id;
    q->votes = 0;
    q->answered = false;
    return 0;
}

static int question_exists(struct programme *p, long long id)
{
    struct db_stmt *q = p->stmt[P_QUESTION_EXISTS];
    db_bind_int64(q, 1, id);
    return step_exists(p, q, "prog_questions");
}

int programme_question_vote(struct programme *p, long long id, const char *user_id)
{
    struct db_stmt *add = p->stmt[P_VOTE_ADD], *count = p->stmt[P_VOTE_COUNT];
    bool inner;
    int counted, found;

    if (!user_id_valid(user_id))
        return refuse(p, "vote: not a user id");
    if (tx_begin(p, &inner) < 0)
        return -1;
    db_bind_int64(add, 1, id);
    db_bind_text(add, 2, user_id);
    if (step_done(p, add, "prog_votes") < 0)
        goto undo;
    /* The vote and its count together: a question's row says its votes. */
    counted = db_changes(p->db) > 0;
    if (counted) {
        db_bind_int64(count, 1, id);
        if (step_done(p, count, "prog_questions") < 0)
            goto undo;
    } else {
        found = question_exists(p, id);
        if (found < 0)
            goto undo;
        if (!found) {
            refuse(p, "vote: no question %lld", id);
            goto undo;
        }
    }
    if (tx_commit(p, inner) < 0)
        goto undo;
    return counted;
undo:
    tx_rollback(p, inner);
    return -1;
}

int programme_question_answer(struct programme *p, long long id)
{
    struct db_stmt *q = p->stmt[P_QUESTION_ANSWER];
    db_bind_int64(q, 1, id);
    if (step_done(p, q, "prog_questions") < 0)
        return -1;
    return db_changes(p->db) > 0;
}

int programme_questions_each(struct programme *p, const char *session_id, const char *user_id,
                             void (*fn)(void *arg, const struct prog_question *q, bool voted),
                             void *arg)
{
    struct db_stmt *s = p->stmt[P_QUESTIONS_OF];
    const char *sid = session_id ? session_id : "";
    enum db_rc rc;

    db_bind_text(s, 1, sid);
    if (user_id)
        db_bind_text(s, 2, user_id);
    else
        db_bind_null(s, 2); /* = NULL is never true: nobody voted */
    while ((rc = db_step(s)) == DB_ROW) {
        struct prog_question q = {
            .id = db_column_int64(s, 0),
            .session_id = sid,
            .user_id = column_text(s, 1),
            .name = column_text(s, 2),
            .text = column_text(s, 3),
            .ts_ms = db_column_int64(s, 4),
            .votes = column_int(s, 5),
            .answered = column_int(s, 6) != 0,
        };
        fn(arg, &q, column_int(s, 7) != 0);
    }
    db_reset(s);
    return rc == DB_DONE ? 0 : fail(p, "prog_questions");
}

long programme_retain(struct programme *p, long long now_ms, int days)
{
    static const enum stmt order[] = {P_RETAIN_VOTES, P_RETAIN_QUESTIONS};
    long total = 0;
    bool inner;

    if (days < 1)
        return refuse(p, "retention: days must be at least 1");
    if (tx_begin(p, &inner) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        struct db_stmt *s = p->stmt[order[i]];
        db_bind_int64(s, 1, now_ms - (long long)days * DAY_MS);
        if (step_done(p, s, "retention") < 0) {
            tx_rollback(p, inner);
            return -1;
        }
        total += db_changes(p->db);
    }
    if (tx_commit(p, inner) < 0) {
        tx_rollback(p, inner);
        return -1;
    }
    return total;
}
