/*
 * test_options.c - venued's settings: the embedded defaults
 * (common/config.c) and options_parse (app/options.c): environment
 * variables, flags in both spellings (--x v, --x=v), a flag beating its
 * variable, every numeric option's range exactly at min and max and one
 * beyond, strings at and over their buffer, --registration, the default
 * public_url, --voice-url and --help. A refused value must name the flag or variable it
 * came from.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "options.h"
#include "redis_url.h"

extern char **environ;

static char err[512];

/* Forget every VENUE_* variable the test runner may have set. */
static void clear_env(void)
{
    for (;;) {
        char name[128];
        size_t n;
        char **e = environ;
        while (*e && strncmp(*e, "VENUE_", 6) != 0)
            e++;
        if (!*e)
            return;
        n = strcspn(*e, "=");
        if (n >= sizeof(name))
            n = sizeof(name) - 1;
        memcpy(name, *e, n);
        name[n] = '\0';
        unsetenv(name);
    }
}

/* Defaults, then options_parse over "venued" + args (NULL-terminated). */
static int parse(struct venue_config *c, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "venued";
    while (*args && argc < 31)
        argv[argc++] = (char *)*args++;
    argv[argc] = NULL;
    config_defaults(c);
    err[0] = '\0';
    return options_parse(c, argc, argv, err, sizeof(err));
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NOARGS    ((const char *const[]){NULL})

/* Refused, with a message that contains each of the texts given. */
static void expect_refused(int rc, const char *a, const char *b)
{
    CHECK(rc == -1);
    CHECK(strstr(err, a) != NULL);
    CHECK(!b || strstr(err, b) != NULL);
    if (rc != -1 || !strstr(err, a) || (b && !strstr(err, b)))
        fprintf(stderr, "  rc %d, message \"%s\"; expected \"%s\"%s%s\n", rc, err, a,
                b ? " and " : "", b ? b : "");
}

static void test_defaults(void)
{
    struct venue_config c;
    memset(&c, 0x5a, sizeof(c));
    config_defaults(&c);
    CHECK(c.port == 8080);
    CHECK(strcmp(c.bind, "127.0.0.1") == 0);
    CHECK(strcmp(c.data_dir, "data") == 0);
    CHECK(strcmp(c.scenes_dir, "scenes/demo") == 0);
    CHECK(strcmp(c.web_dir, "web-client") == 0);
    CHECK(c.tick_hz == 20);
    CHECK(c.max_message == 65536);
    CHECK(c.pose_rate == 60);
    CHECK(c.chat_rate == 5);
    CHECK(c.other_rate == 120);
    CHECK(c.resume_grace_s == 15);
    CHECK(c.idle_timeout_s == 20);
    CHECK(c.hello_timeout_s == 10);
    CHECK(c.header_timeout_s == 10);
    CHECK(c.body_idle_s == 5);
    CHECK(c.request_timeout_s == 120);
    CHECK(c.max_connections == 10000);
    CHECK(c.conns_per_address == 256);
    CHECK(c.conn_rate == 100 && c.conn_burst == 400);
    CHECK(strcmp(c.conn_exempt, "127.0.0.1,::1") == 0);
    CHECK(c.queue_max == 1048576);
    CHECK(c.queue_frames == 1024);
    CHECK(c.stall_s == 10);
    CHECK(c.max_speed == 10.0);
    CHECK(c.flush_ms == 1000);
    CHECK(strcmp(c.registration, "open") == 0);
    CHECK(c.retention_days == 30);
    CHECK(c.audit_retention_days == 365);
    /* Empty until options_parse derives it from the port. */
    CHECK(c.public_url[0] == '\0');

    /* With nothing given, options_parse keeps every default. */
    {
        struct venue_config d;
        CHECK(parse(&c, NOARGS) == 0);
        config_defaults(&d);
        snprintf(d.public_url, sizeof(d.public_url), "http://localhost:8080");
        CHECK(memcmp(&c, &d, sizeof(c)) == 0);
    }
}

static void test_env_and_flags(void)
{
    struct venue_config c;

    setenv("VENUE_PORT", "9000", 1);
    setenv("VENUE_BIND", "0.0.0.0", 1);
    setenv("VENUE_MAX_SPEED", "2.5", 1);
    setenv("VENUE_QUEUE_MAX", "8192", 1);
    CHECK(parse(&c, NOARGS) == 0);
    CHECK(c.port == 9000);
    CHECK(strcmp(c.bind, "0.0.0.0") == 0);
    CHECK(c.max_speed == 2.5);
    CHECK(c.queue_max == 8192);
    CHECK(c.tick_hz == 20); /* untouched */

    /* A flag beats its variable, in both spellings; the others still apply. */
    CHECK(parse(&c, ARGS("--port", "9100")) == 0);
    CHECK(c.port == 9100);
    CHECK(strcmp(c.bind, "0.0.0.0") == 0);
    CHECK(parse(&c, ARGS("--port=9200", "--bind=10.0.0.1")) == 0);
    CHECK(c.port == 9200);
    CHECK(strcmp(c.bind, "10.0.0.1") == 0);
    /* The last of a repeated flag wins. */
    CHECK(parse(&c, ARGS("--port", "1000", "--port=2000")) == 0);
    CHECK(c.port == 2000);
    clear_env();

    CHECK(parse(&c, ARGS("--tick-hz", "30", "--data=/var/lib/venue", "--max-speed", "0.5",
                         "--queue-max=65536", "--web", "www", "--scenes", "sc")) == 0);
    CHECK(c.tick_hz == 30);
    CHECK(strcmp(c.data_dir, "/var/lib/venue") == 0);
    CHECK(c.max_speed == 0.5);
    CHECK(c.queue_max == 65536);
    CHECK(strcmp(c.web_dir, "www") == 0);
    CHECK(strcmp(c.scenes_dir, "sc") == 0);
    /* "=" inside the value of --x=v belongs to the value. */
    CHECK(parse(&c, ARGS("--public-url=https://v.example.org/?a=b")) == 0);
    CHECK(strcmp(c.public_url, "https://v.example.org/?a=b") == 0);
}

static void test_refused(void)
{
    struct venue_config c;

    expect_refused(parse(&c, ARGS("--nope")), "--nope", "unknown option");
    expect_refused(parse(&c, ARGS("--nope=3")), "--nope=3", "unknown option");
    expect_refused(parse(&c, ARGS("--port", "80", "--portx", "1")), "--portx", NULL);
    expect_refused(parse(&c, ARGS("stray")), "stray", NULL);
    expect_refused(parse(&c, ARGS("-p", "80")), "-p", NULL);
    /* A prefix of a flag is not the flag. */
    expect_refused(parse(&c, ARGS("--po", "80")), "--po", "unknown option");

    expect_refused(parse(&c, ARGS("--port")), "--port", "needs a value");
    expect_refused(parse(&c, ARGS("--tick-hz=30", "--bind")), "--bind", "needs a value");

    expect_refused(parse(&c, ARGS("--port", "abc")), "--port", "not a number");
    expect_refused(parse(&c, ARGS("--port=")), "--port", "not a number");
    expect_refused(parse(&c, ARGS("--port", "80abc")), "--port", "not a number");
    expect_refused(parse(&c, ARGS("--max-speed", "inf")), "--max-speed", "not a number");
    expect_refused(parse(&c, ARGS("--max-speed", "nan")), "--max-speed", "not a number");
    expect_refused(parse(&c, ARGS("--queue-max", "1e400")), "--queue-max", "not a number");
    expect_refused(parse(&c, ARGS("--port", "80.5")), "--port", "not a whole number");
    expect_refused(parse(&c, ARGS("--queue-max=8192.25")), "--queue-max", "not a whole number");

    setenv("VENUE_TICK_HZ", "fast", 1);
    expect_refused(parse(&c, NOARGS), "VENUE_TICK_HZ", "not a number");
    setenv("VENUE_TICK_HZ", "2.5", 1);
    expect_refused(parse(&c, NOARGS), "VENUE_TICK_HZ", "not a whole number");
    setenv("VENUE_TICK_HZ", "121", 1);
    expect_refused(parse(&c, NOARGS), "VENUE_TICK_HZ", "out of range");
    /* A flag wins over its variable: a bad variable that a flag replaces
     * is never read. */
    CHECK(parse(&c, ARGS("--tick-hz", "30")) == 0 && c.tick_hz == 30);
    clear_env();
    /* A flag's value is never the next flag. */
    expect_refused(parse(&c, ARGS("--bind", "--port", "80")), "--bind", "needs a value");
    /* Whole numbers in decimal digits only. */
    expect_refused(parse(&c, ARGS("--port", "0x50")), "--port", "not a whole number");
    expect_refused(parse(&c, ARGS("--port", "8e3")), "--port", "not a whole number");
}

/* Every numeric option with its range, as options.c's table should have it. */
enum kind { K_INT, K_LONG, K_DOUBLE };
static const struct range {
    const char *flag, *env;
    enum kind kind;
    size_t offset;
    double min, max;
    const char *below, *above; /* one beyond each end, as text */
} ranges[] = {
#define AT(f) offsetof(struct venue_config, f)
    {"port", "VENUE_PORT", K_INT, AT(port), 1, 65535, "0", "65536"},
    {"tick-hz", "VENUE_TICK_HZ", K_INT, AT(tick_hz), 1, 120, "0", "121"},
    {"max-message", "VENUE_MAX_MESSAGE", K_LONG, AT(max_message), 256, 16777216, "255", "16777217"},
    {"pose-rate", "VENUE_POSE_RATE", K_INT, AT(pose_rate), 1, 10000, "0", "10001"},
    {"chat-rate", "VENUE_CHAT_RATE", K_INT, AT(chat_rate), 1, 1000, "0", "1001"},
    {"other-rate", "VENUE_OTHER_RATE", K_INT, AT(other_rate), 1, 10000, "0", "10001"},
    {"resume-grace", "VENUE_RESUME_GRACE", K_INT, AT(resume_grace_s), 0, 86400, "-1", "86401"},
    {"idle-timeout", "VENUE_IDLE_TIMEOUT", K_INT, AT(idle_timeout_s), 2, 3600, "1", "3601"},
    {"hello-timeout", "VENUE_HELLO_TIMEOUT", K_INT, AT(hello_timeout_s), 1, 3600, "0", "3601"},
    {"header-timeout", "VENUE_HEADER_TIMEOUT", K_INT, AT(header_timeout_s), 1, 3600, "0", "3601"},
    {"body-idle", "VENUE_BODY_IDLE", K_INT, AT(body_idle_s), 1, 3600, "0", "3601"},
    {"request-timeout", "VENUE_REQUEST_TIMEOUT", K_INT, AT(request_timeout_s), 1, 86400, "0",
     "86401"},
    {"max-connections", "VENUE_MAX_CONNECTIONS", K_INT, AT(max_connections), 1, 1000000, "0",
     "1000001"},
    {"conns-per-address", "VENUE_CONNS_PER_ADDRESS", K_INT, AT(conns_per_address), 1, 1000000, "0",
     "1000001"},
    {"conn-rate", "VENUE_CONN_RATE", K_INT, AT(conn_rate), 1, 1000000, "0", "1000001"},
    {"conn-burst", "VENUE_CONN_BURST", K_INT, AT(conn_burst), 1, 1000000, "0", "1000001"},
    {"queue-max", "VENUE_QUEUE_MAX", K_LONG, AT(queue_max), 4096, 1073741824, "4095", "1073741825"},
    {"queue-frames", "VENUE_QUEUE_FRAMES", K_INT, AT(queue_frames), 16, 1000000, "15", "1000001"},
    {"stall-secs", "VENUE_STALL_SECS", K_INT, AT(stall_s), 1, 3600, "0", "3601"},
    {"max-speed", "VENUE_MAX_SPEED", K_DOUBLE, AT(max_speed), 0.1, 1000, "0.0999", "1000.001"},
    {"flush-ms", "VENUE_FLUSH_MS", K_INT, AT(flush_ms), 50, 600000, "49", "600001"},
    {"retention-days", "VENUE_RETENTION_DAYS", K_INT, AT(retention_days), 1, 3650, "0", "3651"},
    {"audit-retention-days", "VENUE_AUDIT_RETENTION_DAYS", K_INT, AT(audit_retention_days), 1,
     36500, "0", "36501"},
#undef AT
};

static double value_of(const struct venue_config *c, const struct range *r)
{
    const char *field = (const char *)c + r->offset;
    int i;
    long l;
    double d;
    switch (r->kind) {
    case K_INT:
        memcpy(&i, field, sizeof(i));
        return i;
    case K_LONG:
        memcpy(&l, field, sizeof(l));
        return (double)l;
    case K_DOUBLE:
        memcpy(&d, field, sizeof(d));
        return d;
    }
    return -1;
}

static void test_ranges(void)
{
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        const struct range *r = &ranges[i];
        struct venue_config c;
        char flag[64], eq[96], min[32], max[32];
        int bad_before = failed;

        snprintf(flag, sizeof(flag), "--%s", r->flag);
        snprintf(min, sizeof(min), "%.17g", r->min);
        snprintf(max, sizeof(max), "%.17g", r->max);
        /* Exactly min and exactly max are taken, in both spellings. */
        CHECK(parse(&c, ARGS(flag, min)) == 0);
        CHECK(value_of(&c, r) == r->min);
        snprintf(eq, sizeof(eq), "%s=%s", flag, max);
        CHECK(parse(&c, ARGS(eq)) == 0);
        CHECK(value_of(&c, r) == r->max);
        setenv(r->env, max, 1);
        CHECK(parse(&c, NOARGS) == 0);
        CHECK(value_of(&c, r) == r->max);
        /* The flag beats the variable. */
        CHECK(parse(&c, ARGS(flag, min)) == 0);
        CHECK(value_of(&c, r) == r->min);
        unsetenv(r->env);

        /* One beyond either end is refused, naming where it came from. */
        expect_refused(parse(&c, ARGS(flag, r->below)), flag, "out of range");
        expect_refused(parse(&c, ARGS(flag, r->above)), flag, "out of range");
        setenv(r->env, r->above, 1);
        expect_refused(parse(&c, NOARGS), r->env, "out of range");
        setenv(r->env, r->below, 1);
        expect_refused(parse(&c, NOARGS), r->env, "out of range");
        unsetenv(r->env);
        if (failed != bad_before)
            fprintf(stderr, "  (in the range checks of %s)\n", flag);
    }
}

