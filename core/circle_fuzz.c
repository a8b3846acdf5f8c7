/*
 * circle_fuzz: bytes from outside against core/circle, chosen by the first byte:
 * 0 one op (decode; a decoded op decodes again to the same op, hash and member id),
 * 1 an op log (check, then resolve; a log that checks resolves or has no CREATE, and the
 *   same ops in reverse order resolve to the same state),
 * 2 picks from a fixed pool of valid signed ops (concurrent ADD/REMOVE/LEAVE/ADMIN on one
 *   parent, follow-ups, a rival CREATE): added to a log in that order, resolved, and
 *   resolved again in reverse order: the states must be equal,
 * 3 u8 clock step | 40 outer AD | CIRCLE_MSG body, opened by a fixed chain,
 * 4 u8 valid body | (u16 offset, u8 xor) edits over outer AD || body, opened likewise,
 * 5 a serialised chain or sender key (parse; what parses serialises back to the input).
 * Chain invariants: a failed open leaves the serialised chain byte-identical; an open
 * succeeds only for an unmodified valid body and never twice (the repeat is KITH_EREPLAY).
 * Identities, the sender key and the chain come from fixed seeds; fuzz builds also make the
 * RNG deterministic, so every input replays identically.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/circle.h"
#include "core/kcrypt.h"

#define FUZZ_NOW   1700000000u
#define FUZZ_PT    48
#define FUZZ_VALID 5
#define FUZZ_IDS   5
#define FUZZ_POOL  32
#define FUZZ_BODY  (CIRCLE_BODY_MIN + FUZZ_PT)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef KITH_FUZZING
/* Deterministic RNG so every input replays identically (fuzz builds only). */
static uint64_t fuzz_rng_state;

static uint64_t
fuzz_rng_next(void)
{
    uint64_t z = (fuzz_rng_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static const char *
fuzz_rng_name(void)
{
    return "kith-fuzz-splitmix";
}

static uint32_t
fuzz_rng_random(void)
{
    return (uint32_t)fuzz_rng_next();
}

static void
fuzz_rng_stir(void)
{
}

static uint32_t
fuzz_rng_uniform(const uint32_t upper)
{
    return upper < 2 ? 0 : fuzz_rng_random() % upper;
}

static void
fuzz_rng_buf(void *const buf, const size_t size)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < size; i++) {
        p[i] = (uint8_t)fuzz_rng_next();
    }
}

static int
fuzz_rng_close(void)
{
    return 0;
}

static struct randombytes_implementation fuzz_rng = {
    fuzz_rng_name, fuzz_rng_random, fuzz_rng_stir, fuzz_rng_uniform, fuzz_rng_buf, fuzz_rng_close,
};
#endif

struct fuzz_msg {
    uint8_t ad[FRAME_AD_BYTES];
    uint8_t body[FUZZ_BODY];
    size_t len;
};

struct fuzz_op {
    uint8_t bytes[CIRCLE_OP_MAX];
    size_t len;
};

static const uint8_t fuzz_cid[CIRCLE_ID_BYTES] = { 'f', 'u', 'z', 'z', 'c', 'i', 'r', 'c',
                                                   'l', 'e', 0,   1,   2,   3,   4,   5 };
static struct identity *fuzz_ids[FUZZ_IDS];
static struct fuzz_op fuzz_pool[FUZZ_POOL];
static size_t fuzz_pool_n;
static struct circle_sender fuzz_sender;
static uint8_t fuzz_sender_id[IDENTITY_MEMBER_ID];
static uint8_t *fuzz_chain_state;
static size_t fuzz_chain_len;
static struct fuzz_msg fuzz_valid[FUZZ_VALID];

static void
fuzz_check(bool ok)
{
    if (!ok) {
        abort();
    }
}

/* ---- fixed identities and the op pool ---- */

static void
fuzz_clamp(uint8_t sk[32])
{
    sk[0] &= 248;
    sk[31] &= 127;
    sk[31] |= 64;
}

