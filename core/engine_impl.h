/*
 * engine internals shared by engine.c (lifecycle, loop, control socket,
 * verbs) and engine_recv.c (incoming frames, group commit, acknowledgements).
 * Not a public header.
 */
#ifndef KITH_CORE_ENGINE_IMPL_H
#define KITH_CORE_ENGINE_IMPL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/identity.h"
#include "core/limits.h"
#include "core/store.h"
#include "net/transport.h"

#define ENGINE_EVENTS_MAX 256
#define ENGINE_PATH_MAX 4096

/* What the engine keeps in memory of each contact: enough to answer ZAP
 * without SQL and to route frames. Rebuilt from the store at start and on
 * every contact change. */
struct engine_peer {
    int64_t contact_id;
    uint8_t member_id[IDENTITY_MEMBER_ID];
    uint8_t tk[32];
    char name[ENGINE_NAME_BUF];
    char endpoint[ENGINE_ENDPOINT_BUF];
    bool pending;
    bool blocked; /* our block rule is in force: ZAP refuses them, frames are dropped */
};

/* The crypto state one transaction touches (core/engine_txn.c). */
struct session;
struct frame;
struct envelope;
struct circle_chain;
struct circle_state;
struct sync_vec;
struct engine_txn_session {
    int64_t contact_id;
    struct session *s;
    bool dirty;
    bool saved;                     /* written by engine_txn_save: tag is the stored copy's */
    uint8_t tag[STORE_SESSION_TAG]; /* see store_session_load_tagged */
};
struct engine_txn_chain {
    int64_t circle;
    uint32_t epoch;
    uint8_t sender[16];
    uint32_t gen;
    struct circle_chain *chain;
    bool dirty;
};
struct engine_txn {
    struct engine_txn_session *sessions;
    size_t nsessions;
    size_t cap;
    struct engine_txn_chain *chains;
    size_t nchains;
    size_t chain_cap;
    bool sealed;        /* outbox rows were written: flush after COMMIT */
    bool reload_peers;  /* contacts changed: reload after COMMIT */
    bool reload_circles; /* circles changed: reload after COMMIT */
};

/* What the engine keeps in memory of each circle (core/engine_circle.c): the resolved
 * membership and what we hold of its frames, for routing, relaying and anti-entropy. */
struct engine_circle {
    int64_t id;
    uint8_t circle_id[16];
    int state; /* enum store_circle_state */
    struct circle_state *st;
    struct sync_vec *held;
    bool has_news; /* frames arrived since the last HAVE announcement */
};

/* One frame waiting for the next group commit. */
struct engine_inframe {
    struct transport_origin origin;
    uint8_t *buf;
    size_t len;
};

struct recv_batch; /* engine_recv.c */

struct engine {
    char home[ENGINE_PATH_MAX];
    int lock_fd;
    struct store *st;
    struct identity *id;
    uint8_t member_id[IDENTITY_MEMBER_ID];
    char name[ENGINE_NAME_BUF];
    char listen[ENGINE_ENDPOINT_BUF];
    /* What we put in invites, cards and circle ops: the "advertise" setting (an onion
     * service's address, say) when set, else listen. */
    char publish[ENGINE_ENDPOINT_BUF];

    struct engine_peer *peers;
    size_t npeers;

    size_t open_invites;
    int64_t invites_checked_ms;
    int64_t zap_window_start_ms;
    unsigned zap_invitees_in_window;

    struct transport *tp;
    void *ctl_ctx;
    void *ctl;
    bool started;
    bool stop;
    int sig_pipe[2];

    int watch_fd;
    void (*on_ready)(void *ctx);
    void *ready_ctx;
    void (*idle)(void *ctx);
    void *idle_ctx;
    void (*on_batch)(void *ctx);
    void *on_batch_ctx;

    struct engine_inframe batch[KITH_GROUP_COMMIT];
    size_t nbatch;
    struct recv_batch *rb; /* engine_process_batch's scratch (engine_recv.c), kept */

    struct engine_event events[ENGINE_EVENTS_MAX];
    size_t ev_head;
    size_t ev_count;

    uint64_t rejected;

    /* Unsealed sessions kept across transactions (core/engine_txn.c), each with the tag of
     * the stored copy it equals; the store stays authoritative (a changed tag reloads). */
    struct engine_txn_session *sess_cache;
    size_t nsess_cache;
    size_t sess_cache_cap;

