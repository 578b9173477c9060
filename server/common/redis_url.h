/*
 * redis_url.h - where the cluster's Redis is, as --redis gives it:
 * redis://[:PASSWORD@]HOST[:PORT][/DB]. Checked when the options are read
 * (app/options.c) and used by the link (cluster/redis.c).
 */
#ifndef VENUE_REDIS_URL_H
#define VENUE_REDIS_URL_H

#include <stddef.h>

struct redis_url {
    char host[64]; /* numeric IPv4 or IPv6; "localhost" becomes 127.0.0.1 */
    int port;      /* 6379 unless given */
    int db;        /* 0 unless given */
    char password[128];
};

/* Parse s into out. HOST must be numeric: a name would need a DNS lookup,
 * which blocks the service loop. 0, or -1 with err naming what is wrong
 * (never the password). */
int redis_url_parse(const char *s, struct redis_url *out, char *err, size_t errlen);

#endif
