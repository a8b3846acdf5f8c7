/*
 * wrap_test: UTF-8 decoding, widths (wide and combining characters),
 * sanitizing hostile text, line breaking and the state notes.
 */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tui/wrap.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void
decode__reads__two_three_and_four_byte_sequences(void **state)
{
    uint32_t cp = 0;

    (void)state;
    assert_int_equal(wrap_decode(S("\xc3\xa9"), &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(wrap_decode(S("\xe7\x8c\xab"), &cp), 3);
    assert_int_equal(cp, 0x732B);
    assert_int_equal(wrap_decode(S("\xf0\x9f\x98\x80"), &cp), 4);
    assert_int_equal(cp, 0x1F600);
}

static void
decode__replaces__overlong_truncated_and_surrogate_sequences(void **state)
{
    uint32_t cp = 0;

    (void)state;
    assert_int_equal(wrap_decode(S("\xc0\xaf"), &cp), 1); /* overlong '/' */
    assert_int_equal(cp, WRAP_REPLACEMENT);
    assert_int_equal(wrap_decode("\xe7\x8c", 2, &cp), 1); /* cut short */
    assert_int_equal(cp, WRAP_REPLACEMENT);
    assert_int_equal(wrap_decode(S("\xed\xa0\x80"), &cp), 1); /* U+D800 */
    assert_int_equal(cp, WRAP_REPLACEMENT);
    assert_int_equal(wrap_decode(S("\xe0\x80\x80"), &cp), 1);
    assert_int_equal(cp, WRAP_REPLACEMENT);
    assert_int_equal(wrap_decode(S("\xf4\x90\x80\x80"), &cp), 1); /* past U+10FFFF */
    assert_int_equal(cp, WRAP_REPLACEMENT);
    assert_int_equal(wrap_decode(S("\x80"), &cp), 1);
    assert_int_equal(cp, WRAP_REPLACEMENT);
}

static void
encode__round_trips__through_decode(void **state)
{
    static const uint32_t cps[] = { 0x41, 0xE9, 0x7FF, 0x800, 0xFFFD, 0x10000, 0x10FFFF };
    char buf[4];

    (void)state;
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        uint32_t back = 0;
        size_t n = wrap_encode(cps[i], buf);
        assert_int_equal(wrap_decode(buf, n, &back), n);
        assert_int_equal(back, cps[i]);
    }
    assert_int_equal(wrap_encode(0xD800, buf), 3); /* a surrogate becomes U+FFFD */
    assert_memory_equal(buf, "\xef\xbf\xbd", 3);
}

static void
width__counts__wide_as_two_and_combining_as_zero(void **state)
{
    (void)state;
    assert_int_equal(wrap_width(S("abc")), 3);
    assert_int_equal(wrap_width(S("\xe7\x8c\xab\xe7\x8c\xab")), 4); /* two CJK */
    assert_int_equal(wrap_width(S("e\xcc\x81")), 1);                /* e + U+0301 */
    assert_int_equal(wrap_width(S("\xf0\x9f\x98\x80")), 2);         /* emoji */
}

static void
fit__never_splits__a_wide_character(void **state)
{
    const char *s = "a\xe7\x8c\xab"
                    "b"; /* a, CJK (2 cols), b */

    (void)state;
    assert_int_equal(wrap_fit(s, strlen(s), 2), 1);
    assert_int_equal(wrap_fit(s, strlen(s), 3), 4);
    assert_int_equal(wrap_fit(s, strlen(s), 4), 5);
}

static void
fit__keeps__combining_marks_with_their_letter(void **state)
{
    const char *s = "e\xcc\x81x";

    (void)state;
    assert_int_equal(wrap_fit(s, strlen(s), 1), 3);
}

static void
sanitize__replaces__escape_sequences_and_bidi_overrides(void **state)
{
    char out[64];
    const char *evil = "a\x1b]0;title\x07"
                       "b\xe2\x80\xae"
                       "c\td\n\xc2\x9b";

    (void)state;
    wrap_sanitize(evil, strlen(evil), out, sizeof out);
    assert_string_equal(out, "a\xef\xbf\xbd]0;title\xef\xbf\xbd"
                             "b\xef\xbf\xbd"
                             "c d\n\xef\xbf\xbd");
    assert_null(strchr(out, 0x1b));
}

static void
sanitize__cuts__at_a_character_boundary(void **state)
{
    char out[6];

    (void)state;
    assert_int_equal(wrap_sanitize(S("ab\xe7\x8c\xab\xe7\x8c\xab"), out, sizeof out), 5);
    assert_string_equal(out, "ab\xe7\x8c\xab");
}

static void
lines__break__at_spaces(void **state)
{
    const char *t = "the quick brown fox";
    struct wrap_line l[8];
    size_t n = wrap_lines(t, strlen(t), 10, l, 8);

    (void)state;
    assert_int_equal(n, 2);
    assert_int_equal(l[0].off, 0);
    assert_int_equal(l[0].len, 9); /* "the quick" */
    assert_int_equal(l[1].off, 10);
    assert_int_equal(l[1].len, 9); /* "brown fox" */
}

static void
lines__split__a_word_longer_than_the_line(void **state)
{
    const char *t = "abcdefghij";
    struct wrap_line l[8];

    (void)state;
    assert_int_equal(wrap_lines(t, strlen(t), 4, l, 8), 3);
    assert_int_equal(l[0].len, 4);
    assert_int_equal(l[1].off, 4);
    assert_int_equal(l[2].off, 8);
    assert_int_equal(l[2].len, 2);
}

static void
lines__wrap__wide_characters_by_columns(void **state)
{
    /* five CJK characters, 2 columns each, in 5 columns: 2 per line */
    const char *t = "\xe7\x8c\xab\xe7\x8c\xab\xe7\x8c\xab\xe7\x8c\xab\xe7\x8c\xab";
    struct wrap_line l[8];

    (void)state;
    assert_int_equal(wrap_lines(t, strlen(t), 5, l, 8), 3);
    assert_int_equal(l[0].len, 6);
    assert_int_equal(l[1].off, 6);
    assert_int_equal(l[2].len, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_true(wrap_width(t + l[i].off, l[i].len) <= 5);
    }
}

static void
lines__break__at_newlines(void **state)
{
    const char *t = "hi\n\nthere";
    struct wrap_line l[8];

    (void)state;
    assert_int_equal(wrap_lines(t, strlen(t), 40, l, 8), 3);
    assert_int_equal(l[0].len, 2);
    assert_int_equal(l[1].len, 0);
    assert_int_equal(l[2].off, 4);
}

static void
lines__count__one_empty_line_for_empty_text(void **state)
{
    struct wrap_line l[1];

    (void)state;
    assert_int_equal(wrap_lines("", 0, 10, l, 1), 1);
    assert_int_equal(l[0].len, 0);
}

static void
lines__count__beyond_max_without_writing_past_it(void **state)
{
    const char *t = "a b c d e f";
    struct wrap_line l[3];

    (void)state;
    memset(l, 0xAA, sizeof l);
    assert_int_equal(wrap_lines(t, strlen(t), 1, l, 2), 6);
    assert_int_equal(l[2].off, (size_t)0xAAAAAAAAAAAAAAAAull); /* untouched */
}

static void
lines__stay__within_width_for_every_line(void **state)
{
    const char *t = "Couldn't reach Alex yet \xe2\x80\x94 your message is saved and will go "
                    "when they're online. \xe7\x8c\xab\xe7\x8c\xab supercalifragilistic";
    struct wrap_line l[64];

    (void)state;
    for (size_t w = 2; w < 40; w++) {
        size_t n = wrap_lines(t, strlen(t), w, l, 64);
        size_t covered = 0;
        assert_true(n <= 64);
        for (size_t i = 0; i < n; i++) {
            assert_true(wrap_width(t + l[i].off, l[i].len) <= w);
            assert_true(l[i].off >= covered);
            covered = l[i].off + l[i].len;
        }
        assert_int_equal(covered, strlen(t));
    }
}

static void
state_note__says__held_until_a_time(void **state)
{
    char out[64];
    char hhmm[6];

    (void)state;
    wrap_clock(1700000000LL * 1000, hhmm);
    wrap_state_note("held", 1700000000LL, out, sizeof out);
    assert_string_equal(out + strlen("held until "), hhmm);
    assert_memory_equal(out, "held until ", strlen("held until "));
    wrap_state_note("held", 0, out, sizeof out);
    assert_string_equal(out, "held");
}

static void
state_note__names__each_delivery_state(void **state)
{
    char out[64];

    (void)state;
    wrap_state_note("queued", 0, out, sizeof out);
    assert_string_equal(out, "queued");
    wrap_state_note("delivered", 0, out, sizeof out);
    assert_string_equal(out, "delivered");
    wrap_state_note("awaiting_consent", 0, out, sizeof out);
    assert_string_equal(out, "waiting for your yes");
    wrap_state_note(NULL, 0, out, sizeof out);
    assert_string_equal(out, "");
}

static void
boundary_note__words__folded_consent_and_what_the_receipt_told(void **state)
{
    char out[WRAP_NOTE_MAX];
    char hhmm[6];

    (void)state;
    wrap_clock(1700000000LL * 1000, hhmm);
    snprintf(out, sizeof out, "folded");
    wrap_boundary_note("Alex", "folded", NULL, 0, false, out, sizeof out);
    assert_string_equal(out, "Folded \u2014 mentions something on your list. /show opens it");
    wrap_boundary_note("Alex", "awaiting_consent", NULL, 0, false, out, sizeof out);
    assert_non_null(strstr(out, "Alex would like to share something heavy."));
    assert_non_null(strstr(out, "/consent yes"));
    snprintf(out, sizeof out, "delivered");
    wrap_boundary_note(NULL, "delivered", "held_until", 1700000000LL, false, out, sizeof out);
    assert_non_null(strstr(out, "delivered \u00b7 they asked for some quiet"));
    assert_string_equal(out + strlen(out) - 5, hhmm);
    wrap_boundary_note(NULL, "delivered", "digest_at", 1700000000LL, false, out, sizeof out);
    assert_non_null(strstr(out, "a slower pace"));
    snprintf(out, sizeof out, "delivered");
    wrap_boundary_note(NULL, "delivered", "consent_later", 1700000000LL, false, out, sizeof out);
    assert_non_null(strstr(out, "delivered \u00b7 they will look at "));
    assert_string_equal(out + strlen(out) - 5, hhmm);
    snprintf(out, sizeof out, "delivered");
    wrap_boundary_note(NULL, "delivered", "no_space", 0, false, out, sizeof out);
    assert_string_equal(out, "delivered \u00b7 they can't take this on right now \u2014 it might "
                             "help to reach out to someone else too");
    snprintf(out, sizeof out, "delivered");
    wrap_boundary_note(NULL, "delivered", "delivered", 0, false, out, sizeof out);
    assert_string_equal(out, "delivered"); /* nothing to add: no boundary word at all */
    wrap_boundary_note(NULL, "sent", NULL, 0, false, out, sizeof out);
    assert_string_equal(out, "delivered");
    snprintf(out, sizeof out, "held until %s", hhmm);
    wrap_boundary_note("Alex", "held", NULL, 0, true, out, sizeof out);
    assert_non_null(strstr(out, "(a bundle)"));
}

static void
clock__formats__hours_and_minutes(void **state)
{
    char hhmm[6];

    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    wrap_clock((8 * 3600 + 5 * 60) * 1000LL, hhmm);
    assert_string_equal(hhmm, "08:05");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode__reads__two_three_and_four_byte_sequences),
        cmocka_unit_test(decode__replaces__overlong_truncated_and_surrogate_sequences),
        cmocka_unit_test(encode__round_trips__through_decode),
        cmocka_unit_test(width__counts__wide_as_two_and_combining_as_zero),
        cmocka_unit_test(fit__never_splits__a_wide_character),
        cmocka_unit_test(fit__keeps__combining_marks_with_their_letter),
        cmocka_unit_test(sanitize__replaces__escape_sequences_and_bidi_overrides),
        cmocka_unit_test(sanitize__cuts__at_a_character_boundary),
        cmocka_unit_test(lines__break__at_spaces),
        cmocka_unit_test(lines__split__a_word_longer_than_the_line),
        cmocka_unit_test(lines__wrap__wide_characters_by_columns),
        cmocka_unit_test(lines__break__at_newlines),
        cmocka_unit_test(lines__count__one_empty_line_for_empty_text),
        cmocka_unit_test(lines__count__beyond_max_without_writing_past_it),
        cmocka_unit_test(lines__stay__within_width_for_every_line),
        cmocka_unit_test(state_note__says__held_until_a_time),
        cmocka_unit_test(state_note__names__each_delivery_state),
        cmocka_unit_test(clock__formats__hours_and_minutes),
        cmocka_unit_test(boundary_note__words__folded_consent_and_what_the_receipt_told),
    };

    if (setlocale(LC_CTYPE, "C.UTF-8") == NULL) {
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
