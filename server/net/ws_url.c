/*
 * ws_url.c - client URLs, checked (ws_url.h).
 */
#include "ws_url.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>

int ws_url_parse(const char *url, const char *what, struct ws_url *out, char *err, size_t errlen)
{
    char copy[WS_URL_MAX + 1];
    const char *prot, *addr, *path;
    int port;

    if (strlen(url) >= sizeof(copy)) {
        snprintf(err, errlen, "%s: longer than %d characters", what, WS_URL_MAX);
        return -1;
    }
    strcpy(copy, url);
    if (lws_parse_uri(copy, &prot, &addr, &port, &path) || !addr[0] ||
        (strcmp(prot, "ws") != 0 && strcmp(prot, "wss") != 0) || port <= 0 || port > 65535) {
        snprintf(err, errlen, "%s: \"%s\" is not a ws:// or wss:// URL", what, url);
        return -1;
    }
    out->tls = strcmp(prot, "wss") == 0;
    out->port = port;
    snprintf(out->host, sizeof(out->host), "%s", addr);
    snprintf(out->path, sizeof(out->path), "/%s", path); /* lws_parse_uri drops the slash */
    return 0;
}

void ws_url_connect_info(const struct ws_url *u, struct lws_client_connect_info *i)
{
    i->address = u->host;
    i->port = u->port;
    i->path = u->path;
    i->host = u->host;
    i->origin = u->host;
    i->ssl_connection = u->tls ? LCCSCF_USE_SSL : 0;
}
