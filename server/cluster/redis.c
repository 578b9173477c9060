/*
 * redis.c - the Redis connection (see redis.h for what and why).
 *
 * One link at a time: a redisAsyncContext and the lws wsi that watches a
 * dup of its socket. lws always waits for input on it (hiredis reads it
 * whenever told) and asks for a write only when hiredis wants one (its
 * addWrite hook). Every way the link can end (hiredis' disconnect, lws
 * closing the descriptor, a connect that takes too long, redis_reset) goes
 * through drop(), which frees what is left and schedules the next try.
 */
#include "redis.h"

#include <hiredis/async.h>
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "text.h"

struct redis {
    struct lws_context *ctx;
    struct redis_url url;
    redis_state_fn on_state;
    void *arg;
    redisAsyncContext *ac; /* hiredis' (it frees it on a disconnect); NULL: no link */
    struct lws *wsi;       /* watches the dup'd socket; NULL once asked to close */
    bool ready;            /* AUTH, SELECT and PING answered */
    bool was_up;           /* up at least once: the next up is a reconnect */
    bool freeing;          /* redis_free is under way: no more tries or state calls */
    bool said;             /* reason already says why this link ends */
    int inflight;          /* commands accepted and not yet answered */
    int backoff_ms;
    unsigned long long reconnects;
    char reason[REDIS_REASON_MAX];
    char channel[64]; /* subscribed to when up; "": a command link */
    redis_message_fn on_message;
    void *message_arg;
    lws_sorted_usec_list_t retry_sul;   /* the next try */
    lws_sorted_usec_list_t timeout_sul; /* a connect that must finish */
};

/* A command's callback, kept until its reply (or the link's end). */
struct pending {
    struct redis *r;
    redis_reply_fn fn;
    void *arg;
};

static void try_connect(lws_sorted_usec_list_t *sul);

