// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/cowtrace (0444): the tasks table for users without debugfs, showing
 * each reader only the tasks it could inspect through /proc/<pid>/stat's
 * full view, by the rule of __ptrace_may_access() in read mode (which a
 * module cannot call): CAP_SYS_PTRACE, or the reader's fsuid and fsgid equal
 * the task's real, effective and saved ids and the task is dumpable. An
 * exited task is judged by the credentials it exited with; whether it was
 * dumpable then is not kept.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/proc_fs.h>
#include <linux/sched/coredump.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>

#include "cowtrace.h"
#include "task.h"

static struct proc_dir_entry *ct_proc;

static bool ct_ids_match(const struct cred *reader, kuid_t uid, kuid_t euid,
			 kuid_t suid, kgid_t gid, kgid_t egid, kgid_t sgid)
{
	return uid_eq(reader->fsuid, uid) && uid_eq(reader->fsuid, euid) &&
	       uid_eq(reader->fsuid, suid) && gid_eq(reader->fsgid, gid) &&
	       gid_eq(reader->fsgid, egid) && gid_eq(reader->fsgid, sgid);
}

/* Caller holds RCU: an alive row's task is not freed under it. */
static bool ct_alive_visible(const struct cred *reader,
			     struct task_struct *task)
{
	const struct cred *tcred = __task_cred(task);
	bool dumpable = true;

	if (!ct_ids_match(reader, tcred->uid, tcred->euid, tcred->suid,
			  tcred->gid, tcred->egid, tcred->sgid))
		return false;
	task_lock(task);
	if (task->mm)
		dumpable = get_dumpable(task->mm) == SUID_DUMP_USER;
	task_unlock(task);
	return dumpable;
}

static bool ct_visible(struct ct_task *ct)
{
	const struct cred *reader = current_cred();
	struct task_struct *task;

	if (ns_capable_noaudit(&init_user_ns, CAP_SYS_PTRACE))
		return true;
	/* Pairs with ct_task_exit(): an exited row's credentials are set. */
	task = smp_load_acquire(&ct->task);
	if (task)
		return ct_alive_visible(reader, task);
	return ct_ids_match(reader, ct->uid, ct->euid, ct->suid, ct->gid,
			    ct->egid, ct->sgid);
}

static int ct_proc_show(struct seq_file *m, void *v)
{
	struct ct_task *ct = ct_tasks_show_header_or_row(m, v);

	if (ct && ct_visible(ct))
		ct_show_task_row(m, ct);
	return 0;
}

static const struct seq_operations ct_proc_sops = {
	.start = ct_tasks_start,
	.next = ct_tasks_next,
	.stop = ct_tasks_stop,
	.show = ct_proc_show,
};

int cowtrace_procfs_init(void)
{
	ct_proc = proc_create_seq("cowtrace", 0444, NULL, &ct_proc_sops);
	return ct_proc ? 0 : -ENOMEM;
}

void cowtrace_procfs_exit(void)
{
	proc_remove(ct_proc);
}
