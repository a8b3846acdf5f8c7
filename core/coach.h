/*
 * coach: the wording coach of DOMAIN.md §2.6. Table-driven and local: it
 * reads one field of text and returns at most two gentle hints, most
 * important first, each ending "If that's not what you meant, skip this."
 * It never blocks sending, and hints are never stored or sent. Pure.
 *
 * Matching is case-insensitive on word boundaries after ASCII casefolding and
 * apostrophe normalisation (U+2019/U+2018 → '). NFC is approximated: text is
 * matched as given, so a decomposed accent stays two code points; every
 * trigger word is plain ASCII, so this only matters for words we don't list.
 */
#ifndef KITH_CORE_COACH_H
#define KITH_CORE_COACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COACH_HINTS_MAX 2
#define COACH_HINT_MAX  320 /* bytes of one hint, NUL included */

/* clang-format off */
/* Which field the text is for: some rules apply only to some fields. */
enum coach_field {
    COACH_FIELD_TOPIC, COACH_FIELD_OBSERVATION, COACH_FIELD_FEELINGS_TEXT, COACH_FIELD_REQUEST,
    COACH_FIELD_REFLECTION, COACH_FIELD_RESPONSE, COACH_FIELD_AGREEMENT, COACH_FIELD_OTHER
};

/* In order of importance (the first two that fire are shown). */
enum coach_rule {
    COACH_CONTEMPT, COACH_LABELS, COACH_BLAME, COACH_ABSOLUTES, COACH_SHOUTING,
    COACH_NON_APOLOGY, COACH_FAUX_FEELING, COACH_THOUGHT_AS_FEELING, COACH_DEMAND,
    COACH_VAGUE_REQUEST, COACH_KITCHEN_SINKING, COACH_LENGTH, COACH_RULE_COUNT
};
/* clang-format on */

struct coach_hint {
    enum coach_rule rule;
    char text[COACH_HINT_MAX];
};

/* Every rule that fires on text for field, as a bit mask (1u << rule), uncapped. */
uint32_t coach_flags(enum coach_field field, const char *text);

/* Up to COACH_HINTS_MAX hints into hints[], most important first; returns the
 * count. peer_name ("Alex") appears in some hints; NULL means "they". */
size_t coach_check(enum coach_field field, const char *text, const char *peer_name,
                   struct coach_hint hints[COACH_HINTS_MAX]);

/* Strong rules (contempt, labels, blame, absolutes, shouting, demand) are the
 * ones the defensive practice partner reacts to. */
bool coach_rule_is_strong(enum coach_rule rule);
bool coach_flags_are_strong(uint32_t flags);
const char *coach_rule_name(enum coach_rule rule); /* "faux_feeling", ... */
/* The coach field for a repair field name ("observation", "request", ...). */
enum coach_field coach_field_for(const char *repair_field_name);

#endif
