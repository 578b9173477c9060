/*
 * test_registry.c - the registry (users, tokens, sanctions, room settings,
 * audit, retention) and the CSV import, against a real SQLite file in a
 * temporary folder, or a PostgreSQL database of its own (VENUE_TEST_PG).
 * The clock is whatever the test says.
 */
#include <dirent.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "check_store.h"
#include "db.h"
#include "registry.h"
#include "store.h"
#include "user_csv.h"

#define DAY_MS 86400000LL
#define T0     1800000000000LL /* a wall-clock "now" for the tests */

static char dir[256];
static struct store *st;
static struct registry *reg;

static void open_db(void)
{
    char err[512];
    st = check_store_open(dir, err, sizeof(err));
    if (!st) {
        fprintf(stderr, "store_open: %s\n", err);
        exit(1);
    }
    reg = registry_open(st, err, sizeof(err));
    if (!reg) {
        fprintf(stderr, "registry_open: %s\n", err);
        exit(1);
    }
}

static void close_db(void)
{
    registry_close(reg);
    store_close(st);
    reg = NULL;
    st = NULL;
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[n] == '\0';
}

static void sha256_hex(const char *text, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Run one query returning one integer (-1 for none or an error). */
static long long query_int(const char *sql)
{
    return check_store_int(st, sql);
}

/* The store's connection refuses writes (on) or takes them again (off). */
static int read_only(bool on)
{
    struct db *db = store_db(st);
    return db_exec(
        db, on ? db_sql(db, "PRAGMA query_only = ON", "SET default_transaction_read_only = on")
               : db_sql(db, "PRAGMA query_only = OFF", "SET default_transaction_read_only = off"));
}

static int add(const char *name, const char *org, enum role role, long long expires, long long now,
               struct reg_user *u, char *token)
{
    char err[256];
    int rc = registry_user_add(reg, name, org, role, expires, now, u, token, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "registry_user_add(%s): %s\n", name, err);
    return rc;
}

/* ---- Roles and text checks ------------------------------------------- */

static void test_roles_and_text(void)
{
    enum role r;
    char err[256], long_name[300];

    CHECK(strcmp(role_name(ROLE_GUEST), "guest") == 0);
    CHECK(strcmp(role_name(ROLE_ADMIN), "admin") == 0);
    CHECK(role_parse("moderator", &r) == 0 && r == ROLE_MODERATOR);
    CHECK(role_parse("speaker", &r) == 0 && r == ROLE_SPEAKER);
    CHECK(role_parse("Admin", &r) < 0);
    CHECK(role_parse("boss", &r) < 0);
    CHECK(role_parse("", &r) < 0);

    CHECK(registry_check_text("name", "Ada", 1, 64, err, sizeof(err)) == 0);
    CHECK(registry_check_text("name", "", 1, 64, err, sizeof(err)) < 0 &&
          strstr(err, "name: ") == err);
    CHECK(registry_check_text("name", "   ", 1, 64, err, sizeof(err)) < 0 && strstr(err, "blank"));
    CHECK(registry_check_text("org", "", 0, 128, err, sizeof(err)) == 0);
    CHECK(registry_check_text("name", "a\tb", 1, 64, err, sizeof(err)) < 0 &&
          strstr(err, "U+0009"));
    CHECK(registry_check_text("name", "a\x7f", 1, 64, err, sizeof(err)) < 0);
    CHECK(registry_check_text("name", "a\xc2\x85", 1, 64, err, sizeof(err)) < 0); /* NEL, C1 */
    CHECK(registry_check_text("name", "evil\xe2\x80\xaegnp.exe", 1, 64, err, sizeof(err)) < 0 &&
          strstr(err, "U+202E"));
    CHECK(registry_check_text("name", "a\xe2\x80\xa8", 1, 64, err, sizeof(err)) < 0);
    CHECK(registry_check_text("name", "\xff", 1, 64, err, sizeof(err)) < 0 && strstr(err, "UTF-8"));
    CHECK(registry_check_text("name", "\xc0\xaf", 1, 64, err, sizeof(err)) < 0); /* overlong */
    /* 64 code points of 3 bytes each pass; 65 do not. */
    long_name[0] = '\0';
    for (int i = 0; i < 64; i++)
        strcat(long_name, "\xe2\x82\xac"); /* EURO SIGN */
    CHECK(registry_check_text("name", long_name, 1, 64, err, sizeof(err)) == 0);
    strcat(long_name, "x");
    CHECK(registry_check_text("name", long_name, 1, 64, err, sizeof(err)) < 0 && strstr(err, "65"));
    CHECK(registry_check_text("name", "Zo\xc3\xab \xf0\x9f\x98\x80", 1, 64, err, sizeof(err)) == 0);
}

/* ---- Users and tokens ------------------------------------------------- */

static void test_users(void)
{
    struct reg_user a, b, c, g;
    char ta[REG_TOKEN_LEN + 1], tb[REG_TOKEN_LEN + 1], tc[REG_TOKEN_LEN + 1], err[256];

    CHECK(add("Ada Lovelace", "Analytical Engines", ROLE_ADMIN, 0, T0, &a, ta) == 0);
    CHECK(strncmp(a.id, "u-", 2) == 0 && is_hex(a.id + 2, 16));
    CHECK(is_hex(ta, REG_TOKEN_LEN));
    CHECK(strcmp(a.name, "Ada Lovelace") == 0 && a.role == ROLE_ADMIN && a.created_ms == T0);
    CHECK(add("Bob", NULL, ROLE_ATTENDEE, 0, T0 + 1, &b, tb) == 0);
    CHECK(strcmp(b.org, "") == 0);
    CHECK(strcmp(a.id, b.id) != 0 && strcmp(ta, tb) != 0);
    CHECK(add("Carla 50% off_sale", "City of Ghent", ROLE_SPEAKER, 0, T0 + 2, &c, tc) == 0);

    /* Bad input is refused naming the field. */
    CHECK(registry_user_add(reg, "", "", ROLE_GUEST, 0, T0, &g, tc, err, sizeof(err)) < 0 &&
          strncmp(err, "name:", 5) == 0);
    CHECK(registry_user_add(reg, "x\ny", "", ROLE_GUEST, 0, T0, &g, tc, err, sizeof(err)) < 0 &&
          strncmp(err, "name:", 5) == 0);
    {
        char org[200];
        memset(org, 'o', 129);
        org[129] = '\0';
        CHECK(registry_user_add(reg, "x", org, ROLE_GUEST, 0, T0, &g, tc, err, sizeof(err)) < 0 &&
              strncmp(err, "org:", 4) == 0);
    }
    CHECK(registry_user_add(reg, "x", "", (enum role)42, 0, T0, &g, tc, err, sizeof(err)) < 0 &&
          strncmp(err, "role:", 5) == 0);
    CHECK(query_int("SELECT count(*) FROM users") == 3);

    /* Get. */
    CHECK(registry_user_get(reg, a.id, &g) == 1);
    CHECK(strcmp(g.name, "Ada Lovelace") == 0 && strcmp(g.org, "Analytical Engines") == 0);
    CHECK(g.role == ROLE_ADMIN && !g.revoked && g.created_ms == T0 && g.last_seen_ms == 0);
    CHECK(registry_user_get(reg, "u-0000000000000000", &g) == 0);

    /* Set role. */
    CHECK(registry_user_set_role(reg, b.id, ROLE_MODERATOR) == 1);
    CHECK(registry_user_get(reg, b.id, &g) == 1 && g.role == ROLE_MODERATOR);
    CHECK(registry_user_set_role(reg, "u-nobody", ROLE_MODERATOR) == 0);
    CHECK(registry_user_set_role(reg, b.id, ROLE_ATTENDEE) == 1);

    /* Guests: recorded, never over a registered user. */
    CHECK(registry_guest_put(reg, "u-guest00000000001", "Guest One", T0) == 0);
    CHECK(registry_user_get(reg, "u-guest00000000001", &g) == 1 && g.role == ROLE_GUEST);
    CHECK(registry_guest_put(reg, "u-guest00000000001", "Guest Renamed", T0 + 5) == 0);
    CHECK(registry_user_get(reg, "u-guest00000000001", &g) == 1 &&
          strcmp(g.name, "Guest Renamed") == 0 && g.last_seen_ms == T0 + 5);
    CHECK(registry_guest_put(reg, a.id, "Impostor", T0 + 6) == 0);
    CHECK(registry_user_get(reg, a.id, &g) == 1 && strcmp(g.name, "Ada Lovelace") == 0 &&
          g.role == ROLE_ADMIN);
}

struct seen {
    char ids[16][REG_ID_MAX];
    int n;
};

static void collect(void *arg, const struct reg_user *u)
{
    struct seen *s = arg;
    if (s->n < 16)
        snprintf(s->ids[s->n++], REG_ID_MAX, "%s", u->id);
}

static bool seen_name(const struct seen *s, const char *name)
{
    struct reg_user u;
    for (int i = 0; i < s->n; i++)
        if (registry_user_get(reg, s->ids[i], &u) == 1 && strcmp(u.name, name) == 0)
            return true;
    return false;
}

static void test_list(void)
{
    struct seen s = {0};
    struct reg_user u;

    CHECK(registry_user_list(reg, NULL, 100, collect, &s) == 0);
    CHECK(s.n == 3); /* registered only: the guest is not listed */
    CHECK(!seen_name(&s, "Guest Renamed"));
    /* Newest first. */
    CHECK(seen_name(&s, "Carla 50% off_sale"));
    CHECK(registry_user_get(reg, s.ids[0], &u) == 1 && strcmp(u.name, "Carla 50% off_sale") == 0);

    memset(&s, 0, sizeof(s));
    CHECK(registry_user_list(reg, "", 2, collect, &s) == 0 && s.n == 2); /* limit */

    memset(&s, 0, sizeof(s));
    CHECK(registry_user_list(reg, "lovelace", 100, collect, &s) == 0); /* any case */
    CHECK(s.n == 1 && seen_name(&s, "Ada Lovelace"));

    memset(&s, 0, sizeof(s));
    CHECK(registry_user_list(reg, "ghent", 100, collect, &s) == 0); /* by org */
    CHECK(s.n == 1 && seen_name(&s, "Carla 50% off_sale"));

    memset(&s, 0, sizeof(s));
    CHECK(registry_user_list(reg, "50%", 100, collect, &s) == 0); /* % is literal */
    CHECK(s.n == 1);
    memset(&s, 0, sizeof(s));
    CHECK(registry_user_list(reg, "%", 100, collect, &s) == 0);
    CHECK(s.n == 1);
    memset(&s, 0, sizeof(s));
    CHECK(registry_user_list(reg, "50_", 100, collect, &s) == 0); /* _ is literal */
    CHECK(s.n == 0);

    memset(&s, 0, sizeof(s));
    CHECK(registry_user_list(reg, "Bob", 100, collect, &s) == 0 && s.n == 1);
    {
        char id[REG_ID_MAX];
        memcpy(id, s.ids[0], sizeof(id));
        memset(&s, 0, sizeof(s));
        CHECK(registry_user_list(reg, id + 4, 100, collect, &s) == 0); /* by id */
        CHECK(s.n == 1 && strcmp(s.ids[0], id) == 0);
    }
}

static void test_tokens(void)
{
    struct reg_user u, v, w;
    char tu[REG_TOKEN_LEN + 1], tv[REG_TOKEN_LEN + 1], tw[REG_TOKEN_LEN + 1];
    char bad[REG_TOKEN_LEN + 1];

    CHECK(add("Tess", "", ROLE_SPEAKER, 0, T0, &u, tu) == 0);
    CHECK(add("Eve", "", ROLE_ATTENDEE, T0 + DAY_MS, T0, &v, tv) == 0);
    CHECK(add("Rex", "", ROLE_MODERATOR, 0, T0, &w, tw) == 0);

    /* Valid: the user, with last seen updated. */
    CHECK(registry_token_check(reg, tu, T0 + 1000, &w) == 1);
    CHECK(strcmp(w.id, u.id) == 0 && w.role == ROLE_SPEAKER && w.last_seen_ms == T0 + 1000);
    CHECK(registry_user_get(reg, u.id, &w) == 1 && w.last_seen_ms == T0 + 1000);

    /* The bookkeeping write failing (a full disk: here a read-only
     * connection) does not turn the token away; last seen stays as it was. */
    CHECK(read_only(true) == 0);
    CHECK(registry_token_check(reg, tu, T0 + 2000, &w) == 1);
    CHECK(strcmp(w.id, u.id) == 0 && w.last_seen_ms == T0 + 1000);
    CHECK(registry_token_check(reg, tu, T0 + 2500, &w) == 1);
    /* The store's health says so (two failed writes, one outage) ... */
    CHECK(store_health(st)->failing && store_health(st)->failures == 2);
    CHECK(store_health(st)->since > 0 && (strstr(store_health(st)->reason, "readonly") ||
                                          strstr(store_health(st)->reason, "read-only")));
    CHECK(read_only(false) == 0);
    CHECK(registry_token_check(reg, tu, T0 + 3000, &w) == 1 && w.last_seen_ms == T0 + 3000);
    /* ... until a commit reaches the disk. */
    CHECK(!store_health(st)->failing && store_health(st)->failures == 2);
    CHECK(store_health(st)->since == 0 && store_health(st)->reason[0] == '\0');
    CHECK(registry_user_get(reg, u.id, &w) == 1 && w.last_seen_ms == T0 + 3000);

    /* Unknown and malformed. */
    snprintf(bad, sizeof(bad), "%s", tu);
    bad[0] = bad[0] == '0' ? '1' : '0';
    CHECK(registry_token_check(reg, bad, T0, &w) == 0);
    CHECK(registry_token_check(reg, "", T0, &w) == 0);
    CHECK(registry_token_check(reg, "not-a-token", T0, &w) == 0);
    CHECK(registry_token_check(reg, "' OR 1=1 --", T0, &w) == 0);
    {
        char upper[REG_TOKEN_LEN + 1];
        for (int i = 0; i <= REG_TOKEN_LEN; i++)
            upper[i] = (tu[i] >= 'a' && tu[i] <= 'f') ? (char)(tu[i] - 32) : tu[i];
        CHECK(strcmp(upper, tu) == 0 || registry_token_check(reg, upper, T0, &w) == 0);
    }

    /* Expiry: valid up to the last millisecond before it. */
    CHECK(registry_token_check(reg, tv, T0 + DAY_MS - 1, &w) == 1);
    CHECK(registry_token_check(reg, tv, T0 + DAY_MS, &w) == 0);
    CHECK(registry_token_check(reg, tv, T0 + 2 * DAY_MS, &w) == 0);

    /* Revoked: the user and its tokens. */
    CHECK(registry_token_check(reg, tw, T0, &w) == 1);
    CHECK(registry_user_revoke(reg, w.id) == 1);
    CHECK(registry_token_check(reg, tw, T0, &w) == 0);
    CHECK(registry_user_get(reg, w.id, &w) == 1 && w.revoked);
    CHECK(registry_user_revoke(reg, w.id) == 1); /* again: still there, still revoked */
    CHECK(registry_user_revoke(reg, "u-0000000000000000") == 0);
    CHECK(query_int("SELECT count(*) FROM tokens WHERE revoked = 1") == 1);

    /* Only the hash is stored. */
    {
        char hash[65], sql[160];
        sha256_hex(tu, hash);
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM tokens WHERE hash = '%s' AND user_id = '%s'", hash, u.id);
        CHECK(query_int(sql) == 1);
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM tokens WHERE hash = '%s'", tu);
        CHECK(query_int(sql) == 0);
    }
}

/* Is needle anywhere in the file? */
static bool file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    size_t n = strlen(needle), len;
    char *buf;
    bool found = false;
    if (!f)
        return false;
    fseek(f, 0, SEEK_END);
    len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(len + 1);
    if (buf && fread(buf, 1, len, f) == len)
        for (size_t i = 0; i + n <= len && !found; i++)
            found = memcmp(buf + i, needle, n) == 0;
    free(buf);
    fclose(f);
    return found;
}

