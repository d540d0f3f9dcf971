#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a command with KCSAN watching cowtrace.ko, on a kernel built with it
# (the kcsan series). The kcsan series boots with KCSAN off; this limits its
# reports to data races whose two sides are both in the loaded module's
# functions (the kernel's own races, which it has by design, and races
# between cowtrace and the kernel's code stay out), turns it on, runs CMD
# and turns it off. A report is a "BUG: KCSAN" line in the kernel log, which
# fails the vm-run.
#
# Usage: selftests/kcsan.sh CMD [ARG...]   (as root, module loaded)

set -u

ctl=/sys/kernel/debug/kcsan

[ $# -gt 0 ] || { echo "usage: selftests/kcsan.sh CMD [ARG...]" >&2; exit 2; }
[ -w "$ctl" ] || { echo "kcsan.sh: this kernel has no KCSAN" >&2; exit 2; }
[ -d /sys/module/cowtrace ] || { echo "kcsan.sh: cowtrace.ko is not loaded" >&2; exit 2; }

# By module and name: a static function may share its name with one of the
# kernel's. The module's __init functions are listed but gone: refused.
n=0
for name in $(awk '$4 == "[cowtrace]" && ($2 == "t" || $2 == "T") { print $3 }' /proc/kallsyms); do
	echo "!cowtrace:$name" 2>/dev/null >"$ctl" && n=$((n + 1))
done
# An empty list would let every report through.
[ "$n" -gt 0 ] || { echo "kcsan.sh: no functions of cowtrace in /proc/kallsyms" >&2; exit 1; }
echo whitelist >"$ctl"
echo on >"$ctl"
echo "# KCSAN on, reporting races within cowtrace's $n functions"
rc=0
"$@" || rc=$?
echo off >"$ctl"
exit "$rc"
