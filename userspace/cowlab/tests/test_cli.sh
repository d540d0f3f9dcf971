#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# cowlab's host integration tests, without the module: every command with
# small sizes, its exit status, one well-formed JSON document with -j, the
# "kernel counters unavailable" line exactly once, one line and exit 2 for
# bad input, exact fault counts where they are knowable, and nothing left
# behind (children, temporary directories), Ctrl-C included.
#
# Usage: test_cli.sh COWLAB. Prints TAP lines ("ok N - ...").

cowlab=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
fixtures=$(cd "$(dirname "$0")" && pwd)/fixtures
tmp=$(mktemp -d /tmp/cowlab-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

# The module is never there on the host, but make sure: a directory that
# does not exist stands for it.
COWLAB_CTDIR=$tmp/no-module
export COWLAB_CTDIR

if command -v jq >/dev/null 2>&1; then
	have_jq=1
else
	have_jq=0
fi

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	[ -z "$2" ] || echo "# $2"
}

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

# run NAME ARGS...: stdout to $tmp/out, stderr to $tmp/err, status to $rc
run() {
	"$cowlab" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

lines() {
	wc -l <"$1" | tr -d ' '
}

# A well-formed JSON document on stdout.
json_ok() {
	if [ $have_jq = 1 ]; then
		jq -e . "$tmp/out" >/dev/null 2>&1
	else
		python3 -m json.tool "$tmp/out" >/dev/null 2>&1
	fi
}

# jqtrue EXPR: EXPR is true of the document (skipped without jq).
jqtrue() {
	[ $have_jq = 1 ] || return 0
	[ "$(jq -r "$1" "$tmp/out" 2>/dev/null)" = "true" ]
}

# exact NAME EXPR: a count that is exact on a plain build only.
exact() {
	if [ -n "$COWLAB_INEXACT" ]; then
		skip "$1" "sanitized build: its shadow memory faults too"
	else
		check "$1" jqtrue "$2"
	fi
}

unavailable_once() {
	[ "$(grep -c 'kernel counters unavailable' "$tmp/err")" = 1 ]
}

# ------------------------------------------------------------ basics

run -V
check "-V prints the version" test "$rc" = 0 -a "$(cat "$tmp/out")" = "cowlab 0.1.0"
# -j promises one JSON document, the version too
run -j -V
check "-j -V: exit 0, one line, nothing on stderr" \
	test "$rc" = 0 -a "$(lines "$tmp/out")" = 1 -a ! -s "$tmp/err"
check "-j -V: one JSON document" json_ok
check "-j -V: the version in it" \
	jqtrue '.version == "0.1.0" and .object == null and .error == null and .exit_status == 0'

for args in "-h" "help" "fork -h" "fork help" "fork sweep -h" "exec -h" \
	    "exec help" "clone -h" "clone help" "tasks -h" "processes -h" \
	    "kthreads -h" "locks -h" "stats help"; do
	# shellcheck disable=SC2086
	run $args
	check "help: cowlab $args" test "$rc" = 0 -a -s "$tmp/out"
done

run fo --size 1M --write 0 -q
check "objects match by prefix (fo = fork)" test "$rc" = 0

# ------------------------------------------------------- bad input

bad() {
	desc=$1
	shift
	run "$@"
	if [ "$rc" = 2 ] && [ "$(lines "$tmp/err")" = 1 ] && [ ! -s "$tmp/out" ]; then
		ok "bad input, exit 2, one line: $desc"
	else
		not_ok "bad input, exit 2, one line: $desc" \
			"rc=$rc stderr=$(cat "$tmp/err") stdout=$(head -c 200 "$tmp/out")"
	fi
}

bad "unknown object" bogus
bad "unknown global option" --bogus
bad "ambiguous object" t
bad "size 12Q" fork --size 12Q
bad "negative size" fork --size -1
bad "size 0" fork --size 0
bad "size overflow" fork --size 99999999999T
# sizes whose sum over the children has no 64-bit value: refused as such,
# not as a wrapped-around total
bad "size 2^64-1" fork --size 18446744073709551615
check "size 2^64-1: more than 16 EiB, not a wrapped total" \
	grep -qxF "cowlab: fork: needs more than 16 EiB of memory: no 64-bit machine has that much" "$tmp/err"
bad "size 2^62 x 4 children" fork --size 4611686018427387904 --children 4 --write 100
check "size 2^62 x 4 children: more than 16 EiB, not a wrapped total" \
	grep -qxF "cowlab: fork: needs more than 16 EiB of memory: no 64-bit machine has that much" "$tmp/err"
bad "size beyond memory" fork --size 64T
bad "negative children" fork --children -3
bad "zero children" fork --children 0
bad "write 150%" fork --write 150%
bad "unknown option" fork --bogus
bad "extra argument" fork run extra
bad "unknown command" fork frobnicate
bad "touch abc" exec --touch abc
bad "mmap 12Q" exec --mmap 12Q
bad "share bogus" clone --share vm,bogus
bad "share thread without sighand" clone --share thread
bad "share sighand without vm" clone --share sighand
bad "sort without a column" tasks --sort
bad "watch -1" tasks --watch -1 --pid x

# Above RLIMIT_NPROC: the machine could not make that many processes.
if command -v prlimit >/dev/null 2>&1; then
	prlimit --nproc=40 "$cowlab" fork --children 100 --size 1M \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
else
	rc=none
fi
if [ "$rc" = none ]; then
	skip "children above RLIMIT_NPROC" "no prlimit"
elif [ "$rc" = 2 ] && grep -q RLIMIT_NPROC "$tmp/err" && [ "$(lines "$tmp/err")" = 1 ]; then
	ok "children above RLIMIT_NPROC: exit 2, one line"
else
	not_ok "children above RLIMIT_NPROC: exit 2, one line" "rc=$rc $(cat "$tmp/err")"
fi

if command -v prlimit >/dev/null 2>&1; then
	prlimit --nofile=100:100 "$cowlab" fork --children 1000 --size 1M \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	check "children beyond RLIMIT_NOFILE: exit 2, one line" \
		test "$rc" = 2 -a "$(grep -c RLIMIT_NOFILE "$tmp/err")" = 1 \
		-a "$(lines "$tmp/err")" = 1
else
	skip "children beyond RLIMIT_NOFILE" "no prlimit"
fi
run fork --size 1M --children 300 -q -j
check "fork 300 children" \
	jqtrue '(.writes | length) == 300'

run -j fork --size 12Q
check "-j bad input: exit 2" test "$rc" = 2
check "-j bad input: one JSON document" json_ok
check "-j bad input: the error in it" jqtrue '.error | test("12Q")'
check "-j bad input: exit_status 2 in it" jqtrue '.exit_status == 2'
check "-j bad input: stderr empty" test ! -s "$tmp/err"

# Every document has the same top-level keys, whatever the command did.
for args in "help" "fork -h" "fork --size 1M --write 10" "fork sweep --max 1M --runs 1" \
	    "exec --touch 10" "exec --binary true" "clone" "clone --share vm" "-V" \
	    "exec --binary /nonexistent" \
	    "tasks" "stats" "bogus" "fork --size 12Q" "clone --share thread"; do
	# shellcheck disable=SC2086
	run -j $args
	check "-j $args: one document, stable keys" \
		jqtrue '[has("cowlab_version", "clock", "object", "command", "notes", "error", "exit_status")] | all'
	check "-j $args: exit status inside and out agree" \
		jqtrue ".exit_status == $rc"
done

# ---------------------------------------------------------------- fork

run fork --size 4M --write 50% -j
check "fork -j: exit 0" test "$rc" = 0
check "fork -j: one JSON document" json_ok
check "fork: unavailable said once" unavailable_once
check "fork -j: kernel_counters.available false" \
	jqtrue '.kernel_counters.available == false and (.kernel_counters.reason | length > 0)'
check "fork: 1024 pages, 512 written" \
	jqtrue '.setup.pages == 1024 and .setup.pages_written == 512'
check "fork: the page size under its own key, no other" \
	jqtrue '.setup.page_size == 4096 and ([.setup | keys[] | select(test("\\."))] | length == 0)'
exact "fork: touching 4M took exactly 1024 faults" '.setup.touch_faults == 1024'
exact "fork: the child's write faults are exactly 512" \
	'.writes[0].write_faults == 512'
check "fork: five steps, parent and child" \
	jqtrue '[.tasks[].step] == ["before fork","after fork","after fork","after writes","after writes","after exit","parent rewrote"]'
check "fork: the child's USS grew by its 512 copies" \
	jqtrue '([.tasks[] | select(.task == "child1")] | (.[1].uss - .[0].uss) >= 512 * 4096)'
exact "fork: between the snapshots the child took exactly its 512 faults" \
	'([.tasks[] | select(.task == "child1")] | (.[1].minflt - .[0].minflt) == 512)'
check "fork: the child's RSS is about the parent's at once" \
	jqtrue '([.tasks[] | select(.step == "after fork")] | .[1].rss >= 4194304)'
exact "fork: the parent's USS falls after fork, back after exit" \
	'([.tasks[] | select(.task == "parent")] | .[1].uss < 1048576 and .[3].uss >= 4194304)'
exact "fork: the parent's rewrite after exit: exactly 1024 faults" \
	'.rewrite.pages == 1024 and .rewrite.write_faults == 1024'
check "fork: no module, counters null" jqtrue '[.tasks[].cow_copy] | all(. == null)'
check "fork: notes explain" jqtrue '.notes | length >= 2'

run fork --size 2M --write 100 --children 3 -j
exact "fork 3 children: each wrote 512 pages, 512 faults" \
	'(.writes | length == 3) and ([.writes[].write_faults] | all(. == 512))'
check "fork 3 children: fork latency of 3" jqtrue '.setup.fork_latency.n == 3'

run fork --size 1M --write 0 -j
exact "fork --write 0: no write faults" '.writes[0].write_faults == 0'

run fork --size 1M --write 50
check "fork text: exit 0" test "$rc" = 0
check "fork text: tables" grep -q "after writes" "$tmp/out"
check "fork text: unavailable said once" unavailable_once

run fork --sweep --max 4M --runs 2 -j
check "fork sweep -j: exit 0, JSON" test "$rc" = 0
check "fork sweep -j: valid" json_ok
check "fork sweep: 1M and 4M" jqtrue '[.sweep[].size] == [1048576, 4194304]'
check "fork sweep: latencies and ratios" \
	jqtrue '[.sweep[] | .fork_ns > 0 and .eager_copy_ns > 0 and .cow_saving > 0] | all'

run fork sweep --max 1M --runs 1 -q
check "fork sweep text -q: no notes" test "$rc" = 0 -a ! -s "$tmp/err"

# Without /proc/meminfo nothing caps --max: the sizes must still stop at
# the sweep's 16 points, never wrap past 2^64 into an endless loop. Under
# RLIMIT_AS the first size cowlab cannot map ends the run.
if [ -n "$COWLAB_INEXACT" ]; then
	skip "fork sweep --max 2^64-1 without meminfo" "ASan reserves more than RLIMIT_AS allows"
elif [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	skip "fork sweep --max 2^64-1 without meminfo" "needs root and unshare -m"
else
	: >"$tmp/meminfo"
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout -s KILL 30 unshare -m sh -c \
		'mount --bind "$1" /proc/meminfo && exec prlimit --as=268435456 "$2" fork sweep --max 18446744073709551615 --runs 1 -q' \
		sh "$tmp/meminfo" "$cowlab" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check "fork sweep --max 2^64-1 without meminfo: ends at the first size it cannot map" \
		test "$rc" = 1 -a "$(cat "$tmp/err")" = "cowlab: fork sweep at 256.0 MiB: failed"
fi

# ---------------------------------------------------------------- exec

run exec --touch 50 -j
check "exec -j: exit 0, JSON" test "$rc" = 0
check "exec -j: valid" json_ok
check "exec: unavailable said once" unavailable_once
exact "exec: the helper wrote 128 anonymous pages with 128 faults" \
	'.stages.anon_pages_written == 128 and .stages.anon_faults == 128'
check "exec: file pages read in fewer faults (fault-around)" \
	jqtrue '.stages.file_pages_read == 128 and .stages.file_faults <= 128'
check "exec: the helper exited 0" jqtrue '.exec.exit_code == 0'

run exec --mmap 4M -j
check "exec --mmap: eleven growth steps" jqtrue '.growth | length == 11'
check "exec --mmap: all of it touched, RSS grew by 4M" \
	jqtrue '(.growth[10].touched == 4194304) and (.growth[10].rss - .growth[0].rss >= 4194304)'
exact "exec --mmap: exactly a fault per page" '.growth[10].minflt == 1024'

run exec --binary true -j
check "exec --binary true: exit 0, code 0" jqtrue '.exec.exit_code == 0 and .exec.minflt > 0'

# A failed execve() is an error: why, in one line, and no report
run exec --binary "$tmp/does-not-exist" -q
check "exec --binary missing: exit 1, one line, no report" \
	test "$rc" = 1 -a "$(lines "$tmp/err")" = 1 -a ! -s "$tmp/out"
check "exec --binary missing: says why" grep -qxF \
	"cowlab: exec: cannot execute $tmp/does-not-exist: No such file or directory" "$tmp/err"
run exec --binary "$tmp/does-not-exist" -j -q
check "exec --binary missing -j: exit 1, one JSON document" \
	test "$rc" = 1 -a ! -s "$tmp/err"
check "exec --binary missing -j: valid" json_ok
check "exec --binary missing -j: the error in it, no report" \
	jqtrue ".error == \"exec: cannot execute $tmp/does-not-exist: No such file or directory\" and .exit_status == 1 and (has(\"exec\") | not)"
printf 'not a program\n' >"$tmp/plain"
chmod 644 "$tmp/plain"
run exec --binary "$tmp/plain" -q
check "exec --binary not executable: exit 1, one line, no report" \
	test "$rc" = 1 -a "$(lines "$tmp/err")" = 1 -a ! -s "$tmp/out"
check "exec --binary not executable: says why" grep -qxF \
	"cowlab: exec: cannot execute $tmp/plain: Permission denied" "$tmp/err"

run exec --binary sh -- -c "exit 3"
check "exec --binary with arguments" grep -q "exit code *3" "$tmp/out"

# --------------------------------------------------------------- clone

run clone -j
check "clone -j: exit 0, JSON" test "$rc" = 0
check "clone -j: valid" json_ok
check "clone: unavailable said once" unavailable_once
check "clone: fork shares nothing" \
	jqtrue '.tasks[0] | (.same_process or .memory or .files or .cwd or .signals) | not'
check "clone: pthread shares everything" \
	jqtrue '.tasks[1] | .same_process and .memory and .files and .cwd and .signals'
for s in vm files fs; do
	run clone --share $s -j
	case $s in
	vm) key=memory ;;
	files) key=files ;;
	fs) key=cwd ;;
	esac
	check "clone --share $s: only $key shared" \
		jqtrue "(.tasks[0] | [.memory, .files, .cwd, .signals, .same_process] | map(select(.)) | length == 1) and .tasks[0].$key"
