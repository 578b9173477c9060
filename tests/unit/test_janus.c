/*
 * test_janus.c - venued's Janus client without a network: the parsing of
 * Janus' messages (good ones, missing fields, wrong types, error replies,
 * the events a watching participant hears), the verdict on a reply for each kind of request (the
 * wrong transaction is the client's table lookup: a reply is matched only by its own string,
 * checked here by what the parser keeps), room numbers, and secrets.env.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "janus.h"

static int parse(const char *s, struct janus_reply *r)
{
    char err[256];
    return janus_parse(s, strlen(s), r, err, sizeof(err));
}

static int verdict(const char *s, enum janus_op op, uint64_t room)
{
    struct janus_reply r;
    char err[256];
    if (parse(s, &r) < 0)
        return -2;
    return janus_verdict(&r, op, room, err, sizeof(err));
}

static void test_parse(void)
{
    struct janus_reply r;

    CHECK(parse("{\"janus\":\"success\",\"transaction\":\"v1\",\"data\":{\"id\":42}}", &r) == 0);
    CHECK(r.msg == JANUS_MSG_SUCCESS && strcmp(r.txn, "v1") == 0 && r.data_id == 42);
    CHECK(parse("{\"janus\":\"ack\",\"session_id\":7,\"transaction\":\"v2\"}", &r) == 0);
    CHECK(r.msg == JANUS_MSG_ACK && r.session == 7);
    CHECK(parse("{\"janus\":\"timeout\",\"session_id\":7}", &r) == 0);
    CHECK(r.msg == JANUS_MSG_TIMEOUT && r.txn[0] == '\0');
    CHECK(parse("{\"janus\":\"webrtcup\",\"session_id\":7,\"sender\":9}", &r) == 0);
    CHECK(r.msg == JANUS_MSG_OTHER && r.sender == 9);
    CHECK(parse("{\"janus\":\"error\",\"transaction\":\"v3\",\"error\":{\"code\":403,"
                "\"reason\":\"Unauthorized \\\"x\\\"\\n\"}}",
                &r) == 0);
    CHECK(r.msg == JANUS_MSG_ERROR && r.error_code == 403);
    /* Quotes and control characters never reach a log or /healthz. */
    CHECK(strchr(r.error, '"') == NULL && strchr(r.error, '\n') == NULL);
    CHECK(parse("{\"janus\":\"success\",\"transaction\":\"v4\",\"sender\":5,\"plugindata\":{"
                "\"plugin\":\"janus.plugin.videoroom\",\"data\":{\"videoroom\":\"created\","
                "\"room\":99,\"permanent\":false}}}",
                &r) == 0);
    CHECK(strcmp(r.plugin, "janus.plugin.videoroom") == 0 && strcmp(r.result, "created") == 0);
    CHECK(r.room == 99 && r.error_code == 0);

    /* Not Janus messages. */
    CHECK(parse("", &r) < 0);
    CHECK(parse("not json", &r) < 0);
    CHECK(parse("[1,2]", &r) < 0);
    CHECK(parse("{}", &r) < 0);
    CHECK(parse("{\"janus\":1}", &r) < 0);
    CHECK(parse("{\"janus\":\"success\",\"janus\":\"error\"}", &r) < 0); /* duplicate key */
    /* Wrong types. */
    CHECK(parse("{\"janus\":\"success\",\"transaction\":5}", &r) < 0);
    CHECK(parse("{\"janus\":\"success\",\"transaction\":\"v1\",\"data\":{\"id\":\"42\"}}", &r) < 0);
    CHECK(parse("{\"janus\":\"success\",\"transaction\":\"v1\",\"data\":{\"id\":-1}}", &r) < 0);
    CHECK(parse("{\"janus\":\"success\",\"transaction\":\"v1\",\"data\":{\"id\":1.5}}", &r) < 0);
    CHECK(parse("{\"janus\":\"success\",\"transaction\":\"v1\",\"data\":[]}", &r) < 0);
    CHECK(parse("{\"janus\":\"ack\",\"session_id\":\"7\"}", &r) < 0);
    CHECK(parse("{\"janus\":\"error\",\"transaction\":\"v1\"}", &r) < 0);
    CHECK(parse("{\"janus\":\"error\",\"error\":{\"code\":\"403\"}}", &r) < 0);
    CHECK(parse("{\"janus\":\"error\",\"error\":\"bad\"}", &r) < 0);
    CHECK(parse("{\"janus\":\"success\",\"plugindata\":{\"plugin\":\"p\"}}", &r) < 0);
    CHECK(parse("{\"janus\":\"success\",\"plugindata\":{\"plugin\":7,\"data\":{}}}", &r) < 0);
    CHECK(parse("{\"janus\":\"success\",\"plugindata\":{\"plugin\":\"p\",\"data\":{\"room\":"
                "\"1\"}}}",
                &r) < 0);
    CHECK(parse("{\"janus\":\"success\",\"plugindata\":{\"plugin\":\"p\",\"data\":{"
                "\"videoroom\":[]}}}",
                &r) < 0);
    CHECK(parse("{\"janus\":\"success\",\"plugindata\":{\"plugin\":\"p\",\"data\":{"
                "\"error_code\":\"x\"}}}",
                &r) < 0);
    /* A transaction longer than any of ours cannot match one. */
    CHECK(parse("{\"janus\":\"ack\",\"transaction\":\"0123456789012345678901234567890123\"}", &r) <
          0);
}

