/*
 * circle (proto): encoders and strict decoders for circle traffic
 * (proto/PROTOCOL.md §10). Big-endian throughout. Decoders reset their output
 * first, only point into the caller's buffer, and accept exactly the bytes
 * the encoders produce, so decode followed by encode gives the input back.
 * Every decoder answers KITH_OK or KITH_EMALFORMED.
 */
#include "proto/circle.h"

#include <string.h>

_Static_assert(CIRCLE_BODY_HEADER == 4 + 16 + CIRCLE_MEMBER_BYTES + 4 + 4 + 8 + 24,
               "circle body header layout");
_Static_assert(CIRCLE_BODY_MIN <= FRAME_BODY_MAX, "a circle body fits a frame");
_Static_assert(CIRCLE_ID_BYTES == FRAME_ID_BYTES, "circle_id is a route");
_Static_assert(CIRCLE_MEMBER_BYTES == FRAME_ID_BYTES, "member_id is a route");
_Static_assert(SYNC_ENTRY_BYTES == 4 + CIRCLE_MEMBER_BYTES + 8, "sync entry layout");
_Static_assert(SYNC_ENTRIES_MAX <= UINT16_MAX, "n fits a u16");
_Static_assert(4 + SYNC_ENTRIES_MAX * SYNC_ENTRY_BYTES <= FRAME_BODY_MAX, "a full HAVE fits");
_Static_assert(RELAY_DONE_MAX *FRAME_ID_BYTES <= FRAME_BODY_MAX, "a full RELAY_DONE fits");
_Static_assert(CIRCLE_SKD_BYTES == 16 + 4 + 16 + 4 + 32 + 4 + 32 + 4, "sender key layout");
_Static_assert(2 + CIRCLE_OP_MAX + CIRCLE_SECRET_BYTES <= ENVELOPE_PAYLOAD_MAX, "op fits");
_Static_assert(CIRCLE_OP_MAX <= UINT16_MAX, "op_len fits a u16");
_Static_assert(CIRCLE_SECRET_BYTES + CIRCLE_LOG_MAX <= ENVELOPE_PAYLOAD_MAX, "welcome fits");
_Static_assert(CIRCLE_JOIN_BYTES == 4 + CIRCLE_SECRET_BYTES, "join layout");
_Static_assert(CHECKIN_NOTE_MAX < 256, "note_len fits a u8");

#define CIRCLE_WIRE_VERSION 1
#define CIRCLE_NONCE_BYTES  24
#define SYNC_HEADER_BYTES   4
#define CHECKIN_HEADER      5 /* version, mood, with, need, note_len */
#define CHECKIN_WITH_ALL    (WITH_SEEN | WITH_SAFE | WITH_SOOTHED | WITH_SECURE | WITH_STABLE)
#define CHECKIN_NEED_MAX    5
#define SUPPORT_HEADER      7 /* version, kind, expires_at, note_len */
#define SUPPORT_REPLY_BYTES (1 + FRAME_ID_BYTES + 1 + 4)

static void
circle_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
circle_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void
circle_put_u64(uint8_t *p, uint64_t v)
{
    circle_put_u32(p, (uint32_t)(v >> 32));
    circle_put_u32(p + 4, (uint32_t)v);
}

static uint16_t
circle_get_u16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t
circle_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
circle_get_u64(const uint8_t *p)
{
    return (uint64_t)circle_get_u32(p) << 32 | circle_get_u32(p + 4);
}

/* A check-in or support note: 0..CHECKIN_NOTE_MAX bytes of strict UTF-8 with no
 * C0 control character and no DEL (so no NUL either: the note is a C string). */
static bool
circle_valid_note(const uint8_t *s, size_t len)
{
    if (len > CHECKIN_NOTE_MAX || !frame_valid_utf8(s, len)) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            return false;
        }
    }
    return true;
}

/* ---- CIRCLE_MSG body ---- */

void
circle_body_put_header(const struct circle_body *b, uint8_t out[CIRCLE_BODY_HEADER])
{
    if (b->nonce == NULL) {
        KITH_BUG("circle body without a nonce");
    }
    circle_put_u32(out, b->epoch_no);
    memcpy(out + 4, b->epoch_id, 16);
    memcpy(out + 20, b->sender, CIRCLE_MEMBER_BYTES);
    circle_put_u32(out + 36, b->gen);
    circle_put_u32(out + 40, b->index);
    circle_put_u64(out + 44, b->seq);
    memcpy(out + 52, b->nonce, CIRCLE_NONCE_BYTES);
}