static void
fuzz_sign(uint8_t sig[64], const uint8_t sk[64], const char *ctx, const uint8_t *msg, size_t len)
{
    uint8_t buf[128];
    size_t ctx_len = strlen(ctx);

    memcpy(buf, ctx, ctx_len);
    memcpy(buf + ctx_len, msg, len);
    crypto_sign_detached(sig, NULL, buf, ctx_len + len, sk);
}

/* The same identity for the same seed (built as identity_parse input, no RNG). */
static struct identity *
fuzz_identity(uint8_t seed)
{
    uint8_t in[IDENTITY_SECRET_BYTES];
    uint8_t ik_seed[32], ik_sk[64], ikdh_sk[32], tk_sk[32], tk_msg[36];
    uint8_t *pub = in + 1;
    const uint32_t not_after = FUZZ_NOW + 90u * 86400u;
    struct identity *id = NULL;

    memset(ik_seed, seed, sizeof ik_seed);
    memset(ikdh_sk, seed ^ 0x5a, sizeof ikdh_sk);
    memset(tk_sk, seed ^ 0xa5, sizeof tk_sk);
    fuzz_clamp(ikdh_sk);
    fuzz_clamp(tk_sk);
    in[0] = 1;
    crypto_sign_seed_keypair(pub, ik_sk, ik_seed);
    crypto_scalarmult_base(pub + 32, ikdh_sk);
    fuzz_sign(pub + 64, ik_sk, "kith-v1/ikdh", pub + 32, 32);
    crypto_scalarmult_base(pub + 128, tk_sk);
    memcpy(tk_msg, pub + 128, 32);
    tk_msg[32] = (uint8_t)(not_after >> 24);
    tk_msg[33] = (uint8_t)(not_after >> 16);
    tk_msg[34] = (uint8_t)(not_after >> 8);
    tk_msg[35] = (uint8_t)not_after;
    memcpy(pub + 160, tk_msg + 32, 4);
    fuzz_sign(pub + 164, ik_sk, "kith-v1/transport", tk_msg, sizeof tk_msg);
    memcpy(pub + IDENTITY_PUBLIC_BYTES, ik_sk, 64);
    memcpy(pub + IDENTITY_PUBLIC_BYTES + 64, ikdh_sk, 32);
    memcpy(pub + IDENTITY_PUBLIC_BYTES + 96, tk_sk, 32);
    fuzz_check(identity_parse(in, sizeof in, &id) == KITH_OK);
    sodium_memzero(in, sizeof in);
    sodium_memzero(ik_sk, sizeof ik_sk);
    return id;
}

/* Add an op of type by issuer about subject on top of parent state st (NULL: a CREATE). */
static void
fuzz_pool_add(uint8_t type, int issuer, int subject, bool admin, const struct circle_state *st)
{
    struct circle_op op;
    struct fuzz_op *o = &fuzz_pool[fuzz_pool_n++];

    fuzz_check(fuzz_pool_n <= FUZZ_POOL);
    memset(&op, 0, sizeof op);
    op.type = type;
    memcpy(op.circle_id, fuzz_cid, sizeof fuzz_cid);
    op.epoch_no = st == NULL ? 1 : st->epoch_no + 1;
    if (st != NULL) {
        memcpy(op.parent, st->epoch_id, 16);
    }
    op.issued_at = FUZZ_NOW + (uint32_t)fuzz_pool_n;
    op.subject.pub = *identity_public(fuzz_ids[subject]);
    op.subject.admin = admin;
    memcpy(op.subject.name, "fuzz member", 12);
    op.subject.name[10] = (char)('a' + subject);
    if (type == CIRCLE_OP_CREATE) {
        memcpy(op.circle_name, "fuzz circle", 12);
    }
    fuzz_check(circle_op_make(&op, fuzz_ids[issuer], o->bytes, sizeof o->bytes, &o->len) ==
               KITH_OK);
}

