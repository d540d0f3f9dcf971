// SPDX-License-Identifier: GPL-2.0
/*
 * cowtrace: see how Linux creates processes and threads and shares memory.
 *
 * This file only sequences the module's concerns. Each concern lives in a
 * file of its own with an init/exit pair; init runs them in order and unwinds
 * what it did on failure, exit runs them in exact reverse.
 */
#include <linux/init.h>
#include <linux/module.h>

#include "cowtrace.h"
#include "task.h"

/*
 * State first, then the hooks that fill it, then the files that show it:
 * no reader sees the table before every hook is attached. On the way out
 * the files go first (removing one waits for the reads in progress), so no
 * reader looks at a row while the hooks that keep it true are detached,
 * and the state goes last, when nothing can reach it.
 */
static int __init cowtrace_init(void)
{
	int ret;

	ret = cowtrace_filter_init();
	if (ret)
		return ret;
	ret = cowtrace_task_init();
	if (ret)
		goto out_free_filter;
	ret = cowtrace_contention_init();
	if (ret)
		goto out_free_tasks;
	ret = cowtrace_filelock_init();
	if (ret)
		goto out_detach_contention;
	ret = cowtrace_lifecycle_init();
	if (ret)
		goto out_detach_filelock;
	ret = cowtrace_fault_init();
	if (ret)
		goto out_detach_lifecycle;
	ret = cowtrace_debugfs_init();
	if (ret)
		goto out_detach_fault;
	ret = cowtrace_views_init();
	if (ret)
		goto out_remove_debugfs;
	ret = cowtrace_control_init();
	if (ret)
		goto out_remove_debugfs;
	ret = cowtrace_pages_init();
	if (ret)
		goto out_remove_debugfs;
	ret = cowtrace_kthreads_init();
	if (ret)
		goto out_remove_debugfs;
	ret = cowtrace_locks_init();
	if (ret)
		goto out_remove_debugfs;
	ret = cowtrace_procfs_init();
	if (ret)
		goto out_remove_locks;

	pr_info("version %s loaded\n", COWTRACE_VERSION);
	return 0;

out_remove_locks:
	cowtrace_locks_exit();
out_remove_debugfs:
	cowtrace_debugfs_exit();
out_detach_fault:
	cowtrace_fault_exit();
out_detach_lifecycle:
	cowtrace_lifecycle_exit();
out_detach_filelock:
	cowtrace_filelock_exit();
out_detach_contention:
	cowtrace_contention_exit();
out_free_tasks:
	cowtrace_task_exit();
out_free_filter:
	cowtrace_filter_exit();
	return ret;
}

static void __exit cowtrace_exit(void)
{
	cowtrace_procfs_exit();
	cowtrace_locks_exit();
	cowtrace_debugfs_exit();
	cowtrace_fault_exit();
	cowtrace_lifecycle_exit();
	cowtrace_filelock_exit();
	cowtrace_contention_exit();
	cowtrace_task_exit();
	cowtrace_filter_exit();
	pr_info("unloaded\n");
}

module_init(cowtrace_init);
module_exit(cowtrace_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The cowtrace developers");
MODULE_DESCRIPTION("Per-task copy-on-write and page-fault accounting, kernel threads and lock statistics");
MODULE_VERSION(COWTRACE_VERSION);
