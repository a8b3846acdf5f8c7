/*
 * engine_send: seal once, commit, then send — sealing one envelope (or a chunk of texts) with
 * the advanced session and the outbox row in one transaction, handing the just-committed
 * frames to the network, and retrying due outbox rows with backoff (engine_flush).
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

/* How long a refused frame waits. With a live connection the peer's send queue is full
 * (backpressure): soon again. Without one the peer is away: their coming up wakes the row,
 * and meanwhile circle members may carry it (engine_relay_offer). */
static bool
engine_peer_live(const struct engine *e, const struct engine_peer *p)
{
    return p != NULL && transport_peer_reachable(e->tp, p->member_id);
}

static int64_t
engine_refused_wait_ms(const struct engine *e, const struct engine_peer *p)
{
    return engine_peer_live(e, p) ? KITH_BACKPRESSURE_MS : KITH_AWAY_WAIT_MS;
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
        KITH_IGNORE(store_msg_texts_follow(e->st, r->msg_id, STORE_MSG_EXPIRED, 0, 0));
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
            if (r->attempts == 0 && store_msg_mark_sent(e->st, r->msg_id) == KITH_OK) {
                KITH_IGNORE(store_msg_texts_follow(e->st, r->msg_id, STORE_MSG_SENT, 0, 0));
                engine_emit(e, ENGINE_EV_STATE, p->name, r->msg_id);
            }
        } else {
            /* No live path: the peer coming up wakes these rows at once. Meanwhile members
             * of a circle we share with them may carry it (store-and-forward). A full queue
             * to a live peer is tried again shortly. */
            if (p != NULL && !engine_peer_live(e, p)) {
                engine_relay_offer(e, p, r->frame, r->frame_len);
            }
            if (!skip && nblocked < 64) {
                blocked[nblocked++] = r->contact_id;
            }
            KITH_IGNORE(store_outbox_reschedule(e->st, r->msg_id, r->attempts,
                                                now + engine_refused_wait_ms(e, p)));
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
    int64_t wait_ms; /* refused: how long it waits (engine_refused_wait_ms) */
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
        h->wait_ms = engine_refused_wait_ms(e, p);
        if (p != NULL && h->wait_ms != KITH_BACKPRESSURE_MS) {
            engine_relay_offer(e, p, h->frame, h->len);
        }
    }
}

/* Keep what the hand-over changed for the next transaction (engine_notes_apply). */
static void
engine_handover_defer(struct engine *e, int64_t contact_id, struct engine_handover *ho)
{
    if (ho->n > 0 && e->nnotes == 0) {
        e->notes_since_ms = engine_now_ms();
    }
    for (size_t i = 0; i < ho->n; i++) {
        struct engine_note *nt;
        if (e->nnotes == e->notes_cap) {
            e->notes_cap = e->notes_cap == 0 ? 16 : e->notes_cap * 2;
            e->notes = xrealloc(e->notes, e->notes_cap * sizeof *e->notes);
        }
        nt = &e->notes[e->nnotes++];
        nt->contact_id = contact_id;
        memcpy(nt->msg_id, ho->v[i].msg_id, 16);
        nt->sent = ho->v[i].sent;
        nt->history = ho->v[i].history;
        nt->wait_ms = ho->v[i].wait_ms;
    }
    engine_handover_clear(ho);
}

void
engine_notes_apply(struct engine *e)
{
    int64_t now = engine_now_ms();

    for (size_t i = 0; i < e->nnotes; i++) {
        const struct engine_note *nt = &e->notes[i];
        struct engine_peer *p;
        if (!nt->sent) {
            KITH_IGNORE(store_outbox_reschedule(e->st, nt->msg_id, 0, now + nt->wait_ms));
        } else if (nt->history && store_msg_mark_sent(e->st, nt->msg_id) == KITH_OK) {
            KITH_IGNORE(store_msg_texts_follow(e->st, nt->msg_id, STORE_MSG_SENT, 0, 0));
            if ((p = engine_peer_by_contact(e, nt->contact_id)) != NULL) {
                engine_emit(e, ENGINE_EV_STATE, p->name, nt->msg_id);
            }
        }
    }
    e->nnotes = 0;
}

