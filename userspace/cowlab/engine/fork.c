// SPDX-License-Identifier: GPL-2.0
/*
 * The fork engine's run: the parent maps and touches SIZE of private
 * anonymous memory, forks N children that each write a share of the
 * pages, and snapshots, before the fork, after it, after the children's
 * writes, after they exit and after the parent wrote every page again,
 * every task's RSS, PSS, USS and faults and the module's
 * cow_copy/cow_reuse; with --pages, the page tables at each of those steps
 * (fork_pages.c). cmd/fork.c reports the snapshots.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "engine/fork.h"
#include "engine/fork_pages.h"
#include "lib/cowlab.h"
#include "lib/measure.h"
#include "lib/memstat.h"
#include "lib/views.h"

struct fork_env fenv = {
	.size = 256ULL << 20,
	.write_pct = 50,
	.children = 1,
	.runs = 5,
	.max_size = 4ULL << 30,
};

const char *const fork_kcols[FORK_NKCOLS] = { "cow_copy", "cow_reuse", "faults" };

/* ------------------------------------------------------------ memory */

char *fork_map_touched(uint64_t size)
{
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i, n = size / fenv.page_size;

	if (p == MAP_FAILED)
		return NULL;
	/* one fault per 4 KiB page, and the sharing is per page */
	if (madvise(p, size, MADV_NOHUGEPAGE))
		p_verbose("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	for (i = 0; i < n && !exiting; i++) {
		p[i * fenv.page_size] = (char)(i | 1);
		if ((i & 0xffff) == 0)
			progress_update(i);
	}
	return p;
}

uint64_t fork_minflt_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* Not inlined: the children run it once to fault its text in first. */
__attribute__((noinline)) void fork_write_pages(char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		((volatile char *)p)[i * fenv.page_size] = (char)(i + 2);
}

/* --------------------------------------------------------------- run */

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
	for (i = 0; i < ARRAY_SIZE(fork_kcols); i++) {
		/* a child's row is new; the parent's counts from the start */
		t->k[i] = !ct ? -1 : parent ?
			ct_delta(&r->ct_base, ct, pid, fork_kcols[i]) :
			ct_get(ct, pid, fork_kcols[i]);
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

void fork_end_children(struct fork_run *r)
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

	for (k = 0; k < (int)ARRAY_SIZE(fork_kcols); k++)
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
		for (k = 0; k < (int)ARRAY_SIZE(fork_kcols); k++)
			r->rewrite_k[k] = ct_delta(&before, &after, getpid(),
						   fork_kcols[k]);
		ct_table_free(&after);
	}
	if (ct)
		ct_table_free(&before);
}

int fork_steps(struct fork_run *r)
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
	fork_end_children(r);
	snapshot(r, "after exit", 0);
	parent_rewrite(r);
	snapshot(r, "parent rewrote", 0);
	return exiting ? EXIT_INTR : 0;
}

int fork_alloc(struct fork_run *r)
{
	r->kids = calloc(fenv.children, sizeof(*r->kids));
	r->res = calloc(fenv.children, sizeof(*r->res));
	r->fork_ns = calloc(fenv.children, sizeof(*r->fork_ns));
	r->snaps = calloc(FORK_NSTEPS * (fenv.children + 1), sizeof(*r->snaps));
	if (fenv.pages)
		r->pages = fork_pages_new(fenv.pages);
	return r->kids && r->res && r->fork_ns && r->snaps &&
	       (r->pages || !fenv.pages) ? 0 : -ENOMEM;
}
