/*
 * test_programme_api.c - the programme's HTTP answers
 * (server/admin/programme_api.c) and the slide files (slides.c) without a
 * socket: a real store, registry and programme in a temporary folder (or
 * on PostgreSQL, check_store.h; the slide files stay in the folder), a
 * venue driven by core_harness with its wall clock set by hand, and
 * requests handed straight to the functions the HTTP layer calls.
 *
 * Covers the import through POST /api/admin/programme (all or nothing,
 * errors naming the session and field, audited), GET /api/programme and
 * its filters (room, live, day; unknown, repeated and bad values), the
 * admin list's questions, who may upload slides (401, 403, 404), an
 * upload from the first byte to the file in place (magic bytes, qpdf,
 * page and size limits, versions, the old file removed), the page count in
 * a child process as the server runs it (polled, never waited for; over
 * time, killed, cancelled; always reaped), the sweep of decks nobody
 * shows, and the two new options. Like venued, this program is its own
 * counting child: `test_programme_api slides-count FILE`.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "admin_api.h"
#include "check_store.h"
#include "clock.h"
#include "core_harness.h"
#include "options.h"
#include "programme.h"
#include "programme_api.h"
#include "registry.h"
#include "slides.h"
#include "store.h"

static char dir[] = "/tmp/venue-progapi-XXXXXX";
static struct store *st;
static struct registry *reg;
static struct programme *prog;
static struct venue *venue;
static struct admin_env env;

struct person {
    struct reg_user u;
    char token[REG_TOKEN_LEN + 1];
};
static struct person admin, speaker, moderator, attendee;

/* 2026-12-02T09:00:00Z */
#define DAY0 1796202000000LL
#define MIN  60000LL

static void add_person(struct person *p, const char *name, enum role role)
{
    char err[200];
    CHECK(registry_user_add(reg, name, "", role, 0, DAY0 - 86400000LL, &p->u, p->token, err,
                            sizeof(err)) == 0);
}

/* One reply, parsed. */
struct resp {
    struct admin_reply rep;
    json_t *body;
    char text[16384];
};

static void parse_out(struct resp *r, const struct proto_buf *out)
{
    json_error_t e;
    snprintf(r->text, sizeof(r->text), "%.*s", (int)out->len, out->data ? out->data : "");
    r->body = out->data ? json_loadb(out->data, out->len, 0, &e) : NULL;
    CHECK(json_is_object(r->body));
    if (!json_is_object(r->body))
        fprintf(stderr, "  not a JSON object: %.300s\n", r->text);
}

static void done(struct resp *r)
{
    json_decref(r->body);
    r->body = NULL;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static int is_error(const struct resp *r, unsigned status, const char *code, const char *field)
{
    json_t *e = json_object_get(r->body, "error");
    int ok = r->rep.status == status && eq(str(e, "code"), code) &&
             json_is_string(json_object_get(e, "message")) &&
             (!field || eq(str(e, "field"), field));
    if (!ok)
        fprintf(stderr, "  expected %u %s (field %s), got %u %.400s\n", status, code,
                field ? field : "-", r->rep.status, r->text);
    return ok;
}

#define ARGS(...)  ((const char *const[]){__VA_ARGS__})
#define NARGS(...) (sizeof(ARGS(__VA_ARGS__)) / sizeof(const char *))

/* GET /api/programme (questions false) or /api/admin/programme. */
static void list(struct resp *r, bool questions, const char *const *args, size_t nargs)
{
    struct proto_buf out = {0};
    memset(r, 0, sizeof(*r));
    proto_buf_printf(&out, "stale");
    programme_api_list(&env, args, nargs, questions, &out, &r->rep);
    parse_out(r, &out);
    proto_buf_free(&out);
}

static size_t count_of(struct resp *r)
{
    return json_array_size(json_object_get(r->body, "sessions"));
}

static json_t *session_in(struct resp *r, const char *id)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(r->body, "sessions"), i, s)
    {
        if (eq(str(s, "id"), id))
            return s;
    }
    return NULL;
}

/* POST /api/admin/programme as the admin. */
static void import(struct resp *r, const char *body)
{
    struct proto_buf out = {0};
    struct admin_request rq = {
        .method = HTTP_POST,
        .path = "/api/admin/programme",
        .caller = &admin.u,
        .body = body,
        .body_len = strlen(body),
        .now_ms = now,
        .wall_ms = DAY0,
    };
    memset(r, 0, sizeof(*r));
    admin_api_handle(&env, &rq, &out, &r->rep);
    parse_out(r, &out);
    proto_buf_free(&out);
}

/* A session of the programme file, as JSON text, into out. */
static void session_text(char *out, size_t size, const char *id, const char *room,
                         const char *start, const char *end, const char *speakers,
                         const char *moderators)
{
    snprintf(out, size,
             "{\"id\":\"%s\",\"title\":\"Session %s\",\"room\":\"%s\",\"start\":\"%s\","
             "\"end\":\"%s\",\"speakers\":[%s],\"moderators\":[%s]}",
             id, id, room, start, end, speakers, moderators);
}

