// SPDX-License-Identifier: GPL-2.0
/*
 * Timing: one clock for everything (COWLAB_CLOCK), and order statistics,
 * because single runs of fork or a page fault vary by tens of percent and
 * a median with its spread says more than a mean.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/cowlab.h"
#include "lib/json_writer.h"
#include "lib/measure.h"
#include "lib/report.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(COWLAB_CLOCK, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of sorted v[n], interpolating between neighbours. */
static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	if (i >= n - 1)
		return v[n - 1];
	return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

int summarize(const double *v, int n, struct summary *s)
{
	double *sorted, sum = 0;
	int i;

	memset(s, 0, sizeof(*s));
	if (n <= 0)
		return -EINVAL;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, v, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	for (i = 0; i < n; i++)
		sum += sorted[i];
	s->n = n;
	s->min = sorted[0];
	s->max = sorted[n - 1];
	s->mean = sum / n;
	s->median = quantile(sorted, n, 0.5);
	s->p10 = quantile(sorted, n, 0.1);
	s->p90 = quantile(sorted, n, 0.9);
	s->q1 = quantile(sorted, n, 0.25);
	s->q3 = quantile(sorted, n, 0.75);
	free(sorted);
	return 0;
}

int measure_repeat(int warmup, int runs, double (*fn)(void *arg), void *arg,
		   struct summary *s)
{
	double *v;
	int i, err;

	if (runs <= 0)
		return -1;
	v = calloc(runs, sizeof(*v));
	if (!v)
		return -1;
	for (i = 0; i < warmup; i++) {
		if (exiting || fn(arg) < 0)
			goto fail;
	}
	for (i = 0; i < runs; i++) {
		if (exiting)
			goto fail;
		v[i] = fn(arg);
		if (v[i] < 0)
			goto fail;
	}
	err = summarize(v, runs, s);
	free(v);
	return err ? -1 : 0;
fail:
	free(v);
	return -1;
}

void report_summary_ns(const char *key, const char *label,
		       const struct summary *s)
{
	char med[32], lo[32], hi[32], p10[32], p90[32];

	if (json_wtr) {
		jsonw_name(json_wtr, key);
		jsonw_start_object(json_wtr);
		jsonw_int_field(json_wtr, "n", s->n);
		jsonw_float_field(json_wtr, "median_ns", s->median);
		jsonw_float_field(json_wtr, "min_ns", s->min);
		jsonw_float_field(json_wtr, "max_ns", s->max);
		jsonw_float_field(json_wtr, "p10_ns", s->p10);
		jsonw_float_field(json_wtr, "p90_ns", s->p90);
		jsonw_end_object(json_wtr);
		return;
	}
	report_str(key, label, "%s median (min %s, p10-p90 %s-%s, max %s; n=%d)",
		   fmt_ns(med, sizeof(med), s->median),
		   fmt_ns(lo, sizeof(lo), s->min),
		   fmt_ns(p10, sizeof(p10), s->p10),
		   fmt_ns(p90, sizeof(p90), s->p90),
		   fmt_ns(hi, sizeof(hi), s->max), s->n);
}
