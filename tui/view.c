/*
 * view: every curses window of the client and everything drawn in them.
 * Layout: a sidebar of contacts on the left, the conversation (or an
 * overlay) on the right, a status line and the input line at the bottom.
 * Each draw writes only the windows marked dirty and ends in wnoutrefresh;
 * tui_view_flush does the one doupdate of a loop pass. Text from others is
 * sanitized (wrap_sanitize) before it reaches the terminal.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/qrblock.h"
#include "tui/tui_impl.h"
#include "tui/wrap.h"

enum view_pair {
    VIEW_PAIR_OWN = 1,
    VIEW_PAIR_OTHER = 2,
    VIEW_PAIR_TROUBLE = 3,
    VIEW_PAIR_ONLINE = 4,
};

#define VIEW_PAD 1 /* a column between the sidebar's line and the text */

struct tui_windows {
    WINDOW *side;
    WINDOW *conv;
    WINDOW *status;
    WINDOW *input;
    int side_w;
    bool use_color;
    bool is_tiny;
};

/* One message, shaped for the conversation pane. */
struct view_msg {
    char head[ENGINE_NAME_BUF + 16]; /* "HH:MM name " */
    size_t indent;                   /* columns before the body */
    char *body;                      /* sanitized text, then "  note" */
    size_t text_len;                 /* body bytes before the note */
    size_t body_len;
    bool is_dim;
};

static attr_t
view_pair(const struct tui_windows *w, enum view_pair p)
{
    return w->use_color ? (attr_t)COLOR_PAIR(p) : A_NORMAL;
}

struct tui_windows *
tui_view_create(bool use_color)
{
    struct tui_windows *w = xcalloc(1, sizeof *w);

    w->use_color = use_color;
    if (use_color) {
        init_pair(VIEW_PAIR_OWN, COLOR_GREEN, -1);
        init_pair(VIEW_PAIR_OTHER, COLOR_CYAN, -1);
        init_pair(VIEW_PAIR_TROUBLE, COLOR_YELLOW, -1);
        init_pair(VIEW_PAIR_ONLINE, COLOR_GREEN, -1);
    }
    return w;
}

static void
view_delete_windows(struct tui_windows *w)
{
    WINDOW **all[] = { &w->side, &w->conv, &w->status, &w->input };

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (*all[i] != NULL) {
            delwin(*all[i]);
            *all[i] = NULL;
        }
    }
}

void
tui_view_destroy(struct tui_windows *w)
{
    if (w == NULL) {
        return;
    }
    view_delete_windows(w);
    free(w);
}

void
tui_view_layout(struct tui_app *app)
{
    struct tui_windows *w = app->win;
    int side_w = COLS / 5;

    view_delete_windows(w);
    w->is_tiny = COLS < 30 || LINES < 6;
    if (w->is_tiny) {
        return;
    }
    side_w = side_w < TUI_SIDEBAR_MIN ? TUI_SIDEBAR_MIN : side_w;
    side_w = side_w > TUI_SIDEBAR_MAX ? TUI_SIDEBAR_MAX : side_w;
    w->side_w = side_w;
    w->side = newwin(LINES - 2, side_w + 1, 0, 0);
    w->conv = newwin(LINES - 2, COLS - side_w - 1, 0, side_w + 1);
    w->status = newwin(1, COLS, LINES - 2, 0);
    w->input = newwin(1, COLS, LINES - 1, 0);
    if (w->side == NULL || w->conv == NULL || w->status == NULL || w->input == NULL) {
        view_delete_windows(w);
        w->is_tiny = true;
        return;
    }
    keypad(w->input, TRUE);
    app->dirty |= TUI_DIRTY_ALL;
    clearok(curscr, TRUE);
}

size_t
tui_view_conv_lines(const struct tui_app *app)
{
    int rows;

    if (app->win->conv == NULL) {
        return 1;
    }
    rows = getmaxy(app->win->conv) - (tui_circle_today_shows(app) ? 2 : 1); /* title, today */
    return (size_t)(rows > 1 ? rows : 1);
}

size_t
tui_view_conv_width(const struct tui_app *app)
{
    if (app->win->conv == NULL || getmaxx(app->win->conv) <= VIEW_PAD + 1) {
        return 20;
    }
    return (size_t)(getmaxx(app->win->conv) - VIEW_PAD);
}

