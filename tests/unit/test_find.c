/*
 * test_find.c - finding a person in the core: the name match, the bound
 * on a reply, who may be found (privacy, guests only in one's own room),
 * the privacy message and its keeping in the registry, and arriving
 * beside someone (join.near). The real store and registry in a temporary
 * folder; the clock in the test's hand.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "find.h"
#include "registry.h"
#include "scene.h"
#include "session.h"
#include "store.h"
#include "venue.h"

#include "core_harness.h"

static char dir[] = "/tmp/venue-find-XXXXXX";
static struct store *st;
static struct registry *reg;

static struct venue *open_venue(void)
{
    char err[256];
    struct venue *v = venue_new(&cfg, &io, &scenes, st, reg, now, err, sizeof(err));
    if (!v)
        fprintf(stderr, "venue_new: %s\n", err);
    return v;
}

static void leave_venue(struct venue *v, struct fconn *c)
{
    if (c->s)
        venue_disconnect(v, c->s, now);
    free(c);
}

/* Send find for q from c and return the found reply (new ref), or NULL. */
static json_t *find_q(struct venue *v, struct fconn *c, const char *q)
{
    char text[400];
    json_t *msgs, *f;
    snprintf(text, sizeof(text), "{\"type\":\"find\",\"q\":\"%s\",\"id\":\"f\"}", q);
    send_text(v, c, text);
    msgs = drain(v, c);
    f = find(msgs, "found");
    if (f) {
        json_incref(f);
        CHECK(strcmp(json_string_value(json_object_get(f, "re")), "f") == 0);
    }
    json_decref(msgs);
    return f;
}

static size_t found_n(json_t *f)
{
    return f ? json_array_size(json_object_get(f, "people")) : 0;
}

/* The entry of user in a found reply, borrowed, or NULL. */
static json_t *found_user(json_t *f, const char *user)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(f, "people"), i,
                       p) if (strcmp(json_string_value(json_object_get(p, "user")), user) ==
                              0) return p;
    return NULL;
}

static const char *room_name_of(const char *id)
{
    const struct scene *sc = scene_set_find(&scenes, id);
    return sc ? sc->name : "";
}

static void test_name_matching(void)
{
    CHECK(find_name_matches("Ada Lovelace", "LOVE"));
    CHECK(find_name_matches("Ada Lovelace", "ada l"));
    CHECK(!find_name_matches("Ada Lovelace", "lovelaces"));
    CHECK(find_name_matches("ÉMILE Zoë", "émile zoë"));
    CHECK(find_name_matches("Émile", "ÉMI"));
    CHECK(find_name_matches("Łukasz Żuk", "łukasz żuk"));
    CHECK(find_name_matches("Σοφία", "ΣΟΦ"));
    CHECK(find_name_matches("Борис Ёлкин", "борис ёлкин"));
    CHECK(find_name_matches("田中 太郎", "田中"));
    CHECK(!find_name_matches("田中 太郎", "山"));
    CHECK(!find_name_matches("Ada", "Ada Lovelace"));
    CHECK(!find_name_matches("Ada", ""));
}

/* At most PROTO_FIND_MAX people in one reply, truncated said, me never. */
static void test_bound(void)
{
    struct venue *v = open_venue();
    struct fconn *me = connect_as(v, "Seeker Person", NULL), *many[PROTO_FIND_MAX + 5];
    json_t *f;
    join(v, me, "lobby");
    for (size_t i = 0; i < PROTO_FIND_MAX + 5; i++) {
        char name[32];
        snprintf(name, sizeof(name), "Person %02zu", i);
        many[i] = connect_as(v, name, NULL);
        join(v, many[i], "lobby");
    }
    f = find_q(v, me, "person");
    CHECK(found_n(f) == PROTO_FIND_MAX);
    CHECK(f && json_is_true(json_object_get(f, "truncated")));
    CHECK(f && !found_user(f, me->user_id));
    json_decref(f);

    f = find_q(v, me, "PERSON 07");
    CHECK(found_n(f) == 1);
    CHECK(f && json_is_false(json_object_get(f, "truncated")));
    CHECK(f && found_user(f, many[7]->user_id));
    if (f && found_user(f, many[7]->user_id)) {
        json_t *p = found_user(f, many[7]->user_id);
        CHECK(strcmp(json_string_value(json_object_get(p, "room")), "lobby") == 0);
        CHECK(strcmp(json_string_value(json_object_get(p, "room_name")), room_name_of("lobby")) ==
              0);
        CHECK(strcmp(json_string_value(json_object_get(p, "name")), "Person 07") == 0);
        CHECK(strcmp(json_string_value(json_object_get(p, "role")), "guest") == 0);
    }
    json_decref(f);

    f = find_q(v, me, "nobody at all");
    CHECK(f && found_n(f) == 0);
    json_decref(f);
    for (size_t i = 0; i < PROTO_FIND_MAX + 5; i++)
        leave_venue(v, many[i]);
    leave_venue(v, me);
    venue_free(v);
}

