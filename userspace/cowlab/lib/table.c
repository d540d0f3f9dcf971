// SPDX-License-Identifier: GPL-2.0
/*
 * Tables of the report API: with -j each row is written at once as an
 * object of the table's array; in text the cells are kept until the end,
 * when every column's width is known, and printed aligned at the report's
 * current indentation.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cowlab.h"
#include "lib/json_writer.h"
#include "lib/report.h"
#include "lib/table.h"

struct table {
	const struct table_col *cols;
	int ncols;
	int col;		/* next cell of the current row */
	int nrows;
	char **cells;		/* text: nrows * ncols strings */
	int cap;		/* rows allocated */
	bool failed;		/* out of memory: print what we have */
};

struct table *table_start(const char *key, const struct table_col *cols,
			  int ncols)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cols = cols;
	t->ncols = ncols;
	t->col = ncols;
	if (json_wtr) {
		jsonw_name(json_wtr, key);
		jsonw_start_array(json_wtr);
	}
	return t;
}

void table_row(struct table *t)
{
	if (!t)
		return;
	if (json_wtr) {
		if (t->nrows)
			jsonw_end_object(json_wtr);
		jsonw_start_object(json_wtr);
		t->nrows++;
		t->col = 0;
		return;
	}
	if (t->nrows == t->cap) {
		int cap = t->cap ? t->cap * 2 : 32;
		char **c = realloc(t->cells,
				   (size_t)cap * t->ncols * sizeof(*c));

		if (!c) {
			t->failed = true;
			return;
		}
		memset(c + (size_t)t->cap * t->ncols, 0,
		       (size_t)(cap - t->cap) * t->ncols * sizeof(*c));
		t->cells = c;
		t->cap = cap;
	}
	t->nrows++;
	t->col = 0;
}

/* The next cell: the JSON member's name, or the text slot. */
static char **table_cell(struct table *t)
{
	if (t->col >= t->ncols)
		return NULL;	/* more cells than columns: dropped */
	if (json_wtr) {
		jsonw_name(json_wtr, t->cols[t->col++].name);
		return NULL;
	}
	if (t->failed)
		return NULL;
	return &t->cells[(size_t)(t->nrows - 1) * t->ncols + t->col++];
}

static void table_text(struct table *t, const char *s)
{
	char **cell = table_cell(t);

	if (cell)
		*cell = strdup(s);
}

void table_str(struct table *t, const char *v)
{
	if (!t)
		return;
	if (json_wtr) {
		if (t->col < t->ncols) {
			table_cell(t);
			jsonw_string(json_wtr, v);
		}
		return;
	}
	table_text(t, v);
}

void table_uint(struct table *t, uint64_t v)
{
	char buf[32];

	if (!t)
		return;
	if (json_wtr) {
		if (t->col < t->ncols) {
			table_cell(t);
			jsonw_uint(json_wtr, v);
		}
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	table_text(t, buf);
}

void table_int(struct table *t, int64_t v)
{
	char buf[32];

	if (!t)
		return;
	if (json_wtr) {
		if (t->col < t->ncols) {
			table_cell(t);
			jsonw_int(json_wtr, v);
		}
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	table_text(t, buf);
}

void table_float(struct table *t, double v, int prec)
{
	char buf[64];

	if (!t)
		return;
	if (json_wtr) {
		if (t->col < t->ncols) {
			table_cell(t);
			jsonw_float(json_wtr, v);
		}
		return;
	}
	snprintf(buf, sizeof(buf), "%.*f", prec, v);
	table_text(t, buf);
}

void table_size(struct table *t, uint64_t bytes)
{
	char buf[32];

	if (!t)
		return;
	if (json_wtr) {
		if (t->col < t->ncols) {
			table_cell(t);
			jsonw_uint(json_wtr, bytes);
		}
		return;
	}
	table_text(t, fmt_size(buf, sizeof(buf), bytes));
}

void table_bool(struct table *t, bool v, const char *yes, const char *no)
{
	if (!t)
		return;
	if (json_wtr) {
		if (t->col < t->ncols) {
			table_cell(t);
			jsonw_bool(json_wtr, v);
		}
		return;
	}
	table_text(t, v ? yes : no);
}

void table_null(struct table *t)
{
	if (!t)
		return;
	if (json_wtr) {
		if (t->col < t->ncols) {
			table_cell(t);
			jsonw_null(json_wtr);
		}
		return;
	}
	table_text(t, "-");
}

void table_opt_int(struct table *t, int64_t v)
{
	if (v < 0)
		table_null(t);
	else
		table_int(t, v);
}

void table_unknown(struct table *t, const char *why)
{
	if (!t)
		return;
	if (json_wtr || !why)
		table_null(t);
	else
		table_text(t, why);
}

static void table_print(struct table *t)
{
	int *w = calloc(t->ncols, sizeof(*w));
	int r, c, ind = report_text_indent();

	if (!w)
		return;
	for (c = 0; c < t->ncols; c++)
		w[c] = strlen(t->cols[c].name);
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			char *s = t->cells[(size_t)r * t->ncols + c];
			int len = s ? strlen(s) : 1;

			if (len > w[c])
				w[c] = len;
		}
	}
	for (r = -1; r < t->nrows; r++) {
		printf("%*s", ind, "");
		for (c = 0; c < t->ncols; c++) {
			const char *s = r < 0 ? t->cols[c].name :
				t->cells[(size_t)r * t->ncols + c];
			bool last = c == t->ncols - 1;

			if (!s)
				s = "-";
			if (t->cols[c].align == TABLE_LEFT)
				printf("%-*s", last ? 0 : w[c], s);
			else
				printf("%*s", w[c], s);
			if (!last)
				fputs("  ", stdout);
		}
		putchar('\n');
	}
	free(w);
}

void table_end(struct table *t)
{
	size_t i;

	if (!t)
		return;
	if (json_wtr) {
		if (t->nrows)
			jsonw_end_object(json_wtr);
		jsonw_end_array(json_wtr);
	} else {
		table_print(t);
		for (i = 0; i < (size_t)t->nrows * t->ncols; i++)
			free(t->cells[i]);
		free(t->cells);
	}
	free(t);
}
