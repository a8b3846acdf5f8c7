/*
 * boundary: the rules one person set for one contact (DOMAIN.md §3), and what they mean for a
 * message arriving now. Pure: no I/O, no clock reads, no globals; the caller passes now and the
 * time-zone lookup (boundary_tz_system, in boundary_tz.c, is the one impure piece).
 * Decisions DOMAIN.md leaves open:
 * - No trust rule means level 0 (New), whose defaults (ask-heavy, rate 20/1h:digest) apply unless
 *   `ask-heavy=off` / `rate=off` or an explicit rule replaces them; level 1 keeps ask-heavy only.
 * - `tell=on|off` and `until=ISO` are separate words that modify the rule just before them.
 *   ISO times without Z/±HH:MM are wall time in the person's zone (clk->tz); gaps move to the
 *   next valid instant, ambiguous times take their first occurrence. Durations: Nm Nh Nd Nw.
 * - A quiet day set names the day an interval STARTS on (Fri 22:00-08:00 ends Sat 08:00);
 *   no @zone stores the person's zone (clk->tz) with the rule; an unknown zone evaluates as UTC.
 * - An open consent window skips ask-heavy only; a message-level "yes" (has_consent) also
 *   skips content notes. Heavy words belong to ask-heavy (`ask-heavy=+word`), note words to notes.
 * - Words match ASCII-case-insensitively on word boundaries (bytes >= 0x80 count as letters).
 * - A sender content warning folds unless `notes=cw:expand`; a tell=off hold reads "delivered".
 * - Held/consent results are rounded UP to the minute for the sender, so "08:00" is never early.
 */
#ifndef KITH_CORE_BOUNDARY_H
#define KITH_CORE_BOUNDARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define BOUNDARY_QUIET_MAX      8    /* quiet-hours intervals per contact */
#define BOUNDARY_WORDS_MAX      32   /* words in one list (notes, ask-heavy) */
#define BOUNDARY_WORD_MAX       32   /* bytes in one word, with its NUL */
#define BOUNDARY_TZ_MAX         48   /* bytes in an IANA zone name, with its NUL */
#define BOUNDARY_ENCODED_MAX    4096 /* an encoded rule set never exceeds this */
#define BOUNDARY_DIGEST_DEFAULT 20   /* trust level 0: rate 20/1h:digest */

/* The caller's view of time: now, the person's zone ("" or NULL: system local) and a lookup of
 * a zone's UTC offset at instant t (seconds east of UTC). Returns KITH_OK or an error. */
struct boundary_clock {
    int64_t now;
    const char *tz;
    int (*utc_offset)(void *ctx, const char *tz, int64_t t, int *offset_s);
    void *ctx;
};

/* The system tz database: sets TZ, tzset(), localtime_r(), restores TZ (not thread-safe; the
 * engine has one thread). "" = unchanged TZ. KITH_ENOTFOUND for an unknown or unsafe name. */
KITH_NODISCARD int boundary_tz_system(void *ctx, const char *tz, int64_t t, int *offset_s);

struct boundary_msg {
    bool is_control;       /* ack, key update, boundary notice, repair pause/end/check-in */
    bool is_heavy;         /* the sender marked it heavy */
    bool is_urgent;        /* the sender marked it urgent (breakthrough) */
    bool has_content_note; /* the sender added a content warning */
    bool has_consent;      /* the receiver said "yes, show it" to this message */
    const char *text;      /* UTF-8, need not be NUL-terminated; NULL when text_len is 0 */
    size_t text_len;
};

struct boundary_counters {
    const int64_t *visible_at; /* when recent items became visible, oldest first (a digest
                                  counts once); this contact only, or everyone if scope=all */
    size_t visible_count;
    unsigned breakthroughs_today; /* urgent breakthroughs used today (the person's day) */
    int64_t consent_open_until;   /* end of an open consent window, 0 = none */
};

enum boundary_disposition {
    BOUNDARY_SHOW,
    BOUNDARY_HOLD_UNTIL,
    BOUNDARY_FOLD,
    BOUNDARY_AWAIT_CONSENT,
    BOUNDARY_DROP
};
enum boundary_reason {
    BOUNDARY_REASON_NONE,
    BOUNDARY_REASON_BLOCK,
    BOUNDARY_REASON_SNOOZE,
    BOUNDARY_REASON_QUIET,
    BOUNDARY_REASON_RATE,
    BOUNDARY_REASON_HEAVY,
    BOUNDARY_REASON_NOTES,
    BOUNDARY_REASON_CW
};
/* What the ack may carry: nothing (block), delivered, held_until, awaiting_consent, digest_at */
enum boundary_tell {
    BOUNDARY_TELL_NOTHING,
    BOUNDARY_TELL_DELIVERED,
    BOUNDARY_TELL_HELD_UNTIL,
    BOUNDARY_TELL_AWAITING_CONSENT,
    BOUNDARY_TELL_DIGEST_AT
};

struct boundary_verdict {
    enum boundary_disposition disposition;
    enum boundary_reason reason;
    int64_t release_at;     /* HOLD_UNTIL: when it becomes visible (then evaluate again) */
    bool is_digest;         /* rate :digest hold: released with the others as one item */
    bool notify;            /* false when muted, for control frames and for DROP */
    bool used_breakthrough; /* urgent skipped quiet hours: count it for today */
    enum boundary_tell tell;
    int64_t tell_at; /* HELD_UNTIL / DIGEST_AT: release_at rounded up to the minute */
};

