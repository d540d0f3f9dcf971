// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input: random writes to the control file (any bytes, NULs
 * included, lengths 0 to 64 KiB, from several writers at once) are refused
 * with EINVAL and change nothing; the views read one byte at a time, with
 * seeks back and forth, by eight readers at once, give whole rows.
 *
 * The generator is seeded: a failure names its seed and write, and
 * COWTRACE_FUZZ_SEED replays it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cowtrace_test.h"
#include "workload.h"

#define CONTROL		COWTRACE_DEBUGFS_DIR "/control"
#define WRITERS		4
#define WRITES		1500	/* per writer */
#define MAX_LEN		65536

static unsigned long long next(unsigned long long *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Bytes that make near misses likelier than pure noise would. */
static const char alphabet[] = "resetallpidcomlks=0123456789 \t\n\r-+x";

static size_t fuzz_input(unsigned long long *s, char *buf)
{
	unsigned long long r = next(s);
	size_t len, i;

	switch (r % 8) {
	case 0:
		len = next(s) % (MAX_LEN + 1);
		break;
	case 1:
		len = 64 + next(s) % 64;	/* around the limit */
		break;
	default:
		len = next(s) % 64;
		break;
	}
	for (i = 0; i < len; i++) {
		r = next(s);
		switch (r % 4) {
		case 0:
			buf[i] = (char)(r >> 8);
			break;
		case 1:
			buf[i] = r & 0x100 ? '\0' : alphabet[(r >> 9) % (sizeof(alphabet) - 1)];
			break;
		default:
			buf[i] = alphabet[(r >> 8) % (sizeof(alphabet) - 1)];
			break;
		}
	}
	/* Now and then a real command with something after it. */
	if (r % 16 == 0 && len >= 12)
		memcpy(buf, next(s) & 1 ? "reset" : "pid=1 ", 5);
	return len;
}

/* The kernel's isspace(), which strim() uses: Latin-1's NBSP too. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r' || (unsigned char)c == 0xa0;
}

/* Would the module take it? The same rules as module/control.c. */
static bool valid(const char *in, size_t len)
{
	char cmd[64], *p, *end;
	long pid;

	if (!len || len >= sizeof(cmd) || memchr(in, '\0', len))
		return false;
	memcpy(cmd, in, len);
	cmd[len] = '\0';
	p = cmd;
	while (is_space(*p))
		p++;
	end = p + strlen(p);
	while (end > p && is_space(end[-1]))
		*--end = '\0';
	if (!strcmp(p, "reset") || !strcmp(p, "locks reset") ||
	    !strcmp(p, "all"))
		return true;
	if (!strncmp(p, "pid=", 4)) {
		errno = 0;
		pid = strtol(p + 4, &end, 10);
		/* kstrtoint: digits with an optional sign, one newline */
		if (end == p + 4 || *end || errno || pid <= 0 || pid > INT_MAX)
			return false;
		return p[4] != ' ' && p[4] != '\t';
	}
	if (!strncmp(p, "comm=", 5))
		return p[5] && strlen(p + 5) < 16;
	return false;
}

struct writer {
	unsigned long long seed;
	unsigned int refused, accepted_invalid, valid_skipped;
	char detail[256];
};

static void *fuzz_writer(void *arg)
{
	struct writer *w = arg;
	unsigned long long s = w->seed;
	char *buf = malloc(MAX_LEN);
	unsigned int i;
	size_t len;
	ssize_t ret;
	int fd;

	fd = open(CONTROL, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || !buf) {
		snprintf(w->detail, sizeof(w->detail), "open: %s",
			 strerror(errno));
		w->accepted_invalid++;
		return NULL;
	}
	for (i = 0; i < WRITES; i++) {
		len = fuzz_input(&s, buf);
		if (valid(buf, len)) {
			w->valid_skipped++;
			continue;
		}
		ret = write(fd, buf, len);
		if (ret < 0 && errno == EINVAL) {
			w->refused++;
			continue;
		}
		/* An empty write never reaches the module. */
		if (!len && !ret)
			continue;
		if (!w->accepted_invalid++)
			snprintf(w->detail, sizeof(w->detail),
				 "seed %llu write %u (%zu bytes, '%.20s'): %zd %s",
				 w->seed, i, len, buf, ret,
				 ret < 0 ? strerror(errno) : "accepted");
	}
	close(fd);
	free(buf);
	return NULL;
}

static unsigned long long base_seed(void)
{
	const char *s = getenv("COWTRACE_FUZZ_SEED");

	return s ? strtoull(s, NULL, 0) : 0x636f777472616365ULL;
}

/*
 * Nothing changed: the filter is still "all", and no counter went back
 * (a reset would have made this task's faults start over).
 */
TEST(random_control_writes_are_refused_and_change_nothing)
{
	struct writer w[WRITERS] = { 0 };
	pthread_t t[WRITERS];
	struct ct_reader r;
	struct ct_row before, after;
	char filter[64];
	unsigned int i, refused = 0;

	ASSERT_EQ(0, cowtrace_write_file(CONTROL, "all"));
	ASSERT_EQ(0, ct_reader_init(&r));
	ct_reader_warm(&r, gettid());
	write_pages(map_anon(64), 64);
	ASSERT_EQ(0, ct_read_row(&r, gettid(), &before));
	for (i = 0; i < WRITERS; i++) {
		w[i].seed = base_seed() + i;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fuzz_writer, &w[i]));
	}
	for (i = 0; i < WRITERS; i++) {
		pthread_join(t[i], NULL);
		refused += w[i].refused;
		EXPECT_EQ(0, w[i].accepted_invalid) {
			TH_LOG("writer %u: %s", i, w[i].detail);
		}
	}
	TH_LOG("%u malformed writes refused", refused);
	EXPECT_LT(WRITERS * WRITES / 2, refused);
	ASSERT_LT(0, cowtrace_read_file(CONTROL, filter, sizeof(filter)));
	EXPECT_STREQ("filter all\n", filter);
	ASSERT_EQ(0, ct_read_row(&r, gettid(), &after));
	EXPECT_LE(before.c[COWTRACE_FAULTS], after.c[COWTRACE_FAULTS]);
	EXPECT_LE(before.c[COWTRACE_FAULT_ANON], after.c[COWTRACE_FAULT_ANON]);
}

