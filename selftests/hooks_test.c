// SPDX-License-Identifier: GPL-2.0
/*
 * Every hook attaches, and no column is unavailable, on every kernel series
 * cowtrace is tested on: a kernel that renamed, inlined or dropped a probed
 * function or a tracepoint fails here first, by name. The stats view lists
 * one line per hook: "hook TYPE NAME attached WHAT [missed N]", or
 * "hook TYPE NAME unavailable error E".
 */
#include "cowtrace_test.h"

#define STATS	COWTRACE_DEBUGFS_DIR "/stats"

static char text[16384];

TEST(every_hook_attaches)
{
	int hooks = 0, attached = 0;
	char *line, *save;

	ASSERT_LT(0, cowtrace_read_file(STATS, text, sizeof(text)));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "hook ", 5))
			continue;
		hooks++;
		if (strstr(line, " attached "))
			attached++;
		else
			TH_LOG("%s", line);
	}
	/* 3 lifecycle, 7 fault, 3 contention and 3 file-lock hooks. */
	EXPECT_EQ(16, hooks);
	EXPECT_EQ(hooks, attached);
}

TEST(no_column_is_unavailable)
{
	const char *key = "unavailable_columns ";
	char *line;

	ASSERT_LT(0, cowtrace_read_file(STATS, text, sizeof(text)));
	line = strstr(text, key);
	ASSERT_NE(NULL, line);
	line += strlen(key);
	*strchrnul(line, '\n') = '\0';
	EXPECT_STREQ("none", line);
}

int main(int argc, char **argv)
{
	return cowtrace_test_main(argc, argv);
}
