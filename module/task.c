// SPDX-License-Identifier: GPL-2.0
/*
 * The per-task table.
 *
 * The fault path finds the current task's row by task pointer in an RCU
 * hash and never takes a lock. ct_lock only orders the writers: new rows,
 * exits, evictions. The newtask and exit hooks, and rows made on a task's
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
 *
 * Nothing here holds ct_lock, with interrupts off, for more than a batch
 * of rows: resets, filter changes and evictions walk the table a bucket or
 * a batch at a time.
 */
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "task.h"

const char *const ct_counter_names[] = { COWTRACE_COUNTER_NAMES };
static_assert(ARRAY_SIZE(ct_counter_names) == COWTRACE_NR_COUNTERS);

/* Rows handled per hold of ct_lock when many are to be handled. */
#define CT_BATCH	64

#define CT_LIVE_BITS	12
static DEFINE_HASHTABLE(ct_live, CT_LIVE_BITS);
LIST_HEAD(ct_all);
static LIST_HEAD(ct_exited);
static DEFINE_SPINLOCK(ct_lock);
/* One reset or filter change at a time. */
static DEFINE_MUTEX(ct_reset_mutex);

static unsigned int max_exited = 4096;
static unsigned int ct_nr_live;
static unsigned int ct_nr_exited;
static u64 ct_evictions;
static atomic64_t ct_alloc_failures = ATOMIC64_INIT(0);
/* When counting last started over (load, reset, filter): ktime_get_ns(). */
static u64 ct_epoch;

/* Caller is in an RCU read-side section. */
struct ct_task *ct_task_lookup(struct task_struct *task)
{
	struct ct_task *ct;

	hash_for_each_possible_rcu(ct_live, ct, live, (unsigned long)task)
		if (READ_ONCE(ct->task) == task)
			return ct;
	return NULL;
}

/*
 * The raw values of a row's slots: its own counters, and the kernel's
 * fault counts of its task, live or as it exited. Caller holds RCU.
 */
static void ct_task_raw(struct ct_task *ct, u64 *raw)
{
	/* Pairs with the release in ct_task_exit(): exit_* are set. */
	struct task_struct *task = smp_load_acquire(&ct->task);
	unsigned int i;

	if (task) {
		ct_fault_read(ct, task, raw);
		return;
	}
	for (i = 0; i < CT_NR_SLOTS; i++)
		raw[i] = READ_ONCE(ct->count[i]);
	raw[COWTRACE_FAULT_MAJOR] = ct->exit_major;
	raw[COWTRACE_FAULTS] = ct->exit_faults;
}

/*
 * Count from now on. The base is published with release, and read with
 * acquire before the raw values, so a reader that sees a new base sees
 * counts at least as large. Caller holds RCU.
 */
static void ct_task_rebase(struct ct_task *ct)
{
	u64 raw[CT_NR_SLOTS];
	unsigned int i;

	ct_task_raw(ct, raw);
	for (i = 0; i < CT_NR_SLOTS; i++) {
		/* Pairs with the acquire in ct_task_values(). */
		smp_store_release(&ct->base[i], raw[i]);
	}
}

