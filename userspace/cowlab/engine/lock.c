// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab lock engine.  Every party opens the counter file itself, so that
 * each has its own open file description: flock() locks belong to the
 * open file description, and a descriptor inherited across fork() would
 * share one lock between parent and child.  fcntl() (POSIX) locks belong
 * to the process, so threads of one process never exclude each other with
 * them; OFD locks belong to the open file description and do.
 *
 * The parties wait for one start signal so that they really overlap.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/lock.h"

const struct lock_method_info lock_methods[LOCK_NR_METHODS] = {
	[LOCK_NONE] = { "none", true, false, false,
		"no lock: pread, sched_yield, pwrite" },
	[LOCK_LOCKFILE] = { "lockfile", true, false, false,
		"lock file by access() then open(O_CREAT) without O_EXCL: check-then-create race" },
	[LOCK_EXCL] = { "lockfile-excl", true, false, true,
		"lock file by open(O_CREAT|O_EXCL): the check and the create are one step" },
	[LOCK_FLOCK] = { "flock", true, false, true,
		"flock(LOCK_EX), owned by the open file description" },
	[LOCK_FCNTL] = { "fcntl", true, false, true,
		"fcntl(F_SETLKW) POSIX record lock, owned by the process" },
	[LOCK_OFD] = { "ofd", true, false, true,
		"fcntl(F_OFD_SETLKW), owned by the open file description" },
	[LOCK_CAS] = { "cas", false, false, true,
		"atomic compare-and-swap on shared memory, no lock" },
	[LOCK_PETERSON] = { "peterson", false, true, true,
		"Peterson's algorithm with a seq_cst fence (two parties)" },
	[LOCK_PETERSON_NOFENCE] = { "peterson-nofence", false, true, false,
		"Peterson's algorithm without the fence: store-load reordering" },
	[LOCK_SPIN] = { "spin", false, false, true,
		"test-and-set spinlock (atomic exchange) in shared memory" },
	[LOCK_MUTEX] = { "mutex", false, false, true,
		"pthread mutex, PTHREAD_PROCESS_SHARED, in shared memory" },
};

void (*lock_around_hook)(bool after, dev_t dev, ino_t ino);

/* Everything the parties share; one page of MAP_SHARED memory. */
struct lock_shared {
	_Atomic int ready;
	_Atomic int go;
	_Atomic int failed;
	char pad1[52];
	_Atomic long counter;
	char pad2[56];
	_Atomic int spin;
	char pad3[60];
	_Atomic int flag[2];
	_Atomic int turn;
	char pad4[52];
	pthread_mutex_t mutex;
};

struct lock_ctx {
	enum lock_method m;
	const struct lock_params *p;
	struct lock_shared *sh;
	char dir[PATH_MAX];
	char path[PATH_MAX + 16];
	char lockpath[PATH_MAX + 16];
};

struct lock_party {
	struct lock_ctx *c;
	int id;
	pthread_t thread;
};

int lock_method_lookup(const char *name)
{
	int i;

	for (i = 0; i < LOCK_NR_METHODS; i++)
		if (!strcmp(name, lock_methods[i].name))
			return i;
	return -1;
}

bool lock_exact(enum lock_method m, bool threads)
{
	if (m == LOCK_FCNTL && threads)
		return false;
	return lock_methods[m].excludes;
}

int lock_check(enum lock_method m, const struct lock_params *p,
	       const char **why)
{
	*why = NULL;
	if ((unsigned int)m >= LOCK_NR_METHODS)
		*why = "unknown method";
	else if (p->procs < 1 || p->procs > LOCK_MAX_PROCS)
		*why = "--procs must be between 1 and 64";
	else if (p->count < 1 || p->count > LOCK_MAX_COUNT)
		*why = "--count must be between 1 and 10000000";
	else if (lock_methods[m].two_only && p->procs != 2)
		*why = "Peterson's algorithm is for exactly two parties (--procs 2)";
	return *why ? -EINVAL : 0;
}

