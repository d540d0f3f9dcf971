#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What a fault, a lock wait or a task meets while cowtrace.ko is half
# attached. The module attaches its hooks one after the other, and between
# two of them the windows are nanoseconds wide: attach_pause_ms (a test
# parameter) widens each to what a test can hit. The module is loaded so
# while three workloads run, then each is checked for what an attach order
# got wrong once:
#  - a task that takes only write-protect faults: with the fault bracket
#    attached before the classifiers, its faults in between were stored as
#    fresh anonymous ones (fault_anon); they must be unclassified instead.
#  - a kernel thread on CPU 0 waiting on a fresh rwlock each round
#    (ct_contend.ko kind=rwlock): with contention_begin attached before
#    contention_end, a spinning wait begun in between kept CPU 0's slot
#    open for good, and every later spinning wait there was lost as nested.
#  - tasks born, faulting and exiting all along: none of their rows may be
#    alive once they are gone.
#
# Usage (in the VM, without the module loaded: vm-run --no-module):
#   selftests/attach.sh build/SERIES/cowtrace.ko          KTAP output

set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=selftests/ktap.sh
. "$top/selftests/ktap.sh"
ko=${1:?usage: selftests/attach.sh PATH/cowtrace.ko}
testmod=${CT_TESTMOD_DIR:-$(dirname "$ko")/testmod}
helper=$top/selftests/fault_exec_helper
storm_bin=$top/selftests/lifecycle_storm
dir=/sys/kernel/debug/cowtrace
pause=200
[ "$(id -u)" = 0 ] || skip "must run as root"
[ -d /sys/module/cowtrace ] && skip "cowtrace.ko is loaded: run with vm-run --no-module"
[ -f "$testmod/ct_contend.ko" ] || skip "no ct_contend.ko in $testmod"
{ [ -x "$helper" ] && [ -x "$storm_bin" ]; } || skip "build the selftests first"

cow_pid=
storm_pid=
tmp=$(mktemp -d)
cleanup()
{
	[ -z "$cow_pid" ] || kill "$cow_pid" 2>/dev/null
	[ -z "$storm_pid" ] || kill "$storm_pid" 2>/dev/null
	wait 2>/dev/null
	[ ! -d /sys/module/ct_contend ] || rmmod ct_contend
	[ ! -d /sys/module/cowtrace ] || rmmod cowtrace
	rm -rf "$tmp"
}
trap cleanup EXIT

# Column @2 of the row for pid @1 in the tasks view as last snapshot.
column()
{
	awk -v pid="$1" -v col="$2" '
	NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
	$1 == pid { print $c }' "$tmp/tasks"
}

# Counted waits of the task @1 in the locks view's by-task section.
waits_of()
{
	awk -v pid="$1" '
	/^== contention by task/ { in_tasks = 1; next }
	/^==/ { in_tasks = 0 }
	in_tasks && $1 == pid { n += $4 }
	END { print n + 0 }' "$dir/locks"
}

echo "TAP version 13"
echo "1..9"

rc=0
insmod "$ko" attach_pause_ms=1001 2>"$tmp/err" || rc=$?
ok "a pause over 1000 ms is refused" "refused absent" \
	"$([ "$rc" != 0 ] && echo refused || echo loaded) $([ -d /sys/module/cowtrace ] && echo present || echo absent)"
[ ! -d /sys/module/cowtrace ] || rmmod cowtrace

# The workloads, all running before the first hook attaches.
insmod "$testmod/ct_contend.ko" kind=rwlock ||
	skip "cannot load ct_contend.ko kind=rwlock (it needs CPUs 0 and 1)"
"$helper" cowloop 64 >"$tmp/cow" &
cow_pid=$!
"$storm_bin" 2 &
storm_pid=$!
for _ in $(seq 100); do
	[ -s "$tmp/cow" ] && break
	sleep 0.1
done
ok "the write-protect fault loop runs" ready "$(cat "$tmp/cow")"

t0=$EPOCHREALTIME
rc=0
insmod "$ko" attach_pause_ms=$pause || rc=$?
took=$(echo "($EPOCHREALTIME - $t0) * 1000 / 1" | bc)
ok "loads with attach_pause_ms=$pause" 0 "$rc"
hooks=$(grep -c '^hook .* attached ' "$dir/stats")
ok "each of its $hooks hooks paused the load" yes \
	"$([ "$took" -ge $((hooks * pause)) ] && echo yes || echo "no: ${took} ms")"

# The fault loop's row: every fault the bracket saw, it classified as what
# it was. Faults taken before the classifiers were attached are not there
# to see: unclassified.
sleep 1
# One read: the loop goes on faulting meanwhile.
cat "$dir/tasks" >"$tmp/tasks"
wrong=0
for c in fault_anon fault_file fault_swap fault_other; do
	wrong=$((wrong + $(column "$cow_pid" $c)))
done
ok "the loop's faults are never classified as fresh or other ones" 0 "$wrong"
sum=0
for c in cow_copy cow_reuse cow_zero unclassified; do
	sum=$((sum + $(column "$cow_pid" $c)))
done
ok "copies, reuses and the unclassified add up to its faults" \
	"$(column "$cow_pid" faults)" "$sum"

# The waiter's waits on CPU 0 are counted after the load, not lost: about
# 300 a second, none ever if its CPU's slot stayed open. A starved guest
# may see no contention in a given second: up to 10 of them.
echo "locks reset" >"$dir/control"
for secs in $(seq 10); do
	sleep 1
	waits=$(waits_of "$(pgrep -x ct_contend/0)")
	[ "$waits" -gt 0 ] && break
done
echo "# the waiter on CPU 0: $waits waits counted in $secs s"
ok "the waits on CPU 0 are counted" counted \
	"$([ "$waits" -gt 0 ] && echo counted || echo "none of them")"

kill -TERM "$storm_pid"
rc=0
wait "$storm_pid" || rc=$?
storm_pid=
ok "the storm ends cleanly" 0 "$rc"
stale=$(awk '$3 == "lifecycle_storm" && $4 == "alive" { print $1 }' \
	"$dir/tasks" | paste -sd' ')
ok "no row of the storm is alive once it is over" "" "$stale"

echo "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
