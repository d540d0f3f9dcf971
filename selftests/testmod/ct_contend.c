// SPDX-License-Identifier: GPL-2.0
/*
 * A module whose own code waits on locks while it is loaded, in one of two
 * ways (the kind parameter):
 *
 * mutex (the default): two kernel threads take turns on one mutex, each
 *	holding it across a sleep, so that the locks test sees contention
 *	whose call site is inside a module, and then what the locks view
 *	says of that site once the module is gone.
 * rwlock: a holder on CPU 1 write-locks a lock and keeps it a moment while
 *	a waiter on CPU 0 write-locks it too, a fresh lock each round, about
 *	300 rounds a second. A queued rwlock's slow path traces each wait (a
 *	spinlock's does not when only one CPU waits), so every round is one
 *	spinning wait of the waiter on CPU 0, and no lock is waited on twice
 *	within seconds: a wait slot that a probe left open on CPU 0 would
 *	never be closed by a later end for its lock.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#define CT_RW_LOCKS	8192

static char *kind = "mutex";
module_param(kind, charp, 0444);
MODULE_PARM_DESC(kind, "mutex (two threads take turns) or rwlock (a fresh rwlock waited on each round)");

static DEFINE_MUTEX(ct_contend_mutex);
static struct task_struct *ct_threads[2];

static rwlock_t *ct_rw;
static atomic_t ct_rw_held = ATOMIC_INIT(-1);	/* the lock the holder has */
static atomic_t ct_rw_done = ATOMIC_INIT(-1);	/* the last the waiter took */

static int ct_contend_fn(void *data)
{
	while (!kthread_should_stop()) {
		mutex_lock(&ct_contend_mutex);
		usleep_range(500, 1000);
		mutex_unlock(&ct_contend_mutex);
		usleep_range(100, 200);
	}
	return 0;
}

/* Waits up to a second for @v to reach @want; false if told to stop. */
static bool ct_rw_await(atomic_t *v, int want)
{
	unsigned int i;

	for (i = 0; i < 1000000; i++) {
		if (atomic_read_acquire(v) == want)
			return true;
		if (kthread_should_stop())
			return false;
		udelay(1);
	}
	return false;
}

static int ct_rw_holder_fn(void *data)
{
	unsigned int round;

	for (round = 0; !kthread_should_stop(); round++) {
		int i = round % CT_RW_LOCKS;

		write_lock(&ct_rw[i]);
		atomic_set_release(&ct_rw_held, i);
		mdelay(1);
		write_unlock(&ct_rw[i]);
		ct_rw_await(&ct_rw_done, i);
		usleep_range(2000, 3000);
	}
	return 0;
}

/* Follows the holder: whichever lock it took last, wait for it once. */
static int ct_rw_waiter_fn(void *data)
{
	int i, last = -1;

	while (!kthread_should_stop()) {
		i = atomic_read_acquire(&ct_rw_held);
		if (i < 0 || i == last) {
			usleep_range(200, 400);
			continue;
		}
		write_lock(&ct_rw[i]);
		write_unlock(&ct_rw[i]);
		atomic_set_release(&ct_rw_done, i);
		last = i;
	}
	return 0;
}

static void ct_contend_stop(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ct_threads); i++)
		if (!IS_ERR_OR_NULL(ct_threads[i]))
			kthread_stop(ct_threads[i]);
	kvfree(ct_rw);
}

static int ct_contend_start_rw(void)
{
	static int (*const fn[2])(void *) = { ct_rw_waiter_fn, ct_rw_holder_fn };
	unsigned int i;

	if (num_online_cpus() < 2 || !cpu_online(0) || !cpu_online(1))
		return -ENODEV;
	ct_rw = kvmalloc_array(CT_RW_LOCKS, sizeof(*ct_rw), GFP_KERNEL);
	if (!ct_rw)
		return -ENOMEM;
	for (i = 0; i < CT_RW_LOCKS; i++)
		rwlock_init(&ct_rw[i]);
	for (i = 0; i < ARRAY_SIZE(ct_threads); i++) {
		ct_threads[i] = kthread_create(fn[i], NULL, "ct_contend/%u", i);
		if (IS_ERR(ct_threads[i]))
			return PTR_ERR(ct_threads[i]);
		kthread_bind(ct_threads[i], i);
		wake_up_process(ct_threads[i]);
	}
	return 0;
}

static int ct_contend_start_mutex(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ct_threads); i++) {
		ct_threads[i] = kthread_run(ct_contend_fn, NULL, "ct_contend/%u", i);
		if (IS_ERR(ct_threads[i]))
			return PTR_ERR(ct_threads[i]);
	}
	return 0;
}

static int __init ct_contend_init(void)
{
	int ret;

	if (!strcmp(kind, "mutex"))
		ret = ct_contend_start_mutex();
	else if (!strcmp(kind, "rwlock"))
		ret = ct_contend_start_rw();
	else
		return -EINVAL;
	if (ret)
		ct_contend_stop();
	return ret;
}

static void __exit ct_contend_exit(void)
{
	ct_contend_stop();
}

module_init(ct_contend_init);
module_exit(ct_contend_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("cowtrace test: contention with a call site in a module");
