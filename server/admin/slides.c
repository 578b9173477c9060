/*
 * slides.c - slide decks as files under DATA/slides: the upload into a
 * temporary file, qpdf's page count, the rename into place, and the sweep
 * of decks nobody shows any more.
 *
 * qpdf reads only what it needs: the cross-reference table, the trailer
 * and the page tree (not the pages' content), so counting the pages of a
 * 20 MiB deck takes about as long as of a small one (7 ms for 300 pages).
 * But a page tree kept in a compressed object stream is inflated whole,
 * and a deck of a few MiB can inflate to many GiB (a compression bomb):
 * so qpdf runs in a child process, with a CPU time and an address space
 * limit, and the loop waits for it SLIDES_CHECK_MS at the most.
 */
#include "slides.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <qpdf/qpdf-c.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char pdf_magic[] = "%PDF-";

int slides_dir(const char *data_dir, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/" SLIDES_DIR, data_dir);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int slides_file(const char *data_dir, const char *session, int version, char *out, size_t size)
{
    int n;
    /* Session ids are [A-Za-z0-9_-]: nothing in one leaves the folder. */
    assert(session[0] && !strchr(session, '/') && !strchr(session, '.'));
    n = snprintf(out, size, "%s/" SLIDES_DIR "/%s-%d.pdf", data_dir, session, version);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int slides_prepare(const char *data_dir, char *err, size_t errlen)
{
    char dir[PATH_MAX], path[PATH_MAX];
    struct dirent *de;
    DIR *d;

    if (slides_dir(data_dir, dir, sizeof(dir)) < 0) {
        snprintf(err, errlen, "--data %s: the path is too long", data_dir);
        return -1;
    }
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, SLIDES_TMP_PREFIX, strlen(SLIDES_TMP_PREFIX)) != 0)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path))
            unlink(path);
    }
    closedir(d);
    return 0;
}

/* "{id}-{version}.pdf": 1 and the parts, or 0 when name is not a deck. */
static int parse_deck_name(const char *name, char *id, size_t idsize, int *version)
{
    size_t n = strlen(name), dash;
    long v;
    char *end;

    if (n < 7 || strcmp(name + n - 4, ".pdf") != 0)
        return 0;
    dash = n - 4;
    while (dash > 0 && name[dash - 1] >= '0' && name[dash - 1] <= '9')
        dash--;
    if (dash == n - 4 || dash < 2 || name[dash - 1] != '-' || dash - 1 >= idsize)
        return 0;
    v = strtol(name + dash, &end, 10);
    if (end != name + n - 4 || v < 1 || v > 1000000000L)
        return 0;
    memcpy(id, name, dash - 1);
    id[dash - 1] = '\0';
    *version = (int)v;
    return 1;
}

int slides_sweep(const char *data_dir, const struct venue *v)
{
    char dir[PATH_MAX], path[PATH_MAX], id[PROG_ID_MAX];
    struct dirent *de;
    int removed = 0, version;
    DIR *d;

    if (slides_dir(data_dir, dir, sizeof(dir)) < 0 || !(d = opendir(dir)))
        return 0;
    while ((de = readdir(d))) {
        const struct prog_session *s;
        if (!parse_deck_name(de->d_name, id, sizeof(id), &version))
            continue;
        s = venue_programme_find(v, id);
        if (s && s->slides_pages > 0 && s->slides_version == version)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path) &&
            unlink(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

/* qpdf's reason for the last error, printable ASCII only (it may quote
 * bytes of the file), without the file's path. */
static void qpdf_reason(qpdf_data q, char *err, size_t errlen)
{
    qpdf_error e = qpdf_get_error(q);
    const char *detail = e ? qpdf_get_error_message_detail(q, e) : NULL;
    unsigned long long pos = e ? qpdf_get_error_file_position(q, e) : 0;
    size_t n;

    if (!detail || !detail[0])
        detail = "qpdf cannot read it";
    if (pos > 0)
        snprintf(err, errlen, "%s (at byte %llu)", detail, pos);
    else
        snprintf(err, errlen, "%s", detail);
    n = strlen(err);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)err[i] < ' ' || (unsigned char)err[i] > '~')
            err[i] = '?';
}

