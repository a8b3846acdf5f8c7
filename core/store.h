/*
 * store: the ONLY place SQL runs. One SQLite file per profile (WAL, each
 * commit synced unless relaxed, foreign keys, secure_delete, defensive), schema versioned
 * with migrations at open. Every name, endpoint, key, session state, message
 * body and frame is sealed column by column (XChaCha20-Poly1305 under a
 * subkey of a random DEK, AD = "kith-v1/db" || table || column || row key ||
 * schema version); the DEK is wrapped by Argon2id(passphrase) whose
 * parameters are stored with it. Lookup columns that would reveal who
 * someone is (member ids, names) hold keyed hashes, never the value.
 * What stays readable is listed in SECURITY.md.
 *
 * Callers group writes with store_begin/store_commit so that, e.g., an
 * outbox row and the ratchet state that produced it commit together.
 * Returned structs are plain copies owned by the caller; arrays and strings
 * come from malloc and have matching _free functions.
 */
#ifndef KITH_CORE_STORE_H
#define KITH_CORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/identity.h"
#include "core/session.h"

#define KITH_STORE_NAME_BUF 65 /* display name (<= 64 bytes UTF-8) + NUL */

struct store;

/* Argon2id cost. STORE_KDF_MODERATE is the default; tests use STORE_KDF_MIN. */
struct store_kdf {
    unsigned long long ops;
    size_t mem;
};
extern const struct store_kdf STORE_KDF_MODERATE; /* 3 passes, 256 MiB */
extern const struct store_kdf STORE_KDF_MIN;      /* libsodium's minimum: 1 pass, 8 KiB */

/* Create a new profile database at path (the file must not exist, or be
 * empty): fresh DEK, wrapped under Argon2id(pass) with kdf.
 * KITH_OK, KITH_EEXISTS (file has data), KITH_ESTORE, KITH_ESYS. */
KITH_NODISCARD int store_create(const char *path, const char *pass, size_t pass_len,
                                const struct store_kdf *kdf, struct store **out);
/* Open and unlock. A file that is not SQLite, or SQLite without kith's key
 * record, is refused (KITH_ENOTKITH) and never modified or recreated; a wrong
 * passphrase is KITH_EPASSPHRASE and changes nothing on disk. A missing file
 * is KITH_ENOTFOUND. */
KITH_NODISCARD int store_open(const char *path, const char *pass, size_t pass_len,
                              struct store **out);
/* Checkpoint (TRUNCATE), wipe the DEK and close. NULL-safe. */
void store_close(struct store *st);
/* Does pass unlock this open database? KITH_OK, KITH_EPASSPHRASE, or the error of reading
 * its key record; nothing is written. Asked of the open connection: a profile's database
 * admits one connection at a time (locking_mode EXCLUSIVE, store_configure). */
KITH_NODISCARD int store_check_passphrase(struct store *st, const char *pass, size_t pass_len);
/* Re-wrap the DEK under a new passphrase in one transaction. */
KITH_NODISCARD int store_rekey(struct store *st, const char *pass, size_t pass_len,
                               const struct store_kdf *kdf);

/* Whole files (core/store_backup.c). backup: a consistent snapshot of the open database, still
 * sealed and carrying its kdf record (it opens with the passphrase current now), written to a
 * new 0600 file at path and synced; KITH_EEXISTS if path exists (never overwritten), KITH_ESTATE
 * inside a transaction. restore: copy a backup to a new 0600 file at path and prove that pass
 * unlocks it and it holds an identity; on any error nothing is left at path (KITH_EPASSPHRASE,
 * KITH_ENOTKITH, KITH_ENOTFOUND: no backup file, KITH_EEXISTS: path exists). wipe: overwrite the
 * database at path and its -wal, -shm and -journal files with random bytes, sync, remove them;
 * missing files are fine. The database must not be open. */
KITH_NODISCARD int store_backup(struct store *st, const char *path);
KITH_NODISCARD int store_restore(const char *backup, const char *path, const char *pass,
                                 size_t pass_len);
KITH_NODISCARD int store_wipe(const char *path);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Not nestable. store_begin's commit is
 * durable (the log is synced at its COMMIT, as synchronous=FULL would; see
 * core/store_vfs.c), as is a write outside a transaction: use it for anything
 * an acknowledgement or the user's "queued" depends on. store_begin_relaxed
 * commits without a sync (survives a crash of kith, maybe not a power loss);
 * store_sync makes every earlier relaxed commit durable. */
KITH_NODISCARD int store_begin(struct store *st);
KITH_NODISCARD int store_begin_relaxed(struct store *st);
KITH_NODISCARD int store_sync(struct store *st);
KITH_NODISCARD int store_commit(struct store *st);
void store_rollback(struct store *st);

