/*
 * moderation.c - moderators' actions over the WebSocket: who may do what,
 * to whom and where, and the audit record of each.
 *
 * The rules: attendees, speakers and guests may not moderate. Moderators
 * act in the room they are in, on the people in it; admins act anywhere,
 * on anyone, and on the whole venue (room "*"). Nobody acts on someone of
 * the same or a higher role. Bans, mutes, locks and capacities go to the
 * registry first, so they survive a restart. Every action done is audited.
 */
#include "moderation.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "array.h"
#include "mesh.h"
#include "room.h"
#include "session.h"
#include "venue_int.h"

#define AUDIT_DETAIL_MAX 1400 /* a breakout's 16 rooms of 64 bytes, their shares, its length */

/* One action being handled. */
struct act {
    struct venue *v;
    struct session *actor;
    const struct proto_msg *m;
    struct room *room;  /* the room it applies to (NULL when venue_wide) */
    bool venue_wide;    /* room "*": the whole venue */
    struct session *ts; /* the target's session, live or detached, or NULL */
    char tid[REG_ID_MAX];
    char tname[REG_NAME_MAX];
    enum role trole;               /* in force where the target is */
    enum role town;                /* the target's own, registered role */
    char detail[AUDIT_DETAIL_MAX]; /* what was done, in words, for the audit; "" if nothing */
};

