/*
 * commands_test: parsing every slash command, its calm usage errors, and tab
 * completion of commands and contact names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tui/commands.h"

static struct commands_parsed
parsed_ok(const char *line)
{
    struct commands_parsed p;
    const char *why = NULL;

    assert_int_equal(commands_parse(line, &p, &why), KITH_OK);
    return p;
}

static const char *
parsed_fails(const char *line)
{
    struct commands_parsed p;
    const char *why = NULL;

    assert_int_equal(commands_parse(line, &p, &why), KITH_EINVAL);
    assert_non_null(why);
    assert_true(strlen(why) > 0);
    assert_null(strchr(why, '!')); /* calm: no exclamation marks */
    return why;
}

static void
parse__says__plain_text_to_the_open_conversation(void **state)
{
    struct commands_parsed p = parsed_ok("  hello there ");

    (void)state;
    assert_int_equal(p.verb, COMMANDS_SAY);
    assert_int_equal(p.text_len, strlen("hello there"));
    assert_memory_equal(p.text, "hello there", p.text_len);
}

static void
parse__says__a_double_slash_line_with_one_slash(void **state)
{
    struct commands_parsed p = parsed_ok("//shrug");

    (void)state;
    assert_int_equal(p.verb, COMMANDS_SAY);
    assert_int_equal(p.text_len, 6);
    assert_memory_equal(p.text, "/shrug", 6);
}

static void
parse__rejects__an_empty_line(void **state)
{
    (void)state;
    parsed_fails("");
    parsed_fails("   ");
}

static void
parse__reads__query_with_a_name(void **state)
{
    struct commands_parsed p = parsed_ok("/query Alex");

    (void)state;
    assert_int_equal(p.verb, COMMANDS_QUERY);
    assert_string_equal(p.name, "Alex");
    p = parsed_ok("/QUERY   \"Alex B\"  ");
    assert_string_equal(p.name, "Alex B");
}

static void
parse__rejects__query_without_a_name_or_with_extra_words(void **state)
{
    (void)state;
    assert_string_equal(parsed_fails("/query"), "/query NAME");
    parsed_fails("/query Alex Bo");
    parsed_fails("/query \"unterminated");
}

static void
parse__rejects__a_name_longer_than_64_bytes(void **state)
{
    char line[128] = "/name ";

    (void)state;
    memset(line + 6, 'x', 65);
    line[71] = '\0';
    parsed_fails(line);
    line[70] = '\0'; /* 64 bytes: fine */
    assert_int_equal(parsed_ok(line).verb, COMMANDS_NAME);
}

static void
parse__reads__msg_with_name_and_text(void **state)
{
    struct commands_parsed p = parsed_ok("/msg Jo  see you at 6 ");

    (void)state;
    assert_int_equal(p.verb, COMMANDS_MSG);
    assert_string_equal(p.name, "Jo");
    assert_int_equal(p.text_len, strlen("see you at 6"));
    assert_memory_equal(p.text, "see you at 6", p.text_len);
}

static void
parse__rejects__msg_without_text(void **state)
{
    (void)state;
    assert_string_equal(parsed_fails("/msg Jo"), "/msg NAME TEXT");
    parsed_fails("/msg Jo    ");
    parsed_fails("/msg");
}

static void
parse__reads__accept_with_and_without_a_name(void **state)
{
    struct commands_parsed p = parsed_ok("/accept kith1-abc");

    (void)state;
    assert_int_equal(p.verb, COMMANDS_ACCEPT);
    assert_int_equal(p.text_len, strlen("kith1-abc"));
    assert_memory_equal(p.text, "kith1-abc", p.text_len);
    assert_string_equal(p.as_name, "");
    p = parsed_ok("/accept kith1-abc as Sam");
    assert_string_equal(p.as_name, "Sam");
    p = parsed_ok("/accept kith1-abc --as \"Sam K\"");
    assert_string_equal(p.as_name, "Sam K");
}

