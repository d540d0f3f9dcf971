/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report API of lib/report.c: what every command prints goes through
 * it, so that text and -j come out of the same calls.
 */
#ifndef COWLAB_REPORT_H
#define COWLAB_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * End the JSON document: close what is open, add "kernel_counters" (if
 * the module was looked for), "notes", "error" and "exit_status". Called
 * by main() only.
 */
void report_finish(int status);

#endif /* COWLAB_REPORT_H */
