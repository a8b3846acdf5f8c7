/*
 * store tests: create/open/refusal rules on real files in a mkdtemp
 * directory, every row type's round trip, paging, the outbox, AD binding
 * (blobs swapped with raw SQL through a second connection), damaged rows,
 * the at-rest canary and rekeying. All profiles use STORE_KDF_MIN.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "core/store.h"

#define PASS "correct horse battery staple"
#define NOW  1700000000u

struct fx {
    char dir[64];
    char db[128];
    struct store *st;
};

static int
fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);

    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/kith-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/profile.db", f->dir);
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;
    DIR *d;
    struct dirent *de;

    store_close(f->st);
    d = opendir(f->dir);
    if (d != NULL) {
        while ((de = readdir(d)) != NULL) {
            char path[512];
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
                continue;
            }
            snprintf(path, sizeof path, "%s/%s", f->dir, de->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct store *
fx_create(struct fx *f)
{
    assert_int_equal(store_create(f->db, PASS, strlen(PASS), &STORE_KDF_MIN, &f->st), KITH_OK);
    assert_non_null(f->st);
    return f->st;
}

static void
fx_reopen(struct fx *f)
{
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_OK);
    assert_non_null(f->st);
}

/* Raw SQL on the profile through a second connection (the attacker with the files). */
static void
raw_exec_flags(const char *path, const char *sql, int flags)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(path, &db, flags, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void
raw_exec(const char *path, const char *sql)
{
    raw_exec_flags(path, sql, SQLITE_OPEN_READWRITE);
}

/* The same on the fixture's profile. An open store holds its database exclusively
 * (locking_mode EXCLUSIVE), so it is closed around the change and opened again. */
static void
fx_raw(struct fx *f, const char *sql)
{
    bool was_open = f->st != NULL;

    store_close(f->st);
    f->st = NULL;
    raw_exec(f->db, sql);
    if (was_open) {
        assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_OK);
    }
}

/* A database made by someone else. */
static void
raw_create(const char *path, const char *sql)
{
    raw_exec_flags(path, sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
}

/* SHA-256 of a file; all zero and *exists false when there is no such file. */
static void
file_hash(const char *path, uint8_t out[32], bool *exists)
{
    FILE *fp = fopen(path, "rb");
    crypto_hash_sha256_state h;
    uint8_t buf[4096];
    size_t got;

    memset(out, 0, 32);
    *exists = fp != NULL;
    if (fp == NULL) {
        return;
    }
    crypto_hash_sha256_init(&h);
    while ((got = fread(buf, 1, sizeof buf, fp)) > 0) {
        crypto_hash_sha256_update(&h, buf, got);
    }
    fclose(fp);
    crypto_hash_sha256_final(&h, out);
}

struct snapshot {
    uint8_t db[32], wal[32];
    bool has_db, has_wal;
};

static void
snapshot_take(const struct fx *f, struct snapshot *s)
{
    char wal[160];

    snprintf(wal, sizeof wal, "%s-wal", f->db);
    file_hash(f->db, s->db, &s->has_db);
    file_hash(wal, s->wal, &s->has_wal);
}

static void
snapshot_assert_same(const struct fx *f, const struct snapshot *before)
{
    struct snapshot after;

    snapshot_take(f, &after);
    assert_int_equal(after.has_db, before->has_db);
    assert_memory_equal(after.db, before->db, 32);
    if (before->has_wal) {
        assert_true(after.has_wal);
        assert_memory_equal(after.wal, before->wal, 32);
    }
}

static void
write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

static struct store_contact
make_contact(const char *name, uint8_t tag)
{
    struct store_contact c;

    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    memset(c.pub.ik, tag, 32);
    memset(c.pub.ikdh, tag ^ 0x11, 32);
    memset(c.pub.ikdh_sig, tag ^ 0x22, 64);
    memset(c.pub.tk, tag ^ 0x33, 32);
    c.pub.tk_not_after = NOW + tag;
    memset(c.pub.tk_sig, tag ^ 0x44, 64);
    memset(c.member_id, tag, IDENTITY_MEMBER_ID);
    c.n_endpoints = 2;
    snprintf(c.endpoints[0], sizeof c.endpoints[0], "tcp://192.0.2.%u:7777", tag);
    snprintf(c.endpoints[1], sizeof c.endpoints[1], "tcp://[2001:db8::%u]:7777", tag);
    c.state = STORE_CONTACT_ACTIVE;
    c.trust = 2;
    c.created_at = NOW;
    return c;
}

static void
assert_contact_equal(const struct store_contact *a, const struct store_contact *b)
{
    assert_int_equal(a->id, b->id);
    assert_string_equal(a->name, b->name);
    assert_memory_equal(a->pub.ik, b->pub.ik, 32);
    assert_memory_equal(a->pub.ikdh, b->pub.ikdh, 32);
    assert_memory_equal(a->pub.ikdh_sig, b->pub.ikdh_sig, 64);
    assert_memory_equal(a->pub.tk, b->pub.tk, 32);
    assert_int_equal(a->pub.tk_not_after, b->pub.tk_not_after);
    assert_memory_equal(a->pub.tk_sig, b->pub.tk_sig, 64);
    assert_memory_equal(a->member_id, b->member_id, IDENTITY_MEMBER_ID);
    assert_int_equal(a->n_endpoints, b->n_endpoints);
    for (uint8_t i = 0; i < a->n_endpoints; i++) {
        assert_string_equal(a->endpoints[i], b->endpoints[i]);
    }
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->verified, b->verified);
    assert_int_equal(a->trust, b->trust);
    assert_int_equal(a->created_at, b->created_at);
}

static int64_t
add_contact(struct store *st, const char *name, uint8_t tag)
{
    struct store_contact c = make_contact(name, tag);

    assert_int_equal(store_contact_add(st, &c), KITH_OK);
    assert_true(c.id > 0);
    return c.id;
}

static void
add_msg(struct store *st, int64_t contact_id, uint8_t id_tag, uint32_t id_n, uint64_t lamport,
        bool outgoing, int state, const char *text)
{
    struct store_msg m;

    memset(&m, 0, sizeof m);
    m.msg_id[0] = id_tag;
    m.msg_id[12] = (uint8_t)(id_n >> 24);
    m.msg_id[13] = (uint8_t)(id_n >> 16);
    m.msg_id[14] = (uint8_t)(id_n >> 8);
    m.msg_id[15] = (uint8_t)id_n;
    m.contact_id = contact_id;
    m.outgoing = outgoing;
    m.lamport = lamport;
    m.sender_seq = id_n;
    m.ts_ms = (int64_t)NOW * 1000 + id_n;
    m.state = state;
    m.flags = 0x0102;
    m.text = (char *)text;
    m.text_len = strlen(text);
    assert_int_equal(store_msg_add(st, &m), KITH_OK);
}

/* ---- create / open / refusals ---- */

static void
create__round_trips__identity_and_name_through_reopen(void **state)
{
    struct fx *f = *state;
    struct identity *id = identity_generate(NOW);
    struct identity *back = NULL;
    char name[KITH_STORE_NAME_BUF];
    char wal[160];
    struct stat sb;

    fx_create(f);
    assert_int_equal(store_identity_load(f->st, &back, name), KITH_ENOTFOUND);
    assert_null(back);
    assert_int_equal(store_identity_save(f->st, id, "Ada Lovelace"), KITH_OK);
    fx_reopen(f);
    assert_int_equal(store_identity_load(f->st, &back, name), KITH_OK);
    assert_non_null(back);
    assert_string_equal(name, "Ada Lovelace");
    assert_memory_equal(identity_public(back), identity_public(id), sizeof(struct identity_public));
    assert_memory_equal(identity_ik_sk(back), identity_ik_sk(id), 64);
    assert_int_equal(stat(f->db, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    assert_int_equal(stat(wal, &sb), 0); /* open, so the WAL exists */
    assert_int_equal(sb.st_mode & 0777, 0600);
    identity_destroy(back);
    identity_destroy(id);
}

static void
create__refuses__a_file_with_data(void **state)
{
    struct fx *f = *state;
    struct snapshot before;

    write_file(f->db, "hello", 5);
    snapshot_take(f, &before);
    assert_int_equal(store_create(f->db, PASS, strlen(PASS), &STORE_KDF_MIN, &f->st), KITH_EEXISTS);
    assert_null(f->st);
    snapshot_assert_same(f, &before);
}

static void
create__accepts__an_empty_existing_file(void **state)
{
    struct fx *f = *state;

    write_file(f->db, "", 0);
    fx_create(f);
    fx_reopen(f);
}

static void
create__refuses__an_existing_profile(void **state)
{
    struct fx *f = *state;
    struct store *other = NULL;

    fx_create(f);
    assert_int_equal(store_create(f->db, PASS, strlen(PASS), &STORE_KDF_MIN, &other), KITH_EEXISTS);
    assert_null(other);
}

static void
open__reports__a_missing_file(void **state)
{
    struct fx *f = *state;

    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_ENOTFOUND);
    assert_null(f->st);
    assert_int_equal(access(f->db, F_OK), -1);
}

static void
open__rejects__a_wrong_passphrase_leaving_files_identical(void **state)
{
    struct fx *f = *state;
    struct snapshot before;
    char aux[160];

    fx_create(f);
    assert_int_equal(store_setting_set(f->st, "listen", "tcp://127.0.0.1:9"), KITH_OK);
    store_close(f->st);
    f->st = NULL;
    snapshot_take(f, &before);
    assert_false(before.has_wal);
    assert_int_equal(store_open(f->db, "wrong", 5, &f->st), KITH_EPASSPHRASE);
    assert_null(f->st);
    snapshot_assert_same(f, &before);
    snprintf(aux, sizeof aux, "%s-wal", f->db);
    assert_int_equal(access(aux, F_OK), -1); /* no WAL or shm left behind either */
    snprintf(aux, sizeof aux, "%s-shm", f->db);
    assert_int_equal(access(aux, F_OK), -1);
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_OK);
}

static void
open__rejects__a_wrong_passphrase_with_a_live_wal_unchanged(void **state)
{
    struct fx *f = *state;
    struct store *other = NULL;
    struct snapshot before;
    pid_t kid;
    int status = 0;

    /* A process that wrote and died without closing leaves frames in the WAL. */
    fx_create(f);
    store_close(f->st);
    f->st = NULL;
    kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        struct store *st = NULL;
        if (store_open(f->db, PASS, strlen(PASS), &st) != KITH_OK ||
            store_setting_set(st, "listen", "tcp://127.0.0.1:9") != KITH_OK) {
            _exit(1);
        }
        _exit(0); /* no store_close: no checkpoint */
    }
    assert_int_equal(waitpid(kid, &status, 0), kid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    snapshot_take(f, &before);
    assert_true(before.has_wal);
    assert_int_equal(store_open(f->db, "wrong", 5, &other), KITH_EPASSPHRASE);
    assert_null(other);
    snapshot_assert_same(f, &before);
    /* While one store has it open, a second is told so, and changes nothing either. */
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_OK);
    snapshot_take(f, &before);
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &other), KITH_EBUSY);
    assert_null(other);
    snapshot_assert_same(f, &before);
    {
        char *setting = NULL;
        assert_int_equal(store_setting_get(f->st, "listen", &setting), KITH_OK);
        assert_string_equal(setting, "tcp://127.0.0.1:9");
        free(setting);
    }
}

static void
open__refuses__a_text_file_unchanged(void **state)
{
    struct fx *f = *state;
    static const char text[] = "this is a shopping list, not a database\n";
    struct snapshot before;

    write_file(f->db, text, sizeof text - 1);
    snapshot_take(f, &before);
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_ENOTKITH);
    assert_null(f->st);
    snapshot_assert_same(f, &before);
}

static void
open__refuses__a_foreign_sqlite_database_unchanged(void **state)
{
    struct fx *f = *state;
    struct snapshot before;
    char wal[160];

    raw_create(f->db, "CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES ('keep me');");
    snapshot_take(f, &before);
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_ENOTKITH);
    assert_null(f->st);
    snapshot_assert_same(f, &before);
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    assert_int_equal(access(wal, F_OK), -1);
}

