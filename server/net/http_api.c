/*
 * http_api.c - the HTTP routes on the venue's port: health, metrics, the
 * venue and its scenes, the scenes' assets, and the admin API (whose
 * answers admin_api.c decides). Static files of the web client are served
 * by a libwebsockets file mount (see main.c).
 *
 * Per connection: a struct http_req (lws's per-session data, zeroed by lws,
 * reused across keep-alive requests) holding what the request said -
 * method, path, query, the admin check, the body as it arrives - and the
 * reply body until it is written, in pieces, in HTTP_WRITEABLE.
 *
 * A request with a body is answered at HTTP_BODY_COMPLETION: by then lws
 * has dropped the headers, so everything needed is copied first. A slide
 * deck (POST /api/sessions/{id}/slides) is the one body not held in
 * memory: once its sender is known to be allowed, it goes to a temporary
 * file as it arrives (slides.c), at most SLIDES_UPLOADS_MAX at once. It is
 * also the one request answered later: its pages are counted by a child
 * process (up to SLIDES_CHECK_MS), and the connection waits for the
 * verdict while the loop goes on (see "Slide decks" below). A body
 * the route does not take, or one over the route's limit, is read and
 * thrown away (so that the client can read the answer) unless it is
 * declared larger than DISCARD_MAX: then the answer goes at once and the
 * connection is closed after it.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ingest.h"
#include "programme_api.h"
#include "report.h"
#include "server.h"
#include "slides.h"
#include "user_csv.h"

#define HTTP_CHUNK    16384
#define WHOLE_MAX     65536 /* an answer written with its headers at once (see respond) */
#define ARGS_MAX      8     /* query arguments looked at */
#define ARG_MAX       512   /* bytes of one, "name=value" */
#define DISCARD_MAX   ((size_t)8 * 1024 * 1024) /* an unwanted body we still read */
#define UPLOAD_IDLE_S 30                   /* a deck's sender may pause this long between pieces */
#define COUNT_POLL_US (10 * LWS_US_PER_MS) /* how often a slide count's child is looked at */
#define REAP_POLL_US  (2 * LWS_US_PER_MS)  /* and a killed one, until it is reaped */
#define COUNT_WAIT_S  5 /* a connection waits this long for its count, whatever happens */
/* The Cache-Control of a deck asked for by its versioned URL (?v=): that
 * URL never shows anything else. */
#define DECK_IMMUTABLE "public, max-age=31536000, immutable"

struct http_req {
    struct proto_buf body; /* the reply; owned */
    size_t sent;
    struct proto_buf in; /* the request body received so far; owned */
    enum http_method method;
    char path[512];               /* decoded, without the query */
    char args[ARGS_MAX][ARG_MAX]; /* decoded "name=value" */
    size_t nargs;
    bool args_bad;        /* an argument did not fit: answer 400 */
    bool admin;           /* path under /api/admin */
    unsigned auth_status; /* admin: 0 ok, else the status in auth_reply */
    struct admin_reply auth_reply;
    struct reg_user caller; /* admin: who asks */
    bool awaiting_body;     /* answer at BODY_COMPLETION */
    size_t in_max;          /* body bytes the route takes; 0: discard */
    bool in_over;           /* the body went over in_max: answer 413 */
    bool close_after;       /* hang up once the reply is out */
    const char *allow;      /* Allow header of a 405 (static) */
    bool challenge;         /* WWW-Authenticate on a 401 */
    bool retry_after;       /* Retry-After: 1 on a 429 or 503 */
    bool ingest;            /* path is the NGSI-LD notification endpoint */
    unsigned ingest_status; /* ingest: 0 go on, else the status (body written) */
    char ctype[128];        /* ingest: Content-Type, "" when none */
    char link[1024];        /* ingest: Link, "" when none */
    bool slides;            /* POST /api/sessions/{id}/slides */
    unsigned slides_status; /* slides: 0 go on, else the status (body written) */
    struct slides_job *job; /* slides: its place in srv->slides_jobs; borrowed */
    unsigned late_reply;    /* a counted deck's or an import's answer (body written), to send */
    bool importing;         /* an import's answer is awaited (srv->import) */
    struct lws *hold_wsi;   /* a write waiting for the database's lock (hold_retry); NULL */
    lws_sorted_usec_list_t hold_sul;
    struct proto_buf hold_in; /* its body; owned */
    long long hold_ms;        /* since when it waits */
    struct reg_user uploader; /* slides: who sends it */
    size_t head_len;          /* HEAD of a file: its size, the Content-Length GET would send */
    long long deadline_ms;    /* --request-timeout's end for this request; 0: none running */
};

/* The answer's last byte is written: the transaction is over, or the
 * connection goes once the reply has had a moment to leave. */
static int reply_done(struct lws *wsi, const struct http_req *req)
{
    if (req->close_after) {
        /* The client is still sending a body we will not read: give the
         * reply a moment to leave, then hang up. */
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 1);
        return 0;
    }
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/*
 * The headers of req's answer, and over HTTP/1 its body too when it fits
 * WHOLE_MAX: in one write, the transaction over before this callback
 * returns. lws 4.1 parses a pipelined next request into these headers
 * while a body waits for WRITEABLE (and flow control would stop that
 * WRITEABLE as well): only a larger body, or HTTP/2's, goes there.
 */
static int respond(struct lws *wsi, struct http_req *req, unsigned status, const char *ctype,
                   const char *etag, const char *cache)
{
    static const char challenge[] = "Bearer realm=\"venued admin\"";
    /* Static: one service thread, and lws_write copies what it cannot send. */
    static unsigned char buf[LWS_PRE + 1024 + WHOLE_MAX];
    unsigned char *start = &buf[LWS_PRE], *p = start, *end = &buf[sizeof(buf) - 1];
    bool whole;
    size_t len = status == HTTP_STATUS_NOT_MODIFIED ? 0
                 : req->head_len                    ? req->head_len
                                                    : req->body.len;

    req->sent = 0;
    if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end))
        return -1;
    if (etag && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ETAG, (unsigned char *)etag,
                                             (int)strlen(etag), &p, end))
        return -1;
    if (cache && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                              (unsigned char *)cache, (int)strlen(cache), &p, end))
        return -1;
    if (status == HTTP_STATUS_METHOD_NOT_ALLOWED && req->allow &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ALLOW, (unsigned char *)req->allow,
                                     (int)strlen(req->allow), &p, end))
        return -1;
    if (status == HTTP_STATUS_UNAUTHORIZED && req->challenge &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE,
                                     (unsigned char *)challenge, (int)strlen(challenge), &p, end))
        return -1;
    if (req->retry_after && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_RETRY_AFTER,
                                                         (unsigned char *)"1", 1, &p, end))
        return -1;
    if (req->close_after && lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                                         (unsigned char *)"close", 5, &p, end))
        return -1;
    if (lws_finalize_http_header(wsi, &p, end))
        return -1;
    /* HEAD: the headers GET would send, Content-Length included, and no
     * body. */
    if (req->method == HTTP_HEAD)
        len = 0;
    whole = len > 0 && len <= WHOLE_MAX && lws_get_network_wsi(wsi) == wsi;
    if (whole) {
        memcpy(p, req->body.data, len);
        p += len;
        req->sent = len;
    }
    if (lws_write(wsi, start, (size_t)(p - start),
                  whole ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP_HEADERS) != (int)(p - start))
        return -1;
    if (whole)
        return reply_done(wsi, req);
    if (len == 0) {
        if (req->close_after)
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    lws_callback_on_writable(wsi);
    return 0;
}

