/*
 * venue.c - the core's dispatcher: the events the transport brings
 * (connect, message, disconnect, tick), the handlers of the participant
 * messages, and the venue's start, scene reload and shutdown. Sessions,
 * rooms and moderation do the work (session.h, room.h, moderation.h).
 */
#include "venue.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "array.h"
#include "clock.h"
#include "dm.h"
#include "find.h"
#include "moderation.h"
#include "park.h"
#include "peers.h"
#include "react.h"
#include "room.h"
#include "secret.h"
#include "session.h"
#include "twin.h"
#include "venue_int.h"
#include "voice.h"

struct metrics *venue_metrics(struct venue *v)
{
    return &v->m;
}

void venue_set_wall(struct venue *v, long long wall_ms, long long now_ms)
{
    v->wall_offset = wall_ms - now_ms;
    v->prog_next_ms = 0; /* the programme's clock moved: look again */
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
    memcpy(s->id, "s-", 2);
    if (secret_random_hex(s->id + 2, sizeof(s->id) - 2, 8) < 0) {
        s->conn = NULL;
        session_free(v, s);
        return NULL;
    }
    return s;
}

void venue_set_address(struct session *s, const char *addr)
{
    snprintf(s->addr, sizeof(s->addr), "%s", addr ? addr : "");
}

static void encode_welcome(struct venue *v, struct session *s, const char *resume,
                           const struct proto_id *re)
{
    struct proto_room_info *rooms = calloc(v->nrooms ? v->nrooms : 1, sizeof(*rooms));
    struct proto_user u = session_user_view(s);
    if (!rooms)
        return;
    for (size_t i = 0; i < v->nrooms; i++) {
        rooms[i].id = v->rooms[i]->id;
        rooms[i].name = v->rooms[i]->scene->name;
        rooms[i].count = (int)v->rooms[i]->n;
        rooms[i].capacity = room_capacity(v->rooms[i]);
    }
    proto_buf_reset(&v->enc);
    proto_encode_welcome(&v->enc, s->id, resume, &u, rooms, v->nrooms, v->cfg.tick_hz,
                         s->poses_binary, re);
    free(rooms);
}

/*
 * s (a fresh connection) resumes t: t takes s's connection, hears welcome
 * first, then the events it missed (already in its queue), then a fresh
 * roster. The room sees nothing.
 */
static void resume(struct venue *v, struct session *s, struct session *t, const char *token,
                   const struct proto_id *re)
{
    struct frame *f;
    /* the connection is s's now: so are its address, browser and format */
    memcpy(t->addr, s->addr, sizeof(t->addr));
    t->poses_binary = s->poses_binary;
    if (s->browser[0])
        memcpy(t->browser, s->browser, sizeof(t->browser));
    if (t->node[0])
        session_set_node(v, t, ""); /* another node's until now: this one's from here */
    encode_welcome(v, t, token, re);
    f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len);
    session_take_over(v, s, t, f);
    frame_unref(f);
    t->connected_ms = v->now; /* the newest connection holds a person (mesh.c) */
    mesh_resumed(v, t);
    prog_send_welcome(v, t, false);
    find_send_privacy(v, t, NULL);
    dm_welcome(v, t);
    if (t->room)
        room_send_view(v, t, NULL);
    mod_resumed(v, t);
    session_wake(v, t);
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
        session_refuse(v, s, VENUE_CLOSE_UNAUTHORIZED, "unauthorized",
                       "hello.token: unknown, expired or revoked", &m->id);
        return false;
    }
    if (registry_sanction_check(v->reg, SANCTION_BAN, u->id, NULL, venue_wall(v), &until) == 1) {
        session_refuse(v, s, VENUE_CLOSE_REMOVED, "forbidden",
                       "hello: you are banned from this venue", &m->id);
        return false;
    }
    return true;
}

/* An address over one of its allowances (peers.h): closed, so that a
 * guesser or a churner pays a connection for each try. */
static void refuse_address(struct venue *v, struct session *s, const char *why,
                           const struct proto_id *re)
{
    v->m.closed_address++;
    session_refuse(v, s, VENUE_CLOSE_POLICY, "rate_limited", why, re);
}

/* Whether a guest's name is a registered person's: guests do not take
 * those (chat shows only names and roles). The read failing lets the
 * guest in: a name is not worth locking everyone out. */
static bool name_reserved(struct venue *v, const char *name)
{
    int rc = v->reg ? registry_name_registered(v->reg, name) : 0;
    if (rc < 0)
        fprintf(stderr, "venued: registry: %s\n", registry_error(v->reg));
    return rc == 1;
}

