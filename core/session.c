/*
 * session: X3DH (with optional PSK) starting a Double Ratchet with header
 * encryption (DR §4, kith-v1 profile in PROTOCOL-NOTES §2.5). Decryption
 * works on a scratch copy and swaps it in only on success, so a failed call
 * leaves the session byte-identical. Skipped keys live in the state: at most
 * KITH_MAX_SKIP derived per message, KITH_MAX_SKIPPED_PER_SESSION kept (oldest
 * evicted), none older than SESSION_SKIP_TTL. Memory is plain malloc, wiped
 * before free (sodium_malloc mappings are scarce, PROTOCOL-NOTES M9).
 */
#include "core/session.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/kcrypt.h"
#include "core/limits.h"

#define SESSION_VERSION   1
#define SESSION_AD_LABEL  "kith-v1"
#define SESSION_AD_BYTES  (7 + 4 * 32)
#define SESSION_HDR_BYTES 40 /* DHs(32) || PN(u32) || N(u32) */
#define SESSION_NO_OPK    0xFFFFFFFFu
#define SESSION_SKIP_TTL  (7u * 24u * 3600u)
#define SESSION_AD_STACK  512

#define SESSION_HAS_DHR      0x01u
#define SESSION_HAS_CKS      0x02u
#define SESSION_HAS_CKR      0x04u
#define SESSION_HAS_HKS      0x08u
#define SESSION_HAS_HKR      0x10u
#define SESSION_IS_INITIATOR 0x20u
#define SESSION_FLAGS_KNOWN  0x3fu

_Static_assert(SESSION_INIT_HEADER_BYTES == 268, "init header size");
_Static_assert(SESSION_ENC_HEADER_BYTES == SESSION_HDR_BYTES + KCRYPT_OVERHEAD, "enc header");
_Static_assert(SESSION_MSG_OVERHEAD == SESSION_ENC_HEADER_BYTES + KCRYPT_OVERHEAD, "overhead");

struct session_skipped {
    uint8_t hk[32];
    uint8_t mk[32];
    uint32_t n;
    uint64_t stored_at;
};

struct session {
    uint8_t state;
    uint8_t flags;
    uint8_t ad[SESSION_AD_BYTES]; /* "kith-v1" || IK_A || IKdh_A || IK_B || IKdh_B */
    uint8_t init_header[SESSION_INIT_HEADER_BYTES];
    uint8_t dhs_sk[32];
    uint8_t dhs_pk[32];
    uint8_t dhr[32];
    uint8_t rk[32];
    uint8_t cks[32];
    uint8_t ckr[32];
    uint8_t hks[32];
    uint8_t hkr[32];
    uint8_t nhks[32];
    uint8_t nhkr[32];
    uint32_t ns;
    uint32_t nr;
    uint32_t pn;
    size_t n_skipped;
    size_t cap_skipped;
    struct session_skipped *skipped; /* oldest first */
    /* The acknowledgement key of the last message sealed or opened (never serialised):
     * session_take_ack_key hands it out once. */
    uint8_t ack[32];
    bool has_ack;
};

/* The wire form: fixed part, then n_skipped entries. */
#define SESSION_SKIPPED_BYTES (32 + 32 + 4 + 8)
/* version, state, flags; AD; init header; 10 keys; ns, nr, pn, n_skipped */
#define SESSION_FIXED_BYTES   (3 + SESSION_AD_BYTES + SESSION_INIT_HEADER_BYTES + 10 * 32 + 4 * 4)

static void
session_put_u32(uint8_t *out, uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

static uint32_t
session_get_u32(const uint8_t *in)
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | (uint32_t)in[3];
}

static void
session_put_u64(uint8_t *out, uint64_t v)
{
    session_put_u32(out, (uint32_t)(v >> 32));
    session_put_u32(out + 4, (uint32_t)v);
}

static uint64_t
session_get_u64(const uint8_t *in)
{
    return (uint64_t)session_get_u32(in) << 32 | session_get_u32(in + 4);
}

static bool
session_has(const struct session *s, unsigned flag)
{
    return (s->flags & flag) != 0;
}

