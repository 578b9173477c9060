/*
 * registry.c - registered users and their tokens, bans and mutes, room
 * settings, the audit log and retention, in the store's database (SQLite
 * or PostgreSQL, through db.h).
 *
 * Owns its prepared statements (one per query, prepared once in
 * registry_open, reset after each use) and nothing else: the connection is
 * the store's. Tokens live only in the caller's hands and as SHA-256 hex
 * here; a token is looked up by its hash, so no comparison of secrets ever
 * happens in this file.
 */
#include "registry.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "proto.h"
#include "secret.h"

#define HASH_HEX SECRET_SHA256_HEX
#define DAY_MS   86400000LL

static const char *const role_names[ROLE_COUNT] = {
    [ROLE_GUEST] = "guest",         [ROLE_ATTENDEE] = "attendee", [ROLE_SPEAKER] = "speaker",
    [ROLE_MODERATOR] = "moderator", [ROLE_ADMIN] = "admin",
};

static const char *const sanction_names[] = {[SANCTION_BAN] = "ban", [SANCTION_MUTE] = "mute"};

/* Our tables; the users table is the store's (store.c's schema). */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS tokens("
    "  hash TEXT PRIMARY KEY,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  expires_ms INTEGER NOT NULL DEFAULT 0,"
    "  revoked INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS tokens_user ON tokens(user_id);"
    "CREATE TABLE IF NOT EXISTS sanctions("
    "  kind TEXT NOT NULL, user_id TEXT NOT NULL, room TEXT NOT NULL DEFAULT '',"
    "  until_ms INTEGER NOT NULL DEFAULT 0, reason TEXT, actor_id TEXT,"
    "  created_ms INTEGER NOT NULL, PRIMARY KEY(kind, user_id, room));"
    "CREATE TABLE IF NOT EXISTS room_settings("
    "  room TEXT PRIMARY KEY, locked INTEGER NOT NULL DEFAULT 0,"
    "  capacity INTEGER NOT NULL DEFAULT 0, mics_locked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS audit("
    "  id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, actor_id TEXT NOT NULL,"
    "  actor_name TEXT NOT NULL DEFAULT '', action TEXT NOT NULL, target_id TEXT,"
    "  room TEXT, reason TEXT, target_name TEXT, detail TEXT);"
    "CREATE INDEX IF NOT EXISTS audit_ts ON audit(ts_ms);"
    "CREATE INDEX IF NOT EXISTS audit_room ON audit(room, ts_ms);"
    "CREATE INDEX IF NOT EXISTS audit_actor ON audit(actor_id, ts_ms);"
    "CREATE TABLE IF NOT EXISTS blocks("
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  blocked_id TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY(user_id, blocked_id));"
    /* Registered names are reserved against guests: each guest hello asks.
     * lower() folds what NOCASE did on SQLite (ASCII), and is PostgreSQL's
     * word for it; the index by NOCASE of earlier releases goes. */
    "DROP INDEX IF EXISTS users_name;"
    "CREATE INDEX IF NOT EXISTS users_name_lower ON users(lower(name)) WHERE registered = 1;"
    /* Imports written in steps (registry_import_begin): state is writing,
     * kept or undone; each user written is recorded until tidied. */
    "CREATE TABLE IF NOT EXISTS imports("
    "  id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, started_ms INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'writing');"
    "CREATE TABLE IF NOT EXISTS import_users(import_id INTEGER NOT NULL, user_id TEXT NOT NULL);"
    /* An import's users in the order they are undone and forgotten: by id
     * (SQLite's rowid, which earlier releases used, is no column elsewhere). */
    "DROP INDEX IF EXISTS import_users_import;"
    "CREATE INDEX IF NOT EXISTS import_users_user ON import_users(import_id, user_id);";

enum stmt {
    R_USER_ADD,
    R_TOKEN_ADD,
    R_GUEST_PUT,
    R_USER_REVOKE,
    R_TOKENS_REVOKE,
    R_USER_GET,
    R_USER_ROLE,
    R_USER_LIST,
    R_TOKEN_CHECK,
    R_SEEN,
    R_SANCTION_SET,
    R_SANCTION_CLEAR,
    R_SANCTION_CHECK,
    R_ROOM_GET,
    R_ROOM_SET,
    R_PRIVACY_GET,
    R_PRIVACY_SET,
    R_BLOCK_ADD,
    R_BLOCK_REMOVE,
    R_BLOCKS,
    R_AUDIT_ADD,
    R_AUDIT_ALL,  /* the four audit listings: one per filter combination, */
    R_AUDIT_ROOM, /* so that each can use its index */
    R_AUDIT_ACTOR,
    R_AUDIT_BOTH,
    R_RETAIN_GUESTS,
    R_RETAIN_POSES,
    R_RETAIN_SANCTIONS,
    R_RETAIN_TOKENS,
    R_RETAIN_AUDIT,
    R_NAME_REGISTERED,
    R_IMPORT_BEGIN,
    R_IMPORT_USER,
    R_IMPORT_END,
    R_IMPORT_NEXT,
    R_IMPORT_UNDO,
    R_IMPORT_FORGET,
    R_IMPORT_DROP,
    R_IMPORT_STALE,
    R_COUNT
};

#define USER_COLS "id, name, org, role, created_ms, last_seen_ms, revoked"
/* A row from before target names were kept takes the users table's name (a
 * guest's until retention forgets it). */
#define AUDIT_COLS                                                                                 \
    "SELECT a.ts_ms, a.actor_id, a.actor_name, a.action, a.target_id, a.room, a.reason, a.id, "    \
    "COALESCE(a.target_name, u.name), a.detail FROM audit a LEFT JOIN users u ON u.id = "          \
    "a.target_id "

