/*
 * main.c - venued: options, the libwebsockets context, the tick, signals,
 * the cluster node with --redis;
 * `venued user`, `venued programme`, `venued twin` and `venued demo-feed`
 * go to their commands, and the hidden `venued slides-count FILE` is the
 * child the server starts to count a deck's pages (slides.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli_programme.h"
#include "cli_twin.h"
#include "cli_user.h"
#include "node.h"
#include "redis.h"
#include "voice_link.h"
#include "options.h"
#include "chatlog.h"
#include "db.h"
#include "programme.h"
#include "registry.h"
#include "server.h"
#include "service_loop.h"
#include "slides.h"

static volatile sig_atomic_t stop_signal;
static struct service_loop loop; /* the tick reschedules itself on it */
static volatile sig_atomic_t reload_signal;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_signal = 1;
    else
        stop_signal = sig;
}

static void reload_scenes(struct server *srv)
{
    struct scene_set next = {0};
    char err[512];
    if (scene_set_load(srv->cfg.scenes_dir, &next, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued: reload refused, keeping the old scenes: %s\n", err);
        return;
    }
    if (venue_set_scenes(srv->venue, &next, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued: reload refused, keeping the old scenes: %s\n", err);
        scene_set_free(&next);
        return;
    }
    scene_set_free(&srv->scenes);
    srv->scenes = next;
    fprintf(stderr, "venued: scenes reloaded from %s\n", srv->cfg.scenes_dir);
}

/* ---- lws's log, repeats collapsed ------------------------------------
 *
 * A line lws writes once per event (an accept that fails, a client that
 * misbehaves) can be made to repeat thousands of times a second: each
 * kind of line (its text with every run of digits alike) is written the
 * first time, then counted, and the count written at most once per
 * LOG_EVERY_MS while it goes on. A kind quiet for a whole interval is
 * forgotten, so its next line is written in full again. */

#define LOG_EVERY_MS 10000
#define LOG_KINDS    16

struct log_kind {
    bool used;
    unsigned long shape; /* hash of the text, digits alike */
    long long since_ms;  /* the interval began */
    unsigned long more;  /* lines like it since then, not written */
    char text[120];      /* the first of them, for the count's line */
};

static struct log_kind log_kinds[LOG_KINDS];

static unsigned long log_shape(const char *s)
{
    unsigned long h = 5381;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9') {
            while (s[1] >= '0' && s[1] <= '9')
                s++;
            h = h * 33 + '#';
        } else {
            h = h * 33 + (unsigned char)*s;
        }
    }
    return h;
}

/* The interval of k is over: its count is written, or, quiet, it goes. */
static void log_settle(struct log_kind *k, long long now)
{
    if (!k->more) {
        k->used = false;
        return;
    }
    fprintf(stderr, "venued: lws: (%lu more like this in the last %lld s: %s)\n", k->more,
            (now - k->since_ms + 999) / 1000, k->text);
    k->more = 0;
    k->since_ms = now;
}

/* From the tick, and at exit with all set. */
static void log_flush(long long now, bool all)
{
    for (size_t i = 0; i < LOG_KINDS; i++)
        if (log_kinds[i].used && (all || now - log_kinds[i].since_ms >= LOG_EVERY_MS))
            log_settle(&log_kinds[i], now);
}

static void log_emit(int level, const char *line)
{
    long long now = clock_mono_ms();
    unsigned long shape = log_shape(line);
    struct log_kind *k = NULL, *oldest = &log_kinds[0];

    (void)level;
    for (size_t i = 0; i < LOG_KINDS; i++) {
        struct log_kind *x = &log_kinds[i];
        if (x->used && x->shape == shape)
            k = x;
        if (!x->used || (oldest->used && x->since_ms < oldest->since_ms))
            oldest = x;
    }
    if (k && now - k->since_ms >= LOG_EVERY_MS)
        log_settle(k, now);
    if (k && k->used) {
        k->more++;
        return;
    }
    if (!k) {
        /* A new kind takes a free place, or the oldest kind's (its count
         * written first). */
        k = oldest;
        if (k->used && k->more)
            log_settle(k, now);
    }
    *k = (struct log_kind){.used = true, .shape = shape, .since_ms = now};
    snprintf(k->text, sizeof(k->text), "%.*s", (int)strcspn(line, "\n"), line);
    fprintf(stderr, "venued: lws: %s", line);
}

