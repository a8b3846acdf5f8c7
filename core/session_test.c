/*
 * session tests: the X3DH handshake (with and without PSK), the header-
 * encrypted Double Ratchet, and the rule that every failed call leaves the
 * serialised state byte-identical.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/limits.h"
#include "core/session.h"

#define NOW     1700000000u
#define DAY     (24u * 3600u)
#define MSG_CAP 512

static const uint8_t test_ad[6] = { 'f', 'r', 'a', 'm', 'e', 1 };

struct pair {
    struct identity *a;
    struct identity *b;
    uint8_t spk_sk[32];
    uint8_t spk_pk[32];
    struct session *sa; /* initiator */
    struct session *sb; /* responder */
};

struct msg {
    uint8_t body[MSG_CAP + SESSION_MSG_OVERHEAD];
    size_t len;
    uint8_t pt[MSG_CAP];
    size_t pt_len;
};

struct snapshot {
    uint8_t *bytes;
    size_t len;
};

static void
snapshot_take(const struct session *s, struct snapshot *snap)
{
    session_serialize(s, &snap->bytes, &snap->len);
}

static void
snapshot_assert_same(const struct session *s, struct snapshot *snap)
{
    uint8_t *now = NULL;
    size_t now_len = 0;

    session_serialize(s, &now, &now_len);
    assert_int_equal(now_len, snap->len);
    assert_memory_equal(now, snap->bytes, now_len);
    sodium_memzero(now, now_len);
    free(now);
}

static void
snapshot_free(struct snapshot *snap)
{
    sodium_memzero(snap->bytes, snap->len);
    free(snap->bytes);
    snap->bytes = NULL;
}

static void
make_msg(struct session *from, struct msg *m, size_t pt_len)
{
    m->pt_len = pt_len;
    randombytes_buf(m->pt, pt_len);
    assert_int_equal(session_encrypt(from, test_ad, sizeof test_ad, m->pt, pt_len, m->body,
                                     sizeof m->body, &m->len),
                     KITH_OK);
    assert_int_equal(m->len, pt_len + SESSION_MSG_OVERHEAD);
}

static int
try_recv(struct session *to, const struct msg *m, uint64_t now_s)
{
    uint8_t out[MSG_CAP];
    size_t out_len = 99;
    int rc = session_decrypt(to, test_ad, sizeof test_ad, m->body, m->len, now_s, out, sizeof out,
                             &out_len);

    if (rc == KITH_OK) {
        assert_int_equal(out_len, m->pt_len);
        assert_memory_equal(out, m->pt, m->pt_len);
    } else {
        assert_int_equal(out_len, 0);
    }
    return rc;
}

static void
recv_ok(struct session *to, const struct msg *m)
{
    assert_int_equal(try_recv(to, m, NOW), KITH_OK);
}

/* Initiate from a to b and deliver a's first message; returns that decrypt's rc. */
static int
pair_open(struct pair *p, const uint8_t *psk_a, const uint8_t *psk_b)
{
    struct identity_public peer;
    struct msg first;
    uint8_t ek[32];
    int rc;

    memset(p, 0, sizeof *p);
    p->a = identity_generate(NOW);
    p->b = identity_generate(NOW);
    randombytes_buf(p->spk_sk, 32);
    crypto_scalarmult_base(p->spk_pk, p->spk_sk);
    assert_int_equal(session_initiate(p->a, identity_public(p->b), p->spk_pk, 7, psk_a, &p->sa),
                     KITH_OK);
    assert_int_equal(session_get_state(p->sa), SESSION_AWAIT_REPLY);
    assert_non_null(session_init_header(p->sa));
    assert_int_equal(session_respond(p->b, p->spk_sk, p->spk_pk, psk_b, session_init_header(p->sa),
                                     SESSION_INIT_HEADER_BYTES, &peer, ek, &p->sb),
                     KITH_OK);
    assert_memory_equal(&peer, identity_public(p->a), sizeof peer);
    assert_int_equal(session_get_state(p->sb), SESSION_ESTABLISHED);
    make_msg(p->sa, &first, 40);
    rc = try_recv(p->sb, &first, NOW);
    return rc;
}

static void
pair_close(struct pair *p)
{
    session_destroy(p->sa);
    session_destroy(p->sb);
    identity_destroy(p->a);
    identity_destroy(p->b);
    sodium_memzero(p, sizeof *p);
}

static void
pair_open_established(struct pair *p)
{
    struct msg reply;

    assert_int_equal(pair_open(p, NULL, NULL), KITH_OK);
    make_msg(p->sb, &reply, 10);
    recv_ok(p->sa, &reply);
    assert_int_equal(session_get_state(p->sa), SESSION_ESTABLISHED);
}

