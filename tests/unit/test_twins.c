/*
 * test_twins.c - the twin store: latest values, the history bound per
 * attribute, batches all or nothing, and values surviving a reopen. On
 * SQLite, or on PostgreSQL with VENUE_TEST_PG (check_store.h).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_store.h"
#include "store.h"
#include "twins.h"

#define AQ "urn:ngsi-ld:AirQualityObserved:station-1"

struct seen {
    int n;
    double last_num;
    double first_num;
    char last_text[64];
    char unit[16];
    long long observed_ms;
};

static void count_value(void *arg, const struct twin_value *v)
{
    struct seen *s = arg;
    if (s->n++ == 0)
        s->first_num = v->num;
    s->last_num = v->num;
    snprintf(s->last_text, sizeof(s->last_text), "%s", v->text ? v->text : "");
    snprintf(s->unit, sizeof(s->unit), "%s", v->unit);
    s->observed_ms = v->observed_ms;
}

static struct twin_value no2(double value, long long at)
{
    return (struct twin_value){.entity = AQ,
                               .etype = "AirQualityObserved",
                               .attr = "no2",
                               .kind = TWIN_NUMBER,
                               .num = value,
                               .unit = "GQ",
                               .observed_ms = at,
                               .received_ms = at + 5,
                               .source = "urn:ngsi-ld:Subscription:s1"};
}

static void test_latest_and_history(const char *dir)
{
    char err[256];
    struct store *st = check_store_open(dir, err, sizeof(err));
    struct twins *t = st ? twins_open(st, 500, err, sizeof(err)) : NULL;
    struct twin_value batch[520];
    struct seen s = {0};

    CHECK(t != NULL);
    if (!t)
        return;
    for (int i = 0; i < 520; i++)
        batch[i] = no2(i, 1000LL * i);
    CHECK(twins_put(t, batch, 520) == 0);
    {
        struct twin_value name = {.entity = AQ,
                                  .etype = "AirQualityObserved",
                                  .attr = "airQualityLevel",
                                  .kind = TWIN_STRING,
                                  .text = "moderate",
                                  .unit = ""};
        CHECK(twins_put(t, &name, 1) == 0);
    }
    CHECK(twins_latest_each(t, count_value, &s) == 0);
    CHECK(s.n == 2); /* one row per attribute: the latest only */
    memset(&s, 0, sizeof(s));
    CHECK(twins_history_each(t, AQ, "no2", 10000, count_value, &s) == 0);
    CHECK(s.n == 500);                             /* bounded */
    CHECK(s.first_num == 20 && s.last_num == 519); /* the newest, oldest first */
    CHECK(strcmp(s.unit, "GQ") == 0 && s.observed_ms == 519000);
    memset(&s, 0, sizeof(s));
    CHECK(twins_history_each(t, AQ, "no2", 3, count_value, &s) == 0);
    CHECK(s.n == 3 && s.first_num == 517 && s.last_num == 519);
    memset(&s, 0, sizeof(s));
    CHECK(twins_history_each(t, AQ, NULL, 10000, count_value, &s) == 0);
    CHECK(s.n == 501 && strcmp(s.last_text, "moderate") == 0);

    /* All or nothing: a value without an entity spoils its batch. */
    batch[0] = no2(9999, 1);
    batch[1] = no2(9998, 2);
    batch[1].entity = NULL;
    CHECK(twins_put(t, batch, 2) < 0 && strstr(twins_error(t), "twins:"));
    memset(&s, 0, sizeof(s));
    CHECK(twins_history_each(t, AQ, "no2", 1, count_value, &s) == 0);
    CHECK(s.n == 1 && s.last_num == 519);
    twins_close(t);
    store_close(st);

    /* Everything is still there after a reopen. */
    st = check_store_open(dir, err, sizeof(err));
    t = st ? twins_open(st, 500, err, sizeof(err)) : NULL;
    CHECK(t != NULL);
    if (!t)
        return;
    memset(&s, 0, sizeof(s));
    CHECK(twins_latest_each(t, count_value, &s) == 0 && s.n == 2);
    memset(&s, 0, sizeof(s));
    CHECK(twins_history_each(t, AQ, "no2", 10000, count_value, &s) == 0 && s.n == 500);
    twins_close(t);
    store_close(st);
}

static void test_bounds(const char *dir)
{
    char err[256];
    struct store *st = check_store_open(dir, err, sizeof(err));
    CHECK(st && !twins_open(st, 0, err, sizeof(err)) && strstr(err, "history"));
    CHECK(st && !twins_open(st, 100001, err, sizeof(err)) && strstr(err, "1..100000"));
    store_close(st);
}

int main(void)
{
    char dir[] = "/tmp/venue-twins-XXXXXX", cmd[64];
    if (!mkdtemp(dir))
        return 1;
    test_latest_and_history(dir);
    test_bounds(dir);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_report();
}
