// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab thread [SECTION...] [--count N]: processes, kernel threads and
 * user threads (libuthread) compared: creation, memory, context switches,
 * parallel speed-up, CPU share, fault isolation, LWP ids, thread safety.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cmd/common.h"
#include "engine/thread.h"
#include "lib/cowlab.h"
#include "lib/parse.h"
#include "lib/report.h"
#include "lib/table.h"
#include "lib/views.h"

#define THREAD_DEF_COUNT	100
#define THREAD_RUNS		5
#define THREAD_LWPS		4
#define THREAD_SHARE_NS		300e6

enum thread_section {
	TS_CREATE, TS_MEMORY, TS_SWITCH, TS_SPEEDUP, TS_SCHED, TS_CRASH,
	TS_LWP, TS_STRTOK, TS_NR
};

static const char *const section_names[TS_NR] = {
	"create", "memory", "switch", "speedup", "sched", "crash", "lwp",
	"strtok",
};

static int thread_help(void)
{
	if (json_wtr) {
		report_str("help", NULL, "cowlab thread [SECTION...] [--count N]");
		return EXIT_OK;
	}
	printf("Usage: cowlab thread [SECTION...] [--count N]\n"
	       "\n"
	       "Processes (fork), kernel threads (pthread) and user threads\n"
	       "(libuthread, M:1: all in one kernel thread) side by side.\n"
	       "\n"
	       "SECTION (all by default; unique prefixes match):\n"
	       "  create   create + wait/join, per unit: fork+waitpid,\n"
	       "           pthread_create+join, uthread_create+join\n"
	       "  memory   memory per idle unit: a process's USS (private pages,\n"
	       "           smaps_rollup); RSS growth of this process per idle thread\n"
	       "  switch   context switch, both parties pinned to one CPU: pipe\n"
	       "           ping-pong (processes), futex ping-pong (kernel threads),\n"
	       "           uthread_yield() (user threads)\n"
	       "  speedup  the same CPU-bound work once alone and once per CPU at\n"
	       "           once: kernel threads and processes scale, user threads\n"
	       "           stay on one CPU\n"
	       "  sched    all pinned to one CPU: process A's two threads beside\n"
	       "           process B's one; A's kernel threads get a turn each, A's\n"
	       "           user threads share A's one turn (CLOCK_THREAD_CPUTIME_ID)\n"
	       "  crash    a thread's SIGSEGV ends its whole process; a child\n"
	       "           process's SIGSEGV leaves its parent running\n"
	       "  lwp      each kernel thread's id (gettid): the first is the PID,\n"
	       "           as 'ps -eLF' shows in its LWP column\n"
	       "  strtok   threads using strtok() (one hidden static position for\n"
	       "           the process) against strtok_r() (the caller's)\n"
	       "\n"
	       "Options:\n"
	       "  -c, --count N    units for create and memory (100; 1 to 10000);\n"
	       "                   switch does N x 100 round trips\n"
	       "  -h, --help       this help\n");
	return EXIT_OK;
}

static const struct ilt_opt thread_opts[] = {
	{ "count", 'c', true },
	{ "help", 'h', false },
};

struct thread_cli {
	unsigned long sections;
	long count;
};

static int thread_arg(void *ctx, int k, const char *val)
{
	struct thread_cli *cli = ctx;
	int s;

	if (k == 0)
		return opt_count("--count", val, 1, THREAD_MAX_COUNT,
				 &cli->count);
	s = ilt_match(val, section_names, TS_NR);
	if (s < 0) {
		p_err("thread: %s section '%s' (see 'cowlab thread help')",
		      s == ILT_AMBIGUOUS ? "ambiguous" : "unknown", val);
		return EXIT_USAGE;
	}
	cli->sections |= 1ul << s;
	return 0;
}

/* 0: go on; -1: help shown; else an exit status. */
static int thread_parse(int argc, char **argv, struct thread_cli *cli)
{
	int err;

	cli->count = THREAD_DEF_COUNT;
	err = ilt_parse_args(argc, argv, thread_opts, ARRAY_SIZE(thread_opts),
			     thread_help, thread_arg, cli);
	if (err)
		return err;
	if (cli->count > max_new_processes() &&
	    max_new_processes() >= 0) {
		p_err("--count: %ld processes, but only %ld more may be created",
		      cli->count, max_new_processes());
		return EXIT_USAGE;
	}
	if (!cli->sections)
		cli->sections = (1ul << TS_NR) - 1;
	return 0;
}

static bool want(const struct thread_cli *cli, enum thread_section s)
{
	return cli->sections & (1ul << s);
}

/* ------------------------------------------------------ models table */

