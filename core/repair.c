/*
 * repair: the state machine of DOMAIN.md §2.1 for both roles, its overlay
 * events (pause, end, check_in), timers and the crossing-steps resolver.
 * Every (state, event, actor) has a transition below or a kind refusal in
 * r->why. A step is applied to a scratch copy of the replica's core and
 * committed only on success, so a refused step changes nothing.
 * Time: field semantics (default pause, limits) use the step's sent_at, so
 * both replicas compute the same values; timers use the local `now`.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/repair_impl.h"

/* What the turn-holder does in each state, for "It's Alex's turn to …". */
const char *const repair_impl_turn_verbs[REPAIR_STATE_COUNT] = {
    "send the invitation",
    "answer the invitation",
    "answer the invitation",
    "share what happened",
    "reflect",
    "say whether that's close",
    "respond",
    "say how that landed",
    "answer the suggestion",
    "check out",
    "check out",
    "come back from the break",
    "",
};

struct repair *
repair_create(enum repair_role me, const uint8_t repair_id[REPAIR_ID_BYTES],
              const char *initiator_fp, const char *partner_fp)
{
    struct repair *r = xcalloc(1, sizeof *r);

    if (me != REPAIR_INITIATOR && me != REPAIR_PARTNER) {
        KITH_BUG("repair_create: bad role");
    }
    r->me = (uint8_t)me;
    memcpy(r->repair_id, repair_id, REPAIR_ID_BYTES);
    snprintf(r->fp[REPAIR_INITIATOR], REPAIR_FP_MAX, "%s", initiator_fp);
    snprintf(r->fp[REPAIR_PARTNER], REPAIR_FP_MAX, "%s", partner_fp);
    snprintf(r->peer_name, sizeof r->peer_name, "%s",
             me == REPAIR_INITIATOR ? "your partner" : "the person who asked");
    r->cur.state = REPAIR_DRAFT;
    r->cur.resume_state = REPAIR_DRAFT;
    r->cur.version_author = REPAIR_NOBODY;
    r->cur.pauser = REPAIR_NOBODY;
    r->cur.check_in_by = REPAIR_NOBODY;
    r->cur.word[0] = r->cur.word[1] = REPAIR_NO_ID;
    repair_step_init(&r->cur.fields, REPAIR_EV_INVITE);
    r->last_actor = REPAIR_NOBODY;
    return r;
}

void
repair_destroy(struct repair *r)
{
    if (r == NULL) {
        return;
    }
    sodium_memzero(r, sizeof *r); /* fields are private words */
    free(r);
}

void
repair_set_peer_name(struct repair *r, const char *name)
{
    snprintf(r->peer_name, sizeof r->peer_name, "%s", name);
}

enum repair_state
repair_state(const struct repair *r)
{
    return (enum repair_state)r->cur.state;
}

enum repair_state
repair_resume_state(const struct repair *r)
{
    return (enum repair_state)r->cur.resume_state;
}

enum repair_outcome
repair_outcome(const struct repair *r)
{
    return (enum repair_outcome)(r->cur.state == REPAIR_CLOSED ? r->cur.outcome
                                                               : r->cur.pending_outcome);
}

uint32_t
repair_seq(const struct repair *r)
{
    return r->cur.seq;
}

uint32_t
repair_agreement_version(const struct repair *r)
{
    return r->cur.version;
}

const struct repair_step *
repair_fields(const struct repair *r)
{
    return &r->cur.fields;
}

const char *
repair_why(const struct repair *r)
{
    return r->why;
}

int
repair_impl_turn(const struct repair_core *c)
{
    switch ((enum repair_state)c->state) {
    case REPAIR_DRAFT:
    case REPAIR_ACCEPTED:
    case REPAIR_REFLECTED:
    case REPAIR_RESPONDED:
        return REPAIR_INITIATOR;
    case REPAIR_INVITED:
    case REPAIR_POSTPONED:
    case REPAIR_SHARED:
    case REPAIR_UNDERSTOOD:
        return REPAIR_PARTNER;
    case REPAIR_AGREEING:
        return c->version > 0 ? 1 - c->version_author : REPAIR_EITHER;
    case REPAIR_AGREED:
    case REPAIR_CHECKOUT:
        if (c->checked_out == 0) {
            return REPAIR_EITHER;
        }
        return c->checked_out == 3 ? REPAIR_NOBODY : (c->checked_out & 1 ? 1 : 0);
    case REPAIR_PAUSED:
        return c->pauser;
    default:
        return REPAIR_NOBODY;
    }
}

