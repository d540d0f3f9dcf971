// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/cowtrace: world-readable, the same table as the tasks view for
 * root, and for anyone else only the tasks they could inspect: the same
 * user, dumpable while alive.
 */
#include <dirent.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cowtrace_test.h"
#include "tasks_view.h"

#define PROC_FILE	"/proc/cowtrace"
#define MAX_PIDS	4096

/*
 * The unprivileged reader's uid and gid: one that no task has. Not
 * "nobody": a real system runs services as nobody, and their rows are
 * for a reader of that uid to see.
 */
static unsigned int unprivileged;

/* Whether a live task has @id as one of its uids. */
static bool uid_in_use(unsigned int id)
{
	unsigned int r, e, s, f;
	char path[300], line[256];
	struct dirent *d;
	bool used = false;
	DIR *proc = opendir("/proc");
	FILE *st;

	while (proc && !used && (d = readdir(proc))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", d->d_name);
		st = fopen(path, "r");
		while (st && fgets(line, sizeof(line), st))
			if (sscanf(line, "Uid: %u %u %u %u", &r, &e, &s, &f) == 4)
				used = r == id || e == id || s == id || f == id;
		if (st)
			fclose(st);
	}
	if (proc)
		closedir(proc);
	return used;
}

static unsigned int unused_uid(void)
{
	unsigned int id = 200000 + getpid() % 100000;

	while (uid_in_use(id))
		id++;
	return id;
}

/* The pids of a table's rows, in order; how many, or -1. */
static int row_pids(const char *path, int *pids, int max)
{
	static char text[1 << 20];
	char *line;
	int n = 0;

	if (cowtrace_read_file(path, text, sizeof(text)) < 0)
		return -1;
	for (line = strchr(text, '\n'); line && line[1] && n < max;
	     line = strchr(line + 1, '\n'))
		pids[n++] = atoi(line + 1);
	return n;
}

static bool has_pid(const int *pids, int n, int pid)
{
	while (n--)
		if (pids[n] == pid)
			return true;
	return false;
}

TEST(proc_file_is_world_readable)
{
	struct stat st;

	ASSERT_EQ(0, stat(PROC_FILE, &st));
	EXPECT_EQ(0444, st.st_mode & 07777);
}

TEST(root_sees_every_row)
{
	static int in_proc[MAX_PIDS], in_debugfs[MAX_PIDS];
	int n_proc, n_debugfs, i;

	n_debugfs = row_pids(COWTRACE_DEBUGFS_DIR "/tasks", in_debugfs,
			     MAX_PIDS);
	n_proc = row_pids(PROC_FILE, in_proc, MAX_PIDS);
	ASSERT_LT(0, n_debugfs);
	ASSERT_EQ(n_debugfs, n_proc);
	for (i = 0; i < n_proc; i++)
		EXPECT_EQ(in_debugfs[i], in_proc[i]);
}

static void exit_now(void)
{
	_exit(0);
}

/*
 * What an unprivileged reader (a uid of its own) sees: results[0] rows in all,
 * results[1] whether it sees itself, results[2] its exited child,
 * results[3] rows again once it made itself undumpable, results[4] whether
 * it still sees its child, results[5] errno opening the debugfs view.
 */
static void unprivileged_reader(int *results)
{
	static int pids[MAX_PIDS];
	pid_t child;
	int fd;

	if (setgroups(0, NULL) || setgid(unprivileged) || setuid(unprivileged))
		_exit(10);
	/* Changing uid made us undumpable, as the kernel does. */
	prctl(PR_SET_DUMPABLE, 1);
	child = fork();
	if (!child)
		exit_now();
	waitpid(child, NULL, 0);

	results[0] = row_pids(PROC_FILE, pids, MAX_PIDS);
	results[1] = has_pid(pids, results[0], getpid());
	results[2] = has_pid(pids, results[0], child);
	prctl(PR_SET_DUMPABLE, 0);
	results[3] = row_pids(PROC_FILE, pids, MAX_PIDS);
	results[4] = has_pid(pids, results[3], child);
	fd = open(COWTRACE_DEBUGFS_DIR "/tasks", O_RDONLY);
	results[5] = fd < 0 ? errno : 0;
}

