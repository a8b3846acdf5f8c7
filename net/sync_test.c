/*
 * sync_test: the anti-entropy bookkeeping: marks, gaps, HAVE vectors and
 * what two members serve each other; and a random gossip run in which every
 * member ends holding everything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/sync.h"

static void
sender_id(uint8_t out[16], uint8_t n)
{
    memset(out, 0, 16);
    out[0] = n;
}

static void
test_marks_and_gaps(void **state)
{
    struct sync_vec *v = sync_vec_create();
    uint8_t a[16];

    (void)state;
    sender_id(a, 1);
    assert_int_equal(sync_vec_hwm(v, 1, a), 0);
    assert_true(sync_vec_add(v, 1, a, 1));
    assert_false(sync_vec_add(v, 1, a, 1));
    assert_true(sync_vec_add(v, 1, a, 3));
    assert_int_equal(sync_vec_hwm(v, 1, a), 1);
    assert_true(sync_vec_holds(v, 1, a, 3));
    assert_false(sync_vec_holds(v, 1, a, 2));
    assert_true(sync_vec_add(v, 1, a, 2));
    assert_int_equal(sync_vec_hwm(v, 1, a), 3);
    assert_false(sync_vec_add(v, 1, a, 0));
    assert_false(sync_vec_add(v, 1, a, 3 + SYNC_GAP_MAX + 1));
    sync_vec_set_hwm(v, 1, a, 10);
    assert_int_equal(sync_vec_hwm(v, 1, a), 10);
    sync_vec_set_hwm(v, 1, a, 5); /* never lowers */
    assert_int_equal(sync_vec_hwm(v, 1, a), 10);
    assert_int_equal(sync_vec_hwm(v, 2, a), 0);
    sync_vec_prune(v, 2);
    assert_int_equal(sync_vec_hwm(v, 1, a), 0);
    sync_vec_destroy(v);
    sync_vec_destroy(NULL);
}

static void
test_have_sorted_and_diff(void **state)
{
    struct sync_vec *x = sync_vec_create();
    struct sync_vec *y = sync_vec_create();
    struct sync_have *h = calloc(1, sizeof *h);
    struct sync_gap gaps[8];
    uint8_t a[16];
    uint8_t b[16];
    bool more = false;
    size_t n;

    (void)state;
    sender_id(a, 1);
    sender_id(b, 2);
    for (uint64_t s = 1; s <= 5; s++) {
        assert_true(sync_vec_add(x, 2, b, s));
        assert_true(sync_vec_add(x, 1, a, s));
    }
    assert_true(sync_vec_add(y, 1, a, 1));
    assert_true(sync_vec_add(y, 3, a, 1)); /* y holds an epoch x knows nothing of */
    sync_vec_have(x, 0, SYNC_F_REPLY, h);
    assert_int_equal(h->n, 2);
    assert_int_equal(h->flags, SYNC_F_REPLY);
    assert_int_equal(h->entries[0].epoch_no, 1);
    assert_int_equal(h->entries[1].epoch_no, 2);
    /* y looks at x's HAVE: x has more of (1,a) and all of (2,b); y serves only (3,a). */
    n = sync_vec_diff(y, h, 0, gaps, 8, &more);
    assert_int_equal(n, 1);
    assert_int_equal(gaps[0].epoch, 3);
    assert_int_equal(gaps[0].from, 1);
    assert_true(more);
    /* x looks at y's HAVE: serve (1,a) from 2 and (2,b) from 1; y has more of epoch 3. */
    sync_vec_have(y, 0, 0, h);
    n = sync_vec_diff(x, h, 0, gaps, 8, &more);
    assert_int_equal(n, 2);
    assert_int_equal(gaps[0].epoch, 1);
    assert_int_equal(gaps[0].from, 2);
    assert_int_equal(gaps[1].epoch, 2);
    assert_int_equal(gaps[1].from, 1);
    assert_true(more);
    /* min_epoch hides older epochs from both sides. */
    n = sync_vec_diff(x, h, 2, gaps, 8, &more);
    assert_int_equal(n, 1);
    assert_int_equal(gaps[0].epoch, 2);
    /* max bounds the answer. */
    n = sync_vec_diff(x, h, 0, gaps, 1, &more);
    assert_int_equal(n, 1);
    free(h);
    sync_vec_destroy(x);
    sync_vec_destroy(y);
}

/* Members on a line 0-1-2-...-7 (each talks only to its neighbours), random frames created
 * anywhere, random HAVE exchanges along the links: at the end everyone holds everything. */
static void
test_gossip_converges(void **state)
{
    enum { N = 8, FRAMES = 300 };
    struct sync_vec *m[N];
    struct sync_have *h = calloc(1, sizeof *h);
    struct sync_gap gaps[64];
    uint64_t next_seq[N] = { 0 };
    unsigned seed = 12345;

    (void)state;
    for (int i = 0; i < N; i++) {
        m[i] = sync_vec_create();
    }
    for (int f = 0; f < FRAMES; f++) {
        int who = (int)(rand_r(&seed) % N);
        uint8_t s[16];
        sender_id(s, (uint8_t)who);
        assert_true(sync_vec_add(m[who], 1, s, ++next_seq[who]));
    }
    for (int round = 0; round < 200; round++) {
        int i = (int)(rand_r(&seed) % (N - 1));
        int j = i + 1;
        bool more = false;
        size_t n;
        if (rand_r(&seed) % 2) {
            int t = i;
            i = j;
            j = t;
        }
        /* i sends HAVE to j; j serves i; if j saw i has more, j sends HAVE back and i serves. */
        sync_vec_have(m[i], 0, 0, h);
        n = sync_vec_diff(m[j], h, 0, gaps, 64, &more);
        for (size_t g = 0; g < n; g++) {
            uint64_t top = sync_vec_hwm(m[j], gaps[g].epoch, gaps[g].sender);
            for (uint64_t q = gaps[g].from; q <= top; q++) {
                sync_vec_add(m[i], gaps[g].epoch, gaps[g].sender, q);
            }
        }
        if (more) {
            bool again = false;
            sync_vec_have(m[j], 0, 0, h);
            n = sync_vec_diff(m[i], h, 0, gaps, 64, &again);
            for (size_t g = 0; g < n; g++) {
                uint64_t top = sync_vec_hwm(m[i], gaps[g].epoch, gaps[g].sender);
                for (uint64_t q = gaps[g].from; q <= top; q++) {
                    sync_vec_add(m[j], gaps[g].epoch, gaps[g].sender, q);
                }
            }
        }
    }
    for (int i = 0; i < N; i++) {
        for (int w = 0; w < N; w++) {
            uint8_t s[16];
            sender_id(s, (uint8_t)w);
            assert_int_equal(sync_vec_hwm(m[i], 1, s), next_seq[w]);
        }
        sync_vec_destroy(m[i]);
    }
    free(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marks_and_gaps),
        cmocka_unit_test(test_have_sorted_and_diff),
        cmocka_unit_test(test_gossip_converges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
