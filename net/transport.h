/*
 * transport: kith's ZeroMQ layer (PROTOCOL-NOTES.md §2.3). One ROUTER bound on
 * the profile's endpoint (CURVE server) and one DEALER per known peer (CURVE
 * client), in a context of its own. The ZAP handler (inproc://zeromq.zap.01)
 * is bound before any CURVE socket exists, ZAP_ENFORCE_DOMAIN (93) is set,
 * and transport_open proves with a throwaway key that an unknown client is
 * refused before it returns. Frames are attributed only by the ZAP User-Id
 * (ROUTER side) or by which DEALER (whose server key CURVE authenticated)
 * they arrived on; routing ids are never trusted. Refusals are ZAP 300: a
 * silent disconnect. Single-threaded: everything runs inside the engine's
 * zmq_poll; nothing here blocks.
 */
#ifndef KITH_NET_TRANSPORT_H
#define KITH_NET_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "core/err.h"

#define TRANSPORT_PEER_ID 16
#define TRANSPORT_USER_ID_MAX 80
#define TRANSPORT_POLL_MAX 512

struct transport; /* defined in transport.c */

enum transport_admit {
    TRANSPORT_REFUSE = 0,  /* ZAP 300: silent */
    TRANSPORT_CONTACT = 1, /* ZAP 200, User-Id "c:" + hex(peer_id) */
    TRANSPORT_INVITEE = 2, /* ZAP 200, User-Id "i:" + hex(tk) */
};

/* Decide on a connecting CURVE key. For TRANSPORT_CONTACT fill peer_id. Must
 * not block (use in-memory sets). ip is the client's address text. */
typedef enum transport_admit (*transport_admit_fn)(void *ctx, const uint8_t tk[32], const char *ip,
                                                   uint8_t peer_id[TRANSPORT_PEER_ID]);

struct transport_config {
    const char *listen;  /* e.g. "tcp://127.0.0.1:7741" or "tcp://127.0.0.1:*" */
    const uint8_t *tk_pk; /* 32 bytes, our CURVE public key */
    const uint8_t *tk_sk; /* 32 bytes, secret; copied into libzmq only */
    transport_admit_fn admit;
    void *admit_ctx;
    const char *socks_proxy; /* "host:port" or NULL */
};

/* Where a received frame came from. */
struct transport_origin {
    enum transport_admit kind;               /* CONTACT or INVITEE */
    uint8_t peer_id[TRANSPORT_PEER_ID];      /* CONTACT only */
    uint8_t tk[32];                          /* INVITEE only: the client's CURVE key */
    char user_id[TRANSPORT_USER_ID_MAX];     /* as ZAP set it, or "d:"+hex(peer) on a DEALER */
    bool via_router;                         /* arrived on our ROUTER (else on our DEALER) */
    uint8_t routing_id[256];                 /* ROUTER only: where to reply */
    size_t routing_id_len;
};

struct transport_events {
    /* One authenticated frame. buf is valid only during the call. */
    void (*on_frame)(void *ctx, const struct transport_origin *o, const uint8_t *buf, size_t len);
    /* Our DEALER to this peer finished a CURVE handshake (flush its outbox). */
    void (*on_peer_up)(void *ctx, const uint8_t peer_id[TRANSPORT_PEER_ID]);
    /* A connection of this peer went away. */
    void (*on_peer_down)(void *ctx, const uint8_t peer_id[TRANSPORT_PEER_ID]);
};

struct transport_stats {
    uint64_t frames_in;
    uint64_t frames_out;
    uint64_t no_user_id;   /* dropped: arrived without a ZAP User-Id */
    uint64_t zap_admitted;
    uint64_t zap_refused;
    uint64_t oversize;     /* dropped: larger than KITH_MAXMSGSIZE */
};

/* Bind ZAP, create and bind the ROUTER, run the fail-closed self-test.
 * KITH_OK; KITH_ESELFTEST ("transport authentication is not active");
 * KITH_ENET (bind failed: address in use, bad endpoint). */
KITH_NODISCARD int transport_open(const struct transport_config *cfg, struct transport **out);
/* Close every socket (LINGER 1000) and the context. NULL-safe. */
void transport_close(struct transport *t);
/* The bound endpoint with the real port (ZMQ_LAST_ENDPOINT). Borrowed. */
const char *transport_endpoint(const struct transport *t);

/* Create or update the DEALER for a peer: CURVE client to server key tk,
 * connecting to endpoint (may be NULL: no outbound connection, the peer can
 * still reach us and we answer over its connection). Reconnects with backoff
 * (1 s doubling to 60 s). KITH_OK, KITH_EINVAL, KITH_ENET. */
KITH_NODISCARD int transport_peer_set(struct transport *t, const uint8_t peer_id[TRANSPORT_PEER_ID],
                                      const uint8_t tk[32], const char *endpoint);
void transport_peer_drop(struct transport *t, const uint8_t peer_id[TRANSPORT_PEER_ID]);
/* True when some live, authenticated connection to the peer exists. */
bool transport_peer_reachable(const struct transport *t, const uint8_t peer_id[TRANSPORT_PEER_ID]);

/* Send one frame to a peer: over our DEALER when its handshake is up, else
 * over the peer's own inbound connection to our ROUTER (NAT case). Never
 * blocks. KITH_OK, KITH_EAGAIN (no live path or queue full: retry later). */
KITH_NODISCARD int transport_send(struct transport *t, const uint8_t peer_id[TRANSPORT_PEER_ID],
                                  const uint8_t *buf, size_t len);
/* Reply on the connection a frame arrived on (e.g. to an invitee). */
KITH_NODISCARD int transport_reply(struct transport *t, const struct transport_origin *o,
                                   const uint8_t *buf, size_t len);

/* Fill poll items (at most max); returns how many. */
int transport_pollitems(struct transport *t, zmq_pollitem_t *items, int max);
/* After zmq_poll: serve ZAP, read up to max_frames ready frames without
 * blocking, handle monitor events; calls ev callbacks. items/n as filled by
 * transport_pollitems. Returns the number of frames delivered. */
int transport_dispatch(struct transport *t, const zmq_pollitem_t *items, int n,
                       const struct transport_events *ev, void *ctx, size_t max_frames);

const struct transport_stats *transport_stats(const struct transport *t);

#endif
