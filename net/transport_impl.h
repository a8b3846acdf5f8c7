/*
 * transport_impl: internals shared by transport.c (open/close, self-test,
 * ZAP, peers, sending) and transport_recv.c (dispatch, inbound ROUTER and
 * DEALER reading, monitor events). Not a public header.
 */
#ifndef KITH_NET_TRANSPORT_IMPL_H
#define KITH_NET_TRANSPORT_IMPL_H

#include "net/transport.h"

#define TRANSPORT_ZAP_ENDPOINT      "inproc://zeromq.zap.01"
#define TRANSPORT_ZAP_DOMAIN        "kith"
#define TRANSPORT_ZAP_BUDGET        64 /* ZAP requests served per dispatch */
#define TRANSPORT_MONITOR_BUDGET    64 /* monitor events read per socket per dispatch */
#define TRANSPORT_SELFTEST_MS       1000
#define TRANSPORT_SELFTEST_GRACE_MS 50
#define TRANSPORT_ROUTE_MAX         256
#define TRANSPORT_PEER_EVENTS                                                                      \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |                                      \
     ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |                  \
     ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

struct transport_peer {
    uint8_t peer_id[TRANSPORT_PEER_ID];
    uint8_t tk[32];
    bool has_tk;    /* false for a peer known only from an inbound route */
    char *endpoint; /* NULL: no outbound connection */
    void *dealer;   /* NULL when endpoint is NULL */
    void *monitor;  /* PAIR receiving the DEALER's events */
    bool is_up;     /* our DEALER completed a CURVE handshake */
    int poll_slot;  /* index of the DEALER in the last pollitems, or -1 */
    bool is_readable;
    uint8_t route[TRANSPORT_ROUTE_MAX]; /* the peer's inbound connection to our ROUTER */
    size_t route_len;                   /* 0: none known */
    int route_fd;
};

/* The last inbound connection of an invitee key not (yet) known as a peer's: when that key
 * becomes a peer's (the invite was accepted), the connection is its way back. */
#define TRANSPORT_INVITEE_ROUTES 16
struct transport_invitee_route {
    uint8_t tk[32];
    uint8_t route[TRANSPORT_ROUTE_MAX];
    size_t route_len; /* 0: slot free */
    int fd;
};

struct transport {
    void *ctx;
    struct transport_invitee_route invitee_routes[TRANSPORT_INVITEE_ROUTES];
    size_t invitee_next;
    void *zap; /* NULL only under the KITH_TEST_BREAK_ZAP hook */
    void *router;
    void *router_monitor;
    char endpoint[256];
    uint8_t *keys; /* sodium_malloc: public key [0, 32), secret key [32, 64) */
    char *socks_proxy;
    transport_admit_fn admit;
    void *admit_ctx;
    struct transport_peer **peers;
    size_t npeers;
    size_t cap;
    unsigned monitor_seq;
    size_t poll_rotate; /* first peer in the next pollitems, so none starves */
    size_t rr;          /* first frame source in the next dispatch pass */
    bool in_selftest;
    bool selftest_refused;
    bool has_selftest_pk;
    uint8_t selftest_pk[32];
    struct transport_stats stats;
};

/* ---- helpers defined in transport.c ---- */

/* Drain the rest of a multipart message whose first part was just read. */
void transport_drain(void *s, zmq_msg_t *first);
/* Read one monitor event: KITH_OK with event and value set, or KITH_EAGAIN. */
int transport_monitor_read(void *pair, uint16_t *event, uint32_t *value);
struct transport_peer *transport_peer_find(const struct transport *t,
                                           const uint8_t peer_id[TRANSPORT_PEER_ID]);
struct transport_peer *transport_peer_add(struct transport *t,
                                          const uint8_t peer_id[TRANSPORT_PEER_ID]);
void transport_zap_serve(struct transport *t);

#endif
