/*
 * admin_api.c - what /api/admin answers: users (list, search, register,
 * revoke), CSV imports, the audit log and live presence. Every reply is
 * built with jansson, so every string in it is escaped.
 *
 * Register, import and revoke are recorded in the audit log like the
 * moderators' actions, with the admin as the actor. The programme's
 * routes (/api/admin/programme) are answered by programme_api.c.
 */
#include "admin_api.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "programme_api.h"
#include "report.h"
#include "user_csv.h"

#define DAY_MS 86400000LL

#define USERS_LIMIT_DEFAULT 1000
#define USERS_LIMIT_MAX     10000
#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX     1000

enum route { R_NONE, R_USERS, R_USERS_IMPORT, R_USER, R_AUDIT, R_PRESENCE, R_PROGRAMME };

bool admin_api_owns(const char *path)
{
    return strcmp(path, "/api/admin") == 0 || strncmp(path, "/api/admin/", 11) == 0;
}

static enum route route_of(const char *path, const char **id)
{
    *id = NULL;
    if (strcmp(path, "/api/admin/users") == 0)
        return R_USERS;
    if (strcmp(path, "/api/admin/users/import") == 0)
        return R_USERS_IMPORT;
    if (strncmp(path, "/api/admin/users/", 17) == 0 && path[17] && !strchr(path + 17, '/')) {
        *id = path + 17;
        return R_USER;
    }
    if (strcmp(path, "/api/admin/audit") == 0)
        return R_AUDIT;
    if (strcmp(path, "/api/admin/presence") == 0)
        return R_PRESENCE;
    if (strcmp(path, "/api/admin/programme") == 0)
        return R_PROGRAMME;
    return R_NONE;
}

/* Dump doc (stolen) into out. */
static int put_json(struct proto_buf *out, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    int rc = text ? proto_buf_append(out, text, strlen(text)) : -1;
    /* A registration reply carries a token: leave no copy in the heap. */
    if (text)
        memset(text, 0, strlen(text));
    free(text);
    json_decref(doc);
    return rc;
}

int admin_api_error(struct proto_buf *out, const char *code, const char *message, const char *field,
                    long line)
{
    json_t *e = json_object(), *m;
    proto_buf_reset(out);
    if (!e)
        return -1;
    json_object_set_new(e, "code", json_string(code));
    /* json_string refuses invalid UTF-8; a message quoting input must not
     * vanish because of it. */
    m = json_string(message);
    json_object_set_new(e, "message", m ? m : json_string("invalid request"));
    if (field)
        json_object_set_new(e, "field", json_string(field));
    if (line > 0)
        json_object_set_new(e, "line", json_integer(line));
    return put_json(out, json_pack("{s:o}", "error", e));
}

void admin_api_reply_error(struct proto_buf *out, struct admin_reply *rep, unsigned status,
                           const char *code, const char *message, const char *field)
{
    rep->status = status;
    if (admin_api_error(out, code, message, field, 0) < 0)
        rep->status = 500;
}

void admin_api_reply_json(struct proto_buf *out, struct admin_reply *rep, unsigned status,
                          json_t *doc)
{
    proto_buf_reset(out);
    rep->status = status;
    if (put_json(out, doc) < 0)
        admin_api_reply_error(out, rep, 500, "internal", "out of memory", NULL);
}

void admin_api_reply_store_error(const struct admin_env *env, struct proto_buf *out,
                                 struct admin_reply *rep)
{
    if (registry_locked(env->reg)) {
        rep->retry_after = true;
        admin_api_reply_error(out, rep, 503, "busy",
                              "the database is being written by another process: nothing was "
                              "done; try again shortly",
                              NULL);
        return;
    }
    /* The detail is for the operator's log, not for the client. */
    fprintf(stderr, "venued: registry: %s\n", registry_error(env->reg));
    admin_api_reply_error(out, rep, 500, "internal", "the database failed; see the server log",
                          NULL);
}

/* ---- Authentication --------------------------------------------------- */

