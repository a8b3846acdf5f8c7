/*
 * store_people: the identity row, settings, contacts, invites, saved
 * sessions and the replay tables (seen_ek, seen). Every value is sealed
 * and read back through the helpers in store.c (see store_impl.h).
 */
#include "core/store_impl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/limits.h"

/* ---- identity and settings ---- */

static const uint8_t store_identity_rowkey[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };

int
store_identity_save(struct store *st, const struct identity *id, const char *name)
{
    uint8_t secret[IDENTITY_SECRET_BYTES];
    uint8_t *sealed_secret = NULL;
    uint8_t *sealed_name = NULL;
    size_t secret_len = 0;
    size_t name_len_sealed = 0;
    size_t name_len;
    sqlite3_stmt *s;
    int rc;

    if (id == NULL || name == NULL || (name_len = strlen(name)) > KITH_NAME_MAX) {
        return KITH_EINVAL;
    }
    identity_serialize(id, secret);
    sealed_secret = store_seal(st, STORE_T_IDENTITY, "secret", store_identity_rowkey, 8, secret,
                               sizeof secret, &secret_len);
    sodium_memzero(secret, sizeof secret);
    sealed_name = store_seal_padded(st, STORE_T_IDENTITY, "name", store_identity_rowkey, 8, name,
                                    name_len, &name_len_sealed);
    s = store_stmt(st, S_ID_SAVE);
    sqlite3_bind_blob(s, 1, sealed_secret, (int)secret_len, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, sealed_name, (int)name_len_sealed, SQLITE_STATIC);
    rc = store_exec_stmt(s);
    free(sealed_secret);
    free(sealed_name);
    return rc;
}

int
store_identity_load(struct store *st, struct identity **id, char name[KITH_STORE_NAME_BUF])
{
    sqlite3_stmt *s = store_stmt(st, S_ID_LOAD);
    uint8_t *secret = NULL;
    uint8_t *nm = NULL;
    size_t secret_len = 0;
    size_t nm_cap = 0;
    size_t nm_len = 0;
    int rc;

    *id = NULL;
    memset(name, 0, KITH_STORE_NAME_BUF);
    rc = store_step_row(s);
    if (rc != KITH_OK) {
        goto out;
    }
    rc = store_unseal(st, STORE_T_IDENTITY, "secret", store_identity_rowkey, 8, s, 0,
                      IDENTITY_SECRET_BYTES, &secret, &secret_len);
    if (rc == KITH_OK) {
        rc = store_unseal_padded(st, STORE_T_IDENTITY, "name", store_identity_rowkey, 8, s, 1,
                                 KITH_NAME_MAX, &nm, &nm_cap, &nm_len);
    }
    if (rc == KITH_OK && identity_parse(secret, secret_len, id) != KITH_OK) {
        rc = KITH_ECORRUPT;
    }
    if (rc == KITH_OK) {
        memcpy(name, nm, nm_len);
    }
out:
    store_done(s);
    store_wipe_free(secret, secret_len);
    store_wipe_free(nm, nm_cap);
    return rc;
}

static int
store_setting_key(const struct store *st, const char *key, uint8_t key_idx[32])
{
    size_t len;

    if (key == NULL || (len = strlen(key)) == 0 || len > STORE_SETTING_KEY_MAX) {
        return KITH_EINVAL;
    }
    store_index(st, STORE_IDX_SETTING, (const uint8_t *)key, len, key_idx);
    return KITH_OK;
}

int
store_setting_set(struct store *st, const char *key, const char *value)
{
    uint8_t key_idx[32];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    size_t len;
    sqlite3_stmt *s;
    int rc;

    rc = store_setting_key(st, key, key_idx);
    if (rc != KITH_OK) {
        return rc;
    }
    if (value == NULL || (len = strlen(value)) > STORE_SETTING_MAX) {
        return KITH_EINVAL;
    }
    sealed = store_seal_padded(st, STORE_T_SETTING, "value", key_idx, sizeof key_idx, value, len,
                               &sealed_len);
    s = store_stmt(st, S_SET_SET);
    sqlite3_bind_blob(s, 1, key_idx, sizeof key_idx, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, sealed, (int)sealed_len, SQLITE_STATIC);
    rc = store_exec_stmt(s);
    free(sealed);
    return rc;
}

