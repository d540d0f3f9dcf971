// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/cowtrace/pages (0600): one task's page tables, a row
 * per virtual page, for the picture of fork that the counters only count.
 * A reader writes a query on its own open file:
 *
 *   PID ADDR [N]     N pages from ADDR (page aligned, hex with 0x or
 *                    decimal), N from 1 (the default) to 4096
 *
 * PID as the writer's pid namespace sees it. The walk is taken then, and
 * every read of that file shows its rows from the top until the next query
 * replaces them: two readers never see each other's. A query that cannot
 * be answered changes nothing and fails: -ESRCH for an unknown pid or a
 * task without memory (it exited), -EINVAL for a kernel thread, a range
 * out of bounds or unaligned, or anything malformed. Reading before any
 * query fails with -ENODATA.
 *
 * The walk holds a reference on the mm (get_task_mm) and its mmap lock for
 * read, so no VMA or page table it walks goes away; each page table's lock
 * is held only while its entries are read, and nothing sleeps under it.
 * The rows' memory is taken before any lock. Under the lock of the table
 * that maps it, a page stays mapped: its flags and counts are read there.
 */
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mutex.h>
#include <linux/pgtable.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#include <linux/uaccess.h>
#ifdef CT_HAVE_LEAFOPS
#include <linux/leafops.h>
#endif

#include "cowtrace.h"

#define CT_PAGES_MAX	4096
#define CT_QUERY_MAX	64

/* What the entry for a virtual page holds. */
enum ct_entry {
	CT_E_UNMAPPED,		/* no VMA */
	CT_E_NONE,		/* a VMA, but no entry yet */
	CT_E_PRESENT,
	CT_E_SWAP,
	CT_E_MIGRATION,
	CT_E_DEVICE,		/* device private or exclusive */
	CT_E_HWPOISON,
	CT_E_MARKER,		/* a pte marker: uffd-wp kept over a zap, a guard */
	CT_E_OTHER,
};

static const char *const ct_entry_names[] = {
	[CT_E_UNMAPPED] = "unmapped",
	[CT_E_NONE] = "none",
	[CT_E_PRESENT] = "present",
	[CT_E_SWAP] = "swap",
	[CT_E_MIGRATION] = "migration",
	[CT_E_DEVICE] = "device",
	[CT_E_HWPOISON] = "hwpoison",
	[CT_E_MARKER] = "marker",
	[CT_E_OTHER] = "other",
};

/* The level of the table whose entry maps the page. */
enum ct_level { CT_L_NONE, CT_L_PTE, CT_L_PMD, CT_L_PUD };

static const char *const ct_level_names[] = {
	[CT_L_NONE] = "-", [CT_L_PTE] = "pte", [CT_L_PMD] = "pmd",
	[CT_L_PUD] = "pud",
};

/* The page behind a present entry, if it has a struct page. */
enum ct_page { CT_P_NONE, CT_P_ANON, CT_P_KSM, CT_P_FILE, CT_P_ZERO };

static const char *const ct_page_names[] = {
	[CT_P_NONE] = "-", [CT_P_ANON] = "anon", [CT_P_KSM] = "ksm",
	[CT_P_FILE] = "file", [CT_P_ZERO] = "zero",
};

/* Entry bits, meaningful where a row has them (see ct_pages_show()). */
#define CT_B_WRITE	BIT(0)
#define CT_B_DIRTY	BIT(1)
#define CT_B_YOUNG	BIT(2)
#define CT_B_SOFT_DIRTY	BIT(3)
#define CT_B_UFFD_WP	BIT(4)
#define CT_B_SPECIAL	BIT(5)
#define CT_B_EXCLUSIVE	BIT(6)

struct ct_pte_row {
	unsigned long pfn;		/* present or migration entries */
	unsigned long swap_offset;
	int mapcount;
	int refcount;
	u8 entry;
	u8 level;
	u8 page;
	u8 order;
	u8 bits;
	u8 swap_type;
};

