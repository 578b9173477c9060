/*
 * metrics.c - Prometheus text rendering of struct metrics.
 */
#include "metrics.h"

#include <stdio.h>

static const double bucket_le[METRIC_BUCKETS] = {0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.0025,
                                                 0.005,   0.01,    0.025,  0.05,   0.1,   0.5};

static const char *const in_names[] = {
    "hello",   "join", "leave", "pose", "chat",    "status", "hand", "mod",   "star",   "slide",
    "caption", "ask",  "vote",  "find", "privacy", "react",  "dm",   "block", "report", "invalid"};
static const char *const out_names[] = {
    "welcome",   "joined",      "left",   "presence", "poses",     "chat",     "error", "pose",
    "scene",     "mod_ok",      "kicked", "announce", "room",      "breakout", "stage", "twin",
    "programme", "stage_event", "voice",  "find",     "reactions", "dm"};
static const char *const drop_names[] = {"stale_poses",  "queue_full",  "replay_full",
                                         "rate_limited", "closed_slow", "twin_history"};
static const char *const rate_names[] = {"pose", "chat", "caption", "react", "other"};

_Static_assert(sizeof(in_names) / sizeof(in_names[0]) == PROTO_TYPE_COUNT + 1, "in_names");
_Static_assert(sizeof(out_names) / sizeof(out_names[0]) == MOUT_COUNT, "out_names");
_Static_assert(sizeof(drop_names) / sizeof(drop_names[0]) == MDROP_COUNT, "drop_names");
_Static_assert(sizeof(rate_names) / sizeof(rate_names[0]) == MRATE_COUNT, "rate_names");

void histogram_observe(struct histogram *h, double seconds)
{
    int i = 0;
    while (i < METRIC_BUCKETS - 1 && seconds > bucket_le[i])
        i++;
    if (seconds > bucket_le[METRIC_BUCKETS - 1])
        i = METRIC_BUCKETS; /* only in +Inf */
    if (i < METRIC_BUCKETS)
        h->counts[i]++;
    h->count++;
    h->sum += seconds;
}

static int family(struct proto_buf *b, const char *name, const char *type, const char *help)
{
    return proto_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int labelled(struct proto_buf *b, const char *name, const char *label,
                    const char *const *values, const uint64_t *counts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (proto_buf_printf(b, "%s{%s=\"%s\"} %llu\n", name, label, values[i],
                             (unsigned long long)counts[i]) < 0)
            return -1;
    return 0;
}

static int histogram(struct proto_buf *b, const char *name, const char *help,
                     const struct histogram *h)
{
    uint64_t cum = 0;
    if (family(b, name, "histogram", help) < 0)
        return -1;
    for (int i = 0; i < METRIC_BUCKETS; i++) {
        cum += h->counts[i];
        if (proto_buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, bucket_le[i],
                             (unsigned long long)cum) < 0)
            return -1;
    }
    return proto_buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9f\n%s_count %llu\n", name,
                            (unsigned long long)h->count, name, h->sum, name,
                            (unsigned long long)h->count);
}

int metrics_render(const struct metrics *m, const struct metrics_room *rooms, size_t nrooms,
                   struct proto_buf *b)
{
    int rc = 0;
    rc |= family(b, "venue_connections", "gauge", "Open WebSocket connections.");
    rc |= proto_buf_printf(b, "venue_connections %lld\n", (long long)m->connections);
    rc |= family(b, "venue_connections_total", "counter", "WebSocket connections accepted.");
    rc |= proto_buf_printf(b, "venue_connections_total %llu\n",
                           (unsigned long long)m->connections_total);

    rc |= family(b, "venue_room_sessions", "gauge", "Sessions in each room, detached included.");
    for (size_t i = 0; i < nrooms; i++)
        rc |= proto_buf_printf(b, "venue_room_sessions{room=\"%s\"} %d\n", rooms[i].id,
                               rooms[i].sessions);
    rc |= family(b, "venue_fanout_bytes_total", "counter", "Bytes queued to clients per room.");
    for (size_t i = 0; i < nrooms; i++)
        rc |= proto_buf_printf(b, "venue_fanout_bytes_total{room=\"%s\"} %llu\n", rooms[i].id,
                               (unsigned long long)rooms[i].fanout_bytes);

    rc |= family(b, "venue_messages_in_total", "counter", "Client messages by type.");
    rc |= labelled(b, "venue_messages_in_total", "type", in_names, m->in_by_type,
                   sizeof(in_names) / sizeof(in_names[0]));
    rc |= family(b, "venue_messages_out_total", "counter", "Server messages queued by type.");
    rc |= labelled(b, "venue_messages_out_total", "type", out_names, m->out_by_type, MOUT_COUNT);
    rc |=
        family(b, "venue_frames_dropped_total", "counter", "Frames and messages dropped, by why.");
    rc |= labelled(b, "venue_frames_dropped_total", "reason", drop_names, m->dropped, MDROP_COUNT);
    rc |= family(b, "venue_rate_limited_total", "counter", "Rate-limit hits by message kind.");
    rc |= labelled(b, "venue_rate_limited_total", "kind", rate_names, m->rate_limited, MRATE_COUNT);
    rc |= family(b, "venue_closed_total", "counter", "Connections closed by the server, by why.");
    rc |= proto_buf_printf(b, "venue_closed_total{reason=\"flood\"} %llu\n",
                           (unsigned long long)m->closed_flood);
    rc |= proto_buf_printf(b, "venue_closed_total{reason=\"too_large\"} %llu\n",
                           (unsigned long long)m->closed_too_large);
    rc |= proto_buf_printf(b, "venue_closed_total{reason=\"too_slow\"} %llu\n",
                           (unsigned long long)m->dropped[MDROP_CLOSED_SLOW]);
    rc |= proto_buf_printf(b, "venue_closed_total{reason=\"address_limit\"} %llu\n",
                           (unsigned long long)m->closed_address);
    rc |= family(b, "venue_detached_dropped_total", "counter",
                 "Detached guest sessions ended before their grace, over --detached-guests.");
    rc |= proto_buf_printf(b, "venue_detached_dropped_total %llu\n",
                           (unsigned long long)m->detached_dropped);
    rc |= family(b, "venue_interest_cut_total", "counter",
                 "Pose entries interest tiers left out of a frame: over the room's byte budget.");
    rc |=
        proto_buf_printf(b, "venue_interest_cut_total %llu\n", (unsigned long long)m->interest_cut);
    rc |= family(b, "venue_parked_total", "counter",
                 "Messages that waited for another process's database write lock.");
    rc |= proto_buf_printf(b, "venue_parked_total %llu\n", (unsigned long long)m->parked);
    rc |= family(b, "venue_parked_refused_total", "counter",
                 "Messages answered busy: the write lock was held too long, or over a bound.");
    rc |= proto_buf_printf(b, "venue_parked_refused_total %llu\n",
                           (unsigned long long)m->park_refused);

    rc |= histogram(b, "venue_tick_duration_seconds", "Time spent in one tick.", &m->tick);
    rc |= histogram(b, "venue_join_latency_seconds", "Time to handle a join.", &m->join);
    rc |= histogram(b, "venue_sqlite_write_seconds", "Time of one batched SQLite write.",
                    &m->sqlite_write);
    return rc ? -1 : 0;
}
