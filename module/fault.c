// SPDX-License-Identifier: GPL-2.0
/*
 * Per-task fault accounting.
 *
 * How many faults a task took, and how many were major, the kernel counts
 * itself (min_flt, maj_flt): the views read those, exact whatever happens
 * here. What kind each fault was, no tracepoint tells, so a kretprobe on
 * handle_mm_fault() brackets each try and classifies it where the kernel's
 * mm_account_fault() counts it: not on VM_FAULT_RETRY (the retry is
 * counted), not on VM_FAULT_ERROR. A fault the bracket missed (its
 * instance pool was empty: every instance is held for a whole fault,
 * sleeps included) is the kernel's count less the classified ones, and
 * shows as unclassified.
 *
 * While a try is in progress, hooks on the entry of the functions that
 * resolve it leave markers in its state; on return the markers decide the
 * fault's one kind. These functions have the same names and first arguments on the 6.1
 * and 6.12 series, except the one that installs a new anonymous page, which
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

/* Where a fault was, for cowtrace:fault: read at entry if it is enabled. */
struct ct_fault_site {
	unsigned long address;
	unsigned long ip;		/* the user instruction, or 0 */
	unsigned long ino;		/* the mapped file's, or 0 */
	unsigned long pgoff;		/* the page's offset in it */
	dev_t dev;
};

struct ct_fault {
	struct ct_fault *outer;
	struct ct_task *ct;
	unsigned int flags;		/* FAULT_FLAG_* of this try */
	u8 markers;
	u8 vma;
	u8 src;
	bool traced;			/* site is filled */
	struct ct_fault_site site;
};

/* The fault in progress of the current task, if it is tracked. */
static struct ct_fault *ct_current_fault(void)
{
	struct ct_task *ct;
	struct ct_fault *f = NULL;

	rcu_read_lock();
	ct = ct_task_lookup(current);
	if (ct)
		f = ct->fault;
	rcu_read_unlock();
	return f;
}

static void ct_mark(u8 marker)
{
	struct ct_fault *f = ct_current_fault();

	if (f)
		f->markers |= marker;
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

static enum cowtrace_counter ct_fault_kind(const struct ct_fault *f)
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
			  struct vm_area_struct *vma, struct pt_regs *regs)
{
	struct pt_regs *uregs = (struct pt_regs *)regs_get_kernel_argument(regs, 3);
	unsigned long address = regs_get_kernel_argument(regs, 1);
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

static int ct_hmf_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct ct_fault *f = (struct ct_fault *)ri->data;
	struct vm_area_struct *vma;
	struct ct_task *ct;

	rcu_read_lock();
	ct = ct_task_get_current();
	rcu_read_unlock();
	/* Only its own exit frees a live row: ct outlives this fault. */
	if (!ct || !READ_ONCE(ct->tracked))
		return 1;	/* no return probe for this call */

	vma = (struct vm_area_struct *)regs_get_kernel_argument(regs, 0);
	f->ct = ct;
	f->flags = regs_get_kernel_argument(regs, 2);
	f->markers = 0;
	f->vma = ct_vma_kind(vma);
	f->src = CT_SRC_NONE;
	f->traced = ct_fault_traced();
	if (f->traced)
		ct_fault_site(&f->site, vma, regs);
	f->outer = ct->fault;
	ct->fault = f;
	return 0;
}

static int ct_hmf_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct ct_fault *f = (struct ct_fault *)ri->data;
	vm_fault_t ret = ct_fault_ret(regs);
	struct ct_task *ct = f->ct;
	enum cowtrace_counter kind;

	ct->fault = f->outer;
	/* As mm_account_fault(): a retry is counted when it completes. */
	if (ret & (VM_FAULT_RETRY | VM_FAULT_ERROR))
		return 0;

	ct_count(ct, CT_CLASSIFIED);
	kind = ct_fault_kind(f);
	ct_count(ct, kind);
	if (kind == COWTRACE_COW_COPY)
		ct_count(ct, f->src == CT_SRC_ANON ? COWTRACE_COW_COPY_ANON :
						    COWTRACE_COW_COPY_FILE);
	if (f->traced)
		trace_fault(f->site.address, f->site.ip, ct_counter_names[kind],
			    kind, f->flags & FAULT_FLAG_WRITE,
			    ret & VM_FAULT_MAJOR, f->site.dev, f->site.ino,
			    f->site.pgoff);
	return 0;
}

/*
 * The classifiers are function-entry hooks (hooks.h): each is given the
 * first argument of the function it hooks.
 *
 * do_wp_page(vmf) runs with the pte locked: the page it names is stable.
 */