struct model_res {
	int create_err, mem_err, switch_err;
	struct ilt_series create, sw;
	double mem;
	/* What cowtrace.ko counted for this process while it created them. */
	int64_t k_forks, k_threads;
};

static const struct table_col model_cols[] = {
	{ "model", TABLE_LEFT },
	{ "create_ns", TABLE_RIGHT },
	{ "create_spread_pct", TABLE_RIGHT },
	{ "mem_per_unit", TABLE_RIGHT },
	{ "switch_ns", TABLE_RIGHT },
	{ "switch_spread_pct", TABLE_RIGHT },
	{ "parallel_ns", TABLE_RIGHT },
	{ "speedup", TABLE_RIGHT },
	{ "cpus_busy", TABLE_RIGHT },
	{ "k_forks", TABLE_RIGHT },
	{ "k_threads", TABLE_RIGHT },
};

static void cell_series(struct table *t, int err, const struct ilt_series *s)
{
	if (err || !s->n) {
		table_null(t);
		table_null(t);
		return;
	}
	table_float(t, s->median, 0);
	table_float(t, ilt_spread_pct(s), 1);
}

/*
 * The creations of one model, with the module's forks and threads of this
 * process around them (-1 without the module): the kernel sees every fork
 * and every pthread_create, and no uthread_create.
 */
static void create_model(const struct thread_cli *cli, int m,
			 struct model_res *r)
{
	struct ct_table before, after;
	bool ct = ct_available() && !ct_read_table("tasks", &before);

	r->k_forks = -1;
	r->k_threads = -1;
	r->create_err = thread_create_cost(m, cli->count, THREAD_RUNS,
					   &r->create);
	if (!ct)
		return;
	if (!ct_read_table("tasks", &after)) {
		r->k_forks = ct_delta(&before, &after, getpid(), "forks");
		r->k_threads = ct_delta(&before, &after, getpid(), "threads");
		ct_table_free(&after);
	}
	ct_table_free(&before);
}

static void cell_count(struct table *t, int64_t v)
{
	if (v < 0)
		table_null(t);
	else
		table_int(t, v);
}

static void measure_model(const struct thread_cli *cli, int m,
			  struct model_res *r)
{
	r->create_err = -ENODATA;
	r->mem_err = -ENODATA;
	r->switch_err = -ENODATA;
	r->k_forks = -1;
	r->k_threads = -1;
	if (want(cli, TS_CREATE) && !exiting)
		create_model(cli, m, r);
	if (want(cli, TS_MEMORY) && !exiting)
		r->mem_err = thread_memory(m, cli->count, &r->mem);
	if (want(cli, TS_SWITCH) && !exiting)
		r->switch_err = thread_switch_cost(m, cli->count * 100L,
						   THREAD_RUNS, &r->sw);
}

static int models_table(const struct thread_cli *cli)
{
	struct model_res r[TM_NR];
	struct thread_speedup sp = { 0 };
	int m, sp_err = -ENODATA, failed = 0;
	struct table *t;

	progress_start(TM_NR + 1, "thread models");
	for (m = 0; m < TM_NR; m++) {
		measure_model(cli, m, &r[m]);
		progress_update(m + 1);
	}
	if (want(cli, TS_SPEEDUP) && !exiting)
		sp_err = thread_speedup(&sp);
	progress_end();
	if (exiting)
		return 0;
	t = table_start("models", model_cols, ARRAY_SIZE(model_cols));
	for (m = 0; m < TM_NR; m++) {
		table_row(t);
		table_str(t, thread_model_names[m]);
		cell_series(t, r[m].create_err, &r[m].create);
		if (r[m].mem_err)
			table_null(t);
		else
			table_size(t, (uint64_t)(r[m].mem + 0.5));
		cell_series(t, r[m].switch_err, &r[m].sw);
		if (sp_err || sp.all_ns[m] <= 0) {
			table_null(t);
			table_null(t);
			table_null(t);
		} else {
			table_float(t, sp.all_ns[m], 0);
			table_float(t, sp.speedup[m], 2);
			table_float(t, sp.cpus[m], 2);
		}
		cell_count(t, r[m].k_forks);
		cell_count(t, r[m].k_threads);
		failed += r[m].create_err && r[m].create_err != -ENODATA;
	}
	table_end(t);
	if (!sp_err) {
		report_section("speedup", NULL);
		report_int("units", "units at once (one per CPU)", sp.units,
			   NULL);
		report_ns("one_ns", "one unit alone", sp.one_ns);
		report_section_end();
	}
	return failed;
}

