// SPDX-License-Identifier: GPL-2.0
/*
 * A module that owns one kernel thread while it is loaded, so that the
 * kthreads test can watch a known thread come and go: "ct_kthread_test",
 * bound to CPU 0, asleep in TASK_INTERRUPTIBLE (state S) until unload.
 */
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>

static struct task_struct *ct_thread;

static int ct_kthread_fn(void *data)
{
	/* No timeout: it never wakes, so its state is S whenever it is read. */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static int __init ct_kthread_init(void)
{
	ct_thread = kthread_create(ct_kthread_fn, NULL, "ct_kthread_test");
	if (IS_ERR(ct_thread))
		return PTR_ERR(ct_thread);
	kthread_bind(ct_thread, 0);
	wake_up_process(ct_thread);
	return 0;
}

static void __exit ct_kthread_exit(void)
{
	kthread_stop(ct_thread);
}

module_init(ct_kthread_init);
module_exit(ct_kthread_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("cowtrace test: one kernel thread while loaded");
