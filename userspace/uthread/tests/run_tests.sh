#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the unit tests in every variant (plain, asan, valgrind, mprotect) and
# the unwinding checks of the assembly switch, and sum the per-case results.
# Usage: run_tests.sh BUILD_DIR "VALGRIND COMMAND" "ASSEMBLY SOURCES"
# The last line is "N passed, N failed, N skipped"; the exit status is 1
# if anything failed, including a binary that died without a Totals line.

b=$1
vg=$2
asm=$3
pass=0
fail=0
skip=0

run() {
	name=$1
	shift
	log=$b/test-$name.log
	echo "== $name: $*"
	"$@" >"$log" 2>&1
	rc=$?
	sed 's/^/  /' "$log" | grep -v '^  #   \|^  # *$' || true
	totals=$(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) xfail:\([0-9]*\) xpass:\([0-9]*\) skip:\([0-9]*\) error:\([0-9]*\).*/\1 \2 \3 \4 \5 \6/p' "$log" | tail -n 1)
	if [ -z "$totals" ]; then
		echo "== $name: no Totals line (exit $rc): counted as a failure"
		fail=$((fail + 1))
		return
	fi
	set -- $totals
	pass=$((pass + $1 + $3))
	fail=$((fail + $2 + $4 + $6))
	skip=$((skip + $5))
	if [ "$rc" -ne 0 ] && [ "$2" -eq 0 ] && [ "$6" -eq 0 ]; then
		echo "== $name: exit $rc without a failed case: counted as a failure"
		fail=$((fail + 1))
	fi
}

run plain "$b/plain/test_uthread"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run asan "$b/asan/test_uthread"
# Under valgrind the thread and client counts are divided by 10
run valgrind $vg "$b/valgrind/test_uthread"
# Guard pages by mprotect(PROT_NONE), as on kernels before 6.13
run mprotect "$b/mprotect/test_uthread"
# Backtraces through the switch: libgcc and gdb, plain and asan builds
run unwind sh "$(dirname "$0")/unwind_test.sh" "$b" "$asm"

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