static void
open__refuses__a_kith_tagged_database_without_kdf_row(void **state)
{
    struct fx *f = *state;
    struct snapshot before;

    raw_create(f->db, "PRAGMA application_id = 1801812072; PRAGMA journal_mode = WAL;"
                      "PRAGMA user_version = 1; CREATE TABLE notes(body TEXT);"
                      "INSERT INTO notes VALUES ('keep me');");
    snapshot_take(f, &before);
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_ENOTKITH);
    snapshot_assert_same(f, &before);
    fx_raw(f, "CREATE TABLE kdf(id INTEGER PRIMARY KEY, alg, ops, mem, salt, wrapped);");
    snapshot_take(f, &before);
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_ENOTKITH);
    snapshot_assert_same(f, &before);
}

static void
open__refuses__a_newer_schema_version_unchanged(void **state)
{
    struct fx *f = *state;
    struct snapshot before;

    fx_create(f);
    store_close(f->st);
    f->st = NULL;
    fx_raw(f, "PRAGMA user_version = 99;");
    snapshot_take(f, &before);
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_ECORRUPT);
    assert_null(f->st);
    snapshot_assert_same(f, &before);
}

static void
rekey__opens_with_the_new_passphrase_only(void **state)
{
    struct fx *f = *state;
    char *value = NULL;

    fx_create(f);
    assert_int_equal(store_setting_set(f->st, "listen", "tcp://0.0.0.0:7777"), KITH_OK);
    assert_int_equal(store_rekey(f->st, "new pass", 8, &STORE_KDF_MIN), KITH_OK);
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_EPASSPHRASE);
    assert_int_equal(store_open(f->db, "new pass", 8, &f->st), KITH_OK);
    assert_int_equal(store_setting_get(f->st, "listen", &value), KITH_OK);
    assert_string_equal(value, "tcp://0.0.0.0:7777");
    free(value);
}

/* ---- row types ---- */

static void
setting__round_trips__and_overwrites(void **state)
{
    struct fx *f = *state;
    char *value = NULL;

    fx_create(f);
    assert_int_equal(store_setting_get(f->st, "listen", &value), KITH_ENOTFOUND);
    assert_null(value);
    assert_int_equal(store_setting_set(f->st, "listen", "tcp://a"), KITH_OK);
    assert_int_equal(store_setting_set(f->st, "listen", "tcp://b:1"), KITH_OK);
    assert_int_equal(store_setting_set(f->st, "socks5", ""), KITH_OK);
    fx_reopen(f);
    assert_int_equal(store_setting_get(f->st, "listen", &value), KITH_OK);
    assert_string_equal(value, "tcp://b:1");
    free(value);
    assert_int_equal(store_setting_get(f->st, "socks5", &value), KITH_OK);
    assert_string_equal(value, "");
    free(value);
    assert_int_equal(store_setting_set(f->st, "", "x"), KITH_EINVAL);
}

static void
contact__round_trips__by_id_name_and_member(void **state)
{
    struct fx *f = *state;
    struct store_contact c = make_contact("Grace", 7);
    struct store_contact got;

    fx_create(f);
    assert_int_equal(store_contact_add(f->st, &c), KITH_OK);
    fx_reopen(f);
    assert_int_equal(store_contact_by_id(f->st, c.id, &got), KITH_OK);
    assert_contact_equal(&got, &c);
    assert_int_equal(store_contact_by_name(f->st, "gRACE", &got), KITH_OK);
    assert_int_equal(got.id, c.id);
    assert_int_equal(store_contact_by_member(f->st, c.member_id, &got), KITH_OK);
    assert_int_equal(got.id, c.id);
    assert_string_equal(got.endpoints[1], c.endpoints[1]);
    assert_int_equal(got.pub.tk_not_after, NOW + 7);
    assert_int_equal(store_contact_by_name(f->st, "Grac", &got), KITH_ENOTFOUND);
    assert_int_equal(store_contact_by_id(f->st, c.id + 1, &got), KITH_ENOTFOUND);
}

static void
contact__rejects__a_taken_name_case_insensitively_and_a_taken_member(void **state)
{
    struct fx *f = *state;
    struct store_contact a = make_contact("Alice", 1);
    struct store_contact b = make_contact("ALICE", 2);
    struct store_contact dup_member = make_contact("Mallory", 1);

    fx_create(f);
    assert_int_equal(store_contact_add(f->st, &a), KITH_OK);
    assert_int_equal(store_contact_add(f->st, &b), KITH_EEXISTS);
    assert_int_equal(store_contact_add(f->st, &dup_member), KITH_EEXISTS);
    snprintf(b.name, sizeof b.name, "Bob");
    assert_int_equal(store_contact_add(f->st, &b), KITH_OK);
    snprintf(b.name, sizeof b.name, "alice");
    assert_int_equal(store_contact_update(f->st, &b), KITH_EEXISTS);
}

static void
contact__update__rewrites_every_field(void **state)
{
    struct fx *f = *state;
    struct store_contact c = make_contact("Carol", 3);
    struct store_contact got;

    fx_create(f);
    assert_int_equal(store_contact_add(f->st, &c), KITH_OK);
    snprintf(c.name, sizeof c.name, "Caroline");
    c.state = STORE_CONTACT_PENDING;
    c.verified = true;
    c.trust = 3;
    c.n_endpoints = 1;
    memset(c.endpoints[1], 0, sizeof c.endpoints[1]);
    snprintf(c.endpoints[0], sizeof c.endpoints[0], "tcp://198.51.100.1:1");
    assert_int_equal(store_contact_update(f->st, &c), KITH_OK);
    assert_int_equal(store_contact_by_id(f->st, c.id, &got), KITH_OK);
    assert_contact_equal(&got, &c);
    assert_int_equal(store_contact_by_name(f->st, "carol", &got), KITH_ENOTFOUND);
    assert_int_equal(store_contact_by_name(f->st, "caroline", &got), KITH_OK);
    c.id++;
    assert_int_equal(store_contact_update(f->st, &c), KITH_ENOTFOUND);
}

static void
contacts_list__orders__by_name(void **state)
{
    struct fx *f = *state;
    struct store_contact *list = NULL;
    size_t n = 99;

    fx_create(f);
    assert_int_equal(store_contacts_list(f->st, &list, &n), KITH_OK);
    assert_int_equal(n, 0);
    free(list);
    add_contact(f->st, "zed", 1);
    add_contact(f->st, "Bea", 2);
    add_contact(f->st, "amy", 3);
    assert_int_equal(store_contacts_list(f->st, &list, &n), KITH_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].name, "amy");
    assert_string_equal(list[1].name, "Bea");
    assert_string_equal(list[2].name, "zed");
    assert_int_equal(list[2].pub.ik[0], 1);
    free(list);
}

/* ---- boundaries: rule sets, visibility, held messages, receipts ---- */

static uint8_t *
msg_id_of(uint8_t id[16], uint8_t tag, uint32_t n)
{
    memset(id, 0, 16);
    id[0] = tag;
    id[12] = (uint8_t)(n >> 24);
    id[13] = (uint8_t)(n >> 16);
    id[14] = (uint8_t)(n >> 8);
    id[15] = (uint8_t)n;
    return id;
}

static void
rules__round_trip_sealed__per_contact_and_kind_and_clear(void **state)
{
    struct fx *f = *state;
    const uint8_t ours[] = { 1, 2, 3, 0x51, 0x55 };
    const uint8_t told[] = { 1, 9 };
    uint8_t *buf = NULL;
    size_t len = 99;
    int64_t a, b;

    fx_create(f);
    a = add_contact(f->st, "Ann", 1);
    b = add_contact(f->st, "Bo", 2);
    assert_int_equal(store_rules_get(f->st, a, STORE_RULES_OURS, &buf, &len), KITH_ENOTFOUND);
    assert_null(buf);
    assert_int_equal(len, 0);
    assert_int_equal(store_rules_set(f->st, a, STORE_RULES_OURS, ours, sizeof ours), KITH_OK);
    assert_int_equal(store_rules_set(f->st, a, STORE_RULES_TOLD, told, sizeof told), KITH_OK);
    assert_int_equal(store_rules_set(f->st, 999, STORE_RULES_OURS, ours, sizeof ours),
                     KITH_ENOTFOUND);
    fx_reopen(f);
    assert_int_equal(store_rules_get(f->st, a, STORE_RULES_OURS, &buf, &len), KITH_OK);
    assert_int_equal(len, sizeof ours);
    assert_memory_equal(buf, ours, sizeof ours);
    store_rules_free(buf, len);
    assert_int_equal(store_rules_get(f->st, a, STORE_RULES_TOLD, &buf, &len), KITH_OK);
    assert_int_equal(len, sizeof told);
    assert_memory_equal(buf, told, sizeof told);
    store_rules_free(buf, len);
    assert_int_equal(store_rules_get(f->st, b, STORE_RULES_OURS, &buf, &len), KITH_ENOTFOUND);
    /* Clearing removes the set; the other kind stays. */
    assert_int_equal(store_rules_set(f->st, a, STORE_RULES_OURS, NULL, 0), KITH_OK);
    assert_int_equal(store_rules_get(f->st, a, STORE_RULES_OURS, &buf, &len), KITH_ENOTFOUND);
    assert_int_equal(store_rules_get(f->st, a, STORE_RULES_TOLD, &buf, &len), KITH_OK);
    store_rules_free(buf, len);
    assert_int_equal(store_rules_set(f->st, a, STORE_RULES_OURS, NULL, 3), KITH_EINVAL);
}

static void
rules__sealed_under_their_contact__fail_to_open_when_moved(void **state)
{
    struct fx *f = *state;
    const uint8_t ours[] = { 7, 7, 7 };
    uint8_t *buf = NULL;
    size_t len = 0;
    sqlite3 *db = NULL;
    char sql[256];
    int64_t a, b;

    fx_create(f);
    a = add_contact(f->st, "Ann", 1);
    b = add_contact(f->st, "Bo", 2);
    assert_int_equal(store_rules_set(f->st, a, STORE_RULES_OURS, ours, sizeof ours), KITH_OK);
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    snprintf(sql, sizeof sql,
             "UPDATE contact SET told = rules WHERE id = %lld; UPDATE contact SET rules = "
             "(SELECT rules FROM contact WHERE id = %lld) WHERE id = %lld",
             (long long)a, (long long)a, (long long)b);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_OK);
    assert_int_equal(store_rules_get(f->st, a, STORE_RULES_TOLD, &buf, &len), KITH_ECORRUPT);
    assert_int_equal(store_rules_get(f->st, b, STORE_RULES_OURS, &buf, &len), KITH_ECORRUPT);
    assert_null(buf);
}

