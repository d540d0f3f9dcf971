/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every cowtrace selftest shares: the rules for skipping (root, module
 * loaded, debugfs mounted) and a reader for the module's small views.
 */
#ifndef COWTRACE_TEST_H
#define COWTRACE_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cowtrace.h"

static inline void cowtrace_require_module(void)
{
	if (geteuid() != 0)
		ksft_exit_skip("must be run as root\n");
	if (access("/sys/module/cowtrace", F_OK))
		ksft_exit_skip("cowtrace.ko is not loaded\n");
	if (access(COWTRACE_DEBUGFS_DIR, F_OK))
		ksft_exit_skip("no %s: is debugfs mounted?\n",
			       COWTRACE_DEBUGFS_DIR);
}

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

/* Each test's main(): skip as a whole unless the module can be tested. */
static inline int cowtrace_test_main(int argc, char **argv)
{
	cowtrace_require_module();
	return test_harness_run(argc, argv);
}

#endif /* COWTRACE_TEST_H */