/* Write s[0..len) at the cursor, at most cols columns. */
static void
view_put(WINDOW *win, const char *s, size_t len, size_t cols)
{
    size_t fit = wrap_fit(s, len, cols);

    if (fit > 0) {
        waddnstr(win, s, (int)fit);
    }
}

static void
view_puts(WINDOW *win, const char *s)
{
    int room = getmaxx(win) - getcurx(win);

    if (room > 0) {
        view_put(win, s, strlen(s), (size_t)room);
    }
}

/* ---- messages ---- */

/* What the receipt told, as wrap_boundary_note words it: a heavy message held by the
 * receiver's "later" is theirs to look at then, not a quiet-hours hold. */
static const char *
view_told(const struct engine_msg *m)
{
    if (m->told != NULL && m->is_heavy && strcmp(m->told, "held_until") == 0) {
        return "consent_later";
    }
    return m->told;
}

static bool
view_hides_text(const struct engine_msg *m)
{
    return !m->outgoing && m->state != NULL &&
           (strcmp(m->state, "held") == 0 || strcmp(m->state, "awaiting_consent") == 0 ||
            strcmp(m->state, "folded") == 0);
}

static void
view_shape(const struct engine_msg *m, size_t width, struct view_msg *v)
{
    char clock[6];
    char name[ENGINE_NAME_BUF];
    char note[WRAP_NOTE_MAX];
    size_t text_len = m->text != NULL ? strlen(m->text) : 0;
    size_t cap;
    size_t name_cols;

    memset(v, 0, sizeof *v);
    wrap_clock(m->ts_ms, clock);
    wrap_sanitize(m->outgoing ? "you" : m->from, strlen(m->outgoing ? "you" : m->from), name,
                  sizeof name);
    name_cols = wrap_width(name, strlen(name));
    if (name_cols > 16) {
        name[wrap_fit(name, strlen(name), 16)] = '\0';
        name_cols = wrap_width(name, strlen(name));
    }
    snprintf(v->head, sizeof v->head, "%s %s ", clock, name);
    v->indent = 6 + name_cols + 1;
    if (v->indent > width / 2) {
        v->indent = width / 2;
    }
    wrap_state_note(m->state, m->release_at, note, sizeof note);
    wrap_boundary_note(m->outgoing ? NULL : m->from, m->state, m->outgoing ? view_told(m) : NULL,
                       m->arrives_at, m->is_digest, note, sizeof note);
    if (view_hides_text(m)) {
        text_len = 0;
    }
    cap = text_len * 3 + sizeof note + 4;
    v->body = xmalloc(cap);
    v->text_len = wrap_sanitize(m->text != NULL ? m->text : "", text_len, v->body, cap);
    v->body_len = v->text_len;
    if (note[0] != '\0') {
        v->body_len += (size_t)snprintf(v->body + v->body_len, cap - v->body_len, "%s%s",
                                        v->text_len > 0 ? "  " : "", note);
    }
    v->is_dim = m->state != NULL && strcmp(m->state, "folded") == 0;
}

static void
view_unshape(struct view_msg *v)
{
    if (v->body != NULL) {
        explicit_bzero(v->body, v->body_len);
        free(v->body);
    }
    v->body = NULL;
}

static size_t
view_body_width(const struct view_msg *v, size_t width)
{
    return width > v->indent ? width - v->indent : 1;
}

size_t
tui_view_msg_height(const struct engine_msg *m, size_t width)
{
    struct view_msg v;
    size_t n;

    view_shape(m, width, &v);
    n = wrap_lines(v.body, v.body_len, view_body_width(&v, width), NULL, 0);
    view_unshape(&v);
    return n;
}

