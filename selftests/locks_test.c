// SPDX-License-Identifier: GPL-2.0
/*
 * The locks view. File locks are exact: a known number of refused
 * non-blocking requests is that many conflicts on the refused task's row
 * for that inode, and a blocking wait lasts at least as long as the holder
 * kept the lock after the waiter started waiting. Kernel contention is
 * provoked (threads of one process mapping and unmapping, so they fight
 * over its mmap_lock; writers hammering one pipe) and must show on the
 * expected lock kind, with the per-task numbers adding up to the per-kind
 * totals in the same read.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#include "cowtrace_test.h"

#define LOCKS		COWTRACE_DEBUGFS_DIR "/locks"
#define CONTROL		COWTRACE_DEBUGFS_DIR "/control"

static char text[1 << 21];

/* The first line after the column line of the section named @title. */
static char *section(char *view, const char *title)
{
	char *p = strstr(view, title);
	int lines;

	/* Past the title line and the column line. */
	for (lines = 0; p && lines < 2; lines++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return p;
}

static bool end_of_section(const char *line)
{
	return !*line || !strncmp(line, "==", 2);
}

static const char *next_line(const char *line)
{
	const char *nl = strchr(line, '\n');

	return nl ? nl + 1 : line + strlen(line);
}

struct fl_row {
	int pid, tgid;
	char comm[32], type[8];
	unsigned int major, minor;
	unsigned long long ino, acquired, conflicts, waits, wait_ns, max_ns;
	int waiting;
};

/* The file-lock row of @pid on @path for lock type @type; -1 if none. */
static int file_row(const char *path, int pid, const char *type,
		    struct fl_row *out)
{
	const char *line;
	struct fl_row r;
	struct stat st;

	if (stat(path, &st) || cowtrace_read_file(LOCKS, text, sizeof(text)) < 0)
		return -1;
	line = section(text, "== file locks by task and file");
	for (; line && !end_of_section(line); line = next_line(line)) {
		if (sscanf(line, "%d %d %31s %7s %u:%u %llu %llu %llu %llu %llu %llu %d",
			   &r.pid, &r.tgid, r.comm, r.type, &r.major, &r.minor,
			   &r.ino, &r.acquired, &r.conflicts, &r.waits,
			   &r.wait_ns, &r.max_ns, &r.waiting) != 13)
			return -1;
		if (r.pid == pid && !strcmp(r.type, type) &&
		    r.ino == st.st_ino && r.major == major(st.st_dev) &&
		    r.minor == minor(st.st_dev)) {
			*out = r;
			return 0;
		}
	}
	return -1;
}

static void make_file(char *path)
{
	int fd = mkstemp(path);

	if (fd >= 0)
		close(fd);
}

/* Child: try @n times and report how many were refused as it should be. */
static int try_flock_nb(const char *path, int n)
{
	int fd = open(path, O_RDWR), refused = 0, i;

	for (i = 0; i < n; i++)
		if (flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK)
			refused++;
	return refused;
}

static int setlk(int fd, int cmd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };

	return fcntl(fd, cmd, &fl);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Until the view shows @pid waiting on @path; false after 10 s. */
static bool wait_until_waiting(const char *path, int pid, const char *type)
{
	struct fl_row r;
	int i;

	for (i = 0; i < 1000; i++) {
		if (!file_row(path, pid, type, &r) && r.waiting)
			return true;
		sleep_ms(10);
	}
	return false;
}

FIXTURE(locks) {
	char path[64];
};

FIXTURE_SETUP(locks)
{
	snprintf(self->path, sizeof(self->path), "/tmp/cowtrace-locks-XXXXXX");
	make_file(self->path);
	ASSERT_EQ(0, access(self->path, F_OK));
	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "locks reset"));
}

FIXTURE_TEARDOWN(locks)
{
	unlink(self->path);
}

TEST_F(locks, flock_conflicts_are_counted_exactly)
{
	int fd = open(self->path, O_RDWR), status;
	struct fl_row r;
	pid_t child;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, flock(fd, LOCK_EX));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0)
		_exit(try_flock_nb(self->path, 37));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(37, WEXITSTATUS(status));
	ASSERT_EQ(0, file_row(self->path, child, "flock", &r));
	EXPECT_EQ(37, r.conflicts);
	EXPECT_EQ(0, r.acquired);
	EXPECT_EQ(0, r.waits);
	EXPECT_EQ(child, r.tgid);
	ASSERT_EQ(0, file_row(self->path, getpid(), "flock", &r));
	EXPECT_EQ(1, r.acquired);
	EXPECT_EQ(0, r.conflicts);
	close(fd);
}

