/*
 * update: codecs for the endpoint record and the retention step (see
 * update.h). Decoders point nowhere into the input after they return: every
 * field is copied, so callers may wipe or free the buffer at once.
 */
#include "proto/update.h"

#include <string.h>

#include <sodium.h>

#include "proto/frame.h"

_Static_assert(UPDATE_ENDPOINTS_MAX == CARD_ENDPOINTS_MAX, "as many endpoints as a card");
_Static_assert(UPDATE_ENDPOINT_MAX == CARD_ENDPOINT_MAX, "endpoints as long as a card's");
_Static_assert(UPDATE_ENDPOINT_BYTES_MAX <= ENVELOPE_OPAQUE_MAX, "fits an opaque payload");
_Static_assert(UPDATE_RETENTION_BYTES == 1 + 1 + 8 + 16 + 16 + 4, "retention layout");

static void
update_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (56 - 8 * i));
    }
}

static uint64_t
update_get64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static bool
update_is_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < len; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

int
update_endpoint_body(const struct update_endpoint *u, uint8_t *out, size_t out_cap, size_t *out_len)
{
    size_t need = 1 + 8 + 1;
    size_t ep_len[UPDATE_ENDPOINTS_MAX];
    size_t pos = 0;

    *out_len = 0;
    if (u->n_endpoints > UPDATE_ENDPOINTS_MAX) {
        return KITH_EINVAL;
    }
    for (size_t i = 0; i < u->n_endpoints; i++) {
        ep_len[i] = strnlen(u->endpoints[i], UPDATE_ENDPOINT_MAX + 1);
        if (ep_len[i] == 0 || ep_len[i] > UPDATE_ENDPOINT_MAX ||
            !frame_valid_endpoint(u->endpoints[i], ep_len[i], false)) {
            return KITH_EINVAL;
        }
        need += 1 + ep_len[i];
    }
    if (out_cap < need) {
        return KITH_ETOOBIG;
    }
    out[pos++] = UPDATE_VERSION;
    update_put64(out + pos, u->seq);
    pos += 8;
    out[pos++] = u->n_endpoints;
    for (size_t i = 0; i < u->n_endpoints; i++) {
        out[pos++] = (uint8_t)ep_len[i];
        memcpy(out + pos, u->endpoints[i], ep_len[i]);
        pos += ep_len[i];
    }
    *out_len = pos;
    return KITH_OK;
}

/* The signed message: signer IK || body. */
static void
update_endpoint_signed(const uint8_t ik[32], const uint8_t *body, size_t body_len,
                       uint8_t msg[32 + UPDATE_ENDPOINT_BYTES_MAX])
{
    memcpy(msg, ik, 32);
    memcpy(msg + 32, body, body_len);
}

int
update_endpoint_encode(const struct update_endpoint *u, const struct identity *id, uint8_t *out,
                       size_t out_cap, size_t *out_len)
{
    uint8_t msg[32 + UPDATE_ENDPOINT_BYTES_MAX];
    size_t body_len = 0;
    int rc = update_endpoint_body(u, out, out_cap, &body_len);

    *out_len = 0;
    if (rc != KITH_OK) {
        return rc;
    }
    if (out_cap - body_len < UPDATE_SIG_BYTES) {
        return KITH_ETOOBIG;
    }
    update_endpoint_signed(identity_public(id)->ik, out, body_len, msg);
    identity_sign(id, out + body_len, UPDATE_ENDPOINT_CONTEXT, msg, 32 + body_len);
    *out_len = body_len + UPDATE_SIG_BYTES;
    return KITH_OK;
}