/* The test's programme: a keynote (speaker, moderated by moderator) in
 * the plenary 09:00-10:00, a panel there 10:00-11:00, a breakout
 * 10:30-11:30 and a session the next day. */
static char good[8192];

static void make_good(void)
{
    char sp[64], mo[64], a[1024], b[1024], c[1024], d[1024];
    snprintf(sp, sizeof(sp), "\"%s\"", speaker.u.id);
    snprintf(mo, sizeof(mo), "\"%s\"", moderator.u.id);
    session_text(a, sizeof(a), "keynote", "plenary", "2026-12-02T09:00:00Z", "2026-12-02T10:00:00Z",
                 sp, mo);
    session_text(b, sizeof(b), "panel", "plenary", "2026-12-02T10:00:00Z", "2026-12-02T11:00:00Z",
                 "", mo);
    session_text(c, sizeof(c), "breakout", "breakout-1", "2026-12-02T10:30:00Z",
                 "2026-12-02T11:30:00+00:00", sp, "");
    session_text(d, sizeof(d), "tomorrow", "expo", "2026-12-03T09:00:00Z", "2026-12-03T10:00:00Z",
                 "", "");
    snprintf(good, sizeof(good), "{\"sessions\":[%s,%s,%s,%s]}", a, b, c, d);
}

static void test_paths(void)
{
    char id[PROG_ID_MAX];
    CHECK(programme_api_slides_path("/api/sessions/keynote/slides", id) && eq(id, "keynote"));
    CHECK(programme_api_slides_path("/api/sessions/A_b-9/slides", id) && eq(id, "A_b-9"));
    CHECK(!programme_api_slides_path("/api/sessions//slides", id));
    CHECK(!programme_api_slides_path("/api/sessions/a.b/slides", id));
    CHECK(!programme_api_slides_path("/api/sessions/../slides", id));
    CHECK(!programme_api_slides_path("/api/sessions/a/b/slides", id));
    CHECK(!programme_api_slides_path("/api/sessions/a/slides/", id));
    CHECK(!programme_api_slides_path("/api/sessions/a/slidesx", id));
    CHECK(!programme_api_slides_path("/api/sessions/a", id));
    {
        char path[200];
        memset(path, 'x', sizeof(path));
        memcpy(path, "/api/sessions/", 14);
        snprintf(path + 14 + 65, sizeof(path) - 14 - 65, "/slides");
        CHECK(!programme_api_slides_path(path, id)); /* a 65-byte id */
        snprintf(path + 14 + 64, sizeof(path) - 14 - 64, "/slides");
        CHECK(programme_api_slides_path(path, id) && strlen(id) == 64);
    }
    CHECK(admin_api_body_max(HTTP_POST, "/api/admin/programme") == (size_t)PROG_FILE_MAX);
    CHECK(admin_api_body_max(HTTP_GET, "/api/admin/programme") == 0);
}

