/*
 * boundary_test: the evaluator over every rule and their combinations (DOMAIN.md §3), with an
 * injected zone that has Berlin's 2026 daylight-saving nights, one pass through the system tz
 * database, and the two parsers (CLI words, stored bytes) including every refusal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/boundary.h"

#define SPRING_2026 INT64_C(1774746000) /* 2026-03-29 01:00 UTC: CET -> CEST */
#define FALL_2026   INT64_C(1792890000) /* 2026-10-25 01:00 UTC: CEST -> CET */

static int64_t
utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi
    };
    return (int64_t)timegm(&tm);
}

static int64_t
cest(int y, int mo, int d, int h, int mi)
{
    return utc(y, mo, d, h, mi) - 7200;
}

static int64_t
cet(int y, int mo, int d, int h, int mi)
{
    return utc(y, mo, d, h, mi) - 3600;
}

/* Test/Berlin (and Europe/Berlin): CET, CEST between Berlin's 2026 transitions; UTC;
 * Asia/Kolkata (+5:30); nothing else. */
static int
test_offset(void *ctx, const char *tz, int64_t t, int *offset_s)
{
    int *calls = ctx;
    if (calls != NULL) {
        (*calls)++;
    }
    if (strcmp(tz, "Test/Berlin") == 0 || strcmp(tz, "Europe/Berlin") == 0) {
        *offset_s = (t >= SPRING_2026 && t < FALL_2026) ? 7200 : 3600;
    } else if (strcmp(tz, "UTC") == 0) {
        *offset_s = 0;
    } else if (strcmp(tz, "Asia/Kolkata") == 0) {
        *offset_s = 19800;
    } else {
        return KITH_ENOTFOUND;
    }
    return KITH_OK;
}

static struct boundary_clock
clock_at(int64_t now)
{
    return (struct boundary_clock){ now, "Test/Berlin", test_offset, NULL };
}

/* Set NULL-terminated rule words at `now`; fails the test on refusal. */
static struct boundary_rules *
rules_at(int64_t now, ...)
{
    struct boundary_rules *r = boundary_rules_create();
    struct boundary_clock clk = clock_at(now);
    const char *args[16];
    size_t n = 0;
    const char *why = NULL;
    va_list ap;

    va_start(ap, now);
    for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
        args[n++] = a;
    }
    va_end(ap);
    int rc = boundary_rules_set(r, args, n, &clk, &why);
    if (rc != KITH_OK) {
        fail_msg("rules refused: %s", why);
    }
    return r;
}

static const struct boundary_msg plain = { .text = "hello", .text_len = 5 };

static struct boundary_verdict
judge(const struct boundary_rules *r, const struct boundary_msg *m, int64_t now,
      const struct boundary_counters *c)
{
    struct boundary_clock clk = clock_at(now);
    struct boundary_verdict v;
    assert_int_equal(boundary_evaluate(r, m, &clk, c, &v), KITH_OK);
    return v;
}

static struct boundary_msg
text_msg(const char *text)
{
    return (struct boundary_msg){ .text = text, .text_len = strlen(text) };
}

/* ---- quiet hours ---- */

struct quiet_case {
    int64_t at;
    int64_t release; /* 0 = shown now */
};

static void
run_quiet_cases(const struct boundary_rules *r, const struct quiet_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct boundary_verdict v = judge(r, &plain, cases[i].at, NULL);
        if (cases[i].release == 0) {
            if (v.disposition != BOUNDARY_SHOW) {
                fail_msg("case %zu: expected SHOW, got %d", i, (int)v.disposition);
            }
        } else {
            if (v.disposition != BOUNDARY_HOLD_UNTIL || v.release_at != cases[i].release) {
                fail_msg("case %zu: expected hold until %lld, got %d until %lld", i,
                         (long long)cases[i].release, (int)v.disposition, (long long)v.release_at);
            }
            assert_int_equal(v.reason, BOUNDARY_REASON_QUIET);
        }
    }
}

static void
quiet__holds_until_the_end__across_midnight_and_on_the_boundary_minutes(void **state)
{
    (void)state;
    struct boundary_rules *r = rules_at(cest(2026, 6, 1, 12, 0), "quiet=22:00-08:00", NULL);
    const struct quiet_case cases[] = {
        { cest(2026, 6, 15, 21, 59), 0 },
        { cest(2026, 6, 15, 22, 0), cest(2026, 6, 16, 8, 0) },
        { cest(2026, 6, 15, 23, 59), cest(2026, 6, 16, 8, 0) },
        { cest(2026, 6, 16, 0, 0), cest(2026, 6, 16, 8, 0) },
        { cest(2026, 6, 16, 3, 0), cest(2026, 6, 16, 8, 0) },
        { cest(2026, 6, 16, 7, 59), cest(2026, 6, 16, 8, 0) },
        { cest(2026, 6, 16, 8, 0), 0 },
        { cest(2026, 6, 16, 12, 0), 0 },
    };
    run_quiet_cases(r, cases, sizeof cases / sizeof cases[0]);
    boundary_rules_destroy(r);
}

static void
quiet__applies_only_to_intervals_starting_on_listed_days(void **state)
{
    (void)state;
    struct boundary_rules *r = rules_at(cest(2026, 6, 1, 12, 0), "quiet=22:00-08:00,mon-fri", NULL);
    const struct quiet_case cases[] = {
        { cest(2026, 6, 19, 23, 0), cest(2026, 6, 20, 8, 0) }, /* Fri night */
        { cest(2026, 6, 20, 3, 0), cest(2026, 6, 20, 8, 0) },  /* Sat morning, Fri's interval */
        { cest(2026, 6, 20, 23, 0), 0 },                       /* Sat night */
        { cest(2026, 6, 21, 23, 0), 0 },                       /* Sun night */
        { cest(2026, 6, 22, 3, 0), 0 },                        /* Mon morning */
        { cest(2026, 6, 22, 22, 30), cest(2026, 6, 23, 8, 0) },
    };
    run_quiet_cases(r, cases, sizeof cases / sizeof cases[0]);
    boundary_rules_destroy(r);
}

static void
quiet__uses_the_zone_stored_with_the_rule(void **state)
{
    (void)state;
    struct boundary_rules *r =
        rules_at(cest(2026, 6, 1, 12, 0), "quiet=22:00-08:00@Asia/Kolkata", NULL);
    const struct quiet_case cases[] = {
        { utc(2026, 6, 15, 16, 29), 0 },                       /* 21:59 in Kolkata */
        { utc(2026, 6, 15, 16, 30), utc(2026, 6, 16, 2, 30) }, /* 22:00 -> 08:00 IST */
        { utc(2026, 6, 16, 2, 30), 0 },
    };
    run_quiet_cases(r, cases, sizeof cases / sizeof cases[0]);
    boundary_rules_destroy(r);
}

