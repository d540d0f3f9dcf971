#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bpftrace counts the same faults its own way (scripts/bpftrace/cowtrace.bt)
# while the module counts them too; for each workload task, whose whole life
# both see, the numbers must agree exactly: faults, majors, and the copies
# of write-protect faults (cow_copy + cow_zero).

set -u

here=$(dirname "$(readlink -f "$0")")
# Beside the test where 'make install' put it, else in the tree.
script=$here/cowtrace.bt
[ -f "$script" ] || script=$here/../scripts/bpftrace/cowtrace.bt
helper=$here/fault_exec_helper
tasks=/sys/kernel/debug/cowtrace/tasks
name=fault_exec_help
# shellcheck source=selftests/ktap.sh
. "$here/ktap.sh"

# The value of bpftrace's map @$1 for thread $2 (absent: 0).
bt_value()
{
	sed -n "s/^@$1\[$2\]: \([0-9]*\)$/\1/p" "$out" | grep . || echo 0
}

# A column of the module's row for $1, by name.
column()
{
	awk -v pid="$1" -v col="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == pid { print $idx[col] }' "$tasks"
}

echo "TAP version 13"
[ "$(id -u)" = 0 ] || skip "must be run as root"
[ -d /sys/module/cowtrace ] || skip "cowtrace.ko is not loaded"
command -v bpftrace >/dev/null || skip "bpftrace is not installed"
[ -x "$helper" ] || skip "build the selftests first"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
bpftrace "$script" "$name" >"$out" 2>&1 &
bt=$!
for _ in $(seq 120); do
	grep -q '^Tracing' "$out" && break
	kill -0 $bt 2>/dev/null || break
	sleep 0.5
done
grep -q '^Tracing' "$out" || { sed 's/^/# /' "$out"; skip "bpftrace did not start"; }

pids=$("$helper" xcheck 200)
stop_bpftrace $bt $((120 * ${COWTRACE_TIMEOUT_SCALE:-1}))
sed 's/^/# /' "$out"

echo "1..9"
# shellcheck disable=SC2086 # the pids, one word each
set -- $pids
for pid in "$@"; do
	ok "task $pid: faults agree" "$(bt_value faults "$pid")" \
		"$(column "$pid" faults)"
	ok "task $pid: majors agree" "$(bt_value major "$pid")" \
		"$(column "$pid" fault_major)"
	ok "task $pid: write-protect copies agree" "$(bt_value wp_copy "$pid")" \
		"$(($(column "$pid" cow_copy) + $(column "$pid" cow_zero)))"
done
[ "$failed" = 0 ]
