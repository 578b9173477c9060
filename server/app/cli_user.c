/*
 * cli_user.c - `venued user add|import|revoke|list`: the organiser's
 * command line for registrations, against the database in --data.
 *
 * Output is for scripts: JSON on stdout (one object per line), messages on
 * stderr. Tokens appear on stdout or in the tokens file only, never in a
 * message. Runs beside a live server safely: SQLite's WAL and busy timeout
 * let both write the same file.
 */
#include "cli.h"
#include "cli_user.h"
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "registry.h"
#include "store.h"
#include "user_csv.h"

#define DAY_MS 86400000LL

static const char usage_text[] =
    "usage: venued user add --name NAME --role ROLE [--org ORG] [--expires-days D]\n"
    "       venued user import FILE.csv [--out FILE] [--expires-days D]\n"
    "       venued user revoke ID\n"
    "       venued user list [--search TEXT]\n"
    "options for all: --data DIR (VENUE_DATA), --database URL (VENUE_DATABASE),\n"
    "  --public-url URL (VENUE_PUBLIC_URL)\n"
    "roles: " ROLE_NAMES "\n";

/* The options any subcommand may be given. NULL: not given. */
struct args {
    const char *name, *org, *role, *out, *search, *expires;
    const char *positional; /* FILE or ID */
    bool public_url;        /* --public-url was given */
};

#define PUBLIC_URL_FILE "public-url"

void cli_user_note_public_url(const struct venue_config *cfg)
{
    char path[600], tmp[610];
    FILE *f;
    snprintf(path, sizeof(path), "%s/" PUBLIC_URL_FILE, cfg->data_dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", cfg->public_url) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
        fprintf(stderr, "venued: %s: %s (join links of `venued user` may name another port)\n",
                path, strerror(errno));
}

/*
 * The base of the join links: --public-url or VENUE_PUBLIC_URL when given;
 * else the one venued last ran with on this data folder (DATA/public-url);
 * else http://localhost:PORT, PORT from VENUE_PORT or 8080. The last two
 * are said on stderr, so that nobody sends links to the wrong address.
 */
static void link_base(struct venue_config *cfg, const struct args *a, const char *cmd)
{
    char path[600], line[sizeof(cfg->public_url) + 2];
    const char *env = getenv("VENUE_PUBLIC_URL");
    FILE *f;
    if (a->public_url || (env && env[0]))
        return;
    snprintf(path, sizeof(path), "%s/" PUBLIC_URL_FILE, cfg->data_dir);
    f = fopen(path, "r");
    if (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if ((strncmp(line, "http://", 7) == 0 || strncmp(line, "https://", 8) == 0) &&
            strlen(line) < sizeof(cfg->public_url) && !strpbrk(line, " \"<>")) {
            memcpy(cfg->public_url, line, strlen(line) + 1);
            fclose(f);
            fprintf(stderr,
                    "venued user %s: join links use %s, where venued last ran on this data "
                    "folder; pass --public-url URL for the address people open\n",
                    cmd, cfg->public_url);
            return;
        }
    }
    if (f)
        fclose(f);
    fprintf(stderr,
            "venued user %s: join links assume %s (venued has not run on this data folder "
            "yet); pass --public-url URL for the address people open\n",
            cmd, cfg->public_url);
}

static const struct cli_group group;

static int usage(const char *why)
{
    return cli_usage(&group, why);
}

/*
 * Parse argv[2..] (after "user" and the subcommand) into a and cfg.
 * allowed: the option names this subcommand takes. At most one positional
 * argument. 0, or 2 after printing a usage error.
 */
static int parse_args(int argc, char **argv, const char *const *allowed, bool want_positional,
                      struct args *a, struct venue_config *cfg)
{
    memset(a, 0, sizeof(*a));
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *eq, *val;
        char name[32], msg[128];
        size_t len;
        bool ok = false;

        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (!want_positional || a->positional) {
                snprintf(msg, sizeof(msg), "unexpected argument \"%.40s\"", arg);
                return usage(msg);
            }
            a->positional = arg;
            continue;
        }
        arg += 2;
        eq = strchr(arg, '=');
        len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (len >= sizeof(name)) {
            snprintf(msg, sizeof(msg), "unknown option \"--%.40s\"", arg);
            return usage(msg);
        }
        memcpy(name, arg, len);
        name[len] = '\0';
        ok = strcmp(name, "data") == 0 || strcmp(name, "public-url") == 0 ||
             strcmp(name, "database") == 0;
        for (size_t k = 0; !ok && allowed[k]; k++)
            ok = strcmp(name, allowed[k]) == 0;
        if (!ok) {
            snprintf(msg, sizeof(msg), "unknown option \"--%s\" for this command", name);
            return usage(msg);
        }
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            snprintf(msg, sizeof(msg), "--%s needs a value", name);
            return usage(msg);
        }
        if (strcmp(name, "database") == 0) {
            if (strlen(val) >= sizeof(cfg->database) ||
                options_check_database(val, "--database", msg, sizeof(msg)) < 0)
                return usage(val[0] && strlen(val) < sizeof(cfg->database) ? msg
                                                                          : "--database: too long");
            memcpy(cfg->database, val, strlen(val) + 1);
        } else if (strcmp(name, "data") == 0 || strcmp(name, "public-url") == 0) {
            char *dst = name[0] == 'd' ? cfg->data_dir : cfg->public_url;
            size_t cap = name[0] == 'd' ? sizeof(cfg->data_dir) : sizeof(cfg->public_url);
            if (!val[0] || strlen(val) >= cap) {
                snprintf(msg, sizeof(msg), "--%s: must be 1..%zu characters", name, cap - 1);
                return usage(msg);
            }
            memcpy(dst, val, strlen(val) + 1);
            if (name[0] == 'p')
                a->public_url = true;
        } else if (strcmp(name, "name") == 0) {
            a->name = val;
        } else if (strcmp(name, "org") == 0) {
            a->org = val;
        } else if (strcmp(name, "role") == 0) {
            a->role = val;
        } else if (strcmp(name, "out") == 0) {
            a->out = val;
        } else if (strcmp(name, "search") == 0) {
            a->search = val;
        } else if (strcmp(name, "expires-days") == 0) {
            a->expires = val;
        }
    }
    return 0;
}

