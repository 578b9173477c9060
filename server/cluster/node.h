/*
 * node.h - this venued as one node of a cluster: its liveness in Redis and
 * what it reads there of the others.
 *
 * Every CLUSTER_BEAT_MS the node claims its key, venue:node:ID, with a
 * time to live of CLUSTER_TTL_MS, and writes the same entry into the hash
 * venue:nodes: when it stops beating (SIGKILL, a lost machine) the key
 * expires within CLUSTER_TTL_MS and any node that reads the hash drops the
 * stale entry. The claim is a script that refuses a key held by another
 * run of the node (a second process started with the same --node-id): that
 * one waits, says why in /healthz, and joins once the key is free. A beat
 * also reads the hash: which other nodes are alive. One that was and is
 * no more is gone: its people are kept, detached, for a resume here within
 * the grace period, and leave this node's rooms once it ends.
 *
 * Seats: every beat the node also leases each room's seats in Redis, in
 * the hash venue:seats:ROOM (node -> seats), with one script for all
 * rooms: it keeps the seats its people use and takes a few more (an even
 * share of what the others left free, at most CLUSTER_SPARE_MAX), so the
 * nodes' leases together stay within the capacity. The core fills only
 * those (venue_mesh_lease), so concurrent joins on several nodes never
 * overfill a room; a join past the lease, with places free in the room,
 * waits (core/park.h) while the node leases again at once. A gone node's
 * seats are given back by whoever sees it go; its people, kept for a
 * resume on every other node, hold seats there meanwhile, so the room errs
 * on the side of too few.
 *
 * The venue's mesh (core/mesh.h) rides on Redis pub/sub: the node
 * publishes the core's document of each tick on the channel venue:mesh
 * and hands every other node's to the core.
 *
 * A beat without an answer for CLUSTER_STALL_MS (a Redis that hangs) drops
 * the link; redis.c brings it back. While Redis is down the node serves
 * its own people as before, shows only them, and resyncs when it is back.
 *
 * On a clean stop node_leave deletes the key, the entry and the node's
 * seats, so the others see it gone at once.
 */
#ifndef VENUE_CLUSTER_NODE_H
#define VENUE_CLUSTER_NODE_H

#include <stdbool.h>
#include <stddef.h>

struct server;
struct cluster_node;

#define CLUSTER_BEAT_MS   1000
#define CLUSTER_TTL_MS    3000
#define CLUSTER_STALL_MS  3000
#define CLUSTER_NODES_MAX 64 /* other nodes read per beat (more: the rest are not seen) */
#define CLUSTER_ROOMS_MAX 64 /* rooms whose seats are leased (more: they take nobody) */
#define CLUSTER_SPARE_MAX 16 /* seats a node holds beyond its people's, at most */

/* Join srv's cluster (srv->cfg.redis_url, node_id; checked by options.c)
 * on srv's context and point srv->cluster at the status. NULL with err
 * (out of memory). Freed by node_free. */
struct cluster_node *node_new(struct server *srv, char *err, size_t errlen);
/* Ask to leave: the key and the entry are deleted if Redis is up. */
void node_leave(struct cluster_node *n);
/* After node_leave: true once Redis answered it, or when there was
 * nothing to wait for. */
bool node_left(const struct cluster_node *n);
/* Before lws_context_destroy; clears srv->cluster. NULL is fine. */
void node_free(struct cluster_node *n);

#endif
