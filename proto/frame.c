/*
 * frame: encoders and strict decoders for the outer frame, the content
 * envelope and the contact card (proto/PROTOCOL.md), plus the validators for
 * names, endpoints and UTF-8 they share. Big-endian throughout. Decoders
 * reset their output first and only point into the caller's buffer; a
 * decoder accepts exactly the bytes its encoder produces, so decode followed
 * by encode gives the input back.
 */
#include "proto/frame.h"

#include <arpa/inet.h>
#include <string.h>

#include <sodium.h>

#include "core/limits.h"
#include "proto/circle.h"

_Static_assert(ENVELOPE_TEXTS_MAX == KITH_TEXTS_MAX, "one limit for texts per frame");
_Static_assert(FRAME_HEADER_BYTES == 4 + 2 * FRAME_ID_BYTES + 4 + 4, "frame header layout");
_Static_assert(FRAME_AD_BYTES == FRAME_HEADER_BYTES - 4, "AD is the header without body_len");
_Static_assert(FRAME_BODY_MAX == KITH_BODY_MAX, "one body limit");
_Static_assert(FRAME_HEADER_BYTES + FRAME_BODY_MAX <= KITH_MAXMSGSIZE, "frame fits a zmq message");
_Static_assert(ENVELOPE_HEADER_BYTES == 1 + 1 + 2 + 8 + 8 + 8 + FRAME_ID_BYTES + 4,
               "envelope header layout");
_Static_assert(CARD_NAME_MAX == KITH_NAME_MAX, "one name limit");
_Static_assert(CARD_ENDPOINT_MAX == KITH_ENDPOINT_MAX, "one endpoint limit");
_Static_assert(CARD_ENDPOINTS_MAX == KITH_ENDPOINTS_MAX, "one endpoint count");
_Static_assert(CARD_ENDPOINT_MAX < 256 && CARD_NAME_MAX < 256, "lengths fit a u8");

#define FRAME_CARD_VERSION     1
#define FRAME_ENVELOPE_VERSION 1
#define FRAME_ACK_ID_MAX       KITH_ACK_BATCH
#define FRAME_HOST_MAX         64 /* longest IPv6 literal is 45 characters */

static void
frame_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
frame_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void
frame_put_u64(uint8_t *p, uint64_t v)
{
    frame_put_u32(p, (uint32_t)(v >> 32));
    frame_put_u32(p + 4, (uint32_t)v);
}

static uint16_t
frame_get_u16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t
frame_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
frame_get_u64(const uint8_t *p)
{
    return (uint64_t)frame_get_u32(p) << 32 | frame_get_u32(p + 4);
}

static bool
frame_type_known(uint8_t type)
{
    return type >= FRAME_SESSION_INIT && type <= FRAME_ACK;
}

/* ---- outer frame ---- */

void
frame_ad(const struct frame *f, uint8_t out[FRAME_AD_BYTES])
{
    out[0] = FRAME_VERSION;
    out[1] = f->type;
    out[2] = f->flags;
    out[3] = 0; /* reserved */
    memcpy(out + 4, f->msg_id, FRAME_ID_BYTES);
    memcpy(out + 4 + FRAME_ID_BYTES, f->route, FRAME_ID_BYTES);
    frame_put_u32(out + 4 + 2 * FRAME_ID_BYTES, f->expires_at);
}

int
frame_encode(const struct frame *f, uint8_t *out, size_t out_cap, size_t *out_len)
{
    *out_len = 0;
    if (!frame_type_known(f->type) || (f->body == NULL && f->body_len > 0)) {
        return KITH_EINVAL;
    }
    if (f->body_len > FRAME_BODY_MAX || out_cap < FRAME_HEADER_BYTES + (size_t)f->body_len) {
        return KITH_ETOOBIG;
    }
    frame_ad(f, out);
    frame_put_u32(out + FRAME_AD_BYTES, f->body_len);
    if (f->body_len > 0) {
        memmove(out + FRAME_HEADER_BYTES, f->body, f->body_len);
    }
    *out_len = FRAME_HEADER_BYTES + (size_t)f->body_len;
    return KITH_OK;
}

