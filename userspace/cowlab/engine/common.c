// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by cowlab's ipc, lock and thread engines; see
 * engine/common.h.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/common.h"

struct ilt_hooks ilt_hooks;

uint64_t ilt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(ILT_CLOCK, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

bool ilt_stopping(void)
{
	return ilt_hooks.stop && *ilt_hooks.stop;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void ilt_series_of(struct ilt_series *s, const double *v, int n)
{
	double sorted[256];
	int i;

	memset(s, 0, sizeof(*s));
	if (n <= 0)
		return;
	if (n > 256)
		n = 256;
	for (i = 0; i < n; i++)
		sorted[i] = v[i];
	qsort(sorted, n, sizeof(sorted[0]), cmp_double);
	s->n = n;
	s->min = sorted[0];
	s->max = sorted[n - 1];
	if (n % 2)
		s->median = sorted[n / 2];
	else
		s->median = (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

double ilt_spread_pct(const struct ilt_series *s)
{
	if (s->n == 0 || s->median <= 0)
		return 0;
	return (s->max - s->min) / 2 / s->median * 100;
}

pid_t ilt_fork(void)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return pid;
	if (pid > 0) {
		if (ilt_hooks.child_add)
			ilt_hooks.child_add(pid);
		return pid;
	}
	if (ilt_hooks.child_init)
		ilt_hooks.child_init();
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The parent may have died before prctl() took effect */
	if (getppid() != parent)
		_exit(1);
	return 0;
}

pid_t ilt_wait(pid_t pid, int *status)
{
	pid_t r;
	int st = 0;

	for (;;) {
		/* Interrupted (now or before): stop it rather than wait it out */
		if (ilt_stopping())
			kill(pid, SIGKILL);
		r = waitpid(pid, &st, 0);
		if (r >= 0 || errno != EINTR)
			break;
	}
	if (r > 0 && ilt_hooks.child_done)
		ilt_hooks.child_done(r);
	if (status)
		*status = st;
	return r;
}

void ilt_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	ilt_wait(pid, NULL);
}

const char *ilt_tmp_base(void)
{
	const char *base = getenv("TMPDIR");

	return base && *base ? base : "/tmp";
}

int ilt_tmpdir(char *buf, size_t len, const char *tag)
{
	int n;

	n = snprintf(buf, len, "%s/cowlab-%s.XXXXXX", ilt_tmp_base(), tag);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (!mkdtemp(buf))
		return -errno;
	if (ilt_hooks.path_add)
		ilt_hooks.path_add(buf);
	return 0;
}

void ilt_unlink(const char *path)
{
	unlink(path);
	if (ilt_hooks.path_done)
		ilt_hooks.path_done(path);
}

void ilt_rmdir(const char *path)
{
	rmdir(path);
	if (ilt_hooks.path_done)
		ilt_hooks.path_done(path);
}

int ilt_ncpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
}

int ilt_first_cpu(void)
{
	cpu_set_t set;
	int i;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			return i;
	return 0;
}

int ilt_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return 0;
}
