// SPDX-License-Identifier: GPL-2.0
/*
 * The exec engine's run: a child stops just before execve() so that its
 * fault counts (getrusage, and the module's row) can be taken there, then
 * runs the program; the messages of cowlab's own helper (exec_helper.c)
 * are collected as they come and, with --pages, its page tables read at
 * each stop. cmd/exec.c reports what the run collected.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/exec.h"
#include "lib/cowlab.h"
#include "lib/measure.h"
#include "lib/memstat.h"
#include "lib/pagetable.h"
#include "lib/views.h"

struct exec_env xenv = {
	.touch_pct = 100,
};

/*
 * execve() failed: tell the parent why on the ready pipe, which a
 * successful execve() would have closed (O_CLOEXEC), then leave as sh does.
 */
static __attribute__((noreturn)) void exec_failed(struct exec_run *x)
{
	int err = errno;

	write_full(x->ready[1], &err, sizeof(err));
	_exit(127);
}

static __attribute__((noreturn)) void exec_child(struct exec_run *x,
						 char **args)
{
	struct rusage ru;
	char fd[16], pct[32], msize[32], ack[16];
	char *hargv[7];
	char c;
	int null;

	cowlab_child_init();
	close(x->ready[0]);
	close(x->go[1]);
	close(x->report[0]);
	getrusage(RUSAGE_SELF, &ru);
	x->pre.minflt = ru.ru_minflt;
	x->pre.majflt = ru.ru_majflt;
	if (write_full(x->ready[1], &x->pre, sizeof(x->pre)) ||
	    read_full(x->go[0], &c, 1))
		_exit(126);
	if (xenv.binary) {
		/* the report pipe is the helper's: EOF must not wait for PATH */
		close(x->report[1]);
		/* its output would mix with ours */
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		execvp(xenv.binary, args);
		exec_failed(x);
	}
	snprintf(fd, sizeof(fd), "%d", x->report[1]);
	snprintf(pct, sizeof(pct), "%g", xenv.touch_pct);
	snprintf(msize, sizeof(msize), "%llu",
		 (unsigned long long)xenv.mmap_size);
	hargv[0] = (char *)cowlab_self_path();
	hargv[1] = (char *)"__exec-helper";
	hargv[2] = fd;
	hargv[3] = pct;
	hargv[4] = msize;
	snprintf(ack, sizeof(ack), "%d", xenv.pages ? x->ack[0] : -1);
	hargv[5] = ack;
	hargv[6] = NULL;
	execv(hargv[0], hargv);
	exec_failed(x);
}

static int exec_start(struct exec_run *x, char **args)
{
	if (pipe2(x->ready, O_CLOEXEC) || pipe2(x->go, O_CLOEXEC) ||
	    pipe(x->report) || pipe(x->ack))
		return -errno;
	/* only the helper's ends cross execve */
	fcntl(x->report[0], F_SETFD, FD_CLOEXEC);
	fcntl(x->ack[1], F_SETFD, FD_CLOEXEC);
	x->pid = fork();
	if (x->pid == 0)
		exec_child(x, args);
	close(x->ready[1]);
	close(x->go[0]);
	close(x->report[1]);
	close(x->ack[0]);
	if (x->pid < 0)
		return -errno;
	cleanup_add_child(x->pid);
	return 0;
}

static int exec_wait(struct exec_run *x)
{
	for (;;) {
		if (exiting)
			return -EINTR;
		if (wait4(x->pid, &x->status, 0, &x->ru) == x->pid)
			break;
		if (errno != EINTR)
			return -errno;
	}
	cleanup_forget_child(x->pid);
	return 0;
}

/* The helper stopped at MSG_PAGES: read its page tables, let it go on. */
static void exec_look(struct exec_run *x, const struct helper_msg *m)
{
	struct pt_page **r = x->rows[m->step ? 1 : 0];
	int err;

	err = pt_read(x->pid, m->pages, xenv.pages, r[0], &x->view);
	if (!err)
		err = pt_read(x->pid, m->rss, xenv.pages, r[1], &x->view);
	if (err && !x->pages_err)
		x->pages_err = err;
	if (write(x->ack[1], "g", 1) != 1 && !x->pages_err)
		x->pages_err = -errno;
}

/* Run the child up to execve, snapshot, let it go, collect, reap. */
int exec_run(struct exec_run *x, char **args)
{
	char c = 'g';
	int err;

	err = exec_start(x, args);
	if (err) {
		p_err("exec: cannot start the child: %s", strerror(-err));
		return EXIT_FAIL;
	}
	if (read_full(x->ready[0], &x->pre, sizeof(x->pre)))
		return exiting ? EXIT_INTR : EXIT_FAIL;
	/*
	 * The child is blocked now: its faults in /proc and its module row
	 * are read at the same point, so "from execve on" is one window for
	 * both (its own getrusage() came a few faults earlier).
	 */
	proc_faults(x->pid, 0, &x->pre);
	if (x->ct && ct_read_table("tasks", &x->ct_pre))
		x->ct = false;
	x->go_ns = now_ns();
	if (write_full(x->go[1], &c, 1))
		return exiting ? EXIT_INTR : EXIT_FAIL;
	while (x->nmsgs < (int)ARRAY_SIZE(x->msgs) &&
	       !read_full(x->report[0], &x->msgs[x->nmsgs],
			  sizeof(x->msgs[0]))) {
		if (x->msgs[x->nmsgs].kind == MSG_PAGES)
			exec_look(x, &x->msgs[x->nmsgs]);
		x->nmsgs++;
	}
	close(x->ack[1]);
	if (exec_wait(x))
		return EXIT_INTR;
	/* the child is gone: the ready pipe holds an errno or nothing */
	if (read_full(x->ready[0], &x->exec_err, sizeof(x->exec_err)))
		x->exec_err = 0;
	if (x->ct && ct_read_table("tasks", &x->ct_post)) {
		ct_table_free(&x->ct_pre);
		x->ct = false;
	}
	return 0;
}

int exec_alloc_pages(struct exec_run *x)
{
	int s, b;

	for (s = 0; s < 2; s++) {
		for (b = 0; b < 2 && xenv.pages; b++) {
			x->rows[s][b] = calloc(xenv.pages, sizeof(struct pt_page));
			if (!x->rows[s][b])
				return -ENOMEM;
		}
	}
	return 0;
}

void exec_free_pages(struct exec_run *x)
{
	int s, b;

	for (s = 0; s < 2; s++)
		for (b = 0; b < 2; b++)
			free(x->rows[s][b]);
}
