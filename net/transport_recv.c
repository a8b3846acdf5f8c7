/*
 * transport_recv: the receiving half of transport: pollitems and dispatch,
 * reading inbound frames from the ROUTER (attributed by ZAP User-Id) and
 * from each DEALER, and the monitor events that mark peers up or down.
 */
#include "net/transport_impl.h"

#include <sodium.h>
#include <string.h>

#include "core/limits.h"

/* ---- receiving ---- */

static void
transport_emit_down(const struct transport_events *ev, void *ctx,
                    const uint8_t peer_id[TRANSPORT_PEER_ID])
{
    if (ev != NULL && ev->on_peer_down != NULL) {
        ev->on_peer_down(ctx, peer_id);
    }
}

/* Our DEALER's monitor: handshake up, or the connection went away. */
static void
transport_peer_events(struct transport *t, size_t i, const struct transport_events *ev, void *ctx)
{
    for (int k = 0; k < TRANSPORT_MONITOR_BUDGET && i < t->npeers; k++) {
        struct transport_peer *p = t->peers[i];
        uint8_t peer_id[TRANSPORT_PEER_ID];
        uint16_t event = 0;
        uint32_t value = 0;
        int rc = transport_monitor_read(p->monitor, &event, &value);

        if (rc == KITH_EAGAIN) {
            return;
        }
        if (rc != KITH_OK) {
            continue;
        }
        memcpy(peer_id, p->peer_id, TRANSPORT_PEER_ID); /* callbacks may drop p */
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            if (!p->is_up) {
                p->is_up = true;
                if (ev != NULL && ev->on_peer_up != NULL) {
                    ev->on_peer_up(ctx, peer_id);
                }
            }
        } else if (p->is_up) {
            p->is_up = false;
            transport_emit_down(ev, ctx, peer_id);
        }
    }
}

/* The ROUTER's monitor reports only the fd that went away; forget routes
 * that used it (EHOSTUNREACH at send time is the backstop). */
static void
transport_router_events(struct transport *t, const struct transport_events *ev, void *ctx)
{
    for (int k = 0; k < TRANSPORT_MONITOR_BUDGET; k++) {
        uint16_t event = 0;
        uint32_t fd = 0;
        int rc = transport_monitor_read(t->router_monitor, &event, &fd);

        if (rc == KITH_EAGAIN) {
            return;
        }
        if (rc != KITH_OK || event != ZMQ_EVENT_DISCONNECTED) {
            continue;
        }
        for (size_t i = 0; i < TRANSPORT_INVITEE_ROUTES; i++) {
            if (t->invitee_routes[i].route_len > 0 && t->invitee_routes[i].fd >= 0 &&
                (uint32_t)t->invitee_routes[i].fd == fd) {
                t->invitee_routes[i].route_len = 0;
            }
        }
        for (size_t i = 0; i < t->npeers; i++) {
            struct transport_peer *p = t->peers[i];
            if (p->route_len > 0 && p->route_fd >= 0 && (uint32_t)p->route_fd == fd) {
                uint8_t peer_id[TRANSPORT_PEER_ID];
                memcpy(peer_id, p->peer_id, TRANSPORT_PEER_ID);
                p->route_len = 0;
                p->route_fd = -1;
                transport_emit_down(ev, ctx, peer_id);
            }
        }
    }
}

/* Attribute a ROUTER frame by the User-Id our ZAP handler set; false if the
 * id is absent or not one we could have written. */
static bool
transport_origin_from_user_id(struct transport_origin *o, const char *user_id)
{
    size_t len = strnlen(user_id, TRANSPORT_USER_ID_MAX);
    size_t bin_len = 0;

    if (len == 2 + 2 * TRANSPORT_PEER_ID && memcmp(user_id, "c:", 2) == 0) {
        o->kind = TRANSPORT_CONTACT;
        if (sodium_hex2bin(o->peer_id, TRANSPORT_PEER_ID, user_id + 2, len - 2, NULL, &bin_len,
                           NULL) != 0 ||
            bin_len != TRANSPORT_PEER_ID) {
            return false;
        }
    } else if (len == 2 + 2 * 32 && memcmp(user_id, "i:", 2) == 0) {
        o->kind = TRANSPORT_INVITEE;
        if (sodium_hex2bin(o->tk, 32, user_id + 2, len - 2, NULL, &bin_len, NULL) != 0 ||
            bin_len != 32) {
            return false;
        }
    } else {
        return false;
    }
    memcpy(o->user_id, user_id, len + 1);
    return true;
}

/* Remember the peer's inbound connection as a way back to it. True when the
 * route is new (the peer just became reachable this way). */