static void test_no_token_on_disk(void)
{
    char tokens[5][REG_TOKEN_LEN + 1], path[512], hash[65];
    struct reg_user u;
    for (int i = 0; i < 5; i++)
        CHECK(add("Disk", "", ROLE_ATTENDEE, 0, T0, &u, tokens[i]) == 0);
    sha256_hex(tokens[4], hash);
    close_db();
    /* Both the database and its write-ahead log, if any is left; on
     * PostgreSQL the files are the server's, and test_tokens has asked
     * the table for the hash and not the token. */
    for (int f = 0; f < 2 && !check_store_pg(); f++) {
        snprintf(path, sizeof(path), "%s/venue.db%s", dir, f ? "-wal" : "");
        for (int i = 0; i < 5; i++)
            CHECK(!file_contains(path, tokens[i]));
    }
    snprintf(path, sizeof(path), "%s/venue.db", dir);
    CHECK(check_store_pg() || file_contains(path, hash)); /* the check can see what is there */
    open_db();
    CHECK(registry_token_check(reg, tokens[0], T0, &u) == 1); /* survives a reopen */
}

/* ---- Names, privacy and blocks ---------------------------------------- */

static void collect_block(void *arg, const char *blocked_id)
{
    struct seen *s = arg;
    if (s->n < 16)
        snprintf(s->ids[s->n++], REG_ID_MAX, "%s", blocked_id);
}

