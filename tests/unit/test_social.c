/*
 * test_social.c - what people say to each other, in the core: a room's
 * chat with its memory (history for a joiner, the bound, a moderator's
 * delete, a restart), reactions and direct messages.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatlog.h"
#include "clock.h"
#include "core_harness.h"
#include "registry.h"
#include "store.h"

static char dir[] = "/tmp/venue-social-XXXXXX";
static struct store *st;
static struct registry *reg;
static struct chatlog *cl;

static struct registered mod1, att[3];

/* The test's clock runs ahead of the wall's: a restart must not go back
 * in time, or its lines would be older than those before it. */
static struct venue *open_venue(void)
{
    static long long wall_at_zero;
    char err[256];
    struct venue *v = venue_new(&cfg, &io, &scenes, st, reg, now, err, sizeof(err));
    if (!wall_at_zero)
        wall_at_zero = clock_wall_ms() - now;
    if (v)
        venue_set_wall(v, wall_at_zero + now, now);
    if (!v || venue_keep_chat(v, cl, err, sizeof(err)) < 0) {
        fprintf(stderr, "venue: %s\n", err);
        venue_free(v);
        return NULL;
    }
    return v;
}

/* Shut down and start again on the same folder. */
static struct venue *restart(struct venue *v)
{
    char err[256];
    venue_shutdown(v, now);
    venue_free(v);
    chatlog_close(cl);
    registry_close(reg);
    store_close(st);
    st = store_open(dir, err, sizeof(err));
    reg = st ? registry_open(st, err, sizeof(err)) : NULL;
    cl = st ? chatlog_open(st, err, sizeof(err)) : NULL;
    CHECK(st && reg && cl);
    return open_venue();
}

static void tick(struct venue *v, long long ms)
{
    now += ms;
    venue_tick(v, now);
}

static void say(struct venue *v, struct fconn *c, const char *text)
{
    char msg[700];
    snprintf(msg, sizeof(msg), "{\"type\":\"chat\",\"text\":\"%s\"}", text);
    send_text(v, c, msg);
}

/* What c hears on joining room (a new reference). */
static json_t *join_msgs(struct venue *v, struct fconn *c, const char *room)
{
    char text[128];
    snprintf(text, sizeof(text), "{\"type\":\"join\",\"room\":\"%s\"}", room);
    send_text(v, c, text);
    return drain(v, c);
}

/* The i-th message of this type in msgs, borrowed, or NULL. */
static json_t *nth(json_t *msgs, const char *type, size_t i)
{
    size_t k;
    json_t *m;
    json_array_foreach(msgs, k, m)
    {
        if (strcmp(type_of(m), type) == 0 && i-- == 0)
            return m;
    }
    return NULL;
}

static const char *line_text(json_t *history, size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(history, "lines"), i), "text"));
}

static size_t line_count(json_t *history)
{
    return json_array_size(json_object_get(history, "lines"));
}