/* Own identity and display name (one row). load: KITH_ENOTFOUND if none. */
KITH_NODISCARD int store_identity_save(struct store *st, const struct identity *id,
                                       const char *name);
KITH_NODISCARD int store_identity_load(struct store *st, struct identity **id,
                                       char name[KITH_STORE_NAME_BUF]);

/* Profile settings, sealed (listen endpoint, ...). get: malloc'd string or KITH_ENOTFOUND. */
KITH_NODISCARD int store_setting_set(struct store *st, const char *key, const char *value);
KITH_NODISCARD int store_setting_get(struct store *st, const char *key, char **value);

/* Contacts. */
enum store_contact_state {
    STORE_CONTACT_PENDING = 0, /* we accepted their invite; handshake not yet answered */
    STORE_CONTACT_ACTIVE = 1,
};
#define STORE_ENDPOINTS_MAX 4
#define STORE_ENDPOINT_MAX 96
struct store_contact {
    int64_t id; /* assigned by store_contact_add */
    char name[KITH_STORE_NAME_BUF];
    struct identity_public pub;
    uint8_t member_id[IDENTITY_MEMBER_ID];
    uint8_t n_endpoints;
    char endpoints[STORE_ENDPOINTS_MAX][STORE_ENDPOINT_MAX + 1];
    int state;     /* enum store_contact_state */
    bool verified; /* safety number compared */
    int trust;     /* 0..3 */
    int64_t created_at; /* unix seconds */
};
/* KITH_EEXISTS if the name (case-insensitively) or the member id is taken. */
KITH_NODISCARD int store_contact_add(struct store *st, struct store_contact *c);
/* Rewrites every field of row c->id (rename: KITH_EEXISTS if the name is taken). */
KITH_NODISCARD int store_contact_update(struct store *st, const struct store_contact *c);
KITH_NODISCARD int store_contact_by_id(struct store *st, int64_t id, struct store_contact *c);
/* Case-insensitive exact name match. */
KITH_NODISCARD int store_contact_by_name(struct store *st, const char *name,
                                         struct store_contact *c);
KITH_NODISCARD int store_contact_by_member(struct store *st,
                                           const uint8_t member_id[IDENTITY_MEMBER_ID],
                                           struct store_contact *c);
/* All contacts ordered by name; *out malloc'd (free with free()). */
KITH_NODISCARD int store_contacts_list(struct store *st, struct store_contact **out, size_t *n);

/* Boundary rule sets per contact, sealed: the rules we set for them (STORE_RULES_OURS) and the
 * told subset they sent us in their boundary notice (STORE_RULES_TOLD). Bytes are opaque here
 * (boundary_rules_encode). set: len 0 removes the set. get: *buf malloc'd (free with
 * store_rules_free), KITH_ENOTFOUND when none is stored or no such contact. */
enum store_rules_kind { STORE_RULES_OURS = 0, STORE_RULES_TOLD = 1 };
#define STORE_RULES_MAX 8192
KITH_NODISCARD int store_rules_set(struct store *st, int64_t contact_id, enum store_rules_kind kind,
                                   const uint8_t *buf, size_t len);
KITH_NODISCARD int store_rules_get(struct store *st, int64_t contact_id, enum store_rules_kind kind,
                                   uint8_t **buf, size_t *len);
void store_rules_free(uint8_t *buf, size_t len); /* wipes, then frees; NULL-safe */

/* Invites we issued. */
enum store_invite_state { STORE_INVITE_ISSUED = 0, STORE_INVITE_USED = 1, STORE_INVITE_REVOKED = 2 };
struct store_invite {
    uint32_t invite_id;
    uint8_t inv_sk[32];
    uint8_t inv_pk[32];
    uint8_t secret[32];
    uint32_t expires_at;
    int state;
};
KITH_NODISCARD int store_invite_add(struct store *st, const struct store_invite *inv);
KITH_NODISCARD int store_invite_get(struct store *st, uint32_t invite_id, struct store_invite *inv);
/* USED also wipes the stored one-time secret key. */
KITH_NODISCARD int store_invite_set_state(struct store *st, uint32_t invite_id, int state);
/* Number of ISSUED invites with expires_at > now_s. */
KITH_NODISCARD int store_invites_open(struct store *st, uint32_t now_s, size_t *n);

/* Session per contact. load: KITH_ENOTFOUND if none. */
KITH_NODISCARD int store_session_save(struct store *st, int64_t contact_id,
                                      const struct session *s);
KITH_NODISCARD int store_session_load(struct store *st, int64_t contact_id,
                                      struct session **out);
