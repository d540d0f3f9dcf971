/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The channel of one ipc run (engine/ipc_chan.c), between the parent and
 * its echo child, over one of the mechanisms of engine/ipc.h. Every
 * function returns 0 or a negative errno.
 */
#ifndef COWLAB_ENGINE_IPC_CHAN_H
#define COWLAB_ENGINE_IPC_CHAN_H

#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/ipc.h"

/* Both sides' state; everything set up is -1 or NULL until then. */
struct ipc_chan {
	enum ipc_method m;
	size_t size;
	bool child;
	pid_t peer;
	int sfd, rfd;		/* this side's ends (may be the same socket) */
	int fd[4];		/* everything setup created */
	struct ipc_shm *shm;
	size_t shm_len;
	sigset_t oldmask;
	struct sockaddr_in addr;
	char dir[PATH_MAX];
	char up[PATH_MAX + 8];
	char down[PATH_MAX + 8];
};

/* Before the fork: what both sides will share (memory, FIFOs, sockets). */
int ipc_chan_setup(struct ipc_chan *c);
/* After the fork, on each side: connect, open, or wait for the peer. */
int ipc_chan_attach(struct ipc_chan *c);
/* Message @seq, @n bytes each way. */
int ipc_chan_send(struct ipc_chan *c, const void *buf, size_t n, uint32_t seq);
int ipc_chan_recv(struct ipc_chan *c, void *buf, size_t n, uint32_t seq);
/* Close and remove whatever setup made, on either side. */
void ipc_chan_teardown(struct ipc_chan *c);

#endif /* COWLAB_ENGINE_IPC_CHAN_H */
