/*
 * core_harness.c - see core_harness.h.
 */
#include "core_harness.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check_store.h"
#include "store.h"

static void f_wake(void *ctx, void *conn)
{
    (void)ctx;
    ((struct fconn *)conn)->wakes++;
}

static void f_close(void *ctx, void *conn, int code, const char *reason, struct frame *last)
{
    struct fconn *c = conn;
    (void)ctx;
    c->closed_code = code;
    snprintf(c->reason, sizeof(c->reason), "%s", reason);
    if (last)
        snprintf(c->farewell, sizeof(c->farewell), "%.*s", (int)last->len, frame_data(last));
    c->s = NULL;
}

static void f_bind(void *ctx, void *conn, struct session *s)
{
    (void)ctx;
    ((struct fconn *)conn)->s = s;
}

const struct venue_io io = {.wake = f_wake, .close = f_close, .bind = f_bind};

struct scene_set scenes;
struct venue_config cfg;
long long now = 1000000;

void send_text(struct venue *v, struct fconn *c, const char *text)
{
    venue_message(v, c->s, text, strlen(text), now);
}

static json_t *vec_json(const float *x, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_real(x[i]));
    return a;
}

/* A binary poses frame as JSON, or NULL when it is malformed. */
static json_t *binary_poses(const struct fconn *c, const unsigned char *d, size_t len)
{
    json_t *users, *msg;
    size_t n;
    if (len < POSES_BIN_HEAD || d[0] != POSES_BIN_FRAME || d[1] != 0)
        return NULL;
    n = (size_t)d[6] | (size_t)d[7] << 8;
    if (len != POSES_BIN_HEAD + n * POSES_BIN_ENTRY)
        return NULL;
    users = json_array();
    for (size_t i = 0; i < n; i++) {
        unsigned ix;
        float p[3], q[4];
        const unsigned char *e = d + POSES_BIN_HEAD + i * POSES_BIN_ENTRY;
        bool stage = e[1] & 0x80;
        poses_bin_decode_entry(e, stage ? &c->stage_bounds : &c->bounds, &ix, p, q);
        json_array_append_new(users, json_pack("{s:i,s:o,s:o}", "ix", (json_int_t)ix, "p",
                                               vec_json(p, 3), "q", vec_json(q, 4)));
    }
    msg = json_pack("{s:s,s:b,s:I,s:o}", "type", "poses", "binary", 1, "tick",
                    (json_int_t)((unsigned long)d[2] | (unsigned long)d[3] << 8 |
                                 (unsigned long)d[4] << 16 | (unsigned long)d[5] << 24),
                    "users", users);
    return msg;
}

/* A joined's or a stage message's bounds into c. */
static void take_bounds(struct fconn *c, json_t *msg)
{
    json_t *b = json_object_get(msg, "bounds");
    struct poses_bin_bounds *to = strcmp(type_of(msg), "joined") == 0  ? &c->bounds
                                  : strcmp(type_of(msg), "stage") == 0 ? &c->stage_bounds
                                                                       : NULL;
    if (!to || !b)
        return;
    for (int i = 0; i < 3; i++) {
        to->min[i] = (float)json_number_value(json_array_get(json_object_get(b, "min"), i));
        to->max[i] = (float)json_number_value(json_array_get(json_object_get(b, "max"), i));
    }
}

json_t *drain(struct venue *v, struct fconn *c)
{
    json_t *all = json_array();
    struct frame *f;
    while (c->s && (f = venue_peek(c->s))) {
        json_error_t e;
        json_t *msg = f->binary ? binary_poses(c, frame_data(f), f->len)
                                : json_loadb((const char *)frame_data(f), f->len, 0, &e);
        if (msg)
            take_bounds(c, msg);
        if (!msg) {
            fprintf(stderr, "invalid frame: %.*s\n", (int)f->len, frame_data(f));
            failed++;
        } else {
            json_array_append_new(all, msg);
        }
        venue_sent(v, c->s, now);
    }
    return all;
}

const char *type_of(json_t *m)
{
    return json_string_value(json_object_get(m, "type"));
}

/* The first message of this type in msgs, borrowed, or NULL. */
json_t *find(json_t *msgs, const char *type)
{
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) if (strcmp(type_of(m), type) == 0) return m;
    return NULL;
}

size_t count(json_t *msgs, const char *type)
{
    size_t i, n = 0;
    json_t *m;
    json_array_foreach(msgs, i, m) n += strcmp(type_of(m), type) == 0;
    return n;
}

