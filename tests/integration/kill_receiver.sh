#!/bin/bash
# The receiver is killed with SIGKILL twice while messages stream in, and
# restarted: every message still arrives exactly once, in order.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
N=$(test_n 1000)

init A; init B; start A; start B; connect A B
( for i in $(seq 1 "$N"); do k A send B "a$i" >/dev/null || exit 1; done ) & SA=$!
for cut in 1 2; do
    wait_until 120 "receiver has some messages" atleast received B A $(( cut * N / 4 ))
    note "kill -9 B after $(count received B A) messages"
    stop B KILL
    sleep 0.5
    start B
done
wait $SA || fail "A's sends failed"
wait_until 180 "all delivered" exactly delivered A B "$N"
k A log B --json > "$T/a.json"; k B log A --json > "$T/b.json"
python3 "$HERE/oracle.py" "$T/a.json" "$T/b.json" --exact "$N" a
