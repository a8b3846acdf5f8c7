/*
 * transport: one ROUTER (CURVE server, ZAP-enforced) and one DEALER per peer
 * (CURVE client), in a zmq context of our own. Invariants: the ZAP handler is
 * bound before any CURVE socket exists; option 93 is set or open fails; the
 * self-test refuses a throwaway key before open returns; a ROUTER frame is
 * attributed only by the User-Id our ZAP handler set, a DEALER frame only by
 * which DEALER (server key checked by CURVE) it arrived on. Refusals are ZAP
 * 300, never 400. Nothing here blocks, logs addresses or logs keys.
 *
 * After a handshake or authentication failure a DEALER keeps its reconnect
 * backoff (1 s doubling to 60 s): libzmq copies RECONNECT_IVL_MAX at connect
 * time, so raising it to 10 minutes would mean recreating the socket, which
 * PROTOCOL-NOTES §2.3 allows us to defer.
 */
#include "net/transport_impl.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/limits.h"

/* Not declared by Debian's non-draft zmq.h, handled by libzmq 4.3.4 anyway
 * (PROTOCOL-NOTES §1.1 pitfall 2). */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

struct transport_sockopt {
    int name;
    int value;
};

/* ---- small helpers ---- */

static int
transport_set_ints(void *s, const struct transport_sockopt *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (zmq_setsockopt(s, opts[i].name, &opts[i].value, sizeof opts[i].value) != 0) {
            return -1;
        }
    }
    return 0;
}

static int
transport_set_common(void *s)
{
    static const struct transport_sockopt opts[] = {
        { ZMQ_HANDSHAKE_IVL, KITH_HANDSHAKE_IVL_MS },
        { ZMQ_HEARTBEAT_IVL, KITH_HEARTBEAT_IVL_MS },
        { ZMQ_HEARTBEAT_TIMEOUT, KITH_HEARTBEAT_TIMEOUT_MS },
        { ZMQ_HEARTBEAT_TTL, KITH_HEARTBEAT_TTL_MS },
        { ZMQ_LINGER, 1000 },
    };
    int64_t maxmsg = KITH_MAXMSGSIZE;

    if (zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0) {
        return -1;
    }
    return transport_set_ints(s, opts, sizeof opts / sizeof opts[0]);
}

static int64_t
transport_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
transport_close_socket(void **s)
{
    if (*s != NULL) {
        int zero = 0;
        (void)zmq_setsockopt(*s, ZMQ_LINGER, &zero, sizeof zero);
        (void)zmq_close(*s);
        *s = NULL;
    }
}

/* Drain the rest of a multipart message whose first part was just read. */
void
transport_drain(void *s, zmq_msg_t *first)
{
    int more = zmq_msg_more(first);

    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, s, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            return;
        }
        more = zmq_msg_more(&part);
        zmq_msg_close(&part);
    }
}

/* Open a PAIR connected to a monitor of s for events; NULL on failure. */
static void *
transport_monitor_open(struct transport *t, void *s, int events)
{
    char addr[64];
    void *pair;

    snprintf(addr, sizeof addr, "inproc://kith-monitor-%u", t->monitor_seq++);
    if (zmq_socket_monitor(s, addr, events) != 0) {
        return NULL;
    }
    pair = zmq_socket(t->ctx, ZMQ_PAIR);
    if (pair == NULL || zmq_connect(pair, addr) != 0) {
        transport_close_socket(&pair);
        (void)zmq_socket_monitor(s, NULL, 0);
        return NULL;
    }
    return pair;
}

/* Read one monitor event: KITH_OK with event and value set, or KITH_EAGAIN. */
int
transport_monitor_read(void *pair, uint16_t *event, uint32_t *value)
{
    zmq_msg_t head;
    int rc = KITH_EAGAIN;

    zmq_msg_init(&head);
    if (zmq_msg_recv(&head, pair, ZMQ_DONTWAIT) < 0) {
        goto out;
    }
    if (zmq_msg_size(&head) == 6) {
        const uint8_t *d = zmq_msg_data(&head);
        memcpy(event, d, 2);
        memcpy(value, d + 2, 4);
        rc = KITH_OK;
    }
    transport_drain(pair, &head); /* the endpoint frame: an address, never logged */
    if (rc != KITH_OK) {
        rc = KITH_EINVAL;
    }
out:
    zmq_msg_close(&head);
    return rc;
}

