/*
 * chaosproxy: a seeded TCP forwarder that delays, stalls, resets and truncates
 * the streams it carries. This kernel has no netem, so the integration tests
 * take delay and loss from here. One thread, one poll() loop, many connections.
 *
 * usage: chaosproxy --listen HOST:PORT --to HOST:PORT [--seed N]
 *          [--delay-ms MIN-MAX] [--stall-prob P --stall-ms MIN-MAX]
 *          [--rst-prob P] [--truncate-prob P] [--duration S]
 *
 * Faults, all drawn from one generator seeded by --seed:
 *   delay     every chunk read waits MIN..MAX ms before it is written on; chunks
 *             of one direction never overtake each other (the stream stays whole);
 *   stall     with probability P per chunk, that chunk (and so everything behind
 *             it in its direction) waits a further MIN..MAX ms;
 *   rst       once a second, each connection is reset with probability P: both
 *             sockets are closed with SO_LINGER 0, so both peers see an RST;
 *   truncate  with probability P per chunk, only a random prefix of the chunk is
 *             forwarded, then both sides are closed (a stream cut mid-frame).
 * A port of 0 in --listen picks a free one. The first line on stdout is always
 * "listening HOST:PORT". On SIGTERM, SIGINT or after --duration the fault
 * counts go to stderr on one line and the proxy exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHAOS_CHUNK_MAX   16384
#define CHAOS_QUEUE_MAX   (4u << 20) /* stop reading a side whose backlog passes this */
#define CHAOS_CONN_MAX    4096
#define CHAOS_TICK_MS     1000

struct chaos_range {
    int64_t min;
    int64_t max;
};

struct chaos_options {
    const char *listen;
    const char *to;
    uint64_t seed;
    struct chaos_range delay_ms;
    double stall_prob;
    struct chaos_range stall_ms;
    double rst_prob;
    double truncate_prob;
    int64_t duration_s;
};

struct chaos_chunk {
    struct chaos_chunk *next;
    int64_t release_ms;
    size_t len;
    size_t off;
    unsigned char bytes[];
};

/* One direction: read from conn.fd[d], written to conn.fd[1 - d]. */
struct chaos_dir {
    struct chaos_chunk *head;
    struct chaos_chunk *tail;
    size_t queued;
    int64_t last_release_ms;
    bool is_eof;       /* the source said EOF (or was cut): read no more */
    bool is_shut;      /* EOF passed on to the destination */
    bool cuts_after;   /* a truncated chunk is queued: close all once it is out */
};

struct chaos_conn {
    int fd[2]; /* 0: the client that connected to us; 1: our connection upstream */
    bool is_connecting;
    bool is_dead;
    bool is_hup[2]; /* that socket is closed both ways: poll it no more, write nothing to it */
    struct chaos_dir dir[2];
};

struct chaos_stats {
    uint64_t conns;
    uint64_t connect_failures;
    uint64_t bytes[2];
    uint64_t chunks;
    uint64_t delayed;
    uint64_t stalls;
    uint64_t resets;
    uint64_t truncations;
    uint64_t refused;
};

static uint64_t chaos_rng_state;
static int chaos_signal_pipe[2] = { -1, -1 };
static struct chaos_stats stats;