static void
session_hkdf(uint8_t *okm, size_t okm_len, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
             size_t ikm_len, const uint8_t *info, size_t info_len)
{
    if (kcrypt_hkdf(okm, okm_len, salt, salt_len, ikm, ikm_len, info, info_len) != KITH_OK) {
        KITH_BUG("session: hkdf arguments");
    }
}

/* KDF_RK_HE: rk, dh -> rk', ck, nhk. */
static void
session_kdf_rk(uint8_t rk[32], uint8_t ck[32], uint8_t nhk[32], const uint8_t dh[32])
{
    static const char info[] = "kith-v1/rk";
    uint8_t okm[96];

    session_hkdf(okm, sizeof okm, rk, 32, dh, 32, (const uint8_t *)info, sizeof info - 1);
    memcpy(rk, okm, 32);
    memcpy(ck, okm + 32, 32);
    memcpy(nhk, okm + 64, 32);
    sodium_memzero(okm, sizeof okm);
}

/* KDF_CK: mk = HMAC(ck, 0x01), ck' = HMAC(ck, 0x02). */
static void
session_kdf_ck(uint8_t ck[32], uint8_t mk[32])
{
    kcrypt_chain_step(ck, mk);
}

static void
session_x25519_keypair(uint8_t sk[32], uint8_t pk[32])
{
    randombytes_buf(sk, 32);
    crypto_scalarmult_base(pk, sk);
}

static struct session *
session_alloc(void)
{
    return xcalloc(1, sizeof(struct session));
}

void
session_destroy(struct session *s)
{
    if (s == NULL) {
        return;
    }
    if (s->skipped != NULL) {
        sodium_memzero(s->skipped, s->cap_skipped * sizeof *s->skipped);
        free(s->skipped);
    }
    sodium_memzero(s, sizeof *s);
    free(s);
}

/* Make room for `cap` skipped entries, wiping the old block. */
static void
session_reserve(struct session *s, size_t cap)
{
    void *block = s->skipped;

    kcrypt_secret_grow(&block, &s->cap_skipped, s->n_skipped, cap, sizeof *s->skipped);
    s->skipped = block;
}

static struct session *
session_dup(const struct session *s)
{
    struct session *d = session_alloc();

    *d = *s;
    d->skipped = NULL;
    d->cap_skipped = 0;
    d->n_skipped = 0;
    session_reserve(d, s->n_skipped);
    if (s->n_skipped > 0) {
        memcpy(d->skipped, s->skipped, s->n_skipped * sizeof *d->skipped);
    }
    d->n_skipped = s->n_skipped;
    return d;
}

static void
session_remove_skipped(struct session *s, size_t at)
{
    memmove(&s->skipped[at], &s->skipped[at + 1], (s->n_skipped - at - 1) * sizeof *s->skipped);
    s->n_skipped--;
    sodium_memzero(&s->skipped[s->n_skipped], sizeof *s->skipped);
}

static bool
session_skipped_expired(const struct session_skipped *k, uint64_t now_s)
{
    return now_s > k->stored_at && now_s - k->stored_at > SESSION_SKIP_TTL;
}

/* Drop expired entries, keeping order. */
static void
session_purge_expired(struct session *s, uint64_t now_s)
{
    size_t kept = 0;

    for (size_t i = 0; i < s->n_skipped; i++) {
        if (session_skipped_expired(&s->skipped[i], now_s)) {
            continue;
        }
        if (kept != i) {
            s->skipped[kept] = s->skipped[i];
        }
        kept++;
    }
    if (kept < s->n_skipped) {
        sodium_memzero(&s->skipped[kept], (s->n_skipped - kept) * sizeof *s->skipped);
    }
    s->n_skipped = kept;
}

/* SkipMessageKeysHE: store keys for Nr..until-1 of the receiving chain.
 * The caller has already bounded until - Nr by KITH_MAX_SKIP. */