/* ---- peers ---- */

struct transport_peer *
transport_peer_find(const struct transport *t, const uint8_t peer_id[TRANSPORT_PEER_ID])
{
    for (size_t i = 0; i < t->npeers; i++) {
        if (memcmp(t->peers[i]->peer_id, peer_id, TRANSPORT_PEER_ID) == 0) {
            return t->peers[i];
        }
    }
    return NULL;
}

struct transport_peer *
transport_peer_add(struct transport *t, const uint8_t peer_id[TRANSPORT_PEER_ID])
{
    struct transport_peer *p = xcalloc(1, sizeof *p);

    if (t->npeers == t->cap) {
        t->cap = t->cap == 0 ? 16 : t->cap * 2;
        t->peers = xrealloc(t->peers, t->cap * sizeof *t->peers);
    }
    memcpy(p->peer_id, peer_id, TRANSPORT_PEER_ID);
    p->poll_slot = -1;
    p->route_fd = -1;
    t->peers[t->npeers++] = p;
    return p;
}

static void
transport_dealer_close(struct transport_peer *p)
{
    if (p->dealer != NULL) {
        (void)zmq_socket_monitor(p->dealer, NULL, 0);
        (void)zmq_close(p->dealer); /* keeps LINGER 1000: queued frames get a chance */
        p->dealer = NULL;
    }
    transport_close_socket(&p->monitor);
    p->is_up = false;
    p->poll_slot = -1;
    p->is_readable = false;
}

static void
transport_peer_free(struct transport_peer *p)
{
    if (p == NULL) {
        return;
    }
    transport_dealer_close(p);
    free(p->endpoint);
    sodium_memzero(p, sizeof *p);
    free(p);
}

static int
transport_dealer_open(struct transport *t, struct transport_peer *p)
{
    static const struct transport_sockopt opts[] = {
        { ZMQ_IMMEDIATE, 1 },
        { ZMQ_SNDHWM, 1000 },
        { ZMQ_RECONNECT_IVL, KITH_RECONNECT_IVL_MS },
        { ZMQ_RECONNECT_IVL_MAX, KITH_RECONNECT_IVL_MAX_MS },
        { ZMQ_CONNECT_TIMEOUT, 10000 },
    };
    void *s = zmq_socket(t->ctx, ZMQ_DEALER);

    if (s == NULL) {
        return KITH_ENET;
    }
    p->dealer = s;
    if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, p->tk, 32) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, t->keys, 32) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, t->keys + 32, 32) != 0 ||
        transport_set_common(s) != 0 ||
        transport_set_ints(s, opts, sizeof opts / sizeof opts[0]) != 0) {
        goto fail;
    }
    if (t->socks_proxy != NULL &&
        zmq_setsockopt(s, ZMQ_SOCKS_PROXY, t->socks_proxy, strlen(t->socks_proxy)) != 0) {
        goto fail;
    }
    p->monitor = transport_monitor_open(t, s, TRANSPORT_PEER_EVENTS);
    if (p->monitor == NULL) {
        goto fail;
    }
    if (zmq_connect(s, p->endpoint) != 0) {
        int rc = errno == EINVAL ? KITH_EINVAL : KITH_ENET;
        transport_dealer_close(p);
        return rc;
    }
    return KITH_OK;
fail:
    transport_dealer_close(p);
    return KITH_ENET;
}

