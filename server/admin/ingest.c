/*
 * ingest.c - the NGSI-LD notification endpoint's decisions.
 */
#include "ingest.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ngsi.h"

static const struct {
    unsigned status;
    const char *type, *title;
} problems[] = {
    {400, "https://uri.etsi.org/ngsi-ld/errors/BadRequestData", "Bad request data"},
    {401, "https://uri.etsi.org/ngsi-ld/errors/Unauthorized", "Unauthorized"},
    {405, "https://uri.etsi.org/ngsi-ld/errors/OperationNotSupported", "Method not allowed"},
    {413, "https://uri.etsi.org/ngsi-ld/errors/RequestTooLarge", "Request too large"},
    {415, "https://uri.etsi.org/ngsi-ld/errors/UnsupportedMediaType", "Unsupported media type"},
    {429, "https://uri.etsi.org/ngsi-ld/errors/TooManyRequests", "Too many requests"},
};

/* A ProblemDetails body for status into out (reset first). */
static unsigned problem(struct proto_buf *out, unsigned status, const char *detail)
{
    json_t *doc = NULL;
    char *text;
    proto_buf_reset(out);
    for (size_t i = 0; i < sizeof(problems) / sizeof(problems[0]); i++)
        if (problems[i].status == status)
            doc = json_pack("{s:s, s:s, s:s}", "type", problems[i].type, "title", problems[i].title,
                            "detail", detail);
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (text)
        proto_buf_append(out, text, strlen(text));
    free(text);
    json_decref(doc);
    return status;
}

bool ingest_owns(const char *path)
{
    return strcmp(path, INGEST_PATH) == 0;
}

/* Equal strings, in time that depends only on their lengths. */
static bool same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

unsigned ingest_auth(const struct admin_env *env, const char *authorization, struct proto_buf *out)
{
    static const char bearer[] = "Bearer ";
    if (!env->cfg->ingest_key[0])
        return problem(out, 401, "this venue takes no twin data: start it with --ingest-key");
    if (!authorization)
        return problem(out, 401,
                       "Authorization: missing; send \"Bearer KEY\" (the subscription's "
                       "receiverInfo)");
    if (strncmp(authorization, bearer, sizeof(bearer) - 1) != 0 ||
        !same_secret(authorization + sizeof(bearer) - 1, env->cfg->ingest_key))
        return problem(out, 401, "Authorization: not this venue's ingest key");
    return 0;
}

unsigned ingest_refuse(unsigned status, struct proto_buf *out)
{
    return problem(out, status,
                   status == 405 ? "this path takes POST only"
                                 : "the notification is over the venue's --ingest-max");
}

unsigned ingest_handle(const struct admin_env *env, const char *content_type, const char *link,
                       const char *body, size_t len, long long now_ms, struct proto_buf *out)
{
    struct ngsi_notification n;
    enum ngsi_media media;
    char err[NGSI_ERR_SIZE];
    unsigned status = 200;

    if (ngsi_media_type(content_type, &media, err, sizeof(err)) < 0)
        return problem(out, 415, err);
    if (ngsi_parse(body, len, content_type, link, &n, err, sizeof(err)) < 0)
        return problem(out, 400, err);
    switch (venue_twin_notify(env->venue, &n, now_ms, err, sizeof(err))) {
    case VENUE_TWIN_OK:
        proto_buf_reset(out);
        proto_buf_append(out, "{}", 2);
        break;
    case VENUE_TWIN_REFUSED:
        status = problem(out, 400, err);
        break;
    case VENUE_TWIN_BUSY:
        status = problem(out, 429, err);
        break;
    }
    ngsi_free(&n);
    return status;
}
