// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab lock [METHOD...] [--procs N] [--count N] [--threads]: the
 * lost-update race, and what each kind of lock does about it.  With
 * cowtrace.ko loaded (and its file-lock view present), the kernel's count
 * of acquisitions, conflicts and blocking waits on the counter file is
 * added; without it those columns are null.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "cmd/common.h"
#include "engine/lock.h"
#include "lib/cowlab.h"
#include "lib/parse.h"
#include "lib/report.h"
#include "lib/table.h"
#include "lib/views.h"

#define LOCK_DEF_PROCS		4
#define LOCK_DEF_FILE_COUNT	1000
#define LOCK_DEF_MEM_COUNT	100000

struct lock_cli {
	unsigned long methods;
	bool named;		/* methods were named on the command line */
	long procs, count;	/* 0: not given */
	bool threads;
};

static int lock_help(void)
{
	int i;

	if (json_wtr) {
		report_str("help", NULL,
			   "cowlab lock [METHOD...] [--procs N] [--count N] [--threads]");
		return EXIT_OK;
	}
	printf("Usage: cowlab lock [METHOD...] [--procs N] [--count N] [--threads]\n"
	       "\n"
	       "N processes (or threads of one process with --threads) each add one\n"
	       "to a shared counter K times: read it, add one, write it back. In a\n"
	       "file (pread/pwrite of a 64-bit counter, each party with its own\n"
	       "open()) or in MAP_SHARED memory. Without mutual exclusion two\n"
	       "parties read the same value and one increment is lost. Shown:\n"
	       "the final value against N x K, the lost updates, increments/s and,\n"
	       "with cowtrace.ko, the kernel's file-lock acquisitions, conflicts and\n"
	       "blocking waits on the counter file during the run.\n"
	       "\n"
	       "METHOD (all by default; unique prefixes match):\n");
	for (i = 0; i < LOCK_NR_METHODS; i++)
		printf("  %-17s %s%s\n", lock_methods[i].name,
		       lock_methods[i].in_file ? "[file] " : "[memory] ",
		       lock_methods[i].what);
	printf("\n"
	       "Options:\n"
	       "  -n, --procs N    parties (4; 1 to 64); Peterson's algorithm is for 2\n"
	       "  -c, --count N    increments per party (file methods 1000, memory\n"
	       "                   methods 100000)\n"
	       "  -t, --threads    threads of one process instead of processes\n"
	       "  -h, --help       this help\n"
	       "\n"
	       "Why Peterson needs a fence: each party stores its flag, then loads\n"
	       "the other's. x86 keeps stores in a store buffer and lets a later\n"
	       "load to another address complete first (store-load reordering, the\n"
	       "one reordering x86-TSO allows), so both can read the other's flag\n"
	       "as 0 and both enter. atomic_thread_fence(memory_order_seq_cst)\n"
	       "(mfence) between the stores and the loads forbids it;\n"
	       "peterson-nofence leaves it out (losses are rare: try --count 1000000).\n"
	       "\n"
	       "Why 'lockfile' is racy: access() then open(O_CREAT) are two steps;\n"
	       "two parties can both find no lock file and both create it.\n"
	       "open(O_CREAT|O_EXCL) makes the test and the creation one atomic step\n"
	       "(lockfile-excl), though a holder that dies leaves the file behind.\n"
	       "\n"
	       "With --threads, fcntl() locks do not exclude: POSIX record locks belong\n"
	       "to the process, so all its threads hold the same lock (and closing any\n"
	       "descriptor of the file drops it). flock() and OFD locks belong to the\n"
	       "open file description, and each thread opens its own.\n");
	return EXIT_OK;
}

static const struct ilt_opt lock_opts[] = {
	{ "procs", 'n', true },
	{ "count", 'c', true },
	{ "threads", 't', false },
	{ "help", 'h', false },
};

static int lock_word(struct lock_cli *cli, const char *w)
{
	const char *names[LOCK_NR_METHODS];
	int i;

	for (i = 0; i < LOCK_NR_METHODS; i++)
		names[i] = lock_methods[i].name;
	cli->named = true;
	return ilt_method_word("lock", w, names, LOCK_NR_METHODS, &cli->methods);
}

static int lock_validate(struct lock_cli *cli)
{
	long most = max_new_processes();
	int m;

	if (!cli->threads && cli->procs > 0 && most >= 0 && cli->procs > most) {
		p_err("--procs: %ld processes, but only %ld more may be created",
		      cli->procs, most);
		return EXIT_USAGE;
	}
	if (!cli->methods)
		cli->methods = (1ul << LOCK_NR_METHODS) - 1;
	for (m = 0; m < LOCK_NR_METHODS; m++)
		if (cli->named && (cli->methods & (1ul << m)) &&
		    lock_methods[m].two_only && cli->procs && cli->procs != 2) {
			p_err("lock: %s is for exactly two parties, not --procs %ld",
			      lock_methods[m].name, cli->procs);
			return EXIT_USAGE;
		}
	return 0;
}

