// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters, settable at load and in /sys/module/cowtrace/parameters.
 */
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/stringify.h>
#include <linux/sysfs.h>

#include "hooks.h"
#include "task.h"

static int ct_max_exited_set(const char *val, const struct kernel_param *kp)
{
	unsigned int cap;
	int ret;

	ret = kstrtouint(val, 0, &cap);
	if (ret)
		return ret;
	return ct_task_set_max_exited(cap);
}

static int ct_max_exited_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%u\n", ct_task_max_exited());
}

static const struct kernel_param_ops ct_max_exited_ops = {
	.set = ct_max_exited_set,
	.get = ct_max_exited_get,
};
module_param_cb(max_exited, &ct_max_exited_ops, NULL, 0644);
MODULE_PARM_DESC(max_exited,
		 "Rows of exited tasks kept (at most "
		 __stringify(CT_MAX_EXITED_LIMIT)
		 "); past this the oldest is evicted");

/*
 * For testing how the views degrade on a kernel that lacks a probed
 * function or a tracepoint: the hooks named here are not attached, and
 * everything goes on as if they did not exist. Read at load only.
 */
static char *skip_hooks;
module_param(skip_hooks, charp, 0444);
MODULE_PARM_DESC(skip_hooks,
		 "Comma-separated hooks (as the stats view names them) not to attach, for testing");

bool ct_hook_skipped(const char *name)
{
	size_t len = strlen(name);
	const char *p = skip_hooks;

	while (p && *p) {
		if (!strncmp(p, name, len) && (p[len] == ',' || !p[len]))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}
