/*
 * engine_recv: what happens to frames that arrive. A batch of up to
 * KITH_GROUP_COMMIT frames is handled in ONE transaction: dedupe by msg_id,
 * decrypt on a scratch copy of the session, write the inbox row, the seen
 * row and the new session state; the acknowledgements are sealed inside the
 * same transaction and sent only after COMMIT. Malformed, tampered and
 * replayed frames are counted and set aside; the connection stays up.
 */
#include "core/engine_impl.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/boundary.h"
#include "core/kcrypt.h"
#include "core/session.h"
#include "proto/circle.h"
#include "proto/frame.h"

#define RECV_INVITEE_MAX_BYTES 8192

/* One acknowledgement owed. */
struct recv_entry {
    uint8_t id[16];
    uint8_t tell; /* enum receipt_tell: what our boundaries did */
    /* The message's acknowledgement key, when this batch opened it: a FRAME_ACK entry.
     * Without one (a repeat, a handshake frame) the answer is a sealed RECEIPT. */
    bool keyed;
    int64_t tell_at;
    uint8_t key[32];
};

/* A frame to send after COMMIT. */
struct recv_out {
    uint8_t *buf;
    size_t len;
};

/* Acknowledgements owed to one contact, sent after COMMIT: as many FRAME_ACKs and sealed
 * RECEIPTs as their entries need (ACK_ENTRIES_MAX and KITH_ACK_BATCH each). The arrays
 * grow as needed and are kept, wiped, for the next batch. */
struct recv_ack {
    int64_t contact_id;
    struct transport_origin origin;
    bool via_relay; /* the frame came through a relay: answer on any path, relayed if need be */
    struct recv_entry *ents;
    size_t nids;
    size_t cap;
    struct recv_out *outs;
    size_t nouts;
    size_t outs_cap;
};

/* Relayed frames committed, per hop: the hop is told (RELAY_DONE) after COMMIT. */
struct recv_done {
    uint8_t hop[16];
    uint8_t ids[KITH_GROUP_COMMIT][16];
    size_t nids;
};

struct recv_batch {
    struct engine_txn txn; /* sessions and chains, loaded once and saved before COMMIT */
    struct recv_ack acks[KITH_GROUP_COMMIT];
    size_t nacks;
    struct recv_done dones[KITH_GROUP_COMMIT];
    size_t ndones;
    bool relayed; /* the frame being handled came inside a RELAY */
    uint8_t hop[16];
    /* The highest Lamport time of the texts taken so far: the clock moves past it once, before
     * COMMIT, or before any other envelope (which may seal an answer) is applied. */
    uint64_t lamport_seen;
    /* The acknowledgement key of the session message being handled (cur_id). */
    uint8_t cur_id[16];
    uint8_t cur_key[32];
    bool cur_keyed;
};

static struct session *
recv_session_get(struct engine *e, struct recv_batch *b, int64_t contact_id)
{
    return engine_txn_session(e, &b->txn, contact_id);
}

static void
recv_session_adopt(struct recv_batch *b, int64_t contact_id, struct session *s)
{
    engine_txn_adopt(&b->txn, contact_id, s);
}

/* Put a contact's cached session back to a serialised earlier state. */
static int
recv_session_restore(struct recv_batch *b, int64_t contact_id, const uint8_t *snap,
                     size_t snap_len)
{
    return engine_txn_restore(&b->txn, contact_id, snap, snap_len);
}

static void
recv_session_dirty(struct recv_batch *b, int64_t contact_id)
{
    engine_txn_dirty(&b->txn, contact_id);
}

static void
recv_owe_receipt(struct recv_batch *b, int64_t contact_id, const struct transport_origin *o,
                 const uint8_t msg_id[16], int tell, int64_t tell_at)
{
    struct recv_ack *a = NULL;

    for (size_t i = 0; i < b->nacks; i++) {
        if (b->acks[i].contact_id == contact_id) {
            a = &b->acks[i];
        }
    }
    if (a == NULL) {
        a = &b->acks[b->nacks++]; /* its arrays are kept from earlier batches */
        a->contact_id = contact_id;
        a->nids = 0;
        a->nouts = 0;
    }
    a->origin = *o; /* answer on the most recent path */
    a->via_relay = b->relayed;
    if (a->nids == a->cap) {
        struct recv_entry *grown;
        size_t cap = a->cap == 0 ? KITH_GROUP_COMMIT : a->cap * 2;
        /* by hand, not realloc: the old block holds keys and is wiped before it goes */
        grown = xcalloc(cap, sizeof *grown);
        if (a->nids > 0) {
            memcpy(grown, a->ents, a->nids * sizeof *grown);
            sodium_memzero(a->ents, a->nids * sizeof *a->ents);
        }
        free(a->ents);
        a->ents = grown;
        a->cap = cap;
    }
    {
        struct recv_entry *en = &a->ents[a->nids++];
        en->tell = (uint8_t)(tell >= RECEIPT_DELIVERED && tell <= RECEIPT_TELL_LAST
                                 ? tell
                                 : RECEIPT_DELIVERED);
        en->tell_at = tell_at;
        /* the frame being opened: its own id, or one of its texts (same first 15 bytes) */
        en->keyed = b->cur_keyed && memcmp(b->cur_id, msg_id, 15) == 0;
        if (en->keyed) {
            memcpy(en->key, b->cur_key, 32);
        }
        memcpy(en->id, msg_id, 16);
    }
}

static void
recv_out_add(struct recv_ack *a, uint8_t *buf, size_t len)
{
    if (a->nouts == a->outs_cap) {
        a->outs_cap = a->outs_cap == 0 ? 4 : a->outs_cap * 2;
        a->outs = xrealloc(a->outs, a->outs_cap * sizeof *a->outs);
    }
    a->outs[a->nouts].buf = buf;
    a->outs[a->nouts].len = len;
    a->nouts++;
}

static void
recv_owe_ack(struct recv_batch *b, int64_t contact_id, const struct transport_origin *o,
             const uint8_t msg_id[16])
{
    recv_owe_receipt(b, contact_id, o, msg_id, RECEIPT_DELIVERED, 0);
}

