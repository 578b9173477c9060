/*
 * test_voice.c - who may speak and who hears whom, in the core: a fake
 * media server's client records what the core asks of it (tokens, allowed
 * lists, kicks, mutes), and the test plays Janus' events (up, down,
 * publishers, talking) and reads what each client is told.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core_harness.h"
#include "registry.h"
#include "store.h"

static char dir[] = "/tmp/venue-voice-XXXXXX";
static struct store *st;
static struct registry *reg;

static struct registered mod1, speaker, att[3];

/* ---- the fake media server's client ---- */

#define LOG_MAX 4096
static char calls[LOG_MAX][128];
static size_t ncalls;

static void record(const char *fmt, const char *a, const char *b, unsigned long long n)
{
    if (ncalls < LOG_MAX)
        snprintf(calls[ncalls++], sizeof(calls[0]), fmt, a, b, n);
}

static uint64_t fake_number(void *ctx, const char *room)
{
    (void)ctx;
    for (size_t i = 0; i < scenes.n; i++)
        if (strcmp(scenes.scenes[i]->id, room) == 0)
            return 1000 + i;
    return 0;
}

static void fake_token(void *ctx, const char *t, bool add)
{
    (void)ctx;
    record("token %s %s%llu", t, add ? "add" : "remove", 0);
}

static void fake_allow(void *ctx, const char *room, const char *t, bool on)
{
    (void)ctx;
    record("allow %s %s %llu", room, t, on);
}

static void fake_kick(void *ctx, const char *room, uint64_t id)
{
    (void)ctx;
    record("kick %s%s %llu", room, "", (unsigned long long)id);
}

static void fake_mute(void *ctx, const char *room, uint64_t id, bool on)
{
    char what[8];
    (void)ctx;
    snprintf(what, sizeof(what), "%d", on);
    record("mute %s %s %llu", room, what, (unsigned long long)id);
}

static const char *fake_ice(void *ctx, const char *user)
{
    static char out[160];
    (void)ctx;
    snprintf(out, sizeof(out), "[{\"urls\":\"turn:127.0.0.1:3478\",\"username\":\"%s\"}]", user);
    return out;
}

static const struct venue_voice_io fake = {
    .room_number = fake_number,
    .token = fake_token,
    .allow = fake_allow,
    .kick = fake_kick,
    .mute = fake_mute,
    .ice = fake_ice,
};

static bool called(const char *want)
{
    for (size_t i = 0; i < ncalls; i++)
        if (strcmp(calls[i], want) == 0)
            return true;
    return false;
}

static bool called_fmt(const char *fmt, const char *a, const char *b, unsigned long long n)
{
    char want[128];
    snprintf(want, sizeof(want), fmt, a, b, n);
    return called(want);
}

/* ---- helpers ---- */

static void tick(struct venue *v, long long ms)
{
    now += ms;
    venue_tick(v, now);
}

/* The last message of this type in msgs, borrowed, or NULL. */
static json_t *last(json_t *msgs, const char *type)
{
    json_t *m, *found = NULL;
    size_t i;
    json_array_foreach(msgs, i, m) if (strcmp(type_of(m), type) == 0) found = m;
    return found;
}

/* What c was told last about voice, as an object the caller frees. */
static json_t *voice_of(struct venue *v, struct fconn *c)
{
    json_t *msgs = drain(v, c), *m = last(msgs, "voice");
    json_incref(m);
    json_decref(msgs);
    return m;
}

static const char *sget(json_t *m, const char *k)
{
    const char *s = json_string_value(json_object_get(m, k));
    return s ? s : "";
}

static long long iget(json_t *m, const char *k)
{
    return json_integer_value(json_object_get(m, k));
}

static bool bget(json_t *m, const char *k)
{
    return json_is_true(json_object_get(m, k));
}

struct who {
    struct fconn *c;
    char token[40];
    uint64_t id;
};

/* c's token and id, from a voice message that must say up. */
static struct who who_of(struct fconn *c, json_t *voice)
{
    struct who w = {.c = c, .id = (uint64_t)iget(voice, "id")};
    CHECK(strcmp(sget(voice, "state"), "up") == 0);
    snprintf(w.token, sizeof(w.token), "%s", sget(voice, "token"));
    CHECK(strlen(w.token) == 32 && w.id > 1);
    return w;
}

