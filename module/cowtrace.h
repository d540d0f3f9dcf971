/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the concerns of cowtrace.ko share. Each concern has an init/exit pair
 * that main.c calls in order, and in exact reverse on the way out.
 */
#ifndef _COWTRACE_H
#define _COWTRACE_H

#include <linux/dcache.h>

#include "uapi/cowtrace.h"

/* debugfs.c: /sys/kernel/debug/cowtrace/ and its version file */
extern struct dentry *cowtrace_debugfs_root;
int cowtrace_debugfs_init(void);
void cowtrace_debugfs_exit(void);

#endif /* _COWTRACE_H */