bool
repair_is_my_turn(const struct repair *r)
{
    int turn = repair_impl_turn(&r->cur);

    return turn == r->me || turn == REPAIR_EITHER;
}

enum repair_role
repair_my_role(const struct repair *r)
{
    return (enum repair_role)r->me;
}

void
repair_step_init(struct repair_step *s, enum repair_event event)
{
    memset(s, 0, sizeof *s);
    s->event = (uint8_t)event;
    s->word = REPAIR_NO_ID;
}

void
repair_prepare(const struct repair *r, struct repair_step *s, int64_t now)
{
    memcpy(s->repair_id, r->repair_id, REPAIR_ID_BYTES);
    s->seq = r->cur.seq + 1;
    s->actor = r->me;
    s->sent_at = now;
}

/* ---- refusals --------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static int
refuse(struct repair *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    return KITH_ESTATE;
}

/* The reason a step by `actor` does not fit state c. */
static int
refuse_turn(struct repair *r, const struct repair_core *c, const struct repair_step *s)
{
    int turn = repair_impl_turn(c);
    const char *peer = r->peer_name;

    if (s->actor != r->me) {
        return refuse(r,
                      "A step from %s (%s) didn't fit where you both are (%s), so it was set "
                      "aside.",
                      peer, repair_event_name(s->event), repair_state_name(c->state));
    }
    switch ((enum repair_state)c->state) {
    case REPAIR_CLOSED:
        return refuse(r, "This conversation has closed. You can start a new one another day.");
    case REPAIR_DRAFT:
        if (r->me == REPAIR_PARTNER) {
            return refuse(r, "Nothing has arrived from %s yet. There's nothing you need to do.",
                          peer);
        }
        return refuse(r, "Nothing has been sent yet. You can send the invitation or let it go.");
    case REPAIR_PAUSED:
        if (c->pauser == r->me) {
            return refuse(r, "You're taking a break. Come back when you're ready, or end here.");
        }
        return refuse(r, "%s is taking a break. Nothing you need to do.", peer);
    default:
        break;
    }
    if (turn != r->me && turn != REPAIR_EITHER) {
        return refuse(r, "It's %s's turn to %s. There's nothing you need to do.", peer,
                      repair_impl_turn_verbs[c->state]);
    }
    return refuse(r, "Right now the step is to %s; '%s' doesn't fit here.",
                  repair_impl_turn_verbs[c->state], repair_event_name(s->event));
}

/* ---- timers ------------------------------------------------------------ */

static int64_t
expire_at(const struct repair_core *c)
{
    switch ((enum repair_state)c->state) {
    case REPAIR_INVITED:
        return c->invite_expires_at;
    case REPAIR_POSTPONED:
        return c->postpone_until + REPAIR_INVITE_TTL;
    case REPAIR_ACCEPTED:
    case REPAIR_SHARED:
    case REPAIR_REFLECTED:
    case REPAIR_UNDERSTOOD:
    case REPAIR_RESPONDED:
    case REPAIR_AGREEING:
        return c->last_event_at + REPAIR_TURN_TTL;
    case REPAIR_AGREED:
    case REPAIR_CHECKOUT:
        return c->checkout_since + REPAIR_CHECKOUT_TTL;
    default:
        return 0;
    }
}

static int64_t
resume_at(const struct repair_core *c)
{
    if (c->state == REPAIR_PAUSED) {
        return c->pause_until;
    }
    return c->state == REPAIR_POSTPONED ? c->postpone_until : 0;
}

