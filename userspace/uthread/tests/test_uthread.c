// SPDX-License-Identifier: GPL-2.0
/*
 * libuthread unit tests (kselftest harness, KTAP output).
 *
 * User threads only record what happened; the assertions run after
 * uthread_run() returns, because a failing ASSERT longjmp()s and must not
 * do so from a user-thread stack.
 */
#include <errno.h>
#include <fcntl.h>
#include <fenv.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "uthread.h"

#ifdef UT_VALGRIND
#include <valgrind/valgrind.h>
#endif

#define MS	1000000ull

static bool on_valgrind(void)
{
#ifdef UT_VALGRIND
	return RUNNING_ON_VALGRIND;
#else
	return false;
#endif
}

/* Valgrind runs ~50x slower: shrink loop counts there (and say so). */
static int scaled(int n)
{
	if (on_valgrind())
		return n / 10 ? n / 10 : 1;
	return n;
}

static char trace[4096];
static int ntrace;

static void mark(char c)
{
	if (ntrace < (int)sizeof(trace) - 1)
		trace[ntrace++] = c;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- yield */

static void *yielder(void *arg)
{
	int i;

	for (i = 0; i < 3; i++) {
		mark(*(char *)arg);
		uthread_yield();
	}
	return arg;
}

struct spawn_join {
	int n;
	void *(*fn)(void *arg);
	void **args;
	void **rets;
	int err;
};

static void *spawn_join_main(void *p)
{
	struct spawn_join *sj = p;
	uthread_t t[16];
	int i;

	for (i = 0; i < sj->n; i++) {
		sj->err = uthread_create(&t[i], 0, sj->fn, sj->args[i]);
		if (sj->err)
			return NULL;
	}
	for (i = 0; i < sj->n; i++) {
		sj->err = uthread_join(t[i], &sj->rets[i]);
		if (sj->err)
			return NULL;
	}
	return p;
}

TEST(yield_order)
{
	void *args[3] = { "A", "B", "C" };
	void *rets[3];
	struct spawn_join sj = { 3, yielder, args, rets, 0 };
	void *ret = NULL;

	ASSERT_EQ(0, uthread_run(spawn_join_main, &sj, &ret));
	ASSERT_EQ(0, sj.err);
	ASSERT_EQ(&sj, ret);
	trace[ntrace] = '\0';
	ASSERT_STREQ("ABCABCABC", trace);
	ASSERT_EQ(args[0], rets[0]);
	ASSERT_EQ(args[2], rets[2]);
}

/* Exit from a nested call returns its value to the joiner. */
static void nested_exit(void)
{
	uthread_exit((void *)0x5a5a);
}

static void *exiter(void *arg)
{
	(void)arg;
	nested_exit();
	return NULL;
}

static void *exit_main(void *arg)
{
	int *res = arg;
	uthread_t t;
	void *v = NULL;

	res[0] = uthread_create(&t, 0, exiter, NULL);
	res[1] = uthread_join(t, &v);
	res[2] = v == (void *)0x5a5a;
	/* Joined handles are released: a second join finds nothing */
	res[3] = uthread_join(t, NULL);
	return (void *)7;
}

TEST(exit_and_retval)
{
	int res[4] = { -1, -1, -1, -1 };
	void *ret = NULL;

	ASSERT_EQ(0, uthread_run(exit_main, res, &ret));
	ASSERT_EQ((void *)7, ret);
	ASSERT_EQ(0, res[0]);
	ASSERT_EQ(0, res[1]);
	ASSERT_EQ(1, res[2]);
	ASSERT_EQ(ESRCH, res[3]);
}

/* ---------------------------------------------------------------- errors */

struct errs {
	int join_self, join_detached, join_unknown, join_zero, detach_twice;
	int stack_small, stack_huge, create_null, create_nullp;
	int unlock_unheld, unlock_other, relock, trylock, destroy_locked;
	int cond_unheld, sem_try, sem_post_ok, setname_unknown, getstack_null;
	int join_twice;
	uthread_mutex_t *m;
};

static void *sleeper_forever_ish(void *arg)
{
	uthread_sleep(1 * MS);
	return arg;
}

static void *try_unlock(void *arg)
{
	struct errs *e = arg;

	e->unlock_other = uthread_mutex_unlock(e->m);
	return NULL;
}

static void *joiner2(void *arg)
{
	return (void *)(intptr_t)uthread_join(*(uthread_t *)arg, NULL);
}

struct errs_box {
	struct errs e;
	uthread_t victim;
};

static void *errs_main(void *arg)
{
	struct errs_box *box = arg;
	struct errs *e = &box->e;
	uthread_cond_t *c;
	uthread_sem_t *s;
	uthread_t t, j;
	void *lo;

	e->join_self = uthread_join(uthread_self(), NULL);
	uthread_create(&t, 0, sleeper_forever_ish, NULL);
	uthread_detach(t);
	e->join_detached = uthread_join(t, NULL);
	e->detach_twice = uthread_detach(t);
	e->join_unknown = uthread_join((uthread_t)0xdead00000042ull, NULL);
	e->join_zero = uthread_join(UTHREAD_INVALID, NULL);
	e->stack_small = uthread_create(&t, UTHREAD_STACK_MIN - 1,
					sleeper_forever_ish, NULL);
	e->stack_huge = uthread_create(&t, (size_t)UTHREAD_STACK_MAX + 1,
				       sleeper_forever_ish, NULL);
	e->create_null = uthread_create(&t, 0, NULL, NULL);
	e->create_nullp = uthread_create(NULL, 0, sleeper_forever_ish, NULL);
	e->setname_unknown = uthread_setname(0x77ull << 32 | 5, "x");
	e->getstack_null = uthread_getstack(uthread_self(), &lo, NULL);

	uthread_mutex_init(&e->m);
	e->unlock_unheld = uthread_mutex_unlock(e->m);
	uthread_mutex_lock(e->m);
	e->relock = uthread_mutex_lock(e->m);
	e->trylock = uthread_mutex_trylock(e->m);
	e->destroy_locked = uthread_mutex_destroy(e->m);
	uthread_create(&t, 0, try_unlock, e);
	uthread_join(t, NULL);
	uthread_mutex_unlock(e->m);

	uthread_cond_init(&c);
	e->cond_unheld = uthread_cond_wait(c, e->m);
	uthread_cond_destroy(c);

	uthread_sem_init(&s, 0);
	e->sem_try = uthread_sem_trywait(s);
	e->sem_post_ok = uthread_sem_post(s);
	uthread_sem_trywait(s);
	uthread_sem_destroy(s);

	/* A thread that is being joined cannot be joined by a second one */
	uthread_create(&box->victim, 0, sleeper_forever_ish, NULL);
	uthread_create(&j, 0, joiner2, &box->victim);
	uthread_yield();
	e->join_twice = uthread_join(box->victim, NULL);
	uthread_join(j, NULL);
	return NULL;
}

TEST(error_codes)
{
	struct errs_box box;
	struct errs *e = &box.e;
	uthread_mutex_t *m;
	char buf[4];

	memset(&box, 0xff, sizeof(box));
	ASSERT_EQ(0, uthread_run(errs_main, &box, NULL));
	ASSERT_EQ(EDEADLK, e->join_self);
	ASSERT_EQ(EINVAL, e->join_detached);
	ASSERT_EQ(EINVAL, e->detach_twice);
	ASSERT_EQ(ESRCH, e->join_unknown);
	ASSERT_EQ(ESRCH, e->join_zero);
	ASSERT_EQ(EINVAL, e->stack_small);
	ASSERT_EQ(EINVAL, e->stack_huge);
	ASSERT_EQ(EINVAL, e->create_null);
	ASSERT_EQ(EINVAL, e->create_nullp);
	ASSERT_EQ(ESRCH, e->setname_unknown);
	ASSERT_EQ(EINVAL, e->getstack_null);
	ASSERT_EQ(EPERM, e->unlock_unheld);
	ASSERT_EQ(EDEADLK, e->relock);
	ASSERT_EQ(EBUSY, e->trylock);
	ASSERT_EQ(EBUSY, e->destroy_locked);
	ASSERT_EQ(EPERM, e->unlock_other);
	ASSERT_EQ(EPERM, e->cond_unheld);
	ASSERT_EQ(EAGAIN, e->sem_try);
	ASSERT_EQ(0, e->sem_post_ok);
	ASSERT_EQ(EINVAL, e->join_twice);
	ASSERT_EQ(0, uthread_mutex_destroy(e->m));

	/* Outside a run */
	ASSERT_EQ(EINVAL, uthread_run(NULL, NULL, NULL));
	ASSERT_EQ(EPERM, uthread_yield());
	ASSERT_EQ(EPERM, uthread_sleep(1));
	ASSERT_EQ(EPERM, uthread_join(1, NULL));
	ASSERT_EQ(EPERM, uthread_dump(stderr));
	ASSERT_EQ(UTHREAD_INVALID, uthread_self());
	ASSERT_EQ(EINVAL, uthread_mutex_init(NULL));
	ASSERT_EQ(EINVAL, uthread_mutex_lock(NULL));
	ASSERT_EQ(EINVAL, uthread_cond_signal(NULL));
	ASSERT_EQ(EINVAL, uthread_sem_post(NULL));
	ASSERT_EQ(0, uthread_mutex_init(&m));
	ASSERT_EQ(EPERM, uthread_mutex_lock(m));
	ASSERT_EQ(EPERM, uthread_mutex_unlock(m));
	ASSERT_EQ(0, uthread_mutex_destroy(m));
	ASSERT_EQ(-1, uthread_read(0, buf, sizeof(buf)));
	ASSERT_EQ(EPERM, errno);
}

static void *nested_run(void *arg)
{
	*(int *)arg = uthread_run(nested_run, NULL, NULL);
	return NULL;
}

static void *stale_main(void *arg)
{
	uthread_t *t = arg;

	*t = uthread_self();
	return NULL;
}

static void *join_stale(void *arg)
{
	return (void *)(intptr_t)uthread_join(*(uthread_t *)arg, NULL);
}

TEST(nested_run_and_stale_handle)
{
	uthread_t old = 0;
	void *ret = NULL;
	int err = -1;

	ASSERT_EQ(0, uthread_run(nested_run, &err, NULL));
	ASSERT_EQ(EBUSY, err);
	/* A handle from an earlier run never names a thread of a later one */
	ASSERT_EQ(0, uthread_run(stale_main, &old, NULL));
	ASSERT_NE(UTHREAD_INVALID, old);
	ASSERT_EQ(0, uthread_run(join_stale, &old, &ret));
	ASSERT_EQ((void *)(intptr_t)ESRCH, ret);
}

/* ---------------------------------------------------------------- mutex */

#define FAIR_N	5
#define FAIR_K	4

static uthread_mutex_t *fmu;
static int inside, violations;
static long counter;

static void *fair_worker(void *arg)
{
	int i;

	for (i = 0; i < FAIR_K; i++) {
		uthread_mutex_lock(fmu);
		mark(*(char *)arg);
		/* Everyone else queues up while we hold it */
		uthread_yield();
		uthread_mutex_unlock(fmu);
	}
	return NULL;
}

/*
 * Fairness means FIFO hand-off: the unlocker re-queues behind the threads
 * already waiting, so acquisitions go strictly round-robin.
 */
TEST(mutex_fifo_handoff)
{
	void *args[FAIR_N], *rets[FAIR_N];
	struct spawn_join sj = { FAIR_N, fair_worker, args, rets, 0 };
	int i;

	for (i = 0; i < FAIR_N; i++)
		args[i] = &"01234"[i];
	ASSERT_EQ(0, uthread_mutex_init(&fmu));
	ASSERT_EQ(0, uthread_run(spawn_join_main, &sj, NULL));
	ASSERT_EQ(0, sj.err);
	trace[ntrace] = '\0';
	ASSERT_STREQ("01234012340123401234", trace);
	ASSERT_EQ(0, uthread_mutex_destroy(fmu));
}

struct excl {
	int nthreads, iters, err;
};

static void *excl_worker(void *arg)
{
	struct excl *x = arg;
	long v;
	int i;

	for (i = 0; i < x->iters; i++) {
		uthread_mutex_lock(fmu);
		if (inside++)
			violations++;
		v = counter;
		uthread_yield();
		counter = v + 1;
		inside--;
		uthread_mutex_unlock(fmu);
		if (i % 3 == 0)
			uthread_yield();
	}
	return NULL;
}

static void *excl_main(void *arg)
{
	struct excl *x = arg;
	uthread_t *t = calloc(x->nthreads, sizeof(*t));
	int i;

	if (!t) {
		x->err = ENOMEM;
		return NULL;
	}
	for (i = 0; i < x->nthreads && !x->err; i++)
		x->err = uthread_create(&t[i], 0, excl_worker, x);
	for (i = 0; i < x->nthreads && !x->err; i++)
		x->err = uthread_join(t[i], NULL);
	free(t);
	return NULL;
}

TEST(mutex_exclusion_many)
{
	struct excl x = { scaled(1000), 50, 0 };

	ASSERT_EQ(0, uthread_mutex_init(&fmu));
	ASSERT_EQ(0, uthread_run(excl_main, &x, NULL));
	ASSERT_EQ(0, x.err);
	ASSERT_EQ(0, violations);
	ASSERT_EQ((long)x.nthreads * x.iters, counter);
	ASSERT_EQ(0, uthread_mutex_destroy(fmu));
}

/* ---------------------------------------------------------------- cond */

static uthread_cond_t *cv;
static int ready;

static void *cond_waiter(void *arg)
{
	uthread_mutex_lock(fmu);
	while (!ready)
		uthread_cond_wait(cv, fmu);
	ready--;
	mark(*(char *)arg);
	uthread_mutex_unlock(fmu);
	return NULL;
}

static void *cond_bwaiter(void *arg)
{
	uthread_mutex_lock(fmu);
	while (!ready)
		uthread_cond_wait(cv, fmu);
	mark(*(char *)arg);
	uthread_mutex_unlock(fmu);
	return NULL;
}

static void *cond_main(void *arg)
{
	int broadcast = *(int *)arg;
	uthread_t t[4];
	int i;

	for (i = 0; i < 4; i++)
		uthread_create(&t[i], 0, broadcast ? cond_bwaiter : cond_waiter,
			       &"abcd"[i]);
	/* Let all four queue on the condvar */
	uthread_yield();
	mark('|');
	if (broadcast) {
		uthread_mutex_lock(fmu);
		ready = 1;
		uthread_cond_broadcast(cv);
		uthread_mutex_unlock(fmu);
	} else {
		for (i = 0; i < 4; i++) {
			uthread_mutex_lock(fmu);
			ready++;
			uthread_cond_signal(cv);
			uthread_mutex_unlock(fmu);
			/* one waiter runs per signal */
			uthread_yield();
			mark('.');
		}
	}
	for (i = 0; i < 4; i++)
		uthread_join(t[i], NULL);
	return NULL;
}

TEST(cond_signal_fifo)
{
	int broadcast = 0;

	ASSERT_EQ(0, uthread_mutex_init(&fmu));
	ASSERT_EQ(0, uthread_cond_init(&cv));
	ASSERT_EQ(0, uthread_run(cond_main, &broadcast, NULL));
	trace[ntrace] = '\0';
	ASSERT_STREQ("|a.b.c.d.", trace);
	ASSERT_EQ(0, uthread_cond_destroy(cv));
	ASSERT_EQ(0, uthread_mutex_destroy(fmu));
}

TEST(cond_broadcast_all)
{
	int broadcast = 1;

	ASSERT_EQ(0, uthread_mutex_init(&fmu));
	ASSERT_EQ(0, uthread_cond_init(&cv));
	ASSERT_EQ(0, uthread_run(cond_main, &broadcast, NULL));
	trace[ntrace] = '\0';
	ASSERT_STREQ("|abcd", trace);
	ASSERT_EQ(0, uthread_cond_destroy(cv));
	ASSERT_EQ(0, uthread_mutex_destroy(fmu));
}

/* Bounded buffer: 3 producers, 2 consumers, exact sum at the end. */
#define BB_SIZE	4
#define BB_ITEMS 500

static uthread_cond_t *not_full, *not_empty;
static int bb[BB_SIZE], bb_head, bb_count;
static long consumed_sum, consumed_n;

static void *producer(void *arg)
{
	int base = (int)(intptr_t)arg, i;

	for (i = 1; i <= BB_ITEMS; i++) {
		uthread_mutex_lock(fmu);
		while (bb_count == BB_SIZE)
			uthread_cond_wait(not_full, fmu);
		bb[(bb_head + bb_count++) % BB_SIZE] = base + i;
		uthread_cond_signal(not_empty);
		uthread_mutex_unlock(fmu);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	int v;

	(void)arg;
	for (;;) {
		uthread_mutex_lock(fmu);
		while (!bb_count)
			uthread_cond_wait(not_empty, fmu);
		v = bb[bb_head];
		bb_head = (bb_head + 1) % BB_SIZE;
		bb_count--;
		uthread_cond_signal(not_full);
		uthread_mutex_unlock(fmu);
		if (v < 0)
			return NULL;
		consumed_sum += v;
		consumed_n++;
	}
}

static void *bb_main(void *arg)
{
	uthread_t p[3], c[2];
	int i;

	(void)arg;
	for (i = 0; i < 2; i++)
		uthread_create(&c[i], 0, consumer, NULL);
	for (i = 0; i < 3; i++)
		uthread_create(&p[i], 0, producer, (void *)(intptr_t)(i * 1000));
	for (i = 0; i < 3; i++)
		uthread_join(p[i], NULL);
	/* one poison pill per consumer */
	for (i = 0; i < 2; i++) {
		uthread_mutex_lock(fmu);
		while (bb_count == BB_SIZE)
			uthread_cond_wait(not_full, fmu);
		bb[(bb_head + bb_count++) % BB_SIZE] = -1;
		uthread_cond_signal(not_empty);
		uthread_mutex_unlock(fmu);
	}
	for (i = 0; i < 2; i++)
		uthread_join(c[i], NULL);
	return NULL;
}

TEST(cond_bounded_buffer)
{
	long expect = 0;
	int p, i;

	for (p = 0; p < 3; p++)
		for (i = 1; i <= BB_ITEMS; i++)
			expect += p * 1000 + i;
	ASSERT_EQ(0, uthread_mutex_init(&fmu));
	ASSERT_EQ(0, uthread_cond_init(&not_full));
	ASSERT_EQ(0, uthread_cond_init(&not_empty));
	ASSERT_EQ(0, uthread_run(bb_main, NULL, NULL));
	ASSERT_EQ(3 * BB_ITEMS, consumed_n);
	ASSERT_EQ(expect, consumed_sum);
	ASSERT_EQ(0, bb_count);
	ASSERT_EQ(0, uthread_cond_destroy(not_full));
	ASSERT_EQ(0, uthread_cond_destroy(not_empty));
	ASSERT_EQ(0, uthread_mutex_destroy(fmu));
}

/* ---------------------------------------------------------------- sem */

static uthread_sem_t *sem;

static void *sem_waiter(void *arg)
{
	uthread_sem_wait(sem);
	mark(*(char *)arg);
	return NULL;
}

static void *sem_main(void *arg)
{
	unsigned int *v = arg;
	uthread_t t[3];
	int i;

	for (i = 0; i < 3; i++)
		uthread_create(&t[i], 0, sem_waiter, &"xyz"[i]);
	uthread_yield();
	mark('|');
	for (i = 0; i < 3; i++)
		uthread_sem_post(sem);
	/* hand-off: the count stays 0, the units went to the waiters */
	uthread_sem_getvalue(sem, &v[0]);
	uthread_sem_post(sem);
	uthread_sem_getvalue(sem, &v[1]);
	for (i = 0; i < 3; i++)
		uthread_join(t[i], NULL);
	return NULL;
}

TEST(semaphore_fifo)
{
	unsigned int v[2] = { 99, 99 };

	ASSERT_EQ(0, uthread_sem_init(&sem, 0));
	ASSERT_EQ(0, uthread_run(sem_main, v, NULL));
	trace[ntrace] = '\0';
	ASSERT_STREQ("|xyz", trace);
	ASSERT_EQ(0u, v[0]);
	ASSERT_EQ(1u, v[1]);
	ASSERT_EQ(0, uthread_sem_destroy(sem));
}

/* ---------------------------------------------------------------- sleep */

/*
 * Steps of 25 ms: the four sleeps start a few context switches apart, and
 * the order would only flip if the process stalled for a whole step in
 * between (plausible for 5 ms on a loaded host running an emulated VM).
 */
static void *sleeper(void *arg)
{
	int ms = *(char *)arg - '0';

	uthread_sleep((uint64_t)ms * 25 * MS);
	mark(*(char *)arg);
	return NULL;
}

TEST(sleep_order)
{
	void *args[4] = { "4", "1", "3", "2" };
	void *rets[4];
	struct spawn_join sj = { 4, sleeper, args, rets, 0 };
	uint64_t t0 = now_ns();

	ASSERT_EQ(0, uthread_run(spawn_join_main, &sj, NULL));
	trace[ntrace] = '\0';
	ASSERT_STREQ("1234", trace);
	/* the longest sleep is 100 ms */
	ASSERT_GE(now_ns() - t0, 100 * MS);
}

static int spin_done;

static void *spin_yielder(void *arg)
{
	(void)arg;
	while (!spin_done)
		uthread_yield();
	mark('Y');
	return NULL;
}

static void *short_sleeper(void *arg)
{
	(void)arg;
	uthread_sleep(2 * MS);
	mark('S');
	spin_done = 1;
	return NULL;
}

static void *spin_main(void *arg)
{
	uthread_t a, b;

	(void)arg;
	uthread_create(&a, 0, spin_yielder, NULL);
	uthread_create(&b, 0, short_sleeper, NULL);
	uthread_join(a, NULL);
	uthread_join(b, NULL);
	return NULL;
}

/* A thread that only yields must not starve a sleeper forever. */
TEST(yield_loop_wakes_sleeper)
{
	ASSERT_EQ(0, uthread_run(spin_main, NULL, NULL));
	trace[ntrace] = '\0';
	ASSERT_STREQ("SY", trace);
}

/* ---------------------------------------------------------------- fp env */

static int fp_ok[2];

static void *fp_changer(void *arg)
{
	(void)arg;
	fesetround(FE_UPWARD);
	uthread_yield();
	fp_ok[0] = fegetround() == FE_UPWARD;
	return NULL;
}

static void *fp_checker(void *arg)
{
	(void)arg;
	fp_ok[1] = fegetround() == FE_TONEAREST;
	return NULL;
}

static void *fp_main(void *arg)
{
	uthread_t a, b;

	(void)arg;
	uthread_create(&a, 0, fp_changer, NULL);
	uthread_create(&b, 0, fp_checker, NULL);
	uthread_join(a, NULL);
	uthread_join(b, NULL);
	return NULL;
}

/* MXCSR and the x87 control word travel with the thread. */
TEST(fp_env_per_thread)
{
	ASSERT_EQ(0, uthread_run(fp_main, NULL, NULL));
	ASSERT_EQ(1, fp_ok[0]);
	ASSERT_EQ(1, fp_ok[1]);
	ASSERT_EQ(FE_TONEAREST, fegetround());
}

/* ---------------------------------------------------------------- echo */

struct echo {
	int fd;
	int rounds;
	long bytes;
	int bad;
};

static int write_all(int fd, const char *p, size_t n)
{
	ssize_t r;

	while (n) {
		r = uthread_send(fd, p, n, MSG_NOSIGNAL);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int read_all(int fd, char *p, size_t n)
{
	ssize_t r;

	while (n) {
		r = uthread_recv(fd, p, n, 0);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void *echo_server(void *arg)
{
	struct echo *e = arg;
	char buf[8192];
	ssize_t r;

	while ((r = uthread_read(e->fd, buf, sizeof(buf))) > 0) {
		if (write_all(e->fd, buf, (size_t)r))
			break;
		e->bytes += r;
	}
	close(e->fd);
	return NULL;
}

/* Message sizes up to 200 KiB overflow the socket buffers: writes park. */
static size_t msg_len(int round)
{
	return round % 4 == 3 ? 200000 : 1 + (size_t)round * 37;
}

static void *echo_client(void *arg)
{
	struct echo *e = arg;
	size_t n, max = 200000, off;
	char *out = malloc(max), *in = malloc(max);
	int i;

	if (!out || !in) {
		e->bad++;
		goto out_free;
	}
	for (i = 0; i < e->rounds; i++) {
		n = msg_len(i);
		memset(out, 'a' + (i + e->fd) % 26, n);
		/* Send and receive concurrently: the peer echoes as it reads */
		for (off = 0; off < n; off += 16384) {
			size_t chunk = n - off < 16384 ? n - off : 16384;

			if (write_all(e->fd, out + off, chunk) ||
			    read_all(e->fd, in + off, chunk)) {
				e->bad++;
				goto out_free;
			}
		}
		if (memcmp(in, out, n))
			e->bad++;
		e->bytes += (long)n;
	}
	shutdown(e->fd, SHUT_WR);
	/* The server closes after our EOF */
	if (uthread_read(e->fd, in, 1) != 0)
		e->bad++;
out_free:
	close(e->fd);
	free(out);
	free(in);
	return NULL;
}

struct echo_run {
	int nclients;
	int rounds;
	struct echo *srv, *cli;
	int err;
};

static void *echo_pair_main(void *arg)
{
	struct echo_run *er = arg;
	uthread_t *t = calloc((size_t)er->nclients * 2, sizeof(*t));
	int i, sv[2];

	if (!t) {
		er->err = ENOMEM;
		return NULL;
	}
	for (i = 0; i < er->nclients; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
			er->err = errno;
			break;
		}
		er->srv[i].fd = sv[0];
		er->cli[i].fd = sv[1];
		er->cli[i].rounds = er->rounds;
		uthread_create(&t[2 * i], 0, echo_server, &er->srv[i]);
		uthread_create(&t[2 * i + 1], 0, echo_client, &er->cli[i]);
	}
	for (i = 0; i < 2 * er->nclients; i++)
		if (t[i])
			uthread_join(t[i], NULL);
	free(t);
	return NULL;
}

static long echo_expected(int rounds)
{
	long sum = 0;
	int i;

	for (i = 0; i < rounds; i++)
		sum += (long)msg_len(i);
	return sum;
}

TEST(echo_socketpair)
{
	struct echo_run er = { scaled(64), 8, NULL, NULL, 0 };
	int i;

	er.srv = calloc(er.nclients, sizeof(*er.srv));
	er.cli = calloc(er.nclients, sizeof(*er.cli));
	ASSERT_NE(NULL, er.srv);
	ASSERT_NE(NULL, er.cli);
	ASSERT_EQ(0, uthread_run(echo_pair_main, &er, NULL));
	ASSERT_EQ(0, er.err);
	for (i = 0; i < er.nclients; i++) {
		ASSERT_EQ(0, er.cli[i].bad);
		ASSERT_EQ(echo_expected(er.rounds), er.cli[i].bytes);
		ASSERT_EQ(echo_expected(er.rounds), er.srv[i].bytes);
	}
	free(er.srv);
	free(er.cli);
}

struct tcp_run {
	struct echo_run er;
	struct sockaddr_in addr;
	int lfd;
	int accepted;
};

static void *tcp_acceptor(void *arg)
{
	struct tcp_run *tr = arg;
	uthread_t t;
	int fd;

	while (tr->accepted < tr->er.nclients) {
		fd = uthread_accept(tr->lfd, NULL, NULL);
		if (fd < 0) {
			tr->er.err = errno;
			break;
		}
		tr->er.srv[tr->accepted].fd = fd;
		uthread_create(&t, 0, echo_server, &tr->er.srv[tr->accepted]);
		uthread_detach(t);
		tr->accepted++;
	}
	close(tr->lfd);
	return NULL;
}

static void *tcp_client(void *arg)
{
	struct tcp_run *tr = *(struct tcp_run **)arg;
	struct echo *e = (struct echo *)((struct tcp_run **)arg + 1);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || uthread_connect(fd, (struct sockaddr *)&tr->addr,
				      sizeof(tr->addr))) {
		e->bad++;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	e->fd = fd;
	return echo_client(e);
}

struct tcp_cli {
	struct tcp_run *tr;
	struct echo e;
};

static void *tcp_main(void *arg)
{
	struct tcp_run *tr = arg;
	struct tcp_cli *c = calloc(tr->er.nclients, sizeof(*c));
	uthread_t a, *t = calloc(tr->er.nclients, sizeof(*t));
	int i;

	if (!c || !t) {
		tr->er.err = ENOMEM;
		goto out_free;
	}
	uthread_create(&a, 0, tcp_acceptor, tr);
	for (i = 0; i < tr->er.nclients; i++) {
		c[i].tr = tr;
		c[i].e.rounds = tr->er.rounds;
		uthread_create(&t[i], 0, tcp_client, &c[i]);
	}
	for (i = 0; i < tr->er.nclients; i++) {
		uthread_join(t[i], NULL);
		tr->er.cli[i] = c[i].e;
	}
	uthread_join(a, NULL);
out_free:
	free(c);
	free(t);
	return NULL;
}

TEST(echo_tcp_loopback)
{
	struct tcp_run tr = { .er = { scaled(32), 8, NULL, NULL, 0 } };
	socklen_t len = sizeof(tr.addr);
	long total = 0;
	int i;

	tr.er.srv = calloc(tr.er.nclients, sizeof(struct echo));
	tr.er.cli = calloc(tr.er.nclients, sizeof(struct echo));
	ASSERT_NE(NULL, tr.er.srv);
	ASSERT_NE(NULL, tr.er.cli);
	tr.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, tr.lfd);
	tr.addr.sin_family = AF_INET;
	tr.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	tr.addr.sin_port = 0;
	ASSERT_EQ(0, bind(tr.lfd, (struct sockaddr *)&tr.addr, len));
	ASSERT_EQ(0, getsockname(tr.lfd, (struct sockaddr *)&tr.addr, &len));
	ASSERT_EQ(0, listen(tr.lfd, 128));
	ASSERT_EQ(0, uthread_run(tcp_main, &tr, NULL));
	ASSERT_EQ(0, tr.er.err);
	ASSERT_EQ(tr.er.nclients, tr.accepted);
	for (i = 0; i < tr.er.nclients; i++) {
		ASSERT_EQ(0, tr.er.cli[i].bad);
		ASSERT_EQ(echo_expected(tr.er.rounds), tr.er.cli[i].bytes);
		total += tr.er.srv[i].bytes;
	}
	/* servers are matched to clients by accept order: check the sum */
	ASSERT_EQ(echo_expected(tr.er.rounds) * tr.er.nclients, total);
	free(tr.er.srv);
	free(tr.er.cli);
}

/* ------------------------------------------------ regular files block all */

struct regfile {
	int fd;		/* regular file, or one end of a socketpair */
	int peer;	/* the other end, or -1 */
	uint64_t busy_until;
	uint64_t io_done, woke;
};

static void *reg_sleeper(void *arg)
{
	struct regfile *rf = arg;

	uthread_sleep(2 * MS);
	rf->woke = now_ns();
	mark('S');
	if (rf->peer >= 0)
		uthread_write(rf->peer, "x", 1);
	return NULL;
}

static void *reg_io(void *arg)
{
	struct regfile *rf = arg;
	static char buf[65536];
	int err = 0;

	if (rf->peer >= 0) {
		/* Socket: the read parks us and the sleeper runs meanwhile */
		if (uthread_read(rf->fd, buf, 1) != 1)
			err = 1;
	} else {
		/*
		 * Regular file: each write (and fdatasync) waits in the
		 * kernel without ever parking, for well past the sleeper's
		 * deadline.  Nobody else can run until we are done.
		 */
		while (!err && now_ns() < rf->busy_until) {
			if (uthread_write(rf->fd, buf, sizeof(buf)) !=
			    (ssize_t)sizeof(buf) || fdatasync(rf->fd))
				err = 1;
		}
	}
	rf->io_done = now_ns();
	mark(err ? '!' : 'F');
	return NULL;
}

static void *reg_main(void *arg)
{
	struct regfile *rf = arg;
	uthread_t s, f;

	uthread_create(&s, 0, reg_sleeper, rf);
	uthread_create(&f, 0, reg_io, rf);
	rf->busy_until = now_ns() + 30 * MS;
	uthread_join(s, NULL);
	uthread_join(f, NULL);
	return NULL;
}

/*
 * An unlinked scratch file in the working directory, or in /tmp where
 * that is read-only (scripts/vm-run shares the host root read-only).
 */
static int scratch_file(void)
{
	static const char *const dirs[] = { ".", "/tmp" };
	char path[64];
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/uthread-regfile-XXXXXX",
			 dirs[i]);
		fd = mkstemp(path);
		if (fd >= 0) {
			unlink(path);
			return fd;
		}
	}
	return -1;
}

TEST(regular_file_io_blocks_everyone)
{
	struct regfile rf = { .peer = -1 };

	rf.fd = scratch_file();
	ASSERT_LE(0, rf.fd);
	ASSERT_EQ(0, uthread_run(reg_main, &rf, NULL));
	close(rf.fd);
	trace[ntrace] = '\0';
	/* The sleeper's 2 ms deadline passed long before, yet it ran last */
	ASSERT_STREQ("FS", trace);
	ASSERT_GE(rf.woke, rf.io_done);
}

TEST(socket_io_parks_only_the_caller)
{
	struct regfile rf;
	int sv[2];

	memset(&rf, 0, sizeof(rf));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	rf.fd = sv[0];
	rf.peer = sv[1];
	ASSERT_EQ(0, uthread_run(reg_main, &rf, NULL));
	close(sv[0]);
	close(sv[1]);
	trace[ntrace] = '\0';
	ASSERT_STREQ("SF", trace);
	ASSERT_LE(rf.woke, rf.io_done);
}

/*
 * A reader parked before its writer wrote, on the descriptors @fds[0]
 * (read) and @fds[1] (write): the bytes arrive and the reader gets them.
 */
struct parked_io {
	int fds[2];
	char got[8];
	ssize_t n;
	int err;
};

static void *parked_reader(void *arg)
{
	struct parked_io *p = arg;

	p->n = uthread_read(p->fds[0], p->got, sizeof(p->got));
	if (p->n < 0)
		p->err = errno;
	return NULL;
}

static void *parked_io_main(void *arg)
{
	struct parked_io *p = arg;
	uthread_t t;

	p->n = -1;
	if (uthread_create(&t, 0, parked_reader, p))
		return NULL;
	/* the reader runs first and finds nothing to read: it parks */
	uthread_yield();
	if (uthread_write(p->fds[1], "parked", 6) != 6)
		p->err = errno;
	uthread_join(t, NULL);
	return NULL;
}

static int parked_io(int rd, int wr)
{
	struct parked_io p = { .fds = { rd, wr } };

	if (uthread_run(parked_io_main, &p, NULL) || p.err || p.n != 6 ||
	    memcmp(p.got, "parked", 6))
		return -1;
	return 0;
}

static bool nonblocking(int fd)
{
	return fcntl(fd, F_GETFL) & O_NONBLOCK;
}

TEST(socket_io_leaves_the_flags_alone)
{
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_EQ(0, parked_io(sv[0], sv[1]));
	EXPECT_FALSE(nonblocking(sv[0]));
	EXPECT_FALSE(nonblocking(sv[1]));
	close(sv[0]);
	close(sv[1]);
}

TEST(pipe_io_makes_the_pipe_nonblocking)
{
	int p[2];

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, parked_io(p[0], p[1]));
	EXPECT_TRUE(nonblocking(p[0]));
	EXPECT_TRUE(nonblocking(p[1]));
	close(p[0]);
	close(p[1]);
}

/*
 * The same two numbers sockets, a pipe, sockets, a pipe (closed and reused
 * as a program may): whatever the library guessed from the last use, each
 * works, and a pipe taken for a socket never blocks the whole run.
 */
TEST(numbers_reused_between_sockets_and_pipes)
{
	int fd[2], nfd[2], i, rc;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, fd));
	for (i = 0; i < 4; i++) {
		if (i) {
			rc = i % 2 ? pipe(nfd) :
				     socketpair(AF_UNIX, SOCK_STREAM, 0, nfd);
			ASSERT_EQ(0, rc);
			ASSERT_EQ(fd[0], dup2(nfd[0], fd[0]));
			ASSERT_EQ(fd[1], dup2(nfd[1], fd[1]));
			close(nfd[0]);
			close(nfd[1]);
		}
		EXPECT_EQ(0, parked_io(fd[0], fd[1])) {
			TH_LOG("use %d (%s)", i, i % 2 ? "a pipe" : "sockets");
		}
	}
	close(fd[0]);
	close(fd[1]);
}