/* A JSON error, every string escaped. */
static int respond_error(struct lws *wsi, struct http_req *req, unsigned status, const char *code,
                         const char *message)
{
    if (admin_api_error(&req->body, code, message, NULL, 0) < 0)
        return -1;
    return respond(wsi, req, status, "application/json", NULL, "no-store");
}

static int write_body(struct lws *wsi, struct http_req *req)
{
    unsigned char buf[LWS_PRE + HTTP_CHUNK];
    size_t n = req->body.len - req->sent;
    bool last = n <= HTTP_CHUNK;
    if (!last)
        n = HTTP_CHUNK;
    memcpy(buf + LWS_PRE, req->body.data + req->sent, n);
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    req->sent += n;
    if (last)
        return reply_done(wsi, req);
    lws_callback_on_writable(wsi);
    return 0;
}

static int serve_scene(struct lws *wsi, struct http_req *req, struct server *srv, const char *id)
{
    const struct scene *sc = scene_set_find(&srv->scenes, id);
    char inm[128];

    if (!sc)
        return respond_error(wsi, req, HTTP_STATUS_NOT_FOUND, "not_found", "no such room");
    if (lws_hdr_copy(wsi, inm, sizeof(inm), WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
        strcmp(inm, sc->etag) == 0)
        return respond(wsi, req, HTTP_STATUS_NOT_MODIFIED, "application/json", sc->etag,
                       "no-cache");
    proto_buf_reset(&req->body);
    if (proto_buf_append(&req->body, sc->json, sc->json_len) < 0)
        return -1;
    return respond(wsi, req, HTTP_STATUS_OK, "application/json", sc->etag, "no-cache");
}

static const char *file_type(const char *path)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".webp", "image/webp"},
        {".ico", "image/x-icon"},
        {".glb", "model/gltf-binary"},
        {".gltf", "model/gltf+json"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return NULL;
}

/*
 * A file under root (a real path), after resolving every link: nothing
 * outside the folder is ever served, whatever the path says, and only the
 * types above. Served by our callback rather than an lws file mount: in
 * lws 4.1 a file mount answers the next request on a kept-alive connection
 * with headers and no body.
 */
/* The real path of rel under root into real, and its type; NULL when it is
 * not a servable file there. */
static const char *resolve(const char *root, const char *rel, char *real)
{
    char path[PATH_MAX];
    size_t dl = strlen(root);
    struct stat st;
    const char *type = file_type(rel);

    if (!type || !root[0] || strchr(rel, '\\') || strstr(rel, "..") ||
        snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path) ||
        !realpath(path, real) || strncmp(real, root, dl) != 0 || real[dl] != '/' ||
        stat(real, &st) < 0 || !S_ISREG(st.st_mode))
        return NULL;
    return type;
}

static int serve_file(struct lws *wsi, struct http_req *req, const char *root, const char *rel)
{
    char real[PATH_MAX];
    const char *type = resolve(root, rel, real);
    int n;

    if (!type)
        return respond_error(wsi, req, HTTP_STATUS_NOT_FOUND, "not_found", "no such file");
    if (req->method == HTTP_HEAD) {
        struct stat st;
        proto_buf_reset(&req->body);
        req->head_len = stat(real, &st) == 0 ? (size_t)st.st_size : 0;
        return respond(wsi, req, HTTP_STATUS_OK, type, NULL, "no-cache");
    }
    n = lws_serve_http_file(wsi, real, type, NULL, 0);
    if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi)))
        return -1;
    return 0;
}

/* Where a static path is: the assets folder or the web client's, with /
 * for index.html, /admin for the organisers' page and /show for the
 * projector view. Sets *rel. */
static const char *static_root(const struct server *srv, const char *uri, const char **rel)
{
    if (strncmp(uri, "/assets/", 8) == 0) {
        *rel = uri + 8;
        return srv->assets_dir;
    }
    if (strcmp(uri, "/") == 0)
        *rel = "index.html";
    else if (strcmp(uri, "/admin") == 0 || strcmp(uri, "/admin/") == 0)
        *rel = "admin.html";
    else if (strcmp(uri, "/show") == 0 || strcmp(uri, "/show/") == 0)
        *rel = "show.html";
    else
        *rel = uri + 1;
    return srv->web_dir;
}

static bool is_static(const char *uri)
{
    return strcmp(uri, "/healthz") != 0 && strcmp(uri, "/metrics") != 0 &&
           strncmp(uri, "/api/", 5) != 0;
}

/* The public GET routes. */
static bool public_route(const char *path)
{
    char id[PROG_ID_MAX];
    return strcmp(path, "/api/venue") == 0 || strncmp(path, "/api/scenes/", 12) == 0 ||
           strcmp(path, "/api/twins") == 0 || strncmp(path, "/api/twins/", 11) == 0 ||
           strcmp(path, "/api/programme") == 0 || programme_api_slides_path(path, id) ||
           strcmp(path, "/api/me") == 0 ||
           strncmp(path, "/api/", 5) != 0; /* the rest of /api/ is the admins' or nothing */
}

/* The query argument name=..., or NULL. */
static const char *arg_of(const struct http_req *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->nargs; i++)
        if (strncmp(req->args[i], name, n) == 0 && req->args[i][n] == '=')
            return req->args[i] + n + 1;
    return NULL;
}

/* GET /api/programme: the list, filtered by the query. */
static int serve_programme(struct lws *wsi, struct http_req *req, struct server *srv)
{
    const char *args[ARGS_MAX];
    struct admin_reply rep;
    if (req->args_bad)
        return respond_error(wsi, req, HTTP_STATUS_BAD_REQUEST, "bad_request",
                             "query: an argument is too long, or too many");
    for (size_t i = 0; i < req->nargs; i++)
        args[i] = req->args[i];
    programme_api_list(&srv->admin, args, req->nargs, false, &req->body, &rep);
    return respond(wsi, req, rep.status, "application/json", NULL, "no-store");
}

/*
 * GET /api/sessions/{id}/slides: the current deck, served by lws from the
 * file in pieces as the connection takes them (never whole in memory,
 * never blocking the loop). Asked for by its versioned URL (?v= of the
 * current version) it may be cached for good; otherwise it is revalidated.
 */
