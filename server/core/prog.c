/*
 * prog.c - the programme as the venue runs it: the clock's transitions,
 * the roles a live session gives, its stage (slides, captions, questions,
 * the floor), stars and reminders.
 *
 * Everything here is rare next to poses: a state change is written to the
 * store at once; a page turn or the floor waits for the next flush so
 * that a speaker holding an arrow key costs no write per page. The
 * programme message is encoded once into a frame every welcome shares.
 */
#include "prog.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "moderation.h"
#include "room.h"
#include "session.h"
#include "venue_int.h"

/* ---- finding ---- */

struct prog_live *prog_find(const struct venue *v, const char *id)
{
    for (size_t i = 0; i < v->nprog; i++)
        if (strcmp(v->prog[i].s.id, id) == 0)
            return &v->prog[i];
    return NULL;
}

struct prog_live *prog_stage_of(const struct room *r)
{
    if (!r)
        return NULL;
    if (r->live)
        return r->live;
    return r->stage_of ? r->stage_of->live : NULL;
}

bool prog_is(const struct prog_live *L, enum prog_part part, const char *user_id)
{
    for (size_t i = 0; i < L->s.npeople[part]; i++)
        if (strcmp(L->s.people[part][i], user_id) == 0)
            return true;
    return false;
}

enum role prog_grant(const struct venue *v, const struct room *r, const char *user_id)
{
    const struct prog_live *L = r ? r->live : NULL;
    (void)v;
    if (!L)
        return ROLE_GUEST;
    if (prog_is(L, PROG_MODERATOR, user_id))
        return ROLE_MODERATOR;
    if (prog_is(L, PROG_SPEAKER, user_id) ||
        (L->s.floor_user[0] && strcmp(L->s.floor_user, user_id) == 0))
        return ROLE_SPEAKER;
    return ROLE_GUEST;
}

/* ---- holding the programme ---- */

static void live_free(struct prog_live *L)
{
    for (int k = 0; k < PROG_PART_COUNT; k++)
        for (size_t i = 0; i < L->s.npeople[k]; i++)
            free(L->names[k][i]);
    free(L->qs);
}

static void list_free(struct prog_live *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        live_free(&list[i]);
    free(list);
}

static void question_add(void *arg, const struct prog_question *q, bool voted)
{
    struct prog_live *L = arg;
    struct prog_q *d;
    (void)voted;
    if (L->nq >= PROG_QUESTIONS_MAX ||
        array_grow((void **)&L->qs, &L->qcap, L->nq + 1, sizeof(*L->qs)) < 0)
        return;
    d = &L->qs[L->nq++];
    d->id = q->id;
    snprintf(d->user_id, sizeof(d->user_id), "%s", q->user_id);
    snprintf(d->name, sizeof(d->name), "%s", q->name);
    snprintf(d->text, sizeof(d->text), "%s", q->text);
    d->votes = q->votes;
    d->answered = q->answered;
    d->ts_ms = q->ts_ms;
}