static void models_notes(const struct thread_cli *cli)
{
	if (want(cli, TS_CREATE))
		report_note("create_ns: median per unit over %d runs of %ld (after a warm-up), "
			    "%s. fork copies the page tables and the kernel's process state; "
			    "pthread_create maps a stack and clones a task; uthread_create "
			    "takes a stack from its pool, and the kernel sees nothing. "
			    "k_forks, k_threads: what cowtrace.ko counted for this process "
			    "while it created them, warm-up included (%d units).",
			    THREAD_RUNS, cli->count, ILT_CLOCK_NAME,
			    (THREAD_RUNS + 1) * (int)cli->count);
	if (want(cli, TS_MEMORY))
		report_note("mem_per_unit: process = USS (Private_Clean + Private_Dirty) of an "
			    "idle child; threads = this process's Rss growth per idle "
			    "thread. Kernel memory (task_struct, the 16 KiB kernel stack, page "
			    "tables) is not in RSS: a kernel thread costs about 20 KiB more "
			    "there, a user thread nothing.");
	if (want(cli, TS_SWITCH))
		report_note("switch_ns: one switch = half a round trip, both parties pinned to "
			    "one CPU. The process and kernel-thread rows are whole system "
			    "calls plus a scheduler switch; the user-thread row is a function "
			    "call and a register swap.");
	if (want(cli, TS_SPEEDUP))
		report_note("speedup = units x one-unit time / time of the units at once "
			    "(median of 3 rounds, the lone unit timed again in each); "
			    "cpus_busy = CPU time used / wall time (getrusage). Kernel threads "
			    "and processes spread over the CPUs; user threads all run in one "
			    "kernel thread, so cpus_busy stays at most 1 and speedup about 1. "
			    "Other load on the machine lowers the first two.");
}

/* ------------------------------------------------------------- sched */

static const struct table_col share_cols[] = {
	{ "case", TABLE_LEFT },
	{ "A1_pct", TABLE_RIGHT },
	{ "A2_pct", TABLE_RIGHT },
	{ "A_pct", TABLE_RIGHT },
	{ "B_pct", TABLE_RIGHT },
	{ "A1_cpu_ns", TABLE_RIGHT },
	{ "A2_cpu_ns", TABLE_RIGHT },
	{ "B_cpu_ns", TABLE_RIGHT },
};

static void share_row(struct table *t, const struct thread_share *s,
		      int err)
{
	double sum = s->a_ns[0] + s->a_ns[1] + s->b_ns;

	table_row(t);
	table_str(t, s->user ? "A: 2 user threads" : "A: 2 kernel threads");
	if (err || sum <= 0) {
		table_null(t);
		table_null(t);
		table_null(t);
		table_null(t);
		table_null(t);
		table_null(t);
		table_null(t);
		return;
	}
	table_float(t, 100 * s->a_ns[0] / sum, 1);
	table_float(t, 100 * s->a_ns[1] / sum, 1);
	table_float(t, 100 * (s->a_ns[0] + s->a_ns[1]) / sum, 1);
	table_float(t, 100 * s->b_ns / sum, 1);
	table_float(t, s->a_ns[0], 0);
	table_float(t, s->a_ns[1], 0);
	table_float(t, s->b_ns, 0);
}

static int sched_section(void)
{
	struct thread_share s[2];
	int err[2], i, cpu = 0;
	struct table *t;

	for (i = 0; i < 2 && !exiting; i++) {
		err[i] = thread_sched_share(i, THREAD_SHARE_NS, &s[i]);
		cpu = s[i].cpu;
	}
	if (exiting)
		return 0;
	report_section("sched", NULL);
	report_int("cpu", "every thread pinned to CPU", cpu, NULL);
	report_ns("wall_ns", "wall time each", THREAD_SHARE_NS);
	t = table_start("shares", share_cols, ARRAY_SIZE(share_cols));
	for (i = 0; i < 2; i++)
		share_row(t, &s[i], err[i]);
	table_end(t);
	report_section_end();
	report_note("sched: CPU time of each spinning thread (CLOCK_THREAD_CPUTIME_ID; for a user "
		    "thread, summed over its own slices) as a share of all three. The kernel "
		    "schedules tasks: A's two kernel threads get a turn each beside B (about 33%% "
		    "each). It never sees A's user threads: A's one kernel thread gets one turn "
		    "beside B (about 50%%), which its two user threads split (about 25%% each).");
	return err[0] != 0;
}

/* ------------------------------------------------- crash, lwp, strtok */

static void report_status(const char *key, const char *label, int st)
{
	if (st < 0)
		report_unknown(key, label, "could not fork");
	else if (WIFSIGNALED(st))
		report_str(key, label, "killed by SIG%s",
			   sigabbrev_np(WTERMSIG(st)) ?: "a signal");
	else
		report_str(key, label, "exited %d", WEXITSTATUS(st));
}