static uint64_t
chaos_rng_next(void)
{
    /* splitmix64: tiny, well mixed, and every seed is a good one. */
    uint64_t z = (chaos_rng_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double
chaos_rng_unit(void)
{
    return (double)(chaos_rng_next() >> 11) * 0x1.0p-53;
}

static int64_t
chaos_rng_range(struct chaos_range r)
{
    if (r.max <= r.min) {
        return r.min;
    }
    return r.min + (int64_t)(chaos_rng_next() % (uint64_t)(r.max - r.min + 1));
}

static bool
chaos_rng_hit(double p)
{
    return p > 0 && chaos_rng_unit() < p;
}

static int64_t
chaos_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
chaos_on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;

    if (write(chaos_signal_pipe[1], &b, 1) < 0) {
        /* the pipe is full: a stop is already pending */
    }
    errno = saved;
}

static void
chaos_usage(void)
{
    fputs("usage: chaosproxy --listen HOST:PORT --to HOST:PORT [--seed N]\n"
          "         [--delay-ms MIN-MAX] [--stall-prob P --stall-ms MIN-MAX]\n"
          "         [--rst-prob P] [--truncate-prob P] [--duration S]\n",
          stderr);
    exit(2);
}

static bool
chaos_parse_range(const char *s, struct chaos_range *out)
{
    char *end;
    long long a = strtoll(s, &end, 10);
    long long b = a;

    if (end == s || a < 0) {
        return false;
    }
    if (*end == '-') {
        const char *t = end + 1;

        b = strtoll(t, &end, 10);
        if (end == t) {
            return false;
        }
    }
    if (*end != '\0' || b < a) {
        return false;
    }
    out->min = a;
    out->max = b;
    return true;
}

static bool
chaos_parse_prob(const char *s, double *out)
{
    char *end;
    double p = strtod(s, &end);

    if (end == s || *end != '\0' || !(p >= 0.0 && p <= 1.0)) {
        return false;
    }
    *out = p;
    return true;
}

static void
chaos_parse_args(int argc, char **argv, struct chaos_options *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    for (int i = 1; i < argc; i += 2) { /* every option takes one value */
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = v != NULL;

        if (ok && strcmp(a, "--listen") == 0) {
            o->listen = v;
        } else if (ok && strcmp(a, "--to") == 0) {
            o->to = v;
        } else if (ok && strcmp(a, "--seed") == 0) {
            char *end;

            o->seed = strtoull(v, &end, 10);
            ok = end != v && *end == '\0';
        } else if (ok && strcmp(a, "--delay-ms") == 0) {
            ok = chaos_parse_range(v, &o->delay_ms);
        } else if (ok && strcmp(a, "--stall-prob") == 0) {
            ok = chaos_parse_prob(v, &o->stall_prob);
        } else if (ok && strcmp(a, "--stall-ms") == 0) {
            ok = chaos_parse_range(v, &o->stall_ms);
        } else if (ok && strcmp(a, "--rst-prob") == 0) {
            ok = chaos_parse_prob(v, &o->rst_prob);
        } else if (ok && strcmp(a, "--truncate-prob") == 0) {
            ok = chaos_parse_prob(v, &o->truncate_prob);
        } else if (ok && strcmp(a, "--duration") == 0) {
            char *end;

            o->duration_s = strtoll(v, &end, 10);
            ok = end != v && *end == '\0' && o->duration_s >= 0;
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "chaosproxy: bad or missing value for %s\n", a);
            chaos_usage();
        }
    }
    if (o->listen == NULL || o->to == NULL) {
        chaos_usage();
    }
}

/* HOST:PORT (or [V6]:PORT) to an address; exits on failure. */
static void
chaos_resolve(const char *hostport, bool is_passive, struct sockaddr_storage *out,
              socklen_t *out_len)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    struct addrinfo hints = { 0 };
    struct addrinfo *res = NULL;
    size_t hlen;
    int rc;

    if (colon == NULL || colon == hostport || (size_t)(colon - hostport) >= sizeof host) {
        fprintf(stderr, "chaosproxy: expected HOST:PORT, got %s\n", hostport);
        exit(2);
    }
    hlen = (size_t)(colon - hostport);
    if (hostport[0] == '[' && hlen >= 2 && hostport[hlen - 1] == ']') {
        memcpy(host, hostport + 1, hlen - 2);
        host[hlen - 2] = '\0';
    } else {
        memcpy(host, hostport, hlen);
        host[hlen] = '\0';
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (is_passive ? AI_PASSIVE : 0);
    rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || res == NULL) {
        fprintf(stderr, "chaosproxy: cannot resolve %s: %s\n", hostport, gai_strerror(rc));
        exit(1);
    }
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *out_len = res->ai_addrlen;
    freeaddrinfo(res);
}

