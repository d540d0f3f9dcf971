/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A task's page tables (lib/pagetable.c), from cowtrace.ko's pages view
 * or from /proc, and their table.
 */
#ifndef COWLAB_PAGETABLE_H
#define COWLAB_PAGETABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One virtual page of a task. Unknown numbers are -1. */
struct pt_page {
	uint64_t vaddr;
	char entry[12];		/* present none swap migration unmapped ... */
	char level[4];		/* pte, pmd or pud: the entry's table; "-" */
	int64_t pfn;
	int write, dirty, young, soft_dirty;	/* 0 or 1 */
	char page[8];		/* anon ksm file zero, or "-" */
	int order;		/* of the folio */
	int exclusive;		/* an anonymous page only this mm may write */
	int mapcount, refcount;
	char swap[24];		/* "TYPE:0xOFFSET" or "-" */
};

/* Where the rows came from, and which columns are missing and why. */
struct pt_view {
	bool module;
	char source[64];
	char missing[256];
};

/*
 * @n pages of @pid from @addr (page aligned): cowtrace.ko's pages view if
 * it can be read, else /proc. 0 or negative errno (-ESRCH: no such task,
 * or no memory; -EINVAL: a kernel thread or a bad range).
 */
int pt_read(pid_t pid, uint64_t addr, size_t n, struct pt_page *rows,
	    struct pt_view *v);
/* The pages view's text, header and @n rows (exposed for the unit tests). */
int pt_parse_view(char *text, size_t n, struct pt_page *rows);
int pt_parse_row(const char *line, struct pt_page *p);
void pt_decode_pagemap(uint64_t e, struct pt_page *p);
void pt_decode_kpageflags(uint64_t flags, struct pt_page *p);
/* The rows as a table (text or JSON), and a read's error. */
void pages_table(const char *key, const struct pt_page *rows, size_t n);
void pages_error(pid_t pid, int err, const struct pt_view *v);

#endif /* COWLAB_PAGETABLE_H */
