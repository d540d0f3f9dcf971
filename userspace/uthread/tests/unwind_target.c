// SPDX-License-Identifier: GPL-2.0
/*
 * Backtraces through the assembly context switch.  This program makes each
 * kind of switch at least once, so that the backtrace can be checked at
 * every instruction of each kind:
 *	main -> fresh thread		uthread_run() starts "first"
 *	thread -> fresh thread		"first" and "rounder" yield
 *	thread -> parked thread		with and without the MXCSR/x87 CW
 *					reload ("rounder" rounds upward)
 *	exiting thread -> its joiner	"rounder" returns
 *	uthread_exit() -> its joiner	"quitter", from a nested call
 *	last thread -> main		"first" returns, uthread_run() too
 * Two unwinders check it:
 *  - gdb, which single-steps it from tests/unwind.py (no arguments here);
 *  - libgcc's, the one of backtrace(), C++ exceptions and the sanitizers:
 *    with --self-step the program single-steps itself (the trap flag) and
 *    calls _Unwind_Backtrace() from the SIGTRAP handler.  gdb does not
 *    read the CFI at a ret of assembly code, it assumes a plain return
 *    there; libgcc reads it at every instruction.
 * The checks are the same (tests/unwind.py explains them), and the
 * expected values come from registers and memory, never from an unwinder.
 */
#include <dlfcn.h>
#include <elf.h>
#include <fenv.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unwind.h>

#include "uthread_int.h"

static volatile int work;
static int token;		/* first's argument, and so its result */

static __attribute__((noinline)) void park(void)
{
	uthread_yield();
	work++;		/* no tail call: park stays a frame */
}

static __attribute__((noinline)) void bail_out(void)
{
	uthread_exit(NULL);
	work++;
}

static void *rounder(void *arg)
{
	/* Differs from the scheduler's FP environment: switches reload it */
	fesetround(FE_UPWARD);
	park();
	work++;
	return arg;
}

static void *quitter(void *arg)
{
	park();
	bail_out();
	return arg;
}

static void *first(void *arg)
{
	uthread_t a, b;

	if (uthread_create(&a, 0, rounder, NULL) ||
	    uthread_create(&b, 0, quitter, NULL))
		return NULL;
	park();
	if (uthread_join(a, NULL) || uthread_join(b, NULL))
		return NULL;
	return arg;
}

static int run(void)
{
	void *ret = NULL;
	int err;

	err = uthread_run(first, &token, &ret);
	if (err || ret != &token) {
		fprintf(stderr, "# uthread_run: %d\n", err);
		return 1;
	}
	return 0;
}

#if UT_SWITCH_ASM
/* ---------------------------------------------------- --self-step mode */

/*
 * dladdr() finds main, ut_ctx_switch and ut_thread_entry (the Makefile links
 * with -rdynamic); nothing else needs a name.
 */

#define MAX_FRAMES	32
#define MAX_SWITCHES	32
#define MAX_PARKED	8
#define X86_EFLAGS_TF	0x100l

/* The caller's callee-saved registers, rbx rbp r12-r15, by DWARF number */
#define NREGS	6
#define W_SP	NREGS
#define W_PC	(NREGS + 1)

static const int dw_reg[NREGS] = { 3, 6, 12, 13, 14, 15 };
static const char *const reg_name[NREGS + 2] = {
	"rbx", "rbp", "r12", "r13", "r14", "r15", "rsp", "pc"
};

/* The frames beyond the interrupted one, and the caller's registers */
struct walk {
	uintptr_t pc;			/* the interrupted instruction */
	bool past_pc;
	int n;
	uintptr_t ip[MAX_FRAMES];
	uintptr_t reg[NREGS + 2];	/* + rsp, pc */
};

static struct {
	uintptr_t ctx;
	struct walk callers;
} parked[MAX_PARKED];

/* The switch being stepped: what its caller and the resumed thread are */
static struct {
	int n;
	uintptr_t sp, to_sp;
	bool fresh;
	uintptr_t at_call[NREGS + 2];
	uintptr_t resumed[NREGS + 2];
	struct walk callers;
	const struct walk *resumed_callers;
} sw;

static uintptr_t sw_lo, sw_hi;	/* ut_ctx_switch */
static int nproblems, nsteps, kind_reload, kind_exit, kind_fresh;
static int kind_resume, kind_from_main, kind_to_main;
static char first_problem[MAX_SWITCHES + 1][200];
static char altstack[256 * 1024];

static bool in_func(uintptr_t ip, const char *name)
{
	const Elf64_Sym *sym;
	Dl_info info;

	if (!dladdr1((void *)ip, &info, (void **)&sym, RTLD_DL_SYMENT) ||
	    !info.dli_sname || !sym)
		return false;
	return !strcmp(info.dli_sname, name) &&
	       ip - (uintptr_t)info.dli_saddr < sym->st_size;
}

