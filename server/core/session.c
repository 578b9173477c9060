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
#include "park.h"
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

static void index_remove(struct venue *v, struct session *s, enum session_key k);
static void unlist_detached(struct venue *v, struct session *s);

void session_free(struct venue *v, struct session *s)
{
    assert(!s->room && !s->conn && !s->park);
    for (int k = 0; k < SESSION_KEY_COUNT; k++)
        index_remove(v, s, (enum session_key)k);
    unlist_detached(v, s);
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

static void unlist_detached(struct venue *v, struct session *s)
{
    if (!s->detached_listed)
        return;
    if (s->detached_older)
        s->detached_older->detached_newer = s->detached_newer;
    else
        v->detached_oldest = s->detached_newer;
    if (s->detached_newer)
        s->detached_newer->detached_older = s->detached_older;
    else
        v->detached_newest = s->detached_older;
    s->detached_older = s->detached_newer = NULL;
    s->detached_listed = false;
    assert(v->ndetached_guests > 0);
    v->ndetached_guests--;
}

/*
 * A churning client leaves a detached guest per hello, each kept for the
 * grace period with its replay queue: past the cap the oldest goes, as
 * its grace would have ended (dead: the next tick frees it and its room
 * hears it leave). Registered people are not counted: they are bounded
 * by the registry, and theirs is the session worth keeping.
 */
static void list_detached(struct venue *v, struct session *s)
{
    assert(!s->detached_listed);
    s->detached_older = v->detached_newest;
    s->detached_newer = NULL;
    if (v->detached_newest)
        v->detached_newest->detached_newer = s;
    else
        v->detached_oldest = s;
    v->detached_newest = s;
    s->detached_listed = true;
    v->ndetached_guests++;
    while (v->ndetached_guests > (size_t)v->cfg.detached_guests) {
        struct session *old = v->detached_oldest;
        assert(old); /* the count is the list's length */
        unlist_detached(v, old);
        if (!old->dead) {
            old->dead = true;
            v->m.detached_dropped++;
        }
    }
}

void session_detach(struct venue *v, struct session *s)
{
    s->conn = NULL;
    s->detached_ms = v->now;
    park_drop(v, s); /* unanswered, like what it sent and was never read */
    outq_drop_poses(&s->out);
    trim_replay(v, s);
    if (!s->hello)
        s->dead = true;
    else if (!s->registered && !s->dead && !s->detached_listed)
        list_detached(v, s);
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

    if (s->node[0])
        return; /* a remote member: its own node sends it what it needs */
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

/* ---- the indexes ---- */

static const char *key_of(const struct session *s, enum session_key k)
{
    return k == SESSION_KEY_USER ? s->user_id : s->resume_hash;
}

size_t session_hash(const char *key)
{
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 32));
}

static struct session **chain_of(const struct session_index *ix, const char *key)
{
    return &ix->heads[session_hash(key) & (ix->nheads - 1)];
}

/* Twice the chains, every session moved to its new one. -1: no memory
 * (the old table stays, with longer chains). */
static int index_grow(struct session_index *ix, enum session_key k)
{
    size_t n = ix->nheads ? ix->nheads * 2 : 64;
    struct session **old = ix->heads, **heads = calloc(n, sizeof(*heads));
    size_t nold = ix->nheads;
    if (!heads)
        return -1;
    ix->heads = heads;
    ix->nheads = n;
    for (size_t i = 0; i < nold; i++) {
        for (struct session *s = old[i], *next; s; s = next) {
            struct session **at = chain_of(ix, key_of(s, k));
            next = s->index_next[k];
            s->index_next[k] = *at;
            *at = s;
        }
    }
    free(old);
    return 0;
}

/* Put s in index k under its key (not empty, not indexed yet). */
static int index_add(struct venue *v, struct session *s, enum session_key k)
{
    struct session_index *ix = &v->index[k];
    struct session **at;
    if (ix->n >= ix->nheads && index_grow(ix, k) < 0 && !ix->nheads)
        return -1;
    at = chain_of(ix, key_of(s, k));
    s->index_next[k] = *at;
    *at = s;
    ix->n++;
    return 0;
}

static void index_remove(struct venue *v, struct session *s, enum session_key k)
{
    struct session_index *ix = &v->index[k];
    struct session **at;
    if (!key_of(s, k)[0])
        return;
    for (at = chain_of(ix, key_of(s, k)); *at != s; at = &(*at)->index_next[k])
        assert(*at); /* a session with a key is in its chain */
    *at = s->index_next[k];
    s->index_next[k] = NULL;
    ix->n--;
}

