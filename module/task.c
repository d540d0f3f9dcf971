// SPDX-License-Identifier: GPL-2.0
/*
 * The per-task table.
 *
 * The fault path finds the current task's row by task pointer in an RCU
 * hash and never takes a lock. ct_lock only orders the writers: new rows,
 * exits, resets. The newtask and exit hooks, and rows made on a task's
 * first fault, run in atomic context: rows are allocated before the lock is
 * taken, without waiting and without the emergency reserves.
 *
 * A live row holds a reference on its task, taken when the row is made and
 * dropped at the task's exit (or at unload, for tasks still running then),
 * so a reader that found ct->task set may look at the task under RCU even
 * if it is exiting meanwhile. A live row is freed only by its own task's
 * exit, so a fault in progress, which may sleep, can keep using its row.
 * Rows of exited tasks stay for their numbers to be read, up to max_exited
 * of them, oldest evicted first. Every row is on ct_all; the views show the
 * tracked ones.
 */
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "task.h"

static unsigned int max_exited = 4096;
/* The bound on the table's memory: about 16 MiB of exited rows at most. */
#define CT_MAX_EXITED_LIMIT	65536

const char *const ct_counter_names[] = { COWTRACE_COUNTER_NAMES };
static_assert(ARRAY_SIZE(ct_counter_names) == COWTRACE_NR_COUNTERS);

#define CT_LIVE_BITS	12
static DEFINE_HASHTABLE(ct_live, CT_LIVE_BITS);
LIST_HEAD(ct_all);
static LIST_HEAD(ct_exited);
static DEFINE_SPINLOCK(ct_lock);

static unsigned int ct_nr_live;
static unsigned int ct_nr_exited;
static u64 ct_evictions;
static atomic64_t ct_alloc_failures = ATOMIC64_INIT(0);

/* Read locklessly by the hooks; a change races benignly with them. */
static struct {
	enum ct_filter_kind kind;
	pid_t pid;
	char comm[TASK_COMM_LEN];
} ct_filter;

/* Caller is in an RCU read-side section. */
struct ct_task *ct_task_lookup(struct task_struct *task)
{
	struct ct_task *ct;

	hash_for_each_possible_rcu(ct_live, ct, live, (unsigned long)task)
		if (READ_ONCE(ct->task) == task)
			return ct;
	return NULL;
}

static bool ct_task_self_matches(struct task_struct *task)
{
	switch (READ_ONCE(ct_filter.kind)) {
	case CT_FILTER_PID:
		return task->pid == READ_ONCE(ct_filter.pid) ||
		       task->tgid == READ_ONCE(ct_filter.pid);
	case CT_FILTER_COMM:
		return !strncmp(task->comm, ct_filter.comm, TASK_COMM_LEN);
	default:
		return true;
	}
}

/*
 * The task or one of its ancestors up to init matches the filter; pids are
 * those of the initial namespace. Caller holds RCU.
 */
bool ct_task_matches(struct task_struct *task)
{
	if (READ_ONCE(ct_filter.kind) == CT_FILTER_ALL)
		return true;
	for (;;) {
		if (ct_task_self_matches(task))
			return true;
		if (task->pid <= 1)
			return false;
		task = rcu_dereference(task->real_parent);
	}
}

struct ct_task *ct_task_add(struct task_struct *task, bool tracked)
{
	struct ct_task *ct;
	unsigned long flags;

	ct = kzalloc(sizeof(*ct), GFP_NOWAIT | __GFP_NOWARN);
	if (!ct) {
		atomic64_inc(&ct_alloc_failures);
		return NULL;
	}
	get_task_struct(task);
	ct->task = task;
	ct->pid = task->pid;
	ct->tgid = task->tgid;
	/* A new thread's leader is set by now; exec keeps the group's start. */
	ct->group_start = task->group_leader->start_time;
	ct->tracked = tracked;
	strscpy(ct->comm, task->comm, sizeof(ct->comm));
	INIT_LIST_HEAD(&ct->exited);

