/*
 * repair tests: every state x every event x both roles against an expected
 * table written out here (not taken from repair.c), the whole flow on two
 * replicas, the counted rules (partly rounds, "more", pauses, postpone),
 * timers, crossing steps in both orders, and the wire and state codecs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/repair.h"

#define T0     1700000000
#define HOUR   3600
#define DAY    (24 * HOUR)
#define REFUSE (-1)

static const uint8_t rid[REPAIR_ID_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

struct pair {
    struct repair *r[2]; /* [REPAIR_INITIATOR], [REPAIR_PARTNER] */
    int64_t now;
};

static struct repair_step step; /* 32 KB; tests are single-threaded */

static void
pair_init(struct pair *pr)
{
    pr->r[0] = repair_create(REPAIR_INITIATOR, rid, "11111 22222", "33333 44444");
    pr->r[1] = repair_create(REPAIR_PARTNER, rid, "11111 22222", "33333 44444");
    repair_set_peer_name(pr->r[0], "Alex");
    repair_set_peer_name(pr->r[1], "Sam");
    pr->now = T0;
}

static void
pair_fini(struct pair *pr)
{
    repair_destroy(pr->r[0]);
    repair_destroy(pr->r[1]);
}

static void
set(struct repair_step *s, const char *name, const char *value)
{
    const char *why = NULL;

    assert_int_equal(repair_step_set_field(s, name, value, &why), KITH_OK);
}

/* A step for ev with valid fields for it. */
static struct repair_step *
make(enum repair_event ev, int64_t now)
{
    char buf[32];

    repair_step_init(&step, ev);
    switch (ev) {
    case REPAIR_EV_INVITE:
        set(&step, "topic", "the party on Saturday");
        break;
    case REPAIR_EV_POSTPONE:
        snprintf(buf, sizeof buf, "%lld", (long long)(now + 3 * HOUR));
        set(&step, "until", buf);
        break;
    case REPAIR_EV_DECLINE:
        set(&step, "reason", "Not now");
        break;
    case REPAIR_EV_SHARE:
        set(&step, "observation", "You left the party without telling me.");
        set(&step, "feelings", "hurt,lonely");
        set(&step, "needs", "to_be_heard");
        set(&step, "request", "Would you be willing to text me next time?");
        break;
    case REPAIR_EV_REFLECT:
        set(&step, "text", "You felt hurt when I left. Did I get that right?");
        set(&step, "feeling_guesses", "hurt");
        break;
    case REPAIR_EV_CONFIRM:
        set(&step, "yes", NULL);
        break;
    case REPAIR_EV_RESPOND:
        set(&step, "validation", "What makes sense to me is that you were left alone.");
        set(&step, "kind", "apology");
        set(&step, "responsibility", "I left without a word.");
        break;
    case REPAIR_EV_RECEIVE:
        set(&step, "ok", NULL);
        break;
    case REPAIR_EV_PROPOSE:
    case REPAIR_EV_COUNTER:
        set(&step, "text", "Text before leaving.");
        break;
    case REPAIR_EV_AGREE:
        set(&step, "v", "1");
        break;
    case REPAIR_EV_CHECKOUT:
        set(&step, "rating", "4");
        set(&step, "shared", NULL);
        break;
    case REPAIR_EV_EXTEND:
        snprintf(buf, sizeof buf, "%lld", (long long)(now + 5 * HOUR));
        set(&step, "until", buf);
        break;
    case REPAIR_EV_SOMETHING_LANDED_HARD:
        set(&step, "text", "The word 'again' stung.");
        break;
    default:
        break;
    }
    return &step;
}

/* Prepare on the actor's replica, apply to both; both must agree. */
static int
act(struct pair *pr, int actor, struct repair_step *s)
{
    int rc_a, rc_b;

    pr->now += 60;
    repair_prepare(pr->r[actor], s, pr->now);
    rc_a = repair_apply(pr->r[actor], s, pr->now, NULL);
    if (rc_a != KITH_OK) {
        assert_true(repair_why(pr->r[actor])[0] != '\0');
        return rc_a;
    }
    rc_b = repair_apply(pr->r[1 - actor], s, pr->now + 5, NULL);
    assert_int_equal(rc_b, KITH_OK);
    assert_int_equal(repair_state(pr->r[0]), repair_state(pr->r[1]));
    assert_int_equal(repair_seq(pr->r[0]), repair_seq(pr->r[1]));
    return KITH_OK;
}

static void
ok(struct pair *pr, int actor, enum repair_event ev)
{
    if (act(pr, actor, make(ev, pr->now + 60)) != KITH_OK) {
        fail_msg("%s by %s refused: %s", repair_event_name(ev), actor ? "partner" : "initiator",
                 repair_why(pr->r[actor]));
    }
}

