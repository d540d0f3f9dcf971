// SPDX-License-Identifier: GPL-2.0
/*
 * peers: libuthread side by side with Boost.Context, GNU Pth, State
 * Threads and pthreads, in one run on one machine.
 *
 * Timings run in rounds, each round one run of every library in a
 * rotating order, so that a burst of other load slows one round of each
 * rather than every run of one; a figure is the median of the rounds with
 * the lowest and highest beside it. Each run is a forked child (child.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "child.h"
#include "echo_client.h"
#include "peers.h"
#include "report.h"
#include "sys.h"

static const struct peer *const all_peers[] = {
	&peer_uthread, &peer_fcontext, &peer_pth, &peer_st, &peer_pthread,
};

/* The switch table has libuthread's primitive too, beside Boost's. */
static const struct peer *const switch_peers[] = {
	&peer_uthread, &peer_uthread_ctx, &peer_fcontext, &peer_pth, &peer_st,
	&peer_pthread,
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NPEERS		((int)ARRAY_SIZE(all_peers))
#define NSWITCH		((int)ARRAY_SIZE(switch_peers))
_Static_assert(NSWITCH >= NPEERS, "timings() sizes its arrays by NSWITCH");

/* The libraries of this run, all or the one --peer names: in each table */
static const char *only_peer;
static const struct peer *peers[NPEERS];
static int npeers;
static const struct peer *sw_peers[NSWITCH];
static int nsw_peers;
#define MAX_ROUNDS	31
#define MAX_CONNS	4

struct opts {
	int rounds, echo_rounds;
	uint64_t op_ns;		/* a timed run's length, about */
	long idle_n, max_n;
	long conns[MAX_CONNS];
	int nconns;
	uint64_t warm_ns, run_ns;
	bool smoke;
	unsigned int parts;	/* PART_* bits: what to measure */
};

enum {
	PART_SWITCH = 1,
	PART_CREATE_JOIN = 2,
	PART_MEMORY = 4,
	PART_MOST = 8,
	PART_ECHO = 16,
	PART_ALL = 31,
};

static struct opts o = {
	.rounds = 7, .echo_rounds = 3, .op_ns = 200000000,
	.idle_n = 10000, .max_n = 4000000,
	.conns = { 100, 1000, 10000 }, .nconns = 3,
	.warm_ns = 500000000, .run_ns = 2000000000, .parts = PART_ALL,
};

static const struct opts smoke = {
	.rounds = 1, .echo_rounds = 1, .op_ns = 2000000,
	.idle_n = 100, .max_n = 1000,
	.conns = { 10 }, .nconns = 1,
	.warm_ns = 20000000, .run_ns = 300000000, .smoke = true,
	.parts = PART_ALL,
};

static int missing;	/* figures a library should have given and did not */

/* -------------------------------------------------------------- timings */

struct timed {
	const struct peer *p;
	bool cj;
	long n;
};

static void timed_child(void *arg, void *out)
{
	struct timed *t = arg;

	*(double *)out = t->cj ? t->p->create_join_ns(t->n) :
				 t->p->switch_ns(t->n);
}

static double timed_run(const struct peer *p, bool cj, long n)
{
	struct timed t = { p, cj, n };
	double v;

	if (run_child(timed_child, &t, &v, sizeof(v), 120))
		return -1;
	return v;
}

/* A run of about o.op_ns, from a short first one. */
static long calibrate(const struct peer *p, bool cj)
{
	long n = o.smoke ? 100 : 2000;
	double ns = timed_run(p, cj, n);

	if (ns <= 0 || o.smoke)
		return ns <= 0 ? -1 : n;
	n = (long)(o.op_ns / ns);
	return n < 1000 ? 1000 : n > 50000000 ? 50000000 : n;
}

static void timings(bool cj)
{
	const struct peer *const *list = cj ? peers : sw_peers;
	int np = cj ? npeers : nsw_peers;
	double v[NSWITCH][MAX_ROUNDS];
	long n[NSWITCH];
	int r, i, k, ok[NSWITCH] = { 0 };

	for (i = 0; i < np; i++)
		n[i] = calibrate(list[i], cj);
	for (r = 0; r < o.rounds; r++)
		for (k = 0; k < np; k++) {
			i = (k + r) % np;
			if (n[i] < 0)
				continue;
			v[i][ok[i]] = timed_run(list[i], cj, n[i]);
			if (v[i][ok[i]] > 0)
				ok[i]++;
		}
	for (i = 0; i < np; i++) {
		const char *how = cj ? "create + join" : list[i]->switch_how;

		if (ok[i] < o.rounds)
			missing++;
		report_timing(cj ? "create_join" : "switch", list[i]->name,
			      how, v[i], ok[i], "ns");
	}
}

/* -------------------------------------------------------------- memory */

struct idle_arg {
	const struct peer *p;
	long n;
	long as_limit;		/* RLIMIT_AS for the run, 0: unchanged */
};

static void idle_child(void *arg, void *out)
{
	struct idle_arg *a = arg;
	struct rlimit rl = { a->as_limit, a->as_limit };

	if (a->as_limit && setrlimit(RLIMIT_AS, &rl)) {
		((struct idle_result *)out)->err = errno;
		return;
	}
	if (a->as_limit)
		idle_count_only();
	a->p->idle(a->n, out);
}

static void memory(void)
{
	struct idle_arg a = { .n = o.idle_n };
	struct idle_result r;
	int i, err;

	for (i = 0; i < npeers; i++) {
		a.p = peers[i];
		err = run_child(idle_child, &a, &r, sizeof(r), 300);
		if (err || r.made < o.idle_n)
			missing++;
		report_idle(peers[i], o.idle_n, err, &r);
	}
}

/*
 * A stack with a guard page made by mprotect() (libuthread before 6.13,
 * pthreads) is two mappings: so that memory, not vm.max_map_count, is
 * what stops the run, raise the limit for the run if we may.
 */
static const char *max_map_note(long need)
{
	switch (max_map_raise(need)) {
	case 0:
		return "vm.max_map_count is high enough";
	case 1:
		return "vm.max_map_count raised for the run";
	default:
		return "vm.max_map_count left as it is (not root): it may stop a run first";
	}
}

static void most_threads(void)
{
	struct idle_arg a = { .n = o.max_n, .as_limit = 8L << 30 };
	struct idle_result r;
	int i, err;

	report_max_begin(a.as_limit, max_map_note(2 * o.max_n + 65536));
	for (i = 0; i < npeers; i++) {
		a.p = peers[i];
		err = run_child(idle_child, &a, &r, sizeof(r), 300);
		if (err)
			missing++;
		report_max(peers[i], o.max_n, err, &r);
	}
}

/* ---------------------------------------------------------------- echo */

struct server {
	const struct peer *p;
	int lfd;
};

static void server_child(void *arg)
{
	struct server *s = arg;

	s->p->echo_serve(s->lfd);
}

static void client_child(void *arg, void *out)
{
	echo_client(arg, out);
}

static int listen_loopback(int *port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(fd, 65535) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static int echo_run(const struct peer *p, long conns, struct echo_result *r)
{
	struct echo_plan plan = {
		.conns = conns, .warm_ns = o.warm_ns, .run_ns = o.run_ns,
	};
	struct server s = { .p = p };
	pid_t pid;
	int err;

	s.lfd = listen_loopback(&plan.port);
	if (s.lfd < 0)
		return -errno;
	pid = start_child(server_child, &s);
	if (pid < 0) {
		close(s.lfd);
		return -errno;
	}
	plan.server = pid;
	err = run_child(client_child, &plan, r, sizeof(*r),
			(int)((o.warm_ns + o.run_ns) / 1000000000) + 120);
	stop_child(pid);
	close(s.lfd);
	if (!err && r->err)
		err = -r->err;
	return err;
}

/* Why @p cannot serve @conns connections, or NULL. */
static const char *echo_cannot(const struct peer *p, long conns)
{
	if (!p->echo_serve)
		return p->echo_note;
	/* the server's own descriptors come first */
	if (p->echo_fd_limit && conns + 16 > p->echo_fd_limit)
		return p->echo_note;
	return NULL;
}

static void echo(void)
{
	struct echo_result r[NPEERS][MAX_ROUNDS];
	int c, rd, k, i, ok[NPEERS], err;

	report_echo_begin(ECHO_MSG, o.warm_ns, o.run_ns, o.echo_rounds);
	for (c = 0; c < o.nconns; c++) {
		memset(ok, 0, sizeof(ok));
		for (rd = 0; rd < o.echo_rounds; rd++)
			for (k = 0; k < npeers; k++) {
				i = (k + rd) % npeers;
				if (echo_cannot(peers[i], o.conns[c]))
					continue;
				err = echo_run(peers[i], o.conns[c],
					       &r[i][ok[i]]);
				if (!err)
					ok[i]++;
				else
					report_echo_error(peers[i], o.conns[c],
							  err);
			}
		for (i = 0; i < npeers; i++) {
			const char *why = echo_cannot(peers[i], o.conns[c]);

			if (!why && ok[i] < o.echo_rounds)
				missing++;
			report_echo(peers[i], o.conns[c], why, r[i], ok[i]);
		}
	}
}

/* ---------------------------------------------------------------- main */

static void help(FILE *f)
{
	fprintf(f,
		"usage: peers [--smoke] [--rounds N] [--tsv FILE] [--only PART]\n"
		"             [--peer NAME] [--conns N[,N...]]\n"
		"libuthread against Boost.Context, GNU Pth, State Threads and\n"
		"pthreads, side by side in one run: switch, create+join, memory\n"
		"per idle thread, most threads alive in 8 GiB, an echo server.\n"
		"  --smoke      tiny sizes, one round: every library gives each\n"
		"               figure it should, or the exit status is 1\n"
		"  --rounds N   rounds of the timings (7, at most %d)\n"
		"  --tsv FILE   every figure also as tab-separated lines\n"
		"  --only PART  one part: switch, create_join, memory, most, echo\n"
		"  --peer NAME  one library, by its name in the table\n"
		"  --conns LIST the echo server's connection counts (100,1000,10000)\n",
		MAX_ROUNDS);
}

static const char *const part_names[] = {
	"switch", "create_join", "memory", "most", "echo",
};

/* The PART_* bit named @name, or 0. */
static unsigned int parse_part(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(part_names); i++)
		if (!strcmp(name, part_names[i]))
			return 1u << i;
	fprintf(stderr, "peers: --only: no part '%s'\n", name);
	return 0;
}

/* Measure only the library named @name; -1 if there is none. */
static int select_peer(const char *name)
{
	int i;

	for (i = 0; i < NPEERS; i++)
		if (!strcmp(name, all_peers[i]->name)) {
			only_peer = name;
			return 0;
		}
	fprintf(stderr, "peers: --peer: no library '%s'\n", name);
	return -1;
}

/* The libraries of @from that this run measures, into @to; how many. */
static int selected(const struct peer *const *from, int n,
		    const struct peer **to)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		if (!only_peer || !strcmp(only_peer, from[i]->name))
			to[k++] = from[i];
	return k;
}

