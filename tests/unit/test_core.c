/*
 * test_core.c - the venue core driven without a network: a fake transport
 * records what the core asks of it, and the clock is whatever the test says.
 */
#include <jansson.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "poses_bin.h"
#include "scene.h"
#include "store.h"
#include "venue.h"

#include "core_harness.h"

static struct venue *new_venue(struct store *st)
{
    char err[256];
    struct venue *v = venue_new(&cfg, &io, &scenes, st, NULL, now, err, sizeof(err));
    if (!v)
        fprintf(stderr, "venue_new: %s\n", err);
    return v;
}

static void test_hello_and_errors(void)
{
    struct venue *v = new_venue(NULL);
    struct fconn c = {0};
    json_t *msgs, *e;

    c.s = venue_connect(v, &c, now);
    send_text(v, &c, "{\"type\":\"join\",\"room\":\"lobby\",\"id\":\"x\"}");
    msgs = drain(v, &c);
    e = find(msgs, "error");
    CHECK(e && strcmp(json_string_value(json_object_get(e, "code")), "unauthorized") == 0);
    CHECK(e && strcmp(json_string_value(json_object_get(e, "re")), "x") == 0);
    json_decref(msgs);

    send_text(v, &c, "{not json");
    msgs = drain(v, &c);
    e = find(msgs, "error");
    CHECK(e && strcmp(json_string_value(json_object_get(e, "code")), "bad_request") == 0);
    json_decref(msgs);

    send_text(v, &c, "{\"type\":\"hello\",\"name\":\"Ada\",\"id\":7}");
    msgs = drain(v, &c);
    e = find(msgs, "welcome");
    CHECK(e != NULL);
    CHECK(e && json_integer_value(json_object_get(e, "re")) == 7);
    CHECK(e && strcmp(json_string_value(json_object_get(json_object_get(e, "user"), "role")),
                      "guest") == 0);
    CHECK(e && json_array_size(json_object_get(e, "rooms")) == scenes.n);
    json_decref(msgs);

    send_text(v, &c, "{\"type\":\"hello\",\"name\":\"Ada\"}");
    msgs = drain(v, &c);
    e = find(msgs, "error");
    CHECK(e && strcmp(json_string_value(json_object_get(e, "code")), "bad_request") == 0);
    json_decref(msgs);

    send_text(v, &c, "{\"type\":\"chat\",\"text\":\"hi\"}");
    msgs = drain(v, &c);
    e = find(msgs, "error");
    CHECK(e && strcmp(json_string_value(json_object_get(e, "code")), "not_in_room") == 0);
    json_decref(msgs);

    send_text(v, &c, "{\"type\":\"join\",\"room\":\"nowhere\"}");
    msgs = drain(v, &c);
    e = find(msgs, "error");
    CHECK(e && strcmp(json_string_value(json_object_get(e, "code")), "not_found") == 0);
    json_decref(msgs);
    CHECK(c.closed_code == 0);
    venue_disconnect(v, c.s, now);
    venue_free(v);
}