    struct engine_circle *circles;
    size_t ncircles;
    int64_t sync_next_ms;     /* next anti-entropy round */
    int64_t announce_at_ms;   /* a debounced HAVE announcement is due (0: none) */
    int64_t sync_ivl_ms;
    int64_t seen_prune_s; /* when the ids seen are next pruned (core/engine_retention.c) */

    /* engine_send's hand-overs not written yet (core/engine_send.c): each frame that went
     * out makes its message "sent", each refused one waits for its peer. Written at the start
     * of the next transaction (mostly the one that takes the acknowledgement), else by
     * engine_notes_flush once they are KITH_NOTE_DELAY_MS old. Lost in a crash or with a
     * transaction rolled back, a message stays "queued" until its acknowledgement makes it
     * "delivered", and a refused frame is tried at its stored next time. */
    struct engine_note *notes;
    size_t nnotes;
    size_t notes_cap;
    int64_t notes_since_ms;
};

struct engine_note {
    int64_t contact_id;
    uint8_t msg_id[16];
    bool sent;
    bool history;
    int64_t wait_ms; /* refused: how long it waits */
};

#define KITH_NOTE_DELAY_MS 50
/* Inside an open transaction: write the pending hand-overs. */
void engine_notes_apply(struct engine *e);
/* A message was acknowledged: its pending hand-over need not be written. */
void engine_notes_forget(struct engine *e, const uint8_t msg_id[16]);
/* In a transaction of their own when due (force: now); the ms until they are (-1: none). */
void engine_notes_flush(struct engine *e, bool force);
int64_t engine_notes_next_ms(const struct engine *e);

int64_t engine_now_ms(void);
/* "tcp://HOST:*" -> "tcp://HOST:PORT" with a free port; others checked and copied. */
KITH_NODISCARD int engine_resolve_listen(const char *listen, char out[ENGINE_ENDPOINT_BUF]);
/* home + "/" + leaf into out: KITH_OK or KITH_EINVAL (too long). */
KITH_NODISCARD int engine_path(char *out, size_t cap, const char *home, const char *leaf);
/* Take the profile lock (home/lock, created 0600): KITH_EBUSY if an engine holds it,
 * KITH_ENOTFOUND if home does not exist. */
KITH_NODISCARD int engine_lock(const char *home, int *fd_out);
/* engine_profile.c: the personal settings (crisis_line, my_people, country). */
bool engine_config_is_personal(const char *key);
KITH_NODISCARD int engine_config_set_personal(struct engine *e, const char *key,
                                              const char *value);
void engine_emit(struct engine *e, enum engine_event_kind kind, const char *contact,
                 const uint8_t *msg_id);
struct engine_peer *engine_peer_by_member(struct engine *e, const uint8_t member_id[16]);
struct engine_peer *engine_peer_by_contact(struct engine *e, int64_t contact_id);
struct engine_peer *engine_peer_by_tk(struct engine *e, const uint8_t tk[32]);
KITH_NODISCARD int engine_reload_peers(struct engine *e);
/* Hand due outbox rows of one contact (0: all) to the network. */
void engine_flush(struct engine *e, int64_t contact_id);
/* Process every frame gathered in e->batch in one transaction, then ACK. */
void engine_process_batch(struct engine *e);
/* engine_close: the receive scratch engine_process_batch keeps between batches. */
void engine_recv_free(struct engine *e);
/* Test builds: KITH_CRASH_AT=point:n makes the n-th pass through point _exit(137). */
void engine_crash_point(const char *point);
/* engine_boundary.c: the receiver's boundaries (DOMAIN.md §3). */
struct boundary_verdict;
struct envelope;
/* Is a block in force for this contact now (for engine_reload_peers)? */
bool engine_boundary_blocked(struct engine *e, int64_t contact_id);
/* Judge an incoming text message (inside the batch transaction); *v is always written.
 * A contact with no rules stored gets SHOW. */
KITH_NODISCARD int engine_boundary_judge(struct engine *e, int64_t contact_id, uint16_t flags,
                                         const char *text, size_t text_len,
                                         struct boundary_verdict *v);
/* engine_process_batch: on at the start of a batch, off at its end (frees what it kept).
 * While on, the judge reads our rules, the clock and the counters once per contact. */
