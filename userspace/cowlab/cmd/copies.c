// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab copies: where a process's copy-on-write copies come from. Every
 * copy (and reuse, and zero-page break) cowtrace.ko classifies is a
 * cowtrace:fault event with its address and the user instruction that
 * wrote; this command follows them for a command it runs, a process it
 * attaches to, or its own demonstration, and sums them by mapping and by
 * code, named with libdwfl from the process's mappings as they were.
 *
 * This file holds the command's options, its help and its report; the
 * following and the sums are the copies engine's (engine/copies.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/common.h"
#include "engine/copies.h"
#include "lib/cowlab.h"
#include "lib/parse.h"
#include "lib/report.h"
#include "lib/table.h"
#include "lib/views.h"

#define MAX_ROWS	4096

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (json_wtr) {
		report_str("help", NULL, "cowlab copies demo|run|attach [OPTIONS]");
		return EXIT_OK;
	}
	printf("Usage: cowlab copies demo [--objects N] [--workers N] [--separate]\n"
	       "       cowlab copies run [--top N] [--] COMMAND [ARGS...]\n"
	       "       cowlab copies attach PID [--seconds S] [--top N]\n"
	       "\n"
	       "Where copy-on-write copies come from. Every copy, reuse and\n"
	       "zero-page break of the process and of the tasks it forks is\n"
	       "followed (cowtrace.ko's cowtrace:fault event, as root) and summed\n"
	       "by mapping ([heap], [stack], a named anonymous mapping, a file\n"
	       "with its ELF section, e.g. libc.so.6 .data) and by the code that\n"
	       "wrote (function, and file:line where debug info has it), named\n"
	       "with elfutils' libdwfl.\n"
	       "\n"
	       "demo: a parent builds N objects (--objects, 16384, 256 bytes each)\n"
	       "and forks workers (--workers, 4; one after the other) that only\n"
	       "read them, but take and drop a reference on each: the count in\n"
	       "the object makes every page a copy in every worker. --separate\n"
	       "keeps the counts in an array of their own: only its pages are\n"
	       "copied.\n"
	       "\n"
	       "run: COMMAND and every task it forks, until it exits.\n"
	       "attach: process PID (every thread) and the tasks it forks, for\n"
	       "--seconds S (10).\n"
	       "\n"
	       "Options:\n"
	       "  -o, --objects N    demo: objects (1-1048576)\n"
	       "  -w, --workers N    demo: workers (1-64)\n"
	       "      --separate     demo: the counts on pages of their own\n"
	       "  -s, --seconds S    attach: how long\n"
	       "  -t, --top N        rows of each table (20; 0: all)\n"
	       "  -h, --help         this help\n");
	return EXIT_OK;
}

static const struct option copies_opts[] = {
	{ "objects", required_argument, NULL, 'o' },
	{ "workers", required_argument, NULL, 'w' },
	{ "separate", no_argument, NULL, 'S' },
	{ "seconds", required_argument, NULL, 's' },
	{ "top", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/*
 * argv[0] is the program name for getopt. Options may follow operands,
 * except for run, whose COMMAND's own options are not ours (@in_order).
 */
static int parse_opts(int argc, char **argv, bool in_order)
{
	int c, err = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, in_order ? "+o:w:s:t:h" :
				"o:w:s:t:h", copies_opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			err = opt_count("--objects", optarg, 1, 1 << 20,
					&cenv.demo.objects);
			break;
		case 'w':
			err = opt_count("--workers", optarg, 1, 64,
					&cenv.demo.workers);
			break;
		case 'S':
			cenv.demo.separate = true;
			break;
		case 's':
			err = opt_seconds("--seconds", optarg, &cenv.seconds);
			break;
		case 't':
			err = opt_count("--top", optarg, 0, MAX_ROWS, &cenv.top);
			break;
		case 'h':
			return do_help(0, NULL) ? EXIT_FAIL : -1;
		default:
			p_err("copies: unknown or incomplete option '%s'",
			      argv[optind - 1]);
			return EXIT_USAGE;
		}
		if (err)
			return err;
	}
	return 0;
}

static void report_sums(const char *key, const char *title,
			const struct copy_sums *s, bool code)
{
	static const struct table_col map_cols[] = {
		{ "mapping", TABLE_LEFT }, { "cow_copy", TABLE_RIGHT },
		{ "cow_reuse", TABLE_RIGHT }, { "cow_zero", TABLE_RIGHT },
	};
	static const struct table_col code_cols[] = {
		{ "function", TABLE_LEFT }, { "source", TABLE_LEFT },
		{ "cow_copy", TABLE_RIGHT }, { "cow_reuse", TABLE_RIGHT },
		{ "cow_zero", TABLE_RIGHT },
	};
	struct table *t;
	int i, k, n = s->n;

	if (cenv.top && n > cenv.top)
		n = cenv.top;
	if (!json_wtr)
		printf("\n%s%s:\n", title, n < s->n ? " (the first rows)" : "");
	t = code ? table_start(key, code_cols, ARRAY_SIZE(code_cols)) :
		   table_start(key, map_cols, ARRAY_SIZE(map_cols));
	for (i = 0; i < n; i++) {
		table_row(t);
		table_str(t, s->rows[i].key);
		if (code) {
			if (strcmp(s->rows[i].src, "-"))
				table_str(t, s->rows[i].src);
			else
				table_null(t);
		}
		for (k = 0; k < COPY_NKINDS; k++)
			table_uint(t, s->rows[i].n[k]);
	}
	table_end(t);
}

