/*
 * boundary: evaluating one contact's rules for one message (DOMAIN.md §3, evaluation order) and
 * the calendar arithmetic under it. Pure: time and zones come from the caller's clock; the
 * only state is the caller's rule set. Invariant: a message is never dropped except by a block,
 * and a hold always ends (every release is bounded by a rule's end or the rate window).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/boundary_impl.h"

#define HOLD_ITERATIONS 64 /* chained quiet intervals + rate steps; real sets need < 10 */
#define OFFSET_MAX      (26 * 3600)

struct boundary_rules *
boundary_rules_create(void)
{
    return xcalloc(1, sizeof(struct boundary_rules));
}

void
boundary_rules_destroy(struct boundary_rules *r)
{
    if (r == NULL) {
        return;
    }
    /* Keyword lists are private: wipe them with the rest. */
    sodium_memzero(r, sizeof *r);
    free(r);
}

bool
boundary_meta_active(const struct boundary_meta *meta, int64_t t)
{
    return meta->is_set && (meta->until == 0 || t < meta->until);
}

bool
boundary_kind_can_tell(enum boundary_kind kind)
{
    return kind == BOUNDARY_KIND_SNOOZE || kind == BOUNDARY_KIND_QUIET ||
           kind == BOUNDARY_KIND_RATE || kind == BOUNDARY_KIND_HEAVY ||
           kind == BOUNDARY_KIND_BREAKTHROUGH;
}

/* IANA names only: letters, digits, '_', '+', '-' in '/'-separated parts, no "." parts, so a
 * name can never walk out of the zoneinfo directory. */
bool
boundary_tz_name_ok(const char *tz, size_t len)
{
    size_t part = 0;

    if (len == 0 || len >= BOUNDARY_TZ_MAX || tz[0] == '/' || tz[len - 1] == '/') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)tz[i];
        if (ch == '/') {
            if (part == 0) {
                return false;
            }
            part = 0;
            continue;
        }
        bool is_alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!is_alnum && ch != '_' && ch != '+' && ch != '-') {
            return false;
        }
        part++;
    }
    return true;
}

/* A word: 1..31 bytes of valid UTF-8, no control bytes, no ',', no upper-case ASCII, no
 * leading '+'/'-' and no surrounding spaces (so the CLI form reads back the same). */
bool
boundary_word_ok(const char *word, size_t len)
{
    if (len == 0 || len >= BOUNDARY_WORD_MAX || word[0] == '+' || word[0] == '-' ||
        word[0] == ' ' || word[len - 1] == ' ') {
        return false;
    }
    for (size_t i = 0; i < len;) {
        unsigned char ch = (unsigned char)word[i];
        size_t extra;
        if (ch < 0x20 || ch == 0x7f || ch == ',' || (ch >= 'A' && ch <= 'Z')) {
            return false;
        }
        if (ch < 0x80) {
            i++;
            continue;
        }
        if (ch >= 0xc2 && ch <= 0xdf) {
            extra = 1;
        } else if (ch >= 0xe0 && ch <= 0xef) {
            extra = 2;
        } else if (ch >= 0xf0 && ch <= 0xf4) {
            extra = 3;
        } else {
            return false;
        }
        if (i + extra >= len) {
            return false;
        }
        for (size_t k = 1; k <= extra; k++) {
            if (((unsigned char)word[i + k] & 0xc0) != 0x80) {
                return false;
            }
        }
        i += extra + 1;
    }
    return true;
}

int64_t
boundary_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }
    return q;
}

/* Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian). */
int64_t
boundary_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = boundary_floordiv(y, 400);
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void
boundary_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = boundary_floordiv(days, 146097);
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int
boundary_weekday(int64_t days)
{
    int64_t weekday = (days + 3) % 7; /* 1970-01-01 was a Thursday */
    return (int)(weekday < 0 ? weekday + 7 : weekday);
}

