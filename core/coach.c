/*
 * coach: the wording coach table (DOMAIN.md §2.6). Text is folded (ASCII
 * lower case, curly apostrophes to ') into a bounded copy, split into words
 * (letters, digits, apostrophes and any non-ASCII byte), and each rule looks
 * for its words or phrases on word boundaries. Only the first COACH_SCAN_MAX
 * bytes of a field are read; repair fields are far shorter.
 */
#include <stdio.h>
#include <string.h>

#include "core/coach.h"

#define COACH_SCAN_MAX  4096
#define COACH_WORDS_MAX 1024
#define SKIP            " If that's not what you meant, skip this."

struct folded {
    char text[COACH_SCAN_MAX + 1];
    size_t start[COACH_WORDS_MAX];
    size_t len[COACH_WORDS_MAX];
    size_t n;
};

static const char *const rule_names[COACH_RULE_COUNT] = {
    "contempt", "labels",        "blame",           "absolutes",
    "shouting", "non_apology",   "faux_feeling",    "thought_as_feeling",
    "demand",   "vague_request", "kitchen_sinking", "length",
};

static const char *const fixed_hints[COACH_RULE_COUNT] = {
    [COACH_CONTEMPT] = "This might read as contempt, even if you're just tired. Say it plainly?",
    [COACH_LABELS] = "This word is a judgment, and judgments tend to start a defence. What did "
                     "they do, exactly?",
    [COACH_BLAME] = "Try 'When \xe2\x80\xa6, I felt \xe2\x80\xa6' \xe2\x80\x94 it keeps the focus "
                    "on your experience.",
    [COACH_SHOUTING] = "Big letters can read as shouting.",
    [COACH_NON_APOLOGY] = "This puts the focus on their feelings. Owning your part lands better: "
                          "'I did\xe2\x80\xa6, and I'm sorry.'",
    [COACH_THOUGHT_AS_FEELING] = "That sounds like a thought about what happened. What did you "
                                 "feel inside \xe2\x80\x94 hurt, sad, scared?",
    [COACH_DEMAND] = "Requests land better as 'Would you be willing to\xe2\x80\xa6?' \xe2\x80\x94 "
                     "and leave room for no.",
    [COACH_VAGUE_REQUEST] = "Can you ask for something they could do, like 'text me if you'll "
                            "be late'?",
    [COACH_KITCHEN_SINKING] = "One moment at a time makes repair easier. Save the rest for "
                              "later?",
    [COACH_LENGTH] = "Shorter is kinder to both of you.",
};

/* Faux feelings: the word, two feelings that may lie under it, and a need. */
static const struct faux {
    const char *word;
    const char *feeling_a, *feeling_b, *need;
} faux_map[] = {
    { "ignored", "lonely", "hurt", "connection" },
    { "abandoned", "scared", "lonely", "support" },
    { "betrayed", "hurt", "angry", "trust" },
    { "rejected", "hurt", "lonely", "inclusion" },
    { "misunderstood", "frustrated", "lonely", "understanding" },
    { "disrespected", "hurt", "angry", "respect" },
    { "used", "hurt", "angry", "consideration" },
    { "attacked", "scared", "angry", "safety" },
    { "manipulated", "uneasy", "angry", "honesty" },
    { "excluded", "lonely", "hurt", "inclusion" },
    { "left out", "lonely", "sad", "inclusion" },
    { "judged", "embarrassed", "hurt", "understanding" },
    { "criticized", "hurt", "embarrassed", "acknowledgment" },
    { "criticised", "hurt", "embarrassed", "acknowledgment" },
    { "blamed", "hurt", "frustrated", "fairness" },
    { "unappreciated", "sad", "disappointed", "acknowledgment" },
    { "let down", "disappointed", "sad", "trust" },
    { "dismissed", "hurt", "frustrated", "to be heard" },
    { "invalidated", "hurt", "confused", "understanding" },
};

static const char *const feel_openers[] = { "i feel",       "i felt",        "i'm feeling",
                                            "i am feeling", "i was feeling", "i've felt",
                                            "i have felt" };
static const char *const intensifiers[] = { "so",      "really",   "very",     "completely",
                                            "totally", "quite",    "pretty",   "kind of",
                                            "a bit",   "a little", "somewhat", "" };
static const char *const thought_words[] = { "that", "like", "as if", "as though", "you",     "he",
                                             "she",  "they", "we",    "it",        "everyone" };
