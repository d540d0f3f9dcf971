/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libuthread private definitions: thread control block, scheduler state
 * and the context layout shared with switch_x86_64.S.
 */
#ifndef UTHREAD_INT_H
#define UTHREAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "uthread.h"

/* -DUT_FORCE_UCONTEXT builds the portable fallback on x86-64 too */
#if defined(__x86_64__) && !defined(UT_FORCE_UCONTEXT)
#define UT_SWITCH_ASM 1
#else
#define UT_SWITCH_ASM 0
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UT_ASAN 1
#include <sanitizer/asan_interface.h>
#else
#define UT_ASAN 0
#endif

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#if UT_SWITCH_ASM
#include "ctx_offsets.h"

/*
 * Saved context; the layout is the contract with switch_x86_64.S, which
 * uses the UT_CTX_* offsets from ctx_offsets.h.  The _Static_assert()s in
 * sched.c fail the build if this struct and those offsets drift apart.
 */
struct ut_ctx {
	uint64_t rsp;		/*  0: points at the return address */
	uint64_t rbx;		/*  8 */
	uint64_t rbp;		/* 16 */
	uint64_t r12;		/* 24 */
	uint64_t r13;		/* 32 */
	uint64_t r14;		/* 40 */
	uint64_t r15;		/* 48 */
	uint32_t mxcsr;		/* 56: SSE control/status (rounding, masks) */
	uint16_t fpucw;		/* 60: x87 control word */
	uint8_t fresh;		/* 62: never ran, enter ut_thread_entry */
	uint8_t pad;		/* 63 */
};

/*
 * Save the caller's context into @from and resume @to.  A fresh @to is
 * entered by a jump to ut_thread_entry (switch_x86_64.S), which calls
 * fn = r12 with arg = r13, hands the result to ut_thread_exit_ctx() and
 * then leaves through ut_ctx_switch() from its own context, kept in rbx.
 */
void ut_ctx_switch(struct ut_ctx *from, struct ut_ctx *to);
/* The same function, for a tail call: it returns 0 to the resumed caller */
int ut_ctx_switch_ret0(struct ut_ctx *from, struct ut_ctx *to)
	__asm__("ut_ctx_switch");
void ut_thread_entry(void);
#else
struct ut_ctx {
	ucontext_t uc;
};

void ut_ctx_switch(struct ut_ctx *from, struct ut_ctx *to);
#endif

struct uthread;

/* Prepare @t's context to run @fn(@arg) on its stack. */
void ut_ctx_make(struct uthread *t, void *(*fn)(void *), void *arg);

/*
 * No state says running: the running thread is ut_sched.cur, RUNNABLE
 * like the run queue it came from and goes back to, so that a switch
 * writes no state.
 */
enum ut_state {
	UT_RUNNABLE,
	UT_BLOCKED,	/* on a mutex, cond, sem or join: see wait_kind */
	UT_SLEEPING,
	UT_IOWAIT,
	UT_ZOMBIE,	/* exited, waiting to be joined */
};

enum ut_wait {
	UT_WAIT_NONE,
	UT_WAIT_MUTEX,
	UT_WAIT_COND,
	UT_WAIT_SEM,
	UT_WAIT_JOIN,
	UT_WAIT_SLEEP,
	UT_WAIT_READ,
	UT_WAIT_WRITE,
};

/* FIFO of threads linked through uthread.next. */
struct ut_queue {
	struct uthread *head;
	struct uthread *tail;
};

