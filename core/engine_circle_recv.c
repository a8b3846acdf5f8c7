/*
 * engine_circle_recv: circle traffic that arrives, inside the batch
 * transaction. Circle frames are checked cheaply first (the hop and the
 * sender are members of the frame's epoch, the epoch id matches), kept
 * sealed for the members who are away, and opened with the sender's chain:
 * signature before decryption, each index once. Membership ops, welcomes,
 * join requests and sender keys come over the 1:1 sessions. A frame whose
 * sender key has not come yet waits, sealed, until it does.
 */
#include "core/engine_circle_impl.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kcrypt.h"
#include "core/session.h"
#include "net/sync.h"
#include "proto/invite.h"

/* ---- joining ---- */

int
engine_circle_accept(struct engine *e, const struct invite *inv, char name_out[ENGINE_NAME_BUF])
{
    struct store_circle sc;
    struct store_contact inviter;
    uint8_t member_id[16];
    uint8_t payload[36];
    struct envelope env;
    uint8_t msg_id[16];
    int rc;

    if (store_circle_by_cid(e->st, inv->circle_id, &sc) == KITH_OK) {
        if (sc.state == STORE_CIRCLE_ACTIVE) {
            return KITH_EEXISTS; /* already in it */
        }
    } else {
        memset(&sc, 0, sizeof sc);
        memcpy(sc.circle_id, inv->circle_id, 16);
        memcpy(sc.name, "joining-", 8);
        kcrypt_hex(sc.name + 8, inv->circle_id, 4);
        sc.state = STORE_CIRCLE_JOINING;
        sc.created_at = engine_now_ms() / 1000;
        rc = store_begin(e->st);
        if (rc != KITH_OK) {
            return rc;
        }
        rc = store_circle_add(e->st, &sc, NULL, 0);
        if (rc == KITH_OK) {
            rc = store_commit(e->st);
        } else {
            store_rollback(e->st);
        }
        if (rc != KITH_OK) {
            return rc;
        }
        KITH_IGNORE(engine_circles_reload(e));
    }
    identity_member_id(inv->from.ik, member_id);
    if (store_contact_by_member(e->st, member_id, &inviter) != KITH_OK) {
        return KITH_EAGAIN; /* a new contact: the handshake carries the join */
    }
    /* Already a contact: prove we hold the code over our session. */
    payload[0] = (uint8_t)(inv->invite_id >> 24);
    payload[1] = (uint8_t)(inv->invite_id >> 16);
    payload[2] = (uint8_t)(inv->invite_id >> 8);
    payload[3] = (uint8_t)inv->invite_id;
    memcpy(payload + 4, inv->secret, 32);
    memset(&env, 0, sizeof env);
    env.type = ENVELOPE_CIRCLE_JOIN;
    env.version = 1;
    env.payload = payload;
    env.payload_len = sizeof payload;
    rc = engine_seal_and_queue(e, &inviter, &env, NULL, msg_id);
    sodium_memzero(payload, sizeof payload);
    if (rc == KITH_OK) {
        snprintf(name_out, ENGINE_NAME_BUF, "%s", inviter.name);
        engine_flush(e, inviter.id);
    }
    return rc;
}

int
engine_circle_admit(struct engine *e, struct engine_txn *t, uint32_t invite_id,
                    int64_t contact_id)
{
    uint8_t circle_id[16];
    uint8_t zero[16] = { 0 };
    uint8_t secret[32];
    struct engine_circle *c;
    struct store_contact sc;
    struct circle_op op;
    int rc = store_invite_get_circle(e->st, invite_id, circle_id);

    if (rc == KITH_ENOTFOUND || (rc == KITH_OK && memcmp(circle_id, zero, 16) == 0)) {
        return KITH_OK; /* a 1:1 invite */
    }
    if (rc != KITH_OK) {
        return rc;
    }
    c = engine_circle_by_cid(e, circle_id);
    rc = store_contact_by_id(e->st, contact_id, &sc);
    if (rc != KITH_OK) {
        return rc;
    }
    if (c == NULL || c->st == NULL || c->state != STORE_CIRCLE_ACTIVE ||
        circle_member_find(c->st, sc.member_id) != NULL) {
        return KITH_OK; /* the circle is gone, or they are in already: the contact stays */
    }
    memset(&op, 0, sizeof op);
    op.type = CIRCLE_OP_ADD;
    op.subject.pub = sc.pub;
    memcpy(op.subject.member_id, sc.member_id, 16);
    snprintf(op.subject.name, sizeof op.subject.name, "%s", sc.name);
    if (sc.n_endpoints > 0) {
        snprintf(op.subject.endpoint, sizeof op.subject.endpoint, "%s", sc.endpoints[0]);
    }
    randombytes_buf(secret, sizeof secret);
    rc = engine_circle_issue(e, t, c, &op, secret, NULL);
    if (rc == KITH_OK) {
        rc = engine_circle_welcome(e, t, c, sc.member_id, secret);
    }
    sodium_memzero(secret, sizeof secret);
    if (rc == KITH_OK) {
        engine_emit(e, ENGINE_EV_CIRCLE, c->st->name, NULL);
    }
    return rc;
}