/* Strings: 1..size-1 bytes; one more is refused naming the option. */
static void test_strings(void)
{
    static const struct {
        const char *flag, *env;
        size_t offset, size;
    } strs[] = {
        {"bind", "VENUE_BIND", offsetof(struct venue_config, bind), 64},
        {"data", "VENUE_DATA", offsetof(struct venue_config, data_dir), 512},
        {"scenes", "VENUE_SCENES", offsetof(struct venue_config, scenes_dir), 512},
        {"web", "VENUE_WEB", offsetof(struct venue_config, web_dir), 512},
        {"public-url", "VENUE_PUBLIC_URL", offsetof(struct venue_config, public_url), 256},
    };
    static char longest[600], over[600];

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        struct venue_config c;
        char flag[64], empty[72], limit[32];
        memset(longest, 'a', strs[i].size - 1);
        longest[strs[i].size - 1] = '\0';
        memset(over, 'a', strs[i].size);
        over[strs[i].size] = '\0';
        snprintf(flag, sizeof(flag), "--%s", strs[i].flag);
        snprintf(limit, sizeof(limit), "1..%zu characters", strs[i].size - 1);

        CHECK(parse(&c, ARGS(flag, longest)) == 0);
        CHECK(strcmp((char *)&c + strs[i].offset, longest) == 0);
        expect_refused(parse(&c, ARGS(flag, over)), flag, limit);
        setenv(strs[i].env, over, 1);
        expect_refused(parse(&c, NOARGS), strs[i].env, limit);
        setenv(strs[i].env, "", 1);
        expect_refused(parse(&c, NOARGS), strs[i].env, limit);
        unsetenv(strs[i].env);
        /* Empty is refused too. */
        snprintf(empty, sizeof(empty), "%s=", flag);
        expect_refused(parse(&c, ARGS(empty)), flag, limit);
    }
}

