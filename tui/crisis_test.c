/*
 * crisis_test: the crisis section of help, in the order DOMAIN.md §5 sets; country from the
 * setting or the locale; the data-file format, and the shipped files parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tui/crisis.h"

static struct crisis_file parsed;
static size_t bad_line;

static int
parse(const char *text)
{
    return crisis_parse(text, strlen(text), &parsed, &bad_line);
}

static const char ok_file[] = "# a comment\n"
                              "country: GB\n"
                              "name: United Kingdom\n"
                              "\n"
                              "checked: 2026-11-23\n"
                              "line: Samaritans | call 116 123 | free, any time\n"
                              "line:  Friends  |  text 123  \n";

static void
country_from_locale__reads__the_territory(void **state)
{
    char cc[3];

    (void)state;
    assert_true(crisis_country_from_locale("en_GB.UTF-8", cc));
    assert_string_equal(cc, "GB");
    assert_true(crisis_country_from_locale("de_DE@euro", cc));
    assert_string_equal(cc, "DE");
    assert_true(crisis_country_from_locale("pt_BR", cc));
    assert_string_equal(cc, "BR");
}

static void
country_from_locale__finds__none_in_c_posix_or_a_bare_language(void **state)
{
    const char *none[] = { NULL, "", "C", "C.UTF-8", "POSIX", "en", "en_gb", "en_GBR.UTF-8", "_G" };
    char cc[3] = "XX";

    (void)state;
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        assert_false(crisis_country_from_locale(none[i], cc));
        assert_string_equal(cc, "");
    }
}

static void
country__prefers__the_setting_then_lc_all_then_lang(void **state)
{
    char cc[3];

    (void)state;
    setenv("LANG", "en_US.UTF-8", 1);
    setenv("LC_ALL", "fr_FR.UTF-8", 1);
    assert_true(crisis_country("gb", cc));
    assert_string_equal(cc, "GB");
    assert_true(crisis_country("auto", cc));
    assert_string_equal(cc, "FR");
    unsetenv("LC_ALL");
    assert_true(crisis_country(NULL, cc));
    assert_string_equal(cc, "US");
    setenv("LC_ALL", "C", 1);
    assert_false(crisis_country(NULL, cc));
    unsetenv("LC_ALL");
    unsetenv("LANG");
    assert_false(crisis_country(NULL, cc));
}

static void
parse__reads__keys_and_entries(void **state)
{
    (void)state;
    assert_int_equal(parse(ok_file), KITH_OK);
    assert_string_equal(parsed.country, "GB");
    assert_string_equal(parsed.name, "United Kingdom");
    assert_string_equal(parsed.checked, "2026-11-23");
    assert_int_equal(parsed.n, 2);
    assert_string_equal(parsed.entries[0].name, "Samaritans");
    assert_string_equal(parsed.entries[0].reach, "call 116 123");
    assert_string_equal(parsed.entries[0].note, "free, any time");
    assert_string_equal(parsed.entries[1].name, "Friends");
    assert_string_equal(parsed.entries[1].reach, "text 123");
    assert_string_equal(parsed.entries[1].note, "");
}

static void
parse__rejects__a_file_without_a_checked_date(void **state)
{
    (void)state;
    assert_int_equal(parse("line: A | call 1\n"), KITH_EMALFORMED);
    assert_int_equal(parse("checked: 23.11.2026\nline: A | call 1\n"), KITH_EMALFORMED);
    assert_int_equal(bad_line, 1);
    assert_int_equal(parse("checked: 2026-13-01\nline: A | call 1\n"), KITH_EMALFORMED);
}

static void
parse__rejects__a_file_without_entries(void **state)
{
    (void)state;
    assert_int_equal(parse("checked: 2026-11-23\n"), KITH_EMALFORMED);
    assert_int_equal(parse(""), KITH_EMALFORMED);
}

static void
parse__rejects__an_unknown_key_and_names_its_line(void **state)
{
    (void)state;
    assert_int_equal(parse("checked: 2026-11-23\nline: A | call 1\nphone: 123\n"), KITH_EMALFORMED);
    assert_int_equal(bad_line, 3);
    assert_int_equal(parsed.n, 0); /* nothing half-parsed is left */
    assert_int_equal(parse("checked: 2026-11-23\njust words\n"), KITH_EMALFORMED);
    assert_int_equal(bad_line, 2);
}

