// SPDX-License-Identifier: GPL-2.0
/*
 * The peers benchmark's output: a table for a person, the same figures
 * tab-separated for the report's charts (section, library, parameter,
 * median, lowest, highest, unit), and libuthread's verdicts, kept from
 * the figures as they are reported.
 */
#include <errno.h>
#include <gnu/libc-version.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "report.h"

static FILE *tsv;
static const char *tsv_path;

/* Every median reported, for the verdicts. */
struct fig {
	const char *section, *peer;
	long param;
	double med;
};

static struct fig figs[128];
static int nfigs;

static void keep(const char *section, const char *peer, long param,
		 double med)
{
	if (isnan(med))
		return;
	if (nfigs < (int)(sizeof(figs) / sizeof(*figs)))
		figs[nfigs++] = (struct fig){ section, peer, param, med };
}

/* The figure, or -1 if there is none. */
static double fig(const char *section, const char *peer, long param)
{
	int i;

	for (i = 0; i < nfigs; i++)
		if (!strcmp(figs[i].section, section) &&
		    !strcmp(figs[i].peer, peer) && figs[i].param == param)
			return figs[i].med;
	return -1;
}

static void tsv_line(const char *section, const char *peer, long param,
		     double med, double lo, double hi, const char *unit)
{
	if (tsv)
		fprintf(tsv, "%s\t%s\t%ld\t%.6g\t%.6g\t%.6g\t%s\n", section,
			peer, param, med, lo, hi, unit);
	keep(section, peer, param, med);
}

int report_open(const char *path)
{
	if (!path)
		return 0;
	tsv = fopen(path, "we");
	if (!tsv) {
		fprintf(stderr, "peers: %s: %s\n", path, strerror(errno));
		return -1;
	}
	tsv_path = path;
	fprintf(tsv, "section\tlibrary\tparam\tmedian\tlow\thigh\tunit\n");
	return 0;
}

int report_close(void)
{
	if (tsv && (fflush(tsv) || ferror(tsv) | fclose(tsv))) {
		fprintf(stderr, "peers: %s: write failed\n", tsv_path);
		return -1;
	}
	return 0;
}

