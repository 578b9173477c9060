/*
 * peers.c - per-address token buckets in a bounded table.
 */
#include "peers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venue_int.h"

#define PROBE 8 /* slots an address may sit in, from its hash on */

struct peer *peers_new(void)
{
    return calloc(PEERS_MAX, sizeof(struct peer));
}

static void limit_of(const struct venue *v, enum peer_limit kind, double *rate, double *burst)
{
    *rate = kind == PEER_HELLO ? v->cfg.hello_rate : v->cfg.resume_fail_rate;
    *burst = kind == PEER_HELLO ? v->cfg.hello_burst : v->cfg.resume_fail_burst;
}

static void refill(const struct venue *v, struct peer *p, enum peer_limit kind)
{
    double rate, burst;
    struct bucket *b = &p->b[kind];
    limit_of(v, kind, &rate, &burst);
    b->tokens = fmin(burst, b->tokens + (double)(v->now - b->last_ms) * rate / 1000.0);
    b->last_ms = v->now;
}

/* Whether p's buckets are all full again: it may be forgotten. */
static bool idle(const struct venue *v, struct peer *p)
{
    for (int k = 0; k < PEER_LIMIT_COUNT; k++) {
        double rate, burst;
        limit_of(v, (enum peer_limit)k, &rate, &burst);
        refill(v, p, (enum peer_limit)k);
        if (p->b[k].tokens < burst)
            return false;
    }
    return true;
}

/* addr's slot: its own, else a free or idle one in its window, else the
 * one there used longest ago; a slot taken over starts with full buckets. */
static struct peer *slot_of(struct venue *v, const char *addr)
{
    size_t at = session_hash(addr);
    struct peer *free_slot = NULL, *oldest = NULL, *p;

    for (size_t i = 0; i < PROBE; i++) {
        p = &v->peers[(at + i) & (PEERS_MAX - 1)];
        if (p->used_ms && strcmp(p->addr, addr) == 0)
            return p;
        if (!p->used_ms || idle(v, p)) {
            if (!free_slot)
                free_slot = p;
        } else if (!oldest || p->used_ms < oldest->used_ms) {
            oldest = p;
        }
    }
    p = free_slot ? free_slot : oldest;
    snprintf(p->addr, sizeof(p->addr), "%s", addr);
    for (int k = 0; k < PEER_LIMIT_COUNT; k++) {
        double rate;
        limit_of(v, (enum peer_limit)k, &rate, &p->b[k].tokens);
        p->b[k].last_ms = v->now;
    }
    return p;
}

bool peers_take(struct venue *v, const char *addr, enum peer_limit kind)
{
    struct peer *p = slot_of(v, addr);
    p->used_ms = v->now ? v->now : 1;
    refill(v, p, kind);
    if (p->b[kind].tokens < 1.0)
        return false;
    p->b[kind].tokens -= 1.0;
    return true;
}
