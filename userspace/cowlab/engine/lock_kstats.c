// SPDX-License-Identifier: GPL-2.0
/*
 * The lock engine's reading of cowtrace.ko's "locks" view: the file-lock
 * counters of one file, found by its device and inode, summed over its
 * rows by column name, so that a column the module adds needs no change
 * here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/lock.h"

/* Columns that identify a row rather than count something */
static bool lock_kkey(const char *col)
{
	static const char *const keys[] = { "pid", "tgid", "comm", "type",
					     "dev", "inode", "waiting" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(col, keys[i]))
			return true;
	return false;
}

static int lock_ksplit(char *line, char **f, int max)
{
	char *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(line, " \t\n", &save); tok && n < max;
	     tok = strtok_r(NULL, " \t\n", &save))
		f[n++] = tok;
	return n;
}

static void lock_kadd(struct lock_kstats *k, char **hdr, int nh, char **f,
		      int nf)
{
	int i, j;

	for (i = 0; i < nh && i < nf; i++) {
		if (lock_kkey(hdr[i]))
			continue;
		for (j = 0; j < k->ncols; j++)
			if (!strcmp(k->name[j], hdr[i]))
				break;
		if (j == k->ncols) {
			if (k->ncols == LOCK_KCOLS)
				continue;
			snprintf(k->name[k->ncols++], sizeof(k->name[0]), "%s",
				 hdr[i]);
		}
		if (!strncmp(hdr[i], "max", 3)) {
			if (atoll(f[i]) > k->v[j])
				k->v[j] = atoll(f[i]);
		} else {
			k->v[j] += atoll(f[i]);
		}
	}
}

int lock_kparse(const char *text, unsigned int major, unsigned int minor,
		unsigned long ino, struct lock_kstats *k)
{
	char *copy = strdup(text ? text : ""), *line, *save = NULL;
	char *hdr[32], *f[32], dev[32], hline[512];
	int nh = 0, nf, idev = -1, iino = -1, i;
	bool in_section = false;

	memset(k, 0, sizeof(*k));
	if (!copy)
		return -ENOMEM;
	snprintf(dev, sizeof(dev), "%u:%u", major, minor);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "==", 2)) {
			in_section = strstr(line, "file locks") &&
				     !strstr(line, "unavailable");
			nh = 0;
			continue;
		}
		if (!in_section)
			continue;
		if (!nh) {
			/* The header: kept in its own buffer, split once */
			snprintf(hline, sizeof(hline), "%s", line);
			nh = lock_ksplit(hline, hdr, 32);
			for (i = 0; i < nh; i++) {
				if (!strcmp(hdr[i], "dev"))
					idev = i;
				if (!strcmp(hdr[i], "inode"))
					iino = i;
			}
			if (idev < 0 || iino < 0)
				nh = 0;
			continue;
		}
		nf = lock_ksplit(line, f, 32);
		if (nf <= idev || nf <= iino || strcmp(f[idev], dev) ||
		    strtoul(f[iino], NULL, 10) != ino)
			continue;
		k->rows++;
		lock_kadd(k, hdr, nh, f, nf);
	}
	free(copy);
	return idev < 0 ? -ENOENT : 0;
}

long long lock_kget(const struct lock_kstats *k, const char *name)
{
	int i;

	for (i = 0; i < k->ncols; i++)
		if (!strcmp(k->name[i], name))
			return k->v[i];
	return -1;
}
