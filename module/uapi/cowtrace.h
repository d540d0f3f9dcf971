/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The contract between cowtrace.ko and its userspace: cowlab and the
 * selftests read the module's views under /sys/kernel/debug/cowtrace/ and
 * check what they find against the names and the version given here.
 */
#ifndef _UAPI_COWTRACE_H
#define _UAPI_COWTRACE_H

#define COWTRACE_VERSION	"0.1.0"

#define COWTRACE_DEBUGFS_DIR	"/sys/kernel/debug/cowtrace"

/*
 * The tasks and processes views: a header line naming the columns, then one
 * row per task (or process), fields separated by one space:
 *	pid tgid comm state <the counters below, in this order>
 * (processes adds a last column, "tasks"). Every completed fault is counted
 * in FAULTS and in exactly one kind, COW_COPY .. UNCLASSIFIED below except
 * FAULT_MAJOR, FORKS, THREADS, EXECS and the COW_COPY_ANON/FILE breakdown.
 * FAULTS and FAULT_MAJOR are the kernel's own counts (minflt, majflt), so
 * they stay exact when the module cannot classify a fault: such a fault is
 * UNCLASSIFIED, never missing.
 */
enum cowtrace_counter {
	COWTRACE_FAULTS,	/* completed faults: = minflt + majflt */
	COWTRACE_COW_COPY,	/* write-protect break that copied the page */
	COWTRACE_COW_REUSE,	/* write-protect break that reused it */
	COWTRACE_COW_ZERO,	/* first write over the shared zero page */
	COWTRACE_FAULT_ANON,	/* fresh anonymous page, or the zero page */
	COWTRACE_FAULT_FILE,	/* file-backed (and shmem) page mapped */
	COWTRACE_FAULT_MAJOR,	/* of all the above: waited for I/O */
	COWTRACE_FAULT_SWAP,	/* anonymous page brought back from swap */
	COWTRACE_FORKS,		/* clones that made a new process */
	COWTRACE_THREADS,	/* clones that made a new thread */
	COWTRACE_EXECS,		/* successful execve()s */
	COWTRACE_COW_COPY_ANON,	/* COW_COPY from an anonymous page */
	COWTRACE_COW_COPY_FILE,	/* COW_COPY from a page-cache page */
	COWTRACE_THP_ANON,	/* a huge page (or huge zero page) mapped whole */
	COWTRACE_THP_REUSE,	/* a huge page's write-protect break reused it */
	COWTRACE_WP_SHARED,	/* first write to a clean shared page */
	COWTRACE_FAULT_OTHER,	/* anything else: vDSO, pfn maps, migration */
	COWTRACE_UNCLASSIFIED,	/* counted by the kernel, no kind known */
	COWTRACE_NR_COUNTERS
};

#define COWTRACE_COUNTER_NAMES						\
	"faults", "cow_copy", "cow_reuse", "cow_zero", "fault_anon",	\
	"fault_file", "fault_major", "fault_swap", "forks", "threads",	\
	"execs", "cow_copy_anon", "cow_copy_file", "thp_anon",		\
	"thp_reuse", "wp_shared", "fault_other", "unclassified"

#endif /* _UAPI_COWTRACE_H */
