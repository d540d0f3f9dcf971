// SPDX-License-Identifier: GPL-2.0
/*
 * What the ipc, lock and thread commands share on top of lib/: their
 * argument parsing, and the link from the engines' hooks to cowlab's
 * cleanup registry, so that Ctrl-C leaves no child, shared memory name or
 * temporary file behind.
 */
#include <string.h>
#include <sys/stat.h>

#include "cmd/common.h"
#include "engine/common.h"
#include "lib/cowlab.h"

static void child_add(pid_t pid)
{
	cleanup_add_child(pid);
}

static void path_add(const char *path)
{
	struct stat st;

	if (!lstat(path, &st) && S_ISDIR(st.st_mode))
		cleanup_add_dir(path);
	else
		cleanup_add_file(path);
}

static void path_done(const char *path)
{
	cleanup_forget_file(path);
	cleanup_forget_dir(path);
}

static void shm_add(const char *name)
{
	cleanup_add_shm(name);
}

void ilt_hooks_cowlab(void)
{
	ilt_hooks.child_add = child_add;
	ilt_hooks.child_done = cleanup_forget_child;
	ilt_hooks.path_add = path_add;
	ilt_hooks.path_done = path_done;
	ilt_hooks.shm_add = shm_add;
	ilt_hooks.shm_done = cleanup_forget_shm;
	ilt_hooks.child_init = cowlab_child_init;
	ilt_hooks.stop = &exiting;
}

int ilt_next_arg(int argc, char **argv, int *i, const struct ilt_opt *opts,
		 int nopts, const char **val)
{
	const char *a = argv[*i], *eq;
	size_t len;
	int k;

	*val = a;
	if (a[0] != '-' || !a[1])
		return ILT_WORD;
	for (k = 0; k < nopts; k++) {
		if (a[1] == '-') {
			eq = strchr(a, '=');
			len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			if (strlen(opts[k].name) != len ||
			    strncmp(a + 2, opts[k].name, len))
				continue;
			if (eq && !opts[k].value)
				break;
			if (eq) {
				*val = eq + 1;
				return k;
			}
		} else if (a[1] != opts[k].letter || a[2]) {
			continue;
		}
		if (!opts[k].value)
			return k;
		if (*i + 1 >= argc) {
			p_err("%s: option '%s' needs a value", env.object, a);
			return ILT_BAD;
		}
		*val = argv[++*i];
		return k;
	}
	p_err("%s: unknown option '%s'", env.object, a);
	return ILT_BAD;
}

int ilt_parse_args(int argc, char **argv, const struct ilt_opt *opts,
		   int nopts, int (*help)(void),
		   int (*on_arg)(void *ctx, int k, const char *val), void *ctx)
{
	const char *val;
	int i, k, err = 0;

	for (i = 0; i < argc && !err; i++) {
		k = ilt_next_arg(argc, argv, &i, opts, nopts, &val);
		if (k == ILT_BAD)
			return EXIT_USAGE;
		if (k == ILT_WORD ? !strcmp(val, "help") :
				    !strcmp(opts[k].name, "help")) {
			help();
			return -1;
		}
		err = on_arg(ctx, k, val);
	}
	return err;
}

int ilt_match(const char *word, const char *const *names, int n)
{
	int i, found = -1;

	for (i = 0; i < n; i++)
		if (!strcmp(word, names[i]))
			return i;
	for (i = 0; i < n; i++) {
		if (!is_prefix(word, names[i]))
			continue;
		if (found >= 0)
			return ILT_AMBIGUOUS;
		found = i;
	}
	return found;
}

int ilt_method_word(const char *obj, const char *word,
		    const char *const *names, int n, unsigned long *mask)
{
	int m = ilt_match(word, names, n);

	if (m == ILT_AMBIGUOUS) {
		p_err("%s: method '%s' is ambiguous", obj, word);
		return EXIT_USAGE;
	}
	if (m < 0) {
		p_err("%s: unknown method '%s' (see 'cowlab %s help')", obj,
		      word, obj);
		return EXIT_USAGE;
	}
	*mask |= 1ul << m;
	return 0;
}