static int serve_slides(struct lws *wsi, struct http_req *req, struct server *srv, const char *id)
{
    unsigned char hdr[256], *p = hdr;
    char path[PATH_MAX], want[16];
    const char *v = arg_of(req, "v"), *cache;
    int version, rc = programme_api_slides_file(&srv->admin, id, path, sizeof(path), &version);

    if (rc <= 0)
        return respond_error(wsi, req, HTTP_STATUS_NOT_FOUND, "not_found",
                             "this session has no slides yet");
    snprintf(want, sizeof(want), "%d", version);
    cache = v && strcmp(v, want) == 0 ? DECK_IMMUTABLE : "no-cache";
    /* Formatted by lws for this connection's HTTP version; lws adds no
     * Cache-Control of its own when these headers carry one. */
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, (unsigned char *)cache,
                                     (int)strlen(cache), &p, hdr + sizeof(hdr)))
        return -1;
    rc = lws_serve_http_file(wsi, path, "application/pdf", (const char *)hdr, (int)(p - hdr));
    if (rc < 0 || (rc > 0 && lws_http_transaction_completed(wsi)))
        return -1;
    return 0;
}

#define WHOAMI_RATE 10 /* GET /api/me look-ups a second, for the whole server */

/*
 * GET /api/me: who a join link's token stands for (admin_api_whoami). One
 * bucket for every caller, WHOAMI_RATE a second, so that it is no faster a
 * way to guess tokens than the WebSocket's hello; 429 beyond. The header's
 * copy is wiped once read.
 */
static int serve_whoami(struct lws *wsi, struct http_req *req, struct server *srv)
{
    char auth[256];
    struct admin_reply rep;
    long long now = clock_mono_ms();
    int n;

    srv->whoami_tokens += (double)(now - srv->whoami_ms) * WHOAMI_RATE / 1000.0;
    if (srv->whoami_tokens > WHOAMI_RATE)
        srv->whoami_tokens = WHOAMI_RATE;
    srv->whoami_ms = now;
    if (srv->whoami_tokens < 1.0)
        return respond_error(wsi, req, 429, "rate_limited",
                             "too many look-ups just now; try again in a second");
    srv->whoami_tokens -= 1.0;
    n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
    admin_api_whoami(&srv->admin, n > 0 ? auth : NULL, clock_wall_ms(), &req->body, &rep);
    memset(auth, 0, sizeof(auth));
    req->challenge = rep.challenge;
    return respond(wsi, req, rep.status, "application/json", NULL, "no-store");
}

