/*
 * scene.c - load and validate scene files; answer the geometric questions
 * the server asks of a room.
 *
 * This module owns the rules of scenes/FORMAT.md. It reads a file with
 * jansson, checks every field and the geometry, and keeps what the server
 * needs (walkable polygons, spawns, portals, places, the showcases' twin
 * bindings and the entities they name) plus the compact JSON it serves.
 * Nodes, lighting and the like are checked and then only served:
 * the server has no use for them. The first problem found ends the load with
 * "file: path.to.field: what is wrong"; nothing is kept from a failed load.
 */
#include "scene.h"

#include <cglm/cglm.h>
#include <jansson.h>
#include <openssl/evp.h>

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FORMAT_VERSION 1
#define EDGE_EPS       1e-3 /* metres: a point this close to an edge is on it */
#define AREA_MIN       1e-4 /* square metres: less is "no area" */
#define QUAT_EPS       1e-3 /* | |q| - 1 | above this is not a unit quaternion */
#define FLOOR_EPS      0.05 /* metres: a spawn this close to the floor is on it */
#define SPAWN_STEP     0.75 /* metres between the rings of arrivals around a spawn */
#define SPAWN_RINGS    4    /* rings around a spawn before the pattern repeats */
#define SPAWN_GAP      0.5  /* metres: arrivals closer than this to an earlier one are skipped */
#define NAME_MAX_LEN   200  /* bytes */
#define TEXT_MAX_LEN   4000 /* bytes, descriptions */
#define LABEL_MAX_LEN  200  /* bytes */
#define URL_MAX_LEN    200  /* bytes */
#define LIGHTS_MAX     16
#define SEAT_GRID_MAX  1000 /* rows or columns in one seat_rows block */

/* ---- The checker: where we are in the document, and the first error. ---- */

/* A set of borrowed strings, to find duplicate ids. */
struct idset {
    const char **slot; /* open addressing; the strings are not copied */
    size_t cap, n;
};

struct ck {
    const char *file; /* for messages, borrowed */
    char dir[1024];   /* directory of the file, to find assets */
    char *err;        /* caller's buffer */
    size_t errlen;
    char path[256]; /* JSON path of the value being checked */
    size_t plen;
    size_t nnodes; /* nodes seen so far, all levels */
    struct idset ids;
    size_t twins_cap; /* bindings the scene's twins array was sized for */
};

#if defined(__GNUC__)
#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#else
#define PRINTF_LIKE(a, b)
#endif

static void set_err(char *err, size_t errlen, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Records "file: path: message" and returns false, so checks end with return fail(...). */
static bool fail(struct ck *c, const char *fmt, ...) PRINTF_LIKE(2, 3);
static bool fail(struct ck *c, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->plen)
        set_err(c->err, c->errlen, "%s: %s: %s", c->file, c->path, msg);
    else
        set_err(c->err, c->errlen, "%s: %s", c->file, msg);
    return false;
}

/* Path steps return the old length; path_back restores it. */
static size_t path_push(struct ck *c, const char *fmt, ...) PRINTF_LIKE(2, 3);
static size_t path_push(struct ck *c, const char *fmt, ...)
{
    size_t old = c->plen;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->path + c->plen, sizeof c->path - c->plen, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->plen += (size_t)n < sizeof c->path - c->plen ? (size_t)n : sizeof c->path - 1 - c->plen;
    return old;
}

static size_t path_key(struct ck *c, const char *key)
{
    return path_push(c, c->plen ? ".%s" : "%s", key);
}

static size_t path_index(struct ck *c, size_t i)
{
    return path_push(c, "[%zu]", i);
}

static void path_back(struct ck *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

/* fail() at obj.key. */
static bool fail_at(struct ck *c, const char *key, const char *fmt, ...) PRINTF_LIKE(3, 4);
static bool fail_at(struct ck *c, const char *key, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t old = path_key(c, key);
    fail(c, "%s", msg);
    path_back(c, old);
    return false;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "something else";
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void idset_clear(struct idset *set)
{
    if (set->slot)
        memset(set->slot, 0, set->cap * sizeof *set->slot);
    set->n = 0;
}

static void idset_free(struct idset *set)
{
    free(set->slot);
    set->slot = NULL;
    set->cap = set->n = 0;
}

/* 1 added, 0 already there, -1 out of memory. */
static int idset_add(struct idset *set, const char *id)
{
    if ((set->n + 1) * 2 > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        const char **slot = calloc(cap, sizeof *slot);
        if (!slot)
            return -1;
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->slot[i])
                continue;
            size_t j = (size_t)fnv1a(set->slot[i]) & (cap - 1);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = set->slot[i];
        }
        free(set->slot);
        set->slot = slot;
        set->cap = cap;
    }
    size_t j = (size_t)fnv1a(id) & (set->cap - 1);
    for (; set->slot[j]; j = (j + 1) & (set->cap - 1))
        if (strcmp(set->slot[j], id) == 0)
            return 0;
    set->slot[j] = id;
    set->n++;
    return 1;
}

/* Adds id (borrowed; must outlive the set's use) or fails at key with "duplicate id". */
static bool unique_id(struct ck *c, const char *key, const char *id)
{
    int r = idset_add(&c->ids, id);
    if (r < 0)
        return fail(c, "out of memory");
    if (r == 0)
        return fail_at(c, key, "duplicate id \"%s\"", id);
    return true;
}

/* ---- Field readers. Each checks type and range and names the field. ---- */

/*
 * Unknown fields are refused so that a typo ("rotaton") is not silently a
 * default; "x-" fields are extensions and are kept as they are.
 */
static bool known_fields(struct ck *c, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool ok = strncmp(key, "x-", 2) == 0;
        for (const char *const *a = allowed; !ok && *a; a++)
            ok = strcmp(key, *a) == 0;
        if (!ok)
            return fail_at(c, key, "unknown field");
    }
    return true;
}

static bool want_object(struct ck *c, json_t *v)
{
    if (!json_is_object(v))
        return fail(c, "expected an object, got %s", type_name(v));
    return true;
}

/* Borrowed obj[key] in *out (NULL when absent and optional). */
static bool get_any(struct ck *c, json_t *obj, const char *key, bool need, json_t **out)
{
    *out = json_object_get(obj, key);
    if (!*out && need)
        return fail_at(c, key, "required field is missing");
    return true;
}

static bool get_typed(struct ck *c, json_t *obj, const char *key, bool need, json_type t,
                      const char *what, json_t **out)
{
    if (!get_any(c, obj, key, need, out))
        return false;
    if (*out && json_typeof(*out) != t)
        return fail_at(c, key, "expected %s, got %s", what, type_name(*out));
    return true;
}

static bool get_object(struct ck *c, json_t *obj, const char *key, bool need, json_t **out)
{
    return get_typed(c, obj, key, need, JSON_OBJECT, "an object", out);
}

/* An array of at most max entries; need also means non-empty. */
static bool get_array(struct ck *c, json_t *obj, const char *key, bool need, size_t max,
                      json_t **out)
{
    if (!get_typed(c, obj, key, need, JSON_ARRAY, "an array", out))
        return false;
    if (!*out)
        return true;
    if (need && json_array_size(*out) == 0)
        return fail_at(c, key, "must not be empty");
    if (json_array_size(*out) > max)
        return fail_at(c, key, "too many entries (%zu, limit %zu)", json_array_size(*out), max);
    return true;
}

static bool get_string(struct ck *c, json_t *obj, const char *key, bool need, size_t maxlen,
                       const char **out)
{
    json_t *v;
    if (!get_typed(c, obj, key, need, JSON_STRING, "a string", &v))
        return false;
    if (!v)
        return true;
    size_t n = json_string_length(v);
    if (n == 0)
        return fail_at(c, key, "must not be empty");
    if (n > maxlen)
        return fail_at(c, key, "too long (%zu bytes, limit %zu)", n, maxlen);
    *out = json_string_value(v);
    return true;
}

static bool get_bool(struct ck *c, json_t *obj, const char *key, bool need, bool *out)
{
    json_t *v;
    if (!get_any(c, obj, key, need, &v))
        return false;
    if (!v)
        return true;
    if (!json_is_boolean(v))
        return fail_at(c, key, "expected true or false, got %s", type_name(v));
    *out = json_is_true(v);
    return true;
}

static bool get_int(struct ck *c, json_t *obj, const char *key, bool need, long long lo,
                    long long hi, long long *out)
{
    json_t *v;
    if (!get_typed(c, obj, key, need, JSON_INTEGER, "an integer", &v))
        return false;
    if (!v)
        return true;
    long long x = json_integer_value(v);
    if (x < lo || x > hi)
        return fail_at(c, key, "must be from %lld to %lld, got %lld", lo, hi, x);
    *out = x;
    return true;
}

/* A finite number (integer or real) in [lo, hi], checked at the current path. */
static bool num_here(struct ck *c, json_t *v, double lo, double hi, double *out)
{
    if (!json_is_number(v))
        return fail(c, "expected a number, got %s", type_name(v));
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi)
        return fail(c, "must be from %g to %g, got %g", lo, hi, x);
    *out = x;
    return true;
}

static bool get_num(struct ck *c, json_t *obj, const char *key, bool need, double lo, double hi,
                    double *out)
{
    json_t *v;
    if (!get_any(c, obj, key, need, &v))
        return false;
    if (!v)
        return true;
    size_t old = path_key(c, key);
    bool ok = num_here(c, v, lo, hi, out);
    path_back(c, old);
    return ok;
}

/* An array of exactly n numbers in [lo, hi], checked at the current path. */
static bool vec_here(struct ck *c, json_t *v, size_t n, double lo, double hi, double *out)
{
    if (!json_is_array(v))
        return fail(c, "expected an array of %zu numbers, got %s", n, type_name(v));
    if (json_array_size(v) != n)
        return fail(c, "expected %zu numbers, got %zu", n, json_array_size(v));
    for (size_t i = 0; i < n; i++) {
        size_t old = path_index(c, i);
        bool ok = num_here(c, json_array_get(v, i), lo, hi, &out[i]);
        path_back(c, old);
        if (!ok)
            return false;
    }
    return true;
}