/* ------------------------------------------------- one socket, many waits */

/*
 * The library is linked in statically, so its calls to epoll_ctl(), recv()
 * and send() resolve to the definitions below, not to libc's.  They count
 * what the library asks of epoll and how often a call found nothing to
 * do, and they let a test change the socket at the one moment no thread
 * can run: after a call returned EAGAIN, before its thread parks.
 */
static long n_epoll_ctl, n_eagain;
static int inject_fd = -1;
static void (*inject)(void);	/* run once at @inject_fd's next EAGAIN */

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	n_epoll_ctl++;
	return (int)syscall(SYS_epoll_ctl, epfd, op, fd, ev);
}

static void after_call(int fd, ssize_t r)
{
	void (*fn)(void) = inject;

	if (r >= 0 || errno != EAGAIN)
		return;
	n_eagain++;
	if (fd == inject_fd && fn) {
		inject = NULL;
		fn();
		errno = EAGAIN;
	}
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t r = syscall(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);

	after_call(fd, r);
	return r;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t r = syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);

	after_call(fd, r);
	return r;
}

/* A socketpair whose first end has a small send buffer: writes park soon */
static int small_socketpair(int sv[2])
{
	int size = 4096;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	return setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* Send until the buffer is full; bytes sent, or -1 */
static long fill(int fd)
{
	static const char junk[1024];
	long sent = 0;
	ssize_t r;

	while ((r = send(fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		sent += r;
	return errno == EAGAIN ? sent : -1;
}

/* Read what is there without waiting; bytes read, or -1 */
static long drain(int fd)
{
	char buf[4096];
	long got = 0;
	ssize_t r;

	while ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		got += r;
	return errno == EAGAIN ? got : -1;
}

/*
 * Ping-pong of small messages between two threads over a socketpair: each
 * side parks for every message.  Parking must not cost an epoll_ctl() per
 * wait: a socket is watched once, edge-triggered, for as long as it lives.
 */
#define PING_N		1000
#define PING_LEN	16

struct ping {
	int fd;
	int n;
	int bad;
};

static void *pinger(void *arg)
{
	struct ping *p = arg;
	char out[PING_LEN], in[PING_LEN];
	int i;

	for (i = 0; i < p->n; i++) {
		memset(out, 'a' + i % 26, sizeof(out));
		if (write_all(p->fd, out, sizeof(out)) ||
		    read_all(p->fd, in, sizeof(in)) ||
		    memcmp(in, out, sizeof(in)))
			p->bad++;
	}
	shutdown(p->fd, SHUT_WR);
	return NULL;
}

static void *ponger(void *arg)
{
	struct ping *p = arg;
	char buf[PING_LEN];

	while (!read_all(p->fd, buf, sizeof(buf))) {
		if (write_all(p->fd, buf, sizeof(buf)))
			p->bad++;
		p->n++;
	}
	return NULL;
}

static void *ping_main(void *arg)
{
	struct ping *p = arg;
	uthread_t a, b;

	if (uthread_create(&a, 0, pinger, &p[0]) ||
	    uthread_create(&b, 0, ponger, &p[1]))
		return NULL;
	uthread_join(a, NULL);
	uthread_join(b, NULL);
	return NULL;
}

TEST(echo_parks_without_epoll_ctl)
{
	struct ping p[2] = { { .n = scaled(PING_N) }, { .n = 0 } };
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	p[0].fd = sv[0];
	p[1].fd = sv[1];
	n_epoll_ctl = 0;
	n_eagain = 0;
	ASSERT_EQ(0, uthread_run(ping_main, p, NULL));
	close(sv[0]);
	close(sv[1]);
	TH_LOG("%d messages: %ld EAGAIN, %ld epoll_ctl", p[0].n, n_eagain,
	       n_epoll_ctl);
	ASSERT_EQ(0, p[0].bad);
	ASSERT_EQ(0, p[1].bad);
	ASSERT_EQ(p[0].n, p[1].n);
	/* every message parked the pinger, and the ponger too */
	ASSERT_GE(n_eagain, 2l * p[0].n);
	/* one registration per socket */
	ASSERT_LE(n_epoll_ctl, 2);
}

/*
 * Readiness that arrives between a call's EAGAIN and the park: a read
 * whose data, or a write whose room, appears just then (the test's recv()
 * and send() make it so) must not wait for a second edge that never
 * comes.  The first round parks plainly, so that in the second the socket
 * is already watched.  If the edge were lost, the rescuer ends the wait
 * after about 2 s, and the test fails.
 */
struct edge {
	int sv[2];
	bool write;
	int round;
	ssize_t r[2];
	bool done, rescued;
};

static struct edge *cur_edge;

static void edge_arrives(void)
{
	struct edge *e = cur_edge;

	if (e->write) {
		if (drain(e->sv[1]) <= 0)
			e->r[1] = -2;
	} else if (write(e->sv[1], "y", 1) != 1) {
		e->r[1] = -2;
	}
}

static void *edge_waiter(void *arg)
{
	struct edge *e = arg;
	char buf[64] = { 0 };

	for (e->round = 0; e->round < 2; e->round++) {
		if (e->write && fill(e->sv[0]) < 0)
			break;
		if (e->round)
			inject = edge_arrives;
		if (e->write)
			e->r[e->round] = uthread_send(e->sv[0], buf, 1,
						      MSG_NOSIGNAL);
		else
			e->r[e->round] = uthread_read(e->sv[0], buf, 1);
	}
	e->done = true;
	return NULL;
}

static void *edge_main(void *arg)
{
	struct edge *e = arg;
	uthread_t t;
	int i;

	cur_edge = e;
	inject_fd = e->sv[0];
	if (uthread_create(&t, 0, edge_waiter, e))
		return NULL;
	uthread_yield();
	/* the first round's wait ends the ordinary way */
	if (e->write ? drain(e->sv[1]) <= 0 : write(e->sv[1], "x", 1) != 1)
		e->r[1] = -3;
	for (i = 0; i < 200 && !e->done; i++)
		uthread_sleep(10 * MS);
	if (!e->done) {
		e->rescued = true;
		if (e->write)
			drain(e->sv[1]);
		else
			write(e->sv[1], "z", 1);
	}
	uthread_join(t, NULL);
	inject_fd = -1;
	inject = NULL;
	return NULL;
}

static void edge_between_eagain_and_park(struct __test_metadata *_metadata,
					 bool write)
{
	struct edge e = { .write = write };

	ASSERT_EQ(0, small_socketpair(e.sv));
	ASSERT_EQ(0, uthread_run(edge_main, &e, NULL));
	close(e.sv[0]);
	close(e.sv[1]);
	ASSERT_FALSE(e.rescued);
	ASSERT_EQ(NULL, inject);	/* the second round did inject */
	ASSERT_EQ(1, e.r[0]);
	ASSERT_EQ(1, e.r[1]);
}

TEST(read_ready_between_eagain_and_park)
{
	edge_between_eagain_and_park(_metadata, false);
}

TEST(write_ready_between_eagain_and_park)
{
	edge_between_eagain_and_park(_metadata, true);
}

/*
 * One thread reads and another writes the same socket, both parked at the
 * same time, again and again.  Little data: the writer's send buffer is
 * small, and the peer reads 64 KiB in all, feeding the reader a byte per
 * 8 KiB.  The dump taken once both have parked shows both waits.
 */
#define RW_TOTAL	(64 * 1024)
#define RW_STEP		(8 * 1024)

struct rw_one {
	int sv[2];
	char got[RW_TOTAL / RW_STEP + 1];
	int ngot;
	long written, peer_read;
	int bad;
	char *dump;
	size_t dump_len;
};

static void *rw_reader(void *arg)
{
	struct rw_one *rw = arg;

	while (rw->ngot < RW_TOTAL / RW_STEP &&
	       uthread_read(rw->sv[0], rw->got + rw->ngot, 1) == 1)
		rw->ngot++;
	return NULL;
}

static void *rw_writer(void *arg)
{
	struct rw_one *rw = arg;
	char buf[4096];
	long i;

	for (i = 0; i < RW_TOTAL; i += sizeof(buf)) {
		memset(buf, 'A' + (int)(i / sizeof(buf)) % 26, sizeof(buf));
		if (write_all(rw->sv[0], buf, sizeof(buf))) {
			rw->bad++;
			break;
		}
		rw->written += sizeof(buf);
	}
	return NULL;
}

static void *rw_peer(void *arg)
{
	struct rw_one *rw = arg;
	FILE *f = open_memstream(&rw->dump, &rw->dump_len);
	char buf[RW_STEP], c;
	long i;

	/* the reader and the writer ran first: both are parked now */
	if (!f || uthread_dump(f) || fclose(f))
		rw->bad++;
	while (rw->peer_read < RW_TOTAL) {
		if (read_all(rw->sv[1], buf, sizeof(buf))) {
			rw->bad++;
			break;
		}
		for (i = 0; i < RW_STEP; i++)
			if (buf[i] != 'A' + (int)((rw->peer_read + i) / 4096) % 26)
				rw->bad++;
		rw->peer_read += RW_STEP;
		c = 'a' + (int)(rw->peer_read / RW_STEP);
		if (write_all(rw->sv[1], &c, 1))
			rw->bad++;
	}
	return NULL;
}

static void *rw_main(void *arg)
{
	uthread_t t[3];

	uthread_create(&t[0], 0, rw_reader, arg);
	uthread_create(&t[1], 0, rw_writer, arg);
	uthread_create(&t[2], 0, rw_peer, arg);
	uthread_join(t[0], NULL);
	uthread_join(t[1], NULL);
	uthread_join(t[2], NULL);
	return NULL;
}

TEST(socket_reader_and_writer_on_one_fd)
{
	struct rw_one rw = { .ngot = 0 };
	char want[64];
	int i;

	ASSERT_EQ(0, small_socketpair(rw.sv));
	ASSERT_EQ(0, uthread_run(rw_main, &rw, NULL));
	close(rw.sv[0]);
	close(rw.sv[1]);
	ASSERT_NE(NULL, rw.dump);
	TH_LOG("dump:\n%s", rw.dump);
	snprintf(want, sizeof(want), "fd %d readable", rw.sv[0]);
	EXPECT_NE(NULL, strstr(rw.dump, want));
	snprintf(want, sizeof(want), "fd %d writable", rw.sv[0]);
	EXPECT_NE(NULL, strstr(rw.dump, want));
	free(rw.dump);
	ASSERT_EQ(0, rw.bad);
	ASSERT_EQ(RW_TOTAL, rw.written);
	ASSERT_EQ(RW_TOTAL, rw.peer_read);
	ASSERT_EQ(RW_TOTAL / RW_STEP, rw.ngot);
	for (i = 0; i < rw.ngot; i++)
		ASSERT_EQ('a' + i + 1, rw.got[i]);
}

/*
 * The peer hangs up in two steps.  shutdown(SHUT_WR) ends the parked read
 * (EOF) and leaves the parked write waiting; close() ends the write too.
 */
struct hangup {
	int sv[2];
	ssize_t rd, wr;
	int wr_err;
	bool rd_done, wr_done, wr_done_at_eof;
};

static void *hup_reader(void *arg)
{
	struct hangup *h = arg;
	char c;

	h->rd = uthread_read(h->sv[0], &c, 1);
	h->rd_done = true;
	return NULL;
}

static void *hup_writer(void *arg)
{
	struct hangup *h = arg;
	char buf[1024] = { 0 };

	if (fill(h->sv[0]) < 0)
		return NULL;
	h->wr = uthread_send(h->sv[0], buf, sizeof(buf), MSG_NOSIGNAL);
	h->wr_err = errno;
	h->wr_done = true;
	return NULL;
}

static void *hup_main(void *arg)
{
	struct hangup *h = arg;
	uthread_t r, w;

	uthread_create(&r, 0, hup_reader, h);
	uthread_create(&w, 0, hup_writer, h);
	uthread_yield();
	shutdown(h->sv[1], SHUT_WR);
	uthread_join(r, NULL);
	h->wr_done_at_eof = h->wr_done;
	close(h->sv[1]);
	uthread_join(w, NULL);
	return NULL;
}

TEST(peer_hangup_wakes_both_directions)
{
	struct hangup h = { .rd = -2, .wr = -2 };

	ASSERT_EQ(0, small_socketpair(h.sv));
	ASSERT_EQ(0, uthread_run(hup_main, &h, NULL));
	close(h.sv[0]);
	ASSERT_TRUE(h.rd_done);
	ASSERT_EQ(0, h.rd);
	ASSERT_FALSE(h.wr_done_at_eof);
	ASSERT_TRUE(h.wr_done);
	ASSERT_EQ(-1, h.wr);
	ASSERT_TRUE(h.wr_err == EPIPE || h.wr_err == ECONNRESET) {
		TH_LOG("send after the hangup: %s", strerror(h.wr_err));
	}
}

/*
 * uthread_close() ends the waits on the fd at once (EBADF) and forgets
 * it, so that the number, reused for a new socket, works at once.
 */
/* Give the file of @from the number @to (closed); -1 on failure */
static int renumber(int from, int to)
{
	if (from == to)
		return 0;
	if (dup2(from, to) != to)
		return -1;
	return close(from);
}

struct closing {
	int fd, peer;
	ssize_t rd, wr, again;
	int rd_err, wr_err;
	int close_ret, bad_close_err;
};

static void *close_reader(void *arg)
{
	struct closing *c = arg;
	char buf[8];

	c->rd = uthread_read(c->fd, buf, sizeof(buf));
	c->rd_err = errno;
	return NULL;
}

static void *close_writer(void *arg)
{
	struct closing *c = arg;
	char buf[1024] = { 0 };

	if (fill(c->fd) < 0)
		return NULL;
	c->wr = uthread_send(c->fd, buf, sizeof(buf), MSG_NOSIGNAL);
	c->wr_err = errno;
	return NULL;
}

static void *reuse_reader(void *arg)
{
	struct closing *c = arg;
	char buf[8];

	c->again = uthread_read(c->fd, buf, sizeof(buf));
	return NULL;
}

static void *close_main(void *arg)
{
	struct closing *c = arg;
	uthread_t r, w;
	int nv[2];

	uthread_create(&r, 0, close_reader, c);
	uthread_create(&w, 0, close_writer, c);
	uthread_yield();
	c->close_ret = uthread_close(c->fd);
	uthread_join(r, NULL);
	uthread_join(w, NULL);
	if (uthread_close(-1) == -1)
		c->bad_close_err = errno;
	/* the same number, a new socket */
	close(c->peer);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, nv) ||
	    renumber(nv[0], c->fd))
		return NULL;
	c->peer = nv[1];
	uthread_create(&r, 0, reuse_reader, c);
	uthread_yield();
	if (uthread_write(c->peer, "again", 5) != 5)
		c->again = -2;
	uthread_join(r, NULL);
	return NULL;
}

TEST(close_ends_waits_and_frees_the_number)
{
	struct closing c = { .rd = -2, .wr = -2, .again = -3 };
	int sv[2];

	ASSERT_EQ(0, small_socketpair(sv));
	c.fd = sv[0];
	c.peer = sv[1];
	ASSERT_EQ(0, uthread_run(close_main, &c, NULL));
	ASSERT_EQ(0, c.close_ret);
	ASSERT_EQ(-1, c.rd);
	ASSERT_EQ(EBADF, c.rd_err);
	ASSERT_EQ(-1, c.wr);
	ASSERT_EQ(EBADF, c.wr_err);
	ASSERT_EQ(EBADF, c.bad_close_err);
	ASSERT_EQ(5, c.again);
	ASSERT_EQ(0, uthread_close(c.fd));	/* outside a run: close(2) */
	ASSERT_EQ(-1, fcntl(c.fd, F_GETFD));
	ASSERT_EQ(EBADF, errno);
	close(c.peer);
}

/*
 * close(2) instead of uthread_close(), and the number reused: a new
 * socket (the library saw neither the close nor the socket being made),
 * then a pipe.  Each first wait on the reused number must end when its
 * data comes; the socket's may take the library's re-check (up to 2 s).
 */
struct reuse {
	int fd, peer;
	bool pipe;
	ssize_t r[2];
};

static void *reuse_waiter(void *arg)
{
	struct reuse *u = arg;
	char buf[8];

	u->r[0] = uthread_read(u->fd, buf, sizeof(buf));
	return NULL;
}

static void *plain_close_main(void *arg)
{
	struct reuse *u = arg;
	int nv[2], i;
	uthread_t t;

	for (i = 0; i < 2; i++) {
		if (i) {
			/* the watched socket goes behind the library's back */
			close(u->fd);
			close(u->peer);
			if (u->pipe ? pipe2(nv, O_CLOEXEC) :
			    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
				       0, nv))
				return NULL;
			if (renumber(nv[0], u->fd))
				return NULL;
			u->peer = nv[1];
		}
		u->r[0] = -2;
		uthread_create(&t, 0, reuse_waiter, u);
		uthread_yield();
		if (write(u->peer, "reuse", 5) != 5)
			return NULL;
		uthread_join(t, NULL);
		u->r[i] = u->r[0];
	}
	return NULL;
}

static void plain_close_then_reuse(struct __test_metadata *_metadata,
				   bool pipe)
{
	struct reuse u = { .pipe = pipe, .r = { -3, -3 } };
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	u.fd = sv[0];
	u.peer = sv[1];
	ASSERT_EQ(0, uthread_run(plain_close_main, &u, NULL));
	close(u.fd);
	close(u.peer);
	ASSERT_EQ(5, u.r[0]);
	ASSERT_EQ(5, u.r[1]);
}

TEST(plain_close_then_reuse_by_a_socket)
{
	plain_close_then_reuse(_metadata, false);
}

TEST(plain_close_then_reuse_by_a_pipe)
{
	plain_close_then_reuse(_metadata, true);
}

/*
 * close(2) of a socket a thread is parked on: the library's re-check
 * finds the number closed and ends the wait with EBADF (in 1 to 2 s).
 */
static void *plain_close_waited_main(void *arg)
{
	struct closing *c = arg;
	uthread_t r;

	uthread_create(&r, 0, close_reader, c);
	uthread_yield();
	close(c->fd);
	uthread_join(r, NULL);
	return NULL;
}

TEST(plain_close_ends_a_socket_wait)
{
	struct closing c = { .rd = -2 };
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	c.fd = sv[0];
	ASSERT_EQ(0, uthread_run(plain_close_waited_main, &c, NULL));
	close(sv[1]);
	ASSERT_EQ(-1, c.rd);
	ASSERT_EQ(EBADF, c.rd_err);
}

/* ---------------------------------------------------------------- guard */

#define CANARY_LEN	256

static volatile unsigned char *canary;
static char *guard_lo, *guard_hi;
static int result_fd;
static uthread_sem_t *hold, *go;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	char *addr = si->si_addr;
	unsigned char res = 0;
	int i;

	(void)sig;
	(void)uc;
	if (addr >= guard_lo && addr < guard_hi)
		res |= 1;
	res |= 2;
	for (i = 0; i < CANARY_LEN; i++)
		if (canary[i] != 0xa5)
			res &= (unsigned char)~2;
	if (write(result_fd, &res, 1) != 1)
		_exit(3);
	/* SA_RESETHAND: returning re-faults and the default action kills us */
}