static void
parse__rejects__an_entry_without_a_way_to_reach_it(void **state)
{
    (void)state;
    assert_int_equal(parse("checked: 2026-11-23\nline: Samaritans\n"), KITH_EMALFORMED);
    assert_int_equal(parse("checked: 2026-11-23\nline: Samaritans |  \n"), KITH_EMALFORMED);
    assert_int_equal(parse("checked: 2026-11-23\nline:  | call 1\n"), KITH_EMALFORMED);
}

static void
parse__rejects__more_entries_than_fit(void **state)
{
    char text[1024] = "checked: 2026-11-23\n";

    (void)state;
    for (int i = 0; i < CRISIS_ENTRIES_MAX; i++) {
        strcat(text, "line: A | call 1\n");
    }
    assert_int_equal(parse(text), KITH_OK);
    strcat(text, "line: A | call 1\n");
    assert_int_equal(parse(text), KITH_EMALFORMED);
    assert_int_equal(bad_line, CRISIS_ENTRIES_MAX + 2);
}

static void
parse__rejects__a_country_that_is_not_two_capitals(void **state)
{
    (void)state;
    assert_int_equal(parse("country: gb\nchecked: 2026-11-23\nline: A | 1\n"), KITH_EMALFORMED);
    assert_int_equal(parse("country: GBR\nchecked: 2026-11-23\nline: A | 1\n"), KITH_EMALFORMED);
}

static void
parse__cuts__long_values_at_a_character_boundary(void **state)
{
    char text[2048] = "checked: 2026-11-23\nline: ";

    (void)state;
    for (int i = 0; i < 200; i++) {
        strcat(text, "\xc3\xa9"); /* é, two bytes each */
    }
    strcat(text, " | call 1\n");
    assert_int_equal(parse(text), KITH_OK);
    assert_true(strlen(parsed.entries[0].name) < CRISIS_FIELD_MAX);
    assert_int_equal(strlen(parsed.entries[0].name) % 2, 0);
}

static void
parse__reads__the_shipped_files(void **state)
{
    const char *countries[] = { "GB", "US" };
    struct crisis_file file;

    (void)state;
    setenv("KITH_RESOURCES", "/nonexistent", 1);
    setenv("XDG_CONFIG_HOME", "/nonexistent", 1);
    for (size_t i = 0; i < sizeof countries / sizeof countries[0]; i++) {
        assert_int_equal(crisis_load(countries[i], &file), KITH_OK);
        assert_string_equal(file.country, countries[i]);
        assert_true(file.n >= 2);
        assert_string_equal(file.checked, "2026-11-23");
    }
    unsetenv("KITH_RESOURCES");
}

static void
load__refuses__a_code_that_could_leave_the_directory(void **state)
{
    struct crisis_file file;

    (void)state;
    assert_int_equal(crisis_load("../GB", &file), KITH_ENOTFOUND);
    assert_int_equal(crisis_load("gb", &file), KITH_ENOTFOUND);
    assert_int_equal(crisis_load("", &file), KITH_ENOTFOUND);
    assert_int_equal(crisis_load(NULL, &file), KITH_ENOTFOUND);
}

static void
load__prefers__the_directory_in_kith_resources(void **state)
{
    char dir[] = "/tmp/kith-crisis-XXXXXX";
    char path[64];
    struct crisis_file file;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/GB.conf", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("checked: 2030-01-02\nline: Local list | ask at the library\n", f);
    fclose(f);
    setenv("KITH_RESOURCES", dir, 1);
    assert_int_equal(crisis_load("GB", &file), KITH_OK);
    assert_string_equal(file.checked, "2030-01-02");
    assert_string_equal(file.country, "GB"); /* from the file name */
    assert_string_equal(file.entries[0].reach, "ask at the library");
    assert_int_equal(crisis_load("ZZ", &file), KITH_ENOTFOUND);
    unsetenv("KITH_RESOURCES");
    unlink(path);
    rmdir(dir);
}

