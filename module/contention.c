// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel lock contention from the lock:contention_begin and
 * lock:contention_end tracepoints, the ones perf lock contention uses. They
 * exist without CONFIG_LOCK_STAT or lockdep, so this works on a stock
 * kernel. A wait is counted once it ends, per lock kind, per call site and
 * per task.
 *
 * Where a wait starts is kept the way perf's BPF program keeps it: spinning
 * locks (spinlock, rwlock) wait with preemption off, so their start lives
 * in a per-CPU slot, one per context level because an interrupt may spin
 * on another lock while the task it interrupted spins. Sleeping locks are
 * keyed by the waiting task. A begin while a wait is already open in that
 * slot is a nested one (a mutex's optimistic spin, the wait_lock of a
 * sleeping lock) and is not counted on its own: the outer wait covers it.
 *
 * The probes run inside the lock slow paths, some with interrupts off, so
 * they take no lock and allocate nothing: the statistics are per-CPU
 * tables of fixed size, written with interrupts off under a per-CPU
 * seqcount so that a reader copies each CPU's table consistently and the
 * per-task numbers always add up to the per-kind ones.
 */
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/seqlock.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/stacktrace.h>
#include <linux/timekeeping.h>
#include <trace/events/lock.h>
#include <trace/events/sched.h>

#include "cowtrace.h"
#include "hooks.h"

/* Per CPU; a full table counts what it cannot take as dropped. */
#define CT_CN_SITES	256
#define CT_CN_TASKS	256
/* Tasks in a sleeping-lock wait at once; a full table drops waits. */
#define CT_CN_SLEEPERS	1024
#define CT_CN_PROBE	8
/* Return addresses whose symbol was looked up once. */
#define CT_CN_SYMS	4096
#define CT_CN_STACK	16
#define CT_CN_LEVELS	4	/* task, softirq, hardirq, NMI */

enum ct_cn_kind {
	CT_CN_SPINLOCK,
	CT_CN_RWLOCK_R,
	CT_CN_RWLOCK_W,
	CT_CN_MUTEX,
	CT_CN_RWSEM_R,
	CT_CN_RWSEM_W,
	CT_CN_PCPU_R,
	CT_CN_PCPU_W,
	CT_CN_RTMUTEX,
	CT_CN_RWLOCK_RT_R,
	CT_CN_RWLOCK_RT_W,
	CT_CN_SEMAPHORE,
	CT_CN_OTHER,
	CT_CN_NR_KINDS
};

/* perf lock contention's names, so that the two can be read side by side */
static const char *const ct_cn_kind_names[] = {
	[CT_CN_SPINLOCK] = "spinlock",
	[CT_CN_RWLOCK_R] = "rwlock:R",
	[CT_CN_RWLOCK_W] = "rwlock:W",
	[CT_CN_MUTEX] = "mutex",
	[CT_CN_RWSEM_R] = "rwsem:R",
	[CT_CN_RWSEM_W] = "rwsem:W",
	[CT_CN_PCPU_R] = "pcpu-sem:R",
	[CT_CN_PCPU_W] = "pcpu-sem:W",
	[CT_CN_RTMUTEX] = "rt-mutex",
	[CT_CN_RWLOCK_RT_R] = "rwlock-rt:R",
	[CT_CN_RWLOCK_RT_W] = "rwlock-rt:W",
	[CT_CN_SEMAPHORE] = "semaphore",
	[CT_CN_OTHER] = "other",
};

static_assert(ARRAY_SIZE(ct_cn_kind_names) == CT_CN_NR_KINDS);

struct ct_cn_stat {
	u64 count;
	u64 total_ns;
	u64 max_ns;
};

struct ct_cn_site {
	unsigned long ip;		/* 0: no call site outside locking */
	u32 kind;
	bool used;
	struct ct_cn_stat s;
};

/* A task is its pid and its start: a task that reused a pid is another. */
struct ct_cn_task {
	pid_t pid;
	pid_t tgid;
	u64 start;
	bool used;
	char comm[TASK_COMM_LEN];
	struct ct_cn_stat s;
};

