/*
 * store_relay: what we hold to serve to others: the mesh store of signed
 * circle frames (with our have-vector and what each member told us it
 * holds) and 1:1 frames carried for someone else (store-and-forward, at most
 * STORE_RELAY_PER_ROUTE_MAX per route). Frames are sealed and bound to their
 * whole row key; senders, members and routes are only keyed hashes. Clear:
 * circle row id, epoch, seq, msg_id, verified flag and expiry.
 */
#include "core/store_impl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/limits.h"

/* ---- the mesh store ---- */

/* Row key of a frame: BLAKE2b-256(circle || epoch || sender || seq || msg_id), since the whole
 * key (52 bytes) is longer than a row key may be. */
static void
store_cframe_rowkey(int64_t circle, uint32_t epoch, const uint8_t sender[16], uint64_t seq,
                    const uint8_t msg_id[16], uint8_t rowkey[32])
{
    uint8_t key[8 + 4 + 16 + 8 + 16];

    store_be64(key, circle);
    store_be32(key + 8, epoch);
    memcpy(key + 12, sender, 16);
    store_be64(key + 28, (int64_t)seq);
    memcpy(key + 36, msg_id, 16);
    crypto_generichash(rowkey, 32, key, sizeof key, NULL, 0);
}

int
store_cframe_add(struct store *st, const struct store_cframe *f)
{
    uint8_t rowkey[32];
    uint8_t sender_idx[32];
    uint8_t *sealed;
    size_t sealed_len = 0;
    sqlite3_stmt *s;
    int rc;

    if (f == NULL || f->frame == NULL || f->frame_len == 0 || f->seq == 0 ||
        f->seq > (uint64_t)INT64_MAX) {
        return KITH_EINVAL;
    }
    if (f->frame_len > KITH_MAXMSGSIZE) {
        return KITH_ETOOBIG;
    }
    store_cframe_rowkey(f->circle, f->epoch, f->sender, f->seq, f->msg_id, rowkey);
    store_circle_member_index(st, f->circle, f->sender, sender_idx);
    sealed = store_seal(st, STORE_T_CFRAME, "frame", rowkey, sizeof rowkey, f->frame, f->frame_len,
                        &sealed_len);
    s = store_stmt(st, S_CFRAME_ADD);
    sqlite3_bind_int64(s, 1, f->circle);
    sqlite3_bind_int64(s, 2, f->epoch);
    sqlite3_bind_blob(s, 3, sender_idx, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)f->seq);
    sqlite3_bind_blob(s, 5, f->msg_id, 16, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, f->verified ? 1 : 0);
    sqlite3_bind_int64(s, 7, f->expires_at);
    sqlite3_bind_blob(s, 8, sealed, (int)sealed_len, SQLITE_STATIC);
    rc = store_exec_stmt(s);
    free(sealed);
    return rc;
}

bool
store_cframe_has(struct store *st, int64_t circle, uint32_t epoch, const uint8_t sender[16],
                 uint64_t seq)
{
    sqlite3_stmt *s = store_stmt(st, S_CFRAME_HAS);
    uint8_t sender_idx[32];
    bool has;

    if (seq > (uint64_t)INT64_MAX) {
        return false;
    }
    store_circle_member_index(st, circle, sender, sender_idx);
    sqlite3_bind_int64(s, 1, circle);
    sqlite3_bind_int64(s, 2, epoch);
    sqlite3_bind_blob(s, 3, sender_idx, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)seq);
    has = store_step_row(s) == KITH_OK;
    store_done(s);
    return has;
}

int
store_cframe_set_verified(struct store *st, const uint8_t msg_id[16])
{
    sqlite3_stmt *s = store_stmt(st, S_CFRAME_VERIFIED);

    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    return store_changed(st, store_exec_stmt(s));
}

int
store_cframe_forget(struct store *st, const uint8_t msg_id[16])
{
    sqlite3_stmt *s = store_stmt(st, S_CFRAME_DELETE);

    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    return store_changed(st, store_exec_stmt(s));
}

/* Decode the current row of S_CFRAME_RANGE (seq, msg_id, verified, expires_at, frame) of the
 * frames of (circle, epoch, sender). */
