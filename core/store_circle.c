/*
 * store_circle: what we keep of each circle for ourselves: the circle row
 * (name, op log, our sender key), the receiving chains, the circle history
 * and which circle an invite joins. Names, op logs, keys, chain states and
 * message bodies are sealed (bound to their row); members and senders appear
 * only as keyed hashes bound to the circle (store_circle_member_index), so
 * one person is not linkable across circles. Ids, epochs, seqs, states and
 * times stay clear. The mesh store and relay frames are in store_relay.c.
 */
#include "core/store_impl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/limits.h"

#define STORE_OWN_KEY_MAX 4096 /* circle_sender_serialize is 188 bytes */
#define STORE_KIND_MAX    255  /* envelope types are a u8 */

void
store_circle_member_index(const struct store *st, int64_t circle, const uint8_t member[16],
                          uint8_t out[32])
{
    uint8_t value[8 + 16];

    store_be64(value, circle);
    memcpy(value + 8, member, 16);
    store_index(st, STORE_IDX_CIRCLE_MEMBER, value, sizeof value, out);
}

void
store_blob_free(uint8_t *buf, size_t len)
{
    store_wipe_free(buf, len);
}

/* ---- circle rows ---- */

/* A circle name's lookup hash: the contact name hash re-keyed under its own tag, so a circle
 * and a contact with the same name do not share a visible hash. */
static void
store_circle_name_index(const struct store *st, const char *name, size_t len, uint8_t out[32])
{
    uint8_t name_idx[32];

    store_name_index(st, name, len, name_idx);
    store_index(st, STORE_IDX_CIRCLE_NAME, name_idx, sizeof name_idx, out);
    sodium_memzero(name_idx, sizeof name_idx);
}

static bool
store_circle_name_ok(const char *name, size_t cap, size_t *len)
{
    *len = name != NULL ? strnlen(name, cap) : 0;
    return *len > 0 && *len <= KITH_NAME_MAX;
}

int
store_circle_add(struct store *st, struct store_circle *c, const uint8_t *ops, size_t ops_len)
{
    uint8_t rowkey[8];
    uint8_t name_idx[32];
    uint8_t *sealed_name = NULL, *sealed_ops = NULL;
    size_t name_len, sealed_name_len = 0, sealed_ops_len = 0;
    int rc = KITH_ESTORE;

    if (c == NULL || !store_circle_name_ok(c->name, sizeof c->name, &name_len) ||
        c->state < STORE_CIRCLE_ACTIVE || c->state > STORE_CIRCLE_JOINING ||
        (ops == NULL && ops_len != 0)) {
        return KITH_EINVAL;
    }
    if (ops_len > STORE_CIRCLE_OPS_MAX) {
        return KITH_ETOOBIG;
    }
    store_circle_name_index(st, c->name, name_len, name_idx);
    for (int attempt = 0; attempt < 4; attempt++) {
        sqlite3_stmt *s = store_stmt(st, S_CIRCLE_ADD);
        int sqlrc;

        do {
            randombytes_buf(&c->id, sizeof c->id);
            c->id &= INT64_MAX;
        } while (c->id == 0);
        store_be64(rowkey, c->id);
        sealed_name = store_seal_padded(st, STORE_T_CIRCLE, "name", rowkey, 8, c->name, name_len,
                                        &sealed_name_len);
        sealed_ops =
            store_seal_padded(st, STORE_T_CIRCLE, "ops", rowkey, 8, ops, ops_len, &sealed_ops_len);
        sqlite3_bind_int64(s, 1, c->id);
        sqlite3_bind_blob(s, 2, c->circle_id, 16, SQLITE_STATIC);
        sqlite3_bind_blob(s, 3, name_idx, 32, SQLITE_STATIC);
        sqlite3_bind_int(s, 4, c->state);
        sqlite3_bind_int64(s, 5, c->created_at);
        sqlite3_bind_blob(s, 6, sealed_name, (int)sealed_name_len, SQLITE_STATIC);
        sqlite3_bind_blob(s, 7, sealed_ops, (int)sealed_ops_len, SQLITE_STATIC);
        sqlrc = sqlite3_step(s);
        if (sqlrc != SQLITE_DONE) {
            sqlrc = sqlite3_reset(s);
        }
        store_done(s);
        free(sealed_name);
        free(sealed_ops);
        if (sqlrc != SQLITE_CONSTRAINT_PRIMARYKEY) {
            rc = sqlrc == SQLITE_DONE ? KITH_OK : store_rc(sqlrc);
            break;
        }
        rc = KITH_ESTORE; /* an id collision: draw again */
    }
    if (rc != KITH_OK) {
        c->id = 0;
    }
    return rc;
}