struct ct_cn_wait {
	void *lock;			/* NULL: no wait open */
	u64 start;
	u32 flags;
};

/* What a reader copies: one CPU's statistics. */
struct ct_cn_tables {
	u32 gen;			/* of ct_cn_gen, when last cleared */
	u64 dropped_sites;
	u64 dropped_tasks;
	struct ct_cn_stat kind[CT_CN_NR_KINDS];
	struct ct_cn_site site[CT_CN_SITES];
	struct ct_cn_task task[CT_CN_TASKS];
};

struct ct_cn_cpu {
	seqcount_t seq;
	struct ct_cn_wait spin[CT_CN_LEVELS];
	char sym[KSYM_SYMBOL_LEN];	/* scratch, used with IRQs off */
	struct ct_cn_tables t;
};

struct ct_cn_sleeper {
	struct task_struct *task;	/* NULL: a free slot */
	struct ct_cn_wait w;
};

struct ct_cn_sym {
	unsigned long ip;		/* 0: a free slot */
	bool internal;
};

/*
 * A call site is kept as an address, named when the view is read. When a
 * module goes, an address inside it would name nothing, or a function of
 * the next module loaded there: if any site is inside, the tables start
 * over (the view says when and why), and the symbol cache forgets it.
 */
/* Not a mutex: on lockdep a reader's mutex_lock() is itself a contention. */
static DEFINE_SPINLOCK(ct_cn_gone_lock);
static char ct_cn_gone_name[MODULE_NAME_LEN];	/* "": no such reset */
static u64 ct_cn_gone_at;			/* boot-time ns */

static struct ct_cn_cpu **ct_cn_cpus;
static struct ct_cn_sleeper *ct_cn_sleepers;
static struct ct_cn_sym *ct_cn_syms;
static u32 ct_cn_gen;
static atomic64_t ct_cn_nested = ATOMIC64_INIT(0);
static atomic64_t ct_cn_sleepers_full = ATOMIC64_INIT(0);
static atomic64_t ct_cn_abandoned = ATOMIC64_INIT(0);

static enum ct_cn_kind ct_cn_kind(u32 flags)
{
	switch (flags) {
	case LCB_F_SPIN:
		return CT_CN_SPINLOCK;
	case LCB_F_SPIN | LCB_F_READ:
		return CT_CN_RWLOCK_R;
	case LCB_F_SPIN | LCB_F_WRITE:
		return CT_CN_RWLOCK_W;
	case LCB_F_MUTEX:
	case LCB_F_MUTEX | LCB_F_SPIN:
		return CT_CN_MUTEX;
	case LCB_F_READ:
		return CT_CN_RWSEM_R;
	case LCB_F_WRITE:
		return CT_CN_RWSEM_W;
	case LCB_F_PERCPU | LCB_F_READ:
		return CT_CN_PCPU_R;
	case LCB_F_PERCPU | LCB_F_WRITE:
		return CT_CN_PCPU_W;
	case LCB_F_RT:
		return CT_CN_RTMUTEX;
	case LCB_F_RT | LCB_F_READ:
		return CT_CN_RWLOCK_RT_R;
	case LCB_F_RT | LCB_F_WRITE:
		return CT_CN_RWLOCK_RT_W;
	case 0:
		return CT_CN_SEMAPHORE;
	}
	return CT_CN_OTHER;
}

/* A mutex spinning on its owner is still a task's wait, not a CPU's. */
static bool ct_cn_spins(u32 flags)
{
	return (flags & (LCB_F_SPIN | LCB_F_MUTEX)) == LCB_F_SPIN;
}

static struct ct_cn_sleeper *ct_cn_sleeper_find(struct task_struct *task)
{
	unsigned long h = hash_ptr(task, ilog2(CT_CN_SLEEPERS));
	unsigned int i;