/* ------------------------------------------------------------ runs */

/* Is the module there, tracking us and our children? */
static int need_module(void)
{
	if (geteuid() != 0) {
		p_err("copies: must be run as root (tracefs and the module's event are root's only)");
		return EXIT_FAIL;
	}
	if (!ct_probe() || ct_only_proc()) {
		p_err("copies: needs cowtrace.ko: %s", ct_unavailable_reason());
		return EXIT_FAIL;
	}
	if (!ct_available()) {
		p_err("copies: needs cowtrace.ko tracking this run: %s",
		      ct_unavailable_reason());
		return EXIT_FAIL;
	}
	return 0;
}

static void report_run(const char *what, const struct copy_events *ev,
		       uint64_t lost, const struct copy_sums *maps,
		       const struct copy_sums *code)
{
	uint64_t n[COPY_NKINDS] = { 0 };
	size_t i;

	for (i = 0; i < ev->n; i++)
		n[ev->v[i].kind]++;
	report_section("copies", "copy-on-write breaks");
	report_str("of", "of", "%s", what);
	report_uint("cow_copy", "copies", n[COPY_COPY], NULL);
	report_uint("cow_reuse", "reuses", n[COPY_REUSE], NULL);
	report_uint("cow_zero", "zero-page breaks", n[COPY_ZERO], NULL);
	report_uint("lost", "events lost", lost, NULL);
	report_section_end();
	report_sums("mappings", "by mapping", maps, false);
	report_sums("code", "by code", code, true);
}

static void report_demo(const struct copy_sums *maps, const struct copy_sums *code);

/* Run @cmd (NULL: the demo) under the trace, and report. */
static int run_traced(char **cmd, const char *what)
{
	struct copy_pipes p = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	struct copy_sums maps = { 0 }, code = { 0 };
	struct copy_events ev = { 0 };
	struct copy_layout l = { 0 };
	struct copy_trace *t = NULL;
	uint64_t lost = 0;
	int err, status = 0, r;
	char why[512];

	err = need_module();
	if (err)
		return err;
	if (copy_open_pipes(&p)) {
		p_err("copies: pipe: %s", strerror(errno));
		copy_close_pipes(&p);
		return EXIT_FAIL;
	}
	l.pid = fork();
	if (l.pid < 0) {
		p_err("copies: fork: %s", strerror(errno));
		copy_close_pipes(&p);
		return EXIT_FAIL;
	}
	if (!l.pid)
		copy_child_main(cmd, p.go[0], p.done[1], p.release[0]);
	cleanup_add_child(l.pid);
	close(p.done[1]);
	p.done[1] = -1;
	fcntl(p.done[0], F_SETFL, O_NONBLOCK);
	t = copy_trace_start(l.pid, why, sizeof(why));
	if (!t) {
		p_err("copies: %s", why);
		kill_child(l.pid);
		copy_close_pipes(&p);
		return EXIT_FAIL;
	}
	copy_layout_snap(&l);
	r = write(p.go[1], "g", 1) == 1 ?
	    copy_follow(t, &l, l.pid, cmd ? -1 : p.done[0], &ev, &status) : -EPIPE;
	if (r == 0 && !cmd) {
		/* the demo's layout is read: let it exit */
		if (write(p.release[1], "x", 1) == 1 &&
		    !wait_child(l.pid, &status))
			r = 1;
	}
	err = copy_trace_stop(t, copy_on_event, &ev, &lost);
	if (r != 1)
		kill_child(l.pid);
	copy_close_pipes(&p);
	if (r < 0 || err < 0) {
		if (r == -EINTR)
			err = EXIT_INTR;
		else
			p_err("copies: following %s: %s", what,
			      strerror(-(r < 0 ? r : err)));
		err = err == EXIT_INTR ? err : EXIT_FAIL;
		goto out;
	}
	if (ev.failed || copy_sum_events(&ev, &l, &maps, &code)) {
		p_err("out of memory");
		err = EXIT_FAIL;
		goto out;
	}
	err = 0;
	report_run(what, &ev, lost, &maps, &code);
	if (!cmd)
		report_demo(&maps, &code);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		p_err("copies: %s %s", what, WIFEXITED(status) ?
		      "exited with a failure" : "was killed");
		err = EXIT_FAIL;
	}
	if (lost) {
		p_err("copies: %llu events lost: the sums are short",
		      (unsigned long long)lost);
		err = EXIT_FAIL;
	}
out:
	free(ev.v);
	free(maps.rows);
	free(code.rows);
	free(l.maps);
	return err;
}

