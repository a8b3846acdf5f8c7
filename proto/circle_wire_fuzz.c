/*
 * circle fuzz target: the bytes after the first go to one circle decoder,
 * chosen by the first byte: 0 CIRCLE_MSG body, 1 SYNC_HAVE, 2 an outer RELAY
 * frame, 3 RELAY_DONE, 4 SENDER_KEY, 5 CIRCLE_OP payload, 6 CHECKIN,
 * 7 SUPPORT, 8 SUPPORT_REPLY, 9 a content envelope (the circle payload checks
 * of proto/frame.c). Invariant: a clean error, or whatever decoded re-encodes
 * to exactly the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/circle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[FRAME_HEADER_BYTES + FRAME_BODY_MAX + ENVELOPE_PAD];
static uint8_t inner_out[FRAME_HEADER_BYTES + FRAME_BODY_MAX];
static struct sync_have have;
static struct sync_have again;

static void
check(bool ok)
{
    if (!ok) {
        abort();
    }
}

static void
check_same(const uint8_t *data, size_t size, size_t len)
{
    check(len == size && memcmp(out, data, size) == 0);
}

static void
circle_fuzz_body(const uint8_t *data, size_t size)
{
    struct circle_body b;

    if (circle_body_decode(data, size, &b) != KITH_OK) {
        return;
    }
    check(b.signed_len == size - CIRCLE_SIG_BYTES && b.sig == data + b.signed_len);
    check(b.ct == data + CIRCLE_BODY_HEADER && b.ct_len >= 16);
    circle_body_put_header(&b, out);
    memcpy(out + CIRCLE_BODY_HEADER, b.ct, b.ct_len);
    memcpy(out + CIRCLE_BODY_HEADER + b.ct_len, b.sig, CIRCLE_SIG_BYTES);
    check_same(data, size, CIRCLE_BODY_HEADER + (size_t)b.ct_len + CIRCLE_SIG_BYTES);
}

static void
circle_fuzz_sync(const uint8_t *data, size_t size)
{
    size_t len = 0;

    if (sync_have_decode(data, size, &have) != KITH_OK) {
        return;
    }
    check(sync_have_encode(&have, out, sizeof out, &len) == KITH_OK);
    check_same(data, size, len);
    check(sync_have_decode(out, len, &again) == KITH_OK);
    check(memcmp(&have, &again, sizeof have) == 0);
}

static void
circle_fuzz_relay(const uint8_t *data, size_t size)
{
    struct frame outer;
    struct relay_body r;
    size_t len = 0;

    if (frame_decode(data, size, &outer) != KITH_OK || relay_body_decode(&outer, &r) != KITH_OK) {
        return;
    }
    check(r.inner == outer.body + CIRCLE_MEMBER_BYTES);
    check(memcmp(r.frame.route, outer.route, FRAME_ID_BYTES) == 0);
    check(frame_encode(&r.frame, inner_out, sizeof inner_out, &len) == KITH_OK);
    check(len == r.inner_len && memcmp(inner_out, r.inner, len) == 0);
    check(memcmp(r.origin, outer.body, CIRCLE_MEMBER_BYTES) == 0);
}

static void
circle_fuzz_relay_done(const uint8_t *data, size_t size)
{
    size_t n = 0;

    if (relay_done_decode(data, size, &n) != KITH_OK) {
        check(n == 0);
        return;
    }
    check(n >= 1 && n <= RELAY_DONE_MAX && n * FRAME_ID_BYTES == size);
}

static void
circle_fuzz_skd(const uint8_t *data, size_t size)
{
    struct circle_skd k;

    if (circle_skd_decode(data, size, &k) != KITH_OK) {
        return;
    }
    circle_skd_encode(&k, out);
    check_same(data, size, CIRCLE_SKD_BYTES);
}

static void
circle_fuzz_op(const uint8_t *data, size_t size)
{
    const uint8_t *op;
    const uint8_t *intro;
    size_t op_len;

    if (circle_op_payload_decode(data, size, &op, &op_len, &intro) != KITH_OK) {
        check(op == NULL && intro == NULL && op_len == 0);
        return;
    }
    check(op == data + 2 && op_len >= 1 && op_len <= CIRCLE_OP_MAX);
    check(intro == op + op_len && 2 + op_len + CIRCLE_SECRET_BYTES == size);
    check(((size_t)data[0] << 8 | data[1]) == op_len);
}

static void
circle_fuzz_checkin(const uint8_t *data, size_t size)
{
    struct checkin c;
    struct checkin c2;
    size_t len = 0;

    if (checkin_decode(data, size, &c) != KITH_OK) {
        return;
    }
    check(checkin_encode(&c, out, sizeof out, &len) == KITH_OK);
    check_same(data, size, len);
    check(checkin_decode(out, len, &c2) == KITH_OK && memcmp(&c, &c2, sizeof c) == 0);
}

static void
circle_fuzz_support(const uint8_t *data, size_t size)
{
    struct support_signal s;
    struct support_signal s2;
    size_t len = 0;

    if (support_decode(data, size, &s) != KITH_OK) {
        return;
    }
    check(support_encode(&s, out, sizeof out, &len) == KITH_OK);
    check_same(data, size, len);
    check(support_decode(out, len, &s2) == KITH_OK && memcmp(&s, &s2, sizeof s) == 0);
}

static void
circle_fuzz_reply(const uint8_t *data, size_t size)
{
    struct support_reply r;
    struct support_reply r2;
    size_t len = 0;

    if (support_reply_decode(data, size, &r) != KITH_OK) {
        return;
    }
    check(support_reply_encode(&r, out, sizeof out, &len) == KITH_OK);
    check_same(data, size, len);
    check(support_reply_decode(out, len, &r2) == KITH_OK && memcmp(&r, &r2, sizeof r) == 0);
}

static void
circle_fuzz_envelope(const uint8_t *data, size_t size)
{
    struct envelope e;
    size_t len = 0;

    if (envelope_decode(data, size, &e) != KITH_OK) {
        return;
    }
    check(envelope_encode(&e, out, sizeof out, &len) == KITH_OK);
    check_same(data, size, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static void (*const decoders[])(const uint8_t *, size_t) = {
        circle_fuzz_body,  circle_fuzz_sync,     circle_fuzz_relay,   circle_fuzz_relay_done,
        circle_fuzz_skd,   circle_fuzz_op,       circle_fuzz_checkin, circle_fuzz_support,
        circle_fuzz_reply, circle_fuzz_envelope,
    };

    if (size < 1 || size > FRAME_HEADER_BYTES + FRAME_BODY_MAX + 1) {
        return 0;
    }
    decoders[data[0] % (sizeof decoders / sizeof decoders[0])](data + 1, size - 1);
    return 0;
}