/* --expires-days D: 1..3650 days from now, or 0 (the default) for none. */
static int parse_expiry(const char *s, long long now_ms, long long *expires_ms)
{
    char *end;
    long d;
    *expires_ms = 0;
    if (!s)
        return 0;
    errno = 0;
    d = strtol(s, &end, 10);
    if (errno || end == s || *end || d < 1 || d > 3650)
        return usage("--expires-days: must be a whole number of days, 1..3650");
    *expires_ms = now_ms + d * DAY_MS;
    return 0;
}

/* Open the store and registry in cfg->data_dir, creating the folder when
 * create is set. 0, or 1 after a message. */
static int open_registry(const struct venue_config *cfg, bool create, struct store **st,
                         struct registry **reg)
{
    char err[512];
    if (create && !cfg->database[0] && mkdir(cfg->data_dir, 0750) < 0 && errno != EEXIST) {
        fprintf(stderr, "venued user: --data %s: %s\n", cfg->data_dir, strerror(errno));
        return 1;
    }
    *st = store_open(config_store(cfg), err, sizeof(err));
    if (!*st) {
        fprintf(stderr, "venued user: store: %s\n", err);
        return 1;
    }
    *reg = registry_open(*st, err, sizeof(err));
    if (!*reg) {
        fprintf(stderr, "venued user: %s\n", err);
        store_close(*st);
        return 1;
    }
    return 0;
}

static void close_registry(struct store *st, struct registry *reg)
{
    registry_close(reg);
    store_close(st);
}

/* Print one JSON object on its own line; steals obj. */
static int print_json(json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!text)
        return -1;
    puts(text);
    free(text);
    return fflush(stdout) == 0 ? 0 : -1;
}

static int cmd_add(int argc, char **argv, struct venue_config *cfg)
{
    static const char *const allowed[] = {"name", "role", "org", "expires-days", NULL};
    struct args a;
    struct store *st;
    struct registry *reg;
    struct reg_user u;
    enum role role;
    char token[REG_TOKEN_LEN + 1], link[512], err[512];
    long long now = clock_wall_ms(), expires;
    int rc;

    if ((rc = parse_args(argc, argv, allowed, false, &a, cfg)) != 0)
        return rc;
    if (!a.name || !a.role)
        return usage(!a.name ? "add: --name is required" : "add: --role is required");
    if (role_parse(a.role, &role) < 0) {
        snprintf(err, sizeof(err), "--role: \"%.40s\" is not one of " ROLE_NAMES, a.role);
        return usage(err);
    }
    if (registry_check_name("--name", a.name, 1, 64, err, sizeof(err)) < 0 ||
        registry_check_name("--org", a.org ? a.org : "", 0, 128, err, sizeof(err)) < 0)
        return usage(err);
    if ((rc = parse_expiry(a.expires, now, &expires)) != 0)
        return rc;
    if (open_registry(cfg, true, &st, &reg))
        return 1;
    if (registry_user_add(reg, a.name, a.org, role, expires, now, &u, token, err, sizeof(err)) <
        0) {
        fprintf(stderr, "venued user add: %s\n", err);
        close_registry(st, reg);
        return 1;
    }
    close_registry(st, reg);
    link_base(cfg, &a, "add");
    user_csv_link(link, sizeof(link), cfg->public_url, token);
    if (print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", u.id, "name", u.name, "org",
                             u.org, "role", role_name(u.role), "token", token, "link", link)) < 0) {
        fprintf(stderr, "venued user add: cannot write the result\n");
        return 1;
    }
    return 0;
}

