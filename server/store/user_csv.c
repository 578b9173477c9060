/*
 * user_csv.c - CSV lists of people: a strict RFC 4180 reader that reports
 * the line of the first problem, validation of every row, and an
 * all-or-nothing registration.
 */
#include "user_csv.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

enum column { COL_NAME, COL_ORG, COL_ROLE, COL_COUNT };

#define MAX_FIELDS 16 /* more than this in one record is not a list of people */

/* Reader state over the input. */
struct reader {
    const char *p, *end;
    long line; /* of p, from 1 */
    char *out; /* where the next field's bytes go */
};

/* One record: up to MAX_FIELDS fields pointing into the output text. */
struct record {
    char *field[MAX_FIELDS];
    size_t n;
    long line;
};

static int fmt_error(char *err, size_t errlen, const char *source, long line, const char *msg)
{
    if (line > 0)
        snprintf(err, errlen, "%s:%ld: %s", source, line, msg);
    else
        snprintf(err, errlen, "%s: %s", source, msg);
    return -1;
}

/* Consume one line break at r->p if there is one (CRLF, LF or a lone CR). */
static bool eat_newline(struct reader *r)
{
    if (r->p < r->end && *r->p == '\r') {
        r->p++;
        if (r->p < r->end && *r->p == '\n')
            r->p++;
        r->line++;
        return true;
    }
    if (r->p < r->end && *r->p == '\n') {
        r->p++;
        r->line++;
        return true;
    }
    return false;
}

/*
 * Read one record. 1 read (rec filled), 0 end of input, -1 malformed
 * (err set). Each field is copied, unquoted, to r->out and NUL-terminated.
 */
static int read_record(struct reader *r, struct record *rec, const char *source, char *err,
                       size_t errlen)
{
    rec->n = 0;
    rec->line = r->line;
    if (r->p >= r->end)
        return 0;
    for (;;) {
        char *start = r->out;
        if (rec->n == MAX_FIELDS)
            return fmt_error(err, errlen, source, rec->line,
                             "too many fields (expected name,organisation,role)");
        if (r->p < r->end && *r->p == '"') {
            long open_line = r->line;
            r->p++;
            for (;;) {
                if (r->p >= r->end)
                    return fmt_error(err, errlen, source, open_line,
                                     "a quoted field is never closed");
                if (*r->p == '"') {
                    if (r->p + 1 < r->end && r->p[1] == '"') {
                        *r->out++ = '"';
                        r->p += 2;
                        continue;
                    }
                    r->p++;
                    break;
                }
                if (*r->p == '\n' || (*r->p == '\r' && (r->p + 1 >= r->end || r->p[1] != '\n')))
                    r->line++;
                *r->out++ = *r->p++;
            }
            if (r->p < r->end && *r->p != ',' && *r->p != '\r' && *r->p != '\n')
                return fmt_error(err, errlen, source, r->line,
                                 "unexpected text after a closing quote (a quote inside a "
                                 "quoted field must be doubled)");
        } else {
            while (r->p < r->end && *r->p != ',' && *r->p != '\r' && *r->p != '\n') {
                if (*r->p == '"')
                    return fmt_error(err, errlen, source, r->line,
                                     "a quote inside an unquoted field (quote the whole field "
                                     "and double the quote)");
                *r->out++ = *r->p++;
            }
        }
        if (memchr(start, '\0', (size_t)(r->out - start)))
            return fmt_error(err, errlen, source, rec->line, "contains a NUL byte");
        *r->out++ = '\0';
        rec->field[rec->n++] = start;
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        eat_newline(r);
        return 1;
    }
}

/* Spaces and tabs around a field are spreadsheet noise, not data. */
static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *e = '\0';
    return s;
}