/* Decode the current row of a CIRCLE_COLS query. */
static int
store_circle_row(const struct store *st, sqlite3_stmt *s, struct store_circle *c)
{
    uint8_t rowkey[8];
    uint8_t *name = NULL;
    size_t name_cap = 0, name_len = 0;
    int64_t id, state, created;
    int rc;

    memset(c, 0, sizeof *c);
    if (!store_col_int(s, 0, 1, INT64_MAX, &id) || !store_col_blob(s, 1, c->circle_id, 16) ||
        !store_col_int(s, 2, STORE_CIRCLE_ACTIVE, STORE_CIRCLE_JOINING, &state) ||
        !store_col_int(s, 3, INT64_MIN, INT64_MAX, &created)) {
        memset(c, 0, sizeof *c);
        return KITH_ECORRUPT;
    }
    store_be64(rowkey, id);
    rc = store_unseal_padded(st, STORE_T_CIRCLE, "name", rowkey, 8, s, 4, KITH_NAME_MAX, &name,
                             &name_cap, &name_len);
    if (rc == KITH_OK && (name_len == 0 || memchr(name, 0, name_len) != NULL)) {
        rc = KITH_ECORRUPT;
    }
    if (rc == KITH_OK) {
        c->id = id;
        c->state = (int)state;
        c->created_at = created;
        memcpy(c->name, name, name_len);
    } else {
        memset(c, 0, sizeof *c);
    }
    store_wipe_free(name, name_cap);
    return rc;
}

static int
store_circle_one(struct store *st, sqlite3_stmt *s, struct store_circle *c)
{
    int rc = store_step_row(s);

    if (rc == KITH_OK) {
        rc = store_circle_row(st, s, c);
    } else {
        memset(c, 0, sizeof *c);
    }
    store_done(s);
    return rc;
}

int
store_circle_by_name(struct store *st, const char *name, struct store_circle *c)
{
    uint8_t name_idx[32];
    sqlite3_stmt *s;
    size_t len;

    if (!store_circle_name_ok(name, KITH_NAME_MAX + 1, &len)) {
        memset(c, 0, sizeof *c);
        return KITH_ENOTFOUND;
    }
    store_circle_name_index(st, name, len, name_idx);
    s = store_stmt(st, S_CIRCLE_BY_NAME);
    sqlite3_bind_blob(s, 1, name_idx, sizeof name_idx, SQLITE_STATIC);
    return store_circle_one(st, s, c);
}

int
store_circle_by_cid(struct store *st, const uint8_t circle_id[16], struct store_circle *c)
{
    sqlite3_stmt *s = store_stmt(st, S_CIRCLE_BY_CID);

    sqlite3_bind_blob(s, 1, circle_id, 16, SQLITE_STATIC);
    return store_circle_one(st, s, c);
}

static int
store_circle_cmp(const void *a, const void *b)
{
    const struct store_circle *x = a;
    const struct store_circle *y = b;
    int d = strcasecmp(x->name, y->name);

    if (d != 0) {
        return d;
    }
    return (x->id > y->id) - (x->id < y->id);
}

int
store_circles_list(struct store *st, struct store_circle **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, S_CIRCLE_ALL);
    struct store_circle *list = NULL;
    size_t count = 0, cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    while ((rc = store_step_row(s)) == KITH_OK) {
        if (count == cap) {
            cap = cap == 0 ? 8 : cap * 2;
            list = xrealloc(list, cap * sizeof *list);
        }
        rc = store_circle_row(st, s, &list[count]);
        if (rc != KITH_OK) {
            break;
        }
        count++;
    }
    store_done(s);
    if (rc != KITH_ENOTFOUND) {
        free(list);
        return rc;
    }
    if (count > 1) {
        qsort(list, count, sizeof *list, store_circle_cmp);
    }
    *out = list;
    *n = count;
    return KITH_OK;
}

int
store_circle_set_state(struct store *st, int64_t circle, int state)
{
    sqlite3_stmt *s;

    if (state < STORE_CIRCLE_ACTIVE || state > STORE_CIRCLE_JOINING) {
        return KITH_EINVAL;
    }
    s = store_stmt(st, S_CIRCLE_STATE);
    sqlite3_bind_int64(s, 1, circle);
    sqlite3_bind_int(s, 2, state);
    return store_changed(st, store_exec_stmt(s));
}

