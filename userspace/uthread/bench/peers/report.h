/* SPDX-License-Identifier: GPL-2.0 */
/* The peers benchmark's table, its tab-separated copy, its verdicts. */
#ifndef REPORT_H
#define REPORT_H

#include <stdbool.h>

#include "echo_client.h"
#include "peers.h"

/* @tsv: also write every figure there, or NULL. 0, or -1 with a message. */
int report_open(const char *tsv);
int report_close(void);

void report_header(const struct peer *const *peers, int n, int rounds,
		   bool smoke);
/* @v: the rounds' figures (sorted in place), @n of them. */
void report_timing(const char *section, const char *peer, const char *how,
		   double *v, int n, const char *unit);
void report_idle(const struct peer *p, long want, int err,
		 const struct idle_result *r);
void report_max_begin(long as_limit, const char *map_note);
void report_max(const struct peer *p, long cap, int err,
		const struct idle_result *r);
void report_echo_begin(int msg, uint64_t warm_ns, uint64_t run_ns,
		       int rounds);
void report_echo_error(const struct peer *p, long conns, int err);
/* @why: the reason @p cannot run it, or NULL; @r: @n rounds. */
void report_echo(const struct peer *p, long conns, const char *why,
		 const struct echo_result *r, int n);
/* libuthread against the targets of the benchmark's issue. */
void report_verdicts(void);

#endif /* REPORT_H */