static bool
transport_remember_route(struct transport *t, const uint8_t peer_id[TRANSPORT_PEER_ID],
                         const struct transport_origin *o, int fd)
{
    struct transport_peer *p = transport_peer_find(t, peer_id);
    bool is_new;

    if (p == NULL) {
        p = transport_peer_add(t, peer_id); /* route only: no DEALER */
    }
    is_new = p->route_len != o->routing_id_len ||
             memcmp(p->route, o->routing_id, o->routing_id_len) != 0;
    memcpy(p->route, o->routing_id, o->routing_id_len);
    p->route_len = o->routing_id_len;
    p->route_fd = fd;
    return is_new;
}

/* A connection admitted as an invitee whose key has since become a known
 * peer's (the invite was accepted on it): that peer's, for the connection's life. */
static struct transport_peer *
transport_peer_by_tk(struct transport *t, const uint8_t tk[32])
{
    for (size_t i = 0; i < t->npeers; i++) {
        if (t->peers[i]->has_tk && memcmp(t->peers[i]->tk, tk, 32) == 0) {
            return t->peers[i];
        }
    }
    return NULL;
}

static void
transport_deliver(const struct transport_events *ev, void *ctx, const struct transport_origin *o,
                  zmq_msg_t *payload)
{
    if (ev != NULL && ev->on_frame != NULL) {
        ev->on_frame(ctx, o, zmq_msg_data(payload), zmq_msg_size(payload));
    }
}

/* One ROUTER message: 1 delivered, 0 dropped, -1 nothing waiting. */
static int
transport_read_router(struct transport *t, const struct transport_events *ev, void *ctx)
{
    struct transport_origin o;
    zmq_msg_t rid;
    zmq_msg_t payload;
    const char *user_id;
    int result = 0;

    zmq_msg_init(&rid);
    zmq_msg_init(&payload);
    if (zmq_msg_recv(&rid, t->router, ZMQ_DONTWAIT) < 0) {
        result = -1;
        goto out;
    }
    if (!zmq_msg_more(&rid) || zmq_msg_size(&rid) == 0 ||
        zmq_msg_size(&rid) > sizeof o.routing_id) {
        transport_drain(t->router, &rid);
        goto out;
    }
    if (zmq_msg_recv(&payload, t->router, ZMQ_DONTWAIT) < 0) {
        goto out;
    }
    if (zmq_msg_more(&payload)) {
        transport_drain(t->router, &payload); /* more than two parts: not ours */
        goto out;
    }
    if (zmq_msg_size(&payload) > KITH_MAXMSGSIZE) {
        t->stats.oversize++;
        goto out;
    }
    memset(&o, 0, sizeof o);
    user_id = zmq_msg_gets(&payload, "User-Id");
    if (user_id == NULL || !transport_origin_from_user_id(&o, user_id)) {
        t->stats.no_user_id++;
        goto out;
    }
    o.via_router = true;
    memcpy(o.routing_id, zmq_msg_data(&rid), zmq_msg_size(&rid));
    o.routing_id_len = zmq_msg_size(&rid);
    {
        struct transport_peer *known = o.kind == TRANSPORT_INVITEE ? transport_peer_by_tk(t, o.tk)
                                                                    : NULL;
        const uint8_t *peer_id = o.kind == TRANSPORT_CONTACT ? o.peer_id
                                 : known != NULL              ? known->peer_id
                                                              : NULL;
        if (o.kind == TRANSPORT_INVITEE && known == NULL &&
            o.routing_id_len <= TRANSPORT_ROUTE_MAX) {
            struct transport_invitee_route *r = NULL;
            for (size_t i = 0; i < TRANSPORT_INVITEE_ROUTES && r == NULL; i++) {
                if (t->invitee_routes[i].route_len > 0 &&
                    memcmp(t->invitee_routes[i].tk, o.tk, 32) == 0) {
                    r = &t->invitee_routes[i];
                }
            }
            if (r == NULL) {
                r = &t->invitee_routes[t->invitee_next++ % TRANSPORT_INVITEE_ROUTES];
            }
            memcpy(r->tk, o.tk, 32);
            memcpy(r->route, o.routing_id, o.routing_id_len);
            r->route_len = o.routing_id_len;
            r->fd = zmq_msg_get(&payload, ZMQ_SRCFD);
        }
        if (peer_id != NULL &&
            transport_remember_route(t, peer_id, &o, zmq_msg_get(&payload, ZMQ_SRCFD)) &&
            ev != NULL && ev->on_peer_up != NULL) {
            uint8_t id[TRANSPORT_PEER_ID];
            memcpy(id, peer_id, sizeof id); /* the callback may change the peer table */
            ev->on_peer_up(ctx, id);
        }
    }
    t->stats.frames_in++;
    transport_deliver(ev, ctx, &o, &payload);
    result = 1;
out:
    zmq_msg_close(&payload);
    zmq_msg_close(&rid);
    return result;
}

