/*
 * invite tests: the code is a fixed point of decode/encode; expiry, every
 * flipped byte, tampering behind a recomputed checksum, wrong prefixes, bad
 * base32 and wrong lengths are all rejected. Records are also built here by
 * hand from the layout in invite.h, so the test checks the layout itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/identity.h"
#include "core/kcrypt.h"
#include "proto/invite.h"

#define NOW                 1700000000u
#define REC_MAX             1024
#define SIG_OFFSET_FROM_END (64 + 4)

static const char b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

struct fixture {
    struct identity *id;
    struct invite inv;
    char code[INVITE_CODE_MAX];
};

/* ---- independent base32 and record helpers ---- */

static void
b32_encode(char *out, const uint8_t *in, size_t len)
{
    size_t bit = 0;
    size_t pos = 0;

    while (bit < len * 8) {
        unsigned v = 0;
        for (int k = 0; k < 5; k++, bit++) {
            unsigned b = bit < len * 8 ? (in[bit / 8] >> (7 - bit % 8)) & 1 : 0;
            v = v << 1 | b;
        }
        out[pos++] = b32_alphabet[v];
    }
    out[pos] = '\0';
}

static size_t
b32_decode(uint8_t *out, const char *in)
{
    size_t n = strlen(in);
    size_t bits = 0;

    memset(out, 0, REC_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *at = strchr(b32_alphabet, in[i]);
        assert_non_null(at);
        unsigned v = (unsigned)(at - b32_alphabet);
        for (int k = 4; k >= 0; k--, bits++) {
            if ((v >> k) & 1) {
                out[bits / 8] |= (uint8_t)(0x80 >> (bits % 8));
            }
        }
    }
    return bits / 8;
}

/* "kith1-" + base32(rec) into code. */
static void
code_from_record(char *code, const uint8_t *rec, size_t len)
{
    memcpy(code, INVITE_PREFIX, 6);
    b32_encode(code + 6, rec, len);
}

static void
fix_checksum(uint8_t *rec, size_t len)
{
    uint8_t h[32];

    kcrypt_hash(h, sizeof h, "kith-v1/invite-sum", rec, len - 4, NULL, 0);
    memcpy(rec + len - 4, h, 4);
}

static void
resign(const struct identity *id, uint8_t *rec, size_t len)
{
    size_t body = len - SIG_OFFSET_FROM_END;

    identity_sign(id, rec + body, "kith-v1/invite", rec, body);
    fix_checksum(rec, len);
}

/* Build a record by hand from the invite.h layout; returns its length. */
static size_t
build_record(const struct invite *inv, const struct identity *id, uint8_t *rec)
{
    size_t pos = 0;
    size_t n;

    rec[pos++] = inv->version;
    rec[pos++] = inv->flags;
    identity_public_encode(&inv->from, rec + pos);
    pos += IDENTITY_PUBLIC_BYTES;
    memcpy(rec + pos, inv->inv_pk, 32);
    pos += 32;
    for (int k = 3; k >= 0; k--) {
        rec[pos++] = (uint8_t)(inv->invite_id >> (8 * k));
    }
    memcpy(rec + pos, inv->secret, 32);
    pos += 32;
    for (int k = 3; k >= 0; k--) {
        rec[pos++] = (uint8_t)(inv->expires_at >> (8 * k));
    }
    memcpy(rec + pos, inv->circle_id, 16);
    pos += 16;
    n = strlen(inv->name);
    rec[pos++] = (uint8_t)n;
    memcpy(rec + pos, inv->name, n);
    pos += n;
    rec[pos++] = inv->n_endpoints;
    for (size_t i = 0; i < inv->n_endpoints; i++) {
        n = strlen(inv->endpoints[i]);
        rec[pos++] = (uint8_t)n;
        memcpy(rec + pos, inv->endpoints[i], n);
        pos += n;
    }
    pos += SIG_OFFSET_FROM_END;
    resign(id, rec, pos);
    return pos;
}

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);

    assert_non_null(fx);
    fx->id = identity_generate(NOW);
    fx->inv.version = 1;
    fx->inv.flags = 0;
    fx->inv.from = *identity_public(fx->id);
    for (int i = 0; i < 32; i++) {
        fx->inv.inv_pk[i] = (uint8_t)(0x20 + i);
        fx->inv.secret[i] = (uint8_t)(0xc0 + i);
    }
    fx->inv.invite_id = 0xdeadbeef;
    fx->inv.expires_at = NOW + 48 * 3600;
    strcpy(fx->inv.name, "Zoë");
    fx->inv.n_endpoints = 2;
    strcpy(fx->inv.endpoints[0], "tcp://127.0.0.1:7741");
    strcpy(fx->inv.endpoints[1], "tcp://abc.onion:9000");
    assert_int_equal(invite_encode(&fx->inv, fx->id, fx->code, sizeof fx->code), KITH_OK);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    identity_destroy(fx->id);
    sodium_memzero(fx, sizeof *fx);
    free(fx);
    return 0;
}

