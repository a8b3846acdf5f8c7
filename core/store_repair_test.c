/*
 * store_repair tests: the sealed repair replicas on a real file in a mkdtemp
 * directory (STORE_KDF_MIN): round trip after reopening, one row per repair
 * id bound to its contact, open before closed, due timers, keep-only-the-
 * agreement and delete, and nothing readable on disk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/store.h"

#define PASS "correct horse battery staple"

struct fx {
    char dir[64];
    char db[128];
    struct store *st;
    int64_t alex, sam;
};

static const uint8_t id_a[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
static const uint8_t id_b[16] = { 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 };
static const char secret_words[] = "You left the party without telling me";

static int64_t
add_contact(struct store *st, const char *name, uint8_t tag)
{
    struct store_contact c;

    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    memset(c.pub.ik, tag, sizeof c.pub.ik);
    memset(c.member_id, tag, sizeof c.member_id);
    c.state = STORE_CONTACT_ACTIVE;
    assert_int_equal(store_contact_add(st, &c), KITH_OK);
    return c.id;
}

static int
fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);

    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/kith-srep-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/profile.db", f->dir);
    assert_int_equal(store_create(f->db, PASS, strlen(PASS), &STORE_KDF_MIN, &f->st), KITH_OK);
    f->alex = add_contact(f->st, "Alex", 7);
    f->sam = add_contact(f->st, "Sam", 9);
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;
    char path[160];
    const char *const leaves[] = { "profile.db", "profile.db-wal", "profile.db-shm" };

    store_close(f->st);
    for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, leaves[i]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
put(struct fx *f, int64_t contact, const uint8_t id[16], bool is_open, int64_t deadline,
    const char *state)
{
    assert_int_equal(store_repair_put(f->st, contact, id, is_open, deadline, (const uint8_t *)state,
                                      strlen(state)),
                     KITH_OK);
}

static void
replica__round_trips_sealed__across_reopen(void **state)
{
    struct fx *f = *state;
    struct store_repair r;
    FILE *file;
    char *all;
    long size;

    put(f, f->alex, id_a, true, 1700000600, secret_words);
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_OK);
    assert_int_equal(store_repair_latest(f->st, f->alex, true, &r), KITH_OK);
    assert_memory_equal(r.repair_id, id_a, 16);
    assert_true(r.is_open);
    assert_int_equal(r.deadline, 1700000600);
    assert_int_equal(r.state_len, strlen(secret_words));
    assert_memory_equal(r.state, secret_words, r.state_len);
    assert_null(r.agreement);
    store_repair_clear(&r);
    assert_null(r.state);
    /* Nothing of the replica is readable in the file. */
    store_close(f->st);
    f->st = NULL;
    file = fopen(f->db, "rb");
    assert_non_null(file);
    fseek(file, 0, SEEK_END);
    size = ftell(file);
    fseek(file, 0, SEEK_SET);
    all = malloc((size_t)size);
    assert_int_equal(fread(all, 1, (size_t)size, file), (size_t)size);
    fclose(file);
    assert_null(memmem(all, (size_t)size, "party", 5));
    free(all);
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_OK);
}

static void
replica__belongs_to_one_contact__and_open_comes_first(void **state)
{
    struct fx *f = *state;
    struct store_repair r;

    put(f, f->alex, id_a, false, 0, "closed one");
    put(f, f->alex, id_b, true, 0, "open one");
    /* The same repair id can't move to another contact. */
    assert_int_equal(store_repair_put(f->st, f->sam, id_a, true, 0, (const uint8_t *)"x", 1),
                     KITH_ENOTFOUND);
    assert_int_equal(store_repair_get(f->st, f->sam, id_a, &r), KITH_ENOTFOUND);
    assert_int_equal(store_repair_latest(f->st, f->sam, false, &r), KITH_ENOTFOUND);
    assert_int_equal(store_repair_latest(f->st, f->alex, false, &r), KITH_OK);
    assert_memory_equal(r.repair_id, id_b, 16);
    store_repair_clear(&r);
    put(f, f->alex, id_b, false, 0, "now closed too");
    assert_int_equal(store_repair_latest(f->st, f->alex, true, &r), KITH_ENOTFOUND);
    assert_int_equal(store_repair_get(f->st, f->alex, id_b, &r), KITH_OK);
    assert_false(r.is_open);
    assert_memory_equal(r.state, "now closed too", r.state_len);
    store_repair_clear(&r);
    assert_int_equal(store_repair_put(f->st, f->alex, id_a, true, 0, NULL, 0), KITH_EINVAL);
}

static void
timers__due_only_when_open_and_past(void **state)
{
    struct fx *f = *state;
    struct store_repair_ref due[STORE_REPAIR_DUE_MAX];
    int64_t at = 0;
    size_t n = 9;

    assert_int_equal(store_repair_next_deadline(f->st, &at), KITH_ENOTFOUND);
    put(f, f->alex, id_a, true, 2000, "a");
    put(f, f->sam, id_b, true, 1000, "b");
    assert_int_equal(store_repair_next_deadline(f->st, &at), KITH_OK);
    assert_int_equal(at, 1000);
    assert_int_equal(store_repair_due(f->st, 999, due, &n), KITH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_repair_due(f->st, 2000, due, &n), KITH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(due[0].contact_id, f->sam);
    assert_memory_equal(due[0].repair_id, id_b, 16);
    put(f, f->sam, id_b, false, 1000, "b closed"); /* closed replicas have no timers */
    assert_int_equal(store_repair_due(f->st, 5000, due, &n), KITH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(due[0].contact_id, f->alex);
}

static void
keep__agreement_only_or_delete__after_close(void **state)
{
    struct fx *f = *state;
    struct store_repair r;

    put(f, f->alex, id_a, true, 0, "open");
    assert_int_equal(store_repair_keep_agreement(f->st, f->alex, id_a, "Text first."),
                     KITH_ENOTFOUND); /* still open */
    put(f, f->alex, id_a, false, 0, secret_words);
    assert_int_equal(store_repair_keep_agreement(f->st, f->alex, id_a, ""), KITH_EINVAL);
    assert_int_equal(store_repair_keep_agreement(f->st, f->alex, id_a, "Text first."), KITH_OK);
    assert_int_equal(store_repair_get(f->st, f->alex, id_a, &r), KITH_OK);
    assert_null(r.state);
    assert_string_equal(r.agreement, "Text first.");
    store_repair_clear(&r);
    assert_int_equal(store_repair_delete(f->st, f->sam, id_a), KITH_ENOTFOUND);
    assert_int_equal(store_repair_delete(f->st, f->alex, id_a), KITH_OK);
    assert_int_equal(store_repair_get(f->st, f->alex, id_a, &r), KITH_ENOTFOUND);
    assert_int_equal(store_repair_delete(f->st, f->alex, id_a), KITH_ENOTFOUND);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(replica__round_trips_sealed__across_reopen, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(replica__belongs_to_one_contact__and_open_comes_first,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(timers__due_only_when_open_and_past, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(keep__agreement_only_or_delete__after_close, fx_setup,
                                        fx_teardown),
    };

    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
