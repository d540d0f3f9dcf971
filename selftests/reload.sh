#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unload and reload cowtrace.ko COUNT times (default 20). After every unload
# the module and its debugfs directory must be gone; after every load both
# must be back. Then LOADED times (default 5) under load: readers of every view in
# a loop, tasks forking, file locks and the kernel's own locks contended,
# while the module goes and comes back. Leaves the module loaded, as it
# found it. KTAP output; vm-run fails the run if the kernel logged a warning
# or an oops meanwhile.

set -u

ko=${1:-}
count=${2:-20}
loaded=${3:-5}
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
	local i

	for i in $(seq 100); do
		rmmod cowtrace 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

load_start()
{
	local i

	for i in 1 2 3 4; do
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
	echo "usage: reload.sh MODULE.ko [COUNT [LOADED]]" >&2
	exit 2
fi
echo "TAP version 13"
echo "1..2"
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
