/*
 * store_fuzz: a fuzzed database image (PROTOCOL-NOTES.md §4.3 item 7) written
 * to a private temp file and opened with a fixed passphrase; if it unlocks,
 * every reader runs over it (contacts, each conversation's log, identity,
 * settings, invites, outbox, circles with their op log, own key and
 * history). Invariants: no crash, every error is a clean KITH_E* code, and
 * a refused image is left byte-identical on disk.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/store.h"

#define FUZZ_PASS "kith-fuzz"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[64];
static char fuzz_db[128];
static char fuzz_wal[160];
static char fuzz_shm[160];

static void
fuzz_cleanup(void)
{
    unlink(fuzz_db);
    unlink(fuzz_wal);
    unlink(fuzz_shm);
    rmdir(fuzz_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (sodium_init() < 0) {
        abort();
    }
    snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/kith-store-fuzz-XXXXXX");
    if (mkdtemp(fuzz_dir) == NULL) {
        abort();
    }
    snprintf(fuzz_db, sizeof fuzz_db, "%s/profile.db", fuzz_dir);
    snprintf(fuzz_wal, sizeof fuzz_wal, "%s-wal", fuzz_db);
    snprintf(fuzz_shm, sizeof fuzz_shm, "%s-shm", fuzz_db);
    atexit(fuzz_cleanup);
    return 0;
}

static bool
fuzz_is_clean_error(int rc)
{
    return rc == KITH_OK || (rc <= KITH_EINVAL && rc >= KITH_ENOENGINE);
}

static void
fuzz_check(int rc)
{
    if (!fuzz_is_clean_error(rc)) {
        abort();
    }
}

static bool
fuzz_file_equals(const uint8_t *data, size_t size)
{
    FILE *fp = fopen(fuzz_db, "rb");
    uint8_t *buf = malloc(size + 1);
    bool same;

    if (fp == NULL || buf == NULL) {
        abort();
    }
    same = fread(buf, 1, size + 1, fp) == size && (size == 0 || memcmp(buf, data, size) == 0);
    fclose(fp);
    free(buf);
    return same;
}

/* Circle rows and what hangs off them by row id (frames, chains and relays are keyed by member
 * ids the database holds only as hashes, so a reader cannot enumerate them). */
static void
fuzz_read_circles(struct store *st)
{
    struct store_circle *circles = NULL;
    size_t n = 0;

    fuzz_check(store_circles_list(st, &circles, &n));
    for (size_t i = 0; i < n; i++) {
        struct store_cmsg *log = NULL;
        struct store_circle c;
        uint8_t *buf = NULL;
        size_t len = 0;

        fuzz_check(store_circle_by_name(st, circles[i].name, &c));
        fuzz_check(store_circle_by_cid(st, circles[i].circle_id, &c));
        fuzz_check(store_circle_ops_get(st, circles[i].id, &buf, &len));
        store_blob_free(buf, len);
        buf = NULL;
        fuzz_check(store_circle_own_key_get(st, circles[i].id, &buf, &len));
        store_blob_free(buf, len);
        fuzz_check(store_cmsg_log(st, circles[i].id, 20, 0, &log, &len));
        store_cmsgs_free(log, len);
    }
    free(circles);
}

static void
fuzz_read_everything(struct store *st)
{
    struct store_contact *cs = NULL;
    struct store_outbox *rows = NULL;
    struct identity *id = NULL;
    char name[KITH_STORE_NAME_BUF];
    char *value = NULL;
    size_t n = 0, a = 0, b = 0;
    int64_t next = 0;

    fuzz_check(store_identity_load(st, &id, name));
    identity_destroy(id);
    fuzz_check(store_setting_get(st, "listen", &value));
    free(value);
    fuzz_check(store_msg_counts(st, &a, &b));
    fuzz_check(store_invites_open(st, 0, &a));
    fuzz_check(store_outbox_next_at(st, &next));
    fuzz_check(store_outbox_due(st, 0, INT64_MAX, 64, &rows, &n));
    store_outbox_free(rows, n);
    fuzz_check(store_msg_next_release(st, &next));
    {
        struct store_msg *held = NULL;
        int64_t *times = NULL;
        fuzz_check(store_msg_held(st, 0, &held, &n));
        store_msgs_free(held, n);
        fuzz_check(store_msg_visible_since(st, 0, 0, 0, &times, &n));
        free(times);
    }
    fuzz_read_circles(st);
    fuzz_check(store_contacts_list(st, &cs, &n));
    for (size_t i = 0; i < n; i++) {
        struct store_msg *log = NULL;
        struct store_contact c;
        struct session *s = NULL;
        size_t count = 0;

        fuzz_check(store_msg_log(st, cs[i].id, 20, 0, &log, &count));
        store_msgs_free(log, count);
        fuzz_check(store_contact_by_name(st, cs[i].name, &c));
        fuzz_check(store_session_load(st, cs[i].id, &s));
        session_destroy(s);
        for (int kind = STORE_RULES_OURS; kind <= STORE_RULES_TOLD; kind++) {
            uint8_t *rules = NULL;
            size_t len = 0;
            fuzz_check(store_rules_get(st, cs[i].id, (enum store_rules_kind)kind, &rules, &len));
            store_rules_free(rules, len);
        }
    }
    free(cs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct store *st = NULL;
    FILE *fp;
    int rc;

    unlink(fuzz_wal);
    unlink(fuzz_shm);
    fp = fopen(fuzz_db, "wb");
    if (fp == NULL || (size > 0 && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0) {
        abort();
    }
    rc = store_open(fuzz_db, FUZZ_PASS, strlen(FUZZ_PASS), &st);
    fuzz_check(rc);
    if (rc == KITH_OK) {
        fuzz_read_everything(st);
        store_close(st);
    } else if (st != NULL || !fuzz_file_equals(data, size)) {
        abort(); /* a refused image must be left exactly as it was */
    }
    unlink(fuzz_db);
    unlink(fuzz_wal);
    unlink(fuzz_shm);
    return 0;
}
