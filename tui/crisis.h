/*
 * crisis: the "If you're not safe" text of DOMAIN.md §5, built offline. First the emergency
 * line, then the person's own entries ("my crisis line", "my people"), then the entries of a
 * replaceable per-country data file (resources/CC.conf, format in resources/README.md) with
 * its checked date and the note that kith doesn't verify them; with no file, a way to find a
 * line. No country is built in. Parsing and text are pure; crisis_load reads one file.
 */
#ifndef KITH_TUI_CRISIS_H
#define KITH_TUI_CRISIS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/engine.h" /* KITH_NODISCARD and the KITH_E* codes */

#define CRISIS_ENTRIES_MAX 8
#define CRISIS_FIELD_MAX   160
#define CRISIS_LINE_MAX    512
#define CRISIS_LINES_MAX   (6 + CRISIS_ENTRIES_MAX)
#define CRISIS_FILE_MAX    16384

#define CRISIS_EMERGENCY "If you're in immediate danger, contact your local emergency number."
#define CRISIS_SEARCH                                                                              \
    "Search 'crisis line' with your country's name, or ask someone you trust to look with you."

struct crisis_entry {
    char name[CRISIS_FIELD_MAX];  /* "Samaritans" */
    char reach[CRISIS_FIELD_MAX]; /* "call 116 123" */
    char note[CRISIS_FIELD_MAX];  /* "free, any time" (may be "") */
};

struct crisis_file {
    char country[3];             /* "GB" */
    char name[CRISIS_FIELD_MAX]; /* "United Kingdom" */
    char checked[11];            /* YYYY-MM-DD */
    size_t n;
    struct crisis_entry entries[CRISIS_ENTRIES_MAX];
};

/* The country of a locale name ("en_GB.UTF-8" -> "GB"); false for "C", "POSIX", NULL or a
 * name without a two-letter territory. */
bool crisis_country_from_locale(const char *locale, char cc[3]);

/* The country to use: setting (two letters, not "auto") if given, else LC_ALL, else LANG from
 * the environment. False when none names one. */
bool crisis_country(const char *setting, char cc[3]);

/* Parse the text of one data file. KITH_OK, or KITH_EMALFORMED when a line is neither a
 * comment, blank nor a known "key: value", when `checked:` is missing or not YYYY-MM-DD, when
 * there is no `line:` entry or more than CRISIS_ENTRIES_MAX; *bad_line gets the line number
 * (0: the whole file). Values longer than a field are cut at a character boundary. */
KITH_NODISCARD int crisis_parse(const char *text, size_t len, struct crisis_file *out,
                                size_t *bad_line);

/* Read and parse CC.conf from the first directory that has it: $KITH_RESOURCES, then the
 * user's $XDG_CONFIG_HOME/kith/resources (~/.config/...), then the installed data directory,
 * then the source tree's resources/ (uninstalled builds). KITH_OK, KITH_ENOTFOUND (no file,
 * or cc is not two letters A-Z), KITH_EMALFORMED. */
KITH_NODISCARD int crisis_load(const char *cc, struct crisis_file *out);

/* The lines of the crisis section, each indented for the help screen, into out[0..max):
 * the emergency line, "My crisis line: ..." and "My people: ..." when set (NULL or ""), the
 * file's entries under a heading with its checked date (file NULL: the search sentence).
 * Returns the number of lines written. */
size_t crisis_lines(const char *crisis_line, const char *my_people, const struct crisis_file *file,
                    char out[][CRISIS_LINE_MAX], size_t max);

#endif