/* What a watching participant hears: publishers, their going, talking. */
static void test_events(void)
{
    struct janus_reply r;
#define EV(data)                                                                                   \
    "{\"janus\":\"event\",\"session_id\":7,\"sender\":9,\"plugindata\":{\"plugin\":"               \
    "\"janus.plugin.videoroom\",\"data\":" data "}}"

    CHECK(parse(EV("{\"videoroom\":\"event\",\"room\":5,\"publishers\":[{\"id\":11,"
                   "\"display\":\"u\",\"streams\":[{\"type\":\"audio\",\"mid\":\"0\"}]},"
                   "{\"id\":12}]}"),
                &r) == 0);
    CHECK(r.sender == 9 && r.room == 5 && r.npublishers == 2);
    CHECK(r.publishers[0] == 11 && r.publishers[1] == 12 && r.gone == 0);
    CHECK(parse(EV("{\"videoroom\":\"event\",\"room\":5,\"unpublished\":11}"), &r) == 0);
    CHECK(r.gone == 11 && r.npublishers == 0);
    CHECK(parse(EV("{\"videoroom\":\"event\",\"room\":5,\"leaving\":12}"), &r) == 0);
    CHECK(r.gone == 12);
    /* One's own unpublish and leave say "ok". */
    CHECK(parse(EV("{\"videoroom\":\"event\",\"room\":5,\"leaving\":\"ok\"}"), &r) == 0);
    CHECK(r.gone == 0);
    CHECK(parse(EV("{\"videoroom\":\"talking\",\"room\":5,\"id\":11,\"mid\":\"0\"}"), &r) == 0);
    CHECK(strcmp(r.result, "talking") == 0 && r.id == 11);
    CHECK(parse(EV("{\"videoroom\":\"joined\",\"room\":5,\"id\":1,\"publishers\":[]}"), &r) == 0);
    CHECK(strcmp(r.result, "joined") == 0 && r.id == 1 && r.npublishers == 0);
    /* Wrong types anywhere in them. */
    CHECK(parse(EV("{\"videoroom\":\"event\",\"publishers\":{}}"), &r) < 0);
    CHECK(parse(EV("{\"videoroom\":\"event\",\"publishers\":[7]}"), &r) < 0);
    CHECK(parse(EV("{\"videoroom\":\"event\",\"publishers\":[{\"id\":\"7\"}]}"), &r) < 0);
    CHECK(parse(EV("{\"videoroom\":\"event\",\"publishers\":[{}]}"), &r) < 0);
    CHECK(parse(EV("{\"videoroom\":\"event\",\"unpublished\":-3}"), &r) < 0);
    CHECK(parse(EV("{\"videoroom\":\"talking\",\"id\":[1]}"), &r) < 0);
    /* More publishers than one event is read for: the first ones. */
    {
        char big[16384];
        size_t n = (size_t)snprintf(big, sizeof(big), "%s", EV("{\"videoroom\":\"event\","));
        n -= 2; /* back over the closing braces */
        n += (size_t)snprintf(big + n, sizeof(big) - n, "\"publishers\":[");
        for (int i = 0; i < JANUS_EVENT_IDS + 20; i++)
            n += (size_t)snprintf(big + n, sizeof(big) - n, "%s{\"id\":%d}", i ? "," : "", i + 2);
        snprintf(big + n, sizeof(big) - n, "]}}}");
        CHECK(parse(big, &r) == 0);
        CHECK(r.npublishers == JANUS_EVENT_IDS && r.publishers[0] == 2);
    }
#undef EV
}

