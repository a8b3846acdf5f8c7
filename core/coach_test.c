/*
 * coach tests: every rule with text that triggers it and text that does not,
 * the field each rule belongs to, the two-hint cap and its order, and the
 * ending every hint carries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/coach.h"

#define ENDING "If that's not what you meant, skip this."

static bool
fires(enum coach_field field, const char *text, enum coach_rule rule)
{
    return (coach_flags(field, text) & (1u << rule)) != 0;
}

struct rule_case {
    enum coach_rule rule;
    enum coach_field field;
    const char *yes;
    const char *no;
};

static const struct rule_case cases[] = {
    { COACH_ABSOLUTES, COACH_FIELD_OBSERVATION, "You ALWAYS forget.", "You forgot on Monday." },
    { COACH_ABSOLUTES, COACH_FIELD_OBSERVATION, "It happens every time we go out.",
      "It happened the time we went out." },
    { COACH_ABSOLUTES, COACH_FIELD_OBSERVATION, "You're on your phone all the time",
      "You were on your phone at dinner" },
    { COACH_ABSOLUTES, COACH_FIELD_OBSERVATION, "you constantly interrupt", "nevertheless, fine" },
    { COACH_THOUGHT_AS_FEELING, COACH_FIELD_FEELINGS_TEXT, "I feel that you don't care",
      "I feel sad and tired" },
    { COACH_THOUGHT_AS_FEELING, COACH_FIELD_FEELINGS_TEXT, "I felt like you were gone",
      "I felt small" },
    { COACH_THOUGHT_AS_FEELING, COACH_FIELD_FEELINGS_TEXT, "i feel as if nobody listens",
      "as if nobody listens" },
    { COACH_THOUGHT_AS_FEELING, COACH_FIELD_FEELINGS_TEXT, "I feel they laughed at me",
      "They laughed, I feel hurt" },
    { COACH_FAUX_FEELING, COACH_FIELD_FEELINGS_TEXT, "I felt ignored", "You ignored the call" },
    { COACH_FAUX_FEELING, COACH_FIELD_FEELINGS_TEXT, "I feel so left out", "I left out the salt" },
    { COACH_FAUX_FEELING, COACH_FIELD_FEELINGS_TEXT, "I feel really let down",
      "I let the dog down the stairs" },
    { COACH_FAUX_FEELING, COACH_FIELD_FEELINGS_TEXT, "I\xe2\x80\x99m feeling judged",
      "I'm feeling lonely" },
    { COACH_BLAME, COACH_FIELD_OBSERVATION, "You made me cry", "You made dinner" },
    { COACH_BLAME, COACH_FIELD_OBSERVATION, "It's your fault", "It's my fault" },
    { COACH_BLAME, COACH_FIELD_OBSERVATION, "because of you I left", "because of the rain" },
    { COACH_BLAME, COACH_FIELD_OBSERVATION, "You\xe2\x80\x99re so cold", "You're cold? Take this" },
    { COACH_LABELS, COACH_FIELD_OBSERVATION, "That was selfish", "That was self-aware" },
    { COACH_LABELS, COACH_FIELD_OBSERVATION, "you're being dramatic", "the drama club met" },
    { COACH_LABELS, COACH_FIELD_OBSERVATION, "Such a NARCISSIST", "narcissus flowers" },
    { COACH_DEMAND, COACH_FIELD_REQUEST, "You should call me", "Would you be willing to call?" },
    { COACH_DEMAND, COACH_FIELD_REQUEST, "you need to listen", "I need to listen more" },
    { COACH_DEMAND, COACH_FIELD_REQUEST, "You have to tell me", "Tell me when you can?" },
    { COACH_VAGUE_REQUEST, COACH_FIELD_REQUEST, "Just respect me", "Text me if you'll be late" },
    { COACH_VAGUE_REQUEST, COACH_FIELD_REQUEST, "Don't do that again", "Do that again" },
    { COACH_VAGUE_REQUEST, COACH_FIELD_REQUEST, "Stop being cold", "Stop by at six" },
    { COACH_CONTEMPT, COACH_FIELD_OBSERVATION, "Whatever.", "What ever happened?" },
    { COACH_CONTEMPT, COACH_FIELD_OBSERVATION, "Yeah right, you were busy",
      "Yeah, you were right" },
    { COACH_CONTEMPT, COACH_FIELD_OBSERVATION, "Great party /s", "Great party w/soup" },
    { COACH_CONTEMPT, COACH_FIELD_OBSERVATION, "Sure \xf0\x9f\x99\x84", "Sure \xf0\x9f\x99\x82" },
    { COACH_SHOUTING, COACH_FIELD_OBSERVATION, "I WAS SO ANGRY", "I was at the NHS in the UK" },
    { COACH_SHOUTING, COACH_FIELD_OBSERVATION, "Why?!", "Why? I wonder." },
    { COACH_SHOUTING, COACH_FIELD_OBSERVATION, "Stop!!!", "Stop!" },
    { COACH_NON_APOLOGY, COACH_FIELD_RESPONSE, "I'm sorry if you were hurt", "I'm sorry I left" },
    { COACH_NON_APOLOGY, COACH_FIELD_RESPONSE, "Sorry you feel that way", "Sorry, I was late" },
    { COACH_NON_APOLOGY, COACH_FIELD_RESPONSE, "Sorry, but you started it",
      "Sorry. I'll do better" },
    { COACH_KITCHEN_SINKING, COACH_FIELD_OBSERVATION, "And another thing: the dishes",
      "Another day, then" },
    { COACH_KITCHEN_SINKING, COACH_FIELD_OBSERVATION, "Like last time you did this",
      "This time you did this" },
    { COACH_KITCHEN_SINKING, COACH_FIELD_OBSERVATION, "On Monday you left, and on Friday too",
      "On Monday you left" },
    { COACH_KITCHEN_SINKING, COACH_FIELD_OBSERVATION, "On 12/03 and again on 2024-04-01",
      "On 12/03 you left" },
    { COACH_LENGTH, COACH_FIELD_OBSERVATION, "One. Two. Three. Four.", "One. Two. Three." },
};

static void
rules__each_triggers_on_its_words_and_not_on_near_misses(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!fires(cases[i].field, cases[i].yes, cases[i].rule)) {
            fail_msg("%s did not fire on \"%s\"", coach_rule_name(cases[i].rule), cases[i].yes);
        }
        if (fires(cases[i].field, cases[i].no, cases[i].rule)) {
            fail_msg("%s fired on \"%s\"", coach_rule_name(cases[i].rule), cases[i].no);
        }
    }
}

static void
rules__request_and_apology_rules__stay_in_their_fields(void **state)
{
    (void)state;
    assert_false(fires(COACH_FIELD_OBSERVATION, "You should call me", COACH_DEMAND));
    assert_true(fires(COACH_FIELD_AGREEMENT, "We must call", COACH_DEMAND));
    assert_false(fires(COACH_FIELD_OBSERVATION, "Don't go", COACH_VAGUE_REQUEST));
    assert_false(fires(COACH_FIELD_OBSERVATION, "Sorry if you were hurt", COACH_NON_APOLOGY));
    assert_false(fires(COACH_FIELD_REQUEST, "One. Two. Three. Four.", COACH_LENGTH));
}

static void
faux_feeling__hint_names_feelings_and_need_from_the_map(void **state)
{
    struct coach_hint hints[COACH_HINTS_MAX];
    size_t n;

    (void)state;
    n = coach_check(COACH_FIELD_FEELINGS_TEXT, "I feel ignored", "Alex", hints);
    assert_int_equal(n, 1);
    assert_int_equal(hints[0].rule, COACH_FAUX_FEELING);
    assert_string_equal(hints[0].text,
                        "'Ignored' describes what you think Alex did. Underneath, "
                        "maybe lonely or hurt? The need might be connection. " ENDING);
    n = coach_check(COACH_FIELD_FEELINGS_TEXT, "I felt betrayed", NULL, hints);
    assert_int_equal(n, 1);
    assert_non_null(strstr(hints[0].text, "'Betrayed' describes what you think they did"));
    assert_non_null(strstr(hints[0].text, "trust"));
}

static void
hints__at_most_two_most_important_first_each_with_the_ending(void **state)
{
    struct coach_hint hints[COACH_HINTS_MAX];
    size_t n;

    (void)state;
    n = coach_check(COACH_FIELD_OBSERVATION,
                    "You ALWAYS do this, you're so selfish, whatever!!! And another thing", "Alex",
                    hints);
    assert_int_equal(n, 2);
    assert_int_equal(hints[0].rule, COACH_CONTEMPT);
    assert_int_equal(hints[1].rule, COACH_LABELS);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(hints[i].text);
        assert_true(len > strlen(ENDING));
        assert_string_equal(hints[i].text + len - strlen(ENDING), ENDING);
    }
    n = coach_check(COACH_FIELD_OBSERVATION, "You always leave early.", "Alex", hints);
    assert_int_equal(n, 1);
    assert_string_equal(hints[0].text, "Words like 'always' can make it hard to be heard. Could "
                                       "you describe one moment? " ENDING);
}

static void
hints__kind_text__gets_none(void **state)
{
    struct coach_hint hints[COACH_HINTS_MAX];

    (void)state;
    assert_int_equal(coach_check(COACH_FIELD_OBSERVATION,
                                 "When you left the party at ten without saying goodbye, I was "
                                 "alone with people I didn't know.",
                                 "Alex", hints),
                     0);
    assert_int_equal(coach_check(COACH_FIELD_REQUEST,
                                 "Would you be willing to text me if "
                                 "you're leaving early?",
                                 "Alex", hints),
                     0);
    assert_int_equal(coach_flags(COACH_FIELD_OTHER, ""), 0);
}

static void
strength__splits_rules_for_the_defensive_partner(void **state)
{
    (void)state;
    assert_true(coach_rule_is_strong(COACH_BLAME));
    assert_true(coach_rule_is_strong(COACH_ABSOLUTES));
    assert_false(coach_rule_is_strong(COACH_LENGTH));
    assert_false(coach_rule_is_strong(COACH_FAUX_FEELING));
    assert_true(coach_flags_are_strong(coach_flags(COACH_FIELD_OBSERVATION, "you never listen")));
    assert_false(coach_flags_are_strong(coach_flags(COACH_FIELD_FEELINGS_TEXT, "I felt ignored")));
    assert_int_equal(coach_field_for("request"), COACH_FIELD_REQUEST);
    assert_int_equal(coach_field_for("nonsense"), COACH_FIELD_OTHER);
}

static void
input__long_or_odd_bytes__is_read_safely(void **state)
{
    static char big[20000];

    (void)state;
    memset(big, 'A', sizeof big - 1);
    assert_false(fires(COACH_FIELD_OBSERVATION, big, COACH_SHOUTING)); /* one long word */
    for (size_t i = 0; i + 3 < sizeof big; i += 3) {
        memcpy(big + i, "\xe2\x80", 2);
        big[i + 2] = (char)0x99;
    }
    big[sizeof big - 2] = '\xe2';
    (void)coach_flags(COACH_FIELD_OBSERVATION, big);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rules__each_triggers_on_its_words_and_not_on_near_misses),
        cmocka_unit_test(rules__request_and_apology_rules__stay_in_their_fields),
        cmocka_unit_test(faux_feeling__hint_names_feelings_and_need_from_the_map),
        cmocka_unit_test(hints__at_most_two_most_important_first_each_with_the_ending),
        cmocka_unit_test(hints__kind_text__gets_none),
        cmocka_unit_test(strength__splits_rules_for_the_defensive_partner),
        cmocka_unit_test(input__long_or_odd_bytes__is_read_safely),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
