// SPDX-License-Identifier: GPL-2.0
/*
 * The measurements of cowlab fork sweep: what copy-on-write saves. Fork
 * latency across sizes, the cost of the first write to a page after fork,
 * and an eager copy of the same memory for comparison.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/fork.h"
#include "lib/cowlab.h"
#include "lib/measure.h"
#include "lib/memstat.h"

static char *sweep_mem;
static uint64_t sweep_size;

/* One fork() of the parent holding sweep_mem; the child exits at once. */
static double sample_fork(void *arg)
{
	uint64_t t0 = now_ns(), t;
	pid_t pid = fork();

	(void)arg;
	if (pid == 0)
		_exit(0);
	t = now_ns() - t0;
	if (pid < 0)
		return -1;
	cleanup_add_child(pid);
	if (wait_child(pid, NULL))
		return -1;
	return t;
}

/* What fork would cost copying eagerly: fresh memory, then memcpy. */
static double sample_copy(void *arg)
{
	uint64_t t0, t;
	char *dst;

	(void)arg;
	t0 = now_ns();
	dst = mmap(NULL, sweep_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED)
		return -1;
	madvise(dst, sweep_size, MADV_NOHUGEPAGE);
	memcpy(dst, sweep_mem, sweep_size);
	t = now_ns() - t0;
	munmap(dst, sweep_size);
	return t;
}

/* A child writes every page once after fork; its time per page. */
static double first_write_cost(void)
{
	struct child_result res;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		uint64_t t0;

		cowlab_child_init();
		close(p[0]);
		fork_write_pages(sweep_mem, 0);
		t0 = now_ns();
		fork_write_pages(sweep_mem, sweep_size / fenv.page_size);
		res.write_ns = now_ns() - t0;
		res.write_faults = 0;
		_exit(write_full(p[1], &res, sizeof(res)) ? 1 : 0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	cleanup_add_child(pid);
	if (read_full(p[0], &res, sizeof(res))) {
		close(p[0]);
		kill_child(pid);
		return -1;
	}
	close(p[0]);
	if (wait_child(pid, NULL))
		return -1;
	return (double)res.write_ns / (sweep_size / fenv.page_size);
}

int fork_sweep_one(struct sweep_point *pt)
{
	int err = -1;

	sweep_size = pt->size;
	sweep_mem = fork_map_touched(pt->size);
	if (!sweep_mem)
		return -errno;
	if (!exiting && !measure_repeat(1, fenv.runs, sample_fork, NULL,
					&pt->fork)) {
		pt->write_ns_page = first_write_cost();
		if (pt->write_ns_page >= 0 &&
		    !measure_repeat(1, fenv.runs, sample_copy, NULL, &pt->copy))
			err = 0;
	}
	munmap(sweep_mem, pt->size);
	sweep_mem = NULL;
	return err;
}

/* The largest size the sweep may map: the source and an eager copy. */
uint64_t fork_sweep_cap(uint64_t *avail)
{
	struct sys_mem sm;

	*avail = 0;
	if (sys_mem(&sm))
		return fenv.max_size;
	*avail = sm.available;
	return sm.available / 3;
}
