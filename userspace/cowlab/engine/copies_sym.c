// SPDX-License-Identifier: GPL-2.0
/*
 * Where a copy was: the mapping its address is in, and the code that wrote
 * it, named with elfutils' libdwfl (as perf names user code) from the
 * process's mappings as they were (a /proc/PID/maps text read while it
 * ran): the function, file:line where debug info has it, and for an
 * address in a file's own mapping the ELF section (".data").
 */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/copies.h"

struct map {
	uint64_t start, end;
	char name[256];		/* path, [heap], [anon:NAME]... or "" */
};

struct copy_syms {
	Dwfl *dwfl;
	struct map *maps;
	int nmaps;
};

static char *debuginfo_path;

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static int parse_maps(struct copy_syms *s, const char *text)
{
	const char *line = text;
	int cap = 0;

	while (line && *line) {
		unsigned long long start, end;
		char name[256] = "";
		int off = 0;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s%n", &start, &end,
			   &off) >= 2) {
			const char *p = line + off;
			const char *nl = strchr(p, '\n');
			size_t len;

			while (*p == ' ')
				p++;
			len = nl ? (size_t)(nl - p) : strlen(p);
			if (len >= sizeof(name))
				len = sizeof(name) - 1;
			memcpy(name, p, len);
			name[len] = '\0';
			if (s->nmaps == cap) {
				struct map *m;

				cap = cap ? cap * 2 : 64;
				m = realloc(s->maps, cap * sizeof(*m));
				if (!m)
					return -ENOMEM;
				s->maps = m;
			}
			s->maps[s->nmaps].start = start;
			s->maps[s->nmaps].end = end;
			snprintf(s->maps[s->nmaps].name,
				 sizeof(s->maps[s->nmaps].name), "%s", name);
			s->nmaps++;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 0;
}

struct copy_syms *copy_syms_new(const char *maps)
{
	struct copy_syms *s = calloc(1, sizeof(*s));
	FILE *f;

	if (!s)
		return NULL;
	if (parse_maps(s, maps)) {
		copy_syms_free(s);
		return NULL;
	}
	s->dwfl = dwfl_begin(&callbacks);
	f = fmemopen((void *)maps, strlen(maps), "r");
	if (s->dwfl && f) {
		dwfl_report_begin(s->dwfl);
		if (dwfl_linux_proc_maps_report(s->dwfl, f)) {
			dwfl_end(s->dwfl);
			s->dwfl = NULL;
		} else {
			dwfl_report_end(s->dwfl, NULL, NULL);
		}
	}
	if (f)
		fclose(f);
	return s;
}

void copy_syms_free(struct copy_syms *s)
{
	if (!s)
		return;
	if (s->dwfl)
		dwfl_end(s->dwfl);
	free(s->maps);
	free(s);
}

static const struct map *find_map(const struct copy_syms *s, uint64_t addr)
{
	int i;

	for (i = 0; i < s->nmaps; i++)
		if (addr >= s->maps[i].start && addr < s->maps[i].end)
			return &s->maps[i];
	return NULL;
}

/* The ELF section of a module holding @addr, or NULL. */
static const char *section_of(Dwfl_Module *mod, uint64_t addr)
{
	Dwarf_Addr a = addr, bias;
	Elf_Scn *scn = dwfl_module_address_section(mod, &a, &bias);
	GElf_Shdr shdr;
	Elf *elf;
	size_t strndx;

	if (!scn || !gelf_getshdr(scn, &shdr))
		return NULL;
	elf = dwfl_module_getelf(mod, &bias);
	if (!elf || elf_getshdrstrndx(elf, &strndx))
		return NULL;
	return elf_strptr(elf, strndx, shdr.sh_name);
}

void copy_syms_mapping(struct copy_syms *s, uint64_t addr, char *buf,
		       size_t len)
{
	const struct map *m = find_map(s, addr);
	Dwfl_Module *mod;
	const char *base, *sec;

	if (!m) {
		snprintf(buf, len, "unknown");
		return;
	}
	if (!m->name[0]) {
		snprintf(buf, len, "anonymous");
		return;
	}
	if (m->name[0] != '/') {
		snprintf(buf, len, "%s", m->name);
		return;
	}
	base = strrchr(m->name, '/') + 1;
	mod = s->dwfl ? dwfl_addrmodule(s->dwfl, addr) : NULL;
	sec = mod ? section_of(mod, addr) : NULL;
	if (sec)
		snprintf(buf, len, "%s %s", base, sec);
	else
		snprintf(buf, len, "%s", base);
}

void copy_syms_code(struct copy_syms *s, uint64_t ip, char *func,
		    size_t flen, char *src, size_t slen)
{
	Dwfl_Module *mod = s->dwfl && ip ? dwfl_addrmodule(s->dwfl, ip) : NULL;
	const char *name, *file, *base;
	Dwfl_Line *line;
	int lineno = 0;

	snprintf(func, flen, ip ? "0x%" PRIx64 : "(the kernel, for the task)",
		 ip);
	snprintf(src, slen, "-");
	if (!mod)
		return;
	name = dwfl_module_addrname(mod, ip);
	base = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	if (name)
		snprintf(func, flen, "%s", name);
	else if (base)
		snprintf(func, flen, "%s+0x%" PRIx64, strrchr(base, '/') ?
			 strrchr(base, '/') + 1 : base, ip);
	line = dwfl_module_getsrc(mod, ip);
	file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) :
		      NULL;
	if (file)
		snprintf(src, slen, "%s:%d", strrchr(file, '/') ?
			 strrchr(file, '/') + 1 : file, lineno);
}
