/*
 * identity tests: generation, the secret and public wire forms, signatures,
 * member ids, fingerprints and safety numbers.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/identity.h"
#include "core/kcrypt.h"

#define NOW 1700000000u

static void
generate__signs__its_bundle_and_sets_tk_expiry(void **state)
{
    struct identity *id = identity_generate(NOW);
    const struct identity_public *pub = identity_public(id);
    uint8_t pk[32];

    assert_int_equal(identity_public_verify(pub), KITH_OK);
    assert_int_equal(pub->tk_not_after, NOW + 90u * 24u * 3600u);
    crypto_scalarmult_base(pk, identity_ikdh_sk(id));
    assert_memory_equal(pk, pub->ikdh, 32);
    crypto_scalarmult_base(pk, identity_tk_sk(id));
    assert_memory_equal(pk, pub->tk, 32);
    assert_memory_equal(identity_ik_sk(id) + 32, pub->ik, 32);
    identity_destroy(id);
    identity_destroy(NULL);
}

static void
serialize__round_trips__through_parse(void **state)
{
    struct identity *id = identity_generate(NOW);
    struct identity *back = NULL;
    uint8_t buf[IDENTITY_SECRET_BYTES], buf2[IDENTITY_SECRET_BYTES];

    identity_serialize(id, buf);
    assert_int_equal(buf[0], 1);
    assert_int_equal(identity_parse(buf, sizeof buf, &back), KITH_OK);
    assert_non_null(back);
    assert_memory_equal(identity_public(back), identity_public(id), sizeof(struct identity_public));
    assert_memory_equal(identity_ik_sk(back), identity_ik_sk(id), 64);
    assert_memory_equal(identity_ikdh_sk(back), identity_ikdh_sk(id), 32);
    assert_memory_equal(identity_tk_sk(back), identity_tk_sk(id), 32);
    identity_serialize(back, buf2);
    assert_memory_equal(buf, buf2, sizeof buf);
    sodium_memzero(buf, sizeof buf);
    sodium_memzero(buf2, sizeof buf2);
    identity_destroy(back);
    identity_destroy(id);
}

static void
parse__rejects__every_flipped_byte(void **state)
{
    struct identity *id = identity_generate(NOW);
    struct identity *back = (struct identity *)&back; /* must be reset to NULL */
    uint8_t buf[IDENTITY_SECRET_BYTES];

    identity_serialize(id, buf);
    for (size_t i = 0; i < sizeof buf; i++) {
        int rc;

        buf[i] ^= 0x01;
        rc = identity_parse(buf, sizeof buf, &back);
        assert_true(rc == KITH_EMALFORMED || rc == KITH_ECRYPTO);
        assert_null(back);
        if (i == 0) {
            assert_int_equal(rc, KITH_EMALFORMED);
        } else {
            assert_int_equal(rc, KITH_ECRYPTO);
        }
        buf[i] ^= 0x01;
    }
    assert_int_equal(identity_parse(buf, sizeof buf - 1, &back), KITH_EMALFORMED);
    assert_null(back);
    assert_int_equal(identity_parse(buf, sizeof buf, &back), KITH_OK);
    sodium_memzero(buf, sizeof buf);
    identity_destroy(back);
    identity_destroy(id);
}

static void
parse__rejects__keys_of_another_identity(void **state)
{
    struct identity *a = identity_generate(NOW);
    struct identity *b = identity_generate(NOW);
    struct identity *back = NULL;
    uint8_t buf_a[IDENTITY_SECRET_BYTES], buf_b[IDENTITY_SECRET_BYTES];
    const size_t sk_at = 1 + IDENTITY_PUBLIC_BYTES;
    const size_t spans[3][2] = { { sk_at, 64 }, { sk_at + 64, 32 }, { sk_at + 96, 32 } };

    identity_serialize(a, buf_a);
    identity_serialize(b, buf_b);
    for (size_t i = 0; i < 3; i++) {
        uint8_t mixed[IDENTITY_SECRET_BYTES];

        memcpy(mixed, buf_a, sizeof mixed);
        memcpy(mixed + spans[i][0], buf_b + spans[i][0], spans[i][1]);
        assert_int_equal(identity_parse(mixed, sizeof mixed, &back), KITH_ECRYPTO);
        assert_null(back);
        sodium_memzero(mixed, sizeof mixed);
    }
    sodium_memzero(buf_a, sizeof buf_a);
    sodium_memzero(buf_b, sizeof buf_b);
    identity_destroy(a);
    identity_destroy(b);
}

static void
sign__verifies__and_fails_when_tampered(void **state)
{
    struct identity *id = identity_generate(NOW);
    struct identity *other = identity_generate(NOW);
    const uint8_t *ik = identity_public(id)->ik;
    uint8_t msg[40], big[3000], sig[64];

    randombytes_buf(msg, sizeof msg);
    identity_sign(id, sig, "kith-v1/spk", msg, sizeof msg);
    assert_int_equal(identity_verify(ik, sig, "kith-v1/spk", msg, sizeof msg), KITH_OK);
    assert_int_equal(identity_verify(ik, sig, "kith-v1/invite", msg, sizeof msg), KITH_ECRYPTO);
    assert_int_equal(
        identity_verify(identity_public(other)->ik, sig, "kith-v1/spk", msg, sizeof msg),
        KITH_ECRYPTO);
    msg[5] ^= 0x20;
    assert_int_equal(identity_verify(ik, sig, "kith-v1/spk", msg, sizeof msg), KITH_ECRYPTO);
    msg[5] ^= 0x20;
    for (size_t i = 0; i < sizeof sig; i++) {
        sig[i] ^= 0x04;
        assert_int_equal(identity_verify(ik, sig, "kith-v1/spk", msg, sizeof msg), KITH_ECRYPTO);
        sig[i] ^= 0x04;
    }
    /* The signature covers context || msg: moving bytes across the seam fails. */
    assert_int_equal(identity_verify(ik, sig, "kith-v1/sp", (const uint8_t *)"k", 1), KITH_ECRYPTO);
    /* Messages larger than the stack buffer take the heap path. */
    randombytes_buf(big, sizeof big);
    identity_sign(id, sig, "kith-v1/circle-msg", big, sizeof big);
    assert_int_equal(identity_verify(ik, sig, "kith-v1/circle-msg", big, sizeof big), KITH_OK);
    big[sizeof big - 1] ^= 1;
    assert_int_equal(identity_verify(ik, sig, "kith-v1/circle-msg", big, sizeof big), KITH_ECRYPTO);
    identity_destroy(id);
    identity_destroy(other);
}