done
run clone --share vm,sighand,thread -j
check "clone --share vm,sighand,thread: same process" \
	jqtrue '.tasks[0] | .same_process and .memory and .signals and (.files | not)'
run clone --share ''
check "clone --share '': fork-like" test "$rc" = 0

# --------------------------------------------------------------- views

run tasks
check "tasks without module: exit 1, one line" \
	test "$rc" = 1 -a "$(lines "$tmp/err")" = 1 -a ! -s "$tmp/out"
run tasks -j
check "tasks -j without module: JSON with the reason" \
	jqtrue '.kernel_counters.available == false and (.error | test("unavailable"))'

COWLAB_CTDIR=$fixtures
run tasks -j
check "tasks -j: rows as objects" jqtrue '(.rows | length == 8) and .rows[0].pid == 1'
check "tasks -j: '-' is null" jqtrue '[.rows[] | select(.pid == 144)][0].thp_anon == null'
run tasks --sort faults --limit 2 -j
check "tasks --sort faults --limit 2" jqtrue '[.rows[].pid] == [140, 141]'
run tasks --comm "my prog" -j
check "tasks --comm (unescaped)" jqtrue '[.rows[].pid] == [144, 145]'
run tasks --pid 144 --alive -j
check "tasks --pid matches pid or tgid" jqtrue '[.rows[].pid] == [144, 145]'
run tasks --columns comm,faults,cow_copy --sort cow_copy -j
check "tasks --columns: those, in that order" \
	jqtrue '(.rows[0] | keys_unsorted) == ["comm", "faults", "cow_copy"] and .rows[0].comm == "bash"'
