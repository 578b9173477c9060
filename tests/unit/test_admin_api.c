/*
 * test_admin_api.c - the organisers' API (server/admin/admin_api.c) without
 * a socket: a real store and registry in a temporary folder, a venue driven
 * by core_harness, and requests handed straight to admin_api_auth and
 * admin_api_handle. Covers which paths are the API's, bearer-token checks
 * (401 with a challenge, 403 for non-admins), body limits, users (list and
 * search, register with field-naming errors, get, revoke closing the
 * user's sessions), CSV import all-or-nothing, the audit log and its
 * filters, presence, and 404/405. Every reply body is parsed with jansson.
 */
#include <stdlib.h>
#include <string.h>

#include "admin_api.h"
#include "clock.h"
#include "core_harness.h"
#include "registry.h"
#include "store.h"

static char dir[] = "/tmp/venue-admin-XXXXXX";
static struct store *st;
static struct registry *reg;
static struct venue *venue;
static struct admin_env env;

struct person {
    char id[REG_ID_MAX];
    char name[64];
    char token[REG_TOKEN_LEN + 1];
};
static struct person admin, attendee, moderator, doomed, expired;
static struct reg_user caller; /* the admin, as admin_api_auth filled it */

static void add_person(struct person *p, const char *name, const char *org, enum role role,
                       long long expires_ms)
{
    struct reg_user u;
    char err[200];
    CHECK(registry_user_add(reg, name, org, role, expires_ms, 1700000000000LL, &u, p->token, err,
                            sizeof(err)) == 0);
    snprintf(p->id, sizeof(p->id), "%s", u.id);
    snprintf(p->name, sizeof(p->name), "%s", name);
}

/* One reply: the status and headers, the body parsed (new reference). */
struct resp {
    struct admin_reply rep;
    json_t *body;
    char text[8192]; /* the body as sent, cut at this size */
};

static void parse_reply(struct resp *r, const struct proto_buf *out)
{
    json_error_t e;
    snprintf(r->text, sizeof(r->text), "%.*s", (int)out->len, out->data ? out->data : "");
    r->body = out->data ? json_loadb(out->data, out->len, 0, &e) : NULL;
    /* Every reply is a JSON object, errors included. */
    CHECK(json_is_object(r->body));
    if (!json_is_object(r->body))
        fprintf(stderr, "  not a JSON object: %.300s\n", r->text);
}

/* Handle a request as the admin; args is NULL-terminated ("name=value"). */
static void call(struct resp *r, enum http_method m, const char *path, const char *const *args,
                 const char *body, size_t body_len)
{
    struct proto_buf out = {0};
    struct admin_request rq = {
        .method = m,
        .path = path,
        .args = args,
        .caller = &caller,
        .body = body,
        .body_len = body_len,
        .now_ms = now,
        .wall_ms = clock_wall_ms(),
    };
    while (args && args[rq.nargs])
        rq.nargs++;
    memset(r, 0, sizeof(*r));
    /* Something stale in the buffer must not leak into the reply. */
    proto_buf_printf(&out, "stale");
    admin_api_handle(&env, &rq, &out, &r->rep);
    if (r->rep.import) {
        /* As the transport does: step until the import is over, then
         * tidy; a budget of 0 writes a row a step. */
        struct admin_import *job = r->rep.import;
        bool answered = false;
        CHECK(r->rep.status == 0);
        for (int more = 1; more;) {
            more = admin_import_step(&env, job, 0);
            if (admin_import_answer(job, &out, &r->rep)) {
                CHECK(!answered);
                answered = true;
            }
        }
        CHECK(answered);
        admin_import_free(job);
        for (int steps = 0; admin_import_tidy(&env) > 0; steps++)
            CHECK(steps < 100);
    }
    parse_reply(r, &out);
    proto_buf_free(&out);
}

#define NOARGS    NULL
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void get(struct resp *r, const char *path, const char *const *args)
{
    call(r, HTTP_GET, path, args, NULL, 0);
}

static void post(struct resp *r, const char *path, const char *const *args, const char *body)
{
    call(r, HTTP_POST, path, args, body, body ? strlen(body) : 0);
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Equal strings; a missing one (NULL) equals nothing. */
static int eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Is r the error status/code, with a message? */
static int is_error(const struct resp *r, unsigned status, const char *code)
{
    json_t *e = json_object_get(r->body, "error");
    int ok = r->rep.status == status && json_is_object(e) && str(e, "code") &&
             eq(str(e, "code"), code) && json_is_string(json_object_get(e, "message"));
    if (!ok)
        fprintf(stderr, "  expected %u %s, got %u %.300s\n", status, code, r->rep.status, r->text);
    return ok;
}

static const char *err_field(const struct resp *r)
{
    const char *f = str(json_object_get(r->body, "error"), "field");
    return f ? f : "(none)";
}

static const char *err_message(const struct resp *r)
{
    const char *m = str(json_object_get(r->body, "error"), "message");
    return m ? m : "";
}

/* The object's keys, sorted and joined by commas, into buf. */
static const char *keys_of(json_t *o, char *buf, size_t n)
{
    const char *k[32];
    size_t nk = 0, used = 0;
    const char *key;
    json_t *v;
    buf[0] = '\0';
    json_object_foreach(o, key, v)
    {
        if (nk < 32)
            k[nk++] = key;
    }
    for (size_t i = 1; i < nk; i++)
        for (size_t j = i; j > 0 && strcmp(k[j - 1], k[j]) > 0; j--) {
            const char *t = k[j];
            k[j] = k[j - 1];
            k[j - 1] = t;
        }
    for (size_t i = 0; i < nk && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? "," : "", k[i]);
    return buf;
}

static int is_hex32(const char *s)
{
    if (!s || strlen(s) != 32)
        return 0;
    for (; *s; s++)
        if (!strchr("0123456789abcdef", *s))
            return 0;
    return 1;
}

/* How many users GET /api/admin/users lists with this search (NULL: all). */
static size_t users_matching(const char *q)
{
    struct resp r;
    char arg[300];
    size_t n;
    snprintf(arg, sizeof(arg), "q=%s", q ? q : "");
    get(&r, "/api/admin/users", ARGS(arg));
    CHECK(r.rep.status == 200);
    n = json_array_size(json_object_get(r.body, "users"));
    json_decref(r.body);
    return n;
}

/* The authentication of one Authorization header value. */
static unsigned auth(const char *header, struct reg_user *who, struct admin_reply *rep,
                     json_t **body)
{
    struct proto_buf out = {0};
    struct resp r;
    unsigned status;
    memset(rep, 0xff, sizeof(*rep)); /* must be reset by admin_api_auth */
    status = admin_api_auth(&env, header, clock_wall_ms(), who, &out, rep);
    if (status) {
        memset(&r, 0, sizeof(r));
        parse_reply(&r, &out);
        *body = r.body;
    } else {
        *body = NULL;
    }
    proto_buf_free(&out);
    return status;
}

static json_t *room_in(json_t *presence, const char *id);
static json_t *person_in(json_t *users, const char *name);

/* A connection that says hello with p's token, then joins room (if any). */
static struct fconn *enter(const struct person *p, const char *room)
{
    char hello[200];
    struct fconn *c;
    snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"name\":\"x\",\"token\":\"%s\"}",
             p->token);
    c = connect_hello(venue, hello, NULL);
    if (room)
        join(venue, c, room);
    return c;
}