static void *neighbour(void *arg)
{
	unsigned char buf[CANARY_LEN];

	(void)arg;
	memset(buf, 0xa5, sizeof(buf));
	canary = buf;
	uthread_sem_post(go);
	uthread_sem_wait(hold);
	return NULL;
}

/* Never reached; keeps the compiler from calling the recursion endless */
static volatile int recurse_limit = 1 << 30;

static int __attribute__((noinline)) recurse(volatile char *prev, int depth)
{
	volatile char frame[1024];

	if (depth > recurse_limit)
		return 0;
	frame[0] = (char)depth;
	frame[sizeof(frame) - 1] = prev ? prev[0] : 0;
	return recurse(frame, depth + 1) + frame[0];
}

static void *overflower(void *arg)
{
	(void)arg;
	uthread_sem_wait(go);
	return (void *)(intptr_t)recurse(NULL, 0);
}

static void *guard_main(void *arg)
{
	uthread_t o, n;
	void *lo;
	size_t size;
	long page = sysconf(_SC_PAGESIZE);

	(void)arg;
	/* Created second, the neighbour's mapping lands just below o's */
	uthread_create(&o, UTHREAD_STACK_MIN, overflower, NULL);
	uthread_create(&n, UTHREAD_STACK_MIN, neighbour, NULL);
	uthread_getstack(o, &lo, &size);
	guard_hi = lo;
	guard_lo = guard_hi - page;
	uthread_join(n, NULL);
	uthread_join(o, NULL);
	return NULL;
}