static bool get_vec(struct ck *c, json_t *obj, const char *key, bool need, size_t n, double lo,
                    double hi, double *out)
{
    json_t *v;
    if (!get_any(c, obj, key, need, &v))
        return false;
    if (!v)
        return true;
    size_t old = path_key(c, key);
    bool ok = vec_here(c, v, n, lo, hi, out);
    path_back(c, old);
    return ok;
}

static bool get_pos(struct ck *c, json_t *obj, const char *key, bool need, size_t n, double *out)
{
    return get_vec(c, obj, key, need, n, -SCENE_COORD_MAX, SCENE_COORD_MAX, out);
}

/* Sizes, radii, distances: positive and not absurd. */
static bool get_size(struct ck *c, json_t *obj, const char *key, bool need, size_t n, double *out)
{
    if (!get_vec(c, obj, key, need, n, 0, SCENE_COORD_MAX, out))
        return false;
    for (size_t i = 0; i < n; i++)
        if (json_object_get(obj, key) && !(out[i] > 0))
            return fail_at(c, key, "every component must be greater than 0");
    return true;
}

/* [x, y, z, w], unit length within QUAT_EPS; stored normalised. */
static bool get_quat(struct ck *c, json_t *obj, const char *key, bool need, float out[4])
{
    double q[4];
    if (!json_object_get(obj, key)) {
        if (need)
            return fail_at(c, key, "required field is missing");
        return true;
    }
    if (!get_vec(c, obj, key, true, 4, -1000, 1000, q))
        return false;
    versor v = {(float)q[0], (float)q[1], (float)q[2], (float)q[3]};
    double len = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    if (fabs(len - 1.0) > QUAT_EPS)
        return fail_at(c, key, "not a unit quaternion (length %.4f)", len);
    glm_quat_normalize(v);
    memcpy(out, v, sizeof v);
    return true;
}

static bool is_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static bool color_valid(const char *s)
{
    bool ok = strlen(s) == 7 && s[0] == '#';
    for (size_t i = 1; ok && i < 7; i++)
        ok = is_hex(s[i]);
    return ok;
}

static bool get_color(struct ck *c, json_t *obj, const char *key, bool need)
{
    const char *s = NULL;
    if (!get_string(c, obj, key, need, 16, &s))
        return false;
    if (!s)
        return true;
    if (!color_valid(s))
        return fail_at(c, key, "not a colour \"%s\": expected \"#rrggbb\"", s);
    return true;
}

/* Ids: 1..64 of [a-z0-9-], starting with a letter or digit (room ids appear in URLs). */
static bool id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SCENE_ID_MAX || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static bool get_id(struct ck *c, json_t *obj, const char *key, bool need,
                   char out[SCENE_ID_MAX + 1])
{
    const char *s = NULL;
    if (!get_string(c, obj, key, need, 1000, &s))
        return false;
    if (!s)
        return true;
    if (!id_valid(s))
        return fail_at(c, key,
                       "not a valid id \"%.80s\": use 1 to %d of a-z, 0-9 and '-', "
                       "starting with a letter or digit",
                       s, SCENE_ID_MAX);
    memcpy(out, s, strlen(s) + 1);
    return true;
}

/*
 * Asset URLs are relative to the scene file's directory and must stay in
 * its assets/ folder, which is what the server serves (at /assets/). The
 * file must exist, so a typo stops start-up instead of a blank in a browser.
 */
static bool get_url(struct ck *c, json_t *obj, const char *key, bool need, const char *const *exts,
                    const char *what)
{
    const char *u = NULL;
    if (!get_string(c, obj, key, need, URL_MAX_LEN, &u))
        return false;
    if (!u)
        return true;
    if (strchr(u, ':'))
        return fail_at(c, key, "\"%s\": must be a relative URL (no scheme)", u);
    if (u[0] == '/' || u[0] == '\\')
        return fail_at(c, key, "\"%s\": must be a relative URL, not an absolute path", u);
    for (const char *seg = u; seg;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if ((n == 2 && seg[0] == '.' && seg[1] == '.') || (n == 1 && seg[0] == '.') || n == 0)
            return fail_at(c, key, "\"%s\": must not contain \"..\", \".\" or empty segments", u);
        seg = end ? end + 1 : NULL;
    }
    for (const char *p = u; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '/' || ch == '-' || ch == '_' || ch == '.'))
            return fail_at(c, key, "\"%s\": character '%c' is not allowed in an asset URL", u,
                           ch >= 32 && ch < 127 ? ch : '?');
    }
    if (strncmp(u, "assets/", 7) != 0)
        return fail_at(c, key, "\"%s\": must be under assets/", u);
    const char *dot = strrchr(u, '.');
    bool ext_ok = false;
    for (const char *const *e = exts; dot && !ext_ok && *e; e++)
        ext_ok = strcmp(dot, *e) == 0;
    if (!ext_ok)
        return fail_at(c, key, "\"%s\": must be %s", u, what);
    char full[sizeof c->dir + URL_MAX_LEN + 2];
    struct stat st;
    snprintf(full, sizeof full, "%s/%s", c->dir, u);
    if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
        return fail_at(c, key, "\"%s\": no such file %s", u, full);
    return true;
}

static const char *const GLTF_EXTS[] = {".glb", ".gltf", NULL};
static const char *const IMAGE_EXTS[] = {".png", ".jpg", ".jpeg", ".svg", ".webp", NULL};
#define GLTF_WHAT  "a .glb or .gltf file"
#define IMAGE_WHAT "a .png, .jpg, .jpeg, .svg or .webp image"

/* ---- Geometry on the floor plane, (x, z) pairs, in double. ---- */

static double orient(const double a[2], const double b[2], const double p[2])
{
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
}

/* p is collinear with a-b: is it within the segment's bounds? */
static bool within(const double a[2], const double b[2], const double p[2])
{
    return fmin(a[0], b[0]) <= p[0] && p[0] <= fmax(a[0], b[0]) && fmin(a[1], b[1]) <= p[1] &&
           p[1] <= fmax(a[1], b[1]);
}

/* Segments a-b and c-d share at least one point (touching counts). */
static bool segs_meet(const double a[2], const double b[2], const double c[2], const double d[2])
{
    double d1 = orient(c, d, a), d2 = orient(c, d, b);
    double d3 = orient(a, b, c), d4 = orient(a, b, d);
    if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)))
        return true;
    return (d1 == 0 && within(c, d, a)) || (d2 == 0 && within(c, d, b)) ||
           (d3 == 0 && within(a, b, c)) || (d4 == 0 && within(a, b, d));
}

/* Nearest point to p on segment a-b, in out; returns the squared distance. */
static double seg_nearest(const double a[2], const double b[2], const double p[2], double out[2])
{
    double dx = b[0] - a[0], dz = b[1] - a[1];
    double len2 = dx * dx + dz * dz;
    double t = len2 > 0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dz) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    out[0] = a[0] + t * dx;
    out[1] = a[1] + t * dz;
    return (p[0] - out[0]) * (p[0] - out[0]) + (p[1] - out[1]) * (p[1] - out[1]);
}

static void vert(const struct scene_poly *g, size_t i, double out[2])
{
    out[0] = g->v[i][0];
    out[1] = g->v[i][1];
}

/* Inside or on an edge (within EDGE_EPS). */
static bool poly_has(const struct scene_poly *g, const double p[2])
{
    bool in = false;
    for (size_t i = 0, j = g->n - 1; i < g->n; j = i++) {
        double a[2], b[2], near[2];
        vert(g, j, a);
        vert(g, i, b);
        if (seg_nearest(a, b, p, near) <= EDGE_EPS * EDGE_EPS)
            return true;
        if ((a[1] > p[1]) != (b[1] > p[1])) {
            double x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
            if (p[0] < x)
                in = !in;
        }
    }
    return in;
}

static double poly_area(const struct scene_poly *g)
{
    double sum = 0;
    for (size_t i = 0, j = g->n - 1; i < g->n; j = i++)
        sum += (double)g->v[j][0] * g->v[i][1] - (double)g->v[i][0] * g->v[j][1];
    return fabs(sum) / 2;
}

/*
 * Simple: no two edges meet except neighbours at their shared vertex, and
 * neighbours do not fold back over each other. O(n^2), fine at load.
 */
static bool poly_simple(const struct scene_poly *g, size_t *ei, size_t *ej)
{
    size_t n = g->n;
    for (size_t i = 0; i < n; i++) {
        double a[2], b[2];
        vert(g, i, a);
        vert(g, (i + 1) % n, b);
        for (size_t j = i + 1; j < n; j++) {
            double c[2], d[2];
            vert(g, j, c);
            vert(g, (j + 1) % n, d);
            *ei = i;
            *ej = j;
            if (j == i + 1) { /* share b == c: fold back if d lies on a-b or a on c-d */
                if ((orient(a, b, d) == 0 && within(a, b, d)) ||
                    (orient(c, d, a) == 0 && within(c, d, a)))
                    return false;
            } else if (i == 0 && j == n - 1) { /* share a == d */
                if ((orient(a, b, c) == 0 && within(a, b, c)) ||
                    (orient(c, d, b) == 0 && within(c, d, b)))
                    return false;
            } else if (segs_meet(a, b, c, d)) {
                return false;
            }
        }
    }
    return true;
}

/* Does the rectangle [min, max] (x, z) share any point with the polygon? */
static bool poly_meets_rect(const struct scene_poly *g, const double min[2], const double max[2])
{
    double r[4][2] = {{min[0], min[1]}, {max[0], min[1]}, {max[0], max[1]}, {min[0], max[1]}};
    for (size_t i = 0; i < g->n; i++)
        if (g->v[i][0] >= min[0] && g->v[i][0] <= max[0] && g->v[i][1] >= min[1] &&
            g->v[i][1] <= max[1])
            return true;
    for (size_t k = 0; k < 4; k++)
        if (poly_has(g, r[k]))
            return true;
    for (size_t i = 0, j = g->n - 1; i < g->n; j = i++) {
        double a[2], b[2];
        vert(g, j, a);
        vert(g, i, b);
        for (size_t k = 0; k < 4; k++)
            if (segs_meet(a, b, r[k], r[(k + 1) % 4]))
                return true;
    }
    return false;
}