int
store_circle_rename(struct store *st, int64_t circle, const char *name)
{
    uint8_t rowkey[8];
    uint8_t name_idx[32];
    uint8_t *sealed;
    size_t len, sealed_len = 0;
    sqlite3_stmt *s;
    int rc;

    if (!store_circle_name_ok(name, KITH_NAME_MAX + 1, &len)) {
        return KITH_EINVAL;
    }
    store_be64(rowkey, circle);
    store_circle_name_index(st, name, len, name_idx);
    sealed = store_seal_padded(st, STORE_T_CIRCLE, "name", rowkey, 8, name, len, &sealed_len);
    s = store_stmt(st, S_CIRCLE_RENAME);
    sqlite3_bind_int64(s, 1, circle);
    sqlite3_bind_blob(s, 2, name_idx, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, sealed, (int)sealed_len, SQLITE_STATIC);
    rc = store_changed(st, store_exec_stmt(s));
    free(sealed);
    return rc;
}

/* Open a sealed column of one circle row (ops or own_key) into a malloc'd copy. A NULL column
 * is KITH_ENOTFOUND. */
static int
store_circle_blob_get(struct store *st, enum store_stmt which, const char *column, bool padded,
                      size_t max, int64_t circle, uint8_t **out, size_t *out_len)
{
    sqlite3_stmt *s = store_stmt(st, which);
    uint8_t rowkey[8];
    uint8_t *pt = NULL;
    size_t pt_cap = 0, len = 0;
    int rc;

    *out = NULL;
    *out_len = 0;
    sqlite3_bind_int64(s, 1, circle);
    rc = store_step_row(s);
    if (rc == KITH_OK && sqlite3_column_type(s, 0) == SQLITE_NULL) {
        rc = KITH_ENOTFOUND;
    }
    if (rc == KITH_OK) {
        store_be64(rowkey, circle);
        if (padded) {
            rc = store_unseal_padded(st, STORE_T_CIRCLE, column, rowkey, 8, s, 0, max, &pt, &pt_cap,
                                     &len);
        } else {
            rc = store_unseal(st, STORE_T_CIRCLE, column, rowkey, 8, s, 0, max, &pt, &pt_cap);
            len = pt_cap;
        }
    }
    store_done(s);
    if (rc != KITH_OK) {
        return rc;
    }
    *out = xmalloc(len + 1);
    memcpy(*out, pt, len);
    (*out)[len] = 0;
    *out_len = len;
    store_wipe_free(pt, pt_cap);
    return KITH_OK;
}

int
store_circle_ops_get(struct store *st, int64_t circle, uint8_t **ops, size_t *len)
{
    return store_circle_blob_get(st, S_CIRCLE_OPS_GET, "ops", true, STORE_CIRCLE_OPS_MAX, circle,
                                 ops, len);
}

int
store_circle_ops_set(struct store *st, int64_t circle, const uint8_t *ops, size_t len)
{
    uint8_t rowkey[8];
    uint8_t *sealed;
    size_t sealed_len = 0;
    sqlite3_stmt *s;
    int rc;

    if (ops == NULL && len != 0) {
        return KITH_EINVAL;
    }
    if (len > STORE_CIRCLE_OPS_MAX) {
        return KITH_ETOOBIG;
    }
    store_be64(rowkey, circle);
    sealed = store_seal_padded(st, STORE_T_CIRCLE, "ops", rowkey, 8, ops, len, &sealed_len);
    s = store_stmt(st, S_CIRCLE_OPS_SET);
    sqlite3_bind_int64(s, 1, circle);
    sqlite3_bind_blob(s, 2, sealed, (int)sealed_len, SQLITE_STATIC);
    rc = store_changed(st, store_exec_stmt(s));
    free(sealed);
    return rc;
}

int
store_circle_own_key_get(struct store *st, int64_t circle, uint8_t **key, size_t *len)
{
    int rc = store_circle_blob_get(st, S_CIRCLE_KEY_GET, "own_key", false, STORE_OWN_KEY_MAX,
                                   circle, key, len);

    if (rc == KITH_OK && *len == 0) {
        store_blob_free(*key, 1);
        *key = NULL;
        rc = KITH_ECORRUPT; /* an empty key is stored as NULL */
    }
    return rc;
}

