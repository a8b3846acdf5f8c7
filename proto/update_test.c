/*
 * update tests: the endpoint record round-trips, is bound to the signer's
 * key, and every flipped byte, truncation or trailing byte is refused; the
 * retention step round-trips and each forbidden field combination is refused.
 * Records are also built by hand from the layout in update.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/identity.h"
#include "proto/update.h"

struct fixture {
    struct identity *id;
    struct identity *other;
};

static int
setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);

    f->id = identity_generate(1700000000u);
    f->other = identity_generate(1700000000u);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    identity_destroy(f->id);
    identity_destroy(f->other);
    test_free(f);
    return 0;
}

static void
two_endpoints(struct update_endpoint *u)
{
    memset(u, 0, sizeof *u);
    u->seq = 0x0102030405060708ull;
    u->n_endpoints = 2;
    snprintf(u->endpoints[0], sizeof u->endpoints[0], "tcp://127.0.0.1:7741");
    snprintf(u->endpoints[1], sizeof u->endpoints[1], "tcp://[::1]:7742");
}

static void
endpoint__round_trips__with_the_layout_of_the_header(void **state)
{
    struct fixture *f = *state;
    struct update_endpoint u, back;
    uint8_t buf[UPDATE_ENDPOINT_BYTES_MAX];
    size_t len = 0;

    two_endpoints(&u);
    assert_int_equal(update_endpoint_encode(&u, f->id, buf, sizeof buf, &len), KITH_OK);
    /* version, seq big-endian, count, then length-prefixed endpoints and 64 signature bytes */
    assert_int_equal(len, 1 + 8 + 1 + 1 + 20 + 1 + 16 + 64);
    assert_int_equal(buf[0], 1);
    assert_int_equal(buf[1], 0x01);
    assert_int_equal(buf[8], 0x08);
    assert_int_equal(buf[9], 2);
    assert_int_equal(buf[10], 20);
    assert_memory_equal(buf + 11, "tcp://127.0.0.1:7741", 20);
    assert_int_equal(update_endpoint_decode(buf, len, identity_public(f->id)->ik, &back), KITH_OK);
    assert_true(back.seq == u.seq);
    assert_int_equal(back.n_endpoints, 2);
    assert_string_equal(back.endpoints[0], u.endpoints[0]);
    assert_string_equal(back.endpoints[1], u.endpoints[1]);
}