static inline void cpu_relax(void)
{
#if __has_builtin(__builtin_ia32_pause)
	/* PAUSE: tell an x86 core that this is a spin-wait loop */
	__builtin_ia32_pause();
#endif
}

/* Spin politely: a party that holds the lock may be waiting for our CPU. */
static inline void backoff(unsigned long *spins)
{
	cpu_relax();
	if (++*spins % 128 == 0)
		sched_yield();
}

static int retry_eintr(int r)
{
	return r < 0 && errno == EINTR && !ilt_stopping();
}

static int take_lockfile(struct lock_ctx *c)
{
	int fd;

	if (c->m == LOCK_LOCKFILE) {
		while (access(c->lockpath, F_OK) == 0)
			sched_yield();
		/*
		 * Another party can pass the same check before we create the
		 * file; the yield only widens a window that is always there.
		 */
		sched_yield();
		fd = open(c->lockpath, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	} else {
		while ((fd = open(c->lockpath, O_WRONLY | O_CREAT | O_EXCL |
				  O_CLOEXEC, 0600)) < 0 && errno == EEXIST)
			sched_yield();
	}
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int fcntl_lock(struct lock_ctx *c, int fd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
	int cmd = c->m == LOCK_OFD ? F_OFD_SETLKW : F_SETLKW;
	int r;

	do {
		r = fcntl(fd, cmd, &fl);
	} while (retry_eintr(r));
	return r ? -errno : 0;
}

static void peterson_take(struct lock_shared *sh, int me)
{
	int other = 1 - me;
	unsigned long spins = 0;

	atomic_store_explicit(&sh->flag[me], 1, memory_order_relaxed);
	atomic_store_explicit(&sh->turn, other, memory_order_relaxed);
	/*
	 * x86 lets a load pass an earlier store to another address (the
	 * store waits in the store buffer).  Without this fence both parties
	 * can read the other's flag as 0 before their own flag is visible,
	 * and both enter.  A seq_cst fence (mfence) drains the store buffer.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	while (atomic_load_explicit(&sh->flag[other], memory_order_acquire) &&
	       atomic_load_explicit(&sh->turn, memory_order_acquire) == other)
		backoff(&spins);
}

static void peterson_nofence_take(struct lock_shared *sh, int me)
{
	int other = 1 - me;
	unsigned long spins = 0;

	atomic_store_explicit(&sh->flag[me], 1, memory_order_relaxed);
	atomic_store_explicit(&sh->turn, other, memory_order_relaxed);
	while (atomic_load_explicit(&sh->flag[other], memory_order_acquire) &&
	       atomic_load_explicit(&sh->turn, memory_order_acquire) == other)
		backoff(&spins);
}

static int lock_take(struct lock_ctx *c, int id, int fd)
{
	struct lock_shared *sh = c->sh;
	unsigned long spins = 0;
	int r;

	switch (c->m) {
	case LOCK_LOCKFILE:
	case LOCK_EXCL:
		return take_lockfile(c);
	case LOCK_FLOCK:
		do {
			r = flock(fd, LOCK_EX);
		} while (retry_eintr(r));
		return r ? -errno : 0;
	case LOCK_FCNTL:
	case LOCK_OFD:
		return fcntl_lock(c, fd, F_WRLCK);
	case LOCK_PETERSON:
		peterson_take(sh, id);
		return 0;
	case LOCK_PETERSON_NOFENCE:
		peterson_nofence_take(sh, id);
		return 0;
	case LOCK_SPIN:
		while (atomic_exchange_explicit(&sh->spin, 1,
						memory_order_acquire))
			while (atomic_load_explicit(&sh->spin,
						    memory_order_relaxed))
				backoff(&spins);
		return 0;
	case LOCK_MUTEX:
		return -pthread_mutex_lock(&sh->mutex);
	default:
		return 0;
	}
}

static int lock_give(struct lock_ctx *c, int id, int fd)
{
	struct lock_shared *sh = c->sh;

	switch (c->m) {
	case LOCK_LOCKFILE:
	case LOCK_EXCL:
		/* In the racy variant another party may have removed it */
		if (unlink(c->lockpath) && errno != ENOENT)
			return -errno;
		return 0;
	case LOCK_FLOCK:
		return flock(fd, LOCK_UN) ? -errno : 0;
	case LOCK_FCNTL:
	case LOCK_OFD:
		return fcntl_lock(c, fd, F_UNLCK);
	case LOCK_PETERSON:
	case LOCK_PETERSON_NOFENCE:
		atomic_store_explicit(&sh->flag[id], 0, memory_order_release);
		return 0;
	case LOCK_SPIN:
		atomic_store_explicit(&sh->spin, 0, memory_order_release);
		return 0;
	case LOCK_MUTEX:
		return -pthread_mutex_unlock(&sh->mutex);
	default:
		return 0;
	}
}

/* Read, add one, write back: the three steps a lock has to cover. */
static int increment(struct lock_ctx *c, int fd)
{
	_Atomic long *ctr = &c->sh->counter;
	int64_t v;
	long m;

	if (c->m == LOCK_CAS) {
		m = atomic_load_explicit(ctr, memory_order_relaxed);
		while (!atomic_compare_exchange_weak(ctr, &m, m + 1))
			;
		return 0;
	}
	if (!lock_methods[c->m].in_file) {
		m = atomic_load_explicit(ctr, memory_order_relaxed);
		atomic_store_explicit(ctr, m + 1, memory_order_relaxed);
		return 0;
	}
	if (pread(fd, &v, sizeof(v), 0) != sizeof(v))
		return -EIO;
	/* Unprotected: let another party read the same value meanwhile */
	if (!lock_methods[c->m].excludes)
		sched_yield();
	v++;
	if (pwrite(fd, &v, sizeof(v), 0) != sizeof(v))
		return -EIO;
	return 0;
}

static int party(struct lock_ctx *c, int id)
{
	struct lock_shared *sh = c->sh;
	int fd = -1, err = 0;
	long k;

	if (lock_methods[c->m].in_file) {
		fd = open(c->path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			err = -errno;
	}
	atomic_fetch_add(&sh->ready, 1);
	while (!err && !atomic_load(&sh->go))
		sched_yield();
	for (k = 0; !err && k < c->p->count; k++) {
		if (k % 256 == 0 && ilt_stopping())
			err = -EINTR;
		if (!err)
			err = lock_take(c, id, fd);
		if (!err) {
			err = increment(c, fd);
			if (lock_give(c, id, fd) && !err)
				err = -EIO;
		}
	}
	if (err)
		atomic_fetch_add(&sh->failed, 1);
	if (fd >= 0)
		close(fd);
	return err;
}

static void *party_thread(void *arg)
{
	struct lock_party *pt = arg;

	party(pt->c, pt->id);
	return NULL;
}

static int make_counter(struct lock_ctx *c, struct lock_result *r)
{
	int64_t zero = 0;
	struct stat st;
	int fd, err;

	err = ilt_tmpdir(c->dir, sizeof(c->dir), "lock");
	if (err)
		return err;
	snprintf(c->path, sizeof(c->path), "%s/counter", c->dir);
	snprintf(c->lockpath, sizeof(c->lockpath), "%s/counter.lock", c->dir);
	fd = open(c->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ilt_hooks.path_add) {
		ilt_hooks.path_add(c->path);
		ilt_hooks.path_add(c->lockpath);
	}
	err = pwrite(fd, &zero, sizeof(zero), 0) == sizeof(zero) ? 0 : -EIO;
	if (!err && fstat(fd, &st))
		err = -errno;
	if (!err) {
		r->dev = st.st_dev;
		r->ino = st.st_ino;
	}
	close(fd);
	return err;
}

static long long read_counter(struct lock_ctx *c)
{
	int64_t v = -1;
	int fd;

	if (!lock_methods[c->m].in_file)
		return atomic_load(&c->sh->counter);
	fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (pread(fd, &v, sizeof(v), 0) != sizeof(v))
		v = -1;
	close(fd);
	return v;
}

static int init_shared(struct lock_ctx *c)
{
	pthread_mutexattr_t a;
	int err;

	c->sh = mmap(NULL, sizeof(*c->sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->sh == MAP_FAILED) {
		c->sh = NULL;
		return -errno;
	}
	if (c->m != LOCK_MUTEX)
		return 0;
	pthread_mutexattr_init(&a);
	/* Without this the mutex may keep state that is per process */
	err = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (!err)
		err = pthread_mutex_init(&c->sh->mutex, &a);
	pthread_mutexattr_destroy(&a);
	return -err;
}

static int start_parties(struct lock_ctx *c, struct lock_party *pt,
			 struct lock_result *r)
{
	int i, err = 0;
	pid_t pid;

	for (i = 0; i < c->p->procs; i++) {
		pt[i].c = c;
		pt[i].id = i;
		if (c->p->threads) {
			err = -pthread_create(&pt[i].thread, NULL, party_thread,
					     &pt[i]);
			if (err)
				break;
			r->nworkers++;
			continue;
		}
		pid = ilt_fork();
		if (pid == 0)
			_exit(party(c, i) ? 1 : 0);
		if (pid < 0) {
			err = -errno;
			break;
		}
		r->workers[r->nworkers++] = pid;
	}
	return err;
}

static int finish_parties(struct lock_ctx *c, struct lock_party *pt,
			  struct lock_result *r)
{
	int i, st, err = 0;

	for (i = 0; i < r->nworkers; i++) {
		if (c->p->threads) {
			pthread_join(pt[i].thread, NULL);
			continue;
		}
		ilt_wait(r->workers[i], &st);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			err = -ECHILD;
	}
	if (atomic_load(&c->sh->failed))
		err = err ? err : -EIO;
	return err;
}

static void run_parties(struct lock_ctx *c, struct lock_result *r)
{
	struct lock_party pt[LOCK_MAX_PROCS];
	uint64_t t0;
	int err;

	r->why = "start";
	err = start_parties(c, pt, r);
	while (atomic_load(&c->sh->ready) < r->nworkers && !ilt_stopping())
		sched_yield();
	/* A failed start still lets the started parties go, to end them */
	t0 = ilt_now_ns();
	atomic_store(&c->sh->go, 1);
	r->err = -finish_parties(c, pt, r);
	r->ns = (double)(ilt_now_ns() - t0);
	if (err)
		r->err = -err;
	else if (r->err)
		r->why = ilt_stopping() ? "interrupted" : "a party failed";
	if (ilt_stopping() && !r->err)
		r->err = EINTR;
}

static void cleanup(struct lock_ctx *c)
{
	if (c->dir[0]) {
		ilt_unlink(c->path);
		ilt_unlink(c->lockpath);
		ilt_rmdir(c->dir);
	}
	if (c->sh) {
		if (c->m == LOCK_MUTEX)
			pthread_mutex_destroy(&c->sh->mutex);
		munmap(c->sh, sizeof(*c->sh));
	}
}

int lock_run(enum lock_method m, const struct lock_params *p,
	     struct lock_result *r)
{
	struct lock_ctx *c = calloc(1, sizeof(*c));
	bool file;

	memset(r, 0, sizeof(*r));
	r->err = c ? -lock_check(m, p, &r->why) : ENOMEM;
	if (r->err) {
		free(c);
		return -r->err;
	}
	file = lock_methods[m].in_file;
	c->m = m;
	c->p = p;
	r->expected = (long long)p->procs * p->count;
	r->why = "setup";
	r->err = -init_shared(c);
	if (!r->err && file)
		r->err = -make_counter(c, r);
	if (!r->err) {
		if (file && lock_around_hook)
			lock_around_hook(false, r->dev, r->ino);
		run_parties(c, r);
		if (file && lock_around_hook)
			lock_around_hook(true, r->dev, r->ino);
		r->final = read_counter(c);
		r->lost = r->expected - r->final;
		if (r->ns > 0)
			r->ops_per_s = r->expected * 1e9 / r->ns;
	}
	if (!r->err)
		r->why = NULL;
	cleanup(c);
	free(c);
	return -r->err;
}
