/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Argument parsing shared by the ipc, lock and thread commands: words
 * (method names) and options may come in any order.
 */
#ifndef COWLAB_IPC_CLI_H
#define COWLAB_IPC_CLI_H

#include <stdbool.h>

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
/* A name by exact match or unique prefix; -1 unknown, ILT_AMBIGUOUS. */
int ilt_match(const char *word, const char *const *names, int n);
/*
 * A METHOD word of object @obj: sets its bit in @mask, or says in one line
 * that it is unknown or ambiguous and returns EXIT_USAGE.
 */
int ilt_method_word(const char *obj, const char *word,
		    const char *const *names, int n, unsigned long *mask);

#endif /* COWLAB_IPC_CLI_H */
