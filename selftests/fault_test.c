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
#include <linux/mempolicy.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cowtrace_test.h"
#include "workload.h"

#define NPAGES	200

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

/*
 * A child that shares every page of this process until *@release, the
 * pipe end it waits on, is closed; its pid, or -1.
 */
static pid_t fork_holding(int *release)
{
	int hold[2];
	pid_t pid;
	char c;

	if (pipe(hold))
		return -1;
	pid = fork();
	if (!pid) {
		close(hold[1]);
		_exit(read(hold[0], &c, 1) < 0);
	}
	close(hold[0]);
	if (pid < 0)
		close(hold[1]);
	else
		*release = hold[1];
	return pid;
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
	int release;
	pid_t pid;
	char *p = map_anon(NPAGES);

	ASSERT_NE(NULL, p);
	write_pages(p, NPAGES);
	pid = fork_holding(&release);
	ASSERT_LE(0, pid);
	/*
	 * A dry run first: the child's own writes may already have made a
	 * page of this stack the parent's alone, and the measuring path's
	 * first write to it would be a reuse inside the window.
	 */
	ASSERT_EQ(0, measure_start(&m));
	ASSERT_EQ(0, measure_end(&m, &d));
	ASSERT_EQ(0, measure_start(&m));
	write_pages(p, NPAGES);
	ASSERT_EQ(0, measure_end(&m, &d));
	close(release);
	reap(pid);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_COW_COPY]);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_COW_COPY_ANON]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_REUSE]);
	EXPECT_EQ(d.c[COWTRACE_FAULTS], ct_row_kinds(&d));
}

/*
 * After a fork the page of this thread's rseq area is shared with the
 * child, and the kernel writes the area whenever the thread comes back to
 * user space on another CPU: a move inside a window must not show up as a
 * copy-on-write fault the window did not run (measure_start() owns that
 * page first).
 */
TEST(a_move_to_another_cpu_after_fork_faults_nothing_in_a_window)
{
	struct measure m;
	struct ct_row d;
	cpu_set_t other;
	int release, cpu;
	pid_t pid;

	if (!__rseq_size)
		SKIP(return, "glibc registered no rseq area");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU: nowhere to move to");
	/* Unpinned, so that the child starts on the idle CPU, not this one. */
	pid = fork_holding(&release);
	ASSERT_LE(0, pid);
	/* Both calls run once before the window: their code is mapped. */
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(other), &other));
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(other), &other));
	ASSERT_LE(0, sched_getcpu());
	ASSERT_EQ(0, measure_start(&m));
	cpu = sched_getcpu();
	CPU_ZERO(&other);
	CPU_SET(cpu ? 0 : 1, &other);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(other), &other));
	ASSERT_NE(cpu, sched_getcpu());
	ASSERT_EQ(0, measure_end(&m, &d));
	close(release);
	reap(pid);
	EXPECT_EQ(0, d.c[COWTRACE_FAULTS]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_COPY]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_REUSE]);
}

