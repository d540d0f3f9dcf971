// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab pages PID ADDR [N]: a task's page tables, one row per virtual
 * page, from cowtrace.ko's pages view, or from /proc without it (fewer
 * columns, and the note says which and why).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/common.h"
#include "lib/cowlab.h"
#include "lib/json_writer.h"
#include "lib/pagetable.h"
#include "lib/parse.h"
#include "lib/report.h"

#define PAGES_DEFAULT	16
#define PAGES_MAX	4096

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (json_wtr) {
		report_str("help", NULL, "cowlab pages PID ADDR [N]");
		return EXIT_OK;
	}
	printf("Usage: cowlab pages PID ADDR [N]\n"
	       "\n"
	       "The page tables of task PID: N pages (16 by default, at most\n"
	       "4096) from the page holding ADDR (0x... hex, or decimal), one\n"
	       "row per virtual page: whether an entry maps it (present, none,\n"
	       "swap, migration...; unmapped: no mapping there), at which level\n"
	       "(pte, or pmd for a huge page), the pfn, the entry's write, dirty\n"
	       "and young bits, and for the page: anonymous, file, zero or KSM,\n"
	       "its folio's order, whether it is anon-exclusive (only this\n"
	       "process may write it without a copy), its mapcount and refcount.\n"
	       "\n"
	       "With cowtrace.ko loaded (as root) every column is shown. Without\n"
	       "it, /proc/PID/pagemap shows present, swap and soft-dirty; as\n"
	       "root also the pfn, and /proc/kpagecount and /proc/kpageflags the\n"
	       "mapcount and the page's kind; the other columns are '-' (null in\n"
	       "JSON) and a note says why.\n"
	       "\n"
	       "Options:\n"
	       "  -h, --help   this help\n");
	return EXIT_OK;
}

static int parse_args(int argc, char **argv, pid_t *pid, uint64_t *addr,
		      long *n)
{
	unsigned long long a;
	long p;
	char *end;

	if (argc < 2 || argc > 3) {
		p_err("pages: expected PID ADDR [N] (see 'cowlab pages help')");
		return EXIT_USAGE;
	}
	if (parse_count(argv[0], 1, 4194304, &p)) {
		p_err("pages: PID '%s' is not a process id", argv[0]);
		return EXIT_USAGE;
	}
	errno = 0;
	a = strtoull(argv[1], &end, 0);
	if (errno || end == argv[1] || *end || argv[1][0] == '-') {
		p_err("pages: ADDR '%s' is not an address (0x... or decimal)",
		      argv[1]);
		return EXIT_USAGE;
	}
	*n = PAGES_DEFAULT;
	if (argc == 3 && parse_count(argv[2], 1, PAGES_MAX, n)) {
		p_err("pages: N '%s' is not a count from 1 to %d", argv[2],
		      PAGES_MAX);
		return EXIT_USAGE;
	}
	*pid = p;
	*addr = a & ~((uint64_t)sysconf(_SC_PAGESIZE) - 1);
	return 0;
}

int do_pages(int argc, char **argv)
{
	struct pt_page *rows;
	struct pt_view v;
	uint64_t addr;
	pid_t pid;
	long n;
	int err;

	if (wants_help(argc, argv) || (argc == 1 && !strcmp(argv[0], "help")))
		return do_help(argc, argv);
	err = parse_args(argc, argv, &pid, &addr, &n);
	if (err)
		return err;
	rows = calloc(n, sizeof(*rows));
	if (!rows) {
		p_err("out of memory");
		return EXIT_FAIL;
	}
	err = pt_read(pid, addr, n, rows, &v);
	if (err) {
		pages_error(pid, err, &v);
		free(rows);
		return EXIT_FAIL;
	}
	report_section("pages", NULL);
	report_int("pid", "pid", pid, NULL);
	report_str("address", "from", "0x%" PRIx64, addr);
	report_int("count", "pages", n, NULL);
	report_str("source", "read from", "%s", v.source);
	if (v.missing[0])
		report_str("missing", "missing", "%s", v.missing);
	else if (json_wtr)
		jsonw_null_field(json_wtr, "missing");
	if (!json_wtr)
		putchar('\n');
	pages_table("rows", rows, n);
	report_section_end();
	free(rows);
	return EXIT_OK;
}
