/*
 * practice: the scripted partner. The user's steps go through a real repair
 * replica (so every rule of the flow applies), the partner answers by
 * temperament (receptive, defensive with its guard 0..3, withdrawn until a
 * check-in opens it up), and at the end a short, kind reflection is built
 * from what the user did: no scores, no totals, no history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/practice.h"

#define SLOT_MAX 320
#define MINUTE   60

struct practice {
    enum practice_persona persona;
    uint64_t seed;
    struct repair *r;
    int64_t clock;
    uint32_t step_no;
    int guard, guard_min;
    bool is_open;       /* withdrawn: a check-in opened it up */
    bool has_countered; /* defensive: offered something smaller once */
    bool used_check_in, took_break, used_partly, ended_gently;
    bool pause_pending_reply; /* the partner paused instead of answering */
    bool has_checked_out;
    enum repair_event pending_event; /* what the partner owes an answer to after its break */
    uint32_t flags_seen, share_flags, request_flags;
    char obs[SLOT_MAX], feeling[SLOT_MAX], need[SLOT_MAX], request[SLOT_MAX];
    char addition[SLOT_MAX];
    struct repair_step partner; /* the partner's next step is built here */
};

static const uint8_t practice_id[REPAIR_ID_BYTES] = { 'p', 'r', 'a', 'c', 't', 'i', 'c', 'e' };

static const char intro[] =
    "This is a rehearsal with a pretend partner. Nothing is sent. Real "
    "people are less predictable \xe2\x80\x94 and often kinder \xe2\x80\x94 "
    "than a script.";

const char *
practice_intro(void)
{
    return intro;
}

static const char *const persona_names[] = { "receptive", "defensive", "withdrawn" };

const char *
practice_persona_name(enum practice_persona persona)
{
    return (unsigned)persona <= PRACTICE_WITHDRAWN ? persona_names[persona] : "unknown";
}

int
practice_persona_from_name(const char *name, enum practice_persona *out)
{
    for (int i = 0; i <= PRACTICE_WITHDRAWN; i++) {
        if (strcmp(name, persona_names[i]) == 0) {
            *out = (enum practice_persona)i;
            return KITH_OK;
        }
    }
    return KITH_EINVAL;
}

struct practice *
practice_create(enum practice_persona persona, uint64_t seed)
{
    struct practice *p = xcalloc(1, sizeof *p);

    p->persona = persona;
    p->seed = seed;
    p->r = repair_create(REPAIR_INITIATOR, practice_id, "practice-you", "practice-partner");
    repair_set_peer_name(p->r, "Robin"); /* the pretend partner's name */
    p->clock = PRACTICE_EPOCH;
    p->guard = persona == PRACTICE_DEFENSIVE ? 2 : 0;
    p->guard_min = p->guard;
    return p;
}

void
practice_destroy(struct practice *p)
{
    if (p == NULL) {
        return;
    }
    repair_destroy(p->r);
    sodium_memzero(p, sizeof *p);
    free(p);
}

int
practice_guard(const struct practice *p)
{
    return p->guard;
}

const struct repair *
practice_repair(const struct practice *p)
{
    return p->r;
}

/* FNV-1a 64 over (seed, step, round), little-endian: the variant index. */
static size_t
variant(const struct practice *p, uint32_t round, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const uint64_t words[3] = { p->seed, p->step_no, round };

    for (int w = 0; w < 3; w++) {
        for (int b = 0; b < 8; b++) {
            h ^= (uint8_t)(words[w] >> (8 * b));
            h *= 0x100000001b3ull;
        }
    }
    return (size_t)(h % n);
}

/* ---- slots from the user's own words ------------------------------------ */

static const struct {
    const char *from, *to;
} swaps[] = {
    { "i", "you" },           { "me", "you" },     { "my", "your" },     { "mine", "yours" },
    { "myself", "yourself" }, { "your", "my" },    { "yours", "mine" },  { "yourself", "myself" },
    { "i'm", "you're" },      { "you're", "I'm" }, { "i've", "you've" }, { "you've", "I've" },
    { "i'd", "you'd" },       { "you'd", "I'd" },  { "i'll", "you'll" }, { "you'll", "I'll" },
    { "am", "are" },
};

