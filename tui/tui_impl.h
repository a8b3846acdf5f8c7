/*
 * tui_impl: what tui.c (loop, data, commands), screens.c (keys per screen),
 * view.c (all drawing) and prompt.c (before an engine is open) share. Not a
 * public header; curses stays inside the .c files.
 */
#ifndef KITH_TUI_TUI_IMPL_H
#define KITH_TUI_TUI_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "tui/crisis.h"
#include "tui/input.h"

#define TUI_PAGE        200 /* messages per engine_history page */
#define TUI_NOTICE_BUF  256
#define TUI_TEXT_MAX    16384 /* as KITH_TEXT_MAX: engine_send says ETOOBIG past it */
#define TUI_SIDEBAR_MIN 14
#define TUI_SIDEBAR_MAX 24
#define TUI_MIN_COLS    60
#define TUI_MIN_LINES   20

enum tui_dirty {
    TUI_DIRTY_SIDE = 1u,
    TUI_DIRTY_CONV = 2u,
    TUI_DIRTY_STATUS = 4u,
    TUI_DIRTY_INPUT = 8u,
    TUI_DIRTY_ALL = 15u,
};

/* A key as wget_wch gives it: a character, or a curses key code. */
struct tui_key {
    uint32_t ch;
    bool is_code;
    bool is_alt; /* came after a lone Esc */
};

struct tui_app;

/* One screen: a small table of callbacks (STYLE.md §8). */
struct tui_screen {
    const char *name;
    void (*on_key)(struct tui_app *app, const struct tui_key *k);
    void (*draw)(struct tui_app *app);
};

extern const struct tui_screen tui_screen_chat;
extern const struct tui_screen tui_screen_help;
extern const struct tui_screen tui_screen_invite;
extern const struct tui_screen tui_screen_verify;
extern const struct tui_screen tui_screen_contacts;
extern const struct tui_screen tui_screen_lock;
extern const struct tui_screen tui_screen_boundary;
extern const struct tui_screen tui_screen_repair;
extern const struct tui_screen tui_screen_circle_card;  /* circle_care.c */

struct tui_contact_view {
    struct engine_contact c;
    bool has_unread; /* a calm dot, never a count */
    /* A support circle when circle.state != NULL (circle.c): c.name is then "#name", c.online
     * says whether anyone else in it is online, c.pending that we are still joining. */
    struct engine_circle_info circle;
};

struct tui_conv {
    char name[ENGINE_NAME_BUF]; /* "" when none is open */
    struct engine_msg *msgs;    /* a window of the conversation, oldest first */
    size_t n;
    bool has_older;
    size_t scroll; /* display lines scrolled up from the newest */
};

struct tui_windows; /* view.c */

struct tui_app {
    struct engine *e;
    struct engine_me me;
    struct engine_status status;
    struct tui_contact_view *contacts;
    size_t n_contacts;
    struct tui_conv conv;
    struct input *line;
    struct input *secret; /* the lock screen's passphrase */
    const struct tui_screen *screen;
    struct tui_windows *win;
    unsigned dirty;
    char notice[TUI_NOTICE_BUF];
    bool notice_is_trouble;
    bool esc_pending;
    int64_t esc_at_ms;
    bool quit;
    /* tab completion in progress: the line as typed, and which match */
    char *complete_line;
    size_t complete_cursor;
    size_t complete_nth;
    /* overlays */
    size_t overlay_scroll;
    char invite_code[ENGINE_INVITE_BUF];
    char **qr_rows;
    size_t qr_n;
    size_t qr_cols;
    struct engine_contact verify;
    bool lock_shows_help;
    bool lock_failed;
    /* the boundary editor (boundary_edit.c) */
    char bnd_name[ENGINE_NAME_BUF];
    struct input *bnd_line;
    char *bnd_rules;     /* plain-language summary of the rules in force */
    char *bnd_preview;   /* what the typed rule will do, before saving; or NULL */
    const char *bnd_why; /* why the typed rule can't be saved (a kind sentence); or NULL */
    /* the repair card (repair.c), or NULL */
    struct repair_card *rcard;
    /* the bell and desktop notification for new messages (tui/notify.h) */
    struct notify *notify;
    /* circles: the card on screen (circle_care.c), or NULL; the circle a leave waits on */
    struct circle_card *ccard;
    char circle_leave[ENGINE_NAME_BUF]; /* "" unless a leave waits for y */
    /* the open circle's check-ins of the last day (circle_today.c), or NULL */
    struct circle_today *today;
};

