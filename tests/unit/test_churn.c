/*
 * test_churn.c - guest churn and guests passing for someone, in the core:
 * sessions found by user id and resume token through the venue's indexes
 * (after resume, take-over and free, and fast with many sessions), the cap
 * on detached guests, the per-address allowances of hellos and failed
 * resumes, no users row for a guest that never entered a room, registered
 * names refused to guests, and the sender's role on every chat line.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chatlog.h"
#include "core_harness.h"
#include "registry.h"
#include "session.h"
#include "store.h"
#include "venue_int.h"

static char dir[] = "venue-churn-XXXXXX"; /* in the test's working folder */
static struct store *st;
static struct registry *reg;
static struct chatlog *cl;
static struct registered mod1, att1;

static struct venue *open_venue(void)
{
    char err[256];
    struct venue *v = venue_new(&cfg, &io, &scenes, st, reg, now, err, sizeof(err));
    if (!v || venue_keep_chat(v, cl, err, sizeof(err)) < 0) {
        fprintf(stderr, "venue: %s\n", err);
        venue_free(v);
        return NULL;
    }
    return v;
}

static void tick(struct venue *v, long long ms)
{
    now += ms;
    venue_tick(v, now);
}

/* A connection from addr; the caller frees it. */
static struct fconn *dial(struct venue *v, const char *addr)
{
    struct fconn *c = calloc(1, sizeof(*c));
    c->s = venue_connect(v, c, now);
    venue_set_address(c->s, addr);
    return c;
}

/* The code of the first error in what c has queued, or "" (drained). */
static const char *error_code(struct venue *v, struct fconn *c)
{
    static char code[32];
    json_t *msgs = drain(v, c), *e = find(msgs, "error");
    snprintf(code, sizeof(code), "%s", e ? json_string_value(json_object_get(e, "code")) : "");
    json_decref(msgs);
    return code;
}

/* c says hello as a guest called name, or resumes token when not NULL:
 * whether a welcome came back (the rest of what it got is dropped). */
static bool hello(struct venue *v, struct fconn *c, const char *name, const char *token,
                  char *resume_out)
{
    char text[256];
    json_t *msgs, *w;
    bool ok;
    snprintf(text, sizeof(text), "{\"type\":\"hello\",\"name\":\"%s\"%s%s%s,\"id\":1}", name,
             token ? ",\"resume\":\"" : "", token ? token : "", token ? "\"" : "");
    send_text(v, c, text);
    msgs = drain(v, c);
    w = find(msgs, "welcome");
    ok = w != NULL;
    if (w && resume_out)
        snprintf(resume_out, 64, "%s", json_string_value(json_object_get(w, "resume")));
    if (w)
        snprintf(c->user_id, sizeof(c->user_id), "%s",
                 json_string_value(json_object_get(json_object_get(w, "user"), "id")));
    json_decref(msgs);
    return ok;
}

static void hang_up(struct venue *v, struct fconn *c)
{
    if (c->s)
        venue_disconnect(v, c->s, now);
    free(c);
}

