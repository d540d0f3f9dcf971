/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Offsets into struct ut_ctx, shared by switch_x86_64.S and the C mirror in
 * uthread_int.h (checked there with _Static_assert).  Plain numbers only:
 * this file is also read by the assembler.
 */
#ifndef UT_CTX_OFFSETS_H
#define UT_CTX_OFFSETS_H

#define UT_CTX_RSP	0
#define UT_CTX_RBX	8
#define UT_CTX_RBP	16
#define UT_CTX_R12	24
#define UT_CTX_R13	32
#define UT_CTX_R14	40
#define UT_CTX_R15	48
#define UT_CTX_MXCSR	56
#define UT_CTX_FPUCW	60
#define UT_CTX_FRESH	62
#define UT_CTX_SIZE	64

#endif /* UT_CTX_OFFSETS_H */
