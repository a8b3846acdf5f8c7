/*
 * boundary_fuzz: stored rule rows and CLI rule words are outside bytes. The first byte picks
 * the form: even = an encoded rule set (must decode strictly: what parses re-encodes to the
 * same bytes), odd = newline-separated CLI words (what parses survives a bytes round trip).
 * Whatever parsed is then summarised, rendered as JSON and evaluated against a message made of
 * the rest of the input. Invariants: no crash, holds end in the future, only a block drops.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/boundary.h"

#define FUZZ_NOW      INT64_C(1792000000) /* 2026-10-14 */
#define FUZZ_ARGS_MAX 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A pure stand-in zone with daylight saving: +1h, +2h from late March to late October. */
static int
fuzz_offset(void *ctx, const char *tz, int64_t t, int *offset_s)
{
    (void)ctx;
    if (strcmp(tz, "Nowhere/Unknown") == 0) {
        return KITH_ENOTFOUND;
    }
    int64_t day_of_year = (t / 86400) % 365;
    *offset_s = (day_of_year > 85 && day_of_year < 300) ? 7200 : 3600;
    return KITH_OK;
}

static void
fuzz_check(bool ok)
{
    if (!ok) {
        abort();
    }
}

static void
fuzz_use(const struct boundary_rules *r, const struct boundary_clock *clk, const uint8_t *data,
         size_t size)
{
    static char text[8192];
    static const int64_t seen[] = { FUZZ_NOW - 3000, FUZZ_NOW - 2000, FUZZ_NOW - 1000,
                                    FUZZ_NOW - 10 };
    struct boundary_counters counters = { seen, 4, 0, 0 };
    uint8_t flags = size > 0 ? data[0] : 0;
    struct boundary_msg msg = {
        .is_control = flags & 1,
        .is_heavy = flags & 2,
        .is_urgent = flags & 4,
        .has_content_note = flags & 8,
        .has_consent = flags & 16,
        .text = (const char *)data,
        .text_len = size,
    };
    struct boundary_verdict verdict;
    int64_t release_at;
    size_t n = boundary_rules_count(r);

    fuzz_check(boundary_rules_summary(r, clk, text, sizeof text) != KITH_ENOTFOUND);
    fuzz_check(boundary_rules_json(r, text, sizeof text) == KITH_OK);
    for (size_t i = 0; i < n; i++) {
        fuzz_check(boundary_rules_summary_one(r, i, clk, text, sizeof text) == KITH_OK);
    }
    fuzz_check(boundary_rules_summary_one(r, n, clk, text, sizeof text) == KITH_ENOTFOUND);
    counters.breakthroughs_today = (flags >> 5) & 1;
    fuzz_check(boundary_evaluate(r, &msg, clk, &counters, &verdict) == KITH_OK);
    if (verdict.disposition == BOUNDARY_HOLD_UNTIL) {
        fuzz_check(verdict.release_at > clk->now);
    }
    fuzz_check((verdict.disposition == BOUNDARY_DROP) == boundary_is_blocked(r, clk->now));
    fuzz_check(boundary_next_release(r, &msg, clk, &counters, &release_at) == KITH_OK);
    fuzz_check(release_at >= clk->now);
}

static void
fuzz_round_trip(const struct boundary_rules *r)
{
    static uint8_t first[BOUNDARY_ENCODED_MAX];
    static uint8_t second[BOUNDARY_ENCODED_MAX];
    size_t first_len;
    size_t second_len;
    struct boundary_rules *copy = boundary_rules_create();

    fuzz_check(boundary_rules_encode(r, false, first, sizeof first, &first_len) == KITH_OK);
    fuzz_check(boundary_rules_decode(copy, first, first_len) == KITH_OK);
    fuzz_check(boundary_rules_encode(copy, false, second, sizeof second, &second_len) == KITH_OK);
    fuzz_check(first_len == second_len && memcmp(first, second, first_len) == 0);
    fuzz_check(boundary_rules_encode(r, true, first, sizeof first, &first_len) == KITH_OK);
    fuzz_check(boundary_rules_decode(copy, first, first_len) == KITH_OK);
    fuzz_check(!boundary_is_blocked(copy, 0) && boundary_trust_level(copy, 0) == 0); /* private */
    boundary_rules_destroy(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t again[BOUNDARY_ENCODED_MAX];
    static char words[4096];
    struct boundary_clock clk = { FUZZ_NOW, "Europe/Berlin", fuzz_offset, NULL };
    struct boundary_rules *r = boundary_rules_create();
    const char *args[FUZZ_ARGS_MAX];
    size_t nargs = 0;
    size_t again_len;
    const char *why = NULL;

    if (size == 0 || size > sizeof words) {
        goto out;
    }
    if ((data[0] & 1) == 0) {
        if (boundary_rules_decode(r, data + 1, size - 1) != KITH_OK) {
            goto out;
        }
        fuzz_check(boundary_rules_encode(r, false, again, sizeof again, &again_len) == KITH_OK);
        fuzz_check(again_len == size - 1 && memcmp(again, data + 1, again_len) == 0);
    } else {
        memcpy(words, data + 1, size - 1);
        words[size - 1] = '\0';
        args[nargs++] = words;
        for (char *p = words; *p != '\0' && nargs < FUZZ_ARGS_MAX; p++) {
            if (*p == '\n') {
                *p = '\0';
                args[nargs++] = p + 1;
            }
        }
        if (boundary_rules_set(r, args, nargs, &clk, &why) != KITH_OK) {
            fuzz_check(why != NULL && why[0] != '\0');
            goto out;
        }
    }
    fuzz_round_trip(r);
    fuzz_use(r, &clk, data, size);
out:
    boundary_rules_destroy(r);
    return 0;
}
