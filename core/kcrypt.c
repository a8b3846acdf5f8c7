/*
 * kcrypt: HKDF-SHA-256 (RFC 5869) over libsodium's HMAC-SHA-256, labelled
 * BLAKE2b, checked X25519 and XChaCha20-Poly1305 with a random nonce in front.
 * Every intermediate secret is wiped before return.
 */
#include "core/kcrypt.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

_Static_assert(KCRYPT_KEY == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "aead key size");
_Static_assert(KCRYPT_NONCE == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "aead nonce size");
_Static_assert(KCRYPT_TAG == crypto_aead_xchacha20poly1305_ietf_ABYTES, "aead tag size");
_Static_assert(crypto_auth_hmacsha256_BYTES == 32, "hmac size");

#define KCRYPT_HASHLEN 32

void
kcrypt_hmac(uint8_t out[32], const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len)
{
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, msg, msg_len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

int
kcrypt_hkdf(uint8_t *okm, size_t okm_len, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
            size_t ikm_len, const uint8_t *info, size_t info_len)
{
    static const uint8_t zero_salt[KCRYPT_HASHLEN];
    crypto_auth_hmacsha256_state st;
    uint8_t prk[KCRYPT_HASHLEN];
    uint8_t t[KCRYPT_HASHLEN];
    size_t done = 0;
    uint8_t counter = 0;

    if (okm == NULL || okm_len == 0 || okm_len > 255 * KCRYPT_HASHLEN ||
        (ikm == NULL && ikm_len != 0) || (info == NULL && info_len != 0)) {
        return KITH_EINVAL;
    }
    if (salt == NULL) {
        salt = zero_salt;
        salt_len = sizeof zero_salt;
    }
    kcrypt_hmac(prk, salt, salt_len, ikm, ikm_len);
    while (done < okm_len) {
        size_t take = okm_len - done < sizeof t ? okm_len - done : sizeof t;

        counter++;
        crypto_auth_hmacsha256_init(&st, prk, sizeof prk);
        if (counter > 1) {
            crypto_auth_hmacsha256_update(&st, t, sizeof t);
        }
        crypto_auth_hmacsha256_update(&st, info, info_len);
        crypto_auth_hmacsha256_update(&st, &counter, 1);
        crypto_auth_hmacsha256_final(&st, t);
        memcpy(okm + done, t, take);
        done += take;
    }
    sodium_memzero(&st, sizeof st);
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(t, sizeof t);
    return KITH_OK;
}

void
kcrypt_hash(uint8_t *out, size_t out_len, const char *label, const uint8_t *a, size_t a_len,
            const uint8_t *b, size_t b_len)
{
    crypto_generichash_state st;

    if (out_len < crypto_generichash_BYTES_MIN || out_len > crypto_generichash_BYTES_MAX) {
        KITH_BUG("kcrypt_hash: bad output length");
    }
    crypto_generichash_init(&st, NULL, 0, out_len);
    if (label != NULL) {
        crypto_generichash_update(&st, (const unsigned char *)label, strlen(label));
    }
    if (a != NULL) {
        crypto_generichash_update(&st, a, a_len);
    }
    if (b != NULL) {
        crypto_generichash_update(&st, b, b_len);
    }
    crypto_generichash_final(&st, out, out_len);
    sodium_memzero(&st, sizeof st);
}

int
kcrypt_dh(uint8_t out[32], const uint8_t sk[32], const uint8_t pk[32])
{
    /* crypto_scalarmult returns -1 for an all-zero (small-order) result. */
    if (crypto_scalarmult(out, sk, pk) != 0) {
        sodium_memzero(out, 32);
        return KITH_ECRYPTO;
    }
    return KITH_OK;
}

void
kcrypt_seal(uint8_t *out, const uint8_t *pt, size_t pt_len, const uint8_t *ad, size_t ad_len,
            const uint8_t key[KCRYPT_KEY])
{
    unsigned long long ct_len = 0;

    randombytes_buf(out, KCRYPT_NONCE);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + KCRYPT_NONCE, &ct_len, pt, pt_len, ad,
                                                   ad_len, NULL, out, key) != 0) {
        KITH_BUG("kcrypt_seal: aead encrypt failed");
    }
}

int
kcrypt_open(uint8_t *pt, const uint8_t *in, size_t in_len, const uint8_t *ad, size_t ad_len,
            const uint8_t key[KCRYPT_KEY])
{
    unsigned long long pt_len = 0;

    if (in_len < KCRYPT_OVERHEAD) {
        return KITH_ECRYPTO;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &pt_len, NULL, in + KCRYPT_NONCE,
                                                   in_len - KCRYPT_NONCE, ad, ad_len, in,
                                                   key) != 0) {
        sodium_memzero(pt, in_len - KCRYPT_OVERHEAD);
        return KITH_ECRYPTO;
    }
    return KITH_OK;
}

void
kcrypt_hex(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

void
kcrypt_secret_grow(void **block, size_t *cap, size_t used, size_t new_cap, size_t elem)
{
    uint8_t *grown;

    if (new_cap <= *cap) {
        return;
    }
    grown = xcalloc(new_cap, elem);
    if (used > 0) {
        memcpy(grown, *block, used * elem);
    }
    if (*block != NULL) {
        sodium_memzero(*block, *cap * elem);
        free(*block);
    }
    *block = grown;
    *cap = new_cap;
}

void
kcrypt_chain_step(uint8_t ck[32], uint8_t mk[32])
{
    static const uint8_t one = 0x01;
    static const uint8_t two = 0x02;
    uint8_t next[32];

    kcrypt_hmac(mk, ck, 32, &one, 1);
    kcrypt_hmac(next, ck, 32, &two, 1);
    memcpy(ck, next, 32);
    sodium_memzero(next, sizeof next);
}
