/*
 * engine_circle internals shared by engine_circle.c (memory, membership,
 * verbs), engine_circle_recv.c (frames and envelopes that arrive) and
 * engine_circle_msg.c (sending and history). Not a public header.
 */
#ifndef KITH_CORE_ENGINE_CIRCLE_IMPL_H
#define KITH_CORE_ENGINE_CIRCLE_IMPL_H

#include "core/engine_impl.h"

#include "core/circle.h"
#include "proto/circle.h"
#include "proto/frame.h"

/* spk_id of an introduction: the responder's IKdh plays the signed prekey. */
#define ENGINE_INTRO_SPK_ID 0xFFFFFFFEu

/* Our own member entry (name, endpoint, bundle). */
void engine_circle_me(struct engine *e, struct circle_member *m);
/* The intro secret of our first session with a member (sealed setting). */
KITH_NODISCARD int engine_circle_intro_secret_set(struct engine *e, const uint8_t member_id[16],
                                                  const uint8_t secret[32]);
KITH_NODISCARD int engine_circle_intro_secret_get(struct engine *e, const uint8_t member_id[16],
                                                  uint8_t secret[32]);
/* A contact row for a member (existing, or a new pending one named by their own name). */
KITH_NODISCARD int engine_circle_contact_for(struct engine *e, const struct circle_member *m,
                                             int64_t *contact_id);
/* Seal one envelope of a circle type to one member over our 1:1 session. KITH_ESTATE when
 * there is no session yet, KITH_ENOTFOUND when they are not a contact. */
KITH_NODISCARD int engine_circle_send_env(struct engine *e, struct engine_txn *t,
                                          const uint8_t member_id[16], uint8_t type,
                                          const uint8_t *payload, size_t len);
/* Our sender key for the current epoch; a fresh one is saved and handed out first. */
KITH_NODISCARD int engine_circle_ensure_key(struct engine *e, struct engine_txn *t,
                                            const struct engine_circle *c,
                                            struct circle_sender *s);
/* Resolve a grown op log and follow what changed (see engine_circle.c). */
KITH_NODISCARD int engine_circle_apply(struct engine *e, struct engine_txn *t,
                                       struct engine_circle *c, const uint8_t *log,
                                       size_t log_len, const uint8_t *intro_secret);
/* Sign, apply and send an op of ours (ADD carries intro_secret; also: one more recipient). */
KITH_NODISCARD int engine_circle_issue(struct engine *e, struct engine_txn *t,
                                       struct engine_circle *c, struct circle_op *op,
                                       const uint8_t *intro_secret, const uint8_t *also);
/* Send the welcome (whole log + intro secret) to a member we added. */
KITH_NODISCARD int engine_circle_welcome(struct engine *e, struct engine_txn *t,
                                         const struct engine_circle *c,
                                         const uint8_t member_id[16], const uint8_t secret[32]);
/* Run fn in one durable transaction (then reload what changed and flush). */
KITH_NODISCARD int engine_circle_txn(struct engine *e,
                                     int (*fn)(struct engine *, struct engine_txn *, void *),
                                     void *arg);
/* "#name" or "name"; NULL when there is none (or, active_only, it is not active). */
struct engine_circle *engine_circle_by_name(struct engine *e, const char *name,
                                            bool active_only);
/* Open frames of (circle, epoch, sender) that waited for the sender's key. */
KITH_NODISCARD int engine_circle_open_waiting(struct engine *e, struct engine_txn *t,
                                              struct engine_circle *c, uint32_t epoch,
                                              const uint8_t sender[16]);
/* Accepting a circle invite: note the circle as joining; when the inviter is already a contact,
 * ask to join over our session (KITH_OK, done). KITH_EAGAIN: accept the inviter as a new
 * contact too (the caller goes on); the welcome follows the handshake. */
struct invite;
KITH_NODISCARD int engine_circle_accept(struct engine *e, const struct invite *inv,
                                        char name_out[ENGINE_NAME_BUF]);
/* engine_circle_msg.c: the circle halves of engine_send, engine_history, engine_msg_state. */
KITH_NODISCARD int engine_circle_send_text(struct engine *e, const char *name, const char *text,
                                           char id_out[ENGINE_ID_HEX]);
KITH_NODISCARD int engine_circle_history(struct engine *e, const char *name, size_t limit,
                                         uint64_t before_lamport, struct engine_msg **out,
                                         size_t *n);
KITH_NODISCARD int engine_circle_msg_state(struct engine *e, const uint8_t id[16],
                                           const char **state);
/* engine_verbs.c: an invite code, for a circle when circle_id is not NULL. */
KITH_NODISCARD int engine_invite_for(struct engine *e, uint32_t ttl_s, const uint8_t *circle_id,
                                     char code[ENGINE_INVITE_BUF]);

#endif