static int
store_cframe_row(const struct store *st, sqlite3_stmt *s, int64_t circle, uint32_t epoch,
                 const uint8_t sender[16], struct store_cframe *f)
{
    uint8_t rowkey[32];
    int64_t seq, verified, expires_at;
    size_t len = 0;
    int rc;

    memset(f, 0, sizeof *f);
    if (!store_col_int(s, 0, 1, INT64_MAX, &seq) || !store_col_blob(s, 1, f->msg_id, 16) ||
        !store_col_int(s, 2, 0, 1, &verified) ||
        !store_col_int(s, 3, INT64_MIN, INT64_MAX, &expires_at)) {
        memset(f, 0, sizeof *f);
        return KITH_ECORRUPT;
    }
    store_cframe_rowkey(circle, epoch, sender, (uint64_t)seq, f->msg_id, rowkey);
    rc = store_unseal(st, STORE_T_CFRAME, "frame", rowkey, sizeof rowkey, s, 4, KITH_MAXMSGSIZE,
                      &f->frame, &len);
    if (rc == KITH_OK && len == 0) {
        free(f->frame);
        rc = KITH_ECORRUPT;
    }
    if (rc != KITH_OK) {
        memset(f, 0, sizeof *f);
        return rc;
    }
    f->circle = circle;
    f->epoch = epoch;
    memcpy(f->sender, sender, 16);
    f->seq = (uint64_t)seq;
    f->verified = verified != 0;
    f->expires_at = expires_at;
    f->frame_len = len;
    return KITH_OK;
}

/* Frames of (circle, epoch, sender) with seq > after; vmin 1 skips the unverified, vmax 0 the
 * verified (a damaged flag is selected either way, and then reported). */
static int
store_cframe_select(struct store *st, int64_t circle, uint32_t epoch, const uint8_t sender[16],
                    uint64_t after, size_t max, int vmin, int vmax, struct store_cframe **out,
                    size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, S_CFRAME_RANGE);
    struct store_cframe *list = NULL;
    uint8_t sender_idx[32];
    size_t count = 0, cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (max == 0 || after >= (uint64_t)INT64_MAX) {
        store_done(s);
        return KITH_OK;
    }
    store_circle_member_index(st, circle, sender, sender_idx);
    sqlite3_bind_int64(s, 1, circle);
    sqlite3_bind_int64(s, 2, epoch);
    sqlite3_bind_blob(s, 3, sender_idx, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)after);
    sqlite3_bind_int(s, 5, vmin);
    sqlite3_bind_int(s, 6, vmax);
    sqlite3_bind_int64(s, 7, max > (size_t)INT64_MAX ? -1 : (sqlite3_int64)max);
    while ((rc = store_step_row(s)) == KITH_OK) {
        if (count == cap) {
            cap = cap == 0 ? 16 : cap * 2;
            list = xrealloc(list, cap * sizeof *list);
        }
        rc = store_cframe_row(st, s, circle, epoch, sender, &list[count]);
        if (rc != KITH_OK) {
            break;
        }
        count++;
    }
    store_done(s);
    if (rc != KITH_ENOTFOUND) {
        store_cframes_free(list, count);
        return rc;
    }
    *out = list;
    *n = count;
    return KITH_OK;
}

int
store_cframe_range(struct store *st, int64_t circle, uint32_t epoch, const uint8_t sender[16],
                   uint64_t after, size_t max, bool verified_only, struct store_cframe **out,
                   size_t *n)
{
    return store_cframe_select(st, circle, epoch, sender, after, max, verified_only ? 1 : 0, 1, out,
                               n);
}

int
store_cframe_unverified(struct store *st, int64_t circle, uint32_t epoch, const uint8_t sender[16],
                        struct store_cframe **out, size_t *n)
{
    return store_cframe_select(st, circle, epoch, sender, 0, SIZE_MAX, 0, 0, out, n);
}

static int
store_hwm_cmp(const void *a, const void *b)
{
    const struct store_hwm *x = a;
    const struct store_hwm *y = b;

    if (x->epoch != y->epoch) {
        return x->epoch < y->epoch ? -1 : 1;
    }
    return memcmp(x->sender, y->sender, 16);
}

/* The candidate whose keyed hash is idx, or -1. */
static ptrdiff_t
store_hwm_sender(const uint8_t (*idx)[32], size_t n, const uint8_t *blob)
{
    for (size_t i = 0; i < n; i++) {
        if (memcmp(idx[i], blob, 32) == 0) {
            return (ptrdiff_t)i;
        }
    }
    return -1;
}

