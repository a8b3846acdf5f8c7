/*
 * retention tests: two replicas (A and B) exchange steps through a test
 * "wire" that can hold, reorder and drop steps; after every scenario both
 * hold the same setting. Covers accept, decline, counter-proposals, crossing
 * proposals, an acceptance of a replaced proposal, stale and replayed steps,
 * and the serialisation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/retention.h"

static void
id_of(uint8_t id[16], uint8_t v)
{
    memset(id, 0, 16);
    id[0] = v;
}

static struct update_retention
propose(struct retention *r, uint32_t seconds, uint8_t id_byte, int64_t now)
{
    struct update_retention step;
    uint8_t id[16];

    id_of(id, id_byte);
    assert_int_equal(retention_propose(r, seconds, id, now, &step), KITH_OK);
    return step;
}

static struct update_retention
answer(struct retention *r, bool accept, int64_t now)
{
    struct update_retention step;

    assert_int_equal(retention_answer(r, accept, now, &step), KITH_OK);
    return step;
}

static void
accept__puts_it_in_force_on_both_sides(void **state)
{
    struct retention a = { 0 }, b = { 0 };
    struct update_retention p, ok;

    (void)state;
    p = propose(&a, 86400, 1, 1000);
    assert_int_equal(a.seconds, 0); /* not before they agree */
    assert_true(a.has_proposal && a.is_ours);
    assert_int_equal(retention_receive(&b, &p), RETENTION_PROPOSED);
    assert_true(b.has_proposal && !b.is_ours);
    assert_int_equal(b.proposal_seconds, 86400);
    assert_int_equal(b.seconds, 0);
    ok = answer(&b, true, 2000);
    assert_int_equal(b.seconds, 86400); /* the accepter at once */
    assert_false(b.has_proposal);
    assert_int_equal(retention_receive(&a, &ok), RETENTION_AGREED);
    assert_int_equal(a.seconds, 86400);
    assert_false(a.has_proposal);
    /* the same acceptance again (a retry) changes nothing */
    assert_int_equal(retention_receive(&a, &ok), RETENTION_IGNORED);
}

static void
decline__changes_nothing(void **state)
{
    struct retention a = { 0 }, b = { 0 };
    struct update_retention p, no;

    (void)state;
    a.seconds = b.seconds = 600;
    p = propose(&a, 0, 1, 1000);
    assert_int_equal(retention_receive(&b, &p), RETENTION_PROPOSED);
    no = answer(&b, false, 2000);
    assert_int_equal(no.seconds, 0);
    assert_int_equal(retention_receive(&a, &no), RETENTION_DECLINED);
    assert_int_equal(a.seconds, 600);
    assert_int_equal(b.seconds, 600);
    assert_false(a.has_proposal || b.has_proposal);
}

static void
propose__refuses__the_setting_in_force_with_nothing_open(void **state)
{
    struct retention a = { 0 };
    struct update_retention step;
    uint8_t id[16];

    (void)state;
    id_of(id, 1);
    assert_int_equal(retention_propose(&a, 0, id, 1, &step), KITH_ESTATE);
    assert_int_equal(retention_propose(&a, UPDATE_RETENTION_MAX + 1, id, 1, &step), KITH_EINVAL);
    memset(id, 0, 16);
    assert_int_equal(retention_propose(&a, 30, id, 1, &step), KITH_EINVAL);
    assert_int_equal(retention_answer(&a, true, 1, &step), KITH_ENOTFOUND);
    assert_false(a.has_proposal);
}

static void
counter_proposal__replaces_theirs_on_both_sides(void **state)
{
    struct retention a = { 0 }, b = { 0 };
    struct update_retention p, q, ok;

    (void)state;
    p = propose(&a, 3600, 9, 1000); /* a high id: it would win a crossing */
    assert_int_equal(retention_receive(&b, &p), RETENTION_PROPOSED);
    q = propose(&b, 60, 200, 1500); /* b answers with its own */
    assert_memory_equal(q.answers, p.proposal_id, 16);
    assert_int_equal(retention_receive(&a, &q), RETENTION_PROPOSED);
    assert_true(a.has_proposal && !a.is_ours);
    ok = answer(&a, true, 2000);
    assert_int_equal(retention_receive(&b, &ok), RETENTION_AGREED);
    assert_int_equal(a.seconds, 60);
    assert_int_equal(b.seconds, 60);
}

static void
crossing_proposals__settle_on_the_lower_id(void **state)
{
    struct retention a = { 0 }, b = { 0 };
    struct update_retention pa, pb, ok;

    (void)state;
    pa = propose(&a, 3600, 7, 1000);
    pb = propose(&b, 60, 3, 1000);
    assert_int_equal(retention_receive(&a, &pb), RETENTION_PROPOSED); /* 3 < 7: b's wins */
    assert_int_equal(retention_receive(&b, &pa), RETENTION_IGNORED);
    assert_true(a.has_proposal && !a.is_ours);
    assert_true(b.has_proposal && b.is_ours);
    ok = answer(&a, true, 2000);
    assert_int_equal(retention_receive(&b, &ok), RETENTION_AGREED);
    assert_int_equal(a.seconds, 60);
    assert_int_equal(b.seconds, 60);
    assert_false(a.has_proposal || b.has_proposal);
}

