/*
 * tui: the client's app state, its glue to the engine loop and its actions.
 * The engine owns the loop; stdin is one of its poll items. Keys change view
 * state and mark regions dirty; the idle hook drains engine events and
 * draws once per pass. Conversations are paged from engine_history, never
 * loaded whole: the newest page on open, older pages as the person scrolls.
 */
#include "tui/tui.h"

#include <curses.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui/commands.h"
#include "tui/notify.h"
#include "tui/qrblock.h"
#include "tui/tui_impl.h"
#include "tui/wrap.h"

static volatile sig_atomic_t tui_winch;
static struct sigaction tui_winch_prev;

int64_t
tui_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
tui_set_notice(struct tui_app *app, bool is_trouble, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(app->notice, sizeof app->notice, fmt, ap);
    va_end(ap);
    app->notice_is_trouble = is_trouble;
    app->dirty |= TUI_DIRTY_STATUS;
}

/* ---- data from the engine ---- */

static struct tui_contact_view *
tui_find(struct tui_app *app, const char *name, size_t *index)
{
    for (size_t i = 0; i < app->n_contacts; i++) {
        if (strcmp(app->contacts[i].c.name, name) == 0) {
            if (index != NULL) {
                *index = i;
            }
            return &app->contacts[i];
        }
    }
    return NULL;
}

void
tui_refresh_contacts(struct tui_app *app)
{
    struct engine_contact *list = NULL;
    struct tui_contact_view *views;
    size_t n = 0;

    if (engine_contacts(app->e, &list, &n) != KITH_OK) {
        return;
    }
    views = xcalloc(n + 1, sizeof *views);
    for (size_t i = 0; i < n; i++) {
        const struct tui_contact_view *old = tui_find(app, list[i].name, NULL);
        views[i].c = list[i];
        views[i].has_unread = old != NULL && old->has_unread;
    }
    free(list);
    n = tui_circles_append(app, &views, n); /* tui/circle.c: circles after the people */
    free(app->contacts);
    app->contacts = views;
    app->n_contacts = n;
    app->dirty |= TUI_DIRTY_SIDE | TUI_DIRTY_STATUS | TUI_DIRTY_CONV; /* the title too */
}

void
tui_refresh_status(struct tui_app *app)
{
    struct engine_status s;

    if (engine_status(app->e, &s) == KITH_OK) {
        app->status = s;
    }
    if (engine_me(app->e, &app->me) != KITH_OK) {
        app->me.online = false;
    }
    app->dirty |= TUI_DIRTY_STATUS;
}

static void
tui_conv_free(struct tui_conv *conv)
{
    engine_msgs_free(conv->msgs, conv->n);
    conv->msgs = NULL;
    conv->n = 0;
    conv->has_older = false;
}

/* Reload the newest page of the open conversation. */
void
tui_load_latest(struct tui_app *app)
{
    struct engine_msg *msgs = NULL;
    size_t n = 0;

    if (app->conv.name[0] == '\0') {
        return;
    }
    if (engine_history(app->e, app->conv.name, TUI_PAGE, 0, &msgs, &n) != KITH_OK) {
        return;
    }
    tui_conv_free(&app->conv);
    app->conv.msgs = msgs;
    app->conv.n = n;
    app->conv.has_older = n == TUI_PAGE;
    app->dirty |= TUI_DIRTY_CONV;
    tui_circle_today_reload(app); /* tui/circle_today.c: the "today:" line of a circle */
}

void
tui_load_older(struct tui_app *app)
{
    struct engine_msg *older = NULL;
    struct engine_msg *all;
    size_t n = 0;

    if (!app->conv.has_older || app->conv.n == 0) {
        return;
    }
    if (engine_history(app->e, app->conv.name, TUI_PAGE, app->conv.msgs[0].lamport, &older, &n) !=
        KITH_OK) {
        app->conv.has_older = false;
        return;
    }
    all = xcalloc(n + app->conv.n, sizeof *all);
    memcpy(all, older, n * sizeof *all);
    memcpy(all + n, app->conv.msgs, app->conv.n * sizeof *all);
    free(older); /* the texts moved into all */
    free(app->conv.msgs);
    app->conv.msgs = all;
    app->conv.n += n;
    app->conv.has_older = n == TUI_PAGE;
    app->dirty |= TUI_DIRTY_CONV;
}

