/*
 * circle_care (tui): the circle care cards of DOMAIN.md §4 and the members card.
 * "How's today?" offers two equal paths (a simple mood, or which of seen, safe,
 * soothed, secure and stable are with you) and one optional line, then [Share
 * with #circle…] or [Just for me], which sends nothing and keeps nothing (kith
 * has no journal). Choosing "rough" quietly shows the crisis lines and offers,
 * never sends, "I could use support": a circle, an optional kind and one line.
 * The cards cover the screen (as the repair card does) and use engine verbs only.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui_impl.h"
#include "tui/wrap.h"

#define CARD_NOTE_MAX 140 /* bytes, as the engine's check-in and signal notes */
#define CARD_FOOTER   "kith isn't therapy \u00b7 If you're not safe right now: F1"

enum card_item {
    ITEM_MOOD,
    ITEM_WITH,
    ITEM_NOTE,
    ITEM_SHARE,
    ITEM_JUST_ME,
    ITEM_ASK, /* "Send 'I could use support'?" after "rough" */
    ITEM_TO,
    ITEM_KIND,
    ITEM_SEND,
    ITEM_NOT_NOW,
};

struct circle_card {
    enum tui_card_kind kind;
    char (*circles)[ENGINE_NAME_BUF]; /* active circles, "#name" */
    size_t n_circles;
    size_t circle_at;
    size_t focus;     /* index into card_items() */
    int mood;         /* 0 none, 1 rough .. 5 good */
    unsigned with;    /* seen 1, safe 2, soothed 4, secure 8, stable 16 */
    int support;      /* 0 any, 1 company .. 5 presence */
    size_t cursor[3]; /* the option under the cursor: mood, with, kind */
    struct input *note;
    struct engine_member *members; /* the members card */
    size_t n_members;
    struct circle_today *today; /* and their check-ins of the last day, or NULL */
    char title[ENGINE_NAME_BUF + 32];
    char msg[256];
};

static const char *const card_moods[] = { "rough", "low", "okay", "steady", "good" };
static const char *const card_withs[] = { "seen", "safe", "soothed", "secure", "stable" };
static const char *const card_kinds[] = { "any",
                                          "company",
                                          "distraction",
                                          "to be listened to",
                                          "practical help",
                                          "just knowing someone's there" };

static size_t
card_items(const struct circle_card *card, enum card_item out[6])
{
    size_t n = 0;

    if (card->kind == TUI_CARD_CHECKIN) {
        out[n++] = ITEM_MOOD;
        out[n++] = ITEM_WITH;
        out[n++] = ITEM_NOTE;
        out[n++] = ITEM_SHARE;
        out[n++] = ITEM_JUST_ME;
        if (card->mood == 1) {
            out[n++] = ITEM_ASK;
        }
    } else if (card->kind == TUI_CARD_SUPPORT) {
        out[n++] = ITEM_TO;
        out[n++] = ITEM_KIND;
        out[n++] = ITEM_NOTE;
        out[n++] = ITEM_SEND;
        out[n++] = ITEM_NOT_NOW;
    }
    return n;
}

static enum card_item
card_focused(const struct circle_card *card)
{
    enum card_item items[6];
    size_t n = card_items(card, items);

    return n == 0 ? ITEM_NOT_NOW : items[card->focus < n ? card->focus : n - 1];
}

static const char *
card_circle(const struct circle_card *card)
{
    return card->n_circles > 0 ? card->circles[card->circle_at] : "";
}

static void
card_destroy(struct circle_card *card)
{
    if (card == NULL) {
        return;
    }
    input_destroy(card->note);
    free(card->circles);
    free(card->members);
    tui_circle_today_destroy(card->today);
    explicit_bzero(card, sizeof *card);
    free(card);
}

void
tui_circle_card_free(struct tui_app *app)
{
    card_destroy(app->ccard);
    app->ccard = NULL;
}