static void test_verdict(void)
{
    const char *vr = "janus.plugin.videoroom", *ab = "janus.plugin.audiobridge";
    char buf[512];

    CHECK(verdict("{\"janus\":\"success\",\"transaction\":\"v1\",\"data\":{\"id\":42}}",
                  JANUS_OP_CREATE, 0) == 1);
    /* Missing data.id. */
    CHECK(verdict("{\"janus\":\"success\",\"transaction\":\"v1\"}", JANUS_OP_CREATE, 0) == -1);
    CHECK(verdict("{\"janus\":\"success\",\"transaction\":\"v1\",\"data\":{}}", JANUS_OP_ATTACH,
                  0) == -1);
    CHECK(verdict("{\"janus\":\"error\",\"transaction\":\"v1\",\"error\":{\"code\":403,"
                  "\"reason\":\"no\"}}",
                  JANUS_OP_CREATE, 0) == -1);
    CHECK(verdict("{\"janus\":\"ack\",\"transaction\":\"v1\"}", JANUS_OP_KEEPALIVE, 0) == 1);
    CHECK(verdict("{\"janus\":\"success\",\"transaction\":\"v1\"}", JANUS_OP_KEEPALIVE, 0) == -1);
    /* An ack of a plugin request: the answer is still to come. */
    CHECK(verdict("{\"janus\":\"ack\",\"transaction\":\"v1\"}", JANUS_OP_PLUGIN, 5) == 0);
    CHECK(verdict("{\"janus\":\"ack\",\"transaction\":\"v1\"}", JANUS_OP_JOIN, 5) == 0);
    CHECK(verdict("{\"janus\":\"success\",\"transaction\":\"v1\"}", JANUS_OP_ADMIN, 0) == 1);
    CHECK(verdict("{\"janus\":\"error\",\"transaction\":\"v1\",\"error\":{\"code\":1,"
                  "\"reason\":\"x\"}}",
                  JANUS_OP_ADMIN, 0) == -1);

#define PD(plugin, data)                                                                           \
    (snprintf(buf, sizeof(buf),                                                                    \
              "{\"janus\":\"success\",\"transaction\":\"v1\",\"plugindata\":{\"plugin\":\"%s\","   \
              "\"data\":%s}}",                                                                     \
              plugin, data),                                                                       \
     buf)
    CHECK(verdict(PD(vr, "{\"videoroom\":\"created\",\"room\":5}"), JANUS_OP_ROOM, 5) == 1);
    /* Another room, another plugin, no room, not "created". */
    CHECK(verdict(PD(vr, "{\"videoroom\":\"created\",\"room\":6}"), JANUS_OP_ROOM, 5) == -1);
    CHECK(verdict(PD(ab, "{\"audiobridge\":\"created\",\"room\":5}"), JANUS_OP_ROOM, 5) == -1);
    CHECK(verdict(PD(vr, "{\"videoroom\":\"created\"}"), JANUS_OP_ROOM, 5) == -1);
    CHECK(verdict(PD(vr, "{\"videoroom\":\"success\",\"room\":5}"), JANUS_OP_ROOM, 5) == -1);
    /* A room that exists already is ours (derived number and secret). */
    CHECK(verdict(PD(vr, "{\"videoroom\":\"event\",\"error_code\":427,\"error\":\"exists\"}"),
                  JANUS_OP_ROOM, 5) == 1);
    /* Other plugin errors: the admin key refused, say. */
    CHECK(verdict(PD(vr, "{\"videoroom\":\"event\",\"error_code\":433,\"error\":\"Unauthorized\"}"),
                  JANUS_OP_ROOM, 5) == -1);
    /* The watching join: "joined" in its own room. */
    CHECK(verdict(PD(vr, "{\"videoroom\":\"joined\",\"room\":5,\"id\":1}"), JANUS_OP_JOIN, 5) == 1);
    CHECK(verdict(PD(vr, "{\"videoroom\":\"joined\",\"room\":6,\"id\":1}"), JANUS_OP_JOIN, 5) ==
          -1);
    CHECK(verdict(PD(vr, "{\"videoroom\":\"event\",\"error_code\":433,\"error\":\"Unauthorized "
                         "(not in the allowed list)\"}"),
                  JANUS_OP_JOIN, 5) == -1);
    CHECK(verdict(PD(vr, "{\"videoroom\":\"success\",\"room\":5,\"allowed\":[]}"), JANUS_OP_PLUGIN,
                  5) == 1);
    CHECK(verdict(PD(vr, "{\"videoroom\":\"success\"}"), JANUS_OP_PLUGIN, 5) == 1);
    CHECK(verdict(PD(vr, "{\"videoroom\":\"success\",\"room\":7}"), JANUS_OP_PLUGIN, 5) == -1);
    /* Kicking somebody who has gone already is no failure; moderating them is. */
    CHECK(verdict(PD(vr, "{\"videoroom\":\"event\",\"error_code\":428,\"error\":\"No such "
                         "user\"}"),
                  JANUS_OP_KICK, 5) == 1);
    CHECK(verdict(PD(vr, "{\"videoroom\":\"event\",\"error_code\":428,\"error\":\"No such "
                         "user\"}"),
                  JANUS_OP_PLUGIN, 5) == -1);
    CHECK(verdict(PD(vr, "{\"videoroom\":\"success\"}"), JANUS_OP_KICK, 5) == 1);
    CHECK(verdict(PD(ab, "{\"audiobridge\":\"success\"}"), JANUS_OP_PLUGIN, 5) == -1);
    CHECK(verdict("{\"janus\":\"success\",\"transaction\":\"v1\"}", JANUS_OP_PLUGIN, 5) == -1);
}

