/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowlab thread: processes, kernel threads and user threads (libuthread)
 * side by side: what each costs to create, to keep and to switch, how
 * they use the CPUs, and what one unit's crash does to the others.
 * Every function returns 0 or a negative errno. The costs are measured in
 * engine/thread.c, the use of the CPUs in thread_cpu.c, what threads share
 * in thread_sharing.c.
 */
#ifndef COWLAB_ENGINE_THREAD_H
#define COWLAB_ENGINE_THREAD_H

#include <stdbool.h>
#include <sys/types.h>

#include "engine/common.h"

enum thread_model { TM_PROCESS, TM_KTHREAD, TM_UTHREAD, TM_NR };

extern const char *const thread_model_names[TM_NR];

#define THREAD_MAX_RUNS		32
#define THREAD_MAX_COUNT	10000
#define THREAD_MAX_LWP		16

/* ns per create + wait/join, over @runs runs of @count units each. */
int thread_create_cost(enum thread_model m, int count, int runs,
		       struct ilt_series *s);
/*
 * Memory one idle unit costs: a process's USS (its private pages), or
 * the growth of this process's RSS per idle thread.  Bytes.
 */
int thread_memory(enum thread_model m, int count, double *bytes);
/* ns per switch, two units ping-ponging on one CPU. */
int thread_switch_cost(enum thread_model m, long iters, int runs,
		       struct ilt_series *s);

/* The same CPU-bound work, once alone and once per CPU in each model. */
struct thread_speedup {
	int units;		/* one per CPU we may use */
	double one_ns;		/* one unit alone */
	double all_ns[TM_NR];	/* @units units at once */
	double speedup[TM_NR];	/* units * one_ns / all_ns, median of rounds */
	double cpus[TM_NR];	/* CPU time / wall time: CPUs busy at once */
};

int thread_speedup(struct thread_speedup *r);

/*
 * Everything pinned to one CPU for @wall_ns: process A runs two spinning
 * threads (kernel or user), process B one.  CPU time of each.
 */
struct thread_share {
	bool user;		/* A's threads are user threads */
	int cpu;
	double wall_ns;
	double a_ns[2];		/* A's two threads */
	double b_ns;		/* B's one thread */
};

int thread_sched_share(bool user, double wall_ns, struct thread_share *r);

/* Wait statuses of the crash experiments (see thread_sharing.c). */
struct thread_crash {
	int thread_proc_status;	/* a process whose second thread crashed */
	bool main_survived;	/* its main thread reached its exit: never */
	int child_status;	/* a crashing child process */
	int parent_status;	/* its parent, which went on and exited 0 */
	bool parent_went_on;
};

int thread_crash(struct thread_crash *r);

/* Kernel thread ids (LWPs) of this process while @n threads live. */
struct thread_lwp {
	pid_t pid;
	int n;			/* threads, main included */
	pid_t tid[THREAD_MAX_LWP];
	int tasks;		/* entries in /proc/self/task meanwhile */
};

int thread_lwp(int n, struct thread_lwp *r);

/* strtok() against strtok_r() with threads tokenizing at once. */
struct thread_strtok {
	int threads;
	long rounds;		/* strings tokenized, per function */
	long bad_strtok;	/* rounds that returned wrong tokens */
	long bad_strtok_r;
	int status;		/* wait status of the subprocess it ran in */
};

int thread_strtok(struct thread_strtok *r);

/* ---------------------------------------- for the thread engine's files */

/* The size of the page an experiment's subprocess answers through. */
#define THREAD_SHARED_LEN	65536

/* THREAD_SHARED_LEN bytes of MAP_SHARED anonymous memory, or NULL. */
void *thread_shared_page(void);
/*
 * Run @fn(@arg, @shared) in a forked child and wait for it.  Returns the
 * wait status, or -1 if it could not fork.
 */
int thread_in_child(int (*fn)(void *arg, void *shared), void *arg,
		    void *shared);
/* The child exited, and with status 0. */
bool thread_exited_ok(int st);

#endif /* COWLAB_ENGINE_THREAD_H */