/* The sender missed our receipt: say again what we told the first time. */
static void
recv_owe_again(struct engine *e, struct recv_batch *b, int64_t contact_id,
               const struct transport_origin *o, const uint8_t msg_id[16])
{
    struct store_msg m;

    if (store_msg_get(e->st, msg_id, &m) == KITH_OK) {
        struct store_text_tell tt[KITH_TEXTS_MAX];
        size_t n = 0;
        recv_owe_receipt(b, contact_id, o, msg_id, m.outgoing ? RECEIPT_DELIVERED : m.tell,
                         m.tell_at);
        /* A TEXTS frame: what its other texts were told, where that differs from what the
         * first one's receipt says for the rest. */
        if (!m.outgoing && msg_id[15] == 0 &&
            store_msg_texts_tells(e->st, msg_id, contact_id, m.tell, m.tell_at, tt, &n) ==
                KITH_OK) {
            for (size_t i = 0; i < n; i++) {
                recv_owe_receipt(b, contact_id, o, tt[i].msg_id, tt[i].tell, tt[i].tell_at);
            }
        }
        store_msg_free(&m);
        return;
    }
    recv_owe_ack(b, contact_id, o, msg_id);
}

/* Decrypt a session body (after any init header) into a fresh envelope. */
static int
recv_open(struct session *s, const struct frame *f, size_t skip, uint8_t *plain, size_t cap,
          struct envelope *env)
{
    uint8_t ad[FRAME_AD_BYTES];
    size_t plain_len = 0;
    int rc;

    if (f->body_len < skip + SESSION_MSG_OVERHEAD) {
        return KITH_EMALFORMED;
    }
    frame_ad(f, ad);
    rc = session_decrypt(s, ad, sizeof ad, f->body + skip, f->body_len - skip,
                         (uint64_t)(engine_now_ms() / 1000), plain, cap, &plain_len);
    if (rc != KITH_OK) {
        return rc;
    }
    return envelope_decode(plain, plain_len, env);
}

/* Our peer's name for a new contact: theirs, made unique with a number. */
static void
recv_unique_name(struct engine *e, const char *wanted, char out[ENGINE_NAME_BUF])
{
    struct store_contact tmp;

    snprintf(out, ENGINE_NAME_BUF, "%s", wanted);
    for (int i = 2; i < 100 && store_contact_by_name(e->st, out, &tmp) == KITH_OK; i++) {
        snprintf(out, ENGINE_NAME_BUF, "%.58s %d", wanted, i);
    }
}

static int
recv_invite_accept(struct engine *e, struct recv_batch *b, const struct transport_origin *o,
                   const struct frame *f)
{
    struct store_invite inv;
    struct store_contact c;
    struct identity_public peer;
    struct session *s = NULL;
    struct envelope env;
    struct contact_card card;
    uint8_t ek[32];
    uint8_t *plain = NULL;
    uint32_t spk_id = 0;
    int rc;

    memset(&inv, 0, sizeof inv);
    rc = session_init_header_peek(f->body, f->body_len, ek, &spk_id);
    if (rc != KITH_OK) {
        goto out;
    }
    rc = store_invite_get(e->st, spk_id, &inv);
    if (rc != KITH_OK) {
        goto out;
    }
    if (inv.state != STORE_INVITE_ISSUED || inv.expires_at < (uint32_t)(engine_now_ms() / 1000)) {
        rc = KITH_EEXPIRED;
        goto out;
    }
    rc = session_respond(e->id, inv.inv_sk, inv.inv_pk, inv.secret, f->body, f->body_len, &peer,
                         ek, &s);
    if (rc != KITH_OK) {
        goto out;
    }
    if (o->kind == TRANSPORT_INVITEE && sodium_memcmp(o->tk, peer.tk, 32) != 0) {
        rc = KITH_ECRYPTO; /* the connection's key must be the one the bundle signs */
        goto out;
    }
    plain = xmalloc(f->body_len);
    rc = recv_open(s, f, SESSION_INIT_HEADER_BYTES, plain, f->body_len, &env);
    if (rc != KITH_OK) {
        goto out;
    }
    if (env.type != ENVELOPE_CONTACT_CARD || card_decode(env.payload, env.payload_len, &card)) {
        rc = KITH_EMALFORMED;
        goto out;
    }
    rc = store_seen_ek(e->st, ek, engine_now_ms() / 1000);
    if (rc != KITH_OK) {
        goto out;
    }
    memset(&c, 0, sizeof c);
    recv_unique_name(e, card.name, c.name);
    c.pub = peer;
    identity_member_id(peer.ik, c.member_id);
    c.n_endpoints = card.n_endpoints;
    for (uint8_t i = 0; i < card.n_endpoints && i < STORE_ENDPOINTS_MAX; i++) {
        snprintf(c.endpoints[i], sizeof c.endpoints[i], "%s", card.endpoints[i]);
    }
    c.state = STORE_CONTACT_ACTIVE;
    c.created_at = engine_now_ms() / 1000;
    rc = store_contact_add(e->st, &c);
    if (rc == KITH_OK) {
        rc = store_invite_set_state(e->st, inv.invite_id, STORE_INVITE_USED);
    }
    if (rc == KITH_OK) {
        rc = store_seen_add(e->st, f->msg_id, engine_now_ms() / 1000);
    }
    if (rc != KITH_OK) {
        goto out;
    }
    recv_session_adopt(b, c.id, s);
    s = NULL;
    /* A circle invite: the new contact also joins the circle (ADD op, welcome, keys). */
    rc = engine_circle_admit(e, &b->txn, inv.invite_id, c.id);
    if (rc != KITH_OK) {
        goto out;
    }
    recv_owe_ack(b, c.id, o, f->msg_id);
    b->txn.reload_peers = true;
    if (e->open_invites > 0) {
        e->open_invites--;
    }
    engine_emit(e, ENGINE_EV_CONTACT, c.name, NULL);
out:
    if (plain != NULL) {
        sodium_memzero(plain, f->body_len);
        free(plain);
    }
    session_destroy(s);
    sodium_memzero(&inv, sizeof inv);
    return rc;
}

