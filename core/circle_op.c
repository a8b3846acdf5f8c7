/*
 * circle_op: the signed membership ops of a circle, the op log that carries
 * them, and circle_resolve, which folds any set of ops into the same state on
 * every member: ops are taken in H32 order, so the result depends only on the
 * set, never on the order it arrived in. Decoding checks grammar first, then
 * the subject's bundle, then the issuer's signature.
 */
#include "core/circle.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/circle_impl.h"
#include "core/kcrypt.h"

#define CIRCLE_OP_VERSION 1
#define CIRCLE_OP_CTX     "kith-v1/circle-op"
#define CIRCLE_OP_HASH    "kith-v1/circle-op" /* label of H32(op) */
/* version, type, circle_id, epoch_no, parent, issued_at, issuer IK */
#define CIRCLE_OP_FIXED (1 + 1 + CIRCLE_ID_BYTES + 4 + 16 + 4 + 32)
/* fixed, subject bundle, admin, three length bytes, signature */
#define CIRCLE_OP_MIN     (CIRCLE_OP_FIXED + IDENTITY_PUBLIC_BYTES + 1 + 3 + 64)
#define CIRCLE_NAME_MAX   (CIRCLE_NAME_BUF - 1)
#define CIRCLE_EP_MAX     (CIRCLE_ENDPOINT_BUF - 1)
#define CIRCLE_LOSERS_MAX (sizeof((struct circle_state *)0)->losers / 32)

_Static_assert(CIRCLE_OP_MIN + 2 * CIRCLE_NAME_MAX + CIRCLE_EP_MAX <= CIRCLE_OP_MAX,
               "the largest op fits CIRCLE_OP_MAX");
_Static_assert(CIRCLE_NAME_MAX == CARD_NAME_MAX && CIRCLE_EP_MAX == CARD_ENDPOINT_MAX,
               "names and endpoints follow the contact card grammar");

static bool
circle_type_known(uint8_t type)
{
    return type >= CIRCLE_OP_CREATE && type <= CIRCLE_OP_ADMIN;
}

static bool
circle_is_zero16(const uint8_t p[16])
{
    static const uint8_t zero[16];

    return memcmp(p, zero, 16) == 0;
}

/* The rules every op obeys on its own (no state needed): grammar and the
 * shape of CREATE and LEAVE. Strings must be NUL-terminated in their buffers. */
static bool
circle_op_fields_ok(const struct circle_op *op)
{
    size_t name_len = strnlen(op->subject.name, CIRCLE_NAME_BUF);
    size_t ep_len = strnlen(op->subject.endpoint, CIRCLE_ENDPOINT_BUF);
    size_t cname_len = strnlen(op->circle_name, CIRCLE_NAME_BUF);
    bool is_create = op->type == CIRCLE_OP_CREATE;

    if (!circle_type_known(op->type) || name_len > CIRCLE_NAME_MAX || ep_len > CIRCLE_EP_MAX ||
        cname_len > CIRCLE_NAME_MAX || !frame_valid_name(op->subject.name, name_len) ||
        (ep_len > 0 && !frame_valid_endpoint(op->subject.endpoint, ep_len, false))) {
        return false;
    }
    if (is_create) {
        return frame_valid_name(op->circle_name, cname_len) && op->epoch_no == 1 &&
               circle_is_zero16(op->parent) && op->subject.admin &&
               memcmp(op->subject.pub.ik, op->issuer_ik, 32) == 0;
    }
    if (cname_len != 0 || op->epoch_no < 2) {
        return false;
    }
    return op->type != CIRCLE_OP_LEAVE || memcmp(op->subject.pub.ik, op->issuer_ik, 32) == 0;
}

/* Bytes of the encoded op (signature included). */
static size_t
circle_op_size(const struct circle_op *op)
{
    return CIRCLE_OP_MIN + strlen(op->subject.name) + strlen(op->subject.endpoint) +
           strlen(op->circle_name);
}

static uint8_t *
circle_put_str(uint8_t *p, const char *s)
{
    size_t len = strlen(s);

    *p++ = (uint8_t)len;
    memcpy(p, s, len);
    return p + len;
}

