/*
 * store.c - the venue's tables on SQLite or PostgreSQL (db.h): schema,
 * prepared statements, batches, and the database's health.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "db.h"
#include "text.h"

enum stmt {
    ST_ROOM_PUT,
    ST_ROOMS_ALL,
    ST_USER_PUT,
    ST_POSE_PUT,
    ST_POSE_GET,
    ST_SESSION_PUT,
    ST_SESSIONS_ALL,
    ST_SESSIONS_FORGET,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_ROOM_PUT] = "INSERT INTO rooms(id, name, capacity) VALUES(?1, ?2, ?3) "
                    "ON CONFLICT(id) DO UPDATE SET name = ?2, capacity = ?3",
    [ST_ROOMS_ALL] = "SELECT id FROM rooms ORDER BY id",
    [ST_USER_PUT] = "INSERT INTO users(id, name, role, created_ms, last_seen_ms) "
                    "VALUES(?1, ?2, ?3, ?4, ?4) "
                    "ON CONFLICT(id) DO UPDATE SET name = ?2, last_seen_ms = ?4",
    [ST_POSE_PUT] = "INSERT INTO last_poses(user_id, room_id, px, py, pz, qx, qy, qz, qw, "
                    "updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                    "ON CONFLICT(user_id, room_id) DO UPDATE SET px = ?3, py = ?4, pz = ?5, "
                    "qx = ?6, qy = ?7, qz = ?8, qw = ?9, updated_ms = ?10",
    [ST_POSE_GET] = "SELECT px, py, pz, qx, qy, qz, qw FROM last_poses "
                    "WHERE user_id = ?1 AND room_id = ?2",
    [ST_SESSION_PUT] = "INSERT INTO saved_sessions(id, resume_hash, user_id, name, role, room_id, "
                       "px, py, pz, qx, qy, qz, qw, findable, accepts_dms, away, hand_at, node) "
                       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                       "?16, ?17, ?18)",
    [ST_SESSIONS_ALL] = "SELECT id, resume_hash, user_id, name, role, room_id, "
                        "px, py, pz, qx, qy, qz, qw, findable, accepts_dms, away, hand_at "
                        "FROM saved_sessions WHERE node = ?1 ORDER BY id",
    [ST_SESSIONS_FORGET] = "DELETE FROM saved_sessions WHERE node = ?1",
};

static const char sqlite_pragmas[] = "PRAGMA journal_mode = WAL;"
                                     "PRAGMA synchronous = NORMAL;"
                                     "PRAGMA foreign_keys = ON;";

/* Saved sessions are a node's own: nodes sharing a database each keep theirs. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS rooms("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, capacity INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS users("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, org TEXT NOT NULL DEFAULT '',"
    "  role TEXT NOT NULL, registered INTEGER NOT NULL DEFAULT 0,"
    "  revoked INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,"
    "  findable INTEGER NOT NULL DEFAULT 1, accepts_dms INTEGER NOT NULL DEFAULT 1);"
    "CREATE INDEX IF NOT EXISTS users_seen ON users(registered, last_seen_ms);"
    "CREATE TABLE IF NOT EXISTS last_poses("
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  room_id TEXT NOT NULL,"
    "  px REAL, py REAL, pz REAL, qx REAL, qy REAL, qz REAL, qw REAL,"
    "  updated_ms INTEGER NOT NULL, PRIMARY KEY(user_id, room_id));"
    "CREATE INDEX IF NOT EXISTS last_poses_updated ON last_poses(updated_ms);"
    "CREATE TABLE IF NOT EXISTS saved_sessions("
    "  id TEXT PRIMARY KEY, resume_hash TEXT NOT NULL, user_id TEXT NOT NULL,"
    "  name TEXT NOT NULL, role TEXT NOT NULL, room_id TEXT,"
    "  px REAL, py REAL, pz REAL, qx REAL, qy REAL, qz REAL, qw REAL,"
    "  findable INTEGER NOT NULL DEFAULT 1, accepts_dms INTEGER NOT NULL DEFAULT 1,"
    "  away INTEGER NOT NULL DEFAULT 0, hand_at INTEGER NOT NULL DEFAULT 0,"
    "  node TEXT NOT NULL DEFAULT '');";

/*
 * Columns added since the first release of a table: a database made before
 * gets them before the schema runs (its indexes may use them). New columns
 * go here as well as in the schema above.
 */
