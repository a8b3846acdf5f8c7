/*
 * input_test: the line editor: moves and deletions by characters (multi-byte,
 * wide, combining) and words, kills, history and the visible window.
 */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tui/input.h"
#include "tui/wrap.h"

static struct input *
typed(const char *text)
{
    struct input *in = input_create(256, false);

    assert_int_equal(input_insert(in, text, strlen(text)), KITH_OK);
    return in;
}

static void
assert_line(const struct input *in, const char *text, size_t cursor)
{
    size_t len = 0;

    assert_string_equal(input_text(in, &len), text);
    assert_int_equal(len, strlen(text));
    assert_int_equal(input_cursor(in), cursor);
}

static void
insert__puts__text_at_the_cursor(void **state)
{
    struct input *in = typed("helo");

    (void)state;
    input_left(in);
    assert_int_equal(input_insert(in, "l", 1), KITH_OK);
    assert_line(in, "hello", 4);
    input_destroy(in);
}

static void
insert__drops__control_characters(void **state)
{
    struct input *in = typed("a\x1b[2Jb\x07\n");

    (void)state;
    assert_line(in, "a[2Jb", 5);
    input_destroy(in);
}

static void
insert__refuses__text_past_the_capacity(void **state)
{
    struct input *in = input_create(4, false);

    (void)state;
    assert_int_equal(input_insert(in, "abc", 3), KITH_OK);
    assert_int_equal(input_insert(in, "\xc3\xa9", 2), KITH_ETOOBIG);
    assert_line(in, "abc", 3);
    assert_int_equal(input_insert(in, "d", 1), KITH_OK);
    input_destroy(in);
}

static void
left_and_right__step__over_whole_multibyte_characters(void **state)
{
    struct input *in = typed("a\xc3\xa9\xe7\x8c\xab\xf0\x9f\x98\x80");

    (void)state;
    input_left(in);
    assert_int_equal(input_cursor(in), 6);
    input_left(in);
    assert_int_equal(input_cursor(in), 3);
    input_left(in);
    assert_int_equal(input_cursor(in), 1);
    input_right(in);
    assert_int_equal(input_cursor(in), 3);
    input_home(in);
    input_left(in);
    assert_int_equal(input_cursor(in), 0);
    input_end(in);
    input_right(in);
    assert_int_equal(input_cursor(in), 10);
    input_destroy(in);
}

static void
left_and_right__keep__combining_marks_with_their_letter(void **state)
{
    struct input *in = typed("xe\xcc\x81y"); /* x, e + U+0301, y */

    (void)state;
    input_left(in);
    input_left(in);
    assert_int_equal(input_cursor(in), 1);
    input_right(in);
    assert_int_equal(input_cursor(in), 4);
    input_destroy(in);
}

static void
backspace__removes__a_whole_character(void **state)
{
    struct input *in = typed("a\xe7\x8c\xab");

    (void)state;
    input_backspace(in);
    assert_line(in, "a", 1);
    input_backspace(in);
    input_backspace(in); /* at the start: nothing happens */
    assert_line(in, "", 0);
    input_destroy(in);
}

static void
delete__removes__the_character_under_the_cursor(void **state)
{
    struct input *in = typed("ab\xc3\xa9");

    (void)state;
    input_home(in);
    input_right(in);
    input_delete(in);
    assert_line(in, "a\xc3\xa9", 1);
    input_delete(in);
    assert_line(in, "a", 1);
    input_delete(in);
    assert_line(in, "a", 1);
    input_destroy(in);
}

static void
word_moves__jump__over_words_and_spaces(void **state)
{
    struct input *in = typed("one  two three");

    (void)state;
    input_word_left(in);
    assert_int_equal(input_cursor(in), 9);
    input_word_left(in);
    assert_int_equal(input_cursor(in), 5);
    input_word_left(in);
    assert_int_equal(input_cursor(in), 0);
    input_word_right(in);
    assert_int_equal(input_cursor(in), 3);
    input_word_right(in);
    assert_int_equal(input_cursor(in), 8);
    input_destroy(in);
}

static void
kill_word__deletes__the_word_before_the_cursor(void **state)
{
    struct input *in = typed("hello big world  ");

    (void)state;
    input_kill_word(in);
    assert_line(in, "hello big ", 10);
    input_word_left(in);
    input_kill_word(in);
    assert_line(in, "big ", 0);
    input_destroy(in);
}

static void
kill_to_start__deletes__everything_before_the_cursor(void **state)
{
    struct input *in = typed("abc def");

    (void)state;
    input_word_left(in);
    input_kill_to_start(in);
    assert_line(in, "def", 0);
    input_end(in);
    input_left(in);
    input_kill_to_end(in);
    assert_line(in, "de", 2);
    input_destroy(in);
}

