/*
 * test_twin.c - the venue's twin table without a network: notifications
 * applied whole or not at all, changes coalesced per tick into one frame
 * shared by every receiver of the rooms that show the entity, a joiner's
 * view, the bounds, the rate limit, and values kept in the store (SQLite,
 * or PostgreSQL with VENUE_TEST_PG: check_store.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_store.h"
#include "core_harness.h"
#include "ngsi.h"
#include "store.h"
#include "twin.h"
#include "twins.h"

#define CENTRE  "urn:ngsi-ld:AirQualityObserved:demo-centre"
#define PARKING "urn:ngsi-ld:OffStreetParking:demo-station"

/* A notification of one entity with one numeric attribute. */
static int notify(struct venue *v, const char *id, const char *attr, double value, char *err)
{
    char body[1024];
    struct ngsi_notification n;
    int rc;
    snprintf(body, sizeof(body),
             "{\"id\":\"urn:ngsi-ld:Notification:t\",\"type\":\"Notification\","
             "\"subscriptionId\":\"urn:ngsi-ld:Subscription:t\",\"data\":[{\"id\":\"%s\","
             "\"type\":\"T\",\"%s\":{\"type\":\"Property\",\"value\":%g,\"unitCode\":\"GQ\"}}]}",
             id, attr, value);
    if (ngsi_parse(body, strlen(body), "application/json", NULL, &n, err, 256) < 0)
        return -2;
    rc = (int)venue_twin_notify(v, &n, now, err, 256);
    ngsi_free(&n);
    return rc;
}

/* The twin messages in msgs about entity. */
static size_t twins_about(json_t *msgs, const char *entity, json_t **last)
{
    size_t n = 0, i;
    json_t *m;
    json_array_foreach(msgs, i, m)
    {
        if (strcmp(type_of(m), "twin") == 0 &&
            strcmp(json_string_value(json_object_get(m, "entity")), entity) == 0) {
            n++;
            *last = m;
        }
    }
    return n;
}

static void test_fanout(struct venue *v)
{
    char err[256];
    struct fconn *a = connect_as(v, "Ada", NULL), *b = connect_as(v, "Bo", NULL),
                 *l = connect_as(v, "Lou", NULL), *late;
    json_t *msgs, *m = NULL, *attrs;
    size_t before;

    join(v, a, "expo");
    join(v, b, "expo");
    join(v, l, "lobby");
    json_decref(drain(v, a));
    json_decref(drain(v, b));
    json_decref(drain(v, l));

    /* Two notifications in one tick: one message, the newest value. */
    CHECK(notify(v, CENTRE, "no2", 40, err) == VENUE_TWIN_OK);
    CHECK(notify(v, CENTRE, "no2", 42.5, err) == VENUE_TWIN_OK);
    CHECK(notify(v, CENTRE, "pm10", 12, err) == VENUE_TWIN_OK);
    before = venue_metrics(v)->out_by_type[MOUT_TWIN];
    now += 50;
    venue_tick(v, now);
    CHECK(venue_metrics(v)->out_by_type[MOUT_TWIN] == before + 2); /* one per expo member */
    msgs = drain(v, a);
    CHECK(twins_about(msgs, CENTRE, &m) == 1);
    attrs = json_object_get(m, "attrs");
    CHECK(json_real_value(json_object_get(json_object_get(attrs, "no2"), "value")) == 42.5);
    CHECK(json_object_get(attrs, "pm10") != NULL);
    json_decref(msgs);
    msgs = drain(v, b);
    CHECK(twins_about(msgs, CENTRE, &m) == 1);
    json_decref(msgs);
    /* The lobby's scene binds nothing of it. */
    msgs = drain(v, l);
    CHECK(twins_about(msgs, CENTRE, &m) == 0);
    json_decref(msgs);
    /* Nothing changed: nothing is sent. */
    now += 50;
    venue_tick(v, now);
    msgs = drain(v, a);
    CHECK(twins_about(msgs, CENTRE, &m) == 0);
    json_decref(msgs);
    /* Only what changed goes out. */
    CHECK(notify(v, CENTRE, "pm10", 13, err) == VENUE_TWIN_OK);
    now += 50;
    venue_tick(v, now);
    msgs = drain(v, a);
    CHECK(twins_about(msgs, CENTRE, &m) == 1);
    attrs = json_object_get(m, "attrs");
    CHECK(json_object_size(attrs) == 1 && json_object_get(attrs, "pm10"));
    json_decref(msgs);

    /* A joiner gets everything with its joined. */
    late = connect_as(v, "Late", NULL);
    send_text(v, late, "{\"type\":\"join\",\"room\":\"expo\"}");
    msgs = drain(v, late);
    CHECK(find(msgs, "joined") != NULL);
    CHECK(twins_about(msgs, CENTRE, &m) == 1);
    attrs = json_object_get(m, "attrs");
    CHECK(json_object_size(attrs) == 2);
    json_decref(msgs);
    /* An entity no scene binds is kept and listed, but sent nowhere. */
    CHECK(notify(v, "urn:ngsi-ld:Thing:elsewhere", "x", 1, err) == VENUE_TWIN_OK);
    CHECK(venue_twin_find(v, "urn:ngsi-ld:Thing:elsewhere") != NULL);
    now += 50;
    venue_tick(v, now);
    msgs = drain(v, a);
    CHECK(twins_about(msgs, "urn:ngsi-ld:Thing:elsewhere", &m) == 0);
    json_decref(msgs);

    venue_disconnect(v, a->s, now);
    venue_disconnect(v, b->s, now);
    venue_disconnect(v, l->s, now);
    venue_disconnect(v, late->s, now);
    free(a);
    free(b);
    free(l);
    free(late);
}