/*
 * An fcntl() refused before it tried to take anything (a write lock on a
 * file open only for reading) is no lock activity: it makes no row.
 */
TEST_F(locks, an_fcntl_refused_before_any_try_makes_no_row)
{
	int fd = open(self->path, O_RDONLY);
	struct fl_row r;

	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, setlk(fd, F_SETLK, F_WRLCK));
	ASSERT_EQ(EBADF, errno);
	EXPECT_EQ(-1, file_row(self->path, getpid(), "posix", &r)) {
		TH_LOG("a row: acquired %llu conflicts %llu waits %llu",
		       r.acquired, r.conflicts, r.waits);
	}
	close(fd);
}

#define MANY_FILES	300

/*
 * Each file locked makes a row of its own, exactly counted. Made one after
 * another, hundreds of rows also make the slab allocator refill while the
 * module allocates them: on the debug series lockdep (with raw lock
 * nesting) reports a row allocated under a raw spinlock, as it did on the
 * module before rows were allocated outside its lock.
 */
TEST_F(locks, each_file_locked_has_a_row_of_its_own)
{
	char paths[MANY_FILES][64];
	int fds[MANY_FILES], i, exact = 0;
	struct fl_row r;

	for (i = 0; i < MANY_FILES; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/tmp/cowtrace-many-XXXXXX");
		make_file(paths[i]);
		fds[i] = open(paths[i], O_RDWR);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, flock(fds[i], LOCK_EX));
	}
	for (i = 0; i < MANY_FILES; i++) {
		if (!file_row(paths[i], getpid(), "flock", &r) &&
		    r.acquired == 1 && r.conflicts == 0)
			exact++;
		close(fds[i]);
		unlink(paths[i]);
	}
	EXPECT_EQ(MANY_FILES, exact);
}

TEST_F(locks, posix_and_ofd_conflicts_are_counted_exactly)
{
	int fd = open(self->path, O_RDWR), status, i, refused;
	struct fl_row r;
	pid_t child;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setlk(fd, F_SETLK, F_WRLCK));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int cfd = open(self->path, O_RDWR);

		for (i = refused = 0; i < 11; i++)
			refused += setlk(cfd, F_SETLK, F_WRLCK) && errno == EAGAIN;
		for (i = 0; i < 13; i++)
			refused += setlk(cfd, F_OFD_SETLK, F_RDLCK) &&
				   errno == EAGAIN;
		_exit(refused);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(24, WEXITSTATUS(status));
	ASSERT_EQ(0, file_row(self->path, child, "posix", &r));
	EXPECT_EQ(11, r.conflicts);
	EXPECT_EQ(0, r.acquired);
	ASSERT_EQ(0, file_row(self->path, child, "ofd", &r));
	EXPECT_EQ(13, r.conflicts);
	EXPECT_EQ(0, r.acquired);
	ASSERT_EQ(0, file_row(self->path, getpid(), "posix", &r));
	EXPECT_EQ(1, r.acquired);
	close(fd);
}

/*
 * The holder keeps the lock @hold_ms after the view shows the child
 * waiting, so the child's wait is at least that long.
 */
static void blocking_wait(struct __test_metadata *_metadata, const char *path,
			  const char *type, long hold_ms)
{
	bool posix = !strcmp(type, "posix");
	int fd = open(path, O_RDWR), status;
	struct fl_row r;
	pid_t child;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, posix ? setlk(fd, F_SETLK, F_WRLCK) : flock(fd, LOCK_EX));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int cfd = open(path, O_RDWR);

		_exit(posix ? setlk(cfd, F_SETLKW, F_WRLCK) != 0 :
			      flock(cfd, LOCK_EX) != 0);
	}
	ASSERT_TRUE(wait_until_waiting(path, child, type));
	sleep_ms(hold_ms);
	ASSERT_EQ(0, posix ? setlk(fd, F_SETLK, F_UNLCK) : flock(fd, LOCK_UN));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, file_row(path, child, type, &r));
	EXPECT_EQ(1, r.waits);
	EXPECT_EQ(1, r.acquired);
	EXPECT_EQ(0, r.conflicts);
	EXPECT_EQ(0, r.waiting);
	EXPECT_LE(hold_ms * 1000000ULL, r.wait_ns);
	EXPECT_EQ(r.wait_ns, r.max_ns);
	close(fd);
}

TEST_F(locks, fcntl_setlkw_wait_is_timed)
{
	blocking_wait(_metadata, self->path, "posix", 300);
}

TEST_F(locks, flock_wait_is_timed)
{
	blocking_wait(_metadata, self->path, "flock", 300);
}

