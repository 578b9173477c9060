/*
 * programme_api.h - what the HTTP routes of the programme answer:
 *   GET  /api/programme                 the sessions, filtered (public)
 *   GET  /api/admin/programme           the same with each session's questions
 *   POST /api/admin/programme           replace the programme (an admin)
 *   POST /api/sessions/{id}/slides      a new slide deck (its speakers,
 *                                       moderators, admins)
 *   GET  /api/sessions/{id}/slides      the current deck (public; the file
 *                                       is served by the HTTP layer)
 *
 * Like admin_api.h: no transport in here; the HTTP layer (net/http_api.c)
 * parses the request and writes the reply, this module decides what it is.
 * Errors are {"error":{"code","message"[,"field"]}}.
 */
#ifndef VENUE_PROGRAMME_API_H
#define VENUE_PROGRAMME_API_H

#include <stdbool.h>
#include <stddef.h>

#include "admin_api.h"
#include "programme.h"
#include "slides.h"

/*
 * Is path /api/sessions/{id}/slides? true with the id (checked: 1 to 64 of
 * A-Z a-z 0-9 _ -) in id (PROG_ID_MAX bytes); false for any other path,
 * a malformed id included.
 */
bool programme_api_slides_path(const char *path, char id[PROG_ID_MAX]);

/*
 * GET /api/programme (questions false) and GET /api/admin/programme
 * (questions true): {"sessions":[session objects, by start]} with the
 * query's filters, args[0..nargs) decoded "name=value": room=ID (one of
 * the venue's rooms), live=1 (or 0: no filter), day=YYYY-MM-DD (sessions
 * that overlap that UTC day). An unknown, repeated or bad argument is 400
 * naming it.
 */
void programme_api_list(const struct admin_env *env, const char *const *args, size_t nargs,
                        bool questions, struct proto_buf *out, struct admin_reply *rep);

/*
 * POST /api/admin/programme (rq->caller an admin): the body is a programme
 * file. Parsed, people and rooms checked, then it replaces the programme
 * (venue_programme_set): 200 {"sessions":N}, audited as "programme"; or
 * 400 naming the session and field ("field":"sessions[3].start"), and
 * nothing changed.
 */
void programme_api_import(const struct admin_env *env, const struct admin_request *rq,
                          struct proto_buf *out, struct admin_reply *rep);

/*
 * May the bearer of authorization (an "Authorization" header value, NULL
 * when none) upload slides for session id? 0 and *caller when they are
 * one of its speakers or moderators, or an admin; otherwise the status
 * (401 no or a bad token, 403 someone else, 404 no such session, 500)
 * with the error in out and rep.
 */
unsigned programme_api_slides_auth(const struct admin_env *env, const char *id,
                                   const char *authorization, long long wall_ms,
                                   struct reg_user *caller, struct proto_buf *out,
                                   struct admin_reply *rep);

/*
 * The whole body of an upload is in up (slides_begin, then slides_write):
 * is it worth counting its pages? 0 when it was written whole, within
 * --slides-max, and starts like a PDF: count them (slides_count_start on
 * up->tmp), then programme_api_slides_done. Otherwise the status (500,
 * 413, 400, 415) with the error in out and rep, and the upload is over
 * (its temporary file gone).
 */
unsigned programme_api_slides_check(struct slides_upload *up, struct proto_buf *out,
                                    struct admin_reply *rep);

/*
 * The count of an upload by caller that programme_api_slides_check let
 * through is in: pages, or -1 and why (slides_count_poll's reason). Check
 * pages against --slides-pages, put the deck in place as the session's
 * next version, tell the venue (venue_slides_set), remove the previous
 * version's file and answer 200 {"pages":N,"url":"/api/sessions/{id}/
 * slides?v=V"}; or 415 (why), 400, 404, 500. The upload is over (its
 * temporary file gone) either way. now_ms is the core's clock, wall_ms
 * the wall clock (the audit).
 */
void programme_api_slides_done(const struct admin_env *env, struct slides_upload *up,
                               const struct reg_user *caller, int pages, const char *why,
                               long long now_ms, long long wall_ms, struct proto_buf *out,
                               struct admin_reply *rep);

/*
 * The current deck of session id: 1 with its file's path in path and its
 * version, 0 when the session has none (or there is no such session), -1
 * when the path does not fit.
 */
int programme_api_slides_file(const struct admin_env *env, const char *id, char *path, size_t size,
                              int *version);

#endif
