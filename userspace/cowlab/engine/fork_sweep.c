// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab fork sweep: what copy-on-write saves. Fork latency across sizes,
 * the cost of the first write to a page after fork, and an eager copy of
 * the same memory for comparison.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/fork.h"
#include "lib/cowlab.h"
#include "lib/measure.h"
#include "lib/memstat.h"
#include "lib/report.h"

struct sweep_point {
	uint64_t size;
	struct summary fork;	/* fork() latency, ns */
	double write_ns_page;	/* first write after fork, per page */
	struct summary copy;	/* eager copy of the same memory, ns */
};

static char *sweep_mem;
static uint64_t sweep_size;

/* One fork() of the parent holding sweep_mem; the child exits at once. */
static double sample_fork(void *arg)
{
	uint64_t t0 = now_ns(), t;
	pid_t pid = fork();

	(void)arg;
	if (pid == 0)
		_exit(0);
	t = now_ns() - t0;
	if (pid < 0)
		return -1;
	cleanup_add_child(pid);
	if (wait_child(pid, NULL))
		return -1;
	return t;
}

/* What fork would cost copying eagerly: fresh memory, then memcpy. */
static double sample_copy(void *arg)
{
	uint64_t t0, t;
	char *dst;

	(void)arg;
	t0 = now_ns();
	dst = mmap(NULL, sweep_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED)
		return -1;
	madvise(dst, sweep_size, MADV_NOHUGEPAGE);
	memcpy(dst, sweep_mem, sweep_size);
	t = now_ns() - t0;
	munmap(dst, sweep_size);
	return t;
}

/* A child writes every page once after fork; its time per page. */
static double first_write_cost(void)
{
	struct child_result res;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		uint64_t t0;

		cowlab_child_init();
		close(p[0]);
		fork_write_pages(sweep_mem, 0);
		t0 = now_ns();
		fork_write_pages(sweep_mem, sweep_size / fenv.page_size);
		res.write_ns = now_ns() - t0;
		res.write_faults = 0;
		_exit(write_full(p[1], &res, sizeof(res)) ? 1 : 0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	cleanup_add_child(pid);
	if (read_full(p[0], &res, sizeof(res))) {
		close(p[0]);
		kill_child(pid);
		return -1;
	}
	close(p[0]);
	if (wait_child(pid, NULL))
		return -1;
	return (double)res.write_ns / (sweep_size / fenv.page_size);
}

static int sweep_one(struct sweep_point *pt)
{
	int err = -1;

	sweep_size = pt->size;
	sweep_mem = fork_map_touched(pt->size);
	if (!sweep_mem)
		return -errno;
	if (!exiting && !measure_repeat(1, fenv.runs, sample_fork, NULL,
					&pt->fork)) {
		pt->write_ns_page = first_write_cost();
		if (pt->write_ns_page >= 0 &&
		    !measure_repeat(1, fenv.runs, sample_copy, NULL, &pt->copy))
			err = 0;
	}
	munmap(sweep_mem, pt->size);
	sweep_mem = NULL;
	return err;
}

/* The largest size the sweep may map: the source and an eager copy. */
static uint64_t sweep_cap(uint64_t *avail)
{
	struct sys_mem sm;

	*avail = 0;
	if (sys_mem(&sm))
		return fenv.max_size;
	*avail = sm.available;
	return sm.available / 3;
}

static void report_sweep(struct sweep_point *pts, int n)
{
	static const struct table_col cols[] = {
		{ "size", TABLE_RIGHT }, { "pages", TABLE_RIGHT },
		{ "fork_ns", TABLE_RIGHT }, { "fork_p10_ns", TABLE_RIGHT },
		{ "fork_p90_ns", TABLE_RIGHT },
		{ "first_write_ns_per_page", TABLE_RIGHT },
		{ "eager_copy_ns", TABLE_RIGHT }, { "cow_saving", TABLE_RIGHT },
	};
	struct table *t;
	int i;

	if (!json_wtr)
		printf("fork latency against an eager copy (medians of %ld runs, ns):\n",
		       fenv.runs);
	t = table_start("sweep", cols, ARRAY_SIZE(cols));
	for (i = 0; i < n; i++) {
		table_row(t);
		table_size(t, pts[i].size);
		table_uint(t, pts[i].size / fenv.page_size);
		table_float(t, pts[i].fork.median, 0);
		table_float(t, pts[i].fork.p10, 0);
		table_float(t, pts[i].fork.p90, 0);
		table_float(t, pts[i].write_ns_page, 0);
		table_float(t, pts[i].copy.median, 0);
		table_float(t, pts[i].copy.median / pts[i].fork.median, 1);
	}
	table_end(t);
	if (!json_wtr)
		putchar('\n');
	report_note("cow_saving = eager copy / fork latency: how much faster fork "
		"is for copying page tables instead of pages. A page written "
		"after fork pays first_write_ns_per_page then (a fault and a "
		"4 KiB copy).");
}

int fork_cmd_sweep(int argc, char **argv)
{
	struct sweep_point pts[16];
	uint64_t size, cap, avail;
	char a[32], b[32];
	int n = 0, err, total = 0;

	err = fork_parse_opts(argc + 1, argv - 1);
	if (err)
		return err < 0 ? EXIT_OK : err;
	if (fenv.max_size < (1 << 20)) {
		p_err("--max: at least 1M");
		return EXIT_USAGE;
	}
	cap = sweep_cap(&avail);
	if (fenv.max_size > cap) {
		report_note("sizes capped at %s: the sweep maps each size twice (source, "
			"eager copy) and %s is available",
			    fmt_size(a, sizeof(a), cap),
			    fmt_size(b, sizeof(b), avail));
		fenv.max_size = cap;
	}
	for (size = 1 << 20; size <= fenv.max_size && total < 16; size <<= 2)
		total++;	/* as many as pts[] holds: 1M << 44 wraps to 0 */
	progress_start(total, "fork sweep (sizes)");
	for (size = 1 << 20; size <= fenv.max_size && n < 16; size <<= 2) {
		pts[n].size = size;
		err = sweep_one(&pts[n]);
		if (exiting) {
			progress_end();
			return EXIT_INTR;
		}
		if (err) {
			progress_end();
			p_err("fork sweep at %s: failed",
			      fmt_size(a, sizeof(a), size));
			return EXIT_FAIL;
		}
		progress_update(++n);
	}
	progress_end();
	report_uint("runs", "runs per size", fenv.runs, NULL);
	report_sweep(pts, n);
	return EXIT_OK;
}