static int lock_arg(void *ctx, int k, const char *val)
{
	struct lock_cli *cli = ctx;

	switch (k) {
	case ILT_WORD:
		return lock_word(cli, val);
	case 0:
		return opt_count("--procs", val, 1, LOCK_MAX_PROCS, &cli->procs);
	case 1:
		return opt_count("--count", val, 1, LOCK_MAX_COUNT, &cli->count);
	default:
		cli->threads = true;
		return 0;
	}
}

/* 0: go on; -1: help shown; else an exit status. */
static int lock_parse(int argc, char **argv, struct lock_cli *cli)
{
	int err = ilt_parse_args(argc, argv, lock_opts, ARRAY_SIZE(lock_opts),
				 lock_help, lock_arg, cli);

	return err ? err : lock_validate(cli);
}

/* ------------------------------------------------ module's lock view */

static struct lock_kstats kbefore, kafter;
static bool kvalid;

static bool lock_kread(dev_t dev, ino_t ino, struct lock_kstats *k)
{
	char path[512];
	char *text;
	int err;

	snprintf(path, sizeof(path), "%s/locks", ct_dir());
	text = read_text_file(path, NULL);
	if (!text)
		return false;
	err = lock_kparse(text, major(dev), minor(dev), ino, k);
	free(text);
	return !err;
}

static void lock_around(bool after, dev_t dev, ino_t ino)
{
	if (!after)
		kvalid = lock_kread(dev, ino, &kbefore);
	else if (kvalid)
		kvalid = lock_kread(dev, ino, &kafter);
}

static void lock_kcell(struct table *t, const char *name)
{
	long long a = lock_kget(&kafter, name), b = lock_kget(&kbefore, name);

	if (!kvalid || a < 0) {
		table_null(t);
		return;
	}
	/* A counter that did not exist before the run started from 0 */
	table_int(t, a - (b < 0 || !strncmp(name, "max", 3) ? 0 : b));
}

/* ------------------------------------------------------------ output */

static const struct table_col lock_cols[] = {
	{ "method", TABLE_LEFT },
	{ "where", TABLE_LEFT },
	{ "parties", TABLE_RIGHT },
	{ "as", TABLE_LEFT },
	{ "count", TABLE_RIGHT },
	{ "expected", TABLE_RIGHT },
	{ "final", TABLE_RIGHT },
	{ "lost", TABLE_RIGHT },
	{ "verdict", TABLE_LEFT },
	{ "ops_per_s", TABLE_RIGHT },
	{ "time_ns", TABLE_RIGHT },
	{ "k_acquired", TABLE_RIGHT },
	{ "k_conflicts", TABLE_RIGHT },
	{ "k_waits", TABLE_RIGHT },
	{ "k_wait_ns", TABLE_RIGHT },
	{ "error", TABLE_LEFT },
};

static const char *lock_verdict(int m, bool threads,
				const struct lock_result *r)
{
	if (r->err)
		return "failed";
	if (r->lost == 0)
		return lock_exact(m, threads) ? "exact" : "exact (by luck)";
	return lock_exact(m, threads) ? "BUG: lost updates" : "lost updates";
}

/* What stopped a failed run: "setup: No such file or directory". */
static void lock_why(const struct lock_result *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s: %s", r->why ? r->why : "run",
		 strerror(r->err));
}

static void lock_row(struct table *t, int m, const struct lock_params *p,
		     const struct lock_result *r)
{
	char buf[128];
	int i;

	table_row(t);
	table_str(t, lock_methods[m].name);
	table_str(t, lock_methods[m].in_file ? "file" : "memory");
	table_int(t, p->procs);
	table_str(t, p->threads ? "threads" : "processes");
	table_int(t, p->count);
	table_int(t, r->expected);
	if (r->err) {
		/* a run that failed measured nothing: no 0 that reads as exact */
		table_null(t);	/* final */
		table_null(t);	/* lost */
		table_str(t, lock_verdict(m, p->threads, r));
		for (i = 0; i < 6; i++)	/* ops_per_s, time_ns, the k_* */
			table_null(t);
		lock_why(r, buf, sizeof(buf));
		table_str(t, buf);
		return;
	}
	table_int(t, r->final);
	table_int(t, r->lost);
	table_str(t, lock_verdict(m, p->threads, r));
	table_float(t, r->ops_per_s, 0);
	table_float(t, r->ns, 0);
	lock_kcell(t, "acquired");
	lock_kcell(t, "conflicts");
	lock_kcell(t, "waits");
	lock_kcell(t, "wait_ns");
	table_null(t);
}

