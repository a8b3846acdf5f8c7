#!/bin/bash
# A circle of four `kith run` processes on 127.0.0.1, through the command line:
#  1. A creates c and invites B, C and D; everyone sees 4 active members with the
#     same epoch, the right fingerprints, A as admin, exactly one "me";
#  2. 50 messages from each member at once (+ one `send --wait`): all four logs
#     hold the same 201 (id, text) in the same order, each text once, with the
#     contract's fields; own messages sent/delivered, others' received;
#  3. a check-in, a support signal and a reply reach everyone with their kind;
#  4. A removes D: D's state becomes removed, the others see 3 members, and what
#     is sent afterwards never reaches D (3 sync rounds later); nothing D sends
#     after removal reaches the others;
#  5. C leaves: C's state becomes left, A and B see 2 members.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"; . "$HERE/circle_lib.sh"
N=$(test_n 50)
ALL="A B C D"

for p in $ALL; do init "$p"; done
for p in $ALL; do start "$p"; done

note "1. create, invite, join"
k A circle create c >/dev/null || fail "circle create c"
[ "$(nmembers A c)" = 1 ] || fail "a new circle should have 1 member: $(k A circles --json)"
[ "$(cstate A c)" = active ] || fail "A's new circle is not active: $(k A circles --json)"
for p in B C D; do join A c "$p"; done
wait_until 60 "all four see 4 active members" all_members 4 c $ALL
for p in $ALL; do k "$p" id --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["fingerprint"])' > "$T/$p.fp"; done
# members_ok P: P's view has 4 members A..D, the right fingerprints, A admin, P as "me", all online.
members_ok() {
    k "$1" circle members c --json > "$T/$1.members.json" || return 1
    python3 - "$T" "$1" <<'EOF'
import json, sys
t, me = sys.argv[1], sys.argv[2]
ms = json.load(open("%s/%s.members.json" % (t, me)))
fp = {p: open("%s/%s.fp" % (t, p)).read().strip() for p in "ABCD"}
by_fp = {m["fingerprint"]: m for m in ms}
assert len(ms) == 4, "%d members" % len(ms)
assert set(by_fp) == set(fp.values()), "fingerprints differ from id --json"
assert [m["fingerprint"] for m in ms if m["me"]] == [fp[me]], "me is not exactly %s" % me
assert by_fp[fp["A"]]["admin"], "the creator is not an admin"
assert all(m["online"] for m in ms if not m["me"]), "not everyone online"
names = sorted(m["name"] for m in ms if not m["me"])
assert names == sorted(p for p in "ABCD" if p != me), "names %s" % names
EOF
}
for p in $ALL; do wait_until 30 "$p's member list complete and online" members_ok "$p"; done
epochs=$(for p in $ALL; do k "$p" circles --json > "$T/$p.circles.json"; cc circle "$T/$p.circles.json" c epoch; done | sort -u)
[ "$(echo "$epochs" | wc -l)" -eq 1 ] || fail "members disagree on the epoch: $epochs"
note "4 members, epoch $epochs"

note "2. $N messages from each member at once"
for p in $ALL; do
    ( for i in $(seq 1 "$N"); do csend "$p" c "$p-$i"; done ) & eval "S_$p=$!"
done
for p in $ALL; do eval "wait \$S_$p" || fail "$p's sends failed"; done
out=$(k A send '#c' "waited" --wait 30) || fail "send --wait failed: $out"
for p in B C D; do
    k "$p" log '#c' --json | grep -q '"text":"waited"' || fail "send --wait returned before $p held it"
done
TOTAL=$(( 4 * N + 1 ))
wait_logs 60 "$TOTAL" c $ALL
for p in $ALL; do for i in $(seq 1 "$N"); do echo "$p-$i"; done; done > "$T/want.txt"
echo waited >> "$T/want.txt"
snap c $ALL
for p in $ALL; do
    r=$(cc exact "$T/$p.log.json" "$T/want.txt") || fail "$p: $r"
    r=$(cc sane "$T/$p.log.json") || fail "$p: $r"
