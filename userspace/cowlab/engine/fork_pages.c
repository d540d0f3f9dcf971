// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab fork --pages N: the first N pages of the run's memory in the
 * parent's and the first child's page tables, side by side, at every step
 * of the run: which physical page each maps (pfn), whether it may write it
 * (rw), how many page tables map that page (mapcount) and whether it is the
 * parent's or child's alone to write (exclusive), with what changed since
 * the step before marked. The textbook picture of fork, with real numbers:
 * after fork both map the same page read-only twice; the child's write
 * gives it a new page of its own; the parent's page, mapped once again,
 * is reused in place by the parent's own write.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/fork.h"
#include "engine/fork_pages.h"
#include "lib/cowlab.h"
#include "lib/json_writer.h"
#include "lib/pagetable.h"
#include "lib/report.h"
#include "lib/table.h"

#define FORK_PAGES_STEPS	8

struct side {
	pid_t pid;		/* 0: no such task at this step */
	int err;		/* the read's, or 0 */
	struct pt_page *rows;
};

struct step {
	const char *name;
	struct side parent, child;
};

struct fork_pages {
	long n;
	int nsteps;
	struct step steps[FORK_PAGES_STEPS];
	struct pt_view view;	/* of the last read that worked */
};

static int side_alloc(struct side *s, long n)
{
	s->rows = calloc(n, sizeof(*s->rows));
	return s->rows ? 0 : -ENOMEM;
}

/* Every row is taken now: no allocation between the run's snapshots. */
struct fork_pages *fork_pages_new(long n)
{
	struct fork_pages *fp = calloc(1, sizeof(*fp));
	int i;

	if (!fp)
		return NULL;
	fp->n = n;
	for (i = 0; i < FORK_PAGES_STEPS; i++) {
		if (side_alloc(&fp->steps[i].parent, n) ||
		    side_alloc(&fp->steps[i].child, n)) {
			fork_pages_free(fp);
			return NULL;
		}
	}
	return fp;
}

void fork_pages_free(struct fork_pages *fp)
{
	int i;

	if (!fp)
		return;
	for (i = 0; i < FORK_PAGES_STEPS; i++) {
		free(fp->steps[i].parent.rows);
		free(fp->steps[i].child.rows);
	}
	free(fp);
}

static void side_read(struct fork_pages *fp, struct side *s, pid_t pid,
		      const char *mem)
{
	struct pt_view v;

	s->pid = pid;
	if (!pid)
		return;
	s->err = pt_read(pid, (uintptr_t)mem, fp->n, s->rows, &v);
	if (!s->err)
		fp->view = v;
}

void fork_pages_snap(struct fork_pages *fp, const char *name, const char *mem,
		     pid_t parent, pid_t child)
{
	struct step *st;

	if (!fp || fp->nsteps == FORK_PAGES_STEPS)
		return;
	st = &fp->steps[fp->nsteps++];
	st->name = name;
	side_read(fp, &st->parent, parent, mem);
	side_read(fp, &st->child, child, mem);
}

/* The four values drawn per side, as text; "-" when unknown. */
enum { COL_PFN, COL_RW, COL_MAP, COL_EXCL, NCOLS };

static void side_values(const struct side *s, long i, char v[NCOLS][24])
{
	const struct pt_page *p;
	int k;

	for (k = 0; k < NCOLS; k++)
		snprintf(v[k], sizeof(v[k]), "-");
	if (!s->pid || s->err)
		return;
	p = &s->rows[i];
	if (strcmp(p->entry, "present")) {
		snprintf(v[COL_PFN], sizeof(v[COL_PFN]), "%s", p->entry);
		return;
	}
	if (p->pfn >= 0)
		snprintf(v[COL_PFN], sizeof(v[COL_PFN]), "0x%" PRIx64, p->pfn);
	if (p->write >= 0)
		snprintf(v[COL_RW], sizeof(v[COL_RW]), "%s",
			 p->write ? "w" : "r");
	if (p->mapcount >= 0)
		snprintf(v[COL_MAP], sizeof(v[COL_MAP]), "%d", p->mapcount);
	if (p->exclusive >= 0)
		snprintf(v[COL_EXCL], sizeof(v[COL_EXCL]), "%s",
			 p->exclusive ? "yes" : "no");
}

static const char *const col_names[2][NCOLS] = {
	{ "parent_pfn", "parent_rw", "parent_mapcount", "parent_exclusive" },
	{ "child_pfn", "child_rw", "child_mapcount", "child_exclusive" },
};

/* The side's row at the step before that had this task, or NULL. */
static const struct side *prev_side(const struct fork_pages *fp, int step,
				    int who)
{
	const struct side *s;

	if (step == 0)
		return NULL;
	s = who ? &fp->steps[step - 1].child : &fp->steps[step - 1].parent;
	return s->pid && !s->err ? s : NULL;
}

