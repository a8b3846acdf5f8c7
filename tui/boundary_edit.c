/*
 * boundary_edit: the boundary editor for one contact (DOMAIN.md §3). It lists the rules in
 * force in plain language; a rule typed in the DOMAIN syntax is checked on every key and shows
 * either the kind reason it can't be saved or what it will do, BEFORE Enter saves it; "-kind"
 * removes a rule. Only engine verbs: the editor never sees a rule's bytes.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui_impl.h"

#define BOUNDARY_EDIT_WORDS 16
#define BOUNDARY_EDIT_LINE  512

/* Split a copy of the typed line into words (spaces); returns how many. */
static size_t
boundary_edit_words(char *copy, const char **words)
{
    size_t n = 0;

    for (char *tok = strtok(copy, " "); tok != NULL && n < BOUNDARY_EDIT_WORDS;
         tok = strtok(NULL, " ")) {
        words[n++] = tok;
    }
    return n;
}

static void
boundary_edit_reload(struct tui_app *app)
{
    char *text = NULL;

    free(app->bnd_rules);
    app->bnd_rules = NULL;
    if (engine_boundary_show(app->e, app->bnd_name, false, &text) == KITH_OK) {
        app->bnd_rules = text;
    }
}

/* Live validation of the typed line: app->bnd_preview or app->bnd_why. */
static void
boundary_edit_check(struct tui_app *app)
{
    char copy[BOUNDARY_EDIT_LINE];
    const char *words[BOUNDARY_EDIT_WORDS];
    const char *text = input_text(app->bnd_line, NULL);
    size_t n;

    free(app->bnd_preview);
    app->bnd_preview = NULL;
    app->bnd_why = NULL;
    snprintf(copy, sizeof copy, "%s", text);
    n = boundary_edit_words(copy, words);
    if (n == 0) {
        return;
    }
    if (words[0][0] == '-') {
        app->bnd_preview = xstrdup("Enter removes this rule.");
        return;
    }
    if (engine_boundary_preview(words, n, &app->bnd_why, &app->bnd_preview) != KITH_OK &&
        app->bnd_why == NULL) {
        app->bnd_why = "That rule isn't one kith knows; the examples below show the forms.";
    }
}

static void
boundary_edit_save(struct tui_app *app)
{
    char copy[BOUNDARY_EDIT_LINE];
    const char *words[BOUNDARY_EDIT_WORDS];
    const char *why = NULL;
    char *summary = NULL;
    size_t n;
    int rc;

    snprintf(copy, sizeof copy, "%s", input_text(app->bnd_line, NULL));
    n = boundary_edit_words(copy, words);
    if (n == 0) {
        return;
    }
    if (words[0][0] == '-') {
        words[0]++; /* "-quiet" clears quiet */
        rc = engine_boundary_clear(app->e, app->bnd_name, words, n, &why, &summary);
    } else {
        rc = engine_boundary_set(app->e, app->bnd_name, words, n, &why, &summary);
    }
    free(summary);
    if (rc != KITH_OK) {
        app->bnd_why = why != NULL ? why : kith_strerror(rc);
        return;
    }
    input_clear(app->bnd_line);
    free(app->bnd_preview);
    app->bnd_preview = NULL;
    app->bnd_why = NULL;
    boundary_edit_reload(app);
    tui_refresh_contacts(app); /* the sidebar mark */
    tui_set_notice(app, false, "Saved. Your boundaries for %s are in force now.", app->bnd_name);
}

static void
boundary_edit_key(struct tui_app *app, const struct tui_key *k)
{
    app->dirty |= TUI_DIRTY_ALL;
    if (k->is_code && k->ch == KEY_RESIZE) {
        return;
    }
    if ((!k->is_code && (k->ch == 10 || k->ch == 13)) || (k->is_code && k->ch == KEY_ENTER)) {
        boundary_edit_save(app);
        return;
    }
    (void)tui_edit_key(app->bnd_line, k);
    boundary_edit_check(app);
}

void
tui_boundary_open(struct tui_app *app, const char *name)
{
    const char *who = name != NULL && name[0] != '\0' ? name : app->conv.name;
    struct engine_contact c;

    if (who[0] == '\0') {
        tui_set_notice(app, true, "Open a conversation first, or say /boundary NAME.");
        return;
    }
    if (engine_contact(app->e, who, &c) != KITH_OK) {
        tui_set_notice(app, true, "There's no contact called %s here.", who);
        return;
    }
    snprintf(app->bnd_name, sizeof app->bnd_name, "%s", c.name);
    if (app->bnd_line == NULL) {
        app->bnd_line = input_create(BOUNDARY_EDIT_LINE - 1, false);
    }
    input_clear(app->bnd_line);
    free(app->bnd_preview);
    app->bnd_preview = NULL;
    app->bnd_why = NULL;
    boundary_edit_reload(app);
    tui_show(app, &tui_screen_boundary);
}

void
tui_boundary_free(struct tui_app *app)
{
    input_destroy(app->bnd_line);
    app->bnd_line = NULL;
    free(app->bnd_rules);
    free(app->bnd_preview);
    app->bnd_rules = NULL;
    app->bnd_preview = NULL;
}

const struct tui_screen tui_screen_boundary = { "boundary", boundary_edit_key,
                                                tui_view_draw_boundary };