static int route_public(struct lws *wsi, struct http_req *req, struct server *srv)
{
    const char *uri = req->path;
    char id[PROG_ID_MAX];
    int rc;

    if (!public_route(uri))
        return respond_error(wsi, req, HTTP_STATUS_NOT_FOUND, "not_found", "no such resource");
    if (is_static(uri) && req->method != HTTP_GET && req->method != HTTP_HEAD) {
        const char *rel, *root = static_root(srv, uri, &rel);
        char real[PATH_MAX];
        if (!resolve(root, rel, real))
            return respond_error(wsi, req, HTTP_STATUS_NOT_FOUND, "not_found", "no such resource");
    }
    if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
        bool deck = programme_api_slides_path(uri, id);
        req->allow = deck ? "GET, HEAD, POST" : "GET, HEAD";
        return respond_error(wsi, req, HTTP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
                             deck ? "this path takes GET, HEAD and POST only"
                                  : "this path takes GET and HEAD only");
    }
    proto_buf_reset(&req->body);
    if (strcmp(uri, "/api/programme") == 0)
        return serve_programme(wsi, req, srv);
    if (strcmp(uri, "/api/me") == 0)
        return serve_whoami(wsi, req, srv);
    if (programme_api_slides_path(uri, id))
        return serve_slides(wsi, req, srv, id);
    if (strcmp(uri, "/healthz") == 0) {
        /* Voice is optional: down is said, and the venue stays healthy. The
         * reason is the voice client's own cleaned text (no quotes). */
        const struct voice_status *vs = srv->voice;
        const struct store_health *sh = srv->store ? store_health(srv->store) : NULL;
        const struct cluster_status *cs = srv->cluster;
        rc = proto_buf_printf(&req->body, "{\"ok\":true");
        if (rc >= 0 && vs)
            rc = proto_buf_printf(&req->body,
                                  ",\"voice\":\"%s\",\"voice_state\":\"%s\","
                                  "\"voice_reason\":\"%s\"",
                                  vs->up ? "up" : "down", vs->state, vs->reason);
        /* A full disk too: people are still let in and served, so the
         * venue is up; what it can no longer keep is said (the reason is
         * the store's cleaned text). */
        if (rc >= 0 && sh && sh->failing)
            rc = proto_buf_printf(&req->body,
                                  ",\"storage\":\"failing\",\"storage_reason\":\"%s\","
                                  "\"storage_failing_since\":%lld",
                                  sh->reason, sh->since);
        /* A node apart from its cluster still serves its own people. */
        if (rc >= 0 && cs)
            rc = proto_buf_printf(&req->body,
                                  ",\"node\":\"%s\",\"redis\":\"%s\",\"joined\":%s,"
                                  "\"nodes\":%u,\"cluster_reason\":\"%s\"",
                                  cs->node, cs->redis_up ? "up" : "down",
                                  cs->joined ? "true" : "false", cs->nodes, cs->reason);
        if (rc >= 0)
            rc = proto_buf_printf(&req->body, "}");
        return rc < 0 ? -1
                      : respond(wsi, req, HTTP_STATUS_OK, "application/json", NULL, "no-store");
    }
    if (strcmp(uri, "/metrics") == 0) {
        rc = report_metrics(srv->venue, &req->body);
        if (rc >= 0)
            rc = proto_buf_printf(
                &req->body,
                "# HELP venue_voice_up 1 when the Janus session, handles and voice rooms are up\n"
                "# TYPE venue_voice_up gauge\nvenue_voice_up %d\n"
                "# HELP venue_voice_reconnects_total Janus sessions made again after one was "
                "lost\n"
                "# TYPE venue_voice_reconnects_total counter\nvenue_voice_reconnects_total %llu\n",
                srv->voice && srv->voice->up ? 1 : 0, srv->voice ? srv->voice->reconnects : 0ULL);
        if (rc >= 0 && srv->cluster)
            rc = proto_buf_printf(
                &req->body,
                "# HELP venue_redis_up 1 while the link to the cluster's Redis is up\n"
                "# TYPE venue_redis_up gauge\nvenue_redis_up %d\n"
                "# HELP venue_redis_reconnects_total Times the link to Redis came back\n"
                "# TYPE venue_redis_reconnects_total counter\nvenue_redis_reconnects_total %llu\n"
                "# HELP venue_cluster_joined 1 while this node holds its key in the cluster\n"
                "# TYPE venue_cluster_joined gauge\nvenue_cluster_joined %d\n"
                "# HELP venue_cluster_nodes Live nodes this node saw at its last beat, itself "
                "included\n# TYPE venue_cluster_nodes gauge\nvenue_cluster_nodes %u\n",
                srv->cluster->redis_up ? 1 : 0, srv->cluster->reconnects,
                srv->cluster->joined ? 1 : 0, srv->cluster->nodes);
        if (rc >= 0 && srv->cluster)
            rc = proto_buf_printf(
                &req->body,
                "# HELP venue_mesh_in_total Documents from other nodes applied\n"
                "# TYPE venue_mesh_in_total counter\nvenue_mesh_in_total %llu\n"
                "# HELP venue_mesh_bad_total Messages on the venue's channel that were not a "
                "node's document\n# TYPE venue_mesh_bad_total counter\nvenue_mesh_bad_total %llu\n"
                "# HELP venue_mesh_out_total Documents this node published, one a tick at most\n"
                "# TYPE venue_mesh_out_total counter\nvenue_mesh_out_total %llu\n"
                "# HELP venue_mesh_lost_total Documents that could not be published (Redis down "
                "or behind); the node resyncs\n# TYPE venue_mesh_lost_total counter\n"
                "venue_mesh_lost_total %llu\n"
                "# HELP venue_mesh_dropped_total Events over a tick's bound; the node's whole "
                "state went instead\n# TYPE venue_mesh_dropped_total counter\n"
                "venue_mesh_dropped_total %llu\n",
                srv->cluster->mesh_in, srv->cluster->mesh_bad, srv->cluster->mesh_out,
                srv->cluster->mesh_lost, venue_mesh_dropped(srv->venue));
        if (rc >= 0) {
            struct voice_proxy_stats vps = voice_proxy_stats(srv->voice_proxy);
            rc = proto_buf_printf(
                &req->body,
                "# HELP venue_voice_proxy_connections Browser connections on /voice piped to "
                "Janus\n"
                "# TYPE venue_voice_proxy_connections gauge\nvenue_voice_proxy_connections %u\n"
                "# HELP venue_voice_proxy_refused_total Browser connections on /voice that the "
                "proxy closed itself: busy, no voice, a message refused or over a bound\n"
                "# TYPE venue_voice_proxy_refused_total counter\n"
                "venue_voice_proxy_refused_total %llu\n",
                vps.connections, vps.refused);
        }
        if (rc >= 0) {
            struct gate_stats gs = gate_stats(srv->gate);
            rc = proto_buf_printf(
                &req->body,
                "# HELP venue_http_connections TCP connections let in and open (HTTP and "
                "WebSocket)\n# TYPE venue_http_connections gauge\nvenue_http_connections %u\n"
                "# HELP venue_http_connections_limit The total cap in force (--max-connections, "
                "lowered to the fd limit)\n# TYPE venue_http_connections_limit gauge\n"
                "venue_http_connections_limit %u\n"
                "# HELP venue_http_refused_total Connections refused at accept with a 503\n"
                "# TYPE venue_http_refused_total counter\n"
                "venue_http_refused_total{reason=\"address\"} %llu\n"
                "venue_http_refused_total{reason=\"rate\"} %llu\n"
                "venue_http_refused_total{reason=\"full\"} %llu\n",
                gs.open, gs.limit, gs.refused_address, gs.refused_rate, gs.refused_full);
        }
        if (rc >= 0 && srv->store) {
            const struct store_health *sh = store_health(srv->store);
            rc = proto_buf_printf(
                &req->body,
                "# HELP venue_storage_failing 1 while writes to the database fail (a full disk, "
                "an I/O error, read-only)\n# TYPE venue_storage_failing gauge\n"
                "venue_storage_failing %d\n"
                "# HELP venue_storage_write_failures_total Database writes that failed for the "
                "disk's sake\n# TYPE venue_storage_write_failures_total counter\n"
                "venue_storage_write_failures_total %llu\n",
                sh->failing ? 1 : 0, sh->failures);
        }
        return rc < 0 ? -1
                      : respond(wsi, req, HTTP_STATUS_OK, "text/plain; version=0.0.4", NULL,
                                "no-store");
    }
    if (strcmp(uri, "/api/venue") == 0) {
        rc = report_rooms(srv->venue, srv->cluster ? srv->cluster->nodes : 0, &req->body);
        return rc < 0 ? -1
                      : respond(wsi, req, HTTP_STATUS_OK, "application/json", NULL, "no-store");
    }
    if (strcmp(uri, "/api/twins") == 0) {
        rc = report_twins(srv->venue, &req->body);
        return rc < 0 ? -1
                      : respond(wsi, req, HTTP_STATUS_OK, "application/json", NULL, "no-store");
    }
    if (strncmp(uri, "/api/twins/", 11) == 0) {
        rc = report_twin(srv->venue, srv->twins, uri + 11, &req->body);
        if (rc == 0)
            return respond_error(wsi, req, HTTP_STATUS_NOT_FOUND, "not_found",
                                 "no twin entity with this id");
        return rc < 0 ? -1
                      : respond(wsi, req, HTTP_STATUS_OK, "application/json", NULL, "no-store");
    }
    if (strncmp(uri, "/api/scenes/", 12) == 0)
        return serve_scene(wsi, req, srv, uri + 12);
    {
        const char *rel, *root = static_root(srv, uri, &rel);
        return serve_file(wsi, req, root, rel);
    }
}

/* ---- The admin API's import ---------------------------------------------
 *
 * admin_api_handle begins it; import_step, an lws_sul timer, writes for
 * IMPORT_STEP_S at a time with IMPORT_GAP_US between steps, in which the
 * loop serves everyone else (a 50,000-row list takes a few seconds, none
 * of them the venue's). The answer waits in req->body for HTTP_WRITEABLE.
 * A connection that goes first (CLOSED_HTTP) cancels it: nothing written
 * is kept. Once the job is over it is freed, and the same timer tidies
 * what it left, yielding to a next import that comes meanwhile.
 */
#define IMPORT_STEP_S (USER_CSV_STEP_MS / 1000.0)
#define IMPORT_GAP_US (2 * LWS_US_PER_MS)

static void import_step(lws_sorted_usec_list_t *sul)
{
    struct import_run *run = lws_container_of(sul, struct import_run, sul);
    struct admin_reply rep;

    if (!run->job) {
        run->tidying = admin_import_tidy(&run->srv->admin) > 0;
        if (!run->tidying)
            return;
    } else {
        int more = admin_import_step(&run->srv->admin, run->job, IMPORT_STEP_S);
        if (run->wsi && admin_import_answer(run->job, &run->req->body, &rep)) {
            run->req->late_reply = rep.status;
            run->req->importing = false;
            lws_callback_on_writable(run->wsi);
            run->wsi = NULL;
            run->req = NULL;
        }
        if (!more) {
            assert(!run->wsi); /* an import over has answered, or nobody waits */
            admin_import_free(run->job);
            run->job = NULL;
            run->tidying = true;
        }
    }
    lws_sul_schedule(run->srv->ctx, 0, &run->sul, import_step, IMPORT_GAP_US);
}

