/*
 * room.c - room membership, the rules of entry, presence and the per-tick
 * poses fan-out.
 *
 * Fan-out encodes each avatar that moved at most once per tick and format
 * (its entries are kept on the session, encoded when a frame first needs
 * them) and assembles frames from those entries by copying: the room's
 * members share one frame per format and tick, movers included (they skip
 * their own entry). A receiver whose last frame is still unsent gets
 * no new one until it has read it, then one with everyone who moved in the
 * ticks it skipped: a lagging client gets state as fast as it reads, at
 * one frame per read. One that lost frames or resumed gets a snapshot. An
 * overflow room's frames also carry the avatars on its hall's stage.
 */
#include "room.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "prog.h"
#include "session.h"
#include "twin.h"
#include "venue_int.h"
#include "voice.h"

/*
 * The box binary poses are quantised in: the walkable area's, from a metre
 * under the lowest floor to ten above the highest (the heights a pose may
 * keep, venue.c), widened to whole centimetres so that the bounds joined
 * sends with three decimals are the ones used here. 16 bits over 100 m are
 * 1.5 mm.
 */
static void room_bounds(const struct scene *sc, struct poses_bin_bounds *b)
{
    float lo[3] = {sc->floor_y - 1.0f, sc->floor_y - 1.0f, 0},
          hi[3] = {sc->floor_y + 10.0f, sc->floor_y + 10.0f, 0};
    bool first = true;

    for (size_t i = 0; i < sc->nwalk; i++) {
        const struct scene_poly *pg = &sc->walk[i];
        lo[1] = fminf(lo[1], pg->y - 1.0f);
        hi[1] = fmaxf(hi[1], pg->y + 10.0f);
        for (size_t k = 0; k < pg->n; k++, first = false) {
            lo[0] = first ? pg->v[k][0] : fminf(lo[0], pg->v[k][0]);
            hi[0] = first ? pg->v[k][0] : fmaxf(hi[0], pg->v[k][0]);
            lo[2] = first ? pg->v[k][1] : fminf(lo[2], pg->v[k][1]);
            hi[2] = first ? pg->v[k][1] : fmaxf(hi[2], pg->v[k][1]);
        }
    }
    for (int i = 0; i < 3; i++) {
        b->min[i] = floorf(lo[i] * 100.0f) / 100.0f;
        b->max[i] = ceilf(hi[i] * 100.0f) / 100.0f;
        if (b->max[i] < b->min[i] + 0.01f)
            b->max[i] = b->min[i] + 0.01f;
    }
}

struct room *room_new(const struct scene *scene)
{
    struct room *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    snprintf(r->id, sizeof(r->id), "%s", scene->id);
    snprintf(r->scene_url, sizeof(r->scene_url), "/api/scenes/%s", scene->id);
    r->scene = scene;
    room_bounds(scene, &r->bounds);
    r->presence_tokens = ROOM_PRESENCE_BURST;
    r->lease = -1;
    return r;
}

void room_free(struct room *r)
{
    if (r) {
        free(r->members);
        free(r->movers);
        free(r->stage_scratch);
        free(r->free_ix);
        interest_free(&r->interest);
        free(r->cells);
        free(r->tier_list);
        proto_buf_free(&r->presence);
        chat_room_free(r);
        free(r);
    }
}

struct room *room_find(const struct venue *v, const char *id)
{
    for (size_t i = 0; i < v->nrooms; i++)
        if (strcmp(v->rooms[i]->id, id) == 0)
            return v->rooms[i];
    return NULL;
}

int room_capacity(const struct room *r)
{
    return r->capacity ? r->capacity : r->scene->capacity;
}

int room_places(const struct room *r, enum role role)
{
    int cap = room_capacity(r), reserved = r->scene->reserved_seats;
    if (cap > (int)POSES_BIN_IX_MAX)
        cap = (int)POSES_BIN_IX_MAX;
    if (role < ROLE_SPEAKER)
        cap -= reserved < cap ? reserved : cap;
    return cap - (int)r->n;
}

