#!/bin/bash
# The crash-point sweep (PROTOCOL-NOTES.md §4.4): for every named crash point
# and n = 1..N (N = $KITH_CRASH_N, default 3), the side that passes the point
# runs with KITH_CRASH_AT=point:n while A sends 10 messages, one at a time; it
# dies there with status 137 and is restarted without the variable. After
# things go quiet the oracle holds both ways, and 5 more messages each way
# still arrive (the ratchets survived). One line per case.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
NMAX=${KITH_CRASH_N:-3}
SENDER_POINTS="seal.before_commit seal.after_commit send.after_zmq_send"
RECEIVER_POINTS="recv.after_decrypt recv.before_commit recv.after_commit ack.after_send"

init A; init B; start A; start B; connect A B

check_oracle() {
    oracle "$@" > "$T/oracle.out" 2>&1 || fail "$case: $(cat "$T/oracle.out")"
}
# has_text NAME PEER TEXT STATE: in NAME's log with PEER as last fetched by fetch_logs.
has_text() { grep -q "\"text\":\"$3\",[^}]*\"state\":\"$4\"" "$T/log.$1-$2"; }
fetch_logs() { k A log B --json > "$T/log.A-B" && k B log A --json > "$T/log.B-A"; }
delivered_or_gone() {
    gone "$1" || k A log B --json | grep -q "\"text\":\"$2\",[^}]*\"state\":\"delivered\""
}
both_quiet() { quiet A B && quiet B A; }

# crashed SIDE: if SIDE's engine has died, check it died at the crash point
# (status 137) and restart it without KITH_CRASH_AT.
crashed() {
    local pid
    eval "pid=\${PID_$1}"
    [ "$CRASHED" -eq 0 ] && gone "$pid" || return 0
    reap "$1" 5
    [ "$REAPED" -eq 137 ] \
        || fail "$case: engine exited with status $REAPED, not 137: $(tail -3 "$T/$1.err")"
    CRASHED=1
    start "$1"
}

# sweep SIDE POINT N: one case; SIDE (A or B) is the process that crashes.
sweep() {
    local side=$1 point=$2 n=$3 i c rc text pid begin end
    case="$point:$n on $side"
    begin=$(date +%s)
    stop "$side"
    KITH_CRASH_AT="$point:$n" start "$side"
    CRASHED=0
    for i in $(seq 1 10); do
        text="$point-$n-a$i"
        # One send at a time, each acknowledged before the next, so every message
        # passes the per-batch points (recv.*) on its own. A control request to an
        # engine that dies mid-request does not return (the CLI waits out its 30 s
        # timeout), so it is abandoned once the engine is gone, and tried again.
        ( exec $CLI_ENV "$KITH" --home "$T/A" --passphrase-file "$T/pass" send B "$text" \
              >/dev/null 2>&1 ) & c=$!
        end=$(( $(date +%s) + 30 ))
        eval "pid=\${PID_$side}"
        until gone "$c" || { [ "$CRASHED" -eq 0 ] && gone "$pid"; }; do
            [ "$(date +%s)" -lt "$end" ] || fail "$case: send of $text hangs"
            sleep 0.02
        done
        gone "$c" || kill "$c" 2>/dev/null || true
        rc=0; wait "$c" 2>/dev/null || rc=$?
        crashed "$side"
        [ "$rc" -eq 0 ] || send_retry A B "$text"
        if [ "$CRASHED" -eq 0 ]; then
            eval "pid=\${PID_$side}"
            wait_until 20 "$case: $text delivered" delivered_or_gone "$pid" "$text"
            crashed "$side"
        fi
    done
    [ "$CRASHED" -eq 1 ] || fail "$case: 10 messages never reached the crash point"
    wait_until 30 "$case: quiet after the crash" both_quiet
    check_oracle A B
    fetch_logs || fail "$case: log failed"
    for i in $(seq 1 10); do
        has_text B A "$point-$n-a$i" received || fail "$case: B never got a$i"
    done
    for i in $(seq 1 5); do
        k A send B "$point-$n-after-a$i" >/dev/null || fail "$case: A's send $i failed"
        k B send A "$point-$n-after-b$i" >/dev/null || fail "$case: B's send $i failed"
    done
    wait_until 30 "$case: quiet after 5 more each way" both_quiet
    check_oracle A B
    check_oracle B A
    fetch_logs || fail "$case: log failed"
    for i in $(seq 1 5); do
        has_text B A "$point-$n-after-a$i" received || fail "$case: B never got after-a$i"
        has_text A B "$point-$n-after-b$i" received || fail "$case: A never got after-b$i"
    done
    echo "ok - $case: exit 137, oracle holds, ratchets work ($(( $(date +%s) - begin ))s)"
}

for n in $(seq 1 "$NMAX"); do
    for p in $SENDER_POINTS; do sweep A "$p" "$n"; done
    for p in $RECEIVER_POINTS; do sweep B "$p" "$n"; done
done
