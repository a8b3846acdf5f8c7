/*
 * engine_verbs: what the engine does on request — seal and queue a message
 * (seal once, commit, then send), hand due outbox rows to the network with
 * backoff, make and accept invites, and answer the views' queries.
 */
#include "core/engine_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "core/cli.h"
#include "core/kcrypt.h"
#include "core/session.h"
#include "proto/frame.h"
#include "proto/invite.h"
#include "core/engine_circle_impl.h"

/* ---- sending ---- */

/* Test builds: KITH_TEST_TAMPER_EVERY=n flips one body byte of every n-th
 * frame handed to the network (the stored copy stays intact, so the retry is
 * honest): the receiver must reject and count it, and keep the connection. */
static void
engine_test_tamper(uint8_t *frame, size_t len)
{
#ifdef KITH_TEST_HOOKS
    static unsigned long sent;
    const char *every = getenv("KITH_TEST_TAMPER_EVERY");
    unsigned long n = every != NULL ? strtoul(every, NULL, 10) : 0;

    if (n > 0 && ++sent % n == 0 && len > FRAME_HEADER_BYTES) {
        frame[FRAME_HEADER_BYTES + randombytes_uniform((uint32_t)(len - FRAME_HEADER_BYTES))] ^=
            0x40;
    }
#else
    (void)frame;
    (void)len;
#endif
}

/* A frame past its expires_at is not sent again: its message becomes EXPIRED in
 * our history (shown to the person) and the row leaves the outbox. */
static bool
engine_outbox_expired(struct engine *e, const struct store_outbox *r, int64_t now_ms)
{
    struct frame f;
    struct engine_peer *p;

    if (frame_decode(r->frame, r->frame_len, &f) != KITH_OK ||
        (int64_t)f.expires_at * 1000 > now_ms) {
        return false;
    }
    if (store_outbox_remove(e->st, r->msg_id) != KITH_OK) {
        return false;
    }
    if (store_msg_set_state(e->st, r->msg_id, STORE_MSG_EXPIRED) == KITH_OK) {
        p = engine_peer_by_contact(e, r->contact_id);
        engine_emit(e, ENGINE_EV_STATE, p != NULL ? p->name : NULL, r->msg_id);
    }
    return true;
}

