// SPDX-License-Identifier: GPL-2.0
/*
 * insncount: a QEMU TCG plugin that counts the guest instructions executed
 * between two marks the guest makes, so that the cost of a page fault is a
 * figure the host's load cannot move (make bench's deterministic measure).
 *
 * A mark is a no-op any x86-64 CPU executes, nopl disp32(%rax), with a
 * displacement no compiler emits: the bytes 0f 1f 80 OP 00 74 63 ("ct"),
 * OP 0 to start and 1 to stop (scripts/bench/faultbench.c makes them).
 * At each stop the plugin writes one line, "insns N": the instructions
 * executed since the start, the start mark included. The counter is one for
 * the whole machine: boot the guest with one vCPU (vm-run --smp 1), or the
 * other CPUs' work counts too.
 *
 *   qemu-system-x86_64 ... -plugin insncount.so,out=FILE
 *
 * Built against the qemu-plugin.h of the QEMU that loads it (scripts/setup
 * takes it from the Debian source of the installed QEMU).
 */
#include <stdio.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum { MARK_START, MARK_STOP };

static const unsigned char mark_head[] = { 0x0f, 0x1f, 0x80 };
static const unsigned char mark_tail[] = { 0x00, 0x74, 0x63 };
#define MARK_LEN	7

static unsigned long long insns;
static unsigned long long started;
static FILE *out;

/* The mark's operation, or -1 if @insn is not a mark. */
static int mark_op(const struct qemu_plugin_insn *insn)
{
	const unsigned char *b = qemu_plugin_insn_data(insn);

	if (qemu_plugin_insn_size(insn) != MARK_LEN ||
	    memcmp(b, mark_head, sizeof(mark_head)) ||
	    memcmp(b + 4, mark_tail, sizeof(mark_tail)))
		return -1;
	return b[3] <= MARK_STOP ? b[3] : -1;
}

/*
 * Runs before the mark's own count is added: a start counts itself, a stop
 * does not.
 */
static void on_mark(unsigned int vcpu, void *op)
{
	if ((uintptr_t)op == MARK_START) {
		started = insns;
		return;
	}
	fprintf(out, "insns %llu\n", insns - started);
	fflush(out);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);

	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		int op = mark_op(insn);

		if (op >= 0)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark,
							       QEMU_PLUGIN_CB_NO_REGS,
							       (void *)(uintptr_t)op);
		qemu_plugin_register_vcpu_insn_exec_inline(insn,
							   QEMU_PLUGIN_INLINE_ADD_U64,
							   &insns, 1);
	}
}

static void on_qemu_exit(qemu_plugin_id_t id, void *data)
{
	fclose(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	if (argc != 1 || strncmp(argv[0], "out=", 4)) {
		fprintf(stderr, "insncount: takes one argument, out=FILE\n");
		return -1;
	}
	out = fopen(argv[0] + 4, "w");
	if (!out) {
		perror(argv[0] + 4);
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
	return 0;
}