static void cpu_model(char *buf, size_t size)
{
	char line[256], *colon;
	FILE *f = fopen("/proc/cpuinfo", "re");

	snprintf(buf, size, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		colon = strchr(line, ':');
		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(buf, size, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

void report_header(const struct peer *const *peers, int n, int rounds,
		   bool smoke)
{
	struct utsname u;
	char cpu[128];
	int i;

	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	printf("peers: libuthread beside the thread libraries one would otherwise pick%s\n",
	       smoke ? " (smoke run: tiny sizes, figures mean nothing)" : "");
	printf("machine: %ld CPUs, %s; Linux %s %s; glibc %s\n",
	       sysconf(_SC_NPROCESSORS_ONLN), cpu, u.release, u.machine,
	       gnu_get_libc_version());
	for (i = 0; i < n; i++)
		printf("  %-14s %-22s stack: %s\n", peers[i]->name,
		       peers[i]->version, peers[i]->stack_how);
	printf("each timing: the median of %d rounds in rotating order [lowest .. highest],\n"
	       "each run a process of its own\n", rounds);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void report_timing(const char *section, const char *peer, const char *how,
		   double *v, int n, const char *unit)
{
	static const char *last;
	double med;

	if (last != section) {
		last = section;
		if (!strcmp(section, "switch"))
			printf("\nswitch: two threads hand the CPU to each other (per switch)\n");
		else
			printf("\ncreate + join: a thread doing nothing (per pair)\n");
	}
	if (!n) {
		printf("  %-14s %-34s      failed\n", peer, how);
		return;
	}
	med = median(v, n);
	printf("  %-14s %-34s %9.1f %s [%9.1f .. %9.1f]\n", peer, how, med,
	       unit, v[0], v[n - 1]);
	tsv_line(section, peer, 0, med, v[0], v[n - 1], unit);
}

static void report_err(const char *peer, int err)
{
	printf("  %-14s no figure: %s\n", peer,
	       err == -ETIMEDOUT ? "did not finish in time" : strerror(-err));
}

void report_idle(const struct peer *p, long want, int err,
		 const struct idle_result *r)
{
	static bool said;

	if (!said) {
		said = true;
		printf("\nmemory: %ld threads each waiting, per thread (VmRSS + VmPTE; VmSize;\n"
		       "the kernel stacks added, system-wide)\n", want);
	}
	if (err) {
		report_err(p->name, err);
		tsv_line("idle_user", p->name, want, NAN, NAN, NAN, "bytes");
		return;
	}
	/* system-wide: other tasks' stacks come and go, a few bytes each */
	printf("  %-14s %7.1f KiB memory %9.1f KiB address space %6.1f KiB kernel",
	       p->name, r->user_bytes / 1024, r->va_bytes / 1024,
	       fabs(r->kernel_bytes) < 64 ? 0 : r->kernel_bytes / 1024);
	if (r->made < want)
		printf("  (only %ld: %s)", r->made, strerror(r->err));
	putchar('\n');
	tsv_line("idle_user", p->name, want, r->user_bytes, r->user_bytes,
		 r->user_bytes, "bytes");
	tsv_line("idle_kernel", p->name, want, r->kernel_bytes,
		 r->kernel_bytes, r->kernel_bytes, "bytes");
	tsv_line("idle_va", p->name, want, r->va_bytes, r->va_bytes,
		 r->va_bytes, "bytes");
	tsv_line("idle_total", p->name, want, r->user_bytes + r->kernel_bytes,
		 r->user_bytes + r->kernel_bytes,
		 r->user_bytes + r->kernel_bytes, "bytes");
}

void report_max_begin(long as_limit, const char *map_note)
{
	printf("\nmost threads alive at once in %ld GiB of address space (RLIMIT_AS),\n"
	       "created until refused; %s\n", as_limit >> 30, map_note);
}

void report_max(const struct peer *p, long cap, int err,
		const struct idle_result *r)
{
	if (err) {
		report_err(p->name, err);
		tsv_line("max_threads", p->name, cap, NAN, NAN, NAN, "threads");
		return;
	}
	printf("  %-14s %9ld threads  (%s)\n", p->name, r->made,
	       r->made >= cap ? "the run's cap" :
	       r->err ? strerror(r->err) : "stopped");
	tsv_line("max_threads", p->name, cap, r->made, r->made, r->made,
		 "threads");
}

void report_echo_begin(int msg, uint64_t warm_ns, uint64_t run_ns,
		       int rounds)
{
	printf("\necho server: one process, a thread per connection; one client process\n"
	       "keeps one %d-byte request in flight on each loopback connection;\n"
	       "%.1f s warm-up, %.1f s counted, median of %d rounds\n", msg,
	       warm_ns / 1e9, run_ns / 1e9, rounds);
}

void report_echo_error(const struct peer *p, long conns, int err)
{
	fprintf(stderr, "peers: echo, %s, %ld connections: %s\n", p->name,
		conns, err == -ETIMEDOUT ? "timed out" : strerror(-err));
}

/*
 * The server's CPU time a request, its system share, how busy it was; the
 * client's CPU time a request.
 */
static void report_echo_cpu(const char *peer, long conns, double *cpu,
			    double *sys, double *busy, double *ccpu, int n)
{
	double mcpu = median(cpu, n), msys = median(sys, n);
	double mbusy = median(busy, n), mccpu = median(ccpu, n);

	printf("    %-14s CPU a request: server %5.2f us [%5.2f .. %5.2f] ",
	       "", mcpu, cpu[0], cpu[n - 1]);
	printf("(%2.0f%% system, busy %3.0f%%), client %5.2f us\n", msys, mbusy,
	       mccpu);
	tsv_line("echo_cpu", peer, conns, mcpu, cpu[0], cpu[n - 1], "us");
	tsv_line("echo_sys", peer, conns, msys, sys[0], sys[n - 1], "%");
	tsv_line("echo_busy", peer, conns, mbusy, busy[0], busy[n - 1], "%");
	tsv_line("echo_client_cpu", peer, conns, mccpu, ccpu[0], ccpu[n - 1],
		 "us");
}

void report_echo(const struct peer *p, long conns, const char *why,
		 const struct echo_result *r, int n)
{
	double rate[32], p50[32], p99[32], mrate, m50, m99;
	double cpu[32], sys[32], busy[32], ccpu[32];
	int i, nc = 0;

	if (!strcmp(p->name, "libuthread"))
		printf("  %ld connections\n", conns);
	if (why) {
		printf("    %-14s n/a: %s\n", p->name, why);
		return;
	}
	if (!n) {
		printf("    %-14s failed in every round\n", p->name);
		return;
	}
	for (i = 0; i < n && i < 32; i++) {
		rate[i] = r[i].per_s;
		p50[i] = r[i].p50_us;
		p99[i] = r[i].p99_us;
		if (r[i].cpu_us >= 0 && r[i].client_cpu_us >= 0) {
			cpu[nc] = r[i].cpu_us;
			sys[nc] = r[i].sys_share * 100;
			busy[nc] = r[i].busy * 100;
			ccpu[nc++] = r[i].client_cpu_us;
		}
	}
	n = i;
	/* median() sorts: the lowest and highest are at the ends after */
	mrate = median(rate, n);
	m50 = median(p50, n);
	m99 = median(p99, n);
	printf("    %-14s %9.0f req/s [%9.0f .. %9.0f]  p50 %8.1f us  p99 %8.1f us\n",
	       p->name, mrate, rate[0], rate[n - 1], m50, m99);
	tsv_line("echo_rps", p->name, conns, mrate, rate[0], rate[n - 1],
		 "req/s");
	tsv_line("echo_p50", p->name, conns, m50, p50[0], p50[n - 1], "us");
	tsv_line("echo_p99", p->name, conns, m99, p99[0], p99[n - 1], "us");
	if (!nc) {
		printf("    %-14s (no CPU time from /proc)\n", "");
		return;
	}
	report_echo_cpu(p->name, conns, cpu, sys, busy, ccpu, nc);
}

/* ------------------------------------------------------------ verdicts */

static void verdict(const char *what, double ours, double theirs,
		    const char *peer, bool lower_is_better)
{
	bool met;

	if (ours < 0 || theirs < 0) {
		printf("  %-46s no figure to compare\n", what);
		return;
	}
	met = lower_is_better ? ours <= theirs : ours >= theirs;
	printf("  %-46s %10.1f vs %10.1f (%s)  %s\n", what, ours, theirs,
	       peer, met ? "MET" : "MISSED");
}

/* The lowest figure of @section at @param among the other libraries. */
static double best_other(const char *section, long param, const char **peer)
{
	double best = -1;
	int i;

	for (i = 0; i < nfigs; i++) {
		if (strcmp(figs[i].section, section) ||
		    figs[i].param != param ||
		    !strcmp(figs[i].peer, "libuthread"))
			continue;
		if (best < 0 || figs[i].med < best) {
			best = figs[i].med;
			*peer = figs[i].peer;
		}
	}
	return best;
}

void report_verdicts(void)
{
	const char *peer = "none";
	char what[64];
	double best;
	long conns;
	int i;

	printf("\ntargets for libuthread\n");
	/* Boost.Context is a primitive: the target is the yield. */
	verdict("switch (yield) no slower than jump_fcontext (ns)",
		fig("switch", "libuthread", 0),
		fig("switch", "Boost.Context", 0), "Boost.Context", true);
	verdict("primitive ut_ctx_switch vs jump_fcontext (ns)",
		fig("switch", "ut_ctx_switch", 0),
		fig("switch", "Boost.Context", 0), "Boost.Context", true);
	best = best_other("create_join", 0, &peer);
	verdict("create + join the best of them (ns)",
		fig("create_join", "libuthread", 0), best, peer, true);
	for (i = 0; i < nfigs; i++) {
		if (strcmp(figs[i].section, "echo_rps") ||
		    strcmp(figs[i].peer, "libuthread"))
			continue;
		conns = figs[i].param;
		snprintf(what, sizeof(what), "echo at %ld connections, req/s",
			 conns);
		best = fig("echo_rps", "State Threads", conns);
		verdict(what, figs[i].med, best, "State Threads", false);
	}
	for (i = 0; i < nfigs; i++) {
		if (strcmp(figs[i].section, "idle_total") ||
		    strcmp(figs[i].peer, "libuthread"))
			continue;
		peer = "none";
		best = best_other("idle_total", figs[i].param, &peer);
		verdict("memory + kernel per idle thread the best (bytes)",
			figs[i].med, best, peer, true);
	}
}