static void lock_params_for(const struct lock_cli *cli, int m,
			    struct lock_params *p)
{
	p->threads = cli->threads;
	p->procs = cli->procs ? cli->procs : LOCK_DEF_PROCS;
	if (lock_methods[m].two_only)
		p->procs = 2;
	p->count = cli->count;
	if (!p->count)
		p->count = lock_methods[m].in_file ? LOCK_DEF_FILE_COUNT :
						     LOCK_DEF_MEM_COUNT;
}

static int lock_table(const struct lock_cli *cli, bool ct)
{
	struct lock_result *r = calloc(1, sizeof(*r));
	struct lock_params p;
	uint64_t done = 0, todo = 0;
	struct table *t;
	int m, bugs = 0, failed = 0;
	char first[160];

	if (!r)
		return EXIT_FAIL;
	lock_around_hook = ct ? lock_around : NULL;
	for (m = 0; m < LOCK_NR_METHODS; m++)
		todo += !!(cli->methods & (1ul << m));
	t = table_start("methods", lock_cols, ARRAY_SIZE(lock_cols));
	progress_start(todo, "lock methods");
	for (m = 0; m < LOCK_NR_METHODS && !exiting; m++) {
		if (!(cli->methods & (1ul << m)))
			continue;
		lock_params_for(cli, m, &p);
		kvalid = false;
		lock_run(m, &p, r);
		if (exiting)
			break;
		if (!lock_methods[m].in_file)
			kvalid = false;
		bugs += r->err || (r->lost && lock_exact(m, p.threads));
		if (r->err && !failed++) {
			snprintf(first, sizeof(first), "%s: ",
				 lock_methods[m].name);
			lock_why(r, first + strlen(first),
				 sizeof(first) - strlen(first));
		}
		lock_row(t, m, &p, r);
		progress_update(++done);
	}
	progress_end();
	table_end(t);
	free(r);
	/* the run failed: the document's error says so, not just a row */
	if (failed)
		p_err("lock: %d of %llu methods failed (%s)", failed,
		      (unsigned long long)todo, first);
	return bugs ? EXIT_FAIL : EXIT_OK;
}

static void lock_notes(const struct lock_cli *cli, bool ct)
{
	unsigned long racy = (1ul << LOCK_NONE) | (1ul << LOCK_LOCKFILE);

	report_note("verdict: 'exact' when final = expected for a method that excludes; 'lost "
		    "updates' where nothing excludes (a race may also happen to lose nothing: 'by "
		    "luck'); 'BUG' would be a lock that failed. Time: %s, from the start signal to "
		    "the last party's end.",
		    ILT_CLOCK_NAME);
	if (cli->methods & racy)
		report_note("none and lockfile call sched_yield() between the read and the write, "
			    "to make the race likely on any machine; their ops_per_s are not "
			    "comparable with the others'.");
	if (cli->methods & (1ul << LOCK_LOCKFILE))
		report_note("lockfile: access() and open(O_CREAT) are two steps, and two parties "
			    "can both pass the check before either creates the file. "
			    "open(O_CREAT|O_EXCL) (lockfile-excl) does both atomically.");
	if (cli->threads && (cli->methods & (1ul << LOCK_FCNTL)))
		report_note("fcntl with --threads: POSIX locks belong to the process, so threads "
			    "of one process never conflict and lose updates; OFD locks (ofd) and "
			    "flock belong to the open file description and exclude threads that "
			    "opened the file separately.");
	if (cli->methods & ((1ul << LOCK_PETERSON) |
			    (1ul << LOCK_PETERSON_NOFENCE)))
		report_note("peterson: x86 may complete a load before an earlier store to another "
			    "address is visible (store-load reordering), so both parties can see "
			    "the other's flag as 0 and enter together; the seq_cst fence (mfence) "
			    "forbids it. peterson-nofence omits it: its losses are rare and "
			    "timing-dependent.");
	if (!ct)
		return;
	report_note("k_*: cowtrace.ko's file-lock counters (acquired, conflicts, blocking waits, "
		    "wait time) for the counter file's device:inode, summed over the parties, "
		    "after minus before the run; null for memory methods or where the module has "
		    "no file-lock view.");
}

int do_lock(int argc, char **argv)
{
	struct lock_cli cli = { 0 };
	bool ct;
	int err;

	err = lock_parse(argc, argv, &cli);
	if (err)
		return err < 0 ? EXIT_OK : err;
	ilt_hooks_cowlab();
	ct = ct_available();
	report_section("setup", "lock: N parties x K increments of one counter");
	report_str("parties", "parties", "%s",
		   cli.threads ? "threads of one process" : "processes");
	report_str("clock", "clock", "%s", ILT_CLOCK_NAME);
	report_bool("module", "cowtrace.ko counters", ct);
	report_section_end();
	err = lock_table(&cli, ct);
	lock_notes(&cli, ct);
	return exiting ? EXIT_INTR : err;
}
