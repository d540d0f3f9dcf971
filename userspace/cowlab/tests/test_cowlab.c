// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab's shared layer, on the host: parsing, formatting, the JSON writer,
 * the report API in both renderings, statistics, and the parsers of the
 * module's views and of /proc files (kselftest harness, KTAP output).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "engine/copies.h"
#include "lib/cowlab.h"
#include "lib/json_writer.h"
#include "lib/measure.h"
#include "lib/memstat.h"
#include "lib/pagetable.h"
#include "lib/parse.h"
#include "lib/report.h"
#include "lib/table.h"
#include "lib/views.h"

/* ------------------------------------------------------------ parsing */

TEST(size_valid)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0", 0 }, { "4096", 4096 }, { "4K", 4096 }, { "4k", 4096 },
		{ "4KB", 4096 }, { "4KiB", 4096 }, { "256M", 256ULL << 20 },
		{ "1G", 1ULL << 30 }, { "4GiB", 4ULL << 30 },
		{ "1t", 1ULL << 40 }, { "7b", 7 },
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		v = 12345;
		ASSERT_EQ(0, parse_size(ok[i].s, &v)) TH_LOG("%s", ok[i].s);
		ASSERT_EQ(ok[i].v, v) TH_LOG("%s", ok[i].s);
	}
}

TEST(size_invalid)
{
	static const char *const bad[] = {
		"12Q", "-1", "", " 4K", "4K ", "K", "1.5G", "+4", "4 K",
		"0x10", "4KK", "-4K",
	};
	uint64_t v = 77;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ASSERT_EQ(-EINVAL, parse_size(bad[i], &v)) TH_LOG("#%zu", i);
	ASSERT_EQ(-EINVAL, parse_size(NULL, &v));
	ASSERT_EQ(77, v);
}

TEST(size_overflow)
{
	uint64_t v = 77;

	ASSERT_EQ(-ERANGE, parse_size("16777216T", &v));
	ASSERT_EQ(-ERANGE, parse_size("99999999999999999999", &v));
	ASSERT_EQ(-ERANGE, parse_size("17179869184G", &v));
	ASSERT_EQ(0, parse_size("16777215T", &v));
	ASSERT_EQ(16777215ULL << 40, v);
}

TEST(percent)
{
	double v;

	ASSERT_EQ(0, parse_percent("50%", &v));
	ASSERT_EQ(50, v);
	ASSERT_EQ(0, parse_percent("50", &v));
	ASSERT_EQ(50, v);
	ASSERT_EQ(0, parse_percent("12.5%", &v));
	ASSERT_EQ(12.5, v);
	ASSERT_EQ(0, parse_percent("0", &v));
	ASSERT_EQ(0, v);
	ASSERT_EQ(0, parse_percent("100%", &v));
	ASSERT_EQ(100, v);
	ASSERT_EQ(-ERANGE, parse_percent("101", &v));
	ASSERT_EQ(-ERANGE, parse_percent("-5", &v));
	ASSERT_EQ(-EINVAL, parse_percent("abc", &v));
	ASSERT_EQ(-EINVAL, parse_percent("50%%", &v));
	ASSERT_EQ(-EINVAL, parse_percent("nan", &v));
	ASSERT_EQ(-EINVAL, parse_percent("inf", &v));
	ASSERT_EQ(-EINVAL, parse_percent("", &v));
}

TEST(count)
{
	long v;

	ASSERT_EQ(0, parse_count("3", 1, 10, &v));
	ASSERT_EQ(3, v);
	ASSERT_EQ(0, parse_count("10", 1, 10, &v));
	ASSERT_EQ(-ERANGE, parse_count("0", 1, 10, &v));
	ASSERT_EQ(-ERANGE, parse_count("11", 1, 10, &v));
	ASSERT_EQ(-ERANGE, parse_count("-3", 1, 10, &v));
	ASSERT_EQ(-EINVAL, parse_count("3x", 1, 10, &v));
	ASSERT_EQ(-EINVAL, parse_count("", 1, 10, &v));
	ASSERT_EQ(-EINVAL, parse_count(" 3", 1, 10, &v));
	ASSERT_EQ(-ERANGE, parse_count("99999999999999999999", 1, 10, &v));
	ASSERT_EQ(10, v);
}

