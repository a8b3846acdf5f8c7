/*
 * poller: see poller.h. The sleep is poll(2) on the sockets' ZMQ_FD and the plain
 * descriptors; a socket is asked for ZMQ_EVENTS before the sleep and again only
 * if its descriptor fired.
 */
#include "net/poller.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

static int64_t
poller_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 if the socket has input, 0 if not, -1 with errno. */
static int
poller_socket_in(void *socket)
{
    uint32_t events = 0;
    size_t len = sizeof events;

    if (zmq_getsockopt(socket, ZMQ_EVENTS, &events, &len) != 0) {
        return -1;
    }
    return (events & ZMQ_POLLIN) != 0;
}

static short
poller_fd_revents(short revents)
{
    short out = 0;

    if (revents & POLLIN) {
        out |= ZMQ_POLLIN;
    }
    if (revents & ~(POLLIN | POLLOUT | POLLPRI)) {
        out |= ZMQ_POLLERR; /* as zmq_poll: a hang-up or error on a plain descriptor */
    }
    return out;
}

/* The plain descriptors only, without waiting: asked when a socket is ready already. */
static int
poller_fds_now(zmq_pollitem_t *items, int n, struct pollfd *pfd)
{
    int nfd = 0;
    int ready = 0;

    for (int i = 0; i < n; i++) {
        if (items[i].socket == NULL && (items[i].events & ZMQ_POLLIN)) {
            pfd[nfd++] = (struct pollfd){ .fd = items[i].fd, .events = POLLIN };
        }
    }
    if (nfd == 0) {
        return 0;
    }
    if (poll(pfd, (nfds_t)nfd, 0) < 0) {
        return errno == EINTR ? 0 : -1; /* the sockets' news is not lost for a signal */
    }
    nfd = 0;
    for (int i = 0; i < n; i++) {
        if (items[i].socket == NULL && (items[i].events & ZMQ_POLLIN)) {
            items[i].revents = poller_fd_revents(pfd[nfd++].revents);
            ready += items[i].revents != 0;
        }
    }
    return ready;
}

int
poller_wait(zmq_pollitem_t *items, int n, long timeout_ms)
{
    struct pollfd pfd[POLLER_MAX];
    int64_t end = timeout_ms >= 0 ? poller_now_ms() + timeout_ms : INT64_MAX;
    int ready = 0;

    if (n < 0 || n > POLLER_MAX) {
        errno = EINVAL;
        return -1;
    }
    /* Before sleeping: what the sockets hold already (zmq_poll's first pass). */
    for (int i = 0; i < n; i++) {
        items[i].revents = 0;
        if (items[i].socket != NULL && (items[i].events & ZMQ_POLLIN)) {
            int in = poller_socket_in(items[i].socket);
            if (in < 0) {
                return -1;
            }
            if (in) {
                items[i].revents = ZMQ_POLLIN;
                ready++;
            }
        }
    }
    if (ready > 0) {
        int fds = poller_fds_now(items, n, pfd);
        return fds < 0 ? -1 : ready + fds;
    }
    for (int i = 0; i < n; i++) {
        pfd[i] = (struct pollfd){ .fd = -1 }; /* poll(2) skips negative descriptors */
        if (!(items[i].events & ZMQ_POLLIN)) {
            continue;
        }
        if (items[i].socket != NULL) {
            size_t len = sizeof pfd[i].fd;
            if (zmq_getsockopt(items[i].socket, ZMQ_FD, &pfd[i].fd, &len) != 0) {
                return -1;
            }
        } else {
            pfd[i].fd = items[i].fd;
        }
        pfd[i].events = POLLIN;
    }
    for (;;) {
        int64_t now = poller_now_ms();
        int wait = end == INT64_MAX ? -1 : (end > now ? (int)(end - now) : 0);
        int rc = poll(pfd, (nfds_t)n, wait);

        if (rc < 0) {
            return -1; /* EINTR included, as zmq_poll */
        }
        for (int i = 0; i < n && rc > 0; i++) {
            if (pfd[i].revents == 0) {
                continue;
            }
            rc--;
            if (items[i].socket == NULL) {
                items[i].revents = poller_fd_revents(pfd[i].revents);
            } else {
                /* The descriptor says "look", not "input": ask, which also drains it. */
                int in = poller_socket_in(items[i].socket);
                if (in < 0) {
                    return -1;
                }
                items[i].revents = in ? ZMQ_POLLIN : 0;
            }
            ready += items[i].revents != 0;
        }
        if (ready > 0 || wait == 0) {
            return ready;
        }
    }
}