static void
recv_acked(struct engine *e, struct engine_peer *p, const struct envelope *env)
{
    for (uint32_t off = 0; off + 16 <= env->payload_len; off += 16) {
        const uint8_t *id = env->payload + off;
        if (store_outbox_remove(e->st, id) != KITH_OK) {
            continue; /* a duplicate ACK */
        }
        engine_notes_forget(e, id);
        if (store_msg_set_state(e->st, id, STORE_MSG_DELIVERED) == KITH_OK) {
            KITH_IGNORE(
                store_msg_texts_follow(e->st, id, STORE_MSG_DELIVERED, RECEIPT_DELIVERED, 0));
            engine_emit(e, ENGINE_EV_STATE, p->name, id);
        }
    }
}

/* Move our Lamport clock past seen and every text taken so far in this batch: one write. */
static int
recv_clock_settle(struct engine *e, struct recv_batch *b, uint64_t seen)
{
    uint64_t tick = 0;

    if (b->lamport_seen > seen) {
        seen = b->lamport_seen;
    }
    b->lamport_seen = 0;
    return seen == 0 ? KITH_OK : store_lamport_tick(e->st, seen, &tick);
}

/* Text 0's receipt of the TEXTS frame being stored (recv_texts). */
struct recv_first {
    int tell;
    int64_t tell_at;
};

/* One text of a session frame (a TEXT, or one of a TEXTS): judged by our boundaries, stored
 * with the sender's clock and sequence, and owed its receipt. KITH_EAGAIN: a block dropped it
 * (nothing stored, nothing owed). */
static int
recv_text(struct engine *e, struct recv_batch *b, struct engine_peer *p,
          const struct transport_origin *o, const uint8_t msg_id[16], const struct envelope *env,
          uint16_t flags, const uint8_t *text, size_t text_len, struct recv_first *first)
{
    struct store_msg m;
    struct boundary_verdict verdict;
    int rc;

    memset(&m, 0, sizeof m);
    rc = engine_boundary_judge(e, p->contact_id, flags, (const char *)text, text_len, &verdict);
    if (rc != KITH_OK) {
        return rc;
    }
    if (verdict.disposition == BOUNDARY_DROP) {
        return KITH_EAGAIN;
    }
    if (env->lamport > b->lamport_seen) {
        b->lamport_seen = env->lamport; /* our clock moves past it (recv_clock_settle) */
    }
    memcpy(m.msg_id, msg_id, 16);
    m.contact_id = p->contact_id;
    m.outgoing = false;
    m.lamport = env->lamport; /* display order is the sender's causal order */
    m.sender_seq = env->sender_seq;
    m.ts_ms = (int64_t)env->sent_at_ms;
    m.state = STORE_MSG_RECEIVED;
    m.flags = flags;
    engine_boundary_apply(&verdict, engine_now_ms() / 1000, &m);
    m.text = (char *)text; /* sealed by length: no NUL needed */
    m.text_len = text_len;
    rc = store_msg_add(e->st, &m);
    if (rc == KITH_OK) {
        engine_boundary_note_visible(e, p->contact_id, m.visible_at); /* the rate counts it */
        if (first == NULL) { /* recv_texts stamps a frame's texts at once */
            rc = engine_retention_stamp(e, p->contact_id, msg_id); /* disappearing messages */
        }
    }
    if (rc != KITH_OK) {
        return rc;
    }
    /* A lone text, and text 0 of a TEXTS (the frame's own id), is always owed: text 0's
     * receipt says the frame is committed and what our boundaries did with every other text
     * of it, unless a receipt of its own (sealed under the same key) says otherwise. */
    if (first == NULL || msg_id[15] == 0 || m.tell != first->tell ||
        m.tell_at != first->tell_at) {
        recv_owe_receipt(b, p->contact_id, o, msg_id, m.tell, m.tell_at);
    }
    if (first != NULL && msg_id[15] == 0) {
        first->tell = m.tell;
        first->tell_at = m.tell_at;
    }
    /* A held one is silent now (views show "held until"); its release notifies. */
    engine_emit_notify(e, ENGINE_EV_MESSAGE, p->name, msg_id,
                       m.state != STORE_MSG_HELD && verdict.notify);
    return KITH_OK;
}

/* The texts of one TEXTS frame (proto/PROTOCOL.md §4.1), each stored as if it had come alone,
 * with the id, clock and sequence its place gives it; one seen row for the frame. */
static int
recv_texts(struct engine *e, struct recv_batch *b, struct engine_peer *p,
           const struct transport_origin *o, const struct frame *f, const struct envelope *env)
{
    struct envelope_text texts[ENVELOPE_TEXTS_MAX];
    struct envelope item = *env;
    struct recv_first first = { RECEIPT_DELIVERED, 0 };
    size_t n = 0;
    size_t stored = 0;
    int rc;

    if (f->msg_id[15] != 0 ||
        envelope_texts_decode(env->payload, env->payload_len, texts, &n) != KITH_OK) {
        return KITH_EMALFORMED;
    }
    if (env->lamport >= STORE_LAMPORT_MAX - ENVELOPE_TEXTS_MAX ||
        env->sender_seq >= (uint64_t)INT64_MAX - ENVELOPE_TEXTS_MAX) {
        return KITH_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t id[16];
        envelope_texts_id(f->msg_id, i, id);
        item.lamport = env->lamport + i;
        item.sender_seq = env->sender_seq + i;
        rc = recv_text(e, b, p, o, id, &item, texts[i].flags, texts[i].text, texts[i].len,
                       &first);
        if (rc == KITH_EAGAIN) {
            continue; /* a block drops every text alike */
        }
        if (rc != KITH_OK) {
            return rc;
        }
        stored++;
    }
    if (stored == 0) {
        return KITH_OK; /* a block dropped them all: nothing stored, nothing owed */
    }
    rc = engine_retention_stamp_texts(e, p->contact_id, f->msg_id, n);
    return rc == KITH_OK ? store_seen_add(e->st, f->msg_id, engine_now_ms() / 1000) : rc;
}

