/*
 * boundary_text: a rule set in words for the person who set it (one plain sentence per rule,
 * times in their zone) and as JSON for `kith boundary show --json`. Writes only into the
 * caller's buffer; a buffer too small still ends up NUL-terminated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/boundary_impl.h"

#define EN_DASH "\xe2\x80\x93"

struct text {
    char *buf;
    size_t cap;
    size_t len;
};

__attribute__((format(printf, 2, 3))) static void
text_add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    size_t room = t->len < t->cap ? t->cap - t->len : 0;

    va_start(ap, fmt);
    int n = vsnprintf(room > 0 ? t->buf + t->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) {
        t->len += (size_t)n;
    }
}

static int
text_done(struct text *t)
{
    if (t->cap == 0) {
        return KITH_ETOOBIG;
    }
    if (t->len >= t->cap) {
        t->buf[t->cap - 1] = '\0';
        return KITH_ETOOBIG;
    }
    return KITH_OK;
}

static const char *const day_short[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const day_json[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

/* "Tue 2026-12-01 09:00" in the person's zone. */
static void
add_local_time(struct text *t, const struct boundary_clock *clk, int64_t at)
{
    int64_t local = at + boundary_offset(clk, "", at);
    int64_t days = boundary_floordiv(local, 86400);
    int64_t secs = local - days * 86400;
    int64_t year;
    unsigned month;
    unsigned day;

    boundary_civil_from_days(days, &year, &month, &day);
    text_add(t, "%s %04lld-%02u-%02u %02d:%02d", day_short[boundary_weekday(days)], (long long)year,
             month, day, (int)(secs / 3600), (int)(secs % 3600 / 60));
}

static void
add_utc_iso(struct text *t, int64_t at)
{
    int64_t days = boundary_floordiv(at, 86400);
    int64_t secs = at - days * 86400;
    int64_t year;
    unsigned month;
    unsigned day;

    boundary_civil_from_days(days, &year, &month, &day);
    text_add(t, "\"%04lld-%02u-%02uT%02d:%02d:%02dZ\"", (long long)year, month, day,
             (int)(secs / 3600), (int)(secs % 3600 / 60), (int)(secs % 60));
}

/* "Mon–Fri" for a run of three or more days (wrapping), else "Sat, Sun". */
static void
add_days(struct text *t, uint8_t days)
{
    int run_start = -1;
    int count = 0;

    for (int d = 0; d < 7; d++) {
        count += (days >> d) & 1;
        if (((days >> d) & 1) && !((days >> ((d + 6) % 7)) & 1)) {
            run_start = run_start == -1 ? d : 7; /* 7: more than one run */
        }
    }
    if (count >= 3 && run_start >= 0 && run_start < 7) {
        text_add(t, "%s" EN_DASH "%s", day_short[run_start],
                 day_short[(run_start + count - 1) % 7]);
        return;
    }
    const char *sep = "";
    for (int d = 0; d < 7; d++) {
        if ((days >> d) & 1) {
            text_add(t, "%s%s", sep, day_short[d]);
            sep = ", ";
        }
    }
}

/* "hour", "30 minutes", "2 days"... for "in any ...". */
static void
add_window(struct text *t, int64_t secs)
{
    static const struct {
        int64_t secs;
        const char *one;
        const char *many;
    } units[] = { { 604800, "week", "weeks" },
                  { 86400, "day", "days" },
                  { 3600, "hour", "hours" },
                  { 60, "minute", "minutes" },
                  { 1, "second", "seconds" } };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (secs % units[i].secs == 0) {
            int64_t n = secs / units[i].secs;
            if (n == 1) {
                text_add(t, "%s", units[i].one);
            } else {
                text_add(t, "%lld %s", (long long)n, units[i].many);
            }
            return;
        }
    }
}

static size_t
count_rules(const struct boundary_rules *r)
{
    const struct boundary_meta *singles[] = { &r->block, &r->mute,  &r->snooze, &r->rate,
                                              &r->heavy, &r->notes, &r->trust,  &r->breakthrough };
    size_t n = r->quiet_count;
    for (size_t i = 0; i < sizeof singles / sizeof singles[0]; i++) {
        n += singles[i]->is_set;
    }
    return n;
}