static int
chaos_listen(const char *hostport)
{
    struct sockaddr_storage addr;
    socklen_t len;
    char host[NI_MAXHOST];
    char port[NI_MAXSERV];
    int one = 1;
    int fd;

    chaos_resolve(hostport, true, &addr, &len);
    fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&addr, len) != 0 || listen(fd, 128) != 0) {
        fprintf(stderr, "chaosproxy: cannot listen on %s: %s\n", hostport, strerror(errno));
        exit(1);
    }
    len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0 ||
        getnameinfo((struct sockaddr *)&addr, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        fprintf(stderr, "chaosproxy: cannot name the listening socket\n");
        exit(1);
    }
    printf(addr.ss_family == AF_INET6 ? "listening [%s]:%s\n" : "listening %s:%s\n", host, port);
    fflush(stdout);
    return fd;
}

static void
chaos_dir_free(struct chaos_dir *d)
{
    while (d->head != NULL) {
        struct chaos_chunk *next = d->head->next;

        free(d->head);
        d->head = next;
    }
    d->tail = NULL;
    d->queued = 0;
}

/* Closes both sockets; with is_reset, as an RST (SO_LINGER 0) rather than a FIN. */
static void
chaos_conn_close(struct chaos_conn *c, bool is_reset)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    if (c->is_dead) {
        return;
    }
    for (int i = 0; i < 2; i++) {
        if (c->fd[i] >= 0) {
            if (is_reset) {
                (void)setsockopt(c->fd[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            }
            close(c->fd[i]);
            c->fd[i] = -1;
        }
        chaos_dir_free(&c->dir[i]);
    }
    c->is_dead = true;
}

static void
chaos_accept(int lfd, const struct sockaddr_storage *to, socklen_t to_len,
             struct chaos_conn ***conns, size_t *n, size_t *cap)
{
    for (;;) {
        struct chaos_conn *c;
        int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        int ufd;
        int one = 1;

        if (cfd < 0) {
            return; /* EAGAIN, or a connection that went away before we took it */
        }
        if (*n >= CHAOS_CONN_MAX) {
            stats.refused++;
            close(cfd);
            continue;
        }
        ufd = socket(to->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (ufd < 0) {
            stats.connect_failures++;
            close(cfd);
            continue;
        }
        (void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        (void)setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c = calloc(1, sizeof *c);
        if (c == NULL) {
            abort();
        }
        c->fd[0] = cfd;
        c->fd[1] = ufd;
        c->is_connecting = true;
        if (connect(ufd, (const struct sockaddr *)to, to_len) == 0) {
            c->is_connecting = false;
        } else if (errno != EINPROGRESS) {
            stats.connect_failures++;
            chaos_conn_close(c, false);
            free(c);
            continue;
        }
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            *conns = realloc(*conns, *cap * sizeof **conns);
            if (*conns == NULL) {
                abort();
            }
        }
        (*conns)[(*n)++] = c;
        stats.conns++;
    }
}

/* Reads one chunk from fd[d] and queues it with its faults drawn. */
static void
chaos_read(struct chaos_conn *c, int d, const struct chaos_options *o, int64_t now)
{
    unsigned char buf[CHAOS_CHUNK_MAX];
    struct chaos_dir *dir = &c->dir[d];
    struct chaos_chunk *ch;
    ssize_t got = read(c->fd[d], buf, sizeof buf);
    size_t len;
    int64_t release;

    if (got < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            chaos_conn_close(c, false);
        }
        return;
    }
    if (got == 0) {
        dir->is_eof = true;
        return;
    }
    len = (size_t)got;
    stats.chunks++;
    stats.bytes[d] += len;
    if (chaos_rng_hit(o->truncate_prob)) {
        len = (size_t)(chaos_rng_next() % len); /* 0 .. len-1 bytes survive */
        dir->is_eof = true;
        dir->cuts_after = true;
        stats.truncations++;
    }
    release = now + chaos_rng_range(o->delay_ms);
    if (release > now) {
        stats.delayed++;
    }
    if (chaos_rng_hit(o->stall_prob)) {
        release += chaos_rng_range(o->stall_ms);
        stats.stalls++;
    }
    if (release < dir->last_release_ms) {
        release = dir->last_release_ms; /* a stream: no chunk overtakes the one before */
    }
    dir->last_release_ms = release;
    ch = malloc(sizeof *ch + len);
    if (ch == NULL) {
        abort();
    }
    ch->next = NULL;
    ch->release_ms = release;
    ch->len = len;
    ch->off = 0;
    memcpy(ch->bytes, buf, len);
    if (dir->tail != NULL) {
        dir->tail->next = ch;
    } else {
        dir->head = ch;
    }
    dir->tail = ch;
    dir->queued += len;
}

/* Writes what is due in direction d to fd[1 - d]; passes EOF and cuts on. */
static void
chaos_write(struct chaos_conn *c, int d, int64_t now)
{
    struct chaos_dir *dir = &c->dir[d];
    int dst = c->fd[1 - d];

    while (dir->head != NULL && dir->head->release_ms <= now) {
        struct chaos_chunk *ch = dir->head;
        ssize_t put = 0;

        if (ch->off < ch->len) {
            put = send(dst, ch->bytes + ch->off, ch->len - ch->off, MSG_NOSIGNAL);
        }
        if (put < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                chaos_conn_close(c, false);
            }
            return;
        }
        ch->off += (size_t)put;
        dir->queued -= (size_t)put;
        if (ch->off < ch->len) {
            return;
        }
        dir->head = ch->next;
        if (dir->head == NULL) {
            dir->tail = NULL;
        }
        free(ch);
    }
    if (dir->head == NULL && dir->cuts_after) {
        chaos_conn_close(c, false);
    } else if (dir->head == NULL && dir->is_eof && !dir->is_shut) {
        (void)shutdown(dst, SHUT_WR);
        dir->is_shut = true;
        if (c->dir[1 - d].is_shut) {
            chaos_conn_close(c, false);
        }
    }
}

