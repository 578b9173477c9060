/*
 * service_loop.h - the loop venued serves from: libev (epoll), handed to
 * libwebsockets as a foreign loop, or libwebsockets' own poll() loop
 * (--event-loop). poll() walks every socket on every wake-up, which at a
 * few thousand connections is much of a core; epoll hands over only the
 * sockets that are ready, for less CPU but, measured, later frames
 * (BENCHMARKS.md, "The event loop"), so poll() is the default.
 *
 * The tick has a timer of its own here: lws's timers run after the I/O
 * callbacks of the same wake-up under libev, so a busy loop would start
 * every tick late; this one runs first.
 *
 * The loop is ours so that it can stop: lws 4.1 has no call that ends a
 * libev loop it runs, and venued must leave it on SIGTERM to save the
 * sessions and close every client with 1001. Before each wait the loop
 * looks at *stop (set by a signal handler, which also wakes the wait).
 */
#ifndef VENUE_SERVICE_LOOP_H
#define VENUE_SERVICE_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

typedef void service_loop_fn(void *arg);

struct service_loop {
    struct ev_loop *ev; /* owned; NULL: lws's poll() loop */
    void *foreign[1];   /* what info.foreign_loops points at */
    void *stop_watch;   /* owned ev_prepare that ends a run on *stop */
    volatile sig_atomic_t *stop;
    bool running;               /* in service_loop_run: *stop ends it */
    void *timer;                /* owned ev_timer for service_loop_after (libev) */
    lws_sorted_usec_list_t sul; /* the same on lws's loop */
    struct lws_context *ctx;    /* borrowed, for the sul */
    service_loop_fn *fn;
    void *arg;
};

/* Make the loop kind ("libev" or "poll") and set info to use it. 0, or -1
 * with the reason in err. */
int service_loop_init(struct service_loop *sl, const char *kind, volatile sig_atomic_t *stop,
                      struct lws_context_creation_info *info, char *err, size_t errlen);

/* Call fn(arg) once, us microseconds from now (replacing the call set
 * before); under libev ahead of that wake-up's I/O. */
void service_loop_after(struct service_loop *sl, struct lws_context *ctx, lws_usec_t us,
                        service_loop_fn *fn, void *arg);
void service_loop_cancel(struct service_loop *sl);

/* Serve until *stop is set: 0, or -1 when libwebsockets failed. */
int service_loop_run(struct service_loop *sl, struct lws_context *ctx);

/* Serve one round, waiting for at most one event or timer: 0, or -1. */
int service_loop_once(struct service_loop *sl, struct lws_context *ctx);

/* After lws_context_destroy: the loop's own memory. */
void service_loop_free(struct service_loop *sl);

#endif
