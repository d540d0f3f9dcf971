// SPDX-License-Identifier: GPL-2.0
/*
 * Task lifecycle: new tasks get their row before they first run, a clone
 * is counted in its parent as a new process or a new thread, an exec in the
 * task, and an exit moves the row to the exited rows.
 *
 * Tracepoint probes run with preemption disabled: nothing here sleeps.
 */
#include <linux/binfmts.h>
#include <linux/mm_types.h>	/* before trace/events/sched.h, for 6.12 */
#include <linux/sched.h>
#include <trace/events/sched.h>
#include <trace/events/task.h>

#include "cowtrace.h"
#include "hooks.h"
#include "task.h"

/* A clone that shares the thread group is a thread; any other, a process. */
static void ct_newtask(CT_NEWTASK_PROTO)
{
	struct ct_task *parent;
	bool tracked;

	if (task->flags & PF_KTHREAD)
		return;
	rcu_read_lock();
	parent = ct_task_get_current();
	tracked = (parent && parent->tracked) || ct_filter_matches(task);
	rcu_read_unlock();
	if (parent && parent->tracked)
		ct_count(parent, clone_flags & CLONE_THREAD ? COWTRACE_THREADS :
							     COWTRACE_FORKS);
	ct_task_add(task, tracked);
}

static void ct_exec(void *data, struct task_struct *task, pid_t old_pid,
		    struct linux_binprm *bprm)
{
	ct_task_exec(task);
}

static void ct_exit(CT_EXIT_PROTO)
{
	ct_task_exit(task);
}

CT_TP_PROBE_CHECK(task_newtask, ct_newtask);
CT_TP_PROBE_CHECK(sched_process_exec, ct_exec);
CT_TP_PROBE_CHECK(sched_process_exit, ct_exit);

#define CT_TRACEPOINT(name, probe)					\
	{								\
		.type = CT_HOOK_TRACEPOINT,				\
		.names = { name },					\
		.tp_probe = probe,					\
		.required = true,					\
	}

/*
 * Without them rows would be wrong or never freed: all are required.
 * Attached in this order and detached in reverse, so that no task gets a
 * row while its exit could go unseen: a task born and gone between the
 * attaching of newtask and of exit would keep a row marked alive.
 */
static struct ct_hook ct_lifecycle_hooks[] = {
	CT_TRACEPOINT("sched_process_exit", ct_exit),
	CT_TRACEPOINT("sched_process_exec", ct_exec),
	CT_TRACEPOINT("task_newtask", ct_newtask),
};

void ct_lifecycle_show_hooks(struct seq_file *m)
{
	ct_hooks_show(m, ct_lifecycle_hooks, ARRAY_SIZE(ct_lifecycle_hooks));
}

int cowtrace_lifecycle_init(void)
{
	return ct_hooks_attach(ct_lifecycle_hooks,
			       ARRAY_SIZE(ct_lifecycle_hooks));
}

void cowtrace_lifecycle_exit(void)
{
	ct_hooks_detach(ct_lifecycle_hooks, ARRAY_SIZE(ct_lifecycle_hooks));
}