void
tui_open_conversation(struct tui_app *app, const char *name)
{
    struct tui_contact_view *v = tui_find(app, name, NULL);

    tui_conv_free(&app->conv);
    snprintf(app->conv.name, sizeof app->conv.name, "%s", name);
    app->conv.scroll = 0;
    app->notice[0] = '\0'; /* a new view starts quiet */
    if (v != NULL) {
        v->has_unread = false;
    }
    tui_load_latest(app);
    app->dirty |= TUI_DIRTY_ALL;
}

void
tui_switch_to(struct tui_app *app, size_t index)
{
    if (index < app->n_contacts) {
        tui_open_conversation(app, app->contacts[index].c.name);
    }
}

void
tui_switch_by(struct tui_app *app, int delta)
{
    size_t at = 0;

    if (app->n_contacts == 0) {
        return;
    }
    if (tui_find(app, app->conv.name, &at) == NULL) {
        tui_switch_to(app, 0);
        return;
    }
    at = (at + app->n_contacts + (size_t)(delta + (int)app->n_contacts)) % app->n_contacts;
    tui_switch_to(app, at);
}

/* Display lines of every loaded message at the pane's width. */
static size_t
tui_loaded_lines(const struct tui_app *app)
{
    size_t width = tui_view_conv_width(app);
    size_t total = 0;

    for (size_t i = 0; i < app->conv.n; i++) {
        total += tui_view_msg_height(&app->conv.msgs[i], width);
    }
    return total;
}

void
tui_scroll(struct tui_app *app, long lines, size_t page_lines)
{
    size_t total;
    size_t max;

    if (lines < 0) {
        size_t back = (size_t)(-lines);
        app->conv.scroll = back > app->conv.scroll ? 0 : app->conv.scroll - back;
        if (app->conv.scroll == 0 && app->conv.has_older) {
            tui_load_latest(app); /* back at the bottom: drop the pages above */
        }
    } else {
        app->conv.scroll += (size_t)lines;
    }
    total = tui_loaded_lines(app);
    while (app->conv.has_older && total < app->conv.scroll + page_lines) {
        tui_load_older(app); /* only as far as the eye goes */
        total = tui_loaded_lines(app);
    }
    max = total > page_lines ? total - page_lines : 0;
    if (app->conv.scroll > max) {
        app->conv.scroll = max;
    }
    app->dirty |= TUI_DIRTY_CONV;
}

/* ---- screens ---- */

void
tui_show(struct tui_app *app, const struct tui_screen *screen)
{
    app->screen = screen;
    app->overlay_scroll = 0;
    app->dirty |= TUI_DIRTY_ALL;
}

void
tui_close_overlay(struct tui_app *app)
{
    qrblock_free(app->qr_rows, app->qr_n);
    app->qr_rows = NULL;
    app->qr_n = 0;
    explicit_bzero(app->invite_code, sizeof app->invite_code);
    tui_show(app, &tui_screen_chat);
}

void
tui_lock(struct tui_app *app)
{
    tui_view_wipe(); /* nothing of a conversation stays on the glass */
    tui_close_overlay(app);
    tui_complete_reset(app);
    input_clear(app->secret);
    app->lock_shows_help = false;
    app->lock_failed = false;
    tui_show(app, &tui_screen_lock);
}

/* ---- commands ---- */

static void
tui_say_flags(struct tui_app *app, const char *target, const char *text, size_t len,
              unsigned flags);

