/*
 * venue.c - the core's events: connect, message, disconnect, tick,
 * shutdown; sessions, their queues, rate limits and resume.
 */
#include "venue_int.h"

#include <assert.h>
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

int venue_grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    size_t ncap;
    void *p;
    if (n <= *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 16;
    while (ncap < n)
        ncap *= 2;
    p = realloc(*arr, ncap * sz);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n bytes as 2n lowercase hex digits and a NUL into out. */
static void hex_encode(char *out, const unsigned char *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

/* n random bytes as 2n hex digits into out (2n + 1 bytes). */
static int random_hex(char *out, size_t n)
{
    unsigned char raw[32];
    if (n > sizeof(raw) || getrandom(raw, n, 0) != (ssize_t)n)
        return -1;
    hex_encode(out, raw, n);
    return 0;
}

static void sha256_hex(const char *text, char out[RESUME_HASH_LEN + 1])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
    hex_encode(out, md, sizeof(md));
}

struct proto_user venue_user_view(const struct session *s)
{
    struct proto_user u = {
        .id = s->user_id,
        .name = s->name,
        .role = role_name(s->role),
        .status = s->status == PROTO_STATUS_AWAY ? "away" : "active",
        .hand = s->hand,
        .hand_at = s->hand ? s->hand_at : 0,
        .muted = s->muted_until != 0,
        .p = s->p,
        .q = s->q,
    };
    return u;
}

struct metrics *venue_metrics(struct venue *v)
{
    return &v->m;
}

/* ---- sessions ---- */

static struct session *session_new(struct venue *v)
{
    struct session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (outq_init(&s->out, (size_t)v->cfg.queue_frames, (size_t)v->cfg.queue_max) < 0 ||
        venue_grow((void **)&v->sessions, &v->cap, v->nsessions + 1, sizeof(*v->sessions)) < 0) {
        outq_free(&s->out);
        free(s);
        return NULL;
    }
    s->role = ROLE_GUEST;
    s->q[3] = 1.0f;
    s->index = v->nsessions;
    v->sessions[v->nsessions++] = s;
    for (int i = 0; i < MRATE_COUNT; i++)
        s->rate[i].last_ms = v->now;
    s->rate[MRATE_POSE].tokens = v->cfg.pose_rate;
    s->rate[MRATE_CHAT].tokens = v->cfg.chat_rate;
    s->rate[MRATE_OTHER].tokens = v->cfg.other_rate;
    return s;
}

/* Remove s from the venue and free it. Its room must be left already. */
static void session_free(struct venue *v, struct session *s)
{
    assert(!s->room && !s->conn);
    v->sessions[s->index] = v->sessions[--v->nsessions];
    v->sessions[s->index]->index = s->index;
    outq_free(&s->out);
    free(s);
}

static void wake(struct venue *v, struct session *s)
{
    if (s->conn)
        v->io.wake(v->io.ctx, s->conn);
}

/* Forget s's connection: it is detached and, if it had said hello,
 * resumable until the grace period ends. */
static void detach(struct venue *v, struct session *s)
{
    s->conn = NULL;
    s->detached_ms = v->now;
    outq_drop_poses(&s->out);
    if (!s->hello)
        s->dead = true;
}

void venue_close_session(struct venue *v, struct session *s, int code, const char *reason,
                         struct frame *last)
{
    void *conn = s->conn;
    if (!conn)
        return;
    detach(v, s);
    v->io.close(v->io.ctx, conn, code, reason, last);
}

void venue_refuse(struct venue *v, struct session *s, int code, const char *ecode,
                  const char *message, const struct proto_id *re)
{
    struct frame *f = NULL;
    proto_buf_reset(&v->enc);
    if (proto_encode_error(&v->enc, ecode, message, re) == 0)
        f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len);
    v->m.out_by_type[MOUT_ERROR] += f != NULL;
    venue_close_session(v, s, code, message, f);
    frame_unref(f);
}

long long venue_wall(const struct venue *v)
{
    return v->now + v->wall_offset;
}

void venue_set_wall(struct venue *v, long long wall_ms, long long now_ms)
{
    v->wall_offset = wall_ms - now_ms;
}

