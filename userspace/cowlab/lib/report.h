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

/* Text: what prints its own lines (a table) indents them this far. */
int report_text_indent(void);

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
