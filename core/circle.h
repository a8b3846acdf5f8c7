/*
 * circle: support circles (PROTOCOL-NOTES.md §2.6), pure: bytes in, bytes
 * out, no I/O, no clock reads (callers pass now_s), randomness only from
 * libsodium. Three parts:
 *
 * 1. Membership log. A circle is a set of signed ops (CREATE, ADD, REMOVE,
 *    LEAVE, ADMIN). circle_resolve folds any set of ops into the same state
 *    on every member: from the CREATE, repeatedly take, among the valid ops
 *    whose parent is the current epoch_id, the one with the lowest H32(op),
 *    and apply it. Ops whose parent is unknown wait; ops that lost a race
 *    stay in the log and are reported so their issuer can re-issue them.
 * 2. Own sender key (one per epoch and generation): CK chain + Ed25519 SIGK,
 *    rotated after CIRCLE_ROTATE_MSGS messages or CIRCLE_ROTATE_S seconds.
 * 3. Receiving chains, one per (epoch, sender, generation), from a sender key
 *    distribution: signature checked before anything else, each index opened
 *    at most once, skipped keys bounded, failures leave the chain unchanged.
 */
#ifndef KITH_CORE_CIRCLE_H
#define KITH_CORE_CIRCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/identity.h"
#include "proto/circle.h"

#define CIRCLE_NAME_BUF 65
#define CIRCLE_ENDPOINT_BUF 97
#define CIRCLE_OPS_MAX 256        /* ops in one log */
#define CIRCLE_EPOCHS_KEPT 16     /* recent epochs remembered in a state (grace checks) */
#define CIRCLE_ROTATE_MSGS 100
#define CIRCLE_ROTATE_S (7 * 24 * 3600)
#define CIRCLE_EPOCH_GRACE_S (72 * 3600)
#define CIRCLE_CHAIN_SKIP_MAX 1000   /* per chain: indices we may jump over */
#define CIRCLE_CHAIN_SKIPPED_MAX 2000 /* per chain: skipped keys kept, oldest evicted */
#define CIRCLE_SKIPPED_TTL_S (7 * 24 * 3600)

enum circle_op_type {
    CIRCLE_OP_CREATE = 1,
    CIRCLE_OP_ADD = 2,
    CIRCLE_OP_REMOVE = 3,
    CIRCLE_OP_LEAVE = 4,
    CIRCLE_OP_ADMIN = 5,
};

struct circle_member {
    struct identity_public pub;
    uint8_t member_id[IDENTITY_MEMBER_ID];
    char name[CIRCLE_NAME_BUF];         /* their own display name, as the issuer knew it */
    char endpoint[CIRCLE_ENDPOINT_BUF]; /* "" when they publish none */
    bool admin;
};

/*
 * A signed op. Encoding (big-endian):
 *   u8 version=1 | u8 type | 16 circle_id | u32 epoch_no (the epoch this op starts) |
 *   16 parent_epoch_id (zeros for CREATE) | u32 issued_at | 32 issuer IK |
 *   subject: 228 identity_public | u8 admin | u8 name_len | name | u8 ep_len | endpoint |
 *   u8 circle_name_len | circle_name (CREATE only; 0 otherwise) |
 *   64 SIG_IK(issuer, "kith-v1/circle-op" || all bytes above)
 * CREATE: subject = the creator (= issuer, admin). ADD: the new member. REMOVE: the member
 * removed. LEAVE: the leaver (= issuer). ADMIN: the member made admin.
 */
struct circle_op {
    uint8_t type;
    uint8_t circle_id[CIRCLE_ID_BYTES];
    uint32_t epoch_no;
    uint8_t parent[16];
    uint32_t issued_at;
    uint8_t issuer_ik[32];
    struct circle_member subject;
    char circle_name[CIRCLE_NAME_BUF];
    uint8_t sig[64];
    uint8_t hash[32]; /* H32("kith-v1/circle-op" || encoded op) (set by decode and make) */
};

/* Decode and check one op: grammar (name, endpoint), the subject's bundle signatures and the
 * issuer's signature. KITH_OK, KITH_EMALFORMED, KITH_ECRYPTO. */
KITH_NODISCARD int circle_op_decode(const uint8_t *in, size_t len, struct circle_op *op);
/* Sign op (issuer_ik, sig and hash filled here) with `issuer` and encode it into out
 * (cap >= CIRCLE_OP_MAX). KITH_OK, KITH_EINVAL (grammar), KITH_ETOOBIG. */
KITH_NODISCARD int circle_op_make(struct circle_op *op, const struct identity *issuer,
                                  uint8_t *out, size_t cap, size_t *out_len);

/* One epoch of the resolved chain. */
struct circle_epoch {
    uint32_t epoch_no;
    uint8_t epoch_id[16];
    uint32_t started_at; /* issued_at of the op that started it */
    uint8_t nmembers;
    uint8_t members[CIRCLE_MAX_MEMBERS][IDENTITY_MEMBER_ID];
};