struct ct_pages {
	struct mutex lock;		/* the query and its rows */
	unsigned long start;
	unsigned int n;			/* 0: no query yet */
	struct ct_pte_row *rows;
};

/* ------------------------------------------------------------ the walk */

#ifndef CT_HAVE_PMDP_GET_LOCKLESS
/* Before 6.5: page tables are freed only under the mmap lock for write. */
static inline pmd_t pmdp_get_lockless(pmd_t *pmdp)
{
	return READ_ONCE(*pmdp);
}
#endif

/* The userfaultfd write-protect bit of an entry, by either name. */
#ifdef CT_HAVE_PTE_UFFD
#define ct_pte_uffd(pte)	pte_uffd(pte)
#define ct_pte_swp_uffd(pte)	pte_swp_uffd(pte)
#define ct_pmd_uffd(pmd)	pmd_uffd(pmd)
#else
#define ct_pte_uffd(pte)	pte_uffd_wp(pte)
#define ct_pte_swp_uffd(pte)	pte_swp_uffd_wp(pte)
#define ct_pmd_uffd(pmd)	pmd_uffd_wp(pmd)
#endif

static int ct_folio_mapcount(struct folio *folio, struct page *page)
{
#ifdef CT_HAVE_INLINE_FOLIO_MAPCOUNT
	return folio_mapcount(folio);
#else
	/* 6.1 exports no folio-wide count: this page's, within a huge page. */
	return page_mapcount(page);
#endif
}

/*
 * The page a present entry maps, read under the lock of its table. In an
 * anonymous VMA every page that is not anonymous is a zero page (the huge
 * one has no test a module can reach). A pmd- or pud-mapped page keeps
 * its anon-exclusive bit on the entry's first page, @flag_pfn.
 */
static void ct_fill_page(struct ct_pte_row *r, struct vm_area_struct *vma,
			 bool special, unsigned long flag_pfn)
{
	struct folio *folio;
	struct page *page;

	if (is_zero_pfn(r->pfn)) {
		r->page = CT_P_ZERO;
		return;
	}
	if (special || (vma->vm_flags & (VM_PFNMAP | VM_IO)) ||
	    !pfn_valid(r->pfn))
		return;
	page = pfn_to_page(r->pfn);
	folio = page_folio(page);
	if (!folio_test_anon(folio) && vma_is_anonymous(vma)) {
		r->page = CT_P_ZERO;
		return;
	}
	if (folio_test_ksm(folio)) {
		r->page = CT_P_KSM;
	} else if (folio_test_anon(folio)) {
		r->page = CT_P_ANON;
		if (PageAnonExclusive(pfn_to_page(flag_pfn)))
			r->bits |= CT_B_EXCLUSIVE;
	} else {
		r->page = CT_P_FILE;
	}
	r->order = folio_order(folio);
	r->mapcount = ct_folio_mapcount(folio, page);
	r->refcount = folio_ref_count(folio);
}

static void ct_fill_pte(struct ct_pte_row *r, struct vm_area_struct *vma,
			pte_t pte)
{
	r->level = CT_L_PTE;
	r->entry = CT_E_PRESENT;
	r->pfn = pte_pfn(pte);
	r->bits = (pte_write(pte) ? CT_B_WRITE : 0) |
		  (pte_dirty(pte) ? CT_B_DIRTY : 0) |
		  (pte_young(pte) ? CT_B_YOUNG : 0) |
		  (pte_soft_dirty(pte) ? CT_B_SOFT_DIRTY : 0) |
		  (ct_pte_uffd(pte) ? CT_B_UFFD_WP : 0) |
		  (pte_special(pte) ? CT_B_SPECIAL : 0);
	ct_fill_page(r, vma, pte_special(pte), r->pfn);
}

