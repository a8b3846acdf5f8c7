/*
 * frame tests: outer frame, content envelope and contact card round trips,
 * every rejection path of the strict decoders, the name/endpoint/UTF-8
 * validators, and the frozen golden frame (proto/testdata/frame_v1.hex,
 * path in argv[1]).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/limits.h"
#include "proto/circle.h"
#include "proto/frame.h"

static const char *golden_path = "proto/testdata/frame_v1.hex";

/* Big enough for any frame or envelope under test. */
static uint8_t buf[FRAME_HEADER_BYTES + FRAME_BODY_MAX + 512];
static uint8_t payload[FRAME_BODY_MAX + 512];

static void
fill_range(uint8_t *out, uint8_t first, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)(first + i);
    }
}

static void
put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static struct frame
sample_frame(uint8_t type, const uint8_t *body, uint32_t body_len)
{
    struct frame f;

    memset(&f, 0, sizeof f);
    f.type = type;
    f.flags = 0x5a;
    fill_range(f.msg_id, 0x00, FRAME_ID_BYTES);
    fill_range(f.route, 0x40, FRAME_ID_BYTES);
    f.expires_at = 0x01020304;
    f.body = body;
    f.body_len = body_len;
    return f;
}

/* Encode a valid SESSION_MSG with a 10-byte body into buf; returns its length. */
static size_t
encode_sample(void)
{
    static const uint8_t body[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    struct frame f = sample_frame(FRAME_SESSION_MSG, body, sizeof body);
    size_t len = 0;

    assert_int_equal(frame_encode(&f, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(len, FRAME_HEADER_BYTES + sizeof body);
    return len;
}

/* ---- outer frame ---- */

static void
frame__round_trips__every_type(void **state)
{
    uint8_t body[300];
    struct frame got;
    size_t len = 0;

    fill_range(body, 7, sizeof body);
    for (uint8_t type = FRAME_SESSION_INIT; type <= FRAME_ACK; type++) {
        struct frame f = sample_frame(type, body, (uint32_t)(type * 30));
        assert_int_equal(frame_encode(&f, buf, sizeof buf, &len), KITH_OK);
        assert_int_equal(len, FRAME_HEADER_BYTES + type * 30);
        assert_int_equal(buf[0], FRAME_VERSION);
        assert_int_equal(buf[1], type);
        assert_int_equal(buf[3], 0);
        assert_int_equal(frame_decode(buf, len, &got), KITH_OK);
        assert_int_equal(got.type, type);
        assert_int_equal(got.flags, 0x5a);
        assert_memory_equal(got.msg_id, f.msg_id, FRAME_ID_BYTES);
        assert_memory_equal(got.route, f.route, FRAME_ID_BYTES);
        assert_int_equal(got.expires_at, 0x01020304);
        assert_int_equal(got.body_len, type * 30);
        assert_ptr_equal(got.body, buf + FRAME_HEADER_BYTES);
        assert_memory_equal(got.body, body, got.body_len);
    }
}

static void
frame__round_trips__empty_and_maximal_bodies(void **state)
{
    struct frame f = sample_frame(FRAME_SYNC_HAVE, NULL, 0);
    struct frame got;
    size_t len = 0;

    assert_int_equal(frame_encode(&f, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(len, FRAME_HEADER_BYTES);
    assert_int_equal(frame_decode(buf, len, &got), KITH_OK);
    assert_int_equal(got.body_len, 0);

    memset(payload, 0xee, sizeof payload);
    f = sample_frame(FRAME_SESSION_MSG, payload, FRAME_BODY_MAX);
    assert_int_equal(frame_encode(&f, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(len, FRAME_HEADER_BYTES + FRAME_BODY_MAX);
    assert_int_equal(frame_decode(buf, len, &got), KITH_OK);
    assert_int_equal(got.body_len, FRAME_BODY_MAX);
}

static void
frame_encode__rejects__unknown_type_oversize_body_and_small_buffer(void **state)
{
    uint8_t body[4] = { 0 };
    struct frame f = sample_frame(0, body, sizeof body);
    size_t len = 99;

    assert_int_equal(frame_encode(&f, buf, sizeof buf, &len), KITH_EINVAL);
    assert_int_equal(len, 0);
    f.type = FRAME_ACK + 1;
    assert_int_equal(frame_encode(&f, buf, sizeof buf, &len), KITH_EINVAL);
    f.type = 255;
    assert_int_equal(frame_encode(&f, buf, sizeof buf, &len), KITH_EINVAL);
    f.type = FRAME_ACK;
    assert_int_equal(frame_encode(&f, buf, sizeof buf, &len), KITH_OK);
    f = sample_frame(FRAME_SESSION_MSG, payload, FRAME_BODY_MAX + 1);
    assert_int_equal(frame_encode(&f, buf, sizeof buf, &len), KITH_ETOOBIG);
    f = sample_frame(FRAME_SESSION_MSG, body, sizeof body);
    assert_int_equal(frame_encode(&f, buf, FRAME_HEADER_BYTES + 3, &len), KITH_ETOOBIG);
    assert_int_equal(frame_encode(&f, buf, FRAME_HEADER_BYTES + 4, &len), KITH_OK);
}

static void
frame_decode__rejects__bad_version(void **state)
{
    size_t len = encode_sample();
    struct frame got;

    for (unsigned v = 0; v < 256; v++) {
        buf[0] = (uint8_t)v;
        assert_int_equal(frame_decode(buf, len, &got),
                         v == FRAME_VERSION ? KITH_OK : KITH_EMALFORMED);
    }
    buf[0] = 2;
    assert_int_equal(frame_decode(buf, len, &got), KITH_EMALFORMED);
    assert_int_equal(got.type, 0); /* output reset on failure */
    assert_null(got.body);
}

static void
frame_decode__rejects__unknown_type(void **state)
{
    size_t len = encode_sample();
    struct frame got;

    for (unsigned t = 0; t < 256; t++) {
        buf[1] = (uint8_t)t;
        bool known = t >= FRAME_SESSION_INIT && t <= FRAME_ACK;
        assert_int_equal(frame_decode(buf, len, &got), known ? KITH_OK : KITH_EMALFORMED);
    }
}

static void
frame_decode__rejects__nonzero_reserved_byte(void **state)
{
    size_t len = encode_sample();
    struct frame got;

    for (unsigned r = 1; r < 256; r++) {
        buf[3] = (uint8_t)r;
        assert_int_equal(frame_decode(buf, len, &got), KITH_EMALFORMED);
    }
}

static void
frame_decode__rejects__body_len_larger_than_the_bytes(void **state)
{
    size_t len = encode_sample();
    struct frame got;

    put_u32(buf + FRAME_AD_BYTES, 11);
    assert_int_equal(frame_decode(buf, len, &got), KITH_EMALFORMED);
    put_u32(buf + FRAME_AD_BYTES, 10);
    assert_int_equal(frame_decode(buf, len - 1, &got), KITH_EMALFORMED);
}

static void
frame_decode__rejects__body_len_smaller_than_the_bytes(void **state)
{
    size_t len = encode_sample();
    struct frame got;

    put_u32(buf + FRAME_AD_BYTES, 9);
    assert_int_equal(frame_decode(buf, len, &got), KITH_EMALFORMED);
    put_u32(buf + FRAME_AD_BYTES, 10);
    assert_int_equal(frame_decode(buf, len + 1, &got), KITH_EMALFORMED);
    assert_int_equal(frame_decode(buf, len, &got), KITH_OK);
}

static void
frame_decode__rejects__oversize_body(void **state)
{
    size_t len = encode_sample();
    struct frame got;

    (void)len;
    put_u32(buf + FRAME_AD_BYTES, FRAME_BODY_MAX + 1);
    assert_int_equal(frame_decode(buf, FRAME_HEADER_BYTES + FRAME_BODY_MAX + 1, &got),
                     KITH_ETOOBIG);
    put_u32(buf + FRAME_AD_BYTES, 0xffffffffu);
    assert_int_equal(frame_decode(buf, FRAME_HEADER_BYTES + 10, &got), KITH_ETOOBIG);
    put_u32(buf + FRAME_AD_BYTES, FRAME_BODY_MAX);
    assert_int_equal(frame_decode(buf, FRAME_HEADER_BYTES + FRAME_BODY_MAX, &got), KITH_OK);
}

static void
frame_decode__rejects__truncated_header(void **state)
{
    struct frame got;

    encode_sample();
    put_u32(buf + FRAME_AD_BYTES, 0);
    assert_int_equal(frame_decode(buf, FRAME_HEADER_BYTES, &got), KITH_OK);
    for (size_t len = 0; len < FRAME_HEADER_BYTES; len++) {
        assert_int_equal(frame_decode(buf, len, &got), KITH_EMALFORMED);
    }
    assert_int_equal(frame_decode(NULL, 0, &got), KITH_EMALFORMED);
}

static void
frame_ad__is__the_header_without_body_len(void **state)
{
    size_t len = encode_sample();
    uint8_t ad[FRAME_AD_BYTES];
    struct frame got;

    assert_int_equal(frame_decode(buf, len, &got), KITH_OK);
    frame_ad(&got, ad);
    assert_memory_equal(ad, buf, FRAME_AD_BYTES);
    got.expires_at++;
    frame_ad(&got, ad);
    assert_memory_not_equal(ad, buf, FRAME_AD_BYTES);
}

static size_t
read_golden(uint8_t *out, size_t cap)
{
    char hex[1024];
    size_t n = 0;
    size_t hex_len;
    FILE *fp = fopen(golden_path, "r");

    assert_non_null(fp);
    hex_len = fread(hex, 1, sizeof hex - 1, fp);
    fclose(fp);
    while (hex_len > 0 && (hex[hex_len - 1] == '\n' || hex[hex_len - 1] == '\r')) {
        hex_len--;
    }
    assert_true(hex_len % 2 == 0 && hex_len / 2 <= cap);
    for (size_t i = 0; i < hex_len; i += 2) {
        unsigned byte;
        char pair[3] = { hex[i], hex[i + 1], '\0' };
        assert_int_equal(sscanf(pair, "%2x", &byte), 1);
        out[n++] = (uint8_t)byte;
    }
    return n;
}

static void
frame__reproduces__golden_vector_v1(void **state)
{
    uint8_t golden[512];
    uint8_t msg_id[FRAME_ID_BYTES], route[FRAME_ID_BYTES], body[32];
    size_t golden_len = read_golden(golden, sizeof golden);
    struct frame got;
    size_t len = 0;

    fill_range(msg_id, 0x00, sizeof msg_id);
    fill_range(route, 0x10, sizeof route);
    fill_range(body, 0xa0, sizeof body);
    assert_int_equal(golden_len, FRAME_HEADER_BYTES + 32);
    assert_int_equal(frame_decode(golden, golden_len, &got), KITH_OK);
    assert_int_equal(got.type, FRAME_SESSION_MSG);
    assert_int_equal(got.flags, 0x03);
    assert_memory_equal(got.msg_id, msg_id, FRAME_ID_BYTES);
    assert_memory_equal(got.route, route, FRAME_ID_BYTES);
    assert_int_equal(got.expires_at, 0x65000000u);
    assert_int_equal(got.body_len, 32);
    assert_memory_equal(got.body, body, sizeof body);
    assert_int_equal(frame_encode(&got, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(len, golden_len);
    assert_memory_equal(buf, golden, len);
}

/* ---- content envelope ---- */

static struct envelope
sample_envelope(uint8_t type, const uint8_t *p, uint32_t p_len)
{
    struct envelope e;

    memset(&e, 0, sizeof e);
    e.type = type;
    e.version = 1;
    e.flags = ENVELOPE_F_HEAVY | ENVELOPE_F_URGENT;
    e.lamport = 0x0102030405060708ull;
    e.sender_seq = 42;
    e.sent_at_ms = 1700000000123ull;
    fill_range(e.prev_msg_id, 0x90, FRAME_ID_BYTES);
    e.payload = p;
    e.payload_len = p_len;
    return e;
}

/* A valid TEXT envelope of payload_len bytes of 'a' in buf; returns its size. */
static size_t
encode_text(uint32_t payload_len)
{
    struct envelope e;
    size_t len = 0;

    memset(payload, 'a', payload_len);
    e = sample_envelope(ENVELOPE_TEXT, payload, payload_len);
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_OK);
    return len;
}

static void
envelope_size__pads__to_multiples_of_256(void **state)
{
    assert_int_equal(envelope_size(0), 256);
    assert_int_equal(envelope_size(208), 256);
    assert_int_equal(envelope_size(209), 512);
    assert_int_equal(envelope_size(ENVELOPE_PAYLOAD_MAX), 60160);
}

static void
envelope__round_trips__text_ack_and_card(void **state)
{
    static const char text[] = "hello, Zoë — ✓";
    uint8_t ids[3 * 16];
    uint8_t card_bytes[256];
    struct contact_card card;
    struct envelope got;
    size_t len = 0, card_len = 0;
    struct envelope e = sample_envelope(ENVELOPE_TEXT, (const uint8_t *)text, sizeof text - 1);

    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(len, 256);
    assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);
    assert_int_equal(got.type, ENVELOPE_TEXT);
    assert_int_equal(got.version, 1);
    assert_int_equal(got.flags, ENVELOPE_F_HEAVY | ENVELOPE_F_URGENT);
    assert_true(got.lamport == e.lamport);
    assert_true(got.sender_seq == 42);
    assert_true(got.sent_at_ms == e.sent_at_ms);
    assert_memory_equal(got.prev_msg_id, e.prev_msg_id, FRAME_ID_BYTES);
    assert_int_equal(got.payload_len, sizeof text - 1);
    assert_memory_equal(got.payload, text, sizeof text - 1);

    fill_range(ids, 1, sizeof ids);
    e = sample_envelope(ENVELOPE_ACK, ids, sizeof ids);
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);
    assert_int_equal(got.type, ENVELOPE_ACK);
    assert_memory_equal(got.payload, ids, sizeof ids);

    memset(&card, 0, sizeof card);
    strcpy(card.name, "Ana");
    assert_int_equal(card_encode(&card, card_bytes, sizeof card_bytes, &card_len), KITH_OK);
    e = sample_envelope(ENVELOPE_CONTACT_CARD, card_bytes, (uint32_t)card_len);
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);
    assert_int_equal(got.type, ENVELOPE_CONTACT_CARD);
    assert_int_equal(got.payload_len, card_len);
}

static void
envelope_receipt__accepts__every_tell_and_rejects_unknown_ones(void **state)
{
    uint8_t receipts[2 * RECEIPT_BYTES];
    struct envelope got;
    struct envelope e;
    size_t len = 0;

    (void)state;
    fill_range(receipts, 1, sizeof receipts);
    for (int tell = 0; tell <= RECEIPT_TELL_LAST + 1; tell++) {
        receipts[FRAME_ID_BYTES] = RECEIPT_DELIVERED;
        receipts[RECEIPT_BYTES + FRAME_ID_BYTES] = (uint8_t)tell; /* the second receipt */
        e = sample_envelope(ENVELOPE_RECEIPT, receipts, sizeof receipts);
        if (tell >= RECEIPT_DELIVERED && tell <= RECEIPT_TELL_LAST) {
            assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_OK);
            assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);
            assert_int_equal(got.type, ENVELOPE_RECEIPT);
            assert_memory_equal(got.payload, receipts, sizeof receipts);
        } else {
            assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_EINVAL);
        }
    }
    assert_int_equal(RECEIPT_NO_SPACE, 5); /* a wire value: changing it is a protocol change */
    receipts[RECEIPT_BYTES + FRAME_ID_BYTES] = RECEIPT_NO_SPACE;
    e = sample_envelope(ENVELOPE_RECEIPT, receipts, sizeof receipts);
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_OK);
    buf[ENVELOPE_HEADER_BYTES + RECEIPT_BYTES + FRAME_ID_BYTES] = RECEIPT_TELL_LAST + 1;
    assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
    buf[ENVELOPE_HEADER_BYTES + RECEIPT_BYTES + FRAME_ID_BYTES] = 0;
    assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
    e = sample_envelope(ENVELOPE_RECEIPT, receipts, RECEIPT_BYTES - 1);
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_EINVAL);
}

