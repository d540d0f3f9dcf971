// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab clone: one system call makes processes and threads alike; the
 * flags say what the new task shares with its creator.
 *
 * A task is created with the clone system call and chosen CLONE_* flags.
 * It writes a variable, opens a file, changes directory, ignores a signal
 * and reports its pid and tid; the creator then looks at which of these it
 * sees: what is shared. With cowtrace.ko, the module's classification of
 * the new task (forks or threads of the creator, its tgid, a processes row
 * of its own or not) is shown too.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/common.h"
#include "lib/cowlab.h"
#include "lib/parse.h"
#include "lib/report.h"
#include "lib/views.h"

#define STACK_SIZE	(256 * 1024)

enum share_bit { SHARE_VM, SHARE_FILES, SHARE_FS, SHARE_SIGHAND,
		 SHARE_THREAD, NR_SHARE };

static const char *const share_names[NR_SHARE] = {
	"vm", "files", "fs", "sighand", "thread",
};

static const int share_flags[NR_SHARE] = {
	CLONE_VM, CLONE_FILES, CLONE_FS, CLONE_SIGHAND, CLONE_THREAD,
};

/* What the new task reports through the pipe. */
struct clone_report {
	long pid, tid, fd;
};

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

/* Written by the new task: the creator sees it only with CLONE_VM. */
static volatile int shared_var;
static bool share_given;
static unsigned long share_mask;

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (json_wtr) {
		report_str("help", NULL, "cowlab clone [--share LIST]");
		return EXIT_OK;
	}
	printf("Usage: cowlab clone [--share vm,files,fs,sighand,thread]\n"
	       "\n"
	       "Create a task with the clone system call and the CLONE_* flags\n"
	       "named by --share, and show what it shares with its creator: the\n"
	       "task writes a variable (seen with vm), opens a file (files),\n"
	       "changes directory (fs), ignores SIGUSR2 (sighand) and reports its\n"
	       "pid (the creator's with thread). With cowtrace.ko, the module's\n"
	       "view: counted in the creator's forks or threads, its tgid, and\n"
	       "whether the processes view gives it a row of its own.\n"
	       "\n"
	       "Without --share: the flags of fork() (none shared) and of\n"
	       "pthread_create() (all five), side by side: one system call, two\n"
	       "kinds of task. --share '' shares nothing (like fork).\n"
	       "\n"
	       "The kernel's rules: thread needs sighand, sighand needs vm.\n"
	       "\n"
	       "Options:\n"
	       "  -s, --share LIST   comma list of vm, files, fs, sighand, thread\n"
	       "  -h, --help         this help\n");
	return EXIT_OK;
}

static int clone_flags(unsigned long share)
{
	int i, flags = 0;

	for (i = 0; i < NR_SHARE; i++)
		if (share & (1UL << i))
			flags |= share_flags[i];
	return flags;
}

