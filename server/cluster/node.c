/*
 * node.c - this venued as a cluster node (see node.h for what and why).
 *
 * A beat is one script, run atomically by Redis: claim this node's key
 * unless another run holds it, write the node's entry, and read the other
 * nodes' entries, deleting those whose key has expired. One round trip a
 * second, and no node's clock is compared with another's: a node is alive
 * while its key is.
 *
 * Two links: commands (the beat, PUBLISH) and a subscriber to the venue's
 * channel, each with its own reconnects. While either is down the node is
 * apart: the other nodes' members are dropped (what they did meanwhile is
 * not known), and when both are up again the venue resyncs.
 */
#include "node.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "redis.h"
#include "secret.h"
#include "server.h"

#define NODES_HASH "venue:nodes"
#define NODE_KEY   "venue:node:"
#define CHANNEL    "venue:mesh"
#define SEATS_KEY  "venue:seats:"
/* A larger document is refused unread: twice what a node publishes at most
 * (core/mesh.h, MESH_OUT_MAX). */
#define MESH_IN_MAX ((size_t)8 * 1024 * 1024)

/* KEYS: this node's key, the hash. ARGV: id, entry, incarnation, ttl ms.
 * Gives {1 claimed or 0 held by another run, the other live entries...}. */
static const char beat_script[] =
    "local claimed = 0\n"
    "local cur = redis.call('GET', KEYS[1])\n"
    "if not cur or string.find(cur, ARGV[3], 1, true) then\n"
    "  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])\n"
    "  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])\n"
    "  claimed = 1\n"
    "end\n"
    "local out = {claimed}\n"
    "local all = redis.call('HGETALL', KEYS[2])\n"
    "for i = 1, #all, 2 do\n"
    "  if all[i] ~= ARGV[1] then\n"
    "    if redis.call('EXISTS', '" NODE_KEY "' .. all[i]) == 1 then out[#out + 1] = all[i + 1]\n"
    "    else redis.call('HDEL', KEYS[2], all[i]) end\n"
    "  end\n"
    "end\n"
    "return out\n";

/*
 * KEYS: the rooms' seat hashes. ARGV: node, live nodes, the most spare
 * seats, then per room the seats its people use and the room's capacity.
 * Gives each room's lease: what is used, plus an even share of what the
 * others left free (at most the spare, at least one while any is free).
 */
static const char lease_script[] =
    "local node, nodes, most, out = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), {}\n"
    "for k = 1, #KEYS do\n"
    "  local need, cap = tonumber(ARGV[2 + 2 * k]), tonumber(ARGV[3 + 2 * k])\n"
    "  local others, all = 0, redis.call('HGETALL', KEYS[k])\n"
    "  for i = 1, #all, 2 do\n"
    "    if all[i] ~= node then others = others + tonumber(all[i + 1]) end\n"
    "  end\n"
    "  local free = cap - others - need\n"
    "  local spare = math.min(math.floor(free / nodes), most)\n"
    "  if spare < 1 and free >= 1 then spare = 1 end\n"
    "  if spare < 0 then spare = 0 end\n"
    "  out[k] = need + spare\n"
    "  redis.call('HSET', KEYS[k], node, out[k])\n"
    "end\n"
    "return out\n";

/* KEYS: the rooms' seat hashes. ARGV: the node whose seats go back. */
static const char release_script[] =
    "for k = 1, #KEYS do redis.call('HDEL', KEYS[k], ARGV[1]) end\n"
    "return 1\n";

/* KEYS: this node's key, the hash. ARGV: id, incarnation. Only this run's. */
static const char leave_script[] = "local cur = redis.call('GET', KEYS[1])\n"
                                   "if cur and string.find(cur, ARGV[2], 1, true) then\n"
                                   "  redis.call('DEL', KEYS[1])\n"
                                   "  redis.call('HDEL', KEYS[2], ARGV[1])\n"
                                   "end\n"
                                   "return 1\n";

struct cluster_node {
    struct server *srv;  /* borrowed: its venue and config */
    struct redis *redis; /* owned: commands */
    struct redis *sub;   /* owned: the venue's channel */
    bool apart;          /* a link is down: the others' members are dropped */
    struct cluster_status status;
    char key[sizeof(NODE_KEY) + 32];
    char incarnation[33]; /* random, this run's: tells its key from another run's */
    bool beating;         /* a beat's answer is awaited */
    long long beat_ms;    /* when it was sent */
    bool left;            /* node_leave's answer came, or there was none to wait for */
    bool claimed;         /* the last beat found this run holding its key */
    bool has_seats;       /* seats were leased since the link last came up */
    bool leasing;         /* a lease is awaited */
    lws_sorted_usec_list_t beat_sul;
    char live[CLUSTER_NODES_MAX][PROTO_NODE_MAX + 1]; /* the other nodes at the last beat */
    size_t nlive;
    /* The rooms the lease awaited was asked for, in its order. */
    char leased[CLUSTER_ROOMS_MAX][PROTO_ROOM_MAX + 1];
    size_t nleased;
};