static void pose(struct venue *v, struct fconn *c, float x, float z)
{
    char text[128];
    now += 10; /* with the speed limit raised (main), a step anywhere; at a stage's height */
    snprintf(text, sizeof(text), "{\"type\":\"pose\",\"p\":[%.2f,0.9,%.2f],\"q\":[0,0,0,1]}", x, z);
    send_text(v, c, text);
}

/* The ids of the last voice_peers c was sent, into ids; -1: none sent. */
static int peers_of(struct venue *v, struct fconn *c, uint64_t *ids, int max)
{
    json_t *msgs = drain(v, c), *m = last(msgs, "voice_peers"), *p;
    size_t i;
    int n = 0;
    if (!m) {
        json_decref(msgs);
        return -1;
    }
    json_array_foreach(json_object_get(m, "peers"), i, p) if (n < max) ids[n++] =
        (uint64_t)iget(p, "id");
    json_decref(msgs);
    return n;
}

/* c joins room; what it is told about voice there (the caller frees it). */
static json_t *go(struct venue *v, struct fconn *c, const char *room)
{
    char text[128];
    snprintf(text, sizeof(text), "{\"type\":\"join\",\"room\":\"%s\"}", room);
    send_text(v, c, text);
    return voice_of(v, c);
}

static struct venue *open_venue(void)
{
    char err[256];
    struct venue *v = venue_new(&cfg, &io, &scenes, st, reg, now, err, sizeof(err));
    if (!v)
        fprintf(stderr, "venue_new: %s\n", err);
    return v;
}

/* ---- the tests ---- */

static void test_without_voice(void)
{
    struct venue *v = open_venue();
    struct fconn *a = connect_as(v, "Ada", NULL);
    json_t *m = go(v, a, "lobby");
    CHECK(m && strcmp(sget(m, "state"), "off") == 0 && !json_object_get(m, "token"));
    json_decref(m);
    venue_disconnect(v, a->s, now);
    free(a);
    venue_free(v);
}

