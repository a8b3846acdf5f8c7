/*
 * commands: slash-command parsing and completion (see commands.h). Pure:
 * it only reads the caller's strings and writes into caller buffers.
 */
#include "tui/commands.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct commands_info commands_table[] = {
    { "/query", "/query NAME", "Open the conversation with NAME." },
    { "/msg", "/msg NAME TEXT", "Send TEXT to NAME without switching." },
    { "/invite", "/invite", "Show a new invite code (and its QR code) to give someone." },
    { "/accept", "/accept CODE [as NAME]", "Add the person whose invite code you were given." },
    { "/verify", "/verify [NAME]", "Compare safety numbers, then mark the contact verified." },
    { "/name", "/name NEWNAME", "Rename the open contact (only on this device)." },
    { "/contacts", "/contacts", "List your contacts." },
    { "/help", "/help", "This page. F1 opens it too." },
    { "/lock", "/lock", "Hide the screen and lock (F12 or Esc Esc too)." },
    { "/quit", "/quit", "Close kith. Messages still waiting stay saved." },
    { "/heavy", "/heavy TEXT", "Send TEXT marked heavy: they may be asked first." },
    { "/boundary", "/boundary [NAME]", "Your boundaries for NAME: see, add, remove (F3 too)." },
    { "/show", "/show", "Open the newest folded message here." },
    { "/consent", "/consent yes|later|no", "Answer: show it now, ask again in an hour, or not now." },
    { "/repair", "/repair [NAME]", "A guided, gentle way to talk about something that hurt." },
    { "/retention", "/retention [30s|10m|1h|7d|off|accept|decline]",
      "Disappearing messages here: see, propose, or answer theirs." },
    { "/circle", "/circle create NAME", "Start a support circle called #NAME, with you in it." },
    { "/circle", "/circle invite [NAME]",
      "A code (and QR code) that brings one person into the circle." },
    { "/circle", "/circle members [NAME]", "Who is in the circle." },
    { "/circle", "/circle remove CONTACT", "Take CONTACT out of the open circle." },
    { "/circle", "/circle leave [NAME]", "Leave the circle; your copy of its history stays here." },
    { "/checkin", "/checkin [NAME]",
      "How's today? Share it with a circle, or keep it for you (F5)." },
    { "/support", "/support [NAME]", "Let a circle know you could use support (F4)." },
};

#define COMMANDS_N (sizeof commands_table / sizeof commands_table[0])

static const enum commands_verb commands_verbs[COMMANDS_N] = {
    COMMANDS_QUERY, COMMANDS_MSG,      COMMANDS_INVITE, COMMANDS_ACCEPT, COMMANDS_VERIFY,
    COMMANDS_NAME,  COMMANDS_CONTACTS, COMMANDS_HELP,   COMMANDS_LOCK,   COMMANDS_QUIT,
    COMMANDS_HEAVY, COMMANDS_BOUNDARY, COMMANDS_SHOW,   COMMANDS_CONSENT,
    COMMANDS_REPAIR, COMMANDS_RETENTION,
    COMMANDS_CIRCLE_CREATE, COMMANDS_CIRCLE_INVITE, COMMANDS_CIRCLE_MEMBERS,
    COMMANDS_CIRCLE_REMOVE, COMMANDS_CIRCLE_LEAVE, COMMANDS_CHECKIN, COMMANDS_SUPPORT,
};

size_t
commands_count(void)
{
    return COMMANDS_N;
}

const struct commands_info *
commands_at(size_t i)
{
    return i < COMMANDS_N ? &commands_table[i] : NULL;
}

static const char *
commands_skip_spaces(const char *p)
{
    while (*p == ' ') {
        p++;
    }
    return p;
}

/* Does entry i share its name with a neighbour (a command with several forms)? */
static bool
commands_is_multi(size_t i)
{
    return (i + 1 < COMMANDS_N &&
            strcmp(commands_table[i].name, commands_table[i + 1].name) == 0) ||
           (i > 0 && strcmp(commands_table[i].name, commands_table[i - 1].name) == 0);
}