TEST(seconds)
{
	double v;

	ASSERT_EQ(0, parse_seconds("0.5", &v));
	ASSERT_EQ(0.5, v);
	ASSERT_EQ(0, parse_seconds("2", &v));
	ASSERT_EQ(-ERANGE, parse_seconds("0", &v));
	ASSERT_EQ(-ERANGE, parse_seconds("-1", &v));
	ASSERT_EQ(-EINVAL, parse_seconds("2s", &v));
}

TEST(list)
{
	static const char *const names[] = { "vm", "files", "fs", "sighand",
					     "thread" };
	unsigned long m = 0;
	size_t bad = 0;

	ASSERT_EQ(0, parse_list("vm,files", names, 5, &m, &bad));
	ASSERT_EQ(3, m);
	ASSERT_EQ(0, parse_list("thread,vm,sig", names, 5, &m, &bad));
	ASSERT_EQ(1 | 8 | 16, m);
	/* "f" is files or fs; "fs" is exact even though "f..." is not */
	ASSERT_EQ(-EINVAL, parse_list("vm,f", names, 5, &m, &bad));
	ASSERT_EQ(3, bad);
	ASSERT_EQ(0, parse_list("fs", names, 5, &m, &bad));
	ASSERT_EQ(4, m);
	ASSERT_EQ(-EINVAL, parse_list("vm,,fs", names, 5, &m, &bad));
	ASSERT_EQ(3, bad);
	ASSERT_EQ(-EINVAL, parse_list("bogus", names, 5, &m, &bad));
	ASSERT_EQ(0, bad);
	ASSERT_EQ(-EINVAL, parse_list("vm,", names, 5, &m, &bad));
}

TEST(opt_helpers_say_usage)
{
	uint64_t sz;
	double pct;
	long n;

	ASSERT_EQ(EXIT_USAGE, opt_size("--size", "12Q", &sz));
	ASSERT_EQ(EXIT_USAGE, opt_percent("--write", "150%", &pct));
	ASSERT_EQ(EXIT_USAGE, opt_count("--children", "-2", 1, 5, &n));
	ASSERT_EQ(0, opt_size("--size", "4M", &sz));
	ASSERT_EQ(4 << 20, sz);
}

/* ----------------------------------------------------------- dispatch */

static int called;

static int cmd_one(int argc, char **argv)
{
	called = 1;
	return argc;
}

static int cmd_other(int argc, char **argv)
{
	called = 2;
	return argc;
}

static int cmd_help(int argc, char **argv)
{
	called = 3;
	return 0;
}

static const struct cmd test_cmds[] = {
	{ "show", cmd_one },
	{ "shape", cmd_other },
	{ "run", cmd_other },
	{ NULL, NULL }
};

/* argv[] out of words in buf (modified); argc. */
static int split_args(char *buf, char **argv)
{
	char *save = NULL, *w;
	int n = 0;

	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	return n;
}

TEST(dispatch)
{
	char b1[] = "show x", b2[] = "r", b3[] = "sh", b4[] = "frob";
	char b5[] = "--size 4M", b6[] = "-h";
	char *show[4], *r[4], *sh[4], *bad[4], *opt[4], *help[4];

	split_args(b1, show);
	split_args(b2, r);
	split_args(b3, sh);
	split_args(b4, bad);
	split_args(b5, opt);
	split_args(b6, help);

	env.object = "test";
	ASSERT_TRUE(is_prefix("fo", "fork"));
	ASSERT_FALSE(is_prefix("", "fork"));
	ASSERT_FALSE(is_prefix("forks", "fork"));
	ASSERT_EQ(1, cmd_select(test_cmds, 2, show, cmd_help, false));
	ASSERT_EQ(1, called);
	ASSERT_STREQ("show", env.command);
	ASSERT_EQ(0, cmd_select(test_cmds, 1, r, cmd_help, false));
	ASSERT_EQ(2, called);
	/* "sh" is show or shape */
	called = 0;
	ASSERT_EQ(EXIT_USAGE, cmd_select(test_cmds, 1, sh, cmd_help, false));
	ASSERT_EQ(0, called);
	ASSERT_EQ(EXIT_USAGE, cmd_select(test_cmds, 1, bad, cmd_help, false));
	/* options first: the default command gets them all */
	ASSERT_EQ(2, cmd_select(test_cmds, 2, opt, cmd_help, true));
	ASSERT_EQ(1, called);
	ASSERT_EQ(0, cmd_select(test_cmds, 1, help, cmd_help, true));
	ASSERT_EQ(3, called);
	ASSERT_EQ(0, cmd_select(test_cmds, 0, NULL, cmd_help, false));
	ASSERT_EQ(3, called);
	ASSERT_TRUE(wants_help(2, opt) == false);
	ASSERT_EQ(EXIT_USAGE, no_more_args(1, bad));
	ASSERT_EQ(0, no_more_args(0, bad));
}

