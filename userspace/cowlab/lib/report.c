// SPDX-License-Identifier: GPL-2.0
/*
 * The report API: one set of calls, two renderings. Text goes to stdout as
 * headings, aligned "label value" lines and aligned tables; with -j the
 * same calls write members of the one JSON document main() opened.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cowlab.h"
#include "lib/json_writer.h"
#include "lib/report.h"
#include "lib/views.h"

#define LABEL_WIDTH	34

static int indent;		/* text: current indentation, in steps */
static char **notes;		/* JSON: the notes, written at the end */
static int nnotes;

const char *fmt_size(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", bytes);
		return buf;
	}
	while (v >= 1024 && u < (int)ARRAY_SIZE(units) - 1) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

const char *fmt_ns(char *buf, size_t len, double ns)
{
	if (ns != ns)
		snprintf(buf, len, "-");
	else if (ns < 1e3)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.3f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.3f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.3f s", ns / 1e9);
	return buf;
}

/* Text: one "label value unit" line at the current indentation. */
static void text_line(const char *key, const char *label, const char *value,
		      const char *unit)
{
	int pad = LABEL_WIDTH - 2 * indent;

	printf("%*s%-*s %s%s%s\n", 2 * indent, "", pad > 0 ? pad : 0,
	       label ? label : key, value, unit && *unit ? " " : "",
	       unit ? unit : "");
}

static void text_heading(const char *title)
{
	printf("%*s%s\n", 2 * indent, "", title);
}

/*
 * Text indentation: titled sections, arrays and items indent what they
 * hold by one step; untitled ones do not, so the stack remembers which.
 */
static unsigned char pushed[64];
static int level;

static void text_push(const char *title)
{
	bool titled = !!title;

	if (titled)
		text_heading(title);
	if (level < (int)sizeof(pushed))
		pushed[level] = titled;
	level++;
	indent += titled;
}

static void text_pop(void)
{
	if (level == 0)
		return;
	level--;
	if (level < (int)sizeof(pushed))
		indent -= pushed[level];
}

void report_section(const char *key, const char *title)
{
	if (json_wtr) {
		jsonw_name(json_wtr, key);
		jsonw_start_object(json_wtr);
		return;
	}
	text_push(title);
}

void report_section_end(void)
{
	if (json_wtr)
		jsonw_end_object(json_wtr);
	else
		text_pop();
}

void report_array(const char *key, const char *title)
{
	if (json_wtr) {
		jsonw_name(json_wtr, key);
		jsonw_start_array(json_wtr);
		return;
	}
	text_push(title);
}

void report_array_end(void)
{
	if (json_wtr)
		jsonw_end_array(json_wtr);
	else
		text_pop();
}

void report_item(const char *title)
{
	if (json_wtr) {
		jsonw_start_object(json_wtr);
		return;
	}
	text_push(title);
}

void report_item_end(void)
{
	report_section_end();
}

void report_str(const char *key, const char *label, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (json_wtr) {
		jsonw_string_field(json_wtr, key, buf);
		return;
	}
	text_line(key, label, buf, NULL);
}

static void text_value(const char *key, const char *label, const char *value,
		       const char *unit)
{
	text_line(key, label, value, unit);
}

void report_uint(const char *key, const char *label, uint64_t v,
		 const char *unit)
{
	char buf[32];

	if (json_wtr) {
		jsonw_uint_field(json_wtr, key, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	text_value(key, label, buf, unit);
}

void report_int(const char *key, const char *label, int64_t v,
		const char *unit)
{
	char buf[32];

	if (json_wtr) {
		jsonw_int_field(json_wtr, key, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	text_value(key, label, buf, unit);
}

void report_float(const char *key, const char *label, double v,
		  const char *unit)
{
	char buf[32];

	if (json_wtr) {
		jsonw_float_field(json_wtr, key, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%.2f", v);
	text_value(key, label, buf, unit);
}

void report_bool(const char *key, const char *label, bool v)
{
	if (json_wtr) {
		jsonw_bool_field(json_wtr, key, v);
		return;
	}
	text_value(key, label, v ? "yes" : "no", NULL);
}

void report_size(const char *key, const char *label, uint64_t bytes)
{
	char buf[32], all[64];

	if (json_wtr) {
		jsonw_uint_field(json_wtr, key, bytes);
		return;
	}
	fmt_size(buf, sizeof(buf), bytes);
	if (bytes >= 1024)
		snprintf(all, sizeof(all), "%s (%" PRIu64 ")", buf, bytes);
	else
		snprintf(all, sizeof(all), "%s", buf);
	text_value(key, label, all, NULL);
}

void report_ns(const char *key, const char *label, double ns)
{
	char buf[32];

	if (json_wtr) {
		jsonw_float_field(json_wtr, key, ns);
		return;
	}
	text_value(key, label, fmt_ns(buf, sizeof(buf), ns), NULL);
}

void report_unknown(const char *key, const char *label, const char *why)
{
	char buf[256];

	if (json_wtr) {
		jsonw_null_field(json_wtr, key);
		return;
	}
	snprintf(buf, sizeof(buf), "-%s%s%s", why ? " (" : "", why ? why : "",
		 why ? ")" : "");
	text_value(key, label, buf, NULL);
}

/* Text for people: words wrapped at 78 columns, indented by ind. */
static void print_wrapped(const char *s, int ind)
{
	int col = 0;

	while (*s) {
		size_t len = strcspn(s, " ");

		if (col && col + 1 + (int)len > 78) {
			putchar('\n');
			col = 0;
		}
		if (!col)
			col = printf("%*s", ind, "");
		else
			col += printf(" ");
		col += printf("%.*s", (int)len, s);
		s += len;
		while (*s == ' ')
			s++;
	}
	putchar('\n');
}

void report_note(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	char **n;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!json_wtr) {
		if (!env.quiet)
			print_wrapped(buf, 2 * indent);
		return;
	}
	n = realloc(notes, (nnotes + 1) * sizeof(*n));
	if (!n)
		return;
	notes = n;
	notes[nnotes] = strdup(buf);
	if (notes[nnotes])
		nnotes++;
}

void report_finish(int status)
{
	const char *err = cowlab_error();
	int i;

	if (!json_wtr || !cowlab_is_owner())
		return;
	/* an error may leave sections open: back to the document's level */
	jsonw_close_to(json_wtr, 1);
	jsonw_name(json_wtr, "command");
	if (env.command)
		jsonw_string(json_wtr, env.command);
	else
		jsonw_null(json_wtr);
	ct_report_json();
	jsonw_name(json_wtr, "notes");
	jsonw_start_array(json_wtr);
	for (i = 0; i < nnotes; i++) {
		jsonw_string(json_wtr, notes[i]);
		free(notes[i]);
	}
	jsonw_end_array(json_wtr);
	free(notes);
	notes = NULL;
	nnotes = 0;
	if (err)
		jsonw_string_field(json_wtr, "error", err);
	else
		jsonw_null_field(json_wtr, "error");
	jsonw_int_field(json_wtr, "exit_status", status);
	jsonw_destroy(&json_wtr);
}

/* Text: what prints its own lines (a table) indents them this far. */
int report_text_indent(void)
{
	return 2 * indent;
}
