/*
 * invite: the text invite code. Encode lays out the binary record of
 * invite.h, signs it with the inviter's IK, appends a 4-byte checksum and
 * writes "kith1-" + lowercase base32. Decode runs the checks in the order
 * the header names, cheapest first, so a typo costs no signature work. The
 * record carries the invite secret: every buffer holding it is wiped.
 */
#include "proto/invite.h"

#include <string.h>

#include <sodium.h>

#include "core/kcrypt.h"
#include "core/limits.h"
#include "proto/frame.h"

#define INVITE_VERSION     1
#define INVITE_SIG_BYTES   64
#define INVITE_SUM_BYTES   4
/* version flags | bundle | inv_pk invite_id | secret expires_at | circle_id */
#define INVITE_FIXED_BYTES (2 + IDENTITY_PUBLIC_BYTES + 32 + 4 + 32 + 4 + 16)
#define INVITE_RECORD_MIN  (INVITE_FIXED_BYTES + 1 + 1 + 1 + INVITE_SIG_BYTES + INVITE_SUM_BYTES)
#define INVITE_RECORD_MAX                                                                          \
    (INVITE_FIXED_BYTES + 1 + INVITE_NAME_MAX + 1 +                                                \
     INVITE_ENDPOINTS_MAX * (1 + INVITE_ENDPOINT_MAX) + INVITE_SIG_BYTES + INVITE_SUM_BYTES)
#define INVITE_PREFIX_LEN (sizeof INVITE_PREFIX - 1)
#define INVITE_B32_LEN(n) (((n)*8 + 4) / 5)

_Static_assert(INVITE_NAME_MAX == KITH_NAME_MAX, "one name limit");
_Static_assert(INVITE_ENDPOINT_MAX == KITH_ENDPOINT_MAX, "one endpoint limit");
_Static_assert(INVITE_ENDPOINTS_MAX == KITH_ENDPOINTS_MAX, "one endpoint count");
_Static_assert(INVITE_PREFIX_LEN + INVITE_B32_LEN(INVITE_RECORD_MAX) + 1 <= INVITE_CODE_MAX,
               "the longest code fits INVITE_CODE_MAX");

static const char invite_sig_context[] = "kith-v1/invite";
static const char invite_sum_label[] = "kith-v1/invite-sum";
static const char invite_b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

static void
invite_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t
invite_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
invite_checksum(uint8_t sum[INVITE_SUM_BYTES], const uint8_t *rec, size_t len)
{
    uint8_t h[32];

    kcrypt_hash(h, sizeof h, invite_sum_label, rec, len, NULL, 0);
    memcpy(sum, h, INVITE_SUM_BYTES);
}

/* ---- base32 (RFC 4648 alphabet, lowercase, no padding) ---- */

static void
invite_b32_encode(char *out, const uint8_t *in, size_t len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t pos = 0;

    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8 | in[i]) & 0xfff;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[pos++] = invite_b32_alphabet[(acc >> bits) & 31];
        }
    }
    if (bits > 0) {
        out[pos++] = invite_b32_alphabet[(acc << (5 - bits)) & 31];
    }
    out[pos] = '\0';
}

static int
invite_b32_value(char c)
{
    if (c >= 'a' && c <= 'z') {
        return c - 'a';
    }
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= '2' && c <= '7') {
        return c - '2' + 26;
    }
    return -1;
}

/* Strict: only alphabet characters (either case), no padding, and the unused
 * low bits of the last character must be zero, so each record has exactly one
 * spelling (up to case). Returns the byte count or 0 on error. */
static size_t
invite_b32_decode(uint8_t *out, size_t out_cap, const char *in, size_t len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t pos = 0;

    if (len * 5 / 8 > out_cap) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        int v = invite_b32_value(in[i]);
        if (v < 0) {
            return 0;
        }
        acc = (acc << 5 | (uint32_t)v) & 0xfff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[pos++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits: fewer than 5 and all zero, else the length or tail is wrong. */
    if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0) {
        return 0;
    }
    return pos;
}

/* ---- encode ---- */