/* CIRCLE_JOIN: a contact who holds one of our circle invite codes. */
static int
circle_recv_join(struct engine *e, struct engine_txn *t, const struct engine_peer *p,
                 const struct envelope *env)
{
    struct store_invite inv;
    uint32_t invite_id;
    int rc;

    if (env->payload_len != 36) {
        return KITH_EMALFORMED;
    }
    invite_id = (uint32_t)env->payload[0] << 24 | (uint32_t)env->payload[1] << 16 |
                (uint32_t)env->payload[2] << 8 | env->payload[3];
    rc = store_invite_get(e->st, invite_id, &inv);
    if (rc != KITH_OK) {
        return KITH_OK; /* unknown code: acknowledged, nothing happens */
    }
    if (inv.state != STORE_INVITE_ISSUED ||
        inv.expires_at < (uint32_t)(engine_now_ms() / 1000) ||
        sodium_memcmp(inv.secret, env->payload + 4, 32) != 0) {
        sodium_memzero(&inv, sizeof inv);
        return KITH_OK;
    }
    sodium_memzero(&inv, sizeof inv);
    rc = store_invite_set_state(e->st, invite_id, STORE_INVITE_USED);
    if (rc == KITH_OK) {
        rc = engine_circle_admit(e, t, invite_id, p->contact_id);
    }
    return rc;
}

/* WELCOME: the log of a circle we asked to join, and the secret of our introductions. */
static int
circle_recv_welcome(struct engine *e, struct engine_txn *t, const struct envelope *env)
{
    struct circle_state *st;
    struct engine_circle *c;
    const uint8_t *log = env->payload + 32;
    size_t log_len = env->payload_len - 32;
    int rc;

    if (env->payload_len <= 32 || circle_log_check(log, log_len) != KITH_OK) {
        return KITH_EMALFORMED;
    }
    st = xmalloc(sizeof *st);
    rc = circle_resolve(log, log_len, st);
    if (rc != KITH_OK || circle_member_find(st, e->member_id) == NULL) {
        free(st);
        return rc != KITH_OK ? rc : KITH_OK; /* not (or no longer) for us */
    }
    c = engine_circle_by_cid(e, st->circle_id);
    if (c == NULL || c->state != STORE_CIRCLE_JOINING) {
        free(st);
        return KITH_OK; /* we did not ask, or are in already: nothing happens */
    }
    /* Its name among ours: theirs, made unique with a number. */
    {
        char name[ENGINE_NAME_BUF];
        snprintf(name, sizeof name, "%s", st->name);
        for (int i = 2; i < 100; i++) {
            struct store_circle other;
            if (store_circle_by_name(e->st, name, &other) != KITH_OK) {
                break;
            }
            snprintf(name, sizeof name, "%.58s-%d", st->name, i);
        }
        rc = store_circle_rename(e->st, c->id, name);
    }
    free(st);
    if (rc == KITH_OK) {
        rc = engine_circle_apply(e, t, c, log, log_len, env->payload);
    }
    if (rc == KITH_OK) {
        engine_emit(e, ENGINE_EV_CIRCLE, c->st->name, NULL);
    }
    return rc;
}