static int by_id(const void *a, const void *b)
{
    const struct prog_q *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* The questions a live session had before a restart, by id (the order
 * they were asked in, which later ones keep by being appended). */
static void questions_load(struct venue *v, struct prog_live *L)
{
    L->nq = 0;
    if (v->prog_store &&
        programme_questions_each(v->prog_store, L->s.id, NULL, question_add, L) < 0)
        fprintf(stderr, "venued: programme: %s\n", programme_error(v->prog_store));
    if (L->nq)
        qsort(L->qs, L->nq, sizeof(*L->qs), by_id);
}

/* The running form of ss[0..n): names from the registry. NULL (err set)
 * when memory runs out. */
static struct prog_live *build(struct venue *v, const struct prog_session *ss, size_t n, char *err,
                               size_t errlen)
{
    struct prog_live *list = calloc(n ? n : 1, sizeof(*list));
    struct reg_user u;
    if (!list) {
        snprintf(err, errlen, "programme: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct prog_live *L = &list[i];
        L->s = ss[i];
        L->room = room_find(v, L->s.room);
        for (int k = 0; k < PROG_PART_COUNT; k++) {
            for (size_t j = 0; j < L->s.npeople[k]; j++) {
                const char *id = L->s.people[k][j];
                bool known = v->reg && registry_user_get(v->reg, id, &u) == 1;
                L->names[k][j] = strdup(known ? u.name : id);
                if (!L->names[k][j]) {
                    L->s.npeople[k] = j;
                    list_free(list, i + 1);
                    snprintf(err, errlen, "programme: out of memory");
                    return NULL;
                }
            }
        }
    }
    return list;
}

/* Each room's live session, and the roles it gives, again. */
static void regrant(struct venue *v, struct room *r);

static void relink(struct venue *v)
{
    for (size_t i = 0; i < v->nrooms; i++)
        v->rooms[i]->live = NULL;
    for (size_t i = 0; i < v->nprog; i++)
        if (v->prog[i].s.state == PROG_LIVE && v->prog[i].room)
            v->prog[i].room->live = &v->prog[i];
    for (size_t i = 0; i < v->nrooms; i++)
        regrant(v, v->rooms[i]);
    frame_unref(v->prog_frame);
    v->prog_frame = NULL;
    v->prog_next_ms = 0;
}

struct collect {
    struct prog_session *ss;
    size_t n, cap;
    bool failed;
};

static void collect_one(void *arg, const struct prog_session *s)
{
    struct collect *c = arg;
    if (c->failed || array_grow((void **)&c->ss, &c->cap, c->n + 1, sizeof(*c->ss)) < 0) {
        c->failed = true;
        return;
    }
    c->ss[c->n++] = *s;
}

int prog_load(struct venue *v, char *err, size_t errlen)
{
    struct collect c = {0};
    struct prog_live *list;
    long long wall = venue_wall(v);

    if (programme_each(v->prog_store, collect_one, &c) < 0 || c.failed) {
        snprintf(err, errlen, "programme: %s",
                 c.failed ? "out of memory" : programme_error(v->prog_store));
        free(c.ss);
        return -1;
    }
    list = build(v, c.ss, c.n, err, errlen);
    free(c.ss);
    if (!list)
        return -1;
    list_free(v->prog, v->nprog);
    v->prog = list;
    v->nprog = c.n;
    for (size_t i = 0; i < v->nprog; i++) {
        struct prog_live *L = &v->prog[i];
        if (L->s.state == PROG_LIVE)
            questions_load(v, L);
        /* Those inside the window when the venue starts hear it on arrival. */
        L->reminded = wall >= L->s.start_ms - v->cfg.reminder_min * 60000LL;
    }
    relink(v);
    return 0;
}

void prog_free(struct venue *v)
{
    list_free(v->prog, v->nprog);
    v->prog = NULL;
    v->nprog = 0;
    frame_unref(v->prog_frame);
    v->prog_frame = NULL;
}

/* ---- encoding ---- */

static int encode_session(struct proto_buf *b, const struct prog_live *L)
{
    struct proto_person people[PROG_PART_COUNT][PROG_PEOPLE_MAX];
    struct proto_session ps = {
        .id = L->s.id,
        .title = L->s.title,
        .description = L->s.description,
        .room = L->s.room,
        .start_ms = L->s.start_ms,
        .end_ms = L->s.end_ms,
        .state = prog_state_name(L->s.state),
        .slides_pages = L->s.slides_pages,
        .slides_page = L->s.slides_page,
        .slides_version = L->s.slides_version,
    };
    for (int k = 0; k < PROG_PART_COUNT; k++) {
        for (size_t i = 0; i < L->s.npeople[k]; i++) {
            people[k][i].id = L->s.people[k][i];
            people[k][i].name = L->names[k][i];
        }
        ps.people[k] = people[k];
        ps.npeople[k] = L->s.npeople[k];
    }
    return proto_encode_session_object(b, &ps);
}

/* The programme message of list[0..n) into b. */
static int encode_programme(struct proto_buf *b, const struct prog_live *list, size_t n)
{
    if (proto_encode_programme_head(b) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((i && proto_buf_append(b, ",", 1) < 0) || encode_session(b, &list[i]) < 0)
            return -1;
    return proto_encode_programme_tail(b);
}

/* The shared programme frame, encoded when first needed after a change. */
static struct frame *programme_frame(struct venue *v)
{
    if (!v->prog_frame) {
        proto_buf_reset(&v->enc);
        if (encode_programme(&v->enc, v->prog, v->nprog) == 0)
            v->prog_frame = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len);
    }
    return v->prog_frame;
}

/* f to everyone who said hello. */
static void send_all(struct venue *v, struct frame *f, enum metric_out type)
{
    if (!f)
        return;
    for (size_t i = 0; i < v->nsessions; i++) {
        struct session *s = v->sessions[i];
        if (s->hello && !s->dead)
            session_enqueue(v, s, f, type);
    }
}

/* What v->enc holds to r's members and to its overflow rooms'. */
static void send_stage(struct venue *v, struct room *r)
{
    room_broadcast_enc(v, r, NULL, MOUT_STAGE_EVENT);
    for (size_t i = 0; i < v->nrooms; i++)
        if (v->rooms[i]->stage_of == r)
            room_broadcast_enc(v, v->rooms[i], NULL, MOUT_STAGE_EVENT);
}

static void slides_to_stage(struct venue *v, struct prog_live *L)
{
    proto_buf_reset(&v->enc);
    if (proto_encode_slides(&v->enc, L->s.id, L->s.room, L->s.slides_pages, L->s.slides_page,
                            L->s.slides_version) == 0)
        send_stage(v, L->room);
}

static void floor_encode(struct venue *v, const struct prog_live *L)
{
    const struct session *h = L->s.floor_user[0] ? session_find_user(v, L->s.floor_user) : NULL;
    proto_buf_reset(&v->enc);
    proto_encode_floor(&v->enc, L->s.room, L->s.floor_user[0] ? L->s.floor_user : NULL,
                       h ? h->name : L->s.floor_user, L->s.floor_until_ms);
}

static struct proto_question question_view(const struct prog_q *q, int voted)
{
    struct proto_question pq = {
        .id = q->id,
        .from_id = q->user_id,
        .from_name = q->name,
        .text = q->text,
        .votes = q->votes,
        .answered = q->answered,
        .ts_ms = q->ts_ms,
        .voted = voted,
    };
    return pq;
}

static void question_to_stage(struct venue *v, struct prog_live *L, const struct prog_q *q)
{
    struct proto_question pq = question_view(q, -1);
    proto_buf_reset(&v->enc);
    if (proto_encode_question(&v->enc, L->s.id, L->s.room, &pq) == 0)
        send_stage(v, L->room);
}

/* ---- roles ---- */

static void regrant(struct venue *v, struct room *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct session *s = r->members[i];
        enum role before = session_role(s);
        s->granted = prog_grant(v, r, s->user_id);
        if (session_role(s) != before) /* a speaker by their own role stays one */
            room_presence_all(v, s, "update");
    }
}

/* ---- the clock ---- */

static void save_state(struct venue *v, struct prog_live *L)
{
    if (v->prog_store && programme_save_state(v->prog_store, &L->s) < 0) {
        fprintf(stderr, "venued: programme: %s\n", programme_error(v->prog_store));
        L->dirty = true; /* the next flush tries again */
        return;
    }
    L->dirty = false;
}

static void changed_state(struct venue *v, struct prog_live *L)
{
    struct frame *f;
    save_state(v, L);
    frame_unref(v->prog_frame);
    v->prog_frame = NULL;
    v->prog_next_ms = 0;
    proto_buf_reset(&v->enc);
    if (proto_encode_session_state(&v->enc, L->s.id, prog_state_name(L->s.state), L->s.room) < 0)
        return;
    f = frame_copy(FRAME_EVENT, v->enc.data, v->enc.len);
    send_all(v, f, MOUT_PROGRAMME);
    frame_unref(f);
}

int prog_start(struct venue *v, struct prog_live *L, char *err, size_t errlen)
{
    if (L->s.state != PROG_SCHEDULED) {
        snprintf(err, errlen, "mod.session: \"%s\" is %s", L->s.id, prog_state_name(L->s.state));
        return -1;
    }
    if (!L->room) {
        snprintf(err, errlen, "mod.session: room \"%s\" is not in this venue", L->s.room);
        return -1;
    }
    if (L->room->live) {
        snprintf(err, errlen, "mod.session: \"%s\" is live in %s now", L->room->live->s.id,
                 L->s.room);
        return -1;
    }
    L->s.state = PROG_LIVE;
    L->room->live = L;
    questions_load(v, L);
    changed_state(v, L);
    regrant(v, L->room);
    if (L->s.slides_pages)
        slides_to_stage(v, L);
    return 0;
}

int prog_end(struct venue *v, struct prog_live *L, char *err, size_t errlen)
{
    if (L->s.state != PROG_LIVE) {
        snprintf(err, errlen, "mod.session: \"%s\" is %s", L->s.id, prog_state_name(L->s.state));
        return -1;
    }
    L->s.state = PROG_ENDED;
    if (L->s.floor_user[0] && L->room) { /* the floor ends with its session */
        L->s.floor_user[0] = '\0';
        floor_encode(v, L);
        send_stage(v, L->room);
    }
    L->s.floor_until_ms = 0;
    if (L->room && L->room->live == L)
        L->room->live = NULL;
    free(L->qs);
    L->qs = NULL;
    L->nq = L->qcap = 0;
    changed_state(v, L);
    if (L->room)
        regrant(v, L->room);
    return 0;
}

static void remind(struct venue *v, struct session *s, const struct prog_live *L)
{
    proto_buf_reset(&v->enc);
    if (proto_encode_reminder(&v->enc, L->s.id, L->s.title, L->s.room, L->s.start_ms) == 0)
        session_send_enc(v, s, MOUT_PROGRAMME);
}

struct remind_ctx {
    struct venue *v;
    const struct prog_live *L;
};

static void remind_user(void *arg, const char *user_id)
{
    struct remind_ctx *c = arg;
    struct session *s = session_find_user(c->v, user_id);
    if (s)
        remind(c->v, s, c->L);
}

/* The earliest wall time after now at which L needs the clock. */
static long long next_event(const struct venue *v, const struct prog_live *L, long long wall,
                            long long next)
{
    long long at[4] = {0, 0, 0, 0};
    if (L->s.state == PROG_SCHEDULED) {
        at[0] = L->s.start_ms;
        if (!L->reminded)
            at[1] = L->s.start_ms - v->cfg.reminder_min * 60000LL;
    }
    if (L->s.state == PROG_LIVE) {
        at[2] = L->s.end_ms;
        at[3] = L->s.floor_user[0] ? L->s.floor_until_ms : 0;
    }
    for (int i = 0; i < 4; i++)
        if (at[i] > wall && (!next || at[i] < next))
            next = at[i];
    return next;
}

void prog_tick(struct venue *v)
{
    long long wall = venue_wall(v), next = 0;
    char err[160];

    if (v->prog_next_ms && wall < v->prog_next_ms)
        return;
    /* Ends before starts: a room's next session may begin as its last ends. */
    for (size_t i = 0; i < v->nprog; i++) {
        struct prog_live *L = &v->prog[i];
        if (L->s.state == PROG_LIVE && wall >= L->s.end_ms && prog_end(v, L, err, sizeof(err)) == 0)
            mod_audit(v, NULL, "end_session", NULL, L->room, L->s.id);
        if (L->s.state == PROG_LIVE && L->s.floor_user[0] && wall >= L->s.floor_until_ms)
            prog_floor(v, L, NULL, 0, err, sizeof(err));
    }
    for (size_t i = 0; i < v->nprog; i++) {
        struct prog_live *L = &v->prog[i];
        if (L->s.state == PROG_SCHEDULED && !L->reminded &&
            wall >= L->s.start_ms - v->cfg.reminder_min * 60000LL) {
            struct remind_ctx c = {v, L};
            L->reminded = true;
            if (v->prog_store &&
                programme_starred_by_each(v->prog_store, L->s.id, remind_user, &c) < 0)
                fprintf(stderr, "venued: programme: %s\n", programme_error(v->prog_store));
        }
        if (L->s.state == PROG_SCHEDULED && wall >= L->s.end_ms) {
            L->s.state = PROG_ENDED; /* all of it passed while the venue was down */
            changed_state(v, L);
        } else if (L->s.state == PROG_SCHEDULED && wall >= L->s.start_ms) {
            if (prog_start(v, L, err, sizeof(err)) == 0)
                mod_audit(v, NULL, "start_session", NULL, L->room, L->s.id);
            else
                fprintf(stderr, "venued: programme: %s cannot start: %s\n", L->s.id, err);
        }
    }
    for (size_t i = 0; i < v->nprog; i++)
        next = next_event(v, &v->prog[i], wall, next);
    /* No session waits on the clock: look again in a minute (a new
     * programme resets this). */
    v->prog_next_ms = next ? next : wall + 60000;
}

void prog_flush(struct venue *v)
{
    for (size_t i = 0; i < v->nprog; i++)
        if (v->prog[i].dirty)
            save_state(v, &v->prog[i]);
}

/* ---- a newcomer's view ---- */

struct stars_ctx {
    struct venue *v;
    const char **ids; /* borrowed from v->prog */
    size_t n;
};

static void star_one(void *arg, const char *session_id)
{
    struct stars_ctx *c = arg;
    const struct prog_live *L = prog_find(c->v, session_id);
    if (L && c->n < c->v->nprog)
        c->ids[c->n++] = L->s.id;
}

/* s's starred sessions into c (c->ids sized for every session). */
static int stars_of(struct venue *v, const struct session *s, struct stars_ctx *c)
{
    c->v = v;
    c->n = 0;
    c->ids = calloc(v->nprog ? v->nprog : 1, sizeof(*c->ids));
    if (!c->ids)
        return -1;
    if (programme_stars_each(v->prog_store, s->user_id, star_one, c) < 0) {
        fprintf(stderr, "venued: programme: %s\n", programme_error(v->prog_store));
        free(c->ids);
        return -1;
    }
    return 0;
}

static void send_stars(struct venue *v, struct session *s, const struct stars_ctx *c,
                       const struct proto_id *re)
{
    proto_buf_reset(&v->enc);
    if (proto_encode_stars(&v->enc, c->ids, c->n, re) == 0)
        session_send_enc(v, s, MOUT_PROGRAMME);
}

/* A starred session inside its reminder window when one arrives or stars
 * it: the reminder now, since the clock's has passed. */
static void remind_if_due(struct venue *v, struct session *s, const struct prog_live *L)
{
    long long wall = venue_wall(v);
    if (L && L->s.state == PROG_SCHEDULED &&
        wall >= L->s.start_ms - v->cfg.reminder_min * 60000LL && wall < L->s.start_ms)
        remind(v, s, L);
}

void prog_send_welcome(struct venue *v, struct session *s, bool remind)
{
    struct stars_ctx c;
    struct frame *f = programme_frame(v);

    if (f)
        session_enqueue(v, s, f, MOUT_PROGRAMME);
    if (!v->prog_store || s->role == ROLE_GUEST || stars_of(v, s, &c) < 0)
        return;
    send_stars(v, s, &c, NULL);
    for (size_t i = 0; remind && i < c.n; i++)
        remind_if_due(v, s, prog_find(v, c.ids[i]));
    free(c.ids);
}

/* Questions by votes, then time. */
static int by_votes(const void *a, const void *b)
{
    const struct proto_question *x = a, *y = b;
    if (x->votes != y->votes)
        return x->votes > y->votes ? -1 : 1;
    return (x->ts_ms > y->ts_ms) - (x->ts_ms < y->ts_ms);
}

/* Which of L's questions (in memory by id, as they were asked) s voted
 * for: the store knows. */
struct voted_ctx {
    const struct prog_live *L;
    struct proto_question *qs;
};

static void mark_voted(void *arg, const struct prog_question *q, bool voted)
{
    struct voted_ctx *c = arg;
    size_t lo = 0, hi = c->L->nq;
    if (!voted)
        return;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->L->qs[mid].id < q->id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->L->nq && c->L->qs[lo].id == q->id)
        c->qs[lo].voted = 1;
}

