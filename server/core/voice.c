/*
 * voice.c - who may speak and who hears whom (voice.h).
 *
 * What a client was last told is kept as a signature on its session, so a
 * sweep sends `voice` and `voice_peers` only to those whose view changed.
 * A sweep is one pass over each room's members to collect its publishers
 * and one per listener over them: O(members x publishers) once a second in
 * a spatial room, and the stage's list is encoded once for a whole hall and
 * its overflow.
 */
#include "voice.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "secret.h"
#include "session.h"
#include "venue_int.h"

_Static_assert(sizeof(((struct session *)0)->voice_token) == 2 * VOICE_TOKEN_BYTES + 1,
               "voice_token holds the hex of VOICE_TOKEN_BYTES");

static bool stage_mode(const struct room *r)
{
    return r->stage || r->stage_of;
}

/* The room whose publishers r's members hear. */
static struct room *listen_room(struct room *r)
{
    return r->stage_of ? r->stage_of : r;
}

static bool voice_on(const struct venue *v)
{
    return v->voice.io.allow != NULL;
}

static bool voice_up(const struct venue *v)
{
    return voice_on(v) && v->voice.up;
}

void voice_touch(struct venue *v)
{
    v->voice.dirty = true;
}

bool voice_may_publish(const struct venue *v, const struct session *s)
{
    const struct room *r = s->room;
    if (!r || r->stage_of || s->muted_until)
        return false;
    if (session_role(s) >= ROLE_SPEAKER)
        return true;
    (void)v;
    return !r->stage && !r->mics_locked;
}

/* A fresh participant id: random, 52 bits (a JavaScript number), never 0
 * or 1 (the media server's client watches each room as 1). */
static uint64_t new_participant(void)
{
    char hex[15];
    uint64_t id = 0;
    if (secret_random_hex(hex, sizeof(hex), 7) == 0)
        id = strtoull(hex, NULL, 16) & ((1ULL << 52) - 1);
    return id > 1 ? id : 2 + (uint64_t)rand();
}

/* The token and id of s, made the first time s needs them. */
static bool ensure_token(struct venue *v, struct session *s)
{
    if (s->voice_token[0])
        return true;
    if (secret_random_hex(s->voice_token, sizeof(s->voice_token), VOICE_TOKEN_BYTES) < 0) {
        s->voice_token[0] = '\0';
        return false;
    }
    s->voice_id = new_participant();
    v->voice.io.token(v->voice.io.ctx, s->voice_token, true);
    return true;
}

static void allow(struct venue *v, struct session *s, struct room *r, bool on)
{
    v->voice.io.allow(v->voice.io.ctx, r->id, s->voice_token, on);
    if (r->stage_of)
        v->voice.io.allow(v->voice.io.ctx, r->stage_of->id, s->voice_token, on);
}

void voice_joined(struct venue *v, struct session *s)
{
    if (!voice_on(v) || !s->room || s->node[0] || !ensure_token(v, s))
        return;
    allow(v, s, s->room, true);
    voice_touch(v);
}

void voice_left(struct venue *v, struct session *s, struct room *r)
{
    if (!voice_on(v) || !s->voice_token[0])
        return;
    allow(v, s, r, false);
    /* Kicked whether or not it published: the media server ends whatever
     * this id holds there, and the id is not used again. */
    v->voice.io.kick(v->voice.io.ctx, r->id, s->voice_id);
    s->voice_id = new_participant();
    s->voice_pub = false;
    s->voice_jmuted = false;
    s->talking = false;
    s->voice_peers_sig = 0;
    voice_touch(v);
}

void voice_forget(struct venue *v, struct session *s)
{
    if (voice_on(v) && s->voice_token[0])
        v->voice.io.token(v->voice.io.ctx, s->voice_token, false);
    s->voice_token[0] = '\0';
}

void voice_admit_all(struct venue *v)
{
    for (size_t i = 0; i < v->nsessions; i++) {
        struct session *s = v->sessions[i];
        if (!s->dead && s->room)
            voice_joined(v, s);
    }
}

struct session *voice_find(const struct venue *v, const struct room *r, uint64_t participant)
{
    (void)v;
    for (size_t i = 0; participant && i < r->n; i++)
        if (r->members[i]->voice_id == participant)
            return r->members[i];
    return NULL;
}

