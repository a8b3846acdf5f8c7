/*
 * frame: the kith-v1 wire format (proto/PROTOCOL.md): the outer frame, the
 * only part a relay can read, and the content envelope inside every
 * end-to-end ciphertext. Pure: no I/O, no allocation; decoders only point
 * into the caller's buffer. Anything malformed or oversized is rejected.
 */
#ifndef KITH_PROTO_FRAME_H
#define KITH_PROTO_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define FRAME_VERSION 1
#define FRAME_ID_BYTES 16
/* u8 version | u8 type | u8 flags | u8 reserved | 16 msg_id | 16 route | u32 expires_at | u32 body_len */
#define FRAME_HEADER_BYTES 44
/* The header bytes that are authenticated end to end (everything but body_len). */
#define FRAME_AD_BYTES 40
#define FRAME_BODY_MAX 65000

enum frame_type {
    FRAME_SESSION_INIT = 1,  /* init header || session message body */
    FRAME_SESSION_MSG = 2,   /* session message body */
    FRAME_CIRCLE_MSG = 3,    /* route = circle_id; body: proto/circle.h */
    FRAME_INVITE_ACCEPT = 4, /* as SESSION_INIT, PSK = invite secret */
    FRAME_SYNC_HAVE = 5,
    FRAME_SYNC_WANT = 6,
    FRAME_RELAY_RECEIPT = 7,
    FRAME_RELAY_DONE = 8,    /* route = the relay (hop) member_id; body: n x 16 msg_ids */
    FRAME_RELAY = 9,         /* route = final recipient; body: 16 origin member_id || inner frame */
    FRAME_ACK = 10,          /* route = the acknowledged sender; body: n x ACK_ENTRY_BYTES */
};

struct frame {
    uint8_t type;
    uint8_t flags;
    uint8_t msg_id[FRAME_ID_BYTES];
    uint8_t route[FRAME_ID_BYTES];
    uint32_t expires_at;
    const uint8_t *body; /* borrowed from the decoded buffer / caller */
    uint32_t body_len;
};

/* Encode into out (capacity >= FRAME_HEADER_BYTES + body_len).
 * KITH_OK, KITH_EINVAL (unknown type, nonzero reserved), KITH_ETOOBIG. */
KITH_NODISCARD int frame_encode(const struct frame *f, uint8_t *out, size_t out_cap,
                                size_t *out_len);
/* The 40 authenticated header bytes of f (for the session AD). */
void frame_ad(const struct frame *f, uint8_t out[FRAME_AD_BYTES]);
/* Strict decode: version, known type, reserved == 0, body_len == len - 44,
 * body_len <= FRAME_BODY_MAX. f->body points into in.
 * KITH_OK, KITH_EMALFORMED, KITH_ETOOBIG. */
KITH_NODISCARD int frame_decode(const uint8_t *in, size_t len, struct frame *f);

/* Content envelope (plaintext inside every end-to-end ciphertext):
 * u8 content_type | u8 content_version | u16 flags | u64 lamport | u64 sender_seq |
 * u64 sent_at_ms | 16 prev_msg_id | u32 payload_len | payload | zero padding so
 * the whole envelope is a multiple of 256 bytes. */
#define ENVELOPE_HEADER_BYTES 48
#define ENVELOPE_PAD 256
#define ENVELOPE_PAYLOAD_MAX 60000

enum envelope_type {
    ENVELOPE_TEXT = 1,         /* payload: UTF-8 text, <= KITH_TEXT_MAX */
    ENVELOPE_ACK = 2,          /* payload: n x 16-byte msg_ids, n <= 256 */
    ENVELOPE_CONTACT_CARD = 3, /* payload: contact card (below) */
    ENVELOPE_RECEIPT = 4,      /* payload: n x receipt (below), n <= 256: ACK + disposition */
    ENVELOPE_BOUNDARY = 5,     /* payload: the told subset of a boundary rule set, opaque here */
    ENVELOPE_REPAIR = 6,       /* payload: one repair step, opaque here */
    /* Circles (proto/circle.h has the payload layouts). Over 1:1 sessions: */
    ENVELOPE_CIRCLE_OP = 7,      /* u16 op_len | signed op | 32 intro secret (zeros: none) */
    ENVELOPE_SENDER_KEY = 8,     /* CIRCLE_SKD_BYTES: a sender key distribution */
    ENVELOPE_CIRCLE_WELCOME = 9, /* 32 intro secret | op log: a joiner's first view */
    ENVELOPE_ENDPOINT = 10,      /* issue 7: a signed endpoint update, opaque here */
    ENVELOPE_RETENTION = 11,     /* issue 7: disappearing-messages agreement, opaque here */
    ENVELOPE_CIRCLE_JOIN = 12,   /* u32 invite_id | 32 invite secret: an existing contact joins */
    /* Inside circle frames (sender-key ciphertexts), besides ENVELOPE_TEXT: */
    ENVELOPE_CHECKIN = 13,       /* proto/circle.h checkin */
    ENVELOPE_SUPPORT = 14,       /* "I could use support": proto/circle.h */
    ENVELOPE_SUPPORT_REPLY = 15, /* a one-key answer to a support signal */
    /* Over 1:1 sessions again: */
    ENVELOPE_TEXTS = 16, /* 2..ENVELOPE_TEXTS_MAX texts sealed as one (below) */
    ENVELOPE_TYPE_LAST = ENVELOPE_TEXTS,
};

