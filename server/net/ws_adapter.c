/*
 * ws_adapter.c - the venue.v1 WebSocket protocol: moves bytes between
 * libwebsockets and the core, and nothing else.
 *
 * Per connection: a struct conn (lws's per-session data, zeroed by lws and
 * freed after CLOSED) holding the session pointer and the reassembly buffer
 * for fragmented messages. Frames are written only in SERVER_WRITEABLE, one
 * per callback, from the session's queue in the core.
 */
#include <string.h>

#include "server.h"

_Static_assert(FRAME_PRE >= LWS_PRE, "frames need libwebsockets' headroom");

struct conn {
    struct lws *wsi;
    struct session *session; /* NULL once the core has forgotten this connection */
    struct proto_buf rx;     /* one message being reassembled; owned */
    bool rx_binary;          /* it came in binary frames */
    int close_code;          /* nonzero: close at the next WRITEABLE */
    char close_reason[64];
    struct frame *farewell; /* written before the close; a reference we hold */
};

static void io_wake(void *ctx, void *c)
{
    (void)ctx;
    lws_callback_on_writable(((struct conn *)c)->wsi);
}

static void io_close(void *ctx, void *c, int code, const char *reason, struct frame *last)
{
    struct conn *conn = c;
    (void)ctx;
    conn->session = NULL;
    conn->close_code = code;
    conn->farewell = last ? frame_ref(last) : NULL;
    snprintf(conn->close_reason, sizeof(conn->close_reason), "%s", reason);
    /* A client that does not read never becomes writeable: the close frame
     * is a courtesy, the timeout makes sure the connection goes. */
    lws_set_timeout(conn->wsi, PENDING_TIMEOUT_USER_OK, 2);
    lws_callback_on_writable(conn->wsi);
}

static void io_bind(void *ctx, void *c, struct session *s)
{
    (void)ctx;
    ((struct conn *)c)->session = s;
}

const struct venue_io ws_adapter_io_template = {
    .wake = io_wake,
    .close = io_close,
    .bind = io_bind,
};

static struct server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* Only /ws upgrades to the venue protocol. */
static int filter(struct lws *wsi)
{
    char uri[64];
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0)
        return -1;
    return strcmp(uri, "/ws") == 0 ? 0 : -1;
}

/* Close c with code and reason (lws sends it as it closes); the core
 * hears of it through forget. Returns what the callback returns. */
static int fail(struct server *srv, struct conn *c, enum lws_close_status code, const char *reason,
                void (*forget)(struct venue *, struct session *, long long))
{
    if (c->session)
        forget(srv->venue, c->session, clock_mono_ms());
    c->session = NULL;
    lws_close_reason(c->wsi, code, (unsigned char *)reason, strlen(reason));
    return -1;
}

static int receive(struct server *srv, struct conn *c, const void *in, size_t len)
{
    if (lws_is_first_fragment(c->wsi)) {
        proto_buf_reset(&c->rx);
        c->rx_binary = lws_frame_is_binary(c->wsi);
    }
    if (c->rx.len + len > (size_t)srv->cfg.max_message)
        return fail(srv, c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large",
                    venue_too_large);
    if (proto_buf_append(&c->rx, in, len) < 0)
        return -1;
    if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi))
        return 0;
    /* RFC 6455 8.1: a text message that is not UTF-8 fails the connection. */
    if (!c->rx_binary && !proto_utf8_valid(c->rx.data, c->rx.len))
        return fail(srv, c, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "text is not UTF-8",
                    venue_disconnect);
    if (c->session && c->rx_binary)
        venue_binary(srv->venue, c->session, (const unsigned char *)c->rx.data, c->rx.len,
                     clock_mono_ms());
    else if (c->session)
        venue_message(srv->venue, c->session, c->rx.data, c->rx.len, clock_mono_ms());
    proto_buf_reset(&c->rx);
    return 0;
}

/* One frame onto the wire, whole; false when the connection failed. */
static bool write_frame(struct conn *c, struct frame *f)
{
    enum lws_write_protocol how = f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
    return lws_write(c->wsi, frame_data(f), f->len, how) >= (int)f->len;
}

static int writeable(struct server *srv, struct conn *c)
{
    struct frame *f;
    if (c->farewell) {
        f = c->farewell;
        c->farewell = NULL;
        bool ok = write_frame(c, f);
        frame_unref(f);
        if (!ok)
            return -1;
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (c->close_code) {
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)c->close_reason, strlen(c->close_reason));
        return -1;
    }
    if (!c->session || !(f = venue_peek(c->session)))
        return 0;
    if (!write_frame(c, f))
        return -1;
    venue_sent(srv->venue, c->session, clock_mono_ms());
    if (venue_peek(c->session))
        lws_callback_on_writable(c->wsi);
    return 0;
}

/*
 * The client's close frame: lws echoes whatever code it carries. RFC 6455
 * 7.4 allows 1000-1003, 1007-1011 and 3000-4999 on the wire (and no code
 * at all); anything else, or a one-byte payload, is a protocol error.
 */
static int peer_close(struct lws *wsi, const unsigned char *in, size_t len)
{
    unsigned code = len >= 2 ? (unsigned)in[0] << 8 | in[1] : 1000;
    bool ok = len != 1 && ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
                           (code >= 3000 && code <= 4999));
    if (ok)
        return 0;
    lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, (unsigned char *)"bad close code", 14);
    return -1;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct conn *c = user;
    struct server *srv = server_of(wsi);

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return filter(wsi);
    case LWS_CALLBACK_ESTABLISHED:
        c->wsi = wsi;
        venue_metrics(srv->venue)->connections++;
        venue_metrics(srv->venue)->connections_total++;
        c->session = venue_connect(srv->venue, c, clock_mono_ms());
        if (c->session) {
            char addr[64] = "";
            lws_get_peer_simple(wsi, addr, sizeof(addr));
            venue_set_address(c->session, addr);
        }
        return c->session ? 0 : -1;
    case LWS_CALLBACK_RECEIVE:
        return receive(srv, c, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return writeable(srv, c);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        return peer_close(wsi, in, len);
    case LWS_CALLBACK_CLOSED:
        if (c->session)
            venue_disconnect(srv->venue, c->session, clock_mono_ms());
        c->session = NULL;
        venue_metrics(srv->venue)->connections--;
        proto_buf_free(&c->rx);
        frame_unref(c->farewell);
        c->farewell = NULL;
        return 0;
    default:
        return 0;
    }
}

const struct lws_protocols ws_adapter_protocol = {
    .name = PROTO_SUBPROTOCOL,
    .callback = callback,
    .per_session_data_size = sizeof(struct conn),
    /* lws keeps one rx buffer of this size per connection: client
     * messages are small, and longer ones are reassembled in conn.rx. */
    .rx_buffer_size = 2048,
    /* lws caps each send() at this (by default at rx_buffer_size), then
     * copies the rest of the frame aside for the next POLLOUT: a copy per
     * receiver of every big poses frame. Frames go whole. */
    .tx_packet_size = 1u << 24,
};