static const char *const stmt_sql[R_COUNT] = {
    /* A taken id changes nothing (no error: PostgreSQL would abort the
     * transaction), and the caller draws another. */
    [R_USER_ADD] = "INSERT INTO users(id, name, org, role, registered, revoked, created_ms, "
                   "last_seen_ms) VALUES(?1, ?2, ?3, ?4, 1, 0, ?5, 0) ON CONFLICT(id) DO NOTHING",
    [R_TOKEN_ADD] = "INSERT INTO tokens(hash, user_id, expires_ms, revoked, created_ms) "
                    "VALUES(?1, ?2, ?3, 0, ?4)",
    [R_GUEST_PUT] = "INSERT INTO users(id, name, org, role, registered, revoked, created_ms, "
                    "last_seen_ms) VALUES(?1, ?2, '', 'guest', 0, 0, ?3, ?3) "
                    "ON CONFLICT(id) DO UPDATE SET last_seen_ms = ?3, "
                    "name = CASE WHEN users.registered = 0 THEN ?2 ELSE users.name END",
    [R_USER_REVOKE] = "UPDATE users SET revoked = 1 WHERE id = ?1",
    [R_TOKENS_REVOKE] = "UPDATE tokens SET revoked = 1 WHERE user_id = ?1",
    [R_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    [R_USER_ROLE] = "UPDATE users SET role = ?2 WHERE id = ?1",
    /* In any case: SQLite's LIKE ignores ASCII case, PostgreSQL's none. */
    [R_USER_LIST] = "SELECT " USER_COLS " FROM users WHERE registered = 1 AND "
                    "(CAST(?1 AS TEXT) IS NULL OR lower(name) LIKE lower(CAST(?1 AS TEXT)) "
                    "ESCAPE '\\' OR lower(org) LIKE lower(CAST(?1 AS TEXT)) ESCAPE '\\' "
                    "OR lower(id) LIKE lower(CAST(?1 AS TEXT)) ESCAPE '\\') "
                    "ORDER BY created_ms DESC, id LIMIT ?2",
    [R_TOKEN_CHECK] = "SELECT t.expires_ms, t.revoked, u.id, u.name, u.org, u.role, "
                      "u.created_ms, u.last_seen_ms, u.revoked "
                      "FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?1",
    [R_SEEN] = "UPDATE users SET last_seen_ms = ?2 WHERE id = ?1",
    [R_SANCTION_SET] = "INSERT INTO sanctions(kind, user_id, room, until_ms, reason, actor_id, "
                       "created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                       "ON CONFLICT(kind, user_id, room) DO UPDATE SET until_ms = ?4, "
                       "reason = ?5, actor_id = ?6, created_ms = ?7",
    [R_SANCTION_CLEAR] = "DELETE FROM sanctions WHERE kind = ?1 AND user_id = ?2 AND room = ?3",
    /* The one that lasts longest wins: for good first, then the latest end. */
    [R_SANCTION_CHECK] = "SELECT until_ms FROM sanctions WHERE kind = ?1 AND user_id = ?2 "
                         "AND room IN ('', ?3) AND (until_ms = 0 OR until_ms > ?4) "
                         "ORDER BY until_ms = 0 DESC, until_ms DESC LIMIT 1",
    [R_ROOM_GET] = "SELECT locked, capacity, mics_locked FROM room_settings WHERE room = ?1",
    [R_ROOM_SET] = "INSERT INTO room_settings(room, locked, capacity, mics_locked) "
                   "VALUES(?1, ?2, ?3, ?4) "
                   "ON CONFLICT(room) DO UPDATE SET locked = ?2, capacity = ?3, mics_locked = ?4",
    [R_PRIVACY_GET] = "SELECT findable, accepts_dms FROM users WHERE id = ?1 AND registered = 1",
    [R_PRIVACY_SET] = "UPDATE users SET findable = ?2, accepts_dms = ?3 "
                      "WHERE id = ?1 AND registered = 1",
    [R_BLOCK_ADD] = "INSERT INTO blocks(user_id, blocked_id, created_ms) "
                    "VALUES(?1, ?2, ?3) ON CONFLICT(user_id, blocked_id) DO NOTHING",
    [R_BLOCK_REMOVE] = "DELETE FROM blocks WHERE user_id = ?1 AND blocked_id = ?2",
    [R_BLOCKS] = "SELECT blocked_id FROM blocks WHERE user_id = ?1 "
                 "ORDER BY created_ms, blocked_id LIMIT ?2",
    [R_AUDIT_ADD] = "INSERT INTO audit(ts_ms, actor_id, actor_name, action, target_id, room, "
                    "reason, target_name, detail) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    /* Parameters in the order registry_audit_list binds them: the filters
     * given, then since and limit (PostgreSQL refuses one never used). */
    [R_AUDIT_ALL] = AUDIT_COLS "WHERE a.ts_ms >= ?1 ORDER BY a.ts_ms DESC, a.id DESC LIMIT ?2",
    [R_AUDIT_ROOM] = AUDIT_COLS "WHERE a.room = ?1 AND a.ts_ms >= ?2 "
                                "ORDER BY a.ts_ms DESC, a.id DESC LIMIT ?3",
    [R_AUDIT_ACTOR] = AUDIT_COLS "WHERE a.actor_id = ?1 AND a.ts_ms >= ?2 "
                                 "ORDER BY a.ts_ms DESC, a.id DESC LIMIT ?3",
    [R_AUDIT_BOTH] = AUDIT_COLS "WHERE a.room = ?1 AND a.actor_id = ?2 AND a.ts_ms >= ?3 "
                                "ORDER BY a.ts_ms DESC, a.id DESC LIMIT ?4",
    [R_RETAIN_GUESTS] = "DELETE FROM users WHERE registered = 0 AND last_seen_ms < ?1 "
                        "AND id NOT IN (SELECT user_id FROM saved_sessions)",
    [R_RETAIN_POSES] = "DELETE FROM last_poses WHERE updated_ms < ?1",
    [R_RETAIN_SANCTIONS] = "DELETE FROM sanctions WHERE until_ms != 0 AND until_ms <= ?1",
    [R_RETAIN_TOKENS] = "DELETE FROM tokens WHERE revoked = 1 OR "
                        "(expires_ms != 0 AND expires_ms <= ?1)",
    [R_RETAIN_AUDIT] = "DELETE FROM audit WHERE ts_ms < ?1",
    [R_NAME_REGISTERED] = "SELECT 1 FROM users WHERE lower(name) = lower(CAST(?1 AS TEXT)) "
                          "AND registered = 1 LIMIT 1",
    [R_IMPORT_BEGIN] = "INSERT INTO imports(pid, started_ms) VALUES(?1, ?2) RETURNING id",
    [R_IMPORT_USER] = "INSERT INTO import_users(import_id, user_id) VALUES(?1, ?2)",
    [R_IMPORT_END] = "UPDATE imports SET state = ?2 WHERE id = ?1 AND state = 'writing'",
    [R_IMPORT_NEXT] = "SELECT id, CASE WHEN state = 'undone' THEN 1 ELSE 0 END FROM imports "
                      "WHERE state != 'writing' ORDER BY id LIMIT 1",
    /* UNDO and FORGET take the same rows: the first ?2 of the import's by
     * user id (each user is in an import once). */
    [R_IMPORT_UNDO] = "DELETE FROM users WHERE id IN (SELECT user_id FROM import_users "
                      "WHERE import_id = ?1 ORDER BY user_id LIMIT ?2)",
    [R_IMPORT_FORGET] = "DELETE FROM import_users WHERE import_id = ?1 AND user_id IN "
                        "(SELECT user_id FROM import_users WHERE import_id = ?1 "
                        "ORDER BY user_id LIMIT ?2)",
    [R_IMPORT_DROP] = "DELETE FROM imports WHERE id = ?1",
    [R_IMPORT_STALE] = "SELECT id, pid FROM imports WHERE state = 'writing'",
};

struct registry {
    struct db *db;                 /* borrowed from the store */
    struct store *st;              /* borrowed: told of a failed statement */
    struct db_stmt *stmt[R_COUNT]; /* owned */
    bool txn;                      /* inside registry_begin's transaction */
    char err[256];
};

const char *role_name(enum role r)
{
    return (unsigned)r < ROLE_COUNT ? role_names[r] : "guest";
}

int role_parse(const char *s, enum role *out)
{
    for (int i = 0; s && i < ROLE_COUNT; i++) {
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum role)i;
            return 0;
        }
    }
    return -1;
}

