/*
 * gate.c - the front door (gate.h).
 *
 * lws 4.1 accepts in a loop on the listen socket and hands each new socket
 * to LWS_CALLBACK_FILTER_NETWORK_CONNECTION before it makes a wsi: the one
 * place where a refusal costs nothing but the accept. When accept fails
 * (EMFILE) lws logs it and returns with the socket still readable, so the
 * loop spins: the total cap is kept below the fd limit, and a socket that
 * arrives on a high descriptor anyway (something else holds the rest)
 * pauses accepting until descriptors are free again.
 *
 * Two open-addressing tables, sized once from the total cap: the addresses
 * (open count and rate bucket; rebuilt without the idle ones when half
 * full) and the connections let in (wsi -> address; linear probing with
 * backward-shift deletion). lws gives WSI_DESTROY for every wsi it frees,
 * whatever protocol it ended on, so no connection's place is lost.
 */
#include "gate.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define FD_RESERVE 64 /* descriptors kept for SQLite, slides, Janus and the log */
#define FD_GUARD   16 /* fewer free than this: stop accepting for a while */
#define PAUSE_US   (200 * LWS_US_PER_MS)
#define EXEMPT_MAX 8

struct addr {
    unsigned char key[16]; /* IPv4 as ::ffff:a.b.c.d, IPv6 cut to its /64 */
    bool used;
    unsigned conns;   /* open now */
    double tokens;    /* the new-connection bucket */
    long long now_ms; /* when it was last filled */
};

struct conn {
    const struct lws *wsi; /* NULL: free slot */
    unsigned char key[16];
};

struct gate {
    unsigned per_address, burst, limit;
    double rate;
    unsigned char exempt[EXEMPT_MAX][16];
    size_t nexempt;
    int fd_max;                 /* RLIMIT_NOFILE when made */
    struct addr *addrs, *spare; /* owned; addr_cap each */
    size_t addr_cap, naddrs;    /* naddrs: used slots */
    struct conn *conns;         /* owned; conn_cap */
    size_t conn_cap;
    unsigned open;                 /* let in and not yet destroyed */
    bool pending;                  /* filtered, its wsi not made yet */
    unsigned char pending_key[16]; /* ... from this address */
    struct lws *listen;            /* borrowed: the listen socket, once seen */
    struct lws_context *ctx;       /* borrowed */
    lws_sorted_usec_list_t pause_sul;
    bool paused;
    struct gate_stats stats;
};

static size_t pow2_at_least(size_t n)
{
    size_t p = 64;
    while (p < n)
        p <<= 1;
    return p;
}

static size_t key_hash(const unsigned char *k)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ k[i]) * 1099511628211ULL;
    return (size_t)h;
}

static size_t ptr_hash(const struct lws *p)
{
    return (size_t)(((uintptr_t)p >> 4) * 11400714819323198485ULL);
}

/* The key of a peer: what the per-address limits count. */
static void key_of(const struct sockaddr_storage *ss, unsigned char *key)
{
    memset(key, 0, 16);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &in->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            memcpy(key, &in6->sin6_addr, 16);
        else
            memcpy(key, &in6->sin6_addr, 8); /* one /64: one subscriber */
    }
}

static int parse_exempt(struct gate *g, const char *list, char *err, size_t errlen)
{
    char buf[sizeof(((struct venue_config *)0)->conn_exempt)], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *a = strtok_r(buf, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        struct sockaddr_storage ss = {0};
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, a, &in->sin_addr) == 1)
            ss.ss_family = AF_INET;
        else if (inet_pton(AF_INET6, a, &in6->sin6_addr) == 1)
            ss.ss_family = AF_INET6;
        if (!ss.ss_family || g->nexempt == EXEMPT_MAX) {
            snprintf(err, errlen, "--conn-exempt: \"%s\" is not an IP address (at most %d)", a,
                     EXEMPT_MAX);
            return -1;
        }
        key_of(&ss, g->exempt[g->nexempt++]);
    }
    return 0;
}

struct gate *gate_new(const struct venue_config *cfg, char *err, size_t errlen)
{
    struct gate *g = calloc(1, sizeof(*g));
    struct rlimit rl;