static bool walk_has(const struct scene *s, const double p[2])
{
    for (size_t i = 0; i < s->nwalk; i++)
        if (poly_has(&s->walk[i], p))
            return true;
    return false;
}

static bool walk_meets_rect(const struct scene *s, const double min[2], const double max[2])
{
    for (size_t i = 0; i < s->nwalk; i++)
        if (poly_meets_rect(&s->walk[i], min, max))
            return true;
    return false;
}

static double floor_at(const struct scene *s, const double p[2])
{
    bool found = false;
    double y = s->floor_y;
    for (size_t i = 0; i < s->nwalk; i++) {
        if (poly_has(&s->walk[i], p) && (!found || s->walk[i].y > y)) {
            y = s->walk[i].y;
            found = true;
        }
    }
    return y;
}

static bool in_box(const float min[3], const float max[3], const float p[3])
{
    return p[0] >= min[0] && p[0] <= max[0] && p[1] >= min[1] && p[1] <= max[1] && p[2] >= min[2] &&
           p[2] <= max[2];
}

static bool make_arrivals(struct ck *c, struct scene *s);

/* ---- Sections of the document. ---- */

static bool check_walk(struct ck *c, json_t *root, struct scene *s)
{
    static const char *const fields[] = {"polygon", "min", "max", "y", NULL};
    json_t *arr;
    if (!get_array(c, root, "walk", true, SCENE_WALK_MAX, &arr))
        return false;
    s->walk = calloc(json_array_size(arr), sizeof *s->walk);
    if (!s->walk)
        return fail(c, "out of memory");
    size_t old = path_key(c, "walk"), nverts = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        size_t o2 = path_index(c, i);
        json_t *e = json_array_get(arr, i), *poly;
        struct scene_poly *g = &s->walk[s->nwalk];
        double y = s->floor_y;
        if (!want_object(c, e) || !known_fields(c, e, fields) ||
            !get_num(c, e, "y", false, -SCENE_COORD_MAX, SCENE_COORD_MAX, &y))
            return false;
        g->y = (float)y;
        poly = json_object_get(e, "polygon");
        if (poly && (json_object_get(e, "min") || json_object_get(e, "max")))
            return fail(c, "give either a polygon or min and max, not both");
        if (poly) {
            size_t o3 = path_key(c, "polygon");
            if (!json_is_array(poly))
                return fail(c, "expected an array of [x, z] points, got %s", type_name(poly));
            size_t n = json_array_size(poly);
            if (n == 0)
                return fail(c, "polygon is empty");
            if (n < 3)
                return fail(c, "polygon needs at least 3 vertices, has %zu", n);
            if (n > SCENE_VERTS_MAX)
                return fail(c, "too many vertices (%zu, limit %d)", n, SCENE_VERTS_MAX);
            /* every arrival point and clamp walks every edge: bound them all */
            nverts += n;
            if (nverts > SCENE_WALK_VERTS_MAX)
                return fail(c, "too many vertices in all shapes (limit %d)", SCENE_WALK_VERTS_MAX);
            g->v = calloc(n, sizeof *g->v);
            if (!g->v)
                return fail(c, "out of memory");
            s->nwalk++;
            g->n = n;
            for (size_t k = 0; k < n; k++) {
                double xz[2];
                size_t o4 = path_index(c, k);
                if (!vec_here(c, json_array_get(poly, k), 2, -SCENE_COORD_MAX, SCENE_COORD_MAX, xz))
                    return false;
                path_back(c, o4);
                g->v[k][0] = (float)xz[0];
                g->v[k][1] = (float)xz[1];
            }
            for (size_t k = 0; k < n; k++) {
                size_t k2 = (k + 1) % n;
                if (g->v[k][0] == g->v[k2][0] && g->v[k][1] == g->v[k2][1])
                    return fail(c, "vertices %zu and %zu are the same point", k, k2);
            }
            size_t ei, ej;
            if (!poly_simple(g, &ei, &ej))
                return fail(c, "polygon self-intersects (edges %zu and %zu meet)", ei, ej);
            if (poly_area(g) < AREA_MIN)
                return fail(c, "polygon has no area (%.2g square metres)", poly_area(g));
            path_back(c, o3);
        } else {
            double min[2], max[2];
            if (!json_object_get(e, "min") && !json_object_get(e, "max"))
                return fail(c, "needs a polygon, or min and max of a box");
            if (!get_pos(c, e, "min", true, 2, min) || !get_pos(c, e, "max", true, 2, max))
                return false;
            if (!(min[0] < max[0] && min[1] < max[1]))
                return fail_at(c, "max", "must be greater than min in x and in z");
            g->v = calloc(4, sizeof *g->v);
            if (!g->v)
                return fail(c, "out of memory");
            s->nwalk++;
            g->n = 4;
            float vs[4][2] = {{(float)min[0], (float)min[1]},
                              {(float)max[0], (float)min[1]},
                              {(float)max[0], (float)max[1]},
                              {(float)min[0], (float)max[1]}};
            memcpy(g->v, vs, sizeof vs);
        }
        path_back(c, o2);
    }
    path_back(c, old);
    return true;
}

static bool check_spawns(struct ck *c, json_t *root, struct scene *s)
{
    static const char *const fields[] = {"id", "p", "q", NULL};
    json_t *arr;
    if (!get_array(c, root, "spawns", true, SCENE_SPAWNS_MAX, &arr))
        return false;
    s->spawns = calloc(json_array_size(arr), sizeof *s->spawns);
    if (!s->spawns)
        return fail(c, "out of memory");
    idset_clear(&c->ids);
    size_t old = path_key(c, "spawns");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        size_t o2 = path_index(c, i);
        json_t *e = json_array_get(arr, i);
        struct scene_spawn *sp = &s->spawns[i];
        double p[3];
        sp->q[3] = 1;
        if (!want_object(c, e) || !known_fields(c, e, fields) ||
            !get_id(c, e, "id", true, sp->id) || !get_pos(c, e, "p", true, 3, p) ||
            !get_quat(c, e, "q", false, sp->q))
            return false;
        s->nspawns++;
        if (!unique_id(c, "id", sp->id))
            return false;
        for (int k = 0; k < 3; k++)
            sp->p[k] = (float)p[k];
        double xz[2] = {p[0], p[2]};
        if (!walk_has(s, xz))
            return fail_at(c, "p", "not inside the walkable area");
        double fy = floor_at(s, xz);
        if (fabs(p[1] - fy) > FLOOR_EPS)
            return fail_at(c, "p", "not on the floor (y %.2f, the floor there is at %.2f)", p[1],
                           fy);
        path_back(c, o2);
    }
    path_back(c, old);
    return true;
}

static bool check_portals(struct ck *c, json_t *root, struct scene *s)
{
    static const char *const fields[] = {"id", "label", "trigger", "room", "spawn", NULL};
    static const char *const box_fields[] = {"min", "max", NULL};
    json_t *arr;
    if (!get_array(c, root, "portals", false, SCENE_PORTALS_MAX, &arr))
        return false;
    if (!arr || json_array_size(arr) == 0)
        return true;
    s->portals = calloc(json_array_size(arr), sizeof *s->portals);
    if (!s->portals)
        return fail(c, "out of memory");
    idset_clear(&c->ids);
    size_t old = path_key(c, "portals");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        size_t o2 = path_index(c, i);
        json_t *e = json_array_get(arr, i), *trig;
        struct scene_portal *pt = &s->portals[i];
        const char *label = NULL;
        double min[3], max[3];
        if (!want_object(c, e) || !known_fields(c, e, fields) ||
            !get_id(c, e, "id", true, pt->id) ||
            !get_string(c, e, "label", true, LABEL_MAX_LEN, &label) ||
            !get_object(c, e, "trigger", true, &trig))
            return false;
        s->nportals++;
        if (!unique_id(c, "id", pt->id))
            return false;
        size_t o3 = path_key(c, "trigger");
        if (!known_fields(c, trig, box_fields) || !get_pos(c, trig, "min", true, 3, min) ||
            !get_pos(c, trig, "max", true, 3, max))
            return false;
        if (!(min[0] < max[0] && min[1] < max[1] && min[2] < max[2]))
            return fail(c, "max must be greater than min on every axis");
        for (int k = 0; k < 3; k++) {
            pt->min[k] = (float)min[k];
            pt->max[k] = (float)max[k];
        }
        double lo[2] = {min[0], min[2]}, hi[2] = {max[0], max[2]};
        if (!walk_meets_rect(s, lo, hi))
            return fail(c, "does not touch the walkable area: nobody can walk into it");
        double mid[2] = {(min[0] + max[0]) / 2, (min[2] + max[2]) / 2};
        double fy = floor_at(s, mid);
        if (!(min[1] <= fy && fy <= max[1]))
            return fail(c, "does not reach the floor (y %.2f to %.2f, the floor is at %.2f)",
                        min[1], max[1], fy);
        path_back(c, o3);
        if (!get_id(c, e, "room", true, pt->room) || !get_id(c, e, "spawn", true, pt->spawn))
            return false;
        path_back(c, o2);
    }
    path_back(c, old);
    return true;
}

/* A spawn inside a trigger would send arrivals straight on. */
static bool check_spawns_clear(struct ck *c, const struct scene *s)
{
    for (size_t i = 0; i < s->nspawns; i++)
        for (size_t j = 0; j < s->nportals; j++)
            if (in_box(s->portals[j].min, s->portals[j].max, s->spawns[i].p)) {
                size_t old = path_push(c, "spawns[%zu].p", i);
                fail(c, "inside the trigger of portal \"%s\": arrivals would be sent on at once",
                     s->portals[j].id);
                path_back(c, old);
                return false;
            }
    return true;
}

/* ---- Nodes: checked, then only served. ---- */