static void test_lookups(void)
{
    struct venue *v = open_venue();
    char token[64], token2[64], token3[64];
    struct fconn *a = connect_as(v, "Ada", token), *b, *t1, *t2;
    struct session *s = session_find_user(v, a->user_id);

    CHECK(s && s == a->s);
    CHECK(session_find_resumable(v, token) == a->s);
    CHECK(session_find_resumable(v, "0123456789abcdef0123456789abcdef") == NULL);
    CHECK(session_find_user(v, "u-0000000000000000") == NULL);
    CHECK(session_index_valid(v));

    /* Resume: the same session is found, through a new connection. */
    venue_disconnect(v, a->s, now);
    tick(v, 1000);
    CHECK(session_find_resumable(v, token) == s); /* detached: still resumable */
    b = dial(v, "");
    CHECK(hello(v, b, "Ada", token, NULL));
    CHECK(b->s == s && session_find_user(v, a->user_id) == s);
    CHECK(session_find_resumable(v, token) == s);
    tick(v, 50); /* the fresh session it came in on is freed */
    CHECK(session_index_valid(v));

    /* A registered person's second tab takes over: the old token is gone. */
    t1 = enter_token(v, att1.token, NULL);
    {
        json_t *msgs;
        struct fconn *again = dial(v, "");
        char text[160];
        snprintf(text, sizeof(text),
                 "{\"type\":\"hello\",\"name\":\"x\",\"token\":\"%s\",\"id\":1}", att1.token);
        s = session_find_user(v, att1.id);
        CHECK(s && s == t1->s);
        /* t1's resume token, as its own welcome said, is replaced below */
        send_text(v, again, text);
        msgs = drain(v, again);
        snprintf(token2, sizeof(token2), "%s",
                 json_string_value(json_object_get(find(msgs, "welcome"), "resume")));
        json_decref(msgs);
        CHECK(again->s == s && t1->closed_code == 4002);
        CHECK(session_find_user(v, att1.id) == s);
        CHECK(session_find_resumable(v, token2) == s);
        t2 = again;
    }
    tick(v, 50);
    CHECK(session_index_valid(v));

    /* Freed at the end of its grace: found no more, by either key. */
    venue_disconnect(v, b->s, now);
    tick(v, cfg.resume_grace_s * 1000LL + 1000);
    CHECK(session_find_user(v, a->user_id) == NULL);
    CHECK(session_find_resumable(v, token) == NULL);
    CHECK(session_find_user(v, att1.id) == t2->s);
    CHECK(session_index_valid(v));

    /* A kicked person back at once: the dead session, not yet freed,
     * shares the user id with the new one, which is the one found. */
    {
        struct fconn *m = enter_token(v, mod1.token, "lobby"), *back;
        char body[96];
        join(v, t2, "lobby");
        snprintf(body, sizeof(body), "\"action\":\"kick\",\"target\":\"%s\"", att1.id);
        CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
        CHECK(t2->closed_code == 4003 && session_find_user(v, att1.id) == NULL);
        back = enter_token(v, att1.token, NULL);
        CHECK(back->s && session_find_user(v, att1.id) == back->s);
        CHECK(session_index_valid(v));
        tick(v, 50); /* the kicked one is freed: the new one stays found */
        CHECK(session_find_user(v, att1.id) == back->s);
        CHECK(session_index_valid(v));
        hang_up(v, back);
        hang_up(v, m);
    }
    {
        struct fconn *c = connect_as(v, "Fresh", token3);
        CHECK(session_find_resumable(v, token3) == c->s);
        hang_up(v, c);
    }

    free(t2);
    free(t1);
    free(a);
    free(b);
    venue_free(v);
}

/* The time of GUESSES lookups of unknown tokens and ids, in seconds. */
static double guess_time(struct venue *v, int guesses)
{
    struct timespec t0, t1;
    char guess[40];
    int found = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < guesses; i++) {
        snprintf(guess, sizeof(guess), "%032x", i);
        found += session_find_resumable(v, guess) != NULL;
        found += session_find_user(v, guess) != NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(found == 0);
    return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* With a hundred times the sessions a lookup costs about the same: one
 * chain, not a scan (10,000 sessions made the old scan ~100x slower). */
static void test_lookups_fast(void)
{
    enum { FEW = 100, MANY = 10000, GUESSES = 5000 };
    struct venue *v;
    struct fconn **cs = calloc(MANY, sizeof(*cs));
    double few, many;
    int hello_burst = cfg.hello_burst;

    cfg.hello_burst = MANY;
    v = open_venue();
    for (int i = 0; i < FEW; i++)
        cs[i] = connect_as(v, "Many", NULL);
    few = guess_time(v, GUESSES);
    for (int i = FEW; i < MANY; i++)
        cs[i] = connect_as(v, "Many", NULL);
    many = guess_time(v, GUESSES);
    printf("churn: %d unknown tokens and ids: %.3f s against %d sessions, %.3f s against %d\n",
           GUESSES, few, FEW, many, MANY);
    CHECK(many < 3 * few + 0.02);
    CHECK(session_find_user(v, cs[MANY / 2]->user_id) == cs[MANY / 2]->s);
    CHECK(session_index_valid(v));
    for (int i = 0; i < MANY; i++)
        hang_up(v, cs[i]);
    free(cs);
    venue_free(v);
    cfg.hello_burst = hello_burst;
}

static void test_detached_cap(void)
{
    int cap = cfg.detached_guests;
    struct venue *v;
    struct fconn *g[5], *watcher, *r;
    char tokens[5][64];
    json_t *msgs;

    cfg.detached_guests = 3;
    v = open_venue();
    watcher = enter_token(v, mod1.token, "lobby");
    r = enter_token(v, att1.token, "lobby");
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof(name), "Guest %d", i);
        g[i] = connect_as(v, name, tokens[i]);
        join(v, g[i], "lobby");
    }
    json_decref(drain(v, watcher));
    /* A registered person's dropped session is not counted. */
    venue_disconnect(v, r->s, now);
    for (int i = 0; i < 4; i++) {
        tick(v, 100);
        venue_disconnect(v, g[i]->s, now);
    }
    CHECK(v->ndetached_guests == 3);
    CHECK(venue_metrics_get(v)->detached_dropped == 1);
    tick(v, 50);
    /* The one dropped first is gone as at the end of its grace: its room
     * heard it leave, its token is dead. The others are resumable. */
    msgs = drain(v, watcher);
    CHECK(count(msgs, "presence") == 1);
    {
        json_t *p = find(msgs, "presence");
        const char *id = json_string_value(json_object_get(json_object_get(p, "user"), "id"));
        const char *event = json_string_value(json_object_get(p, "event"));
        CHECK(event && strcmp(event, "leave") == 0);
        CHECK(id && strcmp(id, g[0]->user_id) == 0);
    }
    json_decref(msgs);
    CHECK(session_find_resumable(v, tokens[0]) == NULL);
    for (int i = 1; i < 4; i++)
        CHECK(session_find_resumable(v, tokens[i]) != NULL);
    CHECK(session_find_user(v, att1.id) != NULL);
    {
        /* A resume takes its session off the list: room for one more. */
        struct fconn *back = dial(v, "");
        CHECK(hello(v, back, "Guest 1", tokens[1], NULL));
        CHECK(v->ndetached_guests == 2);
        venue_disconnect(v, g[4]->s, now);
        CHECK(v->ndetached_guests == 3 && venue_metrics_get(v)->detached_dropped == 1);
        hang_up(v, back);
    }
    CHECK(session_index_valid(v));
    hang_up(v, watcher);
    for (int i = 0; i < 5; i++)
        free(g[i]);
    free(r);
    venue_free(v);
    cfg.detached_guests = cap;
}