static const struct {
    const char *table, *column, *ddl;
} added_columns[] = {
    {"users", "org", "ALTER TABLE users ADD COLUMN org TEXT NOT NULL DEFAULT ''"},
    {"users", "registered", "ALTER TABLE users ADD COLUMN registered INTEGER NOT NULL DEFAULT 0"},
    {"users", "revoked", "ALTER TABLE users ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0"},
    {"users", "findable", "ALTER TABLE users ADD COLUMN findable INTEGER NOT NULL DEFAULT 1"},
    {"users", "accepts_dms", "ALTER TABLE users ADD COLUMN accepts_dms INTEGER NOT NULL DEFAULT 1"},
    {"saved_sessions", "away",
     "ALTER TABLE saved_sessions ADD COLUMN away INTEGER NOT NULL DEFAULT 0"},
    {"saved_sessions", "hand_at",
     "ALTER TABLE saved_sessions ADD COLUMN hand_at INTEGER NOT NULL DEFAULT 0"},
    {"saved_sessions", "node",
     "ALTER TABLE saved_sessions ADD COLUMN node TEXT NOT NULL DEFAULT ''"},
};

struct store {
    struct db *db;
    struct db_stmt *stmt[ST_COUNT]; /* prepared once, reset after each use */
    char node[64];                  /* whose saved sessions are ours: "" alone */
    char err[256];
    struct store_health health;
    bool locked; /* the last failed statement met another's lock */
};

static int fail(struct store *st, const char *what)
{
    snprintf(st->err, sizeof(st->err), "%s: %s", what, db_error(st->db));
    store_failed(st);
    return -1;
}

const struct store_health *store_health(const struct store *st)
{
    return &st->health;
}

void store_failed(struct store *st)
{
    struct store_health *h = &st->health;
    enum db_failure why = db_failure(st->db);

    st->locked = why == DB_FAIL_BUSY;
    if (why != DB_FAIL_STORAGE)
        return;
    h->failures++;
    if (h->failing)
        return;
    h->failing = true;
    h->since = (long long)time(NULL);
    /* It goes into JSON and a log line as it is. */
    text_printable(h->reason, sizeof(h->reason), db_error(st->db));
    fprintf(stderr,
            "venued: database: %s: writes fail until it is back; tokens are still "
            "accepted, and what fails to be written is said where it is asked for\n",
            h->reason);
}

/* A commit reached the database: proof that writes work (again). */
static void committed(void *arg)
{
    struct store_health *h = &((struct store *)arg)->health;

    if (!h->failing)
        return;
    fprintf(stderr, "venued: database: writes work again (%llu failed since start)\n", h->failures);
    h->failing = false;
    h->since = 0;
    h->reason[0] = '\0';
}

/* The one integer sql returns (bound to text a and b where given), or -1. */
static long long query_int(struct db *db, const char *sql, const char *a, const char *b)
{
    struct db_stmt *q = db_prepare(db, sql);
    long long v = -1;
    if (!q)
        return -1;
    if (a)
        db_bind_text(q, 1, a);
    if (b)
        db_bind_text(q, 2, b);
    switch (db_step(q)) {
    case DB_ROW:
        v = db_column_int64(q, 0);
        break;
    case DB_DONE:
        v = 0;
        break;
    case DB_ERROR:
        break;
    }
    db_finalize(q);
    return v;
}

