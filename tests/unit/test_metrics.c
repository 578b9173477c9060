/*
 * test_metrics.c - server/core/metrics.c: histogram_observe's bucket
 * boundaries (a bucket's upper bound is inclusive, above the last only
 * +Inf) and metrics_render's Prometheus text: every family has its HELP
 * and TYPE lines before its samples, each counter and labelled counter
 * shows its value, per-room gauges and counters, histogram buckets
 * cumulative with +Inf equal to _count, and _sum.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "metrics.h"

/* The buckets' upper bounds, as the exposition must show them. */
static const double le[METRIC_BUCKETS] = {0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.0025,
                                          0.005,   0.01,    0.025,  0.05,   0.1,   0.5};

/* The value on the line "sample VALUE" of text, as written, or NULL. The
 * result is valid until the next call. */
static const char *value(const char *text, const char *sample)
{
    static char v[64];
    size_t n = strlen(sample);
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strncmp(l, sample, n) == 0 && l[n] == ' ') {
            size_t len = strcspn(l + n + 1, "\n");
            if (len >= sizeof(v))
                len = sizeof(v) - 1;
            memcpy(v, l + n + 1, len);
            v[len] = '\0';
            return v;
        }
    }
    return NULL;
}

static int has_value(const char *text, const char *sample, const char *expected)
{
    const char *v = value(text, sample);
    if (!v || strcmp(v, expected) != 0) {
        fprintf(stderr, "  %s: expected %s, got %s\n", sample, expected, v ? v : "(no line)");
        return 0;
    }
    return 1;
}

struct family {
    char name[96];
    char type[16];
};

/*
 * The text format's structure: every line ends in a newline; "# HELP name
 * text" is followed by "# TYPE name counter|gauge|histogram"; no family is
 * declared twice; every sample belongs to the family declared last (a
 * histogram's _bucket, _sum and _count to the histogram), counters end in
 * _total, and every value is a number. Returns the number of families
 * declared, or -1 (after a CHECK failed).
 */
static int check_structure(const char *text, struct family *fams, size_t max)
{
    size_t n = 0, len = strlen(text);
    const char *l = text;
    int bad_before = failed;

    CHECK(len > 0 && text[len - 1] == '\n');
    while (*l) {
        size_t ll = strcspn(l, "\n");
        char line[512];
        snprintf(line, sizeof(line), "%.*s", (int)ll, l);
        l += ll + (l[ll] == '\n');
        if (strncmp(line, "# HELP ", 7) == 0) {
            char name[96], type[16], want[128];
            size_t nl = strcspn(line + 7, " ");
            const char *next = l;
            size_t tl = strcspn(next, "\n");
            CHECK(nl > 0 && nl < sizeof(name) && line[7 + nl] == ' ' && line[8 + nl]);
            snprintf(name, sizeof(name), "%.*s", (int)nl, line + 7);
            /* The TYPE line comes right after. */
            snprintf(want, sizeof(want), "# TYPE %s ", name);
            CHECK(strncmp(next, want, strlen(want)) == 0);
            snprintf(type, sizeof(type), "%.*s", (int)(tl - strlen(want)), next + strlen(want));
            CHECK(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
                  strcmp(type, "histogram") == 0);
            if (strcmp(type, "counter") == 0)
                CHECK(strlen(name) > 6 && strcmp(name + strlen(name) - 6, "_total") == 0);
            for (size_t i = 0; i < n; i++)
                CHECK(strcmp(fams[i].name, name) != 0);
            CHECK(n < max);
            if (n < max) {
                snprintf(fams[n].name, sizeof(fams[n].name), "%s", name);
                snprintf(fams[n].type, sizeof(fams[n].type), "%s", type);
                n++;
            }
            l = next + tl + (next[tl] == '\n');
            continue;
        }
        CHECK(line[0] != '#'); /* a TYPE line without its HELP, or a stray comment */
        CHECK(line[0] != '\0');
        {
            size_t nl = strcspn(line, "{ ");
            char name[96];
            const char *v = strrchr(line, ' ');
            char *end;
            snprintf(name, sizeof(name), "%.*s", (int)nl, line);
            CHECK(n > 0);
            if (n > 0 && strcmp(name, fams[n - 1].name) != 0) {
                size_t fl = strlen(fams[n - 1].name);
                /* Only a histogram has samples under other names. */
                CHECK(strcmp(fams[n - 1].type, "histogram") == 0 &&
                      strncmp(name, fams[n - 1].name, fl) == 0 &&
                      (strcmp(name + fl, "_bucket") == 0 || strcmp(name + fl, "_sum") == 0 ||
                       strcmp(name + fl, "_count") == 0));
            }
            CHECK(v && v[1]);
            if (v) {
                (void)strtod(v + 1, &end);
                CHECK(*end == '\0');
            }
            if (line[nl] == '{')
                CHECK(strchr(line, '}') && strchr(line, '}') < v);
        }
    }
    if (failed != bad_before) {
        fprintf(stderr, "  in this exposition:\n%s", text);
        return -1;
    }
    return (int)n;
}

