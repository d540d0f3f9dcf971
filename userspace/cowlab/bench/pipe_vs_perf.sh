#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# cowlab's pipe round trip against "perf bench sched pipe", side by side in
# one run on one machine: ROUNDS rounds, each running both (alternating
# which goes first), then the median of each and their ratio.
#
# Both measure the same op: process A writes 4 bytes into one pipe,
# process B reads them and writes 4 bytes back into a second pipe, A reads
# them: one round trip, unpinned.  perf times its whole loop including the
# fork and wait of its two processes; cowlab times the loop alone after a
# warm-up loop of the same length (negligible difference at these counts).
#
# Usage: pipe_vs_perf.sh [-r ROUNDS] [-l LOOPS] [-c COWLAB] [-t TOLERANCE%]
#                        [-p CPU]
#   ROUNDS    21; LOOPS 50000 round trips per run (perf's default is
#   1000000); COWLAB the cowlab binary (../cowlab next to this script);
#   TOLERANCE 10: exit status 1 if the medians differ by more.
#   CPU: run both tools pinned to this CPU (taskset).  Unpinned, each run
#   lands its two processes on one CPU or on two, and a cross-CPU wake-up
#   costs several times a same-CPU switch on a VM: on a loaded machine the
#   rounds are then bimodal for both tools alike, which medians of a few
#   rounds do not smooth out.  Pinned, every round of both is a same-CPU
#   switch.
# PERF=/path/to/perf picks perf explicitly.

rounds=21
loops=50000
tol=10
pin=
here=$(cd "$(dirname "$0")" && pwd)
cowlab=$here/../cowlab

while getopts r:l:c:t:p:h o; do
	case $o in
	r) rounds=$OPTARG ;;
	l) loops=$OPTARG ;;
	c) cowlab=$OPTARG ;;
	t) tol=$OPTARG ;;
	p) pin=$OPTARG ;;
	*) sed -n '3,/^$/s/^# \{0,1\}//p' "$0"; exit 2 ;;
	esac
done

die() {
	echo "pipe_vs_perf: $*" >&2
	exit 2
}

# Does this perf binary run the benchmark on this kernel?
perf_works() {
	[ -x "$1" ] && "$1" bench sched pipe -l 1000 >/dev/null 2>&1
}

# Debian's /usr/bin/perf may be a wrapper that execs perf_<kernel
# version> and fails on a kernel it has no perf for: try the real
# binaries too, newest first.
find_perf() {
	if [ -n "$PERF" ]; then
		perf_works "$PERF" && { echo "$PERF"; return 0; }
		return 1
	fi
	for c in $(command -v perf 2>/dev/null) \
		 $(ls -r /usr/bin/perf_* /usr/bin/perf-* 2>/dev/null) \
		 $(ls -r /usr/lib/linux-tools*/perf /usr/lib/linux-tools/*/perf 2>/dev/null) \
		 $(dpkg -L linux-perf 2>/dev/null | grep -E '/perf(_[0-9.]+)?$'); do
		perf_works "$c" && { echo "$c"; return 0; }
	done
	return 1
}

median() {
	sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2];
		      else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Run "$@", pinned to $pin if asked
on_cpu() {
	if [ -n "$pin" ]; then
		taskset -c "$pin" "$@"
	else
		"$@"
	fi
}

perf_ns() {
	on_cpu "$perf" bench sched pipe -l "$loops" 2>/dev/null |
		awk '/usecs\/op/ { printf "%.1f\n", $1 * 1000 }'
}

cowlab_ns() {
	on_cpu "$cowlab" -j ipc pipe --size 4 --count "$loops" --runs 1 |
		grep -o '"rt_ns":[0-9.eE+-]*' | head -n 1 |
		awk -F: '{ printf "%.1f\n", $2 }'
}

perf=$(find_perf) || die "no working perf binary (set PERF=...)"
[ -x "$cowlab" ] || die "no cowlab binary at $cowlab (build it, or -c)"
if [ -n "$pin" ]; then
	command -v taskset >/dev/null 2>&1 || die "-p needs taskset"
	taskset -c "$pin" true 2>/dev/null || die "cannot run on CPU $pin"
fi

tmp=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "perf: $perf ($("$perf" --version 2>/dev/null))"
echo "cowlab: $cowlab ipc pipe --size 4 --count $loops --runs 1"
echo "kernel: $(uname -r), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$pin" ]; then
	echo "placement: both tools pinned to CPU $pin"
else
	echo "placement: unpinned"
fi
printf '%-6s %14s %14s %8s\n' round perf_ns_op cowlab_ns_op ratio
i=1
while [ "$i" -le "$rounds" ]; do
	if [ $((i % 2)) -eq 1 ]; then
		p=$(perf_ns)
		c=$(cowlab_ns)
	else
		c=$(cowlab_ns)
		p=$(perf_ns)
	fi
	[ -n "$p" ] || die "perf gave no usecs/op"
	[ -n "$c" ] || die "cowlab gave no rt_ns"
	echo "$p" >>"$tmp/perf"
	echo "$c" >>"$tmp/cowlab"
	printf '%-6s %14s %14s %8.3f\n' "$i" "$p" "$c" \
		"$(awk -v p="$p" -v c="$c" 'BEGIN { print c / p }')"
	awk -v p="$p" -v c="$c" 'BEGIN { print c / p }' >>"$tmp/ratio"
	i=$((i + 1))
done

pm=$(median <"$tmp/perf")
cm=$(median <"$tmp/cowlab")
rm=$(median <"$tmp/ratio")
awk -v p="$pm" -v c="$cm" -v t="$tol" -v rm="$rm" 'BEGIN {
	r = c / p
	printf "median %14.1f %14.1f %8.3f (median of the rounds\047 ratios)\n",
	       p, c, rm
	printf "(ns per round trip)\n"
	printf "ratio cowlab/perf: %.3f (%swithin %s%%)\n", r,
	       (r >= 1 - t / 100 && r <= 1 + t / 100) ? "" : "NOT ", t
	exit !(r >= 1 - t / 100 && r <= 1 + t / 100)
}'
