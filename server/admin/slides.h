/*
 * slides.h - the slide decks speakers upload, as files: a PDF received in
 * pieces into a temporary file under DATA/slides/ (never whole in memory),
 * checked by its magic bytes and by qpdf (it must parse, and its pages are
 * counted), then made durable (fsync) and renamed to
 * DATA/slides/{session}-{version}.pdf, which GET /api/sessions/{id}/slides
 * serves. The core keeps only the page count, the page and the version.
 *
 * No transport in here: the HTTP layer feeds the body in as it arrives.
 */
#ifndef VENUE_SLIDES_H
#define VENUE_SLIDES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "programme.h"
#include "venue.h"

#define SLIDES_DIR         "slides"   /* under --data */
#define SLIDES_TMP_PREFIX  ".upload-" /* temporary files, removed at start */
#define SLIDES_CHECK_MS    1500       /* the longest a count may take, start to verdict */
#define SLIDES_CHECK_CPU_S 1          /* CPU seconds qpdf may take */
#define SLIDES_CHECK_MEM   ((unsigned long long)512 << 20) /* bytes more qpdf may map */

/* One upload in progress. Zeroed memory is "none"; slides_abort (or a
 * finished slides_commit) closes and removes what it holds. */
struct slides_upload {
    bool active;               /* a temporary file is open */
    int fd;                    /* the temporary file, while active */
    char tmp[PATH_MAX];        /* its path */
    char session[PROG_ID_MAX]; /* the session it is for */
    unsigned char head[8];     /* the body's first bytes */
    size_t head_len;
    size_t len;   /* bytes written so far */
    size_t max;   /* the most it may take */
    bool over;    /* the body went over max: nothing more is written */
    int io_errno; /* a write failed with this (0: none) */
};

/* The deck folder, DATA/slides, into out: 0, or -1 when it does not fit. */
int slides_dir(const char *data_dir, char *out, size_t size);
/* DATA/slides/{session}-{version}.pdf into out: 0, or -1 when it does not
 * fit. session must be a session id (asserted: no '/' or '.'). */
int slides_file(const char *data_dir, const char *session, int version, char *out, size_t size);

/*
 * Make DATA/slides (data_dir must exist) and remove the temporary files
 * an interrupted upload left there. 0, or -1 with the reason in err.
 */
int slides_prepare(const char *data_dir, char *err, size_t errlen);
/*
 * Remove every deck file in DATA/slides that no session of v shows now
 * (older versions, sessions no longer in the programme). Temporary files
 * of uploads in progress are left alone. Returns the number removed.
 */
int slides_sweep(const char *data_dir, const struct venue *v);

/*
 * Counting a deck's pages, without ever making the caller wait: qpdf runs
 * in a child process, `venued slides-count FILE` (SLIDES_COUNT_CMD, run as
 * /proc/self/exe: the program that calls slides_count_start must send
 * that subcommand to slides_count_main), which limits itself to
 * SLIDES_CHECK_CPU_S of CPU and SLIDES_CHECK_MEM more memory before it
 * reads a byte of the file, and says its verdict on stdout, a pipe. The
 * caller polls it (slides_count_poll) until the verdict is in or
 * SLIDES_CHECK_MS have passed (then the child is killed), and reaps it
 * (slides_count_reap): no call here blocks.
 */
#define SLIDES_COUNT_CMD   "slides-count"
#define SLIDES_VERDICT_MAX 512 /* bytes of the child's verdict, "pages N" or "error WHY" */

/* One count. Zeroed memory is "none" (pid 0: nothing to reap). */
struct slides_count {
    int pid;                      /* the child (a pid_t); 0 once reaped */
    int fd;                       /* our end of its stdout (non-blocking); -1 once closed */
    bool running;                 /* no verdict yet */
    long long deadline_ms;        /* killed if it has said nothing by then (the caller's clock) */
    char out[SLIDES_VERDICT_MAX]; /* what it has said so far */
    size_t len;
};

/*
 * Start counting the pages of the PDF at path: the child is running when
 * this returns (its start costs the caller a vfork and an exec, not a copy
 * of the caller's memory). 0, or -1 with the reason in err (nothing to
 * poll or reap). now_ms is the clock slides_count_poll is given.
 */
int slides_count_start(struct slides_count *c, const char *path, long long now_ms, char *err,
                       size_t errlen);
/*
 * Read what the child has said, without waiting. 0: no verdict yet, poll
 * again later. 1 and *pages: counted. -1 with the reason in err (without
 * the path): qpdf cannot read it, or it took more than SLIDES_CHECK_MS by
 * now_ms or more than the child's limits (it is killed). After 1 or -1 the
 * pipe is closed and the child killed; reap it with slides_count_reap.
 */
int slides_count_poll(struct slides_count *c, long long now_ms, int *pages, char *err,
                      size_t errlen);
/* Stop a count the caller no longer wants: the pipe closed, the child
 * killed (reap it with slides_count_reap). Safe to call again. */
void slides_count_cancel(struct slides_count *c);
/* Reap the child if it has ended, without waiting: true when nothing is
 * left of it (call again later while false; it has been killed). */
bool slides_count_reap(struct slides_count *c);
/*
 * `venued slides-count FILE` (argv[0] is "slides-count"): limits, qpdf,
 * the verdict on stdout in one write, and _exit. Not for people: no
 * --help; the exit status is 0 once a verdict is written, 2 for a bad
 * command line.
 */
int slides_count_main(int argc, char **argv);

/*
 * Start an upload of at most max bytes for session: a new temporary file
 * in DATA/slides (mode 0600). 0, or -1 with the reason in err (logged by
 * the caller; it names a path).
 */
int slides_begin(struct slides_upload *up, const char *data_dir, const char *session, size_t max,
                 char *err, size_t errlen);
/* Append len bytes of the body. 0, or -1 once it is over max (up->over)
 * or a write failed (up->io_errno); then the rest is ignored. */
int slides_write(struct slides_upload *up, const void *data, size_t len);
/* Does the body start like a PDF ("%PDF-")? */
bool slides_is_pdf(const struct slides_upload *up);
/*
 * The body is complete and checked: fsync it and rename it to
 * DATA/slides/{session}-{version}.pdf. The upload is over either way. 0,
 * or -1 with the reason in err (the temporary file is gone).
 */
int slides_commit(struct slides_upload *up, const char *data_dir, int version, char *err,
                  size_t errlen);
/* Close and remove the temporary file, if any; safe to call again. */
void slides_abort(struct slides_upload *up);

#endif