static void test_event_loop(void)
{
    struct venue_config c;

    CHECK(parse(&c, NOARGS) == 0);
    CHECK(strcmp(c.event_loop, "poll") == 0);
    CHECK(parse(&c, ARGS("--event-loop", "libev")) == 0);
    CHECK(strcmp(c.event_loop, "libev") == 0);
    setenv("VENUE_EVENT_LOOP", "libev", 1);
    CHECK(parse(&c, NOARGS) == 0);
    CHECK(strcmp(c.event_loop, "libev") == 0);
    unsetenv("VENUE_EVENT_LOOP");
    expect_refused(parse(&c, ARGS("--event-loop", "epoll")), "--event-loop", "one of poll, libev");
}

static void test_registration(void)
{
    struct venue_config c;

    CHECK(parse(&c, ARGS("--registration", "required")) == 0);
    CHECK(strcmp(c.registration, "required") == 0);
    CHECK(parse(&c, ARGS("--registration=open")) == 0);
    CHECK(strcmp(c.registration, "open") == 0);
    setenv("VENUE_REGISTRATION", "required", 1);
    CHECK(parse(&c, NOARGS) == 0);
    CHECK(strcmp(c.registration, "required") == 0);
    CHECK(parse(&c, ARGS("--registration", "open")) == 0);
    CHECK(strcmp(c.registration, "open") == 0);
    unsetenv("VENUE_REGISTRATION");

    expect_refused(parse(&c, ARGS("--registration", "closed")), "--registration", "\"closed\"");
    expect_refused(parse(&c, ARGS("--registration", "Open")), "--registration",
                   "one of open, required");
    /* 16 bytes do not fit registration[16]. */
    expect_refused(parse(&c, ARGS("--registration", "requiredrequired")), "--registration",
                   "1..15 characters");
    /* From the environment the message names the variable. */
    setenv("VENUE_REGISTRATION", "invite", 1);
    expect_refused(parse(&c, NOARGS), "VENUE_REGISTRATION",
                   "\"invite\" is not one of open, required");
    unsetenv("VENUE_REGISTRATION");
}

