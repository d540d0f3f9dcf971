#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cowlab against the module, in the VM: each command runs with -j and what
# it reports from cowtrace.ko must be exactly what the workload did (the
# copies of a child's writes, the reuse of a parent's rewrite, a process's
# forks and threads, the file-lock acquisitions of a locking run). Without
# the module the same commands are tested on the host by cowlab's own
# tests (userspace/cowlab/tests).

set -u

here=$(dirname "$(readlink -f "$0")")
# $COWLAB: another build to test (e.g. an older one, to see a case fail)
# Beside the test where 'make install' put it, else in the tree.
cowlab=${COWLAB:-$here/cowlab}
[ -n "${COWLAB:-}" ] || [ -x "$cowlab" ] || cowlab=$here/../userspace/cowlab/cowlab
# shellcheck source=selftests/ktap.sh
. "$here/ktap.sh"
tmp=

# run ARGS...: cowlab -j ARGS, the document in $tmp/out, status in $rc
run()
{
	"$cowlab" -j "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc = 0 ] || sed 's/^/# stderr: /' "$tmp/err"
}

q()
{
	jq -r "$1" "$tmp/out" 2>/dev/null
}

echo "TAP version 13"
[ "$(id -u)" = 0 ] || skip "must be run as root"
[ -d /sys/module/cowtrace ] || skip "cowtrace.ko is not loaded"
[ -x "$cowlab" ] || skip "build cowlab first (make userspace)"
command -v jq >/dev/null || skip "jq is not installed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- fork: 4 MiB = 1024 pages; the child writes half of them
run fork --size 4M --write 50%
ok "fork: exit status" 0 "$rc"
ok "fork: kernel counters available" true "$(q .kernel_counters.available)"
ok "fork: the child's writes are 512 copies" 512 "$(q '.writes[0].cow_copy')"
ok "fork: and 512 faults" 512 "$(q '.writes[0].faults')"
ok "fork: and no reuse" 0 "$(q '.writes[0].cow_reuse')"
ok "fork: the parent's rewrite reuses all 1024 pages" 1024 \
	"$(q .rewrite.module.cow_reuse)"
ok "fork: and copies none" 0 "$(q .rewrite.module.cow_copy)"

# --- fork: three children, each writing a quarter
run fork --size 4M --write 25% --children 3
ok "fork x3: exit status" 0 "$rc"
ok "fork x3: every child copies exactly its 256 pages" "256 256 256" \
	"$(q '[.writes[].cow_copy | tostring] | join(" ")')"

# --- fork --pages: the picture of fork, page 0 at each step. 1 MiB: the
# pages drawn were faulted long before, and are on the LRU by the parent's
# rewrite (a page still in a per-CPU LRU cache would be copied, not reused).
run fork --size 1M --write 50% --pages 4
ok "fork --pages: exit status" 0 "$rc"
ok "fork --pages: read from the module" cowtrace.ko "$(q .page_tables.source)"
# step page side: "pfn rw mapcount exclusive" of one side at one step
pic()
{
	q ".page_tables.rows[] | select(.step == \"$1\" and .page == $2) |
		\"\(.$3_pfn) \(.$3_rw) \(.$3_mapcount) \(.$3_exclusive)\""
}
pfn=$(q '.page_tables.rows[0].parent_pfn')
ok "before fork: the parent's page is writable, mapped once, its own" \
	"$pfn w 1 yes" "$(pic "before fork" 0 parent)"
ok "after fork: the parent's is the same page, read-only, mapped twice" \
	"$pfn r 2 no" "$(pic "after fork" 0 parent)"
ok "after fork: and the child maps that very page so" \
	"$pfn r 2 no" "$(pic "after fork" 0 child)"
child=$(pic "after writes" 0 child)
ok "after the child's write: it has a new page, writable, its own" \
	"new w 1 yes" "$([ "${child%% *}" != "$pfn" ] && echo new) ${child#* }"
ok "after the child's write: the parent's old page is mapped once, read-only" \
	"$pfn r 1 no" "$(pic "after writes" 0 parent)"
ok "after the parent's write: the same page, reused, writable, its own" \
	"$pfn w 1 yes" "$(pic "parent rewrote" 0 parent)"
ok "what changed is named: the child's pfn, rw, mapcount, exclusive" \
	"child_pfn child_rw child_mapcount child_exclusive" \
	"$(q '.page_tables.rows[] | select(.step == "after writes" and .page == 0) | .changed' |
		tr ' ' '\n' | grep child_ | paste -sd' ')"

# --- pages: any task's page tables, and the errors of a bad query
sleep 30 &
sleeper=$!
stack=$(awk '/\[stack\]/ { split($1, a, "-"); print "0x" a[1] }' "/proc/$sleeper/maps")
run pages $sleeper "$stack" 2
ok "pages: two rows from the module" "0 cowtrace.ko 2" \
	"$rc $(q .pages.source) $(q '.pages.rows | length')"