int
circle_body_decode(const uint8_t *body, size_t len, struct circle_body *b)
{
    memset(b, 0, sizeof *b);
    if (body == NULL || len < CIRCLE_BODY_MIN || len > FRAME_BODY_MAX) {
        return KITH_EMALFORMED;
    }
    if (circle_get_u32(body) == 0 || circle_get_u64(body + 44) == 0) {
        return KITH_EMALFORMED; /* epochs and seqs count from 1 */
    }
    b->epoch_no = circle_get_u32(body);
    memcpy(b->epoch_id, body + 4, 16);
    memcpy(b->sender, body + 20, CIRCLE_MEMBER_BYTES);
    b->gen = circle_get_u32(body + 36);
    b->index = circle_get_u32(body + 40);
    b->seq = circle_get_u64(body + 44);
    b->nonce = body + 52;
    b->ct = body + CIRCLE_BODY_HEADER;
    b->ct_len = (uint32_t)(len - CIRCLE_BODY_HEADER - CIRCLE_SIG_BYTES);
    b->sig = body + len - CIRCLE_SIG_BYTES;
    b->signed_len = len - CIRCLE_SIG_BYTES;
    return KITH_OK;
}

/* ---- SYNC_HAVE ---- */

/* <0, 0, >0 as a sorts before, equal to, after b by (epoch_no, sender bytes). */
static int
circle_sync_cmp(const struct sync_entry *a, const struct sync_entry *b)
{
    if (a->epoch_no != b->epoch_no) {
        return a->epoch_no < b->epoch_no ? -1 : 1;
    }
    return memcmp(a->sender, b->sender, CIRCLE_MEMBER_BYTES);
}

int
sync_have_encode(const struct sync_have *h, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t need;
    uint8_t *p;

    *out_len = 0;
    if (h->n > SYNC_ENTRIES_MAX || (h->flags & ~SYNC_F_REPLY) != 0) {
        return KITH_EINVAL;
    }
    for (size_t i = 0; i < h->n; i++) {
        if (h->entries[i].epoch_no == 0 ||
            (i > 0 && circle_sync_cmp(&h->entries[i - 1], &h->entries[i]) >= 0)) {
            return KITH_EINVAL;
        }
    }
    need = SYNC_HEADER_BYTES + (size_t)h->n * SYNC_ENTRY_BYTES;
    if (out == NULL || cap < need) {
        return KITH_ETOOBIG;
    }
    out[0] = CIRCLE_WIRE_VERSION;
    out[1] = h->flags;
    circle_put_u16(out + 2, h->n);
    p = out + SYNC_HEADER_BYTES;
    for (size_t i = 0; i < h->n; i++, p += SYNC_ENTRY_BYTES) {
        circle_put_u32(p, h->entries[i].epoch_no);
        memcpy(p + 4, h->entries[i].sender, CIRCLE_MEMBER_BYTES);
        circle_put_u64(p + 20, h->entries[i].hwm);
    }
    *out_len = need;
    return KITH_OK;
}

int
sync_have_decode(const uint8_t *in, size_t len, struct sync_have *h)
{
    const uint8_t *p;
    uint16_t n;

    memset(h, 0, sizeof *h);
    if (in == NULL || len < SYNC_HEADER_BYTES || in[0] != CIRCLE_WIRE_VERSION ||
        (in[1] & ~SYNC_F_REPLY) != 0) {
        return KITH_EMALFORMED;
    }
    n = circle_get_u16(in + 2);
    if (n > SYNC_ENTRIES_MAX || len != SYNC_HEADER_BYTES + (size_t)n * SYNC_ENTRY_BYTES) {
        return KITH_EMALFORMED;
    }
    p = in + SYNC_HEADER_BYTES;
    for (size_t i = 0; i < n; i++, p += SYNC_ENTRY_BYTES) {
        struct sync_entry *e = &h->entries[i];
        e->epoch_no = circle_get_u32(p);
        memcpy(e->sender, p + 4, CIRCLE_MEMBER_BYTES);
        e->hwm = circle_get_u64(p + 20);
        if (e->epoch_no == 0 || (i > 0 && circle_sync_cmp(&h->entries[i - 1], e) >= 0)) {
            memset(h, 0, sizeof *h);
            return KITH_EMALFORMED;
        }
    }
    h->flags = in[1];
    h->n = n;
    return KITH_OK;
}

/* ---- RELAY / RELAY_DONE ---- */