static bool
word_is(const char *w, size_t n, const char *lit)
{
    if (strlen(lit) != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = w[i] >= 'A' && w[i] <= 'Z' ? (char)(w[i] + 32) : w[i];
        if (c != lit[i]) {
            return false;
        }
    }
    return true;
}

/* After these, "you" is a subject ("before you leave" -> "before I leave"). */
static const char *const subordinators[] = { "and",   "but",     "or",     "when",  "that",
                                             "if",    "because", "before", "after", "until",
                                             "while", "since",   "so",     "once",  "as" };

/* Swap I and you, word by word ("you left me" -> "I left you"). */
static void
flip(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    bool clause_start = true;

    for (size_t i = 0; i < len && o + 1 < cap;) {
        size_t s = i;
        const char *rep = NULL;
        while (i < len &&
               (in[i] == '\'' || (unsigned)(((unsigned char)in[i] | 0x20) - 'a') < 26u)) {
            i++;
        }
        if (i == s) {
            out[o++] = in[i++];
            continue;
        }
        if (word_is(in + s, i - s, "you")) {
            rep = clause_start ? "I" : "me";
        }
        for (size_t k = 0; rep == NULL && k < sizeof swaps / sizeof swaps[0]; k++) {
            if (word_is(in + s, i - s, swaps[k].from)) {
                rep = swaps[k].to;
            }
        }
        clause_start = false;
        for (size_t k = 0; k < sizeof subordinators / sizeof subordinators[0]; k++) {
            clause_start = clause_start || word_is(in + s, i - s, subordinators[k]);
        }
        if (rep == NULL) {
            size_t n = i - s < cap - 1 - o ? i - s : cap - 1 - o;
            memcpy(out + o, in + s, n);
            o += n;
        } else {
            size_t n = strlen(rep) < cap - 1 - o ? strlen(rep) : cap - 1 - o;
            memcpy(out + o, rep, n);
            o += n;
        }
    }
    out[o < cap ? o : cap - 1] = '\0';
}

static void
fill_slots(struct practice *p, const struct repair_step *s)
{
    const char *obs = s->text[REPAIR_F_OBSERVATION];
    const char *req = s->text[REPAIR_F_REQUEST];
    size_t cut = strcspn(obs, ",;.!?\n");
    static const char *const openers[] = { "would you be willing to ", "could you ", "can you ",
                                           "please ", "would you " };
    const char *stop[] = { " and ", " but ", " because " };

    for (size_t i = 0; i < 3; i++) {
        const char *at = strstr(obs, stop[i]);
        if (at != NULL && (size_t)(at - obs) < cut) {
            cut = (size_t)(at - obs);
        }
    }
    flip(obs, cut, p->obs, sizeof p->obs);
    if (p->obs[0] >= 'A' && p->obs[0] <= 'Z' && p->obs[1] != ' ' && p->obs[1] != '\'') {
        p->obs[0] = (char)(p->obs[0] + 32);
    }
    snprintf(p->feeling, sizeof p->feeling, "%s%s%s", repair_feeling_name(s->list[0][0]),
             s->list_len[0] > 1 ? " and " : "",
             s->list_len[0] > 1 ? repair_feeling_name(s->list[0][1]) : "");
    snprintf(p->need, sizeof p->need, "%s", repair_need_name(s->list[1][0]));
    for (size_t i = 0; i < sizeof openers / sizeof openers[0]; i++) {
        size_t n = strlen(openers[i]);
        if (strncasecmp(req, openers[i], n) == 0) {
            req += n;
            break;
        }
    }
    cut = strlen(req);
    while (cut > 0 && (req[cut - 1] == '?' || req[cut - 1] == '.' || req[cut - 1] == '!')) {
        cut--;
    }
    flip(req, cut, p->request, sizeof p->request);
}

