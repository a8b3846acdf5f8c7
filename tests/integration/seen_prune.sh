#!/bin/bash
# The ids of received frames are kept 21 days for duplicate detection (proto/PROTOCOL.md §7:
# the expiry horizon plus 7 days), then forgotten: metadata at rest that nothing needs any
# more. The message itself stays in the history. Time is moved with libfaketime (skips
# without it).
KITH=$1; HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"; . "$HERE/faketime.sh"

# seen NAME ID: is ID in NAME's table of ids seen? (read from the database file)
seen() {
    python3 - "$(db_copy "$1")" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])  # a copy: db_copy
row = db.execute("SELECT count(*) FROM seen WHERE hex(msg_id) = upper(?)", (sys.argv[2],)).fetchone()
sys.exit(0 if row[0] > 0 else 1)
EOF
}

init A; init B; start A; start B; connect A B
id=$(k A send B "an old message")
wait_until 20 "delivered" eval '[ "$(k A msgstate '"$id"')" = delivered ]'
seen B "$id" || fail "the receiver did not record the id of the message it took"
stop B
start_at B "$(date -u -d '+20 days' '+%Y-%m-%d %H:%M:%S')"
sleep 1
seen B "$id" || fail "the id was forgotten before 21 days"
stop B
start_at B "$(date -u -d '+22 days' '+%Y-%m-%d %H:%M:%S')"
wait_until 20 "the id is forgotten" eval '! seen B '"$id"
k B log A --json | grep -q '"text":"an old message"' || fail "the message went with its id"
note "an id seen is kept 21 days, then forgotten; the message stays"
