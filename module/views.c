// SPDX-License-Identifier: GPL-2.0
/*
 * The tables under /sys/kernel/debug/cowtrace/: tasks (one row per task),
 * processes (the same counters summed per thread group) and stats.
 *
 * Each view starts with a header line naming its columns; fields are
 * separated by one space, a comm's white space and backslashes are escaped
 * (\040, \134) so that every row has as many fields as the header, and a
 * column that cannot be right on this kernel shows "-". Readers walk the
 * rows under RCU and never block the fault path.
 */
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "cowtrace.h"
#include "task.h"

static void ct_show_header(struct seq_file *m, const char *extra)
{
	unsigned int i;

	seq_puts(m, "pid tgid comm state");
	for (i = 0; i < COWTRACE_NR_COUNTERS; i++)
		seq_printf(m, " %s", ct_counter_names[i]);
	seq_printf(m, "%s\n", extra);
}

void ct_show_comm(struct seq_file *m, const char *comm)
{
	seq_putc(m, ' ');
	if (comm[0])
		seq_escape(m, comm, " \t\n\\");
	else
		seq_puts(m, "\\000");
}

static void ct_show_counts(struct seq_file *m, const u64 *count)
{
	unsigned int i;

	for (i = 0; i < COWTRACE_NR_COUNTERS; i++) {
		if (ct_counter_valid & BIT(i))
			seq_printf(m, " %llu", count[i]);
		else
			seq_puts(m, " -");
	}
}

/* The name the task has now if alive, else the one it exited with. */
static void ct_task_comm(const struct ct_task *ct, char *buf)
{
	struct task_struct *task = READ_ONCE(ct->task);

	strscpy(buf, task ? task->comm : ct->comm, TASK_COMM_LEN);
}

/* The tasks view and /proc/cowtrace walk every row under RCU. */
void *ct_tasks_start(struct seq_file *m, loff_t *pos)
	__acquires(RCU)
{
	rcu_read_lock();
	return seq_list_start_head_rcu(&ct_all, *pos);
}

void *ct_tasks_next(struct seq_file *m, void *v, loff_t *pos)
{
	return seq_list_next_rcu(v, &ct_all, pos);
}

void ct_tasks_stop(struct seq_file *m, void *v)
	__releases(RCU)
{
	rcu_read_unlock();
}

/* The header for the list head, else the row of a tracked task. */
struct ct_task *ct_tasks_show_header_or_row(struct seq_file *m, void *v)
{
	struct ct_task *ct;

	if (v == &ct_all) {
		ct_show_header(m, "");
		return NULL;
	}
	ct = list_entry(v, struct ct_task, all);
	return READ_ONCE(ct->tracked) ? ct : NULL;
}

/* A row with its task's pids as numbered in some pid namespace. */
void ct_show_task_row_as(struct seq_file *m, struct ct_task *ct, pid_t pid,
			 pid_t tgid)
{
	u64 val[COWTRACE_NR_COUNTERS];
	char comm[TASK_COMM_LEN];

	ct_task_comm(ct, comm);
	ct_task_values(ct, val);
	seq_printf(m, "%d %d", pid, tgid);
	ct_show_comm(m, comm);
	seq_puts(m, READ_ONCE(ct->task) ? " alive" : " exited");
	ct_show_counts(m, val);
	seq_putc(m, '\n');
}

void ct_show_task_row(struct seq_file *m, struct ct_task *ct)
{
	ct_show_task_row_as(m, ct, ct->pid, ct->tgid);
}

static int ct_tasks_show(struct seq_file *m, void *v)
{
	struct ct_task *ct = ct_tasks_show_header_or_row(m, v);

	if (ct)
		ct_show_task_row(m, ct);
	return 0;
}

static const struct seq_operations ct_tasks_sops = {
	.start = ct_tasks_start,
	.next = ct_tasks_next,
	.stop = ct_tasks_stop,
	.show = ct_tasks_show,
};
DEFINE_SEQ_ATTRIBUTE(ct_tasks);

/*
 * processes: a snapshot taken at open, sorted by thread group and summed,
 * so that a read sees each process once and consistently.
 */
struct ct_proc_row {
	pid_t tgid;
	u64 group_start;
	bool leader;
	unsigned int tasks;
	unsigned int alive;
	char comm[TASK_COMM_LEN];
	u64 count[COWTRACE_NR_COUNTERS];
};

struct ct_proc_snap {
	size_t n;
	struct ct_proc_row rows[];
};

static size_t ct_count_tracked(void)
{
	struct ct_task *ct;
	size_t n = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(ct, &ct_all, all)
		n += READ_ONCE(ct->tracked);
	rcu_read_unlock();
	return n;
}

/* Copy up to @max tracked rows; returns how many there were in all. */
static size_t ct_copy_tracked(struct ct_proc_row *rows, size_t max)
{
	struct ct_proc_row *r;
	struct ct_task *ct;
	size_t n = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(ct, &ct_all, all) {
		if (!READ_ONCE(ct->tracked))
			continue;
		if (n++ >= max)
			continue;
		r = &rows[n - 1];
		r->tgid = ct->tgid;
		r->group_start = ct->group_start;
		r->leader = ct->pid == ct->tgid;
		r->tasks = 1;
		r->alive = !!READ_ONCE(ct->task);
		ct_task_comm(ct, r->comm);
		ct_task_values(ct, r->count);
	}
	rcu_read_unlock();
	return n;
}

static int ct_proc_cmp(const void *a, const void *b)
{
	const struct ct_proc_row *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->group_start != y->group_start)
		return x->group_start < y->group_start ? -1 : 1;
	return y->leader - x->leader;	/* the leader first: its comm */
}

