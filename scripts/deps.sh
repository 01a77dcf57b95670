#!/bin/sh
# Install every Debian package xdp-pong needs to build, test, demo and benchmark.
# Idempotent: installs only what is missing. Must run as root (apt).
set -eu

PKGS="make gcc clang pkg-config libc6-dev linux-libc-dev
libbpf-dev libxdp-dev xdp-tools bpftool
iproute2 iputils-ping iputils-arping fping ndisc6 ethtool tcpdump
python3 python3-scapy gnuplot-nox"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages:$missing; run as root to install them" >&2
    exit 1
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
