/*
 * admin_api.h - the organisers' HTTP API under /api/admin: registered
 * users, CSV imports, the audit log and who is where right now, for the
 * holders of an admin token (Authorization: Bearer TOKEN).
 *
 * No transport in here: the HTTP layer (net/http_api.c) parses the request
 * (method, path, query, body) and writes the reply; this module decides
 * what the reply is, so it is unit-tested without a socket. Every reply body is JSON; errors are
 * {"error":{"code","message"[,"field"][,"line"]}}.
 */
#ifndef VENUE_ADMIN_API_H
#define VENUE_ADMIN_API_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "proto.h"
#include "registry.h"
#include "twins.h"
#include "venue.h"

struct programme;
struct json_t;

/* What the admin API works on; all borrowed. */
struct admin_env {
    struct registry *reg;
    struct venue *venue;
    struct twins *twins;         /* NULL: no history to show */
    struct programme *programme; /* NULL: no programme store (questions not listed) */
    const struct venue_config *cfg;
};

enum http_method {
    HTTP_GET,
    HTTP_POST,
    HTTP_DELETE,
    HTTP_PUT,
    HTTP_PATCH,
    HTTP_OPTIONS,
    HTTP_HEAD,
    HTTP_METHOD_OTHER
};

#define ADMIN_JSON_MAX ((size_t)64 * 1024)       /* bytes of a JSON request body */
#define ADMIN_CSV_MAX  ((size_t)2 * 1024 * 1024) /* bytes of a CSV import body */

struct admin_request {
    enum http_method method;
    const char *path;        /* decoded, without the query */
    const char *const *args; /* decoded "name=value" query arguments; borrowed */
    size_t nargs;
    const struct reg_user *caller; /* the admin asking (admin_api_auth) */
    const char *body;              /* the request body; NULL when none */
    size_t body_len;
    long long now_ms;  /* the core's monotonic clock, for the venue's events */
    long long wall_ms; /* ms since the epoch, for what is stored and audited */
};

struct admin_import;

struct admin_reply {
    unsigned status;             /* 0 only with import */
    struct admin_import *import; /* an import begun: the caller steps it (admin_import_step) */
    const char *allow;           /* with 405: the methods the path takes (static) */
    bool challenge;              /* with 401: send WWW-Authenticate */
    bool retry_after;            /* with 503: send Retry-After */
};

/* Is path one of ours (/api/admin or below)? */
bool admin_api_owns(const char *path);

/*
 * Who is asking: the token in an "Authorization: Bearer TOKEN" header
 * value (NULL when there was none), checked at wall_ms. 0 and *caller filled for a valid admin
 * token; otherwise the status to answer (401 no, unknown, expired or
 * revoked token; 403 valid but not an admin; 500) with the error in out
 * and rep set.
 */
unsigned admin_api_auth(const struct admin_env *env, const char *authorization, long long wall_ms,
                        struct reg_user *caller, struct proto_buf *out, struct admin_reply *rep);

/* The largest body (method, path) takes; 0 when it takes none. */
size_t admin_api_body_max(enum http_method m, const char *path);

/* Answer an authenticated request: the JSON body into out (reset first),
 * the status and headers into rep. */
void admin_api_handle(const struct admin_env *env, const struct admin_request *rq,
                      struct proto_buf *out, struct admin_reply *rep);

/*
 * POST /api/admin/users/import is answered in steps, so that a long list
 * never holds the service loop: admin_api_handle parses and checks the
 * whole body, begins the import and leaves the job in rep->import with no
 * status. The caller (one job at a time is plenty) calls admin_import_step
 * between its other work, each step writing for about budget_s, until it
 * returns 0: the import is over, kept or not, and the caller frees it.
 * After each step admin_import_answer says whether the answer is ready
 * (the tokens, or why nothing was registered), once. admin_import_cancel:
 * the client went, so nothing written is kept. What an ended import leaves
 * (its records, and an undone one's users) admin_import_tidy clears a
 * step at a time, apart from any job, so the next import need not wait.
 */
int admin_import_step(const struct admin_env *env, struct admin_import *job, double budget_s);
/* The answer, once it is made: true and out (reset first) and rep set. */
bool admin_import_answer(struct admin_import *job, struct proto_buf *out, struct admin_reply *rep);
void admin_import_cancel(struct admin_import *job);
/* One step of tidying: 1 more is left, 0 all is tidy, -1 it failed
 * (logged; the next start of the server tidies). */
int admin_import_tidy(const struct admin_env *env);
void admin_import_free(struct admin_import *job);

/* Write {"error":{"code","message"[,"field"][,"line"]}} to out (reset
 * first); field NULL and line 0 leave those out. 0, or -1 out of memory. */
int admin_api_error(struct proto_buf *out, const char *code, const char *message, const char *field,
                    long line);

/* ---- For the admin layer's other modules (programme_api.c) ---- */

/*
 * Who is asking, whatever their role: like admin_api_auth without the
 * admin check. what names the token wanted in the 401's message ("an
 * admin token", "a speaker's token").
 */
unsigned admin_api_user(const struct admin_env *env, const char *authorization, long long wall_ms,
                        const char *what, struct reg_user *caller, struct proto_buf *out,
                        struct admin_reply *rep);
/* rep->status = status and the error body in out (500 if that fails). */
/*
 * GET /api/me: the registered name and role a join link's token stands
 * for (Authorization: Bearer TOKEN), so that the join screen greets the
 * person instead of asking a name the server would ignore. 200
 * {"name","role"}; 401 for a missing, malformed, unknown, expired or
 * revoked token. The token itself is never in the reply. The caller
 * rate-limits it (a guessing oracle otherwise).
 */
void admin_api_whoami(const struct admin_env *env, const char *authorization, long long wall_ms,
                      struct proto_buf *out, struct admin_reply *rep);

void admin_api_reply_error(struct proto_buf *out, struct admin_reply *rep, unsigned status,
                           const char *code, const char *message, const char *field);
/* rep->status = status and doc (stolen; NULL: out of memory, a 500) in out. */
void admin_api_reply_json(struct proto_buf *out, struct admin_reply *rep, unsigned status,
                          struct json_t *doc);
/* Log a failure of the registry's database and answer 500 without its detail. */
void admin_api_reply_store_error(const struct admin_env *env, struct proto_buf *out,
                                 struct admin_reply *rep);
/* Record an action of caller in the audit log (a failure is logged). */
void admin_api_audit(const struct admin_env *env, const struct reg_user *caller, long long wall_ms,
                     const char *action, const char *target, const char *room, const char *reason);

#endif