static void
quiet__on_the_spring_forward_night__ends_at_the_next_valid_instant(void **state)
{
    (void)state;
    /* 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 doesn't exist. */
    struct boundary_rules *r = rules_at(cet(2026, 3, 1, 12, 0), "quiet=01:00-02:30", NULL);
    const struct quiet_case ends[] = {
        { cet(2026, 3, 29, 0, 59), 0 },
        { cet(2026, 3, 29, 1, 0), SPRING_2026 },
        { cet(2026, 3, 29, 1, 59), SPRING_2026 },
        { SPRING_2026, 0 }, /* 03:00 CEST */
        { cest(2026, 3, 30, 1, 0), cest(2026, 3, 30, 2, 30) },
    };
    run_quiet_cases(r, ends, sizeof ends / sizeof ends[0]);
    boundary_rules_destroy(r);

    r = rules_at(cet(2026, 3, 1, 12, 0), "quiet=02:30-06:00", NULL);
    const struct quiet_case starts[] = {
        { cet(2026, 3, 29, 1, 59), 0 },
        { SPRING_2026, cest(2026, 3, 29, 6, 0) },
        { cest(2026, 3, 29, 5, 59), cest(2026, 3, 29, 6, 0) },
    };
    run_quiet_cases(r, starts, sizeof starts / sizeof starts[0]);
    boundary_rules_destroy(r);

    r = rules_at(cet(2026, 3, 1, 12, 0), "quiet=22:00-08:00", NULL);
    const struct quiet_case night[] = {
        { cet(2026, 3, 28, 23, 0), cest(2026, 3, 29, 8, 0) }, /* a 9-hour night */
        { cest(2026, 3, 29, 7, 59), cest(2026, 3, 29, 8, 0) },
    };
    run_quiet_cases(r, night, sizeof night / sizeof night[0]);
    boundary_rules_destroy(r);
}

static void
quiet__on_the_fall_back_night__uses_the_first_occurrence(void **state)
{
    (void)state;
    /* 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:00-02:59 happen twice. */
    struct boundary_rules *r = rules_at(cest(2026, 10, 1, 12, 0), "quiet=22:00-02:30", NULL);
    const struct quiet_case ends[] = {
        { cest(2026, 10, 24, 23, 0), cest(2026, 10, 25, 2, 30) },
        { cest(2026, 10, 25, 2, 29), cest(2026, 10, 25, 2, 30) },
        { cest(2026, 10, 25, 2, 45), 0 }, /* after the first 02:30 */
        { cet(2026, 10, 25, 2, 15), 0 },  /* the second 02:15 */
    };
    run_quiet_cases(r, ends, sizeof ends / sizeof ends[0]);
    boundary_rules_destroy(r);

    r = rules_at(cest(2026, 10, 1, 12, 0), "quiet=02:30-07:00", NULL);
    const struct quiet_case starts[] = {
        { cest(2026, 10, 25, 2, 29), 0 },
        { cest(2026, 10, 25, 2, 30), cet(2026, 10, 25, 7, 0) },
        { cet(2026, 10, 25, 2, 15), cet(2026, 10, 25, 7, 0) },
    };
    run_quiet_cases(r, starts, sizeof starts / sizeof starts[0]);
    boundary_rules_destroy(r);
}

static void
quiet__chained_intervals__act_as_one(void **state)
{
    (void)state;
    struct boundary_rules *r =
        rules_at(cest(2026, 6, 1, 12, 0), "quiet=22:00-06:00", "quiet=06:00-08:00", NULL);
    const struct quiet_case cases[] = {
        { cest(2026, 6, 15, 23, 0), cest(2026, 6, 16, 8, 0) },
        { cest(2026, 6, 16, 6, 30), cest(2026, 6, 16, 8, 0) },
    };
    run_quiet_cases(r, cases, sizeof cases / sizeof cases[0]);
    boundary_rules_destroy(r);
}

static void
quiet__through_the_system_tz_database__follows_berlin_2026(void **state)
{
    (void)state;
    int offset_s = 0;
    char *saved = getenv("TZ") != NULL ? strdup(getenv("TZ")) : NULL;

    assert_int_equal(setenv("TZ", "UTC", 1), 0);
    assert_int_equal(boundary_tz_system(NULL, "Europe/Berlin", SPRING_2026 - 1, &offset_s),
                     KITH_OK);
    assert_int_equal(offset_s, 3600);
    assert_int_equal(boundary_tz_system(NULL, "Europe/Berlin", SPRING_2026, &offset_s), KITH_OK);
    assert_int_equal(offset_s, 7200);
    assert_int_equal(boundary_tz_system(NULL, "Europe/Berlin", FALL_2026 - 1, &offset_s), KITH_OK);
    assert_int_equal(offset_s, 7200);
    assert_int_equal(boundary_tz_system(NULL, "Europe/Berlin", FALL_2026, &offset_s), KITH_OK);
    assert_int_equal(offset_s, 3600);
    assert_string_equal(getenv("TZ"), "UTC"); /* put back */
    assert_int_equal(boundary_tz_system(NULL, "Nowhere/Atlantis", 0, &offset_s), KITH_ENOTFOUND);
    assert_int_equal(boundary_tz_system(NULL, "../../etc/passwd", 0, &offset_s), KITH_ENOTFOUND);
    assert_int_equal(boundary_tz_system(NULL, "", 0, &offset_s), KITH_OK);
    assert_int_equal(offset_s, 0);

    struct boundary_clock clk = { cet(2026, 3, 1, 12, 0), "Europe/Berlin", boundary_tz_system,
                                  NULL };
    struct boundary_rules *r = boundary_rules_create();
    const char *args[] = { "quiet=22:00-08:00,sat@Europe/Berlin" };
    const char *why = NULL;
    assert_int_equal(boundary_rules_set(r, args, 1, &clk, &why), KITH_OK);
    struct boundary_verdict v;
    clk.now = cet(2026, 3, 28, 23, 0);
    assert_int_equal(boundary_evaluate(r, &plain, &clk, NULL, &v), KITH_OK);
    assert_int_equal(v.disposition, BOUNDARY_HOLD_UNTIL);
    assert_int_equal(v.release_at, cest(2026, 3, 29, 8, 0));
    const char *bad[] = { "quiet=22:00-08:00@Nowhere/Atlantis" };
    assert_int_equal(boundary_rules_set(r, bad, 1, &clk, &why), KITH_EINVAL);
    assert_non_null(strstr(why, "time zone"));
    boundary_rules_destroy(r);
    if (saved != NULL) {
        assert_int_equal(setenv("TZ", saved, 1), 0);
    } else {
        assert_int_equal(unsetenv("TZ"), 0);
    }
    free(saved);
}

/* ---- snooze, time boxes, tell ---- */

