/*
 * dm.c - direct messages, blocks and reports.
 *
 * A refusal never tells the sender that it was blocked: "does not take
 * direct messages" covers both a recipient's setting and its block, so a
 * block cannot be probed for.
 */
#include "dm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "find.h"
#include "moderation.h"
#include "venue_int.h"

#define REPORT_GAP_MS 10000 /* one report every this long per person */

static struct dm_state *state_of(struct session *s)
{
    if (!s->dm)
        s->dm = calloc(1, sizeof(*s->dm));
    return s->dm;
}

static bool blocks(const struct session *s, const char *user_id)
{
    for (size_t i = 0; s->dm && i < s->dm->nblocked; i++)
        if (strcmp(s->dm->blocked[i], user_id) == 0)
            return true;
    return false;
}

/* Keep what t got from s, for a report. */
static void keep(struct session *t, const struct session *s, const char *text, long long ts_ms)
{
    struct dm_state *d = state_of(t);
    if (!d)
        return;
    snprintf(d->got[d->got_next].from, sizeof(d->got[0].from), "%s", s->user_id);
    snprintf(d->got[d->got_next].text, sizeof(d->got[0].text), "%s", text);
    d->got[d->got_next].ts_ms = ts_ms;
    d->got_next = (d->got_next + 1) % DM_KEPT;
    if (d->got_n < DM_KEPT)
        d->got_n++;
}

void dm_send(struct venue *v, struct session *s, const struct proto_msg *m)
{
    struct session *t;
    struct proto_dm d;
    char why[PROTO_NAME_MAX * 4 + 128];

    if (!s->registered) {
        session_send_error(v, s, "forbidden", "dm: direct messages are for registered participants",
                           &m->id);
        return;
    }
    if (s->muted_until) {
        session_send_error(v, s, "forbidden", "dm: you are muted", &m->id);
        return;
    }
    if (!session_accepts_dms(s)) {
        session_send_error(v, s, "forbidden",
                           "dm: you have turned direct messages off; turn them on to send one",
                           &m->id);
        return;
    }
    if (strcmp(m->u.dm.to, s->user_id) == 0) {
        session_send_error(v, s, "bad_request", "dm.to: that is you", &m->id);
        return;
    }
    t = session_find_user(v, m->u.dm.to);
    if (t && t->node[0]) {
        snprintf(why, sizeof(why),
                 "dm.to: %s is connected to another node of the venue, which direct messages do "
                 "not reach yet",
                 t->name);
        session_send_error(v, s, "unavailable", why, &m->id);
        return;
    }
    if (!t || !t->registered) {
        session_send_error(v, s, "not_found",
                           t ? "dm.to: guests do not take direct messages"
                             : "dm.to: that person is not in the venue now",
                           &m->id);
        return;
    }
    if (!session_accepts_dms(t) || blocks(t, s->user_id)) {
        snprintf(why, sizeof(why), "dm.to: %s does not take direct messages", t->name);
        session_send_error(v, s, "forbidden", why, &m->id);
        return;
    }
    d = (struct proto_dm){.from_id = s->user_id,
                          .from_name = s->name,
                          .to_id = t->user_id,
                          .to_name = t->name,
                          .text = m->u.dm.text,
                          .ts_ms = venue_wall(v)};
    keep(t, s, m->u.dm.text, d.ts_ms);
    proto_buf_reset(&v->enc);
    if (proto_encode_dm(&v->enc, &d, NULL) == 0)
        session_send_enc(v, t, MOUT_DM);
    proto_buf_reset(&v->enc);
    if (proto_encode_dm(&v->enc, &d, &m->id) == 0)
        session_send_enc(v, s, MOUT_DM);
}

static void send_blocks(struct venue *v, struct session *s, const struct proto_id *re)
{
    const char *ids[DM_BLOCKS_MAX];
    size_t n = s->dm ? s->dm->nblocked : 0;
    for (size_t i = 0; i < n; i++)
        ids[i] = s->dm->blocked[i];
    proto_buf_reset(&v->enc);
    if (proto_encode_blocks(&v->enc, ids, n, re) == 0)
        session_send_enc(v, s, MOUT_DM);
}

