/*
 * prompt: starting and stopping curses, and the calm screens that run
 * before an engine is open: first run (welcome, name, passphrase twice,
 * where to listen) and the passphrase question. These block on the keyboard;
 * nothing else is running yet. Passphrases live in secret inputs (no echo,
 * no history, wiped) and in malloc'd copies that are wiped before free.
 */
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui.h"
#include "tui/tui_impl.h"
#include "tui/wrap.h"

#define PROMPT_PASS_MAX       1024
#define PROMPT_DEFAULT_LISTEN "tcp://127.0.0.1:*"

static bool prompt_started;
static bool prompt_color;

static void
prompt_at_exit(void)
{
    tui_curses_end();
}

void
tui_curses_begin(void)
{
    const char *no_color = getenv("NO_COLOR");

    if (prompt_started) {
        if (isendwin()) {
            doupdate(); /* back from endwin: curses restores the screen */
        }
        return;
    }
    setlocale(LC_CTYPE, "");
    set_escdelay(25);
    initscr();
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    prompt_color = has_colors() && (no_color == NULL || no_color[0] == '\0');
    if (prompt_color) {
        start_color();
        use_default_colors();
    }
    prompt_started = true;
    atexit(prompt_at_exit); /* never leave the terminal raw */
}

void
tui_curses_end(void)
{
    if (prompt_started && !isendwin()) {
        endwin();
    }
}

bool
tui_use_color(void)
{
    return prompt_color;
}

void
tui_read_key_blocking(struct tui_key *k)
{
    wint_t wc = 0;
    int got;

    nodelay(stdscr, FALSE);
    memset(k, 0, sizeof *k);
    do {
        got = get_wch(&wc);
    } while (got == ERR);
    k->ch = (uint32_t)wc;
    k->is_code = got == KEY_CODE_YES;
    if (!k->is_code && k->ch == 27) {
        nodelay(stdscr, TRUE); /* Alt-x arrives as Esc then x, already here */
        got = get_wch(&wc);
        nodelay(stdscr, FALSE);
        if (got != ERR) {
            k->ch = (uint32_t)wc;
            k->is_code = got == KEY_CODE_YES;
            k->is_alt = true;
        }
    }
}

/* ---- one screen: paragraphs, then a labelled input ---- */

struct prompt_screen {
    const char *const *paras;
    size_t n_paras;
    const char *label; /* NULL: no input, Enter goes on */
    struct input *in;
    bool is_secret;
    const char *problem; /* shown under the input, or NULL */
    bool shows_crisis;
};

static void
prompt_draw(const struct prompt_screen *s)
{
    size_t width = COLS > 80 ? 76 : (COLS > 6 ? (size_t)COLS - 4 : 2);
    int y = 1;
    struct wrap_line lines[16];

    werase(stdscr);
    if (s->shows_crisis) {
        /* Before unlocking there are no personal entries: the locale's country file only. */
        char crisis[CRISIS_LINES_MAX][CRISIS_LINE_MAX];
        size_t n = tui_crisis_collect(NULL, false, crisis, CRISIS_LINES_MAX);
        for (size_t i = 0; i < n && y < LINES - 4; i++) {
            mvwaddnstr(stdscr, y++, 2, crisis[i], COLS > 4 ? COLS - 4 : 1);
        }
        mvwaddstr(stdscr, y++, 2, "kith isn't therapy or a crisis service.");
        y++;
    }
    for (size_t p = 0; p < s->n_paras; p++) {
        const char *t = s->paras[p];
        size_t n = wrap_lines(t, strlen(t), width, lines, 16);
        if (p == 0) {
            wattron(stdscr, A_BOLD);
        }
        for (size_t i = 0; i < n && i < 16 && y < LINES - 3; i++) {
            wmove(stdscr, y++, 2);
            waddnstr(stdscr, t + lines[i].off, (int)lines[i].len);
        }
        wattroff(stdscr, A_BOLD);
        y++;
    }
    if (s->problem != NULL) {
        wattron(stdscr, A_BOLD);
        mvwaddstr(stdscr, y + 2 < LINES - 1 ? y + 2 : LINES - 2, 2, s->problem);
        wattroff(stdscr, A_BOLD);
    }
    wattron(stdscr, A_DIM);
    mvwaddstr(stdscr, LINES - 1, 2,
              s->label != NULL ? "Enter: next \u00b7 Esc: leave \u00b7 F1: if you're not safe"
                               : "Enter: go on \u00b7 Esc: leave \u00b7 F1: if you're not safe");
    wattroff(stdscr, A_DIM);
    if (s->label != NULL) {
        size_t first = 0;
        size_t col = 0;
        size_t len = 0;
        const char *text = input_text(s->in, &len);
        size_t label_cols = wrap_width(s->label, strlen(s->label));
        size_t room = width > label_cols + 2 ? width - label_cols : 2;

        mvwaddstr(stdscr, y, 2, s->label);
        if (!s->is_secret) {
            input_view(s->in, room, &first, &col);
            waddnstr(stdscr, text + first, (int)wrap_fit(text + first, len - first, room - 1));
        }
        wmove(stdscr, y, (int)(2 + label_cols + col));
        curs_set(1);
    } else {
        curs_set(0);
    }
    wrefresh(stdscr);
}

