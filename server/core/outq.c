/*
 * outq.c - frames and the bounded per-session outgoing queue.
 */
#include "outq.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct frame *frame_new(enum frame_kind kind, size_t cap)
{
    struct frame *f = malloc(sizeof(*f) + FRAME_PRE + cap);
    if (!f)
        return NULL;
    f->refs = 1;
    f->kind = kind;
    f->binary = false;
    f->len = 0;
    f->cap = cap;
    return f;
}

struct frame *frame_copy(enum frame_kind kind, const void *data, size_t len)
{
    struct frame *f = frame_new(kind, len);
    if (f)
        frame_append(f, data, len);
    return f;
}

void frame_append(struct frame *f, const void *data, size_t len)
{
    assert(f->len + len <= f->cap);
    memcpy(frame_data(f) + f->len, data, len);
    f->len += len;
}

void frame_unref(struct frame *f)
{
    if (f && --f->refs == 0)
        free(f);
}

/* A ring starts this small and doubles as it fills, up to max_frames: an
 * idle connection's queue is a few frames long. */
#define OUTQ_FIRST_CAP 16

int outq_init(struct outq *q, size_t max_frames, size_t max_bytes)
{
    assert(max_frames > 0);
    memset(q, 0, sizeof(*q));
    q->cap = max_frames < OUTQ_FIRST_CAP ? max_frames : OUTQ_FIRST_CAP;
    q->ring = calloc(q->cap, sizeof(*q->ring));
    if (!q->ring)
        return -1;
    q->max_frames = max_frames;
    q->max_bytes = max_bytes;
    return 0;
}

void outq_free(struct outq *q)
{
    while (q->count)
        outq_pop(q);
    free(q->ring);
    q->ring = NULL;
}

static struct frame **slot(const struct outq *q, size_t i)
{
    return &q->ring[(q->head + i) % q->cap];
}

struct frame *outq_peek(const struct outq *q)
{
    return q->count ? *slot(q, 0) : NULL;
}

void outq_pop(struct outq *q)
{
    assert(q->count > 0);
    struct frame *f = *slot(q, 0);
    q->bytes -= f->len;
    q->poses -= f->kind == FRAME_POSES;
    frame_unref(f);
    q->head = (q->head + 1) % q->cap;
    q->count--;
}

/* Remove every frame for which drop(frame) holds, keeping the order. */
static size_t remove_where(struct outq *q, bool (*drop)(const struct frame *), size_t limit)
{
    size_t kept = 0, removed = 0;
    for (size_t i = 0; i < q->count; i++) {
        struct frame *f = *slot(q, i);
        if (removed < limit && drop(f)) {
            q->bytes -= f->len;
            q->poses -= f->kind == FRAME_POSES;
            frame_unref(f);
            removed++;
        } else {
            *slot(q, kept++) = f;
        }
    }
    q->count = kept;
    return removed;
}

static bool is_poses(const struct frame *f)
{
    return f->kind == FRAME_POSES;
}

static bool is_any(const struct frame *f)
{
    (void)f;
    return true;
}

size_t outq_drop_poses(struct outq *q)
{
    return q->poses ? remove_where(q, is_poses, (size_t)-1) : 0;
}

bool outq_drop_oldest(struct outq *q)
{
    return remove_where(q, is_any, 1) == 1;
}

static bool fits(const struct outq *q, const struct frame *f)
{
    return q->count < q->max_frames && q->bytes + f->len <= q->max_bytes;
}

/* Room in the ring for one more frame: doubled, oldest first at 0, when
 * full. -1 when memory ran out. */
static int reserve(struct outq *q)
{
    struct frame **ring;
    size_t cap;
    if (q->count < q->cap)
        return 0;
    cap = q->cap * 2 < q->max_frames ? q->cap * 2 : q->max_frames;
    assert(cap > q->count);
    ring = malloc(cap * sizeof(*ring));
    if (!ring)
        return -1;
    for (size_t i = 0; i < q->count; i++)
        ring[i] = *slot(q, i);
    free(q->ring);
    q->ring = ring;
    q->cap = cap;
    q->head = 0;
    return 0;
}

/* Make room for f, dropping stale poses frames if that is what it takes. */
static enum outq_push_result make_room(struct outq *q, const struct frame *f, size_t *dropped)
{
    enum outq_push_result r = OUTQ_OK;
    *dropped = 0;
    if (!fits(q, f)) {
        *dropped = outq_drop_poses(q);
        r = OUTQ_DROPPED_POSES;
    }
    return fits(q, f) && reserve(q) == 0 ? r : OUTQ_FULL;
}

enum outq_push_result outq_push(struct outq *q, struct frame *f, size_t *dropped)
{
    enum outq_push_result r = make_room(q, f, dropped);
    if (r == OUTQ_FULL)
        return r;
    *slot(q, q->count) = frame_ref(f);
    q->count++;
    q->bytes += f->len;
    q->poses += f->kind == FRAME_POSES;
    return r;
}

enum outq_push_result outq_push_front(struct outq *q, struct frame *f, size_t *dropped)
{
    enum outq_push_result r = make_room(q, f, dropped);
    if (r == OUTQ_FULL)
        return r;
    q->head = (q->head + q->cap - 1) % q->cap;
    q->ring[q->head] = frame_ref(f);
    q->count++;
    q->bytes += f->len;
    q->poses += f->kind == FRAME_POSES;
    return r;
}
