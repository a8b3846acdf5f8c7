/*
 * transport tests: real transports and raw libzmq clients on tcp://127.0.0.1:*,
 * every wait a poll loop with a deadline, every socket closed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/limits.h"
#include "net/transport.h"

#define NODE_ADMIT_MAX  4
#define NODE_FRAMES_MAX 16
#define NODE_FRAME_MAX  128

struct node_frame {
    struct transport_origin origin;
    uint8_t buf[NODE_FRAME_MAX];
    size_t len;
};

struct node {
    struct transport *t;
    uint8_t pk[32];
    uint8_t sk[32];
    struct {
        uint8_t tk[32];
        enum transport_admit verdict;
        uint8_t peer_id[TRANSPORT_PEER_ID];
    } admit[NODE_ADMIT_MAX];
    size_t nadmit;
    size_t refused_calls; /* admit calls that returned REFUSE */
    uint8_t last_refused_tk[32];
    struct node_frame frames[NODE_FRAMES_MAX];
    size_t nframes;
    size_t big_frames; /* frames too large to record */
    int ups;
    int downs;
    uint8_t last_up[TRANSPORT_PEER_ID];
    uint8_t last_down[TRANSPORT_PEER_ID];
};

static const uint8_t PEER_A[TRANSPORT_PEER_ID] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5 };
static const uint8_t PEER_B[TRANSPORT_PEER_ID] = { 0xb1, 0xb2, 0xb3, 0xb4, 0xb5 };
static const uint8_t PEER_X[TRANSPORT_PEER_ID] = { 0xee, 0x01 };

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum transport_admit
node_admit(void *ctx, const uint8_t tk[32], const char *ip, uint8_t peer_id[TRANSPORT_PEER_ID])
{
    struct node *n = ctx;

    assert_non_null(ip);
    for (size_t i = 0; i < n->nadmit; i++) {
        if (memcmp(n->admit[i].tk, tk, 32) == 0) {
            memcpy(peer_id, n->admit[i].peer_id, TRANSPORT_PEER_ID);
            return n->admit[i].verdict;
        }
    }
    n->refused_calls++;
    memcpy(n->last_refused_tk, tk, 32);
    return TRANSPORT_REFUSE;
}

static void
node_allow(struct node *n, const uint8_t tk[32], enum transport_admit verdict,
           const uint8_t peer_id[TRANSPORT_PEER_ID])
{
    assert_true(n->nadmit < NODE_ADMIT_MAX);
    memcpy(n->admit[n->nadmit].tk, tk, 32);
    n->admit[n->nadmit].verdict = verdict;
    if (peer_id != NULL) {
        memcpy(n->admit[n->nadmit].peer_id, peer_id, TRANSPORT_PEER_ID);
    }
    n->nadmit++;
}

static void
node_on_frame(void *ctx, const struct transport_origin *o, const uint8_t *buf, size_t len)
{
    struct node *n = ctx;

    if (len > NODE_FRAME_MAX || n->nframes == NODE_FRAMES_MAX) {
        n->big_frames++;
        return;
    }
    n->frames[n->nframes].origin = *o;
    memcpy(n->frames[n->nframes].buf, buf, len);
    n->frames[n->nframes].len = len;
    n->nframes++;
}

static void
node_on_up(void *ctx, const uint8_t peer_id[TRANSPORT_PEER_ID])
{
    struct node *n = ctx;

    n->ups++;
    memcpy(n->last_up, peer_id, TRANSPORT_PEER_ID);
}

static void
node_on_down(void *ctx, const uint8_t peer_id[TRANSPORT_PEER_ID])
{
    struct node *n = ctx;

    n->downs++;
    memcpy(n->last_down, peer_id, TRANSPORT_PEER_ID);
}

static const struct transport_events node_events = {
    .on_frame = node_on_frame,
    .on_peer_up = node_on_up,
    .on_peer_down = node_on_down,
};

static void
node_init(struct node *n)
{
    memset(n, 0, sizeof *n);
    crypto_box_keypair(n->pk, n->sk);
}

