/*
 * programme.h - the programme: the venue's sessions in time, who speaks,
 * moderates and captions each, and what a session keeps on stage (its
 * slide deck's page, the floor, the questions and their votes), plus each
 * registered user's starred sessions.
 *
 * Two parts. programme_parse turns an untrusted programme file (JSON, the
 * format README.md documents) into checked structs, or an error naming the
 * session and the field. The rest keeps the programme in the store's
 * database, SQLite or PostgreSQL (the same connection, own tables and
 * statements). Nothing here is called per pose; every call is one short
 * transaction.
 */
#ifndef VENUE_PROGRAMME_H
#define VENUE_PROGRAMME_H

#include <stdbool.h>
#include <stddef.h>

#include "registry.h"
#include "store.h"

#define PROG_ID_MAX       65         /* session ids: [A-Za-z0-9_-], 1..64 bytes, NUL included */
#define PROG_TITLE_MAX    801        /* 200 code points of UTF-8, NUL included */
#define PROG_DESC_MAX     8001       /* 2000 code points of UTF-8, NUL included */
#define PROG_ROOM_MAX     65         /* as a scene id */
#define PROG_PEOPLE_MAX   32         /* speakers (or moderators, or captioners) of one session */
#define PROG_SESSIONS_MAX 500        /* sessions in one programme */
#define PROG_FILE_MAX     (4L << 20) /* bytes of a programme file */
#define PROG_QUESTION_MAX 2001       /* 500 code points of UTF-8, NUL included */

enum prog_state { PROG_SCHEDULED, PROG_LIVE, PROG_ENDED };
/* "scheduled", "live", "ended": static strings. */
const char *prog_state_name(enum prog_state s);

/* What a person is in a session. */
enum prog_part { PROG_SPEAKER, PROG_MODERATOR, PROG_CAPTIONER, PROG_PART_COUNT };
/* "speakers", "moderators", "captioners": the file's field names. */
const char *prog_part_field(enum prog_part p);

/* One session of the programme. Plain data: no pointers, copied freely. */
struct prog_session {
    char id[PROG_ID_MAX];
    char title[PROG_TITLE_MAX];
    char description[PROG_DESC_MAX]; /* "" when none */
    char room[PROG_ROOM_MAX];
    long long start_ms, end_ms; /* wall clock, ms since the epoch; start < end */
    enum prog_state state;
    char people[PROG_PART_COUNT][PROG_PEOPLE_MAX][REG_ID_MAX];
    size_t npeople[PROG_PART_COUNT];
    int slides_pages;            /* 0: no deck */
    int slides_page;             /* 1..slides_pages while there is a deck */
    int slides_version;          /* bumped by each new deck */
    char floor_user[REG_ID_MAX]; /* "" when nobody has the floor */
    long long floor_until_ms;    /* wall clock */
};

/*
 * Parse a programme file of len bytes (at most PROG_FILE_MAX):
 * {"sessions":[{"id","title","description"?,"room","start","end",
 * "speakers"?,"moderators"?,"captioners"?}]}, times in ISO 8601 with a
 * zone (Z or +hh:mm). Checks every field's type, length and characters,
 * end after start, unique ids, at most PROG_SESSIONS_MAX sessions, no two
 * sessions overlapping in one room, and no person twice in one list; it
 * does not know rooms or users (programme_check_people checks the users).
 * A description may hold line feeds (no other control); a title may not.
 * Null is the same as absent; an unknown field of a session is an error
 * naming it. States start as scheduled. On success *out is a malloc'd
 * array of *n sessions (never NULL, even for none), in the file's order
 * so that later checks name the file's index (the caller frees it) and 0
 * is returned; -1 with err as
 * "sessions[3] (keynote).start: not an ISO 8601 time with a zone, ...",
 * the index being the file's.
 */
int programme_parse(const char *buf, size_t len, struct prog_session **out, size_t *n, char *err,
                    size_t errlen);

/* Does s overlap another session of ss[0..n) in its room? The other, or
 * NULL. Intervals are half-open (back to back is fine); a session with
 * s's id is s itself (an edited copy), never its own overlap. */
const struct prog_session *programme_overlap(const struct prog_session *ss, size_t n,
                                             const struct prog_session *s);

/* Parse one ISO 8601 time with a zone, YYYY-MM-DDTHH:MM[:SS[.fff]]
 * then Z or +hh:mm/-hh:mm (digits past milliseconds are cut): 0 and *ms,
 * or -1. */
int programme_time_parse(const char *text, long long *ms);

struct programme;

/* Open on st's database (creating its tables); st and reg must outlive
 * it. NULL with a reason in err. */
struct programme *programme_open(struct store *st, struct registry *reg, char *err, size_t errlen);
void programme_close(struct programme *p);

/*
 * Every person named in ss is a registered user (not revoked, not a
 * guest): 0, or -1 with err as "sessions[2] (panel).speakers[1]: no
 * registered user \"u-...\"".
 */
int programme_check_people(struct programme *p, const struct prog_session *ss, size_t n, char *err,
                           size_t errlen);
/*
 * Replace the whole programme with ss[0..n) in one transaction. A session
 * whose id was there before keeps its deck, questions and stars (an edit
 * of its title is not a new session), and its state and floor too unless
 * its start or end moved (then it is scheduled again). The others' rows
 * go. The state, deck and floor fields of ss are ignored. All or nothing:
 * -1 with err.
 */
int programme_replace(struct programme *p, const struct prog_session *ss, size_t n, char *err,
                      size_t errlen);
/* Call fn for every session, by start then id. */
int programme_each(struct programme *p, void (*fn)(void *arg, const struct prog_session *s),
                   void *arg);
/* Write what changes while the venue runs: state, slides, floor. 0, or -1. */
int programme_save_state(struct programme *p, const struct prog_session *s);

/* Stars: a registered user's sessions. 0 (starring twice or unstarring
 * what was not starred included), -1 when session_id is not in the
 * programme or on error. */
int programme_star(struct programme *p, const char *user_id, const char *session_id, bool on);
/* Call fn for each session user_id starred. */
int programme_stars_each(struct programme *p, const char *user_id,
                         void (*fn)(void *arg, const char *session_id), void *arg);
/* Call fn for each user who starred session_id. */
int programme_starred_by_each(struct programme *p, const char *session_id,
                              void (*fn)(void *arg, const char *user_id), void *arg);

/* A question asked in a session. Strings borrowed: when adding, from the
 * caller; when listing, valid only during the callback. */
struct prog_question {
    long long id; /* set by programme_question_add */
    const char *session_id;
    const char *user_id;
    const char *name;
    const char *text;
    long long ts_ms;
    int votes;
    bool answered;
};
/* Store q, setting q->id. 0, or -1. */
int programme_question_add(struct programme *p, struct prog_question *q);
/* One vote of user_id for question id: 1 counted, 0 already voted, -1 error. */
int programme_question_vote(struct programme *p, long long id, const char *user_id);
/* 1 marked, 0 no such question, -1 error. */
int programme_question_answer(struct programme *p, long long id);
/* Call fn for each question of session_id, by votes (most first) then
 * time; voted says whether user_id (NULL: nobody) voted for it. */
int programme_questions_each(struct programme *p, const char *session_id, const char *user_id,
                             void (*fn)(void *arg, const struct prog_question *q, bool voted),
                             void *arg);
/* Forget questions older than days (with the audit retention), and their
 * votes. Rows deleted (questions and votes), or -1. */
long programme_retain(struct programme *p, long long now_ms, int days);

const char *programme_error(struct programme *p);

#endif
