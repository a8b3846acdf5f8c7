#!/bin/bash
# The sender is killed with SIGKILL twice mid-stream and restarted. While it
# is down, `kith send` queues straight into its store. Every message the
# sender committed arrives exactly once; a send interrupted by the kill is
# simply tried again (the oracle compares what the sender's log holds).
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
N=$(test_n 1000)

init A; init B; start A; start B; connect A B
( for i in $(seq 1 "$N"); do
      until k A send B "a$i" >/dev/null 2>&1; do sleep 0.05; done
  done ) & SA=$!
for cut in 1 2; do
    wait_until 120 "receiver has some messages" atleast received B A $(( cut * N / 4 ))
    note "kill -9 A after B has $(count received B A) messages"
    stop A KILL
    sleep 0.5
    start A
done
wait $SA || fail "A's sends failed"
nothing_pending() { exactly queued A B 0 && exactly sent A B 0; }
wait_until 180 "all delivered" nothing_pending
k A log B --json > "$T/a.json"; k B log A --json > "$T/b.json"
python3 "$HERE/oracle.py" "$T/a.json" "$T/b.json" --exact "$N" a