/* One frame on peer i's DEALER: 1 delivered, 0 dropped, -1 nothing waiting. */
static int
transport_read_dealer(struct transport *t, size_t i, const struct transport_events *ev, void *ctx)
{
    struct transport_peer *p = t->peers[i];
    struct transport_origin o;
    zmq_msg_t payload;
    int result = 0;

    zmq_msg_init(&payload);
    if (p->dealer == NULL || zmq_msg_recv(&payload, p->dealer, ZMQ_DONTWAIT) < 0) {
        result = -1;
        goto out;
    }
    if (zmq_msg_more(&payload)) {
        transport_drain(p->dealer, &payload);
        goto out;
    }
    if (zmq_msg_size(&payload) > KITH_MAXMSGSIZE) {
        t->stats.oversize++;
        goto out;
    }
    memset(&o, 0, sizeof o);
    o.kind = TRANSPORT_CONTACT;
    memcpy(o.peer_id, p->peer_id, TRANSPORT_PEER_ID);
    memcpy(o.user_id, "d:", 2);
    sodium_bin2hex(o.user_id + 2, sizeof o.user_id - 2, p->peer_id, TRANSPORT_PEER_ID);
    t->stats.frames_in++;
    transport_deliver(ev, ctx, &o, &payload);
    result = 1;
out:
    zmq_msg_close(&payload);
    return result;
}

int
transport_pollitems(struct transport *t, zmq_pollitem_t *items, int max)
{
    void *fixed[3] = { t->zap, t->router, t->router_monitor };
    size_t start = t->npeers > 0 ? t->poll_rotate % t->npeers : 0;
    int n = 0;

    for (size_t i = 0; i < 3; i++) {
        if (fixed[i] != NULL && n < max) {
            items[n++] = (zmq_pollitem_t){ .socket = fixed[i], .events = ZMQ_POLLIN };
        }
    }
    for (size_t i = 0; i < t->npeers; i++) {
        t->peers[i]->poll_slot = -1;
    }
    for (size_t k = 0; k < t->npeers; k++) {
        struct transport_peer *p = t->peers[(start + k) % t->npeers];
        if (p->dealer == NULL) {
            continue;
        }
        if (max - n < 2) {
            t->poll_rotate = start + k; /* those left out go first next time */
            break;
        }
        p->poll_slot = n;
        items[n++] = (zmq_pollitem_t){ .socket = p->dealer, .events = ZMQ_POLLIN };
        items[n++] = (zmq_pollitem_t){ .socket = p->monitor, .events = ZMQ_POLLIN };
    }
    return n;
}

/* Mark which DEALERs poll found readable and serve their monitors. */
static void
transport_scan_peers(struct transport *t, const zmq_pollitem_t *items, int n,
                     const struct transport_events *ev, void *ctx)
{
    for (size_t i = 0; i < t->npeers; i++) {
        struct transport_peer *p = t->peers[i];
        int slot = p->poll_slot;
        bool is_polled = slot >= 0 && slot + 1 < n && p->dealer != NULL &&
                         items[slot].socket == p->dealer && items[slot + 1].socket == p->monitor;

        p->is_readable = is_polled && (items[slot].revents & ZMQ_POLLIN);
        if (is_polled && (items[slot + 1].revents & ZMQ_POLLIN)) {
            transport_peer_events(t, i, ev, ctx);
        }
    }
}

int
transport_dispatch(struct transport *t, const zmq_pollitem_t *items, int n,
                   const struct transport_events *ev, void *ctx, size_t max_frames)
{
    bool is_router_readable = true; /* cheap to try; it is the busiest socket */
    size_t reads = 0;
    int delivered = 0;

    transport_zap_serve(t);
    transport_router_events(t, ev, ctx);
    transport_scan_peers(t, items, n, ev, ctx);
    while (reads < max_frames) {
        size_t nsrc = t->npeers + 1;
        size_t start = t->rr % nsrc;
        bool has_read = false;

        for (size_t k = 0; k < nsrc && reads < max_frames; k++) {
            size_t src = (start + k) % nsrc;
            int got;
            if (src == 0) {
                got = is_router_readable ? transport_read_router(t, ev, ctx) : -1;
                is_router_readable = got >= 0;
            } else if (src - 1 < t->npeers && t->peers[src - 1]->is_readable) {
                got = transport_read_dealer(t, src - 1, ev, ctx);
                if (got < 0 && src - 1 < t->npeers) {
                    t->peers[src - 1]->is_readable = false;
                }
            } else {
                continue;
            }
            if (got >= 0) {
                has_read = true;
                reads++;
                delivered += got;
            }
        }
        t->rr = start + 1;
        if (!has_read) {
            break;
        }
    }
    return delivered;
}
