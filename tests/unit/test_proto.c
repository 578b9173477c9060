/*
 * test_proto.c - unit tests for protocol/proto.c: every client message,
 * good and bad, and every encoder, round-tripped through jansson.
 *
 * No framework: CHECK counts and reports, main exits non-zero if anything
 * failed and ends with "N passed, M failed". The data-driven cases in
 * tests/proto-cases/ cover more bad inputs; this file covers what needs
 * code to check (normalised values, echoed ids, exact bytes, buffers).
 */
#include "proto.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#ifdef PROTO_TEST_OOM
/*
 * The fault-injection build (test_proto_oom): proto.c is compiled into this
 * file with realloc replaced, so that the n-th allocation from now can be
 * made to fail and every encoder's "b is left as it was" can be checked.
 */
static long oom_countdown = -1; /* allocations until one fails; -1: never */

static void *oom_realloc(void *p, size_t n)
{
    if (oom_countdown == 0)
        return NULL;
    if (oom_countdown > 0)
        oom_countdown--;
    return realloc(p, n);
}
#define realloc oom_realloc
#include "proto.c"
#undef realloc
#endif

static int passed, failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            printf("%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                        \
        }                                                                                          \
    } while (0)

/* Like CHECK, reporting the line of the caller (for helpers). */
#define CHECK_AT(line, cond, ...)                                                                  \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            printf("%s:%d: CHECK failed: %s: ", __FILE__, line, #cond);                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

/* ---- helpers ---------------------------------------------------------- */

/* A formatted JSON text in a static buffer (the tests are single-threaded
 * and use one text at a time). */
static char text_buf[65536];

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(text_buf, sizeof text_buf, f, ap);
    va_end(ap);
    return text_buf;
}

/* s repeated n times, in one of two static buffers. */
static const char *rep(const char *s, int n)
{
    static char bufs[2][8192];
    static int which;
    char *b = bufs[which ^= 1];
    size_t len = strlen(s), off = 0;
    for (int i = 0; i < n && off + len < sizeof bufs[0]; i++, off += len)
        memcpy(b + off, s, len);
    b[off] = '\0';
    return b;
}

static struct proto_msg msg;
static struct proto_error err;

static int ok_at(int line, const char *text)
{
    int rc;
    proto_msg_free(&msg);
    rc = proto_parse(text, strlen(text), &msg, &err);
    CHECK_AT(line, rc == 0, "refused %.200s: %s: %s", text, err.code, err.message);
    return rc == 0;
}

static void bad_at(int line, const char *text, const char *code, const char *sub)
{
    int rc;
    proto_msg_free(&msg);
    rc = proto_parse(text, strlen(text), &msg, &err);
    CHECK_AT(line, rc == -1, "accepted %.200s", text);
    if (rc != -1)
        return;
    CHECK_AT(line, err.code && strcmp(err.code, code) == 0, "%.200s: code %s, want %s", text,
             err.code, code);
    CHECK_AT(line, strstr(err.message, sub) != NULL, "%.200s: message \"%s\" lacks \"%s\"", text,
             err.message, sub);
    CHECK_AT(line, proto_utf8_valid(err.message, strlen(err.message)), "message not UTF-8");
}

#define OK(text)            ok_at(__LINE__, text)
#define BAD(text, code, sb) bad_at(__LINE__, text, code, sb)
#define BADREQ(text, sb)    bad_at(__LINE__, text, "bad_request", sb)

static bool near(double a, double b, double eps)
{
    return fabs(a - b) <= eps;
}

/* ---- parsing: the envelope -------------------------------------------- */

static void test_envelope(void)
{
    BADREQ("", "invalid JSON");
    BADREQ("{", "invalid JSON");
    BADREQ("{\"type\":\"leave\",}", "invalid JSON");
    BADREQ("{\"type\":'leave'}", "invalid JSON");
    BADREQ("{\"type\":\"leave\"} {}", "invalid JSON");
    BADREQ("nul", "invalid JSON");
    BADREQ("{\"type\":\"leave\"", "at line 1 column");
    BADREQ("{\n\"type\":\n\"leave\"\n,,}", "at line 4 column");
    BADREQ("{\"type\":\"leave\",\"type\":\"leave\"}", "duplicate");
    BADREQ("[]", "must be a JSON object");
    BADREQ("[{\"type\":\"leave\"}]", "must be a JSON object");
    BADREQ("\"leave\"", "must be a JSON object");
    BADREQ("42", "must be a JSON object");
    BADREQ("null", "must be a JSON object");
    BADREQ("true", "must be a JSON object");
    BADREQ("{}", "type: missing");
    BADREQ("{\"id\":1}", "type: missing");
    BADREQ("{\"type\":5}", "type: must be a string");
    BADREQ("{\"type\":null}", "type: must be a string");
    BADREQ("{\"type\":[\"leave\"]}", "type: must be a string");
    BADREQ("{\"type\":{\"leave\":1}}", "type: must be a string");
    BAD("{\"type\":\"dance\"}", "unknown_type", "\"dance\"");
    BAD("{\"type\":\"Leave\"}", "unknown_type", "\"Leave\"");
    BAD("{\"type\":\"\"}", "unknown_type", "\"\"");
    BAD("{\"type\":\"welcome\"}", "unknown_type", "welcome");
    BAD("{\"type\":\"poses\"}", "unknown_type", "poses");
    /* A long unknown type is cut in the message, on a character boundary. */
    BAD(fmt("{\"type\":\"%s\"}", rep("\xc3\xa9", 100)), "unknown_type", "unknown message type");
    CHECK(strlen(err.message) < 100);
    BAD(fmt("{\"type\":\"a%s\"}", rep("\xc3\xa9", 100)), "unknown_type", "\"a\xc3\xa9");
    CHECK(strlen(err.message) < 100);
    /* jansson quotes the input near an error, cut to fit: still UTF-8. */
    for (int shift = 0; shift < 4; shift++) {
        BADREQ(fmt("{\"x\":\"%s%s", rep("a", shift), rep("\xf0\x9f\x98\x80", 100)), "invalid JSON");
        BADREQ(fmt("{\"x\":\"%s%s\x01\"}", rep("a", shift), rep("\xe4\xb8\xad", 100)),
               "invalid JSON");
    }

    /* Unknown fields are ignored, nested or not. */
    if (OK("{\"type\":\"leave\",\"extra\":{\"a\":[1,2,{\"b\":null}]},\"x\":1.5}"))
        CHECK(msg.type == PROTO_LEAVE);
    /* NUL inside strings is refused by jansson. */
    BADREQ("{\"type\":\"leave\",\"x\":\"a\\u0000b\"}", "invalid JSON");
    /* Lone surrogates and invalid UTF-8 bytes are invalid JSON. */
    BADREQ("{\"type\":\"leave\",\"x\":\"\\ud800\"}", "invalid JSON");
    BADREQ("{\"type\":\"leave\",\"x\":\"\xff\"}", "invalid JSON");
    BADREQ("{\"type\":\"leave\",\"x\":\"\xc0\xaf\"}", "invalid JSON");

    /* Depth guard: 32 levels pass, 33 do not. */
    {
        char deep[256];
        snprintf(deep, sizeof deep, "{\"type\":\"leave\",\"x\":%s%s}", rep("[", 31), rep("]", 31));
        OK(deep);
        snprintf(deep, sizeof deep, "{\"type\":\"leave\",\"x\":%s%s}", rep("[", 32), rep("]", 32));
        BADREQ(deep, "nested deeper than 32");
        /* Brackets inside strings do not count. */
        snprintf(deep, sizeof deep, "{\"type\":\"leave\",\"x\":\"%s\\\"%s\"}", rep("[", 40),
                 rep("{", 40));
        OK(deep);
        /* A very deep text is refused without recursing. */
        static char huge[200010];
        memset(huge, '[', 200000);
        huge[200000] = '\0';
        BADREQ(huge, "nested deeper");
    }

    /* The buffer need not be NUL-terminated: only len bytes are read. */
    {
        const char t[] = "{\"type\":\"leave\"}GARBAGE";
        CHECK(proto_parse(t, 16, &msg, &err) == 0);
        CHECK(proto_parse(t, sizeof t - 1, &msg, &err) == -1);
        CHECK(proto_parse(NULL, 0, &msg, &err) == -1);
        CHECK(strstr(err.message, "invalid JSON") != NULL);
    }
    /* Leading and trailing whitespace is fine JSON. */
    OK(" \n\t{\"type\":\"leave\"}\r\n ");
    /* Invalid JSON carries no re. */
    BADREQ("{\"id\":\"a\",\"type\":\"leave\"", "invalid JSON");
    CHECK(err.re.kind == PROTO_ID_NONE);
}

