#!/bin/bash
# Disappearing messages in the client: /retention 10m proposes; the title line shows the open
# proposal; when the other side accepts (from the command line), the title reads "messages
# disappear after 10 minutes"; a proposal of theirs shows with its answer, and
# /retention decline leaves the setting; /retention alone says what is in force.
KITH=$1
. "$(dirname "$0")/lib.sh"

init ana; init ben; pair ana ben
headless ben
client a ana
wait_for a "ben"
keys a M-1
wait_for a "ben  · online" 30
typed a "/retention soon"; keys a Enter
wait_for a "like /retention 1d"
keys a C-u # a refused line stays for correcting
typed a "/retention 10m"; keys a Enter
wait_for a "Nothing changes until they accept"
wait_for a "you proposed: 10 minutes"
for _ in $(seq 1 100); do
    k ben retention ana --json | grep -q '"by":"them"' && break
    sleep 0.2
done
k ben retention ana accept >/dev/null || fail "ben could not accept"
wait_for a "messages disappear after 10 minutes" 30
k ben retention ana 1h >/dev/null || fail "ben could not propose"
wait_for a "they propose: 1 hour" 30
typed a "/retention decline"; keys a Enter
wait_for a "Declined: nothing changes."
typed a "/retention"; keys a Enter
wait_for a "Messages here disappear after 10 minutes."
k ben retention ana --json | grep -q '"seconds":600,' || fail "ben's setting changed"
quit a
note "/retention proposed, the title showed the proposal and then the agreed setting"
