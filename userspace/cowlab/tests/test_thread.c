// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the thread engine.  The exact outcomes (LWP ids, crash
 * isolation, strtok_r) are asserted exactly; timings only for sanity.
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "engine/thread.h"

TEST(lwp_ids)
{
	struct thread_lwp l;
	int i, j;

	ASSERT_EQ(0, thread_lwp(4, &l));
	EXPECT_EQ(4, l.n);
	/* the first thread's id is the process id */
	EXPECT_EQ(l.pid, l.tid[0]);
	EXPECT_EQ(4, l.tasks);
	for (i = 0; i < l.n; i++)
		for (j = i + 1; j < l.n; j++)
			EXPECT_NE(l.tid[i], l.tid[j]);
	EXPECT_EQ(-EINVAL, thread_lwp(0, &l));
	EXPECT_EQ(-EINVAL, thread_lwp(THREAD_MAX_LWP + 1, &l));
}

TEST(crash_isolation)
{
	struct thread_crash c;

	ASSERT_EQ(0, thread_crash(&c));
	/* a thread's fault kills its whole process, main thread included */
	ASSERT_TRUE(WIFSIGNALED(c.thread_proc_status));
	EXPECT_EQ(SIGSEGV, WTERMSIG(c.thread_proc_status));
	EXPECT_FALSE(c.main_survived);
	/* a child's fault does not touch its parent */
	ASSERT_TRUE(WIFSIGNALED(c.child_status));
	EXPECT_EQ(SIGSEGV, WTERMSIG(c.child_status));
	ASSERT_TRUE(WIFEXITED(c.parent_status));
	EXPECT_EQ(0, WEXITSTATUS(c.parent_status));
	EXPECT_TRUE(c.parent_went_on);
}

TEST(strtok_r_is_thread_safe)
{
	struct thread_strtok s;

	ASSERT_EQ(0, thread_strtok(&s));
	ASSERT_TRUE(WIFEXITED(s.status));
	EXPECT_EQ(0, WEXITSTATUS(s.status));
	EXPECT_EQ(0, s.bad_strtok_r);
	EXPECT_LE(0, s.bad_strtok);
	EXPECT_GE(s.rounds, s.bad_strtok);
	TH_LOG("strtok: %ld of %ld rounds wrong", s.bad_strtok, s.rounds);
}

TEST(create_memory_switch)
{
	struct ilt_series s;
	double bytes;
	int m;

	for (m = 0; m < TM_NR; m++) {
		TH_LOG("%s", thread_model_names[m]);
		ASSERT_EQ(0, thread_create_cost(m, 20, 2, &s));
		EXPECT_EQ(2, s.n);
		EXPECT_LT(0, s.median);
		ASSERT_EQ(0, thread_memory(m, 20, &bytes));
		EXPECT_LE(0, bytes);
		ASSERT_EQ(0, thread_switch_cost(m, 500, 2, &s));
		EXPECT_LT(0, s.median);
	}
	/* a process keeps at least one private page (its stack) */
	ASSERT_EQ(0, thread_memory(TM_PROCESS, 5, &bytes));
	EXPECT_LE(4096, bytes);
	EXPECT_EQ(-EINVAL, thread_create_cost(TM_PROCESS, 0, 2, &s));
	EXPECT_EQ(-EINVAL,
		  thread_memory(TM_KTHREAD, THREAD_MAX_COUNT + 1, &bytes));
}

TEST(sched_share)
{
	struct thread_share k, u;
	double ksum, usum;

	ASSERT_EQ(0, thread_sched_share(false, 200e6, &k));
	ksum = k.a_ns[0] + k.a_ns[1] + k.b_ns;
	ASSERT_LT(0, ksum);
	/* two kernel threads: about two thirds for A */
	EXPECT_LT(0.55, (k.a_ns[0] + k.a_ns[1]) / ksum);
	ASSERT_EQ(0, thread_sched_share(true, 200e6, &u));
	usum = u.a_ns[0] + u.a_ns[1] + u.b_ns;
	ASSERT_LT(0, usum);
	/* two user threads share one kernel thread: about half for A */
	EXPECT_GT(0.6, (u.a_ns[0] + u.a_ns[1]) / usum);
	EXPECT_LT(0.4, (u.a_ns[0] + u.a_ns[1]) / usum);
}

TEST(user_threads_do_not_scale)
{
	struct thread_speedup sp;

	ASSERT_EQ(0, thread_speedup(&sp));
	EXPECT_LT(0, sp.one_ns);
	EXPECT_LT(0, sp.speedup[TM_KTHREAD]);
	/*
	 * One kernel thread runs them all: it can never keep more than one
	 * CPU busy, whatever the load (rusage ticks allow a little slack).
	 * That it ran at all is all the lower bound says: make check builds
	 * the debug kernel and boots guests beside it, and on two cores it
	 * measured 0.49 once.
	 */
	EXPECT_GT(1.1, sp.cpus[TM_UTHREAD]);
	EXPECT_LT(0.2, sp.cpus[TM_UTHREAD]);
	TH_LOG("CPUs busy: process %.2f, kernel %.2f, user %.2f; speed-up %.2f %.2f %.2f",
	       sp.cpus[TM_PROCESS], sp.cpus[TM_KTHREAD], sp.cpus[TM_UTHREAD],
	       sp.speedup[TM_PROCESS], sp.speedup[TM_KTHREAD],
	       sp.speedup[TM_UTHREAD]);
}

TEST_HARNESS_MAIN
