/*
 * identity: a person's long-term keys (PROTOCOL-NOTES.md §2.2): IK (Ed25519)
 * signs IKdh (X25519, end-to-end) and TK (X25519, CURVE transport). The secret
 * halves live in one sodium_malloc'd, mlocked arena and are wiped on destroy.
 * Also the public bundle other people hold of us, and safety numbers.
 */
#ifndef KITH_CORE_IDENTITY_H
#define KITH_CORE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define IDENTITY_MEMBER_ID 16
/* Serialised public bundle: ik(32) ikdh(32) ikdh_sig(64) tk(32) tk_not_after(u32 BE) tk_sig(64) */
#define IDENTITY_PUBLIC_BYTES 228
/* Serialised secret identity: version(1) + public bundle + ik_sk(64) + ikdh_sk(32) + tk_sk(32) */
#define IDENTITY_SECRET_BYTES (1 + IDENTITY_PUBLIC_BYTES + 64 + 32 + 32)
#define IDENTITY_FINGERPRINT_LEN 36   /* "12345 12345 12345 12345 12345 12345" (35) + NUL */
#define IDENTITY_SAFETY_LEN 72        /* 12 groups of 5 digits separated by spaces + NUL */

/* What others know of us; plain data, no secrets. */
struct identity_public {
    uint8_t ik[32];
    uint8_t ikdh[32];
    uint8_t ikdh_sig[64]; /* SIG_IK("kith-v1/ikdh" || ikdh) */
    uint8_t tk[32];
    uint32_t tk_not_after; /* unix seconds */
    uint8_t tk_sig[64];    /* SIG_IK("kith-v1/transport" || tk || u32be tk_not_after) */
};

struct identity; /* secret keys; defined in identity.c */

/* A fresh identity; TK valid for 90 days from now_s. Aborts on allocation failure. */
struct identity *identity_generate(uint32_t now_s);
void identity_destroy(struct identity *id); /* NULL-safe; wipes */

/* Borrowed view of the public half, valid while id lives. */
const struct identity_public *identity_public(const struct identity *id);
/* Borrowed secret halves (inside the guarded arena). */
const uint8_t *identity_ik_sk(const struct identity *id);   /* 64 bytes */
const uint8_t *identity_ikdh_sk(const struct identity *id); /* 32 bytes */
const uint8_t *identity_tk_sk(const struct identity *id);   /* 32 bytes */

/* Ed25519 detached signature over (context || msg) with IK. */
void identity_sign(const struct identity *id, uint8_t sig[64], const char *context,
                   const uint8_t *msg, size_t msg_len);
/* Verify a detached signature over (context || msg): KITH_OK or KITH_ECRYPTO. */
KITH_NODISCARD int identity_verify(const uint8_t ik[32], const uint8_t sig[64],
                                   const char *context, const uint8_t *msg, size_t msg_len);

/* Serialise/parse the secret identity (for the sealed store row). The buffer
 * holds secrets: callers wipe it. parse returns KITH_OK, KITH_EMALFORMED or
 * KITH_ECRYPTO (signatures or key pairs inconsistent). */
void identity_serialize(const struct identity *id, uint8_t out[IDENTITY_SECRET_BYTES]);
KITH_NODISCARD int identity_parse(const uint8_t *in, size_t len, struct identity **out);

/* Public bundle wire form (big-endian) and its checks: both signatures must
 * verify. KITH_OK, KITH_EMALFORMED or KITH_ECRYPTO. */
void identity_public_encode(const struct identity_public *pub, uint8_t out[IDENTITY_PUBLIC_BYTES]);
KITH_NODISCARD int identity_public_decode(const uint8_t *in, size_t len,
                                          struct identity_public *pub);
KITH_NODISCARD int identity_public_verify(const struct identity_public *pub);

/* member_id = H16("kith-v1/member" || IK). */
void identity_member_id(const uint8_t ik[32], uint8_t out[IDENTITY_MEMBER_ID]);
/* One party's half of the safety number: 6 groups of 5 digits from H32("kith-v1/safety"||IK). */
void identity_fingerprint(const uint8_t ik[32], char out[IDENTITY_FINGERPRINT_LEN]);
/* The safety number both sides see identically: the two halves ordered by IK bytes. */
void identity_safety_number(const uint8_t ik_a[32], const uint8_t ik_b[32],
                            char out[IDENTITY_SAFETY_LEN]);

#endif
