// SPDX-License-Identifier: GPL-2.0
/*
 * libuthread benchmark: one run, one table.
 *
 * Switch cost: ping-pong between two contexts, reported per switch (one
 * round trip is two switches), for a bare register-save switch written
 * here, libuthread's yield, swapcontext() and two kernel threads waking
 * each other with futexes.  Create+join: libuthread (stacks come from the
 * pool after the first pair) and pthreads.  Memory: RSS per idle user
 * thread at 100k threads, and a one-million-thread run.
 *
 * Every timing reads CLOCK_MONOTONIC (clock_gettime() through the vDSO,
 * no system call).  The machine this runs on is small and shared, so the
 * timing benchmarks run in ROUNDS interleaved rounds, each round one run
 * of every benchmark in turn, after one warm-up round: a burst of other
 * load then slows one round of every row instead of all runs of one row.
 * Each figure is the median over the rounds, with the min and max beside
 * it.  Create+join is timed in batches, see bench_uthread_cj().
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "uthread.h"
#include "sys.h"

#define ROUNDS		15
/* create+join: batches per round and pairs per batch */
#define CJ_BATCHES	10
#define CJ_PAIRS	10000

struct stat3 {
	double med, min, max;
};

struct bench {
	double (*fn)(long n);
	long n;
	double v[ROUNDS];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @v in place */
static struct stat3 stats(double *v, int n)
{
	struct stat3 s;

