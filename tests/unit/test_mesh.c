/*
 * test_mesh.c - one venue over two nodes, in the core alone (mesh.c): two
 * venues in one process whose documents the test carries from one to the
 * other, as Redis would. People on one are mirrored on the other
 * (rosters, presence, poses, chat, counts); a tick publishes one document
 * with each room's movers once; a node gone leaves its people resumable,
 * then gone once; a lost link drops them at once; a state replaces what a
 * node had said; claims on one person follow who is connected, and when;
 * the tick's bound gives way to the whole state; and documents that are
 * not a node's, or events that do not check, change nothing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "check_store.h"
#include "core_harness.h"
#include "mesh.h"
#include "room.h"
#include "park.h"

/* What one node published and the other has not read yet. */
struct wire {
    char *docs[64];
    size_t n;
    size_t published; /* documents published in all */
};

static struct wire to_b, to_a;

static void publish(void *ctx, const char *data, size_t len)
{
    struct wire *w = ctx;
    w->published++;
    CHECK(w->n < 64);
    if (w->n == 64)
        return;
    w->docs[w->n] = malloc(len + 1);
    memcpy(w->docs[w->n], data, len);
    w->docs[w->n][len] = '\0';
    w->n++;
}

/* Hand what w holds to v; returns how many documents. */
static size_t deliver(struct wire *w, struct venue *v)
{
    size_t n = w->n;
    for (size_t i = 0; i < w->n; i++) {
        CHECK(venue_mesh_apply(v, w->docs[i], strlen(w->docs[i]), now) == 0);
        free(w->docs[i]);
    }
    w->n = 0;
    return n;
}

/* Forget what w holds, unread. */
static void clear(struct wire *w)
{
    while (w->n)
        free(w->docs[--w->n]);
}

/* A tick on both, and each one's document to the other. */
static void step(struct venue *a, struct venue *b)
{
    now += 50;
    venue_tick(a, now);
    venue_tick(b, now);
    deliver(&to_b, b);
    deliver(&to_a, a);
}

static struct venue *node(const char *id, struct wire *out)
{
    char err[512];
    struct venue *v = venue_new(&cfg, &io, &scenes, NULL, NULL, now, err, sizeof(err));
    CHECK(v != NULL);
    if (!v) {
        fprintf(stderr, "venue_new: %s\n", err);
        exit(1);
    }
    venue_mesh_start(v, id, &(struct venue_mesh_io){.ctx = out, .publish = publish});
    for (size_t i = 0; i < venue_room_count(v); i++) {
        struct venue_room_view r;
        venue_room_get(v, i, &r);
        CHECK(venue_mesh_lease(v, r.id, 40) == 0);
    }
    return v;
}

static const struct venue_room_view *room_view(struct venue *v, const char *id)
{
    static struct venue_room_view r;
    for (size_t i = 0; i < venue_room_count(v); i++) {
        venue_room_get(v, i, &r);
        if (strcmp(r.id, id) == 0)
            return &r;
    }
    return NULL;
}

/* The first message of type about user (a presence's user, a chat's
 * sender, a poses frame's entry) in msgs, borrowed, or NULL. */
static json_t *about(json_t *msgs, const char *type, const char *event, const char *user)
{
    size_t i, k;
    json_t *m, *e;
    json_array_foreach(msgs, i, m)
    {
        const char *t = type_of(m);
        if (strcmp(t, type) != 0)
            continue;
        if (strcmp(t, "poses") == 0) {
            json_array_foreach(json_object_get(m, "users"), k, e)
            {
                if (strcmp(json_string_value(json_object_get(e, "id")), user) == 0)
                    return e;
            }
            continue;
        }
        if (event && strcmp(json_string_value(json_object_get(m, "event")), event) != 0)
            continue;
        e = json_object_get(m, "user");
        if (!e)
            e = json_object_get(m, "from");
        if (json_is_object(e))
            e = json_object_get(e, "id");
        if (json_is_string(e) && strcmp(json_string_value(e), user) == 0)
            return m;
    }
    return NULL;
}

static size_t occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void pose(struct venue *v, struct fconn *c, const float p[3])
{
    char text[160];
    snprintf(text, sizeof(text), "{\"type\":\"pose\",\"p\":[%.3f,%.3f,%.3f],\"q\":[0,0,0,1]}", p[0],
             p[1], p[2]);
    send_text(v, c, text);
}

