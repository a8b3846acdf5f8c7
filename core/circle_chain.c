/*
 * circle_chain: our own sender key (CK chain + SIGK) and the receiving chains
 * we hold for other members' sender keys (PROTOCOL-NOTES §2.6). Opening checks,
 * in order: the body parses, it names this chain's epoch, sender and
 * generation, its index is within bounds (no derivation work before that),
 * the SIGK signature holds, the index was not opened before. Keys are then
 * derived on scratch copies and committed only when the AEAD opens, so every
 * failure leaves the chain byte-identical. Skipped keys: at most
 * CIRCLE_CHAIN_SKIP_MAX derived per message, CIRCLE_CHAIN_SKIPPED_MAX kept
 * (oldest evicted), none older than CIRCLE_SKIPPED_TTL_S. Memory is plain
 * malloc, wiped before free (as core/session.c, PROTOCOL-NOTES M9).
 */
#include "core/circle.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/circle_impl.h"
#include "core/kcrypt.h"

#define CIRCLE_SENDER_VERSION 1
#define CIRCLE_CHAIN_VERSION  1
#define CIRCLE_MSG_CTX        "kith-v1/circle-msg"
#define CIRCLE_MSG_CTX_LEN    (sizeof CIRCLE_MSG_CTX - 1)
#define CIRCLE_AD_LABEL       "kith-v1/circle"
#define CIRCLE_AD_LABEL_LEN   (sizeof CIRCLE_AD_LABEL - 1)
#define CIRCLE_MK_INFO        "kith-v1/sk-mk"
#define CIRCLE_AD_BYTES       (CIRCLE_AD_LABEL_LEN + FRAME_AD_BYTES + CIRCLE_BODY_HEADER)
#define CIRCLE_TAG_BYTES      crypto_aead_xchacha20poly1305_ietf_ABYTES
#define CIRCLE_NONCE_LEN      crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define CIRCLE_ROUTE_AT       (4 + FRAME_ID_BYTES) /* route inside frame_ad() */
/* version, circle_id, epoch_no, epoch_id, sender, gen, sigk_pub, start, next, created_at, ck,
 * n_skipped */
#define CIRCLE_CHAIN_FIXED   (1 + 16 + 4 + 16 + 16 + 4 + 32 + 4 + 4 + 4 + 32 + 4)
#define CIRCLE_SKIPPED_BYTES (4 + 4 + 32) /* index, stored_at, mk */

_Static_assert(CIRCLE_SENDER_BYTES == 1 + 4 + 16 + 4 + 4 + 8 + 4 + 32 + 32 + 64,
               "sender key layout");
_Static_assert(CIRCLE_NONCE_LEN == 24 && CIRCLE_TAG_BYTES == 16, "XChaCha20-Poly1305 sizes");
_Static_assert(CIRCLE_BODY_HEADER == 52 + CIRCLE_NONCE_LEN, "the nonce ends the body header");
_Static_assert(CIRCLE_CHAIN_SKIP_MAX < CIRCLE_CHAIN_SKIPPED_MAX, "one message never evicts itself");

struct circle_chain_skipped {
    uint32_t index;
    uint32_t stored_at;
    uint8_t mk[32];
};

struct circle_chain {
    uint8_t circle_id[CIRCLE_ID_BYTES];
    uint32_t epoch_no;
    uint8_t epoch_id[16];
    uint8_t sender[IDENTITY_MEMBER_ID];
    uint32_t gen;
    uint8_t sigk_pub[32];
    uint32_t start;      /* the distribution's start_index: nothing below opens */
    uint32_t next;       /* the index ck derives next */
    uint32_t created_at; /* of the generation, as the sender stated it */
    uint8_t ck[32];
    size_t n_skipped;
    size_t cap_skipped;
    struct circle_chain_skipped *skipped; /* ascending index, which is also oldest first */
};

/* mk = HMAC(ck, 0x01), ck' = HMAC(ck, 0x02). */
static void
circle_kdf_ck(uint8_t ck[32], uint8_t mk[32])
{
    kcrypt_chain_step(ck, mk);
}

static void
circle_msg_key(uint8_t key[32], const uint8_t mk[32])
{
    if (kcrypt_hkdf(key, 32, NULL, 0, mk, 32, (const uint8_t *)CIRCLE_MK_INFO,
                    sizeof CIRCLE_MK_INFO - 1) != KITH_OK) {
        KITH_BUG("circle: hkdf arguments");
    }
}