static void test_public_url(void)
{
    struct venue_config c;

    CHECK(parse(&c, NOARGS) == 0);
    CHECK(strcmp(c.public_url, "http://localhost:8080") == 0);
    CHECK(parse(&c, ARGS("--port", "9123")) == 0);
    CHECK(strcmp(c.public_url, "http://localhost:9123") == 0);
    setenv("VENUE_PORT", "65535", 1);
    CHECK(parse(&c, NOARGS) == 0);
    CHECK(strcmp(c.public_url, "http://localhost:65535") == 0);
    unsetenv("VENUE_PORT");
    /* Given, it is kept as it is, whatever the port. */
    CHECK(parse(&c, ARGS("--public-url", "https://venue.example.org", "--port", "81")) == 0);
    CHECK(strcmp(c.public_url, "https://venue.example.org") == 0);
    setenv("VENUE_PUBLIC_URL", "https://env.example.org", 1);
    CHECK(parse(&c, NOARGS) == 0);
    CHECK(strcmp(c.public_url, "https://env.example.org") == 0);
    unsetenv("VENUE_PUBLIC_URL");
}

/* --voice-url: empty (/voice here) or an absolute ws(s):// URL, from the
 * flag or VENUE_VOICE_URL; a refusal names where the value came from. */
static void test_turn(void)
{
    struct venue_config c;

    CHECK(parse(&c, NOARGS) == 0);
    CHECK(c.turn_urls[0] == '\0' && c.turn_ttl_s == 43200);
    CHECK(parse(&c, ARGS("--turn", "turn:t.example.org:3478,turns:t.example.org:5349",
                         "--turn-secret", "s3cret", "--turn-ttl", "600")) == 0);
    CHECK(strcmp(c.turn_urls, "turn:t.example.org:3478,turns:t.example.org:5349") == 0);
    CHECK(strcmp(c.turn_secret, "s3cret") == 0 && c.turn_ttl_s == 600);
    setenv("VENUE_TURN_SECRET", "from-env", 1);
    CHECK(parse(&c, ARGS("--turn", "turn:t.example.org?transport=tcp")) == 0);
    CHECK(strcmp(c.turn_secret, "from-env") == 0);
    unsetenv("VENUE_TURN_SECRET");
    expect_refused(parse(&c, ARGS("--turn", "turn:t.example.org")), "--turn", "--turn-secret");
    expect_refused(parse(&c, ARGS("--turn", "stun:t.example.org", "--turn-secret", "s")), "--turn",
                   "not a list of turn: or turns: URLs");
    expect_refused(parse(&c, ARGS("--turn", "turn:", "--turn-secret", "s")), "--turn", NULL);
    expect_refused(parse(&c, ARGS("--turn", "turn:a,", "--turn-secret", "s")), "--turn", NULL);
    expect_refused(parse(&c, ARGS("--turn", "turn:a,,turn:b", "--turn-secret", "s")), "--turn",
                   NULL);
    expect_refused(parse(&c, ARGS("--turn", "turn:a b", "--turn-secret", "s")), "--turn", NULL);
    expect_refused(parse(&c, ARGS("--turn", "turn:a\"b", "--turn-secret", "s")), "--turn", NULL);
    expect_refused(parse(&c, ARGS("--turn-ttl", "59")), "--turn-ttl", NULL);
    setenv("VENUE_TURN", "http://x", 1);
    expect_refused(parse(&c, ARGS("--turn-secret", "s")), "VENUE_TURN", NULL);
    unsetenv("VENUE_TURN");
}

