/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowtrace's own trace events. cowtrace:fault is one classified fault of a
 * tracked task, as the tasks view counts it: perf, bpftrace and trace-cmd
 * then see faults by kind, with the user code and the mapping behind each.
 * Disabled, an event costs a static branch.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM cowtrace

#if !defined(_COWTRACE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _COWTRACE_TRACE_H

#include <linux/tracepoint.h>

/* Long enough for every counter name ("cow_copy_file" and NUL). */
#define CT_TRACE_KIND_LEN	16

/*
 * fault.c: while the event has a consumer, a return probe classifies each
 * fault where it ends, so that the event comes from the fault's own stack.
 */
int ct_fault_event_reg(void);
void ct_fault_event_unreg(void);

TRACE_EVENT_FN(fault,
	       TP_PROTO(unsigned long address, unsigned long ip, const char *kind,
			unsigned int kind_id, bool write, bool major, dev_t dev,
			unsigned long ino, unsigned long pgoff),
	       TP_ARGS(address, ip, kind, kind_id, write, major, dev, ino, pgoff),
	       TP_STRUCT__entry(__field(unsigned long, address)
				__field(unsigned long, ip)
				__array(char, kind, CT_TRACE_KIND_LEN)
				__field(unsigned int, kind_id)
				__field(bool, write)
				__field(bool, major)
				__field(dev_t, dev)
				__field(unsigned long, ino)
				__field(unsigned long, pgoff)),
	       TP_fast_assign(__entry->address = address;
			      __entry->ip = ip;
			      strscpy(__entry->kind, kind, CT_TRACE_KIND_LEN);
			      __entry->kind_id = kind_id;
			      __entry->write = write;
			      __entry->major = major;
			      __entry->dev = dev;
			      __entry->ino = ino;
			      __entry->pgoff = pgoff;),
	       TP_printk("address=0x%lx ip=0x%lx kind=%s write=%d major=%d dev=%d:%d ino=%lu pgoff=0x%lx",
			 __entry->address, __entry->ip, __entry->kind,
			 __entry->write, __entry->major, MAJOR(__entry->dev),
			 MINOR(__entry->dev), __entry->ino, __entry->pgoff),
	       ct_fault_event_reg, ct_fault_event_unreg);

#endif /* _COWTRACE_TRACE_H */

/* Out of the kernel tree: the header is found beside this file. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
