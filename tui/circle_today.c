/*
 * circle_today (tui): each circle member's latest check-in of the last 24 hours
 * (DOMAIN.md §4), beside their name in the members card and in one quiet
 * "today:" line under an open circle's title. Read from the circle's newest
 * TUI_PAGE messages when the conversation or the card is loaded and when a
 * message comes into the circle. Only what people shared is shown: no counts,
 * no prompts, and nothing at all about anyone who hasn't checked in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/tui_impl.h"
#include "tui/wrap.h"

#define TODAY_MS       (24 * 3600 * 1000LL)
#define TODAY_NOTE_BUF 512 /* a 140-byte note, sanitized (a bad byte becomes 3) */
#define TODAY_ELLIPSIS "\u2026"

struct today_entry {
    char name[ENGINE_NAME_BUF]; /* as engine_msg.from: matched against engine_member.name */
    bool is_me;
    int64_t at_ms; /* when it was shared: the sender's clock, never later than its arrival */
    char mood[16];
    char with[64];             /* "seen, safe" */
    char note[TODAY_NOTE_BUF]; /* sanitized, one line */
};

struct circle_today {
    char circle[ENGINE_NAME_BUF]; /* "#name" */
    struct today_entry *entries;  /* newest first, one per person */
    size_t n;
};

static const char *const today_moods[] = { "rough", "low", "okay", "steady", "good" };
static const char *const today_withs[] = { "seen", "safe", "soothed", "secure", "stable" };

static int64_t
today_now_ms(void)
{
    return (int64_t)time(NULL) * 1000;
}

/* Which of words[0..5) starts s, followed by end, ", " or " - " (in_list: only end or " - "
 * for a mood). NULL when none. */
static void
today_sanitize(const char *in, char *out, size_t cap)
{
    wrap_sanitize(in, strlen(in), out, cap);
    for (char *p = out; *p != '\0'; p++) {
        *p = *p == '\n' ? ' ' : *p;
    }
}

/* "with me" words at *p ("seen, safe"), moving *p past them; false (and *p untouched) when
 * what follows isn't a list of the five. */
/* A check-in as the engine gives it: its mood, "with me" words and note. False when it isn't
 * one or says nothing. */
static bool
today_parse(const struct engine_msg *m, struct today_entry *out)
{
    size_t n = 0;

    if (m->kind == NULL || strcmp(m->kind, "checkin") != 0) {
        return false;
    }
    if (m->mood >= 1 && m->mood <= 5) {
        snprintf(out->mood, sizeof out->mood, "%s", today_moods[m->mood - 1]);
    }
    for (int i = 0; i < 5; i++) {
        if (m->with_mask & (1u << i)) {
            n += (size_t)snprintf(out->with + n, sizeof out->with - n, "%s%s", n > 0 ? ", " : "",
                                  today_withs[i]);
        }
    }
    today_sanitize(m->care_note, out->note, sizeof out->note);
    return out->mood[0] != '\0' || out->with[0] != '\0';
}

static bool
today_has(const struct circle_today *t, const struct engine_msg *m)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct today_entry *en = &t->entries[i];
        if (m->outgoing ? en->is_me : (!en->is_me && strcmp(en->name, m->from) == 0)) {
            return true;
        }
    }
    return false;
}

struct circle_today *
tui_circle_today_load(struct engine *e, const char *circle)
{
    struct engine_msg *msgs = NULL;
    struct circle_today *t;
    size_t n = 0;

    if (circle == NULL || circle[0] != '#' ||
        engine_history(e, circle, TUI_PAGE, 0, &msgs, &n) != KITH_OK) {
        return NULL;
    }
    t = xcalloc(1, sizeof *t);
    snprintf(t->circle, sizeof t->circle, "%s", circle);
    t->entries = xcalloc(n + 1, sizeof *t->entries);
    for (size_t i = n; i-- > 0;) { /* newest first: the first one of each person is theirs */
        const struct engine_msg *m = &msgs[i];
        struct today_entry *en = &t->entries[t->n];
        if (m->kind == NULL || strcmp(m->kind, "checkin") != 0 || today_has(t, m)) {
            continue;
        }
        memset(en, 0, sizeof *en);
        if (!today_parse(m, en)) {
            continue;
        }
        snprintf(en->name, sizeof en->name, "%s", m->from);
        en->is_me = m->outgoing;
        en->at_ms = m->ts_ms;
        if (m->received_ms > 0 && (en->at_ms <= 0 || en->at_ms > m->received_ms)) {
            en->at_ms = m->received_ms; /* a clock ahead of ours can't keep it up longer */
        }
        t->n++;
    }
    engine_msgs_free(msgs, n);
    return t;
}

void
tui_circle_today_destroy(struct circle_today *t)
{
    if (t == NULL) {
        return;
    }
    free(t->entries);
    free(t);
}

static bool
today_is_recent(const struct today_entry *en, int64_t now_ms)
{
    return now_ms - en->at_ms <= TODAY_MS;
}

