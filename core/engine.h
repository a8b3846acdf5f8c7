/*
 * engine: the one event loop of a kith peer and the verbs everything else
 * calls (DESIGN.md). It owns the profile lock, the unlocked store, the
 * identity, the transport and the control socket; it runs zmq_poll over the
 * transport's sockets, the control socket, a signal self-pipe and (for the
 * TUI) one extra file descriptor, and emits events. Nothing else in kith
 * touches a socket or runs SQL: tui/ and main.c use only this header.
 *
 * Strings returned in structs are copies owned by the caller unless a
 * comment says "borrowed".
 */
#ifndef KITH_CORE_ENGINE_H
#define KITH_CORE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define ENGINE_NAME_BUF 65
#define ENGINE_ID_HEX 33      /* 16-byte message id as hex + NUL */
#define ENGINE_FPR_BUF 36
#define ENGINE_SAFETY_BUF 72
#define ENGINE_ENDPOINT_BUF 97
#define ENGINE_INVITE_BUF 2048
#define ENGINE_BOUNDARY_NAMES 96 /* "block,mute,snooze,quiet,rate,ask-heavy,notes,..." + NUL */
#define ENGINE_BOUNDARY_TEXT 4096
#define ENGINE_NOTE_BUF 141 /* a check-in or support note (<= 140 bytes) + NUL */

struct engine;

/* Resolve the profile directory: arg, else $KITH_HOME, else
 * $XDG_DATA_HOME/kith, else ~/.local/share/kith. KITH_OK or KITH_EINVAL. */
KITH_NODISCARD int engine_home_resolve(const char *arg, char *out, size_t cap);

/* Does home hold a profile database? */
bool engine_profile_exists(const char *home);

/* Is an engine running on this profile (someone holds its lock)? */
bool engine_is_running(const char *home);

/* Create a profile: directory (0700), database sealed under pass, a fresh
 * identity named name, listening on listen (NULL: tcp://127.0.0.1:*; a port
 * of * is resolved to a free port now and kept). cost_min selects the
 * cheapest Argon2id parameters (tests only; recorded in the profile).
 * KITH_EEXISTS if a profile is already there. */
KITH_NODISCARD int engine_init_profile(const char *home, const char *name, const char *listen,
                                       const char *pass, size_t pass_len, bool cost_min);

/* Take the profile lock (KITH_EBUSY if an engine runs), unlock the store
 * (KITH_EPASSPHRASE, KITH_ENOTKITH, KITH_ENOTFOUND when no profile) and load
 * the identity. No sockets yet. */
KITH_NODISCARD int engine_open(const char *home, const char *pass, size_t pass_len,
                               struct engine **out);
/* Stop the network (if started), close the store and release the lock. NULL-safe. */
void engine_close(struct engine *e);

/* Start the network: transport (ZAP, ROUTER, self-test: KITH_ESELFTEST),
 * DEALERs for every contact, the control socket, signal handling for
 * SIGINT/SIGTERM. */
KITH_NODISCARD int engine_start(struct engine *e);
/* One pass of the loop: poll up to timeout_ms (-1: until the next timer),
 * dispatch, run due timers, then call the idle hook once. */
KITH_NODISCARD int engine_step(struct engine *e, int timeout_ms);
/* Loop until engine_stop or SIGINT/SIGTERM. */
KITH_NODISCARD int engine_run(struct engine *e);
void engine_stop(struct engine *e);
bool engine_stopping(const struct engine *e);

/* TUI hooks: watch one fd (stdin) and call on_ready when readable; call
 * idle once per loop pass after all work. Pass NULL to remove. */
void engine_watch_fd(struct engine *e, int fd, void (*on_ready)(void *ctx), void *ctx);
void engine_set_idle(struct engine *e, void (*idle)(void *ctx), void *ctx);
/* Called after each received batch is committed (its effects are in the store and its
 * acknowledgements are on their way), before the loop's timers run: a view or a benchmark
 * learns of delivery at the moment it is recorded. */