static void
endpoint__round_trips__with_no_endpoints(void **state)
{
    struct fixture *f = *state;
    struct update_endpoint u, back;
    uint8_t buf[UPDATE_ENDPOINT_BYTES_MAX];
    size_t len = 0;

    memset(&u, 0, sizeof u);
    u.seq = 7;
    assert_int_equal(update_endpoint_encode(&u, f->id, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(len, 10 + 64);
    assert_int_equal(update_endpoint_decode(buf, len, identity_public(f->id)->ik, &back), KITH_OK);
    assert_int_equal(back.n_endpoints, 0);
    assert_true(back.seq == 7);
}

static void
endpoint_decode__rejects__another_signer_and_every_flipped_byte(void **state)
{
    struct fixture *f = *state;
    struct update_endpoint u, back;
    uint8_t buf[UPDATE_ENDPOINT_BYTES_MAX];
    size_t len = 0;

    two_endpoints(&u);
    assert_int_equal(update_endpoint_encode(&u, f->id, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(update_endpoint_decode(buf, len, identity_public(f->other)->ik, &back),
                     KITH_ECRYPTO);
    assert_int_equal(back.n_endpoints, 0);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (uint8_t)(1u << bit);
            assert_int_not_equal(
                update_endpoint_decode(buf, len, identity_public(f->id)->ik, &back), KITH_OK);
            buf[i] ^= (uint8_t)(1u << bit);
        }
    }
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_not_equal(update_endpoint_decode(buf, cut, identity_public(f->id)->ik, &back),
                             KITH_OK);
    }
    buf[len] = 0;
    assert_int_not_equal(update_endpoint_decode(buf, len + 1, identity_public(f->id)->ik, &back),
                         KITH_OK);
}

static void
endpoint_parse__rejects__malformed_structure(void **state)
{
    uint8_t rec[UPDATE_ENDPOINT_BYTES_MAX + 8];
    struct update_endpoint u;
    size_t pos;

    (void)state;
    /* five endpoints */
    memset(rec, 0, sizeof rec);
    rec[0] = 1;
    rec[9] = 5;
    assert_int_equal(update_endpoint_parse(rec, 10 + 64, &u), KITH_EMALFORMED);
    /* version 2 */
    rec[0] = 2;
    rec[9] = 0;
    assert_int_equal(update_endpoint_parse(rec, 10 + 64, &u), KITH_EMALFORMED);
    /* an endpoint that is not one */
    rec[0] = 1;
    rec[9] = 1;
    rec[10] = 5;
    memcpy(rec + 11, "hello", 5);
    assert_int_equal(update_endpoint_parse(rec, 16 + 64, &u), KITH_EMALFORMED);
    /* a zero-length endpoint */
    rec[10] = 0;
    assert_int_equal(update_endpoint_parse(rec, 11 + 64, &u), KITH_EMALFORMED);
    /* a byte between the endpoints and the signature */
    pos = 10;
    rec[pos++] = 10;
    memcpy(rec + pos, "tcp://a:1", 9);
    rec[10] = 9;
    assert_int_equal(update_endpoint_parse(rec, 20 + 64, &u), KITH_OK);
    assert_string_equal(u.endpoints[0], "tcp://a:1");
    assert_int_equal(update_endpoint_parse(rec, 21 + 64, &u), KITH_EMALFORMED);
    assert_int_equal(u.n_endpoints, 0);
}

static void
endpoint_encode__rejects__bad_endpoints_and_small_buffers(void **state)
{
    struct fixture *f = *state;
    struct update_endpoint u;
    uint8_t buf[UPDATE_ENDPOINT_BYTES_MAX];
    size_t len = 0;

    two_endpoints(&u);
    snprintf(u.endpoints[1], sizeof u.endpoints[1], "tcp://127.0.0.1:*");
    assert_int_equal(update_endpoint_encode(&u, f->id, buf, sizeof buf, &len), KITH_EINVAL);
    two_endpoints(&u);
    u.n_endpoints = 5;
    assert_int_equal(update_endpoint_encode(&u, f->id, buf, sizeof buf, &len), KITH_EINVAL);
    two_endpoints(&u);
    assert_int_equal(update_endpoint_encode(&u, f->id, buf, 40, &len), KITH_ETOOBIG);
    assert_int_equal(update_endpoint_encode(&u, f->id, buf, 48 + 63, &len), KITH_ETOOBIG);
    assert_int_equal(len, 0);
}

static void
retention__round_trips__each_kind(void **state)
{
    static const uint8_t kinds[] = { UPDATE_RETENTION_PROPOSE, UPDATE_RETENTION_ACCEPT,
                                     UPDATE_RETENTION_DECLINE };
    uint8_t buf[UPDATE_RETENTION_BYTES];
    struct update_retention r, back;

    (void)state;
    for (size_t k = 0; k < sizeof kinds; k++) {
        memset(&r, 0, sizeof r);
        r.kind = kinds[k];
        r.counter = 1700000000123ull;
        memset(r.proposal_id, 0xab, 16);
        if (r.kind == UPDATE_RETENTION_PROPOSE) {
            memset(r.answers, 0xcd, 16);
        }
        r.seconds = r.kind == UPDATE_RETENTION_DECLINE ? 0 : 86400;
        assert_int_equal(update_retention_encode(&r, buf), KITH_OK);
        assert_int_equal(buf[0], 1);
        assert_int_equal(buf[1], r.kind);
        assert_int_equal(buf[45], r.kind == UPDATE_RETENTION_DECLINE ? 0 : 0x80);
        assert_int_equal(update_retention_decode(buf, sizeof buf, &back), KITH_OK);
        assert_memory_equal(&r, &back, sizeof r);
        assert_int_not_equal(update_retention_decode(buf, sizeof buf - 1, &back), KITH_OK);
    }
}

static void
retention__rejects__forbidden_fields(void **state)
{
    uint8_t buf[UPDATE_RETENTION_BYTES];
    struct update_retention r, back;

    (void)state;
    memset(&r, 0, sizeof r);
    r.kind = UPDATE_RETENTION_PROPOSE;
    r.seconds = 30;
    assert_int_equal(update_retention_encode(&r, buf), KITH_EINVAL); /* zero proposal id */
    memset(r.proposal_id, 1, 16);
    r.seconds = UPDATE_RETENTION_MAX + 1;
    assert_int_equal(update_retention_encode(&r, buf), KITH_EINVAL);
    r.seconds = UPDATE_RETENTION_MAX;
    assert_int_equal(update_retention_encode(&r, buf), KITH_OK);
    r.kind = 4;
    assert_int_equal(update_retention_encode(&r, buf), KITH_EINVAL);
    r.kind = UPDATE_RETENTION_DECLINE;
    assert_int_equal(update_retention_encode(&r, buf), KITH_EINVAL); /* seconds on a decline */
    r.seconds = 0;
    r.answers[3] = 1;
    assert_int_equal(update_retention_encode(&r, buf), KITH_EINVAL); /* answers on a decline */
    r.kind = UPDATE_RETENTION_ACCEPT;
    assert_int_equal(update_retention_encode(&r, buf), KITH_EINVAL);
    r.answers[3] = 0;
    assert_int_equal(update_retention_encode(&r, buf), KITH_OK);
    /* the decoder refuses what the encoder refuses, built by hand */
    buf[0] = 2;
    assert_int_equal(update_retention_decode(buf, sizeof buf, &back), KITH_EMALFORMED);
    buf[0] = 1;
    buf[1] = 0;
    assert_int_equal(update_retention_decode(buf, sizeof buf, &back), KITH_EMALFORMED);
    buf[1] = UPDATE_RETENTION_DECLINE;
    buf[45] = 1;
    assert_int_equal(update_retention_decode(buf, sizeof buf, &back), KITH_EMALFORMED);
    assert_int_equal(back.kind, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(endpoint__round_trips__with_the_layout_of_the_header, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(endpoint__round_trips__with_no_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(
            endpoint_decode__rejects__another_signer_and_every_flipped_byte, setup, teardown),
        cmocka_unit_test(endpoint_parse__rejects__malformed_structure),
        cmocka_unit_test_setup_teardown(endpoint_encode__rejects__bad_endpoints_and_small_buffers,
                                        setup, teardown),
        cmocka_unit_test(retention__round_trips__each_kind),
        cmocka_unit_test(retention__rejects__forbidden_fields),
    };

    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
