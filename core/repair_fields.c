/*
 * repair_fields: the vocabulary of a repair step (DOMAIN.md §2.2): names of
 * states, events and outcomes, the feelings and needs inventories, each
 * field's character limit per event, and the strict check that a step
 * carries exactly the fields its event allows. Lengths count UTF-8
 * characters (code points), not bytes; text must be valid UTF-8, trimmed,
 * and free of control characters other than newline and tab.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/repair_impl.h"

static const char *const state_names[REPAIR_STATE_COUNT] = {
    "draft",     "invited",  "postponed", "accepted", "shared", "reflected", "understood",
    "responded", "agreeing", "agreed",    "checkout", "paused", "closed",
};
static const char *const event_names[REPAIR_EV_COUNT] = {
    "invite", "discard", "accept",       "postpone",       "decline",    "withdraw",
    "share",  "reflect", "confirm",      "respond",        "receive",    "propose",
    "agree",  "counter", "no_agreement", "checkout",       "pause",      "resume",
    "extend", "end",     "check_in",     "ok_to_continue", "need_break", "something_landed_hard",
    "expire",
};
static const char *const outcome_names[REPAIR_OUTCOME_COUNT] = {
    "none", "repaired", "heard", "declined", "withdrawn", "ended", "expired", "discarded",
};
static const char *const feeling_names[] = {
    "hurt",        "sad",        "lonely",  "scared",       "anxious",     "worried",
    "confused",    "frustrated", "angry",   "disappointed", "embarrassed", "ashamed",
    "overwhelmed", "tired",      "tense",   "vulnerable",   "numb",        "uneasy",
    "relieved",    "calm",       "hopeful", "grateful",     "tender",      "touched",
};
static const char *const need_names[] = {
    "to be heard", "understanding", "acknowledgment", "reassurance",    "respect",
    "honesty",     "consideration", "inclusion",      "closeness",      "support",
    "rest",        "space",         "safety",         "predictability", "trust",
    "choice",      "fairness",      "clarity",        "care",           "to matter",
};
static const char *const field_names[REPAIR_F_COUNT] = {
    "topic",     "note",     "reason",       "observation",    "feelings_text", "request",
    "text",      "addition", "validation",   "responsibility", "regret",        "repair_offer",
    "next_time", "my_side",  "reflect_back", "phrase",
};
static const char *const list_names[REPAIR_L_COUNT] = {
    "feelings", "needs", "feeling_guesses", "need_guesses", "my_side_feelings", "my_side_needs",
};

const char *
repair_state_name(enum repair_state st)
{
    return (unsigned)st < REPAIR_STATE_COUNT ? state_names[st] : "unknown";
}

const char *
repair_event_name(enum repair_event ev)
{
    return (unsigned)ev < REPAIR_EV_COUNT ? event_names[ev] : "unknown";
}

const char *
repair_outcome_name(enum repair_outcome o)
{
    return (unsigned)o < REPAIR_OUTCOME_COUNT ? outcome_names[o] : "unknown";
}

const char *
repair_field_name(enum repair_field f)
{
    return (unsigned)f < REPAIR_F_COUNT ? field_names[f] : "unknown";
}

int
repair_event_from_name(const char *name, enum repair_event *ev)
{
    for (int i = 0; i < REPAIR_EV_COUNT; i++) {
        if (strcmp(name, event_names[i]) == 0) {
            *ev = (enum repair_event)i;
            return KITH_OK;
        }
    }
    return KITH_EINVAL;
}

size_t
repair_feeling_count(void)
{
    return sizeof feeling_names / sizeof feeling_names[0];
}

size_t
repair_need_count(void)
{
    return sizeof need_names / sizeof need_names[0];
}

const char *
repair_feeling_name(uint8_t id)
{
    return id < repair_feeling_count() ? feeling_names[id] : NULL;
}

const char *
repair_need_name(uint8_t id)
{
    return id < repair_need_count() ? need_names[id] : NULL;
}

/* Inventory ids compare with '_' standing for ' ' ("to_be_heard"). */
static bool
id_name_equal(const char *name, const char *id)
{
    for (; *name != '\0' && *id != '\0'; name++, id++) {
        char c = *name == '_' ? ' ' : *name;
        if (c != *id) {
            return false;
        }
    }
    return *name == '\0' && *id == '\0';
}

