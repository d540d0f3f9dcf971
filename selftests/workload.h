/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Workloads whose every page access is one fault, and a task measuring
 * itself around them (see tasks_view.h for why that is exact).
 */
#ifndef COWTRACE_WORKLOAD_H
#define COWTRACE_WORKLOAD_H

#include <sys/rseq.h>

#include "tasks_view.h"

/* Set by main() before anything runs. */
static size_t page_size;

static inline char *map_anon(size_t pages)
{
	char *p = mmap(NULL, pages * page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, pages * page_size, MADV_NOHUGEPAGE);
	return p;
}

/* The barriers keep every access: each page touched, in order, once. */
static inline void write_pages(char *p, size_t pages)
{
	size_t i;

	for (i = 0; i < pages; i++) {
		p[i * page_size] = 1;
		ct_barrier();
	}
}

static inline unsigned long read_pages(const char *p, size_t pages)
{
	unsigned long sum = 0;
	size_t i;

	for (i = 0; i < pages; i++) {
		ct_use(p[i * page_size]);
		sum += p[i * page_size];
	}
	return sum;
}

struct measure {
	struct ct_reader reader;
	struct ct_row before;
	int pid;
};

/*
 * Map every page of this program's own code: running code not yet run then
 * faults nothing, wherever the compiler placed it.
 */
static inline void warm_text(void)
{
	extern char __executable_start[], etext[];
	const char *p;

	for (p = __executable_start; p < etext; p += page_size)
		ct_use(*p);
}

/*
 * Write this thread's rseq area once, so that its page is this process's
 * own. The kernel writes the area (the CPU the thread runs on) on its way
 * back to user space after the thread moved, and since a fork that page is
 * shared with the child: the kernel's write, brought by whichever move
 * falls inside a window, would be a copy or a reuse the window never ran.
 * Adding zero atomically writes and changes nothing the kernel wrote.
 */
static inline void own_rseq_area(void)
{
	unsigned int *cpu_id_start;

	if (!__rseq_size)
		return;
	cpu_id_start = (unsigned int *)((char *)__builtin_thread_pointer() +
				    __rseq_offset);
	__atomic_fetch_add(cpu_id_start, 0, __ATOMIC_RELAXED);
}

static inline int measure_start(struct measure *m)
{
	m->pid = getpid();
	if (ct_reader_init(&m->reader))
		return -1;
	ct_reader_warm(&m->reader, m->pid);
	warm_text();
	own_rseq_area();
	return ct_read_row(&m->reader, m->pid, &m->before);
}

static inline int measure_end(struct measure *m, struct ct_row *delta)
{
	struct ct_row after;

	if (ct_read_row(&m->reader, m->pid, &after))
		return -1;
	ct_row_delta(&m->before, &after, delta);
	return 0;
}

#endif /* COWTRACE_WORKLOAD_H */