__attribute__((format(printf, 3, 4))) static void refuse(struct act *a, const char *code,
                                                         const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    /* va_start is just above: the analyzer's complaint here is a false one. */
    vsnprintf(msg, sizeof(msg), fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    session_send_error(a->v, a->actor, code, msg, &a->m->id);
}

/* A write of a failed: another process held the lock in the moment since
 * the probe (park.h), or the database failed. Nothing was done. */
static void refuse_stored(struct act *a)
{
    if (registry_locked(a->v->reg))
        refuse(a, "busy", "mod: the database is being written by another process; try again");
    else
        refuse(a, "unavailable", "mod: the database failed (%s); nothing changed",
               registry_error(a->v->reg));
}

/* Append to a bounded text (an audit detail): what does not fit is cut. */
__attribute__((format(printf, 4, 5))) static void detail_add(char *buf, size_t size, size_t *len,
                                                             const char *fmt, ...)
{
    va_list ap;
    int n;
    assert(*len < size);
    va_start(ap, fmt);
    n = vsnprintf(buf + *len, size - *len, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

/* Write e, completed with the time and the actor (NULL: the venue itself). */
static void audit_write(struct venue *v, const struct session *actor, struct reg_audit *e)
{
    e->ts_ms = venue_wall(v);
    e->actor_id = actor ? actor->user_id : "system";
    e->actor_name = actor ? actor->name : "venued";
    if (e->reason && !e->reason[0])
        e->reason = NULL;
    if (e->detail && !e->detail[0])
        e->detail = NULL;
    if (v->reg && registry_audit_add(v->reg, e) < 0)
        fprintf(stderr, "venued: audit: %s\n", registry_error(v->reg));
}

void mod_audit(struct venue *v, const struct session *actor, const char *action, const char *target,
               const struct room *room, const char *reason)
{
    struct reg_audit e = {
        .action = action, .target_id = target, .room = room ? room->id : NULL, .reason = reason};
    audit_write(v, actor, &e);
}

/* The action was done: record it and tell the actor. */
static void done(struct act *a)
{
    const struct proto_msg *m = a->m;
    /* An announcement's record is its text; a session's start or end, its id.
     * The target is kept by name too: a guest's id alone says nothing later. */
    struct reg_audit e = {
        .action = proto_mod_action_name(m->u.mod.action),
        .target_id = a->tid[0] ? a->tid : NULL,
        .target_name = a->tid[0] ? a->tname : NULL,
        .room = a->room ? a->room->id : NULL,
        .reason = m->u.mod.action == PROTO_MOD_ANNOUNCE ? m->u.mod.text
                  : m->u.mod.session[0]                 ? m->u.mod.session
                                                        : m->u.mod.reason,
        .detail = a->detail,
    };
    audit_write(a->v, a->actor, &e);
    proto_buf_reset(&a->v->enc);
    if (proto_encode_mod_ok(&a->v->enc, m->u.mod.action, &m->id) == 0)
        session_send_enc(a->v, a->actor, MOUT_MOD_OK);
}

/* The room the action applies to: the one named, or the actor's. */
static bool resolve_room(struct act *a)
{
    const char *want = a->m->u.mod.room;
    bool admin = session_role(a->actor) >= ROLE_ADMIN;

    if (strcmp(want, "*") == 0) {
        if (!admin) {
            refuse(a, "forbidden", "mod.room: only admins act on the whole venue");
            return false;
        }
        a->venue_wide = true;
        return true;
    }
    if (want[0]) {
        a->room = room_find(a->v, want);
        if (!a->room) {
            refuse(a, "not_found", "mod.room: no room \"%s\"", want);
            return false;
        }
        if (!admin && a->room != a->actor->room) {
            refuse(a, "forbidden", "mod.room: moderators act in the room they are in");
            return false;
        }
        return true;
    }
    if (!a->actor->room) {
        refuse(a, "not_in_room", "mod.room: join a room or name one");
        return false;
    }
    a->room = a->actor->room;
    return true;
}

/* The action needs one room, not the whole venue. */
static bool one_room(struct act *a)
{
    if (!resolve_room(a))
        return false;
    if (a->venue_wide) {
        refuse(a, "bad_request", "mod.room: %s applies to one room",
               proto_mod_action_name(a->m->u.mod.action));
        return false;
    }
    return true;
}

/* Who the action is for, and whether the actor may act on them. */
/* What a node carries out for another (mod_enforce). */
static bool reaches_nodes(enum proto_mod_action action)
{
    return action == PROTO_MOD_KICK || action == PROTO_MOD_BAN || action == PROTO_MOD_UNBAN ||
           action == PROTO_MOD_MUTE || action == PROTO_MOD_UNMUTE;
}

static bool resolve_target(struct act *a, const char *id)
{
    struct reg_user u;

    a->ts = session_find_user(a->v, id);
    if (a->ts) {
        snprintf(a->tid, sizeof(a->tid), "%s", a->ts->user_id);
        snprintf(a->tname, sizeof(a->tname), "%s", a->ts->name);
        a->trole = session_role(a->ts);
        a->town = a->ts->role;
    } else if (a->v->reg && registry_user_get(a->v->reg, id, &u) == 1) {
        snprintf(a->tid, sizeof(a->tid), "%s", u.id);
        snprintf(a->tname, sizeof(a->tname), "%s", u.name);
        a->trole = a->town = u.role;
    } else {
        refuse(a, "not_found", "mod.target: no participant \"%s\"", id);
        return false;
    }
    if (session_role(a->actor) < ROLE_ADMIN &&
        (!a->ts || !a->ts->room || a->ts->room != a->actor->room)) {
        refuse(a, "forbidden", "mod.target: moderators act on people in their room");
        return false;
    }
    if (a->trole >= session_role(a->actor)) {
        refuse(a, "forbidden", "mod.target: cannot act on a %s", role_name(a->trole));
        return false;
    }
    if (a->ts && a->ts->node[0] && !reaches_nodes(a->m->u.mod.action)) {
        refuse(a, "unavailable",
               "mod.target: %s is connected to another node of the venue, which only kick, "
               "ban and mute reach yet",
               a->tname);
        return false;
    }
    return true;
}

static bool need_registry(struct act *a)
{
    if (a->v->reg)
        return true;
    refuse(a, "bad_request", "mod: this venue keeps no registry");
    return false;
}

static long long until_of(const struct act *a)
{
    return a->m->u.mod.minutes ? venue_wall(a->v) + a->m->u.mod.minutes * 60000LL : 0;
}

/* Remove t from the venue: it hears why, its room sees it leave, its
 * connection closes with 4003 and it cannot resume. */
static void remove_from_venue(struct venue *v, struct session *t, const char *reason)
{
    struct frame *f = NULL;
    if (t->room)
        room_exit(v, t);
    proto_buf_reset(&v->enc);
    if (proto_encode_kicked(&v->enc, reason, NULL) == 0)
        f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len);
    v->m.out_by_type[MOUT_KICKED] += f != NULL;
    session_close(v, t, VENUE_CLOSE_REMOVED, "removed by a moderator", f);
    frame_unref(f);
    t->dead = true;
}

/* A guest has no registration to ban: remember its browser, address and
 * name for --kick-minutes so that it cannot walk straight back in. */
static void remember_kick(struct venue *v, const struct session *t)
{
    struct kick_memo *k;
    if (t->role != ROLE_GUEST || v->cfg.kick_minutes <= 0)
        return;
    k = &v->kicks[v->kicks_next];
    v->kicks_next = (v->kicks_next + 1) % VENUE_KICKS_MAX;
    snprintf(k->browser, sizeof(k->browser), "%s", t->browser);
    snprintf(k->addr, sizeof(k->addr), "%s", t->addr);
    snprintf(k->name, sizeof(k->name), "%s", t->name);
    k->until = venue_wall(v) + v->cfg.kick_minutes * 60000LL;
}

int mod_kicked_minutes(const struct venue *v, const char *name, const char *browser,
                       const char *addr)
{
    long long now = venue_wall(v), left = 0;
    for (size_t i = 0; i < VENUE_KICKS_MAX; i++) {
        const struct kick_memo *k = &v->kicks[i];
        bool same;
        if (k->until <= now)
            continue;
        same = (browser[0] && strcmp(k->browser, browser) == 0) ||
               (addr[0] && strcmp(k->addr, addr) == 0 && strcasecmp(k->name, name) == 0);
        if (same && k->until - now > left)
            left = k->until - now;
    }
    return left ? (int)((left + 59999) / 60000) : 0;
}

/*
 * What a kick, ban or mute does to the person's session, here or on the
 * node that holds it (mod_enforce): t may be NULL (not connected), room
 * is the ban's (NULL: the venue), until the mute's end (0: no end).
 */
static void enforce(struct venue *v, struct session *t, enum proto_mod_action action,
                    const struct room *room, long long until, const char *reason)
{
    if (!t)
        return;
    switch (action) {
    case PROTO_MOD_KICK:
        remember_kick(v, t);
        remove_from_venue(v, t, reason);
        break;
    case PROTO_MOD_BAN:
        if (!room) {
            remove_from_venue(v, t, reason);
        } else if (t->room == room) {
            room_exit(v, t);
            proto_buf_reset(&v->enc);
            if (proto_encode_kicked(&v->enc, reason, room->id) == 0)
                session_send_enc(v, t, MOUT_KICKED);
        }
        break;
    case PROTO_MOD_MUTE:
    case PROTO_MOD_UNMUTE:
        t->muted_until = action == PROTO_MOD_MUTE ? (until ? until : MUTED_FOREVER) : 0;
        if (t->room)
            room_presence_all(v, t, "update");
        break;
    default:
        break;
    }
}

/*
 * The target is connected to another node: that node enforces it on its
 * own session (and keeps the sanction in its own registry), and what
 * follows (a leave, a mute shown) comes back through the mesh. The audit
 * is written here only.
 */
static bool elsewhere(struct act *a, long long until)
{
    if (!a->ts || !a->ts->node[0])
        return false;
    mesh_act(a->v, a->ts, proto_mod_action_name(a->m->u.mod.action),
             a->venue_wide ? NULL : a->room->id, until, a->m->u.mod.reason, a->actor->user_id);
    return true;
}

static void do_kick(struct act *a)
{
    if (!a->ts) {
        refuse(a, "not_found", "mod.target: \"%s\" is not here", a->tid);
        return;
    }
    if (!elsewhere(a, 0))
        enforce(a->v, a->ts, PROTO_MOD_KICK, NULL, 0, a->m->u.mod.reason);
    a->ts = NULL;
    done(a);
}

static void do_ban(struct act *a, bool ban)
{
    const struct proto_msg *m = a->m;
    const char *room = a->venue_wide ? NULL : a->room->id;

    if (!need_registry(a))
        return;
    if (ban ? registry_sanction_set(a->v->reg, SANCTION_BAN, a->tid, room, until_of(a),
                                    m->u.mod.reason, a->actor->user_id, venue_wall(a->v)) < 0
            : registry_sanction_clear(a->v->reg, SANCTION_BAN, a->tid, room) < 0) {
        refuse_stored(a);
        return;
    }
    if (!elsewhere(a, until_of(a)) && ban)
        enforce(a->v, a->ts, PROTO_MOD_BAN, a->venue_wide ? NULL : a->room, 0, m->u.mod.reason);
    done(a);
}

static void do_mute(struct act *a, bool mute)
{
    long long until = until_of(a);

    if (!need_registry(a))
        return;
    if (mute ? registry_sanction_set(a->v->reg, SANCTION_MUTE, a->tid, NULL, until,
                                     a->m->u.mod.reason, a->actor->user_id, venue_wall(a->v)) < 0
             : registry_sanction_clear(a->v->reg, SANCTION_MUTE, a->tid, NULL) < 0) {
        refuse_stored(a);
        return;
    }
    if (!elsewhere(a, until))
        enforce(a->v, a->ts, mute ? PROTO_MOD_MUTE : PROTO_MOD_UNMUTE, NULL, until, NULL);
    done(a);
}

void mod_enforce(struct venue *v, const char *user_id, const char *action, const char *room_id,
                 long long until, const char *reason, const char *by)
{
    struct session *t = session_find_user(v, user_id);
    struct room *room = room_id ? room_find(v, room_id) : NULL;
    enum proto_mod_action act;
    enum sanction kind = SANCTION_BAN;
    bool set = false, clear = false;

    if (proto_mod_action_parse(action, &act) < 0 || (room_id && !room))
        return;
    if (t && t->node[0])
        t = NULL; /* not this node's: the node that holds it does it */
    switch (act) {
    case PROTO_MOD_BAN:
    case PROTO_MOD_UNBAN:
        set = act == PROTO_MOD_BAN;
        clear = !set;
        break;
    case PROTO_MOD_MUTE:
    case PROTO_MOD_UNMUTE:
        kind = SANCTION_MUTE;
        set = act == PROTO_MOD_MUTE;
        clear = !set;
        break;
    case PROTO_MOD_KICK:
        break;
    default:
        return;
    }
    /* This node's registry refuses the next join too (its own, until the
     * nodes share one): a failure to keep it is said, the rest still done. */
    if (v->reg && ((set && registry_sanction_set(v->reg, kind, user_id, room_id, until, reason, by,
                                                 venue_wall(v)) < 0) ||
                   (clear && registry_sanction_clear(v->reg, kind, user_id, room_id) < 0)))
        fprintf(stderr, "venued: registry: %s\n", registry_error(v->reg));
    if (act != PROTO_MOD_UNBAN)
        enforce(v, t, act, room, until, reason);
}

/* Lock, unlock or resize a room, or lock its microphones: kept in the
 * registry, told to the room. */
static bool do_room_setting(struct act *a)
{
    enum proto_mod_action act = a->m->u.mod.action;
    struct room *r = a->room;
    struct reg_room rs = {
        .locked = r->locked, .capacity = r->capacity, .mics_locked = r->mics_locked};

    if (act == PROTO_MOD_CAPACITY)
        rs.capacity = a->m->u.mod.capacity;
    else if (act == PROTO_MOD_LOCK_MICS || act == PROTO_MOD_UNLOCK_MICS)
        rs.mics_locked = act == PROTO_MOD_LOCK_MICS;
    else
        rs.locked = act == PROTO_MOD_LOCK || act == PROTO_MOD_CLOSE_ROOM;
    if (a->v->reg && registry_room_set(a->v->reg, r->id, &rs) < 0) {
        refuse_stored(a);
        return false;
    }
    r->locked = rs.locked;
    r->capacity = rs.capacity;
    r->mics_locked = rs.mics_locked;
    room_state_changed(a->v, r);
    return true;
}

static void do_move(struct act *a)
{
    struct room *to = room_find(a->v, a->m->u.mod.room);
    if (!a->ts) {
        refuse(a, "not_found", "mod.target: \"%s\" is not here", a->tid);
        return;
    }
    if (!to) {
        refuse(a, "not_found", "mod.room: no room \"%s\"", a->m->u.mod.room);
        return;
    }
    if (to == a->ts->room) {
        refuse(a, "bad_request", "mod.room: \"%s\" is already there", a->tname);
        return;
    }
    if (room_free_places(to, ROLE_ADMIN) <= 0) {
        refuse(a, "room_full", "mod.room: \"%s\" is full", to->id);
        return;
    }
    room_enter(a->v, a->ts, to, NULL, ROOM_ENTER_MOVED, NULL);
    a->room = to;
    done(a);
}

static void do_role(struct act *a, bool promote)
{
    enum role to = promote ? ROLE_SPEAKER : ROLE_ATTENDEE;
    /* Promotion changes the person's own role, not what a session gives. */
    if (promote ? a->town >= ROLE_SPEAKER : a->town != ROLE_SPEAKER) {
        refuse(a, "bad_request", "mod.target: \"%s\" is a %s", a->tname, role_name(a->town));
        return;
    }
    if (a->v->reg && registry_user_set_role(a->v->reg, a->tid, to) < 0) {
        refuse_stored(a);
        return;
    }
    if (a->ts) {
        a->ts->role = to;
        if (a->ts->room)
            room_presence_all(a->v, a->ts, "update");
    }
    done(a);
}

static void do_announce(struct act *a)
{
    struct venue *v = a->v;
    const struct session *actor = a->actor;
    struct frame *f;

    proto_buf_reset(&v->enc);
    if (proto_encode_announce(&v->enc, actor->user_id, actor->name, a->m->u.mod.text,
                              a->venue_wide ? NULL : a->room->id, venue_wall(v)) < 0 ||
        !(f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len)))
        return;
    if (a->venue_wide) {
        for (size_t i = 0; i < v->nsessions; i++)
            if (v->sessions[i]->hello && !v->sessions[i]->dead)
                session_enqueue(v, v->sessions[i], f, MOUT_ANNOUNCE);
    } else {
        for (size_t i = 0; i < a->room->n; i++)
            session_enqueue(v, a->room->members[i], f, MOUT_ANNOUNCE);
    }
    frame_unref(f);
    done(a);
}

static void lower_hand(struct venue *v, struct session *t)
{
    if (!t->hand)
        return;
    t->hand = false;
    t->hand_at = 0;
    if (t->room)
        room_presence_all(v, t, "update");
}

static void do_lower_all(struct act *a)
{
    for (size_t i = 0; i < a->room->n; i++)
        lower_hand(a->v, a->room->members[i]);
    done(a);
}

/* Move everyone in from to to; all or nobody. */
static bool move_all(struct venue *v, struct room *from, struct room *to)
{
    if (room_capacity(to) - (int)to->n < (int)from->n)
        return false;
    while (from->n)
        room_enter(v, from->members[from->n - 1], to, NULL, ROOM_ENTER_MOVED, NULL);
    return true;
}

static void do_close_room(struct act *a)
{
    struct room *lobby = room_find(a->v, "lobby");
    if (!lobby || lobby == a->room) {
        refuse(a, "bad_request", "mod.room: the lobby cannot be closed");
        return;
    }
    if (!move_all(a->v, a->room, lobby)) {
        refuse(a, "room_full", "mod.room: the lobby has no room for everyone");
        return;
    }
    if (do_room_setting(a))
        done(a);
}

static struct breakout *breakout_of(struct venue *v, const struct room *from)
{
    for (size_t i = 0; i < v->nbreakouts; i++)
        if (v->breakouts[i].from == from)
            return &v->breakouts[i];
    return NULL;
}

/*
 * Send people from a->room to the breakout rooms, split evenly in turn:
 * the participants named in targets, or everyone the actor outranks. All
 * or nobody: every room must exist and have space for its share.
 */
static void do_breakout(struct act *a)
{
    struct venue *v = a->v;
    const struct proto_msg *m = a->m;
    struct room *from = a->room, *to[PROTO_MOD_ROOMS_MAX];
    struct session **who;
    size_t n = 0, nrooms = m->u.mod.nrooms, most;
    int share[PROTO_MOD_ROOMS_MAX] = {0};
    struct breakout *b;

    if (breakout_of(v, from)) {
        refuse(a, "bad_request", "mod: a breakout from \"%s\" is running; recall it first",
               from->id);
        return;
    }
    for (size_t i = 0; i < nrooms; i++) {
        to[i] = room_find(v, m->u.mod.rooms[i]);
        if (!to[i] || to[i] == from) {
            refuse(a, to[i] ? "bad_request" : "not_found", "mod.rooms[%zu]: %s \"%s\"", i,
                   to[i] ? "cannot be the room itself:" : "no room", m->u.mod.rooms[i]);
            return;
        }
        for (size_t k = 0; k < i; k++)
            if (to[k] == to[i]) {
                refuse(a, "bad_request", "mod.rooms[%zu]: \"%s\" twice", i, to[i]->id);
                return;
            }
    }
    /* Sized by what is written: each named target, or each member. */
    most = m->u.mod.ntargets ? m->u.mod.ntargets : from->n;
    if (array_grow((void **)&v->picked, &v->picked_cap, most, sizeof(*v->picked)) < 0) {
        refuse(a, "bad_request", "mod: out of memory");
        return;
    }
    who = v->picked;
    if (m->u.mod.ntargets) {
        for (size_t i = 0; i < m->u.mod.ntargets; i++) {
            struct session *t = session_find_user(v, m->u.mod.targets[i]);
            if (!t || t->room != from || session_role(t) >= session_role(a->actor)) {
                refuse(a, t && t->room == from ? "forbidden" : "not_found",
                       "mod.targets[%zu]: \"%s\" %s", i, m->u.mod.targets[i],
                       t && t->room == from ? "outranks you" : "is not in this room");
                return;
            }
            assert(n < most);
            who[n++] = t;
        }
    } else {
        for (size_t i = 0; i < from->n; i++)
            if (session_role(from->members[i]) < session_role(a->actor))
                who[n++] = from->members[i];
        assert(n <= most);
    }
    if (n == 0) {
        refuse(a, "bad_request", "mod.targets: nobody to send");
        return;
    }
    assert(nrooms > 0); /* the parser requires rooms for a breakout */
    for (size_t i = 0; i < n; i++)
        share[i % nrooms]++;
    for (size_t i = 0; i < nrooms; i++)
        if (room_capacity(to[i]) - (int)to[i]->n < share[i]) {
            refuse(a, "room_full", "mod.rooms[%zu]: \"%s\" has no room for %d more", i, to[i]->id,
                   share[i]);
            return;
        }
    if (array_grow((void **)&v->breakouts, &v->breakouts_cap, v->nbreakouts + 1,
                   sizeof(*v->breakouts)) < 0)
        return;
    b = &v->breakouts[v->nbreakouts++];
    memset(b, 0, sizeof(*b));
    b->from = from;
    memcpy(b->to, to, nrooms * sizeof(*to));
    b->nto = nrooms;
    b->started_ms = v->now;
    b->ends_ms = v->now + m->u.mod.minutes * 60000LL;
    b->minutes = (int)m->u.mod.minutes;
    b->view_ms = v->now - MOD_VIEW_MS; /* the first view goes at the next tick */
    snprintf(b->actor_id, sizeof(b->actor_id), "%s", a->actor->user_id);
    snprintf(b->actor_name, sizeof(b->actor_name), "%s", a->actor->name);
    for (size_t i = 0; i < n; i++) {
        struct session *t = who[i];
        struct room *dest = to[i % nrooms];
        proto_buf_reset(&v->enc);
        if (proto_encode_breakout(&v->enc, dest->id, from->id,
                                  venue_wall(v) + m->u.mod.minutes * 60000LL) == 0)
            session_send_enc(v, t, MOUT_BREAKOUT);
        room_enter(v, t, dest, NULL, ROOM_ENTER_MOVED, NULL);
        t->breakout_from = from;
    }
    {
        size_t len = 0;
        detail_add(a->detail, sizeof(a->detail), &len, "%zu %s to ", n,
                   n == 1 ? "person" : "people");
        for (size_t i = 0; i < nrooms; i++)
            detail_add(a->detail, sizeof(a->detail), &len, "%s%s (%d)", i ? ", " : "", to[i]->id,
                       share[i]);
        detail_add(a->detail, sizeof(a->detail), &len, " for %d min", b->minutes);
    }
    done(a);
}

/* Queue v->enc for the moderators in b's room and in its breakout rooms. */
static void send_moderators(struct venue *v, const struct breakout *b)
{
    struct frame *f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len);
    if (!f)
        return;
    for (size_t r = 0; r <= b->nto; r++) {
        const struct room *room = r ? b->to[r - 1] : b->from;
        for (size_t i = 0; i < room->n; i++) {
            struct session *s = room->members[i];
            if (s->hello && !s->dead && session_role(s) >= ROLE_MODERATOR)
                session_enqueue(v, s, f, MOUT_BREAKOUT);
        }
    }
    frame_unref(f);
}

