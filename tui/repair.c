/*
 * repair (tui): the repair card (DOMAIN.md §2.3) over the conversation, and
 * the same card against a scripted partner for `kith practice`. It shows
 * where the two of you are, what is being asked now, one field per part of
 * the step (pickers for feelings and needs from the inventories), the wording
 * coach's hints before sending (never blocking), and the pause and end keys
 * and the not-therapy footer on every screen. The real card uses only engine
 * verbs; practice runs the pure core/practice with no engine and no network.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/coach.h"
#include "core/practice.h"
#include "core/repair.h"
#include "tui/tui.h"
#include "tui/tui_impl.h"
#include "tui/wrap.h"

#define CARD_FIELDS_MAX 9
#define CARD_EVENTS_MAX 12
#define CARD_HINT_LINES 4
#define CARD_MSG_MAX    512
#define CARD_INPUT_CAP  2000
#define CARD_JSON_MAX   8192
#define CARD_FOOTER     "kith isn't therapy \u00b7 If you're not safe right now: F1"
static const char card_keys[] =
    "F5 pause \u00b7 F6 end \u00b7 F2 other step \u00b7 Tab next \u00b7 Esc leave";

enum card_kind { CARD_TEXT, CARD_TIME, CARD_FEELINGS, CARD_NEEDS, CARD_CHOICE };

struct card_field_def {
    const char *name; /* repair_step_set_field name; for choices, the field it fills */
    enum card_kind kind;
    const char *choices; /* CARD_CHOICE: "yes|partly|close_enough" */
};

struct card_event_def {
    enum repair_event ev;
    struct card_field_def fields[CARD_FIELDS_MAX];
};

/* The parts of each step, in the order DOMAIN.md §2.2 asks for them. */
static const struct card_event_def card_events[] = {
    { REPAIR_EV_INVITE, { { "topic", CARD_TEXT, NULL } } },
    { REPAIR_EV_ACCEPT, { { NULL, CARD_TEXT, NULL } } },
    { REPAIR_EV_POSTPONE, { { "until", CARD_TIME, NULL }, { "note", CARD_TEXT, NULL } } },
    { REPAIR_EV_DECLINE, { { "reason", CARD_TEXT, NULL } } },
    { REPAIR_EV_WITHDRAW, { { NULL, CARD_TEXT, NULL } } },
    { REPAIR_EV_SHARE,
      { { "observation", CARD_TEXT, NULL },
        { "feelings", CARD_FEELINGS, NULL },
        { "feelings_text", CARD_TEXT, NULL },
        { "needs", CARD_NEEDS, NULL },
        { "request", CARD_TEXT, NULL } } },
    { REPAIR_EV_REFLECT,
      { { "text", CARD_TEXT, NULL },
        { "feeling_guesses", CARD_FEELINGS, NULL },
        { "need_guesses", CARD_NEEDS, NULL } } },
    { REPAIR_EV_CONFIRM,
      { { "answer", CARD_CHOICE, "yes|partly|close_enough" }, { "addition", CARD_TEXT, NULL } } },
    { REPAIR_EV_RESPOND,
      { { "validation", CARD_TEXT, NULL },
        { "kind", CARD_CHOICE, "apology|clarification|both" },
        { "responsibility", CARD_TEXT, NULL },
        { "regret", CARD_TEXT, NULL },
        { "repair_offer", CARD_TEXT, NULL },
        { "next_time", CARD_TEXT, NULL },
        { "text", CARD_TEXT, NULL },
        { "impact_ack", CARD_CHOICE, "no|yes" },
        { "my_side", CARD_TEXT, NULL } } },
    { REPAIR_EV_RECEIVE,
      { { "answer", CARD_CHOICE, "ok|more" },
        { "note", CARD_TEXT, NULL },
        { "reflect_back", CARD_TEXT, NULL } } },
    { REPAIR_EV_PROPOSE, { { "text", CARD_TEXT, NULL } } },
    { REPAIR_EV_AGREE, { { NULL, CARD_TEXT, NULL } } },
    { REPAIR_EV_COUNTER, { { "text", CARD_TEXT, NULL } } },
    { REPAIR_EV_NO_AGREEMENT, { { NULL, CARD_TEXT, NULL } } },
    { REPAIR_EV_CHECKOUT,
      { { "rating", CARD_CHOICE, "1|2|3|4|5" }, { "shared", CARD_CHOICE, "keep|share" } } },
    { REPAIR_EV_PAUSE, { { "until", CARD_TIME, NULL }, { "reason", CARD_TEXT, NULL } } },
    { REPAIR_EV_RESUME, { { NULL, CARD_TEXT, NULL } } },
    { REPAIR_EV_EXTEND, { { "until", CARD_TIME, NULL } } },
    { REPAIR_EV_END, { { "phrase", CARD_TEXT, NULL } } },
    { REPAIR_EV_CHECK_IN, { { NULL, CARD_TEXT, NULL } } },
    { REPAIR_EV_OK_TO_CONTINUE, { { NULL, CARD_TEXT, NULL } } },
    { REPAIR_EV_NEED_BREAK, { { "until", CARD_TIME, NULL } } },
    { REPAIR_EV_SOMETHING_LANDED_HARD, { { "text", CARD_TEXT, NULL } } },
};