void engine_boundary_batch(struct engine *e, bool on);
/* A judged message of contact_id was stored visible at visible_at (in the batch transaction):
 * the batch's counters count it. */
void engine_boundary_note_visible(struct engine *e, int64_t contact_id, int64_t visible_at);
/* Apply a verdict to a store_msg about to be added (state, release, reason, visibility). */
void engine_boundary_apply(const struct boundary_verdict *v, int64_t now_s, struct store_msg *m);
/* Sender side: an ENVELOPE_RECEIPT (delivered + what the boundaries did) and a boundary
 * notice (their told rules). Both inside the batch transaction. */
/* One acknowledged message (id, what the receiver's boundaries did, when): the outbox row
 * goes, the history row becomes delivered. true when it was an update that is itself to be
 * acknowledged (a consent answer). */
bool engine_boundary_receipt(struct engine *e, const struct engine_peer *p, const uint8_t id[16],
                             int tell, int64_t at);
/* A receipt's time as recorded: only "held until" and "digest at" have one. */
int64_t engine_receipt_at(int tell, int64_t at);
/* engine_boundary_receipt for a FRAME_ACK entry; *texts_left: it acknowledged a TEXTS
 * frame's first text, and the caller settles the frame's other texts (their own entries with
 * engine_boundary_text_receipt, then store_msg_texts_follow for the rest). */
void engine_boundary_frame_receipt(struct engine *e, const struct engine_peer *p,
                                   const uint8_t id[16], int tell, int64_t at, bool *texts_left);
/* A receipt of its own for a text of a TEXTS frame of ours other than its first (that one's
 * receipt made them all delivered): what the receiver's boundaries did with this one. */
void engine_boundary_text_receipt(struct engine *e, const struct engine_peer *p,
                                  const uint8_t id[16], int tell, int64_t at);
/* engine_boundary_receipts: true when the receipt frame itself is to be acknowledged (it
 * updates what an already acknowledged message of ours was told: a consent answer). */
bool engine_boundary_receipts(struct engine *e, const struct engine_peer *p,
                              const struct envelope *env);
KITH_NODISCARD int engine_boundary_notice(struct engine *e, const struct engine_peer *p,
                                          const struct envelope *env);
/* Milliseconds until the next held message is due (-1: none), for the poll timeout. */
int64_t engine_boundary_next_ms(struct engine *e);
/* Release what is due (every loop pass; cheap when nothing is held). */
void engine_boundary_run_due(struct engine *e);
/* Rule names in force for a contact ("quiet,rate"), "" when none. */
void engine_boundary_names(struct engine *e, int64_t contact_id, char *buf, size_t cap);
/* Fill the boundary fields of a history entry; blanks the text of held, folded and
 * awaiting_consent incoming messages. */
void engine_boundary_describe(const struct store_msg *sm, struct engine_msg *m);
/* Emit with an explicit notify flag (engine_emit notifies). */
void engine_emit_notify(struct engine *e, enum engine_event_kind kind, const char *contact,
                        const uint8_t *msg_id, bool notify);
/* engine_verbs.c: seal one envelope for c and commit it with the advanced session (m NULL:
 * a control message with no history row). */
KITH_NODISCARD int engine_seal_and_queue(struct engine *e, const struct store_contact *c,
                                         struct envelope *env, struct store_msg *m,
                                         uint8_t msg_id[16]);

/* engine_verbs.c: the inside of engine_seal_and_queue, for callers that commit more rows in
 * the same transaction (engine_repair.c: the replica). s is advanced in memory. */
KITH_NODISCARD int engine_seal_locked(struct engine *e, const struct store_contact *c,
                                      struct session *s, struct envelope *env,
                                      struct store_msg *m, uint8_t msg_id[16]);
/* engine_repair.c: apply a received step inside the batch transaction. KITH_OK also when the
 * step is stale, replayed or refused (acknowledged, not applied); errors only from the store. */
KITH_NODISCARD int engine_repair_receive(struct engine *e, const struct engine_peer *p,
                                         const struct envelope *env, int64_t *held_until);