/* 1 if table has column, 0 if not (or there is no such table), -1 on error. */
static int has_column(struct db *db, const char *table, const char *column)
{
    return (int)query_int(db,
                          db_sql(db, "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
                                 "SELECT count(*) FROM information_schema.columns "
                                 "WHERE table_schema = current_schema() AND table_name = ?1 "
                                 "AND column_name = ?2"),
                          table, column);
}

/* Bring a database made by an older venued up to the current columns. */
static int upgrade(struct db *db)
{
    for (size_t i = 0; i < sizeof(added_columns) / sizeof(added_columns[0]); i++) {
        int exists = has_column(db, added_columns[i].table, "id");
        int has = exists > 0 ? has_column(db, added_columns[i].table, added_columns[i].column) : 1;
        if (exists < 0 || has < 0)
            return -1;
        if (!has && db_schema(db, added_columns[i].ddl) < 0)
            return -1;
    }
    return 0;
}

struct db *store_db(struct store *st)
{
    return st->db;
}

const char *store_error(struct store *st)
{
    return st->err;
}

/* PRAGMA application_id of a venued database: "VENU". */
#define STORE_APP_ID 0x56454E55

/*
 * Is the database ours? A new one (no tables) becomes ours; one made by an
 * older venued (its tables, no id) gets the id; anything else is another
 * program's, and writing our tables into it would hide that a venue's
 * data is gone. PostgreSQL has no application id: there a database with
 * tables but none of ours is another program's. 0, or -1 with the reason
 * in err.
 */
static int claim(struct db *db, const char *where, char *err, size_t errlen)
{
    bool pg = db_engine(db) == DB_POSTGRES;
    long long id = pg ? 0 : query_int(db, "PRAGMA application_id", NULL, NULL);
    long long tables =
        query_int(db,
                  db_sql(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                         "SELECT count(*) FROM information_schema.tables "
                         "WHERE table_schema = current_schema()"),
                  NULL, NULL);
    long long ours = query_int(db,
                               db_sql(db,
                                      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                      "name IN ('users', 'rooms', 'last_poses')",
                                      "SELECT count(*) FROM information_schema.tables "
                                      "WHERE table_schema = current_schema() AND "
                                      "table_name IN ('users', 'rooms', 'last_poses')"),
                               NULL, NULL);
    char set[64];

    if (id < 0 || tables < 0 || ours < 0) {
        snprintf(err, errlen, "%s: %s", where, db_error(db));
        return -1;
    }
    if (id == STORE_APP_ID || (pg && (tables == 0 || ours > 0)))
        return 0;
    if (pg) {
        snprintf(err, errlen,
                 "%s: a database with %lld tables of another program and none of venued's: "
                 "give venued a database of its own",
                 where, tables);
        return -1;
    }
    if (id != 0 || (tables > 0 && ours == 0)) {
        snprintf(err, errlen,
                 "%s: an SQLite database, but not venued's (application_id %lld, %lld tables of "
                 "another program): point --data at the venue's own folder",
                 where, id, tables);
        return -1;
    }
    snprintf(set, sizeof(set), "PRAGMA application_id = %d", STORE_APP_ID);
    if (db_exec(db, set) < 0) {
        snprintf(err, errlen, "%s: %s", where, db_error(db));
        return -1;
    }
    return 0;
}

/*
 * Where the database is: a PostgreSQL URL or an SQLite file as it is, or
 * DIR/venue.db. A file must not be empty: SQLite would take it for a new
 * database, and every registration and ban would be silently gone. 0, or
 * -1 with err.
 */
static int locate(const char *where, char *path, size_t pathlen, char *err, size_t errlen)
{
    struct stat sb;
    int n = db_is_url(where) || db_is_file(where) ? snprintf(path, pathlen, "%s", where)
                                                  : snprintf(path, pathlen, "%s/venue.db", where);
    if (n < 0 || (size_t)n >= pathlen) {
        snprintf(err, errlen, "%.64s...: the database's name is too long", where);
        return -1;
    }
    if (!db_is_url(where) && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0) {
        snprintf(err, errlen,
                 "%s is empty (0 bytes): it held this venue's registrations, bans and settings. "
                 "Restore it from a backup; to start an empty venue instead, delete the file",
                 path);
        return -1;
    }
    return 0;
}

