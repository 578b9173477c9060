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
#define SLIDES_CHECK_MS    1500       /* the longest the loop waits for qpdf's verdict */
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
 * Count the pages of the PDF at path with qpdf (no recovery of a broken
 * cross-reference table: a truncated file is refused), in a child process
 * limited to SLIDES_CHECK_CPU_S of CPU and SLIDES_CHECK_MEM of memory,
 * waited for SLIDES_CHECK_MS at most. 0 and *pages, or -1 with qpdf's
 * reason (without the path) in err.
 */
int slides_count_pages(const char *path, int *pages, char *err, size_t errlen);

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