/* Seats this node holds in r and has not filled; only with a lease. */
static int leased_free(const struct room *r)
{
    return r->lease - (int)(r->n - r->nremote);
}

bool room_seats_short(const struct room *r)
{
    return r->lease >= 0 && leased_free(r) <= 0;
}

int room_free_places(const struct room *r, enum role role)
{
    int free = room_places(r, role);
    /* A node fills only the seats it holds: the others hold the rest. */
    if (r->lease >= 0 && leased_free(r) < free)
        free = leased_free(r);
    return free;
}

void room_link_stages(struct venue *v)
{
    for (size_t i = 0; i < v->nrooms; i++) {
        struct room *r = v->rooms[i];
        r->stage_of = NULL;
        r->stage = NULL;
        for (size_t k = 0; k < r->scene->nplaces; k++)
            if (r->scene->places[k].type == SCENE_PLACE_STAGE && r->scene->places[k].has_volume)
                r->stage = &r->scene->places[k];
    }
    for (size_t i = 0; i < v->nrooms; i++) {
        struct room *hall = v->rooms[i], *over;
        const struct scene *sc = hall->scene;
        if (hall->stage && sc->overflow[0] && (over = room_find(v, sc->overflow)))
            over->stage_of = hall;
    }
}

/*
 * A binary frames index for s: one given back, else a new one. The stack
 * of given-back indexes is grown with each new index, so that giving one
 * back never needs memory.
 */
static int take_ix(struct room *r, struct session *s)
{
    if (r->nfree) {
        s->ix = r->free_ix[--r->nfree];
        return 0;
    }
    if (r->next_ix > POSES_BIN_IX_MAX ||
        array_grow((void **)&r->free_ix, &r->free_cap, r->next_ix + 1, sizeof(*r->free_ix)) < 0)
        return -1;
    s->ix = r->next_ix++;
    return 0;
}

int room_add_member(struct room *r, struct session *s)
{
    if (array_grow((void **)&r->members, &r->cap, r->n + 1, sizeof(*r->members)) < 0 ||
        take_ix(r, s) < 0)
        return -1;
    s->room = r;
    s->slot = r->n;
    r->members[r->n++] = s;
    r->nremote += s->node[0] != '\0';
    r->members_gen++;
    room_pose_changed(s);
    return 0;
}

void room_stage_update(struct room *r, struct session *s)
{
    bool on = r->stage && scene_place_at(r->scene, SCENE_PLACE_STAGE, s->p) == r->stage;
    if (on != s->on_stage) {
        s->on_stage = on;
        r->stage_changed = true;
    }
}

static void remove_member(struct room *r, struct session *s)
{
    assert(s->room == r && r->members[s->slot] == s);
    r->members[s->slot] = r->members[--r->n];
    r->members[s->slot]->slot = s->slot;
    r->nremote -= s->node[0] != '\0';
    r->members_gen++;
    assert(r->nfree < r->free_cap);
    r->free_ix[r->nfree++] = s->ix;
    s->room = NULL;
    s->granted = ROLE_GUEST;
    if (s->on_stage) {
        s->on_stage = false;
        r->stage_changed = true;
    }
}

void room_broadcast_enc(struct venue *v, struct room *r, const struct session *except,
                        enum metric_out type)
{
    struct frame *f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len);
    if (!f)
        return;
    for (size_t i = 0; i < r->n; i++)
        if (r->members[i] != except)
            session_enqueue(v, r->members[i], f, type);
    frame_unref(f);
}

