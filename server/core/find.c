/*
 * find.c - find a person, arrive beside them, and the privacy settings
 * that decide who may be found (find.h).
 *
 * A find scans every session once (v->nsessions of them) and folds each
 * name of at most PROTO_NAME_MAX code points against a query of at most
 * PROTO_FIND_Q_MAX: O(n * 64 * 64) character steps per request at worst
 * (a few hundred thousand for 2000 people), and the sender's chat bucket
 * (MRATE_CHAT, --chat-rate a second) bounds the requests. Nothing runs per
 * tick.
 */
#include "find.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "room.h"
#include "session.h"
#include "venue_int.h"

/* The code point at s (valid UTF-8), its length in *n. */
static uint32_t decode(const unsigned char *s, size_t *n)
{
    if (s[0] < 0x80) {
        *n = 1;
        return s[0];
    }
    if (s[0] < 0xE0) {
        *n = 2;
        return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    }
    if (s[0] < 0xF0) {
        *n = 3;
        return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    }
    *n = 4;
    return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
           (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

/* The small letter of a capital in the scripts find.h names; c otherwise. */
static uint32_t fold(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c < 0xC0)
        return c;
    if (c <= 0xDE)
        return c == 0xD7 ? c : c + 32; /* Latin-1, not the multiplication sign */
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
        return c | 1; /* Latin Extended-A pairs: capital even, small odd */
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return (c & 1) ? c + 1 : c;
    if (c == 0x178)
        return 0xFF;
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
        return c + 32; /* Greek */
    if (c == 0x3C2)
        return 0x3C3; /* final sigma is sigma */
    if (c == 0x386)
        return 0x3AC;
    if (c >= 0x388 && c <= 0x38A)
        return c + 37;
    if (c == 0x38C)
        return 0x3CC;
    if (c == 0x38E || c == 0x38F)
        return c + 63;
    if (c >= 0x410 && c <= 0x42F)
        return c + 32; /* Cyrillic */
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    return c;
}

/* s folded into out (max code points at most); returns how many. */
static size_t fold_all(const char *s, uint32_t *out, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0, i = 0, len;
    while (u[i] && n < max) {
        out[n++] = fold(decode(u + i, &len));
        i += len;
    }
    return n;
}

/* Whether name, folded, holds b[0..nb) (a folded query). */
static bool holds(const char *name, const uint32_t *b, size_t nb)
{
    uint32_t a[PROTO_NAME_MAX];
    size_t na = fold_all(name, a, PROTO_NAME_MAX);
    if (nb == 0)
        return false;
    for (size_t i = 0; i + nb <= na; i++) {
        size_t k = 0;
        while (k < nb && a[i + k] == b[k])
            k++;
        if (k == nb)
            return true;
    }
    return false;
}

bool find_name_matches(const char *name, const char *q)
{
    uint32_t b[PROTO_FIND_Q_MAX];
    return holds(name, b, fold_all(q, b, PROTO_FIND_Q_MAX));
}

bool find_visible(const struct session *seeker, const struct session *t)
{
    if (t == seeker || !t->hello || t->dead || !t->room || !session_findable(t))
        return false;
    return t->registered || (seeker->room != NULL && seeker->room == t->room);
}

static int by_name(const void *x, const void *y)
{
    const struct proto_found *a = x, *b = y;
    int c = strcmp(a->name, b->name);
    return c ? c : strcmp(a->user, b->user);
}

void find_handle(struct venue *v, struct session *s, const struct proto_msg *m)
{
    struct proto_found found[PROTO_FIND_MAX];
    uint32_t q[PROTO_FIND_Q_MAX];
    size_t n = 0, nq = fold_all(m->u.find.q, q, PROTO_FIND_Q_MAX);
    bool truncated = false;

    for (size_t i = 0; i < v->nsessions; i++) {
        const struct session *t = v->sessions[i];
        if (!find_visible(s, t) || !holds(t->name, q, nq))
            continue;
        if (n == PROTO_FIND_MAX) {
            truncated = true;
            break;
        }
        found[n++] = (struct proto_found){
            .user = t->user_id,
            .name = t->name,
            .role = role_name(session_role(t)),
            .room = t->room->id,
            .room_name = t->room->scene->name,
        };
    }
    qsort(found, n, sizeof(found[0]), by_name);
    proto_buf_reset(&v->enc);
    if (proto_encode_found(&v->enc, m->u.find.q, found, n, truncated, &m->id) == 0)
        session_send_enc(v, s, MOUT_FIND);
}

void find_send_privacy(struct venue *v, struct session *s, const struct proto_id *re)
{
    proto_buf_reset(&v->enc);
    if (proto_encode_privacy(&v->enc, session_findable(s), session_accepts_dms(s), re) == 0)
        session_send_enc(v, s, MOUT_FIND);
}

void find_privacy(struct venue *v, struct session *s, const struct proto_msg *m)
{
    struct reg_privacy p = {.findable = s->findable, .dms = s->dms};
    if (m->u.privacy.has_findable)
        p.findable = m->u.privacy.findable;
    if (m->u.privacy.has_dms)
        p.dms = m->u.privacy.dms;
    if (s->registered && v->reg && (p.findable != s->findable || p.dms != s->dms) &&
        registry_privacy_set(v->reg, s->user_id, &p) < 0) {
        fprintf(stderr, "venued: registry: %s\n", registry_error(v->reg));
        session_send_error(v, s, "unavailable",
                           "privacy: the setting could not be saved; nothing changed", &m->id);
        return;
    }
    s->findable = p.findable;
    s->dms = p.dms;
    find_send_privacy(v, s, &m->id);
}

void find_load_privacy(struct venue *v, struct session *s)
{
    struct reg_privacy p;
    if (!v->reg || !s->registered)
        return;
    if (registry_privacy_get(v->reg, s->user_id, &p) < 0) {
        fprintf(stderr, "venued: registry: %s\n", registry_error(v->reg));
        return; /* keep what the session has */
    }
    s->findable = p.findable;
    s->dms = p.dms;
}

bool find_place_near(const struct scene *sc, const struct scene_place *no_stage, const float tp[3],
                     const float tq[4], float p[3], float q[4])
{
    /* Offsets from straight behind, in turns of pi/4: behind, the back
     * diagonals, the sides, the front diagonals, in front. */
    static const int turn[] = {0, 1, -1, 2, -2, 3, -3, 4};
    static const float dist[] = {1.5f, 2.5f};
    /* The person's yaw; forward is -Z at yaw 0, so behind is (sin, cos). */
    float yaw = atan2f(2.0f * (tq[3] * tq[1] + tq[0] * tq[2]),
                       1.0f - 2.0f * (tq[1] * tq[1] + tq[0] * tq[0]));

    for (size_t d = 0; d < sizeof(dist) / sizeof(dist[0]); d++) {
        for (size_t k = 0; k < sizeof(turn) / sizeof(turn[0]); k++) {
            float a = yaw + (float)turn[k] * (float)M_PI / 4.0f, face;
            float c[3] = {tp[0] + sinf(a) * dist[d], tp[1], tp[2] + cosf(a) * dist[d]};
            if (!scene_walkable(sc, c))
                continue;
            c[1] = scene_floor_at(sc, c);
            if (scene_portal_at(sc, c) ||
                (no_stage && scene_place_at(sc, SCENE_PLACE_STAGE, c) == no_stage))
                continue;
            memcpy(p, c, sizeof(c));
            face = atan2f(-(tp[0] - c[0]), -(tp[2] - c[2]));
            q[0] = 0.0f;
            q[1] = sinf(face / 2.0f);
            q[2] = 0.0f;
            q[3] = cosf(face / 2.0f);
            return true;
        }
    }
    return false;
}

void find_join_near(struct venue *v, struct session *s, struct room *r, const char *near,
                    const struct proto_id *re)
{
    const struct session *t = session_find_user(v, near);
    struct proto_near told = {.user = near};
    struct room_arrival a = {.near = &told};

    if (t == s) {
        told.reason = "join.near: that is you";
    } else if (!t || t->room != r) {
        told.reason = "join.near: that person is not in this room; you arrived as usual";
    } else {
        const struct scene_place *no_stage =
            r->stage && !(s->room == r && s->on_stage) && room_role_for(v, r, s) < ROLE_SPEAKER
                ? r->stage
                : NULL;
        a.placed = find_place_near(r->scene, no_stage, t->p, t->q, a.p, a.q);
        told.placed = a.placed;
        if (!a.placed)
            told.reason = "join.near: there is no free floor beside them; you arrived as usual";
    }
    room_enter_arrival(v, s, r, &a, re);
}