/* --------------------------------------------------------- formatting */

TEST(fmt)
{
	char b[32];

	ASSERT_STREQ("0 B", fmt_size(b, sizeof(b), 0));
	ASSERT_STREQ("1023 B", fmt_size(b, sizeof(b), 1023));
	ASSERT_STREQ("4.0 KiB", fmt_size(b, sizeof(b), 4096));
	ASSERT_STREQ("256.0 MiB", fmt_size(b, sizeof(b), 256ULL << 20));
	ASSERT_STREQ("1.5 GiB", fmt_size(b, sizeof(b), 3ULL << 29));
	ASSERT_STREQ("850 ns", fmt_ns(b, sizeof(b), 850));
	ASSERT_STREQ("1.234 us", fmt_ns(b, sizeof(b), 1234));
	ASSERT_STREQ("12.300 ms", fmt_ns(b, sizeof(b), 12.3e6));
	ASSERT_STREQ("2.500 s", fmt_ns(b, sizeof(b), 2.5e9));
}

TEST(summary)
{
	double v[] = { 5, 1, 3, 2, 4 };
	struct summary s;

	ASSERT_EQ(0, summarize(v, 5, &s));
	ASSERT_EQ(5, s.n);
	ASSERT_EQ(1, s.min);
	ASSERT_EQ(5, s.max);
	ASSERT_EQ(3, s.median);
	ASSERT_EQ(3, s.mean);
	ASSERT_EQ(2, s.q1);
	ASSERT_EQ(4, s.q3);
	ASSERT_TRUE(s.p10 > 1.39 && s.p10 < 1.41);
	ASSERT_TRUE(s.p90 > 4.59 && s.p90 < 4.61);
	/* the input is not reordered */
	ASSERT_EQ(5, v[0]);
	ASSERT_EQ(-EINVAL, summarize(v, 0, &s));
}

/* -------------------------------------------------------------- JSON */

/* A writer into memory; the text once destroyed. */
struct memjson {
	char *buf;
	size_t len;
	FILE *f;
};

static struct json_writer *mem_writer(struct memjson *m)
{
	m->f = open_memstream(&m->buf, &m->len);
	return jsonw_new(m->f);
}

static void mem_end(struct memjson *m, struct json_writer **w)
{
	jsonw_destroy(w);
	fclose(m->f);
}

TEST(json_types)
{
	struct memjson m;
	struct json_writer *w = mem_writer(&m);

	jsonw_start_object(w);
	jsonw_string_field(w, "s", "a\"b\\c\nd\te\x01");
	jsonw_uint_field(w, "u", 18446744073709551615ULL);
	jsonw_int_field(w, "i", -42);
	jsonw_float_field(w, "f", 0.5);
	jsonw_float_field(w, "nan", 0.0 / 0.0);
	jsonw_bool_field(w, "t", true);
	jsonw_null_field(w, "n");
	jsonw_name(w, "a");
	jsonw_start_array(w);
	jsonw_int(w, 1);
	jsonw_start_object(w);
	jsonw_end_object(w);
	jsonw_start_array(w);
	jsonw_end_array(w);
	jsonw_end_array(w);
	jsonw_end_object(w);
	mem_end(&m, &w);
	ASSERT_STREQ("{\"s\":\"a\\\"b\\\\c\\nd\\te\\u0001\","
		     "\"u\":18446744073709551615,\"i\":-42,\"f\":0.5,"
		     "\"nan\":null,\"t\":true,\"n\":null,\"a\":[1,{},[]]}\n",
		     m.buf);
	free(m.buf);
}

