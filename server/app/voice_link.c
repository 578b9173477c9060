/*
 * voice_link.c - the core's voice decisions to Janus and Janus' events
 * back (voice_link.h). Both directions are plain calls on the service
 * thread: the Janus client only queues requests, the core only queues
 * frames.
 */
#include "voice_link.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "janus.h"
#include "secret.h"
#include "server.h"
#include "venue.h"

#define VOICE_PROXY_PATH "/voice" /* net/voice_proxy.c: what browsers connect to by default */

#define ICE_MAX 2048 /* bytes of one page's ICE servers, as JSON */

struct voice_link {
    struct server *srv;
    struct janus *j;
    char ice[ICE_MAX]; /* the last ice() answer */
};

/* ---- the core's decisions ---- */

static uint64_t room_number(void *ctx, const char *room)
{
    struct voice_link *l = ctx;
    return janus_room_of(l->j, room);
}

static void token(void *ctx, const char *t, bool add)
{
    struct voice_link *l = ctx;
    if ((add ? janus_add_token(l->j, t) : janus_remove_token(l->j, t)) < 0)
        fprintf(stderr, "venued: voice: a token could not be %s\n", add ? "added" : "removed");
    /* and the person's connections to Janus, which end their Janus
     * sessions: what they hear stops with what they say */
    if (!add && l->srv->voice_proxy)
        voice_proxy_drop_token(l->srv->voice_proxy, t);
}

static void allow(void *ctx, const char *room, const char *t, bool on)
{
    struct voice_link *l = ctx;
    uint64_t n = janus_room_of(l->j, room);
    if (n && janus_allow(l->j, n, t, on) < 0 && on)
        fprintf(stderr, "venued: voice: a token could not be allowed in %s\n", room);
}

static void kick(void *ctx, const char *room, uint64_t participant)
{
    struct voice_link *l = ctx;
    uint64_t n = janus_room_of(l->j, room);
    if (n && janus_state(l->j) == JANUS_READY)
        janus_kick(l->j, n, participant);
}

static void mute(void *ctx, const char *room, uint64_t participant, bool on)
{
    struct voice_link *l = ctx;
    uint64_t n = janus_room_of(l->j, room);
    if (n && janus_state(l->j) == JANUS_READY && janus_mute(l->j, n, participant, on) < 0)
        fprintf(stderr, "venued: voice: a mute in %s could not be queued\n", room);
}

/* The TURN relays with a password of this user's own (coturn's REST
 * scheme: the username is the expiry time and the user), so that a
 * password that leaks stops working within --turn-ttl. */
static const char *ice(void *ctx, const char *user_id)
{
    struct voice_link *l = ctx;
    const struct venue_config *c = &l->srv->cfg;
    char username[96], password[SECRET_TURN_B64 + 1], urls[sizeof(c->turn_urls)];
    json_t *list, *arr;
    char *text;

    if (!c->turn_urls[0])
        return NULL;
    snprintf(username, sizeof(username), "%lld:%s", clock_wall_ms() / 1000 + c->turn_ttl_s,
             user_id);
    if (secret_turn_password(c->turn_secret, username, password) < 0)
        return NULL;
    arr = json_array();
    snprintf(urls, sizeof(urls), "%s", c->turn_urls);
    for (char *save = NULL, *u = strtok_r(urls, ",", &save); u; u = strtok_r(NULL, ",", &save))
        json_array_append_new(arr, json_string(u));
    list =
        json_pack("[{s:o, s:s, s:s}]", "urls", arr, "username", username, "credential", password);
    text = list ? json_dumps(list, JSON_COMPACT) : NULL;
    json_decref(list);
    if (!text || strlen(text) >= sizeof(l->ice)) {
        free(text);
        return NULL;
    }
    strcpy(l->ice, text);
    free(text);
    return l->ice;
}

/* ---- Janus' events ---- */

static void on_state(void *ctx, bool up, const char *reason)
{
    struct voice_link *l = ctx;
    /* Said for people: the client shows it as it is. */
    venue_voice_state(l->srv->venue, up, up ? "" : "the voice server is not reachable",
                      clock_mono_ms());
    (void)reason; /* the operator's detail is in the log and /healthz */
}

static void on_publisher(void *ctx, const char *room, uint64_t participant, bool on)
{
    struct voice_link *l = ctx;
    venue_voice_publisher(l->srv->venue, room, participant, on, clock_mono_ms());
}

static void on_talking(void *ctx, const char *room, uint64_t participant, bool on)
{
    struct voice_link *l = ctx;
    venue_voice_talking(l->srv->venue, room, participant, on, clock_mono_ms());
}

struct voice_link *voice_link_new(struct server *srv, char *err, size_t errlen)
{
    struct janus_secrets sec;
    const char *admin = srv->cfg.janus_admin_url;
    struct voice_link *l = calloc(1, sizeof(*l));
    struct janus_events ev = {.state = on_state, .publisher = on_publisher, .talking = on_talking};
    struct venue_voice_io io = {.room_number = room_number,
                                .token = token,
                                .allow = allow,
                                .kick = kick,
                                .mute = mute,
                                .ice = ice};

    if (!l) {
        snprintf(err, errlen, "voice: no memory");
        return NULL;
    }
    l->srv = srv;
    ev.ctx = io.ctx = l;
    if (janus_read_secrets(srv->cfg.janus_secrets, &sec, err, errlen) < 0) {
        free(l);
        return NULL;
    }
    if (!admin[0])
        admin = sec.admin_url;
    l->j = janus_new(srv->ctx, srv->cfg.janus_url, admin, &sec, &srv->scenes, &ev, err, errlen);
    memset(&sec, 0, sizeof(sec));
    if (!l->j) {
        free(l);
        return NULL;
    }
    srv->voice = janus_status(l->j);
    venue_voice_attach(srv->venue, &io,
                       srv->cfg.voice_url[0] ? srv->cfg.voice_url : VOICE_PROXY_PATH);
    return l;
}

void voice_link_free(struct voice_link *l)
{
    if (!l)
        return;
    l->srv->voice = NULL;
    janus_free(l->j); /* before the context: it detaches from its connections */
    free(l);
}