int
store_circle_own_key_set(struct store *st, int64_t circle, const uint8_t *key, size_t len)
{
    uint8_t rowkey[8];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    sqlite3_stmt *s;
    int rc;

    if (key == NULL && len != 0) {
        return KITH_EINVAL;
    }
    if (len > STORE_OWN_KEY_MAX) {
        return KITH_ETOOBIG;
    }
    s = store_stmt(st, S_CIRCLE_KEY_SET);
    sqlite3_bind_int64(s, 1, circle);
    if (len > 0) {
        store_be64(rowkey, circle);
        sealed = store_seal(st, STORE_T_CIRCLE, "own_key", rowkey, 8, key, len, &sealed_len);
        sqlite3_bind_blob(s, 2, sealed, (int)sealed_len, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 2);
    }
    rc = store_changed(st, store_exec_stmt(s));
    free(sealed);
    return rc;
}

/* ---- receiving chains ---- */

/* Row key of a chain: circle || epoch || gen || sender member id (32 bytes). */
static void
store_chain_rowkey(int64_t circle, uint32_t epoch, uint32_t gen, const uint8_t sender[16],
                   uint8_t rowkey[32])
{
    store_be64(rowkey, circle);
    store_be32(rowkey + 8, epoch);
    store_be32(rowkey + 12, gen);
    memcpy(rowkey + 16, sender, 16);
}

int
store_chain_put(struct store *st, int64_t circle, uint32_t epoch, const uint8_t sender[16],
                uint32_t gen, int64_t created_at, const uint8_t *state, size_t len)
{
    uint8_t rowkey[32];
    uint8_t sender_idx[32];
    uint8_t *sealed;
    size_t sealed_len = 0;
    sqlite3_stmt *s;
    int rc;

    if (state == NULL || len == 0) {
        return KITH_EINVAL;
    }
    if (len > STORE_CHAIN_MAX) {
        return KITH_ETOOBIG;
    }
    store_chain_rowkey(circle, epoch, gen, sender, rowkey);
    store_circle_member_index(st, circle, sender, sender_idx);
    sealed = store_seal(st, STORE_T_CHAIN, "state", rowkey, sizeof rowkey, state, len, &sealed_len);
    s = store_stmt(st, S_CHAIN_PUT);
    sqlite3_bind_int64(s, 1, circle);
    sqlite3_bind_int64(s, 2, epoch);
    sqlite3_bind_blob(s, 3, sender_idx, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, gen);
    sqlite3_bind_int64(s, 5, created_at);
    sqlite3_bind_blob(s, 6, sealed, (int)sealed_len, SQLITE_STATIC);
    rc = store_exec_stmt(s); /* no such circle: KITH_ENOTFOUND (foreign key) */
    free(sealed);
    return rc;
}

int
store_chain_get(struct store *st, int64_t circle, uint32_t epoch, const uint8_t sender[16],
                uint32_t gen, uint8_t **state, size_t *len)
{
    sqlite3_stmt *s = store_stmt(st, S_CHAIN_GET);
    uint8_t rowkey[32];
    uint8_t sender_idx[32];
    int rc;

    *state = NULL;
    *len = 0;
    store_circle_member_index(st, circle, sender, sender_idx);
    sqlite3_bind_int64(s, 1, circle);
    sqlite3_bind_int64(s, 2, epoch);
    sqlite3_bind_blob(s, 3, sender_idx, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, gen);
    rc = store_step_row(s);
    if (rc == KITH_OK) {
        store_chain_rowkey(circle, epoch, gen, sender, rowkey);
        rc = store_unseal(st, STORE_T_CHAIN, "state", rowkey, sizeof rowkey, s, 0, STORE_CHAIN_MAX,
                          state, len);
    }
    if (rc == KITH_OK && *len == 0) {
        free(*state);
        *state = NULL;
        rc = KITH_ECORRUPT;
    }
    store_done(s);
    return rc;
}

int
store_chain_purge(struct store *st, int64_t circle, uint32_t min_epoch, int64_t created_before)
{
    sqlite3_stmt *s = store_stmt(st, S_CHAIN_PURGE);

    sqlite3_bind_int64(s, 1, circle);
    sqlite3_bind_int64(s, 2, min_epoch);
    sqlite3_bind_int64(s, 3, created_before > 0 ? created_before : INT64_MIN);
    return store_exec_stmt(s);
}

/* ---- circle history ---- */

static void
store_cmsg_rowkey(int64_t circle, const uint8_t msg_id[16], uint8_t rowkey[24])
{
    store_be64(rowkey, circle);
    memcpy(rowkey + 8, msg_id, 16);
}

