/*
 * test_moderation.c - registration, roles and moderation in the core, with
 * the real store and registry in a temporary folder and the clock in the
 * test's hand.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core_harness.h"
#include "moderation.h"
#include "park.h"
#include "registry.h"
#include "store.h"

static char dir[] = "/tmp/venue-mod-XXXXXX";
static struct store *st;
static struct registry *reg;

/* Registered people, one per role, plus attendees. */
static struct registered admin, mod1, mod2, speaker, att[40];

static struct venue *open_venue(void)
{
    char err[256];
    struct venue *v = venue_new(&cfg, &io, &scenes, st, reg, now, err, sizeof(err));
    if (!v)
        fprintf(stderr, "venue_new: %s\n", err);
    return v;
}

/* Reopen everything on the same folder: a restart. */
static struct venue *restart(struct venue *v)
{
    char err[256];
    venue_shutdown(v, now);
    venue_free(v);
    registry_close(reg);
    store_close(st);
    st = store_open(dir, err, sizeof(err));
    reg = st ? registry_open(st, err, sizeof(err)) : NULL;
    CHECK(st && reg);
    return open_venue();
}

static struct fconn *enter(struct venue *v, const struct registered *p, const char *room)
{
    return enter_token(v, p->token, room);
}

static const char *error_code(json_t *msgs)
{
    json_t *e = find(msgs, "error");
    if (!e) {
        char *t = json_dumps(msgs, 0);
        fprintf(stderr, "  no error in: %.500s\n", t);
        free(t);
    }
    return e ? json_string_value(json_object_get(e, "code")) : "none";
}

static void test_roles_and_rank(struct venue *v)
{
    struct fconn *a = enter(v, &att[0], "breakout-1"), *s = enter(v, &speaker, "breakout-1");
    struct fconn *m = enter(v, &mod1, "breakout-1"), *m2 = enter(v, &mod2, "breakout-1");
    struct fconn *other = enter(v, &att[1], "breakout-2"), *ad = enter(v, &admin, "lobby");
    char body[300];

    /* Attendees and speakers may not moderate at all. */
    CHECK(strcmp(mod_send(v, a, "\"action\":\"lock\""), "forbidden") == 0);
    CHECK(strcmp(mod_send(v, s, "\"action\":\"lock\""), "forbidden") == 0);
    /* A moderator acts in its room, not in another. */
    CHECK(strcmp(mod_send(v, m, "\"action\":\"lock\""), "mod_ok") == 0);
    CHECK(strcmp(mod_send(v, m, "\"action\":\"unlock\""), "mod_ok") == 0);
    CHECK(strcmp(mod_send(v, m, "\"action\":\"lock\",\"room\":\"breakout-2\""), "forbidden") == 0);
    snprintf(body, sizeof(body), "\"action\":\"lower_hand\",\"target\":\"%s\"", att[1].id);
    CHECK(strcmp(mod_send(v, m, body), "forbidden") == 0); /* not in its room */
    /* Nobody acts on the same rank or above. */
    snprintf(body, sizeof(body), "\"action\":\"mute\",\"target\":\"%s\"", mod2.id);
    CHECK(strcmp(mod_send(v, m, body), "forbidden") == 0);
    snprintf(body, sizeof(body), "\"action\":\"mute\",\"target\":\"%s\"", admin.id);
    CHECK(strcmp(mod_send(v, m, body), "forbidden") == 0);
    /* The whole venue is the admins'. */
    CHECK(strcmp(mod_send(v, m, "\"action\":\"announce\",\"room\":\"*\",\"text\":\"hi\""),
                 "forbidden") == 0);
    CHECK(strcmp(mod_send(v, ad, "\"action\":\"announce\",\"room\":\"*\",\"text\":\"Welcome!\""),
                 "mod_ok") == 0);
    {
        json_t *msgs = drain(v, other);
        json_t *an = find(msgs, "announce");
        CHECK(an && strcmp(json_string_value(json_object_get(an, "text")), "Welcome!") == 0);
        json_decref(msgs);
    }
    /* Admins act anywhere: lower a hand in another room. */
    send_text(v, other, "{\"type\":\"hand\",\"up\":true}");
    snprintf(body, sizeof(body), "\"action\":\"lower_hand\",\"target\":\"%s\"", att[1].id);
    CHECK(strcmp(mod_send(v, ad, body), "mod_ok") == 0);
    {
        json_t *msgs = drain(v, other);
        json_t *p = find(msgs, "presence");
        CHECK(p && json_is_false(json_object_get(json_object_get(p, "user"), "hand")));
        json_decref(msgs);
    }
    /* Promote and demote change the role the room sees. */
    snprintf(body, sizeof(body), "\"action\":\"promote\",\"target\":\"%s\"", att[0].id);
    CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    {
        json_t *msgs = drain(v, a);
        json_t *p = find(msgs, "presence");
        CHECK(p && strcmp(json_string_value(json_object_get(json_object_get(p, "user"), "role")),
                          "speaker") == 0);
        json_decref(msgs);
    }
    snprintf(body, sizeof(body), "\"action\":\"demote\",\"target\":\"%s\"", att[0].id);
    CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    CHECK(audit_count(reg, "promote") == 1 && audit_count(reg, "demote") == 1);
    CHECK(audit_count(reg, "lock") == 1 && audit_count(reg, "announce") == 1);

    venue_disconnect(v, a->s, now);
    venue_disconnect(v, s->s, now);
    venue_disconnect(v, m->s, now);
    venue_disconnect(v, m2->s, now);
    venue_disconnect(v, other->s, now);
    venue_disconnect(v, ad->s, now);
    free(a), free(s), free(m), free(m2), free(other), free(ad);
    now += (cfg.resume_grace_s + 1) * 1000LL;
    venue_tick(v, now);
}