/* A TEXTS payload of n texts, text i being i + 1 bytes of 'a' + i; returns its length. */
static size_t
texts_payload(uint8_t *out, size_t n)
{
    size_t off = 1;

    out[0] = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        out[off] = 0;
        out[off + 1] = (uint8_t)(i & 1); /* flags: HEAVY on odd texts */
        out[off + 2] = 0;
        out[off + 3] = (uint8_t)(i + 1);
        memset(out + off + 4, 'a' + (int)(i % 26), i + 1);
        off += 4 + i + 1;
    }
    return off;
}

static void
envelope_texts__round_trips__two_to_64_texts_in_order(void **state)
{
    static uint8_t tp[1 + ENVELOPE_TEXTS_MAX * (4 + ENVELOPE_TEXTS_MAX)];
    struct envelope_text texts[ENVELOPE_TEXTS_MAX];
    struct envelope got;
    struct envelope e;
    size_t len = 0;
    size_t n = 0;

    (void)state;
    for (size_t count = 2; count <= ENVELOPE_TEXTS_MAX; count += 31) {
        size_t plen = texts_payload(tp, count);
        e = sample_envelope(ENVELOPE_TEXTS, tp, (uint32_t)plen);
        assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_OK);
        assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);
        assert_int_equal(got.type, ENVELOPE_TEXTS);
        assert_int_equal(envelope_texts_decode(got.payload, got.payload_len, texts, &n), KITH_OK);
        assert_int_equal(n, count);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(texts[i].len, i + 1);
            assert_int_equal(texts[i].flags, i & 1);
            assert_int_equal(texts[i].text[0], 'a' + (int)(i % 26));
        }
    }
    {
        uint8_t frame_id[FRAME_ID_BYTES];
        uint8_t id[FRAME_ID_BYTES];
        fill_range(frame_id, 0x10, FRAME_ID_BYTES);
        frame_id[FRAME_ID_BYTES - 1] = 0;
        envelope_texts_id(frame_id, 63, id);
        assert_memory_equal(id, frame_id, FRAME_ID_BYTES - 1);
        assert_int_equal(id[FRAME_ID_BYTES - 1], 63);
    }
}

