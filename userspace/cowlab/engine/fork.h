/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fork engine: the memory cowlab fork maps and writes and the run's
 * steps (engine/fork.c), the page tables at each step (fork_pages.c) and
 * the sweep's measurements (fork_sweep.c). cmd/fork.c sets fenv from its
 * options and reports what a run or a sweep found.
 */
#ifndef COWLAB_ENGINE_FORK_H
#define COWLAB_ENGINE_FORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/measure.h"
#include "lib/memstat.h"
#include "lib/views.h"

/* --pages: the most pages drawn, a terminal's worth per step. */
#define FORK_PAGES_MAX	64

/* The options, set by cmd/fork.c; the defaults are in engine/fork.c. */
struct fork_env {
	uint64_t size;
	double write_pct;
	long children;
	long runs;
	uint64_t max_size;
	long pages;		/* --pages: page tables drawn; 0: none */
	bool sweep;
	size_t page_size;
};

extern struct fork_env fenv;

/* What a child measured around its writes, sent to the parent. */
struct child_result {
	uint64_t write_ns;
	uint64_t write_faults;	/* getrusage in the child, around the loop */
};

/* SIZE of private anonymous memory, huge pages off, every page written. */
char *fork_map_touched(uint64_t size);
uint64_t fork_minflt_self(void);
/* Write one byte in each of the first n pages: each write breaks CoW. */
void fork_write_pages(char *p, size_t n);

/* One child of the run, and the pipes it is driven by. */
struct child {
	pid_t pid;		/* 0 once reaped */
	pid_t id;		/* the pid it had, for the report */
	int go;			/* parent -> child: one byte, write now */
	int done;		/* child -> parent: struct child_result */
	double fork_ns;
};

/* One task at one step, measured now and reported at the end. */
struct task_snap {
	const char *step;
	char role[24];
	pid_t pid;
	bool mem_ok, flt_ok;
	struct mem_usage mem;
	struct proc_faults flt;	/* since the run began */
	int64_t k[3];		/* cow_copy, cow_reuse, faults; -1 unknown */
};

/* The system's memory at one step. */
struct sys_snap {
	const char *step;
	bool ok;
	struct sys_mem sm;
};

/* The steps a run snapshots: before and after the fork, the writes... */
#define FORK_NSTEPS	5

/* One run: its memory, children and snapshots, measured step by step. */
struct fork_run {
	char *mem;
	size_t npages, nwrite;
	struct child *kids;
	int nkids;
	struct proc_faults parent_base;
	struct ct_table ct_base;
	bool ct;
	uint64_t touch_faults;
	uint64_t rewrite_faults, rewrite_ns;
	int64_t rewrite_k[3];	/* the module's, around the loop; -1 unknown */
	struct task_snap *snaps;
	int nsnaps;
	struct sys_snap sys[FORK_NSTEPS + 1];
	int nsys;
	struct child_result *res;
	double *fork_ns;
	struct fork_pages *pages;	/* --pages, or NULL */
};

/* The module's counters a run follows, for each task at each step. */
#define FORK_NKCOLS	3
extern const char *const fork_kcols[FORK_NKCOLS];

/* The run's memory, pipes and snapshots: 0 or -ENOMEM. */
int fork_alloc(struct fork_run *r);
/*
 * Fork the children, let them write one at a time, end them and rewrite
 * every page, with a snapshot of every task after each step: 0, or the
 * exit status of a command that stops.
 */
int fork_steps(struct fork_run *r);
/* Close the pipes, reap (or kill, on Ctrl-C) the children still there. */
void fork_end_children(struct fork_run *r);

/* One size of the sweep. */
struct sweep_point {
	uint64_t size;
	struct summary fork;	/* fork() latency, ns */
	double write_ns_page;	/* first write after fork, per page */
	struct summary copy;	/* eager copy of the same memory, ns */
};

/* One size of the sweep: fork latency, first write, eager copy; 0 or -1. */
int fork_sweep_one(struct sweep_point *pt);
/* The largest size the sweep may map; *avail: MemAvailable, or 0. */
uint64_t fork_sweep_cap(uint64_t *avail);

#endif /* COWLAB_ENGINE_FORK_H */