static void
msg_visible_since__lists_visible_times__digest_once_scope_one_or_all(void **state)
{
    struct fx *f = *state;
    struct store_disposition d = { 0 };
    uint8_t id[16];
    int64_t *times = NULL;
    size_t n = 99;
    int64_t a, b;

    fx_create(f);
    a = add_contact(f->st, "Ann", 1);
    b = add_contact(f->st, "Bo", 2);
    for (uint32_t i = 1; i <= 6; i++) {
        add_msg(f->st, i <= 5 ? a : b, 1, i, i, false, STORE_MSG_HELD, "x");
    }
    add_msg(f->st, a, 2, 1, 7, true, STORE_MSG_DELIVERED, "mine");
    assert_int_equal(store_msg_visible_since(f->st, a, 0, 0, &times, &n), KITH_OK);
    assert_int_equal(n, 0); /* held ones are not visible */
    free(times);
    d.state = STORE_MSG_RECEIVED;
    d.visible_at = NOW + 30;
    assert_int_equal(store_msg_release(f->st, msg_id_of(id, 1, 1), &d), KITH_OK);
    d.visible_at = NOW + 10;
    assert_int_equal(store_msg_release(f->st, msg_id_of(id, 1, 2), &d), KITH_OK);
    d.visible_at = NOW + 50; /* three released together as one digest */
    d.is_digest = true;
    for (uint32_t i = 3; i <= 5; i++) {
        assert_int_equal(store_msg_release(f->st, msg_id_of(id, 1, i), &d), KITH_OK);
    }
    d.is_digest = false;
    d.visible_at = NOW + 40;
    assert_int_equal(store_msg_release(f->st, msg_id_of(id, 1, 6), &d), KITH_OK);
    assert_int_equal(store_msg_visible_since(f->st, a, NOW, 0, &times, &n), KITH_OK);
    assert_int_equal(n, 3);
    assert_int_equal(times[0], NOW + 10);
    assert_int_equal(times[1], NOW + 30);
    assert_int_equal(times[2], NOW + 50);
    free(times);
    assert_int_equal(store_msg_visible_since(f->st, a, NOW + 20, 0, &times, &n), KITH_OK);
    assert_int_equal(n, 2);
    free(times);
    assert_int_equal(store_msg_visible_since(f->st, 0, NOW, 0, &times, &n), KITH_OK);
    assert_int_equal(n, 4);
    assert_int_equal(times[2], NOW + 40);
    free(times);
    /* A limit keeps the newest, still oldest first (a rate limit counts only those). */
    assert_int_equal(store_msg_visible_since(f->st, 0, NOW, 2, &times, &n), KITH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(times[0], NOW + 40);
    assert_int_equal(times[1], NOW + 50);
    free(times);
    assert_int_equal(store_msg_visible_since(f->st, 0, NOW, 3, &times, &n), KITH_OK);
    assert_int_equal(n, 3); /* merged across plain and digest times */
    assert_int_equal(times[0], NOW + 30);
    assert_int_equal(times[1], NOW + 40);
    assert_int_equal(times[2], NOW + 50);
    free(times);
    assert_int_equal(store_msg_visible_since(f->st, a, NOW, 1, &times, &n), KITH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(times[0], NOW + 50);
    free(times);
    assert_int_equal(store_msg_visible_since(f->st, b, NOW + 41, 0, &times, &n), KITH_OK);
    assert_int_equal(n, 0);
    free(times);
}

static void
msg_held__lists_held_in_sender_order__and_next_release_is_the_earliest(void **state)
{
    struct fx *f = *state;
    struct store_disposition d = { 0 };
    struct store_msg *held = NULL;
    struct store_msg got;
    uint8_t id[16];
    int64_t next = 0;
    size_t n = 0;
    int64_t a, b;

    fx_create(f);
    a = add_contact(f->st, "Ann", 1);
    b = add_contact(f->st, "Bo", 2);
    assert_int_equal(store_msg_next_release(f->st, &next), KITH_ENOTFOUND);
    add_msg(f->st, a, 1, 3, 30, false, STORE_MSG_HELD, "third");
    add_msg(f->st, a, 1, 1, 10, false, STORE_MSG_HELD, "first");
    add_msg(f->st, a, 1, 2, 20, false, STORE_MSG_RECEIVED, "shown");
    add_msg(f->st, b, 1, 4, 5, false, STORE_MSG_HELD, "bo");
    add_msg(f->st, a, 1, 5, 40, true, STORE_MSG_HELD, "outgoing never counts");
    d.state = STORE_MSG_HELD;
    d.reason = 3;
    d.release_at = NOW + 300;
    assert_int_equal(store_msg_release(f->st, msg_id_of(id, 1, 3), &d), KITH_OK);
    d.release_at = NOW + 100;
    assert_int_equal(store_msg_release(f->st, msg_id_of(id, 1, 1), &d), KITH_OK);
    d.release_at = NOW + 200;
    d.is_digest = true;
    assert_int_equal(store_msg_release(f->st, msg_id_of(id, 1, 4), &d), KITH_OK);
    assert_int_equal(store_msg_held(f->st, a, &held, &n), KITH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(held[0].text, "first");
    assert_string_equal(held[1].text, "third");
    assert_int_equal(held[0].release_at, NOW + 100);
    assert_int_equal(held[0].reason, 3);
    assert_int_equal(held[0].visible_at, 0);
    store_msgs_free(held, n);
    assert_int_equal(store_msg_held(f->st, 0, &held, &n), KITH_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(held[i].is_digest, strcmp(held[i].text, "bo") == 0);
    }
    store_msgs_free(held, n);
    assert_int_equal(store_msg_next_release(f->st, &next), KITH_OK);
    assert_int_equal(next, NOW + 100);
    /* Released: it leaves the held list and gets its visible time. */
    memset(&d, 0, sizeof d);
    d.state = STORE_MSG_RECEIVED;
    d.visible_at = NOW + 100;
    assert_int_equal(store_msg_release(f->st, msg_id_of(id, 1, 1), &d), KITH_OK);
    assert_int_equal(store_msg_next_release(f->st, &next), KITH_OK);
    assert_int_equal(next, NOW + 200);
    fx_reopen(f);
    assert_int_equal(store_msg_get(f->st, msg_id_of(id, 1, 1), &got), KITH_OK);
    assert_int_equal(got.state, STORE_MSG_RECEIVED);
    assert_int_equal(got.visible_at, NOW + 100);
    assert_int_equal(got.release_at, 0);
    store_msg_free(&got);
    assert_int_equal(store_msg_release(f->st, msg_id_of(id, 9, 9), &d), KITH_ENOTFOUND);
    d.state = 42;
    assert_int_equal(store_msg_release(f->st, msg_id_of(id, 1, 3), &d), KITH_EINVAL);
}

static void
msg_set_tell__records_the_receipt_on_an_outgoing_message(void **state)
{
    struct fx *f = *state;
    struct store_msg got;
    uint8_t id[16];
    int64_t a;

    fx_create(f);
    a = add_contact(f->st, "Ann", 1);
    add_msg(f->st, a, 2, 1, 1, true, STORE_MSG_SENT, "hi");
    assert_int_equal(store_msg_get(f->st, msg_id_of(id, 2, 1), &got), KITH_OK);
    assert_int_equal(got.tell, 0);
    store_msg_free(&got);
    assert_int_equal(store_msg_set_tell(f->st, id, 2, NOW + 3600), KITH_OK);
    fx_reopen(f);
    assert_int_equal(store_msg_get(f->st, id, &got), KITH_OK);
    assert_int_equal(got.tell, 2);
    assert_int_equal(got.tell_at, NOW + 3600);
    store_msg_free(&got);
    assert_int_equal(store_msg_set_tell(f->st, msg_id_of(id, 7, 7), 1, 0), KITH_ENOTFOUND);
    assert_int_equal(store_msg_set_tell(f->st, id, -1, 0), KITH_EINVAL);
}

static void
invite__round_trips__and_used_wipes_the_secret_key(void **state)
{
    struct fx *f = *state;
    struct store_invite inv, got;
    size_t n = 0;

    fx_create(f);
    memset(&inv, 0, sizeof inv);
    inv.invite_id = 0xdeadbeef;
    memset(inv.inv_sk, 0xa1, 32);
    memset(inv.inv_pk, 0xb2, 32);
    memset(inv.secret, 0xc3, 32);
    inv.expires_at = NOW + 100;
    inv.state = STORE_INVITE_ISSUED;
    assert_int_equal(store_invite_add(f->st, &inv), KITH_OK);
    assert_int_equal(store_invite_add(f->st, &inv), KITH_EEXISTS);
    inv.invite_id = 7;
    inv.expires_at = NOW - 1;
    assert_int_equal(store_invite_add(f->st, &inv), KITH_OK);
    assert_int_equal(store_invites_open(f->st, NOW, &n), KITH_OK);
    assert_int_equal(n, 1);
    fx_reopen(f);
    assert_int_equal(store_invite_get(f->st, 0xdeadbeef, &got), KITH_OK);
    assert_int_equal(got.invite_id, 0xdeadbeef);
    assert_int_equal(got.expires_at, NOW + 100);
    assert_memory_equal(got.inv_sk, inv.inv_sk, 32);
    assert_memory_equal(got.secret, inv.secret, 32);
    assert_int_equal(store_invite_set_state(f->st, 0xdeadbeef, STORE_INVITE_USED), KITH_OK);
    assert_int_equal(store_invite_get(f->st, 0xdeadbeef, &got), KITH_OK);
    assert_int_equal(got.state, STORE_INVITE_USED);
    assert_true(sodium_is_zero(got.inv_sk, 32));
    assert_memory_equal(got.inv_pk, inv.inv_pk, 32);
    assert_int_equal(store_invites_open(f->st, NOW, &n), KITH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_invite_set_state(f->st, 12345, STORE_INVITE_USED), KITH_ENOTFOUND);
    assert_int_equal(store_invite_get(f->st, 12345, &got), KITH_ENOTFOUND);
}

static void
session__round_trips__byte_for_byte(void **state)
{
    struct fx *f = *state;
    struct identity *alice = identity_generate(NOW);
    struct identity *bob = identity_generate(NOW);
    struct session *s = NULL, *back = NULL;
    uint8_t spk_sk[32], spk_pk[32], psk[32];
    uint8_t *a = NULL, *b = NULL;
    size_t a_len = 0, b_len = 0;
    int64_t cid;

    fx_create(f);
    cid = add_contact(f->st, "Bob", 9);
    crypto_box_keypair(spk_pk, spk_sk);
    randombytes_buf(psk, sizeof psk);
    assert_int_equal(session_initiate(alice, identity_public(bob), spk_pk, 5, psk, &s), KITH_OK);
    assert_int_equal(store_session_load(f->st, cid, &back), KITH_ENOTFOUND);
    assert_int_equal(store_session_save(f->st, cid, s), KITH_OK);
    assert_int_equal(store_session_save(f->st, cid, s), KITH_OK);
    fx_reopen(f);
    assert_int_equal(store_session_load(f->st, cid, &back), KITH_OK);
    session_serialize(s, &a, &a_len);
    session_serialize(back, &b, &b_len);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    assert_int_equal(store_session_save(f->st, cid + 1, s), KITH_ENOTFOUND); /* no contact */
    free(a);
    free(b);
    session_destroy(s);
    session_destroy(back);
    identity_destroy(alice);
    identity_destroy(bob);
}

static void
seen__detects__replayed_ephemeral_keys_and_msg_ids(void **state)
{
    struct fx *f = *state;
    uint8_t ek[32], id[16];

    fx_create(f);
    memset(ek, 0x42, sizeof ek);
    memset(id, 0x24, sizeof id);
    assert_int_equal(store_seen_ek(f->st, ek, NOW), KITH_OK);
    assert_int_equal(store_seen_ek(f->st, ek, NOW + 1), KITH_EREPLAY);
    ek[31] ^= 1;
    assert_int_equal(store_seen_ek(f->st, ek, NOW), KITH_OK);
    assert_false(store_seen_has(f->st, id));
    assert_int_equal(store_seen_add(f->st, id, NOW), KITH_OK);
    assert_int_equal(store_seen_add(f->st, id, NOW), KITH_OK);
    fx_reopen(f);
    assert_true(store_seen_has(f->st, id));
    assert_int_equal(store_seen_ek(f->st, ek, NOW), KITH_EREPLAY);
    id[0] ^= 1;
    assert_false(store_seen_has(f->st, id));
    /* pruned by age: the older id goes, the newer stays */
    assert_int_equal(store_seen_add(f->st, id, NOW + 100), KITH_OK);
    {
        size_t n = 99;
        assert_int_equal(store_seen_prune(f->st, NOW, &n), KITH_OK);
        assert_int_equal(n, 0);
        assert_int_equal(store_seen_prune(f->st, NOW + 1, &n), KITH_OK);
        assert_int_equal(n, 1);
        assert_true(store_seen_has(f->st, id));
        id[0] ^= 1;
        assert_false(store_seen_has(f->st, id));
        assert_int_equal(store_seen_prune(f->st, NOW + 1, &n), KITH_OK);
        assert_int_equal(n, 0);
    }
}

static void
msg__round_trips__and_counts_queued_and_held(void **state)
{
    struct fx *f = *state;
    struct store_msg m, got;
    size_t queued = 9, held = 9;
    int64_t cid;

    fx_create(f);
    cid = add_contact(f->st, "Dan", 4);
    assert_int_equal(store_msg_counts(f->st, &queued, &held), KITH_OK);
    assert_int_equal(queued, 0);
    assert_int_equal(held, 0);
    add_msg(f->st, cid, 1, 1, 10, true, STORE_MSG_QUEUED, "hello");
    add_msg(f->st, cid, 1, 2, 11, true, STORE_MSG_SENT, "");
    add_msg(f->st, cid, 1, 3, 12, true, STORE_MSG_DELIVERED, "done");
    add_msg(f->st, cid, 1, 4, 13, false, STORE_MSG_HELD, "later");
    add_msg(f->st, cid, 1, 5, 14, false, STORE_MSG_RECEIVED, "now");
    assert_int_equal(store_msg_counts(f->st, &queued, &held), KITH_OK);
    assert_int_equal(queued, 2);
    assert_int_equal(held, 1);
    memset(&m, 0, sizeof m);
    m.msg_id[0] = 1;
    m.msg_id[15] = 1;
    m.contact_id = cid;
    m.text = "dup";
    m.text_len = 3;
    assert_int_equal(store_msg_add(f->st, &m), KITH_EEXISTS);
    m.msg_id[0] = 2;
    m.contact_id = cid + 1;
    assert_int_equal(store_msg_add(f->st, &m), KITH_ENOTFOUND);
    fx_reopen(f);
    m.msg_id[0] = 1;
    assert_int_equal(store_msg_get(f->st, m.msg_id, &got), KITH_OK);
    assert_string_equal(got.text, "hello");
    assert_int_equal(got.text_len, 5);
    assert_true(got.outgoing);
    assert_int_equal(got.lamport, 10);
    assert_int_equal(got.sender_seq, 1);
    assert_int_equal(got.flags, 0x0102);
    assert_int_equal(got.ts_ms, (int64_t)NOW * 1000 + 1);
    store_msg_free(&got);
    assert_null(got.text);
    assert_int_equal(store_msg_set_state(f->st, m.msg_id, STORE_MSG_DELIVERED), KITH_OK);
    assert_int_equal(store_msg_get(f->st, m.msg_id, &got), KITH_OK);
    assert_int_equal(got.state, STORE_MSG_DELIVERED);
    store_msg_free(&got);
    assert_int_equal(store_msg_counts(f->st, &queued, &held), KITH_OK);
    assert_int_equal(queued, 1);
    m.msg_id[0] = 3;
    assert_int_equal(store_msg_get(f->st, m.msg_id, &got), KITH_ENOTFOUND);
    assert_int_equal(store_msg_set_state(f->st, m.msg_id, STORE_MSG_SENT), KITH_ENOTFOUND);
}

static void
msg_log__pages__newest_first_returned_oldest_first(void **state)
{
    struct fx *f = *state;
    struct store_msg *page = NULL;
    size_t n = 0;
    int64_t cid, other;
    char text[32];

    fx_create(f);
    cid = add_contact(f->st, "Eve", 5);
    other = add_contact(f->st, "Fay", 6);
    assert_int_equal(store_begin(f->st), KITH_OK);
    for (uint32_t i = 1; i <= 1000; i++) {
        snprintf(text, sizeof text, "message %u", i);
        /* inserted out of order: the log must sort by lamport */
        uint32_t lamport = (i * 7919u) % 1000u + 1u;
        add_msg(f->st, cid, 1, lamport, lamport, lamport % 2 == 0, STORE_MSG_RECEIVED, text);
    }
    add_msg(f->st, other, 2, 1, 5000, false, STORE_MSG_RECEIVED, "elsewhere");
    assert_int_equal(store_commit(f->st), KITH_OK);

    assert_int_equal(store_msg_log(f->st, cid, 50, 0, &page, &n), KITH_OK);
    assert_int_equal(n, 50);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(page[i].lamport, 951 + i);
    }
    store_msgs_free(page, n);
    assert_int_equal(store_msg_log(f->st, cid, 50, 951, &page, &n), KITH_OK);
    assert_int_equal(n, 50);
    assert_int_equal(page[0].lamport, 901);
    assert_int_equal(page[49].lamport, 950);
    store_msgs_free(page, n);
    assert_int_equal(store_msg_log(f->st, cid, 0, 0, &page, &n), KITH_OK);
    assert_int_equal(n, 1000);
    for (size_t i = 1; i < n; i++) {
        assert_true(page[i - 1].lamport < page[i].lamport);
    }
    store_msgs_free(page, n);
    assert_int_equal(store_msg_log(f->st, cid, 10, 5, &page, &n), KITH_OK);
    assert_int_equal(n, 4);
    assert_int_equal(page[0].lamport, 1);
    store_msgs_free(page, n);
}

static void
msg_log__orders__equal_lamports_by_direction_then_seq(void **state)
{
    struct fx *f = *state;
    struct store_msg *page = NULL;
    size_t n = 0;
    int64_t cid;

    fx_create(f);
    cid = add_contact(f->st, "Gil", 7);
    add_msg(f->st, cid, 1, 3, 5, true, STORE_MSG_SENT, "out3");
    add_msg(f->st, cid, 1, 2, 5, false, STORE_MSG_RECEIVED, "in2");
    add_msg(f->st, cid, 1, 1, 5, true, STORE_MSG_SENT, "out1");
    add_msg(f->st, cid, 1, 9, 4, true, STORE_MSG_SENT, "first");
    assert_int_equal(store_msg_log(f->st, cid, 0, 0, &page, &n), KITH_OK);
    assert_int_equal(n, 4);
    assert_string_equal(page[0].text, "first");
    assert_string_equal(page[1].text, "in2");
    assert_string_equal(page[2].text, "out1");
    assert_string_equal(page[3].text, "out3");
    store_msgs_free(page, n);
}

/* The clock lives in memory and the row is written a block ahead: a rolled-back block is
 * forgotten with its transaction, and a crash never hands out a time twice. */
static void
counters__lamport_never_repeats_a_committed_time_after_a_rollback_or_a_crash(void **state)
{
    struct fx *f = *state;
    uint64_t v = 0, last = 0;
    pid_t kid;
    int status = 0;

    fx_create(f);
    assert_int_equal(store_begin(f->st), KITH_OK);
    assert_int_equal(store_lamport_tick(f->st, 5000, &v), KITH_OK);
    assert_int_equal(v, 5001);
    store_rollback(f->st);
    assert_int_equal(store_begin(f->st), KITH_OK);
    assert_int_equal(store_lamport_tick(f->st, 0, &v), KITH_OK);
    assert_int_equal(v, 1); /* 5001 never happened: nothing of it was committed */
    assert_int_equal(store_commit(f->st), KITH_OK);
    store_close(f->st);
    f->st = NULL;
    kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        struct store *st = NULL;
        uint64_t t = 0;
        if (store_open(f->db, PASS, strlen(PASS), &st) != KITH_OK) {
            _exit(1);
        }
        for (int i = 0; i < 3 * STORE_LAMPORT_BLOCK + 10; i++) {
            if (store_begin(st) != KITH_OK || store_lamport_tick(st, 0, &t) != KITH_OK ||
                store_commit(st) != KITH_OK) {
                _exit(1);
            }
        }
        _exit(t == 3 * STORE_LAMPORT_BLOCK + 11 ? 0 : 2); /* no store_close: a crash */
    }
    assert_int_equal(waitpid(kid, &status, 0), kid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    last = 3 * STORE_LAMPORT_BLOCK + 11;
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_OK);
    assert_int_equal(store_lamport_tick(f->st, 0, &v), KITH_OK);
    assert_true(v > last);
    /* A clean close gives the rest of the block back. */
    last = v;
    fx_reopen(f);
    assert_int_equal(store_lamport_tick(f->st, 0, &v), KITH_OK);
    assert_int_equal(v, last + 1);
}

static void
counters__tick_lamport_and_track_the_last_sent(void **state)
{
    struct fx *f = *state;
    uint64_t v = 0, seq = 0;
    uint8_t prev[16], id[16];
    int64_t cid;

    fx_create(f);
    cid = add_contact(f->st, "Hal", 8);
    assert_int_equal(store_lamport_tick(f->st, 0, &v), KITH_OK);
    assert_int_equal(v, 1);
    assert_int_equal(store_lamport_tick(f->st, 40, &v), KITH_OK);
    assert_int_equal(v, 41);
    assert_int_equal(store_lamport_tick(f->st, 3, &v), KITH_OK);
    assert_int_equal(v, 42);
    assert_int_equal(store_lamport_tick(f->st, UINT64_MAX, &v), KITH_EINVAL);
    memset(prev, 0xff, sizeof prev);
    assert_int_equal(store_next_seq(f->st, cid, &seq, prev), KITH_OK);
    assert_int_equal(seq, 1);
    assert_true(sodium_is_zero(prev, 16));
    memset(id, 0x5a, sizeof id);
    assert_int_equal(store_set_last_sent(f->st, cid, 1, id), KITH_OK);
    fx_reopen(f);
    assert_int_equal(store_lamport_tick(f->st, 0, &v), KITH_OK);
    assert_int_equal(v, 43);
    assert_int_equal(store_next_seq(f->st, cid, &seq, prev), KITH_OK);
    assert_int_equal(seq, 2);
    assert_memory_equal(prev, id, 16);
}

/* A history message and its frame in one row (schema 7): the outbox API sees the frame as
 * it sees an outbox row — due, rescheduled, woken, its acknowledgement key, removed — control
 * frames come first, and the message waits for it before its retention may delete it. */
/* A TEXTS frame of ours: text 0 holds the frame, texts 1..n-1 (ids ending 1..n-1) follow it
 * to SENT, DELIVERED or EXPIRED, only forward; a text's own receipt; and the receiver's tells
 * of a frame's texts, for a repeat. */
static void
texts__follow_their_first_text_and_keep_their_own_receipts(void **state)
{
    struct fx *f = *state;
    uint8_t frame[64] = { 1 }, key[32] = { 2 }, id[16], lone[16];
    struct store_text_tell tt[KITH_TEXTS_MAX];
    size_t n = 0, deleted = 0;
    int64_t a, b;
    int st = -1;

    fx_create(f);
    a = add_contact(f->st, "Kit", 1);
    b = add_contact(f->st, "Lou", 2);
    for (uint32_t k = 0; k < 4; k++) { /* one frame of four texts, to Kit */
        struct store_msg m;
        struct store_msg_frame mf = { frame, sizeof frame, 1, 2000, key };
        memset(&m, 0, sizeof m);
        msg_id_of(m.msg_id, 7, 0x100 + k);
        m.contact_id = a;
        m.outgoing = true;
        m.lamport = 10 + k;
        m.sender_seq = 1 + k;
        m.state = STORE_MSG_QUEUED;
        m.text = "one of four";
        m.text_len = strlen(m.text);
        assert_int_equal(k == 0 ? store_msg_add_queued(f->st, &m, &mf) : store_msg_add(f->st, &m),
                         KITH_OK);
    }
    { /* a lone message whose random id happens to end in 0, next to the frame's ids */
        struct store_msg m;
        struct store_msg_frame mf = { frame, sizeof frame, 1, 2000, key };
        memset(&m, 0, sizeof m);
        msg_id_of(lone, 7, 0x200);
        memcpy(m.msg_id, lone, 16);
        m.contact_id = a;
        m.outgoing = true;
        m.lamport = 20;
        m.sender_seq = 5;
        m.state = STORE_MSG_QUEUED;
        m.text = "alone";
        m.text_len = strlen(m.text);
        assert_int_equal(store_msg_add_queued(f->st, &m, &mf), KITH_OK);
    }
    /* a text with no 0 last byte has no followers; bad states are refused */
    assert_int_equal(store_msg_texts_follow(f->st, msg_id_of(id, 7, 0x101), STORE_MSG_SENT, 0, 0),
                     KITH_OK);
    assert_int_equal(store_msg_texts_follow(f->st, msg_id_of(id, 7, 0x100), STORE_MSG_QUEUED, 0, 0),
                     KITH_EINVAL);
    /* SENT: the first, then the rest follow */
    assert_int_equal(store_msg_mark_sent(f->st, msg_id_of(id, 7, 0x100)), KITH_OK);
    assert_int_equal(store_msg_texts_follow(f->st, id, STORE_MSG_SENT, 0, 0), KITH_OK);
    for (uint32_t k = 0; k < 4; k++) {
        assert_int_equal(store_msg_state(f->st, msg_id_of(id, 7, 0x100 + k), &st), KITH_OK);
        assert_int_equal(st, STORE_MSG_SENT);
    }
    assert_int_equal(store_msg_state(f->st, lone, &st), KITH_OK);
    assert_int_equal(st, STORE_MSG_QUEUED); /* another frame's */
    /* a text's own receipt, only for our texts to that contact, never for a first text */
    assert_int_equal(store_msg_text_told(f->st, msg_id_of(id, 7, 0x102), b, 4, 3600),
                     KITH_ENOTFOUND);
    assert_int_equal(store_msg_text_told(f->st, msg_id_of(id, 7, 0x100), a, 4, 3600), KITH_EINVAL);
    assert_int_equal(store_msg_text_told(f->st, msg_id_of(id, 7, 0x102), a, 1, 0), KITH_OK);
    /* DELIVERED: the first acknowledged (a digest), the rest follow with its receipt; the one
     * with a receipt of its own (plain delivered) keeps it */
    assert_int_equal(store_msg_acknowledged(f->st, msg_id_of(id, 7, 0x100), 4, 3600), KITH_OK);
    assert_int_equal(store_msg_texts_follow(f->st, id, STORE_MSG_DELIVERED, 16, 0), KITH_EINVAL);
    assert_int_equal(store_msg_texts_follow(f->st, id, STORE_MSG_DELIVERED, 4, 3600), KITH_OK);
    for (uint32_t k = 0; k < 4; k++) {
        struct store_msg back;
        assert_int_equal(store_msg_get(f->st, msg_id_of(id, 7, 0x100 + k), &back), KITH_OK);
        assert_int_equal(back.state, STORE_MSG_DELIVERED);
        assert_int_equal(back.tell, k == 2 ? 1 : 4);
        assert_int_equal(back.tell_at, k == 2 ? 0 : 3600);
        store_msg_free(&back);
    }
    /* never backwards: EXPIRED does not touch delivered texts */
    assert_int_equal(store_msg_texts_follow(f->st, id, STORE_MSG_EXPIRED, 0, 0), KITH_OK);
    assert_int_equal(store_msg_state(f->st, msg_id_of(id, 7, 0x103), &st), KITH_OK);
    assert_int_equal(st, STORE_MSG_DELIVERED);
    /* the lone one is not deletable while it waits: queued, with no frame left (retention) */
    assert_int_equal(store_msg_set_delete_at(f->st, lone, 5), KITH_OK);
    assert_int_equal(store_outbox_remove(f->st, lone), KITH_OK);
    assert_int_equal(store_msg_delete_due(f->st, 10, &deleted), KITH_OK);
    assert_int_equal(deleted, 0);

    /* the receiver's side: what it told of a frame's other texts */
    for (uint32_t k = 0; k < 3; k++) {
        struct store_msg m;
        memset(&m, 0, sizeof m);
        msg_id_of(m.msg_id, 8, 0x300 + k);
        m.contact_id = b;
        m.lamport = 30 + k;
        m.sender_seq = 1 + k;
        m.state = k == 1 ? STORE_MSG_HELD : STORE_MSG_RECEIVED;
        m.tell = k == 1 ? 2 : 1;
        m.tell_at = k == 1 ? 7200 : 0;
        m.release_at = k == 1 ? 7200 : 0;
        m.text = "in";
        m.text_len = 2;
        assert_int_equal(store_msg_add(f->st, &m), KITH_OK);
    }
    assert_int_equal(store_msg_texts_tells(f->st, msg_id_of(id, 8, 0x300), b, 1, 0, tt, &n),
                     KITH_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(tt[0].msg_id, msg_id_of(id, 8, 0x301), 16);
    assert_int_equal(tt[0].tell, 2);
    assert_int_equal(tt[0].tell_at, 7200);
    assert_int_equal(store_msg_texts_tells(f->st, msg_id_of(id, 8, 0x300), a, 1, 0, tt, &n),
                     KITH_OK);
    assert_int_equal(n, 0); /* another contact's */
    assert_int_equal(store_msg_texts_tells(f->st, msg_id_of(id, 8, 0x300), b, 2, 7200, tt, &n),
                     KITH_OK);
    assert_int_equal(n, 1); /* against a held first text, the plain one differs */
    assert_memory_equal(tt[0].msg_id, msg_id_of(id, 8, 0x302), 16);
}

static void
outbox__history_frames_wait_in_their_message_rows(void **state)
{
    struct fx *f = *state;
    struct store_outbox *rows = NULL;
    struct store_msg m, back;
    uint8_t frame[120], key[32], got[32], ctl[16] = { 0xc1 }, id[16];
    size_t n = 0, deleted = 0;
    int64_t next = 0, a, at = 0;

    fx_create(f);
    a = add_contact(f->st, "Kit", 1);
    for (size_t i = 0; i < sizeof frame; i++) {
        frame[i] = (uint8_t)(i ^ 0x5a);
    }
    for (size_t i = 0; i < sizeof key; i++) {
        key[i] = (uint8_t)(0x30 + i);
    }
    for (uint32_t k = 1; k <= 2; k++) {
        struct store_msg_frame mf = { frame, sizeof frame - k, k - 1, 2000 * k, k == 1 ? key : NULL };
        memset(&m, 0, sizeof m);
        msg_id_of(m.msg_id, 9, k);
        m.contact_id = a;
        m.outgoing = true;
        m.lamport = k;
        m.sender_seq = k;
        m.state = STORE_MSG_QUEUED;
        m.text = "waits with its frame";
        m.text_len = strlen(m.text);
        assert_int_equal(store_msg_add_queued(f->st, &m, &mf), KITH_OK);
        assert_int_equal(store_msg_add_queued(f->st, &m, &mf), KITH_EEXISTS);
    }
    m.outgoing = false; /* only our own messages carry frames */
    msg_id_of(m.msg_id, 9, 3);
    {
        struct store_msg_frame mf = { frame, 10, 0, 1, NULL };
        assert_int_equal(store_msg_add_queued(f->st, &m, &mf), KITH_EINVAL);
    }
    assert_int_equal(store_outbox_add(f->st, ctl, a, frame, 7, 3000), KITH_OK);
    assert_int_equal(store_outbox_next_at(f->st, &next), KITH_OK);
    assert_int_equal(next, 2000);

    /* control frame first, then the messages in the order they were written */
    assert_int_equal(store_outbox_due(f->st, a, 10000, 10, &rows, &n), KITH_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(rows[0].msg_id, ctl, 16);
    assert_int_equal(rows[0].frame_len, 7);
    assert_memory_equal(rows[1].msg_id, msg_id_of(id, 9, 1), 16);
    assert_int_equal(rows[1].frame_len, sizeof frame - 1);
    assert_memory_equal(rows[1].frame, frame, sizeof frame - 1);
    assert_int_equal(rows[1].attempts, 0);
    assert_int_equal(rows[1].next_at_ms, 2000);
    assert_int_equal(rows[2].attempts, 1);
    store_outbox_free(rows, n);
    assert_int_equal(store_outbox_due(f->st, 0, 2000, 10, &rows, &n), KITH_OK);
    assert_int_equal(n, 1);
    store_outbox_free(rows, n);

    assert_int_equal(store_outbox_ack_key(f->st, msg_id_of(id, 9, 1), got), KITH_OK);
    assert_memory_equal(got, key, 32);
    assert_int_equal(store_outbox_ack_key(f->st, msg_id_of(id, 9, 2), got), KITH_ENOTFOUND);
    assert_int_equal(store_outbox_reschedule(f->st, msg_id_of(id, 9, 1), 5, 9000), KITH_OK);
    assert_int_equal(store_outbox_reschedule(f->st, ctl, 2, 8000), KITH_OK);
    assert_int_equal(store_outbox_next_at(f->st, &next), KITH_OK);
    assert_int_equal(next, 4000);
    assert_int_equal(store_outbox_wake(f->st, a), KITH_OK);
    assert_int_equal(store_outbox_due(f->st, a, 0, 10, &rows, &n), KITH_OK);
    assert_int_equal(n, 3);
    assert_int_equal(rows[1].attempts, 5);
    store_outbox_free(rows, n);

    /* retention waits for the frame */
    assert_int_equal(store_msg_set_delete_at(f->st, msg_id_of(id, 9, 1), NOW), KITH_OK);
    assert_int_equal(store_msg_next_delete(f->st, &at), KITH_ENOTFOUND);
    assert_int_equal(store_msg_delete_due(f->st, NOW + 1, &deleted), KITH_OK);
    assert_int_equal(deleted, 0);

    /* acknowledged: the frame leaves the row, the message stays in history */
    assert_int_equal(store_outbox_remove(f->st, msg_id_of(id, 9, 1)), KITH_OK);
    assert_int_equal(store_outbox_remove(f->st, msg_id_of(id, 9, 1)), KITH_ENOTFOUND);
    /* (the engine then records it delivered or expired: until then it waits, and stays) */
    assert_int_equal(store_msg_set_state(f->st, msg_id_of(id, 9, 1), STORE_MSG_DELIVERED),
                     KITH_OK);
    assert_int_equal(store_outbox_ack_key(f->st, msg_id_of(id, 9, 1), got), KITH_ENOTFOUND);
    assert_int_equal(store_outbox_reschedule(f->st, msg_id_of(id, 9, 1), 1, 1), KITH_ENOTFOUND);
    assert_int_equal(store_msg_get(f->st, msg_id_of(id, 9, 1), &back), KITH_OK);
    assert_string_equal(back.text, "waits with its frame");
    store_msg_free(&back);
    fx_reopen(f);
    assert_int_equal(store_outbox_due(f->st, 0, INT64_MAX, 10, &rows, &n), KITH_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(rows[0].msg_id, ctl, 16);
    assert_memory_equal(rows[1].msg_id, msg_id_of(id, 9, 2), 16);
    store_outbox_free(rows, n);
    assert_int_equal(store_msg_next_delete(f->st, &at), KITH_OK);
    assert_int_equal(at, NOW);
    assert_int_equal(store_msg_delete_due(f->st, NOW + 1, &deleted), KITH_OK);
    assert_int_equal(deleted, 1);
    assert_int_equal(store_outbox_remove(f->st, ctl), KITH_OK);
    /* acknowledged in one write: delivered, what the receipt told, the frame gone */
    assert_int_equal(store_msg_acknowledged(f->st, ctl, 1, 0), KITH_ENOTFOUND);
    assert_int_equal(store_msg_acknowledged(f->st, msg_id_of(id, 9, 2), 2, 77), KITH_OK);
    assert_int_equal(store_msg_acknowledged(f->st, msg_id_of(id, 9, 2), 2, 77), KITH_ENOTFOUND);
    assert_int_equal(store_outbox_remove(f->st, msg_id_of(id, 9, 2)), KITH_ENOTFOUND);
    assert_int_equal(store_msg_get(f->st, msg_id_of(id, 9, 2), &back), KITH_OK);
    assert_int_equal(back.state, STORE_MSG_DELIVERED);
    assert_int_equal(back.tell, 2);
    assert_int_equal(back.tell_at, 77);
    store_msg_free(&back);
    {
        int st = -1;
        assert_int_equal(store_msg_state(f->st, msg_id_of(id, 9, 2), &st), KITH_OK);
        assert_int_equal(st, STORE_MSG_DELIVERED);
        assert_int_equal(store_msg_state(f->st, ctl, &st), KITH_ENOTFOUND);
    }
    assert_int_equal(store_outbox_next_at(f->st, &next), KITH_ENOTFOUND);
}

static void
outbox__due_reschedule_wake_remove_and_next_at(void **state)
{
    struct fx *f = *state;
    struct store_outbox *rows = NULL;
    uint8_t id1[16] = { 1 }, id2[16] = { 2 }, id3[16] = { 3 };
    uint8_t frame[300];
    size_t n = 0;
    int64_t next = 0;
    int64_t a, b;

    fx_create(f);
    a = add_contact(f->st, "Ivy", 1);
    b = add_contact(f->st, "Jo", 2);
    for (size_t i = 0; i < sizeof frame; i++) {
        frame[i] = (uint8_t)i;
    }
    assert_int_equal(store_outbox_next_at(f->st, &next), KITH_ENOTFOUND);
    assert_int_equal(store_outbox_add(f->st, id1, a, frame, sizeof frame, 1000), KITH_OK);
    assert_int_equal(store_outbox_add(f->st, id2, b, frame, 10, 500), KITH_OK);
    assert_int_equal(store_outbox_add(f->st, id3, a, frame, 20, 3000), KITH_OK);
    assert_int_equal(store_outbox_add(f->st, id3, a, frame, 20, 3000), KITH_EEXISTS);
    assert_int_equal(store_outbox_next_at(f->st, &next), KITH_OK);
    assert_int_equal(next, 500);

    assert_int_equal(store_outbox_due(f->st, 0, 1000, 10, &rows, &n), KITH_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(rows[0].msg_id, id1, 16); /* insertion order */
    assert_int_equal(rows[0].frame_len, sizeof frame);
    assert_memory_equal(rows[0].frame, frame, sizeof frame);
    assert_int_equal(rows[0].contact_id, a);
    assert_memory_equal(rows[1].msg_id, id2, 16);
    store_outbox_free(rows, n);
    assert_int_equal(store_outbox_due(f->st, 0, 1000, 1, &rows, &n), KITH_OK);
    assert_int_equal(n, 1);
    store_outbox_free(rows, n);
    assert_int_equal(store_outbox_due(f->st, a, 5000, 10, &rows, &n), KITH_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(rows[1].msg_id, id3, 16);
    store_outbox_free(rows, n);

    assert_int_equal(store_outbox_reschedule(f->st, id1, 3, 9000), KITH_OK);
    assert_int_equal(store_outbox_due(f->st, a, 5000, 10, &rows, &n), KITH_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(rows[0].msg_id, id3, 16);
    store_outbox_free(rows, n);
    assert_int_equal(store_outbox_wake(f->st, a), KITH_OK);
    assert_int_equal(store_outbox_due(f->st, a, 1, 10, &rows, &n), KITH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].attempts, 3);
    store_outbox_free(rows, n);

    assert_int_equal(store_outbox_remove(f->st, id1), KITH_OK);
    assert_int_equal(store_outbox_remove(f->st, id1), KITH_ENOTFOUND);
    assert_int_equal(store_outbox_reschedule(f->st, id1, 1, 1), KITH_ENOTFOUND);
    assert_int_equal(store_outbox_remove(f->st, id3), KITH_OK);
    fx_reopen(f);
    assert_int_equal(store_outbox_next_at(f->st, &next), KITH_OK);
    assert_int_equal(next, 500);
    assert_int_equal(store_outbox_remove(f->st, id2), KITH_OK);
    assert_int_equal(store_outbox_next_at(f->st, &next), KITH_ENOTFOUND);
}

/* store_outbox_due answers "none" without a query while nothing can be due (a hint taken
 * from the committed minimum, lowered by every write): against a model of the rows, through
 * random adds, reschedules, removals, wakes and rolled-back transactions, it never misses a
 * due row. */
static void
outbox_due__never_misses_a_due_row__through_writes_and_rollbacks(void **state)
{
    struct fx *f = *state;
    enum { ROWS = 4 };
    int64_t model[ROWS], saved[ROWS]; /* next_at_ms; -1: no row */
    bool in_txn = false;
    uint32_t seed = 12345;
    uint8_t frame[40] = { 7 };
    int64_t c;

    fx_create(f);
    c = add_contact(f->st, "Ivy", 1);
    for (int i = 0; i < ROWS; i++) {
        model[i] = -1;
    }
    for (int op = 0; op < 4000; op++) {
        uint8_t id[16] = { 0 };
        int i;
        int64_t t;

        seed = seed * 1103515245u + 12345u;
        i = (int)((seed >> 8) % ROWS);
        t = (int64_t)((seed >> 16) % 1000);
        id[0] = (uint8_t)(i + 1);
        switch ((seed >> 4) % 8) {
        case 0:
        case 1:
            if (model[i] < 0) {
                assert_int_equal(store_outbox_add(f->st, id, c, frame, sizeof frame, t), KITH_OK);
                model[i] = t;
            }
            break;
        case 2:
            if (model[i] >= 0) {
                assert_int_equal(store_outbox_reschedule(f->st, id, 1, t), KITH_OK);
                model[i] = t;
            }
            break;
        case 3:
            if (model[i] >= 0) {
                assert_int_equal(store_outbox_remove(f->st, id), KITH_OK);
                model[i] = -1;
            }
            break;
        case 4:
            if ((seed >> 12) % 4 == 0) {
                assert_int_equal(store_outbox_wake(f->st, c), KITH_OK);
                for (int k = 0; k < ROWS; k++) {
                    model[k] = model[k] > 0 ? 0 : model[k];
                }
            }
            break;
        case 5: {
            int64_t next = 0;
            KITH_IGNORE(store_outbox_next_at(f->st, &next)); /* may set the hint */
            break;
        }
        case 6:
            if (!in_txn) {
                assert_int_equal(store_begin(f->st), KITH_OK);
                memcpy(saved, model, sizeof model);
                in_txn = true;
            } else if ((seed >> 20) % 2 == 0) {
                store_rollback(f->st);
                memcpy(model, saved, sizeof model);
                in_txn = false;
            } else {
                assert_int_equal(store_commit(f->st), KITH_OK);
                in_txn = false;
            }
            break;
        default: {
            struct store_outbox *rows = NULL;
            size_t n = 0, want = 0;
            for (int k = 0; k < ROWS; k++) {
                want += model[k] >= 0 && model[k] <= t;
            }
            assert_int_equal(store_outbox_due(f->st, 0, t, ROWS, &rows, &n), KITH_OK);
            assert_int_equal(n, want);
            store_outbox_free(rows, n);
            break;
        }
        }
    }
    if (in_txn) {
        store_rollback(f->st);
    }
}

static void
transactions__roll_back_and_refuse_nesting(void **state)
{
    struct fx *f = *state;
    char *value = NULL;

    fx_create(f);
    assert_int_equal(store_commit(f->st), KITH_ESTATE);
    assert_int_equal(store_begin(f->st), KITH_OK);
    assert_int_equal(store_begin(f->st), KITH_ESTATE);
    assert_int_equal(store_setting_set(f->st, "k", "v"), KITH_OK);
    store_rollback(f->st);
    assert_int_equal(store_setting_get(f->st, "k", &value), KITH_ENOTFOUND);
    assert_int_equal(store_begin(f->st), KITH_OK);
    assert_int_equal(store_setting_set(f->st, "k", "v"), KITH_OK);
    assert_int_equal(store_rekey(f->st, PASS, strlen(PASS), &STORE_KDF_MIN), KITH_OK);
    assert_int_equal(store_commit(f->st), KITH_OK);
    fx_reopen(f);
    assert_int_equal(store_setting_get(f->st, "k", &value), KITH_OK);
    free(value);
}

/* ---- sealing ---- */

static void
sealed__values_swapped_between_rows_or_columns_fail_to_open(void **state)
{
    struct fx *f = *state;
    struct store_msg m;
    struct store_contact c;
    uint8_t id1[16] = { 1 }, id2[16] = { 2 };
    int64_t cid, cid2, cid3, cid4;
    char sql[160];

    fx_create(f);
    cid = add_contact(f->st, "Kim", 1);
    cid2 = add_contact(f->st, "Lee", 2);
    /* A name that is also a valid endpoint list (1 entry, "abc"): only the AD's column
     * name stops it from opening as endpoints. */
    cid3 = add_contact(f->st,
                       "\x01\x03"
                       "abc",
                       3);
    cid4 = add_contact(f->st, "Ned", 4);
    add_msg(f->st, cid, 1, 0, 1, true, STORE_MSG_SENT, "first body");
    add_msg(f->st, cid, 2, 0, 2, true, STORE_MSG_SENT, "second body");
    /* Same lengths (both pad to 256): only the AD can tell them apart. */
    fx_raw(f, "UPDATE msg SET body = (SELECT body FROM msg WHERE lamport = 2) "
                    "WHERE lamport = 1;");
    assert_int_equal(store_msg_get(f->st, id1, &m), KITH_ECORRUPT);
    assert_null(m.text);
    assert_int_equal(store_msg_get(f->st, id2, &m), KITH_OK);
    assert_string_equal(m.text, "second body");
    store_msg_free(&m);

    snprintf(sql, sizeof sql,
             "UPDATE contact SET name = (SELECT name FROM contact WHERE id = %lld) "
             "WHERE id = %lld;",
             (long long)cid2, (long long)cid);
    fx_raw(f, sql);
    assert_int_equal(store_contact_by_id(f->st, cid, &c), KITH_ECORRUPT);
    snprintf(sql, sizeof sql, "UPDATE contact SET endpoints = name WHERE id = %lld;",
             (long long)cid3);
    fx_raw(f, sql);
    assert_int_equal(store_contact_by_id(f->st, cid3, &c), KITH_ECORRUPT);
    assert_int_equal(store_contact_by_id(f->st, cid2, &c), KITH_OK);
    assert_int_equal(store_contact_by_id(f->st, cid4, &c), KITH_OK);
    assert_string_equal(c.name, "Ned");
}

static void
damaged_rows__are_reported_as_corrupt(void **state)
{
    struct fx *f = *state;
    struct store_msg *page = NULL;
    struct store_contact *list = NULL;
    struct store_outbox *rows = NULL;
    struct store_msg m;
    uint8_t id1[16] = { 1 }, frame[8] = { 0 };
    size_t n = 0;
    int64_t cid;

    fx_create(f);
    cid = add_contact(f->st, "Max", 1);
    add_msg(f->st, cid, 1, 0, 1, true, STORE_MSG_SENT, "body");
    assert_int_equal(store_outbox_add(f->st, id1, cid, frame, sizeof frame, 0), KITH_OK);
    fx_raw(f, "UPDATE msg SET state = 99;");
    assert_int_equal(store_msg_get(f->st, id1, &m), KITH_ECORRUPT);
    fx_raw(f, "UPDATE msg SET state = 1, body = x'00';");
    assert_int_equal(store_msg_log(f->st, cid, 0, 0, &page, &n), KITH_ECORRUPT);
    assert_null(page);
    assert_int_equal(n, 0);
    fx_raw(f, "UPDATE msg SET body = 'text, not a blob';");
    assert_int_equal(store_msg_get(f->st, id1, &m), KITH_ECORRUPT);
    fx_raw(f, "UPDATE contact SET pub = zeroblob(300);");
    assert_int_equal(store_contacts_list(f->st, &list, &n), KITH_ECORRUPT);
    assert_null(list);
    fx_raw(f, "UPDATE outbox SET frame = substr(frame, 1, length(frame) - 1);");
    assert_int_equal(store_outbox_due(f->st, 0, 10, 10, &rows, &n), KITH_ECORRUPT);
    assert_null(rows);
    fx_raw(f, "DELETE FROM counter;");
    {
        uint64_t v;
        assert_int_equal(store_lamport_tick(f->st, 0, &v), KITH_ECORRUPT);
    }
}

static bool
file_contains_bytes(const char *path, const uint8_t *needle, size_t needle_len)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf;
    long len;
    bool found;

    if (fp == NULL) {
        return false;
    }
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    len = ftell(fp);
    assert_true(len >= 0);
    assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
    buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    found = memmem(buf, (size_t)len, needle, needle_len) != NULL;
    free(buf);
    return found;
}

static bool
file_contains(const char *path, const char *needle)
{
    return file_contains_bytes(path, (const uint8_t *)needle, strlen(needle));
}

/* ---- outbox acknowledgement keys (FRAME_ACK) ---- */

static void
outbox_ack_key__round_trips_sealed__until_the_row_is_removed(void **state)
{
    struct fx *f = *state;
    struct store_outbox *rows = NULL;
    uint8_t id1[16] = { 1 }, id2[16] = { 2 }, unknown[16] = { 9 };
    uint8_t key[32], got[32];
    uint8_t frame[64];
    size_t n = 0;
    char path[160];
    int64_t cid;

    fx_create(f);
    cid = add_contact(f->st, "Ori", 1);
    for (size_t i = 0; i < sizeof key; i++) {
        key[i] = (uint8_t)(0xa0 + i); /* no zero byte, easy to spot in the files */
    }
    memset(frame, 0x5c, sizeof frame);
    assert_int_equal(store_outbox_add_at(f->st, id1, cid, frame, sizeof frame, 1, 2000, key),
                     KITH_OK);
    assert_int_equal(store_outbox_add_at(f->st, id2, cid, frame, sizeof frame, 0, 1000, NULL),
                     KITH_OK);
    assert_int_equal(store_outbox_add_at(f->st, id1, cid, frame, sizeof frame, 0, 0, key),
                     KITH_EEXISTS);
    memset(got, 0, sizeof got);
    assert_int_equal(store_outbox_ack_key(f->st, id1, got), KITH_OK);
    assert_memory_equal(got, key, 32);
    assert_int_equal(store_outbox_ack_key(f->st, id2, got), KITH_ENOTFOUND);
    assert_int_equal(store_outbox_ack_key(f->st, unknown, got), KITH_ENOTFOUND);
    /* the key leaves the rest of the row as it was */
    assert_int_equal(store_outbox_due(f->st, cid, 5000, 10, &rows, &n), KITH_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(rows[0].msg_id, id1, 16);
    assert_int_equal(rows[0].attempts, 1);
    assert_int_equal(rows[0].next_at_ms, 2000);
    assert_int_equal(rows[0].frame_len, sizeof frame);
    assert_memory_equal(rows[0].frame, frame, sizeof frame);
    store_outbox_free(rows, n);

    /* never in clear in the files */
    store_close(f->st);
    f->st = NULL;
    {
        static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
        for (size_t k = 0; k < 4; k++) {
            snprintf(path, sizeof path, "%s%s", f->db, suffix[k]);
            assert_false(file_contains_bytes(path, key, sizeof key));
        }
    }
    snprintf(path, sizeof path, "%s/scan.bin", f->dir);
    write_file(path, key, sizeof key);
    assert_true(file_contains_bytes(path, key, sizeof key));

    /* survives a reopen; gone with its row */
    fx_reopen(f);
    memset(got, 0, sizeof got);
    assert_int_equal(store_outbox_ack_key(f->st, id1, got), KITH_OK);
    assert_memory_equal(got, key, 32);
    assert_int_equal(store_outbox_remove(f->st, id1), KITH_OK);
    assert_int_equal(store_outbox_ack_key(f->st, id1, got), KITH_ENOTFOUND);
    assert_int_equal(store_outbox_remove(f->st, id2), KITH_OK);
    assert_int_equal(store_outbox_ack_key(f->st, id2, got), KITH_ENOTFOUND);
}

static void
outbox_ack_key__sealed_under_its_row__fails_to_open_when_moved(void **state)
{
    struct fx *f = *state;
    uint8_t id1[16] = { 1 }, id2[16] = { 2 };
    uint8_t k1[32], k2[32], got[32];
    uint8_t frame[16] = { 7 };
    int64_t cid;

    fx_create(f);
    cid = add_contact(f->st, "Pia", 1);
    memset(k1, 0x31, sizeof k1);
    memset(k2, 0x32, sizeof k2);
    assert_int_equal(store_outbox_add_at(f->st, id1, cid, frame, sizeof frame, 0, 0, k1), KITH_OK);
    assert_int_equal(store_outbox_add_at(f->st, id2, cid, frame, sizeof frame, 0, 0, k2), KITH_OK);
    /* another row's key, or the frame column, does not open as this row's key */
    fx_raw(f, "UPDATE outbox SET ack = (SELECT ack FROM outbox WHERE msg_id = "
                    "x'02000000000000000000000000000000') "
                    "WHERE msg_id = x'01000000000000000000000000000000';");
    assert_int_equal(store_outbox_ack_key(f->st, id1, got), KITH_ECORRUPT);
    assert_int_equal(store_outbox_ack_key(f->st, id2, got), KITH_OK);
    assert_memory_equal(got, k2, 32);
    fx_raw(f, "UPDATE outbox SET ack = frame "
                    "WHERE msg_id = x'02000000000000000000000000000000';");
    assert_int_equal(store_outbox_ack_key(f->st, id2, got), KITH_ECORRUPT);
    fx_raw(f, "UPDATE outbox SET ack = x'00' "
                    "WHERE msg_id = x'02000000000000000000000000000000';");
    assert_int_equal(store_outbox_ack_key(f->st, id2, got), KITH_ECORRUPT);
}

/* ---- migrations ---- */

/* Column 0 of every row of a raw query, joined with ',' (NULL as "NULL"). */
static void
raw_rows(const char *path, const char *sql, char *out, size_t cap)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    size_t len = 0;
    int rc;

    out[0] = '\0';
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(s, 0);
        int w = snprintf(out + len, cap - len, "%s%s", len > 0 ? "," : "",
                         t != NULL ? (const char *)t : "NULL");
        assert_true(w >= 0 && (size_t)w < cap - len);
        len += (size_t)w;
    }
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

#define SQL_MSG_INDEXES                                                                            \
    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'msg' AND sql IS "         \
    "NOT NULL ORDER BY name"
#define SQL_OUTBOX_COLUMNS "SELECT name FROM pragma_table_info('outbox') ORDER BY cid"
#define SQL_SCHEMA                                                                                 \
    "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY name"

/* Turn a closed current profile back into what schema 4 wrote: no outbox.ack, no msg.ob_*
 * columns (schema 7) and their msg_outbox index, the msg_state
 * and msg_visible indexes (IF EXISTS: whatever the current code wrote, the result is checked
 * below). The raw connection is the only one, so its close folds the WAL into the file and
 * removes it, as a clean close of a schema 4 kith would have left it; application_id and WAL
 * mode stay in the header. */
static void
make_schema_4(const struct fx *f)
{
    char got[512];
    char wal[160];

    raw_exec(f->db, "BEGIN; DROP INDEX IF EXISTS msg_outbox; DROP INDEX IF EXISTS msg_digest;"
                    "ALTER TABLE msg DROP COLUMN ob_ack;"
                    "ALTER TABLE msg DROP COLUMN ob_frame; ALTER TABLE msg DROP COLUMN ob_next_at;"
                    "ALTER TABLE msg DROP COLUMN ob_attempts; ALTER TABLE outbox DROP COLUMN ack;"
                    "DROP INDEX IF EXISTS msg_pending; DROP INDEX IF EXISTS msg_visible_in;"
                    "DROP INDEX IF EXISTS msg_visible_plain;"
                    "CREATE INDEX IF NOT EXISTS msg_state ON msg(state, outgoing);"
                    "CREATE INDEX IF NOT EXISTS msg_visible ON msg(outgoing, visible_at); COMMIT;"
                    "PRAGMA user_version = 4;");
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    assert_int_equal(access(wal, F_OK), -1);
    raw_rows(f->db, "PRAGMA user_version", got, sizeof got);
    assert_string_equal(got, "4");
    raw_rows(f->db, "PRAGMA journal_mode", got, sizeof got);
    assert_string_equal(got, "wal");
    raw_rows(f->db, SQL_MSG_INDEXES, got, sizeof got);
    assert_string_equal(got, "msg_delete,msg_log,msg_release,msg_state,msg_visible");
    raw_rows(f->db, SQL_OUTBOX_COLUMNS, got, sizeof got);
    assert_string_equal(got, "seq,msg_id,contact_id,attempts,next_at_ms,frame");
}

static void
assert_msg_equal(const struct store_msg *a, const struct store_msg *b)
{
    assert_memory_equal(a->msg_id, b->msg_id, 16);
    assert_int_equal(a->contact_id, b->contact_id);
    assert_int_equal(a->outgoing, b->outgoing);
    assert_int_equal(a->lamport, b->lamport);
    assert_int_equal(a->sender_seq, b->sender_seq);
    assert_int_equal(a->ts_ms, b->ts_ms);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->release_at, b->release_at);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->text_len, b->text_len);
    assert_memory_equal(a->text, b->text, a->text_len + 1);
    assert_int_equal(a->visible_at, b->visible_at);
    assert_int_equal(a->reason, b->reason);
    assert_int_equal(a->is_digest, b->is_digest);
    assert_int_equal(a->tell, b->tell);
    assert_int_equal(a->tell_at, b->tell_at);
}

/* Everything the migration must keep, as the store reads it back. */
struct msg_view {
    struct store_msg *log[2];
    size_t n_log[2];
    struct store_msg *held;
    size_t n_held;
    int64_t *visible;
    size_t n_visible;
    int64_t next_release;
    size_t queued, held_count;
    struct store_outbox *due;
    size_t n_due;
};

static void
msg_view_take(struct store *st, const int64_t cid[2], struct msg_view *v)
{
    memset(v, 0, sizeof *v);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(store_msg_log(st, cid[i], 0, 0, &v->log[i], &v->n_log[i]), KITH_OK);
        for (size_t k = 0; k < v->n_log[i]; k++) {
            struct store_msg one;
            assert_int_equal(store_msg_get(st, v->log[i][k].msg_id, &one), KITH_OK);
            assert_msg_equal(&one, &v->log[i][k]);
            store_msg_free(&one);
        }
    }
    assert_int_equal(store_msg_held(st, 0, &v->held, &v->n_held), KITH_OK);
    assert_int_equal(store_msg_visible_since(st, 0, 0, 0, &v->visible, &v->n_visible), KITH_OK);
    assert_int_equal(store_msg_next_release(st, &v->next_release), KITH_OK);
    assert_int_equal(store_msg_counts(st, &v->queued, &v->held_count), KITH_OK);
    assert_int_equal(store_outbox_due(st, 0, INT64_MAX, 100, &v->due, &v->n_due), KITH_OK);
}

static void
msg_view_assert_same(const struct msg_view *a, const struct msg_view *b)
{
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(a->n_log[i], b->n_log[i]);
        for (size_t k = 0; k < a->n_log[i]; k++) {
            assert_msg_equal(&a->log[i][k], &b->log[i][k]);
        }
    }
    assert_int_equal(a->n_held, b->n_held);
    for (size_t k = 0; k < a->n_held; k++) {
        assert_msg_equal(&a->held[k], &b->held[k]);
    }
    assert_int_equal(a->n_visible, b->n_visible);
    assert_memory_equal(a->visible, b->visible, a->n_visible * sizeof *a->visible);
    assert_int_equal(a->next_release, b->next_release);
    assert_int_equal(a->queued, b->queued);
    assert_int_equal(a->held_count, b->held_count);
    assert_int_equal(a->n_due, b->n_due);
    for (size_t k = 0; k < a->n_due; k++) {
        assert_memory_equal(a->due[k].msg_id, b->due[k].msg_id, 16);
        assert_int_equal(a->due[k].contact_id, b->due[k].contact_id);
        assert_int_equal(a->due[k].attempts, b->due[k].attempts);
        assert_int_equal(a->due[k].next_at_ms, b->due[k].next_at_ms);
        assert_int_equal(a->due[k].frame_len, b->due[k].frame_len);
        assert_memory_equal(a->due[k].frame, b->due[k].frame, a->due[k].frame_len);
    }
}

static void
msg_view_free(struct msg_view *v)
{
    for (size_t i = 0; i < 2; i++) {
        store_msgs_free(v->log[i], v->n_log[i]);
    }
    store_msgs_free(v->held, v->n_held);
    free(v->visible);
    store_outbox_free(v->due, v->n_due);
    memset(v, 0, sizeof *v);
}

/* Messages in every state the changed indexes cover, and two outbox rows. */
static void
fill_for_migration(struct fx *f, int64_t cid[2], uint8_t frame[200])
{
    struct store_disposition d = { 0 };
    uint8_t id[16];

    cid[0] = add_contact(f->st, "Uma", 1);
    cid[1] = add_contact(f->st, "Vic", 2);
    add_msg(f->st, cid[0], 1, 1, 1, true, STORE_MSG_QUEUED, "queued, in the outbox");
    add_msg(f->st, cid[0], 1, 2, 2, true, STORE_MSG_SENT, "sent, in the outbox");
    add_msg(f->st, cid[0], 1, 3, 3, true, STORE_MSG_DELIVERED, "delivered");
    assert_int_equal(store_msg_set_tell(f->st, msg_id_of(id, 1, 3), 2, NOW + 60), KITH_OK);
    add_msg(f->st, cid[0], 2, 1, 4, false, STORE_MSG_RECEIVED, "shown");
    add_msg(f->st, cid[0], 2, 2, 5, false, STORE_MSG_RECEIVED, "held for later");
    add_msg(f->st, cid[0], 2, 3, 6, false, STORE_MSG_RECEIVED, "held in a digest");
    add_msg(f->st, cid[0], 2, 4, 7, false, STORE_MSG_FOLDED, "folded");
    add_msg(f->st, cid[1], 3, 1, 8, true, STORE_MSG_QUEUED, "queued to Vic");
    add_msg(f->st, cid[1], 4, 1, 9, false, STORE_MSG_RECEIVED, "from Vic");
    d.state = STORE_MSG_RECEIVED;
    d.visible_at = NOW + 10;
    assert_int_equal(store_msg_release(f->st, msg_id_of(id, 2, 1), &d), KITH_OK);
    d.visible_at = NOW + 20;
    assert_int_equal(store_msg_release(f->st, msg_id_of(id, 4, 1), &d), KITH_OK);
    d.state = STORE_MSG_HELD;
    d.visible_at = 0;
    d.reason = 3;
    d.release_at = NOW + 300;
    assert_int_equal(store_msg_release(f->st, msg_id_of(id, 2, 2), &d), KITH_OK);
    d.release_at = NOW + 200;
    d.is_digest = true;
    assert_int_equal(store_msg_release(f->st, msg_id_of(id, 2, 3), &d), KITH_OK);
    for (size_t i = 0; i < 200; i++) {
        frame[i] = (uint8_t)(i * 7 + 1);
    }
    assert_int_equal(store_outbox_add(f->st, msg_id_of(id, 1, 1), cid[0], frame, 200, 1000),
                     KITH_OK);
    assert_int_equal(store_outbox_add(f->st, msg_id_of(id, 1, 2), cid[0], frame, 150, 2000),
                     KITH_OK);
    assert_int_equal(store_outbox_reschedule(f->st, id, 2, 2500), KITH_OK);
    assert_int_equal(store_outbox_add(f->st, msg_id_of(id, 3, 1), cid[1], frame + 3, 40, 500),
                     KITH_OK);
}

static void
migration__takes_a_version_4_file_to_7__keeping_messages_and_outbox(void **state)
{
    struct fx *f = *state;
    struct msg_view before, after;
    struct store *fresh = NULL;
    uint8_t frame[200], id[16], key[32], got[32];
    uint8_t new_id[16] = { 0x77 };
    char *migrated = malloc(65536), *made = malloc(65536);
    char path[160];
    int64_t cid[2];

    assert_non_null(migrated);
    assert_non_null(made);
    fx_create(f);
    fill_for_migration(f, cid, frame);
    msg_view_take(f->st, cid, &before);
    /* what the fixture wrote, so "the same after" means something */
    assert_int_equal(before.n_log[0], 7);
    assert_int_equal(before.n_log[1], 2);
    assert_int_equal(before.queued, 3);
    assert_int_equal(before.held_count, 2);
    assert_int_equal(before.n_held, 2);
    assert_int_equal(before.n_visible, 2);
    assert_int_equal(before.next_release, NOW + 200);
    assert_int_equal(before.n_due, 3);
    store_close(f->st);
    f->st = NULL;
    make_schema_4(f);

    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_OK);
    msg_view_take(f->st, cid, &after);
    msg_view_assert_same(&before, &after);
    assert_memory_equal(after.due[0].msg_id, msg_id_of(id, 1, 1), 16); /* insertion order */
    assert_int_equal(after.due[0].frame_len, 200);
    assert_memory_equal(after.due[0].frame, frame, 200);
    assert_int_equal(after.due[1].attempts, 2);
    assert_memory_equal(after.due[2].msg_id, msg_id_of(id, 3, 1), 16);
    /* rows from before the ack column carry no key */
    for (size_t k = 0; k < after.n_due; k++) {
        assert_int_equal(store_outbox_ack_key(f->st, after.due[k].msg_id, got), KITH_ENOTFOUND);
    }
    msg_view_free(&before);
    msg_view_free(&after);
    /* a new row keeps its key */
    for (size_t i = 0; i < sizeof key; i++) {
        key[i] = (uint8_t)(0xc0 ^ i);
    }
    assert_int_equal(store_outbox_add_at(f->st, new_id, cid[1], frame, 64, 1, 3000, key), KITH_OK);
    memset(got, 0, sizeof got);
    assert_int_equal(store_outbox_ack_key(f->st, new_id, got), KITH_OK);
    assert_memory_equal(got, key, 32);
    /* the pending count (msg_pending) follows later writes */
    assert_int_equal(store_msg_set_state(f->st, msg_id_of(id, 1, 1), STORE_MSG_SENT), KITH_OK);
    assert_int_equal(store_msg_set_state(f->st, msg_id_of(id, 1, 2), STORE_MSG_DELIVERED), KITH_OK);
    fx_reopen(f); /* version 7 now: opens without migrating */
    memset(got, 0, sizeof got);
    assert_int_equal(store_outbox_ack_key(f->st, new_id, got), KITH_OK);
    assert_memory_equal(got, key, 32);
    {
        size_t queued = 0, held = 0;
        assert_int_equal(store_msg_counts(f->st, &queued, &held), KITH_OK);
        assert_int_equal(queued, 2);
        assert_int_equal(held, 2);
    }
    store_close(f->st);
    f->st = NULL;

    raw_rows(f->db, "PRAGMA user_version", migrated, 65536);
    assert_string_equal(migrated, "8");
    raw_rows(f->db, SQL_MSG_INDEXES, migrated, 65536);
    assert_string_equal(migrated,
                        "msg_delete,msg_digest,msg_log,msg_outbox,msg_pending,msg_release,"
                        "msg_visible_plain");
    /* the three frames of history messages moved into their rows; the new one stayed */
    raw_rows(f->db, "SELECT count(*) FROM outbox", migrated, 65536);
    assert_string_equal(migrated, "1");
    raw_rows(f->db, "SELECT count(*) FROM msg WHERE ob_frame IS NOT NULL", migrated, 65536);
    assert_string_equal(migrated, "3");
    raw_rows(f->db, SQL_OUTBOX_COLUMNS, migrated, 65536);
    assert_string_equal(migrated, "seq,msg_id,contact_id,attempts,next_at_ms,frame,ack");
    /* and the whole schema is the one a new profile gets */
    snprintf(path, sizeof path, "%s/fresh.db", f->dir);
    assert_int_equal(store_create(path, PASS, strlen(PASS), &STORE_KDF_MIN, &fresh), KITH_OK);
    store_close(fresh);
    raw_rows(f->db, SQL_SCHEMA, migrated, 65536);
    raw_rows(path, SQL_SCHEMA, made, 65536);
    assert_string_equal(migrated, made);
    free(migrated);
    free(made);
}

