#!/bin/sh
# The Debian packages xdp-pong needs, by what you want to do with it:
#
#   scripts/deps.sh [--check | --list] PROFILE...
#
#   build   compile build/xdp-pong and its BPF objects      (make)
#   demo    build + the clients of the namespace lab        (make demo)
#   check   demo + what the tests use                       (make check)
#   bench   build + what the benchmark uses                 (make bench)
#   deb     what builds the Debian package in a clean root  (make deb)
#
# Installs only what is missing (as root, without recommends). With --check,
# installs nothing: lists what is missing and exits 1 if anything is. With
# --list, prints the profiles' packages, one a line.
#
# Nothing it installs is enabled or started: none of these packages ships a
# service, but util-linux (required: on every Debian system already) and
# systemd (the init system of every booted Debian; needed here for
# systemd-analyze). The tests run a real Prometheus server, and Debian's `prometheus`
# package would enable one at boot (listening on :9090, without
# authentication); so the check profile does not install it, but unpacks its
# two programs (prometheus, promtool) from the package file into
# build/tools/, where only the tests use them. The container test needs
# podman, whose package enables podman-restart.service and
# podman-auto-update.timer: podman, conmon, runc, their configuration and the
# libraries a minimal Debian lacks are unpacked the same way, into
# build/tools/podman/ (tests/pylib/podman.py runs them from there, with a
# configuration and a storage of the test's own). This script writes nothing
# outside build/ (no policy-rc.d, no apt configuration); an interruption
# (Ctrl-C, SIGTERM, SIGHUP) stops apt, removes its temporary directory and
# exits non-zero.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=${XDP_PONG_TOOLS:-$ROOT/build/tools}

BUILD_PKGS="make gcc clang pkg-config libc6-dev linux-libc-dev libbpf-dev libxdp-dev bpftool libmicrohttpd-dev"
DEMO_PKGS="python3 iproute2 iputils-ping iputils-arping fping ndisc6"
CHECK_PKGS="python3 python3-scapy python3-pytest ethtool nmap cppcheck clang-tidy systemd groff-base gnuplot-nox util-linux strace
	mmdebstrap python3-kubernetes yamllint traceroute iputils-tracepath mtr-tiny tcptraceroute hping3"
# make deb builds in a throwaway root made by mmdebstrap (debhelper and lintian
# there, not here: they need man-db, whose package enables a timer)
DEB_PKGS="mmdebstrap git"
# unpacked into build/tools/podman/, not installed (see above)
PODMAN_DEBS="podman conmon runc golang-github-containers-common golang-github-containers-image
	libgpgme11 libassuan0 libgpg-error0 libsubid4 libdevmapper1.02.1 libglib2.0-0"
BENCH_PKGS="iproute2 ethtool util-linux iputils-ping python3 python3-scapy gnuplot-nox"

usage() {
	echo "usage: scripts/deps.sh [--check | --list] build|demo|check|bench|deb..." >&2
	exit 2
}

check_only=""
list_only=""
pkgs=""
prometheus=""
podman=""
[ $# -gt 0 ] || usage
for arg in "$@"; do
	case "$arg" in
	--check) check_only=1 ;;
	--list) list_only=1 ;;
	build) pkgs="$pkgs $BUILD_PKGS" ;;
	demo) pkgs="$pkgs $BUILD_PKGS $DEMO_PKGS" ;;
	check) pkgs="$pkgs $BUILD_PKGS $DEMO_PKGS $CHECK_PKGS"; prometheus=1; podman=1 ;;
	bench) pkgs="$pkgs $BUILD_PKGS $BENCH_PKGS" ;;
	deb) pkgs="$pkgs $DEB_PKGS" ;;
	*) usage ;;
	esac
done

if [ -n "$list_only" ]; then
	for p in $pkgs; do echo "$p"; done | sort -u
	exit 0
fi

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=""
for p in $pkgs; do
	case " $missing " in *" $p "*) continue ;; esac
	installed "$p" || missing="$missing $p"
done
need_prometheus=""
if [ -n "$prometheus" ] && { ! [ -x "$TOOLS/prometheus" ] || ! [ -x "$TOOLS/promtool" ]; }; then
	need_prometheus=1
fi

need_podman=""
if [ -n "$podman" ] && ! [ -x "$TOOLS/podman/usr/bin/podman" ]; then
	need_podman=1
fi

if [ -n "$check_only" ]; then
	if [ -n "$missing" ]; then
		echo "deps: missing Debian packages:$missing" >&2
		echo "deps: install them with: sudo scripts/deps.sh $(echo "$*" | sed 's/--check *//')" >&2
		exit 1
	fi
	if [ -n "$need_prometheus" ] || [ -n "$need_podman" ]; then
		echo "deps: build/tools/${need_prometheus:+prometheus}${need_podman:+ podman} missing; fetch with: sudo scripts/deps.sh check" >&2
		exit 1
	fi
	exit 0
fi

