#!/bin/bash
# A whole repair between two real processes through the CLI (DOMAIN.md §2):
# invite, accept, share, reflect, confirm partly, reflect, confirm yes,
# respond (apology), receive ok, propose, agree, checkout on both sides, with
# `kith repair status --json` checked on both sides after every step. In the
# middle B restarts, then goes offline while A acts; B catches up when back.
# Then a second repair, where both pause at the same moment (and then pause
# vs end): both replicas settle on the same state. A second invite while one
# is open is refused locally with the DOMAIN wording.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"

# field NAME PEER KEY: one string field of `repair status --json`.
field() {
    k "$1" repair status "$2" --json | python3 -c \
        "import json,sys; d=json.load(sys.stdin); v=d.get('$3'); print('' if v is None else v)"
}
# is NAME PEER STATE TURN: the status says so (for wait_until).
is() { [ "$(field "$1" "$2" state)" = "$3" ] && [ "$(field "$1" "$2" turn)" = "$4" ]; }
# both STATE TURN: wait until both replicas say it, and share the repair id and seq.
both() {
    wait_until 30 "A at $1/$2" is A B "$1" "$2"
    wait_until 30 "B at $1/$2" is B A "$1" "$2"
    [ "$(field A B repair_id)" = "$(field B A repair_id)" ] || fail "the repair ids differ"
    [ "$(field A B seq)" = "$(field B A seq)" ] || fail "the replicas differ in seq at $1"
    note "both: $1 ($2's turn)"
}
act() { k "$@" >"$T/act.out" 2>"$T/act.err" || fail "act $* refused: $(cat "$T/act.err")"; }

init A; init B; start A; start B
connect A B
[ "$(field A B state)" = none ] || fail "a repair before any was started"

act A repair act B invite topic='the party on Saturday'
both invited partner
# One open repair per pair: a second invitation is refused here, calmly.
if k A repair act B invite topic='again' 2>"$T/err"; then fail "a second invite was allowed"; fi
grep -q "You already have a conversation open with B" "$T/err" \
    || fail "wrong refusal: $(cat "$T/err")"
# Refusals carry the state machine's reason and exit 1.
set +e; k A repair act B share observation=x feelings=hurt needs=respect 2>"$T/err"; rc=$?; set -e
[ "$rc" -eq 1 ] || fail "a refused step exited $rc"
[ -s "$T/err" ] || fail "a refused step said nothing"

act B repair act A accept
both accepted initiator
act A repair act B share observation='You left the party without telling me.' \
    feelings=hurt,lonely needs=to_be_heard request='Would you be willing to text me next time?'
both shared partner

# B restarts: its replica and the conversation come back from the sealed store.
stop B; start B
[ "$(field B A state)" = shared ] || fail "B lost the repair over a restart"
act B repair act A reflect text='You felt hurt and lonely when I left. Did I get that right?' \
    feeling_guesses=hurt
both reflected initiator
act A repair act B confirm partly addition='And a bit scared that you were upset with me.'
both shared partner

# An offline stretch: B is down while A takes its own turn (confirm yes), then B
# catches up and the conversation goes on.
act B repair act A reflect text='Hurt, lonely, and scared I was upset. Did I get that right?'
both reflected initiator
stop B
act A repair act B confirm yes
[ "$(field A B state)" = understood ] || fail "A's replica did not move while B was away"
start B
both understood partner

act B repair act A respond validation='What makes sense to me is that you were left alone.' \
    apology responsibility='I left without a word.' regret='I wish I had told you.'
both responded initiator
act A repair act B receive ok
both agreeing either
act A repair act B propose text='Text each other before leaving a party.'
wait_until 30 "B sees the proposal" sh -c "[ \"\$(\"$KITH\" --home \"$T/B\" --passphrase-file \
\"$T/pass\" repair status A --json | grep -o '\"agreement_version\":1')\" ]"
act B repair act A agree v=1
both checkout either
act A repair act B checkout rating=4 shared
act B repair act A checkout rating=5
wait_until 30 "A closed" is A B closed none
wait_until 30 "B closed" is B A closed none
[ "$(field A B outcome)" = repaired ] || fail "A's outcome is $(field A B outcome)"
[ "$(field B A outcome)" = repaired ] || fail "B's outcome is $(field B A outcome)"
note "repaired on both sides"

# Keep only the agreement on A; delete B's copy.
k A repair keep B agreement >/dev/null || fail "keep agreement failed"
[ "$(field A B kept)" = agreement ] || fail "A did not keep only the agreement"
k B repair keep A delete >/dev/null || fail "delete my copy failed"
[ "$(field B A state)" = none ] || fail "B's copy is still there"

# Crossing actions: a new repair; both pause at the same moment, then pause vs end.
act B repair act A invite topic='last week'
both invited partner
act A repair act B accept
both accepted initiator
stop A; stop B
k A repair act B pause until=1h >/dev/null || fail "A's pause (offline) refused"
k B repair act A pause until=2h >/dev/null || fail "B's pause (offline) refused"
start A; start B
# Each side first shows its own pause; once the crossing steps have arrived, both agree.
same_pause() {
    [ "$(field A B state)" = paused ] && [ "$(field B A state)" = paused ] &&
        [ "$(field A B paused_by)" = "$(field B A paused_by)" ] &&
        [ "$(field A B seq)" = "$(field B A seq)" ]
}
wait_until 30 "both replicas settle on one pause" same_pause
both paused "$(field A B paused_by)"
note "crossing pauses: both paused by the $(field A B paused_by)"
pauser=$(field A B paused_by)
if [ "$pauser" = partner ]; then P=A; O=B; else P=B; O=A; fi
k "$P" repair act "$O" resume >/dev/null || fail "the pauser could not resume"
both accepted initiator
stop A; stop B
k A repair act B pause >/dev/null || fail "A's second pause refused"
k B repair act A end phrase='Let us stop for today.' >/dev/null || fail "B's end refused"
start A; start B
wait_until 30 "A closed after end" is A B closed none
wait_until 30 "B closed after end" is B A closed none
[ "$(field A B outcome)" = ended ] && [ "$(field B A outcome)" = ended ] \
    || fail "end did not beat pause on both sides"
note "pause vs end: ended on both sides"
echo "ok"