/* "kith-v1/circle" || outer AD || body header. */
static void
circle_body_ad(uint8_t ad[CIRCLE_AD_BYTES], const uint8_t outer_ad[FRAME_AD_BYTES],
               const uint8_t header[CIRCLE_BODY_HEADER])
{
    memcpy(ad, CIRCLE_AD_LABEL, CIRCLE_AD_LABEL_LEN);
    memcpy(ad + CIRCLE_AD_LABEL_LEN, outer_ad, FRAME_AD_BYTES);
    memcpy(ad + CIRCLE_AD_LABEL_LEN + FRAME_AD_BYTES, header, CIRCLE_BODY_HEADER);
}

/* "kith-v1/circle-msg" || outer AD || the signed part of the body; malloc'd, public bytes. */
static uint8_t *
circle_sig_message(const uint8_t outer_ad[FRAME_AD_BYTES], const uint8_t *body, size_t signed_len,
                   size_t *len)
{
    uint8_t *msg;

    *len = CIRCLE_MSG_CTX_LEN + FRAME_AD_BYTES + signed_len;
    msg = xmalloc(*len);
    memcpy(msg, CIRCLE_MSG_CTX, CIRCLE_MSG_CTX_LEN);
    memcpy(msg + CIRCLE_MSG_CTX_LEN, outer_ad, FRAME_AD_BYTES);
    memcpy(msg + CIRCLE_MSG_CTX_LEN + FRAME_AD_BYTES, body, signed_len);
    return msg;
}

/* ---- own sender key ---- */

void
circle_sender_new(struct circle_sender *s, uint32_t epoch_no, const uint8_t epoch_id[16],
                  uint32_t gen, uint64_t seq, uint32_t now_s)
{
    if (epoch_no == 0 || seq == 0) {
        KITH_BUG("circle_sender_new: epochs and seqs count from 1");
    }
    memset(s, 0, sizeof *s);
    s->epoch_no = epoch_no;
    memcpy(s->epoch_id, epoch_id, 16);
    s->gen = gen;
    s->index = 0;
    s->seq = seq;
    s->created_at = now_s;
    randombytes_buf(s->ck, sizeof s->ck);
    crypto_sign_keypair(s->sigk_pk, s->sigk_sk);
}

bool
circle_sender_due(const struct circle_sender *s, uint32_t now_s)
{
    return s->index >= CIRCLE_ROTATE_MSGS ||
           (uint64_t)now_s >= (uint64_t)s->created_at + CIRCLE_ROTATE_S;
}

void
circle_sender_skd(const struct circle_sender *s, const uint8_t circle_id[16],
                  struct circle_skd *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->circle_id, circle_id, 16);
    out->epoch_no = s->epoch_no;
    memcpy(out->epoch_id, s->epoch_id, 16);
    out->gen = s->gen;
    memcpy(out->ck0, s->ck, 32);
    out->start_index = s->index;
    memcpy(out->sigk_pub, s->sigk_pk, 32);
    out->created_at = s->created_at;
}

void
circle_sender_serialize(const struct circle_sender *s, uint8_t out[CIRCLE_SENDER_BYTES])
{
    uint8_t *p = out;

    *p++ = CIRCLE_SENDER_VERSION;
    circle_impl_put_u32(p, s->epoch_no);
    memcpy(p + 4, s->epoch_id, 16);
    circle_impl_put_u32(p + 20, s->gen);
    circle_impl_put_u32(p + 24, s->index);
    circle_impl_put_u64(p + 28, s->seq);
    circle_impl_put_u32(p + 36, s->created_at);
    memcpy(p + 40, s->ck, 32);
    memcpy(p + 72, s->sigk_pk, 32);
    memcpy(p + 104, s->sigk_sk, 64);
}

/* The SIGK secret must be the one its seed gives and match the public half. */
static bool
circle_sigk_consistent(const uint8_t pk[32], const uint8_t sk[64])
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    uint8_t pk2[32];
    uint8_t sk2[64];
    bool ok;

    crypto_sign_ed25519_sk_to_seed(seed, sk);
    crypto_sign_seed_keypair(pk2, sk2, seed);
    ok = sodium_memcmp(sk2, sk, 64) == 0 && sodium_memcmp(pk2, pk, 32) == 0;
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk2, sizeof sk2);
    return ok;
}

