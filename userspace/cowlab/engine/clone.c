// SPDX-License-Identifier: GPL-2.0
/*
 * The clone engine: a task created with the clone system call and chosen
 * CLONE_* flags writes a variable, opens a file, changes directory,
 * ignores a signal and reports its pid and tid; the creator then looks at
 * which of these it sees, and at the module's row of the new task.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "engine/clone.h"
#include "lib/cowlab.h"
#include "lib/views.h"

#define STACK_SIZE	(256 * 1024)

const char *const clone_share_names[NR_SHARE] = {
	"vm", "files", "fs", "sighand", "thread",
};

static const int share_flags[NR_SHARE] = {
	CLONE_VM, CLONE_FILES, CLONE_FS, CLONE_SIGHAND, CLONE_THREAD,
};

/* Written by the new task: the creator sees it only with CLONE_VM. */
static volatile int shared_var;

static int clone_flags(unsigned long share)
{
	int i, flags = 0;

	for (i = 0; i < NR_SHARE; i++)
		if (share & (1UL << i))
			flags |= share_flags[i];
	return flags;
}

/* The kernel's struct sigaction, for rt_sigaction without libc. */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};

/*
 * The new task. It may share the creator's memory, TLS and stack-less
 * state, so it makes raw system calls only and touches nothing of libc.
 */
static int clone_child(void *arg)
{
	struct clone_exp *x = arg;
	struct ksigaction ign = { .handler = SIG_IGN };
	struct clone_report rep;

	shared_var = 42;
	rep.pid = syscall(SYS_getpid);
	rep.tid = syscall(SYS_gettid);
	rep.fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
	syscall(SYS_chdir, "/");
	syscall(SYS_rt_sigaction, SIGUSR2, &ign, NULL, sizeof(ign.mask));
	syscall(SYS_write, x->wfd, &rep, sizeof(rep));
	return 0;
}

/*
 * Wait for a CLONE_THREAD task to be gone. The kernel clears ctid early in
 * the thread's exit, before the exit that the module sees (and before its
 * last numbers are final): wait on, until the thread has left
 * /proc/self/task, which it does only once that exit is done.
 */
static int wait_thread(struct clone_exp *x)
{
	struct timespec ms = { .tv_nsec = 1000000 };
	char path[64];
	pid_t t;
	int i;

	while ((t = x->ctid) != 0) {
		if (exiting)
			return -EINTR;
		syscall(SYS_futex, &x->ctid, FUTEX_WAIT, t, NULL, NULL, 0);
	}
	snprintf(path, sizeof(path), "/proc/self/task/%ld", (long)x->rep.tid);
	for (i = 0; i < 10000 && !access(path, F_OK); i++) {
		if (exiting)
			return -EINTR;
		nanosleep(&ms, NULL);
	}
	return 0;
}

/* The task's report; a task that died says nothing: give up after 10 s. */
static int read_report(struct clone_exp *x)
{
	struct pollfd pfd = { .fd = x->pipe[0], .events = POLLIN };

	if (poll(&pfd, 1, 10000) != 1)
		return -ETIMEDOUT;
	return read_full(x->pipe[0], &x->rep, sizeof(x->rep));
}

static pid_t start_task(struct clone_exp *x, int flags)
{
	pid_t pid;

	if (!(flags & CLONE_VM)) {
		/* the raw system call, as fork() makes it: no new stack */
		pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
		if (pid == 0) {
			cowlab_child_init();
			_exit(clone_child(x));
		}
		return pid;
	}
	/*
	 * A task sharing our memory needs its own stack, and must start in
	 * a function: glibc's clone() wrapper makes the same system call
	 * and then calls clone_child() on the new stack.
	 */
	x->stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (x->stack == MAP_FAILED) {
		x->stack = NULL;
		return -1;
	}
	x->ctid = 1;
	flags |= CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
	if (!(flags & CLONE_THREAD))
		flags |= SIGCHLD;
	return clone(clone_child, x->stack + STACK_SIZE, flags, x, &x->ptid,
		     NULL, &x->ctid);
}

