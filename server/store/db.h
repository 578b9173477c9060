/*
 * db.h - one SQL connection, to SQLite or to PostgreSQL, behind one small
 * interface shaped like SQLite's own (prepare, bind, step, column), so
 * that the store's modules are written once for both engines.
 *
 * SQL is written in the dialect both engines share: ?N parameters (sent
 * to PostgreSQL as $N), ON CONFLICT upserts, RETURNING, CAST, CASE. The
 * few places where the engines differ are chosen by the caller with
 * db_sql. Schemas are written for SQLite; db_schema rewrites their column
 * types for PostgreSQL (INTEGER is 64 bits, REAL double, INTEGER PRIMARY
 * KEY an identity), so a table is declared once.
 *
 * A PostgreSQL connection is synchronous and bounded rather than
 * asynchronous: every statement is short (the venue batches what is
 * frequent), the database is on the same network, and each wait is capped
 * (connect 2 s, a statement 2 s, another's lock 100 ms for an impatient
 * connection); a lost connection is tried again at most once every 2 s,
 * and statements fail at once in between, as a full disk does for SQLite.
 *
 * The db owns its statements' memory; db_close finalizes what is left.
 * Text a column returns is valid until the statement's next step or reset.
 */
#ifndef VENUE_DB_H
#define VENUE_DB_H

#include <stdbool.h>
#include <stddef.h>

enum db_engine { DB_SQLITE, DB_POSTGRES };

/* What a step or statement came to. */
enum db_rc { DB_ERROR = -1, DB_DONE = 0, DB_ROW = 1 };

/* Why the last statement failed, as far as callers act on it. */
enum db_failure {
    DB_FAIL_NONE,     /* it did not */
    DB_FAIL_BUSY,     /* another connection's lock: worth trying again shortly */
    DB_FAIL_STORAGE,  /* the disk (full, I/O, read-only) or the server (gone, down) */
    DB_FAIL_CONFLICT, /* a constraint: a duplicate key, a missing reference */
    DB_FAIL_OTHER,
};

struct db;
struct db_stmt;

/* Is where a PostgreSQL URL (postgresql:// or postgres://)? */
bool db_is_url(const char *where);
/* Is where an SQLite file by its name (it ends in .db)? */
bool db_is_file(const char *where);

/*
 * Open an SQLite file (created if missing) or connect to a PostgreSQL
 * URL. NULL with a reason in err; for PostgreSQL the URL's password is
 * never part of it.
 */
struct db *db_open(const char *where, char *err, size_t errlen);
void db_close(struct db *db);
enum db_engine db_engine(const struct db *db);

/* Pick the text for db's engine: where the dialects differ. */
const char *db_sql(const struct db *db, const char *sqlite, const char *postgres);

/* Run a script of statements without parameters. 0, or -1. */
int db_exec(struct db *db, const char *sql);
/* Run a schema script (CREATE TABLE/INDEX ... IF NOT EXISTS), with its
 * types rewritten for PostgreSQL. 0, or -1. */
int db_schema(struct db *db, const char *sql);

/* Transactions: begin takes the write lock at once on SQLite (so that a
 * writer waits at BEGIN rather than fails halfway). Savepoints nest inside. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);
int db_savepoint(struct db *db, const char *name);
int db_release(struct db *db, const char *name);
void db_rollback_to(struct db *db, const char *name);
/* Is a transaction open (begun, not yet committed or rolled back)? A
 * caller's own or another module's: inside one, a module nests with a
 * savepoint rather than a BEGIN. On PostgreSQL as of the server's last
 * answer: one whose connection was lost stays open until it is ended. */
bool db_in_transaction(const struct db *db);

/* Prepare one statement: NULL with db_error saying why. */
struct db_stmt *db_prepare(struct db *db, const char *sql);
void db_finalize(struct db_stmt *s);

/* Parameters, 1-based. Text is copied when bound; NULL text binds null. */
void db_bind_text(struct db_stmt *s, int i, const char *text);
void db_bind_int64(struct db_stmt *s, int i, long long v);
void db_bind_double(struct db_stmt *s, int i, double v);
void db_bind_null(struct db_stmt *s, int i);

/* The next row (DB_ROW), the end (DB_DONE), or DB_ERROR. */
enum db_rc db_step(struct db_stmt *s);
/* Ready to run again; bindings cleared. */
void db_reset(struct db_stmt *s);
/* Step once and reset: for statements that return no row. 0, or -1. */
int db_run(struct db_stmt *s);

/* Columns of the current row, 0-based. Null text is NULL; null numbers 0. */
const char *db_column_text(struct db_stmt *s, int i);
long long db_column_int64(struct db_stmt *s, int i);
double db_column_double(struct db_stmt *s, int i);
bool db_column_null(struct db_stmt *s, int i);

/* Rows the last INSERT, UPDATE or DELETE changed. */
long long db_changes(struct db *db);

/* The last failure: its kind, and words for a log line or a reply. */
enum db_failure db_failure(const struct db *db);
const char *db_error(const struct db *db);

/*
 * Called after each commit that reached the database (a statement outside
 * a transaction counts): proof that writes work again. One hook a db.
 */
void db_on_commit(struct db *db, void (*fn)(void *arg), void *arg);

/* How long a statement waits for another connection's lock: patient
 * (a command-line tool: up to 2 s) or not (a serving venue: SQLite not at
 * all, PostgreSQL 100 ms). */
void db_patient(struct db *db, bool patient);

#endif
