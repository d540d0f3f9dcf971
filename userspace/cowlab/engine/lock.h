/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowlab lock: the lost-update race.  N processes (or threads) each add one
 * to a shared counter K times, read-modify-write, under one of several
 * locks or none; the final value shows what the lock was worth.
 */
#ifndef COWLAB_ENGINE_LOCK_H
#define COWLAB_ENGINE_LOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/common.h"

enum lock_method {
	LOCK_NONE,
	LOCK_LOCKFILE,
	LOCK_EXCL,
	LOCK_FLOCK,
	LOCK_FCNTL,
	LOCK_OFD,
	LOCK_CAS,
	LOCK_PETERSON,
	LOCK_PETERSON_NOFENCE,
	LOCK_SPIN,
	LOCK_MUTEX,
	LOCK_NR_METHODS
};

struct lock_method_info {
	const char *name;
	bool in_file;		/* the counter is a file, else shared memory */
	bool two_only;		/* Peterson's algorithm: two parties */
	bool excludes;		/* mutual exclusion between processes */
	const char *what;
};

extern const struct lock_method_info lock_methods[LOCK_NR_METHODS];

#define LOCK_MAX_PROCS	64
#define LOCK_MAX_COUNT	10000000L

struct lock_params {
	int procs;		/* parties: processes, or threads */
	long count;		/* increments per party */
	bool threads;		/* threads of this process instead */
};

struct lock_result {
	long long expected;	/* procs * count */
	long long final;	/* the counter at the end */
	long long lost;		/* expected - final */
	double ns;		/* wall time from the start signal to the end */
	double ops_per_s;	/* increments done (lost or not) per second */
	dev_t dev;		/* the counter file (file methods) */
	ino_t ino;
	int nworkers;
	pid_t workers[LOCK_MAX_PROCS];	/* their pids (processes) */
	int err;
	const char *why;
};

int lock_method_lookup(const char *name);
/* Is this combination exact, i.e. must it end at procs * count? */
bool lock_exact(enum lock_method m, bool threads);
/* Validate: 0, or -EINVAL with *why set to a one-line reason. */
int lock_check(enum lock_method m, const struct lock_params *p,
	       const char **why);
/* 0 or a negative errno; r->err holds the (positive) errno value. */
int lock_run(enum lock_method m, const struct lock_params *p,
	     struct lock_result *r);

/*
 * Called by lock_run() with the counter file's directory and file open,
 * before the parties start and after they have finished, so that the
 * caller can snapshot the module's file-lock counters around the run.
 */
extern void (*lock_around_hook)(bool after, dev_t dev, ino_t ino);

/*
 * cowtrace.ko's file-lock counters for one file, summed over its rows in
 * the module's "locks" view (section "== file locks ..."; header line
 * "pid tgid comm type dev inode acquired conflicts waits wait_ns ...").
 * Columns are taken by name, so that new ones need no change here; max_*
 * columns keep their maximum, the others are summed (lock_kstats.c).
 */
#define LOCK_KCOLS	12

struct lock_kstats {
	int ncols;
	char name[LOCK_KCOLS][24];
	long long v[LOCK_KCOLS];
	int rows;		/* rows of this file */
};

/* 0, or -ENOENT if the text has no file-lock table. */
int lock_kparse(const char *text, unsigned int major, unsigned int minor,
		unsigned long ino, struct lock_kstats *k);
/* A counter by name; -1 if absent.  after - before for the run. */
long long lock_kget(const struct lock_kstats *k, const char *name);

#endif /* COWLAB_ENGINE_LOCK_H */