TEST_F(locks, reset_forgets_file_locks)
{
	int fd = open(self->path, O_RDWR);
	struct fl_row r;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, flock(fd, LOCK_EX));
	ASSERT_EQ(0, file_row(self->path, getpid(), "flock", &r));
	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "locks reset\n"));
	EXPECT_EQ(-1, file_row(self->path, getpid(), "flock", &r));
	close(fd);
}

/* ------------------------------------------------ kernel contention */

struct cn_stat {
	unsigned long long count, wait_ns, max_ns, avg_ns;
};

struct cn_sums {
	struct cn_stat kinds, tasks, ours, rwsem_w, rwsem_r, mutex;
	unsigned long long lost_nested, lost_tasks, lost_sites;
	unsigned int nkinds, ntasks;
	bool lockdep;		/* every mutex_lock() counts */
};

static int parse_stat(const char *p, struct cn_stat *s)
{
	return sscanf(p, "%llu %llu %llu %llu", &s->count, &s->wait_ns,
		      &s->max_ns, &s->avg_ns) == 4 ? 0 : -1;
}

static void add(struct cn_stat *to, const struct cn_stat *s)
{
	to->count += s->count;
	to->wait_ns += s->wait_ns;
}

/* Sums over the kinds and over the tasks of one read of the view. */
static int read_contention(struct cn_sums *c, int tgid)
{
	char kind[32], comm[32];
	const char *line;
	struct cn_stat s;
	int pid, task_tgid, n;

	memset(c, 0, sizeof(*c));
	if (cowtrace_read_file(LOCKS, text, sizeof(text)) < 0)
		return -1;
	line = strstr(text, "\nlockdep ");
	if (!line)
		return -1;
	c->lockdep = !strncmp(line, "\nlockdep 1 ", 11);
	line = strstr(text, "lost nested");
	if (!line || sscanf(line, "lost nested %llu sleepers %*d sites %llu tasks %llu",
			    &c->lost_nested, &c->lost_sites,
			    &c->lost_tasks) != 3)
		return -1;
	line = section(text, "== contention by kind");
	for (; line && !end_of_section(line); line = next_line(line)) {
		if (sscanf(line, "%31s %n", kind, &n) != 1 ||
		    parse_stat(line + n, &s))
			return -1;
		add(&c->kinds, &s);
		c->nkinds++;
		if (!strcmp(kind, "rwsem:W"))
			c->rwsem_w = s;
		if (!strcmp(kind, "rwsem:R"))
			c->rwsem_r = s;
		if (!strcmp(kind, "mutex"))
			c->mutex = s;
	}
	line = section(text, "== contention by task");
	for (; line && !end_of_section(line); line = next_line(line)) {
		if (sscanf(line, "%d %d %31s %n", &pid, &task_tgid, comm,
			   &n) != 3 || parse_stat(line + n, &s))
			return -1;
		add(&c->tasks, &s);
		c->ntasks++;
		if (task_tgid == tgid)
			add(&c->ours, &s);
	}
	return c->nkinds == 13 ? 0 : -1;
}

#define MAPPERS		4
static int map_rounds = 4000;

static void *mapper(void *arg)
{
	long page = sysconf(_SC_PAGESIZE);
	int rounds = *(int *)arg, i;

	for (i = 0; i < rounds; i++) {
		char *p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return (void *)1;
		p[0] = 1;	/* a fault: mmap_lock for reading */
		munmap(p, 4 * page);
	}
	return NULL;
}

static void run_threads(void *(*fn)(void *), void *arg, int n)
{
	pthread_t t[16];
	int i;

	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, fn, arg);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/* Sums that disagree, or a table that overflowed, fail with the numbers. */
static void check_sums(struct __test_metadata *_metadata, struct cn_sums *c)
{
	ASSERT_EQ(0, c->lost_tasks);
	EXPECT_EQ(c->kinds.count, c->tasks.count);
	EXPECT_EQ(c->kinds.wait_ns, c->tasks.wait_ns);
}

/*
 * perf_lock_test.sh runs this test under perf lock record, which starts
 * before this process does: it resets the counts itself, before perf, and
 * sets CT_LOCKS_KEEP so that the module counts all that perf records (a
 * reset here came after this process's own first waits, which perf had).
 */
