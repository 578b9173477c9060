/*
 * options.c - venued's settings from the environment and the command line.
 *
 * One table describes every option once: its flag, its variable, where it
 * lands in struct venue_config, its range and its help text. Parsing the
 * environment, the flags and printing --help all walk that table.
 */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "redis_url.h"

enum opt_kind { OPT_INT, OPT_LONG, OPT_DOUBLE, OPT_STR };

struct opt {
    const char *flag;
    const char *env;
    enum opt_kind kind;
    size_t offset;
    size_t size;     /* for OPT_STR: the buffer's size */
    double min, max; /* for OPT_STR: min < 0 lets the value be empty */
    const char *help;
    const char *const *choices; /* for OPT_STR: the values allowed, NULL-terminated; NULL: any */
};

static const char *const registration_choices[] = {"open", "required", NULL};
static const char *const event_loop_choices[] = {"poll", "libev", NULL};

#define FIELD(f) offsetof(struct venue_config, f), sizeof(((struct venue_config *)0)->f)

static const struct opt opts[] = {
    {"port", "VENUE_PORT", OPT_INT, FIELD(port), 1, 65535, "TCP port for HTTP and WebSocket", NULL},
    {"bind", "VENUE_BIND", OPT_STR, FIELD(bind), 0, 0,
     "address to listen on (0.0.0.0 exposes the venue to the network)", NULL},
    {"data", "VENUE_DATA", OPT_STR, FIELD(data_dir), 0, 0,
     "folder for the SQLite database and the slides", NULL},
    {"database", "VENUE_DATABASE", OPT_STR, FIELD(database), -1, 0,
     "the store: postgresql://USER[:PASSWORD]@HOST[:PORT]/DB (nodes share one), or an SQLite "
     "file (*.db); empty: venue.db in --data",
     NULL},
    {"scenes", "VENUE_SCENES", OPT_STR, FIELD(scenes_dir), 0, 0, "folder of scene files", NULL},
    {"web", "VENUE_WEB", OPT_STR, FIELD(web_dir), 0, 0, "folder of the browser client", NULL},
    {"tick-hz", "VENUE_TICK_HZ", OPT_INT, FIELD(tick_hz), 1, 120, "pose fan-out ticks per second",
     NULL},
    {"max-message", "VENUE_MAX_MESSAGE", OPT_LONG, FIELD(max_message), 256, 16777216,
     "largest client message in bytes (larger: close 1009)", NULL},
    {"pose-rate", "VENUE_POSE_RATE", OPT_INT, FIELD(pose_rate), 1, 10000,
     "poses per second a client may send", NULL},
    {"chat-rate", "VENUE_CHAT_RATE", OPT_INT, FIELD(chat_rate), 1, 1000,
     "chat messages per second a client may send", NULL},
    {"react-rate", "VENUE_REACT_RATE", OPT_INT, FIELD(react_rate), 1, 100,
     "reactions (applause, hearts...) per second a client may send", NULL},
    {"other-rate", "VENUE_OTHER_RATE", OPT_INT, FIELD(other_rate), 1, 10000,
     "other messages per second a client may send", NULL},
    {"resume-grace", "VENUE_RESUME_GRACE", OPT_INT, FIELD(resume_grace_s), 0, 86400,
     "seconds a dropped session waits to be resumed", NULL},
    {"kick-minutes", "VENUE_KICK_MINUTES", OPT_INT, FIELD(kick_minutes), 0, 1440,
     "minutes a kicked guest's browser, and its address under the same name, are kept out "
     "(in memory only; 0: not at all)",
     NULL},
    {"idle-timeout", "VENUE_IDLE_TIMEOUT", OPT_INT, FIELD(idle_timeout_s), 2, 3600,
     "seconds without a pong before a connection is dropped (pinged at half)", NULL},
    {"hello-timeout", "VENUE_HELLO_TIMEOUT", OPT_INT, FIELD(hello_timeout_s), 1, 3600,
     "seconds a new connection has to say hello", NULL},
    /* The front door: no unauthenticated client holds a request open, or
     * takes every connection. */
    {"header-timeout", "VENUE_HEADER_TIMEOUT", OPT_INT, FIELD(header_timeout_s), 1, 3600,
     "seconds a client has to send the whole header block of a request (then: closed)", NULL},
    {"body-idle", "VENUE_BODY_IDLE", OPT_INT, FIELD(body_idle_s), 1, 3600,
     "seconds a request body may pause between pieces (then: closed)", NULL},
    {"request-timeout", "VENUE_REQUEST_TIMEOUT", OPT_INT, FIELD(request_timeout_s), 1, 86400,
     "seconds one HTTP request may take from its headers to the end of its answer, body "
     "included (then: closed)",
     NULL},
    {"max-connections", "VENUE_MAX_CONNECTIONS", OPT_INT, FIELD(max_connections), 1, 1000000,
     "open connections in all, lowered to the file descriptor limit less 64 (more: 503)", NULL},
    {"conns-per-address", "VENUE_CONNS_PER_ADDRESS", OPT_INT, FIELD(conns_per_address), 1, 1000000,
     "open connections from one address, an IPv6 /64 counting as one (more: 503)", NULL},
    {"conn-rate", "VENUE_CONN_RATE", OPT_INT, FIELD(conn_rate), 1, 1000000,
     "new connections per second from one address (more: 503)", NULL},
    {"conn-burst", "VENUE_CONN_BURST", OPT_INT, FIELD(conn_burst), 1, 1000000,
     "new connections one address may open at once before --conn-rate applies", NULL},
    {"conn-exempt", "VENUE_CONN_EXEMPT", OPT_STR, FIELD(conn_exempt), -1, 0,
     "addresses the per-address limits skip, comma-separated: a reverse proxy on this machine "
     "carries everyone (empty: none)",
     NULL},
    {"queue-max", "VENUE_QUEUE_MAX", OPT_LONG, FIELD(queue_max), 4096, 1073741824,
     "bytes queued for one client before it is closed as too slow", NULL},
    {"queue-frames", "VENUE_QUEUE_FRAMES", OPT_INT, FIELD(queue_frames), 16, 1000000,
     "frames queued for one client before it is closed as too slow", NULL},
    {"stall-secs", "VENUE_STALL_SECS", OPT_INT, FIELD(stall_s), 1, 3600,
     "seconds a client's queue may make no progress before it is closed", NULL},
    {"max-speed", "VENUE_MAX_SPEED", OPT_DOUBLE, FIELD(max_speed), 0.1, 1000,
     "metres per second an avatar may move", NULL},
    {"flush-ms", "VENUE_FLUSH_MS", OPT_INT, FIELD(flush_ms), 50, 600000,
     "milliseconds between batched writes of last poses", NULL},
    {"registration", "VENUE_REGISTRATION", OPT_STR, FIELD(registration), 0, 0,
     "open (guests may enter) or required (a registered token is needed)", registration_choices},
    {"event-loop", "VENUE_EVENT_LOOP", OPT_STR, FIELD(event_loop), 0, 0,
     "poll (lws's own: every socket at every wake-up) or libev (epoll: only what is ready; less "
     "CPU, more latency, BENCHMARKS.md)",
     event_loop_choices},
    {"retention-days", "VENUE_RETENTION_DAYS", OPT_INT, FIELD(retention_days), 1, 3650,
     "days after which unseen guests and stored poses are deleted", NULL},
    {"audit-retention-days", "VENUE_AUDIT_RETENTION_DAYS", OPT_INT, FIELD(audit_retention_days), 1,
     36500, "days the moderation audit log is kept", NULL},
    {"chat-days", "VENUE_CHAT_DAYS", OPT_INT, FIELD(chat_days), 1, 3650,
     "days a room's recent chat lines are kept", NULL},
    {"public-url", "VENUE_PUBLIC_URL", OPT_STR, FIELD(public_url), 0, 0,
     "base URL of join links, e.g. https://venue.example.org (empty: http://localhost:PORT)", NULL},
    {"ingest-key", "VENUE_INGEST_KEY", OPT_STR, FIELD(ingest_key), 0, 0,
     "bearer key city brokers send to /ngsi-ld/v1/notify, 16..128 printable characters "
     "(empty: the venue takes no twin data)",
     NULL},
    {"ingest-rate", "VENUE_INGEST_RATE", OPT_INT, FIELD(ingest_rate), 1, 10000,
     "NGSI-LD notifications per second the ingest takes (more: 429)", NULL},
    {"ingest-max", "VENUE_INGEST_MAX", OPT_LONG, FIELD(ingest_max), 1024, 262144,
     "largest NGSI-LD notification in bytes (larger: 413)", NULL},
    {"twin-history", "VENUE_TWIN_HISTORY", OPT_INT, FIELD(twin_history), 1, 100000,
     "values kept per twin attribute", NULL},
    {"slides-max", "VENUE_SLIDES_MAX", OPT_LONG, FIELD(slides_max), 1024, 268435456,
     "largest slide deck (PDF) a speaker may upload, in bytes (larger: 413)", NULL},
    {"slides-pages", "VENUE_SLIDES_PAGES", OPT_INT, FIELD(slides_pages), 1, 10000,
     "most pages of one slide deck", NULL},
    {"caption-rate", "VENUE_CAPTION_RATE", OPT_INT, FIELD(caption_rate), 1, 100,
     "caption lines per second one captioner may send", NULL},
    {"reminder-min", "VENUE_REMINDER_MIN", OPT_INT, FIELD(reminder_min), 1, 1440,
     "minutes before a starred session starts that its reminder comes", NULL},
    {"janus", "VENUE_JANUS", OPT_STR, FIELD(janus_url), -1, 0,
     "WebSocket API of the Janus gateway for voice, ws://HOST:PORT (empty: no voice; venued runs "
     "and retries while Janus is down)",
     NULL},
    {"janus-admin", "VENUE_JANUS_ADMIN", OPT_STR, FIELD(janus_admin_url), -1, 0,
     "Janus' admin WebSocket API, for per-user tokens (empty: JANUS_ADMIN_URL of --janus-secrets)",
     NULL},
    {"janus-secrets", "VENUE_JANUS_SECRETS", OPT_STR, FIELD(janus_secrets), -1, 0,
     "secrets.env written by server/voice/janus-config.sh: the API and admin secrets and the "
     "room key; mode 0600 (needed with --janus)",
     NULL},
    {"voice-url", "VENUE_VOICE_URL", OPT_STR, FIELD(voice_url), -1, 0,
     "what browsers connect to for Janus: a ws:// or wss:// URL where the deployment's own "
     "reverse proxy exposes Janus (empty: /voice on this port, which venued pipes to --janus)",
     NULL},
    {"turn", "VENUE_TURN", OPT_STR, FIELD(turn_urls), -1, 0,
     "TURN relays the pages' voice may use, turn: or turns: URLs separated by commas, e.g. "
     "turn:turn.example.org:3478 (empty: none; needs --turn-secret)",
     NULL},
    {"turn-secret", "VENUE_TURN_SECRET", OPT_STR, FIELD(turn_secret), -1, 0,
     "the TURN relay's shared secret (coturn static-auth-secret): each page gets a password of "
     "its own, valid for --turn-ttl; better given in the environment than on the command line",
     NULL},
    {"turn-ttl", "VENUE_TURN_TTL", OPT_INT, FIELD(turn_ttl_s), 60, 604800,
     "seconds one page's TURN password lasts", NULL},
    {"redis", "VENUE_REDIS", OPT_STR, FIELD(redis_url), -1, 0,
     "Redis of the cluster this node joins, redis://[:PASSWORD@]HOST[:PORT][/DB] with a numeric "
     "HOST (empty: one node on its own; needs --node-id)",
     NULL},
    {"node-id", "VENUE_NODE_ID", OPT_STR, FIELD(node_id), -1, 0,
     "this node's name in the cluster, 1 to 32 of A-Z a-z 0-9 _ - (needs --redis)", NULL},
    /* Churn: one address (a venue's Wi-Fi behind one NAT is one) starting
     * sessions, or guessing resume tokens, over many connections. */
    {"hello-rate", "VENUE_HELLO_RATE", OPT_INT, FIELD(hello_rate), 1, 1000000,
     "hellos per second one address may send, over all its connections (a resume that works "
     "is not counted; more: rate_limited and close)",
     NULL},
    {"hello-burst", "VENUE_HELLO_BURST", OPT_INT, FIELD(hello_burst), 1, 1000000,
     "hellos one address may send at once before --hello-rate applies", NULL},
    {"resume-fail-rate", "VENUE_RESUME_FAIL_RATE", OPT_INT, FIELD(resume_fail_rate), 1, 10000,
     "resumes with an unknown token per second one address may try (more: rate_limited and "
     "close)",
     NULL},
    {"resume-fail-burst", "VENUE_RESUME_FAIL_BURST", OPT_INT, FIELD(resume_fail_burst), 1, 100000,
     "resumes with an unknown token one address may try at once before --resume-fail-rate "
     "applies",
     NULL},
    {"detached-guests", "VENUE_DETACHED_GUESTS", OPT_INT, FIELD(detached_guests), 0, 10000000,
     "guest sessions kept for resume after their connection dropped; past it the one dropped "
     "longest ago ends at once",
     NULL},
};

