#!/bin/sh
# Install every Debian package xdp-pong needs to build, test, demo and benchmark.
# Idempotent: installs only what is missing. Must run as root (apt).
set -eu

PKGS="make gcc clang pkg-config libc6-dev linux-libc-dev libmicrohttpd-dev
libbpf-dev libxdp-dev xdp-tools bpftool
iproute2 iputils-ping iputils-arping fping ndisc6 ethtool tcpdump
python3 python3-scapy gnuplot-nox prometheus systemd man-db cppcheck clang-tidy"

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
# Packages with services (prometheus) must not start them here: the tests
# start their own Prometheus on loopback. policy-rc.d says "not now".
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    made_policy=1
fi
trap '[ -n "$made_policy" ] && rm -f "$policy"' EXIT
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