/* Everything but the signature; returns the number of bytes written. */
static size_t
circle_op_put_signed(const struct circle_op *op, uint8_t *out)
{
    uint8_t *p = out;

    *p++ = CIRCLE_OP_VERSION;
    *p++ = op->type;
    memcpy(p, op->circle_id, CIRCLE_ID_BYTES);
    p += CIRCLE_ID_BYTES;
    circle_impl_put_u32(p, op->epoch_no);
    p += 4;
    memcpy(p, op->parent, 16);
    p += 16;
    circle_impl_put_u32(p, op->issued_at);
    p += 4;
    memcpy(p, op->issuer_ik, 32);
    p += 32;
    identity_public_encode(&op->subject.pub, p);
    p += IDENTITY_PUBLIC_BYTES;
    *p++ = op->subject.admin ? 1 : 0;
    p = circle_put_str(p, op->subject.name);
    p = circle_put_str(p, op->subject.endpoint);
    p = circle_put_str(p, op->circle_name);
    return (size_t)(p - out);
}

int
circle_op_make(struct circle_op *op, const struct identity *issuer, uint8_t *out, size_t cap,
               size_t *out_len)
{
    size_t len;
    size_t signed_len;

    *out_len = 0;
    memcpy(op->issuer_ik, identity_public(issuer)->ik, 32);
    if (!circle_op_fields_ok(op) || identity_public_verify(&op->subject.pub) != KITH_OK) {
        return KITH_EINVAL;
    }
    len = circle_op_size(op);
    if (out == NULL || cap < len) {
        return KITH_ETOOBIG;
    }
    signed_len = circle_op_put_signed(op, out);
    if (signed_len + 64 != len) {
        KITH_BUG("circle_op_make: size mismatch");
    }
    identity_sign(issuer, op->sig, CIRCLE_OP_CTX, out, signed_len);
    memcpy(out + signed_len, op->sig, 64);
    identity_member_id(op->subject.pub.ik, op->subject.member_id);
    kcrypt_hash(op->hash, 32, CIRCLE_OP_HASH, out, len, NULL, 0);
    *out_len = len;
    return KITH_OK;
}

/* A length-prefixed string at in[*pos] ending before `end`, copied into buf. */
static bool
circle_get_str(const uint8_t *in, size_t *pos, size_t end, char *buf, size_t buf_size)
{
    size_t len;

    if (*pos >= end) {
        return false;
    }
    len = in[(*pos)++];
    if (len > end - *pos || len >= buf_size) {
        return false;
    }
    memcpy(buf, in + *pos, len);
    buf[len] = '\0';
    if (memchr(buf, '\0', len) != NULL) {
        return false; /* an embedded NUL would not re-encode */
    }
    *pos += len;
    return true;
}

int
circle_op_decode(const uint8_t *in, size_t len, struct circle_op *op)
{
    size_t pos = CIRCLE_OP_FIXED + IDENTITY_PUBLIC_BYTES;
    size_t end;
    int rc;

    memset(op, 0, sizeof *op);
    if (in == NULL || len < CIRCLE_OP_MIN || len > CIRCLE_OP_MAX || in[0] != CIRCLE_OP_VERSION) {
        return KITH_EMALFORMED;
    }
    end = len - 64;
    op->type = in[1];
    memcpy(op->circle_id, in + 2, CIRCLE_ID_BYTES);
    op->epoch_no = circle_impl_get_u32(in + 18);
    memcpy(op->parent, in + 22, 16);
    op->issued_at = circle_impl_get_u32(in + 38);
    memcpy(op->issuer_ik, in + 42, 32);
    memcpy(op->subject.pub.ik, in + CIRCLE_OP_FIXED, 32); /* bundle checked below */
    rc = KITH_EMALFORMED;
    if (in[pos] > 1) {
        goto out;
    }
    op->subject.admin = in[pos++] == 1;
    if (!circle_get_str(in, &pos, end, op->subject.name, CIRCLE_NAME_BUF) ||
        !circle_get_str(in, &pos, end, op->subject.endpoint, CIRCLE_ENDPOINT_BUF) ||
        !circle_get_str(in, &pos, end, op->circle_name, CIRCLE_NAME_BUF) || pos != end ||
        !circle_op_fields_ok(op)) {
        goto out;
    }
    rc = identity_public_decode(in + CIRCLE_OP_FIXED, IDENTITY_PUBLIC_BYTES, &op->subject.pub);
    if (rc != KITH_OK) {
        goto out;
    }
    memcpy(op->sig, in + end, 64);
    rc = identity_verify(op->issuer_ik, op->sig, CIRCLE_OP_CTX, in, end);
    if (rc != KITH_OK) {
        goto out;
    }
    identity_member_id(op->subject.pub.ik, op->subject.member_id);
    kcrypt_hash(op->hash, 32, CIRCLE_OP_HASH, in, len, NULL, 0);
out:
    if (rc != KITH_OK) {
        memset(op, 0, sizeof *op);
    }
    return rc;
}

/* ---- the log ---- */

