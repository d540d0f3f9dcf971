/* SPDX-License-Identifier: GPL-2.0 */
/* The echo benchmark's client (echo_client.c). */
#ifndef ECHO_CLIENT_H
#define ECHO_CLIENT_H

#include <stdint.h>

struct echo_plan {
	int port;		/* on 127.0.0.1 */
	long conns;		/* connections, each one request in flight */
	uint64_t warm_ns;	/* run, not counted */
	uint64_t run_ns;	/* counted */
};

struct echo_result {
	long connected;
	long requests;		/* replies completed while counting */
	double per_s;		/* requests per second */
	double p50_us, p99_us;	/* request to complete reply */
	int err;		/* errno that ended the run early, or 0 */
};

/* Connect, run the plan, fill @r; the connections are closed after. */
void echo_client(const struct echo_plan *p, struct echo_result *r);

#endif /* ECHO_CLIENT_H */
