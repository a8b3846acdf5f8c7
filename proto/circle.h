/*
 * circle (proto): the byte layouts of circle traffic (proto/PROTOCOL.md,
 * "Circles"): the CIRCLE_MSG body, SYNC_HAVE, RELAY / RELAY_DONE, and the
 * envelope payloads that carry circle state over 1:1 sessions (sender key
 * distribution, check-ins, support signals). Pure: no I/O, no allocation;
 * decoders point into the caller's buffer and reject anything malformed,
 * non-canonical or oversized. Signing and encryption live in core/circle.
 * Every decoder returns KITH_OK or KITH_EMALFORMED and resets its output on
 * failure; every encoder returns KITH_OK, KITH_EINVAL (a value its decoder
 * would reject) or KITH_ETOOBIG (out is NULL or cap too small).
 */
#ifndef KITH_PROTO_CIRCLE_H
#define KITH_PROTO_CIRCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "proto/frame.h"

#define CIRCLE_ID_BYTES 16
#define CIRCLE_MEMBER_BYTES 16
#define CIRCLE_MAX_MEMBERS 50

/* CIRCLE_MSG body (outer frame route = circle_id):
 *   u32 epoch_no | 16 epoch_id | 16 sender member_id | u32 gen | u32 index | u64 seq |
 *   24 nonce | ct (>= 16: AEAD ciphertext of a content envelope, tag included) | 64 sig
 * seq: the sender's message number within this epoch, from 1, contiguous (anti-entropy).
 * sig = Ed25519(SIGK, "kith-v1/circle-msg" || outer AD (40) || body bytes before sig). */
#define CIRCLE_BODY_HEADER 76 /* everything before ct */
#define CIRCLE_SIG_BYTES 64
#define CIRCLE_BODY_MIN (CIRCLE_BODY_HEADER + 16 + CIRCLE_SIG_BYTES)

struct circle_body {
    uint32_t epoch_no;
    uint8_t epoch_id[16];
    uint8_t sender[CIRCLE_MEMBER_BYTES];
    uint32_t gen;
    uint32_t index;
    uint64_t seq;
    const uint8_t *nonce; /* 24 bytes, borrowed */
    const uint8_t *ct;    /* borrowed */
    uint32_t ct_len;
    const uint8_t *sig;   /* 64 bytes, borrowed */
    size_t signed_len;    /* bytes of the body covered by sig (all but the last 64) */
};
/* Write the 76-byte header (nonce included) into out. */
void circle_body_put_header(const struct circle_body *b, uint8_t out[CIRCLE_BODY_HEADER]);
/* Strict: len in [CIRCLE_BODY_MIN, FRAME_BODY_MAX], epoch_no >= 1, seq >= 1.
 * KITH_OK, KITH_EMALFORMED. */
KITH_NODISCARD int circle_body_decode(const uint8_t *body, size_t len, struct circle_body *b);

/* SYNC_HAVE body (route = circle_id): what the sender holds, per (epoch, sender):
 *   u8 version=1 | u8 flags | u16 n | n x (u32 epoch_no | 16 sender | u64 hwm)
 * hwm: the highest seq held with every seq below it also held (0: none).
 * flags bit0 SYNC_F_REPLY: "answer with your own HAVE". Entries are sorted by
 * (epoch_no, sender) with no duplicates; n <= SYNC_ENTRIES_MAX. */
#define SYNC_ENTRY_BYTES 28
#define SYNC_ENTRIES_MAX 512
#define SYNC_F_REPLY 1u
struct sync_entry {
    uint32_t epoch_no;
    uint8_t sender[CIRCLE_MEMBER_BYTES];
    uint64_t hwm;
};
struct sync_have {
    uint8_t flags;
    uint16_t n;
    struct sync_entry entries[SYNC_ENTRIES_MAX];
};
/* Entries must already be sorted and unique (KITH_EINVAL otherwise). */
KITH_NODISCARD int sync_have_encode(const struct sync_have *h, uint8_t *out, size_t cap,
                                    size_t *out_len);
KITH_NODISCARD int sync_have_decode(const uint8_t *in, size_t len, struct sync_have *h);

/* RELAY body (outer route = final recipient R): 16 origin member_id || inner frame, where the
 * inner frame decodes (frame_decode), is a SESSION_INIT, SESSION_MSG or RELAY_DONE, and its
 * route equals the outer route. The relay learns only R, the origin, the size and the time. */
struct relay_body {
    uint8_t origin[CIRCLE_MEMBER_BYTES];
    const uint8_t *inner; /* borrowed: the whole inner frame */
    size_t inner_len;
    struct frame frame;   /* the inner frame, decoded */
};
KITH_NODISCARD int relay_body_decode(const struct frame *outer, struct relay_body *r);