static void
parse__rejects__accept_with_a_stray_word(void **state)
{
    (void)state;
    parsed_fails("/accept");
    parsed_fails("/accept kith1-abc Sam");
    parsed_fails("/accept kith1-abc as");
    parsed_fails("/accept kith1-abc as Sam too");
}

static void
parse__reads__verify_with_an_optional_name(void **state)
{
    struct commands_parsed p = parsed_ok("/verify");

    (void)state;
    assert_int_equal(p.verb, COMMANDS_VERIFY);
    assert_string_equal(p.name, "");
    p = parsed_ok("/verify Jo");
    assert_string_equal(p.name, "Jo");
}

static void
parse__reads__the_commands_without_arguments(void **state)
{
    (void)state;
    assert_int_equal(parsed_ok("/invite").verb, COMMANDS_INVITE);
    assert_int_equal(parsed_ok("/contacts").verb, COMMANDS_CONTACTS);
    assert_int_equal(parsed_ok("/help").verb, COMMANDS_HELP);
    assert_int_equal(parsed_ok("/lock").verb, COMMANDS_LOCK);
    assert_int_equal(parsed_ok("/quit").verb, COMMANDS_QUIT);
    assert_int_equal(parsed_ok("/exit").verb, COMMANDS_QUIT);
    parsed_fails("/invite now");
}

static void
parse__rejects__an_unknown_command_kindly(void **state)
{
    (void)state;
    assert_non_null(strstr(parsed_fails("/frobnicate"), "/help"));
    parsed_fails("/que Alex"); /* prefixes are for Tab, not for parsing */
}

static void
table__lists__every_command_with_usage(void **state)
{
    (void)state;
    assert_true(commands_count() >= 9);
    for (size_t i = 0; i < commands_count(); i++) {
        const struct commands_info *c = commands_at(i);
        assert_int_equal(c->name[0], '/');
        assert_memory_equal(c->usage, c->name, strlen(c->name));
        assert_null(strchr(c->about, '!'));
    }
    assert_null(commands_at(commands_count()));
}

static void
boundary_commands__parse__heavy_boundary_show_and_consent(void **state)
{
    struct commands_parsed p;

    (void)state;
    p = parsed_ok("/heavy  it has been a hard week ");
    assert_int_equal(p.verb, COMMANDS_HEAVY);
    assert_int_equal(p.text_len, strlen("it has been a hard week"));
    assert_memory_equal(p.text, "it has been a hard week", p.text_len);
    p = parsed_ok("/boundary");
    assert_int_equal(p.verb, COMMANDS_BOUNDARY);
    assert_string_equal(p.name, "");
    p = parsed_ok("/boundary \"Sam K\"");
    assert_string_equal(p.name, "Sam K");
    assert_int_equal(parsed_ok("/show").verb, COMMANDS_SHOW);
    p = parsed_ok("/consent later");
    assert_int_equal(p.verb, COMMANDS_CONSENT);
    assert_memory_equal(p.text, "later", 5);
    assert_string_equal(parsed_fails("/heavy"), "/heavy TEXT");
    assert_string_equal(parsed_fails("/consent maybe"), "/consent yes|later|no");
    assert_string_equal(parsed_fails("/show now"), "/show");
}

static const char *const names[] = { "Alex", "alba", "Jo", "Sam K" };

static size_t
complete(const char *line, size_t cursor, size_t nth, char *out, size_t *new_cursor)
{
    return commands_complete(line, cursor, names, 4, nth, out, 128, new_cursor);
}

static void
complete__finishes__a_unique_command(void **state)
{
    char out[128];
    size_t cursor = 0;

    (void)state;
    assert_int_equal(complete("/qu", 3, 0, out, &cursor), 2); /* /query, /quit */
    assert_string_equal(out, "/query ");
    assert_int_equal(cursor, 7);
    assert_int_equal(complete("/qu", 3, 1, out, &cursor), 2);
    assert_string_equal(out, "/quit ");
    assert_int_equal(complete("/qu", 3, 2, out, &cursor), 2); /* cycles */
    assert_string_equal(out, "/query ");
    assert_int_equal(complete("/inv", 4, 0, out, &cursor), 1);
    assert_string_equal(out, "/invite ");
}

