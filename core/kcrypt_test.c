/*
 * kcrypt tests: RFC 5869 (HKDF-SHA-256), RFC 4231 (HMAC-SHA-256), RFC 7748
 * (X25519) vectors, small-order rejection and AEAD tamper checks; the random-byte pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/kcrypt.h"

static size_t
unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = strlen(hex) / 2;

    assert_true(n <= cap);
    assert_int_equal(sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &n, NULL), 0);
    return n;
}

static void
fill_range(uint8_t *out, uint8_t first, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)(first + i);
    }
}

static void
assert_hex(const uint8_t *got, size_t n, const char *want)
{
    char hex[2 * 256 + 1];

    assert_true(n <= 256);
    kcrypt_hex(hex, got, n);
    assert_string_equal(hex, want);
}

static void
hkdf__matches__rfc5869_case1(void **state)
{
    uint8_t ikm[22], salt[13], info[10], okm[42];

    memset(ikm, 0x0b, sizeof ikm);
    fill_range(salt, 0x00, sizeof salt);
    fill_range(info, 0xf0, sizeof info);
    assert_int_equal(
        kcrypt_hkdf(okm, sizeof okm, salt, sizeof salt, ikm, sizeof ikm, info, sizeof info),
        KITH_OK);
    assert_hex(
        okm, sizeof okm,
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

static void
hkdf__matches__rfc5869_case2_long_inputs(void **state)
{
    uint8_t ikm[80], salt[80], info[80], okm[82];

    fill_range(ikm, 0x00, sizeof ikm);
    fill_range(salt, 0x60, sizeof salt);
    fill_range(info, 0xb0, sizeof info);
    assert_int_equal(
        kcrypt_hkdf(okm, sizeof okm, salt, sizeof salt, ikm, sizeof ikm, info, sizeof info),
        KITH_OK);
    assert_hex(
        okm, sizeof okm,
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac78272"
        "71cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

static void
hkdf__matches__rfc5869_case3_empty_salt_and_info(void **state)
{
    static const char want[] =
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8";
    uint8_t ikm[22], okm[42];
    uint8_t empty[1] = { 0 };

    memset(ikm, 0x0b, sizeof ikm);
    assert_int_equal(kcrypt_hkdf(okm, sizeof okm, empty, 0, ikm, sizeof ikm, NULL, 0), KITH_OK);
    assert_hex(okm, sizeof okm, want);
    /* A NULL salt means 32 zero bytes, which HMAC treats like the empty key. */
    memset(okm, 0, sizeof okm);
    assert_int_equal(kcrypt_hkdf(okm, sizeof okm, NULL, 0, ikm, sizeof ikm, NULL, 0), KITH_OK);
    assert_hex(okm, sizeof okm, want);
}

static void
hkdf__rejects__zero_or_oversized_output(void **state)
{
    static uint8_t okm[255 * 32 + 1];
    uint8_t ikm[32] = { 1 };

    assert_int_equal(kcrypt_hkdf(okm, 0, NULL, 0, ikm, sizeof ikm, NULL, 0), KITH_EINVAL);
    assert_int_equal(kcrypt_hkdf(okm, sizeof okm, NULL, 0, ikm, sizeof ikm, NULL, 0), KITH_EINVAL);
    assert_int_equal(kcrypt_hkdf(okm, sizeof okm - 1, NULL, 0, ikm, sizeof ikm, NULL, 0), KITH_OK);
}

struct hmac_case {
    const char *key_hex;
    size_t key_repeat; /* key is key_hex's one byte repeated, when non-zero */
    const char *msg;
    uint8_t msg_fill;
    size_t msg_fill_len;
    const char *want;
};

