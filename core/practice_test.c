/*
 * practice tests: each temperament walked to its end through the JSON-lines
 * driver with a fixed seed, the same seed giving the same transcript, the
 * defensive guard going up and down (and the break at 3), the withdrawn
 * partner opening up after a check-in and pausing when pushed, the closing
 * feedback, and the strict line parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/practice.h"

static struct practice_out out;

static const char *
say(struct practice *p, const char *line)
{
    int rc = practice_script_step(p, line, &out);

    if (rc != KITH_OK) {
        fail_msg("refused %s: %s", line, out.json);
    }
    assert_int_equal(out.json[0], '{');
    return out.reply;
}

#define SHARE_KIND                                                                                 \
    "{\"event\":\"share\",\"observation\":\"You left the party without telling me, and I was "     \
    "alone.\",\"feelings\":[\"hurt\",\"lonely\"],\"needs\":[\"consideration\"],\"request\":"       \
    "\"Would you be willing to text me before you leave?\"}"

static void
receptive__walks_to_the_end_and_reflects_my_words(void **state)
{
    struct practice *p = practice_create(PRACTICE_RECEPTIVE, 7);

    (void)state;
    assert_string_equal(say(p, "{\"event\":\"invite\",\"topic\":\"Saturday\"}"),
                        "Yes, I'm glad you asked.");
    say(p, SHARE_KIND);
    assert_int_equal(out.state, REPAIR_REFLECTED);
    assert_non_null(strstr(out.reply, "I left the party without telling you"));
    assert_non_null(strstr(out.reply, "hurt and lonely"));
    assert_int_equal(out.n_hints, 0);
    say(p, "{\"event\":\"confirm\",\"answer\":\"yes\"}");
    assert_int_equal(out.partner_event, REPAIR_EV_RESPOND);
    assert_non_null(strstr(out.reply, "Next time I'll text you before I leave."));
    say(p, "{\"event\":\"receive\",\"answer\":\"ok\"}");
    assert_int_equal(out.state, REPAIR_AGREEING);
    say(p, "{\"event\":\"propose\",\"text\":\"A text before leaving a party.\"}");
    assert_int_equal(out.state, REPAIR_CHECKOUT);
    assert_string_equal(out.reply, "Yes \xe2\x80\x94 let's try that. I'm at a 4. Thank you for "
                                   "doing this with me.");
    say(p, "{\"event\":\"checkout\",\"rating\":4,\"shared\":true}");
    assert_true(out.is_done);
    assert_non_null(strstr(out.json, "\"done\":true"));
    assert_non_null(strstr(out.feedback, "You named a feeling, not a judgment."));
    assert_non_null(strstr(out.feedback, "Try again with a different partner?"));
    assert_null(strstr(out.feedback, "score"));
    practice_destroy(p);
}

static void
defensive__guard_rises_with_flags_falls_without_and_breaks_at_three(void **state)
{
    struct practice *p = practice_create(PRACTICE_DEFENSIVE, 1);

    (void)state;
    assert_int_equal(practice_guard(p), 2);
    assert_string_equal(say(p, "{\"event\":\"invite\"}"), "Okay\xe2\x80\xa6 what is it this time?");
    say(p, "{\"event\":\"share\",\"observation\":\"You ALWAYS leave, you're so selfish.\","
           "\"feelings\":[\"angry\"],\"needs\":[\"respect\"]}");
    assert_int_equal(practice_guard(p), 3);
    assert_string_equal(out.reply, "I can't do this right now.");
    assert_int_equal(out.state, REPAIR_PAUSED);
    assert_true(out.n_hints >= 2);
    say(p, "{\"event\":\"resume\"}"); /* skip the simulated 20 minutes */
    assert_int_equal(practice_guard(p), 2);
    assert_int_equal(out.state, REPAIR_REFLECTED);
    assert_non_null(strstr(out.reply, "I'm back"));
    assert_true(strstr(out.reply, "I'm the problem") != NULL ||
                strstr(out.reply, "all on me") != NULL);
    say(p, "{\"event\":\"confirm\",\"answer\":\"partly\",\"addition\":\"I felt alone at the "
           "party.\"}");
    assert_int_equal(practice_guard(p), 1);
    assert_non_null(strstr(out.reply, "angry"));
    assert_non_null(strstr(out.reply, "though"));
    say(p, "{\"event\":\"confirm\",\"answer\":\"yes\"}");
    assert_int_equal(out.partner_event, REPAIR_EV_RESPOND);
    assert_non_null(strstr(out.reply, "I can see how it landed"));
    say(p, "{\"event\":\"receive\",\"answer\":\"more\",\"note\":\"Could you say what you'd do "
           "differently?\"}");
    assert_int_equal(practice_guard(p), 0);
    assert_non_null(strstr(out.reply, "sorry"));
    say(p, "{\"event\":\"receive\",\"answer\":\"ok\"}");
    say(p, "{\"event\":\"propose\",\"text\":\"Tell me before you leave.\"}");
    assert_int_equal(out.partner_event, REPAIR_EV_COUNTER);
    assert_non_null(strstr(out.reply, "smaller"));
    say(p, "{\"event\":\"agree\",\"v\":2}");
    assert_int_equal(out.state, REPAIR_CHECKOUT);
    assert_non_null(strstr(out.reply, "I'm at a 4")); /* guard reached 0 */
    say(p, "{\"event\":\"checkout\"}");
    assert_true(out.is_done);
    assert_non_null(strstr(out.feedback, "break"));
    assert_non_null(strstr(out.feedback, "To try: "));
    practice_destroy(p);
}