static int
node_open(struct node *n, const char *listen)
{
    struct transport_config cfg = {
        .listen = listen,
        .tk_pk = n->pk,
        .tk_sk = n->sk,
        .admit = node_admit,
        .admit_ctx = n,
    };
    return transport_open(&cfg, &n->t);
}

static void
node_close(struct node *n)
{
    transport_close(n->t);
    n->t = NULL;
    sodium_memzero(n->sk, sizeof n->sk);
}

typedef bool (*pump_done_fn)(void *arg);

/* Poll and dispatch every open node until done() or ms pass. */
static bool
pump(struct node **nodes, size_t count, int ms, pump_done_fn done, void *arg)
{
    int64_t deadline = now_ms() + ms;

    while (now_ms() < deadline) {
        zmq_pollitem_t items[4][64];
        int nitems[4] = { 0 };

        if (done != NULL && done(arg)) {
            return true;
        }
        assert_true(count <= 4);
        for (size_t i = 0; i < count; i++) {
            if (nodes[i]->t != NULL) {
                nitems[i] = transport_pollitems(nodes[i]->t, items[i], 64);
            }
        }
        for (size_t i = 0; i < count; i++) {
            /* one poll per node with a short wait keeps the helper simple */
            if (nodes[i]->t != NULL) {
                assert_true(zmq_poll(items[i], nitems[i], 5) >= 0);
                (void)transport_dispatch(nodes[i]->t, items[i], nitems[i], &node_events, nodes[i],
                                         64);
            }
        }
    }
    return done != NULL && done(arg);
}

static bool
has_one_frame(void *arg)
{
    return ((struct node *)arg)->nframes >= 1;
}

static bool
has_up(void *arg)
{
    return ((struct node *)arg)->ups >= 1;
}

static bool
has_down(void *arg)
{
    return ((struct node *)arg)->downs >= 1;
}

static bool
has_two_ups(void *arg)
{
    struct node **pair = arg;
    return pair[0]->ups >= 1 && pair[1]->ups >= 1;
}

/* A and B on 127.0.0.1, each a contact of the other, both DEALERs up. */
static void
nodes_connect(struct node *a, struct node *b)
{
    struct node *both[2] = { a, b };

    node_init(a);
    node_init(b);
    node_allow(a, b->pk, TRANSPORT_CONTACT, PEER_B);
    node_allow(b, a->pk, TRANSPORT_CONTACT, PEER_A);
    assert_int_equal(node_open(a, "tcp://127.0.0.1:*"), KITH_OK);
    assert_int_equal(node_open(b, "tcp://127.0.0.1:*"), KITH_OK);
    assert_int_equal(transport_peer_set(a->t, PEER_B, b->pk, transport_endpoint(b->t)), KITH_OK);
    assert_int_equal(transport_peer_set(b->t, PEER_A, a->pk, transport_endpoint(a->t)), KITH_OK);
    assert_true(pump(both, 2, 5000, has_two_ups, both));
}

/* ---- raw libzmq clients ---- */

struct raw_client {
    void *ctx;
    void *dealer;
    void *monitor;
    uint8_t pk[32];
};

static void
raw_open(struct raw_client *r, const uint8_t server_pk[32], const char *endpoint)
{
    uint8_t sk[32];
    int reconnect = 100;

    crypto_box_keypair(r->pk, sk);
    r->ctx = zmq_ctx_new();
    assert_non_null(r->ctx);
    r->dealer = zmq_socket(r->ctx, ZMQ_DEALER);
    assert_non_null(r->dealer);
    assert_int_equal(zmq_setsockopt(r->dealer, ZMQ_CURVE_SERVERKEY, server_pk, 32), 0);
    assert_int_equal(zmq_setsockopt(r->dealer, ZMQ_CURVE_PUBLICKEY, r->pk, 32), 0);
    assert_int_equal(zmq_setsockopt(r->dealer, ZMQ_CURVE_SECRETKEY, sk, 32), 0);
    assert_int_equal(zmq_setsockopt(r->dealer, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect), 0);
    sodium_memzero(sk, sizeof sk);
    assert_int_equal(zmq_socket_monitor(r->dealer, "inproc://raw-monitor", ZMQ_EVENT_ALL), 0);
    r->monitor = zmq_socket(r->ctx, ZMQ_PAIR);
    assert_non_null(r->monitor);
    assert_int_equal(zmq_connect(r->monitor, "inproc://raw-monitor"), 0);
    assert_int_equal(zmq_connect(r->dealer, endpoint), 0);
}

