// SPDX-License-Identifier: GPL-2.0
/*
 * The kthreads view against /proc: the same set of kernel threads (decided
 * by PF_KTHREAD in /proc/<pid>/stat), every parent shown, kthreadd at the
 * root, totals that add up, the tree drawn right, and a kernel thread that
 * a module starts appearing with the right fields and going with it. The
 * view is read while threads come and go; the VM runner fails the run on
 * any kernel warning.
 *
 * The thread comes from ct_kthread.ko in $CT_TESTMOD_DIR (make check sets
 * it); without it those tests are skipped.
 */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cowtrace_test.h"

#define KTHREADS	COWTRACE_DEBUGFS_DIR "/kthreads"
#define PF_KTHREAD	0x00200000
#define MAX_ROWS	4096
#define TEST_THREAD	"ct_kthread_test"

struct kt_row {
	int pid, ppid, cpu, depth;
	char state;
	bool bound, last;
	char name[80];
};

struct kt_view {
	unsigned int n, total, bound, by_state[9];
	struct kt_row row[MAX_ROWS];
};

static const char kt_states[] = "RSDTtXZPI";
static char text[1 << 20];

/* The tree prefix is made of "|  " and "   " per level, then "|-" or "`-". */
static int parse_name(struct kt_row *r, const char *p)
{
	size_t len;

	r->depth = 0;
	r->last = false;
	while (!strncmp(p, "|  ", 3) || !strncmp(p, "   ", 3)) {
		p += 3;
		r->depth++;
	}
	if (!strncmp(p, "|-", 2) || !strncmp(p, "`-", 2)) {
		r->last = *p == '`';
		p += 2;
		r->depth++;
	}
	len = strlen(p);
	if (len < 2 || p[0] != '[' || p[len - 1] != ']' ||
	    len - 2 >= sizeof(r->name))
		return -1;
	memcpy(r->name, p + 1, len - 2);
	r->name[len - 2] = '\0';
	return 0;
}

static int parse_header(struct kt_view *v, const char *line)
{
	unsigned int i;
	const char *p;

	if (sscanf(line, "kthreads %u bound %u", &v->total, &v->bound) != 2)
		return -1;
	for (i = 0; kt_states[i]; i++) {
		char key[4] = { ' ', kt_states[i], ' ', '\0' };

		p = strstr(line, key);
		if (!p || sscanf(p + 3, "%u", &v->by_state[i]) != 1)
			return -1;
	}
	return 0;
}

static int read_view(struct kt_view *v)
{
	char *line, *save = NULL, bound[8];
	int n;

	if (cowtrace_read_file(KTHREADS, text, sizeof(text)) < 0)
		return -1;
	memset(v, 0, sizeof(*v));
	line = strtok_r(text, "\n", &save);
	if (!line || parse_header(v, line))
		return -1;
	line = strtok_r(NULL, "\n", &save);
	if (!line || strcmp(line, "pid ppid state cpu bound name"))
		return -1;
	while ((line = strtok_r(NULL, "\n", &save))) {
		struct kt_row *r = &v->row[v->n];

		if (v->n == MAX_ROWS)
			return -1;
		if (sscanf(line, "%d %d %c %d %7s %n", &r->pid, &r->ppid,
			   &r->state, &r->cpu, bound, &n) != 5)
			return -1;
		r->bound = !strcmp(bound, "yes");
		if (!r->bound && strcmp(bound, "no"))
			return -1;
		if (parse_name(r, line + n))
			return -1;
		v->n++;
	}
	return 0;
}

static struct kt_row *find(struct kt_view *v, int pid)
{
	unsigned int i;

	for (i = 0; i < v->n; i++)
		if (v->row[i].pid == pid)
			return &v->row[i];
	return NULL;
}

/* /proc/<pid>/stat: comm, state, ppid and flags; -1 if gone. */
struct proc_stat {
	char comm[80];
	char state;
	int ppid;
	unsigned long flags;
};

static int proc_stat(int pid, struct proc_stat *st)
{
	char path[64], buf[1024], *open, *close;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (cowtrace_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	open = strchr(buf, '(');
	close = strrchr(buf, ')');
	if (!open || !close)
		return -1;
	len = close - open - 1;
	if (len >= sizeof(st->comm))
		return -1;
	memcpy(st->comm, open + 1, len);
	st->comm[len] = '\0';
	if (sscanf(close + 2, "%c %d %*d %*d %*d %*d %lu", &st->state,
		   &st->ppid, &st->flags) != 3)
		return -1;
	return 0;
}

/* The pids whose flags have PF_KTHREAD, as a bitmap indexed by pid. */
#define PID_BITS	4194304		/* the largest pid_max */
static unsigned char before[PID_BITS / 8], after[PID_BITS / 8];

static bool test_bit_pid(const unsigned char *map, int pid)
{
	return pid >= 0 && pid < PID_BITS && (map[pid / 8] & (1 << (pid % 8)));
}

static void scan_proc(unsigned char *map)
{
	struct proc_stat st;
	struct dirent *d;
	DIR *dir;
	int pid;

	memset(map, 0, PID_BITS / 8);
	dir = opendir("/proc");
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		pid = atoi(d->d_name);
		if (pid <= 0 || pid >= PID_BITS || proc_stat(pid, &st))
			continue;
		if (st.flags & PF_KTHREAD)
			map[pid / 8] |= 1 << (pid % 8);
	}
	closedir(dir);
}

