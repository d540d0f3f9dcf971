// SPDX-License-Identifier: GPL-2.0
/*
 * Every measurement runs in a forked child of its own, bounded in time:
 * each library starts from nothing (Pth and ST cannot be set up twice in a
 * process), a crash or a hang costs one figure, not the run, and the
 * memory a run leaves behind never weighs on the next.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "sys.h"
#include "peers.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------- idle memory */

/* The child's result pipe, for a run that ends at its peak. */
static int out_fd = -1;
static void *out_buf;
static size_t out_size;
static bool count_only;

static __attribute__((noreturn)) void child_finish(void)
{
	_exit(write(out_fd, out_buf, out_size) == (ssize_t)out_size ? 0 : 1);
}

void idle_count_only(void)
{
	count_only = true;
}

bool idle_runs(void)
{
	return !count_only;
}

struct mem {
	long size, rss, pte, kstack;
};

static struct mem idle_base;

static void mem_now(struct mem *m)
{
	m->size = proc_kb("/proc/self/status", "VmSize");
	m->rss = proc_kb("/proc/self/status", "VmRSS");
	m->pte = proc_kb("/proc/self/status", "VmPTE");
	m->kstack = proc_kb("/proc/meminfo", "KernelStack");
}

void idle_start(void)
{
	mem_now(&idle_base);
}

void idle_peak(long made, struct idle_result *r)
{
	struct mem m;
	double n = made ? made : 1;

	mem_now(&m);
	r->made = made;
	r->va_bytes = (m.size - idle_base.size) * 1024.0 / n;
	r->user_bytes = (m.rss + m.pte - idle_base.rss - idle_base.pte) *
			1024.0 / n;
	r->kernel_bytes = (m.kstack - idle_base.kstack) * 1024.0 / n;
	/* nothing to tear down: the process ends with its threads */
	if (count_only)
		child_finish();
}

/* -------------------------------------------------------- the child */

static int read_result(int fd, void *out, size_t size, int timeout_s)
{
	uint64_t end = now_ns() + (uint64_t)timeout_s * 1000000000u;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;
	int left;

	while (got < size) {
		left = (int)((end - now_ns()) / 1000000);
		if (now_ns() >= end || poll(&p, 1, left) == 0)
			return -ETIMEDOUT;
		n = read(fd, (char *)out + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		got += n;
	}
	return 0;
}

int run_child(void (*fn)(void *arg, void *out), void *arg, void *out,
	      size_t size, int timeout_s)
{
	int fds[2], err, status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		out_fd = fds[1];
		out_buf = out;
		out_size = size;
		memset(out, 0, size);
		fn(arg, out);
		child_finish();
	}
	close(fds[1]);
	err = read_result(fds[0], out, size, timeout_s);
	close(fds[0]);
	if (err)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!err && (!WIFEXITED(status) || WEXITSTATUS(status)))
		err = -ECHILD;
	return err;
}

pid_t start_child(void (*fn)(void *arg), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn(arg);
		_exit(1);
	}
	return pid;
}

void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}