/* The second word of entry i's usage ("create" in "/circle create NAME"); *len its length. */
static const char *
commands_sub(size_t i, size_t *len)
{
    const char *s = commands_table[i].usage + strlen(commands_table[i].name);

    s = commands_skip_spaces(s);
    *len = strcspn(s, " ");
    return s;
}

/* For a command with several forms whose first entry is i: the entry whose second word is the
 * one at *args (moved past it), or COMMANDS_N. */
static size_t
commands_pick_form(size_t i, const char **args)
{
    const char *w = commands_skip_spaces(*args);
    size_t w_len = strcspn(w, " ");

    for (size_t j = i;
         j < COMMANDS_N && strcmp(commands_table[j].name, commands_table[i].name) == 0; j++) {
        size_t sub_len;
        const char *sub = commands_sub(j, &sub_len);
        if (w_len > 0 && sub_len == w_len && strncasecmp(w, sub, w_len) == 0) {
            *args = w + w_len;
            return j;
        }
    }
    return COMMANDS_N;
}

/* Read one NAME token (bare or "quoted") into out; *p moves past it.
 * KITH_ENOTFOUND when there is none, KITH_EINVAL when malformed or long. */
static int
commands_take_name(const char **p, char out[ENGINE_NAME_BUF])
{
    const char *s = commands_skip_spaces(*p);
    const char *end;
    size_t n;

    if (*s == '\0') {
        return KITH_ENOTFOUND;
    }
    if (*s == '"') {
        s++;
        end = strchr(s, '"');
        if (end == NULL) {
            return KITH_EINVAL;
        }
        n = (size_t)(end - s);
        *p = end + 1;
    } else {
        end = s + strcspn(s, " ");
        n = (size_t)(end - s);
        *p = end;
    }
    if (n == 0 || n >= ENGINE_NAME_BUF) {
        return KITH_EINVAL;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return KITH_OK;
}

/* The rest of the line with outer spaces trimmed. */
static void
commands_rest(const char *p, const char **text, size_t *len)
{
    size_t n;

    p = commands_skip_spaces(p);
    n = strlen(p);
    while (n > 0 && p[n - 1] == ' ') {
        n--;
    }
    *text = p;
    *len = n;
}

/* "off" -> 0, "90", "90s", "10m", "1h", "7d" -> seconds (1 .. ENGINE_RETENTION_MAX). */
static bool
commands_duration(const char *s, size_t len, uint32_t *seconds)
{
    static const struct {
        char unit;
        uint32_t mult;
    } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
    uint64_t v = 0;
    uint32_t mult = 1;
    size_t digits = len;

    if (len == 3 && strncmp(s, "off", 3) == 0) {
        *seconds = 0;
        return true;
    }
    for (size_t i = 0; len > 0 && i < sizeof units / sizeof units[0]; i++) {
        if (s[len - 1] == units[i].unit) {
            mult = units[i].mult;
            digits = len - 1;
        }
    }
    if (digits == 0 || digits > 9) {
        return false;
    }
    for (size_t i = 0; i < digits; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    v *= mult;
    if (v == 0 || v > ENGINE_RETENTION_MAX) {
        return false;
    }
    *seconds = (uint32_t)v;
    return true;
}

static int
commands_parse_args(const char *args, struct commands_parsed *out, const char **why,
                    const char *usage)
{
    const char *p = args;
    int rc;

    switch (out->verb) {
    case COMMANDS_HEAVY:
    case COMMANDS_CONSENT:
        commands_rest(p, &out->text, &out->text_len);
        if (out->text_len == 0 ||
            (out->verb == COMMANDS_CONSENT && strcmp(out->text, "yes") != 0 &&
             strcmp(out->text, "later") != 0 && strcmp(out->text, "no") != 0)) {
            *why = usage;
            return KITH_EINVAL;
        }
        return KITH_OK;
    case COMMANDS_QUERY:
    case COMMANDS_NAME:
    case COMMANDS_VERIFY:
    case COMMANDS_BOUNDARY:
    case COMMANDS_REPAIR:
    case COMMANDS_CIRCLE_CREATE:
    case COMMANDS_CIRCLE_INVITE:
    case COMMANDS_CIRCLE_MEMBERS:
    case COMMANDS_CIRCLE_REMOVE:
    case COMMANDS_CIRCLE_LEAVE:
    case COMMANDS_CHECKIN:
    case COMMANDS_SUPPORT:
        rc = commands_take_name(&p, out->name);
        if (rc == KITH_ENOTFOUND && out->verb != COMMANDS_QUERY && out->verb != COMMANDS_NAME &&
            out->verb != COMMANDS_CIRCLE_CREATE && out->verb != COMMANDS_CIRCLE_REMOVE) {
            return KITH_OK; /* the open conversation */
        }
        if (rc != KITH_OK || *commands_skip_spaces(p) != '\0') {
            *why = rc == KITH_EINVAL ? "A name is at most 64 bytes; quote one with spaces." : usage;
            return KITH_EINVAL;
        }
        return KITH_OK;
    case COMMANDS_RETENTION:
        commands_rest(p, &out->text, &out->text_len);
        if (out->text_len == 0 || (out->text_len == 6 && strncmp(out->text, "accept", 6) == 0) ||
            (out->text_len == 7 && strncmp(out->text, "decline", 7) == 0) ||
            commands_duration(out->text, out->text_len, &out->seconds)) {
            return KITH_OK;
        }
        *why = "Say how long, like /retention 1d or 10m, or off, accept, decline.";
        return KITH_EINVAL;
    case COMMANDS_MSG:
        rc = commands_take_name(&p, out->name);
        commands_rest(p, &out->text, &out->text_len);
        if (rc != KITH_OK || out->text_len == 0) {
            *why = usage;
            return KITH_EINVAL;
        }
        return KITH_OK;
    case COMMANDS_ACCEPT: {
        char word[ENGINE_NAME_BUF];
        p = commands_skip_spaces(p);
        out->text = p;
        out->text_len = strcspn(p, " ");
        p += out->text_len;
        if (out->text_len == 0) {
            *why = usage;
            return KITH_EINVAL;
        }
        if (*commands_skip_spaces(p) == '\0') {
            return KITH_OK;
        }
        if (commands_take_name(&p, word) != KITH_OK ||
            (strcmp(word, "as") != 0 && strcmp(word, "--as") != 0) ||
            commands_take_name(&p, out->as_name) != KITH_OK || *commands_skip_spaces(p) != '\0') {
            *why = usage;
            return KITH_EINVAL;
        }
        return KITH_OK;
    }
    default:
        if (*commands_skip_spaces(p) != '\0') {
            *why = usage;
            return KITH_EINVAL;
        }
        return KITH_OK;
    }
}

int
commands_parse(const char *line, struct commands_parsed *out, const char **why)
{
    const char *word;
    size_t word_len;

    memset(out, 0, sizeof *out);
    *why = "";
    if (line[0] != '/' || line[1] == '/') {
        commands_rest(line[0] == '/' ? line + 1 : line, &out->text, &out->text_len);
        if (out->text_len == 0) {
            *why = "There's nothing to send yet.";
            return KITH_EINVAL;
        }
        out->verb = COMMANDS_SAY;
        return KITH_OK;
    }
    word = line;
    word_len = strcspn(line, " ");
    for (size_t i = 0; i < COMMANDS_N; i++) {
        if (strlen(commands_table[i].name) == word_len &&
            strncasecmp(word, commands_table[i].name, word_len) == 0) {
            const char *args = line + word_len;
            size_t at = commands_is_multi(i) ? commands_pick_form(i, &args) : i;
            if (at == COMMANDS_N) {
                *why = "That needs one more word, like /circle create NAME; /help lists them.";
                return KITH_EINVAL;
            }
            out->verb = commands_verbs[at];
            return commands_parse_args(args, out, why, commands_table[at].usage);
        }
    }
    if (word_len == 5 && strncasecmp(word, "/exit", 5) == 0) {
        out->verb = COMMANDS_QUIT;
        return KITH_OK;
    }
    *why = "That command isn't one kith knows; /help lists them.";
    return KITH_EINVAL;
}

static bool
commands_has_prefix(const char *candidate, const char *word, size_t word_len)
{
    return strlen(candidate) >= word_len && strncasecmp(candidate, word, word_len) == 0;
}

/* The words that may complete the one starting at start: distinct command names (first word), the
 * second words of a command with several forms, else NULL (the caller's names). words has room
 * for COMMANDS_N; subs holds the second words as strings. */
static size_t
commands_candidates(const char *line, size_t start, const char *words[COMMANDS_N],
                    char subs[COMMANDS_N][ENGINE_NAME_BUF])
{
    size_t first_len = strcspn(line, " ");
    size_t n = 0;

    if (line[0] != '/') {
        return 0;
    }
    if (start == 0) {
        for (size_t i = 0; i < COMMANDS_N; i++) {
            if (i == 0 || strcmp(commands_table[i].name, commands_table[i - 1].name) != 0) {
                words[n++] = commands_table[i].name;
            }
        }
        return n;
    }
    if (commands_skip_spaces(line + first_len) != line + start) {
        return 0; /* not the second word */
    }
    for (size_t i = 0; i < COMMANDS_N; i++) {
        size_t sub_len;
        const char *sub = commands_sub(i, &sub_len);
        if (commands_is_multi(i) && strlen(commands_table[i].name) == first_len &&
            strncasecmp(line, commands_table[i].name, first_len) == 0 &&
            sub_len < ENGINE_NAME_BUF) {
            memcpy(subs[n], sub, sub_len);
            subs[n][sub_len] = '\0';
            words[n] = subs[n];
            n++;
        }
    }
    return n;
}

size_t
commands_complete(const char *line, size_t cursor, const char *const *names, size_t n_names,
                  size_t nth, char *out, size_t cap, size_t *new_cursor)
{
    const char *words[COMMANDS_N];
    char subs[COMMANDS_N][ENGINE_NAME_BUF];
    size_t n_words;
    size_t start = cursor;
    size_t word_len;
    size_t matches = 0;
    const char *chosen = NULL;
    bool is_command;
    bool needs_quotes;
    bool has_space_after;
    size_t len = strlen(line);
    size_t need;
    int wrote;

    if (cursor > len) {
        return 0;
    }
    while (start > 0 && line[start - 1] != ' ') {
        start--;
    }
    if (line[start] == '"') {
        start++; /* completing inside an opened quote */
    }
    word_len = cursor - start;
    n_words = commands_candidates(line, start, words, subs);
    is_command = n_words > 0; /* a command or its second word: never quoted */
    if (is_command) {
        names = words;
        n_names = n_words;
    }
    for (size_t i = 0; i < n_names; i++) {
        if (commands_has_prefix(names[i], line + start, word_len)) {
            matches++;
        }
    }
    if (matches == 0) {
        return 0;
    }
    nth %= matches;
    for (size_t i = 0, seen = 0; chosen == NULL; i++) {
        const char *c = names[i];
        if (commands_has_prefix(c, line + start, word_len) && seen++ == nth) {
            chosen = c;
        }
    }
    if (start > 0 && line[start - 1] == '"') {
        start--; /* the quote is rewritten with the name */
    }
    needs_quotes = !is_command && strchr(chosen, ' ') != NULL;
    has_space_after = line[cursor] == ' ';
    need = start + strlen(chosen) + (needs_quotes ? 2 : 0) + (has_space_after ? 0 : 1) +
           (len - cursor) + 1;
    if (need > cap) {
        return 0;
    }
    wrote = snprintf(out, cap, "%.*s%s%s%s%s", (int)start, line, needs_quotes ? "\"" : "", chosen,
                     needs_quotes ? "\"" : "", has_space_after ? "" : " ");
    *new_cursor = (size_t)wrote + (has_space_after ? 1 : 0);
    memcpy(out + wrote, line + cursor, len - cursor + 1);
    return matches;
}
