/*
 * store_backup_test: backups are sealed snapshots that open with the passphrase of their time,
 * restores keep nothing unless the passphrase opens them, wipes leave no file behind.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/store.h"

#define PASS     "correct horse battery staple"
#define PASS_LEN (sizeof PASS - 1)

struct fixture {
    char dir[64];
    char db[128];
    char bak[128];
    char out[128];
    struct store *st;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct identity *id = identity_generate(1700000000u);

    snprintf(f->dir, sizeof f->dir, "/tmp/kith-backup-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/kith.db", f->dir);
    snprintf(f->bak, sizeof f->bak, "%s/backup.kith", f->dir);
    snprintf(f->out, sizeof f->out, "%s/restored.db", f->dir);
    assert_int_equal(store_create(f->db, PASS, PASS_LEN, &STORE_KDF_MIN, &f->st), KITH_OK);
    assert_int_equal(store_identity_save(f->st, id, "ana"), KITH_OK);
    assert_int_equal(store_setting_set(f->st, "crisis_line", "call Jo"), KITH_OK);
    identity_destroy(id);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    store_close(f->st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static size_t
files_in(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        n += de->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

static void
assert_setting(struct store *st, const char *key, const char *want)
{
    char *value = NULL;

    assert_int_equal(store_setting_get(st, key, &value), KITH_OK);
    assert_string_equal(value, want);
    free(value);
}

static void
backup__writes__an_owner_only_file_that_opens_with_the_passphrase(void **state)
{
    struct fixture *f = *state;
    struct store *copy = NULL;
    struct stat sb;

    assert_int_equal(store_backup(f->st, f->bak), KITH_OK);
    assert_int_equal(stat(f->bak, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(store_open(f->bak, PASS, PASS_LEN, &copy), KITH_OK);
    assert_setting(copy, "crisis_line", "call Jo");
    store_close(copy);
}

static void
backup__keeps__values_sealed(void **state)
{
    struct fixture *f = *state;
    FILE *fp;
    char *buf = calloc(1, 1 << 20);
    size_t n;

    assert_int_equal(store_backup(f->st, f->bak), KITH_OK);
    fp = fopen(f->bak, "rb");
    assert_non_null(fp);
    n = fread(buf, 1, (1 << 20) - 1, fp);
    fclose(fp);
    assert_true(n > 0);
    assert_null(memmem(buf, n, "call Jo", 7));
    assert_null(memmem(buf, n, "ana", 3));
    free(buf);
}

static void
backup__is__a_snapshot_of_that_moment(void **state)
{
    struct fixture *f = *state;
    struct store *copy = NULL;
    char *value = NULL;

    assert_int_equal(store_backup(f->st, f->bak), KITH_OK);
    assert_int_equal(store_setting_set(f->st, "my_people", "Sam"), KITH_OK);
    assert_int_equal(store_open(f->bak, PASS, PASS_LEN, &copy), KITH_OK);
    assert_int_equal(store_setting_get(copy, "my_people", &value), KITH_ENOTFOUND);
    store_close(copy);
}

static void
backup__refuses__to_overwrite_a_file(void **state)
{
    struct fixture *f = *state;
    FILE *fp = fopen(f->bak, "w");
    char line[32] = "";

    assert_non_null(fp);
    fputs("keep me\n", fp);
    fclose(fp);
    assert_int_equal(store_backup(f->st, f->bak), KITH_EEXISTS);
    fp = fopen(f->bak, "r");
    assert_non_null(fgets(line, sizeof line, fp));
    fclose(fp);
    assert_string_equal(line, "keep me\n");
}

static void
backup__refuses__inside_a_transaction(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(store_begin(f->st), KITH_OK);
    assert_int_equal(store_backup(f->st, f->bak), KITH_ESTATE);
    store_rollback(f->st);
    assert_int_equal(access(f->bak, F_OK), -1);
}

static void
backup__fails__cleanly_in_a_missing_directory(void **state)
{
    struct fixture *f = *state;
    char path[160];

    snprintf(path, sizeof path, "%s/no/such/dir/b.kith", f->dir);
    assert_int_equal(store_backup(f->st, path), KITH_ESYS);
}

static void
restore__brings_back__what_the_backup_held(void **state)
{
    struct fixture *f = *state;
    struct store *copy = NULL;
    struct identity *id = NULL;
    char name[KITH_STORE_NAME_BUF];
    struct stat sb;

    assert_int_equal(store_backup(f->st, f->bak), KITH_OK);
    assert_int_equal(store_restore(f->bak, f->out, PASS, PASS_LEN), KITH_OK);
    assert_int_equal(stat(f->out, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(store_open(f->out, PASS, PASS_LEN, &copy), KITH_OK);
    assert_int_equal(store_identity_load(copy, &id, name), KITH_OK);
    assert_string_equal(name, "ana");
    assert_setting(copy, "crisis_line", "call Jo");
    identity_destroy(id);
    store_close(copy);
}

static void
restore__rejects__a_wrong_passphrase_and_leaves_nothing(void **state)
{
    struct fixture *f = *state;
    size_t before;

    assert_int_equal(store_backup(f->st, f->bak), KITH_OK);
    before = files_in(f->dir);
    assert_int_equal(store_restore(f->bak, f->out, "wrong", 5), KITH_EPASSPHRASE);
    assert_int_equal(access(f->out, F_OK), -1);
    assert_int_equal(files_in(f->dir), before);
}

static void
restore__rejects__a_file_that_is_not_a_backup(void **state)
{
    struct fixture *f = *state;
    FILE *fp = fopen(f->bak, "w");

    assert_non_null(fp);
    for (int i = 0; i < 64; i++) {
        fputs("not a kith backup, just text\n", fp);
    }
    fclose(fp);
    assert_int_equal(store_restore(f->bak, f->out, PASS, PASS_LEN), KITH_ENOTKITH);
    assert_int_equal(access(f->out, F_OK), -1);
}

static void
restore__reports__a_missing_backup(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(store_restore(f->bak, f->out, PASS, PASS_LEN), KITH_ENOTFOUND);
    assert_int_equal(access(f->out, F_OK), -1);
}

static void
restore__refuses__to_overwrite_a_file(void **state)
{
    struct fixture *f = *state;
    FILE *fp;

    assert_int_equal(store_backup(f->st, f->bak), KITH_OK);
    fp = fopen(f->out, "w");
    fputs("x", fp);
    fclose(fp);
    assert_int_equal(store_restore(f->bak, f->out, PASS, PASS_LEN), KITH_EEXISTS);
    assert_int_equal(access(f->out, F_OK), 0);
}

static void
rekey__changes__which_passphrase_opens_later_backups(void **state)
{
    struct fixture *f = *state;
    struct store *copy = NULL;

    assert_int_equal(store_begin(f->st), KITH_OK);
    assert_int_equal(store_rekey(f->st, "new one", 7, &STORE_KDF_MIN), KITH_OK);
    assert_int_equal(store_commit(f->st), KITH_OK);
    assert_int_equal(store_backup(f->st, f->bak), KITH_OK);
    assert_int_equal(store_open(f->bak, PASS, PASS_LEN, &copy), KITH_EPASSPHRASE);
    assert_int_equal(store_open(f->bak, "new one", 7, &copy), KITH_OK);
    assert_setting(copy, "crisis_line", "call Jo");
    store_close(copy);
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open(f->db, PASS, PASS_LEN, &copy), KITH_EPASSPHRASE);
    assert_int_equal(store_open(f->db, "new one", 7, &f->st), KITH_OK);
}

static void
wipe__removes__the_database_and_its_side_files(void **state)
{
    struct fixture *f = *state;
    char aux[160];
    FILE *fp;

    store_close(f->st);
    f->st = NULL;
    snprintf(aux, sizeof aux, "%s-wal", f->db);
    fp = fopen(aux, "w"); /* a leftover WAL of a crashed run */
    fputs("frames", fp);
    fclose(fp);
    assert_int_equal(store_wipe(f->db), KITH_OK);
    assert_int_equal(files_in(f->dir), 0);
    assert_int_equal(store_wipe(f->db), KITH_OK); /* nothing left is fine */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            backup__writes__an_owner_only_file_that_opens_with_the_passphrase, setup, teardown),
        cmocka_unit_test_setup_teardown(backup__keeps__values_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(backup__is__a_snapshot_of_that_moment, setup, teardown),
        cmocka_unit_test_setup_teardown(backup__refuses__to_overwrite_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(backup__refuses__inside_a_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(backup__fails__cleanly_in_a_missing_directory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(restore__brings_back__what_the_backup_held, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(restore__rejects__a_wrong_passphrase_and_leaves_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(restore__rejects__a_file_that_is_not_a_backup, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(restore__reports__a_missing_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(restore__refuses__to_overwrite_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(rekey__changes__which_passphrase_opens_later_backups, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(wipe__removes__the_database_and_its_side_files, setup,
                                        teardown),
    };

    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