static void test_room_numbers(void)
{
    uint64_t a = janus_room_number("plenary"), b = janus_room_number("breakout-1");
    CHECK(a != 0 && b != 0 && a != b);
    CHECK(a == janus_room_number("plenary")); /* stable */
    CHECK(a < (1ULL << 53) && b < (1ULL << 53));
    CHECK(janus_room_number("") != 0);
}

static char dir[64];

static const char *write_file(const char *name, const char *text, mode_t mode)
{
    static char path[128];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f)
        return path;
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
    return path;
}

static void test_secrets(void)
{
    struct janus_secrets s;
    char err[512];
    const char *good = "JANUS_API_SECRET=aa\nJANUS_ADMIN_SECRET=bb\nJANUS_ROOM_KEY=cc\n"
                       "JANUS_WS_URL=ws://127.0.0.1:8188\nJANUS_ADMIN_URL=ws://127.0.0.1:7188\n";
    const char *p;

    CHECK(mkdtemp(strcpy(dir, "/tmp/test-janus-XXXXXX")) != NULL);
    p = write_file("good.env", good, 0600);
    CHECK(janus_read_secrets(p, &s, err, sizeof(err)) == 0);
    CHECK(strcmp(s.api, "aa") == 0 && strcmp(s.admin, "bb") == 0 && strcmp(s.room_key, "cc") == 0);
    CHECK(strcmp(s.admin_url, "ws://127.0.0.1:7188") == 0);
    p = write_file("open.env", good, 0644);
    CHECK(janus_read_secrets(p, &s, err, sizeof(err)) < 0 && strstr(err, "chmod 600"));
    CHECK(s.api[0] == '\0');
    p = write_file("short.env", "JANUS_API_SECRET=aa\n", 0600);
    CHECK(janus_read_secrets(p, &s, err, sizeof(err)) < 0 && strstr(err, "JANUS_ROOM_KEY"));
    p = write_file("bad.env", "JANUS_API_SECRET=a a\nJANUS_ADMIN_SECRET=b\nJANUS_ROOM_KEY=c\n",
                   0600);
    CHECK(janus_read_secrets(p, &s, err, sizeof(err)) < 0);
    p = write_file("noeq.env", "JANUS_API_SECRET\n", 0600);
    CHECK(janus_read_secrets(p, &s, err, sizeof(err)) < 0 && strstr(err, "KEY=VALUE"));
    CHECK(janus_read_secrets("/nonexistent/secrets.env", &s, err, sizeof(err)) < 0);
    for (const char *n = "good.env\0open.env\0short.env\0bad.env\0noeq.env\0"; *n;
         n += strlen(n) + 1) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", dir, n);
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    test_parse();
    test_events();
    test_verdict();
    test_room_numbers();
    test_secrets();
    return check_report();
}