TEST(parent_write_after_child_exit_reuses_each_page)
{
	struct measure m;
	struct ct_row d;
	pid_t pid;
	char *p = map_anon(NPAGES);

	ASSERT_EQ(0, cowtrace_pin_cpu());
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
	int i;

	res->tid = syscall(SYS_gettid);
	p = map_anon(THREAD_PAGES);
	if (!p || ct_reader_init(&r)) {
		res->err = 1;
		return NULL;
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", res->tid);
	ct_reader_warm(&r, res->tid);
	warm_text();
	ct_kernel_faults(path);
	res->err = ct_read_row(&r, res->tid, &before);
	write_pages(p, THREAD_PAGES);
	res->err |= ct_read_row(&r, res->tid, &after);
	ct_row_delta(&before, &after, &res->d);
	/*
	 * Both counts at one moment. A fault the thread did not ask for
	 * (NUMA balancing's hinting faults, on the two-node guest) may land
	 * between the reads: read again until the kernel's count holds still
	 * around the row's.
	 */
	for (i = 0; i < 10; i++) {
		res->kernel = ct_kernel_faults(path);
		res->err |= ct_read_row(&r, res->tid, &after);
		res->row_faults = after.c[COWTRACE_FAULTS];
		if (ct_kernel_faults(path) == res->kernel)
			break;
	}
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

/*
 * An unlinked file of @pages pages of 'x' in @dir, all in the page cache;
 * -1 on failure.
 */
static int make_file(const char *dir, size_t pages)
{
	char path[64], page[4096];
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "%s/cowtrace-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	memset(page, 'x', sizeof(page));
	for (i = 0; i < pages * (page_size / sizeof(page)); i++) {
		if (write(fd, page, sizeof(page)) != sizeof(page)) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

#define FAULT_AROUND	"/sys/kernel/debug/fault_around_bytes"

/*
 * File faults with fault-around off (one page per fault), unless a test
 * sets it: fault_around_bytes is restored afterwards.
 */
FIXTURE(file) {
	char saved[32];
	int fd;
};

FIXTURE_SETUP(file)
{
	ASSERT_LT(0, cowtrace_read_file(FAULT_AROUND, self->saved,
					sizeof(self->saved)));
	ASSERT_EQ(0, cowtrace_write_file(FAULT_AROUND, "4096"));
	self->fd = make_file("/tmp", NPAGES);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(file)
{
	cowtrace_write_file(FAULT_AROUND, self->saved);
	close(self->fd);
}

static char *map_file(int fd, size_t pages, int flags)
{
	char *p = mmap(NULL, pages * page_size, PROT_READ | PROT_WRITE,
		       flags, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Read every page of @p, mapped from the file: one file fault each. */
static void expect_file_read_faults(struct __test_metadata *_metadata,
				    char *p, struct ct_row *d)
{
	struct measure m;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, measure_start(&m));
	EXPECT_EQ('x' * NPAGES, read_pages(p, NPAGES));
	ASSERT_EQ(0, measure_end(&m, d));
	EXPECT_EQ(NPAGES, d->c[COWTRACE_FAULT_FILE]);
	EXPECT_EQ(NPAGES, d->c[COWTRACE_FAULTS]);
}

TEST_F(file, private_reads_map_the_page_cache)
{
	char *p = map_file(self->fd, NPAGES, MAP_PRIVATE);
	struct ct_row d;

	expect_file_read_faults(_metadata, p, &d);
	EXPECT_EQ(0, d.c[COWTRACE_FAULT_MAJOR]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_COPY]);
}

TEST_F(file, private_write_after_read_copies_the_page_cache_page)
{
	char *p = map_file(self->fd, NPAGES, MAP_PRIVATE);
	struct measure m;
	struct ct_row d;

	ASSERT_NE(NULL, p);
	read_pages(p, NPAGES);
	ASSERT_EQ(0, measure_start(&m));
	write_pages(p, NPAGES);
	ASSERT_EQ(0, measure_end(&m, &d));
	EXPECT_EQ(NPAGES, d.c[COWTRACE_COW_COPY]);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_COW_COPY_FILE]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_COPY_ANON]);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_FAULTS]);
}

TEST_F(file, private_write_before_any_read_copies_too)
{
	char *p = map_file(self->fd, NPAGES, MAP_PRIVATE);
	struct measure m;
	struct ct_row d;
	char c = 0;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, measure_start(&m));
	write_pages(p, NPAGES);
	ASSERT_EQ(0, measure_end(&m, &d));
	EXPECT_EQ(NPAGES, d.c[COWTRACE_COW_COPY]);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_COW_COPY_FILE]);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_FAULTS]);
	/* The file is untouched: the copies are private. */
	ASSERT_EQ(1, pread(self->fd, &c, 1, 0));
	EXPECT_EQ('x', c);
}

/*
 * tmpfs keeps no dirty accounting, so a shared mapping's read fault maps
 * the page writable at once: the writes that follow fault nothing at all.
 * (On a filesystem that tracks dirty pages, each is one wp_shared: below.)
 */
TEST_F(file, shared_tmpfs_page_is_writable_from_its_read_fault)
{
	char *p = map_file(self->fd, NPAGES, MAP_SHARED);
	struct measure m;
	struct ct_row d;

	expect_file_read_faults(_metadata, p, &d);
	ASSERT_EQ(0, measure_start(&m));
	write_pages(p, NPAGES);
	ASSERT_EQ(0, measure_end(&m, &d));
	EXPECT_EQ(0, d.c[COWTRACE_FAULTS]);
}

