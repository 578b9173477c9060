/*
 * store.c - SQLite persistence: schema, prepared statements, batches.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "text.h"

enum stmt {
    ST_ROOM_PUT,
    ST_ROOMS_ALL,
    ST_USER_PUT,
    ST_POSE_PUT,
    ST_POSE_GET,
    ST_SESSION_PUT,
    ST_SESSIONS_ALL,
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
                       "px, py, pz, qx, qy, qz, qw, findable, accepts_dms, away, hand_at) "
                       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                       "?16, ?17)",
    [ST_SESSIONS_ALL] = "SELECT id, resume_hash, user_id, name, role, room_id, "
                        "px, py, pz, qx, qy, qz, qw, findable, accepts_dms, away, hand_at "
                        "FROM saved_sessions",
};

static const char schema[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = NORMAL;"
    "PRAGMA foreign_keys = ON;"
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
    "  away INTEGER NOT NULL DEFAULT 0, hand_at INTEGER NOT NULL DEFAULT 0);";

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
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT]; /* prepared once, reset after each use */
    char err[256];
    struct store_health health;
    bool patient; /* wait for another connection's write lock (busy_wait) */
    bool locked;  /* the last failed statement met another's write lock */
};

static int fail(struct store *st, const char *what)
{
    snprintf(st->err, sizeof(st->err), "%s: %s", what, sqlite3_errmsg(st->db));
    store_failed(st);
    return -1;
}

const struct store_health *store_health(const struct store *st)
{
    return &st->health;
}

void store_failed(struct store *st)
{
    int rc = sqlite3_errcode(st->db) & 0xff;
    struct store_health *h = &st->health;

    st->locked = rc == SQLITE_BUSY;
    if (rc != SQLITE_FULL && rc != SQLITE_IOERR && rc != SQLITE_READONLY)
        return;
    h->failures++;
    if (h->failing)
        return;
    h->failing = true;
    h->since = (long long)time(NULL);
    /* It goes into JSON and a log line as it is. */
    text_printable(h->reason, sizeof(h->reason), sqlite3_errmsg(st->db));
    fprintf(stderr,
            "venued: database: %s: writes fail until space returns; tokens are still "
            "accepted, and what fails to be written is said where it is asked for\n",
            h->reason);
}

/*
 * SQLite calls this after each commit has reached the WAL: proof that
 * writes work (again). Installing it replaces SQLite's own checkpointing
 * hook, so it checkpoints at SQLite's default of 1000 pages as that did.
 */