	qsort(v, n, sizeof(v[0]), cmp_double);
	s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.min = v[0];
	s.max = v[n - 1];
	return s;
}

/* A warm-up round with a quarter of the work: faults, caches, pools */
static void warm_up(struct bench *b, int nb)
{
	int i;

	for (i = 0; i < nb; i++)
		b[i].fn(b[i].n / 4 ? b[i].n / 4 : 1);
}

/* ROUNDS rounds of every benchmark in turn; fn returns ns per operation */
static void run_rounds(struct bench *b, int nb)
{
	int r, i;

	for (r = 0; r < ROUNDS; r++)
		for (i = 0; i < nb; i++)
			b[i].v[r] = b[i].fn(b[i].n);
}

/* ------------------------------------------------ bare register switch */

/*
 * The floor: save the six callee-saved registers by pushing them, swap
 * stack pointers, pop, ret.  No MXCSR/x87 CW, no scheduler.
 */
void bare_switch(void **save_sp, void *load_sp);
__asm__(".text\n"
	".globl bare_switch\n"
	".type bare_switch, @function\n"
	"bare_switch:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size bare_switch, . - bare_switch\n");

static void *bare_sp[2];
static long bare_n;

/*
 * Both sides switch from this same call site, as two user threads that
 * both yield do, so every ret is predicted: the fairest floor.
 */
static void __attribute__((noinline)) bare_loop(int me)
{
	long i;

	for (i = 0; i < bare_n; i++)
		bare_switch(&bare_sp[me], bare_sp[!me]);
}

static void bare_co(void)
{
	bare_loop(1);
	/* the main side has stopped switching: go back for good */
	for (;;)
		bare_switch(&bare_sp[1], bare_sp[0]);
}

static double bench_bare(long n)
{
	static char stack[65536] __attribute__((aligned(16)));
	uint64_t *sp = (uint64_t *)(stack + sizeof(stack) - 1024);
	uint64_t t0;

	/* ret pops bare_co with (rsp + 8) % 16 == 0 afterwards */
	*--sp = 0;
	*--sp = (uintptr_t)bare_co;
	sp -= 6;
	memset(sp, 0, 6 * sizeof(*sp));
	bare_sp[1] = sp;
	bare_n = n;
	t0 = now_ns();
	bare_loop(0);
	return (double)(now_ns() - t0) / (2.0 * n);
}

/* ------------------------------------------------ libuthread yield */

struct pp {
	long n;
	uint64_t t0, t1;
};

static void *pp_thread(void *arg)
{
	struct pp *p = arg;
	long i;

	for (i = 0; i < p->n; i++)
		uthread_yield();
	return NULL;
}

static void *pp_main(void *arg)
{
	struct pp *p = arg;
	uthread_t a, b;

	uthread_create(&a, 0, pp_thread, p);
	uthread_create(&b, 0, pp_thread, p);
	p->t0 = now_ns();
	uthread_join(a, NULL);
	uthread_join(b, NULL);
	p->t1 = now_ns();
	return NULL;
}

static double bench_uthread_yield(long n)
{
	struct pp p = { .n = n };

	if (uthread_run(pp_main, &p, NULL))
		return -1;
	/* 2n yields, each one switch; plus a handful for start and join */
	return (double)(p.t1 - p.t0) / (2.0 * n);
}

/* ------------------------------------------------ swapcontext */

static ucontext_t uc_main, uc_co;

static void uc_co_fn(void)
{
	for (;;)
		swapcontext(&uc_co, &uc_main);
}

static double bench_swapcontext(long n)
{
	static char stack[65536];
	uint64_t t0;
	long i;

	getcontext(&uc_co);
	uc_co.uc_stack.ss_sp = stack;
	uc_co.uc_stack.ss_size = sizeof(stack);
	uc_co.uc_link = NULL;
	makecontext(&uc_co, uc_co_fn, 0);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		swapcontext(&uc_main, &uc_co);
	return (double)(now_ns() - t0) / (2.0 * n);
}

/* ------------------------------------------------ pthread futex */

static atomic_int turn;
static long futex_n;
static int futex_pin = -1;

static void futex_wait(atomic_int *w, int val)
{
	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(atomic_int *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Player @me waits for turn == me, then hands the turn over. */
static void *futex_player(void *arg)
{
	int me = (int)(intptr_t)arg;
	long i;

	pin(futex_pin);
	for (i = 0; i < futex_n; i++) {
		while (atomic_load(&turn) != me)
			futex_wait(&turn, !me);
		atomic_store(&turn, !me);
		futex_wake(&turn);
	}
	return NULL;
}

static double bench_futex(long n)
{
	pthread_t a, b;
	uint64_t t0;

	futex_n = n;
	atomic_store(&turn, 0);
	t0 = now_ns();
	pthread_create(&a, NULL, futex_player, (void *)0);
	pthread_create(&b, NULL, futex_player, (void *)1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return (double)(now_ns() - t0) / (2.0 * n);
}

static double bench_futex_same_cpu(long n)
{
	futex_pin = 0;
	return bench_futex(n);
}

static double bench_futex_any_cpu(long n)
{
	futex_pin = -1;
	return bench_futex(n);
}

/* ------------------------------------------------ create + join */

static void *nothing(void *arg)
{
	return arg;
}

/* ns per pair of every timed batch, all rounds */
static double cj_batch[ROUNDS * CJ_BATCHES];
static int cj_nbatch;

struct cj {
	long pairs;
	uint64_t ns[CJ_BATCHES];
};

/*
 * Integers only in here, so that the figure is create+join alone: the
 * switch ignores MXCSR's status flags, but a floating-point operation
 * could still change what this thread's loop costs.
 */
static void *cj_main(void *arg)
{
	struct cj *c = arg;
	uthread_t t;
	uint64_t t0;
	long i;
	int b;

	/* The first pair maps the stack that the pool then recycles */
	uthread_create(&t, 0, nothing, NULL);
	uthread_join(t, NULL);
	for (b = 0; b < CJ_BATCHES; b++) {
		t0 = now_ns();
		for (i = 0; i < c->pairs; i++) {
			uthread_create(&t, 0, nothing, NULL);
			uthread_join(t, NULL);
		}
		c->ns[b] = now_ns() - t0;
	}
	return NULL;
}

/*
 * @n pairs in CJ_BATCHES timed batches; every batch's figure is kept for
 * the verdict (main() drops those of the warm-up round).  A batch of
 * 10000 pairs takes well under a millisecond, less than a scheduler tick,
 * so most batches run without an interruption, and one that another
 * job's burst or an interrupt lands in shows up as a high outlier among
 * the 150 batches of the 15 rounds.  The median batch is
 * then one that ran undisturbed: it is what the verdict uses.  The
 * minimum is shown as the best case, the maximum as the worst.
 */
static double bench_uthread_cj(long n)
{
	struct cj c = { .pairs = n / CJ_BATCHES };
	double v[CJ_BATCHES];
	int b;

	if (uthread_run(cj_main, &c, NULL))
		return -1;
	for (b = 0; b < CJ_BATCHES; b++) {
		v[b] = (double)c.ns[b] / c.pairs;
		if (cj_nbatch < ROUNDS * CJ_BATCHES)
			cj_batch[cj_nbatch++] = v[b];
	}
	return stats(v, CJ_BATCHES).med;
}

static double bench_pthread_cj(long n)
{
	pthread_t t;
	uint64_t t0 = now_ns();
	long i;

	for (i = 0; i < n; i++) {
		pthread_create(&t, NULL, nothing, NULL);
		pthread_join(t, NULL);
	}
	return (double)(now_ns() - t0) / n;
}

/* ------------------------------------------------ memory */

static long count_vmas(void)
{
	char line[512];
	long n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

struct idle {
	long n, made;
	uthread_sem_t *sem;
	long rss0, rss1, pte0, pte1, vma0, vma1;
	uint64_t t_create, t_block, t_join;
	int err;
};

static void *idle_thread(void *arg)
{
	uthread_sem_wait(arg);
	return NULL;
}

static void *idle_main(void *arg)
{
	struct idle *d = arg;
	uthread_t *t = calloc(d->n, sizeof(*t));
	uint64_t t0;
	long i;

	if (!t) {
		d->err = ENOMEM;
		return NULL;
	}
	d->rss0 = proc_kb("/proc/self/status", "VmRSS");
	d->pte0 = proc_kb("/proc/self/status", "VmPTE");
	d->vma0 = count_vmas();
	t0 = now_ns();
	for (i = 0; i < d->n; i++) {
		d->err = uthread_create(&t[i], 0, idle_thread, d->sem);
		if (d->err)
			break;
	}
	d->made = i;
	d->t_create = now_ns() - t0;
	t0 = now_ns();
	/* Every new thread runs up to its sem_wait and parks */
	uthread_yield();
	d->t_block = now_ns() - t0;
	d->rss1 = proc_kb("/proc/self/status", "VmRSS");
	d->pte1 = proc_kb("/proc/self/status", "VmPTE");
	d->vma1 = count_vmas();
	t0 = now_ns();
	for (i = 0; i < d->made; i++)
		uthread_sem_post(d->sem);
	for (i = 0; i < d->made; i++)
		uthread_join(t[i], NULL);
	d->t_join = now_ns() - t0;
	free(t);
	return NULL;
}

static int run_idle(struct idle *d)
{
	int err;

	if (uthread_sem_init(&d->sem, 0))
		return ENOMEM;
	err = uthread_run(idle_main, d, NULL);
	uthread_sem_destroy(d->sem);
	return err ? err : d->err;
}

static bool guard_regions_supported(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool ok;

	if (p == MAP_FAILED)
		return false;
	ok = !madvise(p, page, 102 /* MADV_GUARD_INSTALL */);
	munmap(p, page);
	return ok;
}

/*
 * Without guard regions (kernel < 6.13) every guarded stack is two VMAs:
 * make room for a million of them, if we may, and put the limit back.
 */
static const char *max_map_prepare(long threads)
{
	if (guard_regions_supported())
		return "guard pages via MADV_GUARD_INSTALL: no VMA split";
	switch (max_map_raise(2 * threads + 65536)) {
	case 0:
		return "guard pages via mprotect: max_map_count is large enough";
	case 1:
		return "guard pages via mprotect: max_map_count raised for this run";
	default:
		return "guard pages via mprotect: max_map_count too low (not root)";
	}
}

/* ------------------------------------------------ main */

static void row(const char *name, struct stat3 s, const char *unit)
{
	printf("  %-44s %10.1f  [%9.1f .. %9.1f] %s\n", name, s.med, s.min,
	       s.max, unit);
}

static void verdict(const char *what, double v, const char *target, bool ok)
{
	printf("  %-44s %10.1f  %-22s %s\n", what, v, target,
	       ok ? "MET" : "MISSED");
}

enum { B_BARE, B_YIELD, B_SWAPC, B_FUT1, B_FUT2, B_UCJ, B_PCJ, NBENCH };

static struct bench benches[NBENCH] = {
	[B_BARE] = { bench_bare, 5000000 },
	[B_YIELD] = { bench_uthread_yield, 5000000 },
	[B_SWAPC] = { bench_swapcontext, 200000 },
	[B_FUT1] = { bench_futex_same_cpu, 50000 },
	[B_FUT2] = { bench_futex_any_cpu, 20000 },
	[B_UCJ] = { bench_uthread_cj, CJ_BATCHES * CJ_PAIRS },
	[B_PCJ] = { bench_pthread_cj, 4000 },
};

static void print_header(void)
{
	struct timespec res;
	struct utsname u;

	uname(&u);
	clock_getres(CLOCK_MONOTONIC, &res);
	printf("libuthread benchmark: %ld CPUs, Linux %s %s\n",
	       sysconf(_SC_NPROCESSORS_ONLN), u.release, u.machine);
	printf("clock: CLOCK_MONOTONIC (vDSO clock_gettime, resolution %ld ns)\n",
	       res.tv_nsec);
	printf("each figure: median of %d interleaved rounds after 1 warm-up round, [min .. max]\n",
	       ROUNDS);
	printf("create+join: median of %d batches of %d pairs, %d per round\n\n",
	       ROUNDS * CJ_BATCHES, CJ_PAIRS, CJ_BATCHES);
}

int main(void)
{
	struct stat3 bare, yield, swapc, fut1, fut2, ucj, pcj;
	struct idle d100k = { .n = 100000 }, d1m = { .n = 1000000 };
	const char *mm;
	double per;
	int err;

	print_header();
	warm_up(benches, NBENCH);
	cj_nbatch = 0;
	run_rounds(benches, NBENCH);
	bare = stats(benches[B_BARE].v, ROUNDS);
	yield = stats(benches[B_YIELD].v, ROUNDS);
	swapc = stats(benches[B_SWAPC].v, ROUNDS);
	fut1 = stats(benches[B_FUT1].v, ROUNDS);
	fut2 = stats(benches[B_FUT2].v, ROUNDS);
	ucj = stats(cj_batch, cj_nbatch);
	pcj = stats(benches[B_PCJ].v, ROUNDS);

	printf("switch cost (ping-pong, per switch)\n");
	row("bare register-save switch (baseline)", bare, "ns");
	row("libuthread uthread_yield()", yield, "ns");
	row("swapcontext()", swapc, "ns");
	row("pthread futex ping-pong, both on CPU 0", fut1, "ns");
	row("pthread futex ping-pong, unpinned", fut2, "ns");
	printf("create + join (per pair)\n");
	row("libuthread, pooled stacks (per batch)", ucj, "ns");
	printf("  %-44s %10.1f  / %.1f ns\n", "median batch / minimum batch",
	       ucj.med, ucj.min);
	row("pthread_create + pthread_join", pcj, "ns");

	mm = max_map_prepare(d1m.n);
	err = run_idle(&d100k);
	printf("memory (idle threads parked on a semaphore; VmRSS, VmPTE, /proc/self/maps)\n");
	if (err) {
		printf("  100k idle threads: failed (%s) after %ld\n",
		       strerror(err), d100k.made);
	} else {
		per = (d100k.rss1 - d100k.rss0) * 1024.0 / d100k.made;
		printf("  %-44s %10.0f  bytes RSS (+%.0f bytes page tables)\n",
		       "per idle user thread at 100k threads", per,
		       (d100k.pte1 - d100k.pte0) * 1024.0 / d100k.made);
		printf("  %-44s %10ld  -> %ld (%s)\n", "VMAs before -> with 100k",
		       d100k.vma0, d100k.vma1, mm);
	}
	err = run_idle(&d1m);
	printf("one million concurrent user threads\n");
	if (err) {
		printf("  failed (%s) after %ld threads\n", strerror(err),
		       d1m.made);
	} else {
		printf("  %-44s %10ld  threads alive at once\n", "count",
		       d1m.made);
		printf("  %-44s %10.2f  s create, %.2f s first run, %.2f s wake+join\n",
		       "time", d1m.t_create / 1e9, d1m.t_block / 1e9,
		       d1m.t_join / 1e9);
		printf("  %-44s %10.2f  GiB (%.0f bytes/thread), %ld VMAs\n",
		       "RSS added", (d1m.rss1 - d1m.rss0) / 1048576.0,
		       (d1m.rss1 - d1m.rss0) * 1024.0 / d1m.made, d1m.vma1);
	}

	printf("targets\n");
	verdict("switch / bare switch (x)", yield.med / bare.med, "<= 2x",
		yield.med <= 2 * bare.med);
	verdict("pthread same-CPU switch / libuthread (x)", fut1.med / yield.med,
		">= 100x", fut1.med >= 100 * yield.med);
	verdict("create+join, pooled (ns, median batch)", ucj.med, "< 100 ns",
		ucj.med < 100);
	verdict("one million concurrent threads", (double)d1m.made,
		"1000000", !err && d1m.made == 1000000);
	return 0;
}
