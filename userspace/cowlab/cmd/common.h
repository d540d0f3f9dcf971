/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the commands share (cmd/common.c): their entry points, main.c's
 * table of them, and the argument parsing of the ipc, lock and thread
 * commands, whose words (method names) and options may come in any order.
 */
#ifndef COWLAB_CMD_COMMON_H
#define COWLAB_CMD_COMMON_H

#include <stdbool.h>

/*
 * The commands (main.c has the table): argv[0] is the first word after
 * the command's name.
 */
int do_fork(int argc, char **argv);
int do_exec(int argc, char **argv);
int do_clone(int argc, char **argv);
int do_tasks(int argc, char **argv);
int do_processes(int argc, char **argv);
int do_kthreads(int argc, char **argv);
int do_locks(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_ipc(int argc, char **argv);
int do_lock(int argc, char **argv);
int do_thread(int argc, char **argv);
int do_pages(int argc, char **argv);
int do_copies(int argc, char **argv);

/*
 * Connect the ipc, lock and thread engines' hooks (engine/common.h) to
 * cowlab's cleanup registry, which removes what is left on Ctrl-C.
 */
void ilt_hooks_cowlab(void);

struct ilt_opt {
	const char *name;	/* --name or --name=value */
	char letter;		/* -l, or 0 */
	bool value;		/* takes a value (the next argument) */
};

#define ILT_WORD	-1	/* not an option: a method or section name */
#define ILT_BAD		-2	/* unknown option or missing value: p_err() done */
#define ILT_AMBIGUOUS	-2

/*
 * Classify argv[*i]: the index of the option in opts (with *val its value,
 * *i advanced past a separate value), ILT_WORD (*val the word) or ILT_BAD.
 */
int ilt_next_arg(int argc, char **argv, int *i, const struct ilt_opt *opts,
		 int nopts, const char **val);
/*
 * A command's arguments, one by one: @on_arg(@ctx, k, val) for each option
 * (k its index in @opts, val its value) and each word (k == ILT_WORD),
 * until it returns non-zero; the word "help" or the option named "help"
 * calls @help instead. 0: go on; -1: help shown; else an exit status.
 */
int ilt_parse_args(int argc, char **argv, const struct ilt_opt *opts,
		   int nopts, int (*help)(void),
		   int (*on_arg)(void *ctx, int k, const char *val), void *ctx);
/* A name by exact match or unique prefix; -1 unknown, ILT_AMBIGUOUS. */
int ilt_match(const char *word, const char *const *names, int n);
/*
 * A METHOD word of object @obj: sets its bit in @mask, or says in one line
 * that it is unknown or ambiguous and returns EXIT_USAGE.
 */
int ilt_method_word(const char *obj, const char *word,
		    const char *const *names, int n, unsigned long *mask);

#endif /* COWLAB_CMD_COMMON_H */
