// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/cowtrace/locks: kernel lock contention and file locks
 * since the module was loaded or 'locks reset' was written to control.
 * Each part says on its section line when it is unavailable on this
 * kernel; the layout is documented in README.md.
 *
 * The file is removed before the state it shows is freed: removing a
 * debugfs file waits for reads in progress.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/timekeeping.h>

#include "cowtrace.h"

static struct dentry *ct_locks_file;
static u64 ct_locks_since;		/* boot-time ns of load or reset */

void ct_locks_reset(void)
{
	ct_contention_reset();
	ct_filelock_reset();
	WRITE_ONCE(ct_locks_since, ktime_get_boottime_ns());
}

static int ct_locks_show(struct seq_file *m, void *v)
{
	u64 ns = ktime_get_boottime_ns() - READ_ONCE(ct_locks_since);

	seq_printf(m, "locks since %llu.%06llu s\n", div_u64(ns, NSEC_PER_SEC),
		   div_u64(ns % NSEC_PER_SEC, NSEC_PER_USEC));
	/*
	 * With lock debugging, mutex_lock() has no fast path: every
	 * acquisition, free mutex or not, goes through contention_begin/end
	 * (kernel/locking/mutex.c), and is counted here as a mutex wait.
	 */
	seq_printf(m, "lockdep %s\n", IS_ENABLED(CONFIG_DEBUG_LOCK_ALLOC) ?
		   "1 (every mutex acquisition counts as a contention)" : "0");
	ct_contention_show(m);
	ct_filelock_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ct_locks);

int cowtrace_locks_init(void)
{
	ct_locks_since = ktime_get_boottime_ns();
	ct_locks_file = debugfs_create_file("locks", 0444,
					    cowtrace_debugfs_root, NULL,
					    &ct_locks_fops);
	return 0;
}

void cowtrace_locks_exit(void)
{
	debugfs_remove(ct_locks_file);
	ct_locks_file = NULL;
}
