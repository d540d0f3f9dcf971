/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory and fault counts from /proc (lib/memstat.c): a process's, the
 * system's, and whether a size asked for fits.
 */
#ifndef COWLAB_MEMSTAT_H
#define COWLAB_MEMSTAT_H

#include <stdint.h>
#include <sys/types.h>

/* Bytes, from /proc/<pid>/smaps_rollup; uss = Private_Clean+Private_Dirty. */
struct mem_usage {
	uint64_t rss, pss, uss, shared, anon, swap;
};

int mem_usage(pid_t pid, struct mem_usage *m);
/* Parse smaps_rollup text (exposed for the unit tests). */
int mem_parse_rollup(const char *text, struct mem_usage *m);

/* /proc/meminfo: used = MemTotal - MemAvailable, in bytes. */
struct sys_mem {
	uint64_t total, available, used, free;
};

int sys_mem(struct sys_mem *s);
/*
 * Whether need bytes fit in 90% of MemAvailable; if not, p_err() naming
 * what (e.g. "--size 64G") and EXIT_USAGE, else 0 (also when unknown).
 */
int mem_check_fits(const char *what, uint64_t need);
/*
 * The same for base + n * each bytes, sizes and counts from the command
 * line: a total past 2^64 is refused (p_err(), EXIT_USAGE) before it can
 * wrap around into one that seems to fit.
 */
int mem_check_fits_n(const char *what, uint64_t base, uint64_t n,
		     uint64_t each);

/* minflt, majflt of a process (tid 0) or one of its threads. */
struct proc_faults {
	uint64_t minflt, majflt;
};

int proc_faults(pid_t pid, pid_t tid, struct proc_faults *f);
/* Parse a /proc/<pid>/stat line (exposed for the unit tests). */
int proc_parse_stat_faults(const char *line, struct proc_faults *f);

#endif /* COWLAB_MEMSTAT_H */