/* The state of the first n pool ops plus pool op `extra` (n when none). */
static void
fuzz_pool_state(size_t n, size_t extra, struct circle_state *st)
{
    uint8_t *log = NULL;
    size_t log_len = 0;
    bool added;

    for (size_t i = 0; i <= n; i++) {
        size_t pick = i < n ? i : extra;

        if (pick < fuzz_pool_n) {
            fuzz_check(circle_log_add(&log, &log_len, fuzz_pool[pick].bytes, fuzz_pool[pick].len,
                                      &added) == KITH_OK);
        }
    }
    fuzz_check(circle_resolve(log, log_len, st) == KITH_OK);
    free(log);
}

static void
fuzz_build_pool(void)
{
    enum { A, B, C, D, E };
    struct circle_state st, branch;
    size_t first_race;

    fuzz_pool_add(CIRCLE_OP_CREATE, A, A, true, NULL);
    fuzz_pool_state(1, 1, &st);
    fuzz_pool_add(CIRCLE_OP_ADD, A, B, true, &st);
    fuzz_pool_state(2, 2, &st);
    fuzz_pool_add(CIRCLE_OP_ADD, A, C, false, &st);
    fuzz_pool_state(3, 3, &st);
    first_race = fuzz_pool_n; /* everything below races on epoch 3 */
    fuzz_pool_add(CIRCLE_OP_REMOVE, A, C, false, &st);
    fuzz_pool_add(CIRCLE_OP_ADD, B, D, false, &st);
    fuzz_pool_add(CIRCLE_OP_ADD, A, D, true, &st);
    fuzz_pool_add(CIRCLE_OP_ADMIN, A, C, true, &st);
    fuzz_pool_add(CIRCLE_OP_LEAVE, B, B, false, &st);
    fuzz_pool_add(CIRCLE_OP_REMOVE, B, A, false, &st);
    fuzz_pool_add(CIRCLE_OP_ADD, C, E, false, &st);   /* not an admin */
    fuzz_pool_add(CIRCLE_OP_LEAVE, A, A, false, &st); /* valid: B is an admin too */
    for (size_t i = first_race; i < first_race + 8; i++) {
        uint8_t a_id[IDENTITY_MEMBER_ID];
        const struct circle_member *a;

        fuzz_pool_state(first_race, i, &branch);
        if (branch.epoch_no != 4) {
            continue; /* the race op is not valid on its own */
        }
        identity_member_id(identity_public(fuzz_ids[A])->ik, a_id);
        a = circle_member_find(&branch, a_id);
        fuzz_pool_add(CIRCLE_OP_ADD, a != NULL && a->admin ? A : B, E, false, &branch);
        fuzz_pool_add(CIRCLE_OP_LEAVE, C, C, false, &branch);
    }
    fuzz_pool_add(CIRCLE_OP_CREATE, B, B, true, NULL); /* a rival genesis */
}

/* ---- the fixed chain ---- */

static void
fuzz_outer_ad(uint8_t ad[FRAME_AD_BYTES], uint8_t n)
{
    memset(ad, 0, FRAME_AD_BYTES);
    ad[0] = FRAME_VERSION;
    ad[1] = FRAME_CIRCLE_MSG;
    ad[4] = n;
    memcpy(ad + 20, fuzz_cid, 16);
}

static void
fuzz_seal(struct fuzz_msg *m)
{
    uint8_t pt[FUZZ_PT];

    memset(pt, 0x5a, sizeof pt);
    fuzz_outer_ad(m->ad, (uint8_t)fuzz_sender.index);
    fuzz_check(circle_seal(&fuzz_sender, fuzz_sender_id, m->ad, pt, sizeof pt, m->body,
                           sizeof m->body, &m->len) == KITH_OK);
}

/* A sender key from fixed bytes; its chain has opened index 3 (0..2 skipped). Valid bodies:
 * indices 0, 1, 2 (skipped keys), 4 (next) and 5 (one ahead). */
