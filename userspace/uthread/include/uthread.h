/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libuthread - M:1 user threads for cowtrace.
 *
 * Every user thread runs inside the one kernel thread that called
 * uthread_run(); the kernel never sees them.  The library switches threads
 * only when the running one yields, blocks on a mutex, condition variable,
 * semaphore or join, sleeps, exits, or would wait for socket/pipe I/O.
 * There is no preemption: a thread that computes forever starves the rest.
 *
 * Conventions (pthread-like):
 *  - Functions returning int return 0 on success or a positive errno value
 *    (EINVAL, ESRCH, EPERM, EDEADLK, EBUSY, EAGAIN, ENOMEM, ...); they never
 *    set errno.  The I/O wrappers are the exception: they follow read(2)
 *    and friends (return -1 and set errno).
 *  - Every function except uthread_run() and the init and destroy calls
 *    must be called from a user thread, i.e. while uthread_run() is
 *    active, and from the kernel thread that called it; otherwise it
 *    returns EPERM.
 *  - Threads are named by uthread_t handles.  A handle is an opaque 64-bit
 *    value; a stale or made-up handle is detected (ESRCH), never
 *    dereferenced.  0 (UTHREAD_INVALID) is never a valid handle.
 *  - Mutexes, condition variables and semaphores are opaque objects
 *    created by the init functions and released by the destroy functions.  Passing NULL is
 *    EINVAL; passing a pointer that was never initialised is undefined.
 */
#ifndef UTHREAD_H
#define UTHREAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t uthread_t;
typedef struct uthread_mutex uthread_mutex_t;
typedef struct uthread_cond uthread_cond_t;
typedef struct uthread_sem uthread_sem_t;

#define UTHREAD_INVALID		((uthread_t)0)

/* Stack sizes; 0 passed to uthread_create() means UTHREAD_STACK_DEFAULT. */
#define UTHREAD_STACK_DEFAULT	(64u * 1024)
#define UTHREAD_STACK_MIN	(16u * 1024)
#define UTHREAD_STACK_MAX	(256u * 1024 * 1024)

/*
 * uthread_run() - run @fn(@arg) as the first user thread and schedule until
 * every user thread has terminated.
 * @retval: if not NULL, receives @fn's return value (or uthread_exit()'s
 *	    argument) on success.
 *
 * The caller's stack becomes the scheduler's stack.  Detached threads that
 * are still alive keep the scheduler running after @fn returns; joinable
 * threads that were never joined are released when the run ends.
 *
 * Returns 0 when all threads have terminated, EINVAL if @fn is NULL, EBUSY
 * if a run is already active (nested or concurrent call), ENOMEM or EAGAIN
 * if the first thread or the epoll instance cannot be created, or EDEADLK
 * if every remaining thread is blocked with no sleeper and no I/O wait that
 * could ever wake one: the thread dump is written to the deadlock stream
 * (see uthread_set_dump_stream()), all remaining threads are discarded
 * without unwinding (their stacks are freed; mutexes they held stay
 * locked and may only be destroyed), and uthread_run() returns.
 */
int uthread_run(void *(*fn)(void *), void *arg, void **retval);

/*
 * uthread_create() - create a runnable, joinable thread running @fn(@arg).
 * @t: receives the new handle (must not be NULL).
 * @stack_size: 0 for UTHREAD_STACK_DEFAULT, otherwise between
 *		UTHREAD_STACK_MIN and UTHREAD_STACK_MAX; rounded up to the page
 *		size.  A guard page lies below the stack: overflowing it raises
 *		SIGSEGV at the guard and never touches another thread's stack.
 *		The thread control block (about 256 bytes on x86-64, 1.2 KiB
 *		with the ucontext fallback) lives at the top of the stack
 *		mapping and is not part of the usable stack.
 *
 * The new thread is queued behind the already runnable ones; the caller
 * keeps running.  Returns 0, EINVAL (bad @t, @fn or @stack_size), EPERM
 * (no active run), ENOMEM or EAGAIN.  Running out of memory, of address
 * space (RLIMIT_AS) or of mappings (vm.max_map_count) is ENOMEM; threads
 * created before stay intact.  On kernels before 6.13 each stack costs two
 * mappings, so the default vm.max_map_count of 65530 allows about 32k
 * threads.  EAGAIN is any other refusal: 2^31 thread slots in use, or the
 * kernel declining the stack mapping for a reason other than memory (e.g.
 * RLIMIT_MEMLOCK under mlockall(MCL_FUTURE)).
 */