/* Drive a fresh pair into `target` (PAUSED: paused by the initiator from ACCEPTED). */
static void
reach(struct pair *pr, enum repair_state target)
{
    static const struct {
        enum repair_event ev;
        int actor;
        enum repair_state lands;
    } path[] = {
        { REPAIR_EV_INVITE, 0, REPAIR_INVITED },     { REPAIR_EV_ACCEPT, 1, REPAIR_ACCEPTED },
        { REPAIR_EV_SHARE, 0, REPAIR_SHARED },       { REPAIR_EV_REFLECT, 1, REPAIR_REFLECTED },
        { REPAIR_EV_CONFIRM, 0, REPAIR_UNDERSTOOD }, { REPAIR_EV_RESPOND, 1, REPAIR_RESPONDED },
        { REPAIR_EV_RECEIVE, 0, REPAIR_AGREEING },   { REPAIR_EV_PROPOSE, 0, REPAIR_AGREEING },
        { REPAIR_EV_AGREE, 1, REPAIR_CHECKOUT },
    };

    pair_init(pr);
    if (target == REPAIR_DRAFT) {
        return;
    }
    if (target == REPAIR_POSTPONED) {
        ok(pr, 0, REPAIR_EV_INVITE);
        ok(pr, 1, REPAIR_EV_POSTPONE);
        return;
    }
    for (size_t i = 0; i < sizeof path / sizeof path[0]; i++) {
        if (target == REPAIR_AGREEING && path[i].ev == REPAIR_EV_PROPOSE) {
            break;
        }
        ok(pr, path[i].actor, path[i].ev);
        assert_int_equal(repair_state(pr->r[0]), path[i].lands);
        if (path[i].lands == target || ((target == REPAIR_PAUSED || target == REPAIR_CLOSED) &&
                                        path[i].lands == REPAIR_ACCEPTED)) {
            break;
        }
    }
    if (target == REPAIR_PAUSED) {
        ok(pr, 0, REPAIR_EV_PAUSE);
    }
    if (target == REPAIR_CLOSED) {
        ok(pr, 1, REPAIR_EV_END);
    }
    assert_int_equal(repair_state(pr->r[0]), target);
}

/* The expected table: next state for (state, event, actor), REFUSE otherwise. */
static int
expected(enum repair_state st, enum repair_event ev, int actor)
{
    const bool i = actor == 0, p = actor == 1;
    const bool active = st != REPAIR_DRAFT && st != REPAIR_CLOSED && st != REPAIR_PAUSED;

    if (active && ev == REPAIR_EV_END) {
        return REPAIR_CLOSED;
    }
    if (active && ev == REPAIR_EV_CHECK_IN) {
        return st;
    }
    if (active && ev == REPAIR_EV_PAUSE) {
        return p && (st == REPAIR_INVITED || st == REPAIR_POSTPONED) ? REPAIR_POSTPONED
                                                                     : REPAIR_PAUSED;
    }
    switch (st) {
    case REPAIR_DRAFT:
        return i && ev == REPAIR_EV_INVITE    ? REPAIR_INVITED
               : i && ev == REPAIR_EV_DISCARD ? REPAIR_CLOSED
                                              : REFUSE;
    case REPAIR_INVITED:
    case REPAIR_POSTPONED:
        if (p && ev == REPAIR_EV_ACCEPT) {
            return REPAIR_ACCEPTED;
        }
        if (p && ev == REPAIR_EV_POSTPONE) {
            return REPAIR_POSTPONED;
        }
        if ((p && ev == REPAIR_EV_DECLINE) || (i && ev == REPAIR_EV_WITHDRAW)) {
            return REPAIR_CLOSED;
        }
        return st == REPAIR_POSTPONED && p && ev == REPAIR_EV_RESUME ? REPAIR_INVITED : REFUSE;
    case REPAIR_ACCEPTED:
        return i && ev == REPAIR_EV_SHARE ? REPAIR_SHARED : REFUSE;
    case REPAIR_SHARED:
        return p && ev == REPAIR_EV_REFLECT ? REPAIR_REFLECTED : REFUSE;
    case REPAIR_REFLECTED:
        return i && ev == REPAIR_EV_CONFIRM ? REPAIR_UNDERSTOOD : REFUSE;
    case REPAIR_UNDERSTOOD:
        return p && ev == REPAIR_EV_RESPOND ? REPAIR_RESPONDED : REFUSE;
    case REPAIR_RESPONDED:
        return i && ev == REPAIR_EV_RECEIVE ? REPAIR_AGREEING : REFUSE;
    case REPAIR_AGREEING:
        return ev == REPAIR_EV_PROPOSE        ? REPAIR_AGREEING
               : ev == REPAIR_EV_NO_AGREEMENT ? REPAIR_CHECKOUT
                                              : REFUSE;
    case REPAIR_CHECKOUT:
        return ev == REPAIR_EV_CHECKOUT ? REPAIR_CHECKOUT : REFUSE;
    case REPAIR_PAUSED: /* paused by the initiator, from ACCEPTED */
        if (ev == REPAIR_EV_END) {
            return REPAIR_CLOSED;
        }
        return i && ev == REPAIR_EV_RESUME   ? REPAIR_ACCEPTED
               : i && ev == REPAIR_EV_EXTEND ? REPAIR_PAUSED
                                             : REFUSE;
    default:
        return REFUSE;
    }
}

