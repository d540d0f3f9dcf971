// SPDX-License-Identifier: GPL-2.0
/*
 * The pages view: one task's page tables, a row per virtual page, for a
 * query written on the reader's own open file. The picture of fork, step by
 * step and exactly: after fork both sides map the same page read-only with
 * mapcount 2; the child's write gives it a new exclusive page; the parent's
 * page is then mapped once, and its own write reuses it in place. Then
 * every kind of query the view must refuse, with the error it must give,
 * and queries racing a task that maps, unmaps, forks and exits.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "cowtrace_test.h"

#define PAGES	COWTRACE_DEBUGFS_DIR "/pages"
#define NPAGES	8
#define ROWS_MAX 4096

struct prow {
	unsigned long vaddr;
	char entry[16];
	char level[8];
	long long pfn;			/* -1: "-" */
	int write, dirty, young, special, soft_dirty, uffd_wp;
	char page[8];
	int order, exclusive, mapcount, refcount;
	char swap[32];
};

static size_t page_size;

static int field(const char *s)
{
	return strcmp(s, "-") ? atoi(s) : -1;
}

/* One of the row's fields that may be "-". */
#define W	" %23s"

static int parse_row(const char *line, struct prow *r)
{
	char v[13][24];

	if (sscanf(line, "%lx %15s %7s" W W W W W W W " %7s" W W W W " %31s",
		   &r->vaddr, r->entry, r->level, v[0], v[1], v[2], v[3],
		   v[4], v[5], v[6], r->page, v[7], v[8], v[9], v[10],
		   r->swap) != 16)
		return -1;
	r->pfn = strcmp(v[0], "-") ? strtoll(v[0], NULL, 16) : -1;
	r->write = field(v[1]);
	r->dirty = field(v[2]);
	r->young = field(v[3]);
	r->special = field(v[4]);
	r->soft_dirty = field(v[5]);
	r->uffd_wp = field(v[6]);
	r->order = field(v[7]);
	r->exclusive = field(v[8]);
	r->mapcount = field(v[9]);
	r->refcount = field(v[10]);
	return 0;
}

/* Write @query on @fd: 0 or -errno. */
static int query(int fd, const char *q)
{
	ssize_t n = write(fd, q, strlen(q));

	return n < 0 ? -errno : n == (ssize_t)strlen(q) ? 0 : -EIO;
}

static char text[ROWS_MAX * 160 + 4096];

/* Read @fd's rows from the top into @rows: their number, or -errno. */
static int read_rows(int fd, struct prow *rows, int max)
{
	size_t len = 0;
	char *line, *save;
	ssize_t n;
	int i = -1;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	while ((n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += n;
	if (n < 0)
		return -errno;
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), i++) {
		if (i < 0) {
			if (strncmp(line, "vaddr entry level pfn ", 22))
				return -EPROTO;
			continue;
		}
		if (i >= max || parse_row(line, &rows[i]))
			return -EPROTO;
	}
	return i < 0 ? -EPROTO : i;
}

