#!/bin/bash
# chaosproxy on its own: with no faults every byte of many concurrent echo
# streams comes back intact; with delays and stalls the streams still arrive
# whole (only later); truncation cuts streams short; resets reach the client
# as an RST; --duration and SIGTERM end it with the fault counts on stderr.
# usage: chaosproxy_test.sh /path/to/chaosproxy
set -eu
PROXY=$1
case "$PROXY" in /*) ;; *) PROXY="$PWD/$PROXY" ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/kith-chaos-XXXXXX")
PIDS=""
cleanup() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

cat > "$T/echo.py" <<'EOF'
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(64)
print(srv.getsockname()[1], flush=True)
def serve(c):
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
cat > "$T/client.py" <<'EOF'
# client.py PORT MODE NCONN BYTES: MODE intact | cut | reset
import hashlib, os, socket, sys, threading
port, mode, nconn, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
results = [None] * nconn
def one(i):
    data = os.urandom(size)
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    got = bytearray(); err = [None]
    def writer():
        try:
            if mode != "reset":  # idle: the per-second reset draw must find us
                s.sendall(data); s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err[0] = e
    w = threading.Thread(target=writer); w.start()
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got.extend(b)
    except OSError as e:
        err[0] = e  # what the reader saw comes first
    w.join(); s.close()
    results[i] = (hashlib.sha256(data).digest() == hashlib.sha256(got).digest(), len(got), err[0])
ts = [threading.Thread(target=one, args=(i,)) for i in range(nconn)]
[t.start() for t in ts]; [t.join() for t in ts]
bad = []
for i, (same, n, e) in enumerate(results):
    if mode == "intact" and (not same or e is not None):
        bad.append("conn %d: %d of %d bytes back, intact=%s, error=%r" % (i, n, size, same, e))
    if mode == "cut" and (same or n >= size):
        bad.append("conn %d: not cut (%d bytes back)" % (i, n))
    if mode == "reset" and not isinstance(e, ConnectionResetError):
        bad.append("conn %d: no reset seen (%d bytes back, error=%r)" % (i, n, e))
if bad:
    print("\n".join(bad)); sys.exit(1)
print("%s: %d connections ok" % (mode, nconn))
EOF

python3 -u "$T/echo.py" > "$T/echo.port" & PIDS="$PIDS $!"
for _ in $(seq 50); do [ -s "$T/echo.port" ] && break; sleep 0.1; done
EPORT=$(cat "$T/echo.port"); [ -n "$EPORT" ] || fail "echo server did not start"

# proxy NAME ARGS...: start chaosproxy on a free port; sets PORT and PPID_PROXY.
proxy() {
    local name=$1; shift
    "$PROXY" --listen 127.0.0.1:0 --to "127.0.0.1:$EPORT" "$@" > "$T/$name.out" 2> "$T/$name.err" &
    PPID_PROXY=$!; PIDS="$PIDS $!"
    for _ in $(seq 50); do grep -q '^listening' "$T/$name.out" 2>/dev/null && break; sleep 0.1; done
    PORT=$(sed -n 's/^listening 127.0.0.1:\([0-9]*\)$/\1/p' "$T/$name.out")
    [ -n "$PORT" ] || fail "$name: chaosproxy did not report its port: $(cat "$T/$name.err")"
}
# finish NAME: SIGTERM the proxy, expect exit 0 and the counts line; sets STATS.
finish() {
    local rc=0
    kill -TERM "$PPID_PROXY"; wait "$PPID_PROXY" || rc=$?
    [ "$rc" -eq 0 ] || fail "$1: chaosproxy exited $rc"
    STATS=$(grep '^chaosproxy: seed=' "$T/$1.err") || fail "$1: no counts on stderr: $(cat "$T/$1.err")"
    note "$1: $STATS"
}
field() { echo "$STATS" | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }

note "no faults: 16 connections x 1 MiB echoed"
proxy clean --seed 1
timeout 60 python3 "$T/client.py" "$PORT" intact 16 1048576 || fail "clean streams not intact"
finish clean
[ "$(field conns)" -eq 16 ] || fail "clean: expected 16 connections counted"
[ "$(field bytes_up)" -eq $(( 16 * 1048576 )) ] || fail "clean: bytes_up $(field bytes_up)"
[ "$(field bytes_down)" -eq $(( 16 * 1048576 )) ] || fail "clean: bytes_down $(field bytes_down)"
[ "$(field truncations)" -eq 0 ] && [ "$(field resets)" -eq 0 ] || fail "clean: faults counted"

note "delay 0-20 ms and stalls: streams arrive whole"
proxy slow --seed 7 --delay-ms 0-20 --stall-prob 0.02 --stall-ms 50-300
timeout 90 python3 "$T/client.py" "$PORT" intact 4 262144 || fail "delayed streams not intact"
finish slow
[ "$(field delayed)" -gt 0 ] || fail "slow: no chunk delayed"
[ "$(field stalls)" -gt 0 ] || fail "slow: no stall drawn"

note "truncation: every stream cut short"
proxy cut --seed 3 --truncate-prob 1
timeout 60 python3 "$T/client.py" "$PORT" cut 4 262144 || fail "streams not truncated"
finish cut
[ "$(field truncations)" -ge 4 ] || fail "cut: truncations $(field truncations)"

note "reset once a second: the client sees an RST"
proxy rst --seed 5 --rst-prob 1
timeout 60 python3 "$T/client.py" "$PORT" reset 2 1024 || fail "no reset reached the client"
finish rst
[ "$(field resets)" -ge 2 ] || fail "rst: resets $(field resets)"

note "--duration 1 ends the proxy on its own"
proxy dur --seed 9 --duration 1
for _ in $(seq 40); do kill -0 "$PPID_PROXY" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PPID_PROXY" 2>/dev/null && fail "dur: still running after 4 s"
wait "$PPID_PROXY" || fail "dur: nonzero exit"
grep -q '^chaosproxy: seed=9 ' "$T/dur.err" || fail "dur: no counts on stderr"

note "bad arguments exit 2"
rc=0; "$PROXY" --listen 127.0.0.1:0 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "missing --to gave $rc"
rc=0; "$PROXY" --listen 127.0.0.1:0 --to 127.0.0.1:1 --rst-prob 2 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "--rst-prob 2 gave $rc"
echo "chaosproxy: all checks passed"
