// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/cowtrace/kthreads: the threads the kernel created
 * itself, drawn as a tree under kthreadd (PID 2) the way pstree -A draws:
 *
 *   kthreads 53 bound 16 R 1 S 15 D 0 T 0 t 0 X 0 Z 0 P 0 I 37
 *   pid ppid state cpu bound name
 *   2 0 S 0 no [kthreadd]
 *   3 2 I 0 no |-[rcu_gp]
 *   ...
 *   94 2 I 1 yes `-[kworker/1:2]
 *
 * The name is the thread's comm in brackets, as ps shows it, with two
 * differences that come from where the kernel keeps the rest: ps adds a
 * workqueue worker's last work ("kworker/0:1-events") and shows a kthread
 * name longer than 15 bytes whole; neither is reachable from a module.
 *
 * A kernel thread is a task with PF_KTHREAD: an empty command line or a
 * missing mm says nothing (a user task can have both, and a kernel thread
 * borrows an mm while it runs use_mm() work).
 *
 * Opening the file takes a snapshot: one RCU walk over every thread that
 * takes a reference on each kernel thread found, and nothing else. Reads
 * then format the snapshot, so a thread that exits while someone reads is
 * still shown as it was, and no lock is held across the read.
 */
#include <linux/debugfs.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "cowtrace.h"

/* Deeper than this the tree is drawn with indentation only. */
#define CT_KT_DRAW_DEPTH	64

struct ct_kthread {
	struct task_struct *task;	/* a reference, put at release */
	pid_t pid;
	pid_t ppid;
	int cpu;
	char state;
	bool bound;
	/* Filled in when the tree is laid out. */
	unsigned int depth;
	bool last;			/* the last child of its parent */
	u64 open_levels;		/* bit i: ancestor i has later siblings */
};

struct ct_kt_snap {
	unsigned int n;
	unsigned int cap;
	unsigned int bound;
	unsigned int by_state[TASK_REPORT_MAX];
	struct ct_kthread *rows;	/* in tree order after layout */
};

/* The letters of task_state_to_char(), in task_state_index() order. */
static const char ct_kt_states[] = "RSDTtXZPI";

static void ct_kt_put(struct ct_kt_snap *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		put_task_struct(s->rows[i].task);
	s->n = 0;
}

static void ct_kt_fill(struct ct_kthread *k, struct task_struct *t)
{
	struct task_struct *parent = rcu_dereference(t->real_parent);

	get_task_struct(t);
	k->task = t;
	k->pid = task_pid_nr(t);
	/* As /proc/<pid>/stat: kthreadd's parent is the idle task, pid 0. */
	k->ppid = pid_alive(t) ? task_tgid_nr(parent) : 0;
	k->cpu = task_cpu(t);
	k->state = task_state_to_char(t);
	k->bound = t->nr_cpus_allowed == 1;
}

/*
 * One RCU walk. Returns -ENOSPC when the array is too small; the caller
 * grows it and walks again, so no allocation happens under RCU.
 */
static int ct_kt_collect(struct ct_kt_snap *s)
{
	struct task_struct *g, *t;
	int ret = 0;

	rcu_read_lock();
	for_each_process_thread(g, t) {
		if (!(t->flags & PF_KTHREAD))
			continue;
		if (s->n == s->cap) {
			ret = -ENOSPC;
			goto out_unlock;
		}
		ct_kt_fill(&s->rows[s->n++], t);
	}
out_unlock:
	rcu_read_unlock();
	return ret;
}

static int ct_kt_cmp_pid(const void *a, const void *b)
{
	const struct ct_kthread *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int ct_kt_find(const struct ct_kt_snap *s, pid_t pid)
{
	int lo = 0, hi = s->n - 1, mid;

	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		if (s->rows[mid].pid == pid)
			return mid;
		if (s->rows[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/*
 * Lay the rows out in pre-order: each thread, then its children by pid.
 * Threads whose parent is not a kernel thread (kthreadd, whose parent is
 * the idle task, and any other) are roots. @parent[i] is the index of row
 * i's parent or -1; @out receives the indices in drawing order.
 */
static void ct_kt_preorder(struct ct_kt_snap *s, const int *parent,
			   unsigned int *out, unsigned int *stack)
{
	unsigned int sp = 0, n = 0, i;
	int j, last;

	/* Push roots in reverse so that the lowest pid pops first. */
	for (j = s->n - 1, last = 1; j >= 0; j--) {
		if (parent[j] >= 0)
			continue;
		s->rows[j].depth = 0;
		s->rows[j].open_levels = 0;
		s->rows[j].last = last;
		last = 0;
		stack[sp++] = j;
	}
	while (sp) {
		struct ct_kthread *p;

		i = stack[--sp];
		out[n++] = i;
		p = &s->rows[i];
		for (j = s->n - 1, last = 1; j >= 0; j--) {
			struct ct_kthread *c = &s->rows[j];

			if (parent[j] != (int)i)
				continue;
			c->depth = p->depth + 1;
			c->open_levels = p->open_levels;
			if (p->depth && !p->last && p->depth <= CT_KT_DRAW_DEPTH)
				c->open_levels |= BIT_ULL(p->depth - 1);
			c->last = last;
			last = 0;
			stack[sp++] = j;
		}
	}
}

static int ct_kt_layout(struct ct_kt_snap *s)
{
	unsigned int *order, *stack, i;
	struct ct_kthread *sorted;
	int *parent, ret = -ENOMEM;

	sort(s->rows, s->n, sizeof(*s->rows), ct_kt_cmp_pid, NULL);
	parent = kvmalloc_array(s->n, sizeof(*parent), GFP_KERNEL);
	order = kvmalloc_array(s->n, sizeof(*order), GFP_KERNEL);
	stack = kvmalloc_array(s->n, sizeof(*stack), GFP_KERNEL);
	sorted = kvmalloc_array(s->n, sizeof(*sorted), GFP_KERNEL);
	if (!parent || !order || !stack || !sorted)
		goto out_free;
	for (i = 0; i < s->n; i++) {
		parent[i] = ct_kt_find(s, s->rows[i].ppid);
		/* A thread is never its own parent; guard the walk anyway. */
		if (parent[i] == (int)i)
			parent[i] = -1;
	}
	ct_kt_preorder(s, parent, order, stack);
	for (i = 0; i < s->n; i++)
		sorted[i] = s->rows[order[i]];
	swap(s->rows, sorted);
	ret = 0;
out_free:
	kvfree(sorted);
	kvfree(stack);
	kvfree(order);
	kvfree(parent);
	return ret;
}

static void ct_kt_count(struct ct_kt_snap *s)
{
	const char *state;
	unsigned int i;

	for (i = 0; i < s->n; i++) {
		s->bound += s->rows[i].bound;
		state = strchr(ct_kt_states, s->rows[i].state);
		if (state)
			s->by_state[state - ct_kt_states]++;
	}
}

static struct ct_kt_snap *ct_kt_snapshot(void)
{
	struct ct_kt_snap *s;
	int ret;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	for (s->cap = 256;; s->cap *= 2) {
		s->rows = kvmalloc_array(s->cap, sizeof(*s->rows), GFP_KERNEL);
		if (!s->rows)
			goto out_free_snap;
		ret = ct_kt_collect(s);
		if (!ret)
			break;
		ct_kt_put(s);
		kvfree(s->rows);
	}
	if (s->n && ct_kt_layout(s))
		goto out_put;
	ct_kt_count(s);
	return s;

out_put:
	ct_kt_put(s);
	kvfree(s->rows);
out_free_snap:
	kfree(s);
	return NULL;
}

static void ct_kt_free(struct ct_kt_snap *s)
{
	ct_kt_put(s);
	kvfree(s->rows);
	kfree(s);
}

static void ct_kt_show_prefix(struct seq_file *m, const struct ct_kthread *k)
{
	unsigned int i;

	if (!k->depth)
		return;
	for (i = 0; i + 1 < k->depth; i++) {
		if (i >= CT_KT_DRAW_DEPTH)
			seq_puts(m, "  ");
		else
			seq_puts(m, k->open_levels & BIT_ULL(i) ? "|  " : "   ");
	}
	seq_puts(m, k->last ? "`-" : "|-");
}

