/*
 * circle tests: signed ops (round trip, every rejection), the op log, the
 * deterministic resolution of concurrent membership changes, the epoch grace
 * rule, sender keys and receiving chains (reordering, replay, bounds, tamper,
 * impersonation, serialisation) and the secrecy of removals and joins.
 * Identities come from fixed seeds and every shuffle from a seeded PRNG
 * (KITH_SEED overrides it; the seed is printed on failure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/circle.h"

#define T0        1700000000u
#define HOUR      3600u
#define DAY       (24u * HOUR)
#define BODY_CAP  (CIRCLE_BODY_MIN + 256)
#define N_MEMBERS 8

static const uint8_t t_cid[CIRCLE_ID_BYTES] = { 0xc1, 0x2c, 0x1e, 3,  4,  5,  6,  7,
                                                8,    9,    10,   11, 12, 13, 14, 15 };
static uint64_t t_seed = 0x6b697468c12c1eull;

/* ---- deterministic randomness and identities ---- */

static uint64_t
t_rand(void)
{
    uint64_t z = (t_seed += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t
t_below(size_t n)
{
    return (size_t)(t_rand() % n);
}

static void
t_shuffle(size_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = t_below(i);
        size_t tmp = v[i - 1];

        v[i - 1] = v[j];
        v[j] = tmp;
    }
}

static void
t_clamp(uint8_t sk[32])
{
    sk[0] &= 248;
    sk[31] &= 127;
    sk[31] |= 64;
}

static void
t_sign(uint8_t sig[64], const uint8_t sk[64], const char *ctx, const uint8_t *msg, size_t len)
{
    uint8_t buf[128];
    size_t ctx_len = strlen(ctx);

    memcpy(buf, ctx, ctx_len);
    memcpy(buf + ctx_len, msg, len);
    crypto_sign_detached(sig, NULL, buf, ctx_len + len, sk);
}

/* The same identity for the same seed, on every run. */
static struct identity *
t_identity(uint8_t seed)
{
    uint8_t in[IDENTITY_SECRET_BYTES];
    uint8_t ik_seed[32], ik_sk[64], ikdh_sk[32], tk_sk[32], tk_msg[36];
    uint8_t *pub = in + 1;
    struct identity *id = NULL;

    memset(ik_seed, seed, sizeof ik_seed);
    memset(ikdh_sk, seed ^ 0x5a, sizeof ikdh_sk);
    memset(tk_sk, seed ^ 0xa5, sizeof tk_sk);
    t_clamp(ikdh_sk);
    t_clamp(tk_sk);
    in[0] = 1;
    crypto_sign_seed_keypair(pub, ik_sk, ik_seed);         /* ik */
    crypto_scalarmult_base(pub + 32, ikdh_sk);             /* ikdh */
    t_sign(pub + 64, ik_sk, "kith-v1/ikdh", pub + 32, 32); /* ikdh_sig */
    crypto_scalarmult_base(pub + 128, tk_sk);              /* tk */
    memcpy(tk_msg, pub + 128, 32);
    tk_msg[32] = (uint8_t)((T0 + 90 * DAY) >> 24);
    tk_msg[33] = (uint8_t)((T0 + 90 * DAY) >> 16);
    tk_msg[34] = (uint8_t)((T0 + 90 * DAY) >> 8);
    tk_msg[35] = (uint8_t)(T0 + 90 * DAY);
    memcpy(pub + 160, tk_msg + 32, 4); /* tk_not_after */
    t_sign(pub + 164, ik_sk, "kith-v1/transport", tk_msg, sizeof tk_msg);
    memcpy(pub + IDENTITY_PUBLIC_BYTES, ik_sk, 64);
    memcpy(pub + IDENTITY_PUBLIC_BYTES + 64, ikdh_sk, 32);
    memcpy(pub + IDENTITY_PUBLIC_BYTES + 96, tk_sk, 32);
    assert_int_equal(identity_parse(in, sizeof in, &id), KITH_OK);
    sodium_memzero(in, sizeof in);
    sodium_memzero(ik_sk, sizeof ik_sk);
    return id;
}

static struct identity *t_ids[N_MEMBERS]; /* A B C D Y X R J */
enum { A, B, C, D, Y, X, R, J };

static void
t_mid(int who, uint8_t out[IDENTITY_MEMBER_ID])
{
    identity_member_id(identity_public(t_ids[who])->ik, out);
}

static int
setup_ids(void **state)
{
    const char *env = getenv("KITH_SEED");

    (void)state;
    if (env != NULL) {
        t_seed = strtoull(env, NULL, 0);
    }
    for (int i = 0; i < N_MEMBERS; i++) {
        t_ids[i] = t_identity((uint8_t)(0x10 + i));
    }
    return 0;
}

static int
teardown_ids(void **state)
{
    (void)state;
    for (int i = 0; i < N_MEMBERS; i++) {
        identity_destroy(t_ids[i]);
        t_ids[i] = NULL;
    }
    return 0;
}

/* ---- ops and logs ---- */

struct t_op {
    uint8_t bytes[CIRCLE_OP_MAX];
    size_t len;
    struct circle_op op;
};

static void
t_op_fill(struct circle_op *op, uint8_t type, const struct identity *subject, uint32_t epoch_no,
          const uint8_t parent[16], bool admin, uint32_t issued_at)
{
    memset(op, 0, sizeof *op);
    op->type = type;
    memcpy(op->circle_id, t_cid, sizeof t_cid);
    op->epoch_no = epoch_no;
    if (parent != NULL) {
        memcpy(op->parent, parent, 16);
    }
    op->issued_at = issued_at;
    op->subject.pub = *identity_public(subject);
    op->subject.admin = admin;
    snprintf(op->subject.name, sizeof op->subject.name, "member %02x",
             identity_public(subject)->ik[0]);
    snprintf(op->subject.endpoint, sizeof op->subject.endpoint, "tcp://10.0.0.%u:7700",
             identity_public(subject)->ik[1]);
    if (type == CIRCLE_OP_CREATE) {
        snprintf(op->circle_name, sizeof op->circle_name, "Tuesday group");
    }
}

static void
t_make(struct t_op *o, uint8_t type, int issuer, int subject, uint32_t epoch_no,
       const uint8_t parent[16], bool admin, uint32_t issued_at)
{
    t_op_fill(&o->op, type, t_ids[subject], epoch_no, parent, admin, issued_at);
    assert_int_equal(circle_op_make(&o->op, t_ids[issuer], o->bytes, sizeof o->bytes, &o->len),
                     KITH_OK);
}

static void
t_log_append(uint8_t **log, size_t *log_len, const struct t_op *o)
{
    bool added = false;

    assert_int_equal(circle_log_add(log, log_len, o->bytes, o->len, &added), KITH_OK);
    assert_true(added);
}

/* Issue an op on top of the log's current state, append it, and return it in o. */
static void
t_issue(uint8_t **log, size_t *log_len, struct t_op *o, uint8_t type, int issuer, int subject,
        bool admin, uint32_t issued_at)
{
    struct circle_state st;

    if (type == CIRCLE_OP_CREATE) {
        t_make(o, type, issuer, subject, 1, NULL, true, issued_at);
    } else {
        assert_int_equal(circle_resolve(*log, *log_len, &st), KITH_OK);
        t_make(o, type, issuer, subject, st.epoch_no + 1, st.epoch_id, admin, issued_at);
    }
    t_log_append(log, log_len, o);
}

/* A log of the given ops, in the given order, without the decode work of circle_log_add. */
static size_t
t_log_raw(uint8_t *out, const struct t_op *const *ops, const size_t *order, size_t n)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        const struct t_op *o = ops[order[i]];

        out[len] = (uint8_t)(o->len >> 8);
        out[len + 1] = (uint8_t)o->len;
        memcpy(out + len + 2, o->bytes, o->len);
        len += 2 + o->len;
    }
    return len;
}

static void
t_resolve(const uint8_t *log, size_t log_len, struct circle_state *st)
{
    assert_int_equal(circle_resolve(log, log_len, st), KITH_OK);
}

static void
t_assert_same_state(const struct circle_state *a, const struct circle_state *b)
{
    assert_int_equal(a->epoch_no, b->epoch_no);
    assert_memory_equal(a->epoch_id, b->epoch_id, 16);
    assert_memory_equal(a->circle_id, b->circle_id, 16);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->nmembers, b->nmembers);
    for (size_t i = 0; i < a->nmembers; i++) {
        assert_memory_equal(a->members[i].member_id, b->members[i].member_id, 16);
        assert_int_equal(a->members[i].admin, b->members[i].admin);
        assert_string_equal(a->members[i].name, b->members[i].name);
    }
    assert_int_equal(a->nepochs, b->nepochs);
    for (size_t i = 0; i < a->nepochs; i++) {
        assert_int_equal(a->epochs[i].epoch_no, b->epochs[i].epoch_no);
        assert_memory_equal(a->epochs[i].epoch_id, b->epochs[i].epoch_id, 16);
        assert_int_equal(a->epochs[i].started_at, b->epochs[i].started_at);
        assert_int_equal(a->epochs[i].nmembers, b->epochs[i].nmembers);
    }
    assert_int_equal(a->napplied, b->napplied);
    assert_int_equal(a->nlosers, b->nlosers);
    assert_memory_equal(a->losers, b->losers, (a->nlosers < 8 ? a->nlosers : 8) * 32);
    assert_int_equal(a->npending, b->npending);
}