/* "steady (seen, safe)", "steady" or "with seen, safe"; then the note in quotes if asked. */
static void
today_summary(const struct today_entry *en, bool with_note, char *out, size_t cap)
{
    size_t n;

    if (en->mood[0] != '\0' && en->with[0] != '\0') {
        snprintf(out, cap, "%s (%s)", en->mood, en->with);
    } else if (en->mood[0] != '\0') {
        snprintf(out, cap, "%s", en->mood);
    } else {
        snprintf(out, cap, "with %s", en->with);
    }
    n = strlen(out);
    if (with_note && en->note[0] != '\0' && n < cap) {
        snprintf(out + n, cap - n, " \u201c%s\u201d", en->note);
    }
}

/* Cut s to cols columns, ending in an ellipsis when something was cut. */
static void
today_fit(char *s, size_t cap, size_t cols)
{
    size_t len = strlen(s);
    size_t cut;

    if (wrap_width(s, len) <= cols) {
        return;
    }
    cut = cols > 0 ? wrap_fit(s, len, cols - 1) : 0;
    if (cols == 0 || cut + sizeof TODAY_ELLIPSIS > cap) {
        s[cut] = '\0';
        return;
    }
    memcpy(s + cut, TODAY_ELLIPSIS, sizeof TODAY_ELLIPSIS);
}

void
tui_circle_today_beside(const struct circle_today *t, const struct engine_member *m, size_t cols,
                        char *out, size_t cap)
{
    int64_t now_ms = today_now_ms();

    out[0] = '\0';
    for (size_t i = 0; t != NULL && i < t->n; i++) {
        const struct today_entry *en = &t->entries[i];
        if (m->me ? !en->is_me : (en->is_me || strcmp(en->name, m->name) != 0)) {
            continue;
        }
        if (!today_is_recent(en, now_ms)) {
            return; /* their latest is older than a day: nothing */
        }
        today_summary(en, true, out, cap);
        if (wrap_width(out, strlen(out)) > cols) {
            today_summary(en, false, out, cap); /* the note only if it fits */
        }
        today_fit(out, cap, cols);
        return;
    }
}

/* Append piece to out[0..cap) only whole; false when it doesn't fit. */
static bool
today_append(char *out, size_t cap, const char *piece)
{
    size_t n = strlen(out);
    size_t len = strlen(piece);

    if (n + len + 1 > cap) {
        return false;
    }
    memcpy(out + n, piece, len + 1);
    return true;
}

/* "today: ben steady (seen, safe) “slow day”  ·  you okay"; "" when no one's is recent. */
static void
today_strip_text(const struct circle_today *t, int64_t now_ms, bool with_notes, char *out,
                 size_t cap)
{
    char summary[TODAY_NOTE_BUF + 128];
    char name[ENGINE_NAME_BUF];
    bool any = false;

    out[0] = '\0';
    if (!today_append(out, cap, "today:")) {
        return;
    }
    for (size_t i = 0; i < t->n; i++) {
        const struct today_entry *en = &t->entries[i];
        if (!today_is_recent(en, now_ms)) {
            continue;
        }
        today_sanitize(en->is_me ? "you" : en->name, name, sizeof name);
        today_summary(en, with_notes, summary, sizeof summary);
        if (!today_append(out, cap, any ? "  \u00b7  " : " ") || !today_append(out, cap, name) ||
            !today_append(out, cap, " ") || !today_append(out, cap, summary)) {
            break; /* longer than any line: today_fit cuts it */
        }
        any = true;
    }
    if (!any) {
        out[0] = '\0';
    }
}

/* app->today, when it belongs to the open conversation. */
static const struct circle_today *
today_open(const struct tui_app *app)
{
    const struct circle_today *t = app->today;

    if (t == NULL || app->conv.name[0] != '#' || strcmp(t->circle, app->conv.name) != 0) {
        return NULL;
    }
    return t;
}

bool
tui_circle_today_shows(const struct tui_app *app)
{
    const struct circle_today *t = today_open(app);
    int64_t now_ms = today_now_ms();

    for (size_t i = 0; t != NULL && i < t->n; i++) {
        if (today_is_recent(&t->entries[i], now_ms)) {
            return true;
        }
    }
    return false;
}

bool
tui_circle_today_strip(const struct tui_app *app, size_t cols, char *out, size_t cap)
{
    const struct circle_today *t = today_open(app);
    int64_t now_ms = today_now_ms();

    out[0] = '\0';
    if (t == NULL || cap < 8) {
        return false;
    }
    today_strip_text(t, now_ms, true, out, cap);
    if (wrap_width(out, strlen(out)) > cols) {
        today_strip_text(t, now_ms, false, out, cap); /* notes only when everything fits */
    }
    if (out[0] == '\0') {
        return false;
    }
    today_fit(out, cap, cols);
    return true;
}

void
tui_circle_today_reload(struct tui_app *app)
{
    tui_circle_today_destroy(app->today);
    app->today = app->conv.name[0] == '#' ? tui_circle_today_load(app->e, app->conv.name) : NULL;
    app->dirty |= TUI_DIRTY_CONV;
}