static void
session_skip(struct session *s, uint32_t until, uint64_t now_s)
{
    size_t count;
    size_t drop;

    if (!session_has(s, SESSION_HAS_CKR) || until <= s->nr) {
        return;
    }
    count = until - s->nr;
    if (s->n_skipped + count > KITH_MAX_SKIPPED_PER_SESSION) {
        drop = s->n_skipped + count - KITH_MAX_SKIPPED_PER_SESSION;
        if (drop > s->n_skipped) {
            drop = s->n_skipped;
        }
        memmove(s->skipped, s->skipped + drop, (s->n_skipped - drop) * sizeof *s->skipped);
        s->n_skipped -= drop;
        sodium_memzero(&s->skipped[s->n_skipped], drop * sizeof *s->skipped);
    }
    session_reserve(s, s->n_skipped + count);
    while (s->nr < until) {
        struct session_skipped *k = &s->skipped[s->n_skipped++];

        memcpy(k->hk, s->hkr, 32);
        session_kdf_ck(s->ckr, k->mk);
        k->n = s->nr;
        k->stored_at = now_s;
        s->nr++;
    }
}

/* DHRatchetHE. KITH_OK or KITH_ECRYPTO (the peer's key is of small order). */
static int
session_dh_ratchet(struct session *s, const uint8_t dh_pub[32])
{
    uint8_t dh[32];
    int rc;

    s->pn = s->ns;
    s->ns = 0;
    s->nr = 0;
    memcpy(s->hks, s->nhks, 32);
    memcpy(s->hkr, s->nhkr, 32);
    memcpy(s->dhr, dh_pub, 32);
    s->flags |= SESSION_HAS_HKS | SESSION_HAS_HKR | SESSION_HAS_DHR;
    rc = kcrypt_dh(dh, s->dhs_sk, s->dhr);
    if (rc != KITH_OK) {
        goto out;
    }
    session_kdf_rk(s->rk, s->ckr, s->nhkr, dh);
    s->flags |= SESSION_HAS_CKR;
    session_x25519_keypair(s->dhs_sk, s->dhs_pk);
    rc = kcrypt_dh(dh, s->dhs_sk, s->dhr);
    if (rc != KITH_OK) {
        goto out;
    }
    session_kdf_rk(s->rk, s->cks, s->nhks, dh);
    s->flags |= SESSION_HAS_CKS;
out:
    sodium_memzero(dh, sizeof dh);
    return rc;
}

/* X3DH AD || caller ad || enc_header, on the stack when it fits. Public data. */
static uint8_t *
session_body_ad(const struct session *s, uint8_t stack[SESSION_AD_STACK], const uint8_t *ad,
                size_t ad_len, const uint8_t enc_header[SESSION_ENC_HEADER_BYTES], size_t *len)
{
    uint8_t *buf = stack;

    if (ad_len > SIZE_MAX - SESSION_AD_BYTES - SESSION_ENC_HEADER_BYTES) {
        KITH_BUG("session: associated data too large");
    }
    *len = SESSION_AD_BYTES + ad_len + SESSION_ENC_HEADER_BYTES;
    if (*len > SESSION_AD_STACK) {
        buf = xmalloc(*len);
    }
    memcpy(buf, s->ad, SESSION_AD_BYTES);
    if (ad_len > 0) {
        memcpy(buf + SESSION_AD_BYTES, ad, ad_len);
    }
    memcpy(buf + SESSION_AD_BYTES + ad_len, enc_header, SESSION_ENC_HEADER_BYTES);
    return buf;
}

static void
session_message_key(uint8_t key[KCRYPT_KEY], const uint8_t mk[32])
{
    static const char info[] = "kith-v1/mk";

    session_hkdf(key, KCRYPT_KEY, NULL, 0, mk, 32, (const uint8_t *)info, sizeof info - 1);
}

/* The message's acknowledgement key: proves to its sender that it was opened (FRAME_ACK). */
static void
session_set_ack(struct session *s, const uint8_t mk[32])
{
    static const char info[] = "kith-v1/ack";

    session_hkdf(s->ack, sizeof s->ack, NULL, 0, mk, 32, (const uint8_t *)info, sizeof info - 1);
    s->has_ack = true;
}

int
session_take_ack_key(struct session *s, uint8_t out[32])
{
    if (!s->has_ack) {
        return KITH_ENOTFOUND;
    }
    memcpy(out, s->ack, sizeof s->ack);
    sodium_memzero(s->ack, sizeof s->ack);
    s->has_ack = false;
    return KITH_OK;
}

