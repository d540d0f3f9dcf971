// SPDX-License-Identifier: GPL-2.0
/*
 * Access to cowtrace.ko's views. The module is optional: every command
 * measures what /proc tells without it, and this file decides once whether
 * the kernel counters are there, and if not, says why, once. Without
 * debugfs (not root), /proc/cowtrace still gives the tasks the user may
 * inspect: then only the tasks view is read, from there. The views that
 * are not tables of tasks are turned into JSON here too, from their text.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lib/cowlab.h"
#include "lib/json_writer.h"
#include "lib/views.h"

#ifndef DEBUGFS_MAGIC
#define DEBUGFS_MAGIC	0x64626720
#endif
#define DEBUGFS_MOUNT	"/sys/kernel/debug"
/* The tasks table for those without debugfs: only the tasks they may see. */
#define PROC_TASKS	"/proc/cowtrace"

static bool probed, available, told;
/* Only /proc/cowtrace could be read: the tasks view, no other. */
static bool proc_only;
static char reason[1024];
static char version[64];
/* The module's filter, as its control file reads: "all", "comm other". */
static char filter[128];
/* The filter leaves this run out: no counter of the module is about it. */
static bool excluded;

const char *ct_dir(void)
{
	const char *d = getenv("COWLAB_CTDIR");

	return d && *d ? d : COWTRACE_DEBUGFS_DIR;
}

/*
 * The rest of the first line of the module's file @name after @key and a
 * space ("version 0.1.0", "filter comm other"), into @buf; empty if none.
 */
static void ct_read_keyed(const char *name, const char *key, char *buf,
			  size_t size)
{
	size_t klen = strlen(key);
	char path[512], *text;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", ct_dir(), name);
	text = read_text_file(path, NULL);
	if (!text)
		return;
	text[strcspn(text, "\n")] = '\0';
	if (!strncmp(text, key, klen) && text[klen] == ' ')
		snprintf(buf, size, "%s", text + klen + 1);
	free(text);
}

/*
 * Whether the filter leaves this run out. The module tracks a task if it
 * or an ancestor matched when its row was made, so rather than redo that
 * here, look for this process's live row in the tasks view: the view
 * shows only tracked tasks, and cowlab has faulted, so has a row, by now.
 */
static void ct_check_filter(void)
{
	struct ct_table t;
	const struct ct_row *r;

	if (!filter[0] || !strcmp(filter, "all") ||
	    ct_read_table("tasks", &t))
		return;
	r = ct_find(&t, getpid());
	excluded = !r || !r->alive;
	ct_table_free(&t);
	if (!excluded)
		return;
	available = false;
	snprintf(reason, sizeof(reason),
		 "the module's filter excludes this run (filter %s; 'echo all > %s/control' tracks every task)",
		 filter, ct_dir());
}

/* Why the tasks view cannot be read, most basic cause first. */
static void ct_find_reason(const char *tasks, int err)
{
	struct statfs sfs;
	struct stat st;

	if (getenv("COWLAB_CTDIR"))
		snprintf(reason, sizeof(reason), "cannot read %s: %s", tasks,
			 strerror(err));
	else if (geteuid() != 0)
		snprintf(reason, sizeof(reason),
			 "not root (%s is root's only)", DEBUGFS_MOUNT);
	else if (statfs(DEBUGFS_MOUNT, &sfs) || sfs.f_type != DEBUGFS_MAGIC)
		snprintf(reason, sizeof(reason),
			 "debugfs is not mounted on %s (mount -t debugfs none %s)",
			 DEBUGFS_MOUNT, DEBUGFS_MOUNT);
	else if (stat(COWTRACE_DEBUGFS_DIR, &st))
		snprintf(reason, sizeof(reason),
			 "the cowtrace module is not loaded (no %s)",
			 COWTRACE_DEBUGFS_DIR);
	else
		snprintf(reason, sizeof(reason), "cannot read %s: %s", tasks,
			 strerror(err));
}