static void on_hello(struct venue *v, struct session *s, const struct proto_msg *m)
{
    char token[REG_TOKEN_LEN + 1];
    struct reg_user u;

    if (s->hello) {
        session_send_error(v, s, "bad_request", "hello: already said", &m->id);
        return;
    }
    snprintf(s->browser, sizeof(s->browser), "%s", m->u.hello.browser);
    s->poses_binary = m->u.hello.poses_binary;
    if (m->u.hello.resume[0]) {
        struct session *t = session_find_resumable(v, m->u.hello.resume);
        if (!t && !peers_take(v, s->addr, PEER_RESUME_FAILED)) {
            refuse_address(v, s,
                           "resume: too many unknown tokens from your address; wait, then send "
                           "hello without resume",
                           &m->id);
            return;
        }
        if (!t) {
            session_send_error(v, s, "not_found",
                               "resume: no such session (it may have expired); "
                               "send hello without resume to start over",
                               &m->id);
            return;
        }
        resume(v, s, t, m->u.hello.resume, &m->id);
        return;
    }
    if (!peers_take(v, s->addr, PEER_HELLO)) {
        refuse_address(v, s, "hello: too many from your address; wait a few seconds", &m->id);
        return;
    }
    if (!m->u.hello.token[0] && strcmp(v->cfg.registration, "required") == 0) {
        session_refuse(v, s, VENUE_CLOSE_UNAUTHORIZED, "unauthorized",
                       "hello.token: this venue is for registered participants; use your join link",
                       &m->id);
        return;
    }
    if (m->u.hello.token[0] && !check_token(v, s, m, &u))
        return;
    if (secret_random_hex(token, sizeof(token), REG_TOKEN_LEN / 2) < 0) {
        session_send_error(v, s, "bad_request", "hello: no randomness available", &m->id);
        return;
    }
    if (m->u.hello.token[0]) {
        /* The same person again (a second tab, a new device) takes over
         * its session rather than appearing twice. */
        struct session *t = session_find_user(v, u.id);
        if (t) {
            if (session_set_resume(v, t, token) < 0) {
                session_send_error(v, s, "bad_request", "hello: could not make a resume token",
                                   &m->id);
                return;
            }
            t->role = u.role;
            load_mute(v, t);
            resume(v, s, t, token, &m->id);
            return;
        }
        if (session_set_user(v, s, u.id) < 0) {
            session_send_error(v, s, "unavailable", "hello: out of memory", &m->id);
            return;
        }
        snprintf(s->name, sizeof(s->name), "%s", u.name);
        s->role = u.role;
        s->registered = true;
        find_load_privacy(v, s);
    } else {
        char id[SESSION_ID_LEN];
        int left = mod_kicked_minutes(v, m->u.hello.name, s->browser, s->addr);
        if (left > 0) {
            char why[160];
            snprintf(why, sizeof(why),
                     "hello: a moderator removed you from the venue; you may come back in %d "
                     "minute%s",
                     left, left == 1 ? "" : "s");
            session_refuse(v, s, VENUE_CLOSE_REMOVED, "forbidden", why, &m->id);
            return;
        }
        if (name_reserved(v, m->u.hello.name)) {
            session_send_error(v, s, "name_taken",
                               "hello.name: a registered participant has this name; choose "
                               "another (registered people use their join link)",
                               &m->id);
            return;
        }
        memcpy(id, "u-", 2);
        if (secret_random_hex(id + 2, sizeof(id) - 2, 8) < 0) {
            session_send_error(v, s, "bad_request", "hello: no randomness available", &m->id);
            return;
        }
        if (session_set_user(v, s, id) < 0) {
            session_send_error(v, s, "unavailable", "hello: out of memory", &m->id);
            return;
        }
        snprintf(s->name, sizeof(s->name), "%s", m->u.hello.name);
        s->role = ROLE_GUEST;
    }
    if (session_set_resume(v, s, token) < 0) {
        session_send_error(v, s, "bad_request", "hello: could not make a resume token", &m->id);
        return;
    }
    s->hello = true;
    load_mute(v, s);
    encode_welcome(v, s, token, &m->id);
    session_send_enc(v, s, MOUT_WELCOME);
    prog_send_welcome(v, s, true);
    find_send_privacy(v, s, NULL);
    dm_welcome(v, s);
}

static void on_join(struct venue *v, struct session *s, const struct proto_msg *m)
{
    double t0 = clock_mono_seconds();
    struct room *r = room_find(v, m->u.join.room);
    char msg[128];
    if (!r) {
        snprintf(msg, sizeof(msg), "join.room: no room \"%s\"", m->u.join.room);
        session_send_error(v, s, "not_found", msg, &m->id);
        return;
    }
    if (m->u.join.near[0])
        find_join_near(v, s, r, m->u.join.near, &m->id);
    else
        room_enter(v, s, r, NULL, ROOM_ENTER_SELF, &m->id);
    histogram_observe(&v->m.join, clock_mono_seconds() - t0);
}

