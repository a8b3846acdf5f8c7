#!/bin/bash
# block: the blocked contact cannot connect at all (ZAP refuses its key, silently), its
# messages stay "queued"/"sent" and never "delivered", and nothing of it appears in the blocker's log.
# Lifting the block lets the same messages through.
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"

init A; init B; start A; start B; connect A B
k A send B 'before' >/dev/null
wait_until 30 "first delivered" exactly delivered A B 1
k B boundary set A block >/dev/null
note "restart A so it must connect again"
stop A; start A
k A send B 'while blocked' >/dev/null
online() { k A contacts --json | grep -q "\"name\":\"B\"[^}]*\"online\":true"; }
sleep 5
! online || fail "A reached B while blocked"
[ "$(count delivered A B)" -eq 1 ] || fail "delivered while blocked"
# It stays queued (no path at all) or sent, never delivered.
[ $(( $(count sent A B) + $(count queued A B) )) -eq 1 ] ||
    fail "expected the message to wait: $(k A log B --json)"
k B log A --json | grep -q 'while blocked' && fail "the blocker's log shows it"
[ "$(k B log A --json | grep -o '"id"' | wc -l)" -eq 1 ] || fail "blocker stored something"
grep -qi 'block' "$T/A.out" "$T/A.err" && fail "the sender was told about a block"
k B boundary clear A block >/dev/null
wait_until 120 "delivered after the block is lifted" exactly delivered A B 2
note "ok"
