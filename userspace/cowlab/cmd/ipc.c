// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab ipc [METHOD...] [--size BYTES] [--count N] [--runs N]: round-trip
 * latency and bandwidth of every IPC mechanism between two processes, in
 * one table, and what MAP_SHARED means next to MAP_PRIVATE after fork.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "engine/ipc.h"
#include "lib/cowlab.h"
#include "lib/parse.h"
#include "lib/report.h"
#include "lib/table.h"

#define IPC_DEF_SIZE	64
#define IPC_DEF_COUNT	2000
#define IPC_DEF_RUNS	5
/* Above this message size the default count shrinks */
#define IPC_BIG		(64 * 1024)

static int ipc_help(void)
{
	int i;

	if (json_wtr) {
		report_str("help", NULL,
			   "cowlab ipc [METHOD...] [--size BYTES] [--count N] [--runs N]");
		return EXIT_OK;
	}
	printf("Usage: cowlab ipc [METHOD...] [--size BYTES] [--count N] [--runs N]\n"
	       "\n"
	       "Round trips between cowlab and a forked echo child: the parent sends\n"
	       "BYTES, the child sends them back. One table: the median round trip\n"
	       "over the runs (after one warm-up run), min and max, the spread\n"
	       "(half the min-max range, in %% of the median), and the bandwidth\n"
	       "(2 x payload per median round trip). Every reply's sequence stamp is\n"
	       "checked, and every byte of the warm-up replies and of each run's last.\n"
	       "Then the sharing demonstration: a child's write to MAP_SHARED\n"
	       "memory is seen by its parent; to MAP_PRIVATE memory (or a global)\n"
	       "it is not: the child wrote its own copy-on-write copy.\n"
	       "\n"
	       "METHOD (all by default; unique prefixes match):\n");
	for (i = 0; i < IPC_NR_METHODS; i++)
		printf("  %-15s %s\n", ipc_methods[i].name, ipc_methods[i].what);
	printf("\n"
	       "Options:\n"
	       "  -s, --size BYTES  message size each way (64; 4K, 1M...); a signal\n"
	       "                    carries one union sigval, 8 bytes, whatever the size\n"
	       "  -c, --count N     round trips per run (2000; fewer above 64K: 125 at\n"
	       "                    1M, at least 20)\n"
	       "  -r, --runs N      timed runs (5), after one warm-up run\n"
	       "  -h, --help        this help\n"
	       "\n"
	       "A round trip is what 'perf bench sched pipe' calls one op: with\n"
	       "'pipe --size 4' both measure the same thing.\n");
	return EXIT_OK;
}

struct ipc_cli {
	unsigned long methods;	/* bit per enum ipc_method */
	struct ipc_params p;
};

static const struct ilt_opt ipc_opts[] = {
	{ "size", 's', true },
	{ "count", 'c', true },
	{ "runs", 'r', true },
	{ "help", 'h', false },
};

static int ipc_word(struct ipc_cli *cli, const char *w)
{
	const char *names[IPC_NR_METHODS];
	int i;

	for (i = 0; i < IPC_NR_METHODS; i++)
		names[i] = ipc_methods[i].name;
	return ilt_method_word("ipc", w, names, IPC_NR_METHODS, &cli->methods);
}

/* What the options say, before the defaults that depend on them. */
struct ipc_args {
	struct ipc_cli *cli;
	uint64_t size;
	long count, runs;
	bool count_given;
};

static int ipc_arg(void *ctx, int k, const char *val)
{
	struct ipc_args *a = ctx;
	int err;

	switch (k) {
	case ILT_WORD:
		return ipc_word(a->cli, val);
	case 0:
		err = opt_size("--size", val, &a->size);
		if (!err && (a->size < 1 || a->size > IPC_MAX_SIZE)) {
			p_err("--size: '%s' is out of range (1 to 64M)", val);
			err = EXIT_USAGE;
		}
		return err;
	case 1:
		a->count_given = true;
		return opt_count("--count", val, 1, IPC_MAX_COUNT, &a->count);
	default:
		return opt_count("--runs", val, 1, IPC_MAX_RUNS, &a->runs);
	}
}

/* 0: go on; -1: help shown; else an exit status. */
static int ipc_parse(int argc, char **argv, struct ipc_cli *cli)
{
	struct ipc_args a = {
		.cli = cli, .size = IPC_DEF_SIZE, .count = IPC_DEF_COUNT,
		.runs = IPC_DEF_RUNS,
	};
	int err;

	err = ilt_parse_args(argc, argv, ipc_opts, ARRAY_SIZE(ipc_opts),
			     ipc_help, ipc_arg, &a);
	if (err)
		return err;
	if (!cli->methods)
		cli->methods = (1ul << IPC_NR_METHODS) - 1;
	/* Large messages: fewer round trips by default, a few seconds in all */
	if (!a.count_given && a.size > IPC_BIG)
		a.count = a.size * 20 > IPC_DEF_COUNT * IPC_BIG ? 20 :
			  IPC_DEF_COUNT * IPC_BIG / a.size;
	cli->p.size = a.size;
	cli->p.count = a.count;
	cli->p.runs = a.runs;
	cli->p.warmup = 1;
	return 0;
}

static const struct table_col ipc_cols[] = {
	{ "method", TABLE_LEFT },
	{ "payload", TABLE_RIGHT },
	{ "rt_ns", TABLE_RIGHT },
	{ "min_ns", TABLE_RIGHT },
	{ "max_ns", TABLE_RIGHT },
	{ "spread_pct", TABLE_RIGHT },
	{ "MB_per_s", TABLE_RIGHT },
	{ "round_trips", TABLE_RIGHT },
	{ "verified", TABLE_RIGHT },
	{ "bad", TABLE_RIGHT },
	{ "error", TABLE_LEFT },
};

