// SPDX-License-Identifier: GPL-2.0
/*
 * State Threads, the M:1 library network servers were built on (Debian's
 * libst-dev). Debian builds it without epoll: it waits with poll(), on
 * every descriptor that has a waiting thread, each time it goes idle.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <st.h>

#include "peers.h"

static int st_start(void)
{
	/* poll() rather than select(): past FD_SETSIZE descriptors */
	if (st_set_eventsys(ST_EVENTSYS_POLL) && errno != EBUSY)
		return -1;
	return st_init();
}

/* ------------------------------------------------------------- switch */

/*
 * ST has no yield (st_usleep(0) goes through its idle thread and a poll()
 * each time): two threads hand a turn over with condition variables.
 */
struct pingpong {
	st_cond_t wake[2];
	int turn;
	long n;
};

struct side {
	struct pingpong *p;
	int me;
};

static void *side_run(void *arg)
{
	struct side *s = arg;
	struct pingpong *p = s->p;
	long i;

	for (i = 0; i < p->n; i++) {
		while (p->turn != s->me)
			st_cond_wait(p->wake[s->me]);
		p->turn = !s->me;
		st_cond_signal(p->wake[!s->me]);
	}
	return NULL;
}

static double st_switch_ns(long n)
{
	struct pingpong p = { .n = n };
	struct side a = { &p, 0 }, b = { &p, 1 };
	st_thread_t ta, tb;
	uint64_t t0;

	if (st_start())
		return -1;
	p.wake[0] = st_cond_new();
	p.wake[1] = st_cond_new();
	ta = st_thread_create(side_run, &a, 1, 0);
	tb = st_thread_create(side_run, &b, 1, 0);
	if (!p.wake[0] || !p.wake[1] || !ta || !tb)
		return -1;
	t0 = now_ns();
	st_thread_join(ta, NULL);
	st_thread_join(tb, NULL);
	return (double)(now_ns() - t0) / (2.0 * n);
}

/* ------------------------------------------------------- create + join */

static void *nothing(void *arg)
{
	return arg;
}

static double st_create_join_ns(long n)
{
	st_thread_t t;
	uint64_t t0;
	long i;

	if (st_start())
		return -1;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		t = st_thread_create(nothing, NULL, 1, 0);
		if (!t || st_thread_join(t, NULL))
			return -1;
	}
	return (double)(now_ns() - t0) / n;
}

/* --------------------------------------------------------------- idle */

static void *idler(void *arg)
{
	st_cond_wait(arg);
	return NULL;
}

static void st_idle(long n, struct idle_result *r)
{
	st_thread_t *t = calloc(n, sizeof(*t));
	st_cond_t gate;
	long i, made;

	if (!t || st_start()) {
		r->err = ENOMEM;
		free(t);
		return;
	}
	gate = st_cond_new();
	if (!gate) {
		r->err = ENOMEM;
		free(t);
		return;
	}
	idle_start();
	for (made = 0; made < n; made++) {
		t[made] = st_thread_create(idler, gate, 1, 0);
		if (!t[made]) {
			r->err = errno;
			break;
		}
	}
	/* every new thread runs up to its wait; this one comes back after */
	if (idle_runs())
		st_usleep(0);
	idle_peak(made, r);
	st_cond_broadcast(gate);
	for (i = 0; i < made; i++)
		st_thread_join(t[i], NULL);
	free(t);
}

/* --------------------------------------------------------------- echo */

static void *echo_thread(void *arg)
{
	st_netfd_t fd = arg;
	char buf[ECHO_MSG];
	size_t got;
	ssize_t n;

	for (;;) {
		for (got = 0; got < sizeof(buf); got += n) {
			n = st_read(fd, buf + got, sizeof(buf) - got,
				    ST_UTIME_NO_TIMEOUT);
			if (n <= 0)
				goto out;
		}
		if (st_write(fd, buf, sizeof(buf), ST_UTIME_NO_TIMEOUT) !=
		    sizeof(buf))
			goto out;
	}
out:
	st_netfd_close(fd);
	return NULL;
}

static int st_echo_serve(int lfd)
{
	st_netfd_t lst, fd;

	if (st_start())
		return -1;
	lst = st_netfd_open_socket(lfd);
	if (!lst)
		return -1;
	for (;;) {
		fd = st_accept(lst, NULL, NULL, ST_UTIME_NO_TIMEOUT);
		if (!fd || !st_thread_create(echo_thread, fd, 0, 0))
			return -1;
	}
}

const struct peer peer_st = {
	.name = "State Threads",
	.version = ST_VERSION,
	.switch_how = "st_cond_signal() + st_cond_wait()",
	.stack_how = "library default, mmap",
	.switch_ns = st_switch_ns,
	.create_join_ns = st_create_join_ns,
	.idle = st_idle,
	.echo_serve = st_echo_serve,
	.echo_note = "poll() over every waiting descriptor (no epoll in Debian's build)",
};
