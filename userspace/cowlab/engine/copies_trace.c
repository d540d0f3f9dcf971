// SPDX-License-Identifier: GPL-2.0
/*
 * cowtrace:fault events of the copy-on-write kinds, for one process and
 * every task it forks, through a tracefs instance of cowlab's own (so that
 * nothing another tracer set up changes, and nothing of ours stays behind):
 * the event's filter keeps the kinds, set_event_pid with the event-fork
 * option keeps the tasks, and trace_pipe is read as it fills. What the
 * ring buffer lost is read from its per-CPU stats at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/copies.h"
#include "lib/cowlab.h"

#define TRACEFS		"/sys/kernel/tracing"
#define TRACEFS_OLD	"/sys/kernel/debug/tracing"
/* Reads of trace_pipe (64 KiB each) in one poll, at most. */
#define POLL_READS	16
/* Per CPU: room for about 100,000 events between two reads. */
#define BUFFER_KB	"8192"

const char *const copy_kind_names[COPY_NKINDS] = {
	[COPY_COPY] = "cow_copy",
	[COPY_REUSE] = "cow_reuse",
	[COPY_ZERO] = "cow_zero",
};

struct copy_trace {
	char dir[256];		/* the instance */
	int pipe;		/* its trace_pipe */
	char buf[1 << 16];
	size_t len;		/* of a line not yet complete */
};

