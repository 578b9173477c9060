/*
 * fuzz_proto.c - libFuzzer target for the protocol module.
 *
 * Every input goes through proto_parse. Whatever the outcome, the encoders
 * must then produce valid JSON in valid UTF-8 that says the same thing:
 * a refusal is encoded as an error frame (its message quotes client input),
 * an accepted message is re-encoded the way the server would (hello ->
 * welcome, pose -> pose entry, chat -> chat, ids -> re) and read back with
 * jansson. The raw input is also escaped as a chat text, since encoders
 * must survive any bytes a caller hands them. A mismatch aborts.
 *
 * Built with clang -fsanitize=fuzzer (see README.md) or, under gcc, with
 * replay_main.c, which runs the stored inputs through it as a CTest test.
 */
#include "proto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_REQUIRE(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_proto: %s:%d: %s\n", __FILE__, __LINE__, #cond);                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The buffer is reused across inputs, as the server reuses its own. */
static struct proto_buf buf;

static json_t *reload(void)
{
    json_error_t je;
    json_t *j;

    FUZZ_REQUIRE(proto_utf8_valid(buf.data, buf.len));
    j = json_loadb(buf.data, buf.len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        fprintf(stderr, "fuzz_proto: encoder wrote invalid JSON: %s: %.*s\n", je.text, (int)buf.len,
                buf.data);
    FUZZ_REQUIRE(j && json_is_object(j));
    return j;
}

static void check_str(json_t *obj, const char *key, const char *want)
{
    const char *got = json_string_value(json_object_get(obj, key));
    FUZZ_REQUIRE(got && strcmp(got, want) == 0);
}

static void check_re(json_t *obj, const struct proto_id *id)
{
    json_t *re = json_object_get(obj, "re");
    if (id->kind == PROTO_ID_NONE)
        FUZZ_REQUIRE(re == NULL);
    else if (id->kind == PROTO_ID_INT)
        FUZZ_REQUIRE(json_is_integer(re) && json_integer_value(re) == id->num);
    else
        check_str(obj, "re", id->str);
}

static void check_vec(json_t *a, const float *v, size_t n, double eps)
{
    FUZZ_REQUIRE(json_is_array(a) && json_array_size(a) == n);
    for (size_t i = 0; i < n; i++)
        FUZZ_REQUIRE(fabs(json_number_value(json_array_get(a, i)) - v[i]) <= eps);
}

/* A poses frame in a proto_buf, from the pieces the server splices. */
static int poses_open(struct proto_buf *b, long long tick)
{
    char head[PROTO_POSES_HEAD_MAX];
    size_t n = proto_poses_head(head, sizeof(head), tick, -1);
    return proto_buf_append(b, head, n);
}

static int poses_close(struct proto_buf *b)
{
    return proto_buf_append(b, PROTO_POSES_TAIL, strlen(PROTO_POSES_TAIL));
}

static void reencode(const struct proto_msg *m)
{
    static const float p0[3] = {0, 0, 0}, q0[4] = {0, 0, 0, 1};
    json_t *j;

    proto_buf_reset(&buf);
    switch (m->type) {
    case PROTO_HELLO: {
        struct proto_user u = {.id = "u-1",
                               .name = m->u.hello.name,
                               .role = "guest",
                               .status = "active",
                               .p = p0,
                               .q = q0};
        struct proto_room_info r = {"lobby", m->u.hello.name, 1, 10};
        FUZZ_REQUIRE(proto_encode_welcome(&buf, "s", m->u.hello.resume, &u, &r, 1, 20,
                                          m->u.hello.poses_binary, &m->id) == 0);
        j = reload();
        check_str(json_object_get(j, "user"), "name", m->u.hello.name);
        check_str(j, "resume", m->u.hello.resume);
        check_re(j, &m->id);
        json_decref(j);
        proto_buf_reset(&buf);
        FUZZ_REQUIRE(proto_encode_presence(&buf, "lobby", "join", &u) == 0);
        j = reload();
        check_str(json_object_get(j, "user"), "name", m->u.hello.name);
        json_decref(j);
        break;
    }
    case PROTO_JOIN:
        FUZZ_REQUIRE(proto_encode_left(&buf, m->u.join.room, &m->id) == 0);
        j = reload();
        check_str(j, "room", m->u.join.room);
        check_re(j, &m->id);
        json_decref(j);
        break;
    case PROTO_POSE: {
        const float *p = m->u.pose.p, *q = m->u.pose.q;
        for (int i = 0; i < 3; i++)
            FUZZ_REQUIRE(isfinite(p[i]) && fabsf(p[i]) <= PROTO_POS_LIMIT);
        double n = sqrt((double)q[0] * q[0] + (double)q[1] * q[1] + (double)q[2] * q[2] +
                        (double)q[3] * q[3]);
        FUZZ_REQUIRE(fabs(n - 1.0) < 1e-5);
        FUZZ_REQUIRE(poses_open(&buf, 1) == 0);
        FUZZ_REQUIRE(
            proto_encode_pose_entry(&buf, m->id.kind == PROTO_ID_STR ? m->id.str : "u", p, q) == 0);
        FUZZ_REQUIRE(poses_close(&buf) == 0);
        j = reload();
        json_t *e = json_array_get(json_object_get(j, "users"), 0);
        check_vec(json_object_get(e, "p"), p, 3, 5.01e-4);
        check_vec(json_object_get(e, "q"), q, 4, 5.01e-6);
        json_decref(j);
        proto_buf_reset(&buf);
        FUZZ_REQUIRE(proto_encode_pose_fix(&buf, p, q, "clamped") == 0);
        json_decref(reload());
        break;
    }
    case PROTO_CHAT:
        FUZZ_REQUIRE(proto_encode_chat(&buf, "lobby",
                                       &(struct proto_chat_line){1, "u-1", "n", m->u.chat.text, 1,
                                                                 "guest"}) == 0);
        j = reload();
        check_str(j, "text", m->u.chat.text);
        json_decref(j);
        break;
    case PROTO_MOD:
        /* What the server says back to a moderator, and to the room. */
        FUZZ_REQUIRE(proto_encode_mod_ok(&buf, m->u.mod.action, &m->id) == 0);
        j = reload();
        check_re(j, &m->id);
        json_decref(j);
        proto_buf_reset(&buf);
        FUZZ_REQUIRE(proto_encode_announce(&buf, "u-1", "n", m->u.mod.text,
                                           m->u.mod.room[0] ? m->u.mod.room : NULL, 1) == 0);
        j = reload();
        check_str(j, "text", m->u.mod.text);
        json_decref(j);
        proto_buf_reset(&buf);
        FUZZ_REQUIRE(proto_encode_kicked(&buf, m->u.mod.reason, NULL) == 0);
        j = reload();
        check_str(j, "reason", m->u.mod.reason);
        json_decref(j);
        break;
    case PROTO_CAPTION:
    case PROTO_ASK: {
        /* A line goes back out as a caption and as a question. */
        struct proto_question q = {
            .id = 1, .from_id = "u-1", .from_name = "n", .text = m->u.line.text, .voted = -1};
        FUZZ_REQUIRE(proto_encode_caption(&buf, "s", "lobby", "u-1", "n", m->u.line.text, 1) == 0);
        j = reload();
        check_str(j, "text", m->u.line.text);
        json_decref(j);
        proto_buf_reset(&buf);
        FUZZ_REQUIRE(proto_encode_question(&buf, "s", "lobby", &q) == 0);
        j = reload();
        check_str(json_object_get(j, "question"), "text", m->u.line.text);
        json_decref(j);
        break;
    }
    case PROTO_STAR: {
        const char *ids[1] = {m->u.star.session};
        FUZZ_REQUIRE(proto_encode_stars(&buf, ids, 1, &m->id) == 0);
        j = reload();
        FUZZ_REQUIRE(strcmp(json_string_value(json_array_get(json_object_get(j, "sessions"), 0)),
                            m->u.star.session) == 0);
        check_re(j, &m->id);
        json_decref(j);
        break;
    }
    case PROTO_SLIDE:
        FUZZ_REQUIRE(m->u.slide.page >= 1 && m->u.slide.page <= PROTO_PAGES_MAX);
        FUZZ_REQUIRE(proto_encode_slides(&buf, "s", "lobby", m->u.slide.page, m->u.slide.page, 1) ==
                     0);
        j = reload();
        FUZZ_REQUIRE(json_integer_value(json_object_get(j, "page")) == m->u.slide.page);
        json_decref(j);
        break;
    case PROTO_VOTE:
        FUZZ_REQUIRE(m->u.vote.question >= 1);
        break;
    case PROTO_FIND: {
        /* the query is echoed as it came, beside a person of that name */
        struct proto_found f = {"u-1", m->u.find.q, "attendee", "lobby", m->u.find.q};
        FUZZ_REQUIRE(proto_encode_found(&buf, m->u.find.q, &f, 1, false, &m->id) == 0);
        j = reload();
        check_str(j, "q", m->u.find.q);
        check_str(json_array_get(json_object_get(j, "people"), 0), "name", m->u.find.q);
        check_re(j, &m->id);
        json_decref(j);
        break;
    }
    case PROTO_PRIVACY:
        FUZZ_REQUIRE(proto_encode_privacy(&buf, m->u.privacy.findable, m->u.privacy.dms, &m->id) ==
                     0);
        j = reload();
        FUZZ_REQUIRE(json_is_true(json_object_get(j, "findable")) == m->u.privacy.findable);
        check_re(j, &m->id);
        json_decref(j);
        break;
    case PROTO_DM: {
        /* the text goes out to both ends as it came */
        struct proto_dm d = {"u-1", "A", m->u.dm.to, "B", m->u.dm.text, 1};
        FUZZ_REQUIRE(proto_encode_dm(&buf, &d, &m->id) == 0);
        j = reload();
        check_str(j, "text", m->u.dm.text);
        check_str(json_object_get(j, "to"), "id", m->u.dm.to);
        check_re(j, &m->id);
        json_decref(j);
        break;
    }
    case PROTO_REPORT: {
        struct proto_report r = {.from_id = "u-1",
                                 .from_name = "A",
                                 .about_id = m->u.about.user,
                                 .about_name = "B",
                                 .reason = m->u.about.reason,
                                 .nmessages = 1};
        r.messages[0].text = m->u.about.reason;
        FUZZ_REQUIRE(proto_encode_report(&buf, &r) == 0);
        j = reload();
        check_str(j, "reason", m->u.about.reason);
        json_decref(j);
        break;
    }
    case PROTO_BLOCK: {
        const char *ids[1] = {m->u.about.user};
        FUZZ_REQUIRE(proto_encode_blocks(&buf, ids, 1, &m->id) == 0);
        j = reload();
        FUZZ_REQUIRE(strcmp(json_string_value(json_array_get(json_object_get(j, "users"), 0)),
                            m->u.about.user) == 0);
        json_decref(j);
        break;
    }
    case PROTO_REACT: {
        unsigned counts[PROTO_REACT_COUNT] = {0};
        unsigned long long total[PROTO_REACT_COUNT] = {0};
        struct proto_reactor by = {"u-1", m->u.react.kind};
        counts[m->u.react.kind] = 1;
        FUZZ_REQUIRE(proto_encode_reactions(&buf, "lobby", counts, total, &by, 1, 0) == 0);
        j = reload();
        check_str(json_array_get(json_object_get(j, "by"), 0), "kind",
                  proto_reaction_name(m->u.react.kind));
        json_decref(j);
        break;
    }
    case PROTO_TYPE_COUNT:
        FUZZ_REQUIRE(0);
        break;
    case PROTO_LEAVE:
    case PROTO_STATUS:
    case PROTO_HAND:
        FUZZ_REQUIRE(proto_encode_left(&buf, "lobby", &m->id) == 0);
        j = reload();
        check_re(j, &m->id);
        json_decref(j);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct proto_msg m;
    struct proto_error e;
    json_t *j;

    if (proto_parse((const char *)data, size, &m, &e) == 0) {
        reencode(&m);
        proto_msg_free(&m);
    } else {
        FUZZ_REQUIRE(e.code && e.message[0]);
        FUZZ_REQUIRE(strcmp(e.code, "bad_request") == 0 || strcmp(e.code, "unknown_type") == 0);
        proto_buf_reset(&buf);
        FUZZ_REQUIRE(proto_encode_error(&buf, e.code, e.message, &e.re) == 0);
        j = reload();
        check_str(j, "message", e.message);
        check_re(j, &e.re);
        json_decref(j);
    }

    /* Any bytes at all, as a caller-supplied string (up to the first NUL). */
    char *s = malloc(size + 1);
    FUZZ_REQUIRE(s);
    memcpy(s, data, size);
    s[size] = '\0';
    proto_buf_reset(&buf);
    FUZZ_REQUIRE(
        proto_encode_chat(&buf, "lobby", &(struct proto_chat_line){1, s, s, s, -1, "guest"}) == 0);
    j = reload();
    if (proto_utf8_valid(s, strlen(s)))
        check_str(j, "text", s);
    json_decref(j);
    free(s);
    return 0;
}
