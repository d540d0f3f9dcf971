/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Measurement (lib/measure.c): the clock, order statistics over repeated
 * runs, and their report.
 */
#ifndef COWLAB_MEASURE_H
#define COWLAB_MEASURE_H

#include <stdint.h>
#include <time.h>

/* Every time cowlab prints is read from this clock; name it in output. */
#define COWLAB_CLOCK		CLOCK_MONOTONIC
#define COWLAB_CLOCK_NAME	"CLOCK_MONOTONIC"

uint64_t now_ns(void);

/* Order statistics over n samples (not modified: a copy is sorted). */
struct summary {
	int n;
	double min, max, median, mean;
	double p10, p90;	/* spread: 10th and 90th percentile */
	double q1, q3;		/* interquartile range: q3 - q1 */
};

int summarize(const double *v, int n, struct summary *s);

/*
 * Run fn warmup times unmeasured, then runs times; fn returns one sample
 * (any unit, e.g. ns) or a negative value on failure, which stops the
 * series (the return value is then -1). Stops early (-1) on exiting.
 */
int measure_repeat(int warmup, int runs, double (*fn)(void *arg), void *arg,
		   struct summary *s);

/* A summary as a section: n, median, min, max, p10, p90 (nanoseconds). */
void report_summary_ns(const char *key, const char *label,
		       const struct summary *s);

#endif /* COWLAB_MEASURE_H */