int uthread_create(uthread_t *t, size_t stack_size,
		   void *(*fn)(void *), void *arg);

/*
 * uthread_join() - wait for @t to terminate and release it.
 * @retval: if not NULL, receives the thread's return value.
 *
 * Returns 0, ESRCH (@t is unknown or already joined), EINVAL (@t is
 * detached or another thread already joins it), EDEADLK (@t is the caller)
 * or EPERM (no active run).
 */
int uthread_join(uthread_t t, void **retval);

/*
 * uthread_detach() - release @t automatically when it terminates.
 * Returns 0, ESRCH (unknown), EINVAL (already detached or being joined)
 * or EPERM (no active run).
 */
int uthread_detach(uthread_t t);

/*
 * uthread_exit() - terminate the calling thread with @retval.  Returning
 * from the thread function is equivalent.  Does not return; outside a
 * user thread it does nothing and returns.
 */
void uthread_exit(void *retval);

/*
 * uthread_yield() - put the caller behind every runnable thread.  Timers
 * and ready I/O are checked every 64 scheduling decisions, so a thread
 * that only yields cannot starve sleepers or I/O waiters forever.
 * Returns 0 or EPERM (no active run).
 */
int uthread_yield(void);

/* uthread_self() - handle of the calling thread, UTHREAD_INVALID outside. */
uthread_t uthread_self(void);

/*
 * uthread_sleep() - block the caller for at least @ns nanoseconds
 * (CLOCK_MONOTONIC).  Sleepers with the same deadline wake in the order
 * they went to sleep.  0 is a yield.  Returns 0 or EPERM (no active run).
 */
int uthread_sleep(uint64_t ns);

/*
 * uthread_setname() - name @t in thread dumps (truncated to 15 bytes).
 * Returns 0, EINVAL (NULL @name), ESRCH (unknown @t) or EPERM.
 */
int uthread_setname(uthread_t t, const char *name);

/*
 * uthread_getstack() - usable stack of @t: [*@lo, *@lo + *@size).  The
 * guard page is the page just below *@lo.
 * Returns 0, EINVAL (NULL argument), ESRCH (unknown @t) or EPERM.
 */
int uthread_getstack(uthread_t t, void **lo, size_t *size);

/*
 * uthread_dump() - write one line per thread (handle, name, state and what
 * it waits on) to @f.  Returns 0, EINVAL (NULL @f) or EPERM (no run).
 */
int uthread_dump(FILE *f);

/*
 * uthread_set_dump_stream() - where uthread_run() writes the thread dump
 * when it detects a deadlock; NULL restores the default, stderr.
 */
void uthread_set_dump_stream(FILE *f);

/*
 * Mutex: not recursive, FIFO hand-off.  Unlocking passes ownership
 * straight to the longest waiter, so the unlocker cannot take the mutex
 * back before every earlier waiter has had it.
 *
 * init: 0, EINVAL (NULL @m), ENOMEM.
 * destroy: 0, EINVAL, EBUSY (held by a live thread or has waiters).
 * lock: 0, EINVAL, EDEADLK (caller holds it), EPERM (no active run).
 * trylock: 0, EINVAL, EBUSY (held), EPERM.
 * unlock: 0, EINVAL, EPERM (caller does not hold it, or no active run).
 */
int uthread_mutex_init(uthread_mutex_t **m);
int uthread_mutex_destroy(uthread_mutex_t *m);
int uthread_mutex_lock(uthread_mutex_t *m);
int uthread_mutex_trylock(uthread_mutex_t *m);
int uthread_mutex_unlock(uthread_mutex_t *m);

