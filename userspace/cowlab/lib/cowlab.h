/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowlab: the workload companion of cowtrace.ko.
 *
 * This header is the shared layer every object file (fork.c, exec.c,
 * ipc.c, ...) builds on. It is stable: functions are added, never changed.
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
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../../../module/uapi/cowtrace.h"

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

/* The objects (main.c has the table). */
int do_fork(int argc, char **argv);
int do_exec(int argc, char **argv);
int do_clone(int argc, char **argv);
int do_tasks(int argc, char **argv);
int do_processes(int argc, char **argv);
int do_kthreads(int argc, char **argv);
int do_locks(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_ipc(int argc, char **argv);
int do_lock(int argc, char **argv);
int do_thread(int argc, char **argv);
int do_pages(int argc, char **argv);
int do_copies(int argc, char **argv);

/* The hidden helper exec re-executes cowlab into (exec.c). */
int do_exec_helper(int argc, char **argv);

/* The path of the running binary (/proc/self/exe, resolved at start). */
const char *cowlab_self_path(void);

/* -------------------------------------------------------- JSON writer */

/*
 * A streaming JSON writer like bpftool's json_writer: the writer inserts
 * commas and escapes strings; a member is jsonw_name() then one value.
 */
struct json_writer;

struct json_writer *jsonw_new(FILE *f);
void jsonw_destroy(struct json_writer **self);
void jsonw_pretty(struct json_writer *self, bool on);
/* Nesting depth: 0 at top level, 1 inside the document's object... */
int jsonw_depth(const struct json_writer *self);
void jsonw_start_object(struct json_writer *self);
void jsonw_end_object(struct json_writer *self);
void jsonw_start_array(struct json_writer *self);
void jsonw_end_array(struct json_writer *self);
/* Close whatever is open down to depth (e.g. 1: back in the document). */
void jsonw_close_to(struct json_writer *self, int depth);
void jsonw_name(struct json_writer *self, const char *name);
void jsonw_string(struct json_writer *self, const char *value);
void jsonw_uint(struct json_writer *self, uint64_t value);
void jsonw_int(struct json_writer *self, int64_t value);
/* NaN and infinities have no JSON form: they are written as null. */
void jsonw_float(struct json_writer *self, double value);
void jsonw_bool(struct json_writer *self, bool value);
void jsonw_null(struct json_writer *self);
/* Name and value in one call. */
void jsonw_string_field(struct json_writer *self, const char *name,
			const char *value);
void jsonw_uint_field(struct json_writer *self, const char *name,
		      uint64_t value);
void jsonw_int_field(struct json_writer *self, const char *name,
		     int64_t value);
void jsonw_float_field(struct json_writer *self, const char *name,
		       double value);
void jsonw_bool_field(struct json_writer *self, const char *name,
		      bool value);
void jsonw_null_field(struct json_writer *self, const char *name);

/* The document's writer, on stdout; NULL without -j. */
extern struct json_writer *json_wtr;

/* --------------------------------------------------------- reporting */

/*
 * Sections and key/value lines. In text a section prints "TITLE" as a
 * heading and each value as an aligned "  label  value unit" line; with -j
 * a section is an object member named key, values are members named key
 * (numbers stay numbers, sizes in bytes, times in nanoseconds as given).
 * Sections nest. label may be NULL: the key is shown.
 */
void report_section(const char *key, const char *title);
void report_section_end(void);
/* A JSON array of objects/values named key (text: heading if title). */
void report_array(const char *key, const char *title);
void report_array_end(void);
/* An anonymous object inside an array (text: a heading if title). */
void report_item(const char *title);
void report_item_end(void);
void report_str(const char *key, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void report_uint(const char *key, const char *label, uint64_t v,
		 const char *unit);
void report_int(const char *key, const char *label, int64_t v,
		const char *unit);
void report_float(const char *key, const char *label, double v,
		  const char *unit);
void report_bool(const char *key, const char *label, bool v);
/* Bytes: text "256.0 MiB (268435456)", JSON the integer. */
void report_size(const char *key, const char *label, uint64_t bytes);
/* Nanoseconds: text "1.234 ms", JSON the integer (name the key _ns). */
void report_ns(const char *key, const char *label, double ns);
/* A value that is not known: text "-" (and why), JSON null. */
void report_unknown(const char *key, const char *label, const char *why);
/*
 * An explanation for people: text prints it (unless -q), JSON collects it
 * into the document's "notes" array, written at the end.
 */
void report_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Tables: text prints a header and aligned columns when table_end() is
 * called; JSON writes an array named key of one object per row, members
 * named by the columns. A cell is added per column, in order.
 */
enum table_align { TABLE_RIGHT, TABLE_LEFT };

struct table_col {
	const char *name;	/* header, and JSON member name */
	enum table_align align;
};

struct table;

struct table *table_start(const char *key, const struct table_col *cols,
			  int ncols);
void table_row(struct table *t);
void table_str(struct table *t, const char *v);
void table_uint(struct table *t, uint64_t v);
void table_int(struct table *t, int64_t v);
/* prec digits after the point in text; JSON full precision. */
void table_float(struct table *t, double v, int prec);
/* Text: human size ("4.0 MiB"); JSON: bytes. */
void table_size(struct table *t, uint64_t bytes);
/* Text: yes or no (the words given); JSON: true or false. */
void table_bool(struct table *t, bool v, const char *yes, const char *no);
/* Text "-", JSON null. */
void table_null(struct table *t);
/* A count, or "-" (null) when it is negative: unknown or not applicable. */
void table_opt_int(struct table *t, int64_t v);
/* A value that is not known: text why (or "-"), JSON null. */
void table_unknown(struct table *t, const char *why);
/* Prints (text) or closes (JSON) the table and frees it. */
void table_end(struct table *t);

/* "4.0 KiB", "256.0 MiB": buf of at least 32 bytes. */
const char *fmt_size(char *buf, size_t len, uint64_t bytes);
/* "850 ns", "1.234 us", "12.3 ms", "2.500 s". */
const char *fmt_ns(char *buf, size_t len, double ns);

/* ----------------------------------------------------------- parsing */

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

/* ------------------------------------------------------- measurement */

/* Every time cowlab prints is read from this clock; name it in output. */
#define COWLAB_CLOCK		CLOCK_MONOTONIC
#define COWLAB_CLOCK_NAME	"CLOCK_MONOTONIC"

uint64_t now_ns(void);

/* Order statistics over n samples (not modified: a copy is sorted). */
struct summary {
	int n;
	double min, max, median, mean;
	double p10, p90;	/* spread: 10th and 90th percentile */
	double q1, q3;		/* interquartile range: q3 - q1 */
};

int summarize(const double *v, int n, struct summary *s);

/*
 * Run fn warmup times unmeasured, then runs times; fn returns one sample
 * (any unit, e.g. ns) or a negative value on failure, which stops the
 * series (the return value is then -1). Stops early (-1) on exiting.
 */
int measure_repeat(int warmup, int runs, double (*fn)(void *arg), void *arg,
		   struct summary *s);

/* A summary as a section: n, median, min, max, p10, p90 (nanoseconds). */
void report_summary_ns(const char *key, const char *label,
		       const struct summary *s);

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

/* -------------------------------------------------- cowtrace.ko views */

/*
 * One read of a tasks or processes view: the header's column names and
 * the rows. A value is -1 where the module shows "-" (cannot be right on
 * this kernel). comm is unescaped (\040 back to a space).
 */
struct ct_row {
	pid_t pid, tgid;
	char comm[64];
	bool alive;
	int64_t *v;		/* ncols values; -1 for "-" or non-numbers */
};

struct ct_table {
	int ncols;		/* every column, pid..last */
	char **cols;
	int nrows;
	struct ct_row *rows;
};

/*
 * Whether the module's views can be read, checked once (the result is
 * cached). When not, the reason is one of: not root, debugfs not mounted,
 * the module not loaded; ct_available() says so ONCE on stderr (unless -q)
 * and the JSON document gets "kernel_counters": {"available": false,
 * "reason": "..."} (true and the module's version when available).
 * Everything else still runs without the module.
 */
bool ct_available(void);
/* The same check, without saying anything (for the views commands). */
bool ct_probe(void);
/*
 * True when only /proc/cowtrace could be read (no debugfs access): the
 * "tasks" view works (the user's own tasks), no other view does.
 */
bool ct_only_proc(void);
const char *ct_unavailable_reason(void);
/* The directory read: COWTRACE_DEBUGFS_DIR, or $COWLAB_CTDIR (tests). */
const char *ct_dir(void);

/* Read view "tasks" or "processes"; 0 or negative errno. */
int ct_read_table(const char *view, struct ct_table *t);
/* Parse a view's text (exposed for the unit tests). */
int ct_parse_table(const char *text, struct ct_table *t);
void ct_table_free(struct ct_table *t);
/* Column index by name, -1 if the view has no such column. */
int ct_col(const struct ct_table *t, const char *name);
/* The row of pid: the live one if any, else the last exited one. */
const struct ct_row *ct_find(const struct ct_table *t, pid_t pid);
/* A counter of pid by column name; -1 if no row, column or value. */
int64_t ct_get(const struct ct_table *t, pid_t pid, const char *col);
/*
 * after - before for pid: a task with no row before counts from 0 (its
 * row is made when it is created); -1 if it has no row after (evicted
 * past max_exited, or not tracked) or the column is unknown.
 */
int64_t ct_delta(const struct ct_table *before, const struct ct_table *after,
		 pid_t pid, const char *col);
/* Read a whole small file (a view) into a malloc()ed string. */
char *read_text_file(const char *path, size_t *len);

/* --------------------------------------------------------- page tables */

/* One virtual page of a task (pagetable.c). Unknown numbers are -1. */
struct pt_page {
	uint64_t vaddr;
	char entry[12];		/* present none swap migration unmapped ... */
	char level[4];		/* pte, pmd or pud: the entry's table; "-" */
	int64_t pfn;
	int write, dirty, young, soft_dirty;	/* 0 or 1 */
	char page[8];		/* anon ksm file zero, or "-" */
	int order;		/* of the folio */
	int exclusive;		/* an anonymous page only this mm may write */
	int mapcount, refcount;
	char swap[24];		/* "TYPE:0xOFFSET" or "-" */
};

/* Where the rows came from, and which columns are missing and why. */
struct pt_view {
	bool module;
	char source[64];
	char missing[256];
};

/*
 * @n pages of @pid from @addr (page aligned): cowtrace.ko's pages view if
 * it can be read, else /proc. 0 or negative errno (-ESRCH: no such task,
 * or no memory; -EINVAL: a kernel thread or a bad range).
 */
int pt_read(pid_t pid, uint64_t addr, size_t n, struct pt_page *rows,
	    struct pt_view *v);
/* The pages view's text, header and @n rows (exposed for the unit tests). */
int pt_parse_view(char *text, size_t n, struct pt_page *rows);
int pt_parse_row(const char *line, struct pt_page *p);
void pt_decode_pagemap(uint64_t e, struct pt_page *p);
void pt_decode_kpageflags(uint64_t flags, struct pt_page *p);
/* pages.c: the rows as a table (text or JSON), and a read's error. */
void pages_table(const char *key, const struct pt_page *rows, size_t n);
void pages_error(pid_t pid, int err, const struct pt_view *v);

/* --------------------------------------------------------- memory */

/* Bytes, from /proc/<pid>/smaps_rollup; uss = Private_Clean+Private_Dirty. */
struct mem_usage {
	uint64_t rss, pss, uss, shared, anon, swap;
};

int mem_usage(pid_t pid, struct mem_usage *m);
/* Parse smaps_rollup text (exposed for the unit tests). */
int mem_parse_rollup(const char *text, struct mem_usage *m);

/* /proc/meminfo: used = MemTotal - MemAvailable, in bytes. */
struct sys_mem {
	uint64_t total, available, used, free;
};

int sys_mem(struct sys_mem *s);
/*
 * Whether need bytes fit in 90% of MemAvailable; if not, p_err() naming
 * what (e.g. "--size 64G") and EXIT_USAGE, else 0 (also when unknown).
 */
int mem_check_fits(const char *what, uint64_t need);
/*
 * The same for base + n * each bytes, sizes and counts from the command
 * line: a total past 2^64 is refused (p_err(), EXIT_USAGE) before it can
 * wrap around into one that seems to fit.
 */
int mem_check_fits_n(const char *what, uint64_t base, uint64_t n,
		     uint64_t each);

/* minflt, majflt of a process (tid 0) or one of its threads. */
struct proc_faults {
	uint64_t minflt, majflt;
};

int proc_faults(pid_t pid, pid_t tid, struct proc_faults *f);
/* Parse a /proc/<pid>/stat line (exposed for the unit tests). */
int proc_parse_stat_faults(const char *line, struct proc_faults *f);

#endif /* COWLAB_H */
