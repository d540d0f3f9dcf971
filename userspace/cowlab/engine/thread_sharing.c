// SPDX-License-Identifier: GPL-2.0
/*
 * The thread engine's sharing experiments: what the threads of one process
 * share and processes do not. A crash in one thread ends them all; every
 * thread is a kernel task of its own (an LWP); strtok()'s hidden state is
 * one for all threads. Each runs in a subprocess (thread_in_child()), so
 * that cowlab itself never crashes and keeps one thread.
 */
#include <errno.h>
#include <dirent.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include "engine/thread.h"
#include "uthread.h"

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
	struct crash_shared *sh = thread_shared_page();

	memset(r, 0, sizeof(*r));
	if (!sh)
		return -ENOMEM;
	r->thread_proc_status = thread_in_child(crash_thread_proc, NULL, sh);
	r->main_survived = atomic_load(&sh->main_survived);
	r->parent_status = thread_in_child(crash_parent_proc, NULL, sh);
	r->child_status = sh->child_status;
	r->parent_went_on = atomic_load(&sh->parent_went_on);
	munmap(sh, THREAD_SHARED_LEN);
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
	struct thread_lwp *res = thread_shared_page();
	int st, err = 0;

	memset(r, 0, sizeof(*r));
	if (n < 1 || n > THREAD_MAX_LWP)
		err = -EINVAL;
	else if (!res)
		err = -ENOMEM;
	if (!err) {
		st = thread_in_child(lwp_child, &n, res);
		if (thread_exited_ok(st))
			*r = *res;
		else
			err = -EPROTO;
	}
	if (res)
		munmap(res, THREAD_SHARED_LEN);
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
	struct thread_strtok *res = thread_shared_page();

	memset(r, 0, sizeof(*r));
	if (!res)
		return -ENOMEM;
	res->bad_strtok = -1;
	res->bad_strtok_r = -1;
	r->status = thread_in_child(strtok_child, NULL, res);
	r->threads = STRTOK_THREADS;
	r->rounds = (long)STRTOK_THREADS * STRTOK_ROUNDS;
	r->bad_strtok = res->bad_strtok;
	r->bad_strtok_r = res->bad_strtok_r;
	munmap(res, THREAD_SHARED_LEN);
	return r->status < 0 ? -EAGAIN : 0;
}
