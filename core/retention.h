/*
 * retention: the disappearing-messages agreement of one conversation, as a
 * pure state machine (no I/O, no clock reads). A setting changes only when
 * both sides agree: one proposes, the other accepts (in force for the accepter
 * at once, for the proposer when the acceptance arrives) or declines (nothing
 * changes). Proposals that cross on the wire are settled the same way on both
 * sides: one that answers the other's proposal replaces it, otherwise the
 * lower proposal id wins. A step older than the last one applied from the
 * other side is ignored, so retried or reordered frames cannot roll back.
 */
#ifndef KITH_CORE_RETENTION_H
#define KITH_CORE_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "proto/update.h"

#define RETENTION_RECENT      4 /* our latest proposals an acceptance may still name */
#define RETENTION_STATE_BYTES (1 + 4 + 8 + 8 + 1 + 16 + 4 + 1 + RETENTION_RECENT * 20)

struct retention {
    uint32_t seconds;     /* in force; 0 = off */
    uint64_t counter_out; /* the counter of the last step we sent */
    uint64_t counter_in;  /* the counter of the last step of theirs we applied */
    bool has_proposal;
    bool is_ours; /* the open proposal is ours (waiting for them) rather than theirs */
    uint8_t proposal_id[16];
    uint32_t proposal_seconds;
    uint8_t nrecent;
    uint8_t recent_ids[RETENTION_RECENT][16];
    uint32_t recent_seconds[RETENTION_RECENT];
};

/* What a received step did. */
enum retention_effect {
    RETENTION_IGNORED = 0,  /* stale, lost a crossing, or names nothing we proposed */
    RETENTION_PROPOSED = 1, /* their proposal is now open, waiting for our answer */
    RETENTION_AGREED = 2,   /* they accepted ours: r->seconds changed (or was confirmed) */
    RETENTION_DECLINED = 3, /* they declined ours: nothing changed */
};

/* Propose seconds (0 = off; at most UPDATE_RETENTION_MAX) with a fresh random id (never all
 * zero) at now_ms; fills the step to send. A proposal of theirs still open is answered by this
 * one (it replaces theirs). KITH_EINVAL (seconds out of range or zero id), KITH_ESTATE (that is
 * already the setting and nothing is open). */
KITH_NODISCARD int retention_propose(struct retention *r, uint32_t seconds, const uint8_t id[16],
                                     int64_t now_ms, struct update_retention *step);
/* Answer their open proposal: accept puts it in force now; decline leaves the setting.
 * KITH_ENOTFOUND when no proposal of theirs is open. */
KITH_NODISCARD int retention_answer(struct retention *r, bool accept, int64_t now_ms,
                                    struct update_retention *step);
/* Apply a step received from them; returns its effect (r unchanged when IGNORED). */
enum retention_effect retention_receive(struct retention *r, const struct update_retention *step);

/* Fixed-size serialisation for the sealed store row. parse: KITH_OK or KITH_EMALFORMED
 * (r zeroed). */
void retention_serialize(const struct retention *r, uint8_t out[RETENTION_STATE_BYTES]);
KITH_NODISCARD int retention_parse(const uint8_t *in, size_t len, struct retention *r);

/* "30 seconds", "10 minutes", "1 hour", "7 days", "off" (the largest unit that divides it). */
void retention_describe(uint32_t seconds, char *out, size_t cap);

#endif