static void test_owns_and_body_max(void)
{
    CHECK(admin_api_owns("/api/admin"));
    CHECK(admin_api_owns("/api/admin/"));
    CHECK(admin_api_owns("/api/admin/users"));
    CHECK(admin_api_owns("/api/admin/anything/at/all"));
    CHECK(!admin_api_owns("/api/adminx"));
    CHECK(!admin_api_owns("/api/admi"));
    CHECK(!admin_api_owns("/api/venue"));
    CHECK(!admin_api_owns("/API/admin"));
    CHECK(!admin_api_owns("/"));
    CHECK(!admin_api_owns(""));

    CHECK(admin_api_body_max(HTTP_POST, "/api/admin/users") == ADMIN_JSON_MAX);
    CHECK(admin_api_body_max(HTTP_POST, "/api/admin/users/import") == ADMIN_CSV_MAX);
    CHECK(admin_api_body_max(HTTP_GET, "/api/admin/users") == 0);
    CHECK(admin_api_body_max(HTTP_PUT, "/api/admin/users") == 0);
    CHECK(admin_api_body_max(HTTP_PUT, "/api/admin/users/import") == 0);
    CHECK(admin_api_body_max(HTTP_DELETE, "/api/admin/users/u-0000000000000000") == 0);
    CHECK(admin_api_body_max(HTTP_POST, "/api/admin/users/u-0000000000000000") == 0);
    CHECK(admin_api_body_max(HTTP_POST, "/api/admin/audit") == 0);
    CHECK(admin_api_body_max(HTTP_POST, "/api/admin/presence") == 0);
    CHECK(admin_api_body_max(HTTP_POST, "/api/admin/nothing") == 0);
}

static void test_auth(void)
{
    struct admin_reply rep;
    struct reg_user who;
    json_t *body;
    char header[128];
    const char *refused[] = {
        NULL,                                       /* no header */
        "",                                         /* empty */
        "Bearer",                                   /* no token */
        "Bearer ",                                  /* empty token */
        "Bearer x",                                 /* junk */
        "Bearer 0000000000000000000000000000000",   /* 31 digits */
        "Bearer 000000000000000000000000000000000", /* 33 digits */
        "Bearer 00000000000000000000000000000000",  /* unknown */
        "Token 00000000000000000000000000000000",   /* another scheme */
    };

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        CHECK(auth(refused[i], &who, &rep, &body) == 401);
        CHECK(rep.status == 401);
        CHECK(rep.challenge);
        CHECK(rep.allow == NULL);
        CHECK(eq(str(json_object_get(body, "error"), "code"), "unauthorized"));
        json_decref(body);
    }
    /* The admin's own token in another scheme is no bearer token. */
    snprintf(header, sizeof(header), "Basic %s", admin.token);
    CHECK(auth(header, &who, &rep, &body) == 401 && rep.challenge);
    json_decref(body);
    /* An unknown token says so. */
    CHECK(auth("Bearer 00000000000000000000000000000000", &who, &rep, &body) == 401);
    CHECK(strstr(str(json_object_get(body, "error"), "message"), "unknown, expired or revoked"));
    json_decref(body);
    /* Expired (its expiry is long past) and revoked tokens are refused too. */
    snprintf(header, sizeof(header), "Bearer %s", expired.token);
    CHECK(auth(header, &who, &rep, &body) == 401 && rep.challenge);
    json_decref(body);
    snprintf(header, sizeof(header), "Bearer %s", doomed.token);
    CHECK(auth(header, &who, &rep, &body) == 0); /* before it is revoked */
    json_decref(body);                           /* NULL unless refused */
    CHECK(registry_user_revoke(reg, doomed.id) == 1);
    CHECK(auth(header, &who, &rep, &body) == 401 && rep.challenge);
    CHECK(eq(str(json_object_get(body, "error"), "code"), "unauthorized"));
    json_decref(body);

    /* Valid but not an admin's: 403, and no challenge (another token would
     * not be the answer to "who are you"). */
    snprintf(header, sizeof(header), "Bearer %s", attendee.token);
    CHECK(auth(header, &who, &rep, &body) == 403);
    CHECK(rep.status == 403 && !rep.challenge);
    CHECK(eq(str(json_object_get(body, "error"), "code"), "forbidden"));
    json_decref(body);
    snprintf(header, sizeof(header), "Bearer %s", moderator.token);
    CHECK(auth(header, &who, &rep, &body) == 403);
    json_decref(body);

    /* The admin: 0, and who is asking filled in. */
    memset(&who, 0, sizeof(who));
    snprintf(header, sizeof(header), "Bearer %s", admin.token);
    CHECK(auth(header, &who, &rep, &body) == 0);
    json_decref(body); /* NULL unless refused */
    CHECK(body == NULL);
    CHECK(strcmp(who.id, admin.id) == 0);
    CHECK(strcmp(who.name, "Organiser") == 0);
    CHECK(who.role == ROLE_ADMIN);
    CHECK(!who.revoked);
    CHECK(!rep.challenge && rep.allow == NULL);
    /* The scheme in any case, spaces around the token. */
    snprintf(header, sizeof(header), "bearer   %s  ", admin.token);
    CHECK(auth(header, &who, &rep, &body) == 0);
    json_decref(body); /* NULL unless refused */
    snprintf(header, sizeof(header), "BEARER %s", admin.token);
    CHECK(auth(header, &who, &rep, &body) == 0);
    json_decref(body); /* NULL unless refused */
    caller = who;
}

