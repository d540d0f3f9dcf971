// SPDX-License-Identifier: GPL-2.0
/*
 * Sleep: a binary min-heap of sleepers keyed on (deadline, sequence), so
 * a million sleepers cost O(log n) each and equal deadlines wake in the
 * order the threads went to sleep.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "uthread_int.h"

uint64_t ut_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool ut_before(const struct uthread *a, const struct uthread *b)
{
	if (a->wake_at != b->wake_at)
		return a->wake_at < b->wake_at;
	return a->wake_seq < b->wake_seq;
}

static void ut_heap_set(size_t i, struct uthread *t)
{
	ut_sched.sleepq[i] = t;
	t->heap_idx = i;
}

static void ut_heap_up(size_t i)
{
	struct uthread **q = ut_sched.sleepq;
	struct uthread *t = q[i];

	while (i && ut_before(t, q[(i - 1) / 2])) {
		ut_heap_set(i, q[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	ut_heap_set(i, t);
}

static void ut_heap_down(size_t i)
{
	struct uthread **q = ut_sched.sleepq;
	size_t n = ut_sched.nsleep;
	struct uthread *t = q[i];
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && ut_before(q[c + 1], q[c]))
			c++;
		if (!ut_before(q[c], t))
			break;
		ut_heap_set(i, q[c]);
		i = c;
	}
	ut_heap_set(i, t);
}

static int ut_heap_reserve(void)
{
	struct ut_sched *s = &ut_sched;
	size_t cap = s->sleep_cap ? s->sleep_cap * 2 : 64;
	struct uthread **n;

	if (s->nsleep < s->sleep_cap)
		return 0;
	n = realloc(s->sleepq, cap * sizeof(*n));
	if (!n)
		return ENOMEM;
	s->sleepq = n;
	s->sleep_cap = cap;
	return 0;
}

void ut_sleep_remove(struct uthread *t)
{
	struct ut_sched *s = &ut_sched;
	size_t i = t->heap_idx;

	s->nsleep--;
	if (i == s->nsleep)
		return;
	ut_heap_set(i, s->sleepq[s->nsleep]);
	ut_heap_down(i);
	ut_heap_up(s->sleepq[i]->heap_idx);
}

void ut_sleep_expire(uint64_t now)
{
	struct ut_sched *s = &ut_sched;
	struct uthread *t;

	while (s->nsleep && s->sleepq[0]->wake_at <= now) {
		t = s->sleepq[0];
		ut_sleep_remove(t);
		ut_make_runnable(t);
	}
}

bool ut_sleep_next(uint64_t *deadline)
{
	if (!ut_sched.nsleep)
		return false;
	*deadline = ut_sched.sleepq[0]->wake_at;
	return true;
}

void ut_sleep_fini(void)
{
	free(ut_sched.sleepq);
	ut_sched.sleepq = NULL;
	ut_sched.nsleep = 0;
	ut_sched.sleep_cap = 0;
}

int uthread_sleep(uint64_t ns)
{
	struct ut_sched *s = &ut_sched;
	struct uthread *self = s->cur;
	uint64_t now;

	if (!ut_in_thread())
		return EPERM;
	if (!ns)
		return uthread_yield();
	/* No memory for the heap: degrade to a yield loop, still correct */
	if (ut_heap_reserve()) {
		now = ut_now_ns();
		while (ut_now_ns() - now < ns)
			uthread_yield();
		return 0;
	}
	now = ut_now_ns();
	self->wake_at = ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
	self->wake_seq = s->sleep_seq++;
	ut_heap_set(s->nsleep++, self);
	ut_heap_up(s->nsleep - 1);
	ut_block(NULL, UT_SLEEPING, UT_WAIT_SLEEP, NULL);
	return 0;
}
