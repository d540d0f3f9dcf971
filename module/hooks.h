/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Attaching to the kernel: tracepoints found by name (they are not exported
 * to modules), and kprobes or kretprobes only where no tracepoint tells what
 * cowtrace needs. A hook that cannot attach is kept with the reason, for the
 * stats view and for the columns that depend on it.
 */
#ifndef _COWTRACE_HOOKS_H
#define _COWTRACE_HOOKS_H

#include <linux/kprobes.h>
#include <linux/seq_file.h>
#include <linux/tracepoint.h>

enum ct_hook_type { CT_HOOK_TRACEPOINT, CT_HOOK_KPROBE, CT_HOOK_KRETPROBE };

struct ct_hook {
	enum ct_hook_type type;
	/* Tracepoint name, or kernel function names to try, in order. */
	const char *names[3];
	bool required;			/* the module cannot load without it */
	void *tp_probe;
	struct kprobe kp;
	struct kretprobe krp;
	/* Filled in by ct_hooks_attach(). */
	struct tracepoint *tp;
	const char *attached;		/* the name attached to, or NULL */
	int err;			/* why it is not attached */
};

int ct_hooks_attach(struct ct_hook *hooks, unsigned int n);
void ct_hooks_detach(struct ct_hook *hooks, unsigned int n);
void ct_hooks_show(struct seq_file *m, const struct ct_hook *hooks,
		   unsigned int n);

#endif /* _COWTRACE_HOOKS_H */