static void set_reason(struct redis *r, const char *fmt, ...)
{
    char raw[REDIS_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    text_printable(r->reason, sizeof(r->reason), raw);
}

static void kill_wsi(struct redis *r)
{
    if (!r->wsi)
        return;
    lws_set_opaque_user_data(r->wsi, NULL);
    lws_set_timeout(r->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
    r->wsi = NULL;
}

/*
 * The link is gone (reason already set): free what hiredis still holds
 * unless hiredis is freeing it itself (gone), tell the owner once if it
 * was up, and schedule the next try.
 */
static void drop(struct redis *r, bool gone)
{
    redisAsyncContext *ac = r->ac;
    bool was_ready = r->ready;

    r->ac = NULL;
    r->ready = false;
    lws_sul_cancel(&r->timeout_sul);
    kill_wsi(r);
    if (ac && !gone)
        redisAsyncFree(ac); /* the waiting callbacks get NULL now */
    if (r->freeing)
        return;
    if (was_ready && r->on_state)
        r->on_state(r->arg, false, r->reason);
    lws_sul_schedule(r->ctx, 0, &r->retry_sul, try_connect,
                     (lws_usec_t)r->backoff_ms * LWS_US_PER_MS);
    r->backoff_ms =
        r->backoff_ms * 2 > REDIS_BACKOFF_MAX_MS ? REDIS_BACKOFF_MAX_MS : r->backoff_ms * 2;
}

/* ---- hiredis' event hooks ------------------------------------------- */

static void ev_add_write(void *data)
{
    struct redis *r = data;
    if (r->wsi)
        lws_callback_on_writable(r->wsi);
}

/* Input is always watched, and a write is asked for once at a time. */
static void ev_nothing(void *data)
{
    (void)data;
}

static void ev_cleanup(void *data)
{
    kill_wsi(data);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct redis *r = ac->data;
    if (!r || r->ac != ac)
        return; /* drop() freed it and has done the rest */
    if (!r->said && status != REDIS_OK && ac->errstr[0])
        set_reason(r, "Redis %s:%d: %s", r->url.host, r->url.port, ac->errstr);
    else if (!r->said)
        set_reason(r, "Redis %s:%d closed the connection", r->url.host, r->url.port);
    drop(r, true);
}

static void on_command_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct pending *p = privdata;
    (void)ac;
    p->r->inflight--;
    if (p->fn)
        p->fn(p->arg, reply);
    free(p);
}

/* The link is usable: AUTH, SELECT and PING went, and SUBSCRIBE for a
 * subscriber. */
static void ready(struct redis *r)
{
    lws_sul_cancel(&r->timeout_sul);
    r->ready = true;
    r->reason[0] = '\0';
    r->backoff_ms = REDIS_BACKOFF_MIN_MS;
    if (r->was_up)
        r->reconnects++;
    r->was_up = true;
    if (r->on_state)
        r->on_state(r->arg, true, "");
}

/* A subscriber's every reply: the confirmation, then each message. */
static void on_subscribed(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct redis *r = privdata;
    const redisReply *rep = reply;
    const redisReply *kind;

    if (!rep || r->ac != ac || rep->type != REDIS_REPLY_ARRAY || rep->elements != 3)
        return;
    kind = rep->element[0];
    if (kind->type != REDIS_REPLY_STRING)
        return;
    if (strcmp(kind->str, "subscribe") == 0 && !r->ready)
        ready(r);
    else if (strcmp(kind->str, "message") == 0 && rep->element[2]->type == REDIS_REPLY_STRING &&
             r->on_message)
        r->on_message(r->message_arg, rep->element[2]->str, rep->element[2]->len);
}

/* PING's answer ends the handshake (AUTH's and SELECT's come before it,
 * in order): the link is up, or it is dropped with Redis' own words. */
static void on_ready_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct redis *r = privdata;
    const redisReply *rep = reply;
    if (!rep || r->ac != ac)
        return;
    if (rep->type == REDIS_REPLY_ERROR) {
        set_reason(r, "Redis %s:%d refused venued: %s", r->url.host, r->url.port, rep->str);
        r->said = true;
        redisAsyncDisconnect(ac);
        return;
    }
    if (ac->c.flags & REDIS_DISCONNECTING)
        return;
    if (rep->type != REDIS_REPLY_STATUS || strcmp(rep->str, "PONG") != 0)
        return; /* AUTH's or SELECT's OK: PING's comes next */
    if (r->channel[0])
        redisAsyncCommand(ac, on_subscribed, r, "SUBSCRIBE %s", r->channel);
    else
        ready(r);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct redis *r = ac->data;
    if (r->ac != ac)
        return;
    if (status != REDIS_OK) {
        /* hiredis frees the context itself after this, without a disconnect call */
        set_reason(r, "Redis %s:%d: %s", r->url.host, r->url.port, ac->errstr);
        drop(r, true);
        return;
    }
    if (r->url.password[0])
        redisAsyncCommand(r->ac, on_ready_reply, r, "AUTH %s", r->url.password);
    if (r->url.db)
        redisAsyncCommand(r->ac, on_ready_reply, r, "SELECT %d", r->url.db);
    redisAsyncCommand(r->ac, on_ready_reply, r, "PING");
}

static void connect_timeout(lws_sorted_usec_list_t *sul)
{
    struct redis *r = lws_container_of(sul, struct redis, timeout_sul);
    set_reason(r, "Redis %s:%d did not answer within %d ms", r->url.host, r->url.port,
               REDIS_CONNECT_MS);
    drop(r, false);
}

static void try_connect(lws_sorted_usec_list_t *sul)
{
    struct redis *r = lws_container_of(sul, struct redis, retry_sul);
    struct lws_vhost *vh = lws_get_vhost_by_name(r->ctx, "default");
    lws_sock_file_fd_type fd;
    redisAsyncContext *ac = redisAsyncConnect(r->url.host, r->url.port);

    if (!ac || ac->err) {
        set_reason(r, "Redis %s:%d: %s", r->url.host, r->url.port,
                   ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        drop(r, true);
        return;
    }
    r->said = false;
    ac->data = r;
    ac->ev.data = r;
    ac->ev.addRead = ev_nothing;
    ac->ev.delRead = ev_nothing;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_nothing;
    ac->ev.cleanup = ev_cleanup;
    r->ac = ac;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    fd.filefd = dup(ac->c.fd);
    r->wsi = vh && fd.filefd >= 0 ? lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd,
                                                               redis_protocol.name, NULL)
                                  : NULL;
    if (!r->wsi) {
        if (fd.filefd >= 0)
            close(fd.filefd);
        set_reason(r, "Redis %s:%d: cannot watch the socket", r->url.host, r->url.port);
        drop(r, false);
        return;
    }
    lws_set_opaque_user_data(r->wsi, r);
    /* hiredis asked for its first write (the connect's end) before the wsi was there */
    lws_callback_on_writable(r->wsi);
    lws_sul_schedule(r->ctx, 0, &r->timeout_sul, connect_timeout,
                     (lws_usec_t)REDIS_CONNECT_MS * LWS_US_PER_MS);
}