static _Unwind_Reason_Code walk_frame(struct _Unwind_Context *ctx, void *arg)
{
	struct walk *w = arg;
	int before = 0;
	uintptr_t ip = _Unwind_GetIPInfo(ctx, &before);
	size_t i;

	if (!w->past_pc) {
		w->past_pc = ip == w->pc;
		return _URC_NO_REASON;
	}
	/* libgcc reports one frame with ip 0 after the outermost */
	if (!ip || w->n == MAX_FRAMES)
		return _URC_NO_REASON;
	if (!w->n) {
		for (i = 0; i < NREGS; i++)
			w->reg[i] = _Unwind_GetGR(ctx, dw_reg[i]);
		/*
		 * libgcc keeps no %rsp in a caller's context; this is the
		 * CFA it computed for the frame below, which is the same.
		 */
		w->reg[W_SP] = _Unwind_GetCFA(ctx);
		w->reg[W_PC] = ip;
	}
	/* A return address: the call is the byte before */
	w->ip[w->n++] = ip - !before;
	return _URC_NO_REASON;
}

static void walk(struct walk *w, uintptr_t pc)
{
	memset(w, 0, sizeof(*w));
	w->pc = pc;
	_Unwind_Backtrace(walk_frame, w);
}

static bool through_main(const struct walk *w)
{
	int i;

	for (i = 0; i < w->n; i++)
		if (in_func(w->ip[i], "main"))
			return true;
	return false;
}

/* Ends at ut_thread_entry (a user thread) or runs through main */
static bool chain_ok(const struct walk *w)
{
	return (w->n && in_func(w->ip[w->n - 1], "ut_thread_entry")) ||
	       through_main(w);
}

