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
    lws_sorted_usec_list_t beat_sul;
    char live[CLUSTER_NODES_MAX][PROTO_NODE_MAX + 1]; /* the other nodes at the last beat */
    size_t nlive;
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
            fprintf(stderr, "venued: cluster: node %s is gone; its people leave\n", n->live[i]);
            venue_mesh_node_gone(n->srv->venue, n->live[i], clock_mono_ms());
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
        n->status.joined = false;
        set_reason(n, reply->type == REDIS_REPLY_ERROR ? reply->str
                                                       : "Redis gave an unexpected answer");
        return;
    }
    n->status.joined = reply->element[0]->integer == 1;
    if (n->status.joined && !n->apart)
        n->status.reason[0] = '\0';
    else if (!n->status.joined)
        snprintf(n->status.reason, sizeof(n->status.reason),
                 "node id %s is held by another running venued; joining once its key expires",
                 n->srv->cfg.node_id);
    read_live(n, reply);
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
        n->status.joined = false;
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
                     &(struct venue_mesh_io){.ctx = n, .publish = publish});
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
