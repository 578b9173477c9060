/*
 * chatlog.c - recent chat on the store's database (db.h): one table,
 * trimmed per room on every write so that it never holds more than the
 * venue shows.
 */
#include "chatlog.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "db.h"

enum stmt { C_ADD, C_TRIM, C_DELETE, C_ROOM, C_RESERVE, C_RETAIN, C_COUNT };

static const char *const stmt_sql[C_COUNT] = {
    [C_ADD] = "INSERT INTO chat(id, room, user_id, name, text, ts_ms, role) "
              "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) "
              "ON CONFLICT(id) DO UPDATE SET room = ?2, user_id = ?3, name = ?4, text = ?5, "
              "ts_ms = ?6, role = ?7",
    /* Everything older than the room's CHATLOG_KEEP newest. In time, not
     * by id: nodes sharing the database number from blocks of their own. */
    [C_TRIM] = "DELETE FROM chat WHERE room = ?1 AND id NOT IN "
               "(SELECT id FROM chat WHERE room = ?1 ORDER BY ts_ms DESC, id DESC LIMIT ?2)",
    [C_DELETE] = "DELETE FROM chat WHERE id = ?1",
    /* A line written before roles were kept takes its sender's role from
     * the users table, else (a guest retention forgot) guest's. */
    [C_ROOM] = "SELECT c.id, c.room, c.user_id, c.name, c.text, c.ts_ms, "
               "COALESCE(c.role, u.role, 'guest') FROM "
               "(SELECT * FROM chat WHERE room = ?1 ORDER BY ts_ms DESC, id DESC LIMIT ?2) c "
               "LEFT JOIN users u ON u.id = c.user_id ORDER BY c.ts_ms, c.id",
    /* One statement: two processes on one database never get one block.
     * The first block starts past any line already there. */
    [C_RESERVE] = "INSERT INTO chat_meta(key, value) "
                  "VALUES('last_id', (SELECT COALESCE(MAX(id), 0) FROM chat) + ?1) "
                  "ON CONFLICT(key) DO UPDATE SET value = chat_meta.value + ?1 RETURNING value",
    [C_RETAIN] = "DELETE FROM chat WHERE ts_ms < ?1",
};

/* The last id given out is kept apart from the lines: a moderator's
 * delete of the newest line must not let its number be given again. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS chat("
    "  id INTEGER PRIMARY KEY, room TEXT NOT NULL, user_id TEXT NOT NULL,"
    "  name TEXT NOT NULL, text TEXT NOT NULL, ts_ms INTEGER NOT NULL, role TEXT);"
    "DROP INDEX IF EXISTS chat_room;"
    "CREATE INDEX IF NOT EXISTS chat_room_time ON chat(room, ts_ms, id);"
    "CREATE TABLE IF NOT EXISTS chat_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);";

struct chatlog {
    struct db *db;                 /* borrowed from the store */
    struct store *st;              /* borrowed: told of a failed statement */
    struct db_stmt *stmt[C_COUNT]; /* owned */
    char err[256];
};

static int fail(struct chatlog *cl, const char *what)
{
    snprintf(cl->err, sizeof(cl->err), "chatlog: %s: %s", what, db_error(cl->db));
    store_failed(cl->st);
    return -1;
}

/*
 * The role column came after the table: an SQLite database made before
 * gets it. Every PostgreSQL database was made after, with the column.
 */
static int add_role(struct db *db)
{
    struct db_stmt *q;
    enum db_rc rc;
    if (db_engine(db) != DB_SQLITE)
        return 0;
    if (!(q = db_prepare(db, "SELECT 1 FROM pragma_table_info('chat') WHERE name = 'role'")))
        return -1;
    rc = db_step(q);
    db_finalize(q);
    if (rc == DB_ROW)
        return 0;
    if (rc != DB_DONE)
        return -1;
    return db_exec(db, "ALTER TABLE chat ADD COLUMN role TEXT");
}