/* What the demonstration should show, beside what it showed. */
static void report_demo(const struct copy_sums *maps, const struct copy_sums *code)
{
	const struct copy_demo *d = &cenv.demo;
	long pages = d->separate ? copy_demo_count_pages(d) :
				   copy_demo_object_pages(d);

	(void)maps;
	(void)code;
	if (!json_wtr)
		putchar('\n');
	report_section("demo", "the demonstration");
	report_int("objects", "objects", d->objects, NULL);
	report_int("workers", "workers", d->workers, NULL);
	report_bool("separate", "counts on pages of their own", d->separate);
	report_int("object_pages", "pages of objects",
		   copy_demo_object_pages(d), NULL);
	report_int("count_pages", "pages of counts", copy_demo_count_pages(d),
		   NULL);
	report_int("expected_copies",
		   "copies expected (pages holding counts x workers)",
		   pages * d->workers, NULL);
	report_section_end();
	if (!json_wtr)
		putchar('\n');
	if (d->separate)
		report_note("The counts live in cowlab-refcounts: only its pages "
			"are copied, once per worker, and the objects' pages "
			"stay shared.");
	else
		report_note("Each worker only reads the objects, but "
			"demo_object_get() writes the count inside each one: "
			"every page of cowlab-objects is copied, once per worker. "
			"'cowlab copies demo --separate' moves the counts to "
			"pages of their own.");
}

static int cmd_demo(int argc, char **argv)
{
	int err = parse_opts(argc + 1, argv - 1, false);

	if (err)
		return err < 0 ? EXIT_OK : err;
	err = no_more_args(argc + 1 - optind, argv - 1 + optind);
	if (err)
		return err;
	return run_traced(NULL, "cowlab copies demo");
}

static int cmd_run(int argc, char **argv)
{
	char what[512];
	int err = parse_opts(argc + 1, argv - 1, true), i;
	char **cmd;

	if (err)
		return err < 0 ? EXIT_OK : err;
	cmd = argv - 1 + optind;
	if (optind > argc || !cmd[0]) {
		p_err("copies run: no COMMAND (cowlab copies run [--] COMMAND [ARGS...])");
		return EXIT_USAGE;
	}
	what[0] = '\0';
	for (i = 0; cmd[i] && strlen(what) + strlen(cmd[i]) + 2 < sizeof(what); i++)
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 "%s%s", i ? " " : "", cmd[i]);
	return run_traced(cmd, what);
}

static int cmd_attach(int argc, char **argv)
{
	struct copy_sums maps = { 0 }, code = { 0 };
	struct copy_events ev = { 0 };
	struct copy_layout l = { 0 };
	struct copy_trace *t;
	uint64_t lost = 0;
	char why[512], what[64];
	long pid;
	int err, r;

	err = parse_opts(argc + 1, argv - 1, false);
	if (err)
		return err < 0 ? EXIT_OK : err;
	if (optind > argc || !argv[optind - 1] ||
	    parse_count(argv[optind - 1], 1, 4194304, &pid)) {
		p_err("copies attach: expected a PID (cowlab copies attach PID [--seconds S])");
		return EXIT_USAGE;
	}
	err = no_more_args(argc - optind, argv + optind);
	if (!err && kill(pid, 0) && errno == ESRCH) {
		p_err("copies attach: no process %ld", pid);
		err = EXIT_FAIL;
	}
	if (!err)
		err = need_module();
	if (err)
		return err;
	l.pid = pid;
	t = copy_trace_start(pid, why, sizeof(why));
	if (!t) {
		p_err("copies: %s", why);
		return EXIT_FAIL;
	}
	copy_layout_snap(&l);
	r = copy_add_threads(t, pid);
	if (!r)
		r = copy_follow(t, &l, 0, -1, &ev, NULL);
	err = copy_trace_stop(t, copy_on_event, &ev, &lost);
	snprintf(what, sizeof(what), "process %ld", pid);
	if (r < 0 || err < 0) {
		if (r == -EINTR)
			return EXIT_INTR;
		p_err("copies: following %s: %s", what,
		      strerror(-(r < 0 ? r : err)));
		return EXIT_FAIL;
	}
	err = 0;
	if (ev.failed || copy_sum_events(&ev, &l, &maps, &code)) {
		p_err("out of memory");
		err = EXIT_FAIL;
	} else {
		report_uint("seconds", "followed for", cenv.seconds, "s");
		report_run(what, &ev, lost, &maps, &code);
		if (lost) {
			p_err("copies: %llu events lost: the sums are short",
			      (unsigned long long)lost);
			err = EXIT_FAIL;
		}
	}
	free(ev.v);
	free(maps.rows);
	free(code.rows);
	free(l.maps);
	return err;
}

static const struct cmd cmds[] = {
	{ "demo", cmd_demo },
	{ "run", cmd_run },
	{ "attach", cmd_attach },
	{ NULL, NULL }
};

int do_copies(int argc, char **argv)
{
	return cmd_select(cmds, argc, argv, do_help, false);
}
