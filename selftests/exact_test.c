// SPDX-License-Identifier: GPL-2.0
/*
 * Counts stay exact, or say where they are not, when cowtrace is pushed:
 * faults asleep in any number, a row whose allocation failed, a reset
 * while tasks count.
 *
 * "faults" and "fault_major" are the kernel's own per-task counts; a fault
 * the module could not classify is "unclassified", never missing. So a row
 * always satisfies faults = kinds + unclassified, and faults = the
 * minflt + majflt that wait4() reports for the task.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cowtrace_test.h"
#include "workload.h"

/* More faults asleep than a kretprobe's pool of 512 instances holds. */
#define NPARK		600
#define NPAGES		200

struct parked {
	int uffd;
	char *area;
	pthread_t thread[NPARK];
	unsigned int started;
};

static void *park(void *page)
{
	/* Waits in the fault for its handler. */
	__atomic_store_n((char *)page, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* A userfaultfd that nobody serves: a fault in its range sleeps in it. */
static int unserved_uffd(char *area, size_t pages)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { (unsigned long)area, pages * page_size },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);

	if (uffd < 0)
		uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		return -1;
	if (ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		close(uffd);
		return -1;
	}
	return uffd;
}

/* NPARK threads, each asleep in a fault; 0 once all of them are. */
static int park_threads(struct parked *pk)
{
	struct uffd_msg msg[64];
	pthread_attr_t attr;
	unsigned int seen = 0;
	ssize_t n;

	pk->area = map_anon(NPARK);
	if (!pk->area)
		return -1;
	pk->uffd = unserved_uffd(pk->area, NPARK);
	if (pk->uffd < 0)
		return -1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (pk->started = 0; pk->started < NPARK; pk->started++)
		if (pthread_create(&pk->thread[pk->started], &attr, park,
				   pk->area + pk->started * page_size))
			break;
	pthread_attr_destroy(&attr);
	if (pk->started != NPARK)
		return -1;
	/* One message per waiting fault: all are asleep once all are read. */
	while (seen < NPARK) {
		n = read(pk->uffd, msg, sizeof(msg));
		if (n <= 0)
			return -1;
		seen += n / sizeof(msg[0]);
	}
	return 0;
}

/* Closing the userfaultfd wakes every parked fault, which then completes. */
static void release_threads(struct parked *pk)
{
	unsigned int i;

	if (pk->uffd >= 0)
		close(pk->uffd);
	pk->uffd = -1;
	for (i = 0; i < pk->started; i++)
		pthread_join(pk->thread[i], NULL);
	pk->started = 0;
}

/* A child that writes NPAGES fresh pages; its kernel fault count. */
static pid_t run_child(long long *kernel_faults)
{
	struct rusage ru;
	int status;
	pid_t pid;
	char *p;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		p = map_anon(NPAGES);
		if (!p)
			_exit(1);
		write_pages(p, NPAGES);
		_exit(0);
	}
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -1;
	*kernel_faults = ru.ru_minflt + ru.ru_majflt;
	return pid;
}

/*
 * Faults asleep in any number: the bracket keeps a task's last try in its
 * row, so a task faulting while 600 others sleep in theirs (parked on a
 * userfaultfd) is classified whole, its count exact. (A return probe held
 * an instance for each fault in flight, and when its pool ran out, every
 * fault went unclassified.)
 */
TEST(faults_stay_classified_while_many_faults_sleep)
{
	struct parked pk = { .uffd = -1 };
	struct ct_reader r;
	struct ct_row row;
	long long kernel;
	pid_t child;

	ASSERT_EQ(0, ct_reader_init(&r));
	ASSERT_EQ(0, park_threads(&pk)) {
		TH_LOG("parking %d faults on a userfaultfd: %s", NPARK,
		       strerror(errno));
		release_threads(&pk);
	}
	child = run_child(&kernel);
	release_threads(&pk);
	ASSERT_LT(0, child);
	ASSERT_EQ(0, ct_read_row(&r, child, &row));
	EXPECT_STREQ("exited", row.state);
	EXPECT_EQ(kernel, row.c[COWTRACE_FAULTS]);
	EXPECT_EQ(0, row.c[COWTRACE_UNCLASSIFIED]);
	EXPECT_EQ(row.c[COWTRACE_FAULTS], ct_row_kinds(&row));
	EXPECT_LE(NPAGES, row.c[COWTRACE_FAULT_ANON]);
}

/* Faulting continuously: each round frees its pages and writes them again. */
static bool churn_stop;

struct churner {
	pthread_t thread;
	pid_t tid;
	char stat_path[64];
};

static void *churn(void *arg)
{
	struct churner *c = arg;
	char *p = map_anon(64);

	__atomic_store_n(&c->tid, gettid(), __ATOMIC_RELEASE);
	if (!p)
		return NULL;
	while (!__atomic_load_n(&churn_stop, __ATOMIC_RELAXED)) {
		write_pages(p, 64);
		madvise(p, 64 * page_size, MADV_DONTNEED);
	}
	munmap(p, 64 * page_size);
	return NULL;
}

#define NCHURN		2
#define BACK_TO_BACK	5000
#define RESETS		500

/*
 * A reset while tasks count is never undone by them: after it, a task's
 * row shows no more faults than the kernel counted for it since just
 * before, and no more classified ones than that plus the one fault that
 * may have been in flight (the kernel counts a fault before it returns
 * through the module's bracket). A lost reset would show the whole count
 * from before it. The race is between one increment's load and its store:
 * resets back to back first give it its best chances (on the kcsan series
 * KCSAN widens that window and reports the data race itself), then many
 * rounds check each reset.
 */
