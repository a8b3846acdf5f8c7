/*
 * circle (tui): support circles in the client. Circles follow the contacts in
 * the sidebar as "#name" (their conversation is engine_history("#name")); the
 * /circle commands; the leave confirmation; and the soft card under a circle
 * conversation when someone there could use support, answered with one key.
 * No counts, no streaks, no read receipts: a signal shows until it is answered
 * or twelve hours have passed, and nothing here ever nudges.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/commands.h"
#include "tui/qrblock.h"
#include "tui/tui_impl.h"
#include "tui/wrap.h"

#define CIRCLE_SIGNAL_MS (12 * 3600 * 1000LL) /* as the engine's default expiry */
#define CIRCLE_LATER_S   3600                 /* "I can later": in an hour */

/* ---- the list ---- */

static bool
circle_is(const struct tui_contact_view *v, const char *state)
{
    return v->circle.state != NULL && strcmp(v->circle.state, state) == 0;
}

/* The view of "#name" (or "name") among the contacts, or NULL. */
static struct tui_contact_view *
circle_find(struct tui_app *app, const char *name)
{
    const char *bare = name[0] == '#' ? name + 1 : name;

    for (size_t i = 0; i < app->n_contacts; i++) {
        struct tui_contact_view *v = &app->contacts[i];
        if (v->circle.state != NULL && strcmp(v->circle.name, bare) == 0) {
            return v;
        }
    }
    return NULL;
}

/* Is anyone else in the circle online? */
static bool
circle_anyone_online(struct engine *e, const char *name)
{
    struct engine_member *members = NULL;
    size_t n = 0;
    bool online = false;

    if (engine_circle_members(e, name, &members, &n) != KITH_OK) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        online = online || (!members[i].me && members[i].online);
    }
    free(members);
    return online;
}

size_t
tui_circles_append(struct tui_app *app, struct tui_contact_view **views, size_t n)
{
    struct engine_circle_info *list = NULL;
    size_t count = 0;

    if (engine_circles(app->e, &list, &count) != KITH_OK) {
        return n;
    }
    *views = xrealloc(*views, (n + count + 1) * sizeof **views);
    for (size_t i = 0; i < count; i++) {
        struct tui_contact_view *v = &(*views)[n + i];
        const struct tui_contact_view *old;

        memset(v, 0, sizeof *v);
        v->circle = list[i];
        snprintf(v->c.name, sizeof v->c.name, "#%.*s", ENGINE_NAME_BUF - 2, list[i].name);
        v->c.pending = circle_is(v, "joining");
        v->c.online = circle_is(v, "active") && circle_anyone_online(app->e, list[i].name);
        old = circle_find(app, list[i].name); /* the list before this refresh */
        v->has_unread = old != NULL && old->has_unread;
    }
    free(list);
    return n + count;
}

bool
tui_circle_is_quiet(const struct tui_contact_view *v)
{
    return v->circle.state != NULL && !circle_is(v, "active");
}

const char *
tui_circle_label(const struct tui_contact_view *v)
{
    return circle_is(v, "joining") ? "#joining-\u2026" : v->c.name;
}

void
tui_circle_title(const struct tui_contact_view *v, char *out, size_t cap)
{
    if (circle_is(v, "joining")) {
        snprintf(out, cap, "  \u00b7 waiting for the welcome");
    } else if (circle_is(v, "left")) {
        snprintf(out, cap, "  \u00b7 you left \u00b7 your copy stays here to read");
    } else if (circle_is(v, "removed")) {
        snprintf(out, cap, "  \u00b7 you're no longer in it \u00b7 your copy stays here to read");
    } else if (v->circle.members <= 1) {
        snprintf(out, cap, "  \u00b7 just you so far (/circle invite)");
    } else {
        snprintf(out, cap, "  \u00b7 %zu people", v->circle.members);
    }
}

bool
tui_circle_refuses(struct tui_app *app, const struct commands_parsed *p)
{
    const char *target = p->verb == COMMANDS_MSG ? p->name : app->conv.name;
    const struct tui_contact_view *v;

    if (p->verb != COMMANDS_SAY && p->verb != COMMANDS_HEAVY && p->verb != COMMANDS_MSG) {
        return false;
    }
    v = target[0] == '#' ? circle_find(app, target) : NULL;
    if (v == NULL || circle_is(v, "active")) {
        return false;
    }
    if (circle_is(v, "joining")) {
        tui_set_notice(app, false,
                       "This circle is waiting for the welcome; you can write once "
                       "it arrives.");
    } else {
        tui_set_notice(app, false, "You're not in %s any more; its history stays here to read.",
                       v->c.name);
    }
    return true;
}