static void import_start(struct server *srv, struct lws *wsi, struct http_req *req,
                         struct admin_import *job)
{
    struct import_run *run = &srv->import;
    assert(!run->job);
    run->srv = srv;
    run->job = job;
    run->wsi = wsi;
    run->req = req;
    req->importing = true;
    if (!run->tidying) /* else the timer is set, and takes the job first */
        lws_sul_schedule(srv->ctx, 0, &run->sul, import_step, 1);
}

/* req's connection goes, or takes another request: nobody waits now. */
static void import_gone(struct server *srv, struct http_req *req)
{
    struct import_run *run = &srv->import;
    if (!req->importing)
        return;
    req->importing = false;
    assert(run->job && run->req == req);
    admin_import_cancel(run->job);
    run->wsi = NULL;
    run->req = NULL;
}

void http_api_import_stop(struct server *srv)
{
    struct import_run *run = &srv->import;
    if (!run->job && !run->tidying)
        return;
    lws_sul_cancel(&run->sul);
    if (run->job) {
        if (run->req)
            run->req->importing = false;
        run->wsi = NULL;
        run->req = NULL;
        admin_import_cancel(run->job);
        admin_import_step(&srv->admin, run->job, IMPORT_STEP_S);
        admin_import_free(run->job);
        run->job = NULL;
    }
    /* Tidy now, a bounded while; what is left the next start tidies. */
    for (int i = 0; i < 1000 && admin_import_tidy(&srv->admin) > 0; i++)
        ;
    run->tidying = false;
}

/*
 * A write to the admin API while another process holds the database's
 * write lock (a CLI import's step, an operator's sqlite3) waits, with
 * its body, and hold_retry looks again every HOLD_POLL_US: the loop never
 * waits on the lock itself (store_patient). After HOLD_WAIT_MS it is
 * answered 503 busy with nothing done.
 */
#define HOLD_POLL_US (2 * LWS_US_PER_MS)
#define HOLD_WAIT_MS 2000

/* A request body may carry names: free it leaving no copy behind. */
static void body_forget(struct proto_buf *b)
{
    if (b->data)
        memset(b->data, 0, b->cap);
    proto_buf_free(b);
}

/* The admin API's answer to req. late: not inside LWS_CALLBACK_HTTP, so
 * it goes at HTTP_WRITEABLE. */
static int admin_answer(struct lws *wsi, struct http_req *req, struct server *srv,
                        const struct proto_buf *in, bool late)
{
    const char *args[ARGS_MAX];
    struct admin_request rq = {
        .method = req->method,
        .path = req->path,
        .args = args,
        .nargs = req->nargs,
        .caller = &req->caller,
        .body = in->data,
        .body_len = in->len,
        .now_ms = clock_mono_ms(),
        .wall_ms = clock_wall_ms(),
    };
    struct admin_reply rep = {0};

    for (size_t i = 0; i < req->nargs; i++)
        args[i] = req->args[i];
    if (srv->import.job && req->method == HTTP_POST &&
        strcmp(req->path, "/api/admin/users/import") == 0) {
        rep.status = HTTP_STATUS_SERVICE_UNAVAILABLE;
        rep.retry_after = true;
        if (admin_api_error(&req->body, "busy",
                            "another import is being written; try again when it is done", NULL,
                            0) < 0)
            return -1;
    } else {
        admin_api_handle(&srv->admin, &rq, &req->body, &rep);
        if (rep.import) {
            import_start(srv, wsi, req, rep.import);
            return 0; /* the answer comes from import_step */
        }
    }
    req->allow = rep.allow;
    req->challenge = rep.challenge;
    req->retry_after = rep.retry_after;
    if (!late)
        return respond(wsi, req, rep.status, "application/json", NULL, "no-store");
    req->late_reply = rep.status;
    lws_callback_on_writable(wsi);
    return 0;
}

