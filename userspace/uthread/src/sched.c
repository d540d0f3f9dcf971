// SPDX-License-Identifier: GPL-2.0
/*
 * libuthread scheduler: thread table, run queue, create/join/detach/exit,
 * yield, and the loop that runs on uthread_run()'s own stack.
 *
 * Threads switch directly to the next runnable thread; only when the run
 * queue is empty does control fall back to the scheduler loop, which then
 * waits on epoll for I/O and timers, or declares a deadlock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uthread_int.h"

#if UT_ASAN
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if UT_SWITCH_ASM
_Static_assert(offsetof(struct ut_ctx, rsp) == UT_CTX_RSP, "ut_ctx.rsp");
_Static_assert(offsetof(struct ut_ctx, rbx) == UT_CTX_RBX, "ut_ctx.rbx");
_Static_assert(offsetof(struct ut_ctx, rbp) == UT_CTX_RBP, "ut_ctx.rbp");
_Static_assert(offsetof(struct ut_ctx, r12) == UT_CTX_R12, "ut_ctx.r12");
_Static_assert(offsetof(struct ut_ctx, r13) == UT_CTX_R13, "ut_ctx.r13");
_Static_assert(offsetof(struct ut_ctx, r14) == UT_CTX_R14, "ut_ctx.r14");
_Static_assert(offsetof(struct ut_ctx, r15) == UT_CTX_R15, "ut_ctx.r15");
_Static_assert(offsetof(struct ut_ctx, mxcsr) == UT_CTX_MXCSR, "ut_ctx.mxcsr");
_Static_assert(offsetof(struct ut_ctx, fpucw) == UT_CTX_FPUCW, "ut_ctx.fpucw");
_Static_assert(offsetof(struct ut_ctx, fresh) == UT_CTX_FRESH, "ut_ctx.fresh");
_Static_assert(sizeof(struct ut_ctx) == UT_CTX_SIZE, "ut_ctx size");
#endif

struct ut_sched ut_sched = { .epfd = -1, .guard_madvise = true };
/* Global, never reset: handles from an earlier run stay invalid. */
uint32_t ut_gen;
static uthread_t ut_main_id;
static void *ut_main_retval;

void ut_q_remove(struct ut_queue *q, struct uthread *t)
{
	struct uthread *prev = NULL, *it;

	for (it = q->head; it; prev = it, it = it->next) {
		if (it != t)
			continue;
		if (prev)
			prev->next = t->next;
		else
			q->head = t->next;
		if (q->tail == t)
			q->tail = prev;
		t->next = NULL;
		return;
	}
}

#if UT_SWITCH_ASM
/*
 * Only what ut_thread_entry reads: the other callee-saved registers are
 * dead in a thread that has not run, so they are not cleared.  The stack
 * top is 16-byte aligned, as at a call instruction.  rbp = 0 ends
 * frame-pointer unwinds there; ut_thread_entry's CFI ends DWARF ones.
 */
void ut_ctx_make(struct uthread *t, void *(*fn)(void *), void *arg)
{
	struct ut_ctx *ctx = &t->ctx;

	ctx->rsp = ((uintptr_t)t->stack_lo + t->stack_size) & ~(uintptr_t)15;
	ctx->rbx = (uintptr_t)ctx;
	ctx->rbp = 0;
	ctx->r12 = (uintptr_t)fn;
	ctx->r13 = (uintptr_t)arg;
	ctx->mxcsr = ut_sched.mxcsr;
	ctx->fpucw = ut_sched.fpucw;
	ctx->fresh = 1;
}

static void ut_fpenv_capture(void)
{
	uint32_t mxcsr;
	uint16_t cw;

	__asm__ volatile ("stmxcsr %0" : "=m" (mxcsr));
	__asm__ volatile ("fnstcw %0" : "=m" (cw));
	ut_sched.mxcsr = mxcsr;
	ut_sched.fpucw = cw;
}
#else
static void ut_fpenv_capture(void)
{
}
#endif

/*
 * ASan keeps a shadow "current stack"; tell it about every stack swap or it
 * reports false stack-buffer-overflows and loses fake stacks.
 */
static inline void ut_asan_start(void **fake, const void *lo, size_t size)
{
#if UT_ASAN
	__sanitizer_start_switch_fiber(fake, lo, size);
#else
	(void)fake;
	(void)lo;
	(void)size;
#endif
}

static inline void ut_asan_finish(void *fake)
{
#if UT_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#else
	(void)fake;
#endif
}