/* ---- parsing: ids ----------------------------------------------------- */

static void test_ids(void)
{
    if (OK("{\"type\":\"leave\"}"))
        CHECK(msg.id.kind == PROTO_ID_NONE);
    if (OK("{\"type\":\"leave\",\"id\":\"abc-1\"}")) {
        CHECK(msg.id.kind == PROTO_ID_STR);
        CHECK(strcmp(msg.id.str, "abc-1") == 0);
    }
    if (OK("{\"type\":\"leave\",\"id\":42}")) {
        CHECK(msg.id.kind == PROTO_ID_INT);
        CHECK(msg.id.num == 42);
    }
    if (OK("{\"id\":-7,\"type\":\"leave\"}"))
        CHECK(msg.id.kind == PROTO_ID_INT && msg.id.num == -7);
    if (OK("{\"id\":0,\"type\":\"leave\"}"))
        CHECK(msg.id.kind == PROTO_ID_INT && msg.id.num == 0);
    if (OK("{\"id\":9223372036854775807,\"type\":\"leave\"}"))
        CHECK(msg.id.num == 9223372036854775807LL);
    if (OK("{\"id\":-9223372036854775808,\"type\":\"leave\"}"))
        CHECK(msg.id.num == -9223372036854775807LL - 1);
    BADREQ("{\"id\":9223372036854775808,\"type\":\"leave\"}", "invalid JSON");
    if (OK("{\"id\":\"\",\"type\":\"leave\"}"))
        CHECK(msg.id.kind == PROTO_ID_STR && msg.id.str[0] == '\0');
    /* 64 code points of 4 bytes fit; 65 do not. */
    if (OK(fmt("{\"id\":\"%s\",\"type\":\"leave\"}", rep("\xf0\x9f\x98\x80", 64))))
        CHECK(strlen(msg.id.str) == 256);
    BADREQ(fmt("{\"id\":\"%s\",\"type\":\"leave\"}", rep("\xf0\x9f\x98\x80", 65)),
           "id: longer than 64");
    CHECK(err.re.kind == PROTO_ID_NONE);
    OK(fmt("{\"id\":\"%s\",\"type\":\"leave\"}", rep("a", 64)));
    BADREQ(fmt("{\"id\":\"%s\",\"type\":\"leave\"}", rep("a", 65)), "id: longer than 64");
    /* Escapes in ids are decoded, and a quote in an id is kept as is. */
    if (OK("{\"id\":\"a\\\"b\\\\c\\n\",\"type\":\"leave\"}"))
        CHECK(strcmp(msg.id.str, "a\"b\\c\n") == 0);

    BADREQ("{\"id\":1.5,\"type\":\"leave\"}", "id: must be a string or an integer");
    BADREQ("{\"id\":1.0,\"type\":\"leave\"}", "id:");
    BADREQ("{\"id\":1e3,\"type\":\"leave\"}", "id:");
    BADREQ("{\"id\":true,\"type\":\"leave\"}", "id:");
    BADREQ("{\"id\":null,\"type\":\"leave\"}", "id:");
    BADREQ("{\"id\":[1],\"type\":\"leave\"}", "id:");
    BADREQ("{\"id\":{},\"type\":\"leave\"}", "id:");
    CHECK(err.re.kind == PROTO_ID_NONE);
    /* A type error outranks a bad id. */
    BADREQ("{\"id\":null}", "type: missing");

    /* The id is echoed into err->re whenever it was readable. */
    BADREQ("{\"type\":\"pose\",\"id\":\"x1\",\"p\":[0,0],\"q\":[0,0,0,1]}", "pose.p");
    CHECK(err.re.kind == PROTO_ID_STR && strcmp(err.re.str, "x1") == 0);
    BAD("{\"type\":\"dance\",\"id\":9}", "unknown_type", "dance");
    CHECK(err.re.kind == PROTO_ID_INT && err.re.num == 9);
    BADREQ("{\"id\":3}", "type: missing");
    CHECK(err.re.kind == PROTO_ID_INT && err.re.num == 3);
    BADREQ("{\"id\":\"q\",\"type\":7}", "type: must be a string");
    CHECK(err.re.kind == PROTO_ID_STR && strcmp(err.re.str, "q") == 0);
    BADREQ("{\"type\":\"hello\",\"id\":-1,\"name\":\"\"}", "hello.name: empty");
    CHECK(err.re.kind == PROTO_ID_INT && err.re.num == -1);
    BADREQ("{\"type\":\"chat\",\"id\":\"c7\",\"text\":5}", "chat.text");
    CHECK(err.re.kind == PROTO_ID_STR && strcmp(err.re.str, "c7") == 0);
    /* The message struct is cleared on failure. */
    CHECK(msg.id.kind == PROTO_ID_NONE);
}

/* ---- parsing: hello --------------------------------------------------- */

