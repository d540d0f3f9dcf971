// SPDX-License-Identifier: GPL-2.0
/*
 * Per-task fault accounting.
 *
 * How many faults a task took, and how many were major, the kernel counts
 * itself (min_flt, maj_flt): the views read those, exact whatever happens
 * here. What kind each fault was, no tracepoint tells. An ftrace callback
 * on the entry of handle_mm_fault() opens a try in the task's row; hooks
 * on the entry of the functions that resolve it leave markers there; the
 * markers decide the try's one kind. A try is classified only if the
 * kernel's mm_account_fault() counted it (not on VM_FAULT_RETRY: the retry
 * is counted; not on VM_FAULT_ERROR), which the task's own counts tell:
 * exactly one more fault than at the try's entry. No return probe is
 * needed for that (a kretprobe costs twenty times an ftrace callback): the
 * task classifies its try when it makes the next one or exits, and a
 * reader classifies an open try on the fly. Only while cowtrace:fault is
 * recorded does a kretprobe close each try where it returns, so that the
 * event comes at the fault's end, from its stack.
 *
 * A fault inside the handling of another (a rare driver's) closes the
 * outer try before it was counted: the outer fault shows as unclassified,
 * as does any fault the module could not see (the kernel's count less the
 * classified ones).
 *
 * These functions have the same names and first arguments on the 6.1 and
 * 6.12 series, except the one that installs a new anonymous page, which
 * was converted to folios in between.
 */
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#ifdef CT_HAVE_LEAFOPS
#include <linux/leafops.h>
#endif

#include "cowtrace.h"
#include "hooks.h"
#include "task.h"
#include "trace.h"

/* Markers left by the functions a fault went through. */
#define CT_F_WP		BIT(0)	/* do_wp_page(): write to a write-protected pte */
#define CT_F_REUSE	BIT(1)	/* wp_page_reuse(): made writable in place */
#define CT_F_NEW_ANON	BIT(2)	/* a new anonymous page was mapped */
#define CT_F_SWAP	BIT(3)	/* do_swap_page() */
#define CT_F_THP_ANON	BIT(4)	/* a huge page mapped whole, no fallback */
#define CT_F_THP_REUSE	BIT(5)	/* a huge page reused whole, no fallback */
#define CT_F_OTHER	BIT(6)	/* a migration, device or hwpoison entry */

/* What the faulting VMA is, read at entry while the fault holds it. */
#define CT_VMA_ANON	BIT(0)
#define CT_VMA_SHARED	BIT(1)
#define CT_VMA_FILE	BIT(2)

/* The page a write-protect fault found mapped. */
enum ct_src { CT_SRC_NONE, CT_SRC_ZERO, CT_SRC_ANON, CT_SRC_FILE };

/*
 * The current task's open try, if it is tracked and has one. Only the task
 * itself writes its try, so it needs no lock here.
 */
static struct ct_try *ct_current_try(void)
{
	struct ct_task *ct;
	struct ct_try *t = NULL;

	/*
	 * Preemption off is a read-side section of RCU, which frees rows
	 * (cheaper than rcu_read_lock(), a call each way on these kernels).
	 */
	preempt_disable();
	ct = ct_task_lookup(current);
	if (ct && ct->try.open)
		t = &ct->try;
	preempt_enable();
	/* Only its own exit frees a live row: it outlives this fault. */
	return t;
}

/* Readers read markers only once the kernel counted the try: see below. */
static void ct_mark(u8 marker)
{
	struct ct_try *t = ct_current_try();

	if (t)
		WRITE_ONCE(t->markers, t->markers | marker);
}

static u8 ct_vma_kind(struct vm_area_struct *vma)
{
	u8 kind = 0;

	if (vma_is_anonymous(vma))
		kind |= CT_VMA_ANON;
	if (vma->vm_flags & VM_SHARED)
		kind |= CT_VMA_SHARED;
	if (vma->vm_file)
		kind |= CT_VMA_FILE;
	return kind;
}

