#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cowtrace:fault, the module's trace event, read by the usual consumers:
# the kernel's trace buffer (tracefs), trace-cmd, perf and bpftrace. For
# each workload task, whose whole life the consumer saw, the events by kind
# must equal the task's row in the tasks view exactly, column by column,
# and the events in all must equal the faults the module classified. The
# return probe that times the event is in only while it has a consumer.

set -u

here=$(dirname "$(readlink -f "$0")")
helper=$here/fault_exec_helper
tasks=/sys/kernel/debug/cowtrace/tasks
stats=/sys/kernel/debug/cowtrace/stats
tracing=/sys/kernel/tracing
pages=200
kinds="cow_copy cow_reuse cow_zero fault_anon fault_file fault_swap thp_anon thp_reuse wp_shared fault_other"
# shellcheck source=selftests/ktap.sh
. "$here/ktap.sh"

# The row of task $1, as "kind=N ..." and the faults it classified.
row_counts()
{
	awk -v pid="$1" -v kinds="$kinds" '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == pid {
			n = split(kinds, k, " ")
			for (i = 1; i <= n; i++)
				printf "%s=%s ", k[i], $idx[k[i]]
			printf "classified=%d\n", $idx["faults"] - $idx["unclassified"]
		}' "$tasks"
}

# The same from "PID KIND" lines (one per event) in file $2.
event_counts()
{
	awk -v pid="$1" -v kinds="$kinds" '
		$1 == pid { n[$2]++; all++ }
		END {
			m = split(kinds, k, " ")
			for (i = 1; i <= m; i++)
				printf "%s=%d ", k[i], n[k[i]]
			printf "classified=%d\n", all
		}' "$2"
}

compare()
{
	local consumer=$1 events=$2 pid

	for pid in $pids; do
		ok "$consumer: task $pid's events are its row" \
			"$(row_counts "$pid")" "$(event_counts "$pid" "$events")"
	done
}

echo "TAP version 13"
[ "$(id -u)" = 0 ] || skip "must be run as root"
[ -d /sys/module/cowtrace ] || skip "cowtrace.ko is not loaded"
[ -x "$helper" ] || skip "build the selftests first"
[ -d "$tracing/events" ] || skip "no tracefs at $tracing"
echo "1..21"
if [ ! -d "$tracing/events/cowtrace/fault" ]; then
	echo "not ok 1 the module defines cowtrace:fault"
	echo "# 0 passed, 21 failed"
	exit 1
fi
ok "the module defines cowtrace:fault" yes yes
tmp=$(mktemp -d)
inst=$tracing/instances/cowtrace_test_$$
trap 'rmdir "$inst" 2>/dev/null; rm -rf "$tmp"' EXIT

# "PID KIND ADDRESS IP" from the text of a trace buffer (tracefs's "trace",
# trace-cmd report): "comm-PID [cpu] ... fault: address=A ip=I kind=K ...".
trace_text_events()
{
	sed -n 's/^ *.*-\([0-9][0-9]*\) *\[[0-9]*\] .* fault: *address=\([0-9a-fx]*\) ip=\([0-9a-fx]*\) kind=\([a-z_]*\) .*/\1 \4 \2 \3/p'
}

# The event's return probe: "attached" or "off".
return_probe()
{
	sed -n 's/^fault_event_return_probe \([a-z]*\) .*/\1/p' "$stats"
}

# --- tracefs, in an instance of its own: the global buffer is not ours
ok "no consumer: the event's return probe is off" off "$(return_probe)"
mkdir "$inst"
echo 8192 >"$inst/buffer_size_kb"
echo 1 >"$inst/events/cowtrace/fault/enable"
ok "a consumer: the event's return probe is in" attached "$(return_probe)"
pids=$("$helper" xcheck $pages)
echo 0 >"$inst/events/cowtrace/fault/enable"
ok "the consumer gone: the return probe is out" off "$(return_probe)"
trace_text_events <"$inst/trace" >"$tmp/tracefs"
# "entries-in-buffer/entries-written: 1234/1234": none overwritten.
written=$(sed -n 's/^# entries-in-buffer\/entries-written: \([0-9]*\)\/\([0-9]*\).*/\1 \2/p' "$inst/trace")
ok "tracefs: no event lost" "${written#* } ${written#* }" "$written"
compare tracefs "$tmp/tracefs"
# The third child wrote $pages fresh pages, one store each, in one loop.
# shellcheck disable=SC2086 # a list of pids
set -- $pids
ok "tracefs: its fresh pages are $pages addresses" $pages \
	"$(awk -v pid="$3" '$1 == pid && $2 == "fault_anon" { print $3 }' "$tmp/tracefs" |
		sort -u | wc -l)"