static void
envelope_texts__rejects__bad_counts_empty_or_long_texts_bad_utf8_and_trailing_bytes(void **state)
{
    static uint8_t tp[1 + 3 * (4 + KITH_TEXT_MAX + 1) + 8];
    struct envelope_text texts[ENVELOPE_TEXTS_MAX];
    struct envelope e;
    size_t len = 0;
    size_t n = 99;
    size_t plen;

    (void)state;
    plen = texts_payload(tp, 3);
    assert_int_equal(envelope_texts_decode(tp, plen, texts, &n), KITH_OK);
    assert_int_equal(envelope_texts_decode(tp, 0, texts, &n), KITH_EMALFORMED);
    assert_int_equal(n, 0);
    for (size_t cut = 1; cut < plen; cut++) { /* every truncation */
        assert_int_equal(envelope_texts_decode(tp, cut, texts, &n), KITH_EMALFORMED);
    }
    tp[plen] = 0;
    assert_int_equal(envelope_texts_decode(tp, plen + 1, texts, &n), KITH_EMALFORMED);
    tp[0] = 1; /* one text goes as a TEXT */
    assert_int_equal(envelope_texts_decode(tp, plen, texts, &n), KITH_EMALFORMED);
    tp[0] = 0;
    assert_int_equal(envelope_texts_decode(tp, plen, texts, &n), KITH_EMALFORMED);
    tp[0] = ENVELOPE_TEXTS_MAX + 1;
    assert_int_equal(envelope_texts_decode(tp, plen, texts, &n), KITH_ETOOBIG);
    tp[0] = 3;
    tp[1 + 4 + 1 + 4] = 0xC0; /* the second text: an overlong form */
    tp[1 + 4 + 1 + 4 + 1] = 0x80;
    assert_int_equal(envelope_texts_decode(tp, plen, texts, &n), KITH_EMALFORMED);
    e = sample_envelope(ENVELOPE_TEXTS, tp, (uint32_t)plen);
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_EINVAL);
    plen = texts_payload(tp, 3);
    tp[1 + 3] = 0; /* the first text empty: its length 0 */
    assert_int_equal(envelope_texts_decode(tp, plen, texts, &n), KITH_EMALFORMED);
    /* a text over KITH_TEXT_MAX */
    tp[0] = 2;
    tp[1] = 0;
    tp[2] = 0;
    tp[3] = (uint8_t)((KITH_TEXT_MAX + 1) >> 8);
    tp[4] = (uint8_t)(KITH_TEXT_MAX + 1);
    memset(tp + 5, 'x', KITH_TEXT_MAX + 1);
    plen = 5 + KITH_TEXT_MAX + 1;
    memcpy(tp + plen, "\0\0\0\1y", 5);
    plen += 5;
    assert_int_equal(envelope_texts_decode(tp, plen, texts, &n), KITH_ETOOBIG);
    e = sample_envelope(ENVELOPE_TEXTS, tp, (uint32_t)plen);
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_ETOOBIG);
}