int
session_encrypt(struct session *s, const uint8_t *ad, size_t ad_len, const uint8_t *pt,
                size_t pt_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    uint8_t header[SESSION_HDR_BYTES];
    uint8_t ad_stack[SESSION_AD_STACK];
    uint8_t *full_ad = NULL;
    size_t full_ad_len = 0;
    uint8_t mk[32];
    uint8_t key[KCRYPT_KEY];

    *out_len = 0;
    if (!session_has(s, SESSION_HAS_CKS) || !session_has(s, SESSION_HAS_HKS) ||
        s->ns == UINT32_MAX) {
        return KITH_ESTATE; /* a responder speaks only after the first message decrypts */
    }
    if (pt_len > SIZE_MAX - SESSION_MSG_OVERHEAD || out_cap < pt_len + SESSION_MSG_OVERHEAD) {
        return KITH_ETOOBIG;
    }
    session_kdf_ck(s->cks, mk);
    memcpy(header, s->dhs_pk, 32);
    session_put_u32(header + 32, s->pn);
    session_put_u32(header + 36, s->ns);
    kcrypt_seal(out, header, sizeof header, s->ad, SESSION_AD_BYTES, s->hks);
    s->ns++;
    session_message_key(key, mk);
    session_set_ack(s, mk);
    full_ad = session_body_ad(s, ad_stack, ad, ad_len, out, &full_ad_len);
    kcrypt_seal(out + SESSION_ENC_HEADER_BYTES, pt, pt_len, full_ad, full_ad_len, key);
    *out_len = pt_len + SESSION_MSG_OVERHEAD;
    if (full_ad != ad_stack) {
        free(full_ad);
    }
    sodium_memzero(mk, sizeof mk);
    sodium_memzero(key, sizeof key);
    return KITH_OK;
}

/* Open the body under message key mk. */
static int
session_open_body(const struct session *s, const uint8_t mk[32], const uint8_t *ad, size_t ad_len,
                  const uint8_t *body, size_t body_len, uint8_t *pt)
{
    uint8_t ad_stack[SESSION_AD_STACK];
    uint8_t key[KCRYPT_KEY];
    size_t full_ad_len = 0;
    uint8_t *full_ad = session_body_ad(s, ad_stack, ad, ad_len, body, &full_ad_len);
    int rc;

    session_message_key(key, mk);
    rc = kcrypt_open(pt, body + SESSION_ENC_HEADER_BYTES, body_len - SESSION_ENC_HEADER_BYTES,
                     full_ad, full_ad_len, key);
    if (full_ad != ad_stack) {
        free(full_ad);
    }
    sodium_memzero(key, sizeof key);
    return rc;
}

static bool
session_open_header(const struct session *s, const uint8_t hk[32], const uint8_t *body,
                    uint8_t header[SESSION_HDR_BYTES])
{
    return kcrypt_open(header, body, SESSION_ENC_HEADER_BYTES, s->ad, SESSION_AD_BYTES, hk) ==
           KITH_OK;
}

static bool
session_hk_seen_before(const struct session *s, size_t i, uint64_t now_s)
{
    for (size_t j = 0; j < i; j++) {
        if (!session_skipped_expired(&s->skipped[j], now_s) &&
            sodium_memcmp(s->skipped[j].hk, s->skipped[i].hk, 32) == 0) {
            return true;
        }
    }
    return false;
}

/* TrySkippedMessageKeysHE: KITH_OK (decrypted, key deleted), KITH_ECRYPTO
 * (a stored key matched but the body failed), or KITH_ENOTFOUND. */