/* The rooms' members_gen summed: it changes whenever any of them does. */
static unsigned long breakout_gen(const struct breakout *b)
{
    unsigned long g = b->from->members_gen;
    for (size_t i = 0; i < b->nto; i++)
        g += b->to[i]->members_gen;
    return g;
}

/*
 * Who is in each of b's rooms now, to its moderators: only when a member
 * came or went (the rooms' members_gen), at most once every MOD_VIEW_MS
 * (a crowd's arrival is one view, not one per person), so a breakout of n
 * people costs O(n) per view and nothing while nobody moves.
 */
static void send_view(struct venue *v, struct breakout *b)
{
    struct proto_breakout_room rooms[PROTO_MOD_ROOMS_MAX];
    struct proto_person by = {b->actor_id, b->actor_name};
    size_t want = 0, used = 0;

    if (breakout_gen(b) == b->seen_gen || v->now - b->view_ms < MOD_VIEW_MS)
        return;
    b->seen_gen = breakout_gen(b);
    b->view_ms = v->now;
    for (size_t i = 0; i < b->nto; i++)
        want += b->to[i]->n < PROTO_VIEW_PEOPLE_MAX ? b->to[i]->n : PROTO_VIEW_PEOPLE_MAX;
    if (array_grow((void **)&v->view_people, &v->view_people_cap, want ? want : 1,
                   sizeof(*v->view_people)) < 0) {
        fprintf(stderr, "venued: breakout view: out of memory\n");
        return;
    }
    for (size_t i = 0; i < b->nto; i++) {
        const struct room *r = b->to[i];
        size_t n = r->n < PROTO_VIEW_PEOPLE_MAX ? r->n : PROTO_VIEW_PEOPLE_MAX;
        rooms[i] = (struct proto_breakout_room){r->id, v->view_people + used, n, r->n};
        for (size_t k = 0; k < n; k++) {
            assert(used < want);
            v->view_people[used++] =
                (struct proto_person){r->members[k]->user_id, r->members[k]->name};
        }
    }
    proto_buf_reset(&v->enc);
    if (proto_encode_breakout_view(&v->enc, b->from->id, &by, venue_wall(v) + (b->ends_ms - v->now),
                                   b->minutes, rooms, b->nto) == 0)
        send_moderators(v, b);
}