/* A non-present, non-empty pte: what its software entry says. */
#ifdef CT_HAVE_LEAFOPS
static void ct_fill_leaf(struct ct_pte_row *r, pte_t pte)
{
	softleaf_t entry = softleaf_from_pte(pte);

	if (softleaf_is_swap(entry)) {
		r->entry = CT_E_SWAP;
		r->swap_type = swp_type(entry);
		r->swap_offset = swp_offset(entry);
	} else if (softleaf_is_migration(entry)) {
		r->entry = CT_E_MIGRATION;
	} else if (softleaf_is_device_private(entry) ||
		   softleaf_is_device_exclusive(entry)) {
		r->entry = CT_E_DEVICE;
	} else if (softleaf_is_hwpoison(entry)) {
		r->entry = CT_E_HWPOISON;
	} else if (softleaf_is_marker(entry)) {
		r->entry = CT_E_MARKER;
	} else {
		r->entry = CT_E_OTHER;
	}
	if (softleaf_has_pfn(entry))
		r->pfn = softleaf_to_pfn(entry);
}
#else
static void ct_fill_leaf(struct ct_pte_row *r, pte_t pte)
{
	swp_entry_t entry = pte_to_swp_entry(pte);

	if (!non_swap_entry(entry)) {
		r->entry = CT_E_SWAP;
		r->swap_type = swp_type(entry);
		r->swap_offset = swp_offset(entry);
	} else if (is_migration_entry(entry)) {
		r->entry = CT_E_MIGRATION;
		r->pfn = swp_offset_pfn(entry);
	} else if (is_device_private_entry(entry) ||
		   is_device_exclusive_entry(entry)) {
		r->entry = CT_E_DEVICE;
		r->pfn = swp_offset_pfn(entry);
	} else if (is_hwpoison_entry(entry)) {
		r->entry = CT_E_HWPOISON;
		r->pfn = swp_offset_pfn(entry);
	} else if (is_pte_marker_entry(entry)) {
		r->entry = CT_E_MARKER;
	} else {
		r->entry = CT_E_OTHER;
	}
}
#endif

static void ct_fill_nonpresent(struct ct_pte_row *r, pte_t pte)
{
	r->level = CT_L_PTE;
	r->bits = (pte_swp_soft_dirty(pte) ? CT_B_SOFT_DIRTY : 0) |
		  (ct_pte_swp_uffd(pte) ? CT_B_UFFD_WP : 0);
	ct_fill_leaf(r, pte);
}

/* Pages [addr, end) of one page table, under its lock. */
static void ct_walk_ptes(struct vm_area_struct *vma, pte_t *pte,
			 unsigned long addr, unsigned long end,
			 struct ct_pte_row *r)
{
	pte_t ptent;

	for (; addr < end; addr += PAGE_SIZE, pte++, r++) {
		ptent = ptep_get(pte);
		if (pte_none(ptent))
			r->entry = CT_E_NONE;
		else if (pte_present(ptent))
			ct_fill_pte(r, vma, ptent);
		else
			ct_fill_nonpresent(r, ptent);
	}
}

/* A huge entry maps pages [addr, end): each row is the page it maps. */
static void ct_fill_huge(struct ct_pte_row *r, struct vm_area_struct *vma,
			 enum ct_level level, unsigned long pfn, u8 bits,
			 unsigned long addr, unsigned long end,
			 unsigned long mask)
{
	for (; addr < end; addr += PAGE_SIZE, r++) {
		r->entry = CT_E_PRESENT;
		r->level = level;
		r->pfn = pfn + ((addr & ~mask) >> PAGE_SHIFT);
		r->bits = bits;
		ct_fill_page(r, vma, false, pfn);
	}
}

static void ct_fill_entry(struct ct_pte_row *r, enum ct_entry entry,
			  enum ct_level level, unsigned long addr,
			  unsigned long end)
{
	for (; addr < end; addr += PAGE_SIZE, r++) {
		r->entry = entry;
		r->level = level;
	}
}

static u8 ct_pmd_bits(pmd_t pmd)
{
	return (pmd_write(pmd) ? CT_B_WRITE : 0) |
	       (pmd_dirty(pmd) ? CT_B_DIRTY : 0) |
	       (pmd_young(pmd) ? CT_B_YOUNG : 0) |
	       (pmd_soft_dirty(pmd) ? CT_B_SOFT_DIRTY : 0) |
	       (ct_pmd_uffd(pmd) ? CT_B_UFFD_WP : 0);
}