int
frame_decode(const uint8_t *in, size_t len, struct frame *f)
{
    uint32_t body_len;

    memset(f, 0, sizeof *f);
    if (in == NULL || len < FRAME_HEADER_BYTES) {
        return KITH_EMALFORMED;
    }
    if (in[0] != FRAME_VERSION || !frame_type_known(in[1]) || in[3] != 0) {
        return KITH_EMALFORMED;
    }
    body_len = frame_get_u32(in + FRAME_AD_BYTES);
    if (body_len > FRAME_BODY_MAX || len > FRAME_HEADER_BYTES + (size_t)FRAME_BODY_MAX) {
        return KITH_ETOOBIG;
    }
    if ((size_t)body_len != len - FRAME_HEADER_BYTES) {
        return KITH_EMALFORMED;
    }
    f->type = in[1];
    f->flags = in[2];
    memcpy(f->msg_id, in + 4, FRAME_ID_BYTES);
    memcpy(f->route, in + 4 + FRAME_ID_BYTES, FRAME_ID_BYTES);
    f->expires_at = frame_get_u32(in + 4 + 2 * FRAME_ID_BYTES);
    f->body = in + FRAME_HEADER_BYTES;
    f->body_len = body_len;
    return KITH_OK;
}

/* ---- acknowledgements ---- */

int
ack_body_check(const uint8_t *body, size_t len, size_t *n)
{
    *n = 0;
    if (body == NULL || len == 0 || len % ACK_ENTRY_BYTES != 0 ||
        len / ACK_ENTRY_BYTES > ACK_ENTRIES_MAX) {
        return KITH_EMALFORMED;
    }
    *n = len / ACK_ENTRY_BYTES;
    return KITH_OK;
}

/* ---- content envelope ---- */

size_t
envelope_size(size_t payload_len)
{
    size_t raw;

    if (payload_len > SIZE_MAX - ENVELOPE_HEADER_BYTES - ENVELOPE_PAD) {
        return 0; /* no such envelope; every caller bounds payload_len first */
    }
    raw = ENVELOPE_HEADER_BYTES + payload_len;
    return (raw + ENVELOPE_PAD - 1) / ENVELOPE_PAD * ENVELOPE_PAD;
}

/* The circle payloads (proto/circle.h): KITH_OK, KITH_ETOOBIG (a welcome over
 * its limit) or KITH_EMALFORMED. */
static int
envelope_check_circle_payload(uint8_t type, const uint8_t *payload, size_t len)
{
    union {
        struct circle_skd skd;
        struct checkin checkin;
        struct support_signal support;
        struct support_reply reply;
    } u;
    const uint8_t *op;
    const uint8_t *intro;
    size_t op_len;
    int rc;

    switch (type) {
    case ENVELOPE_CIRCLE_OP:
        rc = circle_op_payload_decode(payload, len, &op, &op_len, &intro);
        break;
    case ENVELOPE_SENDER_KEY:
        rc = circle_skd_decode(payload, len, &u.skd);
        sodium_memzero(&u.skd, sizeof u.skd); /* ck0 is a secret */
        break;
    case ENVELOPE_CIRCLE_WELCOME:
        if (len > CIRCLE_SECRET_BYTES + (size_t)CIRCLE_LOG_MAX) {
            return KITH_ETOOBIG;
        }
        rc = len > CIRCLE_SECRET_BYTES ? KITH_OK : KITH_EMALFORMED;
        break;
    case ENVELOPE_CIRCLE_JOIN:
        rc = len == CIRCLE_JOIN_BYTES ? KITH_OK : KITH_EMALFORMED;
        break;
    case ENVELOPE_CHECKIN:
        rc = checkin_decode(payload, len, &u.checkin);
        break;
    case ENVELOPE_SUPPORT:
        rc = support_decode(payload, len, &u.support);
        break;
    case ENVELOPE_SUPPORT_REPLY:
        rc = support_reply_decode(payload, len, &u.reply);
        break;
    default:
        return KITH_EMALFORMED;
    }
    return rc == KITH_OK ? KITH_OK : KITH_EMALFORMED;
}

