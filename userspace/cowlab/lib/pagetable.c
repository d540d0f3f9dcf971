// SPDX-License-Identifier: GPL-2.0
/*
 * A task's page tables, one row per virtual page: from cowtrace.ko's pages
 * view when it can be read (every column), else from what the kernel shows
 * anyone: /proc/PID/maps (mapped or not), /proc/PID/pagemap (present,
 * swapped, soft-dirty; the pfn only to root) and, to root,
 * /proc/kpagecount and /proc/kpageflags (mapcount, anonymous or file, the
 * zero page, KSM). Those have no write, dirty or young bit and no
 * anon-exclusive bit: what cannot be known is -1, and pt_view says why.
 * The rows' table and a read's error, which cowlab pages and cowlab exec
 * --pages print alike, are here too.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cowlab.h"
#include "lib/pagetable.h"
#include "lib/table.h"
#include "lib/views.h"

/* /proc/PID/pagemap, Documentation/admin-guide/mm/pagemap.rst */
#define PM_PFN_MASK		((1ULL << 55) - 1)
#define PM_SOFT_DIRTY		(1ULL << 55)
#define PM_SWAP			(1ULL << 62)
#define PM_PRESENT		(1ULL << 63)
#define PM_SWAP_TYPE_BITS	5
/* /proc/kpageflags, include/uapi/linux/kernel-page-flags.h */
#define KPF_ANON		12
#define KPF_KSM			21
#define KPF_ZERO_PAGE		24

#define PT_HEADER		"vaddr entry level pfn "

/* A word into one of struct pt_page's arrays. */
#define pt_set(field, word)	snprintf(field, sizeof(field), "%s", word)

static void pt_page_init(struct pt_page *p, uint64_t vaddr)
{
	memset(p, 0, sizeof(*p));
	p->vaddr = vaddr;
	p->pfn = -1;
	p->write = -1;
	p->dirty = -1;
	p->young = -1;
	p->soft_dirty = -1;
	p->order = -1;
	p->exclusive = -1;
	p->mapcount = -1;
	p->refcount = -1;
	pt_set(p->level, "-");
	pt_set(p->page, "-");
	pt_set(p->swap, "-");
}

static int pt_field(const char *s)
{
	return strcmp(s, "-") ? atoi(s) : -1;
}

/*
 * One row of the pages view: vaddr entry level pfn write dirty young
 * special soft_dirty uffd_wp page order exclusive mapcount refcount swap.
 */
int pt_parse_row(const char *line, struct pt_page *p)
{
	char pfn[24], b[6][8], page[8], num[4][16], swap[24];
	unsigned long long vaddr;
	char entry[12], level[4];

	if (sscanf(line, "%llx %11s %3s %23s %7s %7s %7s %7s %7s %7s %7s %15s %15s %15s %15s %23s",
		   &vaddr, entry, level, pfn, b[0], b[1], b[2], b[3], b[4],
		   b[5], page, num[0], num[1], num[2], num[3], swap) != 16)
		return -EPROTO;
	pt_page_init(p, vaddr);
	snprintf(p->entry, sizeof(p->entry), "%s", entry);
	snprintf(p->level, sizeof(p->level), "%s", level);
	p->pfn = strcmp(pfn, "-") ? (int64_t)strtoull(pfn, NULL, 16) : -1;
	p->write = pt_field(b[0]);
	p->dirty = pt_field(b[1]);
	p->young = pt_field(b[2]);
	/* b[3]: special, b[5]: uffd_wp; not shown here */
	p->soft_dirty = pt_field(b[4]);
	snprintf(p->page, sizeof(p->page), "%s", page);
	p->order = pt_field(num[0]);
	p->exclusive = pt_field(num[1]);
	p->mapcount = pt_field(num[2]);
	p->refcount = pt_field(num[3]);
	snprintf(p->swap, sizeof(p->swap), "%s", swap);
	return 0;
}

/* Parse the pages view's text: exactly @n rows after its header. */
int pt_parse_view(char *text, size_t n, struct pt_page *rows)
{
	char *line, *save;
	size_t i = 0;

	line = strtok_r(text, "\n", &save);
	if (!line || strncmp(line, PT_HEADER, strlen(PT_HEADER)))
		return -EPROTO;
	while ((line = strtok_r(NULL, "\n", &save))) {
		if (i == n || pt_parse_row(line, &rows[i]))
			return -EPROTO;
		i++;
	}
	return i == n ? 0 : -EPROTO;
}