int
store_cframe_hwms(struct store *st, int64_t circle, uint32_t min_epoch,
                  const uint8_t (*senders)[16], size_t nsenders, struct store_hwm **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, S_CFRAME_HWMS);
    struct store_hwm *list = NULL;
    uint8_t(*idx)[32] = NULL;
    size_t count = 0, cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (nsenders == 0 || senders == NULL) {
        store_done(s);
        return KITH_OK;
    }
    idx = xmalloc(nsenders * sizeof *idx);
    for (size_t i = 0; i < nsenders; i++) {
        store_circle_member_index(st, circle, senders[i], idx[i]);
    }
    sqlite3_bind_int64(s, 1, circle);
    sqlite3_bind_int64(s, 2, min_epoch);
    while ((rc = store_step_row(s)) == KITH_OK) {
        int64_t epoch, hwm;
        ptrdiff_t who;

        if (!store_col_int(s, 0, 0, UINT32_MAX, &epoch) ||
            sqlite3_column_type(s, 1) != SQLITE_BLOB || sqlite3_column_bytes(s, 1) != 32 ||
            !store_col_int(s, 2, 0, INT64_MAX, &hwm)) {
            rc = KITH_ECORRUPT;
            break;
        }
        who = store_hwm_sender((const uint8_t(*)[32])idx, nsenders, sqlite3_column_blob(s, 1));
        if (who < 0) {
            continue; /* a sender we cannot name: not a candidate */
        }
        if (count == cap) {
            cap = cap == 0 ? 16 : cap * 2;
            list = xrealloc(list, cap * sizeof *list);
        }
        list[count].epoch = (uint32_t)epoch;
        memcpy(list[count].sender, senders[who], 16);
        list[count].hwm = (uint64_t)hwm;
        count++;
    }
    store_done(s);
    free(idx);
    if (rc != KITH_ENOTFOUND) {
        free(list);
        return rc;
    }
    if (count > 1) {
        qsort(list, count, sizeof *list, store_hwm_cmp);
    }
    *out = list;
    *n = count;
    return KITH_OK;
}

int
store_cframe_expire(struct store *st, int64_t now_s, size_t *deleted)
{
    return store_exec_counted(st, S_CFRAME_EXPIRE, now_s, deleted);
}

void
store_cframes_free(struct store_cframe *f, size_t n)
{
    if (f == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(f[i].frame);
    }
    free(f);
}

/* ---- what members told us they hold ---- */

int
store_chave_set(struct store *st, int64_t circle, const uint8_t member[16], uint32_t epoch,
                const uint8_t sender[16], uint64_t hwm)
{
    uint8_t member_idx[32];
    uint8_t sender_idx[32];
    sqlite3_stmt *s;

    if (hwm > (uint64_t)INT64_MAX) {
        return KITH_EINVAL;
    }
    store_circle_member_index(st, circle, member, member_idx);
    store_circle_member_index(st, circle, sender, sender_idx);
    s = store_stmt(st, S_CHAVE_SET);
    sqlite3_bind_int64(s, 1, circle);
    sqlite3_bind_blob(s, 2, member_idx, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, epoch);
    sqlite3_bind_blob(s, 4, sender_idx, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)hwm);
    return store_exec_stmt(s); /* no such circle: KITH_ENOTFOUND (foreign key) */
}

int
store_chave_min(struct store *st, int64_t circle, uint32_t epoch, const uint8_t sender[16],
                const uint8_t (*members)[16], size_t nmembers, uint64_t *min)
{
    uint8_t sender_idx[32];
    uint64_t lowest = UINT64_MAX;
    int rc = KITH_OK;

    *min = 0;
    if (members == NULL || nmembers == 0) {
        return KITH_OK; /* nobody to have told us anything: nothing counts as delivered */
    }
    store_circle_member_index(st, circle, sender, sender_idx);
    for (size_t i = 0; i < nmembers && lowest > 0 && rc == KITH_OK; i++) {
        sqlite3_stmt *s = store_stmt(st, S_CHAVE_GET);
        uint8_t member_idx[32];
        int64_t hwm = 0;

        store_circle_member_index(st, circle, members[i], member_idx);
        sqlite3_bind_int64(s, 1, circle);
        sqlite3_bind_blob(s, 2, member_idx, 32, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, epoch);
        sqlite3_bind_blob(s, 4, sender_idx, 32, SQLITE_STATIC);
        rc = store_step_row(s);
        if (rc == KITH_ENOTFOUND) {
            rc = KITH_OK; /* told us nothing yet: 0 */
        } else if (rc == KITH_OK && !store_col_int(s, 0, 0, INT64_MAX, &hwm)) {
            rc = KITH_ECORRUPT;
        }
        store_done(s);
        if ((uint64_t)hwm < lowest) {
            lowest = (uint64_t)hwm;
        }
    }
    if (rc == KITH_OK) {
        *min = lowest;
    }
    return rc;
}

/* ---- frames carried for others ---- */

/* Row key of a relayed frame: msg_id || route. */
static void
store_relay_rowkey(const uint8_t msg_id[16], const uint8_t route[16], uint8_t rowkey[32])
{
    memcpy(rowkey, msg_id, 16);
    memcpy(rowkey + 16, route, 16);
}

