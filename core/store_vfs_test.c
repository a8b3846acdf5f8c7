/*
 * store_vfs_test: the WAL-coalescing VFS changes how many writes reach the log, never what
 * another connection or process reads: every commit (durable or not) is readable at once by
 * a second connection on SQLite's own VFS, spilled and rolled-back transactions leave the
 * database intact, runs past the unix VFS's 128 KiB write limit arrive whole, and a process
 * killed straight after its COMMIT loses nothing. Under synchronous=NORMAL the VFS syncs the
 * log once per durable commit and not for a relaxed one.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/store_impl.h"

struct fixture {
    char dir[64];
    char path[128];
    sqlite3 *w; /* through store_vfs */
    sqlite3 *r; /* SQLite's default VFS */
};

static void
exec_ok(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        fail_msg("%s: %s", sql, err != NULL ? err : "?");
    }
}

static int64_t
int_of(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW) {
        v = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return v;
}

static void
integrity_ok(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;

    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
}

static sqlite3 *
open_writer(const char *path)
{
    sqlite3 *db = NULL;
    const char *vfs = store_vfs_name();

    assert_non_null(vfs);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
                     SQLITE_OK);
    exec_ok(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, k BLOB UNIQUE, v BLOB)");
    return db;
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    snprintf(f->dir, sizeof f->dir, "/tmp/kith-vfs-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    f->w = open_writer(f->path);
    assert_int_equal(sqlite3_open_v2(f->path, &f->r, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[160];

    sqlite3_close(f->r);
    sqlite3_close(f->w);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* n rows of len bytes each, in one transaction; k is random so indexes split anywhere. */
static void
insert_rows(sqlite3 *db, int n, int len)
{
    char sql[200];

    snprintf(sql, sizeof sql,
             "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d) "
             "INSERT INTO t(k, v) SELECT randomblob(16), randomblob(%d) FROM c",
             n, len);
    exec_ok(db, sql);
}

/* Each commit, durable or relaxed, is whole for a reader the moment COMMIT returns, and the
 * log received fewer writes than SQLite made. */
static void
test_commits_visible_at_once(void **state)
{
    struct fixture *f = *state;
    struct store_vfs_stats a, b;

    store_vfs_stats(&a);
    for (int i = 1; i <= 40; i++) {
        exec_ok(f->w, i % 2 == 0 ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL");
        exec_ok(f->w, "BEGIN IMMEDIATE");
        insert_rows(f->w, 5, 300);
        exec_ok(f->w, "UPDATE t SET v = randomblob(200) WHERE id % 7 = 0");
        exec_ok(f->w, "COMMIT");
        assert_int_equal(int_of(f->r, "SELECT count(*) FROM t"), 5 * i);
        assert_int_equal(int_of(f->r, "SELECT count(*) FROM t WHERE length(v) NOT IN (200, 300)"),
                         0);
    }
    integrity_ok(f->r);
    store_vfs_stats(&b);
    /* Two writes per frame in, one write per commit out (plus the log's header). */
    assert_true(b.writes_in - a.writes_in >= 40 * 4);
    assert_true(b.writes_out - a.writes_out <= 45);
}

/* A transaction larger than the page cache spills frames into the log before its COMMIT;
 * rolled back, nothing of it is seen; the next one commits whole. */
static void
test_spill_and_rollback(void **state)
{
    struct fixture *f = *state;

    exec_ok(f->w, "PRAGMA cache_size = 10");
    exec_ok(f->w, "BEGIN IMMEDIATE");
    insert_rows(f->w, 2000, 1000);
    assert_int_equal(int_of(f->w, "SELECT count(*) FROM t"), 2000);
    exec_ok(f->w, "ROLLBACK");
    assert_int_equal(int_of(f->r, "SELECT count(*) FROM t"), 0);
    assert_int_equal(int_of(f->w, "SELECT count(*) FROM t"), 0);
    exec_ok(f->w, "BEGIN IMMEDIATE");
    insert_rows(f->w, 2000, 1000);
    exec_ok(f->w, "COMMIT");
    assert_int_equal(int_of(f->r, "SELECT count(*) FROM t"), 2000);
    integrity_ok(f->r);
    integrity_ok(f->w);
}

/* One commit of ~300 frames (1.2 MiB): past the unix VFS's 128 KiB per write, so the run is
 * written in pieces; every byte arrives (the reader sums what it reads). */
static void
test_large_run(void **state)
{
    struct fixture *f = *state;

    exec_ok(f->w, "BEGIN IMMEDIATE");
    exec_ok(f->w, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300)"
                  " INSERT INTO t(k, v) SELECT randomblob(16), CAST(printf('%03000d', i) AS BLOB)"
                  " FROM c");
    exec_ok(f->w, "COMMIT");
    assert_int_equal(int_of(f->r, "SELECT count(*) FROM t"), 300);
    assert_int_equal(int_of(f->r, "SELECT sum(CAST(CAST(v AS TEXT) AS INTEGER)) FROM t"),
                     300 * 301 / 2);
    integrity_ok(f->r);
    /* Checkpointed into the database and the log restarted, then written again. */
    exec_ok(f->w, "PRAGMA wal_checkpoint(TRUNCATE)");
    exec_ok(f->w, "BEGIN IMMEDIATE");
    insert_rows(f->w, 50, 500);
    exec_ok(f->w, "COMMIT");
    assert_int_equal(int_of(f->r, "SELECT count(*) FROM t"), 350);
    integrity_ok(f->r);
}

/* Without powersafe overwrite SQLite pads each durable commit to a sector with copies of the
 * commit frame, splitting one around a sync, and indexes them: they reach the file before
 * the reader needs them. */
static void
test_padded_commits(void **state)
{
    struct fixture *f = *state;
    char uri[200];

    sqlite3_close(f->w);
    f->w = NULL;
    snprintf(uri, sizeof uri, "file:%s?psow=0", f->path);
    assert_int_equal(sqlite3_open_v2(uri, &f->w, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI,
                                     store_vfs_name()),
                     SQLITE_OK);
    exec_ok(f->w, "PRAGMA synchronous = FULL");
    for (int i = 1; i <= 30; i++) {
        char sql[160];
        exec_ok(f->w, "BEGIN IMMEDIATE");
        insert_rows(f->w, i % 7 + 1, 200 + 97 * i);
        snprintf(sql, sizeof sql, "UPDATE t SET v = zeroblob(%d) WHERE id = %d", 50 + i, i);
        exec_ok(f->w, sql);
        exec_ok(f->w, "COMMIT");
        assert_int_equal(int_of(f->r, "SELECT count(*) FROM t WHERE length(v) > 0"),
                         int_of(f->w, "SELECT count(*) FROM t"));
        assert_int_equal(int_of(f->r, "SELECT sum(length(v)) FROM t"),
                         int_of(f->w, "SELECT sum(length(v)) FROM t"));
    }
    integrity_ok(f->r);
}

/* A process killed with SIGKILL right after its durable COMMIT returned loses none of it. */
static void
test_killed_after_commit(void **state)
{
    struct fixture *f = *state;
    pid_t kid;
    int status = 0;

    sqlite3_close(f->w);
    f->w = NULL;
    kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        sqlite3 *db = open_writer(f->path);
        for (int i = 0; i < 20; i++) {
            exec_ok(db, "BEGIN IMMEDIATE");
            insert_rows(db, 10, 700);
            exec_ok(db, "COMMIT");
        }
        raise(SIGKILL);
        _exit(1);
    }
    assert_int_equal(waitpid(kid, &status, 0), kid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(int_of(f->r, "SELECT count(*) FROM t"), 200);
    integrity_ok(f->r);
    f->w = open_writer(f->path); /* recovers the log the killed process left */
    assert_int_equal(int_of(f->w, "SELECT count(*) FROM t"), 200);
    integrity_ok(f->w);
}

static size_t
syncs(void)
{
    struct store_vfs_stats st;
    store_vfs_stats(&st);
    return st.syncs;
}

/* With synchronous=NORMAL (as kith runs), the log is synced by the VFS once per durable
 * commit, also one past the run limit; a relaxed commit is written but not synced until
 * store_vfs_wal_sync; a log opens durable again after a relaxed transaction is over only when
 * told (the store does at COMMIT). */
static void
test_durable_and_relaxed_commits(void **state)
{
    struct fixture *f = *state;
    size_t before;

    exec_ok(f->w, "PRAGMA synchronous = NORMAL");
    insert_rows(f->w, 1, 10); /* the log is open now */
    before = syncs();
    insert_rows(f->w, 3, 100);
    assert_int_equal(syncs(), before + 1);
    assert_int_equal(int_of(f->r, "SELECT count(*) FROM t"), 4);

    assert_int_equal(store_vfs_wal_durable(f->w, false), SQLITE_OK);
    before = syncs();
    insert_rows(f->w, 3, 100);
    insert_rows(f->w, 2, 100);
    assert_int_equal(syncs(), before); /* written, readable, not synced */
    assert_int_equal(int_of(f->r, "SELECT count(*) FROM t"), 9);
    assert_int_equal(store_vfs_wal_sync(f->w), SQLITE_OK);
    assert_int_equal(syncs(), before + 1);

    assert_int_equal(store_vfs_wal_durable(f->w, true), SQLITE_OK);
    before = syncs();
    insert_rows(f->w, 1500, 4000); /* past STORE_VFS_RUN_MAX: the commit frame goes alone */
    assert_true(syncs() >= before + 1);
    assert_int_equal(int_of(f->r, "SELECT count(*) FROM t"), 1509);
    integrity_ok(f->r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commits_visible_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spill_and_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_padded_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_after_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_and_relaxed_commits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
