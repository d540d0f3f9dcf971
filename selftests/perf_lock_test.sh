#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# perf lock contention (Debian's linux-perf) records the same lock waits
# from the same tracepoints, system-wide, while the module counts them: four
# threads of one process mapping and unmapping memory (locks_test's mmap
# workload). Both tables are printed side by side, and:
#  - every task of the workload's thread group has exactly as many
#    contentions in the module as perf gives it;
#  - so has every call site of mmap and munmap taking the mmap lock;
#  - every other task, every other call site of the mmap lock and every
#    other kind of lock has in the module at least what perf reports.
#
# The module counts from the reset below, before perf starts, to the read
# after perf has ended; the workload leaves the counts alone (CT_LOCKS_KEEP).
# So every wait perf records, counted at its begin, ends inside the module's
# period. The workload's thread group lives inside perf's period, the other
# tasks (perf itself, the harness perf forked before it started, kernel
# threads) beyond it: hence "exactly" and "at least". When the workload
# reset the counts itself, the first waits of the test's process (the
# child the harness forks calls setpgrp(), a write lock of tasklist_lock)
# and of the harness (exec's mutexes on lockdep) fell before the module's
# period and inside perf's; CI saw perf ahead so.
#
# "At least" allows for the waits the module tells it did not count
# ("lost"): it folds a wait begun inside another of the same CPU or task
# into the outer one, as perf's BPF mode does, where perf without BPF
# counts a second wait if the lock differs (a queued rwlock's own
# wait_lock).
#
# perf without BPF pairs the recorded events again by call stack and, now and
# then, loses a wait whose two events it files under different stacks (seen
# on page-fault reads of the mmap lock: its per-task count is right, its
# per-caller count short); hence "at least" for the other call sites too.
#
# Call sites are compared one by one only for the mmap lock (rwsem), which
# both name alike. For the other kinds perf may file a wait one frame above
# its call site (it skips a fixed number of frames: a spinning rwlock wait
# of copy_process() and do_wait() it files under kernel_clone() and
# kernel_wait4()), so each of those kinds is compared as one total.
#
# On a kernel with lockdep (the locks view says "lockdep 1") every mutex
# acquisition is a contention event, perf's own threads' and the harness's
# included (200,000 and more while perf records): the same rules hold.

set -u

here=$(dirname "$(readlink -f "$0")")
workload=$here/locks_test
locks=/sys/kernel/debug/cowtrace/locks
control=/sys/kernel/debug/cowtrace/control
# shellcheck source=selftests/ktap.sh
. "$here/ktap.sh"

echo "TAP version 13"
[ "$(id -u)" = 0 ] || skip "must be run as root"
[ -d /sys/module/cowtrace ] || skip "cowtrace.ko is not loaded"
command -v perf >/dev/null || skip "perf is not installed (linux-perf)"
[ -x "$workload" ] || skip "build the selftests first"
grep -q '^== contention by kind' "$locks" || skip "no lock contention tracepoints"
[ -d /sys/kernel/tracing/events ] ||
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
	skip "cannot mount tracefs"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "locks reset" >"$control"
CT_LOCKS_KEEP=1 perf lock record -o "$tmp/perf.data" -a -k mono -- "$workload" \
	-t mmap_threads_contend_on_the_mmap_lock >"$tmp/record" 2>&1 ||
	{ sed 's/^/# /' "$tmp/record"; skip "perf lock record failed"; }
perf lock contention -i "$tmp/perf.data" -E 1000 >"$tmp/perf" 2>&1 ||
	{ sed 's/^/# /' "$tmp/perf"; skip "perf lock contention failed"; }
perf lock contention -i "$tmp/perf.data" -t -E 1000 >"$tmp/perf.t" 2>&1 ||
	{ sed 's/^/# /' "$tmp/perf.t"; skip "perf lock contention -t failed"; }
cp "$locks" "$tmp/module"

# perf: "count total unit max unit avg unit type caller+off", one row per
# call stack, so the same caller may appear more than once: sum them.
awk 'NF == 9 && $1 ~ /^[0-9]+$/ { n[$8 " " $9] += $1 }
     END { for (k in n) print k, n[k] }' "$tmp/perf" | sort >"$tmp/perf.sites"
awk 'NF == 9 && $1 ~ /^[0-9]+$/ { n[$8] += $1; comm[$8] = $9 }
     END { for (k in n) print k, n[k], comm[k] }' "$tmp/perf.t" |
	sort >"$tmp/perf.tasks"