static const char *const NODE_TYPES[] = {"group", "box",  "cylinder", "sphere",
                                         "plane", "gltf", NULL};

static bool check_material(struct ck *c, json_t *n)
{
    double x;
    return get_color(c, n, "color", false) && get_color(c, n, "emissive", false) &&
           get_num(c, n, "opacity", false, 0, 1, &x) &&
           get_num(c, n, "roughness", false, 0, 1, &x) &&
           get_num(c, n, "metalness", false, 0, 1, &x);
}

static bool check_nodes(struct ck *c, json_t *arr, int depth);

static bool check_node(struct ck *c, json_t *n, int depth)
{
#define COMMON   "id", "type", "translation", "rotation", "scale", "children"
#define MATERIAL "color", "emissive", "opacity", "roughness", "metalness"
    static const char *const group_f[] = {COMMON, NULL};
    static const char *const box_f[] = {COMMON, MATERIAL, "size", NULL};
    static const char *const cyl_f[] = {COMMON, MATERIAL, "radius", "radius_top", "height", NULL};
    static const char *const sphere_f[] = {COMMON, MATERIAL, "radius", NULL};
    static const char *const gltf_f[] = {COMMON, "url", NULL};
#undef COMMON
#undef MATERIAL
    const char *type = NULL;
    char id[SCENE_ID_MAX + 1] = "";
    double v[3];
    float q[4];
    json_t *kids;

    if (!want_object(c, n))
        return false;
    if (++c->nnodes > SCENE_NODES_MAX)
        return fail(c, "too many nodes (limit %d)", SCENE_NODES_MAX);
    if (depth > SCENE_DEPTH_MAX)
        return fail(c, "nodes nested deeper than %d levels", SCENE_DEPTH_MAX);
    if (!get_string(c, n, "type", true, 32, &type))
        return false;
    size_t t = 0;
    while (NODE_TYPES[t] && strcmp(NODE_TYPES[t], type) != 0)
        t++;
    if (!NODE_TYPES[t])
        return fail_at(c, "type",
                       "unknown node type \"%.40s\" (group, box, cylinder, sphere, plane, gltf)",
                       type);
    const char *const *fields = t == 0   ? group_f
                                : t == 1 ? box_f
                                : t == 2 ? cyl_f
                                : t == 3 ? sphere_f
                                : t == 4 ? box_f
                                         : gltf_f;
    if (!known_fields(c, n, fields) || !get_id(c, n, "id", false, id))
        return false;
    if (id[0] && !unique_id(c, "id", json_string_value(json_object_get(n, "id"))))
        return false;
    if (!get_pos(c, n, "translation", false, 3, v) || !get_quat(c, n, "rotation", false, q) ||
        !get_vec(c, n, "scale", false, 3, -1000, 1000, v))
        return false;
    if (json_object_get(n, "scale") && (v[0] <= 0 || v[1] <= 0 || v[2] <= 0))
        return fail_at(c, "scale", "every component must be greater than 0");
    switch (t) {
    case 1: /* box */
        if (!get_size(c, n, "size", true, 3, v) || !check_material(c, n))
            return false;
        break;
    case 2: /* cylinder */
        if (!get_num(c, n, "radius", true, 1e-6, SCENE_COORD_MAX, v) ||
            !get_num(c, n, "radius_top", false, 0, SCENE_COORD_MAX, v) ||
            !get_num(c, n, "height", true, 1e-6, SCENE_COORD_MAX, v) || !check_material(c, n))
            return false;
        break;
    case 3: /* sphere */
        if (!get_num(c, n, "radius", true, 1e-6, SCENE_COORD_MAX, v) || !check_material(c, n))
            return false;
        break;
    case 4: /* plane */
        if (json_object_get(n, "size") && json_array_size(json_object_get(n, "size")) == 3)
            return fail_at(c, "size", "a plane's size is [x, z]");
        if (!get_size(c, n, "size", true, 2, v) || !check_material(c, n))
            return false;
        break;
    case 5: /* gltf */
        if (!get_url(c, n, "url", true, GLTF_EXTS, GLTF_WHAT))
            return false;
        break;
    }
    if (!get_array(c, n, "children", false, SCENE_NODES_MAX, &kids))
        return false;
    if (kids) {
        size_t old = path_key(c, "children");
        bool ok = check_nodes(c, kids, depth + 1);
        path_back(c, old);
        return ok;
    }
    return true;
}

static bool check_nodes(struct ck *c, json_t *arr, int depth)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        size_t old = path_index(c, i);
        if (!check_node(c, json_array_get(arr, i), depth))
            return false;
        path_back(c, old);
    }
    return true;
}

/* ---- Places. ---- */

static const char *const PLACE_TYPES[] = {"stage",    "screen", "seat", "desk",
                                          "showcase", "board",  "sign", NULL};
#define SEAT_ROWS 7 /* index past PLACE_TYPES: the generator */

const char *scene_place_type_name(enum scene_place_type type)
{
    return (unsigned)type < SEAT_ROWS ? PLACE_TYPES[type] : "?";
}

/* How many places an entry makes, read leniently: the checks come after. */
static size_t place_count(json_t *e)
{
    json_t *rows = json_object_get(e, "rows"), *cols = json_object_get(e, "columns");
    const char *type = json_string_value(json_object_get(e, "type"));
    if (!type || strcmp(type, "seat_rows") != 0 || !json_is_integer(rows) || !json_is_integer(cols))
        return 1;
    json_int_t r = json_integer_value(rows), k = json_integer_value(cols);
    if (r < 1 || k < 1 || r > SEAT_GRID_MAX || k > SEAT_GRID_MAX)
        return 1;
    return (size_t)(r * k);
}

/*
 * Seat (r, k) of a seat_rows block, as scenes/FORMAT.md gives it: slots
 * across a row, aisles as empty slots; straight rows go back along local
 * -Z, curved rows lie on arcs around local (0, 0, radius) and face it.
 */
static void seat_pose(const double origin[3], const float bq[4], double sx, double sz,
                      double radius, const long long *aisles, size_t naisles, long long columns,
                      long long r, long long k, float p[3], float q[4])
{
    long long slot = k, nslots = columns + (long long)naisles;
    for (size_t a = 0; a < naisles; a++)
        if (aisles[a] <= k)
            slot++;
    double u = ((double)slot - (double)(nslots - 1) / 2) * sx;
    vec3 local;
    versor turn = {0, 0, 0, 1};
    if (radius > 0) {
        double rr = radius + (double)r * sz, th = u / rr;
        local[0] = (float)(rr * sin(th));
        local[1] = 0;
        local[2] = (float)(radius - rr * cos(th));
        glm_quatv(turn, (float)-th, (vec3){0, 1, 0});
    } else {
        local[0] = (float)u;
        local[1] = 0;
        local[2] = (float)(-(double)r * sz);
    }
    versor block = {bq[0], bq[1], bq[2], bq[3]}, out;
    vec3 world;
    glm_quat_rotatev(block, local, world);
    for (int i = 0; i < 3; i++)
        p[i] = (float)(origin[i] + world[i]);
    glm_quat_mul(block, turn, out);
    glm_quat_normalize(out);
    memcpy(q, out, sizeof out);
}

/* ---- Live data in a showcase: twin bindings. ---- */

static const char *const TWIN_SHOWS[] = {"label", "ramp", "bar", "sparkline", "marker", NULL};

const char *scene_twin_show_name(enum scene_twin_show show)
{
    return (unsigned)show <= SCENE_TWIN_MARKER ? TWIN_SHOWS[show] : "?";
}

static bool is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/*
 * An entity's URI: a scheme (RFC 3986: a letter, then letters, digits, '+',
 * '-' or '.') and ':', then one or more printable ASCII characters other
 * than a space and <>"{}|\^` (RFC 3987 keeps those out of a URI).
 */
