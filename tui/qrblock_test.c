/*
 * qrblock_test: QR codes in half blocks: size, quiet zone, the finder
 * pattern's corner, and the refusals.
 */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tui/qrblock.h"
#include "tui/wrap.h"

#define FULL "\xe2\x96\x88"

static void
render__draws__a_square_with_a_quiet_zone(void **state)
{
    char **rows = NULL;
    size_t n = 0;
    size_t cols = 0;

    (void)state;
    if (!qrblock_available()) {
        assert_int_equal(qrblock_render("kith1-abc", &rows, &n, &cols), KITH_ENOTFOUND);
        skip();
    }
    assert_int_equal(qrblock_render("kith1-abcdefghijklmnopqrstuvwxyz234567", &rows, &n, &cols),
                     KITH_OK);
    assert_true(cols >= 21 + 2 * QRBLOCK_QUIET);
    assert_int_equal(n, (cols + 1) / 2);
    for (size_t r = 0; r < n; r++) {
        assert_int_equal(wrap_width(rows[r], strlen(rows[r])), cols);
    }
    /* the first text row is all quiet zone: light both halves */
    for (size_t c = 0; c < cols; c++) {
        assert_memory_equal(rows[0] + 3 * c, FULL, 3);
    }
    /* row 1 holds module rows 2 and 3: quiet, quiet, then the dark finder corner */
    assert_memory_equal(rows[1], FULL FULL " ", 7);
    qrblock_free(rows, n);
}

static void
render__refuses__empty_and_oversized_text(void **state)
{
    static char big[8000];
    char **rows = NULL;
    size_t n = 0;
    size_t cols = 0;

    (void)state;
    if (!qrblock_available()) {
        skip();
    }
    assert_int_equal(qrblock_render("", &rows, &n, &cols), KITH_EINVAL);
    memset(big, 'x', sizeof big - 1);
    assert_int_equal(qrblock_render(big, &rows, &n, &cols), KITH_ETOOBIG);
    assert_null(rows);
    assert_int_equal(n, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(render__draws__a_square_with_a_quiet_zone),
        cmocka_unit_test(render__refuses__empty_and_oversized_text),
    };

    if (setlocale(LC_CTYPE, "C.UTF-8") == NULL) {
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
