#!/bin/bash
# The help overlay (F1 and /help) begins with "If you're not safe", lists
# the commands, and goes away with Esc; tab completion finishes a command.
KITH=$1
. "$(dirname "$0")/lib.sh"

init ana
client a ana
wait_for a "No conversation is open."
keys a F1
wait_for a "If you're not safe"
wait_for a "If you're in immediate danger, contact your local emergency number."
wait_for a "kith isn't therapy or a crisis service"
wait_for a "/query NAME"
first=$(pane a | grep -n "If you're not safe" | cut -d: -f1)
[ "$first" -le 2 ] || fail "the crisis section is not at the top of help"
keys a Escape
wait_gone a "If you're not safe"
typed a "/hel"; keys a Tab
wait_for a "> /help"
keys a Enter
wait_for a "If you're not safe"
keys a q
wait_gone a "If you're not safe"
typed a "/frobnicate"; keys a Enter
wait_for a "/help lists them"
if pane a | grep -q '!'; then fail "an exclamation mark on screen"; fi
keys a C-u
quit a
note "help overlay and completion work"