static bool check_uri(struct ck *c, const char *u)
{
    size_t i = 0;
    if (is_alpha(u[0]))
        for (i = 1; is_alpha(u[i]) || is_digit(u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.';)
            i++;
    if (i == 0 || u[i] != ':')
        return fail(c, "not a URI: it needs a scheme and ':' (\"urn:ngsi-ld:Type:id\")");
    if (u[i + 1] == '\0')
        return fail(c, "not a URI: nothing after \"%.*s\"", (int)(i + 1), u);
    for (size_t k = i + 1; u[k]; k++) {
        unsigned char ch = (unsigned char)u[k];
        if (ch <= ' ' || ch >= 127 || strchr("<>\"{}|\\^`", ch)) {
            char shown[8];
            if (ch > ' ' && ch < 127)
                snprintf(shown, sizeof shown, "'%c'", ch);
            else
                snprintf(shown, sizeof shown, "0x%02x", ch);
            return fail(c,
                        "not a URI: %s at offset %zu is not allowed (printable ASCII, no spaces, "
                        "none of <>\"{}|\\^`)",
                        shown, k);
        }
    }
    return true;
}

static bool check_twin_attr(struct ck *c, const char *a)
{
    for (const char *p = a; *p; p++)
        if (!(is_alpha(*p) || is_digit(*p) || *p == '_'))
            return fail(c, "not an attribute name \"%.64s\": use 1 to %d of A-Z, a-z, 0-9 and '_'",
                        a, SCENE_TWIN_ATTR_MAX);
    return true;
}

/* A field some shows need and the others refuse; *v is it, NULL when absent. */
static bool twin_field(struct ck *c, json_t *e, const char *key, const char *show, bool need,
                       bool allowed, json_t **v)
{
    *v = json_object_get(e, key);
    if (!*v && need)
        return fail_at(c, key, "required for show \"%s\"", show);
    if (*v && !allowed)
        return fail_at(c, key, "not allowed for show \"%s\"", show);
    return true;
}

static bool check_twin_range(struct ck *c, json_t *v, struct scene_twin_binding *b)
{
    size_t old = path_key(c, "range");
    if (!vec_here(c, v, 2, -DBL_MAX, DBL_MAX, b->range))
        return false;
    if (!(b->range[0] < b->range[1]))
        return fail(c, "must be [min, max] with min < max, got [%g, %g]", b->range[0], b->range[1]);
    path_back(c, old);
    b->has_range = true;
    return true;
}

static bool check_twin_colors(struct ck *c, json_t *e, struct scene_twin_binding *b)
{
    json_t *arr;
    if (!get_array(c, e, "colors", false, SCENE_TWIN_COLORS_MAX, &arr))
        return false;
    if (!arr)
        return true;
    if (json_array_size(arr) < 2)
        return fail_at(c, "colors", "a ramp needs 2 to %d colours, got %zu", SCENE_TWIN_COLORS_MAX,
                       json_array_size(arr));
    size_t old = path_key(c, "colors");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        size_t o2 = path_index(c, i);
        if (!json_is_string(v))
            return fail(c, "expected a colour string, got %s", type_name(v));
        if (!color_valid(json_string_value(v)))
            return fail(c, "not a colour \"%.16s\": expected \"#rrggbb\"", json_string_value(v));
        assert(b->ncolors < SCENE_TWIN_COLORS_MAX);
        memcpy(b->colors[b->ncolors++], json_string_value(v), 8);
        path_back(c, o2);
    }
    path_back(c, old);
    return true;
}

static bool check_twin_map(struct ck *c, json_t *v, struct scene_twin_binding *b)
{
    static const char *const map_f[] = {"west", "south", "east", "north", NULL};
    size_t old = path_key(c, "map");
    if (!want_object(c, v) || !known_fields(c, v, map_f) ||
        !get_num(c, v, "west", true, -180, 180, &b->map[0]) ||
        !get_num(c, v, "south", true, -90, 90, &b->map[1]) ||
        !get_num(c, v, "east", true, -180, 180, &b->map[2]) ||
        !get_num(c, v, "north", true, -90, 90, &b->map[3]))
        return false;
    if (!(b->map[0] < b->map[2]))
        return fail_at(c, "east", "must be greater than west (%g)", b->map[0]);
    if (!(b->map[1] < b->map[3]))
        return fail_at(c, "north", "must be greater than south (%g)", b->map[1]);
    path_back(c, old);
    return true;
}

/* One binding, at the current path, into b. */
static bool check_twin(struct ck *c, json_t *e, struct scene_twin_binding *b)
{
    static const char *const fields[] = {"entity", "attr",   "show",        "label", "unit",
                                         "range",  "colors", "stale_after", "map",   NULL};
    const char *entity = NULL, *attr = NULL, *show = NULL, *label = NULL;
    long long stale = SCENE_TWIN_STALE;
    json_t *unit, *range, *colors, *map;

    if (!want_object(c, e) || !known_fields(c, e, fields) ||
        !get_string(c, e, "entity", true, SCENE_TWIN_ENTITY_MAX, &entity))
        return false;
    assert(entity); /* a required string is there once get_string succeeds */
    size_t old = path_key(c, "entity");
    if (!check_uri(c, entity))
        return false;
    path_back(c, old);
    if (!get_string(c, e, "attr", true, SCENE_TWIN_ATTR_MAX, &attr))
        return false;
    assert(attr);
    old = path_key(c, "attr");
    if (!check_twin_attr(c, attr))
        return false;
    path_back(c, old);
    if (!get_string(c, e, "show", true, 32, &show))
        return false;
    assert(show);
    size_t k = 0;
    while (TWIN_SHOWS[k] && strcmp(TWIN_SHOWS[k], show) != 0)
        k++;
    if (!TWIN_SHOWS[k])
        return fail_at(c, "show", "unknown show \"%.40s\" (label, ramp, bar, sparkline, marker)",
                       show);
    b->show = (enum scene_twin_show)k;
    memcpy(b->entity, entity, strlen(entity) + 1);
    memcpy(b->attr, attr, strlen(attr) + 1);

    if (!get_string(c, e, "label", false, SCENE_TWIN_LABEL_MAX, &label) ||
        !get_typed(c, e, "unit", false, JSON_STRING, "a string", &unit))
        return false;
    if (label)
        memcpy(b->label, label, strlen(label) + 1);
    if (unit) {
        size_t n = json_string_length(unit);
        if (n > SCENE_TWIN_UNIT_MAX)
            return fail_at(c, "unit", "too long (%zu bytes, limit %d)", n, SCENE_TWIN_UNIT_MAX);
        memcpy(b->unit, json_string_value(unit), n + 1);
        b->has_unit = true;
    }

    bool ranged = b->show == SCENE_TWIN_RAMP || b->show == SCENE_TWIN_BAR;
    if (!twin_field(c, e, "range", show, ranged, ranged || b->show == SCENE_TWIN_SPARKLINE,
                    &range) ||
        (range && !check_twin_range(c, range, b)))
        return false;
    if (!twin_field(c, e, "colors", show, false, b->show == SCENE_TWIN_RAMP, &colors) ||
        (colors && !check_twin_colors(c, e, b)))
        return false;
    if (!get_int(c, e, "stale_after", false, 1, SCENE_TWIN_STALE_MAX, &stale))
        return false;
    b->stale_after = (int)stale;
    bool marker = b->show == SCENE_TWIN_MARKER;
    return twin_field(c, e, "map", show, marker, marker, &map) &&
           (!map || check_twin_map(c, map, b));
}

/* A showcase's twins, appended to the scene's; sets pl->twins and pl->ntwins. */
static bool check_twins(struct ck *c, json_t *e, struct scene *s, struct scene_place *pl)
{
    json_t *arr;
    if (!get_array(c, e, "twins", false, SCENE_TWINS_MAX, &arr))
        return false;
    if (!arr)
        return true;
    if (json_array_size(arr) == 0)
        return fail_at(c, "twins", "must not be empty (leave it out for a showcase without data)");
    struct scene_twin_binding *first = &s->twins[s->ntwins];
    size_t old = path_key(c, "twins");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        size_t o2 = path_index(c, i);
        assert(s->ntwins < c->twins_cap);
        struct scene_twin_binding *b = &s->twins[s->ntwins];
        b->place = s->nplaces;
        if (!check_twin(c, json_array_get(arr, i), b))
            return false;
        s->ntwins++;
        for (size_t j = 0; j < i; j++)
            if (strcmp(first[j].entity, b->entity) == 0 && strcmp(first[j].attr, b->attr) == 0 &&
                first[j].show == b->show)
                return fail(c, "the same entity, attr and show as twins[%zu]", j);
        path_back(c, o2);
    }
    path_back(c, old);
    pl->twins = first;
    pl->ntwins = json_array_size(arr);
    return true;
}

/* How many bindings an entry may add, read leniently: the checks come after. */
static size_t twin_count(json_t *e)
{
    const char *type = json_string_value(json_object_get(e, "type"));
    json_t *arr = json_object_get(e, "twins");
    if (!type || strcmp(type, "showcase") != 0 || !json_is_array(arr))
        return 0;
    return json_array_size(arr) < SCENE_TWINS_MAX ? json_array_size(arr) : SCENE_TWINS_MAX;
}

/* The distinct entities of all bindings, first seen first: what the server subscribes to. */
static bool make_twin_entities(struct ck *c, struct scene *s)
{
    if (s->ntwins == 0)
        return true;
    s->twin_entities = calloc(s->ntwins, sizeof *s->twin_entities);
    if (!s->twin_entities)
        return fail(c, "out of memory");
    idset_clear(&c->ids);
    for (size_t i = 0; i < s->ntwins; i++) {
        int r = idset_add(&c->ids, s->twins[i].entity);
        if (r < 0)
            return fail(c, "out of memory");
        if (r == 1) {
            assert(s->ntwin_entities < s->ntwins);
            memcpy(s->twin_entities[s->ntwin_entities++], s->twins[i].entity,
                   sizeof s->twin_entities[0]);
        }
    }
    return true;
}