/* The active circles, with want (or the open conversation's circle) chosen first. */
static void
card_load_circles(struct tui_app *app, struct circle_card *card, const char *want)
{
    const char *bare = want[0] == '#' ? want + 1 : want;

    card->circles = xcalloc(app->n_contacts + 1, sizeof *card->circles);
    for (size_t i = 0; i < app->n_contacts; i++) {
        const struct tui_contact_view *v = &app->contacts[i];
        if (v->circle.state == NULL || strcmp(v->circle.state, "active") != 0) {
            continue;
        }
        if (strcmp(v->circle.name, bare) == 0 ||
            (bare[0] == '\0' && strcmp(v->c.name, app->conv.name) == 0)) {
            card->circle_at = card->n_circles;
        }
        snprintf(card->circles[card->n_circles++], ENGINE_NAME_BUF, "%s", v->c.name);
    }
}

void
tui_circle_card_open(struct tui_app *app, enum tui_card_kind kind, const char *circle)
{
    char want[ENGINE_NAME_BUF];
    struct circle_card *card;

    snprintf(want, sizeof want, "%s", circle); /* circle may live in app->contacts */
    tui_circle_card_free(app);
    card = xcalloc(1, sizeof *card);
    card->kind = kind;
    card->note = input_create(CARD_NOTE_MAX, false);
    card->cursor[0] = 2; /* "okay": the middle, nothing chosen */
    card_load_circles(app, card, want);
    if (kind == TUI_CARD_MEMBERS) {
        snprintf(card->title, sizeof card->title, "%s", want);
        if (engine_circle_members(app->e, want, &card->members, &card->n_members) != KITH_OK) {
            card->members = NULL;
            card->n_members = 0;
            snprintf(card->msg, sizeof card->msg, "The members of %s couldn't be read just now.",
                     want);
        }
        card->today = tui_circle_today_load(app->e, want);
    }
    app->ccard = card;
    tui_show(app, &tui_screen_circle_card);
}

void
tui_circle_card_on_message(struct tui_app *app, const char *circle)
{
    struct circle_card *card = app->ccard;

    if (card == NULL || card->kind != TUI_CARD_MEMBERS || strcmp(card->title, circle) != 0) {
        return;
    }
    tui_circle_today_destroy(card->today);
    card->today = tui_circle_today_load(app->e, circle);
    app->dirty |= TUI_DIRTY_ALL;
}

/* ---- actions ---- */

/* Close the card and open the circle's conversation, with a calm line. */
static void
card_done(struct tui_app *app, const char *circle, const char *notice)
{
    char open[ENGINE_NAME_BUF];

    snprintf(open, sizeof open, "%s", circle);
    tui_close_overlay(app);
    tui_circle_card_free(app);
    if (open[0] != '\0') {
        tui_open_conversation(app, open);
    }
    tui_set_notice(app, false, "%s", notice);
}

static void
card_share(struct tui_app *app, struct circle_card *card)
{
    char id[ENGINE_ID_HEX];
    char notice[ENGINE_NAME_BUF + 32];
    const char *note = input_text(card->note, NULL);
    int rc;

    if (card->mood == 0 && card->with == 0) {
        snprintf(card->msg, sizeof card->msg,
                 "Choose a mood, or any of the five, first \u2014 either is enough.");
        return;
    }
    if (card->n_circles == 0) {
        snprintf(card->msg, sizeof card->msg,
                 "You're not in a circle yet: /circle create NAME starts one. "
                 "Just for me works any time.");
        return;
    }
    rc = engine_circle_checkin(app->e, card_circle(card), card->mood, card->with, note, id);
    if (rc != KITH_OK) {
        snprintf(card->msg, sizeof card->msg, "That wasn't shared: %s", kith_strerror(rc));
        return;
    }
    snprintf(notice, sizeof notice, "Shared with %s.", card_circle(card));
    card_done(app, card_circle(card), notice);
}

