/*
 * poller_test: poller_wait keeps zmq_poll's contract: input queued already is
 * reported at once, input that arrives during the sleep wakes it, socket
 * commands that carry no input (a peer attaching) do not end the wait, plain
 * descriptors are reported, the timeout holds.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "net/poller.h"

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

struct late {
    void *ctx;
    const char *endpoint;
    int attach_ms; /* connect after this long */
    int send_ms;   /* then send after this long (< 0: never) */
};

/* In a thread of its own: a DEALER that connects, waits, then sends one frame. */
static void *
late_sender(void *arg)
{
    struct late *l = arg;
    void *d = zmq_socket(l->ctx, ZMQ_DEALER);
    int linger = 0;

    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof linger);
    sleep_ms(l->attach_ms);
    zmq_connect(d, l->endpoint);
    if (l->send_ms >= 0) {
        sleep_ms(l->send_ms);
        zmq_send(d, "late", 4, 0);
    }
    sleep_ms(300); /* keep the pipe until the reader has it */
    zmq_close(d);
    return NULL;
}

static void
pair(void *ctx, const char *ep, void **a, void **b)
{
    int linger = 0;
    *a = zmq_socket(ctx, ZMQ_PAIR);
    *b = zmq_socket(ctx, ZMQ_PAIR);
    zmq_setsockopt(*a, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(*b, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_bind(*a, ep), 0);
    assert_int_equal(zmq_connect(*b, ep), 0);
}

static void
wait__reports_input_queued_already(void **state)
{
    void *ctx = zmq_ctx_new();
    void *a, *b;
    zmq_pollitem_t it[2];
    char buf[8];
    (void)state;

    pair(ctx, "inproc://queued", &a, &b);
    assert_int_equal(zmq_send(b, "hi", 2, 0), 2);
    it[0] = (zmq_pollitem_t){ .socket = b, .events = ZMQ_POLLIN };
    it[1] = (zmq_pollitem_t){ .socket = a, .events = ZMQ_POLLIN };
    assert_int_equal(poller_wait(it, 2, 5000), 1);
    assert_int_equal(it[0].revents, 0);
    assert_int_equal(it[1].revents, ZMQ_POLLIN);
    assert_int_equal(zmq_recv(a, buf, sizeof buf, ZMQ_DONTWAIT), 2);
    /* drained: nothing more, and the timeout holds */
    assert_int_equal(poller_wait(it, 2, 20), 0);
    assert_int_equal(it[1].revents, 0);
    zmq_close(a);
    zmq_close(b);
    zmq_ctx_term(ctx);
}

static void
wait__wakes_for_input_that_arrives_while_it_sleeps(void **state)
{
    void *ctx = zmq_ctx_new();
    void *r = zmq_socket(ctx, ZMQ_ROUTER);
    struct late l = { ctx, "inproc://late", 20, 60 };
    pthread_t th;
    zmq_pollitem_t it = { .socket = r, .events = ZMQ_POLLIN };
    int linger = 0;
    int64_t t0;
    int rc;
    (void)state;

    zmq_setsockopt(r, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_bind(r, l.endpoint), 0);
    assert_int_equal(poller_wait(&it, 1, 0), 0);
    assert_int_equal(pthread_create(&th, NULL, late_sender, &l), 0);
    /* The DEALER attaching wakes the ROUTER's descriptor with commands and no input:
     * the wait goes on until the frame comes. */
    t0 = now_ms();
    rc = poller_wait(&it, 1, 10000);
    assert_int_equal(rc, 1);
    assert_int_equal(it.revents, ZMQ_POLLIN);
    assert_true(now_ms() - t0 < 9000); /* woken by the frame, not by the timeout */
    pthread_join(th, NULL);
    zmq_close(r);
    zmq_ctx_term(ctx);
}

static void
wait__a_peer_attaching_alone_does_not_end_the_wait(void **state)
{
    void *ctx = zmq_ctx_new();
    void *r = zmq_socket(ctx, ZMQ_ROUTER);
    struct late l = { ctx, "inproc://attach", 10, -1 };
    pthread_t th;
    zmq_pollitem_t it = { .socket = r, .events = ZMQ_POLLIN };
    int linger = 0;
    int64_t t0;
    (void)state;

    zmq_setsockopt(r, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_bind(r, l.endpoint), 0);
    assert_int_equal(pthread_create(&th, NULL, late_sender, &l), 0);
    t0 = now_ms();
    assert_int_equal(poller_wait(&it, 1, 150), 0);
    assert_int_equal(it.revents, 0);
    assert_true(now_ms() - t0 >= 140);
    pthread_join(th, NULL);
    zmq_close(r);
    zmq_ctx_term(ctx);
}

static void
wait__reports_plain_descriptors_beside_sockets(void **state)
{
    void *ctx = zmq_ctx_new();
    void *a, *b;
    int fds[2];
    zmq_pollitem_t it[2];
    (void)state;

    pair(ctx, "inproc://fds", &a, &b);
    assert_int_equal(pipe(fds), 0);
    it[0] = (zmq_pollitem_t){ .socket = a, .events = ZMQ_POLLIN };
    it[1] = (zmq_pollitem_t){ .fd = fds[0], .events = ZMQ_POLLIN };
    assert_int_equal(poller_wait(it, 2, 10), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    assert_int_equal(poller_wait(it, 2, 5000), 1);
    assert_int_equal(it[0].revents, 0);
    assert_int_equal(it[1].revents, ZMQ_POLLIN);
    /* a socket ready at once still reports the descriptor beside it */
    assert_int_equal(zmq_send(b, "hi", 2, 0), 2);
    assert_int_equal(poller_wait(it, 2, 5000), 2);
    assert_int_equal(it[0].revents, ZMQ_POLLIN);
    assert_int_equal(it[1].revents, ZMQ_POLLIN);
    /* a hang-up is an error on the descriptor, as zmq_poll reports it */
    {
        char c;
        assert_int_equal(read(fds[0], &c, 1), 1);
    }
    close(fds[1]);
    assert_int_equal(poller_wait(&it[1], 1, 5000), 1);
    assert_true(it[1].revents & ZMQ_POLLERR);
    close(fds[0]);
    zmq_close(a);
    zmq_close(b);
    zmq_ctx_term(ctx);
}

static void
wait__refuses_more_items_than_it_holds(void **state)
{
    static zmq_pollitem_t it[POLLER_MAX + 1];
    (void)state;

    errno = 0;
    assert_int_equal(poller_wait(it, POLLER_MAX + 1, 0), -1);
    assert_int_equal(errno, EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wait__reports_input_queued_already),
        cmocka_unit_test(wait__wakes_for_input_that_arrives_while_it_sleeps),
        cmocka_unit_test(wait__a_peer_attaching_alone_does_not_end_the_wait),
        cmocka_unit_test(wait__reports_plain_descriptors_beside_sockets),
        cmocka_unit_test(wait__refuses_more_items_than_it_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
