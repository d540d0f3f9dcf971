/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading the module's small files, for the tests and for plain helper
 * programs that do not link the kselftest harness.
 */
#ifndef COWTRACE_CT_FILE_H
#define COWTRACE_CT_FILE_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cowtrace.h"

/*
 * Read a whole small file into @buf and NUL-terminate it. Returns its length,
 * or -errno; a file that does not fit is an error (-EFBIG), not a truncation.
 */
static inline ssize_t cowtrace_read_file(const char *path, char *buf,
					 size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + len, size - len)) > 0) {
		len += n;
		if (len == size) {
			close(fd);
			return -EFBIG;
		}
	}
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	buf[len] = '\0';
	return len;
}

/*
 * Write @s to @path in one write(), as "echo -n s > path" does: 0, or
 * -errno (the error a control file or parameter refused it with), or -EIO
 * for a short write.
 */
static inline int cowtrace_write_file(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	return (size_t)n == len ? 0 : -EIO;
}

#endif /* COWTRACE_CT_FILE_H */
