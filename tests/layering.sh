#!/bin/bash
# Dependencies point one way (STYLE.md §1, DESIGN.md): the TUI sees only the
# engine; only core/store runs SQL; proto/ depends on nothing of ours but the
# identity/error headers; nothing but tui/ includes curses.
set -eu
cd "$(dirname "$0")/.."
bad=0
check() { # pattern files... ; message
    local msg=$1 pat=$2; shift 2
    if grep -nE "$pat" "$@" 2>/dev/null; then echo "layering: $msg"; bad=1; fi
}
check "tui/ may include only core/engine.h of ours, and no zmq/sqlite/sodium" \
    '#include *[<"](zmq|sqlite3|sodium)\.h|#include *"(net|proto)/|#include *"core/(store|session|identity|kcrypt|cli|engine_impl)' tui/*.c tui/*.h
check "only core/store.c runs SQL" '#include *<sqlite3\.h>' \
    $(ls core/*.c net/*.c proto/*.c tui/*.c main.c demo.c | grep -v -E 'core/store(_[a-z_]+)?\.c')
check "store internals (and with them sqlite3) stay inside core/store*" '#include *"core/store_impl\.h"' \
    $(ls core/*.c net/*.c proto/*.c tui/*.c main.c demo.c | grep -v -E 'core/store(_[a-z_]+)?\.c')
check "curses only in tui/" '#include *<n?curses' $(ls core/*.c net/*.c proto/*.c main.c demo.c)
check "proto/ depends on nothing of ours beyond err/identity/kcrypt/limits" \
    '#include *"(net|tui)/|#include *"core/(store|session|engine|cli)' proto/*.c proto/*.h
check "net/ must not reach into core beyond err/limits" \
    '#include *"core/(store|session|engine|cli|identity)' net/*.c net/*.h
exit $bad