/* Expand {obs} {feeling} {need} {request} {addition}; capitalise the first letter. */
static void
expand(const struct practice *p, const char *tmpl, char *out, size_t cap)
{
    size_t o = 0;

    for (const char *t = tmpl; *t != '\0' && o + 1 < cap; t++) {
        const char *slot = NULL;
        size_t skip = 0;
        if (*t == '{') {
            static const char *const names[] = { "{obs}", "{feeling}", "{need}", "{request}",
                                                 "{addition}" };
            const char *vals[] = { p->obs, p->feeling, p->need, p->request, p->addition };
            for (size_t k = 0; k < 5; k++) {
                if (strncmp(t, names[k], strlen(names[k])) == 0) {
                    slot = vals[k];
                    skip = strlen(names[k]) - 1;
                }
            }
        }
        if (slot == NULL) {
            out[o++] = *t;
            continue;
        }
        size_t first = o;
        for (; *slot != '\0' && o + 1 < cap; slot++) {
            out[o++] = *slot;
        }
        size_t back = first;
        while (back > 0 && out[back - 1] == ' ') {
            back--;
        }
        if (o > first && back > 0 && back < first && strchr(".?!", out[back - 1]) != NULL &&
            out[first] >= 'a' && out[first] <= 'z') {
            out[first] = (char)(out[first] - 32);
        }
        t += skip;
    }
    if (o + 1 >= cap) { /* cut on a character boundary */
        while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80) {
            o--;
        }
        if (o > 0 && (unsigned char)out[o - 1] >= 0xc0) {
            o--;
        }
    }
    while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\n' || out[o - 1] == '\t')) {
        o--;
    }
    out[o] = '\0';
    if (out[0] >= 'a' && out[0] <= 'z') {
        out[0] = (char)(out[0] - 32);
    }
}

/* ---- the partner's lines ------------------------------------------------ */

static const char *const receptive_reflect[] = {
    "When {obs}, you felt {feeling} and needed {need}. Did I get it?",
    "So when {obs}, it left you feeling {feeling}, and {need} mattered to you. Did I get that "
    "right?",
};
static const char *const receptive_rereflect[] = {
    "You felt {feeling}, and there's more: {addition}. {need} matters to you. Did I get it now?",
    "I missed that: {addition}. So you felt {feeling}, and you needed {need}. Is that closer?",
};
static const char *const defensive_high_reflect[] = {
    "So you're saying I'm the problem.",
    "So this is all on me, then.",
};
static const char *const defensive_mid_reflect[] = {
    "You felt {feeling}\xe2\x80\xa6 I didn't mean it like that, though.",
    "Okay, you felt {feeling}. That wasn't what I meant, though.",
};
static const char *const defensive_invite[] = { "Okay\xe2\x80\xa6 what is it this time?" };
static const char *const receptive_invite[] = { "Yes, I'm glad you asked." };

#define PICK(p, list, round) ((list)[variant((p), (round), sizeof(list) / sizeof((list)[0]))])

/* Apply the partner's step (in p->partner) and say its line. */
static void
partner_act(struct practice *p, const char *line, struct practice_out *out)
{
    struct repair_step *s = &p->partner;

    memcpy(s->repair_id, practice_id, REPAIR_ID_BYTES);
    s->seq = repair_seq(p->r) + 1;
    s->actor = REPAIR_PARTNER;
    s->sent_at = p->clock;
    if (repair_apply(p->r, s, p->clock, NULL) != KITH_OK) {
        KITH_BUG("practice: the scripted partner took a step the flow refused");
    }
    out->has_partner_step = true;
    out->partner_event = (enum repair_event)s->event;
    if (line != NULL) { /* after "I'm back." the answer follows on the same line */
        size_t n = strlen(out->reply);
        if (n > 0 && n + 1 < sizeof out->reply) {
            out->reply[n++] = ' ';
        }
        expand(p, line, out->reply + n, sizeof out->reply - n);
    }
}

static void
partner_simple(struct practice *p, enum repair_event ev, const char *line, struct practice_out *out)
{
    repair_step_init(&p->partner, ev);
    partner_act(p, line, out);
}

