#!/bin/bash
# kith demo: throwaway profiles, two companions, the client opens showing
# them; a message to one gets its reply on screen; everything is removed on
# exit.
KITH=$1
. "$(dirname "$0")/lib.sh"

export TMPDIR="$T"
session d env KITH_KDF_COST=min TMPDIR="$T" "$KITH" demo
wait_for d "Robin" 60
wait_for d "Sam" 60
keys d M-1
wait_for d "Robin  · online" 60
typed d "hello Robin"; keys d Enter
wait_for d "you hello Robin"
wait_for d "I'm glad you're here" 60
quit d
left=$(find "$T" -mindepth 1 -maxdepth 1 -type d ! -name bin | wc -l) # bin: tests/python.sh
[ "$left" -eq 0 ] || fail "the demo left $left directories behind"
note "the demo answered"
