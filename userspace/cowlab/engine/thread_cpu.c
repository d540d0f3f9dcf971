// SPDX-License-Identifier: GPL-2.0
/*
 * The thread engine's CPU experiments: the same CPU-bound work in each
 * model, once alone and once per CPU (the speedup), and one CPU shared by
 * two processes, one of them with two threads (the scheduler's share).
 * Both run in a subprocess (thread_in_child()), so that cowlab itself is
 * never pinned.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "engine/thread.h"
#include "uthread.h"

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ----------------------------------------------------------- speedup */

static volatile double work_sink;

/* CPU-bound work that touches no shared memory. */
static void work(long n)
{
	double x = 1.0;
	long i;

	for (i = 0; i < n; i++)
		x = x * 1.0000001 + 0.0000001;
	work_sink = x;
}

struct speed_arg {
	long n;
	int units;
};

static void *work_thread(void *arg)
{
	work(((struct speed_arg *)arg)->n);
	return NULL;
}

static double run_processes(struct speed_arg *a)
{
	uint64_t t0 = ilt_now_ns();
	pid_t pid[256];
	int i;

	for (i = 0; i < a->units; i++) {
		pid[i] = ilt_fork();
		if (pid[i] == 0) {
			work(a->n);
			_exit(0);
		}
	}
	for (i = 0; i < a->units; i++)
		if (pid[i] > 0)
			ilt_wait(pid[i], NULL);
	return (double)(ilt_now_ns() - t0);
}

static double run_kthreads(struct speed_arg *a)
{
	uint64_t t0 = ilt_now_ns();
	pthread_t t[256];
	int i;

	for (i = 0; i < a->units; i++)
		pthread_create(&t[i], NULL, work_thread, a);
	for (i = 0; i < a->units; i++)
		pthread_join(t[i], NULL);
	return (double)(ilt_now_ns() - t0);
}

static void *uthreads_work_main(void *arg)
{
	struct speed_arg *a = arg;
	uthread_t t[256];
	int i;

	for (i = 0; i < a->units; i++)
		uthread_create(&t[i], 0, work_thread, a);
	for (i = 0; i < a->units; i++)
		uthread_join(t[i], NULL);
	return NULL;
}

static double run_uthreads(struct speed_arg *a)
{
	uint64_t t0 = ilt_now_ns();

	uthread_run(uthreads_work_main, a, NULL);
	return (double)(ilt_now_ns() - t0);
}

/* Enough iterations for about @ns of work on this machine. */
static long calibrate(double ns)
{
	long n = 1000000;
	uint64_t t0 = ilt_now_ns();
	double took;

	work(n);
	took = (double)(ilt_now_ns() - t0);
	return took > 0 ? (long)(n * ns / took) + 1 : n;
}

