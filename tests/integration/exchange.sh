#!/bin/bash
# Two real `kith run` processes on 127.0.0.1 exchange N messages each way
# (default 1000) through the command line; none lost, none doubled, all
# acknowledged, each side's order kept.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
N=$(test_n 1000)

init A; init B; start A; start B; connect A B
note "connected; sending $N messages each way"
( for i in $(seq 1 "$N"); do k A send B "a$i" >/dev/null || exit 1; done ) & SA=$!
( for i in $(seq 1 "$N"); do k B send A "b$i" >/dev/null || exit 1; done ) & SB=$!
wait $SA || fail "A's sends failed"
wait $SB || fail "B's sends failed"
delivered() { [ "$(count delivered A B)" -eq "$N" ] && [ "$(count delivered B A)" -eq "$N" ]; }
wait_until 180 "every message acknowledged" delivered
k A log B --json > "$T/a.json"; k B log A --json > "$T/b.json"
python3 "$HERE/oracle.py" "$T/a.json" "$T/b.json" --exact "$N" a
python3 "$HERE/oracle.py" "$T/b.json" "$T/a.json" --exact "$N" b
