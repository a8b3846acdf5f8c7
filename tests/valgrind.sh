#!/bin/bash
# Valgrind on scripted sessions of the real binary: the tmux exchange (two
# clients), a short two-peer command-line exchange and a three-member circle
# whose two unreachable members talk through the third. Any memcheck error or
# definite leak in any kith process fails the run.
# usage: tests/valgrind.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
logs=$(mktemp -d "${TMPDIR:-/tmp}/kith-vg-XXXXXX")
trap 'rm -rf "$logs"' EXIT
cat > "$logs/kith" <<WRAP
#!/bin/bash
exec valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite --log-file="$logs/vg.%p" "$build/kith" "\$@"
WRAP
chmod +x "$logs/kith"
bash "$here/tui/exchange.sh" "$logs/kith"
KITH_TEST_N=10 bash "$here/integration/exchange.sh" "$logs/kith"
# Circles: introductions, sender keys, circle frames, anti-entropy and 1:1 relaying.
KITH_TEST_N=3 bash "$here/integration/circle_relay.sh" "$logs/kith"
bad=0
for f in "$logs"/vg.*; do
    if [ -s "$f" ]; then echo "== $f"; cat "$f"; bad=1; fi
done
echo "valgrind: $(ls "$logs"/vg.* | wc -l) kith processes checked"
exit $bad
