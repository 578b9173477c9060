/*
 * twins.c - twin values on the store's database (db.h): one row per
 * attribute for the latest value, and a history table trimmed per
 * attribute on every write.
 */
#include "twins.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

enum stmt { T_LATEST_PUT, T_HISTORY_ADD, T_HISTORY_TRIM, T_LATEST_ALL, T_HISTORY, T_COUNT };

#define VALUE_COLS "entity, etype, attr, kind, num, text, unit, observed_ms, received_ms, source"

static const char *const stmt_sql[T_COUNT] = {
    [T_LATEST_PUT] = "INSERT INTO twin_latest(" VALUE_COLS ") "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                     "ON CONFLICT(entity, attr) DO UPDATE SET etype = ?2, kind = ?4, num = ?5, "
                     "text = ?6, unit = ?7, observed_ms = ?8, received_ms = ?9, source = ?10",
    [T_HISTORY_ADD] = "INSERT INTO twin_history(" VALUE_COLS ") "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    /* Everything older than the history_max newest of this attribute. */
    [T_HISTORY_TRIM] = "DELETE FROM twin_history WHERE entity = ?1 AND attr = ?2 AND seq <= "
                       "(SELECT seq FROM twin_history WHERE entity = ?1 AND attr = ?2 "
                       "ORDER BY seq DESC LIMIT 1 OFFSET ?3)",
    [T_LATEST_ALL] = NULL, /* latest_all: the engine's words for byte order */
    [T_HISTORY] = "SELECT " VALUE_COLS " FROM (SELECT seq, " VALUE_COLS
                  " FROM twin_history WHERE entity = ?1 AND (CAST(?2 AS TEXT) IS NULL OR "
                  "attr = ?2) ORDER BY seq DESC LIMIT ?3) h ORDER BY seq",
};

/* By entity then attribute in byte order, as SQLite compares text; on
 * PostgreSQL whatever the database's collation. */
static const char latest_all_sqlite[] =
    "SELECT " VALUE_COLS " FROM twin_latest ORDER BY entity, attr";
static const char latest_all_pg[] =
    "SELECT " VALUE_COLS " FROM twin_latest ORDER BY entity COLLATE \"C\", attr COLLATE \"C\"";

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS twin_latest("
    "  entity TEXT NOT NULL, etype TEXT NOT NULL, attr TEXT NOT NULL, kind INTEGER NOT NULL,"
    "  num REAL, text TEXT, unit TEXT NOT NULL, observed_ms INTEGER NOT NULL,"
    "  received_ms INTEGER NOT NULL, source TEXT NOT NULL, PRIMARY KEY(entity, attr));"
    "CREATE TABLE IF NOT EXISTS twin_history("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  entity TEXT NOT NULL, etype TEXT NOT NULL, attr TEXT NOT NULL, kind INTEGER NOT NULL,"
    "  num REAL, text TEXT, unit TEXT NOT NULL, observed_ms INTEGER NOT NULL,"
    "  received_ms INTEGER NOT NULL, source TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS twin_history_attr ON twin_history(entity, attr, seq);";

struct twins {
    struct db *db;                 /* borrowed from the store */
    struct store *st;              /* borrowed: told of a failed statement */
    struct db_stmt *stmt[T_COUNT]; /* owned */
    int history_max;
    char err[256];
};

static int fail(struct twins *t, const char *what)
{
    snprintf(t->err, sizeof(t->err), "twins: %s: %s", what, db_error(t->db));
    store_failed(t->st);
    return -1;
}

struct twins *twins_open(struct store *st, int history_max, char *err, size_t errlen)
{
    struct twins *t;
    if (history_max < 1 || history_max > 100000) {
        snprintf(err, errlen, "twins: history: %d is out of range 1..100000", history_max);
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "twins: out of memory");
        return NULL;
    }
    t->db = store_db(st);
    t->st = st;
    t->history_max = history_max;
    if (db_schema(t->db, schema) < 0) {
        snprintf(err, errlen, "twins: schema: %s", db_error(t->db));
        twins_close(t);
        return NULL;
    }
    for (int i = 0; i < T_COUNT; i++) {
        const char *sql =
            i == T_LATEST_ALL ? db_sql(t->db, latest_all_sqlite, latest_all_pg) : stmt_sql[i];
        if (!(t->stmt[i] = db_prepare(t->db, sql))) {
            snprintf(err, errlen, "twins: prepare: %s", db_error(t->db));
            twins_close(t);
            return NULL;
        }
    }
    return t;
}

void twins_close(struct twins *t)
{
    if (!t)
        return;
    for (int i = 0; i < T_COUNT; i++)
        db_finalize(t->stmt[i]);
    free(t);
}

static void bind_value(struct db_stmt *s, const struct twin_value *v)
{
    db_bind_text(s, 1, v->entity);
    db_bind_text(s, 2, v->etype ? v->etype : "");
    db_bind_text(s, 3, v->attr);
    db_bind_int64(s, 4, (int)v->kind);
    if (v->kind == TWIN_NUMBER || v->kind == TWIN_BOOL)
        db_bind_double(s, 5, v->num);
    else
        db_bind_null(s, 5);
    if (v->text && (v->kind == TWIN_STRING || v->kind == TWIN_JSON))
        db_bind_text(s, 6, v->text);
    else
        db_bind_null(s, 6);
    db_bind_text(s, 7, v->unit ? v->unit : "");
    db_bind_int64(s, 8, v->observed_ms);
    db_bind_int64(s, 9, v->received_ms);
    db_bind_text(s, 10, v->source ? v->source : "");
}

