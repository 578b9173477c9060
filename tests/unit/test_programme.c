/*
 * test_programme.c - the programme: programme files parsed into sessions
 * (times, every kind of bad input and the exact message it gives), and the
 * programme in the store (replace keeping what a kept session has, all or
 * nothing; stars; questions and votes; retention; a reopen), against a
 * real SQLite file in a temporary folder, or a PostgreSQL database of its
 * own (check_store.h). The clock is whatever the test says.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "check_store.h"
#include "db.h"
#include "programme.h"
#include "proto.h"
#include "registry.h"
#include "store.h"

#define DAY_MS 86400000LL
#define T0     1796203800000LL /* 2026-12-02T09:30:00Z: "now" for the store tests */

/* ---- Times ------------------------------------------------------------ */

static bool time_is(const char *text, long long want)
{
    long long ms = 0;
    int rc = programme_time_parse(text, &ms);
    if (rc != 0 || ms != want)
        fprintf(stderr, "  %s: rc %d, %lld, want %lld\n", text, rc, ms, want);
    return rc == 0 && ms == want;
}

static bool time_bad(const char *text)
{
    long long ms = 0;
    return programme_time_parse(text, &ms) == -1;
}

static bool text_is(long long ms, const char *want)
{
    char out[PROTO_TIME_MAX];
    proto_time_text(ms, out, sizeof(out));
    if (strcmp(out, want) != 0)
        fprintf(stderr, "  %lld: \"%s\", want \"%s\"\n", ms, out, want);
    return strcmp(out, want) == 0;
}

static void test_times(void)
{
    CHECK(time_is("1970-01-01T00:00:00Z", 0));
    CHECK(time_is("1970-01-01T00:00Z", 0));
    CHECK(time_is("2026-12-02T09:30:00Z", 1796203800000LL));
    CHECK(time_is("2026-12-02T10:00:00+02:00", 1796198400000LL));
    CHECK(time_is("2026-12-02T10:45:30.250+02:00", 1796201130250LL));
    CHECK(time_is("2026-12-02T10:45:30.25+02:00", 1796201130250LL));
    CHECK(time_is("2026-12-02T10:45:30.250999+02:00", 1796201130250LL)); /* cut to ms */
    CHECK(time_is("2026-12-02T08:45:00-05:30", 1796220900000LL));
    CHECK(time_is("2026-12-02T09:30:00-00:00", 1796203800000LL));
    CHECK(time_is("2028-02-29T23:59:59Z", 1835481599000LL)); /* a leap day */
    CHECK(time_is("2000-03-01T00:00:00Z", 951868800000LL));
    CHECK(time_is("2000-02-29T12:00:00Z", 951868800000LL - 12 * 3600000LL));
    CHECK(time_is("1969-12-31T23:59:59Z", -1000));
    CHECK(time_is("0001-01-01T00:00:00Z", -62135596800000LL));
    CHECK(time_is("9999-12-31T23:59:59Z", 253402300799000LL));
    /* The day rolls over with the offset. */
    CHECK(time_is("2026-12-03T01:00:00+02:00", 1796256000000LL - 3600000LL));

    CHECK(time_bad("2026-12-02T09:30:00"));  /* no zone */
    CHECK(time_bad("2026-12-02T09:30"));     /* no zone */
    CHECK(time_bad("2026-02-29T09:30:00Z")); /* not a leap year */
    CHECK(time_bad("1900-02-29T09:30:00Z")); /* nor a century */
    CHECK(time_bad("2026-02-30T09:30:00Z"));
    CHECK(time_bad("2026-04-31T09:30:00Z"));
    CHECK(time_bad("2026-13-01T09:30:00Z"));
    CHECK(time_bad("2026-00-01T09:30:00Z"));
    CHECK(time_bad("2026-12-00T09:30:00Z"));
    CHECK(time_bad("2026-12-02T24:00:00Z"));
    CHECK(time_bad("2026-12-02T09:60:00Z"));
    CHECK(time_bad("2026-12-02T09:30:60Z"));
    CHECK(time_bad("2026-12-02T09:30:00+24:00"));
    CHECK(time_bad("2026-12-02T09:30:00+02:60"));
    CHECK(time_bad("2026-12-02T09:30:00+0200"));
    CHECK(time_bad("2026-12-02T09:30:00+02"));
    CHECK(time_bad("2026-12-02 09:30:00Z"));
    CHECK(time_bad("2026-12-02t09:30:00z"));
    CHECK(time_bad("2026-12-02T09:30:00ZZ"));
    CHECK(time_bad("2026-12-02T09:30:00.Z"));
    CHECK(time_bad("2026-12-02T09:30:00.1234567890Z")); /* ten digits */
    CHECK(time_bad("2026-12-02T09:30.5Z"));             /* a fraction needs seconds */
    CHECK(time_bad("26-12-02T09:30:00Z"));
    CHECK(time_bad("2026-12-2T09:30:00Z"));
    CHECK(time_bad("+2026-12-02T09:30:00Z"));
    CHECK(time_bad("2026-12-02"));
    CHECK(time_bad(""));
    CHECK(time_bad(NULL));

    CHECK(text_is(0, "1970-01-01T00:00:00Z"));
    CHECK(text_is(1796203800000LL, "2026-12-02T09:30:00Z"));
    CHECK(text_is(1796201130250LL, "2026-12-02T08:45:30Z")); /* whole seconds */
    CHECK(text_is(1835481599000LL, "2028-02-29T23:59:59Z"));
    CHECK(text_is(-1000, "1969-12-31T23:59:59Z"));
    CHECK(text_is(-1, "1969-12-31T23:59:59Z")); /* floored, not rounded to zero */
    CHECK(text_is(-62135596800000LL, "0001-01-01T00:00:00Z"));
    CHECK(text_is(253402300799000LL, "9999-12-31T23:59:59Z"));
    /* Every day of four years goes there and back. */
    {
        bool all = true;
        for (long long day = 20454; day < 20454 + 4 * 366; day++) {
            char text[PROTO_TIME_MAX];
            long long ms = 0, at = day * DAY_MS + 45296000LL; /* 12:34:56 */
            proto_time_text(at, text, sizeof(text));
            if (programme_time_parse(text, &ms) != 0 || ms != at)
                all = false;
        }
        CHECK(all);
    }
}

/* ---- Parsing ---------------------------------------------------------- */

static char big[1 << 20]; /* one file being built */

/* Parse text: rc; err filled; the sessions freed unless kept. */
static int parse(const char *text, struct prog_session **out, size_t *n, char *err, size_t errlen)
{
    return programme_parse(text, strlen(text), out, n, err, errlen);
}

/* text is refused with exactly want. */
static bool refused(const char *text, const char *want)
{
    char err[512];
    struct prog_session *ss = (struct prog_session *)&err; /* anything but NULL */
    size_t n = 99;
    int rc = parse(text, &ss, &n, err, sizeof(err));
    bool ok = rc == -1 && ss == NULL && n == 0 && strcmp(err, want) == 0;
    if (!ok)
        fprintf(stderr, "  rc %d, got \"%s\"\n  want \"%s\"\n", rc, rc ? err : "", want);
    if (rc == 0)
        free(ss);
    return ok;
}

/* text is refused with a message starting with want. */
static bool refused_with(const char *text, const char *want)
{
    char err[512];
    struct prog_session *ss = NULL;
    size_t n = 0;
    int rc = parse(text, &ss, &n, err, sizeof(err));
    bool ok = rc == -1 && strncmp(err, want, strlen(want)) == 0;
    if (!ok)
        fprintf(stderr, "  rc %d, got \"%s\"\n  want \"%s...\"\n", rc, rc ? err : "", want);
    if (rc == 0)
        free(ss);
    return ok;
}

static bool accepted(const char *text, size_t want_n)
{
    char err[512] = "";
    struct prog_session *ss = NULL;
    size_t n = 0;
    int rc = parse(text, &ss, &n, err, sizeof(err));
    if (rc != 0 || n != want_n)
        fprintf(stderr, "  rc %d, n %zu: %s\n", rc, n, err);
    free(ss);
    return rc == 0 && n == want_n;
}

