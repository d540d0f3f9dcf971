/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading one task's row of the tasks view, and the kernel's own fault
 * counts for it, without the reading itself showing in what is measured.
 *
 * A read() into a buffer faults its pages in. So each reader owns a buffer
 * that it touches whole before its first measurement (ct_reader_warm());
 * from then on reading the view and parsing it fault nothing, and the
 * difference between two rows is exactly what ran in between.
 */
#ifndef COWTRACE_TASKS_VIEW_H
#define COWTRACE_TASKS_VIEW_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ct_file.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define CT_HEADER "pid tgid comm state faults cow_copy cow_reuse cow_zero " \
	"fault_anon fault_file fault_major fault_swap forks threads execs "  \
	"cow_copy_anon cow_copy_file thp_anon thp_reuse wp_shared fault_other " \
	"unclassified"

struct ct_row {
	int pid;
	int tgid;
	char comm[64];
	char state[16];
	unsigned long long c[COWTRACE_NR_COUNTERS];
};

struct ct_reader {
	char *buf;
	size_t size;
};

#define CT_READER_SIZE	(1024 * 1024)

/* Keep the compiler from merging or dropping stores to memory. */
static inline void ct_barrier(void)
{
	asm volatile("" ::: "memory");
}

/* A load whose value is used: the compiler must do it. */
static inline void ct_use(char c)
{
	asm volatile("" : : "r"(c));
}

static inline int ct_reader_init(struct ct_reader *r)
{
	r->size = CT_READER_SIZE;
	r->buf = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return r->buf == MAP_FAILED ? -1 : 0;
}

/* Parse one row; -1 if it is not @pid's or a column is unavailable. */
static inline int ct_parse_row(char *line, int pid, struct ct_row *row)
{
	char *p, *end;
	int off = 0, i;

	if (sscanf(line, "%d %d %63s %15s %n", &row->pid, &row->tgid,
		   row->comm, row->state, &off) != 4 || row->pid != pid)
		return -1;
	p = line + off;
	for (i = 0; i < COWTRACE_NR_COUNTERS; i++) {
		row->c[i] = strtoull(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
	}
	return 0;
}

/* @pid's row of @view ("tasks" or "processes"); -ENOENT if none. */
static inline int ct_read_view_row(struct ct_reader *r, const char *view,
				   int pid, struct ct_row *row)
{
	char path[128], *line, *next;
	ssize_t len;

	snprintf(path, sizeof(path), "%s/%s", COWTRACE_DEBUGFS_DIR, view);
	len = cowtrace_read_file(path, r->buf, r->size);
	if (len < 0)
		return len;
	for (line = strchr(r->buf, '\n'); line; line = next) {
		*line++ = '\0';
		next = strchr(line, '\n');
		if (next)
			*next = '\0';
		if (!ct_parse_row(line, pid, row))
			return 0;
		if (next)
			*next = '\n';
	}
	return -ENOENT;
}

static inline int ct_read_row(struct ct_reader *r, int pid,
			      struct ct_row *row)
{
	return ct_read_view_row(r, "tasks", pid, row);
}

/* Touch the whole buffer and take one reading, so later ones fault none. */
static inline void ct_reader_warm(struct ct_reader *r, int pid)
{
	struct ct_row row;

	memset(r->buf, 0, r->size);
	ct_read_row(r, pid, &row);
}

/* @after - @before, column by column. */
static inline void ct_row_delta(const struct ct_row *before,
				const struct ct_row *after, struct ct_row *d)
{
	int i;

	*d = *after;
	for (i = 0; i < COWTRACE_NR_COUNTERS; i++)
		d->c[i] = after->c[i] - before->c[i];
}

/* Every fault has exactly one kind. */
static inline unsigned long long ct_row_kinds(const struct ct_row *row)
{
	static const int kinds[] = {
		COWTRACE_COW_COPY, COWTRACE_COW_REUSE, COWTRACE_COW_ZERO,
		COWTRACE_FAULT_ANON, COWTRACE_FAULT_FILE, COWTRACE_FAULT_SWAP,
		COWTRACE_THP_ANON, COWTRACE_THP_REUSE, COWTRACE_WP_SHARED,
		COWTRACE_FAULT_OTHER,
	};
	unsigned long long sum = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		sum += row->c[kinds[i]];
	return sum;
}

/* minflt + majflt from a /proc/.../stat file, or -1. */
static inline long long ct_kernel_faults(const char *stat_path)
{
	unsigned long long minflt, majflt;
	char text[1024], *p;

	if (cowtrace_read_file(stat_path, text, sizeof(text)) < 0)
		return -1;
	p = strrchr(text, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %llu %*u %llu",
			 &minflt, &majflt) != 2)
		return -1;
	return minflt + majflt;
}

#endif /* COWTRACE_TASKS_VIEW_H */