static void
history__recalls__older_lines_and_returns_to_the_draft(void **state)
{
    struct input *in = typed("first");

    (void)state;
    input_commit(in);
    assert_int_equal(input_insert(in, "second", 6), KITH_OK);
    input_commit(in);
    assert_int_equal(input_insert(in, "draft", 5), KITH_OK);
    input_history_up(in);
    assert_line(in, "second", 6);
    input_history_up(in);
    assert_line(in, "first", 5);
    input_history_up(in);
    assert_line(in, "first", 5);
    input_history_down(in);
    assert_line(in, "second", 6);
    input_history_down(in);
    assert_line(in, "draft", 5);
    input_history_down(in);
    assert_line(in, "draft", 5);
    input_destroy(in);
}

static void
history__skips__empty_lines_and_repeats(void **state)
{
    struct input *in = typed("same");

    (void)state;
    input_commit(in);
    input_commit(in); /* empty */
    assert_int_equal(input_insert(in, "same", 4), KITH_OK);
    input_commit(in);
    input_history_up(in);
    input_history_up(in);
    assert_line(in, "same", 4);
    input_history_down(in);
    assert_line(in, "", 0);
    input_destroy(in);
}

static void
history__keeps__nothing_for_secrets(void **state)
{
    struct input *in = input_create(64, true);

    (void)state;
    assert_int_equal(input_insert(in, "hunter2", 7), KITH_OK);
    input_commit(in);
    input_history_up(in);
    assert_line(in, "", 0);
    input_destroy(in);
}

static void
history__forgets__the_oldest_past_the_limit(void **state)
{
    struct input *in = input_create(64, false);
    char line[16];

    (void)state;
    for (int i = 0; i < INPUT_HISTORY_MAX + 5; i++) {
        int n = snprintf(line, sizeof line, "line %d", i);
        assert_int_equal(input_insert(in, line, (size_t)n), KITH_OK);
        input_commit(in);
    }
    for (int i = 0; i < INPUT_HISTORY_MAX + 5; i++) {
        input_history_up(in);
    }
    assert_string_equal(input_text(in, NULL), "line 5");
    input_destroy(in);
}

static void
set__clamps__the_cursor_to_a_character_boundary(void **state)
{
    struct input *in = input_create(64, false);

    (void)state;
    assert_int_equal(input_set(in, "a\xe7\x8c\xab", 4, 2), KITH_OK);
    assert_int_equal(input_cursor(in), 1);
    assert_int_equal(input_set(in, "ab", 2, 99), KITH_OK);
    assert_int_equal(input_cursor(in), 2);
    input_destroy(in);
}

static void
view__scrolls__to_keep_the_cursor_visible(void **state)
{
    struct input *in = typed("0123456789abcdefghij");
    size_t first = 99;
    size_t col = 99;

    (void)state;
    input_view(in, 10, &first, &col);
    assert_int_equal(first, 11);
    assert_int_equal(col, 9);
    input_home(in);
    input_view(in, 10, &first, &col);
    assert_int_equal(first, 0);
    assert_int_equal(col, 0);
    input_destroy(in);
}

static void
view__counts__wide_characters_as_two_columns(void **state)
{
    struct input *in = typed("\xe7\x8c\xab\xe7\x8c\xab\xe7\x8c\xab");
    size_t first = 99;
    size_t col = 99;

    (void)state;
    input_view(in, 8, &first, &col);
    assert_int_equal(first, 0);
    assert_int_equal(col, 6);
    input_view(in, 6, &first, &col);
    assert_int_equal(first, 3);
    assert_int_equal(col, 4);
    input_destroy(in);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(insert__puts__text_at_the_cursor),
        cmocka_unit_test(insert__drops__control_characters),
        cmocka_unit_test(insert__refuses__text_past_the_capacity),
        cmocka_unit_test(left_and_right__step__over_whole_multibyte_characters),
        cmocka_unit_test(left_and_right__keep__combining_marks_with_their_letter),
        cmocka_unit_test(backspace__removes__a_whole_character),
        cmocka_unit_test(delete__removes__the_character_under_the_cursor),
        cmocka_unit_test(word_moves__jump__over_words_and_spaces),
        cmocka_unit_test(kill_word__deletes__the_word_before_the_cursor),
        cmocka_unit_test(kill_to_start__deletes__everything_before_the_cursor),
        cmocka_unit_test(history__recalls__older_lines_and_returns_to_the_draft),
        cmocka_unit_test(history__skips__empty_lines_and_repeats),
        cmocka_unit_test(history__keeps__nothing_for_secrets),
        cmocka_unit_test(history__forgets__the_oldest_past_the_limit),
        cmocka_unit_test(set__clamps__the_cursor_to_a_character_boundary),
        cmocka_unit_test(view__scrolls__to_keep_the_cursor_visible),
        cmocka_unit_test(view__counts__wide_characters_as_two_columns),
    };

    if (setlocale(LC_CTYPE, "C.UTF-8") == NULL) {
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
