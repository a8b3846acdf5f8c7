/*
 * store_retention tests on a real file in a mkdtemp directory (STORE_KDF_MIN):
 * the sealed agreement state and the clear seconds round-trip across a reopen,
 * the endpoint seq is kept apart from it, messages are deleted when due but
 * never while they wait in the outbox, and after a checkpoint a deleted row
 * leaves neither the database nor its -wal file.
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
    snprintf(f->dir, sizeof f->dir, "/tmp/kith-sret-XXXXXX");
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
reopen(struct fx *f)
{
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_OK);
}

static void
add_msg(struct fx *f, int64_t contact, uint8_t tag, bool outgoing, int64_t delete_at)
{
    struct store_msg m;
    char text[] = "see you at the lighthouse";

    memset(&m, 0, sizeof m);
    memset(m.msg_id, tag, sizeof m.msg_id);
    m.contact_id = contact;
    m.outgoing = outgoing;
    m.lamport = tag;
    m.sender_seq = tag;
    m.ts_ms = 1700000000000;
    m.state = outgoing ? STORE_MSG_SENT : STORE_MSG_RECEIVED;
    m.text = text;
    m.text_len = strlen(text);
    if (outgoing) { /* ours: its frame waits in the row for an acknowledgement */
        static const uint8_t frame[64] = { 0 };
        struct store_msg_frame mf = { frame, sizeof frame, 1, 0, NULL };
        assert_int_equal(store_msg_add_queued(f->st, &m, &mf), KITH_OK);
    } else {
        assert_int_equal(store_msg_add(f->st, &m), KITH_OK);
    }
    if (delete_at > 0) {
        assert_int_equal(store_msg_set_delete_at(f->st, m.msg_id, delete_at), KITH_OK);
    }
}

static bool
has_msg(struct fx *f, uint8_t tag)
{
    struct store_msg m;
    uint8_t id[16];
    int rc;

    memset(id, tag, sizeof id);
    rc = store_msg_get(f->st, id, &m);
    if (rc == KITH_OK) {
        store_msg_free(&m);
    }
    return rc == KITH_OK;
}

/* Does the file at path (missing: no) contain needle? */
static bool
file_contains(const char *path, const uint8_t *needle, size_t len)
{
    FILE *file = fopen(path, "rb");
    uint8_t *all;
    long size;
    bool found;

    if (file == NULL) {
        return false;
    }
    assert_int_equal(fseek(file, 0, SEEK_END), 0);
    size = ftell(file);
    assert_int_equal(fseek(file, 0, SEEK_SET), 0);
    all = malloc((size_t)size + 1);
    assert_non_null(all);
    assert_int_equal(fread(all, 1, (size_t)size, file), (size_t)size);
    fclose(file);
    found = memmem(all, (size_t)size, needle, len) != NULL;
    free(all);
    return found;
}

