/*
 * http_api.c - the HTTP routes on the venue's port: health, metrics, the
 * venue and its scenes, and the scenes' assets. Static files of the web
 * client are served by a libwebsockets file mount (see main.c).
 *
 * Per connection: a struct http_req holding the reply body until it is
 * written, in pieces, in HTTP_WRITEABLE.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "server.h"

#define HTTP_CHUNK 16384

struct http_req {
    struct proto_buf body; /* owned; reused across keep-alive requests */
    size_t sent;
};

static int respond(struct lws *wsi, struct http_req *req, unsigned status, const char *ctype,
                   const char *etag, const char *cache)
{
    unsigned char buf[LWS_PRE + 1024], *start = &buf[LWS_PRE], *p = start,
                                       *end = &buf[sizeof(buf) - 1];
    size_t len = status == HTTP_STATUS_NOT_MODIFIED ? 0 : req->body.len;

    req->sent = 0;
    if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end))
        return -1;
    if (etag && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ETAG, (unsigned char *)etag,
                                             (int)strlen(etag), &p, end))
        return -1;
    if (cache && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                              (unsigned char *)cache, (int)strlen(cache), &p, end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (len == 0)
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    lws_callback_on_writable(wsi);
    return 0;
}

static int respond_error(struct lws *wsi, struct http_req *req, unsigned status, const char *code,
                         const char *message)
{
    proto_buf_reset(&req->body);
    if (proto_buf_printf(&req->body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code,
                         message) < 0)
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
        return lws_http_transaction_completed(wsi) ? -1 : 0;
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

static const char *asset_type(const char *path)
{
    static const char *const types[][2] = {
        {".glb", "model/gltf-binary"}, {".gltf", "model/gltf+json"}, {".png", "image/png"},
        {".jpg", "image/jpeg"},        {".jpeg", "image/jpeg"},      {".svg", "image/svg+xml"},
        {".webp", "image/webp"},       {".json", "application/json"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return NULL;
}

/* A file under the assets folder, after resolving every link: nothing
 * outside the folder is ever served, whatever the path says. */
static int serve_asset(struct lws *wsi, struct http_req *req, struct server *srv, const char *rel)
{
    char path[PATH_MAX], real[PATH_MAX];
    size_t dl = strlen(srv->assets_dir);
    struct stat st;
    const char *type = asset_type(rel);
    int n;

    if (!type || !srv->assets_dir[0] || strchr(rel, '\\') ||
        snprintf(path, sizeof(path), "%s/%s", srv->assets_dir, rel) >= (int)sizeof(path) ||
        !realpath(path, real) || strncmp(real, srv->assets_dir, dl) != 0 || real[dl] != '/' ||
        stat(real, &st) < 0 || !S_ISREG(st.st_mode))
        return respond_error(wsi, req, HTTP_STATUS_NOT_FOUND, "not_found", "no such asset");
    n = lws_serve_http_file(wsi, real, type, NULL, 0);
    if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi)))
        return -1;
    return 0;
}

static int route(struct lws *wsi, struct http_req *req, struct server *srv)
{
    char uri[512];
    int rc;

    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0)
        return respond_error(wsi, req, HTTP_STATUS_METHOD_NOT_ALLOWED, "bad_request",
                             "only GET is served here");
    proto_buf_reset(&req->body);
    if (strcmp(uri, "/healthz") == 0) {
        proto_buf_printf(&req->body, "{\"ok\":true}");
        return respond(wsi, req, HTTP_STATUS_OK, "application/json", NULL, "no-store");
    }
    if (strcmp(uri, "/metrics") == 0) {
        rc = venue_render_metrics(srv->venue, &req->body);
        return rc < 0 ? -1
                      : respond(wsi, req, HTTP_STATUS_OK, "text/plain; version=0.0.4", NULL,
                                "no-store");
    }
    if (strcmp(uri, "/api/venue") == 0) {
        rc = venue_render_rooms(srv->venue, &req->body);
        return rc < 0 ? -1
                      : respond(wsi, req, HTTP_STATUS_OK, "application/json", NULL, "no-store");
    }
    if (strncmp(uri, "/api/scenes/", 12) == 0)
        return serve_scene(wsi, req, srv, uri + 12);
    if (strncmp(uri, "/assets/", 8) == 0)
        return serve_asset(wsi, req, srv, uri + 8);
    return respond_error(wsi, req, HTTP_STATUS_NOT_FOUND, "not_found", "no such resource");
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct http_req *req = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return route(wsi, req, lws_context_user(lws_get_context(wsi)));
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!req || req->sent >= req->body.len)
            break;
        return write_body(wsi, req);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        /* lws frees req after either; the body buffer is ours. */
        if (req)
            proto_buf_free(&req->body);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols http_api_protocol = {
    .name = "http",
    .callback = callback,
    .per_session_data_size = sizeof(struct http_req),
};