bool ct_probe(void)
{
	char tasks[512];

	if (probed)
		return available;
	probed = true;
	snprintf(tasks, sizeof(tasks), "%s/tasks", ct_dir());
	available = !access(tasks, R_OK);
	if (available) {
		ct_read_keyed("version", "version", version, sizeof(version));
		ct_read_keyed("control", "filter", filter, sizeof(filter));
	} else {
		ct_find_reason(tasks, errno);
		/* not root: the module's own tasks, through procfs */
		if (!getenv("COWLAB_CTDIR") && !access(PROC_TASKS, R_OK)) {
			available = true;
			proc_only = true;
			p_verbose("reading %s: %s", PROC_TASKS, reason);
		}
	}
	if (available && version[0] && strcmp(version, COWTRACE_VERSION))
		p_warn("cowtrace.ko is version %s, cowlab expects %s", version,
		       COWTRACE_VERSION);
	return available;
}

bool ct_only_proc(void)
{
	return ct_probe() && proc_only;
}

bool ct_available(void)
{
	static bool checked;

	/* a run the module does not track has no counters either */
	if (ct_probe() && !proc_only && !checked)
		ct_check_filter();
	checked = true;
	if (!ct_probe() && !told) {
		told = true;
		p_warn("kernel counters unavailable: %s; measuring without them",
		       reason);
	} else if (proc_only && !told) {
		told = true;
		p_warn("kernel counters of your own tasks only, from %s: %s",
		       PROC_TASKS, reason);
	}
	return available;
}

const char *ct_unavailable_reason(void)
{
	ct_probe();
	return available && !proc_only ? NULL : reason;
}

/* The document's "kernel_counters" member, if anything looked. */
void ct_report_json(void)
{
	if (!probed || !json_wtr)
		return;
	jsonw_name(json_wtr, "kernel_counters");
	jsonw_start_object(json_wtr);
	jsonw_bool_field(json_wtr, "available", available);
	if (proc_only) {
		/* the reason debugfs could not be read still holds */
		jsonw_string_field(json_wtr, "dir", PROC_TASKS);
		jsonw_null_field(json_wtr, "version");
		jsonw_string_field(json_wtr, "reason", reason);
	} else if (available || excluded) {
		jsonw_string_field(json_wtr, "dir", ct_dir());
		jsonw_string_field(json_wtr, "version", version);
		if (filter[0])
			jsonw_string_field(json_wtr, "filter", filter);
		else
			jsonw_null_field(json_wtr, "filter");
		if (excluded)
			jsonw_string_field(json_wtr, "reason", reason);
		else
			jsonw_null_field(json_wtr, "reason");
	} else {
		jsonw_string_field(json_wtr, "reason", reason);
	}
	jsonw_end_object(json_wtr);
}

