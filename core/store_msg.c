/*
 * store_msg: messages (add, state, log, counts), the lamport clock and
 * per-conversation sequence counters, and the outbox of sealed frames
 * waiting to be sent, all through the helpers in store.c (store_impl.h).
 */
#include "core/store_impl.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/limits.h"

/* ---- messages ---- */

static int store_outbox_seal(struct store *st, const uint8_t msg_id[16], const uint8_t *frame,
                             size_t frame_len, const uint8_t ack_key[32], uint8_t **sealed,
                             size_t *sealed_len, uint8_t **ack, size_t *ack_len);
static void store_outbox_hint_lower(struct store *st, int64_t next_at_ms);

int
store_msg_add(struct store *st, const struct store_msg *m)
{
    return store_msg_add_queued(st, m, NULL);
}

int
store_msg_add_queued(struct store *st, const struct store_msg *m, const struct store_msg_frame *f)
{
    uint8_t *sealed = NULL;
    uint8_t *frame = NULL;
    uint8_t *ack = NULL;
    size_t sealed_len = 0;
    size_t frame_len = 0;
    size_t ack_len = 0;
    sqlite3_stmt *s;
    int rc;

    if (m == NULL || (m->text == NULL && m->text_len != 0) || m->state < STORE_MSG_QUEUED ||
        m->state > STORE_MSG_EXPIRED || m->lamport >= (uint64_t)INT64_MAX ||
        m->sender_seq > (uint64_t)INT64_MAX) {
        return KITH_EINVAL;
    }
    if (m->visible_at < 0 || m->reason < 0 || m->reason > STORE_REASON_MAX || m->tell < 0 ||
        m->tell > STORE_TELL_MAX || m->tell_at < 0) {
        return KITH_EINVAL;
    }
    if (m->text_len > KITH_BODY_MAX) {
        return KITH_ETOOBIG;
    }
    if (f != NULL) {
        if (!m->outgoing) {
            return KITH_EINVAL;
        }
        rc = store_outbox_seal(st, m->msg_id, f->frame, f->len, f->ack_key, &frame, &frame_len,
                               &ack, &ack_len);
        if (rc != KITH_OK) {
            return rc;
        }
    }
    sealed = store_seal_padded(st, STORE_T_MSG, "body", m->msg_id, 16, m->text, m->text_len,
                               &sealed_len);
    s = store_stmt(st, S_MSG_ADD);
    sqlite3_bind_blob(s, 1, m->msg_id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, m->contact_id);
    sqlite3_bind_int(s, 3, m->outgoing ? 1 : 0);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)m->lamport);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)m->sender_seq);
    sqlite3_bind_int64(s, 6, m->ts_ms);
    sqlite3_bind_int(s, 7, m->state);
    sqlite3_bind_int64(s, 8, m->release_at);
    sqlite3_bind_int(s, 9, m->flags);
    sqlite3_bind_blob(s, 10, sealed, (int)sealed_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 11, m->visible_at);
    sqlite3_bind_int(s, 12, m->reason);
    sqlite3_bind_int(s, 13, m->is_digest ? 1 : 0);
    sqlite3_bind_int(s, 14, m->tell);
    sqlite3_bind_int64(s, 15, m->tell_at);
    sqlite3_bind_int64(s, 16, f != NULL ? f->attempts : 0);
    if (f != NULL) {
        sqlite3_bind_int64(s, 17, f->next_at_ms);
        sqlite3_bind_blob(s, 18, frame, (int)frame_len, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 17);
        sqlite3_bind_null(s, 18);
    }
    if (ack != NULL) {
        sqlite3_bind_blob(s, 19, ack, (int)ack_len, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 19);
    }
    rc = store_exec_stmt(s);
    if (rc == KITH_OK && f != NULL) {
        store_outbox_hint_lower(st, f->next_at_ms);
    }
    free(sealed);
    free(frame);
    free(ack);
    return rc;
}

int
store_msg_set_state(struct store *st, const uint8_t msg_id[16], int state)
{
    sqlite3_stmt *s;

    if (state < STORE_MSG_QUEUED || state > STORE_MSG_EXPIRED) {
        return KITH_EINVAL;
    }
    s = store_stmt(st, S_MSG_STATE);
    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, state);
    return store_changed(st, store_exec_stmt(s));
}

