// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab OBJECT [COMMAND] [OPTIONS]: workloads that show how Linux creates
 * processes and threads and shares memory between them, measured from
 * /proc and, when cowtrace.ko is loaded, from its per-task counters.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../module/uapi/cowtrace.h"
#include "cmd/common.h"
#include "engine/exec.h"
#include "lib/cowlab.h"
#include "lib/json_writer.h"
#include "lib/measure.h"
#include "lib/report.h"

/* The hidden first argument exec re-executes cowlab with. */
#define EXEC_HELPER_ARG	"__exec-helper"

static char self_path[PATH_MAX];

const char *cowlab_self_path(void)
{
	return self_path;
}

static int do_help(int argc, char **argv);

static const struct cmd objects[] = {
	{ "fork", do_fork },
	{ "exec", do_exec },
	{ "clone", do_clone },
	{ "tasks", do_tasks },
	{ "processes", do_processes },
	{ "kthreads", do_kthreads },
	{ "locks", do_locks },
	{ "stats", do_stats },
	{ "ipc", do_ipc },
	{ "lock", do_lock },
	{ "thread", do_thread },
	{ "pages", do_pages },
	{ "copies", do_copies },
	{ "help", do_help },
	{ NULL, NULL }
};

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (json_wtr) {
		report_str("help", NULL, "cowlab OBJECT [COMMAND] [OPTIONS]");
		return EXIT_OK;
	}
	printf("Usage: cowlab [-j|-p] [-q] [-v] OBJECT [COMMAND] [OPTIONS]\n"
	       "       cowlab -V|--version\n"
	       "\n"
	       "Workloads that show how Linux creates processes and threads and\n"
	       "shares memory between them. What /proc tells is always shown;\n"
	       "with cowtrace.ko loaded, its per-task counters too.\n"
	       "\n"
	       "OBJECT:\n"
	       "  fork       copy-on-write after fork: memory, faults, latency\n"
	       "  exec       demand paging after execve, memory growth\n"
	       "  clone      clone() sharing flags, fork and threads compared\n"
	       "  tasks      the module's per-task counters\n"
	       "  processes  the same, per process\n"
	       "  kthreads   the kernel-thread tree\n"
	       "  locks      lock statistics\n"
	       "  stats      the module's tables and hooks\n"
	       "  pages      a task's page tables, page by page\n"
	       "  copies     where copy-on-write copies come from\n"
	       "  ipc, lock, thread\n"
	       "             IPC, locking and thread workloads\n"
	       "\n"
	       "Objects match by unique prefix; 'cowlab OBJECT help' for more.\n"
	       "\n"
	       "OPTIONS (anywhere on the line):\n"
	       "  -j, --json     one JSON document on stdout\n"
	       "  -p, --pretty   indented JSON (implies -j)\n"
	       "  -q, --quiet    no notes, progress or warnings\n"
	       "  -v, --verbose  details on stderr\n"
	       "  -h, --help     help, at every level\n"
	       "  -V, --version  cowlab's version\n"
	       "\n"
	       "Exit status: 0 done, 1 failed, 2 bad usage, 130 interrupted.\n"
	       "Times are read from " COWLAB_CLOCK_NAME ". SIGUSR1 prints the\n"
	       "progress of a long run on stderr.\n");
	return EXIT_OK;
}

/*
 * Take the global options out of argv wherever they are (before "--"),
 * so that "cowlab fork -j" works like "cowlab -j fork". The commands'
 * own options never use these letters.
 */

/* A long global option: true if it was one (and is taken). */
static bool global_long(const char *a, bool *version)
{
	if (!strcmp(a, "--json"))
		env.json = true;
	else if (!strcmp(a, "--pretty"))
		env.pretty = true;
	else if (!strcmp(a, "--quiet"))
		env.quiet = true;
	else if (!strcmp(a, "--verbose"))
		env.verbose = true;
	else if (!strcmp(a, "--version"))
		*version = true;
	else
		return false;
	return true;
}

/* A cluster of global flags, "-j" or "-jq": true if it was one. */
static bool global_short(const char *a, bool *version)
{
	if (a[0] != '-' || !a[1] || a[1] == '-' ||
	    strspn(a + 1, "jpqvV") != strlen(a + 1))
		return false;
	env.json |= !!strchr(a, 'j');
	env.pretty |= !!strchr(a, 'p');
	env.quiet |= !!strchr(a, 'q');
	env.verbose |= !!strchr(a, 'v');
	*version |= !!strchr(a, 'V');
	return true;
}

static int strip_global_opts(int argc, char **argv, bool *version)
{
	int i, n = 1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			/* the rest belongs to a program (exec --binary) */
			while (i < argc)
				argv[n++] = argv[i++];
			break;
		}
		if (!global_long(argv[i], version) &&
		    !global_short(argv[i], version))
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	env.json |= env.pretty;
	return n;
}

static void finish_at_exit(void)
{
	/* only if a command left through exit(): main() finishes otherwise */
	report_finish(EXIT_FAIL);
}

static int run(int argc, char **argv)
{
	if (argc < 1)
		return do_help(0, argv);
	if (wants_help(1, argv))
		return do_help(argc - 1, argv + 1);
	p_err("unknown option '%s' (try 'cowlab help')", argv[0]);
	return EXIT_USAGE;
}

/* Match the object by prefix, bpftool style: "cowlab f" is fork. */
static int select_object(int argc, char **argv)
{
	const struct cmd *match = NULL;
	int i;

	if (argc < 1 || argv[0][0] == '-')
		return run(argc, argv);
	for (i = 0; objects[i].name; i++) {
		if (!strcmp(argv[0], objects[i].name)) {
			match = &objects[i];
			break;
		}
		if (!is_prefix(argv[0], objects[i].name))
			continue;
		if (match) {
			p_err("'%s' is ambiguous: %s, %s...", argv[0],
			      match->name, objects[i].name);
			return EXIT_USAGE;
		}
		match = &objects[i];
	}
	if (!match) {
		p_err("unknown object '%s' (try 'cowlab help')", argv[0]);
		return EXIT_USAGE;
	}
	env.object = match->name;
	if (json_wtr)
		jsonw_string_field(json_wtr, "object", match->name);
	return match->fn(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	bool version = false;
	ssize_t n;
	int status;

	n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (n > 0)
		self_path[n] = '\0';
	if (argc > 1 && !strcmp(argv[1], EXEC_HELPER_ARG))
		return do_exec_helper(argc - 2, argv + 2);

	argc = strip_global_opts(argc, argv, &version);
	cowlab_signals_init();
	atexit(cleanup_run);
	if (version && !env.json) {
		printf("cowlab %s\n", COWTRACE_VERSION);
		return EXIT_OK;
	}
	if (env.json) {
		json_wtr = jsonw_new(stdout);
		if (!json_wtr) {
			p_err("out of memory");
			return EXIT_FAIL;
		}
		jsonw_pretty(json_wtr, env.pretty);
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "cowlab_version", COWTRACE_VERSION);
		jsonw_string_field(json_wtr, "clock", COWLAB_CLOCK_NAME);
		atexit(finish_at_exit);
	}
	/* -j promises one JSON document: the version is a member of it */
	if (version) {
		jsonw_string_field(json_wtr, "version", COWTRACE_VERSION);
		status = EXIT_OK;
	} else {
		status = select_object(argc - 1, argv + 1);
	}
	if (exiting && status == EXIT_OK)
		status = EXIT_INTR;
	if (env.json && !env.object)
		jsonw_null_field(json_wtr, "object");
	report_finish(status);
	fflush(stdout);
	return status;
}