bool
repair_next_deadline(const struct repair *r, int64_t *at, enum repair_event *event)
{
    int64_t ex = expire_at(&r->cur);
    int64_t re = resume_at(&r->cur);

    if (re != 0 && (ex == 0 || re <= ex)) {
        *at = re;
        *event = REPAIR_EV_RESUME;
        return true;
    }
    if (ex != 0) {
        *at = ex;
        *event = REPAIR_EV_EXPIRE;
        return true;
    }
    return false;
}

/* ---- transitions ------------------------------------------------------- */

static void
close_with(struct repair_core *c, enum repair_outcome o)
{
    c->state = REPAIR_CLOSED;
    c->outcome = (uint8_t)o;
    c->pauser = REPAIR_NOBODY;
    c->check_in_by = REPAIR_NOBODY;
}

static void
enter_checkout(struct repair_core *c, enum repair_outcome pending, int64_t now)
{
    c->state = REPAIR_CHECKOUT;
    c->pending_outcome = (uint8_t)pending;
    c->checkout_since = now;
}

/* Copy the fields the event carries into the replica's latest values. */
static void
merge_fields(struct repair_core *c, const struct repair_step *s)
{
    struct repair_step *f = &c->fields;

    if (s->event == REPAIR_EV_SOMETHING_LANDED_HARD || s->event == REPAIR_EV_CHECKOUT) {
        return; /* shown from the step itself; the ratings live in c->rating */
    }
    for (int i = 0; i < REPAIR_F_COUNT; i++) {
        if (repair_field_limit(s->event, (enum repair_field)i) > 0) {
            memcpy(f->text[i], s->text[i], sizeof f->text[i]);
        }
    }
    if (s->event == REPAIR_EV_SHARE) {
        for (int l = REPAIR_L_FEELINGS; l <= REPAIR_L_NEEDS; l++) {
            f->list_len[l] = s->list_len[l];
            memcpy(f->list[l], s->list[l], REPAIR_PICKS_MAX);
        }
    }
    if (s->event == REPAIR_EV_REFLECT || s->event == REPAIR_EV_RESPOND) {
        int first =
            s->event == REPAIR_EV_REFLECT ? REPAIR_L_FEELING_GUESSES : REPAIR_L_MY_SIDE_FEELINGS;
        for (int l = first; l <= first + 1; l++) {
            f->list_len[l] = s->list_len[l];
            memcpy(f->list[l], s->list[l], REPAIR_PICKS_MAX);
        }
    }
    if (s->event == REPAIR_EV_RESPOND) {
        f->kind = s->kind;
        f->impact_ack = s->impact_ack;
    }
    if (s->event == REPAIR_EV_CONFIRM || s->event == REPAIR_EV_RECEIVE) {
        f->answer = s->answer;
    }
    if (s->event == REPAIR_EV_INVITE) {
        f->when = s->when;
    }
    if (s->until != 0) {
        f->until = s->until;
    }
}

/* pause / need_break; from INVITED or POSTPONED the partner's pause is a postpone. */
static int
do_pause(struct repair *r, struct repair_core *c, const struct repair_step *s)
{
    int64_t until = s->until != 0 ? s->until : s->sent_at + REPAIR_PAUSE_DEF;

    if (until <= s->sent_at) {
        return refuse(r, "The time to come back needs to be later than now.");
    }
    if ((c->state == REPAIR_INVITED || c->state == REPAIR_POSTPONED) &&
        s->actor == REPAIR_PARTNER) {
        if (until > s->sent_at + REPAIR_POSTPONE) {
            return refuse(r, "A later time can be at most 14 days ahead.");
        }
        c->state = REPAIR_POSTPONED;
        c->postpone_until = until;
        c->invite_expires_at = until + REPAIR_INVITE_TTL;
        return KITH_OK;
    }
    if (c->pause_used + (until - s->sent_at) > REPAIR_PAUSE_TOTAL) {
        return refuse(r, "Breaks can add up to 7 days in all. Pick an earlier time, or end here "
                         "for now.");
    }
    c->pause_used += until - s->sent_at;
    c->resume_state = c->state;
    c->state = REPAIR_PAUSED;
    c->pauser = s->actor;
    c->pause_started = s->sent_at;
    c->pause_until = until;
    return KITH_OK;
}

