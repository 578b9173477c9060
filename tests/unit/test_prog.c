/*
 * test_prog.c - the programme in the core: sessions going live and ending
 * on a clock the test moves (never slept through), the roles they give,
 * stage rights, slides, captions, questions and votes, the floor, stars
 * and reminders, and a restart in the middle of a session; with the real
 * store, registry and programme tables in a temporary folder (SQLite) or
 * a PostgreSQL database of the test's own (check_store.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_store.h"
#include "core_harness.h"
#include "programme.h"
#include "registry.h"
#include "store.h"

static char dir[] = "/tmp/venue-prog-XXXXXX";
static struct store *st;
static struct registry *reg;
static struct programme *prog;

#define WALL0 1767261600000LL /* 2026-01-01T10:00:00Z */
#define MIN   60000LL

static long long wall = WALL0;

static struct registered admin, spk, smod, cap, att[4];

/* Move the venue's wall clock (not its monotonic one) and tick. */
static void at(struct venue *v, long long w)
{
    wall = w;
    venue_set_wall(v, wall, now);
    now += 50;
    venue_tick(v, now);
}

static struct venue *open_venue(void)
{
    char err[256];
    struct venue *v = venue_new(&cfg, &io, &scenes, st, reg, now, err, sizeof(err));
    CHECK(v != NULL);
    if (!v) {
        fprintf(stderr, "venue_new: %s\n", err);
        exit(1);
    }
    venue_set_wall(v, wall, now);
    CHECK(venue_keep_programme(v, prog, err, sizeof(err)) == 0);
    return v;
}

/* The store, its registry and the programme, for dir: 0, or -1 said. */
static int open_all(void)
{
    char err[512];
    st = check_store_open(dir, err, sizeof(err));
    reg = st ? registry_open(st, err, sizeof(err)) : NULL;
    prog = reg ? programme_open(st, reg, err, sizeof(err)) : NULL;
    if (!prog)
        fprintf(stderr, "store: %s\n", err);
    return prog ? 0 : -1;
}

static struct venue *restart(struct venue *v)
{
    venue_shutdown(v, now);
    venue_free(v);
    programme_close(prog);
    registry_close(reg);
    store_close(st);
    CHECK(open_all() == 0);
    return open_venue();
}

static struct fconn *enter(struct venue *v, const struct registered *p, const char *room)
{
    return enter_token(v, p->token, room);
}

