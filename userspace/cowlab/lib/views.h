/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading cowtrace.ko's views (lib/views.c): whether they can be read, and
 * the tasks and processes tables.
 */
#ifndef COWLAB_VIEWS_H
#define COWLAB_VIEWS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../../module/uapi/cowtrace.h"

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

/*
 * A view that is not a table of tasks (kthreads, locks...) as members of
 * the JSON document: "summary" strings and "sections" of rows, named by
 * each section's header line; stats' "name value" lines as "rows".
 * @text is cut up.
 */
void ct_json_sections(char *text, const char *first_title);
void ct_json_stats(char *text);

/* The "kernel_counters" member of the JSON document, if looked for. */
void ct_report_json(void);

#endif /* COWLAB_VIEWS_H */
