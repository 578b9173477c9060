/*
 * test_chatlog.c - the chat log on its own: the bound per room, oldest
 * first (by time: nodes number from blocks of their own), a line written
 * again, roles (kept, from the users table, guest), deletes, blocks of ids
 * never given twice (also to two connections, and past old lines),
 * retention, batches all or nothing, a read-only database, a reopen, and
 * (SQLite) a table from before roles. On SQLite, or on PostgreSQL with VENUE_TEST_PG.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlog.h"
#include "check.h"
#include "check_store.h"
#include "db.h"
#include "store.h"

struct seen {
    int n;
    long long first_id, last_id, last_ts;
    char last_text[64];
    char last_role[16];
    char last_room[16];
};

static void count_line(void *arg, const struct chatlog_line *l)
{
    struct seen *s = arg;
    if (s->n++ == 0)
        s->first_id = l->id;
    CHECK(s->n == 1 || l->ts_ms > s->last_ts || (l->ts_ms == s->last_ts && l->id > s->last_id));
    s->last_id = l->id;
    snprintf(s->last_text, sizeof(s->last_text), "%s", l->text);
    snprintf(s->last_role, sizeof(s->last_role), "%s", l->role);
    snprintf(s->last_room, sizeof(s->last_room), "%s", l->room);
    s->last_ts = l->ts_ms;
}

/* The last of n ids taken, or -1. */
static long long reserve(struct chatlog *cl, long long n)
{
    long long last = -1;
    CHECK(chatlog_reserve(cl, n, &last) == 0);
    return last;
}

static struct seen room(struct chatlog *cl, const char *name)
{
    struct seen s = {0};
    CHECK(chatlog_room_each(cl, name, count_line, &s) == 0);
    return s;
}

static struct chatlog_line line(long long id, const char *room_name, const char *text,
                                long long ts_ms)
{
    return (struct chatlog_line){.id = id,
                                 .room = room_name,
                                 .user_id = "u-1",
                                 .name = "Ann",
                                 .text = text,
                                 .ts_ms = ts_ms,
                                 .role = "attendee"};
}

static void test_lines(const char *dir)
{
    char err[256], text[60][16];
    struct store *st = check_store_open(dir, err, sizeof(err));
    struct chatlog *cl = st ? chatlog_open(st, err, sizeof(err)) : NULL;
    struct chatlog_line batch[63];
    struct seen s;

    CHECK(cl != NULL);
    if (!cl) {
        fprintf(stderr, "chatlog: %s\n", err);
        store_close(st);
        return;
    }
    CHECK(reserve(cl, 10) == 10);
    CHECK(chatlog_put(cl, NULL, 0) == 0);

    /* 60 lines in the lobby, 3 in a breakout: the lobby keeps its 50 newest. */
    for (int i = 0; i < 60; i++) {
        snprintf(text[i], sizeof(text[i]), "line %d", i + 1);
        batch[i] = line(i + 1, "lobby", text[i], 1000LL * (i + 1));
    }
    for (int i = 0; i < 3; i++)
        batch[60 + i] = line(61 + i, "breakout", "hello", 100000 + i);
    CHECK(chatlog_put(cl, batch, 63) == 0);
    s = room(cl, "lobby");
    CHECK(s.n == CHATLOG_KEEP && s.first_id == 11 && s.last_id == 60);
    CHECK(strcmp(s.last_text, "line 60") == 0 && s.last_ts == 60000);
    CHECK(strcmp(s.last_role, "attendee") == 0 && strcmp(s.last_room, "lobby") == 0);
    s = room(cl, "breakout");
    CHECK(s.n == 3 && s.first_id == 61 && s.last_id == 63);
    s = room(cl, "nowhere");
    CHECK(s.n == 0);
    CHECK(reserve(cl, 1000) == 1010); /* the lines do not move the numbering */

    /* A line written again is replaced, not doubled. */
    batch[0] = line(60, "lobby", "line 60 again", 60001);
    CHECK(chatlog_put(cl, batch, 1) == 0);
    s = room(cl, "lobby");
    CHECK(s.n == CHATLOG_KEEP && s.last_id == 60 && strcmp(s.last_text, "line 60 again") == 0);

    /* A line without a role takes its sender's from the users table, a
     * sender the table does not know is a guest. */
    CHECK(store_user_put(st, "u-mod", "Mo", "moderator", 1) == 0);
    batch[0] = line(64, "breakout", "from a moderator", 100100);
    batch[0].user_id = "u-mod";
    batch[0].role = NULL;
    CHECK(chatlog_put(cl, batch, 1) == 0);
    s = room(cl, "breakout");
    CHECK(s.n == 4 && strcmp(s.last_role, "moderator") == 0);
    batch[0] = line(65, "breakout", "from a stranger", 100200);
    batch[0].user_id = "u-gone";
    batch[0].role = NULL;
    CHECK(chatlog_put(cl, batch, 1) == 0);
    s = room(cl, "breakout");
    CHECK(s.n == 5 && strcmp(s.last_role, "guest") == 0);

    /* A delete of the newest line does not give its number back. */
    CHECK(chatlog_delete(cl, 65) == 1);
    CHECK(chatlog_delete(cl, 65) == 0);
    CHECK(room(cl, "breakout").last_id == 64);
    CHECK(reserve(cl, 1) == 1011);
    batch[0] = line(62, "breakout", "hello again", 100001);
    CHECK(chatlog_put(cl, batch, 1) == 0);

    /* All or nothing: a line without a name spoils its batch. */
    batch[0] = line(66, "breakout", "first of a bad batch", 100300);
    batch[1] = line(67, "breakout", "no name", 100301);
    batch[1].name = NULL;
    CHECK(chatlog_put(cl, batch, 2) < 0 && strstr(chatlog_error(cl), "chatlog:"));
    CHECK(room(cl, "breakout").n == 4);
    CHECK(!store_health(st)->failing); /* the line's fault, not the database's */

    /* A database that refuses writes: the batch fails, health says so, and
     * the same batch goes in once writes work again. */
    {
        struct db *db = store_db(st);
        batch[1].name = "Ann";
        CHECK(db_exec(db, db_sql(db, "PRAGMA query_only = ON",
                                 "SET default_transaction_read_only = on")) == 0);
        CHECK(chatlog_put(cl, batch, 2) < 0 && strstr(chatlog_error(cl), "chatlog:"));
        CHECK(store_health(st)->failing);
        CHECK(room(cl, "breakout").n == 4);
        {
            long long last = -1;
            CHECK(chatlog_reserve(cl, 10, &last) < 0 && last == -1);
            CHECK(strstr(chatlog_error(cl), "chatlog: reserve ids:"));
        }
        CHECK(db_exec(db, db_sql(db, "PRAGMA query_only = OFF",
                                 "SET default_transaction_read_only = off")) == 0);
        CHECK(chatlog_put(cl, batch, 2) == 0);
        CHECK(!store_health(st)->failing);
        CHECK(room(cl, "breakout").n == 6);
    }

    /* Retention: lines from before 30 s (ids 11..29) are older than 30 s
     * before 60 s; line 30, at 30 s exactly, is not. */
    CHECK(chatlog_retain(cl, 60000, 30000) == 19);
    s = room(cl, "lobby");
    CHECK(s.n == 31 && s.first_id == 30);
    CHECK(chatlog_retain(cl, 60000, 30000) == 0);
    chatlog_close(cl);
    store_close(st);

    /* Everything is still there after a reopen. */
    st = check_store_open(dir, err, sizeof(err));
    cl = st ? chatlog_open(st, err, sizeof(err)) : NULL;
    CHECK(cl != NULL);
    if (cl) {
        s = room(cl, "lobby");
        CHECK(s.n == 31 && s.first_id == 30 && strcmp(s.last_text, "line 60 again") == 0);
        CHECK(room(cl, "breakout").n == 6 && reserve(cl, 1) == 1012);
        CHECK(check_store_int(st, "SELECT count(*) FROM chat") == 37);
    }
    chatlog_close(cl);
    store_close(st);
}