static void test_import(void)
{
    struct resp r;
    char bad[9000], sp[64];

    make_good();
    import(&r, good);
    CHECK(r.rep.status == 200);
    CHECK(json_integer_value(json_object_get(r.body, "sessions")) == 4);
    done(&r);
    CHECK(venue_programme_count(venue) == 4);

    /* A bad time: 400 naming the session (by its place in the file) and
     * field; the programme is the one before. */
    snprintf(bad, sizeof(bad), "%s", good);
    {
        char *t = strstr(bad, "2026-12-03T10:00:00Z");
        CHECK(t != NULL);
        if (t)
            memcpy(t, "2026-12-03T25:00:00Z", 20);
    }
    import(&r, bad);
    CHECK(is_error(&r, 400, "bad_request", "sessions[3].end"));
    CHECK(strstr(r.text, "tomorrow") != NULL);
    done(&r);
    CHECK(venue_programme_count(venue) == 4);

    /* Two sessions overlapping in one room. */
    snprintf(sp, sizeof(sp), "\"%s\"", speaker.u.id);
    {
        char a[1024], b[1024];
        session_text(a, sizeof(a), "one", "plenary", "2026-12-02T09:00:00Z", "2026-12-02T10:00:00Z",
                     sp, "");
        session_text(b, sizeof(b), "two", "plenary", "2026-12-02T09:30:00Z", "2026-12-02T10:30:00Z",
                     "", "");
        snprintf(bad, sizeof(bad), "{\"sessions\":[%s,%s]}", a, b);
        import(&r, bad);
        CHECK(r.rep.status == 400 && strstr(r.text, "overlap"));
        CHECK(strstr(str(json_object_get(r.body, "error"), "field"), "sessions[") != NULL);
        done(&r);
        /* An unknown person, an unknown room. */
        session_text(a, sizeof(a), "one", "plenary", "2026-12-02T09:00:00Z", "2026-12-02T10:00:00Z",
                     "\"u-0000000000000000\"", "");
        snprintf(bad, sizeof(bad), "{\"sessions\":[%s]}", a);
        import(&r, bad);
        CHECK(is_error(&r, 400, "bad_request", "sessions[0].speakers[0]"));
        done(&r);
        session_text(a, sizeof(a), "one", "attic", "2026-12-02T09:00:00Z", "2026-12-02T10:00:00Z",
                     "", "");
        snprintf(bad, sizeof(bad), "{\"sessions\":[%s]}", a);
        import(&r, bad);
        CHECK(is_error(&r, 400, "bad_request", "sessions[0].room"));
        done(&r);
    }
    import(&r, "{\"sessions\":");
    CHECK(is_error(&r, 400, "bad_request", "body"));
    done(&r);
    import(&r, "");
    CHECK(is_error(&r, 400, "bad_request", "body"));
    done(&r);
    CHECK(venue_programme_count(venue) == 4);
    CHECK(venue_programme_find(venue, "keynote") != NULL);

    /* The good one was audited, the refused ones not. */
    {
        int n = 0;
        struct proto_buf out = {0};
        struct admin_request rq = {.method = HTTP_GET,
                                   .path = "/api/admin/audit",
                                   .caller = &admin.u,
                                   .now_ms = now,
                                   .wall_ms = DAY0};
        memset(&r, 0, sizeof(r));
        admin_api_handle(&env, &rq, &out, &r.rep);
        parse_out(&r, &out);
        proto_buf_free(&out);
        {
            size_t i;
            json_t *e;
            json_array_foreach(json_object_get(r.body, "entries"), i, e)
            {
                if (eq(str(e, "action"), "programme")) {
                    n++;
                    CHECK(eq(str(e, "reason"), "4 sessions"));
                    CHECK(eq(str(e, "actor_id"), admin.u.id));
                }
            }
        }
        CHECK(n == 1);
        done(&r);
    }
}

