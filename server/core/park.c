/*
 * park.c - client messages that wait for the database's write lock.
 */
#include "park.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "room.h"
#include "session.h"
#include "store.h"
#include "venue_int.h"

bool park_writes(enum proto_type t)
{
    switch (t) {
    case PROTO_MOD:
    case PROTO_SLIDE:
    case PROTO_STAR:
    case PROTO_ASK:
    case PROTO_VOTE:
    case PROTO_PRIVACY:
    case PROTO_BLOCK:
    case PROTO_REPORT:
        return true;
    default:
        return false;
    }
}

bool park_held(struct venue *v, struct session *s, const struct proto_msg *m)
{
    if (m->type == PROTO_JOIN) {
        struct room *r = room_find(v, m->u.join.room);
        if (!r || r == s->room || !room_seats_short(r) ||
            room_places(r, room_role_for(v, r, s)) <= 0)
            return false;
        v->mesh.seats_wanted = true;
        return true;
    }
    return park_writes(m->type) && v->store && store_probe(v->store) == 1;
}

bool park_needed(struct venue *v, struct session *s, const struct proto_msg *m)
{
    if (m->type == PROTO_POSE || !s->hello) /* before hello, dispatch refuses it anyway */
        return false;
    if (s->park && s->park->n > 0)
        return true;
    return park_held(v, s, m);
}

static void refuse(struct venue *v, struct session *s, const struct proto_id *id)
{
    v->m.park_refused++;
    session_send_error(v, s, "busy",
                       "the database is being written by another process: try again shortly", id);
}

void park_put(struct venue *v, struct session *s, const char *buf, size_t len,
              const struct proto_id *id)
{
    struct parked *p;
    char *copy;

    if (!s->park && !(s->park = calloc(1, sizeof(*s->park)))) {
        refuse(v, s, id);
        return;
    }
    if (s->park->n == PARK_MAX || v->parked_bytes + len > PARK_BYTES_MAX ||
        !(copy = malloc(len ? len : 1))) {
        refuse(v, s, id);
        return;
    }
    memcpy(copy, buf, len);
    p = &s->park->msg[(s->park->head + s->park->n) % PARK_MAX];
    *p = (struct parked){.buf = copy, .len = len, .since_ms = v->now};
    if (s->park->n++ == 0)
        v->parked_sessions++;
    v->parked_bytes += len;
    v->m.parked++;
}

const struct parked *park_first(const struct session *s)
{
    return s->park && s->park->n > 0 ? &s->park->msg[s->park->head] : NULL;
}

void park_pop(struct venue *v, struct session *s)
{
    struct park *k = s->park;
    struct parked *p;

    assert(k && k->n > 0);
    p = &k->msg[k->head];
    assert(v->parked_bytes >= p->len);
    v->parked_bytes -= p->len;
    /* What waits may carry names and chat: leave no copy in freed memory. */
    memset(p->buf, 0, p->len);
    free(p->buf);
    *p = (struct parked){0};
    k->head = (k->head + 1) % PARK_MAX;
    if (--k->n == 0) {
        assert(v->parked_sessions > 0);
        v->parked_sessions--;
        free(k);
        s->park = NULL;
    }
}

void park_drop(struct venue *v, struct session *s)
{
    while (park_first(s))
        park_pop(v, s);
}