static void ipc_row(struct table *t, int m, const struct ipc_result *r)
{
	char why[96];

	table_row(t);
	table_str(t, ipc_methods[m].name);
	table_uint(t, r->payload);
	if (r->err) {
		table_null(t);
		table_null(t);
		table_null(t);
		table_null(t);
		table_null(t);
	} else {
		table_float(t, r->rt.median, 0);
		table_float(t, r->rt.min, 0);
		table_float(t, r->rt.max, 0);
		table_float(t, ilt_spread_pct(&r->rt), 1);
		table_float(t, ipc_bandwidth(r) / 1e6, 1);
	}
	table_uint(t, r->msgs);
	table_uint(t, r->verified);
	table_uint(t, r->bad);
	if (!r->err) {
		table_null(t);
		return;
	}
	snprintf(why, sizeof(why), "%s: %s", r->why ? r->why : "run",
		 strerror(r->err));
	table_str(t, why);
}

static void ipc_setup(const struct ipc_cli *cli)
{
	report_section("setup", "ipc: round trips parent -> child -> parent");
	report_uint("size", "message size", cli->p.size, "bytes");
	report_uint("count", "round trips per run", cli->p.count, NULL);
	report_uint("runs", "timed runs", cli->p.runs, NULL);
	report_uint("warmup", "warm-up runs", cli->p.warmup, NULL);
	report_str("clock", "clock", "%s", ILT_CLOCK_NAME);
	report_section_end();
}

static void ipc_sharing(void)
{
	struct ipc_visibility v;

	report_section("sharing", "sharing: a child writes 0xC0FFEE, then its parent reads");
	if (ipc_visibility(&v)) {
		report_unknown("error", "error", strerror(v.err));
		report_section_end();
		return;
	}
	report_str("map_shared", "MAP_SHARED page", "%#lx (%s)",
		   v.shared_seen, v.shared_seen == v.magic ?
		   "the child's write: one page, two mappings" : "NOT seen");
	report_str("map_private", "MAP_PRIVATE page", "%#lx (%s)",
		   v.private_seen, v.private_seen == v.magic ?
		   "seen?!" : "unchanged: the child wrote its own copy");
	report_str("global", "global variable", "%#lx (%s)", v.global_seen,
		   v.global_seen == v.magic ? "seen?!" :
		   "unchanged: .data is a private mapping too");
	report_bool("shared_seen", "parent sees MAP_SHARED write",
		    v.shared_seen == v.magic);
	report_bool("private_seen", "parent sees MAP_PRIVATE write",
		    v.private_seen == v.magic);
	report_section_end();
}

static int ipc_table(const struct ipc_cli *cli, int *failed)
{
	struct ipc_result *r = calloc(1, sizeof(*r));
	uint64_t done = 0, todo = 0;
	struct table *t;
	int m;

	if (!r)
		return EXIT_FAIL;
	for (m = 0; m < IPC_NR_METHODS; m++)
		todo += !!(cli->methods & (1ul << m));
	t = table_start("methods", ipc_cols, ARRAY_SIZE(ipc_cols));
	progress_start(todo, "ipc methods");
	for (m = 0; m < IPC_NR_METHODS && !exiting; m++) {
		if (!(cli->methods & (1ul << m)))
			continue;
		ipc_run(m, &cli->p, r);
		/* A datagram too large for its socket is a limit, not a failure */
		if (r->err && r->err != EMSGSIZE && !exiting)
			(*failed)++;
		if (!exiting)
			ipc_row(t, m, r);
		progress_update(++done);
	}
	progress_end();
	table_end(t);
	free(r);
	return 0;
}

static void ipc_notes(const struct ipc_cli *cli)
{
	report_note("rt_ns: median round trip (one request and its reply) over %d runs of %lu, %s; "
		    "MB_per_s = 2 x payload / rt_ns, in 10^6 bytes/s.",
		    cli->p.runs, cli->p.count, ILT_CLOCK_NAME);
	if (cli->methods & (1ul << IPC_SIGNAL))
		report_note("signal: sigqueue() carries one union sigval (an int or a pointer, 8 "
			    "bytes here) per signal; larger data needs many signals or another "
			    "channel. The signal is taken with sigtimedwait(), no handler.");
	if (cli->methods & ((1ul << IPC_SHM_SPIN) | (1ul << IPC_POSIX_SHM_SPIN)))
		report_note("*-spin: the waiting side polls the sequence word and calls "
			    "sched_yield() every 256 polls, since both sides may share one CPU; "
			    "the futex variants sleep in FUTEX_WAIT.");
	if (cli->methods & ((1ul << IPC_UNIX_DGRAM) | (1ul << IPC_UDP)))
		report_note("datagrams: a message is one datagram, so the size is limited (UDP: %u "
			    "bytes; AF_UNIX: the socket send buffer).",
			    IPC_UDP_MAX);
}

int do_ipc(int argc, char **argv)
{
	struct ipc_cli cli = { 0 };
	int err, failed = 0;

	err = ipc_parse(argc, argv, &cli);
	if (err)
		return err < 0 ? EXIT_OK : err;
	ilt_hooks_cowlab();
	ipc_setup(&cli);
	if (ipc_table(&cli, &failed))
		return EXIT_FAIL;
	if (!exiting)
		ipc_sharing();
	ipc_notes(&cli);
	if (exiting)
		return EXIT_INTR;
	return failed ? EXIT_FAIL : EXIT_OK;
}