static void test_presence_poses_chat(void)
{
    struct venue *v = new_venue(NULL);
    struct fconn *a = connect_as(v, "Ada", NULL), *b = connect_as(v, "Bob", NULL);
    const struct scene *lobby = scene_set_find(&scenes, "lobby");
    json_t *msgs, *m, *roster;
    char text[256];

    join(v, a, "lobby");
    send_text(v, b, "{\"type\":\"join\",\"room\":\"lobby\"}");
    msgs = drain(v, b);
    m = find(msgs, "joined");
    roster = m ? json_object_get(m, "roster") : NULL;
    CHECK(roster && json_array_size(roster) == 2);
    json_decref(msgs);
    msgs = drain(v, a);
    m = find(msgs, "presence");
    CHECK(m && strcmp(json_string_value(json_object_get(m, "event")), "join") == 0);
    json_decref(msgs);

    /* A moves a little from its spawn point; B sees it at the tick, A does not. */
    now += 100;
    {
        float p[3], q[4];
        scene_spawn_at(lobby, 0, p, q);
        snprintf(text, sizeof(text), "{\"type\":\"pose\",\"p\":[%.3f,%.3f,%.3f],\"q\":[0,0,0,1]}",
                 p[0], p[1], p[2] + 0.1);
    }
    send_text(v, a, text);
    send_text(v, a, text); /* a newer pose replaces the older within a tick */
    venue_tick(v, now);
    msgs = drain(v, b);
    CHECK(count(msgs, "poses") == 1);
    m = find(msgs, "poses");
    CHECK(m && json_array_size(json_object_get(m, "users")) == 1);
    json_decref(msgs);
    msgs = drain(v, a);
    CHECK(count(msgs, "poses") == 0);
    json_decref(msgs);

    /* Nobody moved: no poses frame at all. */
    now += 50;
    venue_tick(v, now);
    msgs = drain(v, b);
    CHECK(count(msgs, "poses") == 0);
    json_decref(msgs);

    send_text(v, b, "{\"type\":\"chat\",\"text\":\"hello <b>all</b>\"}");
    msgs = drain(v, a);
    m = find(msgs, "chat");
    CHECK(m && strcmp(json_string_value(json_object_get(m, "text")), "hello <b>all</b>") == 0);
    json_decref(msgs);
    msgs = drain(v, b);
    CHECK(count(msgs, "chat") == 1);
    json_decref(msgs);

    send_text(v, b, "{\"type\":\"hand\",\"up\":true}");
    msgs = drain(v, a);
    m = find(msgs, "presence");
    CHECK(m && strcmp(json_string_value(json_object_get(m, "event")), "update") == 0);
    CHECK(m && json_is_true(json_object_get(json_object_get(m, "user"), "hand")));
    json_decref(msgs);

    send_text(v, b, "{\"type\":\"leave\",\"id\":3}");
    msgs = drain(v, b);
    m = find(msgs, "left");
    CHECK(m && json_integer_value(json_object_get(m, "re")) == 3);
    json_decref(msgs);
    msgs = drain(v, a);
    m = find(msgs, "presence");
    CHECK(m && strcmp(json_string_value(json_object_get(m, "event")), "leave") == 0);
    json_decref(msgs);

    venue_disconnect(v, a->s, now);
    venue_disconnect(v, b->s, now);
    venue_free(v);
    free(a);
    free(b);
}

static void drain_all(struct venue *v, struct fconn *c)
{
    json_decref(drain(v, c));
}

/* The position of user id in a roster into p: 0, or -1 when not there. */
static int pos_of(json_t *users, const char *id, float p[3])
{
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u)
    {
        if (strcmp(json_string_value(json_object_get(u, "id")), id) != 0)
            continue;
        for (int k = 0; k < 3; k++)
            p[k] = (float)json_number_value(json_array_get(json_object_get(u, "p"), k));
        return 0;
    }
    return -1;
}

/* The ix of user id in a roster or presence user list, or -1. */
static long long ix_of(json_t *users, const char *id)
{
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u) if (strcmp(json_string_value(json_object_get(u, "id")), id) ==
                                        0) return json_integer_value(json_object_get(u, "ix"));
    return -1;
}

/* Move c's avatar by dz from where it stands (pos), in binary when bin. */
static void step(struct venue *v, struct fconn *c, float pos[3], float dz, bool bin)
{
    const float q[4] = {0, 0, 0, 1};
    char text[160];
    pos[2] += dz;
    if (bin) {
        unsigned char b[POSES_BIN_SIZE];
        poses_bin_pose(b, &c->bounds, pos, q);
        venue_binary(v, c->s, b, sizeof(b), now);
        return;
    }
    snprintf(text, sizeof(text), "{\"type\":\"pose\",\"p\":[%.3f,%.3f,%.3f],\"q\":[0,0,0,1]}",
             pos[0], pos[1], pos[2]);
    send_text(v, c, text);
}

/*
 * Binary poses beside JSON in one room: the index map in joined and
 * presence, one frame per format and tick shared by its receivers, poses
 * sent in binary, an index given back and reused, and the refusals.
 */
