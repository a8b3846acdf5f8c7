# Time moved with Debian's libfaketime (package faketime): start_at NAME 'YYYY-MM-DD HH:MM:SS'
# runs NAME's engine with its wall clock starting at that UTC time and then running normally
# (the monotonic clock stays real, so libzmq's timers are untouched). Skips (77) without it.
FAKETIME_LIB=""
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
    [ -e "$f" ] && FAKETIME_LIB=$f && break
done
[ -n "$FAKETIME_LIB" ] || { echo "# libfaketime not installed (apt install faketime): skip"; exit 77; }

start_at() {
    local n=$1 at=$2
    ( export LD_PRELOAD="$FAKETIME_LIB" FAKETIME="@$at" FAKETIME_DONT_FAKE_MONOTONIC=1 TZ=UTC
      exec "$KITH" --home "$T/$n" --passphrase-file "$T/pass" run >>"$T/$n.out" 2>>"$T/$n.err" ) &
    eval "PID_$n=$!"
    PIDS="$PIDS $!"
    wait_until 20 "engine $n up" up "$n"
}
