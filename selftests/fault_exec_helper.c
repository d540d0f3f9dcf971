// SPDX-License-Identifier: GPL-2.0
/*
 * Exec'd by fault_test: a static program that measures its own row around
 * touching N fresh anonymous pages and prints
 *	<fault_anon> <cow_copy> <execs> <pid>
 * of the difference, then exits. Static, so that no dynamic loader runs
 * between the exec and main().
 */
#include <stdio.h>

#include "workload.h"

int main(int argc, char **argv)
{
	struct measure m;
	struct ct_row d;
	size_t pages;
	char *p;

	if (argc != 2)
		return 2;
	page_size = sysconf(_SC_PAGESIZE);
	pages = strtoul(argv[1], NULL, 10);
	p = map_anon(pages);
	if (!p || measure_start(&m))
		return 3;
	write_pages(p, pages);
	if (measure_end(&m, &d))
		return 4;
	printf("%llu %llu %llu %d\n", d.c[COWTRACE_FAULT_ANON],
	       d.c[COWTRACE_COW_COPY], m.before.c[COWTRACE_EXECS], m.pid);
	return 0;
}
