#!/bin/bash
# F1 shows the crisis section in DOMAIN.md §5's order: the emergency line, the person's own
# crisis line and people (kith config set), then the country file's entries with its checked
# date and "kith doesn't verify these"; with no file for the country, a way to find one.
KITH=$1
. "$(dirname "$0")/lib.sh"

init ana
k ana config set crisis_line "Call Jo on 0100 000 000" >/dev/null
k ana config set my_people "Sam next door, Alex" >/dev/null
k ana config set country gb >/dev/null
[ "$(k ana config get country)" = GB ] || fail "country is not stored in capitals"
session a env LC_ALL= LANG=C.UTF-8 KITH_KDF_COST=min "$KITH" --home "$T/ana" \
    --passphrase-file "$T/pass"
wait_for a "No conversation is open."
keys a F1
wait_for a "My crisis line: Call Jo on 0100 000 000"
wait_for a "My people: Sam next door, Alex"
wait_for a "Samaritans: call 116 123"
wait_for a "kith doesn't verify these"
wait_for a "checked 2026-11-23"
line_of() { pane a | grep -nF -- "$1" | head -1 | cut -d: -f1; }
top=$(line_of "If you're not safe")
danger=$(line_of "If you're in immediate danger, contact your local emergency number.")
own=$(line_of "My crisis line:")
people=$(line_of "My people:")
file=$(line_of "Samaritans:")
[ "$top" -le 2 ] || fail "the crisis section is not at the top of help"
[ "$danger" -lt "$own" ] && [ "$own" -lt "$people" ] && [ "$people" -lt "$file" ] ||
    fail "crisis lines out of order: danger $danger, own $own, people $people, file $file"
if pane a | grep -qF "Search 'crisis line'"; then fail "search advice shown although a file matched"; fi
keys a Escape
wait_gone a "My crisis line:"
quit a
note "F1 shows the emergency line, the person's own entries, then the GB file"

# No setting, a locale without a territory: no country file, so the search advice.
init bo
session b env LC_ALL=C.UTF-8 KITH_KDF_COST=min "$KITH" --home "$T/bo" --passphrase-file "$T/pass"
wait_for b "No conversation is open."
keys b F1
wait_for b "If you're in immediate danger, contact your local emergency number."
wait_for b "Search 'crisis line' with your country's name"
wait_for b "kith config set crisis_line"
if pane b | grep -qF "My crisis line:"; then fail "an unset crisis line is shown"; fi
keys b Escape
wait_gone b "If you're not safe"
quit b

# The locale picks the file when no country is set.
session c env LC_ALL= LANG=en_US.UTF-8 KITH_KDF_COST=min "$KITH" --home "$T/bo" \
    --passphrase-file "$T/pass"
wait_for c "No conversation is open."
keys c F1
wait_for c "988 Suicide & Crisis Lifeline: call or text 988"
keys c Escape
wait_gone c "If you're not safe"
quit c
note "without a file: search advice; the locale's territory picks the file"