static int pt_read_module(pid_t pid, uint64_t addr, size_t n,
			  struct pt_page *rows)
{
	size_t cap = 4096 + n * 160, len = 0;
	char path[512], q[96], *text;
	ssize_t r;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/pages", ct_dir());
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(q, sizeof(q), "%d 0x%" PRIx64 " %zu", (int)pid, addr, n);
	text = malloc(cap);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	if (write(fd, q, strlen(q)) < 0) {
		ret = -errno;
		goto out;
	}
	while ((r = read(fd, text + len, cap - 1 - len)) > 0) {
		len += r;
		if (len == cap - 1) {
			ret = -EFBIG;
			goto out;
		}
	}
	if (r < 0) {
		ret = -errno;
		goto out;
	}
	text[len] = '\0';
	ret = pt_parse_view(text, n, rows);
out:
	free(text);
	close(fd);
	return ret;
}

/* Whether [vaddr, vaddr + page) is inside a mapping of /proc/PID/maps. */
static int pt_mapped(pid_t pid, uint64_t addr, size_t n, size_t page,
		     struct pt_page *rows)
{
	unsigned long long start, end;
	char path[64], line[512];
	size_t i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	for (i = 0; i < n; i++)
		pt_set(rows[i].entry, "unmapped");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx", &start, &end) != 2)
			continue;
		for (i = 0; i < n; i++) {
			uint64_t va = addr + i * page;

			if (va >= start && va < end)
				pt_set(rows[i].entry, "none");
		}
	}
	fclose(f);
	return 0;
}

/* A pagemap entry, and what root may read of its pfn. */
void pt_decode_pagemap(uint64_t e, struct pt_page *p)
{
	uint64_t pfn = e & PM_PFN_MASK;

	if (!strcmp(p->entry, "unmapped"))
		return;
	if (e & PM_PRESENT) {
		pt_set(p->entry, "present");
		p->pfn = pfn ? (int64_t)pfn : -1;
	} else if (e & PM_SWAP) {
		pt_set(p->entry, "swap");
		snprintf(p->swap, sizeof(p->swap), "%llu:0x%llx",
			 (unsigned long long)(pfn & ((1 << PM_SWAP_TYPE_BITS) - 1)),
			 (unsigned long long)(pfn >> PM_SWAP_TYPE_BITS));
	} else {
		pt_set(p->entry, "none");
		return;
	}
	p->soft_dirty = !!(e & PM_SOFT_DIRTY);
}

/* The kpageflags of a page, as the pages view names its kind. */
void pt_decode_kpageflags(uint64_t flags, struct pt_page *p)
{
	if (flags & (1ULL << KPF_ZERO_PAGE)) {
		pt_set(p->page, "zero");
		p->mapcount = -1;
	} else if (flags & (1ULL << KPF_KSM)) {
		pt_set(p->page, "ksm");
	} else if (flags & (1ULL << KPF_ANON)) {
		pt_set(p->page, "anon");
	} else {
		pt_set(p->page, "file");
	}
}

static int pt_pread64(int fd, uint64_t index, uint64_t *v)
{
	ssize_t r = pread(fd, v, sizeof(*v), index * sizeof(*v));

	return r == sizeof(*v) ? 0 : r < 0 ? -errno : -EIO;
}

/* mapcount and kind of each page whose pfn is known, if root can read them. */
static bool pt_read_kpages(size_t n, struct pt_page *rows)
{
	int count = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	int flags = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	bool ok = count >= 0 && flags >= 0;
	uint64_t c, f;
	size_t i;

	for (i = 0; ok && i < n; i++) {
		if (rows[i].pfn < 0)
			continue;
		if (pt_pread64(count, rows[i].pfn, &c) ||
		    pt_pread64(flags, rows[i].pfn, &f))
			continue;
		rows[i].mapcount = (int)c;
		pt_decode_kpageflags(f, &rows[i]);
	}
	if (count >= 0)
		close(count);
	if (flags >= 0)
		close(flags);
	return ok;
}

static int pt_read_proc(pid_t pid, uint64_t addr, size_t n, size_t page,
			struct pt_page *rows, struct pt_view *v)
{
	bool pfns = false, present = false, kpages;
	char path[64];
	uint64_t e;
	size_t i;
	int fd, ret;