static void
snooze__and_quiet__the_latest_release_wins_and_snooze_wins_ties(void **state)
{
    (void)state;
    int64_t night = cest(2026, 6, 15, 23, 0);
    const struct {
        const char *snooze;
        int64_t release;
        enum boundary_reason reason;
    } cases[] = {
        { "snooze=until=2026-06-16T09:00", cest(2026, 6, 16, 9, 0), BOUNDARY_REASON_SNOOZE },
        { "snooze=until=2026-06-16T07:00", cest(2026, 6, 16, 8, 0), BOUNDARY_REASON_QUIET },
        { "snooze=until=2026-06-16T08:00", cest(2026, 6, 16, 8, 0), BOUNDARY_REASON_SNOOZE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct boundary_rules *r =
            rules_at(cest(2026, 6, 15, 12, 0), "quiet=22:00-08:00", cases[i].snooze, NULL);
        struct boundary_verdict v = judge(r, &plain, night, NULL);
        assert_int_equal(v.disposition, BOUNDARY_HOLD_UNTIL);
        assert_int_equal(v.release_at, cases[i].release);
        assert_int_equal(v.reason, cases[i].reason);
        assert_int_equal(v.tell, BOUNDARY_TELL_HELD_UNTIL);
        assert_int_equal(v.tell_at, cases[i].release);
        boundary_rules_destroy(r);
    }
}

static void
snooze__reports_the_release_rounded_up_to_the_minute(void **state)
{
    (void)state;
    struct boundary_rules *r =
        rules_at(cest(2026, 6, 15, 12, 0), "snooze=until=2026-06-15T18:30:20", NULL);
    struct boundary_verdict v = judge(r, &plain, cest(2026, 6, 15, 13, 0), NULL);
    assert_int_equal(v.release_at, cest(2026, 6, 15, 18, 30) + 20);
    assert_int_equal(v.tell_at, cest(2026, 6, 15, 18, 31));
    v = judge(r, &plain, cest(2026, 6, 15, 18, 30) + 20, NULL);
    assert_int_equal(v.disposition, BOUNDARY_SHOW);
    boundary_rules_destroy(r);
}

static void
tell_off__reports_a_hold_as_plain_delivered(void **state)
{
    (void)state;
    struct boundary_rules *r = rules_at(cest(2026, 6, 15, 12, 0), "quiet=22:00-08:00", "tell=off",
                                        "snooze=8h", "tell=off", NULL);
    struct boundary_verdict v = judge(r, &plain, cest(2026, 6, 15, 23, 0), NULL);
    assert_int_equal(v.disposition, BOUNDARY_HOLD_UNTIL);
    assert_int_equal(v.tell, BOUNDARY_TELL_DELIVERED);
    assert_int_equal(v.tell_at, 0);
    v = judge(r, &plain, cest(2026, 6, 15, 13, 0), NULL);
    assert_int_equal(v.reason, BOUNDARY_REASON_SNOOZE);
    assert_int_equal(v.tell, BOUNDARY_TELL_DELIVERED);
    boundary_rules_destroy(r);
}

static void
time_boxed_rules__are_ignored_once_expired_and_end_holds_early(void **state)
{
    (void)state;
    struct boundary_rules *r =
        rules_at(cest(2026, 6, 1, 12, 0), "quiet=22:00-08:00", "until=2026-06-16T03:00", "block",
                 "until=2026-06-10T00:00", "mute", "until=2026-06-10T00:00", NULL);
    struct boundary_verdict v = judge(r, &plain, cest(2026, 6, 5, 12, 0), NULL);
    assert_int_equal(v.disposition, BOUNDARY_DROP);
    v = judge(r, &plain, cest(2026, 6, 15, 23, 0), NULL);
    assert_int_equal(v.disposition, BOUNDARY_HOLD_UNTIL);
    assert_int_equal(v.release_at, cest(2026, 6, 16, 3, 0)); /* the rule ends mid-night */
    assert_true(v.notify);
    v = judge(r, &plain, cest(2026, 6, 16, 23, 0), NULL);
    assert_int_equal(v.disposition, BOUNDARY_SHOW);
    boundary_rules_destroy(r);

    r = rules_at(cest(2026, 6, 15, 12, 0), "snooze=1h", NULL);
    v = judge(r, &plain, cest(2026, 6, 15, 13, 0), NULL);
    assert_int_equal(v.disposition, BOUNDARY_SHOW);
    boundary_rules_destroy(r);
}

/* ---- rate ---- */

static void
rate__holds_the_excess_as_a_digest_at_the_earliest_room(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 14, 0);
    struct boundary_rules *r = rules_at(now, "rate=3/1h:digest", "trust=2", NULL);
    const int64_t three[] = { now - 3000, now - 2000, now - 1000 };
    const int64_t old_and_two[] = { now - 3600, now - 2000, now - 1000 };
    struct boundary_counters c = { three, 3, 0, 0 };

    struct boundary_verdict v = judge(r, &plain, now, &c);
    assert_int_equal(v.disposition, BOUNDARY_HOLD_UNTIL);
    assert_int_equal(v.reason, BOUNDARY_REASON_RATE);
    assert_true(v.is_digest);
    assert_int_equal(v.release_at, now - 3000 + 3600);
    assert_int_equal(v.tell, BOUNDARY_TELL_DIGEST_AT);
    assert_int_equal(v.tell_at, now + 600);
    c.visible_count = 2;
    v = judge(r, &plain, now, &c);
    assert_int_equal(v.disposition, BOUNDARY_SHOW);
    c = (struct boundary_counters){ old_and_two, 3, 0, 0 }; /* the oldest just left the window */
    v = judge(r, &plain, now, &c);
    assert_int_equal(v.disposition, BOUNDARY_SHOW);
    boundary_rules_destroy(r);

    r = rules_at(now, "rate=3/1h:hold", "trust=2", NULL);
    c = (struct boundary_counters){ three, 3, 0, 0 };
    v = judge(r, &plain, now, &c);
    assert_int_equal(v.disposition, BOUNDARY_HOLD_UNTIL);
    assert_false(v.is_digest);
    assert_int_equal(v.tell, BOUNDARY_TELL_HELD_UNTIL);
    boundary_rules_destroy(r);
}

static void
rate__is_checked_when_a_held_message_would_become_visible(void **state)
{
    (void)state;
    int64_t night = cest(2026, 6, 15, 23, 0);
    /* Two urgent breakthroughs at 07:10 and 07:40 fill the window at the 08:00 release. */
    const int64_t early[] = { cest(2026, 6, 16, 7, 10), cest(2026, 6, 16, 7, 40) };
    struct boundary_counters c = { early, 2, 0, 0 };
    struct boundary_rules *r = rules_at(night, "quiet=22:00-08:00", "rate=2/1h", "trust=2", NULL);
    struct boundary_verdict v = judge(r, &plain, night, &c);
    assert_int_equal(v.release_at, cest(2026, 6, 16, 8, 10));
    assert_int_equal(v.reason, BOUNDARY_REASON_RATE);
    boundary_rules_destroy(r);

    /* And room that opens inside quiet hours waits for their end. */
    const int64_t late[] = { cest(2026, 6, 15, 21, 30) };
    c = (struct boundary_counters){ late, 1, 0, 0 };
    r = rules_at(night, "quiet=22:00-08:00", "rate=1/1h", "trust=2", NULL);
    v = judge(r, &plain, cest(2026, 6, 15, 21, 45), &c);
    assert_int_equal(v.release_at, cest(2026, 6, 16, 8, 0));
    assert_int_equal(v.reason, BOUNDARY_REASON_QUIET);
    boundary_rules_destroy(r);
}

static void
rate__refuses_counters_that_are_not_oldest_first(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 14, 0);
    const int64_t shuffled[] = { now - 10, now - 20 };
    struct boundary_counters c = { shuffled, 2, 0, 0 };
    struct boundary_clock clk = clock_at(now);
    struct boundary_rules *r = boundary_rules_create();
    struct boundary_verdict v;
    assert_int_equal(boundary_evaluate(r, &plain, &clk, &c, &v), KITH_EINVAL);
    assert_int_equal(v.disposition, BOUNDARY_SHOW);
    clk.now = -1;
    assert_int_equal(boundary_evaluate(r, &plain, &clk, NULL, &v), KITH_EINVAL);
    boundary_rules_destroy(r);
}

/* The engine reads only the newest `count` visible times inside `window` (not a year of
 * history): for any history, that gives the same verdict as the whole of it. */