/* What the creator sees after the task ran. */
static void observe(struct clone_exp *x, const char *tmpdir)
{
	struct sigaction sa;
	char cwd[PATH_MAX];

	x->same_process = x->rep.pid == getpid();
	x->var_seen = shared_var == 42;
	x->fd_seen = x->rep.fd >= 0 && fcntl(x->rep.fd, F_GETFD) != -1;
	if (x->fd_seen)
		close(x->rep.fd);
	x->cwd_seen = getcwd(cwd, sizeof(cwd)) && strcmp(cwd, tmpdir);
	x->sig_seen = !sigaction(SIGUSR2, NULL, &sa) &&
		      sa.sa_handler == SIG_IGN;
	signal(SIGUSR2, SIG_DFL);
}

static void observe_module(struct clone_exp *x, const struct ct_table *pre)
{
	struct ct_table post;
	const struct ct_row *r;

	x->forks = -1;
	x->threads = -1;
	x->child_tgid = -1;
	x->process_row = -1;
	if (ct_read_table("tasks", &post))
		return;
	x->forks = ct_delta(pre, &post, getpid(), "forks");
	x->threads = ct_delta(pre, &post, getpid(), "threads");
	r = ct_find(&post, x->rep.tid);
	if (r)
		x->child_tgid = r->tgid;
	ct_table_free(&post);
	/*
	 * No row (dropped at its exit past max_exited, or never made): the
	 * module does not say whose thread group it was, so no processes row
	 * of its own proves nothing.
	 */
	x->no_row = !r;
	if (x->no_row)
		return;
	/* the processes view has a row per thread group: the task's own? */
	if (!ct_read_table("processes", &post)) {
		x->process_row = !!ct_find(&post, x->rep.tid);
		ct_table_free(&post);
	}
}

int clone_run_exp(struct clone_exp *x, const char *tmpdir, int home)
{
	int flags = clone_flags(x->share), err = 0;
	struct ct_table pre;
	bool ct = ct_available() && !ct_read_table("tasks", &pre);
	pid_t pid;

	shared_var = 0;
	signal(SIGUSR2, SIG_DFL);
	if (chdir(tmpdir) || pipe2(x->pipe, O_CLOEXEC)) {
		p_err("clone: %s", strerror(errno));
		err = EXIT_FAIL;
		goto out;
	}
	x->wfd = x->pipe[1];
	pid = start_task(x, flags);
	if (pid < 0) {
		p_err("clone: %s", strerror(errno));
		err = EXIT_FAIL;
		goto out_pipe;
	}
	if (!(flags & CLONE_THREAD))
		cleanup_add_child(pid);
	/* a task sharing our fd table would lose its end with ours */
	if (!(flags & CLONE_FILES)) {
		close(x->pipe[1]);
		x->pipe[1] = -1;
	}
	if (read_report(x)) {
		err = exiting ? EXIT_INTR : EXIT_FAIL;
		if (!exiting)
			p_err("clone: the new task did not report");
	}
	if (flags & CLONE_THREAD) {
		if (wait_thread(x))
			err = EXIT_INTR;
	} else if (wait_child(pid, NULL)) {
		kill_child(pid);
		err = err ? err : EXIT_INTR;
	}
	if (!err) {
		observe(x, tmpdir);
		x->ok = true;
		x->forks = -1;
		x->threads = -1;
		x->child_tgid = -1;
		x->process_row = -1;
		if (ct)
			observe_module(x, &pre);
	}
out_pipe:
	close(x->pipe[0]);
	if (x->pipe[1] >= 0)
		close(x->pipe[1]);
out:
	if (fchdir(home))
		p_warn("cannot return to the starting directory");
	if (x->stack && !err)
		munmap(x->stack, STACK_SIZE);
	if (ct)
		ct_table_free(&pre);
	return err;
}
