#!/bin/bash
# Join and removal secrecy in a circle on 127.0.0.1 (anti-entropy every second).
#  Join: A, B and R hold 20 messages; then N joins. N's log never shows any of
#    the 20 (not even after several sync rounds with members who hold them),
#    only what was sent after it joined, and only under a later epoch. Once all
#    is quiet, no engine's rejected counter keeps rising (3 s).
#  Removal: A removes R while R keeps running and stays everyone's contact.
#    Messages sent afterwards by A, B and N never appear in R's log (its log
#    does not grow at all), and a message R sends after removal reaches nobody.
#    R's `status --json` rejected counter is printed: frames R could not open.
#    Then R is brought back from a backup made before its removal (so it still
#    holds that epoch's keys and believes it is a member) and syncs for several
#    rounds: it still reads none of the later messages.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"; . "$HERE/circle_lib.sh"

for p in A B R N; do init "$p"; done
for p in A B R N; do start "$p"; done
k A circle create c >/dev/null || fail "circle create"
join A c B; join A c R
wait_until 60 "A, B and R see 3 members" all_members 3 c A B R

note "join secrecy: 20 messages before N joins"
: > "$T/pre.txt"
for i in $(seq 1 10); do
    for p in A B; do csend "$p" c "pre-$p-$i"; echo "pre-$p-$i" >> "$T/pre.txt"; done
done
wait_logs 30 20 c A B R
snap c A
EPOCH_PRE=$(python3 -c 'import json,sys; print(max(m["epoch"] for m in json.load(open(sys.argv[1]))))' "$T/A.log.json")
join A c N
wait_until 60 "A, B, R and N see 4 members" all_members 4 c A B R N
: > "$T/post.txt"
for i in $(seq 1 5); do
    for p in A B; do csend "$p" c "post-join-$p-$i"; echo "post-join-$p-$i" >> "$T/post.txt"; done
done
wait_logs 30 10 c N
sleep 4 # at least 3 anti-entropy rounds with A, B and R, who hold the 20
snap c N
r=$(cc none "$T/N.log.json" "$T/pre.txt") || fail "joiner N: $r"
r=$(cc exact "$T/N.log.json" "$T/post.txt") || fail "joiner N: $r"
python3 - "$T/N.log.json" "$EPOCH_PRE" <<'EOF' || fail "N holds entries of the epoch before it joined"
import json, sys
log, pre = json.load(open(sys.argv[1])), int(sys.argv[2])
old = [m for m in log if int(m["epoch"]) <= pre]
assert not old, "%d entries of epoch <= %d, first %r" % (len(old), pre, old[0])
EOF
note "N holds only the 10 sent after it joined (epochs > $EPOCH_PRE)"
# A quiet circle rejects nothing over and over: a frame someone keeps
# forwarding although its recipient cannot open it shows up here.
rejected_of() { k "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("rejected", 0))'; }
for p in A B R N; do eval "Q0_$p=$(rejected_of "$p")"; done
sleep 3
for p in A B R N; do
    eval "q0=\$Q0_$p"; q1=$(rejected_of "$p")
    [ $(( q1 - q0 )) -le 1 ] || fail "$p's engine keeps rejecting frames in a quiet circle: rejected $q0 -> $q1 in 3 s"
done

note "removal secrecy: A removes R"
rejected() { k R status --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("rejected", "n/a"))'; }
REJ_BEFORE=$(rejected)
k R backup "$T/r.bak" >/dev/null || fail "R could not make a backup"
k A circle remove c R >/dev/null || fail "circle remove c R"
wait_until 30 "R's state is removed" eval '[ "$(cstate R c)" = removed ]'
wait_until 30 "A, B and N see 3 members" all_members 3 c A B N
R_BEFORE=$(logn R c)
: > "$T/after.txt"
for i in $(seq 1 5); do
    for p in A B N; do csend "$p" c "after-remove-$p-$i"; echo "after-remove-$p-$i" >> "$T/after.txt"; done
done
k R send '#c' "from-removed-R" >/dev/null 2>&1 || true
N_AFTER=$(( 10 + 15 ))
wait_logs 30 "$N_AFTER" c N
sleep 4 # at least 3 anti-entropy rounds
snap c A B N R
r=$(cc none "$T/R.log.json" "$T/after.txt") || fail "removed R: $r"
[ "$(cc count "$T/R.log.json")" -eq "$R_BEFORE" ] || fail "R's log grew after its removal: $R_BEFORE -> $(cc count "$T/R.log.json")"
echo "from-removed-R" > "$T/fromr.txt"
for p in A B N; do
    r=$(cc none "$T/$p.log.json" "$T/fromr.txt") || fail "$p took R's message after removal: $r"
    r=$(cc exact "$T/$p.log.json" "$T/after.txt" --prefix after-remove-) || fail "$p: $r"
done
r=$(cc same "$T/A.log.json" "$T/B.log.json") || fail "$r"
note "R's log unchanged ($R_BEFORE entries); rejected counter $REJ_BEFORE -> $(rejected)"

note "R tries again from a backup made before its removal (it still holds that epoch's keys)"
stop R
"$KITH" --passphrase-file "$T/pass" restore "$T/r.bak" --home "$T/R2" >/dev/null || fail "restore"
start R2
REJ2_BEFORE=$(k R2 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("rejected", "n/a"))')
csend A c "after-restore-A"; echo "after-restore-A" >> "$T/after.txt"
wait_logs 30 $(( N_AFTER + 1 )) c N
sleep 5 # R2 syncs with A, B and N for several rounds
snap c R2 A
r=$(cc none "$T/R2.log.json" "$T/after.txt") || fail "R restored from before its removal: $r"
r=$(cc none "$T/A.log.json" "$T/fromr.txt") || fail "A took R's message after removal: $r"
note "R2 (R's keys from before removal) read none of the $(wc -l < "$T/after.txt") later messages;" \
    "state $(cstate R2 c); rejected $REJ2_BEFORE -> $(k R2 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("rejected", "n/a"))')"
echo "circle_secrecy: ok"