static void test_hello(void)
{
    if (OK("{\"type\":\"hello\",\"name\":\"Ada\"}")) {
        CHECK(msg.type == PROTO_HELLO);
        CHECK(strcmp(msg.u.hello.name, "Ada") == 0);
        CHECK(msg.u.hello.token[0] == '\0' && msg.u.hello.resume[0] == '\0');
    }
    if (OK("{\"type\":\"hello\",\"name\":\"A\",\"token\":\"t0k~!\",\"resume\":\"r-_.=+/\"}")) {
        CHECK(strcmp(msg.u.hello.token, "t0k~!") == 0);
        CHECK(strcmp(msg.u.hello.resume, "r-_.=+/") == 0);
    }
    /* Unicode names: RTL, emoji, combining marks, spaces inside. */
    if (OK("{\"type\":\"hello\",\"name\":\"\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7\"}"))
        CHECK(strcmp(msg.u.hello.name, "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7") == 0);
    OK("{\"type\":\"hello\",\"name\":\"\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d\"}");
    OK("{\"type\":\"hello\",\"name\":\"\\ud83d\\ude00 Grace Hopper\"}");
    OK("{\"type\":\"hello\",\"name\":\" padded \"}");
    OK("{\"type\":\"hello\",\"name\":\"e\xcc\x81\"}");
    OK("{\"type\":\"hello\",\"name\":\"<img src=x onerror=alert(1)>\"}");
    OK("{\"type\":\"hello\",\"name\":\"\\\"quoted\\\" \\\\ back\"}");

    /* Length in code points: 64 four-byte characters pass, 65 do not. */
    if (OK(fmt("{\"type\":\"hello\",\"name\":\"%s\"}", rep("\xf0\x9f\x8e\x89", 64))))
        CHECK(strlen(msg.u.hello.name) == 256);
    BADREQ(fmt("{\"type\":\"hello\",\"name\":\"%s\"}", rep("\xf0\x9f\x8e\x89", 65)),
           "hello.name: longer than 64 characters");
    OK(fmt("{\"type\":\"hello\",\"name\":\"%s\"}", rep("\xe4\xb8\xad", 64)));
    BADREQ(fmt("{\"type\":\"hello\",\"name\":\"%s\"}", rep("\xe4\xb8\xad", 65)),
           "hello.name: longer than 64 characters");
    OK(fmt("{\"type\":\"hello\",\"name\":\"%s\"}", rep("x", 64)));
    BADREQ(fmt("{\"type\":\"hello\",\"name\":\"%s\"}", rep("x", 65)), "longer than 64");
    /* Escaped surrogate pairs count as one code point each. */
    OK(fmt("{\"type\":\"hello\",\"name\":\"%s\"}", rep("\\ud83d\\ude00", 64)));
    BADREQ(fmt("{\"type\":\"hello\",\"name\":\"%s\"}", rep("\\ud83d\\ude00", 65)),
           "longer than 64");

    BADREQ("{\"type\":\"hello\"}", "hello.name: missing");
    BADREQ("{\"type\":\"hello\",\"name\":null}", "hello.name: must be a string");
    BADREQ("{\"type\":\"hello\",\"name\":42}", "hello.name: must be a string");
    BADREQ("{\"type\":\"hello\",\"name\":[\"a\"]}", "hello.name: must be a string");
    BADREQ("{\"type\":\"hello\",\"name\":\"\"}", "hello.name: empty");
    BADREQ("{\"type\":\"hello\",\"name\":\"   \"}", "hello.name: only whitespace");
    BADREQ("{\"type\":\"hello\",\"name\":\"\\u00a0\\u3000\\u2003\"}", "only whitespace");
    BADREQ("{\"type\":\"hello\",\"name\":\"\\u200b\\u200d\\ufeff\"}", "only whitespace");
    BADREQ("{\"type\":\"hello\",\"name\":\"\\u3164\"}", "only whitespace");
    /* The refusal says what is wrong, not just "whitespace". */
    BADREQ("{\"type\":\"hello\",\"name\":\"\\u200b\\u200c\"}",
           "only whitespace or invisible characters (such as zero-width spaces)");
    /* Bidi embeddings, overrides and isolates are dropped from names... */
    if (OK("{\"type\":\"hello\",\"name\":\"\\u03a9\\u202eevil\"}"))
        CHECK(strcmp(msg.u.hello.name, "\xce\xa9"
                                       "evil") == 0);
    if (OK("{\"type\":\"hello\",\"name\":\"\\u2067a\\u202ab\\u2069\\u202c\"}"))
        CHECK(strcmp(msg.u.hello.name, "ab") == 0);
    /* ...the marks stay, and a name of bidi controls alone shows nothing. */
    if (OK("{\"type\":\"hello\",\"name\":\"a\\u200fb\"}"))
        CHECK(strcmp(msg.u.hello.name, "a\xe2\x80\x8f"
                                       "b") == 0);
    BADREQ("{\"type\":\"hello\",\"name\":\"\\u202e\\u2066\"}", "hello.name: only whitespace");
    /* hello.browser: the page's browser id, optional, A-Z a-z 0-9 _ -, at most 64 */
    if (OK("{\"type\":\"hello\",\"name\":\"a\",\"browser\":\"b-0123456789abcdef\"}"))
        CHECK(strcmp(msg.u.hello.browser, "b-0123456789abcdef") == 0);
    if (OK("{\"type\":\"hello\",\"name\":\"a\"}"))
        CHECK(msg.u.hello.browser[0] == '\0');
    BADREQ("{\"type\":\"hello\",\"name\":\"a\",\"browser\":\"\"}", "hello.browser: empty");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\",\"browser\":7}", "hello.browser: must be a string");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\",\"browser\":\"a b\"}", "hello.browser: only");
    BADREQ(fmt("{\"type\":\"hello\",\"name\":\"a\",\"browser\":\"%s\"}", rep("b", 65)),
           "hello.browser: longer than 64");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\\u0001b\"}", "control character U+0001");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\\nb\"}", "control character U+000A");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\\tb\"}", "control character U+0009");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\\u001fb\"}", "U+001F");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\\u007fb\"}", "U+007F");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\\u0085b\"}", "U+0085");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\\u009fb\"}", "U+009F");
    OK("{\"type\":\"hello\",\"name\":\"a\\u00a1b\"}");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\x01\"}", "invalid JSON"); /* raw control */

    /* Tokens: printable ASCII without spaces, up to 128 bytes; "" = none. */
    if (OK(fmt("{\"type\":\"hello\",\"name\":\"a\",\"token\":\"%s\"}", rep("T", 128))))
        CHECK(strlen(msg.u.hello.token) == 128);
    BADREQ(fmt("{\"type\":\"hello\",\"name\":\"a\",\"token\":\"%s\"}", rep("T", 129)),
           "hello.token: longer than 128 bytes");
    if (OK(fmt("{\"type\":\"hello\",\"name\":\"a\",\"resume\":\"%s\"}", rep("r", 128))))
        CHECK(strlen(msg.u.hello.resume) == 128);
    BADREQ(fmt("{\"type\":\"hello\",\"name\":\"a\",\"resume\":\"%s\"}", rep("r", 129)),
           "hello.resume: longer than 128 bytes");
    if (OK("{\"type\":\"hello\",\"name\":\"a\",\"resume\":\"\"}"))
        CHECK(msg.u.hello.resume[0] == '\0');
    BADREQ("{\"type\":\"hello\",\"name\":\"a\",\"token\":\"a b\"}",
           "hello.token: must be printable");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\",\"token\":\"\\u00e9\"}", "hello.token");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\",\"token\":\"a\\u007f\"}", "hello.token");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\",\"token\":\"a\\tb\"}", "hello.token");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\",\"token\":12}", "hello.token: must be a string");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\",\"token\":null}", "hello.token: must be a string");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\",\"resume\":false}",
           "hello.resume: must be a string");
    BADREQ("{\"type\":\"hello\",\"name\":\"a\",\"resume\":\"\xc3\xa9\"}", "hello.resume");
}

/* ---- parsing: join, leave, status, hand ------------------------------- */

static void test_join_status_hand(void)
{
    if (OK("{\"type\":\"join\",\"room\":\"lobby\"}")) {
        CHECK(msg.type == PROTO_JOIN);
        CHECK(strcmp(msg.u.join.room, "lobby") == 0);
    }
    OK("{\"type\":\"join\",\"room\":\"breakout-1\"}");
    OK("{\"type\":\"join\",\"room\":\"-\"}");
    if (OK(fmt("{\"type\":\"join\",\"room\":\"%s\"}", rep("a", 64))))
        CHECK(strlen(msg.u.join.room) == 64);
    BADREQ(fmt("{\"type\":\"join\",\"room\":\"%s\"}", rep("a", 65)), "join.room: longer than 64");
    BADREQ("{\"type\":\"join\"}", "join.room: missing");
    BADREQ("{\"type\":\"join\",\"room\":\"\"}", "join.room: empty");
    BADREQ("{\"type\":\"join\",\"room\":3}", "join.room: must be a string");
    BADREQ("{\"type\":\"join\",\"room\":null}", "join.room: must be a string");
    BADREQ("{\"type\":\"join\",\"room\":\"Lobby\"}", "join.room: only a-z");
    BADREQ("{\"type\":\"join\",\"room\":\"lob by\"}", "join.room: only a-z");
    BADREQ("{\"type\":\"join\",\"room\":\"../etc\"}", "join.room: only a-z");
    BADREQ("{\"type\":\"join\",\"room\":\"lobby_2\"}", "join.room: only a-z");
    BADREQ("{\"type\":\"join\",\"room\":\"l\\u00f6bby\"}", "join.room: only a-z");

    if (OK("{\"type\":\"leave\"}"))
        CHECK(msg.type == PROTO_LEAVE);
    OK("{\"type\":\"leave\",\"room\":\"ignored\"}");

    if (OK("{\"type\":\"status\",\"status\":\"active\"}"))
        CHECK(msg.type == PROTO_STATUS && msg.u.status.status == PROTO_STATUS_ACTIVE);
    if (OK("{\"type\":\"status\",\"status\":\"away\"}"))
        CHECK(msg.u.status.status == PROTO_STATUS_AWAY);
    BADREQ("{\"type\":\"status\"}", "status.status: missing");
    BADREQ("{\"type\":\"status\",\"status\":\"Away\"}", "status.status: must be");
    BADREQ("{\"type\":\"status\",\"status\":\"busy\"}", "\"active\" or \"away\"");
    BADREQ("{\"type\":\"status\",\"status\":\"away \"}", "status.status");
    BADREQ("{\"type\":\"status\",\"status\":1}", "status.status");
    BADREQ("{\"type\":\"status\",\"status\":null}", "status.status");

    if (OK("{\"type\":\"hand\",\"up\":true}"))
        CHECK(msg.type == PROTO_HAND && msg.u.hand.up);
    if (OK("{\"type\":\"hand\",\"up\":false}"))
        CHECK(!msg.u.hand.up);
    BADREQ("{\"type\":\"hand\"}", "hand.up: missing");
    BADREQ("{\"type\":\"hand\",\"up\":\"true\"}", "hand.up: must be true or false");
    BADREQ("{\"type\":\"hand\",\"up\":1}", "hand.up");
    BADREQ("{\"type\":\"hand\",\"up\":null}", "hand.up");
}

/* ---- parsing: pose ---------------------------------------------------- */