struct session *venue_find_user(const struct venue *v, const char *user_id)
{
    for (size_t i = 0; i < v->nsessions; i++) {
        struct session *s = v->sessions[i];
        if (s->hello && !s->dead && strcmp(s->user_id, user_id) == 0)
            return s;
    }
    return NULL;
}

void venue_enqueue(struct venue *v, struct session *s, struct frame *f, enum metric_out type)
{
    size_t dropped = 0;
    enum outq_push_result r;

    if (!s->conn) {
        /* Detached: keep events to replay on resume, the newest if bounded. */
        if (f->kind == FRAME_POSES || !s->hello)
            return;
        while (outq_push(&s->out, f, &dropped) == OUTQ_FULL) {
            if (!outq_drop_oldest(&s->out))
                return;
            v->m.dropped[MDROP_REPLAY_FULL]++;
        }
        return;
    }
    if (s->out.count == 0)
        s->progress_ms = v->now;
    r = outq_push(&s->out, f, &dropped);
    if (dropped) {
        v->m.dropped[MDROP_QUEUE_FULL] += dropped;
        s->resync = true;
    }
    if (r == OUTQ_FULL) {
        v->m.dropped[MDROP_CLOSED_SLOW]++;
        venue_close_session(v, s, VENUE_CLOSE_POLICY, "too slow: outgoing queue full", NULL);
        return;
    }
    v->m.out_by_type[type]++;
    if (s->room)
        s->room->fanout_bytes += f->len;
    wake(v, s);
}

void venue_send_enc(struct venue *v, struct session *s, enum metric_out type)
{
    struct frame *f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len);
    if (!f)
        return;
    venue_enqueue(v, s, f, type);
    frame_unref(f);
}

void venue_send_error(struct venue *v, struct session *s, const char *code, const char *message,
                      const struct proto_id *re)
{
    proto_buf_reset(&v->enc);
    if (proto_encode_error(&v->enc, code, message, re) == 0)
        venue_send_enc(v, s, MOUT_ERROR);
}

/*
 * Take one token from s's bucket of this kind. Over the rate, the message
 * is dropped and the client hears rate_limited at most once a second. A
 * flood is excess that goes on: a client over its rate with no pause of a
 * second or more, for three seconds running (the excess in each of three
 * consecutive seconds counted from its first), is closed.
 */
static bool rate_take(struct venue *v, struct session *s, enum metric_rate kind,
                      const struct proto_id *re)
{
    static const char *const what[MRATE_COUNT] = {"pose", "chat", "message"};
    const int rates[MRATE_COUNT] = {v->cfg.pose_rate, v->cfg.chat_rate, v->cfg.other_rate};
    struct bucket *b = &s->rate[kind];
    double rate = rates[kind];
    char msg[96];

    b->tokens = fmin(rate, b->tokens + (double)(v->now - b->last_ms) * rate / 1000.0);
    b->last_ms = v->now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return true;
    }
    v->m.rate_limited[kind]++;
    v->m.dropped[MDROP_RATE_LIMITED]++;
    if (!s->flood_since_ms || v->now - s->excess_ms > 1000)
        s->flood_since_ms = v->now; /* a new stretch of excess */
    s->excess_ms = v->now;
    if (v->now - s->flood_since_ms >= 2000) {
        v->m.closed_flood++;
        venue_close_session(v, s, VENUE_CLOSE_POLICY, "flooding", NULL);
        return false;
    }
    if (s->limited_ms && v->now - s->limited_ms < 1000)
        return false;
    s->limited_ms = v->now;
    snprintf(msg, sizeof(msg), "%s: over %d per second; the excess is dropped", what[kind],
             rates[kind]);
    venue_send_error(v, s, "rate_limited", msg, re);
    return false;
}

/* ---- events ---- */

struct session *venue_connect(struct venue *v, void *conn, long long now_ms)
{
    struct session *s;
    v->now = now_ms;
    s = session_new(v);
    if (!s)
        return NULL;
    s->conn = conn;
    s->connected_ms = now_ms;
    s->progress_ms = now_ms;
    if (random_hex(s->id + 2, 8) < 0) {
        s->conn = NULL;
        session_free(v, s);
        return NULL;
    }
    memcpy(s->id, "s-", 2);
    return s;
}