int
store_msg_state(struct store *st, const uint8_t msg_id[16], int *state)
{
    sqlite3_stmt *s = store_stmt(st, S_MSG_GET_STATE);
    int64_t v = 0;
    int rc;

    *state = 0;
    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    rc = store_step_row(s);
    if (rc == KITH_OK && !store_col_int(s, 0, STORE_MSG_QUEUED, STORE_MSG_EXPIRED, &v)) {
        rc = KITH_ECORRUPT;
    }
    store_done(s);
    if (rc == KITH_OK) {
        *state = (int)v;
    }
    return rc;
}

int
store_msg_mark_sent(struct store *st, const uint8_t msg_id[16])
{
    sqlite3_stmt *s = store_stmt(st, S_MSG_SENT);

    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    return store_changed(st, store_exec_stmt(s));
}

/* Decode the current row of a MSG_COLS query into m (text malloc'd). */
static int
store_msg_row(const struct store *st, sqlite3_stmt *s, struct store_msg *m)
{
    uint8_t *pt = NULL;
    size_t pt_cap = 0, len = 0;
    int64_t contact_id, outgoing, lamport, seq, ts, state, release_at, flags;
    int64_t visible_at, reason, digest, tell, tell_at;
    int rc;

    memset(m, 0, sizeof *m);
    if (!store_col_blob(s, 0, m->msg_id, 16) ||
        !store_col_int(s, 1, INT64_MIN, INT64_MAX, &contact_id) ||
        !store_col_int(s, 2, 0, 1, &outgoing) || !store_col_int(s, 3, 0, INT64_MAX, &lamport) ||
        !store_col_int(s, 4, 0, INT64_MAX, &seq) ||
        !store_col_int(s, 5, INT64_MIN, INT64_MAX, &ts) ||
        !store_col_int(s, 6, STORE_MSG_QUEUED, STORE_MSG_EXPIRED, &state) ||
        !store_col_int(s, 7, INT64_MIN, INT64_MAX, &release_at) ||
        !store_col_int(s, 8, 0, UINT16_MAX, &flags) ||
        !store_col_int(s, 10, 0, INT64_MAX, &visible_at) ||
        !store_col_int(s, 11, 0, STORE_REASON_MAX, &reason) || !store_col_int(s, 12, 0, 1, &digest) ||
        !store_col_int(s, 13, 0, STORE_TELL_MAX, &tell) ||
        !store_col_int(s, 14, 0, INT64_MAX, &tell_at)) {
        memset(m, 0, sizeof *m);
        return KITH_ECORRUPT;
    }
    rc = store_unseal_padded(st, STORE_T_MSG, "body", m->msg_id, 16, s, 9, KITH_BODY_MAX, &pt,
                             &pt_cap, &len);
    if (rc != KITH_OK) {
        memset(m, 0, sizeof *m);
        return rc;
    }
    m->contact_id = contact_id;
    m->outgoing = outgoing != 0;
    m->lamport = (uint64_t)lamport;
    m->sender_seq = (uint64_t)seq;
    m->ts_ms = ts;
    m->state = (int)state;
    m->release_at = release_at;
    m->flags = (uint16_t)flags;
    m->visible_at = visible_at;
    m->reason = (int)reason;
    m->is_digest = digest != 0;
    m->tell = (int)tell;
    m->tell_at = tell_at;
    m->text = xmalloc(len + 1);
    memcpy(m->text, pt, len + 1);
    m->text_len = len;
    store_wipe_free(pt, pt_cap);
    return KITH_OK;
}

int
store_msg_get(struct store *st, const uint8_t msg_id[16], struct store_msg *m)
{
    sqlite3_stmt *s = store_stmt(st, S_MSG_GET);
    int rc;

    memset(m, 0, sizeof *m);
    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    rc = store_step_row(s);
    if (rc == KITH_OK) {
        rc = store_msg_row(st, s, m);
    }
    store_done(s);
    return rc;
}

/* Step a bound statement to its end, decoding every row into a malloc'd array
 * (*out, *n). A damaged row stops it with that row's error and frees the rest. */
static int
store_msg_collect(struct store *st, sqlite3_stmt *s, struct store_msg **out, size_t *n)
{
    struct store_msg *list = NULL;
    size_t count = 0, cap = 0;
    int rc;

    while ((rc = store_step_row(s)) == KITH_OK) {
        if (count == cap) {
            cap = cap == 0 ? 16 : cap * 2;
            list = xrealloc(list, cap * sizeof *list);
        }
        rc = store_msg_row(st, s, &list[count]);
        if (rc != KITH_OK) {
            break;
        }
        count++;
    }
    store_done(s);
    if (rc != KITH_ENOTFOUND) {
        store_msgs_free(list, count);
        return rc;
    }
    *out = list;
    *n = count;
    return KITH_OK;
}

