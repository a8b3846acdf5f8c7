/*
 * qrblock: an invite code as a QR code drawn with half-block characters,
 * two module rows per text row, from libqrencode when the build found it.
 * Light modules (and a quiet zone) are drawn as blocks, so it scans on the
 * usual light-on-dark terminal. No curses.
 */
#ifndef KITH_TUI_QRBLOCK_H
#define KITH_TUI_QRBLOCK_H

#include <stddef.h>

#include "core/engine.h" /* KITH_NODISCARD, KITH_E* */

#define QRBLOCK_QUIET 2 /* modules of quiet zone on each side */

/* Is QR drawing compiled in? */
int qrblock_available(void);

/* Render text. *rows gets a malloc'd array of *n_rows malloc'd UTF-8
 * strings, each *cols columns wide. Free with qrblock_free. KITH_ENOTFOUND
 * when built without libqrencode, KITH_ETOOBIG when text does not fit a
 * QR code, KITH_EINVAL for empty text. */
KITH_NODISCARD int qrblock_render(const char *text, char ***rows, size_t *n_rows, size_t *cols);
void qrblock_free(char **rows, size_t n_rows);

#endif