static void
migration__leaves_a_version_4_file_unchanged__when_it_cannot_complete(void **state)
{
    struct fx *f = *state;
    struct snapshot before;
    uint8_t frame[200];
    char got[512];
    int64_t cid[2];

    fx_create(f);
    fill_for_migration(f, cid, frame);
    store_close(f->st);
    f->st = NULL;
    make_schema_4(f);

    /* every migration statement runs, but a statement of the new code will not prepare
     * (a column it reads is missing): nothing is committed */
    fx_raw(f, "ALTER TABLE msg DROP COLUMN tell_at;");
    snapshot_take(f, &before);
    assert_false(before.has_wal);
    assert_int_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_ECORRUPT);
    assert_null(f->st);
    snapshot_assert_same(f, &before);

    /* a migration statement itself fails (the column it adds is there): the same */
    fx_raw(f, "ALTER TABLE msg ADD COLUMN tell_at INTEGER NOT NULL DEFAULT 0;"
                    "ALTER TABLE outbox ADD COLUMN ack BLOB;");
    snapshot_take(f, &before);
    assert_int_not_equal(store_open(f->db, PASS, strlen(PASS), &f->st), KITH_OK);
    assert_null(f->st);
    snapshot_assert_same(f, &before);

    raw_rows(f->db, "PRAGMA user_version", got, sizeof got);
    assert_string_equal(got, "4");
    raw_rows(f->db, SQL_MSG_INDEXES, got, sizeof got);
    assert_string_equal(got, "msg_delete,msg_log,msg_release,msg_state,msg_visible");
}

