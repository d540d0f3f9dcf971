// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab tasks|processes|kthreads|locks|stats: the module's views, sorted,
 * filtered, refreshed like top, and as JSON rows for scripts. These need
 * cowtrace.ko: without it they say why and exit 1.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/common.h"
#include "lib/cowlab.h"
#include "lib/parse.h"
#include "lib/report.h"
#include "lib/table.h"
#include "lib/views.h"

struct view_env {
	const char *sort;
	const char *columns;
	long pid;
	const char *comm;
	bool alive;
	long limit;
	bool watch;
	double interval;
};

static struct view_env venv;

static const struct option view_opts[] = {
	{ "sort", required_argument, NULL, 's' },
	{ "columns", required_argument, NULL, 'C' },
	{ "pid", required_argument, NULL, 'P' },
	{ "comm", required_argument, NULL, 'c' },
	{ "alive", no_argument, NULL, 'a' },
	{ "limit", required_argument, NULL, 'n' },
	{ "watch", no_argument, NULL, 'w' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void help_common(const char *view, bool table)
{
	if (table)
		printf("  -s, --sort COLUMN  sort by COLUMN: counters largest first,\n"
		       "                     comm and state alphabetically (default pid)\n"
		       "  -C, --columns LIST only these columns, in this order\n"
		       "                     (e.g. pid,comm,faults,cow_copy)\n"
		       "  -P, --pid N        only rows whose pid or tgid is N\n"
		       "  -c, --comm NAME    only rows whose comm is NAME\n"
		       "  -a, --alive        only live %s\n"
		       "  -n, --limit N      the first N rows only\n", view);
	printf("  -w, --watch [SECONDS]\n"
	       "                     redraw every SECONDS (2) until Ctrl-C, like top\n"
	       "  -h, --help         this help\n"
	       "\n"
	       "The module's directory is %s ($COWLAB_CTDIR overrides\n"
	       "it). -j gives the rows as JSON objects named by the columns;\n"
	       "a '-' value (cannot be right on this kernel) is null.\n",
	       COWTRACE_DEBUGFS_DIR);
}

static int help_tasks(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (json_wtr) {
		report_str("help", NULL, "cowlab tasks [OPTIONS]");
		return EXIT_OK;
	}
	printf("Usage: cowlab tasks [OPTIONS]\n"
	       "\n"
	       "cowtrace.ko's per-task counters (%s/tasks):\n"
	       "one row per task, alive or exited; the columns are the module's\n"
	       "(faults, cow_copy, cow_reuse, ...: see the project's README).\n"
	       "\nOptions:\n", COWTRACE_DEBUGFS_DIR);
	help_common("tasks", true);
	return EXIT_OK;
}

static int help_processes(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (json_wtr) {
		report_str("help", NULL, "cowlab processes [OPTIONS]");
		return EXIT_OK;
	}
	printf("Usage: cowlab processes [OPTIONS]\n"
	       "\n"
	       "The counters summed per process (thread group), alive and exited\n"
	       "threads alike, with 'tasks', how many rows were summed.\n"
	       "\nOptions:\n");
	help_common("processes", true);
	return EXIT_OK;
}

static int help_raw(const char *view, const char *what)
{
	if (json_wtr) {
		report_str("help", NULL, "cowlab %s [--watch [SECONDS]]", view);
		return EXIT_OK;
	}
	printf("Usage: cowlab %s [--watch [SECONDS]]\n\n%s\n\nOptions:\n",
	       view, what);
	help_common(view, false);
	return EXIT_OK;
}

/* --watch takes an optional number: the next argument, if it is one. */
static int parse_opts(int argc, char **argv, bool table,
		      int (*help)(int argc, char **argv))
{
	int c, err = 0;

	memset(&venv, 0, sizeof(venv));
	venv.interval = 2;
	optind = 0;	/* 0: glibc resets its state for a new argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, table ? "+s:C:P:c:an:wh" : "+wh",
				view_opts, NULL)) != -1) {
		switch (c) {
		case 's':
			venv.sort = optarg;
			break;
		case 'C':
			venv.columns = optarg;
			break;
		case 'P':
			err = opt_count("--pid", optarg, 1, 1L << 22, &venv.pid);
			break;
		case 'c':
			venv.comm = optarg;
			break;
		case 'a':
			venv.alive = true;
			break;
		case 'n':
			err = opt_count("--limit", optarg, 1, 1L << 30,
					&venv.limit);
			break;
		case 'w':
			venv.watch = true;
			if (optind < argc && (isdigit((unsigned char)argv[optind][0]) ||
					      argv[optind][0] == '.'))
				err = opt_seconds("--watch", argv[optind++],
						  &venv.interval);
			break;
		case 'h':
			help(0, NULL);
			return -1;
		default:
			p_err("%s: unknown or incomplete option '%s'",
			      env.object, argv[optind - 1]);
			return EXIT_USAGE;
		}
		if (err)
			return err;
	}
	if (venv.watch && json_wtr) {
		p_err("--watch: not with -j (one document per run)");
		return EXIT_USAGE;
	}
	return no_more_args(argc - optind, argv + optind);
}

/* Without the module, the views cannot show anything: say why. */
static int need_module(const char *view)
{
	if (ct_only_proc() && strcmp(view, "tasks")) {
		p_err("%s: needs debugfs (%s); only /proc/cowtrace is readable",
		      view, ct_unavailable_reason());
		return EXIT_FAIL;
	}
	if (ct_probe())
		return 0;
	p_err("%s: kernel counters unavailable: %s", env.object,
	      ct_unavailable_reason());
	return EXIT_FAIL;
}

/* -------------------------------------------------- tasks, processes */

static int sort_col;
static bool sort_text;

static int cmp_rows(const void *a, const void *b)
{
	const struct ct_row *x = *(const struct ct_row * const *)a;
	const struct ct_row *y = *(const struct ct_row * const *)b;
	int c;

	if (sort_text) {
		c = sort_col == 2 ? strcmp(x->comm, y->comm) :
			(int)y->alive - (int)x->alive;
		if (c)
			return c;
	} else if (sort_col > 1 && x->v[sort_col] != y->v[sort_col]) {
		return x->v[sort_col] < y->v[sort_col] ? 1 : -1;
	} else if (sort_col <= 1 && x->v[sort_col] != y->v[sort_col]) {
		return x->v[sort_col] < y->v[sort_col] ? -1 : 1;
	}
	return x->pid - y->pid;
}

static bool row_wanted(const struct ct_row *r)
{
	if (venv.pid && r->pid != venv.pid && r->tgid != venv.pid)
		return false;
	if (venv.comm && strcmp(r->comm, venv.comm))
		return false;
	return !venv.alive || r->alive;
}

/* One cell of row r, column c of the module's table. */
static void table_cell_of(struct table *out, const struct ct_row *r, int c)
{
	if (c == 2)
		table_str(out, r->comm);
	else if (c == 3)
		table_str(out, r->alive ? "alive" : "exited");
	else if (r->v[c] < 0)
		table_null(out);
	else
		table_int(out, r->v[c]);
}

/*
 * The columns shown: --columns, checked against the view's header, or all
 * of them. sel[] gets their indices; the count, or -1 (said why).
 */
static int select_columns(const struct ct_table *t, const char *view,
			  int *sel)
{
	char *copy, *save = NULL, *w;
	int n = 0;

	if (!venv.columns) {
		for (n = 0; n < t->ncols; n++)
			sel[n] = n;
		return n;
	}
	copy = strdup(venv.columns);
	if (!copy)
		return -1;
	for (w = strtok_r(copy, ",", &save); w && n < t->ncols;
	     w = strtok_r(NULL, ",", &save)) {
		sel[n] = ct_col(t, w);
		if (sel[n] < 0) {
			p_err("--columns: no column '%s' in %s", w, view);
			free(copy);
			return -1;
		}
		n++;
	}
	free(copy);
	if (!n)
		p_err("--columns: no column named");
	return n ? n : -1;
}

static int show_table(const char *view)
{
	struct ct_table t;
	struct table_col *cols;
	const struct ct_row **rows;
	struct table *out;
	int i, c, n = 0, err, nsel, *sel;

	err = ct_read_table(view, &t);
	if (err) {
		p_err("%s: cannot read %s/%s: %s", view, ct_dir(), view,
		      err == -EINVAL ? "not a table" : strerror(-err));
		return EXIT_FAIL;
	}
	sort_col = venv.sort ? ct_col(&t, venv.sort) : 0;
	if (sort_col < 0) {
		p_err("--sort: no column '%s' in %s", venv.sort, view);
		ct_table_free(&t);
		return EXIT_USAGE;
	}
	sort_text = sort_col == 2 || sort_col == 3;
	cols = calloc(t.ncols, sizeof(*cols));
	rows = calloc(t.nrows + 1, sizeof(*rows));
	sel = calloc(t.ncols, sizeof(*sel));
	if (!cols || !rows || !sel) {
		p_err("out of memory");
		err = EXIT_FAIL;
		goto out;
	}
	nsel = select_columns(&t, view, sel);
	if (nsel < 0) {
		err = EXIT_USAGE;
		goto out;
	}
	for (c = 0; c < nsel; c++) {
		cols[c].name = t.cols[sel[c]];
		cols[c].align = (sel[c] == 2 || sel[c] == 3) ? TABLE_LEFT :
			TABLE_RIGHT;
	}
	for (i = 0; i < t.nrows; i++)
		if (row_wanted(&t.rows[i]))
			rows[n++] = &t.rows[i];
	qsort(rows, n, sizeof(*rows), cmp_rows);
	if (venv.limit && n > venv.limit)
		n = venv.limit;
	out = table_start("rows", cols, nsel);
	for (i = 0; i < n; i++) {
		table_row(out);
		for (c = 0; c < nsel; c++)
			table_cell_of(out, rows[i], sel[c]);
	}
	table_end(out);
	err = 0;
out:
	free(sel);
	free(cols);
	free(rows);
	ct_table_free(&t);
	return err;
}

/* ------------------------------------------------- kthreads, locks... */

static int show_raw(const char *view)
{
	char path[512], *text;

	snprintf(path, sizeof(path), "%s/%s", ct_dir(), view);
	text = read_text_file(path, NULL);
	if (!text && errno == ENOENT) {
		p_err("%s: not available in this module version (no %s)",
		      view, path);
		return EXIT_FAIL;
	}
	if (!text) {
		p_err("%s: cannot read %s: %s", view, path, strerror(errno));
		return EXIT_FAIL;
	}
	if (!json_wtr)
		fputs(text, stdout);
	else if (!strcmp(view, "stats"))
		ct_json_stats(text);
	else
		ct_json_sections(text, view);
	free(text);
	return EXIT_OK;
}

/* ---------------------------------------------------------- driving */

static void sleep_interval(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (time_t)s) * 1e9) };

	/* a signal ends the sleep early: exiting is then set */
	nanosleep(&ts, NULL);
}