int
store_cmsg_add(struct store *st, const struct store_cmsg *m)
{
    uint8_t rowkey[24];
    uint8_t *body = NULL, *sealed = NULL;
    size_t sealed_len = 0;
    sqlite3_stmt *s;
    int rc;

    if (m == NULL || (m->payload == NULL && m->payload_len != 0) || m->state < STORE_MSG_QUEUED ||
        m->state > STORE_MSG_EXPIRED || m->kind < 0 || m->kind > STORE_KIND_MAX ||
        m->seq > (uint64_t)INT64_MAX || m->lamport >= (uint64_t)INT64_MAX) {
        return KITH_EINVAL;
    }
    if (m->payload_len > KITH_BODY_MAX) {
        return KITH_ETOOBIG;
    }
    body = xmalloc(16 + m->payload_len);
    memcpy(body, m->sender, 16);
    if (m->payload_len > 0) {
        memcpy(body + 16, m->payload, m->payload_len);
    }
    store_cmsg_rowkey(m->circle, m->msg_id, rowkey);
    sealed = store_seal_padded(st, STORE_T_CMSG, "body", rowkey, sizeof rowkey, body,
                               16 + m->payload_len, &sealed_len);
    store_wipe_free(body, 16 + m->payload_len);
    s = store_stmt(st, S_CMSG_ADD);
    sqlite3_bind_blob(s, 1, m->msg_id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, m->circle);
    sqlite3_bind_int(s, 3, m->outgoing ? 1 : 0);
    sqlite3_bind_int64(s, 4, m->epoch);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)m->seq);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)m->lamport);
    sqlite3_bind_int64(s, 7, m->ts_ms);
    sqlite3_bind_int(s, 8, m->kind);
    sqlite3_bind_int(s, 9, m->state);
    sqlite3_bind_blob(s, 10, sealed, (int)sealed_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 11, m->recv_ms);
    rc = store_exec_stmt(s);
    free(sealed);
    return rc;
}

/* Decode the current row of a CMSG_COLS query into m (payload malloc'd). */
static int
store_cmsg_row(const struct store *st, sqlite3_stmt *s, struct store_cmsg *m)
{
    uint8_t rowkey[24];
    uint8_t *pt = NULL;
    size_t pt_cap = 0, len = 0;
    int64_t circle, outgoing, epoch, seq, lamport, ts, kind, state;
    int rc;

    memset(m, 0, sizeof *m);
    if (!store_col_blob(s, 0, m->msg_id, 16) || !store_col_int(s, 1, 1, INT64_MAX, &circle) ||
        !store_col_int(s, 2, 0, 1, &outgoing) || !store_col_int(s, 3, 0, UINT32_MAX, &epoch) ||
        !store_col_int(s, 4, 0, INT64_MAX, &seq) ||
        !store_col_int(s, 5, 0, INT64_MAX - 1, &lamport) ||
        !store_col_int(s, 6, INT64_MIN, INT64_MAX, &ts) ||
        !store_col_int(s, 7, 0, STORE_KIND_MAX, &kind) ||
        !store_col_int(s, 8, STORE_MSG_QUEUED, STORE_MSG_EXPIRED, &state) ||
        !store_col_int(s, 10, 0, INT64_MAX, &m->recv_ms)) {
        memset(m, 0, sizeof *m);
        return KITH_ECORRUPT;
    }
    store_cmsg_rowkey(circle, m->msg_id, rowkey);
    rc = store_unseal_padded(st, STORE_T_CMSG, "body", rowkey, sizeof rowkey, s, 9,
                             16 + KITH_BODY_MAX, &pt, &pt_cap, &len);
    if (rc == KITH_OK && len < 16) {
        rc = KITH_ECORRUPT;
    }
    if (rc != KITH_OK) {
        store_wipe_free(pt, pt_cap);
        memset(m, 0, sizeof *m);
        return rc;
    }
    m->circle = circle;
    m->outgoing = outgoing != 0;
    memcpy(m->sender, pt, 16);
    m->epoch = (uint32_t)epoch;
    m->seq = (uint64_t)seq;
    m->lamport = (uint64_t)lamport;
    m->ts_ms = ts;
    m->kind = (int)kind;
    m->state = (int)state;
    m->payload_len = len - 16;
    m->payload = xmalloc(m->payload_len + 1);
    memcpy(m->payload, pt + 16, m->payload_len + 1); /* with the NUL after it */
    store_wipe_free(pt, pt_cap);
    return KITH_OK;
}