	for (i = 0; i < CT_CN_PROBE; i++) {
		struct ct_cn_sleeper *sl = &ct_cn_sleepers[(h + i) %
							   CT_CN_SLEEPERS];

		if (READ_ONCE(sl->task) == task)
			return sl;
	}
	return NULL;
}

/* Only @task itself claims, fills and frees its slot. */
static struct ct_cn_sleeper *ct_cn_sleeper_claim(struct task_struct *task)
{
	unsigned long h = hash_ptr(task, ilog2(CT_CN_SLEEPERS));
	unsigned int i;

	for (i = 0; i < CT_CN_PROBE; i++) {
		struct ct_cn_sleeper *sl = &ct_cn_sleepers[(h + i) %
							   CT_CN_SLEEPERS];

		if (!READ_ONCE(sl->task) && !cmpxchg(&sl->task, NULL, task))
			return sl;
	}
	atomic64_inc(&ct_cn_sleepers_full);
	return NULL;
}

static void ct_cn_begin(void *data, void *lock, unsigned int flags)
{
	struct ct_cn_wait *w;

	/* Time in NMI comes from a clock that is not NMI-safe everywhere. */
	if (in_nmi())
		return;
	if (ct_cn_spins(flags)) {
		w = &ct_cn_cpus[smp_processor_id()]->spin[interrupt_context_level()];
	} else {
		struct ct_cn_sleeper *sl = ct_cn_sleeper_find(current);

		if (sl) {
			atomic64_inc(&ct_cn_nested);
			return;
		}
		sl = ct_cn_sleeper_claim(current);
		if (!sl)
			return;
		w = &sl->w;
	}
	if (w->lock) {
		atomic64_inc(&ct_cn_nested);
		return;
	}
	w->start = ktime_get_mono_fast_ns();
	w->flags = flags;
	WRITE_ONCE(w->lock, lock);
}

/*
 * A frame is inside the locking code if the kernel says so (the spinlock
 * API's own section) or its name is one of the lock slow paths, the
 * scheduler they sleep in, or this module's probe. The first frame that is
 * not is the call site. Names are looked up once per return address.
 */
static const char *const ct_cn_internal[] = {
	"__traceiter_", "queued_", "native_queued_", "__pv_queued_",
	"pv_queued_", "_raw_", "__raw_", "do_raw_", "mutex_", "__mutex_",
	"ww_mutex_", "__ww_mutex_", "down_", "__down", "rwsem_", "__rwsem_",
	"percpu_down_", "__percpu_down_", "percpu_rwsem_", "__percpu_rwsem_",
	"rt_mutex_", "__rt_mutex_", "rtlock_", "rwbase_", "rt_spin_",
	"rt_read_", "rt_write_", "schedule", "__schedule", "preempt_schedule",
	"io_schedule",
};

static bool ct_cn_name_internal(const char *name)
{
	unsigned int i;

	if (!strcmp(name, "down"))
		return true;
	for (i = 0; i < ARRAY_SIZE(ct_cn_internal); i++)
		if (str_has_prefix(name, ct_cn_internal[i]))
			return true;
	return false;
}

static bool ct_cn_ip_internal(struct ct_cn_cpu *c, unsigned long ip)
{
	unsigned long h = hash_long(ip, ilog2(CT_CN_SYMS));
	struct ct_cn_sym *sym;
	unsigned int i;
	bool internal;

	if (in_lock_functions(ip) || within_module(ip, THIS_MODULE))
		return true;
	for (i = 0; i < CT_CN_PROBE; i++) {
		sym = &ct_cn_syms[(h + i) % CT_CN_SYMS];
		if (READ_ONCE(sym->ip) == ip)
			return READ_ONCE(sym->internal);
		if (!READ_ONCE(sym->ip))
			break;
	}
	sprint_symbol_no_offset(c->sym, ip);
	internal = ct_cn_name_internal(c->sym);
	if (i < CT_CN_PROBE && !cmpxchg(&sym->ip, 0, 1)) {
		WRITE_ONCE(sym->internal, internal);
		/* The answer is visible before the key that finds it. */
		smp_store_release(&sym->ip, ip);
	}
	return internal;
}