struct card_value {
    struct input *text; /* CARD_TEXT, CARD_TIME */
    uint8_t picks[REPAIR_PICKS_MAX];
    size_t n_picks;
    size_t at;  /* inventory cursor (pickers) */
    int choice; /* CARD_CHOICE: index, -1 = nothing chosen yet */
};

struct repair_card {
    bool is_practice;
    struct practice *practice; /* practice only */
    struct engine *e;          /* the real card only */
    char peer[ENGINE_NAME_BUF];
    struct repair *r; /* the real card: our replica's copy, NULL when none is open */
    const struct card_event_def *def;
    enum repair_event events[CARD_EVENTS_MAX];
    size_t n_events;
    size_t n_fields;
    size_t focus; /* a field, or n_fields for "send" */
    struct card_value values[CARD_FIELDS_MAX];
    char hints[CARD_HINT_LINES][COACH_HINT_MAX + 32];
    size_t n_hints;
    const char *persona;            /* practice: "receptive", ... (static) */
    char reply[PRACTICE_REPLY_MAX]; /* the partner's last words (practice) */
    char feedback[PRACTICE_FEEDBACK_MAX];
    char msg[CARD_MSG_MAX];
    bool msg_is_trouble;
    bool is_done;
    bool shows_crisis;
    bool wants_out;
    char **transcript; /* practice --save: a growing text, else NULL */
};

/* ---- what the replica says ---- */

static const struct repair *
card_replica(const struct repair_card *card)
{
    return card->is_practice ? practice_repair(card->practice) : card->r;
}

static enum repair_state
card_state(const struct repair_card *card)
{
    const struct repair *r = card_replica(card);

    return r != NULL ? repair_state(r) : REPAIR_DRAFT;
}

