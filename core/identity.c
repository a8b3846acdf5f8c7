/*
 * identity: long-term keys (IK Ed25519, IKdh and TK X25519) in one guarded
 * sodium_malloc arena, the public bundle and its signatures, member ids and
 * safety numbers. The arena is wiped by sodium_free on destroy; parse checks
 * every secret key against its public key and both signatures.
 */
#include "core/identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/kcrypt.h"

#define IDENTITY_VERSION     1
#define IDENTITY_TK_LIFETIME (90u * 24u * 3600u)
#define IDENTITY_SIGN_STACK  512 /* context || msg up to this size avoids the heap */

_Static_assert(crypto_sign_PUBLICKEYBYTES == 32, "ed25519 pk");
_Static_assert(crypto_sign_SECRETKEYBYTES == 64, "ed25519 sk");
_Static_assert(crypto_sign_BYTES == 64, "ed25519 sig");
_Static_assert(crypto_scalarmult_BYTES == 32 && crypto_scalarmult_SCALARBYTES == 32, "x25519");
_Static_assert(IDENTITY_PUBLIC_BYTES == 32 + 32 + 64 + 32 + 4 + 64, "public bundle layout");
_Static_assert(IDENTITY_SECRET_BYTES == 1 + IDENTITY_PUBLIC_BYTES + 64 + 32 + 32, "secret layout");

static const char identity_ctx_ikdh[] = "kith-v1/ikdh";
static const char identity_ctx_transport[] = "kith-v1/transport";

struct identity {
    struct identity_public pub;
    uint8_t ik_sk[64];
    uint8_t ikdh_sk[32];
    uint8_t tk_sk[32];
};

static struct identity *
identity_alloc(void)
{
    /* One arena per identity: guard pages, canary, mlock (its result is
     * ignored inside libsodium), wiped by sodium_free. */
    struct identity *id = sodium_malloc(sizeof *id);

    if (id == NULL) {
        KITH_BUG("out of secure memory");
    }
    sodium_memzero(id, sizeof *id);
    return id;
}

void
identity_destroy(struct identity *id)
{
    if (id == NULL) {
        return;
    }
    sodium_free(id); /* wipes before unmapping */
}

static void
identity_put_u32(uint8_t out[4], uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

static uint32_t
identity_get_u32(const uint8_t in[4])
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | (uint32_t)in[3];
}

/* context || msg, on the stack when small, else on the heap. Public data only. */
static uint8_t *
identity_signed_bytes(uint8_t stack[IDENTITY_SIGN_STACK], const char *context, const uint8_t *msg,
                      size_t msg_len, size_t *len)
{
    size_t ctx_len = strlen(context);
    uint8_t *buf = stack;

    if (msg_len > SIZE_MAX - ctx_len) {
        KITH_BUG("identity: signed message too large");
    }
    *len = ctx_len + msg_len;
    if (*len > IDENTITY_SIGN_STACK) {
        buf = xmalloc(*len);
    }
    memcpy(buf, context, ctx_len);
    if (msg_len > 0) {
        memcpy(buf + ctx_len, msg, msg_len);
    }
    return buf;
}

static void
identity_sign_raw(const uint8_t ik_sk[64], uint8_t sig[64], const char *context, const uint8_t *msg,
                  size_t msg_len)
{
    uint8_t stack[IDENTITY_SIGN_STACK];
    size_t len = 0;
    uint8_t *buf = identity_signed_bytes(stack, context, msg, msg_len, &len);

    crypto_sign_detached(sig, NULL, buf, len, ik_sk);
    if (buf != stack) {
        free(buf);
    }
}

void
identity_sign(const struct identity *id, uint8_t sig[64], const char *context, const uint8_t *msg,
              size_t msg_len)
{
    identity_sign_raw(id->ik_sk, sig, context, msg, msg_len);
}

int
identity_verify(const uint8_t ik[32], const uint8_t sig[64], const char *context,
                const uint8_t *msg, size_t msg_len)
{
    uint8_t stack[IDENTITY_SIGN_STACK];
    size_t len = 0;
    uint8_t *buf = identity_signed_bytes(stack, context, msg, msg_len, &len);
    int rc = KITH_OK;

    if (crypto_sign_verify_detached(sig, buf, len, ik) != 0) {
        rc = KITH_ECRYPTO;
    }
    if (buf != stack) {
        free(buf);
    }
    return rc;
}

