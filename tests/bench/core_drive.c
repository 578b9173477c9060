/*
 * core_drive.c - the hot path with no network: N avatars in the bench
 * arena each send a pose every tick for T ticks, and every frame the core
 * queues is taken as if written. For counting instructions under
 * callgrind, which is repeatable on a shared machine where wall-clock
 * benchmarks are not (BENCHMARKS.md, "The core alone").
 *
 *   core_drive SCENES_DIR [N [T]]     (defaults 500 avatars, 100 ticks)
 *
 * Prints the frames and bytes the core queued, so two builds can be
 * checked to do the same work before their counts are compared.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "scene.h"
#include "venue.h"

struct conn {
    struct session *s;
};

static void io_wake(void *ctx, void *c)
{
    (void)ctx;
    (void)c;
}

static void io_close(void *ctx, void *c, int code, const char *reason, struct frame *last)
{
    (void)ctx;
    (void)code;
    (void)reason;
    (void)last;
    ((struct conn *)c)->s = NULL;
}

static void io_bind(void *ctx, void *c, struct session *s)
{
    (void)ctx;
    ((struct conn *)c)->s = s;
}

static unsigned long long frames, bytes;

static void drain(struct venue *v, struct conn *c, long long now)
{
    struct frame *f;
    while (c->s && (f = venue_peek(c->s))) {
        frames++;
        bytes += f->len;
        venue_sent(v, c->s, now);
    }
}

static void say(struct venue *v, struct conn *c, const char *text, long long now)
{
    if (c->s)
        venue_message(v, c->s, text, strlen(text), now);
}

int main(int argc, char **argv)
{
    static const struct venue_io io = {.wake = io_wake, .close = io_close, .bind = io_bind};
    struct venue_config cfg;
    struct scene_set scenes = {0};
    char err[512], text[256];
    int n = argc > 2 ? atoi(argv[2]) : 500, ticks = argc > 3 ? atoi(argv[3]) : 100;
    long long now = 1000;
    struct conn *conns;
    struct venue *v;

    if (argc < 2 || n < 1 || n > 5000 || ticks < 1 || ticks > 100000) {
        fprintf(stderr, "usage: core_drive SCENES_DIR [AVATARS 1..5000 [TICKS]]\n");
        return 2;
    }
    config_defaults(&cfg);
    cfg.queue_max = 16777216;
    cfg.queue_frames = 4096;
    if (scene_set_load(argv[1], &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "core_drive: %s\n", err);
        return 1;
    }
    v = venue_new(&cfg, &io, &scenes, NULL, NULL, now, err, sizeof(err));
    conns = calloc((size_t)n, sizeof(*conns));
    if (!v || !conns) {
        fprintf(stderr, "core_drive: %s\n", v ? "out of memory" : err);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        conns[i].s = venue_connect(v, &conns[i], now);
        snprintf(text, sizeof(text), "{\"type\":\"hello\",\"name\":\"avatar %d\"}", i);
        say(v, &conns[i], text, now);
        say(v, &conns[i], "{\"type\":\"join\",\"room\":\"arena\"}", now);
        drain(v, &conns[i], now);
    }
    frames = bytes = 0;
    for (int t = 0; t < ticks; t++) {
        now += 50;
        for (int i = 0; i < n; i++) {
            double a = 0.05 * t + i;
            snprintf(text, sizeof(text),
                     "{\"type\":\"pose\",\"p\":[%.3f,0,%.3f],\"q\":[0,%.5f,0,%.5f]}",
                     (i % 40) * 4.0 - 80 + sin(a), (i / 40) * 4.0 - 80 + cos(a), sin(a / 2),
                     cos(a / 2));
            say(v, &conns[i], text, now);
        }
        venue_tick(v, now);
        for (int i = 0; i < n; i++)
            drain(v, &conns[i], now);
    }
    printf("core_drive: %d avatars, %d ticks: %llu frames, %llu bytes queued\n", n, ticks, frames,
           bytes);
    venue_free(v);
    free(conns);
    scene_set_free(&scenes);
    return 0;
}
