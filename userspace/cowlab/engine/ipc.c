// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab ipc engine: a parent and a forked echo child exchange @count
 * messages per run over one mechanism.  The parent stamps each message
 * with its sequence number, the child sends back what it received, and the
 * parent checks the stamp of every reply and the whole reply in the
 * warm-up and at the end of each run.  Comparing every byte of every reply
 * would measure memcmp() as much as the channel for large messages.
 *
 * Each run is timed on the parent's side from its first send to its last
 * receive, as "perf bench sched pipe" does over its whole loop: one round
 * trip is one op there too.  The channel each mechanism needs is in
 * ipc_chan.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/ipc.h"
#include "engine/ipc_chan.h"

const struct ipc_method_info ipc_methods[IPC_NR_METHODS] = {
	[IPC_SHM_FUTEX] = { "shm", "mmap(MAP_SHARED|MAP_ANONYMOUS), futex handshake" },
	[IPC_SHM_SPIN] = { "shm-spin", "mmap(MAP_SHARED|MAP_ANONYMOUS), spin handshake" },
	[IPC_POSIX_SHM_FUTEX] = { "posix-shm", "shm_open()+mmap(MAP_SHARED), futex handshake" },
	[IPC_POSIX_SHM_SPIN] = { "posix-shm-spin", "shm_open()+mmap(MAP_SHARED), spin handshake" },
	[IPC_SIGNAL] = { "signal", "sigqueue() SIGUSR1/SIGUSR2 ping-pong, data in union sigval" },
	[IPC_PIPE] = { "pipe", "two pipe()s" },
	[IPC_FIFO] = { "fifo", "two mkfifo() FIFOs in a temporary directory" },
	[IPC_UNIX_STREAM] = { "unix-stream", "socketpair(AF_UNIX, SOCK_STREAM)" },
	[IPC_UNIX_DGRAM] = { "unix-dgram", "socketpair(AF_UNIX, SOCK_DGRAM)" },
	[IPC_TCP] = { "tcp", "TCP over 127.0.0.1, TCP_NODELAY" },
	[IPC_UDP] = { "udp", "UDP over 127.0.0.1" },
};

int ipc_method_lookup(const char *name)
{
	int i;

	for (i = 0; i < IPC_NR_METHODS; i++)
		if (!strcmp(name, ipc_methods[i].name))
			return i;
	return -1;
}

static size_t payload_of(enum ipc_method m, size_t size)
{
	/* One signal carries one union sigval: an int or a pointer */
	if (m == IPC_SIGNAL && size > sizeof(union sigval))
		return sizeof(union sigval);
	return size;
}

static void __attribute__((noreturn)) echo_child(struct ipc_chan *c,
						 size_t n, uint64_t total)
{
	unsigned char *buf = malloc(n ? n : 1);
	uint64_t i;

	if (!buf || ipc_chan_attach(c))
		_exit(3);
	for (i = 1; i <= total; i++) {
		if (ipc_chan_recv(c, buf, n, (uint32_t)i) ||
		    ipc_chan_send(c, buf, n, (uint32_t)i))
			_exit(4);
	}
	_exit(0);
}

static void fill(unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 131 + 7);
}

/* One timed (or warm-up) run of @count round trips; returns 0 or errno. */
static int parent_run(struct ipc_chan *c, struct ipc_result *r,
		      const struct ipc_params *p, bool warm,
		      unsigned char *tx, unsigned char *rx, double *ns)
{
	size_t n = r->payload, stamp = n < 8 ? n : 8;
	uint64_t t0, seq;
	unsigned long i;
	int err;

	t0 = ilt_now_ns();
	for (i = 0; i < p->count; i++) {
		if (ilt_stopping())
			return -EINTR;
		seq = r->msgs + 1;
		memcpy(tx, &seq, stamp);
		err = ipc_chan_send(c, tx, n, (uint32_t)seq);
		if (!err)
			err = ipc_chan_recv(c, rx, n, (uint32_t)seq);
		if (err)
			return err;
		r->msgs = seq;
		if (memcmp(tx, rx, stamp))
			r->bad++;
		else if (warm || i + 1 == p->count)
			r->bad += !!memcmp(tx, rx, n);
		if (warm || i + 1 == p->count)
			r->verified++;
	}
	*ns = (double)(ilt_now_ns() - t0) / p->count;
	return 0;
}