static void send_questions(struct venue *v, struct session *s, const struct prog_live *L)
{
    struct proto_question *qs = calloc(L->nq ? L->nq : 1, sizeof(*qs));
    struct voted_ctx c = {L, qs};
    if (!qs)
        return;
    for (size_t i = 0; i < L->nq; i++)
        qs[i] = question_view(&L->qs[i], 0);
    /* Guests vote too (under their session's user id): ask for everyone. */
    if (v->prog_store && L->nq &&
        programme_questions_each(v->prog_store, L->s.id, s->user_id, mark_voted, &c) < 0)
        fprintf(stderr, "venued: programme: %s\n", programme_error(v->prog_store));
    qsort(qs, L->nq, sizeof(*qs), by_votes);
    proto_buf_reset(&v->enc);
    if (proto_encode_questions(&v->enc, L->s.id, L->s.room, qs, L->nq) == 0)
        session_send_enc(v, s, MOUT_STAGE_EVENT);
    free(qs);
}

void prog_send_view(struct venue *v, struct session *s)
{
    struct prog_live *L = prog_stage_of(s->room);

    if (!L)
        return;
    if (L->s.slides_pages) {
        proto_buf_reset(&v->enc);
        if (proto_encode_slides(&v->enc, L->s.id, L->s.room, L->s.slides_pages, L->s.slides_page,
                                L->s.slides_version) == 0)
            session_send_enc(v, s, MOUT_STAGE_EVENT);
    }
    send_questions(v, s, L);
    if (L->s.floor_user[0]) {
        floor_encode(v, L);
        session_send_enc(v, s, MOUT_STAGE_EVENT);
    }
}