static void test_users_list(void)
{
    struct resp r;
    char keys[256];
    size_t i;
    json_t *u;
    int saw_admin = 0;

    get(&r, "/api/admin/users", NOARGS);
    CHECK(r.rep.status == 200);
    CHECK(json_is_array(json_object_get(r.body, "users")));
    /* admin, attendee, moderator, doomed, expired: guests are not listed. */
    CHECK(json_array_size(json_object_get(r.body, "users")) == 5);
    json_array_foreach(json_object_get(r.body, "users"), i, u)
    {
        CHECK(strcmp(keys_of(u, keys, sizeof(keys)),
                     "created_ms,id,last_seen_ms,name,org,revoked,role") == 0);
        CHECK(str(u, "id") && strncmp(str(u, "id"), "u-", 2) == 0);
        if (eq(str(u, "id"), admin.id)) {
            saw_admin = 1;
            CHECK(eq(str(u, "role"), "admin"));
            CHECK(eq(str(u, "org"), "City of Test"));
            CHECK(json_integer_value(json_object_get(u, "created_ms")) == 1700000000000LL);
            /* Using the token counts as being seen. */
            CHECK(json_integer_value(json_object_get(u, "last_seen_ms")) > 0);
            CHECK(json_is_false(json_object_get(u, "revoked")));
        }
        if (eq(str(u, "id"), doomed.id))
            CHECK(json_is_true(json_object_get(u, "revoked")));
    }
    CHECK(saw_admin);
    /* Never a token. */
    CHECK(!strstr(r.text, admin.token) && !strstr(r.text, attendee.token));
    CHECK(!strstr(r.text, "token"));
    json_decref(r.body);

    /* Search: name, org, id; case-insensitive; no wildcards. */
    get(&r, "/api/admin/users", ARGS("q=visit"));
    CHECK(json_array_size(json_object_get(r.body, "users")) == 1);
    CHECK(eq(str(json_array_get(json_object_get(r.body, "users"), 0), "name"), "Visitor"));
    json_decref(r.body);
    CHECK(users_matching("VISITOR") == 1);
    CHECK(users_matching("Guild of Mods") == 1);
    CHECK(users_matching(moderator.id) == 1);
    CHECK(users_matching("%") == 0);
    CHECK(users_matching("_") == 0);
    CHECK(users_matching("nobody-called-this") == 0);
    CHECK(users_matching("") == 5); /* empty: everyone */
    /* Another argument before it does not hide it. */
    get(&r, "/api/admin/users", ARGS("x=1", "q=Organiser"));
    CHECK(json_array_size(json_object_get(r.body, "users")) == 1);
    json_decref(r.body);

    /* limit: 1..10000, empty is the default. */
    get(&r, "/api/admin/users", ARGS("limit=1"));
    CHECK(r.rep.status == 200 && json_array_size(json_object_get(r.body, "users")) == 1);
    json_decref(r.body);
    get(&r, "/api/admin/users", ARGS("limit=10000"));
    CHECK(r.rep.status == 200 && json_array_size(json_object_get(r.body, "users")) == 5);
    json_decref(r.body);
    get(&r, "/api/admin/users", ARGS("limit="));
    CHECK(r.rep.status == 200 && json_array_size(json_object_get(r.body, "users")) == 5);
    json_decref(r.body);
    for (const char *const *a = ARGS("limit=0", "limit=10001", "limit=abc", "limit=1x", "limit=-1");
         *a; a++) {
        get(&r, "/api/admin/users", ARGS(*a));
        CHECK(is_error(&r, 400, "bad_request"));
        CHECK(strcmp(err_field(&r), "limit") == 0);
        CHECK(strstr(err_message(&r), "limit") != NULL);
        json_decref(r.body);
    }
    /* q: at most 256 bytes of UTF-8. */
    {
        char q[300] = "q=";
        memset(q + 2, 'a', 256);
        q[258] = '\0';
        get(&r, "/api/admin/users", ARGS(q));
        CHECK(r.rep.status == 200);
        json_decref(r.body);
        q[258] = 'a';
        q[259] = '\0';
        get(&r, "/api/admin/users", ARGS(q));
        CHECK(is_error(&r, 400, "bad_request") && strcmp(err_field(&r), "q") == 0);
        json_decref(r.body);
        get(&r, "/api/admin/users", ARGS("q=\xff"));
        CHECK(is_error(&r, 400, "bad_request") && strcmp(err_field(&r), "q") == 0);
        json_decref(r.body);
    }
}

static void test_user_get(void)
{
    struct resp r;
    char path[400];

    snprintf(path, sizeof(path), "/api/admin/users/%s", attendee.id);
    get(&r, path, NOARGS);
    CHECK(r.rep.status == 200);
    CHECK(eq(str(r.body, "id"), attendee.id));
    CHECK(eq(str(r.body, "name"), "Visitor"));
    CHECK(eq(str(r.body, "role"), "attendee"));
    CHECK(!strstr(r.text, attendee.token));
    json_decref(r.body);

    get(&r, "/api/admin/users/u-0000000000000000", NOARGS);
    CHECK(is_error(&r, 404, "not_found") && strcmp(err_field(&r), "id") == 0);
    json_decref(r.body);
    /* An id far longer than any id: not found, not a crash. */
    snprintf(path, sizeof(path), "/api/admin/users/");
    memset(path + strlen(path), 'x', 300);
    path[17 + 300] = '\0';
    get(&r, path, NOARGS);
    CHECK(is_error(&r, 404, "not_found"));
    json_decref(r.body);
    /* Below a user there is nothing. */
    snprintf(path, sizeof(path), "/api/admin/users/%s/tokens", attendee.id);
    get(&r, path, NOARGS);
    CHECK(is_error(&r, 404, "not_found"));
    json_decref(r.body);
}

/* An audit entry's action, newest first: entries[i]. */
static json_t *audit_entries(const char *const *args, struct resp *r)
{
    get(r, "/api/admin/audit", args);
    CHECK(r->rep.status == 200);
    CHECK(json_is_array(json_object_get(r->body, "entries")));
    return json_object_get(r->body, "entries");
}