/* ---- commands ---- */

/* The circle a command means: NAME, else the open conversation when it is a circle. */
static struct tui_contact_view *
circle_target(struct tui_app *app, const char *name, const char *usage)
{
    const char *want = name[0] != '\0' ? name : app->conv.name;
    struct tui_contact_view *v = want[0] != '\0' ? circle_find(app, want) : NULL;

    if (v == NULL && name[0] != '\0') {
        tui_set_notice(app, true, "There's no circle called %s%s here.", name[0] == '#' ? "" : "#",
                       name);
    } else if (v == NULL) {
        tui_set_notice(app, true, "Open a circle first, or say %s.", usage);
    }
    return v;
}

static void
circle_create(struct tui_app *app, const char *name)
{
    const char *bare = name[0] == '#' ? name + 1 : name;
    char open[ENGINE_NAME_BUF];
    int rc = engine_circle_create(app->e, bare);

    if (rc == KITH_EEXISTS) {
        tui_set_notice(app, true, "There's already a circle called #%s.", bare);
        return;
    }
    if (rc == KITH_EINVAL) {
        tui_set_notice(app, true, "A circle's name is one word of up to 64 bytes.");
        return;
    }
    if (rc != KITH_OK) {
        tui_set_notice(app, true, "The circle wasn't made: %s", kith_strerror(rc));
        return;
    }
    snprintf(open, sizeof open, "#%.*s", ENGINE_NAME_BUF - 2, bare);
    tui_refresh_contacts(app);
    tui_open_conversation(app, open);
    tui_set_notice(app, false, "%s is yours. /circle invite makes a code for someone you trust.",
                   open);
}

static void
circle_invite(struct tui_app *app, const char *name)
{
    struct tui_contact_view *v = circle_target(app, name, "/circle invite NAME");
    char circle[ENGINE_NAME_BUF];
    int rc;

    if (v == NULL) {
        return;
    }
    snprintf(circle, sizeof circle, "%s", v->c.name);
    rc = engine_circle_invite(app->e, circle, 0, app->invite_code);
    if (rc == KITH_ESTATE) {
        tui_set_notice(app, false, "Only the circle's admins can invite people to %s.", circle);
        return;
    }
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
    tui_set_notice(app, false, "A code for %s: they /accept it (or kith accept CODE).", circle);
}

static void
circle_remove(struct tui_app *app, const char *contact)
{
    struct tui_contact_view *v = circle_target(app, "", "/circle remove NAME in the circle");
    char circle[ENGINE_NAME_BUF];
    int rc;

    if (v == NULL) {
        return;
    }
    snprintf(circle, sizeof circle, "%s", v->c.name);
    rc = engine_circle_remove(app->e, circle, contact);
    if (rc == KITH_ENOTFOUND) {
        tui_set_notice(app, true, "There's no one called %s in %s.", contact, circle);
    } else if (rc == KITH_ESTATE) {
        tui_set_notice(app, false, "Only the circle's admins can take someone out of %s.", circle);
    } else if (rc != KITH_OK) {
        tui_set_notice(app, true, "Nothing changed: %s", kith_strerror(rc));
    } else {
        tui_refresh_contacts(app);
        tui_set_notice(app, false,
                       "%s is no longer in %s. What is written from now on is "
                       "sealed without them.",
                       contact, circle);
    }
}

/* Are we the circle's only admin while others are in it? Its rules refuse that leave. */
static bool
circle_is_last_admin(struct engine *e, const char *name)
{
    struct engine_member *members = NULL;
    size_t n = 0;
    size_t admins = 0;
    bool is_admin = false;

    if (engine_circle_members(e, name, &members, &n) != KITH_OK) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        admins += members[i].admin ? 1 : 0;
        is_admin = is_admin || (members[i].me && members[i].admin);
    }
    free(members);
    return is_admin && admins == 1 && n > 1;
}