ok "pages: every column known from the module" null "$(q .pages.missing)"
kill $sleeper
wait $sleeper 2>/dev/null
run pages 2 0x1000
ok "pages of a kernel thread: exit 1, says so" "1 yes" \
	"$rc $(q .error | grep -q 'kernel thread' && echo yes)"

# --- copies: the demonstration's copies, by mapping and by code, exactly:
# 4096 objects of 256 bytes are 256 pages, copied once by each of 3 workers
run copies demo --objects 4096 --workers 3
ok "copies demo: exit status, nothing lost" "0 0" "$rc $(q .copies.lost)"
ok "copies demo: 768 copies expected" 768 "$(q .demo.expected_copies)"
ok "copies demo: cowlab-objects copied 768 times" 768 \
	"$(q '.mappings[] | select(.mapping == "cowlab-objects") | .cow_copy')"
ok "copies demo: all of them by demo_object_get, in copies_demo.c" "768 yes" \
	"$(q '.code[] | select(.function == "demo_object_get") | .cow_copy') $(q '.code[] | select(.function == "demo_object_get") | .source' | grep -q '^copies_demo\.c:[0-9]*$' && echo yes)"
run copies demo --objects 4096 --workers 3 --separate
ok "copies demo --separate: only cowlab-refcounts' 8 pages, 3 times" "24 0" \
	"$(q '.mappings[] | select(.mapping == "cowlab-refcounts") | .cow_copy') $(q '.mappings[] | select(.mapping == "cowlab-objects") | .cow_copy')"
ok "copies demo --separate: by demo_object_get" 24 \
	"$(q '.code[] | select(.function == "demo_object_get") | .cow_copy')"
# a command of one's own: cowlab fork, whose child writes 128 of 256 pages
# and whose parent rewrites all 256 once the child is gone
run copies run -- "$cowlab" fork --size 1M --write 50% -q
ok "copies run: exit status, nothing lost" "0 0" "$rc $(q .copies.lost)"
ok "copies run: fork_write_pages copied 128 pages and reused 256" "128 256" \
	"$(q '.code[] | select(.function == "fork_write_pages") | "\(.cow_copy) \(.cow_reuse)"')"
# attach: a process that forks and writes 16 pages in a loop
"$here/fault_exec_helper" cowloop 16 >"$tmp/loop" &
loop=$!
for _ in $(seq 50); do [ -s "$tmp/loop" ] && break; sleep 0.1; done
run copies attach $loop --seconds 1
kill $loop
wait $loop 2>/dev/null
ok "copies attach: exit status, nothing lost" "0 0" "$rc $(q .copies.lost)"
ok "copies attach: the loop's copies and reuses, most of all by cowloop" \
	"cowloop yes" \
	"$(q '.code[0].function') $([ "$(q '.code[0].cow_copy + .code[0].cow_reuse')" -gt 0 ] && echo yes)"
run copies attach 4194303
ok "copies attach to no process: exit 1" 1 "$rc"

# --- exec --pages: the helper's anonymous buffer is not mapped until it
# writes it, then each page is its own, writable
run exec --touch 25 --pages 4
ok "exec --pages: exit status, from the module" "0 cowtrace.ko" \
	"$rc $(q .page_tables.source)"
ok "exec --pages: the anonymous buffer has no entry before it is touched" \
	"none none none none" "$(q '[.page_tables.anon_buf_before[].entry] | join(" ")')"
ok "exec --pages: after, each page is anonymous, writable, its own" \
	"anon 1 1 1" "$(q '.page_tables.anon_buf_after | map("\(.page) \(.write) \(.exclusive) \(.mapcount)") | unique | join(",")')"

# --- exec: the module counts the exec'd task from the exec on, and so does
# the kernel's rusage of it (its faults before the exec are reported apart)
run exec --touch 50
ok "exec: exit status" 0 "$rc"
ok "exec: one exec" 1 "$(q .module.execs)"
ok "exec: module faults = the child's minflt + majflt" \
	"$(q '.exec.minflt + .exec.majflt')" "$(q .module.faults)"
ok "exec: one fault per anonymous page written" \
	"$(q .stages.anon_pages_written)" "$(q .stages.anon_faults)"

# --- clone: fork() is a fork of the creator, pthread_create() a thread
run clone
ok "clone: exit status" 0 "$rc"
ok "clone: fork counted in forks, not threads" "1 0 true" \
	"$(q '.tasks[0] | "\(.forks) \(.threads) \(.process_row)"')"
ok "clone: pthread counted in threads, not forks" "0 1 false" \
	"$(q '.tasks[1] | "\(.forks) \(.threads) \(.process_row)"')"

# --- lock: a file counter under each file lock; the module sees every
# acquisition of the counter file by the parties
for m in flock fcntl ofd; do
	run lock "$m" --procs 3 --count 50
	ok "lock $m: exit status" 0 "$rc"
	ok "lock $m: no lost update" "150 0" \
		"$(q '.methods[0] | "\(.final) \(.lost)"')"
	ok "lock $m: the module saw 150 acquisitions" 150 \
		"$(q '.methods[0].k_acquired')"
done

