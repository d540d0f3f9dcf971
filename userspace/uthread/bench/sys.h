/* SPDX-License-Identifier: GPL-2.0 */
/* What both benchmarks read from /proc and the one limit they raise. */
#ifndef BENCH_SYS_H
#define BENCH_SYS_H

/* The value of "@key:" in @file (/proc/self/status, /proc/meminfo), or -1. */
long proc_kb(const char *file, const char *key);

/* vm.max_map_count, or -1. */
long max_map_get(void);

/*
 * At least @need mappings for this run: 0 if the limit is that high
 * already, 1 if it was raised (and is put back at exit), -1 if it could not
 * be (not root).
 */
int max_map_raise(long need);

#endif /* BENCH_SYS_H */