/* --database: a PostgreSQL URL or an SQLite file; empty, venue.db in --data. */
static void test_database(void)
{
    struct venue_config c;

    CHECK(parse(&c, ARGS("--data", "/srv/v")) == 0 && strcmp(config_store(&c), "/srv/v") == 0);
    CHECK(parse(&c, ARGS("--database", "/srv/other.db")) == 0);
    CHECK(strcmp(config_store(&c), "/srv/other.db") == 0);
    CHECK(parse(&c, ARGS("--database", "postgres://v:pw@127.0.0.1:5433/venue")) == 0);
    expect_refused(parse(&c, ARGS("--database", "/srv/v")), "--database", "neither a postgresql");
    setenv("VENUE_DATABASE", "mysql://x", 1);
    expect_refused(parse(&c, NOARGS), "VENUE_DATABASE", "neither a postgresql");
    unsetenv("VENUE_DATABASE");
}

/* --redis and --node-id, and redis_url_parse (common/redis_url.c) behind them. */
static void test_cluster(void)
{
    struct venue_config c;
    struct redis_url u;

    CHECK(parse(&c, NOARGS) == 0);
    CHECK(c.redis_url[0] == '\0' && c.node_id[0] == '\0');
    /* several nodes share a PostgreSQL database, never SQLite */
    expect_refused(parse(&c, ARGS("--redis", "redis://127.0.0.1", "--node-id", "node-1_A")),
                   "--redis", "needs --database postgresql://");
    expect_refused(parse(&c, ARGS("--redis", "redis://127.0.0.1", "--node-id", "a", "--database",
                                  "/srv/venue.db")),
                   "--redis", "SQLite is one node's own");
    setenv("VENUE_DATABASE", "postgresql://venue@127.0.0.1/venue", 1);
    CHECK(parse(&c, ARGS("--redis", "redis://127.0.0.1", "--node-id", "node-1_A")) == 0);
    CHECK(strcmp(c.node_id, "node-1_A") == 0);
    CHECK(strcmp(config_store(&c), "postgresql://venue@127.0.0.1/venue") == 0);
    setenv("VENUE_REDIS", "redis://localhost:6380/2", 1);
    setenv("VENUE_NODE_ID", "b", 1);
    CHECK(parse(&c, NOARGS) == 0);
    CHECK(strcmp(c.redis_url, "redis://localhost:6380/2") == 0 && strcmp(c.node_id, "b") == 0);
    unsetenv("VENUE_NODE_ID");
    expect_refused(parse(&c, NOARGS), "VENUE_REDIS", "needs --node-id");
    unsetenv("VENUE_REDIS");
    expect_refused(parse(&c, ARGS("--node-id", "a")), "--node-id", "needs --redis");
    expect_refused(parse(&c, ARGS("--redis", "redis://127.0.0.1", "--node-id", "a.b")), "--node-id",
                   "\"a.b\"");
    expect_refused(parse(&c, ARGS("--redis", "redis://127.0.0.1", "--node-id",
                                  "0123456789012345678901234567890123")),
                   "--node-id", NULL);
    expect_refused(parse(&c, ARGS("--redis", "redis://r.example.org", "--node-id", "a")), "--redis",
                   "numeric address");
    unsetenv("VENUE_DATABASE");

    CHECK(redis_url_parse("redis://:pw@[::1]:7000/15", &u, err, sizeof(err)) == 0);
    CHECK(strcmp(u.host, "::1") == 0 && u.port == 7000 && u.db == 15);
    CHECK(strcmp(u.password, "pw") == 0);
    CHECK(redis_url_parse("redis://localhost/", &u, err, sizeof(err)) == 0);
    CHECK(strcmp(u.host, "127.0.0.1") == 0 && u.port == 6379 && u.db == 0 && !u.password[0]);
    CHECK(redis_url_parse("redis://10.0.0.1:1", &u, err, sizeof(err)) == 0 && u.port == 1);
    CHECK(redis_url_parse("redis://10.0.0.1:0", &u, err, sizeof(err)) < 0);
    CHECK(redis_url_parse("redis://10.0.0.1:65536", &u, err, sizeof(err)) < 0);
    CHECK(redis_url_parse("redis://10.0.0.1:6379x", &u, err, sizeof(err)) < 0);
    CHECK(redis_url_parse("redis://10.0.0.1/16", &u, err, sizeof(err)) < 0);
    CHECK(redis_url_parse("redis://10.0.0.1/1x", &u, err, sizeof(err)) < 0);
    CHECK(redis_url_parse("redis://", &u, err, sizeof(err)) < 0);
    CHECK(redis_url_parse("redis://[::1", &u, err, sizeof(err)) < 0);
    CHECK(redis_url_parse("redis://user@10.0.0.1", &u, err, sizeof(err)) < 0);
    CHECK(redis_url_parse("redis://:secret@", &u, err, sizeof(err)) < 0);
    CHECK(strstr(err, "secret") == NULL); /* a refusal never prints the password */
    CHECK(redis_url_parse("rediss://10.0.0.1", &u, err, sizeof(err)) < 0);
}

