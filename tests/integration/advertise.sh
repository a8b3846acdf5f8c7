#!/bin/bash
# An onion-service style profile: kith listens on one endpoint and advertises
# another (`config set advertise`), as behind Tor's HiddenServicePort. A
# forwarder stands in for Tor: peers must reach us only through the advertised
# endpoint. The invite carries it, the peer connects to it, messages flow both
# ways, and nothing connects to the listen port except the forwarder.
# usage: advertise.sh /path/to/kith /path/to/chaosproxy
KITH=$1
. "$(dirname "$0")/lib.sh"
PROXY=${2:?usage: advertise.sh KITH CHAOSPROXY}
case "$PROXY" in /*) ;; *) PROXY="$PWD/$PROXY" ;; esac

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
LISTEN=$(free_port)
FRONT=$(free_port)
init alex
k sam init --name sam --listen "tcp://127.0.0.1:$LISTEN" >/dev/null
k sam config set advertise "tcp://127.0.0.2:$FRONT" >/dev/null
k sam config get advertise | grep -q "127.0.0.2:$FRONT" || fail "advertise not kept"
k sam config set advertise 'tcp://bad host:1' >/dev/null 2>&1 && fail "a bad endpoint was taken"
"$PROXY" --listen "127.0.0.2:$FRONT" --to "127.0.0.1:$LISTEN" --seed 1 2>"$T/proxy.err" &
PIDS="$PIDS $!"
start alex
start sam
k sam id --json | grep -q "tcp://127.0.0.2:$FRONT" || fail "id does not show the advertised endpoint"
code=$(k sam invite | tail -1)
k alex accept "$code" --as sam >/dev/null
wait_until 30 "alex and sam connected" both_active alex sam
trust alex sam
for i in $(seq 1 10); do k alex send sam "to sam $i" >/dev/null; k sam send alex "to alex $i" >/dev/null; done
wait_until 60 "sam has alex's 10" atleast received sam alex 10
wait_until 60 "alex has sam's 10" atleast received alex sam 10
wait_until 60 "alex's 10 delivered" exactly delivered alex sam 10
# Every TCP connection to sam's listen port comes from the forwarder: alex's engine never
# connected to it directly (alex holds only the advertised endpoint).
k alex contacts --json | grep -q "127.0.0.1:$LISTEN" && fail "alex learned the listen endpoint"
direct=$(ss -tnp 2>/dev/null | awk -v p=":$LISTEN" '$5 ~ p"$"' | grep -v chaosproxy | grep -c kith || true)
[ "$direct" -eq 0 ] || fail "kith connected to the listen port directly ($direct)"
note "advertised endpoint used; 20 messages delivered through it"