const char *registry_error(struct registry *reg)
{
    return reg->err;
}

int registry_held(struct registry *reg)
{
    return store_probe(reg->st);
}

bool registry_locked(const struct registry *reg)
{
    return store_locked(reg->st);
}

static int fail(struct registry *reg, const char *what)
{
    snprintf(reg->err, sizeof(reg->err), "%s: %s", what, db_error(reg->db));
    store_failed(reg->st);
    return -1;
}

/* Run a bound statement that returns no rows: 0, or -1 with reg->err. */
static int step_done(struct registry *reg, struct db_stmt *s, const char *what)
{
    return db_run(s) == 0 ? 0 : fail(reg, what);
}

static const char *column_text(struct db_stmt *s, int i)
{
    const char *t = db_column_text(s, i);
    return t ? t : "";
}

/*
 * Columns added to our tables since their first release: a database made
 * before gets them when it is opened. New columns go here as well as in the
 * schema above.
 */
static const struct {
    const char *table, *column, *ddl;
} added_columns[] = {
    {"room_settings", "mics_locked",
     "ALTER TABLE room_settings ADD COLUMN mics_locked INTEGER NOT NULL DEFAULT 0"},
    {"audit", "target_name", "ALTER TABLE audit ADD COLUMN target_name TEXT"},
    {"audit", "detail", "ALTER TABLE audit ADD COLUMN detail TEXT"},
};

/* 1 if table has column, 0 if not, -1 on error. */
static int has_column(struct db *db, const char *table, const char *column)
{
    struct db_stmt *q =
        db_prepare(db, db_sql(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2",
                              "SELECT 1 FROM information_schema.columns "
                              "WHERE table_schema = current_schema() AND table_name = ?1 "
                              "AND column_name = ?2"));
    enum db_rc rc;
    if (!q)
        return -1;
    db_bind_text(q, 1, table);
    db_bind_text(q, 2, column);
    rc = db_step(q);
    db_finalize(q);
    return rc == DB_ERROR ? -1 : rc == DB_ROW;
}

/* Add the column of added_columns[i] if the table lacks it. */
static int add_column(struct db *db, size_t i)
{
    int has = has_column(db, added_columns[i].table, added_columns[i].column);
    if (has != 0)
        return has < 0 ? -1 : 0;
    return db_schema(db, added_columns[i].ddl);
}

static void import_recover(struct registry *reg);

struct registry *registry_open(struct store *st, char *err, size_t errlen)
{
    struct registry *reg = calloc(1, sizeof(*reg));
    if (!reg) {
        snprintf(err, errlen, "registry: out of memory");
        return NULL;
    }
    reg->db = store_db(st);
    reg->st = st;
    if (db_schema(reg->db, schema) < 0) {
        snprintf(err, errlen, "registry: schema: %s", db_error(reg->db));
        registry_close(reg);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(added_columns) / sizeof(added_columns[0]); i++) {
        if (add_column(reg->db, i) < 0) {
            snprintf(err, errlen, "registry: %s.%s: %s", added_columns[i].table,
                     added_columns[i].column, db_error(reg->db));
            registry_close(reg);
            return NULL;
        }
    }
    for (int i = 0; i < R_COUNT; i++) {
        if (!(reg->stmt[i] = db_prepare(reg->db, stmt_sql[i]))) {
            snprintf(err, errlen, "registry: prepare: %s", db_error(reg->db));
            registry_close(reg);
            return NULL;
        }
    }
    import_recover(reg);
    return reg;
}

