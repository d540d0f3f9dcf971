/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every cowtrace selftest shares: the rules for skipping (root, module
 * loaded, debugfs mounted) and a reader for the module's small views.
 */
#ifndef COWTRACE_TEST_H
#define COWTRACE_TEST_H

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

/* Each test's main(): skip as a whole unless the module can be tested. */
static inline int cowtrace_test_main(int argc, char **argv)
{
	cowtrace_require_module();
	return test_harness_run(argc, argv);
}

#endif /* COWTRACE_TEST_H */