static enum cowtrace_counter ct_fault_kind(const struct ct_try *f)
{
	if (f->markers & CT_F_SWAP)
		return COWTRACE_FAULT_SWAP;
	if (f->markers & CT_F_OTHER)
		return COWTRACE_FAULT_OTHER;
	if (f->markers & CT_F_THP_ANON)
		return COWTRACE_THP_ANON;
	if (f->markers & CT_F_THP_REUSE)
		return COWTRACE_THP_REUSE;
	if (f->markers & CT_F_WP) {
		if (f->markers & CT_F_NEW_ANON)
			return f->src == CT_SRC_ZERO ? COWTRACE_COW_ZERO : COWTRACE_COW_COPY;
		if (f->vma & CT_VMA_SHARED)
			return COWTRACE_WP_SHARED;
		if (f->markers & CT_F_REUSE)
			return COWTRACE_COW_REUSE;
		return COWTRACE_FAULT_OTHER;
	}
	if (f->vma & CT_VMA_ANON)
		return COWTRACE_FAULT_ANON;
	/* A private file page written before it was mapped: do_cow_fault(). */
	if (f->markers & CT_F_NEW_ANON)
		return COWTRACE_COW_COPY;
	if (f->vma & CT_VMA_FILE)
		return COWTRACE_FAULT_FILE;
	return COWTRACE_FAULT_OTHER;
}

/* The vm_fault_t a probed fault handler returned. */
static vm_fault_t ct_fault_ret(struct pt_regs *regs)
{
	return (__force vm_fault_t)regs_return_value(regs);
}

/*
 * Whether cowtrace:fault is being recorded. The benchmark's build without
 * the event (CT_BENCH_NO_EVENT) never asks: beside it, what the event
 * costs while disabled is measured.
 */
static bool ct_fault_traced(void)
{
#ifdef CT_BENCH_NO_EVENT
	return false;
#else
	return trace_fault_enabled();
#endif
}

/* handle_mm_fault(vma, address, flags, regs): regs is NULL for GUP. */
static void ct_fault_site(struct ct_fault_site *site,
			  struct vm_area_struct *vma, unsigned long address,
			  struct pt_regs *uregs)
{
	struct inode *inode;

	site->address = address;
	site->ip = uregs && user_mode(uregs) ? instruction_pointer(uregs) : 0;
	site->ino = 0;
	site->dev = 0;
	site->pgoff = linear_page_index(vma, address);
	if (vma->vm_file) {
		inode = file_inode(vma->vm_file);
		site->ino = inode->i_ino;
		site->dev = inode->i_sb->s_dev;
	}
}

/*
 * The slots a try the kernel counted adds one to: classified, its kind, and
 * for a copy whose page it copied (an anonymous page's or a file's). The
 * task closing its try and a reader classifying it on the fly both count
 * by these. Returns how many; slot[1] is the kind.
 */
static unsigned int ct_try_slots(const struct ct_try *t, unsigned int *slot)
{
	slot[0] = CT_CLASSIFIED;
	slot[1] = ct_fault_kind(t);
	if (slot[1] != COWTRACE_COW_COPY)
		return 2;
	slot[2] = t->src == CT_SRC_ANON ? COWTRACE_COW_COPY_ANON :
					  COWTRACE_COW_COPY_FILE;
	return 3;
}

/*
 * The task closes its own try: classified if the kernel counted exactly
 * this one fault since it opened, and recorded if the event was wanted
 * when it opened. Caller has preemption off, inside a write of t->seq.
 */
static void ct_try_close(struct ct_task *ct, struct task_struct *task)
{
	struct ct_try *t = &ct->try;
	u64 major = READ_ONCE(task->maj_flt);
	unsigned int slot[3], n, i, kind;

	if (!t->open)
		return;
	WRITE_ONCE(t->open, false);
	if (READ_ONCE(task->min_flt) + major != t->seen + 1)
		return;
	n = ct_try_slots(t, slot);
	for (i = 0; i < n; i++)
		ct_count(ct, slot[i]);
	kind = slot[1];
	if (t->traced && ct_fault_traced())
		trace_fault(t->site.address, t->site.ip, ct_counter_names[kind],
			    kind, t->flags & FAULT_FLAG_WRITE,
			    major != t->seen_major, t->site.dev, t->site.ino,
			    t->site.pgoff);
}

