/*
 * db_pg.c - the PostgreSQL engine of db.h, on libpq: ?N parameters sent
 * as $N, every statement bounded in time (see db.h), SQLSTATEs sorted
 * into db.h's failures, and a lost server tried again at most every 2 s.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_int.h"

/* Types PostgreSQL is told a parameter has (pg_type.h's OIDs): text and
 * null go untyped, so that the server infers them from where they stand. */
#define INT8_OID 20
#define FLOAT8_OID 701

#define RETRY_MS 2000

struct pg_db {
    struct db base;
    PGconn *conn;
    bool patient;
    bool lock_set;        /* lock_timeout is set for patient on this connection */
    bool txn;             /* a transaction was open when last heard from the server */
    long long retried_ms; /* monotonic ms of the last attempt to reconnect */
    char where[256];      /* the URL without its password, for messages */
};

struct pg_stmt {
    struct db_stmt base;
    char *sql; /* with $N for ?N */
    PGresult *res;
    int row; /* the current row of res; -1 before the first */
};

static struct pg_db *pg(struct db *db)
{
    return (struct pg_db *)db;
}

static struct pg_stmt *pst(struct db_stmt *s)
{
    return (struct pg_stmt *)s;
}

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq's message, on one line. */
static void one_line(char *out, size_t outlen, const char *msg)
{
    size_t n;
    snprintf(out, outlen, "%s", msg && *msg ? msg : "no reason given");
    n = strlen(out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    for (char *c = out; *c; c++)
        if (*c == '\n')
            *c = ' ';
}

/*
 * The URL as a message may show it: user@host:port/db, no password.
 * libpq has already parsed it; ask the connection rather than parse again.
 */
static void describe(struct pg_db *db)
{
    const char *user = PQuser(db->conn), *host = PQhost(db->conn), *port = PQport(db->conn);
    const char *name = PQdb(db->conn);
    snprintf(db->where, sizeof(db->where), "postgresql://%s@%s:%s/%s", user ? user : "",
             host ? host : "", port ? port : "", name ? name : "");
}

/* Which of db.h's failures a SQLSTATE is. */
static enum db_failure classify(const char *state)
{
    if (!state)
        return DB_FAIL_STORAGE; /* no answer from the server at all */
    if (strcmp(state, "55P03") == 0 || strcmp(state, "40001") == 0 ||
        strcmp(state, "40P01") == 0)
        return DB_FAIL_BUSY; /* lock_timeout, serialization, deadlock */
    if (strncmp(state, "23", 2) == 0)
        return DB_FAIL_CONFLICT;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
        strncmp(state, "57P0", 4) == 0 || strcmp(state, "25006") == 0 ||
        strncmp(state, "58", 2) == 0)
        return DB_FAIL_STORAGE; /* connection, resources, shutdown, read-only, I/O */
    return DB_FAIL_OTHER;
}

/* Record res's failure (or the connection's) on db: -1. */
static int fail(struct pg_db *db, const PGresult *res)
{
    char msg[200];
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    enum db_failure kind = PQstatus(db->conn) == CONNECTION_BAD ? DB_FAIL_STORAGE : classify(state);
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    one_line(msg, sizeof(msg), primary ? primary : PQerrorMessage(db->conn));
    return db_fail(&db->base, kind, "%s", msg);
}