/*
 * A filesystem that tracks dirty pages (ext4, on a loop device over a file
 * in /tmp) maps a shared page read-only on a read fault, so that the first
 * write is noticed: each such write is one wp_shared fault, and nothing is
 * copied. The fixture skips when the kernel has no loop or ext4 module.
 */
#define EXT4_IMG	"/tmp/cowtrace-ext4.img"
#define EXT4_DIR	"/tmp/cowtrace-ext4"

FIXTURE(ext4) {
	char saved[32];
	int fd;
	bool mounted;
};

static const char *const ext4_commands[] = {
	"modprobe -q loop; modprobe -q ext4; true",
	"truncate -s 32M " EXT4_IMG,
	"mkfs.ext4 -q -F " EXT4_IMG " >/dev/null 2>&1",
	"mkdir -p " EXT4_DIR,
	"mount -o loop " EXT4_IMG " " EXT4_DIR " 2>/dev/null",
};

FIXTURE_SETUP(ext4)
{
	size_t i;

	ASSERT_LT(0, cowtrace_read_file(FAULT_AROUND, self->saved,
					sizeof(self->saved)));
	for (i = 0; i < ARRAY_SIZE(ext4_commands); i++)
		if (system(ext4_commands[i]))
			SKIP(return, "no ext4 on a loop device: '%s' failed",
			     ext4_commands[i]);
	self->mounted = true;
	ASSERT_EQ(0, cowtrace_write_file(FAULT_AROUND, "4096"));
	self->fd = make_file(EXT4_DIR, NPAGES);
	ASSERT_LE(0, self->fd);
	/* Clean pages: the writes below are the first since writeback. */
	ASSERT_EQ(0, fsync(self->fd));
}

FIXTURE_TEARDOWN(ext4)
{
	if (!self->mounted)
		return;
	cowtrace_write_file(FAULT_AROUND, self->saved);
	close(self->fd);
	if (system("umount " EXT4_DIR "; rm -f " EXT4_IMG))
		TH_LOG("cleanup of %s failed", EXT4_DIR);
}

TEST_F(ext4, shared_write_after_read_is_a_write_notify_fault)
{
	char *p = map_file(self->fd, NPAGES, MAP_SHARED);
	struct measure m;
	struct ct_row d;

	expect_file_read_faults(_metadata, p, &d);
	ASSERT_EQ(0, measure_start(&m));
	write_pages(p, NPAGES);
	ASSERT_EQ(0, measure_end(&m, &d));
	EXPECT_EQ(NPAGES, d.c[COWTRACE_WP_SHARED]);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_FAULTS]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_COPY]);
	EXPECT_EQ(0, d.c[COWTRACE_COW_REUSE]);
	munmap(p, NPAGES * page_size);
}

#define AROUND_PAGES	160

