/*
 * session.c - sessions, their queues, rate limits and take-over.
 */
#include "session.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "room.h"
#include "venue_int.h"

struct session *session_new(struct venue *v)
{
    struct session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (outq_init(&s->out, (size_t)v->cfg.queue_frames, (size_t)v->cfg.queue_max) < 0 ||
        array_grow((void **)&v->sessions, &v->cap, v->nsessions + 1, sizeof(*v->sessions)) < 0) {
        outq_free(&s->out);
        free(s);
        return NULL;
    }
    s->role = ROLE_GUEST;
    s->findable = true;
    s->dms = true;
    s->q[3] = 1.0f;
    s->index = v->nsessions;
    v->sessions[v->nsessions++] = s;
    for (int i = 0; i < MRATE_COUNT; i++)
        s->rate[i].last_ms = v->now;
    s->rate[MRATE_POSE].tokens = v->cfg.pose_rate;
    s->rate[MRATE_CHAT].tokens = v->cfg.chat_rate;
    s->rate[MRATE_CAPTION].tokens = v->cfg.caption_rate;
    s->rate[MRATE_REACT].tokens = v->cfg.react_rate;
    s->rate[MRATE_OTHER].tokens = v->cfg.other_rate;
    return s;
}

void session_free(struct venue *v, struct session *s)
{
    assert(!s->room && !s->conn);
    v->sessions[s->index] = v->sessions[--v->nsessions];
    v->sessions[s->index]->index = s->index;
    outq_free(&s->out);
    free(s->dm);
    free(s);
}

void session_wake(struct venue *v, struct session *s)
{
    if (s->conn)
        v->io.wake(v->io.ctx, s->conn);
}

/* A detached session keeps the newest events to replay in half its queue:
 * the other half is for what a resume sends first (welcome, joined with
 * the roster, the room's view), which must not find the queue full. */
static void trim_replay(struct venue *v, struct session *s)
{
    while (s->out.count > s->out.max_frames / 2 || s->out.bytes > s->out.max_bytes / 2) {
        outq_drop_oldest(&s->out);
        v->m.dropped[MDROP_REPLAY_FULL]++;
    }
}

void session_detach(struct venue *v, struct session *s)
{
    s->conn = NULL;
    s->detached_ms = v->now;
    outq_drop_poses(&s->out);
    trim_replay(v, s);
    if (!s->hello)
        s->dead = true;
}

void session_close(struct venue *v, struct session *s, int code, const char *reason,
                   struct frame *last)
{
    void *conn = s->conn;
    if (!conn)
        return;
    session_detach(v, s);
    v->io.close(v->io.ctx, conn, code, reason, last);
}

void session_refuse(struct venue *v, struct session *s, int code, const char *ecode,
                    const char *message, const struct proto_id *re)
{
    struct frame *f = NULL;
    proto_buf_reset(&v->enc);
    if (proto_encode_error(&v->enc, ecode, message, re) == 0)
        f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len);
    v->m.out_by_type[MOUT_ERROR] += f != NULL;
    session_close(v, s, code, message, f);
    frame_unref(f);
}

void session_enqueue(struct venue *v, struct session *s, struct frame *f, enum metric_out type)
{
    size_t dropped = 0;
    enum outq_push_result r;

    if (!s->conn) {
        /* Detached: keep events to replay on resume, the newest. */
        if (f->kind == FRAME_POSES || !s->hello)
            return;
        while (outq_push(&s->out, f, &dropped) == OUTQ_FULL) {
            if (!outq_drop_oldest(&s->out))
                return;
            v->m.dropped[MDROP_REPLAY_FULL]++;
        }
        trim_replay(v, s);
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
        session_close(v, s, VENUE_CLOSE_POLICY, "too slow: outgoing queue full", NULL);
        return;
    }
    v->m.out_by_type[type]++;
    if (s->room)
        s->room->fanout_bytes += f->len;
    session_wake(v, s);
}

void session_send_enc(struct venue *v, struct session *s, enum metric_out type)
{
    struct frame *f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len);
    if (!f)
        return;
    session_enqueue(v, s, f, type);
    frame_unref(f);
}

void session_send_error(struct venue *v, struct session *s, const char *code, const char *message,
                        const struct proto_id *re)
{
    proto_buf_reset(&v->enc);
    if (proto_encode_error(&v->enc, code, message, re) == 0)
        session_send_enc(v, s, MOUT_ERROR);
}

/*
 * A flood is excess that goes on: a client over its rate with no pause of
 * a second or more, for three seconds running (the excess in each of three
 * consecutive seconds counted from its first), is closed.
 */
bool session_rate_take(struct venue *v, struct session *s, enum metric_rate kind,
                       const struct proto_id *re)
{
    static const char *const what[MRATE_COUNT] = {"pose", "chat", "caption", "react", "message"};
    const int rates[MRATE_COUNT] = {v->cfg.pose_rate, v->cfg.chat_rate, v->cfg.caption_rate,
                                    v->cfg.react_rate, v->cfg.other_rate};
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
        session_close(v, s, VENUE_CLOSE_POLICY, "flooding", NULL);
        return false;
    }
    if (s->limited_ms && v->now - s->limited_ms < 1000)
        return false;
    s->limited_ms = v->now;
    snprintf(msg, sizeof(msg), "%s: over %d per second; the excess is dropped", what[kind],
             rates[kind]);
    session_send_error(v, s, "rate_limited", msg, re);
    return false;
}

struct session *session_find_user(const struct venue *v, const char *user_id)
{
    for (size_t i = 0; i < v->nsessions; i++) {
        struct session *s = v->sessions[i];
        if (s->hello && !s->dead && strcmp(s->user_id, user_id) == 0)
            return s;
    }
    return NULL;
}

struct session *session_find_resumable(const struct venue *v, const char *token)
{
    char hash[RESUME_HASH_LEN + 1];
    if (secret_sha256_hex(token, hash) < 0)
        return NULL;
    for (size_t i = 0; i < v->nsessions; i++) {
        struct session *t = v->sessions[i];
        if (t->hello && !t->dead && strcmp(t->resume_hash, hash) == 0)
            return t;
    }
    return NULL;
}

int session_set_resume(struct session *s, const char *token)
{
    return secret_sha256_hex(token, s->resume_hash);
}

void session_take_over(struct venue *v, struct session *s, struct session *t, struct frame *welcome)
{
    void *conn = s->conn;
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
    if (welcome) {
        if (outq_push_front(&t->out, welcome, &dropped) == OUTQ_FULL) {
            outq_drop_oldest(&t->out);
            outq_push_front(&t->out, welcome, &dropped);
        }
        v->m.out_by_type[MOUT_WELCOME]++;
    }
}

enum role session_role(const struct session *s)
{
    return s->granted > s->role ? s->granted : s->role;
}

bool session_findable(const struct session *s)
{
    return s->findable;
}

bool session_accepts_dms(const struct session *s)
{
    return s->dms;
}

struct proto_user session_user_view(const struct session *s)
{
    struct proto_user u = {
        .id = s->user_id,
        .name = s->name,
        .role = role_name(session_role(s)),
        .status = s->status == PROTO_STATUS_AWAY ? "away" : "active",
        .hand = s->hand,
        .hand_at = s->hand ? s->hand_at : 0,
        .muted = s->muted_until != 0,
        .talking = s->talking,
        .p = s->p,
        .q = s->q,
        .has_ix = s->room != NULL,
        .ix = s->ix,
    };
    return u;
}
