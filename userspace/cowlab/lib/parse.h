/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parsing the values of command-line options (lib/parse.c), with one
 * error line naming the option.
 */
#ifndef COWLAB_PARSE_H
#define COWLAB_PARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Each returns 0, or a negative errno (-EINVAL: not that kind of value,
 * -ERANGE: out of range) and leaves *out alone. The opt_* variants call
 * p_err() with one line naming the option and the value and return
 * EXIT_USAGE (else 0), so that a command can write
 *	if ((err = opt_size("--size", optarg, &env.size)))
 *		return err;
 */
/* 4096, 4K, 4k, 4KB, 4KiB, 256M, 1G, 4GiB, 1T: binary multiples. */
int parse_size(const char *s, uint64_t *out);
/* "50%" or "50", 0..100, decimals allowed ("12.5%"). */
int parse_percent(const char *s, double *out);
/* A decimal integer in [min, max]. */
int parse_count(const char *s, long min, long max, long *out);
/* A decimal number of seconds > 0, e.g. "0.5", "2". */
int parse_seconds(const char *s, double *out);
/*
 * A comma list of names out of names[n] into a bit mask (bit i for
 * names[i]); names match by unique prefix. On -EINVAL *bad (if not NULL)
 * gets the offset of the bad word in s.
 */
int parse_list(const char *s, const char *const *names, int n,
	       unsigned long *mask, size_t *bad);

int opt_size(const char *opt, const char *s, uint64_t *out);
int opt_percent(const char *opt, const char *s, double *out);
int opt_count(const char *opt, const char *s, long min, long max, long *out);
int opt_seconds(const char *opt, const char *s, double *out);
int opt_list(const char *opt, const char *s, const char *const *names, int n,
	     unsigned long *mask);

/* The most processes this user may still create (RLIMIT_NPROC, threads-max). */
long max_new_processes(void);

#endif /* COWLAB_PARSE_H */