static void on_leave(struct venue *v, struct session *s, const struct proto_msg *m)
{
    char id[SCENE_ID_MAX + 1];
    snprintf(id, sizeof(id), "%s", s->room->id);
    room_exit(v, s);
    proto_buf_reset(&v->enc);
    if (proto_encode_left(&v->enc, id, &m->id) == 0)
        session_send_enc(v, s, MOUT_LEFT);
}

static void send_pose_fix(struct venue *v, struct session *s, const char *reason)
{
    proto_buf_reset(&v->enc);
    if (proto_encode_pose_fix(&v->enc, s->p, s->q, reason) == 0)
        session_send_enc(v, s, MOUT_POSE);
}

/* Stage rights: only speakers and up (a live session's, the floor's) step
 * onto a room's stage; whoever is on it may step off. */
static bool off_limits(const struct venue *v, const struct session *s, const float p[3])
{
    const struct room *r = s->room;
    (void)v;
    return r->stage && !s->on_stage && session_role(s) < ROLE_SPEAKER &&
           scene_place_at(r->scene, SCENE_PLACE_STAGE, p) == r->stage;
}

/*
 * A pose is checked against the room's scene: a jump further than the
 * speed limit allows is refused (the client hears its kept pose), a step
 * off the floor is clamped to the edge (the client hears where it is), and
 * a step into a portal takes the avatar to the portal's room.
 */
static void on_pose(struct venue *v, struct session *s, const float mp[3], const float mq[4])
{
    const struct scene *sc = s->room->scene;
    float p[3];
    double dt = fmin(fmax((double)(v->now - s->pose_ms), 1000.0 / v->cfg.tick_hz), 1000.0);
    double allowed = v->cfg.max_speed * dt / 1000.0 + 0.5;
    double dx = mp[0] - s->p[0], dz = mp[2] - s->p[2];
    const struct scene_portal *portal;
    bool clamped;

    if (sqrt(dx * dx + dz * dz) > allowed) {
        send_pose_fix(v, s, "too_fast");
        return;
    }
    memcpy(p, mp, sizeof(p));
    clamped = scene_clamp(sc, p); /* p[1] is now the floor there: a stage is higher */
    if (!clamped)
        p[1] = fminf(fmaxf(mp[1], sc->floor_y - 1.0f), sc->floor_y + 10.0f);
    if (off_limits(v, s, p)) {
        send_pose_fix(v, s, "stage");
        return;
    }
    memcpy(s->p, p, sizeof(p));
    memcpy(s->q, mq, sizeof(s->q));
    if (clamped)
        send_pose_fix(v, s, "clamped");
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
        session_send_error(v, s, "forbidden", "chat: you are muted", &m->id);
        return;
    }
    if (session_role(s) == ROLE_GUEST && !s->room->scene->guests_chat) {
        session_send_error(v, s, "forbidden", "chat: guests cannot chat in this room", &m->id);
        return;
    }
    chat_say(v, s, m->u.chat.text);
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
    switch (t) {
    case PROTO_POSE:
        return MRATE_POSE;
    case PROTO_CHAT:
    case PROTO_ASK:
    case PROTO_DM:
    case PROTO_FIND: /* a scan of every session: priced like a chat line */
        return MRATE_CHAT;
    case PROTO_REACT:
        return MRATE_REACT;
    case PROTO_CAPTION:
        return MRATE_CAPTION;
    default:
        return MRATE_OTHER;
    }
}

