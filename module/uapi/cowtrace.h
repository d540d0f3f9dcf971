/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The contract between cowtrace.ko and its userspace: cowlab and the
 * selftests read the module's views under /sys/kernel/debug/cowtrace/ and
 * check what they find against the names and the version given here.
 */
#ifndef _UAPI_COWTRACE_H
#define _UAPI_COWTRACE_H

#define COWTRACE_VERSION	"0.1.0"

#define COWTRACE_DEBUGFS_DIR	"/sys/kernel/debug/cowtrace"

#endif /* _UAPI_COWTRACE_H */