static const char *const base_keys[] = {"id", "title", "room", "start", "end"};
static const char *const base_vals[] = {"\"k\"", "\"Keynote\"", "\"plenary\"",
                                        "\"2026-12-02T10:00:00Z\"", "\"2026-12-02T10:45:00Z\""};

/* A programme of one good session whose field key is the raw JSON raw
 * (NULL: left out; a key not in the base: added). Into big. */
static const char *with(const char *key, const char *raw)
{
    size_t k = (size_t)snprintf(big, sizeof(big), "{\"sessions\":[{");
    bool used = false, first = true;
    for (size_t i = 0; i < sizeof(base_keys) / sizeof(base_keys[0]); i++) {
        const char *v = base_vals[i];
        if (key && strcmp(key, base_keys[i]) == 0) {
            used = true;
            if (!raw)
                continue;
            v = raw;
        }
        k += (size_t)snprintf(big + k, sizeof(big) - k, "%s\"%s\":%s", first ? "" : ",",
                              base_keys[i], v);
        first = false;
    }
    if (key && !used)
        k += (size_t)snprintf(big + k, sizeof(big) - k, ",\"%s\":%s", key, raw);
    snprintf(big + k, sizeof(big) - k, "}]}");
    return big;
}

/* A JSON string of n copies of the UTF-8 text unit, into out. */
static const char *repeat(char *out, size_t size, const char *unit, size_t n)
{
    size_t k = 0, u = strlen(unit);
    out[k++] = '"';
    for (size_t i = 0; i < n && k + u + 2 < size; i++, k += u)
        memcpy(out + k, unit, u);
    out[k++] = '"';
    out[k] = '\0';
    return out;
}

/* A list of n user ids "u-0", "u-1", ... into out. */
static const char *people(char *out, size_t size, size_t n)
{
    size_t k = (size_t)snprintf(out, size, "[");
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(out + k, size - k, "%s\"u-%zu\"", i ? "," : "", i);
    snprintf(out + k, size - k, "]");
    return out;
}

#define TWO(a, b) "{\"sessions\":[" a "," b "]}"
#define SESSION(id, room, start, end)                                                              \
    "{\"id\":\"" id "\",\"title\":\"T\",\"room\":\"" room "\",\"start\":\"" start                  \
    "\",\"end\":\"" end "\"}"

static void test_parse_good(void)
{
    static const char file[] =
        "{\"sessions\":["
        "{\"id\":\"panel_2\",\"title\":\"Open data, open cities\",\"room\":\"plenary\","
        " \"start\":\"2026-12-02T12:45:30.250+02:00\",\"end\":\"2026-12-02T11:30:00Z\","
        " \"moderators\":[\"u-mod\"],\"speakers\":[\"u-b\",\"u-a\"],\"captioners\":null},"
        "{\"id\":\"keynote\",\"title\":\"Cities as platforms \\u00e9\","
        " \"description\":\"First line.\\nSecond line.\",\"room\":\"plenary\","
        " \"start\":\"2026-12-02T10:00:00Z\",\"end\":\"2026-12-02T10:45:00Z\","
        " \"speakers\":[\"u-a\"],\"moderators\":[\"u-a\"],\"captioners\":[\"u-cap\"]},"
        "{\"id\":\"Workshop-1\",\"title\":\"Sensors\",\"room\":\"lab-2\","
        " \"start\":\"2026-12-02T10:00:00Z\",\"end\":\"2026-12-02T10:45:00Z\","
        " \"description\":null,\"speakers\":[]}]}";
    char err[512] = "";
    struct prog_session *ss = NULL;
    size_t n = 0;

    CHECK(parse(file, &ss, &n, err, sizeof(err)) == 0 && n == 3);
    if (n != 3) {
        fprintf(stderr, "  %s\n", err);
        free(ss);
        return;
    }
    /* In the file's order, so that later checks name the file's index. */
    CHECK(strcmp(ss[2].id, "Workshop-1") == 0);
    CHECK(strcmp(ss[1].id, "keynote") == 0);
    CHECK(strcmp(ss[0].id, "panel_2") == 0);

    CHECK(strcmp(ss[1].title, "Cities as platforms \xc3\xa9") == 0);
    CHECK(strcmp(ss[1].description, "First line.\nSecond line.") == 0);
    CHECK(strcmp(ss[1].room, "plenary") == 0);
    CHECK(ss[1].start_ms == 1796205600000LL && ss[1].end_ms == 1796208300000LL);
    CHECK(ss[1].npeople[PROG_SPEAKER] == 1 && strcmp(ss[1].people[PROG_SPEAKER][0], "u-a") == 0);
    CHECK(ss[1].npeople[PROG_MODERATOR] == 1 &&
          strcmp(ss[1].people[PROG_MODERATOR][0], "u-a") == 0); /* two lists: fine */
    CHECK(ss[1].npeople[PROG_CAPTIONER] == 1 &&
          strcmp(ss[1].people[PROG_CAPTIONER][0], "u-cap") == 0);
    CHECK(ss[1].state == PROG_SCHEDULED && ss[1].slides_pages == 0 && ss[1].floor_user[0] == 0);

    /* 12:45:30.250+02:00 is 10:45:30.250Z: after the keynote, same room. */
    CHECK(ss[0].start_ms == 1796208330250LL);
    CHECK(ss[0].end_ms == 1796211000000LL);
    CHECK(ss[0].description[0] == '\0');
    CHECK(ss[0].npeople[PROG_SPEAKER] == 2 && strcmp(ss[0].people[PROG_SPEAKER][0], "u-b") == 0 &&
          strcmp(ss[0].people[PROG_SPEAKER][1], "u-a") == 0); /* the file's order */
    CHECK(ss[0].npeople[PROG_MODERATOR] == 1 && ss[0].npeople[PROG_CAPTIONER] == 0);

    CHECK(strcmp(ss[2].room, "lab-2") == 0 && ss[2].npeople[PROG_SPEAKER] == 0);
    CHECK(ss[2].description[0] == '\0');

    /* programme_overlap: a new copy of a session is not its own overlap;
     * a session in the keynote's slot in its room is. */
    {
        struct prog_session probe = ss[1];
        CHECK(programme_overlap(ss, n, &probe) == NULL);
        snprintf(probe.id, sizeof(probe.id), "other");
        CHECK(programme_overlap(ss, n, &probe) == &ss[1]);
        probe.start_ms = ss[1].end_ms; /* back to back with the keynote, before the panel */
        probe.end_ms = ss[0].start_ms;
        CHECK(programme_overlap(ss, n, &probe) == NULL);
        snprintf(probe.room, sizeof(probe.room), "lab-2");
        probe.start_ms = ss[2].start_ms + 1;
        CHECK(programme_overlap(ss, n, &probe) == &ss[2]);
    }
    free(ss);

    /* An empty programme. */
    ss = NULL;
    CHECK(parse("{\"sessions\":[]}", &ss, &n, err, sizeof(err)) == 0 && n == 0 && ss != NULL);
    free(ss);
    CHECK(accepted(" {\"sessions\" : [ ] } \n", 0));

    /* Back to back in one room; the same time in two rooms. */
    CHECK(accepted(TWO(SESSION("a", "plenary", "2026-12-02T10:00:00Z", "2026-12-02T10:45:00Z"),
                       SESSION("b", "plenary", "2026-12-02T10:45:00Z", "2026-12-02T11:00:00Z")),
                   2));
    CHECK(
        accepted(TWO(SESSION("a", "plenary", "2026-12-02T10:00:00Z", "2026-12-02T10:45:00Z"),
                     SESSION("b", "plenary", "2026-12-02T12:45:00+02:00", "2026-12-02T11:00:00Z")),
                 2));
    CHECK(accepted(TWO(SESSION("a", "plenary", "2026-12-02T10:00:00Z", "2026-12-02T10:45:00Z"),
                       SESSION("b", "hall-b", "2026-12-02T10:00:00Z", "2026-12-02T10:45:00Z")),
                   2));

    /* Bounds, at the bound. */
    {
        char v[4096];
        CHECK(accepted(with("title", repeat(v, sizeof(v), "\xf0\x9f\x8e\xa4", 200)), 1));
        CHECK(accepted(with("description", repeat(v, sizeof(v), "\xe2\x82\xac", 2000)), 1));
        CHECK(accepted(with("id", repeat(v, sizeof(v), "a", 64)), 1));
        CHECK(accepted(with("room", repeat(v, sizeof(v), "r", 64)), 1));
        CHECK(accepted(with("speakers", people(v, sizeof(v), PROG_PEOPLE_MAX)), 1));
        CHECK(accepted(with("moderators", "[\"abcdefghijklmnopqrstuvw\"]"), 1)); /* 23 */
    }
}