static void
acceptance_of_a_replaced_proposal__still_agrees(void **state)
{
    struct retention a = { 0 }, b = { 0 };
    struct update_retention p1, p2, ok1, no2;

    (void)state;
    p1 = propose(&a, 30, 1, 1000);
    p2 = propose(&a, 90, 2, 1100); /* changed our mind before they answered */
    assert_int_equal(retention_receive(&b, &p1), RETENTION_PROPOSED);
    ok1 = answer(&b, true, 1200); /* b saw only the first */
    assert_int_equal(b.seconds, 30);
    assert_int_equal(retention_receive(&a, &ok1), RETENTION_AGREED);
    assert_int_equal(a.seconds, 30);
    assert_true(a.has_proposal && a.is_ours); /* the second stays open */
    assert_int_equal(retention_receive(&b, &p2), RETENTION_PROPOSED);
    no2 = answer(&b, false, 1300);
    assert_int_equal(retention_receive(&a, &no2), RETENTION_DECLINED);
    assert_int_equal(a.seconds, 30);
    assert_int_equal(b.seconds, 30);
}

static void
receive__ignores__stale_and_reordered_steps(void **state)
{
    struct retention a = { 0 }, b = { 0 };
    struct update_retention p1, p2, ok;

    (void)state;
    p1 = propose(&a, 30, 1, 1000);
    p2 = propose(&a, 90, 2, 1000); /* same clock: the counter still grows */
    assert_true(p2.counter > p1.counter);
    assert_int_equal(retention_receive(&b, &p2), RETENTION_PROPOSED);
    assert_int_equal(retention_receive(&b, &p1), RETENTION_IGNORED); /* older, arrived later */
    assert_int_equal(b.proposal_seconds, 90);
    ok = answer(&b, true, 500); /* b's clock is behind: the counter still grows */
    assert_int_equal(retention_receive(&a, &ok), RETENTION_AGREED);
    assert_int_equal(a.seconds, 90);
    assert_int_equal(b.seconds, 90);
}

static void
receive__ignores__an_acceptance_of_nothing_we_proposed(void **state)
{
    struct retention a = { 0 };
    struct update_retention forged;

    (void)state;
    memset(&forged, 0, sizeof forged);
    forged.kind = UPDATE_RETENTION_ACCEPT;
    forged.counter = 5;
    id_of(forged.proposal_id, 77);
    forged.seconds = 1;
    assert_int_equal(retention_receive(&a, &forged), RETENTION_IGNORED);
    assert_int_equal(a.seconds, 0);
    /* and one naming our proposal with other seconds */
    (void)propose(&a, 3600, 77, 10);
    assert_int_equal(retention_receive(&a, &forged), RETENTION_IGNORED);
    assert_int_equal(a.seconds, 0);
    forged.kind = UPDATE_RETENTION_DECLINE;
    forged.seconds = 0;
    id_of(forged.proposal_id, 78);
    assert_int_equal(retention_receive(&a, &forged), RETENTION_IGNORED);
    assert_true(a.has_proposal);
}

static void
serialize__round_trips_and_parse_rejects_damage(void **state)
{
    struct retention a = { 0 }, back;
    uint8_t buf[RETENTION_STATE_BYTES];

    (void)state;
    memset(&a, 0, sizeof a); /* padding too: the struct is compared whole */
    a.seconds = 600;
    for (uint8_t i = 1; i <= RETENTION_RECENT + 2; i++) {
        (void)propose(&a, i * 10u, i, 1000 + i);
    }
    a.counter_in = 99;
    assert_int_equal(a.nrecent, RETENTION_RECENT);
    retention_serialize(&a, buf);
    assert_int_equal(retention_parse(buf, sizeof buf, &back), KITH_OK);
    assert_memory_equal(&a, &back, sizeof a);
    assert_int_equal(retention_parse(buf, sizeof buf - 1, &back), KITH_EMALFORMED);
    buf[0] = 2;
    assert_int_equal(retention_parse(buf, sizeof buf, &back), KITH_EMALFORMED);
    buf[0] = 1;
    buf[21] = 2; /* "ours" without an open proposal */
    assert_int_equal(retention_parse(buf, sizeof buf, &back), KITH_EMALFORMED);
}

static void
describe__uses_the_largest_unit(void **state)
{
    char s[32];

    (void)state;
    retention_describe(0, s, sizeof s);
    assert_string_equal(s, "off");
    retention_describe(1, s, sizeof s);
    assert_string_equal(s, "1 second");
    retention_describe(90, s, sizeof s);
    assert_string_equal(s, "90 seconds");
    retention_describe(600, s, sizeof s);
    assert_string_equal(s, "10 minutes");
    retention_describe(3600, s, sizeof s);
    assert_string_equal(s, "1 hour");
    retention_describe(7 * 86400, s, sizeof s);
    assert_string_equal(s, "7 days");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accept__puts_it_in_force_on_both_sides),
        cmocka_unit_test(decline__changes_nothing),
        cmocka_unit_test(propose__refuses__the_setting_in_force_with_nothing_open),
        cmocka_unit_test(counter_proposal__replaces_theirs_on_both_sides),
        cmocka_unit_test(crossing_proposals__settle_on_the_lower_id),
        cmocka_unit_test(acceptance_of_a_replaced_proposal__still_agrees),
        cmocka_unit_test(receive__ignores__stale_and_reordered_steps),
        cmocka_unit_test(receive__ignores__an_acceptance_of_nothing_we_proposed),
        cmocka_unit_test(serialize__round_trips_and_parse_rejects_damage),
        cmocka_unit_test(describe__uses_the_largest_unit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