static void
fuzz_build_chain(void)
{
    static const uint8_t sigk_seed[32] = { 's', 'i', 'g', 'k' };
    struct circle_chain *c = NULL;
    struct circle_skd skd;
    struct fuzz_msg m3;
    uint8_t pt[FUZZ_BODY];
    size_t pt_len;

    memset(&fuzz_sender, 0, sizeof fuzz_sender);
    fuzz_sender.epoch_no = 3;
    memset(fuzz_sender.epoch_id, 0xe3, 16);
    fuzz_sender.seq = 1;
    fuzz_sender.created_at = FUZZ_NOW;
    memset(fuzz_sender.ck, 0xc0, 32);
    crypto_sign_seed_keypair(fuzz_sender.sigk_pk, fuzz_sender.sigk_sk, sigk_seed);
    memset(fuzz_sender_id, 0x5e, sizeof fuzz_sender_id);
    circle_sender_skd(&fuzz_sender, fuzz_cid, &skd);
    fuzz_check(circle_chain_new(&skd, fuzz_sender_id, FUZZ_NOW, &c) == KITH_OK);
    fuzz_seal(&fuzz_valid[0]);
    fuzz_seal(&fuzz_valid[1]);
    fuzz_seal(&fuzz_valid[2]);
    fuzz_seal(&m3);
    fuzz_seal(&fuzz_valid[3]);
    fuzz_seal(&fuzz_valid[4]);
    fuzz_check(circle_chain_open(c, m3.ad, m3.body, m3.len, FUZZ_NOW, pt, sizeof pt, &pt_len) ==
               KITH_OK);
    circle_chain_serialize(c, &fuzz_chain_state, &fuzz_chain_len);
    circle_chain_destroy(c);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
#ifdef KITH_FUZZING
    fuzz_rng_state = 0x636972636c65;
    randombytes_set_implementation(&fuzz_rng);
#endif
    if (sodium_init() < 0) {
        abort();
    }
    for (int i = 0; i < FUZZ_IDS; i++) {
        fuzz_ids[i] = fuzz_identity((uint8_t)(0x20 + i));
    }
    fuzz_build_pool();
    fuzz_build_chain();
    return 0;
}

/* ---- ops and logs ---- */

static void
fuzz_op_bytes(const uint8_t *data, size_t size)
{
    struct circle_op op, again;
    uint8_t hash[32], id[IDENTITY_MEMBER_ID];

    if (circle_op_decode(data, size, &op) != KITH_OK) {
        return;
    }
    kcrypt_hash(hash, 32, "kith-v1/circle-op", data, size, NULL, 0);
    identity_member_id(op.subject.pub.ik, id);
    fuzz_check(memcmp(hash, op.hash, 32) == 0 && memcmp(id, op.subject.member_id, 16) == 0);
    fuzz_check(circle_op_decode(data, size, &again) == KITH_OK);
    fuzz_check(again.type == op.type && again.epoch_no == op.epoch_no &&
               memcmp(again.hash, op.hash, 32) == 0 && memcmp(again.sig, op.sig, 64) == 0 &&
               strcmp(again.subject.name, op.subject.name) == 0 &&
               strcmp(again.subject.endpoint, op.subject.endpoint) == 0 &&
               strcmp(again.circle_name, op.circle_name) == 0);
}

static bool
fuzz_same_state(const struct circle_state *a, const struct circle_state *b)
{
    if (a->epoch_no != b->epoch_no || memcmp(a->epoch_id, b->epoch_id, 16) != 0 ||
        a->nmembers != b->nmembers || a->nepochs != b->nepochs || a->napplied != b->napplied ||
        a->nlosers != b->nlosers || a->npending != b->npending ||
        memcmp(a->losers, b->losers, (a->nlosers < 8 ? a->nlosers : 8) * 32) != 0) {
        return false;
    }
    for (size_t i = 0; i < a->nmembers; i++) {
        if (memcmp(a->members[i].member_id, b->members[i].member_id, 16) != 0 ||
            a->members[i].admin != b->members[i].admin) {
            return false;
        }
    }
    for (size_t i = 0; i < a->nepochs; i++) {
        if (memcmp(a->epochs[i].epoch_id, b->epochs[i].epoch_id, 16) != 0) {
            return false;
        }
    }
    return true;
}