void
engine_flush(struct engine *e, int64_t contact_id)
{
    struct store_outbox *rows = NULL;
    size_t n = 0;
    int64_t now = engine_now_ms();
    int64_t blocked[64];
    size_t nblocked = 0;

    if (!e->started || store_outbox_due(e->st, contact_id, now, 256, &rows, &n) != KITH_OK) {
        return;
    }
    if (n == 0) {
        store_outbox_free(rows, n);
        return;
    }
    /* Retry bookkeeping only: if it is lost, the frame is simply sent again. */
    if (store_begin_relaxed(e->st) != KITH_OK) {
        store_outbox_free(rows, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct store_outbox *r = &rows[i];
        struct engine_peer *p = engine_peer_by_contact(e, r->contact_id);
        bool skip = false;
        int rc;

        for (size_t b = 0; b < nblocked; b++) {
            skip = skip || blocked[b] == r->contact_id;
        }
        if (engine_outbox_expired(e, r, now)) {
            continue;
        }
        if (p == NULL || skip) {
            rc = KITH_EAGAIN;
        } else {
            engine_test_tamper(r->frame, r->frame_len);
            rc = transport_send(e->tp, p->member_id, r->frame, r->frame_len);
        }
        if (rc == KITH_OK) {
            engine_crash_point("send.after_zmq_send");
            KITH_IGNORE(store_outbox_reschedule(e->st, r->msg_id, r->attempts + 1,
                                                now + engine_backoff_ms(r->attempts + 1)));
            /* The first hand-over makes a queued message "sent" (handshake rows have no
             * history row: ENOTFOUND is expected for them). */
            if (r->attempts == 0 &&
                store_msg_set_state(e->st, r->msg_id, STORE_MSG_SENT) == KITH_OK) {
                engine_emit(e, ENGINE_EV_STATE, p->name, r->msg_id);
            }
        } else {
            /* No live path: the peer coming up wakes these rows at once. Meanwhile members
             * of a circle we share with them may carry it (store-and-forward). */
            if (p != NULL) {
                engine_relay_offer(e, p, r->frame, r->frame_len);
            }
            if (!skip && nblocked < 64) {
                blocked[nblocked++] = r->contact_id;
            }
            KITH_IGNORE(store_outbox_reschedule(e->st, r->msg_id, r->attempts, now + 30000));
        }
    }
    if (store_commit(e->st) != KITH_OK) {
        store_rollback(e->st);
    }
    store_outbox_free(rows, n);
}

/* Frames sealed in an open transaction and handed to the network straight after its COMMIT,
 * from memory: no re-read of the rows just written. Their outbox rows are stored as attempted
 * once with the first retry scheduled, so the hand-over writes nothing unless it fails; the
 * history rows become "sent" in the next transaction the caller opens. */
struct engine_handed {
    uint8_t msg_id[16];
    uint8_t *frame; /* the exact bytes stored: retries resend them */
    size_t len;
    bool history;
    bool sent;
};

struct engine_handover {
    struct engine_handed *v;
    size_t n;
    size_t cap;
    /* engine_send_batch: the chunk's counters, read (seq) and reserved (Lamport) once, the
     * conversation's last sent written once before the COMMIT (engine_handover_counters). */
    size_t left;      /* ticks reserved and not used yet; 0: per message, from the store */
    uint64_t lamport; /* the next reserved tick */
    uint64_t seq;     /* the next sequence number */
    uint8_t prev[16]; /* the last sealed message of the conversation */
};

static void
engine_handover_clear(struct engine_handover *ho)
{
    for (size_t i = 0; i < ho->n; i++) {
        free(ho->v[i].frame);
    }
    ho->n = 0;
}

static void
engine_handover_fini(struct engine_handover *ho)
{
    engine_handover_clear(ho);
    free(ho->v);
    memset(ho, 0, sizeof *ho);
}

/* After the COMMIT: every frame to the peer in order (the first refusal stops the rest: no
 * live path), each one refused offered to a relay. */
static void
engine_handover_send(struct engine *e, int64_t contact_id, struct engine_handover *ho)
{
    struct engine_peer *p = engine_peer_by_contact(e, contact_id);
    bool live = p != NULL;

    for (size_t i = 0; i < ho->n; i++) {
        struct engine_handed *h = &ho->v[i];
        int rc = KITH_EAGAIN;
        if (live) {
            engine_test_tamper(h->frame, h->len);
            rc = transport_send(e->tp, p->member_id, h->frame, h->len);
        }
        h->sent = rc == KITH_OK;
        if (h->sent) {
            engine_crash_point("send.after_zmq_send");
            continue;
        }
        live = false;
        if (p != NULL) {
            engine_relay_offer(e, p, h->frame, h->len);
        }
    }
}

/* Inside an open transaction: what the hand-over changed. Sent history rows become "sent";
 * a refused frame waits for the peer (their coming up wakes it) as engine_flush does. */
static void
engine_handover_note(struct engine *e, int64_t contact_id, struct engine_handover *ho)
{
    struct engine_peer *p = engine_peer_by_contact(e, contact_id);
    int64_t now = engine_now_ms();

    for (size_t i = 0; i < ho->n; i++) {
        struct engine_handed *h = &ho->v[i];
        if (!h->sent) {
            KITH_IGNORE(store_outbox_reschedule(e->st, h->msg_id, 0, now + 30000));
        } else if (h->history && store_msg_set_state(e->st, h->msg_id, STORE_MSG_SENT) == KITH_OK &&
                   p != NULL) {
            engine_emit(e, ENGINE_EV_STATE, p->name, h->msg_id);
        }
    }
    engine_handover_clear(ho);
}

/* The same in a transaction of its own (retry bookkeeping only: no fsync; if it is lost, a
 * row stays "queued" until its acknowledgement makes it "delivered"). */
static void
engine_handover_note_alone(struct engine *e, int64_t contact_id, struct engine_handover *ho)
{
    if (ho->n == 0) {
        return;
    }
    if (store_begin_relaxed(e->st) == KITH_OK) {
        engine_handover_note(e, contact_id, ho);
        if (store_commit(e->st) != KITH_OK) {
            store_rollback(e->st);
        }
    }
    engine_handover_clear(ho);
}

/* Inside the chunk's transaction: reserve n Lamport ticks and read the conversation's
 * sequence once (begin), then write its last sent once (end, before the COMMIT). */
static int
engine_handover_counters(struct engine *e, int64_t contact_id, struct engine_handover *ho,
                         size_t n, bool begin)
{
    int rc;

    if (begin) {
        ho->left = 0;
        rc = store_next_seq(e->st, contact_id, &ho->seq, ho->prev);
        if (rc == KITH_OK) {
            rc = store_lamport_reserve(e->st, (uint32_t)n, &ho->lamport);
        }
        ho->left = rc == KITH_OK ? n : 0;
        return rc;
    }
    rc = ho->left == 0 ? store_set_last_sent(e->st, contact_id, ho->seq - 1, ho->prev)
                       : KITH_ESTATE; /* every reserved tick is used by a sealed message */
    ho->left = 0;
    return rc;
}

/* Inside an open transaction: seal one envelope for a contact with session
 * s (advanced in memory), and write the outbox row (and the history row
 * when m != NULL). The caller saves s and commits. With ho, the frame is
 * kept for a hand-over after the COMMIT (engine_handover_send). */
static int
engine_seal_into(struct engine *e, const struct store_contact *c, struct session *s,
                 struct envelope *env, struct store_msg *m, uint8_t msg_id[16],
                 struct engine_handover *ho)
{
    uint8_t *plain = NULL;
    uint8_t *body = NULL;
    uint8_t *wire = NULL;
    struct frame f;
    uint8_t ad[FRAME_AD_BYTES];
    size_t plain_len = 0;
    size_t body_len = 0;
    size_t wire_len = 0;
    size_t hdr = 0;
    size_t cap;
    uint64_t seq = 0;
    uint64_t lamport = 0;
    int64_t now = engine_now_ms();
    int rc;

    if (ho != NULL && ho->left > 0) { /* reserved for the chunk */
        seq = ho->seq;
        lamport = ho->lamport;
        memcpy(env->prev_msg_id, ho->prev, 16);
        rc = KITH_OK;
    } else {
        rc = store_next_seq(e->st, c->id, &seq, env->prev_msg_id);
        if (rc == KITH_OK) {
            rc = store_lamport_tick(e->st, 0, &lamport);
        }
    }
    if (rc != KITH_OK) {
        return rc;
    }
    env->lamport = lamport;
    env->sender_seq = seq;
    env->sent_at_ms = (uint64_t)now;
    plain_len = envelope_size(env->payload_len);
    plain = xmalloc(plain_len);
    rc = envelope_encode(env, plain, plain_len, &plain_len);
    if (rc != KITH_OK) {
        goto out;
    }
    memset(&f, 0, sizeof f);
    randombytes_buf(msg_id, 16);
    memcpy(f.msg_id, msg_id, 16);
    memcpy(f.route, c->member_id, 16);
    f.expires_at = (uint32_t)(now / 1000 + KITH_FRAME_EXPIRY);
    f.type = session_get_state(s) == SESSION_AWAIT_REPLY ? FRAME_SESSION_INIT : FRAME_SESSION_MSG;
    if (c->state == STORE_CONTACT_PENDING && env->type == ENVELOPE_CONTACT_CARD) {
        f.type = FRAME_INVITE_ACCEPT;
    }
    if (f.type != FRAME_SESSION_MSG) {
        hdr = SESSION_INIT_HEADER_BYTES; /* DR §5.1: repeated until the peer answers */
    }
    cap = hdr + plain_len + SESSION_MSG_OVERHEAD;
    if (cap > FRAME_BODY_MAX) {
        rc = KITH_ETOOBIG;
        goto out;
    }
    body = xmalloc(cap);
    if (hdr > 0) {
        memcpy(body, session_init_header(s), hdr);
    }
    frame_ad(&f, ad);
    rc = session_encrypt(s, ad, sizeof ad, plain, plain_len, body + hdr, cap - hdr, &body_len);
    if (rc != KITH_OK) {
        goto out;
    }
    f.body = body;
    f.body_len = (uint32_t)(hdr + body_len);
    wire = xmalloc(FRAME_HEADER_BYTES + f.body_len);
    rc = frame_encode(&f, wire, FRAME_HEADER_BYTES + f.body_len, &wire_len);
    if (rc != KITH_OK) {
        goto out;
    }
    if (m != NULL) {
        memcpy(m->msg_id, msg_id, 16);
        m->contact_id = c->id;
        m->outgoing = true;
        m->lamport = lamport;
        m->sender_seq = seq;
        m->ts_ms = now;
        m->state = STORE_MSG_QUEUED;
        rc = store_msg_add(e->st, m);
        if (rc == KITH_OK) {
            rc = engine_retention_stamp(e, c->id, msg_id); /* disappearing messages */
        }
        if (rc != KITH_OK) {
            goto out;
        }
    }
    rc = ho != NULL ? store_outbox_add_at(e->st, msg_id, c->id, wire, wire_len, 1,
                                          now + engine_backoff_ms(1))
                    : store_outbox_add(e->st, msg_id, c->id, wire, wire_len, now);
    if (rc == KITH_OK && ho != NULL && ho->left > 0) {
        ho->left--;
        ho->lamport++;
        ho->seq = seq + 1;
        memcpy(ho->prev, msg_id, 16); /* engine_handover_counters writes it for the chunk */
    } else if (rc == KITH_OK) {
        rc = store_set_last_sent(e->st, c->id, seq, msg_id);
    }
    if (rc == KITH_OK && ho != NULL) {
        if (ho->n == ho->cap) {
            ho->cap = ho->cap == 0 ? 8 : ho->cap * 2;
            ho->v = xrealloc(ho->v, ho->cap * sizeof *ho->v);
        }
        memset(&ho->v[ho->n], 0, sizeof ho->v[ho->n]);
        memcpy(ho->v[ho->n].msg_id, msg_id, 16);
        ho->v[ho->n].frame = wire;
        ho->v[ho->n].len = wire_len;
        ho->v[ho->n].history = m != NULL;
        ho->n++;
        wire = NULL;
    }
out:
    if (plain != NULL) {
        sodium_memzero(plain, plain_len);
        free(plain);
    }
    free(body);
    free(wire);
    return rc;
}

int
engine_seal_locked(struct engine *e, const struct store_contact *c, struct session *s,
                   struct envelope *env, struct store_msg *m, uint8_t msg_id[16])
{
    return engine_seal_into(e, c, s, env, m, msg_id, NULL);
}

/* Seal one envelope and commit it with the advanced session: seal once,
 * commit, then send (the caller: engine_flush, or engine_handover_send with ho). */
static int
engine_seal_commit(struct engine *e, const struct store_contact *c, struct envelope *env,
                   struct store_msg *m, uint8_t msg_id[16], struct engine_handover *ho)
{
    struct engine_txn t;
    struct session *s;
    int rc = store_begin(e->st);

    if (rc != KITH_OK) {
        return rc;
    }
    engine_txn_init(&t);
    s = engine_txn_session(e, &t, c->id); /* from the session cache when it is current */
    rc = s != NULL ? engine_seal_into(e, c, s, env, m, msg_id, ho) : KITH_ENOTFOUND;
    if (rc == KITH_OK) {
        engine_txn_dirty(&t, c->id);
        rc = engine_txn_save(e, &t);
    }
    if (rc == KITH_OK) {
        engine_crash_point("seal.before_commit");
        rc = store_commit(e->st);
    }
    if (rc != KITH_OK) {
        store_rollback(e->st);
        if (ho != NULL) {
            engine_handover_clear(ho); /* nothing of it is stored: nothing is sent */
        }
    } else {
        engine_crash_point("seal.after_commit");
        engine_txn_keep(e, &t);
    }
    engine_txn_fini(&t);
    return rc;
}

int
engine_seal_and_queue(struct engine *e, const struct store_contact *c, struct envelope *env,
                      struct store_msg *m, uint8_t msg_id[16])
{
    return engine_seal_commit(e, c, env, m, msg_id, NULL);
}

static int
engine_text_ok(const char *text)
{
    size_t len = text != NULL ? strlen(text) : 0;

    if (len == 0 || !frame_valid_utf8((const uint8_t *)text, len)) {
        return KITH_EINVAL;
    }
    return len > KITH_TEXT_MAX ? KITH_ETOOBIG : KITH_OK;
}

static void
engine_text_envelope(struct envelope *env, struct store_msg *m, const char *text, unsigned flags)
{
    memset(env, 0, sizeof *env);
    env->type = ENVELOPE_TEXT;
    env->version = 1;
    env->flags = (uint16_t)(((flags & ENGINE_SEND_HEAVY) ? ENVELOPE_F_HEAVY : 0) |
                            ((flags & ENGINE_SEND_URGENT) ? ENVELOPE_F_URGENT : 0));
    env->payload = (const uint8_t *)text;
    env->payload_len = (uint32_t)strlen(text);
    memset(m, 0, sizeof *m);
    m->flags = env->flags;
    m->text = (char *)text;
    m->text_len = env->payload_len;
}

int
engine_send_batch(struct engine *e, const char *target, const char *const *texts, size_t n,
                  unsigned flags)
{
    struct store_contact c;
    struct session *s = NULL;
    struct engine_txn t;
    struct engine_handover ho;
    struct engine_handover *hop = e->started ? &ho : NULL;
    size_t done = 0;
    int rc;

    for (size_t i = 0; i < n; i++) {
        rc = engine_text_ok(texts[i]);
        if (rc != KITH_OK) {
            return rc;
        }
    }
    if (target[0] == '#') {
        char id[ENGINE_ID_HEX];
        for (size_t i = 0; i < n; i++) {
            rc = engine_circle_send_text(e, target, texts[i], id);
            if (rc != KITH_OK) {
                return rc;
            }
        }
        return KITH_OK;
    }
    rc = store_contact_by_name(e->st, target, &c);
    if (rc != KITH_OK) {
        return rc;
    }
    /* Group commit: up to KITH_GROUP_COMMIT messages per transaction, each chunk handed to
     * the network after its COMMIT; the next chunk's transaction records that hand-over. */
    memset(&ho, 0, sizeof ho);
    while (done < n && rc == KITH_OK) {
        size_t chunk = n - done < KITH_GROUP_COMMIT ? n - done : KITH_GROUP_COMMIT;
        rc = store_begin(e->st);
        if (rc != KITH_OK) {
            break;
        }
        if (hop != NULL) {
            engine_handover_note(e, c.id, hop); /* the previous chunk's */
        }
        engine_txn_init(&t);
        s = engine_txn_session(e, &t, c.id);
        rc = s != NULL ? KITH_OK : KITH_ENOTFOUND;
        if (rc == KITH_OK && hop != NULL) {
            rc = engine_handover_counters(e, c.id, hop, chunk, true);
        }
        for (size_t i = 0; i < chunk && rc == KITH_OK; i++) {
            struct envelope env;
            struct store_msg m;
            uint8_t msg_id[16];
            engine_text_envelope(&env, &m, texts[done + i], flags);
            rc = engine_seal_into(e, &c, s, &env, &m, msg_id, hop);
        }
        if (rc == KITH_OK && hop != NULL) {
            rc = engine_handover_counters(e, c.id, hop, chunk, false);
        }
        if (rc == KITH_OK) {
            engine_txn_dirty(&t, c.id);
            rc = engine_txn_save(e, &t);
        }
        if (rc == KITH_OK) {
            rc = store_commit(e->st);
        }
        if (rc != KITH_OK) {
            store_rollback(e->st);
            if (hop != NULL) {
                engine_handover_clear(hop); /* not stored: not sent */
                hop->left = 0;
            }
        } else {
            engine_txn_keep(e, &t);
        }
        engine_txn_fini(&t);
        s = NULL;
        if (rc == KITH_OK) {
            done += chunk;
            engine_flush(e, c.id); /* older rows that are due go first */
            if (hop != NULL) {
                engine_handover_send(e, c.id, hop);
            }
        }
    }
    if (hop != NULL) {
        engine_handover_note_alone(e, c.id, hop);
        engine_handover_fini(hop);
    }
    return rc;
}

int
engine_send(struct engine *e, const char *target, const char *text, unsigned flags,
            char id_out[ENGINE_ID_HEX])
{
    struct store_contact c;
    struct envelope env;
    struct store_msg m;
    struct engine_handover ho;
    uint8_t msg_id[16];
    int rc = engine_text_ok(text);

    id_out[0] = '\0';
    if (rc != KITH_OK) {
        return rc;
    }
    if (target[0] == '#') {
        return engine_circle_send_text(e, target, text, id_out); /* core/engine_circle_msg.c */
    }
    rc = store_contact_by_name(e->st, target, &c);
    if (rc != KITH_OK) {
        return rc;
    }
    engine_text_envelope(&env, &m, text, flags);
    memset(&ho, 0, sizeof ho);
    rc = engine_seal_commit(e, &c, &env, &m, msg_id, e->started ? &ho : NULL);
    if (rc == KITH_OK) {
        kcrypt_hex(id_out, msg_id, 16);
        engine_flush(e, c.id); /* older rows that are due go first */
        engine_handover_send(e, c.id, &ho);
        engine_handover_note_alone(e, c.id, &ho);
    }
    engine_handover_fini(&ho);
    return rc;
}

/* ---- invites ---- */

static void
engine_own_card(struct engine *e, struct contact_card *card)
{
    memset(card, 0, sizeof *card);
    snprintf(card->name, sizeof card->name, "%s", e->name);
    if (e->publish[0] != '\0' && frame_valid_endpoint(e->publish, strlen(e->publish), false)) {
        snprintf(card->endpoints[0], sizeof card->endpoints[0], "%s", e->publish);
        card->n_endpoints = 1;
    }
}

int
engine_invite(struct engine *e, uint32_t ttl_s, char code[ENGINE_INVITE_BUF])
{
    return engine_invite_for(e, ttl_s, NULL, code);
}

int
engine_invite_for(struct engine *e, uint32_t ttl_s, const uint8_t *circle_id,
                  char code[ENGINE_INVITE_BUF])
{
    struct store_invite si;
    struct invite inv;
    uint32_t now = (uint32_t)(engine_now_ms() / 1000);
    int rc;

    code[0] = '\0';
    if (ttl_s == 0) {
        ttl_s = KITH_INVITE_TTL_DEFAULT;
    }
    if (ttl_s > KITH_INVITE_TTL_MAX) {
        return KITH_EINVAL;
    }
    memset(&si, 0, sizeof si);
    do {
        si.invite_id = randombytes_random();
    } while (si.invite_id == 0 || si.invite_id == 0xFFFFFFFFu);
    randombytes_buf(si.inv_sk, sizeof si.inv_sk);
    crypto_scalarmult_base(si.inv_pk, si.inv_sk);
    randombytes_buf(si.secret, sizeof si.secret);
    si.expires_at = now + ttl_s;
    si.state = STORE_INVITE_ISSUED;

    memset(&inv, 0, sizeof inv);
    inv.version = 1;
    inv.from = *identity_public(e->id);
    memcpy(inv.inv_pk, si.inv_pk, 32);
    inv.invite_id = si.invite_id;
    memcpy(inv.secret, si.secret, 32);
    inv.expires_at = si.expires_at;
    if (circle_id != NULL) {
        inv.flags = INVITE_FLAG_CIRCLE;
        memcpy(inv.circle_id, circle_id, 16);
    }
    snprintf(inv.name, sizeof inv.name, "%s", e->name);
    if (frame_valid_endpoint(e->publish, strlen(e->publish), false)) {
        snprintf(inv.endpoints[0], sizeof inv.endpoints[0], "%s", e->publish);
        inv.n_endpoints = 1;
    }
    rc = invite_encode(&inv, e->id, code, ENGINE_INVITE_BUF);
    if (rc == KITH_OK) {
        rc = store_invite_add(e->st, &si);
    }
    if (rc == KITH_OK && circle_id != NULL) {
        rc = store_invite_set_circle(e->st, si.invite_id, circle_id);
    }
    if (rc == KITH_OK) {
        e->open_invites++;
        e->invites_checked_ms = engine_now_ms();
    } else {
        code[0] = '\0';
    }
    sodium_memzero(&si, sizeof si);
    sodium_memzero(&inv, sizeof inv);
    return rc;
}

int
engine_accept(struct engine *e, const char *code, const char *as_name,
              char name_out[ENGINE_NAME_BUF])
{
    struct invite inv;
    struct store_contact c;
    struct store_contact existing;
    struct session *s = NULL;
    struct envelope env;
    struct contact_card card;
    uint8_t card_buf[512];
    size_t card_len = 0;
    uint8_t msg_id[16];
    int rc;

    name_out[0] = '\0';
    rc = invite_decode(code, (uint32_t)(engine_now_ms() / 1000), &inv);
    if (rc != KITH_OK) {
        return rc;
    }
    if (memcmp(inv.from.ik, identity_public(e->id)->ik, 32) == 0) {
        rc = KITH_EINVAL; /* our own invite */
        goto out;
    }
    if (inv.flags & INVITE_FLAG_CIRCLE) {
        /* core/engine_circle_recv.c: KITH_EAGAIN means "now accept it as a contact too". */
        rc = engine_circle_accept(e, &inv, name_out);
        if (rc != KITH_EAGAIN) {
            goto out;
        }
    }
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", as_name != NULL ? as_name : inv.name);
    if (!frame_valid_name(c.name, strlen(c.name))) {
        rc = KITH_EINVAL;
        goto out;
    }
    c.pub = inv.from;
    identity_member_id(inv.from.ik, c.member_id);
    if (store_contact_by_member(e->st, c.member_id, &existing) == KITH_OK) {
        rc = KITH_EEXISTS;
        goto out;
    }
    c.n_endpoints = inv.n_endpoints > STORE_ENDPOINTS_MAX ? STORE_ENDPOINTS_MAX : inv.n_endpoints;
    for (uint8_t i = 0; i < c.n_endpoints; i++) {
        snprintf(c.endpoints[i], sizeof c.endpoints[i], "%s", inv.endpoints[i]);
    }
    c.state = STORE_CONTACT_PENDING;
    c.created_at = engine_now_ms() / 1000;
    rc = session_initiate(e->id, &inv.from, inv.inv_pk, inv.invite_id, inv.secret, &s);
    if (rc != KITH_OK) {
        goto out;
    }
    rc = store_begin(e->st);
    if (rc != KITH_OK) {
        goto out;
    }
    rc = store_contact_add(e->st, &c);
    if (rc == KITH_OK) {
        rc = store_session_save(e->st, c.id, s);
    }
    if (rc == KITH_OK) {
        rc = store_commit(e->st);
    } else {
        store_rollback(e->st);
    }
    if (rc != KITH_OK) {
        goto out;
    }
    engine_own_card(e, &card);
    rc = card_encode(&card, card_buf, sizeof card_buf, &card_len);
    if (rc != KITH_OK) {
        goto out;
    }
    memset(&env, 0, sizeof env);
    env.type = ENVELOPE_CONTACT_CARD;
    env.version = 1;
    env.payload = card_buf;
    env.payload_len = (uint32_t)card_len;
    rc = engine_seal_and_queue(e, &c, &env, NULL, msg_id);
    if (rc != KITH_OK) {
        goto out;
    }
    snprintf(name_out, ENGINE_NAME_BUF, "%s", c.name);
    rc = engine_reload_peers(e);
    engine_emit(e, ENGINE_EV_CONTACT, c.name, NULL);
    engine_flush(e, c.id);
out:
    session_destroy(s);
    sodium_memzero(&inv, sizeof inv);
    return rc;
}

/* ---- queries ---- */

int
engine_me(struct engine *e, struct engine_me *me)
{
    memset(me, 0, sizeof *me);
    snprintf(me->name, sizeof me->name, "%s", e->name);
    identity_fingerprint(identity_public(e->id)->ik, me->fingerprint);
    if (strcmp(e->publish, e->listen) != 0) {
        snprintf(me->endpoint, sizeof me->endpoint, "%s", e->publish); /* e.g. an onion service */
    } else if (strcmp(e->listen, "none") != 0) { /* "none": we publish no address */
        snprintf(me->endpoint, sizeof me->endpoint, "%s",
                 e->tp != NULL ? transport_endpoint(e->tp) : e->listen);
    }
    me->online = e->started;
    return KITH_OK;
}

static void
engine_fill_contact(struct engine *e, const struct store_contact *sc, struct engine_contact *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", sc->name);
    identity_fingerprint(sc->pub.ik, c->fingerprint);
    identity_safety_number(identity_public(e->id)->ik, sc->pub.ik, c->safety);
    c->online = e->tp != NULL && transport_peer_reachable(e->tp, sc->member_id);
    c->verified = sc->verified;
    c->pending = sc->state == STORE_CONTACT_PENDING;
    c->trust = sc->trust;
    engine_boundary_names(e, sc->id, c->boundaries, sizeof c->boundaries);
    for (uint8_t i = 0; i < sc->n_endpoints && i < 4; i++) {
        snprintf(c->endpoints[c->n_endpoints++], sizeof c->endpoints[0], "%s", sc->endpoints[i]);
    }
}

int
engine_contacts(struct engine *e, struct engine_contact **out, size_t *n)
{
    struct store_contact *cs = NULL;
    size_t count = 0;
    int rc = store_contacts_list(e->st, &cs, &count);

    *out = NULL;
    *n = 0;
    if (rc != KITH_OK) {
        return rc;
    }
    *out = xcalloc(count, sizeof **out);
    for (size_t i = 0; i < count; i++) {
        engine_fill_contact(e, &cs[i], &(*out)[i]);
    }
    *n = count;
    sodium_memzero(cs, count * sizeof *cs);
    free(cs);
    return KITH_OK;
}

int
engine_contact(struct engine *e, const char *name, struct engine_contact *c)
{
    struct store_contact sc;
    int rc = store_contact_by_name(e->st, name, &sc);

    if (rc == KITH_OK) {
        engine_fill_contact(e, &sc, c);
    }
    return rc;
}

int
engine_rename(struct engine *e, const char *name, const char *new_name)
{
    struct store_contact sc;
    int rc;

    if (!frame_valid_name(new_name, strlen(new_name))) {
        return KITH_EINVAL;
    }
    rc = store_contact_by_name(e->st, name, &sc);
    if (rc != KITH_OK) {
        return rc;
    }
    snprintf(sc.name, sizeof sc.name, "%s", new_name);
    rc = store_contact_update(e->st, &sc);
    if (rc == KITH_OK) {
        rc = engine_reload_peers(e);
    }
    return rc;
}

int
engine_set_verified(struct engine *e, const char *name, bool verified)
{
    struct store_contact sc;
    int rc = store_contact_by_name(e->st, name, &sc);

    if (rc != KITH_OK) {
        return rc;
    }
    sc.verified = verified;
    return store_contact_update(e->st, &sc);
}

static const char *
engine_state_name(int state)
{
    static const char *const names[] = { "queued", "sent", "delivered", "received",
                                         "held", "folded", "awaiting_consent", "expired" };
    if (state < 0 || (size_t)state >= sizeof names / sizeof names[0]) {
        return "unknown";
    }
    return names[state];
}

int
engine_history(struct engine *e, const char *target, size_t limit, uint64_t before_lamport,
               struct engine_msg **out, size_t *n)
{
    struct store_contact c;
    struct store_msg *ms = NULL;
    size_t count = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (target[0] == '#') {
        return engine_circle_history(e, target, limit, before_lamport, out, n);
    }
    rc = store_contact_by_name(e->st, target, &c);
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_msg_log(e->st, c.id, limit, before_lamport, &ms, &count);
    if (rc != KITH_OK) {
        return rc;
    }
    *out = xcalloc(count, sizeof **out);
    for (size_t i = 0; i < count; i++) {
        struct engine_msg *m = &(*out)[i];
        kcrypt_hex(m->id, ms[i].msg_id, 16);
        snprintf(m->from, sizeof m->from, "%s", ms[i].outgoing ? e->name : c.name);
        m->outgoing = ms[i].outgoing;
        m->text = ms[i].text;
        ms[i].text = NULL;
        m->ts_ms = ms[i].ts_ms;
        m->lamport = ms[i].lamport;
        m->state = engine_state_name(ms[i].state);
        m->release_at = ms[i].release_at;
        engine_boundary_describe(&ms[i], m);
        m->delete_at = engine_retention_delete_at(e, ms[i].msg_id);
    }
    *n = count;
    store_msgs_free(ms, count);
    return KITH_OK;
}

void
engine_msgs_free(struct engine_msg *m, size_t n)
{
    if (m == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (m[i].text != NULL) {
            sodium_memzero(m[i].text, strlen(m[i].text));
            free(m[i].text);
        }
    }
    free(m);
}

static int
engine_parse_id(const char *hex, uint8_t id[16])
{
    size_t bin_len = 0;

    if (strlen(hex) != 32 ||
        sodium_hex2bin(id, 16, hex, 32, NULL, &bin_len, NULL) != 0 || bin_len != 16) {
        return KITH_EINVAL;
    }
    return KITH_OK;
}

int
engine_msg_state(struct engine *e, const char *id_hex, const char **state)
{
    uint8_t id[16];
    struct store_msg m;
    int rc = engine_parse_id(id_hex, id);

    *state = NULL;
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_msg_get(e->st, id, &m);
    if (rc == KITH_OK) {
        *state = engine_state_name(m.state);
        store_msg_free(&m);
    } else if (rc == KITH_ENOTFOUND) {
        rc = engine_circle_msg_state(e, id, state); /* a circle message */
    }
    return rc;
}

int
engine_status(struct engine *e, struct engine_status *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < e->npeers; i++) {
        if (e->tp != NULL && transport_peer_reachable(e->tp, e->peers[i].member_id)) {
            s->contacts_online++;
        }
    }
    s->rejected = e->rejected;
    return store_msg_counts(e->st, &s->queued, &s->held);
}

