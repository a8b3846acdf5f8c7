#!/bin/bash
# The command-line contract: exit status 2 and a usage line for bad usage;
# --help and --version; the JSON fields scripts rely on; invite codes; clear
# one-line refusals (exit 1) for expired, garbled and own invites, unknown
# contacts, taken names and a second init; verify and rename.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"

# expect STATUS ARGS...: run kith (profile A) and check the exit status; the
# output is left in $T/out and $T/err.
expect() {
    local want=$1 rc=0; shift
    "$KITH" --home "$T/A" --passphrase-file "$T/pass" "$@" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "kith $*: exit $rc, expected $want (stderr: $(cat "$T/err"))"
}
# one_line: stderr is exactly one line starting with "kith: ".
one_line() {
    if [ "$(wc -l < "$T/err")" -ne 1 ] || ! grep -q '^kith: ' "$T/err"; then
        fail "$1: expected a one-line reason on stderr, got: $(cat "$T/err")"
    fi
}
sha() { cat "$T/$1"/kith.db* | sha256sum; }

init A; init B; init C

# --- bad usage: exit 2 and a usage line on stderr, nothing on stdout ---
for args in "send" "send B" "log" "frobnicate" "--frobnicate" "verify" "rename B" "accept" \
            "invite --ttl soon"; do
    # shellcheck disable=SC2086
    expect 2 $args
    grep -q 'usage: kith' "$T/err" || fail "kith $args: no usage line: $(cat "$T/err")"
    [ ! -s "$T/out" ] || fail "kith $args: wrote to stdout: $(cat "$T/out")"
done
expect 2 --frobnicate
grep -q "unknown option --frobnicate" "$T/err" || fail "unknown option not named: $(cat "$T/err")"
expect 2 frobnicate
grep -q "unknown command 'frobnicate'" "$T/err" || fail "unknown command not named: $(cat "$T/err")"
expect 0 --help
grep -q '^usage: kith' "$T/out" || fail "--help prints no usage on stdout"
expect 0 --version
grep -q '^kith [0-9]\+\.[0-9]\+\.[0-9]\+$' "$T/out" || fail "--version: $(cat "$T/out")"
note "bad usage exits 2 with a usage line; --help and --version exit 0"

# --- id, invite ---
expect 0 id --json
for f in '"name":"A"' '"fingerprint":"[0-9 ]\{35\}"' '"endpoints":\["tcp://127.0.0.1:[0-9]\+"\]'; do
    grep -q "$f" "$T/out" || fail "id --json lacks $f: $(cat "$T/out")"
done
code=$(k A invite | tail -1)
case "$code" in kith1-*) ;; *) fail "invite | tail -1 is not a code: $code" ;; esac
note "id --json has name, fingerprint, endpoints; invite | tail -1 is a kith1- code"

# --- refused invites: exit 1, one line on stderr, nothing added ---
expect 1 accept "$code"
one_line "accepting your own invite"
expect 0 contacts --json
[ "$(cat "$T/out")" = "[]" ] || fail "own invite added a contact: $(cat "$T/out")"
for bad in "kith1-garbage" "${code%??????}aaaaaa" "${code:0:40}" "not-a-code"; do
    rc=0; k B accept "$bad" >/dev/null 2>"$T/err" || rc=$?
    [ "$rc" -eq 1 ] || fail "a garbled code gave exit $rc: $bad"
    one_line "a garbled code"
done
short=$(k A invite --ttl 1 | tail -1)
sleep 2
rc=0; k B accept "$short" >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "an expired code gave exit $rc"
one_line "an expired code"
grep -q "expired" "$T/err" || fail "expiry not named: $(cat "$T/err")"
[ "$(k B contacts --json)" = "[]" ] || fail "a refused code added a contact"
note "own, garbled and expired invites exit 1 with a one-line reason"

# --- contacts, verify, rename ---
k B accept "$code" --as A >/dev/null || fail "accepting a good code failed"
k B accept "$(k C invite | tail -1)" --as C >/dev/null || fail "accepting C's code failed"
k B contacts --json > "$T/c.json"
for f in '"name":"A"' '"fingerprint":"[0-9 ]\{35\}"' '"online":false' '"verified":false' \
         '"trust":[0-9]\+'; do
    grep -q "{$f\|,$f" "$T/c.json" || fail "contacts --json lacks $f: $(cat "$T/c.json")"
done
k B verify A --yes >/dev/null || fail "verify --yes failed"
k B contacts --json | grep -q '"name":"A"[^}]*"verified":true' || fail "verify did not stick"
k B contacts --json | grep -q '"name":"C"[^}]*"verified":false' || fail "verify touched C"
k B rename A Alex >/dev/null || fail "rename failed"
k B contacts --json | grep -q '"name":"Alex"[^}]*"verified":true' || fail "rename lost the contact"
k B contacts --json | grep -q '"name":"A"' && fail "the old name is still there"
rc=0; k B rename Alex C >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "renaming to a taken name gave exit $rc"
one_line "a taken name"
k B contacts --json | grep -q '"name":"Alex"' || fail "a refused rename changed the name"
[ "$(k B contacts --json | grep -o '"name":"C"' | wc -l)" -eq 1 ] || fail "two contacts called C"
rc=0; k B log Nobody >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "log of an unknown contact gave exit $rc"
one_line "log of an unknown contact"
note "contacts --json fields, verify --yes, rename and a taken name, log of an unknown contact"

# --- init twice ---
before=$(sha A); id_before=$(k A id --json)
rc=0; k A init --name Other --listen 'tcp://127.0.0.1:*' >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "a second init gave exit $rc"
one_line "a second init"
[ "$(sha A)" = "$before" ] || fail "a second init changed the database files"
[ "$(k A id --json)" = "$id_before" ] || fail "a second init changed the identity"
note "init twice refuses and changes nothing"

# --- options after the command are checked too ---
for args in "contacts --bogus" "log B --bogus" "invite --ttl" "id --jsonx" "send B --wait"; do
    rc=0; k A $args >/dev/null 2>"$T/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "'kith $args' gave exit $rc, not 2"
    one_line "kith $args"
done
rc=0; k A log B --limit=3 --json >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 2 ] || fail "--limit=3 was refused as usage"
note "unknown or incomplete options after a command are usage errors"