int
store_setting_get(struct store *st, const char *key, char **value)
{
    uint8_t key_idx[32];
    uint8_t *pt = NULL;
    size_t pt_len = 0;
    size_t len = 0;
    sqlite3_stmt *s = NULL;
    int rc;

    *value = NULL;
    rc = store_setting_key(st, key, key_idx);
    if (rc != KITH_OK) {
        return rc;
    }
    s = store_stmt(st, S_SET_GET);
    sqlite3_bind_blob(s, 1, key_idx, sizeof key_idx, SQLITE_STATIC);
    rc = store_step_row(s);
    if (rc == KITH_OK) {
        rc = store_unseal_padded(st, STORE_T_SETTING, "value", key_idx, sizeof key_idx, s, 0,
                                 STORE_SETTING_MAX, &pt, &pt_len, &len);
    }
    if (rc == KITH_OK) {
        *value = xmalloc(len + 1);
        memcpy(*value, pt, len + 1);
    }
    store_done(s);
    store_wipe_free(pt, pt_len);
    return rc;
}

/* ---- contacts ---- */

static void
store_pub_encode(const struct store_contact *c, uint8_t out[STORE_PUB_PLAIN])
{
    const struct identity_public *p = &c->pub;
    uint8_t *o = out;

    memcpy(o, p->ik, 32);
    memcpy(o + 32, p->ikdh, 32);
    memcpy(o + 64, p->ikdh_sig, 64);
    memcpy(o + 128, p->tk, 32);
    store_be32(o + 160, p->tk_not_after);
    memcpy(o + 164, p->tk_sig, 64);
    memcpy(o + 228, c->member_id, IDENTITY_MEMBER_ID);
}

static void
store_pub_decode(const uint8_t in[STORE_PUB_PLAIN], struct store_contact *c)
{
    struct identity_public *p = &c->pub;

    memcpy(p->ik, in, 32);
    memcpy(p->ikdh, in + 32, 32);
    memcpy(p->ikdh_sig, in + 64, 64);
    memcpy(p->tk, in + 128, 32);
    p->tk_not_after = store_get_be32(in + 160);
    memcpy(p->tk_sig, in + 164, 64);
    memcpy(c->member_id, in + 228, IDENTITY_MEMBER_ID);
}

#define STORE_EP_PLAIN (1 + STORE_ENDPOINTS_MAX * (1 + STORE_ENDPOINT_MAX))

/* u8 n || n * (u8 len || bytes) */
static size_t
store_ep_encode(const struct store_contact *c, uint8_t out[STORE_EP_PLAIN])
{
    size_t n = 0;

    out[n++] = c->n_endpoints;
    for (uint8_t i = 0; i < c->n_endpoints; i++) {
        size_t len = strlen(c->endpoints[i]);
        out[n++] = (uint8_t)len;
        memcpy(out + n, c->endpoints[i], len);
        n += len;
    }
    return n;
}

static int
store_ep_decode(const uint8_t *in, size_t len, struct store_contact *c)
{
    size_t pos = 1;

    if (len < 1 || in[0] > STORE_ENDPOINTS_MAX) {
        return KITH_ECORRUPT;
    }
    c->n_endpoints = in[0];
    for (uint8_t i = 0; i < c->n_endpoints; i++) {
        size_t el;
        if (pos >= len || (el = in[pos]) > STORE_ENDPOINT_MAX || len - pos - 1 < el) {
            return KITH_ECORRUPT;
        }
        memcpy(c->endpoints[i], in + pos + 1, el);
        c->endpoints[i][el] = '\0';
        pos += 1 + el;
    }
    return pos == len ? KITH_OK : KITH_ECORRUPT;
}

static int
store_contact_check(const struct store_contact *c)
{
    size_t len = strnlen(c->name, sizeof c->name);

    if (len == 0 || len > KITH_NAME_MAX || c->n_endpoints > STORE_ENDPOINTS_MAX ||
        (c->state != STORE_CONTACT_PENDING && c->state != STORE_CONTACT_ACTIVE) || c->trust < 0 ||
        c->trust > 3) {
        return KITH_EINVAL;
    }
    for (uint8_t i = 0; i < c->n_endpoints; i++) {
        if (strnlen(c->endpoints[i], sizeof c->endpoints[i]) > STORE_ENDPOINT_MAX) {
            return KITH_EINVAL;
        }
    }
    return KITH_OK;
}

