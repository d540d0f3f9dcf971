/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report API's tables (lib/table.c): the same calls print aligned
 * columns in text and write an array of objects with -j.
 */
#ifndef COWLAB_TABLE_H
#define COWLAB_TABLE_H

#include <stdbool.h>
#include <stdint.h>

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

#endif /* COWLAB_TABLE_H */