/* ---- the floor and questions, for moderation ---- */

int prog_floor(struct venue *v, struct prog_live *L, struct session *s, int seconds, char *err,
               size_t errlen)
{
    if (L->s.state != PROG_LIVE || !L->room) {
        snprintf(err, errlen, "mod.room: no session is live here; the floor belongs to one");
        return -1;
    }
    if (s && s->room != L->room) {
        snprintf(err, errlen, "mod.target: \"%s\" is not in %s", s->name, L->room->id);
        return -1;
    }
    if (!s && !L->s.floor_user[0]) {
        snprintf(err, errlen, "mod: nobody has the floor");
        return -1;
    }
    if (s) {
        snprintf(L->s.floor_user, sizeof(L->s.floor_user), "%s", s->user_id);
        L->s.floor_until_ms = venue_wall(v) + (long long)seconds * 1000;
    } else {
        L->s.floor_user[0] = '\0';
        L->s.floor_until_ms = 0;
    }
    L->dirty = true;
    v->prog_next_ms = 0;
    regrant(v, L->room);
    floor_encode(v, L);
    send_stage(v, L->room);
    return 0;
}

static struct prog_q *question_find(struct prog_live *L, long long id)
{
    size_t lo = 0, hi = L->nq;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (L->qs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < L->nq && L->qs[lo].id == id ? &L->qs[lo] : NULL;
}

int prog_answer(struct venue *v, struct prog_live *L, long long question, char *err, size_t errlen)
{
    struct prog_q *q = L->s.state == PROG_LIVE ? question_find(L, question) : NULL;
    if (!q) {
        snprintf(err, errlen, "mod.question: no question %lld in %s", question, L->s.id);
        return -1;
    }
    if (v->prog_store && programme_question_answer(v->prog_store, q->id) < 0) {
        snprintf(err, errlen, "mod.question: could not be kept: %s",
                 programme_error(v->prog_store));
        return -1;
    }
    q->answered = true;
    question_to_stage(v, L, q);
    return 0;
}

/* ---- what participants send ---- */

/* The live session of s's stage, or an error naming why not. */
static struct prog_live *stage_session(struct venue *v, struct session *s, const char *what,
                                       const struct proto_msg *m)
{
    struct prog_live *L = prog_stage_of(s->room);
    if (!L) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s: no session is live in this room", what);
        session_send_error(v, s, s->room ? "bad_request" : "not_in_room", msg, &m->id);
    }
    return L;
}

