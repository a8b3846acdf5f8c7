#!/bin/bash
# Resizing re-lays everything out and keeps the half-typed line: down to
# 60x20, then larger again.
KITH=$1
. "$(dirname "$0")/lib.sh"

init ana; init ben; pair ana ben
client a ana
wait_for a "online"
headless ben
wait_for a "● ben" 30
keys a M-1
typed a "a draft I am still writing"
wait_for a "ben> a draft I am still writing"
tx resize-window -t a -x 60 -y 20
rows_are() { # rows_are N: wait until the pane has N rows, the input on the last
    local deadline=$(( $(date +%s) + 10 ))
    while [ "$(date +%s)" -le "$deadline" ]; do
        if [ "$(pane a | wc -l)" -eq "$1" ] &&
            pane a | sed -n "${1}p" | grep -qF 'ben> a draft'; then
            return 0
        fi
        sleep 0.1
    done
    pane a >&2; fail "no $1-row layout with the draft on its last row"
}
rows_are 20
wait_for a "ben> a draft I am still writing"
pane a | grep -q "│" || fail "the sidebar is gone at 60x20"
tx resize-window -t a -x 120 -y 40
rows_are 40
keys a Enter
wait_for a "ben  · " 30
wait_for a "you a draft I am still writing"
quit a
note "resize kept the layout and the input"