static void test_kick_ban_mute_lock(struct venue **vp)
{
    struct venue *v = *vp;
    struct fconn *m = enter(v, &mod1, "breakout-3"), *a = enter(v, &att[2], "breakout-3");
    struct fconn *b = enter(v, &att[3], "breakout-3"), *c;
    char body[300], hello[200];
    json_t *msgs;

    /* Kick: told why, closed with 4003, no resume. */
    snprintf(body, sizeof(body), "\"action\":\"kick\",\"target\":\"%s\",\"reason\":\"spam\"",
             att[2].id);
    CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    CHECK(a->closed_code == 4003 && strstr(a->farewell, "\"kicked\"") &&
          strstr(a->farewell, "spam"));
    msgs = drain(v, b);
    CHECK(find(msgs, "presence") &&
          strcmp(json_string_value(json_object_get(find(msgs, "presence"), "event")), "leave") ==
              0);
    json_decref(msgs);
    free(a);

    /* Mute: chat forbidden, the room sees it. */
    snprintf(body, sizeof(body), "\"action\":\"mute\",\"target\":\"%s\"", att[3].id);
    CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    msgs = drain(v, b);
    CHECK(find(msgs, "presence") &&
          json_is_true(json_object_get(json_object_get(find(msgs, "presence"), "user"), "muted")));
    json_decref(msgs);
    send_text(v, b, "{\"type\":\"chat\",\"text\":\"let me speak\"}");
    msgs = drain(v, b);
    CHECK(strcmp(error_code(msgs), "forbidden") == 0);
    json_decref(msgs);

    /* Room ban: out of the room, joins refused. */
    snprintf(body, sizeof(body), "\"action\":\"ban\",\"target\":\"%s\",\"reason\":\"rude\"",
             att[3].id);
    CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    msgs = drain(v, b);
    CHECK(find(msgs, "kicked") != NULL);
    json_decref(msgs);
    send_text(v, b, "{\"type\":\"join\",\"room\":\"breakout-3\"}");
    msgs = drain(v, b);
    CHECK(strcmp(error_code(msgs), "forbidden") == 0);
    json_decref(msgs);

    /* Lock: attendees refused, moderators let in. */
    CHECK(strcmp(mod_send(v, m, "\"action\":\"lock\""), "mod_ok") == 0);
    c = enter(v, &att[4], NULL);
    send_text(v, c, "{\"type\":\"join\",\"room\":\"breakout-3\"}");
    msgs = drain(v, c);
    CHECK(strcmp(error_code(msgs), "forbidden") == 0);
    json_decref(msgs);

    /* All of it survives a restart. */
    *vp = v = restart(v);
    free(m), free(b), free(c);
    m = enter(v, &mod2, "breakout-3"); /* moderators pass a lock */
    b = enter(v, &att[3], NULL);
    send_text(v, b, "{\"type\":\"join\",\"room\":\"breakout-3\"}");
    msgs = drain(v, b);
    CHECK(strcmp(error_code(msgs), "forbidden") == 0); /* banned (and locked) */
    json_decref(msgs);
    join(v, b, "lobby");
    send_text(v, b, "{\"type\":\"chat\",\"text\":\"still muted?\"}");
    msgs = drain(v, b);
    CHECK(strcmp(error_code(msgs), "forbidden") == 0);
    json_decref(msgs);
    c = enter(v, &att[4], NULL);
    send_text(v, c, "{\"type\":\"join\",\"room\":\"breakout-3\"}");
    msgs = drain(v, c);
    CHECK(strcmp(error_code(msgs), "forbidden") == 0); /* still locked */
    json_decref(msgs);

    /* Venue ban (admins only) refuses the hello itself. */
    {
        struct fconn *ad = enter(v, &admin, "lobby");
        snprintf(body, sizeof(body), "\"action\":\"ban\",\"target\":\"%s\",\"room\":\"*\"",
                 att[4].id);
        CHECK(strcmp(mod_send(v, m, body), "forbidden") == 0);
        CHECK(strcmp(mod_send(v, ad, body), "mod_ok") == 0);
        CHECK(c->closed_code == 4003);
        free(c);
        c = calloc(1, sizeof(*c));
        c->s = venue_connect(v, c, now);
        snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"name\":\"x\",\"token\":\"%s\"}",
                 att[4].token);
        send_text(v, c, hello);
        CHECK(c->closed_code == 4003 && strstr(c->farewell, "forbidden"));
        /* Unmute, unban and unlock undo them. */
        snprintf(body, sizeof(body), "\"action\":\"unmute\",\"target\":\"%s\"", att[3].id);
        CHECK(strcmp(mod_send(v, m, body), "forbidden") == 0); /* b is not in m's room */
        CHECK(strcmp(mod_send(v, ad, body), "mod_ok") == 0);
        send_text(v, b, "{\"type\":\"chat\",\"text\":\"thank you\"}");
        msgs = drain(v, b);
        CHECK(find(msgs, "chat") != NULL);
        json_decref(msgs);
        venue_disconnect(v, ad->s, now);
        free(ad);
    }
    CHECK(audit_count(reg, "kick") == 1 && audit_count(reg, "ban") == 2 &&
          audit_count(reg, "mute") == 1);
    CHECK(audit_count(reg, "unmute") == 1);
    CHECK(strcmp(mod_send(v, m, "\"action\":\"unlock\""), "mod_ok") == 0);
    venue_disconnect(v, m->s, now);
    venue_disconnect(v, b->s, now);
    free(m), free(b), free(c);
}

