/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The per-task table: one row per user task that cowtrace tracks, alive or
 * exited, with its counters.
 *
 * Only the task itself updates its own counters (from its faults, its
 * clones, its exec), so they need no atomics; readers see each u64 whole.
 * A reset never writes them: it records their values as the row's base,
 * and readers show the difference, so no reset is lost to a task that was
 * counting at that moment. Faults and major faults are not counted here
 * at all but read from the kernel's own per-task counts.
 */
#ifndef _COWTRACE_TASK_H
#define _COWTRACE_TASK_H

#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/seqlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>

#include "filter.h"
#include "uapi/cowtrace.h"

extern const char *const ct_counter_names[COWTRACE_NR_COUNTERS];

/*
 * A row's slots: the counters, with FAULTS and FAULT_MAJOR read from the
 * task, and one more that no view shows: the faults the module saw whole
 * and classified. UNCLASSIFIED is the kernel's count less that one.
 */
enum { CT_CLASSIFIED = COWTRACE_NR_COUNTERS, CT_NR_SLOTS };

/* Where a fault was, for cowtrace:fault: read at entry if it is enabled. */
struct ct_fault_site {
	unsigned long address;
	unsigned long ip;		/* the user instruction, or 0 */
	unsigned long ino;		/* the mapped file's, or 0 */
	unsigned long pgoff;		/* the page's offset in it */
	dev_t dev;
};

/*
 * A task's last fault try, as the fault bracket saw it begin (fault.c).
 * Classified once the kernel has counted it, by the task itself: at its
 * next try, at its exit, or at the try's return while cowtrace:fault is
 * recorded. Until then a reader classifies it on the fly. Written by the
 * task only; open and closed under seq.
 */
struct ct_try {
	seqcount_t seq;
	bool open;
	bool traced;			/* site is filled */
	u8 markers;			/* the functions the try went through */
	u8 vma;				/* what the faulting VMA is */
	u8 src;				/* the page a write-protect fault found */
	unsigned int flags;		/* FAULT_FLAG_* of the try */
	u64 seen, seen_major;		/* the kernel's counts at its entry */
	struct ct_fault_site site;
};

struct ct_task {
	struct hlist_node live;		/* ct_live, by task, while alive */
	struct list_head all;		/* ct_all, in creation order */
	struct list_head exited;	/* ct_exited, oldest first */
	struct rcu_head rcu;
	struct task_struct *task;	/* NULL once exited */
	struct ct_try try;		/* the last fault try, fault.c's */
	pid_t pid;
	pid_t tgid;
	u64 group_start;		/* its thread group's start: tgid reuse */
	bool tracked;			/* matches the filter: shown, counted */
	/*
	 * The credentials it exited with, and its pids (to number it in a
	 * reader's pid namespace), for /proc/cowtrace's readers.
	 */
	kuid_t uid, euid, suid;
	kgid_t gid, egid, sgid;
	struct pid *pid_ref, *tgid_ref;
	char comm[TASK_COMM_LEN];	/* as of the exec or exit last seen */
	u64 exit_faults, exit_major;	/* the kernel's counts at its exit */
	u64 count[CT_NR_SLOTS];		/* written by the task only */
	u64 base[CT_NR_SLOTS];		/* the raw values at the last reset */
};

/* Counters of the current task, by the task only. */
static inline void ct_count(struct ct_task *ct, unsigned int c)
{
	WRITE_ONCE(ct->count[c], ct->count[c] + 1);
}

/*
 * fault.c: the raw values of a live task's row, its last try classified if
 * the kernel counted it; the task closing its own try (at its exit).
 */
void ct_fault_read(struct ct_task *ct, struct task_struct *task, u64 *raw);
void ct_fault_close_own(struct ct_task *ct);

struct ct_task *ct_task_lookup(struct task_struct *task);
struct ct_task *ct_task_get_current(void);
struct ct_task *ct_task_add(struct task_struct *task, bool tracked);
void ct_task_exec(struct task_struct *task);
void ct_task_exit(struct task_struct *task);
void ct_task_values(struct ct_task *ct, u64 *val);

int ct_task_set_filter(enum ct_filter_kind kind, pid_t pid, const char *comm);
void ct_task_reset(void);

/* The bound on the table's memory: about 16 MiB of exited rows at most. */
#define CT_MAX_EXITED_LIMIT	65536
int ct_task_set_max_exited(unsigned int cap);
unsigned int ct_task_max_exited(void);

/* The views walk every row under rcu_read_lock(). */
extern struct list_head ct_all;

struct ct_task_stats {
	unsigned int live;
	unsigned int exited;
	unsigned int max_exited;
	u64 evictions;
	u64 alloc_failures;
	struct ct_filter filter;
};

void ct_task_stats(struct ct_task_stats *st);

int cowtrace_task_init(void);
void cowtrace_task_exit(void);

#endif /* _COWTRACE_TASK_H */