int
relay_body_decode(const struct frame *outer, struct relay_body *r)
{
    const uint8_t *inner;
    size_t inner_len;
    size_t n_ids;

    memset(r, 0, sizeof *r);
    if (outer == NULL || outer->type != FRAME_RELAY || outer->body == NULL ||
        outer->body_len < CIRCLE_MEMBER_BYTES + FRAME_HEADER_BYTES) {
        return KITH_EMALFORMED;
    }
    inner = outer->body + CIRCLE_MEMBER_BYTES;
    inner_len = outer->body_len - CIRCLE_MEMBER_BYTES;
    if (frame_decode(inner, inner_len, &r->frame) != KITH_OK) {
        goto bad;
    }
    switch (r->frame.type) {
    case FRAME_SESSION_INIT:
    case FRAME_SESSION_MSG:
        break;
    case FRAME_RELAY_DONE:
        if (relay_done_decode(r->frame.body, r->frame.body_len, &n_ids) != KITH_OK) {
            goto bad;
        }
        break;
    default:
        goto bad; /* no relaying of circle frames, sync or nested relays */
    }
    /* The relay must learn nothing the outer frame does not say; an origin equal to the
     * recipient would be a message to oneself. */
    if (memcmp(r->frame.route, outer->route, FRAME_ID_BYTES) != 0 ||
        memcmp(outer->body, outer->route, CIRCLE_MEMBER_BYTES) == 0) {
        goto bad;
    }
    memcpy(r->origin, outer->body, CIRCLE_MEMBER_BYTES);
    r->inner = inner;
    r->inner_len = inner_len;
    return KITH_OK;
bad:
    memset(r, 0, sizeof *r);
    return KITH_EMALFORMED;
}

int
relay_done_decode(const uint8_t *in, size_t len, size_t *n)
{
    *n = 0;
    if (in == NULL || len == 0 || len % FRAME_ID_BYTES != 0 ||
        len / FRAME_ID_BYTES > RELAY_DONE_MAX) {
        return KITH_EMALFORMED;
    }
    *n = len / FRAME_ID_BYTES;
    return KITH_OK;
}

/* ---- ENVELOPE_SENDER_KEY ---- */

void
circle_skd_encode(const struct circle_skd *k, uint8_t out[CIRCLE_SKD_BYTES])
{
    memcpy(out, k->circle_id, 16);
    circle_put_u32(out + 16, k->epoch_no);
    memcpy(out + 20, k->epoch_id, 16);
    circle_put_u32(out + 36, k->gen);
    memcpy(out + 40, k->ck0, 32);
    circle_put_u32(out + 72, k->start_index);
    memcpy(out + 76, k->sigk_pub, 32);
    circle_put_u32(out + 108, k->created_at);
}

int
circle_skd_decode(const uint8_t *in, size_t len, struct circle_skd *k)
{
    memset(k, 0, sizeof *k);
    if (in == NULL || len != CIRCLE_SKD_BYTES || circle_get_u32(in + 16) == 0) {
        return KITH_EMALFORMED;
    }
    memcpy(k->circle_id, in, 16);
    k->epoch_no = circle_get_u32(in + 16);
    memcpy(k->epoch_id, in + 20, 16);
    k->gen = circle_get_u32(in + 36);
    memcpy(k->ck0, in + 40, 32);
    k->start_index = circle_get_u32(in + 72);
    memcpy(k->sigk_pub, in + 76, 32);
    k->created_at = circle_get_u32(in + 108);
    return KITH_OK;
}

/* ---- ENVELOPE_CIRCLE_OP ---- */

int
circle_op_payload_decode(const uint8_t *in, size_t len, const uint8_t **op, size_t *op_len,
                         const uint8_t **intro)
{
    size_t n;

    *op = NULL;
    *op_len = 0;
    *intro = NULL;
    if (in == NULL || len < 2 + 1 + CIRCLE_SECRET_BYTES) {
        return KITH_EMALFORMED;
    }
    n = circle_get_u16(in);
    if (n == 0 || n > CIRCLE_OP_MAX || len != 2 + n + CIRCLE_SECRET_BYTES) {
        return KITH_EMALFORMED;
    }
    *op = in + 2;
    *op_len = n;
    *intro = in + 2 + n;
    return KITH_OK;
}

/* ---- ENVELOPE_CHECKIN ---- */

static bool
checkin_valid(uint8_t mood, uint8_t with, uint8_t need)
{
    return mood <= MOOD_GOOD && (with & ~CHECKIN_WITH_ALL) == 0 && need <= CHECKIN_NEED_MAX &&
           (mood != MOOD_NONE || with != 0);
}