/* One read fault maps the whole aligned 64 KiB window around it. */
TEST_F(file, fault_around_maps_sixteen_pages_per_fault)
{
	size_t window = 65536, len = AROUND_PAGES * page_size;
	struct measure m;
	struct ct_row d;
	char *area, *p;

	ASSERT_EQ(0, cowtrace_write_file(FAULT_AROUND, "65536"));
	area = mmap(NULL, len + window, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	p = (char *)(((unsigned long)area + window - 1) & ~(window - 1));
	ASSERT_EQ(p, mmap(p, len, PROT_READ, MAP_PRIVATE | MAP_FIXED,
			  self->fd, 0));
	ASSERT_EQ(0, measure_start(&m));
	read_pages(p, AROUND_PAGES);
	ASSERT_EQ(0, measure_end(&m, &d));
	EXPECT_EQ(AROUND_PAGES / (window / page_size),
		  d.c[COWTRACE_FAULT_FILE]);
}

#define HPAGE		(2UL << 20)
#define THP_PAGES	(2 * HPAGE / 4096)
#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"

/* Two PMD-aligned huge pages' worth of anonymous memory, THP asked for. */
static char *map_huge(void)
{
	char *area, *p;

	area = mmap(NULL, 3 * HPAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return NULL;
	p = (char *)(((unsigned long)area + HPAGE - 1) & ~(HPAGE - 1));
	if (madvise(p, 2 * HPAGE, MADV_HUGEPAGE))
		return NULL;
	return p;
}

static bool thp_possible(void)
{
	char text[128];

	return cowtrace_read_file(THP_ENABLED, text, sizeof(text)) > 0 &&
	       !strstr(text, "[never]");
}

static void child_writes_huge(char *mem, struct ct_row *d)
{
	struct measure m;

	if (!measure_start(&m)) {
		write_pages(mem, THP_PAGES);
		measure_end(&m, d);
	}
}

/*
 * THP: one fault maps 2 MiB. After fork the child's first write splits its
 * mapping of the huge page and every 4 KiB page is then copied on its own;
 * once the child is gone the parent reuses each huge page whole.
 */
TEST(huge_pages_fault_whole_and_copy_small)
{
	struct measure m;
	struct ct_row d;
	pid_t pid;
	char *p;

	if (!thp_possible())
		SKIP(return, "transparent huge pages are off");
	p = map_huge();
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, measure_start(&m));
	write_pages(p, THP_PAGES);
	ASSERT_EQ(0, measure_end(&m, &d));
	if (d.c[COWTRACE_THP_ANON] == 0)
		SKIP(return, "no huge page could be allocated");
	EXPECT_EQ(2, d.c[COWTRACE_THP_ANON]);
	EXPECT_EQ(2, d.c[COWTRACE_FAULTS]);

	ASSERT_EQ(0, in_child(child_writes_huge, p, &d, &pid));
	reap(pid);
	EXPECT_EQ(THP_PAGES, d.c[COWTRACE_COW_COPY]);
	EXPECT_EQ(THP_PAGES, d.c[COWTRACE_FAULTS]);

	ASSERT_EQ(0, measure_start(&m));
	write_pages(p, THP_PAGES);
	ASSERT_EQ(0, measure_end(&m, &d));
	EXPECT_EQ(2, d.c[COWTRACE_THP_REUSE]);
	EXPECT_EQ(2, d.c[COWTRACE_FAULTS]);
}

/* Pages of [p, p + pages) that are resident. */
static size_t resident(char *p, size_t pages)
{
	unsigned char vec[NPAGES];
	size_t i, n = 0;

	if (pages > NPAGES || mincore(p, pages * page_size, vec))
		return (size_t)-1;
	for (i = 0; i < pages; i++)
		n += vec[i] & 1;
	return n;
}

/* Swapped out with MADV_PAGEOUT, then touched: every page a swap-in. */
TEST(swapped_out_pages_come_back_as_major_swap_faults)
{
	bool made_swap = false;
	struct measure m;
	struct ct_row d;
	char *p;

	if (!cowtrace_have_swap()) {
		if (system(COWTRACE_ZRAM_ON))
			SKIP(return, "no swap, and zram swap could not be set up");
		made_swap = true;
	}
	p = map_anon(NPAGES);
	ASSERT_NE(NULL, p);
	write_pages(p, NPAGES);
	ASSERT_EQ(0, madvise(p, NPAGES * page_size, MADV_PAGEOUT));
	EXPECT_EQ(0, resident(p, NPAGES));

	ASSERT_EQ(0, measure_start(&m));
	EXPECT_EQ(NPAGES, read_pages(p, NPAGES));
	ASSERT_EQ(0, measure_end(&m, &d));
	EXPECT_EQ(NPAGES, d.c[COWTRACE_FAULT_SWAP]);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_FAULT_MAJOR]);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_FAULTS]);
	munmap(p, NPAGES * page_size);
	if (made_swap)
		EXPECT_EQ(0, system(COWTRACE_ZRAM_OFF));
}

#define EXEC_PAGES	150

/* The helper sits next to this program. */
static void helper_path(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 32);
	char *slash;

	buf[n > 0 ? n : 0] = '\0';
	slash = strrchr(buf, '/');
	slash = slash ? slash + 1 : buf;
	snprintf(slash, 32, "fault_exec_helper");
}

/*
 * After execve the same task goes on, under a new name and with a fresh
 * address space: its faults from then on are the new program's, and the
 * exec is counted once, in that task.
 */