static void encode_welcome(struct venue *v, struct session *s, const char *resume,
                           const struct proto_id *re)
{
    struct proto_room_info *rooms = calloc(v->nrooms ? v->nrooms : 1, sizeof(*rooms));
    struct proto_user u = venue_user_view(s);
    if (!rooms)
        return;
    for (size_t i = 0; i < v->nrooms; i++) {
        rooms[i].id = v->rooms[i]->id;
        rooms[i].name = v->rooms[i]->scene->name;
        rooms[i].count = (int)v->rooms[i]->n;
        rooms[i].capacity = room_capacity(v->rooms[i]);
    }
    proto_buf_reset(&v->enc);
    proto_encode_welcome(&v->enc, s->id, resume, &u, rooms, v->nrooms, v->cfg.tick_hz, re);
    free(rooms);
}

static struct session *find_resumable(struct venue *v, const char *token)
{
    char hash[RESUME_HASH_LEN + 1];
    sha256_hex(token, hash);
    for (size_t i = 0; i < v->nsessions; i++) {
        struct session *t = v->sessions[i];
        if (t->hello && !t->dead && strcmp(t->resume_hash, hash) == 0)
            return t;
    }
    return NULL;
}

/*
 * s (a fresh connection) resumes t: t takes s's connection, hears welcome
 * first, then the events it missed (already in its queue), then a fresh
 * roster. The room sees nothing.
 */
static void resume(struct venue *v, struct session *s, struct session *t, const char *token,
                   const struct proto_id *re)
{
    void *conn = s->conn;
    struct frame *f;
    size_t dropped;

    if (t->conn) {
        void *old = t->conn;
        t->conn = NULL;
        v->io.close(v->io.ctx, old, VENUE_CLOSE_RESUMED, "session resumed elsewhere", NULL);
    }
    s->conn = NULL;
    s->dead = true;
    t->conn = conn;
    t->detached_ms = 0;
    t->progress_ms = v->now;
    t->resync = true;
    v->io.bind(v->io.ctx, conn, t);

    encode_welcome(v, t, token, re);
    f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len);
    if (f) {
        if (outq_push_front(&t->out, f, &dropped) == OUTQ_FULL) {
            outq_drop_oldest(&t->out);
            outq_push_front(&t->out, f, &dropped);
        }
        v->m.out_by_type[MOUT_WELCOME]++;
        frame_unref(f);
    }
    if (t->room)
        room_send_view(v, t, NULL);
    wake(v, t);
}

/* Whether s is muted, from the registry: mutes outlive sessions. */
static void load_mute(struct venue *v, struct session *s)
{
    long long until;
    s->muted_until = 0;
    if (v->reg && registry_sanction_check(v->reg, SANCTION_MUTE, s->user_id, NULL, venue_wall(v),
                                          &until) == 1)
        s->muted_until = until ? until : MUTED_FOREVER;
}

/* A token was given: the registered user it stands for, or a refusal. */
static bool check_token(struct venue *v, struct session *s, const struct proto_msg *m,
                        struct reg_user *u)
{
    long long until;
    if (!v->reg || registry_token_check(v->reg, m->u.hello.token, venue_wall(v), u) != 1) {
        venue_refuse(v, s, VENUE_CLOSE_UNAUTHORIZED, "unauthorized",
                     "hello.token: unknown, expired or revoked", &m->id);
        return false;
    }
    if (registry_sanction_check(v->reg, SANCTION_BAN, u->id, NULL, venue_wall(v), &until) == 1) {
        venue_refuse(v, s, VENUE_CLOSE_REMOVED, "forbidden",
                     "hello: you are banned from this venue", &m->id);
        return false;
    }
    return true;
}

