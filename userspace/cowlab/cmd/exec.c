// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab exec: demand paging after execve().
 *
 * execve() maps the new program but loads nothing: every page of it, its
 * data and its heap arrive by a fault when first touched. A child stops
 * just before execve() so that its fault counts (getrusage, and the
 * module's row) can be taken there; what follows is the new program's.
 * By default the program is cowlab itself, re-executed into a hidden
 * helper that touches a share of a file-backed buffer (read faults, with
 * fault-around) and of an anonymous one (one fault per page), and can grow
 * a mapping step by step while reporting its RSS.
 *
 * This file holds the command's options, its help and its report; the run
 * is the exec engine's (engine/exec.c, exec_helper.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/common.h"
#include "engine/exec.h"
#include "lib/cowlab.h"
#include "lib/json_writer.h"
#include "lib/memstat.h"
#include "lib/pagetable.h"
#include "lib/parse.h"
#include "lib/report.h"
#include "lib/table.h"
#include "lib/views.h"

#define FAULT_AROUND	"/sys/kernel/debug/fault_around_bytes"

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (json_wtr) {
		report_str("help", NULL,
			   "cowlab exec [--binary PATH] [--touch PERCENT] [--mmap SIZE]");
		return EXIT_OK;
	}
	printf("Usage: cowlab exec [--binary PATH [-- ARGS...]] [--touch PERCENT] [--mmap SIZE]\n"
	       "                  [--pages N]\n"
	       "\n"
	       "Demand paging after execve(). A child stops just before execve(),\n"
	       "its fault counts are taken, and it runs the new program; every\n"
	       "fault after that is the program's own: loading it, its libraries,\n"
	       "its data. Counted by getrusage() in the program (the helper), by\n"
	       "wait4() for any binary, and by cowtrace.ko when loaded.\n"
	       "\n"
	       "By default the program is cowlab itself in a helper mode that reads\n"
	       "PERCENT of a 1 MiB buffer of its read-only data (a file mapping:\n"
	       "one read fault maps up to fault_around_bytes of neighbouring pages\n"
	       "already in the page cache) and writes PERCENT of a 1 MiB anonymous\n"
	       "buffer (one fault per page).\n"
	       "\n"
	       "Options:\n"
	       "  -b, --binary PATH     run PATH instead (its output is discarded)\n"
	       "  -t, --touch PERCENT   share of the helper's buffers touched (100%%)\n"
	       "  -m, --mmap SIZE       the helper then maps SIZE and touches it in\n"
	       "                        %d steps, reporting RSS after each\n"
	       "      --pages N         the helper's page tables of the first N\n"
	       "                        pages (1-%d) of each buffer, before and\n"
	       "                        after it touched them: not present until\n"
	       "                        touched\n"
	       "  -h, --help            this help\n", MMAP_STEPS, EXEC_PAGES_MAX);
	return EXIT_OK;
}

