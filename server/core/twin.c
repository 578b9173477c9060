/*
 * twin.c - the twin table: staging a notification whole before it
 * replaces anything, fan-out per tick, batches to the store.
 */
#include "twin.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "room.h" /* the struct only: rooms call in here, not the other way */
#include "venue_int.h"

static void entity_free(struct twin_entity *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nattrs; i++)
        free(e->attrs[i].text);
    free(e->attrs);
    free(e);
}

void twin_table_free(struct twin_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        entity_free(t->by_id[i]);
    for (size_t i = 0; i < t->npending; i++)
        free(t->pending[i]);
    free(t->pending);
    free(t->by_id);
    free(t->scratch);
    free(t->batch);
    memset(t, 0, sizeof(*t));
}

/* Where id is, or would go, in the sorted table. */
static size_t slot_of(const struct twin_table *t, const char *id, bool *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->by_id[mid]->id, id);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

struct twin_entity *twin_find(const struct twin_table *t, const char *id)
{
    bool found;
    size_t i = slot_of(t, id, &found);
    return found ? t->by_id[i] : NULL;
}

/* A deep copy of e, or NULL when out of memory. */
static struct twin_entity *entity_clone(const struct twin_entity *e)
{
    struct twin_entity *c = malloc(sizeof(*c));
    if (!c)
        return NULL;
    *c = *e;
    c->attrs = e->nattrs ? calloc(e->nattrs, sizeof(*c->attrs)) : NULL;
    if (e->nattrs && !c->attrs) {
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < e->nattrs; i++) {
        c->attrs[i] = e->attrs[i];
        c->attrs[i].text = NULL;
        if (e->attrs[i].text && !(c->attrs[i].text = strdup(e->attrs[i].text))) {
            c->nattrs = i;
            entity_free(c);
            return NULL;
        }
    }
    return c;
}

static struct twin_attr *attr_find(struct twin_entity *e, const char *name)
{
    for (size_t i = 0; i < e->nattrs; i++)
        if (strcmp(e->attrs[i].name, name) == 0)
            return &e->attrs[i];
    return NULL;
}

static enum proto_twin_kind kind_of(enum ngsi_kind k)
{
    switch (k) {
    case NGSI_NUMBER:
        return PROTO_TWIN_NUMBER;
    case NGSI_BOOL:
        return PROTO_TWIN_BOOL;
    case NGSI_STRING:
        return PROTO_TWIN_STRING;
    case NGSI_JSON:
        return PROTO_TWIN_JSON;
    case NGSI_NULL:
        break;
    }
    return PROTO_TWIN_NULL;
}

/* Merge one notified entity into its staged copy. -1: out of memory or
 * past TWIN_ATTRS_MAX (err says which); the copy is then half merged and
 * the caller drops it. */
