/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What cowlab exec (exec.c) and the program it executes by default, cowlab
 * itself in a helper mode (exec_helper.c), share: the messages the helper
 * sends back, one per stage, and the sizes it works with.
 */
#ifndef COWLAB_EXEC_H
#define COWLAB_EXEC_H

#include <stdint.h>

#define BUF_SIZE	(1 << 20)
#define MMAP_STEPS	10
/* --pages: the most pages drawn of each buffer. */
#define EXEC_PAGES_MAX	64

/* What the helper sends back, one message per stage. */
enum helper_msg_kind {
	MSG_MAIN,		/* reached main(): a = minflt, b = majflt */
	MSG_FILE,		/* read the file buffer: c = pages */
	MSG_ANON,		/* wrote the anon buffer: c = pages */
	MSG_MMAP,		/* one mmap step: c = bytes touched, d = RSS */
	/* --pages: pages = file_buf, rss = anon_buf; then it waits */
	MSG_PAGES,
	MSG_END,
};

struct helper_msg {
	uint32_t kind;
	uint32_t step;
	uint64_t minflt, majflt;
	uint64_t pages;		/* or bytes touched (MSG_MMAP) */
	uint64_t rss;		/* MSG_MMAP: bytes */
	uint64_t ts;		/* now_ns() */
};

/*
 * cowlab __exec-helper FD PERCENT MMAP_SIZE ACK_FD: with ACK_FD above -1,
 * the helper stops at MSG_PAGES (before it touches its buffers, and after)
 * until the parent has read its page tables and written a byte there.
 */
int do_exec_helper(int argc, char **argv);

#endif /* COWLAB_EXEC_H */