/* Registered people are found from anywhere; guests only in one's room;
 * nobody who is in no room. */
static void test_who_is_found(void)
{
    struct venue *v = open_venue();
    struct registered rr;
    struct fconn *seeker, *guest, *regd, *nowhere;
    json_t *f;

    registered_add(reg, &rr, "Rita Registered", ROLE_ATTENDEE, now);
    seeker = connect_as(v, "Sam Seeker", NULL);
    guest = connect_as(v, "Gina Guest", NULL);
    nowhere = connect_as(v, "Gina Nowhere", NULL);
    regd = enter_token(v, rr.token, "expo");
    join(v, seeker, "lobby");
    join(v, guest, "plenary");

    f = find_q(v, seeker, "gina");
    CHECK(f && found_n(f) == 0); /* a guest in another room; one in no room */
    json_decref(f);
    f = find_q(v, seeker, "rita");
    CHECK(found_n(f) == 1 && found_user(f, rr.id));
    if (f && found_user(f, rr.id)) {
        json_t *p = found_user(f, rr.id);
        CHECK(strcmp(json_string_value(json_object_get(p, "room")), "expo") == 0);
        CHECK(strcmp(json_string_value(json_object_get(p, "role")), "attendee") == 0);
    }
    json_decref(f);

    join(v, seeker, "plenary");
    f = find_q(v, seeker, "gina");
    CHECK(found_n(f) == 1 && found_user(f, guest->user_id));
    json_decref(f);

    /* a guest finds registered people elsewhere too, and nobody finds someone who left */
    f = find_q(v, guest, "rita");
    CHECK(found_n(f) == 1);
    json_decref(f);
    leave_venue(v, regd);
    now += (long long)cfg.resume_grace_s * 1000 + 1000;
    venue_tick(v, now);
    f = find_q(v, guest, "rita");
    CHECK(f && found_n(f) == 0);
    json_decref(f);

    leave_venue(v, seeker);
    leave_venue(v, guest);
    leave_venue(v, nowhere);
    venue_free(v);
}

/* The privacy message: echoed, obeyed by find, kept in the registry for
 * registered people and said after every welcome. */