enum boundary_capability {
    BOUNDARY_CAP_PRESENCE,
    BOUNDARY_CAP_TYPING,
    BOUNDARY_CAP_READ_RECEIPTS,
    BOUNDARY_CAP_CIRCLES_VISIBLE,
    BOUNDARY_CAP_MAY_INVITE
};

struct boundary_rules; /* boundary_impl.h; fixed size: nothing allocates after create */

/* An empty rule set (trust level 0 defaults). Never NULL. Destroy accepts NULL. */
struct boundary_rules *boundary_rules_create(void);
void boundary_rules_destroy(struct boundary_rules *r);

/* `kith boundary set`: apply args[0..n) (DOMAIN.md §3 syntax) all or nothing; a rule of a kind
 * already present is replaced (quiet appends, an identical interval is replaced; notes/ask-heavy
 * words merge: +word adds, -word removes). clk gives now (for mute=8h), the person's zone and
 * checks @zones. KITH_OK, or KITH_EINVAL with *why a static, kind sentence; r then unchanged. */
KITH_NODISCARD int boundary_rules_set(struct boundary_rules *r, const char *const *args, size_t n,
                                      const struct boundary_clock *clk, const char **why);
/* `kith boundary clear`: remove the named kinds ("quiet", "mute=8h" ...); n == 0 clears all. */
KITH_NODISCARD int boundary_rules_clear(struct boundary_rules *r, const char *const *args, size_t n,
                                        const char **why);

/* Compact versioned bytes (the store seals them). told_only keeps just the tell=on subset the
 * boundary notice may carry (never block, mute, words or trust). KITH_OK, KITH_ETOOBIG. */
KITH_NODISCARD int boundary_rules_encode(const struct boundary_rules *r, bool told_only,
                                         uint8_t *buf, size_t cap, size_t *len);
/* Strict: only canonical encodings parse. KITH_OK or KITH_EMALFORMED (r then unchanged). */
KITH_NODISCARD int boundary_rules_decode(struct boundary_rules *r, const uint8_t *buf, size_t len);

/* Plain language, one line per rule plus the trust line ("Quiet hours 22:00–08:00 Mon–Fri
 * (Europe/Berlin): messages wait until the end."); times in the person's zone. count/one give a
 * single rule. JSON: {"rules":[{"rule":..., ..., "until":ISO|null, "tell":bool}]}.
 * KITH_OK, KITH_ETOOBIG (buf holds a truncated, terminated text), KITH_ENOTFOUND (index). */
size_t boundary_rules_count(const struct boundary_rules *r);
KITH_NODISCARD int boundary_rules_summary_one(const struct boundary_rules *r, size_t index,
                                              const struct boundary_clock *clk, char *buf,
                                              size_t cap);
KITH_NODISCARD int boundary_rules_summary(const struct boundary_rules *r,
                                          const struct boundary_clock *clk, char *buf, size_t cap);
KITH_NODISCARD int boundary_rules_json(const struct boundary_rules *r, char *buf, size_t cap);

/* The evaluation order of DOMAIN.md §3 at clk->now; c may be NULL (no counters). *out is always
 * fully written (on error: SHOW). notify: whether showing it may make a sound (not when muted).
 * KITH_OK, KITH_EINVAL (now or a visible_at outside 1970..9999, visible_at not oldest first,
 * text NULL with text_len > 0). */
KITH_NODISCARD int boundary_evaluate(const struct boundary_rules *r, const struct boundary_msg *m,
                                     const struct boundary_clock *clk,
                                     const struct boundary_counters *c,
                                     struct boundary_verdict *out);
/* A held message after time passed or a rule changed: when it becomes visible under the rules
 * now in force (<= clk->now: release it now, i.e. call boundary_evaluate for its final
 * disposition; a new block also reports clk->now). Errors as boundary_evaluate. */
KITH_NODISCARD int boundary_next_release(const struct boundary_rules *r,
                                         const struct boundary_msg *m,
                                         const struct boundary_clock *clk,
                                         const struct boundary_counters *c, int64_t *release_at);

/* Block in force at now (for the ZAP handler). */
bool boundary_is_blocked(const struct boundary_rules *r, int64_t now);
/* The trust level in force at now (0 when none is set), and what that level lets them see. */
int boundary_trust_level(const struct boundary_rules *r, int64_t now);
bool boundary_trust_allows(int level, enum boundary_capability cap);
/* Whether the rate limit in force counts everyone (scope=all) or this contact only. */
bool boundary_rate_is_scope_all(const struct boundary_rules *r, int64_t now);
/* How far back and how many visible times any rate limit of r can look at (its own rule or
 * trust level 0's digest): rate limits only ever count the newest *count inside *window_s. */
void boundary_rate_horizon(const struct boundary_rules *r, int64_t *window_s, size_t *count);
/* How long a consent "yes" keeps the window open (ask-heavy=window:60m; default 3600 s). */
int64_t boundary_consent_window(const struct boundary_rules *r, int64_t now);

#endif
