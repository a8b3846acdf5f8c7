#!/bin/bash
# Check-ins beside the name (DOMAIN.md §4), in monochrome (NO_COLOR): tia (in
# the TUI) has #care with ben and cai (each a `kith run`). ben checks in from
# the command line; the circle's conversation shows one quiet "today:" line
# under its title with ben's mood, "with me" words and note, and the members
# card shows the same beside ben's name. cai, who hasn't checked in, is named
# nowhere in the line and has nothing beside his name; nothing is counted.
# tia's own check-in (F5) then shows as "you"; ben's next one replaces his first.
KITH=$1
. "$(dirname "$0")/lib.sh"
export KITH_SYNC_IVL_MS=1000

# until_ok SECONDS WHAT CMD...: poll CMD until it succeeds.
until_ok() {
    local limit=$1 what=$2; shift 2
    local deadline=$(( $(date +%s) + limit ))
    while [ "$(date +%s)" -le "$deadline" ]; do
        if "$@"; then return 0; fi
        sleep 0.2
    done
    echo "--- screen of a ---" >&2; pane a >&2 || true
    fail "never: $what"
}
running() { k "$1" status --json 2>/dev/null | grep -q '"online":true'; }
members() { k "$1" circles --json 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(c["name"] == "care" and c["state"] == "active" and c["members"] == int(sys.argv[1])
                  for c in json.load(sys.stdin)) else 1)' "$2"; }
# today: the "today:" line of the conversation pane (right of the sidebar), or nothing.
today() { pane a | sed 's/^[^│]*│//' | grep '^ *today:' || true; }
# row NAME: the members card's row of NAME.
row() { pane a | grep -E "^ +$1( |\$)" || true; }
CARE_WORDS='rough|low|okay|steady|good|seen|safe|soothed|secure|stable|with'

init tia; init ben; init cai
k tia circle create care >/dev/null || fail "tia could not create #care"
code_ben=$(k tia invite --circle care | tail -1)
code_cai=$(k tia invite --circle care | tail -1)
headless ben; headless cai
until_ok 20 "ben and cai up" eval 'running ben && running cai'
session a env NO_COLOR=1 KITH_KDF_COST=min "$KITH" --home "$T/tia" --passphrase-file "$T/pass"
wait_for a "#care"
k ben accept "$code_ben" --as tia >/dev/null || fail "ben could not accept the code"
k cai accept "$code_cai" --as tia >/dev/null || fail "cai could not accept the code"
until_ok 60 "ben and cai in #care" eval 'members ben 3 && members cai 3'
typed a "/query #care"; keys a Enter
wait_for a "#care  · 3 people" 30
[ -z "$(today)" ] || fail "a today line before anyone checked in: $(today)"

note "ben checks in from the command line: the today line under the title"
k ben circle checkin care --mood steady --with safe --note "slow day" >/dev/null ||
    fail "ben could not check in"
wait_for a "today: ben steady (safe) “slow day”" 30
if today | grep -q 'cai'; then fail "the today line names cai, who hasn't checked in: $(today)"; fi
if today | grep -q '[0-9]'; then fail "the today line counts: $(today)"; fi

note "the members card: ben's check-in beside his name, nothing beside cai's or tia's"
typed a "/circle members"; keys a Enter
wait_for a "#care · who is in it"
until_ok 10 "steady beside ben" eval 'row ben | grep -q "steady (safe) “slow day”"'
until_ok 10 "cai's row" eval '[ -n "$(row cai)" ]'
if row cai | grep -qE "$CARE_WORDS"; then fail "something beside cai: $(row cai)"; fi
if row you | grep -qE "$CARE_WORDS"; then fail "something beside you: $(row you)"; fi
keys a q
wait_gone a "who is in it"

note "tia's own check-in shows as you"
keys a F5
wait_for a "How's today?"
keys a Space Tab Tab Tab Enter   # okay, then Share with #care…
wait_for a "Shared with #care."
wait_for a "you okay" 10
today | grep -q 'ben steady' || fail "ben's check-in left the today line: $(today)"
if today | grep -q 'cai'; then fail "the today line names cai: $(today)"; fi
typed a "/circle members"; keys a Enter
wait_for a "#care · who is in it"
until_ok 10 "okay beside you" eval 'row you | grep -q "okay"'
if row cai | grep -qE "$CARE_WORDS"; then fail "something beside cai: $(row cai)"; fi
keys a q
wait_gone a "who is in it"

note "only the latest check-in counts: ben's words alone, with a note that has a dash"
k ben circle checkin care --with seen,soothed --note "tea - then bed" >/dev/null ||
    fail "ben could not check in again"
wait_for a "ben with seen, soothed “tea - then bed”" 30
if today | grep -q 'steady'; then fail "ben's older check-in still shows: $(today)"; fi
quit a
note "check-ins of the last day show beside the name, and nothing else"