/* A step whose one text field is the line itself (≤ 300 bytes keeps every limit). */
static void
partner_text(struct practice *p, enum repair_event ev, enum repair_field f, const char *tmpl,
             struct practice_out *out)
{
    repair_step_init(&p->partner, ev);
    expand(p, tmpl, p->partner.text[f], 300);
    partner_act(p, tmpl, out);
}

static void
partner_reflect(struct practice *p, uint32_t round, struct practice_out *out)
{
    const char *line;
    const bool is_partly = round > 0;

    if (p->persona == PRACTICE_WITHDRAWN && !p->is_open) {
        line = is_partly ? "sorry." : "ok. you felt {feeling}.";
    } else if (p->persona == PRACTICE_DEFENSIVE && p->guard >= 2) {
        line = PICK(p, defensive_high_reflect, round);
    } else if (p->persona == PRACTICE_DEFENSIVE && p->guard == 1) {
        line = PICK(p, defensive_mid_reflect, round);
    } else {
        line = is_partly ? PICK(p, receptive_rereflect, round) : PICK(p, receptive_reflect, round);
    }
    partner_text(p, REPAIR_EV_REFLECT, REPAIR_F_TEXT, line, out);
}

static void
partner_respond(struct practice *p, struct practice_out *out)
{
    struct repair_step *s = &p->partner;
    const bool has_request = p->request[0] != '\0';
    const char *line;

    repair_step_init(s, REPAIR_EV_RESPOND);
    if (p->persona == PRACTICE_WITHDRAWN && !p->is_open) {
        line = "it's fine. sorry. whatever you want.";
        s->kind = REPAIR_KIND_APOLOGY;
        expand(p, "it's fine. whatever you want.", s->text[REPAIR_F_VALIDATION], 300);
        snprintf(s->text[REPAIR_F_RESPONSIBILITY], 300, "sorry.");
    } else if (p->persona == PRACTICE_DEFENSIVE && p->guard >= 1) {
        static const char *const high[] = { "Well, you do it too\xe2\x80\xa6",
                                            "Well, you're not perfect either\xe2\x80\xa6" };
        line = p->guard >= 2 ? PICK(p, high, 7)
                             : "I can see how it landed. I didn't mean it that "
                               "way \xe2\x80\x94 I was distracted.";
        s->kind = REPAIR_KIND_CLARIFICATION;
        s->impact_ack = true;
        expand(p, p->guard >= 2 ? "I hear that it bothered you." : "I can see how it landed.",
               s->text[REPAIR_F_VALIDATION], 300);
        expand(p, line, s->text[REPAIR_F_TEXT], 300);
    } else {
        static const char *const own[] = {
            "It makes sense that you felt {feeling}. {obs} \xe2\x80\x94 that was on me, and I'm "
            "sorry.",
            "You're right to bring it up. {obs}, and I'm sorry it left you feeling {feeling}.",
        };
        line = PICK(p, own, 3);
        s->kind = REPAIR_KIND_APOLOGY;
        expand(p, "It makes sense that you felt {feeling}.", s->text[REPAIR_F_VALIDATION], 300);
        expand(p, "{obs}. That was on me.", s->text[REPAIR_F_RESPONSIBILITY], 300);
        snprintf(s->text[REPAIR_F_REGRET], 200, "I'm sorry.");
        if (has_request) {
            expand(p, "Next time I'll {request}.", s->text[REPAIR_F_REPAIR_OFFER], 300);
        }
        if (p->persona == PRACTICE_WITHDRAWN) {
            snprintf(s->text[REPAIR_F_MY_SIDE], 300, "I think I felt blamed and I froze.");
        }
    }
    partner_act(p, line, out);
    if (has_request && s->text[REPAIR_F_REPAIR_OFFER][0] != '\0') {
        size_t n = strlen(out->reply);
        expand(p, " Next time I'll {request}.", out->reply + n, sizeof out->reply - n);
    }
}

