#!/bin/bash
# Profile housekeeping end to end: `kith passwd` (old passphrase fails, new one works, refused
# while kith runs), `kith backup` (0600, never overwrites, also through a running engine) and
# `kith restore` into a new home (contacts, boundaries, history back; a wrong passphrase or a
# foreign file writes nothing; an existing profile is never overwritten), `kith wipe`
# (refused while running, leaves nothing behind), and `kith COMMAND --help`.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"

# run_in HOME PASSFILE ARGS...: kith on any directory, output in $T/out and $T/err; sets $RC.
run_in() {
    local home=$1 pass=$2; shift 2
    RC=0
    "$KITH" --home "$home" --passphrase-file "$pass" "$@" >"$T/out" 2>"$T/err" || RC=$?
}
expect_rc() { [ "$RC" -eq "$1" ] || fail "$2: exit $RC, expected $1 (stderr: $(cat "$T/err"))"; }

# --- kith COMMAND --help, for every command the top-level help lists ---
commands=$("$KITH" --help | sed -n 's/^  \([a-z]\+\)\( .*\)\?$/\1/p')
[ "$(echo "$commands" | wc -w)" -ge 20 ] || fail "kith --help lists too few commands: $commands"
for c in $commands tui; do
    RC=0; "$KITH" "$c" --help >"$T/out" 2>"$T/err" || RC=$?
    expect_rc 0 "kith $c --help"
    grep -q "^usage: kith .*$c" "$T/out" || fail "kith $c --help: $(cat "$T/out")"
    [ "$(sed -n 3p "$T/out" | wc -w)" -ge 2 ] || fail "kith $c --help has no description"
    [ ! -s "$T/err" ] || fail "kith $c --help wrote to stderr: $(cat "$T/err")"
done
RC=0; "$KITH" frobnicate --help >"$T/out" 2>"$T/err" || RC=$?
expect_rc 2 "kith frobnicate --help"
note "every command answers --help with its usage and a description"

init A; init B; start A; start B; connect A B
k A send B "hello from A" >/dev/null
k B send A "hello from B" >/dev/null
delivered_both() { exactly delivered A B 1 && exactly delivered B A 1; }
wait_until 30 "both messages delivered" delivered_both
k B boundary set A quiet=22:00-08:00 >/dev/null
k B config set crisis_line "Call Jo on 0100 000 000" >/dev/null
note "two connected profiles with history, a boundary and a personal setting"

# --- passwd refuses while kith runs ---
printf 'a new, longer passphrase\n' > "$T/pass2"
run_in "$T/B" "$T/pass" passwd --new-passphrase-file "$T/pass2"
expect_rc 1 "passwd while running"
grep -q "stop it first" "$T/err" || fail "passwd while running: $(cat "$T/err")"

# --- backup through the running engine, with a relative path ---
(cd "$T" && "$KITH" --home "$T/B" --passphrase-file "$T/pass" backup running.kith >/dev/null) \
    || fail "backup through the running engine failed"
[ "$(stat -c %a "$T/running.kith")" = 600 ] || fail "backup mode is $(stat -c %a "$T/running.kith")"
run_in "$T/B" "$T/pass" backup "$T/running.kith"
expect_rc 1 "backup onto an existing file"
grep -q "never overwrites" "$T/err" || fail "backup overwrite refusal: $(cat "$T/err")"
note "backup works through a running engine, is 0600 and never overwrites"

stop B
k B contacts --json > "$T/B.contacts"
k B log A --json > "$T/B.log"
k B boundary show A > "$T/B.boundary"

# --- passwd round trip ---
printf 'not it\n' > "$T/wrong"
run_in "$T/B" "$T/wrong" passwd --new-passphrase-file "$T/pass2"
expect_rc 1 "passwd with a wrong current passphrase"
run_in "$T/B" "$T/pass" passwd --new-passphrase-file "$T/pass2"
expect_rc 0 "passwd"
run_in "$T/B" "$T/pass" contacts --json
expect_rc 1 "the old passphrase after passwd"
run_in "$T/B" "$T/pass2" contacts --json
expect_rc 0 "the new passphrase after passwd"
cmp -s "$T/out" "$T/B.contacts" || fail "contacts changed across passwd: $(cat "$T/out")"
run_in "$T/B" "$T/pass2" log A --json
cmp -s "$T/out" "$T/B.log" || fail "history changed across passwd: $(cat "$T/out")"
note "passwd: the old passphrase fails, the new one opens the same contacts and history"