/* Read a whole regular file of at most USER_CSV_MAX_BYTES. NULL after a
 * message. */
static char *read_list(const char *path, size_t *len)
{
    struct stat sb;
    char *buf = NULL;
    size_t got = 0;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &sb) < 0) {
        fprintf(stderr, "venued user import: %s: %s\n", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        fprintf(stderr, "venued user import: %s: not a regular file\n", path);
        goto fail;
    }
    if (sb.st_size > (off_t)USER_CSV_MAX_BYTES) {
        fprintf(stderr,
                "venued user import: %s: %lld bytes is over the limit of %zu: split the list\n",
                path, (long long)sb.st_size, USER_CSV_MAX_BYTES);
        goto fail;
    }
    buf = malloc((size_t)sb.st_size + 1);
    if (!buf) {
        fprintf(stderr, "venued user import: out of memory\n");
        goto fail;
    }
    /* Read to the end, but never past the limit, even if the file grows
     * while we read it. */
    while ((n = read(fd, buf + got, (size_t)sb.st_size + 1 - got)) > 0) {
        got += (size_t)n;
        if (got > (size_t)sb.st_size) {
            fprintf(stderr, "venued user import: %s: changed while being read\n", path);
            goto fail;
        }
    }
    if (n < 0) {
        fprintf(stderr, "venued user import: %s: %s\n", path, strerror(errno));
        goto fail;
    }
    close(fd);
    *len = got;
    return buf;
fail:
    free(buf);
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* The tokens file, written before the import commits. */
struct tokens_out {
    const char *path;
    int fd;
    const struct user_csv *csv;
    const struct user_csv_result *res;
    const char *public_url;
};

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

static int write_tokens(void *arg)
{
    struct tokens_out *t = arg;
    struct proto_buf b = {0};
    char link[512];
    int rc = proto_buf_printf(&b, "id,name,organisation,role,token,link\r\n");

    for (size_t i = 0; rc == 0 && i < t->csv->n; i++) {
        const struct user_csv_row *row = &t->csv->rows[i];
        user_csv_link(link, sizeof(link), t->public_url, t->res[i].token);
        rc = user_csv_field(&b, t->res[i].id) | proto_buf_append(&b, ",", 1) |
             user_csv_field(&b, row->name) | proto_buf_append(&b, ",", 1) |
             user_csv_field(&b, row->org) | proto_buf_append(&b, ",", 1) |
             user_csv_field(&b, role_name(row->role)) | proto_buf_append(&b, ",", 1) |
             user_csv_field(&b, t->res[i].token) | proto_buf_append(&b, ",", 1) |
             user_csv_field(&b, link) | proto_buf_append(&b, "\r\n", 2);
    }
    if (rc != 0 || write_all(t->fd, b.data, b.len) < 0 || fsync(t->fd) < 0) {
        fprintf(stderr, "venued user import: %s: %s\n", t->path,
                rc != 0 ? "out of memory" : strerror(errno));
        rc = -1;
    }
    /* The buffer held every token: do not leave them in freed memory. */
    if (b.data)
        memset(b.data, 0, b.cap);
    proto_buf_free(&b);
    return rc;
}

/* people.csv -> people.tokens.csv; anything else gets the suffix added. */
static void default_out(char *out, size_t outlen, const char *in)
{
    size_t n = strlen(in);
    if (n > 4 && strcasecmp(in + n - 4, ".csv") == 0)
        n -= 4;
    snprintf(out, outlen, "%.*s.tokens.csv", (int)n, in);
}

static int cmd_import(int argc, char **argv, struct venue_config *cfg)
{
    static const char *const allowed[] = {"out", "expires-days", NULL};
    struct args a;
    struct user_csv csv;
    struct user_csv_result *res = NULL;
    struct store *st = NULL;
    struct registry *reg = NULL;
    struct tokens_out t = {.fd = -1};
    char out[1024], err[768], *data;
    long long now = clock_wall_ms(), expires;
    size_t len;
    int rc;

    if ((rc = parse_args(argc, argv, allowed, true, &a, cfg)) != 0)
        return rc;
    if (!a.positional)
        return usage("import: which FILE.csv?");
    if ((rc = parse_expiry(a.expires, now, &expires)) != 0)
        return rc;
    if (a.out)
        snprintf(out, sizeof(out), "%s", a.out);
    else
        default_out(out, sizeof(out), a.positional);

    data = read_list(a.positional, &len);
    if (!data)
        return 1;
    rc = user_csv_parse(data, len, a.positional, &csv, err, sizeof(err));
    free(data);
    if (rc < 0) {
        fprintf(stderr, "venued user import: %s\nNothing was registered.\n", err);
        return 1;
    }
    res = calloc(csv.n, sizeof(*res));
    if (!res) {
        fprintf(stderr, "venued user import: out of memory\n");
        user_csv_free(&csv);
        return 1;
    }
    rc = 1;
    if (open_registry(cfg, true, &st, &reg))
        goto done;
    /* Never overwrite: an earlier tokens file may be the only copy of its
     * tokens. 0600 whatever the umask: it holds every token in clear. */
    t.fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (t.fd < 0) {
        fprintf(stderr, "venued user import: %s: %s%s\nNothing was registered.\n", out,
                strerror(errno), errno == EEXIST ? " (choose another with --out)" : "");
        goto done;
    }
    if (fchmod(t.fd, 0600) < 0) {
        fprintf(stderr, "venued user import: %s: %s\n", out, strerror(errno));
        goto done;
    }
    t.path = out;
    t.csv = &csv;
    t.res = res;
    link_base(cfg, &a, "import");
    t.public_url = cfg->public_url;
    if (user_csv_register(reg, &csv, expires, now, res, write_tokens, &t, err, sizeof(err)) < 0) {
        fprintf(stderr, "venued user import: %s: %s\nNothing was registered.\n", a.positional, err);
        goto done;
    }
    if (close(t.fd) < 0) {
        /* Committed already: the users exist, and the file was fsync'ed. */
        fprintf(stderr, "venued user import: %s: %s\n", out, strerror(errno));
    }
    t.fd = -1;
    fprintf(stderr,
            "venued user import: registered %zu users from %s; their tokens are in %s "
            "(mode 0600: send each person their link, then delete the file)\n",
            csv.n, a.positional, out);
    rc = 0;
done:
    if (t.fd >= 0) {
        close(t.fd);
        unlink(out);
    }
    if (reg)
        close_registry(st, reg);
    if (res)
        memset(res, 0, csv.n * sizeof(*res));
    free(res);
    user_csv_free(&csv);
    return rc;
}

static int cmd_revoke(int argc, char **argv, struct venue_config *cfg)
{
    static const char *const allowed[] = {NULL};
    struct args a;
    struct store *st;
    struct registry *reg;
    int rc;

    if ((rc = parse_args(argc, argv, allowed, true, &a, cfg)) != 0)
        return rc;
    if (!a.positional)
        return usage("revoke: which user ID?");
    if (open_registry(cfg, false, &st, &reg))
        return 1;
    rc = strlen(a.positional) < REG_ID_MAX ? registry_user_revoke(reg, a.positional) : 0;
    if (rc < 0)
        fprintf(stderr, "venued user revoke: %s\n", registry_error(reg));
    close_registry(st, reg);
    if (rc == 0) {
        fprintf(stderr, "venued user revoke: no user \"%.40s\"\n", a.positional);
        return 1;
    }
    if (rc < 0)
        return 1;
    print_json(json_pack("{s:s, s:b}", "id", a.positional, "revoked", 1));
    fprintf(stderr, "venued user revoke: done; a running server refuses the token from its next "
                    "connection (DELETE /api/admin/users/ID also closes open sessions)\n");
    return 0;
}

static void list_one(void *arg, const struct reg_user *u)
{
    int *failed = arg;
    if (print_json(json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:b}", "id", u->id, "name", u->name,
                             "org", u->org, "role", role_name(u->role), "created_ms",
                             (json_int_t)u->created_ms, "last_seen_ms", (json_int_t)u->last_seen_ms,
                             "revoked", u->revoked)) < 0)
        *failed = 1;
}

static int cmd_list(int argc, char **argv, struct venue_config *cfg)
{
    static const char *const allowed[] = {"search", NULL};
    struct args a;
    struct store *st;
    struct registry *reg;
    int rc, failed = 0;

    if ((rc = parse_args(argc, argv, allowed, false, &a, cfg)) != 0)
        return rc;
    if (open_registry(cfg, false, &st, &reg))
        return 1;
    rc = registry_user_list(reg, a.search, (size_t)-1, list_one, &failed);
    if (rc < 0)
        fprintf(stderr, "venued user list: %s\n", registry_error(reg));
    close_registry(st, reg);
    return rc < 0 || failed ? 1 : 0;
}

static const struct cli_command commands[] = {
    {"add", cmd_add},
    {"import", cmd_import},
    {"revoke", cmd_revoke},
    {"list", cmd_list},
};
static const struct cli_group group = {"venued user", usage_text, commands,
                                       sizeof(commands) / sizeof(commands[0])};

int cli_user_main(int argc, char **argv, struct venue_config *cfg)
{
    return cli_dispatch(&group, argc, argv, cfg);
}