int
transport_peer_set(struct transport *t, const uint8_t peer_id[TRANSPORT_PEER_ID],
                   const uint8_t tk[32], const char *endpoint)
{
    struct transport_peer *p;
    bool is_same_tk;

    if (t == NULL || peer_id == NULL || tk == NULL ||
        (endpoint != NULL && (endpoint[0] == '\0' || strlen(endpoint) > KITH_ENDPOINT_MAX))) {
        return KITH_EINVAL;
    }
    p = transport_peer_find(t, peer_id);
    if (p == NULL) {
        p = transport_peer_add(t, peer_id);
    }
    is_same_tk = p->has_tk && memcmp(p->tk, tk, 32) == 0;
    if (is_same_tk && ((endpoint == NULL && p->endpoint == NULL) ||
                       (endpoint != NULL && p->endpoint != NULL && p->dealer != NULL &&
                        strcmp(endpoint, p->endpoint) == 0))) {
        return KITH_OK;
    }
    transport_dealer_close(p);
    free(p->endpoint);
    p->endpoint = NULL;
    if (p->has_tk && !is_same_tk) {
        p->route_len = 0; /* that connection authenticated another key */
    }
    memcpy(p->tk, tk, 32);
    p->has_tk = true;
    /* They accepted our invite on a connection still open: that is a way back to them. */
    for (size_t i = 0; i < TRANSPORT_INVITEE_ROUTES && p->route_len == 0; i++) {
        struct transport_invitee_route *r = &t->invitee_routes[i];
        if (r->route_len > 0 && memcmp(r->tk, tk, 32) == 0) {
            memcpy(p->route, r->route, r->route_len);
            p->route_len = r->route_len;
            p->route_fd = r->fd;
            r->route_len = 0;
        }
    }
    if (endpoint == NULL) {
        return KITH_OK;
    }
    p->endpoint = xstrdup(endpoint);
    return transport_dealer_open(t, p);
}

void
transport_peer_drop(struct transport *t, const uint8_t peer_id[TRANSPORT_PEER_ID])
{
    if (t == NULL || peer_id == NULL) {
        return;
    }
    for (size_t i = 0; i < t->npeers; i++) {
        if (memcmp(t->peers[i]->peer_id, peer_id, TRANSPORT_PEER_ID) == 0) {
            transport_peer_free(t->peers[i]);
            t->peers[i] = t->peers[--t->npeers];
            return;
        }
    }
}

bool
transport_peer_reachable(const struct transport *t, const uint8_t peer_id[TRANSPORT_PEER_ID])
{
    const struct transport_peer *p;

    if (t == NULL || peer_id == NULL) {
        return false;
    }
    p = transport_peer_find(t, peer_id);
    return p != NULL && (p->is_up || p->route_len > 0);
}

/* ---- ZAP (RFC 27) ---- */

struct transport_zap_request {
    zmq_msg_t part[7];
    int nparts;
    bool is_odd; /* more than 7 parts */
};

