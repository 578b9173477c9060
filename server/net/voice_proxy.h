/*
 * voice_proxy.h - the browser's way to Janus: WebSocket path /voice on
 * venued's own port, subprotocol janus-protocol, piped to Janus' WebSocket
 * API (--janus, which Janus binds to 127.0.0.1 only).
 *
 * One browser connection, one pair: the browser's connection and an lws
 * client connection to Janus that venued opens for it, both on venued's
 * context and in this protocol's callback (nothing here blocks the loop).
 * Whole text messages go both ways, unchanged and in order. Janus checks
 * every request's token; the proxy reads only what a browser sends, and
 * closes the browser's connection with 1008 and the reason for a message
 * that is not one JSON object, that carries "apisecret" or "admin_secret"
 * (browsers need neither, and nobody may try secrets through venued), or
 * whose "janus" is not one of the requests a browser makes: create,
 * attach, message, trickle, keepalive, detach, destroy, hangup, claim,
 * info, ping. What Janus sends is not looked at.
 *
 * A pair is one person's: the first "token" its browser sends is the one
 * it keeps (another closes it 1008). When venued withdraws that token (a
 * kick, a ban, the person gone), voice_proxy_drop_token closes both sides
 * at once: Janus ends the sessions of a connection that closed (with
 * reclaim_session_timeout 0), so what the person hears stops too, not
 * only what they say.
 *
 * Bounds, and what happens at each (the browser sees the close code and
 * reason; the proxy's own closes are counted in refused):
 * - VOICE_PROXY_MAX pairs: one more browser is closed 1013 "voice busy".
 * - no --janus: every browser is closed 1008 "no voice here".
 * - a message over VOICE_PROXY_MSG_MAX bytes: from the browser, 1009; from
 *   Janus, the browser gets 1011 and Janus' side is closed 1009.
 * - each direction queues at most VOICE_PROXY_QUEUE_MSGS messages and
 *   VOICE_PROXY_QUEUE_BYTES bytes; one more closes both sides 1008 "too
 *   slow". The browser's messages wait in their queue while Janus' side
 *   connects.
 * - Janus' side not open after VOICE_PROXY_CONNECT_MS, or refused: the
 *   browser is closed 1011 "voice server unreachable"; Janus closing (or
 *   dying) later: 1011 "voice server closed the connection".
 * Either side closing closes the other, after what is queued for it has
 * been written (VOICE_PROXY_CLOSE_S at most); a side closed for breaking
 * a bound loses its queue.
 *
 * Everything runs on the service thread.
 */
#ifndef VENUE_VOICE_PROXY_H
#define VENUE_VOICE_PROXY_H

#include <libwebsockets.h>
#include <stddef.h>

#define VOICE_PROXY_PATH        "/voice"
#define VOICE_PROXY_SUBPROTOCOL "janus-protocol"
#define VOICE_PROXY_MAX         2048   /* pairs at once */
#define VOICE_PROXY_MSG_MAX     65536  /* bytes of one message, either way */
#define VOICE_PROXY_QUEUE_MSGS  64     /* messages waiting in one direction */
#define VOICE_PROXY_QUEUE_BYTES 262144 /* bytes waiting in one direction */
#define VOICE_PROXY_CONNECT_MS  5000   /* Janus' side must be open by then */
#define VOICE_PROXY_CLOSE_S     2      /* a closing side may flush this long */
#define VOICE_PROXY_TOKEN_MAX   64     /* bytes of the token a pair keeps; longer is not ours */

struct voice_proxy;

/* What /metrics prints. */
struct voice_proxy_stats {
    unsigned connections;       /* pairs now, at most VOICE_PROXY_MAX */
    unsigned long long refused; /* browsers the proxy closed on its own: busy, no voice,
                                   a message refused or over a bound */
};

/*
 * A proxy to the Janus API at janus_url (ws://host:port[/path], the value
 * of --janus; "" for none: /voice then says "no voice here"). The string
 * is copied. NULL with err set for a URL that is not ws:// or wss://, or
 * no memory. The protocol's callback finds it in struct server.
 */
struct voice_proxy *voice_proxy_new(const char *janus_url, char *err, size_t errlen);
/* After lws_context_destroy (which closes every connection, and so frees
 * every pair). NULL is fine. */
void voice_proxy_free(struct voice_proxy *vp);

struct voice_proxy_stats voice_proxy_stats(const struct voice_proxy *vp);

/* Close every pair whose browser used this Janus token, both sides, with
 * 1008 "voice: your voice access was withdrawn" to the browser. */
void voice_proxy_drop_token(struct voice_proxy *vp, const char *token);

/* The protocol for venued's vhost: both sides of every pair. */
extern const struct lws_protocols voice_proxy_protocol;

#endif
