#!/bin/bash
# A three-host circle in network namespaces: A -- B -- C, where A and C have no
# route to each other (B's forwarding is off), so everything between them must
# be carried by B, sealed.
#   A: 10.202.1.1 (a<->b veth)   B: 10.202.0.2 (its lo; reached via 10.202.1.2 or
#   C: 10.202.2.1 (b<->c veth)      10.202.2.2, its addresses on the two veths)
# 1. B creates circle c and invites A and C; all three see 3 members.
# 2. A sends 30 messages: C holds all 30, in the same order as A and B, and
#    B's database (db, -wal, -shm) holds none of the texts in plaintext.
# 3. The B<->C link goes down; A sends 20 more; C cannot have them; the link
#    comes back and C holds every one exactly once within 120 s.
# 4. (needs microsocks) B's outbound connections go through a chaosproxy in B's
#    namespace (delay, stalls, resets, truncation) via `config set socks5`; A
#    sends 30 more; C holds all of them within 120 s; all three logs identical.
# usage: mesh_netns.sh KITH [CHAOSPROXY]. Skips (77) when namespaces cannot be made.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"; . "$HERE/circle_lib.sh"; . "$HERE/netns_lib.sh"
PROXY=${2:-$(dirname "$KITH")/tests/chaosproxy}
SEED=${KITH_SEED:-$(( $(date +%s) % 100000 ))}
note "KITH_SEED=$SEED"
TAG=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')

ns_add a; ns_add b; ns_add c
ns_link a b; ns_link b c
ns_addr a "$(ifname a b)" 10.202.1.1/24
ns_addr b "$(ifname b a)" 10.202.1.2/24
ns_addr b "$(ifname b c)" 10.202.2.2/24
ns_addr c "$(ifname c b)" 10.202.2.1/24
ns_addr b lo 10.202.0.2/32
ns_route a 10.202.0.2/32 10.202.1.2
ns_route c 10.202.0.2/32 10.202.2.2
unreachable a 10.202.2.1 || fail "A has a route to C"
unreachable c 10.202.1.1 || fail "C has a route to A"

ns_init A a 10.202.1.1; ns_init B b 10.202.0.2; ns_init C c 10.202.2.1
start A; start B; start C

note "1. B creates c and invites A and C"
k B circle create c >/dev/null || fail "circle create"
join B c A
join B c C
wait_until 90 "A, B and C all see 3 active members" all_members 3 c A B C

# send_batch FROM PREFIX N: N distinctive texts PREFIX-TAG-i, recorded in $T/PREFIX.txt.
send_batch() {
    local i
    : > "$T/$2.txt"
    for i in $(seq 1 "$3"); do
        csend "$1" c "$2-$TAG-$i"
        echo "$2-$TAG-$i" >> "$T/$2.txt"
    done
}
# converged N: A, B and C each hold N entries of A's.
converged() { local p; for p in A B C; do [ "$(logn "$p" c --prefix "")" -ge "$1" ] || return 1; done; }
check_exact() {
    local p f
    cat "$@" > "$T/want.txt"
    snap c A B C
    for p in A B C; do
        cc exact "$T/$p.log.json" "$T/want.txt" >/dev/null || fail "$p: $(cc exact "$T/$p.log.json" "$T/want.txt")"
        cc sane "$T/$p.log.json" >/dev/null || fail "$p: $(cc sane "$T/$p.log.json")"
    done
    f=$(cc same "$T/A.log.json" "$T/B.log.json" "$T/C.log.json") || fail "$f"
    note "$f"
}

note "2. A sends 30; they can reach C only through B"
send_batch A m 30
wait_until 90 "C holds A's 30 messages" converged 30
check_exact "$T/m.txt"
for f in "$T"/B/kith.db*; do
    if grep -a -F -q -f "$T/m.txt" "$f"; then
        fail "B's $(basename "$f") holds a circle text in plaintext: $(grep -a -o -F -f "$T/m.txt" "$f" | head -1)"
    fi
done
note "B's store holds none of the 30 texts in plaintext ($(ls "$T"/B/ | tr '\n' ' '))"

note "3. partition B<->C; A sends 20"
link_set b c down
send_batch A p 20
wait_until 30 "B holds the 20" all_logn 50 c B
[ "$(logn C c --prefix "p-$TAG-")" -eq 0 ] || fail "C got messages across a link that is down"
note "link up"
link_set b c up
wait_until 120 "C holds the 20 sent during the partition" converged 50
check_exact "$T/m.txt" "$T/p.txt"

if ! command -v microsocks >/dev/null 2>&1; then
    note "4. skipped: microsocks is not installed (the chaos path needs it)"
    exit 0
fi
[ -x "$PROXY" ] || fail "no chaosproxy at $PROXY (pass it as the second argument)"
note "4. B's outbound connections through a chaosproxy (seed $SEED)"
ip netns exec "$(ns_name b)" microsocks -i 127.0.0.1 -p 1080 >"$T/socks.log" 2>&1 &
PIDS="$PIDS $!"
ip netns exec "$(ns_name b)" "$PROXY" --listen 127.0.0.1:1081 --to 127.0.0.1:1080 \
    --seed "$SEED" --delay-ms 0-80 --stall-prob 0.02 --stall-ms 500-3000 --rst-prob 0.1 \
    --truncate-prob 0.01 >"$T/chaos.out" 2>"$T/chaos.err" &
CHAOS=$!; PIDS="$PIDS $CHAOS"
wait_until 10 "chaosproxy listening" grep -q '^listening' "$T/chaos.out"
stop B
k B config set socks5 127.0.0.1:1081 >/dev/null || fail "config set socks5"
start B
send_batch A q 30
wait_until 150 "C holds the 30 sent through the chaos path" converged 80
check_exact "$T/m.txt" "$T/p.txt" "$T/q.txt"
kill -TERM "$CHAOS"; wait "$CHAOS" || true
PIDS=$(echo "$PIDS" | sed "s/\b$CHAOS\b//")
note "$(grep '^chaosproxy:' "$T/chaos.err")"
conns=$(sed -n 's/.* conns=\([0-9]*\).*/\1/p' "$T/chaos.err")
[ "${conns:-0}" -gt 0 ] || fail "no connection went through the chaosproxy"
delayed=$(sed -n 's/.* delayed=\([0-9]*\).*/\1/p' "$T/chaos.err")
[ "${delayed:-0}" -gt 0 ] || fail "the chaosproxy delayed nothing"
echo "mesh_netns: ok"