run tasks --columns pid,nope
check "tasks --columns with an unknown column: exit 2, one line" \
	test "$rc" = 2 -a "$(lines "$tmp/err")" = 1
run processes
check "processes text: header and rows" test "$rc" = 0 -a "$(lines "$tmp/out")" = 4
run kthreads
check "kthreads absent: not available, exit 1" \
	test "$rc" = 1 -a "$(grep -c 'not available in this module version' "$tmp/err")" = 1
run locks -j
check "locks -j: sections of rows" \
	jqtrue '(.sections | length == 2) and .sections[1].rows[0].caller == "do_something+0x12/0x40 [mod]"'
run stats -j
check "stats -j: name/value rows" jqtrue '.rows[1] == {"name": "tasks_live", "value": 3}'
# A module version with the kthreads view
mkdir -p "$tmp/ct" && cp "$fixtures"/* "$tmp/ct/"
cat >"$tmp/ct/kthreads" <<'EOF'
kthreads 3 bound 1 R 0 S 2 I 1
pid ppid state cpu bound name
2 0 S 0 no `-[kthreadd]
3 2 I 0 no    |-[rcu_gp]
15 2 S 1 yes    `-[ksoftirqd/1]
EOF
COWLAB_CTDIR=$tmp/ct
run kthreads -j
check "kthreads -j: summary and rows" \
	jqtrue '(.summary[0] | startswith("kthreads 3")) and (.sections[0].rows | length == 3) and .sections[0].rows[2].bound == "yes" and .sections[0].rows[2].name == "`-[ksoftirqd/1]"'
run kthreads
check "kthreads text: the module's tree as is" grep -q 'ksoftirqd/1' "$tmp/out"
COWLAB_CTDIR=$fixtures

# clone where the module has no row for the new tasks (none of the
# fixture's pids): nothing known of their tgid or processes row, and said so
run clone -j
check "clone, no module row for the tasks: tgid and process_row null" \
	jqtrue '[.tasks[] | .tgid == null and .process_row == null] == [true, true]'
check "clone, no module row for the tasks: a note says why" \
	jqtrue '[.notes[] | select(startswith("no row: "))] | length == 1'
run clone
check "clone text, no module row: process_row says 'no row'" \
	test "$(grep -cE '^(fork|pthread) .*  no row$' "$tmp/out")" = 2

# A module filter that leaves this run out: its counters say nothing of the
# run, so they are unavailable, and why (the fixture has no row of ours)
mkdir -p "$tmp/ctf" && cp "$fixtures"/* "$tmp/ctf/"
echo "filter comm other" >"$tmp/ctf/control"
COWLAB_CTDIR=$tmp/ctf
why="the module's filter excludes this run (filter comm other; 'echo all > $tmp/ctf/control' tracks every task)"
run exec --touch 10 -j
check "filter excluding the run -j: exit 0" test "$rc" = 0
check "filter excluding the run -j: unavailable, which filter, why" \
	jqtrue ".kernel_counters.available == false and .kernel_counters.filter == \"comm other\" and .kernel_counters.reason == \"$why\" and .module == null"
run exec --touch 10
check "filter excluding the run: said once on stderr" \
	test "$(cat "$tmp/err")" = "cowlab: kernel counters unavailable: $why; measuring without them"
echo "filter all" >"$tmp/ctf/control"
run exec --touch 10 -j
check "filter all: available, and the filter named" \
	jqtrue '.kernel_counters.available == true and .kernel_counters.filter == "all" and .kernel_counters.reason == null'
COWLAB_CTDIR=$fixtures

run tasks --watch 1 -j
check "tasks --watch with -j: usage" test "$rc" = 2
"$cowlab" tasks --watch 0.2 >"$tmp/out" 2>"$tmp/err" &
pid=$!
sleep 0.7
kill -INT $pid
wait $pid
rc=$?
check "tasks --watch: redraws until Ctrl-C, exit 0" \
	test "$rc" = 0 -a "$(grep -c 'Ctrl-C quits' "$tmp/out")" -ge 2
COWLAB_CTDIR=$tmp/no-module

# ------------------------------------------- signals, nothing left behind

# A run in a session of its own (setsid execs in place: $! is cowlab), so
# that its children, even orphaned, are found by session and by nothing
# else running on the machine.
if command -v setsid >/dev/null 2>&1; then
	own_session=setsid
else
	own_session=
fi

# leftovers PID: is anything left of the session cowlab PID led?
leftovers() {
	if [ -n "$own_session" ]; then
		pgrep -s "$1" >/dev/null 2>&1
	else
		pgrep -f "$cowlab" >/dev/null 2>&1
	fi
}

$own_session "$cowlab" fork --size 8M --write 100 --children 200 -j >"$tmp/out" 2>"$tmp/err" &
pid=$!
sleep 0.3
kill -INT $pid
wait $pid
rc=$?
sleep 0.2
check "SIGINT mid fork: exit 130" test "$rc" = 130
check "SIGINT mid fork: still one JSON document" json_ok
check "SIGINT mid fork: no child left" eval "! leftovers $pid"

$own_session "$cowlab" fork sweep --max 16M --runs 300 >"$tmp/out" 2>"$tmp/err" &
pid=$!
sleep 0.5
kill -USR1 $pid
sleep 0.2
kill -TERM $pid
wait $pid
rc=$?
sleep 0.2
check "SIGUSR1 prints progress" grep -q "cowlab: fork sweep (sizes): [0-9]*/[0-9]* ([0-9]*%)" "$tmp/err"
check "SIGTERM mid sweep: exit 130" test "$rc" = 130
check "SIGTERM mid sweep: no child left" eval "! leftovers $pid"

