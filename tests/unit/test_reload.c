/*
 * test_reload.c - a SIGHUP reload is all or nothing.
 *
 * The venue starts on a one-room set (the bench arena) and is handed a set
 * of eight rooms (the seven of the demo venue and the arena) while allocations fail at
 * the first, second, ... chance. After each failed reload the new set is
 * freed, as main.c does, and the venue must still be whole on the old one:
 * one room, people can join and walk, reports read it (under ASan a room
 * left pointing into the freed set is a use after free). The reload that
 * gets its memory must open all eight rooms.
 *
 * Allocations are failed by linking with -Wl,--wrap for malloc, calloc and
 * realloc (tests/core.cmake): only calls from our own objects are counted.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core_harness.h"
#include "proto.h"
#include "report.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);

static long fail_in = -1; /* allocations left before one fails; -1: never */

static bool fail_now(void)
{
    if (fail_in < 0)
        return false;
    return fail_in-- == 0;
}

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return fail_now() ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

/* A scenes folder with the demo venue and the arena side by side. */
static void make_both(const char *root, char *dir, size_t size)
{
    char cmd[2048];
    snprintf(dir, size, "/tmp/venue-reload-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(cmd, sizeof(cmd), "cp -r %s/scenes/demo/. %s/ && cp %s/tests/bench/venue/*.json %s/",
             root, dir, root, dir);
    CHECK(system(cmd) == 0);
}

/* The venue works: someone joins the arena, walks, and the reports read
 * every room. Returns how many rooms /api/venue lists. */
static size_t still_whole(struct venue *v)
{
    struct proto_buf b = {0};
    struct fconn *c = connect_as(v, "Probe", NULL);
    json_t *doc;
    size_t n;
    char pose[160];

    join(v, c, "arena");
    snprintf(pose, sizeof(pose), "{\"type\":\"pose\",\"p\":[0.5,0,0.5],\"q\":[0,0,0,1]}");
    now += 100;
    send_text(v, c, pose);
    venue_tick(v, now);
    json_decref(drain(v, c));
    CHECK(report_rooms(v, 0, &b) == 0 && report_presence(v, &b) == 0 &&
          report_metrics(v, &b) == 0);
    proto_buf_reset(&b);
    CHECK(report_rooms(v, 0, &b) == 0);
    doc = json_loadb(b.data, b.len, 0, NULL);
    n = json_array_size(json_object_get(doc, "rooms"));
    json_decref(doc);
    proto_buf_free(&b);
    venue_disconnect(v, c->s, now);
    free(c);
    return n;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : ".";
    char err[512], arena[1024], both[600];
    struct venue *v;
    long k;
    bool reloaded = false;

    config_defaults(&cfg);
    snprintf(arena, sizeof(arena), "%s/tests/bench/venue", root);
    if (scene_set_load(arena, &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "scenes: %s\n", err);
        return 1;
    }
    make_both(root, both, sizeof(both));
    v = venue_new(&cfg, &io, &scenes, NULL, NULL, now, err, sizeof(err));
    CHECK(v != NULL);
    if (!v)
        return check_report();
    const size_t first = scenes.n; /* the bench venue's rooms */
    CHECK(still_whole(v) == first);

    for (k = 0; k < 200 && !reloaded; k++) {
        struct scene_set next = {0};
        int rc;
        CHECK(scene_set_load(both, &next, err, sizeof(err)) == 0 && next.n == first + 7);
        fail_in = k;
        rc = venue_set_scenes(v, &next, err, sizeof(err));
        fail_in = -1;
        if (rc < 0) {
            CHECK(strstr(err, "out of memory") != NULL);
            scene_set_free(&next); /* what main.c does with a refused set */
            CHECK(still_whole(v) == first);
            continue;
        }
        scene_set_free(&scenes);
        scenes = next;
        reloaded = true;
    }
    CHECK(reloaded && k > 1);           /* it failed at least once before it got through */
    CHECK(still_whole(v) == first + 7); /* and the demo's seven */
    venue_free(v);
    scene_set_free(&scenes);
    {
        char cmd[700];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", both);
        CHECK(system(cmd) == 0);
    }
    fprintf(stderr, "reload: refused cleanly at %ld allocation failures, then took all %zu rooms\n",
            k - 1, first + 7);
    return check_report();
}