static void test_privacy(void)
{
    struct venue *v = open_venue();
    struct registered rp;
    struct reg_privacy kept;
    struct fconn *seeker, *p, *g;
    json_t *msgs, *m, *f;
    char hello[200];

    registered_add(reg, &rp, "Paula Private", ROLE_ATTENDEE, now);
    seeker = connect_as(v, "Sam Seeker", NULL);
    join(v, seeker, "lobby");

    snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"name\":\"x\",\"token\":\"%s\"}",
             rp.token);
    p = calloc(1, sizeof(*p));
    p->s = venue_connect(v, p, now);
    send_text(v, p, hello);
    msgs = drain(v, p);
    m = find(msgs, "privacy");
    CHECK(m && json_is_true(json_object_get(m, "findable")) &&
          json_is_true(json_object_get(m, "dms")));
    json_decref(msgs);
    snprintf(p->user_id, sizeof(p->user_id), "%s", rp.id);
    join(v, p, "breakout-1");

    f = find_q(v, seeker, "paula");
    CHECK(found_n(f) == 1);
    json_decref(f);

    send_text(v, p, "{\"type\":\"privacy\",\"findable\":false,\"id\":9}");
    msgs = drain(v, p);
    m = find(msgs, "privacy");
    CHECK(m && json_is_false(json_object_get(m, "findable")) &&
          json_is_true(json_object_get(m, "dms")) &&
          json_integer_value(json_object_get(m, "re")) == 9);
    json_decref(msgs);
    CHECK(registry_privacy_get(reg, rp.id, &kept) == 1 && !kept.findable && kept.dms);
    CHECK(!session_findable(p->s) && session_accepts_dms(p->s));

    f = find_q(v, seeker, "paula");
    CHECK(f && found_n(f) == 0);
    json_decref(f);
    join(v, seeker, "breakout-1"); /* not even in the same room */
    f = find_q(v, seeker, "paula");
    CHECK(f && found_n(f) == 0);
    json_decref(f);

    send_text(v, p, "{\"type\":\"privacy\",\"dms\":false}");
    msgs = drain(v, p);
    m = find(msgs, "privacy");
    CHECK(m && json_is_false(json_object_get(m, "findable")) &&
          json_is_false(json_object_get(m, "dms")));
    json_decref(msgs);
    CHECK(!session_accepts_dms(p->s));

    send_text(v, p, "{\"type\":\"privacy\",\"dms\":\"yes\"}");
    msgs = drain(v, p);
    m = find(msgs, "error");
    CHECK(m && strstr(json_string_value(json_object_get(m, "message")), "privacy.dms"));
    json_decref(msgs);

    /* a new connection of the same person (another device) hears the kept settings */
    leave_venue(v, p);
    now += (long long)cfg.resume_grace_s * 1000 + 1000;
    venue_tick(v, now);
    p = calloc(1, sizeof(*p));
    p->s = venue_connect(v, p, now);
    send_text(v, p, hello);
    msgs = drain(v, p);
    m = find(msgs, "privacy");
    CHECK(m && json_is_false(json_object_get(m, "findable")) &&
          json_is_false(json_object_get(m, "dms")));
    json_decref(msgs);
    send_text(v, p, "{\"type\":\"privacy\",\"findable\":true,\"dms\":true}");
    json_decref(drain(v, p));
    CHECK(registry_privacy_get(reg, rp.id, &kept) == 1 && kept.findable && kept.dms);

    /* a guest's settings last its session: obeyed, not stored */
    g = connect_as(v, "Greta Guest", NULL);
    join(v, g, "breakout-1");
    f = find_q(v, seeker, "greta");
    CHECK(found_n(f) == 1);
    json_decref(f);
    send_text(v, g, "{\"type\":\"privacy\",\"findable\":false}");
    json_decref(drain(v, g));
    f = find_q(v, seeker, "greta");
    CHECK(f && found_n(f) == 0);
    json_decref(f);
    CHECK(registry_privacy_get(reg, g->user_id, &kept) == 0);

    leave_venue(v, g);
    leave_venue(v, p);
    leave_venue(v, seeker);
    venue_free(v);
}

/* A guest's settings last its session, and the session outlives a restart. */
static void test_guest_restart(void)
{
    struct venue *v = open_venue();
    char resume[64], hello[200];
    struct fconn *g = connect_as(v, "Greta Guest", resume), *r;
    json_t *msgs, *m;
    join(v, g, "lobby");
    send_text(v, g, "{\"type\":\"privacy\",\"findable\":false}");
    json_decref(drain(v, g));
    venue_shutdown(v, now);
    json_decref(drain(v, g));
    free(g);
    venue_free(v);

    v = open_venue();
    snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"name\":\"x\",\"resume\":\"%s\"}", resume);
    r = calloc(1, sizeof(*r));
    r->s = venue_connect(v, r, now);
    send_text(v, r, hello);
    msgs = drain(v, r);
    CHECK(find(msgs, "welcome") != NULL);
    m = find(msgs, "privacy");
    CHECK(m && json_is_false(json_object_get(m, "findable")) &&
          json_is_true(json_object_get(m, "dms")));
    json_decref(msgs);
    leave_venue(v, r);
    venue_free(v);
}

/* The joiner's pose in its joined roster, and joined.near. */
static json_t *join_near(struct venue *v, struct fconn *c, const char *room, const char *near,
                         float pos[3])
{
    char text[200];
    size_t i;
    json_t *msgs, *joined, *u, *n = NULL;
    snprintf(text, sizeof(text), "{\"type\":\"join\",\"room\":\"%s\",\"near\":\"%s\",\"id\":2}",
             room, near);
    send_text(v, c, text);
    msgs = drain(v, c);
    joined = find(msgs, "joined");
    CHECK(joined != NULL);
    if (joined) {
        n = json_object_get(joined, "near");
        json_incref(n);
        json_array_foreach(json_object_get(joined, "roster"), i, u)
        {
            if (strcmp(json_string_value(json_object_get(u, "id")), c->user_id) != 0)
                continue;
            for (int k = 0; k < 3; k++)
                pos[k] = (float)json_number_value(json_array_get(json_object_get(u, "p"), k));
        }
    }
    json_decref(msgs);
    return n;
}

