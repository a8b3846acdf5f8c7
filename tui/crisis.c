/*
 * crisis: the crisis section of help, from the person's own entries and a per-country data
 * file. Everything here works offline; kith never contacts anyone and never checks the data.
 */
#include "tui/crisis.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KITH_RESOURCES_DIR
#define KITH_RESOURCES_DIR "/usr/local/share/kith/resources"
#endif

static bool
crisis_is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool
crisis_is_alpha(char c)
{
    return crisis_is_upper(c) || (c >= 'a' && c <= 'z');
}

bool
crisis_country_from_locale(const char *locale, char cc[3])
{
    const char *under;

    cc[0] = '\0';
    if (locale == NULL || locale[0] == '\0' || strcmp(locale, "C") == 0 ||
        strncmp(locale, "C.", 2) == 0 || strcmp(locale, "POSIX") == 0) {
        return false;
    }
    under = strchr(locale, '_');
    if (under == NULL || !crisis_is_upper(under[1]) || !crisis_is_upper(under[2]) ||
        (under[3] != '\0' && under[3] != '.' && under[3] != '@')) {
        return false;
    }
    cc[0] = under[1];
    cc[1] = under[2];
    cc[2] = '\0';
    return true;
}

bool
crisis_country(const char *setting, char cc[3])
{
    const char *all = getenv("LC_ALL");

    if (setting != NULL && strlen(setting) == 2 && crisis_is_alpha(setting[0]) &&
        crisis_is_alpha(setting[1])) {
        cc[0] = (char)(setting[0] & ~0x20);
        cc[1] = (char)(setting[1] & ~0x20);
        cc[2] = '\0';
        return true;
    }
    if (all != NULL && all[0] != '\0') {
        return crisis_country_from_locale(all, cc); /* LC_ALL overrides LANG, even as "C" */
    }
    return crisis_country_from_locale(getenv("LANG"), cc);
}

/* Copy [s, s+len) trimmed into out (cap bytes), cut at a UTF-8 character boundary; control
 * characters become spaces. */
static void
crisis_copy(char *out, size_t cap, const char *s, size_t len)
{
    size_t n;

    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r')) {
        len--;
    }
    n = len < cap - 1 ? len : cap - 1;
    if (n < len) {
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
            n--; /* don't split a character */
        }
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    out[n] = '\0';
}