static void
envelope__round_trips__at_every_padding_boundary(void **state)
{
    const uint32_t sizes[] = { 0, 1, 207, 208, 209, 464, 465, KITH_TEXT_MAX };
    struct envelope got;

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = encode_text(sizes[i]);
        assert_int_equal(len, envelope_size(sizes[i]));
        assert_int_equal(len % ENVELOPE_PAD, 0);
        assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);
        assert_int_equal(got.payload_len, sizes[i]);
    }
}

static void
envelope_decode__rejects__each_nonzero_padding_byte(void **state)
{
    size_t len = encode_text(100);
    struct envelope got;

    for (size_t i = ENVELOPE_HEADER_BYTES + 100; i < len; i++) {
        buf[i] = 0x01;
        assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
        assert_null(got.payload);
        buf[i] = 0x00;
    }
    assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);
}

static void
envelope_decode__rejects__length_not_the_padded_size(void **state)
{
    size_t len = encode_text(100);
    struct envelope got;

    assert_int_equal(envelope_decode(buf, len - 1, &got), KITH_EMALFORMED);
    assert_int_equal(envelope_decode(buf, len + 1, &got), KITH_EMALFORMED);
    assert_int_equal(envelope_decode(buf, 128, &got), KITH_EMALFORMED);
    for (size_t i = 0; i < ENVELOPE_HEADER_BYTES; i++) {
        assert_int_equal(envelope_decode(buf, i, &got), KITH_EMALFORMED);
    }
    memset(buf + len, 0, ENVELOPE_PAD); /* a spare all-zero block is still wrong */
    assert_int_equal(envelope_decode(buf, len + ENVELOPE_PAD, &got), KITH_EMALFORMED);
}

static void
envelope_decode__rejects__payload_len_too_large(void **state)
{
    size_t len = encode_text(100);
    struct envelope got;

    put_u32(buf + 44, 209); /* beyond the 256-byte envelope */
    assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
    put_u32(buf + 44, 0xffffffffu);
    assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
    put_u32(buf + 44, 208); /* fits, but the padding is now text 'a' + zeros */
    assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);
    assert_int_equal(got.payload_len, 208);
}

static void
envelope_decode__rejects__unknown_type_and_version(void **state)
{
    size_t len = encode_text(10);
    struct envelope got;

    buf[0] = 0;
    assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
    buf[0] = ENVELOPE_TYPE_LAST + 1;
    assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
    buf[0] = ENVELOPE_TEXT;
    buf[1] = 2;
    assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
    buf[1] = 0;
    assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
    buf[1] = 1;
    assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);
}

static void
envelope_decode__rejects__ack_not_a_multiple_of_16_or_over_256_ids(void **state)
{
    struct envelope e;
    struct envelope got;
    size_t len = 0;

    memset(payload, 0x11, 257 * 16);
    e = sample_envelope(ENVELOPE_ACK, payload, 256 * 16);
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);

    e.payload_len = 17;
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_EINVAL);
    e.payload_len = 257 * 16;
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_ETOOBIG);

    /* Forge the same shapes as TEXT of plain ASCII, then relabel them ACK. */
    e = sample_envelope(ENVELOPE_TEXT, payload, 17);
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_OK);
    buf[0] = ENVELOPE_ACK;
    assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
    buf[0] = ENVELOPE_TEXT;
    assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);

    e = sample_envelope(ENVELOPE_TEXT, payload, 257 * 16);
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_OK);
    buf[0] = ENVELOPE_ACK;
    assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
}

static void
envelope_decode__rejects__invalid_utf8_text(void **state)
{
    size_t len = encode_text(10);
    struct envelope got;

    buf[ENVELOPE_HEADER_BYTES + 3] = 0xc0; /* overlong lead */
    assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
    buf[ENVELOPE_HEADER_BYTES + 3] = 0xff;
    assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
    buf[ENVELOPE_HEADER_BYTES + 3] = 'b';
    assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);
}

static void
envelope__rejects__text_over_16384_bytes(void **state)
{
    struct envelope e;
    struct envelope got;
    size_t len = encode_text(KITH_TEXT_MAX);

    assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);
    e = sample_envelope(ENVELOPE_TEXT, payload, KITH_TEXT_MAX + 1);
    memset(payload, 'a', KITH_TEXT_MAX + 1);
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_ETOOBIG);

    /* A hand-built envelope claiming 16385 bytes of text is rejected on decode. */
    len = envelope_size(KITH_TEXT_MAX + 1);
    memset(buf, 0, len);
    buf[0] = ENVELOPE_TEXT;
    buf[1] = 1;
    put_u32(buf + 44, KITH_TEXT_MAX + 1);
    memset(buf + ENVELOPE_HEADER_BYTES, 'a', KITH_TEXT_MAX + 1);
    assert_int_equal(envelope_decode(buf, len, &got), KITH_EMALFORMED);
    put_u32(buf + 44, KITH_TEXT_MAX);
    buf[ENVELOPE_HEADER_BYTES + KITH_TEXT_MAX] = 0;
    assert_int_equal(envelope_size(KITH_TEXT_MAX), len);
    assert_int_equal(envelope_decode(buf, len, &got), KITH_OK);
}

static void
envelope_encode__rejects__bad_arguments(void **state)
{
    struct envelope e = sample_envelope(ENVELOPE_TEXT, payload, 10);
    size_t len = 5;

    memset(payload, 'a', 10);
    e.type = ENVELOPE_TYPE_LAST + 1;
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_EINVAL);
    assert_int_equal(len, 0);
    e.type = ENVELOPE_TEXT;
    e.version = 2;
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_EINVAL);
    e.version = 1;
    assert_int_equal(envelope_encode(&e, buf, 255, &len), KITH_ETOOBIG);
    e.type = ENVELOPE_CONTACT_CARD; /* "aaaaaaaaaa" is not a card */
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_EINVAL);
    e.type = ENVELOPE_ACK;
    e.payload_len = ENVELOPE_PAYLOAD_MAX + 16;
    assert_int_equal(envelope_encode(&e, buf, sizeof buf, &len), KITH_ETOOBIG);
}