int
boundary_offset(const struct boundary_clock *clk, const char *tz, int64_t t)
{
    int offset_s = 0;

    if (clk == NULL || clk->utc_offset == NULL) {
        return 0;
    }
    if (tz == NULL || tz[0] == '\0') {
        tz = clk->tz != NULL ? clk->tz : "";
    }
    if (clk->utc_offset(clk->ctx, tz, t, &offset_s) != KITH_OK || offset_s > OFFSET_MAX ||
        offset_s < -OFFSET_MAX) {
        return 0;
    }
    return offset_s;
}

int64_t
boundary_local_to_utc(const struct boundary_clock *clk, const char *tz, int64_t local)
{
    /* Offsets a day either side bracket any transition near `local` (zones change at most once
     * in two days). Each candidate instant is valid if the zone agrees with its offset. */
    int before = boundary_offset(clk, tz, local - 86400);
    int after = boundary_offset(clk, tz, local + 86400);
    int64_t t_before = local - before;
    int64_t t_after = local - after;
    bool before_ok = boundary_offset(clk, tz, t_before) == before;
    bool after_ok = boundary_offset(clk, tz, t_after) == after;

    if (before_ok && after_ok) {
        return t_before < t_after ? t_before : t_after; /* ambiguous: the first occurrence */
    }
    if (before_ok) {
        return t_before;
    }
    if (after_ok) {
        return t_after;
    }
    /* A gap: the wall time never happens. Find the transition, the next valid instant. */
    int64_t lo = t_before < t_after ? t_before : t_after;
    int64_t hi = t_before < t_after ? t_after : t_before;
    int lo_offset = boundary_offset(clk, tz, lo);
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (boundary_offset(clk, tz, mid) == lo_offset) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return hi;
}

/* If t lies inside one of q's intervals: that interval's end (or the rule's own end, if
 * earlier); otherwise t. Only intervals starting yesterday or today (local) can contain t. */
static int64_t
quiet_end_at(const struct boundary_quiet *q, const struct boundary_clock *clk, int64_t t)
{
    if (!boundary_meta_active(&q->meta, t)) {
        return t;
    }
    int64_t today = boundary_floordiv(t + boundary_offset(clk, q->tz, t), 86400);
    for (int64_t day = today - 1; day <= today; day++) {
        if ((q->days & (1u << boundary_weekday(day))) == 0) {
            continue;
        }
        int64_t end_day = q->end_min > q->start_min ? day : day + 1;
        int64_t start = boundary_local_to_utc(clk, q->tz, day * 86400 + q->start_min * 60);
        int64_t end = boundary_local_to_utc(clk, q->tz, end_day * 86400 + q->end_min * 60);
        if (start <= t && t < end) {
            if (q->meta.until != 0 && q->meta.until < end) {
                end = q->meta.until;
            }
            return end;
        }
    }
    return t;
}

struct hold {
    int64_t at;
    enum boundary_reason reason;
    int quiet_index; /* QUIET: the interval that set `at` */
};

/* Step 3: release = max(snooze end, end of the current quiet interval), repeated from the
 * release so chained intervals (22:00-06:00, 06:00-08:00) act as one. Snooze wins ties. */
static void
time_hold(const struct boundary_rules *r, const struct boundary_clock *clk, bool skip_quiet,
          struct hold *h)
{
    for (int step = 0; step < HOLD_ITERATIONS; step++) {
        int64_t from = h->at;
        int64_t best = from;
        enum boundary_reason reason = BOUNDARY_REASON_NONE;
        int quiet_index = -1;

        if (boundary_meta_active(&r->snooze, from)) {
            best = r->snooze.until;
            reason = BOUNDARY_REASON_SNOOZE;
        }
        for (int i = 0; !skip_quiet && i < r->quiet_count; i++) {
            int64_t end = quiet_end_at(&r->quiet[i], clk, from);
            if (end > best) {
                best = end;
                reason = BOUNDARY_REASON_QUIET;
                quiet_index = i;
            }
        }
        if (best <= from) {
            return;
        }
        h->at = best;
        h->reason = reason;
        h->quiet_index = quiet_index;
    }
}

