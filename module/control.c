// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/cowtrace/control (0600), one command per write:
 *
 *   reset       clear every counter and forget the exited tasks
 *   all         track every user task (the default)
 *   pid=N       track task N (or thread group N) and its descendants
 *   comm=NAME   track tasks named NAME and their descendants
 *   locks reset clear the locks view (reset leaves it alone)
 *
 * A new filter starts a new table, as reset does. Anything else is refused
 * with -EINVAL and changes nothing. Reading it shows the filter in force.
 */
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/ratelimit.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "cowtrace.h"
#include "task.h"

#define CT_CONTROL_MAX	64

static int ct_control_apply(char *cmd)
{
	pid_t pid;

	if (!strcmp(cmd, "reset")) {
		ct_task_reset();
		return 0;
	}
	if (!strcmp(cmd, "locks reset")) {
		ct_locks_reset();
		return 0;
	}
	if (!strcmp(cmd, "all"))
		return ct_task_set_filter(CT_FILTER_ALL, 0, NULL);
	if (str_has_prefix(cmd, "pid=")) {
		if (kstrtoint(cmd + 4, 10, &pid) || pid <= 0)
			return -EINVAL;
		return ct_task_set_filter(CT_FILTER_PID, pid, NULL);
	}
	if (str_has_prefix(cmd, "comm=")) {
		cmd += 5;
		if (!*cmd || strlen(cmd) >= TASK_COMM_LEN)
			return -EINVAL;
		return ct_task_set_filter(CT_FILTER_COMM, 0, cmd);
	}
	return -EINVAL;
}

static ssize_t ct_control_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	static DEFINE_RATELIMIT_STATE(ct_control_rs, HZ, 1);
	char buf[CT_CONTROL_MAX];
	int ret = -EINVAL;

	if (len && len < sizeof(buf)) {
		if (copy_from_user(buf, ubuf, len))
			return -EFAULT;
		buf[len] = '\0';
		/* A NUL would hide the rest: "reset\0all" is not "reset". */
		if (strlen(buf) == len)
			ret = ct_control_apply(strim(buf));
	}
	if (ret == -EINVAL && __ratelimit(&ct_control_rs))
		pr_info("control: invalid command (expected reset, all, pid=N, comm=NAME or locks reset)\n");
	return ret ? ret : len;
}

static int ct_control_show(struct seq_file *m, void *v)
{
	ct_show_filter(m);
	return 0;
}

static int ct_control_open(struct inode *inode, struct file *file)
{
	return single_open(file, ct_control_show, NULL);
}

static const struct file_operations ct_control_fops = {
	.owner = THIS_MODULE,
	.open = ct_control_open,
	.read = seq_read,
	.write = ct_control_write,
	.llseek = seq_lseek,
	.release = single_release,
};

int cowtrace_control_init(void)
{
	debugfs_create_file("control", 0600, cowtrace_debugfs_root, NULL,
			    &ct_control_fops);
	return 0;
}