int
store_msg_log(struct store *st, int64_t contact_id, size_t limit, uint64_t before_lamport,
              struct store_msg **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, S_MSG_LOG);

    *out = NULL;
    *n = 0;
    sqlite3_bind_int64(s, 1, contact_id);
    sqlite3_bind_int64(s, 2,
                       before_lamport == 0 || before_lamport > (uint64_t)INT64_MAX
                           ? INT64_MAX
                           : (sqlite3_int64)before_lamport);
    sqlite3_bind_int64(s, 3, limit == 0 || limit > (size_t)INT64_MAX ? -1 : (sqlite3_int64)limit);
    return store_msg_collect(st, s, out, n);
}

int
store_msg_counts(struct store *st, size_t *queued, size_t *held)
{
    sqlite3_stmt *s = store_stmt(st, S_MSG_COUNTS);
    int64_t q = 0, h = 0;
    int rc;

    *queued = 0;
    *held = 0;
    rc = store_step_row(s);
    if (rc == KITH_OK &&
        (!store_col_int(s, 0, 0, INT64_MAX, &q) || !store_col_int(s, 1, 0, INT64_MAX, &h))) {
        rc = KITH_ECORRUPT;
    }
    store_done(s);
    if (rc == KITH_OK) {
        *queued = (size_t)q;
        *held = (size_t)h;
    }
    return rc;
}

/* One arm of store_msg_visible_since: its times, newest first, appended to *list. */
static int
store_msg_visible_arm(struct store *st, enum store_stmt id, int64_t contact_id, int64_t since,
                      size_t limit, int64_t **list, size_t *count, size_t *cap)
{
    bool digests = id == S_MSG_VISIBLE_DIGEST; /* one row per statement, below the last */
    int64_t below = INT64_MAX;
    size_t found = 0;
    sqlite3_stmt *s = store_stmt(st, id);
    int rc;

    sqlite3_bind_int64(s, 1, contact_id > 0 ? contact_id : 0);
    sqlite3_bind_int64(s, 2, since > 0 ? since : 1); /* 0 means "not visible yet" */
    if (digests) {
        sqlite3_bind_int64(s, 4, below);
    } else {
        sqlite3_bind_int64(s, 3, limit > 0 && limit < INT64_MAX ? (int64_t)limit : -1);
    }
    while ((rc = store_step_row(s)) == KITH_OK) {
        if (*count == *cap) {
            *cap = *cap == 0 ? 32 : *cap * 2;
            *list = xrealloc(*list, *cap * sizeof **list);
        }
        if (!store_col_int(s, 0, 1, INT64_MAX, &(*list)[*count])) {
            rc = KITH_ECORRUPT;
            break;
        }
        below = (*list)[(*count)++];
        found++;
        if (digests) {
            if (limit > 0 && found >= limit) {
                rc = KITH_ENOTFOUND; /* enough */
                break;
            }
            sqlite3_reset(s); /* the next distinct time: bindings stay */
            sqlite3_bind_int64(s, 4, below);
        }
    }
    store_done(s);
    return rc == KITH_ENOTFOUND ? KITH_OK : rc;
}

int
store_msg_visible_since(struct store *st, int64_t contact_id, int64_t since, size_t limit,
                        int64_t **out, size_t *n)
{
    int64_t *list = NULL;
    int64_t *merged;
    size_t count = 0, cap = 0, plain, take, i, j;
    int rc;

    *out = NULL;
    *n = 0;
    rc = store_msg_visible_arm(st, S_MSG_VISIBLE, contact_id, since, limit, &list, &count, &cap);
    plain = count;
    if (rc == KITH_OK) {
        rc = store_msg_visible_arm(st, S_MSG_VISIBLE_DIGEST, contact_id, since, limit, &list,
                                   &count, &cap);
    }
    if (rc != KITH_OK || count == 0) {
        free(list);
        return rc;
    }
    /* Both arms are newest first: merge the newest `limit`, then write them oldest first. */
    take = limit > 0 && limit < count ? limit : count;
    merged = xmalloc(take * sizeof *merged);
    i = 0;
    j = plain;
    for (size_t k = take; k > 0; k--) {
        bool from_plain = j == count || (i < plain && list[i] >= list[j]);
        merged[k - 1] = from_plain ? list[i++] : list[j++];
    }
    free(list);
    *out = merged;
    *n = take;
    return KITH_OK;
}