static void ut_asan_main_stack(void)
{
#if UT_ASAN
	pthread_attr_t attr;
	void *lo;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &attr))
		return;
	if (!pthread_attr_getstack(&attr, &lo, &size)) {
		ut_sched.asan_main_lo = lo;
		ut_sched.asan_main_size = size;
	}
	pthread_attr_destroy(&attr);
#endif
}

/*
 * Make @next (NULL: the scheduler loop) current and return the context to
 * resume.  @fake is where ASan keeps the leaving stack's fake frames; NULL
 * when the leaving thread has exited and its frames can go.
 */
static inline struct ut_ctx *ut_switch_to(struct uthread *next, void **fake)
{
	struct ut_sched *s = &ut_sched;

	s->cur = next;
	if (next) {
		ut_asan_start(fake, next->stack_lo, next->stack_size);
		return &next->ctx;
	}
	ut_asan_start(fake, s->asan_main_lo, s->asan_main_size);
	return &s->main_ctx;
}

/* Leave @self (NULL: the scheduler loop) for @next (NULL: the loop). */
static inline void ut_switch(struct uthread *self, struct uthread *next)
{
	struct ut_sched *s = &ut_sched;
	struct ut_ctx *from = self ? &self->ctx : &s->main_ctx;
	void **fake = self ? &self->asan_fake : &s->asan_main_fake;

	ut_ctx_switch(from, ut_switch_to(next, fake));
	ut_asan_finish(*fake);
}

/*
 * Periodic check so that yielding threads cannot starve timers and I/O:
 * true when a poll is due.
 */
static inline bool ut_tick_due(void)
{
	struct ut_sched *s = &ut_sched;

	return unlikely((++s->tick & 63) == 0) && (s->nsleep || s->nio);
}

static inline void ut_tick(void)
{
	if (ut_tick_due())
		ut_io_poll(false);
}

void ut_schedule(void)
{
	struct uthread *self = ut_sched.cur;
	struct uthread *next;

	ut_tick();
	next = ut_q_pop(&ut_sched.runq);
	if (next == self)
		return;
	ut_switch(self, next);
}

static int ut_slot_grow(void)
{
	struct ut_sched *s = &ut_sched;
	uint32_t cap = s->slot_cap ? s->slot_cap * 2 : 1024;
	struct ut_slot *n;

	if (s->slot_cap >= UINT32_MAX / 2)
		return EAGAIN;
	n = realloc(s->slots, (size_t)cap * sizeof(*n));
	if (!n)
		return ENOMEM;
	s->slots = n;
	s->slot_cap = cap;
	return 0;
}

/* Caller has checked that the free list is not empty */
static inline uint32_t ut_slot_get_free(void)
{
	struct ut_sched *s = &ut_sched;
	uint32_t idx = s->free_slot - 1;

	s->free_slot = s->slots[idx].next_free;
	return idx;
}

/* Bind @t to slot @idx under a generation never handed out before */
static inline void ut_slot_bind(uint32_t idx, struct uthread *t)
{
	struct ut_sched *s = &ut_sched;

	if (!++ut_gen)
		ut_gen = 1;
	s->slots[idx].t = t;
	s->slots[idx].gen = ut_gen;
	t->id = ((uint64_t)ut_gen << 32) | (idx + 1);
}

static int ut_slot_alloc(struct uthread *t)
{
	struct ut_sched *s = &ut_sched;
	uint32_t idx;
	int err;

	if (s->free_slot) {
		idx = ut_slot_get_free();
	} else {
		if (s->nslots == s->slot_cap) {
			err = ut_slot_grow();
			if (err)
				return err;
		}
		idx = s->nslots++;
	}
	ut_slot_bind(idx, t);
	return 0;
}

static inline void ut_release(struct uthread *t)
{
	struct ut_sched *s = &ut_sched;
	uint32_t idx = (uint32_t)t->id - 1;

	s->slots[idx].t = NULL;
	s->slots[idx].next_free = s->free_slot;
	s->free_slot = idx + 1;
	s->nthreads--;
	ut_stack_free(t);
}

static void ut_reap(void)
{
	struct uthread *t;

	while ((t = ut_sched.reap)) {
		ut_sched.reap = t->next;
		ut_release(t);
	}
}

/*
 * The end of a thread: record @retval, wake the joiner, queue a detached
 * thread for reaping, and return the context to resume.  The stack stays
 * mapped until a joiner or ut_reap() releases it.
 */
struct ut_ctx *ut_thread_exit_ctx(void *retval)
{
	struct ut_sched *s = &ut_sched;
	struct uthread *t = s->cur;

