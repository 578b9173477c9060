/*
 * proto.c - the venue.v1 wire protocol: parsing with jansson, encoding by
 * hand.
 *
 * This file owns the checks on every client field (types, lengths in code
 * points, ranges, unit quaternions) and the exact bytes of every server
 * message. Parsing trusts nothing: jansson validates the JSON syntax and
 * UTF-8, this file checks the shape and the values and names the field that
 * is wrong. Encoding writes straight into a caller-owned struct proto_buf
 * with its own escaper, so a buffer reused across ticks stops allocating
 * once it has grown, and the output is always valid JSON in valid UTF-8 even
 * if a caller passes bad bytes (they become U+FFFD).
 *
 * Number output: positions "%.3f", quaternion components "%.5f", so a pose
 * entry has a bounded size. Negative zero after rounding ("-0.000") is
 * written as "0.000": it is valid JSON, but clients comparing strings or
 * bytes should not see two spellings of the same pose. Non-finite numbers
 * are a caller bug (asserted); in a release build they are written as 0.
 * Positions are clamped to +-PROTO_POS_LIMIT and quaternion components to
 * [-1, 1], which the parser's checks already guarantee for client input.
 */
#include "proto.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/*
 * Nesting deeper than this is refused before jansson sees the text. Client
 * messages are at most two levels deep; the headroom is for unknown fields,
 * which are ignored. jansson's own limit (2048) recurses much deeper.
 */
#define PROTO_DEPTH_MAX 32

/* Longest jansson error text we quote, so that line and column still fit. */
#define PROTO_JSON_ERR_QUOTE 100

static const char CODE_BAD_REQUEST[] = "bad_request";
static const char CODE_UNKNOWN_TYPE[] = "unknown_type";

/* ---- UTF-8 ------------------------------------------------------------ */