int
engine_check_passphrase(struct engine *e, const char *pass, size_t pass_len)
{
    char db[ENGINE_PATH_MAX + 16];
    struct store *probe = NULL;
    int rc = engine_path(db, sizeof db, e->home, "kith.db");

    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_open(db, pass, pass_len, &probe);
    store_close(probe);
    return rc;
}

static bool
engine_config_key_ok(const char *key)
{
    return strcmp(key, "listen") == 0 || strcmp(key, "socks5") == 0 || strcmp(key, "notify") == 0 ||
           strcmp(key, "advertise") == 0 ||
           engine_config_is_personal(key);
}

int
engine_config_get(struct engine *e, const char *key, char **value)
{
    *value = NULL;
    if (!engine_config_key_ok(key)) {
        return KITH_EINVAL;
    }
    return store_setting_get(e->st, key, value);
}

int
engine_config_set(struct engine *e, const char *key, const char *value)
{
    char resolved[ENGINE_ENDPOINT_BUF];

    if (engine_config_is_personal(key)) {
        return engine_config_set_personal(e, key, value); /* core/engine_profile.c */
    }
    if (!engine_config_key_ok(key) || value == NULL || strlen(value) >= ENGINE_ENDPOINT_BUF) {
        return KITH_EINVAL;
    }
    if (strcmp(key, "notify") == 0) { /* read by the client (tui/notify.h) at each arrival */
        if (strcmp(value, "bell") != 0 && strcmp(value, "desktop") != 0 &&
            strcmp(value, "both") != 0 && strcmp(value, "off") != 0) {
            return KITH_EINVAL;
        }
        return store_setting_set(e->st, key, value);
    }
    if (strcmp(key, "advertise") == 0) { /* used from the next start */
        if (strcmp(value, "off") != 0 && !frame_valid_endpoint(value, strlen(value), false)) {
            return KITH_EINVAL;
        }
        return store_setting_set(e->st, key, value);
    }
    if (strcmp(key, "listen") == 0) {
        int rc = engine_resolve_listen(value, resolved);
        if (rc != KITH_OK) {
            return rc;
        }
        value = resolved;
    } else if (strcmp(value, "off") != 0) {
        const char *colon = strrchr(value, ':');
        long port = colon != NULL ? strtol(colon + 1, NULL, 10) : 0;
        if (colon == NULL || colon == value || port < 1 || port > 65535) {
            return KITH_EINVAL;
        }
    }
    return store_setting_set(e->st, key, value);
}