static int
do_overlay(struct repair *r, struct repair_core *c, const struct repair_step *s, bool *handled)
{
    *handled = true;
    switch ((enum repair_event)s->event) {
    case REPAIR_EV_PAUSE:
        return do_pause(r, c, s);
    case REPAIR_EV_END:
        close_with(c, REPAIR_OUTCOME_ENDED);
        return KITH_OK;
    case REPAIR_EV_CHECK_IN:
        if (c->check_in_by != REPAIR_NOBODY) {
            return refuse(r, "There's already a check-in waiting for an answer.");
        }
        c->check_in_by = s->actor;
        return KITH_OK;
    case REPAIR_EV_OK_TO_CONTINUE:
    case REPAIR_EV_NEED_BREAK:
    case REPAIR_EV_SOMETHING_LANDED_HARD:
        if (c->check_in_by == REPAIR_NOBODY || c->check_in_by == s->actor) {
            return refuse(r, "There's no check-in from %s waiting for an answer.",
                          s->actor == r->me ? r->peer_name : "you");
        }
        c->check_in_by = REPAIR_NOBODY;
        return s->event == REPAIR_EV_NEED_BREAK ? do_pause(r, c, s) : KITH_OK;
    default:
        *handled = false;
        return KITH_OK;
    }
}

static int
do_expire(struct repair *r, struct repair_core *c, const struct repair_step *s, int64_t now)
{
    int64_t at = expire_at(c);

    if (at == 0) {
        return refuse(r, "There's no timer running here.");
    }
    if (s->actor == r->me && now < at) {
        return refuse(r, "There's still time; nothing has expired yet.");
    }
    if (c->state == REPAIR_CHECKOUT || c->state == REPAIR_AGREED) {
        close_with(c, (enum repair_outcome)c->pending_outcome);
    } else {
        close_with(c, REPAIR_OUTCOME_EXPIRED);
    }
    return KITH_OK;
}

static int
do_agreeing(struct repair *r, struct repair_core *c, const struct repair_step *s, int64_t now)
{
    const uint8_t who = s->actor;

    switch ((enum repair_event)s->event) {
    case REPAIR_EV_PROPOSE:
        if (c->version > 0) {
            return refuse(r, "There's a suggestion on the table already: agree, or suggest a "
                             "change.");
        }
        break;
    case REPAIR_EV_COUNTER:
    case REPAIR_EV_AGREE:
        if (c->version == 0) {
            return refuse(r, "Nothing has been suggested yet. You can propose one small thing.");
        }
        if (c->version_author == who) {
            return refuse(r, "This is your own suggestion; it's %s's turn to answer it.",
                          who == r->me ? r->peer_name : "the other person");
        }
        if (s->event == REPAIR_EV_AGREE) {
            if (s->version != c->version) {
                return refuse(r, "That suggestion has changed since; have a look at the newest "
                                 "one.");
            }
            enter_checkout(c, REPAIR_OUTCOME_REPAIRED, now); /* AGREED is momentary */
            return KITH_OK;
        }
        break;
    case REPAIR_EV_NO_AGREEMENT:
        enter_checkout(c, REPAIR_OUTCOME_HEARD, now);
        return KITH_OK;
    default:
        return refuse_turn(r, c, s);
    }
    c->version++;
    c->version_author = who;
    return KITH_OK;
}