/* The tick: scheduled on the service loop at a steady rate, catching up
 * without bursts if the loop was late. */
static void tick(void *arg)
{
    struct server *srv = arg;
    long long now = clock_mono_ms(), period = 1000 / srv->cfg.tick_hz;

    if (reload_signal) {
        reload_signal = 0;
        reload_scenes(srv);
    }
    venue_tick(srv->venue, now);
    log_flush(now, false);
    srv->next_tick_ms += period;
    if (srv->next_tick_ms <= now)
        srv->next_tick_ms = now + period;
    service_loop_after(&loop, srv->ctx, (lws_usec_t)(srv->next_tick_ms - now) * LWS_US_PER_MS, tick,
                       srv);
}

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0750) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "venued: --data %s: %s\n", dir, strerror(errno));
    return -1;
}

static int open_state(struct server *srv)
{
    char err[512], assets[PATH_MAX];
    if (make_dir(srv->cfg.data_dir) < 0)
        return -1;
    if (scene_set_load(srv->cfg.scenes_dir, &srv->scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued: scenes: %s\n", err);
        return -1;
    }
    snprintf(assets, sizeof(assets), "%s/assets", srv->cfg.scenes_dir);
    if (!realpath(assets, srv->assets_dir))
        srv->assets_dir[0] = '\0';
    if (!realpath(srv->cfg.web_dir, srv->web_dir)) {
        fprintf(stderr, "venued: --web %s: %s\n", srv->cfg.web_dir, strerror(errno));
        return -1;
    }
    srv->store = store_open(config_store(&srv->cfg), err, sizeof(err));
    if (!srv->store) {
        fprintf(stderr, "venued: store: %s\n", err);
        return -1;
    }
    store_set_node(srv->store, srv->cfg.node_id);
    srv->registry = registry_open(srv->store, err, sizeof(err));
    if (!srv->registry) {
        fprintf(stderr, "venued: %s\n", err);
        return -1;
    }
    srv->twins = twins_open(srv->store, srv->cfg.twin_history, err, sizeof(err));
    if (!srv->twins) {
        fprintf(stderr, "venued: %s\n", err);
        return -1;
    }
    srv->chatlog = chatlog_open(srv->store, err, sizeof(err));
    if (!srv->chatlog) {
        fprintf(stderr, "venued: %s\n", err);
        return -1;
    }
    srv->programme = programme_open(srv->store, srv->registry, err, sizeof(err));
    if (!srv->programme) {
        fprintf(stderr, "venued: %s\n", err);
        return -1;
    }
    if (slides_prepare(srv->cfg.data_dir, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued: slides: %s\n", err);
        return -1;
    }
    return 0;
}

/* Everything open_state and main opened, in reverse; safe on a part. */
static void close_state(struct server *srv)
{
    gate_free(srv->gate); /* after the context, which tells it of every wsi it frees */
    voice_proxy_free(srv->voice_proxy);
    venue_free(srv->venue);
    if (srv->programme)
        programme_close(srv->programme);
    chatlog_close(srv->chatlog);
    twins_close(srv->twins);
    registry_close(srv->registry);
    store_close(srv->store);
    scene_set_free(&srv->scenes);
}

/* Privacy by default: forget what is past its retention period. Run
 * before the venue loads the sessions saved at shutdown, whose guests
 * retention keeps. */
static void retain(struct server *srv)
{
    long n = registry_retain(srv->registry, clock_wall_ms(), srv->cfg.retention_days,
                             srv->cfg.audit_retention_days);
    long q, c;
    if (n < 0)
        fprintf(stderr, "venued: retention: %s\n", registry_error(srv->registry));
    else if (n > 0)
        fprintf(stderr, "venued: retention: %ld expired records deleted\n", n);
    /* Questions go with the audit log they sit beside. */
    q = programme_retain(srv->programme, clock_wall_ms(), srv->cfg.audit_retention_days);
    if (q < 0)
        fprintf(stderr, "venued: retention: %s\n", programme_error(srv->programme));
    else if (q > 0)
        fprintf(stderr, "venued: retention: %ld old questions and votes deleted\n", q);
    c = chatlog_retain(srv->chatlog, clock_wall_ms(), srv->cfg.chat_days * 86400000LL);
    if (c < 0)
        fprintf(stderr, "venued: retention: %s\n", chatlog_error(srv->chatlog));
    else if (c > 0)
        fprintf(stderr, "venued: retention: %ld old chat lines deleted\n", c);
}

#define RETAIN_EVERY_US (3600LL * LWS_US_PER_SEC)

static void retain_again(lws_sorted_usec_list_t *sul)
{
    struct server *srv = lws_container_of(sul, struct server, retain_sul);
    retain(srv);
    lws_sul_schedule(srv->ctx, 0, &srv->retain_sul, retain_again, RETAIN_EVERY_US);
}

static const struct lws_protocol_vhost_options default_protocol = {NULL, NULL, "default", ""};
static const struct lws_protocol_vhost_options pvo = {NULL, &default_protocol, PROTO_SUBPROTOCOL,
                                                      ""};

int main(int argc, char **argv)
{
    static struct server srv;
    static struct lws_http_mount mount;
    static lws_retry_bo_t retry;
    struct voice_link *voice = NULL;
    struct cluster_node *node = NULL;
    struct lws_protocols protocols[5] = {
        http_api_protocol, ws_adapter_protocol, voice_proxy_protocol, redis_protocol, {0}};
    struct lws_context_creation_info info;
    struct venue_io io = ws_adapter_io_template;
    char err[512];
    int rc;

    /* First, before anything is opened: it reads nothing but FILE. */
    if (argc > 1 && strcmp(argv[1], SLIDES_COUNT_CMD) == 0)
        return slides_count_main(argc - 1, argv + 1);
    config_defaults(&srv.cfg);
    if (argc > 1 && strcmp(argv[1], "user") == 0) {
        /* The environment applies; the subcommand reads its own flags. */
        if (options_parse(&srv.cfg, 1, argv, err, sizeof(err)) < 0) {
            fprintf(stderr, "venued: %s\n", err);
            return 2;
        }
        return cli_user_main(argc - 1, argv + 1, &srv.cfg);
    }
    if (argc > 1 && strcmp(argv[1], "programme") == 0) {
        if (options_parse(&srv.cfg, 1, argv, err, sizeof(err)) < 0) {
            fprintf(stderr, "venued: %s\n", err);
            return 2;
        }
        return cli_programme_main(argc - 1, argv + 1, &srv.cfg);
    }
    /* These read the environment and the server options they take themselves. */
    if (argc > 1 && strcmp(argv[1], "twin") == 0)
        return cli_twin_main(argc - 1, argv + 1, &srv.cfg);
    if (argc > 1 && strcmp(argv[1], "demo-feed") == 0)
        return cli_twin_feed_main(argc - 1, argv + 1, &srv.cfg);
    rc = options_parse(&srv.cfg, argc, argv, err, sizeof(err));
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "venued: %s\n", err);
        return rc < 0 ? 2 : 0;
    }
    if (open_state(&srv) < 0) {
        close_state(&srv);
        return 1;
    }
    cli_user_note_public_url(&srv.cfg);
    retain(&srv);

    io.ctx = &srv;
    srv.venue = venue_new(&srv.cfg, &io, &srv.scenes, srv.store, srv.registry, clock_mono_ms(), err,
                          sizeof(err));
    if (!srv.venue || venue_keep_twins(srv.venue, srv.twins, err, sizeof(err)) < 0 ||
        venue_keep_programme(srv.venue, srv.programme, err, sizeof(err)) < 0 ||
        venue_keep_chat(srv.venue, srv.chatlog, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued: %s\n", err);
        close_state(&srv);
        return 1;
    }
    /* Decks no session shows any more (an older version, a session gone
     * from the programme) are not kept. */
    slides_sweep(srv.cfg.data_dir, srv.venue);
    srv.admin = (struct admin_env){.reg = srv.registry,
                                   .venue = srv.venue,
                                   .twins = srv.twins,
                                   .programme = srv.programme,
                                   .cfg = &srv.cfg};

    srv.voice_proxy = voice_proxy_new(srv.cfg.janus_url, err, sizeof(err));
    if (!srv.voice_proxy) {
        fprintf(stderr, "venued: %s\n", err);
        close_state(&srv);
        return 2;
    }
    srv.gate = gate_new(&srv.cfg, err, sizeof(err));
    if (!srv.gate) {
        fprintf(stderr, "venued: %s\n", err);
        close_state(&srv);
        return 2;
    }

    /* Every HTTP path goes to http_api.c, which routes it. */
    mount.mountpoint = "/";
    mount.mountpoint_len = 1;
    mount.origin = "http";
    mount.origin_protocol = LWSMPRO_CALLBACK;

    /* Presence needs dead connections found in seconds, not lws's minutes. */
    retry.secs_since_valid_ping = (uint16_t)(srv.cfg.idle_timeout_s / 2);
    retry.secs_since_valid_hangup = (uint16_t)srv.cfg.idle_timeout_s;

    memset(&info, 0, sizeof(info));
    info.port = srv.cfg.port;
    info.iface = srv.cfg.bind;
    info.protocols = protocols;
    info.pvo = &pvo;
    info.mounts = &mount;
    info.user = &srv;
    info.retry_and_idle_policy = &retry;
    /* No LWS_SERVER_OPTION_VALIDATE_UTF8: the adapter checks each whole
     * message and closes with 1007 itself (ws_adapter.c). The security
     * headers are lws's best practices with a narrower
     * connect-src (http_api.c). */
    info.headers = http_api_headers(&srv.cfg);
    /* Deadlines lws keeps: the whole header block, from its first byte
     * (PENDING_TIMEOUT_HOLDING_AH), and every pause in a body and other
     * network round trips (PENDING_TIMEOUT_HTTP_CONTENT). The whole
     * request's is http_api.c's. */
    info.timeout_secs_ah_idle = (unsigned)srv.cfg.header_timeout_s;
    info.timeout_secs = (unsigned)srv.cfg.body_idle_s;
    lws_set_log_level(LLL_ERR | LLL_WARN, log_emit);
    if (service_loop_init(&loop, srv.cfg.event_loop, &stop_signal, &info, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued: %s\n", err);
        close_state(&srv);
        return 2;
    }

    srv.ctx = lws_create_context(&info);
    if (!srv.ctx) {
        fprintf(stderr, "venued: cannot listen on %s:%d\n", srv.cfg.bind, srv.cfg.port);
        service_loop_free(&loop);
        close_state(&srv);
        return 1;
    }
    /* Voice is optional: a bad flag or file stops venued here, but Janus
     * being down never does (the client retries on its own). */
    if (srv.cfg.janus_url[0] && !(voice = voice_link_new(&srv, err, sizeof(err)))) {
        fprintf(stderr, "venued: %s\n", err);
        lws_context_destroy(srv.ctx);
        service_loop_free(&loop);
        close_state(&srv);
        return 2;
    }
    /* Like voice: a bad flag stops venued, Redis being down never does. */
    if (srv.cfg.redis_url[0] && !(node = node_new(&srv, err, sizeof(err)))) {
        fprintf(stderr, "venued: %s\n", err);
        voice_link_free(voice);
        lws_context_destroy(srv.ctx);
        service_loop_free(&loop);
        close_state(&srv);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, SIG_IGN);

    srv.next_tick_ms = clock_mono_ms();
    service_loop_after(&loop, srv.ctx, 1, tick, &srv);
    lws_sul_schedule(srv.ctx, 0, &srv.retain_sul, retain_again, RETAIN_EVERY_US);
    fprintf(stderr, "venued: listening on http://%s:%d (%zu rooms, data in %s%s)\n", srv.cfg.bind,
            srv.cfg.port, srv.scenes.n, srv.cfg.data_dir,
            db_engine(store_db(srv.store)) == DB_POSTGRES ? ", database in PostgreSQL" : "");

    /* Serving, the loop never waits for another process's write lock. */
    store_patient(srv.store, false);
    rc = service_loop_run(&loop, srv.ctx);
    store_patient(srv.store, true); /* what shutdown saves may wait for it */

    fprintf(stderr, "venued: shutting down%s\n", rc < 0 ? " (the service loop failed)" : "");
    venue_shutdown(srv.venue, clock_mono_ms());
    if (node)
        node_leave(node);
    /* Let the close frames go out, and the cluster hear that this node
     * left, for two seconds at the most. */
    for (long long until = clock_mono_ms() + 2000;
         (venue_metrics(srv.venue)->connections > 0 || (node && !node_left(node))) &&
         clock_mono_ms() < until;)
        if (service_loop_once(&loop, srv.ctx) < 0)
            break;
    service_loop_cancel(&loop);
    lws_sul_cancel(&srv.retain_sul);
    node_free(node);
    voice_link_free(voice);
    http_api_import_stop(&srv);
    lws_context_destroy(srv.ctx);
    service_loop_free(&loop);
    log_flush(clock_mono_ms(), true);
    http_api_slides_stop(&srv);
    close_state(&srv);
    return 0;
}