/* Draw display line `line` of v at window row y. */
static void
view_draw_msg_line(const struct tui_app *app, const struct engine_msg *m, const struct view_msg *v,
                   const struct wrap_line *l, size_t line, int y)
{
    WINDOW *win = app->win->conv;
    size_t width = (size_t)getmaxx(win);
    int x = VIEW_PAD;
    size_t text_end = l->off + l->len < v->text_len ? l->off + l->len : v->text_len;

    width = width > VIEW_PAD ? width - VIEW_PAD : 1;
    wmove(win, y, x);
    if (line == 0) {
        wattron(win, A_DIM);
        view_put(win, v->head, 6, v->indent);
        wattroff(win, A_DIM);
        wattron(win, A_BOLD | view_pair(app->win, m->outgoing ? VIEW_PAIR_OWN : VIEW_PAIR_OTHER));
        view_put(win, v->head + 6, strlen(v->head + 6), v->indent - 6);
        wattroff(win, A_BOLD | view_pair(app->win, m->outgoing ? VIEW_PAIR_OWN : VIEW_PAIR_OTHER));
    }
    wmove(win, y, x + (int)v->indent);
    if (text_end > l->off) {
        if (v->is_dim) {
            wattron(win, A_DIM);
        }
        view_put(win, v->body + l->off, text_end - l->off, width - v->indent);
        wattroff(win, A_DIM);
    }
    if (l->off + l->len > v->text_len) {
        size_t from = l->off > v->text_len ? l->off : v->text_len;
        wattron(win, A_DIM);
        view_put(win, v->body + from, l->off + l->len - from,
                 (size_t)getmaxx(win) - (size_t)getcurx(win));
        wattroff(win, A_DIM);
    }
}

/* The support card of an open circle (tui/circle.c) at the bottom of the pane, under a faint
 * rule; returns the rows it took. */
static int
view_draw_card(struct tui_app *app)
{
    char rows[TUI_CARD_ROWS][TUI_CARD_COLS];
    WINDOW *win = app->win->conv;
    size_t n = tui_circle_card(app, rows);
    int top = getmaxy(win) - (int)n - 1;

    if (n == 0 || top < 4) {
        return 0;
    }
    wattron(win, A_DIM);
    mvwhline(win, top, 1, ACS_HLINE, getmaxx(win) - 2);
    wattroff(win, A_DIM);
    for (size_t i = 0; i < n; i++) {
        wmove(win, top + 1 + (int)i, 2);
        view_puts(win, rows[i]);
    }
    return (int)n + 1;
}

/* Fill rows [top, rows] from the bottom, skipping the newest `skip` lines. */
static void
view_draw_messages(struct tui_app *app, int top)
{
    WINDOW *win = app->win->conv;
    size_t width = tui_view_conv_width(app);
    int y = getmaxy(win) - 1 - view_draw_card(app);
    size_t skip = app->conv.scroll;

    for (size_t i = app->conv.n; i-- > 0 && y >= top;) {
        const struct engine_msg *m = &app->conv.msgs[i];
        struct view_msg v;
        struct wrap_line *lines;
        size_t n;

        view_shape(m, width, &v);
        n = wrap_lines(v.body, v.body_len, view_body_width(&v, width), NULL, 0);
        lines = xcalloc(n, sizeof *lines);
        (void)wrap_lines(v.body, v.body_len, view_body_width(&v, width), lines, n);
        for (size_t l = n; l-- > 0 && y >= top;) {
            if (skip > 0) {
                skip--;
                continue;
            }
            view_draw_msg_line(app, m, &v, &lines[l], l, y--);
        }
        free(lines);
        view_unshape(&v);
    }
}

static const struct tui_contact_view *
view_open_contact(const struct tui_app *app)
{
    for (size_t i = 0; i < app->n_contacts; i++) {
        if (strcmp(app->contacts[i].c.name, app->conv.name) == 0) {
            return &app->contacts[i];
        }
    }
    return NULL;
}

/* The conversation's disappearing-messages setting in its title line, and an open proposal. */
static void
view_draw_retention(struct tui_app *app, WINDOW *win)
{
    struct engine_retention r;
    char line[96];
    char what[32];

    if (engine_retention_get(app->e, app->conv.name, &r) != KITH_OK) {
        return;
    }
    if (r.seconds > 0) {
        engine_retention_text(r.seconds, what, sizeof what);
        snprintf(line, sizeof line, "  \u00b7 messages disappear after %s", what);
        view_puts(win, line);
    }
    if (r.has_proposal) {
        engine_retention_text(r.proposal_seconds, what, sizeof what);
        snprintf(line, sizeof line, r.is_ours ? "  \u00b7 you proposed: %s" :
                 "  \u00b7 they propose: %s (/retention accept)", r.proposal_seconds > 0 ? what :
                 "keep messages");
        view_puts(win, line);
    }
}

