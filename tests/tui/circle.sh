#!/bin/bash
# A support circle from the client: tia (in the TUI) makes #care with /circle
# create and invites ben and cai (each a `kith run`) with the code /circle
# invite shows; ben's message to '#care' from the command line appears in the
# circle's conversation with his name; a check-in made with keys (F5) reaches
# cai's log as kind "checkin"; cai's "I could use support" shows in the TUI as
# a soft card, and one key (F8) answers it: cai's log holds a "support_reply".
# Choosing "rough" shows the crisis lines and offers (only offers) a support
# signal, sent from the card; "Just for me" sends nothing; a circle message
# while another conversation is open leaves a dot, not a count. Then the
# members card; the only admin can't leave while others are in; tia joins
# ben's #walks with /accept, and leaving asks one calm question: n stays, y
# leaves, and the conversation stays to read but takes no more messages.
KITH=$1
. "$(dirname "$0")/lib.sh"
export KITH_SYNC_IVL_MS=1000

# until SECONDS WHAT CMD...: poll CMD until it succeeds.
until_ok() {
    local limit=$1 what=$2; shift 2
    local deadline=$(( $(date +%s) + limit ))
    while [ "$(date +%s)" -le "$deadline" ]; do
        if "$@"; then return 0; fi
        sleep 0.2
    done
    echo "--- screen of a ---" >&2; pane a >&2 || true
    for f in "$T"/*.err; do [ -s "$f" ] && { echo "--- $f ---"; tail -n 15 "$f"; } >&2; done
    fail "never: $what"
}
# log_has NAME KIND TEXT: NAME's log of #care holds a message of KIND whose text has TEXT.
log_has() {
    k "$1" log '#care' --json 2>/dev/null | python3 -c '
import json, sys
kind, text = sys.argv[1], sys.argv[2]
sys.exit(0 if any(m.get("kind") == kind and text in m.get("text", "") for m in json.load(sys.stdin)) else 1)
' "$2" "$3"
}
running() { k "$1" status --json 2>/dev/null | grep -q '"online":true'; }
members() { k "$1" circles --json 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(c["name"] == "care" and c["state"] == "active" and c["members"] == int(sys.argv[1])
                  for c in json.load(sys.stdin)) else 1)' "$2"; }
# in_state NAME CIRCLE STATE: NAME's `circles --json` has CIRCLE in STATE.
in_state() { k "$1" circles --json 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(c["name"] == sys.argv[1] and c["state"] == sys.argv[2]
                  for c in json.load(sys.stdin)) else 1)' "$2" "$3"; }
# invite_code: the code the invite overlay shows (wrapped over several rows of the pane).
invite_code() {
    pane a | sed -n 's/^[^│]*│ *//p' | awk '/^kith1-/ { on = 1 } on && /^$/ { exit } on { printf "%s", $0 }'
}

init tia; init ben; init cai
headless ben; headless cai
until_ok 20 "ben and cai up" eval 'running ben && running cai'
client a tia
wait_for a "Welcome"

note "/circle create, then /circle invite for ben and cai"
typed a "/circle cr"; keys a Tab
typed a "care"; keys a Enter
wait_for a "#care  · just you so far"
for who in ben cai; do
    typed a "/circle invite"; keys a Enter
    wait_for a "A code for #care"
    code=$(invite_code)
    case "$code" in kith1-*) ;; *) fail "no invite code on the screen: '$code'" ;; esac
    keys a q
    wait_gone a "Invite someone"
    k "$who" accept "$code" --as tia >/dev/null || fail "$who could not accept the code"
done
until_ok 60 "ben and cai in #care" eval 'members ben 3 && members cai 3'
wait_for a "#care  · 3 people" 30

note "a message from ben's command line shows in the circle's conversation"
k ben send '#care' "hello circle, from ben" >/dev/null
wait_for a "ben hello circle, from ben" 30

