/* SPDX-License-Identifier: GPL-2.0 */
/* Measurements in forked children (child.c). */
#ifndef CHILD_H
#define CHILD_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Run @fn(@arg, @out) in a child and copy its @out (@size bytes) back.
 * 0, -ETIMEDOUT (killed after @timeout_s), -EPIPE or -ECHILD (it died).
 */
int run_child(void (*fn)(void *arg, void *out), void *arg, void *out,
	      size_t size, int timeout_s);

/* A child running @fn(@arg) until stop_child(); -1 if fork failed. */
pid_t start_child(void (*fn)(void *arg), void *arg);
void stop_child(pid_t pid);

#endif /* CHILD_H */