/* 0 on Enter, 1 when the person leaves (Esc, Ctrl-C). */
static int
prompt_run(struct prompt_screen *s)
{
    for (;;) {
        struct tui_key k;

        prompt_draw(s);
        tui_read_key_blocking(&k);
        if (k.is_code && k.ch == KEY_RESIZE) {
            continue;
        }
        if (k.is_code && k.ch == (uint32_t)KEY_F(1)) {
            s->shows_crisis = !s->shows_crisis;
            continue;
        }
        if (!k.is_code && (k.ch == 27 || k.ch == 3)) {
            return 1;
        }
        if ((!k.is_code && (k.ch == 13 || k.ch == 10)) || (k.is_code && k.ch == KEY_ENTER)) {
            return 0;
        }
        if (s->label != NULL) {
            s->problem = NULL;
            (void)tui_edit_key(s->in, &k);
        }
    }
}

static void
prompt_status(const char *text)
{
    werase(stdscr);
    mvwaddstr(stdscr, LINES / 2, 2, text);
    curs_set(0);
    wrefresh(stdscr);
}

/* ---- tui_ask_passphrase ---- */

int
tui_ask_passphrase(const char *home, char **pass, size_t *len)
{
    static unsigned asked;
    static const char *const paras[] = {
        "kith is locked.",
        "Type your passphrase to open it. What you type isn't shown.",
    };
    struct prompt_screen s = { paras, 2, "Passphrase: ", NULL, true, NULL, false };
    const char *text;
    size_t n = 0;
    int rc;

    (void)home;
    *pass = NULL;
    *len = 0;
    tui_curses_begin();
    s.in = input_create(PROMPT_PASS_MAX, true);
    s.problem = asked++ > 0 ? "That didn't unlock it. Try again." : NULL;
    do {
        rc = prompt_run(&s);
        text = input_text(s.in, &n);
    } while (rc == 0 && n == 0);
    if (rc == 0) {
        *pass = xmalloc(n + 1);
        memcpy(*pass, text, n + 1);
        *len = n;
        prompt_status("Unlocking\u2026");
    }
    input_destroy(s.in);
    tui_curses_end(); /* main reports any error on the normal screen */
    return rc == 0 ? 0 : 1;
}

/* ---- tui_first_run ---- */

struct prompt_profile {
    struct input *name;
    struct input *pass;
    struct input *again;
    struct input *listen;
};

static const char *const prompt_welcome[] = {
    "Welcome to kith.",
    "kith is a quiet messenger for people who trust each other: messages go straight from "
    "your computer to theirs, sealed, with no server in between.",
    "kith helps people who trust each other talk kindly. It isn't therapy or a crisis "
    "service, and it can't keep anyone safe on its own.",
    "A few short questions set it up.",
};

