/*
 * store_repair: the sealed repair replicas (DOMAIN.md §2.5), one row per
 * repair conversation. The replica bytes (repair_serialize) and a kept
 * agreement are sealed under the contact subkey, bound to the contact and
 * the repair id, padded to 256-byte blocks. What stays readable: the random
 * repair id, the contact row it belongs to, open/closed, the next timer and
 * when the row last changed. Statements here are prepared per call: repair
 * steps are human-paced, and the cached table in store.c stays untouched.
 */
#include "core/store_impl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define REPAIR_COLS "repair_id, contact_id, open, deadline, state, agreement"

static void
store_repair_rowkey(int64_t contact_id, const uint8_t repair_id[16], uint8_t rowkey[24])
{
    store_be64(rowkey, contact_id);
    memcpy(rowkey + 8, repair_id, 16);
}

static int
store_repair_prepare(struct store *st, const char *sql, sqlite3_stmt **s)
{
    int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);

    if (rc != SQLITE_OK) {
        sqlite3_finalize(*s);
        *s = NULL;
        return store_rc(rc) == KITH_OK ? KITH_ESTORE : store_rc(rc);
    }
    return KITH_OK;
}

static int64_t
store_repair_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
store_repair_put(struct store *st, int64_t contact_id, const uint8_t repair_id[16], bool is_open,
                 int64_t deadline, const uint8_t *state, size_t len)
{
    static const char sql[] =
        "INSERT INTO repair(repair_id, contact_id, open, deadline, updated, state, agreement)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL) ON CONFLICT(repair_id) DO UPDATE SET"
        " open = ?3, deadline = ?4, updated = ?5, state = ?6, agreement = NULL"
        " WHERE contact_id = ?2";
    uint8_t rowkey[24];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    sqlite3_stmt *s = NULL;
    int rc;

    if (state == NULL || len == 0) {
        return KITH_EINVAL;
    }
    if (len > STORE_REPAIR_MAX) {
        return KITH_ETOOBIG;
    }
    rc = store_repair_prepare(st, sql, &s);
    if (rc != KITH_OK) {
        return rc;
    }
    store_repair_rowkey(contact_id, repair_id, rowkey);
    sealed = store_seal_padded(st, STORE_T_CONTACT, "repair", rowkey, sizeof rowkey, state, len,
                               &sealed_len);
    sqlite3_bind_blob(s, 1, repair_id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, contact_id);
    sqlite3_bind_int(s, 3, is_open ? 1 : 0);
    sqlite3_bind_int64(s, 4, deadline > 0 ? deadline : 0);
    sqlite3_bind_int64(s, 5, store_repair_now_ms());
    sqlite3_bind_blob(s, 6, sealed, (int)sealed_len, SQLITE_STATIC);
    rc = store_changed(st, store_exec_stmt(s)); /* another contact's id: ENOTFOUND */
    sqlite3_finalize(s);
    free(sealed);
    return rc;
}

/* The current row of s into r (both sealed columns opened). */
static int
store_repair_read(struct store *st, sqlite3_stmt *s, struct store_repair *r)
{
    uint8_t rowkey[24];
    uint8_t *pt = NULL;
    size_t pt_cap = 0;
    size_t len = 0;
    int64_t v = 0;
    int rc = KITH_OK;

    memset(r, 0, sizeof *r);
    if (!store_col_blob(s, 0, r->repair_id, 16) || !store_col_int(s, 1, 1, INT64_MAX, &v)) {
        return KITH_ECORRUPT;
    }
    r->contact_id = v;
    if (!store_col_int(s, 2, 0, 1, &v)) {
        return KITH_ECORRUPT;
    }
    r->is_open = v == 1;
    if (!store_col_int(s, 3, 0, INT64_MAX, &r->deadline)) {
        return KITH_ECORRUPT;
    }
    store_repair_rowkey(r->contact_id, r->repair_id, rowkey);
    if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
        rc = store_unseal_padded(st, STORE_T_CONTACT, "repair", rowkey, sizeof rowkey, s, 4,
                                 STORE_REPAIR_MAX, &pt, &pt_cap, &len);
        if (rc == KITH_OK) {
            r->state = xmalloc(len + 1);
            memcpy(r->state, pt, len);
            r->state_len = len;
        }
        store_wipe_free(pt, pt_cap);
        pt = NULL;
    }
    if (rc == KITH_OK && sqlite3_column_type(s, 5) != SQLITE_NULL) {
        rc = store_unseal_padded(st, STORE_T_CONTACT, "repair_agreement", rowkey, sizeof rowkey, s,
                                 5, STORE_REPAIR_TEXT_MAX, &pt, &pt_cap, &len);
        if (rc == KITH_OK) {
            r->agreement = xmalloc(len + 1);
            memcpy(r->agreement, pt, len);
            r->agreement[len] = '\0';
        }
        store_wipe_free(pt, pt_cap);
    }
    if (rc == KITH_OK && r->state == NULL && r->agreement == NULL) {
        rc = KITH_ECORRUPT;
    }
    if (rc != KITH_OK) {
        store_repair_clear(r);
    }
    return rc;
}

