// SPDX-License-Identifier: GPL-2.0
/*
 * cowlab pages PID ADDR [N]: a task's page tables, one row per virtual
 * page, from cowtrace.ko's pages view, or from /proc without it (fewer
 * columns, and the note says which and why).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cowlab.h"

#define PAGES_DEFAULT	16
#define PAGES_MAX	4096

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (json_wtr) {
		report_str("help", NULL, "cowlab pages PID ADDR [N]");
		return EXIT_OK;
	}
	printf("Usage: cowlab pages PID ADDR [N]\n"
	       "\n"
	       "The page tables of task PID: N pages (16 by default, at most\n"
	       "4096) from the page holding ADDR (0x... hex, or decimal), one\n"
	       "row per virtual page: whether an entry maps it (present, none,\n"
	       "swap, migration...; unmapped: no mapping there), at which level\n"
	       "(pte, or pmd for a huge page), the pfn, the entry's write, dirty\n"
	       "and young bits, and for the page: anonymous, file, zero or KSM,\n"
	       "its folio's order, whether it is anon-exclusive (only this\n"
	       "process may write it without a copy), its mapcount and refcount.\n"
	       "\n"
	       "With cowtrace.ko loaded (as root) every column is shown. Without\n"
	       "it, /proc/PID/pagemap shows present, swap and soft-dirty; as\n"
	       "root also the pfn, and /proc/kpagecount and /proc/kpageflags the\n"
	       "mapcount and the page's kind; the other columns are '-' (null in\n"
	       "JSON) and a note says why.\n"
	       "\n"
	       "Options:\n"
	       "  -h, --help   this help\n");
	return EXIT_OK;
}

static int parse_args(int argc, char **argv, pid_t *pid, uint64_t *addr,
		      long *n)
{
	unsigned long long a;
	long p;
	char *end;

	if (argc < 2 || argc > 3) {
		p_err("pages: expected PID ADDR [N] (see 'cowlab pages help')");
		return EXIT_USAGE;
	}
	if (parse_count(argv[0], 1, 4194304, &p)) {
		p_err("pages: PID '%s' is not a process id", argv[0]);
		return EXIT_USAGE;
	}
	errno = 0;
	a = strtoull(argv[1], &end, 0);
	if (errno || end == argv[1] || *end || argv[1][0] == '-') {
		p_err("pages: ADDR '%s' is not an address (0x... or decimal)",
		      argv[1]);
		return EXIT_USAGE;
	}
	*n = PAGES_DEFAULT;
	if (argc == 3 && parse_count(argv[2], 1, PAGES_MAX, n)) {
		p_err("pages: N '%s' is not a count from 1 to %d", argv[2],
		      PAGES_MAX);
		return EXIT_USAGE;
	}
	*pid = p;
	*addr = a & ~((uint64_t)sysconf(_SC_PAGESIZE) - 1);
	return 0;
}

static const struct table_col cols[] = {
	{ "vaddr", TABLE_LEFT }, { "entry", TABLE_LEFT },
	{ "level", TABLE_LEFT }, { "pfn", TABLE_RIGHT },
	{ "write", TABLE_RIGHT }, { "dirty", TABLE_RIGHT },
	{ "young", TABLE_RIGHT }, { "soft_dirty", TABLE_RIGHT },
	{ "page", TABLE_LEFT }, { "order", TABLE_RIGHT },
	{ "exclusive", TABLE_RIGHT }, { "mapcount", TABLE_RIGHT },
	{ "refcount", TABLE_RIGHT }, { "swap", TABLE_LEFT },
};

/* Hex in the terminal, a number in JSON. */
static void table_hex(struct table *t, int64_t v)
{
	char buf[24];

	if (v < 0) {
		table_null(t);
	} else if (json_wtr) {
		table_uint(t, v);
	} else {
		snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
		table_str(t, buf);
	}
}

/* An address: hex text everywhere (past 2^53 a JSON number is not exact). */
static void table_addr(struct table *t, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	table_str(t, buf);
}

static void table_opt_str(struct table *t, const char *s)
{
	if (strcmp(s, "-"))
		table_str(t, s);
	else
		table_null(t);
}

void pages_table(const char *key, const struct pt_page *rows, size_t n)
{
	struct table *t = table_start(key, cols, ARRAY_SIZE(cols));
	size_t i;

	for (i = 0; i < n; i++) {
		const struct pt_page *p = &rows[i];

		table_row(t);
		table_addr(t, p->vaddr);
		table_str(t, p->entry);
		table_opt_str(t, p->level);
		table_hex(t, p->pfn);
		table_opt_int(t, p->write);
		table_opt_int(t, p->dirty);
		table_opt_int(t, p->young);
		table_opt_int(t, p->soft_dirty);
		table_opt_str(t, p->page);
		table_opt_int(t, p->order);
		table_opt_int(t, p->exclusive);
		table_opt_int(t, p->mapcount);
		table_opt_int(t, p->refcount);
		table_opt_str(t, p->swap);
	}
	table_end(t);
}

/* Why a read failed, in the words of what was asked. */
void pages_error(pid_t pid, int err, const struct pt_view *v)
{
	if (err == -ESRCH)
		p_err("pages: no process %d, or it has no memory any more (it exited)",
		      (int)pid);
	else if (err == -EINVAL)
		p_err("pages: %d is a kernel thread (no user pages), or the range is past the end of user space",
		      (int)pid);
	else if (err == -ENOENT && !v->module)
		p_err("pages: no process %d", (int)pid);
	else
		p_err("pages: reading the page tables of %d%s%s: %s", (int)pid,
		      v->module ? " from " : "", v->module ? v->source : "",
		      strerror(-err));
}

int do_pages(int argc, char **argv)
{
	struct pt_page *rows;
	struct pt_view v;
	uint64_t addr;
	pid_t pid;
	long n;
	int err;

	if (wants_help(argc, argv) || (argc == 1 && !strcmp(argv[0], "help")))
		return do_help(argc, argv);
	err = parse_args(argc, argv, &pid, &addr, &n);
	if (err)
		return err;
	rows = calloc(n, sizeof(*rows));
	if (!rows) {
		p_err("out of memory");
		return EXIT_FAIL;
	}
	err = pt_read(pid, addr, n, rows, &v);
	if (err) {
		pages_error(pid, err, &v);
		free(rows);
		return EXIT_FAIL;
	}
	report_section("pages", NULL);
	report_int("pid", "pid", pid, NULL);
	report_str("address", "from", "0x%" PRIx64, addr);
	report_int("count", "pages", n, NULL);
	report_str("source", "read from", "%s", v.source);
	if (v.missing[0])
		report_str("missing", "missing", "%s", v.missing);
	else if (json_wtr)
		jsonw_null_field(json_wtr, "missing");
	if (!json_wtr)
		putchar('\n');
	pages_table("rows", rows, n);
	report_section_end();
	free(rows);
	return EXIT_OK;
}