static void
tui_say(struct tui_app *app, const char *target, const char *text, size_t len)
{
    tui_say_flags(app, target, text, len, 0);
}

/* The newest message of the open conversation in state, or NULL. */
static const struct engine_msg *
tui_newest_in(const struct tui_app *app, const char *state)
{
    for (size_t i = app->conv.n; i-- > 0;) {
        if (!app->conv.msgs[i].outgoing && strcmp(app->conv.msgs[i].state, state) == 0) {
            return &app->conv.msgs[i];
        }
    }
    return NULL;
}

static void
tui_do_show(struct tui_app *app)
{
    const struct engine_msg *m = tui_newest_in(app, "folded");
    char *text = NULL;

    if (m == NULL) {
        tui_set_notice(app, false, "Nothing is folded here.");
        return;
    }
    if (engine_show(app->e, app->conv.name, m->id, &text) != KITH_OK) {
        tui_set_notice(app, true, "That couldn't be opened just now.");
        return;
    }
    explicit_bzero(text, strlen(text));
    free(text);
    tui_open_conversation(app, app->conv.name); /* reload: it shows as received now */
}

/* /retention: show (empty), propose a duration or off, or answer theirs, for the open one. */
static void
tui_do_retention(struct tui_app *app, const struct commands_parsed *p)
{
    bool is_accept = p->text_len == 6 && strncmp(p->text, "accept", 6) == 0;
    bool is_decline = p->text_len == 7 && strncmp(p->text, "decline", 7) == 0;
    struct engine_retention r;
    char what[32];
    int rc;

    if (app->conv.name[0] == '\0') {
        tui_set_notice(app, true, "Open a conversation first: /query NAME, or Alt-1.");
        return;
    }
    if (p->text_len == 0) {
        rc = engine_retention_get(app->e, app->conv.name, &r);
        engine_retention_text(r.seconds, what, sizeof what);
        if (rc != KITH_OK) {
            tui_set_notice(app, true, "That couldn't be read: %s", kith_strerror(rc));
        } else if (r.seconds == 0) {
            tui_set_notice(app, false, "Messages here stay until you delete them.");
        } else {
            tui_set_notice(app, false, "Messages here disappear after %s.", what);
        }
        return;
    }
    rc = is_accept || is_decline ? engine_retention_answer(app->e, app->conv.name, is_accept)
                                 : engine_retention_propose(app->e, app->conv.name, p->seconds);
    engine_retention_text(p->seconds, what, sizeof what);
    if (rc == KITH_ESTATE) {
        tui_set_notice(app, false, is_accept || is_decline ? "They haven't proposed a change."
                                                           : "That is already the setting.");
    } else if (rc != KITH_OK) {
        tui_set_notice(app, true, "That couldn't be changed: %s", kith_strerror(rc));
    } else if (is_accept || is_decline) {
        tui_set_notice(app, false, is_accept ? "Accepted: it is in force now." :
                       "Declined: nothing changes.");
    } else {
        tui_set_notice(app, false, "Proposed: %s. Nothing changes until they accept.", what);
    }
    tui_refresh_contacts(app); /* the title shows it */
}

static void
tui_do_consent(struct tui_app *app, const char *answer)
{
    const struct engine_msg *m = tui_newest_in(app, "awaiting_consent");
    enum engine_consent a = strcmp(answer, "yes") == 0     ? ENGINE_CONSENT_YES
                            : strcmp(answer, "later") == 0 ? ENGINE_CONSENT_LATER
                                                           : ENGINE_CONSENT_NO;

    if (m == NULL) {
        tui_set_notice(app, false, "No one is waiting for your answer here.");
        return;
    }
    if (engine_consent(app->e, app->conv.name, m->id, a, tui_now_ms() / 1000 + 3600) !=
        KITH_OK) {
        tui_set_notice(app, true, "Your answer wasn't saved; try again.");
        return;
    }
    tui_set_notice(app, false, "%s",
                   a == ENGINE_CONSENT_YES     ? "It's open now."
                   : a == ENGINE_CONSENT_LATER ? "kith will ask you again in an hour."
                                               : "It stays folded; /show opens it anytime.");
    tui_open_conversation(app, app->conv.name);
}