void
engine_notes_forget(struct engine *e, const uint8_t msg_id[16])
{
    for (size_t i = e->nnotes; i > 0; i--) {
        if (memcmp(e->notes[i - 1].msg_id, msg_id, 16) == 0) {
            /* keep the order of the rest: they are written in the order they were sent */
            memmove(&e->notes[i - 1], &e->notes[i], (e->nnotes - i) * sizeof *e->notes);
            e->nnotes--;
            return;
        }
    }
}

int64_t
engine_notes_next_ms(const struct engine *e)
{
    int64_t left;

    if (e->nnotes == 0) {
        return -1;
    }
    left = e->notes_since_ms + KITH_NOTE_DELAY_MS - engine_now_ms();
    return left > 0 ? left : 0;
}

/* Retry bookkeeping only: no fsync; if it is lost, a row stays "queued" until its
 * acknowledgement makes it "delivered". */
void
engine_notes_flush(struct engine *e, bool force)
{
    if (e->nnotes == 0 || (!force && engine_notes_next_ms(e) > 0)) {
        return;
    }
    switch (store_begin_relaxed(e->st)) {
    case KITH_OK:
        engine_notes_apply(e);
        if (store_commit(e->st) != KITH_OK) {
            store_rollback(e->st);
        }
        break;
    case KITH_ESTATE: /* a transaction is open: they go with it */
        engine_notes_apply(e);
        break;
    default:
        break; /* kept for the next transaction */
    }
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

/* The other texts of a TEXTS envelope (env->payload), stored as history rows beside the
 * first (m), which holds the frame. */
struct engine_texts {
    const char *const *texts; /* texts[0] is m's */
    size_t n;
};

/* Inside an open transaction: seal one envelope for a contact with session
 * s (advanced in memory), and write the outbox row (and the history row
 * when m != NULL). The caller saves s and commits. With ho, the frame is
 * kept for a hand-over after the COMMIT (engine_handover_send). With tx, env
 * is a TEXTS envelope and m its first text. */
static int
engine_seal_into(struct engine *e, const struct store_contact *c, struct session *s,
                 struct envelope *env, struct store_msg *m, uint8_t msg_id[16],
                 struct engine_handover *ho, const struct engine_texts *tx)
{
    uint8_t *plain = NULL;
    uint8_t *body = NULL;
    uint8_t *wire = NULL;
    struct frame f;
    uint8_t ad[FRAME_AD_BYTES];
    uint8_t ack_key[32];
    bool has_ack;
    size_t plain_len = 0;
    size_t body_len = 0;
    size_t wire_len = 0;
    size_t hdr = 0;
    size_t cap;
    uint64_t seq = 0;
    uint64_t lamport = 0;
    int64_t now = engine_now_ms();
    int rc;
    size_t ticks = tx != NULL ? tx->n : 1; /* Lamport ticks and sequence numbers it takes */

    if (tx != NULL && (ho == NULL || ho->left < ticks || m == NULL)) {
        return KITH_EINVAL; /* texts are sealed together only in a chunk's reserved ticks */
    }
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
    f.expires_at = (uint32_t)(now / 1000 + KITH_FRAME_EXPIRY);
    /* The id starts with the frame's expiry second (already in clear in the header), then
     * 12 random bytes: ids sealed together sit together in every index that holds them. */
    for (int byte = 0; byte < 4; byte++) {
        msg_id[byte] = (uint8_t)(f.expires_at >> (24 - 8 * byte));
    }
    randombytes_buf(msg_id + 4, 12);
    if (tx != NULL) {
        msg_id[15] = 0; /* text i of the frame is msg_id with last byte i */
    }
    memcpy(f.msg_id, msg_id, 16);
    memcpy(f.route, c->member_id, 16);
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
    /* The acknowledgement key lets the receiver confirm it with a FRAME_ACK. */
    has_ack = session_take_ack_key(s, ack_key) == KITH_OK;
    if (m != NULL) {
        /* A history message: its row holds the frame until it is acknowledged. */
        struct store_msg_frame mf = {
            .frame = wire,
            .len = wire_len,
            .attempts = ho != NULL ? 1 : 0,
            .next_at_ms = ho != NULL ? now + engine_backoff_ms(1) : now,
            .ack_key = has_ack ? ack_key : NULL,
        };
        memcpy(m->msg_id, msg_id, 16);
        m->contact_id = c->id;
        m->outgoing = true;
        m->lamport = lamport;
        m->sender_seq = seq;
        m->ts_ms = now;
        m->state = STORE_MSG_QUEUED;
        rc = store_msg_add_queued(e->st, m, &mf);
        for (size_t i = 1; tx != NULL && i < tx->n && rc == KITH_OK; i++) {
            struct store_msg mi = *m; /* the frame waits in the first text's row only */
            envelope_texts_id(msg_id, i, mi.msg_id);
            mi.lamport = lamport + i;
            mi.sender_seq = seq + i;
            mi.text = (char *)tx->texts[i];
            mi.text_len = strlen(tx->texts[i]);
            rc = store_msg_add(e->st, &mi);
        }
        if (rc == KITH_OK) { /* disappearing messages */
            rc = engine_retention_stamp_texts(e, c->id, msg_id, ticks);
        }
    } else {
        rc = store_outbox_add_at(e->st, msg_id, c->id, wire, wire_len, ho != NULL ? 1 : 0,
                                 ho != NULL ? now + engine_backoff_ms(1) : now,
                                 has_ack ? ack_key : NULL);
    }
    sodium_memzero(ack_key, sizeof ack_key);
    if (rc == KITH_OK && ho != NULL && ho->left > 0) {
        ho->left -= ticks;
        ho->lamport += ticks;
        ho->seq = seq + ticks;
        /* engine_handover_counters writes it for the chunk: the frame's last text */
        if (tx != NULL) {
            envelope_texts_id(msg_id, ticks - 1, ho->prev);
        } else {
            memcpy(ho->prev, msg_id, 16);
        }
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
    return engine_seal_into(e, c, s, env, m, msg_id, NULL, NULL);
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
    engine_notes_apply(e); /* the previous sends' hand-overs */
    engine_txn_init(&t);
    s = engine_txn_session(e, &t, c->id); /* from the session cache when it is current */
    rc = s != NULL ? engine_seal_into(e, c, s, env, m, msg_id, ho, NULL) : KITH_ENOTFOUND;
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

/* How many of the texts from tx->texts on (at most left) go in one frame: up to
 * KITH_TEXTS_MAX whose TEXTS payload fits one envelope. Two or more: env becomes that
 * TEXTS envelope (its payload malloc'd; engine_texts_done frees it). */
static size_t
engine_texts_take(const struct engine_texts *tx, size_t left, struct envelope *env)
{
    size_t n = 0;
    size_t len = 1;
    uint8_t *payload;
    uint8_t *p;
    uint16_t eflags = env->flags;

    while (n < left && n < KITH_TEXTS_MAX) {
        size_t add = ENVELOPE_TEXTS_ITEM_BYTES + strlen(tx->texts[n]);
        if (len + add > ENVELOPE_PAYLOAD_MAX) {
            break;
        }
        len += add;
        n++;
    }
    if (n < 2) {
        return 1;
    }
    payload = xmalloc(len);
    p = payload;
    *p++ = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        size_t tl = strlen(tx->texts[i]);
        p[0] = (uint8_t)(eflags >> 8);
        p[1] = (uint8_t)eflags;
        p[2] = (uint8_t)(tl >> 8);
        p[3] = (uint8_t)tl;
        memcpy(p + ENVELOPE_TEXTS_ITEM_BYTES, tx->texts[i], tl);
        p += ENVELOPE_TEXTS_ITEM_BYTES + tl;
    }
    env->type = ENVELOPE_TEXTS;
    env->payload = payload;
    env->payload_len = (uint32_t)len;
    return n;
}

static void
engine_texts_done(struct envelope *env)
{
    if (env->type == ENVELOPE_TEXTS) {
        sodium_memzero((void *)env->payload, env->payload_len);
        free((void *)env->payload);
        env->payload = NULL;
    }
}

int
engine_send_batch(struct engine *e, const char *target, const char *const *texts, size_t n,
                  unsigned flags, char (*ids)[ENGINE_ID_HEX])
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
    for (size_t i = 0; ids != NULL && i < n; i++) {
        ids[i][0] = '\0';
    }
    if (target[0] == '#') {
        char id[ENGINE_ID_HEX];
        for (size_t i = 0; i < n; i++) {
            rc = engine_circle_send_text(e, target, texts[i], ids != NULL ? ids[i] : id);
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
    /* Group commit: up to KITH_SEND_CHUNK messages per transaction, each chunk handed to
     * the network after its COMMIT, up to KITH_TEXTS_MAX texts per frame. What a hand-over
     * changed waits as notes (engine_notes_apply): an acknowledgement makes most of them
     * moot, and the loop writes the rest within KITH_NOTE_DELAY_MS. */
    memset(&ho, 0, sizeof ho);
    while (done < n && rc == KITH_OK) {
        size_t chunk = n - done < KITH_SEND_CHUNK ? n - done : KITH_SEND_CHUNK;
        rc = store_begin(e->st);
        if (rc != KITH_OK) {
            break;
        }
        if (hop != NULL) {
            engine_handover_defer(e, c.id, hop); /* the previous chunk's */
        }
        engine_txn_init(&t);
        s = engine_txn_session(e, &t, c.id);
        rc = s != NULL ? KITH_OK : KITH_ENOTFOUND;
        if (rc == KITH_OK && hop != NULL) {
            rc = engine_handover_counters(e, c.id, hop, chunk, true);
        }
        for (size_t i = 0; i < chunk && rc == KITH_OK;) {
            struct envelope env;
            struct store_msg m;
            uint8_t msg_id[16];
            struct engine_texts tx = { texts + done + i, 0 };
            engine_text_envelope(&env, &m, texts[done + i], flags);
            tx.n = hop != NULL ? engine_texts_take(&tx, chunk - i, &env) : 1;
            rc = engine_seal_into(e, &c, s, &env, &m, msg_id, hop, tx.n > 1 ? &tx : NULL);
            engine_texts_done(&env);
            for (size_t k = 0; rc == KITH_OK && ids != NULL && k < tx.n; k++) {
                uint8_t id[16];
                memcpy(id, msg_id, 16);
                if (tx.n > 1) {
                    envelope_texts_id(msg_id, k, id);
                }
                kcrypt_hex(ids[done + i + k], id, 16);
            }
            i += tx.n;
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
            for (size_t k = 0; ids != NULL && k < chunk; k++) {
                ids[done + k][0] = '\0'; /* not stored: no id */
            }
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
            if (done == 0) {
                engine_flush(e, c.id); /* older rows that are due go first, once */
            }
            done += chunk;
            if (hop != NULL) {
                engine_handover_send(e, c.id, hop);
            }
        }
    }
    if (hop != NULL) {
        engine_handover_defer(e, c.id, hop); /* the last chunk's */
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
        engine_handover_defer(e, c.id, &ho); /* written with the acknowledgement, mostly */
    }
    engine_handover_fini(&ho);
    return rc;
}