/* Another connection (a CLI import, an operator's sqlite3) holds the write
 * lock: the venue does not wait for it. A moderation waits, with what its
 * sender sends next behind it, and is done once the lock is free; one held
 * past PARK_WAIT_MS is answered busy with nothing written. */
static void test_write_lock(struct venue **vp)
{
    struct venue *v = *vp;
    struct fconn *m = enter(v, &mod1, "breakout-3"), *a = enter(v, &att[5], "breakout-3");
    char body[300], path[256];
    json_t *msgs;
    sqlite3 *other;
    long long until;
    const struct metrics *mt = venue_metrics(v);
    uint64_t parked = mt->parked, refused = mt->park_refused;

    snprintf(path, sizeof(path), "%s/venue.db", dir);
    CHECK(sqlite3_open(path, &other) == SQLITE_OK);
    store_patient(st, false);
    CHECK(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);

    snprintf(body, sizeof(body), "\"action\":\"mute\",\"target\":\"%s\"", att[5].id);
    CHECK(strcmp(mod_send(v, m, body), "none") == 0); /* waits: no answer yet */
    send_text(v, m, "{\"type\":\"chat\",\"text\":\"after the mute\"}");
    msgs = drain(v, m);
    CHECK(json_array_size(msgs) == 0); /* behind it, in order */
    json_decref(msgs);
    now += 50;
    venue_tick(v, now);
    msgs = drain(v, m);
    CHECK(!find(msgs, "mod_ok") && !find(msgs, "chat"));
    json_decref(msgs);
    CHECK(registry_sanction_check(reg, SANCTION_MUTE, att[5].id, NULL, now, &until) == 0);
    CHECK(mt->parked == parked + 2);

    CHECK(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    now += 50;
    venue_tick(v, now);
    msgs = drain(v, m);
    {
        size_t i, ok = 0, chat = 0, k = 0;
        json_t *x;
        json_array_foreach(msgs, i, x)
        {
            k++;
            if (strcmp(type_of(x), "mod_ok") == 0)
                ok = k;
            else if (strcmp(type_of(x), "chat") == 0)
                chat = k;
        }
        CHECK(ok > 0 && chat > ok); /* done, then the chat line */
    }
    json_decref(msgs);
    CHECK(registry_sanction_check(reg, SANCTION_MUTE, att[5].id, NULL, now, &until) == 1);

    /* Held too long: busy, nothing written; what came after goes on. */
    CHECK(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
    snprintf(body, sizeof(body), "\"action\":\"unmute\",\"target\":\"%s\"", att[5].id);
    CHECK(strcmp(mod_send(v, m, body), "none") == 0);
    send_text(v, m, "{\"type\":\"hand\",\"up\":true}");
    for (int i = 0; i < PARK_WAIT_MS / 50 + 1; i++) {
        now += 50;
        venue_tick(v, now);
    }
    msgs = drain(v, m);
    CHECK(strcmp(error_code(msgs), "busy") == 0);
    json_decref(msgs);
    msgs = drain(v, a);
    CHECK(find(msgs, "presence") != NULL); /* the raised hand, handled after */
    json_decref(msgs);
    CHECK(mt->park_refused == refused + 1);

    /* At the bound, busy at once; poses never wait. */
    CHECK(strcmp(mod_send(v, m, "\"action\":\"lock\""), "none") == 0);
    for (int i = 1; i < PARK_MAX; i++) {
        now += 500; /* within the rate: no tick, so nothing is tried */
        send_text(v, m, "{\"type\":\"status\",\"status\":\"away\"}");
    }
    send_text(v, m, "{\"type\":\"status\",\"status\":\"active\"}");
    msgs = drain(v, m);
    CHECK(strcmp(error_code(msgs), "busy") == 0);
    json_decref(msgs);
    {
        /* And at PARK_BYTES_MAX in the venue, before a session's count. */
        struct fconn *m2 = enter(v, &mod2, "breakout-3");
        size_t pad = PARK_BYTES_MAX / (PARK_MAX - 2), busy_at = 0;
        char *big = malloc(pad + 64);
        CHECK(big != NULL);
        for (size_t i = 0; big && i < PARK_MAX - 1 && !busy_at; i++) {
            int n = snprintf(big, 64,
                             i == 0 ? "{\"type\":\"mod\",\"action\":\"lock\""
                                    : "{\"type\":\"status\",\"status\":\"away\"");
            memset(big + n, ' ', pad);
            memcpy(big + n + pad, "}", 2);
            now += 500;
            send_text(v, m2, big);
            msgs = drain(v, m2);
            if (find(msgs, "error") && strcmp(error_code(msgs), "busy") == 0)
                busy_at = i + 1;
            json_decref(msgs);
        }
        CHECK(busy_at > 1 && busy_at < PARK_MAX - 1);
        free(big);
        venue_disconnect(v, m2->s, now);
        free(m2);
    }
    send_text(v, a, "{\"type\":\"pose\",\"p\":[1,0,1],\"q\":[0,0,0,1]}");
    now += 50;
    venue_tick(v, now);
    msgs = drain(v, m);
    CHECK(find(msgs, "poses") != NULL);
    json_decref(msgs);

    /* A session that goes forgets what waits (the lock): nothing of it
     * is done. */
    venue_disconnect(v, m->s, now);
    CHECK(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    now += 50;
    venue_tick(v, now);
    CHECK(sqlite3_close(other) == SQLITE_OK);
    store_patient(st, true);

    /* What was acknowledged is kept: the mute, and only it. */
    *vp = v = restart(v);
    free(m), free(a);
    CHECK(registry_sanction_check(reg, SANCTION_MUTE, att[5].id, NULL, now, &until) == 1);
    m = enter(v, &mod2, "breakout-3");
    a = enter(v, &att[6], NULL);
    send_text(v, a, "{\"type\":\"join\",\"room\":\"breakout-3\"}");
    msgs = drain(v, a);
    CHECK(find(msgs, "joined") != NULL); /* not locked */
    json_decref(msgs);
    snprintf(body, sizeof(body), "\"action\":\"unmute\",\"target\":\"%s\"", att[5].id);
    CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    venue_disconnect(v, m->s, now);
    venue_disconnect(v, a->s, now);
    free(m), free(a);
}

static void test_capacity_and_overflow(struct venue *v)
{
    const struct scene *pl = scene_set_find(&scenes, "plenary");
    struct fconn *m = enter(v, &mod1, "plenary"), *people[8];
    int reserved = pl->reserved_seats;
    char body[200];
    json_t *msgs, *e;

    /* A small hall: capacity reserved + 3 leaves three unreserved seats:
     * the moderator's and two attendees'. */
    snprintf(body, sizeof(body), "\"action\":\"capacity\",\"capacity\":%d", reserved + 3);
    CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    people[0] = enter(v, &att[10], "plenary");
    people[1] = enter(v, &att[11], "plenary");
    people[2] = enter(v, &att[12], NULL);
    send_text(v, people[2], "{\"type\":\"join\",\"room\":\"plenary\"}");
    msgs = drain(v, people[2]);
    e = find(msgs, "error");
    CHECK(e && strcmp(json_string_value(json_object_get(e, "code")), "room_full") == 0);
    CHECK(e && pl->overflow[0] &&
          strcmp(json_string_value(json_object_get(e, "overflow")), pl->overflow) == 0);
    json_decref(msgs);
    /* The full hall still admits its speakers, on the reserved seats. */
    people[3] = enter(v, &speaker, "plenary");
    CHECK(people[3]->s != NULL);

    /* The overflow room receives whoever is on the hall's stage, in JSON
     * and in binary (entries marked as the stage's, in the hall's bounds). */
    join(v, people[2], pl->overflow);
    people[4] =
        connect_hello(v, "{\"type\":\"hello\",\"name\":\"Bix\",\"poses\":\"binary\"}", NULL);
    join(v, people[4], pl->overflow);
    {
        const struct scene_place *stage = NULL;
        for (size_t i = 0; i < pl->nplaces; i++)
            if (pl->places[i].type == SCENE_PLACE_STAGE)
                stage = &pl->places[i];
        CHECK(stage != NULL);
        if (stage) {
            char text[200];
            float c[3] = {(stage->min[0] + stage->max[0]) / 2, stage->min[1],
                          (stage->min[2] + stage->max[2]) / 2};
            float pos[3];
            /* Walk the speaker to the stage in steps the speed limit allows. */
            join_at(v, people[3], "plenary", pos);
            for (int i = 0; i < 200; i++) {
                float dx = c[0] - pos[0], dz = c[2] - pos[2];
                float d = dx * dx + dz * dz;
                if (d < 0.01f)
                    break;
                pos[0] += dx > 0.4f ? 0.4f : dx < -0.4f ? -0.4f : dx;
                pos[2] += dz > 0.4f ? 0.4f : dz < -0.4f ? -0.4f : dz;
                now += 100;
                snprintf(text, sizeof(text),
                         "{\"type\":\"pose\",\"p\":[%.3f,%.3f,%.3f],\"q\":[0,0,0,1]}", pos[0], c[1],
                         pos[2]);
                send_text(v, people[3], text);
                json_decref(drain(v, people[3]));
            }
            now += 50;
            venue_tick(v, now);
            msgs = drain(v, people[2]);
            {
                json_t *sm = NULL, *x;
                size_t i;
                json_array_foreach(msgs, i, x) if (strcmp(type_of(x), "stage") == 0) sm = x;
                CHECK(sm && json_array_size(json_object_get(sm, "users")) == 1);
                CHECK(find(msgs, "poses") != NULL);
            }
            json_decref(msgs);
            msgs = drain(v, people[4]);
            {
                json_t *sm = NULL, *x, *pm = find(msgs, "poses"), *en, *su;
                size_t i;
                json_array_foreach(msgs, i, x) if (strcmp(type_of(x), "stage") == 0) sm = x;
                su = sm ? json_array_get(json_object_get(sm, "users"), 0) : NULL;
                en = pm ? json_array_get(json_object_get(pm, "users"), 0) : NULL;
                CHECK(pm && json_is_true(json_object_get(pm, "binary")));
                CHECK(su && en &&
                      json_integer_value(json_object_get(en, "ix")) ==
                          (json_integer_value(json_object_get(su, "ix")) | POSES_BIN_STAGE));
                CHECK(en && fabs(json_number_value(json_array_get(json_object_get(en, "p"), 0)) -
                                 pos[0]) < 0.002);
            }
            json_decref(msgs);
        }
    }
    snprintf(body, sizeof(body), "\"action\":\"capacity\",\"capacity\":%d", pl->capacity);
    CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    for (int i = 0; i < 5; i++) {
        venue_disconnect(v, people[i]->s, now);
        free(people[i]);
    }
    venue_disconnect(v, m->s, now);
    free(m);
}

/* The newest audit entry of an action: its target's name and detail ("" if none). */
struct audit_last {
    const char *action;
    char target_name[64];
    char detail[256];
    bool found;
};

static void audit_last_fn(void *arg, const struct reg_audit *a)
{
    struct audit_last *l = arg;
    if (l->found || strcmp(a->action, l->action) != 0)
        return;
    l->found = true;
    snprintf(l->target_name, sizeof(l->target_name), "%s", a->target_name ? a->target_name : "");
    snprintf(l->detail, sizeof(l->detail), "%s", a->detail ? a->detail : "");
}

static struct audit_last audit_last(const char *action)
{
    struct audit_last l = {.action = action};
    CHECK(registry_audit_list(reg, NULL, NULL, 0, 1000, audit_last_fn, &l) == 0);
    return l;
}

/* The count of people a breakout_view lists in room id, -1 if not listed. */
static int view_count(json_t *view, const char *id)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(view, "rooms"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "id")), id) == 0) {
            CHECK(json_array_size(json_object_get(r, "people")) ==
                  (size_t)json_integer_value(json_object_get(r, "count")));
            return (int)json_integer_value(json_object_get(r, "count"));
        }
    }
    return -1;
}