static const struct boundary_meta *
meta_of(const struct boundary_rules *r, enum boundary_kind kind, int quiet_index)
{
    switch (kind) {
    case BOUNDARY_KIND_BLOCK:
        return &r->block;
    case BOUNDARY_KIND_MUTE:
        return &r->mute;
    case BOUNDARY_KIND_SNOOZE:
        return &r->snooze;
    case BOUNDARY_KIND_QUIET:
        return &r->quiet[quiet_index].meta;
    case BOUNDARY_KIND_RATE:
        return &r->rate;
    case BOUNDARY_KIND_HEAVY:
        return &r->heavy;
    case BOUNDARY_KIND_NOTES:
        return &r->notes;
    case BOUNDARY_KIND_TRUST:
        return &r->trust;
    case BOUNDARY_KIND_BREAKTHROUGH:
        return &r->breakthrough;
    }
    return &r->block;
}

/* The index-th set rule, in kind order (quiet intervals in their stored order). */
static bool
rule_at(const struct boundary_rules *r, size_t index, enum boundary_kind *kind, int *quiet_index)
{
    for (int k = BOUNDARY_KIND_BLOCK; k <= BOUNDARY_KIND_LAST; k++) {
        if (k == BOUNDARY_KIND_QUIET) {
            if (index < r->quiet_count) {
                *kind = BOUNDARY_KIND_QUIET;
                *quiet_index = (int)index;
                return true;
            }
            index -= r->quiet_count;
            continue;
        }
        if (meta_of(r, (enum boundary_kind)k, 0)->is_set) {
            if (index == 0) {
                *kind = (enum boundary_kind)k;
                *quiet_index = 0;
                return true;
            }
            index--;
        }
    }
    return false;
}

static void
add_trust_sentence(struct text *t, const struct boundary_rules *r, int level, bool is_default)
{
    static const char *const names[4] = { "New", "Familiar", "Trusted", "Close" };
    static const char *const sees[4] = {
        "they don't see your presence, typing or read receipts",
        "they see your presence and may invite you to circles",
        "they see your presence, typing and read receipts, and may invite you to circles",
        ("they see your presence, typing, read receipts and the circles you show close "
         "contacts, and may invite you to circles"),
    };
    text_add(t, "Trust level %d (%s%s): %s", level, names[level], is_default ? ", the default" : "",
             sees[level]);
    if (level <= 1 && !r->heavy.is_set) {
        text_add(t, "; heavy topics ask first");
    }
    if (level == 0 && !r->rate.is_set) {
        text_add(t, "; more than %d messages in any hour arrive as one bundle",
                 BOUNDARY_DIGEST_DEFAULT);
    }
    text_add(t, ".");
}

static void
add_quiet_sentence(struct text *t, const struct boundary_quiet *q)
{
    text_add(t, "Quiet hours %02d:%02d" EN_DASH "%02d:%02d ", q->start_min / 60, q->start_min % 60,
             q->end_min / 60, q->end_min % 60);
    if (q->days == BOUNDARY_DAYS_ALL) {
        text_add(t, "every day");
    } else {
        add_days(t, q->days);
    }
    if (q->tz[0] != '\0') {
        text_add(t, " (%s)", q->tz);
    } else {
        text_add(t, " (your time zone)");
    }
    text_add(t, ": messages wait until the end.");
}

static void
add_rate_sentence(struct text *t, const struct boundary_rules *r)
{
    if (r->rate_mode == BOUNDARY_RATE_OFF) {
        text_add(t, "No pace limit.");
        return;
    }
    text_add(t, "At most %u message%s%s in any ", r->rate_count, r->rate_count == 1 ? "" : "s",
             r->rate_is_scope_all ? " from everyone" : "");
    add_window(t, r->rate_window_s);
    if (r->rate_mode == BOUNDARY_RATE_DIGEST) {
        text_add(t, ": the rest arrive together in one bundle when there is room.");
    } else {
        text_add(t, ": the rest wait and arrive one by one as room frees.");
    }
}