void engine_set_on_batch(struct engine *e, void (*on_batch)(void *ctx), void *ctx);

/* Who am I. */
struct engine_me {
    char name[ENGINE_NAME_BUF];
    char fingerprint[ENGINE_FPR_BUF];
    char endpoint[ENGINE_ENDPOINT_BUF];
    bool online; /* network started */
};
KITH_NODISCARD int engine_me(struct engine *e, struct engine_me *me);

/* A new one-time invite code valid for ttl_s (0: 48 h; at most 7 days). */
KITH_NODISCARD int engine_invite(struct engine *e, uint32_t ttl_s, char code[ENGINE_INVITE_BUF]);
/* Accept a code: add the contact (named as_name, else the inviter's own
 * name) and queue the handshake; it completes when both are online.
 * name_out gets the contact's name. KITH_EEXPIRED, KITH_EMALFORMED,
 * KITH_ECRYPTO, KITH_EEXISTS (name taken: use as_name). */
KITH_NODISCARD int engine_accept(struct engine *e, const char *code, const char *as_name,
                                 char name_out[ENGINE_NAME_BUF]);

struct engine_contact {
    char name[ENGINE_NAME_BUF];
    char fingerprint[ENGINE_FPR_BUF];   /* their half */
    char safety[ENGINE_SAFETY_BUF];     /* the number both sides compare */
    bool online;
    bool verified;
    bool pending;  /* handshake not yet answered */
    int trust;     /* 0..3 */
    size_t queued; /* our messages to them not yet delivered */
    char boundaries[ENGINE_BOUNDARY_NAMES]; /* rule names in force, "quiet,rate"; "" = none */
    size_t n_endpoints; /* where we reach them; kept up to date by their endpoint records */
    char endpoints[4][ENGINE_ENDPOINT_BUF];
};
/* All contacts by name; *out malloc'd (free()). */
KITH_NODISCARD int engine_contacts(struct engine *e, struct engine_contact **out, size_t *n);
KITH_NODISCARD int engine_contact(struct engine *e, const char *name, struct engine_contact *c);
KITH_NODISCARD int engine_rename(struct engine *e, const char *name, const char *new_name);
KITH_NODISCARD int engine_set_verified(struct engine *e, const char *name, bool verified);

/* Send text to a contact: sealed once, committed to the outbox with the
 * ratchet state, then handed to the network. id_out gets the message id.
 * KITH_ENOTFOUND (no such contact), KITH_ETOOBIG, KITH_EINVAL (empty or not UTF-8). */
#define ENGINE_SEND_HEAVY 1u
#define ENGINE_SEND_URGENT 2u
KITH_NODISCARD int engine_send(struct engine *e, const char *target, const char *text,
                               unsigned flags, char id_out[ENGINE_ID_HEX]);

/* Send many texts at once (`kith send --each`, a script, the benchmark): sealed in order,
 * up to KITH_TEXTS_MAX per frame, and committed KITH_SEND_CHUNK at a time. ids (NULL, or n
 * of them) gets each one's id. KITH_OK when all are queued; on an error, the ones before it
 * are queued (their ids are filled in, the rest left empty). */
KITH_NODISCARD int engine_send_batch(struct engine *e, const char *target,
                                     const char *const *texts, size_t n, unsigned flags,
                                     char (*ids)[ENGINE_ID_HEX]);