static void
table__every_state_event_and_role__transitions_or_refuses_kindly(void **state)
{
    static const enum repair_state states[] = {
        REPAIR_DRAFT,    REPAIR_INVITED,   REPAIR_POSTPONED,  REPAIR_ACCEPTED,
        REPAIR_SHARED,   REPAIR_REFLECTED, REPAIR_UNDERSTOOD, REPAIR_RESPONDED,
        REPAIR_AGREEING, REPAIR_CHECKOUT,  REPAIR_PAUSED,     REPAIR_CLOSED,
    };
    size_t checked = 0;

    (void)state;
    for (size_t si = 0; si < sizeof states / sizeof states[0]; si++) {
        for (int ev = 0; ev < REPAIR_EV_COUNT; ev++) {
            for (int actor = 0; actor < 2; actor++) {
                struct pair pr;
                int want, rc;
                reach(&pr, states[si]);
                want = expected(states[si], (enum repair_event)ev, actor);
                if (states[si] == REPAIR_DRAFT && actor == 1) {
                    /* the partner has no replica before the invite arrives */
                    want = REFUSE;
                }
                rc = act(&pr, actor, make((enum repair_event)ev, pr.now + 60));
                if (want == REFUSE) {
                    if (rc == KITH_OK) {
                        fail_msg("%s + %s by %s: expected a refusal, got %s",
                                 repair_state_name(states[si]),
                                 repair_event_name((enum repair_event)ev),
                                 actor ? "partner" : "initiator",
                                 repair_state_name(repair_state(pr.r[actor])));
                    }
                    assert_true(rc == KITH_ESTATE || rc == KITH_EINVAL);
                    assert_int_equal(repair_state(pr.r[actor]), states[si]);
                    assert_true(strlen(repair_why(pr.r[actor])) > 10);
                } else {
                    if (rc != KITH_OK) {
                        fail_msg("%s + %s by %s: refused: %s", repair_state_name(states[si]),
                                 repair_event_name((enum repair_event)ev),
                                 actor ? "partner" : "initiator", repair_why(pr.r[actor]));
                    }
                    assert_int_equal(repair_state(pr.r[actor]), want);
                }
                checked++;
                pair_fini(&pr);
            }
        }
    }
    assert_int_equal(checked, 12 * REPAIR_EV_COUNT * 2);
}

static void
refusal__names_whose_turn_it_is(void **state)
{
    struct pair pr;

    (void)state;
    reach(&pr, REPAIR_SHARED);
    assert_int_equal(act(&pr, 0, make(REPAIR_EV_REFLECT, pr.now)), KITH_ESTATE);
    assert_string_equal(repair_why(pr.r[0]),
                        "It's Alex's turn to reflect. There's nothing you need to do.");
    pair_fini(&pr);
}

static void
flow__whole_repair__ends_repaired_on_both_replicas(void **state)
{
    struct pair pr;
    char json[4096];

    (void)state;
    reach(&pr, REPAIR_AGREEING);
    ok(&pr, 1, REPAIR_EV_PROPOSE);
    assert_int_equal(act(&pr, 1, make(REPAIR_EV_AGREE, pr.now)), KITH_ESTATE); /* own proposal */
    ok(&pr, 0, REPAIR_EV_COUNTER);
    assert_int_equal(repair_agreement_version(pr.r[0]), 2);
    step.version = 1;
    repair_step_init(&step, REPAIR_EV_AGREE);
    set(&step, "v", "1");
    assert_int_equal(act(&pr, 1, &step), KITH_ESTATE); /* stale version */
    set(&step, "v", "2");
    assert_int_equal(act(&pr, 1, &step), KITH_OK);
    assert_int_equal(repair_state(pr.r[0]), REPAIR_CHECKOUT); /* AGREED is momentary */
    assert_int_equal(repair_outcome(pr.r[1]), REPAIR_OUTCOME_REPAIRED);
    ok(&pr, 1, REPAIR_EV_CHECKOUT);
    assert_int_equal(act(&pr, 1, make(REPAIR_EV_CHECKOUT, pr.now)), KITH_ESTATE); /* once */
    ok(&pr, 0, REPAIR_EV_CHECKOUT);
    assert_int_equal(repair_state(pr.r[0]), REPAIR_CLOSED);
    assert_int_equal(repair_outcome(pr.r[0]), REPAIR_OUTCOME_REPAIRED);
    assert_int_equal(repair_status_json(pr.r[1], json, sizeof json), KITH_OK);
    assert_non_null(strstr(json, "\"state\":\"closed\""));
    assert_non_null(strstr(json, "\"outcome\":\"repaired\""));
    assert_non_null(strstr(json, "\"agreement\":\"Text before leaving.\""));
    pair_fini(&pr);
}

static void
flow__no_agreement__closes_as_heard(void **state)
{
    struct pair pr;

    (void)state;
    reach(&pr, REPAIR_AGREEING);
    ok(&pr, 1, REPAIR_EV_NO_AGREEMENT);
    assert_int_equal(repair_outcome(pr.r[0]), REPAIR_OUTCOME_HEARD);
    ok(&pr, 0, REPAIR_EV_CHECKOUT);
    ok(&pr, 1, REPAIR_EV_CHECKOUT);
    assert_int_equal(repair_outcome(pr.r[1]), REPAIR_OUTCOME_HEARD);
    pair_fini(&pr);
}

static void
consent__decline_withdraw_discard__close_with_their_outcome(void **state)
{
    struct pair pr;

    (void)state;
    reach(&pr, REPAIR_INVITED);
    ok(&pr, 1, REPAIR_EV_DECLINE);
    assert_int_equal(repair_outcome(pr.r[0]), REPAIR_OUTCOME_DECLINED);
    pair_fini(&pr);
    reach(&pr, REPAIR_POSTPONED);
    ok(&pr, 0, REPAIR_EV_WITHDRAW);
    assert_int_equal(repair_outcome(pr.r[1]), REPAIR_OUTCOME_WITHDRAWN);
    pair_fini(&pr);
    pair_init(&pr);
    repair_prepare(pr.r[0], make(REPAIR_EV_DISCARD, T0), T0);
    assert_int_equal(repair_apply(pr.r[0], &step, T0, NULL), KITH_OK);
    assert_int_equal(repair_outcome(pr.r[0]), REPAIR_OUTCOME_DISCARDED);
    pair_fini(&pr);
}

