/*
 * tunhold - a TUN device for the voice tests' network namespace.
 *
 *   tunhold NAME ADDR/PREFIX      e.g. tunhold vtun0 10.77.0.1/24
 *
 * Creates the TUN interface NAME (IFF_TUN | IFF_NO_PI), gives it the IPv4
 * address ADDR/PREFIX and sets it up, prints "ready" on stdout and then
 * holds it: a TUN device is up only while a process holds its file
 * descriptor. Packets routed into it are read and thrown away. It ends,
 * and the interface with it, when stdin closes (end of file or hang-up),
 * or on SIGTERM, SIGINT or SIGHUP.
 *
 * Janus (libnice) never offers a loopback candidate, so a namespace with
 * only `lo` has no ICE address; this gives it one, and nothing it carries
 * leaves the namespace. Needs CAP_NET_ADMIN (root in the namespace) and
 * /dev/net/tun. Every failure names the step and exits 1; bad usage 2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static int fail(const char *what, const char *name)
{
    int e = errno;
    fprintf(stderr, "tunhold: %s%s%s: %s\n", what, name[0] ? " " : "", name, strerror(e));
    return -1;
}

/* "10.77.0.1/24" into an address and a netmask; -1 when it is not one. */
static int parse_cidr(const char *text, struct in_addr *addr, struct in_addr *mask)
{
    char buf[INET_ADDRSTRLEN + 4];
    const char *slash = strchr(text, '/');
    char *end;
    long prefix;
    size_t n;

    if (!slash)
        return -1;
    n = (size_t)(slash - text);
    if (n == 0 || n >= INET_ADDRSTRLEN)
        return -1;
    memcpy(buf, text, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, addr) != 1)
        return -1;
    errno = 0;
    prefix = strtol(slash + 1, &end, 10);
    if (errno || end == slash + 1 || *end || prefix < 1 || prefix > 32)
        return -1;
    mask->s_addr = htonl(prefix == 32 ? 0xffffffffU : ~(0xffffffffU >> prefix));
    return 0;
}

static int set_inet(int sock, unsigned long req, const char *name, struct in_addr a,
                    const char *what)
{
    struct ifreq ifr;
    struct sockaddr_in sin;

    memset(&ifr, 0, sizeof(ifr));
    memset(&sin, 0, sizeof(sin));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    sin.sin_family = AF_INET;
    sin.sin_addr = a;
    memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
    if (ioctl(sock, req, &ifr) < 0)
        return fail(what, name);
    return 0;
}

/* The address, the netmask and IFF_UP on NAME, through an AF_INET socket. */
static int configure(const char *name, struct in_addr addr, struct in_addr mask)
{
    struct ifreq ifr;
    int rc = -1;
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (sock < 0)
        return fail("socket(AF_INET) for", name);
    if (set_inet(sock, SIOCSIFADDR, name, addr, "setting the address of") < 0 ||
        set_inet(sock, SIOCSIFNETMASK, name, mask, "setting the netmask of") < 0)
        goto out;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
        fail("reading the flags of", name);
        goto out;
    }
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
        fail("setting up", name);
        goto out;
    }
    rc = 0;
out:
    close(sock);
    return rc;
}

static int open_tun(const char *name)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        fail("opening", "/dev/net/tun");
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fail("creating the TUN interface (TUNSETIFF)", name);
        close(fd);
        return -1;
    }
    if (strcmp(ifr.ifr_name, name) != 0) {
        fprintf(stderr, "tunhold: the kernel named the interface %s, not %s\n", ifr.ifr_name, name);
        close(fd);
        return -1;
    }
    return fd;
}

/* Until stdin ends or a signal: read and drop what the kernel routes in. */
static int hold(int fd)
{
    char packet[65536];

    for (;;) {
        struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
        if (stop_signal)
            return 0;
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            fail("poll on", "the TUN device and stdin");
            return -1;
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
            char b[256];
            ssize_t n = read(0, b, sizeof(b));
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) ||
                (p[0].revents & (POLLERR | POLLNVAL)))
                return 0; /* stdin closed: our owner is gone */
        }
        if (p[1].revents & (POLLERR | POLLHUP | POLLNVAL)) {
            fprintf(stderr, "tunhold: the TUN device reported an error\n");
            return -1;
        }
        if (p[1].revents & POLLIN) {
            /* Bounded: a busy device cannot keep us from seeing stdin. */
            for (int i = 0; i < 64; i++) {
                ssize_t n = read(fd, packet, sizeof(packet));
                if (n >= 0)
                    continue;
                if (errno == EAGAIN || errno == EINTR)
                    break;
                fail("reading from", "the TUN device");
                return -1;
            }
        }
    }
}

int main(int argc, char **argv)
{
    struct in_addr addr, mask;
    struct sigaction sa;
    int fd, rc;

    if (argc != 3 || strlen(argv[1]) == 0 || strlen(argv[1]) >= IFNAMSIZ ||
        parse_cidr(argv[2], &addr, &mask) < 0) {
        fprintf(stderr,
                "usage: tunhold NAME ADDR/PREFIX  (NAME under %d characters, e.g. "
                "tunhold vtun0 10.77.0.1/24)\n",
                IFNAMSIZ);
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
        sigaction(SIGHUP, &sa, NULL) < 0) {
        fail("installing the signal handlers", "");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    fd = open_tun(argv[1]);
    if (fd < 0)
        return 1;
    if (configure(argv[1], addr, mask) < 0) {
        close(fd);
        return 1;
    }
    if (printf("ready\n") < 0 || fflush(stdout) != 0) {
        fail("writing ready for", argv[1]);
        close(fd);
        return 1;
    }
    rc = hold(fd);
    close(fd);
    return rc < 0 ? 1 : 0;
}