TEST(json_close_to)
{
	struct memjson m;
	struct json_writer *w = mem_writer(&m);

	jsonw_start_object(w);
	jsonw_name(w, "x");
	jsonw_start_array(w);
	jsonw_start_object(w);
	jsonw_name(w, "dangling");
	ASSERT_EQ(3, jsonw_depth(w));
	jsonw_close_to(w, 1);
	ASSERT_EQ(1, jsonw_depth(w));
	jsonw_string_field(w, "error", "e");
	mem_end(&m, &w);
	ASSERT_STREQ("{\"x\":[{\"dangling\":null}],\"error\":\"e\"}\n", m.buf);
	free(m.buf);
}

TEST(json_pretty)
{
	struct memjson m;
	struct json_writer *w = mem_writer(&m);

	jsonw_pretty(w, true);
	jsonw_start_object(w);
	jsonw_int_field(w, "a", 1);
	jsonw_name(w, "b");
	jsonw_start_array(w);
	jsonw_int(w, 2);
	jsonw_end_array(w);
	jsonw_end_object(w);
	mem_end(&m, &w);
	ASSERT_STREQ("{\n    \"a\": 1,\n    \"b\": [\n        2\n    ]\n}\n",
		     m.buf);
	free(m.buf);
}

/* ------------------------------------------------------------ report */

static const struct table_col cols[] = {
	{ "name", TABLE_LEFT }, { "n", TABLE_RIGHT }, { "size", TABLE_RIGHT },
	{ "x", TABLE_RIGHT },
};

static void sample_report(void)
{
	struct table *t;

	report_section("setup", "Setup");
	report_uint("pages", "pages", 512, NULL);
	report_size("size", "size", 2 << 20);
	report_section_end();
	t = table_start("rows", cols, ARRAY_SIZE(cols));
	table_row(t);
	table_str(t, "alpha");
	table_uint(t, 7);
	table_size(t, 4096);
	table_null(t);
	table_row(t);
	table_str(t, "b");
	table_int(t, -12345);
	table_size(t, 1);
	table_bool(t, true, "yes", "no");
	/* not known: why in text (or "-"), null in JSON */
	table_row(t);
	table_str(t, "c");
	table_unknown(t, NULL);
	table_size(t, 0);
	table_unknown(t, "no row");
	table_end(t);
}

TEST(report_json)
{
	struct memjson m;

	json_wtr = mem_writer(&m);
	jsonw_start_object(json_wtr);
	sample_report();
	jsonw_end_object(json_wtr);
	mem_end(&m, &json_wtr);
	ASSERT_STREQ("{\"setup\":{\"pages\":512,\"size\":2097152},"
		     "\"rows\":[{\"name\":\"alpha\",\"n\":7,\"size\":4096,\"x\":null},"
		     "{\"name\":\"b\",\"n\":-12345,\"size\":1,\"x\":true},"
		     "{\"name\":\"c\",\"n\":null,\"size\":0,\"x\":null}]}\n",
		     m.buf);
	free(m.buf);
}

/* Run fn with stdout into memory; the text. */
static char *capture_stdout(void (*fn)(void))
{
	int fd = memfd_create("out", 0), saved = dup(STDOUT_FILENO);
	char *buf = calloc(1, 65536);

	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	fn();
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	if (pread(fd, buf, 65535, 0) < 0)
		buf[0] = '\0';
	close(fd);
	return buf;
}

TEST(report_text)
{
	char *out = capture_stdout(sample_report);

	ASSERT_STREQ("Setup\n"
		     "  pages                            512\n"
		     "  size                             2.0 MiB (2097152)\n"
		     "name        n     size       x\n"
		     "alpha       7  4.0 KiB       -\n"
		     "b      -12345      1 B     yes\n"
		     "c           -      0 B  no row\n", out);
	free(out);
}

static void long_note(void)
{
	report_note("%s", "one two three four five six seven eight nine ten "
		    "eleven twelve thirteen fourteen fifteen sixteen seventeen "
		    "eighteen nineteen twenty");
}

TEST(note_wraps)
{
	char *out = capture_stdout(long_note);

	ASSERT_STREQ("one two three four five six seven eight nine ten eleven twelve thirteen\n"
		     "fourteen fifteen sixteen seventeen eighteen nineteen twenty\n", out);
	free(out);
}