static void test_history(struct venue **vp)
{
    struct venue *v = *vp;
    struct fconn *a = enter_token(v, att[0].token, "breakout-1");
    struct fconn *late, *m;
    json_t *msgs, *h, *chat;
    long long first_id, second_id, before_id, after_id;
    char text[32];

    /* Nothing said yet: no history at all. */
    late = connect_as(v, "Late", NULL);
    msgs = join_msgs(v, late, "breakout-1");
    CHECK(find(msgs, "joined") && !find(msgs, "chat_history"));
    json_decref(msgs);

    say(v, a, "first");
    say(v, a, "second");
    msgs = drain(v, a);
    CHECK(count(msgs, "chat") == 2);
    first_id = json_integer_value(json_object_get(nth(msgs, "chat", 0), "msg"));
    second_id = json_integer_value(json_object_get(nth(msgs, "chat", 1), "msg"));
    CHECK(first_id > 0 && second_id == first_id + 1);
    json_decref(msgs);
    json_decref(drain(v, late));

    /* A late joiner hears the room's lines, oldest first, after joined. */
    m = enter_token(v, mod1.token, NULL);
    msgs = join_msgs(v, m, "breakout-1");
    h = find(msgs, "chat_history");
    CHECK(h && line_count(h) == 2);
    CHECK(h && strcmp(line_text(h, 0), "first") == 0 && strcmp(line_text(h, 1), "second") == 0);
    CHECK(h && strcmp(json_string_value(json_object_get(
                          json_object_get(json_array_get(json_object_get(h, "lines"), 0), "from"),
                          "name")),
                      "Attendee 0") == 0);
    json_decref(msgs);

    /* Another room's joiner hears nothing of it. */
    {
        struct fconn *other = connect_as(v, "Other", NULL);
        msgs = join_msgs(v, other, "breakout-2");
        CHECK(!find(msgs, "chat_history"));
        json_decref(msgs);
        venue_disconnect(v, other->s, now);
        free(other);
    }

    /* Only a moderator deletes, in its room; everyone there hears it, and
     * the next joiner's history no longer has it. */
    {
        char body[96];
        snprintf(body, sizeof(body), "\"action\":\"delete_chat\",\"message\":%lld", first_id);
        CHECK(strcmp(mod_send(v, a, body), "forbidden") == 0);
        CHECK(strcmp(mod_send(v, m, "\"action\":\"delete_chat\",\"message\":999999"),
                     "not_found") == 0);
        CHECK(strcmp(mod_send(v, m, "\"action\":\"delete_chat\""), "bad_request") == 0);
        CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
        msgs = drain(v, late);
        chat = find(msgs, "chat_deleted");
        CHECK(chat && json_integer_value(json_object_get(chat, "msg")) == first_id &&
              strcmp(json_string_value(json_object_get(chat, "room")), "breakout-1") == 0);
        json_decref(msgs);
        CHECK(audit_count(reg, "delete_chat") == 1);
        CHECK(strcmp(mod_send(v, m, body), "not_found") == 0);
    }
    venue_disconnect(v, late->s, now);
    free(late);
    late = connect_as(v, "Later", NULL);
    msgs = join_msgs(v, late, "breakout-1");
    h = find(msgs, "chat_history");
    CHECK(h && line_count(h) == 1 && strcmp(line_text(h, 0), "second") == 0);
    json_decref(msgs);

    /* The bound: the room keeps its last CHATLOG_KEEP lines. */
    for (int i = 0; i < CHATLOG_KEEP + 5; i++) {
        snprintf(text, sizeof(text), "line %d", i);
        say(v, m, text);
        tick(v, 250); /* within the chat rate */
        json_decref(drain(v, a));
        json_decref(drain(v, m));
        json_decref(drain(v, late));
    }
    {
        struct fconn *c = connect_as(v, "Counter", NULL);
        msgs = join_msgs(v, c, "breakout-1");
        h = find(msgs, "chat_history");
        CHECK(h && line_count(h) == CHATLOG_KEEP);
        CHECK(h && strcmp(line_text(h, 0), "line 5") == 0);
        snprintf(text, sizeof(text), "line %d", CHATLOG_KEEP + 4);
        CHECK(h && strcmp(line_text(h, CHATLOG_KEEP - 1), text) == 0);
        json_decref(msgs);
        venue_disconnect(v, c->s, now);
        free(c);
    }

    /* A restart keeps the history, and the numbering goes on. */
    say(v, a, "before the restart");
    msgs = drain(v, a);
    before_id = json_integer_value(json_object_get(find(msgs, "chat"), "msg"));
    json_decref(msgs);
    tick(v, 50);
    venue_disconnect(v, a->s, now);
    venue_disconnect(v, m->s, now);
    venue_disconnect(v, late->s, now);
    free(a);
    free(m);
    free(late);
    v = *vp = restart(v);
    CHECK(v != NULL);
    a = enter_token(v, att[1].token, NULL);
    msgs = join_msgs(v, a, "breakout-1");
    h = find(msgs, "chat_history");
    CHECK(h && line_count(h) == CHATLOG_KEEP);
    CHECK(h && strcmp(line_text(h, CHATLOG_KEEP - 1), "before the restart") == 0);
    json_decref(msgs);
    say(v, a, "after");
    msgs = drain(v, a);
    after_id = json_integer_value(json_object_get(find(msgs, "chat"), "msg"));
    CHECK(before_id > second_id + CHATLOG_KEEP && after_id > before_id);
    json_decref(msgs);

    /* What a moderator deletes is gone from the disk too. */
    {
        struct fconn *mm = enter_token(v, mod1.token, "breakout-1");
        char body[96];
        json_decref(drain(v, a));
        snprintf(body, sizeof(body), "\"action\":\"delete_chat\",\"message\":%lld", before_id);
        CHECK(strcmp(mod_send(v, mm, body), "mod_ok") == 0);
        venue_disconnect(v, mm->s, now);
        free(mm);
    }
    venue_disconnect(v, a->s, now);
    free(a);
    v = *vp = restart(v);
    CHECK(v != NULL);
    a = connect_as(v, "Reader", NULL);
    msgs = join_msgs(v, a, "breakout-1");
    h = find(msgs, "chat_history");
    CHECK(h && strcmp(line_text(h, line_count(h) - 1), "after") == 0);
    CHECK(h && strcmp(line_text(h, line_count(h) - 2), "before the restart") != 0);
    json_decref(msgs);
    venue_disconnect(v, a->s, now);
    free(a);

    /* Retention forgets lines older than the period. */
    CHECK(chatlog_retain(cl, 1LL << 60, 1000) > 0);
    v = *vp = restart(v);
    a = connect_as(v, "After retention", NULL);
    msgs = join_msgs(v, a, "breakout-1");
    CHECK(!find(msgs, "chat_history"));
    json_decref(msgs);
    venue_disconnect(v, a->s, now);
    free(a);
}