static void test_names_privacy_blocks(void)
{
    struct reg_user u;
    struct reg_privacy pv = {.findable = false, .dms = false};
    struct seen s = {0};
    char tok[REG_TOKEN_LEN + 1];

    /* Registered names are taken without ASCII case; guests' are not. */
    CHECK(add("Nora Name", "", ROLE_ATTENDEE, 0, T0, &u, tok) == 0);
    CHECK(registry_name_registered(reg, "Nora Name") == 1);
    CHECK(registry_name_registered(reg, "nORA nAME") == 1);
    CHECK(registry_name_registered(reg, "Nora") == 0);
    CHECK(registry_name_registered(reg, "Guest Renamed") == 0); /* test_users' guest */

    /* Privacy: both on until said otherwise; guests have none. */
    CHECK(registry_privacy_get(reg, u.id, &pv) == 1 && pv.findable && pv.dms);
    pv = (struct reg_privacy){.findable = false, .dms = true};
    CHECK(registry_privacy_set(reg, u.id, &pv) == 1);
    pv = (struct reg_privacy){0};
    CHECK(registry_privacy_get(reg, u.id, &pv) == 1 && !pv.findable && pv.dms);
    CHECK(registry_privacy_set(reg, "u-guest00000000001", &pv) == 0);
    CHECK(registry_privacy_get(reg, "u-guest00000000001", &pv) == 0 && pv.findable && pv.dms);

    /* Blocks: twice is once, oldest first (then by id), at most max. */
    CHECK(registry_block_set(reg, u.id, "u-b2", true, T0 + 1) == 0);
    CHECK(registry_block_set(reg, u.id, "u-b1", true, T0 + 1) == 0);
    CHECK(registry_block_set(reg, u.id, "u-b0", true, T0 + 2) == 0);
    CHECK(registry_block_set(reg, u.id, "u-b1", true, T0 + 3) == 0);
    CHECK(registry_blocks_each(reg, u.id, 16, collect_block, &s) == 0 && s.n == 3);
    CHECK(strcmp(s.ids[0], "u-b1") == 0 && strcmp(s.ids[1], "u-b2") == 0 &&
          strcmp(s.ids[2], "u-b0") == 0);
    memset(&s, 0, sizeof(s));
    CHECK(registry_block_set(reg, u.id, "u-b2", false, T0 + 4) == 0);
    CHECK(registry_blocks_each(reg, u.id, 1, collect_block, &s) == 0 && s.n == 1 &&
          strcmp(s.ids[0], "u-b1") == 0);
}

