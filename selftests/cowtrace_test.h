/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every cowtrace selftest shares: the rules for skipping (root, module
 * loaded, debugfs mounted) and a reader for the module's small views.
 */
#ifndef COWTRACE_TEST_H
#define COWTRACE_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ct_file.h"

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
 * On a slow kernel (the sanitizer one runs 10-20 times slower) the test
 * runner sets COWTRACE_TIMEOUT_SCALE: every test's time limit grows with
 * it, and what the tests do stays the same.
 */
static inline void cowtrace_scale_timeouts(void)
{
	const char *s = getenv("COWTRACE_TIMEOUT_SCALE");
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	int scale = s ? atoi(s) : 1;

	if (scale <= 1)
		return;
	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout *= scale;
}

/*
 * A new page waits in the per-CPU LRU cache of the CPU that faulted it,
 * holding a reference; a write-protect fault drains only its own CPU's
 * cache, and a page with a reference more is copied rather than reused.
 * A test that expects reuses exactly runs on one CPU. 0 or -errno.
 */
static inline int cowtrace_pin_cpu(void)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	return sched_setaffinity(0, sizeof(one), &one) ? -errno : 0;
}

/* A swap device for the tests that page out, made of zram if none is on. */
#define COWTRACE_ZRAM_ON	"modprobe zram num_devices=1 && "	\
	"echo 64M > /sys/block/zram0/disksize && "			\
	"mkswap /dev/zram0 >/dev/null && swapon /dev/zram0"
#define COWTRACE_ZRAM_OFF	\
	"swapoff /dev/zram0 && echo 1 > /sys/block/zram0/reset"

static inline bool cowtrace_have_swap(void)
{
	char text[4096];

	return cowtrace_read_file("/proc/swaps", text, sizeof(text)) > 0 &&
	       strchr(text, '\n') && strchr(text, '\n')[1];
}

/* A child that gets exactly pid @want (clone3's set_tid, as root). */
static inline pid_t cowtrace_fork_with_pid(pid_t want)
{
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)&want,
		.set_tid_size = 1,
	};

	return syscall(SYS_clone3, &args, sizeof(args));
}

/* The number after @key at the start of a line of the stats view, or -1. */
static inline long long cowtrace_stat(const char *key)
{
	static char text[16384];
	size_t klen = strlen(key);
	char *line;

	if (cowtrace_read_file(COWTRACE_DEBUGFS_DIR "/stats", text,
			       sizeof(text)) < 0)
		return -1;
	for (line = text; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, key, klen) && line[klen] == ' ')
			return strtoll(line + klen + 1, NULL, 10);
	}
	return -1;
}

/*
 * The modules the tests load: from $CT_TESTMOD_DIR (make check sets it to
 * the series' build of selftests/testmod), else from testmod/ beside the
 * test program (where 'make install' puts them).
 */
static inline void cowtrace_testmod_path(const char *name, char *path,
					 size_t size)
{
	const char *dir = getenv("CT_TESTMOD_DIR");
	char exe[256];
	ssize_t n;

	if (dir) {
		snprintf(path, size, "%s/%s.ko", dir, name);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (strrchr(exe, '/'))
		*strrchr(exe, '/') = '\0';
	snprintf(path, size, "%s/testmod/%s.ko", exe, name);
}

static inline bool cowtrace_have_testmod(const char *name)
{
	char path[512];

	cowtrace_testmod_path(name, path, sizeof(path));
	return !access(path, R_OK);
}

/* Load (or unload) test module @name; 0 or -errno. */
static inline int cowtrace_testmod(const char *name, bool load)
{
	char path[512];
	int fd, ret;

	if (!load)
		return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
	cowtrace_testmod_path(name, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* Each test's main(): skip as a whole unless the module can be tested. */
static inline int cowtrace_test_main(int argc, char **argv)
{
	cowtrace_require_module();
	cowtrace_scale_timeouts();
	return test_harness_run(argc, argv);
}

#endif /* COWTRACE_TEST_H */