static void on_hello(struct venue *v, struct session *s, const struct proto_msg *m)
{
    char token[REG_TOKEN_LEN + 1];
    struct reg_user u;

    if (s->hello) {
        venue_send_error(v, s, "bad_request", "hello: already said", &m->id);
        return;
    }
    if (m->u.hello.resume[0]) {
        struct session *t = find_resumable(v, m->u.hello.resume);
        if (!t) {
            venue_send_error(v, s, "not_found",
                             "resume: no such session (it may have expired); "
                             "send hello without resume to start over",
                             &m->id);
            return;
        }
        resume(v, s, t, m->u.hello.resume, &m->id);
        return;
    }
    if (!m->u.hello.token[0] && strcmp(v->cfg.registration, "required") == 0) {
        venue_refuse(v, s, VENUE_CLOSE_UNAUTHORIZED, "unauthorized",
                     "hello.token: this venue is for registered participants; use your join link",
                     &m->id);
        return;
    }
    if (m->u.hello.token[0] && !check_token(v, s, m, &u))
        return;
    if (random_hex(token, REG_TOKEN_LEN / 2) < 0) {
        venue_send_error(v, s, "bad_request", "hello: no randomness available", &m->id);
        return;
    }
    if (m->u.hello.token[0]) {
        /* The same person again (a second tab, a new device) takes over
         * its session rather than appearing twice. */
        struct session *t = venue_find_user(v, u.id);
        if (t) {
            sha256_hex(token, t->resume_hash);
            t->role = u.role;
            load_mute(v, t);
            resume(v, s, t, token, &m->id);
            return;
        }
        snprintf(s->user_id, sizeof(s->user_id), "%s", u.id);
        snprintf(s->name, sizeof(s->name), "%s", u.name);
        s->role = u.role;
    } else {
        if (random_hex(s->user_id + 2, 8) < 0) {
            venue_send_error(v, s, "bad_request", "hello: no randomness available", &m->id);
            return;
        }
        memcpy(s->user_id, "u-", 2);
        snprintf(s->name, sizeof(s->name), "%s", m->u.hello.name);
        s->role = ROLE_GUEST;
        if (v->store &&
            store_user_put(v->store, s->user_id, s->name, role_name(s->role), venue_wall(v)) < 0)
            fprintf(stderr, "venued: store: %s\n", store_error(v->store));
    }
    sha256_hex(token, s->resume_hash);
    s->hello = true;
    load_mute(v, s);
    encode_welcome(v, s, token, &m->id);
    venue_send_enc(v, s, MOUT_WELCOME);
}

static void on_join(struct venue *v, struct session *s, const struct proto_msg *m)
{
    double t0 = mono_seconds();
    struct room *r = room_find(v, m->u.join.room);
    char msg[128];
    if (!r) {
        snprintf(msg, sizeof(msg), "join.room: no room \"%s\"", m->u.join.room);
        venue_send_error(v, s, "not_found", msg, &m->id);
        return;
    }
    room_enter(v, s, r, NULL, ROOM_ENTER_SELF, &m->id);
    histogram_observe(&v->m.join, mono_seconds() - t0);
}

static void on_leave(struct venue *v, struct session *s, const struct proto_msg *m)
{
    char id[SCENE_ID_MAX + 1];
    snprintf(id, sizeof(id), "%s", s->room->id);
    room_exit(v, s);
    proto_buf_reset(&v->enc);
    if (proto_encode_left(&v->enc, id, &m->id) == 0)
        venue_send_enc(v, s, MOUT_LEFT);
}

static void send_pose_fix(struct venue *v, struct session *s, const char *reason)
{
    proto_buf_reset(&v->enc);
    if (proto_encode_pose_fix(&v->enc, s->p, s->q, reason) == 0)
        venue_send_enc(v, s, MOUT_POSE);
}

/*
 * A pose is checked against the room's scene: a jump further than the
 * speed limit allows is refused (the client hears its kept pose), a step
 * off the floor is clamped to the edge (the client hears where it is), and
 * a step into a portal takes the avatar to the portal's room.
 */