static void test_voice_url(void)
{
    struct venue_config c;
    static char longest[256], over[257];

    CHECK(parse(&c, NOARGS) == 0);
    CHECK(c.voice_url[0] == '\0');
    CHECK(parse(&c, ARGS("--voice-url", "wss://voice.example.org/janus")) == 0);
    CHECK(strcmp(c.voice_url, "wss://voice.example.org/janus") == 0);
    CHECK(parse(&c, ARGS("--voice-url=ws://127.0.0.1:8188")) == 0);
    CHECK(strcmp(c.voice_url, "ws://127.0.0.1:8188") == 0);
    setenv("VENUE_VOICE_URL", "wss://env.example.org/j", 1);
    CHECK(parse(&c, NOARGS) == 0);
    CHECK(strcmp(c.voice_url, "wss://env.example.org/j") == 0);
    /* The flag beats the variable, even with the empty default. */
    CHECK(parse(&c, ARGS("--voice-url=")) == 0);
    CHECK(c.voice_url[0] == '\0');
    setenv("VENUE_VOICE_URL", "https://env.example.org", 1);
    expect_refused(parse(&c, NOARGS), "VENUE_VOICE_URL", "not a ws:// or wss:// URL");
    unsetenv("VENUE_VOICE_URL");

    expect_refused(parse(&c, ARGS("--voice-url", "/voice")), "--voice-url", "\"/voice\"");
    expect_refused(parse(&c, ARGS("--voice-url", "http://v.example.org")), "--voice-url",
                   "not a ws:// or wss:// URL");
    expect_refused(parse(&c, ARGS("--voice-url", "ws://")), "--voice-url", NULL);
    expect_refused(parse(&c, ARGS("--voice-url", "wss:///janus")), "--voice-url", NULL);
    expect_refused(parse(&c, ARGS("--voice-url", "ws://a b")), "--voice-url", NULL);
    expect_refused(parse(&c, ARGS("--voice-url", "ws://a\"b")), "--voice-url", NULL);
    expect_refused(parse(&c, ARGS("--voice-url", "ws://a<b")), "--voice-url", NULL);
    expect_refused(parse(&c, ARGS("--voice-url", "ws://a\tb")), "--voice-url", NULL);

    /* 255 characters fit voice_url[256]; 256 do not. */
    memset(longest, 'a', sizeof(longest) - 1);
    memcpy(longest, "wss://", 6);
    CHECK(parse(&c, ARGS("--voice-url", longest)) == 0);
    CHECK(strcmp(c.voice_url, longest) == 0);
    memset(over, 'a', sizeof(over) - 1);
    memcpy(over, "wss://", 6);
    expect_refused(parse(&c, ARGS("--voice-url", over)), "--voice-url", "1..255 characters");
}