TEST(mmap_threads_contend_on_the_mmap_lock)
{
	struct cn_sums c;

	if (!getenv("CT_LOCKS_KEEP"))
		ASSERT_EQ(0, cowtrace_write_file(CONTROL, "locks reset"));
	run_threads(mapper, &map_rounds, MAPPERS);
	ASSERT_EQ(0, read_contention(&c, getpid()));
	TH_LOG("rwsem:W %llu (%llu ns), rwsem:R %llu, ours %llu of %llu",
	       c.rwsem_w.count, c.rwsem_w.wait_ns, c.rwsem_r.count,
	       c.ours.count, c.kinds.count);
	EXPECT_LT(0, c.rwsem_w.count + c.rwsem_r.count);
	EXPECT_LT(0, c.ours.count);
	check_sums(_metadata, &c);
}

#define WRITERS		4
#define PIPE_WRITES	20000

/* Small writes from several threads: each takes the pipe's mutex. */
static void *pipe_writer(void *arg)
{
	int fd = *(int *)arg, i;
	char byte = 'x';

	for (i = 0; i < PIPE_WRITES; i++)
		if (write(fd, &byte, 1) != 1)
			return (void *)1;
	return NULL;
}

/* WRITERS threads write one byte at a time to a pipe a child drains. */
static void contend_on_a_pipe(struct __test_metadata *_metadata)
{
	long total = 0, n;
	char buf[4096];
	int p[2], status;
	pid_t reader;

	ASSERT_EQ(0, pipe(p));
	reader = fork();
	ASSERT_LE(0, reader);
	if (reader == 0) {
		close(p[1]);
		while ((n = read(p[0], buf, sizeof(buf))) > 0)
			total += n;
		_exit(total == WRITERS * PIPE_WRITES ? 0 : 1);
	}
	close(p[0]);
	run_threads(pipe_writer, &p[1], WRITERS);
	close(p[1]);
	ASSERT_EQ(reader, waitpid(reader, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/*
 * Whether the writers' waits reach the slow path, where contention is
 * traced, is up to the scheduler: under emulation a round can pass with
 * none. Rounds until one shows, as contend_until_seen() does.
 */
TEST(pipe_writers_contend_on_the_pipe_mutex)
{
	struct cn_sums c;
	int round;

	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "locks reset"));
	for (round = 0; round < 20; round++) {
		contend_on_a_pipe(_metadata);
		ASSERT_EQ(0, read_contention(&c, getpid()));
		if (c.mutex.count && c.ours.count)
			break;
	}
	TH_LOG("%d rounds", round + 1);
	TH_LOG("mutex %llu (%llu ns), ours %llu of %llu", c.mutex.count,
	       c.mutex.wait_ns, c.ours.count, c.kinds.count);
	EXPECT_LT(0, c.mutex.count);
	EXPECT_LT(0, c.ours.count);
	check_sums(_metadata, &c);
}

/*
 * Rows of the contention-by-task section, in the last read, of task @pid,
 * or with @tgid of the threads of process @pid.
 */
static int rows_of(pid_t pid, bool tgid)
{
	const char *line = section(text, "== contention by task");
	int n = 0, p, tg;

	for (; line && !end_of_section(line); line = next_line(line))
		if (sscanf(line, "%d %d", &p, &tg) == 2)
			n += (tgid ? tg : p) == pid;
	return n;
}

/* Rows of the contention-by-task section for task @pid, read now. */
static int task_rows(pid_t pid)
{
	if (cowtrace_read_file(LOCKS, text, sizeof(text)) < 0)
		return -1;
	return rows_of(pid, false);
}

/*
 * Everything since the last reset: a reset clears the tables at once. With
 * lockdep, every mutex_lock() is a contention: between the reset and the
 * snapshot this process takes exactly one, its read's seq_file mutex. The
 * contention comes from a child that was reaped before the reset: threads
 * of this process would still be exiting (taking mutexes) after their join.
 */
TEST(contention_reset_clears)
{
	struct cn_sums c;
	int status;
	pid_t child;

	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		run_threads(mapper, &map_rounds, MAPPERS);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_LE(0, cowtrace_read_file(LOCKS, text, sizeof(text)));
	ASSERT_LT(0, rows_of(child, true));
	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "locks reset"));
	ASSERT_EQ(0, read_contention(&c, getpid()));
	EXPECT_EQ(c.lockdep ? 1 : 0, c.ours.count);
	EXPECT_EQ(0, rows_of(child, true));
}

#define BIG_READ	(4 << 20)
#define BIG_READS	20

/*
 * Threads reading one shared file description in big chunks: read() holds
 * the file's f_pos_lock mutex for the whole copy, so the other thread's
 * read waits for it, long enough to go to sleep.
 */
static void *big_reader(void *arg)
{
	int fd = *(int *)arg, i;
	char *buf = malloc(BIG_READ);

	for (i = 0; buf && i < BIG_READS; i++)
		if (read(fd, buf, BIG_READ) <= 0)
			lseek(fd, 0, SEEK_SET);
	free(buf);
	return NULL;
}