static void presence(struct venue *v, struct session *s, const char *event,
                     const struct session *except)
{
    struct proto_user u = session_user_view(s);
    struct room *r = s->room;
    mesh_presence(v, s, event);
    voice_touch(v); /* a role, a mute or the room changed: rights may have */
    r->presence_tokens = fmin(ROOM_PRESENCE_BURST,
                              r->presence_tokens + fmax(0.0, (double)(v->now - r->presence_ms)) *
                                                       ROOM_PRESENCE_RATE / 1000.0);
    r->presence_ms = v->now;
    /* Once a batch waits, everything joins it: presence keeps its order. */
    if (r->npresence == 0 && r->presence_tokens >= 1.0) {
        r->presence_tokens -= 1.0;
        proto_buf_reset(&v->enc);
        if (proto_encode_presence(&v->enc, r->id, event, &u) == 0)
            room_broadcast_enc(v, r, except, MOUT_PRESENCE);
        return;
    }
    if (proto_encode_presence_event(&r->presence, event, &u) < 0)
        return;
    r->npresence++;
    if (r->presence.len >= ROOM_PRESENCE_BATCH_MAX)
        room_flush_presence(v, r);
}

void room_flush_presence(struct venue *v, struct room *r)
{
    if (!r->npresence)
        return;
    proto_buf_reset(&v->enc);
    if (proto_encode_presence_batch(&v->enc, r->id, r->presence.data, r->presence.len) == 0)
        room_broadcast_enc(v, r, NULL, MOUT_PRESENCE);
    proto_buf_reset(&r->presence);
    r->npresence = 0;
}

void room_presence(struct venue *v, struct session *s, const char *event)
{
    presence(v, s, event, s);
}

void room_presence_all(struct venue *v, struct session *s, const char *event)
{
    presence(v, s, event, NULL);
}

void room_state_changed(struct venue *v, struct room *r)
{
    proto_buf_reset(&v->enc);
    if (proto_encode_room_state(&v->enc, r->id, r->locked, room_capacity(r)) == 0)
        room_broadcast_enc(v, r, NULL, MOUT_ROOM);
    voice_touch(v);
}

/* The roster of list[0..n) into v->users. */
static int users_of(struct venue *v, struct session *const *list, size_t n)
{
    if (array_grow((void **)&v->users, &v->users_cap, n ? n : 1, sizeof(*v->users)) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        v->users[i] = session_user_view(list[i]);
    return 0;
}

int room_encode_joined(struct venue *v, struct session *s, const struct proto_id *re)
{
    return room_encode_joined_near(v, s, NULL, re);
}

int room_encode_joined_near(struct venue *v, struct session *s, const struct proto_near *near,
                            const struct proto_id *re)
{
    struct room *r = s->room;
    if (users_of(v, r->members, r->n) < 0)
        return -1;
    proto_buf_reset(&v->enc);
    return proto_encode_joined_near(&v->enc, r->id, r->scene->name, r->scene_url, v->users, r->n,
                                    &r->bounds, near, re);
}

int room_encode_stage(struct venue *v, struct room *r)
{
    struct room *hall = r->stage_of;
    size_t n = 0;
    assert(hall);
    if (array_grow((void **)&v->users, &v->users_cap, hall->n ? hall->n : 1, sizeof(*v->users)) < 0)
        return -1;
    for (size_t i = 0; i < hall->n; i++)
        if (hall->members[i]->on_stage)
            v->users[n++] = session_user_view(hall->members[i]);
    proto_buf_reset(&v->enc);
    return proto_encode_stage(&v->enc, hall->id, v->users, n, &hall->bounds);
}

void room_pose_changed(struct session *s)
{
    s->entry_stale = SESSION_ENTRY_JSON | SESSION_ENTRY_BIN;
}

/* s's entry in this format, encoded again if its pose changed since. A
 * JSON entry that cannot be encoded is left empty (entry_len 0). */
static void ensure_entry(struct venue *v, struct session *s, bool bin)
{
    unsigned bit = bin ? SESSION_ENTRY_BIN : SESSION_ENTRY_JSON;
    if (!(s->entry_stale & bit))
        return;
    s->entry_stale &= ~bit;
    if (bin) {
        poses_bin_entry(s->bentry, s->ix, &s->room->bounds, s->p, s->q);
        return;
    }
    s->entry_len = 0;
    proto_buf_reset(&v->enc);
    if (proto_encode_pose_entry(&v->enc, s->user_id, s->p, s->q) == 0 &&
        v->enc.len <= sizeof(s->entry)) {
        memcpy(s->entry, v->enc.data, v->enc.len);
        s->entry_len = v->enc.len;
    }
}

static void defer_exit_pose(struct venue *v, struct session *s);

void room_exit(struct venue *v, struct session *s)
{
    if (!s->room)
        return;
    /* Written now, not at the next batch: coming back at once must find it. */
    if (s->store_dirty && v->store) {
        struct store_pose sp = {.user_id = s->user_id, .room_id = s->room->id};
        memcpy(sp.p, s->p, sizeof(sp.p));
        memcpy(sp.q, s->q, sizeof(sp.q));
        if (store_poses_put(v->store, &sp, 1, venue_wall(v)) == 0) {
            s->store_dirty = false;
        } else {
            fprintf(stderr, "venued: store: %s\n", store_error(v->store));
            defer_exit_pose(v, s); /* the next batch tries again */
        }
    }
    struct room *r = s->room;
    room_presence(v, s, "leave");
    remove_member(r, s);
    voice_left(v, s, r);
}

void room_write_exits(struct venue *v, struct session *s, size_t n)
{
    struct store_pose sp[SESSION_EXITS_MAX];
    assert(n <= s->nexits && n <= SESSION_EXITS_MAX);
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        sp[i] = (struct store_pose){.user_id = s->user_id, .room_id = s->exits[i].room_id};
        memcpy(sp[i].p, s->exits[i].p, sizeof(sp[i].p));
        memcpy(sp[i].q, s->exits[i].q, sizeof(sp[i].q));
    }
    if (v->store && store_poses_put(v->store, sp, n, venue_wall(v)) < 0)
        fprintf(stderr, "venued: store: %s\n", store_error(v->store));
    memmove(s->exits, s->exits + n, (s->nexits - n) * sizeof(s->exits[0]));
    s->nexits -= n;
}