static int
recv_session_frame(struct engine *e, struct recv_batch *b, struct engine_peer *p,
                   const struct transport_origin *o, const struct frame *f)
{
    struct session *s = recv_session_get(e, b, p->contact_id);
    struct envelope env;
    size_t skip = f->type == FRAME_SESSION_MSG ? 0 : SESSION_INIT_HEADER_BYTES;
    bool was_waiting;
    int64_t held_until = 0;
    uint8_t *plain;
    uint8_t *snap = NULL;
    size_t snap_len = 0;
    int rc;

    bool introduced = false;

    if (s == NULL && f->type == FRAME_SESSION_INIT) {
        /* No session yet: an introduction by a circle admin (our IKdh plays the prekey). */
        rc = engine_circle_intro_respond(e, &b->txn, p, f);
        if (rc != KITH_OK) {
            return rc;
        }
        s = recv_session_get(e, b, p->contact_id);
        introduced = true;
    }
    if (s == NULL) {
        return KITH_ESTATE;
    }
    was_waiting = session_get_state(s) == SESSION_AWAIT_REPLY;
    /* A copy of the state before this frame, to put back if its content must wait
     * (a repair step that arrived ahead of an earlier one): then the sender's retry
     * of these same bytes still decrypts. */
    session_serialize(s, &snap, &snap_len);
    plain = xmalloc(f->body_len);
    rc = recv_open(s, f, skip, plain, f->body_len, &env);
    if (rc != KITH_OK) {
        if (introduced) {
            engine_txn_forget(&b->txn, p->contact_id); /* nothing of it is kept */
        }
        goto out;
    }
    recv_session_dirty(b, p->contact_id);
    /* A session message is acknowledged with its key (FRAME_ACK, no ratchet turn); a
     * handshake frame with a sealed receipt, which is the initiator's first answer. */
    if (session_take_ack_key(s, b->cur_key) == KITH_OK && f->type == FRAME_SESSION_MSG) {
        memcpy(b->cur_id, f->msg_id, 16);
        b->cur_keyed = true;
    }
    if (env.type != ENVELOPE_TEXT) {
        /* Every envelope is a causal hint: a newcomer's clock moves past what the circle saw. */
        rc = recv_clock_settle(e, b, env.lamport);
        if (rc != KITH_OK) {
            goto out;
        }
    }
    if (introduced) {
        rc = engine_circle_intro_done(e, &b->txn, p->contact_id);
        if (rc != KITH_OK) {
            goto out;
        }
    }
    if (was_waiting || p->pending || introduced) {
        struct store_contact c;
        if (store_contact_by_id(e->st, p->contact_id, &c) == KITH_OK &&
            c.state == STORE_CONTACT_PENDING) {
            c.state = STORE_CONTACT_ACTIVE;
            if (store_contact_update(e->st, &c) == KITH_OK) {
                b->txn.reload_peers = true;
                engine_emit(e, ENGINE_EV_CONTACT, p->name, NULL);
            }
        }
    }
    switch (env.type) {
    case ENVELOPE_ACK:
        recv_acked(e, p, &env);
        break;
    case ENVELOPE_RECEIPT:
        if (engine_boundary_receipts(e, p, &env)) {
            recv_owe_ack(b, p->contact_id, o, f->msg_id); /* a consent answer came through */
        }
        break;
    case ENVELOPE_BOUNDARY:
        /* A control frame: never held, no notification; their told rules, acknowledged. */
        rc = engine_boundary_notice(e, p, &env);
        if (rc == KITH_OK) {
            rc = store_seen_add(e->st, f->msg_id, engine_now_ms() / 1000);
        }
        if (rc == KITH_OK) {
            recv_owe_ack(b, p->contact_id, o, f->msg_id);
        }
        break;
    case ENVELOPE_REPAIR:
        /* A repair step: applied to our replica in this transaction, acknowledged like a text. */
        rc = engine_repair_receive(e, p, &env, &held_until);
        if (rc == KITH_EAGAIN) {
            /* An earlier step is still on its way: not acknowledged, and the session is
             * as before this frame, so the sender's retry applies it in order. */
            rc = recv_session_restore(b, p->contact_id, snap, snap_len);
            break;
        }
        if (rc == KITH_OK) {
            rc = store_seen_add(e->st, f->msg_id, engine_now_ms() / 1000);
        }
        if (rc == KITH_OK && held_until > 0) {
            /* Held by quiet hours or snooze: stored, applied at release; the sender is told. */
            recv_owe_receipt(b, p->contact_id, o, f->msg_id, RECEIPT_HELD_UNTIL, held_until);
        } else if (rc == KITH_OK) { /* applied, or held with tell=off */
            recv_owe_ack(b, p->contact_id, o, f->msg_id);
        }
        break;
    case ENVELOPE_TEXT:
        if (env.lamport >= STORE_LAMPORT_MAX) {
            rc = KITH_EINVAL; /* nobody honest gets near 2^63 */
            goto out;
        }
        rc = recv_text(e, b, p, o, f->msg_id, &env, env.flags, env.payload, env.payload_len,
                       NULL);
        if (rc == KITH_EAGAIN) {
            rc = KITH_OK; /* blocked: not stored, not acknowledged; the sender keeps "sent" */
        } else if (rc == KITH_OK) {
            rc = store_seen_add(e->st, f->msg_id, engine_now_ms() / 1000);
        }
        break;
    case ENVELOPE_TEXTS:
        rc = recv_texts(e, b, p, o, f, &env);
        break;
    case ENVELOPE_ENDPOINT:
    case ENVELOPE_RETENTION:
        /* Control frames (core/engine_update.c, engine_retention.c): applied here, never
         * held, acknowledged like a boundary notice. */
        rc = env.type == ENVELOPE_ENDPOINT
                 ? engine_endpoint_receive(e, p, &env, &b->txn.reload_peers)
                 : engine_retention_receive(e, p, &env);
        if (rc == KITH_OK) {
            rc = store_seen_add(e->st, f->msg_id, engine_now_ms() / 1000);
        }
        if (rc == KITH_OK) {
            recv_owe_ack(b, p->contact_id, o, f->msg_id);
        }
        break;
    case ENVELOPE_CIRCLE_OP:
    case ENVELOPE_SENDER_KEY:
    case ENVELOPE_CIRCLE_WELCOME:
    case ENVELOPE_CIRCLE_JOIN:
        /* Circle state over the 1:1 channel: applied in this transaction, acknowledged. */
        rc = engine_circle_recv_env(e, &b->txn, p, &env);
        if (rc == KITH_OK) {
            rc = store_seen_add(e->st, f->msg_id, engine_now_ms() / 1000);
        }
        if (rc == KITH_OK) {
            recv_owe_ack(b, p->contact_id, o, f->msg_id);
        }
        break;
    default:
        /* Known but not for this path (a card after the handshake): take it, ack it. */
        rc = store_seen_add(e->st, f->msg_id, engine_now_ms() / 1000);
        if (rc == KITH_OK) {
            recv_owe_ack(b, p->contact_id, o, f->msg_id);
        }
        break;
    }
out:
    sodium_memzero(b->cur_key, sizeof b->cur_key);
    b->cur_keyed = false;
    sodium_memzero(plain, f->body_len);
    free(plain);
    if (snap != NULL) {
        sodium_memzero(snap, snap_len);
        free(snap);
    }
    return rc;
}

