// SPDX-License-Identifier: GPL-2.0
/*
 * A module that misbehaves on request, so that the tests of vm-run can prove
 * it notices: writing "warn" to /sys/kernel/debug/ct_crash logs a WARNING,
 * writing "oops" dereferences NULL in the writer's context.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>

static struct dentry *trigger;

static void oops_now(void)
{
	int *null_ptr = NULL;

	/* Keep the compiler from proving the store undefined and dropping it. */
	OPTIMIZER_HIDE_VAR(null_ptr);
	*null_ptr = 1;
}

static ssize_t trigger_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	char buf[8];

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';

	if (sysfs_streq(buf, "warn"))
		WARN(1, "warning on request\n");
	else if (sysfs_streq(buf, "oops"))
		oops_now();
	else
		return -EINVAL;
	return len;
}

static const struct file_operations trigger_fops = {
	.owner = THIS_MODULE,
	.write = trigger_write,
};

static int __init ct_crash_init(void)
{
	trigger = debugfs_create_file("ct_crash", 0200, NULL, NULL,
				      &trigger_fops);
	return 0;
}

static void __exit ct_crash_exit(void)
{
	debugfs_remove(trigger);
}

module_init(ct_crash_init);
module_exit(ct_crash_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Misbehaves on request, to test cowtrace's VM runner");