static void
view_draw_conv(struct tui_app *app)
{
    WINDOW *win = app->win->conv;
    const struct tui_contact_view *c = view_open_contact(app);
    char name[ENGINE_NAME_BUF];
    char today[TUI_CARD_COLS];
    int top = 1;

    werase(win);
    if (app->conv.name[0] == '\0') {
        wmove(win, 1, 1);
        view_puts(win, "No conversation is open.");
        wmove(win, 3, 1);
        view_puts(win, "/invite makes a code to give someone you trust;");
        wmove(win, 4, 1);
        view_puts(win, "/accept CODE adds someone whose code you have.");
        wmove(win, 5, 1);
        view_puts(win, "F1 shows help.");
        wnoutrefresh(win);
        return;
    }
    wrap_sanitize(app->conv.name, strlen(app->conv.name), name, sizeof name);
    wmove(win, 0, 1);
    wattron(win, A_BOLD);
    view_puts(win, name);
    wattroff(win, A_BOLD);
    wattron(win, A_DIM);
    if (c != NULL && c->circle.state != NULL) {
        char note[128];
        tui_circle_title(c, note, sizeof note);
        view_puts(win, note);
    } else if (c != NULL) {
        view_puts(win, c->c.online ? "  \u00b7 online"
                                   : (c->c.pending ? "  \u00b7 waiting for them to connect"
                                                   : "  \u00b7 offline"));
        if (c->c.verified) {
            view_puts(win, "  \u00b7 verified");
        }
        view_draw_retention(app, win);
    }
    if (app->conv.scroll > 0) {
        view_puts(win, "  \u00b7 scrolled back (End: newest)");
    }
    if (tui_circle_today_strip(app, tui_view_conv_width(app) - 1, today, sizeof today)) {
        wmove(win, 1, 1); /* a circle's check-ins of the last day (tui/circle_today.c) */
        view_puts(win, today);
        top = 2;
    }
    wattroff(win, A_DIM);
    if (app->conv.n == 0) {
        wmove(win, 2, 1);
        wattron(win, A_DIM);
        view_puts(win, "Nothing here yet. What you write below goes to them.");
        wattroff(win, A_DIM);
    }
    view_draw_messages(app, top);
    wnoutrefresh(win);
}

/* ---- sidebar, status, input ---- */

static void
view_draw_side(struct tui_app *app)
{
    WINDOW *win = app->win->side;
    int w = app->win->side_w;
    int rows = getmaxy(win);
    char name[ENGINE_NAME_BUF];

    werase(win);
    mvwvline(win, 0, w, ACS_VLINE, rows);
    wmove(win, 0, 1);
    wattron(win, A_BOLD);
    wrap_sanitize(app->me.name, strlen(app->me.name), name, sizeof name);
    view_put(win, name, strlen(name), (size_t)w - 1);
    wattroff(win, A_BOLD);
    for (size_t i = 0; i < app->n_contacts; i++) {
        const struct tui_contact_view *v = &app->contacts[i];
        bool is_open = strcmp(v->c.name, app->conv.name) == 0;
        int y = (int)i + 2 + (v->circle.state != NULL ? 1 : 0); /* circles: a group of their own */
        char num[4] = "  ";

        if (y >= rows) {
            break;
        }
        if (is_open) {
            wattron(win, A_REVERSE);
            mvwhline(win, y, 0, ' ', w);
        }
        if (i < 9) {
            snprintf(num, sizeof num, "%zu", i + 1);
        }
        wmove(win, y, 0);
        wattron(win, A_DIM);
        view_puts(win, num);
        wattroff(win, A_DIM);
        wmove(win, y, 2);
        if (v->circle.state != NULL) {
            waddstr(win, "  ");
        } else if (v->c.online) {
            wattron(win, A_BOLD | view_pair(app->win, VIEW_PAIR_ONLINE));
            waddstr(win, "\u25cf ");
            wattroff(win, A_BOLD | view_pair(app->win, VIEW_PAIR_ONLINE));
        } else {
            waddstr(win, v->c.pending ? "\u2026 " : "\u25cb ");
        }
        wrap_sanitize(tui_circle_label(v), strlen(tui_circle_label(v)), name, sizeof name);
        wattron(win, tui_circle_is_quiet(v) ? A_DIM : A_NORMAL);
        view_put(win, name, strlen(name), (size_t)(w - 6));
        wattroff(win, A_DIM);
        if (v->c.boundaries[0] != '\0') {
            wmove(win, y, w - 3);
            wattron(win, A_DIM);
            waddstr(win, "\u25d0"); /* a boundary is in force */
            wattroff(win, A_DIM);
        }
        if (v->has_unread) {
            wmove(win, y, w - 2);
            wattron(win, A_BOLD);
            waddstr(win, "\u2022"); /* a dot, never a count */
            wattroff(win, A_BOLD);
        }
        wattroff(win, A_REVERSE);
    }
    if (app->n_contacts == 0 && rows > 4) {
        wmove(win, 2, 1);
        wattron(win, A_DIM);
        view_put(win, "no one yet", 10, (size_t)w - 1);
        wattroff(win, A_DIM);
    }
    wnoutrefresh(win);
}