void registry_close(struct registry *reg)
{
    if (!reg)
        return;
    for (int i = 0; i < R_COUNT; i++)
        db_finalize(reg->stmt[i]);
    free(reg);
}

/* On SQLite the write lock is taken at once (db_begin), so that another
 * process writing at the same time makes us wait at BEGIN (busy timeout)
 * instead of failing halfway through. */
int registry_begin(struct registry *reg)
{
    if (db_begin(reg->db) < 0)
        return fail(reg, "begin");
    reg->txn = true;
    return 0;
}

/* A failed commit leaves the caller to roll back. */
int registry_commit(struct registry *reg)
{
    if (db_commit(reg->db) < 0)
        return fail(reg, "commit");
    reg->txn = false;
    return 0;
}

void registry_rollback(struct registry *reg)
{
    db_rollback(reg->db);
    reg->txn = false;
}

/* ---- Imports in steps ------------------------------------------------- */

int registry_import_begin(struct registry *reg, long long now_ms, long long *id)
{
    struct db_stmt *s = reg->stmt[R_IMPORT_BEGIN];
    db_bind_int64(s, 1, (long long)getpid());
    db_bind_int64(s, 2, now_ms);
    /* Stepped to the end: on SQLite that is where the row is committed. */
    if (db_step(s) != DB_ROW) {
        db_reset(s);
        return fail(reg, "imports");
    }
    *id = db_column_int64(s, 0);
    if (db_step(s) != DB_DONE) {
        db_reset(s);
        return fail(reg, "imports");
    }
    db_reset(s);
    return 0;
}

int registry_import_user(struct registry *reg, long long id, const char *user_id)
{
    struct db_stmt *s = reg->stmt[R_IMPORT_USER];
    db_bind_int64(s, 1, id);
    db_bind_text(s, 2, user_id);
    return step_done(reg, s, "import_users");
}

int registry_import_end(struct registry *reg, long long id, bool keep)
{
    struct db_stmt *s = reg->stmt[R_IMPORT_END];
    enum db_rc rc;
    db_bind_int64(s, 1, id);
    db_bind_text(s, 2, keep ? "kept" : "undone");
    rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE)
        return fail(reg, "imports");
    if (db_changes(reg->db) == 1)
        return 0;
    /* Only an open that took us for dead (our pid reused) does this. */
    snprintf(reg->err, sizeof(reg->err), "imports: import %lld was undone by another process", id);
    return -1;
}

/* Tidy up to max rows of the oldest import that has ended, in one
 * transaction. */
static int import_tidy_one(struct registry *reg, long long id, bool undone, int max)
{
    struct db_stmt *s;
    long long forgot;
    if (registry_begin(reg) < 0)
        return -1;
    if (undone) {
        s = reg->stmt[R_IMPORT_UNDO]; /* their tokens go with them (ON DELETE CASCADE) */
        db_bind_int64(s, 1, id);
        db_bind_int64(s, 2, max);
        if (step_done(reg, s, "users") < 0)
            goto undo;
    }
    s = reg->stmt[R_IMPORT_FORGET];
    db_bind_int64(s, 1, id);
    db_bind_int64(s, 2, max);
    if (step_done(reg, s, "import_users") < 0)
        goto undo;
    forgot = db_changes(reg->db);
    if (forgot < max) {
        s = reg->stmt[R_IMPORT_DROP];
        db_bind_int64(s, 1, id);
        if (step_done(reg, s, "imports") < 0)
            goto undo;
    }
    if (registry_commit(reg) < 0)
        goto undo;
    return 1;
undo:
    registry_rollback(reg);
    return -1;
}

int registry_import_tidy(struct registry *reg, int max)
{
    struct db_stmt *s = reg->stmt[R_IMPORT_NEXT];
    long long id;
    bool undone;
    enum db_rc rc = db_step(s);
    if (rc == DB_DONE) {
        db_reset(s);
        return 0;
    }
    if (rc != DB_ROW) {
        db_reset(s);
        return fail(reg, "imports");
    }
    id = db_column_int64(s, 0);
    undone = db_column_int64(s, 1) != 0;
    db_reset(s);
    assert(max > 0);
    return import_tidy_one(reg, id, undone, max);
}

/*
 * An import still writing when the database is opened was left by a
 * process that died (no such pid now, or our own: a restart reusing it):
 * nobody holds its tokens, so it is undone. One a live CLI is writing is
 * left alone. Failing here is not fatal: the next open tries again.
 */
static void import_recover(struct registry *reg)
{
    struct db_stmt *s = reg->stmt[R_IMPORT_STALE];
    long long dead[16];
    size_t n = 0;
    int rc;

    while (n < sizeof(dead) / sizeof(dead[0]) && (rc = db_step(s)) == DB_ROW) {
        pid_t pid = (pid_t)db_column_int64(s, 1);
        if (pid == getpid() || (kill(pid, 0) < 0 && errno == ESRCH))
            dead[n++] = db_column_int64(s, 0);
    }
    db_reset(s);
    for (size_t i = 0; i < n; i++)
        if (registry_import_end(reg, dead[i], false) < 0)
            goto failed;
    while ((rc = registry_import_tidy(reg, 5000)) > 0)
        ;
    if (rc == 0)
        return;
failed:
    fprintf(stderr, "venued: registry: an unfinished import is left for later: %s\n", reg->err);
}

/* ---- Text checks ------------------------------------------------------ */