static void ct_try_write_begin(struct ct_try *t)
{
	preempt_disable();
	write_seqcount_begin(&t->seq);
}

static void ct_try_write_end(struct ct_try *t)
{
	write_seqcount_end(&t->seq);
	preempt_enable();
}

/* A try of the current task begins: what the kernel has counted so far. */
static __always_inline void ct_try_open(struct ct_try *t,
					const struct ct_args *args)
{
	struct vm_area_struct *vma = (struct vm_area_struct *)ct_arg(args, 0);

	t->seen_major = READ_ONCE(current->maj_flt);
	t->seen = READ_ONCE(current->min_flt) + t->seen_major;
	t->flags = ct_arg(args, 2);
	t->markers = 0;
	t->vma = ct_vma_kind(vma);
	t->src = CT_SRC_NONE;
	t->traced = ct_fault_traced();
	if (t->traced)
		ct_fault_site(&t->site, vma, ct_arg(args, 1),
			      (struct pt_regs *)ct_arg(args, 3));
	WRITE_ONCE(t->open, true);
}

/*
 * The bracket: the entry of handle_mm_fault(vma, address, flags, regs).
 * The task's previous try is closed, a new one opened for a tracked task.
 */
static __always_inline void ct_hmf_entry(const struct ct_args *args)
{
	struct ct_task *ct;
	struct ct_try *t;

	/* An RCU read-side section, and the try's writer is not preempted. */
	preempt_disable();
	ct = ct_task_lookup(current);
	if (unlikely(!ct)) {
		/*
		 * A task older than the module: its row is made (the
		 * filter read) under rcu_read_lock() proper.
		 */
		rcu_read_lock();
		ct = ct_task_get_current();
		rcu_read_unlock();
	}
	if (ct) {
		t = &ct->try;
		write_seqcount_begin(&t->seq);
		ct_try_close(ct, current);
		if (READ_ONCE(ct->tracked))
			ct_try_open(t, args);
		write_seqcount_end(&t->seq);
	}
	preempt_enable();
}

CT_ENTRY_HANDLER(ct_hmf)

/*
 * The current task closes its own try: at its exit (its last try counts
 * before it goes) and, while the event is recorded, where a try returns.
 */
void ct_fault_close_own(struct ct_task *ct)
{
	ct_try_write_begin(&ct->try);
	ct_try_close(ct, current);
	ct_try_write_end(&ct->try);
}

/*
 * A live task's row as a reader sees it. The kernel's counts are read
 * first: if they hold the open try, the markers it left were written
 * before the kernel counted it (the fault's page-table unlock orders
 * them), so the copy taken after sees them all; a try closed meanwhile
 * shows in the counters instead, never in both (the sequence count).
 */
void ct_fault_read(struct ct_task *ct, struct task_struct *task, u64 *raw)
{
	u64 major = READ_ONCE(task->maj_flt);
	u64 faults = READ_ONCE(task->min_flt) + major;
	unsigned int seq, i, n, slot[3];
	struct ct_try t;

	/* The kernel's counts before the try's markers: see above. */
	smp_rmb();
	do {
		seq = read_seqcount_begin(&ct->try.seq);
		for (i = 0; i < CT_NR_SLOTS; i++)
			raw[i] = READ_ONCE(ct->count[i]);
		t.open = READ_ONCE(ct->try.open);
		t.seen = READ_ONCE(ct->try.seen);
		t.markers = READ_ONCE(ct->try.markers);
		t.vma = READ_ONCE(ct->try.vma);
		t.src = READ_ONCE(ct->try.src);
	} while (read_seqcount_retry(&ct->try.seq, seq));
	if (t.open && faults == t.seen + 1) {
		n = ct_try_slots(&t, slot);
		for (i = 0; i < n; i++)
			raw[slot[i]]++;
	}
	raw[COWTRACE_FAULT_MAJOR] = major;
	raw[COWTRACE_FAULTS] = faults;
}