/* Side s is closed both ways and fully read: what was bound for it is lost. */
static void
chaos_hangup(struct chaos_conn *c, int s)
{
    struct chaos_dir *toward = &c->dir[1 - s];

    c->is_hup[s] = true;
    chaos_dir_free(toward);
    toward->is_eof = true;
    toward->is_shut = true;
    toward->cuts_after = false;
    if (c->dir[s].head == NULL) {
        chaos_conn_close(c, false);
    }
}

static void
chaos_finish_connect(struct chaos_conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;

    if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        stats.connect_failures++;
        chaos_conn_close(c, false);
        return;
    }
    c->is_connecting = false;
}

static short
chaos_events(const struct chaos_conn *c, int side, int64_t now)
{
    const struct chaos_dir *in = &c->dir[side];      /* read from this side */
    const struct chaos_dir *out = &c->dir[1 - side]; /* written to this side */
    short ev = 0;

    if (c->is_connecting) {
        return side == 1 ? POLLOUT : 0;
    }
    if (c->is_hup[side]) {
        return -1; /* the caller ignores this socket */
    }
    if (!in->is_eof && in->queued < CHAOS_QUEUE_MAX) {
        ev |= POLLIN;
    }
    if (out->head != NULL && out->head->release_ms <= now) {
        ev |= POLLOUT;
    }
    return ev;
}

static int64_t
chaos_next_due(struct chaos_conn *const *conns, size_t n, int64_t next)
{
    for (size_t i = 0; i < n; i++) {
        for (int d = 0; d < 2; d++) {
            const struct chaos_chunk *h = conns[i]->dir[d].head;

            if (h != NULL && h->release_ms < next) {
                next = h->release_ms;
            }
        }
    }
    return next;
}

static void
chaos_report(const struct chaos_options *o)
{
    fprintf(stderr,
            "chaosproxy: seed=%llu conns=%llu connect_failures=%llu refused=%llu "
            "bytes_up=%llu bytes_down=%llu chunks=%llu delayed=%llu stalls=%llu resets=%llu "
            "truncations=%llu\n",
            (unsigned long long)o->seed, (unsigned long long)stats.conns,
            (unsigned long long)stats.connect_failures, (unsigned long long)stats.refused,
            (unsigned long long)stats.bytes[0], (unsigned long long)stats.bytes[1],
            (unsigned long long)stats.chunks, (unsigned long long)stats.delayed,
            (unsigned long long)stats.stalls, (unsigned long long)stats.resets,
            (unsigned long long)stats.truncations);
}