/* Bring a breakout's people back to its room, together: all or nobody.
 * detail (NULL: not wanted) gets who came back after how long. */
static bool recall(struct venue *v, struct breakout *b, char *detail, size_t size)
{
    struct room *from = b->from;
    int back = 0;

    for (size_t i = 0; i < v->nsessions; i++)
        back += v->sessions[i]->breakout_from == from && v->sessions[i]->room != from;
    if (room_capacity(from) - (int)from->n < back)
        return false;
    for (size_t i = 0; i < v->nsessions; i++) {
        struct session *t = v->sessions[i];
        if (t->breakout_from != from)
            continue;
        t->breakout_from = NULL;
        if (t->room != from && !t->dead)
            room_enter(v, t, from, NULL, ROOM_ENTER_MOVED, NULL);
    }
    if (detail) {
        size_t len = 0;
        detail_add(detail, size, &len, "%d %s back after %lld of %d min", back,
                   back == 1 ? "person" : "people", (v->now - b->started_ms + 30000) / 60000,
                   b->minutes);
    }
    proto_buf_reset(&v->enc);
    if (proto_encode_breakout_view_end(&v->enc, from->id) == 0)
        send_moderators(v, b);
    *b = v->breakouts[--v->nbreakouts];
    return true;
}

static void do_recall(struct act *a)
{
    struct room *from = a->m->u.mod.room[0] ? room_find(a->v, a->m->u.mod.room) : a->actor->room;
    struct breakout *b = from ? breakout_of(a->v, from) : NULL;

    if (!b) {
        refuse(a, "not_found", "mod.room: no breakout from this room is running");
        return;
    }
    /* Whoever started it may call it back from a breakout room. */
    if (strcmp(b->actor_id, a->actor->user_id) != 0 && !resolve_room(a))
        return;
    a->room = from;
    if (!recall(a->v, b, a->detail, sizeof(a->detail))) {
        refuse(a, "room_full", "mod: \"%s\" has no room for everyone to come back", from->id);
        return;
    }
    done(a);
}

