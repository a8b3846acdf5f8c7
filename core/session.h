/*
 * session: one 1:1 end-to-end session (PROTOCOL-NOTES.md §2.4-2.5): an
 * X3DH-style handshake (optionally with the invite secret as PSK) that starts
 * a Double Ratchet with header encryption. Pure: bytes in, bytes out, no I/O,
 * no clock reads (callers pass now_s), randomness only from libsodium's RNG.
 *
 * Every call that fails leaves the session byte-for-byte unchanged
 * (decryption works on a scratch copy and commits only on success, DR §3.5).
 * Skipped message keys live inside the session state (bounded by
 * KITH_MAX_SKIP per chain and KITH_MAX_SKIPPED_PER_SESSION in all, oldest
 * evicted, expired after 7 days), so they are sealed at rest with it.
 */
#ifndef KITH_CORE_SESSION_H
#define KITH_CORE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/identity.h"

/* Init header: IK_A(32) IKdh_A(32) ikdh_sig(64) TK_A(32) tk_not_after(4) tk_sig(64)
 *              EK_A(32) spk_id(u32) opk_id(u32, 0xFFFFFFFF = none)  = 268 bytes */
#define SESSION_INIT_HEADER_BYTES (IDENTITY_PUBLIC_BYTES + 32 + 4 + 4)
#define SESSION_ENC_HEADER_BYTES 80 /* nonce(24) || AEAD(HK, DHs(32) PN(4) N(4)) */
/* A message body: enc_header(80) || nonce(24) || ciphertext || tag(16) */
#define SESSION_MSG_OVERHEAD (SESSION_ENC_HEADER_BYTES + 24 + 16)

enum session_state { SESSION_AWAIT_REPLY = 1, SESSION_ESTABLISHED = 2 };

struct session;

/*
 * Initiator (the invite acceptor): run X3DH against the responder's public
 * bundle and signed prekey (the invite's one-time key plays SPK), with psk
 * (32 bytes, the invite secret) or NULL. The new session is in
 * SESSION_AWAIT_REPLY: session_init_header() must be prepended to every
 * message until the first message from the responder decrypts.
 * KITH_OK, KITH_ECRYPTO (peer bundle signatures bad, DH all-zero).
 */
KITH_NODISCARD int session_initiate(const struct identity *me, const struct identity_public *peer,
                                    const uint8_t spk[32], uint32_t spk_id, const uint8_t *psk,
                                    struct session **out);

/*
 * Responder: parse and check an init header (signatures), then run X3DH with
 * our SPK key pair (spk_sk, spk_pk) and psk (or NULL). The initiator's public
 * bundle is written to *peer and its ephemeral key to ek_out (for the
 * seen-EK replay table). The new session is ESTABLISHED but has not yet
 * decrypted anything: call session_decrypt on the message body next and keep
 * the session only if that succeeds.
 * KITH_OK, KITH_EMALFORMED, KITH_ECRYPTO.
 */
KITH_NODISCARD int session_respond(const struct identity *me, const uint8_t spk_sk[32],
                                   const uint8_t spk_pk[32], const uint8_t *psk,
                                   const uint8_t *init_header, size_t init_header_len,
                                   struct identity_public *peer, uint8_t ek_out[32],
                                   struct session **out);

/* Peek at an init header without any crypto: the EK and spk_id in it.
 * KITH_OK or KITH_EMALFORMED. */
KITH_NODISCARD int session_init_header_peek(const uint8_t *init_header, size_t len,
                                            uint8_t ek[32], uint32_t *spk_id);

void session_destroy(struct session *s); /* NULL-safe; wipes */

enum session_state session_get_state(const struct session *s);
/* The init header to prepend while AWAIT_REPLY (borrowed; NULL when ESTABLISHED). */
const uint8_t *session_init_header(const struct session *s);
/* The peer's IK as bound into this session. */
const uint8_t *session_peer_ik(const struct session *s);

/*
 * Encrypt pt into out (capacity out_cap >= pt_len + SESSION_MSG_OVERHEAD),
 * advancing the sending chain. ad is the caller's associated data (the outer
 * frame header fields); it is authenticated together with the X3DH AD and the
 * encrypted header. KITH_OK, KITH_ETOOBIG (out_cap too small).
 */
KITH_NODISCARD int session_encrypt(struct session *s, const uint8_t *ad, size_t ad_len,
                                   const uint8_t *pt, size_t pt_len, uint8_t *out, size_t out_cap,
                                   size_t *out_len);

/*
 * Decrypt a message body (enc_header || nonce || ct || tag) into pt
 * (capacity >= body_len - SESSION_MSG_OVERHEAD). On success the state
 * advances (skipped keys stored, used key deleted) and an AWAIT_REPLY
 * session becomes ESTABLISHED. On any failure s is unchanged and pt zeroed.
 * KITH_OK, KITH_EMALFORMED, KITH_ECRYPTO (tamper, replay of a used key, or
 * too many skipped), KITH_ETOOBIG.
 */
KITH_NODISCARD int session_decrypt(struct session *s, const uint8_t *ad, size_t ad_len,
                                   const uint8_t *body, size_t body_len, uint64_t now_s,
                                   uint8_t *pt, size_t pt_cap, size_t *pt_len);

/*
 * The acknowledgement key of the message last sealed by session_encrypt or opened by
 * session_decrypt: HKDF(mk, "kith-v1/ack"), so only the two ends know it. Handed out once
 * (then wiped); KITH_ENOTFOUND when there is none. Never part of the serialised state.
 */
KITH_NODISCARD int session_take_ack_key(struct session *s, uint8_t out[32]);

/* Serialise the whole state (malloc'd *out, caller wipes with sodium_memzero
 * and frees) and parse it back (KITH_OK, KITH_EMALFORMED). */
void session_serialize(const struct session *s, uint8_t **out, size_t *out_len);
KITH_NODISCARD int session_parse(const uint8_t *in, size_t len, struct session **out);

#endif
