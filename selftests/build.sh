#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of the build, run on the host: any kernel's headers through KDIR,
# an unknown series or a tree that is no kernel refused with a message that
# says what to do, and make sparse failing when the kernel's Makefile finds
# no usable sparse instead of checking nothing.
#
# Usage: selftests/build.sh SERIES ROOT_SERIES   (both set up; the second is
# one whose kbuild runs in a build root: backports or sid). KTAP output.

set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=selftests/ktap.sh
. "$top/selftests/ktap.sh"
series=${1:-6.1}
root_series=${2:-sid}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Exit status of make ARGS, its output kept in $out.
mk()
{
	local rc=0

	make -C "$top" --no-print-directory "$@" >"$out" 2>&1 || rc=$?
	echo "$rc"
}

has()
{
	grep -qF -- "$1" "$out" && echo yes || echo no
}

echo "TAP version 13"
echo "1..10"

ok "make KVER=6.2 is refused" 2 "$(mk KVER=6.2 module)"
ok "and the message lists the series" yes \
	"$(has 'the series are 6.1 6.12 backports sid debug kcsan')"
# shellcheck disable=SC2016 # the literal text
ok "and says how to build for the running kernel" yes \
	"$(has 'make KDIR=/lib/modules/$(uname -r)/build')"

ok "make KDIR=/tmp is refused" 2 "$(mk KDIR=/tmp module)"
ok "and the message says why" yes "$(has 'KDIR=/tmp is not a kernel build tree')"

abi=$("$top/scripts/setup" --abi "$series")
kdir=$("$top/scripts/setup" --kdir "$series")
rm -rf "$top/build/kdir-$abi"
ok "make KDIR=$kdir builds" 0 "$(mk KDIR="$kdir" module)"
ok "a module for $abi, in build/kdir-$abi" "$abi" \
	"$(modinfo -F vermagic "$top/build/kdir-$abi/cowtrace.ko" 2>/dev/null | cut -d' ' -f1)"
rm -rf "$top/build/kdir-$abi"

# A sparse the kernel's Makefile finds unusable (here: none at all).
ok "make sparse with no usable sparse fails on $root_series" 2 \
	"$(mk KVER="$root_series" sparse CHECK=/nonexistent/sparse)"
ok "and says sparse did not run" yes "$(has "sparse did not run for $root_series")"
ok "make sparse on $root_series checks every file" 0 "$(mk KVER="$root_series" sparse)"

echo "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