/* turn: or turns: URLs separated by commas, each with a host, in printable
 * characters without spaces, quotes or backslashes: pages get them as
 * they are. */
static bool turn_urls(const char *s)
{
    while (*s) {
        size_t n = strncmp(s, "turn:", 5) == 0 ? 5 : strncmp(s, "turns:", 6) == 0 ? 6 : 0;
        if (!n || !s[n] || s[n] == ',')
            return false;
        for (s += n; *s && *s != ','; s++)
            if (*s <= ' ' || *s > '~' || strchr("\"\\<>", *s))
                return false;
        if (*s == ',' && !*++s)
            return false;
    }
    return true;
}

/* An absolute ws:// or wss:// URL with a host, in printable characters
 * without spaces, quotes, backslashes or angle brackets: browsers get it as
 * it is. */
static bool ws_url(const char *s)
{
    size_t host = strncmp(s, "ws://", 5) == 0 ? 5 : strncmp(s, "wss://", 6) == 0 ? 6 : 0;
    if (!host || !s[host] || s[host] == '/')
        return false;
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || strchr("\"\\<>", *s))
            return false;
    return true;
}

static bool one_of(const char *const *choices, const char *val)
{
    for (size_t i = 0; choices[i]; i++)
        if (strcmp(val, choices[i]) == 0)
            return true;
    return false;
}