/*
 * Decode the code point at s[0..len). Returns its length in bytes (1..4)
 * and sets *cp, or 0 if the bytes there are not a well-formed sequence
 * (overlong forms, surrogates, beyond U+10FFFF, truncated).
 */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char b0 = s[0];
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    size_t n;
    uint32_t c;

    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
        c = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        c = b0 & 0x0F;
        if (b0 == 0xE0)
            lo = 0xA0; /* overlong */
        else if (b0 == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        c = b0 & 0x07;
        if (b0 == 0xF0)
            lo = 0x90; /* overlong */
        else if (b0 == 0xF4)
            hi = 0x8F; /* beyond U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    c = (c << 6) | (s[1] & 0x3F);
    for (size_t i = 2; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = c;
    return n;
}

bool proto_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    uint32_t cp;

    while (i < len) {
        size_t n = utf8_decode(u + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* The longest prefix of s[0..len) of at most max bytes that ends on a code
 * point boundary (s must be valid UTF-8). */
static size_t utf8_clip(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* C0 and C1 control characters and DEL. */
static bool is_control(uint32_t cp)
{
    return cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F);
}

/*
 * Characters that show nothing: Unicode White_Space plus the invisible
 * formatting and filler characters people use to make a name look empty
 * (zero-width spaces and joiners, bidi marks, Hangul fillers, the braille
 * blank). A name or chat text made only of these is refused as blank.
 */
static bool is_blank(uint32_t cp)
{
    static const uint32_t single[] = {
        0x0020, 0x0085, 0x00A0, 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x1680,
        0x180E, 0x202F, 0x205F, 0x2800, 0x3000, 0x3164, 0xFEFF, 0xFFA0,
    };

    if ((cp >= 0x0009 && cp <= 0x000D) || (cp >= 0x2000 && cp <= 0x200F) ||
        (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2069))
        return true;
    for (size_t i = 0; i < sizeof single / sizeof single[0]; i++) {
        if (cp == single[i])
            return true;
    }
    return false;
}

/* ---- Errors ----------------------------------------------------------- */

/*
 * Replace every byte of s that is not part of a well-formed UTF-8 sequence
 * with '?'. Messages quote client input and are cut to fit their array, so
 * they may end in half a character; the encoder must never see that.
 */
static void utf8_sanitize(char *s)
{
    unsigned char *u = (unsigned char *)s;
    size_t len = strlen(s), i = 0;
    uint32_t cp;

    while (i < len) {
        size_t n = utf8_decode(u + i, len - i, &cp);
        if (n == 0) {
            u[i] = '?';
            n = 1;
        }
        i += n;
    }
}

/* Fill err and return -1, so that callers can write `return fail(...)`. */
static int fail(struct proto_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct proto_error *err, const char *code, const char *fmt, ...)
{
    va_list ap;

    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    utf8_sanitize(err->message);
    return -1;
}

/* ---- Parsing ---------------------------------------------------------- */

/*
 * Only a guard for jansson's recursion: brackets inside strings are
 * skipped, and anything this scan misreads is invalid JSON that jansson
 * refuses anyway.
 */
bool proto_json_too_deep(const char *buf, size_t len, int max)
{
    int depth = 0;
    bool in_string = false;

    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return false;
}

/*
 * Look up key in obj. Returns 1 and sets *val when present; 0 when absent
 * and optional; -1 with err filled ("what: missing") when absent and
 * required. *val is borrowed from obj.
 */
static int get_field(json_t *obj, const char *key, const char *what, bool required, json_t **val,
                     struct proto_error *err)
{
    *val = json_object_get(obj, key);
    if (*val)
        return 1;
    if (required)
        return fail(err, CODE_BAD_REQUEST, "%s: missing", what);
    return 0;
}

/* Text rules shared by names and chat lines. */
struct text_rules {
    size_t max_cp;     /* longest allowed, in code points */
    bool allow_nl_tab; /* \n and \t allowed (chat), else every control refused */
    bool strip_bidi;   /* names: drop bidi embeddings, overrides and isolates */
};

/*
 * The bidi controls that reorder what follows them (embeddings LRE RLE
 * PDF, overrides LRO RLO, isolates LRI RLI FSI PDI): in a name they make
 * "Ω\u202Eevil" show as "Ωlive" and can spill into the text around it.
 * The marks LRM, RLM and ALM only nudge neutral characters and stay.
 */
static bool is_bidi_control(uint32_t cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void proto_strip_bidi(char *s)
{
    size_t len = strlen(s), i = 0, out = 0;
    uint32_t cp;

    while (i < len) {
        size_t n = utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (n == 0)
            n = 1; /* not ours to judge here: kept for the caller's UTF-8 check */
        else if (is_bidi_control(cp)) {
            i += n;
            continue;
        }
        memmove(s + out, s + i, n);
        out += n;
        i += n;
    }
    s[out] = '\0';
}

/*
 * Check a client string against the rules and copy it into dst (which holds
 * max_cp * 4 + 1 bytes), without the bidi controls when the rules strip
 * them. Refuses: not a string, empty, invalid UTF-8, too many code points,
 * control characters, nothing visible.
 */
static int take_text(json_t *v, const char *what, const struct text_rules *r, char *dst,
                     struct proto_error *err)
{
    const unsigned char *s;
    size_t len, i = 0, ncp = 0, out = 0;
    bool visible = false;

    if (!json_is_string(v))
        return fail(err, CODE_BAD_REQUEST, "%s: must be a string", what);
    s = (const unsigned char *)json_string_value(v);
    len = json_string_length(v);
    if (len == 0)
        return fail(err, CODE_BAD_REQUEST, "%s: empty", what);
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return fail(err, CODE_BAD_REQUEST, "%s: not valid UTF-8", what);
        if (++ncp > r->max_cp)
            return fail(err, CODE_BAD_REQUEST, "%s: longer than %zu characters", what, r->max_cp);
        if (is_control(cp) && !(r->allow_nl_tab && (cp == '\n' || cp == '\t')))
            return fail(err, CODE_BAD_REQUEST, "%s: control character U+%04X not allowed", what,
                        (unsigned)cp);
        if (!is_blank(cp))
            visible = true;
        /* ncp <= max_cp and each code point is at most 4 bytes: it fits. */
        if (!(r->strip_bidi && is_bidi_control(cp))) {
            memcpy(dst + out, s + i, n);
            out += n;
        }
        i += n;
    }
    if (!visible)
        return fail(err, CODE_BAD_REQUEST,
                    "%s: only whitespace or invisible characters (such as zero-width spaces): "
                    "nothing of it would show; use letters, digits or symbols people can see",
                    what);
    dst[out] = '\0';
    return 0;
}

/* hello.token and hello.resume: visible ASCII, no spaces, <= 128 bytes.
 * An empty string is the same as leaving the field out. */
static int take_token(json_t *obj, const char *key, const char *what, char *dst,
                      struct proto_error *err)
{
    json_t *v;
    const char *s;
    size_t len;
    int rc = get_field(obj, key, what, false, &v, err);

    if (rc <= 0)
        return rc;
    if (!json_is_string(v))
        return fail(err, CODE_BAD_REQUEST, "%s: must be a string", what);
    s = json_string_value(v);
    len = json_string_length(v);
    if (len > PROTO_TOKEN_MAX)
        return fail(err, CODE_BAD_REQUEST, "%s: longer than %d bytes", what, PROTO_TOKEN_MAX);
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x21 || s[i] > 0x7E)
            return fail(err, CODE_BAD_REQUEST, "%s: must be printable ASCII without spaces", what);
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

static int take_id(json_t *v, const char *what, bool user, bool star, char *dst, size_t max,
                   struct proto_error *err);

static int parse_hello(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    static const struct text_rules name_rules = {PROTO_NAME_MAX, false, true};
    json_t *v;
    int rc;

    if (get_field(root, "name", "hello.name", true, &v, err) < 0)
        return -1;
    if (take_text(v, "hello.name", &name_rules, out->u.hello.name, err) < 0)
        return -1;
    if (take_token(root, "token", "hello.token", out->u.hello.token, err) < 0)
        return -1;
    if (take_token(root, "resume", "hello.resume", out->u.hello.resume, err) < 0)
        return -1;
    rc = get_field(root, "poses", "hello.poses", false, &v, err);
    out->u.hello.poses_binary = false;
    if (rc > 0) {
        const char *fmt = json_string_value(v);
        if (!fmt || (strcmp(fmt, "json") != 0 && strcmp(fmt, "binary") != 0))
            return fail(err, CODE_BAD_REQUEST, "hello.poses: must be \"json\" or \"binary\"");
        out->u.hello.poses_binary = strcmp(fmt, "binary") == 0;
    }
    rc = get_field(root, "browser", "hello.browser", false, &v, err);
    out->u.hello.browser[0] = '\0';
    if (rc <= 0)
        return rc;
    return take_id(v, "hello.browser", true, false, out->u.hello.browser, PROTO_BROWSER_MAX, err);
}

/*
 * An id string of 1..max bytes drawn from the allowed characters: room ids
 * take [a-z0-9-], user ids also A-Z and _. star allows "*" alone (the whole
 * venue).
 */
static int take_id(json_t *v, const char *what, bool user, bool star, char *dst, size_t max,
                   struct proto_error *err)
{
    const char *s;
    size_t len;

    if (!json_is_string(v))
        return fail(err, CODE_BAD_REQUEST, "%s: must be a string", what);
    s = json_string_value(v);
    len = json_string_length(v);
    if (len == 0)
        return fail(err, CODE_BAD_REQUEST, "%s: empty", what);
    if (len > max)
        return fail(err, CODE_BAD_REQUEST, "%s: longer than %zu characters", what, max);
    if (!(star && len == 1 && s[0] == '*')) {
        for (size_t i = 0; i < len; i++) {
            char c = s[i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      (user && ((c >= 'A' && c <= 'Z') || c == '_'));
            if (!ok)
                return fail(err, CODE_BAD_REQUEST, "%s: only %s are allowed", what,
                            user ? "A-Z, a-z, 0-9, _ and -" : "a-z, 0-9 and -");
        }
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

static int parse_join(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    json_t *v;

    int rc;

    if (get_field(root, "room", "join.room", true, &v, err) < 0)
        return -1;
    if (take_id(v, "join.room", false, false, out->u.join.room, PROTO_ROOM_MAX, err) < 0)
        return -1;
    rc = get_field(root, "near", "join.near", false, &v, err);
    if (rc <= 0)
        return rc;
    return take_id(v, "join.near", true, false, out->u.join.near, PROTO_USER_ID_MAX, err);
}

static int parse_find(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    static const struct text_rules q_rules = {PROTO_FIND_Q_MAX, false, true};
    json_t *v;

    if (get_field(root, "q", "find.q", true, &v, err) < 0)
        return -1;
    return take_text(v, "find.q", &q_rules, out->u.find.q, err);
}

/* An optional boolean field: *has says whether it was there. */
static int take_opt_bool(json_t *root, const char *key, const char *what, bool *has, bool *dst,
                         struct proto_error *err)
{
    json_t *v;
    int rc = get_field(root, key, what, false, &v, err);

    *has = rc > 0;
    if (rc <= 0)
        return rc;
    if (!json_is_boolean(v))
        return fail(err, CODE_BAD_REQUEST, "%s: must be true or false", what);
    *dst = json_is_true(v);
    return 0;
}

static int parse_privacy(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    if (take_opt_bool(root, "findable", "privacy.findable", &out->u.privacy.has_findable,
                      &out->u.privacy.findable, err) < 0)
        return -1;
    return take_opt_bool(root, "dms", "privacy.dms", &out->u.privacy.has_dms, &out->u.privacy.dms,
                         err);
}

/*
 * Read an array of exactly n finite numbers (integers or reals) into d.
 * Range checks are the caller's: the limits differ per field.
 */
static int take_numbers(json_t *obj, const char *key, const char *what, size_t n, double *d,
                        struct proto_error *err)
{
    json_t *v;

    if (get_field(obj, key, what, true, &v, err) < 0)
        return -1;
    if (!json_is_array(v))
        return fail(err, CODE_BAD_REQUEST, "%s: must be an array of %zu numbers", what, n);
    if (json_array_size(v) != n)
        return fail(err, CODE_BAD_REQUEST, "%s: must have %zu numbers, not %zu", what, n,
                    json_array_size(v));
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_number(e))
            return fail(err, CODE_BAD_REQUEST, "%s[%zu]: must be a number", what, i);
        d[i] = json_number_value(e);
        /* jansson refuses NaN, Infinity and overflowing literals, but a
         * double that is not finite must never get further. */
        if (!isfinite(d[i]))
            return fail(err, CODE_BAD_REQUEST, "%s[%zu]: not a finite number", what, i);
    }
    return 0;
}

static int parse_pose(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    double p[3], q[4], m = 0, sum = 0, len;

    if (take_numbers(root, "p", "pose.p", 3, p, err) < 0)
        return -1;
    for (int i = 0; i < 3; i++) {
        if (fabs(p[i]) > PROTO_POS_LIMIT)
            return fail(err, CODE_BAD_REQUEST, "pose.p[%d]: out of range: %.10g (limit %.0f)", i,
                        p[i], (double)PROTO_POS_LIMIT);
    }
    if (take_numbers(root, "q", "pose.q", 4, q, err) < 0)
        return -1;
    /* Scale by the largest component first, so that 1e300 gives a huge
     * length instead of overflowing to infinity. */
    for (int i = 0; i < 4; i++)
        m = fmax(m, fabs(q[i]));
    if (m > 0) {
        for (int i = 0; i < 4; i++)
            sum += (q[i] / m) * (q[i] / m);
    }
    len = m * sqrt(sum);
    if (!isfinite(len))
        return fail(err, CODE_BAD_REQUEST, "pose.q: not a unit quaternion (length > 1e308)");
    if (!(fabs(len - 1.0) <= PROTO_QUAT_EPS))
        return fail(err, CODE_BAD_REQUEST, "pose.q: not a unit quaternion (length %.5g)", len);
    for (int i = 0; i < 3; i++)
        out->u.pose.p[i] = (float)p[i];
    /* Normalise in double so the stored floats are as close to unit as a
     * float can be; clients may send q rounded to a few decimals. */
    for (int i = 0; i < 4; i++)
        out->u.pose.q[i] = (float)(q[i] / len);
    return 0;
}

static int parse_chat(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    static const struct text_rules chat_rules = {PROTO_TEXT_MAX, true, false};
    json_t *v;

    if (get_field(root, "text", "chat.text", true, &v, err) < 0)
        return -1;
    return take_text(v, "chat.text", &chat_rules, out->u.chat.text, err);
}

static const char *const reaction_names[PROTO_REACT_COUNT] = {"applause", "thumbs_up", "heart",
                                                              "laugh"};

const char *proto_reaction_name(enum proto_reaction r)
{
    return r < PROTO_REACT_COUNT ? reaction_names[r] : "unknown";
}

static int parse_react(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    json_t *v;
    const char *s;

    if (get_field(root, "kind", "react.kind", true, &v, err) < 0)
        return -1;
    s = json_string_value(v);
    for (int i = 0; s && i < PROTO_REACT_COUNT; i++) {
        if (strcmp(s, reaction_names[i]) == 0 && json_string_length(v) == strlen(s)) {
            out->u.react.kind = (enum proto_reaction)i;
            return 0;
        }
    }
    return fail(err, CODE_BAD_REQUEST,
                "react.kind: must be one of applause, thumbs_up, heart, laugh");
}

static int parse_dm(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    static const struct text_rules dm_rules = {PROTO_TEXT_MAX, true, false};
    json_t *v;

    if (get_field(root, "to", "dm.to", true, &v, err) < 0 ||
        take_id(v, "dm.to", true, false, out->u.dm.to, PROTO_USER_ID_MAX, err) < 0)
        return -1;
    if (get_field(root, "text", "dm.text", true, &v, err) < 0)
        return -1;
    return take_text(v, "dm.text", &dm_rules, out->u.dm.text, err);
}

static int parse_block(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    bool has;
    json_t *v;

    if (get_field(root, "user", "block.user", true, &v, err) < 0 ||
        take_id(v, "block.user", true, false, out->u.about.user, PROTO_USER_ID_MAX, err) < 0)
        return -1;
    out->u.about.on = true;
    return take_opt_bool(root, "on", "block.on", &has, &out->u.about.on, err);
}

static int parse_report(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    static const struct text_rules reason_rules = {PROTO_REASON_MAX, true, false};
    json_t *v;

    if (get_field(root, "user", "report.user", true, &v, err) < 0 ||
        take_id(v, "report.user", true, false, out->u.about.user, PROTO_USER_ID_MAX, err) < 0)
        return -1;
    if (get_field(root, "reason", "report.reason", false, &v, err) > 0 &&
        take_text(v, "report.reason", &reason_rules, out->u.about.reason, err) < 0)
        return -1;
    return 0;
}

static int parse_status(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    json_t *v;
    const char *s;

    if (get_field(root, "status", "status.status", true, &v, err) < 0)
        return -1;
    s = json_string_value(v); /* NULL if not a string */
    if (s && strcmp(s, "active") == 0 && json_string_length(v) == 6)
        out->u.status.status = PROTO_STATUS_ACTIVE;
    else if (s && strcmp(s, "away") == 0 && json_string_length(v) == 4)
        out->u.status.status = PROTO_STATUS_AWAY;
    else
        return fail(err, CODE_BAD_REQUEST, "status.status: must be \"active\" or \"away\"");
    return 0;
}

static int parse_hand(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    json_t *v;

    if (get_field(root, "up", "hand.up", true, &v, err) < 0)
        return -1;
    if (!json_is_boolean(v))
        return fail(err, CODE_BAD_REQUEST, "hand.up: must be true or false");
    out->u.hand.up = json_is_true(v);
    return 0;
}

static int parse_leave(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    (void)root;
    (void)out;
    (void)err;
    return 0;
}

static const char *const mod_names[PROTO_MOD_COUNT] = {
    "kick",        "ban",
    "unban",       "mute",
    "unmute",      "lock",
    "unlock",      "capacity",
    "move",        "promote",
    "demote",      "announce",
    "lower_hand",  "lower_all_hands",
    "close_room",  "breakout",
    "recall",      "start_session",
    "end_session", "give_floor",
    "take_floor",  "answer",
    "lock_mics",   "unlock_mics",
    "delete_chat",
};

const char *proto_mod_action_name(enum proto_mod_action a)
{
    return a < PROTO_MOD_COUNT ? mod_names[a] : "unknown";
}

int proto_mod_action_parse(const char *s, enum proto_mod_action *out)
{
    for (int i = 0; s && i < PROTO_MOD_COUNT; i++) {
        if (strcmp(s, mod_names[i]) == 0) {
            *out = (enum proto_mod_action)i;
            return 0;
        }
    }
    return -1;
}

/* Which optional fields each action needs. */
enum {
    NEED_TARGET = 1,
    NEED_ROOM = 2,
    NEED_TEXT = 4,
    NEED_CAPACITY = 8,
    NEED_ROOMS = 16,
    NEED_MINUTES = 32,
    NEED_SESSION = 64,
    NEED_QUESTION = 128,
    NEED_MESSAGE = 256
};
static const unsigned mod_needs[PROTO_MOD_COUNT] = {
    [PROTO_MOD_KICK] = NEED_TARGET,
    [PROTO_MOD_BAN] = NEED_TARGET,
    [PROTO_MOD_UNBAN] = NEED_TARGET,
    [PROTO_MOD_MUTE] = NEED_TARGET,
    [PROTO_MOD_UNMUTE] = NEED_TARGET,
    [PROTO_MOD_CAPACITY] = NEED_CAPACITY,
    [PROTO_MOD_MOVE] = NEED_TARGET | NEED_ROOM,
    [PROTO_MOD_PROMOTE] = NEED_TARGET,
    [PROTO_MOD_DEMOTE] = NEED_TARGET,
    [PROTO_MOD_ANNOUNCE] = NEED_TEXT,
    [PROTO_MOD_LOWER_HAND] = NEED_TARGET,
    [PROTO_MOD_BREAKOUT] = NEED_ROOMS | NEED_MINUTES,
    [PROTO_MOD_START_SESSION] = NEED_SESSION,
    [PROTO_MOD_END_SESSION] = NEED_SESSION,
    [PROTO_MOD_GIVE_FLOOR] = NEED_TARGET,
    [PROTO_MOD_ANSWER] = NEED_QUESTION,
    [PROTO_MOD_DELETE_CHAT] = NEED_MESSAGE,
};

/* An optional integer field within [min, max]; 0 when absent. */
static int take_int(json_t *root, const char *key, const char *what, long long min, long long max,
                    int *dst, struct proto_error *err)
{
    json_t *v;
    int rc = get_field(root, key, what, false, &v, err);
    if (rc <= 0)
        return rc;
    if (!json_is_integer(v))
        return fail(err, CODE_BAD_REQUEST, "%s: must be a whole number", what);
    if (json_integer_value(v) < min || json_integer_value(v) > max)
        return fail(err, CODE_BAD_REQUEST, "%s: must be %lld to %lld", what, min, max);
    *dst = (int)json_integer_value(v);
    return 0;
}

/* A number the server gave (a question, a chat line): an integer of 1 or
 * more. *dst 0 when absent. */
static int take_serial(json_t *root, const char *key, const char *what, long long *dst,
                       struct proto_error *err)
{
    json_t *v;
    int rc = get_field(root, key, what, false, &v, err);
    if (rc <= 0)
        return rc;
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return fail(err, CODE_BAD_REQUEST, "%s: must be a whole number of 1 or more", what);
    *dst = json_integer_value(v);
    return 0;
}

/*
 * The array v of at most max distinct ids into dst, width bytes each (the
 * caller sized dst for json_array_size(v) entries); *n = how many. An id
 * named twice is refused: every array written from it is sized by the
 * number of distinct people or rooms it names.
 */
static int take_ids(json_t *v, const char *what, bool user, size_t max, char *dst, size_t width,
                    size_t *n, struct proto_error *err)
{
    json_t *e;
    size_t i;
    char item[48];
    (void)max; /* the assert's, gone under NDEBUG */
    json_array_foreach(v, i, e)
    {
        assert(i < max);
        snprintf(item, sizeof(item), "%s[%zu]", what, i);
        if (take_id(e, item, user, false, dst + i * width, width - 1, err) < 0)
            return -1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(dst + k * width, dst + i * width) == 0)
                return fail(err, CODE_BAD_REQUEST, "%s: \"%s\" is named twice", item,
                            dst + i * width);
    }
    *n = json_array_size(v);
    return 0;
}

/* The optional array field key: NULL when absent, else a non-empty array
 * of at most max entries. */
static int get_id_array(json_t *root, const char *key, const char *what, size_t max, json_t **out,
                        struct proto_error *err)
{
    int rc = get_field(root, key, what, false, out, err);
    if (rc <= 0) {
        *out = NULL;
        return rc;
    }
    if (!json_is_array(*out) || json_array_size(*out) == 0)
        return fail(err, CODE_BAD_REQUEST, "%s: must be a non-empty array", what);
    if (json_array_size(*out) > max)
        return fail(err, CODE_BAD_REQUEST, "%s: more than %zu entries", what, max);
    return 0;
}

/* mod.rooms into the message, mod.targets into an array the message owns. */
static int take_mod_lists(json_t *root, struct proto_msg *m, struct proto_error *err)
{
    json_t *rooms, *targets;
    if (get_id_array(root, "rooms", "mod.rooms", PROTO_MOD_ROOMS_MAX, &rooms, err) < 0 ||
        get_id_array(root, "targets", "mod.targets", PROTO_MOD_TARGETS_MAX, &targets, err) < 0)
        return -1;
    if (rooms && take_ids(rooms, "mod.rooms", false, PROTO_MOD_ROOMS_MAX, &m->u.mod.rooms[0][0],
                          PROTO_ROOM_MAX + 1, &m->u.mod.nrooms, err) < 0)
        return -1;
    if (!targets)
        return 0;
    m->u.mod.targets = calloc(json_array_size(targets), sizeof(*m->u.mod.targets));
    if (!m->u.mod.targets)
        return fail(err, CODE_BAD_REQUEST, "mod.targets: out of memory");
    return take_ids(targets, "mod.targets", true, PROTO_MOD_TARGETS_MAX, &m->u.mod.targets[0][0],
                    sizeof(*m->u.mod.targets), &m->u.mod.ntargets, err);
}

static int parse_mod(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    static const struct text_rules reason_rules = {PROTO_REASON_MAX, false, false};
    static const struct text_rules text_rules = {PROTO_TEXT_MAX, true, false};
    struct proto_msg *m = out;
    json_t *v;
    const char *s;
    unsigned need;
    enum proto_mod_action a;

    if (get_field(root, "action", "mod.action", true, &v, err) < 0)
        return -1;
    s = json_string_value(v);
    if (!s || json_string_length(v) != strlen(s) || proto_mod_action_parse(s, &a) < 0)
        return fail(err, CODE_BAD_REQUEST,
                    "mod.action: must be one of kick, ban, unban, mute, "
                    "unmute, lock, unlock, capacity, move, promote, demote, "
                    "announce, lower_hand, lower_all_hands, close_room, "
                    "breakout, recall, start_session, end_session, give_floor, "
                    "take_floor, answer, lock_mics, unlock_mics, delete_chat");
    m->u.mod.action = a;
    if (get_field(root, "target", "mod.target", false, &v, err) > 0 &&
        take_id(v, "mod.target", true, false, m->u.mod.target, PROTO_USER_ID_MAX, err) < 0)
        return -1;
    if (get_field(root, "room", "mod.room", false, &v, err) > 0 &&
        take_id(v, "mod.room", false, true, m->u.mod.room, PROTO_ROOM_MAX, err) < 0)
        return -1;
    if (get_field(root, "reason", "mod.reason", false, &v, err) > 0 &&
        take_text(v, "mod.reason", &reason_rules, m->u.mod.reason, err) < 0)
        return -1;
    if (get_field(root, "text", "mod.text", false, &v, err) > 0 &&
        take_text(v, "mod.text", &text_rules, m->u.mod.text, err) < 0)
        return -1;
    if (take_int(root, "minutes", "mod.minutes", 1, PROTO_MINUTES_MAX, &m->u.mod.minutes, err) <
            0 ||
        take_int(root, "capacity", "mod.capacity", 1, PROTO_CAPACITY_MAX, &m->u.mod.capacity, err) <
            0 ||
        take_int(root, "seconds", "mod.seconds", PROTO_FLOOR_MIN_S, PROTO_FLOOR_MAX_S,
                 &m->u.mod.seconds, err) < 0 ||
        take_serial(root, "question", "mod.question", &m->u.mod.question, err) < 0 ||
        take_serial(root, "message", "mod.message", &m->u.mod.message, err) < 0 ||
        take_mod_lists(root, m, err) < 0)
        return -1;
    if (get_field(root, "session", "mod.session", false, &v, err) > 0 &&
        take_id(v, "mod.session", true, false, m->u.mod.session, PROTO_SESSION_ID_MAX, err) < 0)
        return -1;
    need = mod_needs[a];
    if ((need & NEED_TARGET) && !m->u.mod.target[0])
        return fail(err, CODE_BAD_REQUEST, "mod.target: missing for %s", mod_names[a]);
    if ((need & NEED_ROOM) && !m->u.mod.room[0])
        return fail(err, CODE_BAD_REQUEST, "mod.room: missing for %s", mod_names[a]);
    if ((need & NEED_TEXT) && !m->u.mod.text[0])
        return fail(err, CODE_BAD_REQUEST, "mod.text: missing for %s", mod_names[a]);
    if ((need & NEED_CAPACITY) && !m->u.mod.capacity)
        return fail(err, CODE_BAD_REQUEST, "mod.capacity: missing for %s", mod_names[a]);
    if ((need & NEED_ROOMS) && !m->u.mod.nrooms)
        return fail(err, CODE_BAD_REQUEST, "mod.rooms: missing for %s", mod_names[a]);
    if ((need & NEED_MINUTES) && !m->u.mod.minutes)
        return fail(err, CODE_BAD_REQUEST, "mod.minutes: missing for %s", mod_names[a]);
    if ((need & NEED_SESSION) && !m->u.mod.session[0])
        return fail(err, CODE_BAD_REQUEST, "mod.session: missing for %s", mod_names[a]);
    if ((need & NEED_QUESTION) && !m->u.mod.question)
        return fail(err, CODE_BAD_REQUEST, "mod.question: missing for %s", mod_names[a]);
    if ((need & NEED_MESSAGE) && !m->u.mod.message)
        return fail(err, CODE_BAD_REQUEST, "mod.message: missing for %s", mod_names[a]);
    return 0;
}

static int parse_star(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    json_t *v;

    if (get_field(root, "session", "star.session", true, &v, err) < 0 ||
        take_id(v, "star.session", true, false, out->u.star.session, PROTO_SESSION_ID_MAX, err) < 0)
        return -1;
    if (get_field(root, "on", "star.on", true, &v, err) < 0)
        return -1;
    if (!json_is_boolean(v))
        return fail(err, CODE_BAD_REQUEST, "star.on: must be true or false");
    out->u.star.on = json_is_true(v);
    return 0;
}

static int parse_slide(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    json_t *v;

    if (get_field(root, "page", "slide.page", true, &v, err) < 0)
        return -1;
    return take_int(root, "page", "slide.page", 1, PROTO_PAGES_MAX, &out->u.slide.page, err);
}

/* caption.text and ask.text: one line each, as long as a chat line. */
static int parse_line(json_t *root, const char *what, struct proto_msg *out,
                      struct proto_error *err)
{
    static const struct text_rules line_rules = {PROTO_TEXT_MAX, false, false};
    json_t *v;

    if (get_field(root, "text", what, true, &v, err) < 0)
        return -1;
    return take_text(v, what, &line_rules, out->u.line.text, err);
}

static int parse_caption(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    return parse_line(root, "caption.text", out, err);
}

static int parse_ask(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    return parse_line(root, "ask.text", out, err);
}

static int parse_vote(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    if (!json_object_get(root, "question"))
        return fail(err, CODE_BAD_REQUEST, "vote.question: missing");
    return take_serial(root, "question", "vote.question", &out->u.vote.question, err);
}

static const struct {
    const char *name;
    enum proto_type type;
    int (*parse)(json_t *root, struct proto_msg *out, struct proto_error *err);
} msg_types[] = {
    {"hello", PROTO_HELLO, parse_hello},
    {"join", PROTO_JOIN, parse_join},
    {"leave", PROTO_LEAVE, parse_leave},
    {"pose", PROTO_POSE, parse_pose},
    {"chat", PROTO_CHAT, parse_chat},
    {"status", PROTO_STATUS, parse_status},
    {"hand", PROTO_HAND, parse_hand},
    {"mod", PROTO_MOD, parse_mod},
    {"star", PROTO_STAR, parse_star},
    {"slide", PROTO_SLIDE, parse_slide},
    {"caption", PROTO_CAPTION, parse_caption},
    {"ask", PROTO_ASK, parse_ask},
    {"vote", PROTO_VOTE, parse_vote},
    {"find", PROTO_FIND, parse_find},
    {"privacy", PROTO_PRIVACY, parse_privacy},
    {"react", PROTO_REACT, parse_react},
    {"dm", PROTO_DM, parse_dm},
    {"block", PROTO_BLOCK, parse_block},
    {"report", PROTO_REPORT, parse_report},
};

/*
 * Read the optional id. Returns 0 when absent or readable (then id is set),
 * -1 with the complaint in why when present but unusable.
 */
static int read_id(json_t *root, struct proto_id *id, const char **why)
{
    json_t *v = json_object_get(root, "id");

    if (!v)
        return 0;
    if (json_is_integer(v)) {
        id->kind = PROTO_ID_INT;
        id->num = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v), i = 0, ncp = 0;
        uint32_t cp;
        while (i < len) {
            size_t n = utf8_decode((const unsigned char *)s + i, len - i, &cp);
            if (n == 0) {
                *why = "id: not valid UTF-8";
                return -1;
            }
            if (++ncp > PROTO_ID_STR_MAX) {
                *why = "id: longer than 64 characters";
                return -1;
            }
            i += n;
        }
        id->kind = PROTO_ID_STR;
        memcpy(id->str, s, len);
        id->str[len] = '\0';
        return 0;
    }
    *why = "id: must be a string or an integer";
    return -1;
}