static bool
t_has(const struct circle_state *st, int who)
{
    uint8_t id[16];

    t_mid(who, id);
    return circle_member_find(st, id) != NULL;
}

static bool
t_is_admin(const struct circle_state *st, int who)
{
    uint8_t id[16];
    const struct circle_member *m;

    t_mid(who, id);
    m = circle_member_find(st, id);
    return m != NULL && m->admin;
}

/* CREATE(A); ADD(B admin); ADD(C); ADD(D) by B; ADD(Y): epochs 1..5 at T0, T0+100, ... */
struct t_base {
    uint8_t *log;
    size_t log_len;
    struct t_op ops[5];
    struct circle_state st;
};

static void
t_base_build(struct t_base *b)
{
    memset(b, 0, sizeof *b);
    t_issue(&b->log, &b->log_len, &b->ops[0], CIRCLE_OP_CREATE, A, A, true, T0);
    t_issue(&b->log, &b->log_len, &b->ops[1], CIRCLE_OP_ADD, A, B, true, T0 + 100);
    t_issue(&b->log, &b->log_len, &b->ops[2], CIRCLE_OP_ADD, A, C, false, T0 + 200);
    t_issue(&b->log, &b->log_len, &b->ops[3], CIRCLE_OP_ADD, B, D, false, T0 + 300);
    t_issue(&b->log, &b->log_len, &b->ops[4], CIRCLE_OP_ADD, A, Y, false, T0 + 400);
    t_resolve(b->log, b->log_len, &b->st);
}

/* The state of base + one more op (not kept in the base log). */
static void
t_with(const struct t_base *b, const struct t_op *extra, struct circle_state *st)
{
    uint8_t *log = xmalloc(b->log_len);
    size_t log_len = b->log_len;

    memcpy(log, b->log, log_len);
    t_log_append(&log, &log_len, extra);
    t_resolve(log, log_len, st);
    free(log);
}

/* ---- op tests ---- */

static void
op__round_trips__for_every_type(void **state)
{
    static const uint8_t parent[16] = { 9, 9, 9 };
    const uint8_t types[] = { CIRCLE_OP_ADD, CIRCLE_OP_REMOVE, CIRCLE_OP_ADMIN };
    struct t_op o;
    struct circle_op back;

    (void)state;
    t_make(&o, CIRCLE_OP_CREATE, A, A, 1, NULL, true, T0);
    assert_int_equal(circle_op_decode(o.bytes, o.len, &back), KITH_OK);
    assert_int_equal(back.type, CIRCLE_OP_CREATE);
    assert_string_equal(back.circle_name, "Tuesday group");
    assert_memory_equal(back.hash, o.op.hash, 32);
    assert_memory_equal(back.subject.member_id, o.op.subject.member_id, 16);
    for (size_t i = 0; i < sizeof types; i++) {
        t_make(&o, types[i], A, C, 7, parent, false, T0 + 5);
        assert_int_equal(circle_op_decode(o.bytes, o.len, &back), KITH_OK);
        assert_int_equal(back.type, types[i]);
        assert_int_equal(back.epoch_no, 7);
        assert_memory_equal(back.parent, parent, 16);
        assert_int_equal(back.issued_at, T0 + 5);
        assert_memory_equal(back.issuer_ik, identity_public(t_ids[A])->ik, 32);
        assert_memory_equal(&back.subject.pub, identity_public(t_ids[C]), sizeof back.subject.pub);
        assert_string_equal(back.subject.name, o.op.subject.name);
        assert_string_equal(back.subject.endpoint, o.op.subject.endpoint);
        assert_string_equal(back.circle_name, "");
        assert_false(back.subject.admin);
        assert_memory_equal(back.sig, o.op.sig, 64);
        assert_memory_equal(back.hash, o.op.hash, 32);
    }
    t_make(&o, CIRCLE_OP_LEAVE, C, C, 7, parent, false, T0);
    assert_int_equal(circle_op_decode(o.bytes, o.len, &back), KITH_OK);
    o.op.subject.endpoint[0] = '\0'; /* no endpoint is fine */
    assert_int_equal(circle_op_make(&o.op, t_ids[C], o.bytes, sizeof o.bytes, &o.len), KITH_OK);
    assert_int_equal(circle_op_decode(o.bytes, o.len, &back), KITH_OK);
    assert_string_equal(back.subject.endpoint, "");
}

static void
op__rejects__every_tampered_byte_and_truncation(void **state)
{
    static const uint8_t parent[16] = { 1 };
    static const uint8_t flips[] = { 0x01, 0x80, 0xff };
    static const uint8_t zero[sizeof(struct circle_op)];
    struct t_op o;
    struct circle_op back;

    (void)state;
    t_make(&o, CIRCLE_OP_ADD, A, C, 2, parent, false, T0);
    for (size_t i = 0; i < o.len; i++) {
        for (size_t f = 0; f < sizeof flips; f++) {
            o.bytes[i] ^= flips[f];
            assert_int_not_equal(circle_op_decode(o.bytes, o.len, &back), KITH_OK);
            assert_memory_equal(&back, zero, sizeof back);
            o.bytes[i] ^= flips[f];
        }
    }
    for (size_t len = 0; len < o.len; len++) {
        assert_int_not_equal(circle_op_decode(o.bytes, len, &back), KITH_OK);
    }
    o.bytes[o.len] = 0;
    assert_int_equal(circle_op_decode(o.bytes, o.len + 1, &back), KITH_EMALFORMED);
    assert_int_equal(circle_op_decode(NULL, 0, &back), KITH_EMALFORMED);
    o.bytes[o.len - 1] ^= 1;
    assert_int_equal(circle_op_decode(o.bytes, o.len, &back), KITH_ECRYPTO);
    o.bytes[o.len - 1] ^= 1;
    assert_int_equal(circle_op_decode(o.bytes, o.len, &back), KITH_OK);
}

/* Re-sign edited op bytes with A's key, so only the grammar can reject them. */
static void
t_resign(uint8_t *bytes, size_t len)
{
    uint8_t sig[64];

    identity_sign(t_ids[A], sig, "kith-v1/circle-op", bytes, len - 64);
    memcpy(bytes + len - 64, sig, 64);
}

static void
op__decode_checks_grammar__behind_a_valid_signature(void **state)
{
    static const uint8_t parent[16] = { 1 };
    const size_t admin_at = 74 + IDENTITY_PUBLIC_BYTES;
    const size_t name_at = admin_at + 2;
    struct t_op o, edited;
    struct circle_op back;

    (void)state;
    t_make(&o, CIRCLE_OP_ADD, A, C, 2, parent, false, T0);
    t_resign(o.bytes, o.len);
    assert_int_equal(circle_op_decode(o.bytes, o.len, &back), KITH_OK); /* the control */
    struct {
        size_t at;
        uint8_t value;
    } edits[] = {
        { 0, 2 },                /* version */
        { 1, 0 },                /* type */
        { 1, 6 },                /* type */
        { 1, CIRCLE_OP_CREATE }, /* a CREATE with a parent and epoch 2 */
        { 21, 1 },               /* epoch_no 2 -> 1 for an ADD */
        { admin_at, 2 },         /* admin is a bool */
        { name_at, 0x07 },       /* control character in the name */
        { name_at, 0xff },       /* not UTF-8 */
        { name_at, 0x00 },       /* embedded NUL */
        { name_at - 1, 0 },      /* empty name */
        { name_at + 11, 'x' },   /* endpoint grammar ("tcp:" -> "txp:") */
        { o.len - 65, 1 },       /* circle_name_len runs into the signature */
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        edited = o;
        edited.bytes[edits[i].at] = edits[i].value;
        t_resign(edited.bytes, edited.len);
        assert_int_equal(circle_op_decode(edited.bytes, edited.len, &back), KITH_EMALFORMED);
    }
    /* A circle name on an ADD, properly length-prefixed and signed. */
    edited = o;
    edited.bytes[o.len - 65] = 1;
    edited.bytes[o.len - 64] = 'x';
    edited.len = o.len + 1;
    t_resign(edited.bytes, edited.len);
    assert_int_equal(circle_op_decode(edited.bytes, edited.len, &back), KITH_EMALFORMED);
    /* A damaged subject bundle, re-signed: the bundle's own signature fails. */
    edited = o;
    edited.bytes[74 + 64 + 5] ^= 1; /* inside ikdh_sig */
    t_resign(edited.bytes, edited.len);
    assert_int_equal(circle_op_decode(edited.bytes, edited.len, &back), KITH_ECRYPTO);
    /* Signed by someone other than the stated issuer. */
    edited = o;
    identity_sign(t_ids[B], edited.bytes + edited.len - 64, "kith-v1/circle-op", edited.bytes,
                  edited.len - 64);
    assert_int_equal(circle_op_decode(edited.bytes, edited.len, &back), KITH_ECRYPTO);
}