int
checkin_encode(const struct checkin *c, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t note_len = strnlen(c->note, sizeof c->note);

    *out_len = 0;
    if (!checkin_valid(c->mood, c->with, c->need) ||
        !circle_valid_note((const uint8_t *)c->note, note_len)) {
        return KITH_EINVAL;
    }
    if (out == NULL || cap < CHECKIN_HEADER + note_len) {
        return KITH_ETOOBIG;
    }
    out[0] = CIRCLE_WIRE_VERSION;
    out[1] = c->mood;
    out[2] = c->with;
    out[3] = c->need;
    out[4] = (uint8_t)note_len;
    memcpy(out + CHECKIN_HEADER, c->note, note_len);
    *out_len = CHECKIN_HEADER + note_len;
    return KITH_OK;
}

int
checkin_decode(const uint8_t *in, size_t len, struct checkin *c)
{
    memset(c, 0, sizeof *c);
    if (in == NULL || len < CHECKIN_HEADER || in[0] != CIRCLE_WIRE_VERSION ||
        !checkin_valid(in[1], in[2], in[3]) || len != CHECKIN_HEADER + (size_t)in[4] ||
        !circle_valid_note(in + CHECKIN_HEADER, in[4])) {
        return KITH_EMALFORMED;
    }
    c->mood = in[1];
    c->with = in[2];
    c->need = in[3];
    memcpy(c->note, in + CHECKIN_HEADER, in[4]);
    return KITH_OK;
}

/* ---- ENVELOPE_SUPPORT / ENVELOPE_SUPPORT_REPLY ---- */

int
support_encode(const struct support_signal *s, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t note_len = strnlen(s->note, sizeof s->note);

    *out_len = 0;
    if (s->kind > SUPPORT_PRESENCE || !circle_valid_note((const uint8_t *)s->note, note_len)) {
        return KITH_EINVAL;
    }
    if (out == NULL || cap < SUPPORT_HEADER + note_len) {
        return KITH_ETOOBIG;
    }
    out[0] = CIRCLE_WIRE_VERSION;
    out[1] = s->kind;
    circle_put_u32(out + 2, s->expires_at);
    out[6] = (uint8_t)note_len;
    memcpy(out + SUPPORT_HEADER, s->note, note_len);
    *out_len = SUPPORT_HEADER + note_len;
    return KITH_OK;
}

int
support_decode(const uint8_t *in, size_t len, struct support_signal *s)
{
    memset(s, 0, sizeof *s);
    if (in == NULL || len < SUPPORT_HEADER || in[0] != CIRCLE_WIRE_VERSION ||
        in[1] > SUPPORT_PRESENCE || len != SUPPORT_HEADER + (size_t)in[6] ||
        !circle_valid_note(in + SUPPORT_HEADER, in[6])) {
        return KITH_EMALFORMED;
    }
    s->kind = in[1];
    s->expires_at = circle_get_u32(in + 2);
    memcpy(s->note, in + SUPPORT_HEADER, in[6]);
    return KITH_OK;
}

/* later_at is set exactly when the answer is "later". */
static bool
support_reply_valid(uint8_t answer, uint32_t later_at)
{
    return answer >= SUPPORT_HERE && answer <= SUPPORT_CANT &&
           (answer == SUPPORT_LATER) == (later_at != 0);
}

int
support_reply_encode(const struct support_reply *r, uint8_t *out, size_t cap, size_t *out_len)
{
    *out_len = 0;
    if (!support_reply_valid(r->answer, r->later_at)) {
        return KITH_EINVAL;
    }
    if (out == NULL || cap < SUPPORT_REPLY_BYTES) {
        return KITH_ETOOBIG;
    }
    out[0] = CIRCLE_WIRE_VERSION;
    memcpy(out + 1, r->signal_id, FRAME_ID_BYTES);
    out[17] = r->answer;
    circle_put_u32(out + 18, r->later_at);
    *out_len = SUPPORT_REPLY_BYTES;
    return KITH_OK;
}

int
support_reply_decode(const uint8_t *in, size_t len, struct support_reply *r)
{
    memset(r, 0, sizeof *r);
    if (in == NULL || len != SUPPORT_REPLY_BYTES || in[0] != CIRCLE_WIRE_VERSION ||
        !support_reply_valid(in[17], circle_get_u32(in + 18))) {
        return KITH_EMALFORMED;
    }
    memcpy(r->signal_id, in + 1, FRAME_ID_BYTES);
    r->answer = in[17];
    r->later_at = circle_get_u32(in + 18);
    return KITH_OK;
}
