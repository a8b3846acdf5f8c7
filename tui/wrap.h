/*
 * wrap: text shaping for the client, in plain C with no curses: UTF-8
 * decoding, display widths (wcwidth, so wide and combining characters line
 * up), word wrapping into display lines, and the short notes a message line
 * carries ("held until 08:00"). Needs an UTF-8 LC_CTYPE for widths.
 */
#ifndef KITH_TUI_WRAP_H
#define KITH_TUI_WRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WRAP_REPLACEMENT 0xFFFDu

/* Decode one code point from s[0..len) (len > 0). Returns the bytes used
 * (at least 1); a malformed, overlong or surrogate sequence yields
 * WRAP_REPLACEMENT for one byte. */
size_t wrap_decode(const char *s, size_t len, uint32_t *cp);

/* Encode cp as UTF-8 into out (4 bytes room); returns the bytes written. */
size_t wrap_encode(uint32_t cp, char out[4]);

/* Columns one code point takes: 0 (combining, zero width), 1 or 2 (wide).
 * Control characters count 1: wrap_sanitize replaces them before display. */
int wrap_cp_width(uint32_t cp);

/* Columns of s[0..len). */
size_t wrap_width(const char *s, size_t len);

/* Bytes of the longest prefix of s[0..len) that fits in width columns,
 * never splitting a character from the zero-width marks that follow it. */
size_t wrap_fit(const char *s, size_t len, size_t width);

/* Copy text from someone else into out (NUL-terminated, cut at a character
 * boundary to fit cap), making it safe for a terminal: malformed UTF-8,
 * control characters (C0 but '\n', DEL, C1) and bidi overrides become
 * U+FFFD, a tab becomes a space. Returns the bytes written. cap >= 4. */
size_t wrap_sanitize(const char *in, size_t len, char *out, size_t cap);

/* One display line: bytes [off, off + len) of the text. */
struct wrap_line {
    size_t off;
    size_t len;
};

/* Break text into lines at most width columns wide (width >= 1): at
 * spaces where possible (the space at a break is dropped), inside a word
 * only when the word alone is wider than a line; '\n' always breaks.
 * Writes at most max lines and returns how many the text needs. Empty text
 * needs one (empty) line. */
size_t wrap_lines(const char *text, size_t len, size_t width, struct wrap_line *lines, size_t max);

/* The state note shown after a message: "queued", "sent", "delivered",
 * "received", "held until HH:MM" (release_at_s in unix seconds, shown in
 * local time; "held" when 0), "folded", "waiting for your yes", "expired".
 * An unknown state is shown as it is. */
void wrap_state_note(const char *state, int64_t release_at_s, char *out, size_t cap);

/* Boundaries under a message, in place of the state note where they apply (note untouched
 * otherwise). Incoming (from != NULL): folded "Folded — mentions something on your list.
 * /show opens it", awaiting_consent "FROM would like to share something heavy. Do you have
 * space right now? /consent yes · later · no", a held digest "held for your bundle at HH:MM".
 * Outgoing (from == NULL, told from the receipt): "held_until" "delivered · they asked for
 * some quiet — it arrives HH:MM", "digest_at" "... a slower pace — in a bundle around HH:MM",
 * "awaiting_consent" "delivered · waiting until they have space", "consent_later" (a heavy
 * message they will look at later) "delivered · they will look at HH:MM", "no_space"
 * "delivered · they can't take this on right now — it might help to reach out to someone else
 * too". Times in local time. */
#define WRAP_NOTE_MAX 224
void wrap_boundary_note(const char *from, const char *state, const char *told,
                        int64_t arrives_at_s, bool is_digest, char *out, size_t cap);

/* "HH:MM" of a unix time in milliseconds, local time. */
void wrap_clock(int64_t ts_ms, char out[6]);

#endif