TEST(report_finish_error)
{
	struct memjson m;

	cowlab_signals_init();
	json_wtr = mem_writer(&m);
	jsonw_start_object(json_wtr);
	env.command = "run";
	report_section("open", NULL);
	report_note("a note");
	p_err("--size: '%s' is not a size", "12Q");
	p_err("second");
	report_finish(EXIT_USAGE);
	fclose(m.f);
	ASSERT_STREQ("{\"open\":{},\"command\":\"run\",\"notes\":[\"a note\"],"
		     "\"error\":\"--size: '12Q' is not a size\","
		     "\"exit_status\":2}\n", m.buf);
	free(m.buf);
}

/* ------------------------------------------------------ module views */

static const char tasks_text[] =
	"pid tgid comm state faults cow_copy cow_reuse\n"
	"10 10 a alive 5 1 2\n"
	"11 10 my\\040prog\\134x alive 7 - 0\n"
	"12 12 old exited 9 3 1\n"
	"12 12 new alive 1 0 0\n";

TEST(ct_parse)
{
	struct ct_table t;
	const struct ct_row *r;

	ASSERT_EQ(0, ct_parse_table(tasks_text, &t));
	ASSERT_EQ(7, t.ncols);
	ASSERT_EQ(4, t.nrows);
	ASSERT_EQ(5, ct_col(&t, "cow_copy"));
	ASSERT_EQ(-1, ct_col(&t, "nope"));
	r = ct_find(&t, 11);
	ASSERT_NE(NULL, r);
	ASSERT_STREQ("my prog\\x", r->comm);
	ASSERT_EQ(10, r->tgid);
	ASSERT_EQ(-1, ct_get(&t, 11, "cow_copy"));
	ASSERT_EQ(7, ct_get(&t, 11, "faults"));
	/* a reused pid: the live row wins */
	r = ct_find(&t, 12);
	ASSERT_STREQ("new", r->comm);
	ASSERT_TRUE(r->alive);
	ASSERT_EQ(-1, ct_get(&t, 99, "faults"));
	ct_table_free(&t);
}

TEST(ct_parse_rejects)
{
	struct ct_table t;

	ASSERT_EQ(-EINVAL, ct_parse_table("", &t));
	ASSERT_EQ(-EINVAL, ct_parse_table("tid tgid comm state faults\n", &t));
	ASSERT_EQ(-EINVAL, ct_parse_table("pid tgid comm state faults\n"
					  "1 1 a alive\n", &t));
	ASSERT_EQ(0, ct_parse_table("pid tgid comm state faults\n", &t));
	ASSERT_EQ(0, t.nrows);
	ct_table_free(&t);
}

TEST(ct_deltas)
{
	struct ct_table a, b;

	ASSERT_EQ(0, ct_parse_table("pid tgid comm state faults\n"
				    "1 1 p alive 10\n", &a));
	ASSERT_EQ(0, ct_parse_table("pid tgid comm state faults\n"
				    "1 1 p alive 25\n"
				    "2 1 c exited 4\n", &b));
	ASSERT_EQ(15, ct_delta(&a, &b, 1, "faults"));
	/* no row before: the task is new, its row counts from zero */
	ASSERT_EQ(4, ct_delta(&a, &b, 2, "faults"));
	/* no row after: evicted or not tracked */
	ASSERT_EQ(-1, ct_delta(&b, &a, 2, "faults"));
	ASSERT_EQ(-1, ct_delta(&a, &b, 1, "nope"));
	ct_table_free(&a);
	ct_table_free(&b);
}

/* ---------------------------------------------------------------- /proc */

TEST(rollup)
{
	static const char text[] =
		"55d0-7ffe ---p 00000000 00:00 0    [rollup]\n"
		"Rss:                1784 kB\n"
		"Pss:                 249 kB\n"
		"Pss_Dirty:           112 kB\n"
		"Shared_Clean:       1672 kB\n"
		"Shared_Dirty:          0 kB\n"
		"Private_Clean:         8 kB\n"
		"Private_Dirty:       112 kB\n"
		"Anonymous:           112 kB\n"
		"Swap:                  4 kB\n";
	struct mem_usage m;

	ASSERT_EQ(0, mem_parse_rollup(text, &m));
	ASSERT_EQ(1784 * 1024, m.rss);
	ASSERT_EQ(249 * 1024, m.pss);
	ASSERT_EQ(120 * 1024, m.uss);
	ASSERT_EQ(1672 * 1024, m.shared);
	ASSERT_EQ(112 * 1024, m.anon);
	ASSERT_EQ(4 * 1024, m.swap);
	ASSERT_EQ(-EINVAL, mem_parse_rollup("Pss: 1 kB\n", &m));
}