static const char *const absolutes[] = { "always",     "never",        "every time",
                                         "constantly", "all the time", "every single time" };
static const char *const labels[] = { "selfish",      "lazy",     "rude",     "careless",
                                      "immature",     "crazy",    "toxic",    "narcissist",
                                      "narcissistic", "dramatic", "pathetic", "stupid" };
static const char *const blames[] = { "you made me", "your fault", "because of you", "you're so",
                                      "you are so" };
static const char *const demands[] = { "should", "must",        "have to",
                                       "has to", "you need to", "you've got to" };
static const char *const vagues[] = { "respect me", "care more", "be better", "stop being",
                                      "don't",      "dont",      "do not" };
static const char *const contempts[] = { "whatever", "obviously", "yeah right" };
static const char *const non_apologies[] = { "sorry if you", "sorry you feel",
                                             "sorry that you feel", "sorry but",
                                             "sorry you're upset" };
static const char *const sinks[] = { "and another thing", "last time", "also when" };
static const char *const dates[] = {
    "monday",     "tuesday",   "wednesday",  "thursday",  "friday",       "saturday",  "sunday",
    "yesterday",  "january",   "february",   "march",     "april",        "june",      "july",
    "august",     "september", "october",    "november",  "december",     "weekend",   "tonight",
    "last night", "last week", "last month", "last year", "this morning", "christmas", "birthday"
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool
is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'' || c >= 0x80;
}

static void
fold(const char *in, struct folded *f)
{
    size_t o = 0;
    size_t i = 0;

    f->n = 0;
    while (in[i] != '\0' && o < COACH_SCAN_MAX) {
        unsigned char c = (unsigned char)in[i];
        if (c == 0xe2 && (unsigned char)in[i + 1] == 0x80 &&
            ((unsigned char)in[i + 2] == 0x99 || (unsigned char)in[i + 2] == 0x98)) {
            f->text[o++] = '\'';
            i += 3;
            continue;
        }
        f->text[o++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        i++;
    }
    f->text[o] = '\0';
    for (size_t p = 0; p < o && f->n < COACH_WORDS_MAX;) {
        size_t s;
        if (!is_word_byte((unsigned char)f->text[p])) {
            p++;
            continue;
        }
        s = p;
        while (p < o && is_word_byte((unsigned char)f->text[p])) {
            p++;
        }
        size_t e = p;
        while (s < e && f->text[s] == '\'') { /* quotes around a word */
            s++;
        }
        while (e > s && f->text[e - 1] == '\'') {
            e--;
        }
        if (e > s) {
            f->start[f->n] = s;
            f->len[f->n] = e - s;
            f->n++;
        }
    }
}

/* Does the phrase (words separated by single spaces) start at word w? Returns its word count. */
static size_t
phrase_at(const struct folded *f, size_t w, const char *phrase)
{
    size_t words = 0;

    while (*phrase != '\0') {
        const char *sp = strchr(phrase, ' ');
        size_t len = sp != NULL ? (size_t)(sp - phrase) : strlen(phrase);
        if (w + words >= f->n || f->len[w + words] != len ||
            memcmp(f->text + f->start[w + words], phrase, len) != 0) {
            return 0;
        }
        words++;
        phrase += len + (sp != NULL ? 1 : 0);
    }
    return words;
}

/* The first phrase of list found anywhere; its index in *which. */
static bool
find_any(const struct folded *f, const char *const *list, size_t count, size_t *which)
{
    for (size_t w = 0; w < f->n; w++) {
        for (size_t i = 0; i < count; i++) {
            if (phrase_at(f, w, list[i]) > 0) {
                if (which != NULL) {
                    *which = i;
                }
                return true;
            }
        }
    }
    return false;
}

/* "I feel" + optional intensifier + a word from list: the list index, or -1. */
static int
after_feel(const struct folded *f, const char *const *list, size_t stride, size_t count)
{
    for (size_t w = 0; w < f->n; w++) {
        for (size_t o = 0; o < COUNT(feel_openers); o++) {
            size_t a = phrase_at(f, w, feel_openers[o]);
            if (a == 0) {
                continue;
            }
            for (size_t k = 0; k < COUNT(intensifiers); k++) {
                size_t b = intensifiers[k][0] == '\0' ? 0 : phrase_at(f, w + a, intensifiers[k]);
                if (intensifiers[k][0] != '\0' && b == 0) {
                    continue;
                }
                for (size_t i = 0; i < count; i++) {
                    const char *word = *(const char *const *)((const char *)list + i * stride);
                    if (phrase_at(f, w + a + b, word) > 0) {
                        return (int)i;
                    }
                }
            }
        }
    }
    return -1;
}

static bool
has_contempt_marks(const char *raw)
{
    for (const char *p = raw; (p = strstr(p, "/s")) != NULL; p += 2) {
        bool starts = p == raw || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n';
        bool ends = p[2] == '\0' || !is_word_byte((unsigned char)(p[2] | 0x20));
        if (starts && ends) {
            return true;
        }
    }
    return strstr(raw, "\xf0\x9f\x99\x84") != NULL; /* U+1F644 face with rolling eyes */
}

static bool
is_shouting(const char *raw)
{
    int caps_words = 0;

    if (strstr(raw, "!!!") != NULL || strstr(raw, "?!") != NULL) {
        return true;
    }
    for (const char *p = raw; *p != '\0';) {
        size_t upper = 0, lower = 0;
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))) {
            p++;
            continue;
        }
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) {
            *p >= 'a' ? lower++ : upper++;
            p++;
        }
        if (lower == 0 && upper >= 2) {
            caps_words++;
        }
    }
    return caps_words >= 3;
}

