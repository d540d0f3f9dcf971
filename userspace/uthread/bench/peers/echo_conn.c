// SPDX-License-Identifier: GPL-2.0
/*
 * One echo connection, served by whatever read, write and close the
 * library gives (its own, which park the thread, or the system calls):
 * ECHO_MSG bytes in, the same bytes out, until the client closes.
 */
#include <unistd.h>

#include "peers.h"

void echo_conn(int fd, ssize_t (*rd)(int, void *, size_t),
	       ssize_t (*wr)(int, const void *, size_t), int (*cl)(int))
{
	char buf[ECHO_MSG];
	size_t got;
	ssize_t n;

	for (;;) {
		for (got = 0; got < sizeof(buf); got += n) {
			n = rd(fd, buf + got, sizeof(buf) - got);
			if (n <= 0)
				goto out;
		}
		for (got = 0; got < sizeof(buf); got += n) {
			n = wr(fd, buf + got, sizeof(buf) - got);
			if (n <= 0)
				goto out;
		}
	}
out:
	cl(fd);
}
