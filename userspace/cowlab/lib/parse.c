// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing of option values. Everything is strict: the whole string must
 * be the value (no trailing junk, no leading blanks or signs), and values
 * out of range are refused rather than clamped, so that a typo is an error
 * and not a surprising experiment.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cowlab.h"
#include "lib/parse.h"

struct size_suffix {
	const char *name;
	unsigned int shift;
};

/* Binary multiples whatever the spelling: memory comes in pages. */
static const struct size_suffix suffixes[] = {
	{ "", 0 }, { "b", 0 },
	{ "k", 10 }, { "kb", 10 }, { "kib", 10 },
	{ "m", 20 }, { "mb", 20 }, { "mib", 20 },
	{ "g", 30 }, { "gb", 30 }, { "gib", 30 },
	{ "t", 40 }, { "tb", 40 }, { "tib", 40 },
};

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	size_t i;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;	/* also refuses "-1", " 1", "+1" */
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	for (i = 0; i < ARRAY_SIZE(suffixes); i++) {
		unsigned int sh = suffixes[i].shift;

		if (strcasecmp(end, suffixes[i].name))
			continue;
		if (sh && v > (UINT64_MAX >> sh))
			return -ERANGE;
		*out = (uint64_t)v << sh;
		return 0;
	}
	return -EINVAL;
}

int parse_percent(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return s && s[0] == '-' ? -ERANGE : -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno)
		return -EINVAL;
	if (*end == '%')
		end++;
	if (*end || !isfinite(v))
		return -EINVAL;
	if (v < 0 || v > 100)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_count(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return s && s[0] == '-' ? -ERANGE : -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || *end || !isfinite(v))
		return -EINVAL;
	if (v <= 0 || v > 86400)
		return -ERANGE;
	*out = v;
	return 0;
}

/* The index of the name word[0..len) matches, by unique prefix, or -1. */
static int match_name(const char *word, size_t len, const char *const *names,
		      int n)
{
	int i, found = -1;

	for (i = 0; i < n; i++) {
		if (strncmp(word, names[i], len))
			continue;
		if (names[i][len] == '\0')
			return i;	/* exact beats prefix */
		if (found >= 0)
			return -1;	/* ambiguous */
		found = i;
	}
	return found;
}

int parse_list(const char *s, const char *const *names, int n,
	       unsigned long *mask, size_t *bad)
{
	unsigned long m = 0;
	const char *p = s;

	if (!s)
		return -EINVAL;
	for (;;) {
		size_t len = strcspn(p, ",");
		int i = len ? match_name(p, len, names, n) : -1;

		if (i < 0) {
			if (bad)
				*bad = p - s;
			return -EINVAL;
		}
		m |= 1UL << i;
		if (!p[len])
			break;
		p += len + 1;
	}
	*mask = m;
	return 0;
}

int opt_size(const char *opt, const char *s, uint64_t *out)
{
	int err = parse_size(s, out);

	if (err == -ERANGE)
		p_err("%s: '%s' is too large", opt, s);
	else if (err)
		p_err("%s: '%s' is not a size (e.g. 4096, 4K, 256M, 1G, 4GiB)",
		      opt, s);
	return err ? EXIT_USAGE : 0;
}

int opt_percent(const char *opt, const char *s, double *out)
{
	int err = parse_percent(s, out);

	if (err)
		p_err("%s: '%s' is not a percentage from 0 to 100 (e.g. 50%% or 50)",
		      opt, s);
	return err ? EXIT_USAGE : 0;
}

int opt_count(const char *opt, const char *s, long min, long max, long *out)
{
	int err = parse_count(s, min, max, out);

	if (err == -ERANGE)
		p_err("%s: '%s' is out of range (%ld to %ld)", opt, s, min, max);
	else if (err)
		p_err("%s: '%s' is not a whole number", opt, s);
	return err ? EXIT_USAGE : 0;
}

int opt_seconds(const char *opt, const char *s, double *out)
{
	int err = parse_seconds(s, out);

	if (err)
		p_err("%s: '%s' is not a number of seconds above 0 (e.g. 0.5, 2)",
		      opt, s);
	return err ? EXIT_USAGE : 0;
}

int opt_list(const char *opt, const char *s, const char *const *names, int n,
	     unsigned long *mask)
{
	char all[256] = "";
	size_t bad = 0;
	int i;

	if (!parse_list(s, names, n, mask, &bad))
		return 0;
	for (i = 0; i < n; i++) {
		if (i)
			strncat(all, ",", sizeof(all) - strlen(all) - 1);
		strncat(all, names[i], sizeof(all) - strlen(all) - 1);
	}
	p_err("%s: bad word at '%s' (a comma list of: %s)", opt, s + bad, all);
	return EXIT_USAGE;
}

/* One number from a /proc file, or -1. */
static long read_long_file(const char *path)
{
	char *text = read_text_file(path, NULL);
	long v = -1;

	if (text) {
		v = strtol(text, NULL, 10);
		free(text);
	}
	return v;
}

/* Tasks in the system now: the 4th field of /proc/loadavg, "2/345". */
static long tasks_now(void)
{
	char *text = read_text_file("/proc/loadavg", NULL);
	char *slash;
	long v = 0;

	if (!text)
		return 0;
	slash = strchr(text, '/');
	if (slash)
		v = strtol(slash + 1, NULL, 10);
	free(text);
	return v;
}

/*
 * The tasks (threads included) of this user, which RLIMIT_NPROC counts:
 * /proc/PID belongs to its process's user, and /proc/PID/task has one
 * link per thread besides "." and "..".
 */
static long user_tasks(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	uid_t uid = getuid();
	long n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[300];
		struct stat st;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", e->d_name);
		if (stat(path, &st) || st.st_uid != uid)
			continue;
		n += st.st_nlink > 2 ? (long)st.st_nlink - 2 : 1;
	}
	closedir(d);
	return n;
}

long max_new_processes(void)
{
	long max = read_long_file("/proc/sys/kernel/threads-max");
	long pid_max = read_long_file("/proc/sys/kernel/pid_max");
	struct rlimit rl;
	long left;

	if (max < 0 || (pid_max > 0 && pid_max < max))
		max = pid_max;
	left = max > 0 ? max - tasks_now() : 4096;
	if (!getrlimit(RLIMIT_NPROC, &rl) && rl.rlim_cur != RLIM_INFINITY) {
		long by_user = (long)rl.rlim_cur - user_tasks();

		if (by_user < left)
			left = by_user;
	}
	return left > 0 ? left : 0;
}
