#!/bin/bash
# Expiry: a message that could not be delivered for 14 days is not retried
# for ever nor dropped silently: the sender's history shows it as expired.
# Time is moved with libfaketime (skips without it).
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"; . "$HERE/faketime.sh"

init A; init B; start A; start B; connect A B
stop B
id=$(k A send B "this one will wait too long")
wait_until 10 "queued or sent" eval '[ "$(k A msgstate '"$id"')" != delivered ]'
stop A
start_at A "$(date -u -d '+15 days' '+%Y-%m-%d %H:%M:%S')"
wait_until 20 "the message expired" eval 'k A log B --json | grep -q "\"id\":\"'"$id"'\"[^}]*\"state\":\"expired\""'
[ "$(k A status --json | sed 's/.*"queued":\([0-9]*\).*/\1/')" -eq 0 ] || fail "the expired message is still counted as waiting"
note "after 15 days offline the message reads expired, and nothing waits any more"
