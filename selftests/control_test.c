// SPDX-License-Identifier: GPL-2.0
/*
 * The control file and the table's bounds: malformed commands are refused
 * and change nothing, reset clears, a pid or comm filter tracks the match
 * and its descendants only, and exited rows are capped by max_exited however
 * many tasks come and go. Every test leaves "all" in force.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include "cowtrace_test.h"
#include "tasks_view.h"

#define CONTROL		COWTRACE_DEBUGFS_DIR "/control"
#define MAX_EXITED	"/sys/module/cowtrace/parameters/max_exited"

/* Fork a child that runs @fn and exits; wait for it. Returns its pid. */
static pid_t run_child(void (*fn)(void))
{
	pid_t pid = fork();

	if (pid == 0) {
		fn();
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return pid;
}

static void nothing(void)
{
}

FIXTURE(control) {
	struct ct_reader r;
};

FIXTURE_SETUP(control)
{
	ASSERT_EQ(0, ct_reader_init(&self->r));
	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "all"));
}

FIXTURE_TEARDOWN(control)
{
	cowtrace_write_file(CONTROL, "all");
	cowtrace_write_file(MAX_EXITED, "4096");
}

TEST_F(control, malformed_commands_are_refused)
{
	static const char *const bad[] = {
		"", "\n", "bogus", "reset now", "resetx", "all all", "pid=",
		"pid=0", "pid=-1", "pid=12x", "pid= 1", "pid=99999999999",
		"comm=", "comm=sixteen_chars_xx", "PID=1", "filter all",
		"locks", "locks  reset", "locks reset now", "lock reset",
		"reset locks",
		"0123456789012345678901234567890123456789012345678901234567890123456789",
	};
	char text[256];
	unsigned int i;

	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "pid=1"));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, cowtrace_write_file(CONTROL, bad[i])) {
			TH_LOG("accepted '%s'", bad[i]);
		}
	}
	/* Nothing changed: the filter set before is still in force. */
	ASSERT_LT(0, cowtrace_read_file(CONTROL, text, sizeof(text)));
	EXPECT_STREQ("filter pid 1\n", text);
}

/* A NUL ends no command: "reset\0all" is two words, and refused whole. */
TEST_F(control, commands_with_a_nul_are_refused)
{
	static const struct { const char *s; size_t len; } bad[] = {
		{ "reset\0all", 9 }, { "all\0", 4 }, { "\0reset", 6 },
		{ "pid=1\0junk", 10 }, { "locks reset\0", 12 },
	};
	char text[256];
	unsigned int i;
	ssize_t n;
	int fd;

	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "pid=1"));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		fd = open(CONTROL, O_WRONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		n = write(fd, bad[i].s, bad[i].len);
		EXPECT_EQ(-1, n) {
			TH_LOG("accepted command %u (%zu bytes)", i, bad[i].len);
		}
		EXPECT_EQ(EINVAL, errno);
		close(fd);
	}
	ASSERT_LT(0, cowtrace_read_file(CONTROL, text, sizeof(text)));
	EXPECT_STREQ("filter pid 1\n", text);
}

TEST_F(control, good_commands_are_taken)
{
	char text[256];

	EXPECT_EQ(0, cowtrace_write_file(CONTROL, "comm=cowtrace-x\n"));
	ASSERT_LT(0, cowtrace_read_file(CONTROL, text, sizeof(text)));
	EXPECT_STREQ("filter comm cowtrace-x\n", text);
	EXPECT_EQ(0, cowtrace_write_file(CONTROL, "  all "));
	ASSERT_LT(0, cowtrace_read_file(CONTROL, text, sizeof(text)));
	EXPECT_STREQ("filter all\n", text);
}

TEST_F(control, reset_clears_counters_and_exited_rows)
{
	struct ct_row row;
	pid_t pid;

	pid = run_child(nothing);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, ct_read_row(&self->r, pid, &row));
	EXPECT_STREQ("exited", row.state);

	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "reset"));
	EXPECT_EQ(-ENOENT, ct_read_row(&self->r, pid, &row));
	EXPECT_EQ(0, cowtrace_stat("tasks_exited"));
	EXPECT_EQ(0, cowtrace_stat("evictions"));
	/* Our own row stays, counting again from zero: one fork below. */
	pid = run_child(nothing);
	ASSERT_EQ(0, ct_read_row(&self->r, getpid(), &row));
	EXPECT_EQ(1, row.c[COWTRACE_FORKS]);
}

