/*
 * test_outq.c - frames and the bounded per-session queue (server/core/outq.c)
 * on their own: frame creation, copy, append up to the capacity and
 * reference counting; the queue's order, ring wrap-around, its bounds in
 * frames and in bytes (exactly at the bound and one over), poses frames
 * dropped first to make room, OUTQ_FULL when only events fill it,
 * push_front, drop_poses, has_poses and drop_oldest. The suite runs under
 * ASan/LSan, so a reference the queue forgets to drop shows up as a leak.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "outq.h"

/* A frame of kind holding the text s (one reference, the caller's). */
static struct frame *mk(enum frame_kind kind, const char *s)
{
    return frame_copy(kind, s, strlen(s));
}

/* Does the frame hold exactly the text s? */
static int holds(struct frame *f, const char *s)
{
    return f && f->len == strlen(s) && memcmp(frame_data(f), s, f->len) == 0;
}

/* Pop every frame and check that the texts come out in this order,
 * NULL-terminated; the queue is then empty. */
static void expect_order(struct outq *q, const char *const *texts)
{
    size_t i = 0;
    for (; texts[i]; i++) {
        struct frame *f = outq_peek(q);
        CHECK(holds(f, texts[i]));
        if (!holds(f, texts[i]))
            fprintf(stderr, "  frame %zu: expected \"%s\"\n", i, texts[i]);
        if (!f)
            return;
        outq_pop(q);
    }
    CHECK(q->count == 0);
    CHECK(q->bytes == 0);
    CHECK(q->poses == 0);
    CHECK(outq_peek(q) == NULL);
}

/* Push a frame of its own (the queue keeps the only reference). */
static enum outq_push_result push_new(struct outq *q, enum frame_kind kind, const char *s,
                                      size_t *dropped)
{
    struct frame *f = mk(kind, s);
    enum outq_push_result r = outq_push(q, f, dropped);
    frame_unref(f);
    return r;
}

static void test_frames(void)
{
    struct frame *f = frame_new(FRAME_POSES, 10), *c;

    CHECK(f != NULL);
    CHECK(f->refs == 1);
    CHECK(f->kind == FRAME_POSES);
    CHECK(f->len == 0);
    CHECK(f->cap == 10);
    /* The headroom is in front of the data, for the transport's framing. */
    CHECK(frame_data(f) == f->mem + FRAME_PRE);
    frame_append(f, "abc", 3);
    CHECK(f->len == 3);
    frame_append(f, "", 0);
    CHECK(f->len == 3);
    /* Exactly up to the capacity. */
    frame_append(f, "defghij", 7);
    CHECK(f->len == 10);
    CHECK(memcmp(frame_data(f), "abcdefghij", 10) == 0);

    /* References: ref returns the same frame; the last unref frees it
     * (LSan would report it otherwise). */
    CHECK(frame_ref(f) == f);
    CHECK(f->refs == 2);
    frame_unref(f);
    CHECK(f->refs == 1);
    CHECK(memcmp(frame_data(f), "abcdefghij", 10) == 0);
    frame_unref(f);
    frame_unref(NULL); /* allowed, does nothing */

    c = frame_copy(FRAME_EVENT, "hello", 5);
    CHECK(c != NULL);
    CHECK(c->kind == FRAME_EVENT);
    CHECK(c->refs == 1);
    CHECK(c->len == 5);
    CHECK(c->cap == 5); /* a copy is exactly as big as its data */
    CHECK(memcmp(frame_data(c), "hello", 5) == 0);
    frame_unref(c);

    /* An empty frame is fine. */
    c = frame_new(FRAME_EVENT, 0);
    CHECK(c != NULL && c->len == 0 && c->cap == 0);
    frame_unref(c);
}

/* Appending past the capacity is a programming error: asserted, so the
 * process aborts rather than writing past the frame. */
static void test_append_over_cap(void)
{
#ifndef NDEBUG
    pid_t pid;
    int status = 0;

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        struct frame *f = frame_new(FRAME_EVENT, 4);
        /* The assert message is expected; keep the test log readable. */
        if (!freopen("/dev/null", "w", stderr))
            _exit(3);
        frame_append(f, "abcd", 4);
        frame_append(f, "e", 1);
        _exit(0); /* not reached when the assert holds */
    }
    CHECK(pid > 0);
    if (pid > 0) {
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    }
#endif
}

