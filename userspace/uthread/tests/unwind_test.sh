#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Unwinding through the assembly context switch, in the harness's KTAP
# format for run_tests.sh:
#  1. fde_covers_switch: each variant's switch object has a CFI FDE (in
#     .eh_frame, which debuggers, libgcc and perf read) covering each of
#     its functions.
#  2. libgcc_plain, libgcc_asan: unwind_target --self-step single-steps
#     itself and checks what _Unwind_Backtrace() finds before each
#     instruction of every switch.
#  3. gdb_plain, gdb_asan: the same checks, with gdb single-stepping
#     unwind_target (tests/unwind.py).
# Both in the plain and the ASan build: the latter keeps frame pointers,
# so there an unwind that loses the caller's %rbp loses the rest of the
# backtrace, not just a register.
# Usage: unwind_test.sh BUILD_DIR "ASSEMBLY SOURCES"; the second argument is
# empty when the library uses the C (ucontext) switch, whose CFI the
# compiler writes: then everything is skipped.

b=$1
asm=$2
here=$(dirname "$0")
n=0
pass=0
fail=0
skip=0

ok() {
	n=$((n + 1))
	pass=$((pass + 1))
	echo "ok $n unwind.$1"
}

not_ok() {
	n=$((n + 1))
	fail=$((fail + 1))
	echo "not ok $n unwind.$1"
}

skip() {
	n=$((n + 1))
	skip=$((skip + 1))
	echo "ok $n unwind.$1 # SKIP $2"
}

# Is [start, start + size) of function $2 inside one FDE of object $1?
fde_covers() {
	sym=$(readelf -sW "$1" | awk -v f="$2" \
		'$4 == "FUNC" && $8 == f { print $2, $3 }')
	[ -n "$sym" ] || { echo "# $1: no function $2"; return 1; }
	set -- "$1" "$2" $sym
	lo=$((0x$3))
	hi=$((lo + $4))
	readelf --debug-dump=frames "$1" |
	sed -n 's/.* FDE .*pc=\([0-9a-f]*\)\.\.\([0-9a-f]*\).*/\1 \2/p' |
	while read -r start end; do
		if [ $((0x$start)) -le "$lo" ] && [ $((0x$end)) -ge "$hi" ]; then
			echo covered
		fi
	done | grep -q covered && return 0
	echo "# $1: no FDE covers $2, so no unwinder gets past it"
	return 1
}

# libgcc's checks on one variant's unwind_target
libgcc_check() {
	if "$b/$1/unwind_target" --self-step >"$b/unwind-libgcc-$1.log" 2>&1
	then
		ok "libgcc_$1"
	else
		not_ok "libgcc_$1"
	fi
	sed 's/^\([^#]\)/# \1/' "$b/unwind-libgcc-$1.log"
}

# gdb's checks on one variant's unwind_target
gdb_check() {
	name=gdb_$1
	prog=$b/$1/unwind_target
	# LeakSanitizer's leak check at exit cannot work under ptrace
	if ASAN_OPTIONS=detect_leaks=0 gdb -q -batch -x "$here/unwind.py" \
			"$prog" 2>"$b/unwind-gdb-$1.log" >/dev/null; then
		ok "$name"
	else
		not_ok "$name"
	fi
	sed 's/^\([^#]\)/# \1/' "$b/unwind-gdb-$1.log"
}

echo "TAP version 13"
echo "1..5"

if [ -z "$asm" ]; then
	why="no assembly switch in this build (ucontext: the compiler's CFI)"
	skip fde_covers_switch "$why"
	skip libgcc_plain "$why"
	skip libgcc_asan "$why"
	skip gdb_plain "$why"
	skip gdb_asan "$why"
else
	if ! command -v readelf >/dev/null; then
		skip fde_covers_switch "readelf (binutils) is not installed"
	else
		bad=0
		for o in "$b"/*/"${asm%.S}.o"; do
			for f in ut_ctx_switch ut_thread_entry; do
				fde_covers "$o" "$f" || bad=1
			done
		done
		if [ "$bad" = 0 ]; then
			ok fde_covers_switch
		else
			not_ok fde_covers_switch
		fi
	fi

	libgcc_check plain
	libgcc_check asan

	if ! command -v gdb >/dev/null; then
		skip gdb_plain "gdb is not installed (scripts/setup installs it)"
		skip gdb_asan "gdb is not installed (scripts/setup installs it)"
	elif ! out=$(gdb -q -batch -ex run /bin/true 2>&1) ||
	     ! echo "$out" | grep -q 'exited normally'; then
		why="gdb cannot run a program here: $(echo "$out" | tail -n 1)"
		skip gdb_plain "$why"
		skip gdb_asan "$why"
	else
		gdb_check plain
		gdb_check asan
	fi
fi

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" -eq 0 ]
