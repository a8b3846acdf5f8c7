/*
 * boundary_parse: a rule set from CLI words (DOMAIN.md §3 syntax, typed by a person: every
 * refusal is a kind sentence). Works on a scratch copy and changes the caller's set only when
 * every word parsed.
 */
#include <string.h>

#include <sodium.h>

#include "core/boundary_impl.h"

static const char E_UNKNOWN[] = "I don't know that rule. Try block, mute, snooze, quiet, rate, "
                                "ask-heavy, notes, trust, breakthrough, tell or until.";
static const char E_NO_VALUE[] = "That rule takes no value: write just block.";
static const char E_MUTE[] = "mute takes a length like 1h, 8h, 1d or 1w, or always, or "
                             "until=2026-12-01T09:00.";
static const char E_SNOOZE[] = "snooze needs an end, like snooze=until=2026-12-01T09:00 or "
                               "snooze=8h.";
static const char E_TIME[] = "I couldn't read that time; write it like 2026-12-01T09:00.";
static const char E_PAST[] = "That time has already passed; choose one in the future.";
static const char E_DURATION[] = "A length is a number and a unit, like 30m, 8h, 1d or 1w, "
                                 "and at most a year.";
static const char E_QUIET[] = "Quiet hours are written like quiet=22:00-08:00, with optional "
                              "days and zone: quiet=22:00-08:00,mon-fri@Europe/Berlin.";
static const char E_CLOCK[] = "Times of day are written HH:MM, from 00:00 to 23:59.";
static const char E_QUIET_SAME[] = "Quiet hours need an end that differs from their start.";
static const char E_DAYS[] = "Days are written like mon-fri, sat,sun or weekdays.";
static const char E_TZ[] = "I don't know that time zone; use an Area/City name like "
                           "Europe/Berlin.";
static const char E_QUIET_MAX[] = "One person can have up to 8 quiet-hours intervals.";
static const char E_RATE[] = "A pace is written like rate=5/1h, optionally with :digest or "
                             ":hold and ,scope=all, or rate=off.";
static const char E_RATE_COUNT[] = "The number of messages in a pace is between 1 and 1000.";
static const char E_RATE_WINDOW[] = "The window of a pace is between 1 minute and a year, like "
                                    "rate=5/1h.";
static const char E_HEAVY[] = "ask-heavy takes on, off, window:60m or words, like "
                              "ask-heavy=window:30m,+word.";
static const char E_WINDOW[] = "A consent window lasts from 1 minute to 24 hours, like "
                               "window:60m.";
static const char E_WORD[] = "A word on a list is 1 to 31 bytes of text, without commas or "
                             "control characters.";
static const char E_WORDS_MAX[] = "A list holds up to 32 words.";
static const char E_NOTES[] = "notes needs words, like notes=+word,-word (or cw:expand to open "
                              "content warnings).";
static const char E_TRUST[] = "Trust is a level from 0 (new) to 3 (close), like trust=2.";
static const char E_BREAKTHROUGH[] = "breakthrough is a number per day from 0 to 24, like "
                                     "breakthrough=1/day.";
static const char E_TELL_FIRST[] = "tell=on or tell=off goes right after the rule it is about, "
                                   "like quiet=22:00-08:00 tell=off.";
static const char E_TELL_VALUE[] = "tell is either on or off.";
static const char E_TELL_PRIVATE[] = "That rule stays private: block, mute, notes and trust are "
                                     "never told to anyone.";
static const char E_UNTIL_FIRST[] = "until= goes right after the rule it ends, like "
                                    "quiet=22:00-08:00 until=2026-12-24T09:00.";
static const char E_CLEAR[] = "To clear a rule, name it: block, mute, snooze, quiet, rate, "
                              "ask-heavy, notes, trust or breakthrough.";
static const char E_CLOCK_BAD[] = "The clock given to kith is outside the years 1970 to 9999.";

/* A slice of a CLI word. */
struct view {
    const char *p;
    size_t len;
};

static struct view
view_of(const char *s)
{
    return (struct view){ s, strlen(s) };
}