/* ---- contact card ---- */

/* "tcp://aaa...a.aaa...:1" of exactly total bytes (no NUL written). */
static void
long_endpoint(char *ep, size_t total)
{
    size_t host_len = total - strlen("tcp://") - strlen(":1");

    memcpy(ep, "tcp://", 6);
    for (size_t i = 0; i < host_len; i++) {
        ep[6 + i] = (i % 60 == 59) ? '.' : 'a';
    }
    memcpy(ep + 6 + host_len, ":1", 2);
}

static struct contact_card
sample_card(void)
{
    struct contact_card c;

    memset(&c, 0, sizeof c);
    strcpy(c.name, "Zoë Ana");
    c.n_endpoints = 2;
    strcpy(c.endpoints[0], "tcp://127.0.0.1:7741");
    strcpy(c.endpoints[1], "tcp://[::1]:80");
    return c;
}

static void
card__round_trips__with_zero_to_four_endpoints(void **state)
{
    struct contact_card c = sample_card();
    struct contact_card got;
    uint8_t out[512];
    size_t len = 0;

    strcpy(c.endpoints[2], "tcp://abc.onion:9000");
    strcpy(c.endpoints[3], "tcp://host.example:1");
    for (uint8_t n = 0; n <= CARD_ENDPOINTS_MAX; n++) {
        c.n_endpoints = n;
        assert_int_equal(card_encode(&c, out, sizeof out, &len), KITH_OK);
        assert_int_equal(card_decode(out, len, &got), KITH_OK);
        assert_string_equal(got.name, c.name);
        assert_int_equal(got.n_endpoints, n);
        for (uint8_t i = 0; i < n; i++) {
            assert_string_equal(got.endpoints[i], c.endpoints[i]);
        }
    }
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], strlen(c.name));
}

static void
card_decode__rejects__every_truncation_and_trailing_bytes(void **state)
{
    struct contact_card c = sample_card();
    struct contact_card got;
    uint8_t out[512];
    size_t len = 0;

    assert_int_equal(card_encode(&c, out, sizeof out, &len), KITH_OK);
    for (size_t n = 0; n < len; n++) {
        assert_int_equal(card_decode(out, n, &got), KITH_EMALFORMED);
        assert_int_equal(got.name[0], '\0');
        assert_int_equal(got.n_endpoints, 0);
    }
    out[len] = 0;
    assert_int_equal(card_decode(out, len + 1, &got), KITH_EMALFORMED);
    out[0] = 2;
    assert_int_equal(card_decode(out, len, &got), KITH_EMALFORMED);
}

static void
card__enforces__name_and_endpoint_bounds(void **state)
{
    struct contact_card c = sample_card();
    struct contact_card got;
    uint8_t out[1024];
    size_t len = 0;

    memset(c.name, 'n', CARD_NAME_MAX);
    assert_int_equal(card_encode(&c, out, sizeof out, &len), KITH_OK);
    assert_int_equal(card_decode(out, len, &got), KITH_OK);
    c.name[0] = '\0';
    assert_int_equal(card_encode(&c, out, sizeof out, &len), KITH_EINVAL);
    strcpy(c.name, "ok");
    c.n_endpoints = CARD_ENDPOINTS_MAX + 1;
    assert_int_equal(card_encode(&c, out, sizeof out, &len), KITH_EINVAL);
    c.n_endpoints = 1;
    strcpy(c.endpoints[0], "udp://1.2.3.4:5");
    assert_int_equal(card_encode(&c, out, sizeof out, &len), KITH_EINVAL);
    strcpy(c.endpoints[0], "tcp://*:5");
    assert_int_equal(card_encode(&c, out, sizeof out, &len), KITH_EINVAL);
    strcpy(c.endpoints[0], "tcp://a:5");
    assert_int_equal(card_encode(&c, out, 8, &len), KITH_ETOOBIG);
    assert_int_equal(card_encode(&c, out, sizeof out, &len), KITH_OK);

    /* Hand-built cards: name_len 0, 65, an endpoint of 0 and 97 bytes, 5 endpoints. */
    const uint8_t empty_name[] = { 1, 0, 0 };
    assert_int_equal(card_decode(empty_name, sizeof empty_name, &got), KITH_EMALFORMED);
    out[0] = 1;
    out[1] = CARD_NAME_MAX + 1;
    memset(out + 2, 'n', CARD_NAME_MAX + 1);
    out[2 + CARD_NAME_MAX + 1] = 0;
    assert_int_equal(card_decode(out, 2 + CARD_NAME_MAX + 2, &got), KITH_EMALFORMED);
    const uint8_t empty_endpoint[] = { 1, 1, 'x', 1, 0 };
    assert_int_equal(card_decode(empty_endpoint, sizeof empty_endpoint, &got), KITH_EMALFORMED);
    const uint8_t five[] = { 1, 1, 'x', 5 };
    assert_int_equal(card_decode(five, sizeof five, &got), KITH_EMALFORMED);
    out[0] = 1;
    out[1] = 1;
    out[2] = 'x';
    out[3] = 1;
    out[4] = CARD_ENDPOINT_MAX + 1;
    long_endpoint((char *)out + 5, CARD_ENDPOINT_MAX + 1);
    assert_int_equal(card_decode(out, 5 + CARD_ENDPOINT_MAX + 1, &got), KITH_EMALFORMED);
    out[4] = CARD_ENDPOINT_MAX;
    long_endpoint((char *)out + 5, CARD_ENDPOINT_MAX);
    assert_int_equal(card_decode(out, 5 + CARD_ENDPOINT_MAX, &got), KITH_OK);
    assert_int_equal(strlen(got.endpoints[0]), CARD_ENDPOINT_MAX);
}

/* ---- validators ---- */