static void lower_ascii(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static int column_of(const char *h)
{
    if (strcmp(h, "name") == 0)
        return COL_NAME;
    if (strcmp(h, "organisation") == 0 || strcmp(h, "organization") == 0 || strcmp(h, "org") == 0)
        return COL_ORG;
    if (strcmp(h, "role") == 0)
        return COL_ROLE;
    return -1;
}

/*
 * Is rec a header? It is when it has a field "name" and a field "role"
 * (after trimming, in any case). Then every field must name a column, once:
 * map[i] is the column of field i. -1 with err for a header that is wrong.
 */
static int detect_header(struct record *rec, int map[MAX_FIELDS], bool *is_header,
                         const char *source, char *err, size_t errlen)
{
    char low[MAX_FIELDS][16];
    bool has_name = false, has_role = false, seen[COL_COUNT] = {false};
    char msg[160];

    *is_header = false;
    for (size_t i = 0; i < rec->n; i++) {
        const char *t = rec->field[i];
        while (*t == ' ' || *t == '\t')
            t++;
        snprintf(low[i], sizeof(low[i]), "%s", t);
        lower_ascii(trim(low[i]));
        has_name |= strcmp(low[i], "name") == 0;
        has_role |= strcmp(low[i], "role") == 0;
    }
    if (!has_name || !has_role)
        return 0;
    *is_header = true;
    for (size_t i = 0; i < rec->n; i++) {
        int c = column_of(low[i]);
        if (c < 0 || seen[c]) {
            snprintf(msg, sizeof(msg),
                     "header: column %zu is %s \"%.40s\" (expected name, organisation, role)",
                     i + 1, c < 0 ? "unknown:" : "repeated:", low[i]);
            return fmt_error(err, errlen, source, rec->line, msg);
        }
        seen[c] = true;
        map[i] = c;
    }
    return 0;
}

/* A value quoted in a message: at most 40 characters of printable ASCII,
 * anything else shown as '?' (the message may end up in a terminal, and
 * every role name is ASCII anyway). */
static void quote_value(char *out, size_t outlen, const char *v)
{
    size_t k = 0, i = 0;
    while (v[i] && k + 4 < outlen && k < 40) {
        unsigned char c = (unsigned char)v[i++];
        if (c >= 0x80)
            while ((v[i] & 0xC0) == 0x80)
                i++;
        out[k++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
    }
    if (v[i] && k + 4 <= outlen) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

static int check_row(struct record *rec, const int map[MAX_FIELDS], size_t ncols,
                     struct user_csv_row *row, const char *source, char *err, size_t errlen)
{
    char *col[COL_COUNT] = {NULL, NULL, NULL};
    char msg[512], shown[64];

    if (rec->n != ncols) {
        snprintf(msg, sizeof(msg), "expected %zu fields (%s), found %zu", ncols,
                 ncols == COL_COUNT ? "name,organisation,role" : "as in the header", rec->n);
        return fmt_error(err, errlen, source, rec->line, msg);
    }
    for (size_t i = 0; i < rec->n; i++)
        col[map[i]] = trim(rec->field[i]);
    row->line = rec->line;
    row->name = col[COL_NAME];
    row->org = col[COL_ORG] ? col[COL_ORG] : "";
    if (registry_check_name("name", row->name, 1, 64, msg, sizeof(msg)) < 0 ||
        registry_check_name("organisation", row->org, 0, 128, msg, sizeof(msg)) < 0)
        return fmt_error(err, errlen, source, rec->line, msg);
    if (!proto_utf8_valid(col[COL_ROLE], strlen(col[COL_ROLE])))
        return fmt_error(err, errlen, source, rec->line, "role: not valid UTF-8");
    quote_value(shown, sizeof(shown), col[COL_ROLE]);
    lower_ascii(col[COL_ROLE]);
    if (!col[COL_ROLE][0])
        return fmt_error(err, errlen, source, rec->line, "role: missing (one of " ROLE_NAMES ")");
    if (role_parse(col[COL_ROLE], &row->role) < 0) {
        snprintf(msg, sizeof(msg), "role: \"%s\" is not one of " ROLE_NAMES, shown);
        return fmt_error(err, errlen, source, rec->line, msg);
    }
    return 0;
}

static bool blank_record(const struct record *rec)
{
    return rec->n == 1 && rec->field[0][0] == '\0';
}

int user_csv_parse(const char *data, size_t len, const char *source, struct user_csv *out,
                   char *err, size_t errlen)
{
    struct reader r = {.p = data, .end = data + len, .line = 1};
    struct record rec;
    int map[MAX_FIELDS] = {COL_NAME, COL_ORG, COL_ROLE};
    size_t ncols = COL_COUNT, cap = 0;
    bool first = true;
    int rc;

    memset(out, 0, sizeof(*out));
    if (len > USER_CSV_MAX_BYTES) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%zu bytes is over the limit of %zu", len, USER_CSV_MAX_BYTES);
        return fmt_error(err, errlen, source, 0, msg);
    }
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        r.p += 3;
    /* Unquoting only shrinks a field, and each field's NUL takes the place
     * of the separator after it: the input's size (+1 for the last) is
     * enough. */
    out->text = malloc(len + 2);
    if (!out->text)
        return fmt_error(err, errlen, source, 0, "out of memory");
    r.out = out->text;
    while ((rc = read_record(&r, &rec, source, err, errlen)) > 0) {
        if (blank_record(&rec))
            continue;
        if (first) {
            bool is_header;
            first = false;
            if (detect_header(&rec, map, &is_header, source, err, errlen) < 0)
                goto fail;
            if (is_header) {
                ncols = rec.n;
                continue;
            }
        }
        if (out->n == USER_CSV_MAX_ROWS) {
            char msg[96];
            snprintf(msg, sizeof(msg), "more than %d rows: split the list", USER_CSV_MAX_ROWS);
            fmt_error(err, errlen, source, 0, msg);
            goto fail;
        }
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct user_csv_row *p = realloc(out->rows, ncap * sizeof(*p));
            if (!p) {
                fmt_error(err, errlen, source, 0, "out of memory");
                goto fail;
            }
            out->rows = p;
            cap = ncap;
        }
        if (check_row(&rec, map, ncols, &out->rows[out->n], source, err, errlen) < 0)
            goto fail;
        out->n++;
    }
    if (rc < 0)
        goto fail;
    if (out->n == 0) {
        fmt_error(err, errlen, source, 0, "no rows (expected name,organisation,role)");
        goto fail;
    }
    return 0;
fail:
    user_csv_free(out);
    return -1;
}

void user_csv_free(struct user_csv *c)
{
    free(c->rows);
    free(c->text);
    memset(c, 0, sizeof(*c));
}

int user_csv_import_begin(struct user_csv_import *im, struct registry *reg,
                          const struct user_csv *c, long long expires_ms, long long now_ms,
                          struct user_csv_result *res, char *err, size_t errlen)
{
    memset(im, 0, sizeof(*im));
    im->reg = reg;
    im->csv = c;
    im->res = res;
    im->expires_ms = expires_ms;
    im->now_ms = now_ms;
    if (registry_import_begin(reg, now_ms, &im->id) < 0) {
        snprintf(err, errlen, "%s", registry_error(reg));
        return -1;
    }
    return 0;
}

int user_csv_import_step(struct user_csv_import *im, double budget_s, char *err, size_t errlen)
{
    double until = clock_mono_seconds() + budget_s;
    struct reg_user u;
    char why[256];

    assert(im->done < im->csv->n); /* a step after the last one has nothing to write */
    if (registry_begin(im->reg) < 0) {
        if (registry_locked(im->reg))
            return 1; /* another process writes: nothing done, the next step tries */
        snprintf(err, errlen, "%s", registry_error(im->reg));
        return -1;
    }
    do {
        const struct user_csv_row *row = &im->csv->rows[im->done];
        struct user_csv_result *r = &im->res[im->done];
        if (registry_user_add(im->reg, row->name, row->org, row->role, im->expires_ms, im->now_ms,
                              &u, r->token, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "line %ld: %s", row->line, why);
            registry_rollback(im->reg);
            return -1;
        }
        if (registry_import_user(im->reg, im->id, u.id) < 0) {
            snprintf(err, errlen, "line %ld: %s", row->line, registry_error(im->reg));
            registry_rollback(im->reg);
            return -1;
        }
        memcpy(r->id, u.id, sizeof(r->id));
        im->done++;
    } while (im->done < im->csv->n && clock_mono_seconds() < until);
    if (registry_commit(im->reg) < 0) {
        snprintf(err, errlen, "%s", registry_error(im->reg));
        registry_rollback(im->reg);
        return -1;
    }
    return im->done < im->csv->n;
}

int user_csv_import_end(struct user_csv_import *im, bool keep, char *err, size_t errlen)
{
    if (registry_import_end(im->reg, im->id, keep) < 0) {
        snprintf(err, errlen, "%s", registry_error(im->reg));
        return -1;
    }
    return 0;
}

int user_csv_register(struct registry *reg, const struct user_csv *c, long long expires_ms,
                      long long now_ms, struct user_csv_result *res,
                      int (*before_commit)(void *arg), void *arg, char *err, size_t errlen)
{
    /* Another process (a live server) gets the database between steps,
     * as long as a step: it never waits for the lock, and tries again at
     * its next tick (park.h). */
    const struct timespec pause = {0, USER_CSV_PAUSE_MS * 1000000L};
    struct user_csv_import im;
    char why[256];
    bool kept;
    int rc;

    if (user_csv_import_begin(&im, reg, c, expires_ms, now_ms, res, err, errlen) < 0)
        return -1;
    while ((rc = user_csv_import_step(&im, USER_CSV_STEP_MS / 1000.0, err, errlen)) > 0)
        nanosleep(&pause, NULL);
    if (rc == 0 && before_commit && before_commit(arg) < 0) {
        snprintf(err, errlen, "nothing registered");
        rc = -1;
    }
    kept = rc == 0;
    if (kept && user_csv_import_end(&im, true, err, errlen) < 0)
        return -1; /* undone by another process: nothing is registered */
    if (!kept && user_csv_import_end(&im, false, why, sizeof(why)) < 0)
        fprintf(stderr, "venued: import: %s; the next start undoes it\n", why);
    /* What is left to tidy is harmless meanwhile: an error leaves it for
     * the next import or start. */
    while (registry_import_tidy(reg, USER_CSV_TIDY_ROWS) > 0)
        nanosleep(&pause, NULL);
    return kept ? 0 : -1;
}

int user_csv_field(struct proto_buf *b, const char *s)
{
    /* A spreadsheet runs a cell that starts with = + - @ (or a tab or CR)
     * as a formula, in the rows that hold every token: a leading ' makes
     * it text (OWASP's advice on CSV injection). */
    bool formula = s[0] && strchr("=+-@\t\r", s[0]);
    if (!formula && !strpbrk(s, ",\"\r\n"))
        return proto_buf_append(b, s, strlen(s));
    if (proto_buf_append(b, formula ? "\"'" : "\"", formula ? 2 : 1) < 0)
        return -1;
    for (const char *q; (q = strchr(s, '"')); s = q + 1)
        if (proto_buf_append(b, s, (size_t)(q - s)) < 0 || proto_buf_append(b, "\"\"", 2) < 0)
            return -1;
    if (proto_buf_append(b, s, strlen(s)) < 0)
        return -1;
    return proto_buf_append(b, "\"", 1);
}

void user_csv_link(char *out, size_t outlen, const char *base, const char *token)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    snprintf(out, outlen, "%.*s/?token=%s", (int)n, base, token);
}