int
envelope_texts_decode(const uint8_t *payload, size_t len,
                      struct envelope_text out[ENVELOPE_TEXTS_MAX], size_t *n)
{
    size_t off = 1;
    size_t count;

    *n = 0;
    if (len < 1) {
        return KITH_EMALFORMED;
    }
    count = payload[0];
    if (count < 2 || count > ENVELOPE_TEXTS_MAX) {
        return count > ENVELOPE_TEXTS_MAX ? KITH_ETOOBIG : KITH_EMALFORMED;
    }
    for (size_t i = 0; i < count; i++) {
        uint16_t tlen;
        if (len - off < ENVELOPE_TEXTS_ITEM_BYTES) {
            return KITH_EMALFORMED;
        }
        out[i].flags = frame_get_u16(payload + off);
        tlen = frame_get_u16(payload + off + 2);
        off += ENVELOPE_TEXTS_ITEM_BYTES;
        if (tlen == 0) {
            return KITH_EMALFORMED; /* nobody sends an empty text */
        }
        if (tlen > KITH_TEXT_MAX) {
            return KITH_ETOOBIG;
        }
        if (len - off < tlen || !frame_valid_utf8(payload + off, tlen)) {
            return KITH_EMALFORMED;
        }
        out[i].len = tlen;
        out[i].text = payload + off;
        off += tlen;
    }
    if (off != len) {
        return KITH_EMALFORMED; /* nothing after the last text */
    }
    *n = count;
    return KITH_OK;
}

void
envelope_texts_id(const uint8_t frame_id[FRAME_ID_BYTES], size_t i, uint8_t out[FRAME_ID_BYTES])
{
    memcpy(out, frame_id, FRAME_ID_BYTES);
    out[FRAME_ID_BYTES - 1] = (uint8_t)i;
}

/* Type-specific payload rules shared by encode and decode: KITH_OK,
 * KITH_ETOOBIG (text or ACK over its limit) or KITH_EMALFORMED. */
static int
envelope_check_payload(uint8_t type, const uint8_t *payload, size_t len)
{
    struct contact_card card;
    int rc;

    switch (type) {
    case ENVELOPE_TEXT:
        if (len > KITH_TEXT_MAX) {
            return KITH_ETOOBIG;
        }
        return frame_valid_utf8(payload, len) ? KITH_OK : KITH_EMALFORMED;
    case ENVELOPE_ACK:
        if (len % FRAME_ID_BYTES != 0) {
            return KITH_EMALFORMED;
        }
        return len / FRAME_ID_BYTES <= FRAME_ACK_ID_MAX ? KITH_OK : KITH_ETOOBIG;
    case ENVELOPE_CONTACT_CARD:
        rc = card_decode(payload, len, &card);
        return rc == KITH_OK ? KITH_OK : KITH_EMALFORMED;
    case ENVELOPE_RECEIPT:
        if (len % RECEIPT_BYTES != 0) {
            return KITH_EMALFORMED;
        }
        if (len / RECEIPT_BYTES > FRAME_ACK_ID_MAX) {
            return KITH_ETOOBIG;
        }
        for (size_t off = 0; off < len; off += RECEIPT_BYTES) {
            uint8_t tell = payload[off + FRAME_ID_BYTES];
            if (tell < RECEIPT_DELIVERED || tell > RECEIPT_TELL_LAST) {
                return KITH_EMALFORMED;
            }
        }
        return KITH_OK;
    case ENVELOPE_TEXTS: {
        struct envelope_text texts[ENVELOPE_TEXTS_MAX];
        size_t n;
        return envelope_texts_decode(payload, len, texts, &n);
    }
    case ENVELOPE_BOUNDARY:
    case ENVELOPE_REPAIR:
    case ENVELOPE_ENDPOINT:
    case ENVELOPE_RETENTION:
        return len <= ENVELOPE_OPAQUE_MAX ? KITH_OK : KITH_ETOOBIG;
    default:
        return envelope_check_circle_payload(type, payload, len);
    }
}