static void
add_rule_sentence(struct text *t, const struct boundary_rules *r, enum boundary_kind kind,
                  int quiet_index, const struct boundary_clock *clk)
{
    const struct boundary_meta *meta = meta_of(r, kind, quiet_index);
    bool has_until_sentence = meta->until != 0;

    switch (kind) {
    case BOUNDARY_KIND_BLOCK:
        text_add(t, "Blocked: nothing they send reaches you, and they are never told.");
        break;
    case BOUNDARY_KIND_MUTE:
        text_add(t, "Muted");
        if (meta->until != 0) {
            text_add(t, " until ");
            add_local_time(t, clk, meta->until);
        }
        text_add(t, ": their messages arrive without a sound, marked with a dot.");
        has_until_sentence = false;
        break;
    case BOUNDARY_KIND_SNOOZE:
        text_add(t, "Snoozed until ");
        add_local_time(t, clk, meta->until);
        text_add(t, ": their messages wait until then.");
        has_until_sentence = false;
        break;
    case BOUNDARY_KIND_QUIET:
        add_quiet_sentence(t, &r->quiet[quiet_index]);
        break;
    case BOUNDARY_KIND_RATE:
        add_rate_sentence(t, r);
        break;
    case BOUNDARY_KIND_HEAVY:
        if (r->heavy_is_off) {
            text_add(t, "Heavy topics don't ask first.");
            break;
        }
        text_add(t, "Heavy topics ask first: you choose whether you have space, and a yes "
                    "opens ");
        add_window(t, r->consent_window_s);
        text_add(t, ".");
        if (r->heavy_words.count > 0) {
            text_add(t, " %d word%s of your own also count as heavy.", r->heavy_words.count,
                     r->heavy_words.count == 1 ? "" : "s");
        }
        break;
    case BOUNDARY_KIND_NOTES:
        if (r->note_words.count == 0) {
            text_add(t, "Content notes: no words of your own yet");
        } else if (r->note_words.count == 1) {
            text_add(t, "Content notes: messages with your word stay folded until you open them");
        } else {
            text_add(t,
                     "Content notes: messages with one of your %d words stay folded until you "
                     "open them",
                     r->note_words.count);
        }
        text_add(t, "; content warnings from them %s.",
                 r->notes_expand_cw ? "are opened" : "stay folded too");
        break;
    case BOUNDARY_KIND_TRUST:
        add_trust_sentence(t, r, r->trust_level, false);
        break;
    case BOUNDARY_KIND_BREAKTHROUGH:
        if (r->breakthrough_per_day == 0) {
            text_add(t, "Urgent messages don't skip quiet hours.");
        } else if (r->breakthrough_per_day == 1) {
            text_add(t, "An urgent message may skip quiet hours once a day.");
        } else {
            text_add(t, "Urgent messages may skip quiet hours %d times a day.",
                     r->breakthrough_per_day);
        }
        break;
    }
    if (has_until_sentence) {
        text_add(t, " Until ");
        add_local_time(t, clk, meta->until);
        text_add(t, ".");
    }
    if (boundary_kind_can_tell(kind) && !meta->tell) {
        text_add(t, " They aren't told; to them it looks delivered.");
    }
}

size_t
boundary_rules_count(const struct boundary_rules *r)
{
    return count_rules(r);
}

int
boundary_rules_summary_one(const struct boundary_rules *r, size_t index,
                           const struct boundary_clock *clk, char *buf, size_t cap)
{
    struct text t = { buf, cap, 0 };
    enum boundary_kind kind;
    int quiet_index;

    if (cap > 0) {
        buf[0] = '\0';
    }
    if (!rule_at(r, index, &kind, &quiet_index)) {
        return KITH_ENOTFOUND;
    }
    add_rule_sentence(&t, r, kind, quiet_index, clk);
    return text_done(&t);
}

int
boundary_rules_summary(const struct boundary_rules *r, const struct boundary_clock *clk, char *buf,
                       size_t cap)
{
    struct text t = { buf, cap, 0 };
    enum boundary_kind kind;
    int quiet_index;

    if (cap > 0) {
        buf[0] = '\0';
    }
    for (size_t i = 0; rule_at(r, i, &kind, &quiet_index); i++) {
        add_rule_sentence(&t, r, kind, quiet_index, clk);
        text_add(&t, "\n");
    }
    if (!r->trust.is_set) {
        add_trust_sentence(&t, r, 0, true);
        text_add(&t, "\n");
    }
    return text_done(&t);
}