struct engine_msg {
    char id[ENGINE_ID_HEX];
    char from[ENGINE_NAME_BUF];
    bool outgoing;
    char *text; /* malloc'd */
    int64_t ts_ms;
    uint64_t lamport;
    const char *state; /* static: queued, sent, delivered, received, held, folded,
                          awaiting_consent, expired */
    int64_t release_at;
    /* Boundaries. Incoming held, folded and awaiting_consent messages carry text "" here (the
     * content would break the boundary); engine_show / engine_consent open them. */
    bool is_heavy;
    bool is_digest;            /* held into (or released as part of) a rate digest */
    const char *folded_reason; /* static: "notes", "content_warning", "heavy", or NULL */
    const char *note;          /* static kind sentence for held/folded/asking, or NULL */
    const char *told;          /* outgoing: "delivered", "held_until", "awaiting_consent",
                                  "digest_at" from the receiver's receipt, or NULL */
    int64_t arrives_at;        /* outgoing, told held_until / digest_at: when (unix seconds) */
    int64_t delete_at;         /* disappearing messages: when it is deleted (unix s); 0 = kept */
    /* Circles: what kind of message (static: "text", "checkin", "support", "support_reply"),
     * the epoch it was sent in, and when it was committed here (ms). NULL kind: 1:1. */
    const char *kind;
    uint32_t epoch;
    int64_t received_ms;
    char reply_to[ENGINE_ID_HEX]; /* support_reply: the signal it answers */
    /* A check-in ("checkin"): mood 0 (none) or 1 rough .. 5 good; the "with me" mask (seen 1,
     * safe 2, soothed 4, secure 8, stable 16); its note (also of a support signal), "" if none. */
    int mood;
    unsigned with_mask;
    char care_note[ENGINE_NOTE_BUF];
};
/* The last `limit` messages (0: all) of a conversation, oldest first;
 * before_lamport > 0 pages backwards. Free with engine_msgs_free. */
KITH_NODISCARD int engine_history(struct engine *e, const char *target, size_t limit,
                                  uint64_t before_lamport, struct engine_msg **out, size_t *n);
void engine_msgs_free(struct engine_msg *m, size_t n);
/* State name of one message by id (hex). */
KITH_NODISCARD int engine_msg_state(struct engine *e, const char *id_hex, const char **state);

/* Does pass unlock this profile? (The quick-lock screen.) Runs Argon2id:
 * blocks for up to a second. KITH_OK or KITH_EPASSPHRASE. */
KITH_NODISCARD int engine_check_passphrase(struct engine *e, const char *pass, size_t pass_len);

/* Profile settings: "listen" (an endpoint; used from the next start) and
 * "socks5" (HOST:PORT, or "off"). get: *value malloc'd. KITH_EINVAL for an
 * unknown key or a malformed value, KITH_ENOTFOUND when unset. */
KITH_NODISCARD int engine_config_get(struct engine *e, const char *key, char **value);
KITH_NODISCARD int engine_config_set(struct engine *e, const char *key, const char *value);
/* The personal settings kept sealed for the crisis screen (DOMAIN.md §5), also through
 * engine_config_get/set: "crisis_line" and "my_people" (free text, at most
 * ENGINE_PERSONAL_MAX bytes of UTF-8 without control characters; "" or "off" clears) and
 * "country" (two letters such as GB, stored upper-case, or "auto": from LC_ALL/LANG). */
#define ENGINE_PERSONAL_MAX 400

/* Profile housekeeping (core/engine_profile.c). */
/* Re-wrap the profile's key under a new passphrase in one transaction; sealed history is not
 * rewritten. cost_min as in engine_init_profile. KITH_EINVAL for an empty passphrase. */
KITH_NODISCARD int engine_change_passphrase(struct engine *e, const char *pass, size_t pass_len,
                                            bool cost_min);
/* A sealed snapshot of the whole profile in a new 0600 file at path; it opens with the
 * passphrase current now. KITH_EEXISTS if path exists (never overwritten). */
KITH_NODISCARD int engine_backup(struct engine *e, const char *path);
/* Restore a backup into home, which must hold no profile (KITH_EEXISTS; created 0700 when
 * missing). pass must open the backup: KITH_EPASSPHRASE, KITH_ENOTKITH (not a backup),
 * KITH_ENOTFOUND (no such file) leave nothing behind, not even a directory made here. */