static void
fuzz_state_sane(const struct circle_state *st)
{
    fuzz_check(st->nmembers <= CIRCLE_MAX_MEMBERS && st->nepochs >= 1 &&
               st->nepochs <= CIRCLE_EPOCHS_KEPT && st->napplied >= 1);
    fuzz_check(st->epochs[st->nepochs - 1].epoch_no == st->epoch_no &&
               memcmp(st->epochs[st->nepochs - 1].epoch_id, st->epoch_id, 16) == 0);
    for (size_t i = 1; i < st->nmembers; i++) {
        fuzz_check(memcmp(st->members[i - 1].member_id, st->members[i].member_id, 16) < 0);
    }
    for (size_t i = 1; i < st->nepochs; i++) {
        fuzz_check(st->epochs[i].epoch_no == st->epochs[i - 1].epoch_no + 1);
    }
}

/* The same entries in reverse order must resolve to the same state. */
static void
fuzz_resolve_both_ways(const uint8_t *log, size_t log_len)
{
    static struct circle_state st, back;
    uint8_t *rev = NULL;
    const uint8_t *op;
    size_t op_len, off = 0, end;
    int rc = circle_resolve(log, log_len, &st);
    int rc2;

    if (rc != KITH_OK) {
        return;
    }
    fuzz_state_sane(&st);
    rev = malloc(log_len > 0 ? log_len : 1);
    fuzz_check(rev != NULL);
    end = log_len;
    while (circle_log_next(log, log_len, &off, &op, &op_len) == KITH_OK) {
        end -= 2 + op_len;
        memcpy(rev + end, op - 2, 2 + op_len);
    }
    fuzz_check(end == 0);
    rc2 = circle_resolve(rev, log_len, &back);
    fuzz_check(rc2 == KITH_OK && fuzz_same_state(&st, &back));
    free(rev);
}

static void
fuzz_log_bytes(const uint8_t *data, size_t size)
{
    int checked = circle_log_check(data, size);
    int rc;

    if (checked == KITH_OK) {
        static struct circle_state st;

        rc = circle_resolve(data, size, &st);
        fuzz_check(rc == KITH_OK || rc == KITH_ENOTFOUND);
    }
    fuzz_resolve_both_ways(data, size);
}

static void
fuzz_pool_picks(const uint8_t *data, size_t size)
{
    uint8_t *log = NULL;
    size_t log_len = 0;
    bool added;

    for (size_t i = 0; i < size && i < 64; i++) {
        const struct fuzz_op *o = &fuzz_pool[data[i] % fuzz_pool_n];

        fuzz_check(circle_log_add(&log, &log_len, o->bytes, o->len, &added) == KITH_OK);
    }
    fuzz_check(circle_log_check(log, log_len) == KITH_OK);
    fuzz_resolve_both_ways(log, log_len);
    free(log);
}

/* ---- the chain ---- */

static bool
fuzz_chain_is(const struct circle_chain *c, const uint8_t *want, size_t want_len)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool same;

    circle_chain_serialize(c, &bytes, &len);
    same = len == want_len && memcmp(bytes, want, len) == 0;
    sodium_memzero(bytes, len);
    free(bytes);
    return same;
}

