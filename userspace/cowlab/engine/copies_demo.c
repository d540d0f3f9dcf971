// SPDX-License-Identifier: GPL-2.0
/*
 * The problem copy-on-write operators fight, small: a parent builds a large
 * structure in memory and forks workers that only read it (a prefork
 * server, a snapshotting database, a zygote). But each read takes and
 * drops a reference, and the count lives in the object: every page the
 * workers read is written, and each worker copies all of them. With
 * --separate the counts live in an array of their own, and only its few
 * pages are copied.
 *
 * The objects and the separate counts are anonymous mappings of their own,
 * whose addresses the report is given, to name them "cowlab-objects" and
 * "cowlab-refcounts" (Debian's kernels name no anonymous mapping); with
 * huge pages off, one copy is one 4 KiB page.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/copies.h"

struct object {
	long refcount;		/* unused with --separate */
	long key;
	char payload[240];
};

static long *counts;		/* --separate: one per object */

static size_t region_pages(size_t bytes)
{
	size_t page = sysconf(_SC_PAGESIZE);

	return (bytes + page - 1) / page;
}

long copy_demo_object_pages(const struct copy_demo *d)
{
	return region_pages(d->objects * sizeof(struct object));
}

long copy_demo_count_pages(const struct copy_demo *d)
{
	return d->separate ? region_pages(d->objects * sizeof(long)) : 0;
}

static void *map_region(size_t pages, uint64_t *start, uint64_t *end)
{
	size_t len = pages * sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	*start = (uintptr_t)p;
	*end = *start + len;
	return p;
}

/*
 * Take and drop a reference, as a garbage-collected or reference-counted
 * runtime does on every read. Not inlined: the copies are reported here.
 */
__attribute__((noinline)) void demo_object_get(struct object *o, long i)
{
	if (counts)
		((volatile long *)counts)[i]++;
	else
		((volatile struct object *)o)->refcount++;
}

__attribute__((noinline)) void demo_object_put(struct object *o, long i)
{
	if (counts)
		((volatile long *)counts)[i]--;
	else
		((volatile struct object *)o)->refcount--;
}

/* A worker: reads every object once, holding a reference meanwhile. */
static long worker(struct object *objs, long n)
{
	long i, sum = 0;

	for (i = 0; i < n; i++) {
		demo_object_get(&objs[i], i);
		sum += objs[i].key + objs[i].payload[i % sizeof(objs[i].payload)];
		demo_object_put(&objs[i], i);
	}
	return sum;
}

int copy_demo_run(const struct copy_demo *d, struct copy_demo_regions *r)
{
	struct object *objs;
	long i, w;
	pid_t pid;
	int status, ret = 0;

	memset(r, 0, sizeof(*r));
	objs = map_region(copy_demo_object_pages(d), &r->objects,
			  &r->objects_end);
	if (!objs)
		return -errno;
	if (d->separate) {
		counts = map_region(copy_demo_count_pages(d), &r->counts,
				    &r->counts_end);
		if (!counts)
			return -errno;
	}
	for (i = 0; i < d->objects; i++) {
		objs[i].key = i;
		memset(objs[i].payload, (int)i, sizeof(objs[i].payload));
		if (counts)
			counts[i] = 1;
		else
			objs[i].refcount = 1;
	}
	for (w = 0; w < d->workers; w++) {
		pid = fork();
		if (pid < 0)
			return -errno;
		if (!pid)
			_exit(worker(objs, d->objects) == -1);
		/* one at a time: each worker's copies are its own */
		if (waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			ret = -ECHILD;
	}
	return ret;
}