/*
 * One side's cells; what changed since the step before is marked with a
 * '*' in the terminal and named in @changed for JSON.
 */
static void side_cells(struct table *t, const struct fork_pages *fp,
		       int step, int who, long i, char *changed, size_t len)
{
	const struct side *s = who ? &fp->steps[step].child :
				     &fp->steps[step].parent;
	const struct side *prev = prev_side(fp, step, who);
	char v[NCOLS][24], pv[NCOLS][24], buf[32];
	int k;

	side_values(s, i, v);
	if (prev)
		side_values(prev, i, pv);
	for (k = 0; k < NCOLS; k++) {
		bool diff = s->pid && prev && strcmp(v[k], pv[k]);

		if (diff && strlen(changed) + strlen(col_names[who][k]) + 2 < len)
			snprintf(changed + strlen(changed),
				 len - strlen(changed), "%s%s",
				 *changed ? " " : "", col_names[who][k]);
		if (!strcmp(v[k], "-")) {
			table_null(t);
		} else if (json_wtr && k == COL_MAP) {
			table_int(t, atoi(v[k]));
		} else {
			snprintf(buf, sizeof(buf), "%s%s", v[k],
				 diff && !json_wtr ? "*" : "");
			table_str(t, buf);
		}
	}
}

static const struct table_col text_cols[] = {
	{ "step", TABLE_LEFT }, { "page", TABLE_RIGHT },
	{ "parent_pfn", TABLE_RIGHT }, { "rw", TABLE_LEFT },
	{ "mapcount", TABLE_RIGHT }, { "exclusive", TABLE_LEFT },
	{ "child_pfn", TABLE_RIGHT }, { "rw", TABLE_LEFT },
	{ "mapcount", TABLE_RIGHT }, { "exclusive", TABLE_LEFT },
};

static const struct table_col json_cols[] = {
	{ "step", TABLE_LEFT }, { "page", TABLE_RIGHT },
	{ "parent_pfn", TABLE_RIGHT }, { "parent_rw", TABLE_LEFT },
	{ "parent_mapcount", TABLE_RIGHT },
	{ "parent_exclusive", TABLE_LEFT },
	{ "child_pfn", TABLE_RIGHT }, { "child_rw", TABLE_LEFT },
	{ "child_mapcount", TABLE_RIGHT }, { "child_exclusive", TABLE_LEFT },
	{ "changed", TABLE_LEFT },
};

/* The first read that failed, said once. */
static void report_errors(const struct fork_pages *fp)
{
	const struct side *s;
	int i, who;

	for (i = 0; i < fp->nsteps; i++) {
		for (who = 0; who < 2; who++) {
			s = who ? &fp->steps[i].child : &fp->steps[i].parent;
			if (s->pid && s->err) {
				report_note("page tables of %s %d at '%s' could not be read: %s",
					    who ? "child" : "parent",
					    (int)s->pid, fp->steps[i].name,
					    strerror(-s->err));
				return;
			}
		}
	}
}

void fork_pages_report(const struct fork_pages *fp)
{
	char changed[256];
	struct table *t;
	int i;
	long p;

	if (!fp)
		return;
	if (!json_wtr)
		printf("\npage tables of the first %ld pages, the parent's and the first child's\n"
		       "(from %s; * changed since the step before):\n", fp->n,
		       fp->view.source[0] ? fp->view.source : "nowhere");
	report_section("page_tables", NULL);
	if (json_wtr) {
		jsonw_string_field(json_wtr, "source", fp->view.source);
		if (fp->view.missing[0])
			jsonw_string_field(json_wtr, "missing",
					   fp->view.missing);
		else
			jsonw_null_field(json_wtr, "missing");
	}
	t = json_wtr ? table_start("rows", json_cols, ARRAY_SIZE(json_cols)) :
		       table_start("rows", text_cols, ARRAY_SIZE(text_cols));
	for (i = 0; i < fp->nsteps; i++) {
		for (p = 0; p < fp->n; p++) {
			changed[0] = '\0';
			table_row(t);
			table_str(t, p && !json_wtr ? "" : fp->steps[i].name);
			table_int(t, p);
			side_cells(t, fp, i, 0, p, changed, sizeof(changed));
			side_cells(t, fp, i, 1, p, changed, sizeof(changed));
			if (json_wtr)
				table_str(t, changed);
		}
	}
	table_end(t);
	report_section_end();
	if (!json_wtr && fp->view.missing[0])
		report_note("page tables without cowtrace.ko: %s",
			    fp->view.missing);
	report_errors(fp);
}