struct uthread {
	struct ut_ctx ctx;
	struct uthread *next;		/* run queue, wait queue, pool, reap */
	uthread_t id;
	void *(*fn)(void *arg);		/* ucontext only; asm keeps them */
	void *arg;			/* in the context (r12, r13) */
	void *retval;
	struct uthread *joiner;		/* blocked in uthread_join() on us */
	enum ut_state state;
	enum ut_wait wait_kind;
	const void *wait_obj;		/* mutex/cond/sem, or joined thread */
	struct ut_queue *wait_q;	/* queue to unlink from on teardown */
	int wait_fd;
	int wait_err;			/* result handed over by the waker */
	bool detached;
	uint64_t wake_at;		/* CLOCK_MONOTONIC ns, when sleeping */
	uint64_t wake_seq;		/* FIFO tie-break for equal deadlines */
	size_t heap_idx;
	void *map;			/* whole mapping: guard + stack + tcb */
	size_t map_len;
	void *stack_lo;			/* lowest usable byte, above the guard */
	size_t stack_size;		/* usable bytes below this struct */
	unsigned int vg_id;		/* valgrind stack id */
	void *asan_fake;		/* ASan fake-stack handle while off-CPU */
	char name[16];
};

struct ut_slot {
	struct uthread *t;
	uint32_t gen;
	uint32_t next_free;
};

/* How an fd is in the epoll set, as far as the library knows (io.c) */
enum ut_watch {
	UT_WATCH_NONE,
	UT_WATCH_ONESHOT,	/* armed for each wait (not a socket) */
	UT_WATCH_EDGE,		/* edge-triggered, both ways, for good (socket) */
};

struct ut_fdwait {
	struct ut_queue rd;
	struct ut_queue wr;
	uint8_t watch;			/* enum ut_watch */
	bool not_socket;		/* last seen as no socket: a guess */
	bool unchecked;			/* waiters trust an edge watch */
	uint32_t park_pass;		/* io_pass when unchecked was set */
};

struct ut_sched {
	bool active;
	struct uthread *cur;		/* NULL while the scheduler itself runs */
	struct ut_ctx main_ctx;		/* uthread_run()'s caller */
	struct ut_queue runq;
	struct uthread *reap;		/* exited detached threads to release */
	uint64_t nlive;			/* threads not yet exited */
	uint64_t nthreads;		/* thread control blocks in use */
	unsigned int tick;

	struct ut_slot *slots;
	uint32_t nslots;
	uint32_t slot_cap;
	uint32_t free_slot;		/* index + 1; 0 = none */

	struct uthread *pool;		/* released default-size TCBs + stacks */
	unsigned int npool;

	struct uthread **sleepq;	/* min-heap on (wake_at, wake_seq) */
	size_t nsleep;
	size_t sleep_cap;
	uint64_t sleep_seq;

	int epfd;
	struct ut_fdwait *fds;
	int nfds;
	uint64_t nio;			/* threads parked on I/O */
	uint64_t nunchecked;		/* fds with unchecked set */
	uint64_t io_check_at;		/* next re-check of them, or 0 */
	uint32_t io_pass;		/* re-checks so far */

	FILE *dump_stream;
	uint32_t mxcsr;			/* FP environment new threads start with */
	uint16_t fpucw;
	size_t page;
	bool guard_madvise;		/* MADV_GUARD_INSTALL works here */

	void *asan_main_fake;
	const void *asan_main_lo;
	size_t asan_main_size;
};

extern struct ut_sched ut_sched;
extern uint32_t ut_gen;

/* queue helpers */
static inline bool ut_q_empty(const struct ut_queue *q)
{
	return !q->head;
}

static inline void ut_q_push(struct ut_queue *q, struct uthread *t)
{
	t->next = NULL;
	if (q->tail)
		q->tail->next = t;
	else
		q->head = t;
	q->tail = t;
}

static inline struct uthread *ut_q_pop(struct ut_queue *q)
{
	struct uthread *t = q->head;

	if (t) {
		q->head = t->next;
		if (!q->head)
			q->tail = NULL;
		t->next = NULL;
	}
	return t;
}

/*
 * Pop the head and push @t, which is in no queue, in one step (a yield):
 * the head, or NULL with @q left as it was.  The head's own link may be
 * left pointing at @t: nothing reads the link of a thread that is in no
 * queue, and every insertion writes it first.
 */
static inline struct uthread *ut_q_rotate(struct ut_queue *q,
					  struct uthread *t)
{
	struct uthread *head = q->head;