static int run_parent(struct ipc_chan *c, const struct ipc_params *p,
		      struct ipc_result *r)
{
	unsigned char *tx = malloc(r->payload + 8);
	unsigned char *rx = malloc(r->payload + 8);
	int i, err = ipc_chan_attach(c);
	double ns;

	r->why = "connect";
	if (!tx || !rx)
		err = -ENOMEM;
	if (!err)
		fill(tx, r->payload);
	for (i = 0; !err && i < p->warmup + p->runs; i++) {
		r->why = i < p->warmup ? "warm-up" : "run";
		err = parent_run(c, r, p, i < p->warmup, tx, rx, &ns);
		if (!err && i >= p->warmup)
			r->ns_rt[i - p->warmup] = ns;
	}
	free(tx);
	free(rx);
	return err;
}

static int check_params(const struct ipc_params *p)
{
	if (p->size < 1 || p->size > IPC_MAX_SIZE || p->count < 1 ||
	    p->count > IPC_MAX_COUNT || p->runs < 1 ||
	    p->runs > IPC_MAX_RUNS || p->warmup < 0 || p->warmup > 100)
		return -EINVAL;
	return 0;
}

int ipc_run(enum ipc_method m, const struct ipc_params *p,
	    struct ipc_result *r)
{
	struct ipc_chan c = { .m = m, .size = p->size, .sfd = -1,
			      .rfd = -1, .fd = { -1, -1, -1, -1 } };
	uint64_t total = (uint64_t)(p->warmup + p->runs) * p->count;
	pid_t pid;
	int st;

	memset(r, 0, sizeof(*r));
	r->payload = payload_of(m, p->size);
	r->why = "parameters";
	r->err = -check_params(p);
	if ((unsigned int)m >= IPC_NR_METHODS)
		r->err = EINVAL;
	if (r->err)
		return -r->err;
	r->why = "setup";
	r->err = -ipc_chan_setup(&c);
	if (r->err) {
		ipc_chan_teardown(&c);
		return -r->err;
	}
	pid = ilt_fork();
	if (pid == 0) {
		c.child = true;
		c.peer = getppid();
		echo_child(&c, r->payload, total);
	}
	if (pid < 0) {
		r->err = errno;
		r->why = "fork";
		ipc_chan_teardown(&c);
		return -r->err;
	}
	c.peer = pid;
	r->err = -run_parent(&c, p, r);
	if (r->err)
		kill(pid, SIGKILL);
	ipc_chan_teardown(&c);
	ilt_wait(pid, &st);
	if (!r->err && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		r->err = EPROTO;
		r->why = "echo child";
	}
	if (!r->err) {
		r->why = NULL;
		ilt_series_of(&r->rt, r->ns_rt, p->runs);
	}
	return -r->err;
}

double ipc_bandwidth(const struct ipc_result *r)
{
	if (r->rt.median <= 0)
		return 0;
	return 2.0 * r->payload * 1e9 / r->rt.median;
}

int ipc_visibility(struct ipc_visibility *v)
{
	static long global;
	long *shared, *private;
	pid_t pid;
	int st;

	memset(v, 0, sizeof(*v));
	v->magic = 0xC0FFEE;
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	private = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED || private == MAP_FAILED) {
		v->err = ENOMEM;
		goto out;
	}
	*shared = 1;
	*private = 1;
	global = 1;
	pid = ilt_fork();
	if (pid == 0) {
		*shared = v->magic;
		*private = v->magic;
		global = v->magic;
		_exit(0);
	}
	if (pid < 0) {
		v->err = errno;
		goto out;
	}
	ilt_wait(pid, &st);
	v->shared_seen = *shared;
	v->private_seen = *private;
	v->global_seen = global;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		v->err = EPROTO;
out:
	if (shared != MAP_FAILED)
		munmap(shared, 4096);
	if (private != MAP_FAILED)
		munmap(private, 4096);
	return -v->err;
}