static void
withdrawn__postpones_then_opens_up_after_a_check_in(void **state)
{
    struct practice *p = practice_create(PRACTICE_WITHDRAWN, 3);

    (void)state;
    assert_string_equal(say(p, "{\"event\":\"invite\"}"), "Can we do this later? Tonight?");
    assert_int_equal(out.state, REPAIR_POSTPONED);
    say(p, "{\"event\":\"resume\"}"); /* accept the later time */
    assert_int_equal(out.state, REPAIR_ACCEPTED);
    say(p, SHARE_KIND);
    assert_string_equal(out.reply, "Ok. you felt hurt and lonely.");
    say(p, "{\"event\":\"check_in\"}");
    assert_int_equal(out.partner_event, REPAIR_EV_SOMETHING_LANDED_HARD);
    assert_string_equal(out.reply, "I think I felt blamed and I froze. Consideration matters to "
                                   "me too.");
    say(p, "{\"event\":\"confirm\",\"answer\":\"yes\"}");
    assert_non_null(strstr(out.reply, "sorry"));
    say(p, "{\"event\":\"receive\",\"answer\":\"ok\",\"reflect_back\":\"You froze because you "
           "felt blamed.\"}");
    say(p, "{\"event\":\"propose\",\"text\":\"A text before leaving.\"}");
    say(p, "{\"event\":\"checkout\",\"rating\":3}");
    assert_true(out.is_done);
    assert_non_null(strstr(out.feedback, "You checked in on how it was going for them."));
    practice_destroy(p);
}

static void
withdrawn__pushing_makes_it_pause_and_quick_yes_invites_a_check_in(void **state)
{
    struct practice *p = practice_create(PRACTICE_WITHDRAWN, 3);

    (void)state;
    say(p, "{\"event\":\"invite\"}");
    say(p, "{\"event\":\"resume\"}");
    say(p, SHARE_KIND);
    say(p,
        "{\"event\":\"confirm\",\"answer\":\"partly\",\"addition\":\"Why won't you answer me?!\"}");
    assert_string_equal(out.reply, "I need a minute.");
    assert_int_equal(out.state, REPAIR_PAUSED);
    say(p, "{\"event\":\"resume\"}");
    assert_string_equal(out.reply, "Okay. I'm back. Thanks for waiting. Sorry.");
    say(p, "{\"event\":\"confirm\",\"answer\":\"yes\"}");
    assert_string_equal(out.reply, "It's fine. sorry. whatever you want.");
    say(p, "{\"event\":\"receive\",\"answer\":\"ok\"}");
    say(p, "{\"event\":\"propose\",\"text\":\"A text before leaving.\"}");
    assert_non_null(strstr(out.reply, "Sure."));
    say(p, "{\"event\":\"check_in\"}");
    assert_string_equal(out.reply, "Honestly, maybe something smaller.");
    say(p, "{\"event\":\"end\"}");
    assert_true(out.is_done);
    practice_destroy(p);
}