/* ---- tests ---- */

static void
invite__round_trips__as_a_fixed_point(void **state)
{
    struct fixture *fx = *state;
    struct invite got;
    char again[INVITE_CODE_MAX];
    uint8_t rec[REC_MAX];
    uint8_t hand[REC_MAX];
    size_t rec_len, hand_len;

    assert_int_equal(strncmp(fx->code, "kith1-", 6), 0);
    assert_int_equal(invite_decode(fx->code, NOW, &got), KITH_OK);
    assert_memory_equal(&got, &fx->inv, sizeof got);
    assert_int_equal(invite_encode(&got, fx->id, again, sizeof again), KITH_OK);
    assert_string_equal(again, fx->code); /* Ed25519 is deterministic */

    /* The encoder follows the documented layout byte for byte. */
    rec_len = b32_decode(rec, fx->code + 6);
    hand_len = build_record(&fx->inv, fx->id, hand);
    assert_int_equal(rec_len, hand_len);
    assert_memory_equal(rec, hand, rec_len);
}

static void
invite__round_trips__circle_flag_no_endpoints_and_maximal_fields(void **state)
{
    struct fixture *fx = *state;
    struct invite inv = fx->inv;
    struct invite got;
    char code[INVITE_CODE_MAX];

    inv.flags = 1;
    memset(inv.circle_id, 0x77, sizeof inv.circle_id);
    inv.n_endpoints = 0;
    memset(inv.endpoints, 0, sizeof inv.endpoints);
    assert_int_equal(invite_encode(&inv, fx->id, code, sizeof code), KITH_OK);
    assert_int_equal(invite_decode(code, NOW, &got), KITH_OK);
    assert_memory_equal(&got, &inv, sizeof got);

    memset(inv.name, 'n', INVITE_NAME_MAX);
    inv.n_endpoints = INVITE_ENDPOINTS_MAX;
    for (size_t i = 0; i < INVITE_ENDPOINTS_MAX; i++) {
        memcpy(inv.endpoints[i], "tcp://", 6);
        for (size_t k = 6; k < INVITE_ENDPOINT_MAX - 2; k++) {
            inv.endpoints[i][k] = (k % 50 == 0) ? '.' : (char)('a' + i);
        }
        memcpy(inv.endpoints[i] + INVITE_ENDPOINT_MAX - 2, ":9", 3);
    }
    assert_int_equal(invite_encode(&inv, fx->id, code, sizeof code), KITH_OK);
    assert_true(strlen(code) < INVITE_CODE_MAX);
    assert_int_equal(invite_decode(code, NOW, &got), KITH_OK);
    assert_memory_equal(&got, &inv, sizeof got);
    assert_int_equal(invite_encode(&inv, fx->id, code, strlen(code)), KITH_ETOOBIG);
}

static void
invite_decode__accepts__upper_case_and_surrounding_whitespace(void **state)
{
    struct fixture *fx = *state;
    char code[INVITE_CODE_MAX + 8];
    struct invite got;

    snprintf(code, sizeof code, "  %s\r\n", fx->code);
    assert_int_equal(invite_decode(code, NOW, &got), KITH_OK);
    strcpy(code, fx->code);
    for (char *p = code + 6; *p != '\0'; p++) {
        if (*p >= 'a' && *p <= 'z') {
            *p = (char)(*p - 'a' + 'A');
        }
    }
    assert_int_equal(invite_decode(code, NOW, &got), KITH_OK);
    assert_memory_equal(&got, &fx->inv, sizeof got);
}

static void
invite_decode__rejects__expired_code(void **state)
{
    struct fixture *fx = *state;
    struct invite got;

    assert_int_equal(invite_decode(fx->code, fx->inv.expires_at - 1, &got), KITH_OK);
    assert_int_equal(invite_decode(fx->code, fx->inv.expires_at, &got), KITH_EEXPIRED);
    assert_int_equal(invite_decode(fx->code, UINT32_MAX, &got), KITH_EEXPIRED);
    /* Nothing of the invite, least of all the secret, is left behind. */
    uint8_t zero[sizeof got];
    memset(zero, 0, sizeof zero);
    assert_memory_equal(&got, zero, sizeof got);
}

