/*
 * store_retention: disappearing messages and moving addresses (schema 3).
 * One contact_pref row per contact holds the retention in force (clear: the
 * delete_at of every message reveals it anyway), the sealed agreement state
 * and the seq of the last endpoint record applied. Messages carry delete_at;
 * a message still in the outbox is never deleted. Statements are prepared per
 * call: these run at human pace or once per deletion pass; the few that run per
 * message or per loop pass are cached (store_stmt_lazy).
 */
#include "core/store_impl.h"

#include <stdlib.h>
#include <string.h>

static int
store_pref_prepare(struct store *st, const char *sql, sqlite3_stmt **s)
{
    int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);

    if (rc != SQLITE_OK) {
        sqlite3_finalize(*s);
        *s = NULL;
        return store_rc(rc) == KITH_OK ? KITH_ESTORE : store_rc(rc);
    }
    return KITH_OK;
}

/* Run a statement that returns no rows and finalize it. */
static int
store_pref_run(struct store *st, sqlite3_stmt *s, bool must_change)
{
    int rc = sqlite3_step(s);

    rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? KITH_OK : store_rc(rc);
    if (rc == KITH_OK && must_change && sqlite3_changes(st->db) == 0) {
        rc = KITH_ENOTFOUND;
    }
    sqlite3_finalize(s);
    return rc;
}

int
store_retention_put(struct store *st, int64_t contact_id, uint32_t seconds, const uint8_t *state,
                    size_t len)
{
    static const char sql[] =
        "INSERT INTO contact_pref(contact_id, retention_s, retention) VALUES (?1, ?2, ?3)"
        " ON CONFLICT(contact_id) DO UPDATE SET retention_s = ?2, retention = ?3";
    uint8_t rowkey[8];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    sqlite3_stmt *s = NULL;
    int rc;

    if (state == NULL || len == 0) {
        return KITH_EINVAL;
    }
    if (len > STORE_RETENTION_MAX) {
        return KITH_ETOOBIG;
    }
    rc = store_pref_prepare(st, sql, &s);
    if (rc != KITH_OK) {
        return rc;
    }
    store_be64(rowkey, contact_id);
    sealed = store_seal_padded(st, STORE_T_CONTACT, "retention", rowkey, sizeof rowkey, state, len,
                               &sealed_len);
    sqlite3_bind_int64(s, 1, contact_id);
    sqlite3_bind_int64(s, 2, seconds);
    sqlite3_bind_blob(s, 3, sealed, (int)sealed_len, SQLITE_STATIC);
    rc = store_pref_run(st, s, false); /* a missing contact fails the foreign key */
    free(sealed);
    return rc;
}

int
store_retention_get(struct store *st, int64_t contact_id, uint8_t *buf, size_t cap, size_t *len)
{
    static const char sql[] = "SELECT retention FROM contact_pref WHERE contact_id = ?1";
    uint8_t rowkey[8];
    uint8_t *pt = NULL;
    size_t pt_cap = 0;
    size_t value_len = 0;
    sqlite3_stmt *s = NULL;
    int rc;

    *len = 0;
    rc = store_pref_prepare(st, sql, &s);
    if (rc != KITH_OK) {
        return rc;
    }
    store_be64(rowkey, contact_id);
    sqlite3_bind_int64(s, 1, contact_id);
    rc = store_step_row(s);
    if (rc == KITH_OK && sqlite3_column_type(s, 0) == SQLITE_NULL) {
        rc = KITH_ENOTFOUND;
    } else if (rc == KITH_OK) {
        rc = store_unseal_padded(st, STORE_T_CONTACT, "retention", rowkey, sizeof rowkey, s, 0,
                                 STORE_RETENTION_MAX, &pt, &pt_cap, &value_len);
    }
    sqlite3_finalize(s);
    if (rc == KITH_OK && value_len > cap) {
        rc = KITH_ETOOBIG;
    }
    if (rc == KITH_OK) {
        memcpy(buf, pt, value_len);
        *len = value_len;
    }
    store_wipe_free(pt, pt_cap);
    return rc;
}

/* One integer column of a contact's contact_pref row; 0 when there is no row. */
static int
store_pref_int(struct store *st, const char *sql, int64_t contact_id, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = store_pref_prepare(st, sql, &s);

    *out = 0;
    if (rc != KITH_OK) {
        return rc;
    }
    sqlite3_bind_int64(s, 1, contact_id);
    rc = store_step_row(s);
    if (rc == KITH_OK && !store_col_int(s, 0, INT64_MIN, INT64_MAX, out)) {
        rc = KITH_ECORRUPT;
    }
    sqlite3_finalize(s);
    return rc == KITH_ENOTFOUND ? KITH_OK : rc;
}

