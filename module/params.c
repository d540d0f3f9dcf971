// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters, settable at load and in /sys/module/cowtrace/parameters.
 */
#include <linux/delay.h>
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

/*
 * For testing what a fault or a lock wait meets while the module is half
 * attached: a pause after each hook attaches widens the windows between
 * them from nanoseconds to what a test can hit. Read at load only.
 */
#define CT_ATTACH_PAUSE_MAX	1000

static unsigned int attach_pause_ms;

static int ct_attach_pause_set(const char *val, const struct kernel_param *kp)
{
	unsigned int ms;
	int ret;

	ret = kstrtouint(val, 0, &ms);
	if (ret)
		return ret;
	if (ms > CT_ATTACH_PAUSE_MAX)
		return -EINVAL;
	attach_pause_ms = ms;
	return 0;
}

static const struct kernel_param_ops ct_attach_pause_ops = {
	.set = ct_attach_pause_set,
	.get = param_get_uint,
};
module_param_cb(attach_pause_ms, &ct_attach_pause_ops, &attach_pause_ms, 0444);
MODULE_PARM_DESC(attach_pause_ms,
		 "Milliseconds to pause after each hook attaches (at most "
		 __stringify(CT_ATTACH_PAUSE_MAX) "), for testing");

void ct_attach_pause(void)
{
	if (attach_pause_ms)
		msleep(attach_pause_ms);
}