static const char *type_of_family(const struct family *fams, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(fams[i].name, name) == 0)
            return fams[i].type;
    return NULL;
}

/* name's buckets: one line per bound in order, cumulative (non-decreasing
 * and equal to the running sum of expected[]), then +Inf, _sum, _count. */
static void check_histogram(const char *text, const char *name, const uint64_t *expected,
                            uint64_t count, double sum)
{
    char sample[160], want[32];
    const char *pos = text;
    uint64_t cum = 0;

    for (int i = 0; i < METRIC_BUCKETS; i++) {
        char le_text[32];
        const char *line, *v;
        char *end;
        cum += expected[i];
        /* Find the i-th bucket line in order and read its bound. */
        snprintf(sample, sizeof(sample), "%s_bucket{le=\"", name);
        line = strstr(pos, sample);
        CHECK(line != NULL);
        if (!line)
            return;
        snprintf(le_text, sizeof(le_text), "%.*s", (int)strcspn(line + strlen(sample), "\""),
                 line + strlen(sample));
        CHECK(strtod(le_text, &end) == le[i] && *end == '\0');
        v = strchr(line, ' ');
        CHECK(v && strtoull(v + 1, NULL, 10) == cum);
        pos = line + 1;
    }
    snprintf(sample, sizeof(sample), "%s_bucket{le=\"+Inf\"}", name);
    snprintf(want, sizeof(want), "%llu", (unsigned long long)count);
    CHECK(has_value(text, sample, want));
    /* +Inf comes after the last finite bucket. */
    CHECK(strstr(text, sample) > pos - 1);
    snprintf(sample, sizeof(sample), "%s_count", name);
    CHECK(has_value(text, sample, want));
    snprintf(sample, sizeof(sample), "%s_sum", name);
    CHECK(value(text, sample) != NULL);
    CHECK(value(text, sample) && fabs(strtod(value(text, sample), NULL) - sum) < 1e-9);
}

static void test_observe_boundaries(void)
{
    for (int i = 0; i < METRIC_BUCKETS; i++) {
        struct histogram h = {0};
        int others = 0;
        /* Exactly at a bound: in that bucket (le is "less or equal"). */
        histogram_observe(&h, le[i]);
        CHECK(h.counts[i] == 1);
        for (int k = 0; k < METRIC_BUCKETS; k++)
            others += k != i && h.counts[k] != 0;
        CHECK(others == 0);
        CHECK(h.count == 1);
        CHECK(h.sum == le[i]);

        /* Just above it: the next bucket, or only +Inf after the last. */
        h = (struct histogram){0};
        histogram_observe(&h, nextafter(le[i], 1.0));
        CHECK(h.counts[i] == 0);
        if (i + 1 < METRIC_BUCKETS)
            CHECK(h.counts[i + 1] == 1);
        else
            for (int k = 0; k < METRIC_BUCKETS; k++)
                CHECK(h.counts[k] == 0);
        CHECK(h.count == 1);

        /* Just below it: still this bucket unless below the previous bound. */
        h = (struct histogram){0};
        histogram_observe(&h, nextafter(le[i], 0.0));
        CHECK(h.counts[i] == 1);
    }
    {
        struct histogram h = {0};
        histogram_observe(&h, 0.0);
        histogram_observe(&h, -1.0); /* a clock step back: counted low */
        histogram_observe(&h, 3.0);
        histogram_observe(&h, 1e9);
        CHECK(h.counts[0] == 2);
        CHECK(h.count == 4);
        CHECK(h.sum == 0.0 - 1.0 + 3.0 + 1e9);
        for (int k = 1; k < METRIC_BUCKETS; k++)
            CHECK(h.counts[k] == 0);
    }
}