/* The bytes of the union member a message of type t uses: only those are
 * cleared, not the whole union (a pose need not zero a moderator's text). */
static size_t body_size(enum proto_type t)
{
    static const struct proto_msg m;
    switch (t) {
    case PROTO_HELLO:
        return sizeof(m.u.hello);
    case PROTO_JOIN:
        return sizeof(m.u.join);
    case PROTO_POSE:
        return sizeof(m.u.pose);
    case PROTO_CHAT:
        return sizeof(m.u.chat);
    case PROTO_STATUS:
        return sizeof(m.u.status);
    case PROTO_HAND:
        return sizeof(m.u.hand);
    case PROTO_MOD:
        return sizeof(m.u.mod);
    case PROTO_STAR:
        return sizeof(m.u.star);
    case PROTO_SLIDE:
        return sizeof(m.u.slide);
    case PROTO_CAPTION:
    case PROTO_ASK:
        return sizeof(m.u.line);
    case PROTO_VOTE:
        return sizeof(m.u.vote);
    case PROTO_FIND:
        return sizeof(m.u.find);
    case PROTO_PRIVACY:
        return sizeof(m.u.privacy);
    case PROTO_REACT:
        return sizeof(m.u.react);
    case PROTO_DM:
        return sizeof(m.u.dm);
    case PROTO_BLOCK:
    case PROTO_REPORT:
        return sizeof(m.u.about);
    case PROTO_LEAVE:
    case PROTO_TYPE_COUNT:
        break;
    }
    return 0;
}