static void test_order_and_refs(void)
{
    struct outq q;
    struct frame *a = mk(FRAME_EVENT, "a"), *b = mk(FRAME_EVENT, "bb"), *c = mk(FRAME_EVENT, "ccc");
    size_t dropped = 99;

    CHECK(outq_init(&q, 4, 1000) == 0);
    CHECK(q.cap == 4 && q.max_bytes == 1000);
    CHECK(q.count == 0 && q.bytes == 0 && q.poses == 0);
    CHECK(outq_peek(&q) == NULL);
    CHECK(!outq_has_poses(&q));

    CHECK(outq_push(&q, a, &dropped) == OUTQ_OK);
    CHECK(dropped == 0);
    CHECK(a->refs == 2); /* the queue holds its own reference */
    CHECK(outq_push(&q, b, &dropped) == OUTQ_OK);
    CHECK(outq_push(&q, c, &dropped) == OUTQ_OK);
    CHECK(q.count == 3);
    CHECK(q.bytes == 6);
    /* peek does not remove. */
    CHECK(outq_peek(&q) == a);
    CHECK(outq_peek(&q) == a);
    CHECK(q.count == 3);

    outq_pop(&q);
    CHECK(a->refs == 1); /* the queue's reference is dropped */
    CHECK(q.count == 2 && q.bytes == 5);
    CHECK(outq_peek(&q) == b);
    outq_pop(&q);
    CHECK(outq_peek(&q) == c);
    outq_pop(&q);
    CHECK(outq_peek(&q) == NULL);
    CHECK(q.count == 0 && q.bytes == 0);
    CHECK(b->refs == 1 && c->refs == 1);

    /* One frame queued several times (one encode, many receivers, or the
     * same queue twice): each push is a reference of its own. */
    CHECK(outq_push(&q, a, &dropped) == OUTQ_OK);
    CHECK(outq_push(&q, a, &dropped) == OUTQ_OK);
    CHECK(a->refs == 3);
    CHECK(q.bytes == 2);
    frame_unref(a);
    frame_unref(b);
    frame_unref(c);
    /* outq_free drops what is left: a is freed there (LSan checks). */
    outq_free(&q);
    CHECK(q.ring == NULL);
}

static void test_wrap_around(void)
{
    struct outq q;
    size_t dropped;
    char text[16];

    CHECK(outq_init(&q, 4, 1000) == 0);
    for (int i = 0; i < 4; i++) {
        snprintf(text, sizeof(text), "f%d", i);
        CHECK(push_new(&q, FRAME_EVENT, text, &dropped) == OUTQ_OK);
    }
    outq_pop(&q);
    outq_pop(&q);
    CHECK(q.head == 2);
    /* These two go into slots 0 and 1, behind slots 2 and 3. */
    CHECK(push_new(&q, FRAME_EVENT, "f4", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_EVENT, "f5", &dropped) == OUTQ_OK);
    CHECK(q.count == 4);
    /* Full again: the wrap did not make a fifth slot. */
    CHECK(push_new(&q, FRAME_EVENT, "f6", &dropped) == OUTQ_FULL);
    expect_order(&q, (const char *const[]){"f2", "f3", "f4", "f5", NULL});

    /* Many laps around the ring, three in and three out at a time: every
     * frame comes out once, in order. */
    {
        int in = 0, out = 0, bad = 0;
        for (int lap = 0; lap < 50; lap++) {
            for (int k = 0; k < 3; k++) {
                snprintf(text, sizeof(text), "n%d", in++);
                bad += push_new(&q, FRAME_EVENT, text, &dropped) != OUTQ_OK;
            }
            for (int k = 0; k < 3; k++) {
                snprintf(text, sizeof(text), "n%d", out++);
                bad += !holds(outq_peek(&q), text);
                if (q.count)
                    outq_pop(&q);
            }
        }
        CHECK(bad == 0);
        CHECK(q.count == 0 && q.bytes == 0);
        CHECK(q.head < q.cap);
    }
    outq_free(&q);
}

static void test_bound_frames(void)
{
    struct outq q;
    size_t dropped = 99;
    struct frame *extra = mk(FRAME_EVENT, "x");

    CHECK(outq_init(&q, 3, 1000) == 0);
    CHECK(push_new(&q, FRAME_EVENT, "e1", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_EVENT, "e2", &dropped) == OUTQ_OK);
    /* Exactly at max frames. */
    CHECK(push_new(&q, FRAME_EVENT, "e3", &dropped) == OUTQ_OK);
    CHECK(dropped == 0);
    CHECK(q.count == 3);
    /* One over: refused, nothing dropped, the frame not referenced. */
    CHECK(outq_push(&q, extra, &dropped) == OUTQ_FULL);
    CHECK(dropped == 0);
    CHECK(extra->refs == 1);
    CHECK(q.count == 3 && q.bytes == 6);
    CHECK(outq_push_front(&q, extra, &dropped) == OUTQ_FULL);
    CHECK(extra->refs == 1);
    /* Once one is sent there is room again. */
    outq_pop(&q);
    CHECK(outq_push(&q, extra, &dropped) == OUTQ_OK);
    frame_unref(extra);
    expect_order(&q, (const char *const[]){"e2", "e3", "x", NULL});
    outq_free(&q);
}