int
repair_feeling_id(const char *name, uint8_t *id)
{
    for (size_t i = 0; i < repair_feeling_count(); i++) {
        if (id_name_equal(name, feeling_names[i])) {
            *id = (uint8_t)i;
            return KITH_OK;
        }
    }
    return KITH_EINVAL;
}

int
repair_need_id(const char *name, uint8_t *id)
{
    for (size_t i = 0; i < repair_need_count(); i++) {
        if (id_name_equal(name, need_names[i])) {
            *id = (uint8_t)i;
            return KITH_OK;
        }
    }
    return KITH_EINVAL;
}

size_t
repair_field_limit(enum repair_event ev, enum repair_field f)
{
    switch (ev) {
    case REPAIR_EV_INVITE:
        return f == REPAIR_F_TOPIC ? 80 : 0;
    case REPAIR_EV_POSTPONE:
        return f == REPAIR_F_NOTE ? 300 : 0;
    case REPAIR_EV_DECLINE:
    case REPAIR_EV_PAUSE:
    case REPAIR_EV_NEED_BREAK:
        return f == REPAIR_F_REASON ? 80 : 0;
    case REPAIR_EV_SHARE:
        return f == REPAIR_F_OBSERVATION     ? 500
               : f == REPAIR_F_FEELINGS_TEXT ? 80
               : f == REPAIR_F_REQUEST       ? 300
                                             : 0;
    case REPAIR_EV_REFLECT:
        return f == REPAIR_F_TEXT ? 500 : 0;
    case REPAIR_EV_CONFIRM:
        return f == REPAIR_F_ADDITION ? 300 : 0;
    case REPAIR_EV_RESPOND:
        switch (f) {
        case REPAIR_F_TEXT:
            return 500;
        case REPAIR_F_REGRET:
            return 200;
        case REPAIR_F_VALIDATION:
        case REPAIR_F_RESPONSIBILITY:
        case REPAIR_F_REPAIR_OFFER:
        case REPAIR_F_NEXT_TIME:
        case REPAIR_F_MY_SIDE:
            return 300;
        default:
            return 0;
        }
    case REPAIR_EV_RECEIVE:
        return f == REPAIR_F_NOTE || f == REPAIR_F_REFLECT_BACK ? 300 : 0;
    case REPAIR_EV_PROPOSE:
    case REPAIR_EV_COUNTER:
    case REPAIR_EV_SOMETHING_LANDED_HARD:
        return f == REPAIR_F_TEXT ? 300 : 0;
    case REPAIR_EV_END:
        return f == REPAIR_F_PHRASE ? 80 : 0;
    default:
        return 0;
    }
}

/* Code points in s[0..len), and whether it is valid UTF-8 (no overlongs, no surrogates). */
size_t
repair_impl_utf8_chars(const char *s, size_t len, bool *valid)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t chars = 0;
    size_t i = 0;

    *valid = true;
    while (i < len) {
        unsigned c = p[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        uint32_t cp;

        if (n == 0 || i + n > len) {
            *valid = false;
            return chars;
        }
        cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                *valid = false;
                return chars;
            }
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            *valid = false;
            return chars;
        }
        i += n;
        chars++;
    }
    return chars;
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

static int
check_text(const char *text, size_t limit, const char **why)
{
    const char *nul = memchr(text, '\0', REPAIR_TEXT_CAP);
    size_t len;
    bool valid;

    if (nul == NULL) {
        *why = "A field is too long.";
        return KITH_EINVAL;
    }
    len = (size_t)(nul - text);
    if (len == 0) {
        return KITH_OK;
    }
    if (limit == 0) {
        *why = "This step carries a field that doesn't belong to it.";
        return KITH_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
            *why = "A field contains a control character.";
            return KITH_EINVAL;
        }
    }
    if (is_space(text[0]) || is_space(text[len - 1])) {
        *why = "A field has spaces at its start or end.";
        return KITH_EINVAL;
    }
    if (repair_impl_utf8_chars(text, len, &valid) > limit || !valid) {
        *why = valid ? "That's longer than this step allows; a shorter version is kinder to "
                       "read."
                     : "A field isn't valid UTF-8 text.";
        return KITH_EINVAL;
    }
    return KITH_OK;
}