static void
raw_close(struct raw_client *r)
{
    int zero = 0;

    (void)zmq_setsockopt(r->dealer, ZMQ_LINGER, &zero, sizeof zero);
    (void)zmq_setsockopt(r->monitor, ZMQ_LINGER, &zero, sizeof zero);
    (void)zmq_socket_monitor(r->dealer, NULL, 0);
    (void)zmq_close(r->dealer);
    (void)zmq_close(r->monitor);
    (void)zmq_ctx_term(r->ctx);
}

/* Read the raw client's monitor events, OR-ing their kinds into *seen. */
static void
raw_events(struct raw_client *r, unsigned *seen)
{
    zmq_msg_t m;

    for (;;) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, r->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        if (zmq_msg_size(&m) == 6) {
            uint16_t event;
            memcpy(&event, zmq_msg_data(&m), 2);
            *seen |= event;
        }
        while (zmq_msg_more(&m)) {
            zmq_msg_close(&m);
            zmq_msg_init(&m);
            assert_true(zmq_msg_recv(&m, r->monitor, 0) >= 0);
        }
        zmq_msg_close(&m);
    }
}

static void
raw_send(struct raw_client *r, const void *buf, size_t len)
{
    assert_int_equal(zmq_send(r->dealer, buf, len, ZMQ_DONTWAIT), (int)len);
}

/* ---- tests ---- */

static void
exchange__attributes_frames_to_peer_id__both_ways(void **state)
{
    struct node a;
    struct node b;
    struct node *both[2] = { &a, &b };

    nodes_connect(&a, &b);
    assert_memory_equal(a.last_up, PEER_B, TRANSPORT_PEER_ID);
    assert_memory_equal(b.last_up, PEER_A, TRANSPORT_PEER_ID);
    assert_true(transport_peer_reachable(a.t, PEER_B));
    assert_false(transport_peer_reachable(a.t, PEER_X));

    assert_int_equal(transport_send(a.t, PEER_B, (const uint8_t *)"to-b", 4), KITH_OK);
    assert_int_equal(transport_send(b.t, PEER_A, (const uint8_t *)"to-a", 4), KITH_OK);
    assert_true(pump(both, 2, 3000, has_one_frame, &a));
    assert_true(pump(both, 2, 3000, has_one_frame, &b));

    /* Each DEALER sent to the other's ROUTER: attribution by ZAP User-Id. */
    assert_int_equal(b.frames[0].len, 4);
    assert_memory_equal(b.frames[0].buf, "to-b", 4);
    assert_int_equal(b.frames[0].origin.kind, TRANSPORT_CONTACT);
    assert_memory_equal(b.frames[0].origin.peer_id, PEER_A, TRANSPORT_PEER_ID);
    assert_true(b.frames[0].origin.via_router);
    assert_string_equal(b.frames[0].origin.user_id, "c:a1a2a3a4a50000000000000000000000");
    assert_memory_equal(a.frames[0].buf, "to-a", 4);
    assert_memory_equal(a.frames[0].origin.peer_id, PEER_B, TRANSPORT_PEER_ID);
    assert_true(transport_stats(a.t)->frames_in >= 1);
    assert_true(transport_stats(a.t)->frames_out >= 1);
    assert_true(transport_stats(b.t)->zap_admitted >= 1);
    node_close(&a);
    node_close(&b);
}

/* A peer that stops reading: once its queues and the sockets' buffers are full, a send is
 * refused (KITH_EAGAIN) while the peer stays reachable (the engine then tries again shortly,
 * not as if the peer were away); when it reads again, sends go through again. */
