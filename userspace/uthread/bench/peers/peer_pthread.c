// SPDX-License-Identifier: GPL-2.0
/* pthreads: one kernel thread per thread, the default everyone has. */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "peers.h"

#define PT_STR(x)	#x
#define PT_XSTR(x)	PT_STR(x)
#define PT_GLIBC	PT_XSTR(__GLIBC__) "." PT_XSTR(__GLIBC_MINOR__)

/* ------------------------------------------------------------- switch */

/*
 * Two threads pinned to one CPU hand a turn back and forth through a
 * futex: each hand-off is one switch between kernel threads, the cheapest
 * a blocking hand-off between pthreads gets.
 */
struct pingpong {
	atomic_int turn;
	long n;
	int cpu;
};

static void futex_wait(atomic_int *w, int val)
{
	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(atomic_int *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

struct side {
	struct pingpong *p;
	int me;
};

static void *side_run(void *arg)
{
	struct side *s = arg;
	struct pingpong *p = s->p;
	cpu_set_t one;
	long i;

	CPU_ZERO(&one);
	CPU_SET(p->cpu, &one);
	pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	for (i = 0; i < p->n; i++) {
		while (atomic_load(&p->turn) != s->me)
			futex_wait(&p->turn, !s->me);
		atomic_store(&p->turn, !s->me);
		futex_wake(&p->turn);
	}
	return NULL;
}

static double pt_switch_ns(long n)
{
	struct pingpong p = { .n = n, .cpu = sched_getcpu() };
	struct side a = { &p, 0 }, b = { &p, 1 };
	pthread_t ta, tb;
	uint64_t t0 = now_ns();

	if (pthread_create(&ta, NULL, side_run, &a))
		return -1;
	if (pthread_create(&tb, NULL, side_run, &b)) {
		atomic_store(&p.turn, 0);
		p.n = 0;
		pthread_join(ta, NULL);
		return -1;
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	return (double)(now_ns() - t0) / (2.0 * n);
}

/* ------------------------------------------------------- create + join */

static void *nothing(void *arg)
{
	return arg;
}

static double pt_create_join_ns(long n)
{
	uint64_t t0 = now_ns();
	pthread_t t;
	long i;

	for (i = 0; i < n; i++) {
		if (pthread_create(&t, NULL, nothing, NULL))
			return -1;
		pthread_join(t, NULL);
	}
	return (double)(now_ns() - t0) / n;
}

/* --------------------------------------------------------------- idle */

struct idle {
	sem_t gate;
	atomic_long waiting;
};

static void *idler(void *arg)
{
	struct idle *d = arg;

	atomic_fetch_add(&d->waiting, 1);
	while (sem_wait(&d->gate) && errno == EINTR)
		;
	return NULL;
}

static void pt_idle(long n, struct idle_result *r)
{
	pthread_t *t = calloc(n, sizeof(*t));
	struct idle d = { .waiting = 0 };
	long i, made;

	if (!t || sem_init(&d.gate, 0, 0)) {
		r->err = ENOMEM;
		free(t);
		return;
	}
	idle_start();
	for (made = 0; made < n; made++) {
		r->err = pthread_create(&t[made], NULL, idler, &d);
		if (r->err)
			break;
	}
	/* each is a few instructions from its futex wait: let them get there */
	while (idle_runs() && atomic_load(&d.waiting) < made)
		usleep(1000);
	if (idle_runs())
		usleep(50000);
	idle_peak(made, r);
	for (i = 0; i < made; i++)
		sem_post(&d.gate);
	for (i = 0; i < made; i++)
		pthread_join(t[i], NULL);
	sem_destroy(&d.gate);
	free(t);
}

/* --------------------------------------------------------------- echo */

static void *echo_thread(void *arg)
{
	echo_conn((int)(long)arg, read, write, close);
	return NULL;
}

static int pt_echo_serve(int lfd)
{
	pthread_attr_t attr;
	pthread_t t;
	int fd;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0 ||
		    pthread_create(&t, &attr, echo_thread, (void *)(long)fd))
			return -1;
	}
}

const struct peer peer_pthread = {
	.name = "pthreads",
	.version = "glibc " PT_GLIBC,
	.switch_how = "futex hand-off, both on one CPU",
	.stack_how = "RLIMIT_STACK (8 MiB) mmap, guard page, cached",
	.switch_ns = pt_switch_ns,
	.create_join_ns = pt_create_join_ns,
	.idle = pt_idle,
	.echo_serve = pt_echo_serve,
	.echo_note = "blocking read() in its own kernel thread",
};