static void test_binary_poses(void)
{
    struct venue *v = new_venue(NULL);
    struct fconn *a = connect_as(v, "Ada", NULL);
    struct fconn *b =
        connect_hello(v, "{\"type\":\"hello\",\"name\":\"Bo\",\"poses\":\"binary\"}", NULL);
    struct fconn *c =
        connect_hello(v, "{\"type\":\"hello\",\"name\":\"Cy\",\"poses\":\"binary\"}", NULL);
    float pa[3], pb[3], pc[3];
    long long ixa, ixb;
    json_t *msgs, *m, *e;

    join_at(v, a, "lobby", pa);
    join_at(v, c, "lobby", pc);
    drain_all(v, a);
    send_text(v, b, "{\"type\":\"join\",\"room\":\"lobby\"}");
    msgs = drain(v, b);
    m = find(msgs, "joined");
    CHECK(m && json_object_get(m, "bounds") && b->bounds.max[0] > b->bounds.min[0]);
    ixa = m ? ix_of(json_object_get(m, "roster"), a->user_id) : -1;
    ixb = m ? ix_of(json_object_get(m, "roster"), b->user_id) : -1;
    CHECK(ixa >= 0 && ixb >= 0 && ixa != ixb);
    CHECK(m && pos_of(json_object_get(m, "roster"), b->user_id, pb) == 0);
    json_decref(msgs);
    msgs = drain(v, a);
    m = find(msgs, "presence");
    CHECK(m && json_integer_value(json_object_get(json_object_get(m, "user"), "ix")) == ixb);
    json_decref(msgs);
    drain_all(v, c);
    /* A moves in JSON: the binary receivers share one binary frame with
     * A's index and where it went, to the millimetre. */
    now += 100;
    step(v, a, pa, 0.1f, false);
    venue_tick(v, now);
    CHECK(venue_peek(b->s) && venue_peek(b->s) == venue_peek(c->s) && venue_peek(b->s)->binary);
    msgs = drain(v, b);
    m = find(msgs, "poses");
    CHECK(m && json_is_true(json_object_get(m, "binary")));
    e = m ? json_array_get(json_object_get(m, "users"), 0) : NULL;
    CHECK(e && json_integer_value(json_object_get(e, "ix")) == ixa);
    CHECK(e && fabs(json_number_value(json_array_get(json_object_get(e, "p"), 2)) - pa[2]) < 0.001);
    json_decref(msgs);
    drain_all(v, c);
    CHECK(venue_peek(a->s) == NULL); /* a lone mover gets no frame */

    /* B moves in binary: A reads it in JSON under B's id. */
    now += 100;
    step(v, b, pb, 0.1f, true);
    venue_tick(v, now);
    msgs = drain(v, a);
    m = find(msgs, "poses");
    e = m ? json_array_get(json_object_get(m, "users"), 0) : NULL;
    CHECK(e && strcmp(json_string_value(json_object_get(e, "id")), b->user_id) == 0);
    CHECK(e && fabs(json_number_value(json_array_get(json_object_get(e, "p"), 2)) - pb[2]) < 0.002);
    CHECK(m && json_object_get(m, "binary") == NULL);
    json_decref(msgs);
    drain_all(v, c);

    /* A bad binary pose is refused with the field; a JSON session's
     * binary frame closes it with 1003. */
    {
        unsigned char bad[5] = {POSES_BIN_POSE, 0, 0, 0, 0};
        venue_binary(v, b->s, bad, sizeof(bad), now);
        msgs = drain(v, b);
        m = find(msgs, "error");
        CHECK(m && strstr(json_string_value(json_object_get(m, "message")),
                          "pose (binary): must be 12 bytes") != NULL);
        json_decref(msgs);
        venue_binary(v, a->s, bad, sizeof(bad), now);
        CHECK(a->closed_code == 1003);
    }

    /* B leaves: its index is given back, and the next to join takes it. */
    send_text(v, b, "{\"type\":\"leave\"}");
    drain_all(v, b);
    msgs = drain(v, c);
    m = find(msgs, "presence");
    CHECK(m && json_integer_value(json_object_get(json_object_get(m, "user"), "ix")) == ixb);
    json_decref(msgs);
    {
        struct fconn *d = connect_as(v, "Di", NULL);
        send_text(v, d, "{\"type\":\"join\",\"room\":\"lobby\"}");
        msgs = drain(v, d);
        m = find(msgs, "joined");
        CHECK(m && ix_of(json_object_get(m, "roster"), d->user_id) == ixb);
        json_decref(msgs);
        venue_disconnect(v, d->s, now);
        free(d);
    }

    venue_disconnect(v, b->s, now);
    venue_disconnect(v, c->s, now);
    venue_free(v);
    free(a);
    free(b);
    free(c);
}