static void test_users_add(void)
{
    struct resp r;
    char keys[256], link[200], header[128];
    struct reg_user who;
    struct admin_reply rep;
    json_t *body, *e;
    size_t before = users_matching(NULL);

    post(&r, "/api/admin/users", NOARGS,
         "{\"name\":\"New \\\"Speaker\\\", Esq.\",\"role\":\"admin\",\"org\":\"Ghent\","
         "\"expires_days\":30}");
    CHECK(r.rep.status == 201);
    CHECK(strcmp(keys_of(r.body, keys, sizeof(keys)), "id,link,name,org,role,token") == 0);
    CHECK(str(r.body, "id") && strncmp(str(r.body, "id"), "u-", 2) == 0);
    CHECK(eq(str(r.body, "name"), "New \"Speaker\", Esq."));
    CHECK(eq(str(r.body, "org"), "Ghent"));
    CHECK(eq(str(r.body, "role"), "admin"));
    CHECK(is_hex32(str(r.body, "token")));
    /* The join link: public_url without its trailing slash. */
    snprintf(link, sizeof(link), "http://venue.test/?token=%s", str(r.body, "token"));
    CHECK(eq(str(r.body, "link"), link));
    /* The new admin's token is accepted. */
    snprintf(header, sizeof(header), "Bearer %s", str(r.body, "token"));
    CHECK(auth(header, &who, &rep, &body) == 0);
    json_decref(body); /* NULL unless refused */
    CHECK(strcmp(who.id, str(r.body, "id")) == 0 && who.role == ROLE_ADMIN);
    CHECK(users_matching(NULL) == before + 1);
    /* Recorded, with the admin as the actor. */
    {
        struct resp a;
        e = json_array_get(audit_entries(NOARGS, &a), 0);
        CHECK(e && eq(str(e, "action"), "user.register"));
        CHECK(e && eq(str(e, "target_id"), str(r.body, "id")));
        CHECK(e && eq(str(e, "actor_id"), admin.id));
        CHECK(e && eq(str(e, "actor_name"), "Organiser"));
        json_decref(a.body);
    }
    json_decref(r.body);

    /* org is optional, null as absent; no expiry. */
    post(&r, "/api/admin/users", NOARGS, "{\"name\":\"Min\",\"role\":\"guest\",\"org\":null}");
    CHECK(r.rep.status == 201);
    CHECK(eq(str(r.body, "org"), ""));
    CHECK(eq(str(r.body, "role"), "guest"));
    json_decref(r.body);
    before += 2;

    /* Each bad body is 400 naming the field; nothing is registered. */
    {
        static const char *const cases[][3] = {
            {"{\"role\":\"guest\"}", "name", "name: required"},
            {"{\"name\":\"X\"}", "role", "role: required"},
            {"{\"name\":\"X\",\"role\":\"boss\"}", "role",
             "role: \"boss\" is not one of guest, attendee, speaker, moderator, admin"},
            {"{\"name\":\"X\",\"role\":\"Admin\"}", "role", "not one of"},
            {"{\"name\":\"X\",\"role\":7}", "role", "role: must be a string"},
            {"{\"name\":42,\"role\":\"guest\"}", "name", "name: must be a string"},
            {"{\"name\":null,\"role\":\"guest\"}", "name", "name: must be a string"},
            {"{\"name\":\"\",\"role\":\"guest\"}", "name", "name: must not be empty"},
            {"{\"name\":\"   \",\"role\":\"guest\"}", "name", "name: must not be blank"},
            {"{\"name\":\"a\\nb\",\"role\":\"guest\"}", "name", "control character (U+000A)"},
            {"{\"name\":\"a\\u0000b\",\"role\":\"guest\"}", "body", "body: not valid JSON"},
            {"{\"name\":\"X\",\"role\":\"guest\",\"org\":7}", "org", "org: must be a string"},
            {"{\"name\":\"X\",\"role\":\"guest\",\"expires_days\":0}", "expires_days",
             "expires_days"},
            {"{\"name\":\"X\",\"role\":\"guest\",\"expires_days\":3651}", "expires_days",
             "1..3650"},
            {"{\"name\":\"X\",\"role\":\"guest\",\"expires_days\":1.5}", "expires_days",
             "expires_days"},
            {"{\"name\":\"X\",\"role\":\"guest\",\"expires_days\":\"3\"}", "expires_days",
             "expires_days"},
            {"{\"name\":\"X\",\"role\":\"guest\",\"organisation\":\"O\"}", "organisation",
             "organisation: unknown field"},
            {"[1,2]", "body", "body: must be an object"},
            /* jansson decodes only arrays and objects at the top. */
            {"\"x\"", "body", "body: not valid JSON"},
            {"nope", "body", "body: not valid JSON"},
            {"{\"name\":\"X\",\"role\":\"guest\"", "body", "body: not valid JSON"},
            {"{\"name\":\"X\",\"name\":\"Y\",\"role\":\"guest\"}", "body", "body: not valid JSON"},
            {"", "body", "body: not valid JSON"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            post(&r, "/api/admin/users", NOARGS, cases[i][0]);
            CHECK(is_error(&r, 400, "bad_request"));
            CHECK(strcmp(err_field(&r), cases[i][1]) == 0);
            CHECK(strstr(err_message(&r), cases[i][2]) != NULL);
            if (strcmp(err_field(&r), cases[i][1]) != 0 || !strstr(err_message(&r), cases[i][2]))
                fprintf(stderr, "  body %s: field %s, message \"%s\"\n", cases[i][0], err_field(&r),
                        err_message(&r));
            json_decref(r.body);
        }
    }
    /* No body at all. */
    call(&r, HTTP_POST, "/api/admin/users", NOARGS, NULL, 0);
    CHECK(is_error(&r, 400, "bad_request") && strcmp(err_field(&r), "body") == 0);
    json_decref(r.body);
    /* Lengths: name 64 code points, org 128; one more is refused. */
    {
        char text[1200], name[80], org[140];
        memset(name, 'n', 64);
        name[64] = '\0';
        memset(org, 'o', 128);
        org[128] = '\0';
        snprintf(text, sizeof(text), "{\"name\":\"%s\",\"role\":\"guest\",\"org\":\"%s\"}", name,
                 org);
        post(&r, "/api/admin/users", NOARGS, text);
        CHECK(r.rep.status == 201);
        json_decref(r.body);
        snprintf(text, sizeof(text), "{\"name\":\"%sn\",\"role\":\"guest\"}", name);
        post(&r, "/api/admin/users", NOARGS, text);
        CHECK(is_error(&r, 400, "bad_request") && strcmp(err_field(&r), "name") == 0);
        CHECK(strstr(err_message(&r), "name: must be 1..64 characters") != NULL);
        json_decref(r.body);
        snprintf(text, sizeof(text), "{\"name\":\"X\",\"role\":\"guest\",\"org\":\"%so\"}", org);
        post(&r, "/api/admin/users", NOARGS, text);
        CHECK(is_error(&r, 400, "bad_request") && strcmp(err_field(&r), "org") == 0);
        CHECK(strstr(err_message(&r), "org: must be at most 128 characters") != NULL);
        json_decref(r.body);
        before++;
    }
    /* A role with quotes and backslashes comes back escaped. */
    post(&r, "/api/admin/users", NOARGS, "{\"name\":\"X\",\"role\":\"a\\\"b\\\\c\"}");
    CHECK(is_error(&r, 400, "bad_request"));
    CHECK(strstr(err_message(&r), "\"a\"b\\c\"") != NULL);
    json_decref(r.body);
    CHECK(users_matching(NULL) == before);
}

static void test_revoke(void)
{
    struct resp r;
    struct person victim, other;
    struct fconn *c, *bystander;
    char path[200], header[128];
    struct reg_user who;
    struct admin_reply rep;
    json_t *body, *e;

    add_person(&victim, "Victor Victim", "", ROLE_SPEAKER, 0);
    add_person(&other, "Olga Other", "", ROLE_ATTENDEE, 0);
    c = enter(&victim, "lobby");
    bystander = enter(&other, "lobby");
    CHECK(c->s != NULL && c->closed_code == 0);

    snprintf(path, sizeof(path), "/api/admin/users/%s", victim.id);
    call(&r, HTTP_DELETE, path, NOARGS, NULL, 0);
    CHECK(r.rep.status == 200);
    CHECK(json_is_true(json_object_get(r.body, "ok")) && json_object_size(r.body) == 1);
    json_decref(r.body);
    /* The session of that user is closed at once, as unauthorised. */
    CHECK(c->s == NULL);
    CHECK(c->closed_code == VENUE_CLOSE_UNAUTHORIZED);
    CHECK(strstr(c->reason, "revoked") != NULL);
    /* Someone else's is not. */
    CHECK(bystander->s != NULL && bystander->closed_code == 0);
    /* The token no longer works, the user is listed as revoked. */
    snprintf(header, sizeof(header), "Bearer %s", victim.token);
    CHECK(auth(header, &who, &rep, &body) == 401);
    json_decref(body);
    get(&r, path, NOARGS);
    CHECK(r.rep.status == 200 && json_is_true(json_object_get(r.body, "revoked")));
    json_decref(r.body);
    {
        /* Presence forgets the revoked person at once, though the core
         * reaps its session only at the next tick, when the room is told. */
        struct resp p;
        json_t *lobby, *msgs, *left;
        get(&p, "/api/admin/presence", NOARGS);
        lobby = json_object_get(room_in(p.body, "lobby"), "users");
        CHECK(person_in(lobby, "Victor Victim") == NULL);
        json_decref(p.body);
        venue_tick(venue, now);
        get(&p, "/api/admin/presence", NOARGS);
        CHECK(strstr(p.text, victim.id) == NULL);
        CHECK(strstr(p.text, other.id) != NULL);
        json_decref(p.body);
        msgs = drain(venue, bystander);
        left = NULL;
        for (size_t i = 0; i < json_array_size(msgs); i++) {
            json_t *m = json_array_get(msgs, i);
            const char *uid = str(json_object_get(m, "user"), "id");
            if (strcmp(type_of(m), "presence") == 0 && str(m, "event") &&
                eq(str(m, "event"), "leave") && uid && strcmp(uid, victim.id) == 0)
                left = m;
        }
        CHECK(left != NULL);
        json_decref(msgs);
    }
    /* A new hello with the revoked token is refused. */
    {
        struct fconn *again = calloc(1, sizeof(*again));
        char hello[200];
        snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"name\":\"x\",\"token\":\"%s\"}",
                 victim.token);
        again->s = venue_connect(venue, again, now);
        send_text(venue, again, hello);
        CHECK(again->closed_code == VENUE_CLOSE_UNAUTHORIZED);
        free(again);
    }
    /* Recorded. */
    {
        struct resp a;
        e = json_array_get(audit_entries(NOARGS, &a), 0);
        CHECK(e && eq(str(e, "action"), "user.revoke"));
        CHECK(e && eq(str(e, "target_id"), victim.id));
        CHECK(e && eq(str(e, "actor_id"), admin.id));
        json_decref(a.body);
    }

    call(&r, HTTP_DELETE, "/api/admin/users/u-0000000000000000", NOARGS, NULL, 0);
    CHECK(is_error(&r, 404, "not_found") && strcmp(err_field(&r), "id") == 0);
    json_decref(r.body);
    {
        char longp[400] = "/api/admin/users/";
        memset(longp + 17, 'x', 300);
        longp[317] = '\0';
        call(&r, HTTP_DELETE, longp, NOARGS, NULL, 0);
        CHECK(is_error(&r, 404, "not_found"));
        json_decref(r.body);
    }
    /* Not yourself: 403, and the admin's token still works. */
    snprintf(path, sizeof(path), "/api/admin/users/%s", admin.id);
    call(&r, HTTP_DELETE, path, NOARGS, NULL, 0);
    CHECK(is_error(&r, 403, "forbidden") && strcmp(err_field(&r), "id") == 0);
    json_decref(r.body);
    snprintf(header, sizeof(header), "Bearer %s", admin.token);
    CHECK(auth(header, &who, &rep, &body) == 0);
    json_decref(body); /* NULL unless refused */

    venue_disconnect(venue, bystander->s, now);
    free(bystander);
    free(c);
}