static void guard_child(int wfd)
{
	static char altstack[65536];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa;

	result_fd = wfd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
	if (sigaltstack(&ss, NULL) || sigaction(SIGSEGV, &sa, NULL) ||
	    uthread_sem_init(&hold, 0) || uthread_sem_init(&go, 0))
		_exit(4);
	uthread_run(guard_main, NULL, NULL);
	_exit(5);
}

TEST(guard_page_catches_overflow)
{
	unsigned char res = 0;
	int p[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[0]);
		guard_child(p[1]);
	}
	close(p[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(1, read(p[0], &res, 1));
	close(p[0]);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGSEGV, WTERMSIG(status));
	/* bit 0: the fault hit the guard page; bit 1: the neighbour is intact */
	ASSERT_EQ(3, res);
}

/* ---------------------------------------------------------------- deadlock */

static uthread_mutex_t *dm[2];

static void *lock_ab(void *arg)
{
	int first = *(int *)arg;

	uthread_mutex_lock(dm[first]);
	uthread_yield();
	uthread_mutex_lock(dm[!first]);
	return NULL;
}

static void *deadlock_main(void *arg)
{
	static int zero, one = 1;
	uthread_t a, b;

	(void)arg;
	uthread_create(&a, 0, lock_ab, &zero);
	uthread_create(&b, 0, lock_ab, &one);
	uthread_setname(a, "lock-ab");
	uthread_setname(b, "lock-ba");
	uthread_setname(uthread_self(), "main");
	uthread_join(a, NULL);
	uthread_join(b, NULL);
	return NULL;
}

