/*
 * voice_proxy.c - /voice: browsers to Janus' WebSocket API (see
 * voice_proxy.h for what and why).
 *
 * A pair (allocated when a browser's upgrade is taken, one per proxied
 * browser) holds both sides. Each side, a struct end, holds its connection,
 * the queue of messages to write to it and the message being reassembled
 * from it. The browser's connection finds the pair through its lws
 * per-session data, Janus' connection through lws' opaque user data. Each
 * connection lets go of the pair in its close callback (CLOSED for the
 * browser; for Janus' side one of CLIENT_CONNECTION_ERROR, CLOSED_CLIENT_HTTP
 * when it goes while its upgrade is unanswered, or CLIENT_CLOSED once it is
 * open: lws 4.1 gives a client connection exactly one), and the pair is
 * freed when both have let go: no pointer outlives what it points to.
 *
 * Messages are moved, never copied: one is reassembled behind LWS_PRE
 * bytes of headroom, goes into the other side's queue as it is, and is
 * freed once written (one lws_write per WRITEABLE, oldest first). A side
 * that is to close writes what is left in its queue, then its close frame.
 */
#include "voice_proxy.h"

#include <assert.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "ws_url.h"

/* RFC 6455's "try again later"; lws has no name for it. */
#define CLOSE_TRY_AGAIN_LATER 1013
/* lws' receive buffer of each connection, of which there may be two per
 * pair: the chunk a message arrives in, not a limit on it. */
#define RX_CHUNK 4096

/* The requests a browser makes of Janus' API (janus.js and ours). */
static const char *const browser_requests[] = {
    "create",  "attach", "message", "trickle", "keepalive", "detach",
    "destroy", "hangup", "claim",   "info",    "ping",
};

struct msg {
    unsigned char *buf; /* LWS_PRE of headroom, then len bytes; owned */
    size_t len;
};

/* A ring of messages waiting to be written to one side. */
struct queue {
    struct msg m[VOICE_PROXY_QUEUE_MSGS]; /* owned, from head, n of them */
    size_t head, n;
    size_t bytes; /* the sum of their len */
};

struct end {
    struct lws *wsi;          /* NULL once gone: never kept after its close callback */
    struct queue out;         /* to be written to this side */
    struct msg rx;            /* from this side, being reassembled; owned */
    size_t rx_cap;            /* bytes allocated at rx.buf */
    int close_code;           /* nonzero: write out the queue, then close with this */
    const char *close_reason; /* static */
};

enum janus_side { JANUS_CONNECTING, JANUS_OPEN, JANUS_GONE };

struct pair {
    struct voice_proxy *vp;   /* borrowed */
    struct pair *prev, *next; /* in vp->pairs */
    struct end browser, janus;
    enum janus_side state;
    lws_sorted_usec_list_t connect_sul;    /* the connect deadline */
    char token[VOICE_PROXY_TOKEN_MAX + 1]; /* the browser's Janus token; "" until it sends one */
};

/* lws' per-session data of a browser's connection (zeroed by lws, freed
 * after CLOSED). An upgrade refused has no pair, only the close to send.
 * Janus' connections get one too, on this same protocol, and leave it zero. */
struct browser {
    struct pair *pair;          /* NULL: refused, or closed */
    int refusal;                /* without a pair: the close code */
    const char *refusal_reason; /* static */
};

struct voice_proxy {
    bool on; /* a --janus was given */
    struct ws_url janus;
    struct voice_proxy_stats stats;
    struct pair *pairs; /* every pair, newest first */
};

/* ---- Messages and queues ----------------------------------------------- */

static void msg_free(struct msg *m)
{
    free(m->buf);
    *m = (struct msg){0};
}

static void queue_clear(struct queue *q)
{
    for (; q->n; q->n--, q->head = (q->head + 1) % VOICE_PROXY_QUEUE_MSGS)
        msg_free(&q->m[q->head]);
    q->head = 0;
    q->bytes = 0;
}

/* Take *m at the tail (stolen: *m is emptied). -1, *m untouched, when one
 * more message or its bytes would be over the queue's bounds. */
static int queue_push(struct queue *q, struct msg *m)
{
    if (q->n == VOICE_PROXY_QUEUE_MSGS || q->bytes + m->len > VOICE_PROXY_QUEUE_BYTES)
        return -1;
    q->m[(q->head + q->n) % VOICE_PROXY_QUEUE_MSGS] = *m;
    q->n++;
    q->bytes += m->len;
    *m = (struct msg){0};
    return 0;
}

static void queue_pop(struct queue *q)
{
    assert(q->n > 0);
    q->bytes -= q->m[q->head].len;
    msg_free(&q->m[q->head]);
    q->head = (q->head + 1) % VOICE_PROXY_QUEUE_MSGS;
    q->n--;
}