static void
handshake__establishes__both_ways_without_psk(void **state)
{
    struct pair p;
    struct msg m;

    assert_int_equal(pair_open(&p, NULL, NULL), KITH_OK);
    assert_memory_equal(session_peer_ik(p.sa), identity_public(p.b)->ik, 32);
    assert_memory_equal(session_peer_ik(p.sb), identity_public(p.a)->ik, 32);
    make_msg(p.sb, &m, 0);
    recv_ok(p.sa, &m);
    make_msg(p.sa, &m, 100);
    recv_ok(p.sb, &m);
    pair_close(&p);
    /* and with the roles of the two people swapped (a fresh pair each time) */
    assert_int_equal(pair_open(&p, NULL, NULL), KITH_OK);
    make_msg(p.sb, &m, 1);
    recv_ok(p.sa, &m);
    pair_close(&p);
}

static void
handshake__needs__the_same_psk_on_both_sides(void **state)
{
    uint8_t psk[32], other[32];
    struct pair p;
    struct msg m;

    randombytes_buf(psk, sizeof psk);
    memcpy(other, psk, sizeof other);
    other[31] ^= 1;
    assert_int_equal(pair_open(&p, psk, psk), KITH_OK);
    make_msg(p.sb, &m, 5);
    recv_ok(p.sa, &m);
    pair_close(&p);
    assert_int_equal(pair_open(&p, psk, other), KITH_ECRYPTO);
    pair_close(&p);
    assert_int_equal(pair_open(&p, psk, NULL), KITH_ECRYPTO);
    pair_close(&p);
    assert_int_equal(pair_open(&p, NULL, psk), KITH_ECRYPTO);
    pair_close(&p);
}

static void
await_reply__becomes__established_on_first_reply(void **state)
{
    struct pair p;
    struct msg m, reply;
    uint8_t header[SESSION_INIT_HEADER_BYTES];

    assert_int_equal(pair_open(&p, NULL, NULL), KITH_OK);
    memcpy(header, session_init_header(p.sa), sizeof header);
    make_msg(p.sa, &m, 3); /* still prepending the same init header */
    assert_int_equal(session_get_state(p.sa), SESSION_AWAIT_REPLY);
    assert_memory_equal(session_init_header(p.sa), header, sizeof header);
    recv_ok(p.sb, &m);
    /* The responder cannot speak first... */
    make_msg(p.sb, &reply, 8);
    /* ...and a failed decrypt does not establish the initiator. */
    reply.body[SESSION_MSG_OVERHEAD - 1] ^= 1;
    assert_int_equal(try_recv(p.sa, &reply, NOW), KITH_ECRYPTO);
    assert_int_equal(session_get_state(p.sa), SESSION_AWAIT_REPLY);
    reply.body[SESSION_MSG_OVERHEAD - 1] ^= 1;
    recv_ok(p.sa, &reply);
    assert_int_equal(session_get_state(p.sa), SESSION_ESTABLISHED);
    assert_null(session_init_header(p.sa));
    pair_close(&p);
}

static void
encrypt__refuses__responder_before_first_message_and_small_buffers(void **state)
{
    struct pair p;
    struct identity_public peer;
    struct session *sb = NULL;
    uint8_t ek[32], pt[4] = { 1, 2, 3, 4 }, out[SESSION_MSG_OVERHEAD + 4];
    size_t out_len = 1;

    assert_int_equal(pair_open(&p, NULL, NULL), KITH_OK);
    assert_int_equal(session_respond(p.b, p.spk_sk, p.spk_pk, NULL, session_init_header(p.sa),
                                     SESSION_INIT_HEADER_BYTES, &peer, ek, &sb),
                     KITH_OK);
    assert_int_equal(session_encrypt(sb, NULL, 0, pt, sizeof pt, out, sizeof out, &out_len),
                     KITH_ESTATE);
    assert_int_equal(out_len, 0);
    assert_int_equal(session_encrypt(p.sa, NULL, 0, pt, sizeof pt, out, sizeof out - 1, &out_len),
                     KITH_ETOOBIG);
    assert_int_equal(session_encrypt(p.sa, NULL, 0, pt, sizeof pt, out, sizeof out, &out_len),
                     KITH_OK);
    assert_int_equal(out_len, sizeof out);
    session_destroy(sb);
    pair_close(&p);
}

