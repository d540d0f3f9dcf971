// SPDX-License-Identifier: GPL-2.0
/*
 * Every hook attaches, and no column is unavailable, on every kernel series
 * cowtrace is tested on: a kernel that renamed, inlined or dropped a probed
 * function or a tracepoint fails here first, by name. The stats view lists
 * one line per hook: "hook TYPE NAME attached WHAT [missed N]", or
 * "hook TYPE NAME unavailable error E".
 *
 * The fault bracket and classifiers hook their functions' entry through
 * ftrace, a sixth of a kprobe's cost: every one that ftrace can trace must
 * show as "ftrace", and only one that it cannot (notrace) as a kprobe.
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

/* Whether ftrace can trace @fn: a line of its own in the list. */
static bool ftrace_traces(const char *fn)
{
	static const char *const lists[] = {
		"/sys/kernel/tracing/available_filter_functions",
		"/sys/kernel/debug/tracing/available_filter_functions",
	};
	char line[256];
	bool found = false;
	unsigned int i;
	FILE *f = NULL;

	for (i = 0; !f && i < sizeof(lists) / sizeof(*lists); i++)
		f = fopen(lists[i], "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		found = !strcmp(line, fn);
	}
	fclose(f);
	return found;
}

TEST(fault_hooks_enter_through_ftrace_where_it_traces)
{
	static const char *const hooks[] = {
		"do_wp_page", "wp_page_reuse", "folio_add_new_anon_rmap",
		"do_swap_page", "handle_mm_fault",
	};
	char type[32], name[64], what[64], fn[64], want[160];
	int seen = 0, via_ftrace = 0;
	unsigned int i;
	char *line, *save;

	if (access("/sys/kernel/tracing/available_filter_functions", R_OK) &&
	    access("/sys/kernel/debug/tracing/available_filter_functions", R_OK))
		SKIP(return, "no tracefs: cannot tell what ftrace traces");
	ASSERT_LT(0, cowtrace_read_file(STATS, text, sizeof(text)));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "hook %31s %63s %63s %63s", type, name, what, fn) != 4)
			continue;
		for (i = 0; i < sizeof(hooks) / sizeof(*hooks); i++)
			if (!strcmp(name, hooks[i]))
				break;
		if (i == sizeof(hooks) / sizeof(*hooks))
			continue;
		seen++;
		ASSERT_STREQ("attached", what);
		via_ftrace += ftrace_traces(fn);
		snprintf(want, sizeof(want), "hook %s %s attached %s",
			 ftrace_traces(fn) ? "ftrace" : "kprobe", name, fn);
		EXPECT_EQ(0, strncmp(line, want, strlen(want)))
			TH_LOG("%s: expected '%s'", line, want);
	}
	EXPECT_EQ(5, seen);
	/* All but wp_page_reuse(), notrace on every series tested. */
	EXPECT_EQ(4, via_ftrace);
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
