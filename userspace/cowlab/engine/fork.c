// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab fork run: the parent maps and touches SIZE of private anonymous
 * memory, forks N children that each write a share of the pages, and
 * shows, before the fork, after it, after the children's writes, after
 * they exit and after the parent wrote every page again, every task's RSS,
 * PSS, USS and faults and the module's cow_copy/cow_reuse; with --pages,
 * the page tables at each of those steps (fork_pages.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/fork.h"
#include "engine/fork_pages.h"
#include "lib/cowlab.h"
#include "lib/measure.h"
#include "lib/memstat.h"
#include "lib/report.h"
#include "lib/views.h"

struct child {
	pid_t pid;		/* 0 once reaped */
	pid_t id;		/* the pid it had, for the report */
	int go;			/* parent -> child: one byte, write now */
	int done;		/* child -> parent: struct child_result */
	double fork_ns;
};

/* One task at one step, measured now and reported at the end. */
struct task_snap {
	const char *step;
	char role[24];
	pid_t pid;
	bool mem_ok, flt_ok;
	struct mem_usage mem;
	struct proc_faults flt;	/* since the run began */
	int64_t k[3];		/* cow_copy, cow_reuse, faults; -1 unknown */
};

struct sys_snap {
	const char *step;
	bool ok;
	struct sys_mem sm;
};

#define NSTEPS	5

struct fork_run {
	char *mem;
	size_t npages, nwrite;
	struct child *kids;
	int nkids;
	struct proc_faults parent_base;
	struct ct_table ct_base;
	bool ct;
	uint64_t touch_faults;
	uint64_t rewrite_faults, rewrite_ns;
	int64_t rewrite_k[3];	/* the module's, around the loop; -1 unknown */
	struct task_snap *snaps;
	int nsnaps;
	struct sys_snap sys[NSTEPS + 1];
	int nsys;
	struct child_result *res;
	double *fork_ns;
	struct fork_pages *pages;	/* --pages, or NULL */
};

static const char *const kcols[] = { "cow_copy", "cow_reuse", "faults" };

static __attribute__((noreturn)) void child_main(struct fork_run *r,
						  int go, int done)
{
	struct child_result res;
	uint64_t t0, f0;
	char c;
	int i;

	cowlab_child_init();
	/* the older children's pipes: holding them would hide their EOF */
	for (i = 0; i < r->nkids; i++) {
		close(r->kids[i].go);
		close(r->kids[i].done);
	}
	/*
	 * Run everything done between the parent's snapshots once first, with
	 * nothing to write: a forked child faults in each text page it runs
	 * (fork copies no page table of an unwritten file mapping), and those
	 * faults must come now, so that only the writes fall between the
	 * parent's "after fork" and "after writes" snapshots.
	 */
	fork_write_pages(r->mem, 0);
	fork_minflt_self();
	now_ns();
	/* its stack too: res may sit on a page of its own */
	memset(&res, 0, sizeof(res));
	if (write_full(done, &res, 0) || write(done, &res, 0) < 0)
		_exit(1);
	/* ready: the parent takes its "after fork" snapshot now */
	c = 'r';
	if (write_full(done, &c, 1) || read_full(go, &c, 1))
		_exit(1);
	f0 = fork_minflt_self();
	t0 = now_ns();
	fork_write_pages(r->mem, r->nwrite);
	res.write_ns = now_ns() - t0;
	res.write_faults = fork_minflt_self() - f0;
	if (write_full(done, &res, sizeof(res)))
		_exit(1);
	/* stay until the parent has measured us: EOF on go */
	while (read(go, &c, 1) > 0)
		;
	_exit(0);
}

static int fork_child(struct fork_run *r, struct child *k)
{
	int go[2], done[2];
	uint64_t t0;

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(done, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		return -errno;
	}
	t0 = now_ns();
	k->pid = fork();
	if (k->pid == 0) {
		close(go[1]);
		close(done[0]);
		child_main(r, go[0], done[1]);
	}
	k->fork_ns = now_ns() - t0;
	close(go[0]);
	close(done[1]);
	if (k->pid < 0) {
		close(go[1]);
		close(done[0]);
		return -errno;
	}
	cleanup_add_child(k->pid);
	k->id = k->pid;
	k->go = go[1];
	k->done = done[0];
	return 0;
}

/* A task's memory and its faults since the run began. */
static void snap_task(struct fork_run *r, const char *step, const char *role,
		      pid_t pid, bool parent, const struct ct_table *ct)
{
	struct task_snap *t = &r->snaps[r->nsnaps++];
	size_t i;

	t->step = step;
	snprintf(t->role, sizeof(t->role), "%s", role);
	t->pid = pid;
	t->mem_ok = !mem_usage(pid, &t->mem);
	t->flt_ok = !proc_faults(pid, 0, &t->flt);
	if (t->flt_ok && parent) {
		t->flt.minflt -= r->parent_base.minflt;
		t->flt.majflt -= r->parent_base.majflt;
	}
	for (i = 0; i < ARRAY_SIZE(kcols); i++) {
		/* a child's row is new; the parent's counts from the start */
		t->k[i] = !ct ? -1 : parent ?
			ct_delta(&r->ct_base, ct, pid, kcols[i]) :
			ct_get(ct, pid, kcols[i]);
	}
}

/* Every live task at one step (the first nkids children). */
static void snapshot(struct fork_run *r, const char *step, int nkids)
{
	struct ct_table ct;
	bool have_ct = r->ct && !ct_read_table("tasks", &ct);
	char role[24];
	int i;

	r->sys[r->nsys].step = step;
	r->sys[r->nsys].ok = !sys_mem(&r->sys[r->nsys].sm);
	r->nsys++;
	snap_task(r, step, "parent", getpid(), true, have_ct ? &ct : NULL);
	for (i = 0; i < nkids; i++) {
		snprintf(role, sizeof(role), "child%d", i + 1);
		snap_task(r, step, role, r->kids[i].pid, false,
			  have_ct ? &ct : NULL);
	}
	if (have_ct)
		ct_table_free(&ct);
	fork_pages_snap(r->pages, step, r->mem, getpid(),
			nkids ? r->kids[0].pid : 0);
}

static void report_setup(struct fork_run *r)
{
	struct summary s;

	report_section("setup", "fork: copy-on-write after fork");
	report_size("size", "memory mapped", fenv.size);
	report_uint("fenv.page_size", "page size", fenv.page_size, "bytes");
	report_uint("pages", "pages", r->npages, NULL);
	report_float("write_percent", "each child writes", fenv.write_pct, "%");
	report_uint("pages_written", "pages each child writes", r->nwrite,
		    NULL);
	report_int("children", "children", fenv.children, NULL);
	report_str("huge_pages", "huge pages", "off (MADV_NOHUGEPAGE)");
	report_uint("touch_faults", "parent's faults touching it",
		    r->touch_faults, NULL);
	if (r->nkids && !summarize(r->fork_ns, r->nkids, &s))
		report_summary_ns("fork_latency", "fork() latency", &s);
	report_section_end();
}

static const struct table_col task_cols[] = {
	{ "step", TABLE_LEFT }, { "task", TABLE_LEFT }, { "pid", TABLE_RIGHT },
	{ "rss", TABLE_RIGHT }, { "pss", TABLE_RIGHT }, { "uss", TABLE_RIGHT },
	{ "minflt", TABLE_RIGHT }, { "majflt", TABLE_RIGHT },
	{ "cow_copy", TABLE_RIGHT }, { "cow_reuse", TABLE_RIGHT },
	{ "faults", TABLE_RIGHT },
};

static void report_tasks(struct fork_run *r)
{
	struct table *t;
	int i, j;

	if (!json_wtr)
		printf("\nmemory and faults of each task (faults since the run began):\n");
	t = table_start("tasks", task_cols, ARRAY_SIZE(task_cols));
	for (i = 0; i < r->nsnaps; i++) {
		struct task_snap *s = &r->snaps[i];

		table_row(t);
		table_str(t, s->step);
		table_str(t, s->role);
		table_int(t, s->pid);
		if (s->mem_ok) {
			table_size(t, s->mem.rss);
			table_size(t, s->mem.pss);
			table_size(t, s->mem.uss);
		} else {
			for (j = 0; j < 3; j++)
				table_null(t);
		}
		if (s->flt_ok) {
			table_uint(t, s->flt.minflt);
			table_uint(t, s->flt.majflt);
		} else {
			table_null(t);
			table_null(t);
		}
		for (j = 0; j < 3; j++) {
			if (s->k[j] < 0)
				table_null(t);
			else
				table_int(t, s->k[j]);
		}
	}
	table_end(t);
}

static void report_system(struct fork_run *r)
{
	static const struct table_col cols[] = {
		{ "step", TABLE_LEFT }, { "used", TABLE_RIGHT },
		{ "used_delta", TABLE_RIGHT }, { "available", TABLE_RIGHT },
	};
	struct table *t;
	char buf[32];
	int i;

	if (!json_wtr)
		printf("\nsystem memory (MemTotal - MemAvailable):\n");
	t = table_start("system", cols, ARRAY_SIZE(cols));
	for (i = 0; i < r->nsys; i++) {
		int64_t d = (int64_t)r->sys[i].sm.used -
			    (int64_t)r->sys[0].sm.used;

		table_row(t);
		table_str(t, r->sys[i].step);
		if (!r->sys[i].ok) {
			table_null(t);
			table_null(t);
			table_null(t);
			continue;
		}
		table_size(t, r->sys[i].sm.used);
		if (json_wtr) {
			table_int(t, d);
		} else {
			fmt_size(buf, sizeof(buf), d < 0 ? -d : d);
			memmove(buf + 1, buf, strlen(buf) + 1);
			buf[0] = d < 0 ? '-' : '+';
			table_str(t, buf);
		}
		table_size(t, r->sys[i].sm.available);
	}
	table_end(t);
}

static const struct task_snap *find_snap(const struct fork_run *r,
					 const char *step, const char *role)
{
	int i;

	for (i = 0; i < r->nsnaps; i++)
		if (!strcmp(r->snaps[i].step, step) &&
		    !strcmp(r->snaps[i].role, role))
			return &r->snaps[i];
	return NULL;
}

/*
 * A module counter's change for role between two steps (kcols index k),
 * or -1. Between "after fork" and "after writes" a child runs nothing but
 * its measured loop: its cow_copy grows by exactly the pages it wrote.
 */
static int64_t snap_delta(const struct fork_run *r, const char *from,
			  const char *to, const char *role, int k)
{
	const struct task_snap *a = find_snap(r, from, role);
	const struct task_snap *b = find_snap(r, to, role);

	if (!a || !b || a->k[k] < 0 || b->k[k] < a->k[k])
		return -1;
	return b->k[k] - a->k[k];
}

static void report_writes(struct fork_run *r)
{
	static const struct table_col cols[] = {
		{ "task", TABLE_LEFT }, { "pid", TABLE_RIGHT },
		{ "pages_written", TABLE_RIGHT },
		{ "write_faults", TABLE_RIGHT }, { "write_ns", TABLE_RIGHT },
		{ "ns_per_page", TABLE_RIGHT }, { "cow_copy", TABLE_RIGHT },
		{ "cow_reuse", TABLE_RIGHT }, { "faults", TABLE_RIGHT },
	};
	struct table *t;
	char role[24];
	int i, k;

	if (!json_wtr)
		printf("\nthe children's writes, one child at a time "
		       "(module: during the writes):\n");
	t = table_start("writes", cols, ARRAY_SIZE(cols));
	for (i = 0; i < r->nkids; i++) {
		snprintf(role, sizeof(role), "child%d", i + 1);
		table_row(t);
		table_str(t, role);
		table_int(t, r->kids[i].id);
		table_uint(t, r->nwrite);
		table_uint(t, r->res[i].write_faults);
		table_uint(t, r->res[i].write_ns);
		if (r->nwrite)
			table_float(t, (double)r->res[i].write_ns / r->nwrite,
				    0);
		else
			table_null(t);
		for (k = 0; k < (int)ARRAY_SIZE(kcols); k++)
			table_opt_int(t, snap_delta(r, "after fork",
						    "after writes", role, k));
	}
	table_end(t);
}

static void explain(void)
{
	if (!json_wtr)
		putchar('\n');
	report_note("RSS counts every page a task maps: a child's RSS is the "
		"parent's at once after fork, and a CoW break does not change "
		"it (the shared page is only replaced by a private copy).");
	report_note("PSS divides each shared page among its sharers, USS counts "
		"the pages a task alone maps: after the writes a child's USS "
		"holds its copies, and system used memory grew by those "
		"copies only; fork copied page tables, not pages.");
	report_note("write_faults: the child's minor faults around its write loop "
		"(getrusage), one per page written, each a copy-on-write "
		"break (cow_copy with the module). The parent's rewrite after "
		"the children exited faults once per page too, but reuses each "
		"page in place (cow_reuse): nothing is copied.");
	report_note("System memory is the kernel's global count, folded from "
		"per-CPU counters lazily (up to a second late).");
}

/* Each child says it is ready once it ran its code path once. */
static int wait_ready(struct fork_run *r)
{
	char c;
	int i;

	for (i = 0; i < r->nkids; i++) {
		if (read_full(r->kids[i].done, &c, 1)) {
			if (exiting)
				return EXIT_INTR;
			p_err("fork: child %d did not start", r->kids[i].pid);
			return EXIT_FAIL;
		}
	}
	return 0;
}

static int forks(struct fork_run *r)
{
	int err;

	for (r->nkids = 0; r->nkids < fenv.children && !exiting; r->nkids++) {
		err = fork_child(r, &r->kids[r->nkids]);
		if (err) {
			p_err("fork: %s", strerror(-err));
			return EXIT_FAIL;
		}
		r->fork_ns[r->nkids] = r->kids[r->nkids].fork_ns;
	}
	return exiting ? EXIT_INTR : wait_ready(r);
}

/* One child at a time, so that each write is measured alone. */
static int writes(struct fork_run *r)
{
	int i;

	for (i = 0; i < r->nkids && !exiting; i++) {
		if (write_full(r->kids[i].go, "g", 1) ||
		    read_full(r->kids[i].done, &r->res[i], sizeof(r->res[i]))) {
			if (exiting)
				return EXIT_INTR;
			p_err("fork: child %d did not answer", r->kids[i].pid);
			return EXIT_FAIL;
		}
	}
	return exiting ? EXIT_INTR : 0;
}

static void end_children(struct fork_run *r)
{
	int i;

	for (i = 0; i < r->nkids; i++) {
		if (r->kids[i].pid <= 0)
			continue;
		close(r->kids[i].go);
		close(r->kids[i].done);
		if (exiting || wait_child(r->kids[i].pid, NULL))
			kill_child(r->kids[i].pid);
		r->kids[i].pid = 0;
	}
}

/*
 * Write every page of the heap once, each byte rewritten with its own
 * value: pages still shared with the children since the fork are made this
 * process's own here, not inside a measured window, whichever of them a
 * table read there lands on (a bigger table than the warm-up's may reach
 * chunks it did not). Only this thread runs now.
 */
static void own_heap_pages(void)
{
	unsigned long start, end, a;
	long page = sysconf(_SC_PAGESIZE);
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "[heap]") ||
		    sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		for (a = start; a < end; a += page) {
			volatile char *p = (volatile char *)a;

			*p = *p;
		}
	}
	fclose(f);
}