    if (!g || parse_exempt(g, cfg->conn_exempt, err, errlen) < 0) {
        if (!g)
            snprintf(err, errlen, "out of memory");
        free(g);
        return NULL;
    }
    g->fd_max =
        getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1u << 30 ? (int)rl.rlim_cur : 1 << 20;
    g->limit = (unsigned)cfg->max_connections;
    if (g->fd_max - FD_RESERVE < (int)g->limit)
        g->limit = g->fd_max > 2 * FD_RESERVE ? (unsigned)(g->fd_max - FD_RESERVE)
                                              : (unsigned)g->fd_max / 2;
    g->per_address = (unsigned)cfg->conns_per_address;
    g->rate = cfg->conn_rate;
    g->burst = (unsigned)cfg->conn_burst;
    g->addr_cap = g->conn_cap = pow2_at_least(2 * (size_t)g->limit);
    g->addrs = calloc(g->addr_cap, sizeof(*g->addrs));
    g->spare = calloc(g->addr_cap, sizeof(*g->spare));
    g->conns = calloc(g->conn_cap, sizeof(*g->conns));
    if (!g->addrs || !g->spare || !g->conns) {
        snprintf(err, errlen, "out of memory for %u connections", g->limit);
        gate_free(g);
        return NULL;
    }
    g->stats.limit = g->limit;
    return g;
}

void gate_free(struct gate *g)
{
    if (!g)
        return;
    free(g->addrs);
    free(g->spare);
    free(g->conns);
    free(g);
}

/* The slot of key in t (cap a power of two): its own, or the free one
 * where it would go. */
static struct addr *addr_slot(struct addr *t, size_t cap, const unsigned char *key)
{
    size_t i = key_hash(key) & (cap - 1);
    while (t[i].used && memcmp(t[i].key, key, 16) != 0)
        i = (i + 1) & (cap - 1);
    return &t[i];
}

/* The bucket of a, filled for the time since it was last looked at. */
static void refill(const struct gate *g, struct addr *a, long long now_ms)
{
    a->tokens += (double)(now_ms - a->now_ms) * g->rate / 1000.0;
    if (a->tokens > g->burst)
        a->tokens = g->burst;
    a->now_ms = now_ms;
}

/* Half full: keep only the addresses that still mean something (open
 * connections, or a bucket not yet full again). */
static void addr_sweep(struct gate *g, long long now_ms)
{
    struct addr *t = g->spare;
    memset(t, 0, g->addr_cap * sizeof(*t));
    g->naddrs = 0;
    for (size_t i = 0; i < g->addr_cap; i++) {
        struct addr *a = &g->addrs[i];
        if (!a->used)
            continue;
        refill(g, a, now_ms);
        if (a->conns == 0 && a->tokens >= g->burst)
            continue;
        *addr_slot(t, g->addr_cap, a->key) = *a;
        g->naddrs++;
    }
    g->spare = g->addrs;
    g->addrs = t;
}

/* The entry of key, made with a full bucket if new; NULL when the table
 * is full of addresses that all still count. */
static struct addr *addr_get(struct gate *g, const unsigned char *key, long long now_ms)
{
    struct addr *a = addr_slot(g->addrs, g->addr_cap, key);
    if (a->used)
        return a;
    if (2 * (g->naddrs + 1) > g->addr_cap) {
        addr_sweep(g, now_ms);
        a = addr_slot(g->addrs, g->addr_cap, key);
        if (2 * (g->naddrs + 1) > g->addr_cap)
            return NULL;
    }
    memcpy(a->key, key, 16);
    a->used = true;
    a->tokens = g->burst;
    a->now_ms = now_ms;
    g->naddrs++;
    return a;
}

static bool exempt(const struct gate *g, const unsigned char *key)
{
    for (size_t i = 0; i < g->nexempt; i++)
        if (memcmp(g->exempt[i], key, 16) == 0)
            return true;
    return false;
}

/* One connection from key fewer. */
static void release(struct gate *g, const unsigned char *key)
{
    struct addr *a = addr_slot(g->addrs, g->addr_cap, key);
    assert(g->open > 0);
    g->open--;
    if (a->used && a->conns > 0)
        a->conns--;
}

static void conn_put(struct gate *g, const struct lws *wsi, const unsigned char *key)
{
    size_t i = ptr_hash(wsi) & (g->conn_cap - 1);
    while (g->conns[i].wsi)
        i = (i + 1) & (g->conn_cap - 1);
    g->conns[i].wsi = wsi;
    memcpy(g->conns[i].key, key, 16);
}

/* Remove slot i, moving back the entries after it that would no longer be
 * found (linear probing's deletion without tombstones). */
static void conn_del(struct gate *g, size_t i)
{
    size_t mask = g->conn_cap - 1, j = i;
    g->conns[i].wsi = NULL;
    for (;;) {
        size_t k;
        j = (j + 1) & mask;
        if (!g->conns[j].wsi)
            return;
        k = ptr_hash(g->conns[j].wsi) & mask;
        /* j may move to i unless its home k lies cyclically in (i, j] */
        if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
            g->conns[i] = g->conns[j];
            g->conns[j].wsi = NULL;
            i = j;
        }
    }
}