static void on_star(struct venue *v, struct session *s, const struct proto_msg *m)
{
    struct stars_ctx c;
    if (s->role == ROLE_GUEST) {
        session_send_error(v, s, "forbidden",
                           "star: guests cannot star sessions; come in with your join link",
                           &m->id);
        return;
    }
    if (!prog_find(v, m->u.star.session)) {
        session_send_error(v, s, "not_found", "star.session: no such session", &m->id);
        return;
    }
    if (programme_star(v->prog_store, s->user_id, m->u.star.session, m->u.star.on) < 0) {
        session_send_error(v, s, "unavailable", "star: could not be kept; try again", &m->id);
        fprintf(stderr, "venued: programme: %s\n", programme_error(v->prog_store));
        return;
    }
    if (stars_of(v, s, &c) < 0) {
        session_send_error(v, s, "unavailable", "star: could not be read back; try again", &m->id);
        return;
    }
    send_stars(v, s, &c, &m->id);
    free(c.ids);
    if (m->u.star.on)
        remind_if_due(v, s, prog_find(v, m->u.star.session));
}

static void on_slide(struct venue *v, struct session *s, const struct proto_msg *m)
{
    struct prog_live *L = stage_session(v, s, "slide", m);
    if (!L)
        return;
    if (!prog_is(L, PROG_SPEAKER, s->user_id) && !prog_is(L, PROG_MODERATOR, s->user_id) &&
        s->role < ROLE_ADMIN) {
        session_send_error(v, s, "forbidden", "slide: only the session's speakers turn its slides",
                           &m->id);
        return;
    }
    if (!L->s.slides_pages) {
        session_send_error(v, s, "bad_request", "slide: the session has no slides yet", &m->id);
        return;
    }
    if (m->u.slide.page > L->s.slides_pages) {
        char msg[96];
        snprintf(msg, sizeof(msg), "slide.page: the deck has %d pages", L->s.slides_pages);
        session_send_error(v, s, "bad_request", msg, &m->id);
        return;
    }
    if (m->u.slide.page == L->s.slides_page)
        return;
    L->s.slides_page = m->u.slide.page;
    L->dirty = true;
    frame_unref(v->prog_frame);
    v->prog_frame = NULL;
    slides_to_stage(v, L);
}

