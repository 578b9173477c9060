/*
 * programme_api.c - the programme over HTTP: the list and its filters,
 * the admins' import, and slide decks (who may upload, what is accepted,
 * where the file goes). Replies are built with jansson, so every string
 * in them is escaped.
 */
#include "programme_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DAY_MS 86400000LL

/* ---- Paths ------------------------------------------------------------ */

/* 1 to 64 of A-Z a-z 0-9 _ - (programme.h's session ids). */
static bool id_ok(const char *s, size_t n)
{
    if (n == 0 || n >= PROG_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool programme_api_slides_path(const char *path, char id[PROG_ID_MAX])
{
    static const char head[] = "/api/sessions/", tail[] = "/slides";
    const char *p, *slash;
    size_t n;

    if (strncmp(path, head, sizeof(head) - 1) != 0)
        return false;
    p = path + sizeof(head) - 1;
    slash = strchr(p, '/');
    if (!slash || strcmp(slash, tail) != 0)
        return false;
    n = (size_t)(slash - p);
    if (!id_ok(p, n))
        return false;
    memcpy(id, p, n);
    id[n] = '\0';
    return true;
}

/* ---- The session object ----------------------------------------------- */

static json_t *people_json(const struct venue *v, const struct prog_session *s, enum prog_part p)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < s->npeople[p]; i++) {
        const char *id = s->people[p][i];
        if (json_array_append_new(
                arr, json_pack("{s:s, s:s}", "id", id, "name", venue_programme_name(v, id))) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *slides_json(const struct prog_session *s)
{
    char url[128];
    if (s->slides_pages <= 0)
        return json_null();
    snprintf(url, sizeof(url), "/api/sessions/%s/slides?v=%d", s->id, s->slides_version);
    return json_pack("{s:i, s:i, s:s}", "pages", s->slides_pages, "page", s->slides_page, "url",
                     url);
}

/* The session object of PROTOCOL.md ("Programme and stage"). */
static json_t *session_json(const struct venue *v, const struct prog_session *s)
{
    char start[32], end[32];
    proto_time_text(s->start_ms, start, sizeof(start));
    proto_time_text(s->end_ms, end, sizeof(end));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", s->id,
                     "title", s->title, "description", s->description, "room", s->room, "start",
                     start, "end", end, "state", prog_state_name(s->state), "speakers",
                     people_json(v, s, PROG_SPEAKER), "moderators",
                     people_json(v, s, PROG_MODERATOR), "captioners",
                     people_json(v, s, PROG_CAPTIONER), "slides", slides_json(s));
}

struct questions_ctx {
    json_t *arr;
    bool oom;
};

static void question_one(void *arg, const struct prog_question *q, bool voted)
{
    struct questions_ctx *c = arg;
    (void)voted;
    if (json_array_append_new(
            c->arr, json_pack("{s:I, s:{s:s, s:s}, s:s, s:i, s:b, s:I}", "id", (json_int_t)q->id,
                              "from", "id", q->user_id, "name", q->name, "text", q->text, "votes",
                              q->votes, "answered", q->answered, "ts", (json_int_t)q->ts_ms)) < 0)
        c->oom = true;
}

/* ---- GET /api/programme ------------------------------------------------ */

struct filters {
    const char *room; /* NULL: any */
    bool live;
    bool day;
    long long day_start_ms, day_end_ms;
};

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    long long era;
    unsigned yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3u : 9u)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

/* "YYYY-MM-DD", a real date: 0 and its first ms (UTC), or -1. */
static int parse_day(const char *s, long long *start_ms)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y = 0, m = 0, d = 0, max;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (i < 4)
            y = y * 10 + (unsigned)(s[i] - '0');
        else if (i < 7)
            m = m * 10 + (unsigned)(s[i] - '0');
        else
            d = d * 10 + (unsigned)(s[i] - '0');
    }
    if (y < 1970 || m < 1 || m > 12)
        return -1;
    max = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (d < 1 || d > max)
        return -1;
    *start_ms = days_from_civil(y, m, d) * DAY_MS;
    return 0;
}

static bool is_room(const struct venue *v, const char *id)
{
    for (size_t i = 0; i < venue_room_count(v); i++) {
        struct venue_room_view r;
        venue_room_get(v, i, &r);
        if (strcmp(r.id, id) == 0)
            return true;
    }
    return false;
}