/* What s would be told now, and its signature. */
static uint64_t describe(const struct venue *v, const struct session *s, struct proto_voice *out)
{
    const struct room *r = s->room;
    uint64_t sig = 1469598103934665603ULL;

    *out = (struct proto_voice){
        .state = !voice_on(v)  ? PROTO_VOICE_OFF
                 : v->voice.up ? PROTO_VOICE_UP
                               : PROTO_VOICE_DOWN,
        .reason = v->voice.reason,
        .muted = s->muted_until != 0,
        .locked = r && r->mics_locked,
    };
    if (out->state == PROTO_VOICE_UP && r && s->voice_token[0]) {
        void *ctx = v->voice.io.ctx;
        out->url = v->voice.url;
        out->token = s->voice_token;
        out->room = r->stage_of ? 0 : v->voice.io.room_number(ctx, r->id);
        out->listen = v->voice.io.room_number(ctx, listen_room((struct room *)r)->id);
        out->id = s->voice_id;
        out->stage = stage_mode(r);
        out->range = VOICE_RANGE_M;
        out->publish = voice_may_publish(v, s);
    } else if (out->state == PROTO_VOICE_UP) {
        out->state = PROTO_VOICE_DOWN; /* no room, or no token could be made */
        out->reason = r ? "no voice token could be made" : "not in a room";
    }
    const uint64_t parts[] = {out->state,   out->room,  out->listen, out->id,       out->stage,
                              out->publish, out->muted, out->locked, v->voice.epoch};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        sig = (sig ^ parts[i]) * 1099511628211ULL;
    return sig ? sig : 1;
}

static void send_described(struct venue *v, struct session *s, const struct proto_voice *pv,
                           uint64_t sig)
{
    struct proto_voice out = *pv;
    /* Fresh credentials with each message (not part of the signature). */
    if (out.state == PROTO_VOICE_UP && v->voice.io.ice)
        out.ice = v->voice.io.ice(v->voice.io.ctx, s->user_id);
    proto_buf_reset(&v->enc);
    if (proto_encode_voice(&v->enc, &out) == 0) {
        session_send_enc(v, s, MOUT_VOICE);
        s->voice_sig = sig;
    }
}

void voice_send(struct venue *v, struct session *s)
{
    struct proto_voice pv;
    uint64_t sig = describe(v, s, &pv);
    send_described(v, s, &pv, sig);
    s->voice_peers_sig = 0; /* the peers follow, afresh */
}

/* ---- the sweep ---- */

/* r's publishers that may speak, into v->voice.pubs; their mutes in the
 * media server brought in line with their rights on the way. */
static size_t collect_publishers(struct venue *v, struct room *r)
{
    size_t n = 0;
    if (array_grow((void **)&v->voice.pubs, &v->voice.pubs_cap, r->n ? r->n : 1,
                   sizeof(*v->voice.pubs)) < 0)
        return 0;
    for (size_t i = 0; i < r->n; i++) {
        struct session *s = r->members[i];
        bool may;
        if (!s->voice_pub)
            continue;
        may = voice_may_publish(v, s);
        if (s->voice_jmuted == may) {
            v->voice.io.mute(v->voice.io.ctx, r->id, s->voice_id, !may);
            s->voice_jmuted = !may;
        }
        if (may)
            v->voice.pubs[n++] = s;
    }
    assert(n <= v->voice.pubs_cap);
    return n;
}

static uint64_t peers_sig(const struct proto_voice_peer *p, size_t n)
{
    uint64_t sig = 1469598103934665603ULL ^ n;
    for (size_t i = 0; i < n; i++)
        sig = (sig ^ p[i].id) * 1099511628211ULL;
    return sig ? sig : 1;
}

static float dist2(const struct session *a, const struct session *b)
{
    float dx = a->p[0] - b->p[0], dy = a->p[1] - b->p[1], dz = a->p[2] - b->p[2];
    return dx * dx + dy * dy + dz * dz;
}

/* The publishers within range of s, nearest first, at most
 * VOICE_PEERS_MAX, into v->voice.peers: an insertion into a short sorted
 * list, so a crowd of publishers costs one comparison each. */