/* One seats script's arguments (lease_script or release_script), made
 * afresh for each command: hiredis copies them when it is queued. */
struct seat_args {
    char keys[CLUSTER_ROOMS_MAX][sizeof(SEATS_KEY) + PROTO_ROOM_MAX];
    char nums[3 + 2 * CLUSTER_ROOMS_MAX][16];
    const char *argv[4 + 3 * CLUSTER_ROOMS_MAX + 2];
    size_t len[4 + 3 * CLUSTER_ROOMS_MAX + 2];
};

static void set_reason(struct cluster_node *n, const char *why)
{
    snprintf(n->status.reason, sizeof(n->status.reason), "%s", why);
}

/* What this node tells the others: {"id","incarnation","connections"}. */
static char *entry_text(struct cluster_node *n)
{
    json_t *doc =
        json_pack("{s:s, s:s, s:I}", "id", n->srv->cfg.node_id, "incarnation", n->incarnation,
                  "connections", (json_int_t)venue_metrics(n->srv->venue)->connections);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

static void on_lease(void *arg, const redisReply *reply)
{
    struct cluster_node *n = arg;
    n->leasing = false;
    if (!reply || reply->type != REDIS_REPLY_ARRAY)
        return; /* no seat beyond those in use until the next beat */
    for (size_t k = 0; k < reply->elements && k < n->nleased; k++)
        if (reply->element[k]->type == REDIS_REPLY_INTEGER)
            venue_mesh_lease(n->srv->venue, n->leased[k], (int)reply->element[k]->integer);
    n->has_seats = true;
    n->status.joined = n->claimed && !n->apart;
    if (n->status.joined)
        n->status.reason[0] = '\0';
}

/*
 * Lease every room's seats for this node (lease) or give back node's
 * (!lease): one script over every room's hash. 0, or -1 when it could not
 * be sent (the next beat tries again).
 */
static int seats(struct cluster_node *n, bool lease, const char *node)
{
    static struct seat_args a; /* one command at a time, copied by hiredis */
    struct venue *v = n->srv->venue;
    size_t rooms = venue_room_count(v), argc = 0, num = 0;

    if (rooms > CLUSTER_ROOMS_MAX)
        rooms = CLUSTER_ROOMS_MAX;
    a.argv[argc++] = "EVAL";
    a.argv[argc++] = lease ? lease_script : release_script;
    snprintf(a.nums[num], sizeof(a.nums[0]), "%zu", rooms);
    a.argv[argc++] = a.nums[num++];
    for (size_t k = 0; k < rooms; k++) {
        struct venue_room_view r;
        venue_room_get(v, k, &r);
        snprintf(a.keys[k], sizeof(a.keys[0]), SEATS_KEY "%s", r.id);
        a.argv[argc++] = a.keys[k];
        if (lease)
            snprintf(n->leased[k], sizeof(n->leased[0]), "%s", r.id);
    }
    a.argv[argc++] = node;
    if (lease) {
        snprintf(a.nums[num], sizeof(a.nums[0]), "%u", n->status.nodes);
        a.argv[argc++] = a.nums[num++];
        snprintf(a.nums[num], sizeof(a.nums[0]), "%d", CLUSTER_SPARE_MAX);
        a.argv[argc++] = a.nums[num++];
        for (size_t k = 0; k < rooms; k++) {
            struct venue_room_view r;
            venue_room_get(v, k, &r);
            snprintf(a.nums[num], sizeof(a.nums[0]), "%d", r.here);
            a.argv[argc++] = a.nums[num++];
            /* Until the answer, the node fills no seat beyond those it
             * says it uses: the script hands the others what is left. */
            venue_mesh_lease(v, r.id, r.here);
            snprintf(a.nums[num], sizeof(a.nums[0]), "%d", r.capacity);
            a.argv[argc++] = a.nums[num++];
        }
        n->nleased = rooms;
    }
    assert(argc <= sizeof(a.argv) / sizeof(a.argv[0]) && num <= sizeof(a.nums) / sizeof(a.nums[0]));
    for (size_t i = 0; i < argc; i++)
        a.len[i] = strlen(a.argv[i]);
    if (redis_command_argv(n->redis, lease ? on_lease : NULL, n, (int)argc, a.argv, a.len) < 0)
        return -1;
    n->leasing |= lease;
    return 0;
}

/* A join waits for a seat: lease now (once at a time) rather than at the beat. */
static void seats_wanted(void *ctx)
{
    struct cluster_node *n = ctx;
    if (n->claimed && !n->apart && !n->leasing)
        seats(n, true, n->srv->cfg.node_id);
}

/* The other live nodes, from the beat's entries: any that was there at the
 * last beat and is not now has gone, and its members leave. */
static void read_live(struct cluster_node *n, const redisReply *reply)
{
    char live[CLUSTER_NODES_MAX][PROTO_NODE_MAX + 1];
    size_t nlive = 0;

    for (size_t i = 1; i < reply->elements && nlive < CLUSTER_NODES_MAX; i++) {
        const redisReply *e = reply->element[i];
        json_t *doc = e->type == REDIS_REPLY_STRING ? json_loadb(e->str, e->len, 0, NULL) : NULL;
        const char *id = json_string_value(json_object_get(doc, "id"));
        if (id && strlen(id) <= PROTO_NODE_MAX)
            snprintf(live[nlive++], sizeof(live[0]), "%s", id);
        json_decref(doc);
    }
    for (size_t i = 0; i < n->nlive; i++) {
        size_t k = 0;
        while (k < nlive && strcmp(live[k], n->live[i]) != 0)
            k++;
        if (k == nlive) {
            fprintf(stderr,
                    "venued: cluster: node %s is gone; its people may resume here until their "
                    "grace ends\n",
                    n->live[i]);
            venue_mesh_node_gone(n->srv->venue, n->live[i], clock_mono_ms());
            seats(n, false, n->live[i]);
        }
    }
    memcpy(n->live, live, sizeof(live[0]) * nlive);
    n->nlive = nlive;
    n->status.nodes = 1 + (unsigned)nlive;
}

static void on_beat(void *arg, const redisReply *reply)
{
    struct cluster_node *n = arg;

    n->beating = false;
    if (!reply)
        return; /* the link went: on_state says so */
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER) {
        n->claimed = n->status.joined = false;
        set_reason(n, reply->type == REDIS_REPLY_ERROR ? reply->str
                                                       : "Redis gave an unexpected answer");
        return;
    }
    n->claimed = reply->element[0]->integer == 1;
    /* Joined once it holds its key and its seats: people can come in. */
    n->status.joined = n->claimed && n->has_seats;
    if (n->status.joined && !n->apart)
        n->status.reason[0] = '\0';
    else if (!n->claimed)
        snprintf(n->status.reason, sizeof(n->status.reason),
                 "node id %s is held by another running venued; joining once its key expires",
                 n->srv->cfg.node_id);
    read_live(n, reply);
    if (n->claimed && !n->apart && !n->leasing)
        seats(n, true, n->srv->cfg.node_id);
}