static void
rate_horizon__gives_the_same_verdict_as_the_whole_history(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 14, 0);
    const char *const rules[][3] = {
        { "trust=0", NULL, NULL },          { "rate=3/1h:digest", "trust=2", NULL },
        { "rate=50/1d:hold", "trust=2", NULL }, { "rate=off", "trust=0", NULL },
        { "rate=2/10m", "quiet=13:00-15:00", NULL },
    };
    int64_t times[400];
    uint32_t seed = 7;

    for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++) {
        struct boundary_rules *r = rules_at(now, rules[k][0], rules[k][1], rules[k][2], NULL);
        struct boundary_clock clk = clock_at(now);
        int64_t window = 0;
        size_t count = 0;
        boundary_rate_horizon(r, &window, &count);
        assert_true(window >= 3600 && count >= BOUNDARY_DIGEST_DEFAULT);
        for (int trial = 0; trial < 50; trial++) {
            size_t n = 0;
            int64_t t = now - 2 * 86400;
            while (n < 400) {
                seed = seed * 1103515245u + 12345u;
                t += (int64_t)(seed >> 16) % (trial % 2 == 0 ? 900 : 60);
                if (t > now + 3600) {
                    break;
                }
                times[n++] = t;
            }
            size_t first = 0;
            while (first < n && times[first] < now - window) {
                first++;
            }
            if (n - first > count) {
                first = n - count;
            }
            struct boundary_counters all = { times, n, 0, 0 };
            struct boundary_counters cut = { times + first, n - first, 0, 0 };
            struct boundary_verdict va, vc;
            assert_int_equal(boundary_evaluate(r, &plain, &clk, &all, &va), KITH_OK);
            assert_int_equal(boundary_evaluate(r, &plain, &clk, &cut, &vc), KITH_OK);
            assert_int_equal(va.disposition, vc.disposition);
            assert_int_equal(va.release_at, vc.release_at);
            assert_int_equal(va.is_digest, vc.is_digest);
        }
        boundary_rules_destroy(r);
    }
}

static void
trust_defaults__pace_and_ask_new_contacts_only(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 14, 0);
    int64_t twenty[20];
    for (int i = 0; i < 20; i++) {
        twenty[i] = now - 3000 + i * 100;
    }
    struct boundary_counters c = { twenty, 20, 0, 0 };
    struct boundary_msg heavy = { .is_heavy = true, .text = "x", .text_len = 1 };
    const struct {
        const char *rule;
        enum boundary_disposition busy;  /* after 20 in the hour */
        enum boundary_disposition heavy; /* a heavy message */
    } cases[] = {
        { NULL, BOUNDARY_HOLD_UNTIL, BOUNDARY_AWAIT_CONSENT },
        { "trust=0", BOUNDARY_HOLD_UNTIL, BOUNDARY_AWAIT_CONSENT },
        { "trust=1", BOUNDARY_SHOW, BOUNDARY_AWAIT_CONSENT },
        { "trust=2", BOUNDARY_SHOW, BOUNDARY_SHOW },
        { "trust=3", BOUNDARY_SHOW, BOUNDARY_SHOW },
        { "rate=off", BOUNDARY_SHOW, BOUNDARY_AWAIT_CONSENT },
        { "ask-heavy=off", BOUNDARY_HOLD_UNTIL, BOUNDARY_SHOW },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct boundary_rules *r = rules_at(now, cases[i].rule, NULL);
        struct boundary_verdict v = judge(r, &plain, now, &c);
        if (v.disposition != cases[i].busy) {
            fail_msg("case %zu busy: got %d", i, (int)v.disposition);
        }
        if (v.disposition == BOUNDARY_HOLD_UNTIL) {
            assert_true(v.is_digest);
            assert_int_equal(v.release_at, twenty[0] + 3600);
        }
        v = judge(r, &heavy, now, NULL);
        if (v.disposition != cases[i].heavy) {
            fail_msg("case %zu heavy: got %d", i, (int)v.disposition);
        }
        boundary_rules_destroy(r);
    }
}

static void
trust__allows_what_the_table_says(void **state)
{
    (void)state;
    const bool table[5][4] = {
        /* 0      1      2      3 */
        { false, true, true, true },   /* presence */
        { false, false, true, true },  /* typing */
        { false, false, true, true },  /* read receipts */
        { false, false, false, true }, /* circles visible */
        { false, true, true, true },   /* may invite */
    };
    for (int cap = 0; cap < 5; cap++) {
        for (int level = 0; level < 4; level++) {
            assert_int_equal(boundary_trust_allows(level, (enum boundary_capability)cap),
                             table[cap][level]);
        }
    }
    struct boundary_rules *r = rules_at(0, "trust=2", "until=1970-01-02T00:00Z", NULL);
    assert_int_equal(boundary_trust_level(r, 0), 2);
    assert_int_equal(boundary_trust_level(r, 86400), 0);
    boundary_rules_destroy(r);
}

/* ---- breakthrough ---- */

static void
breakthrough__lets_urgent_skip_quiet_hours_while_allowance_remains(void **state)
{
    (void)state;
    int64_t night = cest(2026, 6, 15, 23, 0);
    struct boundary_msg urgent = { .is_urgent = true, .text = "x", .text_len = 1 };
    struct boundary_counters none_used = { NULL, 0, 0, 0 };
    struct boundary_counters one_used = { NULL, 0, 1, 0 };
    struct boundary_rules *r =
        rules_at(night, "quiet=22:00-08:00", "breakthrough=1/day", "trust=2", NULL);

    struct boundary_verdict v = judge(r, &urgent, night, &none_used);
    assert_int_equal(v.disposition, BOUNDARY_SHOW);
    assert_true(v.used_breakthrough);
    v = judge(r, &urgent, night, &one_used);
    assert_int_equal(v.disposition, BOUNDARY_HOLD_UNTIL);
    assert_false(v.used_breakthrough);
    v = judge(r, &plain, night, &none_used);
    assert_int_equal(v.disposition, BOUNDARY_HOLD_UNTIL);
    v = judge(r, &urgent, cest(2026, 6, 15, 12, 0), &none_used);
    assert_int_equal(v.disposition, BOUNDARY_SHOW);
    assert_false(v.used_breakthrough); /* nothing to skip: not counted */
    boundary_rules_destroy(r);

    r = rules_at(night, "quiet=22:00-08:00", "snooze=until=2026-06-16T10:00", "breakthrough=1/day",
                 NULL);
    v = judge(r, &urgent, night, &none_used);
    assert_int_equal(v.disposition, BOUNDARY_HOLD_UNTIL); /* snooze is not skipped */
    assert_int_equal(v.reason, BOUNDARY_REASON_SNOOZE);
    assert_false(v.used_breakthrough);
    boundary_rules_destroy(r);

    r = rules_at(night, "quiet=22:00-08:00", NULL); /* no allowance: the default is 0 */
    v = judge(r, &urgent, night, &none_used);
    assert_int_equal(v.disposition, BOUNDARY_HOLD_UNTIL);
    boundary_rules_destroy(r);
}

/* ---- heavy, notes, mute, block, control ---- */