static void
retention__round_trips_sealed_and_apart_per_contact(void **state)
{
    struct fx *f = *state;
    static const uint8_t agreement[] = "proposal 0xabad1dea: one day";
    uint8_t buf[STORE_RETENTION_MAX];
    uint32_t seconds = 1;
    size_t len = 1;

    assert_int_equal(store_retention_get(f->st, f->alex, buf, sizeof buf, &len), KITH_ENOTFOUND);
    assert_int_equal(len, 0);
    assert_int_equal(store_retention_seconds(f->st, f->alex, &seconds), KITH_OK);
    assert_int_equal(seconds, 0);
    assert_int_equal(store_retention_put(f->st, f->alex, 86400, agreement, sizeof agreement),
                     KITH_OK);
    reopen(f);
    assert_int_equal(store_retention_get(f->st, f->alex, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(len, sizeof agreement);
    assert_memory_equal(buf, agreement, len);
    assert_int_equal(store_retention_seconds(f->st, f->alex, &seconds), KITH_OK);
    assert_int_equal(seconds, 86400);
    assert_int_equal(store_retention_get(f->st, f->alex, buf, 3, &len), KITH_ETOOBIG);
    assert_int_equal(store_retention_seconds(f->st, f->sam, &seconds), KITH_OK);
    assert_int_equal(seconds, 0);
    assert_int_equal(store_retention_get(f->st, f->sam, buf, sizeof buf, &len), KITH_ENOTFOUND);
    /* a contact that does not exist */
    assert_int_equal(store_retention_put(f->st, 999, 60, agreement, sizeof agreement),
                     KITH_ENOTFOUND);
    assert_int_equal(store_retention_put(f->st, f->alex, 60, agreement, 0), KITH_EINVAL);
    /* sealed: the state is not readable in the file */
    store_close(f->st);
    f->st = NULL;
    assert_false(file_contains(f->db, agreement, 10));
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_OK);
}

static void
endpoint_seq__is_kept_apart_from_the_retention(void **state)
{
    struct fx *f = *state;
    static const uint8_t agreement[] = "x";
    uint8_t buf[16];
    uint64_t seq = 5;
    uint32_t seconds = 0;
    size_t len = 0;

    assert_int_equal(store_endpoint_seq_get(f->st, f->sam, &seq), KITH_OK);
    assert_true(seq == 0);
    assert_int_equal(store_endpoint_seq_set(f->st, f->sam, UINT64_MAX - 1), KITH_OK);
    assert_int_equal(store_retention_put(f->st, f->sam, 30, agreement, 1), KITH_OK);
    assert_int_equal(store_endpoint_seq_set(f->st, f->sam, 1700000000123ull), KITH_OK);
    reopen(f);
    assert_int_equal(store_endpoint_seq_get(f->st, f->sam, &seq), KITH_OK);
    assert_true(seq == 1700000000123ull);
    assert_int_equal(store_retention_seconds(f->st, f->sam, &seconds), KITH_OK);
    assert_int_equal(seconds, 30);
    assert_int_equal(store_retention_get(f->st, f->sam, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(len, 1);
    assert_int_equal(store_endpoint_seq_get(f->st, f->alex, &seq), KITH_OK);
    assert_true(seq == 0);
    assert_int_equal(store_endpoint_seq_set(f->st, f->sam, UINT64_MAX), KITH_OK);
    assert_int_equal(store_endpoint_seq_get(f->st, f->sam, &seq), KITH_OK);
    assert_true(seq == UINT64_MAX); /* the full 64 bits survive the signed column */
}

static void
delete_due__deletes_when_due__but_never_from_the_outbox(void **state)
{
    struct fx *f = *state;
    uint8_t id[16];
    int64_t at = 0;
    size_t deleted = 9;

    assert_int_equal(store_msg_next_delete(f->st, &at), KITH_ENOTFOUND);
    add_msg(f, f->alex, 0x11, false, 1000);
    add_msg(f, f->alex, 0x12, true, 900); /* still waiting for its acknowledgement */
    add_msg(f, f->sam, 0x13, false, 2000);
    add_msg(f, f->sam, 0x14, false, 0); /* kept */
    memset(id, 0x12, sizeof id);
    assert_int_equal(store_msg_delete_at(f->st, id, &at), KITH_OK);
    assert_int_equal(at, 900);
    memset(id, 0x14, sizeof id);
    assert_int_equal(store_msg_delete_at(f->st, id, &at), KITH_OK);
    assert_int_equal(at, 0);
    memset(id, 0x55, sizeof id);
    assert_int_equal(store_msg_delete_at(f->st, id, &at), KITH_ENOTFOUND);
    assert_int_equal(store_msg_set_delete_at(f->st, id, 5), KITH_ENOTFOUND);

    assert_int_equal(store_msg_next_delete(f->st, &at), KITH_OK);
    assert_int_equal(at, 1000); /* 900 waits in the outbox */
    assert_int_equal(store_msg_delete_due(f->st, 999, &deleted), KITH_OK);
    assert_int_equal(deleted, 0);
    assert_int_equal(store_msg_delete_due(f->st, 1500, &deleted), KITH_OK);
    assert_int_equal(deleted, 1);
    assert_false(has_msg(f, 0x11));
    assert_true(has_msg(f, 0x12));
    assert_true(has_msg(f, 0x13));
    /* delivered: it leaves the outbox, then goes at the next pass */
    memset(id, 0x12, sizeof id);
    assert_int_equal(store_msg_acknowledged(f->st, id, 1, 0), KITH_OK);
    assert_int_equal(store_msg_next_delete(f->st, &at), KITH_OK);
    assert_int_equal(at, 900);
    assert_int_equal(store_msg_delete_due(f->st, 1500, &deleted), KITH_OK);
    assert_int_equal(deleted, 1);
    assert_false(has_msg(f, 0x12));
    assert_int_equal(store_msg_delete_due(f->st, 1 << 30, &deleted), KITH_OK);
    assert_int_equal(deleted, 1);
    assert_false(has_msg(f, 0x13));
    assert_true(has_msg(f, 0x14));
    assert_int_equal(store_msg_next_delete(f->st, &at), KITH_ENOTFOUND);
}

static void
checkpoint__leaves_no_trace_of_a_deleted_row_in_the_files(void **state)
{
    struct fx *f = *state;
    char wal[160];
    uint8_t id[16];
    size_t deleted = 0;

    snprintf(wal, sizeof wal, "%s-wal", f->db);
    add_msg(f, f->alex, 0x5a, false, 1000);
    memset(id, 0x5a, sizeof id);
    /* the clear msg_id is on disk (the db or its WAL) while the row lives */
    assert_true(file_contains(f->db, id, sizeof id) || file_contains(wal, id, sizeof id));
    assert_int_equal(store_begin(f->st), KITH_OK);
    assert_int_equal(store_msg_delete_due(f->st, 2000, &deleted), KITH_OK);
    assert_int_equal(deleted, 1);
    assert_int_equal(store_checkpoint(f->st), KITH_ESTATE); /* not inside a transaction */
    assert_int_equal(store_commit(f->st), KITH_OK);
    assert_int_equal(store_checkpoint(f->st), KITH_OK);
    assert_false(file_contains(f->db, id, sizeof id));
    assert_false(file_contains(wal, id, sizeof id));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(retention__round_trips_sealed_and_apart_per_contact,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(endpoint_seq__is_kept_apart_from_the_retention, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(delete_due__deletes_when_due__but_never_from_the_outbox,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(checkpoint__leaves_no_trace_of_a_deleted_row_in_the_files,
                                        fx_setup, fx_teardown),
    };

    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
