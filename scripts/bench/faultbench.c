// SPDX-License-Identifier: GPL-2.0
/*
 * faultbench: the cost of one page fault, by kind.
 *
 *   faultbench KIND PAGES REPS, KIND one of
 *     anon          fresh anonymous write faults
 *     cow           copy-on-write faults in the parent while a forked child
 *                   still shares the pages (each a copy)
 *     reuse         the parent's writes once that child has exited (each
 *                   page its own again but still write-protected: reused)
 *     file          read faults on a file's pages in the page cache, fault-
 *                   around off (MADV_RANDOM): one fault a page
 *     file-around   the same with fault-around: a fault maps up to 16 pages
 *     storm         4 threads each taking fresh anonymous faults at once:
 *                   wall time per fault of them all
 *
 * Prints the median over REPS runs of nanoseconds per fault (and the
 * fastest and slowest run): CLOCK_MONOTONIC time over the faults the kernel
 * counted (minor faults, getrusage()), so that a fault that maps several
 * pages (fault-around, a large folio) is one fault. THP off.
 */
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
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

/* This process's minor faults so far, all its threads. */
static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* ns per fault since @start, when there were @f0 faults. */
static double per_fault(double start, long f0)
{
	double ns = now_ns() - start;
	long n = minflt() - f0;

	return ns / (n > 0 ? n : 1);
}

static void write_all(char *p, size_t pages)
{
	size_t i;

	for (i = 0; i < pages; i++) {
		p[i * page_size] = 1;
		asm volatile("" ::: "memory");
	}
}

static double touch(char *p, size_t pages)
{
	long f0 = minflt();
	double start = now_ns();

	write_all(p, pages);
	return per_fault(start, f0);
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

static double read_all(const char *p, size_t pages)
{
	long f0 = minflt();
	double start = now_ns();
	size_t i;

	for (i = 0; i < pages; i++)
		asm volatile("" : : "r"(p[i * page_size]) : "memory");
	return per_fault(start, f0);
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

static double run_reuse(size_t pages)
{
	char *p = map_pages(pages);
	double ns;
	pid_t pid;

	if (!p)
		exit(1);
	touch(p, pages);
	pid = fork();
	if (pid < 0)
		exit(1);
	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
	ns = touch(p, pages);
	munmap(p, pages * page_size);
	return ns;
}

/* A memfd's pages in the page cache, read through a private mapping. */
static double run_file(size_t pages, int around)
{
	size_t len = pages * page_size;
	int fd = memfd_create("faultbench", MFD_CLOEXEC);
	char *p;
	double ns;

	if (fd < 0 || ftruncate(fd, len))
		exit(1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		exit(1);
	touch(p, pages);
	munmap(p, len);
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		exit(1);
	madvise(p, len, around ? MADV_NORMAL : MADV_RANDOM);
	ns = read_all(p, pages);
	munmap(p, len);
	close(fd);
	return ns;
}

#define STORM_THREADS	4

struct storm {
	pthread_barrier_t *ready, *go;
	char *p;
	size_t pages;
};

static void *storm_thread(void *arg)
{
	struct storm *s = arg;

	pthread_barrier_wait(s->ready);
	pthread_barrier_wait(s->go);
	write_all(s->p, s->pages);
	return NULL;
}

static double run_storm(size_t pages)
{
	struct storm s[STORM_THREADS];
	pthread_t t[STORM_THREADS];
	pthread_barrier_t ready, go;
	double start, ns;
	long f0;
	int i;

	pthread_barrier_init(&ready, NULL, STORM_THREADS + 1);
	pthread_barrier_init(&go, NULL, STORM_THREADS + 1);
	for (i = 0; i < STORM_THREADS; i++) {
		s[i] = (struct storm){ &ready, &go, map_pages(pages), pages };
		if (!s[i].p || pthread_create(&t[i], NULL, storm_thread, &s[i]))
			exit(1);
	}
	/* all at the start line, their stacks mapped: only their pages fault */
	pthread_barrier_wait(&ready);
	f0 = minflt();
	pthread_barrier_wait(&go);
	start = now_ns();
	for (i = 0; i < STORM_THREADS; i++)
		pthread_join(t[i], NULL);
	ns = per_fault(start, f0);
	for (i = 0; i < STORM_THREADS; i++)
		munmap(s[i].p, pages * page_size);
	pthread_barrier_destroy(&ready);
	pthread_barrier_destroy(&go);
	return ns;
}

static const char *const kinds[] = {
	"anon", "cow", "reuse", "file", "file-around", "storm",
};

static double run(int kind, size_t pages)
{
	switch (kind) {
	case 0: return run_anon(pages);
	case 1: return run_cow(pages);
	case 2: return run_reuse(pages);
	case 3: return run_file(pages, 0);
	case 4: return run_file(pages, 1);
	default: return run_storm(pages);
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int reps, i, kind = -1;
	size_t pages;
	double *ns;

	for (i = 0; argc == 4 && i < (int)(sizeof(kinds) / sizeof(*kinds)); i++)
		if (!strcmp(argv[1], kinds[i]))
			kind = i;
	if (kind < 0) {
		fprintf(stderr, "usage: faultbench KIND PAGES REPS, KIND one of\n"
			"anon cow reuse file file-around storm\n");
		return 2;
	}
	page_size = sysconf(_SC_PAGESIZE);
	pages = strtoul(argv[2], NULL, 10);
	reps = atoi(argv[3]);
	if (!pages || reps <= 0) {
		fprintf(stderr, "faultbench: PAGES and REPS must be positive\n");
		return 2;
	}
	ns = calloc(reps, sizeof(*ns));
	if (!ns)
		return 1;
	run(kind, pages);	/* warm-up */
	for (i = 0; i < reps; i++)
		ns[i] = run(kind, pages);
	qsort(ns, reps, sizeof(*ns), cmp);
	printf("%.1f %.1f %.1f\n", ns[reps / 2], ns[0], ns[reps - 1]);
	free(ns);
	return 0;
}
