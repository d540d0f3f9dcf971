/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the engine tests share: counting what a run may have left behind
 * (temporary files under ilt_tmp_base(), /dev/shm objects).
 */
#ifndef COWLAB_TESTS_LEFTOVERS_H
#define COWLAB_TESTS_LEFTOVERS_H

#include <dirent.h>
#include <string.h>

/* Entries in @dir whose name starts with @prefix. */
static inline int count_prefixed(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

#endif /* COWLAB_TESTS_LEFTOVERS_H */