	t->retval = retval;
	t->state = UT_ZOMBIE;
	s->nlive--;
	if (unlikely(t->id == ut_main_id))
		ut_main_retval = retval;
	if (t->joiner)
		ut_make_runnable(t->joiner);
	if (t->detached) {
		t->next = s->reap;
		s->reap = t;
	}
	ut_tick();
	return ut_switch_to(ut_q_pop(&ut_sched.runq), NULL);
}

#if UT_ASAN
/* Called first by ut_thread_entry: now on the new thread's stack */
void ut_thread_asan_enter(void)
{
	ut_asan_finish(NULL);
}
#endif

#if !UT_SWITCH_ASM
/* makecontext() entry of the ucontext fallback */
void ut_thread_start(void)
{
	struct uthread *t = ut_sched.cur;

	ut_asan_finish(NULL);
	uthread_exit(t->fn(t->arg));
	abort();
}
#endif

/*
 * What every new thread needs, whether its TCB is new or pooled.  A pooled
 * TCB keeps the rest of its last life: retval, wait_err and asan_fake are
 * always written before they are read.
 */
static inline void ut_tcb_init(struct uthread *t, void *(*fn)(void *),
			       void *arg)
{
	t->joiner = NULL;
	t->detached = false;
	t->wait_fd = -1;
	t->name[0] = '\0';
	ut_ctx_make(t, fn, arg);
	ut_sched.nlive++;
	ut_sched.nthreads++;
	ut_make_runnable(t);
}

/* Any stack size; maps a stack, grows the slot table or reaps if need be */
static __attribute__((noinline)) int
ut_spawn_slow(size_t stack_size, void *(*fn)(void *), void *arg,
	      uthread_t *idp)
{
	struct uthread *t;
	int err;

	if (stack_size == 0)
		stack_size = UTHREAD_STACK_DEFAULT;
	else if (stack_size < UTHREAD_STACK_MIN ||
		 stack_size > UTHREAD_STACK_MAX)
		return EINVAL;
	if (unlikely(ut_sched.reap))
		ut_reap();
	err = ut_stack_alloc(stack_size, &t);
	if (err)
		return err;
	err = ut_slot_alloc(t);
	if (err) {
		ut_stack_free(t);
		return err;
	}
	ut_tcb_init(t, fn, arg);
	*idp = t->id;
	return 0;
}

/*
 * The create+join fast path: default stack size, a TCB from the pool, a
 * slot from the free list and nothing to reap.  It calls nothing (without
 * ASan), so it needs no stack frame; everything else goes the slow way.
 */
static inline int ut_spawn(size_t stack_size, void *(*fn)(void *),
			   void *arg, uthread_t *idp)
{
	struct ut_sched *s = &ut_sched;
	struct uthread *t;

	if (unlikely(stack_size || !s->pool || !s->free_slot || s->reap))
		return ut_spawn_slow(stack_size, fn, arg, idp);
	t = ut_pool_get();
	ut_slot_bind(ut_slot_get_free(), t);
	ut_tcb_init(t, fn, arg);
	*idp = t->id;
	return 0;
}

int uthread_create(uthread_t *tp, size_t stack_size,
		   void *(*fn)(void *), void *arg)
{
	if (!tp || !fn)
		return EINVAL;
	if (!ut_in_thread())
		return EPERM;
	return ut_spawn(stack_size, fn, arg, tp);
}

void uthread_exit(void *retval)
{
	struct uthread *t = ut_sched.cur;

	if (!ut_in_thread())
		return;
	ut_ctx_switch(&t->ctx, ut_thread_exit_ctx(retval));
	abort();
}

/*
 * Shared prologue of join and detach: find a thread that nobody has
 * claimed yet.  Joining oneself is EDEADLK even when the caller is
 * detached or already being joined, as it always was.
 */
static inline int ut_claim(uthread_t id, bool join, struct uthread **tp)
{
	struct uthread *t;

	if (!ut_in_thread())
		return EPERM;
	t = ut_lookup(id);
	if (!t)
		return ESRCH;
	if (join && t == ut_sched.cur)
		return EDEADLK;
	if (t->detached || t->joiner)
		return EINVAL;
	*tp = t;
	return 0;
}

int uthread_join(uthread_t id, void **retval)
{
	struct uthread *t;
	int err;

	err = ut_claim(id, true, &t);
	if (err)
		return err;
	/* A thread that has already exited is released without a switch */
	if (t->state != UT_ZOMBIE) {
		t->joiner = ut_sched.cur;
		ut_block(NULL, UT_BLOCKED, UT_WAIT_JOIN, t);
	}
	if (retval)
		*retval = t->retval;
	ut_release(t);
	return 0;
}

