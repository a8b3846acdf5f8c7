/*
 * retention: the agreement state machine (see retention.h). Every function
 * leaves *r untouched when it refuses or ignores a step.
 */
#include "core/retention.h"

#include <stdio.h>
#include <string.h>

_Static_assert(RETENTION_STATE_BYTES == 43 + RETENTION_RECENT * 20, "state layout");

static bool
retention_is_zero(const uint8_t id[16])
{
    uint8_t acc = 0;

    for (int i = 0; i < 16; i++) {
        acc |= id[i];
    }
    return acc == 0;
}

/* A counter that only grows, also across a clock that steps back. */
static uint64_t
retention_next_counter(struct retention *r, int64_t now_ms)
{
    uint64_t next = r->counter_out + 1;

    if (now_ms > 0 && (uint64_t)now_ms > next) {
        next = (uint64_t)now_ms;
    }
    r->counter_out = next;
    return next;
}

static void
retention_remember(struct retention *r, const uint8_t id[16], uint32_t seconds)
{
    if (r->nrecent == RETENTION_RECENT) {
        memmove(r->recent_ids[0], r->recent_ids[1], (RETENTION_RECENT - 1) * 16);
        memmove(&r->recent_seconds[0], &r->recent_seconds[1],
                (RETENTION_RECENT - 1) * sizeof r->recent_seconds[0]);
        r->nrecent--;
    }
    memcpy(r->recent_ids[r->nrecent], id, 16);
    r->recent_seconds[r->nrecent] = seconds;
    r->nrecent++;
}

static void
retention_forget(struct retention *r, const uint8_t id[16])
{
    for (uint8_t i = 0; i < r->nrecent; i++) {
        if (memcmp(r->recent_ids[i], id, 16) == 0) {
            memmove(r->recent_ids[i], r->recent_ids[i + 1], (size_t)(r->nrecent - i - 1) * 16);
            memmove(&r->recent_seconds[i], &r->recent_seconds[i + 1],
                    (size_t)(r->nrecent - i - 1) * sizeof r->recent_seconds[0]);
            r->nrecent--;
            return;
        }
    }
}

static void
retention_close_proposal(struct retention *r)
{
    r->has_proposal = false;
    r->is_ours = false;
    memset(r->proposal_id, 0, sizeof r->proposal_id);
    r->proposal_seconds = 0;
}

int
retention_propose(struct retention *r, uint32_t seconds, const uint8_t id[16], int64_t now_ms,
                  struct update_retention *step)
{
    memset(step, 0, sizeof *step);
    if (seconds > UPDATE_RETENTION_MAX || retention_is_zero(id)) {
        return KITH_EINVAL;
    }
    if (!r->has_proposal && seconds == r->seconds) {
        return KITH_ESTATE;
    }
    step->kind = UPDATE_RETENTION_PROPOSE;
    memcpy(step->proposal_id, id, 16);
    step->seconds = seconds;
    if (r->has_proposal && !r->is_ours) {
        memcpy(step->answers, r->proposal_id, 16); /* ours replaces theirs */
    }
    step->counter = retention_next_counter(r, now_ms);
    r->has_proposal = true;
    r->is_ours = true;
    memcpy(r->proposal_id, id, 16);
    r->proposal_seconds = seconds;
    retention_remember(r, id, seconds);
    return KITH_OK;
}

int
retention_answer(struct retention *r, bool accept, int64_t now_ms, struct update_retention *step)
{
    memset(step, 0, sizeof *step);
    if (!r->has_proposal || r->is_ours) {
        return KITH_ENOTFOUND;
    }
    step->kind = accept ? UPDATE_RETENTION_ACCEPT : UPDATE_RETENTION_DECLINE;
    memcpy(step->proposal_id, r->proposal_id, 16);
    step->seconds = accept ? r->proposal_seconds : 0;
    step->counter = retention_next_counter(r, now_ms);
    if (accept) {
        r->seconds = r->proposal_seconds;
    }
    retention_close_proposal(r);
    return KITH_OK;
}

static enum retention_effect
retention_receive_proposal(struct retention *r, const struct update_retention *step)
{
    if (r->has_proposal && r->is_ours && memcmp(step->answers, r->proposal_id, 16) != 0 &&
        memcmp(step->proposal_id, r->proposal_id, 16) >= 0) {
        return RETENTION_IGNORED; /* crossed ours and lost: they drop theirs the same way */
    }
    if (r->has_proposal && r->is_ours) {
        retention_forget(r, r->proposal_id); /* replaced: an acceptance of it can't come */
    }
    r->has_proposal = true;
    r->is_ours = false;
    memcpy(r->proposal_id, step->proposal_id, 16);
    r->proposal_seconds = step->seconds;
    return RETENTION_PROPOSED;
}