void mod_tick(struct venue *v)
{
    for (size_t i = v->nbreakouts; i-- > 0;) {
        struct breakout *b = &v->breakouts[i];
        struct room *from = b->from;
        char detail[AUDIT_DETAIL_MAX];
        if (v->now < b->ends_ms) {
            send_view(v, b);
            continue;
        }
        if (recall(v, b, detail, sizeof(detail))) {
            struct reg_audit e = {.action = "recall",
                                  .room = from->id,
                                  .reason = "the breakout's time is up",
                                  .detail = detail};
            audit_write(v, NULL, &e);
        } else {
            fprintf(stderr, "venued: breakout from %s: no room to come back; retrying\n", from->id);
            b->ends_ms = v->now + 5000;
        }
    }
}

void mod_resumed(struct venue *v, const struct session *s)
{
    if (!s->room || session_role(s) < ROLE_MODERATOR)
        return;
    for (size_t i = 0; i < v->nbreakouts; i++) {
        struct breakout *b = &v->breakouts[i];
        bool in = b->from == s->room;
        for (size_t k = 0; k < b->nto && !in; k++)
            in = b->to[k] == s->room;
        if (in)
            b->seen_gen = breakout_gen(b) - 1; /* unlike any sum: sent again */
    }
}

/* start_session, end_session: the session's moderators may, wherever they
 * are and before it is live; so may a moderator in its room, and admins. */
