// SPDX-License-Identifier: GPL-2.0
/*
 * The filter in force is published with RCU: a hook sees one whole filter,
 * the old or the new, never a comm half overwritten. Changing it is rare
 * (a write to the control file), so each change is a new object.
 */
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "filter.h"

static struct ct_filter ct_filter_all = { .kind = CT_FILTER_ALL };
static struct ct_filter __rcu *ct_filter = RCU_INITIALIZER(&ct_filter_all);
static DEFINE_MUTEX(ct_filter_mutex);

static bool ct_filter_self(const struct ct_filter *f, struct task_struct *task)
{
	switch (f->kind) {
	case CT_FILTER_PID:
		return task->pid == f->pid || task->tgid == f->pid;
	case CT_FILTER_COMM:
		return !strncmp(task->comm, f->comm, TASK_COMM_LEN);
	default:
		return true;
	}
}

/*
 * The task or one of its ancestors up to init matches the filter; pids are
 * those of the initial namespace. Caller holds RCU.
 */
bool ct_filter_matches(struct task_struct *task)
{
	const struct ct_filter *f = rcu_dereference(ct_filter);

	if (f->kind == CT_FILTER_ALL)
		return true;
	for (;;) {
		if (ct_filter_self(f, task))
			return true;
		if (task->pid <= 1)
			return false;
		task = rcu_dereference(task->real_parent);
	}
}

static void ct_filter_put(struct ct_filter *f)
{
	if (f != &ct_filter_all)
		kfree_rcu(f, rcu);
}

int ct_filter_set(enum ct_filter_kind kind, pid_t pid, const char *comm)
{
	struct ct_filter *f = &ct_filter_all, *old;

	if (kind != CT_FILTER_ALL) {
		f = kzalloc(sizeof(*f), GFP_KERNEL);
		if (!f)
			return -ENOMEM;
		f->kind = kind;
		f->pid = pid;
		strscpy_pad(f->comm, comm ? comm : "", sizeof(f->comm));
	}
	mutex_lock(&ct_filter_mutex);
	old = rcu_replace_pointer(ct_filter, f,
				  lockdep_is_held(&ct_filter_mutex));
	mutex_unlock(&ct_filter_mutex);
	ct_filter_put(old);
	return 0;
}

void ct_filter_get(struct ct_filter *copy)
{
	rcu_read_lock();
	*copy = *rcu_dereference(ct_filter);
	rcu_read_unlock();
}

int cowtrace_filter_init(void)
{
	return 0;
}

/* Every hook and file is gone: nobody reads the filter any more. */
void cowtrace_filter_exit(void)
{
	ct_filter_put(rcu_replace_pointer(ct_filter, &ct_filter_all, true));
}
