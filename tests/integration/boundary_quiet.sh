#!/bin/bash
# Quiet hours, end to end, with time moved by libfaketime (no test hooks in the engine): the
# receiver's engine runs at a fake wall time inside quiet=22:00-08:00@UTC; a message is held
# ("held" + "release_at"), stays held across a restart, is released by the restarted engine
# once its clock is past 08:00, and a second one is released live by the engine's timer. The
# sender sees the kind preview before sending and the receipt's "held_until" afterwards.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
. "$HERE/faketime.sh"

DAY=2026-11-23
init A; init B
start_at A "$DAY 07:40:00"; start_at B "$DAY 07:40:00"; connect A B
out=$(k B boundary set A 'quiet=22:00-08:00@UTC')
echo "$out" | grep -q 'Quiet hours' || fail "no plain-language summary: $out"
# A learns B's told rules from the boundary notice; its preview then says when it will arrive.
told_quiet() { k A boundary show B --theirs | grep -q 'Quiet hours'; }
wait_until 30 "A has B's boundary notice" told_quiet
k A send B 'first in quiet hours' >"$T/id1" 2>"$T/send.err"
grep -q 'quiet hours now; your message will arrive at 08:00' "$T/send.err" ||
    fail "no kind preview for the sender: $(cat "$T/send.err")"
id1=$(tail -1 "$T/id1")
state_of() { k "$1" log "$2" --json | python3 -c "
import json,sys
for m in json.load(sys.stdin):
    if m['id']=='$3': print(m['state'], m.get('release_at',0), m.get('told',''), m.get('arrives_at',0), repr(m['text']))"; }
is_state() { state_of "$1" "$2" "$3" | grep -q "^$4 "; }
wait_until 30 "B holds it" is_state B A "$id1" held
rel=$(date -u -d "$DAY 08:00:00" +%s)
state_of B A "$id1" | grep -q "^held $rel  0 ''$" || fail "held row wrong: $(state_of B A "$id1")"
wait_until 30 "A delivered" is_state A B "$id1" delivered
state_of A B "$id1" | grep -q "held_until $rel" || fail "A's receipt: $(state_of A B "$id1")"
note "held until $rel; restarting B still inside quiet hours"
stop B; start_at B "$DAY 07:55:00"
sleep 1
is_state B A "$id1" held || fail "not held after a restart: $(state_of B A "$id1")"
note "restarting B after 08:00: released from the store at start"
stop B; start_at B "$DAY 08:00:30"
wait_until 10 "released after restart" is_state B A "$id1" received
state_of B A "$id1" | grep -q "'first in quiet hours'" || fail "text: $(state_of B A "$id1")"
note "live release: B at 07:59:54, a new message waits for the engine's own timer"
stop B; start_at B "$DAY 07:59:54"
k A send B 'second in quiet hours' >"$T/id2" 2>/dev/null
id2=$(tail -1 "$T/id2")
wait_until 10 "B holds the second" is_state B A "$id2" held
wait_until 20 "the timer releases it at 08:00" is_state B A "$id2" received
note "ok"