static bool check_place(struct ck *c, json_t *e, struct scene *s)
{
#define COMMON "type", "id", "translation", "rotation", "label", "volume"
    static const char *const stage_f[] = {COMMON, "size", NULL};
    static const char *const screen_f[] = {COMMON, "size", "image", "color", NULL};
    static const char *const seat_f[] = {COMMON, "model", "color", NULL};
    static const char *const desk_f[] = {COMMON, "size", NULL};
    static const char *const showcase_f[] = {COMMON, "size", "topic", "twins", NULL};
    static const char *const sign_f[] = {COMMON, "size", "color", "text_color", NULL};
    static const char *const rows_f[] = {COMMON,   "rows",  "columns", "spacing", "radius",
                                         "aisles", "model", "color",   NULL};
#undef COMMON
    static const char *const *const fields[] = {stage_f,    screen_f, seat_f, desk_f,
                                                showcase_f, screen_f, sign_f, rows_f};
    static const char *const box_fields[] = {"min", "max", NULL};
    const char *type = NULL, *label = NULL;
    struct scene_place pl = {.q = {0, 0, 0, 1}};
    double t[3], size[3], min[3], max[3];
    json_t *vol;

    if (!want_object(c, e) || !get_string(c, e, "type", true, 32, &type))
        return false;
    size_t ti = 0;
    while (ti < SEAT_ROWS && strcmp(PLACE_TYPES[ti], type) != 0)
        ti++;
    if (ti == SEAT_ROWS && strcmp(type, "seat_rows") != 0)
        return fail_at(c, "type",
                       "unknown place type \"%.40s\" (stage, screen, seat, seat_rows, desk, "
                       "showcase, board, sign)",
                       type);
    if (!known_fields(c, e, fields[ti]) || !get_id(c, e, "id", true, pl.id) ||
        !get_pos(c, e, "translation", true, 3, t) || !get_quat(c, e, "rotation", false, pl.q) ||
        !get_string(c, e, "label", false, LABEL_MAX_LEN, &label) ||
        !get_object(c, e, "volume", ti == SCENE_PLACE_STAGE, &vol))
        return false;
    for (int k = 0; k < 3; k++)
        pl.p[k] = (float)t[k];
    if (vol) {
        size_t old = path_key(c, "volume");
        if (!known_fields(c, vol, box_fields) || !get_pos(c, vol, "min", true, 3, min) ||
            !get_pos(c, vol, "max", true, 3, max))
            return false;
        if (!(min[0] < max[0] && min[1] < max[1] && min[2] < max[2]))
            return fail(c, "max must be greater than min on every axis");
        double lo[2] = {min[0], min[2]}, hi[2] = {max[0], max[2]};
        if (!walk_meets_rect(s, lo, hi))
            return fail(c, "does not touch the walkable area");
        path_back(c, old);
        pl.has_volume = true;
        for (int k = 0; k < 3; k++) {
            pl.min[k] = (float)min[k];
            pl.max[k] = (float)max[k];
        }
    }
    switch (ti) {
    case SCENE_PLACE_SCREEN:
    case SCENE_PLACE_BOARD:
        if (!get_size(c, e, "size", true, 2, size) ||
            !get_url(c, e, "image", false, IMAGE_EXTS, IMAGE_WHAT) ||
            !get_color(c, e, "color", false))
            return false;
        break;
    case SCENE_PLACE_SIGN:
        if (!get_size(c, e, "size", true, 2, size) || !get_color(c, e, "color", false) ||
            !get_color(c, e, "text_color", false))
            return false;
        if (!label)
            return fail_at(c, "label", "required field is missing");
        break;
    case SCENE_PLACE_STAGE:
    case SCENE_PLACE_DESK:
        if (!get_size(c, e, "size", false, 3, size))
            return false;
        break;
    case SCENE_PLACE_SHOWCASE:
        if (!get_size(c, e, "size", false, 3, size) || !get_id(c, e, "topic", true, pl.topic) ||
            !check_twins(c, e, s, &pl))
            return false;
        break;
    case SCENE_PLACE_SEAT:
    case SEAT_ROWS:
        if (!get_url(c, e, "model", false, GLTF_EXTS, GLTF_WHAT) ||
            !get_color(c, e, "color", false))
            return false;
        break;
    }
    /* The block's own id takes its place in the namespace, as the seats do. */
    const char *block_id = json_string_value(json_object_get(e, "id"));
    if (!unique_id(c, "id", block_id))
        return false;
    if (ti != SEAT_ROWS) {
        pl.type = (enum scene_place_type)ti;
        double xz[2] = {t[0], t[2]};
        if (pl.type == SCENE_PLACE_SEAT && !walk_has(s, xz))
            return fail_at(c, "translation", "seat is not inside the walkable area");
        s->places[s->nplaces++] = pl;
        return true;
    }

    long long rows = 0, cols = 0, aisles[64];
    size_t naisles = 0;
    double spacing[2], radius = 0;
    json_t *ja;
    if (!get_int(c, e, "rows", true, 1, SEAT_GRID_MAX, &rows) ||
        !get_int(c, e, "columns", true, 1, SEAT_GRID_MAX, &cols) ||
        !get_size(c, e, "spacing", true, 2, spacing) ||
        !get_num(c, e, "radius", false, 0.1, SCENE_COORD_MAX, &radius) ||
        !get_array(c, e, "aisles", false, 64, &ja))
        return false;
    for (size_t i = 0; ja && i < json_array_size(ja); i++) {
        size_t old = path_key(c, "aisles");
        path_index(c, i);
        json_t *a = json_array_get(ja, i);
        if (!json_is_integer(a))
            return fail(c, "expected an integer, got %s", type_name(a));
        long long x = json_integer_value(a);
        if (x < 1 || x >= cols)
            return fail(c, "an aisle goes after seat 1 to %lld of a row, got %lld", cols - 1, x);
        if (naisles && x <= aisles[naisles - 1])
            return fail(c, "aisles must be in increasing order");
        aisles[naisles++] = x;
        path_back(c, old);
    }
    if (strlen(pl.id) + 2 * 5 > SCENE_ID_MAX)
        return fail_at(c, "id", "too long to name its seats (\"%s-ROW-SEAT\" must fit %d bytes)",
                       pl.id, SCENE_ID_MAX);
    for (long long r = 0; r < rows; r++) {
        for (long long k = 0; k < cols; k++) {
            struct scene_place *seat = &s->places[s->nplaces];
            memset(seat, 0, sizeof *seat);
            seat->type = SCENE_PLACE_SEAT;
            char sid[128] = ""; /* fits SCENE_ID_MAX: checked above */
            snprintf(sid, sizeof sid, "%s-%lld-%lld", pl.id, r + 1, k + 1);
            memcpy(seat->id, sid, sizeof seat->id - 1);
            seat_pose(t, pl.q, spacing[0], spacing[1], radius, aisles, naisles, cols, r, k, seat->p,
                      seat->q);
            double xz[2] = {seat->p[0], seat->p[2]};
            if (!walk_has(s, xz))
                return fail(c, "seat \"%s\" is not inside the walkable area", seat->id);
            s->nplaces++;
            if (!unique_id(c, "id", seat->id))
                return false;
        }
    }
    return true;
}

static bool check_places(struct ck *c, json_t *root, struct scene *s)
{
    json_t *arr;
    size_t total = 0, twins = 0;
    if (!get_array(c, root, "places", false, SCENE_PLACES_MAX, &arr))
        return false;
    if (!arr || json_array_size(arr) == 0)
        return true;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        total += place_count(json_array_get(arr, i));
        twins += twin_count(json_array_get(arr, i));
    }
    if (total > SCENE_PLACES_MAX)
        return fail_at(c, "places", "too many places with seat_rows expanded (%zu, limit %d)",
                       total, SCENE_PLACES_MAX);
    if (twins > SCENE_TWINS_ALL_MAX)
        return fail_at(c, "places", "too many twin bindings in all showcases (%zu, limit %d)",
                       twins, SCENE_TWINS_ALL_MAX);
    s->places = calloc(total, sizeof *s->places);
    if (!s->places)
        return fail(c, "out of memory");
    if (twins) {
        s->twins = calloc(twins, sizeof *s->twins);
        if (!s->twins)
            return fail(c, "out of memory");
        c->twins_cap = twins;
    }
    idset_clear(&c->ids);
    size_t old = path_key(c, "places");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        size_t o2 = path_index(c, i);
        if (!check_place(c, json_array_get(arr, i), s))
            return false;
        path_back(c, o2);
    }
    path_back(c, old);
    return make_twin_entities(c, s);
}

/* ---- Lighting, background, fog: checked, then only served. ---- */

static bool check_light(struct ck *c, json_t *l, const char *const *fields, bool need_pos,
                        bool need_dir)
{
    double v[3], x;
    if (!want_object(c, l) || !known_fields(c, l, fields) || !get_color(c, l, "color", false) ||
        !get_num(c, l, "intensity", false, 0, 1000, &x) ||
        !get_pos(c, l, "position", need_pos, 3, v) || !get_pos(c, l, "direction", need_dir, 3, v))
        return false;
    if (need_dir && v[0] == 0 && v[1] == 0 && v[2] == 0)
        return fail_at(c, "direction", "must not be zero");
    return get_num(c, l, "distance", false, 0, SCENE_COORD_MAX, &x);
}

static bool check_lights(struct ck *c, json_t *lighting, const char *key, const char *const *fields,
                         bool need_pos, bool need_dir)
{
    json_t *arr;
    if (!get_array(c, lighting, key, false, LIGHTS_MAX, &arr))
        return false;
    size_t old = path_key(c, key);
    for (size_t i = 0; arr && i < json_array_size(arr); i++) {
        size_t o2 = path_index(c, i);
        if (!check_light(c, json_array_get(arr, i), fields, need_pos, need_dir))
            return false;
        path_back(c, o2);
    }
    path_back(c, old);
    return true;
}

static bool check_look(struct ck *c, json_t *root)
{
    static const char *const lighting_f[] = {"ambient", "hemisphere", "directional", "point", NULL};
    static const char *const ambient_f[] = {"color", "intensity", NULL};
    static const char *const hemi_f[] = {"sky", "ground", "intensity", NULL};
    static const char *const dir_f[] = {"color", "intensity", "direction", NULL};
    static const char *const point_f[] = {"color", "intensity", "position", "distance", NULL};
    static const char *const fog_f[] = {"color", "near", "far", NULL};
    json_t *lighting, *o;
    double x, near = 0, far = 0;

    if (!get_color(c, root, "background", false) ||
        !get_object(c, root, "lighting", false, &lighting))
        return false;
    if (lighting) {
        size_t old = path_key(c, "lighting");
        if (!known_fields(c, lighting, lighting_f) ||
            !get_object(c, lighting, "ambient", false, &o))
            return false;
        if (o) {
            size_t o2 = path_key(c, "ambient");
            if (!known_fields(c, o, ambient_f) || !get_color(c, o, "color", false) ||
                !get_num(c, o, "intensity", false, 0, 1000, &x))
                return false;
            path_back(c, o2);
        }
        if (!get_object(c, lighting, "hemisphere", false, &o))
            return false;
        if (o) {
            size_t o2 = path_key(c, "hemisphere");
            if (!known_fields(c, o, hemi_f) || !get_color(c, o, "sky", false) ||
                !get_color(c, o, "ground", false) ||
                !get_num(c, o, "intensity", false, 0, 1000, &x))
                return false;
            path_back(c, o2);
        }
        if (!check_lights(c, lighting, "directional", dir_f, false, true) ||
            !check_lights(c, lighting, "point", point_f, true, false))
            return false;
        path_back(c, old);
    }
    if (!get_object(c, root, "fog", false, &o))
        return false;
    if (o) {
        size_t old = path_key(c, "fog");
        if (!known_fields(c, o, fog_f) || !get_color(c, o, "color", true) ||
            !get_num(c, o, "near", true, 0, SCENE_COORD_MAX, &near) ||
            !get_num(c, o, "far", true, 0, SCENE_COORD_MAX, &far))
            return false;
        if (!(far > near))
            return fail_at(c, "far", "must be greater than near");
        path_back(c, old);
    }
    return true;
}

