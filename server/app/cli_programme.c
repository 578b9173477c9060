/*
 * cli_programme.c - `venued programme import|list|demo`: the organiser's
 * command line for the programme, against the database in --data.
 *
 * An import is checked whole before anything is written: the file by
 * programme_parse, every room against the scenes in --scenes (loaded as
 * the server loads them), every person against the registry; then
 * programme_replace writes it in one transaction. Results go to stdout
 * ("imported N sessions", the table of `list`), messages to stderr.
 *
 * The demo's template (scenes/demo/programme/demo.json; README, "The demo
 * programme") is a programme file whose times are offsets from now
 * ("+1:30", "-0:15") and whose people are keys of its "people" list; `demo`
 * registers the people that are missing (found again by name on the next
 * run, so their ids stay), turns the template into a programme file at
 * the current minute and imports it like `import`.
 */
#include "cli.h"
#include "cli_programme.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "options.h"
#include "programme.h"
#include "registry.h"
#include "scene.h"
#include "store.h"
#include "user_csv.h"

#define TEMPLATE_MAX    ((size_t)1 << 20)        /* bytes of a demo template */
#define DEMO_TEMPLATE   "programme/demo.json"    /* under --scenes */
#define DEMO_TOKENS     "demo-people.tokens.csv" /* under --data */
#define DEMO_PEOPLE_MAX 64
#define DEMO_KEY_MAX    33
#define MIN_MS          60000LL

static const char usage_text[] =
    "usage: venued programme import FILE [--data DIR] [--scenes DIR]\n"
    "       venued programme list [--data DIR]\n"
    "       venued programme demo [--data DIR] [--scenes DIR] [--template FILE] [--public-url "
    "URL]\n"
    "import replaces the whole programme with FILE (JSON, see README \"The programme\"):\n"
    "  every session, room and person is checked first; a bad entry is named (session and\n"
    "  field) and then nothing is imported.\n"
    "list prints the programme, times in UTC.\n"
    "demo imports the demo venue's programme (SCENES/" DEMO_TEMPLATE ", times relative to\n"
    "  now) rebased to the current minute, and registers its speakers, moderators and\n"
    "  captioner if they are missing; the join links of those it registers are appended\n"
    "  to DATA/" DEMO_TOKENS " (mode 0600).\n"
    "These read and write the database in --data (VENUE_DATA), or --database URL\n"
    "(VENUE_DATABASE) where the venue keeps it in PostgreSQL. A running venued read the\n"
    "programme when it started and does not see an import: while it runs, replace the\n"
    "programme with POST /api/admin/programme (or on the /admin page), or restart it.\n";

static const struct cli_group group;

static int usage(const char *why)
{
    return cli_usage(&group, why);
}

/* ---- Arguments -------------------------------------------------------- */

struct args {
    const char *file;     /* import's FILE */
    const char *template; /* demo's --template */
};