/* The live or detached session under key, if any: a dead one waiting for
 * the next tick may share its key (a kicked user back at once). */
static struct session *index_find(const struct venue *v, enum session_key k, const char *key)
{
    const struct session_index *ix = &v->index[k];
    if (!key[0] || !ix->nheads)
        return NULL;
    for (struct session *s = *chain_of(ix, key); s; s = s->index_next[k])
        if (s->hello && !s->dead && strcmp(key_of(s, k), key) == 0)
            return s;
    return NULL;
}

/* s's key k becomes value (size bytes at most, NUL included). */
static int set_key(struct venue *v, struct session *s, enum session_key k, const char *value)
{
    char *key = k == SESSION_KEY_USER ? s->user_id : s->resume_hash;
    size_t size = k == SESSION_KEY_USER ? sizeof(s->user_id) : sizeof(s->resume_hash);
    char was[RESUME_HASH_LEN + 1];

    assert(size <= sizeof(was));
    memcpy(was, key, size);
    index_remove(v, s, k);
    snprintf(key, size, "%s", value);
    if (key[0] && index_add(v, s, k) < 0) {
        memcpy(key, was, size);
        if (key[0])
            index_add(v, s, k); /* cannot fail: the table has chains */
        return -1;
    }
    return 0;
}

int session_set_user(struct venue *v, struct session *s, const char *user_id)
{
    return set_key(v, s, SESSION_KEY_USER, user_id);
}

int session_set_resume_hash(struct venue *v, struct session *s, const char *hash)
{
    return set_key(v, s, SESSION_KEY_RESUME, hash);
}

int session_set_resume(struct venue *v, struct session *s, const char *token)
{
    char hash[RESUME_HASH_LEN + 1];
    if (secret_sha256_hex(token, hash) < 0)
        return -1;
    return session_set_resume_hash(v, s, hash);
}

struct session *session_find_user(const struct venue *v, const char *user_id)
{
    return index_find(v, SESSION_KEY_USER, user_id);
}

struct session *session_find_resumable(const struct venue *v, const char *token)
{
    char hash[RESUME_HASH_LEN + 1];
    if (secret_sha256_hex(token, hash) < 0)
        return NULL;
    return index_find(v, SESSION_KEY_RESUME, hash);
}

void session_index_free(struct venue *v)
{
    for (int k = 0; k < SESSION_KEY_COUNT; k++) {
        free(v->index[k].heads);
        v->index[k] = (struct session_index){0};
    }
}

bool session_index_valid(const struct venue *v)
{
    for (int k = 0; k < SESSION_KEY_COUNT; k++) {
        const struct session_index *ix = &v->index[k];
        size_t keyed = 0, chained = 0;
        for (size_t i = 0; i < v->nsessions; i++) {
            const struct session *s = v->sessions[i];
            const struct session *c;
            if (!key_of(s, (enum session_key)k)[0])
                continue;
            keyed++;
            for (c = *chain_of(ix, key_of(s, (enum session_key)k)); c && c != s;
                 c = c->index_next[k])
                ;
            if (!c)
                return false;
        }
        for (size_t i = 0; i < ix->nheads; i++)
            for (const struct session *c = ix->heads[i]; c; c = c->index_next[k])
                chained++;
        if (keyed != ix->n || chained != ix->n)
            return false;
    }
    return true;
}

void session_keep_user(struct venue *v, struct session *s)
{
    if (s->registered || s->user_row || !v->store)
        return;
    if (store_user_put(v->store, s->user_id, s->name, role_name(s->role), venue_wall(v)) < 0)
        fprintf(stderr, "venued: store: %s\n", store_error(v->store));
    else
        s->user_row = true;
}

void session_set_node(struct venue *v, struct session *s, const char *node)
{
    if (s->room) /* the room counts its mirrors */
        s->room->nremote += (size_t)(node[0] != '\0') - (size_t)(s->node[0] != '\0');
    if (!node[0]) {
        s->node[0] = '\0';
        session_detach(v, s);
        return;
    }
    if (s->conn) {
        void *old = s->conn;
        s->conn = NULL;
        v->io.close(v->io.ctx, old, VENUE_CLOSE_RESUMED, "session resumed on another node", NULL);
    }
    unlist_detached(v, s);
    park_drop(v, s);
    while (outq_drop_oldest(&s->out))
        ;
    snprintf(s->node, sizeof(s->node), "%s", node);
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
    unlist_detached(v, t);
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