static void test_bound_bytes(void)
{
    struct outq q;
    size_t dropped = 99;

    CHECK(outq_init(&q, 100, 10) == 0);
    CHECK(push_new(&q, FRAME_EVENT, "aaaa", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_EVENT, "bbbb", &dropped) == OUTQ_OK);
    /* 8 + 2 = 10: exactly at max bytes. */
    CHECK(push_new(&q, FRAME_EVENT, "cc", &dropped) == OUTQ_OK);
    CHECK(q.bytes == 10);
    /* One byte over. */
    CHECK(push_new(&q, FRAME_EVENT, "d", &dropped) == OUTQ_FULL);
    CHECK(dropped == 0);
    CHECK(q.bytes == 10 && q.count == 3);
    /* An empty frame still fits: the bound is on bytes. */
    CHECK(push_new(&q, FRAME_EVENT, "", &dropped) == OUTQ_OK);
    CHECK(q.count == 4);
    expect_order(&q, (const char *const[]){"aaaa", "bbbb", "cc", "", NULL});

    /* A single frame of exactly max bytes fits an empty queue; one byte
     * more never fits. */
    CHECK(push_new(&q, FRAME_EVENT, "0123456789", &dropped) == OUTQ_OK);
    if (q.count)
        outq_pop(&q);
    CHECK(push_new(&q, FRAME_EVENT, "0123456789A", &dropped) == OUTQ_FULL);
    CHECK(q.count == 0 && q.bytes == 0);
    outq_free(&q);
}

static void test_poses_dropped_first(void)
{
    struct outq q;
    size_t dropped = 0;

    /* Bound in frames: a full queue of events and poses takes one more
     * event by dropping every poses frame, keeping the events' order. */
    CHECK(outq_init(&q, 4, 1000) == 0);
    CHECK(push_new(&q, FRAME_EVENT, "e1", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_POSES, "p1", &dropped) == OUTQ_OK);
    CHECK(outq_has_poses(&q));
    CHECK(push_new(&q, FRAME_EVENT, "e2", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_POSES, "p2", &dropped) == OUTQ_OK);
    CHECK(q.poses == 2);
    CHECK(push_new(&q, FRAME_EVENT, "e3", &dropped) == OUTQ_DROPPED_POSES);
    CHECK(dropped == 2);
    CHECK(q.poses == 0);
    CHECK(!outq_has_poses(&q));
    CHECK(q.count == 3 && q.bytes == 6);
    expect_order(&q, (const char *const[]){"e1", "e2", "e3", NULL});

    /* A new poses frame supersedes the queued one the same way. */
    outq_free(&q);
    CHECK(outq_init(&q, 2, 1000) == 0);
    CHECK(push_new(&q, FRAME_EVENT, "e", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_POSES, "old", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_POSES, "new", &dropped) == OUTQ_DROPPED_POSES);
    CHECK(dropped == 1);
    CHECK(q.poses == 1);
    expect_order(&q, (const char *const[]){"e", "new", NULL});
    outq_free(&q);

    /* Bound in bytes: 4 + 4 + 4 > 10, dropping the poses frame leaves 8. */
    CHECK(outq_init(&q, 100, 10) == 0);
    CHECK(push_new(&q, FRAME_EVENT, "eeee", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_POSES, "pppp", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_EVENT, "ffff", &dropped) == OUTQ_DROPPED_POSES);
    CHECK(dropped == 1);
    CHECK(q.bytes == 8);
    /* At the bound after the drop: 8 + 2 = 10 fits without dropping. */
    CHECK(push_new(&q, FRAME_EVENT, "gg", &dropped) == OUTQ_OK);
    CHECK(dropped == 0);
    expect_order(&q, (const char *const[]){"eeee", "ffff", "gg", NULL});
    outq_free(&q);

    /* Room is made only when needed: with room to spare, poses stay. */
    CHECK(outq_init(&q, 3, 1000) == 0);
    CHECK(push_new(&q, FRAME_POSES, "p", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_EVENT, "e", &dropped) == OUTQ_OK);
    CHECK(dropped == 0 && q.poses == 1);
    expect_order(&q, (const char *const[]){"p", "e", NULL});
    outq_free(&q);
}

