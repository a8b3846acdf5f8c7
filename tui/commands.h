/*
 * commands: the slash commands of the client, IRC style, in plain C with no
 * curses: parsing a typed line into a verb and its arguments, the table the
 * help overlay lists, and tab completion of command and contact names.
 */
#ifndef KITH_TUI_COMMANDS_H
#define KITH_TUI_COMMANDS_H

#include <stddef.h>

#include "core/engine.h" /* ENGINE_NAME_BUF, KITH_NODISCARD, KITH_E* */

enum commands_verb {
    COMMANDS_SAY = 0, /* plain text for the open conversation ("//x" says "/x") */
    COMMANDS_QUERY,   /* /query NAME */
    COMMANDS_MSG,     /* /msg NAME TEXT */
    COMMANDS_INVITE,  /* /invite */
    COMMANDS_ACCEPT,  /* /accept CODE [as NAME] */
    COMMANDS_VERIFY,  /* /verify [NAME] */
    COMMANDS_NAME,    /* /name NEWNAME */
    COMMANDS_CONTACTS,
    COMMANDS_HELP,
    COMMANDS_LOCK,
    COMMANDS_QUIT,
    COMMANDS_HEAVY,    /* /heavy TEXT: a message marked heavy, to the open conversation */
    COMMANDS_BOUNDARY, /* /boundary [NAME]: the boundary editor ("" = the open one) */
    COMMANDS_SHOW,     /* /show: unfold the newest folded message of the open conversation */
    COMMANDS_CONSENT,  /* /consent yes|later|no: answer the newest consent question */
    COMMANDS_REPAIR,   /* /repair [NAME]: the repair card ("" = the open one) */
    COMMANDS_RETENTION, /* /retention [DURATION|off|accept|decline]: disappearing messages */
    COMMANDS_CIRCLE_CREATE,  /* /circle create NAME */
    COMMANDS_CIRCLE_INVITE,  /* /circle invite [NAME]: "" = the open circle */
    COMMANDS_CIRCLE_MEMBERS, /* /circle members [NAME] */
    COMMANDS_CIRCLE_REMOVE,  /* /circle remove CONTACT: from the open circle */
    COMMANDS_CIRCLE_LEAVE,   /* /circle leave [NAME] */
    COMMANDS_CHECKIN,        /* /checkin [NAME]: the "How's today?" card */
    COMMANDS_SUPPORT,        /* /support [NAME]: the "I could use support" card */
};

struct commands_parsed {
    enum commands_verb verb;
    char name[ENGINE_NAME_BUF];    /* query, msg, verify ("" = the open one), name */
    char as_name[ENGINE_NAME_BUF]; /* accept: "" unless "as NAME" was given */
    const char *text;              /* say, msg: the text; accept: the code (borrowed) */
    size_t text_len;
    /* retention: text is "" (show), "accept", "decline", or the duration as typed; seconds its
     * value (0 for off) */
    uint32_t seconds;
};

struct commands_info {
    const char *name;  /* "/query" */
    const char *usage; /* "/query NAME" */
    const char *about; /* one plain sentence */
};

/* Parse one line (NUL-terminated). KITH_OK, or KITH_EINVAL with *why set
 * to a calm static sentence (usage or the reason). Leading and trailing
 * spaces around arguments are ignored; a NAME may be "quoted" to hold
 * spaces. An empty line or one of only spaces is KITH_EINVAL too. */
KITH_NODISCARD int commands_parse(const char *line, struct commands_parsed *out, const char **why);

/* The command table, in the order help shows it. A command with several
 * forms ("/circle create NAME", "/circle leave [NAME]") has one entry per
 * form, next to each other; the second word of the usage chooses it. */
size_t commands_count(void);
const struct commands_info *commands_at(size_t i);

/* Tab completion of the word before cursor: a command name when it is the
 * first word of a line that starts with '/', the second word of a command
 * with several forms ("/circle cr" -> "/circle create "), otherwise one of
 * names (a name with a space is quoted). Matching ignores ASCII case. nth chooses among
 * the matches, cycling; the chosen word replaces the typed one, followed by
 * a space. Writes the new line (NUL-terminated) to out and its cursor to
 * *new_cursor. Returns the number of matches; with 0, or when the result
 * does not fit in cap, out is left untouched and 0 is returned. */
size_t commands_complete(const char *line, size_t cursor, const char *const *names, size_t n_names,
                         size_t nth, char *out, size_t cap, size_t *new_cursor);

#endif