int
store_msg_held(struct store *st, int64_t contact_id, struct store_msg **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, S_MSG_HELD);

    *out = NULL;
    *n = 0;
    sqlite3_bind_int64(s, 1, contact_id > 0 ? contact_id : 0);
    return store_msg_collect(st, s, out, n);
}

int
store_msg_next_release(struct store *st, int64_t *release_at)
{
    sqlite3_stmt *s = store_stmt(st, S_MSG_NEXT_RELEASE);
    int64_t v = 0;
    int rc;

    *release_at = 0;
    rc = store_step_row(s);
    if (rc == KITH_OK && sqlite3_column_type(s, 0) == SQLITE_NULL) {
        rc = KITH_ENOTFOUND;
    } else if (rc == KITH_OK && !store_col_int(s, 0, INT64_MIN, INT64_MAX, &v)) {
        rc = KITH_ECORRUPT;
    }
    store_done(s);
    if (rc == KITH_OK) {
        *release_at = v;
    }
    return rc;
}

int
store_msg_release(struct store *st, const uint8_t msg_id[16], const struct store_disposition *d)
{
    sqlite3_stmt *s;

    if (d == NULL || d->state < STORE_MSG_QUEUED || d->state > STORE_MSG_EXPIRED ||
        d->reason < 0 || d->reason > STORE_REASON_MAX || d->visible_at < 0) {
        return KITH_EINVAL;
    }
    s = store_stmt(st, S_MSG_RELEASE);
    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, d->state);
    sqlite3_bind_int(s, 3, d->reason);
    sqlite3_bind_int64(s, 4, d->release_at);
    sqlite3_bind_int64(s, 5, d->visible_at);
    sqlite3_bind_int(s, 6, d->is_digest ? 1 : 0);
    return store_changed(st, store_exec_stmt(s));
}

/* What the receiver's boundaries did, written with S_MSG_TELL or S_MSG_DELIVERED. */
static int
store_msg_tell_write(struct store *st, enum store_stmt stmt, const uint8_t msg_id[16], int tell,
                     int64_t tell_at)
{
    sqlite3_stmt *s;

    if (tell < 0 || tell > STORE_TELL_MAX || tell_at < 0) {
        return KITH_EINVAL;
    }
    s = store_stmt(st, stmt);
    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, tell);
    sqlite3_bind_int64(s, 3, tell_at);
    return store_changed(st, store_exec_stmt(s));
}

int
store_msg_set_tell(struct store *st, const uint8_t msg_id[16], int tell, int64_t tell_at)
{
    return store_msg_tell_write(st, S_MSG_TELL, msg_id, tell, tell_at);
}

int
store_msg_set_delivered(struct store *st, const uint8_t msg_id[16], int tell, int64_t tell_at)
{
    return store_msg_tell_write(st, S_MSG_DELIVERED, msg_id, tell, tell_at);
}

int
store_msg_acknowledged(struct store *st, const uint8_t msg_id[16], int tell, int64_t tell_at)
{
    return store_msg_tell_write(st, S_MSG_ACKED, msg_id, tell, tell_at);
}

int
store_msg_texts_follow(struct store *st, const uint8_t msg_id[16], int state, int tell,
                       int64_t tell_at)
{
    sqlite3_stmt *s;
    uint8_t last[16];
    int rc;

    if (msg_id[15] != 0) {
        return KITH_OK; /* not a TEXTS frame's first text */
    }
    if ((state != STORE_MSG_SENT && state != STORE_MSG_DELIVERED && state != STORE_MSG_EXPIRED) ||
        tell < 0 || tell > STORE_TELL_MAX || tell_at < 0) {
        return KITH_EINVAL;
    }
    memcpy(last, msg_id, 16);
    last[15] = KITH_TEXTS_MAX;
    s = store_stmt(st, S_MSG_TEXTS_FOLLOW);
    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, last, 16, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, state);
    /* only forward, and only from QUEUED or SENT: below SENT, DELIVERED, or DELIVERED */
    sqlite3_bind_int(s, 4, state < STORE_MSG_DELIVERED ? state : STORE_MSG_DELIVERED);
    sqlite3_bind_int(s, 5, tell);
    sqlite3_bind_int64(s, 6, tell_at);
    rc = store_exec_stmt(s);
    return rc;
}

