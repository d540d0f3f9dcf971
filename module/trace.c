// SPDX-License-Identifier: GPL-2.0
/*
 * Where cowtrace's trace events are defined (trace.h): once, here. The
 * kernel registers them with the module and removes them with it; an
 * event in use holds the module.
 */
#define CREATE_TRACE_POINTS
#include "trace.h"