static void
heavy__asks_first_unless_a_consent_window_is_open(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 14, 0);
    struct boundary_rules *r = rules_at(now, "ask-heavy=window:30m,+Grief", "trust=2", NULL);
    struct boundary_msg heavy = { .is_heavy = true, .text = "x", .text_len = 1 };
    struct boundary_msg worded = text_msg("About the GRIEF I feel");
    struct boundary_msg consented = heavy;
    struct boundary_counters open = { NULL, 0, 0, now + 60 };
    struct boundary_counters closed = { NULL, 0, 0, now };

    consented.has_consent = true;
    struct boundary_verdict v = judge(r, &heavy, now, NULL);
    assert_int_equal(v.disposition, BOUNDARY_AWAIT_CONSENT);
    assert_int_equal(v.reason, BOUNDARY_REASON_HEAVY);
    assert_int_equal(v.tell, BOUNDARY_TELL_AWAITING_CONSENT);
    assert_int_equal(judge(r, &worded, now, NULL).disposition, BOUNDARY_AWAIT_CONSENT);
    assert_int_equal(judge(r, &heavy, now, &open).disposition, BOUNDARY_SHOW);
    assert_int_equal(judge(r, &heavy, now, &closed).disposition, BOUNDARY_AWAIT_CONSENT);
    assert_int_equal(judge(r, &consented, now, NULL).disposition, BOUNDARY_SHOW);
    assert_int_equal(judge(r, &plain, now, NULL).disposition, BOUNDARY_SHOW);
    assert_int_equal(boundary_consent_window(r, now), 1800);
    boundary_rules_destroy(r);

    /* The question comes only after time holds: never at 3 a.m. */
    r = rules_at(now, "quiet=22:00-08:00", "ask-heavy", "tell=off", NULL);
    v = judge(r, &heavy, cest(2026, 6, 16, 3, 0), NULL);
    assert_int_equal(v.disposition, BOUNDARY_HOLD_UNTIL);
    v = judge(r, &heavy, cest(2026, 6, 16, 8, 0), NULL);
    assert_int_equal(v.disposition, BOUNDARY_AWAIT_CONSENT);
    assert_int_equal(v.tell, BOUNDARY_TELL_DELIVERED);
    assert_int_equal(boundary_consent_window(r, now), 3600);
    boundary_rules_destroy(r);
}

static void
notes__fold_on_whole_words_ignoring_case(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 14, 0);
    struct boundary_rules *r = rules_at(now, "notes=+Sad,+war,+café,+two words", "trust=2", NULL);
    const struct {
        const char *text;
        bool is_folded;
    } cases[] = {
        { "So SAD today", true },   { "sad", true },         { "sadness", false },
        { "unsad", false },         { "the war.", true },    { "warm", false },
        { "pre-war", true },        { "Café", true },        { "cafés", false },
        { "two words here", true }, { "two  words", false }, { "", false },
        { "Sad9", false },          { "(sad)", true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct boundary_msg m = text_msg(cases[i].text);
        struct boundary_verdict v = judge(r, &m, now, NULL);
        if ((v.disposition == BOUNDARY_FOLD) != cases[i].is_folded) {
            fail_msg("\"%s\": disposition %d", cases[i].text, (int)v.disposition);
        }
        if (cases[i].is_folded) {
            assert_int_equal(v.reason, BOUNDARY_REASON_NOTES);
            assert_int_equal(v.tell, BOUNDARY_TELL_DELIVERED); /* the list stays private */
        }
    }
    struct boundary_msg consented = text_msg("so sad");
    consented.has_consent = true;
    assert_int_equal(judge(r, &consented, now, NULL).disposition, BOUNDARY_SHOW);
    boundary_rules_destroy(r);
}

static void
notes__fold_sender_content_warnings_unless_expanded(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 14, 0);
    struct boundary_msg cw = { .has_content_note = true, .text = "x", .text_len = 1 };
    struct boundary_rules *r = rules_at(now, "trust=2", NULL);
    struct boundary_verdict v = judge(r, &cw, now, NULL);
    assert_int_equal(v.disposition, BOUNDARY_FOLD);
    assert_int_equal(v.reason, BOUNDARY_REASON_CW);
    boundary_rules_destroy(r);
    r = rules_at(now, "trust=2", "notes=cw:expand", NULL);
    assert_int_equal(judge(r, &cw, now, NULL).disposition, BOUNDARY_SHOW);
    boundary_rules_destroy(r);
    /* Heavy comes before notes. */
    r = rules_at(now, "notes=+sad", NULL);
    struct boundary_msg both = text_msg("sad");
    both.is_heavy = true;
    assert_int_equal(judge(r, &both, now, NULL).disposition, BOUNDARY_AWAIT_CONSENT);
    boundary_rules_destroy(r);
}

static void
mute__silences_without_changing_the_disposition(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 23, 0);
    struct boundary_msg heavy = { .is_heavy = true, .text = "x", .text_len = 1 };
    const char *rules[] = { "trust=2", "quiet=22:00-08:00", "ask-heavy", "notes=+hello" };
    for (size_t i = 0; i < 4; i++) {
        struct boundary_rules *loud = rules_at(now - 7200, "trust=2", rules[i], NULL);
        struct boundary_rules *muted = rules_at(now - 7200, "trust=2", rules[i], "mute=8h", NULL);
        for (int k = 0; k < 2; k++) {
            const struct boundary_msg *m = k == 0 ? &plain : &heavy;
            struct boundary_verdict a = judge(loud, m, now, NULL);
            struct boundary_verdict b = judge(muted, m, now, NULL);
            assert_int_equal(a.disposition, b.disposition);
            assert_int_equal(a.release_at, b.release_at);
            assert_int_equal(a.tell, b.tell);
            assert_true(a.notify);
            assert_false(b.notify);
        }
        assert_true(judge(muted, &plain, now - 7200 + 8 * 3600, NULL).notify); /* mute ended */
        boundary_rules_destroy(loud);
        boundary_rules_destroy(muted);
    }
    struct boundary_rules *r = rules_at(now, "mute=always", NULL);
    assert_false(judge(r, &plain, now + 86400 * 365, NULL).notify);
    boundary_rules_destroy(r);
}

static void
block__dominates_every_other_rule_and_is_never_told(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 23, 0);
    struct boundary_rules *r = rules_at(now, "quiet=22:00-08:00", "snooze=1d", "ask-heavy",
                                        "notes=+x", "trust=3", "breakthrough=5/day", "block", NULL);
    struct boundary_msg msgs[] = {
        plain,
        { .is_heavy = true, .text = "x", .text_len = 1 },
        { .is_urgent = true },
        { .is_control = true },
    };
    for (size_t i = 0; i < 4; i++) {
        struct boundary_verdict v = judge(r, &msgs[i], now, NULL);
        assert_int_equal(v.disposition, BOUNDARY_DROP);
        assert_int_equal(v.reason, BOUNDARY_REASON_BLOCK);
        assert_int_equal(v.tell, BOUNDARY_TELL_NOTHING);
        assert_false(v.notify);
    }
    assert_true(boundary_is_blocked(r, now));
    boundary_rules_destroy(r);
}

static void
control_frames__are_never_held_and_never_notify(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 23, 0);
    struct boundary_rules *r = rules_at(now, "quiet=22:00-08:00", "snooze=1d", NULL);
    struct boundary_msg control = { .is_control = true,
                                    .is_heavy = true,
                                    .has_content_note = true };
    struct boundary_verdict v = judge(r, &control, now, NULL);
    assert_int_equal(v.disposition, BOUNDARY_SHOW);
    assert_false(v.notify);
    boundary_rules_destroy(r);
}