/* One checked message within its rate, to its handler. */
static void dispatch(struct venue *v, struct session *s, const struct proto_msg *m)
{
    if (!s->hello && m->type != PROTO_HELLO) {
        session_send_error(v, s, "unauthorized", "hello: must be the first message", &m->id);
        return;
    }
    if (!s->room && (m->type == PROTO_LEAVE || m->type == PROTO_POSE || m->type == PROTO_CHAT ||
                     m->type == PROTO_REACT)) {
        session_send_error(v, s, "not_in_room", "join a room first", &m->id);
        return;
    }
    switch (m->type) {
    case PROTO_HELLO:
        on_hello(v, s, m);
        break;
    case PROTO_JOIN:
        on_join(v, s, m);
        break;
    case PROTO_LEAVE:
        on_leave(v, s, m);
        break;
    case PROTO_POSE:
        on_pose(v, s, m->u.pose.p, m->u.pose.q);
        break;
    case PROTO_CHAT:
        on_chat(v, s, m);
        break;
    case PROTO_STATUS:
    case PROTO_HAND:
        on_status(v, s, m);
        break;
    case PROTO_MOD:
        mod_handle(v, s, m);
        break;
    case PROTO_STAR:
    case PROTO_SLIDE:
    case PROTO_CAPTION:
    case PROTO_ASK:
    case PROTO_VOTE:
        prog_handle(v, s, m);
        break;
    case PROTO_FIND:
        find_handle(v, s, m);
        break;
    case PROTO_PRIVACY:
        find_privacy(v, s, m);
        break;
    case PROTO_REACT:
        react_add(v, s, m);
        break;
    case PROTO_DM:
        dm_send(v, s, m);
        break;
    case PROTO_BLOCK:
        dm_block(v, s, m);
        break;
    case PROTO_REPORT:
        dm_report(v, s, m);
        break;
    case PROTO_TYPE_COUNT:
        break;
    }
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
        if (session_rate_take(v, s, MRATE_OTHER, &e.re))
            session_send_error(v, s, e.code, e.message, &e.re);
        return;
    }
    v->m.in_by_type[m.type]++;
    if (session_rate_take(v, s, rate_kind(m.type), &m.id)) {
        if (park_needed(v, s, &m))
            park_put(v, s, buf, len, &m.id);
        else
            dispatch(v, s, &m);
    }
    proto_msg_free(&m);
}

/*
 * The messages s keeps for the database, in order, for as long as the
 * write lock is free; one that writes and has waited too long is answered
 * busy. Each was checked and counted when it came: here it is only parsed
 * again and handled.
 */
static void retry_parked(struct venue *v, struct session *s)
{
    const struct parked *p;
    struct proto_msg m;
    struct proto_error e;
    bool held;
    int rc;

    while (s->conn && (p = park_first(s))) {
        rc = proto_parse(p->buf, p->len, &m, &e);
        assert(rc == 0); /* it parsed when it came */
        held = rc == 0 && park_held(v, s, &m);
        if (held && v->now - p->since_ms < PARK_WAIT_MS) {
            proto_msg_free(&m);
            return;
        }
        park_pop(v, s); /* first: handling it may close s, which drops the rest */
        if (rc < 0)
            continue;
        if (held) {
            v->m.park_refused++;
            session_send_error(v, s, "busy",
                               m.type == PROTO_JOIN
                                   ? "join: no seat of the room came free on this node of the "
                                     "venue in time; try again"
                                   : "the database was held by another process for too long: "
                                     "nothing was written; try again",
                               &m.id);
        } else {
            dispatch(v, s, &m);
        }
        proto_msg_free(&m);
    }
}

void venue_binary(struct venue *v, struct session *s, const unsigned char *buf, size_t len,
                  long long now_ms)
{
    static const struct proto_id none = {.kind = PROTO_ID_NONE};
    char err[128];
    float p[3], q[4];

    v->now = now_ms;
    if (!s->conn)
        return;
    if (!s->poses_binary) {
        session_close(v, s, VENUE_CLOSE_UNSUPPORTED,
                      "binary frames only after hello with poses binary", NULL);
        return;
    }
    v->m.in_by_type[PROTO_POSE]++;
    if (!session_rate_take(v, s, MRATE_POSE, &none))
        return;
    if (!s->room) {
        session_send_error(v, s, "not_in_room", "join a room first", &none);
        return;
    }
    if (poses_bin_decode_pose(buf, len, &s->room->bounds, p, q, err, sizeof(err)) < 0) {
        session_send_error(v, s, "bad_request", err, &none);
        return;
    }
    on_pose(v, s, p, q);
}

void venue_too_large(struct venue *v, struct session *s, long long now_ms)
{
    v->now = now_ms;
    v->m.closed_too_large++;
    session_detach(v, s);
}

void venue_disconnect(struct venue *v, struct session *s, long long now_ms)
{
    v->now = now_ms;
    if (s->conn)
        session_detach(v, s);
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
        size_t want = n + s->nexits + (s->store_dirty && s->room);
        if (want == n)
            continue;
        if (array_grow((void **)&v->batch, &v->batch_cap, want, sizeof(*v->batch)) < 0)
            return; /* all stays dirty for the next batch */
        for (size_t k = 0; k < s->nexits; k++, n++) {
            v->batch[n].user_id = s->user_id;
            v->batch[n].room_id = s->exits[k].room_id;
            memcpy(v->batch[n].p, s->exits[k].p, sizeof(s->p));
            memcpy(v->batch[n].q, s->exits[k].q, sizeof(s->q));
        }
        if (s->store_dirty && s->room) {
            v->batch[n].user_id = s->user_id;
            v->batch[n].room_id = s->room->id;
            memcpy(v->batch[n].p, s->p, sizeof(s->p));
            memcpy(v->batch[n].q, s->q, sizeof(s->q));
            n++;
        }
        assert(n == want);
    }
    if (n == 0)
        return;
    t0 = clock_mono_seconds();
    if (store_poses_put(v->store, v->batch, n, venue_wall(v)) < 0) {
        fprintf(stderr, "venued: store: %s\n", store_error(v->store));
        return;
    }
    histogram_observe(&v->m.sqlite_write, clock_mono_seconds() - t0);
    for (size_t i = 0; i < v->nsessions; i++) {
        v->sessions[i]->store_dirty = false;
        v->sessions[i]->nexits = 0;
    }
}