# --- backup (engine stopped), restore into a new home ---
run_in "$T/B" "$T/pass2" backup "$T/b.kith"
expect_rc 0 "backup"
# The old backup opens only with the old passphrase; a wrong one writes nothing.
run_in "$T/R1" "$T/pass2" restore "$T/running.kith"
expect_rc 1 "restore with the wrong passphrase"
grep -q "nothing was written" "$T/err" || fail "wrong passphrase message: $(cat "$T/err")"
[ ! -e "$T/R1" ] || fail "a refused restore left $(ls -a "$T/R1")"
mkdir -m 700 "$T/R2"
run_in "$T/R2" "$T/wrong" restore "$T/b.kith"
expect_rc 1 "restore into an existing empty directory with the wrong passphrase"
[ -z "$(ls -A "$T/R2")" ] || fail "a refused restore left files: $(ls -A "$T/R2")"
head -c 4096 /dev/urandom > "$T/noise"
run_in "$T/R3" "$T/pass2" restore "$T/noise"
expect_rc 1 "restore of a file that is not a backup"
[ ! -e "$T/R3" ] || fail "restoring noise left a directory"
note "restore refuses wrong passphrases and foreign files and writes nothing"

"$KITH" --passphrase-file "$T/pass2" restore "$T/b.kith" --home "$T/R2" >/dev/null \
    || fail "restore into a new home failed"
[ "$(stat -c %a "$T/R2/kith.db")" = 600 ] || fail "restored database is not 0600"
run_in "$T/R2" "$T/pass2" contacts --json
cmp -s "$T/out" "$T/B.contacts" || fail "restored contacts differ: $(cat "$T/out")"
run_in "$T/R2" "$T/pass2" log A --json
cmp -s "$T/out" "$T/B.log" || fail "restored history differs: $(cat "$T/out")"
grep -q '"text":"hello from A"' "$T/out" || fail "restored history lacks A's message"
run_in "$T/R2" "$T/pass2" boundary show A
cmp -s "$T/out" "$T/B.boundary" || fail "restored boundary differs: $(cat "$T/out")"
run_in "$T/R2" "$T/pass2" config get crisis_line
grep -q "Call Jo" "$T/out" || fail "restored crisis line: $(cat "$T/out")"
"$KITH" --passphrase-file "$T/pass" restore "$T/running.kith" --home "$T/R2" \
    >/dev/null 2>"$T/err" && fail "restore over an existing profile succeeded"
grep -q "already a profile" "$T/err" || fail "overwrite refusal: $(cat "$T/err")"
run_in "$T/R2" "$T/pass2" contacts --json
cmp -s "$T/out" "$T/B.contacts" || fail "the refused restore changed R2"
note "restore into a new home brings back contacts, boundaries, history and settings"

# --- wipe (A still runs from the start) ---
run_in "$T/A" "$T/pass" wipe --yes
expect_rc 1 "wipe while running"
grep -q "stop it first" "$T/err" || fail "wipe while running: $(cat "$T/err")"
stop A
run_in "$T/A" "$T/pass" wipe </dev/null
[ "$RC" -ne 0 ] || fail "wipe without --yes and without a terminal went ahead"
[ -s "$T/A/kith.db" ] || fail "an unconfirmed wipe removed the database"
run_in "$T/A" "$T/pass" wipe --yes
expect_rc 0 "wipe"
[ ! -e "$T/A" ] || fail "wipe left $(ls -a "$T/A")"
run_in "$T/A" "$T/pass" wipe --yes
expect_rc 1 "wiping a profile that is not there"
mkdir "$T/keep"; cp -r "$T/R2/." "$T/keep/"; echo mine > "$T/keep/notes.txt"
run_in "$T/keep" "$T/pass2" wipe --yes
expect_rc 0 "wipe of a directory with other files"
[ "$(ls -A "$T/keep")" = "notes.txt" ] || fail "wipe touched other files: $(ls -A "$T/keep")"
note "wipe refuses while running, asks first, and leaves nothing of kith behind"
