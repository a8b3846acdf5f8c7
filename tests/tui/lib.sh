# Shared helpers for the TUI tests: the real kith in tmux on its own socket,
# profiles under a mktemp directory, keys by send-keys, screens by
# capture-pane polled against a deadline. Skips (77) without tmux.
# Usage: . lib.sh (KITH: the kith binary, first argument of every test).
set -eu

command -v tmux >/dev/null 2>&1 || { echo "SKIP: tmux is not installed"; exit 77; }
KITH=${KITH:?set KITH to the kith binary}
case "$KITH" in /*) ;; *) KITH="$PWD/$KITH" ;; esac
export KITH_KDF_COST=min
unset KITH_HOME KITH_PASSPHRASE_FILE NO_COLOR
T=$(mktemp -d "${TMPDIR:-/tmp}/kith-tui-XXXXXX")
SOCK="kith-test-$$"
PASS='correct horse battery staple'
printf '%s\n' "$PASS" > "$T/pass"
PIDS=""
. "$(dirname "${BASH_SOURCE[0]}")/../python.sh"

tx() { tmux -L "$SOCK" "$@"; }

cleanup() {
    tx kill-server 2>/dev/null || true
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

# k NAME ARGS...: run kith on profile NAME from the command line.
k() { local n=$1; shift; "$KITH" --home "$T/$n" --passphrase-file "$T/pass" "$@"; }

# headless NAME: run profile NAME's engine in the background. kith itself is
# the background job (not a subshell around it), so cleanup's TERM reaches it.
headless() {
    "$KITH" --home "$T/$1" --passphrase-file "$T/pass" run >>"$T/$1.out" 2>>"$T/$1.err" &
    PIDS="$PIDS $!"
}

# init NAME: a profile on a free loopback port.
init() { k "$1" init --name "$1" --listen 'tcp://127.0.0.1:*' >/dev/null; }

# pair A B: A invites, B accepts.
pair() { local code; code=$(k "$1" invite | tail -1); k "$2" accept "$code" >/dev/null; }

# session NAME CMD...: run CMD in a fresh 100x30 tmux session; the shell
# prints kith-exited=STATUS afterwards and stays, so the pane can be read.
session() {
    local s=$1; shift
    local cmd
    cmd=$(printf '%q ' "$@")
    tx -f /dev/null new-session -d -s "$s" -x 100 -y 30 \
        "$cmd 2>>$T/$s.err; echo kith-exited=\$?; sleep 600"
}

# client SESSION PROFILE: the TUI on PROFILE (passphrase from the file).
client() { session "$1" env KITH_KDF_COST=min "$KITH" --home "$T/$2" --passphrase-file "$T/pass"; }

pane() { tx capture-pane -p -t "$1"; }
keys() { local s=$1; shift; tx send-keys -t "$s" "$@"; }
# type SESSION TEXT: literal text, no key names.
typed() { tx send-keys -t "$1" -l "$2"; }

# wait_for SESSION TEXT [SECONDS]: until the screen shows TEXT.
wait_for() {
    local s=$1 text=$2 limit=${3:-20}
    local deadline=$(( $(date +%s) + limit ))
    while [ "$(date +%s)" -le "$deadline" ]; do
        if pane "$s" | grep -qF -- "$text"; then return 0; fi
        sleep 0.1
    done
    echo "--- screen of $s ---" >&2; pane "$s" >&2 || true
    echo "--- stderr of $s ---" >&2; cat "$T/$s.err" >&2 2>/dev/null || true
    fail "$s never showed: $text"
}

# wait_gone SESSION TEXT [SECONDS]: until the screen no longer shows TEXT.
wait_gone() {
    local s=$1 text=$2 limit=${3:-20}
    local deadline=$(( $(date +%s) + limit ))
    while [ "$(date +%s)" -le "$deadline" ]; do
        if ! pane "$s" | grep -qF -- "$text"; then return 0; fi
        sleep 0.1
    done
    pane "$s" >&2 || true
    fail "$s still shows: $text"
}

# quit SESSION: /quit, and the client exits 0.
quit() { typed "$1" "/quit"; keys "$1" Enter; wait_for "$1" "kith-exited=0"; }