static void
send__full_queue_is_eagain__while_the_peer_stays_reachable(void **state)
{
    static uint8_t frame[4096];
    struct node a;
    struct node b;
    struct node *both[2] = { &a, &b };
    int64_t deadline;
    size_t sent = 0;
    int rc = KITH_OK;

    (void)state;
    nodes_connect(&a, &b);
    randombytes_buf(frame, sizeof frame);

    /* B reads nothing: A fills libzmq's queues (1,000 frames each side) and the TCP buffers. */
    deadline = now_ms() + 20000;
    while (now_ms() < deadline && sent < 200000) {
        rc = transport_send(a.t, PEER_B, frame, sizeof frame);
        if (rc != KITH_OK) {
            break;
        }
        sent++;
    }
    assert_int_equal(rc, KITH_EAGAIN);
    assert_true(sent >= 1000);
    assert_true(transport_peer_reachable(a.t, PEER_B));

    /* B reads again: A's sends go through again. */
    deadline = now_ms() + 20000;
    while (now_ms() < deadline) {
        (void)pump(both, 2, 20, NULL, NULL);
        rc = transport_send(a.t, PEER_B, frame, sizeof frame);
        if (rc == KITH_OK) {
            break;
        }
    }
    assert_int_equal(rc, KITH_OK);
    assert_true(transport_peer_reachable(a.t, PEER_B));
    node_close(&a);
    node_close(&b);
}

static void
dispatch__reads_at_most_max_frames__per_call(void **state)
{
    struct node a;
    struct node b;
    struct node *both[2] = { &a, &b };
    int64_t deadline;
    int calls_at_max = 0;

    node_init(&a);
    node_init(&b);
    node_allow(&a, b.pk, TRANSPORT_CONTACT, PEER_B);
    assert_int_equal(node_open(&a, "tcp://127.0.0.1:*"), KITH_OK);
    assert_int_equal(node_open(&b, "tcp://127.0.0.1:*"), KITH_OK);
    assert_int_equal(transport_peer_set(b.t, PEER_A, a.pk, transport_endpoint(a.t)), KITH_OK);
    assert_true(pump(both, 2, 5000, has_up, &b));
    for (int i = 0; i < 9; i++) {
        assert_int_equal(transport_send(b.t, PEER_A, (const uint8_t *)"n", 1), KITH_OK);
    }
    assert_int_equal(zmq_poll(NULL, 0, 100), 0); /* let all nine reach A's ROUTER */
    deadline = now_ms() + 3000;
    while (a.nframes < 9 && now_ms() < deadline) {
        zmq_pollitem_t items[16];
        int n = transport_pollitems(a.t, items, 16);
        int got;

        assert_true(zmq_poll(items, n, 20) >= 0);
        got = transport_dispatch(a.t, items, n, &node_events, &a, 2);
        assert_true(got >= 0 && got <= 2);
        calls_at_max += got == 2;
    }
    assert_int_equal(a.nframes, 9);
    assert_true(calls_at_max >= 1);
    assert_int_equal(transport_dispatch(a.t, NULL, 0, &node_events, &a, 0), 0);
    node_close(&a);
    node_close(&b);
}

static bool
b_has_reply(void *arg)
{
    return ((struct node *)arg)->nframes >= 1;
}