static bool
crisis_date_ok(const char *d)
{
    static const char shape[] = "9999-99-99";
    int month;
    int day;

    if (strlen(d) != sizeof shape - 1) {
        return false;
    }
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        if (shape[i] == '9' ? (d[i] < '0' || d[i] > '9') : d[i] != shape[i]) {
            return false;
        }
    }
    month = (d[5] - '0') * 10 + (d[6] - '0');
    day = (d[8] - '0') * 10 + (d[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/* "NAME | HOW TO REACH | NOTE" */
static int
crisis_parse_entry(const char *v, size_t len, struct crisis_entry *e)
{
    const char *bar1 = memchr(v, '|', len);
    const char *bar2;

    if (bar1 == NULL) {
        return KITH_EMALFORMED;
    }
    crisis_copy(e->name, sizeof e->name, v, (size_t)(bar1 - v));
    bar2 = memchr(bar1 + 1, '|', len - (size_t)(bar1 + 1 - v));
    if (bar2 == NULL) {
        crisis_copy(e->reach, sizeof e->reach, bar1 + 1, len - (size_t)(bar1 + 1 - v));
        e->note[0] = '\0';
    } else {
        crisis_copy(e->reach, sizeof e->reach, bar1 + 1, (size_t)(bar2 - bar1 - 1));
        crisis_copy(e->note, sizeof e->note, bar2 + 1, len - (size_t)(bar2 + 1 - v));
    }
    return e->name[0] != '\0' && e->reach[0] != '\0' ? KITH_OK : KITH_EMALFORMED;
}

static int
crisis_parse_line(const char *line, size_t len, struct crisis_file *out)
{
    const char *colon = memchr(line, ':', len);
    size_t key_len;
    const char *v;
    size_t v_len;
    char value[CRISIS_FIELD_MAX];

    if (colon == NULL) {
        return KITH_EMALFORMED;
    }
    key_len = (size_t)(colon - line);
    v = colon + 1;
    v_len = len - key_len - 1;
    if (key_len == 4 && memcmp(line, "line", 4) == 0) {
        if (out->n == CRISIS_ENTRIES_MAX) {
            return KITH_EMALFORMED;
        }
        return crisis_parse_entry(v, v_len, &out->entries[out->n++]);
    }
    crisis_copy(value, sizeof value, v, v_len);
    if (key_len == 7 && memcmp(line, "country", 7) == 0) {
        if (strlen(value) != 2 || !crisis_is_upper(value[0]) || !crisis_is_upper(value[1])) {
            return KITH_EMALFORMED;
        }
        memcpy(out->country, value, 3);
    } else if (key_len == 4 && memcmp(line, "name", 4) == 0) {
        memcpy(out->name, value, sizeof out->name);
    } else if (key_len == 7 && memcmp(line, "checked", 7) == 0) {
        if (!crisis_date_ok(value)) {
            return KITH_EMALFORMED;
        }
        memcpy(out->checked, value, sizeof out->checked);
    } else if (!(key_len == 6 && memcmp(line, "source", 6) == 0)) {
        return KITH_EMALFORMED; /* an unknown key: better refuse than show half a file */
    }
    return KITH_OK;
}

int
crisis_parse(const char *text, size_t len, struct crisis_file *out, size_t *bad_line)
{
    size_t line_no = 0;

    memset(out, 0, sizeof *out);
    *bad_line = 0;
    if (len > CRISIS_FILE_MAX) {
        return KITH_EMALFORMED;
    }
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        const char *line = text + at;
        size_t line_len = end - at;
        size_t lead = 0;

        line_no++;
        at = end + 1;
        while (lead < line_len && (line[lead] == ' ' || line[lead] == '\t' || line[lead] == '\r')) {
            lead++;
        }
        if (lead == line_len || line[lead] == '#') {
            continue;
        }
        if (memchr(line, '\0', line_len) != NULL ||
            crisis_parse_line(line + lead, line_len - lead, out) != KITH_OK) {
            *bad_line = line_no;
            memset(out, 0, sizeof *out);
            return KITH_EMALFORMED;
        }
    }
    if (out->checked[0] == '\0' || out->n == 0) {
        memset(out, 0, sizeof *out);
        return KITH_EMALFORMED;
    }
    return KITH_OK;
}

/* Read dir/cc.conf into a malloc'd buffer. */
static int
crisis_read(const char *dir, const char *cc, char **text, size_t *len)
{
    char path[4096];
    FILE *f;
    char *buf;
    size_t got;

    *text = NULL;
    if (dir == NULL || dir[0] == '\0' ||
        snprintf(path, sizeof path, "%s/%s.conf", dir, cc) >= (int)sizeof path) {
        return KITH_ENOTFOUND;
    }
    f = fopen(path, "r");
    if (f == NULL) {
        return errno == ENOENT || errno == ENOTDIR ? KITH_ENOTFOUND : KITH_ESYS;
    }
    buf = xmalloc(CRISIS_FILE_MAX + 1);
    got = fread(buf, 1, CRISIS_FILE_MAX + 1, f);
    fclose(f);
    *text = buf;
    *len = got;
    return KITH_OK;
}

int
crisis_load(const char *cc, struct crisis_file *out)
{
    const char *env = getenv("KITH_RESOURCES");
    const char *config = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char user[4096] = "";
    const char *dirs[4];
    size_t bad_line;
    int rc = KITH_ENOTFOUND;

    memset(out, 0, sizeof *out);
    if (cc == NULL || strlen(cc) != 2 || !crisis_is_upper(cc[0]) || !crisis_is_upper(cc[1])) {
        return KITH_ENOTFOUND; /* also keeps the name inside the directory */
    }
    if (config != NULL && config[0] != '\0') {
        snprintf(user, sizeof user, "%s/kith/resources", config);
    } else if (home != NULL && home[0] != '\0') {
        snprintf(user, sizeof user, "%s/.config/kith/resources", home);
    }
    dirs[0] = env;
    dirs[1] = user;
    dirs[2] = KITH_RESOURCES_DIR;
#ifdef KITH_SOURCE_RESOURCES
    dirs[3] = KITH_SOURCE_RESOURCES;
#else
    dirs[3] = NULL;
#endif
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && rc == KITH_ENOTFOUND; i++) {
        char *text = NULL;
        size_t len = 0;
        rc = crisis_read(dirs[i], cc, &text, &len);
        if (rc == KITH_OK) {
            rc = crisis_parse(text, len, out, &bad_line);
        }
        if (rc == KITH_OK && out->country[0] == '\0') {
            memcpy(out->country, cc, 3);
        }
        free(text);
    }
    return rc == KITH_ESYS ? KITH_ENOTFOUND : rc;
}

size_t
crisis_lines(const char *crisis_line, const char *my_people, const struct crisis_file *file,
             char out[][CRISIS_LINE_MAX], size_t max)
{
    size_t n = 0;

#define CRISIS_ADD(...)                                                                            \
    do {                                                                                           \
        if (n < max) {                                                                             \
            snprintf(out[n++], CRISIS_LINE_MAX, __VA_ARGS__);                                      \
        }                                                                                          \
    } while (0)

    CRISIS_ADD("  %s", CRISIS_EMERGENCY);
    if (crisis_line != NULL && crisis_line[0] != '\0') {
        CRISIS_ADD("  My crisis line: %s", crisis_line);
    }
    if (my_people != NULL && my_people[0] != '\0') {
        CRISIS_ADD("  My people: %s", my_people);
    }
    if (file != NULL && file->n > 0) {
        CRISIS_ADD("  %s, checked %s. kith doesn't verify these:",
                   file->name[0] != '\0' ? file->name : file->country, file->checked);
        for (size_t i = 0; i < file->n; i++) {
            const struct crisis_entry *e = &file->entries[i];
            CRISIS_ADD("    %s: %s%s%s", e->name, e->reach, e->note[0] != '\0' ? ", " : "",
                       e->note);
        }
    } else {
        CRISIS_ADD("  %s", CRISIS_SEARCH);
    }
    if ((crisis_line == NULL || crisis_line[0] == '\0') &&
        (my_people == NULL || my_people[0] == '\0')) {
        CRISIS_ADD("  Add your own with kith config set crisis_line TEXT and kith config set "
                   "my_people TEXT.");
    }
#undef CRISIS_ADD
    return n;
}