static void
op__make_refuses__bad_names_and_shapes(void **state)
{
    static const uint8_t parent[16] = { 1 };
    struct circle_op op;
    uint8_t out[CIRCLE_OP_MAX];
    size_t len = 99;

    (void)state;
#define T_REFUSE(edit, issuer)                                                                     \
    do {                                                                                           \
        t_op_fill(&op, CIRCLE_OP_ADD, t_ids[C], 2, parent, false, T0);                             \
        edit;                                                                                      \
        assert_int_equal(circle_op_make(&op, t_ids[issuer], out, sizeof out, &len), KITH_EINVAL);  \
        assert_int_equal(len, 0);                                                                  \
    } while (0)
    T_REFUSE(op.subject.name[0] = '\0', A);
    T_REFUSE(op.subject.name[0] = '\n', A);
    T_REFUSE(op.subject.name[0] = (char)0xc3, A); /* a truncated UTF-8 sequence */
    T_REFUSE(memset(op.subject.name, 'a', sizeof op.subject.name), A); /* unterminated */
    T_REFUSE(strcpy(op.subject.endpoint, "not an endpoint"), A);
    T_REFUSE(strcpy(op.subject.endpoint, "tcp://*:7700"), A);
    T_REFUSE(strcpy(op.circle_name, "only on CREATE"), A);
    T_REFUSE(op.type = 0, A);
    T_REFUSE(op.type = 6, A);
    T_REFUSE(op.epoch_no = 1, A);
    T_REFUSE(op.subject.pub.tk_sig[3] ^= 1, A);
    T_REFUSE(op.type = CIRCLE_OP_LEAVE, A); /* C's leave issued by A */
    T_REFUSE((op.type = CIRCLE_OP_CREATE, op.epoch_no = 1, memset(op.parent, 0, 16),
              strcpy(op.circle_name, "x"), op.subject.admin = true),
             A); /* the creator must be the subject */
    T_REFUSE((op.type = CIRCLE_OP_CREATE, op.epoch_no = 1, memset(op.parent, 0, 16),
              op.subject.admin = true),
             C); /* no circle name */
    T_REFUSE((op.type = CIRCLE_OP_CREATE, op.epoch_no = 1, strcpy(op.circle_name, "x"),
              op.subject.admin = true),
             C); /* a CREATE has no parent */
    T_REFUSE((op.type = CIRCLE_OP_CREATE, op.epoch_no = 1, memset(op.parent, 0, 16),
              strcpy(op.circle_name, "x")),
             C); /* the creator is an admin */
#undef T_REFUSE
    t_op_fill(&op, CIRCLE_OP_ADD, t_ids[C], 2, parent, false, T0);
    assert_int_equal(circle_op_make(&op, t_ids[A], out, 100, &len), KITH_ETOOBIG);
    assert_int_equal(circle_op_make(&op, t_ids[A], out, sizeof out, &len), KITH_OK);
}

/* ---- the log ---- */

static void
log__adds_once__and_iterates(void **state)
{
    struct t_op o1, o2;
    uint8_t *log = NULL;
    size_t log_len = 0, off = 0, op_len = 0;
    const uint8_t *op = NULL;
    bool added = true;

    (void)state;
    assert_int_equal(circle_log_check(NULL, 0), KITH_OK);
    assert_int_equal(circle_log_next(NULL, 0, &off, &op, &op_len), KITH_ENOTFOUND);
    t_issue(&log, &log_len, &o1, CIRCLE_OP_CREATE, A, A, true, T0);
    t_issue(&log, &log_len, &o2, CIRCLE_OP_ADD, A, B, false, T0 + 1);
    assert_int_equal(circle_log_add(&log, &log_len, o1.bytes, o1.len, &added), KITH_OK);
    assert_false(added);
    assert_int_equal(log_len, 4 + o1.len + o2.len);
    assert_int_equal(circle_log_check(log, log_len), KITH_OK);
    assert_int_equal(circle_log_next(log, log_len, &off, &op, &op_len), KITH_OK);
    assert_int_equal(op_len, o1.len);
    assert_memory_equal(op, o1.bytes, o1.len);
    assert_int_equal(circle_log_next(log, log_len, &off, &op, &op_len), KITH_OK);
    assert_memory_equal(op, o2.bytes, o2.len);
    assert_int_equal(circle_log_next(log, log_len, &off, &op, &op_len), KITH_ENOTFOUND);
    /* A bad op is refused and leaves the log as it was. */
    o2.bytes[10] ^= 1;
    assert_int_equal(circle_log_add(&log, &log_len, o2.bytes, o2.len, &added), KITH_ECRYPTO);
    assert_false(added);
    assert_int_equal(log_len, 4 + o1.len + o2.len);
    free(log);
}

static void
log__check_rejects__duplicates_truncation_and_empty_entries(void **state)
{
    struct t_op o;
    const struct t_op *ops[] = { &o };
    const size_t twice[] = { 0, 0 };
    uint8_t log[2 * (CIRCLE_OP_MAX + 2)];
    size_t len, off = 0, op_len;
    const uint8_t *op;
    struct circle_state st;

    (void)state;
    t_make(&o, CIRCLE_OP_CREATE, A, A, 1, NULL, true, T0);
    len = t_log_raw(log, ops, twice, 2);
    assert_int_equal(circle_log_check(log, len), KITH_EMALFORMED);
    t_resolve(log, len, &st); /* resolution counts it once */
    assert_int_equal(st.napplied, 1);
    len = t_log_raw(log, ops, twice, 1);
    assert_int_equal(circle_log_check(log, len), KITH_OK);
    for (size_t cut = 1; cut < len; cut++) {
        assert_int_equal(circle_log_check(log, cut), KITH_EMALFORMED);
        assert_int_equal(circle_resolve(log, cut, &st), KITH_EMALFORMED);
    }
    log[0] = 0;
    log[1] = 0;
    assert_int_equal(circle_log_check(log, 2), KITH_EMALFORMED);
    assert_int_equal(circle_log_next(log, 2, &off, &op, &op_len), KITH_EMALFORMED);
    log[0] = (CIRCLE_OP_MAX + 1) >> 8;
    log[1] = (uint8_t)(CIRCLE_OP_MAX + 1);
    off = 0;
    assert_int_equal(circle_log_next(log, sizeof log, &off, &op, &op_len), KITH_EMALFORMED);
}

static void
log__add_refuses__past_the_size_bound(void **state)
{
    struct t_op o;
    uint8_t *log = NULL;
    size_t log_len = 0, n = 0, before;
    bool added = false;
    int rc = KITH_OK;

    (void)state;
    for (uint32_t i = 0; rc == KITH_OK; i++) {
        t_make(&o, CIRCLE_OP_LEAVE, A, A, 2, NULL, false, T0 + i); /* distinct by issued_at */
        before = log_len;
        rc = circle_log_add(&log, &log_len, o.bytes, o.len, &added);
        if (rc == KITH_OK) {
            assert_true(added);
            n++;
        } else {
            assert_int_equal(rc, KITH_ETOOBIG);
            assert_false(added);
            assert_int_equal(log_len, before);
            assert_true(before + 2 + o.len > CIRCLE_LOG_MAX);
        }
    }
    assert_true(log_len <= CIRCLE_LOG_MAX);
    assert_true(n < CIRCLE_OPS_MAX);
    assert_int_equal(circle_log_check(log, log_len), KITH_OK);
    free(log);
}

/* ---- resolution ---- */

static void
resolve__builds_the_chain__with_sorted_members_and_epoch_ids(void **state)
{
    struct t_base b;
    uint8_t ids[5][16];
    uint8_t want[16];
    const struct circle_epoch *e4, *e5;

    (void)state;
    t_base_build(&b);
    assert_string_equal(b.st.name, "Tuesday group");
    assert_memory_equal(b.st.circle_id, t_cid, 16);
    assert_int_equal(b.st.epoch_no, 5);
    assert_int_equal(b.st.nmembers, 5);
    assert_int_equal(b.st.napplied, 5);
    assert_int_equal(b.st.nlosers, 0);
    assert_int_equal(b.st.npending, 0);
    assert_int_equal(b.st.nepochs, 5);
    for (size_t i = 1; i < b.st.nmembers; i++) {
        assert_true(memcmp(b.st.members[i - 1].member_id, b.st.members[i].member_id, 16) < 0);
    }
    assert_true(t_is_admin(&b.st, A) && t_is_admin(&b.st, B) && !t_is_admin(&b.st, C));
    assert_false(t_has(&b.st, X));
    for (int i = 0; i < 5; i++) {
        t_mid(i, ids[i]); /* A B C D Y, unsorted: the function sorts */
    }
    e4 = circle_epoch_find(&b.st, 4);
    e5 = circle_epoch_find(&b.st, 5);
    assert_non_null(e4);
    assert_non_null(e5);
    assert_null(circle_epoch_find(&b.st, 6));
    circle_epoch_id(t_cid, 5, e4->epoch_id, (const uint8_t(*)[16])ids, 5, want);
    assert_memory_equal(b.st.epoch_id, want, 16);
    assert_memory_equal(e5->epoch_id, want, 16);
    assert_int_equal(e5->started_at, T0 + 400);
    assert_true(circle_epoch_has(e5, ids[Y]) && !circle_epoch_has(e4, ids[Y]));
    assert_memory_equal(b.st.members[0].member_id, e5->members[0], 16);
    free(b.log);
}