static void test_import(void)
{
    struct resp r;
    size_t before = users_matching(NULL), i;
    json_t *u;
    char link[200];
    static const char csv[] = "\xEF\xBB\xBFname,organisation,role\r\n"
                              "\"Smith, Jane\",\"ACME \"\"Best\"\"\",speaker\r\n"
                              "Bob,,attendee\r\n";

    post(&r, "/api/admin/users/import", ARGS("expires_days=7"), csv);
    CHECK(r.rep.status == 201);
    CHECK(json_integer_value(json_object_get(r.body, "count")) == 2);
    CHECK(json_array_size(json_object_get(r.body, "users")) == 2);
    json_array_foreach(json_object_get(r.body, "users"), i, u)
    {
        CHECK(str(u, "id") && strncmp(str(u, "id"), "u-", 2) == 0);
        CHECK(is_hex32(str(u, "token")));
        snprintf(link, sizeof(link), "http://venue.test/?token=%s", str(u, "token"));
        CHECK(str(u, "link") && eq(str(u, "link"), link));
    }
    u = json_object_get(r.body, "users");
    CHECK(eq(str(json_array_get(u, 0), "name"), "Smith, Jane"));
    CHECK(eq(str(json_array_get(u, 0), "org"), "ACME \"Best\""));
    CHECK(eq(str(json_array_get(u, 0), "role"), "speaker"));
    CHECK(eq(str(json_array_get(u, 1), "name"), "Bob"));
    CHECK(eq(str(json_array_get(u, 1), "org"), ""));
    CHECK(eq(str(json_array_get(u, 1), "role"), "attendee"));
    json_decref(r.body);
    CHECK(users_matching(NULL) == before + 2);
    {
        struct resp a;
        json_t *e = json_array_get(audit_entries(NOARGS, &a), 0);
        CHECK(e && eq(str(e, "action"), "user.import"));
        CHECK(e && eq(str(e, "reason"), "2 users"));
        CHECK(e && json_is_null(json_object_get(e, "target_id")));
        json_decref(a.body);
    }
    before += 2;

    /* One bad line refuses the whole list, naming the line. */
    post(&r, "/api/admin/users/import", NOARGS, "Ann,Org,guest\nBen,Org,boss\n");
    CHECK(is_error(&r, 400, "bad_request"));
    CHECK(strcmp(err_field(&r), "body") == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(r.body, "error"), "line")) == 2);
    CHECK(strcmp(err_message(&r),
                 "line 2: role: \"boss\" is not one of guest, attendee, speaker, moderator, "
                 "admin") == 0);
    json_decref(r.body);
    CHECK(users_matching("Ann") == 0);
    /* A bad line after a header and a blank line: the line in the file. */
    post(&r, "/api/admin/users/import", NOARGS,
         "name,org,role\nCid,O,guest\n\nDora,O,guest\n,O,guest\n");
    CHECK(is_error(&r, 400, "bad_request"));
    CHECK(json_integer_value(json_object_get(json_object_get(r.body, "error"), "line")) == 5);
    CHECK(strncmp(err_message(&r), "line 5: name", 12) == 0);
    json_decref(r.body);
    CHECK(users_matching("Cid") == 0 && users_matching("Dora") == 0);
    /* Empty. */
    post(&r, "/api/admin/users/import", NOARGS, "");
    CHECK(is_error(&r, 400, "bad_request") && strcmp(err_field(&r), "body") == 0);
    json_decref(r.body);
    call(&r, HTTP_POST, "/api/admin/users/import", NOARGS, NULL, 0);
    CHECK(is_error(&r, 400, "bad_request"));
    json_decref(r.body);
    /* expires_days: 1..3650. */
    for (const char *const *a = ARGS("expires_days=0", "expires_days=3651", "expires_days=x"); *a;
         a++) {
        post(&r, "/api/admin/users/import", ARGS(*a), "Eve,O,guest\n");
        CHECK(is_error(&r, 400, "bad_request") && strcmp(err_field(&r), "expires_days") == 0);
        json_decref(r.body);
    }
    CHECK(users_matching(NULL) == before);

    /* A client that goes before the answer: nothing it sent is kept,
     * though other writes made between its steps are. */
    {
        struct admin_request rq = {
            .method = HTTP_POST,
            .path = "/api/admin/users/import",
            .caller = &caller,
            .body = "Gil,O,guest\nHal,O,guest\nIda,O,guest\n",
            .now_ms = now,
            .wall_ms = clock_wall_ms(),
        };
        struct proto_buf out = {0};
        struct admin_reply rep;
        struct reg_user jo;
        char token[REG_TOKEN_LEN + 1], err[256];
        rq.body_len = strlen(rq.body);
        admin_api_handle(&env, &rq, &out, &rep);
        CHECK(rep.import && rep.status == 0);
        CHECK(admin_import_step(&env, rep.import, 0) == 1 &&
              !admin_import_answer(rep.import, &out, &rep));
        CHECK(users_matching("Gil") == 1); /* written, not yet kept */
        CHECK(registry_user_add(reg, "Jo Between", "", ROLE_ATTENDEE, 0, clock_wall_ms(), &jo,
                                token, err, sizeof(err)) == 0);
        admin_import_cancel(rep.import);
        CHECK(admin_import_step(&env, rep.import, 0) == 0); /* over: undone */
        CHECK(!admin_import_answer(rep.import, &out, &rep));
        admin_import_free(rep.import);
        CHECK(users_matching("Gil") == 1); /* until tidied */
        for (int steps = 0; admin_import_tidy(&env) > 0; steps++)
            CHECK(steps < 100);
        proto_buf_free(&out);
        CHECK(users_matching("Gil") == 0 && users_matching("Hal") == 0);
        CHECK(users_matching("Jo Between") == 1);
        CHECK(users_matching(NULL) == before + 1);
    }
}