KITH_NODISCARD int engine_restore(const char *backup, const char *home, const char *pass,
                                  size_t pass_len);
/* Overwrite kith's files in home with random bytes, remove them, then the directory itself
 * (*dir_removed false when it still holds files that are not kith's, which are left alone).
 * KITH_EBUSY while an engine runs, KITH_ENOTFOUND when home holds no profile. */
KITH_NODISCARD int engine_wipe(const char *home, bool *dir_removed);

/* Status-line figures. */
struct engine_status {
    size_t contacts_online;
    size_t queued;
    size_t held;
    uint64_t rejected; /* malformed, tampered or replayed frames set aside */
};
KITH_NODISCARD int engine_status(struct engine *e, struct engine_status *s);

/* Events for views, drained in the idle hook. */
enum engine_event_kind {
    ENGINE_EV_MESSAGE = 1,   /* a message arrived from contact */
    ENGINE_EV_STATE = 2,     /* one of our messages changed state (sent/delivered) */
    ENGINE_EV_CONTACT = 3,   /* a contact was added or completed its handshake */
    ENGINE_EV_PEER_UP = 4,
    ENGINE_EV_PEER_DOWN = 5,
    ENGINE_EV_REPAIR = 6,    /* a repair conversation with contact moved (either side) */
    ENGINE_EV_CIRCLE = 7,    /* a circle's membership changed (contact holds the circle name) */
    ENGINE_EV_CIRCLE_MESSAGE = 8, /* a circle message arrived (contact: the circle name) */
};
struct engine_event {
    enum engine_event_kind kind;
    char contact[ENGINE_NAME_BUF];
    char msg_id[ENGINE_ID_HEX];
    bool notify; /* false when the contact is muted (no sound, no bell) */
};
bool engine_next_event(struct engine *e, struct engine_event *ev);

/* Boundaries (DOMAIN.md §3): the rules we set for one contact, enforced by this engine.
 * set/clear apply rule words (boundary_rules_set / _clear syntax) all or nothing, store them
 * sealed, queue a boundary notice (the tell=on subset) to the contact, re-evaluate their held
 * messages at once and refresh the ZAP block list. On KITH_EINVAL *why is the evaluator's kind
 * sentence. summary (malloc'd) gets the plain-language text of what now happens, or NULL. */
KITH_NODISCARD int engine_boundary_set(struct engine *e, const char *contact,
                                       const char *const *rules, size_t n, const char **why,
                                       char **summary);
KITH_NODISCARD int engine_boundary_clear(struct engine *e, const char *contact,
                                         const char *const *rules, size_t n, const char **why,
                                         char **summary);
/* The rules for contact as plain language (json false) or boundary_rules_json; *out malloc'd. */
KITH_NODISCARD int engine_boundary_show(struct engine *e, const char *contact, bool json,
                                        char **out);
/* What the contact told us of their boundaries (their notice), in plain language; "" when they
 * told nothing. *out malloc'd. */
KITH_NODISCARD int engine_boundary_show_told(struct engine *e, const char *contact, char **out);
/* What rules would do, without saving: the plain-language summary of rules applied to an empty
 * set (the editor's live validation). KITH_OK with *out malloc'd, or KITH_EINVAL with *why. */
KITH_NODISCARD int engine_boundary_preview(const char *const *rules, size_t n, const char **why,
                                           char **out);
/* One kind line for the sender when the contact's boundary notice says a message sent now
 * would wait ("Sam has quiet hours now; your message will arrive at 08:00 their time (14:00
 * yours)."); "" when it would arrive now. */
KITH_NODISCARD int engine_send_preview(struct engine *e, const char *target, unsigned flags,
                                       char *line, size_t cap);
/* Answer the consent question of an awaiting_consent message (id as hex): yes shows it and
 * opens the consent window; later asks again at later_at (unix seconds); no keeps it folded
 * (engine_show opens it anytime). KITH_ENOTFOUND, KITH_ESTATE (not waiting for an answer). */
