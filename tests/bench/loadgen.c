/*
 * loadgen.c - venue-loadgen: a load generator for venued, in C.
 *
 * One thread, one epoll loop, thousands of WebSocket connections
 * (subprotocol venue.v1) to 127.0.0.1 only. N participants over R rooms
 * (round-robin over --room a,b,c) connect at a bounded rate, say hello as
 * guests, join, and then walk a random-waypoint path inside --bounds at
 * --speed, sending a pose at --rate Hz each with a random phase, so the
 * sends are spread evenly over the period rather than bunched. A share
 * --idle of them never send (they receive only). It either starts venued
 * itself (--bin) or measures one already running (--port, --pid).
 *
 * The stamp. Mover m's k-th pose is *scheduled* at s(m,k) = t0(m) + k*P
 * (microseconds on CLOCK_MONOTONIC, P = 1e6/rate rounded, t0 random in the
 * first period) and carries floor(s/1000) mod 8000 in its height:
 * y = 1 + (floor(s/1000) mod 8000)/1000, which the server keeps (it allows
 * y up to 10 m above the floor) and echoes with three decimals. The
 * generator knows every mover's t0 and P, so a stamp seen in a frame maps
 * back to the exact s(m,k) as long as delivery takes under 8 s. A pose is
 * sent at its scheduled time; when the generator falls behind it sends
 * the newest scheduled pose that is due (the skipped ones are counted) and
 * stamps that pose's *scheduled* time, so its lateness is in every number
 * below (no coordinated omission).
 *
 * With --poses binary every client says hello with "poses":"binary" and
 * sends its poses as binary messages (PROTOCOL.md, "Binary poses"): the
 * stamp survives, since 16 bits over the room's 11 m of height are 0.17 mm
 * a step. Each client finds its own index ("ix") in its joined, so that a
 * probe maps an entry to a mover by (room, ix) instead of by id.
 *
 * Probes (--probes K, movers too) decode every poses frame, JSON with
 * jansson, binary with protocol/poses_bin.c.
 *   entry latency: for each entry of a poses frame, receive time minus the
 *     entry's scheduled time s; entries with s in the window only.
 *   delivery latency: for each scheduled pose s(m,k) in the window, the
 *     time from s to the first frame at a probe that holds mover m with a
 *     stamp >= s(m,k) (the pose itself or a newer one); poses superseded
 *     before a tick took them count with the time the newer one arrived.
 *   freshness: over every (probe p, mover m in p's room, m != p, pose k
 *     scheduled in the window), the share in which p received m's pose k
 *     or a newer one no later than s(m,k) + 1/tick_hz + --fresh-slack.
 *     A pose the server never forwarded, or forwarded late, counts against
 *     it. With poses at the tick rate this is the share of ticks in which
 *     each avatar's newest pose reached each probe in that tick's frame.
 *   the near tier (a room with interest tiers, PROTOCOL.md): the same two
 *     over the entries of a frame's nearest tier only. A mover's chain at
 *     a probe starts when it first comes in the near tier and ends when it
 *     comes beyond it; while the chain holds, every scheduled pose up to
 *     the one seen counts, fresh if seen in time. Catch-up frames (no
 *     near count) continue a chain. In a tiered run these are the bar: the
 *     far tiers come at a lower rate by design.
 *
 * Everyone counts poses frames and bytes (WebSocket payload) in the window
 * without parsing them. Server CPU is utime+stime of --pid from /proc over
 * the window, in % of one core and in microseconds per delivered pose
 * entry (entries per frame at the probes x poses frames received by all);
 * RSS before connecting, after everyone joined (idle), and at the end. The
 * generator's own CPU comes from getrusage: above 80% of its core the run
 * is marked invalid, since then the generator, not the server, limits; so
 * is a run whose sends were so late that poses were skipped (send
 * lateness p99 over one pose period, or over 0.1% of them skipped).
 *
 * The transport is a small WebSocket client of its own (RFC 6455, client
 * side only, no TLS, no extensions) over epoll, level-triggered, EPOLLOUT
 * asked for only while a send is pending. It replaced the libwebsockets
 * 4.1 client, which parses every frame byte by byte: at 250 clients all
 * moving at 20 Hz that parser took ~38% of the generator's core and
 * poll() over every socket another ~37%, so the generator, not the
 * server, was the limit. Here each readable socket is drained with recv
 * in 256 KiB chunks into one shared scratch buffer and frames are parsed
 * by their headers only: a non-probe peeks at the first 24 bytes of a
 * message for its type ({"type":"...) and skips the payload of everything
 * but the few messages it needs (welcome, joined, error, a pose
 * correction), counting frames and bytes; probes reassemble whole poses
 * messages for jansson. Pings are answered, fragmented messages and
 * control frames between fragments are handled, client frames are masked.
 * The timers (the pose schedule, the 5 ms control tick) are deadlines that
 * bound epoll_pwait2's timeout, in microseconds.
 *
 * Output: one JSON line on stdout (and appended to --json FILE), a short
 * summary on stderr. Every phase has a deadline and an alarm() backs them
 * up: the program always ends by itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "poses_bin.h"

#define LG_HOST        "127.0.0.1" /* the only address we ever connect to */
#define LG_STAMP_MOD   8000        /* ms: a stamp is unambiguous below 8 s */
#define LG_TAIL_US     1500000     /* after the window: late sightings still count */
#define LG_CTL_US      5000        /* control timer: connects, phases */
#define LG_HIST_STEP   50          /* us per histogram bucket */
#define LG_HIST_N      200000      /* buckets: up to 10 s, then one overflow */
#define LG_MAX_FLAGS   16          /* --server-flag repeats */
#define LG_MAX_ROOMS   64
#define LG_MAX_SWEEP   32
#define LG_MAX_NODES   8 /* --port and the --also nodes of one venue */
#define LG_MAX_CLIENTS 20000
#define LG_SCRATCH     (256 * 1024) /* one recv's worth, shared by every client */
#define LG_PEEK        24           /* bytes of a message that tell its type */
#define LG_OUT         512          /* one outgoing frame (or the upgrade request) */
#define LG_HS_MAX      8192         /* the server's upgrade response */
#define LG_EVENTS      256          /* epoll events per wait */

/* ---- options ------------------------------------------------------------ */

struct lg_opts {
    int clients;                  /* N participants */
    int rooms;                    /* R: the first R ids of room_ids; 0 = all */
    char *room_ids[LG_MAX_ROOMS]; /* point into room_buf */
    char *room_buf;               /* the --room text, split in place; owned */
    int n_room_ids;
    int room_copies;       /* --room-copies: that many rooms made from the first --room */
    char copy_of[64];      /* the room they are copies of */
    double rate;           /* poses per second per mover */
    double idle;           /* share of clients that never send */
    int probes;            /* K probes, movers that decode everything */
    double speed;          /* m/s */
    double bounds[4];      /* xmin, zmin, xmax, zmax of the walk */
    double connect_rate;   /* connections opened per second */
    double duration;       /* measured seconds */
    double warmup;         /* seconds walking before the window */
    double join_timeout;   /* seconds for everyone to connect and join */
    double settle;         /* seconds from the last join to the first pose */
    double fresh_slack_ms; /* freshness deadline: one tick + this */
    const char *bin;       /* venued to start, or NULL with --port */
    const char *scenes, *web;
    const char *server_flags[LG_MAX_FLAGS]; /* NAME=VALUE, borrowed from argv */
    int n_server_flags;
    int port, pid; /* an already running venued */
    /* More nodes of the same venue (--also): clients go round-robin over
     * --port and these, and the CPU and RSS are every node's. */
    int also_port[LG_MAX_NODES - 1], also_pid[LG_MAX_NODES - 1];
    int n_also;
    int server_cpu, gen_cpu; /* -1: no pinning */
    const char *json, *label;
    bool check;
    bool expect_tiers;       /* --check also wants tiered frames at the probes */
    bool binary;             /* --poses binary */
    int sweep[LG_MAX_SWEEP]; /* N values, increasing */
    int n_sweep;
};

static void usage(FILE *f)
{
    fputs("usage: venue-loadgen [--flag value]...\n"
          "  --clients N        participants (100), 1..20000\n"
          "  --room IDS         comma-separated room ids, clients round-robin over them (arena)\n"
          "  --rooms R          use the first R ids of --room (all of them)\n"
          "  --room-copies R    for the started venued, R copies of the first --room's scene\n"
          "                     (ids ROOM-1..ROOM-R), the clients round-robin over them\n"
          "  --rate H           poses per second each mover sends (20), 0 < H <= 60\n"
          "  --idle F           share of clients that never send poses (0), 0..1\n"
          "  --probes K         movers that decode every frame for latency (10), 0..64\n"
          "  --speed V          walking speed in m/s (1.4), 0 < V < 10\n"
          "  --bounds X0,Z0,X1,Z1  walk area in metres (-100,-100,100,100; kept 1 m inside)\n"
          "  --connect-rate C   connections opened per second (200), 1..5000\n"
          "  --duration S       measured seconds (10), 1..600\n"
          "  --warmup S         seconds of walking before the measurement (3), 0..120\n"
          "  --join-timeout S   seconds for all to connect and join (60), 1..600\n"
          "  --settle S         seconds between the last join and the first pose, for the join\n"
          "                     traffic (rosters, presence) to drain (0.2), 0..120\n"
          "  --fresh-slack MS   freshness deadline is one tick plus this (50), 0..1000\n"
          "  --poses F          json or binary: how every client gets and sends poses (json)\n"
          "  --bin PATH         venued to start ($VENUED_BIN, else build-bench/server/venued)\n"
          "  --scenes DIR       scene folder for the started venued (tests/bench/venue)\n"
          "  --web DIR          web folder for the started venued (web-client)\n"
          "  --server-flag K=V  extra flag for the started venued, repeatable; it already gets\n"
          "                     --queue-max 16777216 --queue-frames 4096 --hello-rate 1000000\n"
          "                     --hello-burst 1000000\n"
          "  --port P           measure a venued already listening on 127.0.0.1:P\n"
          "  --pid PID          with --port: that venued's pid, for CPU and RSS\n"
          "  --also P:PID,...   with --port: more nodes of the same venue (a cluster), up to 7;\n"
          "                     clients and probes go round-robin over all of them\n"
          "  --host H           only 127.0.0.1 (or localhost) is accepted\n"
          "  --server-cpu C     pin the started venued to CPU C (none)\n"
          "  --gen-cpu C        pin this generator to CPU C (none)\n"
          "  --json FILE        append the result line to FILE\n"
          "  --label TEXT       free text stored with the result\n"
          "  --sweep N1,N2,...  run once per N (increasing), each with a fresh venued; report\n"
          "                     the largest N with p99 <= 100 ms, freshness >= 99%, no backlog\n"
          "  --check            smoke mode: exit 1 unless the basic numbers are sane\n"
          "  --expect-tiers     with --check: and unless the probes got tiered frames\n"
          "  --help             this text\n",
          f);
}

static int bad_flag(const char *flag, const char *why, const char *val)
{
    if (val && *val)
        fprintf(stderr, "venue-loadgen: %s: %s (got \"%s\")\n", flag, why, val);
    else
        fprintf(stderr, "venue-loadgen: %s: %s\n", flag, why);
    return -1;
}

static int parse_int(const char *flag, const char *v, long lo, long hi, int *out);

/* --also PORT:PID,PORT:PID,... */
static int parse_also(const char *flag, const char *v, struct lg_opts *o)
{
    char item[64];
    const char *p = v;
    o->n_also = 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        char *colon;
        if (n == 0 || n >= sizeof item || o->n_also == LG_MAX_NODES - 1)
            return bad_flag(flag, "PORT:PID pairs separated by commas, at most 7", v);
        memcpy(item, p, n);
        item[n] = '\0';
        colon = strchr(item, ':');
        if (!colon)
            return bad_flag(flag, "each node is PORT:PID", item);
        *colon = '\0';
        if (parse_int(flag, item, 1, 65535, &o->also_port[o->n_also]) ||
            parse_int(flag, colon + 1, 1, 1 << 30, &o->also_pid[o->n_also]))
            return -1;
        o->n_also++;
        p += n + (p[n] == ',');
    }
    return o->n_also ? 0 : bad_flag(flag, "no node given", v);
}

static int parse_int(const char *flag, const char *v, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) {
        char why[96];
        snprintf(why, sizeof why, "a whole number from %ld to %ld", lo, hi);
        return bad_flag(flag, why, v);
    }
    *out = (int)n;
    return 0;
}

/* lo_open: the lower bound itself is not allowed (rate > 0). */
static int parse_dbl(const char *flag, const char *v, double lo, double hi, bool lo_open,
                     bool hi_open, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d) || d < lo || d > hi || (lo_open && d == lo) ||
        (hi_open && d == hi)) {
        char why[96];
        snprintf(why, sizeof why, "a number, %s%g to %g%s", lo_open ? "above " : "", lo, hi,
                 hi_open ? " (exclusive)" : "");
        return bad_flag(flag, why, v);
    }
    *out = d;
    return 0;
}

/* Splits a comma list in place (v is a copy we own). */
static int split_list(char *v, char **parts, int max)
{
    int n = 0;
    for (char *save = NULL, *t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == max)
            return -1;
        parts[n++] = t;
    }
    return n;
}