static void test_breakout(struct venue *v)
{
    struct fconn *a = enter_token(v, att[0].token, NULL);
    struct fconn *b = enter_token(v, att[1].token, NULL);
    struct fconn *m = enter_token(v, mod1.token, "breakout-1");
    json_t *va = go(v, a, "breakout-1"), *vb = go(v, b, "breakout-1");
    struct who wa, wb;
    uint64_t ids[40];

    tick(v, 50);
    wa = who_of(a, va);
    wb = who_of(b, vb);
    CHECK(strcmp(wa.token, wb.token) != 0 && wa.id != wb.id);
    CHECK(strcmp(sget(va, "mode"), "spatial") == 0 && bget(va, "publish"));
    CHECK(iget(va, "room") == (long long)fake_number(NULL, "breakout-1") &&
          iget(va, "listen") == iget(va, "room"));
    CHECK(strcmp(sget(va, "url"), "/voice") == 0);
    /* The TURN relay's credentials are the person's own. */
    CHECK(strcmp(sget(json_array_get(json_object_get(va, "ice"), 0), "username"), att[0].id) == 0);
    json_decref(va);
    json_decref(vb);
    CHECK(called_fmt("token %s %s%llu", wa.token, "add", 0));
    CHECK(called_fmt("allow %s %s %llu", "breakout-1", wa.token, 1));

    /* A publishes: B is told to hear it; A is not told to hear itself. */
    venue_voice_publisher(v, "breakout-1", wa.id, true, now);
    tick(v, 50);
    CHECK(peers_of(v, b, ids, 40) == 1 && ids[0] == wa.id);
    CHECK(peers_of(v, a, ids, 40) <= 0);
    /* An id venued never gave is kicked at once. */
    venue_voice_publisher(v, "breakout-1", 987654321, true, now);
    CHECK(called("kick breakout-1 987654321"));

    /* Talking shows in presence. */
    json_decref(drain(v, b));
    venue_voice_talking(v, "breakout-1", wa.id, true, now);
    {
        json_t *msgs = drain(v, b), *p = find(msgs, "presence");
        CHECK(p && bget(json_object_get(p, "user"), "talking"));
        json_decref(msgs);
    }

    /* A moderator's mute silences A in the media server and tells A. */
    ncalls = 0;
    {
        char body[128];
        snprintf(body, sizeof(body), "\"action\":\"mute\",\"target\":\"%s\"", att[0].id);
        CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    }
    tick(v, 50);
    CHECK(called_fmt("mute %s %s %llu", "breakout-1", "1", wa.id));
    va = voice_of(v, a);
    CHECK(va && bget(va, "muted") && !bget(va, "publish"));
    json_decref(va);
    CHECK(peers_of(v, b, ids, 40) == 0); /* a muted voice is not listed */
    {
        char body[128];
        snprintf(body, sizeof(body), "\"action\":\"unmute\",\"target\":\"%s\"", att[0].id);
        CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    }
    tick(v, 50);
    CHECK(called_fmt("mute %s %s %llu", "breakout-1", "0", wa.id));
    va = voice_of(v, a);
    CHECK(va && !bget(va, "muted") && bget(va, "publish"));
    json_decref(va);

    /* Locked microphones: attendees may not speak, a moderator may. */
    venue_voice_publisher(v, "breakout-1", wb.id, true, now);
    ncalls = 0;
    CHECK(strcmp(mod_send(v, m, "\"action\":\"lock_mics\""), "mod_ok") == 0);
    tick(v, 50);
    CHECK(called_fmt("mute %s %s %llu", "breakout-1", "1", wa.id));
    CHECK(called_fmt("mute %s %s %llu", "breakout-1", "1", wb.id));
    va = voice_of(v, a);
    CHECK(va && bget(va, "locked") && !bget(va, "publish"));
    json_decref(va);
    va = voice_of(v, m);
    CHECK(va && bget(va, "locked") && bget(va, "publish"));
    json_decref(va);
    CHECK(audit_count(reg, "lock_mics") == 1);
    CHECK(strcmp(mod_send(v, m, "\"action\":\"unlock_mics\""), "mod_ok") == 0);
    tick(v, 50);
    CHECK(called_fmt("mute %s %s %llu", "breakout-1", "0", wb.id));

    /* Leaving: not allowed there any more, its media there ended, a new id. */
    ncalls = 0;
    va = go(v, a, "lobby");
    CHECK(called_fmt("allow %s %s %llu", "breakout-1", wa.token, 0));
    CHECK(called_fmt("kick %s%s %llu", "breakout-1", "", wa.id));
    CHECK(called_fmt("allow %s %s %llu", "lobby", wa.token, 1));
    CHECK(va && (uint64_t)iget(va, "id") != wa.id && strcmp(sget(va, "token"), wa.token) == 0);
    json_decref(va);
    tick(v, 50);
    CHECK(peers_of(v, b, ids, 40) == 0); /* A is gone; B does not hear itself */

    /* The old id in the old room is now unknown there: kicked. */
    ncalls = 0;
    venue_voice_publisher(v, "breakout-1", wa.id, true, now);
    CHECK(called_fmt("kick %s%s %llu", "breakout-1", "", wa.id));

    for (struct fconn *c[] = {a, b, m}, **p = c; p < c + 3; p++) {
        venue_disconnect(v, (*p)->s, now);
        free(*p);
    }
}

