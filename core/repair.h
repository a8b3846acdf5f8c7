/*
 * repair: the guided repair conversation between two people (DOMAIN.md §2), as
 * a pure replicated state machine. Each peer holds one replica; every step
 * (REPAIR{repair_id, seq, actor, event, fields}) is applied to both, so they
 * agree. Pure: no I/O, no clock reads (callers pass now), no allocation after
 * create. AGREED is momentary: `agree` lands in CHECKOUT with outcome repaired
 * pending. DRAFT + discard closes with outcome "discarded": delete the replica.
 */
#ifndef KITH_CORE_REPAIR_H
#define KITH_CORE_REPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define REPAIR_ID_BYTES  16
#define REPAIR_FP_MAX    64    /* actor fingerprint string, NUL included */
#define REPAIR_PICKS_MAX 3     /* feelings / needs / guesses per list */
#define REPAIR_TEXT_CAP  2004  /* bytes of one text field: 500 chars x 4 + NUL */
#define REPAIR_WIRE_MAX  16384 /* bytes of one encoded step */
#define REPAIR_STATE_MAX 40960 /* bytes of one serialised replica */
#define REPAIR_WHY_MAX   256
#define REPAIR_NO_ID     0xff /* "no pick" in word ids */

/* The vocabulary reads best as compact lists. */
/* clang-format off */
enum repair_role { REPAIR_INITIATOR = 0, REPAIR_PARTNER = 1 };

enum repair_state {
    REPAIR_DRAFT, REPAIR_INVITED, REPAIR_POSTPONED, REPAIR_ACCEPTED, REPAIR_SHARED,
    REPAIR_REFLECTED, REPAIR_UNDERSTOOD, REPAIR_RESPONDED, REPAIR_AGREEING, REPAIR_AGREED,
    REPAIR_CHECKOUT, REPAIR_PAUSED, REPAIR_CLOSED, REPAIR_STATE_COUNT
};

enum repair_outcome {
    REPAIR_OUTCOME_NONE, REPAIR_OUTCOME_REPAIRED, REPAIR_OUTCOME_HEARD, REPAIR_OUTCOME_DECLINED,
    REPAIR_OUTCOME_WITHDRAWN, REPAIR_OUTCOME_ENDED, REPAIR_OUTCOME_EXPIRED,
    REPAIR_OUTCOME_DISCARDED, REPAIR_OUTCOME_COUNT
};

enum repair_event {
    REPAIR_EV_INVITE, REPAIR_EV_DISCARD, REPAIR_EV_ACCEPT, REPAIR_EV_POSTPONE, REPAIR_EV_DECLINE,
    REPAIR_EV_WITHDRAW, REPAIR_EV_SHARE, REPAIR_EV_REFLECT, REPAIR_EV_CONFIRM, REPAIR_EV_RESPOND,
    REPAIR_EV_RECEIVE, REPAIR_EV_PROPOSE, REPAIR_EV_AGREE, REPAIR_EV_COUNTER,
    REPAIR_EV_NO_AGREEMENT, REPAIR_EV_CHECKOUT, REPAIR_EV_PAUSE, REPAIR_EV_RESUME,
    REPAIR_EV_EXTEND, REPAIR_EV_END, REPAIR_EV_CHECK_IN, REPAIR_EV_OK_TO_CONTINUE,
    REPAIR_EV_NEED_BREAK, REPAIR_EV_SOMETHING_LANDED_HARD, REPAIR_EV_EXPIRE, REPAIR_EV_COUNT
};

/* confirm: yes | partly | close_enough; receive: ok | more */
enum repair_answer {
    REPAIR_ANSWER_NONE, REPAIR_ANSWER_YES, REPAIR_ANSWER_PARTLY, REPAIR_ANSWER_CLOSE_ENOUGH,
    REPAIR_ANSWER_OK, REPAIR_ANSWER_MORE
};
enum repair_kind {
    REPAIR_KIND_NONE, REPAIR_KIND_APOLOGY, REPAIR_KIND_CLARIFICATION, REPAIR_KIND_BOTH
};