/* The tagged forms let a caller keep a session in memory across transactions: every save
 * seals with a fresh random nonce, and that nonce is the stored copy's tag. save_tagged: as
 * save, and tag receives the new copy's tag. load_tagged: when `known` (may be NULL) equals
 * the stored copy's tag, KITH_OK with *out NULL (what the caller holds is what is stored, no
 * unsealing); otherwise as load, and tag receives the loaded copy's tag. */
#define STORE_SESSION_TAG 24
KITH_NODISCARD int store_session_save_tagged(struct store *st, int64_t contact_id,
                                             const struct session *s,
                                             uint8_t tag[STORE_SESSION_TAG]);
KITH_NODISCARD int store_session_load_tagged(struct store *st, int64_t contact_id,
                                             const uint8_t *known, struct session **out,
                                             uint8_t tag[STORE_SESSION_TAG]);
/* Record an X3DH ephemeral key: KITH_OK if new, KITH_EREPLAY if seen before. */
KITH_NODISCARD int store_seen_ek(struct store *st, const uint8_t ek[32], int64_t now_s);

/* Frames already committed, by msg_id (idempotent receive). */
KITH_NODISCARD int store_seen_add(struct store *st, const uint8_t msg_id[16], int64_t now_s);
bool store_seen_has(struct store *st, const uint8_t msg_id[16]);
/* Forget the ids seen before before_s (unix seconds); *deleted counts them. */
KITH_NODISCARD int store_seen_prune(struct store *st, int64_t before_s, size_t *deleted);

/* Message history (both directions). */
enum store_msg_state {
    STORE_MSG_QUEUED = 0,    /* durable in the outbox, not yet on the wire */
    STORE_MSG_SENT = 1,      /* handed to the network at least once */
    STORE_MSG_DELIVERED = 2, /* acknowledged end to end */
    STORE_MSG_RECEIVED = 3,
    STORE_MSG_HELD = 4,
    STORE_MSG_FOLDED = 5,
    STORE_MSG_AWAITING_CONSENT = 6,
    STORE_MSG_EXPIRED = 7,
};
struct store_msg {
    uint8_t msg_id[16];
    int64_t contact_id;
    bool outgoing;
    uint64_t lamport;
    uint64_t sender_seq;
    int64_t ts_ms; /* sent_at (sender's clock) */
    int state;     /* enum store_msg_state */
    int64_t release_at; /* unix seconds, for HELD; 0 otherwise */
    uint16_t flags;     /* envelope flags */
    char *text;         /* NUL-terminated, malloc'd in results */
    size_t text_len;
    /* Boundaries (incoming): when it became visible (0 while held), the boundary_reason that
     * held/folded it, and whether it waits in (or was released as) a rate digest. */
    int64_t visible_at;
    int reason;
    bool is_digest;
    /* Outgoing: what the receiver's receipt told (a receipt_tell, 0 = none yet) and its time.
     * Incoming: what our receipt told the sender, so a repeated receipt says the same. */
    int tell;
    int64_t tell_at;
};
/* KITH_EEXISTS if msg_id already present. */
KITH_NODISCARD int store_msg_add(struct store *st, const struct store_msg *m);
/* A message of ours and the frame that carries it, in one row: the frame then waits for its
 * acknowledgement as an outbox row does (store_outbox_due, _reschedule, _ack_key and _remove
 * see it) and the row's retention waits for it. ack_key: 32 bytes, or NULL. */
struct store_msg_frame {
    const uint8_t *frame;
    size_t len;
    uint32_t attempts;
    int64_t next_at_ms;
    const uint8_t *ack_key;
};
KITH_NODISCARD int store_msg_add_queued(struct store *st, const struct store_msg *m,
                                        const struct store_msg_frame *f);
KITH_NODISCARD int store_msg_set_state(struct store *st, const uint8_t msg_id[16], int state);
/* QUEUED -> SENT only (a later state stays): KITH_OK, or KITH_ENOTFOUND when the message is
 * not (or no longer) queued. */
KITH_NODISCARD int store_msg_mark_sent(struct store *st, const uint8_t msg_id[16]);
KITH_NODISCARD int store_msg_get(struct store *st, const uint8_t msg_id[16], struct store_msg *m);
/* Only the state (nothing unsealed): KITH_OK, KITH_ENOTFOUND, KITH_ECORRUPT. */
KITH_NODISCARD int store_msg_state(struct store *st, const uint8_t msg_id[16], int *state);
/* The last `limit` messages of a conversation (0 = all), oldest first, in
 * display order (lamport, sender member, sender_seq); before_lamport > 0 pages
 * backwards (only rows with lamport < before_lamport). */
KITH_NODISCARD int store_msg_log(struct store *st, int64_t contact_id, size_t limit,
                                 uint64_t before_lamport, struct store_msg **out, size_t *n);
