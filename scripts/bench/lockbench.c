// SPDX-License-Identifier: GPL-2.0
/*
 * lockbench: the cost of kernel lock contention, as the locks view sees it.
 *
 *   lockbench THREADS ROUNDS REPS
 *
 * THREADS threads of one process each map, touch and unmap 4 pages ROUNDS
 * times, so they keep contending on their process's mmap lock (the
 * workload of locks_test). Prints the median over REPS runs of nanoseconds
 * per map+touch+unmap (and the fastest and slowest run), CLOCK_MONOTONIC.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long page_size;
static int rounds;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *mapper(void *arg)
{
	int i;

	for (i = 0; i < rounds; i++) {
		char *p = mmap(NULL, 4 * page_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			exit(1);
		p[0] = 1;
		munmap(p, 4 * page_size);
	}
	return arg;
}

static double run(int threads)
{
	pthread_t t[64];
	double start = now_ns();
	int i;

	for (i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, mapper, NULL))
			exit(1);
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return (now_ns() - start) / ((double)threads * rounds);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int threads, reps, i;
	double *ns;

	threads = argc == 4 ? atoi(argv[1]) : 0;
	rounds = argc == 4 ? atoi(argv[2]) : 0;
	reps = argc == 4 ? atoi(argv[3]) : 0;
	if (threads < 1 || threads > 64 || rounds < 1 || reps < 1) {
		fprintf(stderr, "usage: lockbench THREADS(1-64) ROUNDS REPS\n");
		return 2;
	}
	page_size = sysconf(_SC_PAGESIZE);
	ns = calloc(reps, sizeof(*ns));
	if (!ns)
		return 1;
	for (i = 0; i < reps; i++)
		ns[i] = run(threads);
	qsort(ns, reps, sizeof(*ns), cmp);
	printf("%.1f %.1f %.1f\n", ns[reps / 2], ns[0], ns[reps - 1]);
	return 0;
}