int
circle_log_next(const uint8_t *log, size_t log_len, size_t *off, const uint8_t **op, size_t *op_len)
{
    size_t len;

    *op = NULL;
    *op_len = 0;
    if (*off >= log_len) {
        return *off == log_len ? KITH_ENOTFOUND : KITH_EMALFORMED;
    }
    if (log_len - *off < 2) {
        return KITH_EMALFORMED;
    }
    len = (size_t)log[*off] << 8 | log[*off + 1];
    if (len == 0 || len > CIRCLE_OP_MAX || len > log_len - *off - 2) {
        return KITH_EMALFORMED;
    }
    *op = log + *off + 2;
    *op_len = len;
    *off += 2 + len;
    return KITH_OK;
}

/* Walk a log: count its entries and say whether one has this hash. */
static int
circle_log_scan(const uint8_t *log, size_t log_len, const uint8_t hash[32], size_t *count,
                bool *found)
{
    const uint8_t *entry;
    size_t entry_len;
    size_t off = 0;
    uint8_t h[32];
    int rc;

    *count = 0;
    *found = false;
    while ((rc = circle_log_next(log, log_len, &off, &entry, &entry_len)) == KITH_OK) {
        kcrypt_hash(h, 32, CIRCLE_OP_HASH, entry, entry_len, NULL, 0);
        if (memcmp(h, hash, 32) == 0) {
            *found = true;
        }
        (*count)++;
    }
    return rc == KITH_ENOTFOUND ? KITH_OK : rc;
}

int
circle_log_add(uint8_t **log, size_t *log_len, const uint8_t *op, size_t op_len, bool *added)
{
    struct circle_op decoded;
    size_t count;
    bool found;
    int rc;

    *added = false;
    rc = circle_op_decode(op, op_len, &decoded);
    if (rc != KITH_OK) {
        return rc;
    }
    rc = circle_log_scan(*log, *log_len, decoded.hash, &count, &found);
    if (rc != KITH_OK || found) {
        return rc;
    }
    if (count >= CIRCLE_OPS_MAX || *log_len + 2 + op_len > CIRCLE_LOG_MAX) {
        return KITH_ETOOBIG;
    }
    *log = xrealloc(*log, *log_len + 2 + op_len);
    (*log)[*log_len] = (uint8_t)(op_len >> 8);
    (*log)[*log_len + 1] = (uint8_t)op_len;
    memcpy(*log + *log_len + 2, op, op_len);
    *log_len += 2 + op_len;
    *added = true;
    return KITH_OK;
}

static int
circle_op_hash_cmp(const void *a, const void *b)
{
    return memcmp(((const struct circle_op *)a)->hash, ((const struct circle_op *)b)->hash, 32);
}

/* Decode every op of a log into ops[] (CIRCLE_OPS_MAX entries), sorted by hash.
 * KITH_OK or KITH_EMALFORMED. */
static int
circle_log_decode_all(const uint8_t *log, size_t log_len, struct circle_op *ops, size_t *n)
{
    const uint8_t *entry;
    size_t entry_len;
    size_t off = 0;
    int rc;

    *n = 0;
    if (log_len > CIRCLE_LOG_MAX) {
        return KITH_EMALFORMED;
    }
    while ((rc = circle_log_next(log, log_len, &off, &entry, &entry_len)) == KITH_OK) {
        if (*n >= CIRCLE_OPS_MAX || circle_op_decode(entry, entry_len, &ops[*n]) != KITH_OK) {
            return KITH_EMALFORMED;
        }
        (*n)++;
    }
    if (rc != KITH_ENOTFOUND) {
        return KITH_EMALFORMED;
    }
    qsort(ops, *n, sizeof *ops, circle_op_hash_cmp);
    return KITH_OK;
}

int
circle_log_check(const uint8_t *log, size_t log_len)
{
    struct circle_op *ops = xcalloc(CIRCLE_OPS_MAX, sizeof *ops);
    size_t n = 0;
    int rc = circle_log_decode_all(log, log_len, ops, &n);

    for (size_t i = 1; rc == KITH_OK && i < n; i++) {
        if (memcmp(ops[i - 1].hash, ops[i].hash, 32) == 0) {
            rc = KITH_EMALFORMED; /* the same op twice */
        }
    }
    free(ops);
    return rc;
}

/* ---- resolution ---- */

enum circle_op_fate { CIRCLE_OP_WAITING, CIRCLE_OP_APPLIED, CIRCLE_OP_LOST, CIRCLE_OP_IGNORED };