static bool
view_is(struct view v, const char *lit)
{
    size_t n = strlen(lit);
    if (v.len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = v.p[i];
        if (ch >= 'A' && ch <= 'Z') {
            ch = (char)(ch - 'A' + 'a');
        }
        if (ch != lit[i]) {
            return false;
        }
    }
    return true;
}

static bool
view_starts(struct view v, const char *lit, struct view *rest)
{
    size_t n = strlen(lit);
    if (v.len < n || !view_is((struct view){ v.p, n }, lit)) {
        return false;
    }
    *rest = (struct view){ v.p + n, v.len - n };
    return true;
}

/* The part of *v before the first sep; *v becomes the rest (empty when sep is absent). */
static struct view
view_cut(struct view *v, char sep, bool *found)
{
    const char *at = v->len > 0 ? memchr(v->p, sep, v->len) : NULL;
    struct view head = *v;
    *found = at != NULL;
    if (at == NULL) {
        *v = (struct view){ v->p + v->len, 0 };
        return head;
    }
    head.len = (size_t)(at - v->p);
    *v = (struct view){ at + 1, v->len - head.len - 1 };
    return head;
}

static bool
view_uint(struct view v, uint32_t max, uint32_t *out)
{
    uint32_t value = 0;
    if (v.len == 0 || v.len > 9) {
        return false;
    }
    for (size_t i = 0; i < v.len; i++) {
        if (v.p[i] < '0' || v.p[i] > '9') {
            return false;
        }
        value = value * 10 + (uint32_t)(v.p[i] - '0');
    }
    if (value > max) {
        return false;
    }
    *out = value;
    return true;
}

/* "30m", "8h", "1d", "1w"; with bare units allowed also "h", "day" (rate=20/h, 1/day). */
static bool
parse_duration(struct view v, bool may_omit_number, int64_t *secs)
{
    size_t digits = 0;
    uint32_t n = 1;
    static const struct {
        const char *name;
        int64_t secs;
    } units[] = { { "s", 1 },       { "m", 60 },      { "min", 60 },
                  { "h", 3600 },    { "hour", 3600 }, { "d", 86400 },
                  { "day", 86400 }, { "w", 604800 },  { "week", 604800 } };

    while (digits < v.len && v.p[digits] >= '0' && v.p[digits] <= '9') {
        digits++;
    }
    if (digits == 0 && !may_omit_number) {
        return false;
    }
    if (digits > 0 && !view_uint((struct view){ v.p, digits }, 99999, &n)) {
        return false;
    }
    struct view unit = { v.p + digits, v.len - digits };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (view_is(unit, units[i].name)) {
            *secs = (int64_t)n * units[i].secs;
            return *secs > 0 && *secs <= BOUNDARY_DURATION_MAX;
        }
    }
    return false;
}

static bool
parse_two_digits(const char *p, unsigned *out)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') {
        return false;
    }
    *out = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
    return true;
}

/* "H:MM" or "HH:MM"; "24:00" only where allow_24 (an interval ending at midnight). */
static bool
parse_clock(struct view v, bool allow_24, uint16_t *minutes)
{
    unsigned h;
    unsigned m;
    char padded[5];

    if (v.len == 4) {
        padded[0] = '0';
        memcpy(padded + 1, v.p, 4);
    } else if (v.len == 5) {
        memcpy(padded, v.p, 5);
    } else {
        return false;
    }
    if (padded[2] != ':' || !parse_two_digits(padded, &h) || !parse_two_digits(padded + 3, &m) ||
        m > 59) {
        return false;
    }
    if (h == 24 && m == 0 && allow_24) {
        h = 0;
    } else if (h > 23) {
        return false;
    }
    *minutes = (uint16_t)(h * 60 + m);
    return true;
}

