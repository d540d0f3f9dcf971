// SPDX-License-Identifier: GPL-2.0
/*
 * A static workload program (no dynamic loader runs between its exec and
 * main()), in two modes:
 *
 *   fault_exec_helper N
 *	exec'd by fault_test: measures its own row around touching N fresh
 *	anonymous pages and prints "<fault_anon> <cow_copy> <execs> <pid>" of
 *	the difference.
 *   fault_exec_helper xcheck N
 *	for bpftrace_test.sh: writes N pages, then forks three children one
 *	after the other, which write N/2 of them, read all of them, and write
 *	N fresh pages of their own; prints the children's pids. Their whole
 *	lives run under this program's name, for bpftrace to follow.
 *   fault_exec_helper cowloop N
 *	for attach.sh: writes N pages, then until it is killed forks a child
 *	that exits at once and writes the N pages again. Once its first round is
 *	done (every page it touches is mapped), it prints "ready" and takes
 *	write-protect faults only: copies while a child shares its pages,
 *	reuses once it is gone.
 */
#include <stdbool.h>
#include <stdio.h>
#include <sys/wait.h>

#include "workload.h"

static pid_t xcheck_child(char *shared, size_t pages, int mode)
{
	pid_t pid = fork();
	char *own;

	if (pid)
		return pid;
	if (mode == 0) {
		write_pages(shared, pages / 2);
	} else if (mode == 1) {
		read_pages(shared, pages);
	} else {
		own = map_anon(pages);
		if (!own)
			_exit(1);
		write_pages(own, pages);
	}
	_exit(0);
}

static int xcheck(size_t pages)
{
	char *p = map_anon(pages);
	pid_t pids[3];
	int mode;

	if (!p)
		return 3;
	write_pages(p, pages);
	for (mode = 0; mode < 3; mode++) {
		pids[mode] = xcheck_child(p, pages, mode);
		if (pids[mode] < 0 || waitpid(pids[mode], NULL, 0) < 0)
			return 4;
	}
	printf("%d %d %d\n", pids[0], pids[1], pids[2]);
	return 0;
}

static int cowloop(size_t pages)
{
	char *p = map_anon(pages);
	bool ready = false;
	pid_t pid;

	if (!p)
		return 3;
	write_pages(p, pages);
	for (;;) {
		pid = fork();
		if (pid < 0)
			return 4;
		if (!pid)
			_exit(0);
		write_pages(p, pages);
		if (waitpid(pid, NULL, 0) != pid)
			return 4;
		if (!ready) {
			printf("ready\n");
			fflush(stdout);
			ready = true;
		}
	}
}

/* Global: the compiler cannot know it still holds cowloop when called. */
int (*cowloop_fn)(size_t pages) = cowloop;

int main(int argc, char **argv)
{
	struct measure m;
	struct ct_row d;
	size_t pages;
	char *p;

	page_size = sysconf(_SC_PAGESIZE);
	if (argc == 3 && !strcmp(argv[1], "xcheck"))
		return xcheck(strtoul(argv[2], NULL, 10));
	/* Called through a pointer: never inlined into main, so that cowlab
	 * copies attach finds its copies in a function named cowloop.
	 */
	if (argc == 3 && !strcmp(argv[1], "cowloop"))
		return cowloop_fn(strtoul(argv[2], NULL, 10));
	if (argc != 2)
		return 2;
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