/* What the views show: each counter since the last reset. Caller holds RCU. */
void ct_task_values(struct ct_task *ct, u64 *val)
{
	u64 base[CT_NR_SLOTS], raw[CT_NR_SLOTS], d[CT_NR_SLOTS];
	unsigned int i;

	for (i = 0; i < CT_NR_SLOTS; i++) {
		/* Pairs with ct_task_rebase(): the raw values read next are newer. */
		base[i] = smp_load_acquire(&ct->base[i]);
	}
	ct_task_raw(ct, raw);
	for (i = 0; i < CT_NR_SLOTS; i++)
		d[i] = raw[i] > base[i] ? raw[i] - base[i] : 0;
	memcpy(val, d, COWTRACE_NR_COUNTERS * sizeof(*val));
	/* A fault ends in the kernel's count before it reaches ours. */
	val[COWTRACE_UNCLASSIFIED] = d[COWTRACE_FAULTS] > d[CT_CLASSIFIED] ?
		d[COWTRACE_FAULTS] - d[CT_CLASSIFIED] : 0;
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
	seqcount_init(&ct->try.seq);
	/*
	 * The kernel counts a task's faults from its birth. One born since
	 * counting started is counted whole, even if its row comes late (no
	 * memory at its clone): what cowtrace missed shows as unclassified.
	 */
	if (task->start_time < READ_ONCE(ct_epoch))
		ct_task_rebase(ct);

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
	return ct_task_add(current, ct_filter_matches(current));
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
		if (!ct->tracked && ct_filter_matches(task)) {
			/* Counting before the base is taken: nothing is lost. */
			WRITE_ONCE(ct->tracked, true);
			ct_task_rebase(ct);
		}
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

/*
 * Caller holds ct_lock: the row leaves the table now, onto @doomed (by its
 * exited link, which no list holds any more), and is freed by
 * ct_task_free() once the lock is dropped: freeing, under the sanitizers,
 * costs far more than unlinking, and need not keep interrupts off.
 */
static void ct_task_unlink(struct ct_task *ct, struct list_head *doomed)
{
	list_del_rcu(&ct->all);
	list_add_tail(&ct->exited, doomed);
}

/*
 * Readers may be on them: they go after a grace period (rcu_barrier at
 * exit). @doomed is empty again for the next batch.
 */
static void ct_task_free(struct list_head *doomed)
{
	struct ct_task *ct, *tmp;

	list_for_each_entry_safe(ct, tmp, doomed, exited)
		call_rcu(&ct->rcu, ct_task_release_rcu);
	INIT_LIST_HEAD(doomed);
}

/* Caller holds ct_lock. Returns how many more are over the cap. */
static unsigned int ct_task_evict_excess(unsigned int batch,
					 struct list_head *doomed)
{
	struct ct_task *old;

	while (ct_nr_exited > max_exited && batch--) {
		old = list_first_entry(&ct_exited, struct ct_task, exited);
		list_del(&old->exited);
		ct_task_unlink(old, doomed);
		ct_nr_exited--;
		ct_evictions++;
	}
	return ct_nr_exited > max_exited ? ct_nr_exited - max_exited : 0;
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

/* Called by the exiting task itself, after exit_mm(): it faults no more. */
void ct_task_exit(struct task_struct *task)
{
	LIST_HEAD(doomed);
	struct ct_task *ct;
	unsigned long flags;

	rcu_read_lock();
	ct = ct_task_lookup(task);
	rcu_read_unlock();
	if (!ct)
		return;

	/* Before the row is seen as exited: from then on, counts are final. */
	ct_fault_close_own(ct);
	strscpy(ct->comm, task->comm, sizeof(ct->comm));
	ct_task_save_creds(ct, task);
	ct->exit_major = task->maj_flt;
	ct->exit_faults = task->min_flt + task->maj_flt;
	spin_lock_irqsave(&ct_lock, flags);
	hash_del_rcu(&ct->live);
	/* Its credentials and counts are saved before it is seen as exited. */
	smp_store_release(&ct->task, NULL);
	ct_nr_live--;
	if (ct->tracked) {
		list_add_tail(&ct->exited, &ct_exited);
		ct_nr_exited++;
		ct_task_evict_excess(CT_BATCH, &doomed);
	} else {
		ct_task_unlink(ct, &doomed);
	}
	spin_unlock_irqrestore(&ct_lock, flags);
	ct_task_free(&doomed);
	/*
	 * Never the last reference: the exiting task holds its own until it
	 * is reaped, and that frees it only after an RCU grace period, so a
	 * reader that saw ct->task set is safe.
	 */
	put_task_struct(task);
}

/* Lowering the cap at run time evicts down to it at once. */
int ct_task_set_max_exited(unsigned int cap)
{
	unsigned int left;
	LIST_HEAD(doomed);

	if (cap > CT_MAX_EXITED_LIMIT)
		return -EINVAL;
	spin_lock_irq(&ct_lock);
	WRITE_ONCE(max_exited, cap);
	spin_unlock_irq(&ct_lock);
	do {
		cond_resched();
		spin_lock_irq(&ct_lock);
		left = ct_task_evict_excess(CT_BATCH, &doomed);
		spin_unlock_irq(&ct_lock);
		ct_task_free(&doomed);
	} while (left);
	return 0;
}

unsigned int ct_task_max_exited(void)
{
	return READ_ONCE(max_exited);
}

/* Tracked from now on by the filter in force, counting before the base. */
static void ct_task_retrack(struct ct_task *ct)
{
	struct task_struct *task = READ_ONCE(ct->task);

	WRITE_ONCE(ct->tracked, task && ct_filter_matches(task));
	ct_task_rebase(ct);
}

/* Rebase (and retrack) every live row, a hash bucket per RCU section. */
static void ct_task_rebase_live(bool retrack)
{
	struct ct_task *ct;
	unsigned int bkt;

	for (bkt = 0; bkt < HASH_SIZE(ct_live); bkt++) {
		rcu_read_lock();
		hlist_for_each_entry_rcu(ct, &ct_live[bkt], live) {
			if (retrack)
				ct_task_retrack(ct);
			else
				ct_task_rebase(ct);
		}
		rcu_read_unlock();
		if (bkt % CT_BATCH == 0)
			cond_resched();
	}
}

/* Forget the exited rows, a batch at a time. */
static void ct_task_drop_exited(void)
{
	LIST_HEAD(exited);
	LIST_HEAD(doomed);
	struct ct_task *ct;
	unsigned int n;

	spin_lock_irq(&ct_lock);
	list_splice_init(&ct_exited, &exited);
	ct_nr_exited = 0;
	ct_evictions = 0;
	spin_unlock_irq(&ct_lock);

	while (!list_empty(&exited)) {
		spin_lock_irq(&ct_lock);
		for (n = 0; n < CT_BATCH && !list_empty(&exited); n++) {
			ct = list_first_entry(&exited, struct ct_task, exited);
			list_del(&ct->exited);
			ct_task_unlink(ct, &doomed);
		}
		spin_unlock_irq(&ct_lock);
		ct_task_free(&doomed);
		cond_resched();
	}
}

/*
 * Start counting over: rows made from now on and the live ones count from
 * here; rows that exit meanwhile are dropped with the other exited ones.
 */
static void ct_task_restart(bool retrack)
{
	WRITE_ONCE(ct_epoch, ktime_get_ns());
	ct_task_rebase_live(retrack);
	ct_task_drop_exited();
}

void ct_task_reset(void)
{
	mutex_lock(&ct_reset_mutex);
	ct_task_restart(false);
	mutex_unlock(&ct_reset_mutex);
}

/* A new filter starts a new table, as a reset does. */
int ct_task_set_filter(enum ct_filter_kind kind, pid_t pid, const char *comm)
{
	int ret;

	mutex_lock(&ct_reset_mutex);
	ret = ct_filter_set(kind, pid, comm);
	if (!ret)
		ct_task_restart(true);
	mutex_unlock(&ct_reset_mutex);
	return ret;
}

void ct_task_stats(struct ct_task_stats *st)
{
	unsigned long flags;

	spin_lock_irqsave(&ct_lock, flags);
	st->live = ct_nr_live;
	st->exited = ct_nr_exited;
	st->evictions = ct_evictions;
	st->max_exited = max_exited;
	spin_unlock_irqrestore(&ct_lock, flags);
	st->alloc_failures = atomic64_read(&ct_alloc_failures);
	ct_filter_get(&st->filter);
}

int cowtrace_task_init(void)
{
	ct_epoch = ktime_get_ns();
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