/* Run s to completion and reset it. 0, or -1 with the reason kept. */
static int run(struct twins *t, struct db_stmt *s, const char *what)
{
    return db_run(s) == 0 ? 0 : fail(t, what);
}

static int put_history(struct twins *t, const struct twin_value *v)
{
    bind_value(t->stmt[T_HISTORY_ADD], v);
    return run(t, t->stmt[T_HISTORY_ADD], "history");
}

/* v becomes its attribute's latest value, and the attribute's history is
 * trimmed to history_max. */
static int put_latest(struct twins *t, const struct twin_value *v)
{
    struct db_stmt *trim = t->stmt[T_HISTORY_TRIM];
    bind_value(t->stmt[T_LATEST_PUT], v);
    if (run(t, t->stmt[T_LATEST_PUT], "latest") < 0)
        return -1;
    db_bind_text(trim, 1, v->entity);
    db_bind_text(trim, 2, v->attr);
    db_bind_int64(trim, 3, t->history_max);
    return run(t, trim, "trim");
}

static uint64_t key_hash(const struct twin_value *v)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over entity, NUL, attr */
    for (const char *c = v->entity; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    h *= 1099511628211ULL;
    for (const char *c = v->attr; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    return h;
}

/*
 * newest[i] is set when v[i] is the batch's last value of its attribute: a
 * busy feed sends the same attributes many times between two flushes, and
 * only the last of them becomes the latest row and trims the history. One
 * pass from the end with an open-addressed set of the attributes seen.
 * 0, or -1 out of memory.
 */
static int mark_newest(const struct twin_value *v, size_t n, bool *newest)
{
    size_t cap = 16, *slots;
    while (cap < 2 * n)
        cap *= 2;
    slots = malloc(cap * sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < cap; i++)
        slots[i] = SIZE_MAX;
    for (size_t i = n; i-- > 0;) {
        size_t at = (size_t)key_hash(&v[i]) & (cap - 1);
        newest[i] = true;
        for (; slots[at] != SIZE_MAX; at = (at + 1) & (cap - 1)) {
            const struct twin_value *seen = &v[slots[at]];
            if (strcmp(seen->entity, v[i].entity) == 0 && strcmp(seen->attr, v[i].attr) == 0) {
                newest[i] = false;
                break;
            }
        }
        if (newest[i])
            slots[at] = i;
    }
    free(slots);
    return 0;
}

int twins_put(struct twins *t, const struct twin_value *v, size_t n)
{
    bool *newest;
    int rc = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!v[i].entity || !v[i].attr) {
            snprintf(t->err, sizeof(t->err), "twins: value %zu has no entity or attribute", i);
            return -1;
        }
    newest = malloc(n * sizeof(*newest));
    if (!newest || mark_newest(v, n, newest) < 0) {
        free(newest);
        snprintf(t->err, sizeof(t->err), "twins: out of memory");
        return -1;
    }
    /* On SQLite another process writing (venued user ...) makes us wait at
     * BEGIN rather than fail halfway. */
    if (db_begin(t->db) < 0) {
        free(newest);
        return fail(t, "begin");
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = put_history(t, &v[i]);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (newest[i])
            rc = put_latest(t, &v[i]);
    free(newest);
    if (rc == 0 && db_commit(t->db) < 0)
        rc = fail(t, "commit");
    if (rc < 0)
        db_rollback(t->db);
    return rc;
}

static const char *column_text(struct db_stmt *s, int i)
{
    const char *text = db_column_text(s, i);
    return text ? text : "";
}

/* Each row of s (reset afterwards) as a twin_value to fn. */
static int each_row(struct twins *t, struct db_stmt *s, const char *what,
                    void (*fn)(void *arg, const struct twin_value *v), void *arg)
{
    enum db_rc rc;
    while ((rc = db_step(s)) == DB_ROW) {
        struct twin_value v = {
            .entity = column_text(s, 0),
            .etype = column_text(s, 1),
            .attr = column_text(s, 2),
            .kind = (enum twin_kind)db_column_int64(s, 3),
            .num = db_column_double(s, 4),
            .text = db_column_null(s, 5) ? NULL : column_text(s, 5),
            .unit = column_text(s, 6),
            .observed_ms = db_column_int64(s, 7),
            .received_ms = db_column_int64(s, 8),
            .source = column_text(s, 9),
        };
        fn(arg, &v);
    }
    db_reset(s);
    return rc == DB_DONE ? 0 : fail(t, what);
}

int twins_latest_each(struct twins *t, void (*fn)(void *arg, const struct twin_value *v), void *arg)
{
    return each_row(t, t->stmt[T_LATEST_ALL], "latest", fn, arg);
}

int twins_history_each(struct twins *t, const char *entity, const char *attr, size_t max,
                       void (*fn)(void *arg, const struct twin_value *v), void *arg)
{
    struct db_stmt *s = t->stmt[T_HISTORY];
    db_bind_text(s, 1, entity);
    db_bind_text(s, 2, attr); /* NULL: every attribute */
    db_bind_int64(s, 3, (long long)(max > 1000000 ? 1000000 : max));
    return each_row(t, s, "history", fn, arg);
}

const char *twins_error(struct twins *t)
{
    return t->err;
}
