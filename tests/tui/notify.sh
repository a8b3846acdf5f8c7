#!/bin/bash
# Notifications that respect boundaries (issue 7, item 6): the client's raw output is piped
# to a file and its BEL bytes counted. A shown message rings the bell once; a muted, held or
# folded one does not (a held one rings when its hold ends and it is shown); `config set
# notify off` silences it from the next message; `notify desktop` runs notify-send (a fake on
# PATH that records its arguments) with "kith: a new message" and nothing of the message.
KITH=$1
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/bin"
cat > "$T/bin/notify-send" <<EOF
#!/bin/sh
printf '%s|' "\$@" >> "$T/desktop.log"
echo >> "$T/desktop.log"
EOF
chmod 700 "$T/bin/notify-send"

init ana; init ben; pair ana ben
headless ben
session a env PATH="$T/bin:$PATH" KITH_KDF_COST=min "$KITH" --home "$T/ana" \
    --passphrase-file "$T/pass"
wait_for a "ben"
keys a M-1
wait_for a "ben  · online" 30
k ana boundary set ben trust=2 >/dev/null
tx pipe-pane -o -t a "cat >> $T/a.raw"
sleep 0.5

bells() { tr -cd '\007' < "$T/a.raw" | wc -c; }
at_least_bells() { [ "$(bells)" -ge "$1" ]; }
# no_more_bells N: after a moment to make one, still exactly N.
no_more_bells() { sleep 1; [ "$(bells)" -eq "$1" ] || fail "$2: $(bells) bells, expected $1"; }
pace() { sleep 2.2; } # NOTIFY_BELL_GAP_MS

[ "$(bells)" -eq 0 ] || fail "the client rang before any message"
k ben send ana "first, shown" >/dev/null
wait_for a "first, shown" 30
wait_until_bells() {
    local end=$(( $(date +%s) + 10 ))
    until at_least_bells "$1"; do
        [ "$(date +%s)" -lt "$end" ] || fail "no bell for: $2"
        sleep 0.1
    done
}
wait_until_bells 1 "a shown message"
no_more_bells 1 "one message, one bell"
note "a shown message rings once"

pace
k ana boundary set ben mute=8h >/dev/null
k ben send ana "second, muted" >/dev/null
wait_for a "second, muted" 30
no_more_bells 1 "a muted contact's message"
k ana boundary clear ben mute >/dev/null
note "a muted contact's message is shown silently"

pace
k ana boundary set ben notes=+storm >/dev/null
k ben send ana "third: storm coming" >/dev/null
wait_until_folded() { k ana log ben --json | grep -q '"state":"folded"'; }
end=$(( $(date +%s) + 30 ))
until wait_until_folded; do
    [ "$(date +%s)" -lt "$end" ] || fail "the message was not folded"
    sleep 0.1
done
no_more_bells 1 "a folded message"
k ana boundary clear ben notes >/dev/null
note "a folded message makes no sound"

pace
k ana boundary set ben snooze=until=2099-01-01T09:00 >/dev/null
k ben send ana "fourth, held" >/dev/null
wait_for a "held until" 30
no_more_bells 1 "a held message"
k ana boundary clear ben snooze >/dev/null
wait_for a "fourth, held" 30
wait_until_bells 2 "a held message shown when its hold ended"
note "a held message is silent until it is shown"

pace
k ana config set notify off >/dev/null
k ben send ana "fifth, notify off" >/dev/null
wait_for a "fifth, notify off" 30
no_more_bells 2 "notify off"
[ ! -e "$T/desktop.log" ] || fail "notify-send ran for a bell setting"

pace
k ana config set notify desktop >/dev/null
k ben send ana "sixth, secret words" >/dev/null
wait_for a "sixth, secret words" 30
end=$(( $(date +%s) + 10 ))
until [ -s "$T/desktop.log" ]; do
    [ "$(date +%s)" -lt "$end" ] || fail "notify-send never ran"
    sleep 0.1
done
[ "$(cat "$T/desktop.log")" = "--app-name=kith|kith: a new message|" ] ||
    fail "notify-send got: $(cat "$T/desktop.log")"
no_more_bells 2 "notify desktop (no bell)"
note "off is silent; desktop runs notify-send with no content and no name"
quit a