static void
complete__offers__contact_names_after_a_command(void **state)
{
    char out[128];
    size_t cursor = 0;

    (void)state;
    assert_int_equal(complete("/query al", 9, 0, out, &cursor), 2);
    assert_string_equal(out, "/query Alex ");
    assert_int_equal(complete("/query al", 9, 1, out, &cursor), 2);
    assert_string_equal(out, "/query alba ");
    assert_int_equal(cursor, 12);
}

static void
complete__quotes__a_name_with_a_space(void **state)
{
    char out[128];
    size_t cursor = 0;

    (void)state;
    assert_int_equal(complete("/msg s", 6, 0, out, &cursor), 1);
    assert_string_equal(out, "/msg \"Sam K\" ");
    assert_int_equal(complete("/msg \"Sa", 8, 0, out, &cursor), 1);
    assert_string_equal(out, "/msg \"Sam K\" ");
}

static void
complete__keeps__the_text_after_the_cursor(void **state)
{
    char out[128];
    size_t cursor = 0;

    (void)state;
    assert_int_equal(complete("/msg J hello", 6, 0, out, &cursor), 1);
    assert_string_equal(out, "/msg Jo hello");
    assert_int_equal(cursor, 8);
}

static void
complete__finds__nothing_for_an_unknown_prefix(void **state)
{
    char out[128] = "untouched";
    size_t cursor = 0;

    (void)state;
    assert_int_equal(complete("/zz", 3, 0, out, &cursor), 0);
    assert_int_equal(complete("hi Zed", 6, 0, out, &cursor), 0);
    assert_string_equal(out, "untouched");
}

static void
complete__refuses__a_result_that_does_not_fit(void **state)
{
    char out[8] = "same";
    size_t cursor = 0;

    (void)state;
    assert_int_equal(commands_complete("/contac", 7, names, 4, 0, out, 8, &cursor), 0);
    assert_string_equal(out, "same");
}

static void
retention__parses__durations_off_and_answers(void **state)
{
    struct commands_parsed p;

    (void)state;
    p = parsed_ok("/retention");
    assert_int_equal(p.verb, COMMANDS_RETENTION);
    assert_int_equal(p.text_len, 0);
    p = parsed_ok("/retention 7d");
    assert_int_equal(p.seconds, 7 * 86400);
    p = parsed_ok("/retention 90");
    assert_int_equal(p.seconds, 90);
    p = parsed_ok("/retention 10m ");
    assert_int_equal(p.seconds, 600);
    p = parsed_ok("/retention off");
    assert_int_equal(p.seconds, 0);
    assert_memory_equal(p.text, "off", 3);
    p = parsed_ok("/retention accept");
    assert_int_equal(p.text_len, 6);
    p = parsed_ok("/retention decline");
    assert_int_equal(p.text_len, 7);
    (void)parsed_fails("/retention 0s");
    (void)parsed_fails("/retention 367d");
    (void)parsed_fails("/retention soon");
    (void)parsed_fails("/retention 1h now");
    (void)parsed_fails("/retention 1w");
}

