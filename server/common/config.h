/*
 * config.h - venued's settings: one struct that every layer reads, and its
 * embedded defaults. Who sets them from flags and the environment is the
 * application's business (app/options.h); the core and the transport only
 * read a copy.
 */
#ifndef VENUE_CONFIG_H
#define VENUE_CONFIG_H

#include <stddef.h>

struct venue_config {
    int port;
    char bind[64];
    char data_dir[512];
    char database[512]; /* postgresql://..., or an SQLite file; "": venue.db in data_dir */
    char scenes_dir[512];
    char web_dir[512];
    int tick_hz;
    long max_message;    /* bytes in one client message */
    int pose_rate;       /* poses per second per client */
    int chat_rate;       /* chats per second per client */
    int react_rate;      /* reactions per second per client */
    int other_rate;      /* any other message per second per client */
    int resume_grace_s;  /* a dropped session is kept this long */
    int kick_minutes;    /* a kicked guest's browser (and address with name) kept out this long */
    int idle_timeout_s;  /* no valid pong for this long: hang up */
    int hello_timeout_s; /* a connection must say hello within this */
    /* The front door (net/gate.c, net/http_api.c): deadlines and connection limits. */
    int header_timeout_s;  /* a request's whole header block must arrive within this */
    int body_idle_s;       /* a request body may pause this long between pieces */
    int request_timeout_s; /* a request, from its headers to the last byte of its answer */
    int max_connections;   /* open connections in all (lowered to what the fd limit allows) */
    int conns_per_address; /* open connections from one address (IPv6: one /64) */
    int conn_rate;         /* new connections per second from one address */
    int conn_burst;        /* ... of which this many at once */
    char conn_exempt[256]; /* addresses the per-address limits skip, comma-separated */
    long queue_max;        /* bytes queued for one client */
    int queue_frames;      /* frames queued for one client */
    int stall_s;           /* a queue that makes no progress this long: close */
    double max_speed;      /* metres per second an avatar may walk */
    int flush_ms;          /* how often last poses are written to SQLite */
    char registration[16]; /* "open": guests welcome; "required": a token to enter */
    char event_loop[8];    /* "libev" or "poll" (app/service_loop.c) */
    int retention_days;    /* guests and stored poses not seen this long are deleted */
    int audit_retention_days;
    int chat_days;             /* a room's chat lines are kept this long */
    char public_url[256];      /* base of join links, e.g. https://venue.example.org */
    char ingest_key[129];      /* bearer key of the NGSI-LD ingest; "": no ingest */
    int ingest_rate;           /* notifications per second the ingest takes */
    long ingest_max;           /* bytes of one notification */
    int twin_history;          /* values kept per twin attribute */
    long slides_max;           /* bytes of one uploaded slide deck (PDF) */
    int slides_pages;          /* pages of one slide deck */
    int caption_rate;          /* caption lines per second per captioner */
    int reminder_min;          /* a starred session's reminder comes this many minutes before */
    char janus_url[256];       /* Janus' WebSocket API, ws://...; "": no voice */
    char janus_admin_url[256]; /* its admin API; "": the one in janus_secrets, if any */
    char janus_secrets[512];   /* path of a secrets.env (server/voice/janus-config.sh) */
    char voice_url[256];       /* where browsers reach Janus: a ws(s):// URL; "": /voice here */
    char turn_urls[512];   /* TURN relays for pages, turn:/turns: URLs, comma-separated; "": none */
    char turn_secret[256]; /* their shared secret (coturn use-auth-secret) */
    int turn_ttl_s;        /* how long one page's TURN password lasts */
    /* Churn: what one address may start, and how many dropped guests wait. */
    int hello_rate;        /* hellos per second per address (a resume that works is free) */
    int hello_burst;       /* ... of which this many at once */
    int resume_fail_rate;  /* resumes with an unknown token per second per address */
    int resume_fail_burst; /* ... of which this many at once */
    int detached_guests;   /* detached guest sessions kept; past it the oldest is dropped */
    /* A cluster of nodes (server/cluster): both or neither. */
    char redis_url[256]; /* redis://...; "": one node on its own */
    char node_id[33];    /* this node's name in the cluster: [A-Za-z0-9_-], 1..32 */
};

/* The embedded defaults. */
void config_defaults(struct venue_config *c);

/* Where the store is, as store_open takes it: --database, else --data. */
const char *config_store(const struct venue_config *c);

#endif