static int merge(struct twin_entity *e, const struct ngsi_entity *ne, const char *source,
                 long long wall, char *err, size_t errlen)
{
    snprintf(e->type, sizeof(e->type), "%s", ne->type);
    snprintf(e->source, sizeof(e->source), "%s", source);
    for (size_t i = 0; i < ne->nattrs; i++) {
        const struct ngsi_attr *na = &ne->attrs[i];
        struct twin_attr *a = attr_find(e, na->name);
        char *text = NULL;
        if (!a) {
            struct twin_attr *more;
            if (e->nattrs == TWIN_ATTRS_MAX) {
                snprintf(err, errlen, "%s: more than %d attributes over time", ne->id,
                         TWIN_ATTRS_MAX);
                return -1;
            }
            more = realloc(e->attrs, (e->nattrs + 1) * sizeof(*e->attrs));
            if (!more)
                goto oom;
            e->attrs = more;
            a = &e->attrs[e->nattrs++];
            memset(a, 0, sizeof(*a));
            snprintf(a->name, sizeof(a->name), "%s", na->name);
        }
        if (na->v.text && !(text = strdup(na->v.text)))
            goto oom;
        free(a->text);
        a->text = text;
        a->kind = kind_of(na->v.kind);
        a->num = na->v.kind == NGSI_BOOL ? (na->v.b ? 1 : 0) : na->v.num;
        snprintf(a->unit, sizeof(a->unit), "%s", na->v.unit);
        a->observed_ms = na->v.observed_ms;
        a->received_ms = wall;
        a->changed = true;
    }
    e->changed = true;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* Append s (NUL included) to *at; returns where it went. */
static const char *put(char **at, const char *s)
{
    char *dst = *at;
    size_t n = strlen(s) + 1;
    memcpy(dst, s, n);
    *at += n;
    return dst;
}

/* The value of na, as it came, for the history. NULL when out of memory. */
static struct twin_pending *pending_new(const struct ngsi_entity *ne, const struct ngsi_attr *na,
                                        const char *source, long long wall)
{
    const char *text = na->v.kind == NGSI_NULL ? "null" : na->v.text;
    size_t need = strlen(ne->id) + strlen(ne->type) + strlen(na->name) + strlen(na->v.unit) +
                  strlen(source) + (text ? strlen(text) : 0) + 6;
    struct twin_pending *p = malloc(sizeof(*p) + need);
    char *at;
    if (!p)
        return NULL;
    at = p->buf;
    p->v = (struct twin_value){
        .entity = put(&at, ne->id),
        .etype = put(&at, ne->type),
        .attr = put(&at, na->name),
        .unit = put(&at, na->v.unit),
        .source = put(&at, source),
        .text = text ? put(&at, text) : NULL,
        .num = na->v.kind == NGSI_BOOL ? (na->v.b ? 1 : 0) : na->v.num,
        .observed_ms = na->v.observed_ms,
        .received_ms = wall,
    };
    switch (na->v.kind) {
    case NGSI_NUMBER:
        p->v.kind = TWIN_NUMBER;
        break;
    case NGSI_BOOL:
        p->v.kind = TWIN_BOOL;
        break;
    case NGSI_STRING:
        p->v.kind = TWIN_STRING;
        break;
    case NGSI_JSON:
    case NGSI_NULL: /* as JSON null, which reads back alike */
        p->v.kind = TWIN_JSON;
        break;
    }
    assert((size_t)(at - p->buf) <= need);
    return p;
}

/* Queue fresh[0..n) for the store, dropping the oldest queued past
 * TWIN_PENDING_MAX. The pending array has room for them (asserted). */
static void pending_add(struct venue *v, struct twin_pending **fresh, size_t n)
{
    struct twin_table *t = &v->twins;
    size_t over;
    if (n == 0)
        return;
    over = t->npending + n > TWIN_PENDING_MAX ? t->npending + n - TWIN_PENDING_MAX : 0;
    if (over > t->npending)
        over = t->npending;
    for (size_t i = 0; i < over; i++)
        free(t->pending[i]);
    memmove(t->pending, t->pending + over, (t->npending - over) * sizeof(*t->pending));
    t->npending -= over;
    v->m.dropped[MDROP_TWIN_HISTORY] += over;
    assert(t->npending + n <= t->pending_cap);
    memcpy(t->pending + t->npending, fresh, n * sizeof(*fresh));
    t->npending += n;
}

/*
 * Stage every entity of the notification as a whole new copy (an entity
 * named twice merges into one copy), then swap the copies in: a failure
 * at any step leaves the table untouched.
 */
int twin_apply(struct venue *v, const struct ngsi_notification *n, char *err, size_t errlen)
{
    struct twin_table *t = &v->twins;
    struct twin_entity **staged = calloc(n->nentities ? n->nentities : 1, sizeof(*staged));
    struct twin_pending **fresh = NULL;
    size_t nstaged = 0, nnew = 0, nvalues = 0, nfresh = 0;
    long long wall = venue_wall(v);
    int rc = -1;

    for (size_t i = 0; i < n->nentities; i++)
        nvalues += n->entities[i].nattrs;
    if (nvalues)
        fresh = calloc(nvalues, sizeof(*fresh));
    if (!staged || (nvalues && !fresh) ||
        array_grow((void **)&t->pending, &t->pending_cap,
                   t->npending + nvalues < TWIN_PENDING_MAX ? t->npending + nvalues
                                                            : TWIN_PENDING_MAX,
                   sizeof(*t->pending)) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n->nentities; i++) {
        const struct ngsi_entity *ne = &n->entities[i];
        struct twin_entity *e = NULL, *old;
        for (size_t k = 0; k < nstaged && !e; k++)
            if (strcmp(staged[k]->id, ne->id) == 0)
                e = staged[k];
        if (!e) {
            old = twin_find(t, ne->id);
            nnew += old == NULL;
            if (t->n + nnew > TWIN_ENTITIES_MAX) {
                snprintf(err, errlen, "data[%zu]: the venue keeps at most %d entities", i,
                         TWIN_ENTITIES_MAX);
                goto out;
            }
            e = old ? entity_clone(old) : calloc(1, sizeof(*e));
            if (!e) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            if (!old)
                snprintf(e->id, sizeof(e->id), "%s", ne->id);
            assert(nstaged < n->nentities);
            staged[nstaged++] = e;
        }
        if (merge(e, ne, n->subscription_id, wall, err, errlen) < 0)
            goto out;
        for (size_t k = 0; v->twin_store && k < ne->nattrs; k++) {
            assert(nfresh < nvalues);
            if (!(fresh[nfresh++] = pending_new(ne, &ne->attrs[k], n->subscription_id, wall))) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
        }
    }
    if (array_grow((void **)&t->by_id, &t->cap, t->n + nnew, sizeof(*t->by_id)) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }

    /* Nothing fails from here on. */
    for (size_t k = 0; k < nstaged; k++) {
        bool found;
        size_t at = slot_of(t, staged[k]->id, &found);
        if (found) {
            entity_free(t->by_id[at]);
        } else {
            memmove(&t->by_id[at + 1], &t->by_id[at], (t->n - at) * sizeof(*t->by_id));
            t->n++;
        }
        t->by_id[at] = staged[k];
    }
    pending_add(v, fresh, nfresh);
    nstaged = nfresh = 0;
    rc = 0;
out:
    for (size_t k = 0; k < nstaged; k++)
        entity_free(staged[k]);
    for (size_t k = 0; k < nfresh; k++)
        free(fresh[k]);
    free(fresh);
    free(staged);
    return rc;
}

/* Encode e's attributes (only the changed ones when changed_only) into
 * v->enc as one twin message. */
static int encode(struct venue *v, const struct twin_entity *e, bool changed_only)
{
    struct twin_table *t = &v->twins;
    size_t n = 0;
    if (array_grow((void **)&t->scratch, &t->scratch_cap, e->nattrs ? e->nattrs : 1,
                   sizeof(*t->scratch)) < 0)
        return -1;
    for (size_t i = 0; i < e->nattrs; i++) {
        const struct twin_attr *a = &e->attrs[i];
        if (changed_only && !a->changed)
            continue;
        assert(n < t->scratch_cap);
        t->scratch[n++] =
            (struct proto_twin_attr){a->name, a->kind, a->num, a->text, a->unit, a->observed_ms};
    }
    proto_buf_reset(&v->enc);
    return proto_encode_twin(&v->enc, e->id, e->type, t->scratch, n);
}

void twin_tick(struct venue *v)
{
    struct twin_table *t = &v->twins;
    for (size_t i = 0; i < t->n; i++) {
        struct twin_entity *e = t->by_id[i];
        struct frame *f = NULL;
        if (!e->changed)
            continue;
        for (size_t r = 0; r < v->nrooms; r++) {
            const struct room *room = v->rooms[r];
            if (!room->n || !scene_binds_entity(room->scene, e->id))
                continue;
            if (!f &&
                (encode(v, e, true) < 0 || !(f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len))))
                break;
            for (size_t k = 0; k < room->n; k++)
                session_enqueue(v, room->members[k], f, MOUT_TWIN);
        }
        frame_unref(f);
        e->changed = false;
        for (size_t k = 0; k < e->nattrs; k++)
            e->attrs[k].changed = false;
    }
}