static void
recv_note_done(struct recv_batch *b, const uint8_t msg_id[16])
{
    struct recv_done *d = NULL;

    if (!b->relayed) {
        return;
    }
    for (size_t i = 0; i < b->ndones; i++) {
        if (memcmp(b->dones[i].hop, b->hop, 16) == 0) {
            d = &b->dones[i];
        }
    }
    if (d == NULL && b->ndones < KITH_GROUP_COMMIT) {
        d = &b->dones[b->ndones++];
        memset(d, 0, sizeof *d);
        memcpy(d->hop, b->hop, 16);
    }
    if (d != NULL && d->nids < KITH_GROUP_COMMIT) {
        memcpy(d->ids[d->nids++], msg_id, 16);
    }
}

static void recv_one(struct engine *e, struct recv_batch *b, const struct engine_inframe *in);
static int recv_ack_frame(struct engine *e, struct engine_peer *p, const struct frame *f);

/* A RELAY frame: for us (unwrap and handle the inner frame as from its origin), or for someone
 * else (carry it for them). */
static int
recv_relay(struct engine *e, struct recv_batch *b, const struct engine_inframe *in,
           struct engine_peer *hop, const struct frame *f)
{
    struct relay_body r;
    struct engine_peer *origin;
    struct engine_inframe inner;
    int rc;

    if (memcmp(f->route, e->member_id, sizeof e->member_id) != 0) {
        return engine_relay_recv(e, hop, f);
    }
    rc = relay_body_decode(f, &r);
    if (rc != KITH_OK || b->relayed) {
        return KITH_EMALFORMED; /* no relays inside relays */
    }
    origin = engine_peer_by_member(e, r.origin);
    if (origin == NULL) {
        return KITH_ENOTFOUND;
    }
    if (r.frame.type == FRAME_RELAY_DONE) {
        return KITH_EMALFORMED; /* RELAY_DONE goes hop by hop only */
    }
    memset(&inner, 0, sizeof inner);
    inner.origin = in->origin;
    inner.origin.kind = TRANSPORT_CONTACT;
    memcpy(inner.origin.peer_id, r.origin, 16);
    inner.buf = (uint8_t *)r.inner;
    inner.len = r.inner_len;
    b->relayed = true;
    memcpy(b->hop, hop->member_id, 16);
    recv_one(e, b, &inner);
    /* Taken, or never to be opened (a receipt that also came directly, a stale copy): either
     * way the hop may forget it. A content frame we could not take yet is retried by its
     * sender, whose outbox keeps it until we acknowledge it. */
    recv_note_done(b, r.frame.msg_id);
    b->relayed = false;
    return KITH_OK;
}

static void
recv_one(struct engine *e, struct recv_batch *b, const struct engine_inframe *in)
{
    const struct transport_origin *o = &in->origin;
    struct engine_peer *p = NULL;
    struct frame f;
    int rc = frame_decode(in->buf, in->len, &f);

    if (rc != KITH_OK) {
        e->rejected++;
        return;
    }
    if (o->kind == TRANSPORT_CONTACT) {
        p = engine_peer_by_member(e, o->peer_id);
    } else if (o->kind == TRANSPORT_INVITEE) {
        p = engine_peer_by_tk(e, o->tk); /* became a contact on this connection */
    }
    if (p == NULL && !(o->kind == TRANSPORT_INVITEE && f.type == FRAME_INVITE_ACCEPT &&
                       in->len <= RECV_INVITEE_MAX_BYTES)) {
        e->rejected++;
        return;
    }
    if (p != NULL && p->blocked) {
        return; /* frames that still arrive from a blocked contact: dropped, not counted */
    }
    /* Circle traffic is routed by circle id; relays by their final recipient. */
    switch (f.type) {
    case FRAME_CIRCLE_MSG:
        rc = p != NULL ? engine_circle_recv_frame(e, &b->txn, p, &f, in->buf, in->len)
                       : KITH_ESTATE;
        if (rc != KITH_OK) {
            e->rejected++;
        }
        return;
    case FRAME_SYNC_HAVE:
        if (p != NULL && !b->relayed) {
            engine_sync_recv_have(e, p, &f);
        }
        return;
    case FRAME_RELAY:
        rc = p != NULL ? recv_relay(e, b, in, p, &f) : KITH_ESTATE;
        if (rc != KITH_OK) {
            e->rejected++;
        }
        return;
    default:
        break;
    }
    if (memcmp(f.route, e->member_id, sizeof e->member_id) != 0) {
        e->rejected++; /* a 1:1 frame for someone else arrives inside a RELAY, never bare */
        return;
    }
    if (f.type == FRAME_RELAY_DONE) {
        if (p != NULL && !b->relayed) {
            engine_relay_done_recv(e, p, &f);
        }
        return;
    }
    if (f.type == FRAME_ACK) {
        if (p == NULL || recv_ack_frame(e, p, &f) != KITH_OK) {
            e->rejected++;
        }
        return;
    }
    if (store_seen_has(e->st, f.msg_id)) {
        if (p != NULL) {
            recv_owe_again(e, b, p->contact_id, o, f.msg_id); /* the sender missed our ACK */
        }
        return;
    }
    switch (f.type) {
    case FRAME_INVITE_ACCEPT:
        rc = p == NULL ? recv_invite_accept(e, b, o, &f) : recv_session_frame(e, b, p, o, &f);
        break;
    case FRAME_SESSION_INIT:
    case FRAME_SESSION_MSG:
        rc = p != NULL ? recv_session_frame(e, b, p, o, &f) : KITH_ESTATE;
        break;
    default:
        rc = KITH_EMALFORMED; /* SYNC_WANT and RELAY_RECEIPT are not used by kith-v1 */
        break;
    }
    if (rc != KITH_OK) {
        e->rejected++;
    }
}