/*
 * Pages [addr, end) under one pmd. Since 6.5 a page table may be freed
 * (after an RCU grace period) by khugepaged with only its pmd's lock held:
 * as the kernel's own pte_offset_map_lock(), read the pmd under RCU, lock
 * the table it points to, and look again that it still does.
 */
static void ct_walk_pmd(struct vm_area_struct *vma, pmd_t *pmd,
			unsigned long addr, unsigned long end,
			struct ct_pte_row *r)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;	/* the pmd's or the page table's */
	pmd_t pmdval;

	rcu_read_lock();
again:
	pmdval = pmdp_get_lockless(pmd);
	if (pmd_none(pmdval)) {
		ct_fill_entry(r, CT_E_NONE, CT_L_NONE, addr, end);
	} else if (!pmd_present(pmdval)) {
		/* A huge page under migration is the only kind seen here. */
		ct_fill_entry(r, CT_E_MIGRATION, CT_L_PMD, addr, end);
	} else if (pmd_leaf(pmdval)) {
		ptl = pmd_lock(mm, pmd);
		if (!pmd_same(pmdval, *pmd)) {
			spin_unlock(ptl);
			goto again;
		}
		ct_fill_huge(r, vma, CT_L_PMD, pmd_pfn(pmdval),
			     ct_pmd_bits(pmdval), addr, end, PMD_MASK);
		spin_unlock(ptl);
	} else if (pmd_bad(pmdval)) {
		ct_fill_entry(r, CT_E_OTHER, CT_L_PMD, addr, end);
	} else {
		ptl = pte_lockptr(mm, &pmdval);
		spin_lock(ptl);
		if (!pmd_same(pmdval, pmdp_get_lockless(pmd))) {
			spin_unlock(ptl);
			goto again;
		}
		ct_walk_ptes(vma, pte_offset_kernel(&pmdval, addr), addr, end,
			     r);
		spin_unlock(ptl);
	}
	rcu_read_unlock();
}

/* Pages [addr, end) of one VMA, a pmd's worth at a time. */
static void ct_walk_vma(struct vm_area_struct *vma, unsigned long addr,
			unsigned long end, struct ct_pte_row *r)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long next;
	spinlock_t *ptl;	/* the pud's */
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;

	for (; addr < end; r += (next - addr) >> PAGE_SHIFT, addr = next) {
		next = pmd_addr_end(addr, end);
		pgd = pgd_offset(mm, addr);
		if (pgd_none(*pgd) || pgd_bad(*pgd))
			goto none;
		p4d = p4d_offset(pgd, addr);
		if (p4d_none(*p4d) || p4d_bad(*p4d))
			goto none;
		pud = pud_offset(p4d, addr);
		if (pud_none(*pud))
			goto none;
		if (pud_leaf(*pud)) {
			/* A 1 GiB huge page: hugetlbfs or DAX. */
			ptl = pud_lock(mm, pud);
			if (pud_leaf(*pud))
				ct_fill_huge(r, vma, CT_L_PUD, pud_pfn(*pud),
					     pud_write(*pud) ? CT_B_WRITE : 0,
					     addr, next, PUD_MASK);
			else
				ct_fill_entry(r, CT_E_OTHER, CT_L_PUD, addr,
					      next);
			spin_unlock(ptl);
			continue;
		}
		if (pud_bad(*pud))
			goto none;
		ct_walk_pmd(vma, pmd_offset(pud, addr), addr, next, r);
		continue;
none:
		ct_fill_entry(r, CT_E_NONE, CT_L_NONE, addr, next);
	}
}

static int ct_walk(struct mm_struct *mm, unsigned long start, unsigned int n,
		   struct ct_pte_row *rows)
{
	unsigned long addr = start, end = start + n * PAGE_SIZE, next;
	struct vm_area_struct *vma;
	int ret;

