// SPDX-License-Identifier: GPL-2.0
/*
 * Thread stacks: one anonymous mapping per thread, a guard page at the
 * bottom, the thread control block at the top.  Pages are faulted in on
 * first touch, so an idle thread costs about one page of RSS.
 *
 * Guard: MADV_GUARD_INSTALL (Linux 6.13+) puts a guard marker in the page
 * tables without splitting the VMA, so neighbouring stacks merge into few
 * VMAs and vm.max_map_count does not cap the thread count.  Older kernels
 * fall back to mprotect(PROT_NONE), which costs two VMAs per stack.
 * Building with -DUT_FORCE_MPROTECT_GUARD skips the madvise() attempt, so
 * that the fallback can be tested on new kernels ("make test" does).
 *
 * Released default-size threads keep their mapping in a pool; taking from
 * and giving back to it is inline in uthread_int.h, on the create+join
 * path.  Only a miss comes here.
 */
#include <errno.h>
#include <sys/mman.h>

#include "uthread_int.h"

#ifdef UT_VALGRIND
#include <valgrind/valgrind.h>
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102
#endif

#ifdef UT_FORCE_MPROTECT_GUARD
#define UT_TRY_GUARD_REGION	false
#else
#define UT_TRY_GUARD_REGION	true
#endif

static size_t ut_tcb_size(void)
{
	return (sizeof(struct uthread) + 63) & ~(size_t)63;
}

/*
 * Stagger each TCB (and so the stack top) inside the top page.  Stacks
 * are page-aligned, so without this every thread's context and hot frames
 * share one page offset, and switching between two threads stores to and
 * loads from addresses equal modulo 4 KiB: the CPU's memory
 * disambiguation then stalls loads behind unrelated stores ("4K
 * aliasing").
 */
static size_t ut_color(void)
{
	static unsigned int next;

	return (size_t)(next++ % 8) * 320;
}

static int ut_guard(void *lo)
{
	struct ut_sched *s = &ut_sched;

	if (UT_TRY_GUARD_REGION && s->guard_madvise) {
		if (!madvise(lo, s->page, MADV_GUARD_INSTALL))
			return 0;
		if (errno != EINVAL)
			return errno;
		/* Kernel without guard regions: remember, use mprotect */
		s->guard_madvise = false;
	}
	return mprotect(lo, s->page, PROT_NONE) ? errno : 0;
}

/* Map a stack of @size bytes (a multiple of the page size) with its TCB */
int ut_stack_map(size_t size, struct uthread **tp)
{
	struct ut_sched *s = &ut_sched;
	struct uthread *t;
	size_t len;
	char *map;
	int err;

	len = s->page + size;
	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
		   -1, 0);
	/* uthread.h: out of memory, RLIMIT_AS or map count is ENOMEM */
	if (map == MAP_FAILED)
		return errno == EAGAIN ? EAGAIN : ENOMEM;
	err = ut_guard(map);
	if (err)
		goto err_unmap;
	/* THP would turn a 4 KiB idle stack into 2 MiB of RSS */
	madvise(map + s->page, size, MADV_NOHUGEPAGE);
	t = (struct uthread *)(map + len - ut_tcb_size() - ut_color());
	t->map = map;
	t->map_len = len;
	t->stack_lo = map + s->page;
	t->stack_size = (char *)t - (char *)t->stack_lo;
#ifdef UT_VALGRIND
	t->vg_id = VALGRIND_STACK_REGISTER(t->stack_lo, (char *)t);
#endif
	*tp = t;
	return 0;

err_unmap:
	munmap(map, len);
	return err == ENOMEM ? ENOMEM : EAGAIN;
}

void ut_stack_unmap(struct uthread *t)
{
#ifdef UT_VALGRIND
	VALGRIND_STACK_DEREGISTER(t->vg_id);
#endif
	munmap(t->map, t->map_len);
}

void ut_stack_pool_drain(void)
{
	struct ut_sched *s = &ut_sched;
	struct uthread *t;

	while ((t = s->pool)) {
		s->pool = t->next;
		ut_stack_unmap(t);
	}
	s->npool = 0;
}