static int
session_try_skipped(struct session *s, const uint8_t *ad, size_t ad_len, const uint8_t *body,
                    size_t body_len, uint64_t now_s, uint8_t *pt)
{
    uint8_t header[SESSION_HDR_BYTES];
    int rc = KITH_ENOTFOUND;

    for (size_t i = 0; i < s->n_skipped && rc == KITH_ENOTFOUND; i++) {
        uint32_t n;

        if (session_skipped_expired(&s->skipped[i], now_s) || session_hk_seen_before(s, i, now_s) ||
            !session_open_header(s, s->skipped[i].hk, body, header)) {
            continue;
        }
        n = session_get_u32(header + 36);
        for (size_t j = i; j < s->n_skipped; j++) {
            const struct session_skipped *k = &s->skipped[j];

            if (k->n != n || session_skipped_expired(k, now_s) ||
                sodium_memcmp(k->hk, s->skipped[i].hk, 32) != 0) {
                continue;
            }
            rc = session_open_body(s, k->mk, ad, ad_len, body, body_len, pt);
            if (rc == KITH_OK) {
                session_set_ack(s, k->mk);
                session_remove_skipped(s, j);
            }
            break;
        }
    }
    sodium_memzero(header, sizeof header);
    return rc;
}

/* How many keys a message would make us derive and store, bounded before
 * any derivation (DR §6.4). KITH_OK or KITH_ECRYPTO. */
static int
session_check_skip(const struct session *s, bool is_dh_ratchet, uint32_t pn, uint32_t n)
{
    uint64_t total = 0;

    if (n == UINT32_MAX) {
        return KITH_ECRYPTO;
    }
    if (is_dh_ratchet) {
        if (session_has(s, SESSION_HAS_CKR) && pn > s->nr) {
            total += (uint64_t)pn - s->nr;
        }
        total += n;
    } else {
        if (n < s->nr) {
            return KITH_ECRYPTO; /* this chain is past n: a replay or a deleted key */
        }
        total += (uint64_t)n - s->nr;
    }
    return total > KITH_MAX_SKIP ? KITH_ECRYPTO : KITH_OK;
}

/* RatchetDecryptHE on (a scratch copy of) the state. */
static int
session_decrypt_state(struct session *s, const uint8_t *ad, size_t ad_len, const uint8_t *body,
                      size_t body_len, uint64_t now_s, uint8_t *pt)
{
    uint8_t header[SESSION_HDR_BYTES];
    uint8_t mk[32];
    bool is_dh_ratchet = false;
    uint32_t pn;
    uint32_t n;
    int rc;

    rc = session_try_skipped(s, ad, ad_len, body, body_len, now_s, pt);
    if (rc != KITH_ENOTFOUND) {
        goto out;
    }
    rc = KITH_ECRYPTO;
    if (session_has(s, SESSION_HAS_HKR) && session_open_header(s, s->hkr, body, header)) {
        is_dh_ratchet = false;
    } else if (session_open_header(s, s->nhkr, body, header)) {
        is_dh_ratchet = true;
    } else {
        goto out;
    }
    pn = session_get_u32(header + 32);
    n = session_get_u32(header + 36);
    rc = session_check_skip(s, is_dh_ratchet, pn, n);
    if (rc != KITH_OK) {
        goto out;
    }
    if (is_dh_ratchet) {
        session_skip(s, pn, now_s);
        rc = session_dh_ratchet(s, header);
        if (rc != KITH_OK) {
            goto out;
        }
    }
    session_skip(s, n, now_s);
    session_kdf_ck(s->ckr, mk);
    s->nr++;
    rc = session_open_body(s, mk, ad, ad_len, body, body_len, pt);
    if (rc == KITH_OK) {
        session_set_ack(s, mk);
    }
out:
    sodium_memzero(header, sizeof header);
    sodium_memzero(mk, sizeof mk);
    return rc;
}

int
session_decrypt(struct session *s, const uint8_t *ad, size_t ad_len, const uint8_t *body,
                size_t body_len, uint64_t now_s, uint8_t *pt, size_t pt_cap, size_t *pt_len)
{
    struct session *scratch = NULL;
    struct session swap;
    int rc;

    *pt_len = 0;
    if (pt != NULL && pt_cap > 0) {
        sodium_memzero(pt, pt_cap);
    }
    if (body == NULL || body_len < SESSION_MSG_OVERHEAD) {
        rc = KITH_EMALFORMED;
        goto out;
    }
    if (pt_cap < body_len - SESSION_MSG_OVERHEAD) {
        rc = KITH_ETOOBIG;
        goto out;
    }
    scratch = session_dup(s);
    rc = session_decrypt_state(scratch, ad, ad_len, body, body_len, now_s, pt);
    if (rc != KITH_OK) {
        if (pt != NULL && pt_cap > 0) {
            sodium_memzero(pt, pt_cap);
        }
        goto out;
    }
    scratch->state = SESSION_ESTABLISHED;
    session_purge_expired(scratch, now_s);
    swap = *s; /* commit: the scratch copy becomes the session */
    *s = *scratch;
    *scratch = swap;
    sodium_memzero(&swap, sizeof swap);
    *pt_len = body_len - SESSION_MSG_OVERHEAD;
out:
    session_destroy(scratch); /* on success this wipes the old state */
    return rc;
}

