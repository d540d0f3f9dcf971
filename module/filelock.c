// SPDX-License-Identifier: GPL-2.0
/*
 * File locks from the filelock tracepoints: flock(), POSIX fcntl() and OFD
 * locks, per task and file (device:inode).
 *
 * Every attempt to take a lock ends in flock_lock_inode or posix_lock_inode
 * with its result:
 *   0                     the lock is taken (an acquisition)
 *   -EAGAIN               a non-blocking request refused (a conflict)
 *   FILE_LOCK_DEFERRED    a blocking request must wait; when woken it tries
 *                         again, and the wait ends at that try's result
 * Unlocks and FL_ACCESS probes are not acquisitions and are left out. A
 * POSIX or OFD wait that ends without another try (a signal) is closed by
 * fcntl_setlk's result; a flock() wait ended by a signal has no such event
 * and stays open until the task's next try on that file.
 *
 * These probes run in the system calls, preemptible context made atomic by
 * the tracepoint: a spinlock is fine here, unlike in the contention probes,
 * and a row is allocated without waiting, outside it.
 */
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/kdev_t.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#ifdef CT_HAVE_FILE_LOCK_CORE
#include <linux/filelock.h>
#endif
#include <trace/events/filelock.h>

#include "cowtrace.h"
#include "hooks.h"

/* Rows beyond this are counted as dropped, never allocated. */
#define CT_FL_MAX	4096
#define CT_FL_HASH_BITS	8
/* Buckets copied per hold of the lock by a reader (16 rows each, typically). */
#define CT_FL_BUCKETS	4
static_assert((1 << CT_FL_HASH_BITS) % CT_FL_BUCKETS == 0);

enum ct_fl_type { CT_FL_FLOCK, CT_FL_POSIX, CT_FL_OFD, CT_FL_NR_TYPES };

static const char *const ct_fl_type_names[] = {
	[CT_FL_FLOCK] = "flock",
	[CT_FL_POSIX] = "posix",
	[CT_FL_OFD] = "ofd",
};

static_assert(ARRAY_SIZE(ct_fl_type_names) == CT_FL_NR_TYPES);

struct ct_fl_row {
	struct hlist_node node;
	pid_t pid;
	pid_t tgid;
	dev_t dev;
	unsigned long ino;
	enum ct_fl_type type;
	char comm[TASK_COMM_LEN];
	u64 acquired;
	u64 conflicts;
	u64 waits;
	u64 wait_ns;
	u64 max_wait_ns;
	u64 wait_start;			/* 0: not waiting */
};

static DEFINE_HASHTABLE(ct_fl_rows, CT_FL_HASH_BITS);
static DEFINE_SPINLOCK(ct_fl_lock);
static unsigned int ct_fl_nrows;
static u64 ct_fl_dropped;

/* The fields moved into struct file_lock_core in 6.9 (see Kbuild). */
#ifdef CT_HAVE_FILE_LOCK_CORE
#define ct_fl_flags(fl)	((fl)->c.flc_flags)
#define ct_fl_kind(fl)	((fl)->c.flc_type)
#else
#define ct_fl_flags(fl)	((fl)->fl_flags)
#define ct_fl_kind(fl)	((fl)->fl_type)
#endif

static u32 ct_fl_hash(pid_t pid, dev_t dev, unsigned long ino,
		      enum ct_fl_type type)
{
	return jhash_3words(pid, dev ^ type, (u32)ino ^ (u32)(ino >> 32), 0);
}

/* With ct_fl_lock held. */
static struct ct_fl_row *ct_fl_find(dev_t dev, unsigned long ino,
				    enum ct_fl_type type, u32 key)
{
	struct ct_fl_row *r;

	hash_for_each_possible(ct_fl_rows, r, node, key)
		if (r->pid == current->pid && r->dev == dev &&
		    r->ino == ino && r->type == type)
			return r;
	return NULL;
}

/* A new row, made outside the lock: no allocation under a spinning lock. */
static struct ct_fl_row *ct_fl_new_row(dev_t dev, unsigned long ino,
				       enum ct_fl_type type)
{
	struct ct_fl_row *r;

	if (READ_ONCE(ct_fl_nrows) >= CT_FL_MAX)
		return NULL;
	r = kzalloc(sizeof(*r), GFP_NOWAIT | __GFP_NOWARN);
	if (!r)
		return NULL;
	r->pid = current->pid;
	r->tgid = current->tgid;
	r->dev = dev;
	r->ino = ino;
	r->type = type;
	memcpy(r->comm, current->comm, TASK_COMM_LEN);
	return r;
}