static void
view_draw_status(struct tui_app *app)
{
    WINDOW *win = app->win->status;
    char left[96];
    const char *hint = "F1 help \u00b7 F12 lock ";
    size_t cols = (size_t)getmaxx(win);
    size_t used;
    int n;

    werase(win);
    wbkgdset(win, ' ' | A_REVERSE);
    werase(win);
    n = snprintf(left, sizeof left, " %s", app->me.online ? "online" : "offline");
    if (app->status.queued > 0 && n > 0 && (size_t)n < sizeof left) {
        n += snprintf(left + n, sizeof left - (size_t)n, " \u00b7 %zu queued", app->status.queued);
    }
    if (app->status.held > 0 && n > 0 && (size_t)n < sizeof left) {
        n += snprintf(left + n, sizeof left - (size_t)n, " \u00b7 %zu held", app->status.held);
    }
    wmove(win, 0, 0);
    view_put(win, left, strlen(left), cols);
    used = wrap_width(left, strlen(left));
    if (app->notice[0] != '\0' && used + 4 < cols) {
        waddstr(win, "   ");
        if (app->notice_is_trouble) {
            wattron(win, A_BOLD | view_pair(app->win, VIEW_PAIR_TROUBLE));
        }
        view_put(win, app->notice, strlen(app->notice), cols - used - 4);
        wattroff(win, A_BOLD | view_pair(app->win, VIEW_PAIR_TROUBLE));
    } else if (used + wrap_width(hint, strlen(hint)) + 2 < cols) {
        wmove(win, 0, (int)(cols - wrap_width(hint, strlen(hint))));
        waddstr(win, hint);
    }
    wnoutrefresh(win);
}

static void
view_draw_input(struct tui_app *app)
{
    WINDOW *win = app->win->input;
    char prompt[ENGINE_NAME_BUF + 4];
    size_t cols = (size_t)getmaxx(win);
    size_t prompt_cols;
    size_t first = 0;
    size_t cursor_col = 0;
    size_t len = 0;
    const char *text = input_text(app->line, &len);

    werase(win);
    if (app->conv.name[0] != '\0') {
        char name[ENGINE_NAME_BUF];
        wrap_sanitize(app->conv.name, strlen(app->conv.name), name, sizeof name);
        name[wrap_fit(name, strlen(name), cols / 4)] = '\0';
        snprintf(prompt, sizeof prompt, "%s> ", name);
    } else {
        snprintf(prompt, sizeof prompt, "> ");
    }
    prompt_cols = wrap_width(prompt, strlen(prompt));
    wmove(win, 0, 0);
    wattron(win, A_DIM);
    waddstr(win, prompt);
    wattroff(win, A_DIM);
    input_view(app->line, cols - prompt_cols, &first, &cursor_col);
    view_put(win, text + first, len - first, cols - prompt_cols - 1);
    wmove(win, 0, (int)(prompt_cols + cursor_col));
    curs_set(1);
    wnoutrefresh(win); /* last, so the cursor rests here */
}

static bool
view_too_small(struct tui_app *app)
{
    if (!app->win->is_tiny) {
        return false;
    }
    werase(stdscr);
    mvwaddstr(stdscr, 0, 0, "Please make the window a little larger.");
    wnoutrefresh(stdscr);
    return true;
}