struct store *store_open(const char *where, char *err, size_t errlen)
{
    char path[1024];
    struct store *st;

    if (locate(where, path, sizeof(path), err, errlen) < 0)
        return NULL;
    if (!(st = calloc(1, sizeof(*st)))) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!(st->db = db_open(path, err, errlen))) {
        free(st);
        return NULL;
    }
    db_on_commit(st->db, committed, st);
    /* A URL's password stays out of every message from here on. */
    if (db_is_url(where))
        snprintf(path, sizeof(path), "the database");
    if (claim(st->db, path, err, errlen) < 0) {
        store_close(st);
        return NULL;
    }
    if ((db_engine(st->db) == DB_SQLITE && db_exec(st->db, sqlite_pragmas) < 0) ||
        upgrade(st->db) < 0 || db_schema(st->db, schema) < 0) {
        snprintf(err, errlen, "%s: schema: %s", path, db_error(st->db));
        store_close(st);
        return NULL;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (!(st->stmt[i] = db_prepare(st->db, stmt_sql[i]))) {
            snprintf(err, errlen, "%s: prepare: %s", path, db_error(st->db));
            store_close(st);
            return NULL;
        }
    }
    return st;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        db_finalize(st->stmt[i]);
    db_close(st->db);
    free(st);
}

void store_set_node(struct store *st, const char *node)
{
    snprintf(st->node, sizeof(st->node), "%s", node ? node : "");
}

void store_patient(struct store *st, bool patient)
{
    db_patient(st->db, patient);
}

bool store_locked(const struct store *st)
{
    return st->locked;
}

int store_probe(struct store *st)
{
    /* PostgreSQL has no lock on the whole database for another to hold. */
    if (db_engine(st->db) == DB_POSTGRES)
        return 0;
    if (db_begin(st->db) < 0) {
        if (db_failure(st->db) == DB_FAIL_BUSY)
            return 1;
        return fail(st, "begin");
    }
    return db_commit(st->db) == 0 ? 0 : fail(st, "commit");
}

/* Run a bound statement that returns no rows, and reset it. */
static int step_done(struct store *st, struct db_stmt *s, const char *what)
{
    return db_run(s) == 0 ? 0 : fail(st, what);
}

static int exec(struct store *st, const char *sql)
{
    return db_exec(st->db, sql) == 0 ? 0 : fail(st, sql);
}

int store_room_put(struct store *st, const char *id, const char *name, int capacity)
{
    struct db_stmt *s = st->stmt[ST_ROOM_PUT];
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, name);
    db_bind_int64(s, 3, capacity);
    return step_done(st, s, "rooms");
}

int store_rooms_each(struct store *st, void (*fn)(void *arg, const char *id), void *arg)
{
    struct db_stmt *s = st->stmt[ST_ROOMS_ALL];
    enum db_rc rc;
    while ((rc = db_step(s)) == DB_ROW)
        fn(arg, db_column_text(s, 0));
    db_reset(s);
    return rc == DB_DONE ? 0 : fail(st, "rooms");
}

int store_user_put(struct store *st, const char *id, const char *name, const char *role,
                   long long now_ms)
{
    struct db_stmt *s = st->stmt[ST_USER_PUT];
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, name);
    db_bind_text(s, 3, role);
    db_bind_int64(s, 4, now_ms);
    return step_done(st, s, "users");
}

static void bind_pose(struct db_stmt *s, int first, const float p[3], const float q[4])
{
    for (int i = 0; i < 3; i++)
        db_bind_double(s, first + i, p[i]);
    for (int i = 0; i < 4; i++)
        db_bind_double(s, first + 3 + i, q[i]);
}

static void column_pose(struct db_stmt *s, int first, float p[3], float q[4])
{
    for (int i = 0; i < 3; i++)
        p[i] = (float)db_column_double(s, first + i);
    for (int i = 0; i < 4; i++)
        q[i] = (float)db_column_double(s, first + 3 + i);
}