static void test_near(void)
{
    struct venue *v = open_venue();
    struct fconn *a = connect_as(v, "Ann", NULL), *b = connect_as(v, "Bea", NULL);
    const struct scene *plenary = scene_set_find(&scenes, "plenary");
    float pb[3], pa[3], p[3], q[4];
    static const float ident[4] = {0, 0, 0, 1};
    json_t *n;
    double d;

    /* facing -Z, behind is +Z: the first place tried */
    join_at(v, b, "plenary", pb);
    CHECK(find_place_near(plenary, NULL, pb, ident, p, q));
    CHECK(fabsf(p[0] - pb[0]) < 0.01f && fabsf(p[2] - (pb[2] + 1.5f)) < 0.01f);
    CHECK(fabsf(q[1]) < 1e-4f && fabsf(q[3] - 1.0f) < 1e-4f); /* facing them: -Z too */
    /* off the floor everywhere: no place */
    {
        float far[3] = {5000.0f, 0.0f, 5000.0f};
        CHECK(!find_place_near(plenary, NULL, far, ident, p, q));
    }

    join(v, a, "lobby");
    n = join_near(v, a, "plenary", b->user_id, pa);
    CHECK(n && json_is_true(json_object_get(n, "placed")) && !json_object_get(n, "reason"));
    CHECK(n && strcmp(json_string_value(json_object_get(n, "user")), b->user_id) == 0);
    json_decref(n);
    d = hypot(pa[0] - pb[0], pa[2] - pb[2]);
    CHECK(d > 1.0 && d < 2.6);
    CHECK(scene_walkable(plenary, pa) && !scene_portal_at(plenary, pa));

    /* the others see the joiner where it stands */
    {
        json_t *msgs = drain(v, b), *pr = find(msgs, "presence");
        CHECK(pr && fabs(json_number_value(
                             json_array_get(json_object_get(json_object_get(pr, "user"), "p"), 2)) -
                         pa[2]) < 0.01);
        json_decref(msgs);
    }

    /* nobody of that id here: a normal arrival, and why */
    join(v, a, "lobby");
    n = join_near(v, a, "plenary", "u-0000000000000000", pa);
    CHECK(n && json_is_false(json_object_get(n, "placed")));
    CHECK(n && strstr(json_string_value(json_object_get(n, "reason")), "not in this room"));
    json_decref(n);
    /* beside oneself */
    n = join_near(v, a, "plenary", a->user_id, pa);
    CHECK(n && json_is_false(json_object_get(n, "placed")));
    json_decref(n);

    /* in the same room already: a move beside them, told to the others as a pose */
    json_decref(drain(v, b));
    n = join_near(v, a, "plenary", b->user_id, pa);
    CHECK(n && json_is_true(json_object_get(n, "placed")));
    json_decref(n);
    d = hypot(pa[0] - pb[0], pa[2] - pb[2]);
    CHECK(d > 1.0 && d < 2.6);
    now += 50;
    venue_tick(v, now);
    {
        json_t *msgs = drain(v, b);
        CHECK(count(msgs, "poses") == 1);
        json_decref(msgs);
    }

    /* a room that refuses: an error, no near */
    {
        json_t *msgs;
        send_text(v, a, "{\"type\":\"join\",\"room\":\"nowhere\",\"near\":\"u-1\"}");
        msgs = drain(v, a);
        CHECK(find(msgs, "error") && !find(msgs, "joined"));
        json_decref(msgs);
    }
    leave_venue(v, a);
    leave_venue(v, b);
    venue_free(v);
}

/* find takes from the chat bucket: a burst is cut. */
static void test_rate(void)
{
    struct venue *v;
    struct fconn *a;
    json_t *msgs;
    int saved = cfg.chat_rate;
    cfg.chat_rate = 5;
    v = open_venue();
    a = connect_as(v, "Ann", NULL);
    for (int i = 0; i < 30; i++)
        send_text(v, a, "{\"type\":\"find\",\"q\":\"x\"}");
    msgs = drain(v, a);
    CHECK(count(msgs, "found") <= 6);
    CHECK(count(msgs, "error") == 1);
    json_decref(msgs);
    leave_venue(v, a);
    venue_free(v);
    cfg.chat_rate = saved;
}

int main(int argc, char **argv)
{
    char err[512];
    const char *scene_dir = argc > 1 ? argv[1] : "scenes/demo";
    config_defaults(&cfg);
    cfg.queue_max = 1 << 20;
    if (scene_set_load(scene_dir, &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "scenes: %s\n", err);
        return 1;
    }
    if (open_store(dir, &st, &reg) < 0)
        return 1;
    test_name_matching();
    test_bound();
    test_who_is_found();
    test_privacy();
    test_guest_restart();
    test_near();
    test_rate();
    remove_store(dir, st, reg);
    scene_set_free(&scenes);
    return check_report();
}