int uthread_detach(uthread_t id)
{
	struct uthread *t;
	int err;

	err = ut_claim(id, false, &t);
	if (err)
		return err;
	if (t->state == UT_ZOMBIE)
		ut_release(t);
	else
		t->detached = true;
	return 0;
}

/*
 * The yield past its checks, the hottest path: the run queue's head runs
 * next and the caller takes the tail in one rotation, then a tail call
 * into the switch, which returns 0 for us.
 */
static inline int ut_yield_rotate(void)
{
	struct uthread *self = ut_sched.cur;
	struct uthread *next = ut_q_rotate(&ut_sched.runq, self);

	if (!next)
		return 0;
#if UT_SWITCH_ASM && !UT_ASAN
	return ut_ctx_switch_ret0(&self->ctx,
				  ut_switch_to(next, &self->asan_fake));
#else
	ut_switch(self, next);
	return 0;
#endif
}

/*
 * Out of line, so that the common yield makes no call and needs no frame
 * of its own: both of its ways out are tail calls.
 */
static __attribute__((noinline, cold)) int ut_yield_polled(void)
{
	ut_io_poll(false);
	return ut_yield_rotate();
}

int uthread_yield(void)
{
	if (unlikely(!ut_in_thread()))
		return EPERM;
	if (ut_tick_due())
		return ut_yield_polled();
	return ut_yield_rotate();
}

uthread_t uthread_self(void)
{
	return ut_in_thread() ? ut_sched.cur->id : UTHREAD_INVALID;
}

int uthread_setname(uthread_t id, const char *name)
{
	struct uthread *t;

	if (!name)
		return EINVAL;
	if (!ut_sched.active)
		return EPERM;
	t = ut_lookup(id);
	if (!t)
		return ESRCH;
	snprintf(t->name, sizeof(t->name), "%s", name);
	return 0;
}

int uthread_getstack(uthread_t id, void **lo, size_t *size)
{
	struct uthread *t;

	if (!lo || !size)
		return EINVAL;
	if (!ut_sched.active)
		return EPERM;
	t = ut_lookup(id);
	if (!t)
		return ESRCH;
	*lo = t->stack_lo;
	*size = t->stack_size;
	return 0;
}

/* Scheduler loop on the caller's stack; returns 0 or EDEADLK. */
static int ut_loop(void)
{
	struct ut_sched *s = &ut_sched;
	struct uthread *t;
	int err;

	for (;;) {
		ut_reap();
		t = ut_q_pop(&s->runq);
		if (t) {
			ut_switch(NULL, t);
			continue;
		}
		if (!s->nlive)
			return 0;
		if (s->nsleep || s->nio) {
			err = ut_io_poll(true);
			if (err)
				return err;
			continue;
		}
		ut_report_deadlock();
		return EDEADLK;
	}
}

/*
 * Release every thread still present.  Blocked ones are unlinked from the
 * wait queues of mutexes, conds and semaphores, which outlive the run.
 */
static void ut_teardown(void)
{
	struct ut_sched *s = &ut_sched;
	struct uthread *t;
	uint32_t i;

	ut_reap();
	for (i = 0; i < s->nslots; i++) {
		t = s->slots[i].t;
		if (!t)
			continue;
		if (t->wait_q && t->wait_kind != UT_WAIT_READ &&
		    t->wait_kind != UT_WAIT_WRITE)
			ut_q_remove(t->wait_q, t);
		ut_release(t);
	}
	ut_stack_pool_drain();
	ut_sleep_fini();
	ut_io_fini();
	free(s->slots);
	s->slots = NULL;
	s->nslots = 0;
	s->slot_cap = 0;
	s->free_slot = 0;
	s->runq.head = NULL;
	s->runq.tail = NULL;
	s->nlive = 0;
	s->nthreads = 0;
}

int uthread_run(void *(*fn)(void *), void *arg, void **retval)
{
	struct ut_sched *s = &ut_sched;
	int err;

	if (!fn)
		return EINVAL;
	if (__atomic_exchange_n(&s->active, true, __ATOMIC_ACQ_REL))
		return EBUSY;
	s->page = (size_t)sysconf(_SC_PAGESIZE);
	s->cur = NULL;
	s->tick = 0;
	ut_fpenv_capture();
	ut_asan_main_stack();
	ut_main_retval = NULL;
	err = ut_io_init();
	if (err)
		goto out_inactive;
	err = ut_spawn(0, fn, arg, &ut_main_id);
	if (err)
		goto out_teardown;
	err = ut_loop();
	if (!err && retval)
		*retval = ut_main_retval;
out_teardown:
	ut_teardown();
out_inactive:
	s->cur = NULL;
	__atomic_store_n(&s->active, false, __ATOMIC_RELEASE);
	return err;
}
