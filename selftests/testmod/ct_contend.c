// SPDX-License-Identifier: GPL-2.0
/*
 * A module whose own code waits on a lock while it is loaded, so that the
 * locks test sees contention whose call site is inside a module, and then
 * what the locks view says of that site once the module is gone: two
 * kernel threads take turns on one mutex, each holding it across a sleep.
 */
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>

static DEFINE_MUTEX(ct_contend_mutex);
static struct task_struct *ct_threads[2];

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

static void ct_contend_stop(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ct_threads); i++)
		if (!IS_ERR_OR_NULL(ct_threads[i]))
			kthread_stop(ct_threads[i]);
}

static int __init ct_contend_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ct_threads); i++) {
		ct_threads[i] = kthread_run(ct_contend_fn, NULL, "ct_contend/%u", i);
		if (IS_ERR(ct_threads[i])) {
			ct_contend_stop();
			return PTR_ERR(ct_threads[i]);
		}
	}
	return 0;
}

static void __exit ct_contend_exit(void)
{
	ct_contend_stop();
}

module_init(ct_contend_init);
module_exit(ct_contend_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("cowtrace test: contention with a call site in a module");