static void
resolve__needs_a_create(void **state)
{
    struct t_base b;
    struct circle_state st;
    const size_t order[] = { 1, 2, 3, 4 };
    const struct t_op *ops[] = { &b.ops[0], &b.ops[1], &b.ops[2], &b.ops[3], &b.ops[4] };
    uint8_t log[4 * (CIRCLE_OP_MAX + 2)];
    size_t len;

    (void)state;
    t_base_build(&b);
    len = t_log_raw(log, ops, order, 4);
    assert_int_equal(circle_resolve(log, len, &st), KITH_ENOTFOUND);
    assert_int_equal(circle_resolve(NULL, 0, &st), KITH_ENOTFOUND);
    free(b.log);
}

/* The base state, unchanged by an op that is not valid on it. */
static void
t_assert_refused(const struct t_base *b, uint8_t type, int issuer, int subject, bool admin)
{
    struct t_op o;
    struct circle_state st;

    t_make(&o, type, issuer, subject, b->st.epoch_no + 1, b->st.epoch_id, admin, T0 + 999);
    t_with(b, &o, &st);
    t_assert_same_state(&st, &b->st);
}

static void
resolve__refuses__ops_their_issuer_may_not_make(void **state)
{
    struct t_base b;

    (void)state;
    t_base_build(&b);
    t_assert_refused(&b, CIRCLE_OP_ADD, C, X, false);    /* non-admin ADD */
    t_assert_refused(&b, CIRCLE_OP_REMOVE, C, D, false); /* non-admin REMOVE */
    t_assert_refused(&b, CIRCLE_OP_ADMIN, C, D, false);  /* non-admin ADMIN */
    t_assert_refused(&b, CIRCLE_OP_ADD, X, X, false);    /* outsider adds themselves */
    t_assert_refused(&b, CIRCLE_OP_ADD, A, C, false);    /* already a member */
    t_assert_refused(&b, CIRCLE_OP_REMOVE, A, A, false); /* removing oneself */
    t_assert_refused(&b, CIRCLE_OP_REMOVE, A, X, false); /* not a member */
    t_assert_refused(&b, CIRCLE_OP_ADMIN, A, B, true);   /* already an admin */
    t_assert_refused(&b, CIRCLE_OP_ADMIN, A, X, true);   /* not a member */
    t_assert_refused(&b, CIRCLE_OP_LEAVE, X, X, false);  /* not a member */
    {
        struct t_op o;
        struct circle_state st;
        static const uint8_t other[16] = { 7 };

        /* Wrong epoch number on the right parent, and a parent nobody knows. */
        t_make(&o, CIRCLE_OP_ADD, A, X, b.st.epoch_no + 2, b.st.epoch_id, false, T0);
        t_with(&b, &o, &st);
        t_assert_same_state(&st, &b.st);
        t_make(&o, CIRCLE_OP_ADD, A, X, b.st.epoch_no + 1, other, false, T0);
        t_with(&b, &o, &st);
        assert_int_equal(st.npending, 1);
        assert_memory_equal(st.epoch_id, b.st.epoch_id, 16);
    }
    free(b.log);
}

static void
resolve__applies__remove_leave_and_admin(void **state)
{
    struct t_base b;
    struct t_op o;
    struct circle_state st;

    (void)state;
    t_base_build(&b);
    t_issue(&b.log, &b.log_len, &o, CIRCLE_OP_REMOVE, B, Y, false, T0 + 500);
    t_resolve(b.log, b.log_len, &st);
    assert_false(t_has(&st, Y));
    assert_int_equal(st.nmembers, 4);
    t_issue(&b.log, &b.log_len, &o, CIRCLE_OP_ADMIN, B, C, true, T0 + 600);
    t_resolve(b.log, b.log_len, &st);
    assert_true(t_is_admin(&st, C));
    /* C, now an admin, removes A (the creator); B leaves. */
    t_issue(&b.log, &b.log_len, &o, CIRCLE_OP_REMOVE, C, A, false, T0 + 700);
    t_issue(&b.log, &b.log_len, &o, CIRCLE_OP_LEAVE, B, B, false, T0 + 800);
    t_resolve(b.log, b.log_len, &st);
    assert_int_equal(st.epoch_no, 9);
    assert_int_equal(st.nmembers, 2);
    assert_true(t_has(&st, C) && t_has(&st, D) && !t_has(&st, B) && !t_has(&st, A));
    b.st = st;
    /* Gone members can issue nothing; the last admin cannot leave while others stay. */
    t_assert_refused(&b, CIRCLE_OP_ADD, B, X, false);
    t_assert_refused(&b, CIRCLE_OP_LEAVE, B, B, false);
    t_assert_refused(&b, CIRCLE_OP_ADD, A, X, false);
    t_assert_refused(&b, CIRCLE_OP_REMOVE, A, C, false);
    t_assert_refused(&b, CIRCLE_OP_LEAVE, C, C, false);
    /* D may leave; then C, the last member, may too. */
    t_issue(&b.log, &b.log_len, &o, CIRCLE_OP_LEAVE, D, D, false, T0 + 900);
    t_issue(&b.log, &b.log_len, &o, CIRCLE_OP_LEAVE, C, C, false, T0 + 1000);
    t_resolve(b.log, b.log_len, &st);
    assert_int_equal(st.nmembers, 0);
    assert_int_equal(st.epoch_no, 11);
    assert_int_equal(st.nepochs, 11);
    assert_int_equal(st.napplied, 11);
    free(b.log);
}

static void
resolve__caps_members_and_keeps_the_last_epochs(void **state)
{
    struct identity *many[CIRCLE_MAX_MEMBERS];
    uint8_t *log = NULL;
    size_t log_len = 0;
    struct circle_state st;
    struct circle_op op;
    uint8_t bytes[CIRCLE_OP_MAX];
    size_t len;
    bool added;

    (void)state;
    many[0] = t_ids[A];
    for (size_t i = 1; i < CIRCLE_MAX_MEMBERS; i++) {
        many[i] = t_identity((uint8_t)(0x40 + i));
    }
    {
        struct t_op o;

        t_issue(&log, &log_len, &o, CIRCLE_OP_CREATE, A, A, true, T0);
    }
    for (size_t i = 1; i <= CIRCLE_MAX_MEMBERS; i++) {
        const struct identity *subject = i < CIRCLE_MAX_MEMBERS ? many[i] : t_ids[X];

        t_resolve(log, log_len, &st);
        t_op_fill(&op, CIRCLE_OP_ADD, subject, st.epoch_no + 1, st.epoch_id, false,
                  T0 + (uint32_t)i);
        assert_int_equal(circle_op_make(&op, t_ids[A], bytes, sizeof bytes, &len), KITH_OK);
        assert_int_equal(circle_log_add(&log, &log_len, bytes, len, &added), KITH_OK);
    }
    t_resolve(log, log_len, &st);
    assert_int_equal(st.nmembers, CIRCLE_MAX_MEMBERS); /* the 51st ADD is not valid */
    assert_false(t_has(&st, X));
    assert_int_equal(st.epoch_no, CIRCLE_MAX_MEMBERS);
    assert_int_equal(st.nepochs, CIRCLE_EPOCHS_KEPT);
    assert_int_equal(st.epochs[0].epoch_no, CIRCLE_MAX_MEMBERS - CIRCLE_EPOCHS_KEPT + 1);
    assert_int_equal(st.epochs[CIRCLE_EPOCHS_KEPT - 1].epoch_no, CIRCLE_MAX_MEMBERS);
    assert_null(circle_epoch_find(&st, 1));
    for (size_t i = 1; i < st.nmembers; i++) {
        assert_true(memcmp(st.members[i - 1].member_id, st.members[i].member_id, 16) < 0);
    }
    for (size_t i = 1; i < CIRCLE_MAX_MEMBERS; i++) {
        identity_destroy(many[i]);
    }
    free(log);
}

static void
resolve__waits_for_unknown_parents(void **state)
{
    struct t_base b;
    const struct t_op *ops[] = { &b.ops[0], &b.ops[1], &b.ops[2], &b.ops[3], &b.ops[4] };
    const size_t gap[] = { 0, 2, 3, 4 };
    const size_t all[] = { 4, 3, 2, 1, 0 };
    uint8_t log[5 * (CIRCLE_OP_MAX + 2)];
    struct circle_state st;
    size_t len;

    (void)state;
    t_base_build(&b);
    len = t_log_raw(log, ops, gap, 4); /* without ADD(B) the rest has no known parent */
    t_resolve(log, len, &st);
    assert_int_equal(st.epoch_no, 1);
    assert_int_equal(st.napplied, 1);
    assert_int_equal(st.npending, 3);
    len = t_log_raw(log, ops, all, 5);
    t_resolve(log, len, &st);
    assert_int_equal(st.npending, 0);
    t_assert_same_state(&st, &b.st);
    free(b.log);
}

