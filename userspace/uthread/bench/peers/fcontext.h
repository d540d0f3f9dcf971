/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C ABI of Boost.Context's fcontext, as boost/context/detail/
 * fcontext.hpp declares it inside extern "C" (that header is C++ only):
 * libboost_context exports these symbols for any language to call.
 */
#ifndef FCONTEXT_H
#define FCONTEXT_H

#include <stddef.h>

typedef void *fcontext_t;

typedef struct {
	fcontext_t fctx;	/* the context that jumped here */
	void *data;		/* what it passed */
} transfer_t;

/* Save the current context, resume @to passing @vp; returns on the jump back. */
transfer_t jump_fcontext(fcontext_t const to, void *vp);
/* A context that starts @fn on the stack whose top is @sp, @size bytes. */
fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t));

#endif /* FCONTEXT_H */