/* ---- Sanctions and room settings -------------------------------------- */

static void test_sanctions(void)
{
    long long until = -1;
    const char *uid = "u-1111111111111111";

    CHECK(registry_sanction_check(reg, SANCTION_BAN, uid, "lobby", T0, &until) == 0);
    /* A room ban applies in that room only. */
    CHECK(registry_sanction_set(reg, SANCTION_BAN, uid, "lobby", T0 + 1000, "spam", "u-mod", T0) ==
          0);
    CHECK(registry_sanction_check(reg, SANCTION_BAN, uid, "lobby", T0, &until) == 1 &&
          until == T0 + 1000);
    CHECK(registry_sanction_check(reg, SANCTION_BAN, uid, "expo", T0, &until) == 0);
    CHECK(registry_sanction_check(reg, SANCTION_BAN, uid, NULL, T0, &until) == 0);
    /* A ban is not a mute. */
    CHECK(registry_sanction_check(reg, SANCTION_MUTE, uid, "lobby", T0, &until) == 0);
    /* It ends on time. */
    CHECK(registry_sanction_check(reg, SANCTION_BAN, uid, "lobby", T0 + 999, &until) == 1);
    CHECK(registry_sanction_check(reg, SANCTION_BAN, uid, "lobby", T0 + 1000, &until) == 0);

    /* A venue-wide mute applies in every room. */
    CHECK(registry_sanction_set(reg, SANCTION_MUTE, uid, NULL, T0 + 5000, NULL, "u-mod", T0) == 0);
    CHECK(registry_sanction_check(reg, SANCTION_MUTE, uid, "expo", T0, &until) == 1 &&
          until == T0 + 5000);
    CHECK(registry_sanction_check(reg, SANCTION_MUTE, uid, NULL, T0, &until) == 1);
    /* The longest one wins: a for-good room mute beats the venue one. */
    CHECK(registry_sanction_set(reg, SANCTION_MUTE, uid, "expo", 0, "for good", "u-mod", T0) == 0);
    CHECK(registry_sanction_check(reg, SANCTION_MUTE, uid, "expo", T0, &until) == 1 && until == 0);
    CHECK(registry_sanction_check(reg, SANCTION_MUTE, uid, "expo", T0 + 100 * DAY_MS, &until) == 1);
    CHECK(registry_sanction_check(reg, SANCTION_MUTE, uid, "lobby", T0, &until) == 1 &&
          until == T0 + 5000);
    /* Setting again replaces. */
    CHECK(registry_sanction_set(reg, SANCTION_MUTE, uid, NULL, T0 + 9000, "longer", "u-mod", T0) ==
          0);
    CHECK(registry_sanction_check(reg, SANCTION_MUTE, uid, "lobby", T0, &until) == 1 &&
          until == T0 + 9000);
    /* Clear. */
    CHECK(registry_sanction_clear(reg, SANCTION_MUTE, uid, "expo") == 1);
    CHECK(registry_sanction_clear(reg, SANCTION_MUTE, uid, "expo") == 0);
    CHECK(registry_sanction_check(reg, SANCTION_MUTE, uid, "expo", T0, &until) == 1 &&
          until == T0 + 9000);
    CHECK(registry_sanction_clear(reg, SANCTION_MUTE, uid, NULL) == 1);
    CHECK(registry_sanction_check(reg, SANCTION_MUTE, uid, "expo", T0, &until) == 0);
    /* Other users are not touched. */
    CHECK(registry_sanction_check(reg, SANCTION_BAN, "u-2222222222222222", "lobby", T0, NULL) == 0);
    CHECK(registry_sanction_set(reg, (enum sanction)9, uid, NULL, 0, NULL, "u-mod", T0) < 0);
}

static void test_rooms(void)
{
    struct reg_room r = {.locked = true, .capacity = 99};
    CHECK(registry_room_get(reg, "plenary", &r) == 0 && !r.locked && r.capacity == 0);
    r.locked = true;
    r.capacity = 12;
    CHECK(registry_room_set(reg, "plenary", &r) == 0);
    memset(&r, 0, sizeof(r));
    CHECK(registry_room_get(reg, "plenary", &r) == 1 && r.locked && r.capacity == 12);
    r.locked = false;
    CHECK(registry_room_set(reg, "plenary", &r) == 0);
    CHECK(registry_room_get(reg, "plenary", &r) == 1 && !r.locked && r.capacity == 12);
    CHECK(registry_room_get(reg, "lobby", &r) == 0);
    r.capacity = -1;
    CHECK(registry_room_set(reg, "lobby", &r) < 0);
}

/* ---- Audit ------------------------------------------------------------ */

struct audit_seen {
    long long ts[32];
    char action[32][32];
    bool target_null[32];
    long long id[32];
    int n;
};

static void audit_collect(void *arg, const struct reg_audit *a)
{
    struct audit_seen *s = arg;
    if (s->n >= 32)
        return;
    s->ts[s->n] = a->ts_ms;
    s->id[s->n] = a->id;
    s->target_null[s->n] = a->target_id == NULL;
    snprintf(s->action[s->n], sizeof(s->action[0]), "%s", a->action);
    s->n++;
}