/* How many messages of type are in msgs. */
static int count_of(json_t *msgs, const char *type)
{
    size_t i;
    json_t *m;
    int n = 0;
    json_array_foreach(msgs, i, m) n +=
        strcmp(json_string_value(json_object_get(m, "type")), type) == 0;
    return n;
}

static void test_breakout(struct venue *v)
{
    struct fconn *m = enter(v, &mod1, "expo"), *p[6];
    json_t *msgs;
    char body[300];
    long long ends0 = 0; /* when the participants were told it ends */
    int in_b1 = -1;      /* one of them sent to breakout-1 */

    for (int i = 0; i < 6; i++)
        p[i] = enter(v, &att[20 + i], "expo");
    /* All or nothing: an unknown room moves nobody. */
    CHECK(strcmp(mod_send(v, m,
                          "\"action\":\"breakout\",\"rooms\":[\"breakout-1\",\"nowhere\"],"
                          "\"minutes\":5"),
                 "not_found") == 0);
    msgs = drain(v, p[0]);
    CHECK(find(msgs, "joined") == NULL);
    json_decref(msgs);
    /* Everyone split evenly over two rooms, with a timer. */
    CHECK(strcmp(mod_send(v, m,
                          "\"action\":\"breakout\",\"rooms\":[\"breakout-1\",\"breakout-2\"],"
                          "\"minutes\":5"),
                 "mod_ok") == 0);
    {
        int in1 = 0, in2 = 0;
        for (int i = 0; i < 6; i++) {
            json_t *j;
            msgs = drain(v, p[i]);
            CHECK(find(msgs, "breakout") != NULL);
            ends0 = json_integer_value(json_object_get(find(msgs, "breakout"), "ends"));
            j = find(msgs, "joined");
            if (j) {
                const char *r =
                    json_string_value(json_object_get(json_object_get(j, "room"), "id"));
                in1 += strcmp(r, "breakout-1") == 0;
                if (strcmp(r, "breakout-1") == 0)
                    in_b1 = i;
                in2 += strcmp(r, "breakout-2") == 0;
            }
            json_decref(msgs);
        }
        CHECK(in1 == 3 && in2 == 3);
    }
    {
        /* Its moderator sees who went where at the next tick, once; its
         * participants do not. */
        struct audit_last l = audit_last("breakout");
        json_t *view;
        CHECK(strcmp(l.detail, "6 people to breakout-1 (3), breakout-2 (3) for 5 min") == 0);
        msgs = drain(v, m);
        CHECK(find(msgs, "breakout_view") == NULL); /* not before the tick */
        json_decref(msgs);
        venue_tick(v, now);
        msgs = drain(v, m);
        view = find(msgs, "breakout_view");
        CHECK(view && count_of(msgs, "breakout_view") == 1 &&
              json_is_true(json_object_get(view, "active")));
        CHECK(view && strcmp(json_string_value(json_object_get(view, "from")), "expo") == 0 &&
              json_integer_value(json_object_get(view, "minutes")) == 5 &&
              json_integer_value(json_object_get(view, "ends")) == ends0 &&
              view_count(view, "breakout-1") == 3 && view_count(view, "breakout-2") == 3 &&
              strcmp(json_string_value(json_object_get(json_object_get(view, "by"), "name")),
                     "Mo Moderator") == 0);
        json_decref(msgs);
        for (int i = 0; i < 6; i++) {
            msgs = drain(v, p[i]);
            CHECK(find(msgs, "breakout_view") == NULL);
            json_decref(msgs);
        }
        /* Nothing changed: nothing sent. Someone walks over: sent again. */
        venue_tick(v, now);
        msgs = drain(v, m);
        CHECK(find(msgs, "breakout_view") == NULL);
        json_decref(msgs);
        for (int i = 0; i < 6; i++) {
            msgs = drain(v, p[i]);
            json_decref(msgs);
        }
        {
            int k = in_b1;
            CHECK(k >= 0);
            send_text(v, p[k], "{\"type\":\"join\",\"room\":\"breakout-2\"}");
            json_decref(drain(v, p[k]));
        }
        /* and a second moderator looks in on breakout-1: it sees the view too */
        {
            struct fconn *m2 = enter(v, &mod2, "breakout-1");
            json_decref(drain(v, m2));
            venue_tick(v, now);
            msgs = drain(v, m);
            CHECK(find(msgs, "breakout_view") == NULL); /* not twice within MOD_VIEW_MS */
            json_decref(msgs);
            json_decref(drain(v, m2));
            now += MOD_VIEW_MS;
            venue_tick(v, now);
            msgs = drain(v, m);
            view = find(msgs, "breakout_view");
            CHECK(view && count_of(msgs, "breakout_view") == 1 &&
                  view_count(view, "breakout-1") == 3 && view_count(view, "breakout-2") == 4);
            json_decref(msgs);
            msgs = drain(v, m2);
            CHECK(find(msgs, "breakout_view") != NULL);
            json_decref(msgs);
            venue_disconnect(v, m2->s, now);
            free(m2);
        }
        /* A moderator who resumes (its page forgot the view) hears it again,
         * though nobody moved. */
        {
            char hello[256], resume[64];
            struct fconn *m3, m3b = {0};
            snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"name\":\"x\",\"token\":\"%s\"}",
                     mod2.token);
            m3 = connect_hello(v, hello, resume);
            join(v, m3, "breakout-2");
            now += MOD_VIEW_MS;
            venue_tick(v, now);
            msgs = drain(v, m3);
            CHECK(find(msgs, "breakout_view") != NULL);
            json_decref(msgs);
            venue_disconnect(v, m3->s, now);
            now += MOD_VIEW_MS;
            venue_tick(v, now);
            m3b.s = venue_connect(v, &m3b, now);
            snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"name\":\"x\",\"resume\":\"%s\"}",
                     resume);
            send_text(v, &m3b, hello);
            msgs = drain(v, &m3b);
            CHECK(find(msgs, "welcome") && !find(msgs, "breakout_view")); /* not before the tick */
            json_decref(msgs);
            venue_tick(v, now);
            msgs = drain(v, &m3b);
            view = find(msgs, "breakout_view");
            CHECK(view && view_count(view, "breakout-2") == 5);
            json_decref(msgs);
            venue_disconnect(v, m3b.s, now);
            free(m3);
        }
        for (int i = 0; i < 6; i++) /* read, or the jump in time finds them too slow */
            json_decref(drain(v, p[i]));
        json_decref(drain(v, m));
    }
    CHECK(strcmp(mod_send(v, m, "\"action\":\"breakout\",\"rooms\":[\"breakout-3\"],\"minutes\":1"),
                 "bad_request") == 0); /* one at a time per room */
    /* The timer brings everyone back together. */
    now += 5 * 60000 + 100;
    venue_tick(v, now);
    msgs = drain(v, m);
    CHECK(find(msgs, "breakout_view") &&
          json_is_false(json_object_get(find(msgs, "breakout_view"), "active")));
    json_decref(msgs);
    CHECK(strcmp(audit_last("recall").detail, "6 people back after 5 of 5 min") == 0);
    for (int i = 0; i < 6; i++) {
        json_t *j;
        msgs = drain(v, p[i]);
        j = find(msgs, "joined");
        CHECK(j && strcmp(json_string_value(json_object_get(json_object_get(j, "room"), "id")),
                          "expo") == 0);
        json_decref(msgs);
    }
    /* Chosen participants, then a recall by hand. */
    snprintf(body, sizeof(body),
             "\"action\":\"breakout\",\"rooms\":[\"breakout-3\"],\"minutes\":30,"
             "\"targets\":[\"%s\",\"%s\"]",
             att[20].id, att[21].id);
    CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    msgs = drain(v, p[2]);
    CHECK(find(msgs, "joined") == NULL);
    json_decref(msgs);
    CHECK(strcmp(mod_send(v, m, "\"action\":\"recall\""), "mod_ok") == 0);
    msgs = drain(v, p[0]);
    CHECK(find(msgs, "joined") != NULL);
    json_decref(msgs);
    CHECK(audit_count(reg, "breakout") == 2 && audit_count(reg, "recall") == 2);

    /* One person named 200 times is refused before anyone moves (it once
     * wrote past a scratch array sized by the room's members). */
    {
        char big[8192];
        int n = snprintf(big, sizeof(big),
                         "{\"type\":\"mod\",\"id\":\"m\",\"action\":\"breakout\","
                         "\"rooms\":[\"breakout-3\"],\"minutes\":5,\"targets\":[");
        json_t *e;
        for (int i = 0; i < 200; i++)
            n += snprintf(big + n, sizeof(big) - (size_t)n, "%s\"%s\"", i ? "," : "", att[20].id);
        snprintf(big + n, sizeof(big) - (size_t)n, "]}");
        CHECK(n < (int)sizeof(big) - 2);
        send_text(v, m, big);
        msgs = drain(v, m);
        e = find(msgs, "error");
        CHECK(e && strcmp(json_string_value(json_object_get(e, "code")), "bad_request") == 0 &&
              strstr(json_string_value(json_object_get(e, "message")), "named twice"));
        json_decref(msgs);
        msgs = drain(v, p[0]);
        CHECK(find(msgs, "joined") == NULL && find(msgs, "breakout") == NULL);
        json_decref(msgs);
    }

    /* Close a room: everyone to the lobby, the room locked. */
    CHECK(strcmp(mod_send(v, m, "\"action\":\"close_room\""), "mod_ok") == 0);
    msgs = drain(v, p[5]);
    CHECK(find(msgs, "joined") && strcmp(json_string_value(json_object_get(
                                             json_object_get(find(msgs, "joined"), "room"), "id")),
                                         "lobby") == 0);
    json_decref(msgs);
    send_text(v, p[5], "{\"type\":\"join\",\"room\":\"expo\"}");
    msgs = drain(v, p[5]);
    CHECK(strcmp(error_code(msgs), "forbidden") == 0);
    json_decref(msgs);
    {
        struct fconn *ad = enter(v, &admin, "lobby");
        CHECK(strcmp(mod_send(v, ad, "\"action\":\"unlock\",\"room\":\"expo\""), "mod_ok") == 0);
        venue_disconnect(v, ad->s, now);
        free(ad);
    }
    /* Move one person. */
    snprintf(body, sizeof(body), "\"action\":\"move\",\"target\":\"%s\",\"room\":\"breakout-1\"",
             att[25].id);
    CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    msgs = drain(v, p[5]);
    CHECK(find(msgs, "joined") && strcmp(json_string_value(json_object_get(
                                             json_object_get(find(msgs, "joined"), "room"), "id")),
                                         "breakout-1") == 0);
    json_decref(msgs);
    for (int i = 0; i < 6; i++) {
        if (p[i]->s)
            venue_disconnect(v, p[i]->s, now);
        free(p[i]);
    }
    venue_disconnect(v, m->s, now);
    free(m);
}