/*
 * The children are gone, so every page is the parent's alone again, but
 * still write-protected since the fork: each first write faults once and
 * reuses the page in place (cow_reuse), copying nothing.
 */
static void parent_rewrite(struct fork_run *r)
{
	struct ct_table before, after;
	bool ct = r->ct;
	uint64_t f0, t0;
	int k;

	for (k = 0; k < (int)ARRAY_SIZE(kcols); k++)
		r->rewrite_k[k] = -1;
	/*
	 * The module's counts are read just around the loop. Reading a table
	 * allocates: two warm-up reads held at once first write the heap pages
	 * the two real ones will take (the heap is not trimmed, see fork_cmd_run),
	 * so that none of them is still write-protected from the fork and
	 * faults inside the window. Nothing in the window writes a global
	 * either: a .data/.bss page not written since the fork would fault.
	 */
	if (ct && !ct_read_table("tasks", &before)) {
		if (!ct_read_table("tasks", &after))
			ct_table_free(&after);
		ct_table_free(&before);
	}
	own_heap_pages();
	cowlab_own_rseq();
	fork_write_pages(r->mem, 0);
	fork_minflt_self();
	now_ns();
	if (ct && ct_read_table("tasks", &before))
		ct = false;
	f0 = fork_minflt_self();
	t0 = now_ns();
	fork_write_pages(r->mem, r->npages);
	r->rewrite_ns = now_ns() - t0;
	r->rewrite_faults = fork_minflt_self() - f0;
	if (ct && !ct_read_table("tasks", &after)) {
		for (k = 0; k < (int)ARRAY_SIZE(kcols); k++)
			r->rewrite_k[k] = ct_delta(&before, &after, getpid(),
						   kcols[k]);
		ct_table_free(&after);
	}
	if (ct)
		ct_table_free(&before);
}

