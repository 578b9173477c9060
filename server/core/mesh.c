/*
 * mesh.c - one venue over several nodes (see mesh.h for what and why).
 *
 * Out: events are appended to v->mesh.out as they happen, comma-separated
 * JSON objects, and go as {"n":NODE,"ev":[...]} once a tick. In:
 * venue_mesh_apply reads another node's document, every field checked,
 * and applies each event to the remote members it names; a bad event is
 * skipped, never half-applied.
 */
#include "mesh.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moderation.h"
#include "venue_int.h"

static bool mesh_on(const struct venue *v)
{
    return v->mesh.io.publish != NULL;
}

/* Append one event (JSON text); past MESH_OUT_MAX the tick's events give
 * way to the whole state at the next flush. */
static void append(struct venue *v, const char *text, size_t len)
{
    struct venue_mesh *m = &v->mesh;
    if (m->out.len + len + 1 > MESH_OUT_MAX || (m->nout && proto_buf_append(&m->out, ",", 1) < 0) ||
        proto_buf_append(&m->out, text, len) < 0) {
        proto_buf_reset(&m->out);
        m->nout = 0;
        m->state_due = true;
        m->dropped++;
        return;
    }
    m->nout++;
}

static void append_json(struct venue *v, json_t *ev)
{
    char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    if (text)
        append(v, text, strlen(text));
    else
        v->mesh.dropped++;
    free(text);
    json_decref(ev);
}

/*
 * What the other nodes need of s to show it and to let it resume there
 * (new reference): its resume token's hash, and whether it is connected
 * and since when, which settles who holds a person both claim.
 */
static json_t *user_json(const struct venue *v, const struct session *s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:I, s:b, s:[f,f,f], s:[f,f,f,f], s:s, s:b, s:I}",
                     "id", s->user_id, "name", s->name, "role", role_name(s->role), "status",
                     s->status == PROTO_STATUS_AWAY ? "away" : "active", "hand", s->hand, "hand_at",
                     (json_int_t)(s->hand ? s->hand_at : 0), "muted", s->muted_until != 0, "p",
                     s->p[0], s->p[1], s->p[2], "q", s->q[0], s->q[1], s->q[2], s->q[3], "resume",
                     s->resume_hash, "live", s->conn != NULL, "at",
                     (json_int_t)(s->connected_ms + v->wall_offset));
}

static bool local(const struct session *s)
{
    return !s->node[0] && s->hello && !s->dead;
}

void mesh_presence(struct venue *v, struct session *s, const char *event)
{
    /* A dead session's leave goes too: its grace ended, or it was removed. */
    if (!mesh_on(v) || s->node[0] || !s->hello || !s->room)
        return;
    append_json(v, json_pack("{s:s, s:s, s:s, s:o}", "t", "p", "r", s->room->id, "e", event, "u",
                             user_json(v, s)));
}

void mesh_chat(struct venue *v, struct session *s, long long id, long long ts_ms, const char *text)
{
    if (!mesh_on(v) || !local(s) || !s->room)
        return;
    append_json(v, json_pack("{s:s, s:s, s:I, s:I, s:s}", "t", "c", "u", s->user_id, "i",
                             (json_int_t)id, "ts", (json_int_t)ts_ms, "x", text));
}

void mesh_chat_deleted(struct venue *v, const struct room *r, long long id)
{
    if (!mesh_on(v))
        return;
    append_json(v, json_pack("{s:s, s:s, s:I}", "t", "cd", "r", r->id, "i", (json_int_t)id));
}

void mesh_act(struct venue *v, const struct session *t, const char *action, const char *room,
              long long until, const char *reason, const char *by)
{
    if (!mesh_on(v))
        return;
    append_json(v, json_pack("{s:s, s:s, s:s, s:s, s:s?, s:I, s:s, s:s}", "t", "act", "to", t->node,
                             "u", t->user_id, "a", action, "r", room, "until", (json_int_t)until,
                             "why", reason ? reason : "", "by", by));
}

void mesh_movers(struct venue *v)
{
    struct proto_buf *b = &v->enc;
    if (!mesh_on(v))
        return;
    for (size_t i = 0; i < v->nrooms; i++) {
        struct room *r = v->rooms[i];
        size_t n = 0;
        int rc = 0;
        for (size_t k = 0; k < r->nmov && rc == 0; k++) {
            const struct session *s = r->movers[k];
            if (!local(s))
                continue;
            if (n++ == 0) {
                proto_buf_reset(b);
                rc = proto_buf_printf(b, "{\"t\":\"m\",\"r\":\"%s\",\"e\":[", r->id);
            } else {
                rc = proto_buf_append(b, ",", 1);
            }
            if (rc == 0)
                rc =
                    proto_buf_printf(b, "[\"%s\",%.4f,%.4f,%.4f,%.5f,%.5f,%.5f,%.5f]", s->user_id,
                                     s->p[0], s->p[1], s->p[2], s->q[0], s->q[1], s->q[2], s->q[3]);
        }
        if (n && rc == 0 && proto_buf_append(b, "]}", 2) == 0)
            append(v, b->data, b->len);
        else if (n)
            v->mesh.dropped++;
    }
}