int
store_repair_latest(struct store *st, int64_t contact_id, bool open_only, struct store_repair *r)
{
    static const char sql[] = "SELECT " REPAIR_COLS " FROM repair WHERE contact_id = ?1"
                              " AND (?2 = 0 OR open = 1) ORDER BY open DESC, updated DESC LIMIT 1";
    sqlite3_stmt *s = NULL;
    int rc;

    memset(r, 0, sizeof *r);
    rc = store_repair_prepare(st, sql, &s);
    if (rc != KITH_OK) {
        return rc;
    }
    sqlite3_bind_int64(s, 1, contact_id);
    sqlite3_bind_int(s, 2, open_only ? 1 : 0);
    rc = store_step_row(s);
    if (rc == KITH_OK) {
        rc = store_repair_read(st, s, r);
    }
    sqlite3_finalize(s);
    return rc;
}

int
store_repair_get(struct store *st, int64_t contact_id, const uint8_t repair_id[16],
                 struct store_repair *r)
{
    static const char sql[] =
        "SELECT " REPAIR_COLS " FROM repair WHERE repair_id = ?1 AND contact_id = ?2";
    sqlite3_stmt *s = NULL;
    int rc;

    memset(r, 0, sizeof *r);
    rc = store_repair_prepare(st, sql, &s);
    if (rc != KITH_OK) {
        return rc;
    }
    sqlite3_bind_blob(s, 1, repair_id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, contact_id);
    rc = store_step_row(s);
    if (rc == KITH_OK) {
        rc = store_repair_read(st, s, r);
    }
    sqlite3_finalize(s);
    return rc;
}

int
store_repair_keep_agreement(struct store *st, int64_t contact_id, const uint8_t repair_id[16],
                            const char *agreement)
{
    static const char sql[] = "UPDATE repair SET state = NULL, agreement = ?3, deadline = 0"
                              " WHERE repair_id = ?1 AND contact_id = ?2 AND open = 0";
    uint8_t rowkey[24];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    size_t len = agreement != NULL ? strlen(agreement) : 0;
    sqlite3_stmt *s = NULL;
    int rc;

    if (len == 0) {
        return KITH_EINVAL;
    }
    if (len > STORE_REPAIR_TEXT_MAX) {
        return KITH_ETOOBIG;
    }
    rc = store_repair_prepare(st, sql, &s);
    if (rc != KITH_OK) {
        return rc;
    }
    store_repair_rowkey(contact_id, repair_id, rowkey);
    sealed = store_seal_padded(st, STORE_T_CONTACT, "repair_agreement", rowkey, sizeof rowkey,
                               agreement, len, &sealed_len);
    sqlite3_bind_blob(s, 1, repair_id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, contact_id);
    sqlite3_bind_blob(s, 3, sealed, (int)sealed_len, SQLITE_STATIC);
    rc = store_changed(st, store_exec_stmt(s));
    sqlite3_finalize(s);
    free(sealed);
    return rc;
}

int
store_repair_delete(struct store *st, int64_t contact_id, const uint8_t repair_id[16])
{
    static const char sql[] = "DELETE FROM repair WHERE repair_id = ?1 AND contact_id = ?2";
    sqlite3_stmt *s = NULL;
    int rc = store_repair_prepare(st, sql, &s);

    if (rc != KITH_OK) {
        return rc;
    }
    sqlite3_bind_blob(s, 1, repair_id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, contact_id);
    rc = store_changed(st, store_exec_stmt(s));
    sqlite3_finalize(s);
    return rc;
}

int
store_repair_due(struct store *st, int64_t now_s, struct store_repair_ref out[STORE_REPAIR_DUE_MAX],
                 size_t *n)
{
    static const char sql[] = "SELECT repair_id, contact_id FROM repair WHERE open = 1"
                              " AND deadline > 0 AND deadline <= ?1 ORDER BY deadline LIMIT ?2";
    sqlite3_stmt *s = NULL;
    int rc = store_repair_prepare(st, sql, &s);
    int step;

    *n = 0;
    if (rc != KITH_OK) {
        return rc;
    }
    sqlite3_bind_int64(s, 1, now_s);
    sqlite3_bind_int(s, 2, STORE_REPAIR_DUE_MAX);
    while ((step = sqlite3_step(s)) == SQLITE_ROW && *n < STORE_REPAIR_DUE_MAX) {
        int64_t contact_id = 0;
        if (!store_col_blob(s, 0, out[*n].repair_id, 16) ||
            !store_col_int(s, 1, 1, INT64_MAX, &contact_id)) {
            rc = KITH_ECORRUPT;
            break;
        }
        out[*n].contact_id = contact_id;
        (*n)++;
    }
    if (rc == KITH_OK && step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = store_rc(step);
    }
    sqlite3_finalize(s);
    return rc;
}

int
store_repair_next_deadline(struct store *st, int64_t *at)
{
    static const char sql[] = "SELECT min(deadline) FROM repair WHERE open = 1 AND deadline > 0";
    sqlite3_stmt *s = NULL;
    int rc = store_stmt_lazy(st, S_LAZY_REPAIR_NEXT, sql, &s); /* every loop pass: cached */

    *at = 0;
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_step_row(s);
    if (rc == KITH_OK && !store_col_int(s, 0, 1, INT64_MAX, at)) {
        rc = KITH_ENOTFOUND; /* min() of no rows is NULL */
    }
    store_done(s);
    return rc;
}

void
store_repair_clear(struct store_repair *r)
{
    if (r == NULL) {
        return;
    }
    store_wipe_free(r->state, r->state_len + (r->state != NULL ? 1 : 0));
    if (r->agreement != NULL) {
        store_wipe_free((uint8_t *)r->agreement, strlen(r->agreement) + 1);
    }
    memset(r, 0, sizeof *r);
}
