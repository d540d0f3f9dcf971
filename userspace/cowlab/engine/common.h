/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ipc, lock and thread objects of cowlab: the clock,
 * median and spread of repeated runs, and forking children that never
 * outlive cowlab.
 *
 * The ipc, lock and thread engines depend only on this header, so that the
 * unit tests can link them without the rest of cowlab.  The commands
 * connect the hooks below to cowlab's cleanup registry, which removes what
 * is left on Ctrl-C (ilt_hooks_cowlab(), cmd/common.c).
 */
#ifndef COWLAB_ENGINE_COMMON_H
#define COWLAB_ENGINE_COMMON_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* Every engine reads this clock; the output names it. */
#define ILT_CLOCK	CLOCK_MONOTONIC
#define ILT_CLOCK_NAME	"CLOCK_MONOTONIC"

/*
 * Cleanup hooks.  Any of them may be NULL (the unit tests leave them so).
 * child_*: a child was forked / has been reaped.
 * path_*: a file, FIFO or empty directory exists / is gone again.
 * shm_*: a POSIX shared memory name exists / was unlinked.
 * child_init: run first in every forked child.
 * stop: set asynchronously (Ctrl-C): loops and waits give up with EINTR.
 */
struct ilt_hooks {
	void (*child_add)(pid_t pid);
	void (*child_done)(pid_t pid);
	void (*path_add)(const char *path);
	void (*path_done)(const char *path);
	void (*shm_add)(const char *name);
	void (*shm_done)(const char *name);
	void (*child_init)(void);
	volatile sig_atomic_t *stop;
};

extern struct ilt_hooks ilt_hooks;

/* The median and the extremes of a series of per-run values. */
struct ilt_series {
	int n;
	double median;
	double min;
	double max;
};

uint64_t ilt_now_ns(void);
/* True once the hooks' stop flag is set. */
bool ilt_stopping(void);
void ilt_series_of(struct ilt_series *s, const double *v, int n);
/* Half the min..max range as a percentage of the median. */
double ilt_spread_pct(const struct ilt_series *s);

/*
 * fork() for workload children: the child dies with its parent
 * (PR_SET_PDEATHSIG) and takes the default action on SIGINT and SIGTERM,
 * so that only cowlab itself runs the cleanup.  Returns like fork().
 */
pid_t ilt_fork(void);
/* waitpid() that retries on EINTR and tells the hooks; returns the pid. */
pid_t ilt_wait(pid_t pid, int *status);
/* Kill (SIGKILL) and reap a child, e.g. on an error path. */
void ilt_kill(pid_t pid);

/* Where temporary files go: $TMPDIR, or /tmp. */
const char *ilt_tmp_base(void);
/*
 * Temporary directory under ilt_tmp_base(), registered for cleanup;
 * 0 or a negative errno.
 */
int ilt_tmpdir(char *buf, size_t len, const char *tag);
/* Remove a registered file or directory and tell the hooks. */
void ilt_unlink(const char *path);
void ilt_rmdir(const char *path);

/* Online CPUs this process may run on; the first of them. */
int ilt_ncpus(void);
int ilt_first_cpu(void);
/* Pin the calling thread to one CPU; 0 or a negative errno. */
int ilt_pin(int cpu);

#endif /* COWLAB_ENGINE_COMMON_H */