/* Append a piece of the message from e's side; the caller has checked the
 * size. Exact for a message that comes in one piece, doubling otherwise.
 * -1: no memory. */
static int rx_append(struct end *e, const void *in, size_t len)
{
    size_t need = LWS_PRE + e->rx.len + len;
    assert(e->rx.len + len <= VOICE_PROXY_MSG_MAX);
    if (need > e->rx_cap) {
        size_t cap = e->rx_cap * 2 > need ? e->rx_cap * 2 : need;
        unsigned char *b;
        if (cap > LWS_PRE + VOICE_PROXY_MSG_MAX)
            cap = LWS_PRE + VOICE_PROXY_MSG_MAX;
        b = realloc(e->rx.buf, cap);
        if (!b)
            return -1;
        e->rx.buf = b;
        e->rx_cap = cap;
    }
    memcpy(e->rx.buf + LWS_PRE + e->rx.len, in, len);
    e->rx.len += len;
    return 0;
}

/* The message's token against the pair's: the first one is kept, another
 * is refused. NULL when it may go. */
static const char *token_refusal(struct pair *p, json_t *tok)
{
    const char *t;
    if (!tok)
        return NULL;
    if (!(t = json_string_value(tok)) || json_string_length(tok) > VOICE_PROXY_TOKEN_MAX)
        return "voice: \"token\" must be the token venued gave";
    if (!p->token[0])
        snprintf(p->token, sizeof(p->token), "%s", t);
    else if (strcmp(p->token, t) != 0)
        return "voice: one token per connection";
    return NULL;
}

/* Why a browser's message may not go to Janus; NULL when it may. Parsed
 * as Janus parses it (jansson), but stricter: one object, no key twice
 * (so that no two parsers can disagree on which "janus" counts). */
static const char *refusal(struct pair *p, const unsigned char *buf, size_t len)
{
    json_error_t jerr;
    json_t *m = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *why = "voice: this Janus request is not one a browser makes", *req;

    if (!json_is_object(m))
        why = "voice: a message must be one JSON object, each key once";
    else if (json_object_get(m, "apisecret") || json_object_get(m, "admin_secret"))
        why = "voice: secrets are not taken here (a token is)";
    else if (!(req = json_string_value(json_object_get(m, "janus"))))
        why = "voice: \"janus\" must name the request";
    else
        for (size_t i = 0; i < sizeof(browser_requests) / sizeof(browser_requests[0]); i++)
            if (strcmp(req, browser_requests[i]) == 0)
                why = NULL;
    if (!why)
        why = token_refusal(p, json_object_get(m, "token"));
    json_decref(m);
    return why;
}

/* ---- Closing ------------------------------------------------------------ */

/*
 * Close e's side: write out its queue (flush) or drop it, then the close
 * frame, in its WRITEABLE. Always so, even from e's own callback: a client
 * connection that returns -1 from RECEIVE is dropped by lws at once, and
 * its close frame can be lost behind a reset. A side that does not take
 * its close frame goes after VOICE_PROXY_CLOSE_S; Janus' side, not yet
 * open, is dropped at once. A side gone or closing already is left, and
 * from now on nothing it sends is read.
 */
