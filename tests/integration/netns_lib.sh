# Network namespaces for mesh tests: each profile lives in a namespace the test
# creates, and every kith command for it runs there (`ip netns exec`). Source
# after lib.sh. Exits 77 (skip) when namespaces cannot be made. Everything made
# here (namespaces, veths, the processes inside) is removed on any exit.
#   ns_add X            namespace kith-$$-X with lo up
#   ns_link X Y IFX IFY veth pair X<->Y (interface names: ifname X Y)
#   ns_addr X IF CIDR   address on an interface in X
#   ns_init NAME X ADDR profile NAME in namespace X listening on tcp://ADDR:*
# Redefines k and start from lib.sh so that they run inside the namespace.

command -v ip >/dev/null 2>&1 || { echo "SKIP: iproute2 (ip) is not installed"; exit 77; }
NS_PREFIX="kith-$$"
NS_MADE=""
NS_ERR="$T/netns.err"

ns_skip() {
    echo "SKIP: cannot create network namespaces here ($1): needs root or CAP_NET_ADMIN"
    exit 77
}

ns_cleanup() {
    local ns p
    # lib.sh's cleanup: TERM every engine we started, wait, remove the profiles
    # (circle_lib.sh's keep_logs first copies them when KITH_TEST_KEEP is set).
    keep_logs
    cleanup
    for ns in $NS_MADE; do
        # Anything still inside a namespace we made was started by this test.
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true # takes its veth ends (and their peers) along
    done
}
trap ns_cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

ns_name() { echo "$NS_PREFIX-$1"; }

ns_add() {
    local ns
    ns=$(ns_name "$1")
    ip netns add "$ns" 2>"$NS_ERR" || ns_skip "ip netns add: $(head -1 "$NS_ERR")"
    NS_MADE="$NS_MADE $ns"
    ip -n "$ns" link set lo up || fail "lo up in $ns"
    # A new namespace may inherit forwarding from the host: switch it off explicitly.
    ip netns exec "$ns" sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward' || fail "forwarding off in $ns"
}

# ifname X Y: the name of X's end of the X<->Y veth (unique to this test, < 16 chars).
ifname() { echo "k$$$1$2"; }

ns_link() {
    local a=$1 b=$2
    ip link add "$(ifname "$a" "$b")" netns "$(ns_name "$a")" type veth \
        peer name "$(ifname "$b" "$a")" netns "$(ns_name "$b")" 2>"$NS_ERR" \
        || ns_skip "veth: $(head -1 "$NS_ERR")"
    ip -n "$(ns_name "$a")" link set "$(ifname "$a" "$b")" up || fail "link up"
    ip -n "$(ns_name "$b")" link set "$(ifname "$b" "$a")" up || fail "link up"
}

ns_addr() { ip -n "$(ns_name "$1")" addr add "$3" dev "$2" || fail "addr $3 in $1"; }
ns_route() { ip -n "$(ns_name "$1")" route add "$2" via "$3" || fail "route $2 in $1"; }
# link_set X Y up|down: both ends of the X<->Y veth.
link_set() {
    ip -n "$(ns_name "$1")" link set "$(ifname "$1" "$2")" "$3" || fail "link $1-$2 $3"
    ip -n "$(ns_name "$2")" link set "$(ifname "$2" "$1")" "$3" || fail "link $2-$1 $3"
}
# unreachable X ADDR: X has no route to ADDR.
unreachable() { ! ip -n "$(ns_name "$1")" route get "$2" >/dev/null 2>&1; }

ns_of() { eval "echo \${NSOF_$1:-}"; }

# k NAME ARGS...: kith on profile NAME, inside NAME's namespace (when it has one).
k() {
    local n=$1 ns
    shift
    ns=$(ns_of "$n")
    if [ -n "$ns" ]; then
        ip netns exec "$ns" "$KITH" --home "$T/$n" --passphrase-file "$T/pass" "$@"
    else
        "$KITH" --home "$T/$n" --passphrase-file "$T/pass" "$@"
    fi
}

# ns_init NAME X ADDR: profile NAME inside namespace X, listening on ADDR.
ns_init() {
    eval "NSOF_$1=$(ns_name "$2")"
    k "$1" init --name "$1" --listen "tcp://$3:*" >/dev/null || fail "init $1"
}

# start NAME: `kith run` inside NAME's namespace ($! is kith itself: ip netns exec execs it).
start() {
    local n=$1
    ip netns exec "$(ns_of "$n")" "$KITH" --home "$T/$n" --passphrase-file "$T/pass" run \
        >>"$T/$n.out" 2>>"$T/$n.err" &
    eval "PID_$n=$!"
    PIDS="$PIDS $!"
    wait_until 20 "engine $n up" running "$n"
}