static void
confirm__after_three_partly_rounds__allows_only_yes_or_close_enough(void **state)
{
    struct pair pr;

    (void)state;
    reach(&pr, REPAIR_REFLECTED);
    repair_step_init(&step, REPAIR_EV_CONFIRM);
    set(&step, "close_enough", NULL);
    assert_int_equal(act(&pr, 0, &step), KITH_ESTATE); /* not before three rounds */
    for (int round = 0; round < 3; round++) {
        repair_step_init(&step, REPAIR_EV_CONFIRM);
        set(&step, "partly", NULL);
        set(&step, "addition", "It was also that nobody told me.");
        assert_int_equal(act(&pr, 0, &step), KITH_OK);
        assert_int_equal(repair_state(pr.r[1]), REPAIR_SHARED);
        ok(&pr, 1, REPAIR_EV_REFLECT);
    }
    repair_step_init(&step, REPAIR_EV_CONFIRM);
    set(&step, "partly", NULL);
    set(&step, "addition", "One more thing.");
    assert_int_equal(act(&pr, 0, &step), KITH_ESTATE);
    repair_step_init(&step, REPAIR_EV_CONFIRM);
    set(&step, "close_enough", NULL);
    assert_int_equal(act(&pr, 0, &step), KITH_OK);
    assert_int_equal(repair_state(pr.r[0]), REPAIR_UNDERSTOOD);
    pair_fini(&pr);
}

static void
confirm__partly_without_addition__is_refused(void **state)
{
    struct pair pr;

    (void)state;
    reach(&pr, REPAIR_REFLECTED);
    repair_step_init(&step, REPAIR_EV_CONFIRM);
    set(&step, "partly", NULL);
    assert_int_equal(act(&pr, 0, &step), KITH_EINVAL);
    pair_fini(&pr);
}

static void
receive__more_at_most_twice_and_reflect_back_after_my_side(void **state)
{
    struct pair pr;

    (void)state;
    reach(&pr, REPAIR_RESPONDED);
    for (int i = 0; i < 2; i++) {
        repair_step_init(&step, REPAIR_EV_RECEIVE);
        set(&step, "more", NULL);
        set(&step, "note", "Could you say what you'd do differently?");
        assert_int_equal(act(&pr, 0, &step), KITH_OK);
        assert_int_equal(repair_state(pr.r[0]), REPAIR_UNDERSTOOD);
        make(REPAIR_EV_RESPOND, pr.now);
        set(&step, "my_side", "I felt cornered at that party.");
        set(&step, "my_side_needs", "space");
        assert_int_equal(act(&pr, 1, &step), KITH_OK);
    }
    repair_step_init(&step, REPAIR_EV_RECEIVE);
    set(&step, "more", NULL);
    assert_int_equal(act(&pr, 0, &step), KITH_ESTATE);
    repair_step_init(&step, REPAIR_EV_RECEIVE);
    set(&step, "ok", NULL);
    assert_int_equal(act(&pr, 0, &step), KITH_ESTATE); /* reflect_back required */
    assert_non_null(strstr(repair_why(pr.r[0]), "reflect_back"));
    set(&step, "reflect_back", "You felt cornered and needed space.");
    assert_int_equal(act(&pr, 0, &step), KITH_OK);
    assert_int_equal(repair_state(pr.r[1]), REPAIR_AGREEING);
    pair_fini(&pr);
}

static void
respond__clarification_needs_impact_ack(void **state)
{
    struct pair pr;

    (void)state;
    reach(&pr, REPAIR_UNDERSTOOD);
    repair_step_init(&step, REPAIR_EV_RESPOND);
    set(&step, "validation", "It makes sense you were upset.");
    set(&step, "kind", "clarification");
    set(&step, "text", "I thought you had seen my message.");
    assert_int_equal(act(&pr, 1, &step), KITH_EINVAL);
    set(&step, "impact_ack", "yes");
    assert_int_equal(act(&pr, 1, &step), KITH_OK);
    pair_fini(&pr);
}

static void
share__limits_count_characters_not_bytes(void **state)
{
    struct pair pr;
    char text[2 * 501 + 1];

    (void)state;
    reach(&pr, REPAIR_ACCEPTED);
    for (int i = 0; i < 500; i++) {
        memcpy(text + 2 * i, "\xc3\xa9", 2); /* é: 2 bytes, 1 character */
    }
    text[1000] = '\0';
    make(REPAIR_EV_SHARE, pr.now);
    set(&step, "observation", text);
    assert_int_equal(repair_check(pr.r[0], (repair_prepare(pr.r[0], &step, pr.now), &step), pr.now),
                     KITH_OK);
    memcpy(text + 1000, "\xc3\xa9", 3);
    set(&step, "observation", text);
    assert_int_equal(act(&pr, 0, &step), KITH_EINVAL);
    make(REPAIR_EV_SHARE, pr.now);
    set(&step, "feelings", "");
    assert_int_equal(act(&pr, 0, &step), KITH_EINVAL); /* 1..3 feelings */
    make(REPAIR_EV_SHARE, pr.now);
    step.list[0][1] = step.list[0][0];
    assert_int_equal(act(&pr, 0, &step), KITH_EINVAL); /* each once */
    make(REPAIR_EV_SHARE, pr.now);
    step.text[REPAIR_F_OBSERVATION][3] = '\x01';
    assert_int_equal(act(&pr, 0, &step), KITH_EINVAL);
    pair_fini(&pr);
}