if [ -z "$missing" ] && [ -z "$need_prometheus" ] && [ -z "$need_podman" ]; then
	echo "deps: all present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing${need_prometheus:+ prometheus (unpacked into build/tools)}${need_podman:+ podman (unpacked into build/tools)}; run as root to install" >&2
	exit 1
fi

# Everything temporary lives in one directory, removed on every way out.
tmp=""
partial=""
child=""
cleanup() {
	if [ -n "$child" ]; then
		# apt-get stops cleanly on SIGINT (after the dpkg run under way, if
		# any: that run is never cut in the middle); wait for it
		kill -INT "$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
		child=""
	fi
	[ -z "$tmp" ] || rm -rf "$tmp"
	tmp=""
	[ -z "$partial" ] || rm -rf "$partial"
	partial=""
}
trap 'cleanup' EXIT
trap 'cleanup; trap - EXIT; exit 130' INT
trap 'cleanup; trap - EXIT; exit 143' TERM
trap 'cleanup; trap - EXIT; exit 129' HUP

# Run a command in the background and wait for it: a trapped signal
# interrupts `wait` at once (a foreground command would delay the trap until
# it ended), and cleanup() stops the command too. A background command
# starts with SIGINT ignored (no job control here): env gives it back.
run() {
	env --default-signal=INT "$@" &
	child=$!
	wait "$child" || { rc=$?; child=""; return "$rc"; }
	child=""
}

export DEBIAN_FRONTEND=noninteractive
run apt-get update -qq
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	# shellcheck disable=SC2086
	run apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# fetch_debs PKG...: the candidate .deb of each PKG, downloaded as apt downloads (its unprivileged
# _apt user writes the files), then copied into a directory only root can enter and kept only if its
# SHA256 is the one apt's own (signed, root-owned) lists give for that package: whatever the _apt user
# could do to the downloads meanwhile (replace a file, plant a symlink, add a package) is never
# unpacked. Leaves $tmp/debs/PKG.deb for each PKG.
fetch_debs() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/xdp-pong-deps.XXXXXX")
	chmod 0711 "$tmp"                        # _apt may pass through to its own directory, no more
	mkdir "$tmp/download" "$tmp/debs"
	chmod 0700 "$tmp/debs"
	chown _apt "$tmp/download" 2>/dev/null || true
	cd "$tmp/download"
	run apt-get download -qq "$@"
	cd "$ROOT"
	for pkg in "$@"; do
		want=$(apt-cache show --no-all-versions "$pkg" | sed -n 's/^SHA256: //p' | head -n 1)
		size=$(apt-cache show --no-all-versions "$pkg" | sed -n 's/^Size: //p' | head -n 1)
		found=""
		for deb in "$tmp/download/${pkg}"_*.deb; do
			if [ -n "$found" ] || [ -L "$deb" ] || ! [ -f "$deb" ]; then
				found="bad"
				break
			fi
			found=$deb
		done
		if [ -z "$want" ] || [ -z "$size" ] || [ -z "$found" ] || [ "$found" = bad ]; then
			echo "deps: $pkg: not exactly one downloaded package file, or no checksum in apt's lists" >&2
			exit 1
		fi
		# no more than the package's size (a link to /dev/zero swapped in cannot fill the disk), and no
		# longer than 300 s (nor a FIFO hang it)
		timeout 300 head -c "$size" -- "$found" > "$tmp/debs/$pkg.deb" || true
		if [ "$(sha256sum "$tmp/debs/$pkg.deb" | cut -d' ' -f1)" != "$want" ]; then
			echo "deps: $pkg: the downloaded file is not the one apt's lists name (SHA256 differs); nothing unpacked" >&2
			exit 1
		fi
	done
}

if [ -n "$need_prometheus" ]; then
	echo "deps: unpacking prometheus and promtool from Debian's package into build/tools (not installed)"
	fetch_debs prometheus
	run dpkg-deb -x "$tmp/debs/prometheus.deb" "$tmp/root"
	mkdir -p "$TOOLS"
	for prog in prometheus promtool; do
		cp "$tmp/root/usr/bin/$prog" "$TOOLS/.$prog.new"
		mv -f "$TOOLS/.$prog.new" "$TOOLS/$prog"   # never a half-written program
	done
	cleanup
fi
if [ -n "$need_podman" ]; then
	echo "deps: unpacking podman, conmon, runc and their libraries into build/tools/podman (not installed)"
	# shellcheck disable=SC2086
	fetch_debs $PODMAN_DEBS
	mkdir -p "$TOOLS"
	partial="$TOOLS/.podman.new"     # on the same file system: renamed whole, or removed
	rm -rf "$partial"
	for pkg in $PODMAN_DEBS; do
		run dpkg-deb -x "$tmp/debs/$pkg.deb" "$partial"
	done
	rm -rf "$TOOLS/podman"
	mv "$partial" "$TOOLS/podman"
	partial=""
	cleanup
fi
echo "deps: done"
