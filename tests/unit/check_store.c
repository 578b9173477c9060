/*
 * check_store.c - see check_store.h.
 */
#include "check_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#define MAX_DIRS 64

static char made[MAX_DIRS][128]; /* dirs whose database this process created */
static size_t nmade;

bool check_store_pg(void)
{
    const char *pg = getenv("VENUE_TEST_PG");
    return pg && *pg;
}

/* The server's base URL, read from the folder tests/pg.sh started it in. */
static int base_url(char *out, size_t outlen)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof(path), "%s/url", getenv("VENUE_TEST_PG"));
    if (!(f = fopen(path, "r")) || !fgets(out, (int)outlen, f)) {
        fprintf(stderr, "check_store: %s: no URL (is tests/pg.sh running?)\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

/* A database name from dir's last part: letters and digits, lower case. */
static void db_name(const char *dir, char *out, size_t outlen)
{
    const char *base = strrchr(dir, '/');
    size_t n = 0;
    base = base ? base + 1 : dir;
    n += (size_t)snprintf(out, outlen, "t_");
    for (; *base && n + 1 < outlen; base++) {
        char c = *base;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[n++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
    }
    out[n] = '\0';
}

static bool was_made(const char *dir)
{
    for (size_t i = 0; i < nmade; i++)
        if (strcmp(made[i], dir) == 0)
            return true;
    return false;
}

const char *check_store_where(const char *dir)
{
    static char url[512];
    char base[200], name[48], sql[320], err[256];
    struct db *admin;

    if (!check_store_pg())
        return dir;
    if (base_url(base, sizeof(base)) < 0)
        return NULL;
    db_name(dir, name, sizeof(name));
    snprintf(url, sizeof(url), "%s/%s", base, name);
    if (was_made(dir))
        return url;
    snprintf(sql, sizeof(sql), "%s/postgres", base);
    if (!(admin = db_open(sql, err, sizeof(err)))) {
        fprintf(stderr, "check_store: %s\n", err);
        return NULL;
    }
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name);
    if (db_exec(admin, sql) == 0) {
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
        db_exec(admin, sql);
    }
    if (db_failure(admin) != DB_FAIL_NONE) {
        fprintf(stderr, "check_store: %s: %s\n", name, db_error(admin));
        db_close(admin);
        return NULL;
    }
    db_close(admin);
    if (nmade < MAX_DIRS && strlen(dir) < sizeof(made[0]))
        snprintf(made[nmade++], sizeof(made[0]), "%s", dir);
    return url;
}

struct store *check_store_open(const char *dir, char *err, size_t errlen)
{
    const char *where = check_store_where(dir);
    if (!where) {
        snprintf(err, errlen, "check_store: no database for %s", dir);
        return NULL;
    }
    return store_open(where, err, errlen);
}

long long check_store_int(struct store *st, const char *sql)
{
    struct db_stmt *q = db_prepare(store_db(st), sql);
    long long v = -1;
    if (!q)
        return -1;
    if (db_step(q) == DB_ROW)
        v = db_column_int64(q, 0);
    db_finalize(q);
    return v;
}