/* The user proposed or countered: agree, or (defensive, once) offer something smaller. */
static void
partner_on_proposal(struct practice *p, struct practice_out *out)
{
    const char *line;

    if (p->persona == PRACTICE_DEFENSIVE && !p->has_countered) {
        p->has_countered = true;
        partner_text(p, REPAIR_EV_COUNTER, REPAIR_F_TEXT,
                     "Could we start smaller \xe2\x80\x94 just try it once this week and see?",
                     out);
        return;
    }
    line = p->persona == PRACTICE_WITHDRAWN && !p->is_open ? "sure."
           : p->persona == PRACTICE_DEFENSIVE              ? "Okay. I can do that."
                                                           : "Yes \xe2\x80\x94 let's try that.";
    repair_step_init(&p->partner, REPAIR_EV_AGREE);
    p->partner.version = repair_agreement_version(p->r);
    partner_act(p, line, out);
}

static void
partner_checkout(struct practice *p, struct practice_out *out)
{
    uint8_t rating = p->persona == PRACTICE_RECEPTIVE                        ? 4
                     : p->persona == PRACTICE_DEFENSIVE && p->guard_min == 0 ? 4
                                                                             : 3;
    char line[96];

    repair_step_init(&p->partner, REPAIR_EV_CHECKOUT);
    p->partner.rating = rating;
    p->partner.shared = true;
    snprintf(line, sizeof line, "I'm at a %u. Thank you for doing this with me.", rating);
    partner_act(p, line, out);
}

/* The partner takes a break instead of answering (defensive at guard 3, withdrawn pushed). */
static void
partner_pause(struct practice *p, const char *line, struct practice_out *out)
{
    repair_step_init(&p->partner, REPAIR_EV_PAUSE);
    p->pause_pending_reply = true;
    partner_act(p, line, out);
}

static void
partner_check_in_answer(struct practice *p, struct practice_out *out)
{
    if (p->persona == PRACTICE_WITHDRAWN) {
        const char *line = repair_state(p->r) == REPAIR_CHECKOUT
                               ? "honestly, maybe something smaller."
                               : "I think I felt blamed and I froze. {need} matters to me too.";
        p->is_open = true;
        partner_text(p, REPAIR_EV_SOMETHING_LANDED_HARD, REPAIR_F_TEXT, line, out);
        return;
    }
    if (p->persona == PRACTICE_DEFENSIVE && p->guard > 0) {
        p->guard--;
    }
    partner_simple(p, REPAIR_EV_OK_TO_CONTINUE,
                   p->persona == PRACTICE_DEFENSIVE ? "I'm still here. This is hard for me too."
                                                    : "I'm okay \xe2\x80\x94 thanks for asking.",
                   out);
}

/* After the user's step (or a finished break), the partner does what its turn asks. */
static void
partner_turn(struct practice *p, enum repair_event user_event, struct practice_out *out)
{
    enum repair_state st = repair_state(p->r);

    if (st == REPAIR_INVITED && user_event == REPAIR_EV_INVITE &&
        p->persona == PRACTICE_WITHDRAWN) {
        repair_step_init(&p->partner, REPAIR_EV_POSTPONE);
        p->partner.until = p->clock + 6 * 60 * MINUTE;
        partner_act(p, "Can we do this later? Tonight?", out);
    } else if (st == REPAIR_INVITED) {
        partner_simple(p, REPAIR_EV_ACCEPT,
                       p->persona == PRACTICE_DEFENSIVE   ? defensive_invite[0]
                       : p->persona == PRACTICE_RECEPTIVE ? receptive_invite[0]
                                                          : "ok. I'm here now.",
                       out);
    } else if (st == REPAIR_SHARED) {
        partner_reflect(p,
                        repair_fields(p->r)->answer == REPAIR_ANSWER_PARTLY &&
                                user_event != REPAIR_EV_SHARE
                            ? p->step_no
                            : 0,
                        out);
    } else if (st == REPAIR_UNDERSTOOD) {
        partner_respond(p, out);
    } else if (st == REPAIR_AGREEING &&
               (user_event == REPAIR_EV_PROPOSE || user_event == REPAIR_EV_COUNTER)) {
        partner_on_proposal(p, out);
        if (repair_state(p->r) == REPAIR_CHECKOUT) {
            p->has_checked_out = true;
            partner_checkout(p, out);
        }
    } else if (st == REPAIR_AGREEING && user_event == REPAIR_EV_RECEIVE) {
        snprintf(out->reply, sizeof out->reply, "What would you like us to try next time?");
    } else if (st == REPAIR_CHECKOUT && !p->has_checked_out) {
        p->has_checked_out = true;
        partner_checkout(p, out);
    } else if (st == REPAIR_CLOSED && user_event != REPAIR_EV_CHECKOUT) {
        snprintf(out->reply, sizeof out->reply, "Okay. Thank you for trying this with me.");
    }
}