/* s changes rooms: its pose in the room it leaves waits for the next batch
 * (flush_poses) instead of a write of its own. Four changes before a batch
 * write the oldest now. */
static void defer_exit_pose(struct venue *v, struct session *s)
{
    struct session_exit *e = NULL;
    if (!s->room || !s->store_dirty)
        return;
    for (size_t i = 0; i < s->nexits && !e; i++)
        if (strcmp(s->exits[i].room_id, s->room->id) == 0)
            e = &s->exits[i];
    if (!e && s->nexits == SESSION_EXITS_MAX)
        room_write_exits(v, s, 1);
    if (!e) {
        assert(s->nexits < SESSION_EXITS_MAX);
        e = &s->exits[s->nexits++];
        snprintf(e->room_id, sizeof(e->room_id), "%s", s->room->id);
    }
    memcpy(e->p, s->p, sizeof(e->p));
    memcpy(e->q, s->q, sizeof(e->q));
    s->store_dirty = false;
}

/* Where s appears on entering r: its last pose there if it is still on the
 * floor, otherwise the next spawn point. */
static void arrival_pose(struct venue *v, struct session *s, struct room *r)
{
    float p[3], q[4];
    for (size_t i = s->nexits; i-- > 0;) {
        const struct session_exit *e = &s->exits[i];
        if (strcmp(e->room_id, r->id) == 0 && scene_walkable(r->scene, e->p)) {
            memcpy(s->p, e->p, sizeof(s->p));
            memcpy(s->q, e->q, sizeof(s->q));
            return;
        }
    }
    if (v->store && store_pose_get(v->store, s->user_id, r->id, p, q) == 1 &&
        scene_walkable(r->scene, p)) {
        memcpy(s->p, p, sizeof(p));
        memcpy(s->q, q, sizeof(q));
        return;
    }
    scene_spawn_at(r->scene, r->arrivals++, s->p, s->q);
}

enum role room_role_for(const struct venue *v, const struct room *r, const struct session *s)
{
    enum role g = prog_grant(v, r, s->user_id);
    return g > s->role ? g : s->role;
}

