/*
 * janus.c - venued's Janus client (see janus.h for what and why).
 *
 * The link: two lws client connections, the API (subprotocol
 * janus-protocol) and, when given, the admin API (janus-admin-protocol),
 * brought up and torn down together. Up means: the connections are open,
 * then `create` gives the session, an `attach` the handle requests go
 * through, one `create` per venue room the rooms, and per room an `attach`
 * and a `join` venued's watching participant; then the remembered tokens
 * and `allowed` entries go back in, and the state is READY. Anything failing on
 * the way (a closed socket, an error reply, a transaction timing out, the
 * session's `timeout` event) takes the whole link down; a retry comes after
 * a backoff of 0.5 s doubling to 10 s, reset once READY.
 *
 * Requests: every one has a transaction id ("v" and a counter) and the API
 * or admin secret, and takes a place in a fixed table until its reply, or
 * its JANUS_TIMEOUT_MS, comes. The table is also the send queue: each place
 * holds its message until it is written, oldest first, one lws_write per
 * WRITEABLE. A full table refuses new requests.
 *
 * Janus is a peer: every message is parsed into a struct janus_reply with
 * every field's type checked, and a reply counts only if its transaction is
 * one of ours and its content is what that request expects.
 */
#include "janus.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "scene.h"
#include "secret.h"
#include "server.h"
#include "text.h"
#include "ws_url.h"

#define BACKOFF_MIN_MS   500
#define BACKOFF_MAX_MS   10000
#define SWEEP_MS         250    /* how often pending transactions are looked at */
#define DOWN_LOG_MS      300000 /* "still no voice" at most this often */
#define ROOM_SECRET_HEX  32
#define PLUGIN_VR        "janus.plugin.videoroom"
#define VOICE_PUBLISHERS 100 /* VideoRoom publishers at most (the plugin's own cap is per room) */

enum conn_id { CONN_API, CONN_ADMIN, CONN_N };

struct janus_conn {
    struct janus *j; /* the way back from lws' opaque user data */
    struct lws *wsi; /* NULL when not connected; never kept after CLOSED */
    bool open;       /* the handshake is done */
    char url[JANUS_URL_MAX + 1];
    struct ws_url where;
    const char *subprotocol; /* static */
    char *rx;                /* a message being reassembled; owned, JANUS_RX_MAX + 1 */
    size_t rx_len;
};

/* One transaction in flight. used == false: a free place. */
struct pending {
    bool used;
    bool sent;
    enum conn_id conn;
    enum janus_op op;
    uint64_t room; /* the room asked about (ATTACH: whose watcher; 0: the control handle) */
    char txn[JANUS_TXN_MAX + 1];
    unsigned long long seq; /* send order */
    long long deadline_ms;
    char *msg; /* LWS_PRE headroom, then the JSON; owned until written */
    size_t len;
};

struct voice_room {
    char venue_id[SCENE_ID_MAX + 1];
    uint64_t number;
    int publishers;
    char secret[ROOM_SECRET_HEX + 1];
    bool created;          /* in this link */
    uint64_t watch_handle; /* venued's watching participant's handle; 0: none yet */
    bool watching;         /* it has joined */
};

struct token {
    bool used;
    char token[JANUS_TOKEN_MAX + 1];
    uint64_t rooms; /* bit i: allowed in rooms[i] */
};

struct janus {
    struct lws_context *ctx;
    struct lws_vhost *vh;
    struct janus_secrets sec;
    struct janus_conn conns[CONN_N];
    bool has_admin;
    enum janus_state state;
    struct voice_status status; /* what the transport prints; reason lives here */
    struct janus_events ev;
    char watch_token[ROOM_SECRET_HEX + 1]; /* venued's own, in every room's allowed list */
    uint64_t session, handle;
    bool ever_ready;
    bool logged_down;      /* the "no voice" line was printed for this outage */
    long long down_log_ms; /* when it was */
    long long backoff_ms;
    unsigned long long txn_next, seq_next;
    struct voice_room rooms[JANUS_ROOMS_MAX];
    size_t nrooms;
    struct pending pend[JANUS_PENDING_MAX];
    struct token tokens[JANUS_TOKENS_MAX];
    lws_sorted_usec_list_t retry_sul, keepalive_sul, sweep_sul;
};

/* ---- Small helpers ------------------------------------------------------ */

/* Copy Janus' (or our own) text into dst as printable ASCII without quotes
 * or backslashes, so it may go into JSON and logs as it is. */
static bool token_ok(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (n == 0 || n > JANUS_TOKEN_MAX)
        return false;
    for (; *t; t++)
        if (*t <= ' ' || *t > '~' || *t == '"' || *t == '\\')
            return false;
    return true;
}

uint64_t janus_room_number(const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *id; id++) {
        h ^= (unsigned char)*id;
        h *= 1099511628211ULL;
    }
    h &= (1ULL << 53) - 1; /* a JavaScript number stays exact */
    return h ? h : 1;
}

/* ---- secrets.env ---------------------------------------------------------- */

static int set_secret(char *dst, size_t size, const char *val, const char *key, char *err,
                      size_t errlen)
{
    size_t n = strlen(val);
    if (n == 0 || n >= size) {
        snprintf(err, errlen, "%s: must be 1..%zu characters", key, size - 1);
        return -1;
    }
    for (const char *c = val; *c; c++) {
        if (*c <= ' ' || *c > '~' || *c == '"' || *c == '\\') {
            snprintf(err, errlen, "%s: printable characters without spaces or quotes only", key);
            return -1;
        }
    }
    memcpy(dst, val, n + 1);
    return 0;
}

