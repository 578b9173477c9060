/*
 * twin.h - the live digital twins inside the venue: the latest value of
 * every attribute the city brokers have sent, which rooms show which
 * entity, and the `twin` messages that carry changes to those rooms.
 *
 * Fed by venue_twin_notify (the ingest has parsed and checked the
 * notification already); changes go out once per tick, one frame per
 * changed entity shared by every receiver in every room whose scene binds
 * it, and to SQLite in batches with the poses. Above sessions, below rooms
 * (a joiner's view includes the twins). The venue owns the table;
 * the table owns its entities, an entity its attributes and their text.
 */
#ifndef VENUE_TWIN_H
#define VENUE_TWIN_H

#include <stdbool.h>
#include <stddef.h>

#include "ngsi.h"
#include "proto.h"
#include "session.h"
#include "twins.h"

struct venue;

#define TWIN_ENTITIES_MAX 10000 /* entities the venue keeps; past it a notification is refused */
#define TWIN_ATTRS_MAX    128   /* attributes one entity gathers over its notifications */
#define TWIN_PENDING_MAX                                                                           \
    20000 /* values waiting for the next flush; past it the oldest                                 \
             leave the history (the latest values are kept) */

struct twin_attr {
    char name[NGSI_NAME_MAX + 1];
    enum proto_twin_kind kind;
    double num;
    char *text; /* owned: STRING or JSON text; NULL otherwise */
    char unit[NGSI_UNIT_MAX + 1];
    long long observed_ms; /* 0 unknown */
    long long received_ms; /* wall clock */
    bool changed;          /* not yet sent to the rooms */
};

struct twin_entity {
    char id[NGSI_ID_MAX + 1];
    char type[NGSI_TYPE_MAX + 1];
    char source[NGSI_ID_MAX + 1]; /* the subscription of the last notification */
    struct twin_attr *attrs;      /* owned, nattrs of them, in arrival order */
    size_t nattrs;
    bool changed; /* some attribute changed since the last tick */
};

/* One value as it came, for the store's history: one allocation. */
struct twin_pending {
    struct twin_value v; /* its strings point into buf */
    char buf[];
};

struct twin_table {
    struct twin_entity **by_id; /* owned, n of them, sorted by id */
    size_t n, cap;
    struct proto_twin_attr *scratch; /* one message's attributes; owned, reused */
    size_t scratch_cap;
    struct twin_pending **pending; /* values not yet in the store, oldest first; owned */
    size_t npending, pending_cap;  /* none kept without a store */
    struct twin_value *batch;      /* one flush's rows; owned, reused */
    size_t batch_cap;
    struct bucket rate; /* notifications allowed, per second */
};

void twin_table_free(struct twin_table *t);
/* The entity with this id, or NULL: a binary search. */
struct twin_entity *twin_find(const struct twin_table *t, const char *id);

/*
 * Take a checked notification, received at the venue's wall clock: all or
 * nothing. 0; or -1 with the reason in err when it would pass a bound or
 * memory ran out (nothing changed).
 */
int twin_apply(struct venue *v, const struct ngsi_notification *n, char *err, size_t errlen);
/* This tick's changes, to the rooms that show them. */
void twin_tick(struct venue *v);
/* Everything s's room shows, to s (it just joined). */
void twin_send_view(struct venue *v, struct session *s);
/* Write every value that came since the last flush to the store, in one
 * batch (each joins its attribute's history; the newest is the latest). */
void twin_flush(struct venue *v);
/* Take the values the store kept (at start). 0, or -1 with err. */
int twin_load(struct venue *v, char *err, size_t errlen);

#endif
