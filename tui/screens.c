/*
 * screens: what each key does on each screen (the chat, the overlays and
 * the lock), and the help text. Drawing is in view.c; actions in tui.c.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui/commands.h"
#include "tui/crisis.h"
#include "tui/tui_impl.h"

/* Ctrl-Left and Ctrl-Right have no fixed key codes; ask terminfo once. */
static int
screens_key_code(const char *cap)
{
    char *seq = tigetstr(cap);

    if (seq == NULL || seq == (char *)-1) {
        return -1;
    }
    return key_defined(seq);
}

static bool
screens_is_word_left(const struct tui_key *k)
{
    static int code = -2;

    if (code == -2) {
        code = screens_key_code("kLFT5");
    }
    return (k->is_code && code > 0 && k->ch == (uint32_t)code) ||
           (k->is_alt && !k->is_code && k->ch == 'b');
}

static bool
screens_is_word_right(const struct tui_key *k)
{
    static int code = -2;

    if (code == -2) {
        code = screens_key_code("kRIT5");
    }
    return (k->is_code && code > 0 && k->ch == (uint32_t)code) ||
           (k->is_alt && !k->is_code && k->ch == 'f');
}

bool
tui_edit_key(struct input *in, const struct tui_key *k)
{
    if (screens_is_word_left(k)) {
        input_word_left(in);
        return true;
    }
    if (screens_is_word_right(k)) {
        input_word_right(in);
        return true;
    }
    if (k->is_code) {
        switch (k->ch) {
        case KEY_LEFT:
            input_left(in);
            return true;
        case KEY_RIGHT:
            input_right(in);
            return true;
        case KEY_HOME:
            input_home(in);
            return true;
        case KEY_END:
            input_end(in);
            return true;
        case KEY_BACKSPACE:
            input_backspace(in);
            return true;
        case KEY_DC:
            input_delete(in);
            return true;
        default:
            return false;
        }
    }
    if (k->is_alt && (k->ch == 127 || k->ch == 8)) {
        input_kill_word(in);
        return true;
    }
    switch (k->ch) {
    case 1:
        input_home(in);
        return true; /* Ctrl-A */
    case 2:
        input_left(in);
        return true; /* Ctrl-B */
    case 4:
        input_delete(in);
        return true; /* Ctrl-D */
    case 5:
        input_end(in);
        return true; /* Ctrl-E */
    case 6:
        input_right(in);
        return true; /* Ctrl-F */
    case 8:
        input_backspace(in);
        return true; /* Ctrl-H */
    case 11:
        input_kill_to_end(in);
        return true; /* Ctrl-K */
    case 21:
        input_kill_to_start(in);
        return true; /* Ctrl-U */
    case 23:
        input_kill_word(in);
        return true; /* Ctrl-W */
    case 127:
        input_backspace(in);
        return true;
    default:
        break;
    }
    if (k->ch >= 0x20 && !k->is_alt) {
        char buf[8];
        wchar_t wc = (wchar_t)k->ch;
        mbstate_t st;
        size_t n;

        memset(&st, 0, sizeof st);
        n = wcrtomb(buf, wc, &st);
        if (n != (size_t)-1 && input_insert(in, buf, n) != KITH_OK) {
            beep(); /* the line is full */
        }
        return true;
    }
    return false;
}

static void
screens_chat_key(struct tui_app *app, const struct tui_key *k)
{
    size_t page = tui_view_conv_lines(app);

    if (!(k->ch == 9 && !k->is_code)) {
        tui_complete_reset(app);
    }
    app->dirty |= TUI_DIRTY_INPUT;
    if (k->is_alt && !k->is_code && k->ch >= '1' && k->ch <= '9') {
        tui_switch_to(app, k->ch - '1');
        return;
    }
    if (k->is_code) {
        switch (k->ch) {
        case KEY_UP:
            input_history_up(app->line);
            return;
        case KEY_DOWN:
            input_history_down(app->line);
            return;
        case KEY_PPAGE:
            tui_scroll(app, (long)(page > 2 ? page - 2 : 1), page);
            return;
        case KEY_NPAGE:
            tui_scroll(app, -(long)(page > 2 ? page - 2 : 1), page);
            return;
        case KEY_ENTER:
            tui_submit_line(app);
            return;
        case KEY_MOUSE: {
            MEVENT me;
            if (getmouse(&me) == OK) {
                if (me.bstate & BUTTON4_PRESSED) {
                    tui_scroll(app, 3, page);
                } else if (me.bstate & BUTTON5_PRESSED) {
                    tui_scroll(app, -3, page);
                }
            }
            return;
        }
        default:
            break;
        }
        /* Home/End scroll the conversation when the line is empty. */
        if (input_is_empty(app->line) && (k->ch == KEY_HOME || k->ch == KEY_END)) {
            tui_scroll(app, k->ch == KEY_HOME ? (long)1 << 30 : -((long)1 << 30), page);
            return;
        }
    } else {
        switch (k->ch) {
        case 9:
            tui_complete(app);
            return;
        case 10:
        case 13:
            tui_submit_line(app);
            return;
        case 12:
            clearok(curscr, TRUE);
            app->dirty |= TUI_DIRTY_ALL;
            return; /* Ctrl-L */
        case 14:
            tui_switch_by(app, 1);
            return; /* Ctrl-N */
        case 16:
            tui_switch_by(app, -1);
            return; /* Ctrl-P */
        default:
            break;
        }
    }
    (void)tui_edit_key(app->line, k);
}