/* n sessions one after the other in one room, ids s0.. */
static const char *many(size_t n)
{
    size_t k = (size_t)snprintf(big, sizeof(big), "{\"sessions\":[");
    for (size_t i = 0; i < n; i++) {
        long long at = T0 + (long long)i * 3600000LL;
        char a[PROTO_TIME_MAX], b[PROTO_TIME_MAX];
        proto_time_text(at, a, sizeof(a));
        proto_time_text(at + 3600000LL, b, sizeof(b));
        k += (size_t)snprintf(big + k, sizeof(big) - k,
                              "%s{\"id\":\"s%zu\",\"title\":\"T\",\"room\":\"plenary\","
                              "\"start\":\"%s\",\"end\":\"%s\"}",
                              i ? "," : "", i, a, b);
    }
    snprintf(big + k, sizeof(big) - k, "]}");
    return big;
}

#define K "sessions[0] (k)."

static void test_parse_bad(void)
{
    char v[8192];

    /* The file as a whole. */
    CHECK(refused_with("not json", "programme: invalid JSON: "));
    CHECK(refused_with("", "programme: invalid JSON: "));
    CHECK(refused_with("{\"sessions\":[]", "programme: invalid JSON: "));
    CHECK(refused_with("{\"sessions\":[],\"sessions\":[]}", "programme: invalid JSON: "));
    CHECK(refused("[]", "programme: not a JSON object"));
    CHECK(refused("\"sessions\"", "programme: not a JSON object"));
    CHECK(refused("{}", "sessions: missing"));
    CHECK(refused("{\"sessions\":{}}", "sessions: not an array"));
    CHECK(refused("{\"sessions\":null}", "sessions: not an array"));
    CHECK(refused("{\"sessions\":[],\"venue\":1}",
                  "venue: unknown field; a programme has only sessions"));
    CHECK(refused("{\"sessions\":[1]}", "sessions[0]: not an object"));
    CHECK(refused("{\"sessions\":[[]]}", "sessions[0]: not an object"));
    {
        size_t k = (size_t)snprintf(v, sizeof(v), "{\"sessions\":");
        for (int i = 0; i < 200; i++)
            v[k++] = '[';
        v[k] = '\0';
        CHECK(refused(v, "programme: nested deeper than 8 levels"));
    }
    {
        char *huge = malloc((size_t)PROG_FILE_MAX + 1);
        struct prog_session *ss = NULL;
        size_t n = 0;
        CHECK(huge != NULL);
        if (huge) {
            char err[256];
            memset(huge, ' ', (size_t)PROG_FILE_MAX + 1);
            CHECK(programme_parse(huge, (size_t)PROG_FILE_MAX + 1, &ss, &n, err, sizeof(err)) ==
                      -1 &&
                  strcmp(err, "programme: 4194305 bytes, more than 4194304") == 0);
            free(huge);
        }
    }
    CHECK(accepted(many(PROG_SESSIONS_MAX), PROG_SESSIONS_MAX));
    CHECK(refused(many(PROG_SESSIONS_MAX + 1), "sessions: 501 sessions, more than 500"));

    /* Missing fields. */
    CHECK(refused(with("id", NULL), "sessions[0].id: missing"));
    CHECK(refused(with("title", NULL), K "title: missing"));
    CHECK(refused(with("room", NULL), K "room: missing"));
    CHECK(refused(with("start", NULL), K "start: missing"));
    CHECK(refused(with("end", NULL), K "end: missing"));
    CHECK(refused(with("title", "null"), K "title: missing"));

    /* Wrong types. */
    CHECK(refused(with("id", "7"), "sessions[0].id: not a string"));
    CHECK(refused(with("title", "[\"Keynote\"]"), K "title: not a string"));
    CHECK(refused(with("description", "3"), K "description: not a string"));
    CHECK(refused(with("room", "{}"), K "room: not a string"));
    CHECK(refused(with("start", "1796203800000"), K "start: not a string"));
    CHECK(refused(with("end", "true"), K "end: not a string"));
    CHECK(refused(with("speakers", "\"u-a\""), K "speakers: not an array of user ids"));
    CHECK(refused(with("moderators", "{}"), K "moderators: not an array of user ids"));
    CHECK(refused(with("captioners", "[\"u-a\",7]"), K "captioners[1]: not a string"));

    /* Ids and rooms. */
    CHECK(refused(with("id", "\"key note\""),
                  "sessions[0].id: not a valid id \"key note\": use 1 to 64 of A-Z, a-z, 0-9, "
                  "'_' and '-'"));
    CHECK(refused(with("id", "\"\""),
                  "sessions[0].id: not a valid id \"\": use 1 to 64 of A-Z, a-z, 0-9, '_' and "
                  "'-'"));
    CHECK(refused(with("id", "\"k\\u00e9\""),
                  "sessions[0].id: not a valid id \"k??\": use 1 to 64 of A-Z, a-z, 0-9, '_' and "
                  "'-'"));
    CHECK(refused(with("id", repeat(v, sizeof(v), "a", 65)),
                  "sessions[0].id: not a valid id \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": "
                  "use 1 to 64 of A-Z, a-z, 0-9, '_' and '-'"));
    CHECK(refused(with("room", "\"Plenary\""),
                  K "room: not a valid room id \"Plenary\": use 1 to 64 of a-z, 0-9 and '-', "
                    "starting with a letter or digit"));
    CHECK(refused_with(with("room", "\"-plenary\""), K "room: not a valid room id"));
    CHECK(refused_with(with("room", "\"plenary_1\""), K "room: not a valid room id"));
    CHECK(refused_with(with("room", "\"\""), K "room: not a valid room id"));
    CHECK(refused_with(with("room", repeat(v, sizeof(v), "r", 65)), K "room: not a valid room id"));

    /* Texts. */
    CHECK(refused(with("title", "\"\""), K "title: must not be empty"));
    CHECK(refused(with("title", "\"   \""), K "title: must not be blank"));
    CHECK(refused(with("title", repeat(v, sizeof(v), "\xc3\xa9", 201)),
                  K "title: must be 1..200 characters, not 201"));
    CHECK(refused(with("title", "\"Key\\u0007note\""),
                  K "title: contains a control character (U+0007)"));
    CHECK(
        refused(with("title", "\"Key\\nnote\""), K "title: contains a control character (U+000A)"));
    CHECK(refused(with("title", "\"Key\\u202enote\""),
                  K "title: contains a control character (U+202E)"));
    CHECK(refused(with("title", "\"Key\\u2066note\""),
                  K "title: contains a control character (U+2066)"));
    CHECK(refused(with("title", "\"Key\\u0085note\""),
                  K "title: contains a control character (U+0085)"));
    CHECK(refused(with("description", repeat(v, sizeof(v), "d", 2001)),
                  K "description: must be at most 2000 characters, not 2001"));
    CHECK(refused(with("description", "\"one\\r\\ntwo\""),
                  K "description: contains a control character (U+000D)"));
    CHECK(refused(with("description", "\"one \\u202e two\""),
                  K "description: contains a control character (U+202E)"));
    CHECK(accepted(with("description", "\"\""), 1));

    /* Unknown fields. */
    CHECK(refused(with("speaker", "[\"u-a\"]"),
                  K "speaker: unknown field; a session has id, title, description, room, start, "
                    "end, speakers, moderators and captioners"));
    CHECK(refused_with(with("Title", "\"x\""), K "Title: unknown field"));
    CHECK(refused_with(with("state", "\"live\""), K "state: unknown field"));

    /* Times. */
    CHECK(refused(with("start", "\"2026-12-02 10:00\""),
                  K "start: not an ISO 8601 time with a zone, e.g. 2026-12-02T09:30:00Z"));
    CHECK(refused(with("end", "\"tomorrow\""),
                  K "end: not an ISO 8601 time with a zone, e.g. 2026-12-02T09:30:00Z"));
    CHECK(refused(with("start", "\"2026-12-02T10:00:00\""),
                  K "start: \"2026-12-02T10:00:00\" has no time zone: end it with Z or an "
                    "offset such as +01:00, e.g. 2026-12-02T09:30:00Z"));
    CHECK(refused_with(with("end", "\"2026-12-02T10:45\""), K "end: \"2026-12-02T10:45\" has no "
                                                              "time zone"));
    CHECK(refused(with("start", "\"2026-02-30T10:00:00Z\""),
                  K "start: \"2026-02-30T10:00:00Z\" is not a date of the calendar"));
    CHECK(refused(with("start", "\"2026-13-02T10:00:00Z\""),
                  K "start: \"2026-13-02T10:00:00Z\" is not a date of the calendar"));
    CHECK(refused(with("start", "\"2027-02-29T10:00:00Z\""),
                  K "start: \"2027-02-29T10:00:00Z\" is not a date of the calendar"));
    CHECK(refused(with("end", "\"2026-12-02T24:00:00Z\""),
                  K "end: \"2026-12-02T24:00:00Z\" is not a time of day (00:00:00 to 23:59:59)"));
    CHECK(refused(with("end", "\"2026-12-02T10:45:00+25:00\""),
                  K "end: \"2026-12-02T10:45:00+25:00\" has no such zone offset (at most 23:59)"));
    CHECK(refused(with("end", "\"2026-12-02T10:00:00Z\""),
                  K "end: must be after the start (2026-12-02T10:00:00Z)"));
    CHECK(refused(with("end", "\"2026-12-02T09:00:00Z\""),
                  K "end: must be after the start (2026-12-02T10:00:00Z)"));
    /* The same instant written in another zone is not after it either. */
    CHECK(refused(with("end", "\"2026-12-02T12:00:00+02:00\""),
                  K "end: must be after the start (2026-12-02T10:00:00Z)"));

    /* People. */
    CHECK(refused(with("speakers", "[\"u-a\",\"u-b\",\"u-a\"]"),
                  K "speakers[2]: \"u-a\" is already speakers[0]"));
    CHECK(refused(with("speakers", people(v, sizeof(v), PROG_PEOPLE_MAX + 1)),
                  K "speakers: 33 people, more than 32"));
    CHECK(refused(with("moderators", people(v, sizeof(v), PROG_PEOPLE_MAX + 1)),
                  K "moderators: 33 people, more than 32"));
    CHECK(refused(with("captioners", "[\"u a\"]"),
                  K "captioners[0]: not a user id \"u a\": use 1 to 23 of A-Z, a-z, 0-9, '_' and "
                    "'-'"));
    CHECK(refused_with(with("captioners", "[\"\"]"), K "captioners[0]: not a user id \"\""));
    CHECK(refused_with(with("speakers", "[\"abcdefghijklmnopqrstuvwx\"]"), /* 24 */
                       K "speakers[0]: not a user id"));

    /* Across sessions: duplicates and overlaps, named at the later one. */
    CHECK(refused(TWO(SESSION("k", "plenary", "2026-12-02T10:00:00Z", "2026-12-02T10:45:00Z"),
                      SESSION("k", "hall-b", "2026-12-02T12:00:00Z", "2026-12-02T12:45:00Z")),
                  "sessions[1] (k).id: the same id as sessions[0]"));
    CHECK(refused(TWO(SESSION("keynote", "plenary", "2026-12-02T10:00:00Z", "2026-12-02T10:45:00Z"),
                      SESSION("panel", "plenary", "2026-12-02T10:30:00Z", "2026-12-02T11:00:00Z")),
                  "sessions[1] (panel).start: overlaps \"keynote\" in room plenary "
                  "(2026-12-02T10:00:00Z to 2026-12-02T10:45:00Z)"));
    CHECK(refused(TWO(SESSION("keynote", "plenary", "2026-12-02T10:00:00Z", "2026-12-02T10:45:00Z"),
                      SESSION("day", "plenary", "2026-12-02T09:00:00Z", "2026-12-02T18:00:00Z")),
                  "sessions[1] (day).start: overlaps \"keynote\" in room plenary "
                  "(2026-12-02T10:00:00Z to 2026-12-02T10:45:00Z)"));
    /* 12:44+02:00 is 10:44Z: one minute into the keynote's last. */
    CHECK(refused_with(
        TWO(SESSION("keynote", "plenary", "2026-12-02T10:00:00Z", "2026-12-02T10:45:00Z"),
            SESSION("panel", "plenary", "2026-12-02T12:44:00+02:00", "2026-12-02T11:00:00Z")),
        "sessions[1] (panel).start: overlaps \"keynote\""));
    /* The first session that is wrong is the one named. */
    CHECK(refused("{\"sessions\":[" SESSION("a", "plenary", "2026-12-02T10:00:00Z",
                                            "2026-12-02T10:45:00Z") ",{\"id\":\"b\"},{\"id\":3}]}",
                  "sessions[1] (b).title: missing"));

    /* A small buffer is filled, not overrun. */
    {
        char err[12];
        struct prog_session *ss = NULL;
        size_t n = 0;
        CHECK(parse(with("title", NULL), &ss, &n, err, sizeof(err)) == -1 &&
              strcmp(err, "sessions[0]") == 0);
    }
}