static size_t
count_dates(const struct folded *f)
{
    size_t dates_seen = 0;

    for (size_t w = 0; w < f->n; w++) {
        const char *t = f->text + f->start[w];
        size_t len = f->len[w];
        bool is_numeric_date = false;
        for (size_t i = 0; i < COUNT(dates); i++) {
            if (phrase_at(f, w, dates[i]) > 0) {
                dates_seen++;
                break;
            }
        }
        /* 12/03, 2024-03-12: digits joined by '/' or '-' */
        if (len > 0 && t[0] >= '0' && t[0] <= '9' && (t[len] == '/' || t[len] == '-') &&
            w + 1 < f->n && f->start[w + 1] == f->start[w] + len + 1) {
            is_numeric_date = true;
            while (w + 1 < f->n && f->start[w + 1] == f->start[w] + f->len[w] + 1 &&
                   (f->text[f->start[w + 1] - 1] == '/' || f->text[f->start[w + 1] - 1] == '-')) {
                w++;
            }
        }
        dates_seen += is_numeric_date ? 1 : 0;
    }
    return dates_seen;
}

static size_t
count_sentences(const char *raw)
{
    size_t n = 0;
    bool in_text = false;

    for (const char *p = raw; *p != '\0'; p++) {
        if (*p == '.' || *p == '!' || *p == '?') {
            while (p[1] == '.' || p[1] == '!' || p[1] == '?') {
                p++;
            }
            if (in_text && (p[1] == '\0' || p[1] == ' ' || p[1] == '\n')) {
                n++;
                in_text = false;
            }
        } else if (*p != ' ' && *p != '\n' && *p != '\t') {
            in_text = true;
        }
    }
    return n + (in_text ? 1 : 0);
}

static bool
is_request_field(enum coach_field field)
{
    return field == COACH_FIELD_REQUEST || field == COACH_FIELD_AGREEMENT;
}

static uint32_t
flags_of(enum coach_field field, const char *raw, const struct folded *f, int *faux)
{
    uint32_t flags = 0;

    *faux = after_feel(f, &faux_map[0].word, sizeof faux_map[0], COUNT(faux_map));
    if (find_any(f, contempts, COUNT(contempts), NULL) || has_contempt_marks(raw)) {
        flags |= 1u << COACH_CONTEMPT;
    }
    if (find_any(f, labels, COUNT(labels), NULL)) {
        flags |= 1u << COACH_LABELS;
    }
    if (find_any(f, blames, COUNT(blames), NULL)) {
        flags |= 1u << COACH_BLAME;
    }
    if (find_any(f, absolutes, COUNT(absolutes), NULL)) {
        flags |= 1u << COACH_ABSOLUTES;
    }
    if (is_shouting(raw)) {
        flags |= 1u << COACH_SHOUTING;
    }
    if (field == COACH_FIELD_RESPONSE && find_any(f, non_apologies, COUNT(non_apologies), NULL)) {
        flags |= 1u << COACH_NON_APOLOGY;
    }
    if (*faux >= 0) {
        flags |= 1u << COACH_FAUX_FEELING;
    } else if (after_feel(f, thought_words, sizeof thought_words[0], COUNT(thought_words)) >= 0) {
        flags |= 1u << COACH_THOUGHT_AS_FEELING;
    }
    if (is_request_field(field) && find_any(f, demands, COUNT(demands), NULL)) {
        flags |= 1u << COACH_DEMAND;
    }
    if (is_request_field(field) && find_any(f, vagues, COUNT(vagues), NULL)) {
        flags |= 1u << COACH_VAGUE_REQUEST;
    }
    if (find_any(f, sinks, COUNT(sinks), NULL) || count_dates(f) > 1) {
        flags |= 1u << COACH_KITCHEN_SINKING;
    }
    if (field == COACH_FIELD_OBSERVATION && count_sentences(raw) > 3) {
        flags |= 1u << COACH_LENGTH;
    }
    return flags;
}