int
circle_sender_parse(const uint8_t *in, size_t len, struct circle_sender *s)
{
    const uint8_t *p;

    memset(s, 0, sizeof *s);
    if (in == NULL || len != CIRCLE_SENDER_BYTES || in[0] != CIRCLE_SENDER_VERSION) {
        return KITH_EMALFORMED;
    }
    p = in + 1;
    s->epoch_no = circle_impl_get_u32(p);
    memcpy(s->epoch_id, p + 4, 16);
    s->gen = circle_impl_get_u32(p + 20);
    s->index = circle_impl_get_u32(p + 24);
    s->seq = circle_impl_get_u64(p + 28);
    s->created_at = circle_impl_get_u32(p + 36);
    memcpy(s->ck, p + 40, 32);
    memcpy(s->sigk_pk, p + 72, 32);
    memcpy(s->sigk_sk, p + 104, 64);
    if (s->epoch_no == 0 || s->seq == 0 || !circle_sigk_consistent(s->sigk_pk, s->sigk_sk)) {
        sodium_memzero(s, sizeof *s);
        return KITH_EMALFORMED;
    }
    return KITH_OK;
}

int
circle_seal(struct circle_sender *s, const uint8_t me[IDENTITY_MEMBER_ID],
            const uint8_t outer_ad[FRAME_AD_BYTES], const uint8_t *pt, size_t pt_len, uint8_t *out,
            size_t cap, size_t *out_len)
{
    struct circle_body b = { 0 };
    uint8_t nonce[CIRCLE_NONCE_LEN];
    uint8_t ad[CIRCLE_AD_BYTES];
    uint8_t ck[32], mk[32], key[32];
    unsigned long long ct_len = 0;
    uint8_t *msg;
    size_t msg_len;

    *out_len = 0;
    if (pt_len > FRAME_BODY_MAX - CIRCLE_BODY_MIN || out == NULL ||
        cap < CIRCLE_BODY_MIN + pt_len) {
        return KITH_ETOOBIG;
    }
    if (s->index == UINT32_MAX) {
        return KITH_ESTATE; /* receivers refuse the last index: rotate first */
    }
    b.epoch_no = s->epoch_no;
    memcpy(b.epoch_id, s->epoch_id, 16);
    memcpy(b.sender, me, IDENTITY_MEMBER_ID);
    b.gen = s->gen;
    b.index = s->index;
    b.seq = s->seq;
    randombytes_buf(nonce, sizeof nonce);
    b.nonce = nonce;
    circle_body_put_header(&b, out);
    memcpy(ck, s->ck, 32);
    circle_kdf_ck(ck, mk);
    circle_msg_key(key, mk);
    circle_body_ad(ad, outer_ad, out);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + CIRCLE_BODY_HEADER, &ct_len, pt, pt_len, ad,
                                               sizeof ad, NULL, nonce, key);
    msg = circle_sig_message(outer_ad, out, CIRCLE_BODY_HEADER + (size_t)ct_len, &msg_len);
    crypto_sign_detached(out + CIRCLE_BODY_HEADER + ct_len, NULL, msg, msg_len, s->sigk_sk);
    free(msg);
    memcpy(s->ck, ck, 32);
    s->index++;
    s->seq++;
    *out_len = CIRCLE_BODY_HEADER + (size_t)ct_len + CIRCLE_SIG_BYTES;
    sodium_memzero(ck, sizeof ck);
    sodium_memzero(mk, sizeof mk);
    sodium_memzero(key, sizeof key);
    return KITH_OK;
}

/* ---- receiving chains ---- */

static struct circle_chain *
circle_chain_alloc(void)
{
    return xcalloc(1, sizeof(struct circle_chain));
}

void
circle_chain_destroy(struct circle_chain *c)
{
    if (c == NULL) {
        return;
    }
    if (c->skipped != NULL) {
        sodium_memzero(c->skipped, c->cap_skipped * sizeof *c->skipped);
        free(c->skipped);
    }
    sodium_memzero(c, sizeof *c);
    free(c);
}

/* Make room for `cap` skipped entries, wiping the old block. */
static void
circle_chain_reserve(struct circle_chain *c, size_t cap)
{
    void *block = c->skipped;

    kcrypt_secret_grow(&block, &c->cap_skipped, c->n_skipped, cap, sizeof *c->skipped);
    c->skipped = block;
}