FIXTURE(kthreads) {
	struct kt_view *v;
};

FIXTURE_SETUP(kthreads)
{
	self->v = malloc(sizeof(*self->v));
	ASSERT_NE(NULL, self->v);
}

FIXTURE_TEARDOWN(kthreads)
{
	free(self->v);
}

/* Sampled around the read: a thread may come or go in between. */
TEST_F(kthreads, same_set_as_proc)
{
	struct kt_view *v = self->v;
	unsigned int i, shown = 0;
	int pid;

	scan_proc(before);
	ASSERT_EQ(0, read_view(v));
	scan_proc(after);
	for (i = 0; i < v->n; i++) {
		pid = v->row[i].pid;
		EXPECT_TRUE(test_bit_pid(before, pid) ||
			    test_bit_pid(after, pid)) {
			TH_LOG("pid %d (%s) shown but not a kernel thread in /proc",
			       pid, v->row[i].name);
		}
	}
	for (pid = 1; pid < PID_BITS; pid++) {
		if (!test_bit_pid(before, pid) || !test_bit_pid(after, pid))
			continue;
		shown++;
		EXPECT_NE(NULL, find(v, pid)) {
			TH_LOG("kernel thread %d missing from the view", pid);
		}
	}
	/* A guest has dozens; zero would mean the scan itself is broken. */
	EXPECT_LT(20, shown);
}

TEST_F(kthreads, rooted_at_kthreadd_with_every_parent_shown)
{
	struct kt_view *v = self->v;
	unsigned int i;

	ASSERT_EQ(0, read_view(v));
	ASSERT_LT(0, v->n);
	EXPECT_EQ(2, v->row[0].pid);
	EXPECT_EQ(0, v->row[0].ppid);
	EXPECT_EQ(0, v->row[0].depth);
	EXPECT_STREQ("kthreadd", v->row[0].name);
	for (i = 1; i < v->n; i++) {
		struct kt_row *r = &v->row[i];

		/* kthreadd is the only root; everyone's parent is a row. */
		EXPECT_NE(0, r->depth) {
			TH_LOG("pid %d (%s) is a second root", r->pid, r->name);
		}
		EXPECT_NE(NULL, find(v, r->ppid)) {
			TH_LOG("parent %d of %d not shown", r->ppid, r->pid);
		}
	}
}

/* Pre-order: a row's parent is the nearest row above it one level up. */
TEST_F(kthreads, tree_is_drawn_in_order)
{
	struct kt_view *v = self->v;
	unsigned int i, j, last_children = 0;

	ASSERT_EQ(0, read_view(v));
	for (i = 1; i < v->n; i++) {
		struct kt_row *r = &v->row[i];

		for (j = i; j-- > 0;)
			if (v->row[j].depth == r->depth - 1)
				break;
		EXPECT_EQ(r->ppid, v->row[j].pid) {
			TH_LOG("row %u (pid %d) drawn under %d", i, r->pid,
			       v->row[j].pid);
		}
		/* Siblings go up by pid; only the last has "`-". */
		if (i + 1 < v->n && v->row[i + 1].depth == r->depth) {
			EXPECT_FALSE(r->last);
			EXPECT_LT(r->pid, v->row[i + 1].pid);
		}
		last_children += r->last;
	}
	/* kthreadd has children, so at least one "`-" closes a list. */
	EXPECT_LE(1, last_children);
}

TEST_F(kthreads, header_totals_add_up)
{
	struct kt_view *v = self->v;
	unsigned int i, bound = 0, sum = 0, by_state[9] = { 0 };

	ASSERT_EQ(0, read_view(v));
	EXPECT_EQ(v->n, v->total);
	for (i = 0; i < v->n; i++) {
		const char *s = strchr(kt_states, v->row[i].state);

		ASSERT_NE(NULL, s) {
			TH_LOG("pid %d: state '%c'", v->row[i].pid,
			       v->row[i].state);
		}
		by_state[s - kt_states]++;
		bound += v->row[i].bound;
	}
	EXPECT_EQ(bound, v->bound);
	for (i = 0; kt_states[i]; i++) {
		EXPECT_EQ(by_state[i], v->by_state[i]) {
			TH_LOG("state %c", kt_states[i]);
		}
		sum += v->by_state[i];
	}
	EXPECT_EQ(v->n, sum);
}