/*
 * Sum sorted rows of one thread group into its first row; returns count.
 * A group is its tgid and its start: a process that reused the tgid of
 * one that exited is another row.
 */
static size_t ct_merge_groups(struct ct_proc_row *rows, size_t n)
{
	size_t out = 0, i;
	unsigned int c;

	for (i = 0; i < n; i++) {
		if (out && rows[out - 1].tgid == rows[i].tgid &&
		    rows[out - 1].group_start == rows[i].group_start) {
			struct ct_proc_row *g = &rows[out - 1];

			g->tasks++;
			g->alive += rows[i].alive;
			for (c = 0; c < COWTRACE_NR_COUNTERS; c++)
				g->count[c] += rows[i].count[c];
			continue;
		}
		if (out != i)
			rows[out] = rows[i];
		out++;
	}
	return out;
}

static struct ct_proc_snap *ct_proc_snapshot(void)
{
	struct ct_proc_snap *snap;
	size_t room, n;

	for (;;) {
		room = ct_count_tracked() + 64;
		snap = kvmalloc(struct_size(snap, rows, room), GFP_KERNEL);
		if (!snap)
			return NULL;
		n = ct_copy_tracked(snap->rows, room);
		if (n <= room)
			break;
		kvfree(snap);	/* rows came faster than we counted */
	}
	sort(snap->rows, n, sizeof(snap->rows[0]), ct_proc_cmp, NULL);
	snap->n = ct_merge_groups(snap->rows, n);
	return snap;
}

static void *ct_procs_start(struct seq_file *m, loff_t *pos)
{
	struct ct_proc_snap *snap = m->private;

	if (*pos == 0)
		return SEQ_START_TOKEN;
	return *pos <= snap->n ? &snap->rows[*pos - 1] : NULL;
}

static void *ct_procs_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return ct_procs_start(m, pos);
}

static void ct_procs_stop(struct seq_file *m, void *v)
{
}

static int ct_procs_show(struct seq_file *m, void *v)
{
	struct ct_proc_row *r = v;

	if (v == SEQ_START_TOKEN) {
		ct_show_header(m, " tasks");
		return 0;
	}
	seq_printf(m, "%d %d", r->tgid, r->tgid);
	ct_show_comm(m, r->comm);
	seq_puts(m, r->alive ? " alive" : " exited");
	ct_show_counts(m, r->count);
	seq_printf(m, " %u\n", r->tasks);
	return 0;
}

static const struct seq_operations ct_procs_sops = {
	.start = ct_procs_start,
	.next = ct_procs_next,
	.stop = ct_procs_stop,
	.show = ct_procs_show,
};

static int ct_procs_open(struct inode *inode, struct file *file)
{
	struct ct_proc_snap *snap;
	int ret;

	snap = ct_proc_snapshot();
	if (!snap)
		return -ENOMEM;
	ret = seq_open(file, &ct_procs_sops);
	if (ret) {
		kvfree(snap);
		return ret;
	}
	((struct seq_file *)file->private_data)->private = snap;
	return 0;
}

static int ct_procs_release(struct inode *inode, struct file *file)
{
	kvfree(((struct seq_file *)file->private_data)->private);
	return seq_release(inode, file);
}

static const struct file_operations ct_procs_fops = {
	.owner = THIS_MODULE,
	.open = ct_procs_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = ct_procs_release,
};

static const char *const ct_filter_names[] = {
	[CT_FILTER_ALL] = "all",
	[CT_FILTER_PID] = "pid",
	[CT_FILTER_COMM] = "comm",
};

void ct_show_filter(struct seq_file *m)
{
	struct ct_task_stats st;

	ct_task_stats(&st);
	seq_printf(m, "filter %s", ct_filter_names[st.filter.kind]);
	if (st.filter.kind == CT_FILTER_PID)
		seq_printf(m, " %d", st.filter.pid);
	else if (st.filter.kind == CT_FILTER_COMM)
		ct_show_comm(m, st.filter.comm);
	seq_putc(m, '\n');
}

static int ct_stats_show(struct seq_file *m, void *v)
{
	struct ct_task_stats st;
	unsigned int i, n = 0;

	ct_task_stats(&st);
	seq_printf(m, "version %s\n", COWTRACE_VERSION);
	seq_printf(m, "tasks_live %u\n", st.live);
	seq_printf(m, "tasks_exited %u\n", st.exited);
	seq_printf(m, "max_exited %u\n", st.max_exited);
	seq_printf(m, "evictions %llu\n", st.evictions);
	seq_printf(m, "alloc_failures %llu\n", st.alloc_failures);
	ct_show_filter(m);
	seq_puts(m, "unavailable_columns");
	for (i = 0; i < COWTRACE_NR_COUNTERS; i++) {
		if (ct_counter_valid & BIT(i))
			continue;
		seq_printf(m, " %s", ct_counter_names[i]);
		n++;
	}
	seq_puts(m, n ? "\n" : " none\n");
	ct_lifecycle_show_hooks(m);
	ct_fault_show_hooks(m);
	ct_contention_show_hooks(m);
	ct_filelock_show_hooks(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ct_stats);

int cowtrace_views_init(void)
{
	debugfs_create_file("tasks", 0444, cowtrace_debugfs_root, NULL,
			    &ct_tasks_fops);
	debugfs_create_file("processes", 0444, cowtrace_debugfs_root, NULL,
			    &ct_procs_fops);
	debugfs_create_file("stats", 0444, cowtrace_debugfs_root, NULL,
			    &ct_stats_fops);
	return 0;
}
