/*
 * config.c - the embedded defaults of venued's settings.
 */
#include "config.h"

#include <string.h>

void config_defaults(struct venue_config *c)
{
    memset(c, 0, sizeof(*c));
    c->port = 8080;
    strcpy(c->bind, "127.0.0.1");
    strcpy(c->data_dir, "data");
    strcpy(c->scenes_dir, "scenes/demo");
    strcpy(c->web_dir, "web-client");
    c->tick_hz = 20;
    c->max_message = 65536;
    c->pose_rate = 60;
    c->chat_rate = 5;
    c->react_rate = 2;
    c->other_rate = 120;
    c->resume_grace_s = 15;
    c->kick_minutes = 10;
    c->idle_timeout_s = 20;
    c->hello_timeout_s = 10;
    c->header_timeout_s = 10;
    c->body_idle_s = 5;
    c->request_timeout_s = 120;
    c->max_connections = 10000;
    c->conns_per_address = 256;
    c->conn_rate = 100;
    c->conn_burst = 400;
    /* Where a reverse proxy on this machine connects from: it carries everyone. */
    strcpy(c->conn_exempt, "127.0.0.1,::1");
    c->queue_max = 1048576;
    c->queue_frames = 1024;
    c->stall_s = 10;
    c->max_speed = 10.0;
    c->flush_ms = 1000;
    strcpy(c->registration, "open");
    strcpy(c->event_loop, "poll");
    c->retention_days = 30;
    c->audit_retention_days = 365;
    c->chat_days = 7;
    c->ingest_rate = 50;
    c->ingest_max = 256L * 1024;
    c->twin_history = 500;
    c->slides_max = 20L * 1024 * 1024;
    c->slides_pages = 300;
    c->caption_rate = 5;
    c->reminder_min = 5;
    c->turn_ttl_s = 43200;
    c->hello_rate = 20;
    c->hello_burst = 60;
    c->resume_fail_rate = 2;
    c->resume_fail_burst = 10;
    c->detached_guests = 2000;
}

const char *config_store(const struct venue_config *c)
{
    return c->database[0] ? c->database : c->data_dir;
}