/* Why s may not enter r, sent as an error; false when it may. */
static bool refused(struct venue *v, struct session *s, struct room *r, enum room_enter_how how,
                    const struct proto_id *re)
{
    long long until;
    char msg[160];
    enum role role = room_role_for(v, r, s);

    if (how == ROOM_ENTER_SELF) {
        if (role == ROLE_GUEST && !r->scene->guests_enter) {
            session_send_error(v, s, "forbidden", "join: this room is for registered participants",
                               re);
            return true;
        }
        if (v->reg && registry_sanction_check(v->reg, SANCTION_BAN, s->user_id, r->id,
                                              venue_wall(v), &until) == 1) {
            session_send_error(v, s, "forbidden", "join: you are banned from this room", re);
            return true;
        }
        if (r->locked && role < ROLE_MODERATOR) {
            session_send_error(v, s, "forbidden", "join: the room is locked", re);
            return true;
        }
    }
    /* A moderator's move may use the reserved seats: it is their call. */
    if (room_free_places(r, how == ROOM_ENTER_MOVED ? ROLE_ADMIN : role) <= 0) {
        const char *over = r->scene->overflow[0] ? r->scene->overflow : NULL;
        snprintf(msg, sizeof(msg), "join: the room is full%s%s",
                 over ? "; its overflow room is " : "", over ? over : "");
        proto_buf_reset(&v->enc);
        if (proto_encode_error_overflow(&v->enc, "room_full", msg, over, re) == 0)
            session_send_enc(v, s, MOUT_ERROR);
        return true;
    }
    return false;
}

/* A pose s takes in its room without walking there: a join beside
 * someone. Told to the others as a move at the next tick. */
static void take_pose(struct session *s, const float p[3], const float q[4])
{
    memcpy(s->p, p, sizeof(s->p));
    memcpy(s->q, q, sizeof(s->q));
    s->in_portal = scene_portal_at(s->room->scene, s->p) != NULL;
    room_stage_update(s->room, s);
    s->moved = true;
    s->store_dirty = true;
}

/* room_enter and room_enter_arrival: a, when not NULL, is a join.near. */
static int enter(struct venue *v, struct session *s, struct room *r, const struct scene_spawn *via,
                 const struct room_arrival *a, enum room_enter_how how, const struct proto_id *re)
{
    if (s->room != r) {
        if (refused(v, s, r, how, re))
            return -1;
        defer_exit_pose(v, s);
        room_exit(v, s);
        if (room_add_member(r, s) < 0) {
            session_send_error(v, s, "bad_request", "join: out of memory", re);
            return -1;
        }
        session_keep_user(v, s);
        s->granted = prog_grant(v, r, s->user_id);
        voice_joined(v, s);
        if (a && a->placed) {
            memcpy(s->p, a->p, sizeof(s->p));
            memcpy(s->q, a->q, sizeof(s->q));
        } else if (via) {
            scene_spawn_near(r->scene, via, r->arrivals++, s->p, s->q);
        } else {
            arrival_pose(v, s, r);
        }
        s->in_portal = scene_portal_at(r->scene, s->p) != NULL;
        room_stage_update(r, s); /* a joiner may arrive on the stage */
        s->seen_tick = v->tick;  /* joined carries everyone's pose as of now */
        s->pose_ms = v->now;
        s->moved = false;
        s->store_dirty = true;
        room_presence(v, s, "join");
    } else if (a && a->placed) {
        take_pose(s, a->p, a->q);
        s->pose_ms = v->now;
    }
    room_send_view_near(v, s, a ? a->near : NULL, re);
    return 0;
}

int room_enter(struct venue *v, struct session *s, struct room *r, const struct scene_spawn *via,
               enum room_enter_how how, const struct proto_id *re)
{
    return enter(v, s, r, via, NULL, how, re);
}

int room_enter_arrival(struct venue *v, struct session *s, struct room *r,
                       const struct room_arrival *a, const struct proto_id *re)
{
    return enter(v, s, r, NULL, a, ROOM_ENTER_SELF, re);
}

void room_send_view(struct venue *v, struct session *s, const struct proto_id *re)
{
    room_send_view_near(v, s, NULL, re);
}