static void ct_fl_wait_end(struct ct_fl_row *r)
{
	u64 ns;

	if (!r->wait_start)
		return;
	ns = ktime_get_ns() - r->wait_start;
	r->wait_ns += ns;
	r->max_wait_ns = max(r->max_wait_ns, ns);
	r->wait_start = 0;
}

static void ct_fl_account(struct ct_fl_row *r, int ret)
{
	switch (ret) {
	case 0:
		r->acquired++;
		ct_fl_wait_end(r);
		break;
	case -EAGAIN:
		r->conflicts++;
		ct_fl_wait_end(r);
		break;
	case FILE_LOCK_DEFERRED:
		/* Woken and refused again: still the same wait. */
		if (!r->wait_start) {
			r->waits++;
			r->wait_start = ktime_get_ns() ?: 1;
		}
		break;
	default:
		ct_fl_wait_end(r);
	}
}

static bool ct_fl_type_of(struct file_lock *fl, enum ct_fl_type *type)
{
	unsigned int flags = ct_fl_flags(fl);

	if (ct_fl_kind(fl) == F_UNLCK || (flags & FL_ACCESS))
		return false;
	if (flags & FL_FLOCK)
		*type = CT_FL_FLOCK;
	else if (flags & FL_OFDLCK)
		*type = CT_FL_OFD;
	else if (flags & FL_POSIX)
		*type = CT_FL_POSIX;
	else
		return false;
	return true;
}

/*
 * Account @ret on the current task's row for the lock's file and type;
 * without a row, make one only if @create.
 */
static void ct_fl_record(struct inode *inode, struct file_lock *fl, int ret,
			 bool create)
{
	dev_t dev = inode->i_sb->s_dev;
	unsigned long ino = inode->i_ino, irqflags;
	struct ct_fl_row *r, *new;
	enum ct_fl_type type;
	u32 key;

	if (!ct_fl_type_of(fl, &type))
		return;
	key = ct_fl_hash(current->pid, dev, ino, type);
	spin_lock_irqsave(&ct_fl_lock, irqflags);
	r = ct_fl_find(dev, ino, type, key);
	if (r)
		ct_fl_account(r, ret);
	spin_unlock_irqrestore(&ct_fl_lock, irqflags);
	if (r || !create)
		return;

	/* Only this task makes rows of its pid: none appeared meanwhile. */
	new = ct_fl_new_row(dev, ino, type);
	spin_lock_irqsave(&ct_fl_lock, irqflags);
	if (new && ct_fl_nrows < CT_FL_MAX) {
		hash_add(ct_fl_rows, &new->node, key);
		WRITE_ONCE(ct_fl_nrows, ct_fl_nrows + 1);
		ct_fl_account(new, ret);
		new = NULL;
	} else {
		ct_fl_dropped++;
	}
	spin_unlock_irqrestore(&ct_fl_lock, irqflags);
	kfree(new);
}

/* One try to take a lock: flock_lock_inode and posix_lock_inode alike. */
static void ct_fl_try(void *data, struct inode *inode, struct file_lock *fl,
		      int ret)
{
	ct_fl_record(inode, fl, ret, true);
}

/*
 * The result of the whole fcntl(). Its try was counted by posix_lock_inode;
 * only an error that no try reported (a signal during the wait) is news,
 * and accounting it closes that wait. An error before any try (a bad
 * range, a file not open for writing) has no row and makes none.
 */
static void ct_fl_setlk(void *data, struct inode *inode, struct file_lock *fl,
			int ret)
{
	if (ret >= 0 || ret == -EAGAIN)
		return;
	ct_fl_record(inode, fl, ret, false);
}

CT_TP_PROBE_CHECK(flock_lock_inode, ct_fl_try);
CT_TP_PROBE_CHECK(posix_lock_inode, ct_fl_try);
CT_TP_PROBE_CHECK(fcntl_setlk, ct_fl_setlk);

static struct ct_hook ct_fl_hooks[] = {
	{ .type = CT_HOOK_TRACEPOINT, .names = { "flock_lock_inode" },
	  .tp_probe = ct_fl_try },
	{ .type = CT_HOOK_TRACEPOINT, .names = { "posix_lock_inode" },
	  .tp_probe = ct_fl_try },
	{ .type = CT_HOOK_TRACEPOINT, .names = { "fcntl_setlk" },
	  .tp_probe = ct_fl_setlk },
};