static struct circle_member *
circle_state_member(struct circle_state *st, const uint8_t member_id[IDENTITY_MEMBER_ID])
{
    return (struct circle_member *)circle_member_find(st, member_id);
}

static bool
circle_is_admin(const struct circle_state *st, const uint8_t ik[32])
{
    uint8_t id[IDENTITY_MEMBER_ID];
    const struct circle_member *m;

    identity_member_id(ik, id);
    m = circle_member_find(st, id);
    return m != NULL && m->admin;
}

static size_t
circle_admin_count(const struct circle_state *st)
{
    size_t n = 0;

    for (size_t i = 0; i < st->nmembers; i++) {
        n += st->members[i].admin ? 1 : 0;
    }
    return n;
}

/* Is op valid on top of the current epoch of st (circle.h, circle_resolve)? */
static bool
circle_op_valid(const struct circle_state *st, const struct circle_op *op)
{
    const struct circle_member *subject = circle_member_find(st, op->subject.member_id);

    if (memcmp(op->circle_id, st->circle_id, CIRCLE_ID_BYTES) != 0 ||
        op->epoch_no != st->epoch_no + 1 || memcmp(op->parent, st->epoch_id, 16) != 0) {
        return false;
    }
    switch (op->type) {
    case CIRCLE_OP_ADD:
        return circle_is_admin(st, op->issuer_ik) && subject == NULL &&
               st->nmembers < CIRCLE_MAX_MEMBERS;
    case CIRCLE_OP_REMOVE:
        return circle_is_admin(st, op->issuer_ik) && subject != NULL &&
               memcmp(op->subject.pub.ik, op->issuer_ik, 32) != 0;
    case CIRCLE_OP_LEAVE:
        return subject != NULL &&
               (!subject->admin || circle_admin_count(st) > 1 || st->nmembers == 1);
    case CIRCLE_OP_ADMIN:
        return circle_is_admin(st, op->issuer_ik) && subject != NULL && !subject->admin;
    default:
        return false; /* CREATE only starts a chain */
    }
}

/* Record the current epoch as the newest kept one. */
static void
circle_push_epoch(struct circle_state *st, uint32_t started_at)
{
    struct circle_epoch *ep;

    if (st->nepochs == CIRCLE_EPOCHS_KEPT) {
        memmove(&st->epochs[0], &st->epochs[1], (CIRCLE_EPOCHS_KEPT - 1) * sizeof st->epochs[0]);
        st->nepochs--;
    }
    ep = &st->epochs[st->nepochs++];
    memset(ep, 0, sizeof *ep);
    ep->epoch_no = st->epoch_no;
    memcpy(ep->epoch_id, st->epoch_id, 16);
    ep->started_at = started_at;
    ep->nmembers = (uint8_t)st->nmembers;
    for (size_t i = 0; i < st->nmembers; i++) {
        memcpy(ep->members[i], st->members[i].member_id, IDENTITY_MEMBER_ID);
    }
}

/* Start the epoch op begins: its member set is already in st->members. */
static void
circle_next_epoch(struct circle_state *st, const struct circle_op *op, const uint8_t parent[16])
{
    uint8_t ids[CIRCLE_MAX_MEMBERS][IDENTITY_MEMBER_ID];

    for (size_t i = 0; i < st->nmembers; i++) {
        memcpy(ids[i], st->members[i].member_id, IDENTITY_MEMBER_ID);
    }
    st->epoch_no = op->epoch_no;
    circle_epoch_id(st->circle_id, st->epoch_no, parent, (const uint8_t(*)[IDENTITY_MEMBER_ID])ids,
                    st->nmembers, st->epoch_id);
    circle_push_epoch(st, op->issued_at);
    st->napplied++;
}

/* Insert keeping members sorted by member_id. */
static void
circle_insert_member(struct circle_state *st, const struct circle_member *m)
{
    size_t at = 0;

    while (at < st->nmembers && memcmp(st->members[at].member_id, m->member_id, 16) < 0) {
        at++;
    }
    memmove(&st->members[at + 1], &st->members[at], (st->nmembers - at) * sizeof *m);
    st->members[at] = *m;
    st->nmembers++;
}

static void
circle_apply(struct circle_state *st, const struct circle_op *op)
{
    struct circle_member *m = circle_state_member(st, op->subject.member_id);
    uint8_t parent[16];

    memcpy(parent, st->epoch_id, 16);
    switch (op->type) {
    case CIRCLE_OP_ADD:
        circle_insert_member(st, &op->subject);
        break;
    case CIRCLE_OP_REMOVE:
    case CIRCLE_OP_LEAVE: {
        size_t at = (size_t)(m - st->members);

        memmove(m, m + 1, (st->nmembers - at - 1) * sizeof *m);
        st->nmembers--;
        memset(&st->members[st->nmembers], 0, sizeof *m);
        break;
    }
    case CIRCLE_OP_ADMIN:
        m->admin = true;
        break;
    default:
        KITH_BUG("circle_apply: not a chain op");
    }
    circle_next_epoch(st, op, parent);
}