static void
chaos_install_signals(void)
{
    struct sigaction sa = { 0 };

    if (pipe2(chaos_signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        perror("chaosproxy: pipe2");
        exit(1);
    }
    sa.sa_handler = chaos_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

int
main(int argc, char **argv)
{
    struct chaos_options o;
    struct sockaddr_storage to;
    socklen_t to_len;
    struct chaos_conn **conns = NULL;
    struct pollfd *pfd = NULL;
    size_t n = 0, cap = 0, pcap = 0;
    int64_t start, next_tick, end;
    int lfd;

    chaos_parse_args(argc, argv, &o);
    chaos_rng_state = o.seed;
    chaos_resolve(o.to, false, &to, &to_len);
    chaos_install_signals();
    lfd = chaos_listen(o.listen);
    start = chaos_now_ms();
    next_tick = start + CHAOS_TICK_MS;
    end = o.duration_s > 0 ? start + o.duration_s * 1000 : INT64_MAX;

    for (;;) {
        int64_t now = chaos_now_ms();
        int64_t wake;
        size_t np = 2;

        if (now >= end) {
            break;
        }
        if (now >= next_tick) {
            for (size_t i = 0; i < n; i++) {
                if (!conns[i]->is_connecting && chaos_rng_hit(o.rst_prob)) {
                    stats.resets++;
                    chaos_conn_close(conns[i], true);
                }
            }
            next_tick += CHAOS_TICK_MS;
        }
        for (size_t i = 0; i < n;) { /* drop closed connections */
            if (conns[i]->is_dead) {
                free(conns[i]);
                conns[i] = conns[--n];
            } else {
                i++;
            }
        }
        if (pcap < 2 + 2 * n) {
            pcap = 2 + 2 * n + 32;
            pfd = realloc(pfd, pcap * sizeof *pfd);
            if (pfd == NULL) {
                abort();
            }
        }
        pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = chaos_signal_pipe[0], .events = POLLIN };
        for (size_t i = 0; i < n; i++) {
            for (int s = 0; s < 2; s++) {
                short ev = chaos_events(conns[i], s, now);

                pfd[np++] = (struct pollfd){ .fd = ev < 0 ? -1 : conns[i]->fd[s],
                                             .events = ev < 0 ? 0 : ev };
            }
        }
        wake = chaos_next_due(conns, n, next_tick < end ? next_tick : end);
        if (poll(pfd, (nfds_t)np, wake > now ? (int)(wake - now) : 0) < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("chaosproxy: poll");
            return 1;
        }
        if (pfd[1].revents != 0) {
            break;
        }
        now = chaos_now_ms();
        for (size_t i = 0; i < n; i++) {
            struct chaos_conn *c = conns[i];

            for (int s = 0; s < 2 && !c->is_dead; s++) {
                short re = pfd[2 + 2 * i + (size_t)s].revents;

                if (c->is_connecting) {
                    if (s == 1 && re != 0) {
                        chaos_finish_connect(c);
                    }
                    continue;
                }
                if (re & (POLLIN | POLLHUP | POLLERR)) {
                    if (!c->dir[s].is_eof) {
                        chaos_read(c, s, &o, now);
                    } else if (re & POLLERR) {
                        chaos_conn_close(c, false);
                    } else if (re & POLLHUP) {
                        chaos_hangup(c, s);
                    }
                }
            }
            /* Write whatever is due, polled or not: a fresh chunk with no delay goes at once. */
            for (int d = 0; d < 2 && !c->is_dead && !c->is_connecting; d++) {
                chaos_write(c, d, now);
            }
        }
        if (pfd[0].revents & POLLIN) {
            chaos_accept(lfd, &to, to_len, &conns, &n, &cap);
        }
    }
    for (size_t i = 0; i < n; i++) {
        chaos_conn_close(conns[i], false);
        free(conns[i]);
    }
    free(conns);
    free(pfd);
    close(lfd);
    chaos_report(&o);
    return 0;
}