/*
 * Condition variable: waiters wake in FIFO order.  There are no spurious
 * wake-ups, but callers should still re-check their predicate in a loop
 * because another thread may run between the wake-up and the return.
 *
 * init: 0, EINVAL, ENOMEM.  destroy: 0, EINVAL, EBUSY (has waiters).
 * wait: 0, EINVAL, EPERM (caller does not hold @m, or no active run).
 * signal/broadcast: 0, EINVAL, EPERM (no active run).
 */
int uthread_cond_init(uthread_cond_t **c);
int uthread_cond_destroy(uthread_cond_t *c);
int uthread_cond_wait(uthread_cond_t *c, uthread_mutex_t *m);
int uthread_cond_signal(uthread_cond_t *c);
int uthread_cond_broadcast(uthread_cond_t *c);

/*
 * Counting semaphore: FIFO; post hands the unit straight to the longest
 * waiter.
 *
 * init: 0, EINVAL, ENOMEM.  destroy: 0, EINVAL, EBUSY (has waiters).
 * wait: 0, EINVAL, EPERM.  trywait: 0, EINVAL, EAGAIN (value is 0), EPERM.
 * post: 0, EINVAL, EOVERFLOW (value would exceed UINT_MAX), EPERM.
 * getvalue: 0, EINVAL.
 */
int uthread_sem_init(uthread_sem_t **s, unsigned int value);
int uthread_sem_destroy(uthread_sem_t *s);
int uthread_sem_wait(uthread_sem_t *s);
int uthread_sem_trywait(uthread_sem_t *s);
int uthread_sem_post(uthread_sem_t *s);
int uthread_sem_getvalue(uthread_sem_t *s, unsigned int *value);

/*
 * I/O wrappers.  They behave like the system calls they are named after
 * (return -1 and set errno on error), except that where the call would
 * block they park the calling thread on the run's epoll instance until @fd
 * is ready, letting other threads run meanwhile.  A socket is read and
 * written with MSG_DONTWAIT and its flags are left alone; any other @fd is
 * first put into O_NONBLOCK mode (permanently), and so is the listening
 * socket of uthread_accept() and the socket of uthread_connect().
 * uthread_accept() returns the new socket already non-blocking (accept4()
 * with SOCK_NONBLOCK | SOCK_CLOEXEC).
 * uthread_connect() returns 0 once the connection is established, or -1
 * with the connection's error.
 *
 * A socket is watched by epoll from its first wait until uthread_close(),
 * edge-triggered in both directions, so that a wait costs no system call
 * beyond the one that returned EAGAIN; other fds are watched one wait at
 * a time.
 *
 * Regular files (and block devices) are always "ready" to epoll and
 * O_NONBLOCK has no effect on them: a read or write that waits for the
 * disk blocks the whole kernel thread and therefore every user thread.
 *
 * Outside an active run they fail with errno EPERM.  If @fd cannot be
 * watched by epoll (EPERM from epoll_ctl) they return that error.
 */
ssize_t uthread_read(int fd, void *buf, size_t count);
ssize_t uthread_write(int fd, const void *buf, size_t count);
ssize_t uthread_recv(int fd, void *buf, size_t len, int flags);
ssize_t uthread_send(int fd, const void *buf, size_t len, int flags);
int uthread_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);
int uthread_connect(int fd, const struct sockaddr *addr, socklen_t addrlen);

/*
 * uthread_close() - close(2) @fd after taking it out of the run's epoll
 * set and ending every wait on it: threads parked on @fd in the wrappers
 * above return -1 with errno EBADF when they next run, and never touch
 * the number again, which the next open, socket or accept may reuse.
 * Returns what close(2) returns (0, or -1 with errno set).  Outside a run
 * it is close(2).
 *
 * Close an fd that the wrappers have waited on with uthread_close().
 * close(2) works too, but the library does not see it.  Threads parked
 * on the fd wait on: forever if it is no socket; up to two seconds if it
 * is one, then they get EBADF (once a second the library re-checks the
 * socket watches that waiters have trusted for a second).  And if the
 * number comes back as a socket the library did not accept or connect,
 * the first wait on it may take as long, until that re-check.
 */
int uthread_close(int fd);

#ifdef __cplusplus
}
#endif

#endif /* UTHREAD_H */
