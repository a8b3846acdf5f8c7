/*
 * engine_sync: the mesh (PROTOCOL-NOTES.md §2.8). Circle frames are pushed to
 * every reachable member when sent; members compare what they hold with
 * SYNC_HAVE (on connect, after new frames arrive, and every sync round) and
 * serve each other what is missing, so a member who was away gets every
 * frame once back, from whoever is online. 1:1 frames for a contact with no
 * live path are handed, wrapped as RELAY, to members of a circle we share
 * with them, who keep them sealed until the contact connects and says
 * RELAY_DONE. Nobody on the way can read or alter a word.
 */
#include "core/engine_impl.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/circle.h"
#include "net/sync.h"
#include "proto/circle.h"
#include "proto/frame.h"

#define SYNC_SERVE_MAX 256   /* frames served per HAVE */
#define SYNC_ANNOUNCE_MS 300 /* debounce of HAVE announcements after new frames */
#define RELAY_OFFER_MAX 3    /* members a frame is handed to */

static bool
sync_reachable(struct engine *e, const uint8_t member_id[16])
{
    return e->tp != NULL && memcmp(member_id, e->member_id, 16) != 0 &&
           engine_peer_by_member(e, member_id) != NULL &&
           transport_peer_reachable(e->tp, member_id);
}

static bool
sync_in_kept_epoch(const struct engine_circle *c, const uint8_t member_id[16])
{
    for (size_t i = 0; i < c->st->nepochs; i++) {
        if (circle_epoch_has(&c->st->epochs[i], member_id)) {
            return true;
        }
    }
    return false;
}

/* The first kept epoch we were a member of: nothing before it concerns us (a joiner holds
 * none of it and must not be served it). */
static uint32_t
sync_min_epoch(struct engine *e, const struct engine_circle *c)
{
    for (size_t i = 0; i < c->st->nepochs; i++) {
        if (circle_epoch_has(&c->st->epochs[i], e->member_id)) {
            return c->st->epochs[i].epoch_no;
        }
    }
    return c->st->epoch_no;
}

static void
sync_send_have(struct engine *e, const struct engine_circle *c, const uint8_t peer[16],
               uint8_t flags)
{
    struct sync_have *h = xmalloc(sizeof *h);
    uint8_t *wire = xmalloc(FRAME_HEADER_BYTES + 4 + SYNC_ENTRIES_MAX * SYNC_ENTRY_BYTES);
    uint8_t *body = wire + FRAME_HEADER_BYTES;
    size_t body_len = 0;
    size_t len = 0;
    struct frame f;

    sync_vec_have(c->held, sync_min_epoch(e, c), flags, h);
    if (sync_have_encode(h, body, 4 + SYNC_ENTRIES_MAX * SYNC_ENTRY_BYTES, &body_len) ==
        KITH_OK) {
        uint8_t *copy = xmalloc(body_len);
        memcpy(copy, body, body_len);
        memset(&f, 0, sizeof f);
        f.type = FRAME_SYNC_HAVE;
        randombytes_buf(f.msg_id, 16);
        memcpy(f.route, c->circle_id, 16);
        f.expires_at = (uint32_t)(engine_now_ms() / 1000 + 3600);
        f.body = copy;
        f.body_len = (uint32_t)body_len;
        if (frame_encode(&f, wire, FRAME_HEADER_BYTES + body_len, &len) == KITH_OK) {
            KITH_IGNORE(transport_send(e->tp, peer, wire, len));
        }
        free(copy);
    }
    free(wire);
    free(h);
}

void
engine_sync_hello(struct engine *e, const struct engine_peer *p, bool reply)
{
    for (size_t i = 0; i < e->ncircles; i++) {
        struct engine_circle *c = &e->circles[i];
        if (c->st != NULL && c->state == STORE_CIRCLE_ACTIVE && sync_in_kept_epoch(c, p->member_id)) {
            sync_send_have(e, c, p->member_id, reply ? SYNC_F_REPLY : 0);
        }
    }
}

void
engine_circle_push(struct engine *e, const struct engine_circle *c, const uint8_t *frame,
                   size_t len, const uint8_t *except)
{
    for (size_t i = 0; i < c->st->nmembers; i++) {
        const uint8_t *m = c->st->members[i].member_id;
        if ((except != NULL && memcmp(m, except, 16) == 0) || !sync_reachable(e, m)) {
            continue;
        }
        KITH_IGNORE(transport_send(e->tp, m, frame, len));
    }
}