/* The "prompt" string of repair_status_json, unescaped into out. */
static void
card_prompt(const struct repair_card *card, char *out, size_t cap)
{
    const struct repair *r = card_replica(card);
    char *json = xmalloc(CARD_JSON_MAX);
    const char *p;
    size_t o = 0;

    out[0] = '\0';
    if (r == NULL || repair_status_json(r, json, CARD_JSON_MAX) != KITH_OK ||
        (p = strstr(json, "\"prompt\":\"")) == NULL) {
        free(json);
        return;
    }
    for (p += 10; *p != '\0' && *p != '"' && o + 1 < cap; p++) {
        if (*p == '\\' && p[1] != '\0') {
            p++;
            out[o++] = *p == 'n' ? ' ' : *p;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    free(json);
}

static void
card_add_event(struct repair_card *card, enum repair_event ev)
{
    if (card->n_events < CARD_EVENTS_MAX) {
        card->events[card->n_events++] = ev;
    }
}

/* The steps that fit now, main ones first (DOMAIN.md §2.1); pause and end have their keys. */
static void
card_list_events(struct repair_card *card)
{
    const struct repair *r = card_replica(card);
    enum repair_state st = card_state(card);
    bool is_partner = r != NULL && repair_my_role(r) == REPAIR_PARTNER;
    bool is_mine = r == NULL || repair_is_my_turn(r);

    card->n_events = 0;
    if (r == NULL || st == REPAIR_DRAFT || (st == REPAIR_CLOSED && !card->is_practice)) {
        if (!card->is_practice || st == REPAIR_DRAFT) {
            card_add_event(card, REPAIR_EV_INVITE);
        }
        return;
    }
    switch (st) {
    case REPAIR_INVITED:
    case REPAIR_POSTPONED:
        if (is_partner) {
            card_add_event(card, REPAIR_EV_ACCEPT);
            if (st == REPAIR_INVITED) {
                card_add_event(card, REPAIR_EV_POSTPONE);
            }
            card_add_event(card, REPAIR_EV_DECLINE);
        } else {
            card_add_event(card, REPAIR_EV_WITHDRAW);
            if (st == REPAIR_POSTPONED) {
                card_add_event(card, REPAIR_EV_RESUME);
            }
        }
        break;
    case REPAIR_ACCEPTED:
        card_add_event(card, REPAIR_EV_SHARE);
        break;
    case REPAIR_SHARED:
        card_add_event(card, REPAIR_EV_REFLECT);
        break;
    case REPAIR_REFLECTED:
        card_add_event(card, REPAIR_EV_CONFIRM);
        break;
    case REPAIR_UNDERSTOOD:
        card_add_event(card, REPAIR_EV_RESPOND);
        break;
    case REPAIR_RESPONDED:
        card_add_event(card, REPAIR_EV_RECEIVE);
        break;
    case REPAIR_AGREEING:
        card_add_event(card, REPAIR_EV_PROPOSE);
        card_add_event(card, REPAIR_EV_AGREE);
        card_add_event(card, REPAIR_EV_COUNTER);
        card_add_event(card, REPAIR_EV_NO_AGREEMENT);
        break;
    case REPAIR_AGREED:
    case REPAIR_CHECKOUT:
        card_add_event(card, REPAIR_EV_CHECKOUT);
        break;
    case REPAIR_PAUSED:
        card_add_event(card, REPAIR_EV_RESUME);
        card_add_event(card, REPAIR_EV_EXTEND);
        break;
    default:
        break;
    }
    if (!is_mine && st != REPAIR_PAUSED && st != REPAIR_INVITED && st != REPAIR_POSTPONED) {
        card->n_events = 0; /* their turn: nothing to do but pause, end or check in */
    }
    if (st != REPAIR_CLOSED && st != REPAIR_PAUSED) {
        card_add_event(card, REPAIR_EV_CHECK_IN);
        card_add_event(card, REPAIR_EV_OK_TO_CONTINUE);
        card_add_event(card, REPAIR_EV_NEED_BREAK);
        card_add_event(card, REPAIR_EV_SOMETHING_LANDED_HARD);
    }
}

/* ---- the step being written ---- */

static void
card_free_values(struct repair_card *card)
{
    for (size_t i = 0; i < CARD_FIELDS_MAX; i++) {
        input_destroy(card->values[i].text);
    }
    memset(card->values, 0, sizeof card->values);
    card->n_fields = 0;
}

static void
card_choose(struct repair_card *card, enum repair_event ev)
{
    card_free_values(card);
    card->def = NULL;
    for (size_t i = 0; i < sizeof card_events / sizeof card_events[0]; i++) {
        if (card_events[i].ev == ev) {
            card->def = &card_events[i];
        }
    }
    if (card->def == NULL) {
        return;
    }
    for (size_t i = 0; i < CARD_FIELDS_MAX && card->def->fields[i].name != NULL; i++) {
        const struct card_field_def *f = &card->def->fields[i];
        card->values[i].choice = -1;
        if (f->kind == CARD_TEXT || f->kind == CARD_TIME) {
            card->values[i].text = input_create(CARD_INPUT_CAP, false);
        }
        card->n_fields = i + 1;
    }
    card->focus = 0;
    card->n_hints = 0;
}

static void
card_reset(struct repair_card *card)
{
    card_list_events(card);
    if (card->n_events > 0) {
        card_choose(card, card->events[0]);
    } else {
        card_free_values(card);
        card->def = NULL;
    }
}

/* The live coach: hints for the text written so far (DOMAIN.md §2.6). */
static void
card_coach(struct repair_card *card)
{
    card->n_hints = 0;
    for (size_t i = 0; i < card->n_fields && card->n_hints < CARD_HINT_LINES; i++) {
        const struct card_field_def *f = &card->def->fields[i];
        struct coach_hint found[COACH_HINTS_MAX];
        size_t n;

        if (f->kind != CARD_TEXT || input_is_empty(card->values[i].text)) {
            continue;
        }
        n = coach_check(coach_field_for(f->name), input_text(card->values[i].text, NULL),
                        card->peer[0] != '\0' ? card->peer : NULL, found);
        for (size_t k = 0; k < n && card->n_hints < CARD_HINT_LINES; k++) {
            snprintf(card->hints[card->n_hints++], sizeof card->hints[0], "%s: %s", f->name,
                     found[k].text);
        }
    }
}

static void
card_note(struct repair_card *card, bool is_trouble, const char *text)
{
    snprintf(card->msg, sizeof card->msg, "%s", text);
    card->msg_is_trouble = is_trouble;
}

static void
card_keep(struct repair_card *card, const char *who, const char *text)
{
    size_t had;
    size_t add;

    if (card->transcript == NULL || text[0] == '\0') {
        return;
    }
    had = *card->transcript != NULL ? strlen(*card->transcript) : 0;
    add = strlen(who) + strlen(text) + 3;
    if (had + add >= ENGINE_PRACTICE_MAX) {
        return;
    }
    *card->transcript = xrealloc(*card->transcript, had + add + 1);
    snprintf(*card->transcript + had, add + 1, "%s: %s\n", who, text);
}

/* "90", "20m", "1h", "2d" -> seconds; -1 when it isn't one. */
static long
card_duration(const char *s)
{
    char *end = NULL;
    long v;

    if (s[0] < '0' || s[0] > '9') {
        return -1;
    }
    v = strtol(s, &end, 10);
    if (v < 0 || v > 100000000) {
        return -1;
    }
    if (*end == '\0' || strcmp(end, "s") == 0) {
        return v;
    }
    if (strcmp(end, "m") == 0) {
        return v * 60;
    }
    if (strcmp(end, "h") == 0) {
        return v * 3600;
    }
    return strcmp(end, "d") == 0 ? v * 86400 : -1;
}

/* A time field: empty = the default; "20m", "1h", "2d" from now (the practice clock there). */
static int
card_time(struct repair_card *card, const char *text, char *out, size_t cap)
{
    const struct repair *r = card_replica(card);
    long secs;
    int64_t now = (int64_t)time(NULL);

    if (text[0] == '\0') {
        snprintf(out, cap, "0");
        return KITH_OK;
    }
    secs = card_duration(text);
    if (secs <= 0) {
        return KITH_EINVAL;
    }
    if (card->is_practice && r != NULL) {
        now = repair_fields(r)->sent_at > 0 ? repair_fields(r)->sent_at + 60 : PRACTICE_EPOCH;
    }
    snprintf(out, cap, "%lld", (long long)(now + secs));
    return KITH_OK;
}

/* The step from the fields. KITH_OK, or a kind sentence in card->msg. */
static int
card_build(struct repair_card *card, struct repair_step *step)
{
    repair_step_init(step, card->def->ev);
    for (size_t i = 0; i < card->n_fields; i++) {
        const struct card_field_def *f = &card->def->fields[i];
        const struct card_value *v = &card->values[i];
        const char *why = NULL;
        char buf[256];
        int rc = KITH_OK;

        switch (f->kind) {
        case CARD_TEXT:
            if (!input_is_empty(v->text)) {
                rc = repair_step_set_field(step, f->name, input_text(v->text, NULL), &why);
            }
            break;
        case CARD_TIME:
            if (card_time(card, input_text(v->text, NULL), buf, sizeof buf) != KITH_OK) {
                card_note(card, true, "A time like 20m, 1h or 2d, or leave it empty.");
                return KITH_EINVAL;
            }
            if (strcmp(buf, "0") != 0) {
                rc = repair_step_set_field(step, f->name, buf, &why);
            }
            break;
        case CARD_FEELINGS:
        case CARD_NEEDS: {
            size_t o = 0;
            buf[0] = '\0';
            for (size_t k = 0; k < v->n_picks; k++) {
                const char *name = f->kind == CARD_FEELINGS ? repair_feeling_name(v->picks[k])
                                                            : repair_need_name(v->picks[k]);
                o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", k > 0 ? "," : "", name);
            }
            if (v->n_picks > 0) {
                for (char *c = buf; *c != '\0'; c++) {
                    *c = *c == ' ' ? '_' : *c;
                }
                rc = repair_step_set_field(step, f->name, buf, &why);
            }
            break;
        }
        case CARD_CHOICE: {
            char choice[32];
            const char *p = f->choices;
            if (v->choice < 0) {
                break; /* nothing chosen: the state machine says what it needs */
            }
            for (int k = 0; k < v->choice; k++) {
                p = strchr(p, '|') + 1;
            }
            snprintf(choice, sizeof choice, "%.*s", (int)strcspn(p, "|"), p);
            if (strcmp(f->name, "rating") == 0) {
                rc = repair_step_set_field(step, "rating", choice, &why);
            } else if (strcmp(choice, "share") == 0 || strcmp(choice, "yes") == 0) {
                rc = repair_step_set_field(step, strcmp(f->name, "answer") == 0 ? "yes" : f->name,
                                           NULL, &why);
            } else if (strcmp(choice, "keep") != 0 && strcmp(choice, "no") != 0) {
                rc = repair_step_set_field(step, choice, NULL, &why);
            }
            break;
        }
        }
        if (rc != KITH_OK) {
            card_note(card, true, why != NULL ? why : "That part doesn't fit this step.");
            return rc;
        }
    }
    if (card->def->ev == REPAIR_EV_AGREE && card_replica(card) != NULL) {
        char v[16];
        const char *why = NULL;
        snprintf(v, sizeof v, "%u", (unsigned)repair_agreement_version(card_replica(card)));
        if (repair_step_set_field(step, "v", v, &why) != KITH_OK) {
            card_note(card, true, why);
            return KITH_EINVAL;
        }
    }
    return KITH_OK;
}

static void
card_keep_step(struct repair_card *card)
{
    char line[CARD_INPUT_CAP + 64];
    size_t o = (size_t)snprintf(line, sizeof line, "%s", repair_event_name(card->def->ev));

    for (size_t i = 0; i < card->n_fields && o < sizeof line; i++) {
        const struct card_value *v = &card->values[i];
        if (v->text != NULL && !input_is_empty(v->text)) {
            o += (size_t)snprintf(line + o, sizeof line - o, " %s='%s'", card->def->fields[i].name,
                                  input_text(v->text, NULL));
        }
    }
    card_keep(card, "you", line);
}

static void
card_send(struct repair_card *card)
{
    struct repair_step *step;
    int rc;

    if (card->def == NULL || card->is_done) {
        return;
    }
    step = xcalloc(1, sizeof *step);
    rc = card_build(card, step);
    if (rc == KITH_OK && card->is_practice) {
        struct practice_out *out = xcalloc(1, sizeof *out);
        rc = practice_step(card->practice, step, out);
        if (rc != KITH_OK) {
            card_note(card, true, out->error[0] != '\0' ? out->error : kith_strerror(rc));
        } else {
            card_keep_step(card);
            snprintf(card->reply, sizeof card->reply, "%s", out->reply);
            card_keep(card, "partner", out->reply);
            card->is_done = out->is_done;
            snprintf(card->feedback, sizeof card->feedback, "%s", out->feedback);
            card_note(card, false, "");
        }
        explicit_bzero(out, sizeof *out);
        free(out);
    } else if (rc == KITH_OK) {
        char why[ENGINE_REPAIR_WHY];
        rc = engine_repair_act(card->e, card->peer, step, why, sizeof why);
        if (rc != KITH_OK) {
            card_note(card, true, why[0] != '\0' ? why : kith_strerror(rc));
        } else {
            repair_destroy(card->r);
            card->r = NULL;
            KITH_IGNORE(engine_repair_load(card->e, card->peer, &card->r));
            card_note(card, false, "Sent. It's saved and goes as soon as they're online.");
        }
    }
    if (rc == KITH_OK) {
        card_reset(card);
    }
    explicit_bzero(step, sizeof *step);
    free(step);
}

/* ---- keys ---- */

static void
card_pick(struct repair_card *card, struct card_value *v, bool is_feelings)
{
    for (size_t k = 0; k < v->n_picks; k++) {
        if (v->picks[k] == v->at) {
            memmove(&v->picks[k], &v->picks[k + 1], v->n_picks - k - 1);
            v->n_picks--;
            return;
        }
    }
    if (v->n_picks == REPAIR_PICKS_MAX) {
        card_note(card, true,
                  is_feelings ? "Up to three feelings; take one away first."
                              : "Up to three needs; take one away first.");
        return;
    }
    v->picks[v->n_picks++] = (uint8_t)v->at;
}

static void
card_field_key(struct repair_card *card, const struct tui_key *k)
{
    const struct card_field_def *f = &card->def->fields[card->focus];
    struct card_value *v = &card->values[card->focus];
    bool is_left = k->is_code && k->ch == KEY_LEFT;
    bool is_right = (k->is_code && k->ch == KEY_RIGHT);

    if (f->kind == CARD_TEXT || f->kind == CARD_TIME) {
        (void)tui_edit_key(v->text, k);
        card_coach(card);
    } else if (f->kind == CARD_CHOICE) {
        int n = 1;
        for (const char *p = f->choices; *p != '\0'; p++) {
            n += *p == '|';
        }
        if (is_left) {
            v->choice = v->choice <= 0 ? n - 1 : v->choice - 1;
        } else if (is_right || (!k->is_code && k->ch == ' ')) {
            v->choice = (v->choice + 1) % n;
        }
    } else {
        bool is_feelings = f->kind == CARD_FEELINGS;
        size_t n = is_feelings ? repair_feeling_count() : repair_need_count();
        if (is_left) {
            v->at = v->at == 0 ? n - 1 : v->at - 1;
        } else if (is_right) {
            v->at = (v->at + 1) % n;
        } else if (!k->is_code && k->ch == ' ') {
            card_pick(card, v, is_feelings);
        }
    }
}

static void
card_next_event(struct repair_card *card)
{
    size_t at = 0;

    if (card->n_events == 0) {
        return;
    }
    for (size_t i = 0; i < card->n_events; i++) {
        if (card->def != NULL && card->events[i] == card->def->ev) {
            at = (i + 1) % card->n_events;
        }
    }
    card_choose(card, card->events[at]);
}

/* True when the key was the card's. */
static void
card_key(struct repair_card *card, const struct tui_key *k)
{
    bool is_enter =
        (!k->is_code && (k->ch == 10 || k->ch == 13)) || (k->is_code && k->ch == KEY_ENTER);

    if (card->shows_crisis) {
        card->shows_crisis = false;
        return;
    }
    if (k->is_code && k->ch == (uint32_t)KEY_F(2)) {
        card_next_event(card);
        return;
    }
    if (k->is_code && (k->ch == (uint32_t)KEY_F(5) || k->ch == (uint32_t)KEY_F(6))) {
        if (card_state(card) == REPAIR_CLOSED || card_state(card) == REPAIR_DRAFT) {
            card_note(card, true, "There's nothing to pause or end yet.");
            return;
        }
        card_choose(card, k->ch == (uint32_t)KEY_F(5) ? REPAIR_EV_PAUSE : REPAIR_EV_END);
        card_note(card, false,
                  k->ch == (uint32_t)KEY_F(5)
                      ? "Take the time you need. Come back at: 20m, 1h, 1d, or "
                        "leave it empty for 20 minutes. Enter on send."
                      : "You can stop here. Nothing is lost, and you can start "
                        "again another day. Enter on send.");
        return;
    }
    if (card->def == NULL) {
        return;
    }
    if ((!k->is_code && k->ch == '\t') || (k->is_code && k->ch == KEY_DOWN) ||
        (is_enter && card->focus < card->n_fields)) {
        card->focus = card->focus < card->n_fields ? card->focus + 1 : 0;
        return;
    }
    if ((k->is_code && (k->ch == KEY_BTAB || k->ch == KEY_UP))) {
        card->focus = card->focus > 0 ? card->focus - 1 : card->n_fields;
        return;
    }
    if (is_enter) {
        card_send(card);
        return;
    }
    if (card->focus < card->n_fields) {
        card_field_key(card, k);
    }
}

/* ---- drawing (stdscr, whole screen) ---- */

static void
card_text(int *y, int last, const char *text, attr_t attr)
{
    char clean[2048];
    size_t width = COLS > 4 ? (size_t)COLS - 4 : 1;
    size_t len = wrap_sanitize(text, strlen(text), clean, sizeof clean);
    const char *p = clean;

    (void)len;
    attron(attr);
    while (*p != '\0' && *y <= last) {
        size_t n = strlen(p);
        size_t cut = n;
        if (n > width) {
            cut = width;
            while (cut > 0 && p[cut] != ' ') {
                cut--;
            }
            if (cut == 0) {
                cut = width;
                while (cut > 0 && ((unsigned char)p[cut] & 0xc0) == 0x80) {
                    cut--;
                }
            }
        }
        mvaddnstr(*y, 2, p, (int)cut);
        (*y)++;
        p += cut;
        while (*p == ' ') {
            p++;
        }
    }
    attroff(attr);
}

static const char *const card_path[] = { "invite",  "accept",  "share", "reflect",  "confirm",
                                         "respond", "receive", "agree", "check-out" };

static int
card_path_at(enum repair_state st)
{
    static const int at[REPAIR_STATE_COUNT] = {
        [REPAIR_DRAFT] = 0,      [REPAIR_INVITED] = 1,   [REPAIR_POSTPONED] = 1,
        [REPAIR_ACCEPTED] = 2,   [REPAIR_SHARED] = 3,    [REPAIR_REFLECTED] = 4,
        [REPAIR_UNDERSTOOD] = 5, [REPAIR_RESPONDED] = 6, [REPAIR_AGREEING] = 7,
        [REPAIR_AGREED] = 8,     [REPAIR_CHECKOUT] = 8,  [REPAIR_PAUSED] = -1,
        [REPAIR_CLOSED] = -1,
    };
    return at[st];
}

static void
card_draw_where(const struct repair_card *card, int y)
{
    const struct repair *r = card_replica(card);
    enum repair_state st = card_state(card);
    enum repair_state shown = st == REPAIR_PAUSED && r != NULL ? repair_resume_state(r) : st;
    int at = card_path_at(shown);
    char line[256];

    move(y, 2);
    for (size_t i = 0; i < sizeof card_path / sizeof card_path[0]; i++) {
        if ((int)i == at) {
            attron(A_BOLD | A_REVERSE);
        }
        addstr(card_path[i]);
        if ((int)i == at) {
            attroff(A_BOLD | A_REVERSE);
        }
        addstr(i + 1 < sizeof card_path / sizeof card_path[0] ? " \u00b7 " : "");
    }
    if (st == REPAIR_CLOSED && r != NULL) {
        snprintf(line, sizeof line, "Where you are: closed (%s).",
                 repair_outcome_name(repair_outcome(r)));
    } else if (st == REPAIR_PAUSED) {
        snprintf(line, sizeof line, "Where you are: on a break (%s).", repair_state_name(shown));
    } else if (r == NULL || st == REPAIR_DRAFT) {
        snprintf(line, sizeof line,
                 "Where you are: not started. Nothing is sent until you "
                 "say so.");
    } else {
        snprintf(line, sizeof line, "Where you are: %s. %s", repair_state_name(st),
                 repair_is_my_turn(r) ? "Your turn, whenever you're ready."
                                      : "Their turn. Nothing you need to do.");
    }
    mvaddstr(y + 1, 2, line);
}

static void
card_draw_field(const struct repair_card *card, size_t i, int y)
{
    const struct card_field_def *f = &card->def->fields[i];
    const struct card_value *v = &card->values[i];
    bool has_focus = card->focus == i;
    char row[512];
    size_t o = 0;

    mvaddstr(y, 1, has_focus ? ">" : " ");
    attron(A_DIM);
    mvprintw(y, 3, "%-15s", f->name);
    attroff(A_DIM);
    if (f->kind == CARD_TEXT || f->kind == CARD_TIME) {
        size_t len = 0;
        size_t first = 0;
        size_t col = 0;
        size_t width = COLS > 24 ? (size_t)COLS - 22 : 2;
        const char *text = input_text(v->text, &len);
        input_view(v->text, width, &first, &col);
        mvaddnstr(y, 19, text + first, (int)(len - first < width ? len - first : width));
        if (f->kind == CARD_TIME && len == 0) {
            attron(A_DIM);
            addstr("(20m, 1h, 1d; empty: the default)");
            attroff(A_DIM);
        }
        return;
    }
    if (f->kind == CARD_CHOICE) {
        const char *p = f->choices;
        move(y, 19);
        for (int k = 0; *p != '\0'; k++) {
            size_t n = strcspn(p, "|");
            if (k == v->choice) {
                attron(A_REVERSE);
            }
            printw("[%.*s]", (int)n, p);
            if (k == v->choice) {
                attroff(A_REVERSE);
            }
            addstr(" ");
            p += n + (p[n] == '|' ? 1 : 0);
        }
        if (has_focus) {
            attron(A_DIM);
            addstr(" \u2190 \u2192 choose");
            attroff(A_DIM);
        }
        return;
    }
    for (size_t k = 0; k < v->n_picks; k++) {
        const char *name = f->kind == CARD_FEELINGS ? repair_feeling_name(v->picks[k])
                                                    : repair_need_name(v->picks[k]);
        o += (size_t)snprintf(row + o, sizeof row - o, "%s%s", k > 0 ? ", " : "", name);
    }
    mvaddstr(y, 19, o > 0 ? row : "(none yet)");
    if (has_focus) {
        const char *at = f->kind == CARD_FEELINGS ? repair_feeling_name((uint8_t)v->at)
                                                  : repair_need_name((uint8_t)v->at);
        attron(A_DIM);
        printw("   \u2190 %s \u2192  Space picks", at != NULL ? at : "");
        attroff(A_DIM);
    }
}

static void
card_draw_crisis(struct engine *e)
{
    char lines[CRISIS_LINES_MAX][CRISIS_LINE_MAX];
    size_t n = tui_crisis_collect(e, e != NULL, lines, CRISIS_LINES_MAX);
    int y = 2;

    mvaddstr(0, 2, "If you're not safe");
    for (size_t i = 0; i < n; i++) {
        card_text(&y, LINES - 3, lines[i], i == 0 ? A_BOLD : A_NORMAL);
    }
    card_text(&y, LINES - 3, "kith never contacts anyone on its own.", A_NORMAL);
    y++;
    card_text(&y, LINES - 3,
              "kith helps people who trust each other talk kindly. It isn't therapy or a "
              "crisis service, and it can't keep anyone safe on its own.",
              A_NORMAL);
    mvaddstr(LINES - 1, 2, "Any key goes back.");
}

static void
card_draw(struct repair_card *card)
{
    char title[ENGINE_NAME_BUF + 64];
    char prompt[1200];
    char who[ENGINE_NAME_BUF];
    int y = 0;
    int last = LINES - 4;

    erase();
    curs_set(0);
    if (card->shows_crisis) {
        card_draw_crisis(card->e);
        wnoutrefresh(stdscr);
        return;
    }
    wrap_sanitize(card->peer, strlen(card->peer), who, sizeof who);
    if (card->is_practice) {
        snprintf(title, sizeof title, "Practice \u00b7 a %s partner \u00b7 nothing is sent",
                 card->persona);
    } else {
        snprintf(title, sizeof title, "Repair with %s", who);
    }
    attron(A_BOLD);
    mvaddstr(y++, 2, title);
    attroff(A_BOLD);
    if (card->is_practice) {
        card_text(&y, last, practice_intro(), A_DIM);
    }
    card_draw_where(card, y);
    y += 3;
    card_prompt(card, prompt, sizeof prompt);
    if (prompt[0] != '\0') {
        card_text(&y, last, prompt, A_BOLD);
    }
    if (card->reply[0] != '\0') {
        char said[PRACTICE_REPLY_MAX + 32];
        snprintf(said, sizeof said, "Partner: \u201c%s\u201d", card->reply);
        card_text(&y, last, said, A_NORMAL);
    }
    if (card->is_done) {
        y++;
        card_text(&y, last, card->feedback, A_NORMAL);
    } else if (card->def != NULL) {
        y++;
        attron(A_DIM);
        mvprintw(y, 3, "%-15s", "step");
        attroff(A_DIM);
        attron(A_BOLD);
        mvaddstr(y++, 19, repair_event_name(card->def->ev));
        attroff(A_BOLD);
        for (size_t i = 0; i < card->n_fields && y <= last; i++) {
            card_draw_field(card, i, y++);
        }
        mvaddstr(y, 1, card->focus == card->n_fields ? ">" : " ");
        attron(card->focus == card->n_fields ? A_REVERSE : A_NORMAL);
        mvaddstr(y++, 3, "[ send ]");
        attroff(A_REVERSE);
        for (size_t i = 0; i < card->n_hints && y <= last; i++) {
            char hint[COACH_HINT_MAX + 48];
            snprintf(hint, sizeof hint, "Coach \u2014 %s", card->hints[i]);
            card_text(&y, last, hint, A_DIM);
        }
    } else {
        y++;
        card_text(&y, last, "Nothing to send now. F5 pauses, F6 ends.", A_DIM);
    }
    if (card->msg[0] != '\0') {
        int at = LINES - 3;
        card_text(&at, LINES - 3, card->msg, card->msg_is_trouble ? A_BOLD : A_NORMAL);
    }
    attron(A_DIM);
    mvaddstr(LINES - 2, 2, card_keys);
    attroff(A_DIM);
    mvaddstr(LINES - 1, 2, CARD_FOOTER);
    if (!card->is_done && card->def != NULL && card->focus < card->n_fields &&
        card->values[card->focus].text != NULL) {
        curs_set(1);
    }
    wnoutrefresh(stdscr);
}

/* ---- the card in the client ---- */

static void
card_destroy(struct repair_card *card)
{
    if (card == NULL) {
        return;
    }
    card_free_values(card);
    practice_destroy(card->practice);
    repair_destroy(card->r);
    explicit_bzero(card, sizeof *card);
    free(card);
}

static void
tui_repair_key(struct tui_app *app, const struct tui_key *k)
{
    app->dirty |= TUI_DIRTY_ALL;
    if (app->rcard != NULL) {
        card_key(app->rcard, k);
    }
}

static void
tui_repair_draw(struct tui_app *app)
{
    if (app->rcard != NULL) {
        card_draw(app->rcard);
    }
}

const struct tui_screen tui_screen_repair = { "repair", tui_repair_key, tui_repair_draw };

void
tui_repair_open(struct tui_app *app, const char *name)
{
    const char *who = name != NULL && name[0] != '\0' ? name : app->conv.name;
    struct engine_contact c;
    struct repair_card *card;

    if (who[0] == '\0') {
        tui_set_notice(app, true, "Open a conversation first, or say /repair NAME.");
        return;
    }
    if (engine_contact(app->e, who, &c) != KITH_OK) {
        tui_set_notice(app, true, "There's no contact called %s here.", who);
        return;
    }
    tui_repair_free(app);
    card = xcalloc(1, sizeof *card);
    card->e = app->e;
    snprintf(card->peer, sizeof card->peer, "%s", c.name);
    if (engine_repair_load(app->e, c.name, &card->r) != KITH_OK) {
        card->r = NULL;
    }
    card_reset(card);
    if (card->r == NULL || repair_state(card->r) == REPAIR_CLOSED) {
        card_note(card, false,
                  "Something hurt, and you'd like to clear it up. We'll go slowly. "
                  "You can stop at any point, and nothing is sent until you say so.");
    }
    app->rcard = card;
    tui_show(app, &tui_screen_repair);
}

void
tui_repair_on_event(struct tui_app *app, const char *contact)
{
    struct repair_card *card = app->rcard;

    if (card == NULL || strcmp(card->peer, contact) != 0) {
        if (app->conv.name[0] != '\0' && strcmp(app->conv.name, contact) == 0) {
            tui_set_notice(app, false, "The repair with %s moved. /repair opens it.", contact);
        }
        return;
    }
    repair_destroy(card->r);
    card->r = NULL;
    KITH_IGNORE(engine_repair_load(card->e, card->peer, &card->r));
    card_reset(card);
    app->dirty |= TUI_DIRTY_ALL;
}

void
tui_repair_free(struct tui_app *app)
{
    card_destroy(app->rcard);
    app->rcard = NULL;
}

/* ---- practice: the same card, no engine ---- */

int
tui_practice(const char *persona, unsigned long long seed, char **transcript)
{
    enum practice_persona who = PRACTICE_RECEPTIVE;
    struct repair_card *card;

    if (transcript != NULL) {
        *transcript = NULL;
    }
    if (practice_persona_from_name(persona, &who) != KITH_OK) {
        return 2;
    }
    if (!isatty(0) || !isatty(1)) {
        fputs("kith: practice needs a terminal; --script speaks JSON lines instead\n", stderr);
        return 1;
    }
    card = xcalloc(1, sizeof *card);
    card->is_practice = true;
    card->practice = practice_create(who, (uint64_t)seed);
    card->transcript = transcript;
    card->persona = practice_persona_name(who); /* the coach says "they" for this partner */
    card_reset(card);
    tui_curses_begin();
    while (!card->wants_out) {
        struct tui_key k;
        card_draw(card);
        doupdate();
        tui_read_key_blocking(&k);
        if ((!k.is_code && (k.ch == 27 || k.ch == 3)) && !card->shows_crisis) {
            card->wants_out = true;
        } else if (k.is_code && k.ch == (uint32_t)KEY_F(1)) {
            card->shows_crisis = !card->shows_crisis;
        } else if (k.is_code && k.ch == KEY_RESIZE) {
            continue;
        } else {
            card_key(card, &k);
        }
    }
    tui_curses_end();
    card_destroy(card);
    return 0;
}