static void
card_send_support(struct tui_app *app, struct circle_card *card)
{
    char id[ENGINE_ID_HEX];
    char notice[ENGINE_NAME_BUF + 48];
    int rc;

    if (card->n_circles == 0) {
        snprintf(card->msg, sizeof card->msg,
                 "You're not in a circle yet: /circle create NAME starts one.");
        return;
    }
    rc = engine_circle_support(app->e, card_circle(card), card->support,
                               input_text(card->note, NULL), 0, id);
    if (rc != KITH_OK) {
        snprintf(card->msg, sizeof card->msg, "That wasn't sent: %s", kith_strerror(rc));
        return;
    }
    snprintf(notice, sizeof notice, "Sent to %s. Any answers show there.", card_circle(card));
    card_done(app, card_circle(card), notice);
}

/* Activate the focused item (Enter, or Space on a choice). */
static void
card_activate(struct tui_app *app, struct circle_card *card, bool then_next)
{
    enum card_item item = card_focused(card);
    enum card_item items[6];
    char circle[ENGINE_NAME_BUF];

    switch (item) {
    case ITEM_MOOD:
        card->mood = card->mood == (int)card->cursor[0] + 1 ? 0 : (int)card->cursor[0] + 1;
        break;
    case ITEM_WITH:
        card->with ^= 1u << card->cursor[1];
        break;
    case ITEM_KIND:
        card->support = (int)card->cursor[2];
        break;
    case ITEM_SHARE:
        card_share(app, card);
        return;
    case ITEM_JUST_ME:
        card_done(app, "", "Just for you \u2014 nothing was sent, and nothing was saved.");
        return;
    case ITEM_ASK:
        snprintf(circle, sizeof circle, "%s", card_circle(card));
        tui_circle_card_open(app, TUI_CARD_SUPPORT, circle); /* frees this card */
        return;
    case ITEM_SEND:
        card_send_support(app, card);
        return;
    case ITEM_NOT_NOW:
        card_done(app, "", "Nothing was sent.");
        return;
    case ITEM_TO:
    case ITEM_NOTE:
        break;
    }
    if (then_next && card->focus + 1 < card_items(card, items)) {
        card->focus++;
    }
}

/* Left and Right: the option under the cursor, or another circle. */
static void
card_move(struct circle_card *card, int delta)
{
    enum card_item item = card_focused(card);
    size_t row = item == ITEM_MOOD ? 0 : item == ITEM_WITH ? 1 : 2;
    size_t n = item == ITEM_KIND ? 6 : 5;

    if (item == ITEM_SHARE || item == ITEM_TO || item == ITEM_SEND) {
        if (card->n_circles > 0) {
            card->circle_at =
                (card->circle_at + (delta < 0 ? card->n_circles - 1 : 1)) % card->n_circles;
        }
        return;
    }
    if (item == ITEM_MOOD || item == ITEM_WITH || item == ITEM_KIND) {
        card->cursor[row] = (card->cursor[row] + (delta < 0 ? n - 1 : 1)) % n;
    }
}

static void
card_key(struct tui_app *app, const struct tui_key *k)
{
    struct circle_card *card = app->ccard;
    enum card_item items[6];
    size_t n;

    app->dirty |= TUI_DIRTY_ALL;
    if (card == NULL || card->kind == TUI_CARD_MEMBERS) {
        if (!(k->is_code && k->ch == KEY_RESIZE)) {
            tui_close_overlay(app);
            tui_circle_card_free(app);
        }
        return;
    }
    n = card_items(card, items);
    card->msg[0] = '\0';
    if ((!k->is_code && k->ch == 9) || (k->is_code && k->ch == KEY_DOWN)) {
        card->focus = (card->focus + 1) % n;
    } else if (k->is_code && (k->ch == KEY_BTAB || k->ch == KEY_UP)) {
        card->focus = (card->focus + n - 1) % n;
    } else if (k->is_code && (k->ch == KEY_LEFT || k->ch == KEY_RIGHT) &&
               card_focused(card) != ITEM_NOTE) {
        card_move(card, k->ch == KEY_LEFT ? -1 : 1);
    } else if ((!k->is_code && (k->ch == 10 || k->ch == 13)) ||
               (k->is_code && k->ch == KEY_ENTER)) {
        if (card_focused(card) == ITEM_NOTE) {
            card->focus = (card->focus + 1) % n;
        } else {
            card_activate(app, card, true);
        }
    } else if (card_focused(card) == ITEM_NOTE) {
        (void)tui_edit_key(card->note, k);
    } else if (!k->is_code && k->ch == ' ') {
        card_activate(app, card, false);
    }
}