static void
messages__flow__200_alternating_directions(void **state)
{
    struct pair p;
    struct msg m;

    pair_open_established(&p);
    for (int i = 0; i < 200; i++) {
        bool a_to_b = (i % 3) != 2; /* runs of two, then a turn */
        make_msg(a_to_b ? p.sa : p.sb, &m, (size_t)randombytes_uniform(MSG_CAP));
        recv_ok(a_to_b ? p.sb : p.sa, &m);
    }
    pair_close(&p);
}

static void
shuffle(size_t *order, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = randombytes_uniform((uint32_t)(i + 1));
        size_t t = order[i];

        order[i] = order[j];
        order[j] = t;
    }
}

static void
messages__arrive__in_any_order_across_ratchet_steps(void **state)
{
    enum { BATCH = 40 };
    static struct msg ms[3 * BATCH];
    size_t order[3 * BATCH];
    struct pair p;
    struct msg turn;

    pair_open_established(&p);
    /* three sending chains from a (b speaks between them), delivered shuffled */
    for (int chain = 0; chain < 3; chain++) {
        for (int i = 0; i < BATCH; i++) {
            make_msg(p.sa, &ms[chain * BATCH + i], 20);
        }
        make_msg(p.sb, &turn, 1);
        recv_ok(p.sa, &turn);
    }
    shuffle(order, 3 * BATCH);
    for (size_t i = 0; i < 3 * BATCH; i++) {
        recv_ok(p.sb, &ms[order[i]]);
    }
    for (size_t i = 0; i < 3 * BATCH; i++) {
        assert_int_equal(try_recv(p.sb, &ms[i], NOW), KITH_ECRYPTO); /* each exactly once */
    }
    make_msg(p.sb, &turn, 2);
    recv_ok(p.sa, &turn);
    pair_close(&p);
}

static void
skipped__then_delivered__decrypts_once(void **state)
{
    struct pair p;
    struct msg m0, m1, m2;
    struct snapshot snap;

    pair_open_established(&p);
    make_msg(p.sa, &m0, 11);
    make_msg(p.sa, &m1, 12);
    make_msg(p.sa, &m2, 13);
    recv_ok(p.sb, &m2);
    recv_ok(p.sb, &m0);
    snapshot_take(p.sb, &snap);
    assert_int_equal(try_recv(p.sb, &m0, NOW), KITH_ECRYPTO);
    assert_int_equal(try_recv(p.sb, &m2, NOW), KITH_ECRYPTO);
    snapshot_assert_same(p.sb, &snap);
    snapshot_free(&snap);
    recv_ok(p.sb, &m1);
    pair_close(&p);
}

static void
gap__of_1001__is_rejected_with_state_unchanged(void **state)
{
    static struct msg ms[KITH_MAX_SKIP + 2];
    struct snapshot snap;
    struct pair p;
    struct msg turn;

    pair_open_established(&p);
    /* a fresh sending chain for a: b's receiving counter starts at 0 */
    for (size_t i = 0; i < KITH_MAX_SKIP + 2; i++) {
        make_msg(p.sa, &ms[i], 4);
    }
    snapshot_take(p.sb, &snap);
    assert_int_equal(try_recv(p.sb, &ms[KITH_MAX_SKIP + 1], NOW), KITH_ECRYPTO);
    snapshot_assert_same(p.sb, &snap);
    snapshot_free(&snap);
    recv_ok(p.sb, &ms[KITH_MAX_SKIP]); /* a gap of exactly 1000 is fine */
    recv_ok(p.sb, &ms[KITH_MAX_SKIP + 1]);
    recv_ok(p.sb, &ms[0]);
    recv_ok(p.sb, &ms[KITH_MAX_SKIP - 1]);
    /* within one receiving chain too: b sends n = 0..1002 on one chain, a reads
     * n = 0 (nr becomes 1), then n = 1002 needs 1001 skips and n = 1001 needs 1000 */
    make_msg(p.sb, &turn, 1);
    recv_ok(p.sa, &turn);
    for (size_t i = 0; i < KITH_MAX_SKIP + 2; i++) {
        make_msg(p.sb, &ms[i], 4);
    }
    snapshot_take(p.sa, &snap);
    assert_int_equal(try_recv(p.sa, &ms[KITH_MAX_SKIP + 1], NOW), KITH_ECRYPTO);
    snapshot_assert_same(p.sa, &snap);
    snapshot_free(&snap);
    recv_ok(p.sa, &ms[KITH_MAX_SKIP]);
    pair_close(&p);
}