/* Two admins race on the same parent: A adds X, B removes Y. */
static void
resolve__converges__across_random_delivery_orders(void **state)
{
    struct t_base b;
    struct t_op add_x, remove_y;
    const struct t_op *ops[7];
    const struct t_op *winner, *loser;
    struct circle_state want, st;
    uint8_t *log = xmalloc(7 * (CIRCLE_OP_MAX + 2));
    size_t order[7], len;
    const uint64_t seed = t_seed;

    (void)state;
    t_base_build(&b);
    t_make(&add_x, CIRCLE_OP_ADD, A, X, 6, b.st.epoch_id, false, T0 + 500);
    t_make(&remove_y, CIRCLE_OP_REMOVE, B, Y, 6, b.st.epoch_id, false, T0 + 501);
    for (size_t i = 0; i < 5; i++) {
        ops[i] = &b.ops[i];
    }
    ops[5] = &add_x;
    ops[6] = &remove_y;
    winner = memcmp(add_x.op.hash, remove_y.op.hash, 32) < 0 ? &add_x : &remove_y;
    loser = winner == &add_x ? &remove_y : &add_x;
    for (size_t i = 0; i < 7; i++) {
        order[i] = i;
    }
    len = t_log_raw(log, ops, order, 7);
    t_resolve(log, len, &want);
    assert_int_equal(want.epoch_no, 6);
    assert_int_equal(want.napplied, 6);
    assert_int_equal(want.nlosers, 1);
    assert_memory_equal(want.losers[0], loser->op.hash, 32);
    assert_int_equal(t_has(&want, X), winner == &add_x);
    assert_int_equal(t_has(&want, Y), winner == &add_x);
    /* 1,000 delivery orders: 200 rounds of five members, each fed its own order; one member a
     * round also resolves a partial view. */
    /* Under valgrind (KITH_TEST_QUICK, set by the valgrind test setup) 20 rounds; else 200. */
    const int trials = getenv("KITH_TEST_QUICK") != NULL ? 20 : 200;
    for (int trial = 0; trial < trials; trial++) {
        for (int member = 0; member < 5; member++) {
            t_shuffle(order, 7);
            if (member == trial % 5) {
                size_t k = 1 + t_below(6);
                int rc;

                len = t_log_raw(log, ops, order, k);
                rc = circle_resolve(log, len, &st);
                if (rc != KITH_OK && rc != KITH_ENOTFOUND) { /* ENOTFOUND: no CREATE yet */
                    print_message("seed 0x%llx trial %d\n", (unsigned long long)seed, trial);
                    fail();
                }
                assert_true(st.napplied + st.npending + st.nlosers <= k);
            }
            len = t_log_raw(log, ops, order, 7);
            t_resolve(log, len, &st);
            if (memcmp(st.epoch_id, want.epoch_id, 16) != 0) {
                print_message("seed 0x%llx trial %d member %d\n", (unsigned long long)seed, trial,
                              member);
            }
            t_assert_same_state(&st, &want);
        }
    }
    /* The loser's issuer re-issues on top of the winner; everyone then applies both. */
    {
        struct t_op again;
        struct circle_state after;

        t_make(&again, loser->op.type, loser == &add_x ? A : B, loser == &add_x ? X : Y, 7,
               want.epoch_id, false, T0 + 600);
        ops[5] = winner;
        ops[6] = &again;
        for (size_t i = 0; i < 7; i++) {
            order[i] = i;
        }
        len = t_log_raw(log, ops, order, 7);
        t_resolve(log, len, &after);
        assert_int_equal(after.epoch_no, 7);
        assert_true(t_has(&after, X) && !t_has(&after, Y));
    }
    free(log);
    free(b.log);
}

static void
frame_acceptable__follows_epochs_and_the_grace_period(void **state)
{
    struct t_base b;
    struct t_op o;
    struct circle_state st;
    uint8_t id[N_MEMBERS][16];
    const uint32_t removed_at = T0 + 1000;

    (void)state;
    t_base_build(&b);
    t_issue(&b.log, &b.log_len, &o, CIRCLE_OP_REMOVE, A, Y, false, removed_at);
    t_resolve(b.log, b.log_len, &st);
    for (int i = 0; i < N_MEMBERS; i++) {
        t_mid(i, id[i]);
    }
    /* Current epoch 6: members only. */
    assert_true(circle_frame_acceptable(&st, 6, id[A], removed_at + 100 * DAY));
    assert_true(circle_frame_acceptable(&st, 6, id[D], removed_at));
    assert_false(circle_frame_acceptable(&st, 6, id[Y], removed_at));
    assert_false(circle_frame_acceptable(&st, 6, id[X], removed_at));
    /* Epoch 5 (Y was a member) during the grace period, then never. */
    assert_true(circle_frame_acceptable(&st, 5, id[Y], removed_at));
    assert_true(circle_frame_acceptable(&st, 5, id[Y], removed_at - 50)); /* clock behind */
    assert_true(circle_frame_acceptable(&st, 5, id[Y], removed_at + CIRCLE_EPOCH_GRACE_S - 1));
    assert_false(circle_frame_acceptable(&st, 5, id[Y], removed_at + CIRCLE_EPOCH_GRACE_S));
    assert_true(circle_frame_acceptable(&st, 5, id[A], removed_at + CIRCLE_EPOCH_GRACE_S - 1));
    assert_false(circle_frame_acceptable(&st, 5, id[A], removed_at + CIRCLE_EPOCH_GRACE_S));
    /* Epoch 4 was replaced at T0 + 400: Y was not in it, C was. */
    assert_false(circle_frame_acceptable(&st, 4, id[Y], T0 + 401));
    assert_true(circle_frame_acceptable(&st, 4, id[C], T0 + 401));
    assert_false(circle_frame_acceptable(&st, 4, id[C], T0 + 400 + CIRCLE_EPOCH_GRACE_S));
    /* Non-members never; unknown epochs never. */
    for (uint32_t e = 0; e <= 8; e++) {
        assert_false(circle_frame_acceptable(&st, e, id[X], T0 + 401));
        assert_false(circle_frame_acceptable(&st, e, id[J], removed_at));
    }
    assert_false(circle_frame_acceptable(&st, 7, id[A], removed_at));
    assert_false(circle_frame_acceptable(&st, 0, id[A], removed_at));
    free(b.log);
}

/* ---- sender keys and chains ---- */

struct t_msg {
    uint8_t ad[FRAME_AD_BYTES];
    uint8_t body[BODY_CAP];
    size_t len;
    uint32_t index;
};

static void
t_outer_ad(uint8_t ad[FRAME_AD_BYTES], uint32_t n)
{
    memset(ad, 0, FRAME_AD_BYTES);
    ad[0] = FRAME_VERSION;
    ad[1] = FRAME_CIRCLE_MSG;
    ad[4] = (uint8_t)(n >> 24); /* msg_id */
    ad[5] = (uint8_t)(n >> 16);
    ad[6] = (uint8_t)(n >> 8);
    ad[7] = (uint8_t)n;
    memcpy(ad + 20, t_cid, 16); /* route */
    ad[36] = 0x70;              /* expires_at */
}

static void
t_pt(uint8_t pt[32], uint32_t index)
{
    memset(pt, 0x41, 32);
    memcpy(pt, &index, sizeof index);
}

static void
t_seal(struct circle_sender *s, int me, struct t_msg *m)
{
    uint8_t id[16], pt[32];

    t_mid(me, id);
    m->index = s->index;
    t_outer_ad(m->ad, (uint32_t)s->seq);
    t_pt(pt, s->index);
    assert_int_equal(circle_seal(s, id, m->ad, pt, sizeof pt, m->body, sizeof m->body, &m->len),
                     KITH_OK);
    assert_int_equal(m->len, CIRCLE_BODY_MIN + sizeof pt);
}

static struct circle_chain *
t_chain(const struct circle_sender *s, int sender)
{
    struct circle_skd skd;
    struct circle_chain *c = NULL;
    uint8_t id[16];

    t_mid(sender, id);
    circle_sender_skd(s, t_cid, &skd);
    assert_int_equal(circle_chain_new(&skd, id, T0, &c), KITH_OK);
    sodium_memzero(&skd, sizeof skd);
    return c;
}

static int
t_open(struct circle_chain *c, const struct t_msg *m, uint32_t now_s)
{
    uint8_t pt[BODY_CAP], want[32];
    size_t pt_len = 7;
    int rc = circle_chain_open(c, m->ad, m->body, m->len, now_s, pt, sizeof pt, &pt_len);

    if (rc == KITH_OK) {
        t_pt(want, m->index);
        assert_int_equal(pt_len, 32);
        assert_memory_equal(pt, want, 32);
    } else {
        static const uint8_t zero[BODY_CAP];

        assert_int_equal(pt_len, 0);
        assert_memory_equal(pt, zero, sizeof pt);
    }
    return rc;
}

struct t_snap {
    uint8_t *bytes;
    size_t len;
};

static void
t_snap_take(const struct circle_chain *c, struct t_snap *s)
{
    circle_chain_serialize(c, &s->bytes, &s->len);
}