static int committed(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct store_health *h = &((struct store *)arg)->health;

    if (h->failing) {
        fprintf(stderr, "venued: database: writes work again (%llu failed since start)\n",
                h->failures);
        h->failing = false;
        h->since = 0;
        h->reason[0] = '\0';
    }
    if (pages >= 1000)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

/* 1 if table has column, 0 if not (or there is no such table), -1 on error. */
static int has_column(sqlite3 *db, const char *table, const char *column)
{
    sqlite3_stmt *q;
    int rc, found = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &q,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, column, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    found = rc == SQLITE_ROW;
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -1;
}

static int table_exists(sqlite3 *db, const char *table)
{
    return has_column(db, table, "id");
}

/* Bring a database made by an older venued up to the current columns. */
static int upgrade(sqlite3 *db)
{
    for (size_t i = 0; i < sizeof(added_columns) / sizeof(added_columns[0]); i++) {
        int exists = table_exists(db, added_columns[i].table);
        int has = exists > 0 ? has_column(db, added_columns[i].table, added_columns[i].column) : 1;
        if (exists < 0 || has < 0)
            return -1;
        if (!has && sqlite3_exec(db, added_columns[i].ddl, NULL, NULL, NULL) != SQLITE_OK)
            return -1;
    }
    return 0;
}

struct sqlite3 *store_db(struct store *st)
{
    return st->db;
}

const char *store_error(struct store *st)
{
    return st->err;
}

/* PRAGMA application_id of a venued database: "VENU". */
#define STORE_APP_ID 0x56454E55

/* One integer a statement returns, or -1. */
static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

/*
 * Is the database ours? A new one (no tables) becomes ours; one made by an
 * older venued (its tables, no id) gets the id; anything else is another
 * program's file, and writing our tables into it would hide that a venue's
 * data is gone. 0, or -1 with the reason in err.
 */
static int claim(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    long long id = query_int(db, "PRAGMA application_id");
    long long tables = query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'");
    long long ours = query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                   "name IN ('users', 'rooms', 'last_poses')");

    if (id < 0 || tables < 0 || ours < 0) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    if (id == STORE_APP_ID)
        return 0;
    if (id != 0 || (tables > 0 && ours == 0)) {
        snprintf(err, errlen,
                 "%s: an SQLite database, but not venued's (application_id %lld, %lld tables of "
                 "another program): point --data at the venue's own folder",
                 path, id, tables);
        return -1;
    }
    char set[64];
    snprintf(set, sizeof(set), "PRAGMA application_id = %d", STORE_APP_ID);
    if (sqlite3_exec(db, set, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

/*
 * Another connection holds the write lock (the server's, for a CLI): look
 * again every 0.1 ms, for up to 2 s. SQLite's own busy timeout sleeps 1,
 * 2, 5 ... 100 ms between looks, several times the length of the short
 * steps every writer takes. An impatient store (a serving venue's) never
 * waits: the statement fails at once with SQLITE_BUSY.
 */
static int busy_wait(void *arg, int count)
{
    const struct timespec tenth = {0, 100000};
    const struct store *st = arg;
    if (!st->patient || count >= 20000)
        return 0;
    nanosleep(&tenth, NULL);
    return 1;
}

struct store *store_open(const char *dir, char *err, size_t errlen)
{
    char path[1024];
    struct stat sb;
    struct store *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/venue.db", dir);
    /* An empty file where the venue was: SQLite would take it for a new
     * database, and every registration and ban would be silently gone. */
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0) {
        snprintf(err, errlen,
                 "%s is empty (0 bytes): it held this venue's registrations, bans and settings. "
                 "Restore it from a backup; to start an empty venue instead, delete the file",
                 path);
        store_close(st);
        return NULL;
    }
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) : "cannot open");
        store_close(st);
        return NULL;
    }
    st->patient = true;
    sqlite3_busy_handler(st->db, busy_wait, st);
    sqlite3_wal_hook(st->db, committed, st);
    if (claim(st->db, path, err, errlen) < 0) {
        store_close(st);
        return NULL;
    }
    if (upgrade(st->db) < 0 || sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: schema: %s", path, sqlite3_errmsg(st->db));
        store_close(st);
        return NULL;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: prepare: %s", path, sqlite3_errmsg(st->db));
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
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st);
}

void store_patient(struct store *st, bool patient)
{
    st->patient = patient;
}

bool store_locked(const struct store *st)
{
    return st->locked;
}

int store_probe(struct store *st)
{
    int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if ((rc & 0xff) == SQLITE_BUSY)
        return 1;
    if (rc != SQLITE_OK)
        return fail(st, "begin");
    return sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(st, "commit");
}

/* Run a bound statement that returns no rows, and reset it. */
static int step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : fail(st, what);
}

static int exec(struct store *st, const char *sql)
{
    return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(st, sql);
}

int store_room_put(struct store *st, const char *id, const char *name, int capacity)
{
    sqlite3_stmt *s = st->stmt[ST_ROOM_PUT];
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, capacity);
    return step_done(st, s, "rooms");
}