int
store_msg_text_told(struct store *st, const uint8_t msg_id[16], int64_t contact_id, int tell,
                    int64_t tell_at)
{
    sqlite3_stmt *s;

    if (msg_id[15] == 0 || msg_id[15] >= KITH_TEXTS_MAX || tell < 0 ||
        tell > STORE_TELL_MAX || tell_at < 0) {
        return KITH_EINVAL;
    }
    s = store_stmt(st, S_MSG_TEXT_TOLD);
    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, tell);
    sqlite3_bind_int64(s, 3, tell_at);
    sqlite3_bind_int64(s, 4, contact_id);
    return store_changed(st, store_exec_stmt(s));
}

int
store_msg_texts_tells(struct store *st, const uint8_t first[16], int64_t contact_id, int tell,
                      int64_t tell_at, struct store_text_tell *out, size_t *n)
{
    sqlite3_stmt *s = NULL;
    uint8_t last[16];
    int rc = store_stmt_lazy(st, S_LAZY_TEXTS_TELLS,
                             "SELECT msg_id, tell, tell_at FROM msg WHERE msg_id > ?1 AND "
                             "msg_id < ?2 AND +contact_id = ?3 AND +outgoing = 0 AND "
                             "NOT (tell = ?4 AND tell_at = ?5)",
                             &s);

    *n = 0;
    if (rc != KITH_OK || first[15] != 0) {
        return rc;
    }
    memcpy(last, first, 16);
    last[15] = KITH_TEXTS_MAX;
    sqlite3_bind_blob(s, 1, first, 16, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, last, 16, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, contact_id);
    sqlite3_bind_int(s, 4, tell);
    sqlite3_bind_int64(s, 5, tell_at);
    while ((rc = store_step_row(s)) == KITH_OK && *n < KITH_TEXTS_MAX - 1) {
        int64_t t = 0;
        struct store_text_tell *tt = &out[*n];
        if (!store_col_blob(s, 0, tt->msg_id, 16) || !store_col_int(s, 1, 0, STORE_TELL_MAX, &t) ||
            !store_col_int(s, 2, 0, INT64_MAX, &tt->tell_at)) {
            rc = KITH_ECORRUPT;
            break;
        }
        tt->tell = (int)t;
        (*n)++;
    }
    store_done(s);
    return rc == KITH_ENOTFOUND ? KITH_OK : rc;
}

void
store_msg_free(struct store_msg *m)
{
    if (m != NULL && m->text != NULL) {
        sodium_memzero(m->text, m->text_len);
        free(m->text);
        m->text = NULL;
        m->text_len = 0;
    }
}

void
store_msgs_free(struct store_msg *m, size_t n)
{
    if (m == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        store_msg_free(&m[i]);
    }
    free(m);
}

/* ---- counters ---- */

/* The clock moves to max(local, seen) + n; *out is its new value. */
/* Read the counter row into memory (store_lamport_add). */
static int
store_lamport_load(struct store *st)
{
    sqlite3_stmt *s = NULL;
    int64_t v = 0;
    int rc = store_stmt_lazy(st, S_LAZY_LAMPORT_GET,
                             "SELECT value FROM counter WHERE name = 'lamport'", &s);

    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_step_row(s);
    if (rc == KITH_ENOTFOUND) {
        rc = KITH_ECORRUPT; /* the counter row is missing */
    }
    if (rc == KITH_OK && !store_col_int(s, 0, 0, INT64_MAX - 1, &v)) {
        rc = KITH_ECORRUPT;
    }
    store_done(s);
    if (rc == KITH_OK) {
        st->lamport_now = (uint64_t)v;
        st->lamport_hi = (uint64_t)v;
        st->lamport_ok = true;
    }
    return rc;
}

/* max(local, seen) + n, from memory. The row is written only when a time passes what it
 * holds, and then STORE_LAMPORT_BLOCK ahead: one UPDATE (and one page in a commit) per block
 * instead of per message. A crash may skip the rest of a block; times only ever grow. */
