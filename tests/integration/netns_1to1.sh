#!/bin/bash
# Two network namespaces joined by one veth (10.201.1.1 <-> 10.201.1.2), one
# profile in each: A and B connect over the veth and exchange 20 messages each
# way; then the link goes down, A sends 10 more, the link comes back, and all
# 10 arrive exactly once within 120 s. This is the scaffolding mesh_netns.sh
# builds on, checked with 1:1 chat. Skips (77) when namespaces cannot be made.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"; . "$HERE/circle_lib.sh"; . "$HERE/netns_lib.sh"
N=$(test_n 20)

ns_add a; ns_add b
ns_link a b
ns_addr a "$(ifname a b)" 10.201.1.1/24
ns_addr b "$(ifname b a)" 10.201.1.2/24
ns_init A a 10.201.1.1
ns_init B b 10.201.1.2
k A id --json | grep -q '"endpoints":\["tcp://10.201.1.1:[0-9]*"\]' || fail "A's endpoint: $(k A id --json)"
start A; start B
connect A B
ip -n "$(ns_name a)" -o addr show | grep -q 10.201.1.1 || fail "A's address missing"
note "connected across namespaces; $N messages each way"
( for i in $(seq 1 "$N"); do k A send B "a$i" >/dev/null || exit 1; done ) & SA=$!
( for i in $(seq 1 "$N"); do k B send A "b$i" >/dev/null || exit 1; done ) & SB=$!
wait $SA || fail "A's sends failed"
wait $SB || fail "B's sends failed"
delivered() { exactly delivered A B "$1" && exactly delivered B A "$N"; }
wait_until 60 "every message acknowledged" delivered "$N"
oracle A B --exact "$N" a
oracle B A --exact "$N" b
# The engines really talk over the veth: A's kith holds a TCP connection to 10.201.1.2.
ip netns exec "$(ns_name a)" ss -tnH state established 2>/dev/null | grep -q '10.201.1.2:' \
    || fail "no established connection from A's namespace to B's address"

note "link down; A sends 10"
link_set a b down
for i in $(seq $(( N + 1 )) $(( N + 10 ))); do k A send B "a$i" >/dev/null || fail "send a$i"; done
sleep 3
[ "$(count received B A)" -eq "$N" ] || fail "B received messages while the link was down"
note "link up; waiting for delivery"
link_set a b up
wait_until 120 "the 10 messages after the partition" delivered $(( N + 10 ))
oracle A B --exact $(( N + 10 )) a
echo "netns_1to1: ok"