static void test_list(void)
{
    struct resp r;
    json_t *k;

    /* 09:30: the keynote is live. */
    venue_set_wall(venue, DAY0 + 30 * MIN, now);
    venue_tick(venue, now);
    list(&r, false, NULL, 0);
    CHECK(r.rep.status == 200 && count_of(&r) == 4);
    k = session_in(&r, "keynote");
    CHECK(eq(str(k, "state"), "live"));
    CHECK(eq(str(k, "start"), "2026-12-02T09:00:00Z") && eq(str(k, "end"), "2026-12-02T10:00:00Z"));
    CHECK(eq(str(k, "title"), "Session keynote") && eq(str(k, "room"), "plenary"));
    CHECK(eq(str(k, "description"), ""));
    CHECK(eq(str(json_array_get(json_object_get(k, "speakers"), 0), "name"), "Sam Speaker"));
    CHECK(eq(str(json_array_get(json_object_get(k, "speakers"), 0), "id"), speaker.u.id));
    CHECK(eq(str(json_array_get(json_object_get(k, "moderators"), 0), "name"), "Mo Moderator"));
    CHECK(json_array_size(json_object_get(k, "captioners")) == 0);
    CHECK(json_is_null(json_object_get(k, "slides")));
    CHECK(json_object_get(k, "questions") == NULL);
    /* By start. */
    CHECK(eq(str(json_array_get(json_object_get(r.body, "sessions"), 0), "id"), "keynote"));
    CHECK(eq(str(json_array_get(json_object_get(r.body, "sessions"), 3), "id"), "tomorrow"));
    done(&r);

    list(&r, false, ARGS("live=1"), 1);
    CHECK(r.rep.status == 200 && count_of(&r) == 1 && session_in(&r, "keynote"));
    done(&r);
    list(&r, false, ARGS("live=0"), 1);
    CHECK(count_of(&r) == 4);
    done(&r);
    list(&r, false, ARGS("room=plenary"), 1);
    CHECK(count_of(&r) == 2 && session_in(&r, "panel") && session_in(&r, "keynote"));
    done(&r);
    list(&r, false, ARGS("room=lobby"), 1);
    CHECK(r.rep.status == 200 && count_of(&r) == 0);
    done(&r);
    list(&r, false, ARGS("day=2026-12-03"), 1);
    CHECK(count_of(&r) == 1 && session_in(&r, "tomorrow"));
    done(&r);
    list(&r, false, ARGS("day=2026-12-02", "room=breakout-1"), 2);
    CHECK(count_of(&r) == 1 && session_in(&r, "breakout"));
    done(&r);
    list(&r, false, ARGS("day=2026-12-04"), 1);
    CHECK(r.rep.status == 200 && count_of(&r) == 0);
    done(&r);

    /* Refused, naming the parameter. */
    {
        static const char *const bad_days[] = {"2026-13-01", "2026-02-29",  "2026-12-32",
                                               "2026-1-01",  "26-12-02",    "2026/12/02",
                                               "",           "2026-12-02x", "1969-12-31"};
        for (size_t i = 0; i < sizeof(bad_days) / sizeof(bad_days[0]); i++) {
            char a[64];
            snprintf(a, sizeof(a), "day=%s", bad_days[i]);
            list(&r, false, ARGS(a), 1);
            CHECK(is_error(&r, 400, "bad_request", "day"));
            done(&r);
        }
        list(&r, false, ARGS("day=2028-02-29"), 1); /* a leap day */
        CHECK(r.rep.status == 200);
        done(&r);
    }
    list(&r, false, ARGS("live=yes"), 1);
    CHECK(is_error(&r, 400, "bad_request", "live"));
    done(&r);
    list(&r, false, ARGS("live"), 1);
    CHECK(is_error(&r, 400, "bad_request", "live"));
    done(&r);
    list(&r, false, ARGS("room=attic"), 1);
    CHECK(is_error(&r, 400, "bad_request", "room"));
    done(&r);
    list(&r, false, ARGS("room=../x"), 1);
    CHECK(is_error(&r, 400, "bad_request", "room"));
    done(&r);
    list(&r, false, ARGS("room="), 1);
    CHECK(is_error(&r, 400, "bad_request", "room"));
    done(&r);
    list(&r, false, ARGS("colour=red"), 1);
    CHECK(is_error(&r, 400, "bad_request", "colour"));
    done(&r);
    list(&r, false, ARGS("live=1", "live=1"), 2);
    CHECK(is_error(&r, 400, "bad_request", "live"));
    done(&r);
    list(&r, false, ARGS("\xff\xfe=1"), 1);
    CHECK(is_error(&r, 400, "bad_request", "query"));
    done(&r);

    /* The admins' list has the questions too. */
    list(&r, true, NULL, 0);
    CHECK(r.rep.status == 200 && count_of(&r) == 4);
    CHECK(json_is_array(json_object_get(session_in(&r, "keynote"), "questions")));
    done(&r);
    {
        struct prog_question q = {.session_id = "keynote",
                                  .user_id = attendee.u.id,
                                  .name = "Ann Attendee",
                                  .text = "Who pays for the twin?",
                                  .ts_ms = DAY0 + 31 * MIN};
        json_t *qs;
        CHECK(programme_question_add(prog, &q) == 0);
        list(&r, true, ARGS("room=plenary"), 1);
        qs = json_object_get(session_in(&r, "keynote"), "questions");
        CHECK(json_array_size(qs) == 1);
        CHECK(eq(str(json_array_get(qs, 0), "text"), "Who pays for the twin?"));
        CHECK(eq(str(json_object_get(json_array_get(qs, 0), "from"), "name"), "Ann Attendee"));
        CHECK(json_integer_value(json_object_get(json_array_get(qs, 0), "votes")) == 0);
        CHECK(json_is_false(json_object_get(json_array_get(qs, 0), "answered")));
        done(&r);
    }
}

/* ---- Slides ----------------------------------------------------------- */

