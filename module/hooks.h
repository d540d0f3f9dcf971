/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Attaching to the kernel: tracepoints found by name (they are not exported
 * to modules), and only where no tracepoint tells what cowtrace needs,
 * function-entry hooks (an ftrace callback, or a kprobe where ftrace cannot
 * trace the function) and kretprobes. A hook that cannot attach is kept
 * with the reason, for the stats view and for the columns that depend on it.
 */
#ifndef _COWTRACE_HOOKS_H
#define _COWTRACE_HOOKS_H

#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/seq_file.h>
#include <linux/tracepoint.h>

enum ct_hook_type {
	CT_HOOK_TRACEPOINT,
	CT_HOOK_KPROBE,
	CT_HOOK_KRETPROBE,
	/*
	 * A function's entry, given its first argument: through an ftrace
	 * callback, the path a kprobe on a function's entry takes without
	 * the kprobe layer (under TCG 26 guest instructions a call against
	 * 150); through a kprobe where ftrace cannot trace the function.
	 */
	CT_HOOK_FENTRY,
};

/*
 * Kernels built with DYNAMIC_FTRACE_WITH_ARGS (Debian's are) save a traced
 * function's arguments for ftrace callbacks: 6.12 and later read them with
 * ftrace_regs_get_argument(), 6.1's x86 ftrace_regs is a pt_regs. Without
 * either, function-entry hooks are kprobes.
 */
#if defined(CONFIG_DYNAMIC_FTRACE_WITH_ARGS) && defined(ftrace_regs_get_argument)
#define CT_HAVE_FTRACE_ARGS
#define ct_fregs_arg(fregs, n)	ftrace_regs_get_argument(fregs, n)
#elif defined(CONFIG_DYNAMIC_FTRACE_WITH_ARGS) && defined(CONFIG_X86_64)
#define CT_HAVE_FTRACE_ARGS
#define ct_fregs_arg(fregs, n)	regs_get_kernel_argument(&(fregs)->regs, n)
#endif

/* What a function-entry hook's handler reads the function's arguments from. */
struct ct_args {
	struct ftrace_regs *fregs;	/* through ftrace, or NULL */
	struct pt_regs *regs;		/* through a kprobe */
};

/* The traced function's argument @n: only those a handler needs are read. */
static __always_inline unsigned long ct_arg(const struct ct_args *a,
					    unsigned int n)
{
#ifdef CT_HAVE_FTRACE_ARGS
	if (a->fregs)
		return ct_fregs_arg(a->fregs, n);
#endif
	return regs_get_kernel_argument(a->regs, n);
}

/*
 * The two ways in to a function-entry handler, static __always_inline
 * void fn_entry(const struct ct_args *): an ftrace callback fn_ftrace and
 * a kprobe pre-handler fn_kprobe, each with the handler inlined (no
 * indirect call a fault). CT_FENTRY_HOOK() names them in a hook table.
 */
#define CT_ENTRY_HANDLER(fn)						\
static void notrace fn##_ftrace(unsigned long ip, unsigned long parent_ip, \
				struct ftrace_ops *op,			\
				struct ftrace_regs *fregs)		\
{									\
	const struct ct_args args = { .fregs = fregs };			\
									\
	fn##_entry(&args);						\
}									\
									\
static int fn##_kprobe(struct kprobe *p, struct pt_regs *regs)		\
{									\
	const struct ct_args args = { .regs = regs };			\
									\
	fn##_entry(&args);						\
	return 0;							\
}

#define CT_FENTRY_HOOK(name1, name2, fn)				\
	{								\
		.type = CT_HOOK_FENTRY,					\
		.names = { name1, name2 },				\
		.ftrace_func = fn##_ftrace,				\
		.kp = { .pre_handler = fn##_kprobe },			\
	}

struct ct_hook {
	enum ct_hook_type type;
	/* Tracepoint name, or kernel function names to try, in order. */
	const char *names[3];
	bool required;			/* the module cannot load without it */
	void *tp_probe;
	struct kprobe kp;
	struct kretprobe krp;
	ftrace_func_t ftrace_func;	/* a function-entry hook's, with kp's */
	/* Filled in by ct_hooks_attach(). */
	struct tracepoint *tp;
	struct ftrace_ops ops;
	bool via_ftrace;		/* a function-entry hook's way in */
	const char *attached;		/* the name attached to, or NULL */
	int err;			/* why it is not attached */
};

/*
 * A tracepoint calls its probes through its own prototype (under CFI, a
 * probe of another type is a fatal indirect call): check each probe against
 * the prototype in the kernel's trace header. Compile time only: the
 * tracepoint, which modules cannot reach, is not referenced.
 */
#define CT_TP_PROBE_CHECK(tp, probe)					\
	static_assert(__same_type(&register_trace_##tp,			\
				  int (*)(typeof(probe) *, void *)))

/*
 * Prototypes that changed, told apart by what the trace headers declare
 * (see Kbuild): 7.x passes clone flags as u64 and tells an exit whether
 * its thread group died.
 */
#ifdef CT_TP_NEWTASK_U64
#define CT_NEWTASK_PROTO \
	void *data, struct task_struct *task, u64 clone_flags
#else
#define CT_NEWTASK_PROTO \
	void *data, struct task_struct *task, unsigned long clone_flags
#endif

#ifdef CT_TP_EXIT_GROUP_DEAD
#define CT_EXIT_PROTO	void *data, struct task_struct *task, bool group_dead
#else
#define CT_EXIT_PROTO	void *data, struct task_struct *task
#endif

/* The skip_hooks parameter: hooks left out as if the kernel lacked them. */
bool ct_hook_skipped(const char *name);
/* The attach_pause_ms parameter: a pause after each hook attaches. */
void ct_attach_pause(void);

int ct_hooks_attach(struct ct_hook *hooks, unsigned int n);
void ct_hooks_detach(struct ct_hook *hooks, unsigned int n);
void ct_hooks_show(struct seq_file *m, const struct ct_hook *hooks,
		   unsigned int n);

#endif /* _COWTRACE_HOOKS_H */