static void
recv_put_tell(uint8_t out[ACK_PLAIN_BYTES], uint8_t tell, int64_t tell_at)
{
    uint64_t at = tell_at > 0 ? (uint64_t)tell_at : 0;

    out[0] = tell;
    for (int byte = 0; byte < 8; byte++) {
        out[1 + byte] = (uint8_t)(at >> (56 - 8 * byte));
    }
}

static void
recv_ack_ad(uint8_t ad[11 + 16], const uint8_t msg_id[16])
{
    memcpy(ad, "kith-v1/ack", 11);
    memcpy(ad + 11, msg_id, 16);
}

/* How many entries from k on belong to the same TEXTS frame (same first 15 bytes, keyed). */
static size_t
recv_run(const struct recv_ack *a, size_t k)
{
    size_t r = 1;

    while (k + r < a->nids && a->ents[k + r].keyed && a->ents[k + r].id[15] != 0 &&
           memcmp(a->ents[k + r].id, a->ents[k].id, 15) == 0) {
        r++;
    }
    return r;
}

/* One FRAME_ACK of n sealed entries. */
static void
recv_ack_out(struct engine *e, struct recv_ack *a, const uint8_t route[16], const uint8_t *body,
             size_t n)
{
    struct frame f;
    uint8_t *wire;
    size_t len = 0;

    memset(&f, 0, sizeof f);
    f.type = FRAME_ACK;
    randombytes_buf(f.msg_id, 16);
    memcpy(f.route, route, 16);
    f.expires_at = (uint32_t)(engine_now_ms() / 1000 + KITH_FRAME_EXPIRY);
    f.body = (uint8_t *)body;
    f.body_len = (uint32_t)(n * ACK_ENTRY_BYTES);
    wire = xmalloc(FRAME_HEADER_BYTES + f.body_len);
    if (frame_encode(&f, wire, FRAME_HEADER_BYTES + f.body_len, &len) != KITH_OK) {
        free(wire);
        return;
    }
    recv_out_add(a, wire, len);
}

/* The FRAME_ACKs of the entries that carry their message's key: each one sealed under it,
 * so only the message's sender can read what our boundaries did, and no one else can
 * forge it (proto/PROTOCOL.md §7.1). The entries of one TEXTS frame stay in one FRAME_ACK,
 * its own id first: the sender opens the others with the key it found for that one. */
static void
recv_build_ack(struct engine *e, struct recv_ack *a, const uint8_t route[16])
{
    uint8_t body[ACK_ENTRIES_MAX * ACK_ENTRY_BYTES];
    size_t n = 0;

    for (size_t k = 0; k < a->nids;) {
        size_t run;
        if (!a->ents[k].keyed) {
            k++;
            continue;
        }
        run = recv_run(a, k);
        if (n + run > ACK_ENTRIES_MAX) {
            recv_ack_out(e, a, route, body, n);
            n = 0;
        }
        for (size_t r = 0; r < run; r++, k++) {
            const struct recv_entry *en = &a->ents[k];
            uint8_t plain[ACK_PLAIN_BYTES];
            uint8_t ad[11 + 16];
            uint8_t *entry = body + n * ACK_ENTRY_BYTES;

            recv_put_tell(plain, en->tell, en->tell_at);
            recv_ack_ad(ad, en->id);
            memcpy(entry, en->id, 16);
            kcrypt_seal(entry + 16, plain, sizeof plain, ad, sizeof ad, en->key);
            n++;
        }
    }
    if (n > 0) {
        recv_ack_out(e, a, route, body, n);
    }
}

/* A FRAME_ACK from p: each entry that opens under the key stored with our waiting message
 * acknowledges it; anything else (a repeat after the row went, a forgery) changes nothing.
 * The entries after a TEXTS frame's own (its other texts, whose rows hold no key) open under
 * that frame's key. */
static int
recv_ack_frame(struct engine *e, struct engine_peer *p, const struct frame *f)
{
    size_t n = 0;
    int rc = ack_body_check(f->body, f->body_len, &n);
    uint8_t bkey[32];
    uint8_t bid[16];
    bool bkeyed = false;
    bool texts_left = false; /* bid's other texts: settled after their own entries */
    int btell = 0;           /* bid's receipt, which holds for those without their own */
    int64_t bat = 0;

    for (size_t k = 0; k < n && rc == KITH_OK; k++) {
        const uint8_t *entry = f->body + k * ACK_ENTRY_BYTES;
        uint8_t key[32];
        uint8_t ad[11 + 16];
        uint8_t plain[ACK_PLAIN_BYTES];
        bool member = bkeyed && entry[15] != 0 && memcmp(entry, bid, 15) == 0;
        int got;
        int64_t at = 0;

        if (!member && texts_left) {
            KITH_IGNORE(store_msg_texts_follow(e->st, bid, STORE_MSG_DELIVERED, btell, bat));
            texts_left = false;
        }
        got = member ? KITH_OK : store_outbox_ack_key(e->st, entry, key);
        if (got == KITH_ENOTFOUND) {
            continue; /* acknowledged already, or only a sealed receipt confirms it */
        }
        if (got != KITH_OK) {
            rc = got;
            break;
        }
        recv_ack_ad(ad, entry);
        got = kcrypt_open(plain, entry + 16, ACK_ENTRY_BYTES - 16, ad, sizeof ad,
                          member ? bkey : key);
        if (got == KITH_OK && !member && entry[15] == 0) {
            memcpy(bkey, key, 32); /* perhaps a TEXTS frame: its texts may follow */
            memcpy(bid, entry, 16);
            bkeyed = true;
        }
        sodium_memzero(key, sizeof key);
        if (got != KITH_OK) {
            rc = KITH_ECRYPTO; /* tampered or forged: the rest of the frame is not trusted */
            break;
        }
        for (int byte = 0; byte < 8; byte++) {
            at = (int64_t)((uint64_t)at << 8 | plain[1 + byte]);
        }
        if (member) {
            engine_boundary_text_receipt(e, p, entry, plain[0], at);
        } else {
            engine_boundary_frame_receipt(e, p, entry, plain[0], at, &texts_left);
            btell = plain[0];
            bat = engine_receipt_at(btell, at);
        }
    }
    if (texts_left) { /* also after a forged entry: the frame's first text was genuine */
        KITH_IGNORE(store_msg_texts_follow(e->st, bid, STORE_MSG_DELIVERED, btell, bat));
    }
    sodium_memzero(bkey, sizeof bkey);
    return rc;
}

