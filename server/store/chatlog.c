/*
 * chatlog.c - recent chat in SQLite: one table, trimmed per room on every
 * write so that it never holds more than the venue shows.
 */
#include "chatlog.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

enum stmt { C_ADD, C_TRIM, C_DELETE, C_ROOM, C_LAST, C_LAST_PUT, C_RETAIN, C_COUNT };

static const char *const stmt_sql[C_COUNT] = {
    [C_ADD] = "INSERT OR REPLACE INTO chat(id, room, user_id, name, text, ts_ms, role) "
              "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* Everything older than the room's CHATLOG_KEEP newest. */
    [C_TRIM] = "DELETE FROM chat WHERE room = ?1 AND id <= "
               "(SELECT id FROM chat WHERE room = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    [C_DELETE] = "DELETE FROM chat WHERE id = ?1",
    /* A line written before roles were kept takes its sender's role from
     * the users table, else (a guest retention forgot) guest's. */
    [C_ROOM] = "SELECT c.id, c.room, c.user_id, c.name, c.text, c.ts_ms, "
               "COALESCE(c.role, u.role, 'guest') FROM "
               "(SELECT * FROM chat WHERE room = ?1 ORDER BY id DESC LIMIT ?2) c "
               "LEFT JOIN users u ON u.id = c.user_id ORDER BY c.id",
    [C_LAST] = "SELECT value FROM chat_meta WHERE key = 'last_id'",
    [C_LAST_PUT] = "INSERT INTO chat_meta VALUES('last_id', ?1) "
                   "ON CONFLICT(key) DO UPDATE SET value = max(value, ?1)",
    [C_RETAIN] = "DELETE FROM chat WHERE ts_ms < ?1",
};

/* The last id is kept apart from the lines: a moderator's delete of the
 * newest line must not let its number be given again. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS chat("
    "  id INTEGER PRIMARY KEY, room TEXT NOT NULL, user_id TEXT NOT NULL,"
    "  name TEXT NOT NULL, text TEXT NOT NULL, ts_ms INTEGER NOT NULL, role TEXT);"
    "CREATE INDEX IF NOT EXISTS chat_room ON chat(room, id);"
    "CREATE TABLE IF NOT EXISTS chat_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);";

struct chatlog {
    sqlite3 *db;                 /* borrowed from the store */
    struct store *st;            /* borrowed: told of a failed statement */
    sqlite3_stmt *stmt[C_COUNT]; /* owned */
    char err[256];
};

static int fail(struct chatlog *cl, const char *what)
{
    snprintf(cl->err, sizeof(cl->err), "chatlog: %s: %s", what, sqlite3_errmsg(cl->db));
    store_failed(cl->st);
    return -1;
}

/* The role column came after the table: a database made before gets it. */
static int add_role(sqlite3 *db)
{
    sqlite3_stmt *q;
    int rc;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('chat') WHERE name = 'role'", -1,
                           &q, NULL) != SQLITE_OK)
        return -1;
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return -1;
    return sqlite3_exec(db, "ALTER TABLE chat ADD COLUMN role TEXT", NULL, NULL, NULL) == SQLITE_OK
               ? 0
               : -1;
}