/* YYYY-MM-DD[T ]HH:MM[:SS][Z|±HH:MM]; without a zone it is wall time in the person's zone. */
static bool
parse_iso(struct view v, const struct boundary_clock *clk, int64_t *t)
{
    unsigned year_hi;
    unsigned year_lo;
    unsigned month;
    unsigned day;
    unsigned hour;
    unsigned minute;
    unsigned second = 0;
    size_t at = 16;
    static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    if (v.len < 16 || !parse_two_digits(v.p, &year_hi) || !parse_two_digits(v.p + 2, &year_lo) ||
        v.p[4] != '-' || !parse_two_digits(v.p + 5, &month) || v.p[7] != '-' ||
        !parse_two_digits(v.p + 8, &day) || (v.p[10] != 'T' && v.p[10] != ' ') ||
        !parse_two_digits(v.p + 11, &hour) || v.p[13] != ':' ||
        !parse_two_digits(v.p + 14, &minute)) {
        return false;
    }
    if (v.len >= 19 && v.p[16] == ':') {
        if (!parse_two_digits(v.p + 17, &second) || second > 59) {
            return false;
        }
        at = 19;
    }
    int64_t year = year_hi * 100 + year_lo;
    bool is_leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > mdays[month - 1] ||
        (month == 2 && day == 29 && !is_leap) || hour > 23 || minute > 59) {
        return false;
    }
    int64_t local =
        boundary_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    struct view zone = { v.p + at, v.len - at };
    unsigned zh;
    unsigned zm;
    if (zone.len == 0) {
        *t = boundary_local_to_utc(clk, "", local);
    } else if (view_is(zone, "z")) {
        *t = local;
    } else if (zone.len == 6 && (zone.p[0] == '+' || zone.p[0] == '-') &&
               parse_two_digits(zone.p + 1, &zh) && zone.p[3] == ':' &&
               parse_two_digits(zone.p + 4, &zm) && zh <= 23 && zm <= 59) {
        int64_t offset = (int64_t)zh * 3600 + zm * 60;
        *t = zone.p[0] == '+' ? local - offset : local + offset;
    } else {
        return false;
    }
    return *t >= 0 && *t <= BOUNDARY_TIME_MAX;
}

static bool
parse_day(struct view v, int *day)
{
    static const char *const names[7][2] = {
        { "mon", "monday" }, { "tue", "tuesday" },  { "wed", "wednesday" }, { "thu", "thursday" },
        { "fri", "friday" }, { "sat", "saturday" }, { "sun", "sunday" },
    };
    for (int i = 0; i < 7; i++) {
        if (view_is(v, names[i][0]) || view_is(v, names[i][1])) {
            *day = i;
            return true;
        }
    }
    return false;
}

/* "mon-fri", "sat,sun", "fri-mon" (wraps), "weekdays", "weekends", "daily". */
static bool
parse_days(struct view v, uint8_t *days)
{
    bool found = true;
    *days = 0;
    while (found) {
        struct view item = view_cut(&v, ',', &found);
        bool is_range;
        struct view first = view_cut(&item, '-', &is_range);
        int from;
        int to;
        if (view_is(first, "weekdays") && !is_range) {
            *days |= 0x1f;
            continue;
        }
        if (view_is(first, "weekends") && !is_range) {
            *days |= 0x60;
            continue;
        }
        if ((view_is(first, "daily") || view_is(first, "every-day")) && !is_range) {
            *days |= BOUNDARY_DAYS_ALL;
            continue;
        }
        if (!parse_day(first, &from)) {
            return false;
        }
        to = from;
        if (is_range && !parse_day(item, &to)) {
            return false;
        }
        for (int d = from;; d = (d + 1) % 7) {
            *days |= (uint8_t)(1u << d);
            if (d == to) {
                break;
            }
        }
    }
    return true;
}

static bool
zone_known(const struct boundary_clock *clk, const char *tz)
{
    int offset_s;
    if (clk == NULL || clk->utc_offset == NULL) {
        return true; /* nothing to check against; evaluation treats unknown zones as UTC */
    }
    return clk->utc_offset(clk->ctx, tz, clk->now, &offset_s) == KITH_OK;
}