TEST(exec_faults_land_on_the_new_program)
{
	unsigned long long anon, copy, execs;
	char path[4096], out[128], stat[64];
	struct ct_reader r;
	struct ct_row row;
	siginfo_t info;
	int fds[2], fields, self_pid;
	ssize_t n;
	pid_t pid;

	helper_path(path, sizeof(path));
	ASSERT_EQ(0, access(path, X_OK));
	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		dup2(fds[1], 1);
		execl(path, "fault_exec_helper", "150", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	ASSERT_LT(0, n);
	out[n] = '\0';
	fields = sscanf(out, "%llu %llu %llu %d", &anon, &copy, &execs,
			&self_pid);
	ASSERT_EQ(4, fields);
	ASSERT_EQ(0, waitid(P_PID, pid, &info, WEXITED | WNOWAIT));
	EXPECT_EQ(0, info.si_status);
	EXPECT_EQ(pid, self_pid);
	EXPECT_EQ(EXEC_PAGES, anon);
	EXPECT_EQ(0, copy);
	EXPECT_EQ(1, execs);

	ASSERT_EQ(0, ct_reader_init(&r));
	ASSERT_EQ(0, ct_read_row(&r, pid, &row));
	EXPECT_STREQ("fault_exec_help", row.comm);
	EXPECT_EQ(1, row.c[COWTRACE_EXECS]);
	snprintf(stat, sizeof(stat), "/proc/%d/stat", pid);
	EXPECT_EQ(ct_kernel_faults(stat), (long long)row.c[COWTRACE_FAULTS]);
	reap(pid);
}

static void *touch_own_pages(void *arg)
{
	char *p = map_anon(THREAD_PAGES);

	if (p)
		write_pages(p, THREAD_PAGES);
	return arg;
}

/* All tasks' rows of thread group @tgid, summed; how many there were. */
static int sum_task_rows(struct ct_reader *r, int tgid, struct ct_row *sum)
{
	char *line, *next;
	struct ct_row row;
	int n = 0, i;

	memset(sum, 0, sizeof(*sum));
	if (cowtrace_read_file(COWTRACE_DEBUGFS_DIR "/tasks", r->buf,
			       r->size) < 0)
		return -1;
	for (line = strchr(r->buf, '\n'); line; line = next) {
		next = strchr(++line, '\n');
		if (next)
			*next = '\0';
		if (sscanf(line, "%*d %d", &row.tgid) == 1 &&
		    row.tgid == tgid && !ct_parse_row(line, atoi(line), &row)) {
			for (i = 0; i < COWTRACE_NR_COUNTERS; i++)
				sum->c[i] += row.c[i];
			n++;
		}
		if (next)
			*next = '\n';
	}
	return n;
}

/* The last field of @pid's row in the processes view: its "tasks". */
static long processes_tasks(struct ct_reader *r, int pid)
{
	char key[32], *row, *nl;

	if (cowtrace_read_file(COWTRACE_DEBUGFS_DIR "/processes", r->buf,
			       r->size) < 0)
		return -1;
	snprintf(key, sizeof(key), "\n%d %d ", pid, pid);
	row = strstr(r->buf, key);
	if (!row)
		return -1;
	nl = strchr(row + 1, '\n');
	if (nl)
		*nl = '\0';
	return strtol(strrchr(row, ' ') + 1, NULL, 10);
}

/* A process's row is the sum of its threads' rows, alive or exited. */
TEST(process_row_sums_its_threads)
{
	pthread_t t[NTHREADS];
	struct ct_row proc, sum;
	struct ct_reader r;
	pid_t pid;
	int i;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (i = 0; i < NTHREADS; i++)
			if (pthread_create(&t[i], NULL, touch_own_pages, NULL))
				_exit(1);
		for (i = 0; i < NTHREADS; i++)
			pthread_join(t[i], NULL);
		_exit(0);
	}
	reap(pid);
	ASSERT_EQ(0, ct_reader_init(&r));
	EXPECT_EQ(1 + NTHREADS, sum_task_rows(&r, pid, &sum));
	ASSERT_EQ(0, ct_read_view_row(&r, "processes", pid, &proc));
	EXPECT_STREQ("exited", proc.state);
	for (i = 0; i < COWTRACE_NR_COUNTERS; i++)
		EXPECT_EQ(sum.c[i], proc.c[i]);
	EXPECT_EQ(NTHREADS, proc.c[COWTRACE_THREADS]);
	EXPECT_EQ(1 + NTHREADS, processes_tasks(&r, pid));
}