static void
t_snap_same(const struct circle_chain *c, const struct t_snap *s)
{
    uint8_t *now = NULL;
    size_t len = 0;

    circle_chain_serialize(c, &now, &len);
    assert_int_equal(len, s->len);
    assert_memory_equal(now, s->bytes, len);
    free(now);
}

static void
t_snap_free(struct t_snap *s)
{
    sodium_memzero(s->bytes, s->len);
    free(s->bytes);
    s->bytes = NULL;
}

/* 200 kept messages among ~1,650 sealed (gaps of up to 999 indices), opened in a random order
 * that never jumps more than 999 past the chain; each opens once, replays are refused. */
static void
chain__opens_a_random_order_once__and_refuses_replays(void **state)
{
    enum { KEPT = 200 };
    struct circle_sender s;
    struct t_msg *kept = xcalloc(KEPT, sizeof *kept);
    struct t_msg scratch;
    struct circle_chain *c;
    struct t_snap snap;
    bool opened[KEPT] = { false };
    uint32_t next = 0;
    const uint64_t seed = t_seed;

    (void)state;
    circle_sender_new(&s, 3, t_cid, 0, 1, T0);
    c = t_chain(&s, A);
    for (size_t k = 0; k < KEPT; k++) {
        size_t gap = k == 50 ? 998 : k == 120 ? 300 : k == 160 ? 150 : t_below(2);

        for (size_t g = 0; g < gap; g++) {
            t_seal(&s, A, &scratch); /* lost on the way */
        }
        t_seal(&s, A, &kept[k]);
    }
    for (size_t done = 0; done < KEPT; done++) {
        size_t eligible[KEPT], n = 0, pick;

        for (size_t k = 0; k < KEPT; k++) {
            if (!opened[k] && kept[k].index <= next + 999) {
                eligible[n++] = k;
            }
        }
        assert_true(n > 0);
        pick = eligible[t_below(n)];
        if (t_open(c, &kept[pick], T0 + 60) != KITH_OK) {
            print_message("seed 0x%llx: index %u failed\n", (unsigned long long)seed,
                          kept[pick].index);
            fail();
        }
        opened[pick] = true;
        if (kept[pick].index >= next) {
            next = kept[pick].index + 1;
        }
        if (t_below(4) == 0) { /* replay something already opened */
            size_t again = t_below(KEPT);

            if (opened[again]) {
                t_snap_take(c, &snap);
                assert_int_equal(t_open(c, &kept[again], T0 + 60), KITH_EREPLAY);
                t_snap_same(c, &snap);
                t_snap_free(&snap);
            }
        }
    }
    for (size_t k = 0; k < KEPT; k++) {
        assert_int_equal(t_open(c, &kept[k], T0 + 61), KITH_EREPLAY);
    }
    circle_chain_destroy(c);
    free(kept);
    sodium_memzero(&s, sizeof s);
}

static void
chain__refuses_far_indices__before_any_work(void **state)
{
    struct circle_sender s;
    struct t_msg *msgs = xcalloc(1002, sizeof *msgs);
    struct t_msg forged;
    struct circle_chain *c;
    struct t_snap snap;
    struct timespec t1, t2;
    const uint32_t far[] = { UINT32_MAX, UINT32_MAX - 1, 1001, 5000 };

    (void)state;
    circle_sender_new(&s, 1, t_cid, 0, 1, T0);
    c = t_chain(&s, B);
    for (size_t i = 0; i < 1002; i++) {
        t_seal(&s, B, &msgs[i]);
    }
    t_snap_take(c, &snap);
    assert_int_equal(t_open(c, &msgs[1001], T0), KITH_ECRYPTO); /* a gap of 1,001 */
    t_snap_same(c, &snap);
    /* Validly signed bodies with absurd indices: refused without deriving anything. */
    for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
        forged = msgs[0];
        forged.body[40] = (uint8_t)(far[i] >> 24);
        forged.body[41] = (uint8_t)(far[i] >> 16);
        forged.body[42] = (uint8_t)(far[i] >> 8);
        forged.body[43] = (uint8_t)far[i];
        {
            uint8_t msg[18 + FRAME_AD_BYTES + BODY_CAP];

            memcpy(msg, "kith-v1/circle-msg", 18);
            memcpy(msg + 18, forged.ad, FRAME_AD_BYTES);
            memcpy(msg + 18 + FRAME_AD_BYTES, forged.body, forged.len - 64);
            crypto_sign_detached(forged.body + forged.len - 64, NULL, msg,
                                 18 + FRAME_AD_BYTES + forged.len - 64, s.sigk_sk);
        }
        assert_int_equal(circle_chain_verify(c, forged.ad, forged.body, forged.len), KITH_OK);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_int_equal(t_open(c, &forged, T0), KITH_ECRYPTO);
        clock_gettime(CLOCK_MONOTONIC, &t2);
        assert_true(t2.tv_sec - t1.tv_sec < 2);
        t_snap_same(c, &snap);
    }
    t_snap_free(&snap);
    /* A gap of exactly 1,000 is fine, and then the 1,001st is next. */
    assert_int_equal(t_open(c, &msgs[1000], T0), KITH_OK);
    assert_int_equal(t_open(c, &msgs[1001], T0), KITH_OK);
    assert_int_equal(t_open(c, &msgs[0], T0), KITH_OK);
    assert_int_equal(t_open(c, &msgs[0], T0), KITH_EREPLAY);
    circle_chain_destroy(c);
    free(msgs);
    sodium_memzero(&s, sizeof s);
}

static size_t
t_skipped_count(const struct circle_chain *c)
{
    struct t_snap snap;
    size_t n;

    t_snap_take(c, &snap);
    n = (snap.len - 137) / 40;
    t_snap_free(&snap);
    return n;
}

static void
chain__bounds_skipped_keys__by_count_and_age(void **state)
{
    struct circle_sender s;
    struct t_msg *msgs = xcalloc(3004, sizeof *msgs);
    struct circle_chain *c;

    (void)state;
    circle_sender_new(&s, 1, t_cid, 0, 1, T0);
    c = t_chain(&s, B);
    for (size_t i = 0; i < 3004; i++) {
        t_seal(&s, B, &msgs[i]);
    }
    assert_int_equal(t_open(c, &msgs[1000], T0), KITH_OK);
    assert_int_equal(t_skipped_count(c), 1000);
    assert_int_equal(t_open(c, &msgs[2001], T0), KITH_OK);
    assert_int_equal(t_skipped_count(c), 2000);
    assert_int_equal(t_open(c, &msgs[3002], T0 + 10), KITH_OK);
    assert_int_equal(t_skipped_count(c), CIRCLE_CHAIN_SKIPPED_MAX);
    /* The oldest 1,000 were evicted; the newer ones still open. */
    assert_int_equal(t_open(c, &msgs[5], T0 + 10), KITH_EREPLAY);
    assert_int_equal(t_open(c, &msgs[999], T0 + 10), KITH_EREPLAY);
    assert_int_equal(t_open(c, &msgs[1001], T0 + 10), KITH_OK);
    /* After the TTL, keys stored at T0 are gone; those stored at T0 + 10 last a bit longer. */
    assert_int_equal(t_open(c, &msgs[1500], T0 + CIRCLE_SKIPPED_TTL_S + 1), KITH_EREPLAY);
    assert_int_equal(t_open(c, &msgs[2500], T0 + CIRCLE_SKIPPED_TTL_S + 1), KITH_OK);
    assert_int_equal(t_skipped_count(c), 999); /* 2002..3001 minus 2500 */
    assert_int_equal(t_open(c, &msgs[3003], T0 + CIRCLE_SKIPPED_TTL_S + 11), KITH_OK);
    assert_int_equal(t_skipped_count(c), 0);
    circle_chain_destroy(c);
    free(msgs);
    sodium_memzero(&s, sizeof s);
}