int janus_read_secrets(const char *path, struct janus_secrets *out, char *err, size_t errlen)
{
    struct stat st;
    char line[512];
    int fd, lineno = 0, rc = 0;
    FILE *f;

    memset(out, 0, sizeof(*out));
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errlen, "--janus-secrets %s: %s", path, strerror(errno));
        return -1;
    }
    /* fstat on the open file: the mode checked is the one of what is read. */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "--janus-secrets %s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen,
                 "--janus-secrets %s: mode %03o lets other users read or change the Janus "
                 "secrets; chmod 600 it",
                 path, (unsigned)(st.st_mode & 0777));
        close(fd);
        return -1;
    }
    f = fdopen(fd, "r");
    if (!f) {
        snprintf(err, errlen, "--janus-secrets %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *eq, *val, what[600];
        size_t n = strlen(line);
        lineno++;
        if (n && line[n - 1] != '\n' && !feof(f)) {
            snprintf(err, errlen, "--janus-secrets %s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        eq = strchr(line, '=');
        if (!eq) {
            snprintf(err, errlen, "--janus-secrets %s:%d: not KEY=VALUE", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        val = eq + 1;
        snprintf(what, sizeof(what), "--janus-secrets %s:%d: %s", path, lineno, line);
        if (strcmp(line, "JANUS_API_SECRET") == 0)
            rc = set_secret(out->api, sizeof(out->api), val, what, err, errlen);
        else if (strcmp(line, "JANUS_ADMIN_SECRET") == 0)
            rc = set_secret(out->admin, sizeof(out->admin), val, what, err, errlen);
        else if (strcmp(line, "JANUS_ROOM_KEY") == 0)
            rc = set_secret(out->room_key, sizeof(out->room_key), val, what, err, errlen);
        else if (strcmp(line, "JANUS_WS_URL") == 0)
            rc = set_secret(out->ws_url, sizeof(out->ws_url), val, what, err, errlen);
        else if (strcmp(line, "JANUS_ADMIN_URL") == 0)
            rc = set_secret(out->admin_url, sizeof(out->admin_url), val, what, err, errlen);
        /* Other keys: ignored, so the script may add some. */
    }
    fclose(f);
    if (rc == 0 && (!out->api[0] || !out->admin[0] || !out->room_key[0])) {
        snprintf(err, errlen,
                 "--janus-secrets %s: needs JANUS_API_SECRET, JANUS_ADMIN_SECRET and "
                 "JANUS_ROOM_KEY",
                 path);
        rc = -1;
    }
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- Parsing Janus' messages ------------------------------------------------ */

/* An id: a positive JSON integer. 0 when absent; -1 when of another type. */
static int get_id(json_t *obj, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* A string into dst (cleaned); "" when absent; -1 when of another type or
 * longer than dst (Janus' own names are short). */
static int get_str(json_t *obj, const char *key, char *dst, size_t size, bool may_cut)
{
    json_t *v = json_object_get(obj, key);
    dst[0] = '\0';
    if (!v)
        return 0;
    if (!json_is_string(v))
        return -1;
    if (!may_cut && json_string_length(v) >= size)
        return -1;
    text_printable(dst, size, json_string_value(v));
    return 0;
}

/* An id that may also be the string "ok" (a participant's own unpublish
 * or leave): 0 then. */
static int get_id_or_ok(json_t *obj, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (v && json_is_string(v)) {
        *out = 0;
        return 0;
    }
    return get_id(obj, key, out);
}

/* The participants a VideoRoom event is about. */
static int get_event_ids(json_t *data, struct janus_reply *r)
{
    json_t *pubs = json_object_get(data, "publishers"), *p;
    size_t i;
    if (get_id(data, "id", &r->id) < 0 || get_id_or_ok(data, "unpublished", &r->gone) < 0 ||
        (!r->gone && get_id_or_ok(data, "leaving", &r->gone) < 0) ||
        (!r->gone && get_id_or_ok(data, "kicked", &r->gone) < 0))
        return -1;
    if (!pubs)
        return 0;
    if (!json_is_array(pubs))
        return -1;
    json_array_foreach(pubs, i, p)
    {
        uint64_t id;
        if (!json_is_object(p) || get_id(p, "id", &id) < 0 || id == 0)
            return -1;
        if (r->npublishers < JANUS_EVENT_IDS)
            r->publishers[r->npublishers++] = id;
    }
    return 0;
}

int janus_parse(const char *buf, size_t len, struct janus_reply *r, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root, *v;
    char kind[24];
    int rc = -1;

    memset(r, 0, sizeof(*r));
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "not JSON: %s", jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "not an object");
        goto out;
    }
    if (get_str(root, "janus", kind, sizeof(kind), false) < 0 || !kind[0]) {
        snprintf(err, errlen, "no \"janus\" string");
        goto out;
    }
    if (strcmp(kind, "success") == 0)
        r->msg = JANUS_MSG_SUCCESS;
    else if (strcmp(kind, "ack") == 0)
        r->msg = JANUS_MSG_ACK;
    else if (strcmp(kind, "error") == 0)
        r->msg = JANUS_MSG_ERROR;
    else if (strcmp(kind, "event") == 0)
        r->msg = JANUS_MSG_EVENT;
    else if (strcmp(kind, "timeout") == 0)
        r->msg = JANUS_MSG_TIMEOUT;
    else
        r->msg = JANUS_MSG_OTHER;
    if (get_str(root, "transaction", r->txn, sizeof(r->txn), false) < 0) {
        snprintf(err, errlen, "transaction: not a string of at most %d characters", JANUS_TXN_MAX);
        goto out;
    }
    if (get_id(root, "session_id", &r->session) < 0 || get_id(root, "sender", &r->sender) < 0) {
        snprintf(err, errlen, "session_id or sender: not a positive integer");
        goto out;
    }
    if ((v = json_object_get(root, "data"))) {
        if (!json_is_object(v) || get_id(v, "id", &r->data_id) < 0) {
            snprintf(err, errlen, "data: not an object with an integer id");
            goto out;
        }
    }
    if ((v = json_object_get(root, "error"))) {
        json_t *code = json_object_get(v, "code");
        if (!json_is_object(v) || !json_is_integer(code) ||
            get_str(v, "reason", r->error, sizeof(r->error), true) < 0) {
            snprintf(err, errlen, "error: not an object with an integer code");
            goto out;
        }
        r->error_code = (int)json_integer_value(code);
        if (r->error_code == 0)
            r->error_code = -1; /* an error is never "no error" */
    } else if (r->msg == JANUS_MSG_ERROR) {
        snprintf(err, errlen, "an error without \"error\"");
        goto out;
    }
    if ((v = json_object_get(root, "plugindata"))) {
        json_t *data = json_object_get(v, "data"), *code;
        if (!json_is_object(v) || get_str(v, "plugin", r->plugin, sizeof(r->plugin), false) < 0 ||
            !r->plugin[0] || !json_is_object(data)) {
            snprintf(err, errlen, "plugindata: not an object with a plugin and data");
            goto out;
        }
        if (get_str(data, "videoroom", r->result, sizeof(r->result), false) < 0 ||
            get_id(data, "room", &r->room) < 0 || get_event_ids(data, r) < 0) {
            snprintf(err, errlen, "plugindata.data: a field of the wrong type");
            goto out;
        }
        if ((code = json_object_get(data, "error_code"))) {
            if (!json_is_integer(code) ||
                get_str(data, "error", r->error, sizeof(r->error), true) < 0) {
                snprintf(err, errlen, "plugindata.data.error_code: not an integer");
                goto out;
            }
            r->error_code = (int)json_integer_value(code);
            if (r->error_code == 0)
                r->error_code = -1;
        }
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* VideoRoom's JANUS_VIDEOROOM_ERROR_ROOM_EXISTS and _NO_SUCH_FEED. */
#define VR_ROOM_EXISTS  427
#define VR_NO_SUCH_FEED 428

int janus_verdict(const struct janus_reply *r, enum janus_op op, uint64_t room, char *err,
                  size_t errlen)
{
    const char *plugin = PLUGIN_VR;

    if (r->msg == JANUS_MSG_ERROR) {
        snprintf(err, errlen, "Janus error %d: %s", r->error_code, r->error);
        return -1;
    }
    if (r->msg == JANUS_MSG_ACK && op != JANUS_OP_KEEPALIVE)
        return 0; /* the answer comes later */
    switch (op) {
    case JANUS_OP_KEEPALIVE:
        if (r->msg != JANUS_MSG_ACK) {
            snprintf(err, errlen, "keepalive: not acknowledged");
            return -1;
        }
        return 1;
    case JANUS_OP_CREATE:
    case JANUS_OP_ATTACH:
        if (r->msg != JANUS_MSG_SUCCESS || r->data_id == 0) {
            snprintf(err, errlen, "%s: no success with data.id",
                     op == JANUS_OP_CREATE ? "create" : "attach");
            return -1;
        }
        return 1;
    case JANUS_OP_ADMIN:
        if (r->msg != JANUS_MSG_SUCCESS) {
            snprintf(err, errlen, "admin request: no success");
            return -1;
        }
        return 1;
    case JANUS_OP_ROOM:
    case JANUS_OP_JOIN:
    case JANUS_OP_PLUGIN:
    case JANUS_OP_KICK:
        if (r->msg != JANUS_MSG_SUCCESS && r->msg != JANUS_MSG_EVENT) {
            snprintf(err, errlen, "plugin request: no success");
            return -1;
        }
        if (strcmp(r->plugin, plugin) != 0) {
            snprintf(err, errlen, "plugin request: answered by \"%s\", not %s", r->plugin, plugin);
            return -1;
        }
        if ((op == JANUS_OP_ROOM && r->error_code == VR_ROOM_EXISTS) ||
            (op == JANUS_OP_KICK && r->error_code == VR_NO_SUCH_FEED))
            return 1;
        if (r->error_code) {
            snprintf(err, errlen, "%s error %d: %s", plugin + 13, r->error_code, r->error);
            return -1;
        }
        if (op == JANUS_OP_ROOM) {
            if (strcmp(r->result, "created") != 0 || r->room != room) {
                snprintf(err, errlen, "create: not \"created\" for room %" PRIu64, room);
                return -1;
            }
            return 1;
        }
        if (op == JANUS_OP_JOIN) {
            if (strcmp(r->result, "joined") != 0 || r->room != room) {
                snprintf(err, errlen, "join: not \"joined\" for room %" PRIu64, room);
                return -1;
            }
            return 1;
        }
        if (strcmp(r->result, "success") != 0) {
            snprintf(err, errlen, "plugin request: \"%s\", not \"success\"", r->result);
            return -1;
        }
        if (r->room && r->room != room) {
            snprintf(err, errlen, "plugin request: answer about room %" PRIu64 ", not %" PRIu64,
                     r->room, room);
            return -1;
        }
        return 1;
    }
    snprintf(err, errlen, "unknown request");
    return -1;
}

/* ---- State ------------------------------------------------------------------- */

static const char *state_name(enum janus_state s)
{
    return s == JANUS_READY ? "ready" : s == JANUS_CONNECTING ? "connecting" : "down";
}

static void set_state(struct janus *j, enum janus_state s, const char *reason)
{
    j->state = s;
    j->status.state = state_name(s);
    j->status.up = s == JANUS_READY;
    text_printable(j->status.reason, sizeof(j->status.reason), s == JANUS_READY ? "" : reason);
}

static void link_down(struct janus *j, const char *why);
static void connect_link(lws_sorted_usec_list_t *sul);

/* ---- Requests ------------------------------------------------------------------ */

static void pending_free(struct pending *p)
{
    free(p->msg);
    memset(p, 0, sizeof(*p));
}

static struct janus_conn *conn_of(struct janus *j, enum conn_id c)
{
    return &j->conns[c];
}

/*
 * Queue a request: body is a JSON object (stolen) to which the transaction,
 * the secret and, on the API, the session (and handle when not 0) are
 * added. -1 when the link is down, the table is full or there is no memory.
 */
static int request(struct janus *j, enum conn_id c, enum janus_op op, uint64_t room,
                   uint64_t handle, json_t *body)
{
    struct janus_conn *conn = conn_of(j, c);
    struct pending *p = NULL;
    char *text;
    size_t n;

    if (!body)
        return -1;
    if (!conn->wsi || !conn->open) {
        json_decref(body);
        return -1;
    }
    for (size_t i = 0; i < JANUS_PENDING_MAX && !p; i++)
        if (!j->pend[i].used)
            p = &j->pend[i];
    if (!p) {
        json_decref(body);
        return -1;
    }
    snprintf(p->txn, sizeof(p->txn), "v%llu", ++j->txn_next);
    json_object_set_new(body, "transaction", json_string(p->txn));
    if (c == CONN_API) {
        json_object_set_new(body, "apisecret", json_string(j->sec.api));
        if (j->session && op != JANUS_OP_CREATE)
            json_object_set_new(body, "session_id", json_integer((json_int_t)j->session));
        if (handle)
            json_object_set_new(body, "handle_id", json_integer((json_int_t)handle));
    } else {
        json_object_set_new(body, "admin_secret", json_string(j->sec.admin));
    }
    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text)
        return -1;
    n = strlen(text);
    p->msg = malloc(LWS_PRE + n + 1);
    if (!p->msg) {
        free(text);
        memset(p, 0, sizeof(*p));
        return -1;
    }
    memcpy(p->msg + LWS_PRE, text, n + 1);
    free(text);
    p->used = true;
    p->len = n;
    p->conn = c;
    p->op = op;
    p->room = room;
    p->seq = ++j->seq_next;
    p->deadline_ms = clock_mono_ms() + JANUS_TIMEOUT_MS;
    lws_callback_on_writable(conn->wsi);
    return 0;
}

static int plugin_request(struct janus *j, enum janus_op op, const struct voice_room *vr,
                          json_t *body)
{
    if (!body)
        return -1;
    json_object_set_new(body, "room", json_integer((json_int_t)vr->number));
    json_object_set_new(body, "secret", json_string(vr->secret));
    return request(j, CONN_API, op, vr->number, j->handle,
                   json_pack("{s:s, s:o}", "janus", "message", "body", body));
}

static struct voice_room *room_by_number(struct janus *j, uint64_t number)
{
    for (size_t i = 0; i < j->nrooms; i++)
        if (j->rooms[i].number == number)
            return &j->rooms[i];
    return NULL;
}

static int send_room_create(struct janus *j, struct voice_room *vr)
{
    json_t *b = json_pack("{s:s, s:b, s:s, s:s, s:[s], s:b}", "request", "create", "permanent", 0,
                          "description", vr->venue_id, "admin_key", j->sec.room_key, "allowed",
                          j->watch_token, "audiolevel_event", 1);
    if (!b)
        return -1;
    /* Talking is judged over 40 packets (0.8 s): a ring that follows speech
     * without flickering; 25 dBov is Janus' own threshold. */
    json_object_set_new(b, "audio_active_packets", json_integer(40));
    json_object_set_new(b, "audio_level_average", json_integer(25));
    /* Audio-only publishers: no video codec is negotiated by our clients;
     * the cap bounds what one room may carry. */
    json_object_set_new(b, "publishers", json_integer(vr->publishers));
    json_object_set_new(b, "audiocodec", json_string("opus"));
    json_object_set_new(b, "notify_joining", json_false());
    return plugin_request(j, JANUS_OP_ROOM, vr, b);
}

/* The `allowed` entries of room i, in one request ("add" with every token
 * allowed there); nothing when there is none. */
static int send_allowed_all(struct janus *j, size_t i)
{
    json_t *list = json_array();
    for (size_t t = 0; t < JANUS_TOKENS_MAX; t++)
        if (j->tokens[t].used && (j->tokens[t].rooms & (1ULL << i)))
            json_array_append_new(list, json_string(j->tokens[t].token));
    if (!list || json_array_size(list) == 0) {
        json_decref(list);
        return 0;
    }
    return plugin_request(
        j, JANUS_OP_PLUGIN, &j->rooms[i],
        json_pack("{s:s, s:s, s:o}", "request", "allowed", "action", "add", "allowed", list));
}

static int send_token(struct janus *j, const char *token, bool add)
{
    if (!j->has_admin)
        return -1;
    return request(j, CONN_ADMIN, JANUS_OP_ADMIN, 0, 0,
                   json_pack("{s:s, s:s, s:[s]}", "janus", add ? "add_token" : "remove_token",
                             "token", token, "plugins", PLUGIN_VR));
}

/* Everything created: put the remembered tokens and allowed entries back. */
static void become_ready(struct janus *j)
{
    int refused = 0;
    for (size_t t = 0; t < JANUS_TOKENS_MAX; t++)
        if (j->tokens[t].used && j->has_admin && send_token(j, j->tokens[t].token, true) < 0)
            refused++;
    for (size_t i = 0; i < j->nrooms; i++)
        if (send_allowed_all(j, i) < 0)
            refused++;
    if (refused)
        fprintf(stderr, "venued: voice: %d token requests could not be queued after recreation\n",
                refused);
    if (j->ever_ready)
        j->status.reconnects++;
    j->ever_ready = true;
    j->backoff_ms = BACKOFF_MIN_MS;
    j->logged_down = false;
    set_state(j, JANUS_READY, "");
    fprintf(stderr, "venued: voice: Janus ready at %s (%zu voice rooms)\n", j->conns[CONN_API].url,
            j->nrooms);
    if (j->ev.state)
        j->ev.state(j->ev.ctx, true, "");
}

static void maybe_ready(struct janus *j)
{
    if (j->state != JANUS_CONNECTING || !j->session || !j->handle)
        return;
    for (size_t i = 0; i < j->nrooms; i++)
        if (!j->rooms[i].watching)
            return;
    become_ready(j);
}

/* The API connection and (when used) the admin one are open: start the
 * session. */
static void link_open(struct janus *j)
{
    if (!j->conns[CONN_API].open || (j->has_admin && !j->conns[CONN_ADMIN].open))
        return;
    if (request(j, CONN_API, JANUS_OP_CREATE, 0, 0, json_pack("{s:s}", "janus", "create")) < 0)
        link_down(j, "cannot queue the session's create");
}

static void keepalive(lws_sorted_usec_list_t *sul)
{
    struct janus *j = lws_container_of(sul, struct janus, keepalive_sul);
    if (!j->session)
        return;
    if (request(j, CONN_API, JANUS_OP_KEEPALIVE, 0, 0, json_pack("{s:s}", "janus", "keepalive")) <
        0)
        fprintf(stderr, "venued: voice: keepalive not queued (requests full)\n");
    lws_sul_schedule(j->ctx, 0, &j->keepalive_sul, keepalive,
                     (lws_usec_t)JANUS_KEEPALIVE_MS * LWS_US_PER_MS);
}

static int attach(struct janus *j, uint64_t room)
{
    return request(j, CONN_API, JANUS_OP_ATTACH, room, 0,
                   json_pack("{s:s, s:s}", "janus", "attach", "plugin", PLUGIN_VR));
}

/* venued's watching participant joins vr: a publisher that never
 * publishes, told of everyone who does. */
static int send_watch_join(struct janus *j, struct voice_room *vr)
{
    return request(j, CONN_API, JANUS_OP_JOIN, vr->number, vr->watch_handle,
                   json_pack("{s:s, s:{s:s, s:s, s:I, s:I, s:s, s:s}}", "janus", "message", "body",
                             "request", "join", "ptype", "publisher", "room",
                             (json_int_t)vr->number, "id", (json_int_t)JANUS_WATCH_ID, "display",
                             "venued", "token", j->watch_token));
}

static struct voice_room *room_by_watcher(struct janus *j, uint64_t handle)
{
    for (size_t i = 0; handle && i < j->nrooms; i++)
        if (j->rooms[i].watch_handle == handle)
            return &j->rooms[i];
    return NULL;
}

/* What a watcher hears: publishers appearing and going, talking. */
static void on_room_event(struct janus *j, const struct voice_room *vr, const struct janus_reply *r)
{
    for (size_t i = 0; j->ev.publisher && i < r->npublishers; i++)
        if (r->publishers[i] != JANUS_WATCH_ID)
            j->ev.publisher(j->ev.ctx, vr->venue_id, r->publishers[i], true);
    if (r->gone && r->gone != JANUS_WATCH_ID && j->ev.publisher)
        j->ev.publisher(j->ev.ctx, vr->venue_id, r->gone, false);
    if (j->ev.talking && r->id && r->id != JANUS_WATCH_ID &&
        (strcmp(r->result, "talking") == 0 || strcmp(r->result, "stopped-talking") == 0))
        j->ev.talking(j->ev.ctx, vr->venue_id, r->id, r->result[0] == 't');
}

/* A reply to one of our requests, already judged ok. */
static void on_done(struct janus *j, const struct pending *p, const struct janus_reply *r)
{
    struct voice_room *vr = p->room ? room_by_number(j, p->room) : NULL;
    switch (p->op) {
    case JANUS_OP_CREATE:
        j->session = r->data_id;
        lws_sul_schedule(j->ctx, 0, &j->keepalive_sul, keepalive,
                         (lws_usec_t)JANUS_KEEPALIVE_MS * LWS_US_PER_MS);
        if (attach(j, 0) < 0)
            link_down(j, "cannot queue the attach");
        break;
    case JANUS_OP_ATTACH:
        if (vr) { /* a room's watcher */
            vr->watch_handle = r->data_id;
            if (send_watch_join(j, vr) < 0)
                link_down(j, "cannot queue a watching join");
            break;
        }
        j->handle = r->data_id;
        for (size_t i = 0; i < j->nrooms; i++) {
            if (send_room_create(j, &j->rooms[i]) < 0) {
                link_down(j, "cannot queue the rooms' creation");
                return;
            }
        }
        maybe_ready(j);
        break;
    case JANUS_OP_ROOM:
        if (vr) {
            vr->created = true;
            if (attach(j, vr->number) < 0)
                link_down(j, "cannot queue a watcher's attach");
        }
        break;
    case JANUS_OP_JOIN:
        if (vr) {
            vr->watching = true;
            on_room_event(j, vr, r); /* the publishers there already */
        }
        maybe_ready(j);
        break;
    case JANUS_OP_KEEPALIVE:
    case JANUS_OP_PLUGIN:
    case JANUS_OP_KICK:
    case JANUS_OP_ADMIN:
        break;
    }
}

/* A request failed (an error reply or its timeout). During setup that takes
 * the link down; later it is logged and the link stays. */
static void on_failed(struct janus *j, const struct pending *p, const char *why)
{
    char msg[256];
    if (p->op == JANUS_OP_CREATE || p->op == JANUS_OP_ATTACH || p->op == JANUS_OP_ROOM ||
        p->op == JANUS_OP_JOIN || p->op == JANUS_OP_KEEPALIVE) {
        snprintf(msg, sizeof(msg), "%s", why);
        link_down(j, msg);
        return;
    }
    fprintf(stderr, "venued: voice: request %s failed: %s\n", p->txn, why);
}

static void on_message(struct janus *j, enum conn_id c, const char *buf, size_t len)
{
    struct janus_reply r;
    char err[256];
    struct pending *p = NULL;
    int v;

    if (janus_parse(buf, len, &r, err, sizeof(err)) < 0) {
        /* One bad message is Janus misbehaving, not a reason to lose voice. */
        fprintf(stderr, "venued: voice: ignored a message from Janus: %s\n", err);
        return;
    }
    if (c == CONN_API && r.msg == JANUS_MSG_TIMEOUT) {
        if (r.session && r.session == j->session)
            link_down(j, "Janus timed out the session");
        return;
    }
    if (c == CONN_API && r.session && j->session && r.session != j->session)
        return; /* not our session */
    if (c == CONN_API && r.msg == JANUS_MSG_EVENT && !r.txn[0]) {
        struct voice_room *vr = room_by_watcher(j, r.sender);
        if (vr && vr->watching && strcmp(r.plugin, PLUGIN_VR) == 0 && r.room == vr->number)
            on_room_event(j, vr, &r);
        return;
    }
    if (!r.txn[0])
        return; /* webrtcup, hangup and the like: nothing of ours */
    for (size_t i = 0; i < JANUS_PENDING_MAX && !p; i++)
        if (j->pend[i].used && j->pend[i].sent && j->pend[i].conn == c &&
            strcmp(j->pend[i].txn, r.txn) == 0)
            p = &j->pend[i];
    if (!p)
        return; /* a transaction not ours, or timed out already */
    v = janus_verdict(&r, p->op, p->room, err, sizeof(err));
    if (v == 0)
        return;
    {
        struct pending done = *p;
        p->msg = NULL;
        pending_free(p);
        if (v > 0)
            on_done(j, &done, &r);
        else
            on_failed(j, &done, err);
    }
}

/* Every SWEEP_MS: transactions past their deadline fail. */
static void sweep(lws_sorted_usec_list_t *sul)
{
    struct janus *j = lws_container_of(sul, struct janus, sweep_sul);
    long long now = clock_mono_ms();
    for (size_t i = 0; i < JANUS_PENDING_MAX; i++) {
        struct pending *p = &j->pend[i];
        if (p->used && now >= p->deadline_ms) {
            struct pending done = *p;
            char why[96];
            done.msg = NULL;
            pending_free(p);
            snprintf(why, sizeof(why), "no answer to a request within %d ms", JANUS_TIMEOUT_MS);
            on_failed(j, &done, why);
        }
    }
    lws_sul_schedule(j->ctx, 0, &j->sweep_sul, sweep, (lws_usec_t)SWEEP_MS * LWS_US_PER_MS);
}

/* ---- The link ------------------------------------------------------------------ */

/* Take everything down and schedule the next try. Safe to call twice. */
static void link_down(struct janus *j, const char *why)
{
    long long now = clock_mono_ms();
    bool was = j->state != JANUS_DOWN;

    if (!was)
        return;
    bool was_ready = j->state == JANUS_READY;
    set_state(j, JANUS_DOWN, why);
    for (size_t i = 0; i < JANUS_PENDING_MAX; i++)
        if (j->pend[i].used)
            pending_free(&j->pend[i]);
    j->session = j->handle = 0;
    for (size_t i = 0; i < j->nrooms; i++) {
        j->rooms[i].created = j->rooms[i].watching = false;
        j->rooms[i].watch_handle = 0;
    }
    lws_sul_cancel(&j->keepalive_sul);
    for (int c = 0; c < CONN_N; c++) {
        struct janus_conn *conn = &j->conns[c];
        conn->open = false;
        conn->rx_len = 0;
        if (conn->wsi) {
            /* Closed by lws after this callback; CLOSED finds it detached. */
            lws_set_opaque_user_data(conn->wsi, NULL);
            lws_set_timeout(conn->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            conn->wsi = NULL;
        }
    }
    /* One plain line per outage (and again every DOWN_LOG_MS), not per retry. */
    if (!j->logged_down || now - j->down_log_ms >= DOWN_LOG_MS) {
        fprintf(stderr,
                "venued: voice: no voice: Janus at %s is not reachable (%s); the venue runs "
                "without voice and keeps retrying\n",
                j->conns[CONN_API].url, j->status.reason);
        j->logged_down = true;
        j->down_log_ms = now;
    }
    lws_sul_schedule(j->ctx, 0, &j->retry_sul, connect_link,
                     (lws_usec_t)j->backoff_ms * LWS_US_PER_MS);
    j->backoff_ms = j->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : j->backoff_ms * 2;
    if (was_ready && j->ev.state)
        j->ev.state(j->ev.ctx, false, j->status.reason);
}

static int connect_one(struct janus *j, enum conn_id c)
{
    struct janus_conn *conn = &j->conns[c];
    struct lws_client_connect_info i;
    struct lws *wsi;

    memset(&i, 0, sizeof(i));
    i.context = j->ctx;
    i.vhost = j->vh;
    ws_url_connect_info(&conn->where, &i);
    i.protocol = conn->subprotocol;
    i.local_protocol_name = "venued-janus";
    i.opaque_user_data = conn;
    conn->open = false;
    conn->rx_len = 0;
    /* The callback may run (and fail the connection) before this returns:
     * conn->wsi is set first only through the callbacks' own checks. */
    wsi = lws_client_connect_via_info(&i);
    if (!wsi)
        return -1;
    if (j->state == JANUS_CONNECTING)
        conn->wsi = wsi;
    return 0;
}

static void connect_link(lws_sorted_usec_list_t *sul)
{
    struct janus *j = lws_container_of(sul, struct janus, retry_sul);
    set_state(j, JANUS_CONNECTING, "connecting");
    if (connect_one(j, CONN_API) < 0) {
        link_down(j, "cannot open a connection");
        return;
    }
    if (j->has_admin && j->state == JANUS_CONNECTING && connect_one(j, CONN_ADMIN) < 0)
        link_down(j, "cannot open the admin connection");
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct janus_conn *conn = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    struct janus *j = conn ? conn->j : NULL;
    enum conn_id c;
    char why[200];
    (void)user;

    if (reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION)
        return -1; /* a client only: nobody connects to this vhost */
    if (!j)
        return 0; /* detached (link_down, janus_free) or vhost-wide */
    c = conn == &j->conns[CONN_API] ? CONN_API : CONN_ADMIN;
    /* A connection that was failed before connect_one stored it. */
    if (!conn->wsi && j->state == JANUS_CONNECTING)
        conn->wsi = wsi;
    if (conn->wsi != wsi)
        return 0;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        snprintf(why, sizeof(why), "%s: %s", c == CONN_API ? "API" : "admin API",
                 in ? (const char *)in : "connection failed");
        conn->wsi = NULL;
        lws_set_opaque_user_data(wsi, NULL);
        link_down(j, why);
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        conn->open = true;
        link_open(j);
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        conn->wsi = NULL;
        lws_set_opaque_user_data(wsi, NULL);
        link_down(j, c == CONN_API ? "the API connection closed" : "the admin connection closed");
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (lws_is_first_fragment(wsi))
            conn->rx_len = 0;
        if (conn->rx_len + len > JANUS_RX_MAX) {
            conn->wsi = NULL;
            lws_set_opaque_user_data(wsi, NULL);
            link_down(j, "a message from Janus over the size limit");
            return -1;
        }
        memcpy(conn->rx + conn->rx_len, in, len);
        conn->rx_len += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            size_t n = conn->rx_len;
            conn->rx_len = 0;
            on_message(j, c, conn->rx, n);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        struct pending *p = NULL;
        int n;
        for (size_t i = 0; i < JANUS_PENDING_MAX; i++) {
            struct pending *q = &j->pend[i];
            if (q->used && !q->sent && q->conn == c && (!p || q->seq < p->seq))
                p = q;
        }
        if (!p)
            return 0; /* an unasked WRITEABLE */
        n = lws_write(wsi, (unsigned char *)p->msg + LWS_PRE, p->len, LWS_WRITE_TEXT);
        free(p->msg);
        p->msg = NULL;
        p->sent = true;
        if (n < (int)p->len) {
            conn->wsi = NULL;
            lws_set_opaque_user_data(wsi, NULL);
            link_down(j, "a write to Janus failed");
            return -1;
        }
        for (size_t i = 0; i < JANUS_PENDING_MAX; i++)
            if (j->pend[i].used && !j->pend[i].sent && j->pend[i].conn == c) {
                lws_callback_on_writable(wsi);
                break;
            }
        return 0;
    }
    default:
        return 0;
    }
}

static const struct lws_protocols client_protocols[] = {
    {"venued-janus", callback, 0, JANUS_RX_MAX, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- Construction ------------------------------------------------------------------ */

static int parse_url(struct janus_conn *conn, const char *url, const char *what, char *err,
                     size_t errlen)
{
    if (ws_url_parse(url, what, &conn->where, err, errlen) < 0)
        return -1;
    snprintf(conn->url, sizeof(conn->url), "%s", url);
    return 0;
}

/* The room secret: derived from the room key and the room id, so it is the
 * same across restarts of either side and unknown to whoever lacks the key. */
static void room_secret(const char *room_key, const char *id, char out[ROOM_SECRET_HEX + 1])
{
    char text[JANUS_SECRET_MAX + SCENE_ID_MAX + 16], hex[SECRET_SHA256_HEX + 1];
    snprintf(text, sizeof(text), "venued-room:%s:%s", room_key, id);
    if (secret_sha256_hex(text, hex) < 0)
        memset(hex, '0', SECRET_SHA256_HEX); /* never: libcrypto's SHA-256 does not fail */
    memcpy(out, hex, ROOM_SECRET_HEX);
    out[ROOM_SECRET_HEX] = '\0';
}

struct janus *janus_new(struct lws_context *ctx, const char *url, const char *admin_url,
                        const struct janus_secrets *sec, const struct scene_set *scenes,
                        const struct janus_events *ev, char *err, size_t errlen)
{
    struct lws_context_creation_info info;
    static lws_retry_bo_t retry; /* outlives the vhost: lws keeps the pointer */
    struct janus *j = calloc(1, sizeof(*j));

    if (!j) {
        snprintf(err, errlen, "voice: no memory");
        return NULL;
    }
    j->ctx = ctx;
    j->sec = *sec;
    if (ev)
        j->ev = *ev;
    room_secret(sec->room_key, "#watch", j->watch_token);
    j->backoff_ms = BACKOFF_MIN_MS;
    j->has_admin = admin_url && admin_url[0];
    if (parse_url(&j->conns[CONN_API], url, "--janus", err, errlen) < 0 ||
        (j->has_admin &&
         parse_url(&j->conns[CONN_ADMIN], admin_url, "--janus-admin", err, errlen) < 0))
        goto fail;
    j->conns[CONN_API].subprotocol = "janus-protocol";
    j->conns[CONN_ADMIN].subprotocol = "janus-admin-protocol";
    for (int c = 0; c < CONN_N; c++) {
        j->conns[c].j = j;
        j->conns[c].rx = malloc(JANUS_RX_MAX + 1);
        if (!j->conns[c].rx) {
            snprintf(err, errlen, "voice: no memory");
            goto fail;
        }
    }
    for (size_t i = 0; i < scenes->n; i++) {
        const struct scene *s = scenes->scenes[i];
        struct voice_room *vr;
        if (j->nrooms == JANUS_ROOMS_MAX) {
            fprintf(stderr, "venued: voice: more than %d rooms; %s and later have no voice\n",
                    JANUS_ROOMS_MAX, s->id);
            break;
        }
        vr = &j->rooms[j->nrooms];
        snprintf(vr->venue_id, sizeof(vr->venue_id), "%s", s->id);
        vr->number = janus_room_number(s->id);
        /* Two ids with one number: the later one moves on, deterministically. */
        while (room_by_number(j, vr->number))
            vr->number = (vr->number + 1) & ((1ULL << 53) - 1) ? (vr->number + 1) : 1;
        vr->publishers =
            s->capacity > 0 && s->capacity < VOICE_PUBLISHERS ? s->capacity : VOICE_PUBLISHERS;
        room_secret(sec->room_key, s->id, vr->secret);
        j->nrooms++;
    }
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.vhost_name = "venued-janus";
    info.protocols = client_protocols;
    /* A dead Janus behind a live TCP path is found in half a minute. */
    retry.secs_since_valid_ping = 20;
    retry.secs_since_valid_hangup = 30;
    info.retry_and_idle_policy = &retry;
    j->vh = lws_create_vhost(ctx, &info);
    if (!j->vh) {
        snprintf(err, errlen, "voice: cannot make the Janus client's vhost");
        goto fail;
    }
    /* Start through the state machine: the first try at once. */
    set_state(j, JANUS_DOWN, "not connected yet");
    lws_sul_schedule(ctx, 0, &j->retry_sul, connect_link, 1);
    lws_sul_schedule(ctx, 0, &j->sweep_sul, sweep, (lws_usec_t)SWEEP_MS * LWS_US_PER_MS);
    return j;
fail:
    for (int c = 0; c < CONN_N; c++)
        free(j->conns[c].rx);
    free(j);
    return NULL;
}

void janus_free(struct janus *j)
{
    if (!j)
        return;
    lws_sul_cancel(&j->retry_sul);
    lws_sul_cancel(&j->keepalive_sul);
    lws_sul_cancel(&j->sweep_sul);
    for (int c = 0; c < CONN_N; c++) {
        if (j->conns[c].wsi)
            lws_set_opaque_user_data(j->conns[c].wsi, NULL);
        free(j->conns[c].rx);
    }
    for (size_t i = 0; i < JANUS_PENDING_MAX; i++)
        free(j->pend[i].msg);
    free(j);
}

/* ---- The API for the core and app ------------------------------------------------------ */

enum janus_state janus_state(const struct janus *j)
{
    return j->state;
}

const char *janus_reason(const struct janus *j)
{
    return j->status.reason;
}

const struct voice_status *janus_status(const struct janus *j)
{
    return &j->status;
}

static const struct voice_room *room_by_id(const struct janus *j, const char *id)
{
    for (size_t i = 0; i < j->nrooms; i++)
        if (strcmp(j->rooms[i].venue_id, id) == 0)
            return &j->rooms[i];
    return NULL;
}

uint64_t janus_room_of(const struct janus *j, const char *venue_room_id)
{
    const struct voice_room *vr = room_by_id(j, venue_room_id);
    return vr ? vr->number : 0;
}

static struct token *token_find(struct janus *j, const char *token, bool make)
{
    struct token *free_slot = NULL;
    for (size_t i = 0; i < JANUS_TOKENS_MAX; i++) {
        if (j->tokens[i].used && strcmp(j->tokens[i].token, token) == 0)
            return &j->tokens[i];
        if (!j->tokens[i].used && !free_slot)
            free_slot = &j->tokens[i];
    }
    if (!make || !free_slot)
        return NULL;
    free_slot->used = true;
    free_slot->rooms = 0;
    snprintf(free_slot->token, sizeof(free_slot->token), "%s", token);
    return free_slot;
}

int janus_add_token(struct janus *j, const char *token)
{
    if (!token_ok(token) || !token_find(j, token, true))
        return -1;
    if (j->state != JANUS_READY)
        return 0; /* goes in with the recreation */
    return send_token(j, token, true);
}

int janus_remove_token(struct janus *j, const char *token)
{
    struct token *t;
    int rc = 0;
    if (!token_ok(token))
        return -1;
    t = token_find(j, token, false);
    if (t) {
        for (size_t i = 0; i < j->nrooms; i++)
            if ((t->rooms & (1ULL << i)) && j->state == JANUS_READY &&
                plugin_request(j, JANUS_OP_PLUGIN, &j->rooms[i],
                               json_pack("{s:s, s:s, s:[s]}", "request", "allowed", "action",
                                         "remove", "allowed", token)) < 0)
                rc = -1;
        memset(t, 0, sizeof(*t));
    }
    if (j->state == JANUS_READY && send_token(j, token, false) < 0)
        rc = -1;
    return rc;
}

int janus_allow(struct janus *j, uint64_t room, const char *token, bool allow)
{
    struct voice_room *vr = room_by_number(j, room);
    struct token *t;
    size_t i;
    if (!vr || !token_ok(token))
        return -1;
    i = (size_t)(vr - j->rooms);
    t = token_find(j, token, allow);
    if (t) {
        if (allow)
            t->rooms |= 1ULL << i;
        else
            t->rooms &= ~(1ULL << i);
    }
    if (j->state != JANUS_READY)
        return allow && !t ? -1 : 0;
    return plugin_request(j, JANUS_OP_PLUGIN, vr,
                          json_pack("{s:s, s:s, s:[s]}", "request", "allowed", "action",
                                    allow ? "add" : "remove", "allowed", token));
}

int janus_kick(struct janus *j, uint64_t room, uint64_t participant)
{
    struct voice_room *vr = room_by_number(j, room);
    if (!vr || !participant || participant > (1ULL << 53) || j->state != JANUS_READY)
        return -1;
    return plugin_request(
        j, JANUS_OP_KICK, vr,
        json_pack("{s:s, s:I}", "request", "kick", "id", (json_int_t)participant));
}

int janus_mute(struct janus *j, uint64_t room, uint64_t participant, bool mute)
{
    struct voice_room *vr = room_by_number(j, room);
    if (!vr || !participant || participant > (1ULL << 53) || j->state != JANUS_READY)
        return -1;
    return plugin_request(j, JANUS_OP_PLUGIN, vr,
                          json_pack("{s:s, s:I, s:s, s:b}", "request", "moderate", "id",
                                    (json_int_t)participant, "mid", "0", "mute", mute));
}