static int crash_section(void)
{
	struct thread_crash c;
	bool ok;

	thread_crash(&c);
	report_section("crash", "crash: SIGSEGV in a thread, and in a child process");
	report_status("thread_crash_process", "process whose 2nd thread crashed",
		      c.thread_proc_status);
	report_bool("main_thread_survived", "its main thread went on",
		    c.main_survived);
	report_status("child_crash", "child process that crashed",
		      c.child_status);
	report_status("parent_of_crashed_child", "its parent",
		      c.parent_status);
	report_bool("parent_went_on", "the parent went on after reaping it",
		    c.parent_went_on);
	report_section_end();
	report_note("crash: a fatal signal is sent to the whole thread group: one thread's invalid "
		    "access ends every thread of its process. A child is a process of its own: its "
		    "parent only sees a wait status (here WIFSIGNALED, SIGSEGV) and goes on. Both "
		    "experiments ran in subprocesses, without core dumps.");
	ok = c.thread_proc_status >= 0 && WIFSIGNALED(c.thread_proc_status) &&
	     WTERMSIG(c.thread_proc_status) == SIGSEGV && !c.main_survived &&
	     c.parent_went_on && WIFSIGNALED(c.child_status) &&
	     WTERMSIG(c.child_status) == SIGSEGV;
	return !ok;
}

static int lwp_section(void)
{
	struct thread_lwp l;
	char buf[256];
	int i, n = 0, err;

	err = thread_lwp(THREAD_LWPS, &l);
	report_section("lwp", "lwp: kernel thread ids of one process");
	if (err) {
		report_unknown("error", "error", strerror(-err));
		report_section_end();
		return 1;
	}
	report_int("pid", "pid (getpid)", l.pid, NULL);
	for (i = 0; i < l.n; i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%d", i ? " " : "",
			      (int)l.tid[i]);
	report_str("tids", "thread ids (gettid)", "%s", buf);
	report_bool("first_is_pid", "first thread id = pid", l.tid[0] == l.pid);
	report_int("tasks", "entries in /proc/PID/task", l.tasks, NULL);
	report_section_end();
	report_note("lwp: every kernel thread is a task with its own id; the process id is the id "
		    "of its first thread (the thread group leader). 'ps -eLF' lists them in its "
		    "LWP column, /proc/PID/task/ has one directory each.");
	return l.tid[0] != l.pid;
}

static int strtok_section(void)
{
	struct thread_strtok s;

	thread_strtok(&s);
	report_section("strtok", "strtok: threads tokenizing at once");
	report_int("threads", "threads", s.threads, NULL);
	report_int("rounds", "strings each function tokenized", s.rounds, NULL);
	report_int("bad_strtok", "wrong results with strtok()", s.bad_strtok,
		   NULL);
	report_int("bad_strtok_r", "wrong results with strtok_r()",
		   s.bad_strtok_r, NULL);
	report_status("status", "the subprocess", s.status);
	report_section_end();
	report_note("strtok: strtok() keeps its position in one static variable for the whole "
		    "process, so a thread continues in another thread's string; strtok_r() keeps "
		    "it in the caller's variable. (If no strtok() round went wrong, the threads "
		    "did not overlap this time: the race is still there.)");
	return s.bad_strtok_r != 0 || !WIFEXITED(s.status);
}

int do_thread(int argc, char **argv)
{
	struct thread_cli cli = { 0 };
	int err, failed = 0;

	err = thread_parse(argc, argv, &cli);
	if (err)
		return err < 0 ? EXIT_OK : err;
	ilt_hooks_cowlab();
	report_section("setup", "thread: processes, kernel threads, user threads");
	report_int("count", "units (create, memory)", cli.count, NULL);
	report_int("cpus", "CPUs usable", ilt_ncpus(), NULL);
	report_str("clock", "clock", "%s", ILT_CLOCK_NAME);
	report_section_end();
	if (cli.sections & ((1ul << TS_CREATE) | (1ul << TS_MEMORY) |
			    (1ul << TS_SWITCH) | (1ul << TS_SPEEDUP))) {
		failed += models_table(&cli);
		models_notes(&cli);
	}
	if (want(&cli, TS_SCHED) && !exiting)
		failed += sched_section();
	if (want(&cli, TS_CRASH) && !exiting)
		failed += crash_section();
	if (want(&cli, TS_LWP) && !exiting)
		failed += lwp_section();
	if (want(&cli, TS_STRTOK) && !exiting)
		failed += strtok_section();
	if (exiting)
		return EXIT_INTR;
	return failed ? EXIT_FAIL : EXIT_OK;
}
