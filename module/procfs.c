// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/cowtrace (0444): the tasks table for users without debugfs, showing
 * each reader only the tasks it could inspect through /proc/<pid>/stat's
 * full view, by the rule of __ptrace_may_access() in read mode (which a
 * module cannot call): CAP_SYS_PTRACE, or the reader's fsuid and fsgid equal
 * the task's real, effective and saved ids and the task is dumpable. An
 * exited task is judged by the credentials it exited with; whether it was
 * dumpable then is not kept.
 *
 * As /proc itself does, the reader is who opened the file (a descriptor
 * handed to a privileged process shows it no more), and tasks are those of
 * the pid namespace the procfs instance was mounted for, numbered as they
 * are there: a sandbox with its own pid namespace sees its own tasks only.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/pid.h>
#include <linux/proc_fs.h>
#include <linux/sched/coredump.h>
#ifdef CT_HAVE_EXEC_STATE
#include <linux/sched/exec_state.h>
#endif
#include <linux/sched/task.h>
#include <linux/seq_file.h>

#include "cowtrace.h"
#include "task.h"

static struct proc_dir_entry *ct_proc;

/* Decided once per read, from the file: who opened it, which /proc. */
struct ct_proc_reader {
	const struct cred *cred;
	bool privileged;
	struct pid_namespace *ns;
};

static bool ct_ids_match(const struct cred *reader, kuid_t uid, kuid_t euid,
			 kuid_t suid, kgid_t gid, kgid_t egid, kgid_t sgid)
{
	return uid_eq(reader->fsuid, uid) && uid_eq(reader->fsuid, euid) &&
	       uid_eq(reader->fsuid, suid) && gid_eq(reader->fsgid, gid) &&
	       gid_eq(reader->fsgid, egid) && gid_eq(reader->fsgid, sgid);
}

#ifdef CT_HAVE_EXEC_STATE
/* Since 7.2 dumpability is the task's (set at exec), not its mm's. */
static bool ct_dumpable(struct task_struct *task)
{
	struct task_exec_state *es = rcu_dereference(task->exec_state);

	return es && READ_ONCE(es->dumpable) == TASK_DUMPABLE_OWNER;
}
#else
static bool ct_dumpable(struct task_struct *task)
{
	return get_dumpable(task->mm) == SUID_DUMP_USER;
}
#endif

/* Caller holds RCU; the row holds a reference on the task. */
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
		dumpable = ct_dumpable(task);
	task_unlock(task);
	return dumpable;
}

/*
 * Whether the reader may see the row, and its pids in the reader's pid
 * namespace (0 if the task has none there).
 */
static bool ct_visible(const struct ct_proc_reader *r, struct ct_task *ct,
		       pid_t *pid, pid_t *tgid)
{
	/* Pairs with ct_task_exit(): an exited row's ids and pids are set. */
	struct task_struct *task = smp_load_acquire(&ct->task);

	if (task) {
		*pid = task_pid_nr_ns(task, r->ns);
		*tgid = task_tgid_nr_ns(task, r->ns);
	} else {
		*pid = pid_nr_ns(ct->pid_ref, r->ns);
		*tgid = pid_nr_ns(ct->tgid_ref, r->ns);
	}
	if (*pid <= 0)
		return false;
	if (r->privileged)
		return true;
	if (task)
		return ct_alive_visible(r->cred, task);
	return ct_ids_match(r->cred, ct->uid, ct->euid, ct->suid, ct->gid,
			    ct->egid, ct->sgid);
}

static void *ct_proc_start(struct seq_file *m, loff_t *pos)
	__acquires(RCU)
{
	struct ct_proc_reader *r = m->private;

	r->cred = m->file->f_cred;
	r->privileged = file_ns_capable(m->file, &init_user_ns,
					CAP_SYS_PTRACE);
	r->ns = proc_pid_ns(file_inode(m->file)->i_sb);
	return ct_tasks_start(m, pos);
}

static int ct_proc_show(struct seq_file *m, void *v)
{
	struct ct_task *ct = ct_tasks_show_header_or_row(m, v);
	pid_t pid, tgid;

	if (ct && ct_visible(m->private, ct, &pid, &tgid))
		ct_show_task_row_as(m, ct, pid, tgid);
	return 0;
}

static const struct seq_operations ct_proc_sops = {
	.start = ct_proc_start,
	.next = ct_tasks_next,
	.stop = ct_tasks_stop,
	.show = ct_proc_show,
};

int cowtrace_procfs_init(void)
{
	ct_proc = proc_create_seq_private("cowtrace", 0444, NULL, &ct_proc_sops,
					  sizeof(struct ct_proc_reader), NULL);
	return ct_proc ? 0 : -ENOMEM;
}

void cowtrace_procfs_exit(void)
{
	proc_remove(ct_proc);
}
