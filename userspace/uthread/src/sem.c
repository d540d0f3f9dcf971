// SPDX-License-Identifier: GPL-2.0
/*
 * Counting semaphore with FIFO hand-off: a post with waiters gives the
 * unit to the oldest waiter instead of raising the count, so a later
 * trywait cannot steal it.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "uthread_int.h"

struct uthread_sem {
	unsigned int value;
	struct ut_queue waiters;
};

int uthread_sem_init(uthread_sem_t **sp, unsigned int value)
{
	uthread_sem_t *s;

	if (!sp)
		return EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->value = value;
	*sp = s;
	return 0;
}

int uthread_sem_destroy(uthread_sem_t *s)
{
	if (!s)
		return EINVAL;
	if (!ut_q_empty(&s->waiters))
		return EBUSY;
	free(s);
	return 0;
}

int uthread_sem_wait(uthread_sem_t *s)
{
	if (!s)
		return EINVAL;
	if (!ut_in_thread())
		return EPERM;
	if (s->value) {
		s->value--;
		return 0;
	}
	ut_block(&s->waiters, UT_BLOCKED, UT_WAIT_SEM, s);
	return 0;
}

int uthread_sem_trywait(uthread_sem_t *s)
{
	if (!s)
		return EINVAL;
	if (!ut_in_thread())
		return EPERM;
	if (!s->value)
		return EAGAIN;
	s->value--;
	return 0;
}

int uthread_sem_post(uthread_sem_t *s)
{
	struct uthread *t;

	if (!s)
		return EINVAL;
	if (!ut_in_thread())
		return EPERM;
	t = ut_q_pop(&s->waiters);
	if (t) {
		ut_make_runnable(t);
		return 0;
	}
	if (s->value == UINT_MAX)
		return EOVERFLOW;
	s->value++;
	return 0;
}

int uthread_sem_getvalue(uthread_sem_t *s, unsigned int *value)
{
	if (!s || !value)
		return EINVAL;
	*value = s->value;
	return 0;
}

unsigned int ut_sem_value(const uthread_sem_t *s)
{
	return s->value;
}