struct rate {
    uint32_t count;
    int64_t window_s;
    bool is_digest;
    bool tell;
    int64_t until;
};

/* The rate limit in force at t: the explicit rule, else trust level 0's default. */
static bool
rate_in_force(const struct boundary_rules *r, int64_t t, struct rate *rate)
{
    if (boundary_meta_active(&r->rate, t)) {
        if (r->rate_mode == BOUNDARY_RATE_OFF) {
            return false;
        }
        rate->count = r->rate_count;
        rate->window_s = r->rate_window_s;
        rate->is_digest = r->rate_mode == BOUNDARY_RATE_DIGEST;
        rate->tell = r->rate.tell;
        rate->until = r->rate.until;
        return true;
    }
    if (boundary_trust_level(r, t) != 0) {
        return false;
    }
    rate->count = BOUNDARY_DIGEST_DEFAULT;
    rate->window_s = 3600;
    rate->is_digest = true;
    rate->tell = true;
    rate->until = 0;
    return true;
}

/* Step 4: the earliest instant >= t with room in the sliding window. visible_at is sorted, so
 * room appears when the N-th newest item leaves the window. */
static int64_t
rate_room(const struct boundary_rules *r, const struct boundary_counters *c, int64_t t,
          struct rate *rate)
{
    if (!rate_in_force(r, t, rate)) {
        return t;
    }
    size_t first = 0;
    while (first < c->visible_count && c->visible_at[first] <= t - rate->window_s) {
        first++;
    }
    if (c->visible_count - first < rate->count) {
        return t;
    }
    int64_t room = c->visible_at[c->visible_count - rate->count] + rate->window_s;
    if (rate->until != 0 && rate->until < room) {
        room = rate->until > t ? rate->until : t;
    }
    return room;
}

struct release {
    int64_t at;
    enum boundary_reason reason;
    int quiet_index;
    struct rate rate;
};

/* Steps 3 and 4 together: the visible time of a message arriving at now. */
static void
release_time(const struct boundary_rules *r, const struct boundary_clock *clk,
             const struct boundary_counters *c, bool skip_quiet, struct release *rel)
{
    struct hold h = { .at = clk->now, .reason = BOUNDARY_REASON_NONE, .quiet_index = -1 };

    memset(rel, 0, sizeof *rel);
    rel->reason = BOUNDARY_REASON_NONE;
    rel->quiet_index = -1;
    for (int step = 0; step < HOLD_ITERATIONS; step++) {
        time_hold(r, clk, skip_quiet, &h);
        struct rate rate = { 0 };
        int64_t room = rate_room(r, c, h.at, &rate);
        if (room <= h.at) {
            break;
        }
        h.at = room;
        h.reason = BOUNDARY_REASON_RATE;
        rel->rate = rate;
    }
    rel->at = h.at;
    rel->reason = h.reason;
    rel->quiet_index = h.quiet_index;
}

static bool
is_word_byte(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch >= 0x80;
}

static unsigned char
fold_ascii(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (unsigned char)(ch - 'A' + 'a') : ch;
}

static bool
words_match(const struct boundary_words *w, const char *text, size_t len)
{
    for (int i = 0; i < w->count; i++) {
        const unsigned char *word = (const unsigned char *)w->word[i];
        size_t wlen = strlen(w->word[i]);
        for (size_t at = 0; wlen <= len && at <= len - wlen; at++) {
            size_t k = 0;
            while (k < wlen && fold_ascii((unsigned char)text[at + k]) == word[k]) {
                k++;
            }
            if (k < wlen) {
                continue;
            }
            bool starts_clean =
                at == 0 || !is_word_byte(word[0]) || !is_word_byte((unsigned char)text[at - 1]);
            bool ends_clean = at + wlen == len || !is_word_byte(word[wlen - 1]) ||
                              !is_word_byte((unsigned char)text[at + wlen]);
            if (starts_clean && ends_clean) {
                return true;
            }
        }
    }
    return false;
}