/* Count a problem; keep the first of each switch for the report */
static __attribute__((format(printf, 2, 3)))
void problem(uintptr_t pc, const char *fmt, ...)
{
	char *p = first_problem[sw.n < MAX_SWITCHES ? sw.n : MAX_SWITCHES];
	size_t size = sizeof(first_problem[0]);
	va_list ap;
	int len;

	nproblems++;
	if (*p)
		return;
	if (pc >= sw_lo && pc < sw_hi)
		len = snprintf(p, size, "switch %d (%s), ut_ctx_switch+%lu: ",
			       sw.n, sw.fresh ? "fresh" : "resume",
			       (unsigned long)(pc - sw_lo));
	else
		len = snprintf(p, size, "switch %d (fresh), ut_thread_entry: ",
			       sw.n);
	if (len < 0 || (size_t)len >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(p + len, size - len, fmt, ap);
	va_end(ap);
}

static void check(uintptr_t pc, const struct walk *w, const uintptr_t *reg,
		  const struct walk *callers)
{
	size_t i;
	int f;

	if (!w->n) {
		problem(pc, "no caller frame: the backtrace stops here");
		return;
	}
	for (i = 0; i < NREGS + 2; i++)
		if (w->reg[i] != reg[i])
			problem(pc, "caller's %s %#lx, not %#lx", reg_name[i],
				(unsigned long)w->reg[i],
				(unsigned long)reg[i]);
	if (!chain_ok(w))
		problem(pc, "backtrace ends short of main and ut_thread_entry, at %#lx",
			(unsigned long)w->ip[w->n - 1]);
	if (!callers)
		return;
	if (w->n != callers->n)
		problem(pc, "%d frames, not %d", w->n, callers->n);
	for (f = 0; f < w->n && f < callers->n; f++)
		if (w->ip[f] != callers->ip[f])
			problem(pc, "frame %d at %#lx, not %#lx", f + 1,
				(unsigned long)w->ip[f],
				(unsigned long)callers->ip[f]);
}

/* At the first instruction: the caller, and the thread to resume */
static void switch_begins(uintptr_t pc, const greg_t *g)
{
	const struct ut_ctx *to = (const struct ut_ctx *)g[REG_RSI];
	uintptr_t from = g[REG_RDI];
	int i, slot = -1;

	sw.n++;
	sw.sp = g[REG_RSP];
	sw.to_sp = to->rsp;
	sw.fresh = to->fresh;
	sw.at_call[0] = g[REG_RBX];
	sw.at_call[1] = g[REG_RBP];
	sw.at_call[2] = g[REG_R12];
	sw.at_call[3] = g[REG_R13];
	sw.at_call[4] = g[REG_R14];
	sw.at_call[5] = g[REG_R15];
	sw.at_call[W_SP] = sw.sp + 8;
	sw.at_call[W_PC] = *(uintptr_t *)sw.sp;
	walk(&sw.callers, pc);
	if (through_main(&sw.callers))
		kind_from_main++;
	if (sw.callers.n && in_func(sw.callers.ip[0], "ut_thread_entry"))
		kind_exit++;

	for (i = 0; i < MAX_PARKED; i++)
		if (parked[i].ctx == from || (!parked[i].ctx && slot < 0))
			slot = i;
	if (slot >= 0) {
		parked[slot].ctx = from;
		parked[slot].callers = sw.callers;
	}

	sw.resumed_callers = NULL;
	if (sw.fresh) {
		kind_fresh++;
		return;
	}
	kind_resume++;
	sw.resumed[0] = to->rbx;
	sw.resumed[1] = to->rbp;
	sw.resumed[2] = to->r12;
	sw.resumed[3] = to->r13;
	sw.resumed[4] = to->r14;
	sw.resumed[5] = to->r15;
	sw.resumed[W_SP] = to->rsp + 8;
	sw.resumed[W_PC] = *(uintptr_t *)to->rsp;
	for (i = 0; i < MAX_PARKED; i++)
		if (parked[i].ctx == (uintptr_t)to)
			sw.resumed_callers = &parked[i].callers;
	if (!sw.resumed_callers)
		problem(pc, "resumes a context never seen parking");
	else if (through_main(sw.resumed_callers))
		kind_to_main++;
}

/*
 * Runs before each instruction while the trap flag is set.  It calls what
 * is not async-signal-safe (the unwinder, dladdr(), snprintf()) only when
 * interrupting the switch, which holds no lock of any kind.
 */
static void on_trap(int sig, siginfo_t *si, void *uc_)
{
	const greg_t *g = ((ucontext_t *)uc_)->uc_mcontext.gregs;
	uintptr_t pc = g[REG_RIP];
	const unsigned char *insn = (const unsigned char *)pc;
	uintptr_t sp = g[REG_RSP];
	struct walk w;

	(void)sig;
	(void)si;
	nsteps++;
	if (pc == (uintptr_t)ut_thread_entry) {
		/* Entered from a fresh switch: nothing beyond it */
		walk(&w, pc);
		if (w.n)
			problem(pc, "%d frames beyond it", w.n);
		return;
	}
	if (pc < sw_lo || pc >= sw_hi)
		return;
	if (pc == sw_lo)
		switch_begins(pc, g);
	/* ldmxcsr is 0f ae /2 */
	if (insn[0] == 0x0f && insn[1] == 0xae && ((insn[2] >> 3) & 7) == 2)
		kind_reload++;
	walk(&w, pc);
	if (sp == sw.sp)
		check(pc, &w, sw.at_call, &sw.callers);
	else if (sp != sw.to_sp)
		problem(pc, "rsp %#lx, neither the caller's %#lx nor %#lx",
			(unsigned long)sp, (unsigned long)sw.sp,
			(unsigned long)sw.to_sp);
	else if (!sw.fresh)
		check(pc, &w, sw.resumed, sw.resumed_callers);
	else if (w.n)
		problem(pc, "%d frames beyond the switch on a fresh stack",
			w.n);
}

/*
 * pushfq writes below %rsp, where the compiler may keep data of its own
 * (the red zone): step past those 128 bytes first.
 */
static void trap_flag(bool on)
{
	if (on)
		__asm__ volatile ("leaq -128(%%rsp), %%rsp\n\tpushfq\n\t"
				  "orq %0, (%%rsp)\n\tpopfq\n\t"
				  "leaq 128(%%rsp), %%rsp"
				  : : "i" (X86_EFLAGS_TF) : "cc", "memory");
	else
		__asm__ volatile ("leaq -128(%%rsp), %%rsp\n\tpushfq\n\t"
				  "andq %0, (%%rsp)\n\tpopfq\n\t"
				  "leaq 128(%%rsp), %%rsp"
				  : : "i" (~X86_EFLAGS_TF) : "cc", "memory");
}

static int self_step(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = {
		.sa_sigaction = on_trap,
		.sa_flags = SA_SIGINFO | SA_ONSTACK,
	};
	const Elf64_Sym *sym;
	Dl_info info;
	int i, err;

	/* Needs -rdynamic: dladdr() sees only the dynamic symbol table */
	if (!dladdr1((void *)ut_ctx_switch, &info, (void **)&sym,
		     RTLD_DL_SYMENT) || !sym || !sym->st_size) {
		printf("# ut_ctx_switch not in the dynamic symbol table\n");
		return 1;
	}
	sw_lo = (uintptr_t)ut_ctx_switch;
	sw_hi = sw_lo + sym->st_size;
	if (sigaltstack(&ss, NULL) || sigaction(SIGTRAP, &sa, NULL)) {
		perror("# sigaltstack/sigaction");
		return 1;
	}

	trap_flag(true);
	err = run();
	trap_flag(false);

	if (!kind_from_main || !kind_to_main || !kind_fresh || !kind_resume ||
	    !kind_reload || !kind_exit) {
		printf("# not every kind of switch seen\n");
		nproblems++;
	}
	for (i = 0; i <= MAX_SWITCHES; i++)
		if (first_problem[i][0])
			printf("# %s\n", first_problem[i]);
	printf("# %d switches (from-main %d, to-main %d, fresh %d, resume %d, ",
	       sw.n, kind_from_main, kind_to_main, kind_fresh, kind_resume);
	printf("reload %d, exit %d), %d steps: %d problems\n",
	       kind_reload, kind_exit, nsteps, nproblems);
	return err || nproblems;
}
#else
static int self_step(void)
{
	printf("# no assembly switch in this build\n");
	return 1;
}
#endif

int main(int argc, char **argv)
{
	int err;

	if (argc > 1 && !strcmp(argv[1], "--self-step"))
		err = self_step();
	else
		err = run();
	work++;		/* no tail call: main stays a frame */
	return err;
}