/* Text fields; names (repair_field_name) are DOMAIN.md §2.2's. Empty = absent. */
enum repair_field {
    REPAIR_F_TOPIC, REPAIR_F_NOTE, REPAIR_F_REASON, REPAIR_F_OBSERVATION, REPAIR_F_FEELINGS_TEXT,
    REPAIR_F_REQUEST, REPAIR_F_TEXT, REPAIR_F_ADDITION, REPAIR_F_VALIDATION,
    REPAIR_F_RESPONSIBILITY, REPAIR_F_REGRET, REPAIR_F_REPAIR_OFFER, REPAIR_F_NEXT_TIME,
    REPAIR_F_MY_SIDE, REPAIR_F_REFLECT_BACK, REPAIR_F_PHRASE, REPAIR_F_COUNT
};
/* Id lists: feelings, needs, feeling_guesses, need_guesses, my_side_feelings, my_side_needs */
enum repair_list {
    REPAIR_L_FEELINGS, REPAIR_L_NEEDS, REPAIR_L_FEELING_GUESSES, REPAIR_L_NEED_GUESSES,
    REPAIR_L_MY_SIDE_FEELINGS, REPAIR_L_MY_SIDE_NEEDS, REPAIR_L_COUNT
};
/* clang-format on */

/* One step. Zero it (repair_step_init), set event and fields; repair_prepare fills the header. */
struct repair_step {
    uint8_t repair_id[REPAIR_ID_BYTES];
    uint32_t seq;
    uint8_t actor;   /* enum repair_role */
    uint8_t event;   /* enum repair_event */
    int64_t sent_at; /* sender's clock, seconds; breaks races */
    int64_t until;   /* postpone, pause, extend, need_break (0 = default 20 min for pauses) */
    int64_t when;    /* invite: 0 = "now-ish", else a proposed time */
    uint8_t answer;  /* enum repair_answer */
    uint8_t kind;    /* enum repair_kind */
    bool impact_ack, shared;
    uint8_t rating;   /* checkout: 0 = none, 1 rough .. 5 settled */
    uint8_t word;     /* checkout: feeling id or REPAIR_NO_ID */
    uint32_t version; /* agree{v} */
    uint8_t list_len[REPAIR_L_COUNT];
    uint8_t list[REPAIR_L_COUNT][REPAIR_PICKS_MAX];
    char text[REPAIR_F_COUNT][REPAIR_TEXT_CAP];
};

struct repair;

/* A replica for `me`. Fingerprints break races (lower wins); the peer name
 * appears in reasons ("It's Alex's turn ..."). Never NULL. Destroy wipes; NULL-safe. */
struct repair *repair_create(enum repair_role me, const uint8_t repair_id[REPAIR_ID_BYTES],
                             const char *initiator_fp, const char *partner_fp);
void repair_destroy(struct repair *r);
void repair_set_peer_name(struct repair *r, const char *name); /* copied, ≤ 63 bytes used */

enum repair_state repair_state(const struct repair *r);
enum repair_state repair_resume_state(const struct repair *r); /* meaningful when PAUSED */
enum repair_outcome repair_outcome(const struct repair *r);    /* when CLOSED, or pending */
uint32_t repair_seq(const struct repair *r);                   /* last applied seq */
bool repair_is_my_turn(const struct repair *r);
enum repair_role repair_my_role(const struct repair *r); /* the `me` of repair_create */
uint32_t repair_agreement_version(const struct repair *r); /* 0: nothing proposed yet */
/* The applied fields so far (latest value of each); borrowed. */
const struct repair_step *repair_fields(const struct repair *r);
/* Why the last refusal happened, or what the last race meant: a kind sentence,
 * "" if none. Borrowed until the next call on r. */
const char *repair_why(const struct repair *r);