static void on_pose(struct venue *v, struct session *s, const struct proto_msg *m)
{
    const struct scene *sc = s->room->scene;
    float p[3];
    double dt = fmin(fmax((double)(v->now - s->pose_ms), 1000.0 / v->cfg.tick_hz), 1000.0);
    double allowed = v->cfg.max_speed * dt / 1000.0 + 0.5;
    double dx = m->u.pose.p[0] - s->p[0], dz = m->u.pose.p[2] - s->p[2];
    const struct scene_portal *portal;

    if (sqrt(dx * dx + dz * dz) > allowed) {
        send_pose_fix(v, s, "too_fast");
        return;
    }
    memcpy(p, m->u.pose.p, sizeof(p));
    if (scene_clamp(sc, p)) { /* p[1] is now the floor there: a stage is higher */
        memcpy(s->p, p, sizeof(p));
        memcpy(s->q, m->u.pose.q, sizeof(s->q));
        send_pose_fix(v, s, "clamped");
    } else {
        p[1] = fminf(fmaxf(m->u.pose.p[1], sc->floor_y - 1.0f), sc->floor_y + 10.0f);
        memcpy(s->p, p, sizeof(p));
        memcpy(s->q, m->u.pose.q, sizeof(s->q));
    }
    s->moved = true;
    s->store_dirty = true;
    s->pose_ms = v->now;

    portal = scene_portal_at(sc, s->p);
    if (!portal) {
        s->in_portal = false;
    } else if (!s->in_portal) {
        struct room *to = room_find(v, portal->room);
        const struct scene_spawn *sp = to ? scene_spawn_find(to->scene, portal->spawn) : NULL;
        s->in_portal = true;
        if (sp)
            room_enter(v, s, to, sp, ROOM_ENTER_SELF, NULL);
    }
}

static void on_chat(struct venue *v, struct session *s, const struct proto_msg *m)
{
    if (s->muted_until) {
        venue_send_error(v, s, "forbidden", "chat: you are muted", &m->id);
        return;
    }
    if (s->role == ROLE_GUEST && !s->room->scene->guests_chat) {
        venue_send_error(v, s, "forbidden", "chat: guests cannot chat in this room", &m->id);
        return;
    }
    proto_buf_reset(&v->enc);
    if (proto_encode_chat(&v->enc, s->room->id, s->user_id, s->name, m->u.chat.text,
                          venue_wall(v)) == 0)
        room_broadcast_enc(v, s->room, NULL, MOUT_CHAT);
}

static void on_status(struct venue *v, struct session *s, const struct proto_msg *m)
{
    if (m->type == PROTO_STATUS) {
        s->status = m->u.status.status;
    } else {
        /* The queue is ordered by when a hand went up: keep the first time. */
        if (m->u.hand.up && !s->hand)
            s->hand_at = venue_wall(v);
        s->hand = m->u.hand.up;
    }
    if (s->room)
        room_presence(v, s, "update");
}

static enum metric_rate rate_kind(enum proto_type t)
{
    return t == PROTO_POSE ? MRATE_POSE : t == PROTO_CHAT ? MRATE_CHAT : MRATE_OTHER;
}

void venue_message(struct venue *v, struct session *s, const char *buf, size_t len,
                   long long now_ms)
{
    struct proto_msg m;
    struct proto_error e;

    v->now = now_ms;
    if (!s->conn)
        return;
    if (proto_parse(buf, len, &m, &e) < 0) {
        v->m.in_by_type[PROTO_TYPE_COUNT]++;
        if (rate_take(v, s, MRATE_OTHER, &e.re))
            venue_send_error(v, s, e.code, e.message, &e.re);
        return;
    }
    v->m.in_by_type[m.type]++;
    if (!rate_take(v, s, rate_kind(m.type), &m.id))
        return;
    if (!s->hello && m.type != PROTO_HELLO) {
        venue_send_error(v, s, "unauthorized", "hello: must be the first message", &m.id);
        return;
    }
    if (!s->room && (m.type == PROTO_LEAVE || m.type == PROTO_POSE || m.type == PROTO_CHAT)) {
        venue_send_error(v, s, "not_in_room", "join a room first", &m.id);
        return;
    }
    switch (m.type) {
    case PROTO_HELLO:
        on_hello(v, s, &m);
        break;
    case PROTO_JOIN:
        on_join(v, s, &m);
        break;
    case PROTO_LEAVE:
        on_leave(v, s, &m);
        break;
    case PROTO_POSE:
        on_pose(v, s, &m);
        break;
    case PROTO_CHAT:
        on_chat(v, s, &m);
        break;
    case PROTO_STATUS:
    case PROTO_HAND:
        on_status(v, s, &m);
        break;
    case PROTO_MOD:
        mod_handle(v, s, &m);
        break;
    case PROTO_TYPE_COUNT:
        break;
    }
}

void venue_too_large(struct venue *v, struct session *s, long long now_ms)
{
    v->now = now_ms;
    v->m.closed_too_large++;
    detach(v, s);
}

