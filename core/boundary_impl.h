/*
 * boundary_impl: the rule set's layout and the calendar helpers shared by boundary.c (evaluate),
 * boundary_parse.c (CLI words, bytes) and boundary_text.c (summaries, JSON). Not for other
 * modules: include core/boundary.h instead.
 */
#ifndef KITH_CORE_BOUNDARY_IMPL_H
#define KITH_CORE_BOUNDARY_IMPL_H

#include "core/boundary.h"

#define BOUNDARY_TIME_MAX         INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define BOUNDARY_CONSENT_DEFAULT  3600
#define BOUNDARY_DAYS_ALL         0x7f /* bit 0 = Monday ... bit 6 = Sunday */
#define BOUNDARY_VERSION          1    /* first byte of an encoded rule set */
#define BOUNDARY_DURATION_MAX     (366 * 86400)
#define BOUNDARY_RATE_COUNT_MAX   1000
#define BOUNDARY_BREAKTHROUGH_MAX 24
#define BOUNDARY_TELL_FLAG        0x01 /* encoded flags: the rule is told to the sender */

/* Rule kinds, in the order they are encoded, listed and summarised. */
enum boundary_kind {
    BOUNDARY_KIND_BLOCK = 1,
    BOUNDARY_KIND_MUTE,
    BOUNDARY_KIND_SNOOZE,
    BOUNDARY_KIND_QUIET,
    BOUNDARY_KIND_RATE,
    BOUNDARY_KIND_HEAVY,
    BOUNDARY_KIND_NOTES,
    BOUNDARY_KIND_TRUST,
    BOUNDARY_KIND_BREAKTHROUGH,
    BOUNDARY_KIND_LAST = BOUNDARY_KIND_BREAKTHROUGH
};

enum boundary_rate_mode { BOUNDARY_RATE_OFF = 0, BOUNDARY_RATE_DIGEST = 1, BOUNDARY_RATE_HOLD = 2 };

/* Every rule: set or not, told to the sender or not, in force until `until` (0 = no end). */
struct boundary_meta {
    bool is_set;
    bool tell;
    int64_t until;
};

/* Lower-case (ASCII), unique words. */
struct boundary_words {
    uint8_t count;
    char word[BOUNDARY_WORDS_MAX][BOUNDARY_WORD_MAX];
};

struct boundary_quiet {
    struct boundary_meta meta;
    uint16_t start_min;       /* minutes after local midnight, 0..1439 */
    uint16_t end_min;         /* != start_min; <= start_min means the next day */
    uint8_t days;             /* the days an interval starts on, bit 0 = Monday */
    char tz[BOUNDARY_TZ_MAX]; /* "" = the person's zone */
};

struct boundary_rules {
    struct boundary_meta block, mute, snooze, rate, heavy, notes, trust, breakthrough;
    /* snooze: snooze.until is the release; mute: mute.until 0 = always */
    uint8_t rate_mode; /* enum boundary_rate_mode; OFF = explicitly no limit */
    bool rate_is_scope_all;
    uint32_t rate_count;
    uint32_t rate_window_s;
    bool heavy_is_off;
    uint32_t consent_window_s;
    struct boundary_words heavy_words;
    bool notes_expand_cw;
    struct boundary_words note_words;
    uint8_t trust_level;
    uint8_t breakthrough_per_day;
    uint8_t quiet_count;
    struct boundary_quiet quiet[BOUNDARY_QUIET_MAX];
};

bool boundary_meta_active(const struct boundary_meta *meta, int64_t t);
bool boundary_kind_can_tell(enum boundary_kind kind);
bool boundary_tz_name_ok(const char *tz, size_t len);
bool boundary_word_ok(const char *word, size_t len);

int64_t boundary_floordiv(int64_t a, int64_t b);
int64_t boundary_days_from_civil(int64_t y, unsigned m, unsigned d);
void boundary_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
int boundary_weekday(int64_t days); /* 0 = Monday */
/* The zone's offset at t; an unknown zone (or no lookup) counts as UTC. */
int boundary_offset(const struct boundary_clock *clk, const char *tz, int64_t t);
/* Local wall time (seconds as if UTC) to an instant: gap -> next valid, ambiguous -> first. */
int64_t boundary_local_to_utc(const struct boundary_clock *clk, const char *tz, int64_t local);

#endif