/* Counts of outgoing messages not yet delivered, and held incoming ones. */
KITH_NODISCARD int store_msg_counts(struct store *st, size_t *queued, size_t *held);
/* When incoming messages of one contact (contact_id > 0) or of everyone (0) became visible,
 * at or after since (unix seconds): the newest `limit` of them (0: all), oldest first; a
 * digest released together counts once. *out malloc'd (free()); NULL when n is 0. */
KITH_NODISCARD int store_msg_visible_since(struct store *st, int64_t contact_id, int64_t since,
                                           size_t limit, int64_t **out, size_t *n);
/* HELD incoming messages of one contact (> 0) or all (0), per contact in the sender's order.
 * Free with store_msgs_free. */
KITH_NODISCARD int store_msg_held(struct store *st, int64_t contact_id, struct store_msg **out,
                                  size_t *n);
/* Earliest release_at of HELD incoming messages; KITH_ENOTFOUND when none is held. */
KITH_NODISCARD int store_msg_next_release(struct store *st, int64_t *release_at);
/* A boundary decision about a stored message: its new state, reason, release and visibility. */
struct store_disposition {
    int state;          /* enum store_msg_state */
    int reason;         /* enum boundary_reason (0 = none) */
    int64_t release_at; /* HELD: when to look again; else 0 */
    int64_t visible_at; /* when it became visible; 0 while held */
    bool is_digest;
};
/* Set the disposition of one message. KITH_ENOTFOUND when no such message. */
KITH_NODISCARD int store_msg_release(struct store *st, const uint8_t msg_id[16],
                                     const struct store_disposition *d);
/* Record a receipt's tell (a receipt_tell) and time on an outgoing message. */
KITH_NODISCARD int store_msg_set_tell(struct store *st, const uint8_t msg_id[16], int tell,
                                      int64_t tell_at);
/* Acknowledged: state DELIVERED and what the receiver's boundaries did, in one write.
 * KITH_OK, KITH_ENOTFOUND (no history row: a control message), KITH_EINVAL. */
KITH_NODISCARD int store_msg_set_delivered(struct store *st, const uint8_t msg_id[16], int tell,
                                           int64_t tell_at);
/* A message whose frame waits in its row is acknowledged: DELIVERED with what the receipt
 * told, and the frame leaves the row (store_outbox_remove and store_msg_set_delivered in one
 * write). KITH_ENOTFOUND when no frame of that id waits in a message row. */
KITH_NODISCARD int store_msg_acknowledged(struct store *st, const uint8_t msg_id[16], int tell,
                                          int64_t tell_at);
/* The other texts of a TEXTS frame of ours whose first text (msg_id, last byte 0) moved to
 * state (SENT, DELIVERED or EXPIRED) follow it, each only forward from QUEUED or SENT;
 * DELIVERED ones take the first one's receipt (tell, tell_at: what the receiver's boundaries
 * did, which holds for each text that has no receipt of its own). KITH_OK also when there
 * are none (the frame carried one text). */
KITH_NODISCARD int store_msg_texts_follow(struct store *st, const uint8_t msg_id[16], int state,
                                          int tell, int64_t tell_at);
/* A receipt of its own for one of those texts (msg_id, last byte not 0), ours to contact_id:
 * DELIVERED with what the receiver's boundaries did. KITH_ENOTFOUND: not such a text. */
KITH_NODISCARD int store_msg_text_told(struct store *st, const uint8_t msg_id[16],
                                       int64_t contact_id, int tell, int64_t tell_at);
/* Receiver side: the other texts of a TEXTS frame from contact_id (first: its first text's
 * id, last byte 0) whose receipt told other than the first one's (tell, tell_at), to say it
 * again when the frame comes once more. At most KITH_TEXTS_MAX - 1. */
struct store_text_tell {
    uint8_t msg_id[16];
    int tell;
    int64_t tell_at;
};
KITH_NODISCARD int store_msg_texts_tells(struct store *st, const uint8_t first[16],
                                         int64_t contact_id, int tell, int64_t tell_at,
                                         struct store_text_tell *out, size_t *n);
void store_msg_free(struct store_msg *m); /* frees text */
void store_msgs_free(struct store_msg *m, size_t n);

/* Per-profile counters: the Lamport clock and each conversation's send sequence.
 * STORE_LAMPORT_MAX: the highest time a peer may claim; store_lamport_tick refuses it. */
#define STORE_LAMPORT_MAX ((uint64_t)INT64_MAX - 2)
/* Times the counter row is written ahead of the clock (store_lamport_add). */
#define STORE_LAMPORT_BLOCK 4096
KITH_NODISCARD int store_lamport_tick(struct store *st, uint64_t seen, uint64_t *out); /* max(local, seen)+1 */
/* n consecutive ticks at once (a batch of our own messages): *first is the first of them,
 * the clock ends at *first + n - 1. KITH_OK, KITH_EINVAL (n == 0), or a store error. */