/* Write @s into @file of @dir, replacing it, or appending with O_APPEND. */
static int write_file(const char *dir, const char *file, const char *s,
		      int how)
{
	char path[512];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | how | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int write_str(const char *dir, const char *file, const char *s)
{
	return write_file(dir, file, s, O_TRUNC);
}

int copy_trace_add(struct copy_trace *t, pid_t tid)
{
	char s[32];

	snprintf(s, sizeof(s), "%d", (int)tid);
	return write_file(t->dir, "set_event_pid", s, O_APPEND);
}

static const char *tracefs_dir(void)
{
	if (!access(TRACEFS "/instances", W_OK))
		return TRACEFS;
	if (!access(TRACEFS_OLD "/instances", W_OK))
		return TRACEFS_OLD;
	return NULL;
}

/*
 * "   comm-123     [001] d..1.  45.678: fault: address=0x... ip=0x...
 * kind=cow_copy ...": the pid is the number before the first " [", the
 * comm may hold anything.
 */
int copy_parse_line(const char *line, struct copy_event *e)
{
	const char *cpu = strstr(line, " [");
	const char *f = strstr(line, ": fault: address=");
	const char *p;
	char kind[16];
	unsigned long long addr, ip;
	int i;

	if (!cpu || !f || cpu < line + 2)
		return -EPROTO;
	p = cpu;
	while (p > line && p[-1] == ' ')
		p--;
	while (p > line && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (p == cpu || p == line || p[-1] != '-')
		return -EPROTO;
	e->pid = atoi(p);
	if (sscanf(f, ": fault: address=%llx ip=%llx kind=%15s", &addr, &ip,
		   kind) != 3)
		return -EPROTO;
	for (i = 0; i < COPY_NKINDS; i++)
		if (!strcmp(kind, copy_kind_names[i]))
			break;
	if (i == COPY_NKINDS)
		return -ENOENT;	/* another kind: not ours */
	e->address = addr;
	e->ip = ip;
	e->kind = i;
	return 0;
}

static void trace_remove(struct copy_trace *t)
{
	if (t->pipe >= 0)
		close(t->pipe);
	write_str(t->dir, "events/cowtrace/fault/enable", "0");
	rmdir(t->dir);
	free(t);
}

static int trace_setup(struct copy_trace *t, pid_t pid)
{
	char s[32];
	int ret;

	snprintf(s, sizeof(s), "%d", (int)pid);
	ret = write_str(t->dir, "buffer_size_kb", BUFFER_KB);
	if (!ret)
		ret = write_str(t->dir, "events/cowtrace/fault/filter",
				"kind == \"cow_copy\" || kind == \"cow_reuse\" || kind == \"cow_zero\"");
	if (!ret)
		ret = write_str(t->dir, "options/event-fork", "1");
	if (!ret)
		ret = write_str(t->dir, "set_event_pid", s);
	if (!ret)
		ret = write_str(t->dir, "events/cowtrace/fault/enable", "1");
	return ret;
}

struct copy_trace *copy_trace_start(pid_t pid, char *why, size_t len)
{
	const char *top = tracefs_dir();
	struct copy_trace *t;
	char path[512];
	int ret;

	if (!top) {
		snprintf(why, len, geteuid() ? "not root (tracefs is root's only)" :
			 "tracefs is not mounted on " TRACEFS);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/events/cowtrace/fault", top);
	if (access(path, F_OK)) {
		snprintf(why, len, "no cowtrace:fault event: the cowtrace module is not loaded");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	t->pipe = -1;
	snprintf(t->dir, sizeof(t->dir), "%s/instances/cowlab-copies-%d", top,
		 (int)getpid());
	if (mkdir(t->dir, 0700)) {
		snprintf(why, len, "mkdir %s: %s", t->dir, strerror(errno));
		free(t);
		return NULL;
	}
	ret = trace_setup(t, pid);
	snprintf(path, sizeof(path), "%s/trace_pipe", t->dir);
	if (!ret) {
		t->pipe = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (t->pipe < 0)
			ret = -errno;
	}
	if (ret) {
		snprintf(why, len, "setting up %s: %s", t->dir, strerror(-ret));
		trace_remove(t);
		return NULL;
	}
	return t;
}

/* Hand every complete line in the buffer to @fn; keep the rest. */
static int trace_lines(struct copy_trace *t,
		       void (*fn)(const struct copy_event *e, void *arg),
		       void *arg)
{
	struct copy_event e;
	char *line = t->buf, *nl;
	int n = 0;

	while ((nl = memchr(line, '\n', t->buf + t->len - line))) {
		*nl = '\0';
		if (!copy_parse_line(line, &e)) {
			fn(&e, arg);
			n++;
		}
		line = nl + 1;
	}
	t->len -= line - t->buf;
	memmove(t->buf, line, t->len);
	return n;
}

int copy_trace_poll(struct copy_trace *t, int ms,
		    void (*fn)(const struct copy_event *e, void *arg),
		    void *arg)
{
	struct pollfd pfd = { .fd = t->pipe, .events = POLLIN };
	int n = 0, reads;
	ssize_t r = 0;

	if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
		return -errno;
	/* Bounded: a task faulting faster than we read must not keep us. */
	for (reads = 0; reads < POLL_READS; reads++) {
		r = read(t->pipe, t->buf + t->len, sizeof(t->buf) - 1 - t->len);
		if (r <= 0)
			break;
		t->len += r;
		n += trace_lines(t, fn, arg);
		if (t->len == sizeof(t->buf) - 1)
			t->len = 0;	/* a line longer than the buffer: drop */
	}
	if (reads < POLL_READS && r < 0 && errno != EAGAIN && errno != EINTR)
		return -errno;
	return n;
}

/* The ring buffer's overruns, summed over its CPUs. */
static uint64_t trace_lost(struct copy_trace *t)
{
	char path[600], *text, *p;
	uint64_t lost = 0;
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/per_cpu", t->dir);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "cpu", 3))
			continue;
		snprintf(path, sizeof(path), "%s/per_cpu/%s/stats", t->dir,
			 d->d_name);
		text = read_text_file(path, NULL);
		if (!text)
			continue;
		p = strstr(text, "overrun: ");
		if (p)
			lost += strtoull(p + 9, NULL, 10);
		free(text);
	}
	closedir(dir);
	return lost;
}

int copy_trace_stop(struct copy_trace *t,
		    void (*fn)(const struct copy_event *e, void *arg),
		    void *arg, uint64_t *lost)
{
	int n = 0, r;

	write_str(t->dir, "events/cowtrace/fault/enable", "0");
	/* what is left in the buffer: until a read finds nothing */
	while ((r = copy_trace_poll(t, 0, fn, arg)) > 0)
		n += r;
	*lost = trace_lost(t);
	trace_remove(t);
	return r < 0 ? r : n;
}
