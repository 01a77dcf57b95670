#!/bin/sh
# A namespace lab standing for "a NIC on a switch":
#
#   [$P-cli] cli0 --- swc [$P-sw: bridge br0] swp --- pong0 [$P-pong]
#
# The client has 198.51.100.2/24 and 2001:db8:77::2/64, default routes via
# .1 / ::1 (never assigned: xdp-pong answers for them). The responder's
# pong0 has no address. swp carries an XDP_PASS program: a veth delivers
# XDP_TX frames only when its peer has NAPI, which an XDP program enables.
#
# Usage: scripts/lab.sh up|down [PREFIX]   (PREFIX defaults to xpong)
set -eu

cmd=${1:-}
P=${2:-xpong}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PASS_OBJ=${PASS_OBJ:-$ROOT/build/pass.bpf.o}

CLI=$P-cli SW=$P-sw PONG=$P-pong

down() {
    for ns in "$CLI" "$SW" "$PONG"; do
        ip netns del "$ns" 2>/dev/null || true
    done
}

up() {
    if [ ! -f "$PASS_OBJ" ]; then
        echo "lab: $PASS_OBJ missing; run make first" >&2
        exit 1
    fi
    down
    trap 'down' EXIT
    ip netns add "$CLI"
    ip netns add "$SW"
    ip netns add "$PONG"

    ip -n "$SW" link add br0 type bridge
    ip -n "$SW" link set br0 up
    ip -n "$SW" link add swc type veth peer name cli0 netns "$CLI"
    ip -n "$SW" link add swp type veth peer name pong0 netns "$PONG"
    for port in swc swp; do
        ip -n "$SW" link set "$port" master br0
        ip -n "$SW" link set "$port" up
    done
    ip -n "$SW" link set dev swp xdpdrv obj "$PASS_OBJ" sec xdp

    ip -n "$PONG" link set lo up
    # The responder answers in XDP only; its kernel must not answer IPv6 itself.
    ip netns exec "$PONG" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/pong0/disable_ipv6'
    ip -n "$PONG" link set pong0 up

    ip -n "$CLI" link set lo up
    ip -n "$CLI" link set cli0 up
    ip -n "$CLI" addr add 198.51.100.2/24 dev cli0
    ip -n "$CLI" addr add 2001:db8:77::2/64 dev cli0 nodad
    ip -n "$CLI" route add default via 198.51.100.1
    ip -n "$CLI" -6 route add default via 2001:db8:77::1
    trap - EXIT
}

case "$cmd" in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up|down [PREFIX]" >&2; exit 2 ;;
esac