uint32_t
coach_flags(enum coach_field field, const char *text)
{
    struct folded f;
    int faux;

    fold(text, &f);
    return flags_of(field, text, &f, &faux);
}

static void
hint_text(enum coach_rule rule, const struct folded *f, int faux, const char *peer,
          char out[COACH_HINT_MAX])
{
    if (rule == COACH_FAUX_FEELING && faux >= 0) {
        const struct faux *m = &faux_map[faux];
        char word[24];
        snprintf(word, sizeof word, "%s", m->word);
        word[0] = (char)(word[0] - ('a' - 'A'));
        snprintf(out, COACH_HINT_MAX,
                 "'%s' describes what you think %s did. Underneath, maybe %s or %s? The need "
                 "might be %s." SKIP,
                 word, peer != NULL ? peer : "they", m->feeling_a, m->feeling_b, m->need);
        return;
    }
    if (rule == COACH_ABSOLUTES) {
        size_t which = 0;
        (void)find_any(f, absolutes, COUNT(absolutes), &which);
        snprintf(out, COACH_HINT_MAX,
                 "Words like '%s' can make it hard to be heard. Could you "
                 "describe one moment?" SKIP,
                 absolutes[which]);
        return;
    }
    snprintf(out, COACH_HINT_MAX, "%s" SKIP, fixed_hints[rule]);
}

size_t
coach_check(enum coach_field field, const char *text, const char *peer_name,
            struct coach_hint hints[COACH_HINTS_MAX])
{
    struct folded f;
    int faux;
    uint32_t flags;
    size_t n = 0;

    fold(text, &f);
    flags = flags_of(field, text, &f, &faux);
    for (int rule = 0; rule < COACH_RULE_COUNT && n < COACH_HINTS_MAX; rule++) {
        if (flags & (1u << rule)) {
            hints[n].rule = (enum coach_rule)rule;
            hint_text((enum coach_rule)rule, &f, faux, peer_name, hints[n].text);
            n++;
        }
    }
    return n;
}

bool
coach_rule_is_strong(enum coach_rule rule)
{
    return rule == COACH_CONTEMPT || rule == COACH_LABELS || rule == COACH_BLAME ||
           rule == COACH_ABSOLUTES || rule == COACH_SHOUTING || rule == COACH_DEMAND;
}

bool
coach_flags_are_strong(uint32_t flags)
{
    for (int rule = 0; rule < COACH_RULE_COUNT; rule++) {
        if ((flags & (1u << rule)) && coach_rule_is_strong((enum coach_rule)rule)) {
            return true;
        }
    }
    return false;
}

const char *
coach_rule_name(enum coach_rule rule)
{
    return (unsigned)rule < COACH_RULE_COUNT ? rule_names[rule] : "unknown";
}

enum coach_field
coach_field_for(const char *name)
{
    static const struct {
        const char *name;
        enum coach_field field;
    } map[] = {
        { "topic", COACH_FIELD_TOPIC },
        { "observation", COACH_FIELD_OBSERVATION },
        { "feelings_text", COACH_FIELD_FEELINGS_TEXT },
        { "request", COACH_FIELD_REQUEST },
        { "addition", COACH_FIELD_OTHER },
        { "validation", COACH_FIELD_RESPONSE },
        { "responsibility", COACH_FIELD_RESPONSE },
        { "regret", COACH_FIELD_RESPONSE },
        { "repair_offer", COACH_FIELD_RESPONSE },
        { "next_time", COACH_FIELD_RESPONSE },
        { "my_side", COACH_FIELD_RESPONSE },
        { "reflect_back", COACH_FIELD_REFLECTION },
    };

    for (size_t i = 0; i < COUNT(map); i++) {
        if (strcmp(name, map[i].name) == 0) {
            return map[i].field;
        }
    }
    return COACH_FIELD_OTHER;
}
