/*
 * service_loop.c - libev or poll() under libwebsockets, and a way out of
 * either on a signal.
 */
#include "service_loop.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

static void check_stop(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct service_loop *sl = w->data;
    (void)revents;
    if (sl->running && *sl->stop)
        ev_break(loop, EVBREAK_ALL);
}

static void timer_fired(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct service_loop *sl = w->data;
    (void)loop;
    (void)revents;
    sl->fn(sl->arg);
}

static void sul_fired(lws_sorted_usec_list_t *sul)
{
    struct service_loop *sl = lws_container_of(sul, struct service_loop, sul);
    sl->fn(sl->arg);
}

int service_loop_init(struct service_loop *sl, const char *kind, volatile sig_atomic_t *stop,
                      struct lws_context_creation_info *info, char *err, size_t errlen)
{
    ev_prepare *w;
    ev_timer *t;

    memset(sl, 0, sizeof(*sl));
    sl->stop = stop;
    if (strcmp(kind, "poll") == 0)
        return 0;
    /* The signals are ours (main.c's handlers): libev leaves the mask alone. */
    sl->ev = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    w = malloc(sizeof(*w));
    t = malloc(sizeof(*t));
    if (!sl->ev || !w || !t) {
        snprintf(err, errlen, "--event-loop libev: %s",
                 sl->ev ? "out of memory" : "libev found no usable backend");
        free(w);
        free(t);
        service_loop_free(sl);
        return -1;
    }
    ev_timer_init(t, timer_fired, 0, 0);
    ev_set_priority(t, EV_MAXPRI);
    t->data = sl;
    sl->timer = t;
    ev_prepare_init(w, check_stop);
    w->data = sl;
    ev_prepare_start(sl->ev, w);
    ev_unref(sl->ev); /* the watcher alone does not keep the loop alive */
    sl->stop_watch = w;
    sl->foreign[0] = sl->ev;
    info->foreign_loops = sl->foreign;
    info->options |= LWS_SERVER_OPTION_LIBEV;
    return 0;
}

void service_loop_after(struct service_loop *sl, struct lws_context *ctx, lws_usec_t us,
                        service_loop_fn *fn, void *arg)
{
    sl->fn = fn;
    sl->arg = arg;
    if (!sl->ev) {
        sl->ctx = ctx;
        lws_sul_schedule(ctx, 0, &sl->sul, sul_fired, us);
        return;
    }
    ev_timer_stop(sl->ev, sl->timer);
    /* From now, not from when this wake-up began (ev_now). */
    ev_now_update(sl->ev);
    ev_timer_set((ev_timer *)sl->timer, (ev_tstamp)us / 1e6, 0);
    ev_timer_start(sl->ev, sl->timer);
}

void service_loop_cancel(struct service_loop *sl)
{
    if (sl->ev)
        ev_timer_stop(sl->ev, sl->timer);
    else if (sl->ctx)
        lws_sul_cancel(&sl->sul);
}

int service_loop_run(struct service_loop *sl, struct lws_context *ctx)
{
    int rc = 0;
    if (sl->ev) {
        sl->running = true;
        if (!*sl->stop)
            ev_run(sl->ev, 0);
        sl->running = false;
        return 0;
    }
    while (rc >= 0 && !*sl->stop)
        rc = lws_service(ctx, 0);
    return rc < 0 ? -1 : 0;
}

int service_loop_once(struct service_loop *sl, struct lws_context *ctx)
{
    if (sl->ev) {
        ev_run(sl->ev, EVRUN_ONCE);
        return 0;
    }
    return lws_service(ctx, 0) < 0 ? -1 : 0;
}

void service_loop_free(struct service_loop *sl)
{
    if (sl->ev) {
        if (sl->timer)
            ev_timer_stop(sl->ev, sl->timer);
        if (sl->stop_watch) {
            ev_ref(sl->ev);
            ev_prepare_stop(sl->ev, sl->stop_watch);
        }
        ev_loop_destroy(sl->ev);
    }
    free(sl->stop_watch);
    free(sl->timer);
    memset(sl, 0, sizeof(*sl));
}
