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

void chat_say(struct venue *v, struct session *s, const char *text)
{
    struct chat_line *l = push(s->room);
    struct proto_chat_line view;

    if (!l) {
        session_send_error(v, s, "unavailable", "chat: out of memory", NULL);
        return;
    }
    *l = (struct chat_line){
        .id = ++v->chat_last_id, .ts_ms = venue_wall(v), .role = session_role(s)};
    snprintf(l->user_id, sizeof(l->user_id), "%s", s->user_id);
    snprintf(l->name, sizeof(l->name), "%s", s->name);
    snprintf(l->text, sizeof(l->text), "%s", text);
    v->chat_dirty = true;
    view = line_view(l);
    mesh_chat(v, s, text);
    proto_buf_reset(&v->enc);
    if (proto_encode_chat(&v->enc, s->room->id, &view) == 0)
        room_broadcast_enc(v, s->room, NULL, MOUT_CHAT);
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

int chat_delete(struct venue *v, struct room *r, long long id, char *author, char *err,
                size_t errlen)
{
    struct chat_ring *c = r->chat;
    size_t at = 0;

    while (c && at < c->n && line_at(c, at)->id != id)
        at++;
    if (!c || at == c->n)
        return 0;
    if (line_at(c, at)->stored && v->chatlog && chatlog_delete(v->chatlog, id) < 0) {
        snprintf(err, errlen, "%s", chatlog_error(v->chatlog));
        return -1;
    }
    snprintf(author, SESSION_ID_LEN, "%s", line_at(c, at)->user_id);
    for (size_t i = at; i + 1 < c->n; i++)
        *line_at(c, i) = *line_at(c, i + 1);
    c->n--;
    changed(c);
    proto_buf_reset(&v->enc);
    if (proto_encode_chat_deleted(&v->enc, r->id, id) == 0)
        room_broadcast_enc(v, r, NULL, MOUT_CHAT);
    return 1;
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
    v->chat_last_id = chatlog_last_id(cl);
    for (size_t i = 0; i < v->nrooms; i++) {
        if (chatlog_room_each(cl, v->rooms[i]->id, load_line, v->rooms[i]) < 0) {
            snprintf(err, errlen, "%s", chatlog_error(cl));
            return -1;
        }
    }
    return 0;
}