static void
next_release__follows_rule_changes(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 23, 0);
    struct boundary_clock clk = clock_at(now);
    struct boundary_rules *r = rules_at(now, "quiet=22:00-08:00", "trust=2", NULL);
    const char *why = NULL;
    int64_t release_at = 0;

    assert_int_equal(boundary_next_release(r, &plain, &clk, NULL, &release_at), KITH_OK);
    assert_int_equal(release_at, cest(2026, 6, 16, 8, 0));
    const char *snooze[] = { "snooze=until=2026-06-16T11:00" };
    assert_int_equal(boundary_rules_set(r, snooze, 1, &clk, &why), KITH_OK);
    assert_int_equal(boundary_next_release(r, &plain, &clk, NULL, &release_at), KITH_OK);
    assert_int_equal(release_at, cest(2026, 6, 16, 11, 0));
    const char *lift[] = { "quiet", "snooze" };
    assert_int_equal(boundary_rules_clear(r, lift, 2, &why), KITH_OK);
    assert_int_equal(boundary_next_release(r, &plain, &clk, NULL, &release_at), KITH_OK);
    assert_int_equal(release_at, now);
    boundary_rules_destroy(r);
}

/* ---- the CLI words ---- */

static void
set__refuses_every_malformed_rule_with_a_sentence(void **state)
{
    (void)state;
    const struct {
        const char *args[3];
        const char *says;
    } cases[] = {
        { { "" }, "don't know that rule" },
        { { "shout" }, "don't know that rule" },
        { { "block=yes" }, "no value" },
        { { "mute=forever" }, "mute takes" },
        { { "mute=0h" }, "mute takes" },
        { { "snooze=until=9999-12-31T23:59", "mute=9999w" }, "mute takes" },
        { { "mute=until=2020-01-01T00:00" }, "already passed" },
        { { "mute=until=2026-02-30T09:00" }, "couldn't read that time" },
        { { "snooze" }, "snooze needs an end" },
        { { "snooze=tomorrow" }, "snooze needs an end" },
        { { "snooze=until=2026-12-01T25:00" }, "couldn't read that time" },
        { { "snooze=until=2026-12-01" }, "couldn't read that time" },
        { { "snooze=400d" }, "snooze needs an end" },
        { { "quiet" }, "quiet=22:00-08:00" },
        { { "quiet=22:00" }, "quiet=22:00-08:00" },
        { { "quiet=22-08" }, "HH:MM" },
        { { "quiet=22:00-08:60" }, "HH:MM" },
        { { "quiet=24:00-08:00" }, "HH:MM" },
        { { "quiet=22:00-22:00" }, "differs from their start" },
        { { "quiet=22:00-08:00,funday" }, "mon-fri" },
        { { "quiet=22:00-08:00,mon-" }, "mon-fri" },
        { { "quiet=22:00-08:00@../etc/passwd" }, "time zone" },
        { { "quiet=22:00-08:00@Nowhere/Atlantis" }, "time zone" },
        { { "quiet=22:00-08:00@" }, "time zone" },
        { { "rate" }, "rate=5/1h" },
        { { "rate=5" }, "rate=5/1h" },
        { { "rate=0/1h" }, "between 1 and 1000" },
        { { "rate=1001/1h" }, "between 1 and 1000" },
        { { "rate=5/30s" }, "window of a pace" },
        { { "rate=5/1h:bundle" }, "rate=5/1h" },
        { { "rate=5/1h,scope=some" }, "rate=5/1h" },
        { { "ask-heavy=maybe" }, "ask-heavy takes" },
        { { "ask-heavy=window:2d" }, "consent window" },
        { { "ask-heavy=+" }, "word on a list" },
        { { "notes" }, "notes needs words" },
        { { "notes=" }, "notes needs words" },
        { { "notes=+a\tb" }, "word on a list" },
        { { "notes=+abcdefghijabcdefghijabcdefghijab" }, "word on a list" },
        { { "trust=4" }, "level from 0" },
        { { "trust" }, "level from 0" },
        { { "breakthrough=25/day" }, "from 0 to 24" },
        { { "breakthrough=1/week" }, "from 0 to 24" },
        { { "tell=off" }, "goes right after" },
        { { "quiet=22:00-08:00", "tell=maybe" }, "either on or off" },
        { { "block", "tell=on" }, "stays private" },
        { { "notes=+x", "tell=on" }, "stays private" },
        { { "until=2026-12-01T09:00" }, "goes right after" },
        { { "mute", "until=yesterday" }, "couldn't read that time" },
    };
    int64_t now = cest(2026, 6, 15, 12, 0);
    struct boundary_clock clk = clock_at(now);
    struct boundary_rules *r = rules_at(now, "trust=1", "quiet=21:00-07:00", NULL);
    uint8_t before[BOUNDARY_ENCODED_MAX];
    uint8_t after[BOUNDARY_ENCODED_MAX];
    size_t before_len;
    size_t after_len;

    assert_int_equal(boundary_rules_encode(r, false, before, sizeof before, &before_len), KITH_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *why = NULL;
        size_t n = 0;
        while (n < 3 && cases[i].args[n] != NULL) {
            n++;
        }
        assert_int_equal(boundary_rules_set(r, cases[i].args, n, &clk, &why), KITH_EINVAL);
        if (why == NULL || strstr(why, cases[i].says) == NULL) {
            fail_msg("\"%s\": said \"%s\"", cases[i].args[0], why == NULL ? "(null)" : why);
        }
        assert_true(why[strlen(why) - 1] == '.');
    }
    /* All or nothing: a good rule before a bad one is not applied either. */
    const char *mixed[] = { "block", "rate=0/1h" };
    const char *why = NULL;
    assert_int_equal(boundary_rules_set(r, mixed, 2, &clk, &why), KITH_EINVAL);
    assert_int_equal(boundary_rules_encode(r, false, after, sizeof after, &after_len), KITH_OK);
    assert_memory_equal(before, after, before_len);
    assert_int_equal(before_len, after_len);
    assert_false(boundary_is_blocked(r, now));
    boundary_rules_destroy(r);
}

static void
set__accepts_the_documented_syntax_and_summarises_it(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 12, 0);
    struct boundary_rules *r =
        rules_at(now, "quiet=22:00-08:00,mon-fri@Europe/Berlin", "rate=5/1h:digest",
                 "snooze=until=2026-12-01T09:00", "mute=8h", "notes=+word,-word,+Other", "trust=2",
                 "breakthrough=1/day", "tell=off", "ask-heavy=window:45m", "block", NULL);
    char text[2048];
    struct boundary_clock clk = clock_at(now);

    assert_int_equal(boundary_rules_count(r), 9);
    assert_int_equal(boundary_rules_summary(r, &clk, text, sizeof text), KITH_OK);
    assert_string_equal(
        text, "Blocked: nothing they send reaches you, and they are never told.\n"
              "Muted until Mon 2026-06-15 20:00: their messages arrive without a sound, marked "
              "with a dot.\n"
              "Snoozed until Tue 2026-12-01 09:00: their messages wait until then.\n"
              "Quiet hours 22:00\xe2\x80\x93"
              "08:00 Mon\xe2\x80\x93"
              "Fri (Europe/Berlin): "
              "messages wait until the end.\n"
              "At most 5 messages in any hour: the rest arrive together in one bundle when "
              "there is room.\n"
              "Heavy topics ask first: you choose whether you have space, and a yes opens 45 "
              "minutes.\n"
              "Content notes: messages with your word stay folded until you open them; "
              "content warnings from them stay folded too.\n"
              "Trust level 2 (Trusted): they see your presence, typing and read receipts, and "
              "may invite you to circles.\n"
              "An urgent message may skip quiet hours once a day. They aren't told; to them it "
              "looks delivered.\n");
    assert_int_equal(boundary_rules_summary_one(r, 3, &clk, text, sizeof text), KITH_OK);
    assert_string_equal(text, "Quiet hours 22:00\xe2\x80\x93"
                              "08:00 Mon\xe2\x80\x93"
                              "Fri (Europe/Berlin): messages wait until the end.");
    assert_int_equal(boundary_rules_summary_one(r, 9, &clk, text, sizeof text), KITH_ENOTFOUND);
    assert_int_equal(boundary_rules_summary(r, &clk, text, 40), KITH_ETOOBIG);
    assert_int_equal(strlen(text), 39);
    boundary_rules_destroy(r);

    r = rules_at(now, NULL);
    assert_int_equal(boundary_rules_summary(r, &clk, text, sizeof text), KITH_OK);
    assert_string_equal(text, "Trust level 0 (New, the default): they don't see your presence, "
                              "typing or read receipts; heavy topics ask first; more than 20 "
                              "messages in any hour arrive as one bundle.\n");
    boundary_rules_destroy(r);
}