/* Close, expire or free s as its timers say. Returns false if s is gone. */
static bool check_session(struct venue *v, struct session *s)
{
    const struct venue_config *c = &v->cfg;
    if (!s->dead && s->conn && !s->hello && v->now - s->connected_ms > c->hello_timeout_s * 1000LL)
        session_close(v, s, VENUE_CLOSE_POLICY, "no hello in time", NULL);
    if (!s->dead && s->conn && s->out.count && v->now - s->progress_ms > c->stall_s * 1000LL) {
        v->m.dropped[MDROP_CLOSED_SLOW]++;
        session_close(v, s, VENUE_CLOSE_POLICY, "too slow: nothing read", NULL);
    }
    if (!s->dead && !s->conn && s->hello && !s->node[0] &&
        v->now - s->detached_ms > c->resume_grace_s * 1000LL)
        s->dead = true;
    if (s->muted_until && s->muted_until != MUTED_FOREVER && venue_wall(v) >= s->muted_until) {
        s->muted_until = 0;
        if (s->room)
            room_presence_all(v, s, "update");
    }
    if (!s->dead)
        return true;
    room_exit(v, s);
    room_write_exits(v, s, s->nexits);
    voice_forget(v, s);
    session_free(v, s);
    return false;
}

void venue_tick(struct venue *v, long long now_ms)
{
    double t0 = clock_mono_seconds();
    v->now = now_ms;
    v->tick++;
    for (size_t i = 0; i < v->nrooms; i++)
        room_collect(v, v->rooms[i]);
    mesh_movers(v);
    for (size_t i = 0; i < v->nrooms; i++)
        room_send(v, v->rooms[i]);
    for (size_t i = 0; i < v->nrooms; i++)
        v->rooms[i]->stage_changed = false;
    react_tick(v);
    twin_tick(v);
    mod_tick(v);
    prog_tick(v);
    voice_tick(v);
    for (size_t i = 0; v->parked_sessions > 0 && i < v->nsessions; i++)
        retry_parked(v, v->sessions[i]);
    for (size_t i = v->nsessions; i-- > 0;)
        check_session(v, v->sessions[i]);
    assert(session_index_valid(v));
    mesh_flush(v);
    /* Held by another process: the batches are kept for the next tick. */
    if (now_ms - v->flushed_ms >= v->cfg.flush_ms && !(v->store && store_probe(v->store) == 1)) {
        flush_poses(v);
        twin_flush(v);
        prog_flush(v);
        chat_flush(v);
        v->flushed_ms = now_ms;
    }
    histogram_observe(&v->m.tick, clock_mono_seconds() - t0);
}

/* ---- start and stop ---- */

int venue_keep_chat(struct venue *v, struct chatlog *cl, char *err, size_t errlen)
{
    return chat_keep(v, cl, err, errlen);
}