static void
invite_decode__rejects__every_flipped_byte(void **state)
{
    struct fixture *fx = *state;
    uint8_t rec[REC_MAX];
    char code[INVITE_CODE_MAX];
    struct invite got;
    size_t len = b32_decode(rec, fx->code + 6);

    for (size_t i = 0; i < len; i++) {
        for (unsigned mask = 0x01; mask <= 0x80; mask <<= 7) {
            rec[i] ^= (uint8_t)mask;
            code_from_record(code, rec, len);
            if (invite_decode(code, NOW, &got) == KITH_OK) {
                fail_msg("flipped byte %zu (mask %02x) accepted", i, mask);
            }
            rec[i] ^= (uint8_t)mask;
        }
    }
    code_from_record(code, rec, len);
    assert_int_equal(invite_decode(code, NOW, &got), KITH_OK);
}

static void
invite_decode__rejects__tampering_behind_a_recomputed_checksum(void **state)
{
    struct fixture *fx = *state;
    uint8_t rec[REC_MAX];
    char code[INVITE_CODE_MAX];
    struct invite got;
    size_t len = b32_decode(rec, fx->code + 6);
    size_t body = len - SIG_OFFSET_FROM_END;

    for (size_t i = 0; i < len - 4; i++) {
        rec[i] ^= 0x01;
        fix_checksum(rec, len);
        code_from_record(code, rec, len);
        int rc = invite_decode(code, NOW, &got);
        /* Everything the signature covers, bar the checked version, flags,
         * lengths and expiry, must fail on a signature. */
        if (i >= 2 && i < 2 + 228 + 32 + 4 + 32) {
            assert_int_equal(rc, KITH_ECRYPTO); /* bundle, inv_pk, id, secret */
        } else if (i >= body) {
            assert_int_equal(rc, KITH_ECRYPTO); /* the signature itself */
        } else if (rc == KITH_OK) {
            fail_msg("tampered byte %zu accepted", i);
        }
        rec[i] ^= 0x01;
    }
    fix_checksum(rec, len);
    code_from_record(code, rec, len);
    assert_int_equal(invite_decode(code, NOW, &got), KITH_OK);
}

static void
invite_decode__rejects__signed_records_with_bad_fields(void **state)
{
    struct fixture *fx = *state;
    struct invite bad = fx->inv;
    struct identity *other = identity_generate(NOW);
    uint8_t rec[REC_MAX];
    char code[INVITE_CODE_MAX];
    struct invite got;
    size_t len;

    strcpy(bad.endpoints[1], "udp://1.2.3.4:5");
    len = build_record(&bad, fx->id, rec);
    code_from_record(code, rec, len);
    assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);

    bad = fx->inv;
    strcpy(bad.endpoints[0], "tcp://*:7741");
    len = build_record(&bad, fx->id, rec);
    code_from_record(code, rec, len);
    assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);

    bad = fx->inv;
    strcpy(bad.name, "bell\a");
    len = build_record(&bad, fx->id, rec);
    code_from_record(code, rec, len);
    assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);

    bad = fx->inv;
    bad.version = 2;
    len = build_record(&bad, fx->id, rec);
    code_from_record(code, rec, len);
    assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);

    bad = fx->inv;
    bad.flags = 0x02;
    len = build_record(&bad, fx->id, rec);
    code_from_record(code, rec, len);
    assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);

    /* Signed by someone other than the IK it carries. */
    len = build_record(&fx->inv, other, rec);
    code_from_record(code, rec, len);
    assert_int_equal(invite_decode(code, NOW, &got), KITH_ECRYPTO);

    /* Trailing bytes inside the signed part, and a declared endpoint missing. */
    len = build_record(&fx->inv, fx->id, rec);
    memmove(rec + len - SIG_OFFSET_FROM_END + 1, rec + len - SIG_OFFSET_FROM_END,
            SIG_OFFSET_FROM_END);
    rec[len - SIG_OFFSET_FROM_END] = 0;
    resign(fx->id, rec, len + 1);
    code_from_record(code, rec, len + 1);
    assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);
    len = build_record(&fx->inv, fx->id, rec);
    rec[len - SIG_OFFSET_FROM_END - 2 * 21 - 1] = 3; /* n_endpoints, now promising 3 */
    resign(fx->id, rec, len);
    code_from_record(code, rec, len);
    assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);
    identity_destroy(other);
}

static void
invite_decode__rejects__wrong_prefix(void **state)
{
    struct fixture *fx = *state;
    char code[INVITE_CODE_MAX + 8];
    struct invite got;

    static const char *const prefixes[] = { "kith2-", "kith1", "kith1_", "KITH1-", "xkith1-", "" };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        snprintf(code, sizeof code, "%s%s", prefixes[i], fx->code + 6);
        assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);
    }
    assert_int_equal(invite_decode("", NOW, &got), KITH_EMALFORMED);
    assert_int_equal(invite_decode("kith1-", NOW, &got), KITH_EMALFORMED);
    assert_int_equal(invite_decode(NULL, NOW, &got), KITH_EMALFORMED);
}