/* Which lists an event carries, and their minimum length. */
static bool
list_allowed(enum repair_event ev, int l, int *min)
{
    *min = 0;
    switch (ev) {
    case REPAIR_EV_SHARE:
        *min = 1;
        return l == REPAIR_L_FEELINGS || l == REPAIR_L_NEEDS;
    case REPAIR_EV_REFLECT:
        return l == REPAIR_L_FEELING_GUESSES || l == REPAIR_L_NEED_GUESSES;
    case REPAIR_EV_RESPOND:
        return l == REPAIR_L_MY_SIDE_FEELINGS || l == REPAIR_L_MY_SIDE_NEEDS;
    default:
        return false;
    }
}

static bool
is_feeling_list(int l)
{
    return l == REPAIR_L_FEELINGS || l == REPAIR_L_FEELING_GUESSES ||
           l == REPAIR_L_MY_SIDE_FEELINGS;
}

static int
check_lists(const struct repair_step *s, const char **why)
{
    for (int l = 0; l < REPAIR_L_COUNT; l++) {
        int min;
        bool allowed = list_allowed((enum repair_event)s->event, l, &min);
        size_t n = s->list_len[l];
        size_t count = is_feeling_list(l) ? repair_feeling_count() : repair_need_count();

        if (!allowed && n > 0) {
            *why = "This step carries a field that doesn't belong to it.";
            return KITH_EINVAL;
        }
        if (n > REPAIR_PICKS_MAX || (allowed && (int)n < min)) {
            *why = l == REPAIR_L_NEEDS ? "Pick one to three needs." : "Pick one to three feelings.";
            return KITH_EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
            if (s->list[l][i] >= count) {
                *why = "That isn't one of the feelings or needs kith knows.";
                return KITH_EINVAL;
            }
            for (size_t k = 0; k < i; k++) {
                if (s->list[l][k] == s->list[l][i]) {
                    *why = "Each feeling or need counts once.";
                    return KITH_EINVAL;
                }
            }
        }
    }
    return KITH_OK;
}

static bool
has(const struct repair_step *s, enum repair_field f)
{
    return s->text[f][0] != '\0';
}

static int
fail(const char **why, const char *text)
{
    *why = text;
    return KITH_EINVAL;
}

static int
check_respond(const struct repair_step *s, const char **why)
{
    const bool apology = s->kind == REPAIR_KIND_APOLOGY || s->kind == REPAIR_KIND_BOTH;
    const bool clarification = s->kind == REPAIR_KIND_CLARIFICATION || s->kind == REPAIR_KIND_BOTH;

    if (!has(s, REPAIR_F_VALIDATION)) {
        return fail(why, "Start with what makes sense to you (validation).");
    }
    if (!apology && !clarification) {
        return fail(why, "Choose an apology, a clarification, or both.");
    }
    if (apology && !has(s, REPAIR_F_RESPONSIBILITY)) {
        return fail(why, "An apology starts with owning your part (responsibility).");
    }
    if (!apology && (has(s, REPAIR_F_RESPONSIBILITY) || has(s, REPAIR_F_REGRET) ||
                     has(s, REPAIR_F_REPAIR_OFFER) || has(s, REPAIR_F_NEXT_TIME))) {
        return fail(why, "Those apology fields go with kind=apology or both.");
    }
    if (clarification && (!has(s, REPAIR_F_TEXT) || !s->impact_ack)) {
        return fail(why, "A clarification needs your explanation and the box 'I see it affected "
                         "you, whatever I meant'.");
    }
    if (!clarification && (has(s, REPAIR_F_TEXT) || s->impact_ack)) {
        return fail(why, "The explanation goes with kind=clarification or both.");
    }
    return KITH_OK;
}