static void test_pose(void)
{
    if (OK("{\"type\":\"pose\",\"p\":[1,2,3],\"q\":[0,0,0,1]}")) {
        CHECK(msg.type == PROTO_POSE);
        CHECK(msg.u.pose.p[0] == 1 && msg.u.pose.p[1] == 2 && msg.u.pose.p[2] == 3);
        CHECK(msg.u.pose.q[3] == 1 && msg.u.pose.q[0] == 0);
    }
    if (OK("{\"type\":\"pose\",\"p\":[-1.25,0.5,1e2],\"q\":[0,0.7071068,0,0.7071068]}")) {
        CHECK(near(msg.u.pose.p[0], -1.25, 1e-6) && near(msg.u.pose.p[2], 100, 1e-6));
        CHECK(near(msg.u.pose.q[1], sqrt(0.5), 1e-6));
    }
    /* Limits: |x| <= 100000. */
    OK("{\"type\":\"pose\",\"p\":[100000,-100000,100000.0],\"q\":[0,0,0,1]}");
    BADREQ("{\"type\":\"pose\",\"p\":[100000.01,0,0],\"q\":[0,0,0,1]}", "pose.p[0]: out of range");
    BADREQ("{\"type\":\"pose\",\"p\":[0,-100000.01,0],\"q\":[0,0,0,1]}", "pose.p[1]: out of range");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,100001],\"q\":[0,0,0,1]}", "pose.p[2]: out of range");
    OK("{\"type\":\"pose\",\"p\":[99999.99,0,0],\"q\":[0,0,0,1]}");
    BADREQ("{\"type\":\"pose\",\"p\":[1e39,0,0],\"q\":[0,0,0,1]}",
           "pose.p[0]: out of range: 1e+39");
    BADREQ("{\"type\":\"pose\",\"p\":[0,-1e300,0],\"q\":[0,0,0,1]}", "pose.p[1]: out of range");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,9223372036854775807],\"q\":[0,0,0,1]}", "pose.p[2]");
    BADREQ("{\"type\":\"pose\",\"p\":[1e400,0,0],\"q\":[0,0,0,1]}", "invalid JSON");
    BADREQ("{\"type\":\"pose\",\"p\":[NaN,0,0],\"q\":[0,0,0,1]}", "invalid JSON");
    BADREQ("{\"type\":\"pose\",\"p\":[Infinity,0,0],\"q\":[0,0,0,1]}", "invalid JSON");
    BADREQ("{\"type\":\"pose\",\"p\":[-Infinity,0,0],\"q\":[0,0,0,1]}", "invalid JSON");
    /* Tiny numbers are fine; they underflow to zero or a denormal. */
    OK("{\"type\":\"pose\",\"p\":[1e-300,0,0],\"q\":[0,0,0,1]}");

    /* Shapes. */
    BADREQ("{\"type\":\"pose\",\"q\":[0,0,0,1]}", "pose.p: missing");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0]}", "pose.q: missing");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0],\"q\":[0,0,0,1]}", "pose.p: must have 3 numbers, not 2");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0,0],\"q\":[0,0,0,1]}", "pose.p: must have 3 numbers");
    BADREQ("{\"type\":\"pose\",\"p\":[],\"q\":[0,0,0,1]}", "pose.p: must have 3");
    BADREQ("{\"type\":\"pose\",\"p\":{\"x\":0},\"q\":[0,0,0,1]}", "pose.p: must be an array");
    BADREQ("{\"type\":\"pose\",\"p\":\"0,0,0\",\"q\":[0,0,0,1]}", "pose.p: must be an array");
    BADREQ("{\"type\":\"pose\",\"p\":null,\"q\":[0,0,0,1]}", "pose.p: must be an array");
    BADREQ("{\"type\":\"pose\",\"p\":[0,\"1\",0],\"q\":[0,0,0,1]}", "pose.p[1]: must be a number");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,null],\"q\":[0,0,0,1]}", "pose.p[2]: must be a number");
    BADREQ("{\"type\":\"pose\",\"p\":[[0],0,0],\"q\":[0,0,0,1]}", "pose.p[0]: must be a number");
    BADREQ("{\"type\":\"pose\",\"p\":[true,0,0],\"q\":[0,0,0,1]}", "pose.p[0]: must be a number");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":[0,0,1]}", "pose.q: must have 4 numbers, not 3");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":[0,0,0,1,0]}", "pose.q: must have 4");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":[0,0,false,1]}", "pose.q[2]: must be a number");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":1}", "pose.q: must be an array");

    /* Unit quaternions: | |q| - 1 | <= 0.01. */
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":[1,1,1,0]}",
           "pose.q: not a unit quaternion (length 1.73");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":[0,0,0,0]}", "(length 0)");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":[0,0,0,1.02]}", "length 1.02");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":[0,0,0,0.98]}", "length 0.98");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":[0,0,0,1.0101]}", "not a unit quaternion");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":[0,0,0,1e300]}", "not a unit quaternion");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":[1e308,1e308,1e308,1e308]}",
           "not a unit quaternion");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":[1e39,0,0,0]}", "not a unit quaternion");
    BADREQ("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":[0,0,0,-2]}", "length 2");
    /* Near-unit ones are accepted and normalised. */
    static const char *near_unit[] = {
        "[0,0,0,1.005]",        "[0,0,0,0.995]",      "[0,0,0,-1.0099]",
        "[0.5,0.5,0.5,0.5004]", "[0.707,0,0,0.707]",  "[0,0.70710,0,0.70710]",
        "[0.0001,0,0,0.9999]",  "[0.1,0.2,0.3,0.93]", "[-0.27,0.65,-0.27,0.65]",
    };
    for (size_t i = 0; i < sizeof near_unit / sizeof near_unit[0]; i++) {
        if (!OK(fmt("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":%s}", near_unit[i])))
            continue;
        const float *q = msg.u.pose.q;
        double n = sqrt((double)q[0] * q[0] + (double)q[1] * q[1] + (double)q[2] * q[2] +
                        (double)q[3] * q[3]);
        CHECK_AT(__LINE__, near(n, 1.0, 1e-6), "%s: |q| = %.9f", near_unit[i], n);
    }
    if (OK("{\"type\":\"pose\",\"p\":[0,0,0],\"q\":[0,0,0,-1.005]}"))
        CHECK(near(msg.u.pose.q[3], -1.0, 1e-7)); /* the sign is kept */
}

/* ---- parsing: chat ---------------------------------------------------- */

static void test_chat(void)
{
    if (OK("{\"type\":\"chat\",\"text\":\"hello, room\"}")) {
        CHECK(msg.type == PROTO_CHAT);
        CHECK(strcmp(msg.u.chat.text, "hello, room") == 0);
    }
    if (OK("{\"type\":\"chat\",\"text\":\"line 1\\nline 2\\tend\"}"))
        CHECK(strcmp(msg.u.chat.text, "line 1\nline 2\tend") == 0);
    OK("{\"type\":\"chat\",\"text\":\"<script>alert(1)</script>\"}");
    OK("{\"type\":\"chat\",\"text\":\"\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd9\x85\xd8\xb1\xd8\xad\xd8"
       "\xa8\xd8\xa7 \xf0\x9f\x91\x8b\"}");
    if (OK(fmt("{\"type\":\"chat\",\"text\":\"%s\"}", rep("\xf0\x9f\x98\x80", 500))))
        CHECK(strlen(msg.u.chat.text) == 2000);
    BADREQ(fmt("{\"type\":\"chat\",\"text\":\"%s\"}", rep("\xf0\x9f\x98\x80", 501)),
           "chat.text: longer than 500 characters");
    OK(fmt("{\"type\":\"chat\",\"text\":\"%s\"}", rep("a", 500)));
    BADREQ(fmt("{\"type\":\"chat\",\"text\":\"%s\"}", rep("a", 501)), "longer than 500");
    OK(fmt("{\"type\":\"chat\",\"text\":\"x%s\"}", rep("\\n", 499)));
    BADREQ(fmt("{\"type\":\"chat\",\"text\":\"%s\"}", rep("\\n", 499)), "only whitespace");
    BADREQ("{\"type\":\"chat\"}", "chat.text: missing");
    BADREQ("{\"type\":\"chat\",\"text\":\"\"}", "chat.text: empty");
    BADREQ("{\"type\":\"chat\",\"text\":\" \\n\\t \"}", "chat.text: only whitespace");
    BADREQ("{\"type\":\"chat\",\"text\":\"a\\rb\"}", "chat.text: control character U+000D");
    BADREQ("{\"type\":\"chat\",\"text\":\"a\\u001bb\"}", "U+001B");
    BADREQ("{\"type\":\"chat\",\"text\":\"a\\u0080\"}", "U+0080");
    BADREQ("{\"type\":\"chat\",\"text\":\"a\\b\"}", "U+0008");
    BADREQ("{\"type\":\"chat\",\"text\":5}", "chat.text: must be a string");
    BADREQ("{\"type\":\"chat\",\"text\":[\"a\"]}", "chat.text: must be a string");
}

/* ---- UTF-8 ------------------------------------------------------------ */

static void test_utf8(void)
{
    CHECK(proto_utf8_valid("", 0));
    CHECK(proto_utf8_valid("abc", 3));
    CHECK(proto_utf8_valid("\xc2\x80", 2));
    CHECK(proto_utf8_valid("\xdf\xbf", 2));
    CHECK(proto_utf8_valid("\xe0\xa0\x80", 3));
    CHECK(proto_utf8_valid("\xed\x9f\xbf", 3));     /* U+D7FF */
    CHECK(proto_utf8_valid("\xee\x80\x80", 3));     /* U+E000 */
    CHECK(proto_utf8_valid("\xef\xbf\xbf", 3));     /* U+FFFF */
    CHECK(proto_utf8_valid("\xf0\x90\x80\x80", 4)); /* U+10000 */
    CHECK(proto_utf8_valid("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
    CHECK(proto_utf8_valid("a\0b", 3));             /* NUL is valid UTF-8 */
    CHECK(!proto_utf8_valid("\x80", 1));
    CHECK(!proto_utf8_valid("\xbf", 1));
    CHECK(!proto_utf8_valid("\xc0\x80", 2)); /* overlong NUL */
    CHECK(!proto_utf8_valid("\xc1\xbf", 2));
    CHECK(!proto_utf8_valid("\xe0\x80\x80", 3));
    CHECK(!proto_utf8_valid("\xe0\x9f\xbf", 3));
    CHECK(!proto_utf8_valid("\xed\xa0\x80", 3)); /* U+D800 */
    CHECK(!proto_utf8_valid("\xed\xbf\xbf", 3)); /* U+DFFF */
    CHECK(!proto_utf8_valid("\xf0\x80\x80\x80", 4));
    CHECK(!proto_utf8_valid("\xf0\x8f\xbf\xbf", 4));
    CHECK(!proto_utf8_valid("\xf4\x90\x80\x80", 4)); /* U+110000 */
    CHECK(!proto_utf8_valid("\xf5\x80\x80\x80", 4));
    CHECK(!proto_utf8_valid("\xff", 1));
    CHECK(!proto_utf8_valid("\xe2\x82", 2)); /* truncated */
    CHECK(!proto_utf8_valid("\xe2\x82\xac", 2));
    CHECK(proto_utf8_valid("\xe2\x82\xac", 3));
    CHECK(!proto_utf8_valid("\xe2\x28\xa1", 3));
    CHECK(!proto_utf8_valid("\xe2\x82\x28", 3));     /* bad third byte */
    CHECK(!proto_utf8_valid("\xf0\x9f\x98\x28", 4)); /* bad fourth byte */
    CHECK(!proto_utf8_valid("\xf0\x9f\x98", 3));
    CHECK(!proto_utf8_valid("a\xc3", 2));
}

/* ---- encoders --------------------------------------------------------- */

static struct proto_buf buf;

/* Parse what the last encoder wrote; it must be exactly one JSON object. */
static json_t *load_at(int line)
{
    json_error_t je;
    json_t *j = json_loadb(buf.data, buf.len, JSON_REJECT_DUPLICATES, &je);
    CHECK_AT(line, j && json_is_object(j), "encoder wrote invalid JSON (%s): %.*s", je.text,
             (int)buf.len, buf.data);
    CHECK_AT(line, proto_utf8_valid(buf.data, buf.len), "encoder wrote invalid UTF-8");
    CHECK_AT(line, buf.data[buf.len] == '\0', "buffer not NUL-terminated");
    return j;
}
#define LOAD() load_at(__LINE__)

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "(not a string)";
}

static bool jvec_near(json_t *a, const float *v, size_t n, double eps)
{
    if (!json_is_array(a) || json_array_size(a) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(a, i);
        if (!json_is_real(e) || !near(json_real_value(e), v[i], eps))
            return false;
    }
    return true;
}

static const float P1[3] = {1.0f, 2.5f, -3.25f}, Q1[4] = {0, 0, 0, 1};
static const float P2[3] = {-0.0004f, 0.0f, 12.3456f};
static const float Q2[4] = {0.0f, 0.7071068f, 0.0f, 0.7071068f};

/* Names that must survive escaping byte for byte. */
static const char *const tricky[] = {
    "plain",
    "with \"quotes\" and \\backslashes\\",
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(1)</script>",
    ("\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 \xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84\xd9"
     "\x85"),                                                             /* Arabic */
    "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd7\xa2\xd7\x95\xd7\x9c\xd7\x9d",  /* Hebrew */
    "\xe2\x80\xaeRTL override",                                           /* U+202E */
    "\xf0\x9f\x8e\x89\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb emoji", /* ZWJ sequence */
    "ctl \x01\x08\x0c\n\r\t\x1f\x7f end",
    "\xe2\x80\xa8 line separators \xe2\x80\xa9",
    "slash / and '",
    "",
};

/* A poses frame in a proto_buf, from the pieces the server splices. */
static int poses_open(struct proto_buf *b, long long tick)
{
    char head[PROTO_POSES_HEAD_MAX];
    size_t n = proto_poses_head(head, sizeof(head), tick, -1);
    return proto_buf_append(b, head, n);
}

/* The longest heads fit PROTO_POSES_HEAD_MAX; a tiered one names its near tier. */
static void test_poses_heads(void)
{
    static const char tiered[] =
        "{\"type\":\"poses\",\"tick\":9223372036854775807,\"near\":65535,\"users\":[";
    static const char plain[] = "{\"type\":\"poses\",\"tick\":-9223372036854775807,\"users\":[";
    char head[PROTO_POSES_HEAD_MAX];
    size_t n = proto_poses_head(head, sizeof(head), 9223372036854775807LL, 65535);
    CHECK(n == strlen(tiered) && memcmp(head, tiered, n) == 0);
    n = proto_poses_head(head, sizeof(head), -9223372036854775807LL, -1);
    CHECK(n == strlen(plain) && memcmp(head, plain, n) == 0);
}

static int poses_close(struct proto_buf *b)
{
    return proto_buf_append(b, PROTO_POSES_TAIL, strlen(PROTO_POSES_TAIL));
}

static void test_encode_exact(void)
{
    struct proto_id re_int = {PROTO_ID_INT, 7, ""};
    struct proto_id re_none = {PROTO_ID_NONE, 0, ""};

    proto_buf_reset(&buf);
    CHECK(proto_encode_error(&buf, "bad_request", "x", &re_int) == 0);
    CHECK(strcmp(buf.data, "{\"type\":\"error\",\"code\":\"bad_request\",\"message\":\"x\","
                           "\"re\":7}") == 0);
    proto_buf_reset(&buf);
    CHECK(proto_encode_error(&buf, "not_found", "m", &re_none) == 0);
    CHECK(strcmp(buf.data, "{\"type\":\"error\",\"code\":\"not_found\",\"message\":\"m\"}") == 0);
    proto_buf_reset(&buf);
    CHECK(proto_encode_error(&buf, "not_found", "m", NULL) == 0);
    CHECK(strcmp(buf.data, "{\"type\":\"error\",\"code\":\"not_found\",\"message\":\"m\"}") == 0);

    proto_buf_reset(&buf);
    CHECK(proto_encode_pose_entry(&buf, "u1", P1, Q1) == 0);
    CHECK(strcmp(buf.data, "{\"id\":\"u1\",\"p\":[1.000,2.500,-3.250],"
                           "\"q\":[0.00000,0.00000,0.00000,1.00000]}") == 0);
    CHECK(buf.len == strlen(buf.data));

    /* Negative zero, before and after rounding, is written as 0. */
    {
        const float p[3] = {-0.0f, -0.0004f, -0.0005f};
        const float q[4] = {-0.0f, -0.000004f, 0.000004f, -1.0f};
        proto_buf_reset(&buf);
        CHECK(proto_encode_pose_entry(&buf, "z", p, q) == 0);
        CHECK(strcmp(buf.data, "{\"id\":\"z\",\"p\":[0.000,0.000,-0.001],"
                               "\"q\":[0.00000,0.00000,0.00000,-1.00000]}") == 0);
        if (strstr(buf.data, "-0.000,") || strstr(buf.data, "-0.00000,"))
            printf("  got %s\n", buf.data);
    }
    /* Out-of-contract magnitudes are clamped so the size stays bounded. */
    {
        const float p[3] = {3e38f, -1e6f, 100000.0f};
        const float q[4] = {2.0f, -1.5f, 0, 0};
        proto_buf_reset(&buf);
        CHECK(proto_encode_pose_entry(&buf, "c", p, q) == 0);
        CHECK(strcmp(buf.data, "{\"id\":\"c\",\"p\":[100000.000,-100000.000,100000.000],"
                               "\"q\":[1.00000,-1.00000,0.00000,0.00000]}") == 0);
    }
    /* Ids are escaped even in the hand-written entry. */
    proto_buf_reset(&buf);
    CHECK(proto_encode_pose_entry(&buf, "a\"b\\c", P1, Q1) == 0);
    CHECK(strncmp(buf.data, "{\"id\":\"a\\\"b\\\\c\",", 15) == 0);

    proto_buf_reset(&buf);
    CHECK(poses_open(&buf, 42) == 0);
    CHECK(proto_encode_pose_entry(&buf, "a", P1, Q1) == 0);
    CHECK(proto_buf_append(&buf, ",", 1) == 0);
    CHECK(proto_encode_pose_entry(&buf, "b", P1, Q1) == 0);
    CHECK(poses_close(&buf) == 0);
    CHECK(strncmp(buf.data, "{\"type\":\"poses\",\"tick\":42,\"users\":[{\"id\":\"a\",", 44) == 0);
    CHECK(buf.len > 2 && strcmp(buf.data + buf.len - 2, "]}") == 0);

    proto_buf_reset(&buf);
    CHECK(poses_open(&buf, 7) == 0);
    CHECK(poses_close(&buf) == 0);
    CHECK(strcmp(buf.data, "{\"type\":\"poses\",\"tick\":7,\"users\":[]}") == 0);

    proto_buf_reset(&buf);
    CHECK(proto_encode_left(&buf, "lobby", &re_int) == 0);
    CHECK(strcmp(buf.data, "{\"type\":\"left\",\"room\":\"lobby\",\"re\":7}") == 0);
    proto_buf_reset(&buf);
    CHECK(proto_encode_scene(&buf, "expo", "/api/scenes/expo") == 0);
    CHECK(strcmp(buf.data,
                 "{\"type\":\"scene\",\"room\":\"expo\",\"scene\":\"/api/scenes/expo\"}") == 0);
    proto_buf_reset(&buf);
    CHECK(proto_encode_pose_fix(&buf, P1, Q1, "clamped") == 0);
    CHECK(strcmp(buf.data, "{\"type\":\"pose\",\"p\":[1.000,2.500,-3.250],"
                           "\"q\":[0.00000,0.00000,0.00000,1.00000],\"reason\":\"clamped\"}") == 0);
    proto_buf_reset(&buf);
    {
        const struct proto_chat_line lines[2] = {
            {7, "u1", "Ada", "hi", 1700000000123LL, "guest"},
            {9, "u2", "Bo", "yo", 1700000000124LL, "moderator"}};
        CHECK(proto_encode_chat(&buf, "lobby", &lines[0]) == 0);
        CHECK(strcmp(buf.data,
                     "{\"type\":\"chat\",\"room\":\"lobby\",\"msg\":7,\"from\":{"
                     "\"id\":\"u1\",\"name\":\"Ada\",\"role\":\"guest\"},\"text\":\"hi\",\"ts\":"
                     "1700000000123}") == 0);
        proto_buf_reset(&buf);
        CHECK(proto_encode_chat_history(&buf, "lobby", lines, 2) == 0);
        CHECK(strcmp(buf.data,
                     "{\"type\":\"chat_history\",\"room\":\"lobby\",\"lines\":["
                     "{\"msg\":7,\"from\":{\"id\":\"u1\",\"name\":\"Ada\",\"role\":\"guest\"},"
                     "\"text\":\"hi\",\"ts\":1700000000123},{\"msg\":9,\"from\":{\"id\":"
                     "\"u2\",\"name\":\"Bo\",\"role\":\"moderator\"},\"text\":\"yo\",\"ts\":"
                     "1700000000124}]}") == 0);
        proto_buf_reset(&buf);
        CHECK(proto_encode_chat_history(&buf, "lobby", lines, 0) == 0);
        CHECK(strcmp(buf.data, "{\"type\":\"chat_history\",\"room\":\"lobby\",\"lines\":[]}") == 0);
        proto_buf_reset(&buf);
        CHECK(proto_encode_chat_deleted(&buf, "lobby", 7) == 0);
        CHECK(strcmp(buf.data, "{\"type\":\"chat_deleted\",\"room\":\"lobby\",\"msg\":7}") == 0);
    }
    /* A breakout as its moderators see it: listed people within the count; its end. */
    {
        const struct proto_person ppl[2] = {{"u1", "Ada"}, {"u2", "B\"o"}};
        const struct proto_person by = {"u9", "Mo"};
        const struct proto_breakout_room rooms[2] = {{"breakout-1", ppl, 2, 3},
                                                     {"breakout-3", NULL, 0, 0}};
        proto_buf_reset(&buf);
        CHECK(proto_encode_breakout_view(&buf, "expo", &by, 1700000600000LL, 10, rooms, 2) == 0);
        CHECK(strcmp(buf.data,
                     "{\"type\":\"breakout_view\",\"active\":true,\"from\":\"expo\","
                     "\"by\":{\"id\":\"u9\",\"name\":\"Mo\"},\"ends\":1700000600000,\"minutes\":10,"
                     "\"rooms\":[{\"id\":\"breakout-1\",\"count\":3,\"people\":[{\"id\":\"u1\","
                     "\"name\":\"Ada\"},{\"id\":\"u2\",\"name\":\"B\\\"o\"}]},"
                     "{\"id\":\"breakout-3\",\"count\":0,\"people\":[]}]}") == 0);
        proto_buf_reset(&buf);
        CHECK(proto_encode_breakout_view_end(&buf, "expo") == 0);
        CHECK(strcmp(buf.data, "{\"type\":\"breakout_view\",\"active\":false,\"from\":\"expo\"}") ==
              0);
    }

    /* Control characters use the short escapes where JSON has them. */
    proto_buf_reset(&buf);
    CHECK(proto_encode_scene(&buf, "\x01\b\f\n\r\t\x1f\x7f\"\\/", "") == 0);
    CHECK(strcmp(buf.data, "{\"type\":\"scene\",\"room\":\"\\u0001\\b\\f\\n\\r\\t\\u001f\\u007f"
                           "\\\"\\\\/\",\"scene\":\"\"}") == 0);
    /* Bytes that are not UTF-8 become U+FFFD: the frame stays valid text. */
    proto_buf_reset(&buf);
    CHECK(proto_encode_scene(&buf,
                             "a\xff"
                             "b\xc3",
                             "\xed\xa0\x80") == 0);
    CHECK(strcmp(buf.data, "{\"type\":\"scene\",\"room\":\"a\\ufffdb\\ufffd\","
                           "\"scene\":\"\\ufffd\\ufffd\\ufffd\"}") == 0);
    json_decref(LOAD());
}

static void test_encode_roundtrip(void)
{
    struct proto_id re_str = {PROTO_ID_STR, 0, "req \"1\""};
    struct proto_id re_int = {PROTO_ID_INT, -99, ""};
    json_t *j, *u;

    for (size_t t = 0; t < sizeof tricky / sizeof tricky[0]; t++) {
        const char *name = tricky[t];
        struct proto_user user = {.id = "u-1",
                                  .name = name,
                                  .role = "guest",
                                  .status = "active",
                                  .hand = true,
                                  .p = P2,
                                  .q = Q2};
        struct proto_user roster[2] = {
            {.id = "u-0",
             .name = "Other",
             .role = "guest",
             .status = "away",
             .hand = false,
             .p = P1,
             .q = Q1},
            user,
        };
        struct proto_room_info rooms[2] = {{"lobby", name, 3, 0}, {"plenary", "Plenary", 0, 200}};

        /* welcome */
        proto_buf_reset(&buf);
        CHECK(proto_encode_welcome(&buf, "s-1", "r3sume", &user, rooms, 2, 20, false, &re_str) ==
              0);
        j = LOAD();
        CHECK(strcmp(jstr(j, "type"), "welcome") == 0);
        CHECK(strcmp(jstr(j, "session"), "s-1") == 0);
        CHECK(strcmp(jstr(j, "resume"), "r3sume") == 0);
        u = json_object_get(j, "user");
        CHECK(strcmp(jstr(u, "id"), "u-1") == 0);
        CHECK_AT(__LINE__, strcmp(jstr(u, "name"), name) == 0, "name %zu", t);
        CHECK(strcmp(jstr(u, "role"), "guest") == 0);
        CHECK(json_object_size(u) == 3);
        CHECK(json_array_size(json_object_get(j, "rooms")) == 2);
        {
            json_t *r0 = json_array_get(json_object_get(j, "rooms"), 0);
            json_t *r1 = json_array_get(json_object_get(j, "rooms"), 1);
            CHECK(strcmp(jstr(r0, "id"), "lobby") == 0 && strcmp(jstr(r0, "name"), name) == 0);
            CHECK(json_integer_value(json_object_get(r0, "count")) == 3);
            CHECK(json_integer_value(json_object_get(r0, "capacity")) == 0);
            CHECK(json_integer_value(json_object_get(r1, "capacity")) == 200);
            CHECK(json_object_size(r0) == 4);
        }
        CHECK(json_integer_value(json_object_get(j, "tick_hz")) == 20);
        CHECK(strcmp(jstr(j, "poses"), "json") == 0);
        CHECK(strcmp(jstr(j, "re"), "req \"1\"") == 0);
        CHECK(json_object_size(j) == 8);
        json_decref(j);

        /* joined */
        proto_buf_reset(&buf);
        CHECK(proto_encode_joined(&buf, "lobby", name, "/api/scenes/lobby", roster, 2, &re_int) ==
              0);
        j = LOAD();
        CHECK(strcmp(jstr(j, "type"), "joined") == 0);
        u = json_object_get(j, "room");
        CHECK(strcmp(jstr(u, "id"), "lobby") == 0 && strcmp(jstr(u, "name"), name) == 0);
        CHECK(strcmp(jstr(u, "scene"), "/api/scenes/lobby") == 0);
        CHECK(json_integer_value(json_object_get(j, "re")) == -99);
        {
            json_t *ro = json_object_get(j, "roster");
            json_t *a = json_array_get(ro, 0), *b = json_array_get(ro, 1);
            CHECK(json_array_size(ro) == 2);
            CHECK(strcmp(jstr(a, "id"), "u-0") == 0 && strcmp(jstr(a, "status"), "away") == 0);
            CHECK(json_is_false(json_object_get(a, "hand")));
            CHECK(jvec_near(json_object_get(a, "p"), P1, 3, 5e-4));
            CHECK(jvec_near(json_object_get(a, "q"), Q1, 4, 5e-6));
            CHECK(strcmp(jstr(b, "name"), name) == 0 && strcmp(jstr(b, "role"), "guest") == 0);
            CHECK(strcmp(jstr(b, "status"), "active") == 0);
            CHECK(json_is_true(json_object_get(b, "hand")));
            CHECK(jvec_near(json_object_get(b, "p"), P2, 3, 5e-4));
            CHECK(jvec_near(json_object_get(b, "q"), Q2, 4, 5e-6));
            CHECK(json_object_size(b) == 7);
        }
        json_decref(j);

        /* presence */
        proto_buf_reset(&buf);
        CHECK(proto_encode_presence(&buf, "lobby", "update", &user) == 0);
        j = LOAD();
        CHECK(strcmp(jstr(j, "type"), "presence") == 0 && strcmp(jstr(j, "room"), "lobby") == 0);
        CHECK(strcmp(jstr(j, "event"), "update") == 0);
        u = json_object_get(j, "user");
        CHECK(strcmp(jstr(u, "name"), name) == 0 && json_object_size(u) == 7);
        CHECK(json_object_size(j) == 4);
        json_decref(j);

        /* chat, with the tricky string as name and text */
        proto_buf_reset(&buf);
        {
            const struct proto_chat_line l = {1, "u-1", name, name, 1700000000123LL, "guest"};
            CHECK(proto_encode_chat(&buf, "lobby", &l) == 0);
        }
        j = LOAD();
        u = json_object_get(j, "from");
        CHECK(strcmp(jstr(u, "id"), "u-1") == 0 && strcmp(jstr(u, "name"), name) == 0);
        CHECK(strcmp(jstr(j, "text"), name) == 0);
        CHECK(json_integer_value(json_object_get(j, "ts")) == 1700000000123LL);
        CHECK(json_object_size(j) == 6);
        json_decref(j);

        /* error and the rest */
        proto_buf_reset(&buf);
        CHECK(proto_encode_error(&buf, "bad_request", name, &re_str) == 0);
        j = LOAD();
        CHECK(strcmp(jstr(j, "message"), name) == 0 && strcmp(jstr(j, "re"), "req \"1\"") == 0);
        json_decref(j);

        proto_buf_reset(&buf);
        CHECK(poses_open(&buf, 123456789012LL) == 0);
        CHECK(proto_encode_pose_entry(&buf, name, P2, Q2) == 0);
        CHECK(poses_close(&buf) == 0);
        j = LOAD();
        CHECK(json_integer_value(json_object_get(j, "tick")) == 123456789012LL);
        u = json_array_get(json_object_get(j, "users"), 0);
        CHECK(strcmp(jstr(u, "id"), name) == 0);
        CHECK(jvec_near(json_object_get(u, "p"), P2, 3, 5e-4));
        CHECK(jvec_near(json_object_get(u, "q"), Q2, 4, 5e-6));
        json_decref(j);
    }

    /* No "re" when there is none; left, pose fix, scene round trip. */
    proto_buf_reset(&buf);
    CHECK(proto_encode_joined(&buf, "lobby", "Lobby", "/api/scenes/lobby", NULL, 0, NULL) == 0);
    j = LOAD();
    CHECK(json_object_get(j, "re") == NULL && json_array_size(json_object_get(j, "roster")) == 0);
    json_decref(j);
    {
        struct proto_user user = {.id = "u",
                                  .name = "n",
                                  .role = "guest",
                                  .status = "active",
                                  .hand = false,
                                  .p = P1,
                                  .q = Q1};
        proto_buf_reset(&buf);
        CHECK(proto_encode_welcome(&buf, "s", "r", &user, NULL, 0, 30, true, NULL) == 0);
        j = LOAD();
        CHECK(json_object_get(j, "re") == NULL);
        CHECK(strcmp(jstr(j, "poses"), "binary") == 0);
        CHECK(json_array_size(json_object_get(j, "rooms")) == 0);
        json_decref(j);
    }
    proto_buf_reset(&buf);
    CHECK(proto_encode_left(&buf, "breakout-1", NULL) == 0);
    j = LOAD();
    CHECK(strcmp(jstr(j, "room"), "breakout-1") == 0 && json_object_size(j) == 2);
    json_decref(j);
    proto_buf_reset(&buf);
    CHECK(proto_encode_pose_fix(&buf, P2, Q2, "too_fast") == 0);
    j = LOAD();
    CHECK(strcmp(jstr(j, "reason"), "too_fast") == 0);
    CHECK(jvec_near(json_object_get(j, "p"), P2, 3, 5e-4));
    json_decref(j);

    /* The id a client sent comes back as the same JSON value. */
    {
        const char *ids[] = {
            "\"x\\\"y\"", "0", "-12", "9223372036854775807", "\"\\u00e9\\ud83d\\ude00\"",
            "\"a\\\\b\""};
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
            char in[128];
            snprintf(in, sizeof in, "{\"type\":\"leave\",\"id\":%s}", ids[i]);
            if (!OK(in))
                continue;
            proto_buf_reset(&buf);
            CHECK(proto_encode_left(&buf, "lobby", &msg.id) == 0);
            j = LOAD();
            json_t *want = json_loads(ids[i], JSON_DECODE_ANY, NULL);
            CHECK_AT(__LINE__, json_equal(json_object_get(j, "re"), want), "id %s", ids[i]);
            json_decref(want);
            json_decref(j);
        }
    }
    /* A parse error's message is always encodable, even with odd input. */
    {
        const char *inputs[] = {"{\"type\":\"\xe2\x82\xac\xe2\x82\xac\"}", "{\"a\":\x01}",
                                "{\"type\":\"" /* unterminated */, "\xef\xbb\xbf{}"};
        for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
            CHECK(proto_parse(inputs[i], strlen(inputs[i]), &msg, &err) == -1);
            proto_buf_reset(&buf);
            CHECK(proto_encode_error(&buf, err.code, err.message, &err.re) == 0);
            j = LOAD();
            CHECK(strcmp(jstr(j, "message"), err.message) == 0);
            json_decref(j);
        }
    }
}

