// SPDX-License-Identifier: GPL-2.0
/*
 * faultbench: the cost of one page fault, in two flavours.
 *
 *   faultbench anon PAGES REPS   fresh anonymous write faults
 *   faultbench cow PAGES REPS    copy-on-write faults in the parent while a
 *                                forked child still shares the pages
 *
 * Prints the median over REPS runs of nanoseconds per fault (and the
 * fastest and slowest run), CLOCK_MONOTONIC. THP off, one fault per page.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static size_t page_size;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static char *map_pages(size_t pages)
{
	char *p = mmap(NULL, pages * page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, pages * page_size, MADV_NOHUGEPAGE);
	return p;
}

static double touch(char *p, size_t pages)
{
	double start = now_ns();
	size_t i;

	for (i = 0; i < pages; i++) {
		p[i * page_size] = 1;
		asm volatile("" ::: "memory");
	}
	return (now_ns() - start) / pages;
}

static double run_anon(size_t pages)
{
	char *p = map_pages(pages);
	double ns;

	if (!p)
		exit(1);
	ns = touch(p, pages);
	munmap(p, pages * page_size);
	return ns;
}

static double run_cow(size_t pages)
{
	char *p = map_pages(pages);
	int hold[2];
	double ns;
	pid_t pid;
	char c;

	if (!p || pipe(hold))
		exit(1);
	touch(p, pages);
	pid = fork();
	if (pid < 0)
		exit(1);
	if (!pid) {
		close(hold[1]);
		_exit(read(hold[0], &c, 1) < 0);
	}
	close(hold[0]);
	ns = touch(p, pages);
	close(hold[1]);
	waitpid(pid, NULL, 0);
	munmap(p, pages * page_size);
	return ns;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double *ns;
	size_t pages;
	int reps, i, cow;

	if (argc != 4 || (strcmp(argv[1], "anon") && strcmp(argv[1], "cow"))) {
		fprintf(stderr, "usage: faultbench anon|cow PAGES REPS\n");
		return 2;
	}
	page_size = sysconf(_SC_PAGESIZE);
	cow = !strcmp(argv[1], "cow");
	pages = strtoul(argv[2], NULL, 10);
	reps = atoi(argv[3]);
	if (!pages || reps <= 0) {
		fprintf(stderr, "faultbench: PAGES and REPS must be positive\n");
		return 2;
	}
	ns = calloc(reps, sizeof(*ns));
	if (!ns)
		return 1;
	cow ? run_cow(pages) : run_anon(pages);	/* warm-up */
	for (i = 0; i < reps; i++)
		ns[i] = cow ? run_cow(pages) : run_anon(pages);
	qsort(ns, reps, sizeof(*ns), cmp);
	printf("%.1f %.1f %.1f\n", ns[reps / 2], ns[0], ns[reps - 1]);
	free(ns);
	return 0;
}
