/*
 * repair_impl: internals shared by repair.c (state machine) and
 * repair_codec.c (wire, serialisation, status). Not a public header.
 */
#ifndef KITH_CORE_REPAIR_IMPL_H
#define KITH_CORE_REPAIR_IMPL_H

#include "core/repair.h"

#define REPAIR_NOBODY       0xff
#define REPAIR_MINUTE       60
#define REPAIR_HOUR         (60 * REPAIR_MINUTE)
#define REPAIR_DAY          (24 * REPAIR_HOUR)
#define REPAIR_PAUSE_DEF    (20 * REPAIR_MINUTE)
#define REPAIR_PAUSE_TOTAL  (7 * REPAIR_DAY)
#define REPAIR_POSTPONE     (14 * REPAIR_DAY)
#define REPAIR_INVITE_TTL   (7 * REPAIR_DAY)
#define REPAIR_TURN_TTL     (14 * REPAIR_DAY)
#define REPAIR_CHECKOUT_TTL (48 * REPAIR_HOUR)
#define REPAIR_PARTLY_MAX   3
#define REPAIR_MORE_MAX     2

/* Everything that changes when a step applies: the race rollback keeps one copy. */
struct repair_core {
    uint32_t seq;
    uint8_t state, resume_state, outcome, pending_outcome;
    uint8_t partly_rounds, more_count;
    bool close_enough, my_side_sent;
    uint32_t version; /* agreement version, 0 = none proposed */
    uint8_t version_author, pauser, check_in_by;
    uint8_t checked_out; /* bit per role */
    uint8_t rating[2], word[2];
    int64_t last_event_at, invite_expires_at, postpone_until;
    int64_t pause_until, pause_started, pause_used, checkout_since;
    struct repair_step fields; /* latest value of every field */
};

struct repair {
    uint8_t me;
    uint8_t repair_id[REPAIR_ID_BYTES];
    char fp[2][REPAIR_FP_MAX];
    char peer_name[64];
    char why[REPAIR_WHY_MAX];
    struct repair_core cur;
    struct repair_core prev;    /* before the last applied step */
    struct repair_core scratch; /* a step applies here first */
    bool has_prev;
    uint8_t last_event, last_actor; /* the last applied step, for races */
    int64_t last_sent_at;
};

/* The turn-holder: a role, REPAIR_NOBODY, or 2 for "either/both". */
#define REPAIR_EITHER 2
int repair_impl_turn(const struct repair_core *c);

/* Field tags on the wire and in state blobs (fields part). */
KITH_NODISCARD int repair_impl_fields_encode(const struct repair_step *s, bool all_fields,
                                             uint8_t *out, size_t cap, size_t *len);
KITH_NODISCARD int repair_impl_fields_decode(const uint8_t *in, size_t len, struct repair_step *s);
/* Field check for one step's event (limits, ids, required fields); *why static. */
KITH_NODISCARD int repair_impl_validate(const struct repair_step *s, const char **why);
size_t repair_impl_utf8_chars(const char *s, size_t len, bool *valid);
void repair_impl_prompt(const struct repair *r, char *out, size_t cap);
extern const char *const repair_impl_turn_verbs[REPAIR_STATE_COUNT];

#endif