void room_send_view_near(struct venue *v, struct session *s, const struct proto_near *near,
                         const struct proto_id *re)
{
    struct room *r = s->room;
    if (room_encode_joined_near(v, s, near, re) == 0)
        session_send_enc(v, s, MOUT_JOINED);
    proto_buf_reset(&v->enc);
    if (proto_encode_room_state(&v->enc, r->id, r->locked, room_capacity(r)) == 0)
        session_send_enc(v, s, MOUT_ROOM);
    if (s->room->stage_of && room_encode_stage(v, s->room) == 0)
        session_send_enc(v, s, MOUT_STAGE);
    twin_send_view(v, s);
    prog_send_view(v, s);
    chat_send_history(v, s);
    voice_send(v, s);
}

/* Whether s's entry goes in a frame of who moved after tick since (-1:
 * everyone), which leaves except out. */
static bool in_frame(const struct session *s, const struct session *except, long long since)
{
    return s != except && s->moved_tick > since;
}

/* What a poses frame is made of. */
struct frame_parts {
    struct session *const *a; /* the room's, a[0..na) */
    size_t na;
    struct session *const *b; /* the hall's stage people, for an overflow room */
    size_t nb;
    const struct session *except; /* left out */
    long long since;              /* only who moved after this tick; -1: everyone */
    int near;      /* -1: untiered; else tiered: b, then a's first near, are the near tier */
    size_t budget; /* tiered: bytes the entries after the near tier may take */
};

/*
 * A poses frame, binary or JSON, of fp's entries. A tiered frame puts the
 * stage people first, in its near tier, and ends where the budget does.
 * NULL when it would be empty or memory ran out.
 */
static struct frame *poses_frame(struct venue *v, bool bin, const struct frame_parts *fp)
{
    static const size_t sep = sizeof(PROTO_POSES_SEP) - 1, tail = sizeof(PROTO_POSES_TAIL) - 1;
    const bool tiered = fp->near >= 0;
    struct session *const *lists[2] = {tiered ? fp->b : fp->a, tiered ? fp->a : fp->b};
    size_t counts[2] = {tiered ? fp->nb : fp->na, tiered ? fp->na : fp->nb};
    const int stage_list = tiered ? 0 : 1;
    char head[PROTO_POSES_HEAD_MAX];
    unsigned char bhead[POSES_BIN_HEAD_MAX];
    size_t hn, size = 0, beyond = 0, count = 0, nnear = 0;
    struct frame *f;

    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < counts[l]; i++) {
            struct session *s = lists[l][i];
            size_t e;
            bool near = tiered && (l == 0 || i < (size_t)fp->near);
            if (!in_frame(s, fp->except, fp->since))
                continue;
            ensure_entry(v, s, bin);
            if (!bin && !s->entry_len)
                continue;
            e = bin ? POSES_BIN_ENTRY : s->entry_len + sep;
            if (tiered && !near && beyond + e > fp->budget) {
                v->m.interest_cut += counts[l] - i;
                counts[l] = i; /* the rest are farther: all left out */
                break;
            }
            beyond += near ? 0 : e;
            nnear += near;
            size += e;
            count++;
        }
    }
    if (count == 0)
        return NULL;
    if (bin)
        hn = poses_bin_head(bhead, v->tick, count, tiered ? (int)nnear : -1);
    else
        hn = proto_poses_head(head, sizeof(head), v->tick, tiered ? (int)nnear : -1);
    if (!(f = frame_new(FRAME_POSES, hn + size + (bin ? 0 : tail))))
        return NULL;
    f->binary = bin;
    frame_append(f, bin ? (const void *)bhead : head, hn);
    count = 0;
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < counts[l]; i++) {
            const struct session *s = lists[l][i];
            if (!in_frame(s, fp->except, fp->since) || (!bin && !s->entry_len))
                continue;
            if (bin) {
                frame_append(f, s->bentry, POSES_BIN_ENTRY);
                if (l == stage_list)
                    poses_bin_mark_stage(frame_data(f) + f->len - POSES_BIN_ENTRY);
                continue;
            }
            if (count++)
                frame_append(f, PROTO_POSES_SEP, sep);
            frame_append(f, s->entry, s->entry_len);
        }
    }
    if (!bin)
        frame_append(f, PROTO_POSES_TAIL, tail);
    assert(f->len <= f->cap);
    return f;
}