static void
hmac__matches__rfc4231_cases_1_to_4_6_7(void **state)
{
    static const struct hmac_case cases[] = {
        { "0b", 20, "Hi There", 0, 0,
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
        { "4a656665", 0, "what do ya want for nothing?", 0, 0,
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
        { "aa", 20, NULL, 0xdd, 50,
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
        { "0102030405060708090a0b0c0d0e0f10111213141516171819", 0, NULL, 0xcd, 50,
          "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
        { "aa", 131, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
        { "aa", 131,
          "This is a test using a larger than block-size key and a larger than block-size "
          "data. The key needs to be hashed before being used by the HMAC algorithm.",
          0, 0, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t key[200], msg[200], mac[32];
        size_t key_len = unhex(key, sizeof key, cases[i].key_hex);
        size_t msg_len;

        if (cases[i].key_repeat != 0) {
            memset(key, key[0], cases[i].key_repeat);
            key_len = cases[i].key_repeat;
        }
        if (cases[i].msg != NULL) {
            msg_len = strlen(cases[i].msg);
            memcpy(msg, cases[i].msg, msg_len);
        } else {
            msg_len = cases[i].msg_fill_len;
            memset(msg, cases[i].msg_fill, msg_len);
        }
        kcrypt_hmac(mac, key, key_len, msg, msg_len);
        assert_hex(mac, sizeof mac, cases[i].want);
    }
}

static void
dh__matches__rfc7748_section5_2_vectors(void **state)
{
    static const char *const v[2][3] = {
        { "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
          "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
          "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
        { "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
          "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
          "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
    };

    for (size_t i = 0; i < 2; i++) {
        uint8_t sk[32], pk[32], out[32];

        unhex(sk, sizeof sk, v[i][0]);
        unhex(pk, sizeof pk, v[i][1]);
        assert_int_equal(kcrypt_dh(out, sk, pk), KITH_OK);
        assert_hex(out, sizeof out, v[i][2]);
    }
}

static void
dh__matches__rfc7748_section6_1_alice_and_bob(void **state)
{
    static const char shared[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    uint8_t a_sk[32], a_pk[32], b_sk[32], b_pk[32], k1[32], k2[32];

    unhex(a_sk, sizeof a_sk, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    unhex(b_sk, sizeof b_sk, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    crypto_scalarmult_base(a_pk, a_sk);
    crypto_scalarmult_base(b_pk, b_sk);
    assert_hex(a_pk, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    assert_hex(b_pk, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    assert_int_equal(kcrypt_dh(k1, a_sk, b_pk), KITH_OK);
    assert_int_equal(kcrypt_dh(k2, b_sk, a_pk), KITH_OK);
    assert_hex(k1, 32, shared);
    assert_hex(k2, 32, shared);
}

static void
dh__rejects__small_order_points(void **state)
{
    /* u = 0 and u = 1 (and u = p - 1) give the all-zero output for every scalar. */
    static const char *const bad[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    uint8_t sk[32], pk[32], out[32];

    randombytes_buf(sk, sizeof sk);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unhex(pk, sizeof pk, bad[i]);
        memset(out, 0x55, sizeof out);
        assert_int_equal(kcrypt_dh(out, sk, pk), KITH_ECRYPTO);
        for (size_t j = 0; j < sizeof out; j++) {
            assert_int_equal(out[j], 0);
        }
    }
}

static void
seal__round_trips__and_uses_fresh_nonces(void **state)
{
    uint8_t key[KCRYPT_KEY], pt[100], back[100];
    uint8_t ad[] = "frame header";
    uint8_t s1[sizeof pt + KCRYPT_OVERHEAD], s2[sizeof pt + KCRYPT_OVERHEAD];

    randombytes_buf(key, sizeof key);
    randombytes_buf(pt, sizeof pt);
    kcrypt_seal(s1, pt, sizeof pt, ad, sizeof ad, key);
    kcrypt_seal(s2, pt, sizeof pt, ad, sizeof ad, key);
    assert_memory_not_equal(s1, s2, KCRYPT_NONCE);
    assert_int_equal(kcrypt_open(back, s1, sizeof s1, ad, sizeof ad, key), KITH_OK);
    assert_memory_equal(back, pt, sizeof pt);
    assert_int_equal(kcrypt_open(back, s2, sizeof s2, ad, sizeof ad, key), KITH_OK);
    assert_memory_equal(back, pt, sizeof pt);
}

static void
open__rejects__every_tampered_byte_and_zeroes_output(void **state)
{
    uint8_t key[KCRYPT_KEY], pt[33], back[33];
    uint8_t ad[4] = { 1, 2, 3, 4 };
    uint8_t sealed[sizeof pt + KCRYPT_OVERHEAD];
    const uint8_t zero[sizeof back] = { 0 };

    randombytes_buf(key, sizeof key);
    randombytes_buf(pt, sizeof pt);
    kcrypt_seal(sealed, pt, sizeof pt, ad, sizeof ad, key);
    for (size_t i = 0; i < sizeof sealed; i++) {
        for (int bit = 0; bit < 8; bit++) {
            sealed[i] ^= (uint8_t)(1u << bit);
            memset(back, 0xaa, sizeof back);
            assert_int_equal(kcrypt_open(back, sealed, sizeof sealed, ad, sizeof ad, key),
                             KITH_ECRYPTO);
            assert_memory_equal(back, zero, sizeof back);
            sealed[i] ^= (uint8_t)(1u << bit);
        }
    }
    for (size_t i = 0; i < sizeof ad; i++) {
        ad[i] ^= 0x01;
        assert_int_equal(kcrypt_open(back, sealed, sizeof sealed, ad, sizeof ad, key),
                         KITH_ECRYPTO);
        ad[i] ^= 0x01;
    }
    key[0] ^= 0x80;
    assert_int_equal(kcrypt_open(back, sealed, sizeof sealed, ad, sizeof ad, key), KITH_ECRYPTO);
    key[0] ^= 0x80;
    assert_int_equal(kcrypt_open(back, sealed, KCRYPT_OVERHEAD - 1, ad, sizeof ad, key),
                     KITH_ECRYPTO);
    assert_int_equal(kcrypt_open(back, sealed, sizeof sealed - 1, ad, sizeof ad, key),
                     KITH_ECRYPTO);
    assert_int_equal(kcrypt_open(back, sealed, sizeof sealed, ad, sizeof ad, key), KITH_OK);
    assert_memory_equal(back, pt, sizeof pt);
}

static void
hash__separates__labels_and_lengths(void **state)
{
    uint8_t in[32] = { 7 };
    uint8_t h1[32], h2[32], h3[16], h4[32];

    kcrypt_hash(h1, sizeof h1, "kith-v1/member", in, sizeof in, NULL, 0);
    kcrypt_hash(h2, sizeof h2, "kith-v1/safety", in, sizeof in, NULL, 0);
    kcrypt_hash(h3, sizeof h3, "kith-v1/member", in, sizeof in, NULL, 0);
    assert_memory_not_equal(h1, h2, 32);
    assert_memory_not_equal(h1, h3, 16);
    /* label || a || b is one concatenated input. */
    kcrypt_hash(h4, sizeof h4, "kith-v1/member", in, 10, in + 10, sizeof in - 10);
    assert_memory_equal(h1, h4, 32);
    crypto_generichash(h4, 32, (const uint8_t *)"kith-v1/member", 14, NULL, 0);
    assert_memory_not_equal(h1, h4, 32);
}

static void
hex__writes__lower_case_and_nul(void **state)
{
    const uint8_t in[] = { 0x00, 0x9f, 0xab, 0xff };
    char out[9];

    memset(out, 'x', sizeof out);
    kcrypt_hex(out, in, sizeof in);
    assert_string_equal(out, "009fabff");
    kcrypt_hex(out, in, 0);
    assert_string_equal(out, "");
}

/* ---- the random-byte pool (core/kcrypt_rng.c), installed in main ---- */

static int
cmp16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

static void
rng__hands_out__distinct_values_across_refills(void **state)
{
    enum { N = 3000 };
    uint8_t(*v)[16] = calloc(N, 16);
    size_t before;

    (void)state;
    assert_non_null(v);
    assert_string_equal(randombytes_implementation_name(), "kith-getrandom-pool");
    randombytes_buf(v[0], 16);
    before = kcrypt_rng_pooled();
    randombytes_buf(v[1], 16);
    assert_true(kcrypt_rng_pooled() == before - 16 || kcrypt_rng_pooled() == 4096 - 16);
    for (int i = 2; i < N; i++) { /* 48,000 bytes: the pool refills a dozen times */
        randombytes_buf(v[i], 16);
    }
    qsort(v, N, 16, cmp16);
    for (int i = 1; i < N; i++) {
        assert_true(memcmp(v[i - 1], v[i], 16) != 0);
    }
    before = kcrypt_rng_pooled();
    randombytes_buf(v[0], 4096); /* bulk: straight from the kernel, the pool untouched */
    assert_int_equal(kcrypt_rng_pooled(), before);
    assert_true(randombytes_uniform(10) < 10);
    free(v);
}

static void
rng__forked_child__starts_empty_and_never_repeats_the_parent(void **state)
{
    uint8_t mine[16], theirs[16];
    int fds[2];
    int status = 0;
    pid_t kid;

    (void)state;
    randombytes_buf(mine, 16);
    assert_true(kcrypt_rng_pooled() > 16); /* the parent holds unused bytes */
    assert_int_equal(pipe(fds), 0);
    kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        uint8_t v[16];
        int ok = kcrypt_rng_pooled() == 0;
        randombytes_buf(v, 16);
        ok = ok && write(fds[1], v, 16) == 16;
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(read(fds[0], theirs, 16), 16);
    assert_int_equal(waitpid(kid, &status, 0), kid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    randombytes_buf(mine, 16); /* the parent's next value, from its own pool */
    assert_true(memcmp(mine, theirs, 16) != 0);
    close(fds[0]);
    close(fds[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hkdf__matches__rfc5869_case1),
        cmocka_unit_test(hkdf__matches__rfc5869_case2_long_inputs),
        cmocka_unit_test(hkdf__matches__rfc5869_case3_empty_salt_and_info),
        cmocka_unit_test(hkdf__rejects__zero_or_oversized_output),
        cmocka_unit_test(hmac__matches__rfc4231_cases_1_to_4_6_7),
        cmocka_unit_test(dh__matches__rfc7748_section5_2_vectors),
        cmocka_unit_test(dh__matches__rfc7748_section6_1_alice_and_bob),
        cmocka_unit_test(dh__rejects__small_order_points),
        cmocka_unit_test(seal__round_trips__and_uses_fresh_nonces),
        cmocka_unit_test(open__rejects__every_tampered_byte_and_zeroes_output),
        cmocka_unit_test(hash__separates__labels_and_lengths),
        cmocka_unit_test(hex__writes__lower_case_and_nul),
        cmocka_unit_test(rng__hands_out__distinct_values_across_refills),
        cmocka_unit_test(rng__forked_child__starts_empty_and_never_repeats_the_parent),
    };

    if (kcrypt_rng_install() != KITH_OK || sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