static void test_address_limits(void)
{
    struct venue *v = open_venue();
    struct fconn *c[70], *other, *guesser, *good;
    char token[64];
    int welcomed = 0;

    /* 20 a second with a burst of 60: the 61st at once is refused and closed. */
    for (int i = 0; i < 61; i++) {
        c[i] = dial(v, "192.0.2.7");
        welcomed += hello(v, c[i], "Churn", NULL, i == 0 ? token : NULL);
    }
    CHECK(welcomed == 60);
    CHECK(c[60]->closed_code == 1008);
    CHECK(strstr(c[60]->farewell, "\"rate_limited\"") != NULL);
    CHECK(venue_metrics_get(v)->closed_address == 1);
    /* Another address is not concerned; a second later, 20 more get in. */
    other = dial(v, "192.0.2.8");
    CHECK(hello(v, other, "Neighbour", NULL, NULL));
    tick(v, 1000);
    welcomed = 0;
    for (int i = 61; i < 70; i++) {
        c[i] = dial(v, "192.0.2.7");
        welcomed += hello(v, c[i], "Churn", NULL, NULL);
    }
    CHECK(welcomed == 9);

    /* Unknown resume tokens: 10 at once are answered not_found, on one
     * connection; the 11th closes it. A good resume is never limited. */
    guesser = dial(v, "198.51.100.1");
    for (int i = 0; i < 10; i++) {
        char guess[40];
        snprintf(guess, sizeof(guess), "%032x", i);
        CHECK(!hello(v, guesser, "G", guess, NULL));
        CHECK(guesser->closed_code == 0);
    }
    CHECK(!hello(v, guesser, "G", "ffffffffffffffffffffffffffffffff", NULL));
    CHECK(guesser->closed_code == 1008);
    CHECK(strstr(guesser->farewell, "\"rate_limited\"") != NULL);
    venue_disconnect(v, c[0]->s, now);
    good = dial(v, "198.51.100.1");
    CHECK(hello(v, good, "Churn", token, NULL)); /* the bucket is empty: still in */
    tick(v, 50);
    CHECK(session_index_valid(v));

    hang_up(v, good);
    hang_up(v, guesser);
    hang_up(v, other);
    for (int i = 1; i < 70; i++)
        hang_up(v, c[i]);
    free(c[0]);
    venue_free(v);
}

/* A guest that never entered a room leaves no users row; one that did has
 * one (its last poses need it), and its chat line and pose are kept. */
static void test_guest_rows(void)
{
    struct venue *v = open_venue();
    struct fconn *passer = connect_as(v, "Passer By", NULL);
    struct fconn *stayer = connect_as(v, "Stayer", NULL);
    char passer_id[32], stayer_id[32];
    struct reg_user u;

    snprintf(passer_id, sizeof(passer_id), "%s", passer->user_id);
    snprintf(stayer_id, sizeof(stayer_id), "%s", stayer->user_id);
    CHECK(registry_user_get(reg, passer_id, &u) == 0);
    join(v, stayer, "lobby");
    CHECK(registry_user_get(reg, stayer_id, &u) == 1 && strcmp(u.name, "Stayer") == 0);
    send_text(v, stayer, "{\"type\":\"pose\",\"p\":[1,0,1],\"q\":[0,0,0,1]}");
    send_text(v, stayer, "{\"type\":\"chat\",\"text\":\"kept\"}");
    hang_up(v, passer);
    tick(v, cfg.flush_ms + 100); /* poses and chat written: their owner exists */
    {
        float p[3], q[4];
        CHECK(store_pose_get(st, stayer_id, "lobby", p, q) == 1);
    }
    hang_up(v, stayer);
    tick(v, cfg.resume_grace_s * 1000LL + 1000);
    CHECK(registry_user_get(reg, passer_id, &u) == 0);
    venue_free(v);
}

