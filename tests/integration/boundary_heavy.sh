#!/bin/bash
# ask-heavy: a message the sender marks --heavy arrives as awaiting_consent, with no text in
# the log, and the sender's receipt says so; `kith consent ... yes` shows it. A plain message
# arrives as usual.
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
k B consent A "$id" yes | grep -q open || fail "consent yes"
k B log A --json | grep -q '"text":"a hard thing happened","ts":[0-9]*,"ts_ms":[0-9]*,"state":"received"' ||
    fail "not shown after yes: $(k B log A --json)"
note "ok"
