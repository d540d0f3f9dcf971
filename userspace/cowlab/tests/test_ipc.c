// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the ipc engine: every method delivers every message
 * intact, the limits are reported as errors, and nothing is left behind.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "engine/common.h"
#include "engine/ipc.h"
#include "leftovers.h"

TEST(method_names)
{
	int m;

	for (m = 0; m < IPC_NR_METHODS; m++) {
		ASSERT_NE(NULL, ipc_methods[m].name);
		EXPECT_EQ(m, ipc_method_lookup(ipc_methods[m].name));
	}
	EXPECT_EQ(-1, ipc_method_lookup("carrier-pigeon"));
}

TEST(every_method_delivers_intact)
{
	struct ipc_params p = { .size = 64, .count = 200, .runs = 2,
				.warmup = 1 };
	struct ipc_result r;
	int m;

	for (m = 0; m < IPC_NR_METHODS; m++) {
		TH_LOG("%s", ipc_methods[m].name);
		ASSERT_EQ(0, ipc_run(m, &p, &r));
		EXPECT_EQ(0, r.err);
		EXPECT_EQ(600, r.msgs);
		/* the whole warm-up, and the last reply of each run */
		EXPECT_EQ(202, r.verified);
		EXPECT_EQ(0, r.bad);
		EXPECT_EQ(2, r.rt.n);
		EXPECT_LT(0, r.rt.median);
		EXPECT_LE(r.rt.min, r.rt.median);
		EXPECT_LE(r.rt.median, r.rt.max);
		EXPECT_EQ(m == IPC_SIGNAL ? sizeof(union sigval) : 64,
			  r.payload);
	}
}

TEST(large_messages)
{
	struct ipc_params p = { .size = 256 * 1024, .count = 5, .runs = 1,
				.warmup = 1 };
	static const int stream[] = { IPC_SHM_FUTEX, IPC_POSIX_SHM_SPIN,
				      IPC_PIPE, IPC_FIFO, IPC_UNIX_STREAM,
				      IPC_TCP };
	struct ipc_result r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(stream); i++) {
		TH_LOG("%s", ipc_methods[stream[i]].name);
		EXPECT_EQ(0, ipc_run(stream[i], &p, &r));
		EXPECT_EQ(0, r.bad);
		EXPECT_EQ(6, r.verified);
		EXPECT_LT(0, ipc_bandwidth(&r));
	}
	/* one UDP datagram cannot carry it: a limit, reported as such */
	EXPECT_EQ(-EMSGSIZE, ipc_run(IPC_UDP, &p, &r));
}

TEST(tiny_messages)
{
	struct ipc_params p = { .size = 1, .count = 50, .runs = 1,
				.warmup = 1 };
	struct ipc_result r;
	int m;

	for (m = 0; m < IPC_NR_METHODS; m++) {
		EXPECT_EQ(0, ipc_run(m, &p, &r));
		EXPECT_EQ(0, r.bad);
		EXPECT_EQ(1, r.payload);
	}
}

TEST(bad_parameters)
{
	struct ipc_params p = { .size = 0, .count = 10, .runs = 1 };
	struct ipc_result r;

	EXPECT_EQ(-EINVAL, ipc_run(IPC_PIPE, &p, &r));
	p.size = 8;
	p.count = 0;
	EXPECT_EQ(-EINVAL, ipc_run(IPC_PIPE, &p, &r));
	p.count = 10;
	p.runs = IPC_MAX_RUNS + 1;
	EXPECT_EQ(-EINVAL, ipc_run(IPC_PIPE, &p, &r));
	p.runs = 1;
	EXPECT_EQ(-EINVAL, ipc_run(IPC_NR_METHODS, &p, &r));
}

TEST(shared_versus_private)
{
	struct ipc_visibility v;

	ASSERT_EQ(0, ipc_visibility(&v));
	EXPECT_EQ(v.magic, v.shared_seen);
	EXPECT_EQ(1, v.private_seen);
	EXPECT_EQ(1, v.global_seen);
}

TEST(nothing_left_behind)
{
	struct ipc_params p = { .size = 16, .count = 20, .runs = 1,
				.warmup = 1 };
	int fifo = count_prefixed(ilt_tmp_base(), "cowlab-fifo");
	int shm = count_prefixed("/dev/shm", "cowlab-ipc");
	struct ipc_result r;

	ASSERT_EQ(0, ipc_run(IPC_FIFO, &p, &r));
	ASSERT_EQ(0, ipc_run(IPC_POSIX_SHM_FUTEX, &p, &r));
	EXPECT_EQ(fifo, count_prefixed(ilt_tmp_base(), "cowlab-fifo"));
	EXPECT_EQ(shm, count_prefixed("/dev/shm", "cowlab-ipc"));
}

TEST(series_median_and_spread)
{
	double v[] = { 5, 1, 3, 2, 4 };
	double w[] = { 4, 2 };
	struct ilt_series s;

	ilt_series_of(&s, v, 5);
	EXPECT_EQ(5, s.n);
	EXPECT_EQ(3, s.median);
	EXPECT_EQ(1, s.min);
	EXPECT_EQ(5, s.max);
	/* half of max - min, as a percentage of the median */
	EXPECT_LT(66.6, ilt_spread_pct(&s));
	EXPECT_GT(66.7, ilt_spread_pct(&s));
	ilt_series_of(&s, w, 2);
	EXPECT_EQ(3, s.median);
}

TEST_HARNESS_MAIN
