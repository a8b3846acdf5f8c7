#!/bin/bash
# Garbage at the door: 200 connections to B's live port, each writing a random
# byte stream of 1..4096 bytes (from /dev/urandom; every other one starts with
# a ZMTP 3 greeting so it gets past the signature check). B keeps running, a
# real contact still reaches it within 10 s, and `kith status` still answers.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
STREAMS=$(test_n 200)

init A; init B; start A; start B; connect A B
port=$(k B id --json | sed -n 's/.*"endpoints":\["tcp:\/\/127\.0\.0\.1:\([0-9]*\)".*/\1/p')
[ -n "$port" ] || fail "no port in: $(k B id --json)"
python3 - "$port" "$STREAMS" <<'PY' || fail "could not write the garbage"
import os, random, socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
greeting = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"CURVE" + b"\x00" * 15
refused = 0
for i in range(n):
    data = os.urandom(random.randint(1, 4096))
    if i % 2:
        data = (greeting + data)[:max(len(data), len(greeting))]
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(0.2)
        try:
            s.recv(65536)
        except OSError:
            pass
        s.close()
    except ConnectionRefusedError:
        refused += 1
    except OSError:
        pass  # reset by B: it may hang up on garbage whenever it likes
if refused == n:
    sys.exit("every connection was refused: nothing listens on port %d" % port)
PY
note "$STREAMS garbage streams written to B's port $port"
gone "$PID_B" && fail "B died from garbage: $(tail -3 "$T/B.err")"
k A send B "after-garbage" >/dev/null || fail "A could not send after the garbage"
wait_until 10 "A's message delivered after the garbage" exactly delivered A B 1
k B log A --json | grep -q '"text":"after-garbage"' || fail "B does not hold the message"
k B status --json > "$T/status.json" || fail "B's status fails after the garbage"
grep -q '"online":true' "$T/status.json" || fail "B's status: $(cat "$T/status.json")"
k B send A "reply" >/dev/null
wait_until 10 "B's reply delivered" exactly delivered B A 1
note "B still running: a contact's message arrives, status answers: $(cat "$T/status.json")"