/* ---- drawing (stdscr, whole screen) ---- */

/* Wrapped text from column 2 at row *y (moves *y down), never past last. */
static void
card_text(int *y, int last, const char *text, attr_t attr)
{
    size_t width = COLS > 6 ? (size_t)COLS - 4 : 2;
    struct wrap_line lines[16];
    size_t n = wrap_lines(text, strlen(text), width, lines, 16);

    attron(attr);
    for (size_t i = 0; i < n && i < 16 && *y <= last; i++) {
        move((*y)++, 2);
        addnstr(text + lines[i].off, (int)lines[i].len);
    }
    attroff(attr);
}

/* A row of options from column 4, flowing onto more rows when narrow: "(•) okay" for one
 * choice, "[x] safe" for several. The cursor shows reversed when the row has focus. */
static void
card_options(int *y, const char *const *opts, size_t n, unsigned chosen, size_t cursor,
             bool is_focused, bool is_multi)
{
    int x = 4;

    mvaddstr(*y, 1, is_focused ? ">" : " ");
    for (size_t i = 0; i < n; i++) {
        char item[64];
        bool is_on = (chosen & (1u << i)) != 0;
        int w;

        snprintf(item, sizeof item, is_multi ? "[%s] %s" : "(%s) %s",
                 is_on ? (is_multi ? "x" : "\u2022") : " ", opts[i]);
        w = (int)wrap_width(item, strlen(item));
        if (x > 4 && x + w + 2 > COLS - 1) {
            (*y)++;
            x = 4;
        }
        attron(is_focused && i == cursor ? A_REVERSE : is_on ? A_BOLD : A_NORMAL);
        mvaddstr(*y, x, item);
        attroff(A_REVERSE | A_BOLD);
        x += w + 3;
    }
    (*y)++;
}

static void
card_button(int y, int *x, const char *label, bool is_focused)
{
    char text[ENGINE_NAME_BUF + 48];

    snprintf(text, sizeof text, "[ %s ]", label);
    if (is_focused) {
        mvaddstr(y, 1, ">");
    }
    attron(is_focused ? A_REVERSE : A_NORMAL);
    mvaddstr(y, *x, text);
    attroff(A_REVERSE);
    *x += (int)wrap_width(text, strlen(text)) + 3;
}

/* The note line at row y; returns the column of its cursor. */
static int
card_note(const struct circle_card *card, int y, bool is_focused)
{
    size_t first = 0;
    size_t cursor_col = 0;
    size_t len = 0;
    const char *text = input_text(card->note, &len);
    size_t room = COLS > 10 ? (size_t)COLS - 8 : 2;

    mvaddstr(y, 1, is_focused ? ">" : " ");
    attron(A_DIM);
    mvaddstr(y, 4, "> ");
    attroff(A_DIM);
    input_view(card->note, room, &first, &cursor_col);
    addnstr(text + first, (int)wrap_fit(text + first, len - first, room));
    return 6 + (int)cursor_col;
}