static void test_reserved_names(void)
{
    struct venue *v = open_venue();
    struct fconn *c = dial(v, "");
    const char *taken[] = {"Mo Moderator", "mo moderator", "MO MODERATOR",
                           "Mo \\u202eModerator"}; /* a bidi override hello strips */

    for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
        char text[160];
        snprintf(text, sizeof(text), "{\"type\":\"hello\",\"name\":\"%s\",\"id\":1}", taken[i]);
        send_text(v, c, text);
        CHECK(strcmp(error_code(v, c), "name_taken") == 0);
        CHECK(c->closed_code == 0); /* another name may follow */
    }
    CHECK(hello(v, c, "Mo Moderator 2", NULL, NULL));
    hang_up(v, c);
    /* The registered person gets in under that name, of course. */
    c = enter_token(v, mod1.token, NULL);
    CHECK(session_find_user(v, mod1.id) &&
          strcmp(session_find_user(v, mod1.id)->name, "Mo Moderator") == 0);
    hang_up(v, c);
    venue_free(v);
}

/* The role of line i of a chat or chat_history message's from. */
static const char *role_of(json_t *from)
{
    const char *r = json_string_value(json_object_get(from, "role"));
    return r ? r : "(none)";
}

static void test_chat_roles(void)
{
    struct venue *v = open_venue();
    struct fconn *m = enter_token(v, mod1.token, "lobby");
    struct fconn *g = connect_as(v, "Mo Moderator's fan", NULL), *late;
    json_t *msgs, *lines;

    join(v, g, "lobby");
    json_decref(drain(v, m));
    send_text(v, g, "{\"type\":\"chat\",\"text\":\"from a guest\"}");
    send_text(v, m, "{\"type\":\"chat\",\"text\":\"from a moderator\"}");
    msgs = drain(v, m);
    CHECK(count(msgs, "chat") == 2);
    CHECK(strcmp(role_of(json_object_get(json_array_get(msgs, 0), "from")), "guest") == 0);
    CHECK(strcmp(role_of(json_object_get(json_array_get(msgs, 1), "from")), "moderator") == 0);
    json_decref(msgs);

    late = connect_as(v, "Late", NULL);
    join(v, late, "lobby"); /* join drains: ask again for the history */
    hang_up(v, late);
    tick(v, cfg.flush_ms + 100);
    hang_up(v, g);
    hang_up(v, m);
    venue_shutdown(v, now);
    venue_free(v);

    /* After a restart, chat_history still says who was a guest. */
    v = open_venue();
    late = connect_as(v, "Later", NULL);
    send_text(v, late, "{\"type\":\"join\",\"room\":\"lobby\"}");
    msgs = drain(v, late);
    lines = json_object_get(find(msgs, "chat_history"), "lines");
    CHECK(json_array_size(lines) >= 2);
    if (json_array_size(lines) >= 2) {
        size_t n = json_array_size(lines);
        CHECK(strcmp(role_of(json_object_get(json_array_get(lines, n - 2), "from")), "guest") == 0);
        CHECK(strcmp(role_of(json_object_get(json_array_get(lines, n - 1), "from")), "moderator") ==
              0);
    }
    json_decref(msgs);
    hang_up(v, late);
    venue_free(v);
}

int main(int argc, char **argv)
{
    char err[512];

    config_defaults(&cfg);
    if (scene_set_load(argc > 1 ? argv[1] : "scenes/demo", &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "scenes: %s\n", err);
        return 1;
    }
    if (open_store(dir, &st, &reg) < 0 || !(cl = chatlog_open(st, err, sizeof(err)))) {
        fprintf(stderr, "store: %s\n", err);
        return 1;
    }
    registered_add(reg, &mod1, "Mo Moderator", ROLE_MODERATOR, 1700000000000LL);
    registered_add(reg, &att1, "Ann Attendee", ROLE_ATTENDEE, 1700000000000LL);

    test_lookups();
    test_lookups_fast();
    test_detached_cap();
    test_address_limits();
    test_guest_rows();
    test_reserved_names();
    test_chat_roles();

    chatlog_close(cl);
    remove_store(dir, st, reg);
    scene_set_free(&scenes);
    return check_report();
}
