// SPDX-License-Identifier: GPL-2.0
/*
 * GNU Pth, the classic M:1 library (Debian's libpth-dev). It waits for
 * every event, I/O included, with select(): no descriptor at or above
 * FD_SETSIZE, and each pass of its scheduler visits every waiting thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/select.h>
#include <unistd.h>

#include <pth.h>

#include "peers.h"

/* ------------------------------------------------------------- switch */

static void *yielder(void *arg)
{
	long i, n = *(long *)arg;

	for (i = 0; i < n; i++)
		pth_yield(NULL);
	return NULL;
}

static double pth_switch_ns(long n)
{
	uint64_t t0;
	pth_t a, b;

	if (!pth_init())
		return -1;
	a = pth_spawn(PTH_ATTR_DEFAULT, yielder, &n);
	b = pth_spawn(PTH_ATTR_DEFAULT, yielder, &n);
	if (!a || !b)
		return -1;
	t0 = now_ns();
	pth_join(a, NULL);
	pth_join(b, NULL);
	return (double)(now_ns() - t0) / (2.0 * n);
}

/* ------------------------------------------------------- create + join */

static void *nothing(void *arg)
{
	return arg;
}

static double pth_create_join_ns(long n)
{
	uint64_t t0;
	pth_t t;
	long i;

	if (!pth_init())
		return -1;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		t = pth_spawn(PTH_ATTR_DEFAULT, nothing, NULL);
		if (!t || !pth_join(t, NULL))
			return -1;
	}
	return (double)(now_ns() - t0) / n;
}

/* --------------------------------------------------------------- idle */

static void *idler(void *arg)
{
	pth_mutex_acquire(arg, FALSE, NULL);
	pth_mutex_release(arg);
	return NULL;
}

static void pth_idle(long n, struct idle_result *r)
{
	pth_t *t = calloc(n, sizeof(*t));
	pth_mutex_t gate;
	long i, made;

	if (!t || !pth_init() || !pth_mutex_init(&gate) ||
	    !pth_mutex_acquire(&gate, FALSE, NULL)) {
		r->err = ENOMEM;
		free(t);
		return;
	}
	idle_start();
	for (made = 0; made < n; made++) {
		t[made] = pth_spawn(PTH_ATTR_DEFAULT, idler, &gate);
		if (!t[made]) {
			r->err = errno;
			break;
		}
	}
	/* every new thread runs up to the mutex and waits */
	if (idle_runs())
		pth_yield(NULL);
	idle_peak(made, r);
	pth_mutex_release(&gate);
	for (i = 0; i < made; i++)
		pth_join(t[i], NULL);
	free(t);
}

/* --------------------------------------------------------------- echo */

static void *echo_thread(void *arg)
{
	echo_conn((int)(long)arg, pth_read, pth_write, close);
	return NULL;
}

static int pth_echo_serve(int lfd)
{
	pth_attr_t attr;
	int fd;

	if (!pth_init())
		return -1;
	attr = pth_attr_new();
	pth_attr_set(attr, PTH_ATTR_JOINABLE, FALSE);
	for (;;) {
		fd = pth_accept(lfd, NULL, NULL);
		if (fd < 0 || !pth_spawn(attr, echo_thread, (void *)(long)fd))
			return -1;
	}
}

const struct peer peer_pth = {
	.name = "GNU Pth",
	.version = PTH_VERSION_STR,
	.switch_how = "pth_yield(NULL)",
	.stack_how = "64 KiB malloc",
	.switch_ns = pth_switch_ns,
	.create_join_ns = pth_create_join_ns,
	.idle = pth_idle,
	.echo_serve = pth_echo_serve,
	.echo_fd_limit = FD_SETSIZE,
	.echo_note = "select(), descriptors below FD_SETSIZE only",
};