static void restore_session(void *arg, const struct store_session *ss)
{
    struct venue *v = arg;
    struct session *s = session_new(v);
    struct room *r;
    if (!s)
        return;
    snprintf(s->id, sizeof(s->id), "%s", ss->id);
    if (session_set_resume_hash(v, s, ss->resume_hash) < 0 ||
        session_set_user(v, s, ss->user_id) < 0) {
        session_free(v, s);
        return;
    }
    snprintf(s->name, sizeof(s->name), "%s", ss->name);
    s->hello = true;
    if (role_parse(ss->role, &s->role) < 0)
        s->role = ROLE_GUEST;
    s->findable = ss->findable; /* a guest's; a registered user's are the registry's */
    s->dms = ss->dms;
    s->status = ss->away ? PROTO_STATUS_AWAY : PROTO_STATUS_ACTIVE;
    s->hand = ss->hand_at > 0;
    s->hand_at = ss->hand_at;
    if (v->reg) {
        struct reg_privacy pv;
        int rc = registry_privacy_get(v->reg, s->user_id, &pv);
        if (rc == 1) {
            s->registered = true;
            s->findable = pv.findable;
            s->dms = pv.dms;
        } else if (rc < 0) {
            fprintf(stderr, "venued: registry: %s\n", registry_error(v->reg));
        }
    }
    memcpy(s->p, ss->p, sizeof(s->p));
    memcpy(s->q, ss->q, sizeof(s->q));
    r = ss->room_id ? room_find(v, ss->room_id) : NULL;
    if (r && (int)r->n < r->scene->capacity && room_add_member(r, s) == 0) {
        room_stage_update(r, s);
        s->pose_ms = v->now;
        room_pose_changed(s);
        s->user_row = true; /* it was in a room: its row was written then */
    }
    session_detach(v, s); /* resumable for the grace, counted among the detached */
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
    v->wall_offset = clock_wall_ms() - now_ms;
    v->flushed_ms = now_ms;
    v->twins.rate.tokens = cfg->ingest_rate;
    v->twins.rate.last_ms = now_ms;
    if (!(v->peers = peers_new())) {
        snprintf(err, errlen, "out of memory");
        venue_free(v);
        return NULL;
    }
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
                v->rooms[i]->mics_locked = rs.mics_locked;
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
        park_drop(v, v->sessions[i]);
        outq_free(&v->sessions[i]->out);
        free(v->sessions[i]->dm);
        free(v->sessions[i]);
    }
    for (size_t i = 0; i < v->nrooms; i++)
        room_free(v->rooms[i]);
    free(v->sessions);
    free(v->rooms);
    free(v->users);
    free(v->picked);
    free(v->view_people);
    free(v->breakouts);
    free(v->batch);
    free(v->chat_batch);
    free(v->voice.pubs);
    free(v->peers);
    session_index_free(v);
    twin_table_free(&v->twins);
    prog_free(v);
    proto_buf_free(&v->enc);
    mesh_free(v);
    free(v);
}

/*
 * All or nothing: every new room is made and the room array grown before
 * anything changes, so a failure leaves the venue on the old set, which
 * the caller may then keep.
 */
int venue_set_scenes(struct venue *v, const struct scene_set *scenes, char *err, size_t errlen)
{
    struct room **fresh = NULL;
    size_t nfresh = 0, nnew = 0;

    for (size_t i = 0; i < v->nrooms; i++) {
        if (!scene_set_find(scenes, v->rooms[i]->id)) {
            snprintf(err, errlen,
                     "room \"%s\" has no scene any more; removing rooms needs a restart",
                     v->rooms[i]->id);
            return -1;
        }
    }
    for (size_t i = 0; i < scenes->n; i++)
        nnew += room_find(v, scenes->scenes[i]->id) == NULL;
    if (nnew) {
        fresh = calloc(nnew, sizeof(*fresh));
        if (!fresh ||
            array_grow((void **)&v->rooms, &v->nrooms_cap, v->nrooms + nnew, sizeof(*v->rooms)) < 0)
            goto oom;
        for (size_t i = 0; i < scenes->n; i++) {
            if (room_find(v, scenes->scenes[i]->id))
                continue;
            assert(nfresh < nnew);
            if (!(fresh[nfresh++] = room_new(scenes->scenes[i])))
                goto oom;
            if (v->mesh.io.publish)
                fresh[nfresh - 1]->lease = 0; /* no seat until the cluster leases some */
        }
    }

    /* Nothing fails from here on. */
    for (size_t i = 0; i < scenes->n; i++) {
        const struct scene *sc = scenes->scenes[i];
        struct room *r = room_find(v, sc->id);
        if (!r)
            continue;
        if (strcmp(r->scene->etag, sc->etag) != 0) {
            r->scene = sc;
            proto_buf_reset(&v->enc);
            if (proto_encode_scene(&v->enc, r->id, r->scene_url) == 0)
                room_broadcast_enc(v, r, NULL, MOUT_SCENE);
        }
        r->scene = sc;
    }
    for (size_t i = 0; i < nfresh; i++)
        v->rooms[v->nrooms++] = fresh[i];
    assert(nfresh == nnew && v->nrooms == scenes->n);
    free(fresh);
    room_link_stages(v);
    return 0;

oom:
    for (size_t i = 0; i < nfresh; i++)
        room_free(fresh[i]);
    free(fresh);
    snprintf(err, errlen, "out of memory");
    return -1;
}