static void do_session(struct act *a, bool start)
{
    struct prog_live *L = prog_find(a->v, a->m->u.mod.session);
    char err[160];
    if (!L) {
        refuse(a, "not_found", "mod.session: no session \"%s\"", a->m->u.mod.session);
        return;
    }
    if (!prog_is(L, PROG_MODERATOR, a->actor->user_id) && session_role(a->actor) < ROLE_ADMIN &&
        !(L->room && a->actor->room == L->room && session_role(a->actor) >= ROLE_MODERATOR)) {
        refuse(a, "forbidden", "mod.session: only its moderators, a moderator in %s, or an admin",
               L->s.room);
        return;
    }
    a->room = L->room;
    if ((start ? prog_start : prog_end)(a->v, L, err, sizeof(err)) < 0) {
        refuse(a, "bad_request", "%s", err);
        return;
    }
    done(a);
}

/* give_floor, take_floor, answer: in the room's live session. */
static void do_stage(struct act *a)
{
    const struct proto_msg *m = a->m;
    struct prog_live *L;
    char err[160];
    int rc;

    if (!one_room(a))
        return;
    L = a->room->live;
    if (!L) {
        refuse(a, "bad_request", "mod.room: no session is live in %s", a->room->id);
        return;
    }
    switch (m->u.mod.action) {
    case PROTO_MOD_GIVE_FLOOR:
        if (!resolve_target(a, m->u.mod.target))
            return;
        if (!a->ts) {
            refuse(a, "not_found", "mod.target: \"%s\" is not here", a->tname);
            return;
        }
        rc = prog_floor(a->v, L, a->ts, m->u.mod.seconds ? m->u.mod.seconds : PROTO_FLOOR_DEFAULT_S,
                        err, sizeof(err));
        break;
    case PROTO_MOD_TAKE_FLOOR:
        rc = prog_floor(a->v, L, NULL, 0, err, sizeof(err));
        break;
    default:
        rc = prog_answer(a->v, L, m->u.mod.question, err, sizeof(err));
        break;
    }
    if (rc < 0)
        refuse(a, "bad_request", "%s", err);
    else
        done(a);
}