int
envelope_encode(const struct envelope *e, uint8_t *out, size_t out_cap, size_t *out_len)
{
    size_t total;
    uint8_t *p = out;
    int rc;

    *out_len = 0;
    if (e->type < ENVELOPE_TEXT || e->type > ENVELOPE_TYPE_LAST ||
        e->version != FRAME_ENVELOPE_VERSION || (e->payload == NULL && e->payload_len > 0)) {
        return KITH_EINVAL;
    }
    if (e->payload_len > ENVELOPE_PAYLOAD_MAX) {
        return KITH_ETOOBIG;
    }
    rc = envelope_check_payload(e->type, e->payload, e->payload_len);
    if (rc != KITH_OK) {
        return rc == KITH_ETOOBIG ? KITH_ETOOBIG : KITH_EINVAL;
    }
    total = envelope_size(e->payload_len);
    if (out_cap < total) {
        return KITH_ETOOBIG;
    }
    p[0] = e->type;
    p[1] = e->version;
    frame_put_u16(p + 2, e->flags);
    frame_put_u64(p + 4, e->lamport);
    frame_put_u64(p + 12, e->sender_seq);
    frame_put_u64(p + 20, e->sent_at_ms);
    memcpy(p + 28, e->prev_msg_id, FRAME_ID_BYTES);
    frame_put_u32(p + 44, e->payload_len);
    if (e->payload_len > 0) {
        memmove(p + ENVELOPE_HEADER_BYTES, e->payload, e->payload_len);
    }
    memset(p + ENVELOPE_HEADER_BYTES + e->payload_len, 0,
           total - ENVELOPE_HEADER_BYTES - e->payload_len);
    *out_len = total;
    return KITH_OK;
}

int
envelope_decode(const uint8_t *in, size_t len, struct envelope *e)
{
    uint32_t payload_len;
    uint8_t padding_or = 0;

    memset(e, 0, sizeof *e);
    if (in == NULL || len < ENVELOPE_HEADER_BYTES || len % ENVELOPE_PAD != 0) {
        return KITH_EMALFORMED;
    }
    if (in[1] != FRAME_ENVELOPE_VERSION) {
        return KITH_EMALFORMED;
    }
    payload_len = frame_get_u32(in + 44);
    /* The envelope must be exactly the padded size of its payload: no spare block. */
    if (payload_len > ENVELOPE_PAYLOAD_MAX || envelope_size(payload_len) != len) {
        return KITH_EMALFORMED;
    }
    for (size_t i = ENVELOPE_HEADER_BYTES + payload_len; i < len; i++) {
        padding_or |= in[i];
    }
    if (padding_or != 0) {
        return KITH_EMALFORMED;
    }
    if (envelope_check_payload(in[0], in + ENVELOPE_HEADER_BYTES, payload_len) != KITH_OK) {
        return KITH_EMALFORMED;
    }
    e->type = in[0];
    e->version = in[1];
    e->flags = frame_get_u16(in + 2);
    e->lamport = frame_get_u64(in + 4);
    e->sender_seq = frame_get_u64(in + 12);
    e->sent_at_ms = frame_get_u64(in + 20);
    memcpy(e->prev_msg_id, in + 28, FRAME_ID_BYTES);
    e->payload = in + ENVELOPE_HEADER_BYTES;
    e->payload_len = payload_len;
    return KITH_OK;
}

/* ---- contact card ---- */

