/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The clone engine (engine/clone.c): one experiment is one task created
 * with the clone system call and the flags of the resources it shares;
 * cmd/clone.c chooses them and reports what each task shared.
 */
#ifndef COWLAB_ENGINE_CLONE_H
#define COWLAB_ENGINE_CLONE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What the new task may share, in the order of --share's names. */
enum share_bit { SHARE_VM, SHARE_FILES, SHARE_FS, SHARE_SIGHAND,
		 SHARE_THREAD, NR_SHARE };

extern const char *const clone_share_names[NR_SHARE];

/* What the new task reports through the pipe. */
struct clone_report {
	long pid, tid, fd;
};

/* One experiment: the flags, what was seen, and the plumbing. */
struct clone_exp {
	const char *name;
	unsigned long share;	/* bits of enum share_bit */
	/* results */
	bool ok;
	struct clone_report rep;
	bool same_process, var_seen, fd_seen, cwd_seen, sig_seen;
	int64_t forks, threads, child_tgid;	/* module; -1 unknown */
	int process_row;	/* a processes row of its own: 1, 0; -1 unknown */
	bool no_row;		/* the module had no tasks row for it */
	/* plumbing */
	int pipe[2];
	int wfd;		/* the task's end, a copy: pipe[1] changes */
	char *stack;
	pid_t ptid;
	volatile pid_t ctid;
};

/*
 * Create the task of @x in @tmpdir, wait for it, look at what it changed
 * and come back to the directory @home: 0, or the exit status of a
 * command that stops (p_err() said why).
 */
int clone_run_exp(struct clone_exp *x, const char *tmpdir, int home);

#endif /* COWLAB_ENGINE_CLONE_H */