TEST(deadlock_detected)
{
	char *dump = NULL;
	size_t len = 0;
	FILE *f;

	ASSERT_EQ(0, uthread_mutex_init(&dm[0]));
	ASSERT_EQ(0, uthread_mutex_init(&dm[1]));
	f = open_memstream(&dump, &len);
	ASSERT_NE(NULL, f);
	uthread_set_dump_stream(f);
	ASSERT_EQ(EDEADLK, uthread_run(deadlock_main, NULL, NULL));
	uthread_set_dump_stream(NULL);
	fclose(f);
	TH_LOG("dump:\n%s", dump);
	ASSERT_NE(NULL, strstr(dump, "uthread: deadlock: 3 threads blocked"));
	ASSERT_NE(NULL, strstr(dump, "#1 [0x"));
	ASSERT_NE(NULL, strstr(dump, "main            blocked  join #2"));
	ASSERT_NE(NULL, strstr(dump, "lock-ab         blocked  mutex"));
	ASSERT_NE(NULL, strstr(dump, "held by #3"));
	ASSERT_NE(NULL, strstr(dump, "lock-ba         blocked  mutex"));
	ASSERT_NE(NULL, strstr(dump, "held by #2"));
	free(dump);
	/* The run is over: the abandoned mutexes can be destroyed */
	ASSERT_EQ(0, uthread_mutex_destroy(dm[0]));
	ASSERT_EQ(0, uthread_mutex_destroy(dm[1]));
	/* ... and the library is usable again */
	ASSERT_EQ(0, uthread_run(sleeper_forever_ish, NULL, NULL));
}

