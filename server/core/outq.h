/*
 * outq.h - frames and the bounded per-session outgoing queue.
 *
 * A frame is one encoded server message with headroom in front for the
 * transport's framing, reference-counted so that one encode can be queued
 * for many receivers. The queue holds frame references in a fixed ring and
 * is bounded in frames and in bytes. What happens at the bound is decided
 * here: stale poses frames are dropped first; event frames (presence, chat,
 * replies) are never dropped silently, so when only they remain the push
 * fails and the caller closes the session.
 */
#ifndef VENUE_OUTQ_H
#define VENUE_OUTQ_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of headroom before each frame's data; the adapter checks that its
 * transport needs no more (libwebsockets' LWS_PRE). */
#define FRAME_PRE 16

enum frame_kind {
    FRAME_EVENT, /* replies, presence, chat: never dropped silently */
    FRAME_POSES, /* a poses frame: superseded by the next tick's */
};

struct frame {
    unsigned refs;
    enum frame_kind kind;
    bool binary; /* a WebSocket binary message (binary poses), else text */
    size_t len;  /* bytes of data after the headroom */
    size_t cap;
    unsigned char mem[]; /* FRAME_PRE headroom, then data */
};

/* A new frame with one reference, room for cap bytes, len 0. NULL when out
 * of memory. */
struct frame *frame_new(enum frame_kind kind, size_t cap);
/* A new frame holding a copy of data. */
struct frame *frame_copy(enum frame_kind kind, const void *data, size_t len);
/* Append within the capacity given at creation (asserted). */
void frame_append(struct frame *f, const void *data, size_t len);
static inline unsigned char *frame_data(struct frame *f)
{
    return f->mem + FRAME_PRE;
}
static inline struct frame *frame_ref(struct frame *f)
{
    f->refs++;
    return f;
}
void frame_unref(struct frame *f);

struct outq {
    struct frame **ring; /* owned array of cap references, grown up to max_frames */
    size_t cap, max_frames;
    size_t head; /* index of the oldest frame */
    size_t count;
    size_t bytes; /* data bytes queued */
    size_t max_bytes;
    size_t poses; /* how many of the frames are FRAME_POSES */
};

enum outq_push_result {
    OUTQ_OK,
    OUTQ_DROPPED_POSES, /* queued, after dropping stale poses frames to make room */
    OUTQ_FULL,          /* not queued: event frames alone fill the queue (or memory ran out) */
};

int outq_init(struct outq *q, size_t max_frames, size_t max_bytes);
/* Drops every frame left and frees the ring. */
void outq_free(struct outq *q);

/* Queue a new reference to f at the tail. *dropped counts poses frames
 * dropped to make room. */
enum outq_push_result outq_push(struct outq *q, struct frame *f, size_t *dropped);
/* Queue f at the head, ahead of everything (a resumed session's welcome). */
enum outq_push_result outq_push_front(struct outq *q, struct frame *f, size_t *dropped);

/* The oldest frame, borrowed, or NULL. */
struct frame *outq_peek(const struct outq *q);
/* Drop the oldest frame. */
void outq_pop(struct outq *q);
/* Drop every queued poses frame; returns how many. */
size_t outq_drop_poses(struct outq *q);
/* True while a poses frame waits unsent. */
static inline bool outq_has_poses(const struct outq *q)
{
    return q->poses > 0;
}
/* Drop the oldest frame, whatever its kind (a detached session's replay
 * is full; it holds no poses frames, which detaching dropped). */
bool outq_drop_oldest(struct outq *q);

#endif