void venue_disconnect(struct venue *v, struct session *s, long long now_ms)
{
    v->now = now_ms;
    if (s->conn)
        detach(v, s);
}

struct frame *venue_peek(struct session *s)
{
    return outq_peek(&s->out);
}

void venue_sent(struct venue *v, struct session *s, long long now_ms)
{
    v->now = now_ms;
    outq_pop(&s->out);
    s->progress_ms = now_ms;
}

/* ---- periodic work ---- */

static void flush_poses(struct venue *v)
{
    size_t n = 0;
    double t0;
    if (!v->store)
        return;
    for (size_t i = 0; i < v->nsessions; i++) {
        struct session *s = v->sessions[i];
        if (!s->store_dirty || !s->room)
            continue;
        if (venue_grow((void **)&v->batch, &v->batch_cap, n + 1, sizeof(*v->batch)) < 0)
            break;
        v->batch[n].user_id = s->user_id;
        v->batch[n].room_id = s->room->id;
        memcpy(v->batch[n].p, s->p, sizeof(s->p));
        memcpy(v->batch[n].q, s->q, sizeof(s->q));
        n++;
    }
    if (n == 0)
        return;
    t0 = mono_seconds();
    if (store_poses_put(v->store, v->batch, n, venue_wall(v)) < 0) {
        fprintf(stderr, "venued: store: %s\n", store_error(v->store));
        return;
    }
    histogram_observe(&v->m.sqlite_write, mono_seconds() - t0);
    for (size_t i = 0; i < v->nsessions; i++)
        v->sessions[i]->store_dirty = false;
}

/* Close, expire or free s as its timers say. Returns false if s is gone. */
static bool check_session(struct venue *v, struct session *s)
{
    const struct venue_config *c = &v->cfg;
    if (!s->dead && s->conn && !s->hello && v->now - s->connected_ms > c->hello_timeout_s * 1000LL)
        venue_close_session(v, s, VENUE_CLOSE_POLICY, "no hello in time", NULL);
    if (!s->dead && s->conn && s->out.count && v->now - s->progress_ms > c->stall_s * 1000LL) {
        v->m.dropped[MDROP_CLOSED_SLOW]++;
        venue_close_session(v, s, VENUE_CLOSE_POLICY, "too slow: nothing read", NULL);
    }
    if (!s->dead && !s->conn && s->hello && v->now - s->detached_ms > c->resume_grace_s * 1000LL)
        s->dead = true;
    if (s->muted_until && s->muted_until != MUTED_FOREVER && venue_wall(v) >= s->muted_until) {
        s->muted_until = 0;
        if (s->room)
            room_presence_all(v, s, "update");
    }
    if (!s->dead)
        return true;
    room_exit(v, s);
    session_free(v, s);
    return false;
}

void venue_tick(struct venue *v, long long now_ms)
{
    double t0 = mono_seconds();
    v->now = now_ms;
    v->tick++;
    for (size_t i = 0; i < v->nrooms; i++)
        room_collect(v, v->rooms[i]);
    for (size_t i = 0; i < v->nrooms; i++)
        room_send(v, v->rooms[i]);
    for (size_t i = 0; i < v->nrooms; i++)
        v->rooms[i]->stage_changed = false;
    mod_tick(v);
    for (size_t i = v->nsessions; i-- > 0;)
        check_session(v, v->sessions[i]);
    if (now_ms - v->flushed_ms >= v->cfg.flush_ms) {
        flush_poses(v);
        v->flushed_ms = now_ms;
    }
    histogram_observe(&v->m.tick, mono_seconds() - t0);
}

/* ---- start and stop ---- */

static void restore_session(void *arg, const struct store_session *ss)
{
    struct venue *v = arg;
    struct session *s = session_new(v);
    struct room *r;
    if (!s)
        return;
    snprintf(s->id, sizeof(s->id), "%s", ss->id);
    snprintf(s->resume_hash, sizeof(s->resume_hash), "%s", ss->resume_hash);
    snprintf(s->user_id, sizeof(s->user_id), "%s", ss->user_id);
    snprintf(s->name, sizeof(s->name), "%s", ss->name);
    s->hello = true;
    s->detached_ms = v->now;
    if (role_parse(ss->role, &s->role) < 0)
        s->role = ROLE_GUEST;
    memcpy(s->p, ss->p, sizeof(s->p));
    memcpy(s->q, ss->q, sizeof(s->q));
    r = ss->room_id ? room_find(v, ss->room_id) : NULL;
    if (r && (int)r->n < r->scene->capacity && room_add_member(r, s) == 0) {
        s->pose_ms = v->now;
        room_encode_entry(v, s);
    }
}