	spin_lock_irqsave(&ct_lock, flags);
	hash_add_rcu(ct_live, &ct->live, (unsigned long)task);
	list_add_tail_rcu(&ct->all, &ct_all);
	ct_nr_live++;
	spin_unlock_irqrestore(&ct_lock, flags);
	return ct;
}

/*
 * The current task's row, made on first sight for tasks that were already
 * running when the module loaded. Not for exiting tasks: their exit hook
 * may have run already, and nothing would free the row. Caller holds RCU.
 */
struct ct_task *ct_task_get_current(void)
{
	struct ct_task *ct = ct_task_lookup(current);

	if (likely(ct))
		return ct;
	if (current->flags & (PF_KTHREAD | PF_EXITING))
		return NULL;
	return ct_task_add(current, ct_task_matches(current));
}

void ct_task_exec(struct task_struct *task)
{
	struct ct_task *ct;

	rcu_read_lock();
	ct = ct_task_get_current();
	if (ct) {
		/* A thread that execs takes over its leader's pid. */
		ct->pid = task->pid;
		strscpy(ct->comm, task->comm, sizeof(ct->comm));
		if (!ct->tracked && ct_task_matches(task))
			WRITE_ONCE(ct->tracked, true);
		if (ct->tracked)
			ct_count(ct, COWTRACE_EXECS);
	}
	rcu_read_unlock();
}

static void ct_task_release(struct ct_task *ct)
{
	put_pid(ct->pid_ref);
	put_pid(ct->tgid_ref);
	kfree(ct);
}

static void ct_task_release_rcu(struct rcu_head *rcu)
{
	ct_task_release(container_of(rcu, struct ct_task, rcu));
}

/* Readers may be on it: it goes after a grace period (rcu_barrier at exit). */
static void ct_task_free(struct ct_task *ct)
{
	list_del_rcu(&ct->all);
	call_rcu(&ct->rcu, ct_task_release_rcu);
}

/* Caller holds ct_lock. */
static void ct_task_evict_excess(void)
{
	struct ct_task *old;

	while (ct_nr_exited > max_exited) {
		old = list_first_entry(&ct_exited, struct ct_task, exited);
		list_del(&old->exited);
		ct_task_free(old);
		ct_nr_exited--;
		ct_evictions++;
	}
}

/* What /proc/cowtrace's readers judge an exited row by. */
static void ct_task_save_creds(struct ct_task *ct, struct task_struct *task)
{
	const struct cred *cred;

	ct->pid_ref = get_task_pid(task, PIDTYPE_PID);
	ct->tgid_ref = get_task_pid(task, PIDTYPE_TGID);

	rcu_read_lock();
	cred = __task_cred(task);
	ct->uid = cred->uid;
	ct->euid = cred->euid;
	ct->suid = cred->suid;
	ct->gid = cred->gid;
	ct->egid = cred->egid;
	ct->sgid = cred->sgid;
	rcu_read_unlock();
}

void ct_task_exit(struct task_struct *task)
{
	struct ct_task *ct;
	unsigned long flags;

	rcu_read_lock();
	ct = ct_task_lookup(task);
	rcu_read_unlock();
	if (!ct)
		return;

	strscpy(ct->comm, task->comm, sizeof(ct->comm));
	ct_task_save_creds(ct, task);
	spin_lock_irqsave(&ct_lock, flags);
	hash_del_rcu(&ct->live);
	/* Its credentials are saved before it is seen as exited. */
	smp_store_release(&ct->task, NULL);
	ct_nr_live--;
	if (ct->tracked) {
		list_add_tail(&ct->exited, &ct_exited);
		ct_nr_exited++;
		ct_task_evict_excess();
	} else {
		ct_task_free(ct);
	}
	spin_unlock_irqrestore(&ct_lock, flags);
	/*
	 * Never the last reference: the exiting task holds its own until it
	 * is reaped, and that frees it only after an RCU grace period, so a
	 * reader that saw ct->task set is safe.
	 */
	put_task_struct(task);
}

