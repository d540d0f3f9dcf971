// SPDX-License-Identifier: GPL-2.0
/*
 * Condition variable: a FIFO of waiters.  With one kernel thread there is
 * no lost-wake-up window between releasing the mutex and queueing, so the
 * implementation is just "queue, unlock, block, relock".
 */
#include <errno.h>
#include <stdlib.h>

#include "uthread_int.h"

struct uthread_cond {
	struct ut_queue waiters;
};

int uthread_cond_init(uthread_cond_t **cp)
{
	uthread_cond_t *c;

	if (!cp)
		return EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	*cp = c;
	return 0;
}

int uthread_cond_destroy(uthread_cond_t *c)
{
	if (!c)
		return EINVAL;
	if (!ut_q_empty(&c->waiters))
		return EBUSY;
	free(c);
	return 0;
}

int uthread_cond_wait(uthread_cond_t *c, uthread_mutex_t *m)
{
	struct uthread *self = ut_sched.cur;
	int err;

	if (!c || !m)
		return EINVAL;
	if (!ut_in_thread())
		return EPERM;
	/* Queue first: the unlock may hand the mutex to a signaller */
	self->state = UT_BLOCKED;
	self->wait_kind = UT_WAIT_COND;
	self->wait_obj = c;
	self->wait_q = &c->waiters;
	ut_q_push(&c->waiters, self);
	err = uthread_mutex_unlock(m);
	if (err) {
		ut_q_remove(&c->waiters, self);
		self->state = UT_RUNNABLE;
		self->wait_kind = UT_WAIT_NONE;
		self->wait_obj = NULL;
		self->wait_q = NULL;
		return err;
	}
	ut_schedule();
	return uthread_mutex_lock(m);
}

int uthread_cond_signal(uthread_cond_t *c)
{
	struct uthread *t;

	if (!c)
		return EINVAL;
	if (!ut_in_thread())
		return EPERM;
	t = ut_q_pop(&c->waiters);
	if (t)
		ut_make_runnable(t);
	return 0;
}

int uthread_cond_broadcast(uthread_cond_t *c)
{
	struct uthread *t;

	if (!c)
		return EINVAL;
	if (!ut_in_thread())
		return EPERM;
	while ((t = ut_q_pop(&c->waiters)))
		ut_make_runnable(t);
	return 0;
}