/* The resolved state of a circle. */
struct circle_state {
    uint8_t circle_id[CIRCLE_ID_BYTES];
    char name[CIRCLE_NAME_BUF]; /* from CREATE */
    uint32_t epoch_no;
    uint8_t epoch_id[16];
    size_t nmembers;
    struct circle_member members[CIRCLE_MAX_MEMBERS]; /* current epoch, sorted by member_id */
    size_t nepochs; /* the last CIRCLE_EPOCHS_KEPT epochs of the chain, oldest first */
    struct circle_epoch epochs[CIRCLE_EPOCHS_KEPT];
    size_t napplied;  /* ops on the winning chain */
    size_t nlosers;   /* valid ops whose parent is on the chain but that lost the race */
    uint8_t losers[8][32]; /* hashes of up to 8 of them */
    size_t npending;  /* ops whose parent is not (yet) known */
};

/* epoch_id = H16("kith-v1/epoch" || circle_id || u32 epoch_no || parent_epoch_id ||
 * member_ids sorted). */
void circle_epoch_id(const uint8_t circle_id[16], uint32_t epoch_no, const uint8_t parent[16],
                     const uint8_t (*members)[IDENTITY_MEMBER_ID], size_t n, uint8_t out[16]);

/* The op log: a sequence of (u16 len | op bytes), each op once (by hash), at most
 * CIRCLE_OPS_MAX, at most CIRCLE_LOG_MAX bytes. add: append op if it is new and decodes
 * (KITH_OK; *added false when already present). *log is malloc'd/realloc'd (NULL, 0 to start);
 * free with free(). KITH_EMALFORMED / KITH_ECRYPTO (op bad), KITH_ETOOBIG (log full). */
KITH_NODISCARD int circle_log_add(uint8_t **log, size_t *log_len, const uint8_t *op,
                                  size_t op_len, bool *added);
/* Check a whole log (each entry decodes, no duplicates): KITH_OK or KITH_EMALFORMED. */
KITH_NODISCARD int circle_log_check(const uint8_t *log, size_t log_len);
/* Iterate: *off starts at 0; KITH_OK with the op, KITH_ENOTFOUND at the end. */
KITH_NODISCARD int circle_log_next(const uint8_t *log, size_t log_len, size_t *off,
                                   const uint8_t **op, size_t *op_len);

/*
 * Resolve a log into a state (deterministic; any order of the same ops gives the same state).
 * Valid on top of epoch E (members M, admins A):
 *   ADD: issuer in A, subject not in M, |M| < CIRCLE_MAX_MEMBERS;
 *   REMOVE: issuer in A, subject in M, subject != issuer;
 *   LEAVE: issuer == subject, in M, and not the last admin unless the last member;
 *   ADMIN: issuer in A, subject in M and not admin;
 *   epoch_no == E.epoch_no + 1 and parent == E.epoch_id.
 * Several CREATEs of the circle: the lowest hash starts it, the others are losers. An op seen
 * twice counts once. Losers: valid on top of a chain epoch when another op won it. Pending:
 * ops of this circle whose parent is no epoch of the winning chain.
 * KITH_ENOTFOUND when the log has no valid CREATE; KITH_EMALFORMED when it does not parse.
 */
KITH_NODISCARD int circle_resolve(const uint8_t *log, size_t log_len, struct circle_state *st);
/* Lookups in a resolved state. */
const struct circle_member *circle_member_find(const struct circle_state *st,
                                               const uint8_t member_id[IDENTITY_MEMBER_ID]);
/* The kept epoch with that number, or NULL. */
const struct circle_epoch *circle_epoch_find(const struct circle_state *st, uint32_t epoch_no);
bool circle_epoch_has(const struct circle_epoch *ep, const uint8_t member_id[IDENTITY_MEMBER_ID]);
/*
 * May a frame of (epoch_no, sender) be accepted now? The current epoch: if the sender is a
 * member. An earlier kept epoch: if the sender was a member of it and the epoch that replaced
 * it started less than CIRCLE_EPOCH_GRACE_S before now_s (frames in flight; the UI marks
 * them). Anything else: false.
 */
bool circle_frame_acceptable(const struct circle_state *st, uint32_t epoch_no,
                             const uint8_t sender[IDENTITY_MEMBER_ID], uint32_t now_s);

/* ---- own sender key ---- */

struct circle_sender {
    uint32_t epoch_no;
    uint8_t epoch_id[16];
    uint32_t gen;
    uint32_t index;      /* next message index in this generation */
    uint64_t seq;        /* next seq in this epoch (from 1; survives rotation) */
    uint32_t created_at; /* of this generation */
    uint8_t ck[32];
    uint8_t sigk_pk[32];
    uint8_t sigk_sk[64];
};
/* serialised: version 1 + the fields above in order (was 188, which matched no layout) */
#define CIRCLE_SENDER_BYTES 169