static void test_full_of_events(void)
{
    struct outq q;
    size_t dropped = 99;
    struct frame *big = mk(FRAME_EVENT, "bbbbbbb");

    /* Only events: refused, the caller closes the session. */
    CHECK(outq_init(&q, 2, 1000) == 0);
    CHECK(push_new(&q, FRAME_EVENT, "e1", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_EVENT, "e2", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_POSES, "p", &dropped) == OUTQ_FULL);
    CHECK(dropped == 0);
    CHECK(push_new(&q, FRAME_EVENT, "e3", &dropped) == OUTQ_FULL);
    expect_order(&q, (const char *const[]){"e1", "e2", NULL});
    outq_free(&q);

    /* Dropping the poses is not enough (bytes): still refused. The poses
     * frames are gone all the same and counted, as the header says of
     * *dropped; the caller closes the session anyway. */
    CHECK(outq_init(&q, 10, 10) == 0);
    CHECK(push_new(&q, FRAME_EVENT, "eeee", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_POSES, "pp", &dropped) == OUTQ_OK);
    CHECK(outq_push(&q, big, &dropped) == OUTQ_FULL);
    CHECK(dropped == 1);
    CHECK(big->refs == 1);
    CHECK(q.count == 1 && q.bytes == 4 && q.poses == 0);
    expect_order(&q, (const char *const[]){"eeee", NULL});
    frame_unref(big);
    outq_free(&q);
}

static void test_push_front(void)
{
    struct outq q;
    size_t dropped = 99;
    struct frame *w = mk(FRAME_EVENT, "welcome");

    /* On an empty queue at head 0 the front slot is the ring's last. */
    CHECK(outq_init(&q, 4, 1000) == 0);
    CHECK(push_new(&q, FRAME_EVENT, "e1", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_EVENT, "e2", &dropped) == OUTQ_OK);
    CHECK(outq_push_front(&q, w, &dropped) == OUTQ_OK);
    CHECK(dropped == 0);
    CHECK(q.head == 3);
    CHECK(w->refs == 2);
    CHECK(q.count == 3 && q.bytes == 11);
    CHECK(outq_peek(&q) == w);
    /* The tail still goes behind everything, across the wrap. */
    CHECK(push_new(&q, FRAME_EVENT, "e3", &dropped) == OUTQ_OK);
    CHECK(q.count == 4);
    CHECK(outq_push_front(&q, w, &dropped) == OUTQ_FULL);
    CHECK(w->refs == 2);
    expect_order(&q, (const char *const[]){"welcome", "e1", "e2", "e3", NULL});
    CHECK(w->refs == 1);
    outq_free(&q);

    /* Full with poses in it: they make room, the frame goes first. */
    CHECK(outq_init(&q, 3, 1000) == 0);
    CHECK(push_new(&q, FRAME_POSES, "p1", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_EVENT, "e1", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_POSES, "p2", &dropped) == OUTQ_OK);
    CHECK(outq_push_front(&q, w, &dropped) == OUTQ_DROPPED_POSES);
    CHECK(dropped == 2);
    CHECK(!outq_has_poses(&q));
    expect_order(&q, (const char *const[]){"welcome", "e1", NULL});
    outq_free(&q);

    /* Into an empty queue: the one frame is both first and last. */
    CHECK(outq_init(&q, 2, 7) == 0);
    CHECK(outq_push_front(&q, w, &dropped) == OUTQ_OK); /* 7 bytes: exactly max */
    CHECK(push_new(&q, FRAME_EVENT, "", &dropped) == OUTQ_OK);
    expect_order(&q, (const char *const[]){"welcome", "", NULL});
    CHECK(push_new(&q, FRAME_EVENT, "x", &dropped) == OUTQ_OK);
    CHECK(outq_push_front(&q, w, &dropped) == OUTQ_FULL); /* 8 bytes: one over */
    expect_order(&q, (const char *const[]){"x", NULL});
    frame_unref(w);
    outq_free(&q);
}