/* The line's author becomes the action's target, for the audit log. */
static void do_delete_chat(struct act *a)
{
    char err[256];
    long long id = a->m->u.mod.message;
    int rc = chat_delete(a->v, a->room, id, a->tid, err, sizeof(err));
    if (rc < 0)
        refuse(a, "unavailable", "mod.message: %s", err);
    else if (rc == 0)
        refuse(a, "not_found", "mod.message: %s keeps no chat line %lld", a->room->id, id);
    else
        done(a);
}

void mod_handle(struct venue *v, struct session *actor, const struct proto_msg *m)
{
    struct act a = {.v = v, .actor = actor, .m = m};
    enum proto_mod_action act = m->u.mod.action;

    if (act == PROTO_MOD_START_SESSION || act == PROTO_MOD_END_SESSION) {
        do_session(&a, act == PROTO_MOD_START_SESSION);
        return;
    }
    if (session_role(actor) < ROLE_MODERATOR) {
        refuse(&a, "forbidden", "mod: only moderators and admins moderate");
        return;
    }
    switch (act) {
    case PROTO_MOD_LOCK:
    case PROTO_MOD_UNLOCK:
    case PROTO_MOD_CAPACITY:
    case PROTO_MOD_LOCK_MICS:
    case PROTO_MOD_UNLOCK_MICS:
        if (one_room(&a) && do_room_setting(&a))
            done(&a);
        return;
    case PROTO_MOD_ANNOUNCE:
        if (resolve_room(&a))
            do_announce(&a);
        return;
    case PROTO_MOD_LOWER_ALL_HANDS:
        if (one_room(&a))
            do_lower_all(&a);
        return;
    case PROTO_MOD_CLOSE_ROOM:
        if (one_room(&a))
            do_close_room(&a);
        return;
    case PROTO_MOD_BREAKOUT:
        if (one_room(&a))
            do_breakout(&a);
        return;
    case PROTO_MOD_RECALL:
        do_recall(&a);
        return;
    case PROTO_MOD_DELETE_CHAT:
        if (one_room(&a))
            do_delete_chat(&a);
        return;
    case PROTO_MOD_GIVE_FLOOR:
    case PROTO_MOD_TAKE_FLOOR:
    case PROTO_MOD_ANSWER:
        do_stage(&a);
        return;
    case PROTO_MOD_MOVE:
        /* room names where to: the target must be in the actor's room. */
        if (resolve_target(&a, m->u.mod.target))
            do_move(&a);
        return;
    default:
        break;
    }
    /* The rest act on a target, in the room named (bans: or the whole
     * venue) or else the target's. */
    if (!resolve_target(&a, m->u.mod.target))
        return;
    if (m->u.mod.room[0] && !resolve_room(&a))
        return;
    if (a.venue_wide && act != PROTO_MOD_BAN && act != PROTO_MOD_UNBAN)
        a.venue_wide = false;
    if (!a.room && !a.venue_wide)
        a.room = a.ts ? a.ts->room : NULL;
    switch (act) {
    case PROTO_MOD_KICK:
        do_kick(&a);
        break;
    case PROTO_MOD_BAN:
    case PROTO_MOD_UNBAN:
        if (!a.venue_wide && !a.room)
            refuse(&a, "bad_request", "mod.room: name the room, or \"*\" for the venue");
        else
            do_ban(&a, act == PROTO_MOD_BAN);
        break;
    case PROTO_MOD_MUTE:
    case PROTO_MOD_UNMUTE:
        do_mute(&a, act == PROTO_MOD_MUTE);
        break;
    case PROTO_MOD_PROMOTE:
    case PROTO_MOD_DEMOTE:
        do_role(&a, act == PROTO_MOD_PROMOTE);
        break;
    case PROTO_MOD_LOWER_HAND:
        if (a.ts)
            lower_hand(v, a.ts);
        done(&a);
        break;
    default:
        refuse(&a, "bad_request", "mod.action: not handled here");
        break;
    }
}
