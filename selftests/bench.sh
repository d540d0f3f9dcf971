#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmarks never rot: each runs once with tiny sizes and gives every
# figure it should (they assert nothing about timings), and a benchmark
# whose programs are missing says so at once instead of running its rounds.
#  - scripts/bench/run from a tree with only the module built, or nothing:
#    refused in seconds, naming what is missing, no VM started; --guest
#    likewise;
#  - the fault and lock benchmark in the VM (one round of a few faults):
#    a figure for every variant, in time and in guest instructions, the
#    instruction counter exact on a loop of known length; a counter whose
#    counts do not match the runs, or fall short, refused;
#  - libuthread's peers (--smoke): every library's figures; bad options
#    refused with a usage message;
#  - the report from those figures: its parts and charts; a time cost
#    inside the rounds' noise not quoted; a figures file without figures
#    refused.
#
# Usage: selftests/bench.sh [SERIES]   (as root, after scripts/setup).
# KTAP output.

set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
series=${1:-6.1}
tmp=$(mktemp -d /tmp/bench-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=selftests/ktap.sh
. "$top/selftests/ktap.sh"

echo "TAP version 13"
echo "1..40"

# ---- the module built, the benchmark's programs not
mkdir -p "$tmp/tree/build/$series/noevent"
cp -r "$top/scripts" "$tmp/tree/"
make -s -C "$top" KVER="$series" module module-noevent >"$tmp/build" 2>&1 ||
	cat "$tmp/build" >&2
cp "$top/build/$series/cowtrace.ko" "$tmp/tree/build/$series/"
cp "$top/build/$series/noevent/cowtrace.ko" "$tmp/tree/build/$series/noevent/"
start=$SECONDS
rc=0
KVER=$series "$tmp/tree/scripts/bench/run" >"$tmp/out" 2>"$tmp/err" || rc=$?
ok "no programs built: refused" 1 "$rc"
ok "no programs built: at once" yes \
	"$([ $((SECONDS - start)) -lt 10 ] && echo yes || echo "no: $((SECONDS - start)) s")"
ok "no programs built: faultbench named" 1 \
	"$(grep -c "missing $tmp/tree/build/faultbench" "$tmp/err")"
ok "no programs built: lockbench named" 1 \
	"$(grep -c "missing $tmp/tree/build/lockbench" "$tmp/err")"
ok "no programs built: the instruction counter named" 1 \
	"$(grep -c "missing $tmp/tree/build/insncount.so" "$tmp/err")"
ok "no programs built: no VM started" 0 "$(grep -c '^# round' "$tmp/err")"

# ---- nothing built
rm -r "$tmp/tree/build"
rc=0
KVER=$series "$tmp/tree/scripts/bench/run" >"$tmp/out" 2>"$tmp/err" || rc=$?
ok "nothing built: refused" 1 "$rc"
ok "nothing built: the module named" 1 \
	"$(grep -c "missing $tmp/tree/build/$series/cowtrace.ko" "$tmp/err")"

rc=0
"$top/scripts/bench/run" --guest "$tmp/none.ko" "$tmp/none2.ko" \
	>"$tmp/out" 2>"$tmp/err" || rc=$?
ok "--guest without its module: refused" 1 "$rc"
ok "--guest without its module: named" 1 "$(grep -c "missing $tmp/none.ko" "$tmp/err")"

# ---- one tiny round in the VM
make -s -C "$top" "$top/build/faultbench" "$top/build/lockbench" \
	"$top/build/insncount.so" >"$tmp/build" 2>&1 || cat "$tmp/build" >&2
rc=0
# every kind, in an order of our own: the guest must be told it
(cd "$top" && KVER=$series BENCH_ROUNDS=1 BENCH_PAGES=20 BENCH_REPS=1 \
	BENCH_INSN_ROUNDS=1 BENCH_INSN_REPS=1 BENCH_LOCK_OPS=20 BENCH_OUT="$tmp/bench" \
	BENCH_KINDS="storm file-around file reuse cow anon" scripts/bench/run) \
	>"$tmp/out" 2>"$tmp/err" || rc=$?
ok "fault benchmark, one tiny round: exit status" 0 "$rc"
ok "fault benchmark: the kinds in the order asked" storm \
	"$(grep -m1 -oE '^[a-z-]+ +none ' "$tmp/out" | cut -d' ' -f1)"
for kind in anon cow reuse file file-around storm; do
	ok "fault benchmark: a figure for each of 9 variants ($kind)" 9 \
		"$(sed '/insns\/fault/,$d' "$tmp/out" |
			grep -cE "^$kind +(none|noevent|cowtrace|bracket|classify|event|perfrecord|bpftrace|perftrace) +[0-9.]+ ")"
done
ok "lock benchmark: a figure for each of 3 variants" 3 \
	"$(grep -cE '^mmap-lock +(none|cowtrace|perf) +[0-9.]+ ' "$tmp/out")"
# 10000 turns of dec + jnz, and the start mark
ok "instruction counter: a loop of known length counted exactly" 1 \
	"$(grep -c '^insns 20001$' "$tmp/bench/insns.raw" 2>/dev/null | awk '{ print ($1 > 0) }')"
for kind in anon cow reuse file file-around storm; do
	ok "counted boot: instructions for each of 9 variants ($kind)" 9 \
		"$(sed -n '/insns\/fault/,$p' "$tmp/out" |
			grep -cE "^$kind +(none|noevent|cowtrace|bracket|classify|event|perfrecord|bpftrace|perftrace) +[0-9.]+ +[0-9.]+ +[0-9.]+ +-?[0-9.]+%$")"