static size_t near_peers(struct venue *v, const struct session *s, size_t npubs)
{
    float d[VOICE_PEERS_MAX];
    const float range2 = VOICE_RANGE_M * VOICE_RANGE_M;
    size_t n = 0;
    for (size_t i = 0; i < npubs; i++) {
        const struct session *p = v->voice.pubs[i];
        float di;
        size_t k;
        if (p == s || (di = dist2(p, s)) > range2)
            continue;
        if (n == VOICE_PEERS_MAX && di >= d[n - 1])
            continue;
        k = n < VOICE_PEERS_MAX ? n++ : n - 1;
        for (; k > 0 && d[k - 1] > di; k--) {
            d[k] = d[k - 1];
            v->voice.peers[k] = v->voice.peers[k - 1];
        }
        d[k] = di;
        v->voice.peers[k] = (struct proto_voice_peer){.id = p->voice_id, .user = p->user_id};
    }
    return n;
}

/* peers[0..n) to s, but its own voice (a listener never hears itself). */
static void send_peers(struct venue *v, struct session *s, uint64_t listen,
                       const struct proto_voice_peer *peers, size_t n)
{
    struct proto_voice_peer others[VOICE_PEERS_MAX];
    uint64_t sig;
    assert(n <= VOICE_PEERS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (peers[i].id != s->voice_id)
            continue;
        memcpy(others, peers, i * sizeof(*peers));
        memcpy(others + i, peers + i + 1, (n - i - 1) * sizeof(*peers));
        peers = others;
        n--;
        break;
    }
    sig = peers_sig(peers, n);
    if (sig == s->voice_peers_sig)
        return;
    proto_buf_reset(&v->enc);
    if (proto_encode_voice_peers(&v->enc, listen, peers, n) == 0) {
        session_send_enc(v, s, MOUT_VOICE);
        s->voice_peers_sig = sig;
    }
}

/* The stage's publishers (all of them) to the hall and its overflow. */
static void sweep_stage(struct venue *v, struct room *hall, struct room *over, size_t npubs)
{
    uint64_t listen = v->voice.io.room_number(v->voice.io.ctx, hall->id);
    size_t n = npubs < VOICE_PEERS_MAX ? npubs : VOICE_PEERS_MAX;
    for (size_t i = 0; i < n; i++)
        v->voice.peers[i] = (struct proto_voice_peer){.id = v->voice.pubs[i]->voice_id,
                                                      .user = v->voice.pubs[i]->user_id};
    for (int pass = 0; pass < 2; pass++) {
        struct room *r = pass ? over : hall;
        for (size_t i = 0; r && i < r->n; i++)
            if (r->members[i]->voice_sig && !r->members[i]->dead)
                send_peers(v, r->members[i], listen, v->voice.peers, n);
    }
}

static void sweep_room(struct venue *v, struct room *r)
{
    size_t npubs;
    if (r->stage_of)
        return; /* an overflow room is swept with its hall */
    npubs = collect_publishers(v, r);
    if (r->stage) {
        struct room *over = NULL;
        for (size_t i = 0; i < v->nrooms; i++)
            if (v->rooms[i]->stage_of == r)
                over = v->rooms[i];
        sweep_stage(v, r, over, npubs);
        return;
    }
    uint64_t listen = v->voice.io.room_number(v->voice.io.ctx, r->id);
    for (size_t i = 0; i < r->n; i++) {
        struct session *s = r->members[i];
        if (s->voice_sig && !s->dead)
            send_peers(v, s, listen, v->voice.peers, near_peers(v, s, npubs));
    }
}

void voice_tick(struct venue *v)
{
    if (!voice_on(v) || (!v->voice.dirty && v->now - v->voice.swept_ms < VOICE_SWEEP_MS))
        return;
    v->voice.dirty = false;
    v->voice.swept_ms = v->now;
    /* Views first: a client told of a new room or id drops its peers. */
    for (size_t i = 0; i < v->nrooms; i++) {
        struct room *r = v->rooms[i];
        for (size_t k = 0; k < r->n; k++) {
            struct session *s = r->members[k];
            struct proto_voice pv;
            uint64_t sig;
            if (s->dead || !s->hello)
                continue;
            sig = describe(v, s, &pv);
            if (sig != s->voice_sig) {
                send_described(v, s, &pv, sig);
                s->voice_peers_sig = 0;
            }
        }
    }
    if (voice_up(v))
        for (size_t i = 0; i < v->nrooms; i++)
            sweep_room(v, v->rooms[i]);
}