static void test_render_empty(void)
{
    struct metrics m = {0};
    struct proto_buf b = {0};
    struct family fams[32];
    int n;
    static const uint64_t zeros[METRIC_BUCKETS] = {0};

    CHECK(metrics_render(&m, NULL, 0, &b) == 0);
    CHECK(b.data != NULL);
    if (!b.data)
        return;
    n = check_structure(b.data, fams, 32);
    CHECK(n == 16);
    {
        static const char *const want[][2] = {
            {"venue_connections", "gauge"},
            {"venue_connections_total", "counter"},
            {"venue_room_sessions", "gauge"},
            {"venue_fanout_bytes_total", "counter"},
            {"venue_messages_in_total", "counter"},
            {"venue_messages_out_total", "counter"},
            {"venue_frames_dropped_total", "counter"},
            {"venue_rate_limited_total", "counter"},
            {"venue_closed_total", "counter"},
            {"venue_detached_dropped_total", "counter"},
            {"venue_interest_cut_total", "counter"},
            {"venue_parked_total", "counter"},
            {"venue_parked_refused_total", "counter"},
            {"venue_tick_duration_seconds", "histogram"},
            {"venue_join_latency_seconds", "histogram"},
            {"venue_sqlite_write_seconds", "histogram"},
        };
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
            const char *t = type_of_family(fams, n, want[i][0]);
            CHECK(t && strcmp(t, want[i][1]) == 0);
            if (!t || strcmp(t, want[i][1]) != 0)
                fprintf(stderr, "  family %s: type %s\n", want[i][0], t ? t : "(missing)");
        }
    }
    /* Without rooms the per-room families are declared but have no sample. */
    CHECK(strstr(b.data, "venue_room_sessions{") == NULL);
    CHECK(strstr(b.data, "venue_fanout_bytes_total{") == NULL);
    CHECK(has_value(b.data, "venue_connections", "0"));
    CHECK(has_value(b.data, "venue_messages_in_total{type=\"hello\"}", "0"));
    CHECK(has_value(b.data, "venue_messages_in_total{type=\"invalid\"}", "0"));
    CHECK(has_value(b.data, "venue_tick_duration_seconds_sum", "0.000000000"));
    check_histogram(b.data, "venue_tick_duration_seconds", zeros, 0, 0);
    check_histogram(b.data, "venue_join_latency_seconds", zeros, 0, 0);
    check_histogram(b.data, "venue_sqlite_write_seconds", zeros, 0, 0);
    proto_buf_free(&b);
}