/* Is res a success, for a statement or a script? */
static bool succeeded(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* Whether a transaction is open, as of the server's last answer. A lost
 * connection keeps what it was before. */
static void note_txn(struct pg_db *db)
{
    PGTransactionStatusType t = PQtransactionStatus(db->conn);
    if (PQstatus(db->conn) == CONNECTION_OK)
        db->txn = t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

/* Did a command of this status write (a COMMIT, or a change on its own)? */
static bool wrote(const char *status)
{
    static const char *const verbs[] = {"COMMIT", "INSERT", "UPDATE", "DELETE"};
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strncmp(status, verbs[i], strlen(verbs[i])) == 0)
            return true;
    return false;
}

/* A statement outside a transaction, or a COMMIT: it reached the server. */
static void note_success(struct pg_db *db, PGresult *res)
{
    const char *tuples = PQcmdTuples(res);
    db_ok(&db->base);
    db->base.changes = tuples && *tuples ? atoll(tuples) : 0;
    if (PQtransactionStatus(db->conn) == PQTRANS_IDLE && wrote(PQcmdStatus(res)))
        db_committed(&db->base);
}

/* The lock wait that suits the connection's patience, set on it once. */
static int set_lock_timeout(struct pg_db *db)
{
    PGresult *res;
    int rc = 0;
    if (db->lock_set)
        return 0;
    res = PQexec(db->conn, db->patient ? "SET lock_timeout = 2000" : "SET lock_timeout = 100");
    if (res && succeeded(res))
        db->lock_set = true;
    else
        rc = fail(db, res);
    PQclear(res);
    return rc;
}

/*
 * A connection worth sending a statement on: when the server was lost,
 * try again, at most every RETRY_MS; in between, fail at once, so that a
 * venue whose database is gone is not slowed by it. Never inside a
 * transaction: the server has forgotten it, and its first half with it.
 */
static int ready(struct pg_db *db)
{
    long long now;
    if (PQstatus(db->conn) == CONNECTION_OK)
        return set_lock_timeout(db);
    now = monotonic_ms();
    if (now - db->retried_ms < RETRY_MS)
        return db_fail(&db->base, DB_FAIL_STORAGE, "%s: the database server is not reachable",
                       db->where);
    db->retried_ms = now;
    PQreset(db->conn);
    db->lock_set = false;
    if (PQstatus(db->conn) != CONNECTION_OK)
        return fail(db, NULL);
    fprintf(stderr, "venued: database: connected again to %s\n", db->where);
    return set_lock_timeout(db);
}

/*
 * A transaction whose connection was lost is gone on the server: nothing
 * of it was written, and nothing more of it may be, or its second half
 * would be written alone on the next connection. Until the caller ends it
 * (COMMIT fails, ROLLBACK is what happened) every statement fails.
 */
static int lost_txn(struct pg_db *db, const char *sql)
{
    bool end = strcmp(sql, "COMMIT") == 0 || strcmp(sql, "ROLLBACK") == 0;
    if (!db->txn || PQstatus(db->conn) == CONNECTION_OK)
        return 0;
    if (end)
        db->txn = false;
    if (strcmp(sql, "ROLLBACK") == 0)
        return 1;
    return db_fail(&db->base, DB_FAIL_STORAGE,
                   "%s: the connection was lost inside a transaction; none of it was written",
                   db->where);
}

static int pg_exec(struct db *db, const char *sql)
{
    PGresult *res;
    int rc = lost_txn(pg(db), sql);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    if (ready(pg(db)) < 0)
        return -1;
    res = PQexec(pg(db)->conn, sql);
    note_txn(pg(db));
    if (!res || !succeeded(res))
        rc = fail(pg(db), res);
    else if (strcmp(sql, "COMMIT") == 0 && strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
        /* a transaction a statement had failed in: PostgreSQL rolls it back */
        rc = db->failure != DB_FAIL_NONE
                 ? -1
                 : db_fail(db, DB_FAIL_OTHER, "the transaction had failed and was rolled back");
    else
        note_success(pg(db), res);
    PQclear(res);
    return rc;
}

/* sql with each ?N as $N (a bare ? as the next), outside quotes. */
static char *dollars(const char *sql)
{
    size_t cap = strlen(sql) * 4 + 1, n = 0; /* "?" becomes at most "$NNN" */
    char *out = malloc(cap);
    char quote = 0;
    int next = 1;
    if (!out)
        return NULL;
    for (const char *s = sql; *s; s++) {
        if (quote) {
            quote = *s == quote ? 0 : quote;
        } else if (*s == '\'' || *s == '"') {
            quote = *s;
        } else if (*s == '?') {
            char *end;
            long k = strtol(s + 1, &end, 10);
            int w;
            if (end == s + 1)
                k = next;
            next = (int)k + 1;
            w = snprintf(out + n, cap - n, "$%ld", k);
            if (w < 0 || (size_t)w >= cap - n) {
                free(out);
                return NULL;
            }
            n += (size_t)w;
            s = end - 1;
            continue;
        }
        out[n++] = *s;
    }
    out[n] = '\0';
    return out;
}

static struct db_stmt *pg_prepare(struct db *db, const char *sql, int nparams)
{
    struct pg_stmt *s = calloc(1, sizeof(*s));
    (void)nparams;
    if (!s || !(s->sql = dollars(sql))) {
        free(s);
        db_fail(db, DB_FAIL_OTHER, "out of memory");
        return NULL;
    }
    s->row = -1;
    return &s->base;
}

static void pg_reset(struct db_stmt *s)
{
    PQclear(pst(s)->res);
    pst(s)->res = NULL;
    pst(s)->row = -1;
}

static void pg_finalize(struct db_stmt *s)
{
    pg_reset(s);
    free(pst(s)->sql);
    free(s);
}

/* Number parameters as text, the way PostgreSQL reads them back exactly. */
#define NUMBER_LEN 32

/* Send s with its parameters; s->res holds the answer. 0, or -1. */
static int run(struct db_stmt *s)
{
    struct pg_db *db = pg(s->db);
    int n = s->nparams;
    Oid types[n > 0 ? n : 1];
    const char *values[n > 0 ? n : 1];
    char numbers[n > 0 ? n : 1][NUMBER_LEN];

    if (lost_txn(db, pst(s)->sql) < 0 || ready(db) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        const struct db_value *v = &s->params[i];
        types[i] = 0;
        values[i] = NULL;
        switch (v->type) {
        case DB_T_NULL: break;
        case DB_T_TEXT: values[i] = v->text; break;
        case DB_T_INT:
            types[i] = INT8_OID;
            snprintf(numbers[i], NUMBER_LEN, "%lld", v->i);
            values[i] = numbers[i];
            break;
        case DB_T_DOUBLE:
            types[i] = FLOAT8_OID;
            snprintf(numbers[i], NUMBER_LEN, "%.17g", v->d);
            values[i] = numbers[i];
            break;
        }
    }
    pst(s)->res = PQexecParams(db->conn, pst(s)->sql, n, types, values, NULL, NULL, 0);
    note_txn(db);
    if (!pst(s)->res || !succeeded(pst(s)->res))
        return fail(db, pst(s)->res);
    note_success(db, pst(s)->res);
    return 0;
}

static enum db_rc pg_step(struct db_stmt *s)
{
    struct pg_stmt *p = pst(s);
    if (!p->res && run(s) < 0) {
        pg_reset(s);
        return DB_ERROR;
    }
    if (++p->row < PQntuples(p->res))
        return DB_ROW;
    return DB_DONE;
}

static const char *pg_column_text(struct db_stmt *s, int i)
{
    struct pg_stmt *p = pst(s);
    if (!p->res || p->row < 0 || p->row >= PQntuples(p->res) || i >= PQnfields(p->res) ||
        PQgetisnull(p->res, p->row, i))
        return NULL;
    return PQgetvalue(p->res, p->row, i);
}

static long long pg_column_int64(struct db_stmt *s, int i)
{
    const char *v = pg_column_text(s, i);
    if (!v)
        return 0;
    if (v[0] == 't' && v[1] == '\0') /* a boolean, as SQLite's 1 */
        return 1;
    return strtoll(v, NULL, 10);
}

static double pg_column_double(struct db_stmt *s, int i)
{
    const char *v = pg_column_text(s, i);
    return v ? strtod(v, NULL) : 0.0;
}

static bool pg_column_null(struct db_stmt *s, int i)
{
    return pg_column_text(s, i) == NULL;
}

static void pg_patient(struct db *db, bool patient)
{
    if (pg(db)->patient != patient)
        pg(db)->lock_set = false;
    pg(db)->patient = patient;
}

/* db->txn: a lost connection's transaction is still the caller's to end
 * (lost_txn), which PQtransactionStatus would no longer say. */
static bool pg_in_transaction(const struct db *db)
{
    return ((const struct pg_db *)db)->txn;
}

static void pg_close(struct db *db)
{
    PQfinish(pg(db)->conn);
    free(db);
}

static const struct db_ops pg_ops = {
    .exec = pg_exec,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .step = pg_step,
    .reset = pg_reset,
    .column_text = pg_column_text,
    .column_int64 = pg_column_int64,
    .column_double = pg_column_double,
    .column_null = pg_column_null,
    .patient = pg_patient,
    .in_transaction = pg_in_transaction,
    .close = pg_close,
};

/* libpq writes notices (an index that exists, say) to stderr: not ours to show. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

struct db *db_pg_open(const char *url, char *err, size_t errlen)
{
    static const char *const keys[] = {"dbname", "connect_timeout", "application_name",
                                       "options", NULL};
    const char *values[] = {url, "2", "venued", "-c statement_timeout=2000", NULL};
    struct pg_db *db = calloc(1, sizeof(*db));
    char msg[200];

    if (!db) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    db->base.ops = &pg_ops;
    db->base.engine = DB_POSTGRES;
    db->patient = true;
    /* expand_dbname: the URL in dbname is parsed; the keys after it win. */
    db->conn = PQconnectdbParams(keys, values, 1);
    if (!db->conn) {
        snprintf(err, errlen, "out of memory");
        free(db);
        return NULL;
    }
    describe(db);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        one_line(msg, sizeof(msg), PQerrorMessage(db->conn));
        snprintf(err, errlen, "%s: %s", db->where, msg);
        pg_close(&db->base);
        return NULL;
    }
    PQsetNoticeProcessor(db->conn, quiet, NULL);
    db->retried_ms = monotonic_ms();
    if (set_lock_timeout(db) < 0) {
        snprintf(err, errlen, "%s: %s", db->where, db->base.err);
        pg_close(&db->base);
        return NULL;
    }
    return &db->base;
}