/* Scalars and required fields, event by event. */
static int
check_event(const struct repair_step *s, const char **why)
{
    const enum repair_event ev = (enum repair_event)s->event;
    const bool until_ok = ev == REPAIR_EV_POSTPONE || ev == REPAIR_EV_PAUSE ||
                          ev == REPAIR_EV_NEED_BREAK || ev == REPAIR_EV_EXTEND;
    const bool answer_ok = ev == REPAIR_EV_CONFIRM || ev == REPAIR_EV_RECEIVE;

    if ((!until_ok && s->until != 0) || s->until < 0 || (ev != REPAIR_EV_INVITE && s->when != 0) ||
        s->when < 0 || (!answer_ok && s->answer != 0) ||
        (ev != REPAIR_EV_RESPOND && (s->kind != 0 || s->impact_ack)) ||
        (ev != REPAIR_EV_CHECKOUT && (s->shared || s->rating != 0 || s->word != REPAIR_NO_ID)) ||
        (ev != REPAIR_EV_AGREE && s->version != 0)) {
        return fail(why, "This step carries a field that doesn't belong to it.");
    }
    switch (ev) {
    case REPAIR_EV_POSTPONE:
    case REPAIR_EV_EXTEND:
        return s->until == 0 ? fail(why, "Pick a time to come back to it.") : KITH_OK;
    case REPAIR_EV_SHARE:
        return has(s, REPAIR_F_OBSERVATION) ? KITH_OK
                                            : fail(why, "Say what happened, as a camera would "
                                                        "have seen it.");
    case REPAIR_EV_REFLECT:
        return has(s, REPAIR_F_TEXT) ? KITH_OK : fail(why, "Say back what you heard first.");
    case REPAIR_EV_CONFIRM:
        if (s->answer < REPAIR_ANSWER_YES || s->answer > REPAIR_ANSWER_CLOSE_ENOUGH) {
            return fail(why, "Answer yes, partly, or close enough.");
        }
        if ((s->answer == REPAIR_ANSWER_PARTLY) != has(s, REPAIR_F_ADDITION)) {
            return fail(why, s->answer == REPAIR_ANSWER_PARTLY ? "Add what's missing."
                                                               : "An addition goes with 'partly'.");
        }
        return KITH_OK;
    case REPAIR_EV_RESPOND:
        return check_respond(s, why);
    case REPAIR_EV_RECEIVE:
        if (s->answer != REPAIR_ANSWER_OK && s->answer != REPAIR_ANSWER_MORE) {
            return fail(why, "Answer 'that helps' (ok) or 'a little more' (more).");
        }
        if ((s->answer == REPAIR_ANSWER_OK && has(s, REPAIR_F_NOTE)) ||
            (s->answer == REPAIR_ANSWER_MORE && has(s, REPAIR_F_REFLECT_BACK))) {
            return fail(why, "This step carries a field that doesn't belong to it.");
        }
        return KITH_OK;
    case REPAIR_EV_PROPOSE:
    case REPAIR_EV_COUNTER:
        return has(s, REPAIR_F_TEXT) ? KITH_OK : fail(why, "Say the one small thing to try.");
    case REPAIR_EV_AGREE:
        return s->version == 0 ? fail(why, "Say which version you agree to.") : KITH_OK;
    case REPAIR_EV_CHECKOUT:
        if (s->rating > 5 || (s->word != REPAIR_NO_ID && s->word >= repair_feeling_count())) {
            return fail(why, "A rating is 1 to 5, and the word one of the feelings.");
        }
        return KITH_OK;
    default:
        return KITH_OK;
    }
}

int
repair_impl_validate(const struct repair_step *s, const char **why)
{
    int rc;

    if (s->event >= REPAIR_EV_COUNT || s->actor > REPAIR_PARTNER) {
        return fail(why, "This step is damaged.");
    }
    for (int f = 0; f < REPAIR_F_COUNT; f++) {
        rc = check_text(s->text[f],
                        repair_field_limit((enum repair_event)s->event, (enum repair_field)f), why);
        if (rc != KITH_OK) {
            return rc;
        }
    }
    rc = check_event(s, why);
    if (rc != KITH_OK) {
        return rc;
    }
    return check_lists(s, why);
}

/* ---- FIELD=VALUE, as the CLI and practice scripts give them ------------- */

static int
parse_i64(const char *v, int64_t *out)
{
    char *end = NULL;
    long long n;

    if (v == NULL || *v == '\0' || (*v != '-' && (*v < '0' || *v > '9'))) {
        return KITH_EINVAL;
    }
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0') {
        return KITH_EINVAL;
    }
    *out = n;
    return KITH_OK;
}

static int
set_list(struct repair_step *s, int l, const char *value, const char **why)
{
    const char *p = value;
    uint8_t n = 0;

    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char item[32];
        uint8_t id;
        int rc;

        while (len > 0 && is_space(*p)) {
            p++;
            len--;
        }
        while (len > 0 && is_space(p[len - 1])) {
            len--;
        }
        if (len == 0 || len >= sizeof item || n >= REPAIR_PICKS_MAX) {
            return fail(why, len == 0 || len >= sizeof item ? "That isn't one of the feelings "
                                                              "or needs kith knows."
                                                            : "Pick at most three.");
        }
        memcpy(item, p, len);
        item[len] = '\0';
        rc = is_feeling_list(l) ? repair_feeling_id(item, &id) : repair_need_id(item, &id);
        if (rc != KITH_OK) {
            return fail(why, "That isn't one of the feelings or needs kith knows.");
        }
        s->list[l][n++] = id;
        p = comma != NULL ? comma + 1 : NULL;
    }
    s->list_len[l] = n;
    return KITH_OK;
}