static void
determinism__same_seed_same_transcript_other_seed_may_differ(void **state)
{
    static char a[8][PRACTICE_REPLY_MAX], b[8][PRACTICE_REPLY_MAX];
    const char *lines[] = { "{\"event\":\"invite\"}", SHARE_KIND,
                            ("{\"event\":\"confirm\",\"answer\":\"partly\",\"addition\":\"I was "
                             "scared too.\"}"),
                            "{\"event\":\"confirm\",\"answer\":\"yes\"}" };
    bool differs = false;

    (void)state;
    for (uint64_t seed = 0; seed < 6; seed++) {
        struct practice *p = practice_create(PRACTICE_RECEPTIVE, 42);
        struct practice *q = practice_create(PRACTICE_RECEPTIVE, 42 + seed);
        for (size_t i = 0; i < 4; i++) {
            snprintf(a[i], sizeof a[i], "%s", say(p, lines[i]));
            snprintf(b[i], sizeof b[i], "%s", say(q, lines[i]));
            if (seed == 0) {
                assert_string_equal(a[i], b[i]);
            } else if (strcmp(a[i], b[i]) != 0) {
                differs = true;
            }
        }
        practice_destroy(p);
        practice_destroy(q);
    }
    assert_true(differs); /* variants do vary with the seed */
}

static void
script__refuses_bad_lines_kindly(void **state)
{
    struct practice *p = practice_create(PRACTICE_RECEPTIVE, 1);
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "{\"event\":\"invite\"} x",
        "{\"event\":\"invite\",\"event\":\"end\"}",
        "{\"event\":1}",
        "{\"topic\":\"no event\"}",
        "{\"event\":\"invite\",\"topic\":\"\\ud800\"}",
        "{\"event\":\"invite\",\"topic\":\"a\\u0000b\"}",
        "{\"event\":\"invite\",\"topic\":null}",
        "{\"event\":\"share\",\"feelings\":[\"hurt\",3]}",
        "{\"event\":\"invite\",\"x\":\"y\"}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = practice_script_step(p, bad[i], &out);
        if (rc == KITH_OK) {
            fail_msg("accepted: %s", bad[i]);
        }
        assert_non_null(strstr(out.json, "\"error\":"));
    }
    assert_int_equal(practice_script_step(p, "{\"event\":\"share\"}", &out), KITH_EINVAL);
    assert_non_null(strstr(out.json, "Say what happened"));
    assert_int_equal(practice_script_step(p,
                                          " { \"event\" : \"invite\" , \"topic\" : "
                                          "\"caf\\u00e9 \\\"x\\\"\" } ",
                                          &out),
                     KITH_OK);
    assert_string_equal(practice_repair(p) != NULL ? "ok" : "", "ok");
    practice_destroy(p);
}

static void
names__personas_and_intro(void **state)
{
    enum practice_persona persona;

    (void)state;
    assert_int_equal(practice_persona_from_name("defensive", &persona), KITH_OK);
    assert_int_equal(persona, PRACTICE_DEFENSIVE);
    assert_int_equal(practice_persona_from_name("angry", &persona), KITH_EINVAL);
    assert_string_equal(practice_persona_name(PRACTICE_WITHDRAWN), "withdrawn");
    assert_non_null(strstr(practice_intro(), "Nothing is sent."));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(receptive__walks_to_the_end_and_reflects_my_words),
        cmocka_unit_test(defensive__guard_rises_with_flags_falls_without_and_breaks_at_three),
        cmocka_unit_test(withdrawn__postpones_then_opens_up_after_a_check_in),
        cmocka_unit_test(withdrawn__pushing_makes_it_pause_and_quick_yes_invites_a_check_in),
        cmocka_unit_test(determinism__same_seed_same_transcript_other_seed_may_differ),
        cmocka_unit_test(script__refuses_bad_lines_kindly),
        cmocka_unit_test(names__personas_and_intro),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