static void test_hand_queue(struct venue *v)
{
    struct fconn *a = enter(v, &att[30], "breakout-2"), *b = enter(v, &att[31], "breakout-2");
    struct fconn *c = enter(v, &att[32], "breakout-2");
    json_t *msgs, *roster, *u;
    long long at_b = 0, at_c = 0;
    size_t i;

    send_text(v, c, "{\"type\":\"hand\",\"up\":true}");
    now += 1000;
    send_text(v, b, "{\"type\":\"hand\",\"up\":true}");
    send_text(v, a, "{\"type\":\"join\",\"room\":\"breakout-2\"}");
    msgs = drain(v, a);
    roster = json_object_get(find(msgs, "joined"), "roster");
    json_array_foreach(roster, i, u)
    {
        const char *id = json_string_value(json_object_get(u, "id"));
        if (strcmp(id, att[31].id) == 0)
            at_b = json_integer_value(json_object_get(u, "hand_at"));
        if (strcmp(id, att[32].id) == 0)
            at_c = json_integer_value(json_object_get(u, "hand_at"));
    }
    CHECK(at_c > 0 && at_b > at_c); /* the queue is in the order hands went up */
    json_decref(msgs);
    venue_disconnect(v, a->s, now);
    venue_disconnect(v, b->s, now);
    venue_disconnect(v, c->s, now);
    free(a), free(b), free(c);
}