/* A PDF of pages pages (like tests/integration/pdf.mjs) into b. */
static void make_pdf(struct proto_buf *b, int pages)
{
    long off[1024];
    int count = 4 + 2 * pages;
    long xref;
    proto_buf_reset(b);
    CHECK(count < 1024);
    proto_buf_printf(b, "%%PDF-1.4\n");
    off[1] = (long)b->len;
    proto_buf_printf(b, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    off[2] = (long)b->len;
    proto_buf_printf(b, "2 0 obj\n<< /Type /Pages /Kids [");
    for (int i = 0; i < pages; i++)
        proto_buf_printf(b, "%s%d 0 R", i ? " " : "", 4 + 2 * i);
    proto_buf_printf(b, "] /Count %d >>\nendobj\n", pages);
    off[3] = (long)b->len;
    proto_buf_printf(b,
                     "3 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n");
    for (int i = 0; i < pages; i++) {
        char text[64];
        int n = snprintf(text, sizeof(text), "BT /F1 48 Tf 80 270 Td (Slide %d) Tj ET\n", i + 1);
        off[4 + 2 * i] = (long)b->len;
        proto_buf_printf(b,
                         "%d 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 960 540] "
                         "/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>\nendobj\n",
                         4 + 2 * i, 5 + 2 * i);
        off[5 + 2 * i] = (long)b->len;
        proto_buf_printf(b, "%d 0 obj\n<< /Length %d >>\nstream\n%sendstream\nendobj\n", 5 + 2 * i,
                         n, text);
    }
    xref = (long)b->len;
    proto_buf_printf(b, "xref\n0 %d\n0000000000 65535 f \n", count);
    for (int i = 1; i < count; i++)
        proto_buf_printf(b, "%010ld 00000 n \n", off[i]);
    proto_buf_printf(b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%ld\n%%%%EOF\n", count,
                     xref);
}

static unsigned auth(const struct person *p, const char *session, struct reg_user *who,
                     struct resp *r)
{
    struct proto_buf out = {0};
    char header[64];
    unsigned status;
    if (p)
        snprintf(header, sizeof(header), "Bearer %s", p->token);
    memset(r, 0, sizeof(*r));
    status = programme_api_slides_auth(&env, session, p ? header : NULL, DAY0, who, &out, &r->rep);
    if (status)
        parse_out(r, &out);
    proto_buf_free(&out);
    return status;
}

static void nap(void)
{
    struct timespec ms = {0, 2000000};
    nanosleep(&ms, NULL);
}

/* Is any child of this process left, zombies included? */
static bool children_left(void)
{
    int status;
    return waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD;
}

/* Reap c as the server does: asking again, never waiting. */
static void reap(struct slides_count *c)
{
    for (int i = 0; i < 2500 && !slides_count_reap(c); i++)
        nap();
    CHECK(c->pid == 0);
}

/* Count the pages of the deck at path as the server does: start the
 * child, poll it until the verdict, reap it. slides_count_poll's result. */
static int count_pages(const char *path, int *pages, char *why, size_t len)
{
    struct slides_count c;
    int rc;

    if (slides_count_start(&c, path, clock_mono_ms(), why, len) < 0) {
        fprintf(stderr, "  slides_count_start: %s\n", why);
        CHECK(0);
        return -1;
    }
    CHECK(c.running && c.pid > 0 && c.fd >= 0);
    while ((rc = slides_count_poll(&c, clock_mono_ms(), pages, why, len)) == 0)
        nap();
    CHECK(!c.running && c.fd == -1);
    reap(&c);
    return rc;
}

/* Upload data[0..len) for session as p, in pieces of piece bytes; the
 * reply in r. */
static void upload(struct resp *r, const struct person *p, const char *session, const void *data,
                   size_t len, size_t piece)
{
    struct slides_upload up;
    struct proto_buf out = {0};
    char err[512];
    const unsigned char *d = data;

    memset(r, 0, sizeof(*r));
    CHECK(slides_begin(&up, cfg.data_dir, session, (size_t)cfg.slides_max, err, sizeof(err)) == 0);
    for (size_t at = 0; at < len; at += piece)
        (void)slides_write(&up, d + at, len - at < piece ? len - at : piece);
    if (programme_api_slides_check(&up, &out, &r->rep) == 0) {
        char why[SLIDES_VERDICT_MAX];
        int pages = -1;
        CHECK(up.active);
        if (count_pages(up.tmp, &pages, why, sizeof(why)) < 0)
            pages = -1;
        programme_api_slides_done(&env, &up, &p->u, pages, why, now, DAY0, &out, &r->rep);
    }
    CHECK(!up.active);
    CHECK(!children_left());
    parse_out(r, &out);
    proto_buf_free(&out);
}

static bool exists(const char *session, int version)
{
    char path[PATH_MAX];
    struct stat sb;
    CHECK(slides_file(cfg.data_dir, session, version, path, sizeof(path)) == 0);
    return stat(path, &sb) == 0;
}

/* Files in DATA/slides (not . and ..). */
static int files_in_slides(void)
{
    char cmd[PATH_MAX + 64];
    FILE *f;
    int n = -1;
    snprintf(cmd, sizeof(cmd), "ls -A %s/slides | wc -l", cfg.data_dir);
    f = popen(cmd, "r");
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = -1;
        pclose(f);
    }
    return n;
}

static void test_slides_auth(void)
{
    struct resp r;
    struct reg_user who;

    CHECK(auth(NULL, "keynote", &who, &r) == 401 && r.rep.challenge);
    CHECK(is_error(&r, 401, "unauthorized", NULL));
    done(&r);
    {
        struct person junk = {.token = "00000000000000000000000000000000"};
        CHECK(auth(&junk, "keynote", &who, &r) == 401);
        done(&r);
    }
    CHECK(auth(&attendee, "keynote", &who, &r) == 403);
    CHECK(is_error(&r, 403, "forbidden", NULL) && strstr(r.text, "keynote"));
    done(&r);
    /* The panel's moderator is not its speaker, but may. */
    CHECK(auth(&speaker, "panel", &who, &r) == 403);
    done(&r);
    CHECK(auth(&moderator, "panel", &who, &r) == 0 && eq(who.id, moderator.u.id));
    CHECK(auth(&speaker, "keynote", &who, &r) == 0 && eq(who.id, speaker.u.id));
    CHECK(auth(&admin, "tomorrow", &who, &r) == 0);
    CHECK(auth(&admin, "nothing", &who, &r) == 404);
    CHECK(is_error(&r, 404, "not_found", "id"));
    done(&r);
}

