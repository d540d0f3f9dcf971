// SPDX-License-Identifier: GPL-2.0
/*
 * The copies engine's runs: the cowtrace:fault events that arrive while a
 * process is followed (copies_trace.c), its mappings as last seen, and
 * their sums by mapping and by code, named at the end from those mappings
 * (copies_sym.c); and the traced child, which runs a command or the
 * demonstration (copies_demo.c). cmd/copies.c reports the sums.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/copies.h"
#include "lib/cowlab.h"
#include "lib/measure.h"

#define POLL_MS		50

struct copies_env cenv = {
	.demo = { .objects = 16384, .workers = 4 },
	.seconds = 10,
	.top = 20,
};

/* ------------------------------------------------------------ events */

void copy_on_event(const struct copy_event *e, void *arg)
{
	struct copy_events *ev = arg;

	if (ev->n == ev->cap) {
		size_t cap = ev->cap ? ev->cap * 2 : 4096;
		struct copy_event *v = realloc(ev->v, cap * sizeof(*v));

		if (!v) {
			ev->failed = true;
			return;
		}
		ev->v = v;
		ev->cap = cap;
	}
	ev->v[ev->n++] = *e;
}

void copy_layout_snap(struct copy_layout *l)
{
	char path[64], *text;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)l->pid);
	text = read_text_file(path, NULL);
	/* an exited process reads empty: keep what it had */
	if (text && *text) {
		free(l->maps);
		l->maps = text;
	} else {
		free(text);
	}
}

/* -------------------------------------------------------------- sums */

static struct copy_row *sums_row(struct copy_sums *s, const char *key, const char *src)
{
	struct copy_row *r;
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->rows[i].key, key) && !strcmp(s->rows[i].src, src))
			return &s->rows[i];
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 64;

		r = realloc(s->rows, cap * sizeof(*r));
		if (!r)
			return NULL;
		s->rows = r;
		s->cap = cap;
	}
	r = &s->rows[s->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->key, sizeof(r->key), "%s", key);
	snprintf(r->src, sizeof(r->src), "%s", src);
	return r;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct copy_row *x = a, *y = b;
	int k;

	for (k = 0; k < COPY_NKINDS; k++)
		if (x->n[k] != y->n[k])
			return x->n[k] < y->n[k] ? 1 : -1;
	return strcmp(x->key, y->key);
}

int copy_sum_events(const struct copy_events *ev, const struct copy_layout *l,
		    struct copy_sums *maps, struct copy_sums *code)
{
	struct copy_syms *syms = copy_syms_new(l->maps ? l->maps : "");
	char name[256], func[256], src[128];
	struct copy_row *a, *b;
	size_t i;

	if (!syms)
		return -ENOMEM;
	/* the demo's regions have their row even if nothing was copied */
	if ((l->demo.objects && !sums_row(maps, "cowlab-objects", "")) ||
	    (l->demo.counts && !sums_row(maps, "cowlab-refcounts", ""))) {
		copy_syms_free(syms);
		return -ENOMEM;
	}
	for (i = 0; i < ev->n; i++) {
		const struct copy_event *e = &ev->v[i];

		copy_syms_mapping(syms, e->address, name, sizeof(name));
		if (e->address >= l->demo.objects &&
		    e->address < l->demo.objects_end)
			snprintf(name, sizeof(name), "cowlab-objects");
		if (e->address >= l->demo.counts &&
		    e->address < l->demo.counts_end)
			snprintf(name, sizeof(name), "cowlab-refcounts");
		copy_syms_code(syms, e->ip, func, sizeof(func), src,
			       sizeof(src));
		a = sums_row(maps, name, "");
		b = sums_row(code, func, src);
		if (!a || !b) {
			copy_syms_free(syms);
			return -ENOMEM;
		}
		a->n[e->kind]++;
		b->n[e->kind]++;
	}
	copy_syms_free(syms);
	qsort(maps->rows, maps->n, sizeof(*maps->rows), cmp_rows);
	qsort(code->rows, code->n, sizeof(*code->rows), cmp_rows);
	return 0;
}

/* ------------------------------------------------------------- runs */

/* Follow until the target is gone (@child) or the time is up. */
int copy_follow(struct copy_trace *t, struct copy_layout *l, pid_t child,
		int done_fd, struct copy_events *ev, int *status)
{
	uint64_t end = now_ns() + (uint64_t)(cenv.seconds * 1e9);
	int r;

	for (;;) {
		r = copy_trace_poll(t, POLL_MS, copy_on_event, ev);
		if (r < 0)
			return r;
		if (exiting)
			return -EINTR;
		/* the demo says where its regions are once done, and waits */
		if (done_fd >= 0 &&
		    read(done_fd, &l->demo, sizeof(l->demo)) == sizeof(l->demo)) {
			copy_layout_snap(l);
			return 0;
		}
		if (done_fd < 0)
			copy_layout_snap(l);
		if (child > 0 && waitpid(child, status, WNOHANG) == child) {
			cleanup_forget_child(child);
			return 1;	/* reaped */
		}
		if (child <= 0 && (now_ns() >= end || kill(l->pid, 0)))
			return 0;
	}
}

/* The traced child: waits for the tracer, then runs the demo or COMMAND. */
void copy_child_main(char **cmd, int go, int done, int release)
{
	struct copy_demo_regions regions;
	char c;
	int ret;

	cowlab_child_init();
	if (read(go, &c, 1) != 1)
		_exit(126);
	if (!cmd) {
		ret = copy_demo_run(&cenv.demo, &regions);
		/* hold the layout until the tracer has read it */
		if (write(done, &regions, sizeof(regions)) != sizeof(regions) ||
		    read(release, &c, 1) < 0)
			_exit(126);
		_exit(ret ? 1 : 0);
	}
	/* -j: one JSON document on stdout, the command's output beside it */
	if (json_wtr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		_exit(126);
	execvp(cmd[0], cmd);
	_exit(127);
}

int copy_open_pipes(struct copy_pipes *p)
{
	if (pipe2(p->go, O_CLOEXEC) || pipe2(p->done, O_CLOEXEC) ||
	    pipe2(p->release, O_CLOEXEC))
		return -errno;
	return 0;
}

void copy_close_pipes(struct copy_pipes *p)
{
	int *fds = (int *)p, i;

	for (i = 0; i < 6; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Every thread of @pid, so that set_event_pid follows them all. */
int copy_add_threads(struct copy_trace *t, pid_t pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir)) && !err)
		if (d->d_name[0] != '.' && atoi(d->d_name) != pid)
			err = copy_trace_add(t, atoi(d->d_name));
	closedir(dir);
	return err;
}