static void beat(lws_sorted_usec_list_t *sul)
{
    struct cluster_node *n = lws_container_of(sul, struct cluster_node, beat_sul);
    long long now = clock_mono_ms();
    char ttl[16], *entry;

    lws_sul_schedule(n->srv->ctx, 0, &n->beat_sul, beat,
                     (lws_usec_t)CLUSTER_BEAT_MS * LWS_US_PER_MS);
    /* Apart: why, as the link that is down last said (a refused password,
     * no answer), also before it was ever up. */
    if (n->apart)
        set_reason(n, redis_reason(redis_up(n->redis) ? n->sub : n->redis));
    if (n->beating) {
        if (now - n->beat_ms >= CLUSTER_STALL_MS)
            redis_reset(n->redis, "no answer for 3 s");
        return;
    }
    if (!redis_up(n->redis))
        return;
    entry = entry_text(n);
    if (!entry)
        return;
    snprintf(ttl, sizeof(ttl), "%d", CLUSTER_TTL_MS);
    if (redis_command(n->redis, on_beat, n, "EVAL %s 2 %s %s %s %s %s %s", beat_script, n->key,
                      NODES_HASH, n->srv->cfg.node_id, entry, n->incarnation, ttl) == 0) {
        n->beating = true;
        n->beat_ms = now;
    }
    free(entry);
}