/*
 * A mass arrival: presence goes at once up to the room's burst, then the
 * rest of the tick's arrive as one presence_batch for everyone, in order.
 */
static void test_presence_batch(void)
{
    enum { N = 70 };
    struct venue *v = new_venue(NULL);
    struct fconn *a = connect_as(v, "Ada", NULL), *c[N];
    size_t now_sent, batched = 0, batches = 0, i;
    json_t *msgs, *m, *e;
    char name[16];

    join(v, a, "plenary");
    for (int k = 0; k < N; k++) {
        snprintf(name, sizeof(name), "P%d", k);
        c[k] = connect_as(v, name, NULL);
        join(v, c[k], "plenary");
    }
    msgs = drain(v, a);
    now_sent = count(msgs, "presence");
    CHECK(now_sent >= 40 && now_sent < N);
    CHECK(count(msgs, "presence_batch") == 0);
    json_decref(msgs);
    now += 50;
    venue_tick(v, now);
    msgs = drain(v, a);
    json_array_foreach(msgs, i, m)
    {
        if (strcmp(type_of(m), "presence_batch") != 0)
            continue;
        batches++;
        CHECK(strcmp(json_string_value(json_object_get(m, "room")), "plenary") == 0);
        {
            size_t k;
            json_array_foreach(json_object_get(m, "events"), k, e)
            {
                /* the arrivals in the order they came */
                json_t *u = json_object_get(e, "user");
                CHECK(strcmp(json_string_value(json_object_get(e, "event")), "join") == 0);
                CHECK(strcmp(json_string_value(json_object_get(u, "id")),
                             c[now_sent + batched]->user_id) == 0);
                batched++;
            }
        }
    }
    CHECK(batches == 1 && now_sent + batched == N);
    json_decref(msgs);
    /* the last to arrive gets the batch too, its own join in it */
    msgs = drain(v, c[N - 1]);
    CHECK(count(msgs, "presence_batch") == 1);
    json_decref(msgs);

    venue_disconnect(v, a->s, now);
    free(a);
    for (int k = 0; k < N; k++) {
        venue_disconnect(v, c[k]->s, now);
        free(c[k]);
    }
    venue_free(v);
}

static void test_resume(void)
{
    struct venue *v = new_venue(NULL);
    char token[64], text[256];
    struct fconn *a = connect_as(v, "Ada", token), *b = connect_as(v, "Bob", NULL);
    struct fconn a2 = {0}, a3 = {0};
    json_t *msgs, *m;

    join(v, a, "lobby");
    join(v, b, "lobby");
    json_decref(drain(v, a));
    json_decref(drain(v, a));

    venue_disconnect(v, a->s, now);
    now += 1000;
    venue_tick(v, now);
    send_text(v, b, "{\"type\":\"chat\",\"text\":\"while you were away\"}");
    msgs = drain(v, b);
    CHECK(count(msgs, "presence") == 0); /* no leave for a dropped session */
    json_decref(msgs);

    a2.s = venue_connect(v, &a2, now);
    snprintf(text, sizeof(text), "{\"type\":\"hello\",\"name\":\"Ada\",\"resume\":\"%s\",\"id\":9}",
             token);
    send_text(v, &a2, text);
    msgs = drain(v, &a2);
    CHECK(json_array_size(msgs) >= 3);
    CHECK(strcmp(type_of(json_array_get(msgs, 0)), "welcome") == 0);
    CHECK(find(msgs, "chat") != NULL);
    {
        /* welcome first, then what was missed, then a fresh roster */
        size_t i, at_chat = 0, at_joined = 0;
        json_t *x;
        json_array_foreach(msgs, i, x)
        {
            if (strcmp(type_of(x), "chat") == 0)
                at_chat = i;
            if (strcmp(type_of(x), "joined") == 0)
                at_joined = i;
        }
        CHECK(at_chat > 0 && at_joined > at_chat);
    }
    json_decref(msgs);
    msgs = drain(v, b);
    CHECK(count(msgs, "presence") == 0); /* no join either */
    json_decref(msgs);

    /* After the grace period the room sees a leave and the token is dead. */
    venue_disconnect(v, a2.s, now);
    now += cfg.resume_grace_s * 1000LL + 1000;
    venue_tick(v, now);
    msgs = drain(v, b);
    m = find(msgs, "presence");
    CHECK(m && strcmp(json_string_value(json_object_get(m, "event")), "leave") == 0);
    json_decref(msgs);
    a3.s = venue_connect(v, &a3, now);
    send_text(v, &a3, text);
    msgs = drain(v, &a3);
    m = find(msgs, "error");
    CHECK(m && strcmp(json_string_value(json_object_get(m, "code")), "not_found") == 0);
    json_decref(msgs);
    CHECK(a3.closed_code == 0);

    venue_disconnect(v, a3.s, now);
    venue_disconnect(v, b->s, now);
    venue_free(v);
    free(a);
    free(b);
}