unsigned admin_api_user(const struct admin_env *env, const char *authorization, long long wall_ms,
                        const char *what, struct reg_user *caller, struct proto_buf *out,
                        struct admin_reply *rep)
{
    const char *t = authorization;
    char token[REG_TOKEN_LEN + 1];
    size_t n;
    int rc;

    memset(rep, 0, sizeof(*rep));
    if (!t || strncasecmp(t, "Bearer ", 7) != 0) {
        char msg[160];
        rep->challenge = true;
        snprintf(msg, sizeof(msg), "%s is required: Authorization: Bearer TOKEN", what);
        admin_api_reply_error(out, rep, 401, "unauthorized", msg, NULL);
        return rep->status;
    }
    for (t += 7; *t == ' '; t++)
        ;
    n = strlen(t);
    while (n > 0 && t[n - 1] == ' ')
        n--;
    /* Anything not shaped like a token is refused without a lookup. */
    if (n != REG_TOKEN_LEN) {
        rep->challenge = true;
        admin_api_reply_error(out, rep, 401, "unauthorized", "the token is not valid", NULL);
        return rep->status;
    }
    memcpy(token, t, n);
    token[n] = '\0';
    rc = registry_token_check(env->reg, token, wall_ms, caller);
    memset(token, 0, sizeof(token));
    if (rc < 0) {
        admin_api_reply_store_error(env, out, rep);
        return rep->status;
    }
    if (rc == 0) {
        rep->challenge = true;
        admin_api_reply_error(out, rep, 401, "unauthorized",
                              "the token is unknown, expired or revoked", NULL);
        return rep->status;
    }
    return 0;
}

void admin_api_whoami(const struct admin_env *env, const char *authorization, long long wall_ms,
                      struct proto_buf *out, struct admin_reply *rep)
{
    struct reg_user u;
    if (admin_api_user(env, authorization, wall_ms, "a join link's token", &u, out, rep))
        return;
    admin_api_reply_json(out, rep, 200,
                         json_pack("{s:s, s:s}", "name", u.name, "role", role_name(u.role)));
}

unsigned admin_api_auth(const struct admin_env *env, const char *authorization, long long wall_ms,
                        struct reg_user *caller, struct proto_buf *out, struct admin_reply *rep)
{
    unsigned status =
        admin_api_user(env, authorization, wall_ms, "an admin token", caller, out, rep);
    if (status)
        return status;
    if (caller->role != ROLE_ADMIN) {
        admin_api_reply_error(out, rep, 403, "forbidden", "this needs an admin's token", NULL);
        return rep->status;
    }
    return 0;
}

size_t admin_api_body_max(enum http_method m, const char *path)
{
    const char *id;
    if (m != HTTP_POST)
        return 0;
    switch (route_of(path, &id)) {
    case R_USERS:
        return ADMIN_JSON_MAX;
    case R_USERS_IMPORT:
        return ADMIN_CSV_MAX;
    case R_PROGRAMME:
        return (size_t)PROG_FILE_MAX;
    default:
        return 0;
    }
}

/* ---- Query arguments -------------------------------------------------- */

/* The value of query argument name, or NULL. */
static const char *arg(const struct admin_request *rq, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < rq->nargs; i++)
        if (strncmp(rq->args[i], name, n) == 0 && rq->args[i][n] == '=')
            return rq->args[i] + n + 1;
    return NULL;
}

/* An integer argument in min..max, or def when absent or empty. 0, or -1
 * after a 400 naming it. */
static int arg_int(const struct admin_request *rq, const char *name, long long min, long long max,
                   long long def, long long *out, struct proto_buf *o, struct admin_reply *rep)
{
    const char *v = arg(rq, name);
    char *end, msg[160];
    long long x;
    *out = def;
    if (!v || !v[0])
        return 0;
    errno = 0;
    x = strtoll(v, &end, 10);
    if (errno || *end || x < min || x > max) {
        snprintf(msg, sizeof(msg), "%s: must be a whole number in %lld..%lld", name, min, max);
        admin_api_reply_error(o, rep, 400, "bad_request", msg, name);
        return -1;
    }
    *out = x;
    return 0;
}