/* ---- lws' side ------------------------------------------------------ */

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct redis *r = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    (void)user;
    (void)in;
    (void)len;
    if (!r || r->wsi != wsi)
        return reason == LWS_CALLBACK_RAW_RX_FILE || reason == LWS_CALLBACK_RAW_WRITEABLE_FILE ? -1
                                                                                               : 0;
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        redisAsyncHandleRead(r->ac);
        break;
    case LWS_CALLBACK_RAW_WRITEABLE_FILE:
        redisAsyncHandleWrite(r->ac);
        break;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        lws_set_opaque_user_data(wsi, NULL);
        r->wsi = NULL;
        set_reason(r, "Redis %s:%d: the connection was lost", r->url.host, r->url.port);
        drop(r, false);
        break;
    default:
        break;
    }
    return 0;
}

const struct lws_protocols redis_protocol = {"venue-redis", callback, 0, 0, 0, NULL, 0};

/* ---- the interface -------------------------------------------------- */

struct redis *redis_new(struct lws_context *ctx, const struct redis_url *url,
                        redis_state_fn on_state, void *arg)
{
    struct redis *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->ctx = ctx;
    r->url = *url;
    r->on_state = on_state;
    r->arg = arg;
    r->backoff_ms = REDIS_BACKOFF_MIN_MS;
    set_reason(r, "connecting to Redis %s:%d", url->host, url->port);
    lws_sul_schedule(ctx, 0, &r->retry_sul, try_connect, 1);
    return r;
}

void redis_subscribe(struct redis *r, const char *channel, redis_message_fn fn, void *arg)
{
    snprintf(r->channel, sizeof(r->channel), "%s", channel);
    r->on_message = fn;
    r->message_arg = arg;
}

void redis_free(struct redis *r)
{
    if (!r)
        return;
    r->freeing = true;
    lws_sul_cancel(&r->retry_sul);
    drop(r, false);
    free(r);
}

/* A place for a command's callback, or NULL when none may be sent now. */
static struct pending *pending_new(struct redis *r, redis_reply_fn fn, void *arg)
{
    struct pending *p;
    if (!r->ready || r->channel[0] || r->inflight >= REDIS_INFLIGHT_MAX)
        return NULL;
    p = malloc(sizeof(*p));
    if (p)
        *p = (struct pending){r, fn, arg};
    return p;
}

/* rc is hiredis' for queueing p's command: p is counted, or freed. */
static int pending_sent(struct redis *r, struct pending *p, int rc)
{
    if (rc != REDIS_OK) {
        free(p);
        return -1;
    }
    r->inflight++;
    return 0;
}

int redis_command(struct redis *r, redis_reply_fn fn, void *arg, const char *fmt, ...)
{
    struct pending *p = pending_new(r, fn, arg);
    va_list ap;
    int rc;

    if (!p)
        return -1;
    va_start(ap, fmt);
    rc = redisvAsyncCommand(r->ac, on_command_reply, p, fmt, ap);
    va_end(ap);
    return pending_sent(r, p, rc);
}

int redis_command_argv(struct redis *r, redis_reply_fn fn, void *arg, int argc, const char **argv,
                       const size_t *argvlen)
{
    struct pending *p = pending_new(r, fn, arg);
    if (!p)
        return -1;
    return pending_sent(r, p,
                        redisAsyncCommandArgv(r->ac, on_command_reply, p, argc, argv, argvlen));
}

void redis_reset(struct redis *r, const char *reason)
{
    if (!r->ac)
        return;
    set_reason(r, "Redis %s:%d: %s", r->url.host, r->url.port, reason);
    drop(r, false);
}

bool redis_up(const struct redis *r)
{
    return r->ready;
}

const char *redis_reason(const struct redis *r)
{
    return r->reason;
}

unsigned long long redis_reconnects(const struct redis *r)
{
    return r->reconnects;
}
