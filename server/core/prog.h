/*
 * prog.h - the programme as the venue runs it: sessions going live
 * and ending on the clock, the roles a live session gives in its room, and
 * what it has on stage (slides, captions, questions, the floor), plus the
 * stars and reminders of the people who follow it.
 *
 * Above rooms and sessions; below moderation (which calls prog_start,
 * prog_end, prog_floor and prog_answer after its own rank checks, and
 * audits them) and the dispatcher. The one call up from rooms is
 * prog_send_view, a joiner's view of the stage, like twin_send_view. The
 * venue owns the sessions (v->prog); each owns its names and questions.
 * The store (struct programme) keeps them: state changes are written at
 * once, page turns and the floor with the next flush.
 */
#ifndef VENUE_PROG_H
#define VENUE_PROG_H

#include <stdbool.h>

#include "programme.h"
#include "proto.h"
#include "registry.h"

struct venue;
struct session;
struct room;

#define PROG_QUESTIONS_MAX     2000 /* questions one session takes */
#define PROG_QUESTIONS_PER_MAX 50   /* questions one person asks in one session */

/* A question as the venue holds it while its session is live. */
struct prog_q {
    long long id;
    char user_id[REG_ID_MAX];
    char name[REG_NAME_MAX];
    char text[PROG_QUESTION_MAX];
    int votes;
    bool answered;
    long long ts_ms;
};

/* One session of the programme, running. */
struct prog_live {
    struct prog_session s;
    char *names[PROG_PART_COUNT][PROG_PEOPLE_MAX]; /* owned: the people's registered names */
    struct room *room;                             /* borrowed: the venue's room s.room */
    bool reminded;                                 /* the starred have been reminded */
    bool dirty;                                    /* page or floor not yet written */
    struct prog_q *qs;                             /* owned, while live */
    size_t nq, qcap;
};

/* Load the programme from v->prog_store (names from the registry),
 * replacing what the venue held. 0, or -1 with err. */
int prog_load(struct venue *v, char *err, size_t errlen);
/* Free what the venue holds of the programme. */
void prog_free(struct venue *v);

/* Sessions going live or ending on the clock, the floor running out,
 * reminders falling due. */
void prog_tick(struct venue *v);
/* Write the page turns and floors not yet written. */
void prog_flush(struct venue *v);

/* The programme and s's stars, for s just welcomed, and with remind the
 * reminders due (not on a resume: the session had them already). */
void prog_send_welcome(struct venue *v, struct session *s, bool remind);
/* The slides, questions and floor of the session live in s's room (an
 * overflow room: its hall's), for s just joined. */
void prog_send_view(struct venue *v, struct session *s);

/* The role the programme gives user_id in r: ROLE_MODERATOR or
 * ROLE_SPEAKER from r's live session or its floor, else ROLE_GUEST. */
enum role prog_grant(const struct venue *v, const struct room *r, const char *user_id);

/* star, slide, caption, ask, vote from s (who said hello). */
void prog_handle(struct venue *v, struct session *s, const struct proto_msg *m);

/* The session called id, or NULL. */
struct prog_live *prog_find(const struct venue *v, const char *id);
/* The live session whose stage r shows: r's own, or its hall's. */
struct prog_live *prog_stage_of(const struct room *r);
/* Is user_id one of L's people of this part? */
bool prog_is(const struct prog_live *L, enum prog_part part, const char *user_id);

/* The moderation actions' effects, once moderation has allowed them. Each
 * returns 0, or -1 with a reason for the actor in err. */
int prog_start(struct venue *v, struct prog_live *L, char *err, size_t errlen);
int prog_end(struct venue *v, struct prog_live *L, char *err, size_t errlen);
/* Give the floor of L (live) to s for seconds; s NULL takes it back. */
int prog_floor(struct venue *v, struct prog_live *L, struct session *s, int seconds, char *err,
               size_t errlen);
int prog_answer(struct venue *v, struct prog_live *L, long long question, char *err, size_t errlen);

#endif