/* ---- The store -------------------------------------------------------- */

static char dir[256];
static struct store *st;
static struct registry *reg;
static struct programme *prog;
static struct reg_user ada, bob, cat, dan, revoked, guest_role;

static void open_db(void)
{
    char err[512];
    st = check_store_open(dir, err, sizeof(err));
    reg = st ? registry_open(st, err, sizeof(err)) : NULL;
    prog = reg ? programme_open(st, reg, err, sizeof(err)) : NULL;
    if (!prog) {
        fprintf(stderr, "open: %s\n", err);
        exit(1);
    }
}

static void close_db(void)
{
    programme_close(prog);
    registry_close(reg);
    store_close(st);
    prog = NULL;
    reg = NULL;
    st = NULL;
}

/* A count from SQL, for what the API does not show (orphans). */
static long long count(const char *sql)
{
    return check_store_int(st, sql);
}

/* Make the database refuse writes (on), or take them again (off). */
static bool read_only(bool on)
{
    struct db *db = store_db(st);
    return db_exec(db, on ? db_sql(db, "PRAGMA query_only = ON",
                                   "SET default_transaction_read_only = on")
                          : db_sql(db, "PRAGMA query_only = OFF",
                                   "SET default_transaction_read_only = off")) == 0;
}

static void add_user(const char *name, enum role role, struct reg_user *u)
{
    char token[REG_TOKEN_LEN + 1], err[256];
    if (registry_user_add(reg, name, "", role, 0, T0, u, token, err, sizeof(err)) < 0) {
        fprintf(stderr, "user_add: %s\n", err);
        exit(1);
    }
}

/* Sessions as programme_each gives them. */
struct listing {
    struct prog_session s[8];
    size_t n;
};

static void collect(void *arg, const struct prog_session *s)
{
    struct listing *l = arg;
    if (l->n < sizeof(l->s) / sizeof(l->s[0]))
        l->s[l->n] = *s;
    l->n++;
}

static struct listing *list_all(void)
{
    static struct listing l;
    memset(&l, 0, sizeof(l));
    if (programme_each(prog, collect, &l) < 0)
        l.n = 999;
    return &l;
}

static const struct prog_session *find(struct listing *l, const char *id)
{
    for (size_t i = 0; i < l->n && i < 8; i++)
        if (strcmp(l->s[i].id, id) == 0)
            return &l->s[i];
    return NULL;
}

/* Ids as the stars listings give them, joined by spaces. */
struct ids {
    char text[512];
};

static void join(void *arg, const char *id)
{
    struct ids *l = arg;
    size_t k = strlen(l->text);
    snprintf(l->text + k, sizeof(l->text) - k, "%s%s", k ? " " : "", id);
}

