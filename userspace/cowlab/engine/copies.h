/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The copies engine: copies.c follows a process and sums its copies;
 * copies_trace.c follows cowtrace:fault events through a tracefs instance
 * of its own; copies_sym.c names where each copy was, by mapping and by
 * code, with elfutils' libdwfl; copies_demo.c is the demonstration
 * workload. cmd/copies.c is the command: its options and its report.
 */
#ifndef COWLAB_ENGINE_COPIES_H
#define COWLAB_ENGINE_COPIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The kinds of copy-on-write break followed, as the tasks view names them. */
enum copy_kind { COPY_COPY, COPY_REUSE, COPY_ZERO, COPY_NKINDS };

extern const char *const copy_kind_names[COPY_NKINDS];

/* One cowtrace:fault event of a copy-on-write kind. */
struct copy_event {
	pid_t pid;
	uint64_t address;
	uint64_t ip;
	enum copy_kind kind;
};

/* ------------------------------------------------------ copies_trace.c */

struct copy_trace;

/*
 * A tracefs instance of its own following cowtrace:fault's copy-on-write
 * kinds for @pid and every task it forks from now on. NULL and a reason
 * in @why (root, tracefs, the module) if it cannot.
 */
struct copy_trace *copy_trace_start(pid_t pid, char *why, size_t len);
/* One more task to follow (another thread of the process). */
int copy_trace_add(struct copy_trace *t, pid_t tid);
/*
 * The events that arrived, waiting at most @ms for the first: each one is
 * handed to @fn. Returns how many, or a negative errno.
 */
int copy_trace_poll(struct copy_trace *t, int ms,
		    void (*fn)(const struct copy_event *e, void *arg),
		    void *arg);
/* Stop, take what is left, and say how many were lost (overrun). */
int copy_trace_stop(struct copy_trace *t,
		    void (*fn)(const struct copy_event *e, void *arg),
		    void *arg, uint64_t *lost);
/* One line of trace_pipe's text (exposed for the unit tests). */
int copy_parse_line(const char *line, struct copy_event *e);

/* ------------------------------------------------------- copies_sym.c */

struct copy_syms;

/* Symbols of a process laid out as @maps (its /proc/PID/maps text). */
struct copy_syms *copy_syms_new(const char *maps);
void copy_syms_free(struct copy_syms *s);
/*
 * The mapping holding @addr: "[heap]", "[stack]", "[anon:NAME]",
 * "anonymous", or a file's name with the ELF section ("libc.so.6 .data").
 */
void copy_syms_mapping(struct copy_syms *s, uint64_t addr, char *buf,
		       size_t len);
/* The code at @ip: "function" and "file:line" where debug info has it. */
void copy_syms_code(struct copy_syms *s, uint64_t ip, char *func,
		    size_t flen, char *src, size_t slen);

/* ------------------------------------------------------ copies_demo.c */

struct copy_demo {
	long objects;		/* objects in the shared structure */
	long workers;		/* children that only read it */
	bool separate;		/* reference counts on pages of their own */
};

/* Where the demo's two regions are, for the report to name them. */
struct copy_demo_regions {
	uint64_t objects, objects_end;
	uint64_t counts, counts_end;	/* 0, 0 without --separate */
};

/* The pages each region spans, for the report's expectations. */
long copy_demo_object_pages(const struct copy_demo *d);
long copy_demo_count_pages(const struct copy_demo *d);
/*
 * Build the structure, fork the workers, wait for them (in a child); the
 * regions it used are left in @r.
 */
int copy_demo_run(const struct copy_demo *d, struct copy_demo_regions *r);

/* ------------------------------------------------------------ copies.c */

/* The options, set by cmd/copies.c; the defaults are in engine/copies.c. */
struct copies_env {
	struct copy_demo demo;
	double seconds;
	long top;
};

extern struct copies_env cenv;

/* The events that arrived, in order. */
struct copy_events {
	struct copy_event *v;
	size_t n, cap;
	bool failed;		/* out of memory: the sums would be short */
};

/* The process's mappings as last seen, for naming addresses at the end. */
struct copy_layout {
	pid_t pid;
	char *maps;
	struct copy_demo_regions demo;	/* all 0 but for the demo */
};

/* One row of a sum: a mapping, or a function and its source line. */
struct copy_row {
	char key[256];		/* mapping, or function */
	char src[128];		/* file:line, for code rows */
	uint64_t n[COPY_NKINDS];
};

/* A sum by mapping or by code, biggest first once summed. */
struct copy_sums {
	struct copy_row *rows;
	int n, cap;
};

/* The traced child's pipes: go, done (the demo's layout), release. */
struct copy_pipes {
	int go[2], done[2], release[2];
};

/* copy_trace_poll()'s and copy_trace_stop()'s callback: @arg, the events. */
void copy_on_event(const struct copy_event *e, void *arg);
/* Read the process's mappings again; an exited one keeps what it had. */
void copy_layout_snap(struct copy_layout *l);
/* Sum the events by mapping and by code: 0 or -ENOMEM. */
int copy_sum_events(const struct copy_events *ev, const struct copy_layout *l,
		    struct copy_sums *maps, struct copy_sums *code);
/*
 * Follow until the target is gone (@child, reaped: 1) or the time is up
 * (0); with @done_fd, until the demo says where its regions are (0). A
 * negative errno if following failed.
 */
int copy_follow(struct copy_trace *t, struct copy_layout *l, pid_t child,
		int done_fd, struct copy_events *ev, int *status);
/* The traced child: waits for the tracer, then runs the demo or @cmd. */
void copy_child_main(char **cmd, int go, int done, int release);
int copy_open_pipes(struct copy_pipes *p);
void copy_close_pipes(struct copy_pipes *p);
/* Every thread of @pid, so that set_event_pid follows them all. */
int copy_add_threads(struct copy_trace *t, pid_t pid);

#endif /* COWLAB_ENGINE_COPIES_H */