/* Plan this tick's tiers when r is tiered and big enough: true if so. */
static bool plan_tiers(struct venue *v, struct room *r)
{
    const struct scene_interest *conf = &r->scene->interest;
    const float lo[2] = {r->bounds.min[0], r->bounds.min[2]};
    const float hi[2] = {r->bounds.max[0], r->bounds.max[2]};
    struct interest_member *m;
    size_t cells, had = r->cells_cap;

    if (!conf->on || r->n < (size_t)conf->from || !(m = interest_members(&r->interest, r->n)))
        return false;
    for (size_t i = 0; i < r->n; i++) {
        const struct session *s = r->members[i];
        m[i] = (struct interest_member){.x = s->p[0],
                                        .z = s->p[2],
                                        .moved_tick = s->moved_tick,
                                        .ix = s->ix,
                                        .always = s->on_stage || s->talking};
    }
    if (interest_plan(&r->interest, conf, lo, hi, v->tick, v->cfg.tick_hz) < 0)
        return false;
    cells = interest_cells(&r->interest);
    if (array_grow((void **)&r->cells, &r->cells_cap, cells, sizeof(*r->cells)) < 0 ||
        array_grow((void **)&r->tier_list, &r->tier_list_cap, r->n, sizeof(*r->tier_list)) < 0)
        return false;
    if (r->cells_cap > had) /* the cells past the old capacity are unbuilt */
        memset(r->cells + had, 0, (r->cells_cap - had) * sizeof(*r->cells));
    return true;
}

/* Member i's frame in a tiered room: its cell's, built once a tick. */
static struct frame *tier_frame(struct venue *v, struct room *r, size_t i, bool bin,
                                struct session *const *extra, size_t nextra)
{
    size_t cell = interest_cell_of(&r->interest, i);
    struct room_cell *c = &r->cells[cell];

    assert(cell < r->cells_cap);
    if (!c->built[bin]) {
        const uint32_t *list;
        size_t nnear, k = interest_list(&r->interest, cell, &list, &nnear);
        struct frame_parts fp = {.a = r->tier_list,
                                 .na = k,
                                 .b = extra,
                                 .nb = nextra,
                                 .since = -1,
                                 .near = (int)nnear,
                                 .budget =
                                     (size_t)r->scene->interest.budget / (size_t)v->cfg.tick_hz};
        assert(k <= r->n && k <= r->tier_list_cap);
        for (size_t j = 0; j < k; j++)
            r->tier_list[j] = r->members[list[j]];
        c->only = k == 1 && nextra == 0 ? (long)list[0] : -1;
        c->frame[bin] = poses_frame(v, bin, &fp);
        c->built[bin] = true;
    }
    if (c->only == (long)i || !c->frame[bin]) /* nothing but its own entry */
        return NULL;
    return frame_ref(c->frame[bin]);
}

/* The end of a tiered tick: the cells' frames let go. */
static void tiers_done(struct room *r)
{
    size_t cells = interest_cells(&r->interest);
    for (size_t c = 0; c < cells; c++) {
        for (int b = 0; b < 2; b++) {
            frame_unref(r->cells[c].frame[b]);
            r->cells[c].frame[b] = NULL;
            r->cells[c].built[b] = false;
        }
    }
}

void room_collect(struct venue *v, struct room *r)
{
    r->nmov = 0;
    if (r->n == 0 || array_grow((void **)&r->movers, &r->movers_cap, r->n, sizeof(*r->movers)) < 0)
        return;
    for (size_t i = 0; i < r->n; i++) {
        struct session *s = r->members[i];
        if (!s->moved)
            continue;
        room_pose_changed(s);
        s->moved = false;
        s->moved_tick = v->tick;
        r->movers[r->nmov++] = s;
        room_stage_update(r, s);
    }
}

