#!/bin/bash
# Sender-key rotation (PROTOCOL-NOTES.md §2.6): after 100 messages a member
# starts a new generation of its sender key and hands it out over the 1:1
# sessions; frames of the new generation that arrive before the key wait,
# sealed, and open when it comes. 230 messages from one member (generations
# 0, 1 and 2) reach everyone, in the same order, and nothing is rejected.
# usage: circle_rotate.sh /path/to/kith
KITH=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/circle_lib.sh"
init a; init b; init c
start a; start b; start c
k a circle create r >/dev/null
join a r b; wait_until 60 "b in" all_members 2 r a b
join a r c; wait_until 60 "c in" all_members 3 r a b c
for i in $(seq 1 230); do k b send '#r' "rotation $i" >/dev/null; done
wait_logs 90 230 r a b c
snap r a b c
cc same "$T/a.log.json" "$T/b.log.json" "$T/c.log.json" || fail "logs differ"
for p in a c; do
    k "$p" status --json | grep -q '"rejected":0' || fail "$p rejected frames: $(k "$p" status --json)"
done
note "230 messages over three key generations, same order everywhere, nothing rejected"
