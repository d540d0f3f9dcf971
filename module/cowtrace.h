/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the concerns of cowtrace.ko share. Each concern has an init/exit pair
 * that main.c calls in order, and in exact reverse on the way out.
 */
#ifndef _COWTRACE_H
#define _COWTRACE_H

#include <linux/dcache.h>
#include <linux/seq_file.h>
#include <linux/types.h>

#include "uapi/cowtrace.h"

/* debugfs.c: /sys/kernel/debug/cowtrace/ and its version file */
extern struct dentry *cowtrace_debugfs_root;
int cowtrace_debugfs_init(void);
void cowtrace_debugfs_exit(void);

/*
 * views.c, control.c: files in that directory, removed with it; so they
 * have no exit of their own.
 */
int cowtrace_views_init(void);
int cowtrace_control_init(void);
void ct_show_filter(struct seq_file *m);

struct ct_task;
void *ct_tasks_start(struct seq_file *m, loff_t *pos) __acquires(RCU);
void *ct_tasks_next(struct seq_file *m, void *v, loff_t *pos);
void ct_tasks_stop(struct seq_file *m, void *v) __releases(RCU);
struct ct_task *ct_tasks_show_header_or_row(struct seq_file *m, void *v);
void ct_show_task_row(struct seq_file *m, struct ct_task *ct);
void ct_show_task_row_as(struct seq_file *m, struct ct_task *ct, pid_t pid,
			 pid_t tgid);
/* A comm as one field, with a leading space. */
void ct_show_comm(struct seq_file *m, const char *comm);

/* pages.c: one task's page tables; the file goes with the directory */
int cowtrace_pages_init(void);

/* kthreads.c: the kernel-thread tree; the file goes with the directory */
int cowtrace_kthreads_init(void);

/* procfs.c: /proc/cowtrace, the tasks table for unprivileged readers */
int cowtrace_procfs_init(void);
void cowtrace_procfs_exit(void);

/* lifecycle.c: new tasks, clones, execs and exits */
int cowtrace_lifecycle_init(void);
void cowtrace_lifecycle_exit(void);
void ct_lifecycle_show_hooks(struct seq_file *m);

/* fault.c: per-task fault accounting */
int cowtrace_fault_init(void);
void cowtrace_fault_exit(void);
void ct_fault_show_hooks(struct seq_file *m);
/* Bit per enum cowtrace_counter: the column is right on this kernel. */
extern u32 ct_counter_valid;

/* contention.c: kernel lock contention, a part of the locks view */
int cowtrace_contention_init(void);
void cowtrace_contention_exit(void);
bool ct_contention_available(void);
void ct_contention_reset(void);
void ct_contention_show(struct seq_file *m);
void ct_contention_show_hooks(struct seq_file *m);

/* filelock.c: flock, POSIX and OFD file locks, a part of the locks view */
int cowtrace_filelock_init(void);
void cowtrace_filelock_exit(void);
void ct_filelock_reset(void);
void ct_filelock_show(struct seq_file *m);
void ct_filelock_show_hooks(struct seq_file *m);

/* locks.c: the locks view, removed before the state it shows is freed */
int cowtrace_locks_init(void);
void cowtrace_locks_exit(void);
void ct_locks_reset(void);

#endif /* _COWTRACE_H */
