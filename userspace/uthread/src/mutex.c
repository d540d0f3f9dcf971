// SPDX-License-Identifier: GPL-2.0
/*
 * Mutex with FIFO hand-off: unlock gives ownership straight to the oldest
 * waiter, so a thread that unlocks and relocks in a loop cannot barge
 * ahead of threads already queued (the fairness the tests check).
 */
#include <errno.h>
#include <stdlib.h>

#include "uthread_int.h"

struct uthread_mutex {
	uthread_t owner;		/* UTHREAD_INVALID when unlocked */
	struct ut_queue waiters;
};

int uthread_mutex_init(uthread_mutex_t **mp)
{
	uthread_mutex_t *m;

	if (!mp)
		return EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return ENOMEM;
	*mp = m;
	return 0;
}

/* A mutex whose owner exited (or was torn down) holds nothing live. */
static bool ut_mutex_held_live(const uthread_mutex_t *m)
{
	return m->owner && ut_sched.active && ut_lookup(m->owner);
}

int uthread_mutex_destroy(uthread_mutex_t *m)
{
	if (!m)
		return EINVAL;
	if (!ut_q_empty(&m->waiters) || ut_mutex_held_live(m))
		return EBUSY;
	free(m);
	return 0;
}

int uthread_mutex_lock(uthread_mutex_t *m)
{
	struct uthread *self = ut_sched.cur;

	if (!m)
		return EINVAL;
	if (!ut_in_thread())
		return EPERM;
	if (!m->owner) {
		m->owner = self->id;
		return 0;
	}
	if (m->owner == self->id)
		return EDEADLK;
	/* The unlocker sets owner to us before waking us */
	ut_block(&m->waiters, UT_BLOCKED, UT_WAIT_MUTEX, m);
	return 0;
}

int uthread_mutex_trylock(uthread_mutex_t *m)
{
	if (!m)
		return EINVAL;
	if (!ut_in_thread())
		return EPERM;
	if (m->owner)
		return EBUSY;
	m->owner = ut_sched.cur->id;
	return 0;
}

int uthread_mutex_unlock(uthread_mutex_t *m)
{
	struct uthread *next;

	if (!m)
		return EINVAL;
	if (!ut_in_thread() || m->owner != ut_sched.cur->id)
		return EPERM;
	next = ut_q_pop(&m->waiters);
	m->owner = next ? next->id : UTHREAD_INVALID;
	if (next)
		ut_make_runnable(next);
	return 0;
}

/* For the thread dump: who holds @m. */
uthread_t ut_mutex_owner(const uthread_mutex_t *m)
{
	return m->owner;
}