static void
tui_say_flags(struct tui_app *app, const char *target, const char *text, size_t len,
              unsigned flags)
{
    char id[ENGINE_ID_HEX];
    char *copy = xmalloc(len + 1);
    struct tui_contact_view *v;
    int rc;

    memcpy(copy, text, len);
    copy[len] = '\0';
    rc = engine_send(app->e, target, copy, flags, id);
    explicit_bzero(copy, len);
    free(copy);
    if (rc == KITH_ENOTFOUND) {
        tui_set_notice(app, true, "There's no contact called %s here.", target);
        return;
    }
    if (rc != KITH_OK) {
        tui_set_notice(app, true, "That wasn't sent: %s", kith_strerror(rc));
        return;
    }
    tui_refresh_contacts(app);
    v = tui_find(app, target, NULL);
    if (v != NULL && !v->c.online) {
        tui_set_notice(app, false,
                       "Couldn't reach %s yet \u2014 your message is saved and will go when "
                       "they're online.",
                       target);
    } else {
        app->notice[0] = '\0';
    }
    if (strcmp(target, app->conv.name) == 0) {
        app->conv.scroll = 0;
        tui_load_latest(app);
    }
    tui_refresh_status(app);
}

static void
tui_do_invite(struct tui_app *app)
{
    int rc = engine_invite(app->e, 0, app->invite_code);

    if (rc != KITH_OK) {
        tui_set_notice(app, true, "No invite this time: %s", kith_strerror(rc));
        return;
    }
    qrblock_free(app->qr_rows, app->qr_n);
    app->qr_rows = NULL;
    app->qr_n = 0;
    if (qrblock_render(app->invite_code, &app->qr_rows, &app->qr_n, &app->qr_cols) != KITH_OK) {
        app->qr_rows = NULL;
        app->qr_n = 0;
    }
    tui_show(app, &tui_screen_invite);
}

static void
tui_do_accept(struct tui_app *app, const struct commands_parsed *p)
{
    char code[ENGINE_INVITE_BUF];
    char name[ENGINE_NAME_BUF];
    int rc;

    if (p->text_len >= sizeof code) {
        tui_set_notice(app, true,
                       "That code is longer than any invite; check it was copied whole.");
        return;
    }
    memcpy(code, p->text, p->text_len);
    code[p->text_len] = '\0';
    rc = engine_accept(app->e, code, p->as_name[0] != '\0' ? p->as_name : NULL, name);
    explicit_bzero(code, sizeof code);
    if (rc == KITH_EEXISTS) {
        tui_set_notice(app, true,
                       "You already have a contact with that name; try /accept CODE "
                       "as ANOTHERNAME.");
        return;
    }
    if (rc != KITH_OK) {
        tui_set_notice(app, true, "That code didn't work: %s", kith_strerror(rc));
        return;
    }
    tui_refresh_contacts(app);
    tui_open_conversation(app, name);
    tui_set_notice(app, false, "%s is added. You'll be connected when you're both online.", name);
}

static void
tui_do_verify(struct tui_app *app, const char *name)
{
    const char *who = name[0] != '\0' ? name : app->conv.name;

    if (who[0] == '\0') {
        tui_set_notice(app, true, "Open a conversation first, or say /verify NAME.");
        return;
    }
    if (engine_contact(app->e, who, &app->verify) != KITH_OK) {
        tui_set_notice(app, true, "There's no contact called %s here.", who);
        return;
    }
    tui_show(app, &tui_screen_verify);
}