static void test_audit(void)
{
    struct reg_audit a = {.actor_id = "u-mod1", .actor_name = "Mo"};
    struct audit_seen s;

    a.ts_ms = T0 + 10;
    a.action = "kick";
    a.target_id = "u-x";
    a.room = "lobby";
    a.reason = "rude";
    CHECK(registry_audit_add(reg, &a) == 0);
    a.ts_ms = T0 + 20;
    a.action = "mute";
    a.room = "expo";
    CHECK(registry_audit_add(reg, &a) == 0);
    a.ts_ms = T0 + 30;
    a.action = "lock";
    a.actor_id = "u-mod2";
    a.target_id = NULL;
    a.room = "lobby";
    a.reason = NULL;
    CHECK(registry_audit_add(reg, &a) == 0);
    a.ts_ms = T0 + 40;
    a.action = "ban";
    a.room = NULL;
    a.target_id = "u-y";
    CHECK(registry_audit_add(reg, &a) == 0);
    a.actor_id = NULL;
    CHECK(registry_audit_add(reg, &a) < 0);

    memset(&s, 0, sizeof(s));
    CHECK(registry_audit_list(reg, NULL, NULL, 0, 100, audit_collect, &s) == 0);
    CHECK(s.n == 4 && strcmp(s.action[0], "ban") == 0 && strcmp(s.action[3], "kick") == 0);
    CHECK(s.id[0] > s.id[3]);
    CHECK(s.target_null[1] && !s.target_null[0]);

    memset(&s, 0, sizeof(s));
    CHECK(registry_audit_list(reg, "lobby", NULL, 0, 100, audit_collect, &s) == 0);
    CHECK(s.n == 2 && strcmp(s.action[0], "lock") == 0 && strcmp(s.action[1], "kick") == 0);

    memset(&s, 0, sizeof(s));
    CHECK(registry_audit_list(reg, NULL, "u-mod1", 0, 100, audit_collect, &s) == 0);
    CHECK(s.n == 2 && strcmp(s.action[0], "mute") == 0);

    memset(&s, 0, sizeof(s));
    CHECK(registry_audit_list(reg, "lobby", "u-mod2", 0, 100, audit_collect, &s) == 0);
    CHECK(s.n == 1 && strcmp(s.action[0], "lock") == 0);

    memset(&s, 0, sizeof(s));
    CHECK(registry_audit_list(reg, NULL, NULL, T0 + 20, 100, audit_collect, &s) == 0);
    CHECK(s.n == 3 && s.ts[2] == T0 + 20); /* since is inclusive */

    memset(&s, 0, sizeof(s));
    CHECK(registry_audit_list(reg, NULL, NULL, 0, 2, audit_collect, &s) == 0);
    CHECK(s.n == 2 && s.ts[0] == T0 + 40);

    memset(&s, 0, sizeof(s));
    CHECK(registry_audit_list(reg, "nowhere", NULL, 0, 100, audit_collect, &s) == 0 && s.n == 0);
}

/* The first entry of an action, as listed: its target's name and detail. */
struct audit_named {
    const char *action;
    char target_name[64];
    char detail[128];
    int n;
};

static void audit_named_fn(void *arg, const struct reg_audit *a)
{
    struct audit_named *s = arg;
    if (strcmp(a->action, s->action) != 0 || s->n++)
        return;
    snprintf(s->target_name, sizeof(s->target_name), "%s",
             a->target_name ? a->target_name : "(null)");
    snprintf(s->detail, sizeof(s->detail), "%s", a->detail ? a->detail : "(null)");
}

static struct audit_named audit_named(const char *action)
{
    struct audit_named s = {.action = action};
    CHECK(registry_audit_list(reg, NULL, NULL, 0, 100, audit_named_fn, &s) == 0);
    return s;
}

/*
 * Entries say who and what in words: a guest is kept by the name it had
 * (it may come back under another, or be forgotten), a breakout by its
 * rooms and length. A database from before those columns is upgraded when
 * opened, and its rows take the name the users table has.
 */
static void test_audit_names(void)
{
    const char *guest = "u-guestaudit00000";
    struct reg_audit a = {.ts_ms = T0 + 50,
                          .actor_id = "u-mod1",
                          .actor_name = "Mo",
                          .action = "kick",
                          .target_id = guest,
                          .target_name = "Troll Toll",
                          .room = "lobby"};
    struct audit_named s;

    CHECK(registry_guest_put(reg, guest, "Troll Toll", T0) == 0);
    CHECK(registry_audit_add(reg, &a) == 0);
    a = (struct reg_audit){.ts_ms = T0 + 55,
                           .actor_id = "u-mod1",
                           .actor_name = "Mo",
                           .action = "breakout",
                           .room = "expo",
                           .detail = "6 people to breakout-1 (3), breakout-2 (3) for 5 min"};
    CHECK(registry_audit_add(reg, &a) == 0);
    CHECK(registry_guest_put(reg, guest, "Nice Name", T0 + 60) == 0);
    s = audit_named("kick");
    CHECK(s.n == 2 && strcmp(s.target_name, "Troll Toll") == 0 && strcmp(s.detail, "(null)") == 0);
    s = audit_named("breakout");
    CHECK(s.n == 1 && strcmp(s.target_name, "(null)") == 0 &&
          strcmp(s.detail, "6 people to breakout-1 (3), breakout-2 (3) for 5 min") == 0);

    /* The audit table as the first release made it, with a row of its own. */
    CHECK(db_exec(store_db(st), "ALTER TABLE audit DROP COLUMN target_name;"
                                "ALTER TABLE audit DROP COLUMN detail;"
                                "INSERT INTO audit(ts_ms, actor_id, actor_name, action, target_id,"
                                " room) VALUES(1800000000070, 'u-mod1', 'Mo', 'mute',"
                                " 'u-guestaudit00000', 'lobby');") == 0);
    close_db();
    open_db();
    s = audit_named("mute");
    CHECK(s.n == 2); /* test_audit's and the old row */
    CHECK(strcmp(s.target_name, "Nice Name") == 0 && strcmp(s.detail, "(null)") == 0);
    s = audit_named("kick"); /* its name was in a column the upgrade did not keep */
    CHECK(strcmp(s.target_name, "Nice Name") == 0);
    a.ts_ms = T0 + 80;
    CHECK(registry_audit_add(reg, &a) == 0); /* and the upgraded table takes new rows */
    s = audit_named("breakout");
    CHECK(s.n == 2 && strstr(s.detail, "for 5 min"));
}

