#!/bin/bash
# Two profiles, each in its own client: a message each way, each screen
# shows both, with the sender's message reaching "delivered"; the sidebar
# shows an unread dot, never a number.
KITH=$1
. "$(dirname "$0")/lib.sh"

init ana; init ben; pair ana ben
client a ana
client b ben
wait_for a "ben"
wait_for b "ana"
keys a M-1
wait_for a "Nothing here yet"
wait_for b "ana  · online" 30
wait_for a "ben  · online" 30
typed a "hello from ana, wide 猫 and é"; keys a Enter
wait_for b "hello from ana, wide 猫 and é"
wait_for a "delivered"
typed b "hi ana, from ben"; keys b Enter
wait_for a "hi ana, from ben"
wait_for b "hello from ana"
# a second conversation: an unread dot, not a count
init cai; pair ana cai
headless cai
wait_for a "● cai" 30
k cai send ana "a note from cai" >/dev/null
wait_for a "•" 30
if pane a | grep -o 'cai[^│]*' | grep -q '[0-9]'; then fail "the sidebar counts unread"; fi
keys a C-n
wait_for a "a note from cai" 30
quit a; quit b
note "both screens showed the exchange"