/* A text argument of at most max bytes of valid UTF-8; NULL when absent
 * or empty. 0, or -1 after a 400. */
static int arg_text(const struct admin_request *rq, const char *name, size_t max, const char **out,
                    struct proto_buf *o, struct admin_reply *rep)
{
    const char *v = arg(rq, name);
    char msg[160];
    *out = v && v[0] ? v : NULL;
    if (*out && (strlen(v) > max || !proto_utf8_valid(v, strlen(v)))) {
        snprintf(msg, sizeof(msg), "%s: must be at most %zu bytes of UTF-8", name, max);
        admin_api_reply_error(o, rep, 400, "bad_request", msg, name);
        return -1;
    }
    return 0;
}

void admin_api_audit(const struct admin_env *env, const struct reg_user *caller, long long wall_ms,
                     const char *action, const char *target, const char *room, const char *reason)
{
    struct reg_audit a = {
        .ts_ms = wall_ms,
        .actor_id = caller->id,
        .actor_name = caller->name,
        .action = action,
        .target_id = target,
        .room = room,
        .reason = reason,
    };
    if (registry_audit_add(env->reg, &a) < 0)
        fprintf(stderr, "venued: audit: %s\n", registry_error(env->reg));
}

static void audit(const struct admin_env *env, const struct admin_request *rq, const char *action,
                  const char *target, const char *reason)
{
    admin_api_audit(env, rq->caller, rq->wall_ms, action, target, NULL, reason);
}

/* ---- Users ------------------------------------------------------------ */

static json_t *user_json(const struct reg_user *u)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:b}", "id", u->id, "name", u->name, "org",
                     u->org, "role", role_name(u->role), "created_ms", (json_int_t)u->created_ms,
                     "last_seen_ms", (json_int_t)u->last_seen_ms, "revoked", u->revoked);
}

/* The same object `venued user add` prints. */
static json_t *registered_json(const struct admin_env *env, const char *id, const char *name,
                               const char *org, enum role role, const char *token)
{
    char link[512];
    user_csv_link(link, sizeof(link), env->cfg->public_url, token);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "name", name, "org", org, "role",
                     role_name(role), "token", token, "link", link);
}

struct list_ctx {
    json_t *arr;
    bool oom;
};

static void list_one(void *arg, const struct reg_user *u)
{
    struct list_ctx *c = arg;
    if (json_array_append_new(c->arr, user_json(u)) < 0)
        c->oom = true;
}

static void users_list(const struct admin_env *env, const struct admin_request *rq,
                       struct proto_buf *out, struct admin_reply *rep)
{
    struct list_ctx c = {.arr = json_array()};
    const char *q;
    long long limit;

    if (arg_text(rq, "q", 256, &q, out, rep) < 0 ||
        arg_int(rq, "limit", 1, USERS_LIMIT_MAX, USERS_LIMIT_DEFAULT, &limit, out, rep) < 0) {
        json_decref(c.arr);
        return;
    }
    if (registry_user_list(env->reg, q, (size_t)limit, list_one, &c) < 0) {
        json_decref(c.arr);
        admin_api_reply_store_error(env, out, rep);
        return;
    }
    if (c.oom) {
        json_decref(c.arr);
        admin_api_reply_error(out, rep, 500, "internal", "out of memory", NULL);
        return;
    }
    admin_api_reply_json(out, rep, 200, json_pack("{s:o}", "users", c.arr));
}

/* The body of POST /api/admin/users, checked field by field. 0, or -1
 * after a 400 naming the field. */
static int parse_new_user(const struct admin_request *rq, json_t **doc, const char **name,
                          const char **org, enum role *role, long long *expires_days,
                          struct proto_buf *out, struct admin_reply *rep)
{
    static const char *const known[] = {"name", "role", "org", "expires_days"};
    json_error_t jerr;
    json_t *v;
    const char *key;
    char msg[320];

