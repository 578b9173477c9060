/*
 * user_csv.h - lists of people to register, as CSV: parse and validate a
 * whole list before anything is written, register it all-or-nothing, and
 * write CSV fields back. Shared by `venued user import` and
 * POST /api/admin/users/import.
 *
 * The input is RFC 4180 CSV: fields separated by commas, records by CRLF
 * or LF; a field in double quotes may hold commas, line breaks and quotes
 * (doubled). A leading UTF-8 byte-order mark is skipped. The first record
 * is a header when it names the columns (name, organisation, role, in any
 * order; "organization" and "org" too); otherwise every record is
 * name,organisation,role. Blank lines are skipped.
 */
#ifndef VENUE_USER_CSV_H
#define VENUE_USER_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"
#include "registry.h"

#define USER_CSV_MAX_ROWS  100000
#define USER_CSV_MAX_BYTES ((size_t)10 * 1024 * 1024)

struct user_csv_row {
    const char *name; /* borrowed from the user_csv's text */
    const char *org;
    enum role role;
    long line; /* where the record starts, counting from 1 */
};

struct user_csv {
    struct user_csv_row *rows; /* owned */
    size_t n;
    char *text; /* owned: every field, NUL-terminated */
};

/*
 * Parse and check data[0..len): every row's name, organisation and role
 * are validated as registry_user_add would. source names the input in
 * messages: "people.csv:7: role: \"boss\" is not one of guest, ...". 0, or
 * -1 with the first problem in err and nothing to free.
 */
int user_csv_parse(const char *data, size_t len, const char *source, struct user_csv *out,
                   char *err, size_t errlen);
void user_csv_free(struct user_csv *c);

/* What registering rows[i] produced. */
struct user_csv_result {
    char id[REG_ID_MAX];
    char token[REG_TOKEN_LEN + 1];
};

/*
 * Registering a parsed list in steps, all or nothing, so that a long list
 * never holds the database: begin records the import; each step writes
 * the next rows in one short transaction, for about budget_s (one row at
 * least); end keeps them all or undoes them all in one row, and the
 * registry tidies after (registry_import_tidy). Between two steps the
 * database is free: the service loop's own writes, a live server's.
 */
struct user_csv_import {
    struct registry *reg;        /* borrowed */
    const struct user_csv *csv;  /* borrowed */
    struct user_csv_result *res; /* borrowed: csv->n entries, filled as rows are written */
    long long expires_ms, now_ms;
    long long id; /* the registry's import */
    size_t done;  /* rows written */
};
#define USER_CSV_STEP_MS   5   /* a step of a CLI import, and of the admin API's */
#define USER_CSV_PAUSE_MS  5   /* between a CLI import's steps */
#define USER_CSV_TIDY_ROWS 500 /* rows a step of tidying takes */

/* 0, or -1 with a reason in err. */
int user_csv_import_begin(struct user_csv_import *im, struct registry *reg,
                          const struct user_csv *c, long long expires_ms, long long now_ms,
                          struct user_csv_result *res, char *err, size_t errlen);
/* 1 more to write, 0 all written, -1 failed (the row and why in err: end
 * the import unkept). */
int user_csv_import_step(struct user_csv_import *im, double budget_s, char *err, size_t errlen);
/* 0, or -1 (err): keeping fails only when another process took the import
 * for dead and undid it. */
int user_csv_import_end(struct user_csv_import *im, bool keep, char *err, size_t errlen);

/*
 * All of an import at once, for the CLI: steps with a pause between them;
 * before keeping it, before_commit (if not NULL) is called: returning -1
 * undoes everything (the CLI writes the tokens file there, so that no user
 * exists whose token was lost). 0, or -1 with a reason in err and nothing
 * registered.
 */
int user_csv_register(struct registry *reg, const struct user_csv *c, long long expires_ms,
                      long long now_ms, struct user_csv_result *res,
                      int (*before_commit)(void *arg), void *arg, char *err, size_t errlen);

/* Append s as one CSV field, quoted when it holds a comma, quote or line
 * break; one that a spreadsheet would take for a formula (a leading = + -
 * @, tab or CR) is quoted with a ' before it. */
int user_csv_field(struct proto_buf *b, const char *s);

/* A join link: base (trailing slashes dropped) + "/?token=" + token. */
void user_csv_link(char *out, size_t outlen, const char *base, const char *token);

#endif