static int parse_rooms(const char *flag, const char *v, struct lg_opts *o)
{
    char *copy = strdup(v);
    if (!copy)
        return -1;
    free(o->room_buf); /* a second --room replaces the first */
    o->room_buf = copy;
    int n = split_list(copy, o->room_ids, LG_MAX_ROOMS);
    if (n <= 0)
        return bad_flag(flag, "1 to 64 comma-separated room ids", v);
    for (int i = 0; i < n; i++)
        for (const char *p = o->room_ids[i]; *p; p++)
            if (!(*p == '-' || *p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9')))
                return bad_flag(flag, "room ids are letters, digits, - and _", v);
    o->n_room_ids = n;
    return 0;
}

/* --room-copies: the room ids become FIRST-1..FIRST-R. */
static int copy_rooms(struct lg_opts *o)
{
    char list[LG_MAX_ROOMS * 72] = "", id[72];
    if (o->port)
        return bad_flag("--room-copies", "only for a venued started here", "");
    if (strlen(o->room_ids[0]) >= sizeof o->copy_of - 4)
        return bad_flag("--room-copies", "the first --room id is too long to copy", o->room_ids[0]);
    snprintf(o->copy_of, sizeof o->copy_of, "%s", o->room_ids[0]);
    for (int k = 1; k <= o->room_copies; k++) {
        int n = snprintf(id, sizeof id, "%s%s-%d", k > 1 ? "," : "", o->copy_of, k);
        if (n < 0 || (size_t)n >= sizeof id)
            return bad_flag("--room-copies", "the first --room id is too long to copy", id);
        strcat(list, id); /* at most 64 ids of under 72 bytes: list holds them */
    }
    if (parse_rooms("--room-copies", list, o))
        return -1;
    if (!o->rooms || o->rooms > o->n_room_ids)
        o->rooms = o->n_room_ids;
    return 0;
}

/* The copies' scene files into dir/scenes (dir is the started venued's,
 * removed with it); that folder into scenes. 0, or -1 with the reason said. */
static int write_room_copies(const struct lg_opts *o, const char *dir, char *scenes, size_t size)
{
    char path[PATH_MAX];
    json_error_t err;
    json_t *scene;
    snprintf(path, sizeof path, "%s/%s.json", o->scenes, o->copy_of);
    if (!(scene = json_load_file(path, 0, &err))) {
        fprintf(stderr, "venue-loadgen: --room-copies: %s: %s\n", path, err.text);
        return -1;
    }
    snprintf(scenes, size, "%s/scenes", dir);
    if (mkdir(scenes, 0755)) {
        perror("venue-loadgen: --room-copies: mkdir");
        json_decref(scene);
        return -1;
    }
    for (int k = 0; k < o->n_room_ids; k++) {
        int n = snprintf(path, sizeof path, "%s/%s.json", scenes, o->room_ids[k]);
        json_object_set_new(scene, "id", json_string(o->room_ids[k]));
        if (n < 0 || (size_t)n >= sizeof path || json_dump_file(scene, path, JSON_COMPACT)) {
            fprintf(stderr, "venue-loadgen: --room-copies: cannot write %s\n", path);
            json_decref(scene);
            return -1;
        }
    }
    json_decref(scene);
    return 0;
}

static int parse_bounds(const char *flag, const char *v, double b[4])
{
    char copy[128], *parts[5];
    snprintf(copy, sizeof copy, "%s", v);
    if (split_list(copy, parts, 5) != 4)
        return bad_flag(flag, "four numbers X0,Z0,X1,Z1", v);
    for (int i = 0; i < 4; i++)
        if (parse_dbl(flag, parts[i], -100000, 100000, false, false, &b[i]))
            return -1;
    if (b[2] - b[0] < 4 || b[3] - b[1] < 4)
        return bad_flag(flag, "X1 - X0 and Z1 - Z0 must be at least 4 m", v);
    return 0;
}

static int parse_sweep(const char *flag, const char *v, struct lg_opts *o)
{
    char copy[512], *parts[LG_MAX_SWEEP + 1];
    snprintf(copy, sizeof copy, "%s", v);
    int n = split_list(copy, parts, LG_MAX_SWEEP);
    if (n <= 0)
        return bad_flag(flag, "1 to 32 comma-separated client counts", v);
    for (int i = 0; i < n; i++) {
        if (parse_int(flag, parts[i], 2, LG_MAX_CLIENTS, &o->sweep[i]))
            return -1;
        if (i && o->sweep[i] <= o->sweep[i - 1])
            return bad_flag(flag, "client counts must increase", v);
    }
    o->n_sweep = n;
    return 0;
}

static int parse_args(int argc, char **argv, struct lg_opts *o)
{
    *o = (struct lg_opts){.clients = 100,
                          .rate = 20,
                          .probes = 10,
                          .speed = 1.4,
                          .bounds = {-100, -100, 100, 100},
                          .connect_rate = 200,
                          .duration = 10,
                          .warmup = 3,
                          .join_timeout = 60,
                          .settle = 0.2,
                          .fresh_slack_ms = 50,
                          .scenes = "tests/bench/venue",
                          .web = "web-client",
                          .server_cpu = -1,
                          .gen_cpu = -1};
    bool probes_set = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--check")) {
            o->check = true;
            continue;
        }
        if (!strcmp(a, "--expect-tiers")) {
            o->expect_tiers = true;
            continue;
        }
        if (strncmp(a, "--", 2)) {
            fprintf(stderr, "venue-loadgen: unexpected argument \"%s\" (see --help)\n", a);
            return -1;
        }
        /* --name value or --name=value */
        char name[40];
        const char *v;
        const char *eq = strchr(a, '=');
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
            v = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
            if (i + 1 >= argc) {
                fprintf(stderr, "venue-loadgen: %s needs a value (see --help)\n", a);
                return -1;
            }
            v = argv[++i];
        }
        int rc;
        if (!strcmp(name, "--clients"))
            rc = parse_int(name, v, 1, LG_MAX_CLIENTS, &o->clients);
        else if (!strcmp(name, "--room"))
            rc = parse_rooms(name, v, o);
        else if (!strcmp(name, "--rooms"))
            rc = parse_int(name, v, 1, LG_MAX_ROOMS, &o->rooms);
        else if (!strcmp(name, "--room-copies"))
            rc = parse_int(name, v, 1, LG_MAX_ROOMS, &o->room_copies);
        else if (!strcmp(name, "--rate"))
            rc = parse_dbl(name, v, 0, 60, true, false, &o->rate);
        else if (!strcmp(name, "--idle"))
            rc = parse_dbl(name, v, 0, 1, false, false, &o->idle);
        else if (!strcmp(name, "--probes")) {
            rc = parse_int(name, v, 0, 64, &o->probes);
            probes_set = true;
        } else if (!strcmp(name, "--speed"))
            rc = parse_dbl(name, v, 0, 10, true, true, &o->speed);
        else if (!strcmp(name, "--bounds"))
            rc = parse_bounds(name, v, o->bounds);
        else if (!strcmp(name, "--connect-rate"))
            rc = parse_dbl(name, v, 1, 5000, false, false, &o->connect_rate);
        else if (!strcmp(name, "--duration"))
            rc = parse_dbl(name, v, 1, 600, false, false, &o->duration);
        else if (!strcmp(name, "--warmup"))
            rc = parse_dbl(name, v, 0, 120, false, false, &o->warmup);
        else if (!strcmp(name, "--join-timeout"))
            rc = parse_dbl(name, v, 1, 600, false, false, &o->join_timeout);
        else if (!strcmp(name, "--settle"))
            rc = parse_dbl(name, v, 0, 120, false, false, &o->settle);
        else if (!strcmp(name, "--fresh-slack"))
            rc = parse_dbl(name, v, 0, 1000, false, false, &o->fresh_slack_ms);
        else if (!strcmp(name, "--poses"))
            rc = !strcmp(v, "json") || !strcmp(v, "binary") ? (o->binary = !strcmp(v, "binary"), 0)
                                                            : bad_flag(name, "json or binary", v);
        else if (!strcmp(name, "--bin"))
            o->bin = v, rc = 0;
        else if (!strcmp(name, "--scenes"))
            o->scenes = v, rc = 0;
        else if (!strcmp(name, "--web"))
            o->web = v, rc = 0;
        else if (!strcmp(name, "--server-flag")) {
            const char *e = strchr(v, '=');
            if (!e || e == v)
                rc = bad_flag(name, "NAME=VALUE", v);
            else if (o->n_server_flags == LG_MAX_FLAGS)
                rc = bad_flag(name, "at most 16 of them", v);
            else
                o->server_flags[o->n_server_flags++] = v, rc = 0;
        } else if (!strcmp(name, "--port"))
            rc = parse_int(name, v, 1, 65535, &o->port);
        else if (!strcmp(name, "--pid"))
            rc = parse_int(name, v, 1, 1 << 30, &o->pid);
        else if (!strcmp(name, "--also"))
            rc = parse_also(name, v, o);
        else if (!strcmp(name, "--host"))
            rc = strcmp(v, "127.0.0.1") && strcmp(v, "localhost")
                     ? bad_flag(name,
                                "only 127.0.0.1 is allowed: this tool never leaves the "
                                "machine",
                                v)
                     : 0;
        else if (!strcmp(name, "--server-cpu"))
            rc = parse_int(name, v, 0, CPU_SETSIZE - 1, &o->server_cpu);
        else if (!strcmp(name, "--gen-cpu"))
            rc = parse_int(name, v, 0, CPU_SETSIZE - 1, &o->gen_cpu);
        else if (!strcmp(name, "--json"))
            o->json = v, rc = 0;
        else if (!strcmp(name, "--label"))
            o->label = v, rc = 0;
        else if (!strcmp(name, "--sweep"))
            rc = parse_sweep(name, v, o);
        else {
            fprintf(stderr, "venue-loadgen: unknown flag %s (see --help)\n", name);
            return -1;
        }
        if (rc)
            return -1;
    }
    if (!o->n_room_ids && parse_rooms("--room", "arena", o))
        return -1;
    if (o->room_copies && copy_rooms(o) < 0)
        return -1;
    if (o->rooms > o->n_room_ids) {
        char n[16];
        snprintf(n, sizeof n, "%d", o->rooms);
        return bad_flag("--rooms", "more rooms than ids given with --room", n);
    }
    if (!o->rooms)
        o->rooms = o->n_room_ids;
    if (o->pid && !o->port)
        return bad_flag("--pid", "only with --port (a venued started here is measured anyway)", "");
    if (o->n_also && (!o->port || !o->pid))
        return bad_flag("--also", "only with --port and --pid (the first node)", "");
    if (o->port && o->bin)
        return bad_flag("--port", "either --port (a running venued) or --bin (start one)", "");
    if (o->port && o->server_cpu >= 0)
        return bad_flag("--server-cpu", "only for a venued started here; pin yours with taskset",
                        "");
    if (!o->port && !o->bin) {
        const char *env = getenv("VENUED_BIN");
        o->bin = env && *env ? env : "build-bench/server/venued";
    }
    if (o->bin && access(o->bin, X_OK))
        return bad_flag("--bin", "no executable venued there (build it, see BENCHMARKS.md)",
                        o->bin);
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    if (o->server_cpu >= ncpu || o->gen_cpu >= ncpu) {
        fprintf(stderr, "venue-loadgen: --server-cpu/--gen-cpu: this machine has CPUs 0..%ld\n",
                ncpu - 1);
        return -1;
    }
    (void)probes_set;
    return 0;
}

/* ---- small helpers ------------------------------------------------------ */

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: uniform in [0, 1). Seeded from the clock in main. */
static double rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* Latency histogram: fixed 50 us buckets to 10 s, the exact max beside. */
struct hist {
    uint64_t n, over;
    int64_t max_us;
    double sum_us;
    uint32_t *b; /* LG_HIST_N buckets, owned */
};

static void hist_add(struct hist *h, int64_t us)
{
    if (us < 0)
        us = 0;
    h->n++;
    h->sum_us += (double)us;
    if (us > h->max_us)
        h->max_us = us;
    int64_t i = us / LG_HIST_STEP;
    if (i >= LG_HIST_N)
        h->over++;
    else
        h->b[i]++;
}

/* The q-quantile in ms (upper edge of its bucket), or NAN when empty. */
static double hist_q(const struct hist *h, double q)
{
    if (!h->n)
        return NAN;
    uint64_t rank = (uint64_t)ceil(q * (double)h->n), c = 0;
    if (rank < 1)
        rank = 1;
    for (int64_t i = 0; i < LG_HIST_N; i++) {
        c += h->b[i];
        if (c >= rank) {
            double edge = (double)((i + 1) * LG_HIST_STEP) / 1000.0;
            double mx = (double)h->max_us / 1000.0;
            return edge < mx ? edge : mx;
        }
    }
    return (double)h->max_us / 1000.0;
}

static json_t *hist_json(const struct hist *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer((json_int_t)h->n));
    const char *names[] = {"p50", "p90", "p99", "p999"};
    const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (int i = 0; i < 4; i++)
        json_object_set_new(o, names[i], h->n ? json_real(hist_q(h, qs[i])) : json_null());
    json_object_set_new(o, "max", h->n ? json_real((double)h->max_us / 1000.0) : json_null());
    json_object_set_new(o, "mean",
                        h->n ? json_real(h->sum_us / (double)h->n / 1000.0) : json_null());
    return o;
}

/* The whole of a small file into buf (NUL-terminated); -1 if unreadable. */
static int read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return 0;
}