/* CPU time used so far by this process, or by its reaped children. */
static double cpu_used_ns(bool children)
{
	struct rusage ru;

	getrusage(children ? RUSAGE_CHILDREN : RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

static double one_unit(struct speed_arg *a)
{
	uint64_t t0 = ilt_now_ns();

	work(a->n);
	return (double)(ilt_now_ns() - t0);
}

/*
 * One round: the unit alone, then @units of them in model @m.  The lone
 * run is repeated every round so that a load change on the machine hits
 * both sides of the ratio alike.
 */
static void speed_round(struct speed_arg *a, int m, double *one,
			double *all, double *cpus)
{
	double c0;

	*one = one_unit(a);
	c0 = cpu_used_ns(m == TM_PROCESS);
	if (m == TM_PROCESS)
		*all = run_processes(a);
	else if (m == TM_KTHREAD)
		*all = run_kthreads(a);
	else
		*all = run_uthreads(a);
	*cpus = (cpu_used_ns(m == TM_PROCESS) - c0) / *all;
}

int thread_speedup(struct thread_speedup *r)
{
	double one[3], all[3], cpus[3], ratio[3];
	struct speed_arg a;
	struct ilt_series s;
	int m, i;

	memset(r, 0, sizeof(*r));
	a.n = calibrate(50e6);
	a.units = ilt_ncpus();
	if (a.units > 256)
		a.units = 256;
	r->units = a.units;
	for (m = 0; m < TM_NR; m++) {
		for (i = 0; i < 3; i++) {
			speed_round(&a, m, &one[i], &all[i], &cpus[i]);
			ratio[i] = a.units * one[i] / all[i];
			if (ilt_stopping())
				return -EINTR;
		}
		ilt_series_of(&s, one, 3);
		r->one_ns = m ? r->one_ns : s.median;
		ilt_series_of(&s, all, 3);
		r->all_ns[m] = s.median;
		ilt_series_of(&s, ratio, 3);
		r->speedup[m] = s.median;
		ilt_series_of(&s, cpus, 3);
		r->cpus[m] = s.median;
	}
	return 0;
}

/* --------------------------------------------------------- CPU share */

struct share_shared {
	_Atomic int go;
	uint64_t deadline;
	double a_ns[2];
	double b_ns;
};

/* Burn CPU until the deadline; the CPU time this thread got meanwhile. */
static double spin_until(uint64_t deadline)
{
	uint64_t c0 = thread_cpu_ns();

	while (ilt_now_ns() < deadline)
		work(1000);
	return (double)(thread_cpu_ns() - c0);
}

struct spinner {
	struct share_shared *sh;
	int idx;
};

static void *kspinner(void *arg)
{
	struct spinner *s = arg;

	while (!atomic_load(&s->sh->go))
		sched_yield();
	s->sh->a_ns[s->idx] = spin_until(s->sh->deadline);
	return NULL;
}

static void *uspinner(void *arg)
{
	struct spinner *s = arg;
	double acc = 0;
	uint64_t c0;

	while (!atomic_load(&s->sh->go))
		uthread_yield();
	/* Count only the slices this user thread ran in */
	while (ilt_now_ns() < s->sh->deadline) {
		c0 = thread_cpu_ns();
		work(20000);
		acc += (double)(thread_cpu_ns() - c0);
		uthread_yield();
	}
	s->sh->a_ns[s->idx] = acc;
	return NULL;
}

static void *uspinners_main(void *arg)
{
	struct spinner *s = arg;
	uthread_t t[2];
	int i;

	for (i = 0; i < 2; i++)
		uthread_create(&t[i], 0, uspinner, &s[i]);
	for (i = 0; i < 2; i++)
		uthread_join(t[i], NULL);
	return NULL;
}

static int share_a(bool user, struct share_shared *sh)
{
	struct spinner s[2] = { { sh, 0 }, { sh, 1 } };
	pthread_t t[2];
	int i;

	if (user)
		return uthread_run(uspinners_main, s, NULL) ? 1 : 0;
	for (i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, kspinner, &s[i]))
			return 1;
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return 0;
}

int thread_sched_share(bool user, double wall_ns, struct thread_share *r)
{
	struct share_shared *sh = thread_shared_page();
	pid_t a, b;
	int st_a = -1, st_b = -1, cpu = ilt_first_cpu();

	memset(r, 0, sizeof(*r));
	r->user = user;
	r->cpu = cpu;
	r->wall_ns = wall_ns;
	if (!sh)
		return -ENOMEM;
	a = ilt_fork();
	if (a == 0)
		_exit(ilt_pin(cpu) ? 2 : share_a(user, sh));
	b = a < 0 ? -1 : ilt_fork();
	if (b == 0) {
		if (ilt_pin(cpu))
			_exit(2);
		while (!atomic_load(&sh->go))
			sched_yield();
		sh->b_ns = spin_until(sh->deadline);
		_exit(0);
	}
	/* Let both settle on the CPU before the clock starts */
	usleep(20000);
	sh->deadline = ilt_now_ns() + (uint64_t)wall_ns;
	atomic_store(&sh->go, 1);
	if (a > 0)
		ilt_wait(a, &st_a);
	if (b > 0)
		ilt_wait(b, &st_b);
	r->a_ns[0] = sh->a_ns[0];
	r->a_ns[1] = sh->a_ns[1];
	r->b_ns = sh->b_ns;
	munmap(sh, THREAD_SHARED_LEN);
	return thread_exited_ok(st_a) && thread_exited_ok(st_b) ? 0 : -EPROTO;
}