/* Seal and bind every column of a contact (?1..?10) for INSERT or UPDATE. */
struct store_contact_cols {
    uint8_t *name;
    uint8_t *pub;
    uint8_t *endpoints;
    size_t name_len, pub_len, endpoints_len;
};

static void
store_contact_bind(struct store *st, sqlite3_stmt *s, const struct store_contact *c,
                   struct store_contact_cols *cols, uint8_t name_idx[32], uint8_t member_idx[32])
{
    uint8_t rowkey[8];
    uint8_t pub[STORE_PUB_PLAIN];
    uint8_t ep[STORE_EP_PLAIN];
    size_t ep_len = store_ep_encode(c, ep);
    size_t name_len = strlen(c->name);

    store_be64(rowkey, c->id);
    store_pub_encode(c, pub);
    store_name_index(st, c->name, name_len, name_idx);
    store_index(st, STORE_IDX_MEMBER, c->member_id, IDENTITY_MEMBER_ID, member_idx);
    cols->name = store_seal_padded(st, STORE_T_CONTACT, "name", rowkey, 8, c->name, name_len,
                                   &cols->name_len);
    cols->pub = store_seal(st, STORE_T_CONTACT, "pub", rowkey, 8, pub, sizeof pub, &cols->pub_len);
    cols->endpoints = store_seal_padded(st, STORE_T_CONTACT, "endpoints", rowkey, 8, ep, ep_len,
                                        &cols->endpoints_len);
    sodium_memzero(ep, sizeof ep);
    sqlite3_bind_int64(s, 1, c->id);
    sqlite3_bind_blob(s, 2, name_idx, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, member_idx, 32, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, c->state);
    sqlite3_bind_int(s, 5, c->verified ? 1 : 0);
    sqlite3_bind_int(s, 6, c->trust);
    sqlite3_bind_int64(s, 7, c->created_at);
    sqlite3_bind_blob(s, 8, cols->name, (int)cols->name_len, SQLITE_STATIC);
    sqlite3_bind_blob(s, 9, cols->pub, (int)cols->pub_len, SQLITE_STATIC);
    sqlite3_bind_blob(s, 10, cols->endpoints, (int)cols->endpoints_len, SQLITE_STATIC);
}

static void
store_contact_cols_free(struct store_contact_cols *cols)
{
    free(cols->name);
    free(cols->pub);
    free(cols->endpoints);
    memset(cols, 0, sizeof *cols);
}