static void hold_retry(lws_sorted_usec_list_t *sul)
{
    struct http_req *req = lws_container_of(sul, struct http_req, hold_sul);
    struct server *srv = lws_context_user(lws_get_context(req->hold_wsi));
    struct proto_buf in = req->hold_in;
    bool held = registry_held(srv->admin.reg) == 1;

    if (held && clock_mono_ms() - req->hold_ms < HOLD_WAIT_MS) {
        lws_sul_schedule(srv->ctx, 0, &req->hold_sul, hold_retry, HOLD_POLL_US);
        return;
    }
    req->hold_in = (struct proto_buf){0};
    if (!held) {
        if (admin_answer(req->hold_wsi, req, srv, &in, true) < 0)
            lws_set_timeout(req->hold_wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    } else if (admin_api_error(&req->body, "busy",
                               "the database was held by another process for too long: nothing "
                               "was done; try again",
                               NULL, 0) == 0) {
        req->retry_after = true;
        req->late_reply = HTTP_STATUS_SERVICE_UNAVAILABLE;
        lws_callback_on_writable(req->hold_wsi);
    } else {
        lws_set_timeout(req->hold_wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    req->hold_wsi = NULL;
    body_forget(&in);
}

/* req's connection goes, or takes another request: a held write is
 * forgotten, not done. */
static void hold_gone(struct http_req *req)
{
    if (!req->hold_wsi)
        return;
    lws_sul_cancel(&req->hold_sul);
    req->hold_wsi = NULL;
    body_forget(&req->hold_in);
}

static int route_admin(struct lws *wsi, struct http_req *req, struct server *srv,
                       struct proto_buf *in)
{
    char msg[96];

    if (req->auth_status) {
        /* The error body was written when the headers were read. */
        req->challenge = req->auth_reply.challenge;
        return respond(wsi, req, req->auth_status, "application/json", NULL, "no-store");
    }
    if (req->in_over) {
        snprintf(msg, sizeof(msg), "body: over the limit of %zu bytes", req->in_max);
        return respond_error(wsi, req, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "too_large", msg);
    }
    if (req->args_bad)
        return respond_error(wsi, req, HTTP_STATUS_BAD_REQUEST, "bad_request",
                             "query: an argument is too long");
    if (req->method != HTTP_GET && req->method != HTTP_HEAD && req->method != HTTP_OPTIONS &&
        registry_held(srv->admin.reg) == 1) {
        req->hold_wsi = wsi;
        req->hold_ms = clock_mono_ms();
        req->hold_in = *in; /* taken: dispatch frees what is left in in */
        *in = (struct proto_buf){0};
        lws_sul_schedule(srv->ctx, 0, &req->hold_sul, hold_retry, HOLD_POLL_US);
        return 0;
    }
    return admin_answer(wsi, req, srv, in, false);
}

static int route_ingest(struct lws *wsi, struct http_req *req, struct server *srv,
                        const struct proto_buf *in)
{
    unsigned status = req->ingest_status;
    if (!status && req->in_over)
        status = ingest_refuse(HTTP_STATUS_REQ_ENTITY_TOO_LARGE, &req->body);
    if (!status)
        status = ingest_handle(&srv->admin, req->ctype[0] ? req->ctype : NULL,
                               req->link[0] ? req->link : NULL, in->data, in->len, clock_mono_ms(),
                               &req->body);
    req->retry_after = status == 429;
    return respond(wsi, req, status, "application/json", NULL, "no-store");
}

/* The ingest's headers, read while they are there: the key first, so
 * nobody makes us hold a body before proving who they are. */
static void ingest_request(struct lws *wsi, struct http_req *req, struct server *srv)
{
    char auth[256];
    int n;
    if (req->method != HTTP_POST) {
        req->allow = "POST";
        req->ingest_status = ingest_refuse(HTTP_STATUS_METHOD_NOT_ALLOWED, &req->body);
        return;
    }
    n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
    req->ingest_status = ingest_auth(&srv->admin, n > 0 ? auth : NULL, &req->body);
    memset(auth, 0, sizeof(auth));
    if (req->ingest_status)
        return;
    req->in_max = (size_t)srv->cfg.ingest_max;
    if (lws_hdr_copy(wsi, req->ctype, sizeof(req->ctype), WSI_TOKEN_HTTP_CONTENT_TYPE) < 0)
        req->ctype[0] = '\0';
    if (lws_hdr_copy(wsi, req->link, sizeof(req->link), WSI_TOKEN_HTTP_LINK) < 0)
        req->link[0] = '\0';
}

/* ---- Slide decks --------------------------------------------------------
 *
 * An upload holds one of srv->slides_jobs from its headers until nothing is
 * left of it. Once its body is in and looks like a PDF, route_slides starts
 * the child that counts its pages (slides_count_start: a vfork and an
 * exec, the loop's only cost) and returns without an answer: the
 * connection waits, the rest of the venue goes on. job_poll, an lws_sul
 * timer every COUNT_POLL_US, reads the child's pipe without blocking; with
 * the verdict (or SLIDES_CHECK_MS gone: the child is killed) the deck is
 * committed or refused (programme_api_slides_done), the answer waits in
 * req->body for HTTP_WRITEABLE, and the child is reaped (waitpid WNOHANG,
 * from the same timer until it is gone). If the connection goes first
 * (CLOSED_HTTP), the child is killed, the temporary file removed, and the
 * timer goes on only to reap it; the place comes back after that.
 *
 * A timer rather than adopting the pipe into the event loop
 * (lws_adopt_descriptor_vhost, LWS_ADOPT_RAW_FILE_DESC): the deadline and
 * the reaping need a timer anyway (no SIGCHLD reaches the loop), and one
 * timer does all three; a second wsi per upload would have its own
 * lifetime to tie to the HTTP connection's and the child's, and a protocol
 * of its own. The price: the verdict is seen up to 10 ms late, and a count
 * costs the loop one read() per 10 ms while it runs (at most
 * SLIDES_UPLOADS_MAX of them).
 */

static void job_poll(lws_sorted_usec_list_t *sul);

/* A free place for the upload on wsi, or NULL: they are all taken. */
static struct slides_job *job_take(struct server *srv, struct lws *wsi, struct http_req *req)
{
    for (size_t i = 0; i < SLIDES_UPLOADS_MAX; i++) {
        struct slides_job *j = &srv->slides_jobs[i];
        if (j->used)
            continue;
        memset(j, 0, sizeof(*j));
        j->used = true;
        j->srv = srv;
        j->wsi = wsi;
        j->req = req;
        j->upload.fd = -1;
        j->count.fd = -1;
        srv->slides_uploads++;
        assert(srv->slides_uploads <= SLIDES_UPLOADS_MAX);
        return j;
    }
    return NULL;
}

/* A place nobody waits on any more: given back once its child is reaped,
 * else looked at again by the timer. */
static void job_settle(struct slides_job *j)
{
    assert(!j->wsi && !j->count.running && !j->upload.active);
    if (!slides_count_reap(&j->count)) {
        lws_sul_schedule(j->srv->ctx, 0, &j->sul, job_poll, REAP_POLL_US);
        return;
    }
    lws_sul_cancel(&j->sul);
    j->used = false;
    j->srv->slides_uploads--;
}

/* The upload of req is over, answered or not: its temporary file goes, a
 * count still running is killed, and the place is given back (now, or once
 * the child is reaped). Safe to call again. */
static void upload_end(struct http_req *req)
{
    struct slides_job *j = req->job;
    if (!j)
        return;
    req->job = NULL;
    j->wsi = NULL;
    j->req = NULL;
    slides_count_cancel(&j->count);
    slides_abort(&j->upload);
    job_settle(j);
}

/* The count's verdict for a connection that still waits: the deck
 * committed or refused, the answer in req->body for HTTP_WRITEABLE. */
static void job_answer(struct slides_job *j, int pages, const char *why)
{
    struct http_req *req = j->req;
    struct lws *wsi = j->wsi;
    struct admin_reply rep;

    programme_api_slides_done(&j->srv->admin, &j->upload, &req->uploader, pages, why,
                              clock_mono_ms(), clock_wall_ms(), &req->body, &rep);
    assert(rep.status); /* an answer, whatever it is */
    req->late_reply = rep.status;
    upload_end(req);
    lws_callback_on_writable(wsi);
}

static void job_poll(lws_sorted_usec_list_t *sul)
{
    struct slides_job *j = lws_container_of(sul, struct slides_job, sul);
    char why[SLIDES_VERDICT_MAX];
    int pages = -1, rc;

    if (!j->count.running) {
        job_settle(j); /* only reaping is left */
        return;
    }
    rc = slides_count_poll(&j->count, clock_mono_ms(), &pages, why, sizeof(why));
    if (rc == 0) {
        lws_sul_schedule(j->srv->ctx, 0, &j->sul, job_poll, COUNT_POLL_US);
        return;
    }
    assert(j->wsi); /* a connection that goes cancels its count */
    job_answer(j, rc > 0 ? pages : -1, why);
}

void http_api_slides_stop(struct server *srv)
{
    struct timespec ms = {0, 1000000};
    for (size_t i = 0; i < SLIDES_UPLOADS_MAX; i++) {
        struct slides_job *j = &srv->slides_jobs[i];
        if (!j->used)
            continue;
        slides_count_cancel(&j->count);
        slides_abort(&j->upload);
        for (int tries = 0; tries < 1000 && !slides_count_reap(&j->count); tries++)
            nanosleep(&ms, NULL);
        j->used = false;
    }
    srv->slides_uploads = 0;
}

static int route_slides(struct lws *wsi, struct http_req *req, struct server *srv)
{
    struct slides_job *j = req->job;
    struct admin_reply rep;
    char err[SLIDES_VERDICT_MAX];

    if (req->slides_status) {
        upload_end(req);
        req->challenge = req->auth_reply.challenge;
        req->retry_after = req->slides_status == HTTP_STATUS_SERVICE_UNAVAILABLE;
        return respond(wsi, req, req->slides_status, "application/json", NULL, "no-store");
    }
    if (req->in_over) {
        char msg[128];
        upload_end(req);
        snprintf(msg, sizeof(msg), "body: over the limit of %ld bytes (--slides-max)",
                 srv->cfg.slides_max);
        return respond_error(wsi, req, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "too_large", msg);
    }
    /* Not refused, not over the limit: the headers took a place. */
    assert(j && j->upload.active);
    if (programme_api_slides_check(&j->upload, &req->body, &rep)) {
        upload_end(req);
        return respond(wsi, req, rep.status, "application/json", NULL, "no-store");
    }
    if (slides_count_start(&j->count, j->upload.tmp, clock_mono_ms(), err, sizeof(err)) < 0) {
        fprintf(stderr, "venued: slides: %s\n", err);
        upload_end(req);
        return respond_error(wsi, req, HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal",
                             "the deck cannot be checked; see the server log");
    }
    /* No answer yet: job_poll gives it. lws dropped its own timeout with
     * the last byte of the body; this one is for the unforeseen. */
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, COUNT_WAIT_S);
    lws_sul_schedule(srv->ctx, 0, &j->sul, job_poll, COUNT_POLL_US);
    return 0;
}

/*
 * The headers of POST /api/sessions/{id}/slides: who sends it first, then
 * the declared size and the number of uploads at once, and only then a
 * temporary file for the body. A refusal is kept in slides_status (body
 * written) and answered once the body has been read (or at once, and the
 * connection closed, if it is large: see on_request).
 */
static void slides_request(struct lws *wsi, struct http_req *req, struct server *srv,
                           const char *id, unsigned long long clen)
{
    char auth[256], err[PATH_MAX + 128];
    int n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);

    req->slides_status =
        programme_api_slides_auth(&srv->admin, id, n > 0 ? auth : NULL, clock_wall_ms(),
                                  &req->uploader, &req->body, &req->auth_reply);
    memset(auth, 0, sizeof(auth));
    if (req->slides_status)
        return;
    req->in_max = (size_t)srv->cfg.slides_max;
    if (clen > req->in_max)
        return; /* 413, decided in on_request */
    req->job = job_take(srv, wsi, req);
    if (!req->job) {
        snprintf(err, sizeof(err),
                 "%d slide decks are being uploaded right now; try again in a moment",
                 SLIDES_UPLOADS_MAX);
        req->slides_status = HTTP_STATUS_SERVICE_UNAVAILABLE;
        req->in_max = 0;
        if (admin_api_error(&req->body, "busy", err, NULL, 0) < 0)
            req->slides_status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
        return;
    }
    if (slides_begin(&req->job->upload, srv->cfg.data_dir, id, req->in_max, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued: slides: %s\n", err);
        upload_end(req);
        req->slides_status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
        req->in_max = 0;
        if (admin_api_error(&req->body, "internal",
                            "the deck cannot be received; see the server log", NULL, 0) < 0)
            req->slides_status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
        return;
    }
    /* A sender that stops sending gives its place back. */
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, UPLOAD_IDLE_S);
}

/*
 * Answer the request described by req (headers read, body if any too).
 * Once the reply is complete lws rebinds the connection and frees req
 * (after HTTP_DROP_PROTOCOL): nothing may touch req after routing, so the
 * body is taken out of it first.
 */
static int dispatch(struct lws *wsi, struct http_req *req, struct server *srv)
{
    struct proto_buf in = req->in;
    int rc;

    req->in = (struct proto_buf){0};
    rc = req->admin    ? route_admin(wsi, req, srv, &in)
         : req->ingest ? route_ingest(wsi, req, srv, &in)
         : req->slides ? route_slides(wsi, req, srv)
                       : route_public(wsi, req, srv);
    body_forget(&in);
    return rc;
}

static enum http_method method_of(struct lws *wsi, char *path, size_t pathlen)
{
    static const struct {
        enum lws_token_indexes token;
        enum http_method method;
    } methods[] = {
        {WSI_TOKEN_GET_URI, HTTP_GET},       {WSI_TOKEN_POST_URI, HTTP_POST},
        {WSI_TOKEN_DELETE_URI, HTTP_DELETE}, {WSI_TOKEN_PUT_URI, HTTP_PUT},
        {WSI_TOKEN_PATCH_URI, HTTP_PATCH},   {WSI_TOKEN_OPTIONS_URI, HTTP_OPTIONS},
        {WSI_TOKEN_HEAD_URI, HTTP_HEAD},
    };
    path[0] = '\0';
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (lws_hdr_total_length(wsi, methods[i].token) > 0) {
            if (lws_hdr_copy(wsi, path, (int)pathlen, methods[i].token) < 0)
                path[0] = '\0'; /* too long: no route has such a path */
            return methods[i].method;
        }
    }
    return HTTP_METHOD_OTHER;
}

