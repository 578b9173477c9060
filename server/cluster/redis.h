/*
 * redis.h - one connection to Redis, on venued's own event loop: hiredis'
 * asynchronous API with an adapter of our own over libwebsockets. The
 * socket hiredis opens is adopted by lws as a raw descriptor (a dup of it,
 * so lws and hiredis each close their own), lws says when it is readable
 * or writable and hiredis reads and writes it. Nothing here ever waits on
 * the network: the connect is non-blocking, HOST must be a numeric address
 * (a name would need a lookup that blocks), and a connect or AUTH that does
 * not finish within REDIS_CONNECT_MS is dropped and tried again.
 *
 * Why hiredis' async API and not a thread with a queue: venued has one
 * service thread and the core is not shared; an adapter keeps every reply
 * on that thread, in order, with no locking and no second queue to bound.
 *
 * The link comes back by itself: after a loss it is tried again after
 * REDIS_BACKOFF_MIN_MS, doubling to REDIS_BACKOFF_MAX_MS, and AUTH and
 * SELECT are sent first each time. Commands are refused (-1) while it is
 * down or when REDIS_INFLIGHT_MAX are waiting for replies; a command
 * accepted gets its callback exactly once, with NULL when the link went
 * before its reply came.
 *
 * Errors: int functions give 0 or -1 with a reason in err, like the rest
 * of venued. Everything runs on the service thread.
 */
#ifndef VENUE_REDIS_H
#define VENUE_REDIS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "redis_url.h"

struct lws_context;
struct lws_protocols;
struct redis;

#define REDIS_CONNECT_MS     2000
#define REDIS_BACKOFF_MIN_MS 250
#define REDIS_BACKOFF_MAX_MS 5000
#define REDIS_INFLIGHT_MAX   256
#define REDIS_REASON_MAX     160

/* A reply, or NULL when the link was lost first. reply is hiredis' and
 * borrowed for the call. */
typedef void (*redis_reply_fn)(void *arg, const redisReply *reply);
/* The link went up, or down with reason. */
typedef void (*redis_state_fn)(void *arg, bool up, const char *reason);
/* A message on the channel a link subscribes to: data borrowed for the call. */
typedef void (*redis_message_fn)(void *arg, const char *data, size_t len);

/* The lws protocol the adopted sockets are bound to: put it in the
 * context's protocols. */
extern const struct lws_protocols redis_protocol;

/* Start connecting on ctx (its "default" vhost); on_state is told of every
 * change. NULL only when out of memory. Freed by redis_free. */
struct redis *redis_new(struct lws_context *ctx, const struct redis_url *url,
                        redis_state_fn on_state, void *arg);
/*
 * Make r a subscriber (RESP2: a subscribed connection takes no other
 * command, so it is a link of its own): each time it comes up it
 * subscribes to channel first, and is up only once Redis confirmed it;
 * every message then goes to fn. Call once, right after redis_new.
 */
void redis_subscribe(struct redis *r, const char *channel, redis_message_fn fn, void *arg);
/* Before lws_context_destroy: every waiting callback gets NULL, on_state
 * is not called again. NULL is fine. */
void redis_free(struct redis *r);

/* Queue a command (hiredis' printf-like format); fn (may be NULL) gets its
 * reply. -1 while down or at REDIS_INFLIGHT_MAX: fn is then never called. */
int redis_command(struct redis *r, redis_reply_fn fn, void *arg, const char *fmt, ...);
/* The same with the command as argc arguments (each argv[i] of argvlen[i]
 * bytes, copied): for a command whose length is known only at run time. */
int redis_command_argv(struct redis *r, redis_reply_fn fn, void *arg, int argc, const char **argv,
                       const size_t *argvlen);
/* Drop the link now (a peer that stopped answering) and try again later.
 * Not from inside a reply callback. */
void redis_reset(struct redis *r, const char *reason);

bool redis_up(const struct redis *r);
/* Why it is down ("" when up): printable ASCII without quotes. */
const char *redis_reason(const struct redis *r);
/* Times the link came up again after it had been up once. */
unsigned long long redis_reconnects(const struct redis *r);

#endif