static void
set_field__refuses_unknown_names_and_ids(void **state)
{
    const char *why = NULL;

    (void)state;
    repair_step_init(&step, REPAIR_EV_SHARE);
    assert_int_equal(repair_step_set_field(&step, "mood", "x", &why), KITH_EINVAL);
    assert_int_equal(repair_step_set_field(&step, "feelings", "hurt,ignored", &why), KITH_EINVAL);
    assert_int_equal(repair_step_set_field(&step, "needs", "a,b,c,d", &why), KITH_EINVAL);
    assert_int_equal(repair_step_set_field(&step, "rating", "9", &why), KITH_EINVAL);
    assert_int_equal(repair_step_set_field(&step, "until", "12x", &why), KITH_EINVAL);
    assert_int_equal(repair_step_set_field(&step, "needs", "to be heard, space", &why), KITH_OK);
    assert_int_equal(step.list_len[REPAIR_L_NEEDS], 2);
    assert_int_equal(repair_step_set_field(&step, "observation", "  padded \n", &why), KITH_OK);
    assert_string_equal(step.text[REPAIR_F_OBSERVATION], "padded");
}

static void
pause__defaults_to_twenty_minutes_and_caps_at_seven_days(void **state)
{
    struct pair pr;
    char buf[32];
    int64_t at;
    enum repair_event ev;

    (void)state;
    reach(&pr, REPAIR_SHARED);
    ok(&pr, 1, REPAIR_EV_PAUSE);
    assert_true(repair_next_deadline(pr.r[0], &at, &ev));
    assert_int_equal(ev, REPAIR_EV_RESUME);
    assert_int_equal(at, pr.now + 20 * 60);
    assert_int_equal(act(&pr, 0, make(REPAIR_EV_RESUME, pr.now)), KITH_ESTATE); /* not yet */
    repair_step_init(&step, REPAIR_EV_EXTEND);
    snprintf(buf, sizeof buf, "%lld", (long long)(pr.now + 8 * DAY));
    set(&step, "until", buf);
    assert_int_equal(act(&pr, 1, &step), KITH_ESTATE); /* more than 7 days in all */
    snprintf(buf, sizeof buf, "%lld", (long long)(pr.now + 6 * DAY));
    set(&step, "until", buf);
    assert_int_equal(act(&pr, 1, &step), KITH_OK);
    /* the other side resumes automatically once the time has come */
    pr.now += 6 * DAY + 60;
    assert_int_equal(act(&pr, 0, make(REPAIR_EV_RESUME, pr.now)), KITH_OK);
    assert_int_equal(repair_state(pr.r[1]), REPAIR_SHARED);
    /* a second break may only use what is left of the 7 days */
    repair_step_init(&step, REPAIR_EV_PAUSE);
    snprintf(buf, sizeof buf, "%lld", (long long)(pr.now + 2 * DAY));
    set(&step, "until", buf);
    assert_int_equal(act(&pr, 1, &step), KITH_ESTATE);
    pair_fini(&pr);
}

static void
postpone__at_most_fourteen_days_and_comes_back_at_until(void **state)
{
    struct pair pr;
    char buf[32];
    int64_t at;
    enum repair_event ev;

    (void)state;
    reach(&pr, REPAIR_INVITED);
    repair_step_init(&step, REPAIR_EV_POSTPONE);
    snprintf(buf, sizeof buf, "%lld", (long long)(pr.now + 15 * DAY));
    set(&step, "until", buf);
    assert_int_equal(act(&pr, 1, &step), KITH_ESTATE);
    snprintf(buf, sizeof buf, "%lld", (long long)(pr.now + 2 * DAY));
    set(&step, "until", buf);
    assert_int_equal(act(&pr, 1, &step), KITH_OK);
    assert_true(repair_next_deadline(pr.r[0], &at, &ev));
    assert_int_equal(ev, REPAIR_EV_RESUME);
    pr.now = at;
    assert_int_equal(act(&pr, 0, make(REPAIR_EV_RESUME, pr.now)), KITH_OK);
    assert_int_equal(repair_state(pr.r[1]), REPAIR_INVITED);
    assert_true(repair_next_deadline(pr.r[1], &at, &ev));
    assert_int_equal(ev, REPAIR_EV_EXPIRE); /* 7 days after the postpone time */
    assert_true(at >= pr.now + 7 * DAY - 120 && at <= pr.now + 7 * DAY);
    pair_fini(&pr);
}

static void
timeouts__invite_turn_and_checkout__expire_on_time(void **state)
{
    struct pair pr;
    int64_t at;
    enum repair_event ev;

    (void)state;
    reach(&pr, REPAIR_INVITED);
    assert_true(repair_next_deadline(pr.r[0], &at, &ev));
    assert_int_equal(ev, REPAIR_EV_EXPIRE);
    assert_int_equal(at, pr.now + 7 * DAY);
    assert_int_equal(act(&pr, 0, make(REPAIR_EV_EXPIRE, pr.now)), KITH_ESTATE);
    pr.now = at;
    assert_int_equal(act(&pr, 0, make(REPAIR_EV_EXPIRE, pr.now)), KITH_OK);
    assert_int_equal(repair_outcome(pr.r[1]), REPAIR_OUTCOME_EXPIRED);
    pair_fini(&pr);

    reach(&pr, REPAIR_REFLECTED);
    assert_true(repair_next_deadline(pr.r[1], &at, &ev));
    assert_int_equal(at - pr.now, 14 * DAY - 5 + 5); /* from the local receive log */
    pr.now = at;
    assert_int_equal(act(&pr, 1, make(REPAIR_EV_EXPIRE, pr.now)), KITH_OK);
    assert_int_equal(repair_outcome(pr.r[0]), REPAIR_OUTCOME_EXPIRED);
    pair_fini(&pr);

    reach(&pr, REPAIR_CHECKOUT);
    ok(&pr, 0, REPAIR_EV_CHECKOUT);
    assert_true(repair_next_deadline(pr.r[0], &at, &ev));
    assert_int_equal(ev, REPAIR_EV_EXPIRE);
    pr.now = at;
    assert_int_equal(act(&pr, 0, make(REPAIR_EV_EXPIRE, pr.now)), KITH_OK);
    assert_int_equal(repair_outcome(pr.r[1]), REPAIR_OUTCOME_REPAIRED); /* not "expired" */
    assert_false(repair_next_deadline(pr.r[1], &at, &ev));
    pair_fini(&pr);
}