    *doc = json_loadb(rq->body ? rq->body : "", rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*doc) {
        snprintf(msg, sizeof(msg), "body: not valid JSON (%s, line %d)", jerr.text, jerr.line);
        admin_api_reply_error(out, rep, 400, "bad_request", msg, "body");
        return -1;
    }
    if (!json_is_object(*doc)) {
        admin_api_reply_error(
            out, rep, 400, "bad_request",
            "body: must be an object {\"name\",\"role\",\"org\"?,\"expires_days\"?}", "body");
        return -1;
    }
    json_object_foreach(*doc, key, v)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok |= strcmp(key, known[i]) == 0;
        if (!ok) {
            snprintf(msg, sizeof(msg),
                     "%.64s: unknown field (expected name, role, org, expires_days)", key);
            admin_api_reply_error(out, rep, 400, "bad_request", msg, key);
            return -1;
        }
    }
    v = json_object_get(*doc, "name");
    if (!json_is_string(v)) {
        admin_api_reply_error(out, rep, 400, "bad_request",
                              v ? "name: must be a string" : "name: required", "name");
        return -1;
    }
    *name = json_string_value(v);
    if (registry_check_name("name", *name, 1, 64, msg, sizeof(msg)) < 0 ||
        strlen(*name) != json_string_length(v)) {
        admin_api_reply_error(
            out, rep, 400, "bad_request",
            strlen(*name) != json_string_length(v) ? "name: contains a NUL character" : msg,
            "name");
        return -1;
    }
    v = json_object_get(*doc, "role");
    if (!json_is_string(v)) {
        admin_api_reply_error(
            out, rep, 400, "bad_request",
            v ? "role: must be a string" : "role: required (one of " ROLE_NAMES ")", "role");
        return -1;
    }
    if (role_parse(json_string_value(v), role) < 0) {
        snprintf(msg, sizeof(msg), "role: \"%.40s\" is not one of " ROLE_NAMES,
                 json_string_value(v));
        admin_api_reply_error(out, rep, 400, "bad_request", msg, "role");
        return -1;
    }
    v = json_object_get(*doc, "org");
    *org = "";
    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) {
            admin_api_reply_error(out, rep, 400, "bad_request", "org: must be a string", "org");
            return -1;
        }
        *org = json_string_value(v);
        if (registry_check_name("org", *org, 0, 128, msg, sizeof(msg)) < 0 ||
            strlen(*org) != json_string_length(v)) {
            admin_api_reply_error(
                out, rep, 400, "bad_request",
                strlen(*org) != json_string_length(v) ? "org: contains a NUL character" : msg,
                "org");
            return -1;
        }
    }
    v = json_object_get(*doc, "expires_days");
    *expires_days = 0;
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 3650) {
            admin_api_reply_error(out, rep, 400, "bad_request",
                                  "expires_days: must be a whole number of days, 1..3650",
                                  "expires_days");
            return -1;
        }
        *expires_days = json_integer_value(v);
    }
    return 0;
}

static void users_add(const struct admin_env *env, const struct admin_request *rq,
                      struct proto_buf *out, struct admin_reply *rep)
{
    json_t *doc = NULL;
    const char *name, *org;
    enum role role;
    long long days, now = rq->wall_ms;
    struct reg_user u;
    char token[REG_TOKEN_LEN + 1], err[320];

    if (parse_new_user(rq, &doc, &name, &org, &role, &days, out, rep) < 0) {
        json_decref(doc);
        return;
    }
    if (registry_user_add(env->reg, name, org, role, days ? now + days * DAY_MS : 0, now, &u, token,
                          err, sizeof(err)) < 0) {
        json_decref(doc);
        /* Input was checked above: what is left is the database. */
        fprintf(stderr, "venued: registry: %s\n", err);
        admin_api_reply_error(out, rep, 500, "internal", "the database failed; see the server log",
                              NULL);
        return;
    }
    json_decref(doc);
    audit(env, rq, "user.register", u.id, NULL);
    admin_api_reply_json(out, rep, 201, registered_json(env, u.id, u.name, u.org, u.role, token));
    memset(token, 0, sizeof(token));
}

/*
 * The admin API's import, written a step at a time between the service
 * loop's other work (user_csv_import), its answer built as it goes: each
 * row written appends its object. Who frees what: the job owns the list,
 * the results and the answer until admin_import_answer hands that over.
 */