KITH_NODISCARD int store_lamport_reserve(struct store *st, uint32_t n, uint64_t *first);
KITH_NODISCARD int store_next_seq(struct store *st, int64_t contact_id, uint64_t *seq,
                                  uint8_t prev_msg_id[16]); /* also the last msg id sent */
KITH_NODISCARD int store_set_last_sent(struct store *st, int64_t contact_id, uint64_t seq,
                                       const uint8_t msg_id[16]);

/* Outbox: sealed frames waiting for an end-to-end acknowledgement (a history message's in its
 * msg row, store_msg_add_queued; every other frame in the outbox table). */
struct store_outbox {
    uint8_t msg_id[16];
    int64_t contact_id;
    uint8_t *frame; /* malloc'd in results */
    size_t frame_len;
    uint32_t attempts;
    int64_t next_at_ms;
};
KITH_NODISCARD int store_outbox_add(struct store *st, const uint8_t msg_id[16], int64_t contact_id,
                                    const uint8_t *frame, size_t frame_len, int64_t next_at_ms);
/* The same with the attempts already made: a frame handed to the network right after the
 * COMMIT that writes it is stored as attempted once, its first retry scheduled (no
 * bookkeeping write after the hand-over), and with the message's acknowledgement key
 * (sealed; NULL: none, only a sealed receipt confirms it). KITH_OK, KITH_EEXISTS, or a
 * store error. */
KITH_NODISCARD int store_outbox_add_at(struct store *st, const uint8_t msg_id[16],
                                       int64_t contact_id, const uint8_t *frame, size_t frame_len,
                                       uint32_t attempts, int64_t next_at_ms,
                                       const uint8_t ack_key[32]);
/* The acknowledgement key of a waiting row: KITH_OK, KITH_ENOTFOUND (no such row, or a row
 * stored without one), KITH_ECORRUPT. */
KITH_NODISCARD int store_outbox_ack_key(struct store *st, const uint8_t msg_id[16],
                                        uint8_t ack_key[32]);
/* Rows of one contact (contact_id > 0) or all, with next_at_ms <= now_ms, in
 * insertion order, at most max. */
KITH_NODISCARD int store_outbox_due(struct store *st, int64_t contact_id, int64_t now_ms,
                                    size_t max, struct store_outbox **out, size_t *n);
KITH_NODISCARD int store_outbox_reschedule(struct store *st, const uint8_t msg_id[16],
                                           uint32_t attempts, int64_t next_at_ms);
/* Make every row of a contact due now (peer came back). */
KITH_NODISCARD int store_outbox_wake(struct store *st, int64_t contact_id);
/* KITH_OK, or KITH_ENOTFOUND when no such row (a duplicate ACK). */
KITH_NODISCARD int store_outbox_remove(struct store *st, const uint8_t msg_id[16]);
/* Earliest next_at_ms, or KITH_ENOTFOUND when the outbox is empty. */
KITH_NODISCARD int store_outbox_next_at(struct store *st, int64_t *next_at_ms);
void store_outbox_free(struct store_outbox *o, size_t n);


/* Repair replicas (DOMAIN.md §2.5; core/store_repair.c), sealed per contact and repair id: the
 * serialised replica (repair_serialize bytes, opaque here), or, after the person chose "keep
 * only the agreement", that text alone. The engine keeps at most one open row per contact.
 * deadline: unix seconds of the replica's next timer, 0 = none. Results are copies: release
 * them with store_repair_clear (wipes). */
#define STORE_REPAIR_MAX 40960
#define STORE_REPAIR_TEXT_MAX 2048
#define STORE_REPAIR_DUE_MAX 16
struct store_repair {
    uint8_t repair_id[16];
    int64_t contact_id;
    bool is_open;
    int64_t deadline;
    uint8_t *state; /* NULL when only the agreement is kept */
    size_t state_len;
    char *agreement; /* NULL unless only the agreement is kept */
};
struct store_repair_ref {
    int64_t contact_id;
    uint8_t repair_id[16];
};
/* Insert or replace a replica (KITH_ENOTFOUND: the id belongs to another contact). */
KITH_NODISCARD int store_repair_put(struct store *st, int64_t contact_id,
                                    const uint8_t repair_id[16], bool is_open, int64_t deadline,
                                    const uint8_t *state, size_t len);
/* The contact's open replica, else (open_only false) the most recently changed one. */
KITH_NODISCARD int store_repair_latest(struct store *st, int64_t contact_id, bool open_only,
                                       struct store_repair *r);
