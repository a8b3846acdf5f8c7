#!/bin/bash
# The boundary editor: /boundary opens it for the open contact; a rule typed in the DOMAIN
# syntax is checked on every key (a kind reason for a mistake, the plain-language effect for a
# good rule) before Enter saves it; the sidebar then marks the contact, and the next message
# from them is held (its text not shown) until the snooze ends. -snooze removes the rule.
KITH=$1
. "$(dirname "$0")/lib.sh"

init ana; init ben; pair ana ben
headless ben
client a ana
wait_for a "ben"
keys a M-1
wait_for a "ben  · online" 30
typed a "/boundary"; keys a Enter
wait_for a "Your boundaries for ben"
typed a "quiet=25:00-08:00"
wait_for a "rule> quiet=25:00-08:00"
pane a | grep -q "Enter saves" || fail "no footer"
pane a | grep -qi "hour\|time" || fail "no kind reason for a bad time: $(pane a)"
keys a C-u
typed a "snooze=until=2099-01-01T09:00"
wait_for a "2099"
keys a Enter
wait_for a "Saved."
keys a Escape
wait_for a "◐"
k ben send ana "a message while snoozed" >/dev/null
wait_for a "held until" 30
pane a | grep -q "a message while snoozed" && fail "the held text is on the screen"
k ana log ben --json | grep -q '"state":"held"' || fail "not held in the log"
typed a "/boundary"; keys a Enter
wait_for a "Your boundaries for ben"
tx send-keys -t a -l -- "-snooze"
wait_for a "Enter removes this rule."
keys a Enter
wait_for a "Saved."
keys a Escape
wait_for a "a message while snoozed" 30
typed a "/heavy this one is heavy"; keys a Enter
wait_for a "this one is heavy"
k ben log ana --json | grep -q '"heavy":true' || sleep 2
k ben log ana --json | grep -q '"heavy":true' || fail "/heavy did not mark the message heavy"
quit a
note "the editor previewed, saved, and the rule held the next message"