void proto_msg_free(struct proto_msg *m)
{
    if (m->type == PROTO_MOD) {
        free(m->u.mod.targets);
        m->u.mod.targets = NULL;
        m->u.mod.ntargets = 0;
    }
}

static int parse_object(json_t *root, struct proto_msg *out, struct proto_error *err)
{
    const char *id_why = NULL;
    json_t *t;
    const char *name;
    size_t len;

    if (!json_is_object(root))
        return fail(err, CODE_BAD_REQUEST, "message: must be a JSON object");
    /* The id first, so that every later error can answer the request. */
    if (read_id(root, &out->id, &id_why) == 0)
        err->re = out->id;
    t = json_object_get(root, "type");
    if (!t)
        return fail(err, CODE_BAD_REQUEST, "type: missing");
    if (!json_is_string(t))
        return fail(err, CODE_BAD_REQUEST, "type: must be a string");
    if (id_why)
        return fail(err, CODE_BAD_REQUEST, "%s", id_why);
    name = json_string_value(t);
    len = json_string_length(t);
    for (size_t i = 0; i < sizeof msg_types / sizeof msg_types[0]; i++) {
        if (strlen(msg_types[i].name) == len && memcmp(msg_types[i].name, name, len) == 0) {
            out->type = msg_types[i].type;
            memset(&out->u, 0, body_size(out->type));
            return msg_types[i].parse(root, out, err);
        }
    }
    return fail(err, CODE_UNKNOWN_TYPE, "type: unknown message type \"%.*s\"",
                (int)utf8_clip(name, len, 40), name);
}