static void
valid_endpoint__accepts_and_rejects__the_grammar_table(void **state)
{
    static const struct {
        const char *endpoint;
        bool ok;
        bool ok_wildcard;
    } table[] = {
        { "tcp://127.0.0.1:7741", true, true },
        { "tcp://[::1]:80", true, true },
        { "tcp://abc.onion:9000", true, true },
        { "tcp://host.example:1", true, true },
        { "tcp://localhost:65535", true, true },
        { "tcp://[2001:db8::1]:443", true, true },
        { "tcp://[::ffff:10.0.0.1]:443", true, true },
        { "tcp://xn--bcher-kva.example:8", true, true },
        { "tcp://127.0.0.1:0", false, false },
        { "tcp://127.0.0.1:65536", false, false },
        { "tcp://127.0.0.1:99999", false, false },
        { "tcp://127.0.0.1:07741", false, false },
        { "tcp://127.0.0.1:", false, false },
        { "tcp://127.0.0.1", false, false },
        { "tcp://[::1]", false, false },
        { "tcp://:80", false, false },
        { "udp://127.0.0.1:7741", false, false },
        { "TCP://127.0.0.1:7741", false, false },
        { "tcp:/127.0.0.1:7741", false, false },
        { "tcp://127.0.0.1 :7741", false, false },
        { " tcp://127.0.0.1:7741", false, false },
        { "tcp://127.0.0.1:7741 ", false, false },
        { "tcp://host example:1", false, false },
        { "tcp://*:7741", false, true },
        { "tcp://127.0.0.1:*", false, true },
        { "tcp://*:*", false, true },
        { "tcp://h*st:1", false, false },
        { "tcp://256.1.1.1:80", false, false },
        { "tcp://1.2.3:80", false, false },
        { "tcp://1.2.3.4.5:80", false, false },
        { "tcp://01.2.3.4:80", false, false },
        { "tcp://[::1%eth0]:80", false, false },
        { "tcp://[::g]:80", false, false },
        { "tcp://::1:80", false, false },
        { "tcp://-host.example:1", false, false },
        { "tcp://host-.example:1", false, false },
        { "tcp://host..example:1", false, false },
        { "tcp://host.example.:1", false, false },
        { "tcp://host_name:1", false, false },
        { "tcp://a:-1", false, false },
        { "tcp://a:+1", false, false },
        { "tcp://", false, false },
        { "", false, false },
    };

    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *ep = table[i].endpoint;
        if (frame_valid_endpoint(ep, strlen(ep), false) != table[i].ok ||
            frame_valid_endpoint(ep, strlen(ep), true) != table[i].ok_wildcard) {
            fail_msg("endpoint grammar wrong for \"%s\"", ep);
        }
    }
}

static void
valid_endpoint__enforces__96_byte_limit_and_embedded_nul(void **state)
{
    char ep[128] = { 0 };

    long_endpoint(ep, CARD_ENDPOINT_MAX);
    assert_int_equal(strlen(ep), CARD_ENDPOINT_MAX);
    assert_true(frame_valid_endpoint(ep, strlen(ep), false));
    memmove(ep + 7, ep + 6, strlen(ep + 6) + 1);
    assert_int_equal(strlen(ep), CARD_ENDPOINT_MAX + 1);
    assert_false(frame_valid_endpoint(ep, strlen(ep), false));
    assert_false(frame_valid_endpoint("tcp://a\0b:1", 11, false));
    assert_false(frame_valid_endpoint("tcp://a:1\0", 10, false));
    assert_true(frame_valid_endpoint("tcp://a:1\0", 9, false));
    assert_false(frame_valid_endpoint(NULL, 0, true));
}

static void
valid_utf8__rejects__overlongs_surrogates_and_out_of_range(void **state)
{
    static const struct {
        const char *bytes;
        bool ok;
    } table[] = {
        { "", true },
        { "plain ascii", true },
        { "\xc2\x80", true },          /* U+0080 */
        { "\xdf\xbf", true },          /* U+07FF */
        { "\xe0\xa0\x80", true },      /* U+0800 */
        { "\xed\x9f\xbf", true },      /* U+D7FF */
        { "\xee\x80\x80", true },      /* U+E000 */
        { "\xef\xbf\xbf", true },      /* U+FFFF */
        { "\xf0\x90\x80\x80", true },  /* U+10000 */
        { "\xf4\x8f\xbf\xbf", true },  /* U+10FFFF */
        { "\xc0\x80", false },         /* overlong NUL */
        { "\xc1\xbf", false },         /* overlong */
        { "\xe0\x80\x80", false },     /* overlong */
        { "\xe0\x9f\xbf", false },     /* overlong U+07FF */
        { "\xf0\x80\x80\x80", false }, /* overlong */
        { "\xf0\x8f\xbf\xbf", false }, /* overlong U+FFFF */
        { "\xed\xa0\x80", false },     /* U+D800 */
        { "\xed\xbf\xbf", false },     /* U+DFFF */
        { "\xf4\x90\x80\x80", false }, /* U+110000 */
        { "\xf5\x80\x80\x80", false },
        { "\xf8\x88\x80\x80\x80", false },
        { "\xff", false },
        { "\x80", false },            /* lone continuation */
        { "a\xc3", false },           /* truncated */
        { "\xe2\x82", false },        /* truncated */
        { "\xe2\x28\xa1", false },    /* bad continuation */
        { "\xf0\x9f\x98", false },    /* truncated emoji */
        { "\xf0\x9f\x98\x80", true }, /* emoji */
    };

    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *s = table[i].bytes;
        if (frame_valid_utf8((const uint8_t *)s, strlen(s)) != table[i].ok) {
            fail_msg("utf8 verdict wrong for case %zu", i);
        }
    }
    assert_true(frame_valid_utf8((const uint8_t *)"a\0b", 3)); /* NUL is valid UTF-8 */
    assert_true(frame_valid_utf8(NULL, 0));
}

static void
valid_name__rejects__empty_long_and_control_characters(void **state)
{
    static const char *const bad[] = {
        "a\nb",           "tab\there",       "del\x7f",
        "c1\xc2\x85",     "rlo\xe2\x80\xae", "lrm\xe2\x80\x8e",
        "ls\xe2\x80\xa8", "bom\xef\xbb\xbf", "iso\xe2\x81\xa6",
        "bad\xc3",        "us\x1f",
    };
    char name[CARD_NAME_MAX + 2];

    assert_true(frame_valid_name("Ana", 3));
    assert_true(frame_valid_name("Zoë", strlen("Zoë")));
    assert_true(frame_valid_name("日本語 🙂", strlen("日本語 🙂")));
    assert_false(frame_valid_name("", 0));
    assert_false(frame_valid_name("a\0b", 3));
    memset(name, 'x', sizeof name);
    assert_true(frame_valid_name(name, CARD_NAME_MAX));
    assert_false(frame_valid_name(name, CARD_NAME_MAX + 1));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (frame_valid_name(bad[i], strlen(bad[i]))) {
            fail_msg("name case %zu accepted", i);
        }
    }
}

/* ---- circle frame type and envelope payloads (proto/circle.h) ---- */