static void
circle_commands__parse__each_form_by_its_second_word(void **state)
{
    struct commands_parsed p;

    (void)state;
    p = parsed_ok("/circle create friends");
    assert_int_equal(p.verb, COMMANDS_CIRCLE_CREATE);
    assert_string_equal(p.name, "friends");
    p = parsed_ok("/circle  Invite #friends");
    assert_int_equal(p.verb, COMMANDS_CIRCLE_INVITE);
    assert_string_equal(p.name, "#friends");
    p = parsed_ok("/circle invite");
    assert_int_equal(p.verb, COMMANDS_CIRCLE_INVITE);
    assert_string_equal(p.name, ""); /* the open circle */
    assert_int_equal(parsed_ok("/circle members").verb, COMMANDS_CIRCLE_MEMBERS);
    p = parsed_ok("/circle remove \"Sam K\"");
    assert_int_equal(p.verb, COMMANDS_CIRCLE_REMOVE);
    assert_string_equal(p.name, "Sam K");
    assert_int_equal(parsed_ok("/circle leave friends").verb, COMMANDS_CIRCLE_LEAVE);
    assert_int_equal(parsed_ok("/checkin").verb, COMMANDS_CHECKIN);
    assert_int_equal(parsed_ok("/support #friends").verb, COMMANDS_SUPPORT);
    assert_string_equal(parsed_fails("/circle create"), "/circle create NAME");
    assert_string_equal(parsed_fails("/circle remove"), "/circle remove CONTACT");
    assert_string_equal(parsed_fails("/circle leave a b"), "/circle leave [NAME]");
    assert_non_null(strstr(parsed_fails("/circle"), "/circle create NAME"));
    assert_non_null(strstr(parsed_fails("/circle dissolve x"), "/circle create NAME"));
}

static void
circle_commands__complete__the_command_once_then_its_second_word(void **state)
{
    char out[128];
    size_t cursor = 0;

    (void)state;
    assert_int_equal(complete("/cir", 4, 0, out, &cursor), 1); /* one /circle, not five */
    assert_string_equal(out, "/circle ");
    assert_int_equal(complete("/circle cr", 10, 0, out, &cursor), 1);
    assert_string_equal(out, "/circle create ");
    assert_int_equal(cursor, 15);
    assert_int_equal(complete("/circle ", 8, 0, out, &cursor), 5);
    assert_string_equal(out, "/circle create ");
    assert_int_equal(complete("/circle ", 8, 4, out, &cursor), 5);
    assert_string_equal(out, "/circle leave ");
    assert_int_equal(complete("/circle remove Al", 17, 0, out, &cursor), 2); /* then names */
    assert_string_equal(out, "/circle remove Alex ");
    assert_int_equal(complete("/query cr", 9, 0, out, &cursor), 0); /* only after /circle */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse__says__plain_text_to_the_open_conversation),
        cmocka_unit_test(parse__says__a_double_slash_line_with_one_slash),
        cmocka_unit_test(parse__rejects__an_empty_line),
        cmocka_unit_test(parse__reads__query_with_a_name),
        cmocka_unit_test(parse__rejects__query_without_a_name_or_with_extra_words),
        cmocka_unit_test(parse__rejects__a_name_longer_than_64_bytes),
        cmocka_unit_test(parse__reads__msg_with_name_and_text),
        cmocka_unit_test(parse__rejects__msg_without_text),
        cmocka_unit_test(parse__reads__accept_with_and_without_a_name),
        cmocka_unit_test(parse__rejects__accept_with_a_stray_word),
        cmocka_unit_test(parse__reads__verify_with_an_optional_name),
        cmocka_unit_test(parse__reads__the_commands_without_arguments),
        cmocka_unit_test(parse__rejects__an_unknown_command_kindly),
        cmocka_unit_test(table__lists__every_command_with_usage),
        cmocka_unit_test(complete__finishes__a_unique_command),
        cmocka_unit_test(complete__offers__contact_names_after_a_command),
        cmocka_unit_test(complete__quotes__a_name_with_a_space),
        cmocka_unit_test(complete__keeps__the_text_after_the_cursor),
        cmocka_unit_test(complete__finds__nothing_for_an_unknown_prefix),
        cmocka_unit_test(complete__refuses__a_result_that_does_not_fit),
        cmocka_unit_test(boundary_commands__parse__heavy_boundary_show_and_consent),
        cmocka_unit_test(circle_commands__parse__each_form_by_its_second_word),
        cmocka_unit_test(circle_commands__complete__the_command_once_then_its_second_word),
        cmocka_unit_test(retention__parses__durations_off_and_answers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