int
update_endpoint_parse(const uint8_t *in, size_t len, struct update_endpoint *u)
{
    size_t pos = 0;
    size_t body_len;

    memset(u, 0, sizeof *u);
    if (in == NULL || len < 1 + 8 + 1 + UPDATE_SIG_BYTES || len > UPDATE_ENDPOINT_BYTES_MAX ||
        in[pos++] != UPDATE_VERSION) {
        return KITH_EMALFORMED;
    }
    body_len = len - UPDATE_SIG_BYTES;
    u->seq = update_get64(in + pos);
    pos += 8;
    u->n_endpoints = in[pos++];
    if (u->n_endpoints > UPDATE_ENDPOINTS_MAX) {
        goto bad;
    }
    for (size_t i = 0; i < u->n_endpoints; i++) {
        size_t item_len;
        if (pos >= body_len) {
            goto bad;
        }
        item_len = in[pos++];
        if (item_len == 0 || item_len > UPDATE_ENDPOINT_MAX || item_len > body_len - pos ||
            !frame_valid_endpoint((const char *)in + pos, item_len, false)) {
            goto bad;
        }
        memcpy(u->endpoints[i], in + pos, item_len);
        pos += item_len;
    }
    if (pos != body_len) {
        goto bad; /* bytes between the last endpoint and the signature */
    }
    return KITH_OK;
bad:
    memset(u, 0, sizeof *u);
    return KITH_EMALFORMED;
}

int
update_endpoint_decode(const uint8_t *in, size_t len, const uint8_t signer_ik[32],
                       struct update_endpoint *u)
{
    uint8_t msg[32 + UPDATE_ENDPOINT_BYTES_MAX];
    size_t body_len;
    int rc = update_endpoint_parse(in, len, u);

    if (rc != KITH_OK) {
        return rc;
    }
    body_len = len - UPDATE_SIG_BYTES;
    update_endpoint_signed(signer_ik, in, body_len, msg);
    rc = identity_verify(signer_ik, in + body_len, UPDATE_ENDPOINT_CONTEXT, msg, 32 + body_len);
    if (rc != KITH_OK) {
        memset(u, 0, sizeof *u);
        return KITH_ECRYPTO;
    }
    return KITH_OK;
}

static bool
update_retention_ok(const struct update_retention *r)
{
    if (update_is_zero(r->proposal_id, sizeof r->proposal_id) ||
        r->seconds > UPDATE_RETENTION_MAX) {
        return false;
    }
    switch (r->kind) {
    case UPDATE_RETENTION_PROPOSE:
        return true;
    case UPDATE_RETENTION_ACCEPT:
        return update_is_zero(r->answers, sizeof r->answers);
    case UPDATE_RETENTION_DECLINE:
        return update_is_zero(r->answers, sizeof r->answers) && r->seconds == 0;
    default:
        return false;
    }
}

int
update_retention_encode(const struct update_retention *r, uint8_t out[UPDATE_RETENTION_BYTES])
{
    uint8_t *p = out;

    if (!update_retention_ok(r)) {
        return KITH_EINVAL;
    }
    *p++ = UPDATE_VERSION;
    *p++ = r->kind;
    update_put64(p, r->counter);
    p += 8;
    memcpy(p, r->proposal_id, 16);
    p += 16;
    memcpy(p, r->answers, 16);
    p += 16;
    p[0] = (uint8_t)(r->seconds >> 24);
    p[1] = (uint8_t)(r->seconds >> 16);
    p[2] = (uint8_t)(r->seconds >> 8);
    p[3] = (uint8_t)r->seconds;
    return KITH_OK;
}

int
update_retention_decode(const uint8_t *in, size_t len, struct update_retention *r)
{
    const uint8_t *p = in;

    memset(r, 0, sizeof *r);
    if (in == NULL || len != UPDATE_RETENTION_BYTES || *p++ != UPDATE_VERSION) {
        return KITH_EMALFORMED;
    }
    r->kind = *p++;
    r->counter = update_get64(p);
    p += 8;
    memcpy(r->proposal_id, p, 16);
    p += 16;
    memcpy(r->answers, p, 16);
    p += 16;
    r->seconds = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (!update_retention_ok(r)) {
        memset(r, 0, sizeof *r);
        return KITH_EMALFORMED;
    }
    return KITH_OK;
}