static void
identity_tk_message(const struct identity_public *pub, uint8_t msg[36])
{
    memcpy(msg, pub->tk, 32);
    identity_put_u32(msg + 32, pub->tk_not_after);
}

static void
identity_sign_bundle(struct identity *id)
{
    uint8_t tk_msg[36];

    identity_sign_raw(id->ik_sk, id->pub.ikdh_sig, identity_ctx_ikdh, id->pub.ikdh, 32);
    identity_tk_message(&id->pub, tk_msg);
    identity_sign_raw(id->ik_sk, id->pub.tk_sig, identity_ctx_transport, tk_msg, sizeof tk_msg);
}

/* X25519 secrets are stored clamped (RFC 7748 §5), so each public key has
 * exactly one accepted secret encoding and any flipped bit is caught. */
static void
identity_x25519_keypair(uint8_t pk[32], uint8_t sk[32])
{
    randombytes_buf(sk, 32);
    sk[0] &= 248;
    sk[31] &= 127;
    sk[31] |= 64;
    crypto_scalarmult_base(pk, sk);
}

static bool
identity_x25519_is_clamped(const uint8_t sk[32])
{
    return (sk[0] & 7) == 0 && (sk[31] & 0xc0) == 0x40;
}

struct identity *
identity_generate(uint32_t now_s)
{
    struct identity *id = identity_alloc();

    crypto_sign_keypair(id->pub.ik, id->ik_sk);
    identity_x25519_keypair(id->pub.ikdh, id->ikdh_sk);
    identity_x25519_keypair(id->pub.tk, id->tk_sk);
    id->pub.tk_not_after =
        now_s > UINT32_MAX - IDENTITY_TK_LIFETIME ? UINT32_MAX : now_s + IDENTITY_TK_LIFETIME;
    identity_sign_bundle(id);
    return id;
}

const struct identity_public *
identity_public(const struct identity *id)
{
    return &id->pub;
}

const uint8_t *
identity_ik_sk(const struct identity *id)
{
    return id->ik_sk;
}

const uint8_t *
identity_ikdh_sk(const struct identity *id)
{
    return id->ikdh_sk;
}

const uint8_t *
identity_tk_sk(const struct identity *id)
{
    return id->tk_sk;
}

void
identity_public_encode(const struct identity_public *pub, uint8_t out[IDENTITY_PUBLIC_BYTES])
{
    uint8_t *p = out;

    memcpy(p, pub->ik, 32);
    p += 32;
    memcpy(p, pub->ikdh, 32);
    p += 32;
    memcpy(p, pub->ikdh_sig, 64);
    p += 64;
    memcpy(p, pub->tk, 32);
    p += 32;
    identity_put_u32(p, pub->tk_not_after);
    p += 4;
    memcpy(p, pub->tk_sig, 64);
}

int
identity_public_verify(const struct identity_public *pub)
{
    uint8_t tk_msg[36];
    int rc;

    rc = identity_verify(pub->ik, pub->ikdh_sig, identity_ctx_ikdh, pub->ikdh, 32);
    if (rc != KITH_OK) {
        return rc;
    }
    identity_tk_message(pub, tk_msg);
    return identity_verify(pub->ik, pub->tk_sig, identity_ctx_transport, tk_msg, sizeof tk_msg);
}

static void
identity_public_read(const uint8_t in[IDENTITY_PUBLIC_BYTES], struct identity_public *pub)
{
    const uint8_t *p = in;

    memcpy(pub->ik, p, 32);
    p += 32;
    memcpy(pub->ikdh, p, 32);
    p += 32;
    memcpy(pub->ikdh_sig, p, 64);
    p += 64;
    memcpy(pub->tk, p, 32);
    p += 32;
    pub->tk_not_after = identity_get_u32(p);
    p += 4;
    memcpy(pub->tk_sig, p, 64);
}

int
identity_public_decode(const uint8_t *in, size_t len, struct identity_public *pub)
{
    int rc;

    memset(pub, 0, sizeof *pub);
    if (in == NULL || len != IDENTITY_PUBLIC_BYTES) {
        return KITH_EMALFORMED;
    }
    identity_public_read(in, pub);
    rc = identity_public_verify(pub);
    if (rc != KITH_OK) {
        memset(pub, 0, sizeof *pub);
    }
    return rc;
}

