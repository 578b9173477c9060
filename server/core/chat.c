/*
 * chat.c - chat lines, each room's ring of recent ones, and their way to
 * the chatlog.
 *
 * A mass arrival must not encode the history once per joiner: the ring
 * keeps its chat_history frame until a line comes or goes, and every
 * joiner queues a reference to it.
 */
#include "chat.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "venue_int.h"

static struct chat_line *line_at(struct chat_ring *c, size_t i)
{
    assert(i < c->n);
    return &c->lines[(c->head + i) % CHATLOG_KEEP];
}

static struct proto_chat_line line_view(const struct chat_line *l)
{
    return (struct proto_chat_line){.id = l->id,
                                    .user_id = l->user_id,
                                    .name = l->name,
                                    .text = l->text,
                                    .ts_ms = l->ts_ms,
                                    .role = role_name(l->role)};
}

static void changed(struct chat_ring *c)
{
    if (c->history) {
        frame_unref(c->history);
        c->history = NULL;
    }
}

/* The next slot of r's ring, the oldest line giving way when it is full.
 * NULL when the ring cannot be had. */
static struct chat_line *push(struct room *r)
{
    struct chat_ring *c = r->chat;
    if (!c && !(c = r->chat = calloc(1, sizeof(*c))))
        return NULL;
    changed(c);
    if (c->n == CHATLOG_KEEP) {
        c->head = (c->head + 1) % CHATLOG_KEEP;
        c->n--;
    }
    c->n++;
    return line_at(c, c->n - 1);
}

/*
 * Nodes sharing a database number their lines from blocks of their own
 * (chatlog_reserve). A node takes its first block at start and the next
 * at a flush once half of it is gone, so that a line waits for the
 * database only when a burst used a whole block between two flushes.
 */
static int take_block(struct venue *v)
{
    long long last;

    if (chatlog_reserve(v->chatlog, CHAT_ID_BLOCK, &last) < 0)
        return -1;
    v->chat_last_id = last - CHAT_ID_BLOCK;
    v->chat_ids_end = last;
    return 0;
}

/* A line's number; 0 when none can be had. */
static long long next_id(struct venue *v)
{
    if (v->chatlog && v->chat_last_id == v->chat_ids_end && take_block(v) < 0)
        return 0;
    return ++v->chat_last_id;
}

/* A line to r's ring and members: its own (stored false, for the chatlog)
 * or a line another node said and keeps. 0, or -1 out of memory. */
static int add_line(struct venue *v, struct room *r, const struct session *s,
                    const struct chat_line *head, const char *text)
{
    struct chat_line *l = push(r);
    struct proto_chat_line view;

    if (!l)
        return -1;
    *l = *head;
    snprintf(l->user_id, sizeof(l->user_id), "%s", s->user_id);
    snprintf(l->name, sizeof(l->name), "%s", s->name);
    snprintf(l->text, sizeof(l->text), "%s", text);
    v->chat_dirty |= !l->stored;
    view = line_view(l);
    proto_buf_reset(&v->enc);
    if (proto_encode_chat(&v->enc, r->id, &view) == 0)
        room_broadcast_enc(v, r, NULL, MOUT_CHAT);
    return 0;
}

void chat_say(struct venue *v, struct session *s, const char *text)
{
    struct chat_line head = {.id = next_id(v), .ts_ms = venue_wall(v), .role = session_role(s)};

    if (!head.id) {
        char why[320];
        snprintf(why, sizeof(why), "chat: the line was not said (%s)", chatlog_error(v->chatlog));
        session_send_error(v, s, "unavailable", why, NULL);
    } else if (add_line(v, s->room, s, &head, text) < 0) {
        session_send_error(v, s, "unavailable", "chat: out of memory", NULL);
    } else {
        mesh_chat(v, s, head.id, head.ts_ms, text);
    }
}

void chat_heard(struct venue *v, struct session *s, long long id, long long ts_ms, const char *text)
{
    struct chat_line head = {.id = id, .ts_ms = ts_ms, .role = session_role(s), .stored = true};
    if (add_line(v, s->room, s, &head, text) < 0)
        fprintf(stderr, "venued: chat: out of memory: a line from another node is not shown\n");
}

void chat_send_history(struct venue *v, struct session *s)
{
    struct chat_ring *c = s->room->chat;
    struct proto_chat_line views[CHATLOG_KEEP];

    if (!c || c->n == 0)
        return;
    if (!c->history) {
        for (size_t i = 0; i < c->n; i++)
            views[i] = line_view(line_at(c, i));
        proto_buf_reset(&v->enc);
        if (proto_encode_chat_history(&v->enc, s->room->id, views, c->n) < 0 ||
            !(c->history = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len)))
            return;
    }
    session_enqueue(v, s, c->history, MOUT_CHAT);
}