static void test_render_values(void)
{
    struct metrics m = {0};
    struct proto_buf b = {0};
    struct family fams[32];
    const struct metrics_room rooms[] = {
        {.id = "lobby", .sessions = 3, .fanout_bytes = 1234},
        {.id = "expo", .sessions = 0, .fanout_bytes = 0},
        {.id = "breakout-1", .sessions = 41, .fanout_bytes = UINT64_MAX},
    };
    static const char *const in[] = {"hello",   "join", "leave", "pose",   "chat",
                                     "status",  "hand", "mod",   "star",   "slide",
                                     "caption", "ask",  "vote",  "find",   "privacy",
                                     "react",   "dm",   "block", "report", "invalid"};
    static const char *const out[] = {
        "welcome",   "joined",      "left",   "presence", "poses",     "chat",     "error", "pose",
        "scene",     "mod_ok",      "kicked", "announce", "room",      "breakout", "stage", "twin",
        "programme", "stage_event", "voice",  "find",     "reactions", "dm"};
    static const char *const drops[] = {"stale_poses",  "queue_full",  "replay_full",
                                        "rate_limited", "closed_slow", "twin_history"};
    static const char *const rates[] = {"pose", "chat", "caption", "react", "other"};
    uint64_t tick[METRIC_BUCKETS] = {0}, join[METRIC_BUCKETS] = {0};
    double tick_sum = 0;
    char sample[128], want[32];

    m.connections = 7;
    m.connections_total = 12345;
    /* Distinct values everywhere, so a label on the wrong counter shows. */
    for (int i = 0; i <= PROTO_TYPE_COUNT; i++)
        m.in_by_type[i] = 100 + (uint64_t)i;
    for (int i = 0; i < MOUT_COUNT; i++)
        m.out_by_type[i] = 200 + (uint64_t)i;
    for (int i = 0; i < MDROP_COUNT; i++)
        m.dropped[i] = 300 + (uint64_t)i;
    for (int i = 0; i < MRATE_COUNT; i++)
        m.rate_limited[i] = 400 + (uint64_t)i;
    m.closed_flood = 5;
    m.closed_too_large = 6;
    m.closed_address = 8;
    m.detached_dropped = 9;
    m.interest_cut = 11;
    m.parked = 5;
    m.park_refused = 2;
    m.out_by_type[MOUT_POSES] = UINT64_MAX;

    /* Ticks: two in the first bucket, one at 1 ms, one at 7 ms, one over. */
    {
        const double obs[] = {0.000001, 0.00001, 0.001, 0.007, 2.0};
        for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++) {
            histogram_observe(&m.tick, obs[i]);
            tick_sum += obs[i];
        }
        tick[0] = 2;
        tick[4] = 1;
        tick[7] = 1;
    }
    histogram_observe(&m.join, 0.5);
    join[11] = 1;

    CHECK(metrics_render(&m, rooms, 3, &b) == 0);
    CHECK(b.data != NULL);
    if (!b.data)
        return;
    CHECK(check_structure(b.data, fams, 32) == 16);

    CHECK(has_value(b.data, "venue_connections", "7"));
    CHECK(has_value(b.data, "venue_connections_total", "12345"));
    CHECK(has_value(b.data, "venue_room_sessions{room=\"lobby\"}", "3"));
    CHECK(has_value(b.data, "venue_room_sessions{room=\"expo\"}", "0"));
    CHECK(has_value(b.data, "venue_room_sessions{room=\"breakout-1\"}", "41"));
    CHECK(has_value(b.data, "venue_fanout_bytes_total{room=\"lobby\"}", "1234"));
    CHECK(has_value(b.data, "venue_fanout_bytes_total{room=\"expo\"}", "0"));
    CHECK(
        has_value(b.data, "venue_fanout_bytes_total{room=\"breakout-1\"}", "18446744073709551615"));
    /* Rooms in the order given. */
    CHECK(strstr(b.data, "venue_room_sessions{room=\"lobby\"}") <
          strstr(b.data, "venue_room_sessions{room=\"expo\"}"));

    for (int i = 0; i <= PROTO_TYPE_COUNT; i++) {
        snprintf(sample, sizeof(sample), "venue_messages_in_total{type=\"%s\"}", in[i]);
        snprintf(want, sizeof(want), "%d", 100 + i);
        CHECK(has_value(b.data, sample, want));
    }
    for (int i = 0; i < MOUT_COUNT; i++) {
        snprintf(sample, sizeof(sample), "venue_messages_out_total{type=\"%s\"}", out[i]);
        if (i == MOUT_POSES)
            snprintf(want, sizeof(want), "18446744073709551615");
        else
            snprintf(want, sizeof(want), "%d", 200 + i);
        CHECK(has_value(b.data, sample, want));
    }
    for (int i = 0; i < MDROP_COUNT; i++) {
        snprintf(sample, sizeof(sample), "venue_frames_dropped_total{reason=\"%s\"}", drops[i]);
        snprintf(want, sizeof(want), "%d", 300 + i);
        CHECK(has_value(b.data, sample, want));
    }
    for (int i = 0; i < MRATE_COUNT; i++) {
        snprintf(sample, sizeof(sample), "venue_rate_limited_total{kind=\"%s\"}", rates[i]);
        snprintf(want, sizeof(want), "%d", 400 + i);
        CHECK(has_value(b.data, sample, want));
    }
    CHECK(has_value(b.data, "venue_closed_total{reason=\"flood\"}", "5"));
    CHECK(has_value(b.data, "venue_closed_total{reason=\"too_large\"}", "6"));
    CHECK(has_value(b.data, "venue_closed_total{reason=\"address_limit\"}", "8"));
    CHECK(has_value(b.data, "venue_detached_dropped_total", "9"));
    CHECK(has_value(b.data, "venue_interest_cut_total", "11"));
    CHECK(has_value(b.data, "venue_parked_total", "5"));
    CHECK(has_value(b.data, "venue_parked_refused_total", "2"));
    /* Closed as too slow is the same count as the dropped reason. */
    snprintf(want, sizeof(want), "%d", 300 + MDROP_CLOSED_SLOW);
    CHECK(has_value(b.data, "venue_closed_total{reason=\"too_slow\"}", want));

    check_histogram(b.data, "venue_tick_duration_seconds", tick, 5, tick_sum);
    check_histogram(b.data, "venue_join_latency_seconds", join, 1, 0.5);
    {
        static const uint64_t zeros[METRIC_BUCKETS] = {0};
        check_histogram(b.data, "venue_sqlite_write_seconds", zeros, 0, 0);
    }
    /* The one over the last bound is in +Inf only: the 0.5 bucket has 4. */
    CHECK(has_value(b.data, "venue_tick_duration_seconds_bucket{le=\"0.5\"}", "4"));
    CHECK(has_value(b.data, "venue_tick_duration_seconds_bucket{le=\"+Inf\"}", "5"));

    /* Rendering appends: a second render into the same buffer doubles it. */
    {
        size_t once = b.len;
        CHECK(metrics_render(&m, rooms, 3, &b) == 0);
        CHECK(b.len == 2 * once);
        CHECK(memcmp(b.data, b.data + once, once) == 0);
    }
    proto_buf_free(&b);
}

int main(void)
{
    test_observe_boundaries();
    test_render_empty();
    test_render_values();
    return check_report();
}