static void test_drop_poses(void)
{
    struct outq q;
    size_t dropped;

    CHECK(outq_init(&q, 6, 1000) == 0);
    CHECK(outq_drop_poses(&q) == 0); /* empty */
    CHECK(push_new(&q, FRAME_EVENT, "e1", &dropped) == OUTQ_OK);
    CHECK(outq_drop_poses(&q) == 0); /* no poses: nothing changes */
    CHECK(q.count == 1);

    /* Move the head so that the frames straddle the end of the ring. */
    for (int i = 0; i < 3; i++)
        CHECK(push_new(&q, FRAME_EVENT, "x", &dropped) == OUTQ_OK);
    for (int i = 0; i < 4; i++)
        outq_pop(&q);
    CHECK(q.head == 4);
    CHECK(push_new(&q, FRAME_POSES, "p1", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_EVENT, "e2", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_POSES, "p2", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_EVENT, "e3", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_POSES, "p3", &dropped) == OUTQ_OK);
    CHECK(q.poses == 3);
    CHECK(outq_has_poses(&q));
    CHECK(outq_drop_poses(&q) == 3);
    CHECK(!outq_has_poses(&q));
    CHECK(q.count == 2 && q.bytes == 4);
    /* The queue works on afterwards: the freed slots are reused. */
    CHECK(push_new(&q, FRAME_EVENT, "e4", &dropped) == OUTQ_OK);
    expect_order(&q, (const char *const[]){"e2", "e3", "e4", NULL});

    /* has_poses follows pops too. */
    CHECK(push_new(&q, FRAME_POSES, "p", &dropped) == OUTQ_OK);
    CHECK(outq_has_poses(&q));
    outq_pop(&q);
    CHECK(!outq_has_poses(&q));
    outq_free(&q);
}

static void test_drop_oldest(void)
{
    struct outq q;
    size_t dropped;

    CHECK(outq_init(&q, 3, 1000) == 0);
    CHECK(!outq_drop_oldest(&q)); /* nothing to drop */
    CHECK(push_new(&q, FRAME_EVENT, "e1", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_EVENT, "e22", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_EVENT, "e3", &dropped) == OUTQ_OK);
    CHECK(outq_drop_oldest(&q));
    CHECK(q.count == 2 && q.bytes == 5);
    CHECK(holds(outq_peek(&q), "e22"));
    /* The replay of a detached session: drop the oldest until it fits. */
    CHECK(push_new(&q, FRAME_EVENT, "e4", &dropped) == OUTQ_OK);
    CHECK(push_new(&q, FRAME_EVENT, "e5", &dropped) == OUTQ_FULL);
    CHECK(outq_drop_oldest(&q));
    CHECK(push_new(&q, FRAME_EVENT, "e5", &dropped) == OUTQ_OK);
    expect_order(&q, (const char *const[]){"e3", "e4", "e5", NULL});
    CHECK(!outq_drop_oldest(&q));
    outq_free(&q);
}

/* The ring starts small and doubles as it fills, also when it has wrapped
 * (and at the front), up to the bound: order kept, nothing lost. */
static void test_growth(void)
{
    struct outq q;
    size_t dropped;
    char text[16];
    int in = 0, out = 0, bad = 0;

    CHECK(outq_init(&q, 100, 100000) == 0);
    CHECK(q.cap == 16 && q.max_frames == 100);
    /* wrap first: 10 in, 10 out, so that head sits mid-ring */
    for (int k = 0; k < 10; k++) {
        snprintf(text, sizeof(text), "g%d", in++);
        bad += push_new(&q, FRAME_EVENT, text, &dropped) != OUTQ_OK;
    }
    for (int k = 0; k < 10; k++, out++)
        outq_pop(&q);
    for (int k = 0; k < 99; k++) {
        snprintf(text, sizeof(text), "g%d", in++);
        bad += push_new(&q, FRAME_EVENT, text, &dropped) != OUTQ_OK;
    }
    CHECK(push_new(&q, FRAME_EVENT, "first", &dropped) == OUTQ_OK);
    CHECK(q.count == 100 && q.cap == 100);
    CHECK(push_new(&q, FRAME_EVENT, "over", &dropped) == OUTQ_FULL);
    CHECK(bad == 0);
    outq_pop(&q); /* make room at the front */
    {
        struct frame *f = mk(FRAME_EVENT, "front");
        CHECK(outq_push_front(&q, f, &dropped) == OUTQ_OK);
        frame_unref(f);
    }
    CHECK(holds(outq_peek(&q), "front"));
    outq_pop(&q);
    for (out++; q.count > 1; out++) {
        snprintf(text, sizeof(text), "g%d", out);
        bad += !holds(outq_peek(&q), text);
        outq_pop(&q);
    }
    CHECK(bad == 0);
    CHECK(holds(outq_peek(&q), "first"));
    outq_free(&q);
}

int main(void)
{
    test_frames();
    test_append_over_cap();
    test_order_and_refs();
    test_wrap_around();
    test_growth();
    test_bound_frames();
    test_bound_bytes();
    test_poses_dropped_first();
    test_full_of_events();
    test_push_front();
    test_drop_poses();
    test_drop_oldest();
    return check_report();
}