static void end_close(struct pair *p, struct end *e, int code, const char *reason, bool flush)
{
    if (!e->wsi || e->close_code)
        return;
    e->close_code = code;
    e->close_reason = reason;
    if (!flush)
        queue_clear(&e->out);
    if (e == &p->janus && p->state != JANUS_OPEN) {
        lws_set_timeout(e->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    }
    lws_set_timeout(e->wsi, PENDING_TIMEOUT_USER_OK, VOICE_PROXY_CLOSE_S);
    lws_callback_on_writable(e->wsi);
}

/* The proxy closes e's side on its own (a refusal or a bound): counted. */
static void refuse(struct pair *p, struct end *e, int code, const char *reason)
{
    p->vp->stats.refused++;
    end_close(p, e, code, reason, false);
}

/* What a side's close callback leaves: nothing of its own. */
static void end_gone(struct end *e)
{
    e->wsi = NULL;
    queue_clear(&e->out);
    msg_free(&e->rx);
    e->rx_cap = 0;
}

static void pair_free(struct pair *p)
{
    assert(!p->browser.wsi && p->state == JANUS_GONE);
    lws_sul_cancel(&p->connect_sul);
    if (p->prev)
        p->prev->next = p->next;
    else
        p->vp->pairs = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->vp->stats.connections--;
    free(p);
}

/* The browser's connection closed: Janus' side gets what the browser sent
 * before it went, then a normal close. */
static void browser_closed(struct browser *b)
{
    struct pair *p = b->pair;
    if (!p)
        return;
    b->pair = NULL;
    end_gone(&p->browser);
    if (p->state == JANUS_GONE)
        pair_free(p);
    else
        end_close(p, &p->janus, LWS_CLOSE_STATUS_NORMAL, "", true);
}

/* Janus' side failed to connect or closed: the browser gets what Janus
 * sent before, then 1011. */
static void janus_gone(struct pair *p, struct lws *wsi)
{
    bool was_open = p->state == JANUS_OPEN;
    lws_set_opaque_user_data(wsi, NULL);
    lws_sul_cancel(&p->connect_sul);
    p->state = JANUS_GONE;
    end_gone(&p->janus);
    if (!p->browser.wsi) {
        pair_free(p);
        return;
    }
    end_close(p, &p->browser, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
              was_open ? "voice server closed the connection" : "voice server unreachable", true);
}

/* ---- Moving messages ----------------------------------------------------- */

/* The message reassembled from `from` goes into the queue of `to`; over
 * the queue's bounds, both sides close ("too slow"). */
static void forward(struct pair *p, struct end *from, struct end *to)
{
    struct msg m = from->rx;
    from->rx = (struct msg){0};
    from->rx_cap = 0;
    if (queue_push(&to->out, &m) < 0) {
        msg_free(&m);
        refuse(p, to, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow");
        end_close(p, from, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow", false);
        return;
    }
    if (to == &p->browser || p->state == JANUS_OPEN)
        lws_callback_on_writable(to->wsi);
}

/* A piece of a message from `from`'s side (wsi) for `to`'s. A side that is
 * closing, or whose peer is gone or closing, is not read any more. */
static void receive(struct pair *p, struct end *from, struct end *to, struct lws *wsi,
                    const void *in, size_t len)
{
    bool browser = from == &p->browser;
    const char *why;

    if (from->close_code || !to->wsi || to->close_code)
        return;
    if (from->rx.len + len > VOICE_PROXY_MSG_MAX) {
        if (browser) {
            refuse(p, from, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "voice: a message over 64 KiB");
            return;
        }
        refuse(p, from, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
        end_close(p, to, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                  "voice server sent a message over 64 KiB", true);
        return;
    }
    if (browser && lws_frame_is_binary(wsi)) {
        refuse(p, from, LWS_CLOSE_STATUS_POLICY_VIOLATION, "voice: text messages only");
        return;
    }
    if (rx_append(from, in, len) < 0) {
        end_close(p, from, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "voice: out of memory", false);
        return;
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return;
    if (browser && (why = refusal(p, from->rx.buf + LWS_PRE, from->rx.len)))
        refuse(p, from, LWS_CLOSE_STATUS_POLICY_VIOLATION, why);
    else
        forward(p, from, to);
}

/* Close the connection whose callback this is: return what this returns. */
static int close_now(struct lws *wsi, int code, const char *reason)
{
    lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)reason, strlen(reason));
    return -1;
}

/* One message from e's queue, or, once it is empty, the close if one is due. */
static int writeable(struct end *e, struct lws *wsi)
{
    struct msg *m = e->out.n ? &e->out.m[e->out.head] : NULL;
    if (m) {
        if (lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
            return -1;
        queue_pop(&e->out);
        if (e->out.n || e->close_code)
            lws_callback_on_writable(wsi);
        return 0;
    }
    return e->close_code ? close_now(wsi, e->close_code, e->close_reason) : 0;
}

/* ---- Opening -------------------------------------------------------------- */

static void connect_timeout(lws_sorted_usec_list_t *sul)
{
    struct pair *p = lws_container_of(sul, struct pair, connect_sul);
    /* Dropped at once; its close callback tells the browser. */
    end_close(p, &p->janus, LWS_CLOSE_STATUS_NORMAL, "", false);
}

/* Open Janus' side of p, from the browser's ESTABLISHED. */
static void connect_janus(struct pair *p, struct lws *browser_wsi)
{
    struct voice_proxy *vp = p->vp;
    struct lws_client_connect_info i;
    struct lws *wsi;

    memset(&i, 0, sizeof(i));
    i.context = lws_get_context(browser_wsi);
    i.vhost = lws_get_vhost(browser_wsi);
    ws_url_connect_info(&vp->janus, &i);
    i.protocol = VOICE_PROXY_SUBPROTOCOL;
    i.local_protocol_name = VOICE_PROXY_SUBPROTOCOL; /* this protocol: both sides here */
    i.opaque_user_data = p;
    p->state = JANUS_CONNECTING;
    wsi = lws_client_connect_via_info(&i);
    if (p->state != JANUS_CONNECTING)
        return; /* failed inside the call, and a callback said so */
    if (!wsi) {
        p->state = JANUS_GONE;
        end_close(p, &p->browser, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "voice server unreachable",
                  false);
        return;
    }
    p->janus.wsi = wsi;
    lws_sul_schedule(i.context, 0, &p->connect_sul, connect_timeout,
                     (lws_usec_t)VOICE_PROXY_CONNECT_MS * LWS_US_PER_MS);
}

/* A browser's upgrade to /voice is done: a pair, or the reason there is none. */
static int browser_open(struct lws *wsi, struct browser *b)
{
    struct server *srv = lws_context_user(lws_get_context(wsi));
    struct voice_proxy *vp = srv->voice_proxy;
    struct pair *p = NULL;

    assert(vp);
    if (!vp->on) {
        b->refusal = LWS_CLOSE_STATUS_POLICY_VIOLATION;
        b->refusal_reason = "no voice here";
    } else if (vp->stats.connections >= VOICE_PROXY_MAX) {
        b->refusal = CLOSE_TRY_AGAIN_LATER;
        b->refusal_reason = "voice busy";
    } else if (!(p = calloc(1, sizeof(*p)))) {
        b->refusal = CLOSE_TRY_AGAIN_LATER;
        b->refusal_reason = "voice: out of memory";
    }
    if (!p) {
        vp->stats.refused++;
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, VOICE_PROXY_CLOSE_S);
        lws_callback_on_writable(wsi);
        return 0;
    }
    p->vp = vp;
    p->browser.wsi = wsi;
    p->next = vp->pairs;
    if (vp->pairs)
        vp->pairs->prev = p;
    vp->pairs = p;
    b->pair = p;
    vp->stats.connections++;
    connect_janus(p, wsi);
    return 0;
}

/* Only /voice upgrades to this protocol. */
static int filter(struct lws *wsi)
{
    char uri[sizeof(VOICE_PROXY_PATH)];
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0)
        return -1;
    return strcmp(uri, VOICE_PROXY_PATH) == 0 ? 0 : -1;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct browser *b = user;
    struct pair *p;

    switch (reason) {
    /* The browser's side. */
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return filter(wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return browser_open(wsi, b);
    case LWS_CALLBACK_RECEIVE:
        if ((p = b->pair))
            receive(p, &p->browser, &p->janus, wsi, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (b->pair)
            return writeable(&b->pair->browser, wsi);
        return b->refusal ? close_now(wsi, b->refusal, b->refusal_reason) : 0;
    case LWS_CALLBACK_CLOSED:
        browser_closed(b);
        return 0;

    /* Janus' side. */
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!(p = lws_get_opaque_user_data(wsi)) || p->janus.close_code)
            return -1; /* given up on while it connected: still "unreachable" */
        p->state = JANUS_OPEN;
        lws_sul_cancel(&p->connect_sul);
        if (p->janus.out.n)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if ((p = lws_get_opaque_user_data(wsi)))
            receive(p, &p->janus, &p->browser, wsi, in, len);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        p = lws_get_opaque_user_data(wsi);
        return p ? writeable(&p->janus, wsi) : 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP: /* closed while its upgrade was unanswered */
    case LWS_CALLBACK_CLIENT_CLOSED:
        if ((p = lws_get_opaque_user_data(wsi)))
            janus_gone(p, wsi);
        return 0;
    default:
        return 0;
    }
}

const struct lws_protocols voice_proxy_protocol = {
    .name = VOICE_PROXY_SUBPROTOCOL,
    .callback = callback,
    .per_session_data_size = sizeof(struct browser),
    .rx_buffer_size = RX_CHUNK,
    /* A whole message goes to the socket in one write: lws would cut it
     * at the receive buffer's size and keep the rest in its own list. */
    .tx_packet_size = VOICE_PROXY_MSG_MAX,
};

/* ---- Construction ------------------------------------------------------------ */

struct voice_proxy *voice_proxy_new(const char *janus_url, char *err, size_t errlen)
{
    struct voice_proxy *vp = calloc(1, sizeof(*vp));

    if (!vp) {
        snprintf(err, errlen, "voice proxy: no memory");
        return NULL;
    }
    if (!janus_url[0])
        return vp;
    if (ws_url_parse(janus_url, "--janus", &vp->janus, err, errlen) < 0) {
        free(vp);
        return NULL;
    }
    vp->on = true;
    return vp;
}

void voice_proxy_free(struct voice_proxy *vp)
{
    free(vp);
}

struct voice_proxy_stats voice_proxy_stats(const struct voice_proxy *vp)
{
    return vp->stats;
}

void voice_proxy_drop_token(struct voice_proxy *vp, const char *token)
{
    /* Closing only marks the sides: every pair stays in the list until its
     * close callbacks, after this returns. */
    for (struct pair *p = vp->pairs; p; p = p->next) {
        if (!p->token[0] || strcmp(p->token, token) != 0)
            continue;
        end_close(p, &p->browser, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                  "voice: your voice access was withdrawn", false);
        end_close(p, &p->janus, LWS_CLOSE_STATUS_NORMAL, "", false);
    }
}