static void report_rewrite(struct fork_run *r)
{
	int k;

	if (!json_wtr)
		putchar('\n');
	report_section("rewrite",
		       "the parent writes every page after the children exited:");
	report_uint("pages", "pages written", r->npages, NULL);
	report_uint("write_faults", "faults (getrusage)", r->rewrite_faults,
		    NULL);
	report_ns("ns", "time", r->rewrite_ns);
	report_float("ns_per_page", "per page", (double)r->rewrite_ns /
		     (r->npages ? r->npages : 1), "ns");
	report_section("module", "cowtrace.ko, during the rewrite");
	for (k = 0; k < (int)ARRAY_SIZE(kcols); k++) {
		int64_t v = r->rewrite_k[k];

		if (v < 0)
			report_unknown(kcols[k], NULL, "no module");
		else
			report_int(kcols[k], NULL, v, NULL);
	}
	report_section_end();
	report_section_end();
}

static int fork_steps(struct fork_run *r)
{
	int err;

	snapshot(r, "before fork", 0);
	err = forks(r);
	if (err)
		return err;
	snapshot(r, "after fork", r->nkids);
	err = writes(r);
	if (err)
		return err;
	snapshot(r, "after writes", r->nkids);
	end_children(r);
	snapshot(r, "after exit", 0);
	parent_rewrite(r);
	snapshot(r, "parent rewrote", 0);
	return exiting ? EXIT_INTR : 0;
}