/* ---- buffers ---------------------------------------------------------- */

static void encode_frame(struct proto_buf *b, int n)
{
    poses_open(b, 1);
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "user-%d", i);
        if (i)
            proto_buf_append(b, ",", 1);
        proto_encode_pose_entry(b, id, P2, Q2);
    }
    poses_close(b);
}

static void test_buffers(void)
{
    struct proto_buf b = {0};
    char *data;
    size_t cap, len;

    /* Append and printf grow the buffer and keep it NUL-terminated. */
    CHECK(proto_buf_append(&b, "", 0) == 0);
    CHECK(b.len == 0 && b.data && b.data[0] == '\0');
    CHECK(proto_buf_printf(&b, "%d-%s", 12, "ab") == 0);
    CHECK(b.len == 5 && strcmp(b.data, "12-ab") == 0);
    CHECK(proto_buf_printf(&b, "%s", rep("x", 5000)) == 0);
    CHECK(b.len == 5005 && strlen(b.data) == 5005 && b.cap > 5005);
    CHECK(proto_buf_printf(&b, "%s", "") == 0);
    CHECK(b.len == 5005);
    proto_buf_reset(&b);
    CHECK(b.len == 0 && b.data[0] == '\0');
    proto_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    proto_buf_free(&b); /* twice is harmless */

    /* Encoders append: two messages in a row sit side by side. */
    CHECK(proto_encode_left(&b, "a", NULL) == 0);
    len = b.len;
    CHECK(proto_encode_left(&b, "b", NULL) == 0);
    CHECK(b.len == 2 * len && memcmp(b.data + len, "{\"type\":\"left\",\"room\":\"b\"}", len) == 0);
    proto_buf_free(&b);

    /* Once big enough, a reused buffer never moves or grows. */
    encode_frame(&b, 200);
    json_error_t je;
    json_t *j = json_loadb(b.data, b.len, 0, &je);
    CHECK(j && json_array_size(json_object_get(j, "users")) == 200);
    json_decref(j);
    data = b.data;
    cap = b.cap;
    len = b.len;
    for (int round = 0; round < 50; round++) {
        proto_buf_reset(&b);
        encode_frame(&b, 200 - round);
        CHECK_AT(__LINE__, b.data == data && b.cap == cap, "round %d moved the buffer", round);
    }
    proto_buf_reset(&b);
    encode_frame(&b, 200);
    CHECK(b.len == len && b.data == data && b.cap == cap);
    proto_buf_free(&b);
}