/* Where line id is in r's ring, or -1. */
static long find(struct room *r, long long id)
{
    for (size_t at = 0; r->chat && at < r->chat->n; at++)
        if (line_at(r->chat, at)->id == id)
            return (long)at;
    return -1;
}

/* Line at leaves r's ring, and r's members hear it. */
static void drop(struct venue *v, struct room *r, size_t at)
{
    struct chat_ring *c = r->chat;
    long long id = line_at(c, at)->id;

    for (size_t i = at; i + 1 < c->n; i++)
        *line_at(c, i) = *line_at(c, i + 1);
    c->n--;
    changed(c);
    proto_buf_reset(&v->enc);
    if (proto_encode_chat_deleted(&v->enc, r->id, id) == 0)
        room_broadcast_enc(v, r, NULL, MOUT_CHAT);
}

int chat_delete(struct venue *v, struct room *r, long long id, char *author, char *err,
                size_t errlen)
{
    long at = find(r, id);

    if (at < 0)
        return 0;
    if (line_at(r->chat, (size_t)at)->stored && v->chatlog && chatlog_delete(v->chatlog, id) < 0) {
        snprintf(err, errlen, "%s", chatlog_error(v->chatlog));
        return -1;
    }
    snprintf(author, SESSION_ID_LEN, "%s", line_at(r->chat, (size_t)at)->user_id);
    drop(v, r, (size_t)at);
    mesh_chat_deleted(v, r, id);
    return 1;
}

void chat_forget(struct venue *v, struct room *r, long long id)
{
    long at = find(r, id);
    if (at >= 0)
        drop(v, r, (size_t)at);
}

void chat_flush(struct venue *v)
{
    size_t n = 0;

    if (!v->chatlog || !v->chat_dirty)
        return;
    for (size_t i = 0; i < v->nrooms; i++) {
        struct room *r = v->rooms[i];
        for (size_t k = 0; r->chat && k < r->chat->n; k++) {
            const struct chat_line *l = line_at(r->chat, k);
            if (l->stored)
                continue;
            if (array_grow((void **)&v->chat_batch, &v->chat_batch_cap, n + 1,
                           sizeof(*v->chat_batch)) < 0)
                return; /* kept: the next flush tries again */
            v->chat_batch[n++] = (struct chatlog_line){.id = l->id,
                                                       .room = r->id,
                                                       .user_id = l->user_id,
                                                       .name = l->name,
                                                       .text = l->text,
                                                       .ts_ms = l->ts_ms,
                                                       .role = role_name(l->role)};
        }
    }
    if (chatlog_put(v->chatlog, v->chat_batch, n) < 0) {
        fprintf(stderr, "venued: %s\n", chatlog_error(v->chatlog));
        return;
    }
    for (size_t i = 0; i < v->nrooms; i++)
        for (size_t k = 0; v->rooms[i]->chat && k < v->rooms[i]->chat->n; k++)
            line_at(v->rooms[i]->chat, k)->stored = true;
    v->chat_dirty = false;
    if (v->chat_ids_end - v->chat_last_id < CHAT_ID_BLOCK / 2 && take_block(v) < 0)
        fprintf(stderr, "venued: %s\n", chatlog_error(v->chatlog));
}

void chat_room_free(struct room *r)
{
    if (r->chat) {
        changed(r->chat);
        free(r->chat);
        r->chat = NULL;
    }
}

static void load_line(void *arg, const struct chatlog_line *cl)
{
    struct room *r = arg;
    struct chat_line *l = push(r);
    if (!l)
        return;
    *l = (struct chat_line){.id = cl->id, .ts_ms = cl->ts_ms, .stored = true};
    if (role_parse(cl->role, &l->role) < 0)
        l->role = ROLE_GUEST; /* an unknown role marks no one as more than a guest */
    snprintf(l->user_id, sizeof(l->user_id), "%s", cl->user_id);
    snprintf(l->name, sizeof(l->name), "%s", cl->name);
    snprintf(l->text, sizeof(l->text), "%s", cl->text);
}

int chat_keep(struct venue *v, struct chatlog *cl, char *err, size_t errlen)
{
    v->chatlog = cl;
    /* Without a block now (a read-only database), the first line asks. */
    if (take_block(v) < 0)
        fprintf(stderr, "venued: %s\n", chatlog_error(cl));
    for (size_t i = 0; i < v->nrooms; i++) {
        if (chatlog_room_each(cl, v->rooms[i]->id, load_line, v->rooms[i]) < 0) {
            snprintf(err, errlen, "%s", chatlog_error(cl));
            return -1;
        }
    }
    return 0;
}