static void
send__replies_over_inbound_route__when_peer_has_no_endpoint(void **state)
{
    struct node a;
    struct node b;
    struct node *both[2] = { &a, &b };

    node_init(&a);
    node_init(&b);
    node_allow(&a, b.pk, TRANSPORT_CONTACT, PEER_B);
    assert_int_equal(node_open(&a, "tcp://127.0.0.1:*"), KITH_OK);
    assert_int_equal(node_open(&b, "tcp://127.0.0.1:*"), KITH_OK);
    /* A cannot connect to B; only B's connection to A exists. */
    assert_int_equal(transport_peer_set(a.t, PEER_B, b.pk, NULL), KITH_OK);
    assert_int_equal(transport_peer_set(b.t, PEER_A, a.pk, transport_endpoint(a.t)), KITH_OK);
    assert_int_equal(transport_send(a.t, PEER_B, (const uint8_t *)"early", 5), KITH_EAGAIN);
    assert_false(transport_peer_reachable(a.t, PEER_B));

    assert_true(pump(both, 2, 5000, has_up, &b));
    assert_int_equal(a.ups, 0);
    assert_int_equal(transport_send(b.t, PEER_A, (const uint8_t *)"hello", 5), KITH_OK);
    assert_true(pump(both, 2, 3000, has_one_frame, &a));
    assert_memory_equal(a.frames[0].origin.peer_id, PEER_B, TRANSPORT_PEER_ID);
    assert_true(transport_peer_reachable(a.t, PEER_B));

    assert_int_equal(transport_send(a.t, PEER_B, (const uint8_t *)"reply", 5), KITH_OK);
    assert_true(pump(both, 2, 3000, b_has_reply, &b));
    assert_int_equal(b.frames[0].len, 5);
    assert_memory_equal(b.frames[0].buf, "reply", 5);
    assert_false(b.frames[0].origin.via_router);
    assert_memory_equal(b.frames[0].origin.peer_id, PEER_A, TRANSPORT_PEER_ID);
    assert_string_equal(b.frames[0].origin.user_id, "d:a1a2a3a4a50000000000000000000000");

    /* B goes away: A's ROUTER monitor forgets the route and says so. */
    node_close(&b);
    assert_true(pump(both, 2, 3000, has_down, &a));
    assert_memory_equal(a.last_down, PEER_B, TRANSPORT_PEER_ID);
    assert_false(transport_peer_reachable(a.t, PEER_B));
    assert_int_equal(transport_send(a.t, PEER_B, (const uint8_t *)"gone", 4), KITH_EAGAIN);
    node_close(&a);
}