static void
frame__round_trips__relay_type_9(void **state)
{
    uint8_t body[60];
    struct frame f;
    struct frame got;
    size_t len = 0;

    fill_range(body, 3, sizeof body);
    f = sample_frame(FRAME_RELAY, body, sizeof body);
    assert_int_equal(FRAME_RELAY, 9);
    assert_int_equal(frame_encode(&f, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(buf[1], 9);
    assert_int_equal(frame_decode(buf, len, &got), KITH_OK);
    assert_int_equal(got.type, FRAME_RELAY);
    assert_memory_equal(got.body, body, sizeof body);
    buf[1] = 11; /* the first unknown type */
    assert_int_equal(frame_decode(buf, len, &got), KITH_EMALFORMED);
}

/* ---- acknowledgement frame (type 10) ---- */

static void
frame__round_trips__ack_type_10(void **state)
{
    uint8_t body[2 * ACK_ENTRY_BYTES];
    struct frame f;
    struct frame got;
    size_t len = 0;
    size_t n = 99;

    assert_int_equal(FRAME_ACK, 10);
    assert_int_equal(ACK_ENTRY_BYTES, 65);
    fill_range(body, 0x80, sizeof body);
    f = sample_frame(FRAME_ACK, body, sizeof body);
    assert_int_equal(frame_encode(&f, buf, sizeof buf, &len), KITH_OK);
    assert_int_equal(len, FRAME_HEADER_BYTES + sizeof body);
    assert_int_equal(buf[1], 10);
    assert_int_equal(frame_decode(buf, len, &got), KITH_OK);
    assert_int_equal(got.type, FRAME_ACK);
    assert_int_equal(got.flags, 0x5a);
    assert_memory_equal(got.msg_id, f.msg_id, FRAME_ID_BYTES);
    assert_memory_equal(got.route, f.route, FRAME_ID_BYTES);
    assert_int_equal(got.expires_at, 0x01020304);
    assert_int_equal(got.body_len, sizeof body);
    assert_ptr_equal(got.body, buf + FRAME_HEADER_BYTES);
    assert_memory_equal(got.body, body, sizeof body);
    assert_int_equal(ack_body_check(got.body, got.body_len, &n), KITH_OK);
    assert_int_equal(n, 2);
}

static void
ack_body_check__accepts__one_to_256_whole_entries(void **state)
{
    size_t n = 0;

    memset(payload, 0xa5, (ACK_ENTRIES_MAX + 1) * ACK_ENTRY_BYTES);
    assert_int_equal(ack_body_check(payload, ACK_ENTRY_BYTES, &n), KITH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ack_body_check(payload, 2 * ACK_ENTRY_BYTES, &n), KITH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ack_body_check(payload, ACK_ENTRIES_MAX * ACK_ENTRY_BYTES, &n), KITH_OK);
    assert_int_equal(n, ACK_ENTRIES_MAX);
    assert_int_equal(ACK_ENTRIES_MAX, 256);
    /* The largest ACK body still fits one frame. */
    assert_true(ACK_ENTRIES_MAX * ACK_ENTRY_BYTES <= FRAME_BODY_MAX);
}

static void
ack_body_check__rejects__empty_null_partial_and_oversize_bodies(void **state)
{
    size_t n = 99;

    memset(payload, 0xa5, (ACK_ENTRIES_MAX + 1) * ACK_ENTRY_BYTES);
    assert_int_equal(ack_body_check(payload, 0, &n), KITH_EMALFORMED);
    assert_int_equal(n, 0);
    n = 99;
    assert_int_equal(ack_body_check(NULL, ACK_ENTRY_BYTES, &n), KITH_EMALFORMED);
    assert_int_equal(n, 0);
    assert_int_equal(ack_body_check(NULL, 0, &n), KITH_EMALFORMED);
    n = 99;
    assert_int_equal(ack_body_check(payload, ACK_ENTRY_BYTES - 1, &n), KITH_EMALFORMED);
    assert_int_equal(n, 0);
    n = 99;
    assert_int_equal(ack_body_check(payload, ACK_ENTRY_BYTES + 1, &n), KITH_EMALFORMED);
    assert_int_equal(n, 0);
    assert_int_equal(ack_body_check(payload, 2 * ACK_ENTRY_BYTES - 1, &n), KITH_EMALFORMED);
    n = 99;
    assert_int_equal(ack_body_check(payload, (ACK_ENTRIES_MAX + 1) * ACK_ENTRY_BYTES, &n),
                     KITH_EMALFORMED);
    assert_int_equal(n, 0);
}

/* Hand-build an envelope of `type` around payload[0..p_len) in buf and decode it;
 * envelope_encode must agree (KITH_OK exactly when the decode succeeds). Returns
 * the decode result. */
static int
circle_envelope_verdict(uint8_t type, size_t p_len)
{
    struct envelope e = sample_envelope(type, payload, (uint32_t)p_len);
    struct envelope got;
    size_t len = envelope_size(p_len);
    size_t enc_len = 0;
    int dec_rc;
    int enc_rc;

    memset(buf, 0, len);
    buf[0] = type;
    buf[1] = 1;
    put_u32(buf + 44, (uint32_t)p_len);
    memcpy(buf + ENVELOPE_HEADER_BYTES, payload, p_len);
    dec_rc = envelope_decode(buf, len, &got);
    if (dec_rc == KITH_OK) {
        assert_int_equal(got.type, type);
        assert_int_equal(got.payload_len, p_len);
    }
    enc_rc = envelope_encode(&e, buf, sizeof buf, &enc_len);
    if (dec_rc == KITH_OK) {
        assert_int_equal(enc_rc, KITH_OK);
        assert_int_equal(enc_len, len);
    } else {
        assert_true(enc_rc == KITH_EINVAL || enc_rc == KITH_ETOOBIG);
    }
    return dec_rc;
}

static void
envelope__checks__circle_op_and_sender_key_payloads(void **state)
{
    struct circle_skd k;

    /* CIRCLE_OP: u16 op_len | op | 32 intro secret. */
    memset(payload, 0x33, 64);
    payload[0] = 0;
    payload[1] = 3;
    assert_int_equal(circle_envelope_verdict(ENVELOPE_CIRCLE_OP, 2 + 3 + 32), KITH_OK);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_CIRCLE_OP, 2 + 3 + 31), KITH_EMALFORMED);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_CIRCLE_OP, 2 + 3 + 33), KITH_EMALFORMED);
    payload[1] = 0;
    assert_int_equal(circle_envelope_verdict(ENVELOPE_CIRCLE_OP, 2 + 32), KITH_EMALFORMED);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_CIRCLE_OP, 0), KITH_EMALFORMED);

    /* SENDER_KEY: exactly CIRCLE_SKD_BYTES with epoch_no >= 1. */
    memset(&k, 0x21, sizeof k);
    k.epoch_no = 1;
    circle_skd_encode(&k, payload);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_SENDER_KEY, CIRCLE_SKD_BYTES), KITH_OK);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_SENDER_KEY, CIRCLE_SKD_BYTES - 1),
                     KITH_EMALFORMED);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_SENDER_KEY, CIRCLE_SKD_BYTES + 1),
                     KITH_EMALFORMED);
    k.epoch_no = 0;
    circle_skd_encode(&k, payload);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_SENDER_KEY, CIRCLE_SKD_BYTES),
                     KITH_EMALFORMED);
}

