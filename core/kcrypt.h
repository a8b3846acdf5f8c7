/*
 * kcrypt: the few constructions kith builds from libsodium 1.0.18
 * (PROTOCOL-NOTES.md §2.1): HKDF-SHA-256 (RFC 5869, which 1.0.18 lacks),
 * labelled BLAKE2b hashes, and XChaCha20-Poly1305 with a random nonce
 * carried in front of the ciphertext. Pure apart from the RNG.
 */
#ifndef KITH_CORE_KCRYPT_H
#define KITH_CORE_KCRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define KCRYPT_KEY 32
#define KCRYPT_NONCE 24
#define KCRYPT_TAG 16
#define KCRYPT_OVERHEAD (KCRYPT_NONCE + KCRYPT_TAG) /* sealed = nonce || ct || tag */

/* RFC 5869 HKDF-SHA-256. salt may be NULL (then 32 zero bytes); okm_len <= 255*32.
 * KITH_OK or KITH_EINVAL. */
KITH_NODISCARD int kcrypt_hkdf(uint8_t *okm, size_t okm_len, const uint8_t *salt, size_t salt_len,
                               const uint8_t *ikm, size_t ikm_len, const uint8_t *info,
                               size_t info_len);

/* HMAC-SHA-256(key, msg) -> out[32]. */
void kcrypt_hmac(uint8_t out[32], const uint8_t *key, size_t key_len, const uint8_t *msg,
                 size_t msg_len);

/* out = BLAKE2b(label || a || b), out_len 16 or 32 (b may be NULL). */
void kcrypt_hash(uint8_t *out, size_t out_len, const char *label, const uint8_t *a, size_t a_len,
                 const uint8_t *b, size_t b_len);

/* X25519 with the all-zero check: KITH_OK or KITH_ECRYPTO. */
KITH_NODISCARD int kcrypt_dh(uint8_t out[32], const uint8_t sk[32], const uint8_t pk[32]);

/* AEAD seal with a fresh random nonce: out = nonce(24) || ct || tag(16);
 * out must hold pt_len + KCRYPT_OVERHEAD bytes. */
void kcrypt_seal(uint8_t *out, const uint8_t *pt, size_t pt_len, const uint8_t *ad, size_t ad_len,
                 const uint8_t key[KCRYPT_KEY]);

/* AEAD open of nonce || ct || tag; pt must hold in_len - KCRYPT_OVERHEAD bytes.
 * On failure pt is zeroed. KITH_OK or KITH_ECRYPTO (also for in_len too short). */
KITH_NODISCARD int kcrypt_open(uint8_t *pt, const uint8_t *in, size_t in_len, const uint8_t *ad,
                               size_t ad_len, const uint8_t key[KCRYPT_KEY]);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void kcrypt_hex(char *out, const uint8_t *in, size_t n);

/* Grow a heap array that holds secrets to new_cap elements of elem bytes: the first `used`
 * are copied, the rest zeroed, the old block wiped and freed. Nothing when new_cap <= *cap. */
void kcrypt_secret_grow(void **block, size_t *cap, size_t used, size_t new_cap, size_t elem);

/* One step of a symmetric hash chain (Double Ratchet KDF_CK, circle sender chains):
 * mk = HMAC(ck, 0x01), ck' = HMAC(ck, 0x02); ck is replaced. */
void kcrypt_chain_step(uint8_t ck[32], uint8_t mk[32]);

/* Before sodium_init: libsodium's random bytes come from the kernel 4 KiB at a time
 * (core/kcrypt_rng.c), not one system call per value. KITH_OK or KITH_ESYS. */
KITH_NODISCARD int kcrypt_rng_install(void);
/* Bytes the pool holds unused (tests: a fork leaves the child none). */
size_t kcrypt_rng_pooled(void);

#endif