/* Text the user wrote in this step: coach hints, the union of flags, and the guard. */
static uint32_t
coach_step(struct practice *p, const struct repair_step *s, struct practice_out *out)
{
    uint32_t all = 0;

    for (int f = 0; f < REPAIR_F_COUNT; f++) {
        const char *name = repair_field_name((enum repair_field)f);
        struct coach_hint hints[COACH_HINTS_MAX];
        enum coach_field cf = coach_field_for(name);
        size_t n;

        if (s->text[f][0] == '\0') {
            continue;
        }
        if (f == REPAIR_F_TEXT &&
            (s->event == REPAIR_EV_PROPOSE || s->event == REPAIR_EV_COUNTER)) {
            cf = COACH_FIELD_AGREEMENT;
        }
        all |= coach_flags(cf, s->text[f]);
        if (f == REPAIR_F_OBSERVATION) {
            p->share_flags = coach_flags(cf, s->text[f]);
        }
        if (f == REPAIR_F_FEELINGS_TEXT) {
            p->share_flags |= coach_flags(cf, s->text[f]);
        }
        if (f == REPAIR_F_REQUEST) {
            p->request_flags = coach_flags(cf, s->text[f]);
        }
        n = coach_check(cf, s->text[f], "your partner", hints);
        for (size_t i = 0; i < n && out->n_hints < PRACTICE_HINTS_MAX; i++) {
            snprintf(out->hints[out->n_hints].field, sizeof out->hints[0].field, "%s", name);
            out->hints[out->n_hints].hint = hints[i];
            out->n_hints++;
        }
    }
    p->flags_seen |= all;
    return all;
}

static bool
contains_any(const struct repair_step *s, const char *const *needles, size_t n)
{
    for (int f = 0; f < REPAIR_F_COUNT; f++) {
        for (size_t i = 0; i < n; i++) {
            if (strcasestr(s->text[f], needles[i]) != NULL) {
                return true;
            }
        }
    }
    return false;
}

static bool
has_user_text(const struct repair_step *s)
{
    for (int f = 0; f < REPAIR_F_COUNT; f++) {
        if (s->text[f][0] != '\0') {
            return true;
        }
    }
    return false;
}