static void
public_bundle__round_trips__and_rejects_tamper(void **state)
{
    struct identity *id = identity_generate(NOW);
    struct identity_public pub;
    uint8_t wire[IDENTITY_PUBLIC_BYTES];

    identity_public_encode(identity_public(id), wire);
    assert_int_equal(identity_public_decode(wire, sizeof wire, &pub), KITH_OK);
    assert_memory_equal(&pub, identity_public(id), sizeof pub);
    /* tk_not_after is big-endian right after tk. */
    assert_int_equal(wire[128 + 32], (uint8_t)(pub.tk_not_after >> 24));
    assert_int_equal(wire[128 + 35], (uint8_t)pub.tk_not_after);
    assert_int_equal(identity_public_decode(wire, sizeof wire - 1, &pub), KITH_EMALFORMED);
    for (size_t i = 0; i < sizeof wire; i++) {
        wire[i] ^= 0x10;
        assert_int_equal(identity_public_decode(wire, sizeof wire, &pub), KITH_ECRYPTO);
        wire[i] ^= 0x10;
    }
    pub = *identity_public(id);
    pub.tk_not_after++;
    assert_int_equal(identity_public_verify(&pub), KITH_ECRYPTO);
    identity_destroy(id);
}

static void
member_id__is__labelled_hash_of_ik(void **state)
{
    uint8_t ik[32], mid[IDENTITY_MEMBER_ID], want[16];

    randombytes_buf(ik, sizeof ik);
    identity_member_id(ik, mid);
    kcrypt_hash(want, sizeof want, "kith-v1/member", ik, sizeof ik, NULL, 0);
    assert_memory_equal(mid, want, sizeof want);
}

static void
assert_groups(const char *s, size_t groups)
{
    assert_int_equal(strlen(s), groups * 6 - 1);
    for (size_t i = 0; i < groups * 6 - 1; i++) {
        if (i % 6 == 5) {
            assert_int_equal(s[i], ' ');
        } else {
            assert_true(isdigit((unsigned char)s[i]));
        }
    }
}

static void
fingerprint__reads__six_big_endian_chunks_mod_100000(void **state)
{
    uint8_t ik[32], h[32];
    char fp[IDENTITY_FINGERPRINT_LEN], want[IDENTITY_FINGERPRINT_LEN];
    char *p = want;

    randombytes_buf(ik, sizeof ik);
    identity_fingerprint(ik, fp);
    assert_groups(fp, 6);
    kcrypt_hash(h, sizeof h, "kith-v1/safety", ik, sizeof ik, NULL, 0);
    for (int i = 0; i < 6; i++) {
        uint64_t v = ((uint64_t)h[5 * i] << 32) | ((uint64_t)h[5 * i + 1] << 24) |
                     ((uint64_t)h[5 * i + 2] << 16) | ((uint64_t)h[5 * i + 3] << 8) | h[5 * i + 4];
        p += snprintf(p, sizeof want - (size_t)(p - want), i == 0 ? "%05u" : " %05u",
                      (unsigned)(v % 100000));
    }
    assert_string_equal(fp, want);
}

static void
safety_number__is__identical_from_both_sides(void **state)
{
    uint8_t ik_a[32], ik_b[32];
    char s_ab[IDENTITY_SAFETY_LEN], s_ba[IDENTITY_SAFETY_LEN];
    char fa[IDENTITY_FINGERPRINT_LEN], fb[IDENTITY_FINGERPRINT_LEN];
    char want[IDENTITY_SAFETY_LEN];

    randombytes_buf(ik_a, sizeof ik_a);
    memcpy(ik_b, ik_a, sizeof ik_b);
    ik_a[0] = 0x01; /* a sorts first */
    ik_b[0] = 0x02;
    identity_safety_number(ik_a, ik_b, s_ab);
    identity_safety_number(ik_b, ik_a, s_ba);
    assert_string_equal(s_ab, s_ba);
    assert_groups(s_ab, 12);
    identity_fingerprint(ik_a, fa);
    identity_fingerprint(ik_b, fb);
    snprintf(want, sizeof want, "%s %s", fa, fb);
    assert_string_equal(s_ab, want);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generate__signs__its_bundle_and_sets_tk_expiry),
        cmocka_unit_test(serialize__round_trips__through_parse),
        cmocka_unit_test(parse__rejects__every_flipped_byte),
        cmocka_unit_test(parse__rejects__keys_of_another_identity),
        cmocka_unit_test(sign__verifies__and_fails_when_tampered),
        cmocka_unit_test(public_bundle__round_trips__and_rejects_tamper),
        cmocka_unit_test(member_id__is__labelled_hash_of_ik),
        cmocka_unit_test(fingerprint__reads__six_big_endian_chunks_mod_100000),
        cmocka_unit_test(safety_number__is__identical_from_both_sides),
    };

    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