int
circle_chain_new(const struct circle_skd *skd, const uint8_t sender[IDENTITY_MEMBER_ID],
                 uint32_t now_s, struct circle_chain **out)
{
    struct circle_chain *c;

    (void)now_s; /* a chain keeps no clock of its own; skipped keys are stamped when derived */
    *out = NULL;
    if (skd->epoch_no == 0 || skd->start_index == UINT32_MAX ||
        crypto_core_ed25519_is_valid_point(skd->sigk_pub) != 1) {
        return KITH_EINVAL;
    }
    c = circle_chain_alloc();
    memcpy(c->circle_id, skd->circle_id, CIRCLE_ID_BYTES);
    c->epoch_no = skd->epoch_no;
    memcpy(c->epoch_id, skd->epoch_id, 16);
    memcpy(c->sender, sender, IDENTITY_MEMBER_ID);
    c->gen = skd->gen;
    memcpy(c->sigk_pub, skd->sigk_pub, 32);
    c->start = skd->start_index;
    c->next = skd->start_index;
    c->created_at = skd->created_at;
    memcpy(c->ck, skd->ck0, 32);
    *out = c;
    return KITH_OK;
}

/* Decode body and check it names this chain. KITH_OK, KITH_EMALFORMED, KITH_EINVAL. */
static int
circle_chain_match(const struct circle_chain *c, const uint8_t outer_ad[FRAME_AD_BYTES],
                   const uint8_t *body, size_t body_len, struct circle_body *b)
{
    if (circle_body_decode(body, body_len, b) != KITH_OK) {
        return KITH_EMALFORMED;
    }
    if (b->epoch_no != c->epoch_no || memcmp(b->epoch_id, c->epoch_id, 16) != 0 ||
        memcmp(b->sender, c->sender, IDENTITY_MEMBER_ID) != 0 || b->gen != c->gen ||
        memcmp(outer_ad + CIRCLE_ROUTE_AT, c->circle_id, CIRCLE_ID_BYTES) != 0) {
        return KITH_EINVAL;
    }
    return KITH_OK;
}

static int
circle_chain_check_sig(const struct circle_chain *c, const uint8_t outer_ad[FRAME_AD_BYTES],
                       const uint8_t *body, const struct circle_body *b)
{
    size_t msg_len;
    uint8_t *msg = circle_sig_message(outer_ad, body, b->signed_len, &msg_len);
    int rc = crypto_sign_verify_detached(b->sig, msg, msg_len, c->sigk_pub) == 0 ? KITH_OK
                                                                                 : KITH_ECRYPTO;

    free(msg);
    return rc;
}

int
circle_chain_verify(const struct circle_chain *c, const uint8_t outer_ad[FRAME_AD_BYTES],
                    const uint8_t *body, size_t body_len)
{
    struct circle_body b;
    int rc = circle_chain_match(c, outer_ad, body, body_len, &b);

    return rc != KITH_OK ? rc : circle_chain_check_sig(c, outer_ad, body, &b);
}

/* AEAD-open b under mk into pt (ct_len - 16 bytes). KITH_OK or KITH_ECRYPTO. */
static int
circle_open_with(const uint8_t mk[32], const uint8_t outer_ad[FRAME_AD_BYTES], const uint8_t *body,
                 const struct circle_body *b, uint8_t *pt)
{
    uint8_t ad[CIRCLE_AD_BYTES];
    uint8_t key[32];
    int rc;

    circle_msg_key(key, mk);
    circle_body_ad(ad, outer_ad, body);
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL, b->ct, b->ct_len, ad, sizeof ad,
                                                    b->nonce, key) == 0
             ? KITH_OK
             : KITH_ECRYPTO;
    sodium_memzero(key, sizeof key);
    return rc;
}

static bool
circle_skipped_expired(const struct circle_chain_skipped *k, uint32_t now_s)
{
    return now_s > k->stored_at && now_s - k->stored_at > CIRCLE_SKIPPED_TTL_S;
}

/* Drop expired skipped keys, keeping order. */
static void
circle_chain_purge(struct circle_chain *c, uint32_t now_s)
{
    size_t kept = 0;

    for (size_t i = 0; i < c->n_skipped; i++) {
        if (circle_skipped_expired(&c->skipped[i], now_s)) {
            continue;
        }
        if (kept != i) {
            c->skipped[kept] = c->skipped[i];
        }
        kept++;
    }
    if (kept < c->n_skipped) {
        sodium_memzero(&c->skipped[kept], (c->n_skipped - kept) * sizeof *c->skipped);
    }
    c->n_skipped = kept;
}