/* qpdf's page count, in this process. */
static int count_here(const char *path, int *pages, char *err, size_t errlen)
{
    qpdf_data q = qpdf_init();
    int n, rc = -1;

    if (!q) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Errors come back to us, not to stderr; a deck whose cross-reference
     * table is broken (a truncated upload) is refused rather than rebuilt
     * by scanning the whole file. */
    qpdf_silence_errors(q);
    qpdf_set_suppress_warnings(q, QPDF_TRUE);
    qpdf_set_attempt_recovery(q, QPDF_FALSE);
    if (qpdf_read(q, path, "") & QPDF_ERRORS) {
        qpdf_reason(q, err, errlen);
        goto done;
    }
    n = qpdf_get_num_pages(q);
    if (n < 0 || qpdf_has_error(q)) {
        qpdf_reason(q, err, errlen);
        goto done;
    }
    *pages = n;
    rc = 0;
done:
    qpdf_cleanup(&q);
    return rc;
}

/* What the child reports. */
struct verdict {
    int rc;
    int pages;
    char err[400];
};

/* The child: limits, the count, the verdict on fd, and out (no atexit
 * handlers, no buffers of the parent's flushed twice). */
/* The size of this process's address space in bytes, or 0. */
static unsigned long long vm_size(void)
{
    char text[64];
    long pagesize = sysconf(_SC_PAGESIZE);
    unsigned long long pages;
    ssize_t n;
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return 0;
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0 || pagesize <= 0)
        return 0;
    text[n] = '\0';
    errno = 0;
    pages = strtoull(text, NULL, 10); /* the first field: total pages */
    return errno ? 0 : pages * (unsigned long long)pagesize;
}

/* The child: limits, the count, the verdict on fd, and out (no atexit
 * handlers, no buffers of the parent's flushed twice). */
static void count_child(const char *path, int fd)
{
    struct verdict v = {.rc = -1};
    struct rlimit cpu = {SLIDES_CHECK_CPU_S, SLIDES_CHECK_CPU_S + 1};
    unsigned long long vm = vm_size();

    /* The address space it has now (the server's, shared copy-on-write;
     * a sanitizer's shadow memory too) and SLIDES_CHECK_MEM more. */
    if (vm > 0) {
        struct rlimit as = {(rlim_t)(vm + SLIDES_CHECK_MEM), (rlim_t)(vm + SLIDES_CHECK_MEM)};
        (void)setrlimit(RLIMIT_AS, &as);
    }
    (void)setrlimit(RLIMIT_CPU, &cpu);
    v.rc = count_here(path, &v.pages, v.err, sizeof(v.err));
    /* Smaller than PIPE_BUF: written whole or not at all. */
    (void)!write(fd, &v, sizeof(v));
    _exit(0);
}