static void
clear_kind(struct boundary_rules *r, enum boundary_kind kind)
{
    switch (kind) {
    case BOUNDARY_KIND_BLOCK:
        memset(&r->block, 0, sizeof r->block);
        break;
    case BOUNDARY_KIND_MUTE:
        memset(&r->mute, 0, sizeof r->mute);
        break;
    case BOUNDARY_KIND_SNOOZE:
        memset(&r->snooze, 0, sizeof r->snooze);
        break;
    case BOUNDARY_KIND_QUIET:
        memset(r->quiet, 0, sizeof r->quiet);
        r->quiet_count = 0;
        break;
    case BOUNDARY_KIND_RATE:
        memset(&r->rate, 0, sizeof r->rate);
        r->rate_mode = BOUNDARY_RATE_OFF;
        r->rate_is_scope_all = false;
        r->rate_count = 0;
        r->rate_window_s = 0;
        break;
    case BOUNDARY_KIND_HEAVY:
        memset(&r->heavy, 0, sizeof r->heavy);
        r->heavy_is_off = false;
        r->consent_window_s = 0;
        sodium_memzero(&r->heavy_words, sizeof r->heavy_words);
        break;
    case BOUNDARY_KIND_NOTES:
        memset(&r->notes, 0, sizeof r->notes);
        r->notes_expand_cw = false;
        sodium_memzero(&r->note_words, sizeof r->note_words);
        break;
    case BOUNDARY_KIND_TRUST:
        memset(&r->trust, 0, sizeof r->trust);
        r->trust_level = 0;
        break;
    case BOUNDARY_KIND_BREAKTHROUGH:
        memset(&r->breakthrough, 0, sizeof r->breakthrough);
        r->breakthrough_per_day = 0;
        break;
    }
}

static bool
kind_of(struct view name, enum boundary_kind *kind)
{
    static const char *const names[] = { "block",     "mute",  "snooze", "quiet",       "rate",
                                         "ask-heavy", "notes", "trust",  "breakthrough" };
    for (int i = 0; i < BOUNDARY_KIND_LAST; i++) {
        if (view_is(name, names[i])) {
            *kind = (enum boundary_kind)(i + 1);
            return true;
        }
    }
    return false;
}