static void *sem_forever(void *arg)
{
	uthread_sem_wait(arg);
	return NULL;
}

TEST(deadlock_single_thread)
{
	char *dump = NULL;
	size_t len = 0;
	FILE *f;

	ASSERT_EQ(0, uthread_sem_init(&sem, 0));
	f = open_memstream(&dump, &len);
	ASSERT_NE(NULL, f);
	uthread_set_dump_stream(f);
	ASSERT_EQ(EDEADLK, uthread_run(sem_forever, sem, NULL));
	uthread_set_dump_stream(NULL);
	fclose(f);
	ASSERT_NE(NULL, strstr(dump, "blocked  sem"));
	ASSERT_NE(NULL, strstr(dump, "(value 0)"));
	free(dump);
	ASSERT_EQ(0, uthread_sem_destroy(sem));
}

/* ---------------------------------------------------------------- dump */

/* Yields once: in the run queue, not running, when the dumper looks. */
static void *yield_once(void *arg)
{
	uthread_yield();
	return arg;
}

static void *dump_main(void *arg)
{
	FILE *f = arg;
	uthread_t s, w, r;

	uthread_create(&s, 0, sleeper_forever_ish, NULL);
	uthread_create(&w, 0, sem_waiter, "w");
	uthread_create(&r, 0, yield_once, NULL);
	uthread_setname(s, "napper");
	uthread_setname(w, "waiter");
	uthread_setname(r, "ready");
	uthread_setname(uthread_self(), "dumper");
	uthread_yield();
	uthread_dump(f);
	uthread_sem_post(sem);
	uthread_join(s, NULL);
	uthread_join(w, NULL);
	uthread_join(r, NULL);
	return NULL;
}

