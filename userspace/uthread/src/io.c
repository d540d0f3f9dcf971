// SPDX-License-Identifier: GPL-2.0
/*
 * I/O that parks the calling thread instead of blocking the process: each
 * wrapper makes the fd non-blocking, tries the call, and on EAGAIN queues
 * the thread on the fd and arms a one-shot epoll watch.  The scheduler
 * loop (or the periodic check in ut_pick_next()) collects the events.
 *
 * Regular files never return EAGAIN and are always "ready", so the calls
 * simply block the kernel thread, and with it every user thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "uthread_int.h"

#ifdef UT_VALGRIND
#include <valgrind/valgrind.h>
#endif

#define UT_EV_READ	(EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)
#define UT_EV_WRITE	(EPOLLOUT | EPOLLHUP | EPOLLERR)

/* epoll_pwait2() gives ns timeouts; valgrind and pre-5.11 kernels lack it */
static bool ut_no_pwait2;

int ut_io_init(void)
{
#ifdef UT_VALGRIND
	if (RUNNING_ON_VALGRIND)
		ut_no_pwait2 = true;
#endif
	ut_sched.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ut_sched.epfd < 0)
		return errno == EMFILE || errno == ENFILE ? EAGAIN : ENOMEM;
	ut_sched.nio = 0;
	return 0;
}

void ut_io_fini(void)
{
	struct ut_sched *s = &ut_sched;

	if (s->epfd >= 0)
		close(s->epfd);
	s->epfd = -1;
	free(s->fds);
	s->fds = NULL;
	s->nfds = 0;
	s->nio = 0;
}

static int ut_fd_table(int fd)
{
	struct ut_sched *s = &ut_sched;
	struct ut_fdwait *n;
	int cap;

	if (fd < 0)
		return EBADF;
	if (fd < s->nfds)
		return 0;
	cap = s->nfds ? s->nfds : 64;
	while (cap <= fd)
		cap *= 2;
	n = realloc(s->fds, (size_t)cap * sizeof(*n));
	if (!n)
		return ENOMEM;
	memset(n + s->nfds, 0, (size_t)(cap - s->nfds) * sizeof(*n));
	s->fds = n;
	s->nfds = cap;
	return 0;
}

/* (Re)arm the one-shot watch for whatever the queued waiters need. */
static int ut_fd_arm(int fd, struct ut_fdwait *w)
{
	struct epoll_event ev = { .events = EPOLLONESHOT, .data.fd = fd };
	int op = w->added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (!ut_q_empty(&w->rd))
		ev.events |= EPOLLIN | EPOLLRDHUP;
	if (!ut_q_empty(&w->wr))
		ev.events |= EPOLLOUT;
	if (!epoll_ctl(ut_sched.epfd, op, fd, &ev))
		goto armed;
	/* The fd was closed (dropped from the set) or added by an old owner */
	if (errno == ENOENT || errno == EEXIST) {
		op = errno == ENOENT ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
		if (!epoll_ctl(ut_sched.epfd, op, fd, &ev))
			goto armed;
	}
	return errno;
armed:
	w->added = true;
	return 0;
}

static void ut_fd_wake_all(struct ut_queue *q, int err)
{
	struct uthread *t;

	while ((t = ut_q_pop(q))) {
		t->wait_err = err;
		ut_sched.nio--;
		ut_make_runnable(t);
	}
}

static void ut_fd_ready(int fd, uint32_t events)
{
	struct ut_fdwait *w = &ut_sched.fds[fd];
	int err;

	if (events & UT_EV_READ)
		ut_fd_wake_all(&w->rd, 0);
	if (events & UT_EV_WRITE)
		ut_fd_wake_all(&w->wr, 0);
	if (ut_q_empty(&w->rd) && ut_q_empty(&w->wr))
		return;
	err = ut_fd_arm(fd, w);
	if (err) {
		ut_fd_wake_all(&w->rd, err);
		ut_fd_wake_all(&w->wr, err);
	}
}

static int ut_fd_wait(int fd, bool write)
{
	struct uthread *self = ut_sched.cur;
	struct ut_fdwait *w;
	struct ut_queue *q;
	int err;

	err = ut_fd_table(fd);
	if (err)
		return err;
	w = &ut_sched.fds[fd];
	q = write ? &w->wr : &w->rd;
	ut_q_push(q, self);
	err = ut_fd_arm(fd, w);
	if (err) {
		ut_q_remove(q, self);
		return err;
	}
	ut_sched.nio++;
	self->wait_fd = fd;
	self->wait_err = 0;
	self->state = UT_IOWAIT;
	self->wait_kind = write ? UT_WAIT_WRITE : UT_WAIT_READ;
	self->wait_obj = NULL;
	self->wait_q = q;
	ut_schedule();
	self->wait_fd = -1;
	return self->wait_err;
}