static const char *stars_of(const char *user)
{
    static struct ids l;
    l.text[0] = '\0';
    if (programme_stars_each(prog, user, join, &l) < 0)
        return "(error)";
    return l.text;
}

static const char *starred_by(const char *session)
{
    static struct ids l;
    l.text[0] = '\0';
    if (programme_starred_by_each(prog, session, join, &l) < 0)
        return "(error)";
    return l.text;
}

/* Questions as listed: "id:votes:voted:answered:text" joined by spaces. */
static void join_question(void *arg, const struct prog_question *q, bool voted)
{
    struct ids *l = arg;
    size_t k = strlen(l->text);
    snprintf(l->text + k, sizeof(l->text) - k, "%s%lld:%d:%d:%d:%s", k ? " " : "", q->id, q->votes,
             voted, q->answered, q->text);
}

static const char *questions_of(const char *session, const char *user)
{
    static struct ids l;
    l.text[0] = '\0';
    if (programme_questions_each(prog, session, user, join_question, &l) < 0)
        return "(error)";
    return l.text;
}

static bool str_is(const char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fprintf(stderr, "  got \"%s\"\n  want \"%s\"\n", got, want);
    return strcmp(got, want) == 0;
}

/* The first programme: keynote and panel in the plenary, a workshop in
 * the lab. Times as a file would give them, +02:00 and fractions. */
static size_t first_programme(struct prog_session **ss)
{
    char file[2048], err[512];
    size_t n = 0;
    snprintf(file, sizeof(file),
             "{\"sessions\":["
             "{\"id\":\"keynote\",\"title\":\"Cities as platforms\",\"description\":\"A\\nB\","
             " \"room\":\"plenary\",\"start\":\"2026-12-02T12:00:00+02:00\","
             " \"end\":\"2026-12-02T10:45:00.500Z\",\"speakers\":[\"%s\",\"%s\"],"
             " \"moderators\":[\"%s\"],\"captioners\":[\"%s\"]},"
             "{\"id\":\"panel\",\"title\":\"Open data\",\"room\":\"plenary\","
             " \"start\":\"2026-12-02T11:00:00Z\",\"end\":\"2026-12-02T12:00:00Z\","
             " \"speakers\":[\"%s\"]},"
             "{\"id\":\"workshop\",\"title\":\"Sensors\",\"room\":\"lab\","
             " \"start\":\"2026-12-02T10:00:00Z\",\"end\":\"2026-12-02T12:00:00Z\"}]}",
             bob.id, ada.id, cat.id, dan.id, ada.id);
    if (programme_parse(file, strlen(file), ss, &n, err, sizeof(err)) < 0) {
        fprintf(stderr, "parse: %s\n", err);
        exit(1);
    }
    return n;
}

static void test_check_people(void)
{
    char err[512];
    struct prog_session *ss = NULL;
    size_t n = first_programme(&ss);

    CHECK(programme_check_people(prog, ss, n, err, sizeof(err)) == 0);
    /* ss is in the file's order: the panel is the second. */
    CHECK(strcmp(ss[1].id, "panel") == 0);
    snprintf(ss[1].people[PROG_SPEAKER][0], REG_ID_MAX, "u-0000000000000000");
    CHECK(
        programme_check_people(prog, ss, n, err, sizeof(err)) == -1 &&
        str_is(err, "sessions[1] (panel).speakers[0]: no registered user \"u-0000000000000000\""));
    memcpy(ss[1].people[PROG_SPEAKER][0], revoked.id, REG_ID_MAX);
    CHECK(programme_check_people(prog, ss, n, err, sizeof(err)) == -1 &&
          strstr(err, "sessions[1] (panel).speakers[0]: user \"u-") && strstr(err, "is revoked"));
    memcpy(ss[1].people[PROG_SPEAKER][0], guest_role.id, REG_ID_MAX);
    CHECK(programme_check_people(prog, ss, n, err, sizeof(err)) == -1 &&
          strstr(err, "sessions[1] (panel).speakers[0]: \"u-") &&
          strstr(err, "is a guest, not a registered user"));
    /* A guest as the venue records them (no registration at all). */
    CHECK(registry_guest_put(reg, "s-guest01", "Visitor", T0) == 0);
    snprintf(ss[0].people[PROG_CAPTIONER][0], REG_ID_MAX, "s-guest01");
    memcpy(ss[2].people[PROG_SPEAKER][0], ada.id, REG_ID_MAX);
    CHECK(programme_check_people(prog, ss, n, err, sizeof(err)) == -1 &&
          str_is(err, "sessions[0] (keynote).captioners[0]: \"s-guest01\" is a guest, not a "
                      "registered user"));
    CHECK(programme_check_people(prog, ss, 0, err, sizeof(err)) == 0);
    free(ss);
}

/* Every field of a and b alike (no memcmp: padding is not a field). */
static bool same_session(const struct prog_session *a, const struct prog_session *b)
{
    bool same = strcmp(a->id, b->id) == 0 && strcmp(a->title, b->title) == 0 &&
                strcmp(a->description, b->description) == 0 && strcmp(a->room, b->room) == 0 &&
                a->start_ms == b->start_ms && a->end_ms == b->end_ms && a->state == b->state &&
                a->slides_pages == b->slides_pages && a->slides_page == b->slides_page &&
                a->slides_version == b->slides_version &&
                strcmp(a->floor_user, b->floor_user) == 0 && a->floor_until_ms == b->floor_until_ms;
    for (int part = 0; same && part < PROG_PART_COUNT; part++) {
        same = a->npeople[part] == b->npeople[part];
        for (size_t k = 0; same && k < a->npeople[part]; k++)
            same = strcmp(a->people[part][k], b->people[part][k]) == 0;
    }
    return same;
}

static void test_replace_and_each(void)
{
    char err[512];
    struct prog_session *ss = NULL;
    size_t n = first_programme(&ss);
    struct listing *l;
    const struct prog_session *k, *w;

    CHECK(list_all()->n == 0);
    CHECK(programme_replace(prog, ss, n, err, sizeof(err)) == 0);
    l = list_all();
    CHECK(l->n == 3);
    CHECK(strcmp(l->s[0].id, "keynote") == 0 && strcmp(l->s[1].id, "workshop") == 0 &&
          strcmp(l->s[2].id, "panel") == 0);
    k = find(l, "keynote");
    w = find(l, "workshop");
    CHECK(k && w);
    if (!k || !w)
        return;
    CHECK(strcmp(k->title, "Cities as platforms") == 0 && strcmp(k->description, "A\nB") == 0);
    CHECK(strcmp(k->room, "plenary") == 0);
    CHECK(k->start_ms == 1796205600000LL && k->end_ms == 1796208300500LL);
    CHECK(k->state == PROG_SCHEDULED && k->slides_pages == 0 && k->slides_page == 0 &&
          k->slides_version == 0 && k->floor_user[0] == '\0' && k->floor_until_ms == 0);
    CHECK(k->npeople[PROG_SPEAKER] == 2 && strcmp(k->people[PROG_SPEAKER][0], bob.id) == 0 &&
          strcmp(k->people[PROG_SPEAKER][1], ada.id) == 0);
    CHECK(k->npeople[PROG_MODERATOR] == 1 && strcmp(k->people[PROG_MODERATOR][0], cat.id) == 0);
    CHECK(k->npeople[PROG_CAPTIONER] == 1 && strcmp(k->people[PROG_CAPTIONER][0], dan.id) == 0);
    CHECK(strcmp(w->room, "lab") == 0 && w->description[0] == '\0');
    CHECK(w->npeople[PROG_SPEAKER] == 0 && w->npeople[PROG_MODERATOR] == 0 &&
          w->npeople[PROG_CAPTIONER] == 0);
    /* Each session struct as parsed, but for what the store adds: nothing. */
    for (size_t i = 0; i < n; i++) {
        const struct prog_session *got = find(l, ss[i].id);
        CHECK(got && same_session(got, &ss[i]));
    }
    /* The same programme again changes nothing. */
    CHECK(programme_replace(prog, ss, n, err, sizeof(err)) == 0 && list_all()->n == 3);
    free(ss);
}