static int count_in(const char *s, const char *what)
{
	int n = 0;

	for (; (s = strstr(s, what)); s += strlen(what))
		n++;
	return n;
}

TEST(dump_on_request)
{
	char *dump = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&dump, &len);

	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, uthread_sem_init(&sem, 0));
	ASSERT_EQ(0, uthread_run(dump_main, f, NULL));
	fclose(f);
	TH_LOG("dump:\n%s", dump);
	ASSERT_NE(NULL, strstr(dump, "uthread dump: 4 threads, 4 live"));
	ASSERT_NE(NULL, strstr(dump, "dumper          running"));
	/* the one running is the current thread, whatever the others did */
	ASSERT_EQ(1, count_in(dump, " running "));
	ASSERT_NE(NULL, strstr(dump, "ready           runnable"));
	ASSERT_NE(NULL, strstr(dump, "napper          sleeping sleep, wakes in"));
	ASSERT_NE(NULL, strstr(dump, "waiter          blocked  sem"));
	free(dump);
	ASSERT_EQ(0, uthread_sem_destroy(sem));
}

/* ---------------------------------------------------------------- scale */

/*
 * Guard pages and vm.max_map_count.  With MADV_GUARD_INSTALL (6.13+) the
 * stacks merge into a few VMAs.  With the mprotect(PROT_NONE) fallback
 * (older kernels, or built with UT_FORCE_MPROTECT_GUARD) every stack is
 * two VMAs, and 100k threads need more than the default limit of 65530.
 */
#define MAP_COUNT_SYSCTL	"/proc/sys/vm/max_map_count"

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int write_long(const char *path, long v)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CLOEXEC), len, err = 0;

	if (fd < 0)
		return errno;
	len = snprintf(buf, sizeof(buf), "%ld\n", v);
	if (write(fd, buf, (size_t)len) != len)
		err = errno ? errno : EIO;
	close(fd);
	return err;
}

/* VMAs of this process: lines of /proc/self/maps */
static long count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Does each stack cost two VMAs, i.e. does the library use mprotect? */
static bool guard_splits_vmas(void)
{
#ifdef UT_FORCE_MPROTECT_GUARD
	return true;
#else
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool split;

	if (p == MAP_FAILED)
		return true;
	/* The library's rule: EINVAL means no guard regions, use mprotect */
	split = madvise(p, page, 102 /* MADV_GUARD_INSTALL */) &&
		errno == EINVAL;
	munmap(p, 2 * page);
	return split;
#endif
}

static pid_t map_count_keeper = -1;
static int map_count_pipe = -1;

/* Put vm.max_map_count back (if map_count_raise() changed it) and wait. */
static void map_count_restore(void)
{
	if (map_count_keeper < 0)
		return;
	close(map_count_pipe);
	waitpid(map_count_keeper, NULL, 0);
	map_count_keeper = -1;
	map_count_pipe = -1;
}

/*
 * Make vm.max_map_count at least @need until map_count_restore() or the
 * end of this process.  Returns 0 if it already was or now is, EPERM when
 * not root, or the errno of the failed write.
 *
 * A keeper process in its own session holds the old value and writes it
 * back when its pipe reaches EOF, i.e. when every holder of the write end
 * has closed it or died: after map_count_restore(), a failed ASSERT, a
 * crash, or the harness's timeout, which SIGKILLs the test's process
 * group (the keeper is no longer in it).
 */