static int
set_flag(struct repair_step *s, const char *name)
{
    static const char *const answers[] = { "", "yes", "partly", "close_enough", "ok", "more" };
    static const char *const kinds[] = { "", "apology", "clarification", "both" };

    for (uint8_t i = 1; i < sizeof answers / sizeof answers[0]; i++) {
        if (strcmp(name, answers[i]) == 0) {
            s->answer = i;
            return KITH_OK;
        }
    }
    for (uint8_t i = 1; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(name, kinds[i]) == 0) {
            s->kind = i;
            return KITH_OK;
        }
    }
    if (strcmp(name, "shared") == 0 || strcmp(name, "impact_ack") == 0) {
        *(name[0] == 's' ? &s->shared : &s->impact_ack) = true;
        return KITH_OK;
    }
    return KITH_EINVAL;
}

static int
set_scalar(struct repair_step *s, const char *name, const char *value, const char **why)
{
    int64_t n = 0;
    bool is_bool = strcmp(name, "shared") == 0 || strcmp(name, "impact_ack") == 0;

    if (is_bool) {
        bool yes =
            strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0;
        if (!yes && strcmp(value, "no") != 0 && strcmp(value, "false") != 0 &&
            strcmp(value, "0") != 0) {
            return fail(why, "Say yes or no.");
        }
        *(name[0] == 's' ? &s->shared : &s->impact_ack) = yes;
        return KITH_OK;
    }
    if (strcmp(name, "answer") == 0 || strcmp(name, "kind") == 0) {
        return set_flag(s, value) == KITH_OK ? KITH_OK
                                             : fail(why, "That answer isn't one of the choices.");
    }
    if (strcmp(name, "word") == 0) {
        return repair_feeling_id(value, &s->word) == KITH_OK
                   ? KITH_OK
                   : fail(why, "That isn't one of the feelings kith knows.");
    }
    if (strcmp(name, "when") == 0 && strcmp(value, "now") == 0) {
        s->when = 0;
        return KITH_OK;
    }
    if (parse_i64(value, &n) != KITH_OK || n < 0) {
        return fail(why, "That needs a whole number.");
    }
    if (strcmp(name, "until") == 0) {
        s->until = n;
    } else if (strcmp(name, "when") == 0) {
        s->when = n;
    } else if (strcmp(name, "rating") == 0 && n <= 5) {
        s->rating = (uint8_t)n;
    } else if ((strcmp(name, "v") == 0 || strcmp(name, "version") == 0) && n <= UINT32_MAX) {
        s->version = (uint32_t)n;
    } else {
        return fail(why, strcmp(name, "rating") == 0 ? "A rating is 1 to 5."
                                                     : "That isn't a field kith knows.");
    }
    return KITH_OK;
}

int
repair_step_set_field(struct repair_step *s, const char *name, const char *value, const char **why)
{
    static const char *const scalars[] = { "until",  "when",   "answer", "kind", "impact_ack",
                                           "shared", "rating", "word",   "v",    "version" };

    *why = "";
    if (value == NULL) {
        return set_flag(s, name) == KITH_OK ? KITH_OK
                                            : fail(why, "That isn't a field kith "
                                                        "knows.");
    }
    for (int f = 0; f < REPAIR_F_COUNT; f++) {
        if (strcmp(name, field_names[f]) == 0) {
            size_t len = strlen(value);
            while (len > 0 && is_space(*value)) {
                value++;
                len--;
            }
            while (len > 0 && is_space(value[len - 1])) {
                len--;
            }
            if (len >= REPAIR_TEXT_CAP) {
                return fail(why, "That's longer than this step allows.");
            }
            memcpy(s->text[f], value, len);
            s->text[f][len] = '\0';
            return KITH_OK;
        }
    }
    for (int l = 0; l < REPAIR_L_COUNT; l++) {
        if (strcmp(name, list_names[l]) == 0) {
            return set_list(s, l, value, why);
        }
    }
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        if (strcmp(name, scalars[i]) == 0) {
            return set_scalar(s, name, value, why);
        }
    }
    return fail(why, "That isn't a field kith knows.");
}
