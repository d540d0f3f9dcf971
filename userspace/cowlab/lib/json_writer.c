// SPDX-License-Identifier: GPL-2.0
/*
 * A streaming JSON writer, after bpftool's json_writer: values are written
 * as they come, so a command never holds its output in memory; the writer
 * only remembers, per nesting level, whether a comma is due.
 */
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/cowlab.h"
#include "lib/json_writer.h"

#define JSONW_MAX_DEPTH	64

struct json_writer {
	FILE *out;
	int depth;
	bool pretty;
	/* per level: something was written, the next value needs a comma */
	bool sep[JSONW_MAX_DEPTH];
	/* per level: '}' or ']' */
	char close[JSONW_MAX_DEPTH];
	/* a name was just written: the value follows without a comma */
	bool after_name;
};

struct json_writer *json_wtr;

struct json_writer *jsonw_new(FILE *f)
{
	struct json_writer *self = calloc(1, sizeof(*self));

	if (self)
		self->out = f;
	return self;
}

void jsonw_destroy(struct json_writer **self)
{
	if (!*self)
		return;
	jsonw_close_to(*self, 0);
	fputc('\n', (*self)->out);
	fflush((*self)->out);
	free(*self);
	*self = NULL;
}

void jsonw_pretty(struct json_writer *self, bool on)
{
	self->pretty = on;
}

int jsonw_depth(const struct json_writer *self)
{
	return self->depth;
}

static void jsonw_indent(struct json_writer *self)
{
	int i;

	if (!self->pretty)
		return;
	fputc('\n', self->out);
	for (i = 0; i < self->depth; i++)
		fputs("    ", self->out);
}

/* Before any value or name: the comma and the indentation it needs. */
static void jsonw_eol(struct json_writer *self)
{
	if (self->after_name) {
		self->after_name = false;
		return;
	}
	if (self->depth > 0 && self->sep[self->depth])
		fputc(',', self->out);
	if (self->depth > 0)
		jsonw_indent(self);
	self->sep[self->depth] = true;
}

static void jsonw_puts(struct json_writer *self, const char *s)
{
	const unsigned char *p;

	fputc('"', self->out);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", self->out);
			break;
		case '\\':
			fputs("\\\\", self->out);
			break;
		case '\n':
			fputs("\\n", self->out);
			break;
		case '\t':
			fputs("\\t", self->out);
			break;
		case '\r':
			fputs("\\r", self->out);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(self->out, "\\u%04x", *p);
			else
				fputc(*p, self->out);
		}
	}
	fputc('"', self->out);
}

static void jsonw_open(struct json_writer *self, char open, char close)
{
	jsonw_eol(self);
	fputc(open, self->out);
	if (self->depth + 1 >= JSONW_MAX_DEPTH)
		abort();	/* a programming error, not an input one */
	self->depth++;
	self->sep[self->depth] = false;
	self->close[self->depth] = close;
}

static void jsonw_close(struct json_writer *self)
{
	bool had = self->sep[self->depth];
	char c = self->close[self->depth];

	if (self->depth == 0)
		return;
	/* a name with no value: give it one so the document stays valid */
	if (self->after_name) {
		fputs("null", self->out);
		self->after_name = false;
	}
	self->depth--;
	if (had)
		jsonw_indent(self);
	fputc(c, self->out);
}

void jsonw_start_object(struct json_writer *self)
{
	jsonw_open(self, '{', '}');
}

void jsonw_end_object(struct json_writer *self)
{
	jsonw_close(self);
}

void jsonw_start_array(struct json_writer *self)
{
	jsonw_open(self, '[', ']');
}

void jsonw_end_array(struct json_writer *self)
{
	jsonw_close(self);
}

void jsonw_close_to(struct json_writer *self, int depth)
{
	while (self->depth > depth)
		jsonw_close(self);
}

void jsonw_name(struct json_writer *self, const char *name)
{
	jsonw_eol(self);
	jsonw_puts(self, name);
	fputc(':', self->out);
	if (self->pretty)
		fputc(' ', self->out);
	self->after_name = true;
}

void jsonw_string(struct json_writer *self, const char *value)
{
	jsonw_eol(self);
	jsonw_puts(self, value ? value : "");
}

void jsonw_uint(struct json_writer *self, uint64_t value)
{
	jsonw_eol(self);
	fprintf(self->out, "%" PRIu64, value);
}

void jsonw_int(struct json_writer *self, int64_t value)
{
	jsonw_eol(self);
	fprintf(self->out, "%" PRId64, value);
}

void jsonw_float(struct json_writer *self, double value)
{
	jsonw_eol(self);
	if (isfinite(value))
		fprintf(self->out, "%.15g", value);
	else
		fputs("null", self->out);
}

void jsonw_bool(struct json_writer *self, bool value)
{
	jsonw_eol(self);
	fputs(value ? "true" : "false", self->out);
}

void jsonw_null(struct json_writer *self)
{
	jsonw_eol(self);
	fputs("null", self->out);
}

void jsonw_string_field(struct json_writer *self, const char *name,
			const char *value)
{
	jsonw_name(self, name);
	jsonw_string(self, value);
}

void jsonw_uint_field(struct json_writer *self, const char *name,
		      uint64_t value)
{
	jsonw_name(self, name);
	jsonw_uint(self, value);
}

void jsonw_int_field(struct json_writer *self, const char *name,
		     int64_t value)
{
	jsonw_name(self, name);
	jsonw_int(self, value);
}

void jsonw_float_field(struct json_writer *self, const char *name,
		       double value)
{
	jsonw_name(self, name);
	jsonw_float(self, value);
}

void jsonw_bool_field(struct json_writer *self, const char *name, bool value)
{
	jsonw_name(self, name);
	jsonw_bool(self, value);
}

void jsonw_null_field(struct json_writer *self, const char *name)
{
	jsonw_name(self, name);
	jsonw_null(self);
}