/* ---- Retention -------------------------------------------------------- */

static void test_retention(void)
{
    long long now = T0 + 400 * DAY_MS, old = now - 31 * DAY_MS, recent = now - 29 * DAY_MS;
    struct reg_user reg_old, g, exp_user, live_user;
    char tok[REG_TOKEN_LEN + 1], tok_exp[REG_TOKEN_LEN + 1], tok_live[REG_TOKEN_LEN + 1];
    struct store_pose pose = {.p = {1, 0, 2}, .q = {0, 0, 0, 1}};
    struct store_session saved = {.id = "s-1",
                                  .resume_hash = "h",
                                  .user_id = "u-guestsaved00000",
                                  .name = "Saved",
                                  .role = "guest",
                                  .room_id = "lobby",
                                  .q = {0, 0, 0, 1}};
    float p[3], q[4];
    struct reg_audit a = {.actor_id = "u-mod1", .actor_name = "Mo", .action = "kick"};
    long n;

    /* A registered user last seen long ago is kept. */
    CHECK(add("Old Registered", "", ROLE_ATTENDEE, 0, old - DAY_MS, &reg_old, tok) == 0);
    CHECK(registry_token_check(reg, tok, old, &g) == 1);
    /* Guests: one old, one recent, one old with a session saved for resume. */
    CHECK(registry_guest_put(reg, "u-guestold0000000", "Old Guest", old) == 0);
    CHECK(registry_guest_put(reg, "u-guestnew0000000", "New Guest", recent) == 0);
    CHECK(registry_guest_put(reg, "u-guestsaved00000", "Saved", old) == 0);
    CHECK(store_sessions_save(st, &saved, 1) == 0);
    /* Poses: old ones go, whoever they belong to; recent ones stay. */
    pose.user_id = "u-guestold0000000";
    pose.room_id = "lobby";
    CHECK(store_poses_put(st, &pose, 1, old) == 0);
    pose.user_id = "u-guestnew0000000";
    CHECK(store_poses_put(st, &pose, 1, recent) == 0);
    pose.user_id = reg_old.id;
    CHECK(store_poses_put(st, &pose, 1, old) == 0);
    pose.room_id = "expo";
    CHECK(store_poses_put(st, &pose, 1, recent) == 0);
    /* Tokens: expired and revoked ones go. */
    CHECK(add("Expired", "", ROLE_ATTENDEE, now - 1, old, &exp_user, tok_exp) == 0);
    CHECK(add("Live", "", ROLE_ATTENDEE, now + DAY_MS, old, &live_user, tok_live) == 0);
    /* Sanctions: expired ones go. */
    CHECK(registry_sanction_set(reg, SANCTION_BAN, "u-a", NULL, now - 1, NULL, "u-mod1", old) == 0);
    CHECK(registry_sanction_set(reg, SANCTION_BAN, "u-b", NULL, 0, NULL, "u-mod1", old) == 0);
    CHECK(registry_sanction_set(reg, SANCTION_MUTE, "u-c", "lobby", now + 1, NULL, "u-mod1", old) ==
          0);
    /* Audit: kept for its own period. */
    a.ts_ms = now - 366 * DAY_MS;
    CHECK(registry_audit_add(reg, &a) == 0);
    a.ts_ms = now - 364 * DAY_MS;
    CHECK(registry_audit_add(reg, &a) == 0);

    {
        long long audit_before = query_int("SELECT count(*) FROM audit");
        long long tokens_before = query_int("SELECT count(*) FROM tokens");
        /* Rex's (revoked in test_tokens), Eve's (expired a day after T0)
         * and Expired's. */
        long long dead_tokens = 3;
        n = registry_retain(reg, now, 30, 365);
        CHECK(n > 0);
        /* Everything written at T0 in the earlier tests is past 365 days. */
        CHECK(audit_before >= 6);
        CHECK(query_int("SELECT count(*) FROM audit") == 1);
        CHECK(query_int("SELECT count(*) FROM tokens") == tokens_before - dead_tokens);
    }
    CHECK(registry_user_get(reg, "u-guestold0000000", &g) == 0);
    CHECK(registry_user_get(reg, "u-guestnew0000000", &g) == 1);
    CHECK(registry_user_get(reg, "u-guestsaved00000", &g) == 1);
    CHECK(registry_user_get(reg, "u-guest00000000001", &g) == 0); /* from test_users, at T0 */
    CHECK(registry_user_get(reg, reg_old.id, &g) == 1);
    CHECK(store_pose_get(st, "u-guestold0000000", "lobby", p, q) == 0);
    CHECK(store_pose_get(st, "u-guestnew0000000", "lobby", p, q) == 1 && p[2] == 2.0f);
    CHECK(store_pose_get(st, reg_old.id, "lobby", p, q) == 0);
    CHECK(store_pose_get(st, reg_old.id, "expo", p, q) == 1);
    CHECK(registry_token_check(reg, tok_exp, now - 2, &g) == 0); /* deleted, not just expired */
    CHECK(registry_token_check(reg, tok_live, now, &g) == 1);
    CHECK(registry_sanction_check(reg, SANCTION_BAN, "u-a", NULL, old, NULL) == 0);
    CHECK(registry_sanction_check(reg, SANCTION_BAN, "u-b", NULL, now, NULL) == 1);
    CHECK(registry_sanction_check(reg, SANCTION_MUTE, "u-c", "lobby", now, NULL) == 1);
    /* Nothing more to do the second time. */
    CHECK(registry_retain(reg, now, 30, 365) == 0);
    CHECK(registry_retain(reg, now, 0, 365) < 0);
}

/* ---- CSV import ------------------------------------------------------- */

static int parse(const char *text, struct user_csv *c, char *err, size_t errlen)
{
    return user_csv_parse(text, strlen(text), "people.csv", c, err, errlen);
}