static int map_count_raise(long need)
{
	long old = read_long(MAP_COUNT_SYSCTL);
	int p[2], err;
	ssize_t r;
	char c;

	if (old < 0)
		return errno ? errno : EIO;
	if (old >= need)
		return 0;
	if (geteuid())
		return EPERM;
	if (pipe2(p, O_CLOEXEC))
		return errno;
	map_count_keeper = fork();
	if (map_count_keeper < 0) {
		err = errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (!map_count_keeper) {
		close(p[1]);
		setsid();
		do
			r = read(p[0], &c, 1);
		while (r > 0 || (r < 0 && errno == EINTR));
		_exit(write_long(MAP_COUNT_SYSCTL, old) ? 1 : 0);
	}
	close(p[0]);
	map_count_pipe = p[1];
	err = write_long(MAP_COUNT_SYSCTL, need);
	if (err)
		map_count_restore();
	return err;
}

/*
 * The tests that need many VMAs, or may take long under emulation (TEST()
 * has a fixed 30 s timeout).  Teardown restores vm.max_map_count at once,
 * even after a failed ASSERT.
 */
FIXTURE(scale) {
	long maps_before;
};

FIXTURE_SETUP(scale)
{
	self->maps_before = count_maps();
	ASSERT_LT(0, self->maps_before);
}

FIXTURE_TEARDOWN(scale)
{
	map_count_restore();
}

#define SCALE_TIMEOUT	300

static long spawned, peak_maps;

static void *tiny(void *arg)
{
	spawned++;
	uthread_yield();
	return arg;
}

static void *many_main(void *arg)
{
	long n = *(long *)arg, i, bad = 0;
	uthread_t *t = malloc((size_t)n * sizeof(*t));
	void *ret;

	if (!t)
		return (void *)-1l;
	for (i = 0; i < n; i++)
		if (uthread_create(&t[i], 0, tiny, (void *)i))
			break;
	*(long *)arg = i;
	peak_maps = count_maps();
	for (i = i - 1; i >= 0; i--)
		if (uthread_join(t[i], &ret) || ret != (void *)i)
			bad++;
	free(t);
	return (void *)bad;
}

TEST_F_TIMEOUT(scale, threads_100k, SCALE_TIMEOUT)
{
	long n = scaled(100000);
	const long want = n;
	void *bad = (void *)-2l;
	bool split = guard_splits_vmas();
	long need, lo, hi;
	int err;

	if (split) {
		/* 2 VMAs per stack, plus room for the library and the test */
		need = self->maps_before + 2 * n + 1024;
		err = map_count_raise(need);
		if (err == EPERM)
			SKIP(return,
			     "needs vm.max_map_count >= %ld for mprotect guard pages; not root",
			     need);
		if (err)
			SKIP(return, "cannot raise vm.max_map_count to %ld: %s",
			     need, strerror(err));
	}
	ASSERT_EQ(0, uthread_run(many_main, &n, &bad));
	ASSERT_EQ(want, n);
	ASSERT_EQ(want, spawned);
	ASSERT_EQ(NULL, bad);
	TH_LOG("VMAs: %ld before, %ld with %ld threads (%s guards)",
	       self->maps_before, peak_maps, n, split ? "mprotect" : "madvise");
	/* Each stack is two VMAs, or the stacks merge into a few */
	lo = split ? self->maps_before + 2 * n : 0;
	hi = split ? LONG_MAX : self->maps_before + n / 100;
	ASSERT_LE(lo, peak_maps);
	ASSERT_GT(hi, peak_maps);
}

/*
 * Running out: uthread_create() must fail with the documented ENOMEM and
 * leave everything created so far intact and joinable.
 */
struct exhaust {
	uthread_t *t;
	long max;		/* size of t[] */
	long created, joined, bad;
	int err;		/* the failed uthread_create() */
	int again;		/* a create after the joins (pooled stack) */
	int run;		/* uthread_run()'s result */
};

static void *idle_thread(void *arg)
{
	uthread_yield();
	return arg;
}

static void *exhaust_main(void *arg)
{
	struct exhaust *x = arg;
	uthread_t t;
	void *ret;
	long i;

	x->err = 0;
	for (i = 0; i < x->max && !x->err; i++)
		x->err = uthread_create(&x->t[i], 0, idle_thread, (void *)i);
	x->created = x->err ? i - 1 : i;
	for (i = x->created - 1; i >= 0; i--) {
		if (uthread_join(x->t[i], &ret) || ret != (void *)i)
			x->bad++;
		else
			x->joined++;
	}
	x->again = uthread_create(&t, 0, idle_thread, NULL);
	if (!x->again)
		x->again = uthread_join(t, NULL);
	return NULL;
}

static long status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	size_t len = strlen(field);
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len)) {
			kb = strtol(line + len, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

#define AS_BUDGET	(64l << 20)
#define EXHAUST_MAX	100000

/*
 * In a child: limit the address space to what it uses now plus 64 MiB,
 * then run twice.  The second run shows the first gave everything back.
 */
static void rlimit_child(struct exhaust *x)
{
	struct rlimit rl;
	long vm_kb = status_kb("VmSize:");
	int i;

	x[0].t = calloc(EXHAUST_MAX, sizeof(uthread_t));
	x[1].t = calloc(EXHAUST_MAX, sizeof(uthread_t));
	if (!x[0].t || !x[1].t || vm_kb <= 0)
		_exit(2);
	rl.rlim_cur = (rlim_t)vm_kb * 1024 + AS_BUDGET;
	rl.rlim_max = rl.rlim_cur;
	if (setrlimit(RLIMIT_AS, &rl))
		_exit(3);
	for (i = 0; i < 2; i++) {
		x[i].max = EXHAUST_MAX;
		x[i].run = uthread_run(exhaust_main, &x[i], NULL);
	}
	free(x[0].t);
	free(x[1].t);
	_exit(0);
}

TEST_F_TIMEOUT(scale, create_fails_cleanly_at_rlimit_as, SCALE_TIMEOUT)
{
	long stack_len = sysconf(_SC_PAGESIZE) + UTHREAD_STACK_DEFAULT;
	struct exhaust *x;
	int status, i;
	pid_t pid;

	if (on_valgrind())
		SKIP(return,
		     "memcheck's shadow memory counts against RLIMIT_AS: the tool runs out before the library");
	x = mmap(NULL, 2 * sizeof(*x), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, x);
	memset(x, 0, 2 * sizeof(*x));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		rlimit_child(x);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	for (i = 0; i < 2; i++) {
		TH_LOG("run %d: %ld threads, then %d", i, x[i].created,
		       x[i].err);
		ASSERT_EQ(0, x[i].run);
		ASSERT_EQ(ENOMEM, x[i].err);
		/* The stacks used up the budget, nothing else did */
		ASSERT_LE(x[i].created, AS_BUDGET / stack_len);
		ASSERT_GE(x[i].created, AS_BUDGET / stack_len / 2);
		ASSERT_EQ(x[i].created, x[i].joined);
		ASSERT_EQ(0, x[i].bad);
		ASSERT_EQ(0, x[i].again);
	}
	/* The first run released every stack */
	ASSERT_GE(x[1].created, x[0].created - 2);
	munmap(x, 2 * sizeof(*x));
}

/*
 * On the mprotect path, threads run into vm.max_map_count (about 32k at
 * the default 65530).  This test reaches the limit as it is and never
 * lowers it to get there faster: the sysctl is system-wide (not per
 * namespace), so lowering it would make other processes' mmap() fail
 * meanwhile.  It therefore skips where reaching the limit would take too
 * many threads, and where MADV_GUARD_INSTALL works (no VMA per thread).
 */
#define MAP_COUNT_TEST_MAX	262144

TEST_F_TIMEOUT(scale, create_fails_cleanly_at_max_map_count, SCALE_TIMEOUT)
{
	long max = read_long(MAP_COUNT_SYSCTL);
	struct exhaust x;

	if (!guard_splits_vmas())
		SKIP(return,
		     "MADV_GUARD_INSTALL works: stacks do not use VMAs of their own (see the mprotect variant)");
	ASSERT_LT(0, max);
	if (max > MAP_COUNT_TEST_MAX)
		SKIP(return,
		     "vm.max_map_count is %ld: reaching it needs %ld threads; not lowering a system-wide limit",
		     max, max / 2);
	memset(&x, 0, sizeof(x));
	x.max = max;
	x.t = calloc(x.max, sizeof(*x.t));
	ASSERT_NE(NULL, x.t);
	ASSERT_EQ(0, uthread_run(exhaust_main, &x, NULL));
	free(x.t);
	TH_LOG("%ld threads, then %d; %ld maps before, limit %ld", x.created,
	       x.err, self->maps_before, max);
	ASSERT_EQ(ENOMEM, x.err);
	/* Two VMAs per stack filled the map count, nothing else did */
	ASSERT_LE(self->maps_before + 2 * x.created, max);
	ASSERT_GE(self->maps_before + 2 * x.created + 64, max);
	ASSERT_EQ(x.created, x.joined);
	ASSERT_EQ(0, x.bad);
	ASSERT_EQ(0, x.again);
	/* Back to where we started, bar the pool (freed when the run ended) */
	ASSERT_GE(self->maps_before + 16, count_maps());
}

static void *detached_child(void *arg)
{
	uthread_sleep(MS);
	mark(*(char *)arg);
	return NULL;
}

static void *detach_main(void *arg)
{
	uthread_t t;

	uthread_create(&t, 0, detached_child, arg);
	uthread_detach(t);
	mark('m');
	return NULL;
}

/* The run outlives main while a detached thread still runs. */
TEST(detached_outlives_main)
{
	void *ret = (void *)1;

	ASSERT_EQ(0, uthread_run(detach_main, "d", &ret));
	trace[ntrace] = '\0';
	ASSERT_STREQ("md", trace);
	ASSERT_EQ(NULL, ret);
}

static void *stack_main(void *arg)
{
	size_t *out = arg;
	void *lo;
	char here;

	uthread_getstack(uthread_self(), &lo, &out[0]);
	out[1] = &here >= (char *)lo && &here < (char *)lo + out[0];
	return NULL;
}

TEST(stack_bounds)
{
	size_t out[2] = { 0, 0 };

	ASSERT_EQ(0, uthread_run(stack_main, out, NULL));
	/* minus the TCB at the top: ~256 bytes, ~1.2 KiB with ucontext */
	ASSERT_GE(out[0], UTHREAD_STACK_DEFAULT - 4096);
	ASSERT_LT(out[0], UTHREAD_STACK_DEFAULT);
	ASSERT_EQ(1ul, out[1]);
}

/*
 * On a slow kernel (a sanitizer kernel runs 10-20 times slower) the test
 * runner sets COWTRACE_TIMEOUT_SCALE: every test's time limit grows with
 * it, and what the tests do stays the same.
 */
static void scale_timeouts(void)
{
	const char *s = getenv("COWTRACE_TIMEOUT_SCALE");
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	int scale = s ? atoi(s) : 1;

	if (scale <= 1)
		return;
	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout *= scale;
}

int main(int argc, char **argv)
{
	scale_timeouts();
	return test_harness_run(argc, argv);
}