/* The query's filters. 0, or -1 after a 400 naming the argument. */
static int parse_filters(const struct admin_env *env, const char *const *args, size_t nargs,
                         struct filters *f, struct proto_buf *out, struct admin_reply *rep)
{
    static const char *const known[] = {"room", "live", "day"};
    bool seen[3] = {false};
    char msg[200], name[32];

    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < nargs; i++) {
        const char *a = args[i], *eq = strchr(a, '='), *val = eq ? eq + 1 : "";
        size_t n = eq ? (size_t)(eq - a) : strlen(a), k;

        snprintf(name, sizeof(name), "%.*s", (int)(n < 24 ? n : 24), a);
        for (k = 0; k < 3; k++)
            if (strlen(known[k]) == n && strncmp(a, known[k], n) == 0)
                break;
        if (k == 3) {
            bool readable = name[0] && proto_utf8_valid(name, strlen(name));
            snprintf(msg, sizeof(msg), "%s: unknown parameter (expected room, live, day)",
                     readable ? name : "query");
            admin_api_reply_error(out, rep, 400, "bad_request", msg, readable ? name : "query");
            return -1;
        }
        if (seen[k]) {
            snprintf(msg, sizeof(msg), "%s: given more than once", known[k]);
            admin_api_reply_error(out, rep, 400, "bad_request", msg, known[k]);
            return -1;
        }
        seen[k] = true;
        if (k == 0) {
            if (!id_ok(val, strlen(val)) || !is_room(env->venue, val)) {
                snprintf(msg, sizeof(msg), "room: \"%.64s\" is not a room of this venue",
                         proto_utf8_valid(val, strlen(val)) ? val : "?");
                admin_api_reply_error(out, rep, 400, "bad_request", msg, "room");
                return -1;
            }
            f->room = val;
        } else if (k == 1) {
            if (strcmp(val, "1") != 0 && strcmp(val, "0") != 0) {
                admin_api_reply_error(out, rep, 400, "bad_request",
                                      "live: must be 1 (live sessions only) or 0", "live");
                return -1;
            }
            f->live = val[0] == '1';
        } else {
            if (parse_day(val, &f->day_start_ms) < 0) {
                admin_api_reply_error(out, rep, 400, "bad_request",
                                      "day: must be a date, YYYY-MM-DD (UTC)", "day");
                return -1;
            }
            f->day = true;
            f->day_end_ms = f->day_start_ms + DAY_MS;
        }
    }
    return 0;
}

static bool wanted(const struct filters *f, const struct prog_session *s)
{
    if (f->room && strcmp(s->room, f->room) != 0)
        return false;
    if (f->live && s->state != PROG_LIVE)
        return false;
    if (f->day && !(s->start_ms < f->day_end_ms && s->end_ms > f->day_start_ms))
        return false;
    return true;
}