	ret = mmap_read_lock_killable(mm);
	if (ret)
		return ret;
	while (addr < end) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start >= end) {
			ct_fill_entry(rows, CT_E_UNMAPPED, CT_L_NONE, addr, end);
			break;
		}
		if (vma->vm_start > addr) {
			ct_fill_entry(rows, CT_E_UNMAPPED, CT_L_NONE, addr,
				      vma->vm_start);
			rows += (vma->vm_start - addr) >> PAGE_SHIFT;
			addr = vma->vm_start;
		}
		next = min(end, vma->vm_end);
		ct_walk_vma(vma, addr, next, rows);
		rows += (next - addr) >> PAGE_SHIFT;
		addr = next;
	}
	mmap_read_unlock(mm);
	return 0;
}

/* ------------------------------------------------------------ the file */

/* The task's mm, by pid in the caller's pid namespace. */
static struct mm_struct *ct_query_mm(pid_t nr)
{
	struct task_struct *task;
	struct mm_struct *mm;

	rcu_read_lock();
	task = get_pid_task(find_vpid(nr), PIDTYPE_PID);
	rcu_read_unlock();
	if (!task)
		return ERR_PTR(-ESRCH);
	if (task->flags & PF_KTHREAD)
		mm = ERR_PTR(-EINVAL);
	else
		mm = get_task_mm(task) ?: ERR_PTR(-ESRCH);
	put_task_struct(task);
	return mm;
}

/* "PID ADDR [N]": every field checked, nothing left over. */
static int ct_parse_query(char *buf, pid_t *pid, unsigned long *start,
			  unsigned int *n)
{
	char *field[4];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(field); i++) {
		field[i] = strsep(&buf, " ");
		if (!field[i])
			break;
		if (!*field[i])
			return -EINVAL;	/* two spaces in a row */
	}
	if (i < 2 || i > 3)
		return -EINVAL;
	*n = 1;
	if (kstrtoint(field[0], 10, pid) || *pid <= 0 ||
	    kstrtoul(field[1], 0, start) ||
	    (i == 3 && kstrtouint(field[2], 0, n)))
		return -EINVAL;
	if (!*n || *n > CT_PAGES_MAX || !PAGE_ALIGNED(*start) ||
	    *start >= TASK_SIZE_MAX ||
	    *n > (TASK_SIZE_MAX - *start) >> PAGE_SHIFT)
		return -EINVAL;
	return 0;
}

static ssize_t ct_pages_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	struct ct_pages *p = ((struct seq_file *)file->private_data)->private;
	struct ct_pte_row *rows;
	char buf[CT_QUERY_MAX];
	struct mm_struct *mm;
	unsigned long start;
	unsigned int n;
	pid_t pid;
	int ret;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (strlen(buf) != len)
		return -EINVAL;
	ret = ct_parse_query(strim(buf), &pid, &start, &n);
	if (ret)
		return ret;
	mm = ct_query_mm(pid);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	rows = kvcalloc(n, sizeof(*rows), GFP_KERNEL);
	if (!rows) {
		mmput(mm);
		return -ENOMEM;
	}
	ret = ct_walk(mm, start, n, rows);
	mmput(mm);
	if (ret) {
		kvfree(rows);
		return ret;
	}
	mutex_lock(&p->lock);
	kvfree(p->rows);
	p->rows = rows;
	p->start = start;
	p->n = n;
	mutex_unlock(&p->lock);
	/* The next read starts at the top of the new rows. */
	*ppos = 0;
	return len;
}

static void *ct_pages_start(struct seq_file *m, loff_t *pos)
{
	struct ct_pages *p = m->private;

	mutex_lock(&p->lock);
	if (!p->n)
		return ERR_PTR(-ENODATA);
	/* Position 0 is the header, then one per row. */
	return *pos <= p->n ? pos : NULL;
}