/* An index below next: open with its stored key, then delete the key. A missing (used,
 * evicted or expired) key is KITH_EREPLAY. */
static int
circle_chain_open_skipped(struct circle_chain *c, const uint8_t outer_ad[FRAME_AD_BYTES],
                          const uint8_t *body, const struct circle_body *b, uint32_t now_s,
                          uint8_t *pt)
{
    size_t at = 0;
    int rc;

    while (at < c->n_skipped && c->skipped[at].index != b->index) {
        at++;
    }
    if (at == c->n_skipped || circle_skipped_expired(&c->skipped[at], now_s)) {
        return KITH_EREPLAY;
    }
    rc = circle_open_with(c->skipped[at].mk, outer_ad, body, b, pt);
    if (rc != KITH_OK) {
        return rc;
    }
    memmove(&c->skipped[at], &c->skipped[at + 1], (c->n_skipped - at - 1) * sizeof *c->skipped);
    c->n_skipped--;
    sodium_memzero(&c->skipped[c->n_skipped], sizeof *c->skipped);
    return KITH_OK;
}

/* An index at or past next (bounded by the caller): derive up to it on scratch copies, open,
 * and only then keep the skipped keys and the new chain key. */
static int
circle_chain_open_ahead(struct circle_chain *c, const uint8_t outer_ad[FRAME_AD_BYTES],
                        const uint8_t *body, const struct circle_body *b, uint32_t now_s,
                        uint8_t *pt)
{
    size_t count = b->index - c->next;
    struct circle_chain_skipped *fresh = xcalloc(count > 0 ? count : 1, sizeof *fresh);
    uint8_t ck[32], mk[32];
    size_t drop;
    int rc;

    memcpy(ck, c->ck, 32);
    for (size_t i = 0; i < count; i++) {
        fresh[i].index = c->next + (uint32_t)i;
        fresh[i].stored_at = now_s;
        circle_kdf_ck(ck, fresh[i].mk);
    }
    circle_kdf_ck(ck, mk);
    rc = circle_open_with(mk, outer_ad, body, b, pt);
    if (rc != KITH_OK) {
        goto out;
    }
    if (c->n_skipped + count > CIRCLE_CHAIN_SKIPPED_MAX) {
        drop = c->n_skipped + count - CIRCLE_CHAIN_SKIPPED_MAX;
        memmove(c->skipped, c->skipped + drop, (c->n_skipped - drop) * sizeof *c->skipped);
        c->n_skipped -= drop;
        sodium_memzero(&c->skipped[c->n_skipped], drop * sizeof *c->skipped);
    }
    circle_chain_reserve(c, c->n_skipped + count);
    if (count > 0) {
        memcpy(&c->skipped[c->n_skipped], fresh, count * sizeof *fresh);
    }
    c->n_skipped += count;
    memcpy(c->ck, ck, 32);
    c->next = b->index + 1;
out:
    sodium_memzero(fresh, (count > 0 ? count : 1) * sizeof *fresh);
    free(fresh);
    sodium_memzero(ck, sizeof ck);
    sodium_memzero(mk, sizeof mk);
    return rc;
}

int
circle_chain_open(struct circle_chain *c, const uint8_t outer_ad[FRAME_AD_BYTES],
                  const uint8_t *body, size_t body_len, uint32_t now_s, uint8_t *pt, size_t cap,
                  size_t *pt_len)
{
    struct circle_body b;
    int rc;

    *pt_len = 0;
    if (pt != NULL && cap > 0) {
        sodium_memzero(pt, cap);
    }
    rc = circle_chain_match(c, outer_ad, body, body_len, &b);
    if (rc != KITH_OK) {
        goto out;
    }
    if (b.index == UINT32_MAX || b.index < c->start ||
        (uint64_t)b.index > (uint64_t)c->next + CIRCLE_CHAIN_SKIP_MAX) {
        rc = KITH_ECRYPTO; /* refused before any derivation */
        goto out;
    }
    if (pt == NULL || cap < b.ct_len - CIRCLE_TAG_BYTES) {
        rc = KITH_ETOOBIG;
        goto out;
    }
    rc = circle_chain_check_sig(c, outer_ad, body, &b);
    if (rc != KITH_OK) {
        goto out;
    }
    if (b.index < c->next) {
        rc = circle_chain_open_skipped(c, outer_ad, body, &b, now_s, pt);
    } else {
        rc = circle_chain_open_ahead(c, outer_ad, body, &b, now_s, pt);
    }
    if (rc != KITH_OK) {
        goto out;
    }
    circle_chain_purge(c, now_s);
    *pt_len = b.ct_len - CIRCLE_TAG_BYTES;
out:
    if (rc != KITH_OK && pt != NULL && cap > 0) {
        sodium_memzero(pt, cap);
    }
    return rc;
}

