/*
 * test_social.c - what people say to each other, in the core: a room's
 * chat with its memory (history for a joiner, the bound, a moderator's
 * delete, a restart), reactions and direct messages.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatlog.h"
#include "core_harness.h"
#include "registry.h"
#include "store.h"

static char dir[] = "/tmp/venue-social-XXXXXX";
static struct store *st;
static struct registry *reg;
static struct chatlog *cl;

static struct registered mod1, att[3];

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
    long long first_id, second_id, after_id;
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
    CHECK(after_id > second_id + CHATLOG_KEEP + 5);
    json_decref(msgs);

    /* What a moderator deletes is gone from the disk too. */
    {
        struct fconn *mm = enter_token(v, mod1.token, "breakout-1");
        char body[96];
        json_decref(drain(v, a));
        snprintf(body, sizeof(body), "\"action\":\"delete_chat\",\"message\":%lld", after_id - 1);
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

int main(int argc, char **argv)
{
    char err[512];
    struct venue *v;

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
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "Attendee %d", i);
        registered_add(reg, &att[i], name, ROLE_ATTENDEE, 1700000000000LL);
    }
    v = open_venue();
    CHECK(v != NULL);
    test_history(&v);
    venue_free(v);
    chatlog_close(cl);
    remove_store(dir, st, reg);
    scene_set_free(&scenes);
    return check_report();
}