/* Rooms that keep guests out, or quiet. */
/* A guest said hello from this browser id and address, or was refused: its fconn. */
static struct fconn *guest_from(struct venue *v, const char *name, const char *browser,
                                const char *addr, json_t **msgs)
{
    struct fconn *c = calloc(1, sizeof(*c));
    char hello[256];
    c->s = venue_connect(v, c, now);
    venue_set_address(c->s, addr);
    if (browser)
        snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"name\":\"%s\",\"browser\":\"%s\"}",
                 name, browser);
    else
        snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"name\":\"%s\"}", name);
    send_text(v, c, hello);
    *msgs = drain(v, c);
    if (find(*msgs, "welcome"))
        snprintf(c->user_id, sizeof(c->user_id), "%s",
                 json_string_value(
                     json_object_get(json_object_get(find(*msgs, "welcome"), "user"), "id")));
    return c;
}

/*
 * A kicked guest has no registration to ban: its browser id is kept out
 * for --kick-minutes, and so is its address under the same name; others
 * behind the same address (a venue's Wi-Fi) still come in under theirs.
 */
static void test_kicked_guest(struct venue *v)
{
    struct fconn *m = enter(v, &mod1, "breakout-1"), *g, *again;
    json_t *msgs;
    char body[200];

    g = guest_from(v, "Troll", "b-troll-browser-0001", "198.51.100.7", &msgs);
    json_decref(msgs);
    join(v, g, "breakout-1");
    snprintf(body, sizeof(body), "\"action\":\"kick\",\"target\":\"%s\"", g->user_id);
    CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    CHECK(g->closed_code == 4003);
    CHECK(strcmp(audit_last("kick").target_name, "Troll") == 0); /* a guest, by name */
    free(g);

    /* the same browser under another name, from another address: refused, told how long */
    again = guest_from(v, "Nice Person", "b-troll-browser-0001", "203.0.113.9", &msgs);
    /* the refusal is the farewell frame before the close */
    CHECK(again->closed_code == 4003 && strstr(again->farewell, "\"forbidden\"") &&
          strstr(again->farewell, "removed you from the venue") &&
          strstr(again->farewell, "come back in 10 minutes"));
    json_decref(msgs);
    free(again);
    /* a private window (a new browser id) at the same address, the same name in other case */
    again = guest_from(v, "tROLL", "b-fresh-browser-0002", "198.51.100.7", &msgs);
    CHECK(again->closed_code == 4003 && strstr(again->farewell, "\"forbidden\""));
    json_decref(msgs);
    free(again);
    /* no browser id at all, same address and name: refused too */
    again = guest_from(v, "Troll", NULL, "198.51.100.7", &msgs);
    CHECK(again->closed_code == 4003 && strstr(again->farewell, "\"forbidden\""));
    json_decref(msgs);
    free(again);
    /* someone else behind the same address comes in */
    again = guest_from(v, "Neighbour", "b-other-browser-0003", "198.51.100.7", &msgs);
    CHECK(find(msgs, "welcome") != NULL);
    json_decref(msgs);
    venue_disconnect(v, again->s, now);
    free(again);
    /* after the time, the browser comes back */
    now += 10 * 60000LL + 1000;
    venue_tick(v, now);
    again = guest_from(v, "Troll", "b-troll-browser-0001", "198.51.100.7", &msgs);
    CHECK(find(msgs, "welcome") != NULL);
    json_decref(msgs);
    venue_disconnect(v, again->s, now);
    free(again);
    venue_disconnect(v, m->s, now);
    free(m);
    now += (cfg.resume_grace_s + 1) * 1000LL;
    venue_tick(v, now);
}