/*
 * The classifiers are function-entry hooks (hooks.h): each is given the
 * first arguments of the function it hooks.
 *
 * do_wp_page(vmf) runs with the pte locked: the page it names is stable.
 */
static __always_inline void ct_wp_entry(const struct ct_args *args)
{
	struct vm_fault *vmf = (struct vm_fault *)ct_arg(args, 0);
	struct ct_try *t = ct_current_try();
	unsigned long pfn;
	u8 src = CT_SRC_NONE;

	if (!t)
		return;
	pfn = pte_pfn(vmf->orig_pte);
	if (is_zero_pfn(pfn))
		src = CT_SRC_ZERO;
	else if (t->vma & CT_VMA_ANON)
		src = CT_SRC_ANON;	/* all an anonymous VMA maps, KSM's too */
	else if (pfn_valid(pfn))
		src = PageAnon(pfn_to_page(pfn)) ? CT_SRC_ANON : CT_SRC_FILE;
	WRITE_ONCE(t->src, src);
	WRITE_ONCE(t->markers, t->markers | CT_F_WP);
}

CT_ENTRY_HANDLER(ct_wp)

static __always_inline void ct_reuse_entry(const struct ct_args *args)
{
	ct_mark(CT_F_REUSE);
}

CT_ENTRY_HANDLER(ct_reuse)

static __always_inline void ct_new_anon_entry(const struct ct_args *args)
{
	ct_mark(CT_F_NEW_ANON);
}

CT_ENTRY_HANDLER(ct_new_anon)

/*
 * do_swap_page(vmf) handles every non-present entry that is not none: only
 * a real swap entry is a swap-in. A migration, device-private or hwpoison
 * entry brings nothing in (the fault waits, or fails, and is "other"); a
 * pte marker (userfaultfd write protection kept over a zap) goes on to the
 * fault the marker stood for, and that decides its kind.
 */
#ifdef CT_HAVE_LEAFOPS
/* Newer kernels (7.x) read non-present entries as "software leaf" ones. */
static __always_inline void ct_swap_entry(const struct ct_args *args)
{
	struct vm_fault *vmf = (struct vm_fault *)ct_arg(args, 0);
	softleaf_t entry = softleaf_from_pte(vmf->orig_pte);

	if (softleaf_is_swap(entry))
		ct_mark(CT_F_SWAP);
	else if (!softleaf_is_marker(entry))
		ct_mark(CT_F_OTHER);
}
#else
static __always_inline void ct_swap_entry(const struct ct_args *args)
{
	struct vm_fault *vmf = (struct vm_fault *)ct_arg(args, 0);
	swp_entry_t entry = pte_to_swp_entry(vmf->orig_pte);

	if (!non_swap_entry(entry))
		ct_mark(CT_F_SWAP);
	else if (!is_pte_marker_entry(entry))
		ct_mark(CT_F_OTHER);
}
#endif

CT_ENTRY_HANDLER(ct_swap)

/* The huge-page handlers: did they map the fault whole, or fall back? */
static int ct_thp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return !ct_current_try();
}

static int ct_thp_anon_return(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	if (!(ct_fault_ret(regs) & VM_FAULT_FALLBACK))
		ct_mark(CT_F_THP_ANON);
	return 0;
}

static int ct_thp_wp_return(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	if (!(ct_fault_ret(regs) & VM_FAULT_FALLBACK))
		ct_mark(CT_F_THP_REUSE);
	return 0;
}

/*
 * Faults sleep (major faults wait for I/O, userfaultfd faults for their
 * handler), so many tries can be in flight at once: room for plenty. The
 * stats view shows the misses, the unclassified column their faults.
 */
