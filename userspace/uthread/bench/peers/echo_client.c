// SPDX-License-Identifier: GPL-2.0
/*
 * The echo benchmark's client: one process, one epoll loop, @conns
 * loopback connections, each with one request of ECHO_MSG bytes in flight
 * at a time (a closed loop, as wrk or memtier run). The same client for
 * every server, so that the servers alone differ.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo_client.h"
#include "peers.h"

struct conn {
	int fd;
	unsigned int got;
	uint64_t sent;
};

struct samples {
	uint32_t *v;
	size_t n, cap;
};

static int sample_add(struct samples *s, uint64_t ns)
{
	uint32_t *v;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 65536;
		v = realloc(s->v, s->cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
	}
	s->v[s->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int connect_one(int port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_request(struct conn *c)
{
	char msg[ECHO_MSG];

	memset(msg, 'e', sizeof(msg));
	c->got = 0;
	c->sent = now_ns();
	/* a fresh socket's buffer always takes 64 bytes at once */
	return write(c->fd, msg, sizeof(msg)) == sizeof(msg) ? 0 : -1;
}

/* Read what arrived on @c; 1 when its reply is complete, -1 on error. */
static int take_reply(struct conn *c)
{
	char buf[ECHO_MSG];
	ssize_t n = read(c->fd, buf, sizeof(buf) - c->got);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	c->got += n;
	return c->got == ECHO_MSG;
}

/* A process's CPU time so far, in clock ticks. */
struct cpu_ticks {
	unsigned long long user, sys;
	bool ok;
};

/* @pid's user and system time (all its threads, live or gone) from /proc. */
static struct cpu_ticks cpu_read(pid_t pid)
{
	struct cpu_ticks t = { 0 };
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return t;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return t;
	buf[n] = '\0';
	/* After the name, which may hold anything: state is field 3, utime 14 */
	p = strrchr(buf, ')');
	t.ok = p && p[1] == ' ' &&
	       sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		      &t.user, &t.sys) == 2;
	return t;
}

/* CPU seconds from @from to @to; -1 if unknown or none. */
static double cpu_s(const struct cpu_ticks *from, const struct cpu_ticks *to)
{
	double hz = (double)sysconf(_SC_CLK_TCK);
	unsigned long long ticks;

	if (!from->ok || !to->ok || hz <= 0)
		return -1;
	ticks = to->user - from->user + to->sys - from->sys;
	return ticks ? ticks / hz : -1;
}

/* What the server and the client spent on the counted part, into @r. */
static void cpu_result(const struct cpu_ticks from[2],
		       const struct cpu_ticks to[2], const struct echo_plan *p,
		       struct echo_result *r)
{
	double server = cpu_s(&from[0], &to[0]), client = cpu_s(&from[1], &to[1]);
	unsigned long long user = to[0].user - from[0].user;
	unsigned long long sys = to[0].sys - from[0].sys;

	r->cpu_us = -1;
	r->sys_share = -1;
	r->busy = -1;
	r->client_cpu_us = -1;
	if (!r->requests)
		return;
	if (server > 0) {
		r->cpu_us = server * 1e6 / r->requests;
		r->sys_share = (double)sys / (user + sys);
		r->busy = server / (p->run_ns / 1e9);
	}
	if (client > 0)
		r->client_cpu_us = client * 1e6 / r->requests;
}

static int run_loop(struct conn *c, int ep, const struct echo_plan *p,
		    struct samples *s, struct echo_result *r)
{
	struct epoll_event ev[256];
	uint64_t start = now_ns(), measure = start + p->warm_ns;
	uint64_t end = measure + p->run_ns, now;
	struct cpu_ticks from[2] = { 0 }, to[2];
	bool counting = false;
	int i, n, k;

	for (now = start; now < end; now = now_ns()) {
		if (!counting && now >= measure) {
			from[0] = cpu_read(p->server);
			from[1] = cpu_read(getpid());
			counting = true;
		}
		n = epoll_wait(ep, ev, 256, 100);
		if (n < 0 && errno != EINTR)
			return -1;
		for (i = 0; i < n; i++) {
			struct conn *cn = &c[ev[i].data.u32];

			k = take_reply(cn);
			if (k < 0)
				return -1;
			if (!k)
				continue;
			now = now_ns();
			if (now >= measure && now < end) {
				r->requests++;
				if (sample_add(s, now - cn->sent))
					return -1;
			}
			if (send_request(cn))
				return -1;
		}
	}
	to[0] = cpu_read(p->server);
	to[1] = cpu_read(getpid());
	cpu_result(from, to, p, r);
	return 0;
}

void echo_client(const struct echo_plan *p, struct echo_result *r)
{
	struct conn *c = calloc(p->conns, sizeof(*c));
	struct samples s = { 0 };
	struct epoll_event ev;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	long i;

	memset(r, 0, sizeof(*r));
	if (!c || ep < 0) {
		r->err = ENOMEM;
		goto out;
	}
	for (i = 0; i < p->conns; i++) {
		c[i].fd = connect_one(p->port);
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		if (c[i].fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev)) {
			r->err = errno ? errno : EIO;
			goto out;
		}
		r->connected++;
	}
	for (i = 0; i < p->conns; i++)
		if (send_request(&c[i])) {
			r->err = errno;
			goto out;
		}
	if (run_loop(c, ep, p, &s, r)) {
		r->err = errno ? errno : ECONNRESET;
		goto out;
	}
	r->per_s = r->requests / (p->run_ns / 1e9);
	if (s.n) {
		qsort(s.v, s.n, sizeof(*s.v), cmp_u32);
		r->p50_us = s.v[s.n / 2] / 1e3;
		r->p99_us = s.v[s.n - 1 - s.n / 100] / 1e3;
	}
out:
	for (i = 0; c && i < r->connected; i++)
		close(c[i].fd);
	if (ep >= 0)
		close(ep);
	free(s.v);
	free(c);
}