/* The server options a subcommand takes, handed to options_parse. */
static bool forwarded(const char *name)
{
    static const char *const names[] = {"data", "database", "scenes", "public-url", "port"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/*
 * argv[2..] (after "programme" and the subcommand): FILE when want_file,
 * --template when want_template, and the server options above, which go
 * with the environment through options_parse into cfg (reset to the
 * defaults first). 0, or 2 after a usage message.
 */
static int parse_args(int argc, char **argv, bool want_file, bool want_template, struct args *a,
                      struct venue_config *cfg)
{
    char *fwd[64], msg[600];
    int nfwd = 0;

    memset(a, 0, sizeof(*a));
    fwd[nfwd++] = argv[0];
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *eq;
        char name[32];
        size_t len;

        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (!want_file || a->file) {
                snprintf(msg, sizeof(msg), "unexpected argument \"%.40s\"", arg);
                return usage(msg);
            }
            a->file = arg;
            continue;
        }
        eq = strchr(arg + 2, '=');
        len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (len >= sizeof(name)) {
            snprintf(msg, sizeof(msg), "unknown option \"%.40s\"", arg);
            return usage(msg);
        }
        memcpy(name, arg + 2, len);
        name[len] = '\0';
        if (want_template && strcmp(name, "template") == 0) {
            if (a->template)
                return usage("--template: given twice");
            if (eq)
                a->template = eq + 1;
            else if (i + 1 < argc)
                a->template = argv[++i];
            else
                return usage("--template: needs a value");
            if (!a->template[0])
                return usage("--template: needs a value");
            continue;
        }
        if (!forwarded(name)) {
            snprintf(msg, sizeof(msg), "unknown option \"--%s\" for this command", name);
            return usage(msg);
        }
        if (nfwd + 2 >= (int)(sizeof(fwd) / sizeof(fwd[0])))
            return usage("too many options");
        fwd[nfwd++] = argv[i];
        if (!eq && i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
            fwd[nfwd++] = argv[++i];
    }
    config_defaults(cfg);
    if (options_parse(cfg, nfwd, fwd, msg, sizeof(msg)) != 0)
        return usage(msg);
    return 0;
}

/* ---- Files and the database ------------------------------------------- */

/* A whole regular file of at most max bytes, NUL-terminated. NULL after a
 * message. */
static char *read_whole(const char *cmd, const char *path, size_t max, size_t *len)
{
    struct stat sb;
    char *buf = NULL;
    size_t got = 0;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &sb) < 0) {
        fprintf(stderr, "venued programme %s: %s: %s\n", cmd, path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        fprintf(stderr, "venued programme %s: %s: not a regular file\n", cmd, path);
        goto fail;
    }
    if (sb.st_size > (off_t)max) {
        fprintf(stderr, "venued programme %s: %s: %lld bytes is over the limit of %zu\n", cmd, path,
                (long long)sb.st_size, max);
        goto fail;
    }
    buf = malloc((size_t)sb.st_size + 1);
    if (!buf) {
        fprintf(stderr, "venued programme %s: out of memory\n", cmd);
        goto fail;
    }
    /* Never past the size seen, even if the file grows meanwhile. */
    while ((n = read(fd, buf + got, (size_t)sb.st_size + 1 - got)) > 0) {
        got += (size_t)n;
        if (got > (size_t)sb.st_size) {
            fprintf(stderr, "venued programme %s: %s: changed while being read\n", cmd, path);
            goto fail;
        }
    }
    if (n < 0) {
        fprintf(stderr, "venued programme %s: %s: %s\n", cmd, path, strerror(errno));
        goto fail;
    }
    close(fd);
    buf[got] = '\0';
    *len = got;
    return buf;
fail:
    free(buf);
    if (fd >= 0)
        close(fd);
    return NULL;
}

struct db {
    struct store *st;
    struct registry *reg;
    struct programme *prog;
};

static void close_db(struct db *db)
{
    if (db->prog)
        programme_close(db->prog);
    if (db->reg)
        registry_close(db->reg);
    if (db->st)
        store_close(db->st);
    memset(db, 0, sizeof(*db));
}

/* The store, registry and programme in cfg->data_dir (made when create).
 * 0, or 1 after a message. */
static int open_db(const struct venue_config *cfg, const char *cmd, bool create, struct db *db)
{
    char err[512];
    memset(db, 0, sizeof(*db));
    if (create && mkdir(cfg->data_dir, 0750) < 0 && errno != EEXIST) {
        fprintf(stderr, "venued programme %s: --data %s: %s\n", cmd, cfg->data_dir,
                strerror(errno));
        return 1;
    }
    db->st = store_open(config_store(cfg), err, sizeof(err));
    if (db->st)
        db->reg = registry_open(db->st, err, sizeof(err));
    if (db->reg)
        db->prog = programme_open(db->st, db->reg, err, sizeof(err));
    if (!db->prog) {
        fprintf(stderr, "venued programme %s: %s\n", cmd, err);
        close_db(db);
        return 1;
    }
    return 0;
}