# Sites of the mmap lock; every other kind as a total.
grep '^rwsem:' "$tmp/perf.sites" >"$tmp/perf.rwsem"
awk 'NF == 9 && $1 ~ /^[0-9]+$/ && $8 !~ /^rwsem:/ { n[$8] += $1 }
     END { for (k in n) print k, n[k] }' "$tmp/perf" | sort >"$tmp/perf.kinds"
# module: "kind count wait max avg caller+off/size" in the call-site section
awk '/^== contention by call site/ { on = 1; getline; next }
     /^==/ { on = 0 }
     on { sub(/\/0x[0-9a-f]+$/, "", $6)
          n[$1 " " $6] += $2 }
     END { for (k in n) print k, n[k] }' "$tmp/module" | sort >"$tmp/module.sites"
awk '/^== contention by task/ { on = 1; getline; next }
     /^==/ { on = 0 }
     on { print $1, $4, $2 }' "$tmp/module" | sort >"$tmp/module.tasks"
# The workload's thread group: that of its mapping threads, the only
# locks_test tasks that are not a thread group's leader.
workload=$(awk '/^== contention by task/ { on = 1; getline; next }
     /^==/ { on = 0 }
     on && $3 == "locks_test" && $1 != $2 { print $2; exit }' "$tmp/module")

echo "# perf lock contention:"
sed 's/^/#   /' "$tmp/perf"
echo "# cowtrace locks, contention by call site:"
sed -n '/^== contention by call site/,/^== file locks/p' "$tmp/module" |
	sed 's/^/#   /'
echo "# perf lock contention -t:"
sed 's/^/#   /' "$tmp/perf.t"

# @2, with the @3 waits the module did not count, is at least perf's @1.
covers()
{
	[ $(($2 + $3)) -ge "$1" ] && echo yes || echo "no ($2, $3 lost)"
}

# What the module says it did not count: waits folded as nested, waits
# without a sleeper slot, waits open when their task exited; for a task's
# row, also waits its CPU's task table had no room for.
# "lost nested N sleepers N sites N tasks N abandoned N"
read -r lost_line < <(grep -m1 '^lost ' "$tmp/module")
echo "# cowtrace: $lost_line"
read -r _ _ nested _ sleepers _ _ _ lost_rows _ abandoned <<<"$lost_line"
lost=$((nested + sleepers + abandoned))

sites=$(wc -l <"$tmp/perf.rwsem")
kinds=$(wc -l <"$tmp/perf.kinds")
tasks=$(wc -l <"$tmp/perf.tasks")
[ "$sites" -gt 0 ] || { echo "1..1"; ok "perf saw mmap lock contention" yes no; exit 1; }
echo "1..$((sites + kinds + tasks + 2))"
exact=0
while read -r tid count comm; do
	# A pid may have two rows (reused): its thread group, their sum.
	read -r ours tgid < <(awk -v t="$tid" '$1 == t { n += $2; g = $3 }
		END { print n + 0, g }' "$tmp/module.tasks")
	if [ -n "$workload" ] && [ "$tgid" = "$workload" ]; then
		exact=$((exact + 1))
		ok "task $tid of the workload: perf and cowtrace agree" \
			"$count" "$ours"
	else
		ok "task $tid ($comm): cowtrace has at least perf's $count" yes \
			"$(covers "$count" "$ours" $((lost + lost_rows)))"
	fi
done <"$tmp/perf.tasks"
ok "the workload's threads were compared one by one" yes \
	"$([ "$exact" -gt 0 ] && echo yes || echo "no (workload '$workload')")"
while read -r kind count; do
	ours=$(awk -v k="$kind" '$1 == k { print $2; exit }' "$tmp/module")
	ok "$kind, every call site: cowtrace has at least perf's $count" yes \
		"$(covers "$count" "${ours:-0}" "$lost")"
done <"$tmp/perf.kinds"
while read -r kind caller count; do
	ours=$(awk -v k="$kind" -v c="$caller" '$1 == k && $2 == c { print $3 }' \
		"$tmp/module.sites")
	ours=${ours:-0}
	case "$kind $caller" in
	"rwsem:W vm_mmap_pgoff+"* | "rwsem:W __vm_munmap+"*)
		ok "$kind at $caller: perf and cowtrace agree" "$count" "$ours"
		;;
	*)
		ok "$kind at $caller: cowtrace has at least perf's $count" yes \
			"$(covers "$count" "$ours" 0)"
		;;
	esac
done <"$tmp/perf.rwsem"
# The workload's own sites: mmap and munmap take the mmap lock for writing.
ok "the mmap lock was contended for writing" yes \
	"$(grep -qE '^rwsem:W (vm_mmap_pgoff|__vm_munmap)\+' "$tmp/perf.sites" &&
	   echo yes || echo no)"
[ "$failed" = 0 ]