/* CIRCLE_OP: a membership change, signed by its issuer, carried over a 1:1 session. */
static int
circle_recv_op(struct engine *e, struct engine_txn *t, const struct envelope *env)
{
    const uint8_t *op = NULL;
    const uint8_t *intro = NULL;
    size_t op_len = 0;
    struct circle_op dec;
    struct engine_circle *c;
    uint8_t *log = NULL;
    size_t log_len = 0;
    bool added = false;
    static const uint8_t zero[32];
    int rc = circle_op_payload_decode(env->payload, env->payload_len, &op, &op_len, &intro);

    if (rc != KITH_OK) {
        return rc;
    }
    rc = circle_op_decode(op, op_len, &dec);
    if (rc != KITH_OK) {
        return rc;
    }
    c = engine_circle_by_cid(e, dec.circle_id);
    if (c == NULL || c->st == NULL || c->state == STORE_CIRCLE_JOINING) {
        return KITH_OK; /* not a circle we are in (or not yet: the welcome brings the log) */
    }
    rc = store_circle_ops_get(e->st, c->id, &log, &log_len);
    if (rc == KITH_OK) {
        rc = circle_log_add(&log, &log_len, op, op_len, &added);
    }
    if (rc == KITH_OK && added) {
        rc = engine_circle_apply(e, t, c, log, log_len,
                                 sodium_memcmp(intro, zero, 32) != 0 ? intro : NULL);
        if (rc == KITH_OK) {
            engine_emit(e, ENGINE_EV_CIRCLE, c->st->name, NULL);
        }
    }
    store_blob_free(log, log_len);
    return rc;
}

/* SENDER_KEY: a member's chain for one epoch and generation. */
static int
circle_recv_key(struct engine *e, struct engine_txn *t, const struct engine_peer *p,
                const struct envelope *env)
{
    struct circle_skd skd;
    struct circle_chain *chain = NULL;
    struct engine_circle *c;
    int rc = circle_skd_decode(env->payload, env->payload_len, &skd);

    if (rc != KITH_OK) {
        return rc;
    }
    c = engine_circle_by_cid(e, skd.circle_id);
    if (c == NULL || (c->state != STORE_CIRCLE_ACTIVE && c->state != STORE_CIRCLE_JOINING)) {
        sodium_memzero(&skd, sizeof skd);
        return KITH_OK;
    }
    if (c->st != NULL) {
        const struct circle_epoch *ep = circle_epoch_find(c->st, skd.epoch_no);
        if (ep != NULL && (!circle_epoch_has(ep, p->member_id) ||
                           memcmp(ep->epoch_id, skd.epoch_id, 16) != 0)) {
            sodium_memzero(&skd, sizeof skd);
            return KITH_OK; /* not theirs to give: ignored */
        }
    }
    rc = circle_chain_new(&skd, p->member_id, (uint32_t)(engine_now_ms() / 1000), &chain);
    if (rc == KITH_OK) {
        engine_txn_chain_put(t, c->id, skd.epoch_no, p->member_id, skd.gen, chain, true);
        if (c->st != NULL) {
            rc = engine_circle_open_waiting(e, t, c, skd.epoch_no, p->member_id);
        }
    }
    sodium_memzero(&skd, sizeof skd);
    return rc;
}

int
engine_circle_recv_env(struct engine *e, struct engine_txn *t, const struct engine_peer *p,
                       const struct envelope *env)
{
    switch (env->type) {
    case ENVELOPE_CIRCLE_OP:
        return circle_recv_op(e, t, env);
    case ENVELOPE_CIRCLE_WELCOME:
        return circle_recv_welcome(e, t, env);
    case ENVELOPE_CIRCLE_JOIN:
        return circle_recv_join(e, t, p, env);
    case ENVELOPE_SENDER_KEY:
        return circle_recv_key(e, t, p, env);
    default:
        return KITH_EMALFORMED;
    }
}

int
engine_circle_intro_respond(struct engine *e, struct engine_txn *t, const struct engine_peer *p,
                            const struct frame *f)
{
    struct store_contact c;
    struct identity_public peer;
    struct session *s = NULL;
    uint8_t ek[32];
    uint8_t secret[32];
    uint8_t psk[32];
    uint32_t spk_id = 0;
    int rc = session_init_header_peek(f->body, f->body_len, ek, &spk_id);

    if (rc != KITH_OK) {
        return rc;
    }
    if (spk_id != ENGINE_INTRO_SPK_ID) {
        return KITH_ESTATE;
    }
    rc = store_contact_by_id(e->st, p->contact_id, &c);
    if (rc == KITH_OK) {
        rc = engine_circle_intro_secret_get(e, p->member_id, secret);
    }
    if (rc != KITH_OK) {
        return rc == KITH_ENOTFOUND ? KITH_ESTATE : rc;
    }
    circle_intro_psk(secret, identity_public(e->id)->ik, c.pub.ik, psk);
    sodium_memzero(secret, sizeof secret);
    rc = session_respond(e->id, identity_ikdh_sk(e->id), identity_public(e->id)->ikdh, psk,
                         f->body, f->body_len, &peer, ek, &s);
    sodium_memzero(psk, sizeof psk);
    if (rc == KITH_OK && sodium_memcmp(peer.ik, c.pub.ik, 32) != 0) {
        rc = KITH_ECRYPTO; /* the bundle must be the member the circle introduced */
    }
    if (rc == KITH_OK) {
        rc = store_seen_ek(e->st, ek, engine_now_ms() / 1000);
    }
    if (rc != KITH_OK) {
        session_destroy(s);
        return rc;
    }
    engine_txn_adopt(t, p->contact_id, s);
    return KITH_OK;
}