static void test_slides_upload(void)
{
    struct proto_buf pdf = {0};
    struct resp r;
    const struct prog_session *s;
    char path[PATH_MAX];
    int version;

    CHECK(programme_api_slides_file(&env, "keynote", path, sizeof(path), &version) == 0);
    make_pdf(&pdf, 3);
    upload(&r, &speaker, "keynote", pdf.data, pdf.len, 100);
    CHECK(r.rep.status == 200);
    CHECK(json_integer_value(json_object_get(r.body, "pages")) == 3);
    CHECK(eq(str(r.body, "url"), "/api/sessions/keynote/slides?v=1"));
    done(&r);
    s = venue_programme_find(venue, "keynote");
    CHECK(s && s->slides_pages == 3 && s->slides_page == 1 && s->slides_version == 1);
    CHECK(exists("keynote", 1));
    CHECK(programme_api_slides_file(&env, "keynote", path, sizeof(path), &version) == 1 &&
          version == 1 && strstr(path, "/slides/keynote-1.pdf"));
    /* The list shows the deck. */
    list(&r, false, ARGS("room=plenary"), 1);
    {
        json_t *sl = json_object_get(session_in(&r, "keynote"), "slides");
        CHECK(json_integer_value(json_object_get(sl, "pages")) == 3);
        CHECK(json_integer_value(json_object_get(sl, "page")) == 1);
        CHECK(eq(str(sl, "url"), "/api/sessions/keynote/slides?v=1"));
    }
    done(&r);

    /* A new deck: version 2, the old file gone, in one piece this time. */
    make_pdf(&pdf, 5);
    upload(&r, &moderator, "keynote", pdf.data, pdf.len, pdf.len);
    CHECK(r.rep.status == 200 && eq(str(r.body, "url"), "/api/sessions/keynote/slides?v=2"));
    done(&r);
    CHECK(exists("keynote", 2) && !exists("keynote", 1));
    CHECK(venue_programme_find(venue, "keynote")->slides_pages == 5);

    /* Refused, and nothing changes: not a PDF, a PDF's name on HTML, a
     * truncated PDF, an empty body, too many pages, too many bytes. */
    upload(&r, &speaker, "keynote", "hello, world", 12, 5);
    CHECK(is_error(&r, 415, "unsupported_media_type", "body"));
    done(&r);
    upload(&r, &speaker, "keynote", "<html>%PDF-1.4</html>", 21, 4);
    CHECK(is_error(&r, 415, "unsupported_media_type", "body"));
    done(&r);
    upload(&r, &speaker, "keynote", "%PDF", 4, 4);
    CHECK(is_error(&r, 415, "unsupported_media_type", "body"));
    done(&r);
    make_pdf(&pdf, 3);
    upload(&r, &speaker, "keynote", pdf.data, pdf.len - 40, 64);
    CHECK(is_error(&r, 415, "unsupported_media_type", "body") &&
          strstr(r.text, "readable") == NULL);
    CHECK(strstr(r.text, "not a PDF that can be read: ") != NULL);
    CHECK(strstr(r.text, dir) == NULL); /* qpdf's reason, not our path */
    done(&r);
    upload(&r, &speaker, "keynote", "", 0, 1);
    CHECK(is_error(&r, 400, "bad_request", "body"));
    done(&r);
    cfg.slides_pages = 4;
    make_pdf(&pdf, 5);
    upload(&r, &speaker, "keynote", pdf.data, pdf.len, 1000);
    CHECK(is_error(&r, 400, "bad_request", "body") && strstr(r.text, "5 pages"));
    done(&r);
    make_pdf(&pdf, 4);
    cfg.slides_max = (long)pdf.len - 1;
    upload(&r, &speaker, "keynote", pdf.data, pdf.len, 1000);
    CHECK(is_error(&r, 413, "too_large", "body"));
    done(&r);
    cfg.slides_max = (long)pdf.len; /* exactly at the limit */
    upload(&r, &speaker, "keynote", pdf.data, pdf.len, 1000);
    CHECK(r.rep.status == 200 && eq(str(r.body, "url"), "/api/sessions/keynote/slides?v=3"));
    done(&r);
    cfg.slides_max = 20L << 20;
    cfg.slides_pages = 300;
    CHECK(exists("keynote", 3) && !exists("keynote", 2));
    /* Every refused upload left no temporary file behind. */
    CHECK(files_in_slides() == 1);

    /* A session that left the programme while its deck was arriving. */
    {
        struct slides_upload up;
        struct proto_buf out = {0};
        char err[200];
        make_pdf(&pdf, 2);
        CHECK(slides_begin(&up, cfg.data_dir, "gone", 1 << 20, err, sizeof(err)) == 0);
        CHECK(slides_write(&up, pdf.data, pdf.len) == 0);
        memset(&r, 0, sizeof(r));
        CHECK(programme_api_slides_check(&up, &out, &r.rep) == 0);
        programme_api_slides_done(&env, &up, &admin.u, 2, NULL, now, DAY0, &out, &r.rep);
        parse_out(&r, &out);
        CHECK(is_error(&r, 404, "not_found", "id"));
        done(&r);
        proto_buf_free(&out);
        CHECK(files_in_slides() == 1);
    }
    /* slides_write past max refuses and remembers it. */
    {
        struct slides_upload up;
        char err[200];
        CHECK(slides_begin(&up, cfg.data_dir, "keynote", 10, err, sizeof(err)) == 0);
        CHECK(slides_write(&up, "%PDF-", 5) == 0);
        CHECK(slides_write(&up, "123456", 6) == -1 && up.over);
        CHECK(slides_write(&up, "1", 1) == -1);
        CHECK(slides_is_pdf(&up));
        slides_abort(&up);
        slides_abort(&up); /* again: nothing */
        CHECK(files_in_slides() == 1);
    }
    proto_buf_free(&pdf);
}