/* Open on a fresh copy of the fixed chain; returns whether it opened. */
static bool
fuzz_open(const uint8_t ad[FRAME_AD_BYTES], const uint8_t *body, size_t len, uint32_t now_s)
{
    static uint8_t pt[FRAME_BODY_MAX];
    struct circle_chain *c = NULL;
    uint8_t *after = NULL;
    size_t after_len = 0, pt_len = 0;
    int rc;

    fuzz_check(circle_chain_parse(fuzz_chain_state, fuzz_chain_len, &c) == KITH_OK);
    rc = circle_chain_open(c, ad, body, len, now_s, pt, sizeof pt, &pt_len);
    if (rc != KITH_OK) {
        fuzz_check(pt_len == 0 && fuzz_chain_is(c, fuzz_chain_state, fuzz_chain_len));
        circle_chain_destroy(c);
        return false;
    }
    fuzz_check(circle_chain_verify(c, ad, body, len) == KITH_OK);
    circle_chain_serialize(c, &after, &after_len);
    fuzz_check(circle_chain_open(c, ad, body, len, now_s, pt, sizeof pt, &pt_len) == KITH_EREPLAY);
    fuzz_check(fuzz_chain_is(c, after, after_len));
    sodium_memzero(after, after_len);
    free(after);
    circle_chain_destroy(c);
    return true;
}

static void
fuzz_raw_body(const uint8_t *data, size_t size)
{
    if (size < 1 + FRAME_AD_BYTES) {
        return;
    }
    (void)fuzz_open(data + 1, data + 1 + FRAME_AD_BYTES, size - 1 - FRAME_AD_BYTES,
                    FUZZ_NOW + (uint32_t)data[0] * 12u * 3600u);
}

static void
fuzz_mutate(const uint8_t *data, size_t size)
{
    uint8_t buf[FRAME_AD_BYTES + FUZZ_BODY];
    const struct fuzz_msg *orig;
    size_t len, orig_len;
    bool changed;

    if (size < 1) {
        return;
    }
    orig = &fuzz_valid[data[0] % FUZZ_VALID];
    memcpy(buf, orig->ad, FRAME_AD_BYTES);
    memcpy(buf + FRAME_AD_BYTES, orig->body, orig->len);
    orig_len = FRAME_AD_BYTES + orig->len;
    len = orig_len;
    for (size_t i = 1; i + 2 < size; i += 3) {
        size_t at = ((size_t)data[i] << 8 | data[i + 1]) % (len + 1);

        if (at == len) {
            len = FRAME_AD_BYTES + (size_t)data[i + 2] % (orig->len + 1); /* truncate */
            continue;
        }
        buf[at] ^= data[i + 2];
    }
    changed = len != orig_len || memcmp(buf, orig->ad, FRAME_AD_BYTES) != 0 ||
              memcmp(buf + FRAME_AD_BYTES, orig->body, orig->len) != 0;
    if (fuzz_open(buf, buf + FRAME_AD_BYTES, len - FRAME_AD_BYTES, FUZZ_NOW)) {
        fuzz_check(!changed);
    }
}

static void
fuzz_state_bytes(const uint8_t *data, size_t size)
{
    struct circle_chain *c = NULL;
    struct circle_sender s;
    uint8_t out[CIRCLE_SENDER_BYTES];

    if (circle_chain_parse(data, size, &c) == KITH_OK) {
        fuzz_check(fuzz_chain_is(c, data, size));
        circle_chain_destroy(c);
    } else {
        fuzz_check(c == NULL);
    }
    if (circle_sender_parse(data, size, &s) == KITH_OK) {
        circle_sender_serialize(&s, out);
        fuzz_check(size == sizeof out && memcmp(out, data, size) == 0);
        sodium_memzero(&s, sizeof s);
        sodium_memzero(out, sizeof out);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef KITH_FUZZING
    fuzz_rng_state = 0x66757a7a;
#endif
    if (size < 1 || size > 70000) {
        return 0;
    }
    switch (data[0] % 6) {
    case 0:
        fuzz_op_bytes(data + 1, size - 1);
        break;
    case 1:
        fuzz_log_bytes(data + 1, size - 1);
        break;
    case 2:
        fuzz_pool_picks(data + 1, size - 1);
        break;
    case 3:
        fuzz_raw_body(data + 1, size - 1);
        break;
    case 4:
        fuzz_mutate(data + 1, size - 1);
        break;
    default:
        fuzz_state_bytes(data + 1, size - 1);
        break;
    }
    return 0;
}