TEST(stat_faults)
{
	static const char line[] =
		"123 (a) b) c) R 1 2 3 4 -1 4194304 77 5 99 6 0 0\n";
	struct proc_faults f;

	ASSERT_EQ(0, proc_parse_stat_faults(line, &f));
	ASSERT_EQ(77, f.minflt);
	ASSERT_EQ(99, f.majflt);
	ASSERT_EQ(-EINVAL, proc_parse_stat_faults("123 (a R 1 2", &f));
	ASSERT_EQ(-EINVAL, proc_parse_stat_faults("1 (a) R 1 2\n", &f));
}

TEST(self_memory)
{
	struct mem_usage m;
	struct proc_faults f;
	struct sys_mem s;

	ASSERT_EQ(0, mem_usage(getpid(), &m));
	ASSERT_TRUE(m.rss > 0 && m.pss <= m.rss && m.uss <= m.pss);
	ASSERT_EQ(0, proc_faults(getpid(), 0, &f));
	ASSERT_TRUE(f.minflt > 0);
	ASSERT_EQ(0, proc_faults(getpid(), getpid(), &f));
	ASSERT_EQ(0, sys_mem(&s));
	ASSERT_TRUE(s.total > 0 && s.used <= s.total);
}

TEST(mem_total_overflow)
{
	/* totals past 2^64 are refused, not wrapped around into ones that fit */
	ASSERT_EQ(EXIT_USAGE, mem_check_fits_n("t", UINT64_MAX, 1, 1));
	ASSERT_EQ(EXIT_USAGE, mem_check_fits_n("t", 0, 1ULL << 62, 4));
	ASSERT_EQ(EXIT_USAGE, mem_check_fits_n("t", 1ULL << 63, 1, 1ULL << 63));
	ASSERT_EQ(EXIT_USAGE, mem_check_fits_n("t", 0, UINT64_MAX, UINT64_MAX));
	ASSERT_EQ(0, mem_check_fits_n("t", 4096, 2, 4096));
	ASSERT_EQ(0, mem_check_fits_n("t", 0, UINT64_MAX, 0));
}

/* The pages view as the module prints it: a header, then one row a page. */
static const char pages_text[] =
	"vaddr entry level pfn write dirty young special soft_dirty uffd_wp page order exclusive mapcount refcount swap\n"
	"0x7f0000000000 present pte 0x1a2b3 0 1 1 0 1 0 anon 0 0 2 3 -\n"
	"0x7f0000001000 none - - - - - - - - - - - - - -\n"
	"0x7f0000002000 swap pte - - - - - 0 0 - - - - - 1:0x2a\n"
	"0x7f0000003000 present pte 0x9 0 0 1 1 0 0 zero - - - - -\n";

TEST(pages_parse)
{
	struct pt_page rows[4];
	char text[sizeof(pages_text)];

	memcpy(text, pages_text, sizeof(text));
	ASSERT_EQ(0, pt_parse_view(text, 4, rows));
	EXPECT_EQ(0x7f0000000000ULL, rows[0].vaddr);
	EXPECT_STREQ("present", rows[0].entry);
	EXPECT_STREQ("pte", rows[0].level);
	EXPECT_EQ(0x1a2b3, rows[0].pfn);
	EXPECT_EQ(0, rows[0].write);
	EXPECT_EQ(1, rows[0].dirty);
	EXPECT_EQ(1, rows[0].soft_dirty);
	EXPECT_STREQ("anon", rows[0].page);
	EXPECT_EQ(0, rows[0].exclusive);
	EXPECT_EQ(2, rows[0].mapcount);
	EXPECT_EQ(3, rows[0].refcount);
	EXPECT_STREQ("none", rows[1].entry);
	EXPECT_EQ(-1, rows[1].pfn);
	EXPECT_EQ(-1, rows[1].mapcount);
	EXPECT_STREQ("1:0x2a", rows[2].swap);
	EXPECT_STREQ("zero", rows[3].page);
	EXPECT_EQ(-1, rows[3].mapcount);
}