#ifdef PROTO_TEST_OOM
/* One encoder call on b, by number, so each can be driven to fail. */
static int encode_nth(struct proto_buf *b, int which, const char *s)
{
    static const struct proto_id re = {PROTO_ID_STR, 0, "r"};
    struct proto_user u = {.id = "u-1",
                           .name = s,
                           .role = "guest",
                           .status = "active",
                           .hand = true,
                           .p = P1,
                           .q = Q1};
    struct proto_user roster[3] = {u, u, u};
    struct proto_room_info rooms[2] = {{"lobby", s, 1, 2}, {"expo", s, 3, 4}};

    switch (which) {
    case 0:
        return proto_encode_welcome(b, "s", "r", &u, rooms, 2, 20, false, &re);
    case 1:
        return proto_encode_joined(b, "lobby", s, "/api/scenes/lobby", roster, 3, &re);
    case 2:
        return proto_encode_presence(b, "lobby", "join", &u);
    case 3:
        return proto_encode_chat(b, "lobby", &(struct proto_chat_line){1, "u-1", s, s, 1, "guest"});
    case 4:
        return proto_encode_error(b, "bad_request", s, &re);
    case 5:
        return proto_encode_left(b, s, &re);
    case 6:
        return proto_encode_pose_fix(b, P1, Q1, s);
    case 7:
        return proto_encode_scene(b, s, s);
    case 8:
        return poses_open(b, 99);
    case 9:
        return proto_encode_pose_entry(b, s, P1, Q1);
    case 10:
        return poses_close(b);
    case 11:
        return proto_buf_printf(b, "%s", s);
    case 12:
        return proto_buf_append(b, s, strlen(s));
    default:
        return -2;
    }
}