/* One database for two nodes' chat, as PostgreSQL is for a cluster. */
struct shared_chat {
    char dir[32];
    struct store *st[2];
    struct chatlog *cl[2];
};

static void share_chat(struct shared_chat *c, struct venue *a, struct venue *b)
{
    char err[256];
    struct venue *v[2] = {a, b};

    snprintf(c->dir, sizeof(c->dir), "/tmp/venue-mesh-XXXXXX");
    CHECK(mkdtemp(c->dir) != NULL);
    for (int i = 0; i < 2; i++) {
        c->st[i] = check_store_open(c->dir, err, sizeof(err));
        c->cl[i] = c->st[i] ? chatlog_open(c->st[i], err, sizeof(err)) : NULL;
        CHECK(c->cl[i] && venue_keep_chat(v[i], c->cl[i], err, sizeof(err)) == 0);
    }
}

static void unshare_chat(struct shared_chat *c)
{
    char cmd[64];
    for (int i = 0; i < 2; i++) {
        chatlog_close(c->cl[i]);
        store_close(c->st[i]);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", c->dir);
    CHECK(system(cmd) == 0);
}

static void test_two_nodes(void)
{
    struct venue *a = node("a", &to_b), *b = node("b", &to_a);
    struct fconn *ann, *bea, *al, *al2;
    float pa[3], pb[3];
    json_t *msgs, *m;
    size_t before;
    long long said, said_ts;
    struct shared_chat chat;

    share_chat(&chat, a, b);

    /* Both ask for the other's state when they start, as on joining. */
    venue_mesh_resync(a);
    venue_mesh_resync(b);
    ann = connect_as(a, "Ann", NULL);
    join_at(a, ann, "lobby", pa);
    bea = connect_as(b, "Bea", NULL);
    join_at(b, bea, "lobby", pb);
    step(a, b);
    step(a, b);

    /* Each sees the other join, and the counts are the whole venue's. */
    msgs = drain(b, bea);
    CHECK(about(msgs, "presence", "join", ann->user_id) != NULL);
    json_decref(msgs);
    msgs = drain(a, ann);
    CHECK(about(msgs, "presence", "join", bea->user_id) != NULL);
    json_decref(msgs);
    CHECK(room_view(a, "lobby")->count == 2 && room_view(a, "lobby")->here == 1);
    CHECK(room_view(b, "lobby")->count == 2 && room_view(b, "lobby")->here == 1);

    /* A late joiner on a has Bea in its roster. */
    al = connect_as(a, "Al", NULL);
    send_text(a, al, "{\"type\":\"join\",\"room\":\"lobby\"}");
    msgs = drain(a, al);
    m = find(msgs, "joined");
    CHECK(m && json_array_size(json_object_get(m, "roster")) == 3);
    json_decref(msgs);
    step(a, b);
    json_decref(drain(b, bea));

    /* Poses: three movers on a make one document with one list for the room. */
    before = to_b.published;
    pa[0] += 0.2f;
    pose(a, ann, pa);
    pose(a, al, pa);
    now += 50;
    venue_tick(a, now);
    CHECK(to_b.published == before + 1);
    CHECK(to_b.n == 1 && occurrences(to_b.docs[0], "\"t\":\"m\"") == 1);
    deliver(&to_b, b);
    now += 50;
    venue_tick(b, now);
    msgs = drain(b, bea);
    m = about(msgs, "poses", NULL, ann->user_id);
    CHECK(m && fabs(json_number_value(json_array_get(json_object_get(m, "p"), 0)) - pa[0]) < 0.01);
    json_decref(msgs);

    /* Chat and a hand cross too; the line keeps the number and time its
     * node gave it, so that a delete names it on every node. */
    send_text(a, ann, "{\"type\":\"chat\",\"text\":\"first, from a\"}");
    step(a, b);
    json_decref(drain(a, ann));
    json_decref(drain(b, bea));
    send_text(b, bea, "{\"type\":\"chat\",\"text\":\"hi from b\"}");
    send_text(b, bea, "{\"type\":\"hand\",\"up\":true}");
    msgs = drain(b, bea);
    m = about(msgs, "chat", NULL, bea->user_id);
    said = m ? json_integer_value(json_object_get(m, "msg")) : 0;
    said_ts = m ? json_integer_value(json_object_get(m, "ts")) : 0;
    json_decref(msgs);
    step(a, b);
    msgs = drain(a, ann);
    m = about(msgs, "chat", NULL, bea->user_id);
    CHECK(m && strcmp(json_string_value(json_object_get(m, "text")), "hi from b") == 0);
    CHECK(said > 0 && m && json_integer_value(json_object_get(m, "msg")) == said);
    CHECK(m && json_integer_value(json_object_get(m, "ts")) == said_ts);
    m = about(msgs, "presence", "update", bea->user_id);
    CHECK(m && json_is_true(json_object_get(json_object_get(m, "user"), "hand")));
    json_decref(msgs);

    /* A delete on b leaves a's ring and members too. */
    {
        char author[SESSION_ID_LEN], err[128];
        CHECK(chat_delete(b, room_find(b, "lobby"), said, author, err, sizeof(err)) == 1);
        CHECK(strcmp(author, bea->user_id) == 0);
        step(a, b);
        msgs = drain(a, ann);
        m = find(msgs, "chat_deleted");
        CHECK(m && json_integer_value(json_object_get(m, "msg")) == said);
        json_decref(msgs);
        al2 = connect_as(a, "Al 2", NULL);
        send_text(a, al2, "{\"type\":\"join\",\"room\":\"lobby\"}");
        msgs = drain(a, al2);
        m = find(msgs, "chat_history");
        m = m ? json_array_get(json_object_get(m, "lines"), 0) : NULL;
        CHECK(m && json_array_size(json_object_get(find(msgs, "chat_history"), "lines")) == 1);
        CHECK(m && strcmp(json_string_value(json_object_get(m, "text")), "first, from a") == 0);
        json_decref(msgs);
        send_text(a, al2, "{\"type\":\"leave\"}");
        venue_disconnect(a, al2->s, now);
        free(al2);
        step(a, b);
        json_decref(drain(b, bea));
        json_decref(drain(a, ann));
    }

    /* Cid's connection drops on a; when his grace ends there, b hears him leave. */
    {
        struct fconn *cid = connect_as(a, "Cid", NULL);
        join(a, cid, "lobby");
        step(a, b);
        CHECK(room_view(b, "lobby")->count == 4);
        json_decref(drain(b, bea));
        venue_disconnect(a, cid->s, now);
        step(a, b);
        CHECK(room_view(b, "lobby")->count == 4); /* detached: resumable, still there */
        now += (long long)cfg.resume_grace_s * 1000 + 100;
        step(a, b);
        step(a, b);
        msgs = drain(b, bea);
        CHECK(about(msgs, "presence", "leave", cid->user_id) != NULL);
        json_decref(msgs);
        CHECK(room_view(b, "lobby")->count == 3);
        free(cid);
        json_decref(drain(a, ann));
    }

    /* A state that leaves Al out: he is gone from b. */
    {
        char doc[256];
        snprintf(doc, sizeof(doc), "{\"n\":\"a\",\"ev\":[{\"t\":\"state\",\"m\":[]}]}");
        CHECK(venue_mesh_apply(b, doc, strlen(doc), now) == 0);
        msgs = drain(b, bea);
        CHECK(about(msgs, "presence", "leave", al->user_id) != NULL);
        CHECK(about(msgs, "presence", "leave", ann->user_id) != NULL);
        json_decref(msgs);
        CHECK(room_view(b, "lobby")->count == 1);
        venue_mesh_resync(b); /* b asks, a answers with its state: both come back */
        step(a, b);
        step(a, b);
        CHECK(room_view(b, "lobby")->count == 3);
        json_decref(drain(b, bea));
    }

    /* The link lost: the others' people leave at once. */
    venue_mesh_node_gone(b, NULL, now);
    msgs = drain(b, bea);
    CHECK(about(msgs, "presence", "leave", ann->user_id) != NULL);
    json_decref(msgs);
    CHECK(room_view(b, "lobby")->count == 1);
    venue_mesh_resync(b);
    step(a, b);
    step(a, b);
    CHECK(room_view(b, "lobby")->count == 3);
    json_decref(drain(b, bea));

    /* a is gone: Ann and Al stay on b, detached, for the grace; then leave, once. */
    venue_mesh_node_gone(b, "a", now);
    CHECK(room_view(b, "lobby")->count == 3 && room_view(b, "lobby")->here == 3);
    msgs = drain(b, bea);
    CHECK(about(msgs, "presence", "leave", ann->user_id) == NULL);
    json_decref(msgs);
    now += (long long)cfg.resume_grace_s * 1000 + 1000;
    venue_tick(b, now);
    msgs = drain(b, bea);
    CHECK(count(msgs, "presence") + count(msgs, "presence_batch") >= 1);
    CHECK(about(msgs, "presence", "leave", ann->user_id) != NULL);
    json_decref(msgs);
    CHECK(room_view(b, "lobby")->count == 1);
    now += 50;
    venue_tick(b, now);
    msgs = drain(b, bea);
    CHECK(about(msgs, "presence", "leave", ann->user_id) == NULL);
    json_decref(msgs);

    clear(&to_b);
    clear(&to_a);
    venue_free(a);
    venue_free(b);
    unshare_chat(&chat);
    free(ann);
    free(bea);
    free(al);
}

/* A claim on someone a holds: a detached claim never takes a connected
 * session; a connected, later one does (4002 here). */
static void test_claims(void)
{
    struct venue *a = node("a", &to_b);
    struct fconn *ann = connect_as(a, "Ann", NULL);
    char doc[1024];
    const char *fmt = "{\"n\":\"b\",\"ev\":[{\"t\":\"p\",\"r\":\"lobby\",\"e\":\"join\",\"u\":{"
                      "\"id\":\"%s\",\"name\":\"Ann\",\"role\":\"guest\",\"status\":\"active\","
                      "\"hand\":false,\"hand_at\":0,\"muted\":false,\"p\":[0,0,0],"
                      "\"q\":[0,0,0,1],\"resume\":\"\",\"live\":%s,\"at\":%lld}}]}";

    join(a, ann, "lobby");
    snprintf(doc, sizeof(doc), fmt, ann->user_id, "false", 9999999999999LL);
    CHECK(venue_mesh_apply(a, doc, strlen(doc), now) == 0);
    CHECK(ann->closed_code == 0);
    CHECK(room_view(a, "lobby")->here == 1);
    snprintf(doc, sizeof(doc), fmt, ann->user_id, "true", 0LL);
    CHECK(venue_mesh_apply(a, doc, strlen(doc), now) == 0);
    CHECK(ann->closed_code == 0); /* connected earlier there: a's is the newer */
    snprintf(doc, sizeof(doc), fmt, ann->user_id, "true", 9999999999999LL);
    CHECK(venue_mesh_apply(a, doc, strlen(doc), now) == 0);
    CHECK(ann->closed_code == VENUE_CLOSE_RESUMED);
    CHECK(room_view(a, "lobby")->count == 1 && room_view(a, "lobby")->here == 0);
    clear(&to_b);
    venue_free(a);
    free(ann);
}

/* Documents that are not a node's, and events that do not check. */
static void test_hostile(void)
{
    struct venue *a = node("a", &to_b);
    struct fconn *ann = connect_as(a, "Ann", NULL);
    static const char *bad_docs[] = {
        "",
        "not json",
        "[]",
        "{\"ev\":[]}",
        "{\"n\":\"b\"}",
        "{\"n\":\"b c\",\"ev\":[]}",
        "{\"n\":\"\",\"ev\":[]}",
        "{\"n\":\"0123456789012345678901234567890123\",\"ev\":[]}",
        "{\"n\":\"b\",\"n\":\"c\",\"ev\":[]}",
        "{\"n\":5,\"ev\":[]}",
    };
    /* Each would add someone to the lobby if it checked. */
    static const char *bad_events[] = {
        "{\"t\":\"p\",\"r\":\"lobby\",\"e\":\"join\",\"u\":{\"id\":\"u-1 2\",\"name\":\"X\","
        "\"role\":\"guest\",\"p\":[0,0,0],\"q\":[0,0,0,1],\"resume\":\"\"}}",
        "{\"t\":\"p\",\"r\":\"lobby\",\"e\":\"join\",\"u\":{\"id\":\"u-1\",\"name\":\"X\","
        "\"role\":\"king\",\"p\":[0,0,0],\"q\":[0,0,0,1],\"resume\":\"\"}}",
        "{\"t\":\"p\",\"r\":\"lobby\",\"e\":\"join\",\"u\":{\"id\":\"u-1\",\"name\":\"X\","
        "\"role\":\"guest\",\"p\":[0,0],\"q\":[0,0,0,1],\"resume\":\"\"}}",
        "{\"t\":\"p\",\"r\":\"lobby\",\"e\":\"join\",\"u\":{\"id\":\"u-1\",\"name\":\"X\","
        "\"role\":\"guest\",\"p\":[0,0,1e300],\"q\":[0,0,0,1],\"resume\":\"\"}}",
        "{\"t\":\"p\",\"r\":\"lobby\",\"e\":\"join\",\"u\":{\"id\":\"u-1\",\"name\":\"X\","
        "\"role\":\"guest\",\"p\":[0,0,0],\"q\":[0,0,0,1],\"resume\":\"xyz\"}}",
        "{\"t\":\"p\",\"r\":\"nowhere\",\"e\":\"join\",\"u\":{\"id\":\"u-1\",\"name\":\"X\","
        "\"role\":\"guest\",\"p\":[0,0,0],\"q\":[0,0,0,1],\"resume\":\"\"}}",
        "{\"t\":\"p\",\"r\":\"lobby\",\"e\":\"join\",\"u\":\"u-1\"}",
        "{\"t\":\"m\",\"r\":\"lobby\",\"e\":[[\"u-1\",0,0,0,0,0,0,1]]}",
        "{\"t\":\"c\",\"u\":\"u-1\",\"x\":\"hello\"}",
        "{\"t\":\"act\",\"to\":\"a\",\"u\":\"u-1\",\"a\":\"kick\",\"until\":0,\"why\":\"x\"}",
        "{\"t\":42}",
        "[]",
        "null",
    };
    char doc[1024];

    join(a, ann, "lobby");
    for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++)
        CHECK(venue_mesh_apply(a, bad_docs[i], strlen(bad_docs[i]), now) == -1);
    for (size_t i = 0; i < sizeof(bad_events) / sizeof(bad_events[0]); i++) {
        snprintf(doc, sizeof(doc), "{\"n\":\"b\",\"ev\":[%s]}", bad_events[i]);
        CHECK(venue_mesh_apply(a, doc, strlen(doc), now) == 0);
        CHECK(room_view(a, "lobby")->count == 1);
    }
    /* Its own document back from the channel: nothing. */
    snprintf(doc, sizeof(doc),
             "{\"n\":\"a\",\"ev\":[{\"t\":\"p\",\"r\":\"lobby\",\"e\":\"join\",\"u\":{\"id\":"
             "\"u-2\",\"name\":\"Echo\",\"role\":\"guest\",\"p\":[0,0,0],\"q\":[0,0,0,1],"
             "\"resume\":\"\"}}]}");
    CHECK(venue_mesh_apply(a, doc, strlen(doc), now) == 0);
    CHECK(room_view(a, "lobby")->count == 1);
    CHECK(ann->closed_code == 0);
    clear(&to_b);
    venue_free(a);
    free(ann);
}

