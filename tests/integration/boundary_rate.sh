#!/bin/bash
# A rate limit with a digest (rate=3/1h:digest), time moved by libfaketime: beyond 3 visible
# messages in the hour the excess is held into one digest ("held", "release_at", digest), the
# sender's receipt says "digest_at", and once the receiver's clock is past the window the
# digest is released together, counted once.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
. "$HERE/faketime.sh"

DAY=2026-11-23
init A; init B
start_at A "$DAY 10:00:00"; start_at B "$DAY 10:00:00"; connect A B
k B boundary set A 'rate=3/1h:digest' | grep -q . || fail "no summary"
for i in 1 2 3 4 5 6; do k A send B "r$i" >/dev/null; done
wait_until 30 "all six acknowledged" exactly delivered A B 6
[ "$(count received B A)" -eq 3 ] || fail "expected 3 visible: $(k B log A --json)"
[ "$(count held B A)" -eq 3 ] || fail "expected 3 held: $(k B log A --json)"
k B log A --json | python3 -c '
import json,sys
log=json.load(sys.stdin)
held=[m for m in log if m["state"]=="held"]
assert all(m.get("digest") and m["text"]=="" and m["release_at"]>0 for m in held), held
assert len({m["release_at"] for m in held})==1, "one digest, one release time"
shown=[m["text"] for m in log if m["state"]=="received"]
assert shown==["r1","r2","r3"], shown' || fail "held rows wrong"
k A log B --json | python3 -c '
import json,sys
told=[m.get("told") for m in json.load(sys.stdin) if m["outgoing"]]
assert told==["delivered"]*3+["digest_at"]*3, told' || fail "sender receipts wrong"
note "restart B an hour later: the digest goes out together"
stop B; start_at B "$DAY 11:01:00"
wait_until 10 "digest released" exactly received B A 6
k B log A --json | python3 -c '
import json,sys
log=json.load(sys.stdin)
assert [m["text"] for m in log]==["r%d" % i for i in range(1,7)], log' || fail "order or text"
note "ok"