int proto_parse(const char *buf, size_t len, struct proto_msg *out, struct proto_error *err)
{
    json_error_t je;
    json_t *root;
    int rc;

    assert(out && err);
    assert(buf || len == 0);
    memset(out, 0, offsetof(struct proto_msg, u));
    out->type = PROTO_TYPE_COUNT; /* no body yet */
    memset(err, 0, sizeof *err);
    err->re.kind = PROTO_ID_NONE;
    if (len == 0)
        buf = ""; /* jansson refuses a NULL buffer with a less useful message */
    if (proto_json_too_deep(buf, len, PROTO_DEPTH_MAX))
        return fail(err, CODE_BAD_REQUEST, "invalid JSON: nested deeper than %d levels",
                    PROTO_DEPTH_MAX);
    /* DECODE_ANY so that a bare string or number gets the clearer "must be
     * a JSON object" below instead of a syntax error. */
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root)
        return fail(err, CODE_BAD_REQUEST, "invalid JSON: %.*s at line %d column %d",
                    PROTO_JSON_ERR_QUOTE, je.text, je.line, je.column);
    rc = parse_object(root, out, err);
    json_decref(root);
    if (rc < 0) { /* never half a message */
        proto_msg_free(out);
        memset(&out->u, 0, body_size(out->type));
        memset(out, 0, offsetof(struct proto_msg, u));
    }
    return rc;
}

/* ---- Buffers ---------------------------------------------------------- */

/*
 * Make room for extra more bytes plus a NUL after them. The buffer doubles,
 * so appends are amortised O(1) and a reused buffer settles at its working
 * size. On failure nothing changes.
 */
static int buf_reserve(struct proto_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > SIZE_MAX - 1 - b->len)
        return -1;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

void proto_buf_reset(struct proto_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void proto_buf_free(struct proto_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int proto_buf_append(struct proto_buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) < 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int proto_buf_printf(struct proto_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    int n;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n >= room) {
        if (buf_reserve(b, (size_t)n) < 0) {
            n = -1;
        } else {
            n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
        }
    }
    va_end(ap2);
    if (n < 0) {
        if (b->data && b->cap > b->len)
            b->data[b->len] = '\0'; /* undo a partial write */
        return -1;
    }
    b->len += (size_t)n;
    return 0;
}

/* ---- Encoding --------------------------------------------------------- */

/*
 * Escape s[0..len) as the inside of a JSON string into dst, which must hold
 * 6 * len bytes. Returns the bytes written. Quotes, backslashes and control
 * characters are escaped; other valid UTF-8 is copied as is; each byte that
 * is not valid UTF-8 becomes \ufffd, so the frame stays a valid text frame.
 */
static size_t escape_into(char *dst, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    char *d = dst;
    size_t i = 0;

    while (i < len) {
        unsigned char c = u[i];
        uint32_t cp;
        size_t n;

        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            *d++ = (char)c;
            i++;
            continue;
        }
        if (c >= 0x80) {
            n = utf8_decode(u + i, len - i, &cp);
            if (n == 0) {
                memcpy(d, "\\ufffd", 6);
                d += 6;
                i++;
            } else {
                memcpy(d, u + i, n);
                d += n;
                i += n;
            }
            continue;
        }
        *d++ = '\\';
        switch (c) {
        case '"':
            *d++ = '"';
            break;
        case '\\':
            *d++ = '\\';
            break;
        case '\n':
            *d++ = 'n';
            break;
        case '\r':
            *d++ = 'r';
            break;
        case '\t':
            *d++ = 't';
            break;
        case '\b':
            *d++ = 'b';
            break;
        case '\f':
            *d++ = 'f';
            break;
        default: /* other C0 controls and DEL */
            *d++ = 'u';
            *d++ = '0';
            *d++ = '0';
            *d++ = hex[c >> 4];
            *d++ = hex[c & 0xF];
            break;
        }
        i++;
    }
    return (size_t)(d - dst);
}

/* Longest text put_fixed writes: "-100000.000" or "-1.00000". */
#define FIXED_MAX 16

/*
 * Write v with prec decimals at dst (room bytes, >= FIXED_MAX) and return
 * the length. v is clamped to +-limit; "-0.000" becomes "0.000".
 */
static size_t put_fixed(char *dst, size_t room, double v, int prec, double limit)
{
    int n;

    assert(isfinite(v));
    if (!isfinite(v))
        v = 0; /* release builds: still valid JSON */
    if (v > limit)
        v = limit;
    else if (v < -limit)
        v = -limit;
    n = snprintf(dst, room, "%.*f", prec, v);
    assert(n > 0 && (size_t)n < room);
    if (dst[0] == '-' && strspn(dst + 1, "0.") == (size_t)n - 1) {
        memmove(dst, dst + 1, (size_t)n); /* moves the NUL too */
        n--;
    }
    return (size_t)n;
}

#define POS_LIMIT  ((double)PROTO_POS_LIMIT)
#define QUAT_LIMIT 1.0

/* "[x,y,z]" or "[x,y,z,w]" into dst; room must be >= n * (FIXED_MAX + 1) + 2. */
static size_t put_vec(char *dst, const float *v, int n, int prec, double limit)
{
    char *d = dst;

    *d++ = '[';
    for (int i = 0; i < n; i++) {
        if (i)
            *d++ = ',';
        d += put_fixed(d, FIXED_MAX + 1, v[i], prec, limit);
    }
    *d++ = ']';
    return (size_t)(d - dst);
}

/*
 * An encoder in progress: appends go to b; the first failure is remembered
 * and every later append is skipped, so encoders are straight-line code and
 * check once at the end, where a failed encoding is rolled back.
 */
struct out {
    struct proto_buf *b;
    size_t start; /* b->len before this encoding */
    bool failed;
};

static struct out out_begin(struct proto_buf *b)
{
    struct out o = {b, b->len, false};
    return o;
}

static int out_end(struct out *o)
{
    if (o->failed) {
        o->b->len = o->start;
        if (o->b->data)
            o->b->data[o->start] = '\0';
        return -1;
    }
    return 0;
}

static void out_raw(struct out *o, const char *s)
{
    if (!o->failed && proto_buf_append(o->b, s, strlen(s)) < 0)
        o->failed = true;
}

/* A quoted, escaped JSON string. NULL is a caller bug, written as "". */
static void out_str(struct out *o, const char *s)
{
    size_t len;
    char *d;

    assert(s);
    if (!s)
        s = "";
    len = strlen(s);
    if (o->failed)
        return;
    if (len > (SIZE_MAX - 2) / 6 || buf_reserve(o->b, 6 * len + 2) < 0) {
        o->failed = true;
        return;
    }
    d = o->b->data + o->b->len;
    *d++ = '"';
    d += escape_into(d, s, len);
    *d++ = '"';
    *d = '\0';
    o->b->len = (size_t)(d - o->b->data);
}

/* ,"key": then the string value */
static void out_kstr(struct out *o, const char *key, const char *s)
{
    out_raw(o, key);
    out_str(o, s);
}

static void out_int(struct out *o, long long v)
{
    if (!o->failed && proto_buf_printf(o->b, "%lld", v) < 0)
        o->failed = true;
}

static void out_vec(struct out *o, const float *v, int n, int prec, double limit)
{
    if (o->failed)
        return;
    if (buf_reserve(o->b, (size_t)n * (FIXED_MAX + 1) + 2) < 0) {
        o->failed = true;
        return;
    }
    o->b->len += put_vec(o->b->data + o->b->len, v, n, prec, limit);
    o->b->data[o->b->len] = '\0';
}

/* ,"re":<id> when there is an id to echo. */
static void out_re(struct out *o, const struct proto_id *re)
{
    if (!re || re->kind == PROTO_ID_NONE)
        return;
    out_raw(o, ",\"re\":");
    if (re->kind == PROTO_ID_INT)
        out_int(o, re->num);
    else
        out_str(o, re->str);
}

/* ,"bounds":{"min":[x,y,z],"max":[x,y,z]} when there are bounds. */
static void out_bounds(struct out *o, const struct poses_bin_bounds *b)
{
    if (!b)
        return;
    out_raw(o, ",\"bounds\":{\"min\":");
    out_vec(o, b->min, 3, 3, POS_LIMIT);
    out_raw(o, ",\"max\":");
    out_vec(o, b->max, 3, 3, POS_LIMIT);
    out_raw(o, "}");
}

/* {"id","name","role","status","hand","p","q"} */
static void out_roster_user(struct out *o, const struct proto_user *u)
{
    assert(u && u->p && u->q);
    out_kstr(o, "{\"id\":", u->id);
    out_kstr(o, ",\"name\":", u->name);
    out_kstr(o, ",\"role\":", u->role);
    out_kstr(o, ",\"status\":", u->status);
    out_raw(o, u->hand ? ",\"hand\":true" : ",\"hand\":false");
    if (u->hand_at) {
        out_raw(o, ",\"hand_at\":");
        out_int(o, u->hand_at);
    }
    if (u->muted)
        out_raw(o, ",\"muted\":true");
    if (u->talking)
        out_raw(o, ",\"talking\":true");
    if (u->has_ix) {
        out_raw(o, ",\"ix\":");
        out_int(o, u->ix);
    }
    out_raw(o, ",\"p\":");
    out_vec(o, u->p, 3, 3, POS_LIMIT);
    out_raw(o, ",\"q\":");
    out_vec(o, u->q, 4, 5, QUAT_LIMIT);
    out_raw(o, "}");
}