/* Lowering the cap at run time evicts down to it at once. */
static int ct_set_max_exited(const char *val, const struct kernel_param *kp)
{
	unsigned long flags;
	unsigned int cap;
	int ret;

	ret = kstrtouint(val, 0, &cap);
	if (ret)
		return ret;
	if (cap > CT_MAX_EXITED_LIMIT)
		return -EINVAL;
	spin_lock_irqsave(&ct_lock, flags);
	max_exited = cap;
	ct_task_evict_excess();
	spin_unlock_irqrestore(&ct_lock, flags);
	return 0;
}

static const struct kernel_param_ops ct_max_exited_ops = {
	.set = ct_set_max_exited,
	.get = param_get_uint,
};
module_param_cb(max_exited, &ct_max_exited_ops, &max_exited, 0644);
MODULE_PARM_DESC(max_exited,
		 "Rows of exited tasks kept (at most 65536); past this the oldest is evicted");

/* Caller holds ct_lock. */
static void ct_task_clear_locked(void)
{
	struct ct_task *ct, *tmp;

	list_for_each_entry_safe(ct, tmp, &ct_exited, exited) {
		list_del(&ct->exited);
		ct_task_free(ct);
	}
	ct_nr_exited = 0;
	ct_evictions = 0;
	list_for_each_entry(ct, &ct_all, all)
		memset(ct->count, 0, sizeof(ct->count));
}

void ct_task_reset(void)
{
	unsigned long flags;

	spin_lock_irqsave(&ct_lock, flags);
	ct_task_clear_locked();
	spin_unlock_irqrestore(&ct_lock, flags);
}

/*
 * A new filter starts a new table: counts so far are cleared, and every live
 * row is tracked or not by the new rule from now on.
 */
void ct_task_set_filter(enum ct_filter_kind kind, pid_t pid, const char *comm)
{
	struct ct_task *ct;
	unsigned long flags;

	spin_lock_irqsave(&ct_lock, flags);
	WRITE_ONCE(ct_filter.kind, kind);
	WRITE_ONCE(ct_filter.pid, pid);
	strscpy_pad(ct_filter.comm, comm ? comm : "", sizeof(ct_filter.comm));
	ct_task_clear_locked();
	rcu_read_lock();
	list_for_each_entry(ct, &ct_all, all)
		WRITE_ONCE(ct->tracked, ct->task && ct_task_matches(ct->task));
	rcu_read_unlock();
	spin_unlock_irqrestore(&ct_lock, flags);
}

void ct_task_stats(struct ct_task_stats *st)
{
	unsigned long flags;

	spin_lock_irqsave(&ct_lock, flags);
	st->live = ct_nr_live;
	st->exited = ct_nr_exited;
	st->evictions = ct_evictions;
	st->filter = ct_filter.kind;
	st->filter_pid = ct_filter.pid;
	strscpy(st->filter_comm, ct_filter.comm, sizeof(st->filter_comm));
	st->max_exited = max_exited;
	spin_unlock_irqrestore(&ct_lock, flags);
	st->alloc_failures = atomic64_read(&ct_alloc_failures);
}

int cowtrace_task_init(void)
{
	return 0;
}

/* Every hook and every file is gone by now: nothing else can reach a row. */
void cowtrace_task_exit(void)
{
	struct ct_task *ct, *tmp;

	list_for_each_entry_safe(ct, tmp, &ct_all, all) {
		list_del(&ct->all);
		if (ct->task)
			put_task_struct(ct->task);
		ct_task_release(ct);
	}
	hash_init(ct_live);
	INIT_LIST_HEAD(&ct_exited);
	ct_nr_live = 0;
	ct_nr_exited = 0;
	/* Rows freed with call_rcu() before the hooks went away. */
	rcu_barrier();
}