/* "interest": false, or an object whose fields default (scene.h). */
static bool check_interest(struct ck *c, json_t *root, struct scene *s)
{
    static const char *const fields[] = {"from",          "near",   "band", "band_hz",
                                         "background_hz", "budget", NULL};
    struct scene_interest *in = &s->interest;
    long long from = SCENE_INTEREST_FROM, near = SCENE_INTEREST_NEAR, band = SCENE_INTEREST_BAND;
    long long budget = SCENE_INTEREST_BUDGET;
    json_t *v = json_object_get(root, "interest");
    size_t old;

    *in = (struct scene_interest){
        .on = true, .band_hz = SCENE_INTEREST_BAND_HZ, .background_hz = SCENE_INTEREST_BG_HZ};
    if (json_is_false(v)) {
        in->on = false;
        return true;
    }
    if (v && !json_is_object(v))
        return fail_at(c, "interest", "expected false or an object, got %s", type_name(v));
    if (v) {
        old = path_key(c, "interest");
        if (!known_fields(c, v, fields) || !get_int(c, v, "from", false, 1, 100000, &from) ||
            !get_int(c, v, "near", false, 1, 1000, &near) ||
            !get_int(c, v, "band", false, 0, 100000, &band) ||
            !get_num(c, v, "band_hz", false, 0.1, 60, &in->band_hz) ||
            !get_num(c, v, "background_hz", false, 0.1, 60, &in->background_hz) ||
            !get_int(c, v, "budget", false, 1000, 100000000, &budget))
            return false;
        if (in->background_hz > in->band_hz)
            return fail_at(c, "background_hz", "must not be more than band_hz (%g > %g)",
                           in->background_hz, in->band_hz);
        path_back(c, old);
    }
    in->from = (int)from;
    in->near = (int)near;
    in->band = (int)band;
    in->budget = (int)budget;
    return true;
}

/* ---- The document. ---- */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static bool check_doc(struct ck *c, json_t *root, struct scene *s)
{
    static const char *const fields[] = {
        "format_version", "id",       "name",   "description", "capacity",
        "reserved_seats", "overflow", "guests", "floor_y",     "walk",
        "spawns",         "portals",  "places", "nodes",       "lighting",
        "background",     "fog",      "order",  "interest",    NULL};
    static const char *const guest_f[] = {"enter", "chat", NULL};
    const char *name = NULL, *desc = "";
    long long version = 0, capacity = 0, reserved = 0, order = SCENE_ORDER_LAST;
    double floor_y = 0;
    json_t *guests, *nodes;

    if (!json_is_object(root))
        return fail(c, "expected a JSON object at the top level, got %s", type_name(root));
    if (!known_fields(c, root, fields) ||
        !get_int(c, root, "format_version", true, LLONG_MIN, LLONG_MAX, &version))
        return false;
    if (version != FORMAT_VERSION)
        return fail_at(c, "format_version", "unsupported version %lld (this server reads %d)",
                       version, FORMAT_VERSION);
    if (!get_id(c, root, "id", true, s->id) ||
        !get_string(c, root, "name", true, NAME_MAX_LEN, &name) ||
        !get_string(c, root, "description", false, TEXT_MAX_LEN, &desc) ||
        !get_int(c, root, "capacity", true, 1, 100000, &capacity) ||
        !get_int(c, root, "reserved_seats", false, 0, 100000, &reserved) ||
        !get_int(c, root, "order", false, 0, SCENE_ORDER_LAST - 1, &order) ||
        !get_id(c, root, "overflow", false, s->overflow) ||
        !get_object(c, root, "guests", false, &guests) ||
        !get_num(c, root, "floor_y", false, -SCENE_COORD_MAX, SCENE_COORD_MAX, &floor_y))
        return false;
    s->name = dup_str(name);
    s->description = dup_str(desc);
    if (!s->name || !s->description)
        return fail(c, "out of memory");
    s->capacity = (int)capacity;
    s->reserved_seats = (int)reserved;
    s->order = (int)order;
    s->floor_y = (float)floor_y;
    if (reserved > capacity)
        return fail_at(c, "reserved_seats", "more than the capacity (%lld > %lld)", reserved,
                       capacity);
    if (strcmp(s->overflow, s->id) == 0)
        return fail_at(c, "overflow", "a room cannot overflow into itself");
    s->guests_enter = s->guests_chat = true;
    if (guests) {
        size_t old = path_key(c, "guests");
        if (!known_fields(c, guests, guest_f) ||
            !get_bool(c, guests, "enter", false, &s->guests_enter) ||
            !get_bool(c, guests, "chat", false, &s->guests_chat))
            return false;
        path_back(c, old);
    }
    if (!check_walk(c, root, s) || !check_spawns(c, root, s) || !check_portals(c, root, s) ||
        !check_spawns_clear(c, s) || !make_arrivals(c, s) || !check_places(c, root, s) ||
        !check_interest(c, root, s))
        return false;
    if (!get_array(c, root, "nodes", false, SCENE_NODES_MAX, &nodes))
        return false;
    if (nodes) {
        idset_clear(&c->ids);
        size_t old = path_key(c, "nodes");
        if (!check_nodes(c, nodes, 1))
            return false;
        path_back(c, old);
    }
    return check_look(c, root);
}

/* Strong ETag: the first 128 bits of SHA-256 over the served text, in hex. */
static bool make_etag(struct scene *s)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(s->json, s->json_len, md, &mdlen, EVP_sha256(), NULL) || mdlen < 16)
        return false;
    char *e = s->etag;
    *e++ = '"';
    for (int i = 0; i < 16; i++)
        e += sprintf(e, "%02x", md[i]);
    *e++ = '"';
    *e = '\0';
    return true;
}

int scene_load_mem(const char *path, const char *buf, size_t len, struct scene **out, char *err,
                   size_t errlen)
{
    struct ck c = {.file = path, .err = err, .errlen = errlen};
    json_error_t jerr;
    struct scene *s;
    json_t *root;

    *out = NULL;
    if (len > SCENE_FILE_MAX) {
        set_err(err, errlen, "%s: file too big (%zu bytes, limit %d)", path, len, SCENE_FILE_MAX);
        return -1;
    }
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(c.dir, sizeof c.dir, "%.*s", (int)(slash - path), path);
    else
        snprintf(c.dir, sizeof c.dir, ".");
    if (slash == path)
        snprintf(c.dir, sizeof c.dir, "/");
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        set_err(err, errlen, "%s: not valid JSON: line %d, column %d: %s", path, jerr.line,
                jerr.column, jerr.text);
        return -1;
    }
    s = calloc(1, sizeof *s);
    if (!s || !(s->path = dup_str(path))) {
        free(s);
        json_decref(root);
        set_err(err, errlen, "%s: out of memory", path);
        return -1;
    }
    bool ok = check_doc(&c, root, s);
    idset_free(&c.ids);
    if (ok) {
        s->json = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
        if (!s->json || !(s->json_len = strlen(s->json), make_etag(s)))
            ok = fail(&c, "out of memory");
    }
    json_decref(root);
    if (!ok) {
        scene_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

/*
 * Reads at most SCENE_FILE_MAX + 1 bytes, so /dev/zero or a growing file
 * cannot exhaust memory; O_NONBLOCK so a FIFO cannot hang start-up.
 */
int scene_load_file(const char *path, struct scene **out, char *err, size_t errlen)
{
    struct stat st;
    *out = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        set_err(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    if (st.st_size > (off_t)SCENE_FILE_MAX) {
        close(fd);
        set_err(err, errlen, "%s: file too big (%lld bytes, limit %d)", path, (long long)st.st_size,
                SCENE_FILE_MAX);
        return -1;
    }
    /* st_size is a hint only (procfs, a file being written): read until EOF or past the limit. */
    size_t cap = (size_t)SCENE_FILE_MAX + 1, len = 0;
    size_t have = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
    char *buf = malloc(have);
    int rerr = 0;
    while (buf) {
        if (len == have) {
            if (have >= cap)
                break;
            size_t grow = have * 2 < cap ? have * 2 : cap;
            char *nb = realloc(buf, grow);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            have = grow;
        }
        ssize_t n = read(fd, buf + len, have - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rerr = errno;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (!buf) {
        set_err(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (rerr) {
        free(buf);
        set_err(err, errlen, "%s: cannot read: %s", path, strerror(rerr));
        return -1;
    }
    int rc;
    if (len > SCENE_FILE_MAX) {
        set_err(err, errlen, "%s: file too big (more than %d bytes)", path, SCENE_FILE_MAX);
        rc = -1;
    } else {
        rc = scene_load_mem(path, buf, len, out, err, errlen);
    }
    free(buf);
    return rc;
}

void scene_free(struct scene *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nwalk; i++)
        free(s->walk[i].v);
    free(s->walk);
    free(s->spawns);
    free(s->portals);
    free(s->places);
    free(s->arrivals);
    free(s->twins);
    free(s->twin_entities);
    free(s->name);
    free(s->description);
    free(s->json);
    free(s->path);
    free(s);
}

/* ---- The venue: every scene in a directory. ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The venue's order: by "order", then by file name (the paths share the directory). */
static int cmp_scene(const void *a, const void *b)
{
    const struct scene *x = *(const struct scene *const *)a, *y = *(const struct scene *const *)b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return strcmp(x->path, y->path);
}

static bool has_json_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && name[0] != '.' && strcmp(name + n - 5, ".json") == 0;
}

/* What spans scenes: room ids, portal targets, overflow rooms. */
static int check_set(const struct scene_set *set, char *err, size_t errlen)
{
    for (size_t i = 0; i < set->n; i++) {
        const struct scene *s = set->scenes[i];
        for (size_t j = 0; j < i; j++)
            if (strcmp(set->scenes[j]->id, s->id) == 0) {
                set_err(err, errlen, "%s: id: duplicate room id \"%s\" (also in %s)", s->path,
                        s->id, set->scenes[j]->path);
                return -1;
            }
    }
    for (size_t i = 0; i < set->n; i++) {
        const struct scene *s = set->scenes[i];
        for (size_t j = 0; j < s->nportals; j++) {
            const struct scene_portal *pt = &s->portals[j];
            const struct scene *to = scene_set_find(set, pt->room);
            if (!to) {
                set_err(err, errlen, "%s: portals[%zu].room: no room \"%s\"", s->path, j, pt->room);
                return -1;
            }
            if (!scene_spawn_find(to, pt->spawn)) {
                set_err(err, errlen, "%s: portals[%zu].spawn: no spawn \"%s\" in room \"%s\"",
                        s->path, j, pt->spawn, pt->room);
                return -1;
            }
        }
        if (s->overflow[0] && !scene_set_find(set, s->overflow)) {
            set_err(err, errlen, "%s: overflow: no room \"%s\"", s->path, s->overflow);
            return -1;
        }
    }
    return 0;
}

int scene_set_load(const char *dir, struct scene_set *set, char *err, size_t errlen)
{
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    struct dirent *de;

    set->scenes = NULL;
    set->n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        set_err(err, errlen, "%s: cannot open scene directory: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        if (!has_json_suffix(de->d_name))
            continue;
        if (n == SCENE_ROOMS_MAX) {
            set_err(err, errlen, "%s: too many scene files (limit %d)", dir, SCENE_ROOMS_MAX);
            goto out;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (!nn)
                goto oom;
            names = nn;
            cap = ncap;
        }
        if (!(names[n] = dup_str(de->d_name)))
            goto oom;
        n++;
    }
    if (n == 0) {
        set_err(err, errlen, "%s: no scene files (*.json)", dir);
        goto out;
    }
    qsort(names, n, sizeof *names, cmp_str);
    set->scenes = calloc(n, sizeof *set->scenes);
    if (!set->scenes)
        goto oom;
    size_t dlen = strlen(dir);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    for (size_t i = 0; i < n; i++) {
        size_t plen = dlen + 1 + strlen(names[i]) + 1;
        char *p = malloc(plen);
        if (!p)
            goto oom;
        snprintf(p, plen, "%.*s/%s", (int)dlen, dir, names[i]);
        int r = scene_load_file(p, &set->scenes[set->n], err, errlen);
        free(p);
        if (r != 0)
            goto out;
        set->n++;
    }
    qsort(set->scenes, set->n, sizeof *set->scenes, cmp_scene);
    rc = check_set(set, err, errlen);
    goto out;
oom:
    set_err(err, errlen, "%s: out of memory", dir);
out:
    closedir(d);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc != 0)
        scene_set_free(set);
    return rc;
}

void scene_set_free(struct scene_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        scene_free(set->scenes[i]);
    free(set->scenes);
    set->scenes = NULL;
    set->n = 0;
}

const struct scene *scene_set_find(const struct scene_set *set, const char *room_id)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->scenes[i]->id, room_id) == 0)
            return set->scenes[i];
    return NULL;
}