static void
tui_do_rename(struct tui_app *app, const char *new_name)
{
    char old[ENGINE_NAME_BUF];
    int rc;

    if (app->conv.name[0] == '\0') {
        tui_set_notice(app, true, "Open a conversation first, then /name NEWNAME.");
        return;
    }
    snprintf(old, sizeof old, "%s", app->conv.name);
    rc = engine_rename(app->e, old, new_name);
    if (rc != KITH_OK) {
        tui_set_notice(app, true, "The name stays %s: %s", old, kith_strerror(rc));
        return;
    }
    tui_refresh_contacts(app);
    tui_open_conversation(app, new_name);
    tui_set_notice(app, false, "%s is now called %s on this device.", old, new_name);
}

static void
tui_run_command(struct tui_app *app, const struct commands_parsed *p)
{
    if (tui_circle_refuses(app, p)) {
        return; /* a circle not open for writing: the notice says why */
    }
    switch (p->verb) {
    case COMMANDS_SAY:
        if (app->conv.name[0] == '\0') {
            tui_set_notice(app, true, "Open a conversation first: /query NAME, or Alt-1.");
            return;
        }
        tui_say(app, app->conv.name, p->text, p->text_len);
        return;
    case COMMANDS_MSG:
        tui_say(app, p->name, p->text, p->text_len);
        return;
    case COMMANDS_QUERY:
        if (tui_find(app, p->name, NULL) == NULL) {
            tui_set_notice(app, true, "There's no contact called %s here.", p->name);
            return;
        }
        tui_open_conversation(app, p->name);
        return;
    case COMMANDS_INVITE:
        tui_do_invite(app);
        return;
    case COMMANDS_ACCEPT:
        tui_do_accept(app, p);
        return;
    case COMMANDS_VERIFY:
        tui_do_verify(app, p->name);
        return;
    case COMMANDS_NAME:
        tui_do_rename(app, p->name);
        return;
    case COMMANDS_CONTACTS:
        tui_refresh_contacts(app);
        tui_show(app, &tui_screen_contacts);
        return;
    case COMMANDS_HELP:
        tui_show(app, &tui_screen_help);
        return;
    case COMMANDS_LOCK:
        tui_lock(app);
        return;
    case COMMANDS_QUIT:
        app->quit = true;
        engine_stop(app->e);
        return;
    case COMMANDS_HEAVY:
        if (app->conv.name[0] == '\0') {
            tui_set_notice(app, true, "Open a conversation first: /query NAME, or Alt-1.");
            return;
        }
        tui_say_flags(app, app->conv.name, p->text, p->text_len, ENGINE_SEND_HEAVY);
        return;
    case COMMANDS_BOUNDARY:
        tui_boundary_open(app, p->name);
        return;
    case COMMANDS_SHOW:
        tui_do_show(app);
        return;
    case COMMANDS_CONSENT:
        tui_do_consent(app, p->text);
        return;
    case COMMANDS_REPAIR:
        tui_repair_open(app, p->name); /* tui/repair.c */
        return;
    case COMMANDS_RETENTION:
        tui_do_retention(app, p);
        return;
    case COMMANDS_CIRCLE_CREATE:
    case COMMANDS_CIRCLE_INVITE:
    case COMMANDS_CIRCLE_MEMBERS:
    case COMMANDS_CIRCLE_REMOVE:
    case COMMANDS_CIRCLE_LEAVE:
    case COMMANDS_CHECKIN:
    case COMMANDS_SUPPORT:
        tui_circle_command(app, p); /* tui/circle.c */
        return;
    }
}

void
tui_submit_line(struct tui_app *app)
{
    struct commands_parsed p;
    const char *why = NULL;
    const char *text = input_text(app->line, NULL);

    tui_complete_reset(app);
    if (input_is_empty(app->line)) {
        return;
    }
    app->notice[0] = '\0';
    app->dirty |= TUI_DIRTY_INPUT | TUI_DIRTY_STATUS;
    if (commands_parse(text, &p, &why) != KITH_OK) {
        tui_set_notice(app, true, "%s", why);
        return; /* keep the line so it can be fixed */
    }
    tui_run_command(app, &p); /* p borrows from the line: run before committing */
    input_commit(app->line);
}

