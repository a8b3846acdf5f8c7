/*
 * qrblock: QR codes in half blocks (see qrblock.h). Each output character
 * covers two vertically stacked modules: U+2588 both light, U+2580 top
 * light, U+2584 bottom light, a space both dark.
 */
#include "tui/qrblock.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifdef KITH_HAVE_QRENCODE
#include <qrencode.h>
#endif

void
qrblock_free(char **rows, size_t n_rows)
{
    if (rows == NULL) {
        return;
    }
    for (size_t i = 0; i < n_rows; i++) {
        free(rows[i]);
    }
    free(rows);
}

#ifdef KITH_HAVE_QRENCODE

int
qrblock_available(void)
{
    return 1;
}

/* Is module (x, y) of the padded square light? Outside the code: quiet zone. */
static bool
qrblock_is_light(const QRcode *qr, int x, int y)
{
    int w = qr->width;

    x -= QRBLOCK_QUIET;
    y -= QRBLOCK_QUIET;
    if (x < 0 || y < 0 || x >= w || y >= w) {
        return true;
    }
    return (qr->data[y * w + x] & 1) == 0;
}

int
qrblock_render(const char *text, char ***rows, size_t *n_rows, size_t *cols)
{
    static const char *const glyph[4] = { " ", "\u2584", "\u2580", "\u2588" };
    QRcode *qr;
    int side;
    size_t n;
    char **out;

    *rows = NULL;
    *n_rows = 0;
    *cols = 0;
    if (text == NULL || text[0] == '\0') {
        return KITH_EINVAL;
    }
    qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_L);
    if (qr == NULL) {
        return KITH_ETOOBIG;
    }
    side = qr->width + 2 * QRBLOCK_QUIET;
    n = (size_t)(side + 1) / 2;
    out = xcalloc(n, sizeof *out);
    for (size_t r = 0; r < n; r++) {
        char *line = xmalloc((size_t)side * 3 + 1);
        size_t o = 0;
        for (int x = 0; x < side; x++) {
            int top = qrblock_is_light(qr, x, (int)r * 2) ? 2 : 0;
            int bottom = (int)r * 2 + 1 >= side || qrblock_is_light(qr, x, (int)r * 2 + 1) ? 1 : 0;
            size_t gl = strlen(glyph[top | bottom]);
            memcpy(line + o, glyph[top | bottom], gl);
            o += gl;
        }
        line[o] = '\0';
        out[r] = line;
    }
    QRcode_free(qr);
    *rows = out;
    *n_rows = n;
    *cols = (size_t)side;
    return KITH_OK;
}

#else

int
qrblock_available(void)
{
    return 0;
}

int
qrblock_render(const char *text, char ***rows, size_t *n_rows, size_t *cols)
{
    (void)text;
    *rows = NULL;
    *n_rows = 0;
    *cols = 0;
    return KITH_ENOTFOUND;
}

#endif
