/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowlab: the workload companion of cowtrace.ko.
 *
 * What every layer builds on: the global options, errors, the commands'
 * dispatch, the cleanup registry, children and progress (lib/cowlab.c).
 * The rest of the shared layer has a header per file in lib/: the report
 * API (report.h), JSON (json_writer.h), parsing (parse.h), measurement
 * (measure.h), memory (memstat.h), page tables (pagetable.h) and the
 * module's views (views.h). Its functions are added, never changed.
 *
 * Conventions, as in bpftool:
 *  - an object is "int do_OBJ(int argc, char **argv)", argv[0] being the
 *    first word after the object (the command, or an option);
 *  - commands return EXIT_OK (0), EXIT_FAIL (1) or EXIT_USAGE (2);
 *  - every error goes through p_err(): one line on stderr, or the "error"
 *    member of the JSON document with -j;
 *  - every output goes through the report API (report_*, table_*) so that
 *    text and -j come out of the same calls. With -j, main() has already
 *    opened the document's top-level object: commands add members to it
 *    and never print to stdout themselves.
 */
#ifndef COWLAB_H
#define COWLAB_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2
/* What a command returns after Ctrl-C or SIGTERM (128 + SIGINT, as sh). */
#define EXIT_INTR	130

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* ---------------------------------------------------------------- env */

/* Global options, set by main() before any object runs. */
struct cowlab_env {
	bool json;		/* -j/--json: one JSON document on stdout */
	bool pretty;		/* -p/--pretty: indented JSON (implies -j) */
	bool quiet;		/* -q: no notes, no progress, no warnings */
	bool verbose;		/* -v: details on stderr */
	const char *object;	/* the object's full name, "fork" */
	const char *command;	/* the command's full name, or NULL */
};

extern struct cowlab_env env;

/*
 * Set by the SIGINT/SIGTERM handler (installed by main()). Long loops
 * check it and stop; blocking calls return EINTR because the handler is
 * installed without SA_RESTART. The cleanup registry runs at exit.
 */
extern volatile sig_atomic_t exiting;

/* One line on stderr ("cowlab: ...") or {"error": ...} with -j. */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A warning on stderr (also with -j: stdout stays one document); not -q. */
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Details on stderr with -v only. */
void p_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Object dispatch, bpftool style. cmd_select() matches argv[0] against
 * cmds[] by unique prefix, "help" included; with no argv[0] it runs the
 * entry named NULL-command default (the first entry) if default_cmd is
 * true, else help. Unknown or ambiguous: p_err() and EXIT_USAGE.
 */
struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

int cmd_select(const struct cmd *cmds, int argc, char **argv,
	       int (*help)(int argc, char **argv), bool default_cmd);
/* True if arg is a prefix (at least one character) of full. */
bool is_prefix(const char *arg, const char *full);
/* Reject leftover arguments: p_err() naming the first one. */
int no_more_args(int argc, char **argv);
/* "-h" or "--help" anywhere in argv. */
bool wants_help(int argc, char **argv);

/* The path of the running binary (/proc/self/exe, resolved by main.c). */
const char *cowlab_self_path(void);

/* The document's writer (json_writer.h), on stdout; NULL without -j. */
struct json_writer;

extern struct json_writer *json_wtr;

/*
 * For main() and the shared layer, not for the commands: the start and
 * the end of the run (the end, report_finish(), is in report.h).
 */
/* Install the SIGINT/SIGTERM/SIGHUP and SIGUSR1 handlers; note the owner. */
void cowlab_signals_init(void);
/* True in the process that started cowlab (not in a forked child). */
bool cowlab_is_owner(void);
/* The first p_err() message while -j, or NULL. */
const char *cowlab_error(void);

/* ---------------------------------------------------------- progress */

/*
 * One progress line, on stderr when stderr is a tty (and not -q),
 * redrawn in place at most 10 times a second. SIGUSR1 prints the current
 * state on stderr at any time, tty or not (like dd).
 */
void progress_start(uint64_t total, const char *what);
void progress_update(uint64_t done);
void progress_end(void);

/* ----------------------------------------------------------- cleanup */

/*
 * Things to undo at exit, even after Ctrl-C/SIGTERM: main() runs
 * cleanup_run() from atexit(), in the process that registered them only
 * (a forked child never undoes its parent's registrations).
 * Children are sent SIGKILL and reaped; shared memory names are
 * shm_unlink()ed; files are unlinked; directories rmdir()ed.
 * The forget calls drop an entry once the caller undid it itself.
 */
int cleanup_add_child(pid_t pid);
void cleanup_forget_child(pid_t pid);
int cleanup_add_shm(const char *name);
void cleanup_forget_shm(const char *name);
int cleanup_add_file(const char *path);
void cleanup_forget_file(const char *path);
int cleanup_add_dir(const char *path);
void cleanup_forget_dir(const char *path);
void cleanup_run(void);

/*
 * Write this thread's rseq area once, so that its page is this process's
 * own. The kernel writes the area (the CPU the thread runs on) on its way
 * back to user space after the thread moved; since a fork that page is
 * shared, and the kernel's write, brought by whichever move falls inside a
 * measured window, would be a copy or a reuse the window never ran. Adding
 * zero atomically writes and changes nothing the kernel wrote.
 */
void cowlab_own_rseq(void);

/*
 * Call first thing in a forked child that runs cowlab code: its rseq page
 * its own (cowlab_own_rseq()), default SIGINT/SIGTERM, SIGKILL when the
 * parent dies, no cleanup or JSON at exit. Children leave with _exit().
 */
void cowlab_child_init(void);

/* Wait for pid, retrying on EINTR unless exiting; forgets it on success. */
int wait_child(pid_t pid, int *status);
/* Kill (SIGKILL) and reap a child; forgets it. */
void kill_child(pid_t pid);

/* Write and read all of a buffer on a pipe (retrying EINTR, short I/O). */
int write_full(int fd, const void *buf, size_t len);
int read_full(int fd, void *buf, size_t len);

/* Read a whole small file (a view) into a malloc()ed string. */
char *read_text_file(const char *path, size_t *len);

#endif /* COWLAB_H */
