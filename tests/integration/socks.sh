#!/bin/bash
# Outbound connections through a SOCKS5 proxy (issue 7, item 2). The test runs
# Debian's microsocks on 127.0.0.1 and gives A `config set socks5` before A starts.
#  1. A and B connect and exchange 20 messages each way; while they run, `ss -tnp`
#     shows that every connection to B's listening port belongs to the proxy, none to
#     A's kith, and that A's kith holds a connection to the proxy (microsocks' own log
#     names B's port too).
#  2. C, which listens nowhere (so its messages have no path but its own outbound
#     connection), points socks5 at a closed port: its handshake and messages stay
#     queued and nothing of C's reaches B's port. Pointed at the working proxy, the
#     same queued messages are delivered exactly once.
# Skips (77) when microsocks or ss is missing.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd)
command -v microsocks >/dev/null 2>&1 || { echo "microsocks not installed: skipping"; exit 77; }
command -v ss >/dev/null 2>&1 || { echo "ss (iproute2) not installed: skipping"; exit 77; }
. "$HERE/lib.sh"
N=$(test_n 20)

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0));
print(s.getsockname()[1])'
}
listening() { ss -tlnH "sport = :$1" | grep -q .; }
# conns: established/connecting TCP sockets as "PID PEER_PORT LOCAL_PORT", one a line.
conns() {
    ss -tnpH | awk '{
        n = split($5, peer, ":"); m = split($4, local, ":");
        if (match($0, /pid=[0-9]+/)) {
            print substr($0, RSTART + 4, RLENGTH - 4), peer[n], local[m]
        }
    }'
}
# pids_to PORT: the pids owning a connection whose remote end is 127.0.0.1:PORT.
pids_to() { conns | awk -v p="$1" '$2 == p { print $1 }' | sort -u; }
queued_to() { k "$1" log "$2" --json | grep -o '"state":"queued"' | wc -l; }

PORT=$(free_port)
microsocks -i 127.0.0.1 -p "$PORT" >"$T/socks.log" 2>&1 &
SOCKS_PID=$!
PIDS="$PIDS $SOCKS_PID"
wait_until 10 "microsocks listening on $PORT" listening "$PORT"

note "1. A goes out through the proxy at 127.0.0.1:$PORT"
init A; init B
k A config set socks5 "127.0.0.1:$PORT" >/dev/null
[ "$(k A config get socks5)" = "127.0.0.1:$PORT" ] || fail "socks5 not saved"
BPORT=$(k B id --json | grep -o '"tcp://127.0.0.1:[0-9]*"' | head -1 | grep -o '[0-9]*"$' \
    | tr -d '"')
[ -n "$BPORT" ] || fail "B has no loopback endpoint"
start A; start B
connect A B
( for i in $(seq 1 "$N"); do k A send B "a$i" >/dev/null || exit 1; done ) & SA=$!
( for i in $(seq 1 "$N"); do k B send A "b$i" >/dev/null || exit 1; done ) & SB=$!
wait $SA || fail "A's sends failed"
wait $SB || fail "B's sends failed"
delivered() { exactly delivered A B "$N" && exactly delivered B A "$N"; }
wait_until 60 "every message acknowledged" delivered
oracle A B --exact "$N" a
oracle B A --exact "$N" b

# The proof, taken while both run: who holds the connections to B's port?
conns > "$T/conns.txt"
to_b=$(pids_to "$BPORT")
[ -n "$to_b" ] || fail "nothing is connected to B's port $BPORT: $(cat "$T/conns.txt")"
for p in $to_b; do
    [ "$p" = "$SOCKS_PID" ] || fail "pid $p (A is $PID_A) connects to B's port $BPORT directly"
done
pids_to "$PORT" | grep -qx "$PID_A" || fail "A's kith ($PID_A) has no connection to the proxy"
grep -q "connected to 127.0.0.1:$BPORT" "$T/socks.log" \
    || fail "microsocks did not relay to B: $(cat "$T/socks.log")"
note "connections to B:$BPORT belong to microsocks ($SOCKS_PID) only; A ($PID_A) -> proxy"

note "2. an unreachable proxy keeps C's messages queued"
CLOSED=$(free_port) # bound and released at once: nothing listens there
k C init --name C --listen none >/dev/null
k C config set socks5 "127.0.0.1:$CLOSED" >/dev/null
start C
code=$(k B invite | tail -1)
k C accept "$code" --as B >/dev/null
for i in $(seq 1 5); do k C send B "c$i" >/dev/null || fail "C could not queue c$i"; done
sleep 5
[ "$(queued_to C B)" -eq 5 ] || fail "C's messages left the queue: $(k C log B --json)"
k B contacts --json | grep -q '"name":"C"' && fail "B heard from C without a proxy"
pids_to "$BPORT" | grep -qx "$PID_C" && fail "C connected to B's port directly"
active_in C B && fail "C's handshake completed without a proxy"
stop C

note "   the same messages go once C's proxy works"
k C config set socks5 "127.0.0.1:$PORT" >/dev/null
start C
wait_until 30 "C's handshake through the proxy" active_in C B
k B contacts --json | grep -q '"name":"C"' || fail "B does not know C"
wait_until 30 "C's messages delivered" exactly delivered C B 5
oracle C B --exact 5 c
pids_to "$BPORT" | grep -qx "$PID_C" && fail "C connected to B's port directly"
note "ok"
