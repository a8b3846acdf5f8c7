/*
 * input: the line editor behind the input line and the passphrase prompts,
 * in plain C with no curses. The text is UTF-8; the cursor is a byte offset
 * that always sits on a character boundary and never between a character
 * and the zero-width marks that follow it. Moves and deletions work in
 * characters and words; history keeps sent lines (never for secrets).
 * Every buffer is wiped before it is freed or reused.
 */
#ifndef KITH_TUI_INPUT_H
#define KITH_TUI_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/engine.h" /* KITH_NODISCARD and the KITH_E* codes */

#define INPUT_HISTORY_MAX 100

struct input;

/* cap: the most bytes of text it holds. is_secret: no history, and the
 * caller shows no text. Never NULL (allocation failure aborts). */
struct input *input_create(size_t cap, bool is_secret);
/* Wipes and frees. NULL-safe. */
void input_destroy(struct input *in);

/* Insert UTF-8 at the cursor (malformed bytes become U+FFFD, control
 * characters are dropped). KITH_ETOOBIG, leaving the text as it was, when
 * it would not fit. */
KITH_NODISCARD int input_insert(struct input *in, const char *utf8, size_t len);
/* Replace the whole text and put the cursor at cursor (clamped). */
KITH_NODISCARD int input_set(struct input *in, const char *utf8, size_t len, size_t cursor);
void input_clear(struct input *in);

/* The text (borrowed, NUL-terminated; valid until the next change) and the cursor. */
const char *input_text(const struct input *in, size_t *len);
size_t input_cursor(const struct input *in);
bool input_is_empty(const struct input *in);

void input_left(struct input *in);
void input_right(struct input *in);
void input_word_left(struct input *in);  /* to the start of this or the previous word */
void input_word_right(struct input *in); /* to the end of this or the next word */
void input_home(struct input *in);
void input_end(struct input *in);
void input_backspace(struct input *in);     /* the character before the cursor */
void input_delete(struct input *in);        /* the character under the cursor */
void input_kill_word(struct input *in);     /* Ctrl-W: the word before the cursor */
void input_kill_to_start(struct input *in); /* Ctrl-U */
void input_kill_to_end(struct input *in);   /* Ctrl-K */

/* History: input_commit files the text (if not empty and not a repeat of
 * the last entry) and clears the line. Up shows older lines; Down newer,
 * and finally the draft that was there before Up. */
void input_commit(struct input *in);
void input_history_up(struct input *in);
void input_history_down(struct input *in);

/* What to show in width columns: the first byte to draw, chosen so the
 * cursor stays visible (moving as little as possible since last time),
 * and the cursor's column from there. */
void input_view(struct input *in, size_t width, size_t *first, size_t *cursor_col);

#endif