static void
circle_note_loser(struct circle_state *st, const struct circle_op *op)
{
    if (st->nlosers < CIRCLE_LOSERS_MAX) {
        memcpy(st->losers[st->nlosers], op->hash, 32);
    }
    st->nlosers++;
}

/* The CREATE with the lowest hash starts the chain; other CREATEs of the same circle lost. */
static int
circle_start(struct circle_state *st, const struct circle_op *ops, size_t n, uint8_t *fate)
{
    static const uint8_t zero[16];
    const struct circle_op *create = NULL;

    for (size_t i = 0; i < n; i++) {
        if (ops[i].type != CIRCLE_OP_CREATE || fate[i] != CIRCLE_OP_WAITING) {
            continue;
        }
        if (create == NULL) {
            create = &ops[i];
            fate[i] = CIRCLE_OP_APPLIED;
        } else if (memcmp(ops[i].circle_id, create->circle_id, CIRCLE_ID_BYTES) == 0) {
            fate[i] = CIRCLE_OP_LOST;
            circle_note_loser(st, &ops[i]);
        }
    }
    if (create == NULL) {
        return KITH_ENOTFOUND;
    }
    memcpy(st->circle_id, create->circle_id, CIRCLE_ID_BYTES);
    memcpy(st->name, create->circle_name, sizeof st->name);
    st->members[0] = create->subject;
    st->nmembers = 1;
    circle_next_epoch(st, create, zero);
    return KITH_OK;
}

static bool
circle_chain_has(const uint8_t (*chain)[16], size_t n, const uint8_t id[16])
{
    for (size_t i = 0; i < n; i++) {
        if (memcmp(chain[i], id, 16) == 0) {
            return true;
        }
    }
    return false;
}

/* From the CREATE, take the valid op with the lowest hash on the current epoch, until none. */
static void
circle_fold(struct circle_state *st, const struct circle_op *ops, size_t n, uint8_t *fate)
{
    uint8_t(*chain)[16] = xcalloc(n + 1, 16);
    size_t chain_len = 0;

    memcpy(chain[chain_len++], st->epoch_id, 16);
    for (;;) {
        const struct circle_op *winner = NULL;

        for (size_t i = 0; i < n; i++) {
            if (fate[i] != CIRCLE_OP_WAITING || !circle_op_valid(st, &ops[i])) {
                continue;
            }
            if (winner == NULL) {
                winner = &ops[i];
                fate[i] = CIRCLE_OP_APPLIED;
            } else {
                fate[i] = CIRCLE_OP_LOST;
                circle_note_loser(st, &ops[i]);
            }
        }
        if (winner == NULL) {
            break;
        }
        circle_apply(st, winner);
        memcpy(chain[chain_len++], st->epoch_id, 16);
    }
    for (size_t i = 0; i < n; i++) {
        if (fate[i] == CIRCLE_OP_WAITING && ops[i].type != CIRCLE_OP_CREATE &&
            memcmp(ops[i].circle_id, st->circle_id, CIRCLE_ID_BYTES) == 0 &&
            !circle_chain_has((const uint8_t(*)[16])chain, chain_len, ops[i].parent)) {
            st->npending++;
        }
    }
    free(chain);
}

int
circle_resolve(const uint8_t *log, size_t log_len, struct circle_state *st)
{
    struct circle_op *ops = xcalloc(CIRCLE_OPS_MAX, sizeof *ops);
    uint8_t fate[CIRCLE_OPS_MAX] = { 0 };
    size_t n = 0;
    int rc;

    memset(st, 0, sizeof *st);
    rc = circle_log_decode_all(log, log_len, ops, &n);
    if (rc != KITH_OK) {
        goto out;
    }
    for (size_t i = 1; i < n; i++) {
        if (memcmp(ops[i - 1].hash, ops[i].hash, 32) == 0) {
            fate[i] = CIRCLE_OP_IGNORED; /* the same op twice counts once */
        }
    }
    rc = circle_start(st, ops, n, fate);
    if (rc != KITH_OK) {
        goto out;
    }
    circle_fold(st, ops, n, fate);
out:
    if (rc != KITH_OK) {
        memset(st, 0, sizeof *st);
    }
    free(ops);
    return rc;
}