static void test_rate_limits(void)
{
    struct venue *v = new_venue(NULL);
    struct fconn *a = connect_as(v, "Flood", NULL);
    const struct scene *lobby = scene_set_find(&scenes, "lobby");
    float p[3], q[4];
    char text[160];
    json_t *msgs;

    join(v, a, "lobby");
    scene_spawn_at(lobby, 0, p, q);
    snprintf(text, sizeof(text), "{\"type\":\"pose\",\"p\":[%.3f,%.3f,%.3f],\"q\":[0,0,0,1]}", p[0],
             p[1], p[2]);
    now = (now / 1000 + 1) * 1000; /* the start of a second */
    for (int i = 0; i < 100; i++)
        send_text(v, a, text);
    msgs = drain(v, a);
    CHECK(count(msgs, "error") == 1);
    json_decref(msgs);
    CHECK(a->closed_code == 0);
    for (int sec = 1; sec <= 3 && a->s; sec++) {
        now += 1000;
        for (int i = 0; i < 200 && a->s; i++)
            send_text(v, a, text);
        json_decref(drain(v, a));
    }
    CHECK(a->closed_code == 1008);
    venue_free(v);
    free(a);
}

static void test_slow_reader(void)
{
    struct venue *v = new_venue(NULL);
    struct fconn *slow = connect_as(v, "Slow", NULL), *mover = connect_as(v, "Mover", NULL);
    const struct scene *lobby = scene_set_find(&scenes, "lobby");
    float p[3], q[4];
    char text[160];

    join(v, slow, "lobby");
    join(v, mover, "lobby");
    json_decref(drain(v, slow));
    scene_spawn_at(lobby, 1, p, q);
    /* Poses only: the slow reader's queue holds one frame however long it lags. */
    for (int t = 0; t < 50; t++) {
        now += 50;
        p[0] += (t % 2) ? 0.05f : -0.05f;
        snprintf(text, sizeof(text), "{\"type\":\"pose\",\"p\":[%.3f,%.3f,%.3f],\"q\":[0,0,0,1]}",
                 p[0], p[1], p[2]);
        send_text(v, mover, text);
        venue_tick(v, now);
        json_decref(drain(v, mover));
    }
    CHECK(slow->s != NULL && slow->closed_code == 0);
    {
        json_t *msgs = drain(v, slow);
        CHECK(count(msgs, "poses") == 1);
        json_decref(msgs);
    }
    /* Events are never dropped: chat past the queue's bound closes it. */
    for (int i = 0; i < 5000 && slow->s; i++) {
        now += 250;
        send_text(v, mover,
                  "{\"type\":\"chat\",\"text\":\"a message long enough to fill a queue "
                  "after a while of not reading anything at all\"}");
        json_decref(drain(v, mover));
    }
    CHECK(slow->closed_code == 1008);
    CHECK(strstr(slow->reason, "too slow") != NULL);
    venue_disconnect(v, mover->s, now);
    venue_free(v);
    free(slow);
    free(mover);
}

static void test_stall(void)
{
    struct venue *v = new_venue(NULL);
    struct fconn *a = connect_as(v, "Stuck", NULL), *b = connect_as(v, "Talker", NULL);
    join(v, a, "lobby");
    join(v, b, "lobby");
    send_text(v, b, "{\"type\":\"chat\",\"text\":\"anyone?\"}");
    now += cfg.stall_s * 1000LL + 100;
    venue_tick(v, now);
    CHECK(a->closed_code == 1008);
    CHECK(b->closed_code == 1008); /* b never drained its echo either */
    venue_free(v);
    free(a);
    free(b);
}