/* Within VOICE_RANGE_M only, nearest first, at most 32. */
static void test_range(struct venue *v)
{
    struct fconn *l = connect_as(v, "Listener", NULL), *far, *pubs[40];
    struct who wf, wp[40];
    uint64_t ids[64];
    json_t *m;
    int n;

    join(v, l, "expo");
    pose(v, l, -14, 0);
    far = connect_as(v, "Far", NULL);
    m = go(v, far, "expo");
    pose(v, far, 14, 0);
    wf = who_of(far, m);
    json_decref(m);
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof(name), "P%d", i);
        pubs[i] = connect_as(v, name, NULL);
        m = go(v, pubs[i], "expo");
        /* in a row going away from the listener: 0.2 m apart, all in range */
        pose(v, pubs[i], -13.0f + 0.2f * (float)(39 - i), -2);
        wp[i] = who_of(pubs[i], m);
        json_decref(m);
        venue_voice_publisher(v, "expo", wp[i].id, true, now);
    }
    venue_voice_publisher(v, "expo", wf.id, true, now);
    tick(v, 1100);
    n = peers_of(v, l, ids, 64);
    CHECK(n == 32);
    /* the nearest are the last ones placed */
    CHECK(n > 0 && ids[0] == wp[39].id && ids[31] == wp[8].id);
    for (int i = 0; i < n; i++)
        CHECK(ids[i] != wf.id); /* 28 m away: not heard */
    /* Nothing changed: nothing sent again. */
    tick(v, 1100);
    CHECK(peers_of(v, l, ids, 64) == -1);
    /* The far one walks over: now it is heard (and is the nearest). */
    pose(v, far, -14, 0.5f);
    tick(v, 1100);
    n = peers_of(v, l, ids, 64);
    CHECK(n == 32 && ids[0] == wf.id);

    venue_disconnect(v, l->s, now);
    venue_disconnect(v, far->s, now);
    free(l);
    free(far);
    for (int i = 0; i < 40; i++) {
        venue_disconnect(v, pubs[i]->s, now);
        free(pubs[i]);
    }
}

/* The plenary: only stage rights publish; the overflow hears the hall. */
static void test_stage(struct venue *v)
{
    struct fconn *a = enter_token(v, att[2].token, NULL);
    struct fconn *s = enter_token(v, speaker.token, NULL);
    struct fconn *o = connect_as(v, "Over", NULL);
    json_t *m;
    struct who wa, ws, wo;
    uint64_t ids[8];

    m = go(v, a, "plenary");
    wa = who_of(a, m);
    CHECK(strcmp(sget(m, "mode"), "stage") == 0 && !bget(m, "publish"));
    json_decref(m);
    m = go(v, s, "plenary");
    ws = who_of(s, m);
    CHECK(bget(m, "publish"));
    json_decref(m);
    m = go(v, o, "plenary-overflow");
    wo = who_of(o, m);
    CHECK(iget(m, "room") == 0 && iget(m, "listen") == (long long)fake_number(NULL, "plenary"));
    CHECK(strcmp(sget(m, "mode"), "stage") == 0 && !bget(m, "publish"));
    json_decref(m);
    CHECK(called_fmt("allow %s %s %llu", "plenary-overflow", wo.token, 1));
    CHECK(called_fmt("allow %s %s %llu", "plenary", wo.token, 1));

    /* The attendee publishes anyway: muted at once, and not listed. */
    ncalls = 0;
    venue_voice_publisher(v, "plenary", wa.id, true, now);
    venue_voice_publisher(v, "plenary", ws.id, true, now);
    tick(v, 50);
    CHECK(called_fmt("mute %s %s %llu", "plenary", "1", wa.id));
    CHECK(!called_fmt("mute %s %s %llu", "plenary", "1", ws.id));
    CHECK(peers_of(v, o, ids, 8) == 1 && ids[0] == ws.id);
    CHECK(peers_of(v, a, ids, 8) == 1 && ids[0] == ws.id);
    CHECK(peers_of(v, s, ids, 8) <= 0); /* the speaker does not hear itself */
    /* The speaker steps on the stage and talks: the overflow sees it too. */
    {
        const struct scene_place *place = NULL;
        json_t *msgs, *stage;
        for (size_t i = 0; i < scenes.n; i++)
            for (size_t k = 0;
                 strcmp(scenes.scenes[i]->id, "plenary") == 0 && k < scenes.scenes[i]->nplaces; k++)
                if (scenes.scenes[i]->places[k].type == SCENE_PLACE_STAGE)
                    place = &scenes.scenes[i]->places[k];
        CHECK(place != NULL);
        if (place) {
            pose(v, s, (place->min[0] + place->max[0]) / 2, (place->min[2] + place->max[2]) / 2);
            tick(v, 50);
            json_decref(drain(v, o));
            venue_voice_talking(v, "plenary", ws.id, true, now);
            tick(v, 50);
            msgs = drain(v, o);
            stage = last(msgs, "stage");
            CHECK(stage && bget(json_array_get(json_object_get(stage, "users"), 0), "talking"));
            json_decref(msgs);
        }
    }
    /* A promotion gives the right to speak: unmuted in the media server. */
    {
        struct fconn *m2 = enter_token(v, mod1.token, "plenary");
        char body[128];
        snprintf(body, sizeof(body), "\"action\":\"promote\",\"target\":\"%s\"", att[2].id);
        CHECK(strcmp(mod_send(v, m2, body), "mod_ok") == 0);
        tick(v, 50);
        CHECK(called_fmt("mute %s %s %llu", "plenary", "0", wa.id));
        CHECK(peers_of(v, o, ids, 8) == 2);
        venue_disconnect(v, m2->s, now);
        free(m2);
    }

    /* Janus goes: everyone hears voice down; comes back: up, peers afresh. */
    venue_voice_state(v, false, "the voice server is not reachable", now);
    tick(v, 50);
    m = voice_of(v, o);
    CHECK(m && strcmp(sget(m, "state"), "down") == 0 &&
          strcmp(sget(m, "reason"), "the voice server is not reachable") == 0);
    json_decref(m);
    ncalls = 0;
    venue_voice_state(v, true, NULL, now);
    CHECK(called_fmt("allow %s %s %llu", "plenary", wa.token, 1));
    tick(v, 50);
    {
        json_t *msgs = drain(v, o), *up = last(msgs, "voice"), *peers = last(msgs, "voice_peers");
        CHECK(up && strcmp(sget(up, "state"), "up") == 0);
        /* nobody publishes in the new Janus yet */
        CHECK(peers && json_array_size(json_object_get(peers, "peers")) == 0);
        json_decref(msgs);
    }

    venue_disconnect(v, a->s, now);
    venue_disconnect(v, s->s, now);
    venue_disconnect(v, o->s, now);
    free(a);
    free(s);
    free(o);
}