static void
envelope__checks__welcome_join_and_opaque_payload_lengths(void **state)
{
    memset(payload, 0x44, CIRCLE_SECRET_BYTES + CIRCLE_LOG_MAX + 1);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_CIRCLE_WELCOME, 0), KITH_EMALFORMED);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_CIRCLE_WELCOME, CIRCLE_SECRET_BYTES),
                     KITH_EMALFORMED);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_CIRCLE_WELCOME, CIRCLE_SECRET_BYTES + 1),
                     KITH_OK);
    assert_int_equal(
        circle_envelope_verdict(ENVELOPE_CIRCLE_WELCOME, CIRCLE_SECRET_BYTES + CIRCLE_LOG_MAX),
        KITH_OK);
    assert_int_equal(
        circle_envelope_verdict(ENVELOPE_CIRCLE_WELCOME, CIRCLE_SECRET_BYTES + CIRCLE_LOG_MAX + 1),
        KITH_EMALFORMED);
    for (size_t len = 0; len <= 40; len++) {
        assert_int_equal(circle_envelope_verdict(ENVELOPE_CIRCLE_JOIN, len),
                         len == CIRCLE_JOIN_BYTES ? KITH_OK : KITH_EMALFORMED);
    }
    for (uint8_t type = ENVELOPE_ENDPOINT; type <= ENVELOPE_RETENTION; type++) {
        assert_int_equal(circle_envelope_verdict(type, 0), KITH_OK);
        assert_int_equal(circle_envelope_verdict(type, ENVELOPE_OPAQUE_MAX), KITH_OK);
        assert_int_equal(circle_envelope_verdict(type, ENVELOPE_OPAQUE_MAX + 1), KITH_EMALFORMED);
    }
}

static void
envelope__checks__checkin_and_support_payloads(void **state)
{
    struct checkin c;
    struct support_signal s;
    struct support_reply r;
    size_t len = 0;

    memset(&c, 0, sizeof c);
    c.mood = MOOD_STEADY;
    strcpy(c.note, "ok");
    assert_int_equal(checkin_encode(&c, payload, sizeof payload, &len), KITH_OK);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_CHECKIN, len), KITH_OK);
    payload[1] = MOOD_GOOD + 1;
    assert_int_equal(circle_envelope_verdict(ENVELOPE_CHECKIN, len), KITH_EMALFORMED);

    memset(&s, 0, sizeof s);
    s.kind = SUPPORT_PRESENCE;
    s.expires_at = 1700000000;
    assert_int_equal(support_encode(&s, payload, sizeof payload, &len), KITH_OK);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_SUPPORT, len), KITH_OK);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_SUPPORT, len + 1), KITH_EMALFORMED);

    memset(&r, 0, sizeof r);
    r.answer = SUPPORT_LATER;
    r.later_at = 1700000600;
    assert_int_equal(support_reply_encode(&r, payload, sizeof payload, &len), KITH_OK);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_SUPPORT_REPLY, len), KITH_OK);
    payload[17] = SUPPORT_CANT + 1;
    assert_int_equal(circle_envelope_verdict(ENVELOPE_SUPPORT_REPLY, len), KITH_EMALFORMED);
    /* A check-in is not a support signal. */
    assert_int_equal(checkin_encode(&c, payload, sizeof payload, &len), KITH_OK);
    assert_int_equal(circle_envelope_verdict(ENVELOPE_SUPPORT, len), KITH_EMALFORMED);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame__round_trips__every_type),
        cmocka_unit_test(frame__round_trips__empty_and_maximal_bodies),
        cmocka_unit_test(frame_encode__rejects__unknown_type_oversize_body_and_small_buffer),
        cmocka_unit_test(frame_decode__rejects__bad_version),
        cmocka_unit_test(frame_decode__rejects__unknown_type),
        cmocka_unit_test(frame_decode__rejects__nonzero_reserved_byte),
        cmocka_unit_test(frame_decode__rejects__body_len_larger_than_the_bytes),
        cmocka_unit_test(frame_decode__rejects__body_len_smaller_than_the_bytes),
        cmocka_unit_test(frame_decode__rejects__oversize_body),
        cmocka_unit_test(frame_decode__rejects__truncated_header),
        cmocka_unit_test(frame_ad__is__the_header_without_body_len),
        cmocka_unit_test(frame__reproduces__golden_vector_v1),
        cmocka_unit_test(envelope_size__pads__to_multiples_of_256),
        cmocka_unit_test(envelope__round_trips__text_ack_and_card),
        cmocka_unit_test(envelope_receipt__accepts__every_tell_and_rejects_unknown_ones),
        cmocka_unit_test(envelope__round_trips__at_every_padding_boundary),
        cmocka_unit_test(envelope_texts__round_trips__two_to_64_texts_in_order),
        cmocka_unit_test(
            envelope_texts__rejects__bad_counts_empty_or_long_texts_bad_utf8_and_trailing_bytes),
        cmocka_unit_test(envelope_decode__rejects__each_nonzero_padding_byte),
        cmocka_unit_test(envelope_decode__rejects__length_not_the_padded_size),
        cmocka_unit_test(envelope_decode__rejects__payload_len_too_large),
        cmocka_unit_test(envelope_decode__rejects__unknown_type_and_version),
        cmocka_unit_test(envelope_decode__rejects__ack_not_a_multiple_of_16_or_over_256_ids),
        cmocka_unit_test(envelope_decode__rejects__invalid_utf8_text),
        cmocka_unit_test(envelope__rejects__text_over_16384_bytes),
        cmocka_unit_test(envelope_encode__rejects__bad_arguments),
        cmocka_unit_test(card__round_trips__with_zero_to_four_endpoints),
        cmocka_unit_test(card_decode__rejects__every_truncation_and_trailing_bytes),
        cmocka_unit_test(card__enforces__name_and_endpoint_bounds),
        cmocka_unit_test(valid_endpoint__accepts_and_rejects__the_grammar_table),
        cmocka_unit_test(valid_endpoint__enforces__96_byte_limit_and_embedded_nul),
        cmocka_unit_test(valid_utf8__rejects__overlongs_surrogates_and_out_of_range),
        cmocka_unit_test(valid_name__rejects__empty_long_and_control_characters),
        cmocka_unit_test(frame__round_trips__relay_type_9),
        cmocka_unit_test(frame__round_trips__ack_type_10),
        cmocka_unit_test(ack_body_check__accepts__one_to_256_whole_entries),
        cmocka_unit_test(ack_body_check__rejects__empty_null_partial_and_oversize_bodies),
        cmocka_unit_test(envelope__checks__circle_op_and_sender_key_payloads),
        cmocka_unit_test(envelope__checks__welcome_join_and_opaque_payload_lengths),
        cmocka_unit_test(envelope__checks__checkin_and_support_payloads),
    };

    if (argc > 1) {
        golden_path = argv[1];
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