static void resume(lws_sorted_usec_list_t *sul);

/* Accepting paused for PAUSE_US: the listen socket's POLLIN off. lws puts
 * it back itself whenever a connection closes (its own accept modulation),
 * which is right: that freed a descriptor. */
static void pause_accept(struct gate *g)
{
    if (!g->listen || g->paused)
        return;
    g->paused = true;
    lws_rx_flow_control(g->listen, 0);
    lws_sul_schedule(g->ctx, 0, &g->pause_sul, resume, PAUSE_US);
}

/* The lowest free descriptor (what accept would get), or -1: none. */
static int lowest_free_fd(void)
{
    int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
    if (fd >= 0)
        close(fd);
    return fd;
}

static void resume(lws_sorted_usec_list_t *sul)
{
    struct gate *g = lws_container_of(sul, struct gate, pause_sul);
    int fd = lowest_free_fd();
    if (fd < 0 || fd >= g->fd_max - FD_GUARD) {
        lws_sul_schedule(g->ctx, 0, &g->pause_sul, resume, PAUSE_US);
        return;
    }
    g->paused = false;
    lws_rx_flow_control(g->listen, 1);
}

/*
 * The refusal: what the client already sent is read (so that closing does
 * not reset the connection before our answer is read), a fixed 503 is
 * written without waiting, and our side is shut. Best effort: a client
 * that is not listening loses nothing it was owed.
 */
static void refuse(int fd, bool full)
{
    const char *why = full ? "the venue server is full" : "too many connections from your address";
    char scratch[4096], body[128], msg[512];
    int blen =
        snprintf(body, sizeof(body), "{\"error\":{\"code\":\"busy\",\"message\":\"%s\"}}\n", why);
    int len = snprintf(msg, sizeof(msg),
                       "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n"
                       "Content-Type: application/json\r\nContent-Length: %d\r\n"
                       "Connection: close\r\n\r\n%s",
                       blen, body);

    if (recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) < 0 && errno != EAGAIN)
        return;
    if (send(fd, msg, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
        shutdown(fd, SHUT_WR);
}

int gate_filter(struct gate *g, struct lws *listen, const struct lws_filter_network_conn_args *a,
                long long now_ms)
{
    unsigned char key[16];
    struct addr *ad = NULL;
    bool free_pass;

    g->listen = listen;
    g->ctx = lws_get_context(listen);
    if (g->pending) { /* the last one let in never got its wsi */
        g->pending = false;
        release(g, g->pending_key);
    }
    key_of(&a->cli_addr, key);
    free_pass = exempt(g, key);
    if (g->open >= g->limit || a->accept_fd >= g->fd_max - FD_GUARD) {
        g->stats.refused_full++;
        refuse(a->accept_fd, true);
        /* At the cap an accept and a close drain the backlog, the healthy
         * client's turn included; only with descriptors running out would
         * the next accept fail and lws spin on it. */
        if (a->accept_fd >= g->fd_max - FD_GUARD)
            pause_accept(g);
        return -1;
    }
    if (!free_pass) {
        ad = addr_get(g, key, now_ms);
        if (!ad) {
            g->stats.refused_full++;
            refuse(a->accept_fd, true);
            return -1;
        }
        refill(g, ad, now_ms);
        if (ad->conns >= g->per_address || ad->tokens < 1.0) {
            if (ad->conns >= g->per_address)
                g->stats.refused_address++;
            else
                g->stats.refused_rate++;
            refuse(a->accept_fd, false);
            return -1;
        }
        ad->tokens -= 1.0;
        ad->conns++;
    }
    g->open++;
    g->pending = true;
    memcpy(g->pending_key, key, 16);
    return 0;
}

void gate_created(struct gate *g, struct lws *wsi)
{
    if (!g->pending)
        return; /* not one that came through the listen socket */
    g->pending = false;
    conn_put(g, wsi, g->pending_key);
}

void gate_destroyed(struct gate *g, struct lws *wsi)
{
    size_t i = ptr_hash(wsi) & (g->conn_cap - 1);
    while (g->conns[i].wsi && g->conns[i].wsi != wsi)
        i = (i + 1) & (g->conn_cap - 1);
    if (!g->conns[i].wsi)
        return; /* a client, an h2 stream, the listen socket */
    release(g, g->conns[i].key);
    conn_del(g, i);
}

struct gate_stats gate_stats(const struct gate *g)
{
    struct gate_stats s = g->stats;
    s.open = g->open;
    return s;
}
