// SPDX-License-Identifier: GPL-2.0
/*
 * The module's debugfs directory and its version file, which must name this
 * module's version and the very kernel it runs on.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "cowtrace_test.h"

TEST(debugfs_dir_exists)
{
	struct stat st;

	ASSERT_EQ(0, stat(COWTRACE_DEBUGFS_DIR, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST(version_is_read_only_for_all)
{
	struct stat st;

	ASSERT_EQ(0, stat(COWTRACE_DEBUGFS_DIR "/version", &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(0444, st.st_mode & 07777);
}

TEST(version_names_module_and_running_kernel)
{
	char text[512], expected[512];
	struct utsname uts;

	ASSERT_EQ(0, uname(&uts));
	snprintf(expected, sizeof(expected), "version %s\nkernel %s\n",
		 COWTRACE_VERSION, uts.release);
	ASSERT_LT(0, cowtrace_read_file(COWTRACE_DEBUGFS_DIR "/version",
					text, sizeof(text)));
	EXPECT_STREQ(expected, text);
}

TEST(sysfs_module_version_matches)
{
	char text[64];

	ASSERT_LT(0, cowtrace_read_file("/sys/module/cowtrace/version",
					text, sizeof(text)));
	EXPECT_STREQ(COWTRACE_VERSION "\n", text);
}

int main(int argc, char **argv)
{
	return cowtrace_test_main(argc, argv);
}
