// SPDX-License-Identifier: GPL-2.0
/*
 * The ipc engine's channels: one per mechanism, set up before the fork,
 * attached by each side after it, and one send and one receive that hide
 * how the bytes travel (shared memory with a futex or a spin handshake,
 * signals, pipes, FIFOs, sockets). A blocked side checks now and then
 * that its peer still lives, so that a dead child never hangs the parent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/ipc_chan.h"

struct ipc_shm {
	_Atomic uint32_t req;	/* sequence number of the last request */
	char pad1[60];		/* keep the two words on separate lines */
	_Atomic uint32_t rsp;	/* sequence number of the last reply */
	char pad2[60];
	unsigned char data[];	/* request, then reply, @size bytes each */
};

/* How long a blocked side waits before it checks that its peer lives */
#define IPC_POLL_SEC	1

static bool is_shm(enum ipc_method m)
{
	return m == IPC_SHM_FUTEX || m == IPC_SHM_SPIN ||
	       m == IPC_POSIX_SHM_FUTEX || m == IPC_POSIX_SHM_SPIN;
}

static bool is_spin(enum ipc_method m)
{
	return m == IPC_SHM_SPIN || m == IPC_POSIX_SHM_SPIN;
}

static bool is_dgram(enum ipc_method m)
{
	return m == IPC_UNIX_DGRAM || m == IPC_UDP;
}

static long futex(_Atomic uint32_t *word, int op, uint32_t val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, (void *)word, op, val, ts, NULL, 0);
}

/* Has the child died (without reaping it)? */
static bool peer_gone(const struct ipc_chan *c)
{
	siginfo_t si;

	if (c->child)
		return getppid() != c->peer;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, c->peer, &si, WEXITED | WNOHANG | WNOWAIT))
		return true;
	return si.si_pid == c->peer;
}