static void *ct_pages_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct ct_pages *p = m->private;

	++*pos;
	return *pos <= p->n ? pos : NULL;
}

static void ct_pages_stop(struct seq_file *m, void *v)
{
	struct ct_pages *p = m->private;

	mutex_unlock(&p->lock);
}

static void ct_show_bit(struct seq_file *m, const struct ct_pte_row *r,
			u8 bit, bool has)
{
	if (has)
		seq_printf(m, " %d", !!(r->bits & bit));
	else
		seq_puts(m, " -");
}

/*
 * Bits: write, dirty, young and special of present entries; soft_dirty
 * and uffd_wp of every entry the task has; exclusive of anonymous pages.
 */
static int ct_pages_show(struct seq_file *m, void *v)
{
	struct ct_pages *p = m->private;
	loff_t i = *(loff_t *)v;
	const struct ct_pte_row *r;
	bool present, entry, page;

	if (!i) {
		seq_puts(m, "vaddr entry level pfn write dirty young special soft_dirty uffd_wp page order exclusive mapcount refcount swap\n");
		return 0;
	}
	r = &p->rows[i - 1];
	present = r->entry == CT_E_PRESENT;
	entry = r->level != CT_L_NONE;
	page = present && r->page != CT_P_NONE && r->page != CT_P_ZERO;
	seq_printf(m, "0x%lx %s %s",
		   p->start + (unsigned long)(i - 1) * PAGE_SIZE,
		   ct_entry_names[r->entry], ct_level_names[r->level]);
	if (present || r->pfn)
		seq_printf(m, " 0x%lx", r->pfn);
	else
		seq_puts(m, " -");
	ct_show_bit(m, r, CT_B_WRITE, present);
	ct_show_bit(m, r, CT_B_DIRTY, present);
	ct_show_bit(m, r, CT_B_YOUNG, present);
	ct_show_bit(m, r, CT_B_SPECIAL, present && r->level == CT_L_PTE);
	ct_show_bit(m, r, CT_B_SOFT_DIRTY, entry && r->level != CT_L_PUD);
	ct_show_bit(m, r, CT_B_UFFD_WP, entry && r->level != CT_L_PUD);
	seq_printf(m, " %s", present ? ct_page_names[r->page] : "-");
	if (page)
		seq_printf(m, " %u", r->order);
	else
		seq_puts(m, " -");
	ct_show_bit(m, r, CT_B_EXCLUSIVE, page && r->page == CT_P_ANON);
	if (page)
		seq_printf(m, " %d %d", r->mapcount, r->refcount);
	else
		seq_puts(m, " - -");
	if (r->entry == CT_E_SWAP)
		seq_printf(m, " %u:0x%lx\n", r->swap_type, r->swap_offset);
	else
		seq_puts(m, " -\n");
	return 0;
}

static const struct seq_operations ct_pages_sops = {
	.start = ct_pages_start,
	.next = ct_pages_next,
	.stop = ct_pages_stop,
	.show = ct_pages_show,
};

static int ct_pages_open(struct inode *inode, struct file *file)
{
	struct ct_pages *p;
	int ret;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	mutex_init(&p->lock);
	ret = seq_open(file, &ct_pages_sops);
	if (ret) {
		kfree(p);
		return ret;
	}
	((struct seq_file *)file->private_data)->private = p;
	return 0;
}

static int ct_pages_release(struct inode *inode, struct file *file)
{
	struct ct_pages *p = ((struct seq_file *)file->private_data)->private;

	kvfree(p->rows);
	mutex_destroy(&p->lock);
	kfree(p);
	return seq_release(inode, file);
}

static const struct file_operations ct_pages_fops = {
	.owner = THIS_MODULE,
	.open = ct_pages_open,
	.read = seq_read,
	.write = ct_pages_write,
	.llseek = seq_lseek,
	.release = ct_pages_release,
};

int cowtrace_pages_init(void)
{
	debugfs_create_file("pages", 0600, cowtrace_debugfs_root, NULL,
			    &ct_pages_fops);
	return 0;
}