/*
 * A mutex wait that goes to sleep begins twice (the optimistic spin, then
 * the sleep): the inner begin is lost as nested. Reset forgets that too.
 */
TEST(contention_reset_clears_the_lost_counts)
{
	char path[] = "/tmp/locks_test.XXXXXX";
	struct cn_sums c;
	int fd;

	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	unlink(path);
	ASSERT_EQ(0, ftruncate(fd, 4 * BIG_READ));
	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "locks reset"));
	run_threads(big_reader, &fd, 2);
	close(fd);
	ASSERT_EQ(0, read_contention(&c, getpid()));
	TH_LOG("lost nested %llu before the reset", c.lost_nested);
	ASSERT_LT(0, c.lost_nested);
	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "locks reset"));
	ASSERT_EQ(0, read_contention(&c, getpid()));
	EXPECT_EQ(0, c.lost_nested);
}

/* Contend on the mmap lock, this thread too, until its pid has @rows. */
static int contend_until_seen(int rows)
{
	unsigned int rounds = 500, i, k;
	pthread_t t[3];

	for (i = 0; i < 50; i++) {
		if (task_rows(getpid()) >= rows)
			return 0;
		for (k = 0; k < ARRAY_SIZE(t); k++)
			pthread_create(&t[k], NULL, mapper, &rounds);
		mapper(&rounds);
		for (k = 0; k < ARRAY_SIZE(t); k++)
			pthread_join(t[k], NULL);
	}
	return -1;
}

/*
 * A task that got the pid of one that exited is another task: contention
 * by task keeps their rows apart (a task is its pid and its start).
 */
TEST(a_reused_pid_contends_as_another_task)
{
	pid_t first, again;
	int status;

	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "locks reset"));
	first = fork();
	ASSERT_LE(0, first);
	if (!first)
		_exit(contend_until_seen(1) ? 1 : 0);
	ASSERT_EQ(first, waitpid(first, &status, 0));
	ASSERT_EQ(0, status);
	again = cowtrace_fork_with_pid(first);
	/* The first one's row, and its own once it contended. */
	if (!again)
		_exit(contend_until_seen(2) ? 1 : 0);
	ASSERT_EQ(first, again) {
		TH_LOG("clone3 with set_tid %d: %s", first, strerror(errno));
	}
	ASSERT_EQ(again, waitpid(again, &status, 0));
	ASSERT_EQ(0, status);
	EXPECT_EQ(2, task_rows(first));
}

/*
 * The waits counted at call site @fn (0 if none), and the most counted at
 * any one site.
 */
static long long site_waits(const char *fn, long long *most)
{
	unsigned long long count;
	long long n = 0;
	const char *line;
	char caller[256];

	*most = 0;
	if (cowtrace_read_file(LOCKS, text, sizeof(text)) < 0)
		return -1;
	line = section(text, "== contention by call site");
	for (; line && !end_of_section(line); line = next_line(line)) {
		if (sscanf(line, "%*s %llu %*u %*u %*u %255s", &count, caller) != 2)
			continue;
		if (!strncmp(caller, fn, strlen(fn)) && caller[strlen(fn)] == '+')
			n = count;
		if ((long long)count > *most)
			*most = count;
	}
	return n;
}

/*
 * Waits whose call site is in a module that was then unloaded: the view
 * never names them by an address that is now nothing (or another module's
 * code). It starts over, and says when and why.
 */
TEST(call_sites_in_an_unloaded_module_are_never_misnamed)
{
	long long waits = 0, most;
	int i;

	if (!cowtrace_have_testmod("ct_contend"))
		SKIP(return, "no ct_contend.ko in $CT_TESTMOD_DIR or testmod/");
	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "locks reset"));
	ASSERT_EQ(0, cowtrace_testmod("ct_contend", true));
	/* Enough of its waits to stand out from anything after the unload. */
	for (i = 0; i < 400 && waits < 100; i++) {
		sleep_ms(50);
		waits = site_waits("ct_contend_fn", &most);
	}
	ASSERT_EQ(0, cowtrace_testmod("ct_contend", false));
	ASSERT_LE(100, waits);
	/* Its waits are gone, under its name or any other. */
	EXPECT_EQ(0, site_waits("ct_contend_fn", &most));
	EXPECT_GT(waits, most) {
		TH_LOG("a site kept %lld waits after the unload:\n%s", most,
		       section(text, "== contention by call site"));
	}
	EXPECT_NE(NULL, strstr(text, "cleared when module ct_contend, where"));
}

int main(int argc, char **argv)
{
	return cowtrace_test_main(argc, argv);
}
