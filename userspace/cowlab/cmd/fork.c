// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab fork: copy-on-write after fork(), seen from /proc and from
 * cowtrace.ko. This file holds the command's options and help, and the
 * memory its commands map and write; the run is in fork_run.c (its page
 * tables in fork_pages.c), the sweep in fork_sweep.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmd/common.h"
#include "engine/fork.h"
#include "lib/cowlab.h"
#include "lib/parse.h"
#include "lib/report.h"

#define MAX_CHILDREN	4096

struct fork_env fenv = {
	.size = 256ULL << 20,
	.write_pct = 50,
	.children = 1,
	.runs = 5,
	.max_size = 4ULL << 30,
};

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
int fork_parse_opts(int argc, char **argv)
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

int fork_check_children(long n)
{
	long left = max_new_processes();

	if (n > left) {
		p_err("--children %ld: this user may create only %ld more processes now (RLIMIT_NPROC, threads-max)",
		      n, left);
		return EXIT_USAGE;
	}
	return check_fds(n);
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