/* ---- Import ----------------------------------------------------------- */

/* Where the session with this id is in the file (programme_parse sorts
 * the sessions by time): its index, or -1. */
static long file_index(const char *text, size_t len, const char *id)
{
    json_t *doc = json_loadb(text, len, 0, NULL), *arr = json_object_get(doc, "sessions"), *s;
    size_t i;
    long at = -1;
    json_array_foreach(arr, i, s)
    {
        const char *sid = json_string_value(json_object_get(s, "id"));
        if (sid && strcmp(sid, id) == 0) {
            at = (long)i;
            break;
        }
    }
    json_decref(doc);
    return at;
}

/*
 * Check and import the programme file text[0..len) (source names it in
 * messages): programme_parse, every room a scene of cfg->scenes_dir,
 * every person registered, then programme_replace. 0 and *n, or 1 after
 * a message (and nothing imported).
 */
static int import_text(const struct venue_config *cfg, const char *cmd, const char *source,
                       const char *text, size_t len, struct db *db, size_t *n)
{
    struct scene_set scenes = {0};
    struct prog_session *ss = NULL;
    char err[1024];
    int rc = 1;

    if (programme_parse(text, len, &ss, n, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued programme %s: %s: %s\nNothing was imported.\n", cmd, source, err);
        return 1;
    }
    if (scene_set_load(cfg->scenes_dir, &scenes, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued programme %s: --scenes: %s\nNothing was imported.\n", cmd, err);
        goto done;
    }
    for (size_t i = 0; i < *n; i++) {
        if (!scene_set_find(&scenes, ss[i].room)) {
            long at = file_index(text, len, ss[i].id);
            fprintf(stderr,
                    "venued programme %s: %s: sessions[%ld] (%s).room: no room \"%s\" in %s\n"
                    "Nothing was imported.\n",
                    cmd, source, at >= 0 ? at : (long)i, ss[i].id, ss[i].room, cfg->scenes_dir);
            goto done;
        }
    }
    if (programme_check_people(db->prog, ss, *n, err, sizeof(err)) < 0 ||
        programme_replace(db->prog, ss, *n, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued programme %s: %s: %s\nNothing was imported.\n", cmd, source, err);
        goto done;
    }
    rc = 0;
done:
    scene_set_free(&scenes);
    free(ss);
    return rc;
}

static void say_running(void)
{
    fprintf(stderr, "venued programme: a venued already running keeps the programme it read at "
                    "start: restart it, or use POST /api/admin/programme while it runs\n");
}

static int cmd_import(int argc, char **argv, struct venue_config *cfg)
{
    struct args a;
    struct db db;
    size_t len, n = 0;
    char *text;
    int rc;

    if ((rc = parse_args(argc, argv, true, false, &a, cfg)) != 0)
        return rc;
    if (!a.file)
        return usage("import: which FILE?");
    text = read_whole("import", a.file, (size_t)PROG_FILE_MAX, &len);
    if (!text) {
        fprintf(stderr, "Nothing was imported.\n");
        return 1;
    }
    rc = open_db(cfg, "import", true, &db);
    if (rc == 0) {
        rc = import_text(cfg, "import", a.file, text, len, &db, &n);
        close_db(&db);
    }
    free(text);
    if (rc == 0) {
        printf("imported %zu sessions\n", n);
        say_running();
    }
    return rc;
}

/* ---- List ------------------------------------------------------------- */

struct list_ctx {
    struct registry *reg;
    size_t n;
    bool failed;
};

/* "2026-12-02T09:30:00Z" -> "2026-12-02 09:30" (date) or "09:30". */
static void when(long long ms, char *out, size_t size, bool with_date)
{
    char iso[32];
    proto_time_text(ms, iso, sizeof(iso));
    if (with_date)
        snprintf(out, size, "%.10s %.5s", iso, iso + 11);
    else
        snprintf(out, size, "%.5s", iso + 11);
}

static void list_one(void *arg, const struct prog_session *s)
{
    struct list_ctx *c = arg;
    char start[32], end[32], a[32], b[32];
    struct proto_buf who = {0};

    when(s->start_ms, start, sizeof(start), true);
    /* The end's date only when it is not the start's. */
    proto_time_text(s->start_ms, a, sizeof(a));
    proto_time_text(s->end_ms, b, sizeof(b));
    when(s->end_ms, end, sizeof(end), strncmp(a, b, 10) != 0);
    for (int p = 0; p < PROG_PART_COUNT; p++) {
        for (size_t i = 0; i < s->npeople[p]; i++) {
            struct reg_user u;
            int found = registry_user_get(c->reg, s->people[p][i], &u);
            if (found < 0)
                c->failed = true;
            proto_buf_printf(&who, "%s%s%s", who.len ? ", " : "",
                             found > 0 ? u.name : s->people[p][i],
                             p == PROG_SPEAKER     ? ""
                             : p == PROG_MODERATOR ? " (moderator)"
                                                   : " (captioner)");
        }
    }
    printf("%-16s  %-5s  %-16s  %-9s  %-20s  %s%s%.*s\n", start, end, s->room,
           prog_state_name(s->state), s->id, s->title, who.len ? " - " : "", (int)who.len,
           who.data ? who.data : "");
    proto_buf_free(&who);
    c->n++;
}

static int cmd_list(int argc, char **argv, struct venue_config *cfg)
{
    struct args a;
    struct db db;
    struct list_ctx c = {0};
    int rc;

    if ((rc = parse_args(argc, argv, false, false, &a, cfg)) != 0)
        return rc;
    if (open_db(cfg, "list", false, &db))
        return 1;
    c.reg = db.reg;
    printf("%-16s  %-5s  %-16s  %-9s  %-20s  %s\n", "START (UTC)", "END", "ROOM", "STATE", "ID",
           "TITLE - PEOPLE");
    rc = programme_each(db.prog, list_one, &c);
    if (rc < 0)
        fprintf(stderr, "venued programme list: %s\n", programme_error(db.prog));
    if (c.failed)
        fprintf(stderr, "venued programme list: %s\n", registry_error(db.reg));
    close_db(&db);
    if (rc == 0 && c.n == 0)
        fprintf(stderr, "venued programme list: the programme is empty "
                        "(venued programme import FILE)\n");
    return rc < 0 || c.failed ? 1 : 0;
}

/* ---- Demo ------------------------------------------------------------- */

struct demo_person {
    char key[DEMO_KEY_MAX];
    const char *name; /* borrowed from the template's JSON */
    const char *org;
    enum role role;
    char id[REG_ID_MAX];
    bool made; /* registered by this run */
    char token[REG_TOKEN_LEN + 1];
};

struct demo {
    struct demo_person people[DEMO_PEOPLE_MAX];
    size_t n;
};

static bool key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n >= DEMO_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '-'))
            return false;
    return true;
}

