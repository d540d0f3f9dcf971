// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab thread engine.  Experiments that pin CPUs, crash or race run in a
 * forked subprocess and hand their numbers back through a MAP_SHARED page,
 * so that cowlab itself is never pinned, never crashes, and keeps one
 * thread.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/thread.h"
#include "uthread.h"

const char *const thread_model_names[TM_NR] = {
	[TM_PROCESS] = "process",
	[TM_KTHREAD] = "kernel-thread",
	[TM_UTHREAD] = "user-thread",
};

#define SHARED_LEN	65536

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void *shared_page(void)
{
	void *p = mmap(NULL, SHARED_LEN, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Run @fn(@arg, @shared) in a forked child and wait for it.  Returns the
 * wait status, or -1 if it could not fork.
 */
static int in_child(int (*fn)(void *arg, void *shared), void *arg,
		    void *shared)
{
	pid_t pid = ilt_fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg, shared));
	ilt_wait(pid, &st);
	return st;
}

static bool exited_ok(int st)
{
	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ------------------------------------------------------------ create */

struct create_arg {
	int count;
	int runs;
	double ns[THREAD_MAX_RUNS + 1];
	int err;
};

static void *noop(void *arg)
{
	return arg;
}

static double create_processes(int count)
{
	uint64_t t0 = ilt_now_ns();
	pid_t pid;
	int i;

	for (i = 0; i < count; i++) {
		/* Bare fork(): the child's only job is to exist and exit */
		pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			return -1;
	}
	return (double)(ilt_now_ns() - t0) / count;
}

static double create_kthreads(int count)
{
	uint64_t t0 = ilt_now_ns();
	pthread_t t;
	int i;

	for (i = 0; i < count; i++) {
		if (pthread_create(&t, NULL, noop, NULL))
			return -1;
		pthread_join(t, NULL);
	}
	return (double)(ilt_now_ns() - t0) / count;
}

static void *create_uthreads(void *arg)
{
	struct create_arg *a = arg;
	uthread_t t;
	uint64_t t0;
	int r, i;

	for (r = 0; r <= a->runs && !a->err; r++) {
		t0 = ilt_now_ns();
		for (i = 0; i < a->count && !a->err; i++) {
			a->err = uthread_create(&t, 0, noop, NULL);
			if (!a->err)
				a->err = uthread_join(t, NULL);
		}
		a->ns[r] = (double)(ilt_now_ns() - t0) / a->count;
	}
	return NULL;
}

int thread_create_cost(enum thread_model m, int count, int runs,
		       struct ilt_series *s)
{
	struct create_arg a = { .count = count, .runs = runs };
	int r, err;

	memset(s, 0, sizeof(*s));
	if (count < 1 || count > THREAD_MAX_COUNT || runs < 1 ||
	    runs > THREAD_MAX_RUNS)
		return -EINVAL;
	if (m == TM_UTHREAD) {
		err = uthread_run(create_uthreads, &a, NULL);
		if (err || a.err)
			return -(err ? err : a.err);
	} else {
		/* Run 0 is the warm-up */
		for (r = 0; r <= runs; r++) {
			a.ns[r] = m == TM_PROCESS ? create_processes(count) :
						    create_kthreads(count);
			if (a.ns[r] < 0)
				return errno ? -errno : -EAGAIN;
			if (ilt_stopping())
				return -EINTR;
		}
	}
	ilt_series_of(s, a.ns + 1, runs);
	return 0;
}

/* ------------------------------------------------------------ memory */

/* A "Key:   N kB" line of a /proc file, in bytes; 0 if absent. */
static double proc_kb(const char *path, const char *key)
{
	size_t klen = strlen(key);
	char line[256];
	double v = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtod(line + klen + 1, NULL) * 1024;
			break;
		}
	fclose(f);
	return v;
}

static double uss_of(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	return proc_kb(path, "Private_Clean") + proc_kb(path, "Private_Dirty");
}

/*
 * From the page tables (smaps_rollup), not VmRSS: before 6.2 a task's RSS
 * changes reach VmRSS only every 64 faults or so, which hides a few pages
 * per thread.
 */
static double self_rss(void)
{
	return proc_kb("/proc/self/smaps_rollup", "Rss");
}