static void report_orphan_room(void *arg, const char *id)
{
    const struct venue *v = arg;
    if (!room_find(v, id))
        fprintf(stderr,
                "venued: room \"%s\" is in the database but has no scene; it is not served\n", id);
}

struct venue *venue_new(const struct venue_config *cfg, const struct venue_io *io,
                        const struct scene_set *scenes, struct store *store, struct registry *reg,
                        long long now_ms, char *err, size_t errlen)
{
    struct venue *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->cfg = *cfg;
    v->io = *io;
    v->store = store;
    v->reg = reg;
    v->now = now_ms;
    v->wall_offset = (long long)time(NULL) * 1000 - now_ms;
    v->flushed_ms = now_ms;
    if (venue_set_scenes(v, scenes, err, errlen) < 0) {
        venue_free(v);
        return NULL;
    }
    if (store) {
        for (size_t i = 0; i < v->nrooms; i++) {
            const struct scene *sc = v->rooms[i]->scene;
            if (store_room_put(store, sc->id, sc->name, sc->capacity) < 0) {
                snprintf(err, errlen, "store: %s", store_error(store));
                venue_free(v);
                return NULL;
            }
        }
        store_rooms_each(store, report_orphan_room, v);
        for (size_t i = 0; reg && i < v->nrooms; i++) {
            struct reg_room rs;
            if (registry_room_get(reg, v->rooms[i]->id, &rs) == 1) {
                v->rooms[i]->locked = rs.locked;
                v->rooms[i]->capacity = rs.capacity;
            }
        }
        if (store_sessions_take(store, restore_session, v) < 0) {
            snprintf(err, errlen, "store: %s", store_error(store));
            venue_free(v);
            return NULL;
        }
    }
    return v;
}

void venue_free(struct venue *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nsessions; i++) {
        outq_free(&v->sessions[i]->out);
        free(v->sessions[i]);
    }
    for (size_t i = 0; i < v->nrooms; i++)
        room_free(v->rooms[i]);
    free(v->sessions);
    free(v->rooms);
    free(v->users);
    free(v->stage_scratch);
    free(v->breakouts);
    free(v->batch);
    proto_buf_free(&v->enc);
    free(v);
}

int venue_set_scenes(struct venue *v, const struct scene_set *scenes, char *err, size_t errlen)
{
    for (size_t i = 0; i < v->nrooms; i++) {
        if (!scene_set_find(scenes, v->rooms[i]->id)) {
            snprintf(err, errlen,
                     "room \"%s\" has no scene any more; removing rooms needs a restart",
                     v->rooms[i]->id);
            return -1;
        }
    }
    for (size_t i = 0; i < scenes->n; i++) {
        const struct scene *sc = scenes->scenes[i];
        struct room *r = room_find(v, sc->id);
        if (!r) {
            if (venue_grow((void **)&v->rooms, &v->nrooms_cap, v->nrooms + 1, sizeof(*v->rooms)) <
                    0 ||
                !(r = room_new(sc))) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            v->rooms[v->nrooms++] = r;
            continue;
        }
        if (strcmp(r->scene->etag, sc->etag) != 0) {
            r->scene = sc;
            proto_buf_reset(&v->enc);
            if (proto_encode_scene(&v->enc, r->id, r->scene_url) == 0)
                room_broadcast_enc(v, r, NULL, MOUT_SCENE);
        }
        r->scene = sc;
    }
    v->scenes = scenes;
    room_link_stages(v);
    return 0;
}