enum engine_consent { ENGINE_CONSENT_YES = 1, ENGINE_CONSENT_LATER = 2, ENGINE_CONSENT_NO = 3 };
KITH_NODISCARD int engine_consent(struct engine *e, const char *contact, const char *id_hex,
                                  enum engine_consent answer, int64_t later_at);
/* Unfold a folded message: *text malloc'd, and it is marked received. KITH_ESTATE when it is
 * held or waiting for consent (those open only by time or by engine_consent). */
KITH_NODISCARD int engine_show(struct engine *e, const char *contact, const char *id_hex,
                               char **text);

/* Repair conversations (DOMAIN.md §2; core/engine_repair.c). One open repair per contact.
 * act: take one step (event and fields set; the header is filled here). `invite` starts a new
 * conversation (KITH_EEXISTS when one is open); any other event goes to the open one
 * (KITH_ENOTFOUND when none). The state machine checks it against our replica; then it is
 * sealed once and committed with the replica and the outbox row in one transaction, and sent.
 * Refusals (KITH_ESTATE, KITH_EINVAL, ...) put the state machine's kind reason in why. */
struct repair;
struct repair_step;
#define ENGINE_REPAIR_WHY 256
#define ENGINE_REPAIR_JSON 8192
#define ENGINE_PRACTICE_MAX 60000
KITH_NODISCARD int engine_repair_act(struct engine *e, const char *contact,
                                     struct repair_step *step, char *why, size_t why_cap);
/* repair_status_json of the open repair with contact, else of the latest kept one. */
KITH_NODISCARD int engine_repair_status(struct engine *e, const char *contact, char *json,
                                        size_t cap);
/* A copy of that replica for views: *out to repair_destroy. KITH_ENOTFOUND when none. */
KITH_NODISCARD int engine_repair_load(struct engine *e, const char *contact, struct repair **out);
/* After close, each person chooses what stays on their device (DOMAIN.md §2.5).
 * KITH_ESTATE while it is still open; KITH_ENOTFOUND (agreement) when none was reached. */
enum engine_repair_keep {
    ENGINE_REPAIR_KEEP = 1,
    ENGINE_REPAIR_KEEP_AGREEMENT = 2,
    ENGINE_REPAIR_DELETE = 3,
};
KITH_NODISCARD int engine_repair_keep(struct engine *e, const char *contact,
                                      enum engine_repair_keep how);
/* `kith practice --save`: keep one practice transcript sealed in the profile. */
KITH_NODISCARD int engine_practice_save(struct engine *e, const char *transcript);

/* Disappearing messages (core/engine_retention.c): one retention per conversation, in force
 * only once both sides agree. From then on every message of the conversation, sent or received,
 * gets delete_at = the time it is committed here + the retention, and is deleted when due
 * (not before it has left the outbox: delivered or expired). Messages already stored keep
 * theirs; switching off stops stamping new ones. */
#define ENGINE_RETENTION_MAX (366u * 86400u)
struct engine_retention {
    uint32_t seconds;          /* in force; 0 = off */
    bool has_proposal;         /* a change waits for an answer */
    bool is_ours;              /* we proposed it (they answer); else they did (we answer) */
    uint32_t proposal_seconds; /* what the open proposal sets; 0 = off */
};
KITH_NODISCARD int engine_retention_get(struct engine *e, const char *contact,
                                        struct engine_retention *r);
/* Propose seconds (0 = off, else 1..ENGINE_RETENTION_MAX): sent to the contact and committed
 * with the proposal in one transaction; an open proposal of theirs is replaced by this one.
 * KITH_ENOTFOUND (no such contact), KITH_EINVAL (out of range), KITH_ESTATE (that is the
 * setting in force and nothing is open). */
KITH_NODISCARD int engine_retention_propose(struct engine *e, const char *contact,
                                            uint32_t seconds);