/* tui.c: data and actions */
int64_t tui_now_ms(void);
void tui_set_notice(struct tui_app *app, bool is_trouble, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tui_refresh_contacts(struct tui_app *app);
void tui_refresh_status(struct tui_app *app);
void tui_open_conversation(struct tui_app *app, const char *name);
void tui_switch_to(struct tui_app *app, size_t index);
void tui_switch_by(struct tui_app *app, int delta);
void tui_scroll(struct tui_app *app, long lines, size_t page_lines);
void tui_submit_line(struct tui_app *app);
void tui_complete(struct tui_app *app);
void tui_complete_reset(struct tui_app *app);
void tui_show(struct tui_app *app, const struct tui_screen *screen);
void tui_lock(struct tui_app *app);
void tui_close_overlay(struct tui_app *app);
/* Lines the conversation needs for all loaded messages at width, and
 * whether more can be loaded; used by scrolling. */
void tui_load_older(struct tui_app *app);
void tui_load_latest(struct tui_app *app); /* the newest page of the open one again */

/* boundary_edit.c: the boundary editor for one contact ("" = the open conversation). */
void tui_boundary_open(struct tui_app *app, const char *name);
void tui_boundary_free(struct tui_app *app);
void tui_view_draw_boundary(struct tui_app *app); /* view.c */

/* repair.c: the repair card for one contact ("" = the open conversation); an engine event
 * about a repair with contact; free on quit. */
void tui_repair_open(struct tui_app *app, const char *name);
void tui_repair_on_event(struct tui_app *app, const char *contact);
void tui_repair_free(struct tui_app *app);

/* circle.c: support circles beside the contacts. They follow the contacts in app->contacts
 * (appended to views[0..n) at each refresh; returns the new count), as "#name". */
struct commands_parsed;
size_t tui_circles_append(struct tui_app *app, struct tui_contact_view **views, size_t n);
bool tui_circle_is_quiet(const struct tui_contact_view *v);     /* joining, left, removed: dimmer */
const char *tui_circle_label(const struct tui_contact_view *v); /* "#name", "#joining-…" */
/* The title note of an open circle ("  · 3 people", "  · waiting for the welcome"...). */
void tui_circle_title(const struct tui_contact_view *v, char *out, size_t cap);
/* A line for a circle we can't write in now (joining, left): sets a notice, returns true. */
bool tui_circle_refuses(struct tui_app *app, const struct commands_parsed *p);
void tui_circle_command(struct tui_app *app, const struct commands_parsed *p);
/* The chat screen's circle keys: F4 support, F5 check-in, F6..F9 the support card's answers,
 * and the answer to "Leave #name? [y/N]" (any key). Returns whether the key was one of them. */
bool tui_circle_key(struct tui_app *app, const struct tui_key *k);
void tui_circle_on_event(struct tui_app *app, const struct engine_event *ev);
/* The soft support card under an open circle conversation: the newest signal from someone
 * else under 12 hours old that we haven't answered. Its rows (sanitized; 0 when none). */
#define TUI_CARD_ROWS 3
#define TUI_CARD_COLS 320
size_t tui_circle_card(const struct tui_app *app, char rows[TUI_CARD_ROWS][TUI_CARD_COLS]);
/* circle_care.c: the "How's today?", "I could use support" and members cards for circle
 * ("" = the open or first one); free on quit. */
enum tui_card_kind { TUI_CARD_CHECKIN, TUI_CARD_SUPPORT, TUI_CARD_MEMBERS };
void tui_circle_card_open(struct tui_app *app, enum tui_card_kind kind, const char *circle);
void tui_circle_card_free(struct tui_app *app);
/* The members card of circle, if it is on screen, reads the circle's check-ins again. */
void tui_circle_card_on_message(struct tui_app *app, const char *circle);

/* circle_today.c: each member's latest check-in of the last 24 hours (DOMAIN.md §4), read
 * from the circle's newest TUI_PAGE messages. No counts, no prompts, nothing for anyone who
 * hasn't checked in. Load: NULL when circle ("#name") can't be read; destroy accepts NULL. */
struct circle_today;
struct circle_today *tui_circle_today_load(struct engine *e, const char *circle);
void tui_circle_today_destroy(struct circle_today *t);
/* What member m shared ("steady (seen, safe)", the note in quotes only if it fits), cut to
 * cols columns and safe to draw; "" when nothing of theirs is under a day old. */
void tui_circle_today_beside(const struct circle_today *t, const struct engine_member *m,
                             size_t cols, char *out, size_t cap);
/* app->today again for the open conversation (NULL when it isn't a circle). */
void tui_circle_today_reload(struct tui_app *app);
/* Whether the open circle has a "today:" line, and the line cut to cols columns (false and
 * "" when no one's check-in is under a day old). */
bool tui_circle_today_shows(const struct tui_app *app);
bool tui_circle_today_strip(const struct tui_app *app, size_t cols, char *out, size_t cap);

/* screens.c: keys shared by the editing screens */
bool tui_edit_key(struct input *in, const struct tui_key *k);

/* view.c: windows and drawing */
struct tui_windows *tui_view_create(bool use_color);
void tui_view_destroy(struct tui_windows *w);
void tui_view_layout(struct tui_app *app);             /* after a resize */
size_t tui_view_conv_lines(const struct tui_app *app); /* rows of the conversation pane */
size_t tui_view_conv_width(const struct tui_app *app);
/* Display lines one message takes at width (for scrolling). */
size_t tui_view_msg_height(const struct engine_msg *m, size_t width);
void tui_view_draw_chat(struct tui_app *app);
void tui_view_draw_help(struct tui_app *app);
void tui_view_draw_invite(struct tui_app *app);
void tui_view_draw_verify(struct tui_app *app);
void tui_view_draw_contacts(struct tui_app *app);
void tui_view_draw_lock(struct tui_app *app);
void tui_view_flush(struct tui_app *app); /* one doupdate */
void tui_view_wipe(void);                 /* clear the terminal at once (quick lock) */

/* prompt.c: curses start and stop shared with the client */
void tui_curses_begin(void);
void tui_curses_end(void);
bool tui_use_color(void);
/* Read one key, waiting (blocking screens before the engine runs). */
void tui_read_key_blocking(struct tui_key *k);

/* The help text: the "If you're not safe" section first (DOMAIN.md §5). */
size_t tui_help_count(void);
const char *tui_help_line(size_t i);

/* The crisis section for one screen (tui/screens.c): the person's own entries only when
 * `personal` and an unlocked engine are given (never on the lock or passphrase screens, which
 * someone else may be looking at), the country from the profile's setting or the locale. */
size_t tui_crisis_collect(struct engine *e, bool personal, char out[][CRISIS_LINE_MAX],
                          size_t max);

#endif
