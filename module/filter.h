/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which user tasks cowtrace tracks: all of them, a pid and its
 * descendants, or a comm and its descendants. Written through the control
 * file, read locklessly by the hooks.
 */
#ifndef _COWTRACE_FILTER_H
#define _COWTRACE_FILTER_H

#include <linux/sched.h>
#include <linux/types.h>

enum ct_filter_kind { CT_FILTER_ALL, CT_FILTER_PID, CT_FILTER_COMM };

struct ct_filter {
	enum ct_filter_kind kind;
	pid_t pid;			/* of the initial pid namespace */
	char comm[TASK_COMM_LEN];
	struct rcu_head rcu;
};

bool ct_filter_matches(struct task_struct *task);
int ct_filter_set(enum ct_filter_kind kind, pid_t pid, const char *comm);
void ct_filter_get(struct ct_filter *copy);

int cowtrace_filter_init(void);
void cowtrace_filter_exit(void);

#endif /* _COWTRACE_FILTER_H */
