/*
 * poller: the engine's wait, zmq_poll's contract at about half its system calls.
 *
 * zmq_poll asks every socket for ZMQ_EVENTS twice per wait (before and after the
 * poll(2) that sleeps), and each ask is two system calls (libzmq's fork check and
 * a poll of the socket's mailbox): 26 calls for the six sockets of one contact.
 * poller_wait asks each socket once before it sleeps, as zmq_poll's first pass does,
 * and after waking asks only the sockets whose descriptor (ZMQ_FD) fired. That is
 * enough because ZMQ_FD is edge-triggered: a socket that has just reported no
 * input signals its descriptor when input next arrives, and nothing touches the
 * sockets while this function sleeps (it runs in the only thread that uses them).
 */
#ifndef KITH_NET_POLLER_H
#define KITH_NET_POLLER_H

#include <zmq.h>

#define POLLER_MAX 1024

/* As zmq_poll: items with .socket are ZeroMQ sockets, the others file descriptors;
 * only ZMQ_POLLIN is asked for and reported. Returns how many items have revents,
 * 0 at the timeout (ms; -1 waits for ever), -1 with errno (EINTR, or EINVAL for
 * more than POLLER_MAX items). */
int poller_wait(zmq_pollitem_t *items, int n, long timeout_ms);

#endif