/* utime + stime of pid in microseconds, or -1. */
static int64_t proc_cpu_us(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (read_small(path, buf, sizeof buf))
        return -1;
    const char *p = strrchr(buf, ')'); /* the name may hold spaces */
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ") ": state is field 3; utime and stime are fields 14 and 15 */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    long tck = sysconf(_SC_CLK_TCK);
    return (int64_t)((ut + st) * 1000000ull / (unsigned long long)(tck > 0 ? tck : 100));
}

/* VmRSS of pid in KiB, or -1. */
static long proc_rss_kb(int pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if (read_small(path, buf, sizeof buf))
        return -1;
    const char *p = strstr(buf, "VmRSS:");
    return p ? strtol(p + 6, NULL, 10) : -1;
}

static int64_t self_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

static void loadavg(double la[3])
{
    char buf[128];
    la[0] = la[1] = la[2] = NAN;
    if (!read_small("/proc/loadavg", buf, sizeof buf))
        sscanf(buf, "%lf %lf %lf", &la[0], &la[1], &la[2]);
}

/* Whole-machine CPU time in microseconds, busy and total, from /proc/stat. */
static void machine_cpu(int64_t *busy, int64_t *total)
{
    char buf[512];
    unsigned long long f[8] = {0};
    *busy = *total = 0;
    if (read_small("/proc/stat", buf, sizeof buf) ||
        sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3],
               &f[4], &f[5], &f[6], &f[7]) != 8)
        return;
    long tck = sysconf(_SC_CLK_TCK);
    unsigned long long t = 0, us = 1000000ull / (unsigned long long)(tck > 0 ? tck : 100);
    for (int i = 0; i < 8; i++)
        t += f[i];
    *total = (int64_t)(t * us);
    *busy = *total - (int64_t)((f[3] + f[4]) * us);
}

static int pin_to(pid_t pid, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(pid, sizeof set, &set);
}

/*
 * A blocking HTTP GET on 127.0.0.1:port, body into *out (malloc'd, caller
 * frees). Used only outside the measurement window (health check, metrics
 * at the edges), so blocking the loop for it is harmless. Bounded: 5 s
 * socket timeouts, 8 MiB.
 */
static int http_get(int port, const char *path, char **out)
{
    *out = NULL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, LG_HOST, &sa.sin_addr);
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: " LG_HOST "\r\nConnection: close\r\n\r\n", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) || write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    for (int guard = 0; buf && guard < 100000; guard++) {
        if (len == cap) {
            if (cap >= 8u << 20)
                break;
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = 0;
        /* stop once Content-Length bytes of body are in */
        char *hend = strstr(buf, "\r\n\r\n");
        char *cl = strcasestr(buf, "content-length:");
        if (hend && cl && cl < hend && len - (size_t)(hend + 4 - buf) >= strtoul(cl + 15, 0, 10))
            break;
    }
    close(fd);
    if (!buf)
        return -1;
    buf[len] = 0;
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
        free(buf);
        return -1;
    }
    char *body = strstr(buf, "\r\n\r\n");
    memmove(buf, body ? body + 4 : buf + len, strlen(body ? body + 4 : buf + len) + 1);
    *out = buf;
    return status;
}

/* The sum of a Prometheus sample's values whose name{labels} starts with key. */
static double prom_sum(const char *text, const char *key)
{
    double s = 0;
    size_t kl = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (*l == '#' || strncmp(l, key, kl))
            continue;
        const char *sp = strchr(l, ' ');
        const char *nl = strchr(l, '\n');
        if (sp && (!nl || sp < nl))
            s += strtod(sp + 1, NULL);
    }
    return s;
}

/* ---- the started venued ------------------------------------------------- */

struct server {
    pid_t pid;
    int port;
    char dir[64]; /* temp data folder, removed at the end */
    char log[96]; /* its stdout and stderr */
};

static volatile sig_atomic_t g_server_pid; /* for the alarm handler */
static volatile sig_atomic_t g_interrupted;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof sa;
    inet_pton(AF_INET, LG_HOST, &sa.sin_addr);
    int port = -1;
    if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof sa) &&
        !getsockname(fd, (struct sockaddr *)&sa, &sl))
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static void server_stop(struct server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int status;
        for (int i = 0; i < 200 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
            usleep(50000); /* up to 10 s for a clean stop */
        if (waitpid(s->pid, &status, WNOHANG) == 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
        }
        s->pid = 0;
        g_server_pid = 0;
    }
    if (s->dir[0]) {
        nftw(s->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
        s->dir[0] = 0;
    }
}

static void print_log_tail(const struct server *s)
{
    char buf[2048];
    int fd = open(s->log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t end = lseek(fd, 0, SEEK_END);
    lseek(fd, end > 2000 ? end - 2000 : 0, SEEK_SET);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0) {
        buf[n] = 0;
        fprintf(stderr, "venued log tail:\n%s\n", buf);
    }
}

/*
 * Starts venued on a free port with a temp data folder, pinned to
 * server_cpu if asked, and waits up to 15 s for /healthz. Retries on
 * another port if the first was taken meanwhile.
 */
static int server_start(const struct lg_opts *o, struct server *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/venue-loadgen-XXXXXX");
    if (!mkdtemp(s->dir)) {
        s->dir[0] = 0;
        perror("venue-loadgen: mkdtemp");
        return -1;
    }
    snprintf(s->log, sizeof s->log, "%s/venued.log", s->dir);
    char copies[PATH_MAX];
    const char *scenes = o->scenes;
    if (o->room_copies) {
        if (write_room_copies(o, s->dir, copies, sizeof copies))
            return -1;
        scenes = copies;
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        s->port = free_port();
        char port[16];
        snprintf(port, sizeof port, "%d", s->port);
        const char *argv[20 + 2 * LG_MAX_FLAGS] = {
            o->bin, "--port", port, "--bind", LG_HOST, "--data", s->dir, "--scenes", scenes,
            "--web", o->web, "--queue-max", "16777216", "--queue-frames", "4096",
            /* every client comes from one address, at --connect-rate */
            "--hello-rate", "1000000", "--hello-burst", "1000000"};
        int argc = 19;
        char flagbuf[LG_MAX_FLAGS][128];
        for (int i = 0; i < o->n_server_flags; i++) {
            const char *e = strchr(o->server_flags[i], '=');
            snprintf(flagbuf[i], sizeof flagbuf[i], "--%.*s", (int)(e - o->server_flags[i]),
                     o->server_flags[i]);
            argv[argc++] = flagbuf[i];
            argv[argc++] = e + 1;
        }
        argv[argc] = NULL;
        pid_t pid = fork();
        if (pid < 0) {
            perror("venue-loadgen: fork");
            return -1;
        }
        if (pid == 0) {
            int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
            }
            if (o->server_cpu >= 0 && pin_to(0, o->server_cpu))
                perror("venue-loadgen: pinning venued");
            execv(o->bin, (char *const *)argv);
            perror("venue-loadgen: exec venued");
            _exit(127);
        }
        s->pid = pid;
        g_server_pid = pid;
        int64_t end = now_us() + 15000000;
        int status;
        while (now_us() < end) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                s->pid = 0;
                g_server_pid = 0;
                break;
            }
            char *body;
            int st = http_get(s->port, "/healthz", &body);
            free(body);
            if (st == 200)
                return 0;
            usleep(50000);
        }
        if (s->pid) {
            fprintf(stderr, "venue-loadgen: venued did not answer /healthz in 15 s\n");
            print_log_tail(s);
            server_stop(s);
            return -1;
        }
        char buf[4096] = "";
        read_small(s->log, buf, sizeof buf);
        if (!strstr(buf, "listen")) {
            fprintf(stderr, "venue-loadgen: venued exited at start\n");
            print_log_tail(s);
            server_stop(s);
            return -1;
        }
    }
    fprintf(stderr, "venue-loadgen: venued: no free port after 3 tries\n");
    server_stop(s);
    return -1;
}

/* ---- the run's state ---------------------------------------------------- */

enum lg_phase { PH_CONNECT, PH_WALK, PH_WINDOW, PH_TAIL, PH_DONE };
enum cl_state { CS_NEW, CS_CONNECTING, CS_OPEN, CS_WELCOMED, CS_JOINED, CS_FAILED };
/* how much a message is worth: not known yet (fewer than LG_PEEK bytes),
 * skipped (counted if poses), or reassembled in rx */
enum rx_kind { RX_UNKNOWN, RX_SKIP, RX_KEEP };
enum ws_state { WS_TCP, WS_UPGRADE, WS_OPEN }; /* connecting, upgrade sent, frames */

struct client {
    int fd;        /* -1 once closed: never used after that */
    int idx, room; /* room: index into opts.room_ids */
    int probe;     /* probe number, or -1 */
    bool idle;     /* never sends poses */
    bool ever_joined;
    enum cl_state st;
    bool want_hello, want_join, want_pose, want_pong;
    bool kill;    /* failed: close after the current event */
    bool pollout; /* EPOLLOUT is in the interest set */
    enum ws_state ws;
    char key[32]; /* Sec-WebSocket-Key, base64 of 16 random bytes */
    /* sending: one frame at a time, composed when the previous one left */
    unsigned char out[LG_OUT];
    size_t out_len, out_off;
    unsigned char pong[125]; /* the ping payload to echo */
    size_t pong_len;
    /* the frame being parsed */
    unsigned char fh[14]; /* its header, while incomplete */
    size_t fh_len;
    bool in_frame, fin, in_msg; /* in_msg: a data message awaits continuations */
    int op;
    int msg_op;             /* the current message's: 1 text, 2 binary */
    uint64_t left;          /* payload bytes of the frame still to come */
    unsigned char ctl[125]; /* a control frame's payload */
    size_t ctl_len;
    bool is_poses; /* the current message is a poses frame */
    int64_t t_start, t_join;
    uint64_t uid; /* the 16 hex digits of "u-..." */
    char uid_s[24];
    long ix; /* its index in its room's binary frames, from joined; -1: none */
    /* walking */
    double x, z, tx, tz, yaw;
    int64_t t0;         /* scheduled time of pose 0 (us) */
    int64_t k_next;     /* index of the next scheduled pose */
    int64_t pose_sched; /* scheduled time of the pose in pose_buf */
    int heap_pos;       /* -1 when not in the heap */
    char pose_buf[128];
    size_t pose_len;
    /* receiving */
    enum rx_kind kind;
    char *rx; /* message being reassembled (or the upgrade response), owned */
    size_t rx_len, rx_cap;
    /* counted in the window */
    uint64_t frames, bytes;
    uint64_t sent, skipped, overwritten, corrections, errors;
    bool closed_early; /* closed after joining, before the end */
    char why[96];      /* why it failed */
};

struct probe {
    int client;
    int64_t *newest; /* per client: newest pose index seen, -1 none; owned */
    uint64_t frames, entries, tick_gaps;
    int64_t last_tick;
    uint64_t fresh, covered; /* scheduled window poses delivered in time / at all */
    int64_t *near_prev; /* per client: newest pose index seen in its near chain, -1: none; owned */
    uint64_t tiered, near_fresh, near_covered; /* tiered frames; the near tier's poses */
};

struct lg {
    const struct lg_opts *o;
    int port, pid;                                      /* the first node: its /metrics are read */
    int ports[LG_MAX_NODES], pids[LG_MAX_NODES], nodes; /* every node, the first too */
    int64_t node_cpu0[LG_MAX_NODES], node_cpu1[LG_MAX_NODES];
    long node_rss_end[LG_MAX_NODES];
    int epfd;
    unsigned char *scratch; /* LG_SCRATCH bytes every client reads into, owned */
    struct client *cl;      /* N, owned */
    int n;
    struct probe pr[64];
    int n_probes;
    int *heap, heap_n; /* movers by next scheduled send */
    uint64_t *map_key; /* uid -> client index, open addressing */
    int *map_val, map_mask;
    /* --poses binary: per room, its bounds (from the first joined) and
     * ix -> client index (-1: none), POSES_BIN_IX_MAX + 1 each; owned */
    struct poses_bin_bounds bounds[LG_MAX_ROOMS];
    bool has_bounds[LG_MAX_ROOMS];
    int *ix_map[LG_MAX_ROOMS];
    int64_t ctl_due, pose_due; /* when each timer is next due, 0: not armed */
    enum lg_phase phase;
    int64_t period_us, fresh_us, tick_us;
    int tick_hz;
    int64_t t_connect, t_joined_all, walk_start, win_start, win_end, tail_end;
    int opened, joined, failed, pending;
    struct hist lat, deliv, lateness; /* entry latency, delivery, generator lateness */
    struct hist lat_near;             /* entry latency in the near tier */
    int64_t srv_cpu0, srv_cpu1, gen_cpu0, gen_cpu1, wall0, wall1;
    int64_t mach_busy0, mach_busy1, mach_total0, mach_total1; /* /proc/stat */
    long rss_before, rss_joined, rss_end;
    char *metrics0; /* /metrics when walking starts, owned */
    bool done;
};

/* ---- uid map ------------------------------------------------------------ */

