// SPDX-License-Identifier: GPL-2.0
/*
 * libuthread's switch primitive, ut_ctx_switch(), alone: what uthread_yield()
 * is built on, measured the way Boost.Context's jump_fcontext() is (two
 * contexts handing the CPU to each other, no scheduler), so that the two
 * primitives compare like for like. It has no threads of its own: only the
 * switch table lists it.
 */
#include <limits.h>
#include <stdlib.h>

#include "uthread_int.h"
#include "peers.h"

#define CTX_STACK	(64u * 1024)

struct ctx_pair {
	struct ut_ctx main;
	struct uthread t;	/* only its context and stack are used */
};

/*
 * Both sides switch from this one call site, as threads that yield from
 * one place do: ut_ctx_switch() returns with ret, and its return is then
 * predicted each time (see switch_x86_64.S). Two call sites would
 * mispredict every return, a case threads that yield do not meet.
 */
static __attribute__((noinline)) void ctx_bounce(struct ut_ctx *self,
						 struct ut_ctx *other, long n)
{
	long i;

	for (i = 0; i < n; i++)
		ut_ctx_switch(self, other);
}

static void *ctx_bouncer(void *arg)
{
	struct ctx_pair *p = arg;

	ctx_bounce(&p->t.ctx, &p->main, LONG_MAX);
	return NULL;
}

static double ctx_switch_ns(long n)
{
	struct ctx_pair *p = calloc(1, sizeof(*p));
	uint64_t t0;
	double ns;

	if (!p)
		return -1;
	p->t.stack_lo = malloc(CTX_STACK);
	if (!p->t.stack_lo) {
		free(p);
		return -1;
	}
	p->t.stack_size = CTX_STACK;
	ut_ctx_make(&p->t, ctx_bouncer, p);
#if UT_SWITCH_ASM
	/* As uthread_run() does: the words every context starts with. */
	__asm__ volatile ("stmxcsr %0" : "=m" (p->t.ctx.mxcsr));
	__asm__ volatile ("fnstcw %0" : "=m" (p->t.ctx.fpucw));
#endif
	ctx_bounce(&p->main, &p->t.ctx, 1);	/* the fresh entry, untimed */
	t0 = now_ns();
	ctx_bounce(&p->main, &p->t.ctx, n);
	ns = (double)(now_ns() - t0) / (2.0 * n);
	/* The bouncer is parked for good: its stack goes with the child. */
	return ns;
}

const struct peer peer_uthread_ctx = {
	.name = "ut_ctx_switch",
	.version = "this tree",
	.switch_how = "ut_ctx_switch(), no scheduler",
	.switch_ns = ctx_switch_ns,
};
