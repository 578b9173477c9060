/*
 * ngsi.c - NGSI-LD notifications: the headers, the JSON (jansson), the
 * entities and their attributes in the three forms, and the date-times.
 *
 * Everything here reads untrusted bytes: each check refuses with a message
 * that names the field ("data[2].no2.unitCode: must be a string"), and no
 * input is asserted. Parsing builds the whole notification on the side and
 * hands it over only when every entity and attribute passed, so a refusal
 * returns nothing. Messages quote input only as printable ASCII (every
 * other byte becomes '?'), so they can go into a log line or a JSON reply
 * as they are, even when cut to the caller's buffer.
 *
 * jansson checks the syntax and the UTF-8, refuses \u0000, duplicate keys,
 * integers beyond long long and reals that overflow; the nesting is bounded
 * here before jansson recurses into it. JSON values are kept as compact
 * text with reals to 15 significant digits (enough for any sensor reading
 * or coordinate, and what people typed: 0.1 stays "0.1").
 */
#include "ngsi.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto.h"

/* Room for a field's path: "data[99]." + a name + "[index]" + a member. */
#define WHERE_SIZE 160
/* Bytes of input quoted in a message, before "...". */
#define QUOTE_MAX 40
/* How JSON values are written back. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

/* ---- Errors ----------------------------------------------------------- */

/* Fill err (when there is one) and return -1, so that callers can write
 * `return fail(...)`. Bytes outside printable ASCII become '?'. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    for (char *p = err; *p; p++) {
        if (*p < 0x20 || *p > 0x7E)
            *p = '?';
    }
    return -1;
}

/* s[0..len) for a message: at most QUOTE_MAX bytes, then "...". The bytes
 * are sanitized by fail. Returns out. */
static const char *quote(char out[QUOTE_MAX + 4], const char *s, size_t len)
{
    if (len > QUOTE_MAX) {
        memcpy(out, s, QUOTE_MAX);
        memcpy(out + QUOTE_MAX, "...", 4);
    } else {
        memcpy(out, s, len);
        out[len] = '\0';
    }
    return out;
}

/* What one parse reports into. */
struct parse {
    char *err; /* borrowed: the caller's buffer, or NULL */
    size_t errlen;
    enum ngsi_media media;
};

#define FAIL(ps, ...) fail((ps)->err, (ps)->errlen, __VA_ARGS__)

/* ---- Characters ------------------------------------------------------- */

static bool is_alpha(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* s[0..n) equals the lower-case word w, ignoring case. */
static bool ieq(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (lower((unsigned char)s[i]) != w[i])
            return false;
    }
    return true;
}

/* [A-Za-z0-9_], 1..max bytes. */
static bool is_compact(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_alpha((unsigned char)s[i]) && !is_digit((unsigned char)s[i]) && s[i] != '_')
            return false;
    }
    return true;
}

/*
 * An absolute URI, loosely: a scheme (a letter, then letters, digits, '+',
 * '-' or '.'), ':', at least one more byte; every byte printable ASCII and
 * none of the ones RFC 3986 never allows (space, <>"{}|\^`).
 */
static bool is_uri(const char *s, size_t len)
{
    size_t i = 0;

    if (len == 0 || !is_alpha((unsigned char)s[0]))
        return false;
    while (i < len && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
                       s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i == len || s[i] != ':' || i + 1 == len)
        return false;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7F || strchr("<>\"{}|\\^`", c))
            return false;
    }
    return true;
}

/*
 * The short form of a name: a compact name as it is, or an IRI's last
 * segment (after the last '/', '#' or ':'), into out (max + 1 bytes).
 * Returns 0, or -1 if neither fits.
 */
static int short_name(const char *s, size_t len, char *out, size_t max)
{
    const char *tail = s;

    if (!is_compact(s, len, max)) {
        if (!is_uri(s, len))
            return -1;
        for (size_t i = 0; i < len; i++) {
            if (s[i] == '/' || s[i] == '#' || s[i] == ':')
                tail = s + i + 1;
        }
        len -= (size_t)(tail - s);
        if (!is_compact(tail, len, max))
            return -1;
    }
    memcpy(out, tail, len);
    out[len] = '\0';
    return 0;
}

/* ---- Date-times ------------------------------------------------------- */

/* n decimal digits at s into *v; false at anything else (a NUL included,
 * so s is never read past its end). */
static bool digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (the
 * era arithmetic of H. Hinnant's days_from_civil: no timegm, no TZ). */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (long long)era * 146097 + doe - 719468;
}