static void test_audit(void)
{
    struct resp r;
    json_t *entries, *e;
    size_t i, n_all;
    char keys[256], arg[64];
    long long prev = -1;
    long long t0 = 1700000000000LL;
    struct reg_audit entry = {.ts_ms = t0,
                              .actor_id = moderator.id,
                              .actor_name = "Mod",
                              .action = "lock",
                              .room = "lobby",
                              .reason = "too loud"};

    CHECK(registry_audit_add(reg, &entry) == 0);
    entries = audit_entries(NOARGS, &r);
    n_all = json_array_size(entries);
    CHECK(n_all >= 5); /* register x3 (and more), revoke, import, lock */
    json_array_foreach(entries, i, e)
    {
        CHECK(strcmp(
                  keys_of(e, keys, sizeof(keys)),
                  "action,actor_id,actor_name,detail,id,reason,room,target_id,target_name,ts_ms") ==
              0);
        /* Newest first (by time: the lock was added last but is oldest). */
        if (prev >= 0)
            CHECK(json_integer_value(json_object_get(e, "ts_ms")) <= prev);
        prev = json_integer_value(json_object_get(e, "ts_ms"));
    }
    json_decref(r.body);

    /* Filters: actor, room, since, limit. */
    snprintf(arg, sizeof(arg), "actor=%s", admin.id);
    entries = audit_entries(ARGS(arg), &r);
    CHECK(json_array_size(entries) == n_all - 1);
    json_array_foreach(entries, i, e)
    {
        CHECK(eq(str(e, "actor_id"), admin.id));
    }
    json_decref(r.body);
    snprintf(arg, sizeof(arg), "actor=%s", attendee.id);
    entries = audit_entries(ARGS(arg), &r);
    CHECK(json_array_size(entries) == 0);
    json_decref(r.body);
    entries = audit_entries(ARGS("room=lobby"), &r);
    CHECK(json_array_size(entries) == 1);
    e = json_array_get(entries, 0);
    CHECK(e && eq(str(e, "action"), "lock"));
    CHECK(e && eq(str(e, "room"), "lobby"));
    CHECK(e && eq(str(e, "reason"), "too loud"));
    CHECK(e && json_is_null(json_object_get(e, "target_id")));
    CHECK(e && json_integer_value(json_object_get(e, "ts_ms")) == t0);
    json_decref(r.body);
    entries = audit_entries(ARGS("room=expo"), &r);
    CHECK(json_array_size(entries) == 0);
    json_decref(r.body);
    /* since is inclusive: since=t0 keeps the lock at t0, t0 + 1 leaves it out. */
    snprintf(arg, sizeof(arg), "since=%lld", t0);
    entries = audit_entries(ARGS(arg, "room=lobby"), &r);
    CHECK(json_array_size(entries) == 1);
    json_decref(r.body);
    snprintf(arg, sizeof(arg), "since=%lld", t0 + 1);
    entries = audit_entries(ARGS(arg), &r);
    CHECK(json_array_size(entries) == n_all - 1);
    json_decref(r.body);
    entries = audit_entries(ARGS("since=9007199254740992"), &r); /* 2^53: the maximum */
    CHECK(json_array_size(entries) == 0);
    json_decref(r.body);
    entries = audit_entries(ARGS("since=0", "room=lobby"), &r);
    CHECK(json_array_size(entries) == 1);
    json_decref(r.body);
    entries = audit_entries(ARGS("limit=1"), &r);
    CHECK(json_array_size(entries) == 1);
    json_decref(r.body);
    entries = audit_entries(ARGS("limit=1000"), &r);
    CHECK(json_array_size(entries) == n_all);
    json_decref(r.body);

    {
        static const char *const bad[][2] = {
            {"since=abc", "since"}, {"since=-1", "since"},   {"since=9007199254740993", "since"},
            {"limit=0", "limit"},   {"limit=1001", "limit"}, {"limit=100000", "limit"},
            {"limit=1.5", "limit"},
        };
        for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
            get(&r, "/api/admin/audit", ARGS(bad[k][0]));
            CHECK(is_error(&r, 400, "bad_request"));
            CHECK(strcmp(err_field(&r), bad[k][1]) == 0);
            json_decref(r.body);
        }
        get(&r, "/api/admin/audit", ARGS("room=\xc3"));
        CHECK(is_error(&r, 400, "bad_request") && strcmp(err_field(&r), "room") == 0);
        json_decref(r.body);
    }
}