/* Every local member in a room, for a node that asked. */
static void append_state(struct venue *v)
{
    json_t *members = json_array();
    for (size_t i = 0; members && i < v->nsessions; i++) {
        const struct session *s = v->sessions[i];
        if (local(s) && s->room)
            json_array_append_new(members,
                                  json_pack("{s:s, s:o}", "r", s->room->id, "u", user_json(v, s)));
    }
    append_json(v, members ? json_pack("{s:s, s:o}", "t", "state", "m", members) : NULL);
}

void mesh_flush(struct venue *v)
{
    struct venue_mesh *m = &v->mesh;
    if (!mesh_on(v))
        return;
    if (m->seats_wanted) {
        m->seats_wanted = false;
        if (m->io.seats)
            m->io.seats(m->io.ctx);
    }
    if (m->state_due) {
        m->state_due = false;
        append_state(v);
    }
    if (m->ask_due) {
        m->ask_due = false;
        append(v, "{\"t\":\"ask\"}", 11);
    }
    if (m->nout == 0)
        return;
    proto_buf_reset(&v->enc);
    if (proto_buf_printf(&v->enc, "{\"n\":\"%s\",\"ev\":[", m->node) == 0 &&
        proto_buf_append(&v->enc, m->out.data, m->out.len) == 0 &&
        proto_buf_append(&v->enc, "]}", 2) == 0)
        m->io.publish(m->io.ctx, v->enc.data, v->enc.len);
    else
        m->dropped++;
    proto_buf_reset(&m->out);
    m->nout = 0;
}

void mesh_free(struct venue *v)
{
    proto_buf_free(&v->mesh.out);
}

/* ---- what the other nodes publish ---------------------------------- */

static bool node_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= PROTO_NODE_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static bool id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n < SESSION_ID_LEN &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* n finite numbers of a, from its element at, into out. */
static bool floats_at(const json_t *a, size_t at, float *out, size_t n)
{
    if (!json_is_array(a) || json_array_size(a) < at + n)
        return false;
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_array_get(a, at + i);
        double d = json_number_value(x);
        if (!json_is_number(x) || !isfinite(d) || fabs(d) > 1e6)
            return false;
        out[i] = (float)d;
    }
    return true;
}

/* A JSON array of exactly n finite numbers. */
static bool floats(const json_t *a, float *out, size_t n)
{
    return json_array_size(a) == n && floats_at(a, 0, out, n);
}

/* What a presence or state event says of a user, checked. */
struct remote_user {
    const char *id, *name;
    const char *resume; /* its token's hash, or "" */
    bool live;          /* connected to its node now */
    long long at;       /* wall ms it connected there */
    enum role role;
    enum proto_status status;
    bool hand, muted;
    long long hand_at;
    float p[3], q[4];
};

static bool read_user(const json_t *u, struct remote_user *out)
{
    const char *role = json_string_value(json_object_get(u, "role"));
    const char *status = json_string_value(json_object_get(u, "status"));
    const json_t *hand_at = json_object_get(u, "hand_at");

    out->id = json_string_value(json_object_get(u, "id"));
    out->name = json_string_value(json_object_get(u, "name"));
    out->hand = json_is_true(json_object_get(u, "hand"));
    out->muted = json_is_true(json_object_get(u, "muted"));
    out->hand_at = json_is_integer(hand_at) ? (long long)json_integer_value(hand_at) : 0;
    out->status = status && strcmp(status, "away") == 0 ? PROTO_STATUS_AWAY : PROTO_STATUS_ACTIVE;
    out->resume = json_string_value(json_object_get(u, "resume"));
    out->live = json_is_true(json_object_get(u, "live"));
    out->at = json_integer_value(json_object_get(u, "at"));
    return id_ok(out->id) && out->resume &&
           (!out->resume[0] || (strlen(out->resume) == RESUME_HASH_LEN &&
                                strspn(out->resume, "0123456789abcdef") == RESUME_HASH_LEN)) &&
           out->name && strlen(out->name) < sizeof(((struct session *)0)->name) && role &&
           role_parse(role, &out->role) == 0 && floats(json_object_get(u, "p"), out->p, 3) &&
           floats(json_object_get(u, "q"), out->q, 4);
}