TEST(unprivileged_reader_sees_only_its_own_tasks)
{
	int results[6], fds[2], status;
	pid_t pid;

	/* Rows it must not see: ours, and an exited child of root's. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		exit_now();
	waitpid(pid, NULL, 0);

	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		unprivileged_reader(results);
		_exit(write(fds[1], results, sizeof(results)) !=
		      sizeof(results));
	}
	ASSERT_EQ(sizeof(results), read(fds[0], results, sizeof(results)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	EXPECT_EQ(2, results[0]);
	EXPECT_TRUE(results[1]);
	EXPECT_TRUE(results[2]);
	EXPECT_EQ(1, results[3]);
	EXPECT_TRUE(results[4]);
	EXPECT_EQ(EACCES, results[5]);
}

/* The pids of the rows in an already open /proc/cowtrace, or -1. */
static int fd_row_pids(int fd, int *pids, int max)
{
	static char text[1 << 20];
	size_t len = 0;
	ssize_t n;
	char *line;
	int rows = 0;

	while ((n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += n;
	if (n < 0)
		return -1;
	text[len] = '\0';
	for (line = strchr(text, '\n'); line && line[1] && rows < max;
	     line = strchr(line + 1, '\n'))
		pids[rows++] = atoi(line + 1);
	return rows;
}

/*
 * A descriptor opened unprivileged and read by root shows what the opener may
 * see, as /proc does: the opener's credentials decide, not the reader's.
 * Returns through the exit status: 0 root's row hidden, 1 shown, 2+ error.
 */
static int opened_unprivileged_read_as_root(pid_t root_task)
{
	static int pids[MAX_PIDS];
	int fd, n;

	if (setgroups(0, NULL) || setresgid(unprivileged, unprivileged, 0) ||
	    setresuid(unprivileged, unprivileged, 0))
		return 2;
	fd = open(PROC_FILE, O_RDONLY);
	if (fd < 0)
		return 3;
	/* Back to root through the saved uid: the reader is root again. */
	if (seteuid(0) || setegid(0) || geteuid() != 0)
		return 4;
	n = fd_row_pids(fd, pids, MAX_PIDS);
	if (n < 0)
		return 5;
	return has_pid(pids, n, root_task);
}

TEST(the_opener_not_the_reader_decides)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(opened_unprivileged_read_as_root(getppid()));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("root's test process %s", WEXITSTATUS(status) == 1 ?
		       "was shown to a descriptor opened unprivileged" : "(setup failed)");
	}
}

/*
 * In a pid namespace of its own with its own /proc, a reader sees the
 * tasks of that namespace only, numbered as they are there: itself as 1,
 * its exited child as 2; and once unprivileged, only itself. Results:
 * rows and both pids as root, then rows and the pid unprivileged.
 */
static void own_namespace_reader(int *results)
{
	static int pids[MAX_PIDS];
	pid_t child;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("proc", "/proc", "proc", 0, NULL))
		_exit(10);
	child = fork();
	if (!child)
		exit_now();
	waitpid(child, NULL, 0);
	results[0] = row_pids(PROC_FILE, pids, MAX_PIDS);
	results[1] = results[0] > 0 ? pids[0] : -1;
	results[2] = results[0] > 1 ? pids[1] : -1;
	if (setgroups(0, NULL) || setgid(unprivileged) || setuid(unprivileged))
		_exit(11);
	prctl(PR_SET_DUMPABLE, 1);
	results[3] = row_pids(PROC_FILE, pids, MAX_PIDS);
	results[4] = results[3] > 0 ? pids[0] : -1;
}

TEST(a_pid_namespace_sees_its_own_tasks_by_its_own_numbers)
{
	int results[5], fds[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (unshare(CLONE_NEWPID | CLONE_NEWNS))
			_exit(20);
		pid = fork();
		if (!pid) {
			own_namespace_reader(results);
			_exit(write(fds[1], results, sizeof(results)) !=
			      sizeof(results));
		}
		_exit(pid > 0 && waitpid(pid, &status, 0) == pid &&
		      WIFEXITED(status) ? WEXITSTATUS(status) : 21);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(sizeof(results), read(fds[0], results, sizeof(results)));
	EXPECT_EQ(2, results[0]);
	EXPECT_EQ(1, results[1]);
	EXPECT_EQ(2, results[2]);
	EXPECT_EQ(1, results[3]);
	EXPECT_EQ(1, results[4]);
}

int main(int argc, char **argv)
{
	unprivileged = unused_uid();
	return cowtrace_test_main(argc, argv);
}