static unsigned long ct_cn_caller(struct ct_cn_cpu *c)
{
	unsigned long entries[CT_CN_STACK];
	unsigned int n, i;

	n = stack_trace_save(entries, ARRAY_SIZE(entries), 0);
	for (i = 0; i < n; i++)
		if (!ct_cn_ip_internal(c, entries[i]))
			return entries[i];
	return 0;
}

static void ct_cn_add(struct ct_cn_stat *s, u64 ns)
{
	s->count++;
	s->total_ns += ns;
	if (ns > s->max_ns)
		s->max_ns = ns;
}

static void ct_cn_add_site(struct ct_cn_tables *t, unsigned long ip, u32 kind,
			   u64 ns)
{
	unsigned long h = hash_long(ip ^ kind, ilog2(CT_CN_SITES));
	unsigned int i;

	for (i = 0; i < CT_CN_SITES; i++) {
		struct ct_cn_site *s = &t->site[(h + i) % CT_CN_SITES];

		if (!s->used) {
			s->used = true;
			s->ip = ip;
			s->kind = kind;
		}
		if (s->ip == ip && s->kind == kind) {
			ct_cn_add(&s->s, ns);
			return;
		}
	}
	t->dropped_sites++;
}

static void ct_cn_add_task(struct ct_cn_tables *t, u64 ns)
{
	unsigned long h = hash_32(current->pid, ilog2(CT_CN_TASKS));
	unsigned int i;

	for (i = 0; i < CT_CN_TASKS; i++) {
		struct ct_cn_task *k = &t->task[(h + i) % CT_CN_TASKS];

		if (!k->used) {
			k->used = true;
			k->pid = current->pid;
			k->tgid = current->tgid;
			k->start = current->start_time;
			memcpy(k->comm, current->comm, TASK_COMM_LEN);
		}
		if (k->pid == current->pid && k->start == current->start_time) {
			ct_cn_add(&k->s, ns);
			return;
		}
	}
	t->dropped_tasks++;
}

/* Called with interrupts off: this CPU's tables are ours alone. */
static void ct_cn_record(struct ct_cn_cpu *c, u32 flags, u64 ns,
			 unsigned long ip)
{
	u32 gen = READ_ONCE(ct_cn_gen);
	u32 kind = ct_cn_kind(flags);

	raw_write_seqcount_begin(&c->seq);
	if (c->t.gen != gen) {
		memset(&c->t, 0, sizeof(c->t));
		c->t.gen = gen;
	}
	ct_cn_add(&c->t.kind[kind], ns);
	ct_cn_add_site(&c->t, ip, kind, ns);
	ct_cn_add_task(&c->t, ns);
	raw_write_seqcount_end(&c->seq);
}

/* Close the wait this end belongs to; false if it is not one we opened. */
static bool ct_cn_close(struct ct_cn_cpu *c, void *lock, struct ct_cn_wait *out)
{
	struct ct_cn_wait *w = &c->spin[interrupt_context_level()];
	struct ct_cn_sleeper *sl;

	/*
	 * As perf: an open spin wait on this CPU for this lock means this end
	 * is for it, as nothing sleeps while it spins. Otherwise it may end
	 * the task's sleeping wait, whatever spins on this CPU meanwhile.
	 */
	if (w->lock == lock) {
		*out = *w;
		WRITE_ONCE(w->lock, NULL);
		return true;
	}
	sl = ct_cn_sleeper_find(current);
	if (!sl || sl->w.lock != lock)
		return false;
	*out = sl->w;
	WRITE_ONCE(sl->w.lock, NULL);
	/* The slot is empty before another task can claim it. */
	smp_store_release(&sl->task, NULL);
	return true;
}