static void
json__lists_each_rule_with_its_until_and_tell(void **state)
{
    (void)state;
    int64_t now = utc(2026, 6, 15, 12, 0);
    struct boundary_rules *r =
        rules_at(now, "quiet=22:00-08:00,sat,sun@UTC", "until=2026-07-01T00:00Z",
                 "rate=2/30m:hold,scope=all", "tell=off", "notes=+a\"b", "ask-heavy=off", NULL);
    char json[1024];

    assert_int_equal(boundary_rules_json(r, json, sizeof json), KITH_OK);
    assert_string_equal(
        json,
        "{\"rules\":["
        "{\"rule\":\"quiet\",\"start\":\"22:00\",\"end\":\"08:00\",\"days\":[\"sat\",\"sun\"],"
        "\"tz\":\"UTC\",\"until\":\"2026-07-01T00:00:00Z\",\"tell\":true},"
        "{\"rule\":\"rate\",\"mode\":\"hold\",\"count\":2,\"window_s\":1800,\"scope\":\"all\","
        "\"until\":null,\"tell\":false},"
        "{\"rule\":\"ask-heavy\",\"on\":false,\"window_s\":0,\"words\":[],\"until\":null,"
        "\"tell\":true},"
        "{\"rule\":\"notes\",\"cw\":\"fold\",\"words\":[\"a\\\"b\"],\"until\":null,"
        "\"tell\":false}]}");
    assert_true(boundary_rate_is_scope_all(r, now));
    boundary_rules_destroy(r);
}

static void
set__replaces_a_kind_appends_quiet_and_merges_words(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 12, 0);
    struct boundary_rules *r =
        rules_at(now, "rate=5/1h", "rate=7/1d", "quiet=22:00-08:00", "quiet=12:00-13:00",
                 "quiet=22:00-08:00", "tell=off", "notes=+a,+b", "notes=-a,+c,+C", NULL);
    char json[2048];
    assert_int_equal(boundary_rules_json(r, json, sizeof json), KITH_OK);
    assert_non_null(strstr(json, "\"count\":7,\"window_s\":86400"));
    assert_null(strstr(json, "\"count\":5"));
    assert_non_null(strstr(json, "\"words\":[\"b\",\"c\"]"));
    assert_int_equal(boundary_rules_count(r), 4);
    assert_non_null(strstr(json, "\"start\":\"22:00\",\"end\":\"08:00\",\"days\":[\"mon\",\"tue\","
                                 "\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"],\"tz\":\"Test/Berlin\","
                                 "\"until\":null,\"tell\":false}"));

    const char *nine[] = { "quiet=01:00-02:00", "quiet=02:00-03:00", "quiet=03:00-04:00",
                           "quiet=04:00-05:00", "quiet=05:00-06:00", "quiet=06:00-07:00",
                           "quiet=07:00-08:00" };
    struct boundary_clock clk = clock_at(now);
    const char *why = NULL;
    assert_int_equal(boundary_rules_set(r, nine, 6, &clk, &why), KITH_OK);
    assert_int_equal(boundary_rules_set(r, nine + 6, 1, &clk, &why), KITH_EINVAL);
    assert_non_null(strstr(why, "up to 8"));
    const char *bad_clear[] = { "quiet", "loud" };
    assert_int_equal(boundary_rules_clear(r, bad_clear, 2, &why), KITH_EINVAL);
    assert_int_equal(boundary_rules_count(r), 10); /* nothing cleared */
    assert_int_equal(boundary_rules_clear(r, bad_clear, 1, &why), KITH_OK);
    assert_int_equal(boundary_rules_count(r), 2);
    assert_int_equal(boundary_rules_clear(r, NULL, 0, &why), KITH_OK);
    assert_int_equal(boundary_rules_count(r), 0);
    boundary_rules_destroy(r);
}

/* ---- the stored bytes ---- */

static void
encode__round_trips_and_keeps_private_rules_out_of_the_notice(void **state)
{
    (void)state;
    int64_t now = cest(2026, 6, 15, 12, 0);
    struct boundary_rules *r = rules_at(
        now, "block", "until=2026-07-01T00:00", "mute=always", "snooze=2d", "quiet=22:00-08:00",
        "quiet=13:00-14:00,wed@UTC", "tell=off", "rate=5/1h:hold,scope=all",
        "ask-heavy=+grief,window:90m", "notes=+a,cw:expand", "trust=3", "breakthrough=2", NULL);
    struct boundary_rules *copy = boundary_rules_create();
    uint8_t first[BOUNDARY_ENCODED_MAX];
    uint8_t second[BOUNDARY_ENCODED_MAX];
    size_t first_len;
    size_t second_len;
    char json[2048];

    assert_int_equal(boundary_rules_encode(r, false, first, sizeof first, &first_len), KITH_OK);
    assert_int_equal(boundary_rules_decode(copy, first, first_len), KITH_OK);
    assert_int_equal(boundary_rules_encode(copy, false, second, sizeof second, &second_len),
                     KITH_OK);
    assert_int_equal(first_len, second_len);
    assert_memory_equal(first, second, first_len);
    assert_int_equal(boundary_rules_encode(r, false, first, 10, &first_len), KITH_ETOOBIG);

    assert_int_equal(boundary_rules_encode(r, true, first, sizeof first, &first_len), KITH_OK);
    assert_int_equal(boundary_rules_decode(copy, first, first_len), KITH_OK);
    assert_int_equal(boundary_rules_json(copy, json, sizeof json), KITH_OK);
    assert_string_equal(
        json,
        "{\"rules\":[{\"rule\":\"snooze\",\"until\":\"2026-06-17T10:00:00Z\",\"tell\":true},"
        "{\"rule\":\"quiet\",\"start\":\"22:00\",\"end\":\"08:00\",\"days\":[\"mon\",\"tue\","
        "\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"],\"tz\":\"Test/Berlin\",\"until\":null,"
        "\"tell\":true},"
        "{\"rule\":\"rate\",\"mode\":\"hold\",\"count\":5,\"window_s\":3600,\"scope\":\"all\","
        "\"until\":null,\"tell\":true},"
        "{\"rule\":\"ask-heavy\",\"on\":true,\"window_s\":5400,\"words\":[],\"until\":null,"
        "\"tell\":true},"
        "{\"rule\":\"breakthrough\",\"per_day\":2,\"until\":null,\"tell\":true}]}");
    boundary_rules_destroy(copy);
    boundary_rules_destroy(r);
}