/* comm escapes white space and backslashes as \ooo: undo it in place. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

/* Split line in place on blanks into at most max words; the count. */
static int split(char *line, char **words, int max)
{
	int n = 0;
	char *save = NULL, *w;

	for (w = strtok_r(line, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return max + 1;
		words[n++] = w;
	}
	return n;
}

void ct_table_free(struct ct_table *t)
{
	int i;

	for (i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	for (i = 0; i < t->nrows; i++)
		free(t->rows[i].v);
	free(t->cols);
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

static int ct_parse_row(struct ct_table *t, char **w)
{
	struct ct_row *r;
	int i;

	if (t->nrows % 64 == 0) {
		r = realloc(t->rows, (t->nrows + 64) * sizeof(*r));
		if (!r)
			return -ENOMEM;
		t->rows = r;
	}
	r = &t->rows[t->nrows];
	memset(r, 0, sizeof(*r));
	r->v = calloc(t->ncols, sizeof(*r->v));
	if (!r->v)
		return -ENOMEM;
	t->nrows++;
	for (i = 0; i < t->ncols; i++) {
		char *end;
		long long v = strtoll(w[i], &end, 10);

		r->v[i] = (*end || end == w[i] || v < 0) ? -1 : v;
	}
	r->pid = (pid_t)r->v[0];
	r->tgid = (pid_t)r->v[1];
	unescape(w[2]);
	snprintf(r->comm, sizeof(r->comm), "%s", w[2]);
	r->alive = !strcmp(w[3], "alive");
	return 0;
}

int ct_parse_table(const char *text, struct ct_table *t)
{
	char *copy = strdup(text), *line, *save = NULL;
	char **w = NULL;
	int err = -EINVAL, n, i;

	memset(t, 0, sizeof(*t));
	if (!copy)
		return -ENOMEM;
	line = strtok_r(copy, "\n", &save);
	w = calloc(256, sizeof(*w));
	if (!line || !w)
		goto out;
	n = split(line, w, 255);
	/* pid tgid comm state and at least one counter */
	if (n < 5 || n > 255 || strcmp(w[0], "pid") || strcmp(w[1], "tgid") ||
	    strcmp(w[2], "comm") || strcmp(w[3], "state"))
		goto out;
	t->cols = calloc(n, sizeof(*t->cols));
	if (!t->cols)
		goto nomem;
	for (i = 0; i < n; i++) {
		t->cols[i] = strdup(w[i]);
		if (!t->cols[i])
			goto nomem;
		t->ncols = i + 1;
	}
	while ((line = strtok_r(NULL, "\n", &save))) {
		/* every row has as many fields as the header */
		if (split(line, w, 255) != t->ncols)
			goto out;
		err = ct_parse_row(t, w);
		if (err)
			goto out;
	}
	err = 0;
	goto done;
nomem:
	err = -ENOMEM;
out:
	if (err)
		ct_table_free(t);
done:
	free(w);
	free(copy);
	return err;
}

int ct_read_table(const char *view, struct ct_table *t)
{
	char path[512], *text;
	int err;

	memset(t, 0, sizeof(*t));
	if (proc_only && strcmp(view, "tasks"))
		return -EACCES;
	if (proc_only)
		snprintf(path, sizeof(path), "%s", PROC_TASKS);
	else
		snprintf(path, sizeof(path), "%s/%s", ct_dir(), view);
	text = read_text_file(path, NULL);
	if (!text)
		return errno ? -errno : -EIO;
	err = ct_parse_table(text, t);
	free(text);
	return err;
}

int ct_col(const struct ct_table *t, const char *name)
{
	int i;

	for (i = 0; i < t->ncols; i++)
		if (!strcmp(t->cols[i], name))
			return i;
	return -1;
}

const struct ct_row *ct_find(const struct ct_table *t, pid_t pid)
{
	const struct ct_row *found = NULL;
	int i;

	for (i = 0; i < t->nrows; i++) {
		if (t->rows[i].pid != pid)
			continue;
		if (t->rows[i].alive)
			return &t->rows[i];
		found = &t->rows[i];	/* the last exited one, newest */
	}
	return found;
}

int64_t ct_get(const struct ct_table *t, pid_t pid, const char *col)
{
	const struct ct_row *r = ct_find(t, pid);
	int c = ct_col(t, col);

	if (!r || c < 0)
		return -1;
	return r->v[c];
}

int64_t ct_delta(const struct ct_table *before, const struct ct_table *after,
		 pid_t pid, const char *col)
{
	int64_t a = ct_get(after, pid, col), b;

	if (a < 0)
		return -1;
	b = ct_get(before, pid, col);
	if (b < 0)
		b = 0;	/* no row before: the task is newer than the snapshot */
	return a >= b ? a - b : -1;
}

/* ------------------------------------------------------------- JSON */

/* A word that is a whole number goes into JSON as a number. */
static void json_word(const char *w)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(w, &end, 10);
	if (*w && !*end && !errno && (isdigit((unsigned char)w[0]) ||
				      w[0] == '-'))
		jsonw_int(json_wtr, v);
	else
		jsonw_string(json_wtr, w);
}

/*
 * The generic form of a view as JSON: lines "== title ==" open a section;
 * a section's first line names its columns and each following line is a
 * row, its last field taking the rest of the line (kthreads' names, call
 * sites). Lines before any header are "summary" strings.
 */
struct section_state {
	char *cols[32];
	int ncols;
	bool open;
};

static void section_close(struct section_state *s)
{
	int i;

	if (s->open) {
		jsonw_end_array(json_wtr);
		jsonw_end_object(json_wtr);
	}
	for (i = 0; i < s->ncols; i++)
		free(s->cols[i]);
	s->ncols = 0;
	s->open = false;
}

static void section_row(struct section_state *s, char *line)
{
	char *p = line;
	int i;

	jsonw_start_object(json_wtr);
	for (i = 0; i < s->ncols; i++) {
		size_t len;
		char save;

		while (*p == ' ')
			p++;
		len = i == s->ncols - 1 ? strlen(p) : strcspn(p, " ");
		save = p[len];
		p[len] = '\0';
		jsonw_name(json_wtr, s->cols[i]);
		json_word(p);
		p[len] = save;
		p += len;
	}
	jsonw_end_object(json_wtr);
}

static void section_header(struct section_state *s, char *line,
			   const char *title)
{
	char *save = NULL, *w;

	for (w = strtok_r(line, " ", &save); w && s->ncols < 32;
	     w = strtok_r(NULL, " ", &save))
		s->cols[s->ncols++] = strdup(w);
	jsonw_start_object(json_wtr);
	jsonw_string_field(json_wtr, "title", title);
	jsonw_name(json_wtr, "rows");
	jsonw_start_array(json_wtr);
	s->open = true;
}

/* A header names columns: lower-case words and underscores only. */
static bool is_header(const char *line)
{
	const char *p;

	for (p = line; *p; p++)
		if (!islower((unsigned char)*p) && *p != '_' && *p != ' ')
			return false;
	return *line != '\0';
}

void ct_json_sections(char *text, const char *first_title)
{
	struct section_state s = { .ncols = 0 };
	char *save = NULL, *line, title[256];
	bool titled = false;

	snprintf(title, sizeof(title), "%s", first_title);
	jsonw_name(json_wtr, "summary");
	jsonw_start_array(json_wtr);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);

		if (len > 6 && !strncmp(line, "== ", 3) &&
		    !strcmp(line + len - 3, " ==")) {
			if (!titled) {
				jsonw_end_array(json_wtr);
				jsonw_name(json_wtr, "sections");
				jsonw_start_array(json_wtr);
			}
			section_close(&s);
			snprintf(title, sizeof(title), "%.*s", (int)len - 6,
				 line + 3);
			titled = true;
		} else if (!s.open && is_header(line) && strchr(line, ' ')) {
			if (!titled) {
				jsonw_end_array(json_wtr);
				jsonw_name(json_wtr, "sections");
				jsonw_start_array(json_wtr);
				titled = true;
			}
			section_header(&s, line, title);
		} else if (s.open) {
			section_row(&s, line);
		} else {
			jsonw_string(json_wtr, line);
		}
	}
	section_close(&s);
	jsonw_end_array(json_wtr);
	if (!titled) {
		jsonw_name(json_wtr, "sections");
		jsonw_start_array(json_wtr);
		jsonw_end_array(json_wtr);
	}
}

/* stats: "name value..." lines, as {"name": ..., "value": ...} rows. */
void ct_json_stats(char *text)
{
	char *save = NULL, *line;

	jsonw_name(json_wtr, "rows");
	jsonw_start_array(json_wtr);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t n = strcspn(line, " ");
		char *rest = line + n;

		while (*rest == ' ')
			rest++;
		line[n] = '\0';
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "name", line);
		jsonw_name(json_wtr, "value");
		json_word(rest);
		jsonw_end_object(json_wtr);
	}
	jsonw_end_array(json_wtr);
}