static void leave(struct venue *v, struct fconn *c)
{
    venue_disconnect(v, c->s, now);
    free(c);
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* The last message of type in msgs, borrowed, or NULL. */
static json_t *last(json_t *msgs, const char *type)
{
    json_t *x, *hit = NULL;
    size_t i;
    json_array_foreach(msgs, i, x) if (strcmp(type_of(x), type) == 0) hit = x;
    return hit;
}

/* The reply code to the text with id "r": "ok" when there was no error. */
static const char *ask_server(struct venue *v, struct fconn *c, const char *text)
{
    static char code[64];
    json_t *msgs, *e;
    send_text(v, c, text);
    msgs = drain(v, c);
    e = find(msgs, "error");
    snprintf(code, sizeof(code), "%s", e ? str(e, "code") : "ok");
    json_decref(msgs);
    return code;
}

/* The session message about id in msgs, or NULL. */
static json_t *session_msg(json_t *msgs, const char *id)
{
    json_t *x;
    size_t i;
    json_array_foreach(msgs, i, x) if (strcmp(type_of(x), "session") == 0 &&
                                       strcmp(str(x, "id"), id) == 0) return x;
    return NULL;
}

/* The role of user_id in a joined roster in msgs; "" when none. */
static const char *role_in_roster(json_t *msgs, const char *user_id)
{
    json_t *j = find(msgs, "joined"), *u;
    size_t i;
    json_array_foreach(json_object_get(j, "roster"), i,
                       u) if (strcmp(str(u, "id"), user_id) == 0) return str(u, "role");
    return "";
}

/* The role c's own presence update says, from msgs; "" when none. */
static const char *role_seen(json_t *msgs, const char *user_id)
{
    json_t *x;
    const char *role = "";
    size_t i;
    json_array_foreach(msgs, i, x)
    {
        json_t *u = json_object_get(x, "user");
        if (strcmp(type_of(x), "presence") == 0 && strcmp(str(u, "id"), user_id) == 0)
            role = str(u, "role");
    }
    return role;
}

static void set_people(struct prog_session *s, enum prog_part part, const struct registered *p)
{
    snprintf(s->people[part][s->npeople[part]++], REG_ID_MAX, "%s", p->id);
}

/* panel: breakout-1, 10:10-10:25; keynote: plenary, 10:30-10:59;
 * closing: plenary, 11:00-11:30. */
static struct prog_session sessions[3];

static void make_programme(void)
{
    struct prog_session *k = &sessions[1], *p = &sessions[0], *e = &sessions[2];
    memset(sessions, 0, sizeof(sessions));
    snprintf(k->id, sizeof(k->id), "keynote");
    snprintf(k->title, sizeof(k->title), "Cities as platforms");
    snprintf(k->room, sizeof(k->room), "plenary");
    k->start_ms = WALL0 + 30 * MIN;
    k->end_ms = WALL0 + 59 * MIN;
    set_people(k, PROG_SPEAKER, &spk);
    set_people(k, PROG_MODERATOR, &smod);
    set_people(k, PROG_CAPTIONER, &cap);
    snprintf(p->id, sizeof(p->id), "panel");
    snprintf(p->title, sizeof(p->title), "Twins for climate adaptation");
    snprintf(p->room, sizeof(p->room), "breakout-1");
    p->start_ms = WALL0 + 10 * MIN;
    p->end_ms = WALL0 + 25 * MIN;
    set_people(p, PROG_SPEAKER, &att[3]);
    snprintf(e->id, sizeof(e->id), "closing");
    snprintf(e->title, sizeof(e->title), "Closing plenary");
    snprintf(e->room, sizeof(e->room), "plenary");
    e->start_ms = WALL0 + 60 * MIN;
    e->end_ms = WALL0 + 90 * MIN;
}

/* The centre of the plenary's stage, at its floor. */
static void stage_centre(float c[3])
{
    const struct scene *pl = scene_set_find(&scenes, "plenary");
    CHECK(pl != NULL);
    for (size_t i = 0; pl && i < pl->nplaces; i++) {
        const struct scene_place *s = &pl->places[i];
        if (s->type == SCENE_PLACE_STAGE) {
            c[0] = (s->min[0] + s->max[0]) / 2;
            c[1] = s->min[1];
            c[2] = (s->min[2] + s->max[2]) / 2;
        }
    }
}

/* Walk c towards the stage at a walking pace; returns the reason of the
 * last pose the server corrected ("" if none) and where c stands. */
static const char *walk_to_stage(struct venue *v, struct fconn *c, float pos[3])
{
    static char reason[32];
    float goal[3];
    char text[200];
    reason[0] = '\0';
    stage_centre(goal);
    for (int i = 0; i < 200; i++) {
        float dx = goal[0] - pos[0], dz = goal[2] - pos[2];
        json_t *msgs, *fix;
        if (dx * dx + dz * dz < 0.01f)
            break;
        pos[0] += dx > 0.4f ? 0.4f : dx < -0.4f ? -0.4f : dx;
        pos[2] += dz > 0.4f ? 0.4f : dz < -0.4f ? -0.4f : dz;
        now += 100;
        snprintf(text, sizeof(text), "{\"type\":\"pose\",\"p\":[%.3f,%.3f,%.3f],\"q\":[0,0,0,1]}",
                 pos[0], goal[1], pos[2]);
        send_text(v, c, text);
        msgs = drain(v, c);
        fix = last(msgs, "pose");
        if (fix && strcmp(str(fix, "reason"), "stage") == 0) {
            snprintf(reason, sizeof(reason), "stage");
            json_decref(msgs);
            break;
        }
        json_decref(msgs);
    }
    return reason;
}

static void test_import_rules(struct venue *v)
{
    struct prog_session bad[1];
    char err[256];
    bad[0] = sessions[1];
    snprintf(bad[0].room, sizeof(bad[0].room), "atlantis");
    CHECK(venue_programme_set(v, bad, 1, now, err, sizeof(err)) < 0);
    CHECK(strstr(err, "sessions[0] (keynote).room") != NULL);
    CHECK(venue_programme_count(v) == 0); /* nothing imported */
    CHECK(venue_programme_set(v, sessions, 3, now, err, sizeof(err)) == 0);
    CHECK(venue_programme_count(v) == 3);
    CHECK(strcmp(venue_programme_name(v, spk.id), "Sam Speaker") == 0);
}

static void test_welcome_stars_reminder(struct venue *v)
{
    struct fconn *a = connect_hello(v, "{\"type\":\"hello\",\"name\":\"g\"}", NULL), *b;
    char hello[200];
    json_t *msgs, *p, *r;

    leave(v, a);
    /* The programme comes right after welcome, to guests too. */
    snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"name\":\"x\",\"token\":\"%s\"}",
             att[0].token);
    a = calloc(1, sizeof(*a));
    a->s = venue_connect(v, a, now);
    send_text(v, a, hello);
    msgs = drain(v, a);
    CHECK(json_array_size(msgs) >= 3);
    CHECK(strcmp(type_of(json_array_get(msgs, 0)), "welcome") == 0);
    p = json_array_get(msgs, 1);
    CHECK(strcmp(type_of(p), "programme") == 0);
    CHECK(json_array_size(json_object_get(p, "sessions")) == 3);
    {
        json_t *k = json_array_get(json_object_get(p, "sessions"), 1); /* by start */
        CHECK(strcmp(str(k, "id"), "keynote") == 0 && strcmp(str(k, "state"), "scheduled") == 0);
        CHECK(strcmp(str(k, "start"), "2026-01-01T10:30:00Z") == 0);
        CHECK(strcmp(str(json_array_get(json_object_get(k, "speakers"), 0), "name"),
                     "Sam Speaker") == 0);
        CHECK(json_is_null(json_object_get(k, "slides")));
    }
    CHECK(find(msgs, "stars") != NULL); /* a registered person: its stars (none yet) */
    json_decref(msgs);

    /* Guests may not star; registered people may, and hear their stars. */
    b = connect_hello(v, "{\"type\":\"hello\",\"name\":\"g\"}", NULL);
    CHECK(strcmp(ask_server(v, b,
                            "{\"type\":\"star\",\"id\":\"r\",\"session\":\"panel\","
                            "\"on\":true}"),
                 "forbidden") == 0);
    leave(v, b);
    CHECK(strcmp(ask_server(v, a,
                            "{\"type\":\"star\",\"id\":\"r\",\"session\":\"nope\","
                            "\"on\":true}"),
                 "not_found") == 0);
    send_text(v, a, "{\"type\":\"star\",\"id\":\"r\",\"session\":\"panel\",\"on\":true}");
    msgs = drain(v, a);
    r = find(msgs, "stars");
    CHECK(r && strcmp(str(r, "re"), "r") == 0 &&
          strcmp(json_string_value(json_array_get(json_object_get(r, "sessions"), 0)), "panel") ==
              0);
    json_decref(msgs);

    /* The reminder comes reminder_min minutes before, once. */
    at(v, sessions[0].start_ms - cfg.reminder_min * MIN - 1000);
    msgs = drain(v, a);
    CHECK(find(msgs, "reminder") == NULL);
    json_decref(msgs);
    at(v, sessions[0].start_ms - cfg.reminder_min * MIN + 1000);
    msgs = drain(v, a);
    r = find(msgs, "reminder");
    CHECK(r && strcmp(str(r, "session"), "panel") == 0 &&
          strcmp(str(r, "room"), "breakout-1") == 0);
    json_decref(msgs);
    at(v, wall + 1000);
    msgs = drain(v, a);
    CHECK(find(msgs, "reminder") == NULL);
    json_decref(msgs);
    /* One who resumes does not hear it again (the session had it); one who
     * arrives anew inside the window hears it on arrival. */
    leave(v, a);
    a = calloc(1, sizeof(*a));
    a->s = venue_connect(v, a, now);
    send_text(v, a, hello);
    msgs = drain(v, a);
    CHECK(find(msgs, "welcome") && !find(msgs, "reminder"));
    json_decref(msgs);
    leave(v, a);
    now += (cfg.resume_grace_s + 1) * 1000LL;
    venue_tick(v, now);
    a = calloc(1, sizeof(*a));
    a->s = venue_connect(v, a, now);
    send_text(v, a, hello);
    msgs = drain(v, a);
    CHECK(find(msgs, "reminder") != NULL);
    json_decref(msgs);
    leave(v, a);
    /* So does one who stars it inside the window. */
    a = enter(v, &att[1], NULL);
    send_text(v, a, "{\"type\":\"star\",\"id\":\"r\",\"session\":\"panel\",\"on\":true}");
    msgs = drain(v, a);
    r = find(msgs, "reminder");
    CHECK(r && strcmp(str(r, "session"), "panel") == 0);
    json_decref(msgs);
    leave(v, a);
}

