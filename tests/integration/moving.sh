#!/bin/bash
# Moving addresses: a profile that starts on a new listen endpoint tells its
# contacts in a signed endpoint record over the outbox, and they re-point
# their connection. (1) B moves while A runs: 20 messages each way, all
# delivered exactly once; A's contacts show B's new endpoint. (2) B moves while
# A is offline; A starts later and learns it. (3) A moves while B is offline,
# and B only knows A's old address: only A can connect, and only because it
# learned B's address in (2); B then learns A's new one. Without the records,
# (3) could not deliver anything.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"

# endpoint_is NAME PEER ENDPOINT: NAME's contacts --json gives PEER exactly that endpoint.
endpoint_is() {
    k "$1" contacts --json | grep -q "\"name\":\"$2\"[^}]*\"endpoints\":\[\"$3\"\]"
}
# move NAME: a new free port from its next start; prints the new endpoint.
move() {
    k "$1" config set listen 'tcp://127.0.0.1:*' >/dev/null
    k "$1" config get listen
}
# chat FROM TO PREFIX N: FROM sends N numbered messages to TO.
chat() {
    for i in $(seq 1 "$4"); do k "$1" send "$2" "$3$i" >/dev/null || fail "$1 could not send $3$i"; done
}

init A; init B; start A; start B; connect A B
a0=$(k A config get listen); b0=$(k B config get listen)
endpoint_is A B "$b0" || fail "A does not show B's first endpoint: $(k A contacts --json)"
chat A B a 5; chat B A b 5
wait_until 30 "the first messages delivered" eval 'exactly delivered A B 5 && exactly delivered B A 5'
note "A and B chatting on $a0 and $b0"

stop B
b1=$(move B)
[ "$b1" != "$b0" ] || fail "B's endpoint did not change"
start B
wait_until 30 "A learns B's new endpoint" endpoint_is A B "$b1"
chat A B m1a 20; chat B A m1b 20
wait_until 60 "all 25 each way delivered" eval 'exactly delivered A B 25 && exactly delivered B A 25'
oracle A B --exact 20 m1a; oracle B A --exact 20 m1b
note "(1) B moved to $b1 while A ran: A learned it, 20 each way delivered exactly once"

stop A; stop B
b2=$(move B)
start B
chat B A m2b 10 # waits in B's outbox behind the endpoint record
sleep 1
start A
wait_until 30 "A learns B's endpoint after starting" endpoint_is A B "$b2"
chat A B m2a 10
wait_until 60 "all 35 each way delivered" eval 'exactly delivered A B 35 && exactly delivered B A 35'
oracle A B --exact 10 m2a; oracle B A --exact 10 m2b
note "(2) B moved to $b2 while A was offline: A learned it on starting, 10 each way delivered"

stop B
stop A
a1=$(move A)
start A
chat A B m3a 10 # B is down, and knows A only at $a0
sleep 1
start B
wait_until 30 "B learns A's new endpoint" endpoint_is B A "$a1"
chat B A m3b 10
wait_until 60 "all 45 each way delivered" eval 'exactly delivered A B 45 && exactly delivered B A 45'
oracle A B --exact 10 m3a; oracle B A --exact 10 m3b
endpoint_is A B "$b2" || fail "A lost B's endpoint: $(k A contacts --json)"
k A contacts --json | grep -q "$b0\|$b1" && fail "A still lists an old endpoint of B"
note "(3) A moved to $a1 while B was offline: A reached B at the address it had learned, B learned A's"