int proto_encode_welcome(struct proto_buf *b, const char *session, const char *resume,
                         const struct proto_user *user, const struct proto_room_info *rooms,
                         size_t nrooms, int tick_hz, bool poses_binary, const struct proto_id *re)
{
    struct out o = out_begin(b);

    assert(user && (rooms || nrooms == 0));
    out_kstr(&o, "{\"type\":\"welcome\",\"session\":", session);
    out_kstr(&o, ",\"resume\":", resume);
    out_kstr(&o, ",\"user\":{\"id\":", user->id);
    out_kstr(&o, ",\"name\":", user->name);
    out_kstr(&o, ",\"role\":", user->role);
    out_raw(&o, "},\"rooms\":[");
    for (size_t i = 0; i < nrooms; i++) {
        out_kstr(&o, i ? ",{\"id\":" : "{\"id\":", rooms[i].id);
        out_kstr(&o, ",\"name\":", rooms[i].name);
        out_raw(&o, ",\"count\":");
        out_int(&o, rooms[i].count);
        out_raw(&o, ",\"capacity\":");
        out_int(&o, rooms[i].capacity);
        out_raw(&o, "}");
    }
    out_raw(&o, "],\"tick_hz\":");
    out_int(&o, tick_hz);
    out_raw(&o, poses_binary ? ",\"poses\":\"binary\"" : ",\"poses\":\"json\"");
    out_re(&o, re);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_joined(struct proto_buf *b, const char *room_id, const char *room_name,
                        const char *scene, const struct proto_user *roster, size_t n,
                        const struct proto_id *re)
{
    return proto_encode_joined_near(b, room_id, room_name, scene, roster, n, NULL, NULL, re);
}

int proto_encode_joined_near(struct proto_buf *b, const char *room_id, const char *room_name,
                             const char *scene, const struct proto_user *roster, size_t n,
                             const struct poses_bin_bounds *bounds, const struct proto_near *near,
                             const struct proto_id *re)
{
    struct out o = out_begin(b);

    assert(roster || n == 0);
    out_kstr(&o, "{\"type\":\"joined\",\"room\":{\"id\":", room_id);
    out_kstr(&o, ",\"name\":", room_name);
    out_kstr(&o, ",\"scene\":", scene);
    out_raw(&o, "},\"roster\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            out_raw(&o, ",");
        out_roster_user(&o, &roster[i]);
    }
    out_raw(&o, "]");
    out_bounds(&o, bounds);
    if (near) {
        out_kstr(&o, ",\"near\":{\"user\":", near->user);
        out_raw(&o, near->placed ? ",\"placed\":true" : ",\"placed\":false");
        if (near->reason)
            out_kstr(&o, ",\"reason\":", near->reason);
        out_raw(&o, "}");
    }
    out_re(&o, re);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_found(struct proto_buf *b, const char *q, const struct proto_found *people,
                       size_t n, bool truncated, const struct proto_id *re)
{
    struct out o = out_begin(b);

    assert(people || n == 0);
    out_kstr(&o, "{\"type\":\"found\",\"q\":", q);
    out_raw(&o, ",\"people\":[");
    for (size_t i = 0; i < n; i++) {
        out_kstr(&o, i ? ",{\"user\":" : "{\"user\":", people[i].user);
        out_kstr(&o, ",\"name\":", people[i].name);
        out_kstr(&o, ",\"role\":", people[i].role);
        out_kstr(&o, ",\"room\":", people[i].room);
        out_kstr(&o, ",\"room_name\":", people[i].room_name);
        out_raw(&o, "}");
    }
    out_raw(&o, truncated ? "],\"truncated\":true" : "],\"truncated\":false");
    out_re(&o, re);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_privacy(struct proto_buf *b, bool findable, bool dms, const struct proto_id *re)
{
    struct out o = out_begin(b);

    out_raw(&o, findable ? "{\"type\":\"privacy\",\"findable\":true"
                         : "{\"type\":\"privacy\",\"findable\":false");
    out_raw(&o, dms ? ",\"dms\":true" : ",\"dms\":false");
    out_re(&o, re);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_presence(struct proto_buf *b, const char *room, const char *event,
                          const struct proto_user *user)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"presence\",\"room\":", room);
    out_kstr(&o, ",\"event\":", event);
    out_raw(&o, ",\"user\":");
    out_roster_user(&o, user);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_presence_event(struct proto_buf *b, const char *event,
                                const struct proto_user *user)
{
    struct out o = out_begin(b);

    out_kstr(&o, b->len ? ",{\"event\":" : "{\"event\":", event);
    out_raw(&o, ",\"user\":");
    out_roster_user(&o, user);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_presence_batch(struct proto_buf *b, const char *room, const char *events,
                                size_t len)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"presence_batch\",\"room\":", room);
    out_raw(&o, ",\"events\":[");
    if (!o.failed && proto_buf_append(b, events, len) < 0)
        o.failed = true;
    out_raw(&o, "]}");
    return out_end(&o);
}

/* A chat line's fields, without braces: chat and chat_history share them. */
static void out_chat_line(struct out *o, const struct proto_chat_line *l)
{
    out_raw(o, "\"msg\":");
    out_int(o, l->id);
    out_kstr(o, ",\"from\":{\"id\":", l->user_id);
    out_kstr(o, ",\"name\":", l->name);
    out_kstr(o, ",\"role\":", l->role);
    out_kstr(o, "},\"text\":", l->text);
    out_raw(o, ",\"ts\":");
    out_int(o, l->ts_ms);
}

int proto_encode_chat(struct proto_buf *b, const char *room, const struct proto_chat_line *l)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"chat\",\"room\":", room);
    out_raw(&o, ",");
    out_chat_line(&o, l);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_chat_history(struct proto_buf *b, const char *room,
                              const struct proto_chat_line *lines, size_t n)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"chat_history\",\"room\":", room);
    out_raw(&o, ",\"lines\":[");
    for (size_t i = 0; i < n; i++) {
        out_raw(&o, i ? ",{" : "{");
        out_chat_line(&o, &lines[i]);
        out_raw(&o, "}");
    }
    out_raw(&o, "]}");
    return out_end(&o);
}

/* {"applause":n,...} of the PROTO_REACT_COUNT numbers in n. */
static void out_reaction_counts(struct out *o, const char *key, const unsigned long long *n)
{
    out_raw(o, key);
    for (int i = 0; i < PROTO_REACT_COUNT; i++) {
        out_kstr(o, i ? "," : "{", reaction_names[i]);
        out_raw(o, ":");
        out_int(o, (long long)n[i]);
    }
    out_raw(o, "}");
}

int proto_encode_reactions(struct proto_buf *b, const char *room, const unsigned *counts,
                           const unsigned long long *total, const struct proto_reactor *by,
                           size_t nby, unsigned more)
{
    struct out o = out_begin(b);
    unsigned long long tick[PROTO_REACT_COUNT];

    for (int i = 0; i < PROTO_REACT_COUNT; i++)
        tick[i] = counts[i];
    out_kstr(&o, "{\"type\":\"reactions\",\"room\":", room);
    out_reaction_counts(&o, ",\"counts\":", tick);
    out_reaction_counts(&o, ",\"total\":", total);
    out_raw(&o, ",\"by\":[");
    for (size_t i = 0; i < nby; i++) {
        out_kstr(&o, i ? ",{\"user\":" : "{\"user\":", by[i].user_id);
        out_kstr(&o, ",\"kind\":", proto_reaction_name(by[i].kind));
        out_raw(&o, "}");
    }
    out_raw(&o, "],\"more\":");
    out_int(&o, more);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_chat_deleted(struct proto_buf *b, const char *room, long long id)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"chat_deleted\",\"room\":", room);
    out_raw(&o, ",\"msg\":");
    out_int(&o, id);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_error(struct proto_buf *b, const char *code, const char *message,
                       const struct proto_id *re)
{
    return proto_encode_error_overflow(b, code, message, NULL, re);
}

int proto_encode_error_overflow(struct proto_buf *b, const char *code, const char *message,
                                const char *overflow, const struct proto_id *re)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"error\",\"code\":", code);
    out_kstr(&o, ",\"message\":", message);
    if (overflow)
        out_kstr(&o, ",\"overflow\":", overflow);
    out_re(&o, re);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_left(struct proto_buf *b, const char *room, const struct proto_id *re)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"left\",\"room\":", room);
    out_re(&o, re);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_pose_fix(struct proto_buf *b, const float p[3], const float q[4],
                          const char *reason)
{
    struct out o = out_begin(b);

    out_raw(&o, "{\"type\":\"pose\",\"p\":");
    out_vec(&o, p, 3, 3, POS_LIMIT);
    out_raw(&o, ",\"q\":");
    out_vec(&o, q, 4, 5, QUAT_LIMIT);
    out_kstr(&o, ",\"reason\":", reason);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_scene(struct proto_buf *b, const char *room, const char *scene)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"scene\",\"room\":", room);
    out_kstr(&o, ",\"scene\":", scene);
    out_raw(&o, "}");
    return out_end(&o);
}