static void test_guest_rules(struct venue *v)
{
    struct scene *quiet = (struct scene *)scene_set_find(&scenes, "breakout-3");
    struct scene *closed = (struct scene *)scene_set_find(&scenes, "breakout-2");
    struct fconn *g = connect_as(v, "Guest", NULL), *a = enter(v, &att[33], NULL);
    json_t *msgs;

    quiet->guests_chat = false;
    closed->guests_enter = false;
    send_text(v, g, "{\"type\":\"join\",\"room\":\"breakout-2\"}");
    msgs = drain(v, g);
    CHECK(strcmp(error_code(msgs), "forbidden") == 0);
    json_decref(msgs);
    join(v, a, "breakout-2"); /* registered people may */
    join(v, g, "breakout-3");
    send_text(v, g, "{\"type\":\"chat\",\"text\":\"may I?\"}");
    msgs = drain(v, g);
    CHECK(strcmp(error_code(msgs), "forbidden") == 0);
    json_decref(msgs);
    join(v, a, "breakout-3");
    send_text(v, a, "{\"type\":\"chat\",\"text\":\"I may\"}");
    msgs = drain(v, a);
    CHECK(find(msgs, "chat") != NULL);
    json_decref(msgs);
    quiet->guests_chat = true;
    closed->guests_enter = true;
    venue_disconnect(v, g->s, now);
    venue_disconnect(v, a->s, now);
    free(g), free(a);
}

