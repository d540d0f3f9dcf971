// SPDX-License-Identifier: GPL-2.0
/*
 * faultbench: the cost of one page fault, by kind.
 *
 *   faultbench [-m] KIND PAGES REPS, KIND one of
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
 *
 * With -m it marks each run's faults for the guest-instruction counter
 * (scripts/bench/insncount.c, a QEMU plugin) and prints one line a run,
 * "faults N", the faults the kernel counted between the marks. Kind calib
 * then checks the counter: a loop of PAGES turns, "expect N" instructions
 * between its marks, exactly.
 */
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static size_t page_size;
/* -m: the runs' faults, for the counter; the warm-up is not marked. */
static int marking;
static long window_faults;

/* nopl disp32(%rax), bytes 0f 1f 80 OP 00 74 63: insncount's marks. */
#define MARK_START	"0x00"
#define MARK_STOP	"0x01"
#define MARK(op)	".byte 0x0f, 0x1f, 0x80, " op ", 0x00, 0x74, 0x63\n\t"

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

/* What is measured: the time and the faults between open and close. */
struct window {
	double start;
	long f0;
};

static void window_open(struct window *w)
{
	w->f0 = minflt();
	w->start = now_ns();
	if (marking)
		asm volatile(MARK(MARK_START) ::: "memory");
}

/* ns per fault since the window opened. */
static double window_close(const struct window *w)
{
	double ns;
	long n;

	if (marking)
		asm volatile(MARK(MARK_STOP) ::: "memory");
	ns = now_ns() - w->start;
	n = minflt() - w->f0;
	window_faults = n;
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
	struct window w;

	window_open(&w);
	write_all(p, pages);
	return window_close(&w);
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
	struct window w;
	size_t i;

	window_open(&w);
	for (i = 0; i < pages; i++)
		asm volatile("" : : "r"(p[i * page_size]) : "memory");
	return window_close(&w);
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
	write_all(p, pages);
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
	write_all(p, pages);
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
	write_all(p, pages);
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
	struct window w;
	double ns;
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
	window_open(&w);
	pthread_barrier_wait(&go);
	for (i = 0; i < STORM_THREADS; i++)
		pthread_join(t[i], NULL);
	ns = window_close(&w);
	for (i = 0; i < STORM_THREADS; i++)
		munmap(s[i].p, pages * page_size);
	pthread_barrier_destroy(&ready);
	pthread_barrier_destroy(&go);
	return ns;
}

/*
 * @turns of a two-instruction loop between two marks: the counter must see
 * the start mark and 2 * @turns instructions, no more, no less.
 */
static double run_calib(size_t turns)
{
	unsigned long n = turns;

	if (!marking)
		return 0;
	asm volatile(MARK(MARK_START)
		     "1: dec %0\n\t"
		     "jnz 1b\n\t"
		     MARK(MARK_STOP)
		     : "+r"(n) : : "memory", "cc");
	window_faults = 2 * turns + 1;
	return 0;
}

static const char *const kinds[] = {
	"anon", "cow", "reuse", "file", "file-around", "storm", "calib",
};

static double run(int kind, size_t pages)
{
	switch (kind) {
	case 0: return run_anon(pages);
	case 1: return run_cow(pages);
	case 2: return run_reuse(pages);
	case 3: return run_file(pages, 0);
	case 4: return run_file(pages, 1);
	case 5: return run_storm(pages);
	default: return run_calib(pages);
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int reps, i, marked, kind = -1;
	bool calib;
	size_t pages;
	double *ns;

	if (argc > 1 && !strcmp(argv[1], "-m")) {
		marking = 1;
		argv++;
		argc--;
	}
	for (i = 0; argc == 4 && i < (int)(sizeof(kinds) / sizeof(*kinds)); i++)
		if (!strcmp(argv[1], kinds[i]))
			kind = i;
	calib = kind >= 0 && !strcmp(kinds[kind], "calib");
	if (kind < 0 || (calib && !marking)) {
		fprintf(stderr, "usage: faultbench [-m] KIND PAGES REPS, KIND one of\n"
			"anon cow reuse file file-around storm (and with -m, calib)\n");
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
	/* The warm-up is never marked. */
	marked = marking;
	marking = 0;
	run(kind, pages);
	marking = marked;
	for (i = 0; i < reps; i++) {
		ns[i] = run(kind, pages);
		if (marking)
			printf("%s %ld\n", calib ? "expect" : "faults",
			       window_faults);
	}
	if (marking) {
		free(ns);
		return 0;
	}
	qsort(ns, reps, sizeof(*ns), cmp);
	printf("%.1f %.1f %.1f\n", ns[reps / 2], ns[0], ns[reps - 1]);
	free(ns);
	return 0;
}
