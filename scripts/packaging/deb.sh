#!/bin/sh
# make deb: the Debian package of xdp-pong, built in a clean room.
#
#   scripts/packaging/deb.sh
#
# Copies the files git tracks (as they are in the work tree, build/ never)
# into build/deb/xdp-pong-VERSION/, makes the upstream tarball from that copy
# and adds scripts/packaging/debian as its debian/. Then mmdebstrap makes a
# throwaway Debian bookworm build root (variant buildd), where apt installs
# debian/control's Build-Depends and lintian, dpkg-buildpackage builds the
# source and binary packages unsigned, and lintian checks them, failing on
# any error or warning that is not overridden (each override in debian/
# says why). The packages are copied out to build/deb/ and the root is
# discarded: nothing is installed on this machine (debhelper and lintian
# would bring man-db, whose package enables a timer), and a Build-Depends
# that is missing fails the build instead of being found on the host.
#
# The copy is removed on every way out (success, failure, Ctrl-C, SIGTERM,
# SIGHUP); mmdebstrap removes its root itself. Prints the .deb's path last:
# build/deb/xdp-pong_VERSION-REVISION_ARCH.deb.
#
# Needs root, mmdebstrap, git and Debian's mirror (the build root's packages
# are downloaded); about two minutes.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEBIAN="$ROOT/scripts/packaging/debian"
OUT="$ROOT/build/deb"

die() {
	echo "deb: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap makes the build root)"
for tool in mmdebstrap git; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool missing: sudo scripts/deps.sh deb"
done

# debian/changelog's first entry: "xdp-pong (VERSION) DIST; urgency=..." and its
# " -- NAME <MAIL>  DATE" line (read here without dpkg-dev, which the host need not have)
version=$(sed -n '1s/^xdp-pong (\([^)]*\)).*/\1/p' "$DEBIAN/changelog")
printf '%s\n' "$version" | grep -Eq '^[0-9][0-9.]*-[0-9]+$' ||
	die "debian/changelog's first line gives no version UPSTREAM-REVISION: '$version'"
upstream=${version%-*}
ours=$(sed -n 's/^#define PONG_VERSION[[:space:]]*"\(.*\)".*/\1/p' "$ROOT/loader/xdp-pong.h")
[ "$ours" = "$upstream" ] ||
	die "debian/changelog says $upstream, loader/xdp-pong.h's PONG_VERSION says ${ours:-nothing}: add a changelog entry"
arch=$(dpkg --print-architecture)
date=$(sed -n '/^ -- /{s/^ -- .*>  //p;q;}' "$DEBIAN/changelog")
epoch=$(date -d "$date" +%s 2>/dev/null) || die "debian/changelog's first entry has no date it can read: '$date'"
# this machine's apt sources, whatever their files are called, for the build root's
# mirrors (none: mmdebstrap's default); kept in the positional parameters
set --
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	if [ -s "$f" ]; then set -- "$@" "$f"; fi
done
src="$OUT/xdp-pong-$upstream"
deb="$OUT/xdp-pong_${version}_$arch.deb"

# The copy is removed on every way out; a build under way is stopped first.
child=""
cleanup() {
	if [ -n "$child" ]; then
		kill -TERM "-$child" 2>/dev/null || true     # its whole process group (make, compilers)
		wait "$child" 2>/dev/null || true
		child=""
	fi
	rm -rf "$src"
}
trap 'cleanup' EXIT
trap 'cleanup; trap - EXIT; exit 130' INT
trap 'cleanup; trap - EXIT; exit 143' TERM
trap 'cleanup; trap - EXIT; exit 129' HUP

# Run a command in a process group of its own, in the background, and wait for
# it: a trapped signal interrupts `wait` at once (a foreground command would
# delay the trap until it ended), and cleanup() stops the whole group.
run() {
	setsid "$@" &
	child=$!
	wait "$child" || { rc=$?; child=""; return "$rc"; }
	child=""
}

# Nothing of an outer make reaches the package's build (make deb VAR=... would
# otherwise override debian/rules' variables, and its jobserver is not ours).
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
export SOURCE_DATE_EPOCH="$epoch"

# A fresh output directory: what is printed at the end is this build's.
rm -rf "$OUT"
mkdir -p "$src"

# The tracked files as they are in the work tree (a tracked file deleted but
# not yet committed is left out).
# shellcheck disable=SC2016  # $f is the inner shell's
git -C "$ROOT" ls-files -z --cached | (cd "$ROOT" && xargs -0 sh -c '
	for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done' sh) |
	tar -C "$ROOT" --null --no-recursion -T - -cf - | tar -C "$src" -xf -
[ -f "$src/Makefile" ] || die "copying the tree into $src failed"

# The upstream tarball, which the source format 3.0 (quilt) needs. Not
# 3.0 (native): the version carries a Debian revision (0.1.0-1: the packaging
# can be revised without a new xdp-pong version), which dpkg-source refuses for
# a native package. Reproducible: sorted, owned by root, dated by the changelog.
tar -C "$OUT" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
	-cf - "xdp-pong-$upstream" | gzip -n -9 >"$OUT/xdp-pong_$upstream.orig.tar.gz"

cp -R "$DEBIAN" "$src/debian"
chmod 0755 "$src/debian/rules"

echo "deb: building xdp-pong $version for $arch in a bookworm build root (mmdebstrap)"
# The hooks read these from the environment: no path is ever pasted into shell text.
export XP_OUT="$OUT" XP_DIR="xdp-pong-$upstream" XP_TAR="xdp-pong_$upstream.orig.tar.gz" XP_VERSION="$version"
# shellcheck disable=SC2016   # the hooks' $1 and $XP_* are expanded by mmdebstrap's shell
run mmdebstrap --quiet --variant=buildd --include=lintian \
	--customize-hook='mkdir "$1/build" && tar -C "$XP_OUT" -cf - "$XP_DIR" "$XP_TAR" | tar -C "$1/build" -xf -' \
	--customize-hook='chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq --no-install-recommends "/build/$XP_DIR" >/dev/null' \
	--customize-hook='chroot "$1" sh -c "cd /build/\"\$0\" && dpkg-buildpackage -us -uc -Jauto" "$XP_DIR"' \
	--customize-hook='echo "deb: lintian" && chroot "$1" sh -c "lintian -I --fail-on error,warning /build/*.changes"' \
	--customize-hook='for f in "$1"/build/*.deb "$1"/build/*.dsc "$1"/build/*.changes "$1"/build/*.buildinfo "$1"/build/*.debian.tar.*; do cp "$f" "$XP_OUT/"; done' \
	bookworm /dev/null "$@" || die "the build or lintian failed (above)"
[ -f "$deb" ] || die "the build made no $deb"
echo "deb: lintian: no errors or warnings"

cleanup
echo "$deb"