/* Sidebar, status and input around whatever the main pane shows. */
static void
view_draw_frame(struct tui_app *app)
{
    if (app->dirty & TUI_DIRTY_SIDE) {
        view_draw_side(app);
    }
    if (app->dirty & TUI_DIRTY_STATUS) {
        view_draw_status(app);
    }
}

void
tui_view_draw_chat(struct tui_app *app)
{
    if (view_too_small(app)) {
        return;
    }
    view_draw_frame(app);
    if (app->dirty & TUI_DIRTY_CONV) {
        view_draw_conv(app);
    }
    view_draw_input(app);
}

/* ---- overlays (drawn in the conversation pane) ---- */

static WINDOW *
view_overlay_begin(struct tui_app *app, const char *title)
{
    WINDOW *win = app->win->conv;

    view_draw_frame(app);
    werase(win);
    wmove(win, 0, 1);
    wattron(win, A_BOLD);
    view_puts(win, title);
    wattroff(win, A_BOLD);
    return win;
}

static void
view_overlay_end(struct tui_app *app, const char *footer)
{
    WINDOW *win = app->win->conv;

    wmove(win, getmaxy(win) - 1, 1);
    wattron(win, A_DIM);
    view_puts(win, footer);
    wattroff(win, A_DIM);
    curs_set(0);
    wnoutrefresh(win);
}

/* Wrapped paragraph at row *y; moves *y down. */
static void
view_paragraph(WINDOW *win, int *y, int last_row, const char *text, attr_t attr)
{
    size_t width = (size_t)getmaxx(win) - 2;
    struct wrap_line lines[32];
    size_t n = wrap_lines(text, strlen(text), width, lines, 32);

    wattron(win, attr);
    for (size_t i = 0; i < n && i < 32 && *y <= last_row; i++) {
        wmove(win, (*y)++, 1);
        view_put(win, text + lines[i].off, lines[i].len, width);
    }
    wattroff(win, attr);
}

/* Column where a help line's continuation rows start: after the "  usage  "
 * gap of a two-column line, else under its first word. */
static size_t
view_hang(const char *line)
{
    size_t lead = strspn(line, " ");
    const char *gap = strstr(line + lead, "  ");

    if (gap != NULL && gap[strspn(gap, " ")] != '\0') {
        return (size_t)(gap - line) + strspn(gap, " ");
    }
    return lead;
}

/* Draw (win != NULL) or count the rows one help line takes at width,
 * starting at row y and skipping the first `skip` rows. */
static size_t
view_help_rows(WINDOW *win, const char *line, size_t width, int y, size_t skip, int last_row)
{
    size_t len = strlen(line);
    size_t hang = view_hang(line);
    struct wrap_line first;
    struct wrap_line rest[16];
    size_t n_rest = 0;
    size_t from;

    if (hang > width / 2) {
        hang = width / 2;
    }
    (void)wrap_lines(line, len, width, &first, 1);
    from = first.off + first.len;
    from += strspn(line + from, " ");
    if (from < len) {
        n_rest = wrap_lines(line + from, len - from, width - hang, rest, 16);
        n_rest = n_rest > 16 ? 16 : n_rest;
    }
    if (win != NULL) {
        size_t row = 0;
        if (row++ >= skip && y <= last_row) {
            wmove(win, y++, 1);
            view_put(win, line + first.off, first.len, width);
        }
        for (size_t i = 0; i < n_rest; i++) {
            if (row++ >= skip && y <= last_row) {
                wmove(win, y++, 1 + (int)hang);
                view_put(win, line + from + rest[i].off, rest[i].len, width - hang);
            }
        }
    }
    return 1 + n_rest;
}