static void test_csv_parse(void)
{
    struct user_csv c;
    char err[512];

    /* BOM, header, CRLF, quotes, commas and doubled quotes, blank lines. */
    CHECK(parse("\xEF\xBB\xBFname,organisation,role\r\n"
                "\"Smith, Jane\",\"ACME \"\"Best\"\" Ltd\",speaker\r\n"
                "\r\n"
                "Bob,,Attendee\r\n"
                "  Zo\xc3\xab  , Ghent ,  MODERATOR  \r\n",
                &c, err, sizeof(err)) == 0);
    CHECK(c.n == 3);
    CHECK(strcmp(c.rows[0].name, "Smith, Jane") == 0);
    CHECK(strcmp(c.rows[0].org, "ACME \"Best\" Ltd") == 0 && c.rows[0].role == ROLE_SPEAKER);
    CHECK(c.rows[0].line == 2);
    CHECK(strcmp(c.rows[1].name, "Bob") == 0 && c.rows[1].org[0] == '\0');
    CHECK(c.rows[1].role == ROLE_ATTENDEE && c.rows[1].line == 4);
    CHECK(strcmp(c.rows[2].name, "Zo\xc3\xab") == 0 && strcmp(c.rows[2].org, "Ghent") == 0);
    CHECK(c.rows[2].role == ROLE_MODERATOR && c.rows[2].line == 5);
    user_csv_free(&c);

    /* No header, LF, no final newline. */
    CHECK(parse("Ann,Org,guest\nBen,Org2,admin", &c, err, sizeof(err)) == 0);
    CHECK(c.n == 2 && c.rows[1].role == ROLE_ADMIN && strcmp(c.rows[1].org, "Org2") == 0);
    user_csv_free(&c);

    /* A header in another order, with "organization". */
    CHECK(parse("Role,Name,Organization\nspeaker,Ann,Org\n", &c, err, sizeof(err)) == 0);
    CHECK(c.n == 1 && strcmp(c.rows[0].name, "Ann") == 0 && strcmp(c.rows[0].org, "Org") == 0 &&
          c.rows[0].role == ROLE_SPEAKER);
    user_csv_free(&c);
    /* A header without the organisation column. */
    CHECK(parse("name,role\nAnn,guest\n", &c, err, sizeof(err)) == 0);
    CHECK(c.n == 1 && c.rows[0].org[0] == '\0');
    user_csv_free(&c);

    /* A quoted field may hold a line break, but no name or organisation
     * may: the record is refused at the line it starts on. */
    CHECK(parse("Ann,Org,guest\nBen,\"Org\r\nsecond line\",guest\nCid,Org,boss\n", &c, err,
                sizeof(err)) < 0);
    CHECK(strcmp(err, "people.csv:2: organisation: contains a control character (U+000D)") == 0);
    CHECK(parse("\"A\nB\",Org,guest\n", &c, err, sizeof(err)) < 0);
    CHECK(strstr(err, "people.csv:1: name: contains a control character"));
    CHECK(parse("Ann,Org,guest\nBen,Org,boss\n", &c, err, sizeof(err)) < 0);
    CHECK(strcmp(err, "people.csv:2: role: \"boss\" is not one of guest, attendee, speaker, "
                      "moderator, admin") == 0);

    /* Malformed CSV. */
    CHECK(parse("Ann,Org,guest\n\"Ben,Org,guest\n", &c, err, sizeof(err)) < 0);
    CHECK(strstr(err, "people.csv:2: a quoted field is never closed"));
    CHECK(parse("Ann,O\"rg,guest\n", &c, err, sizeof(err)) < 0);
    CHECK(strstr(err, "people.csv:1: a quote inside an unquoted field"));
    CHECK(parse("\"Ann\"x,Org,guest\n", &c, err, sizeof(err)) < 0);
    CHECK(strstr(err, "people.csv:1: unexpected text after a closing quote"));
    CHECK(parse("Ann,Org\n", &c, err, sizeof(err)) < 0);
    CHECK(strstr(err, "people.csv:1: expected 3 fields"));
    CHECK(parse("Ann,Org,guest,extra\n", &c, err, sizeof(err)) < 0);
    CHECK(strstr(err, "found 4"));
    CHECK(parse("name,company,role\n", &c, err, sizeof(err)) < 0);
    CHECK(strstr(err, "people.csv:1: header:") && strstr(err, "company"));
    CHECK(parse("", &c, err, sizeof(err)) < 0 && strstr(err, "no rows"));
    CHECK(parse("name,organisation,role\r\n\r\n", &c, err, sizeof(err)) < 0 &&
          strstr(err, "no rows"));
    CHECK(user_csv_parse("Ann,O\0g,guest\n", 14, "people.csv", &c, err, sizeof(err)) < 0 &&
          strstr(err, "NUL"));

    /* Hostile content. */
    CHECK(parse("Ann\x1b[31m,Org,guest\n", &c, err, sizeof(err)) < 0);
    CHECK(strstr(err, "people.csv:1: name: contains a control character (U+001B)"));
    CHECK(parse("Ann,\xff\xfe,guest\n", &c, err, sizeof(err)) < 0);
    CHECK(strstr(err, "people.csv:1: organisation: not valid UTF-8"));
    CHECK(parse("Ann,Org,\x1b[2Jboss\n", &c, err, sizeof(err)) < 0);
    CHECK(strstr(err, "role: \"?[2Jboss\""));
    CHECK(parse("Ann,Org,\n", &c, err, sizeof(err)) < 0 && strstr(err, "role: missing"));
    CHECK(parse(",Org,guest\n", &c, err, sizeof(err)) < 0 && strstr(err, "name: must not be"));
    {
        /* 100000 rows pass; one more does not. */
        size_t per = strlen("n,o,guest\n"), rows = USER_CSV_MAX_ROWS + 1;
        char *big = malloc(per * rows + 1);
        for (size_t i = 0; i < rows; i++)
            memcpy(big + i * per, "n,o,guest\n", per);
        big[per * rows] = '\0';
        CHECK(user_csv_parse(big, per * (rows - 1), "big.csv", &c, err, sizeof(err)) == 0 &&
              c.n == USER_CSV_MAX_ROWS);
        user_csv_free(&c);
        CHECK(user_csv_parse(big, per * rows, "big.csv", &c, err, sizeof(err)) < 0);
        CHECK(strstr(err, "big.csv: more than 100000 rows"));
        free(big);
    }
    CHECK(user_csv_parse("x", USER_CSV_MAX_BYTES + 1, "huge.csv", &c, err, sizeof(err)) < 0 &&
          strstr(err, "over the limit"));
}

static int refuse(void *arg)
{
    (*(int *)arg)++;
    return -1;
}

static int accept_commit(void *arg)
{
    (*(int *)arg)++;
    return 0;
}