/* One sealed RECEIPT (the session advances) of n entries from the unkeyed ones. */
static void
recv_receipt_out(struct engine *e, struct recv_batch *b, struct recv_ack *a, struct session *s,
                 const uint8_t route[16], const uint8_t *payload, size_t n)
{
    uint8_t plain[ENVELOPE_HEADER_BYTES + KITH_ACK_BATCH * RECEIPT_BYTES + ENVELOPE_PAD];
    uint8_t ad[FRAME_AD_BYTES];
    struct envelope env;
    struct frame f;
    size_t plain_len = 0;
    size_t body_len = 0;
    size_t hdr;
    size_t cap;
    uint8_t *body;
    uint8_t *wire;
    size_t wire_len = 0;

    memset(&env, 0, sizeof env);
    env.type = ENVELOPE_RECEIPT; /* an ACK that also says what our boundaries did */
    env.version = 1;
    env.sent_at_ms = (uint64_t)engine_now_ms();
    env.payload = payload;
    env.payload_len = (uint32_t)(RECEIPT_BYTES * n);
    if (envelope_encode(&env, plain, sizeof plain, &plain_len) != KITH_OK) {
        return;
    }
    memset(&f, 0, sizeof f);
    f.type = session_get_state(s) == SESSION_AWAIT_REPLY ? FRAME_SESSION_INIT : FRAME_SESSION_MSG;
    randombytes_buf(f.msg_id, 16);
    memcpy(f.route, route, 16);
    f.expires_at = (uint32_t)(engine_now_ms() / 1000 + KITH_FRAME_EXPIRY);
    frame_ad(&f, ad);
    hdr = f.type == FRAME_SESSION_INIT ? SESSION_INIT_HEADER_BYTES : 0;
    cap = hdr + plain_len + SESSION_MSG_OVERHEAD;
    body = xmalloc(cap);
    if (hdr > 0) {
        memcpy(body, session_init_header(s), hdr);
    }
    if (session_encrypt(s, ad, sizeof ad, plain, plain_len, body + hdr, cap - hdr, &body_len) !=
        KITH_OK) {
        free(body);
        sodium_memzero(plain, sizeof plain);
        return;
    }
    {
        uint8_t unused[32]; /* a receipt is confirmed by nothing */
        KITH_IGNORE(session_take_ack_key(s, unused));
        sodium_memzero(unused, sizeof unused);
    }
    recv_session_dirty(b, a->contact_id);
    f.body = body;
    f.body_len = (uint32_t)(hdr + body_len);
    wire = xmalloc(FRAME_HEADER_BYTES + f.body_len);
    if (frame_encode(&f, wire, FRAME_HEADER_BYTES + f.body_len, &wire_len) != KITH_OK) {
        free(wire);
    } else {
        recv_out_add(a, wire, wire_len);
    }
    free(body);
    sodium_memzero(plain, sizeof plain);
}

/* Seal each owed ACK inside the open transaction: FRAME_ACKs for the messages this batch
 * opened, sealed RECEIPTs (the session advances) for the others. */
static void
recv_seal_acks(struct engine *e, struct recv_batch *b)
{
    for (size_t i = 0; i < b->nacks; i++) {
        struct recv_ack *a = &b->acks[i];
        struct session *s = recv_session_get(e, b, a->contact_id);
        struct engine_peer *p = engine_peer_by_contact(e, a->contact_id);
        uint8_t payload[KITH_ACK_BATCH * RECEIPT_BYTES];
        uint8_t route[16];
        size_t nsealed = 0;

        if (s == NULL) {
            continue;
        }
        if (p != NULL) {
            memcpy(route, p->member_id, 16);
        } else {
            identity_member_id(session_peer_ik(s), route);
        }
        recv_build_ack(e, a, route);
        for (size_t k = 0; k < a->nids; k++) {
            uint8_t *r = payload + RECEIPT_BYTES * nsealed;
            if (a->ents[k].keyed) {
                continue;
            }
            memcpy(r, a->ents[k].id, 16);
            recv_put_tell(r + 16, a->ents[k].tell, a->ents[k].tell_at);
            if (++nsealed == KITH_ACK_BATCH) {
                recv_receipt_out(e, b, a, s, route, payload, nsealed);
                nsealed = 0;
            }
        }
        if (nsealed > 0) {
            recv_receipt_out(e, b, a, s, route, payload, nsealed);
        }
    }
}

/* engine_process_batch's scratch: one per engine, allocated once (it is ~300 KiB: a
 * fresh calloc per batch cost an mmap, page faults and a munmap every time). Each entry
 * is cleared when it is taken (recv_ack_add, recv_done_add), so only the counts start
 * over here. */
static struct recv_batch *
recv_batch_take(struct engine *e)
{
    struct recv_batch *b = e->rb;

    if (b == NULL) {
        b = xcalloc(1, sizeof *b);
        e->rb = b;
    }
    b->nacks = 0;
    b->ndones = 0;
    b->relayed = false;
    memset(b->hop, 0, sizeof b->hop);
    b->lamport_seen = 0;
    memset(b->cur_id, 0, sizeof b->cur_id);
    b->cur_keyed = false;
    return b;
}

