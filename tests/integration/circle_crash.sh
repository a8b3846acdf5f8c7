#!/bin/bash
# Circle crash points (PROTOCOL-NOTES.md §4.4): a member dies at a named point
# (KITH_CRASH_AT=point:n, exit 137) in the middle of a membership change, a
# key distribution, a circle send, or while carrying a relayed frame; it is
# restarted without the variable, and afterwards every member's log of the
# circle is identical, nothing lost or doubled, and new messages still flow.
# usage: circle_crash.sh /path/to/kith
KITH=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/circle_lib.sh"

# crash_start NAME POINT:N: restart NAME's engine so that it dies at the point.
crash_start() {
    stop "$1"
    KITH_CRASH_AT="$2" start "$1"
}
# died NAME: wait (bounded) until NAME's engine exited at the crash point, then
# restart it normally.
died() {
    reap "$1" 60
    [ "$REAPED" -eq 137 ] || fail "$1 exited with $REAPED, not at its crash point"
    start "$1"
    note "$1 died at its crash point and came back"
}
converge() { # N NAME...: every log holds N entries and all are identical
    local n=$1
    shift
    wait_logs 120 "$n" c "$@"
    snap c "$@"
    local files=()
    for p in "$@"; do files+=("$T/$p.log.json"); done
    cc same "${files[@]}" || fail "logs differ after the crash"
}

init a; init b; init c
for n in cy; do k "$n" init --name "$n" --listen none >/dev/null; done
start a; start b; start c; start cy
k a circle create c >/dev/null
join a c b; wait_until 60 "b in" all_members 2 c a b
join a c c; wait_until 60 "c in" all_members 3 c a b c

# 1. b dies right after applying an op (the ADD of cy), before anything else.
crash_start b epoch.after_apply:1
join a c cy
died b
wait_until 90 "four members" all_members 4 c a b c cy
for p in a b c cy; do csend "$p" c "case1 from $p"; done
converge 4 a b c cy

# 2. a dies in the middle of handing out its new key after removing c.
crash_start a epoch.mid_distribution:2
timeout 10 "$KITH" --home "$T/a" --passphrase-file "$T/pass" circle remove c c >/dev/null 2>&1 || true
died a
# The removal died with a before it committed: nothing of it happened, so it is asked again.
[ "$(nmembers a c)" = 3 ] || k a circle remove c c >/dev/null || fail "a could not remove c"
wait_until 90 "c removed everywhere" all_members 3 c a b cy
for p in a b cy; do csend "$p" c "case2 from $p"; done
converge 7 a b cy
[ "$(logn c c)" -le 4 ] || fail "c, removed, holds messages sent after its removal"

# 3. b dies after committing a circle message, before pushing it anywhere: the
#    others still get it through anti-entropy once b is back.
crash_start b seal.after_commit:1
( timeout 10 "$KITH" --home "$T/b" --passphrase-file "$T/pass" send '#c' "case3 from b" \
      >/dev/null 2>&1 || true )
died b
converge 8 a b cy

# 4. b carries 1:1 frames for cy (who publishes no address) and dies right after
#    storing one; the frame is forwarded after the restart.
crash_start b relay.after_store:1
stop cy
k a send cy "one-to-one for cy through b" >/dev/null
died b
start cy
wait_until 90 "cy got a's 1:1 through b" atleast received cy a 1
wait_until 60 "a's 1:1 delivered" atleast delivered a cy 1
for p in a b cy; do csend "$p" c "after from $p"; done
converge 11 a b cy
note "circle state survived every crash point"
