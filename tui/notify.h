/*
 * notify: whether a new message may make itself known, and how (issue 7, item 6).
 * Only a message that is shown now counts: one the engine flags notify (not muted, not a
 * control update) whose state is "received" (not held, folded, waiting for consent, and never
 * one of ours). The profile's "notify" setting picks the terminal bell, a desktop
 * notification, both, or nothing; many arrivals in one loop pass make one signal, and signals
 * are paced. A desktop notification runs notify-send with a fixed text, no name, no content;
 * it is spawned without a shell and reaped without blocking. No curses here.
 */
#ifndef KITH_TUI_NOTIFY_H
#define KITH_TUI_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h" /* KITH_NODISCARD and the KITH_E* codes */

#define NOTIFY_DESKTOP_TEXT   "kith: a new message"
#define NOTIFY_BELL_GAP_MS    2000  /* at most one bell in this time */
#define NOTIFY_DESKTOP_GAP_MS 30000 /* at most one desktop notification in this time */
#define NOTIFY_CHILDREN_MAX   4     /* notify-send processes not yet reaped */

enum notify_mode {
    NOTIFY_BELL = 1, /* the default */
    NOTIFY_DESKTOP = 2,
    NOTIFY_BOTH = 3,
    NOTIFY_OFF = 4,
};

/* What notify_take asks the caller to do now. */
#define NOTIFY_DO_BELL    1u
#define NOTIFY_DO_DESKTOP 2u

struct notify;

/* Never NULL (allocation failure aborts); mode NOTIFY_BELL. Destroy accepts NULL and reaps
 * the children that have already exited (the rest are left to init when kith exits). */
struct notify *notify_create(void);
void notify_destroy(struct notify *n);

/* The setting's value: "bell", "desktop", "both" or "off"; NULL (unset) means "bell".
 * KITH_OK, or KITH_EINVAL for anything else (*mode is then NOTIFY_BELL). */
KITH_NODISCARD int notify_mode_parse(const char *value, enum notify_mode *mode);
void notify_set_mode(struct notify *n, enum notify_mode mode);
enum notify_mode notify_get_mode(const struct notify *n);

/* One ENGINE_EV_MESSAGE: the engine's notify flag and the message's state name (from
 * engine_msg_state; NULL when unknown). Returns whether it counts as shown-and-new. */
bool notify_note_message(struct notify *n, bool engine_notify, const char *state);

/* Has a shown message been noted since the last notify_take? */
bool notify_has_new(const struct notify *n);

/* After draining a loop pass's events: NOTIFY_DO_* bits for what to do now, by the mode and
 * the pacing, then forget what was noted. is_hidden (the quick-lock screen is up, someone else
 * may be looking) keeps everything silent. now_ms: a monotonic clock. */
unsigned notify_take(struct notify *n, int64_t now_ms, bool is_hidden);

/* Start `notify-send --app-name=kith "kith: a new message"` from PATH with stdin, stdout and
 * stderr on /dev/null, without a shell and without waiting. KITH_ENOTFOUND when notify-send
 * is not installed (later calls then do nothing and return the same), KITH_EAGAIN when
 * NOTIFY_CHILDREN_MAX are still running, KITH_ESYS when spawning failed. */
KITH_NODISCARD int notify_desktop_spawn(struct notify *n);
/* Reap the children that have exited (waitpid WNOHANG on each of ours, never on others'). */
void notify_reap(struct notify *n);
/* Children started and not yet reaped. */
size_t notify_children(const struct notify *n);

#endif