/* ---- Questions the server asks. ---- */

bool scene_walkable(const struct scene *s, const float p[3])
{
    double xz[2] = {p[0], p[2]};
    return isfinite(xz[0]) && isfinite(xz[1]) && walk_has(s, xz);
}

float scene_floor_at(const struct scene *s, const float p[3])
{
    double xz[2] = {p[0], p[2]};
    return (float)floor_at(s, xz);
}

/*
 * The nearest point of a union of polygons, from outside all of them, lies
 * on some polygon's boundary: project onto every edge, keep the closest.
 */
bool scene_clamp(const struct scene *s, float p[3])
{
    double xz[2] = {p[0], p[2]}, best[2] = {0, 0}, bd = INFINITY;
    if (!isfinite(xz[0]) || !isfinite(xz[1])) {
        if (s->nspawns) { /* nothing near a NaN: start over at the first spawn */
            memcpy(p, s->spawns[0].p, sizeof s->spawns[0].p);
            return true;
        }
        xz[0] = xz[1] = 0;
    }
    if (walk_has(s, xz) || s->nwalk == 0) {
        p[1] = (float)floor_at(s, xz);
        return false;
    }
    for (size_t i = 0; i < s->nwalk; i++) {
        const struct scene_poly *g = &s->walk[i];
        for (size_t k = 0, j = g->n - 1; k < g->n; j = k++) {
            double a[2], b[2], near[2];
            vert(g, j, a);
            vert(g, k, b);
            double d = seg_nearest(a, b, xz, near);
            if (d < bd) {
                bd = d;
                best[0] = near[0];
                best[1] = near[1];
            }
        }
    }
    p[0] = (float)best[0];
    p[2] = (float)best[1];
    p[1] = (float)floor_at(s, best);
    return true;
}

const struct scene_portal *scene_portal_at(const struct scene *s, const float p[3])
{
    for (size_t i = 0; i < s->nportals; i++)
        if (in_box(s->portals[i].min, s->portals[i].max, p))
            return &s->portals[i];
    return NULL;
}

const struct scene_spawn *scene_spawn_find(const struct scene *s, const char *id)
{
    for (size_t i = 0; i < s->nspawns; i++)
        if (strcmp(s->spawns[i].id, id) == 0)
            return &s->spawns[i];
    return NULL;
}

/*
 * Arrivals around a spawn fill hexagonal rings SPAWN_STEP apart: ring m has
 * 6m slots, so SPAWN_RINGS rings hold SPAWN_SLOTS people around each spawn.
 * Each spawn's rings are turned by a different angle so that the rings of
 * neighbouring spawns do not line up. ring_point() gives slot `slot` (0 is
 * the spawn itself) and says whether it is usable: walkable, on the spawn's
 * floor and outside every portal trigger.
 */
enum { SPAWN_SLOTS = 3 * SPAWN_RINGS * (SPAWN_RINGS + 1) };

static bool ring_point(const struct scene *s, const struct scene_spawn *sp, unsigned slot,
                       float out[3])
{
    size_t idx = (size_t)(sp - s->spawns);
    double fy = floor_at(s, (double[2]){sp->p[0], sp->p[2]});
    unsigned ring = 0;
    double a = 0, r = 0;
    if (slot > 0) {
        slot--;
        ring = 1;
        while (slot >= 6 * ring) {
            slot -= 6 * ring;
            ring++;
        }
        a = (double)idx * 2.399963 + 2 * GLM_PI * slot / (6.0 * ring); /* the golden angle */
        r = SPAWN_STEP * ring;
    }
    out[0] = (float)(sp->p[0] + r * cos(a));
    out[2] = (float)(sp->p[2] + r * sin(a));
    out[1] = (float)fy;
    if (ring == 0)
        return true; /* the spawn itself: checked at load */
    double xz[2] = {out[0], out[2]};
    return walk_has(s, xz) && fabs(floor_at(s, xz) - fy) <= 1e-4 && !scene_portal_at(s, out);
}

void scene_spawn_near(const struct scene *s, const struct scene_spawn *sp, unsigned k, float p[3],
                      float q[4])
{
    memcpy(p, sp->p, sizeof sp->p);
    memcpy(q, sp->q, sizeof sp->q);
    if (k == 0)
        return;
    unsigned start = (k - 1) % SPAWN_SLOTS;
    for (unsigned tries = 0; tries < SPAWN_SLOTS; tries++) {
        float c[3];
        if (ring_point(s, sp, 1 + (start + tries) % SPAWN_SLOTS, c)) {
            memcpy(p, c, sizeof c);
            return;
        }
    }
}

/*
 * The arrival points of scene_spawn_at, worked out once at load: round r
 * takes slot r of every spawn in turn, and a point closer than SPAWN_GAP to
 * one already taken is skipped, so that the rings of neighbouring spawns
 * never put two people on one spot. Enough points for the whole capacity
 * (when the area has room for them), then the list repeats.
 */
static bool make_arrivals(struct ck *c, struct scene *s)
{
    size_t cap = s->nspawns * (SPAWN_SLOTS + 1);
    size_t want = (size_t)s->capacity + s->nspawns;
    s->arrivals = calloc(cap, sizeof *s->arrivals);
    if (!s->arrivals)
        return fail(c, "out of memory");
    for (unsigned slot = 0; slot <= SPAWN_SLOTS && s->narrivals < want; slot++) {
        for (size_t i = 0; i < s->nspawns && s->narrivals < want; i++) {
            struct scene_arrival *a = &s->arrivals[s->narrivals];
            if (!ring_point(s, &s->spawns[i], slot, a->p))
                continue;
            bool clear = true;
            for (size_t j = 0; clear && j < s->narrivals; j++)
                clear = hypotf(s->arrivals[j].p[0] - a->p[0], s->arrivals[j].p[2] - a->p[2]) >=
                        (float)SPAWN_GAP;
            if (clear) {
                a->spawn = i;
                s->narrivals++;
            }
        }
    }
    return true;
}

void scene_spawn_at(const struct scene *s, unsigned k, float p[3], float q[4])
{
    if (s->narrivals == 0) { /* a loaded scene always has some; be safe anyway */
        p[0] = p[2] = 0;
        p[1] = s->floor_y;
        q[0] = q[1] = q[2] = 0;
        q[3] = 1;
        return;
    }
    const struct scene_arrival *a = &s->arrivals[k % s->narrivals];
    memcpy(p, a->p, sizeof a->p);
    memcpy(q, s->spawns[a->spawn].q, sizeof s->spawns[a->spawn].q);
}

const struct scene_place *scene_place_find(const struct scene *s, const char *id)
{
    for (size_t i = 0; i < s->nplaces; i++)
        if (strcmp(s->places[i].id, id) == 0)
            return &s->places[i];
    return NULL;
}

bool scene_binds_entity(const struct scene *sc, const char *entity)
{
    for (size_t i = 0; entity && i < sc->ntwin_entities; i++)
        if (strcmp(sc->twin_entities[i], entity) == 0)
            return true;
    return false;
}

const struct scene_place *scene_place_at(const struct scene *s, enum scene_place_type type,
                                         const float p[3])
{
    for (size_t i = 0; i < s->nplaces; i++)
        if (s->places[i].type == type && s->places[i].has_volume &&
            in_box(s->places[i].min, s->places[i].max, p))
            return &s->places[i];
    return NULL;
}