static int
store_relay_count_idx(struct store *st, const uint8_t route_idx[32], size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, S_RELAY_COUNT);
    int64_t count = 0;
    int rc;

    *n = 0;
    sqlite3_bind_blob(s, 1, route_idx, 32, SQLITE_STATIC);
    rc = store_step_row(s);
    if (rc == KITH_OK && !store_col_int(s, 0, 0, INT64_MAX, &count)) {
        rc = KITH_ECORRUPT;
    }
    store_done(s);
    if (rc == KITH_OK) {
        *n = (size_t)count;
    }
    return rc;
}

int
store_relay_add(struct store *st, const uint8_t route[16], const uint8_t msg_id[16],
                int64_t expires_at, const uint8_t *frame, size_t frame_len)
{
    uint8_t rowkey[32];
    uint8_t route_idx[32];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0, held = 0;
    sqlite3_stmt *s;
    int rc;

    if (frame == NULL || frame_len == 0) {
        return KITH_EINVAL;
    }
    if (frame_len > KITH_MAXMSGSIZE) {
        return KITH_ETOOBIG;
    }
    store_index(st, STORE_IDX_ROUTE, route, 16, route_idx);
    rc = store_op_begin(st);
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_relay_count_idx(st, route_idx, &held);
    if (rc == KITH_OK && held >= STORE_RELAY_PER_ROUTE_MAX) {
        rc = KITH_EAGAIN; /* the route's quota is full: the hop should try someone else */
    }
    if (rc == KITH_OK) {
        store_relay_rowkey(msg_id, route, rowkey);
        sealed = store_seal(st, STORE_T_RELAY, "frame", rowkey, sizeof rowkey, frame, frame_len,
                            &sealed_len);
        s = store_stmt(st, S_RELAY_ADD);
        sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
        sqlite3_bind_blob(s, 2, route_idx, 32, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, expires_at);
        sqlite3_bind_int64(s, 4, (sqlite3_int64)time(NULL));
        sqlite3_bind_blob(s, 5, sealed, (int)sealed_len, SQLITE_STATIC);
        rc = store_exec_stmt(s);
        free(sealed);
    }
    return store_op_end(st, rc);
}

int
store_relay_for(struct store *st, const uint8_t route[16], size_t max, struct store_relay **out,
                size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, S_RELAY_FOR);
    struct store_relay *list = NULL;
    uint8_t route_idx[32];
    uint8_t rowkey[32];
    size_t count = 0, cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (max == 0) {
        store_done(s);
        return KITH_OK;
    }
    store_index(st, STORE_IDX_ROUTE, route, 16, route_idx);
    sqlite3_bind_blob(s, 1, route_idx, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, max > (size_t)INT64_MAX ? -1 : (sqlite3_int64)max);
    while ((rc = store_step_row(s)) == KITH_OK) {
        struct store_relay *r;
        size_t len = 0;

        if (count == cap) {
            cap = cap == 0 ? 16 : cap * 2;
            list = xrealloc(list, cap * sizeof *list);
        }
        r = &list[count];
        memset(r, 0, sizeof *r);
        if (!store_col_blob(s, 0, r->msg_id, 16) ||
            !store_col_int(s, 1, INT64_MIN, INT64_MAX, &r->expires_at)) {
            rc = KITH_ECORRUPT;
            break;
        }
        store_relay_rowkey(r->msg_id, route, rowkey);
        rc = store_unseal(st, STORE_T_RELAY, "frame", rowkey, sizeof rowkey, s, 2, KITH_MAXMSGSIZE,
                          &r->frame, &len);
        if (rc == KITH_OK && len == 0) {
            free(r->frame);
            r->frame = NULL;
            rc = KITH_ECORRUPT;
        }
        if (rc != KITH_OK) {
            break;
        }
        r->frame_len = len;
        count++;
    }
    store_done(s);
    if (rc != KITH_ENOTFOUND) {
        store_relays_free(list, count);
        return rc;
    }
    *out = list;
    *n = count;
    return KITH_OK;
}

int
store_relay_count(struct store *st, const uint8_t route[16], size_t *n)
{
    uint8_t route_idx[32];

    store_index(st, STORE_IDX_ROUTE, route, 16, route_idx);
    return store_relay_count_idx(st, route_idx, n);
}

int
store_relay_remove(struct store *st, const uint8_t msg_id[16])
{
    sqlite3_stmt *s = store_stmt(st, S_RELAY_REMOVE);

    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    return store_changed(st, store_exec_stmt(s));
}

int
store_relay_expire(struct store *st, int64_t now_s, size_t *deleted)
{
    return store_exec_counted(st, S_RELAY_EXPIRE, now_s, deleted);
}

void
store_relays_free(struct store_relay *r, size_t n)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(r[i].frame);
    }
    free(r);
}
