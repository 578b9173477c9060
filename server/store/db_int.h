/*
 * db_int.h - what db.c shares with its two engines (db_sqlite.c,
 * db_pg.c): the connection and statement each engine extends, and the
 * operations each provides. Not for the store's modules: they use db.h.
 */
#ifndef VENUE_DB_INT_H
#define VENUE_DB_INT_H

#include "db.h"

enum db_type { DB_T_NULL, DB_T_INT, DB_T_DOUBLE, DB_T_TEXT };

/* One bound parameter; text owned (malloc'd) until the next bind or reset. */
struct db_value {
    enum db_type type;
    long long i;
    double d;
    char *text;
};

struct db_ops {
    int (*exec)(struct db *db, const char *sql);
    struct db_stmt *(*prepare)(struct db *db, const char *sql, int nparams);
    void (*finalize)(struct db_stmt *s);
    enum db_rc (*step)(struct db_stmt *s); /* binds s->params on a statement's first step */
    void (*reset)(struct db_stmt *s);
    const char *(*column_text)(struct db_stmt *s, int i);
    long long (*column_int64)(struct db_stmt *s, int i);
    double (*column_double)(struct db_stmt *s, int i);
    bool (*column_null)(struct db_stmt *s, int i);
    void (*patient)(struct db *db, bool patient);
    bool (*in_transaction)(const struct db *db);
    void (*close)(struct db *db);
};

/* The part of a connection db.c keeps; each engine's struct starts with it. */
struct db {
    const struct db_ops *ops;
    enum db_engine engine;
    enum db_failure failure; /* of the last statement: DB_FAIL_NONE after a success */
    long long changes;
    char err[256];
    void (*on_commit)(void *arg);
    void *commit_arg;
};

/* The part of a statement db.c keeps; each engine's struct starts with it. */
struct db_stmt {
    struct db *db;
    int nparams;
    struct db_value *params; /* nparams of them, 1-based as ?N: params[N - 1] */
    bool running;            /* stepped since the last reset */
    bool oom;                /* a text could not be copied when bound */
};

/* Record a failure (kind and words) on db: -1, for returning. */
int db_fail(struct db *db, enum db_failure kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A statement succeeded. */
void db_ok(struct db *db);
/* A commit reached the database: call the hook. */
void db_committed(struct db *db);

struct db *db_sqlite_open(const char *path, char *err, size_t errlen);
struct db *db_pg_open(const char *url, char *err, size_t errlen);

#endif