static void copy_args(struct lws *wsi, struct http_req *req)
{
    for (int i = 0; i < 64 && lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++) {
        if (req->nargs == ARGS_MAX || lws_hdr_copy_fragment(wsi, req->args[req->nargs], ARG_MAX,
                                                            WSI_TOKEN_HTTP_URI_ARGS, i) < 0) {
            req->args_bad = true;
            return;
        }
        req->nargs++;
    }
}

/* The request's Content-Length: 1 and *n set, 0 none, -1 malformed. */
static int content_length(struct lws *wsi, unsigned long long *n)
{
    char v[32], *end;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return 0;
    if (lws_hdr_copy(wsi, v, sizeof(v), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 || v[0] < '0' ||
        v[0] > '9')
        return -1;
    *n = strtoull(v, &end, 10);
    return *end ? -1 : 1;
}

/* LWS_CALLBACK_HTTP: the headers are in. Answer now, or wait for the body. */
static int on_request(struct lws *wsi, struct http_req *req, struct server *srv)
{
    unsigned long long clen = 0;
    int has_len;
    bool body_method, body_coming;
    char id[PROG_ID_MAX];

    upload_end(req);
    import_gone(srv, req);
    hold_gone(req);
    proto_buf_free(&req->in);
    {
        struct proto_buf keep = req->body; /* the reply buffer is reused */
        memset(req, 0, sizeof(*req));
        req->body = keep;
    }
    /* lws 4.1's per-connection timer cannot be cancelled (its
     * LWS_SET_TIMER_USEC_CANCEL fires at once): the deadline says whether
     * it is still meant. */
    req->deadline_ms = clock_mono_ms() + srv->cfg.request_timeout_s * 1000LL;
    lws_set_timer_usecs(wsi, (lws_usec_t)srv->cfg.request_timeout_s * LWS_US_PER_SEC);
    req->method = method_of(wsi, req->path, sizeof(req->path));
    copy_args(wsi, req);
    req->admin = admin_api_owns(req->path);
    has_len = content_length(wsi, &clen);
    /* lws expects a body after POST, PUT and PATCH whatever the headers
     * say, and after anything else that declares one; but of an explicit
     * Content-Length: 0 it tells only a POST's end (BODY_COMPLETION), so
     * the others are answered now. */
    body_method = req->method == HTTP_POST || req->method == HTTP_PUT || req->method == HTTP_PATCH;
    body_coming = has_len > 0 ? clen > 0 || req->method == HTTP_POST : body_method;

    if (req->admin) {
        char auth[256];
        int n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
        req->auth_status = admin_api_auth(&srv->admin, n > 0 ? auth : NULL, clock_wall_ms(),
                                          &req->caller, &req->body, &req->auth_reply);
        memset(auth, 0, sizeof(auth));
        /* Nobody gets to make us hold a body before proving who they are. */
        req->in_max = req->auth_status ? 0 : admin_api_body_max(req->method, req->path);
    }
    req->ingest = ingest_owns(req->path);
    if (req->ingest)
        ingest_request(wsi, req, srv);
    req->slides = req->method == HTTP_POST && programme_api_slides_path(req->path, id);
    if (req->slides && has_len > 0)
        slides_request(wsi, req, srv, id, clen);
    if (!body_coming)
        return dispatch(wsi, req, srv);

    if (has_len < 0 || (has_len == 0 && body_method)) {
        req->close_after = true;
        return respond_error(wsi, req,
                             has_len < 0 ? HTTP_STATUS_BAD_REQUEST : HTTP_STATUS_LENGTH_REQUIRED,
                             "bad_request", "a body needs a valid Content-Length");
    }
    if (req->slides && clen > DISCARD_MAX && (req->slides_status || clen > req->in_max)) {
        /* A large deck refused: say why (401, 403, 404, 503 or 413) now,
         * rather than read it all, and hang up. */
        req->close_after = true;
        req->in_over = !req->slides_status;
        return route_slides(wsi, req, srv);
    }
    if (clen > req->in_max && clen > DISCARD_MAX) {
        req->close_after = true;
        return respond_error(wsi, req, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "too_large",
                             "body: far over the limit");
    }
    if (req->in_max > 0 && clen > req->in_max)
        req->in_over = true;
    req->awaiting_body = true;
    return 0;
}

static void on_body(struct lws *wsi, struct http_req *req, const void *in, size_t len)
{
    if (!req->awaiting_body || req->in_over || req->in_max == 0)
        return; /* thrown away */
    if (req->slides) {
        if (!req->job || !req->job->upload.active)
            return;
        if (slides_write(&req->job->upload, in, len) < 0 && req->job->upload.over)
            req->in_over = true;
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, UPLOAD_IDLE_S);
        return;
    }
    if (req->in.len + len > req->in_max) {
        req->in_over = true;
        proto_buf_free(&req->in);
        return;
    }
    if (proto_buf_append(&req->in, in, len) < 0) {
        req->in_over = true; /* out of memory: answered as too large */
        proto_buf_free(&req->in);
    }
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct http_req *req = user;
    struct server *srv = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    /* protocols[0] hears of every connection: the front door's (gate.c). */
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: /* user: the accept's arguments */
        return gate_filter(srv->gate, wsi, user, clock_mono_ms());
    case LWS_CALLBACK_WSI_CREATE:
        gate_created(srv->gate, wsi);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        gate_destroyed(srv->gate, wsi);
        return 0;
    case LWS_CALLBACK_HTTP:
        return on_request(wsi, req, srv);
    case LWS_CALLBACK_TIMER:
        /* --request-timeout ran out (armed in on_request): a body sent a
         * byte at a time, an answer never read. lws keeps only an idle
         * deadline of its own. */
        return req && req->deadline_ms && clock_mono_ms() >= req->deadline_ms ? -1 : 0;
    case LWS_CALLBACK_HTTP_BODY:
        if (req)
            on_body(wsi, req, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (!req || !req->awaiting_body)
            return 0;
        req->awaiting_body = false;
        return dispatch(wsi, req, srv);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (req && req->late_reply) {
            /* An answer that waited: the headers now, the body next. */
            unsigned status = req->late_reply;
            req->late_reply = 0;
            return respond(wsi, req, status, "application/json", NULL, "no-store");
        }
        if (!req || req->sent >= req->body.len)
            break;
        return write_body(wsi, req);
    /* lws 4.1 turns a CONNECT into a raw socket of the vhost's first
     * protocol, this one, and would hold it open for good: venued is no
     * proxy, so it answers 405 at once and closes. */
    case LWS_CALLBACK_RAW_ADOPT:
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 5);
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_RAW_RX:
        return 0; /* what a proxy client sends next is not read */
    case LWS_CALLBACK_RAW_WRITEABLE: {
        static const char no[] = "HTTP/1.1 405 Method Not Allowed\r\n"
                                 "Allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n"
                                 "Content-Length: 0\r\nConnection: close\r\n\r\n";
        unsigned char buf[LWS_PRE + sizeof no];
        memcpy(buf + LWS_PRE, no, sizeof no - 1);
        lws_write(wsi, buf + LWS_PRE, sizeof no - 1, LWS_WRITE_RAW);
        return -1;
    }
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL: /* after each transaction: req is freed next */
    case LWS_CALLBACK_CLOSED_HTTP:
        if (req) {
            req->deadline_ms = 0;
            upload_end(req);
            import_gone(srv, req);
            hold_gone(req);
            proto_buf_free(&req->body);
            proto_buf_free(&req->in);
        }
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/*
 * Mozilla Observatory's headers, as LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_
 * BEST_PRACTICES_ENFORCE sends them, except that the page may connect only
 * to its own origin ('self' covers ws: and wss: to the same host and port
 * in CSP Level 3 browsers), and to --voice-url's when Janus is elsewhere:
 * lws's own list allows any ws: or wss: host.
 */
const struct lws_protocol_vhost_options *http_api_headers(const struct venue_config *cfg)
{
    static char csp[512 + sizeof(cfg->voice_url)];
    static struct lws_protocol_vhost_options h[] = {
        {NULL, NULL, "referrer-policy:", "no-referrer"},
        {&h[0], NULL, "x-frame-options:", "deny"},
        {&h[1], NULL, "x-xss-protection:", "1; mode=block"},
        {&h[2], NULL, "x-content-type-options:", "nosniff"},
        {&h[3], NULL, "content-security-policy:", csp},
    };
    const char *host = strstr(cfg->voice_url, "://");
    int origin = host ? (int)(host + 3 - cfg->voice_url) + (int)strcspn(host + 3, "/?#") : 0;

    snprintf(csp, sizeof(csp),
             "default-src 'none'; img-src 'self' data: ; script-src 'self'; font-src 'self'; "
             "style-src 'self'; connect-src 'self'%s%.*s; frame-ancestors 'none'; "
             "base-uri 'none';form-action 'self';",
             origin ? " " : "", origin, cfg->voice_url);
    return &h[4];
}

const struct lws_protocols http_api_protocol = {
    .name = "http",
    .callback = callback,
    .per_session_data_size = sizeof(struct http_req),
};