/*
 * Write-protect @pages of a shared memfd mapping with userfaultfd, then zap
 * them: the kernel keeps the protection in a pte marker, a non-present
 * entry that is not a swap entry. The uffd is returned open (closing it
 * would drop the markers), or -1.
 */
static int wp_markers(char *p, size_t pages)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_WP_HUGETLBFS_SHMEM,
	};
	struct uffdio_register reg = {
		.range = { (unsigned long)p, pages * page_size },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = reg.range,
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);

	if (uffd < 0)
		return -1;
	if (ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg) ||
	    ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) ||
	    madvise(p, pages * page_size, MADV_DONTNEED)) {
		close(uffd);
		return -1;
	}
	return uffd;
}

/*
 * A fault on a non-present entry that is no swap entry (a pte marker here;
 * migration and hwpoison entries likewise) goes through do_swap_page() but
 * swaps nothing in: it is no fault_swap. The marker's read fault maps the
 * memfd's page: one fault_file per page, and no swap-in, with no swap.
 */
TEST(a_pte_marker_fault_is_not_a_swap_in)
{
	int fd = memfd_create("ct_markers", MFD_CLOEXEC), uffd;
	struct measure m;
	struct ct_row d;
	char *p;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, NPAGES * page_size));
	p = mmap(NULL, NPAGES * page_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	write_pages(p, NPAGES);
	uffd = wp_markers(p, NPAGES);
	ASSERT_LE(0, uffd) {
		TH_LOG("userfaultfd write-protect of shmem: %s", strerror(errno));
	}
	ASSERT_EQ(0, measure_start(&m));
	EXPECT_EQ(NPAGES, read_pages(p, NPAGES));
	ASSERT_EQ(0, measure_end(&m, &d));
	EXPECT_EQ(0, d.c[COWTRACE_FAULT_SWAP]);
	EXPECT_EQ(0, d.c[COWTRACE_FAULT_MAJOR]);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_FAULT_FILE]);
	EXPECT_EQ(NPAGES, d.c[COWTRACE_FAULTS]);
	EXPECT_EQ(d.c[COWTRACE_FAULTS], ct_row_kinds(&d));
	close(uffd);
	munmap(p, NPAGES * page_size);
	close(fd);
}

/* Rows of the processes view for thread group @tgid, by state. */
static int processes_rows(struct ct_reader *r, pid_t tgid, int *alive,
			  int *exited)
{
	char key[32], state[16], *row;
	int n = 0;

	*alive = 0;
	*exited = 0;
	if (cowtrace_read_file(COWTRACE_DEBUGFS_DIR "/processes", r->buf,
			       r->size) < 0)
		return -1;
	snprintf(key, sizeof(key), "\n%d %d ", tgid, tgid);
	for (row = strstr(r->buf, key); row; row = strstr(row + 1, key)) {
		if (sscanf(row + strlen(key), "%*s %15s", state) != 1)
			return -1;
		*alive += !strcmp(state, "alive");
		*exited += !strcmp(state, "exited");
		n++;
	}
	return n;
}

#define MIGRATE_PAGES	128
#define MIGRATE_ROUNDS	80

struct migrating {
	char *p;
	bool stop;
	bool started;
	int err;
	struct ct_row delta;
};

/* Read the pages over and over while they move; measure this thread. */
static void *read_while_migrating(void *arg)
{
	struct migrating *m = arg;
	struct ct_row before, after;
	struct ct_reader r;
	pid_t tid = gettid();

	if (ct_reader_init(&r)) {
		m->err = -1;
		return NULL;
	}
	ct_reader_warm(&r, tid);
	warm_text();
	if (ct_read_row(&r, tid, &before)) {
		m->err = -1;
		return NULL;
	}
	__atomic_store_n(&m->started, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE))
		read_pages(m->p, MIGRATE_PAGES);
	if (ct_read_row(&r, tid, &after))
		m->err = -1;
	ct_row_delta(&before, &after, &m->delta);
	return NULL;
}

/* Move every page to @node; 0 if all went. */
static int move_to(char *p, int node)
{
	void *pages[MIGRATE_PAGES];
	int nodes[MIGRATE_PAGES], status[MIGRATE_PAGES], i;

	for (i = 0; i < MIGRATE_PAGES; i++) {
		pages[i] = p + i * page_size;
		nodes[i] = node;
	}
	if (syscall(SYS_move_pages, 0, MIGRATE_PAGES, pages, nodes, status,
		    MPOL_MF_MOVE))
		return -1;
	for (i = 0; i < MIGRATE_PAGES; i++)
		if (status[i] != node)
			return -1;
	return 0;
}

