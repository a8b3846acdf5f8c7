/*
 * invite: the one-line invite code (PROTOCOL-NOTES.md §2.4, plus the
 * inviter's display name): "kith1-" + lowercase RFC 4648 base32 (no padding)
 * of a signed, checksummed, expiring binary record. Pure apart from
 * libsodium's signature and hash functions.
 */
#ifndef KITH_PROTO_INVITE_H
#define KITH_PROTO_INVITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/identity.h"

#define INVITE_PREFIX "kith1-"
#define INVITE_NAME_MAX 64
#define INVITE_ENDPOINTS_MAX 4
#define INVITE_ENDPOINT_MAX 96
#define INVITE_CODE_MAX 2048 /* characters, including the prefix and NUL */
#define INVITE_FLAG_CIRCLE 0x01 /* the code also joins the circle circle_id */

struct invite {
    uint8_t version;             /* 1 */
    uint8_t flags;               /* bit0: circle invite */
    struct identity_public from; /* IK, IKdh + sig, TK + not_after + sig */
    uint8_t inv_pk[32];          /* one-time X25519 key (plays SPK) */
    uint32_t invite_id;
    uint8_t secret[32]; /* PSK */
    uint32_t expires_at;
    uint8_t circle_id[16];
    char name[INVITE_NAME_MAX + 1];
    uint8_t n_endpoints;
    char endpoints[INVITE_ENDPOINTS_MAX][INVITE_ENDPOINT_MAX + 1];
};

/*
 * Binary layout (big-endian), in this order:
 *   u8 version | u8 flags | identity public bundle (228) | 32 inv_pk | u32 invite_id |
 *   32 secret | u32 expires_at | 16 circle_id | u8 name_len | name |
 *   u8 n_endpoints | n x (u8 len | endpoint) | 64 SIG_IK("kith-v1/invite" || all above) |
 *   4 checksum = BLAKE2b-256("kith-v1/invite-sum" || all above)[0..4]
 */

/* Sign with `signer` (whose public bundle must equal inv->from) and write the
 * text code into out. KITH_OK, KITH_EINVAL (bad name/endpoint), KITH_ETOOBIG. */
KITH_NODISCARD int invite_encode(const struct invite *inv, const struct identity *signer,
                                 char *out, size_t out_cap);

/*
 * Parse and check a code, in this order: prefix, length bounds, base32,
 * checksum (catches typos), version, expiry against now_s, the three
 * signatures, name and endpoint grammar. Whitespace around the code is
 * ignored. KITH_OK, KITH_EMALFORMED (garbled, with checksum mismatch),
 * KITH_EEXPIRED, KITH_ECRYPTO (signature).
 */
KITH_NODISCARD int invite_decode(const char *code, uint32_t now_s, struct invite *inv);

#endif
