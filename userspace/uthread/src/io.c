// SPDX-License-Identifier: GPL-2.0
/*
 * I/O that parks the calling thread instead of blocking the process: each
 * wrapper tries the call, and on EAGAIN queues the thread on the fd.  The
 * scheduler loop (or the periodic check in ut_tick()) collects the
 * events from epoll and wakes the waiters of the direction that is ready.
 *
 * A socket is watched once, edge-triggered for both directions, from its
 * first wait until uthread_close() or until its number turns out to name
 * another file: a thread then parks on EAGAIN without a system call, where
 * a one-shot watch costs an epoll_ctl() for every wait.  Other fds (pipes,
 * ttys, eventfds) keep the one-shot watch, re-armed for each wait: the
 * library cannot tell when their number is closed and reused (a socket's
 * reuse by a non-socket shows as ENOTSOCK), they are often shared with
 * other processes that would keep firing a permanent watch, and they are
 * not what a server waits on per request.
 *
 * No readiness is lost between a call's EAGAIN and the park, which is the
 * classic race of edge-triggered epoll: nothing collects events in
 * between (one kernel thread, and the wrapper parks before anything else
 * runs), the edge that follows the EAGAIN stays queued in the epoll
 * instance until the scheduler collects it, and a woken thread retries its
 * call before it can park again.  So no "ready" flag is kept per fd: an
 * event with no waiter in its direction is dropped, and whatever it
 * announced is still there for the next call.
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
#define UT_EV_EDGE	(EPOLLIN | EPOLLRDHUP | EPOLLOUT | EPOLLET)

/* How long a thread trusts an edge watch before it is re-checked */
#define UT_CHECK_NS	1000000000ull

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
	s->nunchecked = 0;
	s->io_check_at = 0;
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

/* Put @fd into the epoll set with @events, whether it is there or not. */
static int ut_fd_ctl(int fd, struct ut_fdwait *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	int op = w->watch ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (!epoll_ctl(ut_sched.epfd, op, fd, &ev))
		return 0;
	/* The fd was closed (dropped from the set) or added by an old owner */
	if (errno == ENOENT || errno == EEXIST) {
		op = errno == ENOENT ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
		if (!epoll_ctl(ut_sched.epfd, op, fd, &ev))
			return 0;
	}
	return errno;
}

/* (Re)arm the one-shot watch for whatever the queued waiters need. */
static int ut_fd_arm(int fd, struct ut_fdwait *w)
{
	uint32_t events = EPOLLONESHOT;
	int err;

	if (!ut_q_empty(&w->rd))
		events |= EPOLLIN | EPOLLRDHUP;
	if (!ut_q_empty(&w->wr))
		events |= EPOLLOUT;
	err = ut_fd_ctl(fd, w, events);
	if (!err)
		w->watch = UT_WATCH_ONESHOT;
	return err;
}

/*
 * Watch a socket for good.  Adding it reports a readiness that is already
 * there, so a wait that starts with this call misses nothing either.
 */
static int ut_fd_watch(int fd, struct ut_fdwait *w)
{
	int err = ut_fd_ctl(fd, w, UT_EV_EDGE);

	if (!err)
		w->watch = UT_WATCH_EDGE;
	return err;
}

/*
 * A thread parks on an edge watch trusting that the number still names
 * the watched socket, which a close(2) behind the library's back breaks
 * silently: the wait is re-checked if it lasts (see ut_io_check()).
 */
static void ut_fd_trust(struct ut_fdwait *w)
{
	if (w->unchecked)
		return;
	w->unchecked = true;
	w->park_pass = ut_sched.io_pass;
	ut_sched.nunchecked++;
}