/* The code point at s (valid UTF-8 assumed); *n set to its length. */
static unsigned decode(const unsigned char *s, size_t *n)
{
    if (s[0] < 0x80) {
        *n = 1;
        return s[0];
    }
    if (s[0] < 0xE0) {
        *n = 2;
        return (unsigned)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    }
    if (s[0] < 0xF0) {
        *n = 3;
        return (unsigned)(s[0] & 0x0F) << 12 | (unsigned)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    }
    *n = 4;
    return (unsigned)(s[0] & 0x07) << 18 | (unsigned)(s[1] & 0x3F) << 12 |
           (unsigned)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

/* Characters that make a name lie about itself on screen or in a log
 * line: C0 and C1 controls, DEL, line and paragraph separators, and the
 * bidirectional embeddings, overrides and isolates. */
static bool is_control(unsigned cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

int registry_check_text(const char *field, const char *s, size_t min_cp, size_t max_cp, char *err,
                        size_t errlen)
{
    size_t len = s ? strlen(s) : 0, count = 0, n;
    bool blank = true;

    if (!s && min_cp > 0) {
        snprintf(err, errlen, "%s: missing", field);
        return -1;
    }
    if (!proto_utf8_valid(s ? s : "", len)) {
        snprintf(err, errlen, "%s: not valid UTF-8", field);
        return -1;
    }
    for (size_t i = 0; i < len; i += n, count++) {
        unsigned cp = decode((const unsigned char *)s + i, &n);
        if (is_control(cp)) {
            snprintf(err, errlen, "%s: contains a control character (U+%04X)", field, cp);
            return -1;
        }
        if (cp != ' ')
            blank = false;
    }
    if (count == 0 && min_cp > 0) {
        snprintf(err, errlen, "%s: must not be empty", field);
        return -1;
    }
    if (count < min_cp || count > max_cp) {
        if (min_cp > 0)
            snprintf(err, errlen, "%s: must be %zu..%zu characters, not %zu", field, min_cp, max_cp,
                     count);
        else
            snprintf(err, errlen, "%s: must be at most %zu characters, not %zu", field, max_cp,
                     count);
        return -1;
    }
    if (min_cp > 0 && blank) {
        snprintf(err, errlen, "%s: must not be blank", field);
        return -1;
    }
    return 0;
}

/*
 * s without its bidi controls into dst (dstlen bytes, room for max_cp code
 * points), or -1 when it cannot be the text of a name: longer in bytes
 * than max_cp code points can be.
 */
static int strip_name(const char *field, const char *s, size_t max_cp, char *dst, size_t dstlen,
                      char *err, size_t errlen)
{
    assert(dstlen >= max_cp * 4 + 1);
    if (s && strlen(s) >= dstlen) {
        snprintf(err, errlen, "%s: must be at most %zu characters", field, max_cp);
        return -1;
    }
    snprintf(dst, dstlen, "%s", s ? s : "");
    proto_strip_bidi(dst);
    return 0;
}

int registry_check_name(const char *field, const char *s, size_t min_cp, size_t max_cp, char *err,
                        size_t errlen)
{
    char clean[REG_ORG_MAX];
    if (!s)
        return registry_check_text(field, s, min_cp, max_cp, err, errlen);
    if (strip_name(field, s, max_cp, clean, sizeof clean, err, errlen) < 0)
        return -1;
    return registry_check_text(field, clean, min_cp, max_cp, err, errlen);
}

/* ---- Tokens and ids --------------------------------------------------- */

/* What our tokens look like: anything else is not looked up at all. */
static bool token_well_formed(const char *t)
{
    size_t i;
    for (i = 0; t && t[i]; i++)
        if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
            return false;
    return i == REG_TOKEN_LEN;
}

/* ---- Users ------------------------------------------------------------ */

static void column_user(struct db_stmt *s, int first, struct reg_user *u)
{
    memset(u, 0, sizeof(*u));
    snprintf(u->id, sizeof(u->id), "%s", column_text(s, first));
    snprintf(u->name, sizeof(u->name), "%s", column_text(s, first + 1));
    snprintf(u->org, sizeof(u->org), "%s", column_text(s, first + 2));
    if (role_parse(column_text(s, first + 3), &u->role) < 0)
        u->role = ROLE_GUEST; /* an unknown role grants nothing */
    u->created_ms = db_column_int64(s, first + 4);
    u->last_seen_ms = db_column_int64(s, first + 5);
    u->revoked = db_column_int64(s, first + 6) != 0;
}

int registry_user_add(struct registry *reg, const char *name, const char *org, enum role role,
                      long long expires_ms, long long now_ms, struct reg_user *out, char *token,
                      char *err, size_t errlen)
{
    char id[REG_ID_MAX], tok[REG_TOKEN_LEN + 1], hash[HASH_HEX + 1];
    struct db_stmt *s = reg->stmt[R_USER_ADD];
    bool added = false, own = !reg->txn; /* own: no caller's transaction to nest in */

    char clean_name[REG_NAME_MAX], clean_org[REG_ORG_MAX];
    if (!name) {
        snprintf(err, errlen, "name: missing");
        return -1;
    }
    if (strip_name("name", name, 64, clean_name, sizeof clean_name, err, errlen) < 0 ||
        strip_name("org", org ? org : "", 128, clean_org, sizeof clean_org, err, errlen) < 0 ||
        registry_check_text("name", clean_name, 1, 64, err, errlen) < 0 ||
        registry_check_text("org", clean_org, 0, 128, err, errlen) < 0)
        return -1;
    name = clean_name;
    org = clean_org;
    if ((unsigned)role >= ROLE_COUNT) {
        snprintf(err, errlen, "role: not one of " ROLE_NAMES);
        return -1;
    }
    if (expires_ms < 0) {
        snprintf(err, errlen, "expires: must not be negative");
        return -1;
    }
    if (secret_random_hex(tok, sizeof(tok), REG_TOKEN_LEN / 2) < 0 ||
        secret_sha256_hex(tok, hash) < 0) {
        snprintf(err, errlen, "no randomness or digest available");
        return -1;
    }
    /* The user and its token go in together or not at all: in a
     * transaction of our own, or a savepoint inside the caller's
     * (PostgreSQL has no savepoint outside a transaction). */
    if ((own ? db_begin(reg->db) : db_savepoint(reg->db, "user_add")) < 0) {
        fail(reg, "users");
        snprintf(err, errlen, "%s", reg->err);
        return -1;
    }
    /* 64 random bits of id: a collision is a once-in-never event, but it
     * costs nothing to try again rather than fail. */
    for (int attempt = 0; attempt < 4 && !added; attempt++) {
        memcpy(id, "u-", 2);
        if (secret_random_hex(id + 2, sizeof(id) - 2, 8) < 0) {
            snprintf(reg->err, sizeof(reg->err), "no randomness available");
            goto undo;
        }
        db_bind_text(s, 1, id);
        db_bind_text(s, 2, name);
        db_bind_text(s, 3, org);
        db_bind_text(s, 4, role_names[role]);
        db_bind_int64(s, 5, now_ms);
        if (step_done(reg, s, "users") < 0)
            goto undo;
        added = db_changes(reg->db) == 1;
    }
    if (!added) {
        snprintf(reg->err, sizeof(reg->err), "users: no free id in 4 tries");
        goto undo;
    }
    s = reg->stmt[R_TOKEN_ADD];
    db_bind_text(s, 1, hash);
    db_bind_text(s, 2, id);
    db_bind_int64(s, 3, expires_ms);
    db_bind_int64(s, 4, now_ms);
    if (step_done(reg, s, "tokens") < 0)
        goto undo;
    if ((own ? db_commit(reg->db) : db_release(reg->db, "user_add")) < 0) {
        fail(reg, "users");
        goto undo;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->id, id, sizeof(id));
    snprintf(out->name, sizeof(out->name), "%s", name);
    snprintf(out->org, sizeof(out->org), "%s", org);
    out->role = role;
    out->created_ms = now_ms;
    memcpy(token, tok, sizeof(tok));
    return 0;
undo:
    snprintf(err, errlen, "%s", reg->err);
    if (own)
        db_rollback(reg->db);
    else
        db_rollback_to(reg->db, "user_add");
    return -1;
}

int registry_guest_put(struct registry *reg, const char *id, const char *name, long long now_ms)
{
    struct db_stmt *s = reg->stmt[R_GUEST_PUT];
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, name);
    db_bind_int64(s, 3, now_ms);
    return step_done(reg, s, "users");
}

int registry_name_registered(struct registry *reg, const char *name)
{
    char clean[REG_NAME_MAX];
    struct db_stmt *s = reg->stmt[R_NAME_REGISTERED];
    enum db_rc rc;
    if (strip_name("name", name, 64, clean, sizeof clean, reg->err, sizeof reg->err) < 0)
        return 0; /* longer than any registered name can be */
    db_bind_text(s, 1, clean);
    rc = db_step(s);
    db_reset(s);
    if (rc != DB_ROW && rc != DB_DONE)
        return fail(reg, "users");
    return rc == DB_ROW;
}

int registry_user_revoke(struct registry *reg, const char *id)
{
    struct db_stmt *s = reg->stmt[R_USER_REVOKE];
    long long changed;
    db_bind_text(s, 1, id);
    if (step_done(reg, s, "users") < 0)
        return -1;
    changed = db_changes(reg->db);
    if (!changed)
        return 0;
    /* The user's flag alone already refuses every token (the check reads
     * both); marking the tokens too lets retention delete them. */
    s = reg->stmt[R_TOKENS_REVOKE];
    db_bind_text(s, 1, id);
    return step_done(reg, s, "tokens") < 0 ? -1 : 1;
}

int registry_user_get(struct registry *reg, const char *id, struct reg_user *out)
{
    struct db_stmt *s = reg->stmt[R_USER_GET];
    enum db_rc rc;
    int found = 0;
    db_bind_text(s, 1, id);
    rc = db_step(s);
    if (rc == DB_ROW) {
        column_user(s, 0, out);
        found = 1;
    }
    db_reset(s);
    if (rc != DB_ROW && rc != DB_DONE)
        return fail(reg, "users");
    return found;
}

int registry_user_set_role(struct registry *reg, const char *id, enum role role)
{
    struct db_stmt *s = reg->stmt[R_USER_ROLE];
    if ((unsigned)role >= ROLE_COUNT) {
        snprintf(reg->err, sizeof(reg->err), "role: not one of " ROLE_NAMES);
        return -1;
    }
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, role_names[role]);
    if (step_done(reg, s, "users") < 0)
        return -1;
    return db_changes(reg->db) > 0;
}

