/*
 * update: the payloads of two control envelopes a contact sends over the
 * 1:1 session (issue 7). ENVELOPE_ENDPOINT carries a record signed with the
 * sender's identity key that says where it can now be reached; ENVELOPE_RETENTION
 * carries one step of the disappearing-messages agreement. Pure: no I/O, no
 * allocation; decoders are strict and reject anything not canonical.
 */
#ifndef KITH_PROTO_UPDATE_H
#define KITH_PROTO_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/identity.h"

/* Endpoint record:
 * u8 version=1 | u64 seq | u8 n_endpoints (0..4) | n x (u8 len | ASCII endpoint, 1..96) |
 * 64 SIG_IK("kith-v1/endpoint" || signer IK (32) || every preceding byte).
 * seq only grows: a receiver applies a record only when its seq is above the last applied. */
#define UPDATE_VERSION       1
#define UPDATE_ENDPOINTS_MAX 4
#define UPDATE_ENDPOINT_MAX  96
#define UPDATE_SIG_BYTES     64
#define UPDATE_ENDPOINT_BYTES_MAX                                                                  \
    (1 + 8 + 1 + UPDATE_ENDPOINTS_MAX * (1 + UPDATE_ENDPOINT_MAX) + UPDATE_SIG_BYTES)
#define UPDATE_ENDPOINT_CONTEXT "kith-v1/endpoint"

struct update_endpoint {
    uint64_t seq;
    uint8_t n_endpoints;
    char endpoints[UPDATE_ENDPOINTS_MAX][UPDATE_ENDPOINT_MAX + 1];
};

/* The unsigned part of a record (everything before the signature) into out.
 * KITH_OK, KITH_EINVAL (too many endpoints, or one that frame_valid_endpoint refuses),
 * KITH_ETOOBIG (out_cap). */
KITH_NODISCARD int update_endpoint_body(const struct update_endpoint *u, uint8_t *out,
                                        size_t out_cap, size_t *out_len);
/* The whole record, signed with id's IK. Errors as update_endpoint_body. */
KITH_NODISCARD int update_endpoint_encode(const struct update_endpoint *u,
                                          const struct identity *id, uint8_t *out, size_t out_cap,
                                          size_t *out_len);
/* Structure only, no signature check (for the fuzzer and for relays that cannot verify):
 * KITH_OK with *u filled, or KITH_EMALFORMED (u zeroed). */
KITH_NODISCARD int update_endpoint_parse(const uint8_t *in, size_t len, struct update_endpoint *u);
/* Parse and verify against the signer's IK: KITH_OK, KITH_EMALFORMED or KITH_ECRYPTO; on
 * any error *u is zeroed. */
KITH_NODISCARD int update_endpoint_decode(const uint8_t *in, size_t len,
                                          const uint8_t signer_ik[32], struct update_endpoint *u);

/* Retention step (fixed size):
 * u8 version=1 | u8 kind | u64 counter | 16 proposal_id | 16 answers | u32 seconds.
 * PROPOSE: a new proposal; answers is the id of the other side's proposal it replaces (zeros
 * when it answers none); seconds 0 = off, else 1..UPDATE_RETENTION_MAX. ACCEPT: proposal_id
 * and seconds of the accepted proposal; answers zero. DECLINE: proposal_id; answers zero,
 * seconds 0. counter grows with every step one side sends (a step older than the last one
 * applied from that side is ignored). */
#define UPDATE_RETENTION_BYTES 46
#define UPDATE_RETENTION_MAX   (366u * 86400u)
enum update_retention_kind {
    UPDATE_RETENTION_PROPOSE = 1,
    UPDATE_RETENTION_ACCEPT = 2,
    UPDATE_RETENTION_DECLINE = 3,
};
struct update_retention {
    uint8_t kind; /* enum update_retention_kind */
    uint64_t counter;
    uint8_t proposal_id[16];
    uint8_t answers[16];
    uint32_t seconds;
};

/* KITH_OK or KITH_EINVAL (a field the layout forbids). */
KITH_NODISCARD int update_retention_encode(const struct update_retention *r,
                                           uint8_t out[UPDATE_RETENTION_BYTES]);
/* Strict: exact length, version, kind, the zero fields zero, seconds in range, a non-zero
 * proposal id. KITH_OK or KITH_EMALFORMED (r zeroed). */
KITH_NODISCARD int update_retention_decode(const uint8_t *in, size_t len,
                                           struct update_retention *r);

#endif
