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
 *
 * This file holds the command's options, its help and its report; the
 * tasks are created and looked at by the clone engine (engine/clone.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/common.h"
#include "engine/clone.h"
#include "lib/cowlab.h"
#include "lib/parse.h"
#include "lib/report.h"
#include "lib/table.h"

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
			err = opt_list("--share", optarg, clone_share_names, NR_SHARE,
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
		err = clone_run_exp(&xs[i], tmpdir, home);
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
