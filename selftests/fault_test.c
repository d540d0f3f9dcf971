// SPDX-License-Identifier: GPL-2.0
/*
 * Per-task fault accounting, with exact expectations: demand paging of
 * anonymous and file memory, copy-on-write after fork (copies, reuse, the
 * zero page), threads, and the kernel's own count of the same faults.
 *
 * Each measurement is the difference between two rows of the tasks view
 * taken by the task itself (see tasks_view.h); memory is mapped with
 * MADV_NOHUGEPAGE so that every page is one fault. A child reports its
 * difference to the parent through a pipe, as selftests/mm/cow.c does.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "tasks_view.h"

#define NPAGES	200

static size_t page_size;

static char *map_anon(size_t pages)
{
	char *p = mmap(NULL, pages * page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, pages * page_size, MADV_NOHUGEPAGE);
	return p;
}

/* The barriers keep every access: each page touched, in order, once. */
static void write_pages(char *p, size_t pages)
{
	size_t i;

	for (i = 0; i < pages; i++) {
		p[i * page_size] = 1;
		ct_barrier();
	}
}

static unsigned long read_pages(const char *p, size_t pages)
{
	unsigned long sum = 0;
	size_t i;

	for (i = 0; i < pages; i++) {
		sum += p[i * page_size];
		ct_barrier();
	}
	return sum;
}

struct measure {
	struct ct_reader reader;
	struct ct_row before;
	int pid;
};

static int measure_start(struct measure *m)
{
	m->pid = getpid();
	if (ct_reader_init(&m->reader))
		return -1;
	ct_reader_warm(&m->reader, m->pid);
	/* The workload's code, run once before measuring, faults no more. */
	write_pages(NULL, 0);
	read_pages(NULL, 0);
	return ct_read_row(&m->reader, m->pid, &m->before);
}

static int measure_end(struct measure *m, struct ct_row *delta)
{
	struct ct_row after;

	if (ct_read_row(&m->reader, m->pid, &after))
		return -1;
	ct_row_delta(&m->before, &after, delta);
	return 0;
}

/* Run @fn in a child that reports its measured delta; the child's status. */
static int in_child(void (*fn)(char *, struct ct_row *), char *mem,
		    struct ct_row *delta, pid_t *child_pid)
{
	siginfo_t info;
	int fds[2];
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(fds[0]);
		memset(delta, 0xff, sizeof(*delta));
		fn(mem, delta);
		if (write(fds[1], delta, sizeof(*delta)) != sizeof(*delta))
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], delta, sizeof(*delta)) != sizeof(*delta))
		memset(delta, 0xff, sizeof(*delta));
	close(fds[0]);
	if (child_pid)
		*child_pid = pid;
	/* Left a zombie: its /proc/<pid>/stat still gives its fault counts. */
	if (waitid(P_PID, pid, &info, WEXITED | WNOWAIT))
		return -1;
	return info.si_status;
}

static void reap(pid_t pid)
{
	waitpid(pid, NULL, 0);
}

TEST(header_names_every_column)
{
	struct ct_reader r;
	char *nl;

	ASSERT_EQ(0, ct_reader_init(&r));
	ASSERT_LT(0, cowtrace_read_file(COWTRACE_DEBUGFS_DIR "/tasks",
					r.buf, r.size));
	nl = strchr(r.buf, '\n');
	ASSERT_NE(NULL, nl);
	*nl = '\0';
	EXPECT_STREQ(CT_HEADER, r.buf);
}

TEST(fresh_anonymous_writes_are_demand_faults)
{
	struct measure m;
	struct ct_row d;
	char *p = map_anon(NPAGES);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, measure_start(&m));
	write_pages(p, NPAGES);
	ASSERT_EQ(0, measure_end(&m, &d));
	EXPECT_EQ(NPAGES, d.c[COWTRACE_FAULT_ANON]);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_FAULTS]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_COPY]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_REUSE]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_ZERO]);
	EXPECT_EQ(0, d.c[COWTRACE_FAULT_MAJOR]);
	EXPECT_EQ(d.c[COWTRACE_FAULTS], ct_row_kinds(&d));
}

TEST(read_then_write_replaces_the_zero_page)
{
	struct measure m;
	struct ct_row d;
	char *p = map_anon(NPAGES);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, measure_start(&m));
	EXPECT_EQ(0, read_pages(p, NPAGES));
	ASSERT_EQ(0, measure_end(&m, &d));
	EXPECT_EQ(NPAGES, d.c[COWTRACE_FAULT_ANON]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_ZERO]);

	ASSERT_EQ(0, measure_start(&m));
	write_pages(p, NPAGES);
	ASSERT_EQ(0, measure_end(&m, &d));
	EXPECT_EQ(NPAGES, d.c[COWTRACE_COW_ZERO]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_COPY]);
	EXPECT_EQ(0, d.c[COWTRACE_FAULT_ANON]);
	EXPECT_EQ(d.c[COWTRACE_FAULTS], ct_row_kinds(&d));
}

#define WRITTEN	(NPAGES / 4)

static void child_writes_some(char *mem, struct ct_row *d)
{
	struct measure m;

	if (!measure_start(&m)) {
		write_pages(mem, WRITTEN);
		measure_end(&m, d);
	}
}