/* "N[,N...]" into @c; 0, or -1 on a malformed list. */
static int parse_conns(const char *list, struct opts *c)
{
	const char *p = list;
	char *end;
	long n;

	c->nconns = 0;
	do {
		errno = 0;
		n = strtol(p, &end, 10);
		if (errno || end == p || n < 1 || c->nconns == MAX_CONNS ||
		    (*end && *end != ','))
			goto bad;
		c->conns[c->nconns++] = n;
		p = end + 1;
	} while (*end);
	return 0;
bad:
	fprintf(stderr, "peers: --conns: up to %d counts, not '%s'\n",
		MAX_CONNS, list);
	return -1;
}

static int parse(int argc, char **argv, const char **tsv)
{
	static const struct option lo[] = {
		{ "smoke", no_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "tsv", required_argument, NULL, 't' },
		{ "only", required_argument, NULL, 'o' },
		{ "peer", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct opts conns = { .nconns = 0 };
	unsigned int parts = 0;
	int c, rounds = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o = smoke;
			break;
		case 'r':
			errno = 0;
			rounds = (int)strtol(optarg, &end, 10);
			if (errno || *end || rounds < 1 || rounds > MAX_ROUNDS) {
				fprintf(stderr, "peers: --rounds: 1 to %d, not '%s'\n",
					MAX_ROUNDS, optarg);
				return 2;
			}
			break;
		case 't':
			*tsv = optarg;
			break;
		case 'o':
			parts = parse_part(optarg);
			if (!parts)
				return 2;
			break;
		case 'p':
			if (select_peer(optarg))
				return 2;
			break;
		case 'c':
			if (parse_conns(optarg, &conns))
				return 2;
			break;
		case 'h':
			help(stdout);
			exit(0);
		default:
			help(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "peers: unexpected argument '%s'\n", argv[optind]);
		help(stderr);
		return 2;
	}
	npeers = selected(all_peers, NPEERS, peers);
	nsw_peers = selected(switch_peers, NSWITCH, sw_peers);
	if (rounds)
		o.rounds = rounds;
	if (parts)
		o.parts = parts;
	if (conns.nconns) {
		memcpy(o.conns, conns.conns, sizeof(o.conns));
		o.nconns = conns.nconns;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *tsv = NULL;
	struct rlimit rl;
	int err = parse(argc, argv, &tsv);

	if (err)
		return err;
	if (report_open(tsv))
		return 1;
	/* a descriptor per connection, on each side */
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	report_header(peers, npeers, o.rounds, o.smoke);
	if (o.parts & PART_SWITCH)
		timings(false);
	if (o.parts & PART_CREATE_JOIN)
		timings(true);
	if (o.parts & PART_MEMORY)
		memory();
	if (o.parts & PART_MOST)
		most_threads();
	if (o.parts & PART_ECHO)
		echo();
	report_verdicts();
	if (report_close())
		return 1;
	if (o.smoke && missing) {
		fprintf(stderr, "peers: %d figure(s) missing\n", missing);
		return 1;
	}
	return 0;
}