static int fork_alloc(struct fork_run *r)
{
	r->kids = calloc(fenv.children, sizeof(*r->kids));
	r->res = calloc(fenv.children, sizeof(*r->res));
	r->fork_ns = calloc(fenv.children, sizeof(*r->fork_ns));
	r->snaps = calloc(NSTEPS * (fenv.children + 1), sizeof(*r->snaps));
	if (fenv.pages)
		r->pages = fork_pages_new(fenv.pages);
	return r->kids && r->res && r->fork_ns && r->snaps &&
	       (r->pages || !fenv.pages) ? 0 : -ENOMEM;
}

int fork_cmd_run(int argc, char **argv)
{
	struct fork_run r = { 0 };
	uint64_t f0;
	int err;

	err = fork_parse_opts(argc + 1, argv - 1);
	if (err)
		return err < 0 ? EXIT_OK : err;
	if (fenv.sweep)
		return EXIT_USAGE;	/* handled by the caller */
	r.npages = fenv.size / fenv.page_size;
	if (r.npages == 0) {
		p_err("--size: %llu is less than a page",
		      (unsigned long long)fenv.size);
		return EXIT_USAGE;
	}
	r.nwrite = (size_t)(r.npages * fenv.write_pct / 100 + 0.5);
	err = fork_check_children(fenv.children);
	if (!err)
		err = mem_check_fits_n("fork", fenv.size, fenv.children,
				       r.nwrite * fenv.page_size);
	if (err)
		return err;
	if (fork_alloc(&r)) {
		p_err("out of memory");
		err = EXIT_FAIL;
		goto cleanup;
	}
	/*
	 * Keep freed memory in the heap rather than giving it back: a table
	 * read in the rewrite's window then lands on pages already written
	 * since the fork instead of fresh ones, and faults nothing there.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	r.ct = ct_available();
	if (r.ct && ct_read_table("tasks", &r.ct_base))
		r.ct = false;
	proc_faults(getpid(), 0, &r.parent_base);
	progress_start(r.npages, "touching pages");
	f0 = fork_minflt_self();
	r.mem = fork_map_touched(fenv.size);
	r.touch_faults = fork_minflt_self() - f0;
	progress_end();
	if (!r.mem) {
		p_err("mmap %llu bytes: %s", (unsigned long long)fenv.size,
		      strerror(errno));
		err = EXIT_FAIL;
		goto cleanup;
	}
	if (exiting) {
		err = EXIT_INTR;
		goto cleanup;
	}
	err = fork_steps(&r);
	if (err)
		goto cleanup;
	report_setup(&r);
	report_tasks(&r);
	report_system(&r);
	report_writes(&r);
	report_rewrite(&r);
	fork_pages_report(r.pages);
	explain();
cleanup:
	end_children(&r);
	if (r.mem)
		munmap(r.mem, fenv.size);
	if (r.ct)
		ct_table_free(&r.ct_base);
	free(r.kids);
	free(r.res);
	free(r.fork_ns);
	free(r.snaps);
	fork_pages_free(r.pages);
	return err;
}