static void
check_in__answers_come_from_the_other_side_only(void **state)
{
    struct pair pr;

    (void)state;
    reach(&pr, REPAIR_SHARED);
    ok(&pr, 0, REPAIR_EV_CHECK_IN);
    assert_int_equal(act(&pr, 0, make(REPAIR_EV_OK_TO_CONTINUE, pr.now)), KITH_ESTATE);
    assert_int_equal(act(&pr, 0, make(REPAIR_EV_CHECK_IN, pr.now)), KITH_ESTATE);
    ok(&pr, 1, REPAIR_EV_SOMETHING_LANDED_HARD);
    assert_int_equal(repair_state(pr.r[0]), REPAIR_SHARED);
    ok(&pr, 1, REPAIR_EV_CHECK_IN);
    ok(&pr, 0, REPAIR_EV_OK_TO_CONTINUE);
    ok(&pr, 0, REPAIR_EV_CHECK_IN);
    ok(&pr, 1, REPAIR_EV_NEED_BREAK);
    assert_int_equal(repair_state(pr.r[0]), REPAIR_PAUSED);
    assert_int_equal(repair_resume_state(pr.r[0]), REPAIR_SHARED);
    ok(&pr, 1, REPAIR_EV_RESUME);
    ok(&pr, 1, REPAIR_EV_REFLECT);
    pair_fini(&pr);
}

/* Both replicas act at once with the same seq; deliver crosswise. */
static void
cross(enum repair_state at, enum repair_event ev_i, int64_t at_i, enum repair_event ev_p,
      int64_t at_p, int want_winner)
{
    static struct repair_step si, sp;
    struct pair pr;
    enum repair_race race_i, race_p;
    int rc_i, rc_p;

    reach(&pr, at);
    memcpy(&si, make(ev_i, pr.now), sizeof si);
    memcpy(&sp, make(ev_p, pr.now), sizeof sp);
    repair_prepare(pr.r[0], &si, at_i);
    repair_prepare(pr.r[1], &sp, at_p);
    assert_int_equal(si.seq, sp.seq);
    assert_int_equal(repair_apply(pr.r[0], &si, at_i, NULL), KITH_OK);
    assert_int_equal(repair_apply(pr.r[1], &sp, at_p, NULL), KITH_OK);
    rc_i = repair_apply(pr.r[0], &sp, at_i + 1, &race_i);
    rc_p = repair_apply(pr.r[1], &si, at_p + 1, &race_p);
    assert_int_equal(repair_state(pr.r[0]), repair_state(pr.r[1]));
    assert_int_equal(repair_resume_state(pr.r[0]), repair_resume_state(pr.r[1]));
    assert_int_equal(repair_outcome(pr.r[0]), repair_outcome(pr.r[1]));
    assert_int_equal(repair_seq(pr.r[0]), repair_seq(pr.r[1]));
    if (want_winner == 0) { /* the initiator's step stands */
        assert_int_equal(rc_i, KITH_EEXISTS);
        assert_int_equal(race_i, REPAIR_RACE_LOST);
        assert_int_equal(rc_p, KITH_OK);
        assert_int_equal(race_p, REPAIR_RACE_WON);
        assert_non_null(strstr(repair_why(pr.r[1]), "your reply is saved"));
    } else {
        assert_int_equal(rc_p, KITH_EEXISTS);
        assert_int_equal(rc_i, KITH_OK);
        assert_int_equal(race_i, REPAIR_RACE_WON);
        assert_non_null(strstr(repair_why(pr.r[0]), "Alex"));
    }
    /* the loser's copy arriving again still loses; the winner's is a replay */
    assert_int_equal(repair_apply(pr.r[0], want_winner == 0 ? &sp : &si, at_i + 2, NULL),
                     KITH_EEXISTS);
    assert_int_equal(repair_apply(pr.r[1], want_winner == 0 ? &si : &sp, at_p + 2, NULL),
                     KITH_EREPLAY);
    pair_fini(&pr);
}

static void
races__end_beats_pause_beats_others_then_time_then_fingerprint(void **state)
{
    (void)state;
    cross(REPAIR_SHARED, REPAIR_EV_END, T0 + 900, REPAIR_EV_PAUSE, T0 + 100, 0);
    cross(REPAIR_SHARED, REPAIR_EV_PAUSE, T0 + 100, REPAIR_EV_END, T0 + 900, 1);
    cross(REPAIR_SHARED, REPAIR_EV_PAUSE, T0 + 900, REPAIR_EV_REFLECT, T0 + 100, 0);
    cross(REPAIR_SHARED, REPAIR_EV_CHECK_IN, T0 + 100, REPAIR_EV_PAUSE, T0 + 900, 1);
    cross(REPAIR_SHARED, REPAIR_EV_PAUSE, T0 + 500, REPAIR_EV_PAUSE, T0 + 400, 1); /* earlier */
    cross(REPAIR_SHARED, REPAIR_EV_PAUSE, T0 + 500, REPAIR_EV_PAUSE, T0 + 500, 0); /* lower fp */
    cross(REPAIR_AGREEING, REPAIR_EV_PROPOSE, T0 + 500, REPAIR_EV_PROPOSE, T0 + 300, 1);
    cross(REPAIR_AGREEING, REPAIR_EV_NO_AGREEMENT, T0 + 300, REPAIR_EV_PROPOSE, T0 + 500, 0);
}