int
store_cmsg_get(struct store *st, const uint8_t msg_id[16], struct store_cmsg *m)
{
    sqlite3_stmt *s = store_stmt(st, S_CMSG_GET);
    int rc;

    memset(m, 0, sizeof *m);
    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    rc = store_step_row(s);
    if (rc == KITH_OK) {
        rc = store_cmsg_row(st, s, m);
    }
    store_done(s);
    return rc;
}

int
store_cmsg_log(struct store *st, int64_t circle, size_t limit, uint64_t before_lamport,
               struct store_cmsg **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, S_CMSG_LOG);
    struct store_cmsg *list = NULL;
    size_t count = 0, cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    sqlite3_bind_int64(s, 1, circle);
    sqlite3_bind_int64(s, 2,
                       before_lamport == 0 || before_lamport > (uint64_t)INT64_MAX
                           ? INT64_MAX
                           : (sqlite3_int64)before_lamport);
    sqlite3_bind_int64(s, 3, limit == 0 || limit > (size_t)INT64_MAX ? -1 : (sqlite3_int64)limit);
    while ((rc = store_step_row(s)) == KITH_OK) {
        if (count == cap) {
            cap = cap == 0 ? 16 : cap * 2;
            list = xrealloc(list, cap * sizeof *list);
        }
        rc = store_cmsg_row(st, s, &list[count]);
        if (rc != KITH_OK) {
            break;
        }
        count++;
    }
    store_done(s);
    if (rc != KITH_ENOTFOUND) {
        store_cmsgs_free(list, count);
        return rc;
    }
    *out = list;
    *n = count;
    return KITH_OK;
}

int
store_cmsg_set_state(struct store *st, const uint8_t msg_id[16], int state)
{
    sqlite3_stmt *s;

    if (state < STORE_MSG_QUEUED || state > STORE_MSG_EXPIRED) {
        return KITH_EINVAL;
    }
    s = store_stmt(st, S_CMSG_STATE);
    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, state);
    return store_changed(st, store_exec_stmt(s));
}

_Static_assert(STORE_MSG_DELIVERED == 2, "S_CMSG_DELIVERED writes state 2");

int
store_cmsg_delivered_upto(struct store *st, int64_t circle, uint32_t epoch, uint64_t upto,
                          size_t *changed)
{
    sqlite3_stmt *s = store_stmt(st, S_CMSG_DELIVERED);
    int rc;

    *changed = 0;
    sqlite3_bind_int64(s, 1, circle);
    sqlite3_bind_int64(s, 2, epoch);
    sqlite3_bind_int64(s, 3, upto > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)upto);
    rc = store_exec_stmt(s);
    if (rc == KITH_OK) {
        *changed = (size_t)sqlite3_changes(st->db);
    }
    return rc;
}

void
store_cmsg_clear(struct store_cmsg *m)
{
    if (m != NULL && m->payload != NULL) {
        store_wipe_free(m->payload, m->payload_len + 1);
        m->payload = NULL;
    }
}

void
store_cmsgs_free(struct store_cmsg *m, size_t n)
{
    if (m == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        store_wipe_free(m[i].payload, m[i].payload_len + 1);
    }
    free(m);
}

/* ---- circle invites ---- */

int
store_invite_set_circle(struct store *st, uint32_t invite_id, const uint8_t circle_id[16])
{
    static const uint8_t zero[16];
    sqlite3_stmt *s = store_stmt(st, S_INV_CIRCLE_SET);

    sqlite3_bind_int64(s, 1, invite_id);
    if (circle_id == NULL || sodium_memcmp(circle_id, zero, 16) == 0) {
        sqlite3_bind_null(s, 2);
    } else {
        sqlite3_bind_blob(s, 2, circle_id, 16, SQLITE_STATIC);
    }
    return store_changed(st, store_exec_stmt(s));
}

int
store_invite_get_circle(struct store *st, uint32_t invite_id, uint8_t circle_id[16])
{
    sqlite3_stmt *s = store_stmt(st, S_INV_CIRCLE_GET);
    int rc;

    memset(circle_id, 0, 16);
    sqlite3_bind_int64(s, 1, invite_id);
    rc = store_step_row(s);
    if (rc == KITH_OK && sqlite3_column_type(s, 0) != SQLITE_NULL &&
        !store_col_blob(s, 0, circle_id, 16)) {
        memset(circle_id, 0, 16);
        rc = KITH_ECORRUPT;
    }
    store_done(s);
    return rc;
}