void twin_send_view(struct venue *v, struct session *s)
{
    const struct scene *sc = s->room->scene;
    for (size_t i = 0; i < sc->ntwin_entities; i++) {
        const struct twin_entity *e = twin_find(&v->twins, sc->twin_entities[i]);
        if (e && encode(v, e, false) == 0)
            session_send_enc(v, s, MOUT_TWIN);
    }
}

void twin_flush(struct venue *v)
{
    struct twin_table *t = &v->twins;
    if (!v->twin_store || t->npending == 0)
        return;
    if (array_grow((void **)&t->batch, &t->batch_cap, t->npending, sizeof(*t->batch)) < 0)
        return; /* kept: the next flush tries again */
    for (size_t i = 0; i < t->npending; i++)
        t->batch[i] = t->pending[i]->v;
    if (twins_put(v->twin_store, t->batch, t->npending) < 0) {
        fprintf(stderr, "venued: %s\n", twins_error(v->twin_store));
        return;
    }
    for (size_t i = 0; i < t->npending; i++)
        free(t->pending[i]);
    t->npending = 0;
}

/* One stored value into a one-entity, one-attribute notification. */
struct loading {
    struct venue *v;
    int rc;
    char *err;
    size_t errlen;
};

static void load_one(void *arg, const struct twin_value *tv)
{
    struct loading *l = arg;
    static const enum ngsi_kind kinds[] = {[TWIN_NUMBER] = NGSI_NUMBER,
                                           [TWIN_STRING] = NGSI_STRING,
                                           [TWIN_BOOL] = NGSI_BOOL,
                                           [TWIN_JSON] = NGSI_JSON};
    struct ngsi_attr a = {.type = NGSI_PROPERTY};
    struct ngsi_entity e = {.attrs = &a, .nattrs = 1};
    struct ngsi_notification n = {.entities = &e, .nentities = 1};
    struct twin_entity *got;
    if (l->rc < 0 || (unsigned)tv->kind > TWIN_JSON)
        return;
    snprintf(e.id, sizeof(e.id), "%s", tv->entity);
    snprintf(e.type, sizeof(e.type), "%s", tv->etype);
    snprintf(a.name, sizeof(a.name), "%s", tv->attr);
    snprintf(n.subscription_id, sizeof(n.subscription_id), "%s", tv->source);
    a.v.kind = kinds[tv->kind];
    a.v.num = tv->num;
    a.v.b = tv->num != 0;
    a.v.text = (char *)tv->text; /* read only: merge copies it */
    snprintf(a.v.unit, sizeof(a.v.unit), "%s", tv->unit);
    a.v.observed_ms = tv->observed_ms;
    l->rc = twin_apply(l->v, &n, l->err, l->errlen);
    got = l->rc == 0 ? twin_find(&l->v->twins, tv->entity) : NULL;
    if (got)
        attr_find(got, tv->attr)->received_ms = tv->received_ms;
}

int twin_load(struct venue *v, char *err, size_t errlen)
{
    struct loading l = {v, 0, err, errlen};
    if (twins_latest_each(v->twin_store, load_one, &l) < 0) {
        snprintf(err, errlen, "%s", twins_error(v->twin_store));
        return -1;
    }
    /* Loaded values are the state a joiner gets, not news for the rooms
     * nor new history. */
    for (size_t i = 0; i < v->twins.npending; i++)
        free(v->twins.pending[i]);
    v->twins.npending = 0;
    for (size_t i = 0; i < v->twins.n; i++) {
        v->twins.by_id[i]->changed = false;
        for (size_t k = 0; k < v->twins.by_id[i]->nattrs; k++)
            v->twins.by_id[i]->attrs[k].changed = false;
    }
    return l.rc;
}