/* The static helpers are visible here, since proto.c is included. */
static void test_internals(void)
{
    char m[32];

    strcpy(m, "ok \xe4\xb8\xad \xe4\xb8"); /* a message cut inside a character */
    utf8_sanitize(m);
    CHECK(strcmp(m, "ok \xe4\xb8\xad ??") == 0);
    strcpy(m, "\xff\x80"
              "a\xc3\xa9");
    utf8_sanitize(m);
    CHECK(strcmp(m, "??a\xc3\xa9") == 0);
    CHECK(utf8_clip("a\xc3\xa9\xc3\xa9", 5, 2) == 1);
    CHECK(utf8_clip("a\xc3\xa9\xc3\xa9", 5, 3) == 3);
    CHECK(utf8_clip("abc", 3, 10) == 3);
}

/*
 * Make the k-th allocation fail for k = 0, 1, ... until the call succeeds:
 * every failure must return -1 and leave the buffer's content as it was.
 */
static void test_oom(void)
{
    /* Long enough that each encoder needs to grow the buffer, maybe twice. */
    const char *s = rep("\"x\xf0\x9f\x98\x80", 120);

    for (int which = 0; encode_nth(&buf, which, "") != -2; which++) {
        for (long k = 0;; k++) {
            struct proto_buf b = {0};
            CHECK(proto_buf_append(&b, "prefix", 6) == 0); /* cap 256 */
            oom_countdown = k;
            int rc = encode_nth(&b, which, s);
            oom_countdown = -1;
            if (rc == 0) {
                CHECK_AT(__LINE__, b.len > 6 && memcmp(b.data, "prefix", 6) == 0, "encoder %d",
                         which);
                proto_buf_free(&b);
                break;
            }
            CHECK_AT(__LINE__, rc == -1 && b.len == 6 && strcmp(b.data, "prefix") == 0,
                     "encoder %d, failure %ld: rc %d, len %zu", which, k, rc, b.len);
            proto_buf_free(&b);
            if (k > 10) {
                CHECK_AT(__LINE__, 0, "encoder %d never succeeds", which);
                break;
            }
        }
    }
}
#endif