struct chatlog *chatlog_open(struct store *st, char *err, size_t errlen)
{
    struct chatlog *cl = calloc(1, sizeof(*cl));
    if (!cl) {
        snprintf(err, errlen, "chatlog: out of memory");
        return NULL;
    }
    cl->db = store_sqlite(st);
    cl->st = st;
    if (sqlite3_exec(cl->db, schema, NULL, NULL, NULL) != SQLITE_OK || add_role(cl->db) < 0) {
        snprintf(err, errlen, "chatlog: schema: %s", sqlite3_errmsg(cl->db));
        chatlog_close(cl);
        return NULL;
    }
    for (int i = 0; i < C_COUNT; i++) {
        if (sqlite3_prepare_v3(cl->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &cl->stmt[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errlen, "chatlog: prepare: %s", sqlite3_errmsg(cl->db));
            chatlog_close(cl);
            return NULL;
        }
    }
    return cl;
}

void chatlog_close(struct chatlog *cl)
{
    if (!cl)
        return;
    for (int i = 0; i < C_COUNT; i++)
        sqlite3_finalize(cl->stmt[i]);
    free(cl);
}

/* Run s to completion and reset it. 0, or -1 with the reason kept. */
static int run(struct chatlog *cl, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : fail(cl, what);
}

static int put_line(struct chatlog *cl, const struct chatlog_line *l)
{
    sqlite3_stmt *s = cl->stmt[C_ADD];
    sqlite3_bind_int64(s, 1, l->id);
    sqlite3_bind_text(s, 2, l->room, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, l->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, l->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, l->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, l->ts_ms);
    sqlite3_bind_text(s, 7, l->role, -1, SQLITE_STATIC);
    if (run(cl, s, "add") < 0)
        return -1;
    s = cl->stmt[C_TRIM];
    sqlite3_bind_text(s, 1, l->room, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, CHATLOG_KEEP);
    return run(cl, s, "trim");
}

int chatlog_put(struct chatlog *cl, const struct chatlog_line *lines, size_t n)
{
    long long last = 0;
    int rc = 0;
    if (n == 0)
        return 0;
    /* IMMEDIATE: another process writing (venued user ...) makes us wait
     * at BEGIN rather than fail halfway. */
    if (sqlite3_exec(cl->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return fail(cl, "begin");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = put_line(cl, &lines[i]);
        if (lines[i].id > last)
            last = lines[i].id;
    }
    if (rc == 0) {
        sqlite3_bind_int64(cl->stmt[C_LAST_PUT], 1, last);
        rc = run(cl, cl->stmt[C_LAST_PUT], "last id");
    }
    if (rc == 0 && sqlite3_exec(cl->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = fail(cl, "commit");
    if (rc < 0)
        sqlite3_exec(cl->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int chatlog_delete(struct chatlog *cl, long long id)
{
    sqlite3_bind_int64(cl->stmt[C_DELETE], 1, id);
    if (run(cl, cl->stmt[C_DELETE], "delete") < 0)
        return -1;
    return sqlite3_changes(cl->db) > 0;
}

static const char *column_text(sqlite3_stmt *s, int i)
{
    const char *text = (const char *)sqlite3_column_text(s, i);
    return text ? text : "";
}

int chatlog_room_each(struct chatlog *cl, const char *room,
                      void (*fn)(void *arg, const struct chatlog_line *l), void *arg)
{
    sqlite3_stmt *s = cl->stmt[C_ROOM];
    int rc;
    sqlite3_bind_text(s, 1, room, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, CHATLOG_KEEP);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct chatlog_line l = {
            .id = sqlite3_column_int64(s, 0),
            .room = column_text(s, 1),
            .user_id = column_text(s, 2),
            .name = column_text(s, 3),
            .text = column_text(s, 4),
            .ts_ms = sqlite3_column_int64(s, 5),
            .role = column_text(s, 6),
        };
        fn(arg, &l);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : fail(cl, "room");
}

long long chatlog_last_id(struct chatlog *cl)
{
    sqlite3_stmt *s = cl->stmt[C_LAST];
    long long id = 0;
    if (sqlite3_step(s) == SQLITE_ROW)
        id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return id;
}

long chatlog_retain(struct chatlog *cl, long long now_ms, long long keep_ms)
{
    sqlite3_bind_int64(cl->stmt[C_RETAIN], 1, now_ms - keep_ms);
    if (run(cl, cl->stmt[C_RETAIN], "retain") < 0)
        return -1;
    return (long)sqlite3_changes(cl->db);
}

const char *chatlog_error(struct chatlog *cl)
{
    return cl->err;
}