/* clone(2): CLONE_THREAD requires CLONE_SIGHAND, which requires CLONE_VM. */
static int check_share(unsigned long share)
{
	if ((share & (1UL << SHARE_THREAD)) &&
	    !(share & (1UL << SHARE_SIGHAND))) {
		p_err("--share: thread needs sighand (clone(2): CLONE_THREAD "
			"requires CLONE_SIGHAND)");
		return EXIT_USAGE;
	}
	if ((share & (1UL << SHARE_SIGHAND)) && !(share & (1UL << SHARE_VM))) {
		p_err("--share: sighand needs vm (clone(2): CLONE_SIGHAND requires CLONE_VM)");
		return EXIT_USAGE;
	}
	return 0;
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

static int run_exp(struct clone_exp *x, const char *tmpdir, int home)
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

static void flags_str(unsigned long share, char *buf, size_t len)
{
	static const char *const cn[NR_SHARE] = {
		"CLONE_VM", "CLONE_FILES", "CLONE_FS", "CLONE_SIGHAND",
		"CLONE_THREAD",
	};
	int i;

	buf[0] = '\0';
	for (i = 0; i < NR_SHARE; i++) {
		if (!(share & (1UL << i)))
			continue;
		if (buf[0])
			strncat(buf, "|", len - strlen(buf) - 1);
		strncat(buf, cn[i], len - strlen(buf) - 1);
	}
	if (!(share & (1UL << SHARE_THREAD))) {
		if (buf[0])
			strncat(buf, "|", len - strlen(buf) - 1);
		strncat(buf, "SIGCHLD", len - strlen(buf) - 1);
	}
}

static void report_exps(struct clone_exp *xs, int n)
{
	static const struct table_col cols[] = {
		{ "task", TABLE_LEFT }, { "flags", TABLE_LEFT },
		{ "pid", TABLE_RIGHT }, { "tid", TABLE_RIGHT },
		{ "same_process", TABLE_LEFT }, { "memory", TABLE_LEFT },
		{ "files", TABLE_LEFT }, { "cwd", TABLE_LEFT },
		{ "signals", TABLE_LEFT }, { "forks", TABLE_RIGHT },
		{ "threads", TABLE_RIGHT }, { "tgid", TABLE_RIGHT },
		{ "process_row", TABLE_LEFT },
	};
	struct table *t;
	char flags[128];
	int i;

	if (!json_wtr)
		printf("clone: what the new task shares with its creator (pid %d)\n",
		       getpid());
	t = table_start("tasks", cols, ARRAY_SIZE(cols));
	for (i = 0; i < n; i++) {
		struct clone_exp *x = &xs[i];

		flags_str(x->share, flags, sizeof(flags));
		table_row(t);
		table_str(t, x->name);
		table_str(t, flags);
		table_int(t, x->rep.pid);
		table_int(t, x->rep.tid);
		table_bool(t, x->same_process, "yes", "no");
		table_bool(t, x->var_seen, "shared", "copied");
		table_bool(t, x->fd_seen, "shared", "copied");
		table_bool(t, x->cwd_seen, "shared", "copied");
		table_bool(t, x->sig_seen, "shared", "copied");
		table_opt_int(t, x->forks);
		table_opt_int(t, x->threads);
		table_opt_int(t, x->child_tgid);
		if (x->no_row)
			table_unknown(t, "no row");
		else if (x->process_row < 0)
			table_null(t);
		else
			table_bool(t, x->process_row, "own", "creator's");
	}
	table_end(t);
}

static void explain(bool compare, bool no_row)
{
	if (!json_wtr)
		putchar('\n');
	if (no_row)
		report_note("no row: the module had no row of the task when it was read "
			"(rows of exited tasks are dropped past /sys/module/cowtrace/"
			"parameters/max_exited), so its tgid and whether it had a "
			"processes row of its own are not known.");
	report_note("memory: a variable the task wrote is seen by the creator "
		"(CLONE_VM) or not (copy-on-write copy); files: a file it "
		"opened is in the creator's fd table (CLONE_FILES); cwd: its "
		"chdir moved the creator (CLONE_FS); signals: its SIG_IGN "
		"applies to the creator (CLONE_SIGHAND).");
	if (compare)
		report_note("fork() is clone(SIGCHLD) (glibc adds "
			"CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID); pthread_create() "
			"is clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|"
			"CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|"
			"CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID): "
			"the module counts the first in forks, the second in threads, "
			"with the creator's tgid.");
}

static const struct option clone_opts[] = {
	{ "share", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int parse_opts(int argc, char **argv)
{
	int c, err;

	optind = 0;	/* 0: glibc resets its state for a new argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+s:h", clone_opts, NULL)) != -1) {
		switch (c) {
		case 's':
			share_given = true;
			share_mask = 0;
			if (!*optarg)
				break;	/* '' shares nothing */
			err = opt_list("--share", optarg, share_names, NR_SHARE,
				       &share_mask);
			if (err)
				return err;
			break;
		case 'h':
			do_help(0, NULL);
			return -1;
		default:
			p_err("clone: unknown or incomplete option '%s'",
			      argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (share_given && check_share(share_mask))
		return EXIT_USAGE;
	return no_more_args(argc - optind, argv + optind);
}

static int cmd_run(int argc, char **argv)
{
	struct clone_exp xs[2] = { 0 };
	char tmpdir[] = "/tmp/cowlab-clone.XXXXXX";
	int n, i, err = 0, home;

	err = parse_opts(argc + 1, argv - 1);
	if (err)
		return err < 0 ? EXIT_OK : err;
	if (share_given) {
		xs[0].name = "clone";
		xs[0].share = share_mask;
		n = 1;
	} else {
		xs[0].name = "fork";
		xs[1].name = "pthread";
		xs[1].share = (1UL << NR_SHARE) - 1;
		n = 2;
	}
	home = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (home < 0 || !mkdtemp(tmpdir)) {
		p_err("clone: %s", strerror(errno));
		if (home >= 0)
			close(home);
		return EXIT_FAIL;
	}
	cleanup_add_dir(tmpdir);
	for (i = 0; i < n && !err; i++)
		err = run_exp(&xs[i], tmpdir, home);
	close(home);
	rmdir(tmpdir);
	cleanup_forget_dir(tmpdir);
	if (err)
		return err;
	report_exps(xs, n);
	explain(!share_given, xs[0].no_row || (n > 1 && xs[1].no_row));
	return EXIT_OK;
}

static const struct cmd cmds[] = {
	{ "run", cmd_run },
	{ NULL, NULL }
};

int do_clone(int argc, char **argv)
{
	return cmd_select(cmds, argc, argv, do_help, true);
}