static void
screens_overlay_key(struct tui_app *app, const struct tui_key *k)
{
    if (k->is_code && k->ch == KEY_PPAGE) {
        app->overlay_scroll = app->overlay_scroll > 10 ? app->overlay_scroll - 10 : 0;
    } else if (k->is_code && k->ch == KEY_NPAGE) {
        app->overlay_scroll += 10;
    } else if (k->is_code && k->ch == KEY_UP) {
        app->overlay_scroll -= app->overlay_scroll > 0 ? 1 : 0;
    } else if (k->is_code && k->ch == KEY_DOWN) {
        app->overlay_scroll++;
    } else if (k->is_code && k->ch == KEY_RESIZE) {
        return;
    } else {
        tui_close_overlay(app); /* any other key goes back to the conversation */
        return;
    }
    app->dirty |= TUI_DIRTY_CONV;
}

static void
screens_verify_key(struct tui_app *app, const struct tui_key *k)
{
    if (!k->is_code && (k->ch == 'y' || k->ch == 'Y' || k->ch == 'n' || k->ch == 'N')) {
        bool is_yes = k->ch == 'y' || k->ch == 'Y';
        int rc = engine_set_verified(app->e, app->verify.name, is_yes);
        if (rc != KITH_OK) {
            tui_set_notice(app, true, "That wasn't saved: %s", kith_strerror(rc));
        } else if (is_yes) {
            tui_set_notice(app, false, "%s is marked verified.", app->verify.name);
        } else {
            tui_set_notice(app, false, "%s is marked not verified.", app->verify.name);
        }
        tui_refresh_contacts(app);
    }
    tui_close_overlay(app);
}

static void
screens_lock_key(struct tui_app *app, const struct tui_key *k)
{
    size_t len = 0;
    const char *pass;
    int rc;

    app->dirty |= TUI_DIRTY_ALL;
    if (k->is_code && k->ch == (uint32_t)KEY_F(1)) {
        app->lock_shows_help = !app->lock_shows_help;
        return;
    }
    if (k->is_code && k->ch == KEY_RESIZE) {
        return;
    }
    if (!k->is_code && (k->ch == 10 || k->ch == 13)) {
        pass = input_text(app->secret, &len);
        if (len == 0) {
            return;
        }
        app->lock_failed = false;
        tui_view_draw_lock(app); /* "checking" while Argon2id runs */
        tui_view_flush(app);
        rc = engine_check_passphrase(app->e, pass, len);
        input_clear(app->secret);
        if (rc != KITH_OK) {
            app->lock_failed = true;
            return;
        }
        tui_show(app, &tui_screen_chat);
        clearok(curscr, TRUE);
        return;
    }
    (void)tui_edit_key(app->secret, k);
}

static void
screens_draw_chat(struct tui_app *app)
{
    tui_view_draw_chat(app);
}

const struct tui_screen tui_screen_chat = { "chat", screens_chat_key, screens_draw_chat };
static void screens_draw_help(struct tui_app *app);

const struct tui_screen tui_screen_help = { "help", screens_overlay_key, screens_draw_help };
const struct tui_screen tui_screen_invite = { "invite", screens_overlay_key, tui_view_draw_invite };
const struct tui_screen tui_screen_verify = { "verify", screens_verify_key, tui_view_draw_verify };
const struct tui_screen tui_screen_contacts = { "contacts", screens_overlay_key,
                                                tui_view_draw_contacts };