# ------------------------------------------------------------ pages
for bad in "" "1" "x 0x1000" "0 0x1000" "1 zz" "1 -4096" "1 0x1000 0" \
	"1 0x1000 4097" "1 0x1000 2 3"; do
	# shellcheck disable=SC2086 # the words are the arguments
	run pages $bad
	# shellcheck disable=SC2016 # expanded by check's eval
	check "pages $bad: exit 2, says why" eval \
		'test "$rc" = 2 && grep -q "cowlab: pages: " "$tmp/err"'
done
for bad in 0 65 x; do
	run fork --size 1M --pages $bad
	check "fork --pages $bad: exit 2" test "$rc" = 2
done
run pages 4194303 0x1000
# shellcheck disable=SC2016 # expanded by check's eval
check "pages of no process: exit 1, says so" eval \
	'test "$rc" = 1 && grep -q "no process 4194303" "$tmp/err"'
# Without the module: /proc's columns only, and why the others are missing.
sleep 30 &
sleeper=$!
stack=$(awk '/\[stack\]/ { split($1, a, "-"); print "0x" a[1] }' "/proc/$sleeper/maps")
run -j pages $sleeper "$stack" 2
# shellcheck disable=SC2016 # expanded by check's eval
check "pages from /proc: exit 0, one JSON document" eval 'test "$rc" = 0 && json_ok'
check "pages from /proc: says where and what is missing" \
	jqtrue "(.pages.source == \"/proc/$sleeper/pagemap\") and (.pages.missing | test(\"write\"))"