static int setup_shm(struct ipc_chan *c)
{
	static int seq;
	char name[64];
	int fd;

	c->shm_len = sizeof(*c->shm) + 2 * c->size;
	if (c->m == IPC_SHM_FUTEX || c->m == IPC_SHM_SPIN) {
		c->shm = mmap(NULL, c->shm_len, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (c->shm == MAP_FAILED) {
			c->shm = NULL;
			return -errno;
		}
		return 0;
	}
	snprintf(name, sizeof(name), "/cowlab-ipc.%d.%d", (int)getpid(), ++seq);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ilt_hooks.shm_add)
		ilt_hooks.shm_add(name);
	if (ftruncate(fd, c->shm_len) == 0)
		c->shm = mmap(NULL, c->shm_len, PROT_READ | PROT_WRITE,
			      MAP_SHARED, fd, 0);
	else
		c->shm = MAP_FAILED;
	close(fd);
	/* The mapping keeps the object; no name is left behind from here */
	shm_unlink(name);
	if (ilt_hooks.shm_done)
		ilt_hooks.shm_done(name);
	if (c->shm == MAP_FAILED) {
		c->shm = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int setup_fifo(struct ipc_chan *c)
{
	int err = ilt_tmpdir(c->dir, sizeof(c->dir), "fifo");

	if (err)
		return err;
	snprintf(c->down, sizeof(c->down), "%s/down", c->dir);
	snprintf(c->up, sizeof(c->up), "%s/up", c->dir);
	if (mkfifo(c->down, 0600))
		return -errno;
	if (ilt_hooks.path_add)
		ilt_hooks.path_add(c->down);
	if (mkfifo(c->up, 0600))
		return -errno;
	if (ilt_hooks.path_add)
		ilt_hooks.path_add(c->up);
	return 0;
}

static void set_timeout(int fd)
{
	struct timeval tv = { .tv_sec = IPC_POLL_SEC };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int setup_inet(struct ipc_chan *c)
{
	socklen_t len = sizeof(c->addr);
	int type = c->m == IPC_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int i;

	for (i = 0; i < (c->m == IPC_TCP ? 1 : 2); i++) {
		c->fd[i] = socket(AF_INET, type | SOCK_CLOEXEC, 0);
		if (c->fd[i] < 0)
			return -errno;
		memset(&c->addr, 0, sizeof(c->addr));
		c->addr.sin_family = AF_INET;
		c->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(c->fd[i], (struct sockaddr *)&c->addr, len))
			return -errno;
		set_timeout(c->fd[i]);
	}
	if (c->m == IPC_TCP) {
		if (listen(c->fd[0], 1))
			return -errno;
		if (getsockname(c->fd[0], (struct sockaddr *)&c->addr, &len))
			return -errno;
		return 0;
	}
	/* UDP: connect each socket to the other */
	for (i = 0; i < 2; i++) {
		struct sockaddr_in a;

		len = sizeof(a);
		if (getsockname(c->fd[1 - i], (struct sockaddr *)&a, &len) ||
		    connect(c->fd[i], (struct sockaddr *)&a, len))
			return -errno;
	}
	return 0;
}

static int setup_pairs(struct ipc_chan *c)
{
	int sv[2];

	switch (c->m) {
	case IPC_PIPE:
		if (pipe2(sv, O_CLOEXEC))
			return -errno;
		c->fd[0] = sv[0];	/* parent -> child */
		c->fd[1] = sv[1];
		if (pipe2(sv, O_CLOEXEC))
			return -errno;
		c->fd[2] = sv[0];	/* child -> parent */
		c->fd[3] = sv[1];
		return 0;
	case IPC_UNIX_STREAM:
	case IPC_UNIX_DGRAM:
		if (socketpair(AF_UNIX, (c->m == IPC_UNIX_STREAM ?
			       SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0, sv))
			return -errno;
		c->fd[0] = sv[0];
		c->fd[1] = sv[1];
		set_timeout(sv[0]);
		set_timeout(sv[1]);
		return 0;
	default:
		return -EINVAL;
	}
}

int ipc_chan_setup(struct ipc_chan *c)
{
	sigset_t set;

	if (is_shm(c->m))
		return setup_shm(c);
	switch (c->m) {
	case IPC_SIGNAL:
		/* Blocked before fork, so no reply can arrive unblocked */
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGUSR2);
		return sigprocmask(SIG_BLOCK, &set, &c->oldmask) ? -errno : 0;
	case IPC_FIFO:
		return setup_fifo(c);
	case IPC_TCP:
	case IPC_UDP:
		if (c->m == IPC_UDP && c->size > IPC_UDP_MAX)
			return -EMSGSIZE;
		return setup_inet(c);
	default:
		return setup_pairs(c);
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int attach_tcp(struct ipc_chan *c)
{
	int fd;

	if (c->child) {
		close_fd(&c->fd[0]);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&c->addr,
				      sizeof(c->addr)))
			return -errno;
	} else {
		fd = accept4(c->fd[0], NULL, NULL, SOCK_CLOEXEC);
		close_fd(&c->fd[0]);
		if (fd < 0)
			return -errno;
	}
	nodelay(fd);
	set_timeout(fd);
	c->sfd = fd;
	c->rfd = fd;
	return 0;
}

static int attach_fifo(struct ipc_chan *c)
{
	/* Opening a FIFO waits for the other end: both open down first */
	if (c->child) {
		c->rfd = open(c->down, O_RDONLY | O_CLOEXEC);
		c->sfd = c->rfd < 0 ? -1 : open(c->up, O_WRONLY | O_CLOEXEC);
	} else {
		c->sfd = open(c->down, O_WRONLY | O_CLOEXEC);
		c->rfd = c->sfd < 0 ? -1 : open(c->up, O_RDONLY | O_CLOEXEC);
	}
	if (c->sfd < 0 || c->rfd < 0)
		return -errno;
	if (!c->child) {
		/* Both ends are open: the names are no longer needed */
		ilt_unlink(c->down);
		ilt_unlink(c->up);
		ilt_rmdir(c->dir);
		c->dir[0] = '\0';
	}
	return 0;
}

static int sig_send(struct ipc_chan *c, const void *buf, size_t n);
static int sig_recv(struct ipc_chan *c, void *buf, size_t n);

/*
 * The child says when it is ready: a signal sent before the child has set
 * up its signal dispositions could be discarded (setting SIG_IGN drops a
 * pending signal).
 */
static int attach_signal(struct ipc_chan *c)
{
	char b[sizeof(union sigval)] = { 0 };

	if (c->child)
		return sig_send(c, b, sizeof(b));
	return sig_recv(c, b, sizeof(b));
}

/* After fork: keep this side's ends, close the peer's. */
int ipc_chan_attach(struct ipc_chan *c)
{
	int mine = c->child ? 1 : 0;

	switch (c->m) {
	case IPC_SIGNAL:
		return attach_signal(c);
	case IPC_PIPE:
		c->rfd = c->child ? c->fd[0] : c->fd[2];
		c->sfd = c->child ? c->fd[3] : c->fd[1];
		close_fd(&c->fd[c->child ? 1 : 0]);
		close_fd(&c->fd[c->child ? 2 : 3]);
		return 0;
	case IPC_UNIX_STREAM:
	case IPC_UNIX_DGRAM:
	case IPC_UDP:
		c->sfd = c->fd[mine];
		c->rfd = c->fd[mine];
		close_fd(&c->fd[1 - mine]);
		return 0;
	case IPC_TCP:
		return attach_tcp(c);
	case IPC_FIFO:
		return attach_fifo(c);
	default:
		return 0;
	}
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t r;

	while (n) {
		r = write(fd, p, n);
		if (r < 0 && errno == EINTR && !ilt_stopping())
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		p += r;
		n -= r;
	}
	return 0;
}

static int read_all(struct ipc_chan *c, unsigned char *p, size_t n)
{
	ssize_t r;

	while (n) {
		r = read(c->rfd, p, n);
		if (r < 0 && errno == EINTR && !ilt_stopping())
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    !peer_gone(c))
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		p += r;
		n -= r;
	}
	return 0;
}

static int send_dgram(struct ipc_chan *c, const void *buf, size_t n)
{
	ssize_t r;

	do {
		r = send(c->sfd, buf, n, 0);
	} while (r < 0 && errno == EINTR && !ilt_stopping());
	if (r < 0)
		return -errno;
	return (size_t)r == n ? 0 : -EMSGSIZE;
}

static int recv_dgram(struct ipc_chan *c, void *buf, size_t n)
{
	ssize_t r;

	for (;;) {
		r = recv(c->rfd, buf, n, MSG_TRUNC);
		if (r >= 0)
			return (size_t)r == n ? 0 : -EMSGSIZE;
		if (errno == EINTR && !ilt_stopping())
			continue;
		if ((errno == EAGAIN || errno == EWOULDBLOCK) && !peer_gone(c))
			continue;
		return -errno;
	}
}

static _Atomic uint32_t *shm_word(struct ipc_chan *c, bool sending)
{
	/* The parent sends requests; the child sends replies */
	return sending == c->child ? &c->shm->rsp : &c->shm->req;
}

static unsigned char *shm_area(struct ipc_chan *c, bool sending)
{
	return c->shm->data + (sending == c->child ? c->size : 0);
}

static void shm_send(struct ipc_chan *c, const void *buf, size_t n,
		     uint32_t seq)
{
	_Atomic uint32_t *w = shm_word(c, true);

	memcpy(shm_area(c, true), buf, n);
	atomic_store_explicit(w, seq, memory_order_release);
	if (!is_spin(c->m))
		futex(w, FUTEX_WAKE, 1, NULL);
}

static inline void cpu_relax(void)
{
#if __has_builtin(__builtin_ia32_pause)
	/* PAUSE: tell an x86 core that this is a spin-wait loop */
	__builtin_ia32_pause();
#endif
}

static int shm_wait(struct ipc_chan *c, uint32_t seq)
{
	struct timespec ts = { .tv_sec = IPC_POLL_SEC };
	_Atomic uint32_t *w = shm_word(c, false);
	unsigned long spins = 0;
	uint32_t v;

	while ((v = atomic_load_explicit(w, memory_order_acquire)) != seq) {
		if (is_spin(c->m)) {
			cpu_relax();
			/* Yield now and then: the peer may share our CPU */
			if (++spins % 256 == 0)
				sched_yield();
			if (spins % (1ul << 16) == 0 &&
			    (ilt_stopping() || peer_gone(c)))
				return ilt_stopping() ? -EINTR : -ECHILD;
			continue;
		}
		if (ilt_stopping())
			return -EINTR;
		if (futex(w, FUTEX_WAIT, v, &ts) && errno == ETIMEDOUT &&
		    peer_gone(c))
			return -ECHILD;
	}
	return 0;
}

static int sig_send(struct ipc_chan *c, const void *buf, size_t n)
{
	union sigval v;

	memset(&v, 0, sizeof(v));
	memcpy(&v, buf, n);
	if (sigqueue(c->peer, c->child ? SIGUSR2 : SIGUSR1, v))
		return -errno;
	return 0;
}

static int sig_recv(struct ipc_chan *c, void *buf, size_t n)
{
	struct timespec ts = { .tv_sec = IPC_POLL_SEC };
	sigset_t set;
	siginfo_t si;

	sigemptyset(&set);
	sigaddset(&set, c->child ? SIGUSR1 : SIGUSR2);
	for (;;) {
		if (sigtimedwait(&set, &si, &ts) >= 0)
			break;
		if (errno == EINTR && !ilt_stopping())
			continue;
		if (errno == EAGAIN && !peer_gone(c))
			continue;
		return errno == EAGAIN ? -ECHILD : -errno;
	}
	memcpy(buf, &si.si_value, n);
	return 0;
}

int ipc_chan_send(struct ipc_chan *c, const void *buf, size_t n,
		  uint32_t seq)
{
	if (is_shm(c->m)) {
		shm_send(c, buf, n, seq);
		return 0;
	}
	if (c->m == IPC_SIGNAL)
		return sig_send(c, buf, n);
	if (is_dgram(c->m))
		return send_dgram(c, buf, n);
	return write_all(c->sfd, buf, n);
}

int ipc_chan_recv(struct ipc_chan *c, void *buf, size_t n, uint32_t seq)
{
	int err;

	if (is_shm(c->m)) {
		err = shm_wait(c, seq);
		if (!err)
			memcpy(buf, shm_area(c, false), n);
		return err;
	}
	if (c->m == IPC_SIGNAL)
		return sig_recv(c, buf, n);
	if (is_dgram(c->m))
		return recv_dgram(c, buf, n);
	return read_all(c, buf, n);
}

void ipc_chan_teardown(struct ipc_chan *c)
{
	struct timespec zero = { 0 };
	sigset_t set;
	int i;

	for (i = 0; i < 4; i++)
		if (c->fd[i] != c->sfd && c->fd[i] != c->rfd)
			close_fd(&c->fd[i]);
	if (c->rfd != c->sfd)
		close_fd(&c->rfd);
	close_fd(&c->sfd);
	if (c->shm)
		munmap(c->shm, c->shm_len);
	c->shm = NULL;
	if (c->m == IPC_SIGNAL && !c->child) {
		/* Drop a reply still queued after an error, then unblock */
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGUSR2);
		while (sigtimedwait(&set, NULL, &zero) > 0)
			;
		sigprocmask(SIG_SETMASK, &c->oldmask, NULL);
	}
	if (c->dir[0]) {
		ilt_unlink(c->down);
		ilt_unlink(c->up);
		ilt_rmdir(c->dir);
		c->dir[0] = '\0';
	}
}
