/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowlab ipc: round trips between a parent and a forked child over every
 * IPC mechanism Linux offers, measured the same way for each.
 */
#ifndef COWLAB_ENGINE_IPC_H
#define COWLAB_ENGINE_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "engine/common.h"

enum ipc_method {
	IPC_SHM_FUTEX,
	IPC_SHM_SPIN,
	IPC_POSIX_SHM_FUTEX,
	IPC_POSIX_SHM_SPIN,
	IPC_SIGNAL,
	IPC_PIPE,
	IPC_FIFO,
	IPC_UNIX_STREAM,
	IPC_UNIX_DGRAM,
	IPC_TCP,
	IPC_UDP,
	IPC_NR_METHODS
};

struct ipc_method_info {
	const char *name;
	const char *what;
};

extern const struct ipc_method_info ipc_methods[IPC_NR_METHODS];

#define IPC_MAX_RUNS		64
#define IPC_MAX_SIZE		(64u << 20)
#define IPC_MAX_COUNT		100000000ul
/* A UDP datagram's payload on IPv4 is at most this many bytes */
#define IPC_UDP_MAX		65507u

struct ipc_params {
	size_t size;		/* bytes per message, each way */
	unsigned long count;	/* round trips per run */
	int runs;		/* timed runs */
	int warmup;		/* untimed runs before them */
};

struct ipc_result {
	size_t payload;		/* bytes one message carries (signals: less) */
	struct ilt_series rt;	/* ns per round trip over the timed runs */
	double ns_rt[IPC_MAX_RUNS];
	uint64_t msgs;		/* round trips done, warm-up included */
	uint64_t verified;	/* replies compared byte for byte */
	uint64_t bad;		/* replies that differed from the request */
	int err;		/* 0, or the errno value that stopped it */
	const char *why;	/* with err: the step that failed */
};

/* Index of a method name, or -1. */
int ipc_method_lookup(const char *name);
/*
 * Run one method: fork an echo child and time parent->child->parent.
 * Returns 0 or a negative errno; r->err holds the (positive) errno value.
 */
int ipc_run(enum ipc_method m, const struct ipc_params *p,
	    struct ipc_result *r);
/* Bytes per second moved both ways, from the median round trip. */
double ipc_bandwidth(const struct ipc_result *r);

/*
 * Shared versus private memory after fork: the child writes @magic into a
 * MAP_SHARED page, a MAP_PRIVATE page and an ordinary global; the parent
 * reads all three after the child has exited.
 */
struct ipc_visibility {
	long magic;
	long shared_seen;	/* the child's write: the page is one page */
	long private_seen;	/* still the parent's value: the child's copy */
	long global_seen;	/* likewise: .data is a private mapping */
	int err;
};

/* 0 or a negative errno (v->err: the errno value). */
int ipc_visibility(struct ipc_visibility *v);

#endif /* COWLAB_ENGINE_IPC_H */
