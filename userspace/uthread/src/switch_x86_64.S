/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libuthread context switch for x86-64 (System V ABI), in the spirit of
 * libaco's acosw.S: one function, no system call, no signal-mask save.
 *
 * void ut_ctx_switch(struct ut_ctx *from, struct ut_ctx *to);
 *	%rdi = from: receives the caller's context
 *	%rsi = to:   context to resume (saved by an earlier ut_ctx_switch, or
 *		     prepared by ut_ctx_make() for a thread that never ran:
 *		     "fresh", entered by a jump to ut_thread_entry below)
 *
 * The call returns when some other thread switches back to @from.
 *
 * Saved layout (struct ut_ctx, 64 bytes = one cache line; offsets in
 * ctx_offsets.h, mirrored in C and checked with _Static_assert in sched.c):
 *	 0 rsp	  caller's %rsp, pointing at its return address
 *	 8 rbx	16 rbp	24 r12	32 r13	40 r14	48 r15
 *	56 mxcsr  (4 bytes) SSE control/status word
 *	60 fpucw  (2 bytes) x87 control word
 *	62 fresh  (1 byte)  set by ut_ctx_make(), cleared on first entry
 *	63 pad	  (1 byte)  unused
 *
 * Why only these: the ABI makes %rbx, %rbp, %r12-%r15, %rsp, the control
 * bits of MXCSR and the x87 control word callee-saved; everything else
 * (%rax, %rcx, %rdx, %rsi, %rdi, %r8-%r11, vector and x87 data registers,
 * flags) is clobbered by any call, so the compiler has already spilled what
 * it needs.  %rflags.DF is clear at every call boundary by ABI.
 *
 * Pitfalls:
 *  - Return with ret, not with an indirect jmp: one call, one ret keeps
 *    the CPU's return-stack buffer balanced, and threads parked at the same
 *    call site (the common case: everyone yields or blocks through the
 *    same path) then predict every return correctly.  A jmp-based return
 *    leaves the buffer off by one and mispredicts each ret that follows
 *    (measured: ~24 ns per yield with jmp, see README).
 *  - MXCSR and x87 CW: a thread that changes its rounding mode or
 *    exception masks must not leak that into the next thread, so both
 *    travel with the context.  Saving is cheap; loading is not (ldmxcsr
 *    and fldcw can cost tens of cycles), so they are reloaded only when
 *    the outgoing and incoming words differ.  Read each saved word back
 *    with the size it was stored with: one 8-byte load over the 4- and
 *    2-byte stores cannot be store-forwarded and stalls ~10 ns.  MXCSR's
 *    sticky status flags take part in the comparison, so a thread with
 *    raised exception flags takes the slower path, which is still correct.
 *  - Signal stacks: a signal handler runs on whatever user stack is
 *    current; small user stacks therefore need SA_ONSTACK with a
 *    sigaltstack for heavy handlers.  Never switch from a signal handler.
 *  - Red zone: this is a leaf that stores only through %rdi/%rsi, never
 *    below %rsp, so the caller's 128-byte red zone stays intact, and a
 *    suspended thread's red zone is safe because nothing else uses its
 *    stack.
 *  - A new thread is entered by a jump, not by ret, and leaves by a jump
 *    into ut_ctx_switch, whose ret then pops the return address that the
 *    switch into the new thread pushed.  Calls and returns stay paired
 *    across the thread's whole life: the joiner that switched to it is
 *    resumed by a predicted return.  Entering by ret (as this file once
 *    did) consumed that entry, and the new thread's exit and everything
 *    its joiner returned through afterwards mispredicted.
 *  - Stack alignment at entry: ut_ctx_make() sets rsp 16-byte aligned, as
 *    at a call instruction, and rbp = 0; ut_thread_entry's CFI marks it
 *    as the outermost frame (no return address), so unwinders stop there.
 *  - CET is not supported: the stack swap does not swap shadow stacks
 *    (SHSTK), so the first ret after a switch would not match one.  This
 *    file carries no .note.gnu.property, so a program linking it is not
 *    marked CET-compatible and the kernel will not enable a shadow stack
 *    for it.
 */
#include "ctx_offsets.h"

	.text
	.globl	ut_ctx_switch
	.type	ut_ctx_switch, @function
	.p2align 4
ut_ctx_switch:
	movq	%rsp, UT_CTX_RSP(%rdi)
	movq	%rbx, UT_CTX_RBX(%rdi)
	movq	%rbp, UT_CTX_RBP(%rdi)
	movq	%r12, UT_CTX_R12(%rdi)
	movq	%r13, UT_CTX_R13(%rdi)
	movq	%r14, UT_CTX_R14(%rdi)
	movq	%r15, UT_CTX_R15(%rdi)
	stmxcsr	UT_CTX_MXCSR(%rdi)
	fnstcw	UT_CTX_FPUCW(%rdi)

	movq	UT_CTX_RBX(%rsi), %rbx
	movq	UT_CTX_RBP(%rsi), %rbp
	movq	UT_CTX_R12(%rsi), %r12
	movq	UT_CTX_R13(%rsi), %r13
	movq	UT_CTX_R14(%rsi), %r14
	movq	UT_CTX_R15(%rsi), %r15
	/*
	 * Same size as the stores just made, so they forward: no stall.
	 * Only MXCSR's control bits (6-15) are the ABI's callee-saved state;
	 * its sticky status flags (0-5) are not, so they must not force a
	 * reload after every floating-point operation that raised one.
	 */
	movl	UT_CTX_MXCSR(%rdi), %eax
	xorl	UT_CTX_MXCSR(%rsi), %eax
	testl	$0xffc0, %eax
	jne	1f
	movzwl	UT_CTX_FPUCW(%rdi), %ecx
	cmpw	UT_CTX_FPUCW(%rsi), %cx
	jne	1f
2:
	movq	UT_CTX_RSP(%rsi), %rsp
	cmpb	$0, UT_CTX_FRESH(%rsi)
	jne	3f
	ret
1:
	ldmxcsr	UT_CTX_MXCSR(%rsi)
	fldcw	UT_CTX_FPUCW(%rsi)
	jmp	2b
3:
	movb	$0, UT_CTX_FRESH(%rsi)
	jmp	ut_thread_entry
	.size	ut_ctx_switch, . - ut_ctx_switch

/*
 * First code of every thread.  ut_ctx_make() left fn in %r12, arg in %r13
 * and the thread's own context in %rbx; all three are callee-saved, so
 * they survive the calls.  The thread leaves through ut_ctx_switch() with
 * a jump, never a call: see "entered by a jump" above.  Saving into its
 * own context is harmless, nothing resumes an exited thread.
 */
	.globl	ut_thread_entry
	.type	ut_thread_entry, @function
	.p2align 4
ut_thread_entry:
	.cfi_startproc
	.cfi_undefined rip
#ifdef __SANITIZE_ADDRESS__
	call	ut_thread_asan_enter
#endif
	movq	%r13, %rdi
	call	*%r12
	movq	%rax, %rdi
	call	ut_thread_exit_ctx
	movq	%rbx, %rdi
	movq	%rax, %rsi
	jmp	ut_ctx_switch
	.cfi_endproc
	.size	ut_thread_entry, . - ut_thread_entry

	.section .note.GNU-stack, "", @progbits
