# Shared helpers for integration tests: real kith binaries, their own
# profiles under a mktemp directory, 127.0.0.1 only, everything cleaned up.
# Usage: . lib.sh; KITH=/path/to/kith (first argument of every test).
set -eu

KITH=${KITH:?set KITH to the kith binary}
case "$KITH" in /*) ;; *) KITH="$PWD/$KITH" ;; esac
export KITH_KDF_COST=min
T=$(mktemp -d "${TMPDIR:-/tmp}/kith-it-XXXXXX")
printf 'correct horse battery staple\n' > "$T/pass"
PIDS=""
. "$(dirname "${BASH_SOURCE[0]}")/../python.sh"

cleanup() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

# test_n DEFAULT: a test's message count, DEFAULT unless $KITH_TEST_N is lower (sanitizer and
# valgrind runs shorten the streams; nothing raises them).
test_n() { local n=${KITH_TEST_N:-$1}; [ "$n" -lt "$1" ] && echo "$n" || echo "$1"; }

# k NAME ARGS...: run kith on profile NAME. Under ASan, KITH_TEST_CLI_ASAN_OPTIONS (when set)
# replaces ASAN_OPTIONS for these short commands only: CI turns LeakSanitizer's exit-time scan
# (~45 ms a process here) off for the thousands of them, and keeps it for the engines.
# CLI_ENV: "env ASAN_OPTIONS=..." for a command run under timeout or flock, or nothing.
CLI_ENV=""
[ -z "${KITH_TEST_CLI_ASAN_OPTIONS:-}" ] || CLI_ENV="env ASAN_OPTIONS=$KITH_TEST_CLI_ASAN_OPTIONS"
k() { local n=$1; shift; $CLI_ENV "$KITH" --home "$T/$n" --passphrase-file "$T/pass" "$@"; }

# init NAME: create a profile listening on a free loopback port.
init() { k "$1" init --name "$1" --listen 'tcp://127.0.0.1:*' >/dev/null; }

# start NAME: run the engine headless in the background; waits until it answers.
start() {
    local n=$1
    # The binary itself in the background (not the k function), so $! is kith.
    "$KITH" --home "$T/$n" --passphrase-file "$T/pass" run >>"$T/$n.out" 2>>"$T/$n.err" &
    eval "PID_$n=$!"
    PIDS="$PIDS $!"
    wait_until 20 "engine $n up" up "$n"
}
# up NAME: NAME's engine answers on its control socket (`kith status` also answers without
# an engine, from the profile, and then says "not running").
up() { k "$1" status | grep -q '^running,'; }

# stop NAME [SIGNAL]
stop() {
    local n=$1 sig=${2:-TERM} pid
    eval "pid=\${PID_$n}"
    kill -"$sig" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    PIDS=$(echo "$PIDS" | sed "s/\b$pid\b//")
}

# wait_until SECONDS WHAT COMMAND...: poll until COMMAND succeeds. The pause between polls
# grows from 0.1 s to 0.5 s: a poll is a kith command or two (~60 ms of CPU each under ASan),
# and polling a long wait every 0.1 s would take a core from the engines it waits for.
wait_until() {
    local secs=$1 what=$2 tenths=1; shift 2
    local end=$(( $(date +%s) + secs ))
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$end" ] || fail "timed out after ${secs}s waiting for: $what"
        sleep "0.$tenths"
        [ "$tenths" -ge 5 ] || tenths=$((tenths + 1))
    done
}

# connect A B: A invites, B accepts (both running), wait until both see each other active.
connect() {
    local code
    code=$(k "$1" invite | tail -1)
    k "$2" accept "$code" --as "$1" >/dev/null
    wait_until 30 "$1 and $2 connected" both_active "$1" "$2"
    # New contacts start at trust level 0, whose defaults pace their messages
    # (20 an hour, then a digest); these tests send hundreds, so both widen it.
    trust "$1" "$2"
}
# trust A B: each gives the other trust level 2 (no default pacing or ask-first).
trust() {
    k "$1" boundary set "$2" trust=2 >/dev/null
    k "$2" boundary set "$1" trust=2 >/dev/null
}
active_in() { k "$1" contacts --json | grep -q "\"name\":\"$2\"[^}]*\"state\":\"active\""; }
both_active() { active_in "$1" "$2" && active_in "$2" "$1"; }

# count STATE NAME PEER: how many messages in NAME's log with PEER have STATE.
count() { k "$2" log "$3" --json | grep -o "\"state\":\"$1\"" | wc -l; }
# atleast STATE NAME PEER N / exactly STATE NAME PEER N: for wait_until.
atleast() { [ "$(count "$1" "$2" "$3")" -ge "$4" ]; }
exactly() { [ "$(count "$1" "$2" "$3")" -eq "$4" ]; }

# db_copy NAME: the path of a copy of NAME's database (with its WAL, which the copy's
# first reader folds in), for a test to read with SQLite. A running engine holds its database
# exclusively (locking_mode EXCLUSIVE), so nobody else may open the file itself.
db_copy() {
    local d
    d=$(mktemp -d "$T/dbcopy-XXXXXX")
    cp "$T/$1/kith.db" "$d/kith.db"
    [ -f "$T/$1/kith.db-wal" ] && cp "$T/$1/kith.db-wal" "$d/kith.db-wal"
    echo "$d/kith.db"
}

# gone PID: the process has exited (no such process, or a zombie not yet reaped). Read from
# /proc by the shell itself: tests poll this every few milliseconds, and a `ps` each time
# costs more CPU than the engines being watched.
gone() {
    local s
    read -r s 2>/dev/null < "/proc/$1/stat" || return 0
    s=${s##*) } # "PID (COMM) STATE ...": COMM may hold spaces and parentheses
    case "${s%% *}" in Z | X) return 0 ;; esac
    return 1
}

# reap NAME SECONDS: wait (bounded) for NAME's engine to exit on its own and
# reap it; its exit status is left in $REAPED.
reap() {
    local n=$1 secs=$2 pid
    eval "pid=\${PID_$n}"
    wait_until "$secs" "engine $n to exit" gone "$pid"
    REAPED=0
    wait "$pid" 2>/dev/null || REAPED=$?
    PIDS=$(echo "$PIDS" | sed "s/\b$pid\b//")
}

# send_retry NAME PEER TEXT: send until it succeeds (the engine may be crashing
# or restarting meanwhile); gives up after 30 s. Each try is cut off after 5 s:
# a control request to an engine that dies mid-request otherwise hangs for the
# whole 30 s control timeout (ZMQ REQ does not notice the peer going away).
send_retry() {
    local end=$(( $(date +%s) + 30 ))
    until timeout 5 $CLI_ENV "$KITH" --home "$T/$1" --passphrase-file "$T/pass" send "$2" "$3" \
            >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$end" ] || fail "$1 could not send '$3' to $2 for 30 s"
        sleep 0.05
    done
}

# quiet NAME PEER: nothing NAME sent to PEER is still queued or waiting for its ACK (one log).
quiet() {
    local log
    log=$(k "$1" log "$2" --json) || return 1
    ! grep -qE '"state":"(queued|sent)"' <<<"$log"
}

# oracle SENDER RECEIVER [--exact N PREFIX]: the "nothing lost" oracle for one direction.
oracle() {
    local s=$1 r=$2; shift 2
    k "$s" log "$r" --json > "$T/$s-$r.json"
    k "$r" log "$s" --json > "$T/$r-$s.json"
    python3 "$HERE/oracle.py" "$T/$s-$r.json" "$T/$r-$s.json" "$@"
}
