#!/bin/bash
# Accepting while the inviter is offline, and sending while the peer is
# offline: B accepts A's invite and sends 5 messages while A is down; they
# wait (queued or sent, never delivered) and the contact shows as pending.
# When A starts, everything arrives within 30 s and the contact becomes
# active on both sides. Then, with no engine running at all, `kith send`
# queues straight into the store, and `kith send --wait` delivers on its own.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"

init A; init B; start A; start B
code=$(k A invite | tail -1)
stop A
k B accept "$code" --as A >/dev/null || fail "accept while the inviter is offline failed"
for i in $(seq 1 5); do
    k B send A "b$i" >/dev/null || fail "send $i to an offline contact failed"
done
sleep 2 # give B's engine time to try (and fail) to reach A
k B log A --json > "$T/b.json"
[ "$(grep -o '"outgoing":true' "$T/b.json" | wc -l)" -eq 5 ] || fail "B's log lacks the 5 messages"
[ "$(grep -o '"state":"\(queued\|sent\)"' "$T/b.json" | wc -l)" -eq 5 ] \
    || fail "messages to an offline contact are not queued/sent: $(cat "$T/b.json")"
k B log A > "$T/b.txt"
[ "$(grep -c 'queued\|sent' "$T/b.txt")" -eq 5 ] || fail "kith log does not show 5 waiting messages"
k B contacts --json | grep -q '"name":"A"[^}]*"state":"pending"' \
    || fail "contact not pending: $(k B contacts --json)"
k B contacts | grep -q 'pending' || fail "kith contacts does not say pending"
note "A offline: B's 5 messages wait, A is pending"

start A
wait_until 30 "contact active on both sides" both_active A B
wait_until 30 "all 5 delivered" exactly delivered B A 5
oracle B A --exact 5 b
note "A online: contact active both ways, 5 delivered exactly once"

stop A; stop B
k B send A "offline-1" >/dev/null || fail "send with no engine running failed"
has_state() { k "$1" log "$2" --json | grep -q "\"text\":\"$3\",[^}]*\"state\":\"$4\""; }
has_state B A offline-1 queued || fail "a send with no engine is not queued in the store"
start A
k B send A "offline-2" --wait 20 >/dev/null || fail "send --wait did not deliver"
has_state B A offline-2 delivered || fail "send --wait exited 0 but the message is not delivered"
wait_until 30 "offline-1 delivered" has_state B A offline-1 delivered
oracle B A
k A log B --json | grep -q '"text":"offline-2"' || fail "A does not hold offline-2"
note "no engine: send queues into the store; send --wait delivers and exits 0"