int slides_count_pages(const char *path, int *pages, char *err, size_t errlen)
{
    struct verdict v;
    struct pollfd pfd;
    size_t got = 0;
    int fds[2], status;
    pid_t pid;

    if (pipe(fds) < 0) {
        snprintf(err, errlen, "cannot check the deck: %s", strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot check the deck: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        count_child(path, fds[1]);
    }
    close(fds[1]);
    pfd.fd = fds[0];
    pfd.events = POLLIN;
    for (long long left = SLIDES_CHECK_MS; got < sizeof(v) && left > 0;) {
        struct timespec t0, t1;
        ssize_t n;
        int r;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = poll(&pfd, 1, (int)left);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        left -= (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n = read(fds[0], (char *)&v + got, sizeof(v) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    /* Over time, or done: either way it goes now. */
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (got < sizeof(v)) {
        snprintf(err, errlen,
                 "reading it took more than %d ms or %d MiB (is it a compression bomb?)",
                 SLIDES_CHECK_MS, (int)(SLIDES_CHECK_MEM >> 20));
        return -1;
    }
    v.err[sizeof(v.err) - 1] = '\0';
    if (v.rc < 0) {
        snprintf(err, errlen, "%s", v.err);
        return -1;
    }
    *pages = v.pages;
    return 0;
}

int slides_begin(struct slides_upload *up, const char *data_dir, const char *session, size_t max,
                 char *err, size_t errlen)
{
    char dir[PATH_MAX];
    size_t idlen = strlen(session);

    memset(up, 0, sizeof(*up));
    up->fd = -1;
    if (idlen == 0 || idlen >= sizeof(up->session)) {
        snprintf(err, errlen, "slides: not a session id");
        return -1;
    }
    if (slides_dir(data_dir, dir, sizeof(dir)) < 0 ||
        snprintf(up->tmp, sizeof(up->tmp), "%s/" SLIDES_TMP_PREFIX "XXXXXX", dir) >=
            (int)sizeof(up->tmp)) {
        snprintf(err, errlen, "--data %s: the path is too long", data_dir);
        return -1;
    }
    /* mkstemp: a fresh name, O_EXCL, mode 0600. */
    up->fd = mkstemp(up->tmp);
    if (up->fd < 0) {
        snprintf(err, errlen, "%s: %s", up->tmp, strerror(errno));
        up->tmp[0] = '\0';
        return -1;
    }
    (void)fcntl(up->fd, F_SETFD, FD_CLOEXEC);
    memcpy(up->session, session, idlen + 1);
    up->max = max;
    up->active = true;
    return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int slides_write(struct slides_upload *up, const void *data, size_t len)
{
    const unsigned char *p = data;
    if (!up->active || up->over || up->io_errno)
        return -1;
    if (len > up->max - up->len) {
        up->over = true;
        return -1;
    }
    /* The first bytes, for the magic check, as they go by. */
    for (size_t i = 0; up->head_len < sizeof(up->head) && i < len; i++)
        up->head[up->head_len++] = p[i];
    up->io_errno = write_all(up->fd, p, len);
    if (up->io_errno)
        return -1;
    up->len += len;
    return 0;
}

bool slides_is_pdf(const struct slides_upload *up)
{
    return up->head_len >= sizeof(pdf_magic) - 1 &&
           memcmp(up->head, pdf_magic, sizeof(pdf_magic) - 1) == 0;
}

int slides_commit(struct slides_upload *up, const char *data_dir, int version, char *err,
                  size_t errlen)
{
    char path[PATH_MAX], dir[PATH_MAX];
    int dfd;

    assert(up->active);
    if (slides_file(data_dir, up->session, version, path, sizeof(path)) < 0 ||
        slides_dir(data_dir, dir, sizeof(dir)) < 0) {
        snprintf(err, errlen, "--data %s: the path is too long", data_dir);
        slides_abort(up);
        return -1;
    }
    /* The bytes on disk before the name: a crash leaves the old deck or
     * the whole new one, never half of it. */
    if (fsync(up->fd) < 0 || close(up->fd) < 0) {
        snprintf(err, errlen, "%s: %s", up->tmp, strerror(errno));
        up->fd = -1;
        slides_abort(up);
        return -1;
    }
    up->fd = -1;
    if (rename(up->tmp, path) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        slides_abort(up);
        return -1;
    }
    up->tmp[0] = '\0';
    up->active = false;
    /* And the rename itself. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

void slides_abort(struct slides_upload *up)
{
    if (!up->active)
        return;
    if (up->fd >= 0)
        close(up->fd);
    up->fd = -1;
    if (up->tmp[0])
        unlink(up->tmp);
    up->tmp[0] = '\0';
    up->active = false;
}