/* The template's "people": [{"key","name","role","org"?}]. 0, or -1 with
 * err naming the entry. */
static int demo_people(json_t *arr, struct demo *d, char *err, size_t errlen)
{
    json_t *p;
    size_t i;
    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > DEMO_PEOPLE_MAX) {
        snprintf(err, errlen, "people: must be an array of 1 to %d people", DEMO_PEOPLE_MAX);
        return -1;
    }
    json_array_foreach(arr, i, p)
    {
        struct demo_person *dp = &d->people[d->n];
        const char *key = json_string_value(json_object_get(p, "key"));
        const char *role = json_string_value(json_object_get(p, "role"));
        json_t *org = json_object_get(p, "org");
        char msg[320];

        if (!json_is_object(p) || !key || !key_ok(key)) {
            snprintf(err, errlen, "people[%zu].key: must be 1 to 32 of a-z 0-9 -", i);
            return -1;
        }
        for (size_t k = 0; k < d->n; k++) {
            if (strcmp(d->people[k].key, key) == 0) {
                snprintf(err, errlen, "people[%zu].key: \"%s\" is there twice", i, key);
                return -1;
            }
        }
        dp->name = json_string_value(json_object_get(p, "name"));
        if (!dp->name || registry_check_name("name", dp->name, 1, 64, msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "people[%zu].%s", i, dp->name ? msg : "name: required");
            return -1;
        }
        if (!role || role_parse(role, &dp->role) < 0) {
            snprintf(err, errlen, "people[%zu].role: must be one of " ROLE_NAMES, i);
            return -1;
        }
        dp->org = org ? json_string_value(org) : "";
        if (!dp->org || registry_check_name("org", dp->org, 0, 128, msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "people[%zu].%s", i, dp->org ? msg : "org: must be a string");
            return -1;
        }
        snprintf(dp->key, sizeof(dp->key), "%s", key);
        d->n++;
    }
    return 0;
}

