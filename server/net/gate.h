/*
 * gate.h - the front door: which new TCP connections are let in, decided
 * at accept, before lws has made anything for them.
 *
 * Per address (an IPv4 address, or an IPv6 /64): at most
 * cfg.conns_per_address open at once, and new ones at cfg.conn_rate a
 * second (bursts of cfg.conn_burst); the addresses of cfg.conn_exempt
 * skip both. All addresses together: at most cfg.max_connections, and
 * never so many that the process runs out of file descriptors. A refused
 * connection gets a fixed 503 and is closed at once.
 */
#ifndef VENUE_GATE_H
#define VENUE_GATE_H

#include <libwebsockets.h>
#include <stddef.h>

#include "config.h"

struct gate;

struct gate_stats {
    unsigned open;                      /* connections let in and not yet gone */
    unsigned limit;                     /* the total cap in force (fd limit applied) */
    unsigned long long refused_address; /* over conns_per_address */
    unsigned long long refused_rate;    /* over conn_rate */
    unsigned long long refused_full;    /* over the total cap, or fds running out */
};

/* A new gate (owned by the caller), or NULL with err set: a bad
 * conn_exempt list, or no memory. */
struct gate *gate_new(const struct venue_config *cfg, char *err, size_t errlen);
/* After lws_context_destroy: the context tells the gate of every wsi it
 * frees, and takes the gate's timer with it. */
void gate_free(struct gate *g);

/* LWS_CALLBACK_FILTER_NETWORK_CONNECTION (listen is that callback's wsi):
 * 0 to let the connection in, -1 when it was refused (a 503 written; lws
 * closes it). */
int gate_filter(struct gate *g, struct lws *listen, const struct lws_filter_network_conn_args *a,
                long long now_ms);
/* LWS_CALLBACK_WSI_CREATE and LWS_CALLBACK_WSI_DESTROY, which lws gives
 * protocols[0] for every connection: the one gate_filter let in just
 * before is tied to its wsi, and its place is given back when it goes. */
void gate_created(struct gate *g, struct lws *wsi);
void gate_destroyed(struct gate *g, struct lws *wsi);

struct gate_stats gate_stats(const struct gate *g);

#endif