/* ENVELOPE_TEXTS payload (proto/PROTOCOL.md §4.1): u8 n (2..ENVELOPE_TEXTS_MAX) |
 * n x (u16 flags | u16 len (1..KITH_TEXT_MAX) | len bytes of strict UTF-8). Text i's msg_id
 * is the frame's msg_id with its last byte set to i (the frame's own ends in 0, and is text
 * 0's); its lamport and sender_seq are the envelope's plus i, its previous msg_id text i-1's,
 * and it shares the envelope's sent_at_ms. */
#define ENVELOPE_TEXTS_MAX 64 /* KITH_TEXTS_MAX, core/limits.h */
#define ENVELOPE_TEXTS_ITEM_BYTES 4 /* u16 flags | u16 len, before each text */
struct envelope_text {
    uint16_t flags;
    uint16_t len;
    const uint8_t *text; /* borrowed from the payload */
};
/* The texts of a TEXTS payload, in order. KITH_OK, KITH_EMALFORMED, KITH_ETOOBIG. */
KITH_NODISCARD int envelope_texts_decode(const uint8_t *payload, size_t len,
                                         struct envelope_text out[ENVELOPE_TEXTS_MAX], size_t *n);
/* Text i's msg_id: the frame's with its last byte i (i < ENVELOPE_TEXTS_MAX). */
void envelope_texts_id(const uint8_t frame_id[FRAME_ID_BYTES], size_t i, uint8_t out[FRAME_ID_BYTES]);

/* A receipt: an end-to-end ACK that also says what the receiver's boundaries
 * did with the message (DOMAIN.md §3 "Acks carry the real disposition"):
 * 16 msg_id | u8 tell | u64 at (unix seconds, 0 unless tell is HELD_UNTIL or DIGEST_AT). */
#define RECEIPT_BYTES 25
enum receipt_tell {
    RECEIPT_DELIVERED = 1,
    RECEIPT_HELD_UNTIL = 2,
    RECEIPT_AWAITING_CONSENT = 3,
    RECEIPT_DIGEST_AT = 4,
    RECEIPT_NO_SPACE = 5, /* the receiver answered "I can't take this on" to a heavy message */
    RECEIPT_TELL_LAST = RECEIPT_NO_SPACE,
};
#define ENVELOPE_OPAQUE_MAX 8192 /* BOUNDARY and REPAIR payloads */

/* FRAME_ACK body (proto/PROTOCOL.md §7.1): an acknowledgement that turns no ratchet.
 * Each entry: 16 msg_id | sealed(u8 tell | u64 at) under the message's acknowledgement key
 * (session_take_ack_key), AD = "kith-v1/ack" || msg_id: nonce 24 | ct 9 | tag 16. */
#define ACK_PLAIN_BYTES 9
#define ACK_ENTRY_BYTES (FRAME_ID_BYTES + 24 + ACK_PLAIN_BYTES + 16)
#define ACK_ENTRIES_MAX 256
/* The shape of an ACK body: 1..ACK_ENTRIES_MAX whole entries. *n: how many.
 * KITH_OK, KITH_EMALFORMED. */
KITH_NODISCARD int ack_body_check(const uint8_t *body, size_t len, size_t *n);

enum envelope_flag {
    ENVELOPE_F_HEAVY = 1 << 0,  /* sender marked it heavy */
    ENVELOPE_F_URGENT = 1 << 1, /* breakthrough request */
};

struct envelope {
    uint8_t type;
    uint8_t version;
    uint16_t flags;
    uint64_t lamport;
    uint64_t sender_seq;
    uint64_t sent_at_ms;
    uint8_t prev_msg_id[FRAME_ID_BYTES];
    const uint8_t *payload; /* borrowed */
    uint32_t payload_len;
};

/* Padded size of an envelope with this payload. */
size_t envelope_size(size_t payload_len);
/* KITH_OK, KITH_ETOOBIG (payload or out_cap), KITH_EINVAL (unknown type). */
KITH_NODISCARD int envelope_encode(const struct envelope *e, uint8_t *out, size_t out_cap,
                                   size_t *out_len);
/* Strict: known type and version 1, payload_len fits, padding all zero, total a
 * multiple of 256, type-specific payload checks (TEXT valid UTF-8 <= 16 KiB;
 * ACK a multiple of 16, <= 256 ids; CARD parses). KITH_OK, KITH_EMALFORMED. */
KITH_NODISCARD int envelope_decode(const uint8_t *in, size_t len, struct envelope *e);

/* Contact card (ENVELOPE_CONTACT_CARD payload), sent by an invite acceptor:
 * u8 version=1 | u8 name_len | name (UTF-8, 1..64, no control chars) |
 * u8 n_endpoints (0..4) | n x (u8 len | ASCII endpoint, 1..96) */
#define CARD_NAME_MAX 64
#define CARD_ENDPOINT_MAX 96
#define CARD_ENDPOINTS_MAX 4
struct contact_card {
    char name[CARD_NAME_MAX + 1];
    uint8_t n_endpoints;
    char endpoints[CARD_ENDPOINTS_MAX][CARD_ENDPOINT_MAX + 1];
};
KITH_NODISCARD int card_encode(const struct contact_card *c, uint8_t *out, size_t out_cap,
                               size_t *out_len);
KITH_NODISCARD int card_decode(const uint8_t *in, size_t len, struct contact_card *c);

/* Shared validators: a display name (UTF-8, 1..64 bytes, no control
 * characters) and an endpoint (tcp://host:port, host an IPv4 address, a
 * bracketed IPv6 address or a DNS name/.onion, port 1..65535, or '*' only
 * when allow_wildcard). */
bool frame_valid_name(const char *s, size_t len);
bool frame_valid_endpoint(const char *s, size_t len, bool allow_wildcard);
bool frame_valid_utf8(const uint8_t *s, size_t len);

#endif