int
store_contact_add(struct store *st, struct store_contact *c)
{
    struct store_contact_cols cols = { 0 };
    uint8_t name_idx[32];
    uint8_t member_idx[32];
    int rc = store_contact_check(c);

    if (rc != KITH_OK) {
        return rc;
    }
    for (int attempt = 0; attempt < 4; attempt++) {
        sqlite3_stmt *s = store_stmt(st, S_CONTACT_ADD);
        int sqlrc;

        do {
            randombytes_buf(&c->id, sizeof c->id);
            c->id &= INT64_MAX;
        } while (c->id == 0);
        store_contact_bind(st, s, c, &cols, name_idx, member_idx);
        sqlrc = sqlite3_step(s);
        if (sqlrc != SQLITE_DONE) {
            sqlrc = sqlite3_reset(s);
        }
        store_done(s);
        store_contact_cols_free(&cols);
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

int
store_contact_update(struct store *st, const struct store_contact *c)
{
    struct store_contact_cols cols = { 0 };
    uint8_t name_idx[32];
    uint8_t member_idx[32];
    sqlite3_stmt *s;
    int rc = store_contact_check(c);

    if (rc != KITH_OK) {
        return rc;
    }
    s = store_stmt(st, S_CONTACT_UPDATE);
    store_contact_bind(st, s, c, &cols, name_idx, member_idx);
    rc = store_changed(st, store_exec_stmt(s));
    store_contact_cols_free(&cols);
    return rc;
}

/* Decode the current row of a CONTACT_COLS query. */
static int
store_contact_row(const struct store *st, sqlite3_stmt *s, struct store_contact *c)
{
    uint8_t rowkey[8];
    uint8_t *name = NULL, *pub = NULL, *ep = NULL;
    size_t name_cap = 0, pub_len = 0, ep_cap = 0, name_len = 0, ep_len = 0;
    int64_t id, state, verified, trust, created;
    int rc = KITH_ECORRUPT;

    memset(c, 0, sizeof *c);
    if (!store_col_int(s, 0, 1, INT64_MAX, &id) || !store_col_int(s, 1, 0, 1, &state) ||
        !store_col_int(s, 2, 0, 1, &verified) || !store_col_int(s, 3, 0, 3, &trust) ||
        !store_col_int(s, 4, INT64_MIN, INT64_MAX, &created)) {
        goto out;
    }
    store_be64(rowkey, id);
    rc = store_unseal_padded(st, STORE_T_CONTACT, "name", rowkey, 8, s, 5, KITH_NAME_MAX, &name,
                             &name_cap, &name_len);
    if (rc == KITH_OK) {
        rc = store_unseal(st, STORE_T_CONTACT, "pub", rowkey, 8, s, 6, STORE_PUB_PLAIN, &pub,
                          &pub_len);
    }
    if (rc == KITH_OK) {
        rc = store_unseal_padded(st, STORE_T_CONTACT, "endpoints", rowkey, 8, s, 7, STORE_EP_PLAIN,
                                 &ep, &ep_cap, &ep_len);
    }
    if (rc == KITH_OK && (pub_len != STORE_PUB_PLAIN || name_len == 0)) {
        rc = KITH_ECORRUPT;
    }
    if (rc == KITH_OK) {
        rc = store_ep_decode(ep, ep_len, c);
    }
    if (rc != KITH_OK) {
        goto out;
    }
    c->id = id;
    memcpy(c->name, name, name_len);
    store_pub_decode(pub, c);
    c->state = (int)state;
    c->verified = verified != 0;
    c->trust = (int)trust;
    c->created_at = created;
out:
    store_wipe_free(name, name_cap);
    store_wipe_free(pub, pub_len);
    store_wipe_free(ep, ep_cap);
    if (rc != KITH_OK) {
        memset(c, 0, sizeof *c);
    }
    return rc;
}

static int
store_contact_one(struct store *st, sqlite3_stmt *s, struct store_contact *c)
{
    int rc = store_step_row(s);

    if (rc == KITH_OK) {
        rc = store_contact_row(st, s, c);
    } else {
        memset(c, 0, sizeof *c);
    }
    store_done(s);
    return rc;
}

int
store_contact_by_id(struct store *st, int64_t id, struct store_contact *c)
{
    sqlite3_stmt *s = store_stmt(st, S_CONTACT_BY_ID);

    sqlite3_bind_int64(s, 1, id);
    return store_contact_one(st, s, c);
}

int
store_contact_by_name(struct store *st, const char *name, struct store_contact *c)
{
    uint8_t name_idx[32];
    sqlite3_stmt *s;
    size_t len;

    if (name == NULL || (len = strlen(name)) == 0 || len > KITH_NAME_MAX) {
        memset(c, 0, sizeof *c);
        return KITH_ENOTFOUND;
    }
    store_name_index(st, name, len, name_idx);
    s = store_stmt(st, S_CONTACT_BY_NAME);
    sqlite3_bind_blob(s, 1, name_idx, sizeof name_idx, SQLITE_STATIC);
    return store_contact_one(st, s, c);
}

int
store_contact_by_member(struct store *st, const uint8_t member_id[IDENTITY_MEMBER_ID],
                        struct store_contact *c)
{
    uint8_t member_idx[32];
    sqlite3_stmt *s;

    store_index(st, STORE_IDX_MEMBER, member_id, IDENTITY_MEMBER_ID, member_idx);
    s = store_stmt(st, S_CONTACT_BY_MEMBER);
    sqlite3_bind_blob(s, 1, member_idx, sizeof member_idx, SQLITE_STATIC);
    return store_contact_one(st, s, c);
}

static int
store_contact_cmp(const void *a, const void *b)
{
    const struct store_contact *x = a;
    const struct store_contact *y = b;
    int d = strcasecmp(x->name, y->name);

    if (d != 0) {
        return d;
    }
    return (x->id > y->id) - (x->id < y->id);
}

int
store_contacts_list(struct store *st, struct store_contact **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, S_CONTACT_ALL);
    struct store_contact *list = NULL;
    size_t count = 0, cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    while ((rc = store_step_row(s)) == KITH_OK) {
        if (count == cap) {
            cap = cap == 0 ? 8 : cap * 2;
            list = xrealloc(list, cap * sizeof *list);
        }
        rc = store_contact_row(st, s, &list[count]);
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
        qsort(list, count, sizeof *list, store_contact_cmp);
    }
    *out = list;
    *n = count;
    return KITH_OK;
}

/* ---- boundary rule sets (sealed per contact; bytes opaque here) ---- */

static const char *
store_rules_column(enum store_rules_kind kind)
{
    return kind == STORE_RULES_TOLD ? "told" : "rules";
}

int
store_rules_set(struct store *st, int64_t contact_id, enum store_rules_kind kind,
                const uint8_t *buf, size_t len)
{
    uint8_t rowkey[8];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    sqlite3_stmt *s;
    int rc;

    if ((kind != STORE_RULES_OURS && kind != STORE_RULES_TOLD) || (buf == NULL && len != 0)) {
        return KITH_EINVAL;
    }
    if (len > STORE_RULES_MAX) {
        return KITH_ETOOBIG;
    }
    store_be64(rowkey, contact_id);
    s = store_stmt(st, kind == STORE_RULES_TOLD ? S_TOLD_SET : S_RULES_SET);
    sqlite3_bind_int64(s, 1, contact_id);
    if (len == 0) {
        sqlite3_bind_null(s, 2);
    } else {
        sealed = store_seal_padded(st, STORE_T_CONTACT, store_rules_column(kind), rowkey,
                                   sizeof rowkey, buf, len, &sealed_len);
        sqlite3_bind_blob(s, 2, sealed, (int)sealed_len, SQLITE_STATIC);
    }
    rc = store_changed(st, store_exec_stmt(s));
    free(sealed);
    return rc;
}

int
store_rules_get(struct store *st, int64_t contact_id, enum store_rules_kind kind, uint8_t **buf,
                size_t *len)
{
    uint8_t rowkey[8];
    uint8_t *pt = NULL;
    size_t pt_cap = 0;
    size_t value_len = 0;
    sqlite3_stmt *s;
    int rc;

    *buf = NULL;
    *len = 0;
    if (kind != STORE_RULES_OURS && kind != STORE_RULES_TOLD) {
        return KITH_EINVAL;
    }
    store_be64(rowkey, contact_id);
    s = store_stmt(st, kind == STORE_RULES_TOLD ? S_TOLD_GET : S_RULES_GET);
    sqlite3_bind_int64(s, 1, contact_id);
    rc = store_step_row(s);
    if (rc == KITH_OK && sqlite3_column_type(s, 0) == SQLITE_NULL) {
        rc = KITH_ENOTFOUND;
    } else if (rc == KITH_OK) {
        rc = store_unseal_padded(st, STORE_T_CONTACT, store_rules_column(kind), rowkey,
                                 sizeof rowkey, s, 0, STORE_RULES_MAX, &pt, &pt_cap, &value_len);
    }
    store_done(s);
    if (rc == KITH_OK) {
        *buf = xmalloc(value_len + 1);
        memcpy(*buf, pt, value_len);
        *len = value_len;
    }
    store_wipe_free(pt, pt_cap);
    return rc;
}

void
store_rules_free(uint8_t *buf, size_t len)
{
    if (buf != NULL) {
        sodium_memzero(buf, len);
        free(buf);
    }
}

/* ---- invites ---- */

static void
store_invite_rowkey(uint32_t invite_id, uint8_t rowkey[8])
{
    store_be64(rowkey, (int64_t)invite_id);
}

static int
store_invite_write(struct store *st, enum store_stmt which, const struct store_invite *inv)
{
    uint8_t rowkey[8];
    uint8_t keys[STORE_INVITE_PLAIN];
    uint8_t *sealed;
    size_t sealed_len = 0;
    sqlite3_stmt *s = store_stmt(st, which);
    int rc;

    if (inv->state < STORE_INVITE_ISSUED || inv->state > STORE_INVITE_REVOKED) {
        return KITH_EINVAL;
    }
    store_invite_rowkey(inv->invite_id, rowkey);
    memcpy(keys, inv->inv_sk, 32);
    memcpy(keys + 32, inv->inv_pk, 32);
    memcpy(keys + 64, inv->secret, 32);
    sealed = store_seal(st, STORE_T_INVITE, "keys", rowkey, 8, keys, sizeof keys, &sealed_len);
    sodium_memzero(keys, sizeof keys);
    sqlite3_bind_int64(s, 1, inv->invite_id);
    sqlite3_bind_int(s, 2, inv->state);
    if (which == S_INV_ADD) {
        sqlite3_bind_int64(s, 3, inv->expires_at);
        sqlite3_bind_blob(s, 4, sealed, (int)sealed_len, SQLITE_STATIC);
        rc = store_exec_stmt(s);
    } else {
        sqlite3_bind_blob(s, 3, sealed, (int)sealed_len, SQLITE_STATIC);
        rc = store_changed(st, store_exec_stmt(s));
    }
    free(sealed);
    return rc;
}

int
store_invite_add(struct store *st, const struct store_invite *inv)
{
    return store_invite_write(st, S_INV_ADD, inv);
}

int
store_invite_get(struct store *st, uint32_t invite_id, struct store_invite *inv)
{
    sqlite3_stmt *s = store_stmt(st, S_INV_GET);
    uint8_t rowkey[8];
    uint8_t *keys = NULL;
    size_t keys_len = 0;
    int64_t id, state, expires;
    int rc;

    memset(inv, 0, sizeof *inv);
    sqlite3_bind_int64(s, 1, invite_id);
    rc = store_step_row(s);
    if (rc != KITH_OK) {
        goto out;
    }
    if (!store_col_int(s, 0, invite_id, invite_id, &id) || !store_col_int(s, 1, 0, 2, &state) ||
        !store_col_int(s, 2, 0, UINT32_MAX, &expires)) {
        rc = KITH_ECORRUPT;
        goto out;
    }
    store_invite_rowkey(invite_id, rowkey);
    rc = store_unseal(st, STORE_T_INVITE, "keys", rowkey, 8, s, 3, STORE_INVITE_PLAIN, &keys,
                      &keys_len);
    if (rc == KITH_OK && keys_len != STORE_INVITE_PLAIN) {
        rc = KITH_ECORRUPT;
    }
    if (rc != KITH_OK) {
        goto out;
    }
    inv->invite_id = invite_id;
    inv->state = (int)state;
    inv->expires_at = (uint32_t)expires;
    memcpy(inv->inv_sk, keys, 32);
    memcpy(inv->inv_pk, keys + 32, 32);
    memcpy(inv->secret, keys + 64, 32);
out:
    store_done(s);
    store_wipe_free(keys, keys_len);
    return rc;
}

int
store_invite_set_state(struct store *st, uint32_t invite_id, int state)
{
    struct store_invite inv;
    int rc;

    if (state < STORE_INVITE_ISSUED || state > STORE_INVITE_REVOKED) {
        return KITH_EINVAL;
    }
    rc = store_op_begin(st);
    if (rc != KITH_OK) {
        return rc;
    }
    rc = store_invite_get(st, invite_id, &inv);
    if (rc == KITH_OK) {
        inv.state = state;
        if (state != STORE_INVITE_ISSUED) {
            sodium_memzero(inv.inv_sk, sizeof inv.inv_sk); /* one-time key: gone once spent */
        }
        rc = store_invite_write(st, S_INV_SET, &inv);
    }
    sodium_memzero(&inv, sizeof inv);
    return store_op_end(st, rc);
}

int
store_invites_open(struct store *st, uint32_t now_s, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, S_INV_OPEN);
    int64_t count = 0;
    int rc;

    *n = 0;
    sqlite3_bind_int64(s, 1, now_s);
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

/* ---- sessions and replay tables ---- */

int
store_session_save_tagged(struct store *st, int64_t contact_id, const struct session *sess,
                          uint8_t tag[STORE_SESSION_TAG])
{
    uint8_t rowkey[8];
    uint8_t *plain = NULL;
    uint8_t *sealed = NULL;
    size_t plain_len = 0;
    size_t sealed_len = 0;
    sqlite3_stmt *s;
    int rc;

    _Static_assert(STORE_SESSION_TAG == KCRYPT_NONCE, "a session's tag is its sealing nonce");
    if (sess == NULL) {
        return KITH_EINVAL;
    }
    store_be64(rowkey, contact_id);
    session_serialize(sess, &plain, &plain_len);
    if (plain_len > STORE_SESSION_MAX) {
        store_wipe_free(plain, plain_len);
        return KITH_ETOOBIG;
    }
    sealed = store_seal(st, STORE_T_SESSION, "state", rowkey, 8, plain, plain_len, &sealed_len);
    store_wipe_free(plain, plain_len);
    s = store_stmt(st, S_SESS_SAVE);
    sqlite3_bind_int64(s, 1, contact_id);
    sqlite3_bind_blob(s, 2, sealed, (int)sealed_len, SQLITE_STATIC);
    rc = store_exec_stmt(s);
    if (rc == KITH_OK && tag != NULL) {
        memcpy(tag, sealed, STORE_SESSION_TAG); /* sealed = nonce || ct || tag */
    }
    free(sealed);
    return rc;
}

int
store_session_save(struct store *st, int64_t contact_id, const struct session *sess)
{
    return store_session_save_tagged(st, contact_id, sess, NULL);
}

int
store_session_load_tagged(struct store *st, int64_t contact_id, const uint8_t *known,
                          struct session **out, uint8_t tag[STORE_SESSION_TAG])
{
    sqlite3_stmt *s = store_stmt(st, S_SESS_LOAD);
    uint8_t rowkey[8];
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    int rc;

    *out = NULL;
    sqlite3_bind_int64(s, 1, contact_id);
    rc = store_step_row(s);
    if (rc == KITH_OK && known != NULL && sqlite3_column_type(s, 0) == SQLITE_BLOB &&
        sqlite3_column_bytes(s, 0) >= STORE_SESSION_TAG &&
        memcmp(sqlite3_column_blob(s, 0), known, STORE_SESSION_TAG) == 0) {
        store_done(s);
        return KITH_OK; /* unchanged since the caller's copy was saved or loaded */
    }
    if (rc == KITH_OK) {
        store_be64(rowkey, contact_id);
        rc = store_unseal(st, STORE_T_SESSION, "state", rowkey, 8, s, 0, STORE_SESSION_MAX, &plain,
                          &plain_len);
    }
    if (rc == KITH_OK && session_parse(plain, plain_len, out) != KITH_OK) {
        rc = KITH_ECORRUPT;
    }
    if (rc == KITH_OK && tag != NULL) {
        memcpy(tag, sqlite3_column_blob(s, 0), STORE_SESSION_TAG); /* unseal checked the size */
    }
    store_done(s);
    store_wipe_free(plain, plain_len);
    return rc;
}

int
store_session_load(struct store *st, int64_t contact_id, struct session **out)
{
    return store_session_load_tagged(st, contact_id, NULL, out, NULL);
}

int
store_seen_ek(struct store *st, const uint8_t ek[32], int64_t now_s)
{
    uint8_t ek_idx[32];
    sqlite3_stmt *s = store_stmt(st, S_EK_ADD);
    int rc;

    store_index(st, STORE_IDX_EK, ek, 32, ek_idx);
    sqlite3_bind_blob(s, 1, ek_idx, sizeof ek_idx, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now_s);
    rc = store_exec_stmt(s);
    if (rc == KITH_OK && sqlite3_changes(st->db) == 0) {
        rc = KITH_EREPLAY;
    }
    return rc;
}

int
store_seen_add(struct store *st, const uint8_t msg_id[16], int64_t now_s)
{
    sqlite3_stmt *s = store_stmt(st, S_SEEN_ADD);

    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now_s);
    return store_exec_stmt(s);
}

int
store_seen_prune(struct store *st, int64_t before_s, size_t *deleted)
{
    return store_exec_counted(st, S_SEEN_PRUNE, before_s, deleted);
}

bool
store_seen_has(struct store *st, const uint8_t msg_id[16])
{
    sqlite3_stmt *s = store_stmt(st, S_SEEN_HAS);
    bool has;

    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    has = sqlite3_step(s) == SQLITE_ROW;
    store_done(s);
    return has;
}