void programme_api_list(const struct admin_env *env, const char *const *args, size_t nargs,
                        bool questions, struct proto_buf *out, struct admin_reply *rep)
{
    struct filters f;
    json_t *arr;

    memset(rep, 0, sizeof(*rep));
    proto_buf_reset(out);
    if (parse_filters(env, args, nargs, &f, out, rep) < 0)
        return;
    arr = json_array();
    for (size_t i = 0; arr && i < venue_programme_count(env->venue); i++) {
        const struct prog_session *s = venue_programme_at(env->venue, i);
        json_t *o;
        if (!wanted(&f, s))
            continue;
        o = session_json(env->venue, s);
        if (o && questions && env->programme) {
            struct questions_ctx c = {.arr = json_array()};
            if (programme_questions_each(env->programme, s->id, NULL, question_one, &c) < 0) {
                json_decref(c.arr);
                json_decref(o);
                json_decref(arr);
                fprintf(stderr, "venued: programme: %s\n", programme_error(env->programme));
                admin_api_reply_error(out, rep, 500, "internal",
                                      "the database failed; see the server log", NULL);
                return;
            }
            if (c.oom || json_object_set_new(o, "questions", c.arr) < 0) {
                json_decref(o);
                o = NULL;
            }
        }
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    admin_api_reply_json(out, rep, 200, arr ? json_pack("{s:o}", "sessions", arr) : NULL);
}

/* ---- POST /api/admin/programme ---------------------------------------- */

/*
 * The field an error message names: "sessions[3] (keynote).start: ..."
 * -> "sessions[3].start", "body: ..." -> "body". The session's id in
 * brackets is left out; no ": " -> "body".
 */
static void field_of(const char *msg, char *field, size_t size)
{
    const char *colon = strstr(msg, ": ");
    size_t o = 0;
    if (!colon) {
        snprintf(field, size, "body");
        return;
    }
    for (const char *p = msg; p < colon && o + 1 < size;) {
        if (p[0] == ' ' && p[1] == '(') {
            const char *close = memchr(p, ')', (size_t)(colon - p));
            if (close) {
                p = close + 1;
                continue;
            }
        }
        field[o++] = *p++;
    }
    field[o] = '\0';
    if (o == 0 || !proto_utf8_valid(field, o))
        snprintf(field, size, "body");
}

/*
 * A refusal of the programme: 400 naming the field. What the parser says
 * is about the file (but running out of memory); after it, only what
 * names a session is, and the rest is the database's: a 500.
 */
static void refuse_programme(const char *err, bool parsing, struct proto_buf *out,
                             struct admin_reply *rep)
{
    char field[128];
    bool input = parsing ? strstr(err, "out of memory") == NULL : strncmp(err, "sessions", 8) == 0;
    if (!input) {
        fprintf(stderr, "venued: programme: %s\n", err);
        admin_api_reply_error(out, rep, 500, "internal",
                              "the programme could not be stored; see the server log", NULL);
        return;
    }
    field_of(err, field, sizeof(field));
    /* "programme: invalid JSON ..." is about the whole body. */
    if (strcmp(field, "programme") == 0)
        snprintf(field, sizeof(field), "body");
    admin_api_reply_error(out, rep, 400, "bad_request", err, field);
}

void programme_api_import(const struct admin_env *env, const struct admin_request *rq,
                          struct proto_buf *out, struct admin_reply *rep)
{
    struct prog_session *ss = NULL;
    size_t n = 0;
    char err[1024], reason[64];

    memset(rep, 0, sizeof(*rep));
    proto_buf_reset(out);
    if (rq->nargs > 0) {
        admin_api_reply_error(out, rep, 400, "bad_request", "query: this path takes no parameters",
                              "query");
        return;
    }
    if (!env->programme) {
        admin_api_reply_error(out, rep, 500, "internal", "this venue keeps no programme", NULL);
        return;
    }
    if (programme_parse(rq->body ? rq->body : "", rq->body_len, &ss, &n, err, sizeof(err)) < 0) {
        refuse_programme(err, true, out, rep);
        return;
    }
    if (programme_check_people(env->programme, ss, n, err, sizeof(err)) < 0 ||
        venue_programme_set(env->venue, ss, n, rq->now_ms, err, sizeof(err)) < 0) {
        refuse_programme(err, false, out, rep);
        free(ss);
        return;
    }
    free(ss);
    snprintf(reason, sizeof(reason), "%zu sessions", n);
    admin_api_audit(env, rq->caller, rq->wall_ms, "programme", NULL, NULL, reason);
    /* Decks of sessions that are gone, or whose times moved, go too. */
    slides_sweep(env->cfg->data_dir, env->venue);
    admin_api_reply_json(out, rep, 200, json_pack("{s:I}", "sessions", (json_int_t)n));
}

/* ---- Slides ----------------------------------------------------------- */

static bool in_part(const struct prog_session *s, enum prog_part p, const char *user)
{
    for (size_t i = 0; i < s->npeople[p]; i++)
        if (strcmp(s->people[p][i], user) == 0)
            return true;
    return false;
}

unsigned programme_api_slides_auth(const struct admin_env *env, const char *id,
                                   const char *authorization, long long wall_ms,
                                   struct reg_user *caller, struct proto_buf *out,
                                   struct admin_reply *rep)
{
    const struct prog_session *s;
    char msg[200];
    unsigned status = admin_api_user(env, authorization, wall_ms,
                                     "the token of one of the session's speakers or moderators",
                                     caller, out, rep);
    if (status)
        return status;
    s = venue_programme_find(env->venue, id);
    if (!s) {
        snprintf(msg, sizeof(msg), "no session \"%s\" in the programme", id);
        admin_api_reply_error(out, rep, 404, "not_found", msg, "id");
        return rep->status;
    }
    if (caller->role == ROLE_ADMIN || in_part(s, PROG_SPEAKER, caller->id) ||
        in_part(s, PROG_MODERATOR, caller->id))
        return 0;
    snprintf(msg, sizeof(msg),
             "only the speakers and moderators of \"%s\" (and admins) may upload its slides", id);
    admin_api_reply_error(out, rep, 403, "forbidden", msg, NULL);
    return rep->status;
}

unsigned programme_api_slides_check(struct slides_upload *up, struct proto_buf *out,
                                    struct admin_reply *rep)
{
    char msg[128];

    memset(rep, 0, sizeof(*rep));
    proto_buf_reset(out);
    if (up->io_errno) {
        fprintf(stderr, "venued: slides: %s: %s\n", up->tmp, strerror(up->io_errno));
        admin_api_reply_error(out, rep, 500, "internal",
                              "the deck could not be written; see the server log", NULL);
    } else if (up->over) {
        snprintf(msg, sizeof(msg), "body: over the limit of %zu bytes (--slides-max)", up->max);
        admin_api_reply_error(out, rep, 413, "too_large", msg, "body");
    } else if (up->len == 0) {
        admin_api_reply_error(out, rep, 400, "bad_request",
                              "body: empty; send the PDF itself as the request body", "body");
    } else if (!slides_is_pdf(up)) {
        admin_api_reply_error(out, rep, 415, "unsupported_media_type",
                              "body: not a PDF (a PDF starts with %PDF-; its name and "
                              "Content-Type do not count)",
                              "body");
    } else {
        return 0;
    }
    slides_abort(up);
    return rep->status;
}

void programme_api_slides_done(const struct admin_env *env, struct slides_upload *up,
                               const struct reg_user *caller, int pages, const char *why,
                               long long now_ms, long long wall_ms, struct proto_buf *out,
                               struct admin_reply *rep)
{
    const char *data = env->cfg->data_dir;
    const struct prog_session *s;
    char err[512], msg[700], url[128], room[PROG_ROOM_MAX], old[PATH_MAX] = "", reason[96];
    int version;

    memset(rep, 0, sizeof(*rep));
    proto_buf_reset(out);
    if (pages < 0) {
        snprintf(msg, sizeof(msg), "body: not a PDF that can be read: %s", why);
        admin_api_reply_error(out, rep, 415, "unsupported_media_type", msg, "body");
        goto done;
    }
    if (pages < 1 || pages > env->cfg->slides_pages) {
        snprintf(msg, sizeof(msg),
                 "body: the deck has %d pages; it must have 1 to %d (--slides-pages)", pages,
                 env->cfg->slides_pages);
        admin_api_reply_error(out, rep, 400, "bad_request", msg, "body");
        goto done;
    }
    /* Looked up again: the programme may have been replaced meanwhile. */
    s = venue_programme_find(env->venue, up->session);
    if (!s) {
        snprintf(msg, sizeof(msg), "no session \"%s\" in the programme", up->session);
        admin_api_reply_error(out, rep, 404, "not_found", msg, "id");
        goto done;
    }
    version = s->slides_version + 1;
    snprintf(room, sizeof(room), "%s", s->room);
    if (s->slides_pages > 0 && slides_file(data, s->id, s->slides_version, old, sizeof(old)) < 0)
        old[0] = '\0';
    if (slides_commit(up, data, version, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued: slides: %s\n", err);
        admin_api_reply_error(out, rep, 500, "internal",
                              "the deck could not be stored; see the server log", NULL);
        goto done;
    }
    if (venue_slides_set(env->venue, up->session, pages, now_ms, err, sizeof(err)) < 0) {
        char path[PATH_MAX];
        fprintf(stderr, "venued: slides: %s\n", err);
        if (slides_file(data, up->session, version, path, sizeof(path)) == 0)
            unlink(path);
        admin_api_reply_error(out, rep, 500, "internal",
                              "the deck could not be shown; see the server log", NULL);
        goto done;
    }
    if (old[0])
        unlink(old);
    snprintf(reason, sizeof(reason), "%s: %d pages", up->session, pages);
    admin_api_audit(env, caller, wall_ms, "slides", NULL, room, reason);
    snprintf(url, sizeof(url), "/api/sessions/%s/slides?v=%d", up->session, version);
    admin_api_reply_json(out, rep, 200, json_pack("{s:i, s:s}", "pages", pages, "url", url));
done:
    slides_abort(up);
}

int programme_api_slides_file(const struct admin_env *env, const char *id, char *path, size_t size,
                              int *version)
{
    const struct prog_session *s = venue_programme_find(env->venue, id);
    if (!s || s->slides_pages <= 0)
        return 0;
    *version = s->slides_version;
    return slides_file(env->cfg->data_dir, s->id, s->slides_version, path, size) < 0 ? -1 : 1;
}