static void test_registration_required(void)
{
    struct venue *v;
    struct fconn *c = calloc(1, sizeof(*c));
    snprintf(cfg.registration, sizeof(cfg.registration), "required");
    v = open_venue();
    c->s = venue_connect(v, c, now);
    send_text(v, c, "{\"type\":\"hello\",\"name\":\"Walk-in\"}");
    CHECK(c->closed_code == 4001 && strstr(c->farewell, "unauthorized"));
    free(c);
    c = enter(v, &att[39], "lobby");
    CHECK(c->s != NULL && c->closed_code == 0);
    venue_disconnect(v, c->s, now);
    free(c);
    c = calloc(1, sizeof(*c));
    c->s = venue_connect(v, c, now);
    send_text(
        v, c,
        "{\"type\":\"hello\",\"name\":\"Forger\",\"token\":\"00000000000000000000000000000000\"}");
    CHECK(c->closed_code == 4001);
    free(c);
    snprintf(cfg.registration, sizeof(cfg.registration), "open");
    venue_free(v);
}

int main(int argc, char **argv)
{
    char err[512];
    struct venue *v;
    char names[40][16];

    config_defaults(&cfg);
    if (scene_set_load(argc > 1 ? argv[1] : "scenes/demo", &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "scenes: %s\n", err);
        return 1;
    }
    if (!mkdtemp(dir) || !(st = store_open(dir, err, sizeof(err))) ||
        !(reg = registry_open(st, err, sizeof(err)))) {
        fprintf(stderr, "store: %s\n", err);
        return 1;
    }
    registered_add(reg, &admin, "Ada Admin", ROLE_ADMIN, 1700000000000LL);
    registered_add(reg, &mod1, "Mo Moderator", ROLE_MODERATOR, 1700000000000LL);
    registered_add(reg, &mod2, "Mia Moderator", ROLE_MODERATOR, 1700000000000LL);
    registered_add(reg, &speaker, "Sam Speaker", ROLE_SPEAKER, 1700000000000LL);
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "Attendee %d", i);
        registered_add(reg, &att[i], names[i], ROLE_ATTENDEE, 1700000000000LL);
    }
    v = open_venue();
    test_roles_and_rank(v);
    test_kick_ban_mute_lock(&v);
    test_write_lock(&v);
    test_capacity_and_overflow(v);
    test_breakout(v);
    test_hand_queue(v);
    test_guest_rules(v);
    test_kicked_guest(v);
    venue_free(v);
    test_registration_required();
    registry_close(reg);
    store_close(st);
    scene_set_free(&scenes);
    {
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
    }
    return check_report();
}
