// SPDX-License-Identifier: GPL-2.0
/*
 * The program cowlab exec executes by default: cowlab itself, re-executed
 * as a hidden helper that reads a share of a file-backed buffer (read
 * faults, with fault-around) and writes a share of an anonymous one (one
 * fault per page), can grow a mapping step by step while reporting its
 * RSS, and tells its parent each stage's fault counts (exec.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "engine/exec.h"
#include "lib/cowlab.h"
#include "lib/measure.h"

/*
 * The helper's buffers. file_buf is initialised, so it lives in the
 * binary's read-only data: a private file mapping, paged in from the page
 * cache. anon_buf is zero-initialised (.bss): anonymous memory.
 */
static const char file_buf[BUF_SIZE] __attribute__((aligned(4096))) = { 1 };
static char anon_buf[BUF_SIZE] __attribute__((aligned(4096)));

static void helper_send(int fd, enum helper_msg_kind kind, uint32_t step,
			uint64_t pages, uint64_t rss)
{
	struct helper_msg m = { .kind = kind, .step = step, .pages = pages,
				.rss = rss };
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	m.minflt = ru.ru_minflt;
	m.majflt = ru.ru_majflt;
	m.ts = now_ns();
	if (write_full(fd, &m, sizeof(m)))
		_exit(1);
}

/* The resident size from /proc/self/statm (pages), in bytes. */
static uint64_t self_rss(void)
{
	char *text = read_text_file("/proc/self/statm", NULL);
	unsigned long long size = 0, res = 0;

	if (text) {
		if (sscanf(text, "%llu %llu", &size, &res) != 2)
			res = 0;
		free(text);
	}
	return res * sysconf(_SC_PAGESIZE);
}

static void helper_mmap(int fd, uint64_t size)
{
	size_t pg = sysconf(_SC_PAGESIZE), npages = size / pg, done = 0;
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int step;

	if (p == MAP_FAILED)
		_exit(3);
	madvise(p, size, MADV_NOHUGEPAGE);
	helper_send(fd, MSG_MMAP, 0, 0, self_rss());
	for (step = 1; step <= MMAP_STEPS; step++) {
		size_t until = npages * step / MMAP_STEPS;

		for (; done < until; done++)
			p[done * pg] = 1;
		helper_send(fd, MSG_MMAP, step, done * pg, self_rss());
	}
}

/* Say where the buffers are, and wait until the parent has looked. */
static void helper_pages(int fd, int ack, uint32_t step)
{
	char c;

	if (ack < 0)
		return;
	helper_send(fd, MSG_PAGES, step, (uintptr_t)file_buf,
		    (uintptr_t)anon_buf);
	if (read(ack, &c, 1) != 1)
		_exit(1);
}

/*
 * cowlab __exec-helper FD PERCENT MMAP_SIZE ACK_FD: what the exec'd program
 * does. The measured loops touch one byte per page.
 */
int do_exec_helper(int argc, char **argv)
{
	size_t pg = sysconf(_SC_PAGESIZE), n, i;
	volatile const char *f = file_buf;
	unsigned long sum = 0;
	double pct;
	uint64_t msize;
	int fd, ack;

	helper_send(argc > 0 ? atoi(argv[0]) : -1, MSG_MAIN, 0, 0, 0);
	if (argc != 4)
		return 2;
	fd = atoi(argv[0]);
	ack = atoi(argv[3]);
	pct = strtod(argv[1], NULL);
	msize = strtoull(argv[2], NULL, 10);
	n = (size_t)(BUF_SIZE / pg * pct / 100 + 0.5);
	/* untouched yet: the parent may look (--pages) */
	madvise(anon_buf, BUF_SIZE, MADV_NOHUGEPAGE);
	helper_pages(fd, ack, 0);
	/* warm the measuring path so that its own faults come first */
	helper_send(fd, MSG_MAIN, 1, 0, 0);
	for (i = 0; i < n; i++)
		sum += f[i * pg];
	helper_send(fd, MSG_FILE, 0, n + (sum & 0), 0);
	helper_send(fd, MSG_FILE, 1, n, 0);
	for (i = 0; i < n; i++)
		((volatile char *)anon_buf)[i * pg] = 1;
	helper_send(fd, MSG_ANON, 0, n, 0);
	helper_pages(fd, ack, 1);
	if (msize)
		helper_mmap(fd, msize);
	helper_send(fd, MSG_END, 0, 0, 0);
	return 0;
}