int store_rooms_each(struct store *st, void (*fn)(void *arg, const char *id), void *arg)
{
    sqlite3_stmt *s = st->stmt[ST_ROOMS_ALL];
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(arg, (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : fail(st, "rooms");
}

int store_user_put(struct store *st, const char *id, const char *name, const char *role,
                   long long now_ms)
{
    sqlite3_stmt *s = st->stmt[ST_USER_PUT];
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, role, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now_ms);
    return step_done(st, s, "users");
}

static void bind_pose(sqlite3_stmt *s, int first, const float p[3], const float q[4])
{
    for (int i = 0; i < 3; i++)
        sqlite3_bind_double(s, first + i, p[i]);
    for (int i = 0; i < 4; i++)
        sqlite3_bind_double(s, first + 3 + i, q[i]);
}

static void column_pose(sqlite3_stmt *s, int first, float p[3], float q[4])
{
    for (int i = 0; i < 3; i++)
        p[i] = (float)sqlite3_column_double(s, first + i);
    for (int i = 0; i < 4; i++)
        q[i] = (float)sqlite3_column_double(s, first + 3 + i);
}

int store_poses_put(struct store *st, const struct store_pose *poses, size_t n, long long now_ms)
{
    sqlite3_stmt *s = st->stmt[ST_POSE_PUT];
    if (exec(st, "BEGIN") < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(s, 1, poses[i].user_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, poses[i].room_id, -1, SQLITE_STATIC);
        bind_pose(s, 3, poses[i].p, poses[i].q);
        sqlite3_bind_int64(s, 10, now_ms);
        if (step_done(st, s, "last_poses") < 0) {
            exec(st, "ROLLBACK");
            return -1;
        }
    }
    return exec(st, "COMMIT");
}

int store_pose_get(struct store *st, const char *user_id, const char *room_id, float p[3],
                   float q[4])
{
    sqlite3_stmt *s = st->stmt[ST_POSE_GET];
    int rc, found = 0;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, room_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        column_pose(s, 0, p, q);
        found = 1;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(st, "last_poses");
    return found;
}

int store_sessions_save(struct store *st, const struct store_session *ss, size_t n)
{
    sqlite3_stmt *s = st->stmt[ST_SESSION_PUT];
    if (exec(st, "BEGIN") < 0)
        return -1;
    if (exec(st, "DELETE FROM saved_sessions") < 0)
        goto rollback;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(s, 1, ss[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, ss[i].resume_hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, ss[i].user_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, ss[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, ss[i].role, -1, SQLITE_STATIC);
        if (ss[i].room_id)
            sqlite3_bind_text(s, 6, ss[i].room_id, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(s, 6);
        bind_pose(s, 7, ss[i].p, ss[i].q);
        sqlite3_bind_int(s, 14, ss[i].findable ? 1 : 0);
        sqlite3_bind_int(s, 15, ss[i].dms ? 1 : 0);
        sqlite3_bind_int(s, 16, ss[i].away ? 1 : 0);
        sqlite3_bind_int64(s, 17, ss[i].hand_at);
        if (step_done(st, s, "saved_sessions") < 0)
            goto rollback;
    }
    return exec(st, "COMMIT");
rollback:
    exec(st, "ROLLBACK");
    return -1;
}

int store_sessions_take(struct store *st, void (*fn)(void *arg, const struct store_session *s),
                        void *arg)
{
    sqlite3_stmt *s = st->stmt[ST_SESSIONS_ALL];
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_session ss = {
            .id = (const char *)sqlite3_column_text(s, 0),
            .resume_hash = (const char *)sqlite3_column_text(s, 1),
            .user_id = (const char *)sqlite3_column_text(s, 2),
            .name = (const char *)sqlite3_column_text(s, 3),
            .role = (const char *)sqlite3_column_text(s, 4),
            .room_id = (const char *)sqlite3_column_text(s, 5),
        };
        column_pose(s, 6, ss.p, ss.q);
        ss.findable = sqlite3_column_int(s, 13) != 0;
        ss.dms = sqlite3_column_int(s, 14) != 0;
        ss.away = sqlite3_column_int(s, 15) != 0;
        ss.hand_at = sqlite3_column_int64(s, 16);
        if (ss.id && ss.resume_hash && ss.user_id && ss.name && ss.role)
            fn(arg, &ss);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return fail(st, "saved_sessions");
    return exec(st, "DELETE FROM saved_sessions");
}