/* Our messages of one epoch that every other member of it now holds become "delivered". */
static void
sync_mark_delivered(struct engine *e, struct engine_circle *c, uint32_t epoch_no)
{
    const struct circle_epoch *ep = circle_epoch_find(c->st, epoch_no);
    uint8_t (*others)[16];
    size_t n = 0;
    uint64_t min = 0;
    size_t changed = 0;

    if (ep == NULL) {
        return;
    }
    others = xcalloc(ep->nmembers + 1, 16);
    for (size_t i = 0; i < ep->nmembers; i++) {
        if (memcmp(ep->members[i], e->member_id, 16) != 0) {
            memcpy(others[n++], ep->members[i], 16);
        }
    }
    if (n > 0 && store_chave_min(e->st, c->id, epoch_no, e->member_id,
                                 (const uint8_t (*)[16])others, n, &min) == KITH_OK &&
        min > 0 && store_cmsg_delivered_upto(e->st, c->id, epoch_no, min, &changed) == KITH_OK &&
        changed > 0) {
        engine_emit(e, ENGINE_EV_STATE, c->st->name, NULL);
    }
    free(others);
}

void
engine_sync_recv_have(struct engine *e, const struct engine_peer *p, const struct frame *f)
{
    struct engine_circle *c = engine_circle_by_cid(e, f->route);
    struct sync_have *h;
    struct sync_gap gaps[64];
    size_t served = 0;
    size_t ngaps;
    bool they_have_more = false;

    if (c == NULL || c->st == NULL || c->state != STORE_CIRCLE_ACTIVE ||
        !sync_in_kept_epoch(c, p->member_id)) {
        e->rejected++;
        return;
    }
    h = xmalloc(sizeof *h);
    if (sync_have_decode(f->body, f->body_len, h) != KITH_OK) {
        e->rejected++;
        free(h);
        return;
    }
    /* What they hold of ours tells us what is delivered. */
    for (uint16_t i = 0; i < h->n; i++) {
        const struct sync_entry *en = &h->entries[i];
        if (memcmp(en->sender, e->member_id, 16) == 0 &&
            store_chave_set(e->st, c->id, p->member_id, en->epoch_no, e->member_id, en->hwm) ==
                KITH_OK) {
            sync_mark_delivered(e, c, en->epoch_no);
        }
    }
    ngaps = sync_vec_diff(c->held, h, sync_min_epoch(e, c), gaps, 64, &they_have_more);
    for (size_t g = 0; g < ngaps && served < SYNC_SERVE_MAX; g++) {
        const struct circle_epoch *ep = circle_epoch_find(c->st, gaps[g].epoch);
        struct store_cframe *fr = NULL;
        size_t n = 0;
        if (ep == NULL || !circle_epoch_has(ep, p->member_id)) {
            continue; /* never hand a member frames of an epoch they were not in */
        }
        if (store_cframe_range(e->st, c->id, gaps[g].epoch, gaps[g].sender, gaps[g].from - 1,
                               SYNC_SERVE_MAX - served, true, &fr, &n) != KITH_OK) {
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            KITH_IGNORE(transport_send(e->tp, p->member_id, fr[k].frame, fr[k].frame_len));
        }
        served += n;
        store_cframes_free(fr, n);
    }
    if (they_have_more || (h->flags & SYNC_F_REPLY)) {
        sync_send_have(e, c, p->member_id, 0);
    }
    free(h);
}

int64_t
engine_sync_next_ms(struct engine *e)
{
    int64_t now = engine_now_ms();
    int64_t next = -1;

    if (!e->started || e->ncircles == 0) {
        return -1;
    }
    if (e->sync_next_ms == 0) {
        e->sync_next_ms = now + e->sync_ivl_ms;
    }
    next = e->sync_next_ms - now;
    if (e->announce_at_ms > 0 && e->announce_at_ms - now < next) {
        next = e->announce_at_ms - now;
    }
    return next < 0 ? 0 : next;
}

void
engine_sync_run_due(struct engine *e)
{
    int64_t now = engine_now_ms();
    bool round;
    bool announce;

    if (!e->started) {
        return;
    }
    for (size_t i = 0; i < e->ncircles && e->announce_at_ms == 0; i++) {
        if (e->circles[i].has_news) {
            e->announce_at_ms = now + SYNC_ANNOUNCE_MS;
        }
    }
    round = e->sync_next_ms > 0 && now >= e->sync_next_ms;
    announce = e->announce_at_ms > 0 && now >= e->announce_at_ms;
    if (!round && !announce) {
        return;
    }
    for (size_t i = 0; i < e->ncircles; i++) {
        struct engine_circle *c = &e->circles[i];
        if (c->st == NULL || c->state != STORE_CIRCLE_ACTIVE || (!round && !c->has_news)) {
            continue;
        }
        for (size_t m = 0; m < c->st->nmembers; m++) {
            if (sync_reachable(e, c->st->members[m].member_id)) {
                sync_send_have(e, c, c->st->members[m].member_id, round ? SYNC_F_REPLY : 0);
            }
        }
        c->has_news = false;
    }
    if (announce) {
        e->announce_at_ms = 0;
    }
    if (round) {
        size_t gone = 0;
        e->sync_next_ms = now + e->sync_ivl_ms;
        /* Retention: frames and relayed copies past their expiry leave the store. */
        KITH_IGNORE(store_cframe_expire(e->st, now / 1000, &gone));
        KITH_IGNORE(store_relay_expire(e->st, now / 1000, &gone));
        for (size_t p = 0; p < e->npeers; p++) {
            if (transport_peer_reachable(e->tp, e->peers[p].member_id)) {
                engine_relay_forward(e, &e->peers[p]);
            }
        }
    }
}

