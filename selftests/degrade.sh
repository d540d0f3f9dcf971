#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A kernel that lacks a probed function (inlined away, renamed) must still
# load cowtrace.ko: exactly the columns that function decides show "-",
# stats says which hook is missing and why, dmesg has one line. Pretended
# here with the skip_hooks parameter, one fault hook at a time, two at
# once, and a required hook, without which the module must refuse to load.
#
# Usage (in the VM, without the module loaded: vm-run --no-module):
#   selftests/degrade.sh build/SERIES/cowtrace.ko          KTAP output

set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=selftests/ktap.sh
. "$top/selftests/ktap.sh"
ko=${1:?usage: selftests/degrade.sh PATH/cowtrace.ko}
dir=/sys/kernel/debug/cowtrace
[ "$(id -u)" = 0 ] || skip "must run as root"
[ -d /sys/module/cowtrace ] && skip "cowtrace.ko is loaded: run with vm-run --no-module"

# The columns each fault hook decides, in the views' order (see fault.c).
declare -A columns=(
	[do_wp_page]="cow_copy cow_reuse cow_zero fault_anon fault_file cow_copy_anon cow_copy_file wp_shared fault_other"
	[wp_page_reuse]="cow_reuse fault_other"
	[folio_add_new_anon_rmap]="cow_copy cow_zero fault_file cow_copy_anon cow_copy_file fault_other"
	[do_swap_page]="cow_copy cow_reuse cow_zero fault_anon fault_file fault_swap cow_copy_anon cow_copy_file wp_shared fault_other"
	[do_huge_pmd_anonymous_page]="fault_anon thp_anon"
	[do_huge_pmd_wp_page]="fault_anon thp_reuse"
	[handle_mm_fault]="cow_copy cow_reuse cow_zero fault_anon fault_file fault_swap cow_copy_anon cow_copy_file thp_anon thp_reuse wp_shared fault_other"
)
hooks="do_wp_page wp_page_reuse folio_add_new_anon_rmap do_swap_page do_huge_pmd_anonymous_page do_huge_pmd_wp_page handle_mm_fault"

# The columns that show "-" on this shell's row of the tasks view.
dashed()
{
	awk -v pid=$$ '
	NR == 1 { for (i = 1; i <= NF; i++) name[i] = $i; next }
	$1 == pid {
		for (i = 5; i <= NF; i++)
			if ($i == "-")
				out = out (out ? " " : "") name[i]
		print out
	}' "$dir/tasks"
}

# dmesg lines about @hook since the module was loaded.
said()
{
	dmesg | sed -n "/cowtrace: loading with skip_hooks=$2\$/,\$p" |
		grep -c "cowtrace: cannot attach to $1 "
}

# The union of two column lists, in the views' order.
union()
{
	local c out=

	for c in faults cow_copy cow_reuse cow_zero fault_anon fault_file \
		fault_major fault_swap forks threads execs cow_copy_anon \
		cow_copy_file thp_anon thp_reuse wp_shared fault_other \
		unclassified; do
		case " $1 $2 " in *" $c "*) out="$out${out:+ }$c" ;; esac
	done
	echo "$out"
}

load()
{
	echo "cowtrace: loading with skip_hooks=$1" >/dev/kmsg
	insmod "$ko" "skip_hooks=$1"
}

echo "TAP version 13"
echo "1..31"

for hook in $hooks; do
	rc=0
	load "$hook" || rc=$?
	ok "loads without $hook" 0 "$rc"
	ok "without $hook, stats lists exactly its columns" "${columns[$hook]}" \
		"$(sed -n 's/^unavailable_columns //p' "$dir/stats" 2>/dev/null)"
	ok "the tasks view shows - in exactly those" "${columns[$hook]}" \
		"$(dashed 2>/dev/null)"
	why="unavailable error -125 (left out: skip_hooks names it)"
	ok "stats and dmesg say why, once" "1 1" \
		"$(grep -c "^hook \(ftrace\|kprobe\|kretprobe\) $hook $why\$" "$dir/stats" 2>/dev/null) $(said "$hook" "$hook")"
	[ "$rc" != 0 ] || rmmod cowtrace
done

# Two at once: the union.
load wp_page_reuse,do_huge_pmd_wp_page
ok "without two hooks, the union of their columns" \
	"$(union "${columns[wp_page_reuse]}" "${columns[do_huge_pmd_wp_page]}")" \
	"$(sed -n 's/^unavailable_columns //p' "$dir/stats")"
rmmod cowtrace

# A hook the module cannot do without: it does not load, and says why.
if load sched_process_exit 2>/dev/null; then
	rmmod cowtrace
	ok "without sched_process_exit it refuses to load" refused loaded
else
	ok "without sched_process_exit it refuses to load" refused refused
fi
ok "and dmesg says why" 1 \
	"$(dmesg | sed -n '/cowtrace: loading with skip_hooks=sched_process_exit$/,$p' |
		grep -c 'cannot attach to sched_process_exit (tracepoint): .*; cannot load without it$')"
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