static void
chain__tampering_anywhere__is_refused_and_changes_nothing(void **state)
{
    struct circle_sender s;
    struct t_msg m[3], bad;
    struct circle_chain *c;
    struct t_snap snap;

    (void)state;
    circle_sender_new(&s, 2, t_cid, 0, 1, T0);
    c = t_chain(&s, C);
    for (size_t i = 0; i < 3; i++) {
        t_seal(&s, C, &m[i]);
    }
    assert_int_equal(t_open(c, &m[2], T0), KITH_OK); /* m[0], m[1] now use skipped keys */
    t_snap_take(c, &snap);
    for (size_t which = 0; which < 2; which++) {
        for (size_t bit = 0; bit < 8 * m[which].len; bit++) {
            bad = m[which];
            bad.body[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_not_equal(t_open(c, &bad, T0), KITH_OK);
            assert_int_not_equal(circle_chain_verify(c, bad.ad, bad.body, bad.len), KITH_OK);
            t_snap_same(c, &snap);
        }
        for (size_t bit = 0; bit < 8 * FRAME_AD_BYTES; bit++) {
            bad = m[which];
            bad.ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_not_equal(t_open(c, &bad, T0), KITH_OK);
            t_snap_same(c, &snap);
        }
        bad = m[which];
        bad.len--;
        assert_int_equal(t_open(c, &bad, T0), KITH_ECRYPTO);
        bad.len = CIRCLE_BODY_MIN - 1;
        assert_int_equal(t_open(c, &bad, T0), KITH_EMALFORMED);
        t_snap_same(c, &snap);
    }
    {
        uint8_t small[31];
        size_t len = 5;

        assert_int_equal(
            circle_chain_open(c, m[0].ad, m[0].body, m[0].len, T0, small, sizeof small, &len),
            KITH_ETOOBIG);
        t_snap_same(c, &snap);
    }
    assert_int_equal(t_open(c, &m[0], T0), KITH_OK);
    assert_int_equal(t_open(c, &m[1], T0), KITH_OK);
    t_snap_free(&snap);
    circle_chain_destroy(c);
    sodium_memzero(&s, sizeof s);
}

static void
chain__refuses__forged_senders_and_foreign_epochs(void **state)
{
    struct circle_sender sa, sb, sb_next;
    struct circle_chain *cb, *cb_gen1;
    struct t_msg forged, real, later;
    struct t_snap snap;
    struct circle_skd skd;
    struct circle_chain *other = NULL;
    uint8_t id_b[16];

    (void)state;
    circle_sender_new(&sa, 4, t_cid, 0, 1, T0);
    circle_sender_new(&sb, 4, t_cid, 0, 1, T0);
    cb = t_chain(&sb, B);
    /* A seals with its own SIGK but claims to be B: B's chain refuses it before decrypting. */
    t_seal(&sa, B, &forged);
    t_snap_take(cb, &snap);
    assert_int_equal(circle_chain_verify(cb, forged.ad, forged.body, forged.len), KITH_ECRYPTO);
    assert_int_equal(t_open(cb, &forged, T0), KITH_ECRYPTO);
    t_snap_same(cb, &snap);
    /* B's real frame on A's chain: not A's. */
    t_seal(&sb, B, &real);
    {
        struct circle_chain *ca = t_chain(&sa, A);

        assert_int_equal(t_open(ca, &real, T0), KITH_EINVAL);
        circle_chain_destroy(ca);
    }
    /* B's next generation on the gen-0 chain, and the reverse. */
    circle_sender_new(&sb_next, 4, t_cid, 1, sb.seq, T0);
    cb_gen1 = t_chain(&sb_next, B);
    t_seal(&sb_next, B, &later);
    assert_int_equal(t_open(cb, &later, T0), KITH_EINVAL);
    assert_int_equal(t_open(cb_gen1, &real, T0), KITH_EINVAL);
    assert_int_equal(t_open(cb_gen1, &later, T0), KITH_OK);
    /* Another epoch number or id, another circle (route). */
    t_mid(B, id_b);
    circle_sender_skd(&sb, t_cid, &skd);
    skd.epoch_no = 5;
    assert_int_equal(circle_chain_new(&skd, id_b, T0, &other), KITH_OK);
    assert_int_equal(t_open(other, &real, T0), KITH_EINVAL);
    circle_chain_destroy(other);
    circle_sender_skd(&sb, t_cid, &skd);
    skd.epoch_id[0] ^= 1;
    assert_int_equal(circle_chain_new(&skd, id_b, T0, &other), KITH_OK);
    assert_int_equal(t_open(other, &real, T0), KITH_EINVAL);
    circle_chain_destroy(other);
    circle_sender_skd(&sb, t_cid, &skd);
    skd.circle_id[0] ^= 1;
    assert_int_equal(circle_chain_new(&skd, id_b, T0, &other), KITH_OK);
    assert_int_equal(t_open(other, &real, T0), KITH_EINVAL);
    circle_chain_destroy(other);
    /* Distributions that cannot make a chain. */
    circle_sender_skd(&sb, t_cid, &skd);
    skd.epoch_no = 0;
    assert_int_equal(circle_chain_new(&skd, id_b, T0, &other), KITH_EINVAL);
    circle_sender_skd(&sb, t_cid, &skd);
    memset(skd.sigk_pub, 0, 32);
    assert_int_equal(circle_chain_new(&skd, id_b, T0, &other), KITH_EINVAL);
    circle_sender_skd(&sb, t_cid, &skd);
    skd.start_index = UINT32_MAX;
    assert_int_equal(circle_chain_new(&skd, id_b, T0, &other), KITH_EINVAL);
    assert_null(other);
    t_snap_same(cb, &snap);
    assert_int_equal(t_open(cb, &real, T0), KITH_OK);
    t_snap_free(&snap);
    sodium_memzero(&skd, sizeof skd);
    circle_chain_destroy(cb);
    circle_chain_destroy(cb_gen1);
    sodium_memzero(&sa, sizeof sa);
    sodium_memzero(&sb, sizeof sb);
    sodium_memzero(&sb_next, sizeof sb_next);
}

static void
chain__survives_serialisation__mid_stream(void **state)
{
    struct circle_sender s, s2;
    struct t_msg m[10];
    struct circle_chain *c, *back = NULL;
    uint8_t sbytes[CIRCLE_SENDER_BYTES];
    struct t_snap snap;
    uint8_t again[CIRCLE_SENDER_BYTES];

    (void)state;
    circle_sender_new(&s, 2, t_cid, 3, 40, T0);
    c = t_chain(&s, D);
    for (size_t i = 0; i < 5; i++) {
        t_seal(&s, D, &m[i]);
    }
    circle_sender_serialize(&s, sbytes);
    assert_int_equal(circle_sender_parse(sbytes, sizeof sbytes, &s2), KITH_OK);
    circle_sender_serialize(&s2, again);
    assert_memory_equal(again, sbytes, sizeof again);
    for (size_t i = 5; i < 10; i++) {
        t_seal(&s2, D, &m[i]); /* the parsed sender carries on the same chain */
    }
    assert_int_equal(s2.seq, 50);
    assert_int_equal(t_open(c, &m[3], T0), KITH_OK);
    assert_int_equal(t_open(c, &m[1], T0), KITH_OK);
    t_snap_take(c, &snap);
    assert_int_equal(circle_chain_parse(snap.bytes, snap.len, &back), KITH_OK);
    t_snap_same(back, &snap);
    circle_chain_destroy(c);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(t_open(back, &m[i], T0), i == 1 || i == 3 ? KITH_EREPLAY : KITH_OK);
    }
    /* Damaged states do not parse. */
    assert_int_equal(circle_chain_parse(snap.bytes, snap.len - 1, &c), KITH_EMALFORMED);
    assert_null(c);
    snap.bytes[0] = 2;
    assert_int_equal(circle_chain_parse(snap.bytes, snap.len, &c), KITH_EMALFORMED);
    snap.bytes[0] = 1;
    assert_int_equal(snap.len, 137 + 2 * 40); /* skipped 0 and 2, next 4 */
    snap.bytes[137 + 3] = 2;                  /* skipped 2, 2: not ascending */
    assert_int_equal(circle_chain_parse(snap.bytes, snap.len, &c), KITH_EMALFORMED);
    snap.bytes[137 + 3] = 0;
    snap.bytes[137 + 40 + 3] = 4; /* skipped 0, 4: at or past next */
    assert_int_equal(circle_chain_parse(snap.bytes, snap.len, &c), KITH_EMALFORMED);
    snap.bytes[137 + 40 + 3] = 2;
    snap.bytes[136] = 3; /* n_skipped disagrees with the length */
    assert_int_equal(circle_chain_parse(snap.bytes, snap.len, &c), KITH_EMALFORMED);
    snap.bytes[136] = 2;
    assert_int_equal(circle_chain_parse(snap.bytes, snap.len, &c), KITH_OK);
    circle_chain_destroy(c);
    sbytes[110] ^= 1; /* SIGK secret no longer matches */
    assert_int_equal(circle_sender_parse(sbytes, sizeof sbytes, &s2), KITH_EMALFORMED);
    sbytes[110] ^= 1;
    assert_int_equal(circle_sender_parse(sbytes, sizeof sbytes - 1, &s2), KITH_EMALFORMED);
    t_snap_free(&snap);
    circle_chain_destroy(back);
    sodium_memzero(sbytes, sizeof sbytes);
    sodium_memzero(&s, sizeof s);
    sodium_memzero(&s2, sizeof s2);
}