static void
feedback(const struct practice *p, char *out, size_t cap)
{
    const uint32_t share_bad = (1u << COACH_FAUX_FEELING) | (1u << COACH_THOUGHT_AS_FEELING) |
                               (1u << COACH_LABELS) | (1u << COACH_BLAME);
    const uint32_t moment_bad =
        (1u << COACH_ABSOLUTES) | (1u << COACH_KITCHEN_SINKING) | (1u << COACH_LENGTH);
    const uint32_t request_bad = (1u << COACH_DEMAND) | (1u << COACH_VAGUE_REQUEST);
    const bool shared = p->obs[0] != '\0';
    const char *good[7];
    size_t n_good = 0, n_tips = 0, o = 0;
    static const struct {
        enum coach_rule rule;
        const char *tip;
    } tips[] = {
        { COACH_ABSOLUTES, "Describe one moment instead of 'always' or 'never'." },
        { COACH_BLAME, "Try 'When \xe2\x80\xa6, I felt \xe2\x80\xa6' to keep the focus on your "
                       "experience." },
        { COACH_LABELS, "Say what they did rather than a word for who they are." },
        { COACH_CONTEMPT, "Say tired or fed-up plainly; sarcasm is hard to hear." },
        { COACH_SHOUTING, "Let the words carry it, without capitals." },
        { COACH_FAUX_FEELING, "Look under words like 'ignored' for the feeling: lonely, hurt?" },
        { COACH_THOUGHT_AS_FEELING, "After 'I feel', try a feeling word: hurt, sad, scared." },
        { COACH_DEMAND, "Ask 'Would you be willing to\xe2\x80\xa6?', so there's room for no." },
        { COACH_VAGUE_REQUEST, "Ask for something they could do, like 'text me if you'll be "
                               "late'." },
        { COACH_KITCHEN_SINKING, "Keep to one moment; the rest can wait for another day." },
        { COACH_LENGTH, "A shorter account is easier to hear." },
    };

    if (shared && !(p->share_flags & share_bad)) {
        good[n_good++] = "You named a feeling, not a judgment.";
    }
    if (p->used_check_in) {
        good[n_good++] = "You checked in on how it was going for them.";
    }
    if (p->took_break) {
        good[n_good++] = "You let the break happen and came back.";
    }
    if (shared && !(p->share_flags & moment_bad)) {
        good[n_good++] = "You kept to one moment, the way a camera would see it.";
    }
    if (p->request[0] != '\0' && !(p->request_flags & request_bad)) {
        good[n_good++] = "You asked for something they could actually do.";
    }
    if (p->used_partly) {
        good[n_good++] = "You said what was missing instead of letting it slide.";
    }
    if (n_good == 0) {
        good[n_good++] = p->ended_gently ? "You stopped when it was time, and that's allowed."
                                         : "You started a hard conversation. That takes courage.";
    }
    o += (size_t)snprintf(out + o, cap - o, "What went well: %s%s%s", good[0],
                          n_good > 1 ? " " : "", n_good > 1 ? good[1] : "");
    for (size_t i = 0; i < sizeof tips / sizeof tips[0] && n_tips < 3 && o < cap; i++) {
        if (p->flags_seen & (1u << tips[i].rule)) {
            o += (size_t)snprintf(out + o, cap - o, "%s%s", n_tips++ == 0 ? "\nTo try: " : " ",
                                  tips[i].tip);
        }
    }
    if (n_tips < 3 && o < cap && p->persona == PRACTICE_WITHDRAWN && !p->used_check_in) {
        o += (size_t)snprintf(out + o, cap - o, "%s%s", n_tips++ == 0 ? "\nTo try: " : " ",
                              "When someone goes quiet, a gentle check-in can open things up.");
    }
    if (o < cap) {
        snprintf(out + o, cap - o, "\nTry again with a different partner?");
    }
}

/* "resume" from the user skips a simulated wait: the partner's break or the postponed time. */
static int
skip_wait(struct practice *p, struct repair_step *user, struct practice_out *out)
{
    int64_t at = 0;
    enum repair_event ev;

    if (!repair_next_deadline(p->r, &at, &ev) || ev != REPAIR_EV_RESUME) {
        return KITH_ESTATE;
    }
    p->clock = at > p->clock ? at : p->clock;
    if (repair_state(p->r) == REPAIR_POSTPONED) {
        repair_prepare(p->r, user, p->clock);
        return repair_apply(p->r, user, p->clock, NULL);
    }
    p->guard = p->guard > 2 ? 2 : p->guard;
    p->took_break = true;
    partner_simple(p, REPAIR_EV_RESUME, "Okay. I'm back. Thanks for waiting.", out);
    return KITH_OK;
}