/* engine_repair.c: steps held by quiet hours or snooze (DOMAIN.md §2.5). receive sets
 * *held_until when the step waits: the time the receipt tells, or -1 (tell=off: "delivered").
 * release_held applies the due ones of contact_id (0: all), or re-judges every one of
 * contact_id (force) after a rule change. KITH_EAGAIN from receive: no room to hold it; leave
 * it unacknowledged. */
KITH_NODISCARD int engine_repair_release_held(struct engine *e, int64_t contact_id, bool force);
/* engine_boundary.c: the time hold (quiet hours, snooze; a block hides for an hour) our rules
 * put on a non-message frame of contact_id's now: *release_at 0 when none; *tell_at what the
 * receipt may say (0: delivered, when the rule has tell=off). */
KITH_NODISCARD int engine_boundary_time_hold(struct engine *e, int64_t contact_id,
                                             int64_t *release_at, int64_t *tell_at);
/* Milliseconds until the next repair timer (-1: none); emit the steps that are due. */
int64_t engine_repair_next_ms(struct engine *e);
void engine_repair_run_due(struct engine *e);

/* ---- engine_txn.c ---- */
void engine_txn_init(struct engine_txn *t);
/* The contact's session, loaded once per transaction; NULL when it has none. */
struct session *engine_txn_session(struct engine *e, struct engine_txn *t, int64_t contact_id);
/* Take ownership of a new session (dirty). */
void engine_txn_adopt(struct engine_txn *t, int64_t contact_id, struct session *s);
/* Drop a session from the transaction without saving it. */
void engine_txn_forget(struct engine_txn *t, int64_t contact_id);
void engine_txn_dirty(struct engine_txn *t, int64_t contact_id);
/* Put a session back to a serialised earlier state. */
KITH_NODISCARD int engine_txn_restore(struct engine_txn *t, int64_t contact_id,
                                      const uint8_t *snap, size_t len);
/* Seal one envelope for a contact with the transaction's session and write its outbox row
 * (and history row when m != NULL). KITH_ESTATE when the contact has no session yet. */
KITH_NODISCARD int engine_txn_seal(struct engine *e, struct engine_txn *t, int64_t contact_id,
                                   struct envelope *env, struct store_msg *m, uint8_t msg_id[16]);
/* A circle receiving chain, loaded once per transaction; NULL when none is stored. */
struct circle_chain *engine_txn_chain(struct engine *e, struct engine_txn *t, int64_t circle,
                                      uint32_t epoch, const uint8_t sender[16], uint32_t gen);
void engine_txn_chain_put(struct engine_txn *t, int64_t circle, uint32_t epoch,
                          const uint8_t sender[16], uint32_t gen, struct circle_chain *chain,
                          bool dirty);
void engine_txn_chain_dirty(struct engine_txn *t, int64_t circle, uint32_t epoch,
                            const uint8_t sender[16], uint32_t gen);
/* Save every dirty session and chain (inside the transaction, before COMMIT). */
KITH_NODISCARD int engine_txn_save(struct engine *e, struct engine_txn *t);
/* After a successful COMMIT only: keep the saved sessions in e's session cache, so the next
 * transaction skips unsealing them (it still checks the stored copy's tag). */
void engine_txn_keep(struct engine *e, struct engine_txn *t);
void engine_txn_fini(struct engine_txn *t);
/* Wipe and free every cached session (engine_close). */
void engine_txn_cache_clear(struct engine *e);

/* ---- engine_circle*.c, engine_sync.c ---- */
/* Load every circle into e->circles (at open and after changes). */
KITH_NODISCARD int engine_circles_reload(struct engine *e);
void engine_circles_free(struct engine *e);
struct engine_circle *engine_circle_by_cid(struct engine *e, const uint8_t circle_id[16]);
/* Does contact share an active circle with us (relay authorisation)? */
bool engine_circle_shared(struct engine *e, const uint8_t member_id[16]);
/* Inside the batch transaction: a CIRCLE_MSG frame from peer p (the hop). */
KITH_NODISCARD int engine_circle_recv_frame(struct engine *e, struct engine_txn *t,
                                            const struct engine_peer *p, const struct frame *f,
                                            const uint8_t *raw, size_t raw_len);
/* Inside the batch transaction: circle envelopes that came over p's 1:1 session. KITH_OK
 * means "acknowledge it". */
KITH_NODISCARD int engine_circle_recv_env(struct engine *e, struct engine_txn *t,
                                          const struct engine_peer *p, const struct envelope *env);