/* The X3DH AD and the initiator's info; written from A's side on both ends. */
static void
session_x3dh(struct session *s, const uint8_t dh[96], const uint8_t *psk,
             const struct identity_public *a, const struct identity_public *b, uint8_t sk[32],
             uint8_t hka[32], uint8_t nhkb[32])
{
    static const uint8_t zero_salt[32];
    uint8_t ikm[32 + 96];
    uint8_t info[12 + 64];
    uint8_t okm[96];

    memset(ikm, 0xff, 32);
    memcpy(ikm + 32, dh, 96);
    memcpy(info, "kith-v1/x3dh", 12);
    memcpy(info + 12, a->ik, 32);
    memcpy(info + 44, b->ik, 32);
    session_hkdf(okm, sizeof okm, psk != NULL ? psk : zero_salt, 32, ikm, sizeof ikm, info,
                 sizeof info);
    memcpy(sk, okm, 32);
    memcpy(hka, okm + 32, 32);
    memcpy(nhkb, okm + 64, 32);
    memcpy(s->ad, SESSION_AD_LABEL, 7);
    memcpy(s->ad + 7, a->ik, 32);
    memcpy(s->ad + 39, a->ikdh, 32);
    memcpy(s->ad + 71, b->ik, 32);
    memcpy(s->ad + 103, b->ikdh, 32);
    sodium_memzero(ikm, sizeof ikm);
    sodium_memzero(okm, sizeof okm);
}

int
session_initiate(const struct identity *me, const struct identity_public *peer,
                 const uint8_t spk[32], uint32_t spk_id, const uint8_t *psk, struct session **out)
{
    const struct identity_public *mine = identity_public(me);
    struct session *s = NULL;
    uint8_t ek_sk[32], ek_pk[32];
    uint8_t dh[96], sk[32], hka[32], nhkb[32];
    int rc;

    *out = NULL;
    session_x25519_keypair(ek_sk, ek_pk);
    rc = identity_public_verify(peer);
    if (rc != KITH_OK) {
        goto out;
    }
    if ((rc = kcrypt_dh(dh, identity_ikdh_sk(me), spk)) != KITH_OK ||
        (rc = kcrypt_dh(dh + 32, ek_sk, peer->ikdh)) != KITH_OK ||
        (rc = kcrypt_dh(dh + 64, ek_sk, spk)) != KITH_OK) {
        goto out;
    }
    s = session_alloc();
    session_x3dh(s, dh, psk, mine, peer, sk, hka, nhkb);
    /* RatchetInitAliceHE(SK, SPK_B, HKa, NHKb) */
    s->state = SESSION_AWAIT_REPLY;
    s->flags = SESSION_IS_INITIATOR | SESSION_HAS_DHR | SESSION_HAS_CKS | SESSION_HAS_HKS;
    memcpy(s->dhr, spk, 32);
    memcpy(s->rk, sk, 32);
    memcpy(s->hks, hka, 32);
    memcpy(s->nhkr, nhkb, 32);
    session_x25519_keypair(s->dhs_sk, s->dhs_pk);
    rc = kcrypt_dh(dh, s->dhs_sk, s->dhr);
    if (rc != KITH_OK) {
        goto out;
    }
    session_kdf_rk(s->rk, s->cks, s->nhks, dh);
    identity_public_encode(mine, s->init_header);
    memcpy(s->init_header + IDENTITY_PUBLIC_BYTES, ek_pk, 32);
    session_put_u32(s->init_header + IDENTITY_PUBLIC_BYTES + 32, spk_id);
    session_put_u32(s->init_header + IDENTITY_PUBLIC_BYTES + 36, SESSION_NO_OPK);
    *out = s;
    s = NULL;
out:
    session_destroy(s);
    sodium_memzero(ek_sk, sizeof ek_sk);
    sodium_memzero(dh, sizeof dh);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(hka, sizeof hka);
    sodium_memzero(nhkb, sizeof nhkb);
    return rc;
}