/* Gone for good: the token is withdrawn. */
static void test_gone(struct venue *v)
{
    struct fconn *a = connect_as(v, "Brief", NULL);
    json_t *m;
    struct who w;
    m = go(v, a, "breakout-2");
    w = who_of(a, m);
    json_decref(m);
    venue_disconnect(v, a->s, now);
    free(a);
    ncalls = 0;
    tick(v, (long long)cfg.resume_grace_s * 1000 + 100);
    CHECK(called_fmt("token %s %s%llu", w.token, "remove", 0));
    CHECK(called_fmt("kick %s%s %llu", "breakout-2", "", w.id));
}

int main(int argc, char **argv)
{
    char err[512];
    struct venue *v;

    config_defaults(&cfg);
    cfg.max_speed = 1e6;
    if (scene_set_load(argc > 1 ? argv[1] : "scenes/demo", &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "scenes: %s\n", err);
        return 1;
    }
    if (open_store(dir, &st, &reg) < 0)
        return 1;
    registered_add(reg, &mod1, "Mo Moderator", ROLE_MODERATOR, 1700000000000LL);
    registered_add(reg, &speaker, "Sam Speaker", ROLE_SPEAKER, 1700000000000LL);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "Attendee %d", i);
        registered_add(reg, &att[i], name, ROLE_ATTENDEE, 1700000000000LL);
    }
    test_without_voice();
    v = open_venue();
    venue_voice_attach(v, &fake, "/voice");
    {
        /* Before Janus is up: voice is down, with a reason. */
        struct fconn *c = connect_as(v, "Early", NULL);
        json_t *m = go(v, c, "breakout-3");
        CHECK(m && strcmp(sget(m, "state"), "down") == 0 && sget(m, "reason")[0]);
        json_decref(m);
        venue_voice_state(v, true, NULL, now);
        tick(v, 50);
        m = voice_of(v, c);
        CHECK(m && strcmp(sget(m, "state"), "up") == 0);
        json_decref(m);
        venue_disconnect(v, c->s, now);
        free(c);
    }
    test_breakout(v);
    test_range(v);
    test_stage(v);
    test_gone(v);
    venue_free(v);
    remove_store(dir, st, reg);
    scene_set_free(&scenes);
    return check_report();
}