/* "Cpus_allowed_list:\t0" is one CPU; "0-1" or "0,2" is not. */
static int proc_bound(int pid)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (cowtrace_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "Cpus_allowed_list:\t");
	if (!p)
		return -1;
	p += strlen("Cpus_allowed_list:\t");
	return !strpbrk(strtok(p, "\n"), "-,");
}

/*
 * ppid, name and binding match /proc for the threads that lived through the
 * read. The view's name is the comm; /proc may say more (a worker's last
 * work, a kthread name beyond 15 bytes), never something else.
 */
TEST_F(kthreads, fields_match_proc)
{
	struct kt_view *v = self->v;
	unsigned int i, checked = 0;
	struct proc_stat st;

	ASSERT_EQ(0, read_view(v));
	for (i = 0; i < v->n; i++) {
		struct kt_row *r = &v->row[i];
		size_t len = strlen(r->name);

		if (proc_stat(r->pid, &st))
			continue;
		checked++;
		EXPECT_EQ(st.ppid, r->ppid);
		EXPECT_EQ(0, strncmp(st.comm, r->name, len)) {
			TH_LOG("%s vs %s", st.comm, r->name);
		}
		/* Shorter than a full comm and no work shown: all of it. */
		EXPECT_TRUE(len >= 15 || !strncmp(r->name, "kworker/", 8) ||
			    !strcmp(st.comm, r->name)) {
			TH_LOG("%s vs %s", st.comm, r->name);
		}
		EXPECT_EQ(proc_bound(r->pid), r->bound) {
			TH_LOG("pid %d (%s)", r->pid, r->name);
		}
	}
	EXPECT_LT(20, checked);
}

TEST_F(kthreads, a_new_kthread_appears_and_goes)
{
	struct kt_view *v = self->v;
	unsigned int i, tries;
	struct kt_row *r;

	if (!cowtrace_have_testmod("ct_kthread"))
		SKIP(return, "no ct_kthread.ko in $CT_TESTMOD_DIR or testmod/");
	ASSERT_EQ(0, read_view(v));
	for (i = 0; i < v->n; i++)
		ASSERT_STRNE(TEST_THREAD, v->row[i].name);
	ASSERT_EQ(0, cowtrace_testmod("ct_kthread", true));
	/* Woken at creation, it is R until it first goes to sleep: wait. */
	for (tries = 0; tries < 100; tries++) {
		ASSERT_EQ(0, read_view(v));
		r = NULL;
		for (i = 0; i < v->n; i++)
			if (!strcmp(v->row[i].name, TEST_THREAD))
				r = &v->row[i];
		if (r && r->state == 'S')
			break;
		usleep(10000);
	}
	EXPECT_NE(NULL, r) {
		TH_LOG("%s not shown after the module started it", TEST_THREAD);
	}
	if (r) {
		EXPECT_EQ(2, r->ppid);
		EXPECT_EQ(1, r->depth);
		EXPECT_EQ('S', r->state);
		EXPECT_EQ(0, r->cpu);
		EXPECT_TRUE(r->bound);
	}
	ASSERT_EQ(0, cowtrace_testmod("ct_kthread", false));
	ASSERT_EQ(0, read_view(v));
	for (i = 0; i < v->n; i++)
		EXPECT_STRNE(TEST_THREAD, v->row[i].name);
}

/*
 * Readers in a loop while the module's thread starts and stops 30 times:
 * every read parses, and a thread exiting mid-read corrupts nothing.
 */
TEST_F(kthreads, reads_while_threads_come_and_go)
{
	struct kt_view *v = self->v;
	int status, round;
	pid_t reader;

	if (!cowtrace_have_testmod("ct_kthread"))
		SKIP(return, "no ct_kthread.ko in $CT_TESTMOD_DIR or testmod/");
	reader = fork();
	ASSERT_LE(0, reader);
	if (reader == 0) {
		for (;;)
			if (read_view(v))
				_exit(1);
	}
	for (round = 0; round < 30; round++) {
		ASSERT_EQ(0, cowtrace_testmod("ct_kthread", true));
		ASSERT_EQ(0, cowtrace_testmod("ct_kthread", false));
	}
	/* Still reading happily, or it would have exited. */
	ASSERT_EQ(0, waitpid(reader, &status, WNOHANG));
	kill(reader, SIGKILL);
	ASSERT_EQ(reader, waitpid(reader, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
}

int main(int argc, char **argv)
{
	return cowtrace_test_main(argc, argv);
}