/* Accept (in force here at once) or decline their open proposal; the answer is sent.
 * KITH_ENOTFOUND (no such contact), KITH_ESTATE (no proposal of theirs is open). */
KITH_NODISCARD int engine_retention_answer(struct engine *e, const char *contact, bool accept);
/* "1 day", "10 minutes", "off". */
void engine_retention_text(uint32_t seconds, char *out, size_t cap);

/* Circles (core/engine_circle*.c). A circle is named "#name" or "name" in these verbs.
 * create: a new circle with us as its only member and admin (KITH_EEXISTS: name taken,
 * KITH_EINVAL: not a valid name: 1..64 bytes, no spaces, not starting with '#'). */
KITH_NODISCARD int engine_circle_create(struct engine *e, const char *name);
/* An invite code that adds its holder to the circle (admins only: KITH_ESTATE). */
KITH_NODISCARD int engine_circle_invite(struct engine *e, const char *name, uint32_t ttl_s,
                                        char code[ENGINE_INVITE_BUF]);
/* Remove a member (admins only), or leave: a signed op, a new epoch, new keys for those who
 * stay. KITH_ENOTFOUND (no such circle or member), KITH_ESTATE (not allowed). */
KITH_NODISCARD int engine_circle_remove(struct engine *e, const char *name, const char *contact);
KITH_NODISCARD int engine_circle_leave(struct engine *e, const char *name);
/* Make a member an admin too (admins only). leave is KITH_EBUSY for the last admin while
 * others stay: make someone else an admin first. */
KITH_NODISCARD int engine_circle_admin(struct engine *e, const char *name, const char *contact);
struct engine_circle_info {
    char name[ENGINE_NAME_BUF];
    size_t members;
    uint32_t epoch;
    const char *state; /* static: "active", "joining", "left", "removed" */
    bool admin;        /* we may add and remove people */
};
/* Every circle by name; *out malloc'd (free()). */
KITH_NODISCARD int engine_circles(struct engine *e, struct engine_circle_info **out, size_t *n);
struct engine_member {
    char name[ENGINE_NAME_BUF];
    char fingerprint[ENGINE_FPR_BUF];
    bool admin;
    bool online;
    bool me;
    bool pending; /* our 1:1 session with them is still being set up */
};
KITH_NODISCARD int engine_circle_members(struct engine *e, const char *name,
                                         struct engine_member **out, size_t *n);
/* Circle care (DOMAIN.md §4). A check-in: mood 0 (none) or 1 rough .. 5 good, with a mask of
 * seen/safe/soothed/secure/stable (1,2,4,8,16), an optional note (<= 140 bytes); at least one
 * of mood or with. A support signal: kind 0..5 (any, company, distraction, listening,
 * practical, presence), a note, expiring after ttl_s (0: 12 h). A reply to a signal: answer 1
 * here now, 2 later (at later_at), 3 sending care, 4 can't right now. Each is a circle message
 * (id_out gets its id). */
KITH_NODISCARD int engine_circle_checkin(struct engine *e, const char *name, int mood,
                                         unsigned with, const char *note,
                                         char id_out[ENGINE_ID_HEX]);
KITH_NODISCARD int engine_circle_support(struct engine *e, const char *name, int kind,
                                         const char *note, uint32_t ttl_s,
                                         char id_out[ENGINE_ID_HEX]);
KITH_NODISCARD int engine_circle_reply(struct engine *e, const char *name, const char *signal_id,
                                       int answer, int64_t later_at, char id_out[ENGINE_ID_HEX]);

/* Control socket: run a command line (argv without the program name) in a
 * running engine, as `kith ARGS...` would. Used by main.c. status gets the
 * exit status; out/err get malloc'd NUL-terminated texts.
 * KITH_ENOENGINE when none answers. */
KITH_NODISCARD int engine_control_call(const char *home, int argc, char **argv, int *status,
                                       char **out, char **err);

#endif