TEST(pages_parse_rejects)
{
	struct pt_page rows[4];
	char text[sizeof(pages_text)];

	/* one row more or less than asked, or no header */
	memcpy(text, pages_text, sizeof(text));
	EXPECT_EQ(-EPROTO, pt_parse_view(text, 3, rows));
	memcpy(text, pages_text, sizeof(text));
	EXPECT_EQ(-EPROTO, pt_parse_view(text, 5, rows));
	memcpy(text, pages_text, sizeof(text));
	EXPECT_EQ(-EPROTO, pt_parse_view(strchr(text, '\n') + 1, 4, rows));
	EXPECT_EQ(-EPROTO, pt_parse_row("0x1000 present pte 0x1", rows));
}

/* pagemap's entries: present with a pfn (root), present without, swapped. */
TEST(pages_pagemap)
{
	struct pt_page p;

	memset(&p, 0, sizeof(p));
	snprintf(p.entry, sizeof(p.entry), "none");
	p.pfn = -1;
	pt_decode_pagemap((1ULL << 63) | (1ULL << 55) | 0x1234, &p);
	EXPECT_STREQ("present", p.entry);
	EXPECT_EQ(0x1234, p.pfn);
	EXPECT_EQ(1, p.soft_dirty);

	snprintf(p.entry, sizeof(p.entry), "none");
	p.pfn = -1;
	pt_decode_pagemap(1ULL << 63, &p);
	EXPECT_STREQ("present", p.entry);
	EXPECT_EQ(-1, p.pfn);		/* not root: the pfn reads as 0 */
	EXPECT_EQ(0, p.soft_dirty);

	snprintf(p.entry, sizeof(p.entry), "none");
	pt_decode_pagemap((1ULL << 62) | (0x2aULL << 5) | 3, &p);
	EXPECT_STREQ("swap", p.entry);
	EXPECT_STREQ("3:0x2a", p.swap);

	/* no mapping there: pagemap's zero says nothing more */
	snprintf(p.entry, sizeof(p.entry), "unmapped");
	pt_decode_pagemap(0, &p);
	EXPECT_STREQ("unmapped", p.entry);
}

TEST(pages_kpageflags)
{
	struct pt_page p = { .mapcount = 5 };

	pt_decode_kpageflags(1ULL << 12, &p);
	EXPECT_STREQ("anon", p.page);
	pt_decode_kpageflags((1ULL << 12) | (1ULL << 21), &p);
	EXPECT_STREQ("ksm", p.page);
	pt_decode_kpageflags(0, &p);
	EXPECT_STREQ("file", p.page);
	EXPECT_EQ(5, p.mapcount);
	pt_decode_kpageflags(1ULL << 24, &p);
	EXPECT_STREQ("zero", p.page);
	EXPECT_EQ(-1, p.mapcount);
}

/* trace_pipe's lines: comm may hold spaces and dashes; other kinds skipped. */
TEST(copies_parse)
{
	struct copy_event e;

	ASSERT_EQ(0, copy_parse_line("   my-prog x-1234    [001] d..1.  45.678901: "
				     "fault: address=0x7f0000001000 "
				     "ip=0x55550000abcd kind=cow_copy write=1 "
				     "major=0 dev=0:0 ino=0 pgoff=0x7f0000001",
				     &e));
	EXPECT_EQ(1234, e.pid);
	EXPECT_EQ(0x7f0000001000ULL, e.address);
	EXPECT_EQ(0x55550000abcdULL, e.ip);
	EXPECT_EQ(COPY_COPY, e.kind);
	ASSERT_EQ(0, copy_parse_line("cowlab-7 [000] ..... 1.0: fault: "
				     "address=0x1000 ip=0x0 kind=cow_reuse "
				     "write=1 major=0 dev=0:0 ino=0 pgoff=0x1",
				     &e));
	EXPECT_EQ(7, e.pid);
	EXPECT_EQ(COPY_REUSE, e.kind);
	EXPECT_EQ(-ENOENT, copy_parse_line("a-1 [000] ..... 1.0: fault: "
					   "address=0x1000 ip=0x0 "
					   "kind=fault_anon write=1 major=0 "
					   "dev=0:0 ino=0 pgoff=0x1", &e));
	EXPECT_EQ(-EPROTO, copy_parse_line("# tracer: nop", &e));
	EXPECT_EQ(-EPROTO, copy_parse_line("a [000] ..... 1.0: fault: "
					   "address=0x1 ip=0x0 kind=cow_copy",
					   &e));
}

TEST_HARNESS_MAIN
