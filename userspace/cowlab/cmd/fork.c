// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab fork: copy-on-write after fork(), seen from /proc and from
 * cowtrace.ko. This file holds the command's options, its help and the
 * reports of fork run and fork sweep; the work they report is done by
 * the fork engine (engine/fork.c, fork_pages.c, fork_sweep.c).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmd/common.h"
#include "engine/fork.h"
#include "engine/fork_pages.h"
#include "lib/cowlab.h"
#include "lib/measure.h"
#include "lib/memstat.h"
#include "lib/parse.h"
#include "lib/report.h"
#include "lib/table.h"
#include "lib/views.h"

#define MAX_CHILDREN	4096

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (json_wtr) {
		report_str("help", NULL, "cowlab fork [run|sweep] [OPTIONS]");
		return EXIT_OK;
	}
	printf("Usage: cowlab fork [run] [--size SIZE] [--write PERCENT] [--children N]\n"
	       "                       [--pages N]\n"
	       "       cowlab fork sweep [--max SIZE] [--runs N]\n"
	       "       cowlab fork --sweep ...\n"
	       "\n"
	       "run (the default): copy-on-write after fork. The parent maps SIZE\n"
	       "of private anonymous memory (MADV_NOHUGEPAGE: 4 KiB pages, so that\n"
	       "page counts are exact) and writes every page; it forks N children,\n"
	       "each of which then writes PERCENT of the pages. For each step\n"
	       "(before fork, after fork, after the writes, after the children\n"
	       "exit): RSS, PSS and USS of every task, system used memory, minor\n"
	       "faults (/proc/PID/stat) and, with cowtrace.ko loaded, cow_copy,\n"
	       "cow_reuse and faults of each task since the run started.\n"
	       "\n"
	       "sweep: fork latency for sizes from 1 MiB up to --max (4 GiB by\n"
	       "default, capped by available memory), the cost of the first write\n"
	       "to a page after fork, and an eager copy (memcpy into fresh memory)\n"
	       "of the same size: what copy-on-write saves, as a ratio.\n"
	       "\n"
	       "Options:\n"
	       "  -s, --size SIZE        memory mapped (256M; 4096, 4K, 1G, 4GiB...)\n"
	       "  -w, --write PERCENT    share of the pages each child writes (50%%)\n"
	       "  -c, --children N       children forked (1)\n"
	       "      --pages N          draw the page tables of the first N pages\n"
	       "                         (1-64), the parent's and the first child's\n"
	       "                         side by side, at every step: pfn, rw,\n"
	       "                         mapcount, exclusive (cowtrace.ko's pages\n"
	       "                         view; /proc/PID/pagemap without it)\n"
	       "  -m, --max SIZE         sweep: the largest size (4G)\n"
	       "  -r, --runs N           sweep: measured runs per size (5, after one\n"
	       "                         warm-up); medians and p10-p90 are shown\n"
	       "      --sweep            the same as the sweep command\n"
	       "  -h, --help             this help\n");
	return EXIT_OK;
}

static const struct option fork_opts[] = {
	{ "size", required_argument, NULL, 's' },
	{ "write", required_argument, NULL, 'w' },
	{ "children", required_argument, NULL, 'c' },
	{ "max", required_argument, NULL, 'm' },
	{ "runs", required_argument, NULL, 'r' },
	{ "sweep", no_argument, NULL, 'S' },
	{ "pages", required_argument, NULL, 'P' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* argv[0] is taken as the program name by getopt: hand it argv - 1. */
static int fork_parse_opts(int argc, char **argv)
{
	int c, err;

	optind = 0;	/* 0: glibc resets its state for a new argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+s:w:c:m:r:h", fork_opts,
				NULL)) != -1) {
		switch (c) {
		case 's':
			err = opt_size("--size", optarg, &fenv.size);
			if (!err && fenv.size == 0) {
				p_err("--size: must be above 0");
				err = EXIT_USAGE;
			}
			break;
		case 'w':
			err = opt_percent("--write", optarg, &fenv.write_pct);
			break;
		case 'c':
			err = opt_count("--children", optarg, 1, MAX_CHILDREN,
					&fenv.children);
			break;
		case 'm':
			err = opt_size("--max", optarg, &fenv.max_size);
			break;
		case 'r':
			err = opt_count("--runs", optarg, 1, 1000, &fenv.runs);
			break;
		case 'S':
			fenv.sweep = true;
			err = 0;
			break;
		case 'P':
			err = opt_count("--pages", optarg, 1, FORK_PAGES_MAX,
					&fenv.pages);
			break;
		case 'h':
			return do_help(0, NULL) ? EXIT_FAIL : -1;
		default:
			p_err("fork: unknown or incomplete option '%s'",
			      argv[optind - 1]);
			return EXIT_USAGE;
		}
		if (err)
			return err;
	}
	return no_more_args(argc - optind, argv + optind);
}

/*
 * The parent holds two pipe ends per child: raise the soft RLIMIT_NOFILE
 * to the hard one if that is what it takes.
 */
static int check_fds(long n)
{
	rlim_t need = 2 * n + 32;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max >= need) {
		rl.rlim_cur = need;
		if (!setrlimit(RLIMIT_NOFILE, &rl))
			return 0;
	}
	p_err("--children %ld: needs %llu file descriptors, RLIMIT_NOFILE allows %llu",
	      n, (unsigned long long)need, (unsigned long long)rl.rlim_max);
	return EXIT_USAGE;
}

static int fork_check_children(long n)
{
	long left = max_new_processes();

	if (n > left) {
		p_err("--children %ld: this user may create only %ld more processes now (RLIMIT_NPROC, threads-max)",
		      n, left);
		return EXIT_USAGE;
	}
	return check_fds(n);
}

/* --------------------------------------------------------------- run */

static void report_setup(struct fork_run *r)
{
	struct summary s;

	report_section("setup", "fork: copy-on-write after fork");
	report_size("size", "memory mapped", fenv.size);
	report_uint("page_size", "page size", fenv.page_size, "bytes");
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
 * A module counter's change for role between two steps (fork_kcols index k),
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
		for (k = 0; k < (int)ARRAY_SIZE(fork_kcols); k++)
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
	for (k = 0; k < (int)ARRAY_SIZE(fork_kcols); k++) {
		int64_t v = r->rewrite_k[k];

		if (v < 0)
			report_unknown(fork_kcols[k], NULL, "no module");
		else
			report_int(fork_kcols[k], NULL, v, NULL);
	}
	report_section_end();
	report_section_end();
}

static int fork_cmd_run(int argc, char **argv)
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
	fork_end_children(&r);
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

/* ------------------------------------------------------------- sweep */

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

static int fork_cmd_sweep(int argc, char **argv)
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
	cap = fork_sweep_cap(&avail);
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
		err = fork_sweep_one(&pts[n]);
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

/* ------------------------------------------------------------ commands */

static const struct cmd cmds[] = {
	{ "run", fork_cmd_run },
	{ "sweep", fork_cmd_sweep },
	{ NULL, NULL }
};

int do_fork(int argc, char **argv)
{
	int i;

	fenv.page_size = sysconf(_SC_PAGESIZE);
	/* --sweep anywhere: the sweep command */
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--sweep")) {
			env.command = "sweep";
			return fork_cmd_sweep(argc, argv);
		}
	}
	return cmd_select(cmds, argc, argv, do_help, true);
}