/* Quietly, after "rough": where help is, and the offer (never sent on its own). */
static void
card_draw_rough(struct tui_app *app, const struct circle_card *card, int *y, int last)
{
    char lines[CRISIS_LINES_MAX][CRISIS_LINE_MAX];
    size_t n = tui_crisis_collect(app->e, true, lines, CRISIS_LINES_MAX);
    int x = 4;

    (*y)++;
    for (size_t i = 0; i < n && i < 3; i++) {
        card_text(y, last, lines[i], A_DIM);
    }
    card_button(*y, &x, "Send 'I could use support'\u2026", card_focused(card) == ITEM_ASK);
    (*y)++;
}

static void
card_draw_checkin(struct tui_app *app, const struct circle_card *card, int *note_y, int *note_x)
{
    enum card_item f = card_focused(card);
    char share[ENGINE_NAME_BUF + 24];
    int last = LINES - 5;
    int y = 0;
    int x = 4;

    attron(A_BOLD);
    mvaddstr(y++, 2, "How's today?");
    attroff(A_BOLD);
    card_text(&y, last, "Two ways to say it; either one is enough.", A_DIM);
    y++;
    card_text(&y, last, "A simple mood", A_NORMAL);
    card_options(&y, card_moods, 5, card->mood > 0 ? 1u << (card->mood - 1) : 0, card->cursor[0],
                 f == ITEM_MOOD, false);
    y++;
    card_text(&y, last, "Or: which of these are with you today?", A_NORMAL);
    card_options(&y, card_withs, 5, card->with, card->cursor[1], f == ITEM_WITH, true);
    y++;
    card_text(&y, last, "One line, if you like", A_NORMAL);
    *note_y = y;
    *note_x = card_note(card, y, f == ITEM_NOTE);
    y += 2;
    snprintf(share, sizeof share, "Share with %s\u2026",
             card->n_circles > 0 ? card_circle(card) : "a circle");
    card_button(y, &x, share, f == ITEM_SHARE);
    card_button(y, &x, "Just for me", f == ITEM_JUST_ME);
    y++;
    card_text(&y, last,
              card->n_circles > 1 ? "Left/Right: another circle. Just for me sends nothing and "
                                    "keeps nothing on this device."
                                  : "Just for me sends nothing and keeps nothing on this device.",
              A_DIM);
    if (card->mood == 1) {
        card_draw_rough(app, card, &y, last);
    }
}

static void
card_draw_support(const struct circle_card *card, int *note_y, int *note_x)
{
    enum card_item f = card_focused(card);
    char to[ENGINE_NAME_BUF + 48];
    char send[ENGINE_NAME_BUF + 16];
    int last = LINES - 5;
    int y = 0;
    int x = 4;

    attron(A_BOLD);
    mvaddstr(y++, 2, "I could use support");
    attroff(A_BOLD);
    card_text(&y, last,
              "A quiet signal to the people in one circle. Nothing is sent until you "
              "choose Send.",
              A_DIM);
    y++;
    snprintf(to, sizeof to, "To  %s%s", card->n_circles > 0 ? card_circle(card) : "(no circle yet)",
             card->n_circles > 1 ? "   (Left/Right: another circle)" : "");
    mvaddstr(y, 1, f == ITEM_TO ? ">" : " ");
    mvaddstr(y++, 4, to);
    y++;
    card_text(&y, last, "What kind, if you'd like", A_NORMAL);
    card_options(&y, card_kinds, 6, 1u << card->support, card->cursor[2], f == ITEM_KIND, false);
    y++;
    card_text(&y, last, "One line, if you like", A_NORMAL);
    *note_y = y;
    *note_x = card_note(card, y, f == ITEM_NOTE);
    y += 2;
    snprintf(send, sizeof send, "Send to %s", card->n_circles > 0 ? card_circle(card) : "a circle");
    card_button(y, &x, send, f == ITEM_SEND);
    card_button(y, &x, "Not now", f == ITEM_NOT_NOW);
    y += 2;
    card_text(&y, last,
              "It fades after 12 hours. Answers come into the circle's conversation; no one is "
              "told whether you've read them.",
              A_DIM);
}

