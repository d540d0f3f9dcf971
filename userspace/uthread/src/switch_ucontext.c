// SPDX-License-Identifier: GPL-2.0
/*
 * Portable fallback for architectures without switch_*.S: ucontext.
 * swapcontext() saves and restores the signal mask with a system call per
 * switch (~0.5 us), so this is for portability, not speed.  Only the
 * x86-64 assembly path is tested.
 */
#include <stdlib.h>
#include <string.h>

#include "uthread_int.h"

#if !UT_SWITCH_ASM
/* makecontext() passes only ints: ut_thread_start() finds fn and arg */
void ut_ctx_make(struct uthread *t, void *(*fn)(void *), void *arg)
{
	struct ut_ctx *ctx = &t->ctx;

	t->fn = fn;
	t->arg = arg;
	memset(ctx, 0, sizeof(*ctx));
	if (getcontext(&ctx->uc))
		abort();
	ctx->uc.uc_stack.ss_sp = t->stack_lo;
	ctx->uc.uc_stack.ss_size = t->stack_size;
	ctx->uc.uc_link = NULL;
	makecontext(&ctx->uc, ut_thread_start, 0);
}

void ut_ctx_switch(struct ut_ctx *from, struct ut_ctx *to)
{
	if (swapcontext(&from->uc, &to->uc))
		abort();
}
#endif