static void
replay__of_a_delivered_message__is_rejected_with_state_unchanged(void **state)
{
    struct pair p;
    struct msg m, reply;
    struct snapshot snap;

    pair_open_established(&p);
    make_msg(p.sa, &m, 30);
    recv_ok(p.sb, &m);
    snapshot_take(p.sb, &snap);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(try_recv(p.sb, &m, NOW), KITH_ECRYPTO);
        snapshot_assert_same(p.sb, &snap);
    }
    snapshot_free(&snap);
    /* still a replay after the chain moved on by a ratchet step */
    make_msg(p.sb, &reply, 1);
    recv_ok(p.sa, &reply);
    make_msg(p.sa, &reply, 1);
    recv_ok(p.sb, &reply);
    snapshot_take(p.sb, &snap);
    assert_int_equal(try_recv(p.sb, &m, NOW), KITH_ECRYPTO);
    snapshot_assert_same(p.sb, &snap);
    snapshot_free(&snap);
    pair_close(&p);
}

static void
tamper__of_every_bit__is_rejected_with_state_unchanged(void **state)
{
    struct pair p;
    struct msg m, gap;
    struct snapshot snap;
    uint8_t out[MSG_CAP], ad[sizeof test_ad];
    size_t out_len = 0;

    pair_open_established(&p);
    make_msg(p.sa, &gap, 1); /* leave one skipped key so that path is tried too */
    make_msg(p.sa, &m, 24);
    snapshot_take(p.sb, &snap);
    for (size_t i = 0; i < m.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            m.body[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(try_recv(p.sb, &m, NOW), KITH_ECRYPTO);
            m.body[i] ^= (uint8_t)(1u << bit);
        }
    }
    snapshot_assert_same(p.sb, &snap);
    memcpy(ad, test_ad, sizeof ad);
    for (size_t i = 0; i < sizeof ad * 8; i++) {
        ad[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_int_equal(
            session_decrypt(p.sb, ad, sizeof ad, m.body, m.len, NOW, out, sizeof out, &out_len),
            KITH_ECRYPTO);
        ad[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    assert_int_equal(try_recv(p.sb, &m, NOW), KITH_OK);
    snapshot_free(&snap);
    /* the skipped key's message, tampered, is rejected without using up the key */
    snapshot_take(p.sb, &snap);
    gap.body[gap.len - 1] ^= 0x40;
    assert_int_equal(try_recv(p.sb, &gap, NOW), KITH_ECRYPTO);
    snapshot_assert_same(p.sb, &snap);
    gap.body[gap.len - 1] ^= 0x40;
    recv_ok(p.sb, &gap);
    snapshot_free(&snap);
    pair_close(&p);
}

static void
decrypt__rejects__short_bodies_and_small_buffers(void **state)
{
    struct pair p;
    struct msg m;
    struct snapshot snap;
    uint8_t out[MSG_CAP];
    size_t out_len = 5;

    pair_open_established(&p);
    make_msg(p.sa, &m, 10);
    snapshot_take(p.sb, &snap);
    assert_int_equal(session_decrypt(p.sb, NULL, 0, m.body, SESSION_MSG_OVERHEAD - 1, NOW, out,
                                     sizeof out, &out_len),
                     KITH_EMALFORMED);
    assert_int_equal(
        session_decrypt(p.sb, test_ad, sizeof test_ad, m.body, m.len, NOW, out, 9, &out_len),
        KITH_ETOOBIG);
    assert_int_equal(out_len, 0);
    assert_int_equal(session_decrypt(p.sb, test_ad, sizeof test_ad, m.body, m.len - 1, NOW, out,
                                     sizeof out, &out_len),
                     KITH_ECRYPTO);
    snapshot_assert_same(p.sb, &snap);
    snapshot_free(&snap);
    recv_ok(p.sb, &m);
    pair_close(&p);
}

static void
forward_secrecy__deletes__used_message_keys(void **state)
{
    struct pair p;
    struct msg m0, m1;
    struct session *copy = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;

    pair_open_established(&p);
    make_msg(p.sa, &m0, 16);
    make_msg(p.sa, &m1, 16);
    recv_ok(p.sb, &m1); /* m0's key is stored as skipped */
    recv_ok(p.sb, &m0); /* ...and deleted here */
    session_serialize(p.sb, &bytes, &len);
    assert_int_equal(session_parse(bytes, len, &copy), KITH_OK);
    assert_int_equal(try_recv(copy, &m0, NOW), KITH_ECRYPTO);
    assert_int_equal(try_recv(copy, &m1, NOW), KITH_ECRYPTO);
    sodium_memzero(bytes, len);
    free(bytes);
    session_destroy(copy);
    pair_close(&p);
}

static void
serialize__round_trips__and_the_conversation_continues(void **state)
{
    struct pair p;
    struct msg held[3], m;
    struct session *sa2 = NULL, *sb2 = NULL;
    uint8_t *bytes = NULL, *again = NULL;
    size_t len = 0, again_len = 0;

    assert_int_equal(pair_open(&p, NULL, NULL), KITH_OK);
    /* round trip while AWAIT_REPLY keeps the init header */
    session_serialize(p.sa, &bytes, &len);
    assert_int_equal(session_parse(bytes, len, &sa2), KITH_OK);
    assert_int_equal(session_get_state(sa2), SESSION_AWAIT_REPLY);
    assert_memory_equal(session_init_header(sa2), session_init_header(p.sa),
                        SESSION_INIT_HEADER_BYTES);
    session_destroy(p.sa);
    p.sa = sa2;
    sodium_memzero(bytes, len);
    free(bytes);
    for (int i = 0; i < 3; i++) {
        make_msg(p.sa, &held[i], 7);
    }
    make_msg(p.sa, &m, 7);
    recv_ok(p.sb, &m); /* three skipped keys now live in b's state */
    session_serialize(p.sb, &bytes, &len);
    assert_int_equal(session_parse(bytes, len, &sb2), KITH_OK);
    session_serialize(sb2, &again, &again_len);
    assert_int_equal(again_len, len);
    assert_memory_equal(again, bytes, len);
    session_destroy(p.sb);
    p.sb = sb2;
    recv_ok(p.sb, &held[1]);
    recv_ok(p.sb, &held[0]);
    make_msg(p.sb, &m, 9);
    recv_ok(p.sa, &m);
    recv_ok(p.sb, &held[2]);
    make_msg(p.sa, &m, 9);
    recv_ok(p.sb, &m);
    sodium_memzero(bytes, len);
    free(bytes);
    sodium_memzero(again, again_len);
    free(again);
    pair_close(&p);
}

static void
parse__rejects__garbage_without_crashing(void **state)
{
    struct pair p;
    struct msg held;
    struct session *s = (struct session *)&s;
    uint8_t *bytes = NULL;
    size_t len = 0;
    uint8_t junk[4096];

    pair_open_established(&p);
    make_msg(p.sa, &held, 1);
    make_msg(p.sa, &held, 1);
    recv_ok(p.sb, &held); /* one skipped entry */
    session_serialize(p.sb, &bytes, &len);
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(session_parse(bytes, cut, &s), KITH_EMALFORMED);
        assert_null(s);
    }
    assert_int_equal(session_parse(NULL, 0, &s), KITH_EMALFORMED);
    for (size_t i = 0; i < 3; i++) { /* version, state, flags */
        uint8_t saved = bytes[i];

        for (unsigned v = 0; v < 256; v++) {
            bytes[i] = (uint8_t)v;
            /* presence flags alone are not verifiable; unknown bits are */
            if (v == saved || (i == 2 && (v & ~0x3fu) == 0)) {
                continue;
            }
            assert_int_equal(session_parse(bytes, len, &s), KITH_EMALFORMED);
        }
        bytes[i] = saved;
    }
    for (int round = 0; round < 200; round++) {
        size_t jlen = randombytes_uniform(sizeof junk);

        randombytes_buf(junk, jlen);
        if (round % 2 == 0 && jlen > 0) {
            junk[0] = 1;
        }
        assert_int_equal(session_parse(junk, jlen, &s), KITH_EMALFORMED);
    }
    bytes = realloc(bytes, len + 1);
    assert_non_null(bytes);
    bytes[len] = 0;
    assert_int_equal(session_parse(bytes, len + 1, &s), KITH_EMALFORMED);
    assert_int_equal(session_parse(bytes, len, &s), KITH_OK);
    session_destroy(s);
    sodium_memzero(bytes, len + 1);
    free(bytes);
    pair_close(&p);
}

static void
init_header__peek__reads_ek_and_spk_id(void **state)
{
    struct pair p;
    struct identity_public peer;
    struct session *sb = NULL;
    uint8_t ek[32], ek2[32], longer[SESSION_INIT_HEADER_BYTES + 50];
    uint32_t spk_id = 0;

    assert_int_equal(pair_open(&p, NULL, NULL), KITH_OK);
    assert_int_equal(
        session_init_header_peek(session_init_header(p.sa), SESSION_INIT_HEADER_BYTES, ek, &spk_id),
        KITH_OK);
    assert_int_equal(spk_id, 7);
    assert_int_equal(session_init_header_peek(session_init_header(p.sa),
                                              SESSION_INIT_HEADER_BYTES - 1, ek2, &spk_id),
                     KITH_EMALFORMED);
    /* a frame body carries the init header followed by the message */
    memcpy(longer, session_init_header(p.sa), SESSION_INIT_HEADER_BYTES);
    memset(longer + SESSION_INIT_HEADER_BYTES, 0xee, 50);
    assert_int_equal(
        session_respond(p.b, p.spk_sk, p.spk_pk, NULL, longer, sizeof longer, &peer, ek2, &sb),
        KITH_OK);
    assert_memory_equal(ek, ek2, 32);
    assert_memory_not_equal(ek, identity_public(p.a)->ikdh, 32);
    session_destroy(sb);
    pair_close(&p);
}

static void
respond__rejects__tampered_or_malformed_init_headers(void **state)
{
    struct pair p;
    struct identity_public peer;
    struct session *sb = (struct session *)&sb;
    uint8_t hdr[SESSION_INIT_HEADER_BYTES], ek[32];

    assert_int_equal(pair_open(&p, NULL, NULL), KITH_OK);
    memcpy(hdr, session_init_header(p.sa), sizeof hdr);
    for (size_t i = 0; i < IDENTITY_PUBLIC_BYTES; i++) {
        hdr[i] ^= 0x02;
        assert_int_equal(
            session_respond(p.b, p.spk_sk, p.spk_pk, NULL, hdr, sizeof hdr, &peer, ek, &sb),
            KITH_ECRYPTO);
        assert_null(sb);
        hdr[i] ^= 0x02;
    }
    assert_int_equal(
        session_respond(p.b, p.spk_sk, p.spk_pk, NULL, hdr, sizeof hdr - 1, &peer, ek, &sb),
        KITH_EMALFORMED);
    hdr[sizeof hdr - 1] ^= 1; /* opk_id other than "none" */
    assert_int_equal(
        session_respond(p.b, p.spk_sk, p.spk_pk, NULL, hdr, sizeof hdr, &peer, ek, &sb),
        KITH_EMALFORMED);
    hdr[sizeof hdr - 1] ^= 1;
    memset(hdr + IDENTITY_PUBLIC_BYTES, 0, 32); /* EK of small order */
    assert_int_equal(
        session_respond(p.b, p.spk_sk, p.spk_pk, NULL, hdr, sizeof hdr, &peer, ek, &sb),
        KITH_ECRYPTO);
    assert_null(sb);
    pair_close(&p);
}

static void
initiate__rejects__bad_bundles_and_small_order_keys(void **state)
{
    struct identity *a = identity_generate(NOW);
    struct identity *b = identity_generate(NOW);
    struct identity_public bad = *identity_public(b);
    struct session *s = (struct session *)&s;
    uint8_t spk[32], zero[32] = { 0 };

    randombytes_buf(spk, sizeof spk);
    bad.ikdh[0] ^= 1;
    assert_int_equal(session_initiate(a, &bad, spk, 1, NULL, &s), KITH_ECRYPTO);
    assert_null(s);
    assert_int_equal(session_initiate(a, identity_public(b), zero, 1, NULL, &s), KITH_ECRYPTO);
    assert_null(s);
    identity_destroy(a);
    identity_destroy(b);
}

static void
skipped_keys__expire__after_seven_days(void **state)
{
    struct pair p;
    struct msg m0, m1, m2, m3;

    pair_open_established(&p);
    make_msg(p.sa, &m0, 5);
    make_msg(p.sa, &m1, 5);
    make_msg(p.sa, &m2, 5);
    make_msg(p.sa, &m3, 5);
    recv_ok(p.sb, &m3); /* keys for m0..m2 stored at NOW */
    assert_int_equal(try_recv(p.sb, &m0, NOW + 7 * DAY), KITH_OK);
    assert_int_equal(try_recv(p.sb, &m1, NOW + 7 * DAY + 1), KITH_ECRYPTO);
    assert_int_equal(try_recv(p.sb, &m2, NOW + 7 * DAY + 1), KITH_ECRYPTO);
    pair_close(&p);
}

static void
skipped_keys__are_capped__evicting_the_oldest(void **state)
{
    static struct msg ms[KITH_MAX_SKIP + 1];
    struct msg first[3], turn;
    struct pair p;
    uint8_t *bytes = NULL;
    size_t len = 0;

    pair_open_established(&p);
    for (int chain = 0; chain < 3; chain++) {
        for (size_t i = 0; i <= KITH_MAX_SKIP; i++) {
            make_msg(p.sa, &ms[i], 1);
        }
        first[chain] = ms[0];
        recv_ok(p.sb, &ms[KITH_MAX_SKIP]); /* 1000 skipped per chain */
        make_msg(p.sb, &turn, 1);
        recv_ok(p.sa, &turn);
    }
    session_serialize(p.sb, &bytes, &len);
    assert_true(len > (size_t)KITH_MAX_SKIPPED_PER_SESSION * 76);
    /* n_skipped (u32 BE) sits just before the entries */
    {
        const uint8_t *n = bytes + len - (size_t)KITH_MAX_SKIPPED_PER_SESSION * 76 - 4;
        uint32_t count = (uint32_t)n[0] << 24 | (uint32_t)n[1] << 16 | (uint32_t)n[2] << 8 | n[3];
        assert_int_equal(count, KITH_MAX_SKIPPED_PER_SESSION);
    }
    assert_int_equal(try_recv(p.sb, &first[0], NOW), KITH_ECRYPTO); /* evicted */
    recv_ok(p.sb, &first[1]);
    recv_ok(p.sb, &first[2]);
    sodium_memzero(bytes, len);
    free(bytes);
    pair_close(&p);
}

/* ---- acknowledgement keys (FRAME_ACK) ---- */

/* Take s's acknowledgement key into out; asserts there was one and that it is gone after. */
static void
ack_take_ok(struct session *s, uint8_t out[32])
{
    uint8_t again[32];

    assert_int_equal(session_take_ack_key(s, out), KITH_OK);
    assert_int_equal(session_take_ack_key(s, again), KITH_ENOTFOUND);
}

static void
ack_drain(struct session *s)
{
    uint8_t k[32];

    if (session_take_ack_key(s, k) == KITH_OK) {
        sodium_memzero(k, sizeof k);
    }
    assert_int_equal(session_take_ack_key(s, k), KITH_ENOTFOUND);
}

static void
ack_key__is__the_same_at_both_ends_and_taken_once(void **state)
{
    static const uint8_t zero[32] = { 0 };
    struct pair p;
    struct msg m;
    uint8_t ka[32], kb[32], k2[32];

    pair_open_established(&p);
    ack_drain(p.sa);
    ack_drain(p.sb);
    assert_int_equal(session_take_ack_key(p.sa, ka), KITH_ENOTFOUND);
    assert_int_equal(session_take_ack_key(p.sb, kb), KITH_ENOTFOUND);
    make_msg(p.sa, &m, 33);
    recv_ok(p.sb, &m);
    ack_take_ok(p.sa, ka);
    ack_take_ok(p.sb, kb);
    assert_memory_equal(ka, kb, 32);
    assert_memory_not_equal(ka, zero, 32);
    /* the next message has a key of its own, both ways */
    make_msg(p.sa, &m, 5);
    recv_ok(p.sb, &m);
    ack_take_ok(p.sa, k2);
    assert_memory_not_equal(k2, ka, 32);
    ack_take_ok(p.sb, kb);
    assert_memory_equal(k2, kb, 32);
    make_msg(p.sb, &m, 6);
    recv_ok(p.sa, &m);
    ack_take_ok(p.sb, kb);
    ack_take_ok(p.sa, ka);
    assert_memory_equal(ka, kb, 32);
    /* the responder's first decrypt of the handshake message yields one too */
    pair_close(&p);
    assert_int_equal(pair_open(&p, NULL, NULL), KITH_OK);
    ack_take_ok(p.sa, ka);
    ack_take_ok(p.sb, kb);
    assert_memory_equal(ka, kb, 32);
    pair_close(&p);
}

static void
ack_key__matches__the_sender_when_opened_out_of_order(void **state)
{
    struct pair p;
    struct msg ms[3];
    uint8_t sent[3][32];
    uint8_t got[32];
    static const size_t order[3] = { 2, 0, 1 };

    pair_open_established(&p);
    ack_drain(p.sb);
    for (size_t i = 0; i < 3; i++) {
        make_msg(p.sa, &ms[i], 20 + i);
        ack_take_ok(p.sa, sent[i]);
    }
    assert_memory_not_equal(sent[0], sent[1], 32);
    assert_memory_not_equal(sent[1], sent[2], 32);
    assert_memory_not_equal(sent[0], sent[2], 32);
    for (size_t i = 0; i < 3; i++) {
        recv_ok(p.sb, &ms[order[i]]); /* the 1st and 2nd come through skipped keys */
        ack_take_ok(p.sb, got);
        assert_memory_equal(got, sent[order[i]], 32);
    }
    pair_close(&p);
}

static void
ack_key__is_not_made__by_a_failed_decrypt(void **state)
{
    struct pair p;
    struct msg m, earlier;
    struct snapshot snap;
    uint8_t ka[32], kb[32];

    pair_open_established(&p);
    ack_drain(p.sb);
    make_msg(p.sa, &m, 24);
    ack_take_ok(p.sa, ka);
    snapshot_take(p.sb, &snap);
    m.body[m.len - 1] ^= 0x01;
    assert_int_equal(try_recv(p.sb, &m, NOW), KITH_ECRYPTO);
    assert_int_equal(session_take_ack_key(p.sb, kb), KITH_ENOTFOUND);
    snapshot_assert_same(p.sb, &snap);
    snapshot_free(&snap);
    m.body[m.len - 1] ^= 0x01;
    recv_ok(p.sb, &m);
    ack_take_ok(p.sb, kb);
    assert_memory_equal(ka, kb, 32);

    /* a key not yet taken survives a failed decrypt untouched */
    make_msg(p.sa, &earlier, 8);
    ack_take_ok(p.sa, ka);
    recv_ok(p.sb, &earlier);
    make_msg(p.sa, &m, 9);
    ack_drain(p.sa);
    m.body[SESSION_ENC_HEADER_BYTES + 30] ^= 0x80;
    assert_int_equal(try_recv(p.sb, &m, NOW), KITH_ECRYPTO);
    assert_int_equal(try_recv(p.sb, &earlier, NOW), KITH_ECRYPTO); /* a replay: no key either */
    ack_take_ok(p.sb, kb);
    assert_memory_equal(ka, kb, 32);
    pair_close(&p);
}

static void
ack_key__is_not_kept__across_serialize_and_parse(void **state)
{
    struct pair p;
    struct msg m;
    struct session *copy = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    uint8_t k[32], ka[32];

    pair_open_established(&p);
    make_msg(p.sa, &m, 12);
    recv_ok(p.sb, &m); /* both ends now hold a key not yet taken */
    session_serialize(p.sb, &bytes, &len);
    assert_int_equal(session_parse(bytes, len, &copy), KITH_OK);
    assert_int_equal(session_take_ack_key(copy, k), KITH_ENOTFOUND);
    sodium_memzero(bytes, len);
    free(bytes);
    session_destroy(copy);
    copy = NULL;
    session_serialize(p.sa, &bytes, &len);
    assert_int_equal(session_parse(bytes, len, &copy), KITH_OK);
    assert_int_equal(session_take_ack_key(copy, k), KITH_ENOTFOUND);
    sodium_memzero(bytes, len);
    free(bytes);
    session_destroy(copy);
    /* the originals still hand theirs out */
    ack_take_ok(p.sa, ka);
    ack_take_ok(p.sb, k);
    assert_memory_equal(ka, k, 32);
    pair_close(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake__establishes__both_ways_without_psk),
        cmocka_unit_test(handshake__needs__the_same_psk_on_both_sides),
        cmocka_unit_test(await_reply__becomes__established_on_first_reply),
        cmocka_unit_test(encrypt__refuses__responder_before_first_message_and_small_buffers),
        cmocka_unit_test(messages__flow__200_alternating_directions),
        cmocka_unit_test(messages__arrive__in_any_order_across_ratchet_steps),
        cmocka_unit_test(skipped__then_delivered__decrypts_once),
        cmocka_unit_test(gap__of_1001__is_rejected_with_state_unchanged),
        cmocka_unit_test(replay__of_a_delivered_message__is_rejected_with_state_unchanged),
        cmocka_unit_test(tamper__of_every_bit__is_rejected_with_state_unchanged),
        cmocka_unit_test(decrypt__rejects__short_bodies_and_small_buffers),
        cmocka_unit_test(forward_secrecy__deletes__used_message_keys),
        cmocka_unit_test(serialize__round_trips__and_the_conversation_continues),
        cmocka_unit_test(parse__rejects__garbage_without_crashing),
        cmocka_unit_test(init_header__peek__reads_ek_and_spk_id),
        cmocka_unit_test(respond__rejects__tampered_or_malformed_init_headers),
        cmocka_unit_test(initiate__rejects__bad_bundles_and_small_order_keys),
        cmocka_unit_test(skipped_keys__expire__after_seven_days),
        cmocka_unit_test(skipped_keys__are_capped__evicting_the_oldest),
        cmocka_unit_test(ack_key__is__the_same_at_both_ends_and_taken_once),
        cmocka_unit_test(ack_key__matches__the_sender_when_opened_out_of_order),
        cmocka_unit_test(ack_key__is_not_made__by_a_failed_decrypt),
        cmocka_unit_test(ack_key__is_not_kept__across_serialize_and_parse),
    };

    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