static void test_capacity(void)
{
    struct venue *v = new_venue(NULL);
    const struct scene *room = scene_set_find(&scenes, "breakout-1");
    struct fconn **cs;
    json_t *msgs, *e;
    int cap;

    CHECK(room != NULL);
    if (!room) {
        venue_free(v);
        return;
    }
    cap = room->capacity - room->reserved_seats; /* guests do not get the reserved seats */
    cs = calloc((size_t)cap + 1, sizeof(*cs));
    for (int i = 0; i < cap; i++) {
        cs[i] = connect_as(v, "Seat", NULL);
        join(v, cs[i], "breakout-1");
    }
    cs[cap] = connect_as(v, "Late", NULL);
    send_text(v, cs[cap], "{\"type\":\"join\",\"room\":\"breakout-1\"}");
    msgs = drain(v, cs[cap]);
    e = find(msgs, "error");
    CHECK(e && strcmp(json_string_value(json_object_get(e, "code")), "room_full") == 0);
    json_decref(msgs);
    venue_free(v);
    for (int i = 0; i <= cap; i++)
        free(cs[i]);
    free(cs);
}

static void test_scene_rules(void)
{
    struct venue *v = new_venue(NULL);
    struct fconn *a = connect_as(v, "Walker", NULL);
    const struct scene *lobby = scene_set_find(&scenes, "lobby");
    char text[200];
    json_t *msgs, *m;
    float p[3], q[4];

    join(v, a, "lobby");
    scene_spawn_at(lobby, 0, p, q);

    /* A jump across the room is refused. */
    now += 50;
    snprintf(text, sizeof(text), "{\"type\":\"pose\",\"p\":[%.3f,%.3f,%.3f],\"q\":[0,0,0,1]}",
             p[0] + 30, p[1], p[2]);
    send_text(v, a, text);
    msgs = drain(v, a);
    m = find(msgs, "pose");
    CHECK(m && strcmp(json_string_value(json_object_get(m, "reason")), "too_fast") == 0);
    json_decref(msgs);

    /* Walking off the floor is clamped to its edge: try each direction
     * until one reaches a wall rather than a portal. */
    {
        static const float dirs[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
        bool clamped = false;
        for (int d = 0; d < 4 && !clamped; d++) {
            float pos[3];
            bool moved_room = false;
            join(v, a, "plenary");
            join_at(v, a, "lobby", pos);
            for (int i = 0; i < 1000 && !clamped && !moved_room; i++) {
                now += 1000;
                pos[0] += dirs[d][0] * 0.5f;
                pos[2] += dirs[d][1] * 0.5f;
                snprintf(text, sizeof(text),
                         "{\"type\":\"pose\",\"p\":[%.3f,%.3f,%.3f],\"q\":[0,0,0,1]}", pos[0],
                         pos[1], pos[2]);
                send_text(v, a, text);
                msgs = drain(v, a);
                m = find(msgs, "pose");
                moved_room = find(msgs, "joined") != NULL;
                if (m && strcmp(json_string_value(json_object_get(m, "reason")), "clamped") == 0) {
                    json_t *pp = json_object_get(m, "p");
                    float at[3];
                    for (int k = 0; k < 3; k++)
                        at[k] = (float)json_number_value(json_array_get(pp, k));
                    CHECK(scene_walkable(lobby, at));
                    clamped = true;
                }
                json_decref(msgs);
            }
        }
        CHECK(clamped);
    }
    venue_free(v);
    free(a);
}

static void test_portal(void)
{
    struct venue *v = new_venue(NULL);
    struct fconn *a = connect_as(v, "Traveller", NULL);
    const struct scene *lobby = scene_set_find(&scenes, "lobby");
    const struct scene_portal *portal;
    char text[200];
    json_t *msgs, *m;
    float c[3];

    CHECK(lobby && lobby->nportals > 0);
    if (!lobby || !lobby->nportals) {
        venue_free(v);
        return;
    }
    portal = &lobby->portals[0];
    for (int i = 0; i < 3; i++)
        c[i] = (portal->min[i] + portal->max[i]) / 2;
    c[1] = portal->min[1];
    /* Teleporting straight into the portal is too fast; walk there. */
    {
        float pos[3];
        join_at(v, a, "lobby", pos);
        for (int step = 0; step < 200; step++) {
            float dx = c[0] - pos[0], dz = c[2] - pos[2], d = sqrtf(dx * dx + dz * dz);
            float k = d > 0.4f ? 0.4f / d : 1.0f;
            pos[0] += dx * k;
            pos[2] += dz * k;
            now += 100;
            snprintf(text, sizeof(text),
                     "{\"type\":\"pose\",\"p\":[%.3f,%.3f,%.3f],\"q\":[0,0,0,1]}", pos[0], c[1],
                     pos[2]);
            send_text(v, a, text);
            msgs = drain(v, a);
            m = find(msgs, "joined");
            if (m) {
                const char *to =
                    json_string_value(json_object_get(json_object_get(m, "room"), "id"));
                CHECK(to && strcmp(to, portal->room) == 0);
                json_decref(msgs);
                break;
            }
            m = find(msgs, "pose");
            if (m) { /* clamped on the way: continue from where the server put us */
                json_t *pp = json_object_get(m, "p");
                pos[0] = (float)json_number_value(json_array_get(pp, 0));
                pos[2] = (float)json_number_value(json_array_get(pp, 2));
            }
            json_decref(msgs);
            CHECK(step < 199);
        }
    }
    venue_free(v);
    free(a);
}

static void test_restart(void)
{
    char dir[] = "/tmp/venue-core-XXXXXX", err[256], token[64], text[256];
    struct store *st;
    struct venue *v;
    struct fconn *a, a2 = {0};
    json_t *msgs, *m;
    double z;

    CHECK(mkdtemp(dir) != NULL);
    st = store_open(dir, err, sizeof(err));
    CHECK(st != NULL);
    v = new_venue(st);
    a = connect_as(v, "Persistent", token);
    join(v, a, "plenary");
    {
        const struct scene *pl = scene_set_find(&scenes, "plenary");
        float p[3], q[4];
        scene_spawn_at(pl, 0, p, q);
        now += 200;
        z = p[2] + 0.5;
        snprintf(text, sizeof(text), "{\"type\":\"pose\",\"p\":[%.3f,%.3f,%.3f],\"q\":[0,0,0,1]}",
                 p[0], p[1], z);
        send_text(v, a, text);
    }
    venue_tick(v, now);
    /* Changing rooms writes nothing: the pose left behind waits for the
     * next batch, and coming straight back finds it all the same. */
    {
        float p[3], q[4];
        join(v, a, "lobby");
        CHECK(store_pose_get(st, a->user_id, "plenary", p, q) == 0);
        json_decref(drain(v, a));
        send_text(v, a, "{\"type\":\"join\",\"room\":\"plenary\"}");
        msgs = drain(v, a);
        m = find(msgs, "joined");
        CHECK(m != NULL);
        if (m) {
            json_t *me = NULL, *roster = json_object_get(m, "roster");
            for (size_t i = 0; i < json_array_size(roster); i++)
                if (strcmp(json_string_value(json_object_get(json_array_get(roster, i), "id")),
                           a->user_id) == 0)
                    me = json_array_get(roster, i);
            CHECK(me &&
                  fabs(json_number_value(json_array_get(json_object_get(me, "p"), 2)) - z) < 0.01);
        }
        json_decref(msgs);
        CHECK(store_pose_get(st, a->user_id, "lobby", p, q) == 0);
        now += cfg.flush_ms + 1;
        venue_tick(v, now);
        CHECK(store_pose_get(st, a->user_id, "lobby", p, q) == 1);
    }
    /* a raised hand and a status are the person's too: they come back with the session */
    send_text(v, a, "{\"type\":\"hand\",\"up\":true}");
    send_text(v, a, "{\"type\":\"status\",\"status\":\"away\"}");
    venue_tick(v, now);
    venue_shutdown(v, now);
    CHECK(a->closed_code == 1001);
    venue_free(v);
    store_close(st);

    st = store_open(dir, err, sizeof(err));
    v = new_venue(st);
    a2.s = venue_connect(v, &a2, now);
    snprintf(text, sizeof(text), "{\"type\":\"hello\",\"name\":\"Persistent\",\"resume\":\"%s\"}",
             token);
    send_text(v, &a2, text);
    msgs = drain(v, &a2);
    m = find(msgs, "joined");
    CHECK(m && strcmp(json_string_value(json_object_get(json_object_get(m, "room"), "id")),
                      "plenary") == 0);
    if (m) {
        json_t *me = json_array_get(json_object_get(m, "roster"), 0);
        double got = json_number_value(json_array_get(json_object_get(me, "p"), 2));
        CHECK(fabs(got - z) < 0.01);
        CHECK(json_is_true(json_object_get(me, "hand")));
        CHECK(json_integer_value(json_object_get(me, "hand_at")) > 0);
        CHECK(strcmp(json_string_value(json_object_get(me, "status")), "away") == 0);
    }
    json_decref(msgs);
    venue_disconnect(v, a2.s, now);
    venue_free(v);
    store_close(st);
    free(a);
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
    }
}