int
card_encode(const struct contact_card *c, uint8_t *out, size_t out_cap, size_t *out_len)
{
    size_t name_len = strnlen(c->name, sizeof c->name);
    size_t need = 1 + 1 + name_len + 1;
    size_t ep_len[CARD_ENDPOINTS_MAX];
    size_t pos = 0;

    *out_len = 0;
    if (!frame_valid_name(c->name, name_len) || c->n_endpoints > CARD_ENDPOINTS_MAX) {
        return KITH_EINVAL;
    }
    for (size_t i = 0; i < c->n_endpoints; i++) {
        ep_len[i] = strnlen(c->endpoints[i], sizeof c->endpoints[i]);
        if (!frame_valid_endpoint(c->endpoints[i], ep_len[i], false)) {
            return KITH_EINVAL;
        }
        need += 1 + ep_len[i];
    }
    if (out_cap < need) {
        return KITH_ETOOBIG;
    }
    out[pos++] = FRAME_CARD_VERSION;
    out[pos++] = (uint8_t)name_len;
    memcpy(out + pos, c->name, name_len);
    pos += name_len;
    out[pos++] = c->n_endpoints;
    for (size_t i = 0; i < c->n_endpoints; i++) {
        out[pos++] = (uint8_t)ep_len[i];
        memcpy(out + pos, c->endpoints[i], ep_len[i]);
        pos += ep_len[i];
    }
    *out_len = pos;
    return KITH_OK;
}

int
card_decode(const uint8_t *in, size_t len, struct contact_card *c)
{
    size_t pos = 0;
    size_t item_len;
    int rc = KITH_EMALFORMED;

    memset(c, 0, sizeof *c);
    if (in == NULL || len < 3 || in[pos++] != FRAME_CARD_VERSION) {
        goto out;
    }
    item_len = in[pos++];
    if (item_len > len - pos || !frame_valid_name((const char *)in + pos, item_len)) {
        goto out;
    }
    memcpy(c->name, in + pos, item_len);
    pos += item_len;
    if (pos >= len || in[pos] > CARD_ENDPOINTS_MAX) {
        goto out;
    }
    c->n_endpoints = in[pos++];
    for (size_t i = 0; i < c->n_endpoints; i++) {
        if (pos >= len) {
            goto out;
        }
        item_len = in[pos++];
        if (item_len > len - pos ||
            !frame_valid_endpoint((const char *)in + pos, item_len, false)) {
            goto out;
        }
        memcpy(c->endpoints[i], in + pos, item_len);
        pos += item_len;
    }
    if (pos != len) {
        goto out; /* trailing bytes */
    }
    rc = KITH_OK;
out:
    if (rc != KITH_OK) {
        memset(c, 0, sizeof *c);
    }
    return rc;
}

/* ---- validators ---- */

/* Decode one strict UTF-8 sequence at s[0..len): the code point, or -1 for an
 * invalid, overlong, surrogate or out-of-range sequence. *used is its length. */
static long
frame_utf8_next(const uint8_t *s, size_t len, size_t *used)
{
    uint32_t cp;
    uint32_t min;
    size_t n;

    if (s[0] < 0x80) {
        *used = 1;
        return s[0];
    }
    if ((s[0] & 0xe0) == 0xc0) {
        n = 2;
        cp = s[0] & 0x1f;
        min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3;
        cp = s[0] & 0x0f;
        min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4;
        cp = s[0] & 0x07;
        min = 0x10000;
    } else {
        return -1; /* continuation byte or 0xf8..0xff as a lead */
    }
    if (n > len) {
        return -1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return -1;
        }
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return -1;
    }
    *used = n;
    return (long)cp;
}

bool
frame_valid_utf8(const uint8_t *s, size_t len)
{
    size_t pos = 0;

    if (s == NULL) {
        return len == 0;
    }
    while (pos < len) {
        size_t used = 0;
        if (frame_utf8_next(s + pos, len - pos, &used) < 0) {
            return false;
        }
        pos += used;
    }
    return true;
}

/* Control characters and the invisible formatting characters that could make
 * one name look like another or reorder a terminal line. */