static void test_state(void)
{
    struct listing *l = list_all();
    struct prog_session s;
    const struct prog_session *k = find(l, "keynote");
    CHECK(k != NULL);
    if (!k)
        return;
    s = *k;
    s.state = PROG_LIVE;
    s.slides_pages = 12;
    s.slides_page = 3;
    s.slides_version = 2;
    memcpy(s.floor_user, ada.id, REG_ID_MAX);
    s.floor_until_ms = T0 + 120000;
    CHECK(programme_save_state(prog, &s) == 0);
    s = *find(l, "panel");
    s.state = PROG_LIVE;
    s.slides_pages = 4;
    s.slides_page = 4;
    s.slides_version = 1;
    memcpy(s.floor_user, bob.id, REG_ID_MAX);
    s.floor_until_ms = T0 + 60000;
    CHECK(programme_save_state(prog, &s) == 0);

    l = list_all();
    k = find(l, "keynote");
    CHECK(k && k->state == PROG_LIVE && k->slides_pages == 12 && k->slides_page == 3 &&
          k->slides_version == 2 && strcmp(k->floor_user, ada.id) == 0 &&
          k->floor_until_ms == T0 + 120000);
    CHECK(strcmp(prog_state_name(PROG_LIVE), "live") == 0 &&
          strcmp(prog_state_name(PROG_ENDED), "ended") == 0 &&
          strcmp(prog_state_name(PROG_SCHEDULED), "scheduled") == 0);
    CHECK(strcmp(prog_part_field(PROG_CAPTIONER), "captioners") == 0 &&
          strcmp(prog_part_field(PROG_SPEAKER), "speakers") == 0 &&
          strcmp(prog_part_field(PROG_MODERATOR), "moderators") == 0);

    /* What cannot be saved. */
    s = *find(l, "workshop");
    s.slides_pages = 3;
    s.slides_page = 4;
    CHECK(programme_save_state(prog, &s) == -1 && strstr(programme_error(prog), "slide 4 of 3"));
    s.slides_page = 0;
    CHECK(programme_save_state(prog, &s) == -1);
    s.slides_page = 1;
    s.state = (enum prog_state)7;
    CHECK(programme_save_state(prog, &s) == -1 && strstr(programme_error(prog), "state"));
    s.state = PROG_ENDED;
    snprintf(s.id, sizeof(s.id), "nosuch");
    CHECK(programme_save_state(prog, &s) == -1 &&
          str_is(programme_error(prog), "programme: no session \"nosuch\""));
    CHECK(find(list_all(), "workshop")->state == PROG_SCHEDULED);
}

static void test_stars(void)
{
    CHECK(programme_star(prog, ada.id, "panel", true) == 0);
    CHECK(programme_star(prog, ada.id, "keynote", true) == 0);
    CHECK(programme_star(prog, ada.id, "keynote", true) == 0); /* twice: once */
    CHECK(programme_star(prog, bob.id, "keynote", true) == 0);
    CHECK(programme_star(prog, cat.id, "workshop", true) == 0);
    CHECK(programme_star(prog, dan.id, "workshop", true) == 0);
    CHECK(programme_star(prog, dan.id, "workshop", false) == 0);
    CHECK(programme_star(prog, dan.id, "workshop", false) == 0); /* nothing to do */
    CHECK(programme_star(prog, ada.id, "nosuch", true) == -1 &&
          str_is(programme_error(prog), "programme: stars: no session \"nosuch\""));
    CHECK(programme_star(prog, ada.id, "nosuch", false) == 0);
    CHECK(programme_star(prog, "bad id", "keynote", true) == -1);
    CHECK(programme_star(prog, NULL, "keynote", true) == -1);
    CHECK(count("SELECT count(*) FROM prog_stars") == 4);

    CHECK(str_is(stars_of(ada.id), "keynote panel")); /* by start */
    CHECK(str_is(stars_of(dan.id), ""));
    CHECK(str_is(stars_of("u-nobody"), ""));
    {
        char want[64];
        bool ada_first = strcmp(ada.id, bob.id) < 0;
        snprintf(want, sizeof(want), "%s %s", ada_first ? ada.id : bob.id,
                 ada_first ? bob.id : ada.id);
        CHECK(str_is(starred_by("keynote"), want));
    }
    CHECK(str_is(starred_by("workshop"), cat.id));
    CHECK(str_is(starred_by("nosuch"), ""));
}

static long long q_keynote[3], q_workshop, q_panel;

static long long ask(const char *session, const struct reg_user *u, const char *text, long long ts)
{
    struct prog_question q = {.session_id = session,
                              .user_id = u->id,
                              .name = u->name,
                              .text = text,
                              .ts_ms = ts,
                              .votes = 9,
                              .answered = true};
    if (programme_question_add(prog, &q) < 0) {
        fprintf(stderr, "  question_add: %s\n", programme_error(prog));
        return -1;
    }
    CHECK(q.id > 0 && q.votes == 0 && !q.answered);
    return q.id;
}

static void test_questions(void)
{
    char want[256];
    struct prog_question q = {
        .session_id = "keynote", .user_id = ada.id, .name = "Ada", .text = "?", .ts_ms = T0};
    char long_text[PROG_QUESTION_MAX + 8];

    q_keynote[0] = ask("keynote", &bob, "first", T0 + 1000);
    q_keynote[1] = ask("keynote", &cat, "second", T0 + 2000);
    q_keynote[2] = ask("keynote", &dan, "third", T0 + 3000);
    q_workshop = ask("workshop", &ada, "lab", T0 + 500);
    q_panel = ask("panel", &ada, "data", T0 + 600);
    CHECK(q_keynote[0] > 0 && q_keynote[1] > q_keynote[0] && q_keynote[2] > q_keynote[1]);

    /* Before any vote: by time. */
    snprintf(want, sizeof(want), "%lld:0:0:0:first %lld:0:0:0:second %lld:0:0:0:third",
             q_keynote[0], q_keynote[1], q_keynote[2]);
    CHECK(str_is(questions_of("keynote", ada.id), want));

    CHECK(programme_question_vote(prog, q_keynote[2], ada.id) == 1);
    CHECK(programme_question_vote(prog, q_keynote[2], ada.id) == 0); /* once each */
    CHECK(programme_question_vote(prog, q_keynote[1], ada.id) == 1);
    CHECK(programme_question_vote(prog, q_keynote[1], bob.id) == 1);
    CHECK(programme_question_vote(prog, q_keynote[1], bob.id) == 0);
    CHECK(programme_question_vote(prog, q_workshop, bob.id) == 1);
    CHECK(programme_question_vote(prog, 999999, bob.id) == -1 &&
          str_is(programme_error(prog), "programme: vote: no question 999999"));
    CHECK(programme_question_vote(prog, q_keynote[0], "bad id") == -1);
    CHECK(count("SELECT count(*) FROM prog_votes") == 4);

    CHECK(programme_question_answer(prog, q_keynote[0]) == 1);
    CHECK(programme_question_answer(prog, q_keynote[0]) == 1); /* still marked */
    CHECK(programme_question_answer(prog, 999999) == 0);

    /* By votes, then time; voted for the asker of the listing. */
    snprintf(want, sizeof(want), "%lld:2:1:0:second %lld:1:1:0:third %lld:0:0:1:first",
             q_keynote[1], q_keynote[2], q_keynote[0]);
    CHECK(str_is(questions_of("keynote", ada.id), want));
    snprintf(want, sizeof(want), "%lld:2:1:0:second %lld:1:0:0:third %lld:0:0:1:first",
             q_keynote[1], q_keynote[2], q_keynote[0]);
    CHECK(str_is(questions_of("keynote", bob.id), want));
    snprintf(want, sizeof(want), "%lld:2:0:0:second %lld:1:0:0:third %lld:0:0:1:first",
             q_keynote[1], q_keynote[2], q_keynote[0]);
    CHECK(str_is(questions_of("keynote", NULL), want));
    /* A tie in votes goes to the earlier question. */
    CHECK(programme_question_vote(prog, q_keynote[2], cat.id) == 1);
    snprintf(want, sizeof(want), "%lld:2:1:0:second %lld:2:1:0:third %lld:0:0:1:first",
             q_keynote[1], q_keynote[2], q_keynote[0]);
    CHECK(str_is(questions_of("keynote", ada.id), want));
    CHECK(str_is(questions_of("nosuch", NULL), ""));

    /* What cannot be asked. */
    q.session_id = "nosuch";
    CHECK(programme_question_add(prog, &q) == -1 &&
          str_is(programme_error(prog), "programme: question: no session \"nosuch\""));
    q.session_id = "keynote";
    q.text = "";
    CHECK(programme_question_add(prog, &q) == -1 &&
          str_is(programme_error(prog), "programme: question.text: must not be empty"));
    q.text = repeat(long_text, sizeof(long_text), "x", 501) + 1;
    long_text[strlen(long_text) - 1] = '\0'; /* the closing quote */
    CHECK(strlen(q.text) == 501);
    CHECK(programme_question_add(prog, &q) == -1 &&
          str_is(programme_error(prog),
                 "programme: question.text: must be 1..500 characters, not 501"));
    q.text = "two\nlines";
    CHECK(programme_question_add(prog, &q) == -1 &&
          str_is(programme_error(prog),
                 "programme: question.text: contains a control character (U+000A)"));
    q.text = "next\xc2\x85line";
    CHECK(programme_question_add(prog, &q) == -1 &&
          str_is(programme_error(prog),
                 "programme: question.text: contains a control character (U+0085)"));
    q.text = "bad \xff byte";
    CHECK(programme_question_add(prog, &q) == -1 &&
          str_is(programme_error(prog), "programme: question.text: not valid UTF-8"));
    q.text = "fine";
    q.name = "";
    CHECK(programme_question_add(prog, &q) == -1 &&
          str_is(programme_error(prog), "programme: question.name: must not be empty"));
    q.name = "Ada";
    q.user_id = NULL;
    CHECK(programme_question_add(prog, &q) == -1);
    CHECK(count("SELECT count(*) FROM prog_questions") == 5);
    /* What the protocol lets into ask.text is kept: 500 characters of two
     * bytes, and bidi marks (refused in names of the programme, not here). */
    q.name = "Ada";
    q.user_id = ada.id;
    q.session_id = "workshop";
    q.text = repeat(long_text, sizeof(long_text), "\xc3\xa9", 500) + 1;
    long_text[strlen(long_text) - 1] = '\0';
    CHECK(programme_question_add(prog, &q) == 0);
    q.text = "\xe2\x80\xae reversed?";
    CHECK(programme_question_add(prog, &q) == 0);
    CHECK(count("SELECT count(*) FROM prog_questions WHERE session = 'workshop'") == 3);
}