static void
lines__come__in_the_order_emergency_own_entries_file(void **state)
{
    char out[CRISIS_LINES_MAX][CRISIS_LINE_MAX];
    size_t n;

    (void)state;
    assert_int_equal(parse(ok_file), KITH_OK);
    n = crisis_lines("Call Jo on 0100", "Sam, Alex", &parsed, out, CRISIS_LINES_MAX);
    assert_int_equal(n, 6);
    assert_string_equal(out[0], "  " CRISIS_EMERGENCY);
    assert_string_equal(out[1], "  My crisis line: Call Jo on 0100");
    assert_string_equal(out[2], "  My people: Sam, Alex");
    assert_string_equal(out[3], "  United Kingdom, checked 2026-11-23. kith doesn't verify these:");
    assert_string_equal(out[4], "    Samaritans: call 116 123, free, any time");
    assert_string_equal(out[5], "    Friends: text 123");
}

static void
lines__suggest__searching_when_no_file_matched(void **state)
{
    char out[CRISIS_LINES_MAX][CRISIS_LINE_MAX];
    size_t n;

    (void)state;
    n = crisis_lines("", "Sam", NULL, out, CRISIS_LINES_MAX);
    assert_int_equal(n, 3);
    assert_string_equal(out[0], "  " CRISIS_EMERGENCY);
    assert_string_equal(out[1], "  My people: Sam");
    assert_string_equal(out[2], "  " CRISIS_SEARCH);
}

static void
lines__say__how_to_add_own_entries_when_there_are_none(void **state)
{
    char out[CRISIS_LINES_MAX][CRISIS_LINE_MAX];
    size_t n;

    (void)state;
    n = crisis_lines(NULL, NULL, NULL, out, CRISIS_LINES_MAX);
    assert_int_equal(n, 3);
    assert_string_equal(out[1], "  " CRISIS_SEARCH);
    assert_non_null(strstr(out[2], "kith config set crisis_line"));
}

static void
lines__stop__at_the_room_given(void **state)
{
    char out[2][CRISIS_LINE_MAX];

    (void)state;
    assert_int_equal(parse(ok_file), KITH_OK);
    assert_int_equal(crisis_lines("a", "b", &parsed, out, 2), 2);
    assert_string_equal(out[0], "  " CRISIS_EMERGENCY);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(country_from_locale__reads__the_territory),
        cmocka_unit_test(country_from_locale__finds__none_in_c_posix_or_a_bare_language),
        cmocka_unit_test(country__prefers__the_setting_then_lc_all_then_lang),
        cmocka_unit_test(parse__reads__keys_and_entries),
        cmocka_unit_test(parse__rejects__a_file_without_a_checked_date),
        cmocka_unit_test(parse__rejects__a_file_without_entries),
        cmocka_unit_test(parse__rejects__an_unknown_key_and_names_its_line),
        cmocka_unit_test(parse__rejects__an_entry_without_a_way_to_reach_it),
        cmocka_unit_test(parse__rejects__more_entries_than_fit),
        cmocka_unit_test(parse__rejects__a_country_that_is_not_two_capitals),
        cmocka_unit_test(parse__cuts__long_values_at_a_character_boundary),
        cmocka_unit_test(parse__reads__the_shipped_files),
        cmocka_unit_test(load__refuses__a_code_that_could_leave_the_directory),
        cmocka_unit_test(load__prefers__the_directory_in_kith_resources),
        cmocka_unit_test(lines__come__in_the_order_emergency_own_entries_file),
        cmocka_unit_test(lines__suggest__searching_when_no_file_matched),
        cmocka_unit_test(lines__say__how_to_add_own_entries_when_there_are_none),
        cmocka_unit_test(lines__stop__at_the_room_given),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