static void ut_fd_checked(struct ut_fdwait *w)
{
	if (!w->unchecked)
		return;
	w->unchecked = false;
	ut_sched.nunchecked--;
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

/* End every wait on @w with @err. */
static void ut_fd_fail(struct ut_fdwait *w, int err)
{
	ut_fd_wake_all(&w->rd, err);
	ut_fd_wake_all(&w->wr, err);
	ut_fd_checked(w);
}

/*
 * The number @fd names a new file, or none: forget the old one.  Threads
 * still parked on it waited for a file that was closed; they get EBADF.
 */
static void ut_fd_forget(int fd)
{
	struct ut_fdwait *w;

	if (fd < 0 || fd >= ut_sched.nfds)
		return;
	w = &ut_sched.fds[fd];
	ut_fd_fail(w, EBADF);
	w->watch = UT_WATCH_NONE;
	w->not_socket = false;
}

static void ut_fd_ready(int fd, uint32_t events)
{
	struct ut_fdwait *w = &ut_sched.fds[fd];
	int err;

	if (events & UT_EV_READ)
		ut_fd_wake_all(&w->rd, 0);
	if (events & UT_EV_WRITE)
		ut_fd_wake_all(&w->wr, 0);
	if (ut_q_empty(&w->rd) && ut_q_empty(&w->wr)) {
		ut_fd_checked(w);
		return;
	}
	/* An edge watch stays; a one-shot one is spent */
	if (w->watch == UT_WATCH_EDGE)
		return;
	err = ut_fd_arm(fd, w);
	if (err)
		ut_fd_fail(w, err);
}

/*
 * Re-check the edge watches that parked threads have trusted for a whole
 * interval.  If the number was closed with close(2), the watch went with
 * the file: MOD fails with EBADF, which ends the waits, or, if the number
 * names a new file by now, with ENOENT, and the ADD that follows watches
 * the new file (and reports it at once if it is ready).  Parks that end
 * within an interval, which is every park of a busy server, cost nothing.
 */
static void ut_io_check(uint64_t now)
{
	struct ut_sched *s = &ut_sched;
	struct ut_fdwait *w;
	int fd, err;

	if (s->io_check_at && now < s->io_check_at)
		return;
	for (fd = 0; s->io_check_at && fd < s->nfds && s->nunchecked; fd++) {
		w = &s->fds[fd];
		if (!w->unchecked || w->park_pass == s->io_pass)
			continue;
		ut_fd_checked(w);
		err = ut_fd_watch(fd, w);
		if (err)
			ut_fd_fail(w, err);
	}
	/* Parks from now on have park_pass == io_pass: the pass after next */
	s->io_pass++;
	s->io_check_at = s->nunchecked ? now + UT_CHECK_NS : 0;
}

/* Park the caller until @fd is ready; @socket: it is one (edge watch). */
static int ut_fd_wait(int fd, bool write, bool socket)
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
	if (!socket)
		err = ut_fd_arm(fd, w);
	else if (w->watch != UT_WATCH_EDGE)
		err = ut_fd_watch(fd, w);
	if (err) {
		ut_q_remove(q, self);
		return err;
	}
	if (socket)
		ut_fd_trust(w);
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

/* The earliest of the sleepers' and the re-check's deadlines, if any */
static bool ut_io_deadline(uint64_t *deadline)
{
	struct ut_sched *s = &ut_sched;
	bool any = ut_sleep_next(deadline);

	if (s->io_check_at && (!any || s->io_check_at < *deadline)) {
		*deadline = s->io_check_at;
		any = true;
	}
	return any;
}

int ut_io_poll(bool block)
{
	struct ut_sched *s = &ut_sched;
	struct epoll_event ev[64];
	struct timespec ts = { 0, 0 };
	const struct timespec *tsp = &ts;
	uint64_t deadline, now;
	int i, n = 0;

	if (s->nunchecked)
		ut_io_check(ut_now_ns());
	else
		s->io_check_at = 0;
	/* The check may have ended waits: their threads must not wait too */
	if (block && !ut_q_empty(&s->runq))
		block = false;
	if (block) {
		if (ut_io_deadline(&deadline)) {
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

/*
 * After a failed call: park and retry (true), or report it (false).
 * @socket: the call was made on a socket, which gets an edge watch.
 */
static bool ut_io_again(ssize_t r, int fd, bool write, bool socket)
{
	int err;

	if (r >= 0)
		return false;
	if (errno == EINTR)
		return true;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return false;
	err = ut_fd_wait(fd, write, socket);
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

/*
 * @fd turned out to be no socket (ENOTSOCK).  If it was taken for one, its
 * number was closed and reused behind the library's back: the old
 * socket's watch and waiters are stale.
 */
static void ut_fd_no_socket(int fd)
{
	if (ut_fd_table(fd))
		return;
	if (!ut_sched.fds[fd].not_socket)
		ut_fd_forget(fd);
	ut_sched.fds[fd].not_socket = true;
}

/*
 * uthread_connect() on @fd.  Usually a socket just made, whose number may
 * have been closed and reused: unless threads are parked on it (a
 * datagram socket can be read before it is connected), its first wait
 * watches it anew.
 */
static void ut_fd_connecting(int fd)
{
	struct ut_fdwait *w;

	if (ut_fd_table(fd))
		return;
	w = &ut_sched.fds[fd];
	w->not_socket = false;
	if (ut_q_empty(&w->rd) && ut_q_empty(&w->wr))
		w->watch = UT_WATCH_NONE;
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
	} while (ut_io_again(r, fd, write, true));
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
		ut_fd_no_socket(fd);
	}
	if (!ut_io_enter(fd))
		return -1;
	do {
		r = read(fd, buf, count);
	} while (ut_io_again(r, fd, false, false));
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
		ut_fd_no_socket(fd);
	}
	if (!ut_io_enter(fd))
		return -1;
	do {
		r = write(fd, buf, count);
	} while (ut_io_again(r, fd, true, false));
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
	} while (ut_io_again(r, fd, false, true));
	if (r >= 0)
		ut_fd_forget(r);	/* a new socket: no waiter can know it */
	return r;
}

int uthread_connect(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	socklen_t len = sizeof(int);
	int err;

	if (!ut_io_enter(fd))
		return -1;
	ut_fd_connecting(fd);
	if (!connect(fd, addr, addrlen))
		return 0;
	/* EINTR: the connection still completes asynchronously */
	if (errno != EINPROGRESS && errno != EINTR)
		return -1;
	err = ut_fd_wait(fd, true, true);
	if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -1;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

int uthread_close(int fd)
{
	struct ut_fdwait *w;

	if (ut_in_thread() && fd >= 0 && fd < ut_sched.nfds) {
		w = &ut_sched.fds[fd];
		/*
		 * close(2) drops the watch only with the last reference to
		 * the file: a dup or a child's copy would keep it firing
		 * for a number that may name another file by then.
		 */
		if (w->watch != UT_WATCH_NONE)
			epoll_ctl(ut_sched.epfd, EPOLL_CTL_DEL, fd, NULL);
		ut_fd_forget(fd);
	}
	return close(fd);
}