static int64_t
round_up_minute(int64_t t)
{
    return boundary_floordiv(t + 59, 60) * 60;
}

static int
check_inputs(const struct boundary_msg *m, const struct boundary_clock *clk,
             const struct boundary_counters *c)
{
    if (clk->now < 0 || clk->now > BOUNDARY_TIME_MAX || (m->text == NULL && m->text_len != 0)) {
        return KITH_EINVAL;
    }
    if (c->visible_at == NULL && c->visible_count != 0) {
        return KITH_EINVAL;
    }
    for (size_t i = 0; i < c->visible_count; i++) {
        if (c->visible_at[i] < 0 || c->visible_at[i] > BOUNDARY_TIME_MAX ||
            (i > 0 && c->visible_at[i] < c->visible_at[i - 1])) {
            return KITH_EINVAL;
        }
    }
    return KITH_OK;
}

static void
set_hold(const struct boundary_rules *r, const struct release *rel, struct boundary_verdict *out)
{
    bool tell;

    out->disposition = BOUNDARY_HOLD_UNTIL;
    out->reason = rel->reason;
    out->release_at = rel->at;
    if (rel->reason == BOUNDARY_REASON_SNOOZE) {
        tell = r->snooze.tell;
    } else if (rel->reason == BOUNDARY_REASON_QUIET) {
        tell = r->quiet[rel->quiet_index].meta.tell;
    } else {
        out->is_digest = rel->rate.is_digest;
        tell = rel->rate.tell;
    }
    out->tell = !tell            ? BOUNDARY_TELL_DELIVERED
                : out->is_digest ? BOUNDARY_TELL_DIGEST_AT
                                 : BOUNDARY_TELL_HELD_UNTIL;
    out->tell_at = tell ? round_up_minute(rel->at) : 0;
}

/* Step 5, ask-heavy in force at t: the explicit rule, else trust levels 0 and 1. */
static bool
heavy_in_force(const struct boundary_rules *r, int64_t t, bool *tell)
{
    if (boundary_meta_active(&r->heavy, t)) {
        *tell = r->heavy.tell;
        return !r->heavy_is_off;
    }
    *tell = true;
    return boundary_trust_level(r, t) <= 1;
}

/* Steps 5 and 6 for a message that is visible now. */
static void
judge_content(const struct boundary_rules *r, const struct boundary_msg *m, int64_t now,
              const struct boundary_counters *c, struct boundary_verdict *out)
{
    bool tell = true;
    bool has_words = boundary_meta_active(&r->heavy, now) && !r->heavy_is_off &&
                     words_match(&r->heavy_words, m->text, m->text_len);
    bool is_window_open = c->consent_open_until > now;

    if (!m->has_consent && !is_window_open && heavy_in_force(r, now, &tell) &&
        (m->is_heavy || has_words)) {
        out->disposition = BOUNDARY_AWAIT_CONSENT;
        out->reason = BOUNDARY_REASON_HEAVY;
        out->tell = tell ? BOUNDARY_TELL_AWAITING_CONSENT : BOUNDARY_TELL_DELIVERED;
        return;
    }
    if (m->has_consent) {
        return;
    }
    bool has_notes = boundary_meta_active(&r->notes, now);
    if (has_notes && words_match(&r->note_words, m->text, m->text_len)) {
        out->disposition = BOUNDARY_FOLD;
        out->reason = BOUNDARY_REASON_NOTES;
    } else if (m->has_content_note && !(has_notes && r->notes_expand_cw)) {
        out->disposition = BOUNDARY_FOLD;
        out->reason = BOUNDARY_REASON_CW;
    }
}

int
boundary_evaluate(const struct boundary_rules *r, const struct boundary_msg *m,
                  const struct boundary_clock *clk, const struct boundary_counters *c,
                  struct boundary_verdict *out)
{
    static const struct boundary_counters none = { 0 };
    int64_t now = clk->now;
    int rc;