/* node's member user_id, or NULL. */
static struct session *remote_of(const struct venue *v, const char *node, const char *user_id)
{
    struct session *s = user_id ? session_find_user(v, user_id) : NULL;
    return s && strcmp(s->node, node) == 0 ? s : NULL;
}

static void drop_remote(struct venue *v, struct session *s)
{
    room_exit(v, s);
    session_free(v, s);
}

/*
 * Whether node's claim u on s, this node's own session of the same person,
 * wins: always over a session that is not connected here (it went on
 * elsewhere, or is an orphan of a dead node); over a connected one only if
 * u is connected too, and later (a second tab: the newest holds it; ties
 * go to the larger node id, so that both nodes agree).
 */
static bool claim_wins(const struct venue *v, const char *node, const struct session *s,
                       const struct remote_user *u)
{
    long long ours = s->connected_ms + v->wall_offset;
    if (!s->conn)
        return true;
    return u->live && (u->at > ours || (u->at == ours && strcmp(node, v->mesh.node) > 0));
}

/*
 * node's member u is in room r: made, moved there or brought up to date,
 * and the local members told as for anyone. This node's own session of
 * the same person becomes the mirror if the claim wins (claim_wins), and
 * the claim is ignored if not.
 */
static struct session *upsert(struct venue *v, const char *node, struct room *r,
                              const struct remote_user *u)
{
    struct session *s = session_find_user(v, u->id);
    bool fresh = false, changed;

    if (s && !s->node[0]) {
        if (!claim_wins(v, node, s, u))
            return NULL;
        session_set_node(v, s, node);
    }
    if (!s) {
        if (!(s = session_new(v)))
            return NULL;
        snprintf(s->id, sizeof(s->id), "r-%llx", ++v->mesh.made);
        if (session_set_user(v, s, u->id) < 0) {
            session_free(v, s);
            return NULL;
        }
        s->hello = true;
        fresh = true;
    }
    if (strcmp(s->resume_hash, u->resume) != 0 && session_set_resume_hash(v, s, u->resume) < 0)
        s->resume_hash[0] = '\0';
    snprintf(s->node, sizeof(s->node), "%s", node);
    changed = fresh || strcmp(s->name, u->name) != 0 || s->role != u->role ||
              s->status != u->status || s->hand != u->hand || (s->muted_until != 0) != u->muted;
    snprintf(s->name, sizeof(s->name), "%s", u->name);
    s->role = u->role;
    s->status = u->status;
    s->hand = u->hand;
    s->hand_at = u->hand_at;
    s->muted_until = u->muted ? MUTED_FOREVER : 0;
    memcpy(s->p, u->p, sizeof(s->p));
    memcpy(s->q, u->q, sizeof(s->q));
    s->mesh_seen = true;
    if (s->room != r) {
        room_exit(v, s);
        if (room_add_member(r, s) < 0) {
            drop_remote(v, s);
            return NULL;
        }
        s->granted = prog_grant(v, r, s->user_id);
        room_stage_update(r, s);
        s->moved = false;
        s->moved_tick = v->tick;
        room_presence(v, s, "join");
    } else {
        room_pose_changed(s);
        s->moved = true;
        if (changed)
            room_presence_all(v, s, "update");
    }
    return s;
}

static void apply_presence(struct venue *v, const char *node, const json_t *ev)
{
    struct room *r = room_find(v, json_string_value(json_object_get(ev, "r")));
    const char *e = json_string_value(json_object_get(ev, "e"));
    struct remote_user u;
    struct session *s;

    if (!r || !e || !read_user(json_object_get(ev, "u"), &u))
        return;
    if (strcmp(e, "leave") == 0) {
        if ((s = remote_of(v, node, u.id)) && s->room == r)
            drop_remote(v, s);
    } else if (strcmp(e, "join") == 0 || strcmp(e, "update") == 0) {
        upsert(v, node, r, &u);
    }
}

/* A positive integer field of ev, or 0. */
static long long positive(const json_t *ev, const char *key)
{
    const json_t *n = json_object_get(ev, key);
    return json_is_integer(n) && json_integer_value(n) > 0 ? (long long)json_integer_value(n) : 0;
}

static void apply_chat(struct venue *v, const char *node, const json_t *ev)
{
    struct session *s = remote_of(v, node, json_string_value(json_object_get(ev, "u")));
    const char *text = json_string_value(json_object_get(ev, "x"));
    long long id = positive(ev, "i"), ts = positive(ev, "ts");
    if (s && s->room && id && ts && text && text[0] && strlen(text) <= PROTO_TEXT_MAX * 4)
        chat_heard(v, s, id, ts, text);
}