static int set_value(struct venue_config *c, const struct opt *o, const char *val, const char *from,
                     char *err, size_t errlen)
{
    char *field = (char *)c + o->offset;
    char *end = NULL;
    double d;

    if (o->kind == OPT_STR) {
        size_t n = strlen(val);
        if ((n == 0 && o->min >= 0) || n >= o->size) {
            snprintf(err, errlen, "%s: must be 1..%zu characters", from, o->size - 1);
            return -1;
        }
        if (o->choices && !one_of(o->choices, val)) {
            snprintf(err, errlen, "%s: \"%s\" is not one of", from, val);
            for (size_t i = 0; o->choices[i]; i++)
                snprintf(err + strlen(err), errlen - strlen(err), "%s %s", i ? "," : "",
                         o->choices[i]);
            return -1;
        }
        memcpy(field, val, n + 1);
        return 0;
    }
    errno = 0;
    d = strtod(val, &end);
    if (errno || end == val || *end || !isfinite(d)) {
        snprintf(err, errlen, "%s: \"%s\" is not a number", from, val);
        return -1;
    }
    /* Whole numbers in decimal digits only: strtod would also take 0x50 or 8e3. */
    if (o->kind != OPT_DOUBLE && (d != floor(d) || val[strspn(val, "+-0123456789")] != '\0')) {
        snprintf(err, errlen, "%s: \"%s\" is not a whole number", from, val);
        return -1;
    }
    if (d < o->min || d > o->max) {
        snprintf(err, errlen, "%s: %s is out of range %g..%g", from, val, o->min, o->max);
        return -1;
    }
    /* memcpy, not a cast: field is only known as bytes at an offset. */
    if (o->kind == OPT_INT) {
        int i = (int)d;
        memcpy(field, &i, sizeof(i));
    } else if (o->kind == OPT_LONG) {
        long l = (long)d;
        memcpy(field, &l, sizeof(l));
    } else {
        memcpy(field, &d, sizeof(d));
    }
    return 0;
}

