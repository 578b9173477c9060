/*
 * metrics.h - the counters and histograms venued exports at /metrics.
 *
 * Plain numbers in a struct owned by the venue: updating one is an add, so
 * the hot path can count everything. Rendering to the Prometheus text
 * format happens only when /metrics is asked for.
 */
#ifndef VENUE_METRICS_H
#define VENUE_METRICS_H

#include <stdint.h>

#include "proto.h"

/* Outgoing message kinds, for messages_out_total{type}. */
enum metric_out {
    MOUT_WELCOME,
    MOUT_JOINED,
    MOUT_LEFT,
    MOUT_PRESENCE,
    MOUT_POSES,
    MOUT_CHAT,
    MOUT_ERROR,
    MOUT_POSE,
    MOUT_SCENE,
    MOUT_MOD_OK,
    MOUT_KICKED,
    MOUT_ANNOUNCE,
    MOUT_ROOM,
    MOUT_BREAKOUT,
    MOUT_STAGE,
    MOUT_TWIN,
    MOUT_PROGRAMME,   /* programme, session, stars, reminder */
    MOUT_STAGE_EVENT, /* slides, caption, questions, question, floor */
    MOUT_VOICE,       /* voice, voice_peers */
    MOUT_FIND,        /* found, privacy */
    MOUT_REACTIONS,   /* a room's reactions of one tick */
    MOUT_DM,          /* dm, blocked, report, reported */
    MOUT_COUNT
};

enum metric_drop {
    MDROP_STALE_POSES,  /* a poses frame superseded before it was sent */
    MDROP_QUEUE_FULL,   /* poses dropped to make room for events */
    MDROP_REPLAY_FULL,  /* a detached session's oldest missed event */
    MDROP_RATE_LIMITED, /* a client message over its rate */
    MDROP_CLOSED_SLOW,  /* a session closed because its queue would not drain */
    MDROP_TWIN_HISTORY, /* a twin value that left the queue for the store unwritten */
    MDROP_COUNT
};

enum metric_rate { MRATE_POSE, MRATE_CHAT, MRATE_CAPTION, MRATE_REACT, MRATE_OTHER, MRATE_COUNT };

#define METRIC_BUCKETS 12

/* A latency histogram in seconds with fixed buckets. */
struct histogram {
    uint64_t counts[METRIC_BUCKETS]; /* non-cumulative, per bucket */
    uint64_t count;
    double sum;
};

struct metrics {
    int64_t connections;
    uint64_t connections_total;
    uint64_t in_by_type[PROTO_TYPE_COUNT + 1]; /* each proto_type, then "invalid" */
    uint64_t out_by_type[MOUT_COUNT];
    uint64_t dropped[MDROP_COUNT];
    uint64_t rate_limited[MRATE_COUNT];
    uint64_t closed_flood;
    uint64_t closed_too_large;
    struct histogram tick;
    struct histogram join;
    struct histogram sqlite_write;
    uint64_t detached_dropped; /* detached guests ended early, over --detached-guests */
    uint64_t closed_address;   /* closed for an address over --hello-rate or --resume-fail-rate */
    uint64_t interest_cut;     /* pose entries tiered frames left out: over the byte budget */
    uint64_t parked;           /* messages that waited for another process's write lock */
    uint64_t park_refused;     /* messages answered busy: waited too long, or over a bound */
};

void histogram_observe(struct histogram *h, double seconds);

/*
 * One room's gauges and counters, supplied by the caller at render time so
 * that metrics need not know what a room is.
 */
struct metrics_room {
    const char *id;
    int sessions;
    uint64_t fanout_bytes;
};

/* Append the Prometheus text exposition to b. */
int metrics_render(const struct metrics *m, const struct metrics_room *rooms, size_t nrooms,
                   struct proto_buf *b);

#endif