/* The error c got for its last message, or "none"; valid until the next call. */
static const char *error_of(struct venue *v, struct fconn *c, char *message, size_t size)
{
    static char code[32];
    json_t *msgs = drain(v, c), *e = find(msgs, "error");
    snprintf(code, sizeof(code), "%s", e ? json_string_value(json_object_get(e, "code")) : "none");
    if (message)
        snprintf(message, size, "%s", e ? json_string_value(json_object_get(e, "message")) : "");
    json_decref(msgs);
    return code;
}

static unsigned long long reaction_count(json_t *r, const char *key, const char *kind)
{
    return (unsigned long long)json_integer_value(json_object_get(json_object_get(r, key), kind));
}

static void test_reactions(struct venue *v)
{
    struct fconn *a = enter_token(v, att[0].token, "breakout-2");
    struct fconn *b = connect_as(v, "Guest B", NULL);
    struct fconn *crowd[70];
    json_t *msgs, *r;
    char why[200];

    join(v, b, "breakout-2");
    json_decref(drain(v, a));
    send_text(v, a, "{\"type\":\"react\",\"kind\":\"applause\"}");
    send_text(v, b, "{\"type\":\"react\",\"kind\":\"heart\"}");
    msgs = drain(v, a);
    CHECK(!find(msgs, "reactions")); /* gathered until the tick */
    json_decref(msgs);
    tick(v, 50);
    msgs = drain(v, b);
    CHECK(count(msgs, "reactions") == 1);
    r = find(msgs, "reactions");
    CHECK(r && strcmp(json_string_value(json_object_get(r, "room")), "breakout-2") == 0);
    CHECK(reaction_count(r, "counts", "applause") == 1 &&
          reaction_count(r, "counts", "heart") == 1 && reaction_count(r, "counts", "laugh") == 0 &&
          reaction_count(r, "total", "applause") == 1);
    CHECK(json_array_size(json_object_get(r, "by")) == 2);
    CHECK(strcmp(json_string_value(
                     json_object_get(json_array_get(json_object_get(r, "by"), 0), "user")),
                 a->user_id) == 0);
    json_decref(msgs);
    json_decref(drain(v, a));
    tick(v, 50);
    msgs = drain(v, a);
    CHECK(!find(msgs, "reactions")); /* a quiet tick sends nothing */
    json_decref(msgs);

    /* Checked: the kind, the room, the rate, a mute. */
    send_text(v, a, "{\"type\":\"react\",\"kind\":\"boo\"}");
    CHECK(strcmp(error_of(v, a, why, sizeof(why)), "bad_request") == 0 &&
          strstr(why, "react.kind"));
    tick(v, 1000);
    for (int i = 0; i < 3; i++)
        send_text(v, a, "{\"type\":\"react\",\"kind\":\"laugh\"}");
    CHECK(strcmp(error_of(v, a, NULL, 0), "rate_limited") == 0);
    tick(v, 50);
    msgs = drain(v, b);
    r = find(msgs, "reactions");
    CHECK(r && reaction_count(r, "counts", "laugh") == 2);
    json_decref(msgs);
    {
        struct fconn *nowhere = connect_as(v, "Nowhere", NULL);
        send_text(v, nowhere, "{\"type\":\"react\",\"kind\":\"heart\"}");
        CHECK(strcmp(error_of(v, nowhere, NULL, 0), "not_in_room") == 0);
        venue_disconnect(v, nowhere->s, now);
        free(nowhere);
    }
    {
        struct fconn *m = enter_token(v, mod1.token, "breakout-2");
        char body[96];
        snprintf(body, sizeof(body), "\"action\":\"mute\",\"target\":\"%s\"", a->user_id);
        CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
        tick(v, 1000);
        json_decref(drain(v, a));
        send_text(v, a, "{\"type\":\"react\",\"kind\":\"heart\"}");
        CHECK(strcmp(error_of(v, a, NULL, 0), "forbidden") == 0);
        snprintf(body, sizeof(body), "\"action\":\"unmute\",\"target\":\"%s\"", a->user_id);
        CHECK(strcmp(mod_send(v, m, body), "mod_ok") == 0);
        venue_disconnect(v, m->s, now);
        free(m);
    }

    /* A crowd in one tick: one frame, everyone counted, the first 64 named. */
    tick(v, 1000);
    json_decref(drain(v, a));
    json_decref(drain(v, b));
    for (int i = 0; i < 70; i++) {
        char name[16];
        snprintf(name, sizeof(name), "Clapper %d", i);
        crowd[i] = connect_as(v, name, NULL);
        join(v, crowd[i], "lobby");
    }
    for (int i = 0; i < 70; i++) {
        json_decref(drain(v, crowd[i]));
        send_text(v, crowd[i], "{\"type\":\"react\",\"kind\":\"applause\"}");
    }
    tick(v, 50);
    msgs = drain(v, crowd[0]);
    CHECK(count(msgs, "reactions") == 1);
    r = find(msgs, "reactions");
    CHECK(r && reaction_count(r, "counts", "applause") == 70);
    CHECK(r && json_array_size(json_object_get(r, "by")) == 64 &&
          json_integer_value(json_object_get(r, "more")) == 6);
    json_decref(msgs);
    msgs = drain(v, a);
    CHECK(!find(msgs, "reactions")); /* another room's applause */
    json_decref(msgs);
    for (int i = 0; i < 70; i++) {
        venue_disconnect(v, crowd[i]->s, now);
        free(crowd[i]);
    }
    venue_disconnect(v, a->s, now);
    venue_disconnect(v, b->s, now);
    free(a);
    free(b);
}