static int
store_lamport_add(struct store *st, uint64_t seen, uint32_t n, uint64_t *out)
{
    uint64_t v;
    int rc;

    *out = 0;
    if (seen >= STORE_LAMPORT_MAX + 1 - n) {
        return KITH_EINVAL; /* nobody honest gets near 2^63 */
    }
    if (!st->lamport_ok) {
        rc = store_lamport_load(st);
        if (rc != KITH_OK) {
            return rc;
        }
    }
    v = (st->lamport_now > seen ? st->lamport_now : seen) + n;
    if (v > STORE_LAMPORT_MAX) {
        return KITH_EINVAL;
    }
    if (v > st->lamport_hi) {
        uint64_t hi = v <= (uint64_t)INT64_MAX - 1 - STORE_LAMPORT_BLOCK ? v + STORE_LAMPORT_BLOCK
                                                                         : (uint64_t)INT64_MAX - 1;
        sqlite3_stmt *s = store_stmt(st, S_LAMPORT);
        int64_t got = 0;

        sqlite3_bind_int64(s, 1, (sqlite3_int64)hi);
        sqlite3_bind_int64(s, 2, 0);
        rc = store_step_row(s);
        if (rc == KITH_ENOTFOUND) {
            rc = KITH_ECORRUPT; /* the counter row is missing */
        }
        if (rc == KITH_OK && !store_col_int(s, 0, 1, INT64_MAX - 1, &got)) {
            rc = KITH_ECORRUPT;
        }
        if (rc == KITH_OK) {
            rc = sqlite3_step(s) == SQLITE_DONE ? KITH_OK : store_rc(sqlite3_reset(s));
        }
        store_done(s);
        if (rc != KITH_OK) {
            st->lamport_ok = false;
            return rc;
        }
        st->lamport_hi = (uint64_t)got;
    }
    st->lamport_now = v;
    *out = v;
    return KITH_OK;
}

int
store_lamport_tick(struct store *st, uint64_t seen, uint64_t *out)
{
    return store_lamport_add(st, seen, 1, out);
}

int
store_lamport_reserve(struct store *st, uint32_t n, uint64_t *first)
{
    uint64_t last = 0;
    int rc;

    *first = 0;
    if (n == 0) {
        return KITH_EINVAL;
    }
    rc = store_lamport_add(st, 0, n, &last);
    if (rc == KITH_OK) {
        *first = last - n + 1;
    }
    return rc;
}

int
store_next_seq(struct store *st, int64_t contact_id, uint64_t *seq, uint8_t prev_msg_id[16])
{
    sqlite3_stmt *s = store_stmt(st, S_CONV_GET);
    int64_t last = 0;
    int rc;

    *seq = 0;
    memset(prev_msg_id, 0, 16);
    sqlite3_bind_int64(s, 1, contact_id);
    rc = store_step_row(s);
    if (rc == KITH_ENOTFOUND) {
        rc = KITH_OK; /* nothing sent yet: seq 1, no previous message */
    } else if (rc == KITH_OK && (!store_col_int(s, 0, 0, INT64_MAX - 1, &last) ||
                                 !store_col_blob(s, 1, prev_msg_id, 16))) {
        memset(prev_msg_id, 0, 16);
        rc = KITH_ECORRUPT;
    }
    store_done(s);
    if (rc == KITH_OK) {
        *seq = (uint64_t)last + 1;
    }
    return rc;
}

int
store_set_last_sent(struct store *st, int64_t contact_id, uint64_t seq, const uint8_t msg_id[16])
{
    sqlite3_stmt *s;

    if (seq >= (uint64_t)INT64_MAX) {
        return KITH_EINVAL;
    }
    s = store_stmt(st, S_CONV_SET);
    sqlite3_bind_int64(s, 1, contact_id);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)seq);
    sqlite3_bind_blob(s, 3, msg_id, 16, SQLITE_STATIC);
    return store_exec_stmt(s);
}

/* ---- outbox ---- */

/* A row may now be due at next_at_ms: the hint never stays above a row's time. */
static void
store_outbox_hint_lower(struct store *st, int64_t next_at_ms)
{
    if (next_at_ms < st->outbox_due_hint) {
        st->outbox_due_hint = next_at_ms;
    }
}

int
store_outbox_add(struct store *st, const uint8_t msg_id[16], int64_t contact_id,
                 const uint8_t *frame, size_t frame_len, int64_t next_at_ms)
{
    return store_outbox_add_at(st, msg_id, contact_id, frame, frame_len, 0, next_at_ms, NULL);
}