void
circle_chain_serialize(const struct circle_chain *c, uint8_t **out, size_t *out_len)
{
    size_t len = CIRCLE_CHAIN_FIXED + c->n_skipped * CIRCLE_SKIPPED_BYTES;
    uint8_t *buf = xmalloc(len);
    uint8_t *p = buf;

    *p++ = CIRCLE_CHAIN_VERSION;
    memcpy(p, c->circle_id, 16);
    circle_impl_put_u32(p + 16, c->epoch_no);
    memcpy(p + 20, c->epoch_id, 16);
    memcpy(p + 36, c->sender, 16);
    circle_impl_put_u32(p + 52, c->gen);
    memcpy(p + 56, c->sigk_pub, 32);
    circle_impl_put_u32(p + 88, c->start);
    circle_impl_put_u32(p + 92, c->next);
    circle_impl_put_u32(p + 96, c->created_at);
    memcpy(p + 100, c->ck, 32);
    circle_impl_put_u32(p + 132, (uint32_t)c->n_skipped);
    p += CIRCLE_CHAIN_FIXED - 1;
    for (size_t i = 0; i < c->n_skipped; i++) {
        circle_impl_put_u32(p, c->skipped[i].index);
        circle_impl_put_u32(p + 4, c->skipped[i].stored_at);
        memcpy(p + 8, c->skipped[i].mk, 32);
        p += CIRCLE_SKIPPED_BYTES;
    }
    *out = buf;
    *out_len = len;
}

/* Skipped indices strictly ascending inside [start, next). */
static bool
circle_chain_consistent(const struct circle_chain *c)
{
    if (c->epoch_no == 0 || c->start > c->next ||
        crypto_core_ed25519_is_valid_point(c->sigk_pub) != 1) {
        return false;
    }
    for (size_t i = 0; i < c->n_skipped; i++) {
        uint32_t index = c->skipped[i].index;

        if (index < c->start || index >= c->next || (i > 0 && index <= c->skipped[i - 1].index)) {
            return false;
        }
    }
    return true;
}

int
circle_chain_parse(const uint8_t *in, size_t len, struct circle_chain **out)
{
    struct circle_chain *c = NULL;
    const uint8_t *p;
    uint32_t n_skipped;
    int rc = KITH_EMALFORMED;

    *out = NULL;
    if (in == NULL || len < CIRCLE_CHAIN_FIXED || in[0] != CIRCLE_CHAIN_VERSION) {
        goto out;
    }
    p = in + 1;
    n_skipped = circle_impl_get_u32(p + 132);
    if (n_skipped > CIRCLE_CHAIN_SKIPPED_MAX ||
        len != CIRCLE_CHAIN_FIXED + (size_t)n_skipped * CIRCLE_SKIPPED_BYTES) {
        goto out;
    }
    c = circle_chain_alloc();
    memcpy(c->circle_id, p, 16);
    c->epoch_no = circle_impl_get_u32(p + 16);
    memcpy(c->epoch_id, p + 20, 16);
    memcpy(c->sender, p + 36, 16);
    c->gen = circle_impl_get_u32(p + 52);
    memcpy(c->sigk_pub, p + 56, 32);
    c->start = circle_impl_get_u32(p + 88);
    c->next = circle_impl_get_u32(p + 92);
    c->created_at = circle_impl_get_u32(p + 96);
    memcpy(c->ck, p + 100, 32);
    p += CIRCLE_CHAIN_FIXED - 1;
    circle_chain_reserve(c, n_skipped);
    for (size_t i = 0; i < n_skipped; i++) {
        c->skipped[i].index = circle_impl_get_u32(p);
        c->skipped[i].stored_at = circle_impl_get_u32(p + 4);
        memcpy(c->skipped[i].mk, p + 8, 32);
        p += CIRCLE_SKIPPED_BYTES;
    }
    c->n_skipped = n_skipped;
    if (!circle_chain_consistent(c)) {
        goto out;
    }
    *out = c;
    c = NULL;
    rc = KITH_OK;
out:
    circle_chain_destroy(c);
    return rc;
}
