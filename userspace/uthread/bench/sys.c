// SPDX-License-Identifier: GPL-2.0
/* What both benchmarks read from /proc and the one limit they raise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sys.h"

#define MAX_MAP	"/proc/sys/vm/max_map_count"

long proc_kb(const char *file, const char *key)
{
	size_t len = strlen(key);
	char line[256];
	long v = -1;
	FILE *f = fopen(file, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':')
			v = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

long max_map_get(void)
{
	FILE *f = fopen(MAX_MAP, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int max_map_set(long v)
{
	FILE *f = fopen(MAX_MAP, "we");

	if (!f)
		return -1;
	fprintf(f, "%ld\n", v);
	return fclose(f) ? -1 : 0;
}

static long old_max_map = -1;

static void max_map_restore(void)
{
	if (old_max_map > 0)
		max_map_set(old_max_map);
}

int max_map_raise(long need)
{
	long cur = max_map_get();

	if (cur >= need)
		return 0;
	if (max_map_set(need))
		return -1;
	if (old_max_map < 0) {
		old_max_map = cur;
		atexit(max_map_restore);
	}
	return 1;
}
