/*
 * test_store.c - the SQLite store: poses and saved sessions round-trip,
 * a database made by an older venued is brought up to date, and a
 * database emptied or another program's is refused, not taken for new.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "store.h"

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
    struct store *st = store_open(dir, err, sizeof(err));
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

static void test_upgrade(const char *dir)
{
    char path[512], err[256];
    sqlite3 *db;
    struct store *st;

    snprintf(path, sizeof(path), "%s/venue.db", dir);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "CREATE TABLE users(id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT "
                       "NULL, created_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL);"
                       "INSERT INTO users VALUES('u-old', 'Old', 'guest', 5, 5);",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    st = store_open(dir, err, sizeof(err));
    CHECK(st != NULL);
    if (!st) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK(store_user_put(st, "u-old", "Old again", "guest", 6) == 0);
    store_close(st);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    {
        sqlite3_stmt *q;
        CHECK(sqlite3_prepare_v2(db, "SELECT name, org, registered, revoked FROM users", -1, &q,
                                 NULL) == SQLITE_OK);
        CHECK(sqlite3_step(q) == SQLITE_ROW);
        CHECK(strcmp((const char *)sqlite3_column_text(q, 0), "Old again") == 0);
        CHECK(sqlite3_column_int(q, 2) == 0 && sqlite3_column_int(q, 3) == 0);
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
}

static void test_not_ours(const char *dir)
{
    char path[512], err[512];
    sqlite3 *db;
    struct store *st;
    FILE *f;

    /* the venue's database truncated to 0 bytes */
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
    /* another program's database */
    CHECK(unlink(path) == 0);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE TABLE invoices(id INTEGER PRIMARY KEY)", NULL, NULL, NULL) ==
          SQLITE_OK);
    sqlite3_close(db);
    CHECK(store_open(dir, err, sizeof(err)) == NULL && strstr(err, "not venued's"));
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "DROP TABLE invoices; PRAGMA application_id = 42", NULL, NULL, NULL) ==
          SQLITE_OK);
    sqlite3_close(db);
    CHECK(store_open(dir, err, sizeof(err)) == NULL && strstr(err, "application_id 42"));
}

int main(void)
{
    char a[] = "/tmp/venue-store-XXXXXX", b[] = "/tmp/venue-store-XXXXXX",
         c[] = "/tmp/venue-store-XXXXXX", cmd[160];
    if (!mkdtemp(a) || !mkdtemp(b) || !mkdtemp(c))
        return 1;
    test_round_trip(a);
    test_upgrade(b);
    test_not_ours(c);
    snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s", a, b, c);
    CHECK(system(cmd) == 0);
    return check_report();
}