int
session_init_header_peek(const uint8_t *init_header, size_t len, uint8_t ek[32], uint32_t *spk_id)
{
    memset(ek, 0, 32);
    *spk_id = 0;
    if (init_header == NULL || len < SESSION_INIT_HEADER_BYTES) {
        return KITH_EMALFORMED;
    }
    memcpy(ek, init_header + IDENTITY_PUBLIC_BYTES, 32);
    *spk_id = session_get_u32(init_header + IDENTITY_PUBLIC_BYTES + 32);
    return KITH_OK;
}

int
session_respond(const struct identity *me, const uint8_t spk_sk[32], const uint8_t spk_pk[32],
                const uint8_t *psk, const uint8_t *init_header, size_t init_header_len,
                struct identity_public *peer, uint8_t ek_out[32], struct session **out)
{
    struct session *s = NULL;
    struct identity_public initiator;
    uint8_t dh[96], sk[32], hka[32], nhkb[32];
    const uint8_t *ek;
    int rc;

    *out = NULL;
    memset(peer, 0, sizeof *peer);
    memset(ek_out, 0, 32);
    if (init_header == NULL || init_header_len < SESSION_INIT_HEADER_BYTES ||
        session_get_u32(init_header + IDENTITY_PUBLIC_BYTES + 36) != SESSION_NO_OPK) {
        return KITH_EMALFORMED;
    }
    rc = identity_public_decode(init_header, IDENTITY_PUBLIC_BYTES, &initiator);
    if (rc != KITH_OK) {
        return rc;
    }
    ek = init_header + IDENTITY_PUBLIC_BYTES;
    if ((rc = kcrypt_dh(dh, spk_sk, initiator.ikdh)) != KITH_OK ||
        (rc = kcrypt_dh(dh + 32, identity_ikdh_sk(me), ek)) != KITH_OK ||
        (rc = kcrypt_dh(dh + 64, spk_sk, ek)) != KITH_OK) {
        goto out;
    }
    s = session_alloc();
    session_x3dh(s, dh, psk, &initiator, identity_public(me), sk, hka, nhkb);
    /* RatchetInitBobHE(SK, SPK pair, HKa, NHKb) */
    s->state = SESSION_ESTABLISHED;
    s->flags = 0;
    memcpy(s->dhs_sk, spk_sk, 32);
    memcpy(s->dhs_pk, spk_pk, 32);
    memcpy(s->rk, sk, 32);
    memcpy(s->nhks, nhkb, 32);
    memcpy(s->nhkr, hka, 32);
    *peer = initiator;
    memcpy(ek_out, ek, 32);
    *out = s;
    s = NULL;
out:
    session_destroy(s);
    sodium_memzero(dh, sizeof dh);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(hka, sizeof hka);
    sodium_memzero(nhkb, sizeof nhkb);
    return rc;
}

enum session_state
session_get_state(const struct session *s)
{
    return (enum session_state)s->state;
}

const uint8_t *
session_init_header(const struct session *s)
{
    return s->state == SESSION_AWAIT_REPLY ? s->init_header : NULL;
}

const uint8_t *
session_peer_ik(const struct session *s)
{
    /* AD = label || IK_A || IKdh_A || IK_B || IKdh_B */
    return session_has(s, SESSION_IS_INITIATOR) ? s->ad + 71 : s->ad + 7;
}

