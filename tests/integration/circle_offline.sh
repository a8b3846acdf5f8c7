#!/bin/bash
# "A member who was offline gets every message once back, even if the sender is
# now offline" (issue 4.3): Cy is stopped; Ana sends 20 to the circle and stops
# too; Cy comes back while only Bo is online and gets all 20 from Bo, once each,
# in Ana's order. Then Ana comes back and sees her messages delivered.
# usage: circle_offline.sh /path/to/kith
KITH=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/circle_lib.sh"
init ana; init bo; init cy
start ana; start bo; start cy
k ana circle create c >/dev/null
join ana c bo; wait_until 60 "bo in" all_members 2 c ana bo
join ana c cy; wait_until 90 "cy in" all_members 3 c ana bo cy
stop cy
: > "$T/sent.txt"
for i in $(seq 1 20); do
    csend ana c "while cy was away $i"
    echo "while cy was away $i" >> "$T/sent.txt"
done
wait_logs 60 20 c ana bo
stop ana
start cy
wait_logs 90 20 c cy
snap c bo cy
cc same "$T/bo.log.json" "$T/cy.log.json" || fail "cy's log differs from bo's"
cc exact "$T/cy.log.json" "$T/sent.txt" --prefix "while cy was away" ||
    fail "cy does not hold the 20 exactly once"
start ana
wait_until 60 "ana's 20 delivered to both" eval \
    '[ "$(k ana log "#c" --json | grep -o "\"state\":\"delivered\"" | wc -l)" -ge 20 ]'
note "cy got ana's 20 from bo while ana was offline; ana sees them delivered"
