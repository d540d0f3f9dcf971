/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The JSON writer of lib/json_writer.c; the document's own writer,
 * json_wtr, is declared in cowlab.h.
 */
#ifndef COWLAB_JSON_WRITER_H
#define COWLAB_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

#endif /* COWLAB_JSON_WRITER_H */