static void on_caption(struct venue *v, struct session *s, const struct proto_msg *m)
{
    struct prog_live *L = stage_session(v, s, "caption", m);
    if (!L)
        return;
    if (!prog_is(L, PROG_CAPTIONER, s->user_id) && s->role < ROLE_ADMIN) {
        session_send_error(v, s, "forbidden", "caption: only the session's captioners caption it",
                           &m->id);
        return;
    }
    proto_buf_reset(&v->enc);
    if (proto_encode_caption(&v->enc, L->s.id, L->s.room, s->user_id, s->name, m->u.line.text,
                             venue_wall(v)) == 0)
        send_stage(v, L->room);
}

static void on_ask(struct venue *v, struct session *s, const struct proto_msg *m)
{
    struct prog_live *L = stage_session(v, s, "ask", m);
    struct prog_question pq;
    struct prog_q *q;
    size_t mine = 0;

    if (!L)
        return;
    if (s->muted_until) {
        session_send_error(v, s, "forbidden", "ask: you are muted", &m->id);
        return;
    }
    if (session_role(s) == ROLE_GUEST && !s->room->scene->guests_chat) {
        session_send_error(v, s, "forbidden", "ask: guests cannot ask in this room", &m->id);
        return;
    }
    for (size_t i = 0; i < L->nq; i++)
        mine += strcmp(L->qs[i].user_id, s->user_id) == 0;
    if (mine >= PROG_QUESTIONS_PER_MAX || L->nq >= PROG_QUESTIONS_MAX) {
        session_send_error(v, s, "forbidden",
                           mine >= PROG_QUESTIONS_PER_MAX
                               ? "ask: you have asked 50 questions in this session"
                               : "ask: this session takes no more questions",
                           &m->id);
        return;
    }
    if (array_grow((void **)&L->qs, &L->qcap, L->nq + 1, sizeof(*L->qs)) < 0) {
        session_send_error(v, s, "unavailable", "ask: out of memory", &m->id);
        return;
    }
    pq = (struct prog_question){
        .session_id = L->s.id,
        .user_id = s->user_id,
        .name = s->name,
        .text = m->u.line.text,
        .ts_ms = venue_wall(v),
    };
    if (programme_question_add(v->prog_store, &pq) < 0) {
        session_send_error(v, s, "unavailable", "ask: could not be kept; try again", &m->id);
        fprintf(stderr, "venued: programme: %s\n", programme_error(v->prog_store));
        return;
    }
    assert(!L->nq || L->qs[L->nq - 1].id < pq.id); /* appended in id order */
    q = &L->qs[L->nq++];
    memset(q, 0, sizeof(*q));
    q->id = pq.id;
    snprintf(q->user_id, sizeof(q->user_id), "%s", s->user_id);
    snprintf(q->name, sizeof(q->name), "%s", s->name);
    snprintf(q->text, sizeof(q->text), "%s", m->u.line.text);
    q->ts_ms = pq.ts_ms;
    question_to_stage(v, L, q);
}