enum retention_effect
retention_receive(struct retention *r, const struct update_retention *step)
{
    enum retention_effect effect = RETENTION_IGNORED;
    bool is_open =
        r->has_proposal && r->is_ours && memcmp(step->proposal_id, r->proposal_id, 16) == 0;

    if (step->counter <= r->counter_in) {
        return RETENTION_IGNORED;
    }
    switch (step->kind) {
    case UPDATE_RETENTION_PROPOSE:
        effect = retention_receive_proposal(r, step);
        break;
    case UPDATE_RETENTION_ACCEPT:
        /* Ours, open or replaced since (they answered the older one first): either way they
         * now keep that setting, so we do too; a newer open proposal stays open. */
        for (uint8_t i = 0; i < r->nrecent; i++) {
            if (memcmp(r->recent_ids[i], step->proposal_id, 16) == 0 &&
                r->recent_seconds[i] == step->seconds) {
                effect = RETENTION_AGREED;
            }
        }
        if (effect == RETENTION_AGREED) {
            r->seconds = step->seconds;
            retention_forget(r, step->proposal_id);
            if (is_open) {
                retention_close_proposal(r);
            }
        }
        break;
    case UPDATE_RETENTION_DECLINE:
        if (is_open) {
            retention_forget(r, step->proposal_id);
            retention_close_proposal(r);
            effect = RETENTION_DECLINED;
        }
        break;
    default:
        break;
    }
    if (effect != RETENTION_IGNORED) {
        r->counter_in = step->counter;
    }
    return effect;
}

static void
retention_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t
retention_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
retention_put64(uint8_t *p, uint64_t v)
{
    retention_put32(p, (uint32_t)(v >> 32));
    retention_put32(p + 4, (uint32_t)v);
}

static uint64_t
retention_get64(const uint8_t *p)
{
    return (uint64_t)retention_get32(p) << 32 | retention_get32(p + 4);
}

/* u8 version=1 | u32 seconds | u64 counter_out | u64 counter_in | u8 flags (1 open, 2 ours) |
 * 16 proposal_id | u32 proposal_seconds | u8 nrecent | RECENT x (16 id | u32 seconds) */
void
retention_serialize(const struct retention *r, uint8_t out[RETENTION_STATE_BYTES])
{
    uint8_t *p = out;

    memset(out, 0, RETENTION_STATE_BYTES);
    *p++ = 1;
    retention_put32(p, r->seconds);
    p += 4;
    retention_put64(p, r->counter_out);
    p += 8;
    retention_put64(p, r->counter_in);
    p += 8;
    *p++ = (uint8_t)((r->has_proposal ? 1 : 0) | (r->is_ours ? 2 : 0));
    memcpy(p, r->proposal_id, 16);
    p += 16;
    retention_put32(p, r->proposal_seconds);
    p += 4;
    *p++ = r->nrecent;
    for (uint8_t i = 0; i < r->nrecent && i < RETENTION_RECENT; i++) {
        memcpy(p, r->recent_ids[i], 16);
        retention_put32(p + 16, r->recent_seconds[i]);
        p += 20;
    }
}

int
retention_parse(const uint8_t *in, size_t len, struct retention *r)
{
    const uint8_t *p = in;
    uint8_t flags;

    memset(r, 0, sizeof *r);
    if (in == NULL || len != RETENTION_STATE_BYTES || *p++ != 1) {
        return KITH_EMALFORMED;
    }
    r->seconds = retention_get32(p);
    p += 4;
    r->counter_out = retention_get64(p);
    p += 8;
    r->counter_in = retention_get64(p);
    p += 8;
    flags = *p++;
    r->has_proposal = (flags & 1) != 0;
    r->is_ours = (flags & 2) != 0;
    memcpy(r->proposal_id, p, 16);
    p += 16;
    r->proposal_seconds = retention_get32(p);
    p += 4;
    r->nrecent = *p++;
    if (flags > 3 || (!r->has_proposal && flags != 0) || r->nrecent > RETENTION_RECENT ||
        r->seconds > UPDATE_RETENTION_MAX || r->proposal_seconds > UPDATE_RETENTION_MAX) {
        memset(r, 0, sizeof *r);
        return KITH_EMALFORMED;
    }
    for (uint8_t i = 0; i < r->nrecent; i++) {
        memcpy(r->recent_ids[i], p, 16);
        r->recent_seconds[i] = retention_get32(p + 16);
        p += 20;
    }
    return KITH_OK;
}

void
retention_describe(uint32_t seconds, char *out, size_t cap)
{
    static const struct {
        uint32_t unit;
        const char *name;
    } units[] = { { 86400, "day" }, { 3600, "hour" }, { 60, "minute" }, { 1, "second" } };

    if (seconds == 0) {
        snprintf(out, cap, "off");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (seconds % units[i].unit == 0) {
            uint32_t n = seconds / units[i].unit;
            snprintf(out, cap, "%u %s%s", n, units[i].name, n == 1 ? "" : "s");
            return;
        }
    }
}