static int ut_epoll_wait(struct epoll_event *ev, int max,
			 const struct timespec *ts)
{
	int ms;
	int n;

	if (!ut_no_pwait2) {
		n = epoll_pwait2(ut_sched.epfd, ev, max, ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		ut_no_pwait2 = true;
	}
	/* Millisecond timeout, rounded up so that sleepers are never early */
	ms = !ts ? -1 : (int)(ts->tv_sec * 1000 +
			      (ts->tv_nsec + 999999) / 1000000);
	return epoll_wait(ut_sched.epfd, ev, max, ms);
}

int ut_io_poll(bool block)
{
	struct ut_sched *s = &ut_sched;
	struct epoll_event ev[64];
	struct timespec ts = { 0, 0 };
	const struct timespec *tsp = &ts;
	uint64_t deadline, now;
	int i, n = 0;

	if (block) {
		if (ut_sleep_next(&deadline)) {
			now = ut_now_ns();
			deadline = deadline > now ? deadline - now : 0;
			ts.tv_sec = (time_t)(deadline / 1000000000u);
			ts.tv_nsec = (long)(deadline % 1000000000u);
		} else {
			tsp = NULL;
		}
	}
	if (s->nio || block) {
		n = ut_epoll_wait(ev, 64, tsp);
		if (n < 0) {
			if (errno != EINTR)
				return errno;
			n = 0;
		}
	}
	for (i = 0; i < n; i++)
		ut_fd_ready(ev[i].data.fd, ev[i].events);
	if (s->nsleep)
		ut_sleep_expire(ut_now_ns());
	return 0;
}

static int ut_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/* Inside a run, or false with errno EPERM. */
static bool ut_io_allowed(void)
{
	if (ut_in_thread())
		return true;
	errno = EPERM;
	return false;
}

static bool ut_io_enter(int fd)
{
	return ut_io_allowed() && !ut_nonblock(fd);
}

/* After a failed call: park and retry (true), or report it (false). */
static bool ut_io_again(ssize_t r, int fd, bool write)
{
	int err;

	if (r >= 0)
		return false;
	if (errno == EINTR)
		return true;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return false;
	err = ut_fd_wait(fd, write);
	if (err) {
		errno = err;
		return false;
	}
	return true;
}

/*
 * Sockets are read and written with MSG_DONTWAIT: no fcntl() on every
 * call, their flags left as they are. What a number was last found to be
 * is a guess (it may have been closed and reused since): a wrong one costs
 * an ENOTSOCK and the retry as a file, or a socket taken the file's way
 * (correct, one fcntl() slower) until accept or connect hands it out.
 */
static bool ut_maybe_socket(int fd)
{
	return fd < 0 || fd >= ut_sched.nfds || !ut_sched.fds[fd].not_socket;
}

static void ut_fd_is_socket(int fd, bool socket)
{
	if (!ut_fd_table(fd))
		ut_sched.fds[fd].not_socket = !socket;
}

/* recv() or send() with MSG_DONTWAIT; -2 (errno ENOTSOCK) if @fd is no socket. */
static ssize_t ut_sock_io(int fd, void *buf, size_t count, int flags,
			  bool write)
{
	ssize_t r;

	flags |= MSG_DONTWAIT;
	do {
		r = write ? send(fd, buf, count, flags) :
			    recv(fd, buf, count, flags);
	} while (ut_io_again(r, fd, write));
	if (r < 0 && errno == ENOTSOCK)
		return -2;
	return r;
}

ssize_t uthread_read(int fd, void *buf, size_t count)
{
	ssize_t r;

	if (!ut_io_allowed())
		return -1;
	if (ut_maybe_socket(fd)) {
		r = ut_sock_io(fd, buf, count, 0, false);
		if (r != -2)
			return r;
		ut_fd_is_socket(fd, false);
	}
	if (!ut_io_enter(fd))
		return -1;
	do {
		r = read(fd, buf, count);
	} while (ut_io_again(r, fd, false));
	return r;
}

ssize_t uthread_write(int fd, const void *buf, size_t count)
{
	ssize_t r;

	if (!ut_io_allowed())
		return -1;
	if (ut_maybe_socket(fd)) {
		r = ut_sock_io(fd, (void *)buf, count, 0, true);
		if (r != -2)
			return r;
		ut_fd_is_socket(fd, false);
	}
	if (!ut_io_enter(fd))
		return -1;
	do {
		r = write(fd, buf, count);
	} while (ut_io_again(r, fd, true));
	return r;
}

ssize_t uthread_recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t r;

	if (!ut_io_allowed())
		return -1;
	r = ut_sock_io(fd, buf, len, flags, false);
	return r == -2 ? -1 : r;
}

ssize_t uthread_send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t r;

	if (!ut_io_allowed())
		return -1;
	r = ut_sock_io(fd, (void *)buf, len, flags, true);
	return r == -2 ? -1 : r;
}

int uthread_accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	int r;

	if (!ut_io_enter(fd))
		return -1;
	do {
		r = accept4(fd, addr, addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	} while (ut_io_again(r, fd, false));
	if (r >= 0)
		ut_fd_is_socket(r, true);
	return r;
}

int uthread_connect(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	socklen_t len = sizeof(int);
	int err;

	if (!ut_io_enter(fd))
		return -1;
	ut_fd_is_socket(fd, true);
	if (!connect(fd, addr, addrlen))
		return 0;
	/* EINTR: the connection still completes asynchronously */
	if (errno != EINPROGRESS && errno != EINTR)
		return -1;
	err = ut_fd_wait(fd, true);
	if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -1;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}