/* "%search%" with LIKE's wildcards and the escape character escaped, so
 * that a search for "50%" finds "50%" and not everything. */
static char *like_pattern(const char *search)
{
    size_t n = strlen(search), k = 0;
    char *p = malloc(2 * n + 3);
    if (!p)
        return NULL;
    p[k++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (search[i] == '%' || search[i] == '_' || search[i] == '\\')
            p[k++] = '\\';
        p[k++] = search[i];
    }
    p[k++] = '%';
    p[k] = '\0';
    return p;
}

int registry_user_list(struct registry *reg, const char *search, size_t limit,
                       void (*fn)(void *arg, const struct reg_user *u), void *arg)
{
    struct db_stmt *s = reg->stmt[R_USER_LIST];
    char *pattern = NULL;
    struct reg_user u;
    enum db_rc rc;

    if (search && search[0]) {
        pattern = like_pattern(search);
        if (!pattern) {
            snprintf(reg->err, sizeof(reg->err), "out of memory");
            return -1;
        }
    }
    db_bind_text(s, 1, pattern);
    db_bind_int64(s, 2, limit > (size_t)INT64_MAX ? INT64_MAX : (long long)limit);
    while ((rc = db_step(s)) == DB_ROW) {
        column_user(s, 0, &u);
        fn(arg, &u);
    }
    db_reset(s);
    free(pattern);
    return rc == DB_DONE ? 0 : fail(reg, "users");
}