/* Wipe what the batch used: only it holds keys. */
static void
recv_batch_clear(struct recv_batch *b)
{
    engine_txn_fini(&b->txn);
    for (size_t i = 0; i < b->nacks; i++) {
        struct recv_ack *a = &b->acks[i];
        for (size_t k = 0; k < a->nouts; k++) {
            free(a->outs[k].buf);
        }
        a->nouts = 0;
        if (a->nids > 0) {
            sodium_memzero(a->ents, a->nids * sizeof *a->ents); /* acknowledgement keys */
        }
        a->nids = 0;
    }
    b->nacks = 0;
    sodium_memzero(b->cur_key, sizeof b->cur_key);
    b->cur_keyed = false;
}

void
engine_recv_free(struct engine *e)
{
    if (e->rb != NULL) {
        recv_batch_clear(e->rb);
        for (size_t i = 0; i < KITH_GROUP_COMMIT; i++) {
            free(e->rb->acks[i].ents);
            free(e->rb->acks[i].outs);
        }
        free(e->rb);
        e->rb = NULL;
    }
}

/* Tell each hop which relayed frames are now ours (after COMMIT). */
static void
recv_send_dones(struct engine *e, struct recv_batch *b)
{
    for (size_t i = 0; i < b->ndones; i++) {
        struct recv_done *d = &b->dones[i];
        uint8_t wire[FRAME_HEADER_BYTES + KITH_GROUP_COMMIT * 16];
        struct frame f;
        size_t len = 0;

        memset(&f, 0, sizeof f);
        f.type = FRAME_RELAY_DONE;
        randombytes_buf(f.msg_id, 16);
        memcpy(f.route, d->hop, 16);
        f.expires_at = (uint32_t)(engine_now_ms() / 1000 + 3600);
        f.body = d->ids[0];
        f.body_len = (uint32_t)(d->nids * 16);
        if (frame_encode(&f, wire, sizeof wire, &len) == KITH_OK) {
            KITH_IGNORE(transport_send(e->tp, d->hop, wire, len));
        }
    }
}

/* After COMMIT: answer on the path the frame came by; else any live path; else through a
 * relay. */
static void
recv_answer(struct engine *e, const struct recv_ack *a, const uint8_t *frame, size_t len)
{
    struct engine_peer *p = engine_peer_by_contact(e, a->contact_id);

    if (frame == NULL) {
        return;
    }
    if (!a->via_relay && transport_reply(e->tp, &a->origin, frame, len) == KITH_OK) {
        engine_crash_point("ack.after_send");
        return;
    }
    if (p != NULL && transport_send(e->tp, p->member_id, frame, len) != KITH_OK) {
        engine_relay_offer(e, p, frame, len);
    }
    engine_crash_point("ack.after_send");
}

/* A batch that may hold a message is committed durably at once (its ACKs wait for that
 * commit); one of acknowledgements and announcements only needs no fsync. */
static bool
recv_batch_durable(const struct engine *e)
{
    for (size_t i = 0; i < e->nbatch; i++) {
        struct frame f;
        if (frame_decode(e->batch[i].buf, e->batch[i].len, &f) != KITH_OK) {
            continue;
        }
        if (f.type != FRAME_ACK && f.type != FRAME_SYNC_HAVE && f.type != FRAME_RELAY_DONE) {
            return true;
        }
    }
    return false;
}

void
engine_process_batch(struct engine *e)
{
    struct recv_batch *b = recv_batch_take(e);
    bool durable;
    int rc;

    engine_txn_init(&b->txn);
    /* Durable when the batch may hold a message, else relaxed; if a relaxed batch turns
     * out to owe ACKs, store_sync below makes it durable before any ACK leaves. */
    durable = recv_batch_durable(e);
    rc = durable ? store_begin(e->st) : store_begin_relaxed(e->st);
    if (rc != KITH_OK) {
        goto out; /* frames stay unacknowledged; senders retry */
    }
    engine_boundary_batch(e, true); /* the judge's inputs, read once per contact */
    for (size_t i = 0; i < e->nbatch; i++) {
        recv_one(e, b, &e->batch[i]);
        engine_crash_point("recv.after_decrypt");
    }
    engine_boundary_batch(e, false);
    /* Our sends' hand-overs that no acknowledgement in this batch made moot ("sent" only
     * ever follows "queued"; a refused frame's wait only applies while it waits). */
    engine_notes_apply(e);
    rc = recv_clock_settle(e, b, 0);
    if (rc == KITH_OK) {
        recv_seal_acks(e, b);
        rc = engine_txn_save(e, &b->txn);
    }
    engine_crash_point("recv.before_commit");
    if (rc == KITH_OK) {
        rc = store_commit(e->st);
    }
    if (rc == KITH_OK && !durable && (b->nacks > 0 || b->ndones > 0 || b->txn.sealed)) {
        rc = store_sync(e->st);
    }
    if (rc != KITH_OK) {
        store_rollback(e->st);
        KITH_IGNORE(engine_circles_reload(e)); /* memory may have run ahead of the store */
        goto out;
    }
    engine_crash_point("recv.after_commit");
    engine_txn_keep(e, &b->txn); /* durable now: the next batch need not unseal them */
    if (b->txn.reload_peers) {
        KITH_IGNORE(engine_reload_peers(e)); /* the store is right; memory catches up later */
    }
    if (b->txn.reload_circles) {
        KITH_IGNORE(engine_circles_reload(e));
    }
    for (size_t i = 0; i < b->nacks; i++) {
        for (size_t k = 0; k < b->acks[i].nouts; k++) {
            recv_answer(e, &b->acks[i], b->acks[i].outs[k].buf, b->acks[i].outs[k].len);
        }
    }
    recv_send_dones(e, b);
    if (b->txn.sealed) {
        engine_flush(e, 0); /* circle ops, keys and welcomes sealed in this batch */
    }
out:
    for (size_t i = 0; i < e->nbatch; i++) {
        free(e->batch[i].buf);
        e->batch[i].buf = NULL;
    }
    e->nbatch = 0;
    recv_batch_clear(b);
}