static void
zap__refuses_unknown_key__silently_and_delivers_nothing(void **state)
{
    struct node a;
    struct node *one[1] = { &a };
    struct raw_client r;
    unsigned seen = 0;

    node_init(&a);
    assert_int_equal(node_open(&a, "tcp://127.0.0.1:*"), KITH_OK);
    raw_open(&r, a.pk, transport_endpoint(a.t));
    raw_send(&r, "let me in", 9);
    assert_false(pump(one, 1, 1500, has_one_frame, &a));
    raw_events(&r, &seen);

    assert_int_equal(a.nframes + a.big_frames, 0);
    assert_true(a.refused_calls >= 1);
    assert_memory_equal(a.last_refused_tk, r.pk, 32);
    assert_true(transport_stats(a.t)->zap_refused >= 1);
    assert_int_equal(transport_stats(a.t)->zap_admitted, 0);
    /* ZAP 300: a silent disconnect, never an ERROR carrying a status code. */
    assert_false(seen & ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    assert_false(seen & ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    /* libzmq 4.3.4 closes a 300-refused connection at once or, when the ZAP
     * reply beats the engine's input stop, only at HANDSHAKE_IVL; either way
     * the client learns nothing but a closed socket. */
    if (seen & ZMQ_EVENT_DISCONNECTED) {
        assert_true(seen & ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
    }
    assert_false(seen & ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    raw_close(&r);
    node_close(&a);
}

static bool
raw_has_frame(void *arg)
{
    struct raw_client *r = arg;
    char buf[16];
    int got = zmq_recv(r->dealer, buf, sizeof buf, ZMQ_DONTWAIT);

    return got == 7 && memcmp(buf, "welcome", 7) == 0;
}

static void
zap__admits_invitee__and_reply_reaches_it(void **state)
{
    struct node a;
    struct node *one[1] = { &a };
    struct raw_client r;
    char want[2 + 64 + 1] = "i:";

    node_init(&a);
    assert_int_equal(node_open(&a, "tcp://127.0.0.1:*"), KITH_OK);
    raw_open(&r, a.pk, transport_endpoint(a.t));
    node_allow(&a, r.pk, TRANSPORT_INVITEE, NULL);
    raw_send(&r, "accept", 6);
    assert_true(pump(one, 1, 3000, has_one_frame, &a));

    sodium_bin2hex(want + 2, sizeof want - 2, r.pk, 32);
    assert_int_equal(a.frames[0].origin.kind, TRANSPORT_INVITEE);
    assert_string_equal(a.frames[0].origin.user_id, want);
    assert_memory_equal(a.frames[0].origin.tk, r.pk, 32);
    assert_true(a.frames[0].origin.via_router);
    assert_true(a.frames[0].origin.routing_id_len > 0);
    assert_int_equal(transport_reply(a.t, &a.frames[0].origin, (const uint8_t *)"welcome", 7),
                     KITH_OK);
    assert_true(pump(one, 1, 3000, raw_has_frame, &r));
    raw_close(&r);
    node_close(&a);
}

static void
open__fails_selftest__when_zap_handler_missing(void **state)
{
#ifdef KITH_TEST_HOOKS
    struct node a;

    node_init(&a);
    assert_int_equal(setenv("KITH_TEST_BREAK_ZAP", "1", 1), 0);
    assert_int_equal(node_open(&a, "tcp://127.0.0.1:*"), KITH_ESELFTEST);
    assert_int_equal(unsetenv("KITH_TEST_BREAK_ZAP"), 0);
    assert_null(a.t);
    /* and the same machine passes once the handler is back */
    assert_int_equal(node_open(&a, "tcp://127.0.0.1:*"), KITH_OK);
    assert_non_null(a.t);
    node_close(&a);
#else
    skip();
#endif
}

static void
router__drops_oversize_frame__and_accepts_after_reconnect(void **state)
{
    struct node a;
    struct node *one[1] = { &a };
    struct raw_client r;
    uint8_t *big = xcalloc(1, 80 * 1024);
    unsigned seen = 0;
    int64_t deadline;

    node_init(&a);
    assert_int_equal(node_open(&a, "tcp://127.0.0.1:*"), KITH_OK);
    raw_open(&r, a.pk, transport_endpoint(a.t));
    node_allow(&a, r.pk, TRANSPORT_CONTACT, PEER_X);
    raw_send(&r, big, 80 * 1024);
    deadline = now_ms() + 3000;
    while (!(seen & ZMQ_EVENT_DISCONNECTED) && now_ms() < deadline) {
        (void)pump(one, 1, 20, NULL, NULL);
        raw_events(&r, &seen);
    }
    assert_true(seen & ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    assert_true(seen & ZMQ_EVENT_DISCONNECTED); /* MAXMSGSIZE cut it off */
    assert_int_equal(a.nframes + a.big_frames, 0);

    raw_send(&r, "small", 5); /* the DEALER reconnects by itself */
    assert_true(pump(one, 1, 3000, has_one_frame, &a));
    assert_int_equal(a.big_frames, 0);
    assert_int_equal(a.frames[0].len, 5);
    assert_memory_equal(a.frames[0].origin.peer_id, PEER_X, TRANSPORT_PEER_ID);
    assert_string_equal(a.frames[0].origin.user_id, "c:ee010000000000000000000000000000");
    free(big);
    raw_close(&r);
    node_close(&a);
}

static bool
has_second_up(void *arg)
{
    return ((struct node *)arg)->ups >= 2;
}

static void
peer_events__fire__when_remote_closes_and_reopens(void **state)
{
    struct node a;
    struct node b;
    struct node *both[2] = { &a, &b };
    char endpoint[256];
    uint8_t b_pk[32];
    uint8_t b_sk[32];

    node_init(&a);
    node_init(&b);
    memcpy(b_pk, b.pk, 32);
    memcpy(b_sk, b.sk, 32);
    node_allow(&b, a.pk, TRANSPORT_CONTACT, PEER_A);
    assert_int_equal(node_open(&a, "tcp://127.0.0.1:*"), KITH_OK);
    assert_int_equal(node_open(&b, "tcp://127.0.0.1:*"), KITH_OK);
    strcpy(endpoint, transport_endpoint(b.t));
    assert_int_equal(transport_peer_set(a.t, PEER_B, b.pk, endpoint), KITH_OK);
    assert_true(pump(both, 2, 5000, has_up, &a));
    assert_memory_equal(a.last_up, PEER_B, TRANSPORT_PEER_ID);
    assert_int_equal(a.downs, 0);

    node_close(&b);
    assert_true(pump(both, 2, 5000, has_down, &a));
    assert_memory_equal(a.last_down, PEER_B, TRANSPORT_PEER_ID);
    assert_false(transport_peer_reachable(a.t, PEER_B));
    assert_int_equal(transport_send(a.t, PEER_B, (const uint8_t *)"x", 1), KITH_EAGAIN);

    memcpy(b.pk, b_pk, 32);
    memcpy(b.sk, b_sk, 32);
    sodium_memzero(b_sk, sizeof b_sk);
    assert_int_equal(node_open(&b, endpoint), KITH_OK);
    assert_true(pump(both, 2, 10000, has_second_up, &a));
    assert_true(transport_peer_reachable(a.t, PEER_B));
    assert_int_equal(transport_send(a.t, PEER_B, (const uint8_t *)"back", 4), KITH_OK);
    assert_true(pump(both, 2, 3000, has_one_frame, &b));
    node_close(&a);
    node_close(&b);
}

static void
open__rejects__endpoint_in_use_and_bad_config(void **state)
{
    struct node a;
    struct node b;
    struct transport_config empty = { 0 };
    struct transport *t = (struct transport *)&empty;

    node_init(&a);
    node_init(&b);
    assert_int_equal(node_open(&a, "tcp://127.0.0.1:*"), KITH_OK);
    assert_int_equal(node_open(&b, transport_endpoint(a.t)), KITH_ENET);
    assert_null(b.t);
    assert_int_equal(node_open(&b, "nonsense://here"), KITH_ENET);
    assert_int_equal(transport_open(&empty, &t), KITH_EINVAL);
    assert_null(t);
    node_close(&a);
    node_close(&b);
}

static void
peer_set__validates__and_send_to_unknown_peer_is_eagain(void **state)
{
    struct node a;
    char longest[KITH_ENDPOINT_MAX + 2];
    zmq_pollitem_t items[8];

    node_init(&a);
    assert_int_equal(node_open(&a, "tcp://127.0.0.1:*"), KITH_OK);
    memset(longest, 'x', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    assert_int_equal(transport_peer_set(a.t, PEER_B, a.pk, longest), KITH_EINVAL);
    assert_int_equal(transport_peer_set(a.t, PEER_B, NULL, NULL), KITH_EINVAL);
    assert_int_equal(transport_peer_set(a.t, PEER_B, a.pk, "bogus"), KITH_EINVAL);
    assert_int_equal(transport_send(a.t, PEER_X, (const uint8_t *)"x", 1), KITH_EAGAIN);

    /* zap, router, router monitor, then a DEALER and its monitor per peer */
    assert_int_equal(transport_pollitems(a.t, items, 8), 3);
    assert_int_equal(transport_peer_set(a.t, PEER_B, a.pk, "tcp://127.0.0.1:9"), KITH_OK);
    assert_int_equal(transport_peer_set(a.t, PEER_B, a.pk, "tcp://127.0.0.1:9"), KITH_OK);
    assert_int_equal(transport_pollitems(a.t, items, 8), 5);
    assert_int_equal(transport_pollitems(a.t, items, 4), 3);
    assert_int_equal(transport_send(a.t, PEER_B, (const uint8_t *)"x", 1), KITH_EAGAIN);
    assert_int_equal(transport_send(a.t, PEER_B, (const uint8_t *)"x", KITH_MAXMSGSIZE + 1),
                     KITH_ETOOBIG);
    transport_peer_drop(a.t, PEER_B);
    assert_int_equal(transport_pollitems(a.t, items, 8), 3);
    node_close(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exchange__attributes_frames_to_peer_id__both_ways),
        cmocka_unit_test(dispatch__reads_at_most_max_frames__per_call),
        cmocka_unit_test(send__full_queue_is_eagain__while_the_peer_stays_reachable),
        cmocka_unit_test(send__replies_over_inbound_route__when_peer_has_no_endpoint),
        cmocka_unit_test(zap__refuses_unknown_key__silently_and_delivers_nothing),
        cmocka_unit_test(zap__admits_invitee__and_reply_reaches_it),
        cmocka_unit_test(open__fails_selftest__when_zap_handler_missing),
        cmocka_unit_test(router__drops_oversize_frame__and_accepts_after_reconnect),
        cmocka_unit_test(peer_events__fire__when_remote_closes_and_reopens),
        cmocka_unit_test(open__rejects__endpoint_in_use_and_bad_config),
        cmocka_unit_test(peer_set__validates__and_send_to_unknown_peer_is_eagain),
    };

    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
