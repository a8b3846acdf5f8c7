#!/bin/bash
# `kith send --each`: many texts sealed together, up to 64 in one frame (proto/PROTOCOL.md
# §4.1), between two real `kith run` processes on 127.0.0.1. Each text has its own id and
# state; every one arrives exactly once and in order, also when the receiver is killed with
# SIGKILL mid-stream and restarted; and a rate limit tells the sender, text by text, which
# texts of one frame wait for a digest (its first text's receipt telling the rest when they
# all got the same).
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
N=$(test_n 2000)
STEP=200

init A; init B; start A; start B; connect A B
ids=$(k A send B --each a1 a2 a3 --wait 30) || fail "send --each --wait: $ids"
[ "$(echo "$ids" | wc -l)" -eq 3 ] || fail "one id per text: $ids"
echo "$ids" | python3 -c '
import sys
ids=sys.stdin.read().split()
assert len({i[:30] for i in ids})==1, ids            # one frame: the first 15 bytes shared
assert [i[30:] for i in ids]==["00","01","02"], ids  # text i ends in byte i' ||
    fail "ids of one frame: $ids"
[ "$(count received B A)" -eq 3 ] || fail "three received: $(k B log A --json)"

note "streaming $N texts in batches of $STEP; the receiver killed right after batches 3 and 6"
batch=0
for ((i = 4; i <= N; i += STEP)); do
    last=$(( i + STEP - 1 < N ? i + STEP - 1 : N ))
    k A send B --each $(seq -f 'a%g' "$i" "$last") >/dev/null || fail "send --each a$i.."
    batch=$((batch + 1))
    if [ "$batch" -eq 3 ] || [ "$batch" -eq 6 ]; then
        stop B KILL # while it takes in what was just sent
        start B
        note "killed B after batch $batch; it had $(count received B A) texts on restart"
    fi
done
wait_until 180 "all delivered" exactly delivered A B "$N"
k A log B --json --limit 100000 > "$T/a.json"; k B log A --json --limit 100000 > "$T/b.json"
python3 "$HERE/oracle.py" "$T/a.json" "$T/b.json" --exact "$N" a
note "more texts than one command may carry: a clear refusal, nothing queued"
if k A send B --each $(seq -f 'x%g' 1 1100) > "$T/many.out" 2> "$T/many.err"; then
    fail "1,100 texts in one command were taken"
fi
grep -q "too many arguments" "$T/many.err" || fail "no clear refusal: $(cat "$T/many.err")"
[ "$(count delivered A B)" -eq "$N" ] && [ "$(count queued A B)" -eq 0 ] ||
    fail "something was queued: $(count queued A B) queued"

stop A; stop B

note "a rate limit inside one frame (C to D): three shown, three told digest_at"
init C; init D; start C; start D; connect C D
k D boundary set C 'rate=3/1h:digest' | grep -q . || fail "no summary"
k C send D --each r1 r2 r3 r4 r5 r6 > "$T/r.ids" || fail "send --each r1..r6"
wait_until 30 "r1..r6 acknowledged" exactly delivered C D 6
k C log D --json | python3 -c '
import json,sys
told=[m.get("told") for m in json.load(sys.stdin) if m["outgoing"]]
assert told==["delivered"]*3+["digest_at"]*3, told' || fail "per-text receipts wrong"
[ "$(count received D C)" -eq 3 ] || fail "expected 3 shown: $(k D log C --json)"
[ "$(count held D C)" -eq 3 ] || fail "expected 3 held: $(k D log C --json)"
note "a frame wholly in the digest: one receipt (text 0's) tells all six"
k C send D --each r7 r8 r9 r10 r11 r12 > "$T/r.ids" || fail "send --each r7..r12"
wait_until 30 "r7..r12 acknowledged" exactly delivered C D 12
k C log D --json | python3 -c '
import json,sys
told=[(m["text"], m.get("told"), m.get("arrives_at")) for m in json.load(sys.stdin) if m["outgoing"]]
assert [t[1] for t in told]==["delivered"]*3+["digest_at"]*9, told
assert len({t[2] for t in told[3:]})==1 and told[3][2], told  # one digest time' ||
    fail "the frame's receipt did not tell every text"
[ "$(count held D C)" -eq 9 ] || fail "expected 9 held: $(k D log C --json)"
note "ok"