/* ---- circle frames ---- */

/* A frame opened: its content becomes a history row. */
static int
circle_deliver(struct engine *e, struct engine_circle *c, const struct frame *f,
               const struct circle_body *b, const uint8_t *pt, size_t pt_len)
{
    struct envelope env;
    struct store_cmsg m;
    uint64_t lamport = 0;
    bool notify = true;
    int rc = envelope_decode(pt, pt_len, &env);

    if (rc != KITH_OK) {
        return rc;
    }
    if (env.type != ENVELOPE_TEXT && env.type != ENVELOPE_CHECKIN && env.type != ENVELOPE_SUPPORT &&
        env.type != ENVELOPE_SUPPORT_REPLY) {
        return KITH_EMALFORMED;
    }
    if (env.sender_seq != b->seq) {
        return KITH_ECRYPTO; /* the signed seq and the sealed one must agree */
    }
    /* Our boundaries with the sender (DOMAIN.md §3): a block hides their circle messages from
     * us (the frame is still kept, sealed, for the others); a mute keeps them silent. */
    {
        struct store_contact sc;
        if (store_contact_by_member(e->st, b->sender, &sc) == KITH_OK) {
            char rules[ENGINE_BOUNDARY_NAMES];
            if (engine_boundary_blocked(e, sc.id)) {
                return store_seen_add(e->st, f->msg_id, engine_now_ms() / 1000);
            }
            engine_boundary_names(e, sc.id, rules, sizeof rules);
            notify = strstr(rules, "mute") == NULL;
        }
    }
    rc = store_lamport_tick(e->st, env.lamport, &lamport);
    if (rc != KITH_OK) {
        return rc;
    }
    memset(&m, 0, sizeof m);
    memcpy(m.msg_id, f->msg_id, 16);
    m.circle = c->id;
    m.outgoing = false;
    memcpy(m.sender, b->sender, 16);
    m.epoch = b->epoch_no;
    m.seq = b->seq;
    m.lamport = env.lamport;
    m.ts_ms = (int64_t)env.sent_at_ms;
    m.recv_ms = engine_now_ms();
    m.kind = env.type;
    m.state = STORE_MSG_RECEIVED;
    m.payload = (uint8_t *)env.payload;
    m.payload_len = env.payload_len;
    rc = store_cmsg_add(e->st, &m);
    if (rc == KITH_EEXISTS) {
        return KITH_OK;
    }
    if (rc == KITH_OK) {
        rc = store_seen_add(e->st, f->msg_id, engine_now_ms() / 1000);
    }
    if (rc == KITH_OK) {
        engine_emit_notify(e, ENGINE_EV_CIRCLE_MESSAGE, c->st->name, f->msg_id, notify);
    }
    return rc;
}

/* Open one frame with the transaction's chain. KITH_ENOTFOUND: no chain yet. */
static int
circle_open(struct engine *e, struct engine_txn *t, struct engine_circle *c,
            const uint8_t *frame, size_t frame_len)
{
    struct frame f;
    struct circle_body b;
    struct circle_chain *chain;
    uint8_t ad[FRAME_AD_BYTES];
    uint8_t *pt;
    size_t pt_len = 0;
    int rc = frame_decode(frame, frame_len, &f);

    if (rc == KITH_OK) {
        rc = circle_body_decode(f.body, f.body_len, &b);
    }
    if (rc != KITH_OK) {
        return rc;
    }
    chain = engine_txn_chain(e, t, c->id, b.epoch_no, b.sender, b.gen);
    if (chain == NULL) {
        return KITH_ENOTFOUND;
    }
    frame_ad(&f, ad);
    pt = xmalloc(b.ct_len + 1);
    rc = circle_chain_open(chain, ad, f.body, f.body_len, (uint32_t)(engine_now_ms() / 1000), pt,
                           b.ct_len + 1, &pt_len);
    if (rc == KITH_OK) {
        engine_txn_chain_dirty(t, c->id, b.epoch_no, b.sender, b.gen);
        rc = circle_deliver(e, c, &f, &b, pt, pt_len);
    }
    sodium_memzero(pt, b.ct_len + 1);
    free(pt);
    return rc;
}