/* In a tiered room a receiver that skipped ticks takes its cell's shared
 * frame (with its near count), not a catch-up of everyone who moved since. */
static void test_tiered_laggard(void)
{
    char dir[] = "/tmp/venued-tiers-XXXXXX", path[64], err[512];
    struct scene_set set = {0};
    struct venue *v = NULL;
    struct fconn *slow, *a, *b;
    json_t *msgs, *m;
    FILE *f;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/field.json", dir);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("{\"format_version\":1,\"id\":\"field\",\"name\":\"Field\",\"capacity\":10,"
          "\"interest\":{\"from\":3,\"near\":1,\"band\":0},"
          "\"walk\":[{\"min\":[-100,-100],\"max\":[100,100]}],"
          "\"spawns\":[{\"id\":\"s\",\"p\":[0,0,0]}]}",
          f);
    fclose(f);
    CHECK(scene_set_load(dir, &set, err, sizeof(err)) == 0);
    v = venue_new(&cfg, &io, &set, NULL, NULL, now, err, sizeof(err));
    CHECK(v != NULL);
    if (!v)
        goto out;
    slow = connect_as(v, "Slow", NULL);
    a = connect_as(v, "Walker", NULL);
    b = connect_as(v, "Bystander", NULL);
    join(v, slow, "field");
    join(v, a, "field");
    join(v, b, "field");
    json_decref(drain(v, slow));
    /* The slow one reads nothing for five ticks: its one frame waits. */
    for (int t = 0; t < 6; t++) {
        char text[128];
        if (t == 5) {
            msgs = drain(v, slow);
            CHECK(count(msgs, "poses") == 1);
            json_decref(msgs);
        }
        now += 50;
        snprintf(text, sizeof(text), "{\"type\":\"pose\",\"p\":[%.2f,0,0.5],\"q\":[0,0,0,1]}",
                 0.5 + 0.05 * t);
        send_text(v, a, text);
        venue_tick(v, now);
        json_decref(drain(v, a));
        json_decref(drain(v, b));
    }
    msgs = drain(v, slow);
    m = find(msgs, "poses");
    CHECK(m && json_is_integer(json_object_get(m, "near")));
    CHECK(m && json_array_size(json_object_get(m, "users")) == 1);
    json_decref(msgs);
    venue_free(v);
    free(slow);
    free(a);
    free(b);
out:
    scene_set_free(&set);
    unlink(path);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    char err[512];
    const char *dir = argc > 1 ? argv[1] : "scenes/demo";
    config_defaults(&cfg);
    cfg.queue_max = 16384;
    cfg.hello_burst = 1000; /* test_presence_batch: a crowd arrives at once from one address */
    if (scene_set_load(dir, &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "scenes: %s\n", err);
        return 1;
    }
    test_hello_and_errors();
    test_presence_poses_chat();
    test_binary_poses();
    test_presence_batch();
    test_resume();
    test_rate_limits();
    test_slow_reader();
    test_stall();
    test_capacity();
    test_scene_rules();
    test_portal();
    test_restart();
    test_tiered_laggard();
    scene_set_free(&scenes);
    return check_report();
}
