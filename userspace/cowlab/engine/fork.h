/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of cowlab fork share: fork.c parses its options, says
 * its help and maps and writes its memory; fork_run.c is the run,
 * fork_pages.c draws the page tables at each step of it, fork_sweep.c is
 * the sweep.
 */
#ifndef COWLAB_FORK_H
#define COWLAB_FORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --pages: the most pages drawn, a terminal's worth per step. */
#define FORK_PAGES_MAX	64

struct fork_env {
	uint64_t size;
	double write_pct;
	long children;
	long runs;
	uint64_t max_size;
	long pages;		/* --pages: page tables drawn; 0: none */
	bool sweep;
	size_t page_size;
};

extern struct fork_env fenv;

/* What a child measured around its writes, sent to the parent. */
struct child_result {
	uint64_t write_ns;
	uint64_t write_faults;	/* getrusage in the child, around the loop */
};

/* argv[0] is the program name for getopt: 0, -1 after --help, or an exit. */
int fork_parse_opts(int argc, char **argv);
/* SIZE of private anonymous memory, huge pages off, every page written. */
char *fork_map_touched(uint64_t size);
uint64_t fork_minflt_self(void);
/* Write one byte in each of the first n pages: each write breaks CoW. */
void fork_write_pages(char *p, size_t n);
int fork_check_children(long n);

int fork_cmd_run(int argc, char **argv);
int fork_cmd_sweep(int argc, char **argv);

#endif /* COWLAB_FORK_H */