int registry_token_check(struct registry *reg, const char *token, long long now_ms,
                         struct reg_user *out)
{
    char hash[HASH_HEX + 1];
    struct db_stmt *s = reg->stmt[R_TOKEN_CHECK];
    long long expires;
    bool token_revoked;
    enum db_rc rc;

    if (!token_well_formed(token))
        return 0;
    if (secret_sha256_hex(token, hash) < 0) {
        snprintf(reg->err, sizeof(reg->err), "tokens: SHA-256 unavailable");
        return -1;
    }
    db_bind_text(s, 1, hash);
    rc = db_step(s);
    if (rc != DB_ROW) {
        db_reset(s);
        return rc == DB_DONE ? 0 : fail(reg, "tokens");
    }
    expires = db_column_int64(s, 0);
    token_revoked = db_column_int64(s, 1) != 0;
    column_user(s, 2, out);
    db_reset(s);
    if (token_revoked || out->revoked || (expires != 0 && now_ms >= expires))
        return 0;
    /* Bookkeeping: a write that fails (a full disk) must not turn a valid
     * token away. The store's health says so, once an outage. */
    s = reg->stmt[R_SEEN];
    db_bind_text(s, 1, out->id);
    db_bind_int64(s, 2, now_ms);
    if (step_done(reg, s, "users") == 0)
        out->last_seen_ms = now_ms;
    return 1;
}

/* ---- Sanctions -------------------------------------------------------- */

static bool sanction_ok(struct registry *reg, enum sanction kind)
{
    if ((unsigned)kind < sizeof(sanction_names) / sizeof(sanction_names[0]))
        return true;
    snprintf(reg->err, sizeof(reg->err), "sanctions: unknown kind %d", (int)kind);
    return false;
}

int registry_sanction_set(struct registry *reg, enum sanction kind, const char *user_id,
                          const char *room, long long until_ms, const char *reason,
                          const char *actor_id, long long now_ms)
{
    struct db_stmt *s = reg->stmt[R_SANCTION_SET];
    if (!sanction_ok(reg, kind))
        return -1;
    db_bind_text(s, 1, sanction_names[kind]);
    db_bind_text(s, 2, user_id);
    db_bind_text(s, 3, room ? room : "");
    db_bind_int64(s, 4, until_ms < 0 ? 0 : until_ms);
    db_bind_text(s, 5, reason);
    db_bind_text(s, 6, actor_id);
    db_bind_int64(s, 7, now_ms);
    return step_done(reg, s, "sanctions");
}

int registry_sanction_clear(struct registry *reg, enum sanction kind, const char *user_id,
                            const char *room)
{
    struct db_stmt *s = reg->stmt[R_SANCTION_CLEAR];
    if (!sanction_ok(reg, kind))
        return -1;
    db_bind_text(s, 1, sanction_names[kind]);
    db_bind_text(s, 2, user_id);
    db_bind_text(s, 3, room ? room : "");
    if (step_done(reg, s, "sanctions") < 0)
        return -1;
    return db_changes(reg->db) > 0;
}

int registry_sanction_check(struct registry *reg, enum sanction kind, const char *user_id,
                            const char *room, long long now_ms, long long *until_ms)
{
    struct db_stmt *s = reg->stmt[R_SANCTION_CHECK];
    enum db_rc rc;
    int found = 0;
    if (!sanction_ok(reg, kind))
        return -1;
    db_bind_text(s, 1, sanction_names[kind]);
    db_bind_text(s, 2, user_id);
    db_bind_text(s, 3, room ? room : "");
    db_bind_int64(s, 4, now_ms);
    rc = db_step(s);
    if (rc == DB_ROW) {
        if (until_ms)
            *until_ms = db_column_int64(s, 0);
        found = 1;
    }
    db_reset(s);
    if (rc != DB_ROW && rc != DB_DONE)
        return fail(reg, "sanctions");
    return found;
}

/* ---- Room settings ---------------------------------------------------- */

int registry_room_get(struct registry *reg, const char *room, struct reg_room *out)
{
    struct db_stmt *s = reg->stmt[R_ROOM_GET];
    enum db_rc rc;
    int found = 0;
    *out = (struct reg_room){0};
    db_bind_text(s, 1, room);
    rc = db_step(s);
    if (rc == DB_ROW) {
        out->locked = db_column_int64(s, 0) != 0;
        out->capacity = (int)db_column_int64(s, 1);
        out->mics_locked = db_column_int64(s, 2) != 0;
        found = 1;
    }
    db_reset(s);
    if (rc != DB_ROW && rc != DB_DONE)
        return fail(reg, "room_settings");
    return found;
}

int registry_room_set(struct registry *reg, const char *room, const struct reg_room *rs)
{
    struct db_stmt *s = reg->stmt[R_ROOM_SET];
    if (rs->capacity < 0) {
        snprintf(reg->err, sizeof(reg->err), "room_settings: capacity must not be negative");
        return -1;
    }
    db_bind_text(s, 1, room);
    db_bind_int64(s, 2, rs->locked ? 1 : 0);
    db_bind_int64(s, 3, rs->capacity);
    db_bind_int64(s, 4, rs->mics_locked ? 1 : 0);
    return step_done(reg, s, "room_settings");
}

/* ---- Privacy ---------------------------------------------------------- */

