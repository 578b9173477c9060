/*
 * slides.c - slide decks as files under DATA/slides: the upload into a
 * temporary file, qpdf's page count, the rename into place, and the sweep
 * of decks nobody shows any more.
 *
 * qpdf reads only what it needs: the cross-reference table, the trailer
 * and the page tree (not the pages' content), so counting the pages of a
 * 20 MiB deck takes about as long as of a small one (7 ms for 300 pages).
 * But a page tree kept in a compressed object stream is inflated whole,
 * and a deck of a few KiB can inflate to many GiB (a compression bomb):
 * so qpdf runs in a child process, `venued slides-count FILE`, with a CPU
 * time and an address space limit, killed after SLIDES_CHECK_MS; and
 * nobody waits for it: the caller starts it and polls its pipe.
 */
/* For posix_spawn_file_actions_addclosefrom_np (glibc 2.34). */
#define _GNU_SOURCE

#include "slides.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <qpdf/qpdf-c.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
 * bytes of the file), without the file's path (an error of the system,
 * "open PATH: ...", names it). */
static void qpdf_reason(qpdf_data q, const char *path, char *err, size_t errlen)
{
    qpdf_error e = qpdf_get_error(q);
    const char *detail = e ? qpdf_get_error_message_detail(q, e) : NULL;
    const char *at = detail && path[0] ? strstr(detail, path) : NULL;
    unsigned long long pos = e ? qpdf_get_error_file_position(q, e) : 0;
    int n;

    if (!detail || !detail[0])
        detail = "qpdf cannot read it";
    if (at)
        n = snprintf(err, errlen, "%.*sthe deck%s", (int)(at - detail), detail, at + strlen(path));
    else
        n = snprintf(err, errlen, "%s", detail);
    if (n >= 0 && (size_t)n < errlen && pos > 0)
        snprintf(err + n, errlen - (size_t)n, " (at byte %llu)", pos);
    for (size_t i = 0; err[i]; i++)
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
        qpdf_reason(q, path, err, errlen);
        goto done;
    }
    n = qpdf_get_num_pages(q);
    if (n < 0 || qpdf_has_error(q)) {
        qpdf_reason(q, path, err, errlen);
        goto done;
    }
    *pages = n;
    rc = 0;
done:
    qpdf_cleanup(&q);
    return rc;
}

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

/* The child's limits, set before it reads a byte of the deck. */
static void limit_self(void)
{
    struct rlimit cpu = {SLIDES_CHECK_CPU_S, SLIDES_CHECK_CPU_S + 1}, none = {0, 0};
    unsigned long long vm = vm_size();

    /* The address space it has now (a sanitizer's shadow memory is most
     * of it) and SLIDES_CHECK_MEM more. */
    if (vm > 0) {
        struct rlimit as = {(rlim_t)(vm + SLIDES_CHECK_MEM), (rlim_t)(vm + SLIDES_CHECK_MEM)};
        (void)setrlimit(RLIMIT_AS, &as);
    }
    (void)setrlimit(RLIMIT_CPU, &cpu);
    /* Killed for its CPU time (SIGXCPU): no core file of a bomb. */
    (void)setrlimit(RLIMIT_CORE, &none);
}

/* Did this process come near its memory limit? qpdf turns a failed
 * allocation into an error of its own ("unable to find /Root
 * dictionary"), so a bomb stopped by the limit is told apart by how much
 * it had taken: far more than any deck it could not read otherwise. */
static bool took_much_memory(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 &&
           (unsigned long long)ru.ru_maxrss * 1024 >= SLIDES_CHECK_MEM / 4;
}

/* A bomb's reason: what it took more than (a printf format, then its
 * numbers). */
#define BOMB(what) "reading it took more than " what " (is it a compression bomb?)"

int slides_count_main(int argc, char **argv)
{
    /* "error " + the reason + "\n" fits in SLIDES_VERDICT_MAX - 1. */
    char verdict[SLIDES_VERDICT_MAX], err[SLIDES_VERDICT_MAX - 8];
    int pages = 0, n;

    if (argc != 2) {
        fprintf(stderr, "venued: usage: venued " SLIDES_COUNT_CMD " FILE\n");
        return 2;
    }
    /* "exe" otherwise, after the exec of /proc/self/exe. */
    (void)prctl(PR_SET_NAME, "venued-count");
    limit_self();
    if (count_here(argv[1], &pages, err, sizeof(err)) == 0) {
        n = snprintf(verdict, sizeof(verdict), "pages %d\n", pages);
    } else {
        if (took_much_memory())
            snprintf(err, sizeof(err), BOMB("%d MiB of memory"), (int)(SLIDES_CHECK_MEM >> 20));
        n = snprintf(verdict, sizeof(verdict), "error %s\n", err);
    }
    assert(n > 0 && (size_t)n < sizeof(verdict));
    /* Shorter than PIPE_BUF: written whole or not at all. Then out at
     * once: no exit handlers, no leak check of a process that lived only
     * to count. */
    (void)!write(STDOUT_FILENO, verdict, (size_t)n);
    _exit(0);
}