static void
add_json_words(struct text *t, const struct boundary_words *w)
{
    text_add(t, "[");
    for (int i = 0; i < w->count; i++) {
        text_add(t, "%s\"", i == 0 ? "" : ",");
        for (const char *p = w->word[i]; *p != '\0'; p++) {
            text_add(t, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
        }
        text_add(t, "\"");
    }
    text_add(t, "]");
}

static void
add_json_rule(struct text *t, const struct boundary_rules *r, enum boundary_kind kind,
              int quiet_index)
{
    static const char *const names[] = { "",     "block",     "mute",  "snooze", "quiet",
                                         "rate", "ask-heavy", "notes", "trust",  "breakthrough" };
    const struct boundary_meta *meta = meta_of(r, kind, quiet_index);
    const struct boundary_quiet *q = &r->quiet[quiet_index];

    text_add(t, "{\"rule\":\"%s\"", names[kind]);
    switch (kind) {
    case BOUNDARY_KIND_QUIET:
        text_add(t, ",\"start\":\"%02d:%02d\",\"end\":\"%02d:%02d\",\"days\":[", q->start_min / 60,
                 q->start_min % 60, q->end_min / 60, q->end_min % 60);
        for (int d = 0, n = 0; d < 7; d++) {
            if ((q->days >> d) & 1) {
                text_add(t, "%s\"%s\"", n++ == 0 ? "" : ",", day_json[d]);
            }
        }
        text_add(t, "],\"tz\":\"%s\"", q->tz);
        break;
    case BOUNDARY_KIND_RATE:
        text_add(t, ",\"mode\":\"%s\"",
                 r->rate_mode == BOUNDARY_RATE_OFF      ? "off"
                 : r->rate_mode == BOUNDARY_RATE_DIGEST ? "digest"
                                                        : "hold");
        if (r->rate_mode != BOUNDARY_RATE_OFF) {
            text_add(t, ",\"count\":%u,\"window_s\":%u,\"scope\":\"%s\"", r->rate_count,
                     r->rate_window_s, r->rate_is_scope_all ? "all" : "contact");
        }
        break;
    case BOUNDARY_KIND_HEAVY:
        text_add(t, ",\"on\":%s,\"window_s\":%u,\"words\":", r->heavy_is_off ? "false" : "true",
                 r->consent_window_s);
        add_json_words(t, &r->heavy_words);
        break;
    case BOUNDARY_KIND_NOTES:
        text_add(t, ",\"cw\":\"%s\",\"words\":", r->notes_expand_cw ? "expand" : "fold");
        add_json_words(t, &r->note_words);
        break;
    case BOUNDARY_KIND_TRUST:
        text_add(t, ",\"level\":%d", r->trust_level);
        break;
    case BOUNDARY_KIND_BREAKTHROUGH:
        text_add(t, ",\"per_day\":%d", r->breakthrough_per_day);
        break;
    case BOUNDARY_KIND_BLOCK:
    case BOUNDARY_KIND_MUTE:
    case BOUNDARY_KIND_SNOOZE:
        break;
    }
    text_add(t, ",\"until\":");
    if (meta->until != 0) {
        add_utc_iso(t, meta->until);
    } else {
        text_add(t, "null");
    }
    text_add(t, ",\"tell\":%s}", meta->tell ? "true" : "false");
}

int
boundary_rules_json(const struct boundary_rules *r, char *buf, size_t cap)
{
    struct text t = { buf, cap, 0 };
    enum boundary_kind kind;
    int quiet_index;

    if (cap > 0) {
        buf[0] = '\0';
    }
    text_add(&t, "{\"rules\":[");
    for (size_t i = 0; rule_at(r, i, &kind, &quiet_index); i++) {
        text_add(&t, "%s", i == 0 ? "" : ",");
        add_json_rule(&t, r, kind, quiet_index);
    }
    text_add(&t, "]}");
    return text_done(&t);
}
