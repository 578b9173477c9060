/*
 * server.h - the process around the core: one libwebsockets context, the
 * venue, its scenes, store and registry. The transport (net/) and main.c
 * see this; no other layer includes libwebsockets (a test checks).
 */
#ifndef VENUE_SERVER_H
#define VENUE_SERVER_H

#include <libwebsockets.h>
#include <limits.h>
#include <stdbool.h>

#include "admin_api.h"
#include "clock.h"
#include "config.h"
#include "gate.h"
#include "scene.h"
#include "slides.h"
#include "store.h"
#include "chatlog.h"
#include "twins.h"
#include "venue.h"
#include "voice_proxy.h"

struct registry;
struct programme;
struct http_req;

/* Slide decks received or counted at once; one more is answered 503. */
#define SLIDES_UPLOADS_MAX 4

/*
 * The place of one slide deck (http_api.c): taken when an upload's headers
 * are accepted, given back once its temporary file is gone and the child
 * that counted its pages has been reaped, which may be after its
 * connection has gone. Zeroed memory is a free place.
 */
struct slides_job {
    bool used;
    struct server *srv;          /* borrowed: the timer's way back */
    struct lws *wsi;             /* the upload's connection; NULL once gone or answered */
    struct http_req *req;        /* its request (lws's per-session data); NULL with wsi */
    struct slides_upload upload; /* the temporary file */
    struct slides_count count;   /* qpdf's child, once the body is in */
    lws_sorted_usec_list_t sul;  /* polls the child; scheduled while there is one */
};

/*
 * The admin API's import being written (http_api.c), a step at a time
 * from its timer: at most one at once. It outlives its connection when
 * that goes (the steps then undo it) and goes on after its answer (the
 * steps tidy).
 */
struct import_run {
    struct server *srv;         /* borrowed: the timer's way back */
    struct admin_import *job;   /* owned; NULL: no import running */
    struct lws *wsi;            /* who waits for the answer; NULL once gone or answered */
    struct http_req *req;       /* its request; NULL with wsi */
    bool tidying;               /* an ended import's leavings are being cleared */
    lws_sorted_usec_list_t sul; /* the next step, of the job or of tidying */
};

/*
 * The voice client's state as /healthz and /metrics print it (filled by
 * server/voice, read here only). Voice is optional: its being down never
 * makes the venue unhealthy.
 */
struct voice_status {
    const char *state;             /* "down", "connecting", "ready"; static */
    char reason[160];              /* why not ready, printable ASCII without quotes */
    bool up;                       /* session, handles and rooms are there */
    unsigned long long reconnects; /* times the session was made again after a loss */
};

/*
 * This node's place in a cluster as /healthz, /metrics and /api/venue
 * print it (filled by server/cluster, read here only); only with --redis.
 */
struct cluster_status {
    const char *node;              /* --node-id; borrowed from the config */
    bool redis_up;                 /* the link to Redis is up */
    bool joined;                   /* this node's key is its own and fresh */
    char reason[160];              /* why not joined ("" when joined), printable, no quotes */
    unsigned long long reconnects; /* times a Redis link came back */
    unsigned nodes;              /* live nodes at the last beat, this one included; 1 while apart */
    unsigned long long mesh_in;  /* documents from other nodes applied */
    unsigned long long mesh_bad; /* ... refused: not a node's document */
    unsigned long long mesh_out; /* documents this node published */
    unsigned long long mesh_lost; /* ... that could not go (Redis down or behind) */
};

struct server {
    struct venue_config cfg;
    struct lws_context *ctx;
    struct venue *venue;         /* owned */
    struct scene_set scenes;     /* owned; the venue borrows it */
    struct store *store;         /* owned */
    struct registry *registry;   /* owned; on the store's database */
    struct twins *twins;         /* owned; on the store's database */
    struct chatlog *chatlog;     /* owned; on the store's database */
    struct admin_env admin;      /* the admin API's view of the above */
    char assets_dir[PATH_MAX];   /* real path of the scene assets folder */
    char web_dir[PATH_MAX];      /* real path of the web client's folder */
    struct programme *programme; /* owned; on the store's database */
    int slides_uploads;          /* places taken in slides_jobs (at most SLIDES_UPLOADS_MAX) */
    /* The places of the slide decks being received or counted. */
    struct slides_job slides_jobs[SLIDES_UPLOADS_MAX];
    struct import_run import;          /* the admin API's user import in steps */
    lws_sorted_usec_list_t retain_sul; /* hourly retention */
    long long next_tick_ms;
    const struct voice_status *voice;     /* borrowed from the Janus client; NULL: no voice */
    const struct cluster_status *cluster; /* borrowed from the cluster node; NULL: no --redis */
    struct voice_proxy *voice_proxy;      /* owned; made before the context */
    struct gate *gate;    /* owned; the front door (gate.c), freed after the context */
    double whoami_tokens; /* GET /api/me's bucket (http_api.c) */
    long long whoami_ms;  /* when it was last filled */
};

/* The WebSocket protocol (venue.v1) and the HTTP routes; /voice is voice_proxy_protocol. */
extern const struct lws_protocols ws_adapter_protocol;
extern const struct lws_protocols http_api_protocol;
/* The struct venue_io that routes the core's requests to connections. */
extern const struct venue_io ws_adapter_io_template;

/* The security headers of every HTTP answer (info.headers): static,
 * made from cfg once before the context. */
const struct lws_protocol_vhost_options *http_api_headers(const struct venue_config *cfg);

/* After lws_context_destroy: kill the children still counting slides (no
 * connection waits for them now) and reap them, waiting a second at most. */
void http_api_slides_stop(struct server *srv);
/* Before lws_context_destroy: undo an import still being written. */
void http_api_import_stop(struct server *srv);

#endif