int ngsi_parse_time(const char *s, long long *ms)
{
    int y, mo, d, h, mi, sec, frac = 0, off = 0, oh, om;

    if (!s || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
        !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return -1;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 60)
        return -1;
    s += 19;
    if (*s == '.') {
        s++;
        if (!is_digit((unsigned char)*s))
            return -1;
        int n = 0;
        for (; is_digit((unsigned char)*s); s++, n++) {
            if (n < 3)
                frac = frac * 10 + (*s - '0');
        }
        for (; n < 3; n++)
            frac *= 10; /* ".5" is 500 ms */
    }
    if (*s == 'Z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        if (!digits(s + 1, 2, &oh) || s[3] != ':' || !digits(s + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = (oh * 60 + om) * (*s == '-' ? -1 : 1);
        s += 6;
    } else {
        return -1;
    }
    if (*s != '\0')
        return -1;
    *ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi - off) * 60000LL + sec * 1000LL + frac;
    return 0;
}

/* ---- Headers ---------------------------------------------------------- */

static bool is_tchar(int c)
{
    return c > 0 && (is_alpha(c) || is_digit(c) || strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static const char *skip_token(const char *p)
{
    while (is_tchar((unsigned char)*p))
        p++;
    return p;
}

/* A byte of an unquoted parameter value. A token, loosely: senders write
 * rel=http://www.w3.org/ns/json-ld#context without quotes, which RFC 8288
 * asks receivers to accept although ':' and '/' are not token bytes. */
static bool is_bare(int c)
{
    return c > 0x20 && c < 0x7F && c != ';' && c != ',' && c != '"';
}

/*
 * A parameter value at p: bare bytes or an RFC 9110 quoted-string,
 * unquoted into buf (size bytes; *fits false when it did not fit). Returns
 * the byte after it, or NULL when there is none or the quotes are not
 * closed.
 */
static const char *param_value(const char *p, char *buf, size_t size, bool *fits)
{
    size_t n = 0;

    *fits = true;
    buf[0] = '\0';
    if (*p != '"') {
        const char *end = p;
        while (is_bare((unsigned char)*end))
            end++;
        if (end == p)
            return NULL;
        n = (size_t)(end - p);
        if (n >= size) {
            *fits = false;
        } else {
            memcpy(buf, p, n);
            buf[n] = '\0';
        }
        return end;
    }
    for (p++; *p != '"'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\\')
            c = (unsigned char)*++p;
        if (c == '\0' || (c < 0x20 && c != '\t') || c == 0x7F)
            return NULL;
        if (n + 1 < size)
            buf[n++] = (char)c;
        else
            *fits = false;
    }
    buf[n] = '\0';
    return p + 1;
}

int ngsi_media_type(const char *ct, enum ngsi_media *media, char *err, size_t errlen)
{
    char q[QUOTE_MAX + 4], value[32];
    const char *p, *end;
    bool fits;

    if (!ct || !*skip_ows(ct))
        return fail(err, errlen, "Content-Type: missing (application/json or application/ld+json)");
    p = skip_ows(ct);
    end = skip_token(p);
    if (*end == '/')
        end = skip_token(end + 1);
    if (ieq(p, (size_t)(end - p), "application/json"))
        *media = NGSI_MEDIA_JSON;
    else if (ieq(p, (size_t)(end - p), "application/ld+json"))
        *media = NGSI_MEDIA_LD_JSON;
    else
        return fail(err, errlen,
                    "Content-Type: \"%s\" is not supported (application/json or "
                    "application/ld+json)",
                    quote(q, ct, strlen(ct)));
    for (p = skip_ows(end); *p; p = skip_ows(p)) {
        const char *name;
        if (*p != ';')
            return fail(err, errlen, "Content-Type: \"%s\": malformed parameters",
                        quote(q, ct, strlen(ct)));
        p = skip_ows(p + 1);
        if (!*p || *p == ';')
            continue; /* empty parameters are allowed */
        name = p;
        p = skip_token(p);
        if (p == name || *p != '=' || !(end = param_value(p + 1, value, sizeof value, &fits)))
            return fail(err, errlen, "Content-Type: \"%s\": malformed parameters",
                        quote(q, ct, strlen(ct)));
        if (ieq(name, (size_t)(p - name), "charset") &&
            (!fits || !ieq(value, strlen(value), "utf-8")))
            return fail(err, errlen, "Content-Type: charset \"%s\" is not supported (utf-8 only)",
                        quote(q, value, strlen(value)));
        p = end;
    }
    return 0;
}

/* True if the space-separated relation types in rel include the context. */
static bool rel_is_context(const char *rel)
{
    size_t want = strlen(NGSI_CONTEXT_REL);

    for (const char *p = rel; *p;) {
        const char *end;
        while (*p == ' ' || *p == '\t')
            p++;
        for (end = p; *end && *end != ' ' && *end != '\t'; end++)
            ;
        if ((size_t)(end - p) == want && memcmp(p, NGSI_CONTEXT_REL, want) == 0)
            return true;
        p = end;
    }
    return false;
}

/* ngsi_link_context without the clean-up: url may be half written on -1. */
static int link_scan(const char *link, char *url, size_t size, char *err, size_t errlen)
{
    char q[QUOTE_MAX + 4], rel[128];
    const char *p = link;
    int found = 0;

    for (;;) {
        const char *uri, *uri_end;
        bool seen_rel = false, context = false, fits;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        if (*p != '<')
            return fail(err, errlen, "Link: \"%s\": a link must start with <url>",
                        quote(q, p, strlen(p)));
        uri = p + 1;
        uri_end = strchr(uri, '>');
        if (!uri_end)
            return fail(err, errlen, "Link: \"%s\": no '>' after the url", quote(q, p, strlen(p)));
        p = skip_ows(uri_end + 1);
        while (*p == ';') {
            const char *name = skip_ows(p + 1), *name_end = skip_token(name);
            if (name_end == name)
                return fail(err, errlen, "Link: \"%s\": malformed parameter",
                            quote(q, name, strlen(name)));
            p = skip_ows(name_end);
            rel[0] = '\0';
            fits = true;
            if (*p == '=') {
                p = param_value(skip_ows(p + 1), rel, sizeof rel, &fits);
                if (!p)
                    return fail(err, errlen, "Link: \"%s\": malformed parameter",
                                quote(q, name, strlen(name)));
                p = skip_ows(p);
            }
            /* Only the first rel counts (RFC 8288, 3.3); a rel too long
             * to be ours is not ours. */
            if (ieq(name, (size_t)(name_end - name), "rel") && !seen_rel) {
                seen_rel = true;
                context = fits && rel_is_context(rel);
            }
        }
        if (*p && *p != ',')
            return fail(err, errlen, "Link: \"%s\": expected ',' or ';'", quote(q, p, strlen(p)));
        if (!context)
            continue;
        if (found)
            return fail(err, errlen, "Link: more than one JSON-LD context");
        found = 1;
        size_t n = (size_t)(uri_end - uri);
        if (n > NGSI_ID_MAX || !is_uri(uri, n))
            return fail(err, errlen,
                        "Link: context <%s> is not an absolute URI of at most %d bytes",
                        quote(q, uri, n), NGSI_ID_MAX);
        if (n >= size)
            return fail(err, errlen, "Link: context URL longer than %zu bytes",
                        size ? size - 1 : 0);
        memcpy(url, uri, n);
        url[n] = '\0';
    }
    return found;
}

int ngsi_link_context(const char *link, char *url, size_t size, char *err, size_t errlen)
{
    int rc;

    if (size > 0)
        url[0] = '\0';
    if (!link)
        return 0;
    rc = link_scan(link, url, size, err, errlen);
    if (rc < 0 && size > 0)
        url[0] = '\0';
    return rc;
}

/* ---- JSON values ------------------------------------------------------ */

/* A copy of a jansson string (at most max bytes) into v->text. */
static int take_string(struct parse *ps, json_t *s, size_t max, const char *where,
                       struct ngsi_value *v)
{
    size_t len = json_string_length(s);

    if (len > max)
        return FAIL(ps, "%s: longer than %zu bytes", where, max);
    v->text = malloc(len + 1);
    if (!v->text)
        return FAIL(ps, "%s: out of memory", where);
    memcpy(v->text, json_string_value(s), len + 1);
    v->kind = NGSI_STRING;
    return 0;
}

/* Any JSON as compact text, at most NGSI_JSON_MAX bytes, into v->text. */
static int take_json(struct parse *ps, json_t *j, const char *where, struct ngsi_value *v)
{
    char *text = json_dumps(j, DUMP_FLAGS);

    if (!text)
        return FAIL(ps, "%s: out of memory", where);
    if (strlen(text) > NGSI_JSON_MAX) {
        free(text);
        return FAIL(ps, "%s: JSON value longer than %d bytes", where, NGSI_JSON_MAX);
    }
    v->text = text; /* jansson allocates with malloc: free() releases it */
    v->kind = NGSI_JSON;
    return 0;
}

/* ---- GeoJSON ---------------------------------------------------------- */

static const struct {
    const char *type;
    int levels;     /* arrays around the positions: 0 for a Point */
    size_t min_len; /* positions in the innermost array, at least */
} GEOMETRIES[] = {
    {"Point", 0, 0},           {"MultiPoint", 1, 0}, {"LineString", 1, 2},
    {"MultiLineString", 2, 2}, {"Polygon", 2, 0},    {"MultiPolygon", 3, 0},
};
#define GEOMETRY_COUNT (sizeof GEOMETRIES / sizeof GEOMETRIES[0])

/* The index in GEOMETRIES of an object's "type", or -1. */
static int geometry_of(json_t *obj)
{
    const char *t = json_string_value(json_object_get(obj, "type"));

    for (size_t i = 0; t && i < GEOMETRY_COUNT; i++) {
        if (strcmp(t, GEOMETRIES[i].type) == 0)
            return (int)i;
    }
    return -1;
}

/* A GeoJSON position: 2 or 3 finite numbers, longitude and latitude in
 * range. */
static int geo_position(struct parse *ps, json_t *p, const char *where)
{
    double lon, lat;

    if (!json_is_array(p) || json_array_size(p) < 2 || json_array_size(p) > 3)
        return FAIL(ps, "%s: a position must be an array of 2 or 3 numbers", where);
    for (size_t i = 0; i < json_array_size(p); i++) {
        json_t *c = json_array_get(p, i);
        if (!json_is_number(c) || !isfinite(json_number_value(c)))
            return FAIL(ps, "%s: a position must be an array of 2 or 3 numbers", where);
    }
    lon = json_number_value(json_array_get(p, 0));
    lat = json_number_value(json_array_get(p, 1));
    if (lon < -180.0 || lon > 180.0)
        return FAIL(ps, "%s: longitude %g is out of range -180..180", where, lon);
    if (lat < -90.0 || lat > 90.0)
        return FAIL(ps, "%s: latitude %g is out of range -90..90", where, lat);
    return 0;
}

/* Coordinates nested levels deep around positions; min positions in the
 * innermost arrays. */
static int geo_coords(struct parse *ps, json_t *c, int levels, size_t min, const char *where)
{
    if (levels == 0)
        return geo_position(ps, c, where);
    if (!json_is_array(c))
        return FAIL(ps, "%s: must be an array nested %d deep around positions", where, levels);
    if (levels == 1 && json_array_size(c) < min)
        return FAIL(ps, "%s: a line needs %zu positions at least", where, min);
    for (size_t i = 0; i < json_array_size(c); i++) {
        if (geo_coords(ps, json_array_get(c, i), levels - 1, min, where) < 0)
            return -1;
    }
    return 0;
}

/* The geometry g (GEOMETRIES[kind]) checked and kept as JSON. */
static int take_geometry(struct parse *ps, json_t *g, int kind, const char *where,
                         struct ngsi_value *v)
{
    char sub[WHERE_SIZE];
    json_t *coords = json_object_get(g, "coordinates");

    snprintf(sub, sizeof sub, "%s.coordinates", where);
    if (!coords)
        return FAIL(ps, "%s: missing", sub);
    if (geo_coords(ps, coords, GEOMETRIES[kind].levels, GEOMETRIES[kind].min_len, sub) < 0)
        return -1;
    if (take_json(ps, g, where, v) < 0)
        return -1;
    if (GEOMETRIES[kind].levels == 0) {
        v->has_point = true;
        v->lon = json_number_value(json_array_get(coords, 0));
        v->lat = json_number_value(json_array_get(coords, 1));
    }
    return 0;
}

/* ---- Attribute values ------------------------------------------------- */

/* Where GeoJSON may be: not looked for (a normalized Property's value is
 * what it is), recognised by its "type" (keyValues, concise), required (a
 * GeoProperty's value). */
enum geo { GEO_NO, GEO_DETECT, GEO_REQUIRED };

/* A JSON-LD value object: "@value" and nothing but other keywords. */
static bool is_value_object(json_t *obj)
{
    const char *key;
    json_t *m;

    if (!json_object_get(obj, "@value"))
        return false;
    json_object_foreach(obj, key, m)
    {
        if (key[0] != '@')
            return false;
    }
    return true;
}

/*
 * A value as it is (keyValues rules): null, a boolean, a finite number, a
 * string, a JSON array or object, a GeoJSON geometry where geo allows it,
 * a JSON-LD value object unwrapped. *is_geo tells the caller it was
 * GeoJSON.
 */
static int take_value(struct parse *ps, json_t *j, enum geo geo, const char *where,
                      struct ngsi_value *v, bool *is_geo)
{
    char sub[WHERE_SIZE];
    int kind;

    *is_geo = false;
    if (geo == GEO_REQUIRED && !json_is_object(j))
        return FAIL(ps, "%s: must be a GeoJSON geometry object", where);
    switch (json_typeof(j)) {
    case JSON_NULL:
        v->kind = NGSI_NULL;
        return 0;
    case JSON_TRUE:
    case JSON_FALSE:
        v->kind = NGSI_BOOL;
        v->b = json_is_true(j);
        return 0;
    case JSON_INTEGER:
    case JSON_REAL:
        v->num = json_number_value(j);
        if (!isfinite(v->num))
            return FAIL(ps, "%s: must be a finite number", where);
        v->kind = NGSI_NUMBER;
        return 0;
    case JSON_STRING:
        return take_string(ps, j, NGSI_TEXT_MAX, where, v);
    case JSON_ARRAY:
        return take_json(ps, j, where, v);
    case JSON_OBJECT:
        break;
    }
    kind = geo == GEO_NO ? -1 : geometry_of(j);
    if (kind >= 0) {
        *is_geo = true;
        return take_geometry(ps, j, kind, where, v);
    }
    if (geo == GEO_REQUIRED) {
        snprintf(sub, sizeof sub, "%s.type", where);
        return FAIL(ps,
                    "%s: must be a GeoJSON geometry type (Point, MultiPoint, LineString, "
                    "MultiLineString, Polygon, MultiPolygon)",
                    sub);
    }
    if (is_value_object(j)) {
        json_t *inner = json_object_get(j, "@value");
        snprintf(sub, sizeof sub, "%s.@value", where);
        if (json_is_object(inner) || json_is_array(inner))
            return take_json(ps, inner, sub, v);
        return take_value(ps, inner, GEO_NO, sub, v, is_geo);
    }
    return take_json(ps, j, where, v);
}

/* The attribute types and the member that holds each one's value, in the
 * order of enum ngsi_attr_type (a concise attribute is recognised by the
 * first member of this list it has, GeoProperty's "value" aside). */
static const struct {
    const char *type;
    const char *member;
} FORMS[] = {
    [NGSI_PROPERTY] = {"Property", "value"},
    [NGSI_GEOPROPERTY] = {"GeoProperty", "value"},
    [NGSI_RELATIONSHIP] = {"Relationship", "object"},
    [NGSI_LANGUAGEPROPERTY] = {"LanguageProperty", "languageMap"},
    [NGSI_JSONPROPERTY] = {"JsonProperty", "json"},
    [NGSI_VOCABPROPERTY] = {"VocabProperty", "vocab"},
    [NGSI_LISTPROPERTY] = {"ListProperty", "valueList"},
    [NGSI_LISTRELATIONSHIP] = {"ListRelationship", "objectList"},
};
#define FORM_COUNT ((int)(sizeof FORMS / sizeof FORMS[0]))

/* The form of an attribute object named by its "type", or -1. */
static int normalized_form(json_t *obj)
{
    const char *t = json_string_value(json_object_get(obj, "type"));

    for (int i = 0; t && i < FORM_COUNT; i++) {
        if (strcmp(t, FORMS[i].type) == 0)
            return i;
    }
    return -1;
}

/* The form of a concise attribute object (no "type"), or -1. */
static int concise_form(json_t *obj)
{
    if (json_object_get(obj, "type"))
        return -1;
    for (int i = 0; i < FORM_COUNT; i++) {
        if (i != NGSI_GEOPROPERTY && json_object_get(obj, FORMS[i].member))
            return i;
    }
    return -1;
}

/* A relationship's target: a URI string, or an array of them (as JSON). */
static int take_object(struct parse *ps, json_t *o, const char *where, struct ngsi_value *v)
{
    if (json_is_array(o)) {
        if (json_array_size(o) == 0)
            return FAIL(ps, "%s: an empty array", where);
        for (size_t i = 0; i < json_array_size(o); i++) {
            json_t *e = json_array_get(o, i);
            if (!json_is_string(e) || json_string_length(e) > NGSI_ID_MAX ||
                !is_uri(json_string_value(e), json_string_length(e)))
                return FAIL(ps, "%s[%zu]: must be a URI of at most %d bytes", where, i,
                            NGSI_ID_MAX);
        }
        return take_json(ps, o, where, v);
    }
    if (!json_is_string(o))
        return FAIL(ps, "%s: must be a URI or an array of URIs", where);
    if (json_string_length(o) > NGSI_ID_MAX)
        return FAIL(ps, "%s: longer than %d bytes", where, NGSI_ID_MAX);
    if (!is_uri(json_string_value(o), json_string_length(o))) {
        char q[QUOTE_MAX + 4];
        return FAIL(ps, "%s: \"%s\" is not a URI", where,
                    quote(q, json_string_value(o), json_string_length(o)));
    }
    return take_string(ps, o, NGSI_ID_MAX, where, v);
}

/* The optional unitCode and observedAt of an attribute object. */
static int take_meta(struct parse *ps, json_t *a, const char *where, struct ngsi_value *v)
{
    char q[QUOTE_MAX + 4];
    json_t *u = json_object_get(a, "unitCode"), *t = json_object_get(a, "observedAt");

    if (u) {
        const char *s = json_string_value(u);
        size_t len = json_string_length(u);
        if (!s)
            return FAIL(ps, "%s.unitCode: must be a string", where);
        if (len == 0)
            return FAIL(ps, "%s.unitCode: empty", where);
        if (len > NGSI_UNIT_MAX)
            return FAIL(ps, "%s.unitCode: longer than %d bytes", where, NGSI_UNIT_MAX);
        for (size_t i = 0; i < len; i++) {
            if (s[i] <= 0x20 || s[i] >= 0x7F)
                return FAIL(ps, "%s.unitCode: \"%s\" is not printable ASCII without spaces", where,
                            quote(q, s, len));
        }
        memcpy(v->unit, s, len + 1);
    }
    if (t) {
        if (!json_is_string(t))
            return FAIL(ps, "%s.observedAt: must be a string", where);
        if (ngsi_parse_time(json_string_value(t), &v->observed_ms) < 0)
            return FAIL(ps,
                        "%s.observedAt: \"%s\" is not a date-time like "
                        "2026-05-12T09:00:00.000Z",
                        where, quote(q, json_string_value(t), json_string_length(t)));
    }
    return 0;
}

/* An attribute object of a known form (normalized, or concise when
 * concise): its value member, then unitCode and observedAt. */
static int take_form(struct parse *ps, json_t *a, int form, bool concise, const char *where,
                     struct ngsi_attr *out)
{
    char sub[WHERE_SIZE];
    json_t *m;
    bool is_geo;
    int rc = -1;

    assert(form >= 0 && form < FORM_COUNT); /* from normalized_form or concise_form */
    m = json_object_get(a, FORMS[form].member);
    snprintf(sub, sizeof sub, "%s.%s", where, FORMS[form].member);
    if (!m)
        return FAIL(ps, "%s: missing (a %s has one)", sub, FORMS[form].type);
    out->type = (enum ngsi_attr_type)form;
    switch ((enum ngsi_attr_type)form) {
    case NGSI_PROPERTY:
        rc = take_value(ps, m, concise ? GEO_DETECT : GEO_NO, sub, &out->v, &is_geo);
        if (rc == 0 && is_geo)
            out->type = NGSI_GEOPROPERTY;
        break;
    case NGSI_GEOPROPERTY:
        rc = take_value(ps, m, GEO_REQUIRED, sub, &out->v, &is_geo);
        break;
    case NGSI_RELATIONSHIP:
        rc = take_object(ps, m, sub, &out->v);
        break;
    case NGSI_LANGUAGEPROPERTY:
        rc = json_is_object(m) ? take_json(ps, m, sub, &out->v)
                               : FAIL(ps, "%s: must be an object", sub);
        break;
    case NGSI_JSONPROPERTY:
        rc = take_json(ps, m, sub, &out->v);
        break;
    case NGSI_VOCABPROPERTY:
        if (json_is_string(m))
            rc = take_string(ps, m, NGSI_TEXT_MAX, sub, &out->v);
        else
            rc = json_is_array(m) ? take_json(ps, m, sub, &out->v)
                                  : FAIL(ps, "%s: must be a string or an array", sub);
        break;
    case NGSI_LISTPROPERTY:
    case NGSI_LISTRELATIONSHIP:
        rc = json_is_array(m) ? take_json(ps, m, sub, &out->v)
                              : FAIL(ps, "%s: must be an array", sub);
        break;
    }
    return rc < 0 ? -1 : take_meta(ps, a, where, &out->v);
}

/* One instance of a multi-attribute: an object in normalized or concise
 * form, or any object with a datasetId. */
static bool is_instance(json_t *e)
{
    return json_is_object(e) &&
           (json_object_get(e, "datasetId") || normalized_form(e) >= 0 || concise_form(e) >= 0);
}

/* An array of instances, one at least marked as such (a datasetId or a
 * normalized type): else it is a keyValues array. */
static bool is_multi(json_t *a)
{
    bool marked = false;

    if (json_array_size(a) == 0)
        return false;
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *e = json_array_get(a, i);
        if (!is_instance(e))
            return false;
        if (json_object_get(e, "datasetId") || normalized_form(e) >= 0)
            marked = true;
    }
    return marked;
}

/* One attribute, whatever its form, into out (whose name is set). */
static int take_attr(struct parse *ps, json_t *a, const char *where, struct ngsi_attr *out)
{
    bool is_geo;

    if (json_is_array(a) && is_multi(a)) {
        char sub[WHERE_SIZE];
        size_t pick = 0;
        for (size_t i = json_array_size(a); i-- > 0;) {
            if (!json_object_get(json_array_get(a, i), "datasetId"))
                pick = i; /* the first default instance */
        }
        snprintf(sub, sizeof sub, "%s[%zu]", where, pick);
        return take_attr(ps, json_array_get(a, pick), sub, out);
    }
    if (json_is_object(a)) {
        int form;
        if ((form = normalized_form(a)) >= 0)
            return take_form(ps, a, form, false, where, out);
        if ((form = concise_form(a)) >= 0)
            return take_form(ps, a, form, true, where, out);
    }
    out->type = NGSI_PROPERTY;
    if (take_value(ps, a, GEO_DETECT, where, &out->v, &is_geo) < 0)
        return -1;
    if (is_geo)
        out->type = NGSI_GEOPROPERTY;
    return 0;
}

/* ---- Entities --------------------------------------------------------- */

/* Members of an entity that are not attributes, by their short name. */
static bool not_attribute(const char *key, const char *name)
{
    return strcmp(key, "id") == 0 || strcmp(key, "type") == 0 || key[0] == '@' ||
           strcmp(name, "createdAt") == 0 || strcmp(name, "modifiedAt") == 0 ||
           strcmp(name, "deletedAt") == 0;
}

/* A URI member: required or optional ("" when absent), into dst
 * (NGSI_ID_MAX + 1 bytes). */
static int take_uri(struct parse *ps, json_t *j, bool required, const char *where, char *dst)
{
    const char *s = json_string_value(j);
    size_t len = json_string_length(j);

    dst[0] = '\0';
    if (!j)
        return required ? FAIL(ps, "%s: missing", where) : 0;
    if (!s)
        return FAIL(ps, "%s: must be a string", where);
    if (len == 0)
        return FAIL(ps, "%s: empty", where);
    if (len > NGSI_ID_MAX)
        return FAIL(ps, "%s: longer than %d bytes", where, NGSI_ID_MAX);
    if (!is_uri(s, len)) {
        char q[QUOTE_MAX + 4];
        return FAIL(ps,
                    "%s: \"%s\" is not a URI (printable ASCII without spaces, with a scheme "
                    "such as urn:)",
                    where, quote(q, s, len));
    }
    memcpy(dst, s, len + 1);
    return 0;
}

/* An @context member where one may be. */
static int check_context(struct parse *ps, json_t *ctx, const char *where)
{
    if (!ctx)
        return 0;
    if (ps->media == NGSI_MEDIA_JSON)
        return FAIL(ps,
                    "%s: not allowed with Content-Type application/json (send "
                    "application/ld+json, or the context in a Link header)",
                    where);
    if (!json_is_string(ctx) && !json_is_array(ctx) && !json_is_object(ctx))
        return FAIL(ps, "%s: must be a string, an array or an object", where);
    return 0;
}

/* The entity's type: a string, or the first of an array of strings. */
static int take_type(struct parse *ps, json_t *t, const char *where, char *dst)
{
    json_t *first = t;

    if (!t)
        return FAIL(ps, "%s: missing", where);
    if (json_is_array(t)) {
        if (json_array_size(t) == 0)
            return FAIL(ps, "%s: an empty array", where);
        for (size_t i = 0; i < json_array_size(t); i++) {
            if (!json_is_string(json_array_get(t, i)))
                return FAIL(ps, "%s[%zu]: must be a string", where, i);
        }
        first = json_array_get(t, 0);
    } else if (!json_is_string(t)) {
        return FAIL(ps, "%s: must be a string or an array of strings", where);
    }
    if (short_name(json_string_value(first), json_string_length(first), dst, NGSI_TYPE_MAX) < 0) {
        char q[QUOTE_MAX + 4];
        return FAIL(
            ps, "%s: \"%s\" is not a name ([A-Za-z0-9_], 1..%d bytes) or an IRI ending in one",
            where, quote(q, json_string_value(first), json_string_length(first)), NGSI_TYPE_MAX);
    }
    return 0;
}

/* The attributes of entity e (data[i]): counted, then read. */
static int take_attrs(struct parse *ps, json_t *e, size_t i, struct ngsi_entity *out)
{
    char name[NGSI_NAME_MAX + 1], where[WHERE_SIZE], q[QUOTE_MAX + 4];
    const char *key;
    json_t *a;
    size_t n = 0;

    json_object_foreach(e, key, a)
    {
        if (key[0] == '@')
            continue; /* keywords: not names at all */
        if (short_name(key, strlen(key), name, NGSI_NAME_MAX) < 0)
            return FAIL(ps,
                        "data[%zu]: attribute name \"%s\" is not a name ([A-Za-z0-9_], 1..%d "
                        "bytes) or an IRI ending in one",
                        i, quote(q, key, strlen(key)), NGSI_NAME_MAX);
        if (!not_attribute(key, name) && ++n > NGSI_ATTRS_MAX)
            return FAIL(ps, "data[%zu]: more than %d attributes", i, NGSI_ATTRS_MAX);
    }
    if (n == 0)
        return 0;
    out->attrs = calloc(n, sizeof(*out->attrs));
    if (!out->attrs)
        return FAIL(ps, "data[%zu]: out of memory", i);
    json_object_foreach(e, key, a)
    {
        struct ngsi_attr *at;
        if (key[0] == '@' || short_name(key, strlen(key), name, NGSI_NAME_MAX) < 0 ||
            not_attribute(key, name))
            continue;
        snprintf(where, sizeof where, "data[%zu].%s", i, name);
        for (size_t k = 0; k < out->nattrs; k++) {
            if (strcmp(out->attrs[k].name, name) == 0)
                return FAIL(ps, "%s: named twice (\"%s\" is one)", where,
                            quote(q, key, strlen(key)));
        }
        assert(out->nattrs < n); /* both passes skip the same members */
        at = &out->attrs[out->nattrs++];
        memcpy(at->name, name, sizeof at->name);
        if (take_attr(ps, a, where, at) < 0)
            return -1;
    }
    return 0;
}

static int take_entity(struct parse *ps, json_t *e, size_t i, struct ngsi_entity *out)
{
    char where[WHERE_SIZE];

    if (!json_is_object(e))
        return FAIL(ps, "data[%zu]: must be an object", i);
    snprintf(where, sizeof where, "data[%zu].@context", i);
    if (check_context(ps, json_object_get(e, "@context"), where) < 0)
        return -1;
    snprintf(where, sizeof where, "data[%zu].id", i);
    if (take_uri(ps, json_object_get(e, "id"), true, where, out->id) < 0)
        return -1;
    snprintf(where, sizeof where, "data[%zu].type", i);
    if (take_type(ps, json_object_get(e, "type"), where, out->type) < 0)
        return -1;
    return take_attrs(ps, e, i, out);
}

/* ---- The notification ------------------------------------------------- */

static int take_notification(struct parse *ps, json_t *root, struct ngsi_notification *n)
{
    char q[QUOTE_MAX + 4];
    json_t *t, *at, *ctx, *data;
    size_t count;

    if (!json_is_object(root))
        return FAIL(ps, "body: must be a JSON object (a Notification)");
    t = json_object_get(root, "type");
    if (!t)
        return FAIL(ps, "type: missing (must be \"Notification\")");
    if (!json_is_string(t) || strcmp(json_string_value(t), "Notification") != 0)
        return FAIL(ps, "type: must be \"Notification\", not \"%s\"",
                    json_is_string(t) ? quote(q, json_string_value(t), json_string_length(t))
                                      : "(not a string)");
    if (take_uri(ps, json_object_get(root, "id"), true, "id", n->id) < 0 ||
        take_uri(ps, json_object_get(root, "subscriptionId"), false, "subscriptionId",
                 n->subscription_id) < 0)
        return -1;
    if ((at = json_object_get(root, "notifiedAt"))) {
        if (!json_is_string(at))
            return FAIL(ps, "notifiedAt: must be a string");
        if (ngsi_parse_time(json_string_value(at), &n->notified_ms) < 0)
            return FAIL(ps, "notifiedAt: \"%s\" is not a date-time like 2026-05-12T09:00:00.000Z",
                        quote(q, json_string_value(at), json_string_length(at)));
    }
    ctx = json_object_get(root, "@context");
    if (check_context(ps, ctx, "@context") < 0)
        return -1;
    if (json_is_string(ctx) && json_string_length(ctx) <= NGSI_ID_MAX &&
        is_uri(json_string_value(ctx), json_string_length(ctx)))
        memcpy(n->context, json_string_value(ctx), json_string_length(ctx) + 1);
    data = json_object_get(root, "data");
    if (!data)
        return FAIL(ps, "data: missing");
    if (!json_is_array(data))
        return FAIL(ps, "data: must be an array of entities");
    count = json_array_size(data);
    if (count == 0)
        return FAIL(ps, "data: empty (a notification has one entity at least)");
    if (count > NGSI_ENTITIES_MAX)
        return FAIL(ps, "data: %zu entities, more than %d", count, NGSI_ENTITIES_MAX);
    n->entities = calloc(count, sizeof(*n->entities));
    if (!n->entities)
        return FAIL(ps, "data: out of memory");
    for (size_t i = 0; i < count; i++) {
        n->nentities = i + 1; /* so that ngsi_free frees what this one got */
        if (take_entity(ps, json_array_get(data, i), i, &n->entities[i]) < 0)
            return -1;
    }
    return 0;
}

int ngsi_parse(const char *body, size_t len, const char *content_type, const char *link,
               struct ngsi_notification *out, char *err, size_t errlen)
{
    struct parse ps = {.err = err, .errlen = errlen};
    struct ngsi_notification n;
    json_error_t je;
    json_t *root;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&n, 0, sizeof n);
    if (err && errlen)
        err[0] = '\0';
    if (ngsi_media_type(content_type, &ps.media, err, errlen) < 0)
        return -1;
    n.media = ps.media;
    if (ps.media == NGSI_MEDIA_JSON &&
        ngsi_link_context(link, n.context, sizeof n.context, err, errlen) < 0)
        return -1;
    if (len > NGSI_BODY_MAX)
        return FAIL(&ps, "body: %zu bytes, more than %d", len, NGSI_BODY_MAX);
    if (!body) {
        body = "";
        len = 0;
    }
    if (proto_json_too_deep(body, len, NGSI_DEPTH_MAX))
        return FAIL(&ps, "body: nested deeper than %d levels", NGSI_DEPTH_MAX);
    /* DECODE_ANY so that a bare string or number gets the clearer "must be
     * a JSON object" instead of a syntax error. */
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root)
        return FAIL(&ps, "body: invalid JSON: %.100s at line %d column %d", je.text, je.line,
                    je.column);
    rc = take_notification(&ps, root, &n);
    json_decref(root);
    if (rc < 0) { /* never half a notification */
        ngsi_free(&n);
        return -1;
    }
    *out = n;
    return 0;
}

void ngsi_free(struct ngsi_notification *n)
{
    for (size_t i = 0; n->entities && i < n->nentities; i++) {
        struct ngsi_entity *e = &n->entities[i];
        for (size_t k = 0; e->attrs && k < e->nattrs; k++)
            free(e->attrs[k].v.text);
        free(e->attrs);
    }
    free(n->entities);
    memset(n, 0, sizeof(*n));
}
