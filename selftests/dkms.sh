#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DKMS, as a user meets it: 'make dkms-install' puts the module's source
# under /usr/src and DKMS builds and installs it for a kernel; here for the
# kernel of each SERIES (its headers installed on this machine), and the
# module DKMS built must load in the VM booting that kernel. Everything is
# removed again ('make dkms-remove'). Run as root, on the build machine.
#
# Usage: selftests/dkms.sh SERIES...   KTAP output.

set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=selftests/ktap.sh
. "$top/selftests/ktap.sh"
[ "$(id -u)" = 0 ] || skip "must run as root"
command -v dkms >/dev/null || skip "dkms is not installed (scripts/setup installs it)"
[ $# -gt 0 ] || { echo "usage: selftests/dkms.sh SERIES..." >&2; exit 2; }
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
log=$(mktemp)
ko=$(mktemp -d /tmp/dkms-test.XXXXXX)
trap 'rm -rf "$log" "$ko"; make -s -C "$top" dkms-remove >/dev/null 2>&1' EXIT

run()
{
	local rc=0

	"$@" >"$log" 2>&1 || { rc=$?; sed 's/^/# /' "$log" | tail -n 20; }
	echo "$rc"
}

echo "TAP version 13"
echo "1..$((3 + 4 * $#))"
ok "dkms.conf's version is the module's" "$version" \
	"$(sed -n 's/^#define COWTRACE_VERSION\t"\(.*\)"/\1/p' "$top/module/uapi/cowtrace.h")"
make -s -C "$top" dkms-remove >/dev/null 2>&1
ok "make dkms-source, dkms add" 0 \
	"$(run sh -c "make -s -C '$top' dkms-source && dkms add cowtrace/$version")"

for s in "$@"; do
	abi=$("$top/scripts/setup" --abi "$s")
	ok "dkms build -k $abi" 0 "$(run dkms build "cowtrace/$version" -k "$abi")"
	ok "dkms install -k $abi" 0 "$(run dkms install "cowtrace/$version" -k "$abi")"
	found=$(find "/lib/modules/$abi/updates/dkms" -name 'cowtrace.ko*' | head -n 1)
	case "$found" in
	*.xz) xz -dc "$found" >"$ko/$s.ko" ;;
	*.zst) zstd -qdc "$found" >"$ko/$s.ko" ;;
	*) cp "$found" "$ko/$s.ko" 2>/dev/null ;;
	esac
	ok "the module DKMS built is for $abi" "$abi" \
		"$(modinfo -F vermagic "$ko/$s.ko" 2>/dev/null | cut -d' ' -f1)"
	ok "and loads in the VM on $s" "$version" \
		"$(cd "$top" && scripts/vm-run --kernel "$s" --module "$ko/$s.ko" -- \
			cat /sys/module/cowtrace/version 2>/dev/null | tr -d '\r')"
done
ok "make dkms-remove" 0 "$(run make -s -C "$top" dkms-remove)"
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