/* Either link changed: apart while one is down, together once both are up. */
static void on_state(void *arg, bool up, const char *reason)
{
    struct cluster_node *n = arg;
    bool both = redis_up(n->redis) && redis_up(n->sub);

    n->status.redis_up = both;
    n->status.reconnects = redis_reconnects(n->redis) + redis_reconnects(n->sub);
    if (!up && !n->apart) {
        n->apart = true;
        n->claimed = n->has_seats = n->status.joined = false;
        n->status.nodes = 1;
        n->nlive = 0;
        set_reason(n, reason);
        fprintf(stderr, "venued: cluster: %s; serving this node's people on their own\n", reason);
        venue_mesh_node_gone(n->srv->venue, NULL, clock_mono_ms());
    } else if (up && both && n->apart) {
        n->apart = false;
        set_reason(n, "joining");
        fprintf(stderr, "venued: cluster: Redis is up, node %s joining\n", n->srv->cfg.node_id);
        venue_mesh_resync(n->srv->venue);
        beat(&n->beat_sul); /* join now, not at the next beat */
    }
}

static void on_message(void *arg, const char *data, size_t len)
{
    struct cluster_node *n = arg;
    if (len > MESH_IN_MAX || venue_mesh_apply(n->srv->venue, data, len, clock_mono_ms()) < 0)
        n->status.mesh_bad++;
    else
        n->status.mesh_in++;
}

static void publish(void *ctx, const char *data, size_t len)
{
    struct cluster_node *n = ctx;
    if (!n->apart &&
        redis_command(n->redis, NULL, NULL, "PUBLISH %s %b", CHANNEL, data, len) == 0) {
        n->status.mesh_out++;
        return;
    }
    n->status.mesh_lost++;
    /* Redis behind: what the others missed comes as the whole state. Down:
     * the resync on its return does that. */
    if (!n->apart)
        venue_mesh_resync(n->srv->venue);
}

struct cluster_node *node_new(struct server *srv, char *err, size_t errlen)
{
    struct cluster_node *n = calloc(1, sizeof(*n));
    struct redis_url url;

    if (!n || secret_random_hex(n->incarnation, sizeof(n->incarnation), 16) < 0) {
        snprintf(err, errlen, "cluster: %s",
                 n ? "no randomness for the node's incarnation" : "out of memory");
        free(n);
        return NULL;
    }
    if (redis_url_parse(srv->cfg.redis_url, &url, err, errlen) < 0) {
        free(n);
        return NULL;
    }
    n->srv = srv;
    snprintf(n->key, sizeof(n->key), NODE_KEY "%s", srv->cfg.node_id);
    n->status.node = srv->cfg.node_id;
    n->status.nodes = 1;
    n->apart = true;
    set_reason(n, "connecting to Redis");
    n->redis = redis_new(srv->ctx, &url, on_state, n);
    n->sub = redis_new(srv->ctx, &url, on_state, n);
    if (!n->redis || !n->sub) {
        snprintf(err, errlen, "cluster: out of memory");
        redis_free(n->redis);
        redis_free(n->sub);
        free(n);
        return NULL;
    }
    redis_subscribe(n->sub, CHANNEL, on_message, n);
    venue_mesh_start(srv->venue, srv->cfg.node_id,
                     &(struct venue_mesh_io){.ctx = n, .publish = publish, .seats = seats_wanted});
    lws_sul_schedule(srv->ctx, 0, &n->beat_sul, beat, (lws_usec_t)CLUSTER_BEAT_MS * LWS_US_PER_MS);
    srv->cluster = &n->status;
    return n;
}

static void on_left(void *arg, const redisReply *reply)
{
    struct cluster_node *n = arg;
    (void)reply;
    n->left = true;
}

void node_leave(struct cluster_node *n)
{
    lws_sul_cancel(&n->beat_sul);
    if (n->claimed)
        seats(n, false, n->srv->cfg.node_id); /* before the key: the reply below ends the wait */
    n->left = redis_command(n->redis, on_left, n, "EVAL %s 2 %s %s %s %s", leave_script, n->key,
                            NODES_HASH, n->srv->cfg.node_id, n->incarnation) < 0;
}

bool node_left(const struct cluster_node *n)
{
    return n->left;
}

void node_free(struct cluster_node *n)
{
    if (!n)
        return;
    lws_sul_cancel(&n->beat_sul);
    redis_free(n->sub);
    redis_free(n->redis); /* a beat still awaited gets NULL here */
    n->srv->cluster = NULL;
    free(n);
}