/* The main table, for states outside PAUSED/CLOSED/DRAFT. */
static int
do_turn(struct repair *r, struct repair_core *c, const struct repair_step *s, int64_t now)
{
    const enum repair_event ev = (enum repair_event)s->event;
    const uint8_t who = s->actor;
    const bool by_i = who == REPAIR_INITIATOR;

    switch ((enum repair_state)c->state) {
    case REPAIR_INVITED:
    case REPAIR_POSTPONED:
        if (!by_i && ev == REPAIR_EV_ACCEPT) {
            c->state = REPAIR_ACCEPTED;
            return KITH_OK;
        }
        if (!by_i && ev == REPAIR_EV_DECLINE) {
            close_with(c, REPAIR_OUTCOME_DECLINED);
            return KITH_OK;
        }
        if (!by_i && ev == REPAIR_EV_POSTPONE) {
            if (s->until <= s->sent_at) {
                return refuse(r, "The later time needs to be after now.");
            }
            return do_pause(r, c, s);
        }
        if (by_i && ev == REPAIR_EV_WITHDRAW) {
            close_with(c, REPAIR_OUTCOME_WITHDRAWN);
            return KITH_OK;
        }
        if (c->state == REPAIR_POSTPONED && ev == REPAIR_EV_RESUME) {
            int64_t t = who == r->me ? now : s->sent_at;
            if (by_i && t < c->postpone_until) {
                return refuse(r, "%s picked a later time; the invitation comes back then.",
                              r->peer_name);
            }
            c->state = REPAIR_INVITED;
            return KITH_OK;
        }
        break;
    case REPAIR_ACCEPTED:
        if (by_i && ev == REPAIR_EV_SHARE) {
            c->state = REPAIR_SHARED;
            return KITH_OK;
        }
        break;
    case REPAIR_SHARED:
        if (!by_i && ev == REPAIR_EV_REFLECT) {
            c->state = REPAIR_REFLECTED;
            return KITH_OK;
        }
        break;
    case REPAIR_REFLECTED:
        if (by_i && ev == REPAIR_EV_CONFIRM) {
            if (s->answer == REPAIR_ANSWER_YES) {
                c->state = REPAIR_UNDERSTOOD;
            } else if (s->answer == REPAIR_ANSWER_PARTLY) {
                if (c->partly_rounds >= REPAIR_PARTLY_MAX) {
                    return refuse(r, "You've added to it three times. If it's close enough, "
                                     "say so; or say 'yes, that's it'.");
                }
                c->partly_rounds++;
                c->state = REPAIR_SHARED;
            } else {
                if (c->partly_rounds < REPAIR_PARTLY_MAX) {
                    return refuse(r, "'Close enough' comes after three rounds; for now, say "
                                     "yes or add what's missing.");
                }
                c->close_enough = true;
                c->state = REPAIR_UNDERSTOOD;
            }
            return KITH_OK;
        }
        break;
    case REPAIR_UNDERSTOOD:
        if (!by_i && ev == REPAIR_EV_RESPOND) {
            c->my_side_sent = s->text[REPAIR_F_MY_SIDE][0] != '\0' ||
                              s->list_len[REPAIR_L_MY_SIDE_FEELINGS] > 0 ||
                              s->list_len[REPAIR_L_MY_SIDE_NEEDS] > 0;
            c->state = REPAIR_RESPONDED;
            return KITH_OK;
        }
        break;
    case REPAIR_RESPONDED:
        if (by_i && ev == REPAIR_EV_RECEIVE) {
            if (s->answer == REPAIR_ANSWER_MORE) {
                if (c->more_count >= REPAIR_MORE_MAX) {
                    return refuse(r, "You've asked for more twice. You can say it helps, or "
                                     "end here for today.");
                }
                c->more_count++;
                c->state = REPAIR_UNDERSTOOD;
                return KITH_OK;
            }
            if (c->my_side_sent && s->text[REPAIR_F_REFLECT_BACK][0] == '\0') {
                return refuse(r,
                              "%s shared their side too. Say back what you heard first "
                              "(reflect_back).",
                              r->peer_name);
            }
            c->state = REPAIR_AGREEING;
            return KITH_OK;
        }
        break;
    case REPAIR_AGREEING:
        return do_agreeing(r, c, s, now);
    case REPAIR_AGREED:
    case REPAIR_CHECKOUT:
        if (ev == REPAIR_EV_CHECKOUT) {
            if (c->checked_out & (1u << who)) {
                return refuse(r, "%s already checked out.", who == r->me ? "You" : r->peer_name);
            }
            c->checked_out |= (uint8_t)(1u << who);
            c->rating[who] = s->rating;
            c->word[who] = s->word;
            if (c->checked_out == 3) {
                close_with(c, (enum repair_outcome)c->pending_outcome);
            }
            return KITH_OK;
        }
        break;
    default:
        break;
    }
    return refuse_turn(r, c, s);
}

