/*
 * ws_url.h - a ws:// or wss:// URL of a server venued connects to (Janus'
 * APIs), checked once, and the part of an lws client connection it fills.
 * One parser for every client connection venued makes.
 */
#ifndef VENUE_WS_URL_H
#define VENUE_WS_URL_H

#include <stdbool.h>
#include <stddef.h>

struct lws_client_connect_info;

#define WS_URL_MAX 256 /* characters of a URL, and of its host and path */

struct ws_url {
    char host[WS_URL_MAX + 1];
    char path[WS_URL_MAX + 1]; /* with its leading slash */
    int port;
    bool tls;
};

/* Parse url into out. -1 with err naming what (a flag, say) for anything
 * but ws:// or wss://, a host, and a port 1..65535 (given or implied). */
int ws_url_parse(const char *url, const char *what, struct ws_url *out, char *err, size_t errlen);
/* Fill the address, port, path, host, origin and TLS of i from u (which
 * must outlive the connect call). */
void ws_url_connect_info(const struct ws_url *u, struct lws_client_connect_info *i);

#endif
