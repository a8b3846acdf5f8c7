#!/bin/bash
# Moving addresses through circle members (issue 7.3): Ana moves to a new port
# while Bo is offline. Bo publishes no address (--listen none), so Ana can never
# connect to Bo, and Bo knows only Ana's old address; Ana's new one travels only
# in her signed endpoint record. Cy, the circle's admin, is online
# throughout: Ana's record (and her messages) for Bo are handed to Cy, who keeps
# them sealed until Bo connects to Cy. Bo learns the new address from the record
# Cy carried, connects to Ana there, and everything is delivered exactly once.
# usage: moving_circle.sh /path/to/kith
KITH=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/circle_lib.sh"

endpoint_is() { k "$1" contacts --json | grep -q "\"name\":\"$2\"[^}]*\"endpoints\":\[\"$3\"\]"; }

init cy; init ana
k bo init --name bo --listen none >/dev/null
start cy; start ana; start bo
k cy circle create c >/dev/null
join cy c ana; wait_until 60 "ana in" all_members 2 c cy ana
join cy c bo; wait_until 90 "bo in" all_members 3 c cy ana bo
wait_until 60 "ana and bo introduced" both_active ana bo
a0=$(k ana config get listen)
endpoint_is bo ana "$a0" || fail "bo does not hold ana's first endpoint"

stop bo
stop ana
k ana config set listen 'tcp://127.0.0.1:*' >/dev/null
a1=$(k ana config get listen)
[ "$a1" != "$a0" ] || fail "ana's endpoint did not change"
start ana
for i in $(seq 1 5); do k ana send bo "moved-$i" >/dev/null; done
# Give ana's outbox a pass while bo is away: the record and the messages go to cy.
sleep 3
start bo
wait_until 60 "bo learns ana's new endpoint through cy" endpoint_is bo ana "$a1"
wait_until 60 "bo holds ana's 5" atleast received bo ana 5
for i in $(seq 1 5); do k bo send ana "back-$i" >/dev/null; done
wait_until 60 "bo's 5 delivered at ana's new address" atleast delivered bo ana 5
wait_until 60 "ana's 5 delivered" atleast delivered ana bo 5
oracle ana bo --exact 5 moved-
oracle bo ana --exact 5 back-
note "ana moved to $a1 while bo was away; bo learned it from what cy carried"
