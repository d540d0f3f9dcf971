// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab thread engine: what a process, a kernel thread and a user thread
 * cost to create, to keep and to switch, and the subprocess every
 * experiment that pins CPUs, crashes or races runs in. How the models use
 * the CPUs is in thread_cpu.c, what one process's threads share in
 * thread_sharing.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/thread.h"
#include "uthread.h"

const char *const thread_model_names[TM_NR] = {
	[TM_PROCESS] = "process",
	[TM_KTHREAD] = "kernel-thread",
	[TM_UTHREAD] = "user-thread",
};

void *thread_shared_page(void)
{
	void *p = mmap(NULL, THREAD_SHARED_LEN, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int thread_in_child(int (*fn)(void *arg, void *shared), void *arg,
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

bool thread_exited_ok(int st)
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
	struct switch_arg *res = thread_shared_page();
	int st, err = 0;

	memset(s, 0, sizeof(*s));
	if (iters < 1 || runs < 1 || runs > THREAD_MAX_RUNS)
		err = -EINVAL;
	else if (!res)
		err = -ENOMEM;
	if (!err) {
		st = thread_in_child(switch_child, &a, res);
		if (thread_exited_ok(st))
			ilt_series_of(s, res->ns + 1, runs);
		else
			err = -EPROTO;
	}
	if (res)
		munmap(res, THREAD_SHARED_LEN);
	return err;
}