/* The rows of @n pages of @pid from @addr, on a file of their own. */
static int pages_of(pid_t pid, void *addr, int n, struct prow *rows)
{
	char q[64];
	int fd, ret;

	fd = open(PAGES, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(q, sizeof(q), "%d %p %d", pid, addr, n);
	ret = query(fd, q);
	if (!ret)
		ret = read_rows(fd, rows, n);
	close(fd);
	return ret;
}

static char *map_pages(int n)
{
	char *p = mmap(NULL, n * page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

FIXTURE(pages) {
	int fd;
	struct prow rows[NPAGES];
	struct prow child[NPAGES];
};

FIXTURE_SETUP(pages)
{
	cowtrace_require_module();
	self->fd = open(PAGES, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(pages)
{
	close(self->fd);
}

TEST_F(pages, fresh_anonymous_pages_are_none_then_exclusive)
{
	char *p = map_pages(NPAGES);
	int i;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(NPAGES, pages_of(getpid(), p, NPAGES, self->rows));
	for (i = 0; i < NPAGES; i++) {
		EXPECT_EQ((unsigned long)p + i * page_size, self->rows[i].vaddr);
		EXPECT_STREQ("none", self->rows[i].entry);
		EXPECT_EQ(-1, self->rows[i].pfn);
	}
	for (i = 0; i < NPAGES; i++)
		p[i * page_size] = 1;
	ASSERT_EQ(NPAGES, pages_of(getpid(), p, NPAGES, self->rows));
	for (i = 0; i < NPAGES; i++) {
		struct prow *r = &self->rows[i];

		EXPECT_STREQ("present", r->entry);
		EXPECT_STREQ("pte", r->level);
		EXPECT_STREQ("anon", r->page);
		EXPECT_EQ(1, r->write);
		EXPECT_EQ(1, r->dirty);
		EXPECT_EQ(1, r->exclusive);
		EXPECT_EQ(1, r->mapcount);
		EXPECT_EQ(0, r->order);
		EXPECT_LT(0, r->pfn);
	}
	munmap(p, NPAGES * page_size);
}

/* A read of untouched private memory maps the shared zero page. */
TEST_F(pages, a_read_maps_the_zero_page)
{
	char *p = map_pages(1);

	ASSERT_NE(NULL, p);
	/* No huge zero page: one small page, in a VMA too small for one. */
	ASSERT_EQ(0, p[0]);
	ASSERT_EQ(1, pages_of(getpid(), p, 1, self->rows));
	EXPECT_STREQ("present", self->rows[0].entry);
	EXPECT_STREQ("zero", self->rows[0].page);
	EXPECT_EQ(0, self->rows[0].write);
	EXPECT_EQ(-1, self->rows[0].mapcount);
	munmap(p, page_size);
}

TEST_F(pages, a_hole_is_unmapped)
{
	char *p = map_pages(3);

	ASSERT_NE(NULL, p);
	p[0] = 1;
	p[2 * page_size] = 1;
	ASSERT_EQ(0, munmap(p + page_size, page_size));
	ASSERT_EQ(3, pages_of(getpid(), p, 3, self->rows));
	EXPECT_STREQ("present", self->rows[0].entry);
	EXPECT_STREQ("unmapped", self->rows[1].entry);
	EXPECT_STREQ("-", self->rows[1].level);
	EXPECT_STREQ("present", self->rows[2].entry);
	munmap(p, 3 * page_size);
}

TEST_F(pages, a_file_page_is_file)
{
	char *p;
	int fd;

	fd = memfd_create("pages_test", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, page_size));
	p = mmap(NULL, page_size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, p[0]);
	ASSERT_EQ(1, pages_of(getpid(), p, 1, self->rows));
	EXPECT_STREQ("present", self->rows[0].entry);
	EXPECT_STREQ("file", self->rows[0].page);
	EXPECT_EQ(-1, self->rows[0].exclusive);
	EXPECT_EQ(1, self->rows[0].mapcount);
	munmap(p, page_size);
	close(fd);
}

/* A private file mapping: the file's page until written, then a copy. */
TEST_F(pages, a_private_file_page_is_copied_on_write)
{
	long long file_pfn;
	char *p;
	int fd;

	fd = memfd_create("pages_test", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, page_size));
	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, p[0]);
	ASSERT_EQ(1, pages_of(getpid(), p, 1, self->rows));
	EXPECT_STREQ("file", self->rows[0].page);
	EXPECT_EQ(0, self->rows[0].write);
	EXPECT_EQ(-1, self->rows[0].exclusive);
	file_pfn = self->rows[0].pfn;
	p[0] = 1;
	ASSERT_EQ(1, pages_of(getpid(), p, 1, self->rows));
	EXPECT_STREQ("anon", self->rows[0].page);
	EXPECT_NE(file_pfn, self->rows[0].pfn);
	EXPECT_EQ(1, self->rows[0].write);
	EXPECT_EQ(1, self->rows[0].exclusive);
	EXPECT_EQ(1, self->rows[0].mapcount);
	munmap(p, page_size);
	close(fd);
}

#define HPAGE		(2UL << 20)
#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"

/* A PMD-aligned huge page's worth of anonymous memory. */
static char *map_aligned(void)
{
	char *area = mmap(NULL, 2 * HPAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (area == MAP_FAILED)
		return NULL;
	return (char *)(((unsigned long)area + HPAGE - 1) & ~(HPAGE - 1));
}

/* With THP: one pmd maps 512 pages of one order-9 folio, pfns in a row. */
TEST_F(pages, a_huge_page_is_one_pmd_of_512_pages)
{
	static struct prow rows[HPAGE / 4096];
	int n = HPAGE / page_size, i;
	char text[128], *p;

	if (cowtrace_read_file(THP_ENABLED, text, sizeof(text)) <= 0 ||
	    strstr(text, "[never]"))
		SKIP(return, "transparent huge pages are off");
	p = map_aligned();
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, madvise(p, HPAGE, MADV_HUGEPAGE));
	p[0] = 1;
	ASSERT_EQ(n, pages_of(getpid(), p, n, rows));
	if (strcmp(rows[0].level, "pmd"))
		SKIP(return, "no huge page was free to map (level %s)",
		     rows[0].level);
	for (i = 0; i < n; i++) {
		EXPECT_STREQ("pmd", rows[i].level);
		EXPECT_EQ(9, rows[i].order);
		EXPECT_EQ(rows[0].pfn + i, rows[i].pfn);
		EXPECT_STREQ("anon", rows[i].page);
		EXPECT_EQ(1, rows[i].exclusive);
	}
}

/* Without THP the same range is 4 KiB pages, each on its own pte. */
TEST_F(pages, without_thp_each_page_has_its_pte)
{
	char *p = map_aligned();
	int i;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, madvise(p, HPAGE, MADV_NOHUGEPAGE));
	for (i = 0; i < NPAGES; i++)
		p[i * page_size] = 1;
	ASSERT_EQ(NPAGES, pages_of(getpid(), p, NPAGES, self->rows));
	for (i = 0; i < NPAGES; i++) {
		EXPECT_STREQ("pte", self->rows[i].level);
		EXPECT_EQ(0, self->rows[i].order);
	}
}

/* Paged out to swap: a swap entry, its type and offset; no pfn. */
TEST_F(pages, a_swapped_out_page_is_a_swap_entry)
{
	bool made_swap = false;
	int i, ret;
	char *p;

	if (!cowtrace_have_swap()) {
		if (system(COWTRACE_ZRAM_ON))
			SKIP(return, "no swap, and zram swap could not be set up");
		made_swap = true;
	}
	p = map_pages(NPAGES);
	ASSERT_NE(NULL, p);
	for (i = 0; i < NPAGES; i++)
		p[i * page_size] = 1;
	ASSERT_EQ(0, madvise(p, NPAGES * page_size, MADV_PAGEOUT));
	ASSERT_EQ(NPAGES, pages_of(getpid(), p, NPAGES, self->rows));
	for (i = 0; i < NPAGES; i++) {
		unsigned int type;
		unsigned long off;

		EXPECT_STREQ("swap", self->rows[i].entry);
		EXPECT_STREQ("pte", self->rows[i].level);
		EXPECT_EQ(-1, self->rows[i].pfn);
		ret = sscanf(self->rows[i].swap, "%u:%lx", &type, &off);
		EXPECT_EQ(2, ret);
	}
	/* Read back: present again, the swap entry gone. */
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ(1, p[i * page_size]);
	ASSERT_EQ(NPAGES, pages_of(getpid(), p, NPAGES, self->rows));
	EXPECT_STREQ("present", self->rows[0].entry);
	EXPECT_STREQ("-", self->rows[0].swap);
	munmap(p, NPAGES * page_size);
	if (made_swap)
		EXPECT_EQ(0, system(COWTRACE_ZRAM_OFF));
}

/* The child waits for a byte on @cmd before each step, and answers on @ack. */
static void child_steps(char *p, int cmd, int ack)
{
	char b;

	while (read(cmd, &b, 1) == 1) {
		if (b == 'w')
			p[0] = 2;
		if (write(ack, &b, 1) != 1 || b == 'x')
			_exit(0);
	}
	_exit(1);
}

static int step(int cmd, int ack, char b)
{
	return write(cmd, &b, 1) == 1 && read(ack, &b, 1) == 1 ? 0 : -1;
}

/*
 * The seed picture, exactly: the parent's and the child's page tables at
 * each step of a fork, with pfns, write bits, mapcounts and exclusivity.
 */
TEST_F(pages, the_picture_of_fork)
{
	int cmd[2], ack[2], i, status;
	long long before[NPAGES];
	struct prow *par = self->rows, *chi = self->child;
	char *p = map_pages(NPAGES);
	pid_t child;

	/* On one CPU the parent's write reuses its page every time. */
	ASSERT_EQ(0, cowtrace_pin_cpu());
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, pipe(cmd));
	ASSERT_EQ(0, pipe(ack));
	for (i = 0; i < NPAGES; i++)
		p[i * page_size] = 1;
	ASSERT_EQ(NPAGES, pages_of(getpid(), p, NPAGES, par));
	for (i = 0; i < NPAGES; i++)
		before[i] = par[i].pfn;

	child = fork();
	ASSERT_LE(0, child);
	if (!child)
		child_steps(p, cmd[0], ack[1]);
	ASSERT_EQ(0, step(cmd[1], ack[0], 's'));

	/* After fork: the same pages, read-only on both sides, mapped twice. */
	ASSERT_EQ(NPAGES, pages_of(getpid(), p, NPAGES, par));
	ASSERT_EQ(NPAGES, pages_of(child, p, NPAGES, chi));
	for (i = 0; i < NPAGES; i++) {
		EXPECT_EQ(before[i], par[i].pfn);
		EXPECT_EQ(before[i], chi[i].pfn);
		EXPECT_EQ(0, par[i].write);
		EXPECT_EQ(0, chi[i].write);
		EXPECT_EQ(2, par[i].mapcount);
		EXPECT_EQ(0, par[i].exclusive);
		EXPECT_EQ(0, chi[i].exclusive);
	}

	/* The child writes page 0: a copy of its own. */
	ASSERT_EQ(0, step(cmd[1], ack[0], 'w'));
	ASSERT_EQ(NPAGES, pages_of(getpid(), p, NPAGES, par));
	ASSERT_EQ(NPAGES, pages_of(child, p, NPAGES, chi));
	EXPECT_NE(before[0], chi[0].pfn);
	EXPECT_EQ(1, chi[0].write);
	EXPECT_EQ(1, chi[0].mapcount);
	EXPECT_EQ(1, chi[0].exclusive);
	EXPECT_EQ(before[0], par[0].pfn);
	EXPECT_EQ(0, par[0].write);
	EXPECT_EQ(1, par[0].mapcount);
	for (i = 1; i < NPAGES; i++) {
		EXPECT_EQ(before[i], chi[i].pfn);
		EXPECT_EQ(2, chi[i].mapcount);
	}

	/* The parent writes page 0: mapped once, it is reused in place. */
	p[0] = 3;
	ASSERT_EQ(NPAGES, pages_of(getpid(), p, NPAGES, par));
	EXPECT_EQ(before[0], par[0].pfn);
	EXPECT_EQ(1, par[0].write);
	EXPECT_EQ(1, par[0].mapcount);
	EXPECT_EQ(1, par[0].exclusive);

	/* The child exits: the parent's other pages are its alone again. */
	ASSERT_EQ(0, step(cmd[1], ack[0], 'x'));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(NPAGES, pages_of(getpid(), p, NPAGES, par));
	for (i = 1; i < NPAGES; i++) {
		EXPECT_EQ(before[i], par[i].pfn);
		EXPECT_EQ(0, par[i].write);
		EXPECT_EQ(1, par[i].mapcount);
	}
	munmap(p, NPAGES * page_size);
}