int
store_retention_seconds(struct store *st, int64_t contact_id, uint32_t *seconds)
{
    sqlite3_stmt *s = NULL;
    int64_t v = 0;
    /* Every message sent or received asks: cached. */
    int rc = store_stmt_lazy(st, S_LAZY_RETENTION_S,
                             "SELECT retention_s FROM contact_pref WHERE contact_id = ?1", &s);

    *seconds = 0;
    if (rc == KITH_OK) {
        sqlite3_bind_int64(s, 1, contact_id);
        rc = store_step_row(s);
        if (rc == KITH_OK && !store_col_int(s, 0, INT64_MIN, INT64_MAX, &v)) {
            rc = KITH_ECORRUPT;
        }
        store_done(s);
        rc = rc == KITH_ENOTFOUND ? KITH_OK : rc;
    }
    if (rc == KITH_OK && (v < 0 || v > UINT32_MAX)) {
        rc = KITH_ECORRUPT;
    }
    if (rc == KITH_OK) {
        *seconds = (uint32_t)v;
    }
    return rc;
}

int
store_endpoint_seq_get(struct store *st, int64_t contact_id, uint64_t *seq)
{
    int64_t v = 0;
    int rc = store_pref_int(st, "SELECT endpoint_seq FROM contact_pref WHERE contact_id = ?1",
                            contact_id, &v);

    *seq = rc == KITH_OK ? (uint64_t)v : 0; /* stored as the same 64 bits */
    return rc;
}

int
store_endpoint_seq_set(struct store *st, int64_t contact_id, uint64_t seq)
{
    static const char sql[] = "INSERT INTO contact_pref(contact_id, endpoint_seq) VALUES (?1, ?2)"
                              " ON CONFLICT(contact_id) DO UPDATE SET endpoint_seq = ?2";
    sqlite3_stmt *s = NULL;
    int rc = store_pref_prepare(st, sql, &s);

    if (rc != KITH_OK) {
        return rc;
    }
    sqlite3_bind_int64(s, 1, contact_id);
    sqlite3_bind_int64(s, 2, (int64_t)seq);
    return store_pref_run(st, s, false);
}

int
store_msg_set_delete_at(struct store *st, const uint8_t msg_id[16], int64_t at)
{
    sqlite3_stmt *s = NULL;
    int rc = store_pref_prepare(st, "UPDATE msg SET delete_at = ?2 WHERE msg_id = ?1", &s);

    if (rc != KITH_OK) {
        return rc;
    }
    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, at > 0 ? at : 0);
    return store_pref_run(st, s, true);
}

int
store_msg_delete_at(struct store *st, const uint8_t msg_id[16], int64_t *at)
{
    sqlite3_stmt *s = NULL;
    int rc = store_pref_prepare(st, "SELECT delete_at FROM msg WHERE msg_id = ?1", &s);

    *at = 0;
    if (rc != KITH_OK) {
        return rc;
    }
    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    rc = store_step_row(s);
    if (rc == KITH_OK && !store_col_int(s, 0, 0, INT64_MAX, at)) {
        rc = KITH_ECORRUPT;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Rows that may go: due, and not waiting for delivery or expiry (in the outbox, or, for the
 * other texts of a TEXTS frame, behind its first text's row). */
#define STORE_DELETABLE                                                                            \
    "delete_at > 0 AND ob_next_at IS NULL AND NOT (outgoing = 1 AND state IN (0, 1))"

int
store_msg_next_delete(struct store *st, int64_t *at)
{
    sqlite3_stmt *s = NULL;
    int rc = store_stmt_lazy(st, S_LAZY_MSG_NEXT_DELETE, /* every loop pass: cached */
                             "SELECT min(delete_at) FROM msg WHERE " STORE_DELETABLE, &s);

    *at = 0;
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_step_row(s);
    if (rc == KITH_OK && sqlite3_column_type(s, 0) == SQLITE_NULL) {
        rc = KITH_ENOTFOUND;
    } else if (rc == KITH_OK && !store_col_int(s, 0, 1, INT64_MAX, at)) {
        rc = KITH_ECORRUPT;
    }
    store_done(s);
    return rc;
}

int
store_msg_delete_due(struct store *st, int64_t now_s, size_t *deleted)
{
    sqlite3_stmt *s = NULL;
    int rc =
        store_pref_prepare(st, "DELETE FROM msg WHERE delete_at <= ?1 AND " STORE_DELETABLE, &s);

    *deleted = 0;
    if (rc != KITH_OK) {
        return rc;
    }
    sqlite3_bind_int64(s, 1, now_s);
    rc = sqlite3_step(s);
    rc = rc == SQLITE_DONE ? KITH_OK : store_rc(rc);
    if (rc == KITH_OK) {
        *deleted = (size_t)sqlite3_changes(st->db);
    }
    sqlite3_finalize(s);
    return rc;
}

int
store_checkpoint(struct store *st)
{
    int rc;

    if (!sqlite3_get_autocommit(st->db)) {
        return KITH_ESTATE;
    }
    rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    return rc == SQLITE_OK ? KITH_OK : store_rc(rc);
}