struct question_seen {
    int n;
    char user[REG_ID_MAX], name[REG_NAME_MAX], session[PROG_ID_MAX];
    long long ts;
};

static void see_question(void *arg, const struct prog_question *q, bool voted)
{
    struct question_seen *s = arg;
    (void)voted;
    s->n++;
    snprintf(s->user, sizeof(s->user), "%s", q->user_id);
    snprintf(s->name, sizeof(s->name), "%s", q->name);
    snprintf(s->session, sizeof(s->session), "%s", q->session_id);
    s->ts = q->ts_ms;
}

static void test_question_fields(void)
{
    struct question_seen s = {0};
    CHECK(programme_questions_each(prog, "panel", NULL, see_question, &s) == 0);
    CHECK(s.n == 1 && strcmp(s.user, ada.id) == 0 && strcmp(s.name, "Ada Lovelace") == 0 &&
          strcmp(s.session, "panel") == 0 && s.ts == T0 + 600);
}

/*
 * The second programme: the keynote retitled (same times), the panel's
 * end moved, the workshop gone, a new session. What each keeps.
 */
static void test_replace_keeps(void)
{
    struct prog_session *ss = NULL;
    size_t n = first_programme(&ss);
    struct prog_session next[3] = {0};
    struct listing *l;
    const struct prog_session *k, *pn, *nw;
    char err[512], want[256];

    for (size_t i = 0; i < n; i++) {
        if (strcmp(ss[i].id, "keynote") == 0) {
            next[0] = ss[i];
            snprintf(next[0].title, sizeof(next[0].title), "Cities as platforms, again");
            next[0].npeople[PROG_SPEAKER] = 1; /* bob only now */
            /* ignored: state, deck and floor are the store's */
            next[0].state = PROG_ENDED;
            next[0].slides_pages = 99;
            snprintf(next[0].floor_user, REG_ID_MAX, "u-x");
        } else if (strcmp(ss[i].id, "panel") == 0) {
            next[1] = ss[i];
            next[1].end_ms += 15 * 60000LL;
        }
    }
    next[2] = next[1];
    snprintf(next[2].id, sizeof(next[2].id), "closing");
    snprintf(next[2].room, sizeof(next[2].room), "lab");
    next[2].npeople[PROG_SPEAKER] = 0;
    free(ss);

    CHECK(programme_replace(prog, next, 3, err, sizeof(err)) == 0);
    l = list_all();
    CHECK(l->n == 3 && find(l, "workshop") == NULL);
    k = find(l, "keynote");
    pn = find(l, "panel");
    nw = find(l, "closing");
    CHECK(k && pn && nw);
    if (!k || !pn || !nw)
        return;
    /* Kept whole: times did not move. */
    CHECK(strcmp(k->title, "Cities as platforms, again") == 0);
    CHECK(k->state == PROG_LIVE && k->slides_pages == 12 && k->slides_page == 3 &&
          k->slides_version == 2 && strcmp(k->floor_user, ada.id) == 0 &&
          k->floor_until_ms == T0 + 120000);
    CHECK(k->npeople[PROG_SPEAKER] == 1 && strcmp(k->people[PROG_SPEAKER][0], bob.id) == 0);
    CHECK(k->npeople[PROG_MODERATOR] == 1 && k->npeople[PROG_CAPTIONER] == 1);
    /* Moved: scheduled again, no floor; the deck stays. */
    CHECK(pn->end_ms == next[1].end_ms);
    CHECK(pn->state == PROG_SCHEDULED && pn->floor_user[0] == '\0' && pn->floor_until_ms == 0);
    CHECK(pn->slides_pages == 4 && pn->slides_page == 4 && pn->slides_version == 1);
    /* New: nothing yet. */
    CHECK(nw->state == PROG_SCHEDULED && nw->slides_pages == 0 && nw->floor_user[0] == '\0');

    /* Questions, votes and stars of kept sessions stay; the workshop's go. */
    snprintf(want, sizeof(want), "%lld:2:1:0:second %lld:2:1:0:third %lld:0:0:1:first",
             q_keynote[1], q_keynote[2], q_keynote[0]);
    CHECK(str_is(questions_of("keynote", ada.id), want));
    snprintf(want, sizeof(want), "%lld:0:0:0:data", q_panel);
    CHECK(str_is(questions_of("panel", ada.id), want));
    CHECK(str_is(questions_of("workshop", NULL), ""));
    CHECK(str_is(stars_of(ada.id), "keynote panel"));
    CHECK(str_is(starred_by("workshop"), ""));
    CHECK(str_is(stars_of(cat.id), ""));
    CHECK(count("SELECT count(*) FROM prog_questions") == 4);
    CHECK(count("SELECT count(*) FROM prog_votes") == 4); /* the workshop's one is gone */
    CHECK(count("SELECT count(*) FROM prog_votes WHERE question NOT IN "
                "(SELECT id FROM prog_questions)") == 0);
    CHECK(count("SELECT count(*) FROM prog_people WHERE session NOT IN "
                "(SELECT id FROM prog_sessions)") == 0);
    CHECK(count("SELECT count(*) FROM prog_people WHERE session = 'workshop'") == 0);

    /* A start that moves resets too. */
    {
        struct prog_session s = *k;
        s.start_ms -= 60000;
        next[0] = s;
        CHECK(programme_replace(prog, next, 3, err, sizeof(err)) == 0);
        k = find(list_all(), "keynote");
        CHECK(k && k->state == PROG_SCHEDULED && k->floor_user[0] == '\0' &&
              k->slides_pages == 12 && k->start_ms == s.start_ms);
    }
}