void
identity_serialize(const struct identity *id, uint8_t out[IDENTITY_SECRET_BYTES])
{
    uint8_t *p = out;

    *p++ = IDENTITY_VERSION;
    identity_public_encode(&id->pub, p);
    p += IDENTITY_PUBLIC_BYTES;
    memcpy(p, id->ik_sk, 64);
    p += 64;
    memcpy(p, id->ikdh_sk, 32);
    p += 32;
    memcpy(p, id->tk_sk, 32);
}

/* Every secret key must produce the public key it claims. */
static int
identity_check_keys(const struct identity *id)
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    uint8_t pk[32];
    uint8_t sk[64];
    int rc = KITH_ECRYPTO;

    crypto_sign_ed25519_sk_to_pk(pk, id->ik_sk);
    if (sodium_memcmp(pk, id->pub.ik, 32) != 0) {
        goto out;
    }
    /* sk_to_pk only copies the stored half: rederive from the seed too. */
    crypto_sign_ed25519_sk_to_seed(seed, id->ik_sk);
    crypto_sign_seed_keypair(pk, sk, seed);
    if (sodium_memcmp(sk, id->ik_sk, 64) != 0) {
        goto out;
    }
    if (!identity_x25519_is_clamped(id->ikdh_sk) || !identity_x25519_is_clamped(id->tk_sk)) {
        goto out;
    }
    crypto_scalarmult_base(pk, id->ikdh_sk);
    if (sodium_memcmp(pk, id->pub.ikdh, 32) != 0) {
        goto out;
    }
    crypto_scalarmult_base(pk, id->tk_sk);
    if (sodium_memcmp(pk, id->pub.tk, 32) != 0) {
        goto out;
    }
    rc = identity_public_verify(&id->pub);
out:
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(pk, sizeof pk);
    return rc;
}

int
identity_parse(const uint8_t *in, size_t len, struct identity **out)
{
    struct identity *id = NULL;
    const uint8_t *p = in;
    int rc;

    *out = NULL;
    if (in == NULL || len != IDENTITY_SECRET_BYTES || in[0] != IDENTITY_VERSION) {
        rc = KITH_EMALFORMED;
        goto out;
    }
    p++;
    id = identity_alloc();
    identity_public_read(p, &id->pub);
    p += IDENTITY_PUBLIC_BYTES;
    memcpy(id->ik_sk, p, 64);
    p += 64;
    memcpy(id->ikdh_sk, p, 32);
    p += 32;
    memcpy(id->tk_sk, p, 32);
    rc = identity_check_keys(id);
    if (rc != KITH_OK) {
        goto out;
    }
    *out = id;
    id = NULL;
out:
    identity_destroy(id);
    return rc;
}

void
identity_member_id(const uint8_t ik[32], uint8_t out[IDENTITY_MEMBER_ID])
{
    kcrypt_hash(out, IDENTITY_MEMBER_ID, "kith-v1/member", ik, 32, NULL, 0);
}

void
identity_fingerprint(const uint8_t ik[32], char out[IDENTITY_FINGERPRINT_LEN])
{
    uint8_t h[32];
    char *p = out;

    kcrypt_hash(h, sizeof h, "kith-v1/safety", ik, 32, NULL, 0);
    for (int i = 0; i < 6; i++) {
        uint64_t chunk = 0;

        for (int j = 0; j < 5; j++) {
            chunk = chunk << 8 | h[i * 5 + j];
        }
        if (i > 0) {
            *p++ = ' ';
        }
        snprintf(p, 6, "%05u", (unsigned)(chunk % 100000u));
        p += 5;
    }
    *p = '\0';
}

void
identity_safety_number(const uint8_t ik_a[32], const uint8_t ik_b[32],
                       char out[IDENTITY_SAFETY_LEN])
{
    char first[IDENTITY_FINGERPRINT_LEN];
    char second[IDENTITY_FINGERPRINT_LEN];
    bool a_first = memcmp(ik_a, ik_b, 32) <= 0;

    identity_fingerprint(a_first ? ik_a : ik_b, first);
    identity_fingerprint(a_first ? ik_b : ik_a, second);
    snprintf(out, IDENTITY_SAFETY_LEN, "%s %s", first, second);
}
