#!/bin/bash
# Boundaries still apply to repair (DOMAIN.md §2.5), with time moved by libfaketime: inside B's
# quiet hours A's pause, a control step, is applied at once; A's resume is acknowledged, stored
# and not applied, and the share that arrives behind it waits with it. The held steps survive a
# restart and are applied, in order, once B's clock is past 08:00. A snooze holds an invitation the same way, and lifting it releases at once.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
. "$HERE/faketime.sh"

field() {
    k "$1" repair status "$2" --json | python3 -c \
        "import json,sys; d=json.load(sys.stdin); v=d.get('$3'); print('' if v is None else v)"
}
is() { [ "$(field "$1" "$2" state)" = "$3" ]; }
act() { k "$@" >"$T/act.out" 2>"$T/act.err" || fail "act $* refused: $(cat "$T/act.err")"; }
nothing_waiting() { k A status | grep -q ' 0 waiting'; }

DAY=2026-11-23
init A; init B
start_at A "$DAY 21:40:00"; start_at B "$DAY 21:40:00"; connect A B
k B boundary set A 'quiet=22:00-08:00@UTC' >/dev/null
act A repair act B invite topic='the party on Saturday'
wait_until 30 "B invited" is B A invited
act B repair act A accept
wait_until 30 "A accepted" is A B accepted

note "23:00, inside B's quiet hours: a pause (control) applies at once, a resume and a share wait"
stop A; stop B; start_at A "$DAY 23:00:00"; start_at B "$DAY 23:00:00"
act A repair act B pause until=1h
wait_until 30 "B paused at once" is B A paused
act A repair act B resume
wait_until 30 "A's resume acknowledged" nothing_waiting
act A repair act B share observation='You left the party without telling me.' \
    feelings=hurt needs=to_be_heard
wait_until 30 "A's share acknowledged" nothing_waiting
is A B shared || fail "A not shared"
sleep 1
is B A paused || fail "B applied a step inside quiet hours: $(k B repair status A --json)"

note "restart B still inside quiet hours: still held"
stop B; start_at B "$DAY 23:30:00"
sleep 1
is B A paused || fail "released early after a restart"

note "08:00: B's restarted engine applies both, in order"
stop A; stop B; start_at A "$DAY 23:59:00"; start_at B "$(date -u -d "$DAY + 1 day" +%F) 08:00:30"
same() { [ "$(field A B seq)" = "$(field B A seq)" ] && is B A "$(field A B state)"; }
wait_until 20 "B applied the resume and the share" same
is B A shared || fail "B's state: $(k B repair status A --json)"
act A repair act B end
wait_until 30 "the end reached B" is B A closed

note "snooze holds an invitation; clearing the snooze releases it at once"
NEXT=$(date -u -d "$DAY + 1 day" +%F)
stop A; stop B; start_at A "$NEXT 12:00:00"; start_at B "$NEXT 12:00:00"
k A repair keep B >/dev/null 2>&1 || true
k B repair keep A >/dev/null 2>&1 || true
k B boundary set A "snooze=until=${NEXT}T18:00Z" >/dev/null
act A repair act B invite topic='the dishes'
wait_until 30 "A's invite acknowledged" nothing_waiting
sleep 1
[ "$(field B A topic)" = "the dishes" ] && fail "the invitation arrived during a snooze"
k B boundary clear A snooze >/dev/null
wait_until 10 "released when the snooze is lifted" is B A invited
note "ok"