static void dm(struct venue *v, struct fconn *from, const char *to, const char *text)
{
    char msg[300];
    snprintf(msg, sizeof(msg), "{\"type\":\"dm\",\"id\":\"d\",\"to\":\"%s\",\"text\":\"%s\"}", to,
             text);
    send_text(v, from, msg);
}

/* The users of c's last `blocks` in msgs, as "id,id," (static). */
static const char *blocks_of(json_t *msgs)
{
    static char out[256];
    json_t *b = NULL, *m, *u;
    size_t i;
    out[0] = '\0';
    json_array_foreach(msgs, i, m)
    {
        if (strcmp(type_of(m), "blocks") == 0)
            b = m;
    }
    if (!b)
        return "none";
    json_array_foreach(json_object_get(b, "users"), i, u)
    {
        strncat(out, json_string_value(u), sizeof(out) - strlen(out) - 2);
        strcat(out, ",");
    }
    return out;
}

static void test_direct_messages(struct venue **vp)
{
    struct venue *v = *vp;
    struct fconn *a = enter_token(v, att[0].token, "lobby");
    struct fconn *b = enter_token(v, att[1].token, "breakout-3");
    struct fconn *g = connect_as(v, "Guest G", NULL);
    struct fconn *m = enter_token(v, mod1.token, "breakout-1");
    json_t *msgs, *d;
    char why[200], expect[64];

    json_decref(drain(v, a));
    json_decref(drain(v, b));
    json_decref(drain(v, m));
    /* Delivered across rooms: both ends hear it, the sender's copy answers its id. */
    dm(v, a, att[1].id, "hello B");
    msgs = drain(v, b);
    d = find(msgs, "dm");
    CHECK(d && strcmp(json_string_value(json_object_get(d, "text")), "hello B") == 0);
    CHECK(d &&
          strcmp(json_string_value(json_object_get(json_object_get(d, "from"), "id")), att[0].id) ==
              0 &&
          strcmp(json_string_value(json_object_get(json_object_get(d, "from"), "name")),
                 "Attendee 0") == 0);
    CHECK(d && !json_object_get(d, "re"));
    json_decref(msgs);
    msgs = drain(v, a);
    d = find(msgs, "dm");
    CHECK(d && strcmp(json_string_value(json_object_get(d, "re")), "d") == 0 &&
          strcmp(json_string_value(json_object_get(json_object_get(d, "to"), "name")),
                 "Attendee 1") == 0);
    json_decref(msgs);

    /* Refusals, each with its reason. */
    dm(v, g, att[1].id, "from a guest");
    CHECK(strcmp(error_of(v, g, why, sizeof(why)), "forbidden") == 0 && strstr(why, "registered"));
    dm(v, a, g->user_id, "to a guest");
    CHECK(strcmp(error_of(v, a, why, sizeof(why)), "not_found") == 0 && strstr(why, "guests"));
    dm(v, a, att[2].id, "to someone away");
    CHECK(strcmp(error_of(v, a, why, sizeof(why)), "not_found") == 0 &&
          strstr(why, "not in the venue"));
    dm(v, a, att[0].id, "to myself");
    CHECK(strcmp(error_of(v, a, NULL, 0), "bad_request") == 0);
    send_text(v, a, "{\"type\":\"dm\",\"to\":\"u-1\"}");
    CHECK(strcmp(error_of(v, a, why, sizeof(why)), "bad_request") == 0 && strstr(why, "dm.text"));

    /* B turns direct messages off: A is told B does not take them. */
    tick(v, 1000);
    send_text(v, b, "{\"type\":\"privacy\",\"dms\":false}");
    json_decref(drain(v, b));
    dm(v, a, att[1].id, "are you there?");
    CHECK(strcmp(error_of(v, a, why, sizeof(why)), "forbidden") == 0 &&
          strstr(why, "Attendee 1 does not take direct messages"));
    dm(v, b, att[0].id, "I am off but write");
    CHECK(strcmp(error_of(v, b, why, sizeof(why)), "forbidden") == 0 && strstr(why, "turned"));
    send_text(v, b, "{\"type\":\"privacy\",\"dms\":true}");
    json_decref(drain(v, b));

    /* B blocks A: the same words (a block is not told), and it is kept. */
    snprintf(expect, sizeof(expect), "%s,", att[0].id);
    {
        char text[128];
        snprintf(text, sizeof(text), "{\"type\":\"block\",\"id\":1,\"user\":\"%s\"}", att[0].id);
        send_text(v, b, text);
        msgs = drain(v, b);
        CHECK(strcmp(blocks_of(msgs), expect) == 0);
        json_decref(msgs);
        send_text(v, b, text); /* twice: still one */
        msgs = drain(v, b);
        CHECK(strcmp(blocks_of(msgs), expect) == 0);
        json_decref(msgs);
    }
    tick(v, 1000); /* within the chat rate */
    dm(v, a, att[1].id, "blocked?");
    CHECK(strcmp(error_of(v, a, why, sizeof(why)), "forbidden") == 0 &&
          strstr(why, "Attendee 1 does not take direct messages"));
    msgs = drain(v, b);
    CHECK(!find(msgs, "dm"));
    json_decref(msgs);

    /* A report: the moderators hear it with what B got from A; B gets a receipt. */
    {
        char text[160];
        json_t *r;
        snprintf(text, sizeof(text),
                 "{\"type\":\"report\",\"id\":2,\"user\":\"%s\",\"reason\":\"rude messages\"}",
                 att[0].id);
        send_text(v, b, text);
        msgs = drain(v, b);
        r = find(msgs, "reported");
        CHECK(r && json_integer_value(json_object_get(r, "moderators")) == 1);
        json_decref(msgs);
        msgs = drain(v, m);
        r = find(msgs, "report");
        CHECK(r && strcmp(json_string_value(json_object_get(r, "reason")), "rude messages") == 0);
        CHECK(r &&
              strcmp(json_string_value(json_object_get(json_object_get(r, "about"), "name")),
                     "Attendee 0") == 0 &&
              strcmp(json_string_value(json_object_get(r, "room")), "lobby") == 0);
        CHECK(r && json_array_size(json_object_get(r, "messages")) == 1 &&
              strcmp(json_string_value(json_object_get(
                         json_array_get(json_object_get(r, "messages"), 0), "text")),
                     "hello B") == 0);
        json_decref(msgs);
        msgs = drain(v, a);
        CHECK(!find(msgs, "report")); /* the person reported is not told */
        json_decref(msgs);
        CHECK(audit_count(reg, "report") == 1);
        send_text(v, b, text);
        CHECK(strcmp(error_of(v, b, NULL, 0), "rate_limited") == 0);
        send_text(v, b, "{\"type\":\"report\",\"user\":\"u-nobody\"}");
        CHECK(strcmp(error_of(v, b, NULL, 0), "not_found") == 0);
    }

    /* A restart keeps the block: it comes back after welcome. */
    venue_disconnect(v, a->s, now);
    venue_disconnect(v, b->s, now);
    venue_disconnect(v, g->s, now);
    venue_disconnect(v, m->s, now);
    free(a);
    free(b);
    free(g);
    free(m);
    v = *vp = restart(v);
    {
        char hello[200];
        snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"name\":\"x\",\"token\":\"%s\"}",
                 att[1].token);
        b = calloc(1, sizeof(*b));
        b->s = venue_connect(v, b, now);
        send_text(v, b, hello);
        msgs = drain(v, b);
        CHECK(strcmp(blocks_of(msgs), expect) == 0);
        json_decref(msgs);
    }
    a = enter_token(v, att[0].token, "lobby");
    join(v, b, "lobby");
    json_decref(drain(v, a));
    dm(v, a, att[1].id, "after the restart");
    CHECK(strcmp(error_of(v, a, NULL, 0), "forbidden") == 0);
    {
        char text[128];
        snprintf(text, sizeof(text), "{\"type\":\"block\",\"user\":\"%s\",\"on\":false}",
                 att[0].id);
        send_text(v, b, text);
        msgs = drain(v, b);
        CHECK(strcmp(blocks_of(msgs), "") == 0);
        json_decref(msgs);
    }
    dm(v, a, att[1].id, "let in again");
    msgs = drain(v, b);
    CHECK(find(msgs, "dm") != NULL);
    json_decref(msgs);
    venue_disconnect(v, a->s, now);
    venue_disconnect(v, b->s, now);
    free(a);
    free(b);
}

int main(int argc, char **argv)
{
    char err[512];
    struct venue *v;

    config_defaults(&cfg);
    cfg.hello_burst = 1000; /* a crowd of guests arrives in one instant from one address */
    if (scene_set_load(argc > 1 ? argv[1] : "scenes/demo", &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "scenes: %s\n", err);
        return 1;
    }
    if (open_store(dir, &st, &reg) < 0 || !(cl = chatlog_open(st, err, sizeof(err)))) {
        fprintf(stderr, "store: %s\n", err);
        return 1;
    }
    registered_add(reg, &mod1, "Mo Moderator", ROLE_MODERATOR, 1700000000000LL);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "Attendee %d", i);
        registered_add(reg, &att[i], name, ROLE_ATTENDEE, 1700000000000LL);
    }
    v = open_venue();
    CHECK(v != NULL);
    test_history(&v);
    test_reactions(v);
    test_direct_messages(&v);
    venue_free(v);
    chatlog_close(cl);
    remove_store(dir, st, reg);
    scene_set_free(&scenes);
    return check_report();
}