	ret = pt_mapped(pid, addr, n, page, rows);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		ret = pt_pread64(fd, (addr + i * page) / page, &e);
		if (ret)
			break;
		pt_decode_pagemap(e, &rows[i]);
		pfns |= rows[i].pfn >= 0;
		present |= !strcmp(rows[i].entry, "present");
	}
	close(fd);
	if (ret)
		return ret;
	kpages = pfns && pt_read_kpages(n, rows);
	snprintf(v->source, sizeof(v->source), "/proc/%d/pagemap", (int)pid);
	snprintf(v->missing, sizeof(v->missing),
		 "write, dirty, young, exclusive, refcount, level, order: /proc shows no such bits (load cowtrace.ko)%s",
		 pfns && !kpages ?
		 "; mapcount, page: /proc/kpagecount and /proc/kpageflags cannot be read" :
		 present && !pfns ?
		 "; pfn, mapcount, page: root only (pagemap hides pfns from others)" : "");
	return 0;
}

/* Whether the module's pages view can be read here. */
static bool pt_module(void)
{
	char path[512];

	if (!ct_probe() || ct_only_proc())
		return false;
	snprintf(path, sizeof(path), "%s/pages", ct_dir());
	return !access(path, R_OK | W_OK);
}

int pt_read(pid_t pid, uint64_t addr, size_t n, struct pt_page *rows,
	    struct pt_view *v)
{
	size_t page = sysconf(_SC_PAGESIZE), i;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < n; i++)
		pt_page_init(&rows[i], addr + i * page);
	if (pt_module()) {
		v->module = true;
		snprintf(v->source, sizeof(v->source), "cowtrace.ko");
		return pt_read_module(pid, addr, n, rows);
	}
	return pt_read_proc(pid, addr, n, page, rows, v);
}

/* ------------------------------------------------------------- output */

static const struct table_col cols[] = {
	{ "vaddr", TABLE_LEFT }, { "entry", TABLE_LEFT },
	{ "level", TABLE_LEFT }, { "pfn", TABLE_RIGHT },
	{ "write", TABLE_RIGHT }, { "dirty", TABLE_RIGHT },
	{ "young", TABLE_RIGHT }, { "soft_dirty", TABLE_RIGHT },
	{ "page", TABLE_LEFT }, { "order", TABLE_RIGHT },
	{ "exclusive", TABLE_RIGHT }, { "mapcount", TABLE_RIGHT },
	{ "refcount", TABLE_RIGHT }, { "swap", TABLE_LEFT },
};

/* Hex in the terminal, a number in JSON. */
static void table_hex(struct table *t, int64_t v)
{
	char buf[24];

	if (v < 0) {
		table_null(t);
	} else if (json_wtr) {
		table_uint(t, v);
	} else {
		snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
		table_str(t, buf);
	}
}

/* An address: hex text everywhere (past 2^53 a JSON number is not exact). */
static void table_addr(struct table *t, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	table_str(t, buf);
}

static void table_opt_str(struct table *t, const char *s)
{
	if (strcmp(s, "-"))
		table_str(t, s);
	else
		table_null(t);
}

void pages_table(const char *key, const struct pt_page *rows, size_t n)
{
	struct table *t = table_start(key, cols, ARRAY_SIZE(cols));
	size_t i;

	for (i = 0; i < n; i++) {
		const struct pt_page *p = &rows[i];

		table_row(t);
		table_addr(t, p->vaddr);
		table_str(t, p->entry);
		table_opt_str(t, p->level);
		table_hex(t, p->pfn);
		table_opt_int(t, p->write);
		table_opt_int(t, p->dirty);
		table_opt_int(t, p->young);
		table_opt_int(t, p->soft_dirty);
		table_opt_str(t, p->page);
		table_opt_int(t, p->order);
		table_opt_int(t, p->exclusive);
		table_opt_int(t, p->mapcount);
		table_opt_int(t, p->refcount);
		table_opt_str(t, p->swap);
	}
	table_end(t);
}

/* Why a read failed, in the words of what was asked. */
void pages_error(pid_t pid, int err, const struct pt_view *v)
{
	if (err == -ESRCH)
		p_err("pages: no process %d, or it has no memory any more (it exited)",
		      (int)pid);
	else if (err == -EINVAL)
		p_err("pages: %d is a kernel thread (no user pages), or the range is past the end of user space",
		      (int)pid);
	else if (err == -ENOENT && !v->module)
		p_err("pages: no process %d", (int)pid);
	else
		p_err("pages: reading the page tables of %d%s%s: %s", (int)pid,
		      v->module ? " from " : "", v->module ? v->source : "",
		      strerror(-err));
}
