#!/bin/bash
# `kith practice --script` (DOMAIN.md §2.6): each partner walked to the end from
# a JSON-lines file, one answer line per step; the same seed gives the same
# output twice; each temperament shows its own character; nothing needs a
# profile, and --save without one says so kindly.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
export KITH_HOME="$T/nobody" # no profile here: practice must not need one

# walk PARTNER: run its script with seed 7 into $T/PARTNER.out.
walk() {
    "$KITH" practice --script --seed 7 --partner "$1" <"$HERE/practice/$1.jsonl" >"$T/$1.out" \
        || fail "practice --script --partner $1 failed"
    [ "$(wc -l <"$T/$1.out")" -eq "$(wc -l <"$HERE/practice/$1.jsonl")" ] \
        || fail "$1: not one answer line per step"
    ! grep -q '"error"' "$T/$1.out" || fail "$1: a step was refused: $(grep '"error"' "$T/$1.out")"
    tail -1 "$T/$1.out" | grep -q '"state":"closed".*"done":true' || fail "$1 did not reach the end"
    tail -1 "$T/$1.out" | grep -q '"feedback":"What went well' || fail "$1: no closing feedback"
    tail -1 "$T/$1.out" | grep -q 'Try again with a different partner' || fail "$1: no invitation"
    "$KITH" practice --script --seed 7 --partner "$1" <"$HERE/practice/$1.jsonl" >"$T/$1.again"
    cmp -s "$T/$1.out" "$T/$1.again" || fail "$1: the same seed gave different output"
    note "$1: walked to the end, deterministic"
}
for p in receptive defensive withdrawn; do walk "$p"; done
[ ! -e "$T/nobody" ] || fail "practice created a profile"

# Each temperament answers in its own way (the table of DOMAIN.md §2.6).
grep -q "I'm glad you asked" "$T/receptive.out" || fail "receptive: wrong invite answer"
grep -q "what is it this time" "$T/defensive.out" || fail "defensive: wrong invite answer"
grep -q "So you're saying I'm the problem" "$T/defensive.out" || fail "defensive: no guarded reflect"
grep -q '"partner_event":"counter"' "$T/defensive.out" || fail "defensive: no smaller counter-offer"
grep -q "Can we do this later" "$T/withdrawn.out" || fail "withdrawn: did not ask for later"
grep -q "I felt blamed and I froze" "$T/withdrawn.out" || fail "withdrawn: the check-in did not open it"
# The coach flags "always" (and never blocks: the step still went through).
sed -n 2p "$T/defensive.out" | grep -q '"rule":"absolutes"' || fail "the coach missed 'always'"

# A different seed may phrase things differently, but still reaches the end.
"$KITH" practice --script --seed 8 <"$HERE/practice/receptive.jsonl" | tail -1 \
    | grep -q '"done":true' || fail "seed 8 did not reach the end"

# Bad lines get a JSON error line and the session goes on.
printf '%s\n' 'not json' '{"event":"share"}' '{"event":"invite"}' \
    | "$KITH" practice --script --seed 7 >"$T/bad.out" || fail "practice exited on a bad line"
[ "$(wc -l <"$T/bad.out")" -eq 3 ] || fail "bad lines: not one answer each"
sed -n 1p "$T/bad.out" | grep -q '"error"' || fail "malformed JSON was not refused"
sed -n 2p "$T/bad.out" | grep -q '"error"' || fail "an out-of-turn step was not refused"
sed -n 3p "$T/bad.out" | grep -q '"state":"accepted"' || fail "the session did not go on"

# --save needs a profile: said kindly, nothing else happens.
if "$KITH" practice --script --save </dev/null 2>"$T/save.err"; then fail "--save without a profile"; fi
grep -q "no profile" "$T/save.err" || fail "--save without a profile: $(cat "$T/save.err")"
# With a profile, the transcript is kept sealed (never in plaintext on disk).
init P
KITH_HOME="$T/P" KITH_PASSPHRASE_FILE="$T/pass" "$KITH" practice --script --seed 7 --save \
    <"$HERE/practice/receptive.jsonl" >/dev/null 2>"$T/saved.err" || fail "--save failed"
grep -q "kept, sealed" "$T/saved.err" || fail "--save did not confirm"
! grep -rqa "without telling me" "$T/P" || fail "the practice transcript is readable on disk"
echo "ok"