/* The room of this id in a presence reply, borrowed, or NULL. */
static json_t *room_in(json_t *presence, const char *id)
{
    size_t i;
    json_t *room;
    json_array_foreach(json_object_get(presence, "rooms"), i, room)
    {
        if (eq(str(room, "id"), id))
            return room;
    }
    return NULL;
}

/* The person of this name in a list of users, borrowed, or NULL. */
static json_t *person_in(json_t *users, const char *name)
{
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u)
    {
        if (eq(str(u, "name"), name))
            return u;
    }
    return NULL;
}

static void test_presence(void)
{
    struct resp r;
    struct fconn *vis = enter(&attendee, "expo");
    struct fconn *ada = connect_as(venue, "Ada", NULL);
    struct fconn *ned = connect_as(venue, "Nowhere Ned", NULL);
    struct fconn *gone = connect_as(venue, "Gone Gus", NULL);
    json_t *expo, *u, *lobbyless;
    char keys[256];
    size_t i;

    join(venue, ada, "expo");
    join(venue, gone, "breakout-1");
    /* Dropped but within the resume grace: still there, not connected. */
    venue_disconnect(venue, gone->s, now);

    get(&r, "/api/admin/presence", NOARGS);
    CHECK(r.rep.status == 200);
    CHECK(strcmp(keys_of(r.body, keys, sizeof(keys)), "lobbyless,rooms") == 0);
    CHECK(json_is_array(json_object_get(r.body, "rooms")));
    CHECK(json_array_size(json_object_get(r.body, "rooms")) == venue_room_count(venue));
    json_array_foreach(json_object_get(r.body, "rooms"), i, u)
    {
        struct venue_room_view view;
        venue_room_get(venue, i, &view);
        CHECK(strcmp(keys_of(u, keys, sizeof(keys)), "id,name,users") == 0);
        CHECK(eq(str(u, "id"), view.id)); /* in the venue's order */
        CHECK(eq(str(u, "name"), view.name));
        CHECK(json_is_array(json_object_get(u, "users")));
        CHECK(json_array_size(json_object_get(u, "users")) == (size_t)view.count);
    }
    expo = json_object_get(room_in(r.body, "expo"), "users");
    CHECK(json_array_size(expo) == 2);
    /* In join order; a registered user under the registered name, not the
     * hello's. */
    u = json_array_get(expo, 0);
    CHECK(u && eq(str(u, "name"), "Visitor"));
    CHECK(u && eq(str(u, "id"), attendee.id));
    CHECK(u && eq(str(u, "role"), "attendee"));
    u = json_array_get(expo, 1);
    CHECK(u && eq(str(u, "name"), "Ada"));
    CHECK(u && strcmp(keys_of(u, keys, sizeof(keys)), "connected,hand,id,name,role,status") == 0);
    CHECK(u && eq(str(u, "id"), ada->user_id));
    CHECK(u && eq(str(u, "role"), "guest"));
    CHECK(u && json_is_true(json_object_get(u, "connected")));
    CHECK(u && json_is_false(json_object_get(u, "hand")));
    CHECK(u && json_is_string(json_object_get(u, "status")));

    u = person_in(json_object_get(room_in(r.body, "breakout-1"), "users"), "Gone Gus");
    CHECK(u && json_is_false(json_object_get(u, "connected")));

    lobbyless = json_object_get(r.body, "lobbyless");
    CHECK(json_array_size(lobbyless) == 1);
    u = json_array_get(lobbyless, 0);
    CHECK(u && eq(str(u, "name"), "Nowhere Ned"));
    CHECK(u && eq(str(u, "id"), ned->user_id));
    CHECK(u && strcmp(keys_of(u, keys, sizeof(keys)), "connected,hand,id,name,role,status") == 0);
    CHECK(u && json_is_true(json_object_get(u, "connected")));
    /* No positions in presence. */
    CHECK(!strstr(r.text, "\"p\"") && !strstr(r.text, "\"q\"") && !strstr(r.text, "pose"));
    json_decref(r.body);

    venue_disconnect(venue, ada->s, now);
    venue_disconnect(venue, ned->s, now);
    venue_disconnect(venue, vis->s, now);
    free(ada);
    free(ned);
    free(vis);
    free(gone);
}

