#!/bin/bash
# A peer that cannot accept connections: B is created with `--listen none`, so
# it publishes no address at all. A invites, B accepts, and 50 messages go
# each way; all arrive exactly once. A has no way to reach B but the
# connection B opened, so A's messages and acknowledgements travel over it.
# (B's engine binds an ephemeral loopback port that it never publishes.)
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
N=$(test_n 50)

init A
k B init --name B --listen none >/dev/null
k B id --json > "$T/b-id.json"
grep -q '"endpoints":\[\]' "$T/b-id.json" || fail "B publishes an address: $(cat "$T/b-id.json")"
grep -q '"endpoints":\["tcp://127.0.0.1:[0-9]*"\]' <(k A id --json) || fail "A has no endpoint"
start A; start B
connect A B
note "connected; B listens nowhere; sending $N messages each way"
( for i in $(seq 1 "$N"); do k A send B "a$i" >/dev/null || exit 1; done ) & SA=$!
( for i in $(seq 1 "$N"); do k B send A "b$i" >/dev/null || exit 1; done ) & SB=$!
wait $SA || fail "A's sends failed"
wait $SB || fail "B's sends failed"
delivered() { exactly delivered A B "$N" && exactly delivered B A "$N"; }
wait_until 60 "every message acknowledged" delivered
oracle A B --exact "$N" a
oracle B A --exact "$N" b