static void
races__late_end_after_more_steps__still_closes_both(void **state)
{
    struct pair pr;
    static struct repair_step end_p;

    (void)state;
    reach(&pr, REPAIR_SHARED);
    memcpy(&end_p, make(REPAIR_EV_END, pr.now), sizeof end_p);
    repair_prepare(pr.r[1], &end_p, pr.now + 10);
    assert_int_equal(repair_apply(pr.r[1], &end_p, pr.now + 10, NULL), KITH_OK);
    make(REPAIR_EV_PAUSE, pr.now);
    repair_prepare(pr.r[0], &step, pr.now + 5);
    assert_int_equal(repair_apply(pr.r[0], &step, pr.now + 5, NULL), KITH_OK);
    make(REPAIR_EV_RESUME, pr.now);
    repair_prepare(pr.r[0], &step, pr.now + 6);
    assert_int_equal(repair_apply(pr.r[0], &step, pr.now + 6, NULL), KITH_OK);
    assert_int_equal(repair_apply(pr.r[0], &end_p, pr.now + 20, NULL), KITH_OK);
    assert_int_equal(repair_state(pr.r[0]), REPAIR_CLOSED);
    assert_int_equal(repair_outcome(pr.r[0]), REPAIR_OUTCOME_ENDED);
    pair_fini(&pr);
}

static void
apply__gap_replay_and_other_repair__are_refused(void **state)
{
    struct pair pr;

    (void)state;
    reach(&pr, REPAIR_ACCEPTED);
    make(REPAIR_EV_SHARE, pr.now);
    repair_prepare(pr.r[0], &step, pr.now);
    step.seq += 1;
    assert_int_equal(repair_apply(pr.r[1], &step, pr.now, NULL), KITH_EAGAIN);
    step.seq = 1;
    assert_int_equal(repair_apply(pr.r[1], &step, pr.now, NULL), KITH_EREPLAY);
    step.seq = repair_seq(pr.r[1]) + 1;
    step.repair_id[0] ^= 1;
    assert_int_equal(repair_apply(pr.r[1], &step, pr.now, NULL), KITH_ENOTFOUND);
    pair_fini(&pr);
}

static void
codec__every_event_round_trips_and_mutations_fail_or_differ(void **state)
{
    static struct repair_step back;
    uint8_t wire[REPAIR_WIRE_MAX], again[REPAIR_WIRE_MAX];
    size_t len, len2;

    (void)state;
    for (int ev = 0; ev < REPAIR_EV_COUNT; ev++) {
        make((enum repair_event)ev, T0);
        memcpy(step.repair_id, rid, sizeof rid);
        step.seq = 7;
        step.actor = REPAIR_PARTNER;
        step.sent_at = T0;
        assert_int_equal(repair_step_encode(&step, wire, sizeof wire, &len), KITH_OK);
        assert_int_equal(repair_step_decode(wire, len, &back), KITH_OK);
        assert_int_equal(back.event, ev);
        assert_int_equal(back.seq, 7);
        assert_int_equal(repair_step_encode(&back, again, sizeof again, &len2), KITH_OK);
        assert_int_equal(len, len2);
        assert_memory_equal(wire, again, len);
        for (size_t cut = 0; cut < len; cut++) { /* a shorter step must be canonical too */
            if (repair_step_decode(wire, cut, &back) == KITH_OK) {
                assert_int_equal(repair_step_encode(&back, again, sizeof again, &len2), KITH_OK);
                assert_int_equal(len2, cut);
                assert_memory_equal(again, wire, cut);
            }
        }
        assert_int_equal(repair_step_encode(&step, wire, 20, &len), KITH_ETOOBIG);
    }
    make(REPAIR_EV_SHARE, T0);
    step.seq = 1;
    assert_int_equal(repair_step_encode(&step, wire, sizeof wire, &len), KITH_OK);
    wire[3] = 1; /* reserved */
    assert_int_equal(repair_step_decode(wire, len, &back), KITH_EMALFORMED);
    wire[3] = 0;
    wire[0] = 2; /* version */
    assert_int_equal(repair_step_decode(wire, len, &back), KITH_EMALFORMED);
}

static void
codec__kept_checkout__sends_only_the_done_marker(void **state)
{
    static struct repair_step back;
    uint8_t wire[256];
    size_t len;

    (void)state;
    repair_step_init(&step, REPAIR_EV_CHECKOUT);
    set(&step, "rating", "2");
    set(&step, "word", "tired");
    step.seq = 9;
    assert_int_equal(repair_step_encode(&step, wire, sizeof wire, &len), KITH_OK);
    assert_int_equal(len, 32);
    assert_int_equal(repair_step_decode(wire, len, &back), KITH_OK);
    assert_int_equal(back.rating, 0);
    assert_int_equal(back.word, REPAIR_NO_ID);
}