static int seat_asks; /* how often the venue asked for seats */

static void ask_seats(void *ctx)
{
    (void)ctx;
    seat_asks++;
}

/* A node fills only the seats it holds: past its lease a join waits while
 * the node asks for more, goes when they come, or hears busy; the other
 * nodes' people do not use its seats, an orphan does. */
static void test_lease(void)
{
    struct venue *a = node("a", &to_b);
    struct fconn *p[4];
    json_t *msgs;
    char doc[1024];

    venue_mesh_start(a, "a",
                     &(struct venue_mesh_io){.ctx = &to_b, .publish = publish, .seats = ask_seats});
    CHECK(venue_mesh_lease(a, "lobby", 40) == 0);
    CHECK(venue_mesh_lease(a, "breakout-1", 2) == 0);
    CHECK(venue_mesh_lease(a, "nowhere", 2) == -1);
    for (int i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof(name), "P%d", i);
        p[i] = connect_as(a, name, NULL);
    }
    join(a, p[0], "breakout-1");
    join(a, p[1], "breakout-1");
    snprintf(doc, sizeof(doc),
             "{\"n\":\"b\",\"ev\":[{\"t\":\"p\",\"r\":\"breakout-1\",\"e\":\"join\",\"u\":{"
             "\"id\":\"u-b1\",\"name\":\"Bo\",\"role\":\"guest\",\"p\":[0,0,0],"
             "\"q\":[0,0,0,1],\"resume\":\"\",\"live\":true,\"at\":1}}]}");
    CHECK(venue_mesh_apply(a, doc, strlen(doc), now) == 0);
    CHECK(room_view(a, "breakout-1")->count == 3 && room_view(a, "breakout-1")->here == 2);

    /* The lease is full (Bo's seat was never this node's): P2 waits, the
     * cluster is asked at the tick, and P2 goes in once a seat comes. */
    seat_asks = 0;
    send_text(a, p[2], "{\"type\":\"join\",\"room\":\"breakout-1\"}");
    msgs = drain(a, p[2]);
    CHECK(json_array_size(msgs) == 0);
    json_decref(msgs);
    now += 50;
    venue_tick(a, now);
    CHECK(seat_asks >= 1);
    CHECK(venue_mesh_lease(a, "breakout-1", 3) == 0);
    now += 50;
    venue_tick(a, now);
    msgs = drain(a, p[2]);
    CHECK(find(msgs, "joined") != NULL);
    json_decref(msgs);
    CHECK(room_view(a, "breakout-1")->count == 4 && room_view(a, "breakout-1")->here == 3);

    /* No seat comes for P3: busy after the wait, and nothing changed. */
    send_text(a, p[3], "{\"type\":\"join\",\"room\":\"breakout-1\"}");
    for (int t = 0; t < PARK_WAIT_MS / 50 + 2; t++) {
        now += 50;
        venue_tick(a, now);
    }
    msgs = drain(a, p[3]);
    CHECK(find(msgs, "joined") == NULL && find(msgs, "error") &&
          strcmp(json_string_value(json_object_get(find(msgs, "error"), "code")), "busy") == 0);
    json_decref(msgs);
    CHECK(room_view(a, "breakout-1")->here == 3);

    /* Bo's node goes: he is this node's now (an orphan), and holds a seat here. */
    venue_mesh_node_gone(a, "b", now);
    CHECK(room_view(a, "breakout-1")->here == 4);
    clear(&to_b);
    venue_free(a);
    for (int i = 0; i < 4; i++)
        free(p[i]);
}