/*
 * The poses pieces run once per avatar per tick: each reserves its worst
 * case once and then writes with snprintf straight into the buffer, with no
 * jansson and no allocation when the buffer is already big enough.
 */
size_t proto_poses_head(char *out, size_t size, long long tick, int near)
{
    int n;
    assert(size >= PROTO_POSES_HEAD_MAX && near <= 0xffff);
    if (near >= 0)
        n = snprintf(out, size, "{\"type\":\"poses\",\"tick\":%lld,\"near\":%d,\"users\":[", tick,
                     near);
    else
        n = snprintf(out, size, "{\"type\":\"poses\",\"tick\":%lld,\"users\":[", tick);
    assert(n > 0 && (size_t)n < size);
    return (size_t)n;
}

/* {"id":"","p":[],"q":[]} around the escaped id and the numbers. */
#define POSE_ENTRY_FIXED (sizeof "{\"id\":\"\",\"p\":,\"q\":}" + (size_t)7 * (FIXED_MAX + 1) + 4)

int proto_encode_pose_entry(struct proto_buf *b, const char *id, const float p[3], const float q[4])
{
    size_t idlen;
    char *d;

    assert(id && p && q);
    idlen = strlen(id);
    if (idlen > (SIZE_MAX - POSE_ENTRY_FIXED) / 6 ||
        buf_reserve(b, 6 * idlen + POSE_ENTRY_FIXED) < 0)
        return -1;
    d = b->data + b->len;
    memcpy(d, "{\"id\":\"", 7);
    d += 7;
    d += escape_into(d, id, idlen);
    memcpy(d, "\",\"p\":", 6);
    d += 6;
    d += put_vec(d, p, 3, 3, POS_LIMIT);
    memcpy(d, ",\"q\":", 5);
    d += 5;
    d += put_vec(d, q, 4, 5, QUAT_LIMIT);
    *d++ = '}';
    *d = '\0';
    b->len = (size_t)(d - b->data);
    assert(b->len < b->cap);
    return 0;
}

/* ---- moderation --------------------------------------------------------- */

/* ,"key":"value" or ,"key":null */
static void out_kstr_or_null(struct out *o, const char *key, const char *s)
{
    if (s) {
        out_kstr(o, key, s);
    } else {
        out_raw(o, key);
        out_raw(o, "null");
    }
}

int proto_encode_mod_ok(struct proto_buf *b, enum proto_mod_action action,
                        const struct proto_id *re)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"mod_ok\",\"action\":", proto_mod_action_name(action));
    out_re(&o, re);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_kicked(struct proto_buf *b, const char *reason, const char *room)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"kicked\",\"reason\":", reason);
    out_kstr_or_null(&o, ",\"room\":", room);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_announce(struct proto_buf *b, const char *from_id, const char *from_name,
                          const char *text, const char *room, long long ts_ms)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"announce\",\"from\":{\"id\":", from_id);
    out_kstr(&o, ",\"name\":", from_name);
    out_kstr(&o, "},\"text\":", text);
    out_kstr_or_null(&o, ",\"room\":", room);
    out_raw(&o, ",\"ts\":");
    out_int(&o, ts_ms);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_twin(struct proto_buf *b, const char *entity, const char *etype,
                      const struct proto_twin_attr *attrs, size_t n)
{
    struct out o = out_begin(b);

    assert(attrs || n == 0);
    out_kstr(&o, "{\"type\":\"twin\",\"entity\":", entity);
    out_kstr(&o, ",\"etype\":", etype);
    out_raw(&o, ",\"attrs\":{");
    for (size_t i = 0; i < n; i++) {
        const struct proto_twin_attr *a = &attrs[i];
        if (i)
            out_raw(&o, ",");
        out_str(&o, a->name);
        out_raw(&o, ":{\"value\":");
        switch (a->kind) {
        case PROTO_TWIN_NUMBER:
            assert(isfinite(a->num));
            if (!o.failed && proto_buf_printf(o.b, "%.15g", a->num) < 0)
                o.failed = true;
            break;
        case PROTO_TWIN_BOOL:
            out_raw(&o, a->num != 0 ? "true" : "false");
            break;
        case PROTO_TWIN_STRING:
            out_str(&o, a->text ? a->text : "");
            break;
        case PROTO_TWIN_JSON:
            out_raw(&o, a->text ? a->text : "null");
            break;
        case PROTO_TWIN_NULL:
            out_raw(&o, "null");
            break;
        }
        out_kstr(&o, ",\"unit\":", a->unit ? a->unit : "");
        out_raw(&o, ",\"observedAt\":");
        if (a->observed_ms)
            out_int(&o, a->observed_ms);
        else
            out_raw(&o, "null");
        out_raw(&o, "}");
    }
    out_raw(&o, "}}");
    return out_end(&o);
}

int proto_encode_room_state(struct proto_buf *b, const char *room, bool locked, int capacity)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"room\",\"room\":", room);
    out_raw(&o, locked ? ",\"locked\":true" : ",\"locked\":false");
    out_raw(&o, ",\"capacity\":");
    out_int(&o, capacity);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_breakout(struct proto_buf *b, const char *room, const char *return_to,
                          long long ends_ms)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"breakout\",\"room\":", room);
    out_kstr(&o, ",\"return_to\":", return_to);
    out_raw(&o, ",\"ends\":");
    out_int(&o, ends_ms);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_breakout_view(struct proto_buf *b, const char *from, const struct proto_person *by,
                               long long ends_ms, int minutes,
                               const struct proto_breakout_room *rooms, size_t nrooms)
{
    struct out o = out_begin(b);

    assert(rooms || nrooms == 0);
    out_kstr(&o, "{\"type\":\"breakout_view\",\"active\":true,\"from\":", from);
    out_kstr(&o, ",\"by\":{\"id\":", by->id);
    out_kstr(&o, ",\"name\":", by->name);
    out_raw(&o, "},\"ends\":");
    out_int(&o, ends_ms);
    out_raw(&o, ",\"minutes\":");
    out_int(&o, minutes);
    out_raw(&o, ",\"rooms\":[");
    for (size_t i = 0; i < nrooms; i++) {
        const struct proto_breakout_room *r = &rooms[i];
        assert(r->n <= r->count && (r->people || r->n == 0));
        out_kstr(&o, i ? ",{\"id\":" : "{\"id\":", r->id);
        out_raw(&o, ",\"count\":");
        out_int(&o, (long long)r->count);
        out_raw(&o, ",\"people\":[");
        for (size_t k = 0; k < r->n; k++) {
            out_kstr(&o, k ? ",{\"id\":" : "{\"id\":", r->people[k].id);
            out_kstr(&o, ",\"name\":", r->people[k].name);
            out_raw(&o, "}");
        }
        out_raw(&o, "]}");
    }
    out_raw(&o, "]}");
    return out_end(&o);
}

int proto_encode_breakout_view_end(struct proto_buf *b, const char *from)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"breakout_view\",\"active\":false,\"from\":", from);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_stage(struct proto_buf *b, const char *room, const struct proto_user *users,
                       size_t n, const struct poses_bin_bounds *bounds)
{
    struct out o = out_begin(b);

    assert(users || n == 0);
    out_kstr(&o, "{\"type\":\"stage\",\"room\":", room);
    out_raw(&o, ",\"users\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            out_raw(&o, ",");
        out_roster_user(&o, &users[i]);
    }
    out_raw(&o, "]");
    out_bounds(&o, bounds);
    out_raw(&o, "}");
    return out_end(&o);
}

/* ---- the programme and the stage ---------------------------------------- */

void proto_time_text(long long ms, char *out, size_t size)
{
    /* Civil from days (H. Hinnant's algorithm): no gmtime, no time zone. */
    long long secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    long long days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    long long sod = secs - days * 86400;
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long d = doy - (153 * mp + 2) / 5 + 1;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    long long y = yoe + era * 400 + (m <= 2);
    int n;

    assert(size >= PROTO_TIME_MAX);
    n = snprintf(out, size, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", y, m, d, sod / 3600,
                 sod / 60 % 60, sod % 60);
    assert(n > 0 && (size_t)n < size);
    (void)n; /* the assert's, gone under NDEBUG */
}

static void out_time(struct out *o, const char *key, long long ms)
{
    char t[PROTO_TIME_MAX];
    proto_time_text(ms, t, sizeof(t));
    out_kstr(o, key, t);
}

static void out_person(struct out *o, const char *id, const char *name)
{
    out_kstr(o, "{\"id\":", id);
    out_kstr(o, ",\"name\":", name);
    out_raw(o, "}");
}

static void out_slides_url(struct out *o, const char *session, int version)
{
    char url[PROTO_SESSION_ID_MAX + 64];
    snprintf(url, sizeof(url), "/api/sessions/%s/slides?v=%d", session, version);
    out_kstr(o, ",\"url\":", url);
}

