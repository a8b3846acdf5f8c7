#!/bin/bash
# completion/kith.bash, sourced in bash: commands, global options, a command's options and
# subcommands, config keys, and contact names from the profile named by --home (only when no
# passphrase would have to be typed).
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
. "$HERE/../../completion/kith.bash"

# complete_words WORD...: run the completion for that command line (the last word is the one
# being completed) and leave the candidates, sorted and space-separated, in $GOT.
complete_words() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMPREPLY=()
    set +eu # as in an interactive shell
    _kith
    set -eu
    GOT=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
    GOT=${GOT% }
}
expect_words() {
    local want=$1; shift
    complete_words "$@"
    [ "$GOT" = "$want" ] || fail "completing '$*': got '$GOT', expected '$want'"
}

expect_words "passwd practice" "$KITH" p
expect_words "rename repair restore retention run" "$KITH" r
expect_words "--help --home" "$KITH" --h
expect_words "status" "$KITH" --home /tmp sta
expect_words "--wait" "$KITH" send --wa
expect_words "--help --new-passphrase-file" "$KITH" passwd --
expect_words "--yes" "$KITH" wipe --y
expect_words "clear" "$KITH" boundary cl
expect_words "defensive" "$KITH" practice --partner d
expect_words "crisis_line" "$KITH" config set cr
expect_words "country crisis_line" "$KITH" config get c
note "commands, global options, per-command options and subcommands complete"

# Every command kith's own help lists is completed, and no other.
listed=$("$KITH" --help | sed -n 's/^  \([a-z]\+\)\( .*\)\?$/\1/p' | sort | tr '\n' ' ')
listed="${listed% } tui"
complete_words "$KITH" ""
[ "$(echo "$GOT" | tr ' ' '\n' | sort | tr '\n' ' ')" = "$(echo "$listed" | tr ' ' '\n' | sort |
    tr '\n' ' ')" ] || fail "completion's commands differ from kith --help: '$GOT' vs '$listed'"
note "the completed commands are exactly the ones kith --help lists"

init A; init B
code=$(k A invite | tail -1)
k B accept "$code" --as "Ana Lee" >/dev/null
k B accept "$(k A invite | tail -1)" >/dev/null 2>&1 || true # same person again: refused
init C
k C accept "$(k A invite | tail -1)" --as alex >/dev/null
k C accept "$(k B invite | tail -1)" --as bo >/dev/null
expect_words "Ana Lee" "$KITH" --home "$T/B" --passphrase-file "$T/pass" send ""
expect_words "alex" "$KITH" --home "$T/C" --passphrase-file "$T/pass" log a
expect_words "alex bo" "$KITH" --home="$T/C" --passphrase-file="$T/pass" boundary set ""
expect_words "" "$KITH" --home "$T/C" --passphrase-file "$T/pass" send alex ""
note "contact names come from the profile named by --home"

# Without a passphrase source and no running kith, nothing is asked and nothing is offered.
unset KITH_PASSPHRASE_FILE
expect_words "" "$KITH" --home "$T/C" send ""
start C
online() { k C status --json | grep -q '"online":true'; } # answered by the engine itself
wait_until 20 "C's engine answers" online
expect_words "alex bo" "$KITH" --home "$T/C" verify ""
note "a running kith answers for its profile without a passphrase"