static bool
invite_fields_valid(const struct invite *inv, size_t *name_len, size_t ep_len[])
{
    *name_len = strnlen(inv->name, sizeof inv->name);
    if (inv->version != INVITE_VERSION || (inv->flags & ~INVITE_FLAG_CIRCLE) != 0 ||
        !frame_valid_name(inv->name, *name_len) || inv->n_endpoints > INVITE_ENDPOINTS_MAX) {
        return false;
    }
    for (size_t i = 0; i < inv->n_endpoints; i++) {
        ep_len[i] = strnlen(inv->endpoints[i], sizeof inv->endpoints[i]);
        if (!frame_valid_endpoint(inv->endpoints[i], ep_len[i], false)) {
            return false;
        }
    }
    return true;
}

/* Everything before the signature; returns its length. rec holds
 * INVITE_RECORD_MAX bytes and the fields were validated. */
static size_t
invite_lay_out(const struct invite *inv, size_t name_len, const size_t ep_len[], uint8_t *rec)
{
    size_t pos = 0;

    rec[pos++] = inv->version;
    rec[pos++] = inv->flags;
    identity_public_encode(&inv->from, rec + pos);
    pos += IDENTITY_PUBLIC_BYTES;
    memcpy(rec + pos, inv->inv_pk, 32);
    pos += 32;
    invite_put_u32(rec + pos, inv->invite_id);
    pos += 4;
    memcpy(rec + pos, inv->secret, 32);
    pos += 32;
    invite_put_u32(rec + pos, inv->expires_at);
    pos += 4;
    memcpy(rec + pos, inv->circle_id, 16);
    pos += 16;
    rec[pos++] = (uint8_t)name_len;
    memcpy(rec + pos, inv->name, name_len);
    pos += name_len;
    rec[pos++] = inv->n_endpoints;
    for (size_t i = 0; i < inv->n_endpoints; i++) {
        rec[pos++] = (uint8_t)ep_len[i];
        memcpy(rec + pos, inv->endpoints[i], ep_len[i]);
        pos += ep_len[i];
    }
    return pos;
}

int
invite_encode(const struct invite *inv, const struct identity *signer, char *out, size_t out_cap)
{
    uint8_t rec[INVITE_RECORD_MAX];
    uint8_t signer_pub[IDENTITY_PUBLIC_BYTES];
    size_t ep_len[INVITE_ENDPOINTS_MAX];
    size_t name_len = 0;
    size_t len;
    int rc = KITH_EINVAL;

    if (out_cap > 0) {
        out[0] = '\0';
    }
    if (!invite_fields_valid(inv, &name_len, ep_len)) {
        goto out;
    }
    len = invite_lay_out(inv, name_len, ep_len, rec);
    identity_public_encode(identity_public(signer), signer_pub);
    if (sodium_memcmp(signer_pub, rec + 2, IDENTITY_PUBLIC_BYTES) != 0) {
        goto out; /* the code must be signed by the identity it names */
    }
    identity_sign(signer, rec + len, invite_sig_context, rec, len);
    len += INVITE_SIG_BYTES;
    invite_checksum(rec + len, rec, len);
    len += INVITE_SUM_BYTES;
    if (out_cap < INVITE_PREFIX_LEN + INVITE_B32_LEN(len) + 1) {
        rc = KITH_ETOOBIG;
        goto out;
    }
    memcpy(out, INVITE_PREFIX, INVITE_PREFIX_LEN);
    invite_b32_encode(out + INVITE_PREFIX_LEN, rec, len);
    rc = KITH_OK;
out:
    sodium_memzero(rec, sizeof rec);
    return rc;
}

/* ---- decode ---- */

static bool
invite_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Structural parse of a checksummed record (sig and checksum excluded from
 * body_len): fills inv and the endpoint/name spans, no grammar checks yet. */
static int
invite_parse_record(const uint8_t *rec, size_t body_len, struct invite *inv)
{
    size_t pos = 2 + IDENTITY_PUBLIC_BYTES;
    size_t item_len;

    inv->version = rec[0];
    inv->flags = rec[1];
    memcpy(inv->inv_pk, rec + pos, 32);
    pos += 32;
    inv->invite_id = invite_get_u32(rec + pos);
    pos += 4;
    memcpy(inv->secret, rec + pos, 32);
    pos += 32;
    inv->expires_at = invite_get_u32(rec + pos);
    pos += 4;
    memcpy(inv->circle_id, rec + pos, 16);
    pos += 16;
    item_len = rec[pos++];
    if (item_len > INVITE_NAME_MAX || item_len > body_len - pos) {
        return KITH_EMALFORMED;
    }
    memcpy(inv->name, rec + pos, item_len);
    pos += item_len;
    if (pos >= body_len || rec[pos] > INVITE_ENDPOINTS_MAX) {
        return KITH_EMALFORMED;
    }
    inv->n_endpoints = rec[pos++];
    for (size_t i = 0; i < inv->n_endpoints; i++) {
        if (pos >= body_len) {
            return KITH_EMALFORMED;
        }
        item_len = rec[pos++];
        if (item_len > INVITE_ENDPOINT_MAX || item_len > body_len - pos) {
            return KITH_EMALFORMED;
        }
        memcpy(inv->endpoints[i], rec + pos, item_len);
        pos += item_len;
    }
    return pos == body_len ? KITH_OK : KITH_EMALFORMED;
}