void
tui_complete_reset(struct tui_app *app)
{
    free(app->complete_line);
    app->complete_line = NULL;
    app->complete_nth = 0;
}

void
tui_complete(struct tui_app *app)
{
    const char **names = xcalloc(app->n_contacts + 1, sizeof *names);
    size_t cap = TUI_TEXT_MAX + ENGINE_NAME_BUF + 4;
    char *out = xmalloc(cap);
    size_t cursor = 0;
    size_t matches;

    if (app->complete_line == NULL) {
        app->complete_line = xstrdup(input_text(app->line, NULL));
        app->complete_cursor = input_cursor(app->line);
        app->complete_nth = 0;
    }
    for (size_t i = 0; i < app->n_contacts; i++) {
        names[i] = app->contacts[i].c.name;
    }
    matches = commands_complete(app->complete_line, app->complete_cursor, names, app->n_contacts,
                                app->complete_nth, out, cap, &cursor);
    if (matches > 0 && input_set(app->line, out, strlen(out), cursor) == KITH_OK) {
        app->complete_nth++;
    }
    if (matches == 0) {
        beep();
    }
    free(out);
    free(names);
    app->dirty |= TUI_DIRTY_INPUT;
}

/* ---- the loop ---- */

static void
tui_on_winch(int sig)
{
    tui_winch = 1;
    if (tui_winch_prev.sa_handler != SIG_DFL && tui_winch_prev.sa_handler != SIG_IGN &&
        tui_winch_prev.sa_handler != NULL) {
        tui_winch_prev.sa_handler(sig); /* ncurses' own: it queues KEY_RESIZE */
    }
}

/* A message arrived: note it for the bell when the engine says it may make a sound (not muted)
 * and it is shown now (its state says not held, folded or asking first). */
static void
tui_note_arrival(struct tui_app *app, const struct engine_event *ev)
{
    const char *state = NULL;

    if (!ev->notify || engine_msg_state(app->e, ev->msg_id, &state) != KITH_OK) {
        return;
    }
    notify_note_message(app->notify, ev->notify, state);
}

/* After the events of one pass: ring once, as the profile's "notify" setting says (read now,
 * so `kith config set notify off` from another terminal counts from the next message). */
static void
tui_notify_now(struct tui_app *app)
{
    enum notify_mode mode = NOTIFY_BELL;
    char *value = NULL;
    unsigned pending_signals;

    if (notify_has_new(app->notify)) {
        if (engine_config_get(app->e, "notify", &value) == KITH_OK) {
            KITH_IGNORE(notify_mode_parse(value, &mode)); /* unknown: the default, the bell */
        }
        free(value);
        notify_set_mode(app->notify, mode);
        pending_signals =
            notify_take(app->notify, tui_now_ms(), app->screen == &tui_screen_lock);
        if ((pending_signals & NOTIFY_DO_BELL) != 0) {
            beep();
        }
        if ((pending_signals & NOTIFY_DO_DESKTOP) != 0 &&
            notify_desktop_spawn(app->notify) == KITH_ENOTFOUND) {
            tui_set_notice(app, false, "Desktop notifications need notify-send (libnotify-bin).");
        }
    }
    if (notify_children(app->notify) > 0) {
        notify_reap(app->notify);
    }
}