static int
transition(struct repair *r, struct repair_core *c, const struct repair_step *s, int64_t now)
{
    const enum repair_event ev = (enum repair_event)s->event;
    const char *why = NULL;
    bool handled = false;
    int rc;

    if (repair_impl_validate(s, &why) != KITH_OK) {
        snprintf(r->why, sizeof r->why, "%s", why);
        return KITH_EINVAL;
    }
    switch ((enum repair_state)c->state) {
    case REPAIR_CLOSED:
        return refuse_turn(r, c, s);
    case REPAIR_DRAFT:
        if (s->actor != REPAIR_INITIATOR) {
            return refuse_turn(r, c, s);
        }
        if (ev == REPAIR_EV_INVITE) {
            c->state = REPAIR_INVITED;
            c->invite_expires_at = now + REPAIR_INVITE_TTL;
            break;
        }
        if (ev == REPAIR_EV_DISCARD) {
            close_with(c, REPAIR_OUTCOME_DISCARDED);
            break;
        }
        return refuse_turn(r, c, s);
    case REPAIR_PAUSED:
        if (ev == REPAIR_EV_END) {
            close_with(c, REPAIR_OUTCOME_ENDED);
            break;
        }
        if (ev == REPAIR_EV_RESUME) {
            int64_t t = s->actor == r->me ? now : s->sent_at;
            if (s->actor != c->pauser && t < c->pause_until) {
                return refuse_turn(r, c, s);
            }
            c->state = c->resume_state;
            c->pauser = REPAIR_NOBODY;
            break;
        }
        if (ev == REPAIR_EV_EXTEND && s->actor == c->pauser) {
            if (s->until <= c->pause_until) {
                return refuse(r, "To take longer, pick a time after %s", "the current one.");
            }
            if (c->pause_used + (s->until - c->pause_until) > REPAIR_PAUSE_TOTAL) {
                return refuse(r, "Breaks can add up to 7 days in all. Pick an earlier time, or "
                                 "end here for now.");
            }
            c->pause_used += s->until - c->pause_until;
            c->pause_until = s->until;
            break;
        }
        return refuse_turn(r, c, s);
    default:
        if (ev == REPAIR_EV_EXPIRE) {
            rc = do_expire(r, c, s, now);
        } else {
            rc = do_overlay(r, c, s, &handled);
            if (rc == KITH_OK && !handled) {
                rc = do_turn(r, c, s, now);
            }
        }
        if (rc != KITH_OK) {
            return rc;
        }
        break;
    }
    merge_fields(c, s);
    c->last_event_at = now;
    return KITH_OK;
}

/* > 0 when a beats b. */
static int
event_rank(uint8_t ev)
{
    return ev == REPAIR_EV_END ? 2 : ev == REPAIR_EV_PAUSE ? 1 : 0;
}

static int
race_order(const struct repair *r, uint8_t a_ev, int64_t a_at, uint8_t a_actor, uint8_t b_ev,
           int64_t b_at, uint8_t b_actor)
{
    int cmp;

    if (event_rank(a_ev) != event_rank(b_ev)) {
        return event_rank(a_ev) > event_rank(b_ev) ? 1 : -1;
    }
    if (a_at != b_at) {
        return a_at < b_at ? 1 : -1;
    }
    cmp = strcmp(r->fp[a_actor & 1], r->fp[b_actor & 1]);
    if (cmp != 0) {
        return cmp < 0 ? 1 : -1;
    }
    return a_actor < b_actor ? 1 : a_actor > b_actor ? -1 : 0;
}

int
repair_race_compare(const struct repair *r, const struct repair_step *a,
                    const struct repair_step *b)
{
    return race_order(r, a->event, a->sent_at, a->actor, b->event, b->sent_at, b->actor);
}