const struct tui_screen tui_screen_lock = { "lock", screens_lock_key, tui_view_draw_lock };

/* ---- help ---- */

/* The crisis section (DOMAIN.md §5), rebuilt from the person's settings and the country file
 * each time help is drawn: it is short, works offline, and `kith config set` may have changed
 * it since. */
static char screens_crisis[CRISIS_LINES_MAX][CRISIS_LINE_MAX];
static size_t screens_crisis_n;

size_t
tui_crisis_collect(struct engine *e, bool personal, char out[][CRISIS_LINE_MAX], size_t max)
{
    char *crisis_line = NULL;
    char *my_people = NULL;
    char *country = NULL;
    struct crisis_file file;
    char cc[3];
    bool has_file;
    size_t n;

    /* An unset setting (KITH_ENOTFOUND) leaves NULL: that entry is simply not shown. */
    if (e != NULL) {
        KITH_IGNORE(engine_config_get(e, "country", &country));
        if (personal) {
            KITH_IGNORE(engine_config_get(e, "crisis_line", &crisis_line));
            KITH_IGNORE(engine_config_get(e, "my_people", &my_people));
        }
    }
    has_file = crisis_country(country, cc) && crisis_load(cc, &file) == KITH_OK;
    n = crisis_lines(crisis_line, my_people, has_file ? &file : NULL, out, max);
    free(crisis_line);
    free(my_people);
    free(country);
    return n;
}

static void
screens_crisis_refresh(struct tui_app *app)
{
    screens_crisis_n = tui_crisis_collect(app->e, true, screens_crisis, CRISIS_LINES_MAX);
}

static void
screens_draw_help(struct tui_app *app)
{
    screens_crisis_refresh(app);
    tui_view_draw_help(app);
}

static const char *const screens_help_head[] = {
    ("  kith isn't therapy or a crisis service, and it can't keep anyone safe on its own. It "
     "helps people who trust each other talk kindly."),
    "",
    "Commands",
};

static const char *const screens_help_tail[] = {
    "",
    "Keys",
    "  F1            this page, from anywhere (F1 again or Esc closes it)",
    "  F12, Esc Esc  hide everything at once and lock; your passphrase opens it again",
    "  F4            I could use support: a quiet signal to one of your circles",
    "  F5            How's today? A check-in for a circle, or just for you",
    ("  F6 .. F9      answer a support card in a circle: I'm here \u00b7 I can later \u00b7 "
     "Sending care \u00b7 I can't right now"),
    "  Alt-1..9      open conversation 1..9;  Ctrl-N / Ctrl-P  next / previous",
    "  PgUp / PgDn   scroll back and forward; Home / End on an empty line: oldest / newest",
    "  Tab           complete a command or a name",
    "  Ctrl-A / E    start / end of the line;  Ctrl-W  delete a word;  Ctrl-U  delete to start",
    "  Alt-b / f     a word back / forward (Ctrl-Left / Ctrl-Right too)",
    "  Up / Down     lines you wrote before",
    "  Ctrl-C        close kith (as /quit)",
    "",
    "Each message shows its state",
    ("  queued (saved, not sent yet), sent, delivered; received; held until HH:MM (a boundary "
     "you set); folded."),
};

#define SCREENS_HEAD_N (sizeof screens_help_head / sizeof screens_help_head[0])
#define SCREENS_TAIL_N (sizeof screens_help_tail / sizeof screens_help_tail[0])

size_t
tui_help_count(void)
{
    return 1 + screens_crisis_n + SCREENS_HEAD_N + commands_count() + SCREENS_TAIL_N;
}

const char *
tui_help_line(size_t i)
{
    static char lines[16][128];
    const struct commands_info *c;

    if (i == 0) {
        return "If you're not safe";
    }
    i--;
    if (i < screens_crisis_n) {
        return screens_crisis[i];
    }
    i -= screens_crisis_n;
    if (i < SCREENS_HEAD_N) {
        return screens_help_head[i];
    }
    i -= SCREENS_HEAD_N;
    if (i < commands_count()) {
        c = commands_at(i);
        snprintf(lines[i % 16], sizeof lines[0], "  %-24s %s", c->usage, c->about);
        return lines[i % 16];
    }
    i -= commands_count();
    return i < SCREENS_TAIL_N ? screens_help_tail[i] : "";
}