#define CT_MAXACTIVE	512

#define CT_KRETPROBE(name1, entry, ret, size)				\
	{								\
		.type = CT_HOOK_KRETPROBE,				\
		.names = { name1 },					\
		.krp = {						\
			.entry_handler = entry,				\
			.handler = ret,					\
			.data_size = size,				\
			.maxactive = CT_MAXACTIVE,			\
		},							\
	}

/*
 * The classifiers attach first and the fault bracket last, and detach in
 * reverse: a try is opened only while every marker it could leave is being
 * left, never classified by what a missing classifier decided.
 */
enum {
	CT_HOOK_WP,
	CT_HOOK_REUSE,
	CT_HOOK_NEW_ANON,
	CT_HOOK_SWAP,
	CT_HOOK_THP_ANON,
	CT_HOOK_THP_WP,
	CT_HOOK_HMF,
	CT_NR_FAULT_HOOKS
};

/* The bracket is last: attached after the rest, detached before them. */
static_assert(CT_NR_FAULT_HOOKS - 1 == CT_HOOK_HMF);

static struct ct_hook ct_fault_hooks[CT_NR_FAULT_HOOKS] = {
	[CT_HOOK_WP] = CT_FENTRY_HOOK("do_wp_page", NULL, ct_wp),
	/* notrace: a kprobe */
	[CT_HOOK_REUSE] = CT_FENTRY_HOOK("wp_page_reuse", NULL, ct_reuse),
	/* 6.1 installs a new anonymous page by page, 6.12 by folio. */
	[CT_HOOK_NEW_ANON] = CT_FENTRY_HOOK("folio_add_new_anon_rmap",
				       "page_add_new_anon_rmap",
				       ct_new_anon),
	[CT_HOOK_SWAP] = CT_FENTRY_HOOK("do_swap_page", NULL, ct_swap),
	[CT_HOOK_THP_ANON] = CT_KRETPROBE("do_huge_pmd_anonymous_page",
					  ct_thp_entry, ct_thp_anon_return, 0),
	[CT_HOOK_THP_WP] = CT_KRETPROBE("do_huge_pmd_wp_page", ct_thp_entry,
					ct_thp_wp_return, 0),
	[CT_HOOK_HMF] = CT_FENTRY_HOOK("handle_mm_fault", NULL, ct_hmf),
};

#define CT_COW_COLUMNS	(BIT(COWTRACE_COW_COPY) | BIT(COWTRACE_COW_COPY_ANON) |	\
			 BIT(COWTRACE_COW_COPY_FILE) | BIT(COWTRACE_COW_ZERO))
#define CT_KIND_COLUMNS	(CT_COW_COLUMNS | BIT(COWTRACE_COW_REUSE) |		\
			 BIT(COWTRACE_FAULT_ANON) | BIT(COWTRACE_FAULT_FILE) |	\
			 BIT(COWTRACE_FAULT_SWAP) | BIT(COWTRACE_THP_ANON) |	\
			 BIT(COWTRACE_THP_REUSE) | BIT(COWTRACE_WP_SHARED) |	\
			 BIT(COWTRACE_FAULT_OTHER))

/*
 * The columns a missing hook makes wrong: those of the kind its marker
 * decides, and those that ct_fault_kind() then falls back to. Without
 * do_wp_page a write-protect fault is taken by its VMA's kind; without
 * wp_page_reuse a reuse is "other"; without the new-anon rmap a copy is
 * "other" and a private file write "file"; without do_swap_page swap-ins
 * and migration waits are taken by what comes next; without a huge-page
 * handler its faults are "anon"; without the bracket nothing is classified
 * (and unclassified, which needs only the kernel's count, stays right).
 */
