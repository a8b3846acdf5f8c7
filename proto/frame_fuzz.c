/*
 * frame fuzz target: arbitrary bytes as an outer frame (an ACK frame's body
 * also through ack_body_check), a content envelope (a TEXTS one's texts too) and a
 * contact card.
 * Invariant: a clean error, or decode -> encode gives the same bytes back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[FRAME_HEADER_BYTES + FRAME_BODY_MAX + ENVELOPE_PAD];

static void
frame_fuzz_frame(const uint8_t *data, size_t size)
{
    struct frame f;
    size_t len = 0;
    size_t n = 0;

    if (frame_decode(data, size, &f) != KITH_OK) {
        return;
    }
    if (frame_encode(&f, out, sizeof out, &len) != KITH_OK || len != size ||
        memcmp(out, data, size) != 0) {
        abort();
    }
    if (f.type == FRAME_ACK) {
        /* The shape check: whole entries only, 1..256 of them, and n counts them. */
        int rc = ack_body_check(f.body, f.body_len, &n);
        if (rc == KITH_OK ? n == 0 || n > ACK_ENTRIES_MAX || n * ACK_ENTRY_BYTES != f.body_len
                          : rc != KITH_EMALFORMED || n != 0) {
            abort();
        }
    }
}

static void
frame_fuzz_envelope(const uint8_t *data, size_t size)
{
    struct envelope e;
    size_t len = 0;

    if (envelope_decode(data, size, &e) != KITH_OK) {
        return;
    }
    if (envelope_encode(&e, out, sizeof out, &len) != KITH_OK || len != size ||
        memcmp(out, data, size) != 0) {
        abort();
    }
    if (e.type == ENVELOPE_TEXTS) {
        /* A checked TEXTS payload: 2..64 texts, none empty, that tile it exactly. */
        struct envelope_text texts[ENVELOPE_TEXTS_MAX];
        size_t n = 0;
        size_t used = 1;
        if (envelope_texts_decode(e.payload, e.payload_len, texts, &n) != KITH_OK || n < 2 ||
            n > ENVELOPE_TEXTS_MAX) {
            abort();
        }
        for (size_t i = 0; i < n; i++) {
            if (texts[i].len == 0 || texts[i].text != e.payload + used + ENVELOPE_TEXTS_ITEM_BYTES) {
                abort();
            }
            used += ENVELOPE_TEXTS_ITEM_BYTES + texts[i].len;
        }
        if (used != e.payload_len) {
            abort();
        }
    }
}

static void
frame_fuzz_card(const uint8_t *data, size_t size)
{
    struct contact_card c;
    struct contact_card again;
    size_t len = 0;

    if (card_decode(data, size, &c) != KITH_OK) {
        return;
    }
    if (card_encode(&c, out, sizeof out, &len) != KITH_OK || len != size ||
        memcmp(out, data, size) != 0 || card_decode(out, len, &again) != KITH_OK ||
        memcmp(&c, &again, sizeof c) != 0) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    frame_fuzz_frame(data, size);
    frame_fuzz_envelope(data, size);
    frame_fuzz_card(data, size);
    return 0;
}