static const struct option exec_opts[] = {
	{ "binary", required_argument, NULL, 'b' },
	{ "touch", required_argument, NULL, 't' },
	{ "mmap", required_argument, NULL, 'm' },
	{ "pages", required_argument, NULL, 'P' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int parse_opts(int argc, char **argv, int *rest)
{
	int c, err = 0;

	optind = 0;	/* 0: glibc resets its state for a new argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+b:t:m:h", exec_opts,
				NULL)) != -1) {
		switch (c) {
		case 'b':
			xenv.binary = optarg;
			break;
		case 't':
			err = opt_percent("--touch", optarg, &xenv.touch_pct);
			break;
		case 'm':
			err = opt_size("--mmap", optarg, &xenv.mmap_size);
			break;
		case 'P':
			err = opt_count("--pages", optarg, 1, EXEC_PAGES_MAX,
					&xenv.pages);
			break;
		case 'h':
			do_help(0, NULL);
			return -1;
		default:
			p_err("exec: unknown or incomplete option '%s'",
			      argv[optind - 1]);
			return EXIT_USAGE;
		}
		if (err)
			return err;
	}
	*rest = optind;
	if (optind < argc && !xenv.binary)
		return no_more_args(argc - optind, argv + optind);
	return 0;
}

static const struct helper_msg *find_msg(const struct exec_run *x,
					 enum helper_msg_kind kind,
					 uint32_t step)
{
	int i;

	for (i = 0; i < x->nmsgs; i++)
		if (x->msgs[i].kind == kind && x->msgs[i].step == step)
			return &x->msgs[i];
	return NULL;
}

static void report_module(struct exec_run *x)
{
	static const char *const cols[] = {
		"faults", "fault_file", "fault_anon", "fault_major", "cow_copy",
		"cow_zero", "fault_other", "unclassified", "execs",
	};
	size_t i;

	if (!x->ct) {
		/* the key stays, for scripts: null, and kernel_counters says why */
		if (json_wtr)
			jsonw_null_field(json_wtr, "module");
		return;
	}
	report_section("module", "cowtrace.ko, the child from execve on");
	for (i = 0; i < ARRAY_SIZE(cols); i++) {
		int64_t v = ct_delta(&x->ct_pre, &x->ct_post, x->pid, cols[i]);

		if (v < 0)
			report_unknown(cols[i], NULL, "no row");
		else
			report_int(cols[i], NULL, v, NULL);
	}
	report_section_end();
}

static void report_fault_around(void)
{
	char *text = read_text_file(FAULT_AROUND, NULL);

	if (text) {
		report_uint("fault_around_bytes", "fault_around_bytes",
			    strtoull(text, NULL, 10), NULL);
		free(text);
	} else {
		report_unknown("fault_around_bytes", "fault_around_bytes",
			       "not readable: " FAULT_AROUND
			       "; the kernel's default is 65536");
	}
}

static void report_stages(struct exec_run *x)
{
	const struct helper_msg *m0 = find_msg(x, MSG_MAIN, 0);
	const struct helper_msg *m1 = find_msg(x, MSG_MAIN, 1);
	const struct helper_msg *f0 = find_msg(x, MSG_FILE, 0);
	const struct helper_msg *f1 = find_msg(x, MSG_FILE, 1);
	const struct helper_msg *a0 = find_msg(x, MSG_ANON, 0);

	if (!m0 || !m1 || !f0 || !f1 || !a0) {
		report_note("the helper did not report every stage");
		return;
	}
	if (!json_wtr)
		putchar('\n');
	report_section("stages", "the helper's faults (getrusage)");
	report_ns("exec_to_main_ns", "execve() to main()", m0->ts - x->go_ns);
	report_uint("faults_to_main", "faults execve() to main()",
		    m0->minflt + m0->majflt - x->pre.minflt - x->pre.majflt,
		    NULL);
	report_uint("file_pages_read", "file pages read", f0->pages, NULL);
	report_uint("file_faults", "faults reading them",
		    f0->minflt + f0->majflt - m1->minflt - m1->majflt, NULL);
	report_uint("anon_pages_written", "anonymous pages written",
		    a0->pages, NULL);
	report_uint("anon_faults", "faults writing them",
		    a0->minflt + a0->majflt - f1->minflt - f1->majflt, NULL);
	report_fault_around();
	report_section_end();
}

static void report_growth(struct exec_run *x)
{
	static const struct table_col cols[] = {
		{ "step", TABLE_RIGHT }, { "touched", TABLE_RIGHT },
		{ "rss", TABLE_RIGHT }, { "minflt", TABLE_RIGHT },
		{ "ms", TABLE_RIGHT },
	};
	const struct helper_msg *first = find_msg(x, MSG_MMAP, 0);
	struct table *t;
	char size[32];
	int i;

	if (!first)
		return;
	if (!json_wtr)
		printf("\nmemory growth, --mmap %s touched in %d steps:\n",
		       fmt_size(size, sizeof(size), xenv.mmap_size),
		       MMAP_STEPS);
	t = table_start("growth", cols, ARRAY_SIZE(cols));
	for (i = 0; i <= MMAP_STEPS; i++) {
		const struct helper_msg *m = find_msg(x, MSG_MMAP, i);

		if (!m)
			break;
		table_row(t);
		table_int(t, i);
		table_size(t, m->pages);
		table_size(t, m->rss);
		table_uint(t, m->minflt - first->minflt);
		table_float(t, (m->ts - first->ts) / 1e6, 3);
	}
	table_end(t);
}

static void report_exit(struct exec_run *x)
{
	if (WIFEXITED(x->status))
		report_int("exit_code", "exit code", WEXITSTATUS(x->status),
			   NULL);
	else
		report_str("exit_code", "exit code", "signal %d",
			   WTERMSIG(x->status));
}

static void report_binary(struct exec_run *x, char **args)
{
	report_section("exec", "exec: demand paging after execve()");
	report_str("binary", "program", "%s", xenv.binary ? xenv.binary :
		   "cowlab (helper)");
	if (!xenv.binary)
		report_float("touch_percent", "touched", xenv.touch_pct, "%");
	report_exit(x);
	report_uint("pre_exec_faults", "child's faults before execve",
		    x->pre.minflt + x->pre.majflt, NULL);
	report_uint("minflt", "minor faults from execve (wait4)",
		    x->ru.ru_minflt - x->pre.minflt, NULL);
	report_uint("majflt", "major faults from execve (wait4)",
		    x->ru.ru_majflt - x->pre.majflt, NULL);
	report_size("max_rss", "peak RSS", (uint64_t)x->ru.ru_maxrss * 1024);
	report_section_end();
	(void)args;
}

/* --pages: the helper's buffers before and after it touched them. */
static void report_pages(struct exec_run *x)
{
	static const char *const steps[2] = { "before", "after" };
	static const char *const bufs[2] = { "file_buf", "anon_buf" };
	int s, b;

	if (!xenv.pages)
		return;
	if (x->pages_err) {
		report_note("the helper's page tables could not be read: %s",
			    strerror(-x->pages_err));
		return;
	}
	if (!json_wtr)
		printf("\nthe helper's first %ld pages of each buffer, before and after it\n"
		       "touched them (from %s):\n", xenv.pages, x->view.source);
	report_section("page_tables", NULL);
	if (json_wtr) {
		jsonw_string_field(json_wtr, "source", x->view.source);
		if (x->view.missing[0])
			jsonw_string_field(json_wtr, "missing",
					   x->view.missing);
		else
			jsonw_null_field(json_wtr, "missing");
	}
	for (s = 0; s < 2; s++) {
		for (b = 0; b < 2; b++) {
			char key[32];

			snprintf(key, sizeof(key), "%s_%s", bufs[b], steps[s]);
			if (!json_wtr)
				printf("%s, %s touching:\n", bufs[b], steps[s]);
			pages_table(key, x->rows[s][b], xenv.pages);
		}
	}
	report_section_end();
	if (!json_wtr && x->view.missing[0])
		report_note("page tables without cowtrace.ko: %s",
			    x->view.missing);
}

static void explain(bool helper)
{
	if (!json_wtr)
		putchar('\n');
	report_note("execve() loads nothing: the program's pages, its libraries "
		"and its data arrive by page faults when first touched "
		"(demand paging).");
	if (helper)
		report_note("A read fault on a file page maps up to fault_around_bytes / "
			"4096 neighbouring pages already in the page cache, so "
			"reading N file pages takes about N/16 faults; the anonymous "
			"buffer takes one fault per page written.");
}

static int cmd_run(int argc, char **argv)
{
	struct exec_run x = { .pid = -1 };
	int err, rest = 0;

	err = parse_opts(argc + 1, argv - 1, &rest);
	if (err)
		return err < 0 ? EXIT_OK : err;
	if (xenv.binary && xenv.mmap_size) {
		p_err("exec: --mmap is the helper's; not with --binary");
		return EXIT_USAGE;
	}
	if (!xenv.binary && access(cowlab_self_path(), X_OK)) {
		p_err("exec: cannot re-execute %s: %s", cowlab_self_path(),
		      strerror(errno));
		return EXIT_FAIL;
	}
	if (xenv.binary && xenv.pages) {
		p_err("exec: --pages is the helper's; not with --binary");
		return EXIT_USAGE;
	}
	if (xenv.mmap_size && mem_check_fits("--mmap", xenv.mmap_size))
		return EXIT_USAGE;
	if (exec_alloc_pages(&x)) {
		p_err("out of memory");
		return EXIT_FAIL;
	}
	x.ct = ct_available();
	{
		/* argv for --binary: the binary, then what follows "--" */
		char **args = argv - 1 + rest - 1;
		char *saved = args[0];

		args[0] = (char *)xenv.binary;
		err = exec_run(&x, args);
		args[0] = saved;
		if (!err && x.exec_err) {
			p_err("exec: cannot execute %s: %s", xenv.binary ?
			      xenv.binary : cowlab_self_path(),
			      strerror(x.exec_err));
			err = EXIT_FAIL;
		}
		if (err)
			goto out;
		report_binary(&x, args);
	}
	if (!xenv.binary)
		report_stages(&x);
	report_module(&x);
	report_growth(&x);
	report_pages(&x);
	explain(!xenv.binary);
out:
	exec_free_pages(&x);
	if (x.ct) {
		ct_table_free(&x.ct_pre);
		ct_table_free(&x.ct_post);
	}
	return err;
}

static const struct cmd cmds[] = {
	{ "run", cmd_run },
	{ NULL, NULL }
};

int do_exec(int argc, char **argv)
{
	return cmd_select(cmds, argc, argv, do_help, true);
}