static void print_help(const struct venue_config *defaults)
{
    printf("usage: venued [options]\n\n"
           "Serves a virtual venue over HTTP and WebSocket. Every option is also an\n"
           "environment variable; a flag wins over its variable.\n\n");
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        const struct opt *o = &opts[i];
        const char *field = (const char *)defaults + o->offset;
        char def[600];
        int iv;
        long lv;
        double dv;
        if (o->kind == OPT_STR) {
            snprintf(def, sizeof(def), "%s", field);
        } else if (o->kind == OPT_INT) {
            memcpy(&iv, field, sizeof(iv));
            snprintf(def, sizeof(def), "%d", iv);
        } else if (o->kind == OPT_LONG) {
            memcpy(&lv, field, sizeof(lv));
            snprintf(def, sizeof(def), "%ld", lv);
        } else {
            memcpy(&dv, field, sizeof(dv));
            snprintf(def, sizeof(def), "%g", dv);
        }
        printf("  --%-14s %-20s %s%s%s%s\n", o->flag, o->env, o->help, def[0] ? " (default " : "",
               def, def[0] ? ")" : "");
    }
    printf("  --help                              this text\n");
}

static const struct opt *find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if (strlen(opts[i].flag) == len && strncmp(opts[i].flag, name, len) == 0)
            return &opts[i];
    return NULL;
}