done
[ "$failed" = 0 ] || { sed 's/^/# out: /' "$tmp/out"; tail -n 20 "$tmp/err" | sed 's/^/# err: /'; }

# ---- the counter's lines against the runs'
printf 'insn\tcalib\tcalib\t21\ninsn\tnone\tanon\t10\n' >"$tmp/runs"
printf 'insns 21\ninsns 5000\n' >"$tmp/counts"
ok "counted runs: instructions per fault" "none	anon	500.0" \
	"$("$top/scripts/bench/run" --insns-per-fault "$tmp/runs" "$tmp/counts" 2>&1)"
printf 'insns 21\n' >"$tmp/counts"
rc=0
"$top/scripts/bench/run" --insns-per-fault "$tmp/runs" "$tmp/counts" >/dev/null 2>"$tmp/err" || rc=$?
ok "counted runs: a count missing refused" "1 1" "$rc $(grep -c '1 counts, for 2 runs' "$tmp/err")"
printf 'insns 20\ninsns 5000\n' >"$tmp/counts"
rc=0
"$top/scripts/bench/run" --insns-per-fault "$tmp/runs" "$tmp/counts" >/dev/null 2>"$tmp/err" || rc=$?
ok "counted runs: a counter short of the check loop refused" "1 1" \
	"$rc $(grep -c 'counted 20 of 21 instructions' "$tmp/err")"

# ---- libuthread's peers
peers=$top/userspace/uthread/build/peers
make -s -C "$top/userspace/uthread" build/peers >"$tmp/build" 2>&1 ||
	cat "$tmp/build" >&2
mkdir -p "$tmp/bench"
rc=0
"$peers" --smoke --tsv "$tmp/bench/peers.tsv" >"$tmp/out" 2>"$tmp/err" || rc=$?
ok "peers --smoke: every figure given" 0 "$rc"
# switch of 6 (libuthread's primitive too), create+join, memory and most
# threads of 5, echo of 4
ok "peers --smoke: the figures in the TSV" 25 \
	"$(grep -cE '^(switch|create_join|idle_total|max_threads|echo_rps)	' "$tmp/bench/peers.tsv")"
# each echo figure with what a request cost the server and the client (300 ms
# counted at 10 connections: tens of clock ticks)
ok "peers --smoke: the CPU time beside each echo figure" "4 4 4 4" \
	"$(for s in echo_cpu echo_sys echo_busy echo_client_cpu; do grep -c "^$s	" "$tmp/bench/peers.tsv"; done | xargs)"
[ "$rc" = 0 ] || sed 's/^/# /' "$tmp/out" "$tmp/err"
rc=0
"$peers" --rounds 0 >"$tmp/out" 2>"$tmp/err" || rc=$?
ok "peers --rounds 0: refused" "2 1" "$rc $(grep -c 'rounds: 1 to' "$tmp/err")"
rc=0
"$peers" --bogus >"$tmp/out" 2>"$tmp/err" || rc=$?
ok "peers --bogus: usage" "2 1" "$rc $(grep -c '^usage: peers' "$tmp/err")"

# ---- the report from those figures
"$top/userspace/cowlab/cowlab" --json fork sweep --max 4M --runs 1 \
	>"$tmp/bench/fork.json" 2>"$tmp/err"
rc=0
"$top/scripts/bench/report" "$tmp/bench" >"$tmp/out" 2>"$tmp/err" || rc=$?
ok "report: made" 0 "$rc"
ok "report: its three parts, each with figures" "3 0" \
	"$(grep -c '^## ' "$tmp/bench/report.md") $(grep -c '^No figures' "$tmp/bench/report.md")"
ok "report: every chart drawn" 11 "$(grep -l '<svg' "$tmp"/bench/*.svg | wc -l)"
ok "report: every chart in it" 11 \
	"$(grep -oE '!\[[^]]*\]\([a-z-]+\.svg\)' "$tmp/bench/report.md" | wc -l)"
# A cost inside the rounds' spread is not quoted; one outside it is.
mkdir -p "$tmp/noise"
printf 'section\tvariant\tparam\tmedian\tlow\thigh\tunit\n%s\n%s\n%s\n' \
	"fault_anon	none	0	20000.0	19000.0	23000.0	ns" \
	"fault_anon	cowtrace	0	21000.0	20000.0	24000.0	ns" \
	"fault_anon	bpftrace	0	30000.0	28000.0	33000.0	ns" >"$tmp/noise/faults.tsv"
rc=0
"$top/scripts/bench/report" "$tmp/noise" >"$tmp/out" 2>"$tmp/err" || rc=$?
ok "report: a cost inside the rounds' noise not quoted, one outside quoted" \
	"0 cowtrace: inside the noise (rounds of 20000-24000 ns, 19000-23000 with no module); bpftrace adds 10000.0 ns (50.0 %) a fault." \
	"$rc $(grep '^cowtrace' "$tmp/noise/report.md")"
head -n 1 "$tmp/bench/faults.tsv" >"$tmp/bench/empty.tsv"
mv "$tmp/bench/empty.tsv" "$tmp/bench/faults.tsv"
rc=0
"$top/scripts/bench/report" "$tmp/bench" >"$tmp/out" 2>"$tmp/err" || rc=$?
ok "report: a figures file without figures refused" "1 1" \
	"$rc $(grep -c 'holds no fault figure' "$tmp/err")"

[ "$failed" = 0 ]