/* RELAY_DONE body: n x 16 msg_ids, 1 <= n <= 256. */
#define RELAY_DONE_MAX 256
KITH_NODISCARD int relay_done_decode(const uint8_t *in, size_t len, size_t *n);

/* ENVELOPE_SENDER_KEY payload (sent over each 1:1 session to every member of the epoch):
 *   16 circle_id | u32 epoch_no | 16 epoch_id | u32 gen | 32 ck0 | u32 start_index |
 *   32 sigk_pub | u32 created_at */
#define CIRCLE_SKD_BYTES 112
struct circle_skd {
    uint8_t circle_id[16];
    uint32_t epoch_no;
    uint8_t epoch_id[16];
    uint32_t gen;
    uint8_t ck0[32]; /* secret: callers wipe */
    uint32_t start_index;
    uint8_t sigk_pub[32];
    uint32_t created_at;
};
void circle_skd_encode(const struct circle_skd *k, uint8_t out[CIRCLE_SKD_BYTES]);
KITH_NODISCARD int circle_skd_decode(const uint8_t *in, size_t len, struct circle_skd *k);

/* ENVELOPE_CIRCLE_OP payload: u16 op_len | op (1..CIRCLE_OP_MAX) | 32 intro secret.
 * ENVELOPE_CIRCLE_WELCOME payload: 32 intro secret | op log (1..CIRCLE_LOG_MAX).
 * ENVELOPE_CIRCLE_JOIN payload: u32 invite_id | 32 invite secret. */
#define CIRCLE_SECRET_BYTES 32 /* intro and invite secrets */
#define CIRCLE_JOIN_BYTES 36
#define CIRCLE_OP_MAX 1024
#define CIRCLE_LOG_MAX 57000
KITH_NODISCARD int circle_op_payload_decode(const uint8_t *in, size_t len, const uint8_t **op,
                                            size_t *op_len, const uint8_t **intro);

/* ENVELOPE_CHECKIN payload: u8 version=1 | u8 mood (0 none, 1 rough .. 5 good) |
 *   u8 with (bits: 1 seen, 2 safe, 4 soothed, 8 secure, 16 stable) | u8 need (0 none, 1..5) |
 *   u8 note_len (<= 140 bytes UTF-8, no control chars) | note.  mood or with is nonzero. */
#define CHECKIN_NOTE_MAX 140
enum checkin_mood { MOOD_NONE = 0, MOOD_ROUGH, MOOD_LOW, MOOD_OKAY, MOOD_STEADY, MOOD_GOOD };
enum checkin_with {
    WITH_SEEN = 1, WITH_SAFE = 2, WITH_SOOTHED = 4, WITH_SECURE = 8, WITH_STABLE = 16,
};
struct checkin {
    uint8_t mood;
    uint8_t with;
    uint8_t need;
    char note[CHECKIN_NOTE_MAX + 1];
};
KITH_NODISCARD int checkin_encode(const struct checkin *c, uint8_t *out, size_t cap,
                                  size_t *out_len);
KITH_NODISCARD int checkin_decode(const uint8_t *in, size_t len, struct checkin *c);

/* ENVELOPE_SUPPORT payload: u8 version=1 | u8 kind (0 any, 1 company, 2 distraction,
 *   3 listening, 4 practical, 5 presence) | u32 expires_at (unix s) | u8 note_len | note
 * ENVELOPE_SUPPORT_REPLY payload: u8 version=1 | 16 signal msg_id | u8 answer
 *   (1 here now, 2 later, 3 sending care, 4 can't right now) | u32 later_at (answer 2, else 0) */
enum support_kind {
    SUPPORT_ANY = 0, SUPPORT_COMPANY, SUPPORT_DISTRACTION, SUPPORT_LISTENING, SUPPORT_PRACTICAL,
    SUPPORT_PRESENCE,
};
enum support_answer { SUPPORT_HERE = 1, SUPPORT_LATER, SUPPORT_CARE, SUPPORT_CANT };
struct support_signal {
    uint8_t kind;
    uint32_t expires_at;
    char note[CHECKIN_NOTE_MAX + 1];
};
struct support_reply {
    uint8_t signal_id[16];
    uint8_t answer;
    uint32_t later_at;
};
KITH_NODISCARD int support_encode(const struct support_signal *s, uint8_t *out, size_t cap,
                                  size_t *out_len);
KITH_NODISCARD int support_decode(const uint8_t *in, size_t len, struct support_signal *s);
KITH_NODISCARD int support_reply_encode(const struct support_reply *r, uint8_t *out, size_t cap,
                                        size_t *out_len);
KITH_NODISCARD int support_reply_decode(const uint8_t *in, size_t len, struct support_reply *r);

#endif
