// SPDX-License-Identifier: GPL-2.0
/*
 * Thread dump and deadlock report.  A deadlock here is exact, not a
 * heuristic: no thread is runnable, none sleeps and none waits for I/O,
 * so nothing outside the threads themselves can ever wake one.
 */
#include <errno.h>
#include <inttypes.h>

#include "uthread_int.h"

static FILE *ut_dump_stream;

static const char *const ut_state_name[] = {
	[UT_RUNNABLE] = "runnable",
	[UT_BLOCKED] = "blocked",
	[UT_SLEEPING] = "sleeping",
	[UT_IOWAIT] = "io-wait",
	[UT_ZOMBIE] = "zombie",
};

static void ut_dump_mutex(FILE *f, const uthread_mutex_t *m)
{
	uthread_t owner = ut_mutex_owner(m);

	fprintf(f, "mutex %p held by #%" PRIu32 "%s", (const void *)m,
		(uint32_t)owner, ut_lookup(owner) ? "" : " (exited)");
}

void ut_dump_thread(FILE *f, const struct uthread *t, uint64_t now)
{
	const struct uthread *j;

	fprintf(f, "  #%" PRIu32 " [%#" PRIx64 "] %-15s %-8s ",
		(uint32_t)t->id, t->id, t->name[0] ? t->name : "-",
		t == ut_sched.cur ? "running" : ut_state_name[t->state]);
	switch (t->wait_kind) {
	case UT_WAIT_MUTEX:
		ut_dump_mutex(f, t->wait_obj);
		break;
	case UT_WAIT_COND:
		fprintf(f, "cond %p", t->wait_obj);
		break;
	case UT_WAIT_SEM:
		fprintf(f, "sem %p (value %u)", t->wait_obj,
			ut_sem_value(t->wait_obj));
		break;
	case UT_WAIT_JOIN:
		j = t->wait_obj;
		fprintf(f, "join #%" PRIu32, (uint32_t)j->id);
		break;
	case UT_WAIT_SLEEP:
		fprintf(f, "sleep, wakes in %" PRIu64 " us",
			t->wake_at > now ? (t->wake_at - now) / 1000 : 0);
		break;
	case UT_WAIT_READ:
	case UT_WAIT_WRITE:
		fprintf(f, "fd %d %s", t->wait_fd,
			t->wait_kind == UT_WAIT_READ ? "readable" : "writable");
		break;
	case UT_WAIT_NONE:
		break;
	}
	fputc('\n', f);
}

static void ut_dump_all(FILE *f)
{
	struct ut_sched *s = &ut_sched;
	uint64_t now = ut_now_ns();
	uint32_t i;

	fprintf(f, "uthread dump: %" PRIu64 " threads, %" PRIu64
		" live, %zu sleeping, %" PRIu64 " in io-wait\n",
		s->nthreads, s->nlive, s->nsleep, s->nio);
	for (i = 0; i < s->nslots; i++)
		if (s->slots[i].t)
			ut_dump_thread(f, s->slots[i].t, now);
	fflush(f);
}

int uthread_dump(FILE *f)
{
	if (!f)
		return EINVAL;
	if (!ut_sched.active)
		return EPERM;
	ut_dump_all(f);
	return 0;
}

void uthread_set_dump_stream(FILE *f)
{
	ut_dump_stream = f;
}

void ut_report_deadlock(void)
{
	FILE *f = ut_dump_stream ? ut_dump_stream : stderr;

	fprintf(f, "uthread: deadlock: %" PRIu64
		" threads blocked, none runnable, sleeping or waiting for I/O\n",
		ut_sched.nlive);
	ut_dump_all(f);
}