/* The count on its own: the verdicts, the deadline, a child that dies, a
 * count nobody wants any more; never a child left behind. */
static void test_slides_count(void)
{
    struct proto_buf pdf = {0};
    struct slides_count c;
    char path[PATH_MAX], why[SLIDES_VERDICT_MAX];
    int pages = -1;
    FILE *f;

    snprintf(path, sizeof(path), "%s/count-test.pdf", dir);
    make_pdf(&pdf, 7);
    f = fopen(path, "wb");
    CHECK(f && fwrite(pdf.data, 1, pdf.len, f) == pdf.len);
    if (f)
        fclose(f);

    CHECK(count_pages(path, &pages, why, sizeof(why)) == 1 && pages == 7);
    CHECK(!children_left());

    /* qpdf's reason, without the path; and a file that is not there. */
    f = fopen(path, "wb");
    CHECK(f && fwrite(pdf.data, 1, pdf.len - 60, f) == pdf.len - 60);
    if (f)
        fclose(f);
    CHECK(count_pages(path, &pages, why, sizeof(why)) == -1 && why[0] && !strstr(why, dir));
    snprintf(path, sizeof(path), "%s/no-such-deck.pdf", dir);
    CHECK(count_pages(path, &pages, why, sizeof(why)) == -1 && strstr(why, "open the deck: "));
    CHECK(!strstr(why, dir));

    /* A deck the child waits on for ever (a FIFO nobody writes to), so
     * that what follows does not depend on how fast it is. */
    snprintf(path, sizeof(path), "%s/never.pdf", dir);
    CHECK(mkfifo(path, 0600) == 0);

    /* Over time: nothing by its deadline, so refused and killed, then
     * reaped. */
    CHECK(slides_count_start(&c, path, 1000, why, sizeof(why)) == 0);
    CHECK(slides_count_poll(&c, 1000, &pages, why, sizeof(why)) == 0);
    CHECK(slides_count_poll(&c, 1000 + SLIDES_CHECK_MS - 1, &pages, why, sizeof(why)) == 0);
    CHECK(c.running && !slides_count_reap(&c)); /* still there */
    CHECK(slides_count_poll(&c, 1000 + SLIDES_CHECK_MS, &pages, why, sizeof(why)) == -1);
    CHECK(strstr(why, "more than 1500 ms") && strstr(why, "compression bomb"));
    CHECK(!c.running && c.fd == -1);
    reap(&c);
    CHECK(!children_left());

    /* A child that dies before its verdict (as a bomb does, over its CPU
     * or memory limit): refused once its pipe closes, before the deadline. */
    CHECK(slides_count_start(&c, path, clock_mono_ms(), why, sizeof(why)) == 0);
    CHECK(kill((pid_t)c.pid, SIGKILL) == 0);
    {
        int rc;
        while ((rc = slides_count_poll(&c, clock_mono_ms(), &pages, why, sizeof(why))) == 0)
            nap();
        CHECK(rc == -1 && strstr(why, "1 s of CPU or 512 MiB of memory"));
    }
    reap(&c);
    CHECK(!children_left());

    /* Nobody waits for it any more (the uploader hung up): killed and
     * reaped; cancelling again, or reaping a reaped count, is harmless. */
    CHECK(slides_count_start(&c, path, clock_mono_ms(), why, sizeof(why)) == 0);
    slides_count_cancel(&c);
    CHECK(!c.running && c.fd == -1 && c.pid > 0);
    slides_count_cancel(&c);
    reap(&c);
    CHECK(slides_count_reap(&c));
    CHECK(!children_left());
    unlink(path);
    snprintf(path, sizeof(path), "%s/count-test.pdf", dir);

    /* The child's own command line. */
    {
        char *argv[] = {SLIDES_COUNT_CMD, NULL};
        CHECK(slides_count_main(1, argv) == 2);
    }
    unlink(path);
    proto_buf_free(&pdf);
}