/* One member's row: "ben · online", "you · admin". */
static void
card_member_row(const struct engine_member *m, char *row, size_t cap)
{
    char name[ENGINE_NAME_BUF];

    wrap_sanitize(m->name, strlen(m->name), name, sizeof name);
    snprintf(row, cap, "%s%s%s", m->me ? "you" : name, m->admin ? " \u00b7 admin" : "",
             m->me        ? ""
             : m->pending ? " \u00b7 connecting"
             : m->online  ? " \u00b7 online"
                          : "");
}

/* From column x of row y: the member's check-in of the last day, dim, or nothing. */
static void
card_draw_today(const struct circle_card *card, const struct engine_member *m, int y, int x)
{
    char today[TUI_CARD_COLS];

    if (x + 8 > COLS - 1) {
        return;
    }
    tui_circle_today_beside(card->today, m, (size_t)(COLS - 1 - x), today, TUI_CARD_COLS);
    attron(A_DIM);
    mvaddstr(y, x, today);
    attroff(A_DIM);
}

static void
card_draw_members(const struct circle_card *card)
{
    char title[ENGINE_NAME_BUF + 48];
    char name[ENGINE_NAME_BUF];
    char row[ENGINE_NAME_BUF + 64];
    size_t widest = 0;
    int y = 0;

    wrap_sanitize(card->title, strlen(card->title), name, sizeof name);
    snprintf(title, sizeof title, "%s \u00b7 who is in it", name);
    attron(A_BOLD);
    mvaddstr(y++, 2, title);
    attroff(A_BOLD);
    y++;
    for (size_t i = 0; i < card->n_members; i++) { /* check-ins line up after the widest row */
        size_t w;
        card_member_row(&card->members[i], row, sizeof row);
        w = wrap_width(row, strlen(row));
        widest = w > widest ? w : widest;
    }
    for (size_t i = 0; i < card->n_members && y <= LINES - 4; i++) {
        card_member_row(&card->members[i], row, sizeof row);
        mvaddstr(y, 4, row);
        card_draw_today(card, &card->members[i], y++, 4 + (int)widest + 4);
    }
    if (y > LINES - 4 && card->n_members > 0) {
        card_text(&y, LINES - 3, "A taller window shows everyone.", A_DIM);
    }
    attron(A_DIM);
    mvaddstr(LINES - 2, 2, "/circle invite adds someone \u00b7 any key goes back");
    attroff(A_DIM);
}

static void
card_draw(struct tui_app *app)
{
    struct circle_card *card = app->ccard;
    int note_y = -1;
    int note_x = 0;

    erase();
    curs_set(0);
    if (card == NULL) {
        wnoutrefresh(stdscr);
        return;
    }
    if (card->kind == TUI_CARD_MEMBERS) {
        card_draw_members(card);
    } else {
        if (card->kind == TUI_CARD_CHECKIN) {
            card_draw_checkin(app, card, &note_y, &note_x);
        } else {
            card_draw_support(card, &note_y, &note_x);
        }
        attron(A_DIM);
        mvaddstr(LINES - 2, 2,
                 "Tab next \u00b7 Left/Right choose \u00b7 Space picks \u00b7 "
                 "Enter \u00b7 Esc goes back");
        attroff(A_DIM);
        mvaddstr(LINES - 1, 2, CARD_FOOTER);
    }
    if (card->msg[0] != '\0') {
        int y = LINES - 4;
        card_text(&y, LINES - 3, card->msg, A_BOLD);
    }
    if (note_y >= 0 && card_focused(card) == ITEM_NOTE) {
        move(note_y, note_x);
        curs_set(1);
    }
    wnoutrefresh(stdscr);
}

const struct tui_screen tui_screen_circle_card = { "circle-card", card_key, card_draw };