static int memory_processes(int count, double *bytes)
{
	pid_t *pids = calloc(count, sizeof(*pids));
	int hold[2], ready[2], i, n = 0, err = 0;
	double sum = 0;
	char c;

	if (!pids || pipe2(hold, O_CLOEXEC) || pipe2(ready, O_CLOEXEC)) {
		free(pids);
		return -ENOMEM;
	}
	for (i = 0; i < count && !err; i++) {
		pids[i] = ilt_fork();
		if (pids[i] == 0) {
			/* Idle: block until the parent closes the pipe */
			close(hold[1]);
			close(ready[0]);
			if (write(ready[1], "r", 1) != 1 ||
			    read(hold[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
		if (pids[i] < 0)
			err = -errno;
		else
			n++;
	}
	close(ready[1]);
	for (i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			err = err ? err : -EIO;
	for (i = 0; i < n && !err; i++)
		sum += uss_of(pids[i]);
	close(hold[1]);
	close(hold[0]);
	close(ready[0]);
	for (i = 0; i < n; i++)
		ilt_wait(pids[i], NULL);
	free(pids);
	*bytes = n ? sum / n : 0;
	return err;
}

struct idle_kthreads {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int started;
	bool release;
};

static void *idle_kthread(void *arg)
{
	struct idle_kthreads *k = arg;

	pthread_mutex_lock(&k->lock);
	k->started++;
	pthread_cond_broadcast(&k->cond);
	while (!k->release)
		pthread_cond_wait(&k->cond, &k->lock);
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

static int memory_kthreads(int count, double *bytes)
{
	struct idle_kthreads k = { PTHREAD_MUTEX_INITIALIZER,
				   PTHREAD_COND_INITIALIZER, 0, false };
	pthread_t *t = calloc(count, sizeof(*t));
	double before = self_rss(), after;
	int i, n = 0, err = 0;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < count && !err; i++) {
		err = -pthread_create(&t[i], NULL, idle_kthread, &k);
		if (!err)
			n++;
	}
	pthread_mutex_lock(&k.lock);
	while (k.started < n)
		pthread_cond_wait(&k.cond, &k.lock);
	after = self_rss();
	k.release = true;
	pthread_cond_broadcast(&k.cond);
	pthread_mutex_unlock(&k.lock);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	free(t);
	*bytes = n ? (after - before) / n : 0;
	return err;
}

struct idle_uthreads {
	int count;
	uthread_sem_t *sem;
	double bytes;
	int err;
};

static void *idle_uthread(void *arg)
{
	uthread_sem_wait(arg);
	return NULL;
}

static void *memory_uthreads_main(void *arg)
{
	struct idle_uthreads *u = arg;
	uint64_t *t = calloc(u->count, sizeof(*t));
	double before = self_rss();
	int i, n = 0;

	if (!t) {
		u->err = ENOMEM;
		return NULL;
	}
	for (i = 0; i < u->count && !u->err; i++) {
		u->err = uthread_create(&t[i], 0, idle_uthread, u->sem);
		if (!u->err)
			n++;
	}
	/* Every new thread runs and parks on the semaphore before we resume */
	uthread_yield();
	u->bytes = n ? (self_rss() - before) / n : 0;
	for (i = 0; i < n; i++)
		uthread_sem_post(u->sem);
	for (i = 0; i < n; i++)
		uthread_join(t[i], NULL);
	free(t);
	return NULL;
}

static int memory_uthreads(int count, double *bytes)
{
	struct idle_uthreads u = { .count = count };
	int err = uthread_sem_init(&u.sem, 0);

	if (!err)
		err = uthread_run(memory_uthreads_main, &u, NULL);
	if (u.sem)
		uthread_sem_destroy(u.sem);
	*bytes = u.bytes;
	return -(err ? err : u.err);
}

int thread_memory(enum thread_model m, int count, double *bytes)
{
	*bytes = 0;
	if (count < 1 || count > THREAD_MAX_COUNT)
		return -EINVAL;
	if (m == TM_PROCESS)
		return memory_processes(count, bytes);
	if (m == TM_KTHREAD)
		return memory_kthreads(count, bytes);
	return memory_uthreads(count, bytes);
}

/* ------------------------------------------------------------ switch */

struct switch_arg {
	_Atomic uint32_t word;
	enum thread_model m;
	long iters;
	int runs;
	double ns[THREAD_MAX_RUNS + 1];
	int err;
};

static long futex(_Atomic uint32_t *word, int op, uint32_t val)
{
	return syscall(SYS_futex, (void *)word, op, val, NULL, NULL, 0);
}

/* Wait until *word == want, then set it to next and wake the other. */
static void futex_turn(_Atomic uint32_t *word, uint32_t want, uint32_t next)
{
	uint32_t v;

	while ((v = atomic_load(word)) != want)
		futex(word, FUTEX_WAIT_PRIVATE, v);
	atomic_store(word, next);
	futex(word, FUTEX_WAKE_PRIVATE, 1);
}

static void *futex_partner(void *arg)
{
	struct switch_arg *a = arg;
	long i, n = (long)(a->runs + 1) * a->iters;

	for (i = 0; i < n; i++)
		futex_turn(&a->word, 1, 0);
	return NULL;
}

static int switch_kthreads(struct switch_arg *a)
{
	pthread_t t;
	uint64_t t0;
	long i;
	int r;

	if (pthread_create(&t, NULL, futex_partner, a))
		return 1;
	for (r = 0; r <= a->runs; r++) {
		t0 = ilt_now_ns();
		for (i = 0; i < a->iters; i++) {
			atomic_store(&a->word, 1);
			futex(&a->word, FUTEX_WAKE_PRIVATE, 1);
			futex_turn(&a->word, 0, 0);
		}
		a->ns[r] = (double)(ilt_now_ns() - t0) / (2 * a->iters);
	}
	pthread_join(t, NULL);
	return 0;
}

static int switch_processes(struct switch_arg *a)
{
	int p1[2], p2[2], r;
	char c = 0;
	uint64_t t0;
	pid_t pid;
	long i, n = (long)(a->runs + 1) * a->iters;

	if (pipe(p1) || pipe(p2))
		return 1;
	pid = ilt_fork();
	if (pid == 0) {
		/* Only our ends open: a parent that dies means EOF here */
		close(p1[1]);
		close(p2[0]);
		for (i = 0; i < n; i++)
			if (read(p1[0], &c, 1) != 1 || write(p2[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	if (pid < 0)
		return 1;
	close(p1[0]);
	close(p2[1]);
	for (r = 0; r <= a->runs; r++) {
		t0 = ilt_now_ns();
		for (i = 0; i < a->iters; i++)
			if (write(p1[1], &c, 1) != 1 || read(p2[0], &c, 1) != 1)
				return 1;
		a->ns[r] = (double)(ilt_now_ns() - t0) / (2 * a->iters);
	}
	ilt_wait(pid, NULL);
	return 0;
}

static void *yielder(void *arg)
{
	struct switch_arg *a = arg;
	long i;

	for (i = 0; i < a->iters; i++)
		uthread_yield();
	return NULL;
}

static void *switch_uthreads_main(void *arg)
{
	struct switch_arg *a = arg;
	uint64_t t1, t2;
	uint64_t t0;
	int r;

	for (r = 0; r <= a->runs && !a->err; r++) {
		t0 = ilt_now_ns();
		a->err = uthread_create(&t1, 0, yielder, a);
		if (!a->err)
			a->err = uthread_create(&t2, 0, yielder, a);
		if (a->err)
			break;
		uthread_join(t1, NULL);
		uthread_join(t2, NULL);
		a->ns[r] = (double)(ilt_now_ns() - t0) / (2 * a->iters);
	}
	return NULL;
}

/* In the pinned subprocess: both parties share one CPU. */
static int switch_child(void *arg, void *shared)
{
	struct switch_arg *a = shared;

	memcpy(a, arg, sizeof(*a));
	if (ilt_pin(ilt_first_cpu()))
		return 2;
	if (a->m == TM_PROCESS)
		return switch_processes(a);
	if (a->m == TM_KTHREAD)
		return switch_kthreads(a);
	return uthread_run(switch_uthreads_main, a, NULL) || a->err;
}

int thread_switch_cost(enum thread_model m, long iters, int runs,
		       struct ilt_series *s)
{
	struct switch_arg a = { .m = m, .iters = iters, .runs = runs };
	struct switch_arg *res = shared_page();
	int st, err = 0;

	memset(s, 0, sizeof(*s));
	if (iters < 1 || runs < 1 || runs > THREAD_MAX_RUNS)
		err = -EINVAL;
	else if (!res)
		err = -ENOMEM;
	if (!err) {
		st = in_child(switch_child, &a, res);
		if (exited_ok(st))
			ilt_series_of(s, res->ns + 1, runs);
		else
			err = -EPROTO;
	}
	if (res)
		munmap(res, SHARED_LEN);
	return err;
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
	struct share_shared *sh = shared_page();
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
	munmap(sh, SHARED_LEN);
	return exited_ok(st_a) && exited_ok(st_b) ? 0 : -EPROTO;
}

/* ------------------------------------------------------------- crash */

/* No core file: these crashes are on purpose. */
static void no_core(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0);
	/* The kernel's default action, even under a sanitizer's handler */
	signal(SIGSEGV, SIG_DFL);
}

/*
 * An invalid write: to a page mapped without access, which sanitizers do
 * not intercept as they do a NULL store.
 */
static void *crasher(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	(void)arg;
	if (p != MAP_FAILED)
		*(volatile int *)p = 1;
	raise(SIGSEGV);
	return NULL;
}

struct crash_shared {
	_Atomic int main_survived;
	int child_status;
	_Atomic int parent_went_on;
};

/* A process with a second thread that crashes. */
static int crash_thread_proc(void *arg, void *shared)
{
	struct crash_shared *sh = shared;
	pthread_t t;

	(void)arg;
	no_core();
	if (pthread_create(&t, NULL, crasher, NULL))
		return 3;
	/* Never gets here: the fault kills every thread of the process */
	sleep(2);
	atomic_store(&sh->main_survived, 1);
	return 0;
}

/* A parent whose child crashes: it reaps the child and goes on. */
static int crash_parent_proc(void *arg, void *shared)
{
	struct crash_shared *sh = shared;
	pid_t pid;
	int st;

	(void)arg;
	pid = fork();
	if (pid == 0) {
		no_core();
		crasher(NULL);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 3;
	sh->child_status = st;
	atomic_store(&sh->parent_went_on, 1);
	return 0;
}

int thread_crash(struct thread_crash *r)
{
	struct crash_shared *sh = shared_page();

	memset(r, 0, sizeof(*r));
	if (!sh)
		return -ENOMEM;
	r->thread_proc_status = in_child(crash_thread_proc, NULL, sh);
	r->main_survived = atomic_load(&sh->main_survived);
	r->parent_status = in_child(crash_parent_proc, NULL, sh);
	r->child_status = sh->child_status;
	r->parent_went_on = atomic_load(&sh->parent_went_on);
	munmap(sh, SHARED_LEN);
	return r->thread_proc_status < 0 || r->parent_status < 0 ? -EAGAIN : 0;
}

/* --------------------------------------------------------------- LWP */

struct lwp_shared {
	pthread_barrier_t started, done;
	pid_t tid[THREAD_MAX_LWP];
	_Atomic int next;
};

static void *lwp_thread(void *arg)
{
	struct lwp_shared *l = arg;

	l->tid[atomic_fetch_add(&l->next, 1)] = gettid();
	pthread_barrier_wait(&l->started);
	pthread_barrier_wait(&l->done);
	return NULL;
}

static int count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* In a subprocess, so that cowlab's own task list stays as it is. */
static int lwp_child(void *arg, void *shared)
{
	struct thread_lwp *r = shared;
	struct lwp_shared l = { .next = 1 };
	pthread_t t[THREAD_MAX_LWP];
	int i, n = *(int *)arg;

	r->pid = getpid();
	r->n = n;
	l.tid[0] = gettid();
	pthread_barrier_init(&l.started, NULL, n);
	pthread_barrier_init(&l.done, NULL, n);
	for (i = 1; i < n; i++)
		if (pthread_create(&t[i], NULL, lwp_thread, &l))
			_exit(3);
	pthread_barrier_wait(&l.started);
	r->tasks = count_tasks();
	memcpy(r->tid, l.tid, sizeof(r->tid));
	pthread_barrier_wait(&l.done);
	for (i = 1; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}

int thread_lwp(int n, struct thread_lwp *r)
{
	struct thread_lwp *res = shared_page();
	int st, err = 0;

	memset(r, 0, sizeof(*r));
	if (n < 1 || n > THREAD_MAX_LWP)
		err = -EINVAL;
	else if (!res)
		err = -ENOMEM;
	if (!err) {
		st = in_child(lwp_child, &n, res);
		if (exited_ok(st))
			*r = *res;
		else
			err = -EPROTO;
	}
	if (res)
		munmap(res, SHARED_LEN);
	return err;
}

/* ------------------------------------------------------------ strtok */

#define STRTOK_THREADS	4
#define STRTOK_TOKENS	64
#define STRTOK_ROUNDS	2000

struct strtok_shared {
	pthread_barrier_t start;
	bool reentrant;
	_Atomic long bad;
};

struct strtok_party {
	struct strtok_shared *sh;
	int id;
	char buf[1024];
};

/* Does tokenizing "a<id>.0,a<id>.1,..." give exactly those tokens? */
static bool tokenize_ok(struct strtok_party *p)
{
	char want[32], *tok, *save = NULL;
	int k = 0, len = 0;

	for (k = 0; k < STRTOK_TOKENS; k++)
		len += snprintf(p->buf + len, sizeof(p->buf) - len,
				"%sa%d.%d", k ? "," : "", p->id, k);
	k = 0;
	tok = p->sh->reentrant ? strtok_r(p->buf, ",", &save) :
				 strtok(p->buf, ",");
	while (tok) {
		snprintf(want, sizeof(want), "a%d.%d", p->id, k++);
		if (strcmp(tok, want))
			return false;
		/* Give the other threads a chance to run strtok() meanwhile */
		if (k % 16 == 0)
			sched_yield();
		tok = p->sh->reentrant ? strtok_r(NULL, ",", &save) :
					 strtok(NULL, ",");
	}
	return k == STRTOK_TOKENS;
}

static void *strtok_thread(void *arg)
{
	struct strtok_party *p = arg;
	int i;

	pthread_barrier_wait(&p->sh->start);
	for (i = 0; i < STRTOK_ROUNDS; i++)
		if (!tokenize_ok(p))
			atomic_fetch_add(&p->sh->bad, 1);
	return NULL;
}

static long strtok_round(struct strtok_shared *sh, bool reentrant)
{
	static struct strtok_party p[STRTOK_THREADS];
	pthread_t t[STRTOK_THREADS];
	int i;

	sh->reentrant = reentrant;
	atomic_store(&sh->bad, 0);
	pthread_barrier_init(&sh->start, NULL, STRTOK_THREADS);
	for (i = 0; i < STRTOK_THREADS; i++) {
		p[i].sh = sh;
		p[i].id = i;
		if (pthread_create(&t[i], NULL, strtok_thread, &p[i]))
			_exit(3);
	}
	for (i = 0; i < STRTOK_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&sh->start);
	return atomic_load(&sh->bad);
}

/* In a subprocess: a data race is undefined behaviour, let it die alone. */
static int strtok_child(void *arg, void *shared)
{
	struct thread_strtok *r = shared;
	struct strtok_shared sh;

	(void)arg;
	no_core();
	r->bad_strtok_r = strtok_round(&sh, true);
	r->bad_strtok = strtok_round(&sh, false);
	return 0;
}

int thread_strtok(struct thread_strtok *r)
{
	struct thread_strtok *res = shared_page();

	memset(r, 0, sizeof(*r));
	if (!res)
		return -ENOMEM;
	res->bad_strtok = -1;
	res->bad_strtok_r = -1;
	r->status = in_child(strtok_child, NULL, res);
	r->threads = STRTOK_THREADS;
	r->rounds = (long)STRTOK_THREADS * STRTOK_ROUNDS;
	r->bad_strtok = res->bad_strtok;
	r->bad_strtok_r = res->bad_strtok_r;
	munmap(res, SHARED_LEN);
	return r->status < 0 ? -EAGAIN : 0;
}
