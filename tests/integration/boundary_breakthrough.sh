#!/bin/bash
# breakthrough=N/day (DOMAIN.md §3): inside quiet hours an urgent message skips them while the
# receiver's allowance for today lasts. With breakthrough=1/day the first `send --urgent` is
# shown at once, the second is held until the end of quiet hours, and so is a plain one. The
# count survives a restart (it is stored with the message, not kept in memory).
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
. "$HERE/faketime.sh"

DAY=2026-11-23
init A; init B
start_at A "$DAY 23:10:00"; start_at B "$DAY 23:10:00"; connect A B
k B boundary set A 'quiet=22:00-08:00@UTC' 'breakthrough=1/day' >/dev/null
state_of() { k "$1" log "$2" --json | python3 -c "
import json,sys
for m in json.load(sys.stdin):
    if m['id']=='$3': print(m['state'], m.get('release_at',0), m.get('told',''))"; }
is_state() { state_of "$1" "$2" "$3" | grep -q "^$4 "; }
NEXT=$(date -u -d "$DAY + 1 day" +%F)
rel=$(date -u -d "$NEXT 08:00:00" +%s)

id1=$(k A send B --urgent 'first urgent' 2>/dev/null | tail -1)
wait_until 30 "the first urgent one is shown" is_state B A "$id1" received
k B log A --json | grep -q '"text":"first urgent"' || fail "first urgent text not shown"
wait_until 30 "A told delivered" is_state A B "$id1" delivered
note "restart B: today's allowance is remembered"
stop B; start_at B "$DAY 23:20:00"
id2=$(k A send B --urgent 'second urgent' 2>/dev/null | tail -1)
wait_until 30 "B holds the second urgent one" is_state B A "$id2" held
state_of B A "$id2" | grep -q "^held $rel" || fail "held row: $(state_of B A "$id2")"
k B log A --json | grep -q 'second urgent' && fail "held text leaked into the log"
wait_until 30 "A told held_until" is_state A B "$id2" delivered
state_of A B "$id2" | grep -q "held_until$" || fail "A's receipt: $(state_of A B "$id2")"
id3=$(k A send B 'plain' 2>/dev/null | tail -1)
wait_until 30 "B holds the plain one" is_state B A "$id3" held
note "the next day at noon: both held ones are released; that night urgent breaks through again"
stop A; stop B; start_at A "$NEXT 12:00:00"; start_at B "$NEXT 12:00:00"
wait_until 20 "the urgent one is released" is_state B A "$id2" received
wait_until 20 "the plain one is released" is_state B A "$id3" received
stop A; stop B; start_at A "$NEXT 23:30:00"; start_at B "$NEXT 23:30:00"
id4=$(k A send B --urgent 'next night urgent' 2>/dev/null | tail -1)
wait_until 30 "the next day's allowance" is_state B A "$id4" received
id5=$(k A send B --urgent 'and one more' 2>/dev/null | tail -1)
wait_until 30 "past the allowance again" is_state B A "$id5" held
note "ok"