/*
 * The flags first, then the environment for what no flag set: a flag wins
 * over its variable, so a bad variable that a flag replaces is never read.
 */
/* What a flag was given as, for a message: "--flag" or its variable. */
static const char *given_as(const char *flag, const bool *given)
{
    static char name[40];
    const struct opt *o = find_flag(flag, strlen(flag));
    if (!given[o - opts])
        return o->env;
    snprintf(name, sizeof(name), "--%s", flag);
    return name;
}

/* A postgresql:// URL, or an SQLite file: a path ending in .db. */
int options_check_database(const char *database, const char *from, char *err, size_t errlen)
{
    if (!database[0] || db_is_url(database) || db_is_file(database))
        return 0;
    snprintf(err, errlen,
             "%s: \"%.200s\" is neither a postgresql:// URL nor an SQLite file (*.db); for "
             "venue.db in a folder, give --data",
             from, database);
    return -1;
}

/*
 * --redis and --node-id: both or neither, each well formed; and a shared
 * database, since what one node writes (a registration, a ban) every node
 * must read.
 */
static int check_cluster(const struct venue_config *c, const bool *given, char *err, size_t errlen)
{
    struct redis_url url;
    char why[200];
    size_t n =
        strspn(c->node_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    if (c->redis_url[0] && !c->node_id[0]) {
        snprintf(err, errlen, "%s: needs --node-id (this node's name in the cluster)",
                 given_as("redis", given));
        return -1;
    }
    if (c->node_id[0] && !c->redis_url[0]) {
        snprintf(err, errlen, "%s: needs --redis (the cluster's Redis)",
                 given_as("node-id", given));
        return -1;
    }
    if (c->node_id[0] && (c->node_id[n] || n > 32)) {
        snprintf(err, errlen, "%s: \"%s\" is not 1 to 32 of A-Z a-z 0-9 _ -",
                 given_as("node-id", given), c->node_id);
        return -1;
    }
    if (c->redis_url[0] && redis_url_parse(c->redis_url, &url, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", given_as("redis", given), why);
        return -1;
    }
    if (c->redis_url[0] && !db_is_url(c->database)) {
        snprintf(err, errlen,
                 "%s: several nodes share one database: needs --database postgresql://... "
                 "(SQLite is one node's own)",
                 given_as("redis", given));
        return -1;
    }
    return 0;
}

int options_parse(struct venue_config *c, int argc, char **argv, char *err, size_t errlen)
{
    enum { NOPTS = sizeof(opts) / sizeof(opts[0]) };
    bool given[NOPTS] = {false};
    char from[64];

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val, *eq;
        const struct opt *o;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            struct venue_config d;
            config_defaults(&d);
            print_help(&d);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument \"%s\" (see --help)", a);
            return -1;
        }
        a += 2;
        eq = strchr(a, '=');
        o = find_flag(a, eq ? (size_t)(eq - a) : strlen(a));
        if (!o) {
            snprintf(err, errlen, "unknown option \"%s\" (see --help)", argv[i]);
            return -1;
        }
        snprintf(from, sizeof(from), "--%s", o->flag);
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
            val = argv[++i];
        } else {
            snprintf(err, errlen, "%s: needs a value", from);
            return -1;
        }
        if (set_value(c, o, val, from, err, errlen) < 0)
            return -1;
        given[o - opts] = true;
    }
    for (size_t i = 0; i < NOPTS; i++) {
        const char *v = given[i] ? NULL : getenv(opts[i].env);
        if (v && set_value(c, &opts[i], v, opts[i].env, err, errlen) < 0)
            return -1;
    }
    if (c->ingest_key[0] && strlen(c->ingest_key) < 16) {
        snprintf(err, errlen, "--ingest-key: at least 16 characters, not %zu",
                 strlen(c->ingest_key));
        return -1;
    }
    for (const char *k = c->ingest_key; *k; k++) {
        if (*k <= ' ' || *k > '~') {
            snprintf(err, errlen, "--ingest-key: printable characters without spaces only");
            return -1;
        }
    }
    if (c->voice_url[0] && !ws_url(c->voice_url)) {
        const struct opt *o = find_flag("voice-url", strlen("voice-url"));
        snprintf(err, errlen,
                 "%s: \"%s\" is not a ws:// or wss:// URL (empty: /voice on this port)",
                 given[o - opts] ? "--voice-url" : o->env, c->voice_url);
        return -1;
    }
    if (c->turn_urls[0] && !turn_urls(c->turn_urls)) {
        const struct opt *o = find_flag("turn", strlen("turn"));
        snprintf(err, errlen, "%s: \"%s\" is not a list of turn: or turns: URLs",
                 given[o - opts] ? "--turn" : o->env, c->turn_urls);
        return -1;
    }
    if (c->turn_urls[0] && !c->turn_secret[0]) {
        snprintf(err, errlen, "--turn: needs --turn-secret (the relay's shared secret)");
        return -1;
    }
    if (options_check_database(c->database, given_as("database", given), err, errlen) < 0 ||
        check_cluster(c, given, err, errlen) < 0)
        return -1;
    if (c->janus_url[0] && !c->janus_secrets[0]) {
        snprintf(err, errlen, "--janus: needs --janus-secrets (the file janus-config.sh wrote)");
        return -1;
    }
    if (!c->public_url[0])
        snprintf(c->public_url, sizeof(c->public_url), "http://localhost:%d", c->port);
    return 0;
}
