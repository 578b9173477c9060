/*
 * report.c - the venue as JSON and Prometheus text, built with jansson
 * (reports are asked for rarely; the hot path never comes here).
 */
#include "report.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Append doc (stolen) as compact JSON to b. */
static int append_json(struct proto_buf *b, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    int rc = text ? proto_buf_append(b, text, strlen(text)) : -1;
    free(text);
    json_decref(doc);
    return rc;
}

int report_rooms(const struct venue *v, struct proto_buf *b)
{
    json_t *rooms = json_array();
    for (size_t i = 0; rooms && i < venue_room_count(v); i++) {
        struct venue_room_view r;
        venue_room_get(v, i, &r);
        json_array_append_new(rooms, json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:b}", "id", r.id,
                                               "name", r.name, "description", r.description,
                                               "capacity", r.capacity, "count", r.count, "scene",
                                               r.scene_url, "locked", r.locked));
    }
    return append_json(b, json_pack("{s:o}", "rooms", rooms));
}

static void presence_user(void *arg, const struct venue_person_view *p)
{
    json_array_append_new(arg,
                          json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "id", p->user.id, "name",
                                    p->user.name, "role", p->user.role, "status", p->user.status,
                                    "hand", p->user.hand, "connected", p->connected));
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