/* Past MESH_OUT_MAX in a tick, the tick's events give way to the state. */
static void test_bound(void)
{
    struct venue *a = node("a", &to_b);
    struct fconn *ann = connect_as(a, "Ann", NULL);
    char text[1001];
    json_t *doc, *ev;
    size_t i, lines = MESH_OUT_MAX / 900 + 10;

    join(a, ann, "lobby");
    now += 50;
    venue_tick(a, now);
    clear(&to_b);
    memset(text, 'x', 1000);
    text[1000] = '\0';
    for (i = 0; i < lines; i++)
        mesh_chat(a, ann->s, (long long)i + 1, now, text);
    CHECK(venue_mesh_dropped(a) >= 1);
    now += 50;
    venue_tick(a, now);
    CHECK(to_b.n == 1);
    doc = to_b.n ? json_loads(to_b.docs[0], 0, NULL) : NULL;
    CHECK(doc != NULL);
    {
        bool state = false;
        json_array_foreach(json_object_get(doc, "ev"), i, ev)
        {
            if (strcmp(json_string_value(json_object_get(ev, "t")), "state") == 0)
                state = json_array_size(json_object_get(ev, "m")) == 1;
        }
        CHECK(state);
        CHECK(strlen(to_b.docs[0]) <= MESH_OUT_MAX + 4096);
    }
    json_decref(doc);
    clear(&to_b);
    venue_free(a);
    free(ann);
}

int main(int argc, char **argv)
{
    char err[512];
    config_defaults(&cfg);
    cfg.max_speed = 1e6;
    if (scene_set_load(argc > 1 ? argv[1] : "scenes/demo", &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "scenes: %s\n", err);
        return 1;
    }
    test_two_nodes();
    test_claims();
    test_hostile();
    test_lease();
    test_bound();
    scene_set_free(&scenes);
    return check_report();
}