/* A fresh generation: random CK and SIGK. For a new epoch pass gen 0 and seq 1; for a rotation
 * pass the old gen + 1 and the old seq. */
void circle_sender_new(struct circle_sender *s, uint32_t epoch_no, const uint8_t epoch_id[16],
                       uint32_t gen, uint64_t seq, uint32_t now_s);
/* After CIRCLE_ROTATE_MSGS messages or CIRCLE_ROTATE_S seconds. */
bool circle_sender_due(const struct circle_sender *s, uint32_t now_s);
/* The distribution of the current generation (start_index = s->index). */
void circle_sender_skd(const struct circle_sender *s, const uint8_t circle_id[16],
                       struct circle_skd *out);
/* The serialised form holds secrets: callers wipe it. parse: KITH_OK or KITH_EMALFORMED (also
 * when the SIGK halves do not match). */
void circle_sender_serialize(const struct circle_sender *s, uint8_t out[CIRCLE_SENDER_BYTES]);
KITH_NODISCARD int circle_sender_parse(const uint8_t *in, size_t len, struct circle_sender *s);

/*
 * Seal one content envelope (pt, already padded) as a CIRCLE_MSG body: derive mk from the chain
 * (mk = HMAC(ck, 0x01), ck' = HMAC(ck, 0x02), key = HKDF(mk, info "kith-v1/sk-mk")), encrypt
 * with AD = "kith-v1/circle" || outer_ad || body header, sign. outer_ad is frame_ad() of the
 * outer frame (msg_id, route = circle_id, expires_at). me = our member_id. Advances index and
 * seq. out cap >= CIRCLE_BODY_HEADER + pt_len + 16 + CIRCLE_SIG_BYTES.
 * KITH_OK, KITH_ETOOBIG, KITH_ESTATE (index 2^32-1 reached: rotate first).
 */
KITH_NODISCARD int circle_seal(struct circle_sender *s, const uint8_t me[IDENTITY_MEMBER_ID],
                               const uint8_t outer_ad[FRAME_AD_BYTES], const uint8_t *pt,
                               size_t pt_len, uint8_t *out, size_t cap, size_t *out_len);

/* ---- receiving chains ---- */

struct circle_chain; /* opaque */

/* A chain from a distribution received from sender. KITH_OK, KITH_EINVAL (epoch 0, start index
 * 2^32-1, or a SIGK that is not a valid Ed25519 point). */
KITH_NODISCARD int circle_chain_new(const struct circle_skd *skd,
                                    const uint8_t sender[IDENTITY_MEMBER_ID], uint32_t now_s,
                                    struct circle_chain **out);
void circle_chain_destroy(struct circle_chain *c); /* NULL-safe; wipes */
/* Signature only (no state change): KITH_OK or KITH_ECRYPTO. Also KITH_EINVAL when the body's
 * epoch, sender or gen (or the outer route) are not this chain's, KITH_EMALFORMED when it does
 * not parse. */
KITH_NODISCARD int circle_chain_verify(const struct circle_chain *c,
                                       const uint8_t outer_ad[FRAME_AD_BYTES],
                                       const uint8_t *body, size_t body_len);
/*
 * Verify, then open the body into pt (cap >= ct_len). Each index opens once: a repeat is
 * KITH_EREPLAY (so is an index whose skipped key was evicted or expired); an index more than
 * CIRCLE_CHAIN_SKIP_MAX ahead, or below the start index, KITH_ECRYPTO without derivation work.
 * Also KITH_EMALFORMED / KITH_EINVAL as circle_chain_verify, KITH_ETOOBIG (cap). On any failure
 * the chain is unchanged and pt zeroed.
 */
KITH_NODISCARD int circle_chain_open(struct circle_chain *c, const uint8_t outer_ad[FRAME_AD_BYTES],
                                     const uint8_t *body, size_t body_len, uint32_t now_s,
                                     uint8_t *pt, size_t cap, size_t *pt_len);
/* *out malloc'd; it holds secrets: callers wipe and free it. parse: KITH_OK or KITH_EMALFORMED;
 * a parsed chain serialises back to the same bytes. */
void circle_chain_serialize(const struct circle_chain *c, uint8_t **out, size_t *out_len);
KITH_NODISCARD int circle_chain_parse(const uint8_t *in, size_t len, struct circle_chain **out);

/* Intro PSK for two members' first 1:1 session: HKDF(salt 0, ikm intro_secret,
 * info "kith-v1/intro" || lower IK || higher IK, L 32). */
void circle_intro_psk(const uint8_t intro_secret[32], const uint8_t ik_a[32],
                      const uint8_t ik_b[32], uint8_t out[32]);

#endif
