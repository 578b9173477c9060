/*
 * room.c - room membership, presence and the per-tick poses fan-out.
 *
 * Fan-out encodes each avatar that moved once per tick (its entry is kept
 * on the session) and assembles frames from those entries by copying:
 * everyone who did not move shares one frame; a mover gets the same frame
 * without its own entry; a receiver whose last frame was dropped unsent
 * gets a full snapshot instead, so nothing it missed stays wrong.
 */
#include "venue_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct room *room_new(const struct scene *scene)
{
    struct room *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    snprintf(r->id, sizeof(r->id), "%s", scene->id);
    snprintf(r->scene_url, sizeof(r->scene_url), "/api/scenes/%s", scene->id);
    r->scene = scene;
    return r;
}

void room_free(struct room *r)
{
    if (r) {
        free(r->members);
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

int room_add_member(struct room *r, struct session *s)
{
    if (venue_grow((void **)&r->members, &r->cap, r->n + 1, sizeof(*r->members)) < 0)
        return -1;
    s->room = r;
    s->slot = r->n;
    r->members[r->n++] = s;
    return 0;
}

static void remove_member(struct room *r, struct session *s)
{
    assert(s->room == r && r->members[s->slot] == s);
    r->members[s->slot] = r->members[--r->n];
    r->members[s->slot]->slot = s->slot;
    s->room = NULL;
}

void room_broadcast_enc(struct venue *v, struct room *r, const struct session *except,
                        enum metric_out type)
{
    struct frame *f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len);
    if (!f)
        return;
    for (size_t i = 0; i < r->n; i++)
        if (r->members[i] != except)
            venue_enqueue(v, r->members[i], f, type);
    frame_unref(f);
}

void room_presence(struct venue *v, struct session *s, const char *event)
{
    struct proto_user u = venue_user_view(s);
    proto_buf_reset(&v->enc);
    if (proto_encode_presence(&v->enc, s->room->id, event, &u) == 0)
        room_broadcast_enc(v, s->room, s, MOUT_PRESENCE);
}

int room_encode_joined(struct venue *v, struct session *s, const struct proto_id *re)
{
    struct room *r = s->room;
    if (venue_grow((void **)&v->users, &v->users_cap, r->n, sizeof(*v->users)) < 0)
        return -1;
    for (size_t i = 0; i < r->n; i++)
        v->users[i] = venue_user_view(r->members[i]);
    proto_buf_reset(&v->enc);
    return proto_encode_joined(&v->enc, r->id, r->scene->name, r->scene_url, v->users, r->n, re);
}

void room_encode_entry(struct venue *v, struct session *s)
{
    proto_buf_reset(&v->enc);
    if (proto_encode_pose_entry(&v->enc, s->user_id, s->p, s->q) == 0 &&
        v->enc.len <= sizeof(s->entry)) {
        memcpy(s->entry, v->enc.data, v->enc.len);
        s->entry_len = v->enc.len;
    }
}

void room_exit(struct venue *v, struct session *s)
{
    if (!s->room)
        return;
    room_presence(v, s, "leave");
    remove_member(s->room, s);
}

/* Where s appears on entering r: its last pose there if it is still on the
 * floor, otherwise the next spawn point. */
static void arrival_pose(struct venue *v, struct session *s, struct room *r)
{
    float p[3], q[4];
    if (v->store && store_pose_get(v->store, s->user_id, r->id, p, q) == 1 &&
        scene_walkable(r->scene, p)) {
        memcpy(s->p, p, sizeof(p));
        memcpy(s->q, q, sizeof(q));
        return;
    }
    scene_spawn_at(r->scene, r->arrivals++, s->p, s->q);
}

int room_enter(struct venue *v, struct session *s, struct room *r, const struct scene_spawn *via,
               const struct proto_id *re)
{
    if (s->room != r) {
        if ((int)r->n >= r->scene->capacity) {
            venue_send_error(v, s, "room_full", "join: the room is full", re);
            return -1;
        }
        room_exit(v, s);
        if (room_add_member(r, s) < 0) {
            venue_send_error(v, s, "bad_request", "join: out of memory", re);
            return -1;
        }
        if (via) /* the same rings around the portal's spawn point */
            scene_spawn_at(r->scene,
                           (unsigned)(via - r->scene->spawns) +
                               (unsigned)r->scene->nspawns * r->arrivals++,
                           s->p, s->q);
        else
            arrival_pose(v, s, r);
        s->in_portal = scene_portal_at(r->scene, s->p) != NULL;
        s->pose_ms = v->now;
        s->moved = false;
        s->store_dirty = true;
        room_encode_entry(v, s);
        room_presence(v, s, "join");
    }
    if (room_encode_joined(v, s, re) == 0)
        venue_send_enc(v, s, MOUT_JOINED);
    return 0;
}

/* A poses frame of the entries of list[0..n), never except's. NULL when it would be empty or memory
 * ran out. */
static struct frame *poses_frame(const struct venue *v, struct session **list, size_t n,
                                 const struct session *except)
{
    char head[64];
    int hn = snprintf(head, sizeof(head), "{\"type\":\"poses\",\"tick\":%lld,\"users\":[", v->tick);
    size_t size = (size_t)hn + 2, count = 0;
    struct frame *f;

    for (size_t i = 0; i < n; i++)
        if (list[i] != except && list[i]->entry_len) {
            size += list[i]->entry_len + 1;
            count++;
        }
    if (count == 0 || !(f = frame_new(FRAME_POSES, size)))
        return NULL;
    frame_append(f, head, (size_t)hn);
    count = 0;
    for (size_t i = 0; i < n; i++) {
        if (list[i] == except || !list[i]->entry_len)
            continue;
        if (count++)
            frame_append(f, ",", 1);
        frame_append(f, list[i]->entry, list[i]->entry_len);
    }
    frame_append(f, "]}", 2);
    return f;
}

void room_fanout(struct venue *v, struct room *r)
{
    size_t nmov = 0;
    struct frame *shared = NULL;

    if (r->n == 0)
        return;
    if (venue_grow((void **)&v->movers, &v->movers_cap, r->n, sizeof(*v->movers)) < 0)
        return;
    for (size_t i = 0; i < r->n; i++) {
        struct session *s = r->members[i];
        if (s->moved) {
            room_encode_entry(v, s);
            s->moved = false;
            s->moved_tick = v->tick;
            v->movers[nmov++] = s;
        }
    }
    if (nmov)
        shared = poses_frame(v, v->movers, nmov, NULL);

    for (size_t i = 0; i < r->n; i++) {
        struct session *s = r->members[i];
        struct frame *f = NULL;
        size_t stale;

        if (!s->conn)
            continue;
        stale = outq_drop_poses(&s->out);
        if (stale) {
            v->m.dropped[MDROP_STALE_POSES] += stale;
            s->resync = true;
        }
        if (s->resync) {
            f = poses_frame(v, r->members, r->n, s);
            s->resync = false;
        } else if (shared) {
            f = s->moved_tick == v->tick ? poses_frame(v, v->movers, nmov, s) : frame_ref(shared);
        }
        if (f) {
            venue_enqueue(v, s, f, MOUT_POSES);
            frame_unref(f);
        }
    }
    frame_unref(shared);
}