/* After an INVITE_ACCEPT or CIRCLE_JOIN for a circle invite: add the new member (issue the ADD
 * op, welcome them, hand out keys), inside the transaction. */
KITH_NODISCARD int engine_circle_admit(struct engine *e, struct engine_txn *t, uint32_t invite_id,
                                       int64_t contact_id);
/* A SESSION_INIT from a contact we have no session with: an introduction by a circle admin.
 * Responds with our IKdh and the intro PSK and adopts the session into t. */
KITH_NODISCARD int engine_circle_intro_respond(struct engine *e, struct engine_txn *t,
                                               const struct engine_peer *p,
                                               const struct frame *f);
/* After an introduced session came up: send our sender keys of the circles we share. */
KITH_NODISCARD int engine_circle_intro_done(struct engine *e, struct engine_txn *t,
                                            int64_t contact_id);
/* engine_sync.c: SYNC_HAVE from p; RELAY and RELAY_DONE frames. */
void engine_sync_recv_have(struct engine *e, const struct engine_peer *p, const struct frame *f);
KITH_NODISCARD int engine_relay_recv(struct engine *e, const struct engine_peer *p,
                                     const struct frame *f);
void engine_relay_done_recv(struct engine *e, const struct engine_peer *p, const struct frame *f);
/* Our HAVE to one peer (reply: ask for theirs) for every circle we share with it. */
void engine_sync_hello(struct engine *e, const struct engine_peer *p, bool reply);
/* Timers: anti-entropy rounds and debounced announcements; ms until the next (-1: none). */
int64_t engine_sync_next_ms(struct engine *e);
void engine_sync_run_due(struct engine *e);
/* Push a sealed circle frame to every reachable member but `except` (NULL: none). */
void engine_circle_push(struct engine *e, const struct engine_circle *c, const uint8_t *frame,
                        size_t len, const uint8_t *except);
/* A 1:1 frame for contact p that has no live path: hand it to members who share a circle with
 * p and are reachable, wrapped as RELAY. */
void engine_relay_offer(struct engine *e, const struct engine_peer *p, const uint8_t *frame,
                        size_t len);
/* Frames we carry for p: forward them now that p is reachable. */
void engine_relay_forward(struct engine *e, const struct engine_peer *p);

/* engine_update.c: moving addresses. announce: at start, when our listen endpoint is not the
 * one last announced, queue a signed endpoint record to every contact, then remember it.
 * receive (inside the batch transaction): apply a contact's record if it verifies and is newer
 * than the last applied; *reload is set when their endpoints changed (re-point after COMMIT).
 * KITH_EMALFORMED for a record that is malformed or not signed by them. */
KITH_NODISCARD int engine_endpoint_announce(struct engine *e);
KITH_NODISCARD int engine_endpoint_receive(struct engine *e, const struct engine_peer *p,
                                           const struct envelope *env, bool *reload);
/* engine_retention.c: disappearing messages. receive: apply a retention step inside the batch
 * transaction (KITH_OK also when it is stale or ignored; KITH_EMALFORMED when malformed).
 * stamp: give a message just added to contact_id's conversation its delete_at, when a
 * retention is in force (inside the caller's transaction). next_ms / run_due: the deletion
 * timer (-1: nothing to delete); run_due deletes what is due and checkpoints the WAL.
 * delete_at: a stored message's delete_at (0: kept or unknown). */
KITH_NODISCARD int engine_retention_receive(struct engine *e, const struct engine_peer *p,
                                            const struct envelope *env);
KITH_NODISCARD int engine_retention_stamp(struct engine *e, int64_t contact_id,
                                          const uint8_t msg_id[16]);
/* The same for n texts of one frame: ids first .. first + n - 1 in their last byte (one
 * look-up of the agreement). */
KITH_NODISCARD int engine_retention_stamp_texts(struct engine *e, int64_t contact_id,
                                                const uint8_t first[16], size_t n);
int64_t engine_retention_next_ms(struct engine *e);
void engine_retention_run_due(struct engine *e);
int64_t engine_retention_delete_at(struct engine *e, const uint8_t msg_id[16]);

/* Retry delay after `attempts` sends: 1, 2, 4 ... 512 s plus 0-25 % jitter. */
int64_t engine_backoff_ms(uint32_t attempts);

#endif
