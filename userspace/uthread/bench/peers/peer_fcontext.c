// SPDX-License-Identifier: GPL-2.0
/*
 * Boost.Context's fcontext (Debian's libboost-context-dev): the switch
 * primitive Boost.Coroutine2 and Boost.Fiber are built on, called here
 * through its C ABI. It is a switch, not a thread library: no scheduler,
 * no join, no I/O; a context is a stack and a jump into it.
 */
#include <errno.h>
#include <stdlib.h>

#include "fcontext.h"
#include "peers.h"

/* from boost/version.hpp, by the Makefile: that header is C++ */
#ifndef BOOST_LIB_VERSION_STR
#define BOOST_LIB_VERSION_STR "unknown"
#endif

/* fixedsize_stack's way: malloc, no guard page */
#define FC_STACK	(64u * 1024)

/* ------------------------------------------------------------- switch */

/* Jump back to whoever jumped here, forever: each jump is one switch. */
static void bouncer(transfer_t t)
{
	for (;;)
		t = jump_fcontext(t.fctx, NULL);
}

static double fc_switch_ns(long n)
{
	void *stack = malloc(FC_STACK);
	transfer_t t;
	uint64_t t0;
	long i;

	if (!stack)
		return -1;
	t.fctx = make_fcontext((char *)stack + FC_STACK, FC_STACK, bouncer);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		t = jump_fcontext(t.fctx, NULL);
	return (double)(now_ns() - t0) / (2.0 * n);
}

/* ------------------------------------------------------- create + join */

/* Runs once and hands control back for good: the context is finished. */
static void once(transfer_t t)
{
	jump_fcontext(t.fctx, NULL);
}

static double fc_create_join_ns(long n)
{
	uint64_t t0 = now_ns();
	void *stack;
	long i;

	for (i = 0; i < n; i++) {
		stack = malloc(FC_STACK);
		if (!stack)
			return -1;
		jump_fcontext(make_fcontext((char *)stack + FC_STACK,
					    FC_STACK, once), NULL);
		free(stack);
	}
	return (double)(now_ns() - t0) / n;
}

/* --------------------------------------------------------------- idle */

static void fc_idle(long n, struct idle_result *r)
{
	void **stacks = calloc(n, sizeof(*stacks));
	fcontext_t ctx;
	long i, made;

	if (!stacks) {
		r->err = ENOMEM;
		return;
	}
	idle_start();
	for (made = 0; made < n; made++) {
		stacks[made] = malloc(FC_STACK);
		if (!stacks[made]) {
			r->err = ENOMEM;
			break;
		}
		ctx = make_fcontext((char *)stacks[made] + FC_STACK, FC_STACK,
				    bouncer);
		/* started: it runs to its first jump back, and waits there */
		if (idle_runs())
			jump_fcontext(ctx, NULL);
	}
	idle_peak(made, r);
	for (i = 0; i < made; i++)
		free(stacks[i]);
	free(stacks);
}

const struct peer peer_fcontext = {
	.name = "Boost.Context",
	.version = BOOST_LIB_VERSION_STR,
	.switch_how = "jump_fcontext()",
	.stack_how = "64 KiB malloc (fixedsize_stack's way)",
	.switch_ns = fc_switch_ns,
	.create_join_ns = fc_create_join_ns,
	.idle = fc_idle,
	.echo_note = "none: a switch primitive, no scheduler or I/O",
};