/* A frame and its acknowledgement key (NULL: none), sealed for the outbox (also when they
 * wait in a msg row: the same values, so migration 7 moved them as they were). */
static int
store_outbox_seal(struct store *st, const uint8_t msg_id[16], const uint8_t *frame,
                  size_t frame_len, const uint8_t ack_key[32], uint8_t **sealed,
                  size_t *sealed_len, uint8_t **ack, size_t *ack_len)
{
    *sealed = NULL;
    *ack = NULL;
    *sealed_len = 0;
    *ack_len = 0;
    if (frame == NULL || frame_len == 0) {
        return KITH_EINVAL;
    }
    if (frame_len > KITH_MAXMSGSIZE) {
        return KITH_ETOOBIG;
    }
    *sealed = store_seal(st, STORE_T_OUTBOX, "frame", msg_id, 16, frame, frame_len, sealed_len);
    if (ack_key != NULL) {
        *ack = store_seal(st, STORE_T_OUTBOX, "ack", msg_id, 16, ack_key, 32, ack_len);
    }
    return KITH_OK;
}

int
store_outbox_add_at(struct store *st, const uint8_t msg_id[16], int64_t contact_id,
                    const uint8_t *frame, size_t frame_len, uint32_t attempts, int64_t next_at_ms,
                    const uint8_t ack_key[32])
{
    uint8_t *sealed;
    uint8_t *ack;
    size_t sealed_len;
    size_t ack_len;
    sqlite3_stmt *s;
    int rc = store_outbox_seal(st, msg_id, frame, frame_len, ack_key, &sealed, &sealed_len, &ack,
                               &ack_len);

    if (rc != KITH_OK) {
        return rc;
    }
    s = store_stmt(st, S_OB_ADD);
    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, contact_id);
    sqlite3_bind_int64(s, 3, next_at_ms);
    sqlite3_bind_blob(s, 4, sealed, (int)sealed_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, attempts);
    if (ack != NULL) {
        sqlite3_bind_blob(s, 6, ack, (int)ack_len, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 6);
    }
    rc = store_exec_stmt(s);
    if (rc == KITH_OK) {
        store_outbox_hint_lower(st, next_at_ms);
    }
    free(sealed);
    free(ack);
    return rc;
}

int
store_outbox_ack_key(struct store *st, const uint8_t msg_id[16], uint8_t ack_key[32])
{
    sqlite3_stmt *s = store_stmt(st, S_OB_ACK);
    uint8_t *pt = NULL;
    size_t len = 0;
    int rc;

    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    rc = store_step_row(s);
    if (rc == KITH_OK && sqlite3_column_type(s, 0) == SQLITE_NULL) {
        rc = KITH_ENOTFOUND;
    }
    if (rc == KITH_OK) {
        rc = store_unseal(st, STORE_T_OUTBOX, "ack", msg_id, 16, s, 0, 32, &pt, &len);
        if (rc == KITH_OK && len != 32) {
            rc = KITH_ECORRUPT;
        }
    }
    if (rc == KITH_OK) {
        memcpy(ack_key, pt, 32);
    }
    if (pt != NULL) {
        sodium_memzero(pt, len);
        free(pt);
    }
    sqlite3_reset(s);
    return rc;
}

static int
store_outbox_row(const struct store *st, sqlite3_stmt *s, struct store_outbox *o)
{
    int64_t contact_id, attempts, next_at;
    size_t len = 0;
    int rc;

    memset(o, 0, sizeof *o);
    if (!store_col_blob(s, 0, o->msg_id, 16) ||
        !store_col_int(s, 1, INT64_MIN, INT64_MAX, &contact_id) ||
        !store_col_int(s, 2, 0, UINT32_MAX, &attempts) ||
        !store_col_int(s, 3, INT64_MIN, INT64_MAX, &next_at)) {
        memset(o, 0, sizeof *o);
        return KITH_ECORRUPT;
    }
    rc = store_unseal(st, STORE_T_OUTBOX, "frame", o->msg_id, 16, s, 4, KITH_MAXMSGSIZE, &o->frame,
                      &len);
    if (rc == KITH_OK && len == 0) {
        free(o->frame);
        rc = KITH_ECORRUPT;
    }
    if (rc != KITH_OK) {
        memset(o, 0, sizeof *o);
        return rc;
    }
    o->frame_len = len;
    o->contact_id = contact_id;
    o->attempts = (uint32_t)attempts;
    o->next_at_ms = next_at;
    return KITH_OK;
}