# --- ipc: every method delivers every reply intact, in the VM too
run ipc --count 200
ok "ipc: exit status" 0 "$rc"
ok "ipc: all eleven methods, no bad reply, no error" "11 0 0" \
	"$(q '[.methods | length, (map(.bad) | add), (map(select(.error != null)) | length)] | map(tostring) | join(" ")')"

# --- thread: the first LWP is the process, a thread's crash is its
# process's, a child's crash is not its parent's
run thread lwp crash
ok "thread: exit status" 0 "$rc"
ok "thread: first LWP id is the pid, 4 tasks" "true 4" \
	"$(q '.lwp | "\(.first_is_pid) \(.tasks)"')"
ok "thread: crash isolation" "false true" \
	"$(q '.crash | "\(.main_thread_survived) \(.parent_went_on)"')"

# the kernel sees every fork and pthread_create (20 units x 6 runs, the
# warm-up included) and no uthread_create
run thread create --count 20
ok "thread create: exit status" 0 "$rc"
ok "thread create: forks and threads the module counted, per model" \
	"process 120 0, kernel-thread 0 120, user-thread 0 0" \
	"$(q '[.models[] | "\(.model) \(.k_forks) \(.k_threads)"] | join(", ")')"

# an idle user thread costs the one page of stack it touched: RSS is read
# from the page tables, so 6.1's lagging VmRSS cannot hide it
run thread memory --count 50
ok "thread memory: an idle user thread is one page" yes \
	"$(q '.models[] | select(.model == "user-thread") | .mem_per_unit |
	      if . >= 4096 and . < 8192 then "yes" else tostring end')"

# --- views: the module's files, parsed
run kthreads
ok "kthreads: exit status" 0 "$rc"
ok "kthreads: one row per thread of the header's total" \
	"$(q '.summary[0] | split(" ")[1]')" "$(q '.sections[0].rows | length')"
ok "kthreads: kthreadd first" "2 [kthreadd]" \
	"$(q '.sections[0].rows[0] | "\(.pid) \(.name)"')"
run locks
ok "locks: exit status" 0 "$rc"
ok "locks: all 13 kinds" 13 "$(q '.sections[0].rows | length')"
run tasks --pid 1
ok "tasks --pid 1: init's row" "1 init" \
	"$(q '.rows[0] | "\(.pid) \(.comm)"')"

run processes --pid 1
ok "processes --pid 1: init, one task" "1 init 1" \
	"$(q '.rows[0] | "\(.pid) \(.comm) \(.tasks)"')"
run stats
ok "stats: the module's version" "0.1.0" \
	"$(q '.rows[] | select(.name == "version") | .value')"

# --- the module's own limits, last: each starts a new table
ctdir=/sys/kernel/debug/cowtrace
maxex=/sys/module/cowtrace/parameters/max_exited

# put back the defaults whatever happens below
restore()
{
	echo 4096 >"$maxex"
	echo all >"$ctdir/control"
	rm -rf "$tmp"
}
trap restore EXIT

# No rows of exited tasks kept: a task that is gone by the time clone reads
# the views has no row, and clone must say so rather than guess "creator's"
echo 0 >"$maxex"
run clone
ok "clone, max_exited 0: exit status" 0 "$rc"
ok "clone, max_exited 0: the creator's counts still there" "1 0, 0 1" \
	"$(q '[.tasks[] | "\(.forks) \(.threads)"] | join(", ")')"
ok "clone, max_exited 0: no tgid, no process_row for either task" \
	"null null, null null" \
	"$(q '[.tasks[] | "\(.tgid) \(.process_row)"] | join(", ")')"
ok "clone, max_exited 0: a note says why" 1 \
	"$(q '[.notes[] | select(startswith("no row: "))] | length')"
"$cowlab" clone >"$tmp/out" 2>"$tmp/err"
ok "clone, max_exited 0, text: both tasks' process_row say 'no row'" 2 \
	"$(grep -cE '^(fork|pthread) .*  no row$' "$tmp/out")"
echo 4096 >"$maxex"

# A filter that leaves cowlab out: the counters are not this run's, and
# kernel_counters says which filter
echo comm=other >"$ctdir/control"
run exec --touch 10
ok "filter comm=other: exit status" 0 "$rc"
ok "filter comm=other: counters unavailable, the filter named" \
	"false|comm other|the module's filter excludes this run (filter comm other; 'echo all > $ctdir/control' tracks every task)" \
	"$(q '.kernel_counters | "\(.available)|\(.filter)|\(.reason)"')"
ok "filter comm=other: no module section" null "$(q .module)"
"$cowlab" exec --touch 10 >/dev/null 2>"$tmp/err"
ok "filter comm=other, text: said once on stderr" \
	"cowlab: kernel counters unavailable: the module's filter excludes this run (filter comm other; 'echo all > $ctdir/control' tracks every task); measuring without them" \
	"$(cat "$tmp/err")"
echo all >"$ctdir/control"
run exec --touch 10
ok "filter all again: counters available, filter all" "true all" \
	"$(q '.kernel_counters | "\(.available) \(.filter)"')"

echo "1..$n"
[ "$failed" = 0 ]