int registry_privacy_get(struct registry *reg, const char *id, struct reg_privacy *out)
{
    struct db_stmt *s = reg->stmt[R_PRIVACY_GET];
    enum db_rc rc;
    int found = 0;
    *out = (struct reg_privacy){.findable = true, .dms = true};
    db_bind_text(s, 1, id);
    rc = db_step(s);
    if (rc == DB_ROW) {
        out->findable = db_column_int64(s, 0) != 0;
        out->dms = db_column_int64(s, 1) != 0;
        found = 1;
    }
    db_reset(s);
    if (rc != DB_ROW && rc != DB_DONE)
        return fail(reg, "users.findable");
    return found;
}

int registry_privacy_set(struct registry *reg, const char *id, const struct reg_privacy *p)
{
    struct db_stmt *s = reg->stmt[R_PRIVACY_SET];
    db_bind_text(s, 1, id);
    db_bind_int64(s, 2, p->findable ? 1 : 0);
    db_bind_int64(s, 3, p->dms ? 1 : 0);
    if (step_done(reg, s, "users.findable") < 0)
        return -1;
    return db_changes(reg->db) > 0;
}

/* ---- Blocks ----------------------------------------------------------- */

int registry_block_set(struct registry *reg, const char *user_id, const char *blocked_id, bool on,
                       long long now_ms)
{
    struct db_stmt *s = reg->stmt[on ? R_BLOCK_ADD : R_BLOCK_REMOVE];
    db_bind_text(s, 1, user_id);
    db_bind_text(s, 2, blocked_id);
    if (on)
        db_bind_int64(s, 3, now_ms);
    return step_done(reg, s, "blocks");
}

int registry_blocks_each(struct registry *reg, const char *user_id, size_t max,
                         void (*fn)(void *arg, const char *blocked_id), void *arg)
{
    struct db_stmt *s = reg->stmt[R_BLOCKS];
    enum db_rc rc;
    db_bind_text(s, 1, user_id);
    db_bind_int64(s, 2, (long long)max);
    while ((rc = db_step(s)) == DB_ROW)
        fn(arg, db_column_text(s, 0));
    db_reset(s);
    return rc == DB_DONE ? 0 : fail(reg, "blocks");
}

/* ---- Audit ------------------------------------------------------------ */

int registry_audit_add(struct registry *reg, const struct reg_audit *a)
{
    struct db_stmt *s = reg->stmt[R_AUDIT_ADD];
    if (!a->actor_id || !a->action) {
        snprintf(reg->err, sizeof(reg->err), "audit: actor and action are required");
        return -1;
    }
    db_bind_int64(s, 1, a->ts_ms);
    db_bind_text(s, 2, a->actor_id);
    db_bind_text(s, 3, a->actor_name ? a->actor_name : "");
    db_bind_text(s, 4, a->action);
    db_bind_text(s, 5, a->target_id);
    db_bind_text(s, 6, a->room);
    db_bind_text(s, 7, a->reason);
    db_bind_text(s, 8, a->target_name);
    db_bind_text(s, 9, a->detail);
    return step_done(reg, s, "audit");
}

int registry_audit_list(struct registry *reg, const char *room, const char *actor_id,
                        long long since_ms, size_t limit,
                        void (*fn)(void *arg, const struct reg_audit *a), void *arg)
{
    enum stmt which =
        room ? (actor_id ? R_AUDIT_BOTH : R_AUDIT_ROOM) : (actor_id ? R_AUDIT_ACTOR : R_AUDIT_ALL);
    struct db_stmt *s = reg->stmt[which];
    enum db_rc rc;
    int k = 1;

    if (room)
        db_bind_text(s, k++, room);
    if (actor_id)
        db_bind_text(s, k++, actor_id);
    db_bind_int64(s, k++, since_ms);
    db_bind_int64(s, k, limit > (size_t)INT64_MAX ? INT64_MAX : (long long)limit);
    while ((rc = db_step(s)) == DB_ROW) {
        struct reg_audit a = {
            .ts_ms = db_column_int64(s, 0),
            .actor_id = column_text(s, 1),
            .actor_name = column_text(s, 2),
            .action = column_text(s, 3),
            .target_id = db_column_text(s, 4),
            .room = db_column_text(s, 5),
            .reason = db_column_text(s, 6),
            .id = db_column_int64(s, 7),
            .target_name = db_column_text(s, 8),
            .detail = db_column_text(s, 9),
        };
        fn(arg, &a);
    }
    db_reset(s);
    return rc == DB_DONE ? 0 : fail(reg, "audit");
}

/* ---- Retention -------------------------------------------------------- */

long registry_retain(struct registry *reg, long long now_ms, int guest_days, int audit_days)
{
    static const enum stmt order[] = {R_RETAIN_GUESTS, R_RETAIN_POSES, R_RETAIN_SANCTIONS,
                                      R_RETAIN_TOKENS, R_RETAIN_AUDIT};
    long long guest_cut = now_ms - (long long)guest_days * DAY_MS;
    long long audit_cut = now_ms - (long long)audit_days * DAY_MS;
    long total = 0;

    if (guest_days < 1 || audit_days < 1) {
        snprintf(reg->err, sizeof(reg->err), "retention: days must be at least 1");
        return -1;
    }
    if (registry_begin(reg) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        struct db_stmt *s = reg->stmt[order[i]];
        long long arg = order[i] == R_RETAIN_AUDIT                                      ? audit_cut
                        : order[i] == R_RETAIN_SANCTIONS || order[i] == R_RETAIN_TOKENS ? now_ms
                                                                                        : guest_cut;
        db_bind_int64(s, 1, arg);
        if (step_done(reg, s, "retention") < 0) {
            registry_rollback(reg);
            return -1;
        }
        total += db_changes(reg->db);
    }
    if (registry_commit(reg) < 0) {
        registry_rollback(reg);
        return -1;
    }
    return total;
}