static const u32 ct_fault_hook_columns[CT_NR_FAULT_HOOKS] = {
	[CT_HOOK_WP] = CT_COW_COLUMNS | BIT(COWTRACE_COW_REUSE) |
		       BIT(COWTRACE_WP_SHARED) | BIT(COWTRACE_FAULT_ANON) |
		       BIT(COWTRACE_FAULT_FILE) | BIT(COWTRACE_FAULT_OTHER),
	[CT_HOOK_REUSE] = BIT(COWTRACE_COW_REUSE) | BIT(COWTRACE_FAULT_OTHER),
	[CT_HOOK_NEW_ANON] = CT_COW_COLUMNS | BIT(COWTRACE_FAULT_FILE) |
			     BIT(COWTRACE_FAULT_OTHER),
	[CT_HOOK_SWAP] = CT_KIND_COLUMNS & ~(BIT(COWTRACE_THP_ANON) |
					     BIT(COWTRACE_THP_REUSE)),
	[CT_HOOK_THP_ANON] = BIT(COWTRACE_THP_ANON) | BIT(COWTRACE_FAULT_ANON),
	[CT_HOOK_THP_WP] = BIT(COWTRACE_THP_REUSE) | BIT(COWTRACE_FAULT_ANON),
	[CT_HOOK_HMF] = CT_KIND_COLUMNS,
};

/* Which columns are right given what attached: shown as "-" otherwise. */
u32 ct_counter_valid;

static void ct_fault_set_valid(void)
{
	unsigned int i;

	ct_counter_valid = GENMASK(COWTRACE_NR_COUNTERS - 1, 0);
	for (i = 0; i < CT_NR_FAULT_HOOKS; i++)
		if (!ct_fault_hooks[i].attached)
			ct_counter_valid &= ~ct_fault_hook_columns[i];
}

/*
 * While cowtrace:fault is recorded, each try closes where it returns, and
 * its event comes from the fault's own stack. A try the return probe
 * missed (its pool empty) still closes at the next one, event and all.
 */
static int ct_hmf_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct ct_task *ct;

	rcu_read_lock();
	ct = ct_task_lookup(current);
	rcu_read_unlock();
	if (ct)
		ct_fault_close_own(ct);
	return 0;
}

static struct kretprobe ct_event_krp = {
	.kp.symbol_name = "handle_mm_fault",
	.handler = ct_hmf_return,
	.maxactive = CT_MAXACTIVE,
};

/* Whether the event's return probe is in: under the tracepoints' mutex. */
static bool ct_event_krp_on;

/* cowtrace:fault's first consumer came (trace.h): the return probe goes in. */
int ct_fault_event_reg(void)
{
	int ret;

	/* A fresh probe each time, as the API requires. */
	ct_event_krp.kp.addr = NULL;
	ct_event_krp.kp.flags = 0;
	ret = register_kretprobe(&ct_event_krp);
	if (ret)
		pr_warn("cannot record cowtrace:fault: the return probe on handle_mm_fault: error %d\n",
			ret);
	WRITE_ONCE(ct_event_krp_on, !ret);
	return ret;
}

/* Its last consumer went. A try in flight closes at the task's next one. */
void ct_fault_event_unreg(void)
{
	if (!ct_event_krp_on)
		return;
	unregister_kretprobe(&ct_event_krp);
	WRITE_ONCE(ct_event_krp_on, false);
}

void ct_fault_show_hooks(struct seq_file *m)
{
	ct_hooks_show(m, ct_fault_hooks, CT_NR_FAULT_HOOKS);
	seq_printf(m, "fault_event_return_probe %s missed %lu\n",
		   READ_ONCE(ct_event_krp_on) ? "attached" : "off",
		   ct_event_krp.kp.nmissed + ct_event_krp.nmissed);
}

int cowtrace_fault_init(void)
{
	int ret;

	ret = ct_hooks_attach(ct_fault_hooks, CT_NR_FAULT_HOOKS);
	if (ret)
		return ret;
	ct_fault_set_valid();
	return 0;
}

void cowtrace_fault_exit(void)
{
	ct_hooks_detach(ct_fault_hooks, CT_NR_FAULT_HOOKS);
}