static void test_csv_register(void)
{
    struct user_csv c;
    struct user_csv_result res[3];
    char err[512];
    long long before = query_int("SELECT count(*) FROM users WHERE registered = 1");
    int called = 0;
    struct reg_user u;

    CHECK(parse("name,organisation,role\nA1,O,guest\nA2,O,speaker\nA3,,admin\n", &c, err,
                sizeof(err)) == 0);
    /* The hook refuses: nothing stays. */
    CHECK(user_csv_register(reg, &c, 0, T0, res, refuse, &called, err, sizeof(err)) < 0);
    CHECK(called == 1);
    CHECK(query_int("SELECT count(*) FROM users WHERE registered = 1") == before);
    CHECK(registry_token_check(reg, res[0].token, T0, &u) == 0);
    /* Accepted: all three, each with a working token. */
    CHECK(user_csv_register(reg, &c, T0 + DAY_MS, T0, res, accept_commit, &called, err,
                            sizeof(err)) == 0);
    CHECK(called == 2);
    CHECK(query_int("SELECT count(*) FROM users WHERE registered = 1") == before + 3);
    for (int i = 0; i < 3; i++) {
        CHECK(registry_token_check(reg, res[i].token, T0, &u) == 1 && strcmp(u.id, res[i].id) == 0);
        CHECK(u.role == c.rows[i].role);
    }
    CHECK(registry_token_check(reg, res[0].token, T0 + DAY_MS, &u) == 0); /* the expiry holds */
    user_csv_free(&c);
}

/* An import whose writer died before keeping it is undone at the next
 * open; one a live process is writing is left alone. */
static void test_import_recovery(void)
{
    struct user_csv c;
    struct user_csv_result res[2], theirs[1];
    struct user_csv_import mine, live;
    struct reg_user u;
    char err[512], sql[128];
    long long before = query_int("SELECT count(*) FROM users WHERE registered = 1");

    CHECK(parse("Crash One,O,guest\nCrash Two,O,guest\n", &c, err, sizeof(err)) == 0);
    CHECK(user_csv_import_begin(&mine, reg, &c, 0, T0, res, err, sizeof(err)) == 0);
    CHECK(user_csv_import_step(&mine, 60, err, sizeof(err)) == 0); /* all written */
    CHECK(query_int("SELECT count(*) FROM users WHERE registered = 1") == before + 2);
    CHECK(registry_token_check(reg, res[0].token, T0, &u) == 1);
    {
        struct user_csv one = c;
        one.n = 1;
        CHECK(user_csv_import_begin(&live, reg, &one, 0, T0, theirs, err, sizeof(err)) == 0);
        CHECK(user_csv_import_step(&live, 60, err, sizeof(err)) == 0);
        /* as if another process wrote it: our parent, alive */
        snprintf(sql, sizeof(sql), "UPDATE imports SET pid = %d WHERE id = %lld", (int)getppid(),
                 live.id);
        CHECK(db_exec(store_db(st), sql) == 0);
    }
    close_db(); /* the crash: neither kept nor undone */
    open_db();
    CHECK(registry_token_check(reg, res[0].token, T0, &u) == 0);
    CHECK(registry_token_check(reg, res[1].token, T0, &u) == 0);
    CHECK(registry_token_check(reg, theirs[0].token, T0, &u) == 1);
    CHECK(query_int("SELECT count(*) FROM users WHERE registered = 1") == before + 1);
    /* ... until that one is undone by its writer, and tidied. */
    live.reg = reg;
    CHECK(user_csv_import_end(&live, false, err, sizeof(err)) == 0);
    CHECK(user_csv_import_end(&live, true, err, sizeof(err)) < 0); /* ended once only */
    while (registry_import_tidy(reg, 1) > 0)
        ;
    CHECK(registry_token_check(reg, theirs[0].token, T0, &u) == 0);
    CHECK(query_int("SELECT count(*) FROM users WHERE registered = 1") == before);
    CHECK(query_int("SELECT count(*) FROM imports") == 0);
    CHECK(query_int("SELECT count(*) FROM import_users") == 0);
    user_csv_free(&c);
}

static void test_csv_write(void)
{
    struct proto_buf b = {0};
    char link[256];
    CHECK(user_csv_field(&b, "plain") == 0);
    CHECK(user_csv_field(&b, "a,b") == 0);
    CHECK(user_csv_field(&b, "say \"hi\"") == 0);
    CHECK(user_csv_field(&b, "two\nlines") == 0);
    CHECK(b.len == strlen("plain\"a,b\"\"say \"\"hi\"\"\"\"two\nlines\"") &&
          memcmp(b.data, "plain\"a,b\"\"say \"\"hi\"\"\"\"two\nlines\"", b.len) == 0);
    proto_buf_free(&b);
    /* would-be formulas are text: quoted, with a ' first */
    static const char *const in[] = {"=IMPORTXML(A1)", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "a=b"};
    static const char *const out[] = {"\"'=IMPORTXML(A1)\"",
                                      "\"'+1\"",
                                      "\"'-2\"",
                                      "\"'@SUM(A1)\"",
                                      "\"'\tx\"",
                                      "\"'\rx\"",
                                      "a=b"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        CHECK(user_csv_field(&b, in[i]) == 0);
        CHECK(b.len == strlen(out[i]) && memcmp(b.data, out[i], b.len) == 0);
        proto_buf_free(&b);
    }
    user_csv_link(link, sizeof(link), "https://v.example.org/", "abc");
    CHECK(strcmp(link, "https://v.example.org/?token=abc") == 0);
    user_csv_link(link, sizeof(link), "http://localhost:8080", "abc");
    CHECK(strcmp(link, "http://localhost:8080/?token=abc") == 0);
}

static void remove_dir(const char *d)
{
    char path[512];
    DIR *dp = opendir(d);
    struct dirent *e;
    while (dp && (e = readdir(dp))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
        unlink(path);
    }
    if (dp)
        closedir(dp);
    rmdir(d);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/venue-registry-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    open_db();
    test_roles_and_text();
    test_users();
    test_list();
    test_tokens();
    test_no_token_on_disk();
    test_names_privacy_blocks();
    test_sanctions();
    test_rooms();
    test_audit();
    test_audit_names();
    test_retention();
    test_csv_parse();
    test_csv_register();
    test_import_recovery();
    test_csv_write();
    close_db();
    remove_dir(dir);
    return check_report();
}
