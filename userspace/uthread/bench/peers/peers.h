/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libuthread against the thread libraries a user would otherwise pick,
 * each behind the same few operations. One file per library, so that
 * their headers (pth.h, st.h) never meet; every measurement runs in a
 * forked child of its own, so that no library's state reaches another's.
 */
#ifndef PEERS_H
#define PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What a run of idle threads measured at its peak. */
struct idle_result {
	long made;		/* threads alive at once */
	int err;		/* errno of the creation that failed, or 0 */
	double va_bytes;	/* VmSize added, per thread */
	double user_bytes;	/* VmRSS + VmPTE added, per thread */
	double kernel_bytes;	/* KernelStack added (system-wide), per thread */
};

struct peer {
	const char *name;
	const char *version;
	const char *switch_how;	/* the calls one switch is made of */
	const char *stack_how;	/* where a thread's stack comes from */
	/* ns per switch over @n round trips (2n switches); < 0 on failure */
	double (*switch_ns)(long n);
	/* ns per create + join over @n pairs; < 0 on failure */
	double (*create_join_ns)(long n);
	/*
	 * Create up to @n threads that wait, stopping at the first refusal;
	 * if idle_runs(), run each to its wait, call idle_peak(), release and
	 * join them; if not, idle_peak() with all created ends the process.
	 */
	void (*idle)(long n, struct idle_result *r);
	/*
	 * Serve echo on the listening socket @lfd, one thread per connection,
	 * until killed; returns only on failure. NULL: the library has no I/O.
	 */
	int (*echo_serve)(int lfd);
	/* The highest descriptor it can wait on plus one; 0 if no limit. */
	int echo_fd_limit;
	const char *echo_note;	/* how it waits for I/O */
};

extern const struct peer peer_uthread, peer_uthread_ctx, peer_fcontext,
	peer_pth, peer_st, peer_pthread;

/* Bytes one echo request (and its reply) carries. */
#define ECHO_MSG	64

uint64_t now_ns(void);

/* Serve echo on @fd with @rd and @wr until the client closes; @cl closes @fd. */
void echo_conn(int fd, ssize_t (*rd)(int, void *, size_t),
	       ssize_t (*wr)(int, const void *, size_t), int (*cl)(int));

/* Called by a peer's idle() before it creates the first thread. */
void idle_start(void);
/* Called by idle() with every thread alive; fills @r. */
void idle_peak(long made, struct idle_result *r);
/* Whether idle() runs its threads to their wait (else: only counts). */
bool idle_runs(void);
/*
 * Make idle() count only: the most threads alive, where running them all
 * (each scheduler pass of GNU Pth visits every waiting thread) and
 * tearing them down would cost minutes and change nothing.
 */
void idle_count_only(void);

#endif /* PEERS_H */