/* Each open file has its own query: neither sees the other's rows. */
TEST_F(pages, two_readers_keep_their_own_rows)
{
	char *p = map_pages(NPAGES), q[64];
	int other;

	ASSERT_NE(NULL, p);
	other = open(PAGES, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	snprintf(q, sizeof(q), "%d %p 2", getpid(), p);
	ASSERT_EQ(0, query(self->fd, q));
	snprintf(q, sizeof(q), "%d %p 5", getpid(), p + page_size);
	ASSERT_EQ(0, query(other, q));
	EXPECT_EQ(2, read_rows(self->fd, self->rows, NPAGES));
	EXPECT_EQ((unsigned long)p, self->rows[0].vaddr);
	EXPECT_EQ(5, read_rows(other, self->rows, NPAGES));
	EXPECT_EQ((unsigned long)p + page_size, self->rows[0].vaddr);
	close(other);
	munmap(p, NPAGES * page_size);
}

/* A query rewinds: the next read starts at the header of its rows. */
TEST_F(pages, a_new_query_is_read_from_the_top)
{
	char *p = map_pages(NPAGES), q[64], buf[64];

	ASSERT_NE(NULL, p);
	snprintf(q, sizeof(q), "%d %p 1", getpid(), p);
	ASSERT_EQ(0, query(self->fd, q));
	while (read(self->fd, text, sizeof(text)) > 0)
		;
	snprintf(q, sizeof(q), "%d %p 3", getpid(), p);
	ASSERT_EQ(0, query(self->fd, q));
	ASSERT_EQ(6, read(self->fd, buf, 6));
	EXPECT_EQ(0, memcmp(buf, "vaddr ", 6));
	munmap(p, NPAGES * page_size);
}

TEST_F(pages, the_most_a_query_may_ask_is_4096_pages)
{
	char *p = map_pages(ROWS_MAX);
	static struct prow rows[ROWS_MAX];

	ASSERT_NE(NULL, p);
	EXPECT_EQ(ROWS_MAX, pages_of(getpid(), p, ROWS_MAX, rows));
	EXPECT_EQ((unsigned long)p + (ROWS_MAX - 1) * page_size,
		  rows[ROWS_MAX - 1].vaddr);
	munmap(p, ROWS_MAX * page_size);
}

TEST_F(pages, reading_before_a_query_is_enodata)
{
	char buf[64];

	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(ENODATA, errno);
}

/* Every bad query fails with its error and leaves the rows it had. */
TEST_F(pages, bad_queries_are_refused_and_change_nothing)
{
	static const char *const malformed[] = {
		" ", "abc", "1", "1 0x1000 2 3", "1  0x1000",
		"0 0x1000", "-1 0x1000", "1 0x1000 0", "1 0x1000 4097",
		"1 0x1001", "1 zz", "1 0x1000 -1", "1 0xffffffffffff000 2",
		"1 0x1000\n2",
	};
	char *p = map_pages(2), q[64], nul[] = "1 0x1000\0 2";
	unsigned int i;
	siginfo_t info;
	int status;
	pid_t zombie;

	ASSERT_NE(NULL, p);
	snprintf(q, sizeof(q), "%d %p 2", getpid(), p);
	ASSERT_EQ(0, query(self->fd, q));

	for (i = 0; i < ARRAY_SIZE(malformed); i++) {
		int ret = query(self->fd, malformed[i]);

		if (ret != -EINVAL)
			TH_LOG("query '%s' gave %d", malformed[i], ret);
		EXPECT_EQ(-EINVAL, ret);
	}
	EXPECT_EQ(-1, write(self->fd, nul, sizeof(nul) - 1));
	EXPECT_EQ(EINVAL, errno);
	/* kthreadd: a kernel thread has no user pages. */
	EXPECT_EQ(-EINVAL, query(self->fd, "2 0x1000"));
	/* A pid nobody has. */
	EXPECT_EQ(-ESRCH, query(self->fd, "4194304 0x1000"));
	EXPECT_EQ(-ESRCH, query(self->fd, "4194303 0x1000"));
	/* A task that exited and was not reaped: no memory any more. */
	zombie = fork();
	ASSERT_LE(0, zombie);
	if (!zombie)
		_exit(0);
	ASSERT_EQ(0, waitid(P_PID, zombie, &info, WEXITED | WNOWAIT));
	snprintf(q, sizeof(q), "%d 0x1000", zombie);
	EXPECT_EQ(-ESRCH, query(self->fd, q));
	ASSERT_EQ(zombie, waitpid(zombie, &status, 0));

	/* The rows of the last good query are still there. */
	EXPECT_EQ(2, read_rows(self->fd, self->rows, NPAGES));
	EXPECT_EQ((unsigned long)p, self->rows[0].vaddr);
	munmap(p, 2 * page_size);
}

/* Another pid namespace's reader names tasks by its own pids. */
TEST_F(pages, pids_are_the_writers_namespace)
{
	char *p = map_pages(1);
	pid_t child, parent = getpid();
	int status;

	ASSERT_NE(NULL, p);
	p[0] = 1;
	ASSERT_NE(1, parent);
	if (unshare(CLONE_NEWPID))
		SKIP(return, "cannot unshare a pid namespace");
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		char q[64];
		int fd = open(PAGES, O_RDWR | O_CLOEXEC), ok;

		/* Pid 1 is this child; its parent has no pid here. */
		snprintf(q, sizeof(q), "1 %p 1", p);
		ok = fd >= 0 && !query(fd, q) &&
		     read_rows(fd, self->rows, 1) == 1 &&
		     !strcmp(self->rows[0].page, "anon");
		snprintf(q, sizeof(q), "%d %p 1", parent, p);
		ok = ok && query(fd, q) == -ESRCH;
		_exit(ok ? 0 : 1);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	munmap(p, page_size);
}

/*
 * Queries while the task they ask about maps, unmaps, faults, forks and
 * exits: every query answers or fails with -ESRCH, and the kernel (on the
 * debug series: KASAN, lockdep) has nothing to say.
 */
TEST_F(pages, queries_race_a_changing_task)
{
	static struct prow rows[64];
	int i, ret, answered = 0, gone = 0, status;
	char *p, q[64];
	pid_t child;

	p = map_pages(64);
	ASSERT_NE(NULL, p);
	munmap(p, 64 * page_size);
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		for (i = 0; i < 300; i++) {
			char *m = mmap(p, 64 * page_size,
				       PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS |
				       MAP_FIXED_NOREPLACE, -1, 0);
			pid_t g;

			if (m == MAP_FAILED)
				_exit(1);
			memset(m, i, 64 * page_size);
			g = fork();
			if (!g)
				_exit(m[i % 64 * page_size] != (char)i);
			madvise(m, 32 * page_size, MADV_DONTNEED);
			waitpid(g, NULL, 0);
			munmap(m, 64 * page_size);
		}
		_exit(0);
	}
	snprintf(q, sizeof(q), "%d %p 64", child, p);
	for (i = 0; i < 4000 && !gone; i++) {
		ret = query(self->fd, q);
		if (ret == -ESRCH) {
			gone = 1;
			break;
		}
		ASSERT_EQ(0, ret);
		ASSERT_EQ(64, read_rows(self->fd, rows, 64));
		answered++;
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	TH_LOG("%d queries answered while the task changed", answered);
	EXPECT_LT(0, answered);
}

int main(int argc, char **argv)
{
	page_size = sysconf(_SC_PAGESIZE);
	return cowtrace_test_main(argc, argv);
}
