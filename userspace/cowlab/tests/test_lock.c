// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the lock engine: every lock that excludes ends at exactly
 * procs x count, the unprotected ones never above it, and the module's
 * file-lock view is parsed by column name.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "engine/common.h"
#include "engine/lock.h"
#include "leftovers.h"

static void run_exact(struct __test_metadata *_metadata, int m, int procs,
		      long count, bool threads)
{
	struct lock_params p = { .procs = procs, .count = count,
				 .threads = threads };
	struct lock_result r;

	TH_LOG("%s %d %s x %ld", lock_methods[m].name, procs,
	       threads ? "threads" : "procs", count);
	ASSERT_TRUE(lock_exact(m, threads));
	ASSERT_EQ(0, lock_run(m, &p, &r));
	EXPECT_EQ((long long)procs * count, r.expected);
	EXPECT_EQ(r.expected, r.final);
	EXPECT_EQ(0, r.lost);
	EXPECT_LT(0, r.ops_per_s);
}

TEST(file_locks_are_exact)
{
	run_exact(_metadata, LOCK_FLOCK, 4, 1000, false);
	run_exact(_metadata, LOCK_FCNTL, 4, 1000, false);
	run_exact(_metadata, LOCK_OFD, 4, 1000, false);
	run_exact(_metadata, LOCK_EXCL, 3, 300, false);
}

TEST(memory_locks_are_exact)
{
	run_exact(_metadata, LOCK_CAS, 4, 50000, false);
	run_exact(_metadata, LOCK_SPIN, 4, 50000, false);
	run_exact(_metadata, LOCK_MUTEX, 4, 50000, false);
	run_exact(_metadata, LOCK_PETERSON, 2, 50000, false);
}

TEST(thread_locks_are_exact)
{
	/* each thread opens the file itself: its own open file description */
	run_exact(_metadata, LOCK_FLOCK, 4, 500, true);
	run_exact(_metadata, LOCK_OFD, 4, 500, true);
	run_exact(_metadata, LOCK_MUTEX, 4, 20000, true);
	run_exact(_metadata, LOCK_PETERSON, 2, 20000, true);
}

TEST(unprotected_never_gain)
{
	static const struct lossy {
		int m;
		bool threads;
	} cases[] = {
		{ LOCK_NONE, false }, { LOCK_LOCKFILE, false },
		{ LOCK_NONE, true }, { LOCK_FCNTL, true },
		{ LOCK_PETERSON_NOFENCE, false },
	};
	struct lock_params p = { .procs = 4, .count = 500 };
	struct lock_result r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int m = cases[i].m;

		p.threads = cases[i].threads;
		p.procs = lock_methods[m].two_only ? 2 : 4;
		EXPECT_FALSE(lock_exact(m, p.threads));
		ASSERT_EQ(0, lock_run(m, &p, &r));
		EXPECT_LE(r.final, r.expected);
		EXPECT_LT(0, r.final);
		EXPECT_EQ(r.expected - r.final, r.lost);
	}
}

TEST(checks)
{
	struct lock_params p = { .procs = 3, .count = 10 };
	struct lock_result r;
	const char *why;

	EXPECT_EQ(-EINVAL, lock_check(LOCK_PETERSON, &p, &why));
	ASSERT_NE(NULL, why);
	EXPECT_EQ(-EINVAL, lock_run(LOCK_PETERSON, &p, &r));
	p.procs = 0;
	EXPECT_EQ(-EINVAL, lock_check(LOCK_FLOCK, &p, &why));
	p.procs = LOCK_MAX_PROCS + 1;
	EXPECT_EQ(-EINVAL, lock_check(LOCK_FLOCK, &p, &why));
	p.procs = 2;
	p.count = 0;
	EXPECT_EQ(-EINVAL, lock_check(LOCK_FLOCK, &p, &why));
	p.count = 1;
	EXPECT_EQ(0, lock_check(LOCK_PETERSON, &p, &why));
	EXPECT_EQ(-EINVAL, lock_check(LOCK_NR_METHODS, &p, &why));
	EXPECT_EQ(LOCK_OFD, lock_method_lookup("ofd"));
	EXPECT_EQ(-1, lock_method_lookup("semaphore"));
}

TEST(nothing_left_behind)
{
	struct lock_params p = { .procs = 2, .count = 50 };
	int before = count_prefixed(ilt_tmp_base(), "cowlab-lock");
	struct lock_result r;

	ASSERT_EQ(0, lock_run(LOCK_LOCKFILE, &p, &r));
	ASSERT_EQ(0, lock_run(LOCK_FLOCK, &p, &r));
	EXPECT_EQ(before, count_prefixed(ilt_tmp_base(), "cowlab-lock"));
}

static const char kview[] =
	"locks since 12.000000 s\n"
	"== lock contention unavailable: no tracepoints ==\n"
	"== file locks by task and file: 4, lost 0 ==\n"
	"pid tgid comm type dev inode acquired conflicts waits wait_ns max_wait_ns waiting\n"
	"100 100 cowlab flock 0:25 1234 10 2 3 5000 4000 0\n"
	"101 101 cowlab flock 0:25 1234 7 1 1 1000 1000 1\n"
	"102 102 my\\040prog posix 0:25 999 50 50 50 50 50 0\n"
	"103 103 cowlab ofd 8:1 1234 60 60 60 60 60 0\n";

static const char kview_none[] =
	"== file locks unavailable: no filelock tracepoints ==\n";

TEST(module_view_parse)
{
	struct lock_kstats k;

	ASSERT_EQ(0, lock_kparse(kview, 0, 25, 1234, &k));
	EXPECT_EQ(2, k.rows);
	EXPECT_EQ(17, lock_kget(&k, "acquired"));
	EXPECT_EQ(3, lock_kget(&k, "conflicts"));
	EXPECT_EQ(4, lock_kget(&k, "waits"));
	EXPECT_EQ(6000, lock_kget(&k, "wait_ns"));
	EXPECT_EQ(4000, lock_kget(&k, "max_wait_ns"));
	EXPECT_EQ(-1, lock_kget(&k, "waiting"));
	EXPECT_EQ(-1, lock_kget(&k, "pid"));
	ASSERT_EQ(0, lock_kparse(kview, 9, 9, 1, &k));
	EXPECT_EQ(0, k.rows);
	EXPECT_EQ(-ENOENT, lock_kparse(kview_none, 0, 25, 1234, &k));
	EXPECT_EQ(-ENOENT, lock_kparse("", 0, 25, 1234, &k));
}

TEST_HARNESS_MAIN