/*
 * The child, `/proc/self/exe slides-count PATH` with its stdout on out,
 * stdin on /dev/null, no other descriptor of ours, every signal at its
 * default and none blocked. 0, or an errno value.
 *
 * posix_spawn rather than fork: glibc's is clone(CLONE_VM | CLONE_VFORK)
 * and exec, so the caller waits only until the child has exec'd and never
 * copies its page tables. Measured on the loop (2 vCPUs): fork costs
 * 0.6 ms of CPU in a release build and 1.7-2.9 ms under ASan, and grows
 * with the server's memory; posix_spawn costs 0.1 ms of CPU and 0.2 ms
 * of wall time whatever the size, more only while the child waits for a
 * CPU (1-8 ms on a box whose cores are both busy).
 */
static int spawn_child(const char *path, int out, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    int rc;

    rc = posix_spawn_file_actions_init(&fa);
    if (rc)
        return rc;
    rc = posix_spawnattr_init(&attr);
    if (rc) {
        posix_spawn_file_actions_destroy(&fa);
        return rc;
    }
    sigemptyset(&none);
    sigfillset(&all);
    if (!(rc = posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO)) &&
        !(rc = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0)) &&
        !(rc = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1)) &&
        !(rc = posix_spawnattr_setsigmask(&attr, &none)) &&
        !(rc = posix_spawnattr_setsigdefault(&attr, &all)) &&
        !(rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))) {
        char *argv[] = {"venued", SLIDES_COUNT_CMD, (char *)path, NULL};
        rc = posix_spawn(pid, "/proc/self/exe", &fa, &attr, argv, environ);
    }
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

int slides_count_start(struct slides_count *c, const char *path, long long now_ms, char *err,
                       size_t errlen)
{
    int fds[2], rc;
    pid_t pid;

    memset(c, 0, sizeof(*c));
    c->fd = -1;
    if (pipe(fds) < 0) {
        snprintf(err, errlen, "cannot check the deck: %s", strerror(errno));
        return -1;
    }
    /* Neither end is inherited as it is (the child's stdout is a copy of
     * the write end), and ours never makes us wait. */
    if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(fds[1], F_SETFD, FD_CLOEXEC) < 0 ||
        fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
        snprintf(err, errlen, "cannot check the deck: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    rc = spawn_child(path, fds[1], &pid);
    /* Only the child writes: its exit is our end of file. */
    close(fds[1]);
    if (rc) {
        snprintf(err, errlen, "cannot check the deck: %s", strerror(rc));
        close(fds[0]);
        return -1;
    }
    c->pid = (int)pid;
    c->fd = fds[0];
    c->running = true;
    c->deadline_ms = now_ms + SLIDES_CHECK_MS;
    return 0;
}

/* The child's line, "pages N" or "error WHY" (out NUL-terminated, without
 * its newline): 1 and *pages, or -1 with the reason in err. The child read
 * a hostile file: what it says is checked like any input. */
static int parse_verdict(const char *out, int *pages, char *err, size_t errlen)
{
    static const char ok[] = "pages ", bad[] = "error ";
    size_t n;

    if (strncmp(out, ok, sizeof(ok) - 1) == 0) {
        const char *num = out + sizeof(ok) - 1;
        char *end;
        long v;
        errno = 0;
        v = strtol(num, &end, 10);
        if (num[0] >= '0' && num[0] <= '9' && !*end && !errno && v <= INT_MAX) {
            *pages = (int)v;
            return 1;
        }
    } else if (strncmp(out, bad, sizeof(bad) - 1) == 0 && out[sizeof(bad) - 1]) {
        snprintf(err, errlen, "%s", out + sizeof(bad) - 1);
        n = strlen(err);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)err[i] < ' ' || (unsigned char)err[i] > '~')
                err[i] = '?';
        return -1;
    }
    snprintf(err, errlen, "qpdf cannot read it");
    return -1;
}

int slides_count_poll(struct slides_count *c, long long now_ms, int *pages, char *err,
                      size_t errlen)
{
    bool ended = false; /* end of file, or the pipe failed */
    char *nl;
    int rc;

    assert(c->running && c->fd >= 0);
    while (c->len < sizeof(c->out) - 1) {
        ssize_t n = read(c->fd, c->out + c->len, sizeof(c->out) - 1 - c->len);
        if (n > 0) {
            c->len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        ended = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
        break;
    }
    c->out[c->len] = '\0';
    nl = strchr(c->out, '\n');
    if (nl) {
        *nl = '\0';
        rc = parse_verdict(c->out, pages, err, errlen);
    } else if (ended || c->len >= sizeof(c->out) - 1) {
        /* Killed by its limits (SIGXCPU, or out of memory), or it died. */
        snprintf(err, errlen, BOMB("%d s of CPU or %d MiB of memory"), SLIDES_CHECK_CPU_S,
                 (int)(SLIDES_CHECK_MEM >> 20));
        rc = -1;
    } else if (now_ms < c->deadline_ms) {
        return 0;
    } else {
        snprintf(err, errlen, BOMB("%d ms"), SLIDES_CHECK_MS);
        rc = -1;
    }
    /* Done, or over time: either way it goes now. */
    slides_count_cancel(c);
    return rc;
}

void slides_count_cancel(struct slides_count *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->running = false;
    if (c->pid > 0)
        (void)kill((pid_t)c->pid, SIGKILL);
}

bool slides_count_reap(struct slides_count *c)
{
    int status;
    pid_t r;

    if (c->pid <= 0)
        return true;
    r = waitpid((pid_t)c->pid, &status, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return false; /* not yet: it has been killed, and goes in a moment */
    /* Reaped (or, ECHILD, not ours to reap): nothing is left of it. */
    c->pid = 0;
    return true;
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