static uint64_t uid_parse(const char *s, size_t len)
{
    if (len < 3 || s[0] != 'u' || s[1] != '-')
        return 0;
    uint64_t v = 0;
    for (size_t i = 2; i < len && i < 18; i++) {
        char ch = s[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (d < 0)
            return 0;
        v = v << 4 | (uint64_t)d;
    }
    return v | 1ull << 63; /* never 0, so 0 can mark a free slot */
}

static void map_put(struct lg *g, uint64_t key, int idx)
{
    for (uint64_t h = key * 0x9e3779b97f4a7c15ull;; h++) {
        int slot = (int)(h & (uint64_t)g->map_mask);
        if (!g->map_key[slot] || g->map_key[slot] == key) {
            g->map_key[slot] = key;
            g->map_val[slot] = idx;
            return;
        }
    }
}

static int map_get(const struct lg *g, uint64_t key)
{
    for (uint64_t h = key * 0x9e3779b97f4a7c15ull;; h++) {
        int slot = (int)(h & (uint64_t)g->map_mask);
        if (!g->map_key[slot])
            return -1;
        if (g->map_key[slot] == key)
            return g->map_val[slot];
    }
}

/* ---- the send schedule: a min-heap of movers by next send time ---------- */

static int64_t sched_of(const struct lg *g, const struct client *c, int64_t k)
{
    return c->t0 + k * g->period_us;
}

static bool heap_less(const struct lg *g, int a, int b)
{
    const struct client *ca = &g->cl[g->heap[a]], *cb = &g->cl[g->heap[b]];
    return sched_of(g, ca, ca->k_next) < sched_of(g, cb, cb->k_next);
}

static void heap_swap(struct lg *g, int a, int b)
{
    int t = g->heap[a];
    g->heap[a] = g->heap[b];
    g->heap[b] = t;
    g->cl[g->heap[a]].heap_pos = a;
    g->cl[g->heap[b]].heap_pos = b;
}

static void heap_down(struct lg *g, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->heap_n && heap_less(g, l, m))
            m = l;
        if (r < g->heap_n && heap_less(g, r, m))
            m = r;
        if (m == i)
            return;
        heap_swap(g, i, m);
        i = m;
    }
}