static void
decode__rejects_every_malformed_or_non_canonical_encoding(void **state)
{
    (void)state;
    struct boundary_rules *r =
        rules_at(cest(2026, 6, 15, 12, 0), "quiet=22:00-08:00@UTC", "notes=+a", "trust=1", NULL);
    struct boundary_rules *target = rules_at(0, "block", NULL);
    uint8_t good[BOUNDARY_ENCODED_MAX];
    size_t good_len;
    const uint8_t empty_v1[] = { 1 };

    assert_int_equal(boundary_rules_encode(r, false, good, sizeof good, &good_len), KITH_OK);
    /* A truncation parses only at a record boundary, as the shorter set it then is. */
    for (size_t len = 0; len < good_len; len++) {
        uint8_t again[BOUNDARY_ENCODED_MAX];
        size_t again_len;
        struct boundary_rules *shorter = boundary_rules_create();
        if (boundary_rules_decode(shorter, good, len) == KITH_OK) {
            assert_int_equal(boundary_rules_encode(shorter, false, again, sizeof again, &again_len),
                             KITH_OK);
            assert_int_equal(again_len, len);
            assert_memory_equal(again, good, len);
        }
        boundary_rules_destroy(shorter);
    }
    assert_int_equal(boundary_rules_decode(target, good, 0), KITH_EMALFORMED);
    assert_int_equal(boundary_rules_decode(target, good, good_len - 1), KITH_EMALFORMED);
    assert_int_equal(boundary_rules_decode(target, good, 5), KITH_EMALFORMED);
    /* Every single-byte change either fails or re-encodes to itself. */
    for (size_t i = 0; i < good_len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            uint8_t bad[BOUNDARY_ENCODED_MAX];
            uint8_t again[BOUNDARY_ENCODED_MAX];
            size_t again_len;
            memcpy(bad, good, good_len);
            bad[i] ^= (uint8_t)(1u << bit);
            if (boundary_rules_decode(r, bad, good_len) == KITH_OK) {
                assert_int_equal(boundary_rules_encode(r, false, again, sizeof again, &again_len),
                                 KITH_OK);
                assert_int_equal(again_len, good_len);
                assert_memory_equal(again, bad, good_len);
            }
        }
    }
    const struct {
        const char *what;
        uint8_t bytes[32];
        size_t len;
    } cases[] = {
        { "version 2", { 2 }, 1 },
        { "unknown kind", { 1, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 11 },
        { "kind 0", { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 11 },
        { "tell on block", { 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, 11 },
        { "unknown flag", { 1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0 }, 11 },
        { "block twice", { 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 21 },
        { "out of order", { 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 21 },
        { "snooze without end", { 1, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, 11 },
        { "until past 9999", { 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 11 },
        { "quiet start == end", { 1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 60, 0, 60, 0, 127, 0 }, 17 },
        { "quiet minute 1440", { 1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 160, 5, 60, 0, 127, 0 }, 17 },
        { "quiet no days", { 1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 60, 0, 0, 0 }, 17 },
        { "quiet day bit 7", { 1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 60, 0, 128, 0 }, 17 },
        { "quiet zone ..", { 1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 60, 0, 1, 2, '.', '.' }, 19 },
        { "rate count 0", { 1, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 16, 14, 0, 0 }, 21 },
        { "rate off with count",
          { 1, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 },
          21 },
        { "rate bool 2", { 1, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 1, 0, 0, 0, 16, 14, 0, 0 }, 21 },
        { "upper-case word", { 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 'A' }, 15 },
        { "duplicate word", { 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 'a', 1, 'a' }, 17 },
        { "bad utf-8 word", { 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0xc3 }, 15 },
        { "trust 4", { 1, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4 }, 12 },
        { "breakthrough 25", { 1, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 25 }, 12 },
        { "trailing byte", { 1, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0 }, 13 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (boundary_rules_decode(target, cases[i].bytes, cases[i].len) != KITH_EMALFORMED) {
            fail_msg("accepted: %s", cases[i].what);
        }
    }
    assert_true(boundary_is_blocked(target, 0)); /* every refusal left it unchanged */
    assert_int_equal(boundary_rules_decode(target, empty_v1, 1), KITH_OK);
    assert_false(boundary_is_blocked(target, 0));
    boundary_rules_destroy(target);
    boundary_rules_destroy(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quiet__holds_until_the_end__across_midnight_and_on_the_boundary_minutes),
        cmocka_unit_test(quiet__applies_only_to_intervals_starting_on_listed_days),
        cmocka_unit_test(quiet__uses_the_zone_stored_with_the_rule),
        cmocka_unit_test(quiet__on_the_spring_forward_night__ends_at_the_next_valid_instant),
        cmocka_unit_test(quiet__on_the_fall_back_night__uses_the_first_occurrence),
        cmocka_unit_test(quiet__chained_intervals__act_as_one),
        cmocka_unit_test(quiet__through_the_system_tz_database__follows_berlin_2026),
        cmocka_unit_test(snooze__and_quiet__the_latest_release_wins_and_snooze_wins_ties),
        cmocka_unit_test(snooze__reports_the_release_rounded_up_to_the_minute),
        cmocka_unit_test(tell_off__reports_a_hold_as_plain_delivered),
        cmocka_unit_test(time_boxed_rules__are_ignored_once_expired_and_end_holds_early),
        cmocka_unit_test(rate__holds_the_excess_as_a_digest_at_the_earliest_room),
        cmocka_unit_test(rate__is_checked_when_a_held_message_would_become_visible),
        cmocka_unit_test(rate__refuses_counters_that_are_not_oldest_first),
        cmocka_unit_test(rate_horizon__gives_the_same_verdict_as_the_whole_history),
        cmocka_unit_test(trust_defaults__pace_and_ask_new_contacts_only),
        cmocka_unit_test(trust__allows_what_the_table_says),
        cmocka_unit_test(breakthrough__lets_urgent_skip_quiet_hours_while_allowance_remains),
        cmocka_unit_test(heavy__asks_first_unless_a_consent_window_is_open),
        cmocka_unit_test(notes__fold_on_whole_words_ignoring_case),
        cmocka_unit_test(notes__fold_sender_content_warnings_unless_expanded),
        cmocka_unit_test(mute__silences_without_changing_the_disposition),
        cmocka_unit_test(block__dominates_every_other_rule_and_is_never_told),
        cmocka_unit_test(control_frames__are_never_held_and_never_notify),
        cmocka_unit_test(next_release__follows_rule_changes),
        cmocka_unit_test(set__refuses_every_malformed_rule_with_a_sentence),
        cmocka_unit_test(set__accepts_the_documented_syntax_and_summarises_it),
        cmocka_unit_test(json__lists_each_rule_with_its_until_and_tell),
        cmocka_unit_test(set__replaces_a_kind_appends_quiet_and_merges_words),
        cmocka_unit_test(encode__round_trips_and_keeps_private_rules_out_of_the_notice),
        cmocka_unit_test(decode__rejects_every_malformed_or_non_canonical_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