static void
circle_leave_ask(struct tui_app *app, const char *name)
{
    struct tui_contact_view *v = circle_target(app, name, "/circle leave NAME");

    if (v == NULL) {
        return;
    }
    if (!circle_is(v, "active") && !circle_is(v, "joining")) {
        tui_set_notice(app, false, "You're not in %s any more.", v->c.name);
        return;
    }
    if (circle_is_last_admin(app->e, v->c.name)) {
        tui_set_notice(app, false,
                       "You're the only admin of %s, so leaving isn't possible while others "
                       "are in it.",
                       v->c.name);
        return;
    }
    snprintf(app->circle_leave, sizeof app->circle_leave, "%s", v->c.name); /* the next key */
    tui_set_notice(app, false, "Leave %s? Your copy of the history stays on this device. [y/N]",
                   app->circle_leave);
}

void
tui_circle_command(struct tui_app *app, const struct commands_parsed *p)
{
    switch (p->verb) {
    case COMMANDS_CIRCLE_CREATE:
        circle_create(app, p->name);
        return;
    case COMMANDS_CIRCLE_INVITE:
        circle_invite(app, p->name);
        return;
    case COMMANDS_CIRCLE_MEMBERS: {
        const struct tui_contact_view *v = circle_target(app, p->name, "/circle members NAME");
        if (v != NULL) {
            tui_circle_card_open(app, TUI_CARD_MEMBERS, v->c.name);
        }
        return;
    }
    case COMMANDS_CIRCLE_REMOVE:
        circle_remove(app, p->name);
        return;
    case COMMANDS_CIRCLE_LEAVE:
        circle_leave_ask(app, p->name);
        return;
    case COMMANDS_CHECKIN:
    case COMMANDS_SUPPORT:
        if (p->name[0] != '\0' && circle_target(app, p->name, "") == NULL) {
            return;
        }
        tui_circle_card_open(app, p->verb == COMMANDS_CHECKIN ? TUI_CARD_CHECKIN : TUI_CARD_SUPPORT,
                             p->name);
        return;
    default:
        return;
    }
}

/* ---- leaving: one quiet step ---- */

/* The key after "Leave #name? [y/N]". */
static void
circle_leave_answer(struct tui_app *app, const struct tui_key *k)
{
    char circle[ENGINE_NAME_BUF];
    int rc;

    snprintf(circle, sizeof circle, "%s", app->circle_leave);
    app->circle_leave[0] = '\0';
    app->notice[0] = '\0';
    app->dirty |= TUI_DIRTY_STATUS | TUI_DIRTY_INPUT;
    if (k->is_code || (k->ch != 'y' && k->ch != 'Y')) {
        return; /* anything but y keeps things as they are, without a word */
    }
    rc = engine_circle_leave(app->e, circle);
    if (rc != KITH_OK) {
        tui_set_notice(app, true, "You're still in %s: %s", circle, kith_strerror(rc));
        return;
    }
    tui_refresh_contacts(app);
    tui_set_notice(app, false, "You left %s. Its history stays here to read.", circle);
}

/* ---- the soft support card ---- */

/* Has this conversation an answer of ours to signal id? */
static bool
circle_answered(const struct tui_app *app, const char *id)
{
    for (size_t i = 0; i < app->conv.n; i++) {
        const struct engine_msg *m = &app->conv.msgs[i];
        if (m->outgoing && m->kind != NULL && strcmp(m->kind, "support_reply") == 0 &&
            strcmp(m->reply_to, id) == 0) {
            return true;
        }
    }
    return false;
}

static const struct engine_msg *
circle_signal(const struct tui_app *app)
{
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    const struct tui_contact_view *v;

    if (app->conv.name[0] != '#' || app->conv.scroll > 0) {
        return NULL;
    }
    for (size_t i = 0; i < app->n_contacts; i++) {
        v = &app->contacts[i];
        if (v->circle.state != NULL && strcmp(v->c.name, app->conv.name) == 0) {
            if (!circle_is(v, "active")) {
                return NULL; /* read-only: nothing to answer from here */
            }
            break;
        }
    }
    for (size_t i = app->conv.n; i-- > 0;) {
        const struct engine_msg *m = &app->conv.msgs[i];
        int64_t at = m->received_ms > 0 ? m->received_ms : m->ts_ms;
        if (m->outgoing || m->kind == NULL || strcmp(m->kind, "support") != 0 ||
            now_ms - at > CIRCLE_SIGNAL_MS || circle_answered(app, m->id)) {
            continue;
        }
        return m;
    }
    return NULL;
}