static void test_live_session(struct venue **vp)
{
    struct venue *v = *vp;
    struct fconn *s = enter(v, &spk, "plenary"), *a = enter(v, &att[0], "plenary");
    struct fconn *o = enter(v, &att[1], "plenary-overflow"), *c = enter(v, &cap, "plenary");
    struct fconn *m, *b;
    float pos[3] = {0, 0, 0};
    char err[200], body[200];
    json_t *msgs, *x;
    long long qid;

    /* Before it is live the speaker is an attendee: no stage, no slides. */
    join_at(v, s, "plenary", pos);
    CHECK(strcmp(walk_to_stage(v, s, pos), "stage") == 0);
    json_decref(drain(v, a));

    /* At its start it goes live: everyone hears it, the speaker becomes one. */
    at(v, sessions[1].start_ms);
    msgs = drain(v, a);
    x = session_msg(msgs, "keynote");
    CHECK(x && strcmp(str(x, "state"), "live") == 0);
    CHECK(strcmp(role_seen(msgs, spk.id), "speaker") == 0);
    json_decref(msgs);
    msgs = drain(v, o);
    CHECK(find(msgs, "session") != NULL); /* the whole venue hears it */
    json_decref(msgs);
    CHECK(audit_count(reg, "start_session") == 1);
    CHECK(strcmp(walk_to_stage(v, s, pos), "") == 0); /* now the stage is theirs */

    /* Slides: a new deck shows page 1 in the hall and its overflow. */
    json_decref(drain(v, a));
    json_decref(drain(v, o));
    CHECK(venue_slides_set(v, "keynote", 5, now, err, sizeof(err)) == 0);
    msgs = drain(v, o);
    x = find(msgs, "slides");
    CHECK(x && json_integer_value(json_object_get(x, "page")) == 1 &&
          json_integer_value(json_object_get(x, "pages")) == 5 &&
          strcmp(str(x, "url"), "/api/sessions/keynote/slides?v=1") == 0);
    json_decref(msgs);
    CHECK(strcmp(ask_server(v, a, "{\"type\":\"slide\",\"id\":\"r\",\"page\":2}"), "forbidden") ==
          0);
    CHECK(strcmp(ask_server(v, s, "{\"type\":\"slide\",\"id\":\"r\",\"page\":3}"), "ok") == 0);
    CHECK(strcmp(ask_server(v, s, "{\"type\":\"slide\",\"id\":\"r\",\"page\":6}"), "bad_request") ==
          0);
    msgs = drain(v, a);
    x = last(msgs, "slides");
    CHECK(x && json_integer_value(json_object_get(x, "page")) == 3);
    json_decref(msgs);
    msgs = drain(v, o);
    x = last(msgs, "slides");
    CHECK(x && json_integer_value(json_object_get(x, "page")) == 3);
    json_decref(msgs);

    /* A joiner sees the current page at once. */
    b = enter(v, &att[2], NULL);
    send_text(v, b, "{\"type\":\"join\",\"room\":\"plenary\"}");
    msgs = drain(v, b);
    x = find(msgs, "slides");
    CHECK(x && json_integer_value(json_object_get(x, "page")) == 3);
    CHECK(find(msgs, "questions") != NULL);
    json_decref(msgs);

    /* Captions: the captioner's reach the hall and the overflow; nobody else may. */
    CHECK(strcmp(ask_server(v, c, "{\"type\":\"caption\",\"id\":\"r\",\"text\":\"Good morning\"}"),
                 "ok") == 0);
    CHECK(strcmp(ask_server(v, a, "{\"type\":\"caption\",\"id\":\"r\",\"text\":\"hi\"}"),
                 "forbidden") == 0);
    msgs = drain(v, o);
    x = find(msgs, "caption");
    CHECK(x && strcmp(str(x, "text"), "Good morning") == 0 &&
          strcmp(str(json_object_get(x, "from"), "id"), cap.id) == 0);
    json_decref(msgs);

    /* Questions and votes. */
    json_decref(drain(v, a));
    json_decref(drain(v, b));
    send_text(v, a, "{\"type\":\"ask\",\"id\":\"r\",\"text\":\"What about open data?\"}");
    msgs = drain(v, o);
    x = find(msgs, "question");
    CHECK(x != NULL);
    qid = x ? json_integer_value(json_object_get(json_object_get(x, "question"), "id")) : 0;
    CHECK(qid > 0);
    json_decref(msgs);
    snprintf(body, sizeof(body), "{\"type\":\"vote\",\"id\":\"r\",\"question\":%lld}", qid);
    CHECK(strcmp(ask_server(v, a, body), "forbidden") == 0); /* not one's own */
    CHECK(strcmp(ask_server(v, b, body), "ok") == 0);
    CHECK(strcmp(ask_server(v, b, body), "bad_request") == 0); /* once */
    msgs = drain(v, a);
    x = last(msgs, "question");
    CHECK(x && json_integer_value(json_object_get(json_object_get(x, "question"), "votes")) == 1);
    json_decref(msgs);

    /* Its moderator moderates it: answered, then the floor to the asker. */
    m = enter(v, &smod, "plenary");
    msgs = drain(v, a);
    CHECK(strcmp(role_seen(msgs, smod.id), "moderator") == 0);
    json_decref(msgs);
    CHECK(strcmp(mod_send(v, a, "\"action\":\"take_floor\""), "forbidden") == 0);
    snprintf(body, sizeof(body), "\"action\":\"answer\",\"question\":%lld", qid);
    CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    snprintf(body, sizeof(body), "\"action\":\"give_floor\",\"target\":\"%s\",\"seconds\":60",
             att[0].id);
    CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
    msgs = drain(v, a);
    CHECK(strcmp(role_seen(msgs, att[0].id), "speaker") == 0);
    x = find(msgs, "floor");
    CHECK(x && strcmp(str(json_object_get(x, "user"), "id"), att[0].id) == 0);
    x = last(msgs, "question");
    CHECK(x && json_is_true(json_object_get(json_object_get(x, "question"), "answered")));
    json_decref(msgs);
    /* The floor runs out on the clock. */
    at(v, wall + 61000);
    msgs = drain(v, a);
    CHECK(strcmp(role_seen(msgs, att[0].id), "attendee") == 0);
    x = last(msgs, "floor");
    CHECK(x && json_is_null(json_object_get(x, "user")));
    json_decref(msgs);

    /* A restart in the middle: live still, page 3, the question and its
     * vote, and the speaker a speaker again on return. */
    leave(v, s), leave(v, a), leave(v, o), leave(v, c), leave(v, m), leave(v, b);
    *vp = v = restart(v);
    s = enter(v, &spk, NULL); /* resumes its saved session, in the plenary */
    b = enter(v, &att[2], NULL);
    send_text(v, b, "{\"type\":\"join\",\"room\":\"plenary\"}");
    msgs = drain(v, b);
    CHECK(strcmp(role_in_roster(msgs, spk.id), "speaker") == 0);
    x = find(msgs, "slides");
    CHECK(x && json_integer_value(json_object_get(x, "page")) == 3);
    x = find(msgs, "questions");
    CHECK(x && json_array_size(json_object_get(x, "questions")) == 1);
    x = json_array_get(json_object_get(x, "questions"), 0);
    CHECK(x && json_integer_value(json_object_get(x, "votes")) == 1 &&
          json_is_true(json_object_get(x, "voted")) &&
          json_is_true(json_object_get(x, "answered")));
    json_decref(msgs);

    /* The panel's time passed while the keynote ran: it ended unstarted. */
    CHECK(venue_programme_find(v, "panel")->state == PROG_ENDED);
    /* Nobody starts the closing while the keynote is live, and only a
     * moderator or admin may. */
    m = enter(v, &smod, "lobby");
    c = enter(v, &admin, "lobby");
    CHECK(strcmp(mod_send(v, s, "\"action\":\"start_session\",\"session\":\"closing\""),
                 "forbidden") == 0);
    CHECK(strcmp(mod_send(v, c, "\"action\":\"start_session\",\"session\":\"closing\""),
                 "bad_request") == 0);
    /* The keynote's moderator ends it early from the lobby: the speaker is
     * an attendee again. */
    json_decref(drain(v, b));
    CHECK(strcmp(mod_send(v, m, "\"action\":\"end_session\",\"session\":\"keynote\""), "mod_ok") ==
          0);
    msgs = drain(v, b);
    x = session_msg(msgs, "keynote");
    CHECK(x && strcmp(str(x, "state"), "ended") == 0);
    CHECK(strcmp(role_seen(msgs, spk.id), "attendee") == 0);
    json_decref(msgs);
    CHECK(audit_count(reg, "end_session") == 1);
    CHECK(strcmp(ask_server(v, s, "{\"type\":\"slide\",\"id\":\"r\",\"page\":2}"), "bad_request") ==
          0); /* nothing live here now */
    /* An admin starts the closing early; twice is once. */
    CHECK(strcmp(mod_send(v, c, "\"action\":\"start_session\",\"session\":\"closing\""),
                 "mod_ok") == 0);
    CHECK(strcmp(mod_send(v, c, "\"action\":\"start_session\",\"session\":\"closing\""),
                 "bad_request") == 0);
    CHECK(strcmp(mod_send(v, m, "\"action\":\"start_session\",\"session\":\"keynote\""),
                 "bad_request") == 0); /* ended is for good */

    /* The closing ends at its end, on the clock, audited as the venue's. */
    at(v, sessions[2].end_ms);
    CHECK(venue_programme_find(v, "closing")->state == PROG_ENDED);
    CHECK(audit_count(reg, "start_session") == 2);
    CHECK(audit_count(reg, "end_session") == 2);
    leave(v, s), leave(v, b), leave(v, m), leave(v, c);
}

int main(int argc, char **argv)
{
    char err[512];
    struct venue *v;

    config_defaults(&cfg);
    if (scene_set_load(argc > 1 ? argv[1] : "scenes/demo", &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "scenes: %s\n", err);
        return 1;
    }
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    if (open_all() < 0)
        return 1;
    registered_add(reg, &admin, "Ada Admin", ROLE_ADMIN, WALL0);
    registered_add(reg, &spk, "Sam Speaker", ROLE_ATTENDEE, WALL0);
    registered_add(reg, &smod, "Mo Moderator", ROLE_ATTENDEE, WALL0);
    registered_add(reg, &cap, "Cai Captioner", ROLE_ATTENDEE, WALL0);
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof(name), "Attendee %d", i);
        registered_add(reg, &att[i], name, ROLE_ATTENDEE, WALL0);
    }
    make_programme();
    v = open_venue();
    test_import_rules(v);
    test_welcome_stars_reminder(v);
    test_live_session(&v);
    venue_free(v);
    programme_close(prog);
    remove_store(dir, st, reg);
    scene_set_free(&scenes);
    return check_report();
}