struct chatlog *chatlog_open(struct store *st, char *err, size_t errlen)
{
    struct chatlog *cl = calloc(1, sizeof(*cl));
    if (!cl) {
        snprintf(err, errlen, "chatlog: out of memory");
        return NULL;
    }
    cl->db = store_db(st);
    cl->st = st;
    if (db_schema(cl->db, schema) < 0 || add_role(cl->db) < 0) {
        snprintf(err, errlen, "chatlog: schema: %s", db_error(cl->db));
        chatlog_close(cl);
        return NULL;
    }
    for (int i = 0; i < C_COUNT; i++) {
        if (!(cl->stmt[i] = db_prepare(cl->db, stmt_sql[i]))) {
            snprintf(err, errlen, "chatlog: prepare: %s", db_error(cl->db));
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
        db_finalize(cl->stmt[i]);
    free(cl);
}

/* Run s to completion and reset it. 0, or -1 with the reason kept. */
static int run(struct chatlog *cl, struct db_stmt *s, const char *what)
{
    return db_run(s) == 0 ? 0 : fail(cl, what);
}

static int put_line(struct chatlog *cl, const struct chatlog_line *l)
{
    struct db_stmt *s = cl->stmt[C_ADD];
    db_bind_int64(s, 1, l->id);
    db_bind_text(s, 2, l->room);
    db_bind_text(s, 3, l->user_id);
    db_bind_text(s, 4, l->name);
    db_bind_text(s, 5, l->text);
    db_bind_int64(s, 6, l->ts_ms);
    db_bind_text(s, 7, l->role);
    if (run(cl, s, "add") < 0)
        return -1;
    s = cl->stmt[C_TRIM];
    db_bind_text(s, 1, l->room);
    db_bind_int64(s, 2, CHATLOG_KEEP);
    return run(cl, s, "trim");
}

int chatlog_put(struct chatlog *cl, const struct chatlog_line *lines, size_t n)
{
    int rc = 0;
    if (n == 0)
        return 0;
    /* On SQLite another process writing (venued user ...) makes us wait
     * at BEGIN rather than fail halfway. */
    if (db_begin(cl->db) < 0)
        return fail(cl, "begin");
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = put_line(cl, &lines[i]);
    if (rc == 0 && db_commit(cl->db) < 0)
        rc = fail(cl, "commit");
    if (rc < 0)
        db_rollback(cl->db);
    return rc;
}

int chatlog_delete(struct chatlog *cl, long long id)
{
    db_bind_int64(cl->stmt[C_DELETE], 1, id);
    if (run(cl, cl->stmt[C_DELETE], "delete") < 0)
        return -1;
    return db_changes(cl->db) > 0;
}

static const char *column_text(struct db_stmt *s, int i)
{
    const char *text = db_column_text(s, i);
    return text ? text : "";
}

int chatlog_room_each(struct chatlog *cl, const char *room,
                      void (*fn)(void *arg, const struct chatlog_line *l), void *arg)
{
    struct db_stmt *s = cl->stmt[C_ROOM];
    enum db_rc rc;
    db_bind_text(s, 1, room);
    db_bind_int64(s, 2, CHATLOG_KEEP);
    while ((rc = db_step(s)) == DB_ROW) {
        struct chatlog_line l = {
            .id = db_column_int64(s, 0),
            .room = column_text(s, 1),
            .user_id = column_text(s, 2),
            .name = column_text(s, 3),
            .text = column_text(s, 4),
            .ts_ms = db_column_int64(s, 5),
            .role = column_text(s, 6),
        };
        fn(arg, &l);
    }
    db_reset(s);
    return rc == DB_DONE ? 0 : fail(cl, "room");
}

int chatlog_reserve(struct chatlog *cl, long long n, long long *last)
{
    struct db_stmt *s = cl->stmt[C_RESERVE];
    enum db_rc rc;

    assert(n > 0);
    db_bind_int64(s, 1, n);
    rc = db_step(s);
    if (rc == DB_ROW)
        *last = db_column_int64(s, 0);
    db_reset(s);
    return rc == DB_ROW ? 0 : fail(cl, "reserve ids");
}

long chatlog_retain(struct chatlog *cl, long long now_ms, long long keep_ms)
{
    db_bind_int64(cl->stmt[C_RETAIN], 1, now_ms - keep_ms);
    if (run(cl, cl->stmt[C_RETAIN], "retain") < 0)
        return -1;
    return (long)db_changes(cl->db);
}

const char *chatlog_error(struct chatlog *cl)
{
    return cl->err;
}
