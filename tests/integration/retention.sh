#!/bin/bash
# Disappearing messages, agreed by both sides, with a real 3-second retention:
# a proposal changes nothing until it is accepted; then every new message of
# the conversation (both directions) carries delete_at and is deleted on both
# sides when due: gone from `kith log`, and its sealed body bytes gone from
# the database and its -wal file. A message waiting in the outbox is kept
# until delivered. Messages from before stay. Turning it off needs agreement
# too, and a declined proposal changes nothing.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"

# ret NAME PEER: NAME's retention --json for PEER.
ret() { k "$1" retention "$2" --json; }
in_force() { ret "$1" "$2" | grep -q "\"seconds\":$3,[^{]*\"proposal\":null"; }
proposed_by() { ret "$1" "$2" | grep -q "\"proposal\":{\"seconds\":$3,[^}]*\"by\":\"$4\"}"; }
# has NAME PEER TEXT / delete_at_of NAME PEER TEXT (empty when it is kept)
has() { k "$1" log "$2" --json | grep -q "\"text\":\"$3\""; }
delete_at_of() {
    k "$1" log "$2" --json | tr '}' '\n' | grep "\"text\":\"$3\"" | grep -o '"delete_at":[0-9]*' | cut -d: -f2
}
delivered_text() { k "$1" log "$2" --json | grep -q "\"text\":\"$3\",[^}]*\"state\":\"delivered\""; }
# body_hex NAME TEXT_ID: the sealed body of a message as stored (hex), read from the database.
body_hex() {
    python3 - "$(db_copy "$1")" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])  # a copy: db_copy
row = db.execute("SELECT hex(body) FROM msg WHERE hex(msg_id) = upper(?)", (sys.argv[2],)).fetchone()
print(row[0] if row else "")
EOF
}
# on_disk NAME HEX: are those bytes anywhere in NAME's database, -wal or -shm file?
on_disk() {
    python3 - "$2" "$T/$1/kith.db" "$T/$1/kith.db-wal" "$T/$1/kith.db-shm" <<'EOF'
import os, sys
needle = bytes.fromhex(sys.argv[1])[-48:]  # the tail of the ciphertext and its tag
sys.exit(0 if any(os.path.exists(p) and needle in open(p, "rb").read() for p in sys.argv[2:]) else 1)
EOF
}
id_of() { k "$1" log "$2" --json | tr '}' '\n' | grep "\"text\":\"$3\"" | grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4; }

init A; init B; start A; start B; connect A B
in_force A B 0 || fail "a new conversation has a retention: $(ret A B)"
k A send B "before-1" >/dev/null
wait_until 20 "before-1 delivered" delivered_text A B before-1

k A retention B 3s | grep -q "Nothing changes until B accepts" || fail "no calm proposal line"
proposed_by A B 3 us || fail "A does not show its proposal: $(ret A B)"
wait_until 20 "B sees A's proposal" proposed_by B A 3 them
k B retention A | grep -q "A proposes: 3 seconds" || fail "B's plain text lacks the proposal"
ret A B | grep -q '"seconds":0,' || fail "the proposer applied it before acceptance"
ret B A | grep -q '"seconds":0,' || fail "the receiver applied it before accepting"
k A send B "pending-1" >/dev/null
wait_until 20 "pending-1 delivered" delivered_text A B pending-1
[ -z "$(delete_at_of A B pending-1)" ] || fail "a message sent before agreement has delete_at"
note "a proposal changes nothing until it is answered; both sides see it"

k B retention A accept | grep -q "Accepted" || fail "accept failed"
in_force B A 3 || fail "the accepter does not have it in force at once: $(ret B A)"
wait_until 20 "A learns the acceptance" in_force A B 3
k A send B "gone-a1" >/dev/null
k B send A "gone-b1" >/dev/null
wait_until 20 "gone-a1 and gone-b1 delivered" eval 'delivered_text A B gone-a1 && delivered_text B A gone-b1'
for side in "A B gone-a1" "B A gone-a1" "A B gone-b1" "B A gone-b1"; do
    set -- $side
    [ -n "$(delete_at_of "$1" "$2" "$3")" ] || fail "$1's $3 has no delete_at: $(k "$1" log "$2" --json)"
done
ida=$(id_of A B gone-a1)
hexa=$(body_hex A "$ida"); hexb=$(body_hex B "$ida")
# (either may be gone already on a slow machine; the files are checked for what was seen)
note "agreed: new messages both ways carry delete_at"

stop B
k A send B "waiting-1" >/dev/null
sleep 5
has A B waiting-1 || fail "a message still in the outbox was deleted before delivery"
wait_until 15 "gone-a1 deleted on A" eval '! has A B gone-a1'
wait_until 15 "gone-b1 deleted on A" eval '! has A B gone-b1'
has A B before-1 && has A B pending-1 || fail "messages from before the agreement were deleted"
start B
wait_until 15 "gone-a1 and gone-b1 deleted on B" eval '! has B A gone-a1 && ! has B A gone-b1'
wait_until 20 "waiting-1 delivered" eval 'has B A waiting-1'
wait_until 15 "waiting-1 deleted on A after delivery" eval '! has A B waiting-1'
wait_until 15 "waiting-1 deleted on B" eval '! has B A waiting-1'
has B A before-1 && has B A pending-1 || fail "B deleted messages from before the agreement"
if [ -n "$hexa" ]; then
    on_disk A "$hexa" && fail "gone-a1's sealed body is still in A's files"
fi
if [ -n "$hexb" ]; then
    on_disk B "$hexb" && fail "gone-a1's sealed body is still in B's files"
fi
seen() { if [ -n "$1" ]; then echo "checked"; else echo "gone before it could be read"; fi; }
note "gone-a1's sealed body on disk: A $(seen "$hexa"), B $(seen "$hexb")"
hexp=$(body_hex A "$(id_of A B pending-1)")
[ -n "$hexp" ] && on_disk A "$hexp" || fail "the on-disk check cannot see a kept message"
note "deleted on both sides when due (log and files), the outbox one only after delivery"

k A retention B off >/dev/null
wait_until 20 "B sees the proposal to turn it off" proposed_by B A 0 them
ret A B | grep -q '"seconds":3,' || fail "off took effect before acceptance: $(ret A B)"
k B retention A accept >/dev/null
wait_until 20 "A learns it is off" in_force A B 0
in_force B A 0 || fail "B is not off"
k A send B "after-off" >/dev/null
wait_until 20 "after-off delivered" delivered_text A B after-off
[ -z "$(delete_at_of A B after-off)$(delete_at_of B A after-off)" ] || fail "after-off has delete_at"
sleep 4
has A B after-off && has B A after-off || fail "a message sent after turning it off was deleted"
note "off, agreed: new messages stay"

k B retention A 1h >/dev/null
wait_until 20 "A sees B's proposal" proposed_by A B 3600 them
k A retention B decline | grep -q "Declined" || fail "decline failed"
wait_until 20 "B learns the decline" in_force B A 0
in_force A B 0 || fail "declining changed A's setting"
k B retention A decline 2>&1 | grep -q "hasn't proposed" || fail "answering nothing is not refused"
k A retention B 0s >/dev/null 2>&1 && fail "0s was accepted as a duration"
k A retention B off 2>&1 | grep -q "already the setting" || fail "proposing the setting in force is not refused"
k A send B "after-decline" >/dev/null
wait_until 20 "after-decline delivered" delivered_text A B after-decline
[ -z "$(delete_at_of B A after-decline)" ] || fail "a declined proposal took effect"
note "a declined proposal changes nothing"
