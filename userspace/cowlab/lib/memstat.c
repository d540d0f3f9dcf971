// SPDX-License-Identifier: GPL-2.0
/*
 * What the kernel says about memory without the module: smaps_rollup for a
 * process's RSS/PSS/USS, meminfo for the system, stat for fault counts.
 * RSS counts a shared page once per process that maps it; PSS divides it
 * among them; USS counts only the pages this process alone maps, which is
 * what a copy-on-write break adds to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cowlab.h"
#include "lib/memstat.h"
#include "lib/report.h"

/* "Name:   123 kB" lines: the value of name in bytes, if present. */
static bool kb_field(const char *text, const char *name, uint64_t *out)
{
	size_t len = strlen(name);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, name, len) && p[len] == ':') {
			*out = strtoull(p + len + 1, NULL, 10) * 1024;
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

int mem_parse_rollup(const char *text, struct mem_usage *m)
{
	uint64_t pc = 0, pd = 0, sc = 0, sd = 0;

	memset(m, 0, sizeof(*m));
	if (!kb_field(text, "Rss", &m->rss) || !kb_field(text, "Pss", &m->pss))
		return -EINVAL;
	kb_field(text, "Private_Clean", &pc);
	kb_field(text, "Private_Dirty", &pd);
	kb_field(text, "Shared_Clean", &sc);
	kb_field(text, "Shared_Dirty", &sd);
	kb_field(text, "Anonymous", &m->anon);
	kb_field(text, "Swap", &m->swap);
	m->uss = pc + pd;
	m->shared = sc + sd;
	return 0;
}

int mem_usage(pid_t pid, struct mem_usage *m)
{
	char path[64], *text;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	text = read_text_file(path, NULL);
	if (!text)
		return -errno;
	err = mem_parse_rollup(text, m);
	free(text);
	return err;
}

int sys_mem(struct sys_mem *s)
{
	char *text = read_text_file("/proc/meminfo", NULL);
	bool ok;

	memset(s, 0, sizeof(*s));
	if (!text)
		return -errno;
	ok = kb_field(text, "MemTotal", &s->total) &&
	     kb_field(text, "MemFree", &s->free);
	if (!kb_field(text, "MemAvailable", &s->available))
		s->available = s->free;
	free(text);
	if (!ok)
		return -EINVAL;
	s->used = s->total > s->available ? s->total - s->available : 0;
	return 0;
}

int mem_check_fits(const char *what, uint64_t need)
{
	struct sys_mem sm;
	char a[32], b[32];

	if (sys_mem(&sm) || need <= sm.available / 10 * 9)
		return 0;	/* fits, or cannot tell: let mmap decide */
	p_err("%s: needs %s of memory, only %s available", what,
	      fmt_size(a, sizeof(a), need),
	      fmt_size(b, sizeof(b), sm.available));
	return EXIT_USAGE;
}

int mem_check_fits_n(const char *what, uint64_t base, uint64_t n,
		     uint64_t each)
{
	uint64_t need;

	if (__builtin_mul_overflow(n, each, &need) ||
	    __builtin_add_overflow(base, need, &need)) {
		p_err("%s: needs more than 16 EiB of memory: no 64-bit machine has that much",
		      what);
		return EXIT_USAGE;
	}
	return mem_check_fits(what, need);
}

int proc_parse_stat_faults(const char *line, struct proc_faults *f)
{
	/* comm may hold spaces and ')': fields restart after the last ')' */
	const char *p = strrchr(line, ')');
	unsigned long long v[10];
	int field;

	if (!p)
		return -EINVAL;
	p++;
	/* after ')': state(3) ppid pgrp session tty tpgid flags minflt(10) */
	for (field = 3; field <= 12; field++) {
		char *end;

		while (*p == ' ')
			p++;
		if (field == 3) {
			if (!*p)
				return -EINVAL;
			p++;
			continue;
		}
		v[field - 3] = strtoull(p, &end, 10);
		if (end == p)
			return -EINVAL;
		p = end;
	}
	f->minflt = v[10 - 3];
	f->majflt = v[12 - 3];
	return 0;
}

int proc_faults(pid_t pid, pid_t tid, struct proc_faults *f)
{
	char path[64], *text;
	int err;

	if (tid > 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
			 (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	text = read_text_file(path, NULL);
	if (!text)
		return -errno;
	err = proc_parse_stat_faults(text, f);
	free(text);
	return err;
}