static bool
frame_name_char_forbidden(long cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

bool
frame_valid_name(const char *s, size_t len)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t pos = 0;

    if (s == NULL || len == 0 || len > CARD_NAME_MAX) {
        return false;
    }
    while (pos < len) {
        size_t used = 0;
        long cp = frame_utf8_next(u + pos, len - pos, &used);
        if (cp < 0 || frame_name_char_forbidden(cp)) {
            return false;
        }
        pos += used;
    }
    return true;
}

static bool
frame_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
frame_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Decimal 0..max, 1..digits characters, no leading zero. */
static bool
frame_parse_decimal(const char *s, size_t len, size_t digits, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;

    if (len == 0 || len > digits || (len > 1 && s[0] == '0')) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!frame_is_digit(s[i])) {
            return false;
        }
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    *out = v;
    return v <= max;
}

static bool
frame_valid_ipv4(const char *s, size_t len)
{
    size_t start = 0;
    int parts = 0;

    for (size_t i = 0; i <= len; i++) {
        unsigned long octet;
        if (i < len && s[i] != '.') {
            continue;
        }
        if (!frame_parse_decimal(s + start, i - start, 3, 255, &octet)) {
            return false;
        }
        parts++;
        start = i + 1;
    }
    return parts == 4;
}

static bool
frame_valid_ipv6(const char *s, size_t len)
{
    char host[FRAME_HOST_MAX];
    unsigned char addr[16];

    if (len == 0 || len >= sizeof host) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!frame_is_digit(s[i]) && !frame_is_alpha(s[i]) && s[i] != ':' && s[i] != '.') {
            return false; /* no zone ids, no NUL */
        }
    }
    memcpy(host, s, len);
    host[len] = '\0';
    return inet_pton(AF_INET6, host, addr) == 1;
}

/* RFC 1123 host name: labels of 1..63 letters, digits and '-', not starting
 * or ending with '-'; the last label is not all digits (that would be a
 * malformed IPv4 address). Covers .onion names. */
static bool
frame_valid_dns(const char *s, size_t len)
{
    size_t start = 0;
    bool label_has_alpha = false;

    if (len == 0 || len > 253) {
        return false;
    }
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (!frame_is_alpha(s[i]) && !frame_is_digit(s[i]) && s[i] != '-') {
                return false;
            }
            label_has_alpha |= !frame_is_digit(s[i]);
            continue;
        }
        if (i == start || i - start > 63 || s[start] == '-' || s[i - 1] == '-') {
            return false;
        }
        if (i == len && !label_has_alpha) {
            return false;
        }
        label_has_alpha = false;
        start = i + 1;
    }
    return true;
}

static bool
frame_valid_host(const char *s, size_t len, bool allow_wildcard)
{
    if (len == 1 && s[0] == '*') {
        return allow_wildcard;
    }
    if (len >= 2 && s[0] == '[') {
        return s[len - 1] == ']' && frame_valid_ipv6(s + 1, len - 2);
    }
    return frame_valid_ipv4(s, len) || frame_valid_dns(s, len);
}

bool
frame_valid_endpoint(const char *s, size_t len, bool allow_wildcard)
{
    static const char scheme[] = "tcp://";
    const size_t scheme_len = sizeof scheme - 1;
    size_t colon = 0;
    unsigned long port;

    if (s == NULL || len <= scheme_len || len > CARD_ENDPOINT_MAX ||
        memcmp(s, scheme, scheme_len) != 0) {
        return false;
    }
    for (size_t i = len; i > scheme_len; i--) {
        if (s[i - 1] == ':') {
            colon = i - 1;
            break;
        }
    }
    if (colon == 0 || !frame_valid_host(s + scheme_len, colon - scheme_len, allow_wildcard)) {
        return false;
    }
    if (len - colon - 1 == 1 && s[colon + 1] == '*') {
        return allow_wildcard;
    }
    return frame_parse_decimal(s + colon + 1, len - colon - 1, 5, 65535, &port) && port >= 1;
}