TEST(child_write_after_fork_copies_each_page)
{
	struct ct_row d, row;
	struct ct_reader r;
	char path[64];
	pid_t pid;
	char *p = map_anon(NPAGES);

	ASSERT_NE(NULL, p);
	write_pages(p, NPAGES);
	ASSERT_EQ(0, in_child(child_writes_some, p, &d, &pid));
	EXPECT_EQ(WRITTEN, d.c[COWTRACE_COW_COPY]);
	EXPECT_EQ(WRITTEN, d.c[COWTRACE_COW_COPY_ANON]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_COPY_FILE]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_REUSE]);
	EXPECT_EQ(0, d.c[COWTRACE_FAULT_ANON]);
	EXPECT_EQ(d.c[COWTRACE_FAULTS], ct_row_kinds(&d));

	/* The whole life of the child, as the kernel counted it. */
	ASSERT_EQ(0, ct_reader_init(&r));
	ASSERT_EQ(0, ct_read_row(&r, pid, &row));
	EXPECT_STREQ("exited", row.state);
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	EXPECT_EQ(ct_kernel_faults(path), (long long)row.c[COWTRACE_FAULTS]);
	EXPECT_EQ(row.c[COWTRACE_FAULTS], ct_row_kinds(&row));
	reap(pid);
}

static void child_reads_all(char *mem, struct ct_row *d)
{
	struct measure m;

	if (!measure_start(&m)) {
		read_pages(mem, NPAGES);
		measure_end(&m, d);
	}
}

TEST(child_that_only_reads_breaks_nothing)
{
	struct ct_row d;
	pid_t pid;
	char *p = map_anon(NPAGES);

	ASSERT_NE(NULL, p);
	write_pages(p, NPAGES);
	ASSERT_EQ(0, in_child(child_reads_all, p, &d, &pid));
	/* fork copied the parent's anonymous ptes: nothing to fault in. */
	EXPECT_EQ(0, d.c[COWTRACE_COW_COPY]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_REUSE]);
	EXPECT_EQ(0, d.c[COWTRACE_FAULT_ANON]);
	reap(pid);
}

TEST(parent_write_while_child_lives_copies_for_the_parent)
{
	struct measure m;
	struct ct_row d;
	int hold[2];
	pid_t pid;
	char *p = map_anon(NPAGES);

	ASSERT_NE(NULL, p);
	write_pages(p, NPAGES);
	ASSERT_EQ(0, pipe(hold));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Share the pages until the parent closes its end. */
		close(hold[1]);
		_exit(read(hold[0], &pid, 1) < 0);
	}
	close(hold[0]);
	ASSERT_EQ(0, measure_start(&m));
	write_pages(p, NPAGES);
	ASSERT_EQ(0, measure_end(&m, &d));
	close(hold[1]);
	reap(pid);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_COW_COPY]);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_COW_COPY_ANON]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_REUSE]);
	EXPECT_EQ(d.c[COWTRACE_FAULTS], ct_row_kinds(&d));
}

TEST(parent_write_after_child_exit_reuses_each_page)
{
	struct measure m;
	struct ct_row d;
	pid_t pid;
	char *p = map_anon(NPAGES);

	ASSERT_NE(NULL, p);
	write_pages(p, NPAGES);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	reap(pid);
	ASSERT_EQ(0, measure_start(&m));
	write_pages(p, NPAGES);
	ASSERT_EQ(0, measure_end(&m, &d));
	EXPECT_EQ(NPAGES, d.c[COWTRACE_COW_REUSE]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_COPY]);
	EXPECT_EQ(d.c[COWTRACE_FAULTS], ct_row_kinds(&d));
}

#define NTHREADS	4
#define THREAD_PAGES	64

struct thread_result {
	pid_t tid;
	int err;
	struct ct_row d;
	long long kernel;
	unsigned long long row_faults;
};

/* Each thread measures its own row: threads are tasks of their own. */
static void *thread_touch(void *arg)
{
	struct thread_result *res = arg;
	struct ct_row before, after;
	struct ct_reader r;
	char path[64], *p;

	res->tid = syscall(SYS_gettid);
	p = map_anon(THREAD_PAGES);
	if (!p || ct_reader_init(&r)) {
		res->err = 1;
		return NULL;
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", res->tid);
	ct_reader_warm(&r, res->tid);
	write_pages(NULL, 0);
	ct_kernel_faults(path);
	res->err = ct_read_row(&r, res->tid, &before);
	write_pages(p, THREAD_PAGES);
	res->err |= ct_read_row(&r, res->tid, &after);
	ct_row_delta(&before, &after, &res->d);
	/* Both counts at one moment: nothing faults between the two reads. */
	res->kernel = ct_kernel_faults(path);
	res->err |= ct_read_row(&r, res->tid, &after);
	res->row_faults = after.c[COWTRACE_FAULTS];
	return NULL;
}

TEST(each_thread_has_its_own_row)
{
	struct thread_result res[NTHREADS] = {};
	pthread_t t[NTHREADS];
	int i;

	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, thread_touch, &res[i]));
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	for (i = 0; i < NTHREADS; i++) {
		EXPECT_EQ(0, res[i].err);
		EXPECT_EQ(THREAD_PAGES, res[i].d.c[COWTRACE_FAULT_ANON]);
		EXPECT_EQ(getpid(), res[i].d.tgid);
		EXPECT_EQ(res[i].kernel, (long long)res[i].row_faults);
	}
}

static void *noop(void *arg)
{
	return arg;
}

TEST(clones_count_as_processes_or_threads)
{
	struct measure m;
	struct ct_row d;
	pthread_t t;
	pid_t pid;
	int i;

	ASSERT_EQ(0, measure_start(&m));
	for (i = 0; i < 3; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			_exit(0);
		reap(pid);
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_create(&t, NULL, noop, NULL));
		ASSERT_EQ(0, pthread_join(t, NULL));
	}
	ASSERT_EQ(0, measure_end(&m, &d));
	EXPECT_EQ(3, d.c[COWTRACE_FORKS]);
	EXPECT_EQ(2, d.c[COWTRACE_THREADS]);
}

int main(int argc, char **argv)
{
	page_size = sysconf(_SC_PAGESIZE);
	return cowtrace_test_main(argc, argv);
}