static void ct_cn_end(void *data, void *lock, int ret)
{
	struct ct_cn_wait w;
	struct ct_cn_cpu *c;
	unsigned long irqflags, ip;
	u64 now, ns;

	if (in_nmi())
		return;
	c = ct_cn_cpus[smp_processor_id()];
	if (!ct_cn_close(c, lock, &w))
		return;
	now = ktime_get_mono_fast_ns();
	ns = now > w.start ? now - w.start : 0;
	local_irq_save(irqflags);
	ip = ct_cn_caller(c);
	ct_cn_record(c, w.flags, ns, ip);
	local_irq_restore(irqflags);
}

/*
 * A task that exits with a sleeping wait still open (its end was not one
 * we could match) frees its slot: the table is keyed by task pointer, and
 * a task later allocated at the same address must not inherit the wait.
 */
static void ct_cn_task_exit(CT_EXIT_PROTO)
{
	struct ct_cn_sleeper *sl = ct_cn_sleeper_find(task);

	if (!sl)
		return;
	WRITE_ONCE(sl->w.lock, NULL);
	/* The slot is empty before another task can claim it. */
	smp_store_release(&sl->task, NULL);
	atomic64_inc(&ct_cn_abandoned);
}

CT_TP_PROBE_CHECK(sched_process_exit, ct_cn_task_exit);
CT_TP_PROBE_CHECK(contention_end, ct_cn_end);
CT_TP_PROBE_CHECK(contention_begin, ct_cn_begin);

/*
 * Attached in this order, detached in reverse: every wait that a begin
 * opens has its end and its task's exit watched, so no slot stays open.
 */
enum { CT_CN_HOOK_EXIT, CT_CN_HOOK_END, CT_CN_HOOK_BEGIN, CT_CN_NR_HOOKS };

static struct ct_hook ct_cn_hooks[CT_CN_NR_HOOKS] = {
	[CT_CN_HOOK_EXIT] = { .type = CT_HOOK_TRACEPOINT,
			      .names = { "sched_process_exit" },
			      .tp_probe = ct_cn_task_exit },
	[CT_CN_HOOK_END] = { .type = CT_HOOK_TRACEPOINT,
			     .names = { "contention_end" },
			     .tp_probe = ct_cn_end },
	[CT_CN_HOOK_BEGIN] = { .type = CT_HOOK_TRACEPOINT,
			       .names = { "contention_begin" },
			       .tp_probe = ct_cn_begin },
};

bool ct_contention_available(void)
{
	return ct_cn_hooks[CT_CN_HOOK_EXIT].attached &&
	       ct_cn_hooks[CT_CN_HOOK_END].attached &&
	       ct_cn_hooks[CT_CN_HOOK_BEGIN].attached;
}

void ct_contention_show_hooks(struct seq_file *m)
{
	ct_hooks_show(m, ct_cn_hooks, CT_CN_NR_HOOKS);
}

static void ct_cn_clear(void)
{
	/* Each CPU clears its tables at its next wait; readers skip them. */
	WRITE_ONCE(ct_cn_gen, READ_ONCE(ct_cn_gen) + 1);
	atomic64_set(&ct_cn_nested, 0);
	atomic64_set(&ct_cn_sleepers_full, 0);
	atomic64_set(&ct_cn_abandoned, 0);
}

void ct_contention_reset(void)
{
	spin_lock(&ct_cn_gone_lock);
	ct_cn_clear();
	ct_cn_gone_name[0] = '\0';
	spin_unlock(&ct_cn_gone_lock);
}

/* ------------------------------------------------------------ reading */

struct ct_cn_snap {
	u64 dropped_sites;
	u64 dropped_tasks;
	struct ct_cn_stat kind[CT_CN_NR_KINDS];
	unsigned int nsites, ntasks;
	struct ct_cn_site *site;
	struct ct_cn_task *task;
};

static void ct_cn_copy_cpu(struct ct_cn_cpu *c, struct ct_cn_tables *t)
{
	unsigned int seq;

	do {
		seq = read_seqcount_begin(&c->seq);
		memcpy(t, &c->t, sizeof(*t));
	} while (read_seqcount_retry(&c->seq, seq));
}

