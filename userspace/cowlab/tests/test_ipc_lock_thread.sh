#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Integration tests of "cowlab ipc", "cowlab lock" and "cowlab thread" on
# the host, with small counts.  Usage: test_ipc_lock_thread.sh COWLAB
# Prints TAP lines ("ok N - name", "not ok N - name", "# SKIP") and, last,
# "N passed, N failed, N skipped".  Exact where the outcome is knowable:
# every lock that excludes ends at procs x count; the unprotected ones
# never above it.

cowlab=${1:-./cowlab}
case $cowlab in /*) ;; *) cowlab=$(pwd)/$cowlab ;; esac
[ -x "$cowlab" ] || { echo "not ok 1 - no cowlab binary at $cowlab"; exit 1; }

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
# cowlab's temporary files go here, so that leftovers are easy to see
export TMPDIR="$work/tmp"
mkdir "$TMPDIR"
n=0
pass=0
fail=0
skip=0

ok() {
	n=$((n + 1))
	pass=$((pass + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	fail=$((fail + 1))
	echo "not ok $n - $1"
	[ -s "$work/err" ] && sed 's/^/#   stderr: /' "$work/err" | head -n 5
}

skip() {
	n=$((n + 1))
	skip=$((skip + 1))
	echo "ok $n - $1 # SKIP $2"
}

check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# run ARGS...: cowlab's stdout in $work/out, stderr in $work/err, $rc
run() {
	"$cowlab" "$@" >"$work/out" 2>"$work/err"
	rc=$?
}

# The value of every "KEY": member in the JSON output, one per line
vals() {
	grep -o "\"$1\":[^,}]*" "$work/out" | cut -d: -f2- | tr -d '"'
}

all_are() {
	key=$1
	want=$2
	[ -n "$(vals "$key")" ] || return 1
	! vals "$key" | grep -qvx "$want"
}

# No method's "error" cell holds a message (they are "" when it went well)
no_errors() {
	! grep -q '"error":"[^"]' "$work/out"
}

count_of() {
	vals "$1" | wc -l | tr -d ' '
}

json_ok() {
	command -v python3 >/dev/null 2>&1 || return 0
	python3 -m json.tool "$work/out" >/dev/null 2>&1
}

one_line_exit_2() {
	[ "$rc" -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] &&
		[ ! -s "$work/out" ]
}

nothing_left() {
	[ -z "$(ls -A "$TMPDIR")" ] || return 1
	for f in /dev/shm/cowlab-ipc*; do
		[ -e "$f" ] && return 1
	done
	return 0
}

# A cowlab built without these objects (main.c's placeholders answer
# "not built"): nothing to test here
for obj in ipc lock thread; do
	"$cowlab" $obj help >/dev/null 2>"$work/err"
	if grep -q "not built" "$work/err"; then
		echo "ok 1 - ipc, lock, thread # SKIP '$obj' is not built into $cowlab"
		echo "0 passed, 0 failed, 1 skipped"
		exit 0
	fi
done

# ---------------------------------------------------------------- ipc

run -j ipc --count 200 --runs 2
check "ipc: all methods exit 0" [ "$rc" -eq 0 ]
check "ipc: one JSON document" json_ok
check "ipc: 11 methods in one table" [ "$(count_of method)" -eq 11 ]
check "ipc: no method failed" no_errors
check "ipc: every reply intact" all_are bad 0
check "ipc: 600 round trips each" all_are round_trips 600
check "ipc: warm-up and run ends verified" all_are verified 202
check "ipc: MAP_SHARED write seen by the parent" \
	grep -q '"shared_seen":true' "$work/out"
check "ipc: MAP_PRIVATE write not seen" \
	grep -q '"private_seen":false' "$work/out"
check "ipc: clock named" grep -q '"clock":"CLOCK_MONOTONIC"' "$work/out"

run -j ipc shm pipe fifo unix-stream tcp posix-shm-spin --size 64K --count 20 --runs 1
check "ipc: 64 KiB messages intact" all_are bad 0
check "ipc: 64 KiB messages, no error" no_errors

run -j ipc signal --size 1M --count 20 --runs 1
check "ipc: a signal carries 8 bytes whatever the size" all_are payload 8

run ipc carrier-pigeon
check "ipc: unknown method: one line, exit 2" one_line_exit_2
run ipc --count -5
check "ipc: negative count: one line, exit 2" one_line_exit_2
run ipc --size 0
check "ipc: zero size: one line, exit 2" one_line_exit_2
run ipc --frobnicate
check "ipc: unknown option: one line, exit 2" one_line_exit_2
run ipc help
check "ipc: help" [ "$rc" -eq 0 ]

# --------------------------------------------------------------- lock

for m in flock fcntl ofd cas mutex spin lockfile-excl; do
	run -j lock $m --procs 4 --count 1000
	if [ "$rc" -eq 0 ] && all_are final 4000 && all_are lost 0; then
		ok "lock $m: 4 x 1000 = 4000 exactly"
	else
		not_ok "lock $m: 4 x 1000 = 4000 exactly (rc $rc, final $(vals final))"
	fi
done
run -j lock peterson --procs 2 --count 20000
check "lock peterson: 2 x 20000 = 40000 exactly" all_are final 40000

for m in ofd flock mutex; do
	run -j lock $m --threads --procs 4 --count 1000
	check "lock $m --threads: exact" all_are final 4000
done

for m in none lockfile; do
	run -j lock $m --procs 4 --count 1000
	f=$(vals final)
	check "lock $m: final $f <= 4000" [ "$rc" -eq 0 ] && [ "$f" -le 4000 ]
done
run -j lock fcntl --threads --procs 4 --count 1000
f=$(vals final)
check "lock fcntl --threads: final $f <= 4000" [ "$f" -le 4000 ]

run -j lock flock --procs 4 --count 1000
check "lock: one JSON document" json_ok
run -j lock
check "lock: all methods, exit 0" [ "$rc" -eq 0 ]
check "lock: no lock that excludes lost an update" \
	sh -c "! grep -q '\"verdict\":\"BUG' '$work/out'"

for bad in "--procs 0" "--procs 65" "--procs -1" "--count 0" \
	   "peterson --procs 3" "semaphore" "--procs"; do
	# shellcheck disable=SC2086 # one word per argument, on purpose
	run lock $bad
	check "lock $bad: one line, exit 2" one_line_exit_2
done

# A method whose setup fails has no results (null, "-"), not "0 lost", and
# the document carries why, as any failed command does
if command -v jq >/dev/null 2>&1; then
	TMPDIR=/nonexistent "$cowlab" -j -q lock flock mutex --count 100 \
		>"$work/out" 2>"$work/err"
	rc=$?
	check "lock, setup failed -j: exit 1" [ "$rc" -eq 1 ]
	check "lock, setup failed -j: one JSON document" json_ok
	check "lock, setup failed -j: nothing on stderr" [ ! -s "$work/err" ]
	check "lock, setup failed -j: no result, the row's error" [ \
		"$(jq -c '.methods[0] | [.final, .lost, .ops_per_s, .time_ns, .k_acquired, .verdict, .error]' "$work/out")" = \
		'[null,null,null,null,null,"failed","setup: No such file or directory"]' ]
	check "lock, setup failed -j: the other method ran" [ \
		"$(jq -c '.methods[1] | [.method, .final, .lost, .error]' "$work/out")" = '["mutex",400,0,null]' ]
	check "lock, setup failed -j: the document's error and exit status" [ \
		"$(jq -c '[.error, .exit_status]' "$work/out")" = \
		'["lock: 1 of 2 methods failed (flock: setup: No such file or directory)",1]' ]
else
	skip "lock, setup failed -j" "no jq"
fi
TMPDIR=/nonexistent "$cowlab" -q lock flock --count 100 >"$work/out" 2>"$work/err"
rc=$?
check "lock, setup failed: exit 1, the error in one line" test "$rc" -eq 1 -a \
	"$(cat "$work/err")" = "cowlab: lock: 1 of 1 methods failed (flock: setup: No such file or directory)"
check "lock, setup failed: final and lost are '-'" \
	[ "$(awk '$1 == "flock" { print $7, $8, $9 }' "$work/out")" = "- - failed" ]

# ------------------------------------------------------------- thread

run -j thread lwp crash strtok
check "thread: exit 0" [ "$rc" -eq 0 ]
check "thread: one JSON document" json_ok
check "thread: first LWP id is the pid" all_are first_is_pid true
check "thread: a thread's SIGSEGV ends its process" \
	all_are thread_crash_process "killed by SIGSEGV"
check "thread: its main thread never went on" \
	all_are main_thread_survived false
check "thread: a child's SIGSEGV" all_are child_crash "killed by SIGSEGV"
check "thread: leaves its parent running" \
	all_are parent_of_crashed_child "exited 0"
check "thread: strtok_r results correct" all_are bad_strtok_r 0

run -j thread --count 20
check "thread: every section, exit 0" [ "$rc" -eq 0 ]
check "thread: three models" [ "$(count_of model)" -eq 3 ]
run thread scheduling-classes
check "thread: unknown section: one line, exit 2" one_line_exit_2
run thread --count 0
check "thread: zero count: one line, exit 2" one_line_exit_2

check "nothing left in TMPDIR or /dev/shm" nothing_left

# ------------------------------------------------------------ signals

# sig SIG ARGS...: interrupt a long run; exit 130, children gone, no files
interrupted() {
	sig=$1
	shift
	"$cowlab" "$@" >/dev/null 2>&1 &
	pid=$!
	sleep 1
	kids=$(ps -o pid= --ppid "$pid" 2>/dev/null)
	kill -"$sig" "$pid"
	wait "$pid"
	rc=$?
	sleep 0.5
	for k in $kids; do
		# gone, or a zombie no longer ours
		[ -d "/proc/$k" ] && [ "$(awk '{ print $3 }' "/proc/$k/stat" 2>/dev/null)" != Z ] &&
			return 1
	done
	[ "$rc" -eq 130 ] && nothing_left
}

if command -v ps >/dev/null 2>&1; then
	check "SIGTERM during lock none: exit 130, nothing left" \
		interrupted TERM lock none --count 10000000
	check "SIGINT during lock lockfile: exit 130, nothing left" \
		interrupted INT lock lockfile --count 10000000
	check "SIGTERM during ipc fifo: exit 130, nothing left" \
		interrupted TERM ipc fifo --count 100000000
else
	skip "interrupted runs" "no ps"
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
