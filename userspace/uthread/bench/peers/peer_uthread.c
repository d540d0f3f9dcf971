// SPDX-License-Identifier: GPL-2.0
/* libuthread: the library under test. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "uthread.h"
#include "peers.h"

/* ------------------------------------------------------------- switch */

struct pingpong {
	long n;
	uint64_t t0, t1;
};

static void *yielder(void *arg)
{
	struct pingpong *p = arg;
	long i;

	for (i = 0; i < p->n; i++)
		uthread_yield();
	return NULL;
}

static void *pingpong_main(void *arg)
{
	struct pingpong *p = arg;
	uthread_t a, b;

	if (uthread_create(&a, 0, yielder, p))
		return NULL;
	if (uthread_create(&b, 0, yielder, p)) {
		uthread_join(a, NULL);
		return NULL;
	}
	p->t0 = now_ns();
	uthread_join(a, NULL);
	uthread_join(b, NULL);
	p->t1 = now_ns();
	return NULL;
}

static double ut_switch_ns(long n)
{
	struct pingpong p = { .n = n };

	if (uthread_run(pingpong_main, &p, NULL) || !p.t1)
		return -1;
	return (double)(p.t1 - p.t0) / (2.0 * n);
}

/* ------------------------------------------------------- create + join */

struct pairs {
	long n;
	uint64_t ns;
};

static void *nothing(void *arg)
{
	return arg;
}

static void *pairs_main(void *arg)
{
	struct pairs *c = arg;
	uint64_t t0 = now_ns();
	uthread_t t;
	long i;

	for (i = 0; i < c->n; i++) {
		if (uthread_create(&t, 0, nothing, NULL))
			return NULL;
		uthread_join(t, NULL);
	}
	c->ns = now_ns() - t0;
	return NULL;
}

static double ut_create_join_ns(long n)
{
	struct pairs c = { .n = n };

	if (uthread_run(pairs_main, &c, NULL) || !c.ns)
		return -1;
	return (double)c.ns / n;
}

/* --------------------------------------------------------------- idle */

struct idle {
	long n;
	uthread_sem_t *gate;
	struct idle_result *r;
};

static void *idler(void *arg)
{
	uthread_sem_wait(arg);
	return NULL;
}

static void *idle_main(void *arg)
{
	struct idle *d = arg;
	uthread_t *t = calloc(d->n, sizeof(*t));
	long i, made;

	if (!t) {
		d->r->err = ENOMEM;
		return NULL;
	}
	idle_start();
	for (made = 0; made < d->n; made++) {
		d->r->err = uthread_create(&t[made], 0, idler, d->gate);
		if (d->r->err)
			break;
	}
	/* every new thread runs up to its wait and parks */
	if (idle_runs())
		uthread_yield();
	idle_peak(made, d->r);
	for (i = 0; i < made; i++)
		uthread_sem_post(d->gate);
	for (i = 0; i < made; i++)
		uthread_join(t[i], NULL);
	free(t);
	return NULL;
}

static void ut_idle(long n, struct idle_result *r)
{
	struct idle d = { .n = n, .r = r };

	if (uthread_sem_init(&d.gate, 0)) {
		r->err = ENOMEM;
		return;
	}
	uthread_run(idle_main, &d, NULL);
	uthread_sem_destroy(d.gate);
}

/* --------------------------------------------------------------- echo */

static void *echo_thread(void *arg)
{
	echo_conn((int)(long)arg, uthread_read, uthread_write,
		  uthread_close);
	return NULL;
}

static void *echo_main(void *arg)
{
	int lfd = (int)(long)arg, fd;
	uthread_t t;

	for (;;) {
		fd = uthread_accept(lfd, NULL, NULL);
		if (fd < 0)
			return NULL;
		if (uthread_create(&t, 0, echo_thread, (void *)(long)fd) ||
		    uthread_detach(t))
			return NULL;
	}
}

/* The accept loop ends only when accept or create fails. */
static int ut_echo_serve(int lfd)
{
	uthread_run(echo_main, (void *)(long)lfd, NULL);
	return -1;
}

const struct peer peer_uthread = {
	.name = "libuthread",
	.version = "this tree",
	.switch_how = "uthread_yield()",
	.stack_how = "64 KiB mmap, guard page, pooled",
	.switch_ns = ut_switch_ns,
	.create_join_ns = ut_create_join_ns,
	.idle = ut_idle,
	.echo_serve = ut_echo_serve,
	.echo_note = "epoll, edge-triggered, once per socket",
};
