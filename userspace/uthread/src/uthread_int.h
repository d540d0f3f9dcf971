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
	uint16_t pad;		/* 62 */
};

/* Save the caller's context into @from and resume @to. */
void ut_ctx_switch(struct ut_ctx *from, struct ut_ctx *to);
#else
struct ut_ctx {
	ucontext_t uc;
};

void ut_ctx_switch(struct ut_ctx *from, struct ut_ctx *to);
#endif

/* Prepare @ctx to start @entry on the stack [@lo, @lo + @size). */
void ut_ctx_make(struct ut_ctx *ctx, void *lo, size_t size,
		 void (*entry)(void));

enum ut_state {
	UT_RUNNING,
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

struct uthread;

/* FIFO of threads linked through uthread.next. */
struct ut_queue {
	struct uthread *head;
	struct uthread *tail;
};

struct uthread {
	struct ut_ctx ctx;
	struct uthread *next;		/* run queue, wait queue, pool, reap */
	uthread_t id;
	void *(*fn)(void *arg);
	void *arg;
	void *retval;
	uthread_t joiner;
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

struct ut_fdwait {
	struct ut_queue rd;
	struct ut_queue wr;
	bool added;			/* fd is in the epoll set */
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

	struct uthread *pool;		/* cached default-size stacks */
	unsigned int npool;

	struct uthread **sleepq;	/* min-heap on (wake_at, wake_seq) */
	size_t nsleep;
	size_t sleep_cap;
	uint64_t sleep_seq;

	int epfd;
	struct ut_fdwait *fds;
	int nfds;
	uint64_t nio;			/* threads parked on I/O */

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

void ut_q_remove(struct ut_queue *q, struct uthread *t);

/* sched.c */
static inline bool ut_in_thread(void)
{
	return ut_sched.active && ut_sched.cur;
}

struct uthread *ut_lookup(uthread_t id);
void ut_make_runnable(struct uthread *t);
void ut_block(struct ut_queue *q, enum ut_state state, enum ut_wait kind,
	      const void *obj);
void ut_schedule(void);

/* stack.c */
int ut_stack_alloc(size_t size, struct uthread **tp);
void ut_stack_free(struct uthread *t);
void ut_stack_pool_drain(void);

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