/* "+H:MM" or "-H:MM": 0 and the offset in ms, or -1. */
static int parse_offset(const char *s, long long *ms)
{
    int sign = s[0] == '+' ? 1 : s[0] == '-' ? -1 : 0;
    size_t i = 1;
    long long h = 0, m;
    if (!sign || s[1] < '0' || s[1] > '9')
        return -1;
    while (s[i] >= '0' && s[i] <= '9' && i < 3)
        h = h * 10 + (s[i++] - '0');
    if (s[i] != ':' || s[i + 1] < '0' || s[i + 1] > '5' || s[i + 2] < '0' || s[i + 2] > '9' ||
        s[i + 3] != '\0')
        return -1;
    m = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
    *ms = sign * (h * 60 + m) * MIN_MS;
    return 0;
}

static const struct demo_person *person_of(const struct demo *d, const char *key)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->people[i].key, key) == 0)
            return &d->people[i];
    return NULL;
}

/*
 * One session of the template to the programme file's form, in place:
 * start and end at base_ms plus their offsets, people's keys to user ids.
 * 0, or -1 with err naming the field.
 */
static int demo_session(json_t *s, size_t i, const struct demo *d, long long base_ms, char *err,
                        size_t errlen)
{
    static const char *const times[] = {"start", "end"};
    static const char *const parts[] = {"speakers", "moderators", "captioners"};

    if (!json_is_object(s)) {
        snprintf(err, errlen, "sessions[%zu]: must be an object", i);
        return -1;
    }
    for (size_t t = 0; t < 2; t++) {
        const char *rel = json_string_value(json_object_get(s, times[t]));
        char iso[32];
        long long off;
        if (!rel || parse_offset(rel, &off) < 0) {
            snprintf(err, errlen, "sessions[%zu].%s: must be an offset from now, +H:MM or -H:MM", i,
                     times[t]);
            return -1;
        }
        proto_time_text(base_ms + off, iso, sizeof(iso));
        json_object_set_new(s, times[t], json_string(iso));
    }
    for (size_t p = 0; p < 3; p++) {
        json_t *arr = json_object_get(s, parts[p]), *k;
        size_t j;
        if (!arr)
            continue;
        if (!json_is_array(arr)) {
            snprintf(err, errlen, "sessions[%zu].%s: must be an array of people's keys", i,
                     parts[p]);
            return -1;
        }
        json_array_foreach(arr, j, k)
        {
            const char *key = json_string_value(k);
            const struct demo_person *dp = key ? person_of(d, key) : NULL;
            if (!dp) {
                snprintf(err, errlen, "sessions[%zu].%s[%zu]: not a key of \"people\"", i, parts[p],
                         j);
                return -1;
            }
            json_array_set_new(arr, j, json_string(dp->id));
        }
    }
    return 0;
}

struct find_ctx {
    const char *name;
    char id[REG_ID_MAX];
    bool found;
};

/* Users are listed newest first: the last match is the oldest, the one
 * every earlier run found too. */