done
r=$(cc same "$T/A.log.json" "$T/B.log.json" "$T/C.log.json" "$T/D.log.json") || fail "$r"
note "$r"
# states_ok P: P's own messages are sent or delivered, everyone else's received.
states_ok() {
    python3 - "$T/$1.log.json" "$1" <<'EOF'
import json, sys
log, me = json.load(open(sys.argv[1])), sys.argv[2]
bad = [m for m in log if m["text"] != "waited" and
       (m["state"] in ("sent", "delivered")) != m["text"].startswith(me + "-")]
assert not bad, "%d entries with a wrong state, first %r" % (len(bad), bad[0])
EOF
}
for p in $ALL; do states_ok "$p" || fail "$p: states"; done
k A log '#c' --json --limit 5 > "$T/A.limit.json" || fail "log --limit 5"
python3 - "$T/A.limit.json" "$T/A.log.json" <<'EOF' || fail "log --limit 5 is not the newest 5, oldest first"
import json, sys
lim, full = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert [m["id"] for m in lim] == [m["id"] for m in full[-5:]], [m["text"] for m in lim]
EOF

note "3. check-in, support, reply"
k B circle checkin c --mood low --with seen,safe --note "long week" >/dev/null || fail "checkin"
k C circle support c --kind listening --note "could use an ear" >/dev/null || fail "support"
rc=0; k B circle checkin c --mood furious >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "checkin accepted an unknown mood"
has_kind() { [ "$(logn "$1" c --kind "$2")" -ge "$3" ]; }
for p in $ALL; do
    wait_until 30 "$p sees the check-in" has_kind "$p" checkin 1
    wait_until 30 "$p sees the support signal" has_kind "$p" support 1
done
SUP=$(k D log '#c' --json | python3 -c '
import json, sys
print([m["id"] for m in json.load(sys.stdin) if m["kind"] == "support"][0])')
rc=0; k D circle reply c "$SUP" nope >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "reply accepted an unknown answer"
k D circle reply c "$SUP" here >/dev/null || fail "reply"
for p in $ALL; do wait_until 30 "$p sees the reply" has_kind "$p" support_reply 1; done
snap c $ALL
python3 - "$T/A.log.json" <<'EOF' || fail "care entries have the wrong senders"
import json, sys
log = json.load(open(sys.argv[1]))
kinds = {m["kind"]: m for m in log if m["kind"] != "text"}
assert kinds["checkin"]["from"] == "B", kinds["checkin"]
assert kinds["support"]["from"] == "C", kinds["support"]
assert kinds["support_reply"]["from"] == "D", kinds["support_reply"]
assert kinds["support_reply"].get("reply_to") == kinds["support"]["id"], kinds["support_reply"]
assert "long week" in kinds["checkin"]["text"], kinds["checkin"]
EOF
r=$(cc same "$T/A.log.json" "$T/B.log.json" "$T/C.log.json" "$T/D.log.json") || fail "after care: $r"

note "4. A removes D"
k A circle remove c D >/dev/null || fail "circle remove c D"
wait_until 30 "D's circle state is removed" eval '[ "$(cstate D c)" = removed ]'
wait_until 30 "A, B and C see 3 members" all_members 3 c A B C
before=$(logn D c)
: > "$T/after.txt"
for p in A B C; do for i in 1 2 3 4 5; do
    csend "$p" c "after-remove-$p-$i"; echo "after-remove-$p-$i" >> "$T/after.txt"
done; done
wait_until 30 "A, B and C hold the 15 sent after removal" all_logn $(( before + 15 )) c A B C
k D send '#c' "from-removed-D" >/dev/null 2>&1 || true
sleep 4 # at least 3 anti-entropy rounds at KITH_SYNC_IVL_MS=1000
snap c A B C D
r=$(cc none "$T/D.log.json" "$T/after.txt") || fail "removed member D: $r"
echo "from-removed-D" > "$T/fromd.txt"
for p in A B C; do r=$(cc none "$T/$p.log.json" "$T/fromd.txt") || fail "$p accepted D's message after removal: $r"; done
r=$(cc same "$T/A.log.json" "$T/B.log.json" "$T/C.log.json") || fail "after removal: $r"

note "5. C leaves"
k C circle leave c >/dev/null || fail "circle leave"
wait_until 30 "C's state is left" eval '[ "$(cstate C c)" = left ]'
wait_until 30 "A and B see 2 members" all_members 2 c A B
echo "circle_basic: ok"
