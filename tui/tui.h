/*
 * tui: the ncurses client. A view and a keyboard on the engine's verbs and
 * events: it never touches a socket or runs SQL (core/engine.h only).
 * main.c and the demo call these three entry points.
 */
#ifndef KITH_TUI_TUI_H
#define KITH_TUI_TUI_H

#include <stdbool.h>
#include <stddef.h>

struct engine;

/* Open the client on an unlocked, not yet started engine; runs until the
 * person quits. Starts the network itself (engine_start) and drives the loop
 * with engine_watch_fd(stdin) and engine_set_idle. The caller still closes
 * the engine. Returns a process exit status (0, or 1 with a reason on stderr). */
int tui_run(struct engine *e);

/* First run: no profile at home. Gentle screens (welcome with the "not
 * therapy" line, name, passphrase twice without echo, where to listen), then
 * engine_init_profile + engine_open + tui_run. cost_min as for
 * engine_init_profile. Returns a process exit status. */
int tui_first_run(const char *home, bool cost_min);

/* Ask for the passphrase on a calm screen without echo (main calls it
 * before engine_open; a second call says the last one didn't unlock).
 * Returns 0 with *pass a malloc'd NUL-terminated copy (the caller wipes and
 * frees it) and *len its length, or 1 if the person leaves. */
int tui_ask_passphrase(const char *home, char **pass, size_t *len);

/* `kith practice` without --script (tui/repair.c): the practice card against a scripted
 * partner of persona ("receptive", "defensive", "withdrawn") with seed. No engine, no
 * profile, no network. When transcript is not NULL, *transcript gets a malloc'd plain-text
 * record of the session (for --save; the caller wipes and frees it), or NULL. Returns a
 * process exit status. */
int tui_practice(const char *persona, unsigned long long seed, char **transcript);

#endif