static void
codec__fields_foreign_to_the_event__are_refused(void **state)
{
    uint8_t wire[REPAIR_WIRE_MAX];
    size_t len;

    (void)state;
    make(REPAIR_EV_ACCEPT, T0);
    step.seq = 1;
    set(&step, "observation", "smuggled");
    assert_int_equal(repair_step_encode(&step, wire, sizeof wire, &len), KITH_EINVAL);
    make(REPAIR_EV_ACCEPT, T0);
    step.seq = 1;
    assert_int_equal(repair_step_encode(&step, wire, sizeof wire, &len), KITH_OK);
    /* append a text TLV by hand: observation on an accept */
    memcpy(wire + len, "\x04\x00\x01x", 4);
    assert_int_equal(repair_step_decode(wire, len + 4, &step), KITH_EMALFORMED);
}

static void
serialize__round_trips_midway_and_keeps_resolving_races(void **state)
{
    static uint8_t blob[REPAIR_STATE_MAX], blob2[REPAIR_STATE_MAX];
    static struct repair_step pause_p;
    struct pair pr;
    struct repair *back = NULL;
    size_t len, len2;

    (void)state;
    reach(&pr, REPAIR_REFLECTED);
    ok(&pr, 1, REPAIR_EV_CHECK_IN);
    memcpy(&pause_p, make(REPAIR_EV_PAUSE, pr.now), sizeof pause_p);
    repair_prepare(pr.r[1], &pause_p, pr.now + 1);
    make(REPAIR_EV_CONFIRM, pr.now);
    repair_prepare(pr.r[0], &step, pr.now + 2);
    assert_int_equal(repair_apply(pr.r[0], &step, pr.now + 2, NULL), KITH_OK);
    assert_int_equal(repair_serialize(pr.r[0], blob, sizeof blob, &len), KITH_OK);
    assert_int_equal(repair_parse(blob, len, &back), KITH_OK);
    assert_int_equal(repair_state(back), REPAIR_UNDERSTOOD);
    assert_int_equal(repair_serialize(back, blob2, sizeof blob2, &len2), KITH_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(blob, blob2, len);
    /* after the restart, the partner's crossing pause still wins */
    assert_int_equal(repair_apply(back, &pause_p, pr.now + 3, NULL), KITH_OK);
    assert_int_equal(repair_state(back), REPAIR_PAUSED);
    assert_int_equal(repair_resume_state(back), REPAIR_REFLECTED);
    for (size_t cut = 0; cut < len; cut += 7) {
        struct repair *bad = NULL;
        assert_int_equal(repair_parse(blob, cut, &bad), KITH_ECORRUPT);
        assert_null(bad);
    }
    repair_destroy(back);
    pair_fini(&pr);
}

static void
status_json__names_state_turn_and_prompt(void **state)
{
    struct pair pr;
    char json[4096];

    (void)state;
    reach(&pr, REPAIR_SHARED);
    assert_int_equal(repair_status_json(pr.r[1], json, sizeof json), KITH_OK);
    assert_non_null(strstr(json, "\"repair_id\":\"0102030405060708090a0b0c0d0e0f00\""));
    assert_non_null(strstr(json, "\"state\":\"shared\""));
    assert_non_null(strstr(json, "\"turn\":\"partner\""));
    assert_non_null(strstr(json, "\"my_turn\":true"));
    assert_non_null(strstr(json, "just show Sam you got it"));
    ok(&pr, 0, REPAIR_EV_PAUSE);
    assert_int_equal(repair_status_json(pr.r[1], json, sizeof json), KITH_OK);
    assert_non_null(strstr(json, "\"state\":\"paused\",\"turn\":\"initiator\""));
    assert_non_null(strstr(json, "\"resume_state\":\"shared\""));
    assert_non_null(strstr(json, "Sam is taking a break. Nothing you need to do."));
    assert_int_equal(repair_status_json(pr.r[1], json, 40), KITH_ETOOBIG);
    pair_fini(&pr);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table__every_state_event_and_role__transitions_or_refuses_kindly),
        cmocka_unit_test(refusal__names_whose_turn_it_is),
        cmocka_unit_test(flow__whole_repair__ends_repaired_on_both_replicas),
        cmocka_unit_test(flow__no_agreement__closes_as_heard),
        cmocka_unit_test(consent__decline_withdraw_discard__close_with_their_outcome),
        cmocka_unit_test(confirm__after_three_partly_rounds__allows_only_yes_or_close_enough),
        cmocka_unit_test(confirm__partly_without_addition__is_refused),
        cmocka_unit_test(receive__more_at_most_twice_and_reflect_back_after_my_side),
        cmocka_unit_test(respond__clarification_needs_impact_ack),
        cmocka_unit_test(share__limits_count_characters_not_bytes),
        cmocka_unit_test(set_field__refuses_unknown_names_and_ids),
        cmocka_unit_test(pause__defaults_to_twenty_minutes_and_caps_at_seven_days),
        cmocka_unit_test(postpone__at_most_fourteen_days_and_comes_back_at_until),
        cmocka_unit_test(timeouts__invite_turn_and_checkout__expire_on_time),
        cmocka_unit_test(check_in__answers_come_from_the_other_side_only),
        cmocka_unit_test(races__end_beats_pause_beats_others_then_time_then_fingerprint),
        cmocka_unit_test(races__late_end_after_more_steps__still_closes_both),
        cmocka_unit_test(apply__gap_replay_and_other_repair__are_refused),
        cmocka_unit_test(codec__every_event_round_trips_and_mutations_fail_or_differ),
        cmocka_unit_test(codec__kept_checkout__sends_only_the_done_marker),
        cmocka_unit_test(codec__fields_foreign_to_the_event__are_refused),
        cmocka_unit_test(serialize__round_trips_midway_and_keeps_resolving_races),
        cmocka_unit_test(status_json__names_state_turn_and_prompt),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
