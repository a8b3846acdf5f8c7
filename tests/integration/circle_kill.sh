#!/bin/bash
# Eight `kith run` members of one circle on 127.0.0.1 (anti-entropy every
# second). 500 messages go to #c from random members while a member chosen at
# random is SIGKILLed every ~2 s and restarted 0.5-2 s later. A lock per member
# keeps a kill from landing in the middle of that member's `kith send` (a send
# cut off after its commit could not tell whether to retry); everything else
# is fair game. Once all run again: every member's log holds the same 500 ids in
# the same order, no duplicates, and each text exactly as it was sent.
# KITH_SEED fixes the choices (members, pauses); it is printed first.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"; . "$HERE/circle_lib.sh"
SEED=${KITH_SEED:-$(( $(date +%s) % 100000 ))}
M=$(test_n 500)
SPAN=${KITH_KILL_SPAN:-40}
MEMBERS="M1 M2 M3 M4 M5 M6 M7 M8"
note "KITH_SEED=$SEED, $M messages over ${SPAN}s, 8 members"

for p in $MEMBERS; do init "$p"; done
for p in $MEMBERS; do start "$p"; done
k M1 circle create c >/dev/null || fail "circle create"
for p in M2 M3 M4 M5 M6 M7 M8; do join M1 c "$p"; done
wait_until 90 "all 8 see 8 active members" all_members 8 c $MEMBERS
note "circle of 8 formed after ${SECONDS}s"

# The sender: message i comes from M$((1 + RANDOM % 8)), which it locks while sending.
# Paced over SPAN seconds, so that about SPAN/2 kills land while messages flow.
(
    RANDOM=$SEED
    t0=$(date +%s%N)
    for i in $(seq 1 "$M"); do
        p=M$(( 1 + RANDOM % 8 ))
        ahead=$(( (t0 + i * SPAN * 1000000000 / M - $(date +%s%N)) / 1000000 ))
        [ "$ahead" -le 0 ] || sleep "$(( ahead / 1000 )).$(printf %03d $(( ahead % 1000 )))"
        flock -w 60 "$T/lock.$p" timeout 20 $CLI_ENV "$KITH" --home "$T/$p" --passphrase-file "$T/pass" \
            send '#c' "k$i-$p" > "$T/send.out" 2>>"$T/send.err" \
            || { echo "FAIL: $p could not send k$i-$p: $(tail -1 "$T/send.err")" >&2; exit 1; }
        grep -Eq '^[0-9a-f]{32}$' "$T/send.out" || { echo "FAIL: send printed no id" >&2; exit 1; }
        echo "k$i-$p" >> "$T/sent.txt"
    done
) & SENDER=$!

# The killer (this shell, so that PID_* and PIDS stay current for cleanup).
RANDOM=$(( SEED + 1 ))
msleep() { sleep "$(( $1 / 1000 )).$(printf %03d $(( $1 % 1000 )))"; }
kills=0
while kill -0 "$SENDER" 2>/dev/null; do
    msleep $(( 1500 + RANDOM % 1001 ))
    kill -0 "$SENDER" 2>/dev/null || break
    v=M$(( 1 + RANDOM % 8 ))
    down=$(( 500 + RANDOM % 1501 ))
    exec {lk}>"$T/lock.$v"
    flock -w 60 "$lk" || fail "lock for $v"
    stop "$v" KILL
    flock -u "$lk"
    msleep "$down"
    flock -w 60 "$lk" || fail "lock for $v"
    start "$v"
    flock -u "$lk"
    exec {lk}>&-
    kills=$(( kills + 1 ))
done
wait "$SENDER" || fail "the sender failed (see above)"
[ "$(wc -l < "$T/sent.txt")" -eq "$M" ] || fail "only $(wc -l < "$T/sent.txt") of $M sends done"
note "$M sent, $kills kills, ${SECONDS}s so far; waiting for every log to hold $M"

wait_logs 120 "$M" c $MEMBERS
snap c $MEMBERS
for p in $MEMBERS; do
    r=$(cc exact "$T/$p.log.json" "$T/sent.txt") || fail "$p: $r"
    r=$(cc sane "$T/$p.log.json") || fail "$p: $r"
done
r=$(cc same $(for p in $MEMBERS; do echo "$T/$p.log.json"; done)) || fail "$r"
note "$r"
echo "circle_kill: ok (seed $SEED, $kills kills, ${SECONDS}s)"