KITH_NODISCARD int store_repair_get(struct store *st, int64_t contact_id,
                                    const uint8_t repair_id[16], struct store_repair *r);
/* A closed replica shrinks to its agreement text ("Keep only the agreement"). */
KITH_NODISCARD int store_repair_keep_agreement(struct store *st, int64_t contact_id,
                                               const uint8_t repair_id[16],
                                               const char *agreement);
/* "Delete my copy". KITH_ENOTFOUND when no such row. */
KITH_NODISCARD int store_repair_delete(struct store *st, int64_t contact_id,
                                       const uint8_t repair_id[16]);
/* Open replicas whose timer is due (0 < deadline <= now_s), earliest first. */
KITH_NODISCARD int store_repair_due(struct store *st, int64_t now_s,
                                    struct store_repair_ref out[STORE_REPAIR_DUE_MAX], size_t *n);
/* Earliest timer of the open replicas; KITH_ENOTFOUND when none is set. */
KITH_NODISCARD int store_repair_next_deadline(struct store *st, int64_t *at);
void store_repair_clear(struct store_repair *r); /* NULL-safe */

/* Circles (core/store_circle.c; schema migration 2). A circle row holds its name (sealed, unique
 * case-insensitively through a keyed hash), its op log (sealed, opaque here: circle_log bytes)
 * and our own sender key (sealed, opaque: circle_sender_serialize bytes). Member and sender ids
 * are stored only as keyed hashes; callers pass the 16-byte member ids. Results are copies:
 * buffers from malloc, freed with store_blob_free (wipes). */
enum store_circle_state {
    STORE_CIRCLE_ACTIVE = 0,
    STORE_CIRCLE_LEFT = 1,    /* we left */
    STORE_CIRCLE_REMOVED = 2, /* an admin removed us */
    STORE_CIRCLE_JOINING = 3, /* we accepted a circle invite; the welcome has not come yet */
};
#define STORE_CIRCLE_OPS_MAX 65536
struct store_circle {
    int64_t id;
    uint8_t circle_id[16];
    char name[KITH_STORE_NAME_BUF];
    int state; /* enum store_circle_state */
    int64_t created_at;
};
void store_blob_free(uint8_t *buf, size_t len); /* wipes, then frees; NULL-safe */
/* KITH_EEXISTS when the name (case-insensitively) or circle_id is taken. Sets c->id. */
KITH_NODISCARD int store_circle_add(struct store *st, struct store_circle *c, const uint8_t *ops,
                                    size_t ops_len);
KITH_NODISCARD int store_circle_by_name(struct store *st, const char *name,
                                        struct store_circle *c);
KITH_NODISCARD int store_circle_by_cid(struct store *st, const uint8_t circle_id[16],
                                       struct store_circle *c);
/* All circles ordered by name; *out malloc'd (free()). */
KITH_NODISCARD int store_circles_list(struct store *st, struct store_circle **out, size_t *n);
KITH_NODISCARD int store_circle_set_state(struct store *st, int64_t circle, int state);
/* Rename (KITH_EEXISTS if taken). */
KITH_NODISCARD int store_circle_rename(struct store *st, int64_t circle, const char *name);
KITH_NODISCARD int store_circle_ops_get(struct store *st, int64_t circle, uint8_t **ops,
                                        size_t *len);
KITH_NODISCARD int store_circle_ops_set(struct store *st, int64_t circle, const uint8_t *ops,
                                        size_t len);
/* Our sender key: get KITH_ENOTFOUND when none is set; set with len 0 clears. */
KITH_NODISCARD int store_circle_own_key_get(struct store *st, int64_t circle, uint8_t **key,
                                            size_t *len);
KITH_NODISCARD int store_circle_own_key_set(struct store *st, int64_t circle, const uint8_t *key,
                                            size_t len);

/* Receiving chains per (circle, epoch, sender, gen): state is opaque (circle_chain bytes).
 * put inserts or replaces. get: KITH_ENOTFOUND when none. purge deletes chains of epochs below
 * min_epoch and chains created before created_before (0: no age limit). */
#define STORE_CHAIN_MAX (1u << 20)
KITH_NODISCARD int store_chain_put(struct store *st, int64_t circle, uint32_t epoch,
                                   const uint8_t sender[16], uint32_t gen, int64_t created_at,
                                   const uint8_t *state, size_t len);
KITH_NODISCARD int store_chain_get(struct store *st, int64_t circle, uint32_t epoch,
                                   const uint8_t sender[16], uint32_t gen, uint8_t **state,
                                   size_t *len);
KITH_NODISCARD int store_chain_purge(struct store *st, int64_t circle, uint32_t min_epoch,
                                     int64_t created_before);