/*
 * A fault on a page being migrated finds a migration entry, waits for the
 * move to end and maps nothing itself: it goes through do_swap_page() but
 * is no swap-in (there is no swap here at all): fault_other. Pages moved
 * back and forth between two nodes while a thread reads them: every fault
 * that thread takes is one of those, or one that found the page already
 * in place again when it looked (fault_anon, as the README says of a
 * fault that maps nothing new); none is a swap-in. Which of the two, the
 * timing decides: on 6.12 here nearly all wait, on 6.1 none do.
 */
TEST(faults_on_migrating_pages_are_no_swap_ins)
{
	struct migrating m = { 0 };
	char balancing[8] = "";
	pthread_t t;
	int i;

	if (access("/sys/devices/system/node/node1", F_OK))
		SKIP(return, "needs two memory nodes (vm-run --numa 2)");
	/* NUMA balancing's hinting faults would be the reader's too. */
	cowtrace_read_file("/proc/sys/kernel/numa_balancing", balancing,
			   sizeof(balancing));
	cowtrace_write_file("/proc/sys/kernel/numa_balancing", "0");
	m.p = map_anon(MIGRATE_PAGES);
	ASSERT_NE(NULL, m.p);
	write_pages(m.p, MIGRATE_PAGES);
	ASSERT_EQ(0, move_to(m.p, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, read_while_migrating, &m));
	while (!__atomic_load_n(&m.started, __ATOMIC_ACQUIRE) && !m.err)
		sched_yield();
	for (i = 0; i < MIGRATE_ROUNDS; i++)
		if (move_to(m.p, (i + 1) % 2))
			break;
	__atomic_store_n(&m.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	if (balancing[0])
		cowtrace_write_file("/proc/sys/kernel/numa_balancing", balancing);
	ASSERT_EQ(MIGRATE_ROUNDS, i);
	ASSERT_EQ(0, m.err);
	TH_LOG("the reader took %llu faults during %d moves of %d pages",
	       m.delta.c[COWTRACE_FAULTS], MIGRATE_ROUNDS, MIGRATE_PAGES);
	TH_LOG("%llu waited on a migration entry, %llu found the page in place",
	       m.delta.c[COWTRACE_FAULT_OTHER], m.delta.c[COWTRACE_FAULT_ANON]);
	EXPECT_LT(0, m.delta.c[COWTRACE_FAULTS]);
	EXPECT_EQ(0, m.delta.c[COWTRACE_FAULT_SWAP]);
	EXPECT_EQ(0, m.delta.c[COWTRACE_FAULT_MAJOR]);
	EXPECT_EQ(m.delta.c[COWTRACE_FAULTS], m.delta.c[COWTRACE_FAULT_OTHER] +
		  m.delta.c[COWTRACE_FAULT_ANON]);
	munmap(m.p, MIGRATE_PAGES * page_size);
}

/*
 * A process that gets the pid of one that exited is another process: the
 * processes view keeps their rows apart, however equal their tgids.
 */
TEST(a_reused_pid_is_another_process)
{
	int go[2], alive, exited;
	struct ct_reader r;
	pid_t first, again;
	char byte;

	first = fork();
	ASSERT_LE(0, first);
	if (!first) {
		touch_own_pages(NULL);
		_exit(0);
	}
	reap(first);
	ASSERT_EQ(0, pipe(go));
	again = cowtrace_fork_with_pid(first);
	if (!again) {
		touch_own_pages(NULL);
		_exit(read(go[0], &byte, 1) == 1 ? 0 : 1);
	}
	ASSERT_EQ(first, again) {
		TH_LOG("clone3 with set_tid %d: %s", first, strerror(errno));
	}
	ASSERT_EQ(0, ct_reader_init(&r));
	EXPECT_EQ(2, processes_rows(&r, first, &alive, &exited));
	EXPECT_EQ(1, alive);
	EXPECT_EQ(1, exited);
	ASSERT_EQ(1, write(go[1], "x", 1));
	reap(again);
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