void repair_step_init(struct repair_step *s, enum repair_event event);
/* Fill repair_id, seq (next), actor (me) and sent_at = now for a local step. */
void repair_prepare(const struct repair *r, struct repair_step *s, int64_t now);

enum repair_race { REPAIR_RACE_NONE, REPAIR_RACE_WON, REPAIR_RACE_LOST };
/*
 * Apply one step (local or from the peer). KITH_OK: applied (*race WON when it
 * displaced a crossing step, which was rolled back; repair_why says so).
 * KITH_ESTATE (not now / not yours) or KITH_EINVAL (fields): refused, replica
 * unchanged, repair_why says why. KITH_EEXISTS: lost a race, not applied.
 * KITH_EREPLAY: already applied. KITH_EAGAIN: a step is missing before it.
 * KITH_ENOTFOUND: another repair_id. race may be NULL.
 */
KITH_NODISCARD int repair_apply(struct repair *r, const struct repair_step *s, int64_t now,
                                enum repair_race *race);
/* Would this step be accepted now? Same codes; replica unchanged. */
KITH_NODISCARD int repair_check(struct repair *r, const struct repair_step *s, int64_t now);

/* The next timer: true, with its time in *at and its event (EXPIRE or RESUME). Emit the
 * event as a local step at or after *at; the peer converges when it arrives. */
bool repair_next_deadline(const struct repair *r, int64_t *at, enum repair_event *event);

/* Race order: > 0 if a wins over b (same seq), < 0 if b wins. end > pause >
 * others; then earlier sent_at; then lower actor fingerprint. */
int repair_race_compare(const struct repair *r, const struct repair_step *a,
                        const struct repair_step *b);

/* Names: lower case as in DOMAIN.md ("check_in", "close_enough", "to be heard"). */
const char *repair_state_name(enum repair_state st);
const char *repair_event_name(enum repair_event ev);
const char *repair_outcome_name(enum repair_outcome o);
const char *repair_field_name(enum repair_field f);
KITH_NODISCARD int repair_event_from_name(const char *name, enum repair_event *ev);
const char *repair_feeling_name(uint8_t id); /* NULL if out of range */
const char *repair_need_name(uint8_t id);
KITH_NODISCARD int repair_feeling_id(const char *name, uint8_t *id); /* '_' matches ' ' */
KITH_NODISCARD int repair_need_id(const char *name, uint8_t *id);
size_t repair_feeling_count(void);
size_t repair_need_count(void);
/* Character limit of a text field for an event (0 = not allowed in it). */
size_t repair_field_limit(enum repair_event ev, enum repair_field f);

/* Set one field from text, as `kith repair act` and practice scripts do:
 * "observation"="…", "feelings"="hurt,lonely", "until"="1700000000",
 * "answer"="partly", "v"="2"; value NULL sets a flag (yes, partly,
 * close_enough, ok, more, apology, clarification, both, shared, impact_ack).
 * KITH_EINVAL with *why a static sentence. */
KITH_NODISCARD int repair_step_set_field(struct repair_step *s, const char *name, const char *value,
                                         const char **why);

/* Wire: one step <-> bytes (strict; fields checked against the event). */
KITH_NODISCARD int repair_step_encode(const struct repair_step *s, uint8_t *out, size_t cap,
                                      size_t *len);
KITH_NODISCARD int repair_step_decode(const uint8_t *in, size_t len, struct repair_step *s);
/* Whole replica (for the sealed store). parse: KITH_ECORRUPT on damage. */
KITH_NODISCARD int repair_serialize(const struct repair *r, uint8_t *out, size_t cap, size_t *len);
KITH_NODISCARD int repair_parse(const uint8_t *in, size_t len, struct repair **out);
/* {"repair_id","state","turn","my_role","my_turn","seq","outcome",...,"prompt"} */
KITH_NODISCARD int repair_status_json(const struct repair *r, char *out, size_t cap);

#endif
