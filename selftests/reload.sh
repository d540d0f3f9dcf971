#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unload and reload cowtrace.ko COUNT times (default 20). After every unload
# the module and its debugfs directory must be gone; after every load both
# must be back. Leaves the module loaded, as it found it. KTAP output; vm-run
# fails the run if the kernel logged a warning or an oops meanwhile.

set -u

ko=${1:-}
count=${2:-20}
dir=/sys/kernel/debug/cowtrace
name="reload $count times"

fail()
{
	echo "# $*"
	echo "not ok 1 $name"
	exit 1
}

if [ -z "$ko" ] || [ ! -f "$ko" ]; then
	echo "usage: reload.sh MODULE.ko [COUNT]" >&2
	exit 2
fi
echo "TAP version 13"
echo "1..1"
[ "$(id -u)" = 0 ] || { echo "ok 1 $name # SKIP must be run as root"; exit 4; }
[ -d /sys/module/cowtrace ] || fail "cowtrace.ko is not loaded at the start"
for round in $(seq "$count"); do
	rmmod cowtrace || fail "rmmod failed in round $round"
	[ ! -e /sys/module/cowtrace ] || fail "module still present after rmmod, round $round"
	[ ! -e $dir ] || fail "$dir still present after rmmod, round $round"
	insmod "$ko" || fail "insmod failed in round $round"
	grep -q '^version ' $dir/version || fail "no version file after insmod, round $round"
done
echo "ok 1 $name"