/* The mesh store: every signed, sealed circle frame a member holds, to serve to the others.
 * Keyed by (circle, epoch, sender, seq); msg_id unique. verified: its signature was checked
 * (only verified frames are served). add: KITH_EEXISTS when (circle, epoch, sender, seq) or the
 * msg_id is already held. */
struct store_cframe {
    int64_t circle;
    uint32_t epoch;
    uint8_t sender[16];
    uint64_t seq;
    uint8_t msg_id[16];
    bool verified;
    int64_t expires_at;
    uint8_t *frame; /* malloc'd in results */
    size_t frame_len;
};
KITH_NODISCARD int store_cframe_add(struct store *st, const struct store_cframe *f);
bool store_cframe_has(struct store *st, int64_t circle, uint32_t epoch, const uint8_t sender[16],
                      uint64_t seq);
KITH_NODISCARD int store_cframe_set_verified(struct store *st, const uint8_t msg_id[16]);
/* Drop an unverified frame whose signature turned out bad once its key came (a forgery that
 * held a sequence number): the real one is then fetched again. KITH_ENOTFOUND when there is no
 * such unverified frame. */
KITH_NODISCARD int store_cframe_forget(struct store *st, const uint8_t msg_id[16]);
/* Frames of (circle, epoch, sender) with seq > after, ascending, at most max; verified_only
 * skips the unverified. */
KITH_NODISCARD int store_cframe_range(struct store *st, int64_t circle, uint32_t epoch,
                                      const uint8_t sender[16], uint64_t after, size_t max,
                                      bool verified_only, struct store_cframe **out, size_t *n);
/* Unverified frames of one (circle, epoch, sender) — waiting for a sender key. */
KITH_NODISCARD int store_cframe_unverified(struct store *st, int64_t circle, uint32_t epoch,
                                           const uint8_t sender[16], struct store_cframe **out,
                                           size_t *n);
/* Our have-vector: for each (epoch >= min_epoch, sender) held, the highest seq such that every
 * seq from 1 to it is held (verified or not), in (epoch, sender member_id) order. Senders are
 * given back as member ids: the caller passes the candidate member ids (the circle's members of
 * any kept epoch) since the table holds only keyed hashes. */
struct store_hwm {
    uint32_t epoch;
    uint8_t sender[16];
    uint64_t hwm;
};
KITH_NODISCARD int store_cframe_hwms(struct store *st, int64_t circle, uint32_t min_epoch,
                                     const uint8_t (*senders)[16], size_t nsenders,
                                     struct store_hwm **out, size_t *n);
/* Delete frames whose expires_at <= now_s (retention); *deleted counts them. */
KITH_NODISCARD int store_cframe_expire(struct store *st, int64_t now_s, size_t *deleted);
void store_cframes_free(struct store_cframe *f, size_t n);

/* What each member told us it holds (their SYNC_HAVE), for "delivered": set keeps the max. */
KITH_NODISCARD int store_chave_set(struct store *st, int64_t circle, const uint8_t member[16],
                                   uint32_t epoch, const uint8_t sender[16], uint64_t hwm);
/* The lowest hwm for (epoch, sender) over the given members (0 when any has told nothing). */
KITH_NODISCARD int store_chave_min(struct store *st, int64_t circle, uint32_t epoch,
                                   const uint8_t sender[16], const uint8_t (*members)[16],
                                   size_t nmembers, uint64_t *min);

/* Circle history. kind: the envelope type (ENVELOPE_TEXT, _CHECKIN, _SUPPORT, _SUPPORT_REPLY).
 * Display order is (lamport, msg_id): identical on every member. body holds the sender's
 * member id and the payload, sealed. */
struct store_cmsg {
    uint8_t msg_id[16];
    int64_t circle;
    bool outgoing;
    uint8_t sender[16];
    uint32_t epoch;
    uint64_t seq;
    uint64_t lamport;
    int64_t ts_ms;   /* the sender's clock */
    int64_t recv_ms; /* ours: when it was committed here (when sent, for our own) */
    int kind;
    int state; /* enum store_msg_state: QUEUED/SENT/DELIVERED for ours, RECEIVED for theirs */
    uint8_t *payload; /* malloc'd in results, NUL after it */
    size_t payload_len;
};
/* KITH_EEXISTS when msg_id is present. */
KITH_NODISCARD int store_cmsg_add(struct store *st, const struct store_cmsg *m);
KITH_NODISCARD int store_cmsg_get(struct store *st, const uint8_t msg_id[16], struct store_cmsg *m);
/* The last `limit` (0 = all) of a circle, oldest first; before_lamport > 0 pages back. */
KITH_NODISCARD int store_cmsg_log(struct store *st, int64_t circle, size_t limit,
                                  uint64_t before_lamport, struct store_cmsg **out, size_t *n);