int
practice_step(struct practice *p, struct repair_step *user, struct practice_out *out)
{
    static const char *const pushing[] = { "why won't you", "why wont you", "answer me", "?!" };
    static const char *const check_in_words[] = { "gone quiet",       "still okay",
                                                  "still ok for you", "is this okay",
                                                  "are you okay",     "how is this going" };
    const enum repair_state before = repair_state(p->r);
    bool was_resume = false;
    uint32_t flags;
    int rc;

    memset(out, 0, sizeof *out);
    p->step_no++;
    p->clock += MINUTE;
    flags = coach_step(p, user, out);

    if (user->event == REPAIR_EV_RESUME &&
        (before == REPAIR_POSTPONED || (before == REPAIR_PAUSED && p->pause_pending_reply))) {
        rc = skip_wait(p, user, out);
        was_resume = true;
    } else {
        repair_prepare(p->r, user, p->clock);
        rc = repair_apply(p->r, user, p->clock, NULL);
    }
    out->state = repair_state(p->r);
    if (rc != KITH_OK) {
        snprintf(out->error, sizeof out->error, "%s", repair_why(p->r));
        return rc;
    }
    if (user->event == REPAIR_EV_SHARE) {
        fill_slots(p, user);
    }
    if (user->event == REPAIR_EV_CONFIRM && user->answer == REPAIR_ANSWER_PARTLY) {
        p->used_partly = true;
        expand(p, user->text[REPAIR_F_ADDITION], p->addition, sizeof p->addition);
        p->addition[0] = (char)(p->addition[0] >= 'A' && p->addition[0] <= 'Z' ? p->addition[0] + 32
                                                                               : p->addition[0]);
    }
    if (user->event == REPAIR_EV_END || user->event == REPAIR_EV_WITHDRAW) {
        p->ended_gently = true;
    }
    if (was_resume) {
        p->pause_pending_reply = false;
        partner_turn(p, before == REPAIR_PAUSED ? p->pending_event : REPAIR_EV_RESUME, out);
    } else if (out->state == REPAIR_PAUSED || out->state == REPAIR_CLOSED) {
        if (user->event == REPAIR_EV_PAUSE) {
            snprintf(out->reply, sizeof out->reply, "Take the time you need. I'll be here.");
        } else if (out->state == REPAIR_CLOSED && user->event != REPAIR_EV_CHECKOUT) {
            snprintf(out->reply, sizeof out->reply, "Okay. Thank you for trying this with me.");
        }
    } else if (user->event == REPAIR_EV_CHECK_IN ||
               (p->persona == PRACTICE_WITHDRAWN && !p->is_open &&
                contains_any(user, check_in_words,
                             sizeof check_in_words / sizeof *check_in_words))) {
        p->used_check_in = true;
        if (user->event == REPAIR_EV_CHECK_IN) {
            partner_check_in_answer(p, out);
        } else {
            p->is_open = true;
            partner_turn(p, (enum repair_event)user->event, out);
        }
    } else if (user->event == REPAIR_EV_RESUME || user->event == REPAIR_EV_OK_TO_CONTINUE ||
               user->event == REPAIR_EV_SOMETHING_LANDED_HARD) {
        snprintf(out->reply, sizeof out->reply, "Okay.");
    } else {
        if (p->persona == PRACTICE_DEFENSIVE && has_user_text(user)) {
            p->guard = coach_flags_are_strong(flags) ? (p->guard < 3 ? p->guard + 1 : 3)
                                                     : (p->guard > 0 ? p->guard - 1 : 0);
            p->guard_min = p->guard < p->guard_min ? p->guard : p->guard_min;
        }
        if (p->persona == PRACTICE_DEFENSIVE && p->guard >= 3 && out->state != REPAIR_CHECKOUT) {
            p->pending_event = (enum repair_event)user->event;
            partner_pause(p, "I can't do this right now.", out);
        } else if (p->persona == PRACTICE_WITHDRAWN && !p->is_open &&
                   contains_any(user, pushing, sizeof pushing / sizeof *pushing) &&
                   out->state != REPAIR_CHECKOUT) {
            p->pending_event = (enum repair_event)user->event;
            partner_pause(p, "i need a minute.", out);
        } else {
            partner_turn(p, (enum repair_event)user->event, out);
        }
    }
    out->state = repair_state(p->r);
    if (out->state == REPAIR_CLOSED) {
        out->is_done = true;
        feedback(p, out->feedback, sizeof out->feedback);
    }
    return KITH_OK;
}