static void
sender__is_due__after_100_messages_or_7_days(void **state)
{
    struct circle_sender s;
    struct circle_skd skd;
    struct t_msg m;
    uint8_t out[CIRCLE_BODY_MIN];
    const uint8_t one[1] = { 1 };
    size_t len;
    uint8_t id[16] = { 0 };

    (void)state;
    circle_sender_new(&s, 1, t_cid, 0, 1, T0);
    assert_false(circle_sender_due(&s, T0));
    assert_false(circle_sender_due(&s, T0 + CIRCLE_ROTATE_S - 1));
    assert_true(circle_sender_due(&s, T0 + CIRCLE_ROTATE_S));
    for (int i = 0; i < CIRCLE_ROTATE_MSGS - 1; i++) {
        t_seal(&s, A, &m);
    }
    assert_false(circle_sender_due(&s, T0));
    t_seal(&s, A, &m);
    assert_true(circle_sender_due(&s, T0));
    assert_int_equal(s.seq, 101);
    circle_sender_skd(&s, t_cid, &skd);
    assert_int_equal(skd.start_index, 100);
    assert_memory_equal(skd.ck0, s.ck, 32);
    assert_memory_equal(skd.sigk_pub, s.sigk_pk, 32);
    assert_int_equal(skd.created_at, T0);
    /* Too small an output, an empty plaintext, and an exhausted chain. */
    assert_int_equal(circle_seal(&s, id, m.ad, one, 1, out, sizeof out, &len), KITH_ETOOBIG);
    assert_int_equal(len, 0);
    assert_int_equal(circle_seal(&s, id, m.ad, one, 0, out, sizeof out, &len), KITH_OK);
    assert_int_equal(len, CIRCLE_BODY_MIN);
    s.index = UINT32_MAX;
    assert_int_equal(circle_seal(&s, id, m.ad, one, 0, out, sizeof out, &len), KITH_ESTATE);
    sodium_memzero(&s, sizeof s);
    sodium_memzero(&skd, sizeof skd);
}

/* ---- secrecy across membership changes ---- */

struct t_member {
    int who;
    struct circle_sender sender;
    struct circle_chain *chains[N_MEMBERS]; /* by sender, for the current epoch */
};

/* Every member of st draws a fresh sender key and hands the distribution to every other member
 * of st, and to nobody else. Returns a bitmask of who received anything. */
static unsigned
t_new_epoch(struct t_member *m, const struct circle_state *st, uint32_t now_s)
{
    unsigned received = 0;

    for (int who = 0; who < N_MEMBERS; who++) {
        if (!t_has(st, who)) {
            continue;
        }
        circle_sender_new(&m[who].sender, st->epoch_no, st->epoch_id, 0, 1, now_s);
        for (int to = 0; to < N_MEMBERS; to++) {
            if (to == who || !t_has(st, to)) {
                continue;
            }
            circle_chain_destroy(m[to].chains[who]);
            m[to].chains[who] = t_chain(&m[who].sender, who);
            received |= 1u << to;
        }
    }
    return received;
}

static size_t
t_opens(struct t_member *reader, const struct t_msg *msgs, size_t n)
{
    size_t opened = 0;

    for (size_t i = 0; i < n; i++) {
        for (int who = 0; who < N_MEMBERS; who++) {
            if (reader->chains[who] != NULL && t_open(reader->chains[who], &msgs[i], T0) == 0) {
                opened++;
            }
        }
    }
    return opened;
}

static void
secrecy__removed_members_and_joiners__read_nothing_outside_their_epochs(void **state)
{
    struct t_member *m = xcalloc(N_MEMBERS, sizeof *m);
    struct t_msg *msgs = xcalloc(100, sizeof *msgs);
    struct t_msg *old_msgs = xcalloc(10, sizeof *old_msgs);
    uint8_t *log = NULL;
    size_t log_len = 0;
    struct t_op o;
    struct circle_state st;
    struct circle_skd old_b;
    unsigned received;

    (void)state;
    t_issue(&log, &log_len, &o, CIRCLE_OP_CREATE, A, A, true, T0);
    t_issue(&log, &log_len, &o, CIRCLE_OP_ADD, A, B, false, T0);
    t_issue(&log, &log_len, &o, CIRCLE_OP_ADD, A, C, false, T0);
    t_issue(&log, &log_len, &o, CIRCLE_OP_ADD, A, R, false, T0);
    t_resolve(log, log_len, &st);
    t_new_epoch(m, &st, T0);
    for (size_t i = 0; i < 10; i++) {
        t_seal(&m[A].sender, A, &old_msgs[i]);
    }
    assert_int_equal(t_opens(&m[R], old_msgs, 1), 1); /* R reads epoch 4 */
    circle_sender_skd(&m[B].sender, t_cid, &old_b);   /* what R holds of B */
    /* REMOVE(R): the remaining members' new keys never reach R. */
    t_issue(&log, &log_len, &o, CIRCLE_OP_REMOVE, A, R, false, T0 + 10);
    t_resolve(log, log_len, &st);
    received = t_new_epoch(m, &st, T0 + 10);
    assert_int_equal(received & (1u << R), 0);
    assert_int_equal(received, (1u << A) | (1u << B) | (1u << C));
    for (size_t i = 0; i < 100; i++) {
        t_seal(&m[B].sender, B, &msgs[i]);
    }
    assert_int_equal(t_opens(&m[R], msgs, 100), 0);
    assert_int_equal(t_opens(&m[C], msgs, 100), 100);
    /* Even B's old key, rebound by R to the new epoch's numbers, opens nothing. */
    {
        struct circle_chain *c = NULL;
        uint8_t id_b[16];

        t_mid(B, id_b);
        old_b.epoch_no = st.epoch_no;
        memcpy(old_b.epoch_id, st.epoch_id, 16);
        old_b.start_index = 0;
        assert_int_equal(circle_chain_new(&old_b, id_b, T0, &c), KITH_OK);
        for (size_t i = 0; i < 100; i++) {
            assert_int_equal(t_open(c, &msgs[i], T0), KITH_ECRYPTO);
        }
        circle_chain_destroy(c);
        sodium_memzero(&old_b, sizeof old_b);
    }
    /* A joiner gets only the new epoch's keys: old frames stay closed to them. */
    t_issue(&log, &log_len, &o, CIRCLE_OP_ADD, A, J, false, T0 + 20);
    t_resolve(log, log_len, &st);
    {
        struct t_msg *epoch5 = msgs; /* sealed under epoch 5 by B */

        received = t_new_epoch(m, &st, T0 + 20);
        assert_true((received & (1u << J)) != 0);
        assert_int_equal(t_opens(&m[J], epoch5, 100), 0);
        assert_int_equal(t_opens(&m[J], old_msgs, 10), 0);
        t_seal(&m[A].sender, A, &msgs[0]);
        assert_int_equal(t_opens(&m[J], msgs, 1), 1);
    }
    for (int i = 0; i < N_MEMBERS; i++) {
        for (int k = 0; k < N_MEMBERS; k++) {
            circle_chain_destroy(m[i].chains[k]);
        }
    }
    sodium_memzero(m, N_MEMBERS * sizeof *m);
    free(m);
    free(msgs);
    free(old_msgs);
    free(log);
}

static void
intro_psk__is_symmetric_and_bound_to_both_keys(void **state)
{
    uint8_t secret[32], ab[32], ba[32], ac[32];

    (void)state;
    memset(secret, 0x33, sizeof secret);
    circle_intro_psk(secret, identity_public(t_ids[A])->ik, identity_public(t_ids[B])->ik, ab);
    circle_intro_psk(secret, identity_public(t_ids[B])->ik, identity_public(t_ids[A])->ik, ba);
    circle_intro_psk(secret, identity_public(t_ids[A])->ik, identity_public(t_ids[C])->ik, ac);
    assert_memory_equal(ab, ba, 32);
    assert_memory_not_equal(ab, ac, 32);
    secret[0] ^= 1;
    circle_intro_psk(secret, identity_public(t_ids[A])->ik, identity_public(t_ids[B])->ik, ba);
    assert_memory_not_equal(ab, ba, 32);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(op__round_trips__for_every_type),
        cmocka_unit_test(op__rejects__every_tampered_byte_and_truncation),
        cmocka_unit_test(op__decode_checks_grammar__behind_a_valid_signature),
        cmocka_unit_test(op__make_refuses__bad_names_and_shapes),
        cmocka_unit_test(log__adds_once__and_iterates),
        cmocka_unit_test(log__check_rejects__duplicates_truncation_and_empty_entries),
        cmocka_unit_test(log__add_refuses__past_the_size_bound),
        cmocka_unit_test(resolve__builds_the_chain__with_sorted_members_and_epoch_ids),
        cmocka_unit_test(resolve__needs_a_create),
        cmocka_unit_test(resolve__refuses__ops_their_issuer_may_not_make),
        cmocka_unit_test(resolve__applies__remove_leave_and_admin),
        cmocka_unit_test(resolve__caps_members_and_keeps_the_last_epochs),
        cmocka_unit_test(resolve__waits_for_unknown_parents),
        cmocka_unit_test(resolve__converges__across_random_delivery_orders),
        cmocka_unit_test(frame_acceptable__follows_epochs_and_the_grace_period),
        cmocka_unit_test(chain__opens_a_random_order_once__and_refuses_replays),
        cmocka_unit_test(chain__refuses_far_indices__before_any_work),
        cmocka_unit_test(chain__bounds_skipped_keys__by_count_and_age),
        cmocka_unit_test(chain__tampering_anywhere__is_refused_and_changes_nothing),
        cmocka_unit_test(chain__refuses__forged_senders_and_foreign_epochs),
        cmocka_unit_test(chain__survives_serialisation__mid_stream),
        cmocka_unit_test(sender__is_due__after_100_messages_or_7_days),
        cmocka_unit_test(secrecy__removed_members_and_joiners__read_nothing_outside_their_epochs),
        cmocka_unit_test(intro_psk__is_symmetric_and_bound_to_both_keys),
    };

    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, setup_ids, teardown_ids);
}