check "pages from /proc: two rows, no write bit" \
	jqtrue '(.pages.rows | length == 2) and (.pages.rows[0].write == null)'
kill $sleeper
wait $sleeper 2>/dev/null

run exec --pages 0
check "exec --pages 0: exit 2" test "$rc" = 2
run exec --binary /bin/true --pages 2
check "exec --binary with --pages: exit 2" test "$rc" = 2
run -j exec --touch 25 --pages 2
check "exec --pages from /proc: the anonymous buffer is untouched before" \
	jqtrue '[.page_tables.anon_buf_before[].entry] == ["none", "none"]'
check "exec --pages from /proc: and present after" \
	jqtrue '[.page_tables.anon_buf_after[].entry] == ["present", "present"]'

# ------------------------------------------------------------ copies
for bad in "run" "attach" "attach x" "attach 1 2" "demo --workers 0" \
	"demo --objects 0" "demo extra" "nope"; do
	# shellcheck disable=SC2086 # the words are the arguments
	run copies $bad
	check "copies $bad: exit 2" test "$rc" = 2
done
run copies demo
# shellcheck disable=SC2016 # expanded by check's eval
check "copies without the module: exit 1, says why" eval \
	'test "$rc" = 1 && grep -q "copies: needs cowtrace.ko" "$tmp/err"'

"$cowlab" clone >"$tmp/out" 2>"$tmp/err"
check "no /tmp/cowlab-clone directory left" \
	test "$(ls /tmp | grep -c '^cowlab-clone')" = 0
# (fork, exec and clone make no shared memory objects; the registry that
# removes them is exercised by the ipc tests, which do)

echo "1..$n"
[ "$failed" = 0 ]
