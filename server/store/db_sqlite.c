/*
 * db_sqlite.c - the SQLite engine of db.h: a file in WAL mode, a busy
 * handler that a patient connection waits in, and the WAL hook as the
 * proof that a commit reached the disk.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "db_int.h"

struct sq_db {
    struct db base;
    sqlite3 *conn;
    bool patient; /* wait for another connection's write lock */
};

struct sq_stmt {
    struct db_stmt base;
    sqlite3_stmt *stmt;
};

static struct sq_db *sq(struct db *db)
{
    return (struct sq_db *)db;
}

static sqlite3_stmt *stmt_of(struct db_stmt *s)
{
    return ((struct sq_stmt *)s)->stmt;
}

/* Record SQLite's last error on db: -1. */
static int fail(struct db *db)
{
    sqlite3 *conn = sq(db)->conn;
    int rc = sqlite3_errcode(conn) & 0xff;
    enum db_failure kind = DB_FAIL_OTHER;

    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        kind = DB_FAIL_BUSY;
    else if (rc == SQLITE_FULL || rc == SQLITE_IOERR || rc == SQLITE_READONLY)
        kind = DB_FAIL_STORAGE;
    else if (rc == SQLITE_CONSTRAINT)
        kind = DB_FAIL_CONFLICT;
    return db_fail(db, kind, "%s", sqlite3_errmsg(conn));
}

static int sq_exec(struct db *db, const char *sql)
{
    if (sqlite3_exec(sq(db)->conn, sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(db);
    db_ok(db);
    db->changes = sqlite3_changes64(sq(db)->conn);
    return 0;
}

static struct db_stmt *sq_prepare(struct db *db, const char *sql, int nparams)
{
    struct sq_stmt *s = calloc(1, sizeof(*s));
    if (!s) {
        db_fail(db, DB_FAIL_OTHER, "out of memory");
        return NULL;
    }
    if (sqlite3_prepare_v3(sq(db)->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt, NULL) !=
        SQLITE_OK) {
        fail(db);
        free(s);
        return NULL;
    }
    if (sqlite3_bind_parameter_count(s->stmt) != nparams) {
        db_fail(db, DB_FAIL_OTHER, "%d parameters where db.c counted %d: %s",
                sqlite3_bind_parameter_count(s->stmt), nparams, sql);
        sqlite3_finalize(s->stmt);
        free(s);
        return NULL;
    }
    return &s->base;
}

static void sq_finalize(struct db_stmt *s)
{
    sqlite3_finalize(stmt_of(s));
    free(s);
}

/* The values live in s->params until the reset: SQLite need not copy. */
static void bind_all(struct db_stmt *s)
{
    sqlite3_stmt *q = stmt_of(s);
    for (int i = 0; i < s->nparams; i++) {
        const struct db_value *v = &s->params[i];
        switch (v->type) {
        case DB_T_NULL: sqlite3_bind_null(q, i + 1); break;
        case DB_T_INT: sqlite3_bind_int64(q, i + 1, v->i); break;
        case DB_T_DOUBLE: sqlite3_bind_double(q, i + 1, v->d); break;
        case DB_T_TEXT: sqlite3_bind_text(q, i + 1, v->text, -1, SQLITE_STATIC); break;
        }
    }
}

static enum db_rc sq_step(struct db_stmt *s)
{
    int rc;
    if (!s->running)
        bind_all(s);
    rc = sqlite3_step(stmt_of(s));
    if (rc == SQLITE_ROW) {
        db_ok(s->db);
        return DB_ROW;
    }
    if (rc == SQLITE_DONE) {
        db_ok(s->db);
        s->db->changes = sqlite3_changes64(sq(s->db)->conn);
        return DB_DONE;
    }
    fail(s->db);
    return DB_ERROR;
}

static void sq_reset(struct db_stmt *s)
{
    sqlite3_reset(stmt_of(s));
    sqlite3_clear_bindings(stmt_of(s));
}

static const char *sq_column_text(struct db_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(stmt_of(s), i);
}

static long long sq_column_int64(struct db_stmt *s, int i)
{
    return sqlite3_column_int64(stmt_of(s), i);
}

static double sq_column_double(struct db_stmt *s, int i)
{
    return sqlite3_column_double(stmt_of(s), i);
}

static bool sq_column_null(struct db_stmt *s, int i)
{
    return sqlite3_column_type(stmt_of(s), i) == SQLITE_NULL;
}

static void sq_patient(struct db *db, bool patient)
{
    sq(db)->patient = patient;
}

static bool sq_in_transaction(const struct db *db)
{
    return !sqlite3_get_autocommit(((const struct sq_db *)db)->conn);
}

static void sq_close(struct db *db)
{
    sqlite3_close(sq(db)->conn);
    free(db);
}

static const struct db_ops sq_ops = {
    .exec = sq_exec,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .step = sq_step,
    .reset = sq_reset,
    .column_text = sq_column_text,
    .column_int64 = sq_column_int64,
    .column_double = sq_column_double,
    .column_null = sq_column_null,
    .patient = sq_patient,
    .in_transaction = sq_in_transaction,
    .close = sq_close,
};

/*
 * Another connection holds the write lock (the server's, for a CLI): look
 * again every 0.1 ms, for up to 2 s. SQLite's own busy timeout sleeps 1,
 * 2, 5 ... 100 ms between looks, several times the length of the short
 * steps every writer takes. An impatient connection (a serving venue's)
 * never waits: the statement fails at once with SQLITE_BUSY.
 */
static int busy_wait(void *arg, int count)
{
    const struct timespec tenth = {0, 100000};
    const struct sq_db *db = arg;
    if (!db->patient || count >= 20000)
        return 0;
    nanosleep(&tenth, NULL);
    return 1;
}

/*
 * SQLite calls this after each commit has reached the WAL. Installing it
 * replaces SQLite's own checkpointing hook, so it checkpoints at SQLite's
 * default of 1000 pages as that did.
 */
static int committed(void *arg, sqlite3 *conn, const char *name, int pages)
{
    db_committed(arg);
    if (pages >= 1000)
        sqlite3_wal_checkpoint_v2(conn, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

struct db *db_sqlite_open(const char *path, char *err, size_t errlen)
{
    struct sq_db *db = calloc(1, sizeof(*db));
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    db->base.ops = &sq_ops;
    db->base.engine = DB_SQLITE;
    if (sqlite3_open_v2(path, &db->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db->conn ? sqlite3_errmsg(db->conn) : "cannot open");
        sq_close(&db->base);
        return NULL;
    }
    db->patient = true;
    sqlite3_busy_handler(db->conn, busy_wait, db);
    sqlite3_wal_hook(db->conn, committed, db);
    return &db->base;
}