int
engine_circle_open_waiting(struct engine *e, struct engine_txn *t, struct engine_circle *c,
                           uint32_t epoch, const uint8_t sender[16])
{
    struct store_cframe *fr = NULL;
    size_t n = 0;
    int rc = store_cframe_unverified(e->st, c->id, epoch, sender, &fr, &n);

    for (size_t i = 0; i < n && rc == KITH_OK; i++) {
        int orc = circle_open(e, t, c, fr[i].frame, fr[i].frame_len);
        if (orc == KITH_OK || orc == KITH_EREPLAY) {
            rc = store_cframe_set_verified(e->st, fr[i].msg_id);
            c->has_news = true;
        } else if (orc == KITH_ESTORE || orc == KITH_ECORRUPT) {
            rc = orc; /* the store failed: nothing of this batch commits */
        } else if (orc != KITH_ENOTFOUND) {
            /* A forgery that held the sender's sequence number while we had no key: forget
             * it, so what we hold is recounted and the real frame is fetched again. */
            rc = store_cframe_forget(e->st, fr[i].msg_id);
            t->reload_circles = true;
            e->rejected++;
        }
    }
    store_cframes_free(fr, n);
    return rc;
}

int
engine_circle_recv_frame(struct engine *e, struct engine_txn *t, const struct engine_peer *p,
                         const struct frame *f, const uint8_t *raw, size_t raw_len)
{
    struct engine_circle *c = engine_circle_by_cid(e, f->route);
    const struct circle_epoch *ep;
    struct circle_body b;
    struct store_cframe row;
    uint32_t now = (uint32_t)(engine_now_ms() / 1000);
    int rc;

    if (c == NULL || c->st == NULL || c->state != STORE_CIRCLE_ACTIVE) {
        return KITH_ENOTFOUND;
    }
    rc = circle_body_decode(f->body, f->body_len, &b);
    if (rc != KITH_OK) {
        return rc;
    }
    if (memcmp(b.sender, e->member_id, 16) == 0) {
        return KITH_OK; /* our own, coming back through the mesh */
    }
    /* Cheap checks first: the hop and the sender belong to the frame's epoch, in time. */
    ep = circle_epoch_find(c->st, b.epoch_no);
    if (ep == NULL || memcmp(ep->epoch_id, b.epoch_id, 16) != 0 ||
        !circle_epoch_has(ep, p->member_id) ||
        !circle_frame_acceptable(c->st, b.epoch_no, b.sender, now)) {
        return KITH_ESTATE;
    }
    if ((int64_t)f->expires_at <= (int64_t)now) {
        return KITH_EEXPIRED;
    }
    if (sync_vec_holds(c->held, b.epoch_no, b.sender, b.seq) || store_seen_has(e->st, f->msg_id)) {
        return KITH_OK; /* a copy we hold */
    }
    memset(&row, 0, sizeof row);
    row.circle = c->id;
    row.epoch = b.epoch_no;
    memcpy(row.sender, b.sender, 16);
    row.seq = b.seq;
    memcpy(row.msg_id, f->msg_id, 16);
    row.expires_at = f->expires_at;
    row.frame = (uint8_t *)raw;
    row.frame_len = raw_len;
    rc = circle_open(e, t, c, raw, raw_len);
    if (rc == KITH_ENOTFOUND) {
        row.verified = false; /* kept sealed until the sender's key comes */
    } else if (rc == KITH_OK) {
        row.verified = true;
    } else {
        return rc; /* forged, tampered or replayed: not kept */
    }
    rc = store_cframe_add(e->st, &row);
    if (rc == KITH_EEXISTS) {
        return KITH_OK;
    }
    if (rc == KITH_OK) {
        sync_vec_add(c->held, b.epoch_no, b.sender, b.seq);
        c->has_news = c->has_news || row.verified;
    }
    return rc;
}
