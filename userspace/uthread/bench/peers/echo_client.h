/* SPDX-License-Identifier: GPL-2.0 */
/* The echo benchmark's client (echo_client.c). */
#ifndef ECHO_CLIENT_H
#define ECHO_CLIENT_H

#include <stdint.h>
#include <sys/types.h>

struct echo_plan {
	int port;		/* on 127.0.0.1 */
	pid_t server;		/* whose CPU time the counted part reads */
	long conns;		/* connections, each one request in flight */
	uint64_t warm_ns;	/* run, not counted */
	uint64_t run_ns;	/* counted */
};

struct echo_result {
	long connected;
	long requests;		/* replies completed while counting */
	double per_s;		/* requests per second */
	double p50_us, p99_us;	/* request to complete reply */
	/*
	 * The server's CPU time (user + system) a request, the system's share
	 * of it, and the server's CPU time over the time counted (1: one CPU
	 * busy); the client's CPU time a request, which the server's way of
	 * waiting moves too (the wake-ups its sends cause): why the rate is
	 * what it is. Negative if /proc did not tell.
	 */
	double cpu_us, sys_share, busy, client_cpu_us;
	int err;		/* errno that ended the run early, or 0 */
};

/* Connect, run the plan, fill @r; the connections are closed after. */
void echo_client(const struct echo_plan *p, struct echo_result *r);

#endif /* ECHO_CLIENT_H */
