#!/bin/bash
# Store-and-forward on loopback: Ana and Cy publish no address (`--listen none`),
# so they can never connect to each other; both reach Bo, the circle's admin.
# Their introduction (a SESSION_INIT), the sender keys they hand each other, their
# circle messages and a 1:1 conversation between them all travel through Bo, who
# keeps only sealed frames: no text of theirs is readable in Bo's files.
# usage: circle_relay.sh /path/to/kith
KITH=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/circle_lib.sh"
N=$(test_n 20)
[ "$N" -gt 20 ] && N=20

init bo
for n in ana cy; do k "$n" init --name "$n" --listen none >/dev/null; done
start bo; start ana; start cy
k bo circle create c >/dev/null
join bo c ana
wait_until 60 "ana in c" all_members 2 c bo ana
join bo c cy
wait_until 90 "three members everywhere" all_members 3 c bo ana cy
# Ana and Cy were introduced through Bo: their 1:1 session came up over the relay.
wait_until 90 "ana and cy know each other" both_active ana cy
note "ana and cy introduced through bo's relay"

for i in $(seq 1 "$N"); do
    k ana send '#c' "relayed circle secret $i from ana" >/dev/null
    k cy send '#c' "relayed circle secret $i from cy" >/dev/null
done
k ana send cy "a private one-to-one secret for cy" >/dev/null
k cy send ana "a private one-to-one secret for ana" >/dev/null
wait_until 120 "cy holds ana's circle messages" all_logn $((2 * N)) c ana bo cy
wait_until 60 "cy got ana's 1:1" atleast received cy ana 1
wait_until 60 "ana got cy's 1:1" atleast received ana cy 1
wait_until 60 "ana's 1:1 delivered (the receipt came back through bo)" atleast delivered ana cy 1
snap c ana bo cy
cc same "$T/ana.log.json" "$T/bo.log.json" "$T/cy.log.json" || fail "the three logs differ"
note "$((2 * N)) circle messages and a 1:1 exchange between two unreachable members, via bo"

stop bo
for f in "$T"/bo/kith.db "$T"/bo/kith.db-wal; do
    [ -f "$f" ] || continue
    if grep -a -q -e "relayed circle secret" -e "one-to-one secret" "$f"; then
        fail "readable text in $f"
    fi
done
note "bo's files hold no readable text of the messages it carried"