void venue_shutdown(struct venue *v, long long now_ms)
{
    struct store_session *saved;
    size_t n = 0;

    v->now = now_ms;
    for (size_t i = 0; i < v->nsessions; i++)
        v->sessions[i]->store_dirty = v->sessions[i]->room && !v->sessions[i]->node[0];
    flush_poses(v);
    twin_flush(v);
    prog_flush(v);
    chat_flush(v);
    saved = calloc(v->nsessions ? v->nsessions : 1, sizeof(*saved));
    for (size_t i = 0; saved && i < v->nsessions; i++) {
        const struct session *s = v->sessions[i];
        if (!s->hello || s->dead || s->node[0])
            continue; /* a remote member is its own node's to keep */
        saved[n] = (struct store_session){
            .id = s->id,
            .resume_hash = s->resume_hash,
            .user_id = s->user_id,
            .name = s->name,
            .role = role_name(s->role),
            .room_id = s->room ? s->room->id : NULL,
            .findable = s->findable,
            .dms = s->dms,
            .away = s->status == PROTO_STATUS_AWAY,
            .hand_at = s->hand ? s->hand_at : 0,
        };
        memcpy(saved[n].p, s->p, sizeof(s->p));
        memcpy(saved[n].q, s->q, sizeof(s->q));
        n++;
    }
    if (v->store && saved && store_sessions_save(v->store, saved, n) < 0)
        fprintf(stderr, "venued: store: %s\n", store_error(v->store));
    free(saved);
    for (size_t i = 0; i < v->nsessions; i++)
        session_close(v, v->sessions[i], VENUE_CLOSE_GOING_AWAY, "server shutting down", NULL);
}

void venue_user_revoked(struct venue *v, const char *user_id, long long now_ms)
{
    v->now = now_ms;
    for (size_t i = 0; i < v->nsessions; i++) {
        struct session *s = v->sessions[i];
        if (!s->hello || strcmp(s->user_id, user_id) != 0)
            continue;
        session_close(v, s, VENUE_CLOSE_UNAUTHORIZED, "registration revoked", NULL);
        s->dead = true; /* no resume: the grant is gone */
    }
}

/* Members not yet reaped: a session closed for good leaves its room only
 * at the next tick, but reports forget it at once. */
static int count_live(const struct room *r)
{
    int n = 0;
    for (size_t k = 0; k < r->n; k++)
        n += !r->members[k]->dead;
    return n;
}

static int count_live_here(const struct room *r)
{
    int n = 0;
    for (size_t k = 0; k < r->n; k++)
        n += !r->members[k]->dead && !r->members[k]->node[0];
    return n;
}

size_t venue_room_count(const struct venue *v)
{
    return v->nrooms;
}

void venue_room_get(const struct venue *v, size_t i, struct venue_room_view *out)
{
    const struct room *r;
    assert(i < v->nrooms);
    r = v->rooms[i];
    *out = (struct venue_room_view){
        .id = r->id,
        .name = r->scene->name,
        .description = r->scene->description ? r->scene->description : "",
        .scene_url = r->scene_url,
        .capacity = room_capacity(r),
        .count = count_live(r),
        .here = count_live_here(r),
        .locked = r->locked,
        .fanout_bytes = r->fanout_bytes,
        .presence_waiting = r->npresence,
    };
}

static void person(const struct session *s, void (*fn)(void *, const struct venue_person_view *),
                   void *arg)
{
    struct venue_person_view p = {
        .user = session_user_view(s), .connected = s->conn || s->node[0], .node = s->node};
    fn(arg, &p);
}

void venue_room_people(const struct venue *v, size_t room,
                       void (*fn)(void *arg, const struct venue_person_view *p), void *arg)
{
    if (room != SIZE_MAX) {
        assert(room < v->nrooms);
        for (size_t k = 0; k < v->rooms[room]->n; k++)
            if (!v->rooms[room]->members[k]->dead)
                person(v->rooms[room]->members[k], fn, arg);
        return;
    }
    for (size_t i = 0; i < v->nsessions; i++)
        if (v->sessions[i]->hello && !v->sessions[i]->dead && !v->sessions[i]->room)
            person(v->sessions[i], fn, arg);
}

const struct metrics *venue_metrics_get(const struct venue *v)
{
    return &v->m;
}

int venue_keep_twins(struct venue *v, struct twins *store, char *err, size_t errlen)
{
    v->twin_store = store;
    return twin_load(v, err, errlen);
}

enum venue_twin_result venue_twin_notify(struct venue *v, const struct ngsi_notification *n,
                                         long long now_ms, char *err, size_t errlen)
{
    struct bucket *b = &v->twins.rate;
    double rate = v->cfg.ingest_rate;
    v->now = now_ms;
    b->tokens = fmin(rate, b->tokens + (double)(now_ms - b->last_ms) * rate / 1000.0);
    b->last_ms = now_ms;
    if (b->tokens < 1.0) {
        snprintf(err, errlen, "over %d notifications per second; send it again later",
                 v->cfg.ingest_rate);
        return VENUE_TWIN_BUSY;
    }
    b->tokens -= 1.0;
    return twin_apply(v, n, err, errlen) == 0 ? VENUE_TWIN_OK : VENUE_TWIN_REFUSED;
}

