#!/bin/bash
# Quick hide: F12 (and Esc Esc) clears the screen at once to a neutral
# "Locked" view with nothing of the conversation; a wrong passphrase keeps
# it locked; the right one brings the conversation back. No conversation
# text ever goes into the terminal title.
KITH=$1
. "$(dirname "$0")/lib.sh"

init ana; init ben; pair ana ben
client a ana
wait_for a "online"
headless ben
wait_for a "● ben" 30
keys a M-1
typed a "a very private sentence"; keys a Enter
wait_for a "you a very private sentence"
keys a F12
wait_for a "Locked"
wait_gone a "private sentence" 2
if pane a | grep -q "ben"; then fail "a contact's name shows while locked"; fi
typed a "not it"; keys a Enter
wait_for a "That didn't unlock it"
if pane a | grep -q "private"; then fail "text shows after a wrong passphrase"; fi
typed a "$PASS"; keys a Enter
wait_for a "a very private sentence" 30
keys a Escape Escape
wait_for a "Locked"
wait_gone a "private sentence" 2
typed a "$PASS"; keys a Enter
wait_for a "a very private sentence" 30
title=$(tx display-message -p -t a '#{pane_title}')
case "$title" in *private*|*ben*) fail "the terminal title shows: $title" ;; esac
quit a
note "quick hide hid and came back"