/* The hall's stage people among its movers, for the overflow room. Uses
 * the hall's movers array order; returns how many, moved to the front of
 * out (which holds hall->nmov). */
static size_t stage_movers(const struct room *hall, struct session **out)
{
    size_t n = 0;
    for (size_t i = 0; i < hall->nmov; i++)
        if (hall->movers[i]->on_stage)
            out[n++] = hall->movers[i];
    return n;
}

void room_send(struct venue *v, struct room *r)
{
    struct room *hall = r->stage_of;
    struct session **extra = NULL, **stage_all = NULL; /* r->stage_scratch */
    size_t nextra = 0, nstage = 0;
    struct frame *shared[2] = {NULL, NULL}; /* this tick's, JSON and binary, once needed */
    bool built[2] = {false, false}, tiered;

    room_flush_presence(v, r); /* before the poses that may follow it */
    if (hall && hall->stage_changed && room_encode_stage(v, r) == 0)
        room_broadcast_enc(v, r, NULL, MOUT_STAGE);
    if (r->n == 0)
        return;
    if (hall && hall->n) {
        if (array_grow((void **)&r->stage_scratch, &r->stage_scratch_cap, hall->n * 2,
                       sizeof(*r->stage_scratch)) == 0) {
            extra = r->stage_scratch;
            stage_all = extra + hall->n;
            nextra = stage_movers(hall, extra);
            for (size_t i = 0; i < hall->n; i++)
                if (hall->members[i]->on_stage)
                    stage_all[nstage++] = hall->members[i];
            assert(nextra <= hall->n && nstage <= hall->n);
        }
    }
    tiered = plan_tiers(v, r);
    for (size_t i = 0; i < r->n; i++) {
        struct session *s = r->members[i];
        struct frame *f = NULL;
        bool bin = s->poses_binary;

        if (!s->conn)
            continue;
        /* It has not read its last poses frame yet: this tick waits for
         * the next frame it can take. Rebuilding a frame every tick for a
         * client that cannot take them only deepens the lag. */
        if (outq_has_poses(&s->out)) {
            v->m.dropped[MDROP_STALE_POSES]++;
            continue;
        }
        if (s->resync || (!tiered && s->seen_tick < v->tick - 1)) {
            /* It lost frames, or resumed: everyone. It skipped ticks: all
             * who moved since. Either is untiered, and its own. In a
             * tiered room one who skipped ticks takes its cell's frame:
             * the phases bring what it missed within a background period,
             * and a lagging client is not sent the most. */
            struct frame_parts fp = {.a = r->members,
                                     .na = r->n,
                                     .b = stage_all,
                                     .nb = nstage,
                                     .except = s,
                                     .since = s->resync ? -1 : s->seen_tick,
                                     .near = -1};
            f = poses_frame(v, bin, &fp);
            s->resync = false;
        } else if (tiered) {
            f = tier_frame(v, r, i, bin, extra, nextra);
        } else if (r->nmov + nextra && !(s->moved_tick == v->tick && r->nmov + nextra == 1)) {
            /* One frame for the whole room, movers included: a mover's
             * own entry is in it (receivers skip their own id), which
             * costs it one entry's bytes and spares the tick a frame per
             * mover. Only a lone mover, whose frame would hold nothing
             * but itself, gets none. */
            if (!built[bin]) {
                struct frame_parts fp = {.a = r->movers,
                                         .na = r->nmov,
                                         .b = extra,
                                         .nb = nextra,
                                         .since = -1,
                                         .near = -1};
                shared[bin] = poses_frame(v, bin, &fp);
                built[bin] = true;
            }
            f = shared[bin] ? frame_ref(shared[bin]) : NULL;
        }
        s->seen_tick = v->tick;
        if (f) {
            session_enqueue(v, s, f, MOUT_POSES);
            frame_unref(f);
        }
    }
    frame_unref(shared[0]);
    frame_unref(shared[1]);
    if (tiered)
        tiers_done(r);
}
