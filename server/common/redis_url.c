/* redis_url.c - see redis_url.h. */
#include "redis_url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int redis_url_parse(const char *s, struct redis_url *out, char *err, size_t errlen)
{
    const char *p = s, *at, *host, *end;
    size_t n;
    char *num_end;
    long v;

    memset(out, 0, sizeof(*out));
    out->port = 6379;
    if (strncmp(p, "redis://", 8) != 0) {
        snprintf(err, errlen, "not a redis:// URL");
        return -1;
    }
    p += 8;
    end = p + strcspn(p, "/");
    at = memchr(p, '@', (size_t)(end - p));
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon || at - colon - 1 <= 0 || (size_t)(at - colon - 1) >= sizeof(out->password)) {
            snprintf(err, errlen,
                     "the password must be given as :PASSWORD@ (at most %zu characters)",
                     sizeof(out->password) - 1);
            return -1;
        }
        memcpy(out->password, colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    }
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close) {
            snprintf(err, errlen, "an IPv6 host needs its closing ]");
            return -1;
        }
        host = p + 1;
        n = (size_t)(close - host);
        p = close + 1;
    } else {
        host = p;
        n = strcspn(p, ":/");
        p += n;
    }
    if (n == 0 || n >= sizeof(out->host)) {
        snprintf(err, errlen, "the host is missing or too long");
        return -1;
    }
    memcpy(out->host, host, n);
    if (strcmp(out->host, "localhost") == 0)
        snprintf(out->host, sizeof(out->host), "127.0.0.1");
    {
        unsigned char buf[16];
        if (inet_pton(AF_INET, out->host, buf) != 1 && inet_pton(AF_INET6, out->host, buf) != 1) {
            snprintf(err, errlen,
                     "host \"%s\" must be a numeric address (a name would need a DNS lookup, "
                     "which would stop the service loop)",
                     out->host);
            return -1;
        }
    }
    if (*p == ':') {
        v = strtol(p + 1, &num_end, 10);
        if (num_end == p + 1 || v < 1 || v > 65535 || (*num_end && *num_end != '/')) {
            snprintf(err, errlen, "the port must be a number from 1 to 65535");
            return -1;
        }
        out->port = (int)v;
        p = num_end;
    }
    if (*p == '/' && p[1]) {
        v = strtol(p + 1, &num_end, 10);
        if (num_end == p + 1 || *num_end || v < 0 || v > 15) {
            snprintf(err, errlen, "the database must be a number from 0 to 15");
            return -1;
        }
        out->db = (int)v;
    } else if (*p && strcmp(p, "/") != 0) {
        snprintf(err, errlen, "unexpected \"%s\" after the host", p);
        return -1;
    }
    return 0;
}
