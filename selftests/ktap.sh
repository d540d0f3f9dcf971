# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# What the shell tests share (sourced, not run): KTAP lines for a plan of
# cases that compare an expected value with the one measured.
#
#   skip REASON                  the whole program is skipped (exit 4)
#   ok NAME EXPECTED ACTUAL      one case; failures are counted in $failed
#
# The caller prints the plan ("1..$n") itself, before or after its cases.

n=0
failed=0

skip()
{
	echo "1..0 # SKIP $*"
	exit 4
}

ok()
{
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $n $1"
	else
		echo "# expected '$2', got '$3'"
		echo "not ok $n $1"
		failed=$((failed + 1))
	fi
}

# stop_bpftrace PID: end a bpftrace that has attached, so that it prints its
# maps. bpftrace only notices SIGINT when the signal interrupts its
# epoll_wait(); one that lands while it reads its buffers sets a flag
# nothing checks, and it runs on (seen on a loaded machine). So the signal
# is sent again until it exits; a second one is harmless. SIGKILL after
# $2 seconds (default 120): its maps are lost then, which the caller sees.
stop_bpftrace()
{
	local pid=$1 limit=${2:-120} i

	for i in $(seq $((limit * 2))); do
		kill -0 "$pid" 2>/dev/null || break
		[ $((i % 4)) = 1 ] && kill -INT "$pid" 2>/dev/null
		sleep 0.5
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
}