ok "tracefs: written by one instruction" 1 \
	"$(awk -v pid="$3" '$1 == pid && $2 == "fault_anon" { print $4 }' "$tmp/tracefs" |
		sort -u | wc -l)"

# --- trace-cmd, recording from before the workload starts
if ! command -v trace-cmd >/dev/null; then
	for _ in 1 2 3 4; do echo "ok $((n += 1)) trace-cmd # SKIP trace-cmd is not installed"; done
else
	(cd "$tmp" && trace-cmd record -q -e cowtrace:fault -b 8192 -o "$tmp/tc.dat" \
		"$helper" xcheck $pages >"$tmp/pids" 2>"$tmp/tc.err")
	ok "trace-cmd record ran the workload" 0 "$?"
	pids=$(grep -E '^[0-9]+ [0-9]+ [0-9]+$' "$tmp/pids")
	trace-cmd report -i "$tmp/tc.dat" 2>/dev/null | trace_text_events >"$tmp/trace-cmd"
	compare trace-cmd "$tmp/trace-cmd"
fi

# --- perf, system-wide from before the workload starts
if ! command -v perf >/dev/null; then
	for _ in 1 2 3 4; do echo "ok $((n += 1)) perf # SKIP perf is not installed"; done
else
	perf record -q -e cowtrace:fault -a -m 1024 -o "$tmp/perf.data" -- \
		"$helper" xcheck $pages >"$tmp/pids" 2>"$tmp/perf.err"
	ok "perf record ran the workload" 0 "$?"
	pids=$(cat "$tmp/pids")
	perf script -i "$tmp/perf.data" -F pid,trace 2>/dev/null |
		sed -n 's/^ *\([0-9][0-9]*\) .*kind=\([a-z_]*\) .*/\1 \2/p' >"$tmp/perf"
	compare perf "$tmp/perf"
fi

# --- bpftrace, attached before the workload starts
if ! command -v bpftrace >/dev/null; then
	for _ in 1 2 3; do echo "ok $((n += 1)) bpftrace # SKIP bpftrace is not installed"; done
else
	bpftrace -e 'BEGIN { printf("Tracing\n"); }
		tracepoint:cowtrace:fault { @[pid, args->kind] = count(); }' \
		>"$tmp/bt.out" 2>&1 &
	bt=$!
	# bpftrace compiles for a while first: 10 s under emulation, minutes
	# on a sanitizer kernel. Never signal it before it has attached.
	for _ in $(seq $((240 * ${COWTRACE_TIMEOUT_SCALE:-1}))); do
		grep -q '^Tracing' "$tmp/bt.out" && break
		kill -0 $bt 2>/dev/null || break
		sleep 0.5
	done
	pids=
	grep -q '^Tracing' "$tmp/bt.out" && pids=$("$helper" xcheck $pages)
	stop_bpftrace $bt $((120 * ${COWTRACE_TIMEOUT_SCALE:-1}))
	[ -n "$pids" ] || pids="bpftrace-did-not-start x x"
	# "@[1234, cow_copy]: 100" is 100 events
	sed -n 's/^@\[\([0-9]*\), \([a-z_]*\)\]: \([0-9]*\)$/\1 \2 \3/p' "$tmp/bt.out" |
		awk '{ for (i = 0; i < $3; i++) print $1, $2 }' >"$tmp/bpftrace"
	before=$failed
	compare bpftrace "$tmp/bpftrace"
	[ "$failed" = "$before" ] || sed 's/^/# bpftrace: /' "$tmp/bt.out"
fi
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