/* Everything about the programme as one text, to compare before and after. */
static void snapshot(char *out, size_t size)
{
    struct listing *l = list_all();
    size_t k = (size_t)snprintf(out, size, "%zu:", l->n);
    for (size_t i = 0; i < l->n && i < 8 && k < size; i++)
        k += (size_t)snprintf(out + k, size - k, "%s|%s|%s|%lld|%lld|%d|%d|%s|%zu;", l->s[i].id,
                              l->s[i].title, l->s[i].room, l->s[i].start_ms, l->s[i].end_ms,
                              (int)l->s[i].state, l->s[i].slides_pages, l->s[i].floor_user,
                              l->s[i].npeople[PROG_SPEAKER]);
    if (k < size)
        snprintf(out + k, size - k, "%s/%s/%s/%s", questions_of("keynote", ada.id),
                 questions_of("panel", NULL), stars_of(ada.id), starred_by("keynote"));
}

static void test_all_or_nothing(void)
{
    char before[4096], after[4096], err[512];
    struct listing *l = list_all();
    struct prog_session next[2];

    snapshot(before, sizeof(before));
    CHECK(l->n == 3);
    /* Drop a session, retitle one, and give the other a person twice: the
     * insert of the second copy fails after the deletes and the first
     * update were done, and all of them are undone. */
    next[0] = *find(l, "keynote");
    next[1] = *find(l, "panel");
    snprintf(next[0].title, sizeof(next[0].title), "Changed");
    next[1].npeople[PROG_SPEAKER] = 2;
    memcpy(next[1].people[PROG_SPEAKER][1], next[1].people[PROG_SPEAKER][0], REG_ID_MAX);
    CHECK(programme_replace(prog, next, 2, err, sizeof(err)) == -1 && strstr(err, "prog_people") &&
          db_failure(store_db(st)) == DB_FAIL_CONFLICT);
    snapshot(after, sizeof(after));
    CHECK(str_is(after, before));
    CHECK(!db_in_transaction(store_db(st))); /* no transaction left open */

    /* A database that refuses writes: nothing changes either. */
    next[1].npeople[PROG_SPEAKER] = 1;
    CHECK(read_only(true));
    CHECK(programme_replace(prog, next, 2, err, sizeof(err)) == -1 && err[0] != '\0');
    CHECK(programme_star(prog, bob.id, "panel", true) == -1);
    CHECK(programme_retain(prog, T0, 1) == -1);
    CHECK(programme_question_vote(prog, q_keynote[0], bob.id) == -1);
    CHECK(read_only(false));
    snapshot(after, sizeof(after));
    CHECK(str_is(after, before));
    CHECK(!db_in_transaction(store_db(st)));

    /* Inside the caller's transaction, a savepoint: the caller's rollback
     * undoes the replace as well. */
    CHECK(registry_begin(reg) == 0);
    CHECK(programme_replace(prog, NULL, 0, err, sizeof(err)) == 0);
    CHECK(list_all()->n == 0);
    registry_rollback(reg);
    snapshot(after, sizeof(after));
    CHECK(str_is(after, before));
    /* ... and a failing replace inside it leaves the caller's work alone. */
    CHECK(registry_begin(reg) == 0);
    CHECK(programme_star(prog, cat.id, "panel", true) == 0);
    next[1].npeople[PROG_SPEAKER] = 2;
    CHECK(programme_replace(prog, next, 2, err, sizeof(err)) == -1);
    CHECK(db_in_transaction(store_db(st))); /* still the caller's */
    CHECK(registry_commit(reg) == 0);
    {
        bool ada_first = strcmp(ada.id, cat.id) < 0;
        char want[64];
        snprintf(want, sizeof(want), "%s %s", ada_first ? ada.id : cat.id,
                 ada_first ? cat.id : ada.id);
        CHECK(str_is(starred_by("panel"), want)); /* the star made before the failure stays */
    }
    CHECK(programme_star(prog, cat.id, "panel", false) == 0);
    snapshot(after, sizeof(after));
    CHECK(str_is(after, before));

    /* Arguments out of bounds are refused before anything is written. */
    next[1].npeople[PROG_SPEAKER] = PROG_PEOPLE_MAX + 1;
    CHECK(programme_replace(prog, next, 2, err, sizeof(err)) == -1 &&
          str_is(err, "programme: sessions[1] (panel).speakers: more than 32 people"));
    next[1].npeople[PROG_SPEAKER] = 1;
    snprintf(next[1].id, sizeof(next[1].id), "bad id");
    CHECK(programme_replace(prog, next, 2, err, sizeof(err)) == -1 &&
          str_is(err, "programme: sessions[1]: not a valid id"));
    CHECK(programme_replace(prog, next, PROG_SESSIONS_MAX + 1, err, sizeof(err)) == -1 &&
          str_is(err, "programme: 501 sessions, more than 500"));
    snapshot(after, sizeof(after));
    CHECK(str_is(after, before));
}

static void test_retain(void)
{
    char want[256];
    long long old_q, old_q2;
    long removed;

    /* Two old questions, one with two votes, and the recent ones. */
    old_q = ask("panel", &bob, "old", T0 - 40 * DAY_MS);
    old_q2 = ask("keynote", &cat, "older", T0 - 31 * DAY_MS);
    CHECK(programme_question_vote(prog, old_q, ada.id) == 1);
    CHECK(programme_question_vote(prog, old_q, cat.id) == 1);
    CHECK(old_q > 0 && old_q2 > 0);
    CHECK(programme_retain(prog, T0, 0) == -1 &&
          str_is(programme_error(prog), "programme: retention: days must be at least 1"));
    removed = programme_retain(prog, T0, 30);
    CHECK(removed == 4); /* two questions and their two votes */
    CHECK(programme_retain(prog, T0, 30) == 0);
    snprintf(want, sizeof(want), "%lld:0:0:0:data", q_panel);
    CHECK(str_is(questions_of("panel", ada.id), want));
    {
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM prog_votes WHERE question = %lld", old_q);
        CHECK(count(sql) == 0);
    }
    /* A day later by the clock, the keynote's questions are still new. */
    CHECK(programme_retain(prog, T0 + DAY_MS, 30) == 0);
    CHECK(count("SELECT count(*) FROM prog_questions") == 4);
}

static void test_reopen(void)
{
    char before[4096], after[4096];
    snapshot(before, sizeof(before));
    close_db();
    open_db();
    snapshot(after, sizeof(after));
    CHECK(str_is(after, before));
    CHECK(strstr(after, "Cities as platforms, again") != NULL);
    CHECK(str_is(stars_of(ada.id), "keynote panel"));
    /* A second programme on the same store sees the same rows. */
    {
        char err[256];
        struct programme *other = programme_open(st, reg, err, sizeof(err));
        struct listing l = {0};
        CHECK(other && programme_each(other, collect, &l) == 0 && l.n == 3);
        programme_close(other);
    }
    programme_close(NULL);
}

static void remove_dir(const char *d)
{
    char path[512];
    DIR *dp = opendir(d);
    struct dirent *e;
    while (dp && (e = readdir(dp))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
        unlink(path);
    }
    if (dp)
        closedir(dp);
    rmdir(d);
}

int main(void)
{
    test_times();
    test_parse_good();
    test_parse_bad();

    snprintf(dir, sizeof(dir), "/tmp/venue-programme-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    open_db();
    add_user("Ada Lovelace", ROLE_SPEAKER, &ada);
    add_user("Bob", ROLE_ATTENDEE, &bob);
    add_user("Cat", ROLE_MODERATOR, &cat);
    add_user("Dan", ROLE_ADMIN, &dan);
    add_user("Gone", ROLE_SPEAKER, &revoked);
    add_user("Guesty", ROLE_GUEST, &guest_role);
    CHECK(registry_user_revoke(reg, revoked.id) == 1);

    test_check_people();
    test_replace_and_each();
    test_state();
    test_stars();
    test_questions();
    test_question_fields();
    test_replace_keeps();
    test_all_or_nothing();
    test_retain();
    test_reopen();
    close_db();
    remove_dir(dir);
    return check_report();
}
