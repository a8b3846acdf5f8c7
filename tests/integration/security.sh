#!/bin/bash
# At rest and at the door: a wrong passphrase changes nothing, a file that is
# not a kith database is refused and left alone, the database files hold no
# message text or contact name in plaintext, a broken ZAP setup is caught
# by the start-up self-test, and tampered frames are rejected and counted
# while the honest retry still arrives exactly once.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"

sha() { cat "$T/$1"/kith.db* 2>/dev/null | sha256sum; }

# --- wrong passphrase ---
k Quartzwing init --name Quartzwing-Canary-Name --listen 'tcp://127.0.0.1:*' >/dev/null
before=$(sha Quartzwing)
printf 'not the passphrase\n' > "$T/wrong"
if "$KITH" --home "$T/Quartzwing" --passphrase-file "$T/wrong" id 2>"$T/err"; then
    fail "a wrong passphrase opened the profile"
fi
grep -q "passphrase" "$T/err" || fail "no clear passphrase error: $(cat "$T/err")"
[ "$(sha Quartzwing)" = "$before" ] || fail "a wrong passphrase changed the database files"
note "wrong passphrase: refused, files unchanged"

# --- not a kith database ---
mkdir -m 700 "$T/Garbage"
head -c 4096 /dev/urandom > "$T/Garbage/kith.db"
before=$(sha Garbage)
if k Garbage id 2>"$T/err"; then fail "a random file was accepted as a profile"; fi
grep -q "not a kith" "$T/err" || fail "unclear refusal: $(cat "$T/err")"
[ "$(sha Garbage)" = "$before" ] || fail "the foreign file was modified"
printf 'SQLite format 3\000' > "$T/Garbage/kith.db"
if k Garbage id 2>/dev/null; then fail "a damaged SQLite header was accepted"; fi
note "foreign files: refused and untouched"

# --- ZAP self-test ---
init Z
if KITH_TEST_BREAK_ZAP=1 k Z run >"$T/z.out" 2>"$T/z.err"; then
    fail "kith ran although ZAP was not enforced"
fi
grep -q "transport authentication is not active" "$T/z.err" \
    || fail "self-test message missing: $(cat "$T/z.err")"
note "self-test: a missing ZAP handler stops kith from running"

# --- plaintext at rest + tamper ---
k Bramblefox init --name Bramblefox-Canary-Name --listen 'tcp://127.0.0.1:*' >/dev/null
mv "$T/Quartzwing" "$T/Q"; mv "$T/Bramblefox" "$T/R"
start Q
KITH_TEST_TAMPER_EVERY=3 start R
code=$(k Q invite | tail -1)
k R accept "$code" >/dev/null
wait_until 30 "connected" k R contacts --json
wait_until 30 "handshake" active_in R Quartzwing-Canary-Name
wait_until 30 "handshake" active_in Q Bramblefox-Canary-Name
k R boundary set Quartzwing-Canary-Name trust=2 >/dev/null
k Q boundary set Bramblefox-Canary-Name trust=2 >/dev/null
for i in $(seq 1 30); do
    k R send Quartzwing-Canary-Name "canary-message-text-$i" >/dev/null
    k Q send Bramblefox-Canary-Name "other-canary-words-$i" >/dev/null
done
wait_until 120 "delivered despite tampering" exactly delivered R Quartzwing-Canary-Name 30
rejected=$(k Q status --json | sed 's/.*"rejected":\([0-9]*\).*/\1/')
[ "$rejected" -gt 0 ] || fail "tampered frames were not counted as rejected"
k R log Quartzwing-Canary-Name --json > "$T/r.json"
k Q log Bramblefox-Canary-Name --json > "$T/q.json"
python3 "$HERE/oracle.py" "$T/r.json" "$T/q.json" --exact 30 canary-message-text-
note "tamper: $rejected tampered frames rejected, every message delivered once"
stop Q; stop R
for f in "$T"/Q/kith.db* "$T"/R/kith.db*; do
    for word in canary-message-text other-canary-words Quartzwing-Canary Bramblefox-Canary; do
        if grep -a -q "$word" "$f"; then fail "'$word' readable in $f"; fi
    done
done
note "at rest: no message text or contact name readable in the database files"
