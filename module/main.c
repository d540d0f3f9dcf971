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

static int __init cowtrace_init(void)
{
	int ret;

	ret = cowtrace_debugfs_init();
	if (ret)
		return ret;

	pr_info("version %s loaded\n", COWTRACE_VERSION);
	return 0;
}

static void __exit cowtrace_exit(void)
{
	cowtrace_debugfs_exit();
	pr_info("unloaded\n");
}

module_init(cowtrace_init);
module_exit(cowtrace_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The cowtrace developers");
MODULE_DESCRIPTION("Per-task copy-on-write and demand-paging fault accounting");
MODULE_VERSION(COWTRACE_VERSION);