/* Run options_parse with stdout sent to a file; the help text into out. */
static int parse_capturing(struct venue_config *c, const char *const *args, char *out, size_t n)
{
    char path[] = "/tmp/venue-options-XXXXXX";
    int fd = mkstemp(path), saved, rc;
    FILE *f;
    size_t got = 0;

    out[0] = '\0';
    if (fd < 0)
        return -2;
    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    rc = parse(c, args);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(fd);
    if ((f = fopen(path, "r"))) {
        got = fread(out, 1, n - 1, f);
        fclose(f);
    }
    out[got] = '\0';
    unlink(path);
    return rc;
}

static void test_help(void)
{
    struct venue_config c;
    static char out[16384];

    CHECK(parse_capturing(&c, ARGS("--help"), out, sizeof(out)) == 1);
    CHECK(strstr(out, "usage: venued") != NULL);
    /* Every option with its variable, and the defaults shown. */
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        char flag[64];
        snprintf(flag, sizeof(flag), "--%s", ranges[i].flag);
        CHECK(strstr(out, flag) != NULL);
        CHECK(strstr(out, ranges[i].env) != NULL);
    }
    CHECK(strstr(out, "--registration") && strstr(out, "VENUE_REGISTRATION"));
    CHECK(strstr(out, "--voice-url") && strstr(out, "VENUE_VOICE_URL"));
    CHECK(strstr(out, "(default 8080)") != NULL);
    CHECK(strstr(out, "(default 127.0.0.1)") != NULL);
    CHECK(parse_capturing(&c, ARGS("-h"), out, sizeof(out)) == 1);
    CHECK(strstr(out, "usage: venued") != NULL);
    /* --help wins over what follows it, not over what went before. */
    CHECK(parse_capturing(&c, ARGS("--port", "81", "--help", "--nope"), out, sizeof(out)) == 1);
    expect_refused(parse_capturing(&c, ARGS("--nope", "--help"), out, sizeof(out)), "--nope", NULL);
}

int main(void)
{
    clear_env();
    test_defaults();
    test_env_and_flags();
    test_refused();
    test_ranges();
    test_strings();
    test_event_loop();
    test_registration();
    test_public_url();
    test_voice_url();
    test_turn();
    test_database();
    test_cluster();
    test_help();
    return check_report();
}
