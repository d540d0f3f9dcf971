#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run cowlab's tests and sum their results.
# Usage: run_tests.sh BUILD_DIR COWLAB [SANITIZED_COWLAB]
#
# Every BUILD_DIR/tests/test_* binary is a kselftest-harness program: its
# "# Totals:" line is counted. Every tests/test_*.sh script is given the
# cowlab binary as $1 and prints TAP lines, counted here: "ok N - name",
# "not ok N - name", and "ok N - name # SKIP why". With SANITIZED_COWLAB
# (an ASan+UBSan build) the scripts run a second time on it, with
# COWLAB_INEXACT=1: the sanitizers' shadow memory takes faults of its own,
# so exact fault counts are skipped there.
# The last line is "N passed, N failed, N skipped"; the exit status is 1 if
# anything failed, including a program that died without its totals.

b=$1
cowlab=$2
sanitized=$3
dir=$(dirname "$0")
pass=0
fail=0
skip=0

run_harness() {
	name=$(basename "$1")
	log=$b/$name.log
	echo "== $name"
	"$1" >"$log" 2>&1
	rc=$?
	grep -E '^(not )?ok |^# (FAIL|SKIP)|^# .*:[0-9]+:' "$log" | sed 's/^/  /'
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

run_tap() {
	name=$(basename "$1")$3
	log=$b/$name.log
	echo "== $name"
	sh "$1" "$2" >"$log" 2>&1
	rc=$?
	sed 's/^/  /' "$log"
	p=$(grep -cE '^ok [0-9]+' "$log" | tr -d ' ')
	s=$(grep -cE '^ok [0-9]+.*# SKIP' "$log" | tr -d ' ')
	f=$(grep -cE '^not ok [0-9]+' "$log" | tr -d ' ')
	pass=$((pass + p - s))
	skip=$((skip + s))
	fail=$((fail + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "== $name: exit $rc without a failed case: counted as a failure"
		fail=$((fail + 1))
	fi
}

for t in "$b"/tests/test_*; do
	[ -x "$t" ] || continue
	run_harness "$t"
done
for t in "$dir"/test_*.sh; do
	[ -f "$t" ] || continue
	run_tap "$t" "$cowlab" ""
	if [ -n "$sanitized" ] && [ -x "$sanitized" ]; then
		COWLAB_INEXACT=1 ASAN_OPTIONS=detect_leaks=1 \
			run_tap "$t" "$sanitized" " (asan+ubsan)"
	fi
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
