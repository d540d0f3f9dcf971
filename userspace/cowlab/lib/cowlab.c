// SPDX-License-Identifier: GPL-2.0
/*
 * The shared layer: errors, command dispatch, signals, the cleanup
 * registry, progress and small I/O helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cowlab.h"
#include "lib/measure.h"

struct cowlab_env env;
volatile sig_atomic_t exiting;

/* The process that owns the registrations and the JSON document. */
static pid_t owner_pid;
static char first_error[512];

/* --------------------------------------------------------------- errors */

void p_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (json_wtr && getpid() == owner_pid && !first_error[0]) {
		/* written into the document by cowlab_finish() */
		vsnprintf(first_error, sizeof(first_error), fmt, ap);
	} else {
		fputs("cowlab: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

const char *cowlab_error(void)
{
	return first_error[0] ? first_error : NULL;
}

void p_warn(const char *fmt, ...)
{
	va_list ap;

	if (env.quiet)
		return;
	va_start(ap, fmt);
	fputs("cowlab: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void p_verbose(const char *fmt, ...)
{
	va_list ap;

	if (!env.verbose)
		return;
	va_start(ap, fmt);
	fputs("cowlab: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ------------------------------------------------------------- dispatch */

bool is_prefix(const char *arg, const char *full)
{
	size_t n = strlen(arg);

	return n > 0 && n <= strlen(full) && !strncmp(arg, full, n);
}

bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	}
	return false;
}

int no_more_args(int argc, char **argv)
{
	if (argc <= 0)
		return 0;
	p_err("%s%s%s: unexpected argument '%s'", env.object ? env.object : "",
	      env.command ? " " : "", env.command ? env.command : "", argv[0]);
	return EXIT_USAGE;
}

int cmd_select(const struct cmd *cmds, int argc, char **argv,
	       int (*help)(int argc, char **argv), bool default_cmd)
{
	const struct cmd *match = NULL;
	int i;

	if (argc < 1 || argv[0][0] == '-') {
		if (argc >= 1 && wants_help(1, argv))
			return help(argc - 1, argv + 1);
		if (default_cmd && cmds[0].name) {
			env.command = cmds[0].name;
			return cmds[0].fn(argc, argv);
		}
		return help(argc, argv);
	}
	if (is_prefix(argv[0], "help"))
		return help(argc - 1, argv + 1);
	for (i = 0; cmds[i].name; i++) {
		if (!strcmp(argv[0], cmds[i].name)) {
			match = &cmds[i];
			break;
		}
		if (!is_prefix(argv[0], cmds[i].name))
			continue;
		if (match) {
			p_err("%s: '%s' is ambiguous (%s, %s...)", env.object,
			      argv[0], match->name, cmds[i].name);
			return EXIT_USAGE;
		}
		match = &cmds[i];
	}
	if (!match) {
		p_err("%s: unknown command '%s' (try 'cowlab %s help')",
		      env.object, argv[0], env.object);
		return EXIT_USAGE;
	}
	env.command = match->name;
	return match->fn(argc - 1, argv + 1);
}

/* -------------------------------------------------------------- signals */

static void on_stop_signal(int sig)
{
	if (exiting) {
		/* a second Ctrl-C: the user insists */
		signal(sig, SIG_DFL);
		raise(sig);
	}
	exiting = sig;
}

static void on_sigusr1(int sig);

void cowlab_signals_init(void)
{
	struct sigaction sa;

	owner_pid = getpid();
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a blocking read or wait returns EINTR */
	sa.sa_handler = on_stop_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_sigusr1;
	sigaction(SIGUSR1, &sa, NULL);
	/* a reader of a pipe that went away gets EPIPE, not death */
	signal(SIGPIPE, SIG_IGN);
}

bool cowlab_is_owner(void)
{
	return getpid() == owner_pid;
}

void cowlab_own_rseq(void)
{
	uint32_t *cpu_id_start;

	if (!__rseq_size)
		return;
	cpu_id_start = (uint32_t *)((char *)__builtin_thread_pointer() +
				    __rseq_offset);
	__atomic_fetch_add(cpu_id_start, 0, __ATOMIC_RELAXED);
}

void cowlab_child_init(void)
{
	pid_t parent = getppid();

	cowlab_own_rseq();

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGUSR1, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* the parent may have died before prctl() */
	if (getppid() != parent)
		_exit(1);
	exiting = 0;
}

/* -------------------------------------------------------------- cleanup */

struct cleanup_list {
	char **names;
	int n, cap;
};

static pid_t *children;
static int nchildren, capchildren;
static struct cleanup_list shms, files, dirs;

int cleanup_add_child(pid_t pid)
{
	if (nchildren == capchildren) {
		int cap = capchildren ? capchildren * 2 : 64;
		pid_t *p = realloc(children, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		children = p;
		capchildren = cap;
	}
	children[nchildren++] = pid;
	return 0;
}

void cleanup_forget_child(pid_t pid)
{
	int i;

	for (i = 0; i < nchildren; i++) {
		if (children[i] == pid) {
			children[i] = children[--nchildren];
			return;
		}
	}
}

static int list_add(struct cleanup_list *l, const char *name)
{
	char *copy = strdup(name);

	if (!copy)
		return -ENOMEM;
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 16;
		char **p = realloc(l->names, cap * sizeof(*p));

		if (!p) {
			free(copy);
			return -ENOMEM;
		}
		l->names = p;
		l->cap = cap;
	}
	l->names[l->n++] = copy;
	return 0;
}

static void list_forget(struct cleanup_list *l, const char *name)
{
	int i;

	for (i = 0; i < l->n; i++) {
		if (!strcmp(l->names[i], name)) {
			free(l->names[i]);
			l->names[i] = l->names[--l->n];
			return;
		}
	}
}

int cleanup_add_shm(const char *name)
{
	return list_add(&shms, name);
}

void cleanup_forget_shm(const char *name)
{
	list_forget(&shms, name);
}

int cleanup_add_file(const char *path)
{
	return list_add(&files, path);
}

void cleanup_forget_file(const char *path)
{
	list_forget(&files, path);
}

int cleanup_add_dir(const char *path)
{
	return list_add(&dirs, path);
}

void cleanup_forget_dir(const char *path)
{
	list_forget(&dirs, path);
}

static void list_undo(struct cleanup_list *l, int (*undo)(const char *))
{
	/* newest first: a file is removed before the directory holding it */
	while (l->n > 0) {
		l->n--;
		undo(l->names[l->n]);
		free(l->names[l->n]);
	}
	free(l->names);
	l->names = NULL;
	l->cap = 0;
}

void cleanup_run(void)
{
	int i;

	if (getpid() != owner_pid)
		return;
	for (i = 0; i < nchildren; i++)
		kill(children[i], SIGKILL);
	for (i = 0; i < nchildren; i++)
		while (waitpid(children[i], NULL, 0) < 0 && errno == EINTR)
			;
	nchildren = 0;
	free(children);
	children = NULL;
	capchildren = 0;
	list_undo(&shms, shm_unlink);
	list_undo(&files, unlink);
	list_undo(&dirs, rmdir);
}

int wait_child(pid_t pid, int *status)
{
	int st;

	for (;;) {
		/* after Ctrl-C the caller kills instead of waiting */
		if (exiting)
			return -EINTR;
		if (waitpid(pid, &st, 0) == pid)
			break;
		if (errno != EINTR || exiting)
			return -errno;
	}
	cleanup_forget_child(pid);
	if (status)
		*status = st;
	return 0;
}

void kill_child(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	cleanup_forget_child(pid);
}

int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR && !exiting)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR && !exiting)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;	/* the other end closed early */
		p += n;
		len -= n;
	}
	return 0;
}