static const char *
past_tense(uint8_t ev)
{
    switch ((enum repair_event)ev) {
    case REPAIR_EV_END:
        return "ended the conversation";
    case REPAIR_EV_PAUSE:
        return "paused";
    default:
        return "answered";
    }
}

static int
apply_impl(struct repair *r, const struct repair_step *s, int64_t now, enum repair_race *race,
           bool commit)
{
    struct repair_core *scratch = &r->scratch;
    enum repair_race outcome = REPAIR_RACE_NONE;
    bool rollback = false;
    int rc;

    r->why[0] = '\0';
    if (race != NULL) {
        *race = REPAIR_RACE_NONE;
    }
    if (sodium_memcmp(s->repair_id, r->repair_id, REPAIR_ID_BYTES) != 0) {
        return refuse(r, "This step belongs to another conversation."), KITH_ENOTFOUND;
    }
    if (s->actor > REPAIR_PARTNER || s->event >= REPAIR_EV_COUNT) {
        return refuse(r, "This step is damaged."), KITH_EINVAL;
    }
    if (s->seq == r->cur.seq && r->has_prev && s->seq > 0) {
        if (s->actor == r->last_actor) {
            return refuse(r, "This step was already applied."), KITH_EREPLAY;
        }
        if (race_order(r, s->event, s->sent_at, s->actor, r->last_event, r->last_sent_at,
                       r->last_actor) < 0) {
            if (race != NULL) {
                *race = REPAIR_RACE_LOST;
            }
            refuse(r,
                   "%s and %s acted at the same moment; %s came first, so this one was "
                   "set aside.",
                   s->actor == r->me ? "You" : r->peer_name,
                   s->actor == r->me ? r->peer_name : "you",
                   s->actor == r->me ? "theirs" : "yours");
            return KITH_EEXISTS;
        }
        rollback = true;
        outcome = REPAIR_RACE_WON;
    } else if (s->seq < r->cur.seq || (s->seq == r->cur.seq && s->seq > 0)) {
        bool late_end = s->event == REPAIR_EV_END && r->cur.state != REPAIR_CLOSED &&
                        r->cur.state != REPAIR_DRAFT;
        if (!late_end) {
            return refuse(r, "This step was already applied."), KITH_EREPLAY;
        }
    } else if (s->seq != r->cur.seq + 1) {
        return refuse(r, "A step before this one hasn't arrived yet."), KITH_EAGAIN;
    }
    memcpy(scratch, rollback ? &r->prev : &r->cur, sizeof *scratch);
    rc = transition(r, scratch, s, now);
    if (rc != KITH_OK || !commit) {
        goto out;
    }
    if (rollback) {
        if (r->last_actor == r->me) {
            snprintf(r->why, sizeof r->why, "%s %s first \xe2\x80\x94 your reply is saved.",
                     r->peer_name, past_tense(s->event));
        } else {
            snprintf(r->why, sizeof r->why, "You %s first; %s's step was set aside.",
                     past_tense(s->event), r->peer_name);
        }
    } else if (s->seq == r->cur.seq + 1) {
        memcpy(&r->prev, &r->cur, sizeof r->prev);
        r->has_prev = true;
    }
    if (s->seq >= r->cur.seq) {
        scratch->seq = s->seq;
        r->last_event = s->event;
        r->last_actor = s->actor;
        r->last_sent_at = s->sent_at;
    } else {
        scratch->seq = r->cur.seq; /* a late end keeps the count */
    }
    memcpy(&r->cur, scratch, sizeof r->cur);
    if (race != NULL) {
        *race = outcome;
    }
out:
    sodium_memzero(scratch, sizeof *scratch);
    return rc;
}

int
repair_apply(struct repair *r, const struct repair_step *s, int64_t now, enum repair_race *race)
{
    return apply_impl(r, s, now, race, true);
}

int
repair_check(struct repair *r, const struct repair_step *s, int64_t now)
{
    return apply_impl(r, s, now, NULL, false);
}