size_t venue_twin_count(const struct venue *v)
{
    return v->twins.n;
}

const struct twin_entity *venue_twin_at(const struct venue *v, size_t i)
{
    assert(i < v->twins.n);
    return v->twins.by_id[i];
}

const struct twin_entity *venue_twin_find(const struct venue *v, const char *id)
{
    return twin_find(&v->twins, id);
}

bool venue_twin_shown_in(const struct venue *v, size_t room, const char *entity)
{
    assert(room < v->nrooms);
    return scene_binds_entity(v->rooms[room]->scene, entity);
}

/* ---- voice ---- */

void venue_voice_attach(struct venue *v, const struct venue_voice_io *io, const char *url)
{
    assert(io && io->room_number && io->token && io->allow && io->kick && io->mute && url);
    v->voice.io = *io;
    snprintf(v->voice.url, sizeof(v->voice.url), "%s", url);
    v->voice.up = false;
    snprintf(v->voice.reason, sizeof(v->voice.reason), "the voice server is starting");
    v->voice.epoch++;
    voice_admit_all(v);
}

void venue_voice_state(struct venue *v, bool up, const char *reason, long long now_ms)
{
    v->now = now_ms;
    reason = up ? "" : reason && reason[0] ? reason : "the voice server is unreachable";
    if (!v->voice.io.allow || (up == v->voice.up && !strcmp(reason, v->voice.reason)))
        return;
    v->voice.up = up;
    snprintf(v->voice.reason, sizeof(v->voice.reason), "%s", reason);
    v->voice.epoch++;
    /* Whatever was published went with the media server; ids start over
     * so that nobody's old one is taken by someone else. */
    for (size_t i = 0; i < v->nsessions; i++) {
        struct session *s = v->sessions[i];
        bool talked = s->talking;
        s->voice_pub = false;
        s->voice_jmuted = false;
        s->talking = false;
        if (talked && s->room)
            room_presence_all(v, s, "update");
    }
    if (up)
        voice_admit_all(v);
    voice_touch(v);
}

void venue_voice_publisher(struct venue *v, const char *room, uint64_t participant, bool on,
                           long long now_ms)
{
    struct room *r = room_find(v, room);
    struct session *s;
    v->now = now_ms;
    if (!r || !v->voice.io.allow)
        return;
    s = voice_find(v, r, participant);
    if (!s) {
        if (on) /* not an id venued gave anyone in this room */
            v->voice.io.kick(v->voice.io.ctx, r->id, participant);
        return;
    }
    s->voice_pub = on;
    s->voice_jmuted = false; /* a new publisher is forwarded until venued says */
    if (!on && s->talking) {
        s->talking = false;
        room_presence_all(v, s, "update");
    }
    voice_touch(v);
}

void venue_voice_talking(struct venue *v, const char *room, uint64_t participant, bool on,
                         long long now_ms)
{
    struct room *r = room_find(v, room);
    struct session *s = r ? voice_find(v, r, participant) : NULL;
    v->now = now_ms;
    if (!s || s->talking == on || (on && !s->voice_pub))
        return;
    bool dirty = v->voice.dirty; /* talking changes no rights: no sweep for it */
    s->talking = on;
    room_presence_all(v, s, "update");
    v->voice.dirty = dirty;
    if (s->on_stage)
        r->stage_changed = true; /* the overflow's `stage` shows who talks too */
}

/* ---- several nodes (mesh.c) ---- */

void venue_mesh_start(struct venue *v, const char *node, const struct venue_mesh_io *io)
{
    v->mesh.io = *io;
    snprintf(v->mesh.node, sizeof(v->mesh.node), "%s", node);
    for (size_t i = 0; i < v->nrooms; i++)
        v->rooms[i]->lease = 0; /* no seat until the cluster leases some */
}

int venue_mesh_lease(struct venue *v, const char *room, int seats)
{
    struct room *r = room_find(v, room);
    if (!r || seats < 0)
        return -1;
    r->lease = seats;
    return 0;
}

int venue_mesh_apply(struct venue *v, const char *data, size_t len, long long now_ms)
{
    v->now = now_ms;
    return mesh_apply(v, data, len);
}

void venue_mesh_node_gone(struct venue *v, const char *node, long long now_ms)
{
    v->now = now_ms;
    mesh_node_gone(v, node);
}

void venue_mesh_resync(struct venue *v)
{
    v->mesh.state_due = true;
    v->mesh.ask_due = true;
}

unsigned long long venue_mesh_dropped(const struct venue *v)
{
    return v->mesh.dropped;
}