char *read_text_file(const char *path, size_t *lenp)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < 2) {
			char *p = realloc(buf, cap * 2);

			if (!p)
				goto fail;
			buf = p;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

/* ------------------------------------------------------------- progress */

/* Read by the SIGUSR1 handler: plain words written in one store each. */
static volatile sig_atomic_t prog_active;
static volatile uint64_t prog_done, prog_total;
static const char *volatile prog_what;
static bool prog_tty;
static uint64_t prog_last_draw;

/* Async-signal-safe decimal formatting for the handler. */
static char *utoa(uint64_t v, char *end)
{
	*--end = '\0';
	do {
		*--end = '0' + v % 10;
		v /= 10;
	} while (v);
	return end;
}

static void put(const char *s)
{
	ssize_t n = write(STDERR_FILENO, s, strlen(s));

	(void)n;
}

static void on_sigusr1(int sig)
{
	char a[24], b[24], c[24];
	uint64_t done = prog_done, total = prog_total;
	int saved = errno;

	(void)sig;
	if (!prog_active) {
		put("cowlab: idle\n");
		errno = saved;
		return;
	}
	put("cowlab: ");
	put(prog_what ? prog_what : "working");
	put(": ");
	put(utoa(done, a + sizeof(a)));
	put("/");
	put(utoa(total, b + sizeof(b)));
	put(" (");
	put(utoa(total ? done * 100 / total : 0, c + sizeof(c)));
	put("%)\n");
	errno = saved;
}

static void progress_draw(bool force)
{
	uint64_t now = now_ns();
	uint64_t done = prog_done, total = prog_total;

	if (!prog_tty || (!force && now - prog_last_draw < 100000000))
		return;
	prog_last_draw = now;
	fprintf(stderr, "\r%s: %llu/%llu (%llu%%) ", prog_what,
		(unsigned long long)done, (unsigned long long)total,
		(unsigned long long)(total ? done * 100 / total : 0));
	fflush(stderr);
}

void progress_start(uint64_t total, const char *what)
{
	prog_what = what;
	prog_total = total;
	prog_done = 0;
	prog_tty = !env.quiet && isatty(STDERR_FILENO);
	prog_last_draw = 0;
	prog_active = 1;
	progress_draw(true);
}

void progress_update(uint64_t done)
{
	prog_done = done;
	progress_draw(false);
}

void progress_end(void)
{
	if (!prog_active)
		return;
	prog_active = 0;
	if (prog_tty) {
		/* erase the line: the report follows on stdout */
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}