void ct_filelock_show_hooks(struct seq_file *m)
{
	ct_hooks_show(m, ct_fl_hooks, ARRAY_SIZE(ct_fl_hooks));
}

static void ct_fl_clear(void)
{
	struct hlist_node *tmp;
	struct ct_fl_row *r;
	HLIST_HEAD(dead);
	unsigned long irqflags;
	int bkt;

	spin_lock_irqsave(&ct_fl_lock, irqflags);
	hash_for_each_safe(ct_fl_rows, bkt, tmp, r, node) {
		hash_del(&r->node);
		hlist_add_head(&r->node, &dead);
	}
	WRITE_ONCE(ct_fl_nrows, 0);
	ct_fl_dropped = 0;
	spin_unlock_irqrestore(&ct_fl_lock, irqflags);
	hlist_for_each_entry_safe(r, tmp, &dead, node)
		kfree(r);
}

void ct_filelock_reset(void)
{
	ct_fl_clear();
}

/* ------------------------------------------------------------ reading */

static int ct_fl_cmp(const void *a, const void *b)
{
	const struct ct_fl_row *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->type < y->type ? -1 : x->type > y->type;
}

/*
 * Copies of the rows, sorted by key. The lock is held for a few buckets at
 * a time, not the whole table: interrupts stay off for tens of rows, not
 * thousands. Each row is copied whole; a reset meanwhile may show a row
 * from before it beside rows from after, never a torn one.
 */
static struct ct_fl_row *ct_fl_snapshot(unsigned int *n, u64 *dropped)
{
	unsigned int i = 0, first, bkt;
	struct ct_fl_row *rows, *r;
	unsigned long irqflags;

	rows = kvmalloc_array(CT_FL_MAX, sizeof(*rows), GFP_KERNEL);
	if (!rows)
		return NULL;
	for (first = 0; first < HASH_SIZE(ct_fl_rows); first += CT_FL_BUCKETS) {
		spin_lock_irqsave(&ct_fl_lock, irqflags);
		for (bkt = first; bkt < first + CT_FL_BUCKETS; bkt++)
			hlist_for_each_entry(r, &ct_fl_rows[bkt], node)
				if (i < CT_FL_MAX)
					rows[i++] = *r;
		*dropped = ct_fl_dropped;
		spin_unlock_irqrestore(&ct_fl_lock, irqflags);
		cond_resched();
	}
	sort(rows, i, sizeof(*rows), ct_fl_cmp, NULL);
	*n = i;
	return rows;
}

void ct_filelock_show(struct seq_file *m)
{
	struct ct_fl_row *rows, *r;
	unsigned int n, i;
	u64 dropped;

	if (!ct_fl_hooks[0].attached || !ct_fl_hooks[1].attached) {
		seq_puts(m, "== file locks unavailable: no filelock tracepoints ==\n");
		return;
	}
	rows = ct_fl_snapshot(&n, &dropped);
	if (!rows) {
		seq_puts(m, "== file locks unavailable: out of memory ==\n");
		return;
	}
	seq_printf(m, "== file locks by task and file: %u, lost %llu ==\n",
		   n, dropped);
	seq_puts(m, "pid tgid comm type dev inode acquired conflicts waits wait_ns max_wait_ns waiting\n");
	for (i = 0; i < n; i++) {
		r = &rows[i];
		seq_printf(m, "%d %d", r->pid, r->tgid);
		ct_show_comm(m, r->comm);
		seq_printf(m, " %s %u:%u %lu %llu %llu %llu %llu %llu %d\n",
			   ct_fl_type_names[r->type], MAJOR(r->dev),
			   MINOR(r->dev), r->ino, r->acquired, r->conflicts,
			   r->waits, r->wait_ns, r->max_wait_ns,
			   !!r->wait_start);
	}
	kvfree(rows);
}

/* Optional, like contention: the view says when they are missing. */
int cowtrace_filelock_init(void)
{
	return ct_hooks_attach(ct_fl_hooks, ARRAY_SIZE(ct_fl_hooks));
}

void cowtrace_filelock_exit(void)
{
	ct_hooks_detach(ct_fl_hooks, ARRAY_SIZE(ct_fl_hooks));
	ct_fl_clear();
}