KITH_NODISCARD int store_cmsg_set_state(struct store *st, const uint8_t msg_id[16], int state);
/* Our messages of (circle, epoch) with seq <= upto and state below DELIVERED become DELIVERED;
 * *changed counts them. */
KITH_NODISCARD int store_cmsg_delivered_upto(struct store *st, int64_t circle, uint32_t epoch,
                                             uint64_t upto, size_t *changed);
void store_cmsgs_free(struct store_cmsg *m, size_t n); /* frees the array too */
void store_cmsg_clear(struct store_cmsg *m); /* one result of store_cmsg_get; NULL-safe */

/* 1:1 frames we carry for someone else (store-and-forward), sealed; route is the recipient's
 * member id (kept as a keyed hash). add: KITH_EEXISTS when msg_id is held. */
struct store_relay {
    uint8_t msg_id[16];
    int64_t expires_at;
    uint8_t *frame; /* malloc'd in results: the whole RELAY frame as it will be forwarded */
    size_t frame_len;
};
#define STORE_RELAY_PER_ROUTE_MAX 10000
KITH_NODISCARD int store_relay_add(struct store *st, const uint8_t route[16],
                                   const uint8_t msg_id[16], int64_t expires_at,
                                   const uint8_t *frame, size_t frame_len);
/* Frames for route, oldest first, at most max. */
KITH_NODISCARD int store_relay_for(struct store *st, const uint8_t route[16], size_t max,
                                   struct store_relay **out, size_t *n);
KITH_NODISCARD int store_relay_count(struct store *st, const uint8_t route[16], size_t *n);
/* KITH_OK or KITH_ENOTFOUND. */
KITH_NODISCARD int store_relay_remove(struct store *st, const uint8_t msg_id[16]);
KITH_NODISCARD int store_relay_expire(struct store *st, int64_t now_s, size_t *deleted);
void store_relays_free(struct store_relay *r, size_t n);

/* Circle invites: the circle an issued invite joins (zeros: a 1:1 invite). */
KITH_NODISCARD int store_invite_set_circle(struct store *st, uint32_t invite_id,
                                           const uint8_t circle_id[16]);
KITH_NODISCARD int store_invite_get_circle(struct store *st, uint32_t invite_id,
                                           uint8_t circle_id[16]);

/* Disappearing messages and moving addresses (core/store_retention.c; schema 3). */
/* The retention agreement of one contact: seconds in force (stored clear, for stamping
 * messages) and the agreement state (core/retention.h bytes, opaque here, sealed). get copies
 * the state into buf (cap bytes): KITH_ENOTFOUND when none is stored, KITH_ETOOBIG when it
 * does not fit. */
#define STORE_RETENTION_MAX 1024
KITH_NODISCARD int store_retention_put(struct store *st, int64_t contact_id, uint32_t seconds,
                                       const uint8_t *state, size_t len);
KITH_NODISCARD int store_retention_get(struct store *st, int64_t contact_id, uint8_t *buf,
                                       size_t cap, size_t *len);
/* The seconds in force for a contact: 0 when none was agreed. */
KITH_NODISCARD int store_retention_seconds(struct store *st, int64_t contact_id,
                                           uint32_t *seconds);
/* The seq of the last endpoint record applied from a contact (0: none) and its update. */
KITH_NODISCARD int store_endpoint_seq_get(struct store *st, int64_t contact_id, uint64_t *seq);
KITH_NODISCARD int store_endpoint_seq_set(struct store *st, int64_t contact_id, uint64_t seq);
/* When a message disappears (unix seconds; 0 = kept). set: KITH_ENOTFOUND for no such
 * message. get: *at 0 when it is kept. */
KITH_NODISCARD int store_msg_set_delete_at(struct store *st, const uint8_t msg_id[16],
                                           int64_t at);
KITH_NODISCARD int store_msg_delete_at(struct store *st, const uint8_t msg_id[16], int64_t *at);
/* The earliest delete_at of a message that may go (none still waits in the outbox);
 * KITH_ENOTFOUND when none. */
KITH_NODISCARD int store_msg_next_delete(struct store *st, int64_t *at);
/* Delete the messages whose delete_at <= now_s, except those still in the outbox (they go
 * once delivered or expired); *deleted counts them. */
KITH_NODISCARD int store_msg_delete_due(struct store *st, int64_t now_s, size_t *deleted);
/* Copy the WAL into the database and truncate it (after deletes, so removed content leaves
 * the -wal file too). KITH_ESTATE inside a transaction; KITH_EBUSY when a reader holds it. */
KITH_NODISCARD int store_checkpoint(struct store *st);

#endif