static void on_vote(struct venue *v, struct session *s, const struct proto_msg *m)
{
    struct prog_live *L = stage_session(v, s, "vote", m);
    struct prog_q *q = L ? question_find(L, m->u.vote.question) : NULL;
    int rc;

    if (!L)
        return;
    if (!q) {
        session_send_error(v, s, "not_found", "vote.question: no such question in this session",
                           &m->id);
        return;
    }
    if (strcmp(q->user_id, s->user_id) == 0) {
        session_send_error(v, s, "forbidden", "vote: not for your own question", &m->id);
        return;
    }
    rc = programme_question_vote(v->prog_store, q->id, s->user_id);
    if (rc < 0) {
        session_send_error(v, s, "unavailable", "vote: could not be kept; try again", &m->id);
        fprintf(stderr, "venued: programme: %s\n", programme_error(v->prog_store));
        return;
    }
    if (rc == 0) {
        session_send_error(v, s, "bad_request", "vote: you already voted for this question",
                           &m->id);
        return;
    }
    q->votes++;
    question_to_stage(v, L, q);
}

void prog_handle(struct venue *v, struct session *s, const struct proto_msg *m)
{
    if (!v->prog_store) {
        session_send_error(v, s, "bad_request", "this venue keeps no programme", &m->id);
        return;
    }
    switch (m->type) {
    case PROTO_STAR:
        on_star(v, s, m);
        break;
    case PROTO_SLIDE:
        on_slide(v, s, m);
        break;
    case PROTO_CAPTION:
        on_caption(v, s, m);
        break;
    case PROTO_ASK:
        on_ask(v, s, m);
        break;
    case PROTO_VOTE:
        on_vote(v, s, m);
        break;
    default:
        assert(!"not a programme message");
    }
}