static void ct_wp(unsigned long arg0)
{
	struct vm_fault *vmf = (struct vm_fault *)arg0;
	struct ct_fault *f = ct_current_fault();
	unsigned long pfn;

	if (!f)
		return;
	f->markers |= CT_F_WP;
	pfn = pte_pfn(vmf->orig_pte);
	if (is_zero_pfn(pfn))
		f->src = CT_SRC_ZERO;
	else if (pfn_valid(pfn))
		f->src = PageAnon(pfn_to_page(pfn)) ? CT_SRC_ANON : CT_SRC_FILE;
}

static void ct_reuse(unsigned long arg0)
{
	ct_mark(CT_F_REUSE);
}

static void ct_new_anon(unsigned long arg0)
{
	ct_mark(CT_F_NEW_ANON);
}

/*
 * do_swap_page(vmf) handles every non-present entry that is not none: only
 * a real swap entry is a swap-in. A migration, device-private or hwpoison
 * entry brings nothing in (the fault waits, or fails, and is "other"); a
 * pte marker (userfaultfd write protection kept over a zap) goes on to the
 * fault the marker stood for, and that decides its kind.
 */
#ifdef CT_HAVE_LEAFOPS
/* Newer kernels (7.x) read non-present entries as "software leaf" ones. */
static void ct_swap(unsigned long arg0)
{
	struct vm_fault *vmf = (struct vm_fault *)arg0;
	softleaf_t entry = softleaf_from_pte(vmf->orig_pte);

	if (softleaf_is_swap(entry))
		ct_mark(CT_F_SWAP);
	else if (!softleaf_is_marker(entry))
		ct_mark(CT_F_OTHER);
}
#else
static void ct_swap(unsigned long arg0)
{
	struct vm_fault *vmf = (struct vm_fault *)arg0;
	swp_entry_t entry = pte_to_swp_entry(vmf->orig_pte);

	if (!non_swap_entry(entry))
		ct_mark(CT_F_SWAP);
	else if (!is_pte_marker_entry(entry))
		ct_mark(CT_F_OTHER);
}
#endif

/* The huge-page handlers: did they map the fault whole, or fall back? */
static int ct_thp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return !ct_current_fault();
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

#define CT_FENTRY(name1, name2, handler)				\
	{								\
		.type = CT_HOOK_FENTRY,					\
		.names = { name1, name2 },				\
		.entry = handler,					\
	}

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
 * The classifiers attach first and the fault bracket last: a fault is
 * counted only while every marker it could leave is being left, never
 * stored with a kind that a missing classifier decided. They also detach
 * first, not in reverse: a fault in flight when the bracket goes keeps its
 * ct->fault pointing into the kretprobe's instance pool, which is freed
 * once the fault returns, and no classifier may follow that pointer then.
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

/* The bracket is last: cowtrace_fault_exit() detaches the rest before it. */
static_assert(CT_NR_FAULT_HOOKS - 1 == CT_HOOK_HMF);

static struct ct_hook ct_fault_hooks[CT_NR_FAULT_HOOKS] = {
	[CT_HOOK_WP] = CT_FENTRY("do_wp_page", NULL, ct_wp),
	/* notrace: a kprobe */
	[CT_HOOK_REUSE] = CT_FENTRY("wp_page_reuse", NULL, ct_reuse),
	/* 6.1 installs a new anonymous page by page, 6.12 by folio. */
	[CT_HOOK_NEW_ANON] = CT_FENTRY("folio_add_new_anon_rmap",
				       "page_add_new_anon_rmap",
				       ct_new_anon),
	[CT_HOOK_SWAP] = CT_FENTRY("do_swap_page", NULL, ct_swap),
	[CT_HOOK_THP_ANON] = CT_KRETPROBE("do_huge_pmd_anonymous_page",
					  ct_thp_entry, ct_thp_anon_return, 0),
	[CT_HOOK_THP_WP] = CT_KRETPROBE("do_huge_pmd_wp_page", ct_thp_entry,
					ct_thp_wp_return, 0),
	[CT_HOOK_HMF] = CT_KRETPROBE("handle_mm_fault", ct_hmf_entry,
				     ct_hmf_return, sizeof(struct ct_fault)),
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

void ct_fault_show_hooks(struct seq_file *m)
{
	ct_hooks_show(m, ct_fault_hooks, CT_NR_FAULT_HOOKS);
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
	ct_hooks_detach(ct_fault_hooks, CT_HOOK_HMF);
	ct_hooks_detach(&ct_fault_hooks[CT_HOOK_HMF], 1);
}