void
session_serialize(const struct session *s, uint8_t **out, size_t *out_len)
{
    const uint8_t *const keys[] = { s->dhs_sk, s->dhs_pk, s->dhr, s->rk,   s->cks,
                                    s->ckr,    s->hks,    s->hkr, s->nhks, s->nhkr };
    size_t len = SESSION_FIXED_BYTES + s->n_skipped * SESSION_SKIPPED_BYTES;
    uint8_t *buf = xmalloc(len);
    uint8_t *p = buf;

    *p++ = SESSION_VERSION;
    *p++ = s->state;
    *p++ = s->flags;
    memcpy(p, s->ad, SESSION_AD_BYTES);
    p += SESSION_AD_BYTES;
    memcpy(p, s->init_header, SESSION_INIT_HEADER_BYTES);
    p += SESSION_INIT_HEADER_BYTES;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        memcpy(p, keys[i], 32);
        p += 32;
    }
    session_put_u32(p, s->ns);
    session_put_u32(p + 4, s->nr);
    session_put_u32(p + 8, s->pn);
    session_put_u32(p + 12, (uint32_t)s->n_skipped);
    p += 16;
    for (size_t i = 0; i < s->n_skipped; i++) {
        memcpy(p, s->skipped[i].hk, 32);
        memcpy(p + 32, s->skipped[i].mk, 32);
        session_put_u32(p + 64, s->skipped[i].n);
        session_put_u64(p + 68, s->skipped[i].stored_at);
        p += SESSION_SKIPPED_BYTES;
    }
    *out = buf;
    *out_len = len;
}

/* Structural checks a well-formed state always passes. */
static bool
session_is_consistent(const struct session *s)
{
    uint8_t pk[32];
    bool ok;

    if (s->state != SESSION_AWAIT_REPLY && s->state != SESSION_ESTABLISHED) {
        return false;
    }
    if ((s->flags & ~SESSION_FLAGS_KNOWN) != 0 || memcmp(s->ad, SESSION_AD_LABEL, 7) != 0 ||
        (s->state == SESSION_AWAIT_REPLY && !session_has(s, SESSION_IS_INITIATOR))) {
        return false;
    }
    crypto_scalarmult_base(pk, s->dhs_sk);
    ok = sodium_memcmp(pk, s->dhs_pk, 32) == 0;
    sodium_memzero(pk, sizeof pk);
    return ok;
}

int
session_parse(const uint8_t *in, size_t len, struct session **out)
{
    struct session *s = NULL;
    const uint8_t *p = in;
    uint32_t n_skipped;
    int rc = KITH_EMALFORMED;

    *out = NULL;
    if (in == NULL || len < SESSION_FIXED_BYTES || in[0] != SESSION_VERSION) {
        goto out;
    }
    n_skipped = session_get_u32(in + SESSION_FIXED_BYTES - 4);
    if (n_skipped > KITH_MAX_SKIPPED_PER_SESSION ||
        len != SESSION_FIXED_BYTES + (size_t)n_skipped * SESSION_SKIPPED_BYTES) {
        goto out;
    }
    s = session_alloc();
    s->state = p[1];
    s->flags = p[2];
    p += 3;
    memcpy(s->ad, p, SESSION_AD_BYTES);
    p += SESSION_AD_BYTES;
    memcpy(s->init_header, p, SESSION_INIT_HEADER_BYTES);
    p += SESSION_INIT_HEADER_BYTES;
    {
        uint8_t *const keys[] = { s->dhs_sk, s->dhs_pk, s->dhr, s->rk,   s->cks,
                                  s->ckr,    s->hks,    s->hkr, s->nhks, s->nhkr };

        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            memcpy(keys[i], p, 32);
            p += 32;
        }
    }
    s->ns = session_get_u32(p);
    s->nr = session_get_u32(p + 4);
    s->pn = session_get_u32(p + 8);
    p += 16;
    session_reserve(s, n_skipped);
    for (size_t i = 0; i < n_skipped; i++) {
        memcpy(s->skipped[i].hk, p, 32);
        memcpy(s->skipped[i].mk, p + 32, 32);
        s->skipped[i].n = session_get_u32(p + 64);
        s->skipped[i].stored_at = session_get_u64(p + 68);
        p += SESSION_SKIPPED_BYTES;
    }
    s->n_skipped = n_skipped;
    if (!session_is_consistent(s)) {
        goto out;
    }
    *out = s;
    s = NULL;
    rc = KITH_OK;
out:
    session_destroy(s);
    return rc;
}
