#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of scripts/vm-run itself, run on the host: exit statuses carried back,
# stdout and stderr kept apart, a checkout under /tmp visible in the guest,
# a hung guest killed, a kernel that warns or oopses, or a module that will
# not load, failing the run even when the command succeeded; and --debian's
# guest: a trixie userland, writable, gone after the run.
#
# Usage: selftests/vm-run.sh [SERIES]   (as root, after scripts/setup; needs
# 'make KVER=SERIES' and the other series' module built, for the wrong-kernel
# case). KTAP output.

set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
series=${1:-6.1}
vm_run=$top/scripts/vm-run
crash=$top/build/$series/testmod/ct_crash.ko
tmp=$(mktemp -d /tmp/vm-run-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

case "$series" in
6.1) other=6.12 ;;
6.12) other=6.1 ;;
*) echo "usage: selftests/vm-run.sh [6.1|6.12]" >&2; exit 2 ;;
esac

# vm KTAP-NAME EXPECTED-STATUS [VM-RUN ARGS...]: run vm-run, keep its output.
vm()
{
	local name=$1 want=$2 rc=0

	shift 2
	"$vm_run" --kernel "$series" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
	check "$name" "$want" "$rc"
}

check()
{
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $n $1"
	else
		echo "# expected exit status $2, got $3; stderr:"
		sed 's/^/#   /' "$tmp/err" | tail -n 20
		echo "not ok $n $1"
		failed=$((failed + 1))
	fi
}

expect_text()
{
	n=$((n + 1))
	if [ "$(cat "$2")" = "$3" ]; then
		echo "ok $n $1"
	else
		echo "# expected '$3', got '$(head -c 300 "$2")'"
		echo "not ok $n $1"
		failed=$((failed + 1))
	fi
}

expect_grep()
{
	n=$((n + 1))
	if grep -qE "$3" "$2"; then
		echo "ok $n $1"
	else
		echo "# no line matching '$3' in:"
		sed 's/^/#   /' "$2" | tail -n 20
		echo "not ok $n $1"
		failed=$((failed + 1))
	fi
}

echo "TAP version 13"
echo "1..25"
echo "# vm-run on kernel $series"

vm "bad option is a usage error" 2 --bogus
vm "missing command is a usage error" 2 --no-module
vm "bad timeout is a usage error" 2 --timeout soon -- true
vm "--plugin with --kvm is a usage error" 2 --kvm --plugin "$vm_run" -- true
expect_grep "and says it needs TCG" "$tmp/err" 'plugin needs TCG'
vm "--plugin naming no file is a usage error" 2 --plugin "$tmp/none.so,out=x" -- true

vm "true exits 0" 0 --no-module -- true
vm "false exits 1" 1 --no-module -- false

vm "exit status is carried back" 7 --no-module -- \
	sh -c 'echo to-stdout; echo to-stderr >&2; exit 7'
expect_text "stdout is streamed to stdout" "$tmp/out" "to-stdout"
expect_text "stderr is streamed to stderr" "$tmp/err" "to-stderr"

mkdir "$tmp/cwd" && echo "seen from the guest" >"$tmp/cwd/file"
cd "$tmp/cwd" || exit 1
vm "a working directory under /tmp is shared" 0 --no-module -- cat file
cd "$top" || exit 1
expect_text "and its files are readable" "$tmp/out" "seen from the guest"

vm "module is loaded and its debugfs directory exists" 0 -- \
	test -f /sys/kernel/debug/cowtrace/version

vm "a hung guest is killed at the timeout" 124 --no-module --timeout 20 -- \
	sleep 600

vm "a kernel WARNING fails a successful command" 120 --module "$crash" --timeout 120 -- \
	sh -c 'echo warn >/sys/kernel/debug/ct_crash'
expect_grep "and the kernel log is printed" "$tmp/err" 'WARNING:.*ct_crash'
# A CI page shows a log's tail: the report must be there, not only above.
tail -n 30 "$tmp/err" >"$tmp/tail"
expect_grep "and its first report is printed again last" "$tmp/tail" \
	'WARNING:.*ct_crash'

vm "an oops fails the run" 120 --module "$crash" --timeout 120 -- \
	sh -c 'echo oops >/sys/kernel/debug/ct_crash'

vm "a module that does not load fails the run" 121 \
	--module "$top/build/$other/cowtrace.ko" -- true
expect_grep "and the loader's error is printed" "$tmp/err" 'insmod|Exec format|Invalid'

vm "--debian on a series without a Debian userland is a usage error" 2 \
	--debian --no-module -- true
# shellcheck disable=SC2016 # expanded in the guest
vm "--debian boots the backports kernel into a trixie userland" 0 \
	--kernel backports --debian --no-module -- sh -c '
		. /etc/os-release; echo "$VERSION_CODENAME $(uname -r)"
		echo written >/etc/ct-mark && cat /etc/ct-mark
		touch "$1/ct-mark" 2>/dev/null || echo "checkout read-only"
		modprobe zram && echo "zram from the guest kernel"' sh "$top"
expect_text "writable, the checkout read-only, the kernel's modules in place" "$tmp/out" \
	"trixie $("$top/scripts/setup" --abi backports)
written
checkout read-only
zram from the guest kernel"
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"
leftovers=$(find "$(ct_suite_root trixie)/etc/ct-mark" "$top/ct-mark" 2>/dev/null | wc -l)
leftovers=$((leftovers + $(findmnt -rn -o TARGET | grep -c /cowtrace-vm)))
check "and nothing of it is left: no file, no mount" 0 "$leftovers"

echo "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