/* The twin message: every kind of value, units, times, escaping. */
static void test_encode_twin(void)
{
    static const struct proto_twin_attr attrs[] = {
        {"no2", PROTO_TWIN_NUMBER, 41.3, NULL, "GQ", 1778576400000LL},
        {"airQualityLevel", PROTO_TWIN_STRING, 0, "mod\"erate", "", 0},
        {"reliable", PROTO_TWIN_BOOL, 1, NULL, "", 0},
        {"location", PROTO_TWIN_JSON, 0, "{\"type\":\"Point\",\"coordinates\":[4.85,45.76]}", "",
         0},
        {"gone", PROTO_TWIN_NULL, 0, NULL, "", 0},
    };
    json_t *j, *a;
    proto_buf_reset(&buf);
    CHECK(proto_encode_twin(&buf, "urn:ngsi-ld:AirQualityObserved:x", "AirQualityObserved", attrs,
                            5) == 0);
    j = LOAD();
    CHECK(strcmp(jstr(j, "type"), "twin") == 0 &&
          strcmp(jstr(j, "entity"), "urn:ngsi-ld:AirQualityObserved:x") == 0 &&
          strcmp(jstr(j, "etype"), "AirQualityObserved") == 0);
    a = json_object_get(j, "attrs");
    CHECK(json_object_size(a) == 5);
    CHECK(json_real_value(json_object_get(json_object_get(a, "no2"), "value")) == 41.3);
    CHECK(strcmp(jstr(json_object_get(a, "no2"), "unit"), "GQ") == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(a, "no2"), "observedAt")) ==
          1778576400000LL);
    CHECK(strstr(buf.data, "\"value\":41.3,") != NULL); /* short, not 41.299999... */
    CHECK(strcmp(jstr(json_object_get(a, "airQualityLevel"), "value"), "mod\"erate") == 0);
    CHECK(json_is_null(json_object_get(json_object_get(a, "airQualityLevel"), "observedAt")));
    CHECK(json_is_true(json_object_get(json_object_get(a, "reliable"), "value")));
    CHECK(json_real_value(json_array_get(
              json_object_get(json_object_get(json_object_get(a, "location"), "value"),
                              "coordinates"),
              1)) == 45.76);
    CHECK(json_is_null(json_object_get(json_object_get(a, "gone"), "value")));
    json_decref(j);
    proto_buf_reset(&buf);
    CHECK(proto_encode_twin(&buf, "urn:x:y", "T", NULL, 0) == 0);
    CHECK(strcmp(buf.data,
                 "{\"type\":\"twin\",\"entity\":\"urn:x:y\",\"etype\":\"T\",\"attrs\":{}}") == 0);
}

int main(void)
{
    test_poses_heads();
    test_envelope();
    test_ids();
    test_hello();
    test_join_status_hand();
    test_pose();
    test_chat();
    test_utf8();
    test_encode_exact();
    test_encode_roundtrip();
    test_encode_twin();
    test_buffers();
#ifdef PROTO_TEST_OOM
    test_internals();
    test_oom();
#endif
    proto_buf_free(&buf);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