void
tui_view_draw_help(struct tui_app *app)
{
    WINDOW *win;
    int last;
    int y = 1;
    size_t width;
    size_t total = 0;
    size_t skip;

    if (view_too_small(app)) {
        return;
    }
    win = view_overlay_begin(app, "Help");
    last = getmaxy(win) - 2;
    width = (size_t)getmaxx(win) > 3 ? (size_t)getmaxx(win) - 2 : 1;
    for (size_t i = 0; i < tui_help_count(); i++) {
        total += view_help_rows(NULL, tui_help_line(i), width, 0, 0, 0);
    }
    if (app->overlay_scroll + (size_t)last > total) {
        app->overlay_scroll = total > (size_t)last ? total - (size_t)last : 0;
    }
    skip = app->overlay_scroll;
    for (size_t i = 0; i < tui_help_count() && y <= last; i++) {
        const char *line = tui_help_line(i);
        bool is_heading = line[0] != ' ' && line[0] != '\0' && i + 1 < tui_help_count() &&
                          tui_help_line(i + 1)[0] == ' ';
        size_t rows = view_help_rows(NULL, line, width, 0, 0, 0);

        if (is_heading) {
            wattron(win, A_BOLD);
        }
        view_help_rows(win, line, width, y, skip, last);
        wattroff(win, A_BOLD);
        y += rows > skip ? (int)(rows - skip) : 0;
        skip = rows > skip ? 0 : skip - rows;
    }
    view_overlay_end(app, "PgUp/PgDn or Up/Down to scroll \u00b7 any other key goes back");
    view_draw_input(app);
}

void
tui_view_draw_invite(struct tui_app *app)
{
    WINDOW *win;
    int y = 2;
    int last;

    if (view_too_small(app)) {
        return;
    }
    win = view_overlay_begin(app, "Invite someone");
    last = getmaxy(win) - 2;
    view_paragraph(win, &y, last,
                   "Give this code to one person you trust, in a way only they will see. "
                   "They type /accept CODE (or kith accept CODE). It works once, for 48 hours.",
                   A_NORMAL);
    y++;
    view_paragraph(win, &y, last, app->invite_code, A_BOLD);
    y++;
    if (app->qr_rows == NULL) {
        view_paragraph(win, &y, last,
                       qrblock_available() ? "This code is too long for a QR code."
                                           : "This kith was built without QR codes.",
                       A_DIM);
    } else if ((int)app->qr_n <= last - y + 1 && (int)app->qr_cols + 2 <= getmaxx(win)) {
        for (size_t i = 0; i < app->qr_n; i++) {
            wmove(win, y++, 1);
            waddstr(win, app->qr_rows[i]);
        }
    } else {
        view_paragraph(win, &y, last,
                       "A larger window shows the QR code here too (it needs about that many "
                       "rows and columns).",
                       A_DIM);
    }
    view_overlay_end(app, "any key goes back");
    view_draw_input(app);
}

void
tui_view_draw_verify(struct tui_app *app)
{
    WINDOW *win;
    char name[ENGINE_NAME_BUF];
    char text[400];
    int y = 2;
    int last;

    if (view_too_small(app)) {
        return;
    }
    wrap_sanitize(app->verify.name, strlen(app->verify.name), name, sizeof name);
    snprintf(text, sizeof text, "Safety number with %s", name);
    win = view_overlay_begin(app, text);
    last = getmaxy(win) - 2;
    view_paragraph(win, &y, last, app->verify.safety, A_BOLD);
    y++;
    snprintf(text, sizeof text,
             "%s sees the same number on their screen. Compare the two in person or on a call "
             "you trust. If they match, press y to mark %s verified; n marks not verified.",
             name, name);
    view_paragraph(win, &y, last, text, A_NORMAL);
    y++;
    view_paragraph(win, &y, last,
                   app->verify.verified ? "Right now: verified." : "Right now: not verified.",
                   A_DIM);
    view_overlay_end(app, "y: they match \u00b7 n: not verified \u00b7 any other key goes back");
    view_draw_input(app);
}