int
store_outbox_due(struct store *st, int64_t contact_id, int64_t now_ms, size_t max,
                 struct store_outbox **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, contact_id > 0 ? S_OB_DUE_ONE : S_OB_DUE_ALL);
    struct store_outbox *list = NULL;
    size_t count = 0, cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (max == 0 || now_ms < st->outbox_due_hint) {
        return KITH_OK; /* nothing can be due yet */
    }
    if (contact_id > 0) {
        sqlite3_bind_int64(s, 1, contact_id);
    }
    sqlite3_bind_int64(s, 2, now_ms);
    sqlite3_bind_int64(s, 3, max > (size_t)INT64_MAX ? -1 : (sqlite3_int64)max);
    while ((rc = store_step_row(s)) == KITH_OK) {
        if (count == cap) {
            cap = cap == 0 ? 8 : cap * 2;
            list = xrealloc(list, cap * sizeof *list);
        }
        rc = store_outbox_row(st, s, &list[count]);
        if (rc != KITH_OK) {
            break;
        }
        count++;
    }
    store_done(s);
    if (rc != KITH_ENOTFOUND) {
        store_outbox_free(list, count);
        return rc;
    }
    *out = list;
    *n = count;
    return KITH_OK;
}

/* A history message's frame waits in its msg row, any other in outbox: the msg row is tried
 * first (most waiting frames are messages). */
static int
store_outbox_update(struct store *st, enum store_stmt in_msg, enum store_stmt in_outbox,
                    const uint8_t msg_id[16], const int64_t *attempts, const int64_t *next_at_ms)
{
    int rc = KITH_OK;

    for (int pass = 0; pass < 2; pass++) {
        sqlite3_stmt *s = store_stmt(st, pass == 0 ? in_msg : in_outbox);
        sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
        if (attempts != NULL) {
            sqlite3_bind_int64(s, 2, *attempts);
            sqlite3_bind_int64(s, 3, *next_at_ms);
        }
        rc = store_changed(st, store_exec_stmt(s));
        if (rc != KITH_ENOTFOUND) {
            break;
        }
    }
    return rc;
}

int
store_outbox_reschedule(struct store *st, const uint8_t msg_id[16], uint32_t attempts,
                        int64_t next_at_ms)
{
    int64_t n = attempts;

    store_outbox_hint_lower(st, next_at_ms);
    return store_outbox_update(st, S_MSG_OB_RESCHED, S_OB_RESCHED, msg_id, &n, &next_at_ms);
}

int
store_outbox_wake(struct store *st, int64_t contact_id)
{
    int rc = KITH_OK;

    st->outbox_due_hint = 0;
    for (int pass = 0; pass < 2 && rc == KITH_OK; pass++) {
        sqlite3_stmt *s = store_stmt(st, pass == 0 ? S_OB_WAKE : S_MSG_OB_WAKE);
        sqlite3_bind_int64(s, 1, contact_id);
        rc = store_exec_stmt(s);
    }
    return rc;
}

int
store_outbox_remove(struct store *st, const uint8_t msg_id[16])
{
    return store_outbox_update(st, S_MSG_OB_REMOVE, S_OB_REMOVE, msg_id, NULL, NULL);
}

int
store_outbox_next_at(struct store *st, int64_t *next_at_ms)
{
    sqlite3_stmt *s = store_stmt(st, S_OB_NEXT);
    int64_t v = 0;
    int rc;

    *next_at_ms = 0;
    rc = store_step_row(s);
    if (rc == KITH_OK && sqlite3_column_type(s, 0) == SQLITE_NULL) {
        rc = KITH_ENOTFOUND;
    } else if (rc == KITH_OK && !store_col_int(s, 0, INT64_MIN, INT64_MAX, &v)) {
        rc = KITH_ECORRUPT;
    }
    store_done(s);
    if (rc == KITH_OK) {
        *next_at_ms = v;
    }
    /* Outside a transaction the answer is committed: nothing is due before it. */
    if (sqlite3_get_autocommit(st->db)) {
        st->outbox_due_hint = rc == KITH_OK ? v : rc == KITH_ENOTFOUND ? INT64_MAX : 0;
    }
    return rc;
}

void
store_outbox_free(struct store_outbox *o, size_t n)
{
    if (o == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(o[i].frame);
    }
    free(o);
}