struct admin_import {
    struct user_csv csv;
    struct user_csv_result *res;
    struct user_csv_import im;
    struct reg_user caller; /* a copy: the request is gone by the answer */
    long long wall_ms;
    struct proto_buf out; /* the answer so far */
    struct admin_reply rep;
    bool ended;     /* kept or undone: only tidying is left */
    bool answered;  /* out and rep hold the answer */
    bool cancelled; /* the client went: undo */
};

/* Free a buffer that held tokens, leaving no copy in the heap. */
static void wipe(struct proto_buf *b)
{
    if (b->data)
        memset(b->data, 0, b->cap);
    proto_buf_free(b);
}

static void users_import(const struct admin_env *env, const struct admin_request *rq,
                         struct proto_buf *out, struct admin_reply *rep)
{
    struct user_csv csv;
    struct user_csv_result *res;
    struct admin_import *job;
    long long days, now = rq->wall_ms;
    char err[768];

    if (arg_int(rq, "expires_days", 1, 3650, 0, &days, out, rep) < 0)
        return;
    if (user_csv_parse(rq->body ? rq->body : "", rq->body_len, "body", &csv, err, sizeof(err)) <
        0) {
        /* "body:LINE: message" -> "line LINE: message", with the line apart. */
        char *end;
        long line = strncmp(err, "body:", 5) == 0 ? strtol(err + 5, &end, 10) : 0;
        char msg[800];
        if (line > 0 && *end == ':') {
            snprintf(msg, sizeof(msg), "line %ld:%s", line, end + 1);
        } else {
            line = 0;
            snprintf(msg, sizeof(msg), "%s", err);
        }
        rep->status = 400;
        if (admin_api_error(out, "bad_request", msg, "body", line) < 0)
            rep->status = 500;
        return;
    }
    job = calloc(1, sizeof(*job));
    res = calloc(csv.n, sizeof(*res));
    if (!job || !res) {
        free(job);
        free(res);
        user_csv_free(&csv);
        admin_api_reply_error(out, rep, 500, "internal", "out of memory", NULL);
        return;
    }
    job->csv = csv;
    job->res = res;
    job->caller = *rq->caller;
    job->wall_ms = now;
    snprintf(err, sizeof(err), "out of memory");
    if (proto_buf_printf(&job->out, "{\"count\":%zu,\"users\":[", csv.n) < 0 ||
        user_csv_import_begin(&job->im, env->reg, &job->csv, days ? now + days * DAY_MS : 0, now,
                              res, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued: import: %s\n", err);
        admin_api_reply_error(out, rep, 500, "internal",
                              "the database failed; nothing was registered", NULL);
        admin_import_free(job);
        return;
    }
    rep->import = job; /* no status yet: admin_import_step answers */
}

/* The import is over, kept or not: the answer is made (unless nobody
 * waits for it), and tidying is what is left. */
static void import_end(const struct admin_env *env, struct admin_import *job, bool keep,
                       const char *why)
{
    char err[256], reason[64];
    if (keep && user_csv_import_end(&job->im, true, err, sizeof(err)) < 0) {
        why = err;
        keep = false; /* another process undid it: nothing is registered */
    } else if (!keep && user_csv_import_end(&job->im, false, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued: import: %s; the next start undoes it\n", err);
    }
    job->ended = true;
    if (job->cancelled)
        return;
    job->answered = true;
    if (!keep) {
        fprintf(stderr, "venued: import: %s\n", why);
        admin_api_reply_error(&job->out, &job->rep, 500, "internal",
                              "the database failed; nothing was registered", NULL);
        return;
    }
    snprintf(reason, sizeof(reason), "%zu user%s", job->csv.n, job->csv.n == 1 ? "" : "s");
    admin_api_audit(env, &job->caller, job->wall_ms, "user.import", NULL, NULL, reason);
    job->rep.status = 201;
    if (proto_buf_append(&job->out, "]}", 2) < 0)
        admin_api_reply_error(&job->out, &job->rep, 500, "internal", "out of memory", NULL);
}

int admin_import_step(const struct admin_env *env, struct admin_import *job, double budget_s)
{
    char err[768];
    size_t from = job->im.done;
    int rc;

    if (job->ended)
        return 0;
    /* Another process holds the write lock: the loop does not wait for it
     * (store_patient); the next step looks again. */
    if (registry_held(env->reg) == 1)
        return 1;
    if (job->cancelled) {
        import_end(env, job, false, "the client went");
        return 0;
    }
    rc = user_csv_import_step(&job->im, budget_s, err, sizeof(err));
    if (rc < 0) {
        import_end(env, job, false, err);
        return 0;
    }
    for (size_t i = from; i < job->im.done; i++) {
        const struct user_csv_row *row = &job->csv.rows[i];
        if ((i > 0 && proto_buf_append(&job->out, ",", 1) < 0) ||
            put_json(&job->out, registered_json(env, job->res[i].id, row->name, row->org, row->role,
                                                job->res[i].token)) < 0) {
            import_end(env, job, false, "out of memory");
            return 0;
        }
    }
    if (rc > 0)
        return 1;
    import_end(env, job, true, NULL);
    return 0;
}

int admin_import_tidy(const struct admin_env *env)
{
    int rc = registry_import_tidy(env->reg, USER_CSV_TIDY_ROWS);
    if (rc < 0 && registry_locked(env->reg))
        return 1; /* another process writes: the next step tidies */
    if (rc < 0)
        fprintf(stderr, "venued: import: tidying: %s; the next start does it\n",
                registry_error(env->reg));
    return rc;
}

bool admin_import_answer(struct admin_import *job, struct proto_buf *out, struct admin_reply *rep)
{
    if (!job->answered)
        return false;
    job->answered = false;
    wipe(out);
    *out = job->out; /* handed over whole: ten megabytes are not copied */
    job->out = (struct proto_buf){0};
    *rep = job->rep;
    return true;
}

void admin_import_cancel(struct admin_import *job)
{
    job->cancelled = true;
    job->answered = false;
}

void admin_import_free(struct admin_import *job)
{
    if (!job)
        return;
    if (job->res)
        memset(job->res, 0, job->csv.n * sizeof(*job->res)); /* tokens */
    free(job->res);
    user_csv_free(&job->csv);
    wipe(&job->out);
    free(job);
}

static void user_get(const struct admin_env *env, const char *id, struct proto_buf *out,
                     struct admin_reply *rep)
{
    struct reg_user u;
    int rc = strlen(id) < REG_ID_MAX ? registry_user_get(env->reg, id, &u) : 0;
    if (rc < 0)
        admin_api_reply_store_error(env, out, rep);
    else if (rc == 0)
        admin_api_reply_error(out, rep, 404, "not_found", "no such user", "id");
    else
        admin_api_reply_json(out, rep, 200, user_json(&u));
}

static void user_revoke(const struct admin_env *env, const struct admin_request *rq, const char *id,
                        struct proto_buf *out, struct admin_reply *rep)
{
    int rc;
    /* The last admin locking everyone out by mistake is worse than the
     * inconvenience of asking another admin, or the command line. */
    if (strcmp(id, rq->caller->id) == 0) {
        admin_api_reply_error(
            out, rep, 403, "forbidden",
            "you cannot revoke yourself (another admin or `venued user revoke` can)", "id");
        return;
    }
    rc = strlen(id) < REG_ID_MAX ? registry_user_revoke(env->reg, id) : 0;
    if (rc < 0) {
        admin_api_reply_store_error(env, out, rep);
        return;
    }
    if (rc == 0) {
        admin_api_reply_error(out, rep, 404, "not_found", "no such user", "id");
        return;
    }
    venue_user_revoked(env->venue, id, rq->now_ms);
    audit(env, rq, "user.revoke", id, NULL);
    admin_api_reply_json(out, rep, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- Audit and presence ----------------------------------------------- */

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static void audit_one(void *arg, const struct reg_audit *a)
{
    struct list_ctx *c = arg;
    json_t *e =
        json_pack("{s:I, s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)a->id,
                  "ts_ms", (json_int_t)a->ts_ms, "actor_id", a->actor_id, "actor_name",
                  a->actor_name, "action", a->action, "target_id", text_or_null(a->target_id),
                  "target_name", text_or_null(a->target_name), "room", text_or_null(a->room),
                  "reason", text_or_null(a->reason), "detail", text_or_null(a->detail));
    if (json_array_append_new(c->arr, e) < 0)
        c->oom = true;
}

static void audit_list(const struct admin_env *env, const struct admin_request *rq,
                       struct proto_buf *out, struct admin_reply *rep)
{
    struct list_ctx c = {.arr = json_array()};
    const char *room, *actor;
    long long since, limit;

    if (arg_text(rq, "room", 256, &room, out, rep) < 0 ||
        arg_text(rq, "actor", 256, &actor, out, rep) < 0 ||
        arg_int(rq, "since", 0, 1LL << 53, 0, &since, out, rep) < 0 ||
        arg_int(rq, "limit", 1, AUDIT_LIMIT_MAX, AUDIT_LIMIT_DEFAULT, &limit, out, rep) < 0) {
        json_decref(c.arr);
        return;
    }
    if (registry_audit_list(env->reg, room, actor, since, (size_t)limit, audit_one, &c) < 0) {
        json_decref(c.arr);
        admin_api_reply_store_error(env, out, rep);
        return;
    }
    if (c.oom) {
        json_decref(c.arr);
        admin_api_reply_error(out, rep, 500, "internal", "out of memory", NULL);
        return;
    }
    admin_api_reply_json(out, rep, 200, json_pack("{s:o}", "entries", c.arr));
}

static void presence(const struct admin_env *env, struct proto_buf *out, struct admin_reply *rep)
{
    proto_buf_reset(out);
    rep->status = 200;
    if (report_presence(env->venue, out) < 0)
        admin_api_reply_error(out, rep, 500, "internal", "out of memory", NULL);
}

/* ---- Dispatch --------------------------------------------------------- */

static void not_allowed(struct proto_buf *out, struct admin_reply *rep, const char *allow)
{
    char msg[96];
    snprintf(msg, sizeof(msg), "this path takes %s only", allow);
    admin_api_reply_error(out, rep, 405, "method_not_allowed", msg, NULL);
    rep->allow = allow;
}

void admin_api_handle(const struct admin_env *env, const struct admin_request *rq,
                      struct proto_buf *out, struct admin_reply *rep)
{
    const char *id;
    enum route r = route_of(rq->path, &id);
    enum http_method m = rq->method;

    memset(rep, 0, sizeof(*rep));
    proto_buf_reset(out);
    switch (r) {
    case R_USERS:
        if (m == HTTP_GET)
            users_list(env, rq, out, rep);
        else if (m == HTTP_POST)
            users_add(env, rq, out, rep);
        else
            not_allowed(out, rep, "GET, POST");
        return;
    case R_USERS_IMPORT:
        if (m == HTTP_POST)
            users_import(env, rq, out, rep);
        else
            not_allowed(out, rep, "POST");
        return;
    case R_USER:
        if (m == HTTP_GET)
            user_get(env, id, out, rep);
        else if (m == HTTP_DELETE)
            user_revoke(env, rq, id, out, rep);
        else
            not_allowed(out, rep, "GET, DELETE");
        return;
    case R_AUDIT:
        if (m == HTTP_GET)
            audit_list(env, rq, out, rep);
        else
            not_allowed(out, rep, "GET");
        return;
    case R_PRESENCE:
        if (m == HTTP_GET)
            presence(env, out, rep);
        else
            not_allowed(out, rep, "GET");
        return;
    case R_PROGRAMME:
        if (m == HTTP_GET)
            programme_api_list(env, rq->args, rq->nargs, true, out, rep);
        else if (m == HTTP_POST)
            programme_api_import(env, rq, out, rep);
        else
            not_allowed(out, rep, "GET, POST");
        return;
    case R_NONE:
        break;
    }
    admin_api_reply_error(out, rep, 404, "not_found", "no such resource", NULL);
}
