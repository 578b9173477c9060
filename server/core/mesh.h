/*
 * mesh.h - one venue over several nodes: the core's side. A room spans
 * nodes; each node fans out to its own members, and mirrors everyone
 * connected elsewhere as a remote member (session.h, node) that presence,
 * rosters, poses frames and capacity count like anyone, but that has no
 * queue: its own node writes to it.
 *
 * What crosses nodes, as events in one JSON document a tick (PROTOCOL.md,
 * "Between nodes"): its own members' presence (join, leave, update: status,
 * hand, role, mute), chat lines, and the tick's movers of each room, their
 * entries encoded once per room, never once per receiver; a moderator's
 * kick, ban or mute of someone another node holds, for that node to
 * enforce; and, when a node
 * asks (it joined, or came back), the whole state of this node's members,
 * which the others take as the truth about this node. Events of one node
 * reach the others in the order it published them (one Redis connection).
 *
 * Bounds: a tick's document holds at most MESH_OUT_MAX bytes. Past it the
 * tick's events are dropped, counted, and the node's whole state goes at
 * the next tick instead, so that nobody stays wrong.
 *
 * Above rooms and sessions (it enters and removes remote members through
 * room.h), below the dispatcher, which exposes it in venue.h.
 */
#ifndef VENUE_MESH_H
#define VENUE_MESH_H

#include <stdbool.h>
#include <stddef.h>

struct venue;
struct room;
struct session;

#define MESH_OUT_MAX ((size_t)4 * 1024 * 1024)

/* A local member's presence event in its room (room.c calls it for every
 * one it sends); nothing for a remote member or without a cluster. */
void mesh_presence(struct venue *v, struct session *s, const char *event);
/* A local member said line id in its room at ts_ms (chat.c). */
void mesh_chat(struct venue *v, struct session *s, long long id, long long ts_ms, const char *text);
/* A moderator here removed line id from r (chat.c). */
void mesh_chat_deleted(struct venue *v, const struct room *r, long long id);
/* A moderator here acted on t, a remote member: its node is asked to
 * enforce it (moderation.h, mod_enforce). room NULL: the venue. */
void mesh_act(struct venue *v, const struct session *t, const char *action, const char *room,
              long long until, const char *reason, const char *by);
/* After the tick's movers are collected: their entries, one list a room. */
void mesh_movers(struct venue *v);
/* At the tick's end: publish what the tick gathered. */
void mesh_flush(struct venue *v);
/* Another node's document: 0, or -1 when it is not one (nothing applied).
 * Each event is checked and applied whole or skipped. */
int mesh_apply(struct venue *v, const char *data, size_t len);
/*
 * node is gone: its members become this node's own, detached, so that
 * each may resume here within the grace period (its token's hash came
 * with it) or leave when it ends, once on every node. NULL: this node lost
 * the others (Redis): every remote member leaves at once; the resync puts
 * back whoever is still there.
 */
void mesh_node_gone(struct venue *v, const char *node);
/* s resumed here (it may have been another node's): the others hear that
 * this node holds it now. */
void mesh_resumed(struct venue *v, struct session *s);
/* The venue is freed: its buffer. */
void mesh_free(struct venue *v);

#endif