note "a check-in with keys: steady, and a line"
keys a F5
wait_for a "How's today?"
keys a Right Space        # the cursor starts on "okay": steady
wait_for a "(•) steady"
keys a Tab Tab
typed a "a slow morning"
keys a Tab Enter          # Share with #care…
wait_for a "Shared with #care."
wait_for a "check-in: steady - a slow morning"
until_ok 30 "cai's log holds the check-in" log_has cai checkin "steady - a slow morning"

note "cai could use support: a soft card, answered with one key"
k cai circle support care --kind company --note "long night" >/dev/null
wait_for a "cai could use support (company) - long night" 30
wait_for a "F8 [Sending care]"
if pane a | grep -E 'seen|read' | grep -qv 'could use'; then fail "the card speaks of reading"; fi
keys a F8
wait_for a "They'll see you're sending care."
wait_gone a "F8 [Sending care]"
until_ok 30 "cai's log holds the reply" log_has cai support_reply "Sending care"

note "rough: the crisis lines, and the offer to ask for support, sent only when chosen"
keys a F5
wait_for a "How's today?"
keys a Left Left Space    # rough
wait_for a "If you're in immediate danger"
wait_for a "Send 'I could use support'"
keys a Up Enter           # the offer (after Just for me)
wait_for a "I could use support"
wait_for a "To  #care"
keys a Tab Right Space    # company
wait_for a "(•) company"
keys a Tab
typed a "a walk later?"
keys a Tab Enter          # Send to #care
wait_for a "Sent to #care."
until_ok 30 "ben's log holds the signal" log_has ben support "(company) - a walk later?"
log_has tia checkin "rough" && fail "rough alone was shared without Share"

note "Just for me sends nothing"
keys a F5
wait_for a "How's today?"
keys a Space Tab Tab Tab Tab Enter   # okay, then Just for me
wait_for a "nothing was sent, and nothing was saved"
log_has tia checkin "okay" && fail "Just for me went into the circle's history"

note "a circle message while another conversation is open: a dot, never a count"
keys a M-1
wait_for a "ben  · online"
k cai send '#care' "a quiet note" >/dev/null
# side: the sidebar's row of #care, after the name.
side() { pane a | sed 's/│.*//' | grep '#care' | sed 's/.*#care//'; }
until_ok 30 "the unread dot beside #care" eval 'side | grep -q "•"'
if side | grep -q '[0-9]'; then fail "the sidebar counts unread: $(side)"; fi
keys a M-3
wait_for a "cai a quiet note"

note "the members card; the only admin can't leave while others are in"
typed a "/circle members"; keys a Enter
wait_for a "#care · who is in it"
wait_for a "you · admin"
wait_for a "ben"
keys a q
wait_gone a "who is in it"
typed a "/circle leave"; keys a Enter
wait_for a "You're the only admin of #care, so leaving isn't possible while others are in it."
members tia 3 || fail "tia should still be in #care"

note "joining ben's #walks from the client; leaving asks one calm question (n stays, y leaves)"
k ben circle create walks >/dev/null || fail "ben could not create #walks"
code=$(k ben invite --circle walks | tail -1)
typed a "/accept $code"; keys a Enter
until_ok 60 "tia in #walks" in_state tia walks active
wait_for a "#walks" 30
typed a "/query #walks"; keys a Enter
wait_for a "#walks  · 2 people" 30
typed a "/circle leave"; keys a Enter
wait_for a "Leave #walks? Your copy of the history stays on this device. [y/N]"
keys a n
wait_gone a "Leave #walks?"
in_state tia walks active || fail "n should keep tia in #walks"
typed a "/circle leave"; keys a Enter
wait_for a "Leave #walks? Your copy of the history stays on this device. [y/N]"
keys a y
wait_for a "You left #walks. Its history stays here to read."
wait_for a "#walks  · you left"
in_state tia walks left || fail "y should have left #walks: $(k tia circles --json)"
typed a "one more thing"; keys a Enter
wait_for a "You're not in #walks any more"
quit a
note "the circle worked from the client"