/*
 * Two nodes on one database: their blocks of ids never meet, and a room
 * holding lines of both keeps and gives back the newest in time, whatever
 * their numbers.
 */
static void test_two_nodes(const char *dir)
{
    char err[256], text[60][16];
    struct store *sa = check_store_open(dir, err, sizeof(err));
    struct store *sb = sa ? check_store_open(dir, err, sizeof(err)) : NULL;
    struct chatlog *a = sa ? chatlog_open(sa, err, sizeof(err)) : NULL;
    struct chatlog *b = sb ? chatlog_open(sb, err, sizeof(err)) : NULL;
    struct chatlog_line batch[60];
    long long a_end, b_end;
    struct seen s;

    CHECK(a && b);
    if (a && b) {
        a_end = reserve(a, 1000);
        b_end = reserve(b, 1000);
        CHECK(b_end == a_end + 1000 && reserve(a, 1000) == b_end + 1000);
        /* b numbers higher but speaks first; a's 30 later lines come after. */
        for (int i = 0; i < 60; i++) {
            snprintf(text[i], sizeof(text[i]), "%s %d", i < 30 ? "b" : "a", i);
            batch[i] = line(i < 30 ? b_end - 999 + i : a_end - 999 + i, "mixed", text[i], 5000 + i);
        }
        CHECK(chatlog_put(b, batch, 30) == 0 && chatlog_put(a, batch + 30, 30) == 0);
        s = room(b, "mixed");
        CHECK(s.n == CHATLOG_KEEP && strcmp(s.last_text, "a 59") == 0 && s.first_id == b_end - 989);
    }
    chatlog_close(a);
    chatlog_close(b);
    store_close(sa);
    store_close(sb);
}

/* An SQLite database whose chat table came before roles gets the column,
 * and its lines a role. */
static void test_before_roles(const char *dir)
{
    char err[256];
    struct store *st = check_store_open(dir, err, sizeof(err));
    struct db *db = st ? store_db(st) : NULL;
    struct chatlog *cl;
    struct seen s;

    CHECK(db && db_exec(db, "CREATE TABLE chat(id INTEGER PRIMARY KEY, room TEXT NOT NULL, "
                            "user_id TEXT NOT NULL, name TEXT NOT NULL, text TEXT NOT NULL, "
                            "ts_ms INTEGER NOT NULL);"
                            "INSERT INTO chat VALUES(7, 'lobby', 'u-old', 'Old', 'hi', 1)") == 0);
    cl = st ? chatlog_open(st, err, sizeof(err)) : NULL;
    CHECK(cl != NULL);
    if (cl) {
        s = room(cl, "lobby");
        CHECK(s.n == 1 && s.last_id == 7 && strcmp(s.last_role, "guest") == 0);
        CHECK(reserve(cl, 5) == 12); /* past the old line 7 */
    }
    chatlog_close(cl);
    store_close(st);
}

int main(void)
{
    char dir[] = "/tmp/venue-chatlog-XXXXXX", old[] = "/tmp/venue-chatold-XXXXXX", cmd[128];
    if (!mkdtemp(dir) || !mkdtemp(old))
        return 1;
    test_lines(dir);
    test_two_nodes(dir);
    if (!check_store_pg())
        test_before_roles(old);
    snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, old);
    CHECK(system(cmd) == 0);
    return check_report();
}