static void test_bounds(struct venue *v)
{
    char err[256], body[8192], id[64];
    struct ngsi_notification n;
    size_t had = venue_twin_count(v);
    int rc = VENUE_TWIN_OK;

    /* An entity gathers at most TWIN_ATTRS_MAX attributes; the one that
     * would pass it spoils its notification and nothing changes. */
    for (int i = 0; i < TWIN_ATTRS_MAX && rc == VENUE_TWIN_OK; i++) {
        char attr[16];
        snprintf(attr, sizeof(attr), "a%d", i);
        now += 100; /* within the rate */
        rc = notify(v, "urn:ngsi-ld:Thing:wide", attr, i, err);
    }
    CHECK(rc == VENUE_TWIN_OK);
    now += 100;
    CHECK(notify(v, "urn:ngsi-ld:Thing:wide", "one_more", 1, err) == VENUE_TWIN_REFUSED);
    CHECK(strstr(err, "attributes") != NULL);
    CHECK(venue_twin_find(v, "urn:ngsi-ld:Thing:wide")->nattrs == TWIN_ATTRS_MAX);

    /* All or nothing across entities: a good one and one too wide. */
    snprintf(body, sizeof(body),
             "{\"id\":\"urn:x:n\",\"type\":\"Notification\",\"data\":["
             "{\"id\":\"urn:ngsi-ld:Thing:fresh\",\"type\":\"T\",\"x\":1},"
             "{\"id\":\"urn:ngsi-ld:Thing:wide\",\"type\":\"T\",\"another\":2}]}");
    CHECK(ngsi_parse(body, strlen(body), "application/json", NULL, &n, err, sizeof(err)) == 0);
    now += 100;
    CHECK(venue_twin_notify(v, &n, now, err, sizeof(err)) == VENUE_TWIN_REFUSED);
    ngsi_free(&n);
    CHECK(venue_twin_find(v, "urn:ngsi-ld:Thing:fresh") == NULL);
    CHECK(venue_twin_count(v) == had + 1);

    /* The same entity twice in one notification merges into one. */
    snprintf(id, sizeof(id), "urn:ngsi-ld:Thing:twice");
    snprintf(
        body, sizeof(body),
        "{\"id\":\"urn:x:n\",\"type\":\"Notification\",\"data\":["
        "{\"id\":\"%s\",\"type\":\"T\",\"x\":1},{\"id\":\"%s\",\"type\":\"T\",\"x\":2,\"y\":3}]}",
        id, id);
    CHECK(ngsi_parse(body, strlen(body), "application/json", NULL, &n, err, sizeof(err)) == 0);
    now += 100;
    CHECK(venue_twin_notify(v, &n, now, err, sizeof(err)) == VENUE_TWIN_OK);
    ngsi_free(&n);
    CHECK(venue_twin_find(v, id) && venue_twin_find(v, id)->nattrs == 2 &&
          venue_twin_find(v, id)->attrs[0].num == 2);
}

static void test_rate(struct venue *v)
{
    char err[256];
    int ok = 0, busy = 0;
    now += 5000; /* a full bucket */
    for (int i = 0; i < cfg.ingest_rate + 5; i++) {
        int rc = notify(v, CENTRE, "no2", i, err);
        ok += rc == VENUE_TWIN_OK;
        busy += rc == VENUE_TWIN_BUSY;
    }
    CHECK(ok == cfg.ingest_rate && busy == 5);
    CHECK(strstr(err, "per second") != NULL);
    now += 1000 / cfg.ingest_rate + 1;
    CHECK(notify(v, CENTRE, "no2", 1, err) == VENUE_TWIN_OK);
}