struct fconn *connect_as(struct venue *v, const char *name, char *resume_out)
{
    char text[256];
    snprintf(text, sizeof(text), "{\"type\":\"hello\",\"name\":\"%s\",\"id\":1}", name);
    return connect_hello(v, text, resume_out);
}

struct fconn *connect_hello(struct venue *v, const char *hello, char *resume_out)
{
    struct fconn *c = calloc(1, sizeof(*c));
    json_t *msgs, *w;
    c->s = venue_connect(v, c, now);
    send_text(v, c, hello);
    msgs = drain(v, c);
    w = find(msgs, "welcome");
    CHECK(w != NULL);
    if (w && resume_out)
        snprintf(resume_out, 64, "%s", json_string_value(json_object_get(w, "resume")));
    if (w)
        snprintf(c->user_id, sizeof(c->user_id), "%s",
                 json_string_value(json_object_get(json_object_get(w, "user"), "id")));
    json_decref(msgs);
    return c;
}

/* Join room and return where the joiner stands (from its roster entry). */
void join_at(struct venue *v, struct fconn *c, const char *room, float pos[3])
{
    char text[128];
    size_t i;
    json_t *msgs, *joined, *u;
    snprintf(text, sizeof(text), "{\"type\":\"join\",\"room\":\"%s\"}", room);
    send_text(v, c, text);
    msgs = drain(v, c);
    joined = find(msgs, "joined");
    CHECK(joined != NULL);
    if (!joined) {
        char *t = json_dumps(msgs, 0);
        fprintf(stderr, "  join %s got: %.400s\n", room, t);
        free(t);
    }

    if (joined && pos) {
        json_array_foreach(json_object_get(joined, "roster"), i, u)
        {
            if (strcmp(json_string_value(json_object_get(u, "id")), c->user_id) != 0)
                continue;
            for (int k = 0; k < 3; k++)
                pos[k] = (float)json_number_value(json_array_get(json_object_get(u, "p"), k));
        }
    }
    json_decref(msgs);
}

void join(struct venue *v, struct fconn *c, const char *room)
{
    join_at(v, c, room, NULL);
}

struct fconn *enter_token(struct venue *v, const char *token, const char *room)
{
    char hello[200];
    struct fconn *c;
    snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"name\":\"x\",\"token\":\"%s\"}", token);
    c = connect_hello(v, hello, NULL);
    if (room)
        join(v, c, room);
    return c;
}

const char *mod_send(struct venue *v, struct fconn *c, const char *body)
{
    static char result[64];
    char text[1024];
    json_t *msgs, *m;
    size_t i;
    snprintf(text, sizeof(text), "{\"type\":\"mod\",\"id\":\"m\",%s}", body);
    send_text(v, c, text);
    msgs = drain(v, c);
    snprintf(result, sizeof(result), "none");
    json_array_foreach(msgs, i, m)
    {
        if (!json_object_get(m, "re"))
            continue;
        if (strcmp(type_of(m), "mod_ok") == 0)
            snprintf(result, sizeof(result), "mod_ok");
        else if (strcmp(type_of(m), "error") == 0)
            snprintf(result, sizeof(result), "%s", json_string_value(json_object_get(m, "code")));
    }
    json_decref(msgs);
    return result;
}

struct audit_counter {
    const char *action;
    size_t n;
};

static void count_fn(void *arg, const struct reg_audit *a)
{
    struct audit_counter *c = arg;
    c->n += strcmp(a->action, c->action) == 0;
}

size_t audit_count(struct registry *reg, const char *action)
{
    struct audit_counter c = {action, 0};
    CHECK(registry_audit_list(reg, NULL, NULL, 0, 1000, count_fn, &c) == 0);
    return c.n;
}

void registered_add(struct registry *reg, struct registered *p, const char *name, enum role role,
                    long long at_ms)
{
    struct reg_user u;
    char err[200];
    CHECK(registry_user_add(reg, name, "City of Test", role, 0, at_ms, &u, p->token, err,
                            sizeof(err)) == 0);
    snprintf(p->id, sizeof(p->id), "%s", u.id);
}

int open_store(char *dir, struct store **st, struct registry **reg)
{
    char err[512];
    *reg = NULL;
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return -1;
    }
    if (!(*st = check_store_open(dir, err, sizeof(err))) ||
        !(*reg = registry_open(*st, err, sizeof(err)))) {
        fprintf(stderr, "store: %s\n", err);
        return -1;
    }
    return 0;
}

void remove_store(const char *dir, struct store *st, struct registry *reg)
{
    char cmd[600];
    registry_close(reg);
    store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}