static void fork_grandchild(void)
{
	run_child(nothing);
}

TEST_F(control, pid_filter_tracks_the_task_and_its_descendants)
{
	int go[2], report[2];
	struct ct_row row;
	pid_t child, grandchild = 0;
	char cmd[32], c = 0;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(report));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		grandchild = run_child(nothing);
		_exit(write(report[1], &grandchild, sizeof(grandchild)) !=
		      sizeof(grandchild));
	}
	snprintf(cmd, sizeof(cmd), "pid=%d", child);
	ASSERT_EQ(0, cowtrace_write_file(CONTROL, cmd));
	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(sizeof(grandchild), read(report[0], &grandchild,
					   sizeof(grandchild)));
	waitpid(child, NULL, 0);

	ASSERT_EQ(0, ct_read_row(&self->r, child, &row));
	EXPECT_EQ(1, row.c[COWTRACE_FORKS]);
	ASSERT_EQ(0, ct_read_row(&self->r, grandchild, &row));
	EXPECT_STREQ("exited", row.state);
	/* Neither we nor our own later children match. */
	EXPECT_EQ(-ENOENT, ct_read_row(&self->r, getpid(), &row));
	EXPECT_EQ(-ENOENT, ct_read_row(&self->r, run_child(nothing), &row));
}

static void rename_and_fork(void)
{
	prctl(PR_SET_NAME, "ct-comm-filter");
	/* comm filters apply at exec and to new tasks: fork to match. */
	run_child(fork_grandchild);
}

TEST_F(control, comm_filter_tracks_new_tasks_of_that_name)
{
	struct ct_row row;
	char text[1024];
	unsigned int rows = 0;
	char *line;

	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "comm=ct-comm-filter"));
	ASSERT_LT(0, run_child(rename_and_fork));
	ASSERT_LT(0, cowtrace_read_file(COWTRACE_DEBUGFS_DIR "/tasks", text,
					sizeof(text)));
	for (line = strchr(text, '\n'); line && line[1];
	     line = strchr(line + 1, '\n')) {
		rows++;
		EXPECT_NE(NULL, strstr(line, " ct-comm-filter exited "));
	}
	/* The renamed child's child and grandchild, not the child itself:
	 * it matched only after it was created, by a rename, not an exec.
	 */
	EXPECT_EQ(2, rows);
	EXPECT_EQ(-ENOENT, ct_read_row(&self->r, getpid(), &row));
}

#define STORM	600
#define CAP	100

TEST_F(control, exited_rows_are_capped_and_evicted_oldest_first)
{
	pid_t first = 0, last = 0, pid;
	struct ct_row row;
	int i;

	ASSERT_EQ(0, cowtrace_write_file(MAX_EXITED, "100"));
	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "reset"));
	for (i = 0; i < STORM; i++) {
		pid = run_child(nothing);
		ASSERT_LT(0, pid);
		if (!first)
			first = pid;
		last = pid;
	}
	EXPECT_EQ(CAP, cowtrace_stat("tasks_exited"));
	EXPECT_EQ(STORM - CAP, cowtrace_stat("evictions"));
	EXPECT_EQ(-ENOENT, ct_read_row(&self->r, first, &row));
	EXPECT_EQ(0, ct_read_row(&self->r, last, &row));
	/* A lower cap evicts at once; an invalid one is refused. */
	ASSERT_EQ(0, cowtrace_write_file(MAX_EXITED, "10"));
	EXPECT_EQ(10, cowtrace_stat("tasks_exited"));
	EXPECT_EQ(-EINVAL, cowtrace_write_file(MAX_EXITED, "ten"));
	EXPECT_EQ(10, cowtrace_stat("max_exited"));
	/* The memory bound holds: the cap itself is capped, at 65536. */
	EXPECT_EQ(-EINVAL, cowtrace_write_file(MAX_EXITED, "4294967295"));
	EXPECT_EQ(-EINVAL, cowtrace_write_file(MAX_EXITED, "65537"));
	EXPECT_EQ(10, cowtrace_stat("max_exited"));
	EXPECT_EQ(0, cowtrace_write_file(MAX_EXITED, "65536"));
	EXPECT_EQ(65536, cowtrace_stat("max_exited"));
}

int main(int argc, char **argv)
{
	return cowtrace_test_main(argc, argv);
}
