// SPDX-License-Identifier: GPL-2.0
/*
 * The debugfs directory every view of cowtrace lives in, and its version
 * file: the module's version and the kernel it was built for.
 *
 * As everywhere in the kernel, debugfs return values are not checked: a
 * module must not behave differently when debugfs is unavailable.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <generated/utsrelease.h>

#include "cowtrace.h"

struct dentry *cowtrace_debugfs_root;

static int version_show(struct seq_file *m, void *v)
{
	seq_printf(m, "version %s\n", COWTRACE_VERSION);
	seq_printf(m, "kernel %s\n", UTS_RELEASE);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(version);

int cowtrace_debugfs_init(void)
{
	cowtrace_debugfs_root = debugfs_create_dir("cowtrace", NULL);
	debugfs_create_file("version", 0444, cowtrace_debugfs_root, NULL,
			    &version_fops);
	return 0;
}

void cowtrace_debugfs_exit(void)
{
	debugfs_remove_recursive(cowtrace_debugfs_root);
	cowtrace_debugfs_root = NULL;
}