static void ct_kt_show_header(struct seq_file *m, const struct ct_kt_snap *s)
{
	unsigned int i;

	seq_printf(m, "kthreads %u bound %u", s->n, s->bound);
	for (i = 0; ct_kt_states[i]; i++)
		seq_printf(m, " %c %u", ct_kt_states[i], s->by_state[i]);
	seq_puts(m, "\npid ppid state cpu bound name\n");
}

static void *ct_kt_start(struct seq_file *m, loff_t *pos)
{
	struct ct_kt_snap *s = m->private;

	if (*pos == 0)
		return SEQ_START_TOKEN;
	return *pos <= s->n ? &s->rows[*pos - 1] : NULL;
}

static void *ct_kt_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return ct_kt_start(m, pos);
}

static void ct_kt_stop(struct seq_file *m, void *v)
{
}

static int ct_kt_show(struct seq_file *m, void *v)
{
	struct ct_kthread *k = v;
	char name[TASK_COMM_LEN];

	if (v == SEQ_START_TOKEN) {
		ct_kt_show_header(m, m->private);
		return 0;
	}
	get_task_comm(name, k->task);
	seq_printf(m, "%d %d %c %d %s ", k->pid, k->ppid, k->state, k->cpu,
		   k->bound ? "yes" : "no");
	ct_kt_show_prefix(m, k);
	/* One field to the end of the line: escape what would split it. */
	seq_putc(m, '[');
	seq_escape(m, name, "\t\n\\");
	seq_puts(m, "]\n");
	return 0;
}

static const struct seq_operations ct_kt_sops = {
	.start = ct_kt_start,
	.next = ct_kt_next,
	.stop = ct_kt_stop,
	.show = ct_kt_show,
};

static int ct_kt_open(struct inode *inode, struct file *file)
{
	struct ct_kt_snap *s;
	int ret;

	s = ct_kt_snapshot();
	if (!s)
		return -ENOMEM;
	ret = seq_open(file, &ct_kt_sops);
	if (ret) {
		ct_kt_free(s);
		return ret;
	}
	((struct seq_file *)file->private_data)->private = s;
	return 0;
}

static int ct_kt_release(struct inode *inode, struct file *file)
{
	ct_kt_free(((struct seq_file *)file->private_data)->private);
	return seq_release(inode, file);
}

static const struct file_operations ct_kt_fops = {
	.owner = THIS_MODULE,
	.open = ct_kt_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = ct_kt_release,
};

/* The file goes with the directory; a snapshot holds no module state. */
int cowtrace_kthreads_init(void)
{
	debugfs_create_file("kthreads", 0444, cowtrace_debugfs_root, NULL,
			    &ct_kt_fops);
	return 0;
}