static void
tui_on_event(struct tui_app *app, const struct engine_event *ev)
{
    struct tui_contact_view *v;

    switch (ev->kind) {
    case ENGINE_EV_MESSAGE:
        tui_note_arrival(app, ev);
        if (strcmp(ev->contact, app->conv.name) == 0) {
            if (app->conv.scroll == 0) {
                tui_load_latest(app);
            }
        } else if ((v = tui_find(app, ev->contact, NULL)) != NULL) {
            v->has_unread = v->has_unread || ev->notify; /* muted or held: no dot */
            app->dirty |= TUI_DIRTY_SIDE;
        } else {
            tui_refresh_contacts(app);
        }
        break;
    case ENGINE_EV_STATE:
        if (ev->msg_id[0] == '\0' && app->conv.scroll == 0) {
            tui_load_latest(app); /* disappearing messages were deleted */
        }
        for (size_t i = app->conv.n; i-- > 0;) {
            if (strcmp(app->conv.msgs[i].id, ev->msg_id) == 0) {
                const char *state = NULL;
                if (engine_msg_state(app->e, ev->msg_id, &state) == KITH_OK && state != NULL) {
                    app->conv.msgs[i].state = state;
                    app->dirty |= TUI_DIRTY_CONV;
                }
                if (app->conv.scroll == 0) {
                    tui_load_latest(app); /* a receipt may carry what their boundaries told */
                }
                break;
            }
        }
        break;
    case ENGINE_EV_CONTACT:
    case ENGINE_EV_PEER_UP:
    case ENGINE_EV_PEER_DOWN:
        tui_refresh_contacts(app);
        break;
    case ENGINE_EV_REPAIR:
        tui_repair_on_event(app, ev->contact); /* tui/repair.c */
        break;
    case ENGINE_EV_CIRCLE_MESSAGE:
        tui_note_arrival(app, ev); /* the bell, as for 1:1 messages (not for a muted sender) */
        tui_circle_on_event(app, ev); /* tui/circle.c: ev->contact is the circle's name */
        break;
    case ENGINE_EV_CIRCLE:
        tui_circle_on_event(app, ev);
        break;
    }
}

static void
tui_dispatch_key(struct tui_app *app, struct tui_key *k)
{
    if (k->is_code && k->ch == KEY_RESIZE) {
        tui_view_layout(app);
        app->dirty |= TUI_DIRTY_ALL;
        return;
    }
    if (!k->is_code && k->ch == 27) {
        /* a lone Esc: twice within a moment is the quick lock */
        int64_t now = tui_now_ms();
        bool is_second = app->esc_pending && now - app->esc_at_ms < 1500;

        app->esc_pending = !is_second;
        app->esc_at_ms = now;
        if (is_second || k->is_alt) { /* Esc Esc, typed or arriving together */
            if (app->screen != &tui_screen_lock) {
                tui_lock(app);
            }
        } else if (app->screen != &tui_screen_chat && app->screen != &tui_screen_lock) {
            tui_close_overlay(app);
        }
        return;
    }
    app->esc_pending = false;
    if (k->is_code && k->ch == (uint32_t)KEY_F(12)) {
        if (app->screen != &tui_screen_lock) {
            tui_lock(app);
        }
        return;
    }
    if (app->screen != &tui_screen_lock && k->is_code && k->ch == (uint32_t)KEY_F(1)) {
        tui_show(app, app->screen == &tui_screen_help ? &tui_screen_chat : &tui_screen_help);
        return;
    }
    if (app->screen == &tui_screen_chat && k->is_code && k->ch == (uint32_t)KEY_F(3)) {
        tui_boundary_open(app, ""); /* the open conversation's boundaries */
        return;
    }
    if (!k->is_code && k->ch == 3) { /* Ctrl-C: leave, from any screen */
        app->quit = true;
        engine_stop(app->e);
        return;
    }
    if (app->screen == &tui_screen_chat && tui_circle_key(app, k)) {
        return; /* tui/circle.c: F4, F5, and F6..F9 on a support card */
    }
    app->screen->on_key(app, k);
}

static void
tui_read_keys(struct tui_app *app)
{
    for (int i = 0; i < 4096 && !app->quit; i++) {
        wint_t wc;
        struct tui_key k = { 0 };
        int got = get_wch(&wc);

        if (got == ERR) {
            break;
        }
        k.ch = (uint32_t)wc;
        k.is_code = got == KEY_CODE_YES;
        if (!k.is_code && k.ch == 27) {
            /* Alt-x arrives as Esc and x together; a lone Esc has nothing behind it */
            got = get_wch(&wc);
            if (got != ERR) {
                k.ch = (uint32_t)wc;
                k.is_code = got == KEY_CODE_YES;
                k.is_alt = true;
            }
        }
        tui_dispatch_key(app, &k);
    }
}

