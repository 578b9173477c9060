/*
 * ingest.h - POST /ngsi-ld/v1/notify: what city brokers (Orion-LD,
 * Stellio, Scorpio) push to the venue, and the answer each gets.
 *
 * No transport in here: net/http_api.c reads the request (headers and the
 * body, within --ingest-max) and writes the reply; this module checks the
 * key, parses the notification (twin/ngsi.h) and hands it to the core,
 * whole or not at all. Answers, as brokers expect them:
 *   200 {} applied (Stellio counts only 200 as delivered)
 *   401    no key, a wrong key, or no --ingest-key set
 *   405    not POST (Allow: POST)
 *   413    over --ingest-max
 *   415    a Content-Type other than application/json or application/ld+json
 *   400    anything else wrong with it: the detail names the field
 *   429    over --ingest-rate (Retry-After: 1)
 * Error bodies are NGSI-LD ProblemDetails: {"type","title","detail"}.
 */
#ifndef VENUE_INGEST_H
#define VENUE_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "admin_api.h"
#include "proto.h"

#define INGEST_PATH "/ngsi-ld/v1/notify"

bool ingest_owns(const char *path);

/* The Authorization header value (NULL when none) against the venue's
 * key, in constant time. 0 when it is right; else 401 with the body in out. */
unsigned ingest_auth(const struct admin_env *env, const char *authorization, struct proto_buf *out);

/* A notification's problem: the status to answer with its body in out
 * (405 for a method other than POST, 413 for a body over the limit). */
unsigned ingest_refuse(unsigned status, struct proto_buf *out);

/*
 * Take one authenticated notification: its Content-Type and Link headers
 * (NULL when absent) and the body. Returns the status, with the reply body
 * in out (reset first).
 */
unsigned ingest_handle(const struct admin_env *env, const char *content_type, const char *link,
                       const char *body, size_t len, long long now_ms, struct proto_buf *out);

#endif