static void test_methods_and_paths(void)
{
    static const struct {
        enum http_method m;
        const char *path, *allow;
    } wrong[] = {
        {HTTP_PUT, "/api/admin/users", "GET, POST"},
        {HTTP_DELETE, "/api/admin/users", "GET, POST"},
        {HTTP_PATCH, "/api/admin/users", "GET, POST"},
        {HTTP_GET, "/api/admin/users/import", "POST"},
        {HTTP_DELETE, "/api/admin/users/import", "POST"},
        {HTTP_POST, "/api/admin/users/u-0000000000000000", "GET, DELETE"},
        {HTTP_PUT, "/api/admin/users/u-0000000000000000", "GET, DELETE"},
        {HTTP_DELETE, "/api/admin/audit", "GET"},
        {HTTP_POST, "/api/admin/audit", "GET"},
        {HTTP_POST, "/api/admin/presence", "GET"},
        {HTTP_OPTIONS, "/api/admin/presence", "GET"},
        {HTTP_METHOD_OTHER, "/api/admin/presence", "GET"},
    };
    struct resp r;
    size_t before = users_matching(NULL);

    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        static const char body[] = "{\"name\":\"X\",\"role\":\"guest\"}";
        call(&r, wrong[i].m, wrong[i].path, NOARGS, body, strlen(body));
        CHECK(is_error(&r, 405, "method_not_allowed"));
        CHECK(r.rep.allow && strcmp(r.rep.allow, wrong[i].allow) == 0);
        CHECK(strstr(err_message(&r), wrong[i].allow) != NULL);
        json_decref(r.body);
    }
    /* Nothing was registered by a PUT with a valid body. */
    CHECK(users_matching(NULL) == before);
    for (const char *const *p =
             ARGS("/api/admin", "/api/admin/", "/api/admin/nothing-here", "/api/admin/users/",
                  "/api/admin/audit/1", "/api/admin/users/a/b");
         *p; p++) {
        get(&r, *p, NOARGS);
        CHECK(is_error(&r, 404, "not_found"));
        CHECK(r.rep.allow == NULL);
        json_decref(r.body);
    }
    /* A right method is not 405, and the reply resets what came before. */
    get(&r, "/api/admin/presence", NOARGS);
    CHECK(r.rep.status == 200 && r.rep.allow == NULL && !r.rep.challenge);
    CHECK(strstr(r.text, "stale") == NULL);
    json_decref(r.body);
}

/* admin_api_error on its own: optional field and line. */
static void test_error_shape(void)
{
    struct proto_buf out = {0};
    struct resp r;
    char keys[128];

    CHECK(admin_api_error(&out, "bad_request", "m", NULL, 0) == 0);
    memset(&r, 0, sizeof(r));
    parse_reply(&r, &out);
    CHECK(strcmp(keys_of(json_object_get(r.body, "error"), keys, sizeof(keys)), "code,message") ==
          0);
    json_decref(r.body);
    CHECK(admin_api_error(&out, "bad_request", "m", "f", 3) == 0);
    memset(&r, 0, sizeof(r));
    parse_reply(&r, &out);
    CHECK(strcmp(keys_of(json_object_get(r.body, "error"), keys, sizeof(keys)),
                 "code,field,line,message") == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(r.body, "error"), "line")) == 3);
    json_decref(r.body);
    /* A message quoting invalid UTF-8 does not make the reply vanish. */
    CHECK(admin_api_error(&out, "bad_request", "bad \xff byte", NULL, 0) == 0);
    memset(&r, 0, sizeof(r));
    parse_reply(&r, &out);
    CHECK(json_is_string(json_object_get(json_object_get(r.body, "error"), "message")));
    json_decref(r.body);
    proto_buf_free(&out);
}

int main(int argc, char **argv)
{
    char err[512];

    config_defaults(&cfg);
    snprintf(cfg.public_url, sizeof(cfg.public_url), "http://venue.test/");
    if (scene_set_load(argc > 1 ? argv[1] : "scenes/demo", &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "scenes: %s\n", err);
        return 1;
    }
    if (!mkdtemp(dir) || !(st = store_open(dir, err, sizeof(err))) ||
        !(reg = registry_open(st, err, sizeof(err)))) {
        fprintf(stderr, "store: %s\n", err);
        return 1;
    }
    add_person(&admin, "Organiser", "City of Test", ROLE_ADMIN, 0);
    add_person(&attendee, "Visitor", "", ROLE_ATTENDEE, 0);
    add_person(&moderator, "Mod", "Guild of Mods", ROLE_MODERATOR, 0);
    add_person(&doomed, "Doomed Dan", "", ROLE_ADMIN, 0);
    add_person(&expired, "Expired Eve", "", ROLE_ADMIN, 1700000000000LL + 1);
    venue = venue_new(&cfg, &io, &scenes, st, reg, now, err, sizeof(err));
    if (!venue) {
        fprintf(stderr, "venue_new: %s\n", err);
        return 1;
    }
    env = (struct admin_env){.reg = reg, .venue = venue, .cfg = &cfg};

    test_owns_and_body_max();
    test_auth();
    test_error_shape();
    test_users_list();
    test_user_get();
    test_users_add();
    test_revoke();
    test_import();
    test_audit();
    test_presence();
    test_methods_and_paths();

    venue_free(venue);
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