static void
tui_on_stdin(void *ctx)
{
    tui_read_keys(ctx);
}

static void
tui_idle(void *ctx)
{
    struct tui_app *app = ctx;
    struct engine_event ev;
    bool had_events = false;

    if (tui_winch) {
        tui_winch = 0;
        tui_read_keys(app); /* picks up KEY_RESIZE */
    }
    while (engine_next_event(app->e, &ev)) {
        tui_on_event(app, &ev);
        had_events = true;
    }
    if (had_events) {
        tui_refresh_status(app);
    }
    tui_notify_now(app);
    if (app->dirty != 0) {
        app->screen->draw(app);
        tui_view_flush(app);
        app->dirty = 0;
    }
}

static void
tui_app_free(struct tui_app *app)
{
    tui_conv_free(&app->conv);
    free(app->contacts);
    input_destroy(app->line);
    input_destroy(app->secret);
    tui_boundary_free(app);
    tui_repair_free(app);
    tui_circle_card_free(app);
    tui_circle_today_destroy(app->today);
    notify_destroy(app->notify);
    tui_complete_reset(app);
    qrblock_free(app->qr_rows, app->qr_n);
    explicit_bzero(app->invite_code, sizeof app->invite_code);
    tui_view_destroy(app->win);
    explicit_bzero(app, sizeof *app);
}

int
tui_run(struct engine *e)
{
    struct tui_app app;
    struct sigaction sa;
    int rc;

    memset(&app, 0, sizeof app);
    rc = engine_start(e);
    if (rc != KITH_OK) {
        tui_curses_end();
        fprintf(stderr, "kith: the network couldn't start: %s\n", kith_strerror(rc));
        return 1;
    }
    tui_curses_begin();
    nodelay(stdscr, TRUE); /* keys are read only when the engine says stdin is ready */
    mousemask(BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
    wnoutrefresh(stdscr); /* stdscr untouched from here: get_wch must not repaint it */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tui_on_winch;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGWINCH, &sa, &tui_winch_prev);
    app.e = e;
    app.line = input_create(TUI_TEXT_MAX, false);
    app.secret = input_create(1024, true);
    app.notify = notify_create();
    app.win = tui_view_create(tui_use_color());
    app.screen = &tui_screen_chat;
    tui_view_layout(&app);
    tui_refresh_contacts(&app);
    tui_refresh_status(&app);
    if (app.n_contacts > 0) {
        tui_switch_to(&app, 0);
    } else {
        tui_set_notice(&app, false, "Welcome. /invite makes a code for someone; /help for more.");
    }
    app.dirty = TUI_DIRTY_ALL;
    engine_watch_fd(e, STDIN_FILENO, tui_on_stdin, &app);
    engine_set_idle(e, tui_idle, &app);
    tui_idle(&app);
    /* engine_run, plus one more idle pass when a signal cut a poll short
     * (engine_step skips the hook then), so a resize is never left waiting. */
    while (!app.quit && !engine_stopping(e)) {
        rc = engine_step(e, -1);
        if (rc != KITH_OK) {
            break;
        }
        if (tui_winch) {
            tui_idle(&app);
        }
    }
    engine_watch_fd(e, -1, NULL, NULL);
    engine_set_idle(e, NULL, NULL);
    sigaction(SIGWINCH, &tui_winch_prev, NULL);
    tui_app_free(&app);
    tui_curses_end();
    if (rc != KITH_OK) {
        fprintf(stderr, "kith: the client stopped: %s\n", kith_strerror(rc));
        return 1;
    }
    return 0;
}