/* ---- the venue's programme API (venue.h) ---- */

int venue_keep_programme(struct venue *v, struct programme *p, char *err, size_t errlen)
{
    v->prog_store = p;
    return prog_load(v, err, errlen);
}

int venue_programme_set(struct venue *v, const struct prog_session *ss, size_t n, long long now_ms,
                        char *err, size_t errlen)
{
    struct prog_live *fresh;
    struct frame *f;
    int rc;

    v->now = now_ms;
    if (!v->prog_store) {
        snprintf(err, errlen, "programme: this venue keeps no programme");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!room_find(v, ss[i].room)) {
            snprintf(err, errlen, "sessions[%zu] (%s).room: no room \"%s\" in this venue", i,
                     ss[i].id, ss[i].room);
            return -1;
        }
    }
    if (!(fresh = build(v, ss, n, err, errlen)))
        return -1;
    proto_buf_reset(&v->enc);
    rc = encode_programme(&v->enc, fresh, n);
    list_free(fresh, n);
    if (rc < 0 || v->enc.len > PROG_MESSAGE_MAX) {
        snprintf(err, errlen,
                 rc < 0 ? "programme: out of memory"
                        : "sessions: %zu bytes in the programme message, over %ld; shorten the "
                          "descriptions",
                 v->enc.len, PROG_MESSAGE_MAX);
        return -1;
    }
    prog_flush(v);
    if (programme_replace(v->prog_store, ss, n, err, errlen) < 0)
        return -1;
    if (prog_load(v, err, errlen) < 0)
        return -1;
    f = programme_frame(v);
    send_all(v, f, MOUT_PROGRAMME);
    return 0;
}

size_t venue_programme_count(const struct venue *v)
{
    return v->nprog;
}

const struct prog_session *venue_programme_at(const struct venue *v, size_t i)
{
    assert(i < v->nprog);
    return &v->prog[i].s;
}

const struct prog_session *venue_programme_find(const struct venue *v, const char *id)
{
    const struct prog_live *L = prog_find(v, id);
    return L ? &L->s : NULL;
}

const char *venue_programme_name(const struct venue *v, const char *user_id)
{
    for (size_t i = 0; i < v->nprog; i++)
        for (int k = 0; k < PROG_PART_COUNT; k++)
            for (size_t j = 0; j < v->prog[i].s.npeople[k]; j++)
                if (strcmp(v->prog[i].s.people[k][j], user_id) == 0)
                    return v->prog[i].names[k][j];
    return "";
}

int venue_slides_set(struct venue *v, const char *id, int pages, long long now_ms, char *err,
                     size_t errlen)
{
    struct prog_live *L = prog_find(v, id);
    v->now = now_ms;
    if (!L) {
        snprintf(err, errlen, "no session \"%s\"", id);
        return -1;
    }
    assert(pages > 0);
    L->s.slides_pages = pages;
    L->s.slides_page = 1;
    L->s.slides_version++;
    save_state(v, L);
    frame_unref(v->prog_frame);
    v->prog_frame = NULL;
    if (L->s.state == PROG_LIVE && L->room)
        slides_to_stage(v, L);
    return 0;
}