void dm_block(struct venue *v, struct session *s, const struct proto_msg *m)
{
    const char *who = m->u.about.user;
    bool on = m->u.about.on, has = blocks(s, who);
    struct dm_state *d;

    if (strcmp(who, s->user_id) == 0) {
        session_send_error(v, s, "bad_request", "block.user: that is you", &m->id);
        return;
    }
    if (on && !has && s->dm && s->dm->nblocked == DM_BLOCKS_MAX) {
        session_send_error(v, s, "bad_request", "block.user: you block 256 people already", &m->id);
        return;
    }
    if (on != has) {
        if (!(d = state_of(s))) {
            session_send_error(v, s, "unavailable", "block: out of memory", &m->id);
            return;
        }
        /* The registry first: a block that a restart would forget is not made. */
        if (s->registered && v->reg &&
            registry_block_set(v->reg, s->user_id, who, on, venue_wall(v)) < 0) {
            fprintf(stderr, "venued: blocks: %s\n", registry_error(v->reg));
            session_send_error(v, s, "unavailable", "block: not kept; try again later", &m->id);
            return;
        }
        if (on) {
            snprintf(d->blocked[d->nblocked++], sizeof(d->blocked[0]), "%s", who);
        } else {
            for (size_t i = 0; i < d->nblocked; i++)
                if (strcmp(d->blocked[i], who) == 0)
                    memmove(d->blocked[i], d->blocked[--d->nblocked], sizeof(d->blocked[0]));
        }
    }
    send_blocks(v, s, &m->id);
}

void dm_report(struct venue *v, struct session *s, const struct proto_msg *m)
{
    const char *who = m->u.about.user;
    struct session *t = session_find_user(v, who);
    struct reg_user u;
    struct proto_report r;
    struct dm_state *d = state_of(s);
    struct frame *f;
    int moderators = 0;

    if (!d) {
        session_send_error(v, s, "unavailable", "report: out of memory", &m->id);
        return;
    }
    if (strcmp(who, s->user_id) == 0) {
        session_send_error(v, s, "bad_request", "report.user: that is you", &m->id);
        return;
    }
    if (!t && !(v->reg && registry_user_get(v->reg, who, &u) == 1)) {
        session_send_error(v, s, "not_found", "report.user: no such person", &m->id);
        return;
    }
    if (d->last_report_ms && v->now - d->last_report_ms < REPORT_GAP_MS) {
        session_send_error(v, s, "rate_limited",
                           "report: one report every 10 seconds; the moderators have the last one",
                           &m->id);
        return;
    }
    d->last_report_ms = v->now;
    r = (struct proto_report){.from_id = s->user_id,
                              .from_name = s->name,
                              .about_id = who,
                              .about_name = t ? t->name : u.name,
                              .room = t && t->room ? t->room->id : NULL,
                              .reason = m->u.about.reason,
                              .ts_ms = venue_wall(v)};
    for (size_t i = 0; i < d->got_n; i++) {
        size_t at = (d->got_next + DM_KEPT - d->got_n + i) % DM_KEPT;
        if (strcmp(d->got[at].from, who) != 0)
            continue;
        r.messages[r.nmessages].text = d->got[at].text;
        r.messages[r.nmessages++].ts_ms = d->got[at].ts_ms;
    }
    mod_audit(v, s, "report", who, t ? t->room : NULL, m->u.about.reason);
    proto_buf_reset(&v->enc);
    if (proto_encode_report(&v->enc, &r) == 0 &&
        (f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len))) {
        for (size_t i = 0; i < v->nsessions; i++) {
            struct session *mod = v->sessions[i];
            if (mod->hello && !mod->dead && mod->role >= ROLE_MODERATOR && mod != s) {
                session_enqueue(v, mod, f, MOUT_DM);
                moderators++;
            }
        }
        frame_unref(f);
    }
    proto_buf_reset(&v->enc);
    if (proto_encode_reported(&v->enc, who, moderators, &m->id) == 0)
        session_send_enc(v, s, MOUT_DM);
}

static void load_block(void *arg, const char *blocked_id)
{
    struct session *s = arg;
    struct dm_state *d = state_of(s);
    if (d && d->nblocked < DM_BLOCKS_MAX)
        snprintf(d->blocked[d->nblocked++], sizeof(d->blocked[0]), "%s", blocked_id);
}

void dm_welcome(struct venue *v, struct session *s)
{
    if (s->registered && v->reg && !s->dm_loaded) {
        if (s->dm)
            s->dm->nblocked = 0;
        if (registry_blocks_each(v->reg, s->user_id, DM_BLOCKS_MAX, load_block, s) < 0)
            fprintf(stderr, "venued: blocks: %s\n", registry_error(v->reg));
        else
            s->dm_loaded = true;
    }
    send_blocks(v, s, NULL);
}