static void ct_cn_merge_cpu(struct ct_cn_snap *s, const struct ct_cn_tables *t)
{
	unsigned int i;

	s->dropped_sites += t->dropped_sites;
	s->dropped_tasks += t->dropped_tasks;
	for (i = 0; i < CT_CN_NR_KINDS; i++) {
		s->kind[i].count += t->kind[i].count;
		s->kind[i].total_ns += t->kind[i].total_ns;
		s->kind[i].max_ns = max(s->kind[i].max_ns, t->kind[i].max_ns);
	}
	for (i = 0; i < CT_CN_SITES; i++)
		if (t->site[i].used)
			s->site[s->nsites++] = t->site[i];
	for (i = 0; i < CT_CN_TASKS; i++)
		if (t->task[i].used)
			s->task[s->ntasks++] = t->task[i];
}

static int ct_cn_site_key_cmp(const void *a, const void *b)
{
	const struct ct_cn_site *x = a, *y = b;

	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return x->kind < y->kind ? -1 : x->kind > y->kind;
}

static int ct_cn_task_key_cmp(const void *a, const void *b)
{
	const struct ct_cn_task *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int ct_cn_stat_cmp(const struct ct_cn_stat *x,
			  const struct ct_cn_stat *y)
{
	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	return x->count > y->count ? -1 : x->count < y->count;
}

static int ct_cn_site_wait_cmp(const void *a, const void *b)
{
	const struct ct_cn_site *x = a, *y = b;

	return ct_cn_stat_cmp(&x->s, &y->s);
}

static int ct_cn_task_wait_cmp(const void *a, const void *b)
{
	const struct ct_cn_task *x = a, *y = b;
	int ret = ct_cn_stat_cmp(&x->s, &y->s);

	return ret ? ret : ct_cn_task_key_cmp(a, b);
}

static void ct_cn_merge_stat(struct ct_cn_stat *to, const struct ct_cn_stat *s)
{
	to->count += s->count;
	to->total_ns += s->total_ns;
	to->max_ns = max(to->max_ns, s->max_ns);
}

/* The same site or task seen on several CPUs becomes one row. */
static unsigned int ct_cn_fold_sites(struct ct_cn_site *v, unsigned int n)
{
	unsigned int i, out = 0;

	sort(v, n, sizeof(*v), ct_cn_site_key_cmp, NULL);
	for (i = 0; i < n; i++) {
		if (out && !ct_cn_site_key_cmp(&v[out - 1], &v[i]))
			ct_cn_merge_stat(&v[out - 1].s, &v[i].s);
		else
			v[out++] = v[i];
	}
	sort(v, out, sizeof(*v), ct_cn_site_wait_cmp, NULL);
	return out;
}

static unsigned int ct_cn_fold_tasks(struct ct_cn_task *v, unsigned int n)
{
	unsigned int i, out = 0;

	sort(v, n, sizeof(*v), ct_cn_task_key_cmp, NULL);
	for (i = 0; i < n; i++) {
		if (out && !ct_cn_task_key_cmp(&v[out - 1], &v[i]))
			ct_cn_merge_stat(&v[out - 1].s, &v[i].s);
		else
			v[out++] = v[i];
	}
	sort(v, out, sizeof(*v), ct_cn_task_wait_cmp, NULL);
	return out;
}

static void ct_cn_snap_free(struct ct_cn_snap *s)
{
	if (!s)
		return;
	kvfree(s->task);
	kvfree(s->site);
	kfree(s);
}

static struct ct_cn_snap *ct_cn_snapshot(void)
{
	unsigned int ncpu = num_possible_cpus(), cpu;
	u32 gen = READ_ONCE(ct_cn_gen);
	struct ct_cn_tables *t;
	struct ct_cn_snap *s;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	t = kvmalloc(sizeof(*t), GFP_KERNEL);
	if (!s || !t)
		goto out_free;
	s->site = kvmalloc_array(ncpu * CT_CN_SITES, sizeof(*s->site),
				 GFP_KERNEL);
	s->task = kvmalloc_array(ncpu * CT_CN_TASKS, sizeof(*s->task),
				 GFP_KERNEL);
	if (!s->site || !s->task)
		goto out_free;
	for_each_possible_cpu(cpu) {
		ct_cn_copy_cpu(ct_cn_cpus[cpu], t);
		/* Not cleared since the last reset: nothing of this period. */
		if (t->gen == gen)
			ct_cn_merge_cpu(s, t);
	}
	kvfree(t);
	s->nsites = ct_cn_fold_sites(s->site, s->nsites);
	s->ntasks = ct_cn_fold_tasks(s->task, s->ntasks);
	return s;

out_free:
	kvfree(t);
	ct_cn_snap_free(s);
	return NULL;
}

/* Has any call site of this period an address inside @mod? */
static bool ct_cn_sites_in(struct module *mod)
{
	u32 gen = READ_ONCE(ct_cn_gen);
	struct ct_cn_tables *t;
	bool found = false;
	unsigned int cpu, i;

	t = kvmalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return true;	/* cannot tell: start over, to be right */
	for_each_possible_cpu(cpu) {
		ct_cn_copy_cpu(ct_cn_cpus[cpu], t);
		if (t->gen != gen)
			continue;
		for (i = 0; i < CT_CN_SITES && !found; i++)
			found = t->site[i].used && t->site[i].ip &&
				within_module(t->site[i].ip, mod);
		if (found)
			break;
	}
	kvfree(t);
	return found;
}

/* A lookup that finds a hole looks the name up again: never a wrong one. */
static void ct_cn_forget_syms(struct module *mod)
{
	unsigned long ip;
	unsigned int i;

	for (i = 0; i < CT_CN_SYMS; i++) {
		ip = READ_ONCE(ct_cn_syms[i].ip);
		if (ip > 1 && within_module(ip, mod))
			cmpxchg(&ct_cn_syms[i].ip, ip, 0);
	}
}

/* Called after the module's exit: none of its code takes locks any more. */
static int ct_cn_module_event(struct notifier_block *nb, unsigned long action,
			      void *data)
{
	struct module *mod = data;

	if (action != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	ct_cn_forget_syms(mod);
	if (!ct_cn_sites_in(mod))
		return NOTIFY_DONE;
	spin_lock(&ct_cn_gone_lock);
	ct_cn_clear();
	strscpy(ct_cn_gone_name, mod->name, sizeof(ct_cn_gone_name));
	ct_cn_gone_at = ktime_get_boottime_ns();
	spin_unlock(&ct_cn_gone_lock);
	return NOTIFY_DONE;
}

static struct notifier_block ct_cn_module_nb = {
	.notifier_call = ct_cn_module_event,
};

static void ct_cn_show_gone(struct seq_file *m)
{
	char name[MODULE_NAME_LEN];
	u64 ns;

	spin_lock(&ct_cn_gone_lock);
	strscpy(name, ct_cn_gone_name, sizeof(name));
	ns = ktime_get_boottime_ns() - ct_cn_gone_at;
	spin_unlock(&ct_cn_gone_lock);
	if (name[0])
		seq_printf(m, "contention since %llu.%06llu s: cleared when module %s, where call sites were, was unloaded\n",
			   div_u64(ns, NSEC_PER_SEC),
			   div_u64(ns % NSEC_PER_SEC, NSEC_PER_USEC), name);
}

static void ct_cn_show_stat(struct seq_file *m, const struct ct_cn_stat *s)
{
	seq_printf(m, " %llu %llu %llu %llu", s->count, s->total_ns, s->max_ns,
		   s->count ? div64_u64(s->total_ns, s->count) : 0);
}

void ct_contention_show(struct seq_file *m)
{
	struct ct_cn_snap *s;
	unsigned int i;

	if (!ct_contention_available()) {
		seq_puts(m, "== contention unavailable: no lock:contention_begin/end tracepoints ==\n");
		return;
	}
	ct_cn_show_gone(m);
	s = ct_cn_snapshot();
	if (!s) {
		seq_puts(m, "== contention unavailable: out of memory ==\n");
		return;
	}
	seq_printf(m, "lost nested %lld sleepers %lld sites %llu tasks %llu abandoned %lld\n",
		   atomic64_read(&ct_cn_nested),
		   atomic64_read(&ct_cn_sleepers_full), s->dropped_sites,
		   s->dropped_tasks, atomic64_read(&ct_cn_abandoned));
	seq_puts(m, "== contention by kind ==\n");
	seq_puts(m, "kind contentions wait_ns max_ns avg_ns\n");
	for (i = 0; i < CT_CN_NR_KINDS; i++) {
		seq_puts(m, ct_cn_kind_names[i]);
		ct_cn_show_stat(m, &s->kind[i]);
		seq_putc(m, '\n');
	}
	seq_printf(m, "== contention by call site: %u, most wait first ==\n",
		   s->nsites);
	seq_puts(m, "kind contentions wait_ns max_ns avg_ns caller\n");
	for (i = 0; i < s->nsites; i++) {
		seq_puts(m, ct_cn_kind_names[s->site[i].kind]);
		ct_cn_show_stat(m, &s->site[i].s);
		if (s->site[i].ip)
			seq_printf(m, " %pS\n", (void *)s->site[i].ip);
		else
			seq_puts(m, " unknown\n");
	}
	seq_printf(m, "== contention by task: %u, most wait first ==\n",
		   s->ntasks);
	seq_puts(m, "pid tgid comm contentions wait_ns max_ns avg_ns\n");
	for (i = 0; i < s->ntasks; i++) {
		seq_printf(m, "%d %d", s->task[i].pid, s->task[i].tgid);
		ct_show_comm(m, s->task[i].comm);
		ct_cn_show_stat(m, &s->task[i].s);
		seq_putc(m, '\n');
	}
	ct_cn_snap_free(s);
}

static void ct_cn_free(void)
{
	unsigned int cpu;

	if (ct_cn_cpus)
		for_each_possible_cpu(cpu)
			kvfree(ct_cn_cpus[cpu]);
	kfree(ct_cn_cpus);
	kvfree(ct_cn_syms);
	kvfree(ct_cn_sleepers);
}

static int ct_cn_alloc(void)
{
	unsigned int cpu;

	ct_cn_cpus = kcalloc(nr_cpu_ids, sizeof(*ct_cn_cpus), GFP_KERNEL);
	ct_cn_sleepers = kvcalloc(CT_CN_SLEEPERS, sizeof(*ct_cn_sleepers),
				  GFP_KERNEL);
	ct_cn_syms = kvcalloc(CT_CN_SYMS, sizeof(*ct_cn_syms), GFP_KERNEL);
	if (!ct_cn_cpus || !ct_cn_sleepers || !ct_cn_syms)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		ct_cn_cpus[cpu] = kvzalloc_node(sizeof(*ct_cn_cpus[cpu]),
						GFP_KERNEL, cpu_to_node(cpu));
		if (!ct_cn_cpus[cpu])
			return -ENOMEM;
		seqcount_init(&ct_cn_cpus[cpu]->seq);
	}
	return 0;
}

/*
 * The tracepoints are optional: without them the locks view says that
 * contention is unavailable, and the module works on.
 */
int cowtrace_contention_init(void)
{
	int ret;

	ret = ct_cn_alloc();
	if (ret)
		goto out_free;
	ret = register_module_notifier(&ct_cn_module_nb);
	if (ret)
		goto out_free;
	ret = ct_hooks_attach(ct_cn_hooks, CT_CN_NR_HOOKS);
	if (ret)
		goto out_unregister;
	return 0;

out_unregister:
	unregister_module_notifier(&ct_cn_module_nb);
out_free:
	ct_cn_free();
	return ret;
}

void cowtrace_contention_exit(void)
{
	ct_hooks_detach(ct_cn_hooks, CT_CN_NR_HOOKS);
	unregister_module_notifier(&ct_cn_module_nb);
	ct_cn_free();
}
