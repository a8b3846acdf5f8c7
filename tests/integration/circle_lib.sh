# Helpers for circle tests. Source after lib.sh (and before netns_lib.sh, which
# redefines k and start). JSON checks go through circle_check.py.
#   join CREATOR CIRCLE JOINER    CREATOR invites JOINER into CIRCLE; JOINER accepts
#   nmembers NAME CIRCLE          member count NAME's `circles --json` shows
#   cstate NAME CIRCLE            state there (active, joining, left, removed, absent)
#   all_members N CIRCLE NAME...  every NAME sees N members and state active
#   logn NAME CIRCLE [ARGS]       entries in NAME's log of #CIRCLE (ARGS: --kind K, --prefix P)
#   all_logn N CIRCLE NAME...     every NAME's log holds at least N entries
#   snap CIRCLE NAME...           NAME's log into $T/NAME.log.json (each NAME)
# start waits until the engine answers.
# KITH_TEST_KEEP=DIR keeps the test directory (profiles, engine logs).
# On failure the last lines of every engine's stderr go to stderr too.

# Anti-entropy every second instead of every minute, for every engine we start.
export KITH_SYNC_IVL_MS=${KITH_SYNC_IVL_MS:-1000}

cc() { python3 "$HERE/circle_check.py" "$@"; }

# running NAME: NAME's engine runs and answers (`status` alone exits 0 either way).
running() { k "$1" status --json 2>/dev/null | grep -q '"online":true'; }
# start NAME: as lib.sh's, but returns only once the engine answers.
start() {
    local n=$1
    "$KITH" --home "$T/$n" --passphrase-file "$T/pass" run >>"$T/$n.out" 2>>"$T/$n.err" &
    eval "PID_$n=$!"
    PIDS="$PIDS $!"
    wait_until 20 "engine $n up" running "$n"
}

# keep_logs: with KITH_TEST_KEEP=DIR, copy the whole test directory (profiles,
# engine stdout/stderr) there before it is removed.
keep_logs() {
    if [ -n "${KITH_TEST_KEEP:-}" ] && [ -d "$T" ]; then
        mkdir -p "$KITH_TEST_KEEP" && cp -r "$T" "$KITH_TEST_KEEP/" 2>/dev/null \
            && echo "# kept $KITH_TEST_KEEP/$(basename "$T")" >&2
    fi
    return 0
}
trap 'keep_logs; cleanup' EXIT
trap 'exit 130' INT TERM HUP PIPE

dump_logs() {
    local f
    for f in "$T"/*.err; do
        [ -s "$f" ] || continue
        echo "--- last lines of $(basename "$f") ---"
        tail -n 15 "$f"
    done
}
fail() {
    echo "FAIL: $*" >&2
    dump_logs >&2 2>/dev/null || true
    exit 1
}

join() {
    local code
    code=$(k "$1" invite --circle "$2" | tail -1) || fail "$1 could not invite into $2"
    [ -n "$code" ] || fail "$1 printed no invite code for $2"
    k "$3" accept "$code" --as "$1" >/dev/null || fail "$3 could not accept $1's invite to $2"
}

nmembers() { k "$1" circles --json > "$T/.circles.$1" 2>/dev/null && cc circle "$T/.circles.$1" "$2" members; }
cstate() { k "$1" circles --json > "$T/.circles.$1" 2>/dev/null && cc circle "$T/.circles.$1" "$2" state; }

all_members() {
    local n=$1 c=$2 p
    shift 2
    for p in "$@"; do
        [ "$(nmembers "$p" "$c")" = "$n" ] || return 1
        [ "$(cstate "$p" "$c")" = active ] || return 1
    done
}

logn() {
    local p=$1 c=$2
    shift 2
    k "$p" log "#$c" --json > "$T/.log.$p" 2>/dev/null || { echo -1; return; }
    cc count "$T/.log.$p" "$@"
}

all_logn() {
    local n=$1 c=$2 p
    shift 2
    for p in "$@"; do
        [ "$(logn "$p" "$c")" -ge "$n" ] || return 1
    done
}

snap() {
    local c=$1 p
    shift
    for p in "$@"; do
        k "$p" log "#$c" --json > "$T/$p.log.json" || fail "$p: log #$c failed"
    done
}

# csend NAME CIRCLE TEXT: send to #CIRCLE, check the id printed; retried for up
# to 30 s (an engine restarting meanwhile), each try cut off after 10 s.
csend() {
    local out end=$(( $(date +%s) + 30 ))
    until out=$(timeout 10 $CLI_ENV "$KITH" --home "$T/$1" --passphrase-file "$T/pass" send "#$2" "$3" \
            2>>"$T/send.err"); do
        [ "$(date +%s)" -lt "$end" ] || fail "$1 could not send '$3' to #$2 for 30 s"
        sleep 0.1
    done
    echo "$out" | tail -1 | grep -Eq '^[0-9a-f]{32}$' || fail "$1 send printed no id: $out"
}

# wait_logs SECONDS N CIRCLE NAME...: until every NAME's log holds at least N
# entries; on timeout the FAIL line gives each one's count.
wait_logs() {
    local secs=$1 n=$2 c=$3 end p counts
    shift 3
    end=$(( $(date +%s) + secs ))
    until all_logn "$n" "$c" "$@"; do
        if [ "$(date +%s)" -ge "$end" ]; then
            counts=$(for p in "$@"; do printf '%s=%s ' "$p" "$(logn "$p" "$c")"; done)
            fail "timed out after ${secs}s waiting for $n entries in every log of #$c: $counts"
        fi
        sleep 0.5
    done
}
