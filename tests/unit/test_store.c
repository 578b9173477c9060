/*
 * test_store.c - the store on SQLite and on PostgreSQL (VENUE_TEST_PG):
 * poses and saved sessions round-trip, nodes sharing a database keep
 * their own saved sessions, a database made by an older venued is brought
 * up to date, one emptied or another program's is refused, not taken for
 * new, and a database that stops taking writes is reported and recovers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "check_store.h"
#include "db.h"
static void saw(void *arg, const struct store_session *s)
{
    int *n = arg;
    (*n)++;
    CHECK(strcmp(s->id, "s-1") == 0 && strcmp(s->room_id, "plenary") == 0);
    CHECK(s->p[2] == 2.5f && s->q[3] == 1.0f);
}

static void test_round_trip(const char *dir)
{
    char err[256];
    struct store *st = check_store_open(dir, err, sizeof(err));
    struct store_pose pose = {
        .user_id = "u-1", .room_id = "lobby", .p = {1, 0, -2}, .q = {0, 0, 0, 1}};
    struct store_session ses = {.id = "s-1",
                                .resume_hash = "ab",
                                .user_id = "u-1",
                                .name = "Ada",
                                .role = "guest",
                                .room_id = "plenary",
                                .p = {0, 0, 2.5f},
                                .q = {0, 0, 0, 1}};
    float p[3], q[4];
    int n = 0;

    CHECK(st != NULL);
    if (!st)
        return;
    CHECK(store_user_put(st, "u-1", "Ada", "guest", 1000) == 0);
    CHECK(store_poses_put(st, &pose, 1, 1000) == 0);
    CHECK(store_pose_get(st, "u-1", "lobby", p, q) == 1 && p[0] == 1.0f && p[2] == -2.0f);
    CHECK(store_pose_get(st, "u-1", "expo", p, q) == 0);
    CHECK(store_sessions_save(st, &ses, 1) == 0);
    CHECK(store_sessions_take(st, saw, &n) == 0 && n == 1);
    n = 0;
    CHECK(store_sessions_take(st, saw, &n) == 0 && n == 0); /* taken once */
    store_close(st);
}

/* A connection of the test's own to the database the store in dir uses. */
static struct db *raw(const char *dir)
{
    char path[512], err[256];
    const char *where = check_store_where(dir);
    struct db *db;
    if (!where)
        return NULL;
    if (db_is_url(where))
        snprintf(path, sizeof(path), "%s", where);
    else
        snprintf(path, sizeof(path), "%s/venue.db", where);
    if (!(db = db_open(path, err, sizeof(err))))
        fprintf(stderr, "  %s\n", err);
    return db;
}

/* Nodes sharing a database: each saves and takes its own sessions. */
static void test_nodes(const char *dir)
{
    char err[256];
    struct store *a = check_store_open(dir, err, sizeof(err));
    struct store *b = check_store_open(dir, err, sizeof(err));
    struct store_session ses = {.id = "s-1",
                                .resume_hash = "ab",
                                .user_id = "u-1",
                                .name = "Ada",
                                .role = "guest",
                                .room_id = "plenary",
                                .p = {0, 0, 2.5f},
                                .q = {0, 0, 0, 1}};
    int n = 0;

    CHECK(a && b);
    if (!a || !b)
        return;
    store_set_node(a, "node-a");
    store_set_node(b, "node-b");
    CHECK(store_sessions_save(a, &ses, 1) == 0);
    CHECK(store_sessions_save(b, NULL, 0) == 0); /* b's shutdown leaves a's alone */
    CHECK(store_sessions_take(b, saw, &n) == 0 && n == 0);
    CHECK(store_sessions_take(a, saw, &n) == 0 && n == 1);
    store_close(a);
    store_close(b);
}

static void test_upgrade(const char *dir)
{
    char err[256];
    struct db *db = raw(dir);
    struct db_stmt *q;
    struct store *st;

    CHECK(db != NULL);
    if (!db)
        return;
    CHECK(db_exec(db, "CREATE TABLE users(id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT "
                      "NULL, created_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL);"
                      "INSERT INTO users VALUES('u-old', 'Old', 'guest', 5, 5);") == 0);
    st = check_store_open(dir, err, sizeof(err));
    CHECK(st != NULL);
    if (!st) {
        fprintf(stderr, "  %s\n", err);
        db_close(db);
        return;
    }
    CHECK(store_user_put(st, "u-old", "Old again", "guest", 6) == 0);
    store_close(st);
    CHECK((q = db_prepare(db, "SELECT name, org, registered, revoked FROM users")) != NULL);
    if (q) {
        CHECK(db_step(q) == DB_ROW);
        CHECK(strcmp(db_column_text(q, 0), "Old again") == 0);
        CHECK(strcmp(db_column_text(q, 1), "") == 0);
        CHECK(db_column_int64(q, 2) == 0 && db_column_int64(q, 3) == 0);
        db_finalize(q);
    }
    db_close(db);
}

