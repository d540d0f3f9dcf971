/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What main() and the shared layer share, not for the objects: the start
 * and the end of the run.
 */
#ifndef COWLAB_INTERNAL_H
#define COWLAB_INTERNAL_H

#include <stdbool.h>

/* Install the SIGINT/SIGTERM/SIGHUP and SIGUSR1 handlers; note the owner. */
void cowlab_signals_init(void);
/* True in the process that started cowlab (not in a forked child). */
bool cowlab_is_owner(void);
/* The first p_err() message while -j, or NULL. */
const char *cowlab_error(void);
/*
 * End the JSON document: close what is open, add "kernel_counters" (if
 * the module was looked for), "notes", "error" and "exit_status".
 */
void report_finish(int status);

#endif /* COWLAB_INTERNAL_H */
