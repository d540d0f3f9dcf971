// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching hooks, with fallbacks between the names a kernel function has
 * on different kernel series, and detaching them so that no probe runs
 * once ct_hooks_detach() returns.
 */
#include <linux/kernel.h>
#include <linux/string.h>

#include "hooks.h"

struct ct_tp_lookup {
	const char *name;
	struct tracepoint *tp;
};

static void ct_tp_match(struct tracepoint *tp, void *priv)
{
	struct ct_tp_lookup *l = priv;

	if (!strcmp(tp->name, l->name))
		l->tp = tp;
}

static int ct_attach_tracepoint(struct ct_hook *h)
{
	struct ct_tp_lookup l = { .name = h->names[0] };
	int ret;

	for_each_kernel_tracepoint(ct_tp_match, &l);
	if (!l.tp)
		return -ENOENT;
	ret = tracepoint_probe_register(l.tp, h->tp_probe, NULL);
	if (ret)
		return ret;
	h->tp = l.tp;
	h->attached = h->names[0];
	return 0;
}

#ifdef CT_HAVE_FTRACE_ARGS
/*
 * Registered only once the filter names the function: an ops with an empty
 * filter would trace every function in the kernel.
 */
static int ct_attach_ftrace(struct ct_hook *h, const char *name)
{
	int ret;

	h->ops.func = h->ftrace_func;
	ret = ftrace_set_filter(&h->ops, (unsigned char *)name, strlen(name), 1);
	if (ret)
		return ret;
	ret = register_ftrace_function(&h->ops);
	if (ret)
		ftrace_set_filter(&h->ops, NULL, 0, 1);
	return ret;
}
#else
static int ct_attach_ftrace(struct ct_hook *h, const char *name)
{
	return -EOPNOTSUPP;
}
#endif

/*
 * A function-entry hook: through ftrace if it traces the function (a
 * notrace one, like wp_page_reuse(), it does not), else a kprobe.
 */
static int ct_attach_fentry(struct ct_hook *h, const char *name)
{
	if (!ct_attach_ftrace(h, name)) {
		h->via_ftrace = true;
		return 0;
	}
	h->kp.symbol_name = name;
	return register_kprobe(&h->kp);
}

static int ct_attach_probe(struct ct_hook *h)
{
	int i, ret = -ENOENT;

	for (i = 0; i < ARRAY_SIZE(h->names) && h->names[i]; i++) {
		if (h->type == CT_HOOK_FENTRY) {
			ret = ct_attach_fentry(h, h->names[i]);
		} else if (h->type == CT_HOOK_KPROBE) {
			h->kp.symbol_name = h->names[i];
			ret = register_kprobe(&h->kp);
		} else {
			h->krp.kp.symbol_name = h->names[i];
			ret = register_kretprobe(&h->krp);
		}
		if (!ret) {
			h->attached = h->names[i];
			return 0;
		}
		/* A fresh struct for the next name, as the API requires. */
		h->kp.addr = NULL;
		h->kp.flags = 0;
		h->krp.kp.addr = NULL;
		h->krp.kp.flags = 0;
	}
	return ret;
}

static void ct_detach_one(struct ct_hook *h)
{
	if (!h->attached)
		return;
	if (h->type == CT_HOOK_TRACEPOINT) {
		tracepoint_probe_unregister(h->tp, h->tp_probe, NULL);
	} else if (h->via_ftrace) {
		/* Returns once no CPU and no preempted task is in the callback. */
		unregister_ftrace_function(&h->ops);
		ftrace_set_filter(&h->ops, NULL, 0, 1);
		h->via_ftrace = false;
	} else if (h->type == CT_HOOK_KRETPROBE) {
		unregister_kretprobe(&h->krp);
	} else {
		unregister_kprobe(&h->kp);
	}
	h->attached = NULL;
}

/* Why a hook is not attached, in words for dmesg and the stats view. */
static const char *ct_hook_why(int err)
{
	switch (err) {
	case -ENOENT:
		return "not in this kernel";
	case -ECANCELED:
		return "left out: skip_hooks names it";
	default:
		return "refused by the kernel";
	}
}

/*
 * Attach every hook. One that cannot attach is reported and left out,
 * unless it is required: then the others are detached and the error
 * returned.
 */
int ct_hooks_attach(struct ct_hook *hooks, unsigned int n)
{
	struct ct_hook *h;
	unsigned int i;

	for (i = 0; i < n; i++) {
		h = &hooks[i];
		if (ct_hook_skipped(h->names[0]))
			h->err = -ECANCELED;
		else if (h->type == CT_HOOK_TRACEPOINT)
			h->err = ct_attach_tracepoint(h);
		else
			h->err = ct_attach_probe(h);
		if (!h->err) {
			ct_attach_pause();
			continue;
		}
		pr_warn("cannot attach to %s (%s): %s (error %d)%s\n",
			h->names[0],
			h->type == CT_HOOK_TRACEPOINT ? "tracepoint" :
			h->type == CT_HOOK_FENTRY ? "function entry" : "kprobe",
			ct_hook_why(h->err), h->err,
			h->required ? "; cannot load without it" : "");
		if (h->required) {
			ct_hooks_detach(hooks, i);
			return h->err;
		}
	}
	return 0;
}

/* Detach in reverse; no probe of these hooks runs after this returns. */
void ct_hooks_detach(struct ct_hook *hooks, unsigned int n)
{
	while (n--)
		ct_detach_one(&hooks[n]);
	tracepoint_synchronize_unregister();
}

void ct_hooks_show(struct seq_file *m, const struct ct_hook *hooks,
		   unsigned int n)
{
	static const char *const types[] = {
		[CT_HOOK_TRACEPOINT] = "tracepoint",
		[CT_HOOK_KPROBE] = "kprobe",
		[CT_HOOK_KRETPROBE] = "kretprobe",
		[CT_HOOK_FENTRY] = "ftrace",
	};
	const struct ct_hook *h;
	enum ct_hook_type type;
	unsigned int i;

	for (i = 0; i < n; i++) {
		h = &hooks[i];
		/* A function-entry hook shows the way it took: ftrace or kprobe. */
		type = h->type;
		if (type == CT_HOOK_FENTRY && h->attached && !h->via_ftrace)
			type = CT_HOOK_KPROBE;
		seq_printf(m, "hook %s %s ", types[type], h->names[0]);
		if (!h->attached) {
			seq_printf(m, "unavailable error %d (%s)\n", h->err,
				   ct_hook_why(h->err));
			continue;
		}
		seq_printf(m, "attached %s", h->attached);
		if (type == CT_HOOK_KPROBE)
			seq_printf(m, " missed %lu", h->kp.nmissed);
		else if (h->type == CT_HOOK_KRETPROBE)
			seq_printf(m, " missed %lu",
				   h->krp.kp.nmissed + h->krp.nmissed);
		seq_putc(m, '\n');
	}
}