int proto_encode_session_object(struct proto_buf *b, const struct proto_session *s)
{
    static const char *const parts[3] = {",\"speakers\":[", ",\"moderators\":[",
                                         ",\"captioners\":["};
    struct out o = out_begin(b);

    out_kstr(&o, "{\"id\":", s->id);
    out_kstr(&o, ",\"title\":", s->title);
    out_kstr(&o, ",\"description\":", s->description);
    out_kstr(&o, ",\"room\":", s->room);
    out_time(&o, ",\"start\":", s->start_ms);
    out_time(&o, ",\"end\":", s->end_ms);
    out_kstr(&o, ",\"state\":", s->state);
    for (int k = 0; k < 3; k++) {
        out_raw(&o, parts[k]);
        for (size_t i = 0; i < s->npeople[k]; i++) {
            if (i)
                out_raw(&o, ",");
            out_person(&o, s->people[k][i].id, s->people[k][i].name);
        }
        out_raw(&o, "]");
    }
    if (s->slides_pages > 0) {
        out_raw(&o, ",\"slides\":{\"pages\":");
        out_int(&o, s->slides_pages);
        out_raw(&o, ",\"page\":");
        out_int(&o, s->slides_page);
        out_slides_url(&o, s->id, s->slides_version);
        out_raw(&o, "}}");
    } else {
        out_raw(&o, ",\"slides\":null}");
    }
    return out_end(&o);
}

int proto_encode_programme_head(struct proto_buf *b)
{
    static const char head[] = "{\"type\":\"programme\",\"sessions\":[";
    return proto_buf_append(b, head, sizeof(head) - 1);
}

int proto_encode_programme_tail(struct proto_buf *b)
{
    return proto_buf_append(b, "]}", 2);
}

int proto_encode_session_state(struct proto_buf *b, const char *id, const char *state,
                               const char *room)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"session\",\"id\":", id);
    out_kstr(&o, ",\"state\":", state);
    out_kstr(&o, ",\"room\":", room);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_stars(struct proto_buf *b, const char *const *ids, size_t n,
                       const struct proto_id *re)
{
    struct out o = out_begin(b);

    out_raw(&o, "{\"type\":\"stars\",\"sessions\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            out_raw(&o, ",");
        out_str(&o, ids[i]);
    }
    out_raw(&o, "]");
    out_re(&o, re);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_reminder(struct proto_buf *b, const char *id, const char *title, const char *room,
                          long long start_ms)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"reminder\",\"session\":", id);
    out_kstr(&o, ",\"title\":", title);
    out_kstr(&o, ",\"room\":", room);
    out_time(&o, ",\"start\":", start_ms);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_slides(struct proto_buf *b, const char *session, const char *room, int pages,
                        int page, int version)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"slides\",\"session\":", session);
    out_kstr(&o, ",\"room\":", room);
    out_raw(&o, ",\"pages\":");
    out_int(&o, pages);
    out_raw(&o, ",\"page\":");
    out_int(&o, page);
    out_slides_url(&o, session, version);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_caption(struct proto_buf *b, const char *session, const char *room,
                         const char *from_id, const char *from_name, const char *text,
                         long long ts_ms)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"caption\",\"session\":", session);
    out_kstr(&o, ",\"room\":", room);
    out_raw(&o, ",\"from\":");
    out_person(&o, from_id, from_name);
    out_kstr(&o, ",\"text\":", text);
    out_raw(&o, ",\"ts\":");
    out_int(&o, ts_ms);
    out_raw(&o, "}");
    return out_end(&o);
}

static void out_question(struct out *o, const struct proto_question *q)
{
    out_raw(o, "{\"id\":");
    out_int(o, q->id);
    out_raw(o, ",\"from\":");
    out_person(o, q->from_id, q->from_name);
    out_kstr(o, ",\"text\":", q->text);
    out_raw(o, ",\"votes\":");
    out_int(o, q->votes);
    out_raw(o, q->answered ? ",\"answered\":true" : ",\"answered\":false");
    out_raw(o, ",\"ts\":");
    out_int(o, q->ts_ms);
    if (q->voted >= 0)
        out_raw(o, q->voted ? ",\"voted\":true" : ",\"voted\":false");
    out_raw(o, "}");
}

int proto_encode_question(struct proto_buf *b, const char *session, const char *room,
                          const struct proto_question *q)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"question\",\"session\":", session);
    out_kstr(&o, ",\"room\":", room);
    out_raw(&o, ",\"question\":");
    out_question(&o, q);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_questions(struct proto_buf *b, const char *session, const char *room,
                           const struct proto_question *qs, size_t n)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"questions\",\"session\":", session);
    out_kstr(&o, ",\"room\":", room);
    out_raw(&o, ",\"questions\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            out_raw(&o, ",");
        out_question(&o, &qs[i]);
    }
    out_raw(&o, "]}");
    return out_end(&o);
}

int proto_encode_floor(struct proto_buf *b, const char *room, const char *user_id,
                       const char *user_name, long long until_ms)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"floor\",\"room\":", room);
    if (user_id) {
        out_raw(&o, ",\"user\":");
        out_person(&o, user_id, user_name);
        out_raw(&o, ",\"until\":");
        out_int(&o, until_ms);
        out_raw(&o, "}");
    } else {
        out_raw(&o, ",\"user\":null,\"until\":null}");
    }
    return out_end(&o);
}

int proto_encode_voice(struct proto_buf *b, const struct proto_voice *v)
{
    static const char *const states[] = {"off", "down", "up"};
    struct out o = out_begin(b);

    assert(v && v->state <= PROTO_VOICE_UP);
    out_kstr(&o, "{\"type\":\"voice\",\"state\":", states[v->state]);
    if (v->state == PROTO_VOICE_DOWN)
        out_kstr(&o, ",\"reason\":", v->reason ? v->reason : "");
    if (v->state == PROTO_VOICE_UP) {
        assert(v->url && v->token);
        out_kstr(&o, ",\"url\":", v->url);
        out_kstr(&o, ",\"token\":", v->token);
        out_raw(&o, ",\"room\":");
        out_int(&o, (long long)v->room);
        out_raw(&o, ",\"listen\":");
        out_int(&o, (long long)v->listen);
        out_raw(&o, ",\"id\":");
        out_int(&o, (long long)v->id);
        out_raw(&o,
                v->stage ? ",\"mode\":\"stage\",\"range\":" : ",\"mode\":\"spatial\",\"range\":");
        out_int(&o, (long long)v->range);
        out_raw(&o, v->publish ? ",\"publish\":true" : ",\"publish\":false");
        if (v->ice) {
            out_raw(&o, ",\"ice\":");
            out_raw(&o, v->ice);
        }
    }
    out_raw(&o, v->muted ? ",\"muted\":true" : ",\"muted\":false");
    out_raw(&o, v->locked ? ",\"locked\":true}" : ",\"locked\":false}");
    return out_end(&o);
}

int proto_encode_voice_peers(struct proto_buf *b, uint64_t room,
                             const struct proto_voice_peer *peers, size_t n)
{
    struct out o = out_begin(b);

    assert(peers || n == 0);
    out_raw(&o, "{\"type\":\"voice_peers\",\"room\":");
    out_int(&o, (long long)room);
    out_raw(&o, ",\"peers\":[");
    for (size_t i = 0; i < n; i++) {
        out_raw(&o, i ? ",{\"id\":" : "{\"id\":");
        out_int(&o, (long long)peers[i].id);
        out_kstr(&o, ",\"user\":", peers[i].user);
        out_raw(&o, "}");
    }
    out_raw(&o, "]}");
    return out_end(&o);
}

int proto_encode_dm(struct proto_buf *b, const struct proto_dm *d, const struct proto_id *re)
{
    struct out o = out_begin(b);

    out_raw(&o, "{\"type\":\"dm\",\"from\":");
    out_person(&o, d->from_id, d->from_name);
    out_raw(&o, ",\"to\":");
    out_person(&o, d->to_id, d->to_name);
    out_kstr(&o, ",\"text\":", d->text);
    out_raw(&o, ",\"ts\":");
    out_int(&o, d->ts_ms);
    out_re(&o, re);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_blocks(struct proto_buf *b, const char *const *ids, size_t n,
                        const struct proto_id *re)
{
    struct out o = out_begin(b);

    out_raw(&o, "{\"type\":\"blocks\",\"users\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            out_raw(&o, ",");
        out_str(&o, ids[i]);
    }
    out_raw(&o, "]");
    out_re(&o, re);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_report(struct proto_buf *b, const struct proto_report *r)
{
    struct out o = out_begin(b);

    out_raw(&o, "{\"type\":\"report\",\"from\":");
    out_person(&o, r->from_id, r->from_name);
    out_raw(&o, ",\"about\":");
    out_person(&o, r->about_id, r->about_name);
    out_kstr_or_null(&o, ",\"room\":", r->room);
    out_kstr(&o, ",\"reason\":", r->reason);
    out_raw(&o, ",\"messages\":[");
    for (size_t i = 0; i < r->nmessages; i++) {
        out_kstr(&o, i ? ",{\"text\":" : "{\"text\":", r->messages[i].text);
        out_raw(&o, ",\"ts\":");
        out_int(&o, r->messages[i].ts_ms);
        out_raw(&o, "}");
    }
    out_raw(&o, "],\"ts\":");
    out_int(&o, r->ts_ms);
    out_raw(&o, "}");
    return out_end(&o);
}

int proto_encode_reported(struct proto_buf *b, const char *user_id, int moderators,
                          const struct proto_id *re)
{
    struct out o = out_begin(b);

    out_kstr(&o, "{\"type\":\"reported\",\"user\":", user_id);
    out_raw(&o, ",\"moderators\":");
    out_int(&o, moderators);
    out_re(&o, re);
    out_raw(&o, "}");
    return out_end(&o);
}