static void apply_chat_deleted(struct venue *v, const json_t *ev)
{
    struct room *r = room_find(v, json_string_value(json_object_get(ev, "r")));
    long long id = positive(ev, "i");
    if (r && id)
        chat_forget(v, r, id);
}

static void apply_movers(struct venue *v, const char *node, const json_t *ev)
{
    struct room *r = room_find(v, json_string_value(json_object_get(ev, "r")));
    const json_t *list = json_object_get(ev, "e"), *entry;
    size_t i;

    if (!r || !json_is_array(list))
        return;
    json_array_foreach(list, i, entry)
    {
        struct session *s = remote_of(v, node, json_string_value(json_array_get(entry, 0)));
        float pq[7];
        if (!s || s->room != r || json_array_size(entry) != 8 || !floats_at(entry, 1, pq, 7))
            continue;
        memcpy(s->p, pq, sizeof(s->p));
        memcpy(s->q, pq + 3, sizeof(s->q));
        s->moved = true;
        s->pose_ms = v->now;
    }
}

/* A moderator elsewhere acted on one of this node's people. */
static void apply_act(struct venue *v, const json_t *ev)
{
    const char *to = json_string_value(json_object_get(ev, "to"));
    const char *user = json_string_value(json_object_get(ev, "u"));
    const char *action = json_string_value(json_object_get(ev, "a"));
    const char *room = json_string_value(json_object_get(ev, "r"));
    const char *why = json_string_value(json_object_get(ev, "why"));
    const char *by = json_string_value(json_object_get(ev, "by"));
    const json_t *until = json_object_get(ev, "until");

    if (!to || strcmp(to, v->mesh.node) != 0 || !id_ok(user) || !action || !why || !by ||
        !json_is_integer(until) || strlen(why) > PROTO_TEXT_MAX * 4)
        return;
    mod_enforce(v, user, action, room, (long long)json_integer_value(until), why, by);
}

/* node's whole state: whom it names is there, as said; whom it does not
 * is gone. */
static void apply_state(struct venue *v, const char *node, const json_t *ev)
{
    const json_t *list = json_object_get(ev, "m"), *m;
    size_t i;

    if (!json_is_array(list))
        return;
    for (size_t k = 0; k < v->nsessions; k++)
        v->sessions[k]->mesh_seen = false;
    json_array_foreach(list, i, m)
    {
        struct room *r = room_find(v, json_string_value(json_object_get(m, "r")));
        struct remote_user u;
        if (r && read_user(json_object_get(m, "u"), &u))
            upsert(v, node, r, &u);
    }
    for (size_t k = v->nsessions; k-- > 0;) {
        struct session *s = v->sessions[k];
        if (strcmp(s->node, node) == 0 && !s->mesh_seen)
            drop_remote(v, s);
    }
}

int mesh_apply(struct venue *v, const char *data, size_t len)
{
    json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL), *ev;
    const char *node = json_string_value(json_object_get(doc, "n"));
    const json_t *events = json_object_get(doc, "ev");
    size_t i;

    if (!node_ok(node) || !json_is_array(events)) {
        json_decref(doc);
        return -1;
    }
    if (strcmp(node, v->mesh.node) == 0) {
        json_decref(doc);
        return 0; /* this node's own, back from the channel */
    }
    json_array_foreach(events, i, ev)
    {
        const char *t = json_string_value(json_object_get(ev, "t"));
        if (!t)
            continue;
        if (strcmp(t, "p") == 0)
            apply_presence(v, node, ev);
        else if (strcmp(t, "c") == 0)
            apply_chat(v, node, ev);
        else if (strcmp(t, "cd") == 0)
            apply_chat_deleted(v, ev);
        else if (strcmp(t, "m") == 0)
            apply_movers(v, node, ev);
        else if (strcmp(t, "state") == 0)
            apply_state(v, node, ev);
        else if (strcmp(t, "act") == 0)
            apply_act(v, ev);
        else if (strcmp(t, "ask") == 0)
            v->mesh.state_due = true;
    }
    json_decref(doc);
    return 0;
}

void mesh_node_gone(struct venue *v, const char *node)
{
    for (size_t k = v->nsessions; k-- > 0;) {
        struct session *s = v->sessions[k];
        if (!s->node[0] || (node && strcmp(s->node, node) != 0))
            continue;
        if (node)
            session_set_node(v, s, ""); /* an orphan: resumable here, or gone after the grace */
        else
            drop_remote(v, s);
    }
}

void mesh_resumed(struct venue *v, struct session *s)
{
    mesh_presence(v, s, "join");
}