/* The three signatures, in order: IKdh and TK under IK (identity_public_decode
 * runs identity_public_verify), then the invite signature over the record. */
static int
invite_check_signatures(const uint8_t *rec, size_t body_len, struct invite *inv)
{
    if (identity_public_decode(rec + 2, IDENTITY_PUBLIC_BYTES, &inv->from) != KITH_OK) {
        return KITH_ECRYPTO;
    }
    if (identity_verify(inv->from.ik, rec + body_len, invite_sig_context, rec, body_len) !=
        KITH_OK) {
        return KITH_ECRYPTO;
    }
    return KITH_OK;
}

static int
invite_check_grammar(const struct invite *inv)
{
    if (!frame_valid_name(inv->name, strnlen(inv->name, sizeof inv->name))) {
        return KITH_EMALFORMED;
    }
    for (size_t i = 0; i < inv->n_endpoints; i++) {
        const char *ep = inv->endpoints[i];
        if (!frame_valid_endpoint(ep, strnlen(ep, sizeof inv->endpoints[i]), false)) {
            return KITH_EMALFORMED;
        }
    }
    return KITH_OK;
}

int
invite_decode(const char *code, uint32_t now_s, struct invite *inv)
{
    uint8_t rec[INVITE_RECORD_MAX];
    uint8_t sum[INVITE_SUM_BYTES];
    size_t code_len;
    size_t rec_len = 0;
    size_t body_len;
    int rc = KITH_EMALFORMED;

    memset(inv, 0, sizeof *inv);
    if (code == NULL) {
        goto out;
    }
    code_len = strnlen(code, INVITE_CODE_MAX);
    if (code_len == INVITE_CODE_MAX) {
        goto out; /* no NUL within INVITE_CODE_MAX: far too long */
    }
    while (code_len > 0 && invite_is_space(code[code_len - 1])) {
        code_len--;
    }
    while (code_len > 0 && invite_is_space(code[0])) {
        code++;
        code_len--;
    }
    if (code_len < INVITE_PREFIX_LEN || memcmp(code, INVITE_PREFIX, INVITE_PREFIX_LEN) != 0) {
        goto out;
    }
    code += INVITE_PREFIX_LEN;
    code_len -= INVITE_PREFIX_LEN;
    if (code_len < INVITE_B32_LEN(INVITE_RECORD_MIN) ||
        code_len > INVITE_B32_LEN(INVITE_RECORD_MAX)) {
        goto out;
    }
    rec_len = invite_b32_decode(rec, sizeof rec, code, code_len);
    if (rec_len < INVITE_RECORD_MIN) {
        goto out;
    }
    body_len = rec_len - INVITE_SIG_BYTES - INVITE_SUM_BYTES;
    invite_checksum(sum, rec, rec_len - INVITE_SUM_BYTES);
    if (sodium_memcmp(sum, rec + rec_len - INVITE_SUM_BYTES, INVITE_SUM_BYTES) != 0) {
        goto out;
    }
    if (rec[0] != INVITE_VERSION || (rec[1] & ~INVITE_FLAG_CIRCLE) != 0) {
        goto out;
    }
    rc = invite_parse_record(rec, body_len, inv);
    if (rc != KITH_OK) {
        goto out;
    }
    if (inv->expires_at <= now_s) {
        rc = KITH_EEXPIRED;
        goto out;
    }
    rc = invite_check_signatures(rec, body_len, inv);
    if (rc != KITH_OK) {
        goto out;
    }
    rc = invite_check_grammar(inv);
out:
    sodium_memzero(rec, sizeof rec);
    if (rc != KITH_OK) {
        sodium_memzero(inv, sizeof *inv);
    }
    return rc;
}