    if (c == NULL) {
        c = &none;
    }
    memset(out, 0, sizeof *out);
    out->disposition = BOUNDARY_SHOW;
    out->reason = BOUNDARY_REASON_NONE;
    out->notify = true;
    out->tell = BOUNDARY_TELL_DELIVERED;
    rc = check_inputs(m, clk, c);
    if (rc != KITH_OK) {
        goto out;
    }
    if (boundary_is_blocked(r, now)) { /* 1. final, and never announced */
        out->disposition = BOUNDARY_DROP;
        out->reason = BOUNDARY_REASON_BLOCK;
        out->notify = false;
        out->tell = BOUNDARY_TELL_NOTHING;
        goto out;
    }
    if (m->is_control) { /* 2. state updates: never held, never a sound */
        out->notify = false;
        goto out;
    }
    struct release rel;
    bool may_break_through = m->is_urgent && boundary_meta_active(&r->breakthrough, now) &&
                             c->breakthroughs_today < r->breakthrough_per_day;
    release_time(r, clk, c, may_break_through, &rel);
    if (may_break_through) { /* count it only when quiet hours really held it */
        struct release with_quiet;
        release_time(r, clk, c, false, &with_quiet);
        out->used_breakthrough = with_quiet.at > rel.at;
    }
    if (rel.at > now) { /* 3 and 4 */
        set_hold(r, &rel, out);
    } else {
        judge_content(r, m, now, c, out); /* 5 and 6 */
    }
    if (boundary_meta_active(&r->mute, now)) { /* 7 */
        out->notify = false;
    }
out:
    return rc;
}

int
boundary_next_release(const struct boundary_rules *r, const struct boundary_msg *m,
                      const struct boundary_clock *clk, const struct boundary_counters *c,
                      int64_t *release_at)
{
    struct boundary_verdict verdict;
    int rc = boundary_evaluate(r, m, clk, c, &verdict);

    *release_at = clk->now;
    if (rc == KITH_OK && verdict.disposition == BOUNDARY_HOLD_UNTIL) {
        *release_at = verdict.release_at;
    }
    return rc;
}

bool
boundary_is_blocked(const struct boundary_rules *r, int64_t now)
{
    return boundary_meta_active(&r->block, now);
}

int
boundary_trust_level(const struct boundary_rules *r, int64_t now)
{
    return boundary_meta_active(&r->trust, now) ? r->trust_level : 0;
}

bool
boundary_trust_allows(int level, enum boundary_capability cap)
{
    switch (cap) {
    case BOUNDARY_CAP_PRESENCE:
    case BOUNDARY_CAP_MAY_INVITE:
        return level >= 1;
    case BOUNDARY_CAP_TYPING:
    case BOUNDARY_CAP_READ_RECEIPTS:
        return level >= 2;
    case BOUNDARY_CAP_CIRCLES_VISIBLE:
        return level >= 3;
    }
    return false;
}

bool
boundary_rate_is_scope_all(const struct boundary_rules *r, int64_t now)
{
    return boundary_meta_active(&r->rate, now) && r->rate_mode != BOUNDARY_RATE_OFF &&
           r->rate_is_scope_all;
}

void
boundary_rate_horizon(const struct boundary_rules *r, int64_t *window_s, size_t *count)
{
    /* Whichever is in force at some instant: the explicit rule or trust level 0's digest. */
    *window_s = 3600;
    *count = BOUNDARY_DIGEST_DEFAULT;
    if (r->rate_mode != BOUNDARY_RATE_OFF && r->rate_count > 0) {
        if ((int64_t)r->rate_window_s > *window_s) {
            *window_s = r->rate_window_s;
        }
        if (r->rate_count > *count) {
            *count = r->rate_count;
        }
    }
}

int64_t
boundary_consent_window(const struct boundary_rules *r, int64_t now)
{
    if (boundary_meta_active(&r->heavy, now) && r->consent_window_s != 0) {
        return r->consent_window_s;
    }
    return BOUNDARY_CONSENT_DEFAULT;
}