int store_poses_put(struct store *st, const struct store_pose *poses, size_t n, long long now_ms)
{
    struct db_stmt *s = st->stmt[ST_POSE_PUT];
    if (exec(st, "BEGIN") < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        db_bind_text(s, 1, poses[i].user_id);
        db_bind_text(s, 2, poses[i].room_id);
        bind_pose(s, 3, poses[i].p, poses[i].q);
        db_bind_int64(s, 10, now_ms);
        if (step_done(st, s, "last_poses") < 0) {
            db_rollback(st->db);
            return -1;
        }
    }
    return exec(st, "COMMIT");
}

int store_pose_get(struct store *st, const char *user_id, const char *room_id, float p[3],
                   float q[4])
{
    struct db_stmt *s = st->stmt[ST_POSE_GET];
    enum db_rc rc;
    db_bind_text(s, 1, user_id);
    db_bind_text(s, 2, room_id);
    if ((rc = db_step(s)) == DB_ROW)
        column_pose(s, 0, p, q);
    db_reset(s);
    return rc == DB_ERROR ? fail(st, "last_poses") : rc == DB_ROW;
}

int store_sessions_save(struct store *st, const struct store_session *ss, size_t n)
{
    struct db_stmt *s = st->stmt[ST_SESSION_PUT];
    if (exec(st, "BEGIN") < 0)
        return -1;
    db_bind_text(st->stmt[ST_SESSIONS_FORGET], 1, st->node);
    if (step_done(st, st->stmt[ST_SESSIONS_FORGET], "saved_sessions") < 0)
        goto rollback;
    for (size_t i = 0; i < n; i++) {
        db_bind_text(s, 1, ss[i].id);
        db_bind_text(s, 2, ss[i].resume_hash);
        db_bind_text(s, 3, ss[i].user_id);
        db_bind_text(s, 4, ss[i].name);
        db_bind_text(s, 5, ss[i].role);
        db_bind_text(s, 6, ss[i].room_id);
        bind_pose(s, 7, ss[i].p, ss[i].q);
        db_bind_int64(s, 14, ss[i].findable);
        db_bind_int64(s, 15, ss[i].dms);
        db_bind_int64(s, 16, ss[i].away);
        db_bind_int64(s, 17, ss[i].hand_at);
        db_bind_text(s, 18, st->node);
        if (step_done(st, s, "saved_sessions") < 0)
            goto rollback;
    }
    return exec(st, "COMMIT");
rollback:
    db_rollback(st->db);
    return -1;
}

int store_sessions_take(struct store *st, void (*fn)(void *arg, const struct store_session *s),
                        void *arg)
{
    struct db_stmt *s = st->stmt[ST_SESSIONS_ALL];
    enum db_rc rc;
    db_bind_text(s, 1, st->node);
    while ((rc = db_step(s)) == DB_ROW) {
        struct store_session ss = {
            .id = db_column_text(s, 0),
            .resume_hash = db_column_text(s, 1),
            .user_id = db_column_text(s, 2),
            .name = db_column_text(s, 3),
            .role = db_column_text(s, 4),
            .room_id = db_column_text(s, 5),
        };
        column_pose(s, 6, ss.p, ss.q);
        ss.findable = db_column_int64(s, 13) != 0;
        ss.dms = db_column_int64(s, 14) != 0;
        ss.away = db_column_int64(s, 15) != 0;
        ss.hand_at = db_column_int64(s, 16);
        if (ss.id && ss.resume_hash && ss.user_id && ss.name && ss.role)
            fn(arg, &ss);
    }
    db_reset(s);
    if (rc != DB_DONE)
        return fail(st, "saved_sessions");
    db_bind_text(st->stmt[ST_SESSIONS_FORGET], 1, st->node);
    return step_done(st, st->stmt[ST_SESSIONS_FORGET], "saved_sessions");
}