void venue_shutdown(struct venue *v, long long now_ms)
{
    struct store_session *saved;
    size_t n = 0;

    v->now = now_ms;
    for (size_t i = 0; i < v->nsessions; i++)
        v->sessions[i]->store_dirty = v->sessions[i]->room != NULL;
    flush_poses(v);
    saved = calloc(v->nsessions ? v->nsessions : 1, sizeof(*saved));
    for (size_t i = 0; saved && i < v->nsessions; i++) {
        const struct session *s = v->sessions[i];
        if (!s->hello || s->dead)
            continue;
        saved[n] = (struct store_session){
            .id = s->id,
            .resume_hash = s->resume_hash,
            .user_id = s->user_id,
            .name = s->name,
            .role = role_name(s->role),
            .room_id = s->room ? s->room->id : NULL,
        };
        memcpy(saved[n].p, s->p, sizeof(s->p));
        memcpy(saved[n].q, s->q, sizeof(s->q));
        n++;
    }
    if (v->store && saved && store_sessions_save(v->store, saved, n) < 0)
        fprintf(stderr, "venued: store: %s\n", store_error(v->store));
    free(saved);
    for (size_t i = 0; i < v->nsessions; i++)
        venue_close_session(v, v->sessions[i], VENUE_CLOSE_GOING_AWAY, "server shutting down",
                            NULL);
}

int venue_render_rooms(const struct venue *v, struct proto_buf *b)
{
    json_t *rooms = json_array(), *doc;
    char *text;
    int rc;
    for (size_t i = 0; i < v->nrooms; i++) {
        const struct room *r = v->rooms[i];
        json_array_append_new(rooms, json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:b}", "id", r->id,
                                               "name", r->scene->name, "description",
                                               r->scene->description ? r->scene->description : "",
                                               "capacity", room_capacity(r), "count", (int)r->n,
                                               "scene", r->scene_url, "locked", r->locked));
    }
    doc = json_pack("{s:o}", "rooms", rooms);
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    rc = text ? proto_buf_append(b, text, strlen(text)) : -1;
    free(text);
    json_decref(doc);
    return rc;
}

int venue_render_metrics(const struct venue *v, struct proto_buf *b)
{
    struct metrics_room *rooms = calloc(v->nrooms ? v->nrooms : 1, sizeof(*rooms));
    int rc;
    if (!rooms)
        return -1;
    for (size_t i = 0; i < v->nrooms; i++) {
        rooms[i].id = v->rooms[i]->id;
        rooms[i].sessions = (int)v->rooms[i]->n;
        rooms[i].fanout_bytes = v->rooms[i]->fanout_bytes;
    }
    rc = metrics_render(&v->m, rooms, v->nrooms, b);
    free(rooms);
    return rc;
}

void venue_user_revoked(struct venue *v, const char *user_id, long long now_ms)
{
    v->now = now_ms;
    for (size_t i = 0; i < v->nsessions; i++) {
        struct session *s = v->sessions[i];
        if (!s->hello || strcmp(s->user_id, user_id) != 0)
            continue;
        venue_close_session(v, s, VENUE_CLOSE_UNAUTHORIZED, "registration revoked", NULL);
        s->dead = true; /* no resume: the grant is gone */
    }
}

static json_t *presence_user(const struct session *s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "id", s->user_id, "name", s->name, "role",
                     role_name(s->role), "status",
                     s->status == PROTO_STATUS_AWAY ? "away" : "active", "hand", s->hand,
                     "connected", s->conn != NULL);
}

int venue_render_presence(const struct venue *v, struct proto_buf *b)
{
    json_t *rooms = json_array(), *nowhere = json_array(), *doc;
    char *text;
    int rc;
    for (size_t i = 0; i < v->nrooms; i++) {
        const struct room *r = v->rooms[i];
        json_t *users = json_array();
        for (size_t k = 0; k < r->n; k++)
            json_array_append_new(users, presence_user(r->members[k]));
        json_array_append_new(rooms, json_pack("{s:s, s:s, s:o}", "id", r->id, "name",
                                               r->scene->name, "users", users));
    }
    for (size_t i = 0; i < v->nsessions; i++)
        if (v->sessions[i]->hello && !v->sessions[i]->dead && !v->sessions[i]->room)
            json_array_append_new(nowhere, presence_user(v->sessions[i]));
    doc = json_pack("{s:o, s:o}", "rooms", rooms, "lobbyless", nowhere);
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    rc = text ? proto_buf_append(b, text, strlen(text)) : -1;
    free(text);
    json_decref(doc);
    return rc;
}
