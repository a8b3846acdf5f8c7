#!/bin/bash
# The repair card in the client (/repair): ana's card against ben's headless
# engine. The card shows where they are, the prompt, the pickers and the
# footer; an invitation and a share sent from it reach ben's replica; ben's
# answer (through the CLI) moves ana's card by itself; F5 pauses; Esc closes.
KITH=$1
. "$(dirname "$0")/lib.sh"

init ana; init ben; pair ana ben
headless ben
client a ana
wait_for a "ben"
keys a M-1
wait_for a "ben  · online" 30
typed a "/repair"; keys a Enter
wait_for a "Repair with ben"
wait_for a "kith isn't therapy · If you're not safe right now: F1"
wait_for a "F5 pause"
wait_for a "Where you are: not started"
typed a "last Saturday"; keys a Enter; keys a Enter
wait_for a "Where you are: invited. Their turn"
status() { k ben repair status ana --json; }
wait_until_state() {
    local want=$1 end=$(( $(date +%s) + 30 ))
    until status 2>/dev/null | grep -q "\"state\":\"$want\""; do
        [ "$(date +%s)" -lt "$end" ] || fail "ben never reached $want: $(status 2>&1)"
        sleep 0.2
    done
}
wait_until_state invited
k ben repair act ana accept >/dev/null || fail "ben could not accept"
wait_for a "Where you are: accepted. Your turn" 30
wait_for a "What happened, as a camera would have seen it?"
typed a "You never called me back"
wait_for a "Coach"
keys a C-u; typed a "You didn't call me back on Saturday"
keys a Tab; keys a Space; keys a Tab; keys a Tab; keys a Space
keys a Tab; typed a "Would you be willing to call when you can?"
keys a Enter; keys a Enter
wait_for a "Where you are: shared. Their turn"
wait_until_state shared
keys a F5
wait_for a "Take the time you need"
keys a Enter; keys a Enter; keys a Enter
wait_for a "on a break"
wait_until_state paused
keys a Escape
wait_gone a "Repair with ben"
quit a
note "the repair card invites, shares and pauses over the network"
