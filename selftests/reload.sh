#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unload and reload cowtrace.ko COUNT times (default 20). After every unload
# the module and its debugfs directory must be gone; after every load both
# must be back. Then LOADED times (default 5) under load: readers of every view in
# a loop, tasks forking, file locks and the kernel's own locks contended,
# while the module goes and comes back. Then STORM times (default 10) while
# tasks are born, fault, start threads and exit on every CPU, with every
# view read as root and /proc/cowtrace as nobody all along: once the storm
# is over, no row of it may still be alive. Leaves the module loaded, as it
# found it. KTAP output; vm-run fails the run if the kernel logged a warning
# or an oops meanwhile.

set -u

ko=${1:-}
count=${2:-20}
loaded=${3:-5}
storms=${4:-10}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
storm_bin=$here/lifecycle_storm
dir=/sys/kernel/debug/cowtrace
name="reload $count times"

fail()
{
	echo "# $*"
	echo "not ok $test $name"
	exit 1
}

# A reader holding a view open keeps the module: try again until it lets go.
unload()
{
	local _

	for _ in $(seq 100); do
		rmmod cowtrace 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

load_start()
{
	local _

	for _ in 1 2 3 4; do
		(while :; do
			cat $dir/kthreads $dir/locks $dir/tasks $dir/processes \
				$dir/stats >/dev/null 2>&1
		done) &
		pids="$pids $!"
		(while :; do flock "$lockfile" true; ls /proc >/dev/null; done) &
		pids="$pids $!"
	done
}

if [ -z "$ko" ] || [ ! -f "$ko" ]; then
	echo "usage: reload.sh MODULE.ko [COUNT [LOADED [STORM]]]" >&2
	exit 2
fi
echo "TAP version 13"
echo "1..3"
test=1
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP must be run as root"; exit 4; }
[ -d /sys/module/cowtrace ] || fail "cowtrace.ko is not loaded at the start"
for round in $(seq "$count"); do
	rmmod cowtrace || fail "rmmod failed in round $round"
	[ ! -e /sys/module/cowtrace ] || fail "module still present after rmmod, round $round"
	[ ! -e $dir ] || fail "$dir still present after rmmod, round $round"
	insmod "$ko" || fail "insmod failed in round $round"
	grep -q '^version ' $dir/version || fail "no version file after insmod, round $round"
done
echo "ok 1 $name"

test=2
name="reload $loaded times under load"
pids=
lockfile=$(mktemp)
trap 'kill $pids 2>/dev/null; wait 2>/dev/null; rm -f "$lockfile"' EXIT
load_start
for round in $(seq "$loaded"); do
	unload || fail "rmmod kept failing in round $round"
	insmod "$ko" || fail "insmod failed in round $round"
	sleep 0.2
	grep -q '^== contention by kind' $dir/locks ||
		fail "no contention section in round $round"
done
echo "ok 2 $name"

test=3
name="reload $storms times during a fork, thread and exit storm"
[ -x "$storm_bin" ] || fail "no $storm_bin: build the selftests"
# shellcheck disable=SC2086 # a list of pids
kill $pids 2>/dev/null
# shellcheck disable=SC2086
wait $pids 2>/dev/null
pids=
# Readers that never stop: root reads every view, nobody /proc/cowtrace
# (whose rows it may only see by the credentials of their tasks, which it
# looks at while they exit). An open debugfs view holds the module, so
# root pauses between views: rmmod gets its turn.
views=(tasks processes stats kthreads locks control version)
(while :; do
	for f in "${views[@]}"; do
		cat "$dir/$f" >/dev/null 2>&1
		sleep 0.1
	done
done) &
pids="$pids $!"
(while :; do
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		cat /proc/cowtrace >/dev/null 2>&1
done) &
pids="$pids $!"
# The per-round timings come from bash's own clock and the check of the
# rows from its own read: no process to start, for a process takes seconds
# to start in a KASAN guest while the readers fork.
# Microseconds now, in the variable named $1.
now_us()
{
	printf -v "$1" '%s' "${EPOCHREALTIME//[!0-9]/}"
}

# Seconds since $2 (a now_us), in the variable named $1.
since()
{
	local now d

	now_us now
	d=$((now - $2))
	printf -v "$1" '%d.%06d' $((d / 1000000)) $((d % 1000000))
}

t0='' t='' t_unload='' t_load='' t_stop='' t_round=''
for round in $(seq "$storms"); do
	now_us t0
	"$storm_bin" 2 &
	storm=$!
	sleep 0.3
	now_us t
	unload || fail "rmmod kept failing in storm round $round"
	since t_unload "$t"
	now_us t
	# Few exited rows: every reader walks the whole table, and the
	# storm would fill 4096 in a round.
	insmod "$ko" max_exited=256 || fail "insmod failed in storm round $round"
	since t_load "$t"
	sleep 0.5
	now_us t
	kill -TERM $storm
	wait $storm || fail "the storm did not end cleanly in round $round"
	since t_stop "$t"
	# Every task of the storm is reaped: none of its rows is alive.
	stale=
	while read -r pid _ comm state _; do
		[ "$comm" = lifecycle_storm ] && [ "$state" = alive ] &&
			stale="$stale $pid"
	done <$dir/tasks
	[ -z "$stale" ] ||
		fail "rows alive for tasks that exited, round $round:$stale"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		cat /proc/cowtrace >/dev/null ||
		fail "nobody cannot read /proc/cowtrace in round $round"
	# One reader for all (cat names a view it cannot read): under KASAN
	# a process takes seconds to start while the readers keep forking.
	cat "${views[@]/#/$dir/}" >/dev/null ||
		fail "cannot read every view in round $round"
	since t_round "$t0"
	echo "# storm round $round: $t_round s (rmmod $t_unload, insmod $t_load, storm stop $t_stop)"
done
echo 4096 >/sys/module/cowtrace/parameters/max_exited
echo "ok 3 $name"