/* Values written by the flush come back in a new venue on the same store. */
static void test_kept(const char *dir)
{
    char err[256];
    struct store *st = check_store_open(dir, err, sizeof(err));
    struct twins *tw = st ? twins_open(st, 50, err, sizeof(err)) : NULL;
    struct venue *v = tw ? venue_new(&cfg, &io, &scenes, st, NULL, now, err, sizeof(err)) : NULL;
    const struct twin_entity *e;
    CHECK(v && venue_keep_twins(v, tw, err, sizeof(err)) == 0);
    if (!v)
        return;
    now += 1000;
    CHECK(notify(v, PARKING, "availableSpotNumber", 120, err) == VENUE_TWIN_OK);
    now += 1000;
    CHECK(notify(v, PARKING, "availableSpotNumber", 118, err) == VENUE_TWIN_OK);
    venue_shutdown(v, now); /* flushes */
    venue_free(v);

    /* The queue for the store is bounded: 4 x 6400 values before a flush
     * keep the newest TWIN_PENDING_MAX, count the rest as dropped, and the
     * latest values are all there. */
    v = venue_new(&cfg, &io, &scenes, st, NULL, now, err, sizeof(err));
    CHECK(v && venue_keep_twins(v, tw, err, sizeof(err)) == 0);
    if (v) {
        size_t cap = 400000, len;
        char *body = malloc(cap);
        for (int round = 0; body && round < 4; round++) {
            struct ngsi_notification n;
            len = (size_t)snprintf(body, cap,
                                   "{\"id\":\"urn:x:n\",\"type\":\"Notification\",\"data\":[");
            for (int k = 0; k < NGSI_ENTITIES_MAX; k++) {
                len += (size_t)snprintf(body + len, cap - len,
                                        "%s{\"id\":\"urn:ngsi-ld:Thing:%d\",\"type\":\"T\"",
                                        k ? "," : "", k);
                for (int a = 0; a < NGSI_ATTRS_MAX; a++)
                    len += (size_t)snprintf(body + len, cap - len, ",\"a%d\":%d", a, round);
                len += (size_t)snprintf(body + len, cap - len, "}");
            }
            len += (size_t)snprintf(body + len, cap - len, "]}");
            CHECK(len < cap && len < NGSI_BODY_MAX);
            CHECK(ngsi_parse(body, len, "application/json", NULL, &n, err, sizeof(err)) == 0);
            CHECK(venue_twin_notify(v, &n, now, err, sizeof(err)) == VENUE_TWIN_OK);
            ngsi_free(&n);
        }
        free(body);
        CHECK(venue_metrics_get(v)->dropped[MDROP_TWIN_HISTORY] ==
              4 * NGSI_ENTITIES_MAX * NGSI_ATTRS_MAX - TWIN_PENDING_MAX);
        venue_shutdown(v, now);
        e = venue_twin_find(v, "urn:ngsi-ld:Thing:99");
        CHECK(e && e->nattrs == NGSI_ATTRS_MAX && e->attrs[63].num == 3);
        venue_free(v);
    }

    v = venue_new(&cfg, &io, &scenes, st, NULL, now, err, sizeof(err));
    CHECK(v && venue_keep_twins(v, tw, err, sizeof(err)) == 0);
    e = v ? venue_twin_find(v, PARKING) : NULL;
    CHECK(e && e->nattrs == 1 && e->attrs[0].num == 118 && strcmp(e->attrs[0].unit, "GQ") == 0);
    venue_free(v);
    twins_close(tw);
    store_close(st);
}

int main(int argc, char **argv)
{
    char err[512], dir[] = "/tmp/venue-twin-XXXXXX", cmd[64];
    struct venue *v;
    config_defaults(&cfg);
    if (scene_set_load(argc > 1 ? argv[1] : "scenes/demo", &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "scenes: %s\n", err);
        return 1;
    }
    v = venue_new(&cfg, &io, &scenes, NULL, NULL, now, err, sizeof(err));
    CHECK(v != NULL);
    if (v) {
        test_fanout(v);
        test_bounds(v);
        test_rate(v);
        venue_free(v);
    }
    if (mkdtemp(dir)) {
        test_kept(dir);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
    }
    scene_set_free(&scenes);
    return check_report();
}
