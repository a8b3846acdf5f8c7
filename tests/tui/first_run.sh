#!/bin/bash
# First run: with no profile, kith walks through welcome (with the "not
# therapy" line), name, passphrase twice (a mismatch is asked again), where
# to listen; then the client opens on the new profile, which the passphrase
# unlocks from the command line afterwards.
KITH=$1
. "$(dirname "$0")/lib.sh"

session first env KITH_KDF_COST=min "$KITH" --home "$T/ana"
wait_for first "Welcome to kith."
wait_for first "It isn't therapy"
keys first F1
wait_for first "If you're in immediate danger, contact your local emergency number."
keys first Enter
wait_for first "What name should people see?"
typed first "Ana"; keys first Enter
wait_for first "Choose a passphrase."
typed first "$PASS"; keys first Enter
wait_for first "Type it once more."
typed first "not the same"; keys first Enter
wait_for first "Those two didn't match"
if pane first | grep -qF "$PASS"; then fail "the passphrase was echoed"; fi
typed first "$PASS"; keys first Enter
wait_for first "Type it once more."
typed first "$PASS"; keys first Enter
wait_for first "Where should kith listen?"
wait_for first "tcp://127.0.0.1:*"
keys first Enter
wait_for first "No conversation is open." 30
wait_for first "online"
wait_for first "Ana"
quit first
k ana id | grep -q Ana || fail "the profile made on the first-run screens doesn't open"
note "first run made a profile"