/*
 * Read @path with reads of @chunk bytes, up to @size - 1 bytes (the tables
 * hold thousands of rows by now: a byte at a time, the first 16 KiB do);
 * the length read, or -1.
 */
static ssize_t read_by(const char *path, char *buf, size_t size, size_t chunk)
{
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (len + chunk < size && (n = read(fd, buf + len, chunk)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return len;
}

/* Every whole line of a table has as many fields as its header. */
static int whole_rows(char *text)
{
	char *line = text, *p, *last = strrchr(text, '\n');
	int header = -1, fields;

	if (!last)
		return -1;
	last[1] = '\0';	/* a read that stopped short ends mid-line */
	while (*line) {
		fields = 0;
		for (p = line; *p && *p != '\n'; p++)
			if (*p != ' ' && (p == line || p[-1] == ' '))
				fields++;
		if (header < 0)
			header = fields;
		else if (fields != header)
			return -1;
		line = *p ? p + 1 : p;
	}
	return header;
}

static const char *const tables[] = { "tasks", "processes" };
static const char *const others[] = { "stats", "kthreads", "locks", "control",
				       "version" };

struct reader {
	unsigned int id;
	int bad;
	char detail[128];
};

#define BYTE_READS	(16 << 10)

static void *byte_reader(void *arg)
{
	char *buf = malloc(BYTE_READS);
	struct reader *rd = arg;
	char path[128];
	unsigned int i;

	if (!buf) {
		rd->bad++;
		return NULL;
	}
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", COWTRACE_DEBUGFS_DIR,
			 tables[(rd->id + i) % 2]);
		if (read_by(path, buf, BYTE_READS, 1) <= 0 ||
		    whole_rows(buf) < 5) {
			rd->bad++;
			snprintf(rd->detail, sizeof(rd->detail), "%s", path);
		}
		snprintf(path, sizeof(path), "%s/%s", COWTRACE_DEBUGFS_DIR,
			 others[(rd->id + i) % 5]);
		if (read_by(path, buf, BYTE_READS, 1 + i * 7) <= 0) {
			rd->bad++;
			snprintf(rd->detail, sizeof(rd->detail), "%s", path);
		}
	}
	free(buf);
	return NULL;
}

/* Eight readers at once, one byte per read: whole rows, every time. */
TEST(views_read_a_byte_at_a_time_by_eight_readers_give_whole_rows)
{
	struct reader rd[8] = { 0 };
	pthread_t t[8];
	unsigned int i;

	for (i = 0; i < 8; i++) {
		rd[i].id = i;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, byte_reader, &rd[i]));
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, rd[i].bad) {
			TH_LOG("reader %u: %s", i, rd[i].detail);
		}
	}
}

/* A seek back gives the same bytes again; a seek past the end, none. */
TEST(views_seek_back_and_forth)
{
	char whole[4096], part[4096];
	static const char * const files[] = { "version", "control" };
	unsigned int f;
	ssize_t len, n;
	int fd;

	for (f = 0; f < 2; f++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", COWTRACE_DEBUGFS_DIR,
			 files[f]);
		len = read_by(path, whole, sizeof(whole), sizeof(whole) - 1);
		ASSERT_LT(2, len);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(len / 2, read(fd, part, len / 2));
		ASSERT_EQ(1, lseek(fd, 1, SEEK_SET));
		n = read(fd, part, sizeof(part) - 1);
		ASSERT_EQ(len - 1, n);
		EXPECT_EQ(0, memcmp(part, whole + 1, n));
		ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
		ASSERT_EQ(len, read(fd, part, sizeof(part) - 1));
		EXPECT_EQ(0, memcmp(part, whole, len));
		ASSERT_EQ(len + 100, lseek(fd, len + 100, SEEK_SET));
		EXPECT_EQ(0, read(fd, part, sizeof(part)));
		close(fd);
	}
}

int main(int argc, char **argv)
{
	page_size = sysconf(_SC_PAGESIZE);
	return cowtrace_test_main(argc, argv);
}
