#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages, as a user meets them: 'make deb' builds cowtrace-dkms
# and cowlab with Debian's tools and lintian finds nothing; apt installs
# both into a Debian trixie userland that has the backports kernel's headers
# (a throwaway overlay over that series' build root), where DKMS builds the
# module for that kernel; the module it built loads in the VM booting that
# kernel, and the packaged cowlab reads it.
#
# Usage: selftests/deb.sh   (as root, after scripts/setup). KTAP output.

set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=selftests/ktap.sh
. "$top/selftests/ktap.sh"
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"
[ "$(id -u)" = 0 ] || skip "must run as root"
series=backports
abi=$("$top/scripts/setup" --abi "$series") || skip "series $series is not set up"
root=$(ct_suite_root "$(ct_series_root "$series")")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
tmp=$(mktemp -d /tmp/deb-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/upper" "$tmp/work" "$tmp/merged" "$tmp/debs" "$tmp/out"

run()
{
	local rc=0

	"$@" >"$tmp/log" 2>&1 || { rc=$?; sed 's/^/# /' "$tmp/log" | tail -n 20; }
	echo "$rc"
}

# In the overlay, as root of a Debian system: install the packages, then
# hand out what DKMS built for the kernel.
in_debian()
{
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m -- /bin/sh -euc '
		tmp=$1 root=$2
		mount -t overlay overlay -o "lowerdir=$root,upperdir=$tmp/upper,workdir=$tmp/work" "$tmp/merged"
		mount -t proc proc "$tmp/merged/proc"
		mount --rbind /dev "$tmp/merged/dev"
		mkdir -p "$tmp/merged/debs" "$tmp/merged/out"
		mount --bind "$tmp/debs" "$tmp/merged/debs"
		mount --bind "$tmp/out" "$tmp/merged/out"
		shift 2
		exec chroot "$tmp/merged" /bin/sh -c "$1"
	' deb-test "$tmp" "$root" "$1"
}

echo "TAP version 13"
echo "1..6"
ok "make deb builds both packages, lintian clean" 0 "$(run make -s -C "$top" deb)"
cp "$top"/build/deb/cowtrace-dkms_"$version"_all.deb \
	"$top"/build/deb/cowlab_"$version"_amd64.deb "$tmp/debs/"
ok "apt installs them on Debian trixie" 0 \
	"$(run in_debian 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /debs/*.deb')"
ok "DKMS built and installed the module for $abi" \
	"cowtrace/$version, $abi, x86_64: installed" \
	"$(in_debian 'dkms status cowtrace' 2>/dev/null | sed 's/ (.*)//')"
in_debian "find /lib/modules/$abi/updates/dkms -name 'cowtrace.ko*' -exec cp {} /out/ \\;" 2>/dev/null
for f in "$tmp"/out/cowtrace.ko*; do
	case "$f" in
	*.xz) xz -dc "$f" >"$tmp/cowtrace.ko" ;;
	*.zst) zstd -qdc "$f" >"$tmp/cowtrace.ko" ;;
	*) cp "$f" "$tmp/cowtrace.ko" ;;
	esac
done
dpkg-deb -x "$tmp/debs/cowlab_${version}_amd64.deb" "$tmp/cowlab"
ok "the module DKMS built loads on $series" "$version" \
	"$(cd "$top" && scripts/vm-run --kernel "$series" --module "$tmp/cowtrace.ko" -- \
		cat /sys/module/cowtrace/version 2>/dev/null | tr -d '\r')"
ok "and the packaged cowlab reads it" 0 \
	"$(cd "$top" && run scripts/vm-run --kernel "$series" --module "$tmp/cowtrace.ko" -- \
		"$tmp/cowlab/usr/bin/cowlab" stats)"
ok "the packaged man page renders" 0 "$(run man -l "$tmp/cowlab/usr/share/man/man1/cowlab.1.gz")"
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