static int show(const char *view, bool table)
{
	int err;

	if (!venv.watch)
		return table ? show_table(view) : show_raw(view);
	while (!exiting) {
		time_t now = time(NULL);
		char when[64];

		strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
		/* home and clear, as top does */
		printf("\033[H\033[2J%s/%s every %gs, %s (Ctrl-C quits)\n\n",
		       ct_dir(), view, venv.interval, when);
		err = table ? show_table(view) : show_raw(view);
		fflush(stdout);
		if (err)
			return err;
		sleep_interval(venv.interval);
	}
	/* Ctrl-C is how a watch ends: not a failure */
	exiting = 0;
	return EXIT_OK;
}

static int run_view(int argc, char **argv, const char *view, bool table,
		    int (*help)(int argc, char **argv))
{
	int err;

	if (argc > 0 && !strcmp(argv[0], "help"))
		return help(argc - 1, argv + 1);
	err = parse_opts(argc + 1, argv - 1, table, help);
	if (err)
		return err < 0 ? EXIT_OK : err;
	err = need_module(view);
	if (err)
		return err;
	return show(view, table);
}

int do_tasks(int argc, char **argv)
{
	return run_view(argc, argv, "tasks", true, help_tasks);
}

int do_processes(int argc, char **argv)
{
	return run_view(argc, argv, "processes", true, help_processes);
}

static int help_kthreads(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return help_raw("kthreads",
			"The kernel-thread tree (" COWTRACE_DEBUGFS_DIR "/kthreads):\n"
			"every kernel thread under kthreadd, its state, CPU and binding.");
}

static int help_locks(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return help_raw("locks",
			"Lock statistics (" COWTRACE_DEBUGFS_DIR "/locks): contention\n"
			"by kind, call site and task, and file locks.");
}

static int help_stats(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return help_raw("stats",
			"The module's tables and hooks (" COWTRACE_DEBUGFS_DIR "/stats):\n"
			"table sizes, evictions, the filter, every hook attached or not.");
}

int do_kthreads(int argc, char **argv)
{
	return run_view(argc, argv, "kthreads", false, help_kthreads);
}

int do_locks(int argc, char **argv)
{
	return run_view(argc, argv, "locks", false, help_locks);
}

int do_stats(int argc, char **argv)
{
	return run_view(argc, argv, "stats", false, help_stats);
}
