/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exec engine: the run (engine/exec.c) and the program it executes by
 * default, cowlab itself in a helper mode (exec_helper.c); what they share
 * are the messages the helper sends back, one per stage, and the sizes it
 * works with. cmd/exec.c sets xenv from its options and reports the run.
 */
#ifndef COWLAB_ENGINE_EXEC_H
#define COWLAB_ENGINE_EXEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "lib/memstat.h"
#include "lib/pagetable.h"
#include "lib/views.h"

#define BUF_SIZE	(1 << 20)
#define MMAP_STEPS	10
/* --pages: the most pages drawn of each buffer. */
#define EXEC_PAGES_MAX	64

/* What the helper sends back, one message per stage. */
enum helper_msg_kind {
	MSG_MAIN,		/* reached main(): a = minflt, b = majflt */
	MSG_FILE,		/* read the file buffer: c = pages */
	MSG_ANON,		/* wrote the anon buffer: c = pages */
	MSG_MMAP,		/* one mmap step: c = bytes touched, d = RSS */
	/* --pages: pages = file_buf, rss = anon_buf; then it waits */
	MSG_PAGES,
	MSG_END,
};

struct helper_msg {
	uint32_t kind;
	uint32_t step;
	uint64_t minflt, majflt;
	uint64_t pages;		/* or bytes touched (MSG_MMAP) */
	uint64_t rss;		/* MSG_MMAP: bytes */
	uint64_t ts;		/* now_ns() */
};

/*
 * cowlab __exec-helper FD PERCENT MMAP_SIZE ACK_FD: with ACK_FD above -1,
 * the helper stops at MSG_PAGES (before it touches its buffers, and after)
 * until the parent has read its page tables and written a byte there.
 */
int do_exec_helper(int argc, char **argv);

/* The options, set by cmd/exec.c; the defaults are in engine/exec.c. */
struct exec_env {
	const char *binary;
	double touch_pct;
	uint64_t mmap_size;
	long pages;		/* --pages: the helper's page tables drawn */
};

extern struct exec_env xenv;

/* One run: the child's pipes, its counts before and after, the messages. */
struct exec_run {
	pid_t pid;
	int ready[2];		/* child -> parent: its faults before execve */
	int go[2];		/* parent -> child: exec now */
	int report[2];		/* helper -> parent: struct helper_msg */
	int ack[2];		/* parent -> helper: --pages looked */
	struct proc_faults pre;
	struct ct_table ct_pre, ct_post;
	bool ct;
	int exec_err;		/* errno of a failed execve(), else 0 */
	uint64_t go_ns;
	struct rusage ru;
	int status;
	struct helper_msg msgs[8 + MMAP_STEPS + 1];
	int nmsgs;
	/* --pages: [before, after touching][file_buf, anon_buf] */
	struct pt_page *rows[2][2];
	struct pt_view view;
	int pages_err;
};

/*
 * Run the child up to execve, snapshot, let it go, collect, reap: 0, or
 * the exit status of a command that stops (p_err() said why).
 */
int exec_run(struct exec_run *x, char **args);
/* --pages: the rows of the helper's page tables; 0 or -ENOMEM. */
int exec_alloc_pages(struct exec_run *x);
void exec_free_pages(struct exec_run *x);

#endif /* COWLAB_ENGINE_EXEC_H */