static void
invite_decode__rejects__bad_base32_characters_and_padding(void **state)
{
    struct fixture *fx = *state;
    static const char bad_chars[] = "0189=-_ .\x80";
    char code[INVITE_CODE_MAX + 8];
    struct invite got;
    size_t len = strlen(fx->code);

    for (size_t i = 0; i < sizeof bad_chars - 1; i++) {
        strcpy(code, fx->code);
        code[len / 2] = bad_chars[i];
        assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);
    }
    for (size_t pad = 1; pad <= 6; pad++) {
        strcpy(code, fx->code);
        memset(code + len, '=', pad);
        code[len + pad] = '\0';
        assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);
    }
}

static void
invite_decode__rejects__non_canonical_trailing_bits(void **state)
{
    struct fixture *fx = *state;
    char code[INVITE_CODE_MAX];
    struct invite got;
    size_t len = strlen(fx->code);
    size_t rec_len = (len - 6) * 5 / 8;
    size_t spare_bits = (len - 6) * 5 - rec_len * 8;
    const char *at;

    assert_true(spare_bits > 0); /* the fixture's record is not a multiple of 5 bytes */
    strcpy(code, fx->code);
    at = strchr(b32_alphabet, code[len - 1]);
    assert_non_null(at);
    code[len - 1] = b32_alphabet[(at - b32_alphabet) ^ 1];
    assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);
}

static void
invite_decode__rejects__too_short_and_too_long(void **state)
{
    struct fixture *fx = *state;
    char code[INVITE_CODE_MAX + 64];
    struct invite got;
    size_t len = strlen(fx->code);

    for (size_t cut = 1; cut <= 16; cut++) {
        memcpy(code, fx->code, len - cut);
        code[len - cut] = '\0';
        assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);
    }
    for (size_t extra = 1; extra <= 16; extra++) {
        strcpy(code, fx->code);
        memset(code + len, 'a', extra);
        code[len + extra] = '\0';
        assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);
    }
    memcpy(code, "kith1-", 6);
    memset(code + 6, 'a', sizeof code - 7);
    code[sizeof code - 1] = '\0';
    assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);
    code[INVITE_CODE_MAX - 1] = '\0';
    assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);
    code[80] = '\0';
    assert_int_equal(invite_decode(code, NOW, &got), KITH_EMALFORMED);
}

static void
invite_encode__rejects__bad_fields_and_foreign_signer(void **state)
{
    struct fixture *fx = *state;
    struct identity *other = identity_generate(NOW);
    struct invite inv = fx->inv;
    char code[INVITE_CODE_MAX];

    assert_int_equal(invite_encode(&inv, other, code, sizeof code), KITH_EINVAL);
    assert_string_equal(code, "");
    inv.name[0] = '\0';
    assert_int_equal(invite_encode(&inv, fx->id, code, sizeof code), KITH_EINVAL);
    inv = fx->inv;
    strcpy(inv.endpoints[0], "tcp://127.0.0.1:0");
    assert_int_equal(invite_encode(&inv, fx->id, code, sizeof code), KITH_EINVAL);
    inv = fx->inv;
    inv.n_endpoints = INVITE_ENDPOINTS_MAX + 1;
    assert_int_equal(invite_encode(&inv, fx->id, code, sizeof code), KITH_EINVAL);
    inv = fx->inv;
    inv.version = 2;
    assert_int_equal(invite_encode(&inv, fx->id, code, sizeof code), KITH_EINVAL);
    inv = fx->inv;
    assert_int_equal(invite_encode(&inv, fx->id, code, 100), KITH_ETOOBIG);
    identity_destroy(other);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(invite__round_trips__as_a_fixed_point, setup, teardown),
        cmocka_unit_test_setup_teardown(
            invite__round_trips__circle_flag_no_endpoints_and_maximal_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(
            invite_decode__accepts__upper_case_and_surrounding_whitespace, setup, teardown),
        cmocka_unit_test_setup_teardown(invite_decode__rejects__expired_code, setup, teardown),
        cmocka_unit_test_setup_teardown(invite_decode__rejects__every_flipped_byte, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            invite_decode__rejects__tampering_behind_a_recomputed_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(invite_decode__rejects__signed_records_with_bad_fields,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(invite_decode__rejects__wrong_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(invite_decode__rejects__bad_base32_characters_and_padding,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(invite_decode__rejects__non_canonical_trailing_bits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(invite_decode__rejects__too_short_and_too_long, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(invite_encode__rejects__bad_fields_and_foreign_signer,
                                        setup, teardown),
    };

    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