static void test_sweep_and_prepare(void)
{
    struct resp r;
    char path[PATH_MAX], sp[64], a[1024];
    FILE *f;

    /* Leftovers: a temporary file of an interrupted upload, an old
     * version, a deck of a session that no longer exists, and a file that
     * is not a deck at all. */
    snprintf(path, sizeof(path), "%s/slides/" SLIDES_TMP_PREFIX "abc123", cfg.data_dir);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    snprintf(path, sizeof(path), "%s/slides/keynote-1.pdf", cfg.data_dir);
    f = fopen(path, "w");
    if (f)
        fclose(f);
    snprintf(path, sizeof(path), "%s/slides/notes.txt", cfg.data_dir);
    f = fopen(path, "w");
    if (f)
        fclose(f);
    CHECK(files_in_slides() == 4);
    CHECK(slides_sweep(cfg.data_dir, venue) == 1); /* keynote-1 */
    CHECK(exists("keynote", 3));
    {
        char err[200];
        CHECK(slides_prepare(cfg.data_dir, err, sizeof(err)) == 0);
    }
    CHECK(files_in_slides() == 2); /* keynote-3.pdf, notes.txt */

    /* A programme without the keynote: its deck goes. */
    snprintf(sp, sizeof(sp), "\"%s\"", speaker.u.id);
    session_text(a, sizeof(a), "solo", "plenary", "2026-12-02T12:00:00Z", "2026-12-02T13:00:00Z",
                 sp, "");
    {
        char body[1200];
        snprintf(body, sizeof(body), "{\"sessions\":[%s]}", a);
        import(&r, body);
    }
    CHECK(r.rep.status == 200);
    done(&r);
    CHECK(!exists("keynote", 3));
    CHECK(files_in_slides() == 1);
}

static void test_options(void)
{
    struct venue_config c;
    char err[300];
    char *argv1[] = {"venued", "--slides-max", "1024", "--slides-pages", "10000", NULL};
    char *argv2[] = {"venued", "--slides-max", "1023", NULL};
    char *argv3[] = {"venued", "--slides-pages", "0", NULL};
    config_defaults(&c);
    CHECK(c.slides_max == 20L * 1024 * 1024 && c.slides_pages == 300);
    CHECK(options_parse(&c, 5, argv1, err, sizeof(err)) == 0);
    CHECK(c.slides_max == 1024 && c.slides_pages == 10000);
    config_defaults(&c);
    CHECK(options_parse(&c, 3, argv2, err, sizeof(err)) == -1 && strstr(err, "--slides-max"));
    config_defaults(&c);
    CHECK(options_parse(&c, 3, argv3, err, sizeof(err)) == -1 && strstr(err, "--slides-pages"));
}

int main(int argc, char **argv)
{
    char err[512];

    /* The child slides_count_start runs: /proc/self/exe slides-count FILE. */
    if (argc > 1 && strcmp(argv[1], SLIDES_COUNT_CMD) == 0)
        return slides_count_main(argc - 1, argv + 1);
    unsetenv("VENUE_SLIDES_MAX");
    unsetenv("VENUE_SLIDES_PAGES");
    config_defaults(&cfg);
    if (scene_set_load(argc > 1 ? argv[1] : "scenes/demo", &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "scenes: %s\n", err);
        return 1;
    }
    if (!mkdtemp(dir) || !(st = check_store_open(dir, err, sizeof(err))) ||
        !(reg = registry_open(st, err, sizeof(err))) ||
        !(prog = programme_open(st, reg, err, sizeof(err)))) {
        fprintf(stderr, "store: %s\n", err);
        return 1;
    }
    snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s", dir);
    if (slides_prepare(dir, err, sizeof(err)) < 0) {
        fprintf(stderr, "slides: %s\n", err);
        return 1;
    }
    add_person(&admin, "Ada Admin", ROLE_ADMIN);
    add_person(&speaker, "Sam Speaker", ROLE_SPEAKER);
    add_person(&moderator, "Mo Moderator", ROLE_MODERATOR);
    add_person(&attendee, "Ann Attendee", ROLE_ATTENDEE);
    venue = venue_new(&cfg, &io, &scenes, st, reg, now, err, sizeof(err));
    if (!venue || venue_keep_programme(venue, prog, err, sizeof(err)) < 0) {
        fprintf(stderr, "venue: %s\n", err);
        return 1;
    }
    venue_set_wall(venue, DAY0 - 60 * MIN, now);
    env = (struct admin_env){.reg = reg, .venue = venue, .programme = prog, .cfg = &cfg};

    test_paths();
    test_import();
    test_list();
    test_slides_auth();
    test_slides_upload();
    test_slides_count();
    test_sweep_and_prepare();
    test_options();

    venue_free(venue);
    programme_close(prog);
    registry_close(reg);
    store_close(st);
    scene_set_free(&scenes);
    {
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
    }
    return check_report();
}
