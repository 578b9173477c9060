/*
 * report.h - what venued shows of the venue over HTTP, as documents:
 * the rooms (GET /api/venue), who is where (GET /api/admin/presence) and
 * the counters (GET /metrics). Reads the core through venue.h only.
 *
 * Each function appends one complete document to b: 0, or -1 when memory
 * runs out.
 */
#ifndef VENUE_REPORT_H
#define VENUE_REPORT_H

#include "proto.h"
#include "twins.h"
#include "venue.h"

/* {"rooms":[{"id","name","description","capacity","count","scene","locked"}]};
 * in a cluster (nodes > 0: the live nodes, this one included) count is the
 * whole venue's, each room also has "here" (this node's people) and the
 * document "nodes". */
int report_rooms(const struct venue *v, unsigned nodes, struct proto_buf *b);
/* {"rooms":[{"id","name","users":[{"id","name","role","status","hand","connected"}]}],
 *  with "node" on the people another node of a cluster holds,
 *  "lobbyless":[...the same, for people in no room...]} */
int report_presence(const struct venue *v, struct proto_buf *b);
/* GET /api/twins: {"entities":[{"id","type","source","rooms":[room ids that show it],
 *  "attrs":{name:{"value","unit","observedAt","receivedAt"}}}]} */
int report_twins(const struct venue *v, struct proto_buf *b);
/* GET /api/twins/{id}: the entity as above, and its kept history per
 * attribute, oldest first: "history":{name:[{"value","observedAt","receivedAt"}]}.
 * 1 written, 0 no such entity, -1 out of memory or a store error. */
int report_twin(const struct venue *v, struct twins *store, const char *id, struct proto_buf *b);
/* The Prometheus text exposition. */
int report_metrics(const struct venue *v, struct proto_buf *b);

#endif