/* +word adds, -word removes, a bare word adds. Lower-cased ASCII, duplicates ignored. */
static const char *
words_edit(struct boundary_words *w, struct view item)
{
    char word[BOUNDARY_WORD_MAX];
    bool is_removal = item.len > 0 && item.p[0] == '-';
    const char *why = NULL;

    if (item.len > 0 && (item.p[0] == '+' || item.p[0] == '-')) {
        item.p++;
        item.len--;
    }
    if (item.len == 0 || item.len >= sizeof word) {
        return E_WORD;
    }
    for (size_t i = 0; i < item.len; i++) {
        char ch = item.p[i];
        word[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    word[item.len] = '\0';
    if (!boundary_word_ok(word, item.len)) {
        why = E_WORD;
        goto out;
    }
    int found = -1;
    for (int i = 0; i < w->count; i++) {
        if (strcmp(w->word[i], word) == 0) {
            found = i;
        }
    }
    if (is_removal && found >= 0) {
        memmove(w->word[found], w->word[found + 1],
                (size_t)(w->count - found - 1) * sizeof w->word[0]);
        w->count--;
        sodium_memzero(w->word[w->count], sizeof w->word[0]);
    } else if (!is_removal && found < 0) {
        if (w->count >= BOUNDARY_WORDS_MAX) {
            why = E_WORDS_MAX;
            goto out;
        }
        memcpy(w->word[w->count++], word, item.len + 1);
    }
out:
    sodium_memzero(word, sizeof word);
    return why;
}

static const char *
set_mute(struct boundary_rules *r, struct view value, bool has_value,
         const struct boundary_clock *clk)
{
    struct view rest;
    int64_t secs;

    clear_kind(r, BOUNDARY_KIND_MUTE);
    r->mute.is_set = true;
    if (!has_value || view_is(value, "always")) {
        return NULL;
    }
    if (view_starts(value, "until=", &rest)) {
        if (!parse_iso(rest, clk, &r->mute.until)) {
            return E_TIME;
        }
        return r->mute.until > clk->now ? NULL : E_PAST;
    }
    if (!parse_duration(value, false, &secs)) {
        return E_MUTE;
    }
    r->mute.until = clk->now + secs;
    return r->mute.until <= BOUNDARY_TIME_MAX ? NULL : E_DURATION;
}

static const char *
set_snooze(struct boundary_rules *r, struct view value, bool has_value,
           const struct boundary_clock *clk)
{
    struct view rest;
    int64_t secs;

    clear_kind(r, BOUNDARY_KIND_SNOOZE);
    r->snooze.is_set = true;
    r->snooze.tell = true;
    if (!has_value) {
        return E_SNOOZE;
    }
    if (view_starts(value, "until=", &rest)) {
        if (!parse_iso(rest, clk, &r->snooze.until)) {
            return E_TIME;
        }
        return r->snooze.until > clk->now ? NULL : E_PAST;
    }
    if (!parse_duration(value, false, &secs)) {
        return E_SNOOZE;
    }
    r->snooze.until = clk->now + secs;
    return r->snooze.until <= BOUNDARY_TIME_MAX ? NULL : E_DURATION;
}

/* "22:00-08:00[,days][@Area/City]"; *index gets the interval's slot. */
static const char *
set_quiet(struct boundary_rules *r, struct view value, const struct boundary_clock *clk, int *index)
{
    struct boundary_quiet q = { .meta = { .is_set = true, .tell = true }, .days = 0x7f };
    bool has;
    const char *at = memchr(value.p, '@', value.len);
    struct view zone = { NULL, 0 };

    if (at != NULL) {
        zone = (struct view){ at + 1, value.len - (size_t)(at - value.p) - 1 };
        value.len = (size_t)(at - value.p);
        if (!boundary_tz_name_ok(zone.p, zone.len)) {
            return E_TZ;
        }
        memcpy(q.tz, zone.p, zone.len);
    } else if (clk != NULL && clk->tz != NULL && boundary_tz_name_ok(clk->tz, strlen(clk->tz))) {
        memcpy(q.tz, clk->tz, strlen(clk->tz)); /* the zone is stored with the rule */
    }
    struct view times = view_cut(&value, ',', &has);
    if (has && !parse_days(value, &q.days)) {
        return E_DAYS;
    }
    struct view start = view_cut(&times, '-', &has);
    if (!has) {
        return E_QUIET;
    }
    if (!parse_clock(start, false, &q.start_min) || !parse_clock(times, true, &q.end_min)) {
        return E_CLOCK;
    }
    if (q.start_min == q.end_min) {
        return E_QUIET_SAME;
    }
    if (q.tz[0] != '\0' && !zone_known(clk, q.tz)) {
        return E_TZ;
    }
    int slot = r->quiet_count;
    for (int i = 0; i < r->quiet_count; i++) {
        const struct boundary_quiet *old = &r->quiet[i];
        if (old->start_min == q.start_min && old->end_min == q.end_min && old->days == q.days &&
            strcmp(old->tz, q.tz) == 0) {
            slot = i;
        }
    }
    if (slot == BOUNDARY_QUIET_MAX) {
        return E_QUIET_MAX;
    }
    if (slot == r->quiet_count) {
        r->quiet_count++;
    }
    r->quiet[slot] = q;
    *index = slot;
    return NULL;
}

/* "N/W[:digest|:hold][,scope=all]" or "off". */
static const char *
set_rate(struct boundary_rules *r, struct view value)
{
    bool has;
    uint32_t count;
    int64_t window;

    clear_kind(r, BOUNDARY_KIND_RATE);
    r->rate.is_set = true;
    r->rate.tell = true;
    if (view_is(value, "off")) {
        return NULL;
    }
    struct view main_part = view_cut(&value, ',', &has);
    if (has && !view_is(value, "scope=all")) {
        return E_RATE;
    }
    r->rate_is_scope_all = has;
    struct view pace = view_cut(&main_part, ':', &has);
    r->rate_mode = BOUNDARY_RATE_DIGEST;
    if (has && view_is(main_part, "hold")) {
        r->rate_mode = BOUNDARY_RATE_HOLD;
    } else if (has && !view_is(main_part, "digest")) {
        return E_RATE;
    }
    struct view number = view_cut(&pace, '/', &has);
    if (!has) {
        return E_RATE;
    }
    if (!view_uint(number, BOUNDARY_RATE_COUNT_MAX, &count) || count == 0) {
        return E_RATE_COUNT;
    }
    if (!parse_duration(pace, true, &window) || window < 60) {
        return E_RATE_WINDOW;
    }
    r->rate_count = count;
    r->rate_window_s = (uint32_t)window;
    return NULL;
}

/* "", "on", "off", or items "window:60m", "+word", "-word". */
static const char *
set_heavy(struct boundary_rules *r, struct view value, bool has_value)
{
    bool was_on = r->heavy.is_set && !r->heavy_is_off;
    struct boundary_words keep = r->heavy_words;
    uint32_t window = was_on ? r->consent_window_s : BOUNDARY_CONSENT_DEFAULT;
    const char *why = NULL;
    bool more = has_value;
    struct view rest;
    int64_t secs;

    clear_kind(r, BOUNDARY_KIND_HEAVY);
    r->heavy.is_set = true;
    r->heavy.tell = true;
    if (has_value && view_is(value, "off")) {
        r->heavy_is_off = true;
        goto out;
    }
    if (was_on) {
        r->heavy_words = keep;
    }
    r->consent_window_s = window;
    if (has_value && view_is(value, "on")) {
        goto out;
    }
    while (more && why == NULL) {
        struct view item = view_cut(&value, ',', &more);
        if (view_starts(item, "window:", &rest) || view_starts(item, "window=", &rest)) {
            if (!parse_duration(rest, false, &secs) || secs < 60 || secs > 86400) {
                why = E_WINDOW;
            } else {
                r->consent_window_s = (uint32_t)secs;
            }
        } else if (item.len > 0 && (item.p[0] == '+' || item.p[0] == '-')) {
            why = words_edit(&r->heavy_words, item);
        } else {
            why = E_HEAVY;
        }
    }
out:
    sodium_memzero(&keep, sizeof keep);
    return why;
}

static const char *
set_notes(struct boundary_rules *r, struct view value, bool has_value)
{
    bool was_set = r->notes.is_set;
    struct boundary_words keep = r->note_words;
    bool expand = r->notes_expand_cw;
    const char *why = NULL;
    bool more = has_value && value.len > 0;

    if (!more) {
        why = E_NOTES;
        goto out;
    }
    clear_kind(r, BOUNDARY_KIND_NOTES);
    r->notes.is_set = true;
    if (was_set) {
        r->note_words = keep;
        r->notes_expand_cw = expand;
    }
    while (more && why == NULL) {
        struct view item = view_cut(&value, ',', &more);
        if (view_is(item, "cw:expand")) {
            r->notes_expand_cw = true;
        } else if (view_is(item, "cw:fold")) {
            r->notes_expand_cw = false;
        } else {
            why = words_edit(&r->note_words, item);
        }
    }
out:
    sodium_memzero(&keep, sizeof keep);
    return why;
}

/* The rule the last word set, for tell= and until=. */
struct last_rule {
    enum boundary_kind kind; /* 0 = none yet */
    struct boundary_meta *meta;
};

static const char *
set_modifier(struct view name, struct view value, bool has_value, const struct boundary_clock *clk,
             struct last_rule *last)
{
    if (view_is(name, "tell")) {
        if (last->meta == NULL) {
            return E_TELL_FIRST;
        }
        if (!has_value || (!view_is(value, "on") && !view_is(value, "off"))) {
            return E_TELL_VALUE;
        }
        if (view_is(value, "on") && !boundary_kind_can_tell(last->kind)) {
            return E_TELL_PRIVATE;
        }
        last->meta->tell = view_is(value, "on");
        return NULL;
    }
    if (last->meta == NULL) {
        return E_UNTIL_FIRST;
    }
    if (!has_value || !parse_iso(value, clk, &last->meta->until)) {
        return E_TIME;
    }
    return last->meta->until > clk->now ? NULL : E_PAST;
}

static const char *
set_one(struct boundary_rules *r, const char *arg, const struct boundary_clock *clk,
        struct last_rule *last)
{
    struct view value = view_of(arg);
    bool has_value;
    struct view name = view_cut(&value, '=', &has_value);
    enum boundary_kind kind;
    uint32_t n;
    int quiet_index = 0;
    const char *why = NULL;

    if (view_is(name, "tell") || view_is(name, "until")) {
        return set_modifier(name, value, has_value, clk, last);
    }
    if (!kind_of(name, &kind)) {
        return E_UNKNOWN;
    }
    switch (kind) {
    case BOUNDARY_KIND_BLOCK:
        clear_kind(r, kind);
        r->block.is_set = true;
        why = has_value ? E_NO_VALUE : NULL;
        break;
    case BOUNDARY_KIND_MUTE:
        why = set_mute(r, value, has_value, clk);
        break;
    case BOUNDARY_KIND_SNOOZE:
        why = set_snooze(r, value, has_value, clk);
        break;
    case BOUNDARY_KIND_QUIET:
        why = has_value ? set_quiet(r, value, clk, &quiet_index) : E_QUIET;
        break;
    case BOUNDARY_KIND_RATE:
        why = has_value ? set_rate(r, value) : E_RATE;
        break;
    case BOUNDARY_KIND_HEAVY:
        why = set_heavy(r, value, has_value);
        break;
    case BOUNDARY_KIND_NOTES:
        why = set_notes(r, value, has_value);
        break;
    case BOUNDARY_KIND_TRUST:
        clear_kind(r, kind);
        r->trust.is_set = true;
        if (!has_value || !view_uint(value, 3, &n)) {
            return E_TRUST;
        }
        r->trust_level = (uint8_t)n;
        break;
    case BOUNDARY_KIND_BREAKTHROUGH: {
        clear_kind(r, kind);
        r->breakthrough.is_set = true;
        r->breakthrough.tell = true;
        bool has_per;
        struct view count = view_cut(&value, '/', &has_per);
        if (!has_value || !view_uint(count, BOUNDARY_BREAKTHROUGH_MAX, &n) ||
            (has_per && !view_is(value, "day") && !view_is(value, "d") && !view_is(value, "1d"))) {
            return E_BREAKTHROUGH;
        }
        r->breakthrough_per_day = (uint8_t)n;
        break;
    }
    }
    last->kind = kind;
    last->meta = kind == BOUNDARY_KIND_QUIET    ? &r->quiet[quiet_index].meta
                 : kind == BOUNDARY_KIND_BLOCK  ? &r->block
                 : kind == BOUNDARY_KIND_MUTE   ? &r->mute
                 : kind == BOUNDARY_KIND_SNOOZE ? &r->snooze
                 : kind == BOUNDARY_KIND_RATE   ? &r->rate
                 : kind == BOUNDARY_KIND_HEAVY  ? &r->heavy
                 : kind == BOUNDARY_KIND_NOTES  ? &r->notes
                 : kind == BOUNDARY_KIND_TRUST  ? &r->trust
                                                : &r->breakthrough;
    return why;
}

int
boundary_rules_set(struct boundary_rules *r, const char *const *args, size_t n,
                   const struct boundary_clock *clk, const char **why)
{
    struct boundary_rules next = *r;
    struct last_rule last = { 0, NULL };
    int rc = KITH_OK;

    *why = NULL;
    if (clk->now < 0 || clk->now > BOUNDARY_TIME_MAX) {
        *why = E_CLOCK_BAD;
        rc = KITH_EINVAL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        *why = set_one(&next, args[i], clk, &last);
        if (*why != NULL) {
            rc = KITH_EINVAL;
            goto out;
        }
    }
    *r = next;
out:
    sodium_memzero(&next, sizeof next);
    return rc;
}

int
boundary_rules_clear(struct boundary_rules *r, const char *const *args, size_t n, const char **why)
{
    enum boundary_kind kind;

    *why = NULL;
    if (n == 0) {
        sodium_memzero(r, sizeof *r);
        return KITH_OK;
    }
    for (size_t i = 0; i < n; i++) {
        struct view value = view_of(args[i]);
        bool has_value;
        struct view name = view_cut(&value, '=', &has_value);
        if (!kind_of(name, &kind)) {
            *why = E_CLEAR;
            return KITH_EINVAL;
        }
    }
    for (size_t i = 0; i < n; i++) { /* all names were valid: now clear */
        struct view value = view_of(args[i]);
        bool has_value;
        if (kind_of(view_cut(&value, '=', &has_value), &kind)) {
            clear_kind(r, kind);
        }
    }
    return KITH_OK;
}