void
tui_view_draw_boundary(struct tui_app *app)
{
    WINDOW *win;
    char name[ENGINE_NAME_BUF];
    char title[ENGINE_NAME_BUF + 32];
    const char *rules = app->bnd_rules != NULL ? app->bnd_rules : "";
    size_t first = 0, cursor_col = 0, len = 0;
    const char *typed;
    int y = 2;
    int last;
    int line_y;

    if (view_too_small(app)) {
        return;
    }
    wrap_sanitize(app->bnd_name, strlen(app->bnd_name), name, sizeof name);
    snprintf(title, sizeof title, "Your boundaries for %s", name);
    win = view_overlay_begin(app, title);
    last = getmaxy(win) - 7;
    for (const char *p = rules; *p != '\0' && y <= last;) {
        size_t n = strcspn(p, "\n");
        char row[512];
        snprintf(row, sizeof row, "%.*s", (int)(n < sizeof row - 1 ? n : sizeof row - 1), p);
        view_paragraph(win, &y, last, row, A_NORMAL);
        p += n + (p[n] == '\n' ? 1 : 0);
    }
    line_y = getmaxy(win) - 5;
    wmove(win, line_y, 1);
    wattron(win, A_DIM);
    view_puts(win, "rule> ");
    wattroff(win, A_DIM);
    typed = input_text(app->bnd_line, &len);
    input_view(app->bnd_line, (size_t)getmaxx(win) - 9, &first, &cursor_col);
    view_put(win, typed + first, len - first, (size_t)getmaxx(win) - 9);
    y = line_y + 1;
    if (app->bnd_why != NULL) {
        view_paragraph(win, &y, getmaxy(win) - 2, app->bnd_why, A_BOLD);
    } else if (app->bnd_preview != NULL) {
        view_paragraph(win, &y, getmaxy(win) - 2, app->bnd_preview, A_NORMAL);
    }
    view_overlay_end(app, "Enter saves \u00b7 -quiet removes a rule \u00b7 Esc goes back \u00b7 "
                          "e.g. quiet=22:00-08:00 mute=8h block");
    view_draw_input(app);
    wmove(win, line_y, 7 + (int)cursor_col);
    curs_set(1);
    wnoutrefresh(win); /* the cursor rests in the rule line */
}

void
tui_view_draw_contacts(struct tui_app *app)
{
    WINDOW *win;
    int rows;

    if (view_too_small(app)) {
        return;
    }
    win = view_overlay_begin(app, "Contacts");
    rows = getmaxy(win) - 2;
    if (app->n_contacts == 0) {
        wmove(win, 2, 1);
        view_puts(win, "No contacts yet. /invite makes a code to give someone.");
    }
    if (app->overlay_scroll >= app->n_contacts) {
        app->overlay_scroll = app->n_contacts > 0 ? app->n_contacts - 1 : 0;
    }
    for (int r = 0; r + 1 < rows && app->overlay_scroll + (size_t)r < app->n_contacts; r++) {
        const struct engine_contact *c = &app->contacts[app->overlay_scroll + (size_t)r].c;
        char name[ENGINE_NAME_BUF];
        char line[256];

        wrap_sanitize(c->name, strlen(c->name), name, sizeof name);
        snprintf(line, sizeof line, "%-20s %s%s%s", name,
                 c->pending ? "waiting for them to connect" : (c->online ? "online" : "offline"),
                 c->verified ? " \u00b7 verified" : "",
                 c->queued > 0 ? " \u00b7 messages waiting to go" : "");
        wmove(win, r + 2, 1);
        view_puts(win, line);
    }
    view_overlay_end(app, "/query NAME opens one \u00b7 any key goes back");
    view_draw_input(app);
}

void
tui_view_draw_lock(struct tui_app *app)
{
    int y = LINES / 2 - 2;
    int x = COLS > 40 ? COLS / 2 - 14 : 0;

    werase(stdscr);
    mvwaddstr(stdscr, y, x, "Locked");
    if (app->lock_shows_help) {
        /* Not the person's own entries: someone else may be looking at a locked screen. */
        char lines[CRISIS_LINES_MAX][CRISIS_LINE_MAX];
        size_t n = tui_crisis_collect(app->e, false, lines, CRISIS_LINES_MAX);
        int row = 1;
        for (size_t i = 0; i < n && row < y - 1; i++) {
            mvwaddnstr(stdscr, row++, 1, lines[i], COLS > 2 ? COLS - 2 : 1);
        }
        if (row < y - 1) {
            mvwaddstr(stdscr, row, 1, "kith isn't therapy or a crisis service.");
        }
    }
    if (app->lock_failed) {
        mvwaddstr(stdscr, y + 4, x, "That didn't unlock it. Try again.");
    }
    mvwaddstr(stdscr, LINES - 1, 0, "F1: if you're not safe");
    mvwaddstr(stdscr, y + 2, x, "Passphrase: ");
    curs_set(1);
    wnoutrefresh(stdscr);
}

void
tui_view_flush(struct tui_app *app)
{
    (void)app;
    doupdate();
}

void
tui_view_wipe(void)
{
    wclear(stdscr);
    wrefresh(stdscr);
}