	if (!head)
		return NULL;
	q->tail->next = t;		/* head's link, if it is alone */
	q->head = head->next;
	t->next = NULL;
	q->tail = t;
	return head;
}

void ut_q_remove(struct ut_queue *q, struct uthread *t);

/* sched.c */
/* cur is set only inside uthread_run(), hence only while it is active */
static inline bool ut_in_thread(void)
{
	return ut_sched.cur;
}

void ut_schedule(void);
struct ut_ctx *ut_thread_exit_ctx(void *retval);
void ut_thread_asan_enter(void);
void ut_thread_start(void);

/*
 * Handle to thread: a slot index (from 1) in the low half and the slot's
 * generation in the high half, so stale and made-up handles miss.
 */
static inline struct uthread *ut_lookup(uthread_t id)
{
	struct ut_sched *s = &ut_sched;
	uint32_t idx = (uint32_t)id;
	struct ut_slot *slot;

	if (!idx || idx > s->nslots)
		return NULL;
	slot = &s->slots[idx - 1];
	if (slot->gen != (uint32_t)(id >> 32))
		return NULL;
	return slot->t;
}

static inline void ut_make_runnable(struct uthread *t)
{
	t->state = UT_RUNNABLE;
	t->wait_kind = UT_WAIT_NONE;
	t->wait_obj = NULL;
	t->wait_q = NULL;
	ut_q_push(&ut_sched.runq, t);
}

static inline void ut_block(struct ut_queue *q, enum ut_state state,
			    enum ut_wait kind, const void *obj)
{
	struct uthread *self = ut_sched.cur;

	self->state = state;
	self->wait_kind = kind;
	self->wait_obj = obj;
	self->wait_q = q;
	if (q)
		ut_q_push(q, self);
	ut_schedule();
}

/* stack.c */
int ut_stack_map(size_t size, struct uthread **tp);
void ut_stack_unmap(struct uthread *t);
void ut_stack_pool_drain(void);

/*
 * Released threads of the default stack size keep their mapping, guard and
 * TCB in a LIFO pool, so create+join makes no system call, and the TCB
 * and stack top it hands out are the ones most recently in cache.
 */
#define UT_POOL_MAX		1024

/* The caller has checked that the pool is not empty */
static inline struct uthread *ut_pool_get(void)
{
	struct ut_sched *s = &ut_sched;
	struct uthread *t = s->pool;

	s->pool = t->next;
	s->npool--;
#if UT_ASAN
	/* Frames of threads that never returned leave poisoned redzones */
	__asan_unpoison_memory_region(t->stack_lo, t->stack_size);
#endif
	return t;
}

static inline int ut_stack_alloc(size_t size, struct uthread **tp)
{
	struct ut_sched *s = &ut_sched;

	size = (size + s->page - 1) & ~(s->page - 1);
	if (size != UTHREAD_STACK_DEFAULT || !s->pool)
		return ut_stack_map(size, tp);
	*tp = ut_pool_get();
	return 0;
}

static inline void ut_stack_free(struct uthread *t)
{
	struct ut_sched *s = &ut_sched;

	if (t->map_len != s->page + UTHREAD_STACK_DEFAULT ||
	    s->npool >= UT_POOL_MAX) {
		ut_stack_unmap(t);
		return;
	}
	t->next = s->pool;
	s->pool = t;
	s->npool++;
}

/* sleep.c */
uint64_t ut_now_ns(void);
void ut_sleep_expire(uint64_t now);
bool ut_sleep_next(uint64_t *deadline);
void ut_sleep_remove(struct uthread *t);
void ut_sleep_fini(void);

/* io.c */
int ut_io_init(void);
void ut_io_fini(void);
int ut_io_poll(bool block);

/* mutex.c, sem.c: read-only views for the thread dump */
uthread_t ut_mutex_owner(const uthread_mutex_t *m);
unsigned int ut_sem_value(const uthread_sem_t *s);

/* dump.c */
void ut_dump_thread(FILE *f, const struct uthread *t, uint64_t now);
void ut_report_deadlock(void);

#endif /* UTHREAD_INT_H */