static void heap_push(struct lg *g, int idx)
{
    int i = g->heap_n++;
    g->heap[i] = idx;
    g->cl[idx].heap_pos = i;
    while (i && heap_less(g, i, (i - 1) / 2)) {
        heap_swap(g, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

/* ---- walking and sending ------------------------------------------------ */

static void pick_waypoint(const struct lg *g, struct client *c)
{
    const double *b = g->o->bounds;
    c->tx = b[0] + 1 + rnd() * (b[2] - b[0] - 2);
    c->tz = b[1] + 1 + rnd() * (b[3] - b[1] - 2);
}

/* Moves c along its path by dt seconds of walking. */
static void walk(const struct lg *g, struct client *c, double dt)
{
    double step = g->o->speed * dt;
    for (int guard = 0; guard < 4 && step > 0; guard++) {
        double dx = c->tx - c->x, dz = c->tz - c->z, d = sqrt(dx * dx + dz * dz);
        if (d > 1e-9)
            c->yaw = atan2(-dx, -dz); /* facing -z at yaw 0 */
        if (d > step) {
            c->x += dx / d * step;
            c->z += dz / d * step;
            return;
        }
        c->x = c->tx;
        c->z = c->tz;
        step -= d;
        pick_waypoint(g, c);
    }
}

static bool in_window(const struct lg *g, int64_t t)
{
    return t >= g->win_start && t < g->win_end;
}

static void ws_flush(struct lg *g, struct client *c);

/* Composes the pose scheduled at `sched` into c->pose_buf and asks to write. */
static void queue_pose(struct lg *g, struct client *c, int64_t sched)
{
    int64_t ms = sched / 1000;
    double y = 1.0 + (double)(ms % LG_STAMP_MOD) / 1000.0;
    double h = c->yaw / 2;
    if (c->want_pose && in_window(g, sched))
        c->overwritten++; /* the previous one never left: socket backed up */
    if (g->o->binary) {
        const float p[3] = {(float)c->x, (float)y, (float)c->z},
                    q[4] = {0, (float)sin(h), 0, (float)cos(h)};
        poses_bin_pose((unsigned char *)c->pose_buf, &g->bounds[c->room], p, q);
        c->pose_len = POSES_BIN_SIZE;
    } else {
        int n = snprintf(c->pose_buf, sizeof c->pose_buf,
                         "{\"type\":\"pose\",\"p\":[%.3f,%.3f,%.3f],\"q\":[0,%.5f,0,%.5f]}", c->x,
                         y, c->z, sin(h), cos(h));
        c->pose_len = (size_t)n;
    }
    c->pose_sched = sched;
    c->want_pose = true;
    ws_flush(g, c);
}

/* The pose timer is due when the first mover in the heap is (0: never). */
static void arm_pose_timer(struct lg *g)
{
    g->pose_due = 0;
    if (!g->heap_n || g->phase >= PH_DONE)
        return;
    const struct client *c = &g->cl[g->heap[0]];
    g->pose_due = sched_of(g, c, c->k_next);
}

/*
 * Sends every pose that is due. A mover more than a period behind jumps to
 * its newest due pose (the ones in between are counted as skipped); the
 * pose still carries its scheduled time, so the delay shows in latency.
 */
static void pose_timer(struct lg *g)
{
    int64_t t = now_us();
    for (int guard = 0; g->heap_n && guard < g->n * 2; guard++) {
        struct client *c = &g->cl[g->heap[0]];
        int64_t s = sched_of(g, c, c->k_next);
        if (s > t)
            break;
        int64_t behind = (t - s) / g->period_us;
        if (behind > 0 && in_window(g, s))
            c->skipped += (uint64_t)behind;
        int64_t k = c->k_next + behind;
        int64_t prev = c->k_next > 0 ? sched_of(g, c, c->k_next - 1) : c->t0;
        s = sched_of(g, c, k);
        if (c->fd >= 0 && c->st == CS_JOINED) {
            walk(g, c, (double)(s - prev) / 1e6);
            queue_pose(g, c, s);
        }
        c->k_next = k + 1;
        heap_down(g, 0);
    }
    arm_pose_timer(g);
}

/* ---- receiving ---------------------------------------------------------- */

static void fail_client(struct lg *g, struct client *c, const char *why)
{
    if (c->st == CS_FAILED || c->st == CS_JOINED)
        return;
    c->st = CS_FAILED;
    snprintf(c->why, sizeof c->why, "%s", why);
    g->failed++;
    g->pending--;
    c->kill = true; /* closed by reap(), once nothing of c is on the stack */
}

static void on_welcome(struct lg *g, struct client *c)
{
    json_error_t err;
    json_t *m = json_loadb(c->rx, c->rx_len, 0, &err);
    const char *uid = json_string_value(json_object_get(json_object_get(m, "user"), "id"));
    json_int_t hz = json_integer_value(json_object_get(m, "tick_hz"));
    if (!uid || strlen(uid) >= sizeof c->uid_s) {
        json_decref(m);
        fail_client(g, c, "welcome without user.id");
        return;
    }
    snprintf(c->uid_s, sizeof c->uid_s, "%s", uid);
    c->uid = uid_parse(uid, strlen(uid));
    if (c->uid)
        map_put(g, c->uid, c->idx);
    if (hz > 0 && hz <= 1000)
        g->tick_hz = (int)hz;
    json_decref(m);
    c->st = CS_WELCOMED;
    c->want_join = true;
    ws_flush(g, c);
}

/* Three numbers "[a,b,c" at s into v; false when they are not there. */
static bool three(const char *s, float v[3])
{
    char *end;
    if (!s || *s != '[')
        return false;
    for (int i = 0; i < 3; i++) {
        v[i] = strtof(s + 1, &end);
        if (end == s + 1)
            return false;
        s = end;
    }
    return true;
}

/* --poses binary: our index, from our roster entry (k, whose position is
 * at p: the index comes just before it), and the room's bounds. */
static int joined_binary(struct lg *g, struct client *c, const char *k, const char *p)
{
    const char *ix = memmem(k, (size_t)(p - k), "\"ix\":", 5);
    const char *b = memmem(c->rx, c->rx_len, "\"bounds\":{\"min\":", 16);
    int **map = &g->ix_map[c->room];
    struct poses_bin_bounds bb;
    c->ix = ix ? strtol(ix + 5, NULL, 10) : -1;
    if (c->ix < 0 || c->ix > (long)POSES_BIN_IX_MAX || !b || !three(b + 16, bb.min) ||
        !three(strstr(b, "\"max\":") ? strstr(b, "\"max\":") + 6 : NULL, bb.max)) {
        fail_client(g, c, "joined without our ix or the room's bounds");
        return -1;
    }
    if (!*map) {
        *map = malloc((POSES_BIN_IX_MAX + 1) * sizeof(**map));
        if (!*map) {
            fail_client(g, c, "out of memory");
            return -1;
        }
        memset(*map, 0xff, (POSES_BIN_IX_MAX + 1) * sizeof(**map));
    }
    (*map)[c->ix] = c->idx;
    g->bounds[c->room] = bb;
    g->has_bounds[c->room] = true;
    return 0;
}

/* joined: our own roster entry holds the spawn pose. Found without parsing
 * a roster that may be a megabyte. */
static void on_joined(struct lg *g, struct client *c)
{
    if (c->st == CS_JOINED)
        return; /* a portal or a rejoin; the arena has none */
    char pat[48];
    snprintf(pat, sizeof pat, "{\"id\":\"%s\"", c->uid_s);
    const char *k = memmem(c->rx, c->rx_len, pat, strlen(pat));
    const char *p = k ? strstr(k, "\"p\":[") : NULL;
    if (!p) {
        fail_client(g, c, "joined without our own entry");
        return;
    }
    char *end;
    c->x = strtod(p + 5, &end);
    strtod(end + 1, &end);
    c->z = strtod(end + 1, &end);
    if (g->o->binary && joined_binary(g, c, k, p) < 0)
        return;
    c->st = CS_JOINED;
    c->ever_joined = true;
    c->t_join = now_us();
    g->joined++;
    g->pending--;
}

/* A server pose correction: move where the server says. */
static void on_correction(struct client *c)
{
    json_error_t err;
    json_t *m = json_loadb(c->rx, c->rx_len, 0, &err);
    json_t *p = json_object_get(m, "p");
    if (json_array_size(p) == 3) {
        c->x = json_number_value(json_array_get(p, 0));
        c->z = json_number_value(json_array_get(p, 2));
    }
    c->corrections++;
    json_decref(m);
}

/*
 * Credits probe pr with mover m's pose k, seen at time t: every scheduled
 * pose of m in the window from the newest seen before up to k is now
 * delivered (a newer pose supersedes the older ones), fresh if in time.
 */
static void cover(struct lg *g, struct probe *pr, const struct client *m, int64_t k, int64_t t)
{
    int64_t prev = pr->newest[m->idx];
    if (k <= prev)
        return;
    pr->newest[m->idx] = k;
    /* window poses of m: s in [win_start, win_end) */
    int64_t lo = (g->win_start - m->t0 + g->period_us - 1) / g->period_us;
    int64_t hi = (g->win_end - m->t0 + g->period_us - 1) / g->period_us - 1;
    int64_t a = prev + 1 > lo ? prev + 1 : lo, b = k < hi ? k : hi;
    for (int64_t j = a; j <= b; j++) {
        int64_t s = sched_of(g, m, j);
        pr->covered++;
        if (t <= s + g->fresh_us)
            pr->fresh++;
        hist_add(&g->deliv, t - s);
    }
}

/* Mover m's pose k seen at t by probe pr, in the near tier (near) or
 * beyond it: the near chain's share of the freshness (see the top). */
static void near_cover(struct lg *g, struct probe *pr, const struct client *m, int64_t k, int64_t t,
                       bool near)
{
    int64_t prev = pr->near_prev[m->idx];
    if (!near) {
        pr->near_prev[m->idx] = -1;
        return;
    }
    if (k <= prev)
        return;
    pr->near_prev[m->idx] = k;
    for (int64_t j = prev >= 0 ? prev + 1 : k; j <= k; j++) {
        int64_t s = sched_of(g, m, j);
        if (!in_window(g, s))
            continue;
        pr->near_covered++;
        if (t <= s + g->fresh_us)
            pr->near_fresh++;
        if (j == k)
            hist_add(&g->lat_near, t - s);
    }
}

/* One entry of a probe's frame: mover mi (-1: unknown) stood at height y
 * (its stamp), seen at t; tier 1 in a tiered frame's near tier, 0 beyond
 * it, -1 in an untiered frame. */
static void probe_entry(struct lg *g, struct client *c, int mi, double y, int64_t t, int tier)
{
    struct probe *pr = &g->pr[c->probe];
    if (mi < 0 || y < 0.9)
        return; /* unknown, or not stamped yet (spawn height) */
    if (&g->cl[mi] == c)
        return; /* our own entry: the room's one frame holds it, and a client skips it */
    const struct client *mv = &g->cl[mi];
    /* stamp -> the newest ms <= now with that residue -> pose index */
    int64_t st = llround((y - 1.0) * 1000.0), now_ms = t / 1000;
    int64_t ms = now_ms - (((now_ms - st) % LG_STAMP_MOD) + LG_STAMP_MOD) % LG_STAMP_MOD;
    int64_t k = (ms * 1000 - mv->t0 + g->period_us - 1) / g->period_us;
    if (ms * 1000 < mv->t0 || sched_of(g, mv, k) / 1000 != ms)
        return; /* not one of its scheduled stamps */
    int64_t s = sched_of(g, mv, k);
    if (in_window(g, s))
        hist_add(&g->lat, t - s);
    cover(g, pr, mv, k, t);
    if (tier >= 0 || pr->near_prev[mv->idx] >= 0)
        near_cover(g, pr, mv, k, t, tier != 0);
}

/* A probe's frame of n entries at tick (tiered or not), seen at t:
 * counted in the window. */
static void probe_frame(struct lg *g, struct client *c, long long tick, size_t n, bool tiered,
                        int64_t t)
{
    struct probe *pr = &g->pr[c->probe];
    if (in_window(g, t)) {
        pr->frames++;
        pr->tiered += tiered;
        pr->entries += n;
        if (pr->last_tick && tick > pr->last_tick + 1)
            pr->tick_gaps += (uint64_t)(tick - pr->last_tick - 1);
    }
    pr->last_tick = tick;
}

/* A probe's JSON poses frame: every entry decoded and matched to its stamp. */
static void on_probe_poses(struct lg *g, struct client *c)
{
    int64_t t = now_us();
    json_error_t err;
    json_t *m = json_loadb(c->rx, c->rx_len, 0, &err);
    json_t *users = json_object_get(m, "users"), *nj = json_object_get(m, "near");
    size_t n = json_array_size(users);
    long long near = json_is_integer(nj) ? json_integer_value(nj) : -1;
    probe_frame(g, c, json_integer_value(json_object_get(m, "tick")), n, near >= 0, t);
    for (size_t i = 0; i < n; i++) {
        json_t *u = json_array_get(users, i);
        json_t *id = json_object_get(u, "id");
        probe_entry(g, c, map_get(g, uid_parse(json_string_value(id), json_string_length(id))),
                    json_number_value(json_array_get(json_object_get(u, "p"), 1)), t,
                    near < 0 ? -1 : (long long)i < near);
    }
    json_decref(m);
}

/* A probe's binary poses frame, the same way. */
static void on_probe_poses_bin(struct lg *g, struct client *c)
{
    int64_t t = now_us();
    const unsigned char *d = (const unsigned char *)c->rx;
    const int *map = g->ix_map[c->room];
    size_t n, head, near = 0;
    if (c->rx_len < POSES_BIN_HEAD || !map || !g->has_bounds[c->room] ||
        (d[1] & ~POSES_BIN_TIERED) != 0)
        return;
    head = d[1] ? POSES_BIN_HEAD_MAX : POSES_BIN_HEAD;
    n = (size_t)d[6] | (size_t)d[7] << 8;
    if (c->rx_len != head + n * POSES_BIN_ENTRY)
        return;
    if (d[1])
        near = (size_t)d[8] | (size_t)d[9] << 8;
    probe_frame(g, c,
                (long long)((uint32_t)d[2] | (uint32_t)d[3] << 8 | (uint32_t)d[4] << 16 |
                            (uint32_t)d[5] << 24),
                n, d[1] != 0, t);
    for (size_t i = 0; i < n; i++) {
        unsigned ix;
        float p[3], q[4];
        poses_bin_decode_entry(d + head + i * POSES_BIN_ENTRY, &g->bounds[c->room], &ix, p, q);
        probe_entry(g, c, ix <= POSES_BIN_IX_MAX ? map[ix] : -1, p[1], t, d[1] ? i < near : -1);
    }
}

static void on_message(struct lg *g, struct client *c)
{
    static const char head[] = "{\"type\":\"";
    if (c->msg_op == 0x2) {
        on_probe_poses_bin(g, c);
        return;
    }
    if (c->rx_len < sizeof head || memcmp(c->rx, head, sizeof head - 1))
        return;
    const char *ty = c->rx + sizeof head - 1;
    size_t left = c->rx_len - (sizeof head - 1);
#define IS(s) (left > sizeof s && !memcmp(ty, s "\"", sizeof s))
    if (IS("poses"))
        on_probe_poses(g, c);
    else if (IS("welcome"))
        on_welcome(g, c);
    else if (IS("joined"))
        on_joined(g, c);
    else if (IS("pose"))
        on_correction(c);
    else if (IS("error")) {
        if (in_window(g, now_us()))
            c->errors++;
        if (c->st != CS_JOINED) {
            char why[96];
            snprintf(why, sizeof why, "error: %.80s", c->rx);
            fail_client(g, c, why);
        }
    }
#undef IS
}

static int rx_append(struct client *c, const void *in, size_t len)
{
    if (c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 4096;
        while (cap < c->rx_len + len)
            cap *= 2;
        char *nb = realloc(c->rx, cap);
        if (!nb)
            return -1;
        c->rx = nb;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    return 0;
}

/* ---- the transport: a WebSocket client over epoll ----------------------- */

/* Asks for EPOLLOUT exactly while something waits to be sent. */
static void want_out(struct lg *g, struct client *c, bool on)
{
    if (c->fd < 0 || c->pollout == on)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u), .data.ptr = c};
    if (epoll_ctl(g->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->pollout = on;
}

/*
 * Writes a masked client frame (RFC 6455 5.3) of n < 65536 payload bytes
 * into dst, which has room for n + 8. Returns its length.
 */
static size_t ws_frame(unsigned char *dst, int op, const void *payload, size_t n)
{
    const unsigned char *p = payload;
    size_t h = 2;
    dst[0] = (unsigned char)(0x80 | op);
    if (n < 126)
        dst[1] = (unsigned char)(0x80 | n);
    else {
        dst[1] = 0x80 | 126;
        dst[2] = (unsigned char)(n >> 8);
        dst[3] = (unsigned char)n;
        h = 4;
    }
    uint32_t m = (uint32_t)(rnd() * 4294967296.0);
    unsigned char *mask = dst + h;
    memcpy(mask, &m, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        dst[h + i] = p[i] ^ mask[i & 3];
    return h + n;
}

/* Composes the next frame that waits (pong, hello, join, pose) into c->out.
 * Returns false when nothing waits. */
static bool compose_next(struct lg *g, struct client *c)
{
    char p[160];
    int n;
    if (c->ws != WS_OPEN)
        return false;
    if (c->want_pong) {
        c->want_pong = false;
        c->out_len = ws_frame(c->out, 0xA, c->pong, c->pong_len);
        return true;
    }
    if (c->want_hello) {
        n = snprintf(p, sizeof p, "{\"type\":\"hello\",\"id\":1,\"name\":\"loadgen-%d\"%s}", c->idx,
                     g->o->binary ? ",\"poses\":\"binary\"" : "");
        c->want_hello = false;
    } else if (c->want_join) {
        n = snprintf(p, sizeof p, "{\"type\":\"join\",\"id\":2,\"room\":\"%s\"}",
                     g->o->room_ids[c->room]);
        c->want_join = false;
    } else if (c->want_pose) {
        int64_t t = now_us();
        if (in_window(g, c->pose_sched)) {
            hist_add(&g->lateness, t - c->pose_sched);
            c->sent++;
        }
        c->want_pose = false;
        c->out_len = ws_frame(c->out, g->o->binary ? 0x2 : 0x1, c->pose_buf, c->pose_len);
        return true;
    } else
        return false;
    if (n < 0 || (size_t)n >= sizeof p)
        n = (int)sizeof p - 1; /* a room id too long for the server anyway */
    c->out_len = ws_frame(c->out, 0x1, p, (size_t)n);
    return true;
}

/*
 * Sends what waits: the rest of c->out, then each frame composed in turn,
 * until the socket would block (then EPOLLOUT is asked for) or nothing is
 * left. A send error fails the client (closed after the current event).
 */
static void ws_flush(struct lg *g, struct client *c)
{
    if (c->fd < 0 || c->kill)
        return;
    for (int guard = 0; guard < 8; guard++) {
        if (c->out_off == c->out_len) {
            c->out_off = c->out_len = 0;
            if (!compose_next(g, c))
                break;
        }
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (w < 0) {
            fail_client(g, c, "send failed"); /* a joined one: closed early, by reap() */
            c->kill = true;
            return;
        }
        c->out_off += (size_t)w;
        if (c->out_off < c->out_len)
            break;
    }
    bool more =
        c->out_off < c->out_len ||
        (c->ws == WS_OPEN && (c->want_pong || c->want_hello || c->want_join || c->want_pose));
    want_out(g, c, more || c->ws == WS_TCP);
}

/* Closes c's socket (if open) and settles its state: a client that had not
 * joined has failed, one that had and is closed before the tail closed early. */
static void conn_closed(struct lg *g, struct client *c, const char *why)
{
    if (c->fd >= 0) {
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
    }
    if (c->st != CS_JOINED) {
        fail_client(g, c, why);
    } else if (g->phase < PH_TAIL) {
        c->closed_early = true;
        snprintf(c->why, sizeof c->why, "%s", why);
    }
}

/* Closes a client that failed, once nothing of it is on the stack. */
static void reap(struct lg *g, struct client *c)
{
    if (c->kill && c->fd >= 0)
        conn_closed(g, c, c->why[0] ? c->why : "failed");
}

/* The first LG_PEEK bytes (or the whole message) are in rx: keep it or skip it. */
static void rx_decide(struct client *c)
{
    static const char head[] = "{\"type\":\"";
    c->kind = RX_SKIP;
    c->is_poses = false;
    if (c->msg_op == 0x2) { /* binary: only poses frames are */
        c->is_poses = c->rx_len && (unsigned char)c->rx[0] == POSES_BIN_FRAME;
        c->kind = c->is_poses && c->probe >= 0 ? RX_KEEP : RX_SKIP;
        if (c->kind == RX_SKIP)
            c->rx_len = 0;
        return;
    }
    if (c->rx_len < sizeof head || memcmp(c->rx, head, sizeof head - 1))
        return;
    const char *ty = c->rx + sizeof head - 1;
    size_t left = c->rx_len - (sizeof head - 1);
#define IS(s) (left >= sizeof s && !memcmp(ty, s "\"", sizeof s))
    if (IS("poses")) {
        c->is_poses = true;
        c->kind = c->probe >= 0 ? RX_KEEP : RX_SKIP;
    } else if (IS("welcome") || IS("joined") || IS("pose") || IS("error"))
        c->kind = RX_KEEP;
#undef IS
    if (c->kind == RX_SKIP)
        c->rx_len = 0;
}

/* A chunk of a data message's payload, received at t. */
static void msg_data(struct lg *g, struct client *c, const unsigned char *p, size_t n, int64_t t)
{
    if (in_window(g, t))
        c->bytes += n;
    if (c->kind == RX_UNKNOWN) {
        size_t take = LG_PEEK - c->rx_len < n ? LG_PEEK - c->rx_len : n;
        if (rx_append(c, p, take)) {
            fail_client(g, c, "out of memory");
            c->kill = true;
            return;
        }
        p += take;
        n -= take;
        if (c->rx_len >= LG_PEEK)
            rx_decide(c);
    }
    if (c->kind == RX_KEEP && n && rx_append(c, p, n)) {
        fail_client(g, c, "out of memory");
        c->kill = true;
    }
}

/* The last frame of a data message has arrived, at t. */
static void msg_end(struct lg *g, struct client *c, int64_t t)
{
    if (c->kind == RX_UNKNOWN)
        rx_decide(c);
    if (c->is_poses && in_window(g, t))
        c->frames++;
    if (c->kind == RX_KEEP)
        on_message(g, c);
    c->in_msg = false;
    c->kind = RX_UNKNOWN;
    c->is_poses = false;
    c->rx_len = 0;
    if (c->rx_cap > (1u << 20)) { /* a big roster: do not keep its buffer */
        free(c->rx);
        c->rx = NULL;
        c->rx_cap = 0;
    }
}

/* A whole control frame: answer a ping, end on a close. */
static void on_control(struct lg *g, struct client *c)
{
    if (c->op == 0x9) {
        memcpy(c->pong, c->ctl, c->ctl_len);
        c->pong_len = c->ctl_len;
        c->want_pong = true;
        ws_flush(g, c);
    } else if (c->op == 0x8) {
        unsigned char f[16];
        size_t n = ws_frame(f, 0x8, c->ctl, c->ctl_len >= 2 ? 2 : 0); /* echo the code */
        ssize_t w = send(c->fd, f, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        char why[96];
        (void)w; /* best effort: the socket closes next */
        snprintf(why, sizeof why, "closed by the server: %d %.*s",
                 c->ctl_len >= 2 ? c->ctl[0] << 8 | c->ctl[1] : 1005,
                 c->ctl_len > 2 ? (int)c->ctl_len - 2 : 0, (const char *)c->ctl + 2);
        conn_closed(g, c, why);
    }
}

/* Bytes of the frame header: 2, or once those are in, 2 + the extended
 * length (0, 2 or 8) + the mask key (a server's frames have none). */
static size_t fh_need(const struct client *c)
{
    if (c->fh_len < 2)
        return 2;
    size_t len7 = c->fh[1] & 0x7f;
    return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (c->fh[1] & 0x80 ? 4 : 0);
}

/*
 * Parses n bytes of the server's frames, received at t. Payloads go to
 * msg_data in place (the skipped ones are never copied); the frame state
 * carries over between calls. Returns -1 on a protocol error.
 */
static int ws_parse(struct lg *g, struct client *c, const unsigned char *p, size_t n, int64_t t)
{
    const unsigned char *end = p + n;
    while (p < end && c->fd >= 0 && !c->kill) {
        if (!c->in_frame) {
            size_t need = fh_need(c);
            while (p < end && c->fh_len < need) {
                c->fh[c->fh_len++] = *p++;
                need = fh_need(c);
            }
            if (c->fh_len < need)
                return 0; /* the rest of the header comes with the next recv */
            if (c->fh[0] & 0x70 || c->fh[1] & 0x80)
                return -1; /* no extension was negotiated; servers never mask */
            c->fin = c->fh[0] & 0x80;
            c->op = c->fh[0] & 0x0f;
            uint64_t len = c->fh[1] & 0x7f;
            if (len >= 126) {
                size_t k = len == 126 ? 2 : 8;
                len = 0;
                for (size_t i = 0; i < k; i++)
                    len = len << 8 | c->fh[2 + i];
            }
            c->fh_len = 0;
            if (c->op >= 0x8) {
                if (!c->fin || len > 125 || (c->op != 0x8 && c->op != 0x9 && c->op != 0xA))
                    return -1;
                c->ctl_len = 0;
            } else if (c->op == 0x0) {
                if (!c->in_msg)
                    return -1; /* a continuation of nothing */
            } else if (c->op == 0x1 || c->op == 0x2) {
                if (c->in_msg)
                    return -1; /* a new message inside a fragmented one */
                c->in_msg = true;
                c->msg_op = c->op;
                c->kind = RX_UNKNOWN;
                c->is_poses = false;
                c->rx_len = 0;
            } else
                return -1;
            c->left = len;
            c->in_frame = true;
        } else {
            size_t k = (uint64_t)(end - p) < c->left ? (size_t)(end - p) : (size_t)c->left;
            if (c->op >= 0x8) {
                memcpy(c->ctl + c->ctl_len, p, k);
                c->ctl_len += k;
            } else
                msg_data(g, c, p, k, t);
            p += k;
            c->left -= k;
        }
        if (c->in_frame && !c->left) {
            c->in_frame = false;
            if (c->op >= 0x8)
                on_control(g, c);
            else if (c->fin)
                msg_end(g, c, t);
        }
    }
    return 0;
}

/* base64(SHA-1(key + the RFC 6455 GUID)) into out (29 bytes with the NUL). */
static int ws_accept_of(const char *key, char out[32])
{
    char in[96];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int n = snprintf(in, sizeof in, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    if (n < 0 || (size_t)n >= sizeof in || !EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha1(), NULL))
        return -1;
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
    return 0;
}

/* Checks the upgrade response in rx (NUL-terminated, headers complete):
 * 101, and the Sec-WebSocket-Accept that goes with our key. */
static const char *ws_check_upgrade(const struct client *c)
{
    char want[32];
    if (strncmp(c->rx, "HTTP/1.1 101", 12))
        return "upgrade refused (no 101)";
    const char *a = strcasestr(c->rx, "\r\nSec-WebSocket-Accept:");
    if (!a || ws_accept_of(c->key, want))
        return "upgrade without Sec-WebSocket-Accept";
    a += 23;
    while (*a == ' ' || *a == '\t')
        a++;
    size_t wl = strlen(want);
    if (strncmp(a, want, wl) || (a[wl] != '\r' && a[wl] != ' ' && a[wl] != '\t'))
        return "upgrade with a wrong Sec-WebSocket-Accept";
    return NULL;
}

/* The TCP connect finished (EPOLLOUT): send the upgrade request. */
static void on_connected(struct lg *g, struct client *c)
{
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
        char why[96];
        snprintf(why, sizeof why, "connection error: %.70s", strerror(err ? err : errno));
        conn_closed(g, c, why);
        return;
    }
    unsigned char raw[16];
    for (int i = 0; i < 16; i++)
        raw[i] = (unsigned char)(rnd() * 256.0);
    EVP_EncodeBlock((unsigned char *)c->key, raw, 16);
    int n = snprintf((char *)c->out, sizeof c->out,
                     "GET /ws HTTP/1.1\r\nHost: %s:%d\r\nOrigin: http://%s\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: venue.v1\r\n\r\n",
                     LG_HOST, g->ports[c->idx % g->nodes], LG_HOST, c->key);
    c->out_len = (size_t)n;
    c->out_off = 0;
    c->ws = WS_UPGRADE;
    ws_flush(g, c);
}

/* Upgrade response bytes: once the headers are complete, check them and
 * hand what follows to the frame parser. */
static void on_upgrade_bytes(struct lg *g, struct client *c, const unsigned char *p, size_t n,
                             int64_t t)
{
    if (c->rx_len + n > LG_HS_MAX || rx_append(c, p, n) || rx_append(c, "", 1)) {
        conn_closed(g, c, "upgrade response too long");
        return;
    }
    c->rx_len--; /* the NUL stays behind the text */
    char *e = strstr(c->rx, "\r\n\r\n");
    if (!e)
        return;
    const char *bad = ws_check_upgrade(c);
    if (bad) {
        conn_closed(g, c, bad);
        return;
    }
    size_t hdr = (size_t)(e + 4 - c->rx), rest = c->rx_len - hdr;
    memcpy(g->scratch, c->rx + hdr, rest); /* scratch is free: its bytes are in rx */
    c->rx_len = 0;
    c->ws = WS_OPEN;
    c->st = CS_OPEN;
    c->want_hello = true;
    ws_flush(g, c);
    if (rest && ws_parse(g, c, g->scratch, rest, t))
        conn_closed(g, c, "protocol error");
}

/* EPOLLIN (or HUP/ERR): read in big chunks until the socket is empty (or
 * a bounded number of chunks, for fairness: level-triggered brings it back). */
static void on_readable(struct lg *g, struct client *c)
{
    for (int guard = 0; guard < 8 && c->fd >= 0 && !c->kill; guard++) {
        ssize_t r = recv(c->fd, g->scratch, LG_SCRATCH, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (r <= 0) {
            char why[96];
            snprintf(why, sizeof why, "%s",
                     r == 0 ? "closed before joining" : "connection error: recv failed");
            conn_closed(g, c, why);
            return;
        }
        int64_t t = now_us();
        if (c->ws == WS_UPGRADE)
            on_upgrade_bytes(g, c, g->scratch, (size_t)r, t);
        else if (ws_parse(g, c, g->scratch, (size_t)r, t))
            conn_closed(g, c, "protocol error");
        if ((size_t)r < LG_SCRATCH)
            return;
    }
}

static void on_event(struct lg *g, struct client *c, uint32_t ev)
{
    if (c->fd < 0)
        return;
    if (c->ws == WS_TCP) {
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_connected(g, c);
    } else {
        if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
            on_readable(g, c);
        if (ev & EPOLLOUT)
            ws_flush(g, c);
    }
    reap(g, c);
}

/* ---- phases ------------------------------------------------------------- */

/* utime + stime of every node in microseconds, each into each[]; -1 when
 * one cannot be read. */
static int64_t nodes_cpu_us(const struct lg *g, int64_t *each)
{
    int64_t sum = 0;
    for (int k = 0; k < g->nodes; k++) {
        each[k] = g->pids[k] ? proc_cpu_us(g->pids[k]) : -1;
        if (each[k] < 0)
            sum = -1;
        else if (sum >= 0)
            sum += each[k];
    }
    return sum;
}

/* VmRSS of every node in KiB, summed (each into each[] when not NULL), or -1. */
static long nodes_rss_kb(const struct lg *g, long *each)
{
    long sum = 0;
    for (int k = 0; k < g->nodes; k++) {
        long r = g->pids[k] ? proc_rss_kb(g->pids[k]) : -1;
        if (each)
            each[k] = r;
        sum = r < 0 || sum < 0 ? -1 : sum + r;
    }
    return sum;
}

static void open_one(struct lg *g, struct client *c)
{
    c->st = CS_CONNECTING;
    c->ws = WS_TCP;
    c->t_start = now_us();
    g->pending++;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)g->ports[c->idx % g->nodes])};
    inet_pton(AF_INET, LG_HOST, &sa.sin_addr);
    int one = 1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fail_client(g, c, "socket failed");
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if ((connect(c->fd, (struct sockaddr *)&sa, sizeof sa) && errno != EINPROGRESS) ||
        epoll_ctl(g->epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
        char why[96];
        snprintf(why, sizeof why, "connection error: %.70s", strerror(errno));
        conn_closed(g, c, why);
        return;
    }
    c->pollout = true;
}

/* Everyone joined (or failed, or the join timeout passed): start walking. */
static void start_walking(struct lg *g, int64_t t)
{
    for (int i = 0; i < g->n; i++)
        if (g->cl[i].st != CS_JOINED && g->cl[i].st != CS_FAILED) {
            fail_client(g, &g->cl[i], "not joined in time");
            reap(g, &g->cl[i]);
        }
    g->t_joined_all = t;
    if (g->pid)
        g->rss_joined = nodes_rss_kb(g, NULL);
    http_get(g->port, "/metrics", &g->metrics0);
    t = now_us();
    g->tick_us = 1000000 / (g->tick_hz ? g->tick_hz : 20);
    g->fresh_us = g->tick_us + (int64_t)(g->o->fresh_slack_ms * 1000);
    g->walk_start = t + (int64_t)(g->o->settle * 1e6);
    g->win_start = g->walk_start + (int64_t)(g->o->warmup * 1e6);
    g->win_end = g->win_start + (int64_t)(g->o->duration * 1e6);
    g->tail_end = g->win_end + LG_TAIL_US;
    for (int i = 0; i < g->n; i++) {
        struct client *c = &g->cl[i];
        if (c->st != CS_JOINED || c->idle)
            continue;
        c->t0 = g->walk_start + (int64_t)(rnd() * (double)g->period_us); /* random phase */
        c->k_next = 0;
        pick_waypoint(g, c);
        heap_push(g, i);
    }
    g->phase = PH_WALK;
    arm_pose_timer(g);
    fprintf(stderr, "venue-loadgen: %d/%d joined in %.1f s; walking %.0f s, measuring %.0f s\n",
            g->joined, g->n, (double)(t - g->t_connect) / 1e6, g->o->warmup, g->o->duration);
}

/* Every 5 ms: open connections at the connect rate, move through phases. */
static void ctl_timer(struct lg *g)
{
    int64_t t = now_us();
    g->ctl_due = 0;
    if (g_interrupted) {
        g->done = true;
        return;
    }
    switch (g->phase) {
    case PH_CONNECT: {
        int64_t due = 1 + (int64_t)((double)(t - g->t_connect) / 1e6 * g->o->connect_rate);
        while (g->opened < g->n && g->opened < due)
            open_one(g, &g->cl[g->opened++]);
        bool all = g->opened == g->n && g->joined + g->failed == g->n;
        if (all || t > g->t_connect + (int64_t)(g->o->join_timeout * 1e6))
            start_walking(g, t);
        break;
    }
    case PH_WALK:
        if (t >= g->win_start) {
            g->phase = PH_WINDOW;
            g->wall0 = now_us();
            g->gen_cpu0 = self_cpu_us();
            g->srv_cpu0 = nodes_cpu_us(g, g->node_cpu0);
            machine_cpu(&g->mach_busy0, &g->mach_total0);
        }
        break;
    case PH_WINDOW:
        if (t >= g->win_end) {
            g->phase = PH_TAIL;
            g->wall1 = now_us();
            g->gen_cpu1 = self_cpu_us();
            g->srv_cpu1 = nodes_cpu_us(g, g->node_cpu1);
            machine_cpu(&g->mach_busy1, &g->mach_total1);
        }
        break;
    case PH_TAIL:
        if (t >= g->tail_end) {
            g->phase = PH_DONE;
            g->done = true;
            return;
        }
        break;
    case PH_DONE:
        return;
    }
    g->ctl_due = now_us() + LG_CTL_US;
}

/* ---- results ------------------------------------------------------------ */

struct summary {
    json_t *j;  /* the result line, new reference */
    bool valid; /* generator under 80% of its core */
    bool pass;  /* sweep bar: p99 <= 100 ms, freshness >= 99%, no backlog */
    bool sane;  /* smoke bar */
};

static void minmax_mean(const double *v, int n, double out[3])
{
    out[0] = n ? v[0] : NAN, out[1] = n ? v[0] : NAN, out[2] = 0;
    for (int i = 0; i < n; i++) {
        out[0] = v[i] < out[0] ? v[i] : out[0];
        out[1] = v[i] > out[1] ? v[i] : out[1];
        out[2] += v[i];
    }
    out[2] = n ? out[2] / n : NAN;
}

static json_t *jnum(double d)
{
    return isfinite(d) ? json_real(d) : json_null();
}

static json_t *mmm_json(const double m[3])
{
    json_t *o = json_object();
    json_object_set_new(o, "min", jnum(m[0]));
    json_object_set_new(o, "mean", jnum(m[2]));
    json_object_set_new(o, "max", jnum(m[1]));
    return o;
}

static struct summary summarize(struct lg *g, const double la0[3], char *metrics1)
{
    const struct lg_opts *o = g->o;
    struct summary r = {0};
    double span = (double)(g->win_end - g->win_start) / 1e6;
    double wall = (double)(g->wall1 - g->wall0) / 1e6;
    /* per receiver: frames and bytes per second */
    double *fr = calloc((size_t)g->n, sizeof *fr), *by = calloc((size_t)g->n, sizeof *by);
    int nr = 0, closed = 0, no_frames = 0;
    const char *closed_why = NULL; /* the first closed early: why */
    uint64_t frames_all = 0, sent = 0, skipped = 0, overwritten = 0, corr = 0, errs = 0;
    for (int i = 0; i < g->n; i++) {
        const struct client *c = &g->cl[i];
        if (!c->ever_joined)
            continue;
        fr[nr] = (double)c->frames / span;
        by[nr] = (double)c->bytes / span;
        nr++;
        frames_all += c->frames;
        no_frames += c->frames == 0;
        closed += c->closed_early;
        if (c->closed_early && !closed_why)
            closed_why = c->why;
        sent += c->sent, skipped += c->skipped, overwritten += c->overwritten;
        corr += c->corrections, errs += c->errors;
    }
    double fm[3], bm[3];
    minmax_mean(fr, nr, fm);
    minmax_mean(by, nr, bm);
    free(fr);
    free(by);
    /* probes: entries per frame, freshness */
    uint64_t pf = 0, pe = 0, gaps = 0, fresh = 0, covered = 0, expected = 0;
    uint64_t tiered = 0, near_fresh = 0, near_covered = 0;
    double fresh_min = NAN;
    for (int p = 0; p < g->n_probes; p++) {
        struct probe *pr = &g->pr[p];
        const struct client *pc = &g->cl[pr->client];
        uint64_t exp_p = 0;
        for (int i = 0; i < g->n; i++) {
            const struct client *m = &g->cl[i];
            if (i == pr->client || m->idle || !m->ever_joined || m->room != pc->room)
                continue;
            int64_t lo = (g->win_start - m->t0 + g->period_us - 1) / g->period_us;
            int64_t hi = (g->win_end - m->t0 + g->period_us - 1) / g->period_us - 1;
            exp_p += hi >= lo ? (uint64_t)(hi - lo + 1) : 0;
        }
        pf += pr->frames, pe += pr->entries, gaps += pr->tick_gaps;
        tiered += pr->tiered, near_fresh += pr->near_fresh, near_covered += pr->near_covered;
        fresh += pr->fresh, covered += pr->covered, expected += exp_p;
        double fp = exp_p ? (double)pr->fresh / (double)exp_p : NAN;
        if (isfinite(fp) && !(fp >= fresh_min))
            fresh_min = fp;
    }
    double epf = pf ? (double)pe / (double)pf : NAN;
    double freshness = expected ? (double)fresh / (double)expected : NAN;
    double entries_all = epf * (double)frames_all;
    double srv_cpu_s =
        g->srv_cpu0 >= 0 && g->srv_cpu1 >= 0 ? (double)(g->srv_cpu1 - g->srv_cpu0) / 1e6 : NAN;
    double srv_pct = 100 * srv_cpu_s / wall;
    double gen_pct = 100 * (double)(g->gen_cpu1 - g->gen_cpu0) / 1e6 / wall;
    double us_per_entry = entries_all > 0 ? srv_cpu_s * 1e6 / entries_all : NAN;
    double rss_idle = g->rss_before > 0 && g->rss_joined > 0 && g->joined
                          ? (double)(g->rss_joined - g->rss_before) * 1024 / g->joined
                          : NAN;
    /* server counters from walking start to the end */
    double ticks = NAN, drops_stale = NAN, drops_full = NAN, closed_slow = NAN;
    if (g->metrics0 && metrics1) {
        ticks = prom_sum(metrics1, "venue_tick_duration_seconds_count") -
                prom_sum(g->metrics0, "venue_tick_duration_seconds_count");
        drops_stale = prom_sum(metrics1, "venue_frames_dropped_total{reason=\"stale_poses\"") -
                      prom_sum(g->metrics0, "venue_frames_dropped_total{reason=\"stale_poses\"");
        drops_full = prom_sum(metrics1, "venue_frames_dropped_total{reason=\"queue_full\"") -
                     prom_sum(g->metrics0, "venue_frames_dropped_total{reason=\"queue_full\"");
        closed_slow = prom_sum(metrics1, "venue_closed_total{reason=\"too_slow\"") -
                      prom_sum(g->metrics0, "venue_closed_total{reason=\"too_slow\"");
    }
    double la1[3];
    loadavg(la1);
    /* what everything else on the machine used meanwhile, in % of one core */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    double mach_pct = g->mach_total1 > g->mach_total0
                          ? 100.0 * (double)ncpu * (double)(g->mach_busy1 - g->mach_busy0) /
                                (double)(g->mach_total1 - g->mach_total0)
                          : NAN;
    double other_pct = mach_pct - (isfinite(srv_pct) ? srv_pct : 0) - gen_pct;
    int movers = 0;
    for (int i = 0; i < g->n; i++)
        movers += !g->cl[i].idle;

    /* invalid when the generator, not the server, is what limits: over 80%
     * of its core, or so late that poses were skipped (p99 over a period,
     * or over 0.1% skipped): then the server got less load than asked.
     * Smaller lateness stays in the latencies, which count from the
     * scheduled time, so it only makes the server look worse. */
    double late99 = hist_q(&g->lateness, 0.99);
    bool gen_busy = !(isfinite(gen_pct) && gen_pct <= 80);
    bool gen_late =
        late99 > (double)g->period_us / 1000 || (double)skipped > 0.001 * (double)(sent + skipped);
    r.valid = !gen_busy && !gen_late;
    /* A tiered run's bar is its near tier: the rest come slower by design. */
    double near_share = near_covered ? (double)near_fresh / (double)near_covered : NAN;
    double p99 = hist_q(tiered ? &g->lat_near : &g->lat, 0.99);
    double bar_fresh = tiered ? near_share : freshness;
    double pfps = pf ? (double)pf / span / g->n_probes : NAN;
    /* no growing backlog: the probes got (nearly) every tick, the server
     * dropped no frame for a full queue and closed nobody as too slow, and
     * the generator sent on time */
    bool backlog_ok = pfps >= 0.95 * g->tick_hz && !(drops_full > 0) && !(closed_slow > 0) &&
                      !(hist_q(&g->lateness, 0.99) > (double)g->period_us / 1000);
    r.pass =
        r.valid && g->joined == g->n && p99 <= 100 && bar_fresh >= 0.99 && backlog_ok && !closed;
    r.sane = g->joined == g->n && !closed && (g->n_probes == 0 || (g->lat.n > 0 && p99 < 1000)) &&
             (movers < 2 || fm[0] > 0) && (!o->expect_tiers || (tiered > 0 && near_covered > 0));

    json_t *j = json_object();
    json_object_set_new(j, "tool", json_string("venue-loadgen"));
    json_object_set_new(j, "label", json_string(o->label ? o->label : ""));
    json_t *cfg = json_object();
    json_object_set_new(cfg, "clients", json_integer(g->n));
    json_object_set_new(cfg, "movers", json_integer(movers));
    json_object_set_new(cfg, "probes", json_integer(g->n_probes));
    json_object_set_new(cfg, "rooms", json_integer(o->rooms));
    json_object_set_new(cfg, "rate", json_real(o->rate));
    json_object_set_new(cfg, "idle", json_real(o->idle));
    json_object_set_new(cfg, "speed", json_real(o->speed));
    json_object_set_new(cfg, "duration", json_real(o->duration));
    json_object_set_new(cfg, "warmup", json_real(o->warmup));
    json_object_set_new(cfg, "settle", json_real(o->settle));
    json_object_set_new(cfg, "connect_rate", json_real(o->connect_rate));
    json_object_set_new(cfg, "tick_hz", json_integer(g->tick_hz));
    json_object_set_new(cfg, "poses", json_string(o->binary ? "binary" : "json"));
    json_object_set_new(cfg, "fresh_deadline_ms", json_real((double)g->fresh_us / 1000));
    json_object_set_new(cfg, "server_cpu", json_integer(o->server_cpu));
    json_object_set_new(cfg, "gen_cpu", json_integer(o->gen_cpu));
    json_object_set_new(cfg, "started_server", json_boolean(o->port == 0));
    json_object_set_new(j, "config", cfg);
    json_t *jn = json_object();
    json_object_set_new(jn, "joined", json_integer(g->joined));
    json_object_set_new(jn, "failed", json_integer(g->failed));
    json_object_set_new(jn, "seconds", json_real((double)(g->t_joined_all - g->t_connect) / 1e6));
    for (int i = 0; i < g->n; i++)
        if (g->cl[i].st == CS_FAILED) {
            json_object_set_new(jn, "first_failure", json_string(g->cl[i].why));
            break;
        }
    json_object_set_new(j, "join", jn);
    json_object_set_new(j, "latency_ms", hist_json(&g->lat));
    json_object_set_new(j, "delivery_ms", hist_json(&g->deliv));
    json_t *fj = json_object();
    json_object_set_new(fj, "share", jnum(freshness));
    json_object_set_new(fj, "worst_probe", jnum(fresh_min));
    json_object_set_new(fj, "fresh", json_integer((json_int_t)fresh));
    json_object_set_new(fj, "delivered", json_integer((json_int_t)covered));
    json_object_set_new(fj, "scheduled", json_integer((json_int_t)expected));
    json_object_set_new(j, "freshness", fj);
    if (tiered) {
        json_t *tj = json_object();
        json_object_set_new(tj, "tiered_frames", json_integer((json_int_t)tiered));
        json_object_set_new(tj, "near_freshness", jnum(near_share));
        json_object_set_new(tj, "near_delivered", json_integer((json_int_t)near_covered));
        json_object_set_new(tj, "near_latency_ms", hist_json(&g->lat_near));
        json_object_set_new(j, "tiers", tj);
    }
    json_t *cj = json_object();
    json_object_set_new(cj, "frames_per_s", mmm_json(fm));
    json_object_set_new(cj, "bytes_per_s", mmm_json(bm));
    json_object_set_new(cj, "receivers_without_frames", json_integer(no_frames));
    json_object_set_new(cj, "entries_per_frame", jnum(epf));
    json_object_set_new(cj, "probe_frames_per_s", jnum(pfps));
    json_object_set_new(cj, "probe_tick_gaps", json_integer((json_int_t)gaps));
    json_object_set_new(cj, "closed_early", json_integer(closed));
    json_object_set_new(cj, "closed_early_why", json_string(closed_why ? closed_why : ""));
    json_object_set_new(cj, "corrections", json_integer((json_int_t)corr));
    json_object_set_new(cj, "errors", json_integer((json_int_t)errs));
    json_object_set_new(j, "clients", cj);
    json_t *sj = json_object();
    json_object_set_new(sj, "cpu_pct", jnum(srv_pct));
    json_object_set_new(sj, "us_per_entry", jnum(us_per_entry));
    json_object_set_new(sj, "entries_delivered_per_s", jnum(entries_all / span));
    json_object_set_new(sj, "rss_kib_before", json_integer(g->rss_before));
    json_object_set_new(sj, "rss_kib_joined", json_integer(g->rss_joined));
    json_object_set_new(sj, "rss_kib_end", json_integer(g->rss_end));
    json_object_set_new(sj, "rss_bytes_per_idle_conn", jnum(rss_idle));
    json_object_set_new(sj, "ticks_per_s",
                        jnum(ticks / ((double)(g->tail_end - g->walk_start) / 1e6)));
    json_object_set_new(sj, "dropped_stale_poses", jnum(drops_stale));
    json_object_set_new(sj, "dropped_queue_full", jnum(drops_full));
    json_object_set_new(sj, "closed_too_slow", jnum(closed_slow));
    if (g->nodes > 1) {
        json_t *nj = json_array();
        for (int k = 0; k < g->nodes; k++) {
            double s = g->node_cpu0[k] >= 0 && g->node_cpu1[k] >= 0
                           ? (double)(g->node_cpu1[k] - g->node_cpu0[k]) / 1e6
                           : NAN;
            json_array_append_new(nj, json_pack("{s:i, s:i, s:o, s:I}", "port", g->ports[k], "pid",
                                                g->pids[k], "cpu_pct", jnum(100 * s / wall),
                                                "rss_kib_end", (json_int_t)g->node_rss_end[k]));
        }
        json_object_set_new(sj, "nodes", nj);
    }
    json_object_set_new(j, "server", sj);
    json_t *gj = json_object();
    json_object_set_new(gj, "cpu_pct", jnum(gen_pct));
    json_object_set_new(gj, "send_lateness_ms", hist_json(&g->lateness));
    json_object_set_new(gj, "poses_sent", json_integer((json_int_t)sent));
    json_object_set_new(gj, "poses_skipped", json_integer((json_int_t)skipped));
    json_object_set_new(gj, "poses_overwritten", json_integer((json_int_t)overwritten));
    json_object_set_new(j, "generator", gj);
    json_object_set_new(j, "valid", json_boolean(r.valid));
    if (!r.valid)
        json_object_set_new(j, "invalid_reason",
                            json_string(gen_busy ? "the generator used more than 80% of its core"
                                                 : "the generator fell behind: poses skipped "
                                                   "(send lateness p99 over one pose period)"));
    json_object_set_new(j, "backlog_ok", json_boolean(backlog_ok));
    json_object_set_new(j, "pass", json_boolean(r.pass));
    json_t *mj = json_object();
    char model[128] = "unknown", buf[8192];
    if (!read_small("/proc/cpuinfo", buf, sizeof buf)) {
        const char *mp = strstr(buf, "model name");
        if (mp && (mp = strchr(mp, ':')))
            sscanf(mp + 1, " %127[^\n]", model);
    }
    struct utsname_buf {
        char s[128];
    } kern = {""};
    read_small("/proc/sys/kernel/osrelease", kern.s, sizeof kern.s);
    kern.s[strcspn(kern.s, "\n")] = 0;
    json_object_set_new(mj, "nproc", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    json_object_set_new(mj, "model", json_string(model));
    json_object_set_new(mj, "kernel", json_string(kern.s));
    json_object_set_new(mj, "loadavg_before", json_pack("[f,f,f]", la0[0], la0[1], la0[2]));
    json_object_set_new(mj, "loadavg_after", json_pack("[f,f,f]", la1[0], la1[1], la1[2]));
    json_object_set_new(mj, "busy_pct", jnum(mach_pct));
    json_object_set_new(mj, "others_pct", jnum(other_pct));
    json_object_set_new(j, "machine", mj);
    r.j = j;

    fprintf(
        stderr,
        "venue-loadgen: %d clients (%d moving at %g Hz, %d probes) in %d room(s), %g s\n"
        "  joined       %d/%d in %.1f s\n"
        "  latency      p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f ms (%" PRIu64
        " entries)\n"
        "  delivery     p50 %.1f  p99 %.1f  max %.1f ms; freshness %.2f%% (worst probe "
        "%.2f%%, deadline %.0f ms)\n"
        "  per client   %.1f frames/s (min %.1f), %.1f KiB/s; %.1f entries/frame\n"
        "  server       CPU %.1f%% of a core, %.2f us per entry delivered; RSS %ld KiB, "
        "%.0f B per idle connection\n"
        "  generator    CPU %.1f%% of its core%s; send lateness p99 %.2f ms, %" PRIu64 " skipped\n"
        "  machine      load average %.2f before, %.2f after; other processes used %.0f%% "
        "of a core in the window\n  %s\n",
        g->n, movers, o->rate, g->n_probes, o->rooms, o->duration, g->joined, g->n,
        (double)(g->t_joined_all - g->t_connect) / 1e6, hist_q(&g->lat, 0.5), hist_q(&g->lat, 0.9),
        hist_q(&g->lat, 0.99), hist_q(&g->lat, 0.999), (double)g->lat.max_us / 1000, g->lat.n,
        hist_q(&g->deliv, 0.5), hist_q(&g->deliv, 0.99), (double)g->deliv.max_us / 1000,
        100 * freshness, 100 * fresh_min, (double)g->fresh_us / 1000, fm[2], fm[0], bm[2] / 1024,
        epf, srv_pct, us_per_entry, g->rss_end, rss_idle, gen_pct,
        gen_busy   ? " -> INVALID (over 80%)"
        : gen_late ? " -> INVALID (sending late)"
                   : "",
        hist_q(&g->lateness, 0.99), skipped, la0[0], la1[0], other_pct,
        !r.pass  ? "does not pass"
        : tiered ? "PASS (the near tier: p99 <= 100 ms, freshness >= 99%; no backlog)"
                 : "PASS (p99 <= 100 ms, freshness >= 99%, no backlog)");
    for (int i = 0; i < g->n; i++)
        if (g->cl[i].st == CS_FAILED) {
            fprintf(stderr, "  failures     %d did not join; the first: %s\n", g->failed,
                    g->cl[i].why);
            break;
        }
    if (closed)
        fprintf(stderr, "  closed early %d after joining; the first: %s\n", closed, closed_why);
    if (tiered)
        fprintf(stderr,
                "  near tier    p50 %.1f  p99 %.1f  max %.1f ms; freshness %.2f%% over %" PRIu64
                " poses (%" PRIu64 " tiered frames at the probes): the bar above\n",
                hist_q(&g->lat_near, 0.5), hist_q(&g->lat_near, 0.99),
                (double)g->lat_near.max_us / 1000, 100 * near_share, near_covered, tiered);
    return r;
}

/* ---- one run ------------------------------------------------------------ */

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "venue-loadgen: overall time limit reached, stopping\n";
    if (g_server_pid > 0)
        kill(g_server_pid, SIGKILL);
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(3);
}

static void on_signal(int sig)
{
    (void)sig;
    g_interrupted = 1;
}

static int raise_nofile(int want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return -1;
    if (rl.rlim_cur >= (rlim_t)want)
        return 0;
    rl.rlim_cur =
        rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= (rlim_t)want ? (rlim_t)want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < (rlim_t)want) {
        fprintf(stderr,
                "venue-loadgen: --clients: needs %d open files, the hard limit is %llu "
                "(raise it: ulimit -Hn, /etc/security/limits.conf)\n",
                want, (unsigned long long)rl.rlim_max);
        return -1;
    }
    return 0;
}

/* Assigns roles: probes first (movers), idle ones last (never probes). */
static int setup_clients(struct lg *g)
{
    const struct lg_opts *o = g->o;
    int n_idle = (int)lround(o->idle * g->n);
    int movers = g->n - n_idle;
    g->n_probes = o->probes < movers ? o->probes : movers;
    g->cl = calloc((size_t)g->n, sizeof *g->cl);
    g->heap = calloc((size_t)g->n, sizeof *g->heap);
    int cap = 1;
    while (cap < 2 * g->n)
        cap <<= 1;
    g->map_mask = cap - 1;
    g->map_key = calloc((size_t)cap, sizeof *g->map_key);
    g->map_val = calloc((size_t)cap, sizeof *g->map_val);
    g->lat.b = calloc(LG_HIST_N, sizeof(uint32_t));
    g->deliv.b = calloc(LG_HIST_N, sizeof(uint32_t));
    g->lateness.b = calloc(LG_HIST_N, sizeof(uint32_t));
    g->lat_near.b = calloc(LG_HIST_N, sizeof(uint32_t));
    if (!g->cl || !g->heap || !g->map_key || !g->map_val || !g->lat.b || !g->deliv.b ||
        !g->lateness.b || !g->lat_near.b)
        return -1;
    for (int i = 0; i < g->n; i++) {
        struct client *c = &g->cl[i];
        c->idx = i;
        c->room = i % o->rooms;
        c->idle = i >= movers;
        c->probe = i < g->n_probes ? i : -1;
        c->heap_pos = -1;
        c->fd = -1;
        c->ix = -1;
    }
    for (int p = 0; p < g->n_probes; p++) {
        g->pr[p].client = p;
        g->pr[p].newest = malloc((size_t)g->n * sizeof(int64_t));
        g->pr[p].near_prev = malloc((size_t)g->n * sizeof(int64_t));
        if (!g->pr[p].newest || !g->pr[p].near_prev)
            return -1;
        for (int i = 0; i < g->n; i++)
            g->pr[p].newest[i] = g->pr[p].near_prev[i] = -1;
    }
    return 0;
}

static void free_run(struct lg *g)
{
    for (int i = 0; g->cl && i < g->n; i++)
        free(g->cl[i].rx);
    for (int p = 0; p < g->n_probes; p++) {
        free(g->pr[p].newest);
        free(g->pr[p].near_prev);
    }
    free(g->cl);
    free(g->heap);
    free(g->map_key);
    free(g->map_val);
    for (int r = 0; r < LG_MAX_ROOMS; r++) {
        free(g->ix_map[r]);
        g->ix_map[r] = NULL;
    }
    free(g->lat.b);
    free(g->deliv.b);
    free(g->lateness.b);
    free(g->lat_near.b);
    free(g->metrics0);
    free(g->scratch);
}

/* Closes every connection and the epoll set (the server sees them go). */
static void close_all(struct lg *g)
{
    for (int i = 0; g->cl && i < g->n; i++)
        if (g->cl[i].fd >= 0) {
            close(g->cl[i].fd);
            g->cl[i].fd = -1;
        }
    if (g->epfd >= 0)
        close(g->epfd);
    g->epfd = -1;
}

/*
 * One turn of the loop: run the timers that are due, then wait for
 * sockets until the earlier of the two deadlines (microseconds, so a pose
 * is not sent up to a millisecond late) and serve them. -1 on an epoll
 * error.
 */
static int serve(struct lg *g)
{
    int64_t t = now_us();
    if (g->ctl_due && t >= g->ctl_due)
        ctl_timer(g);
    if (g->done)
        return 0;
    if (g->pose_due && now_us() >= g->pose_due)
        pose_timer(g);
    int64_t due = g->ctl_due, pd = g->pose_due;
    if (pd && (!due || pd < due))
        due = pd;
    int64_t d = due ? due - now_us() : 1000;
    if (d < 0)
        d = 0;
    struct timespec ts = {.tv_sec = d / 1000000, .tv_nsec = (long)(d % 1000000) * 1000};
    struct epoll_event ev[LG_EVENTS];
    int n = epoll_pwait2(g->epfd, ev, LG_EVENTS, &ts, NULL);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++)
        on_event(g, ev[i].data.ptr, ev[i].events);
    return 0;
}

/* One measurement with n clients. Returns its summary (r.j NULL on error). */
static struct summary run_once(const struct lg_opts *o, int n)
{
    struct summary r = {0};
    struct server srv = {0};
    struct lg g;
    memset(&g, 0, sizeof g);
    g.o = o;
    g.n = n;
    g.port = o->port;
    g.pid = o->pid;
    g.tick_hz = 20;
    g.period_us = (int64_t)llround(1e6 / o->rate);
    g.epfd = -1;
    alarm((unsigned)(o->join_timeout + o->settle + o->warmup + o->duration + 60));
    if (setup_clients(&g)) {
        fprintf(stderr, "venue-loadgen: out of memory for %d clients\n", n);
        free_run(&g);
        return r;
    }
    if (!o->port) {
        if (server_start(o, &srv)) {
            free_run(&g);
            return r;
        }
        g.port = srv.port;
        g.pid = srv.pid;
    }
    double la0[3];
    loadavg(la0);
    g.ports[0] = g.port;
    g.pids[0] = g.pid;
    g.nodes = 1 + o->n_also;
    for (int k = 0; k < o->n_also; k++) {
        g.ports[1 + k] = o->also_port[k];
        g.pids[1 + k] = o->also_pid[k];
    }
    g.rss_before = g.pid ? nodes_rss_kb(&g, NULL) : -1;

    g.epfd = epoll_create1(EPOLL_CLOEXEC);
    g.scratch = malloc(LG_SCRATCH);
    if (g.epfd < 0 || !g.scratch) {
        fprintf(stderr, "venue-loadgen: epoll_create1 or the scratch buffer failed\n");
        close_all(&g);
        server_stop(&srv);
        free_run(&g);
        return r;
    }
    fprintf(stderr, "venue-loadgen: %d clients to 127.0.0.1:%d (venued pid %d), connecting...\n", n,
            g.port, g.pid);
    g.t_connect = now_us();
    g.phase = PH_CONNECT;
    g.ctl_due = g.t_connect;
    /* bounded: ctl_timer ends the run at tail_end or the join timeout path
     * leads there; the alarm is the backstop */
    while (!g.done && serve(&g) == 0)
        ;
    if (g.phase < PH_TAIL) {
        fprintf(stderr, "venue-loadgen: interrupted\n");
        close_all(&g);
        server_stop(&srv);
        free_run(&g);
        return r;
    }
    g.rss_end = g.pid ? nodes_rss_kb(&g, g.node_rss_end) : -1;
    char *metrics1 = NULL;
    http_get(g.port, "/metrics", &metrics1);
    close_all(&g);
    r = summarize(&g, la0, metrics1);
    free(metrics1);
    if (!r.sane && srv.pid)
        print_log_tail(&srv);
    server_stop(&srv);
    free_run(&g);
    alarm(0);
    return r;
}

static void emit(const struct lg_opts *o, json_t *j)
{
    char *line = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (!line)
        return;
    printf("%s\n", line);
    fflush(stdout);
    if (o->json) {
        FILE *f = fopen(o->json, "a");
        if (f) {
            fprintf(f, "%s\n", line);
            fclose(f);
        } else
            fprintf(stderr, "venue-loadgen: --json %s: %s\n", o->json, strerror(errno));
    }
    free(line);
}

/* Runs once, or the sweep, after the flags are parsed. */
static int lg_main(struct lg_opts *o)
{
    int max_n = o->clients;
    for (int i = 0; i < o->n_sweep; i++)
        max_n = o->sweep[i] > max_n ? o->sweep[i] : max_n;
    if (raise_nofile(max_n + 128))
        return 2;
    if (o->gen_cpu >= 0 && pin_to(0, o->gen_cpu)) {
        fprintf(stderr, "venue-loadgen: --gen-cpu %d: %s\n", o->gen_cpu, strerror(errno));
        return 2;
    }
    rng_state ^= (uint64_t)now_us() * 0x2545f4914f6cdd1dull;
    signal(SIGALRM, on_alarm);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    if (!o->n_sweep) {
        struct summary r = run_once(o, o->clients);
        if (!r.j)
            return 3;
        emit(o, r.j);
        json_decref(r.j);
        if (o->check && !r.sane) {
            fprintf(stderr, "venue-loadgen: CHECK FAILED (joins, probe sightings or latency)\n");
            return 1;
        }
        return 0;
    }
    /* sweep: stop at the first N that does not pass (or is invalid) */
    int best = 0;
    const char *stopped = "every N passed";
    json_t *steps = json_array();
    for (int i = 0; i < o->n_sweep && !g_interrupted; i++) {
        struct summary r = run_once(o, o->sweep[i]);
        if (!r.j)
            break;
        emit(o, r.j);
        json_array_append_new(steps, json_pack("{s:i,s:b,s:b}", "clients", o->sweep[i], "pass",
                                               r.pass, "valid", r.valid));
        json_decref(r.j);
        if (!r.pass) {
            stopped =
                r.valid ? "first N that does not pass" : "the generator limited (busy or late)";
            break;
        }
        best = o->sweep[i];
    }
    json_t *s = json_pack("{s:s,s:s,s:i,s:s,s:o}", "tool", "venue-loadgen", "sweep",
                          "largest N with p99 <= 100 ms, freshness >= 99%, no backlog", "best",
                          best, "stopped_at", stopped, "steps", steps);
    emit(o, s);
    json_decref(s);
    fprintf(stderr, "venue-loadgen: sweep: largest passing N = %d (stopped: %s)\n", best, stopped);
    return 0;
}

int main(int argc, char **argv)
{
    struct lg_opts o;
    if (parse_args(argc, argv, &o)) {
        free(o.room_buf);
        return 2;
    }
    int rc = lg_main(&o);
    free(o.room_buf);
    return rc;
}