static void
canary__plaintext_never_reaches_the_files(void **state)
{
    struct fx *f = *state;
    static const char *const canaries[] = {
        "CANARY-msg-3f9a1c",   "CANARY-name-77b2",    "CANARY-endpoint-19c4",
        "CANARY-setting-8e0d", "CANARY-profile-51aa",
    };
    struct identity *id = identity_generate(NOW);
    struct store_contact c = make_contact(canaries[1], 1);
    char path[160];

    fx_create(f);
    assert_int_equal(store_identity_save(f->st, id, canaries[4]), KITH_OK);
    snprintf(c.endpoints[0], sizeof c.endpoints[0], "tcp://%s:1", canaries[2]);
    assert_int_equal(store_contact_add(f->st, &c), KITH_OK);
    add_msg(f->st, c.id, 1, 1, 1, true, STORE_MSG_QUEUED, canaries[0]);
    assert_int_equal(store_setting_set(f->st, "listen", canaries[3]), KITH_OK);
    assert_int_equal(store_setting_set(f->st, canaries[3], "x"), KITH_OK); /* keys are hashed */
    store_close(f->st);
    f->st = NULL;
    for (size_t i = 0; i < sizeof canaries / sizeof canaries[0]; i++) {
        static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
        for (size_t k = 0; k < 4; k++) {
            snprintf(path, sizeof path, "%s%s", f->db, suffix[k]);
            assert_false(file_contains(path, canaries[i]));
        }
    }
    snprintf(path, sizeof path, "%s/scan.txt", f->dir);
    write_file(path, canaries[0], strlen(canaries[0]));
    assert_true(file_contains(path, canaries[0]));
    identity_destroy(id);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
        T(create__round_trips__identity_and_name_through_reopen),
        T(create__refuses__a_file_with_data),
        T(create__accepts__an_empty_existing_file),
        T(create__refuses__an_existing_profile),
        T(open__reports__a_missing_file),
        T(open__rejects__a_wrong_passphrase_leaving_files_identical),
        T(open__rejects__a_wrong_passphrase_with_a_live_wal_unchanged),
        T(open__refuses__a_text_file_unchanged),
        T(open__refuses__a_foreign_sqlite_database_unchanged),
        T(open__refuses__a_kith_tagged_database_without_kdf_row),
        T(open__refuses__a_newer_schema_version_unchanged),
        T(rekey__opens_with_the_new_passphrase_only),
        T(setting__round_trips__and_overwrites),
        T(contact__round_trips__by_id_name_and_member),
        T(contact__rejects__a_taken_name_case_insensitively_and_a_taken_member),
        T(contact__update__rewrites_every_field),
        T(contacts_list__orders__by_name),
        T(invite__round_trips__and_used_wipes_the_secret_key),
        T(rules__round_trip_sealed__per_contact_and_kind_and_clear),
        T(rules__sealed_under_their_contact__fail_to_open_when_moved),
        T(msg_visible_since__lists_visible_times__digest_once_scope_one_or_all),
        T(msg_held__lists_held_in_sender_order__and_next_release_is_the_earliest),
        T(msg_set_tell__records_the_receipt_on_an_outgoing_message),
        T(session__round_trips__byte_for_byte),
        T(seen__detects__replayed_ephemeral_keys_and_msg_ids),
        T(msg__round_trips__and_counts_queued_and_held),
        T(msg_log__pages__newest_first_returned_oldest_first),
        T(msg_log__orders__equal_lamports_by_direction_then_seq),
        T(counters__lamport_never_repeats_a_committed_time_after_a_rollback_or_a_crash),
        T(counters__tick_lamport_and_track_the_last_sent),
        T(outbox__due_reschedule_wake_remove_and_next_at),
        T(outbox__history_frames_wait_in_their_message_rows),
        T(texts__follow_their_first_text_and_keep_their_own_receipts),
        T(outbox_due__never_misses_a_due_row__through_writes_and_rollbacks),
        T(transactions__roll_back_and_refuse_nesting),
        T(sealed__values_swapped_between_rows_or_columns_fail_to_open),
        T(damaged_rows__are_reported_as_corrupt),
        T(canary__plaintext_never_reaches_the_files),
        T(outbox_ack_key__round_trips_sealed__until_the_row_is_removed),
        T(outbox_ack_key__sealed_under_its_row__fails_to_open_when_moved),
        T(migration__takes_a_version_4_file_to_7__keeping_messages_and_outbox),
        T(migration__leaves_a_version_4_file_unchanged__when_it_cannot_complete),
#undef T
    };

    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
