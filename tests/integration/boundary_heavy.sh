#!/bin/bash
# ask-heavy: a message the sender marks --heavy arrives as awaiting_consent, with no text in
# the log, and the sender's receipt says so; `kith consent ... yes` shows it. A plain message
# arrives as usual. Each answer goes back to the sender as a new receipt (DOMAIN.md §3): "no"
# reads told "no_space", "later=2h" reads held_until at that time, "yes" reads delivered.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"

init A; init B; start A; start B; connect A B
k B boundary set A ask-heavy trust=2 >/dev/null
id=$(k A send B --heavy 'a hard thing happened' | tail -1)
k A send B 'light' >/dev/null
wait_until 30 "both delivered" exactly delivered A B 2
k B log A --json > "$T/b.json"
python3 - "$T/b.json" "$id" <<'PY' || fail "receiver's view of the heavy message"
import json, sys
log = json.load(open(sys.argv[1]))
m = [x for x in log if x["id"] == sys.argv[2]][0]
assert m["state"] == "awaiting_consent" and m["text"] == "" and m.get("heavy"), m
assert "a hard thing happened" not in open(sys.argv[1]).read()
assert [x["state"] for x in log if x["text"] == "light"] == ["received"]
PY
k A log B --json | grep -q '"told":"awaiting_consent"' || fail "sender not told"
# "no" and "later" first: "yes" opens a consent window that would let later heavy ones through.
id_no=$(k A send B --heavy 'another hard thing' | tail -1)
id_later=$(k A send B --heavy 'a third hard thing' | tail -1)
wait_until 30 "all delivered" exactly delivered A B 4
told_of() { k A log B --json | python3 -c "
import json,sys
for m in json.load(sys.stdin):
    if m['id']=='$1': print(m.get('told',''), m.get('arrives_at',0))"; }
told_is() { told_of "$1" | grep -q "^$2 "; }
k B consent A "$id_no" no >/dev/null || fail "consent no"
wait_until 30 "A told no_space" told_is "$id_no" no_space
before=$(date +%s)
k B consent A "$id_later" later=2h >/dev/null || fail "consent later"
wait_until 30 "A told held_until" told_is "$id_later" held_until
at=$(told_of "$id_later" | cut -d' ' -f2)
[ "$at" -ge $((before + 7200)) ] && [ "$at" -le $((before + 7200 + 120)) ] && [ $((at % 60)) -eq 0 ] ||
    fail "later's time: $at (asked at $before)"
k A log B --json | grep -q 'another hard thing' || fail "A's own text missing"
k B log A --json | grep -q 'another hard thing' && fail "a declined heavy message leaked its text"
# A restarted receiver keeps what it told: its repeated receipts say the same.
stop A; start A
wait_until 30 "A still told no_space" told_is "$id_no" no_space
k B consent A "$id" yes | grep -q open || fail "consent yes"
wait_until 30 "A told delivered after yes" told_is "$id" delivered
k B log A --json | grep -q '"text":"a hard thing happened","ts":[0-9]*,"ts_ms":[0-9]*,"state":"received"' ||
    fail "not shown after yes: $(k B log A --json)"
note "ok"