/*
 * 5500 resets and their reads take seconds on a stock kernel and, on the
 * debug series on a loaded machine, more than the harness's 30: a fixture
 * of its own for a timeout of its own.
 */
FIXTURE(reset) {
};

FIXTURE_SETUP(reset)
{
}

FIXTURE_TEARDOWN(reset)
{
}

TEST_F_TIMEOUT(reset, a_reset_is_never_undone_by_a_counting_task, 180)
{
	unsigned long long since, undone = 0;
	struct churner c[NCHURN] = { 0 };
	long long before[NCHURN];
	unsigned int i, round;
	struct ct_reader r;
	struct ct_row row;

	ASSERT_EQ(0, ct_reader_init(&r));
	__atomic_store_n(&churn_stop, false, __ATOMIC_RELAXED);
	for (i = 0; i < NCHURN; i++)
		ASSERT_EQ(0, pthread_create(&c[i].thread, NULL, churn, &c[i]));
	for (i = 0; i < NCHURN; i++) {
		while (!__atomic_load_n(&c[i].tid, __ATOMIC_ACQUIRE))
			sched_yield();
		snprintf(c[i].stat_path, sizeof(c[i].stat_path),
			 "/proc/%d/task/%d/stat", getpid(), c[i].tid);
	}
	for (round = 0; round < BACK_TO_BACK; round++)
		ASSERT_EQ(0, cowtrace_write_file(COWTRACE_DEBUGFS_DIR "/control",
						 "reset"));
	for (round = 0; round < RESETS; round++) {
		for (i = 0; i < NCHURN; i++)
			before[i] = ct_kernel_faults(c[i].stat_path);
		ASSERT_EQ(0, cowtrace_write_file(COWTRACE_DEBUGFS_DIR "/control",
						 "reset"));
		for (i = 0; i < NCHURN; i++) {
			ASSERT_EQ(0, ct_read_row(&r, c[i].tid, &row));
			since = ct_kernel_faults(c[i].stat_path) - before[i];
			if (row.c[COWTRACE_FAULTS] <= since &&
			    ct_row_kinds(&row) <= since + 1)
				continue;
			if (!undone++)
				TH_LOG("round %u: tid %d: %llu faults, %llu classified; %llu %s",
				       round, c[i].tid, row.c[COWTRACE_FAULTS],
				       ct_row_kinds(&row), since,
				       "counted by the kernel since the reset");
		}
	}
	__atomic_store_n(&churn_stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < NCHURN; i++)
		pthread_join(c[i].thread, NULL);
	EXPECT_EQ(0, undone);
}

#define FAILSLAB	"/sys/kernel/debug/failslab"

static int failslab(const char *knob, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), FAILSLAB "/%s", knob);
	return cowtrace_write_file(path, val);
}

static int make_it_fail(const char *val)
{
	return cowtrace_write_file("/proc/thread-self/make-it-fail", val);
}

/*
 * A task whose row could not be allocated, at its clone or at its first
 * faults (failslab fails every allocation that cannot wait, for the tasks
 * that ask for it), gets its row later and still counts every fault: the
 * ones cowtrace did not see are unclassified, and stats counts the failed
 * allocations.
 */
TEST(a_row_made_late_counts_every_fault)
{
	long long failures, kernel;
	struct ct_reader r;
	struct rusage ru;
	struct ct_row row;
	int status;
	pid_t pid;

	if (access(FAILSLAB, F_OK))
		SKIP(return, "this kernel has no failslab fault injection");
	ASSERT_EQ(0, ct_reader_init(&r));
	ASSERT_EQ(0, failslab("task-filter", "Y"));
	ASSERT_EQ(0, failslab("ignore-gfp-wait", "Y"));
	ASSERT_EQ(0, failslab("verbose", "0"));
	ASSERT_EQ(0, failslab("interval", "1"));
	ASSERT_EQ(0, failslab("times", "-1"));
	ASSERT_EQ(0, failslab("probability", "100"));
	failures = cowtrace_stat("alloc_failures");

	ASSERT_EQ(0, make_it_fail("1"));
	pid = fork();
	if (!pid) {
		/* Its first faults, returning from fork(), get no row. */
		if (make_it_fail("0"))
			_exit(1);
		write_pages(map_anon(NPAGES), NPAGES);
		_exit(0);
	}
	/*
	 * Only tasks with make-it-fail set fail: the child's allocations
	 * fail until it clears its own. Failing stops only once it is done,
	 * or its first faults could find allocations working again.
	 */
	make_it_fail("0");
	ASSERT_LT(0, pid);
	ASSERT_EQ(pid, wait4(pid, &status, 0, &ru));
	failslab("probability", "0");
	ASSERT_EQ(0, status);
	kernel = ru.ru_minflt + ru.ru_majflt;

	/* The clone's allocation and at least one at a first fault. */
	EXPECT_LE(failures + 2, cowtrace_stat("alloc_failures"));
	ASSERT_EQ(0, ct_read_row(&r, pid, &row));
	EXPECT_EQ(kernel, row.c[COWTRACE_FAULTS]);
	EXPECT_EQ(row.c[COWTRACE_FAULTS],
		  ct_row_kinds(&row) + row.c[COWTRACE_UNCLASSIFIED]);
	EXPECT_LE(1, row.c[COWTRACE_UNCLASSIFIED]);
	EXPECT_LE(NPAGES, row.c[COWTRACE_FAULT_ANON]);
}

int main(int argc, char **argv)
{
	page_size = sysconf(_SC_PAGESIZE);
	return cowtrace_test_main(argc, argv);
}
