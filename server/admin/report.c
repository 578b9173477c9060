/*
 * report.c - the venue as JSON and Prometheus text, built with jansson
 * (reports are asked for rarely; the hot path never comes here).
 */
#include "report.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twin.h"

/* Append doc (stolen) as compact JSON to b. */
static int append_json(struct proto_buf *b, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    int rc = text ? proto_buf_append(b, text, strlen(text)) : -1;
    free(text);
    json_decref(doc);
    return rc;
}

int report_rooms(const struct venue *v, unsigned nodes, struct proto_buf *b)
{
    json_t *rooms = json_array(), *doc;
    for (size_t i = 0; rooms && i < venue_room_count(v); i++) {
        struct venue_room_view r;
        json_t *room;
        venue_room_get(v, i, &r);
        room = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:b}", "id", r.id, "name", r.name,
                         "description", r.description, "capacity", r.capacity, "count", r.count,
                         "scene", r.scene_url, "locked", r.locked);
        if (room && nodes)
            json_object_set_new(room, "here", json_integer(r.here));
        json_array_append_new(rooms, room);
    }
    doc = json_pack("{s:o}", "rooms", rooms);
    if (doc && nodes)
        json_object_set_new(doc, "nodes", json_integer(nodes));
    return append_json(b, doc);
}

static void presence_user(void *arg, const struct venue_person_view *p)
{
    json_t *u = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "id", p->user.id, "name",
                          p->user.name, "role", p->user.role, "status", p->user.status, "hand",
                          p->user.hand, "connected", p->connected);
    /* In a cluster: on which node, when it is another (this one's own have none). */
    if (u && p->node[0])
        json_object_set_new(u, "node", json_string(p->node));
    json_array_append_new(arg, u);
}

int report_presence(const struct venue *v, struct proto_buf *b)
{
    json_t *rooms = json_array(), *nowhere = json_array();
    for (size_t i = 0; rooms && i < venue_room_count(v); i++) {
        struct venue_room_view r;
        json_t *users = json_array();
        venue_room_get(v, i, &r);
        venue_room_people(v, i, presence_user, users);
        json_array_append_new(
            rooms, json_pack("{s:s, s:s, s:o}", "id", r.id, "name", r.name, "users", users));
    }
    if (nowhere)
        venue_room_people(v, SIZE_MAX, presence_user, nowhere);
    return append_json(b, json_pack("{s:o, s:o}", "rooms", rooms, "lobbyless", nowhere));
}

/* A value as JSON (new reference): numbers, booleans, strings, and JSON
 * text (GeoJSON) as the structure it is. */
static json_t *value_json(enum proto_twin_kind kind, double num, const char *text)
{
    switch (kind) {
    case PROTO_TWIN_NUMBER:
        /* 120 spaces, not 120.0: whole numbers as integers while exact. */
        return num == floor(num) && fabs(num) < 9007199254740992.0 ? json_integer((json_int_t)num)
                                                                   : json_real(num);
    case PROTO_TWIN_BOOL:
        return json_boolean(num != 0);
    case PROTO_TWIN_STRING:
        return json_string(text ? text : "");
    case PROTO_TWIN_JSON:
        return text ? json_loads(text, JSON_DECODE_ANY, NULL) : json_null();
    case PROTO_TWIN_NULL:
        break;
    }
    return json_null();
}

static json_t *time_json(long long ms)
{
    return ms ? json_integer(ms) : json_null();
}

static json_t *entity_json(const struct venue *v, const struct twin_entity *e)
{
    json_t *attrs = json_object(), *rooms = json_array();
    for (size_t i = 0; i < e->nattrs; i++) {
        const struct twin_attr *a = &e->attrs[i];
        json_object_set_new(attrs, a->name,
                            json_pack("{s:o, s:s, s:o, s:o}", "value",
                                      value_json(a->kind, a->num, a->text), "unit", a->unit,
                                      "observedAt", time_json(a->observed_ms), "receivedAt",
                                      time_json(a->received_ms)));
    }
    for (size_t r = 0; r < venue_room_count(v); r++) {
        struct venue_room_view rv;
        venue_room_get(v, r, &rv);
        if (venue_twin_shown_in(v, r, e->id))
            json_array_append_new(rooms, json_string(rv.id));
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", e->id, "type", e->type, "source", e->source,
                     "rooms", rooms, "attrs", attrs);
}

int report_twins(const struct venue *v, struct proto_buf *b)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < venue_twin_count(v); i++)
        json_array_append_new(list, entity_json(v, venue_twin_at(v, i)));
    return append_json(b, json_pack("{s:o}", "entities", list));
}

static void history_one(void *arg, const struct twin_value *tv)
{
    static const enum proto_twin_kind kinds[] = {[TWIN_NUMBER] = PROTO_TWIN_NUMBER,
                                                 [TWIN_STRING] = PROTO_TWIN_STRING,
                                                 [TWIN_BOOL] = PROTO_TWIN_BOOL,
                                                 [TWIN_JSON] = PROTO_TWIN_JSON};
    json_t *history = arg, *list = json_object_get(history, tv->attr);
    if (!list) {
        list = json_array();
        json_object_set_new(history, tv->attr, list);
    }
    if ((unsigned)tv->kind <= TWIN_JSON)
        json_array_append_new(list, json_pack("{s:o, s:o, s:o}", "value",
                                              value_json(kinds[tv->kind], tv->num, tv->text),
                                              "observedAt", time_json(tv->observed_ms),
                                              "receivedAt", time_json(tv->received_ms)));
}

int report_twin(const struct venue *v, struct twins *store, const char *id, struct proto_buf *b)
{
    const struct twin_entity *e = venue_twin_find(v, id);
    json_t *doc, *history;
    if (!e)
        return 0;
    doc = entity_json(v, e);
    history = json_object();
    if (!doc || !history) {
        json_decref(doc);
        json_decref(history);
        return -1;
    }
    if (store && twins_history_each(store, id, NULL, SIZE_MAX, history_one, history) < 0) {
        json_decref(doc);
        json_decref(history);
        return -1;
    }
    json_object_set_new(doc, "history", history);
    return append_json(b, doc) < 0 ? -1 : 1;
}

int report_metrics(const struct venue *v, struct proto_buf *b)
{
    size_t n = venue_room_count(v);
    struct metrics_room *rooms = calloc(n ? n : 1, sizeof(*rooms));
    int rc;
    if (!rooms)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct venue_room_view r;
        venue_room_get(v, i, &r);
        rooms[i] =
            (struct metrics_room){.id = r.id, .sessions = r.count, .fanout_bytes = r.fanout_bytes};
    }
    rc = metrics_render(venue_metrics_get(v), rooms, n, b);
    free(rooms);
    return rc;
}
