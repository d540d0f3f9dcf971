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
 *    2-byte stores cannot be store-forwarded and stalls ~10 ns.  MXCSR is
 *    stored whole but compared on its control bits only (6-15, mask
 *    0xffc0): its sticky status flags (0-5) are caller-saved, so raised
 *    flags alone never cost a reload.  A reload, when the control bits or
 *    the x87 CW differ, loads @to's whole saved word, flags included;
 *    otherwise @to sees the flags as the outgoing thread left them.
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
 *  - Unwinding: debuggers and DWARF unwinders (libgcc's, behind
 *    backtrace()) read the CFI below, which describes every instruction
 *    (tests/unwind_test.sh checks each one).  Until %rsp moves, the frame
 *    is the caller's call; once the loads from @to overwrite the caller's
 *    callee-saved registers, the CFI finds them in @from through %rdi,
 *    which nothing here writes.  Once %rsp moves, the frame is @to's own
 *    call, its registers back in place, or for a fresh @to an outermost
 *    frame.  Hence the test for fresh before %rsp moves, and the return
 *    address that an exiting thread leaves on its stack before its jump
 *    here (see ut_thread_entry).
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

/*
 * CFI that the .cfi_* directives cannot spell: "the caller's register is
 * saved at offset(%rdi)" is DW_CFA_expression (register, 2-byte DWARF
 * expression DW_OP_breg5 offset); DWARF numbers %rdi 5, %rbx 3, %rbp 6,
 * %r12-%r15 12-15 (x86-64 psABI).  The offset is a one-byte SLEB128, so
 * it must stay below 64.
 */
#define DW_CFA_expression	0x10
#define DW_OP_breg_rdi		0x75
#define CFI_SAVED_IN_FROM(dwreg, off) \
	.cfi_escape DW_CFA_expression, dwreg, 2, DW_OP_breg_rdi, off
#if UT_CTX_R15 >= 64
#error "CFI_SAVED_IN_FROM encodes offsets below 64 only"
#endif

	.text
	.globl	ut_ctx_switch
	.type	ut_ctx_switch, @function
	.p2align 4
ut_ctx_switch:
	.cfi_startproc
	movq	%rsp, UT_CTX_RSP(%rdi)
	movq	%rbx, UT_CTX_RBX(%rdi)
	movq	%rbp, UT_CTX_RBP(%rdi)
	movq	%r12, UT_CTX_R12(%rdi)
	movq	%r13, UT_CTX_R13(%rdi)
	movq	%r14, UT_CTX_R14(%rdi)
	movq	%r15, UT_CTX_R15(%rdi)
	stmxcsr	UT_CTX_MXCSR(%rdi)
	fnstcw	UT_CTX_FPUCW(%rdi)
	/*
	 * The loads below overwrite the caller's registers; from here until
	 * %rsp moves, unwinders find them in @from (%rdi is never written).
	 */
	CFI_SAVED_IN_FROM(3, UT_CTX_RBX)
	CFI_SAVED_IN_FROM(6, UT_CTX_RBP)
	CFI_SAVED_IN_FROM(12, UT_CTX_R12)
	CFI_SAVED_IN_FROM(13, UT_CTX_R13)
	CFI_SAVED_IN_FROM(14, UT_CTX_R14)
	CFI_SAVED_IN_FROM(15, UT_CTX_R15)

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
	/*
	 * Test @to's fresh flag before moving %rsp, not after: from the move
	 * on, the frame is a parked thread's call or a fresh stack's
	 * outermost frame, and CFI tells them apart by the address alone.
	 */
	cmpb	$0, UT_CTX_FRESH(%rsi)
	jne	3f
	movq	UT_CTX_RSP(%rsi), %rsp
	/* @to's own call of this function, its registers all back in place */
	.cfi_remember_state
	.cfi_restore rbx
	.cfi_restore rbp
	.cfi_restore r12
	.cfi_restore r13
	.cfi_restore r14
	.cfi_restore r15
	/* uthread_yield() tail-calls us as ut_ctx_switch_ret0() */
	xorl	%eax, %eax
	ret
	.cfi_restore_state
1:
	ldmxcsr	UT_CTX_MXCSR(%rsi)
	fldcw	UT_CTX_FPUCW(%rsi)
	jmp	2b
3:
	movb	$0, UT_CTX_FRESH(%rsi)
	movq	UT_CTX_RSP(%rsi), %rsp
	/* Nothing called us on a fresh stack: the outermost frame */
	.cfi_undefined rip
	jmp	ut_thread_entry
	.cfi_endproc
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
	/*
	 * A return address for unwinders, so that the switch's caller is this
	 * outermost frame, not the word at the stack top (the TCB).  The slot
	 * below %rsp still holds the one the call above pushed: a signal
	 * cannot have overwritten it, the kernel skips the 128-byte red zone.
	 * Taking it back is free; pushing one of our own cost ~0.3 ns per
	 * create+join, and a call would unbalance the return-stack buffer.
	 */
	leaq	-8(%rsp), %rsp
	.cfi_adjust_cfa_offset 8
	jmp	ut_ctx_switch
	.cfi_endproc
	.size	ut_thread_entry, . - ut_thread_entry

	.section .note.GNU-stack, "", @progbits
