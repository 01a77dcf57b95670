#!/bin/sh
# make demo: xdp-pong in the namespace lab (scripts/lab/lab.py), answering
# real clients for addresses that are assigned nowhere. Needs root and a
# build (make all). The lab's namespaces are removed however it ends.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
P=xpdemo$$
XP="$ROOT/build/xdp-pong"
LAB="$ROOT/scripts/lab/lab.py"

cleanup() { /usr/bin/python3 "$LAB" down "$P"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

run() {   # show a command as a user would type it, then run it in the client
    printf '\n$ %s\n' "$*"
    ip netns exec "$P-cli" "$@" || true
}

/usr/bin/python3 "$LAB" up "$P"
cat <<EOT
Lab: client 198.51.100.2/24 (default via 198.51.100.1) and 2001:db8:77::2/64
(default via 2001:db8:77::1) --- bridge --- pong0. pong0 has no address.
None of the addresses pinged below is assigned anywhere in the lab:
xdp-pong answers for all of them.

EOT
printf '$ xdp-pong attach pong0\n'
ip netns exec "$P-pong" "$XP" attach pong0

echo; echo "# same subnet: the client's ARP for .50 is answered by xdp-pong across the bridge"
run ping -c 3 -i 0.2 198.51.100.50
echo; echo "# another network, via the default gateway 198.51.100.1 (also answered by xdp-pong)"
run ping -c 3 -i 0.2 203.0.113.9
run arping -c 2 -I cli0 198.51.100.60
run fping -a -g 198.51.100.100 198.51.100.104
echo; echo "# duplicate-address probe (sender 0.0.0.0): xdp-pong stays silent, the address is free"
run arping -D -c 2 -w 3 -I cli0 198.51.100.70

echo; echo "# IPv6: the client's neighbour solicitation is answered by xdp-pong"
run ping -6 -c 3 -i 0.2 2001:db8:77::50
run ping -6 -c 3 -i 0.2 2001:db8:99::9
run ndisc6 -r 1 2001:db8:77::1234 cli0
echo; echo "# a new address with duplicate-address detection: xdp-pong stays silent, DAD succeeds"
printf '\n$ ip addr add 2001:db8:77::99/64 dev cli0; sleep 2; ip -6 addr show dev cli0 to 2001:db8:77::99\n'
ip netns exec "$P-cli" ip addr add 2001:db8:77::99/64 dev cli0
sleep 2
ip netns exec "$P-cli" ip -6 addr show dev cli0 to 2001:db8:77::99/128

printf '\n$ xdp-pong status\n'
ip netns exec "$P-pong" "$XP" status
printf '\n$ xdp-pong stats\n'
ip netns exec "$P-pong" "$XP" stats
printf '\n$ xdp-pong detach pong0\n'
ip netns exec "$P-pong" "$XP" detach pong0
echo; echo "# detached: the same address goes quiet"
run ping -c 2 -W 1 198.51.100.50
