/*
 * node.c - this venued as a cluster node (see node.h for what and why).
 *
 * A beat is one script, run atomically by Redis: claim this node's key
 * unless another run holds it, write the node's entry, and read the other
 * nodes' entries, deleting those whose key has expired. One round trip a
 * second, and no node's clock is compared with another's: a node is alive
 * while its key is.
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
    struct redis *redis; /* owned */
    struct cluster_status status;
    char key[sizeof(NODE_KEY) + 32];
    char incarnation[33]; /* random, this run's: tells its key from another run's */
    bool beating;         /* a beat's answer is awaited */
    long long beat_ms;    /* when it was sent */
    bool left;            /* node_leave's answer came, or there was none to wait for */
    lws_sorted_usec_list_t beat_sul;
    struct report_room_count rooms[CLUSTER_ROOMS_MAX]; /* status.elsewhere's */
};

static void set_reason(struct cluster_node *n, const char *why)
{
    snprintf(n->status.reason, sizeof(n->status.reason), "%s", why);
}

/* What this node tells the others: {"incarnation","connections","rooms":{id:count}}. */
static char *entry_text(struct cluster_node *n)
{
    struct venue *v = n->srv->venue;
    json_t *rooms = json_object(), *doc;
    char *text;
    for (size_t i = 0; rooms && i < venue_room_count(v); i++) {
        struct venue_room_view r;
        venue_room_get(v, i, &r);
        if (r.count > 0)
            json_object_set_new(rooms, r.id, json_integer(r.count));
    }
    doc = rooms ? json_pack("{s:s, s:I, s:o}", "incarnation", n->incarnation, "connections",
                            (json_int_t)venue_metrics(v)->connections, "rooms", rooms)
                : NULL;
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

/* Add one other node's entry to the counts; a malformed one is skipped. */
static void count_entry(struct cluster_node *n, const char *text, size_t len)
{
    json_t *doc = json_loadb(text, len, 0, NULL), *rooms = json_object_get(doc, "rooms");
    const char *id;
    json_t *count;
    struct report_elsewhere *e = &n->status.elsewhere;

    if (!json_is_object(rooms)) {
        json_decref(doc);
        return;
    }
    e->nodes++;
    json_object_foreach(rooms, id, count)
    {
        size_t i = 0;
        if (!json_is_integer(count) || json_integer_value(count) < 0 ||
            strlen(id) >= sizeof(n->rooms[0].room))
            continue;
        while (i < e->n && strcmp(n->rooms[i].room, id) != 0)
            i++;
        if (i == e->n) {
            if (e->n == CLUSTER_ROOMS_MAX)
                continue;
            snprintf(n->rooms[i].room, sizeof(n->rooms[i].room), "%s", id);
            n->rooms[i].count = 0;
            e->n++;
        }
        n->rooms[i].count += (int)json_integer_value(count);
    }
    json_decref(doc);
}

static void on_beat(void *arg, const redisReply *reply)
{
    struct cluster_node *n = arg;
    struct report_elsewhere *e = &n->status.elsewhere;

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
    if (n->status.joined)
        n->status.reason[0] = '\0';
    else
        snprintf(n->status.reason, sizeof(n->status.reason),
                 "node id %s is held by another running venued; joining once its key expires",
                 n->srv->cfg.node_id);
    e->nodes = 1;
    e->n = 0;
    for (size_t i = 1; i < reply->elements && i <= CLUSTER_NODES_MAX; i++)
        if (reply->element[i]->type == REDIS_REPLY_STRING)
            count_entry(n, reply->element[i]->str, reply->element[i]->len);
}

static void beat(lws_sorted_usec_list_t *sul)
{
    struct cluster_node *n = lws_container_of(sul, struct cluster_node, beat_sul);
    long long now = clock_mono_ms();
    char ttl[16], *entry;

    lws_sul_schedule(n->srv->ctx, 0, &n->beat_sul, beat,
                     (lws_usec_t)CLUSTER_BEAT_MS * LWS_US_PER_MS);
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

static void on_state(void *arg, bool up, const char *reason)
{
    struct cluster_node *n = arg;
    n->status.redis_up = up;
    n->status.reconnects = redis_reconnects(n->redis);
    n->status.joined = false;
    n->status.elsewhere.nodes = 1;
    n->status.elsewhere.n = 0;
    set_reason(n, up ? "joining" : reason);
    fprintf(stderr,
            up ? "venued: cluster: Redis is up, node %s joining\n"
               : "venued: cluster: %s; serving this node's people on their own\n",
            up ? n->srv->cfg.node_id : reason);
    if (up)
        beat(&n->beat_sul); /* join now, not at the next beat */
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
    n->status.elsewhere = (struct report_elsewhere){1, 0, n->rooms};
    set_reason(n, "connecting to Redis");
    n->redis = redis_new(srv->ctx, &url, on_state, n);
    if (!n->redis) {
        snprintf(err, errlen, "cluster: out of memory");
        free(n);
        return NULL;
    }
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
    redis_free(n->redis); /* a beat still awaited gets NULL here */
    n->srv->cluster = NULL;
    free(n);
}