static void
transport_zap_reply(void *zap, zmq_msg_t *request_id, const char *status, const char *user_id)
{
    const void *rid = request_id != NULL ? zmq_msg_data(request_id) : "";
    size_t rid_len = request_id != NULL ? zmq_msg_size(request_id) : 0;

    /* A REP socket accepts the reply atomically once the first part is in. */
    (void)zmq_send(zap, "1.0", 3, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    (void)zmq_send(zap, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    (void)zmq_send(zap, status, 3, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    (void)zmq_send(zap, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    (void)zmq_send(zap, user_id, strlen(user_id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    (void)zmq_send(zap, "", 0, ZMQ_DONTWAIT);
}

static bool
transport_part_is(zmq_msg_t *m, const char *text)
{
    size_t n = strlen(text);
    return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), text, n) == 0;
}

/* Decide one well-formed or odd request; writes the user id ("" = refuse). */
static void
transport_zap_decide(struct transport *t, struct transport_zap_request *r,
                     char user_id[TRANSPORT_USER_ID_MAX])
{
    uint8_t peer_id[TRANSPORT_PEER_ID] = { 0 };
    char ip[64];
    const uint8_t *key;
    enum transport_admit verdict;

    user_id[0] = '\0';
    if (r->is_odd || r->nparts != 7 || !transport_part_is(&r->part[0], "1.0") ||
        !transport_part_is(&r->part[2], TRANSPORT_ZAP_DOMAIN) ||
        !transport_part_is(&r->part[5], "CURVE") || zmq_msg_size(&r->part[6]) != 32 ||
        zmq_msg_size(&r->part[3]) >= sizeof ip ||
        (zmq_msg_size(&r->part[3]) > 0 &&
         memchr(zmq_msg_data(&r->part[3]), '\0', zmq_msg_size(&r->part[3])) != NULL)) {
        return;
    }
    key = zmq_msg_data(&r->part[6]);
    if (t->has_selftest_pk && sodium_memcmp(key, t->selftest_pk, 32) == 0) {
        t->selftest_refused = true;
        return;
    }
    if (t->in_selftest || t->admit == NULL) {
        return; /* nobody is admitted until the self-test has passed */
    }
    ip[0] = '\0';
    if (zmq_msg_size(&r->part[3]) > 0) {
        memcpy(ip, zmq_msg_data(&r->part[3]), zmq_msg_size(&r->part[3]));
        ip[zmq_msg_size(&r->part[3])] = '\0';
    }
    verdict = t->admit(t->admit_ctx, key, ip, peer_id);
    if (verdict == TRANSPORT_CONTACT) {
        memcpy(user_id, "c:", 2);
        sodium_bin2hex(user_id + 2, TRANSPORT_USER_ID_MAX - 2, peer_id, TRANSPORT_PEER_ID);
    } else if (verdict == TRANSPORT_INVITEE) {
        memcpy(user_id, "i:", 2);
        sodium_bin2hex(user_id + 2, TRANSPORT_USER_ID_MAX - 2, key, 32);
    }
}

/* Serve one request; false when none was waiting. */
static bool
transport_zap_serve_one(struct transport *t)
{
    struct transport_zap_request r = { .nparts = 0 };
    char user_id[TRANSPORT_USER_ID_MAX];
    zmq_msg_t extra;
    bool more = true;

    while (more) {
        zmq_msg_t *m = r.nparts < 7 ? &r.part[r.nparts] : &extra;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, t->zap, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(m);
            if (r.nparts == 0) {
                return false;
            }
            break;
        }
        more = zmq_msg_more(m);
        if (m == &extra) {
            r.is_odd = true;
            zmq_msg_close(&extra);
        } else {
            r.nparts++;
        }
    }
    transport_zap_decide(t, &r, user_id);
    if (user_id[0] != '\0') {
        t->stats.zap_admitted++;
        transport_zap_reply(t->zap, r.nparts > 1 ? &r.part[1] : NULL, "200", user_id);
    } else {
        t->stats.zap_refused++;
        transport_zap_reply(t->zap, r.nparts > 1 ? &r.part[1] : NULL, "300", "");
    }
    for (int i = 0; i < r.nparts; i++) {
        zmq_msg_close(&r.part[i]);
    }
    return true;
}

void
transport_zap_serve(struct transport *t)
{
    if (t->zap == NULL) {
        return;
    }
    for (int i = 0; i < TRANSPORT_ZAP_BUDGET && transport_zap_serve_one(t); i++) {
    }
}

/* ---- open / close ---- */

static void
transport_destroy(struct transport *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < t->npeers; i++) {
        transport_peer_free(t->peers[i]);
    }
    free(t->peers);
    if (t->router != NULL) {
        (void)zmq_socket_monitor(t->router, NULL, 0);
        (void)zmq_close(t->router);
    }
    transport_close_socket(&t->router_monitor);
    transport_close_socket(&t->zap);
    if (t->ctx != NULL) {
        (void)zmq_ctx_term(t->ctx);
    }
    if (t->keys != NULL) {
        sodium_free(t->keys); /* wipes before freeing */
    }
    free(t->socks_proxy);
    sodium_memzero(t, sizeof *t);
    free(t);
}

void
transport_close(struct transport *t)
{
    transport_destroy(t);
}

static bool
transport_zap_is_broken_for_test(void)
{
#ifdef KITH_TEST_HOOKS
    const char *v = getenv("KITH_TEST_BREAK_ZAP");
    return v != NULL && strcmp(v, "1") == 0;
#else
    return false;
#endif
}

static int
transport_router_open(struct transport *t, const char *listen, bool is_zap_broken)
{
    static const struct transport_sockopt opts[] = {
        { ZMQ_CURVE_SERVER, 1 },
        { ZMQ_ROUTER_MANDATORY, 1 },
    };
    int one = 1;
    size_t len = sizeof t->endpoint;

    t->router = zmq_socket(t->ctx, ZMQ_ROUTER);
    if (t->router == NULL) {
        return KITH_ENET;
    }
    if (transport_set_ints(t->router, opts, sizeof opts / sizeof opts[0]) != 0 ||
        zmq_setsockopt(t->router, ZMQ_CURVE_SECRETKEY, t->keys + 32, 32) != 0 ||
        zmq_setsockopt(t->router, ZMQ_ZAP_DOMAIN, TRANSPORT_ZAP_DOMAIN,
                       strlen(TRANSPORT_ZAP_DOMAIN)) != 0 ||
        transport_set_common(t->router) != 0) {
        return KITH_ENET;
    }
    if (!is_zap_broken &&
        zmq_setsockopt(t->router, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0) {
        return KITH_ESELFTEST; /* without it a missing handler fails open */
    }
    t->router_monitor = transport_monitor_open(t, t->router, ZMQ_EVENT_DISCONNECTED);
    if (t->router_monitor == NULL) {
        return KITH_ENET;
    }
    if (zmq_bind(t->router, listen) != 0 ||
        zmq_getsockopt(t->router, ZMQ_LAST_ENDPOINT, t->endpoint, &len) != 0) {
        return KITH_ENET;
    }
    t->endpoint[sizeof t->endpoint - 1] = '\0';
    return KITH_OK;
}

/* Read one ROUTER message during the self-test; true if one arrived. */
static bool
transport_selftest_read_router(struct transport *t)
{
    zmq_msg_t m;
    bool got = false;

    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, t->router, ZMQ_DONTWAIT) >= 0) {
        got = true;
        transport_drain(t->router, &m);
    }
    zmq_msg_close(&m);
    return got;
}

static int
transport_selftest_loop(struct transport *t)
{
    int64_t deadline = transport_now_ms() + TRANSPORT_SELFTEST_MS;
    int64_t now;

    while ((now = transport_now_ms()) < deadline) {
        zmq_pollitem_t items[2] = {
            { .socket = t->router, .events = ZMQ_POLLIN },
            { .socket = t->zap, .events = ZMQ_POLLIN },
        };
        int64_t wait = deadline - now;
        if (t->selftest_refused && wait > TRANSPORT_SELFTEST_GRACE_MS) {
            deadline = now + TRANSPORT_SELFTEST_GRACE_MS;
            wait = TRANSPORT_SELFTEST_GRACE_MS;
        }
        if (zmq_poll(items, t->zap != NULL ? 2 : 1, (long)wait) < 0 && errno != EINTR) {
            return KITH_ENET;
        }
        transport_zap_serve(t);
        if (transport_selftest_read_router(t)) {
            return KITH_ESELFTEST; /* delivered, with or without a User-Id */
        }
    }
    return t->selftest_refused ? KITH_OK : KITH_ESELFTEST;
}

/* A throwaway key must be refused by our own ZAP handler, and its frame must
 * never reach the ROUTER (PROTOCOL-NOTES §2.3 step 5). */
static int
transport_selftest(struct transport *t)
{
    uint8_t sk[crypto_box_SECRETKEYBYTES];
    void *probe = NULL;
    int zero = 0;
    int rc = KITH_ESELFTEST;

    crypto_box_keypair(t->selftest_pk, sk);
    t->has_selftest_pk = true;
    t->in_selftest = true;
    probe = zmq_socket(t->ctx, ZMQ_DEALER);
    if (probe == NULL || zmq_setsockopt(probe, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(probe, ZMQ_CURVE_SERVERKEY, t->keys, 32) != 0 ||
        zmq_setsockopt(probe, ZMQ_CURVE_PUBLICKEY, t->selftest_pk, 32) != 0 ||
        zmq_setsockopt(probe, ZMQ_CURVE_SECRETKEY, sk, sizeof sk) != 0 ||
        zmq_connect(probe, t->endpoint) != 0 ||
        zmq_send(probe, "kith-selftest", 13, ZMQ_DONTWAIT) != 13) {
        goto out;
    }
    rc = transport_selftest_loop(t);
out:
    sodium_memzero(sk, sizeof sk);
    transport_close_socket(&probe);
    t->in_selftest = false;
    return rc;
}

int
transport_open(const struct transport_config *cfg, struct transport **out)
{
    struct transport *t = NULL;
    bool is_zap_broken = transport_zap_is_broken_for_test();
    int rc;

    *out = NULL;
    if (cfg == NULL || cfg->listen == NULL || cfg->tk_pk == NULL || cfg->tk_sk == NULL ||
        cfg->admit == NULL) {
        return KITH_EINVAL;
    }
    if (sodium_init() < 0) {
        return KITH_ESYS;
    }
    t = xcalloc(1, sizeof *t);
    t->keys = sodium_malloc(64);
    if (t->keys == NULL) {
        rc = KITH_ENOMEM;
        goto out;
    }
    memcpy(t->keys, cfg->tk_pk, 32);
    memcpy(t->keys + 32, cfg->tk_sk, 32);
    t->admit = cfg->admit;
    t->admit_ctx = cfg->admit_ctx;
    t->socks_proxy = cfg->socks_proxy != NULL ? xstrdup(cfg->socks_proxy) : NULL;
    rc = KITH_ENET;
    t->ctx = zmq_ctx_new();
    if (t->ctx == NULL) {
        goto out;
    }
    if (!is_zap_broken) { /* the handler first: RFC 27 */
        t->zap = zmq_socket(t->ctx, ZMQ_REP);
        if (t->zap == NULL || zmq_bind(t->zap, TRANSPORT_ZAP_ENDPOINT) != 0) {
            goto out;
        }
    }
    rc = transport_router_open(t, cfg->listen, is_zap_broken);
    if (rc != KITH_OK) {
        goto out;
    }
    rc = transport_selftest(t);
    if (rc != KITH_OK) {
        goto out;
    }
    *out = t;
    t = NULL;
out:
    transport_destroy(t);
    return rc;
}

const char *
transport_endpoint(const struct transport *t)
{
    return t->endpoint;
}

const struct transport_stats *
transport_stats(const struct transport *t)
{
    return &t->stats;
}

/* ---- sending ---- */

static int
transport_send_route(struct transport *t, const uint8_t *route, size_t route_len,
                     const uint8_t *buf, size_t len)
{
    if (zmq_send(t->router, route, route_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        return errno == EHOSTUNREACH ? KITH_ENOTFOUND : KITH_EAGAIN;
    }
    if (zmq_send(t->router, buf, len, ZMQ_DONTWAIT) < 0) {
        return KITH_EAGAIN;
    }
    t->stats.frames_out++;
    return KITH_OK;
}

static int
transport_send_dealer(struct transport *t, struct transport_peer *p, const uint8_t *buf, size_t len)
{
    if (p->dealer == NULL || zmq_send(p->dealer, buf, len, ZMQ_DONTWAIT) < 0) {
        return KITH_EAGAIN;
    }
    t->stats.frames_out++;
    return KITH_OK;
}

int
transport_send(struct transport *t, const uint8_t peer_id[TRANSPORT_PEER_ID], const uint8_t *buf,
               size_t len)
{
    struct transport_peer *p;
    int rc;

    if (t == NULL || peer_id == NULL || (buf == NULL && len > 0)) {
        return KITH_EINVAL;
    }
    if (len > KITH_MAXMSGSIZE) {
        return KITH_ETOOBIG; /* the far side would disconnect us */
    }
    p = transport_peer_find(t, peer_id);
    if (p == NULL) {
        return KITH_EAGAIN;
    }
    if (p->is_up && transport_send_dealer(t, p, buf, len) == KITH_OK) {
        return KITH_OK;
    }
    if (p->route_len > 0) {
        rc = transport_send_route(t, p->route, p->route_len, buf, len);
        if (rc == KITH_OK) {
            return KITH_OK;
        }
        if (rc == KITH_ENOTFOUND) {
            p->route_len = 0; /* that connection is gone */
        }
    }
    /* IMMEDIATE=1 queues only on a completed handshake, so this is safe even
     * before the monitor has told us the DEALER is up. */
    if (!p->is_up) {
        return transport_send_dealer(t, p, buf, len);
    }
    return KITH_EAGAIN;
}

int
transport_reply(struct transport *t, const struct transport_origin *o, const uint8_t *buf,
                size_t len)
{
    int rc;

    if (t == NULL || o == NULL || (buf == NULL && len > 0) ||
        o->routing_id_len > sizeof o->routing_id) {
        return KITH_EINVAL;
    }
    if (len > KITH_MAXMSGSIZE) {
        return KITH_ETOOBIG;
    }
    if (!o->via_router) {
        return transport_send(t, o->peer_id, buf, len);
    }
    if (o->routing_id_len == 0) {
        return KITH_EINVAL;
    }
    rc = transport_send_route(t, o->routing_id, o->routing_id_len, buf, len);
    if (rc == KITH_ENOTFOUND) {
        struct transport_peer *p =
            o->kind == TRANSPORT_CONTACT ? transport_peer_find(t, o->peer_id) : NULL;
        if (p != NULL && p->route_len == o->routing_id_len &&
            memcmp(p->route, o->routing_id, p->route_len) == 0) {
            p->route_len = 0;
        }
        rc = KITH_EAGAIN;
    }
    return rc;
}