/* Walk the questions; 0 when all are answered, 1 when the person leaves. */
static int
prompt_questions(struct prompt_profile *p)
{
    static const char *const ask_name[] = {
        "What name should people see?",
        "This is how you appear to the people you invite. You can change how they appear to you.",
    };
    static const char *const ask_pass[] = {
        "Choose a passphrase.",
        "It seals everything kith keeps on this computer. What you type isn't shown. There is "
        "no way to recover it, so pick something you will remember.",
    };
    static const char *const ask_again[] = { "Type it once more.",
                                             "Just to be sure it's the one you meant." };
    static const char *const ask_listen[] = {
        "Where should kith listen?",
        "The address other people's kith connects to. The default keeps to this computer and "
        "picks a free port; change it (for example tcp://0.0.0.0:7741) to be reachable from "
        "your network.",
    };
    struct prompt_screen welcome = { prompt_welcome, 4, NULL, NULL, false, NULL, false };
    struct prompt_screen name = { ask_name, 2, "Name: ", p->name, false, NULL, false };
    struct prompt_screen pass = { ask_pass, 2, "Passphrase: ", p->pass, true, NULL, false };
    struct prompt_screen again = { ask_again, 2, "Passphrase: ", p->again, true, NULL, false };
    struct prompt_screen listen = { ask_listen, 2, "Listen on: ", p->listen, false, NULL, false };

    if (prompt_run(&welcome) != 0) {
        return 1;
    }
    do {
        if (prompt_run(&name) != 0) {
            return 1;
        }
        name.problem = "A name can't be empty.";
    } while (input_is_empty(p->name));
    for (;;) {
        if (prompt_run(&pass) != 0) {
            return 1;
        }
        if (input_is_empty(p->pass)) {
            pass.problem = "A passphrase can't be empty.";
            continue;
        }
        if (prompt_run(&again) != 0) {
            return 1;
        }
        if (strcmp(input_text(p->pass, NULL), input_text(p->again, NULL)) == 0) {
            break;
        }
        input_clear(p->pass);
        input_clear(p->again);
        pass.problem = "Those two didn't match. Let's try both again.";
    }
    return prompt_run(&listen);
}

int
tui_first_run(const char *home, bool cost_min)
{
    struct prompt_profile p;
    struct engine *e = NULL;
    const char *listen;
    size_t pass_len = 0;
    const char *pass;
    int status = 0;
    int rc;

    tui_curses_begin();
    p.name = input_create(ENGINE_NAME_BUF - 1, false);
    p.pass = input_create(PROMPT_PASS_MAX, true);
    p.again = input_create(PROMPT_PASS_MAX, true);
    p.listen = input_create(ENGINE_ENDPOINT_BUF - 1, false);
    if (input_set(p.listen, PROMPT_DEFAULT_LISTEN, strlen(PROMPT_DEFAULT_LISTEN),
                  strlen(PROMPT_DEFAULT_LISTEN)) != KITH_OK) {
        KITH_BUG("default endpoint does not fit");
    }
    if (prompt_questions(&p) != 0) {
        goto out; /* leaving is fine: nothing was created */
    }
    prompt_status("Setting things up\u2026 (sealing your keys takes a moment)");
    pass = input_text(p.pass, &pass_len);
    listen = input_is_empty(p.listen) ? NULL : input_text(p.listen, NULL);
    rc = engine_init_profile(home, input_text(p.name, NULL), listen, pass, pass_len, cost_min);
    if (rc == KITH_OK) {
        rc = engine_open(home, pass, pass_len, &e);
    }
    input_clear(p.pass);
    input_clear(p.again);
    if (rc != KITH_OK) {
        tui_curses_end();
        fprintf(stderr, "kith: the profile couldn't be set up: %s\n", kith_strerror(rc));
        status = 1;
        goto out;
    }
    status = tui_run(e);
out:
    engine_close(e);
    input_destroy(p.name);
    input_destroy(p.pass);
    input_destroy(p.again);
    input_destroy(p.listen);
    tui_curses_end();
    return status;
}