size_t
tui_circle_card(const struct tui_app *app, char rows[TUI_CARD_ROWS][TUI_CARD_COLS])
{
    const struct engine_msg *m = circle_signal(app);
    char said[TUI_CARD_COLS];

    if (m == NULL) {
        return 0;
    }
    snprintf(said, sizeof said, "%s %s", m->from, m->text != NULL ? m->text : "");
    wrap_sanitize(said, strlen(said), rows[0], TUI_CARD_COLS);
    snprintf(rows[1], TUI_CARD_COLS,
             "F6 [I'm here \u2014 I can talk now]   F7 [I can later, in an hour]");
    snprintf(rows[2], TUI_CARD_COLS, "F8 [Sending care]   F9 [I can't right now]");
    return 3;
}

static void
circle_answer(struct tui_app *app, const struct engine_msg *m, int answer)
{
    static const char *const said[] = {
        "",
        "They'll see you're here and can talk now.",
        "They'll see you can later, in about an hour.",
        "They'll see you're sending care.",
        "That's okay. They'll see only that you're not available right now.",
    };
    char id[ENGINE_ID_HEX];
    int64_t later_at = answer == 2 ? (int64_t)time(NULL) + CIRCLE_LATER_S : 0;
    int rc = engine_circle_reply(app->e, app->conv.name, m->id, answer, later_at, id);

    if (rc != KITH_OK) {
        tui_set_notice(app, true, "Your answer wasn't sent: %s", kith_strerror(rc));
        return;
    }
    tui_load_latest(app); /* the card goes: it is answered */
    tui_set_notice(app, false, "%s", said[answer]);
}

bool
tui_circle_key(struct tui_app *app, const struct tui_key *k)
{
    const struct engine_msg *m;

    if (app->circle_leave[0] != '\0') {
        circle_leave_answer(app, k);
        return true;
    }
    if (!k->is_code) {
        return false;
    }
    if (k->ch == (uint32_t)KEY_F(4) || k->ch == (uint32_t)KEY_F(5)) {
        tui_circle_card_open(app, k->ch == (uint32_t)KEY_F(5) ? TUI_CARD_CHECKIN : TUI_CARD_SUPPORT,
                             "");
        return true;
    }
    if (k->ch < (uint32_t)KEY_F(6) || k->ch > (uint32_t)KEY_F(9) ||
        (m = circle_signal(app)) == NULL) {
        return false;
    }
    circle_answer(app, m, (int)(k->ch - (uint32_t)KEY_F(6)) + 1);
    return true;
}

/* ---- events ---- */

void
tui_circle_on_event(struct tui_app *app, const struct engine_event *ev)
{
    char name[ENGINE_NAME_BUF];
    struct tui_contact_view *v;

    snprintf(name, sizeof name, "#%.*s", ENGINE_NAME_BUF - 2, ev->contact);
    if (ev->kind == ENGINE_EV_CIRCLE) {
        bool was_joining = strncmp(app->conv.name, "#joining-", 9) == 0;
        tui_refresh_contacts(app);
        if (was_joining && circle_find(app, app->conv.name) == NULL &&
            circle_find(app, name) != NULL) {
            tui_open_conversation(app, name); /* the welcome came: it has its name now */
        } else if (strcmp(app->conv.name, name) == 0 && app->conv.scroll == 0) {
            tui_load_latest(app);
        }
        return;
    }
    tui_circle_card_on_message(app, name); /* the members card's check-ins */
    if (strcmp(app->conv.name, name) == 0) {
        if (app->conv.scroll == 0) {
            tui_load_latest(app);
        } else {
            tui_circle_today_reload(app); /* the "today:" line, even when scrolled back */
        }
        return;
    }
    v = circle_find(app, name);
    if (v == NULL) {
        tui_refresh_contacts(app);
    } else if (ev->notify) {
        v->has_unread = true; /* a calm dot, never a count */
        app->dirty |= TUI_DIRTY_SIDE;
    }
}