/* ---- store-and-forward of 1:1 frames ---- */

/* Is member_id in the current epoch of an active circle that `with` is also in? */
static bool
relay_shared(struct engine *e, const uint8_t member_id[16], const uint8_t with[16])
{
    for (size_t i = 0; i < e->ncircles; i++) {
        const struct engine_circle *c = &e->circles[i];
        if (c->st != NULL && c->state == STORE_CIRCLE_ACTIVE &&
            circle_member_find(c->st, member_id) != NULL &&
            circle_member_find(c->st, with) != NULL) {
            return true;
        }
    }
    return false;
}

void
engine_relay_offer(struct engine *e, const struct engine_peer *p, const uint8_t *frame,
                   size_t len)
{
    struct frame inner;
    struct frame outer;
    uint8_t *body;
    uint8_t *wire;
    size_t wire_len = 0;
    size_t offered = 0;

    if (e->tp == NULL || frame_decode(frame, len, &inner) != KITH_OK ||
        (inner.type != FRAME_SESSION_INIT && inner.type != FRAME_SESSION_MSG) ||
        len + 16 > FRAME_BODY_MAX) {
        return;
    }
    body = xmalloc(16 + len);
    memcpy(body, e->member_id, 16);
    memcpy(body + 16, frame, len);
    memset(&outer, 0, sizeof outer);
    outer.type = FRAME_RELAY;
    memcpy(outer.msg_id, inner.msg_id, 16);
    memcpy(outer.route, p->member_id, 16);
    outer.expires_at = inner.expires_at;
    outer.body = body;
    outer.body_len = (uint32_t)(16 + len);
    wire = xmalloc(FRAME_HEADER_BYTES + 16 + len);
    if (frame_encode(&outer, wire, FRAME_HEADER_BYTES + 16 + len, &wire_len) == KITH_OK) {
        for (size_t i = 0; i < e->npeers && offered < RELAY_OFFER_MAX; i++) {
            const struct engine_peer *hop = &e->peers[i];
            if (hop == p || hop->blocked || !relay_shared(e, p->member_id, hop->member_id) ||
                !transport_peer_reachable(e->tp, hop->member_id)) {
                continue;
            }
            if (transport_send(e->tp, hop->member_id, wire, wire_len) == KITH_OK) {
                offered++;
            }
        }
    }
    free(wire);
    free(body);
}

int
engine_relay_recv(struct engine *e, const struct engine_peer *p, const struct frame *f)
{
    struct relay_body r;
    uint8_t wire[FRAME_HEADER_BYTES + FRAME_BODY_MAX];
    size_t len = 0;
    size_t held = 0;
    int rc = relay_body_decode(f, &r);

    if (rc != KITH_OK) {
        return rc;
    }
    /* Only for someone who shares a circle with both the hop and us. */
    if (!relay_shared(e, f->route, p->member_id) || memcmp(r.origin, p->member_id, 16) != 0 ||
        (int64_t)f->expires_at * 1000 <= engine_now_ms()) {
        return KITH_ESTATE;
    }
    rc = frame_encode(f, wire, sizeof wire, &len);
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_relay_count(e->st, f->route, &held);
    if (rc == KITH_OK && held >= STORE_RELAY_PER_ROUTE_MAX) {
        return KITH_EAGAIN;
    }
    rc = store_relay_add(e->st, f->route, f->msg_id, f->expires_at, wire, len);
    if (rc == KITH_EEXISTS) {
        rc = KITH_OK; /* offered again: we already carry it */
    }
    engine_crash_point("relay.after_store");
    if (rc == KITH_OK && sync_reachable(e, f->route)) {
        KITH_IGNORE(transport_send(e->tp, f->route, wire, len));
    }
    return rc;
}

void
engine_relay_done_recv(struct engine *e, const struct engine_peer *p, const struct frame *f)
{
    size_t n = 0;

    (void)p;
    if (relay_done_decode(f->body, f->body_len, &n) != KITH_OK) {
        e->rejected++;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        KITH_IGNORE(store_relay_remove(e->st, f->body + 16 * i));
    }
}

void
engine_relay_forward(struct engine *e, const struct engine_peer *p)
{
    struct store_relay *rs = NULL;
    size_t n = 0;

    if (e->tp == NULL || store_relay_for(e->st, p->member_id, 256, &rs, &n) != KITH_OK) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        KITH_IGNORE(transport_send(e->tp, p->member_id, rs[i].frame, rs[i].frame_len));
        engine_crash_point("relay.after_forward");
    }
    store_relays_free(rs, n);
}
