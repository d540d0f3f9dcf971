/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowlab fork --pages: the page tables at each step of the run
 * (fork_pages.c). Every row is allocated up front, so that a snapshot
 * takes no memory of its own between the run's measurements.
 */
#ifndef COWLAB_ENGINE_FORK_PAGES_H
#define COWLAB_ENGINE_FORK_PAGES_H

#include <sys/types.h>

struct fork_pages;

/* For the first @n pages of the run's memory; NULL if out of memory. */
struct fork_pages *fork_pages_new(long n);
void fork_pages_free(struct fork_pages *fp);
/* The parent's rows, and the child's if @child is not 0, at step @name. */
void fork_pages_snap(struct fork_pages *fp, const char *name, const char *mem,
		     pid_t parent, pid_t child);
void fork_pages_report(const struct fork_pages *fp);

#endif /* COWLAB_ENGINE_FORK_PAGES_H */