static void find_one(void *arg, const struct reg_user *u)
{
    struct find_ctx *c = arg;
    if (!u->revoked && strcmp(u->name, c->name) == 0) {
        snprintf(c->id, sizeof(c->id), "%s", u->id);
        c->found = true;
    }
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Append the join links of the people made by this run to path (made
 * with a header, mode 0600). 0, or -1 after a message. */
static int write_tokens(const char *path, const struct demo *d, const char *public_url)
{
    struct proto_buf b = {0};
    struct stat sb;
    char link[512];
    int rc = 0, fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (fd < 0 || fchmod(fd, 0600) < 0 || fstat(fd, &sb) < 0) {
        fprintf(stderr, "venued programme demo: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (sb.st_size == 0)
        rc |= proto_buf_printf(&b, "id,name,organisation,role,token,link\r\n");
    for (size_t i = 0; i < d->n; i++) {
        const struct demo_person *p = &d->people[i];
        if (!p->made)
            continue;
        user_csv_link(link, sizeof(link), public_url, p->token);
        rc |= user_csv_field(&b, p->id) | proto_buf_append(&b, ",", 1) |
              user_csv_field(&b, p->name) | proto_buf_append(&b, ",", 1) |
              user_csv_field(&b, p->org) | proto_buf_append(&b, ",", 1) |
              user_csv_field(&b, role_name(p->role)) | proto_buf_append(&b, ",", 1) |
              user_csv_field(&b, p->token) | proto_buf_append(&b, ",", 1) |
              user_csv_field(&b, link) | proto_buf_append(&b, "\r\n", 2);
    }
    if (rc != 0 || write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0) {
        fprintf(stderr, "venued programme demo: %s: %s\n", path,
                rc != 0 ? "out of memory" : strerror(errno));
        rc = -1;
    }
    if (close(fd) < 0 && rc == 0) {
        fprintf(stderr, "venued programme demo: %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    /* Every token was in the buffer. */
    if (b.data)
        memset(b.data, 0, b.cap);
    proto_buf_free(&b);
    return rc;
}

/*
 * Find each person of the template by name, registering those missing in
 * one transaction that commits only once their tokens are in the tokens
 * file. 0 and *made, or -1 after a message.
 */
static int demo_register(struct db *db, struct demo *d, const char *tokens, const char *public_url,
                         size_t *made)
{
    long long now = clock_wall_ms();
    char err[512];

    *made = 0;
    for (size_t i = 0; i < d->n; i++) {
        struct find_ctx c = {.name = d->people[i].name};
        if (registry_user_list(db->reg, d->people[i].name, 10000, find_one, &c) < 0) {
            fprintf(stderr, "venued programme demo: %s\n", registry_error(db->reg));
            return -1;
        }
        if (c.found)
            memcpy(d->people[i].id, c.id, sizeof(c.id));
        else
            (*made)++;
    }
    if (*made == 0)
        return 0;
    if (registry_begin(db->reg) < 0) {
        fprintf(stderr, "venued programme demo: %s\n", registry_error(db->reg));
        return -1;
    }
    for (size_t i = 0; i < d->n; i++) {
        struct demo_person *p = &d->people[i];
        struct reg_user u;
        if (p->id[0])
            continue;
        if (registry_user_add(db->reg, p->name, p->org, p->role, 0, now, &u, p->token, err,
                              sizeof(err)) < 0) {
            fprintf(stderr, "venued programme demo: people (%s): %s\n", p->key, err);
            registry_rollback(db->reg);
            return -1;
        }
        memcpy(p->id, u.id, sizeof(p->id));
        p->made = true;
    }
    if (write_tokens(tokens, d, public_url) < 0 || registry_commit(db->reg) < 0) {
        registry_rollback(db->reg);
        fprintf(stderr, "venued programme demo: nobody was registered\n");
        return -1;
    }
    return 0;
}

static int cmd_demo(int argc, char **argv, struct venue_config *cfg)
{
    struct args a;
    struct db db = {0};
    struct demo *d = NULL;
    json_t *doc = NULL, *sessions, *v, *out = NULL;
    json_error_t jerr;
    const char *key;
    char path[1100], tokens[1100], err[768], base_text[32], *tpl = NULL, *text = NULL;
    long long base = clock_wall_ms();
    size_t len, made = 0, n = 0, i;
    int rc;

    if ((rc = parse_args(argc, argv, false, true, &a, cfg)) != 0)
        return rc;
    if (a.template)
        snprintf(path, sizeof(path), "%s", a.template);
    else
        snprintf(path, sizeof(path), "%s/" DEMO_TEMPLATE, cfg->scenes_dir);
    snprintf(tokens, sizeof(tokens), "%s/" DEMO_TOKENS, cfg->data_dir);
    base -= base % MIN_MS; /* the current minute */
    rc = 1;

    tpl = read_whole("demo", path, TEMPLATE_MAX, &len);
    if (!tpl)
        return 1;
    d = calloc(1, sizeof(*d));
    doc = json_loadb(tpl, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!d || !doc || !json_is_object(doc)) {
        fprintf(stderr, "venued programme demo: %s: %s\n", path,
                !d     ? "out of memory"
                : !doc ? jerr.text
                       : "must be an object {\"people\",\"sessions\"}");
        goto done;
    }
    json_object_foreach(doc, key, v)
    {
        if (strcmp(key, "people") != 0 && strcmp(key, "sessions") != 0 &&
            strncmp(key, "x-", 2) != 0) {
            fprintf(stderr,
                    "venued programme demo: %s: %.64s: unknown field (people, sessions, x-...)\n",
                    path, key);
            goto done;
        }
    }
    if (demo_people(json_object_get(doc, "people"), d, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued programme demo: %s: %s\n", path, err);
        goto done;
    }
    sessions = json_object_get(doc, "sessions");
    if (!json_is_array(sessions)) {
        fprintf(stderr, "venued programme demo: %s: sessions: must be an array\n", path);
        goto done;
    }
    if (open_db(cfg, "demo", true, &db))
        goto done;
    if (demo_register(&db, d, tokens, cfg->public_url, &made) < 0)
        goto done;
    json_array_foreach(sessions, i, v)
    {
        if (demo_session(v, i, d, base, err, sizeof(err)) < 0) {
            fprintf(stderr, "venued programme demo: %s: %s\nNothing was imported.\n", path, err);
            goto done;
        }
    }
    out = json_pack("{s:O}", "sessions", sessions);
    text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    if (!text) {
        fprintf(stderr, "venued programme demo: out of memory\n");
        goto done;
    }
    if (import_text(cfg, "demo", path, text, strlen(text), &db, &n) != 0)
        goto done;
    proto_time_text(base, base_text, sizeof(base_text));
    if (made)
        fprintf(stderr,
                "venued programme demo: registered %zu demo people; their join links are in %s "
                "(mode 0600)\n",
                made, tokens);
    else
        fprintf(stderr,
                "venued programme demo: the demo people were registered already (their join "
                "links are in %s, from the run that registered them)\n",
                tokens);
    printf("imported %zu sessions (the demo programme, rebased to %s)\n", n, base_text);
    rc = 0;
done:
    if (d)
        memset(d, 0, sizeof(*d)); /* tokens */
    free(d);
    free(text);
    json_decref(out);
    json_decref(doc);
    free(tpl);
    close_db(&db);
    return rc;
}

static const struct cli_command commands[] = {
    {"import", cmd_import},
    {"list", cmd_list},
    {"demo", cmd_demo},
};
static const struct cli_group group = {"venued programme", usage_text, commands,
                                       sizeof(commands) / sizeof(commands[0])};

int cli_programme_main(int argc, char **argv, struct venue_config *cfg)
{
    return cli_dispatch(&group, argc, argv, cfg);
}