/* SQLite only: the venue's file emptied, and another program's file. */
static void test_not_ours_file(const char *dir)
{
    char path[512], err[512];
    struct store *st;
    struct db *db;
    FILE *f;

    snprintf(path, sizeof(path), "%s/venue.db", dir);
    st = store_open(dir, err, sizeof(err));
    CHECK(st != NULL);
    store_close(st);
    CHECK((f = fopen(path, "w")) != NULL);
    if (f)
        fclose(f);
    CHECK(store_open(dir, err, sizeof(err)) == NULL && strstr(err, "is empty (0 bytes)") &&
          strstr(err, "delete the file"));
    /* deleted on purpose: a new, empty venue */
    CHECK(unlink(path) == 0);
    st = store_open(dir, err, sizeof(err));
    CHECK(st != NULL);
    store_close(st);
    CHECK(unlink(path) == 0);
    CHECK((db = raw(dir)) != NULL);
    if (!db)
        return;
    CHECK(db_exec(db, "CREATE TABLE invoices(id INTEGER PRIMARY KEY)") == 0);
    CHECK(store_open(dir, err, sizeof(err)) == NULL && strstr(err, "not venued's"));
    CHECK(db_exec(db, "DROP TABLE invoices; PRAGMA application_id = 42") == 0);
    CHECK(store_open(dir, err, sizeof(err)) == NULL && strstr(err, "application_id 42"));
    db_close(db);
}

/* PostgreSQL: a database holding another program's tables. */
static void test_not_ours_server(const char *dir)
{
    char err[512];
    struct db *db = raw(dir);
    CHECK(db != NULL);
    if (!db)
        return;
    CHECK(db_exec(db, "CREATE TABLE invoices(id BIGINT PRIMARY KEY)") == 0);
    CHECK(check_store_open(dir, err, sizeof(err)) == NULL && strstr(err, "another program") &&
          !strstr(err, "password"));
    db_close(db);
}

/*
 * The database stops taking writes (read-only: as a full disk, or a
 * server in recovery): the store says so once, readers go on, and the
 * next commit that reaches the database clears it.
 */
static void test_health(const char *dir)
{
    char err[256];
    struct store *st = check_store_open(dir, err, sizeof(err));
    struct store_pose pose = {
        .user_id = "u-1", .room_id = "lobby", .p = {1, 0, -2}, .q = {0, 0, 0, 1}};
    float p[3], q[4];
    struct db *db;

    CHECK(st != NULL);
    if (!st)
        return;
    db = store_db(st);
    CHECK(store_user_put(st, "u-1", "Ada", "guest", 1000) == 0);
    CHECK(db_exec(db, db_sql(db, "PRAGMA query_only = ON",
                             "SET default_transaction_read_only = on")) == 0);
    CHECK(store_poses_put(st, &pose, 1, 2000) < 0);
    CHECK(store_health(st)->failing && store_health(st)->failures == 1);
    CHECK(store_health(st)->reason[0] != '\0');
    CHECK(store_user_put(st, "u-2", "Bo", "guest", 2000) < 0);
    CHECK(store_health(st)->failures == 2);
    CHECK(store_pose_get(st, "u-1", "lobby", p, q) == 0); /* reads go on */
    CHECK(db_exec(db, db_sql(db, "PRAGMA query_only = OFF",
                             "SET default_transaction_read_only = off")) == 0);
    CHECK(store_poses_put(st, &pose, 1, 3000) == 0);
    CHECK(!store_health(st)->failing && store_health(st)->since == 0);
    CHECK(store_pose_get(st, "u-1", "lobby", p, q) == 1 && p[0] == 1.0f);
    store_close(st);
}

int main(void)
{
    char dirs[6][32];
    char cmd[256];
    int n = 0;

    for (int i = 0; i < 6; i++) {
        snprintf(dirs[i], sizeof(dirs[i]), "/tmp/venue-store-XXXXXX");
        if (!mkdtemp(dirs[i]))
            return 1;
    }
    test_round_trip(dirs[0]);
    test_nodes(dirs[1]);
    test_upgrade(dirs[2]);
    if (check_store_pg())
        test_not_ours_server(dirs[3]);
    else
        test_not_ours_file(dirs[3]);
    test_health(dirs[4]);
    n = snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s %s %s %s", dirs[0], dirs[1], dirs[2], dirs[3],
                 dirs[4], dirs[5]);
    CHECK(n > 0 && (size_t)n < sizeof(cmd) && system(cmd) == 0);
    return check_report();
}
