/*
 * react.c - a room's reactions, gathered over one tick and sent as one
 * frame: a hall of 300 applauding costs each listener one message a tick,
 * not 300.
 */
#include "react.h"

#include <stdio.h>
#include <string.h>

#include "venue_int.h"

void react_add(struct venue *v, struct session *s, const struct proto_msg *m)
{
    struct react_tally *t = &s->room->react;
    enum proto_reaction kind = m->u.react.kind;

    if (s->muted_until) {
        session_send_error(v, s, "forbidden", "react: you are muted", &m->id);
        return;
    }
    t->counts[kind]++;
    t->total[kind]++;
    if (t->nby < REACT_BY_MAX) {
        snprintf(t->by[t->nby].user_id, sizeof(t->by[t->nby].user_id), "%s", s->user_id);
        t->by[t->nby++].kind = kind;
    } else {
        t->more++;
    }
}

void react_tick(struct venue *v)
{
    struct proto_reactor by[REACT_BY_MAX];

    for (size_t i = 0; i < v->nrooms; i++) {
        struct room *r = v->rooms[i];
        struct react_tally *t = &r->react;
        if (t->nby == 0)
            continue;
        for (size_t k = 0; k < t->nby; k++)
            by[k] = (struct proto_reactor){.user_id = t->by[k].user_id, .kind = t->by[k].kind};
        proto_buf_reset(&v->enc);
        if (proto_encode_reactions(&v->enc, r->id, t->counts, t->total, by, t->nby, t->more) == 0)
            room_broadcast_enc(v, r, NULL, MOUT_REACTIONS);
        memset(t->counts, 0, sizeof(t->counts));
        t->nby = 0;
        t->more = 0;
    }
}
