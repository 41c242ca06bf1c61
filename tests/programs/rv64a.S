/*
 * RV64A: LR/SC success and failure (no reservation, SC after SC, SC to another address),
 * sign extension of the .w forms, every AMO in .w and .d with old value and new memory
 * value, the aq/rl variants, and misaligned LR/AMO trapping with mepc and mtval = the
 * address (cause 4 for LR here; the AMO and SC cause, 6, is in qemu-differences.S).
 */
#include "test-macros.h"
        .option norvc

        .data
        .align 4
word:   .dword 0
other:  .dword 0
        .align 12
far:    .dword 0

/* mem = init; rd = amo(mem, src); check rd == old, mem == new (64-bit view of the word). */
.macro TEST_AMO_D code, op, init, src, old, new
        la      s1, word
        li      s2, \init
        sd      s2, 0(s1)
        li      s2, \src
        \op     s3, s2, (s1)
        CHECK_EQ s3, \old, \code
        ld      s4, 0(s1)
        CHECK_EQ s4, \new, \code + 100
.endm

/* as above on the low word; the high word (0x5a5a5a5a) must stay intact */
.macro TEST_AMO_W code, op, init, src, old, new
        la      s1, word
        li      s2, 0x5a5a5a5a00000000 | ((\init) & 0xffffffff)
        sd      s2, 0(s1)
        li      s2, \src
        \op     s3, s2, (s1)
        CHECK_EQ s3, \old, \code
        ld      s4, 0(s1)
        CHECK_EQ s4, 0x5a5a5a5a00000000 | ((\new) & 0xffffffff), \code + 100
.endm

        .text
        .globl test_main
test_main:
        /* SC with no reservation fails and does not write */
        la      s1, word
        li      s2, 0x1111
        sd      s2, 0(s1)
        li      s2, 0x2222
        sc.d    s3, s2, (s1)
        CHECK_NE s3, 0, 1
        ld      s4, 0(s1)
        CHECK_EQ s4, 0x1111, 2

        /* LR then SC succeeds (rd = 0) and writes */
        lr.d    s3, (s1)
        CHECK_EQ s3, 0x1111, 3
        li      s2, 0x3333
        sc.d    s3, s2, (s1)
        CHECK_EQ s3, 0, 4
        ld      s4, 0(s1)
        CHECK_EQ s4, 0x3333, 5
        /* a second SC after a successful SC fails */
        li      s2, 0x4444
        sc.d    s3, s2, (s1)
        CHECK_NE s3, 0, 6
        ld      s4, 0(s1)
        CHECK_EQ s4, 0x3333, 7

        /* SC to an address outside the reservation fails */
        la      s5, far
        sd      zero, 0(s5)
        lr.d    s3, (s1)
        li      s2, 0x5555
        sc.d    s3, s2, (s5)
        CHECK_NE s3, 0, 8
        ld      s4, 0(s5)
        CHECK_EQ s4, 0, 9
        /* that failed SC also ended the reservation on word */
        sc.d    s3, s2, (s1)
        CHECK_NE s3, 0, 10
        ld      s4, 0(s1)
        CHECK_EQ s4, 0x3333, 11

        /* LR.W sign-extends; SC.W writes only 32 bits */
        li      s2, 0x7777777780000000
        sd      s2, 0(s1)
        lr.w    s3, (s1)
        CHECK_EQ s3, 0xffffffff80000000, 12
        li      s2, 0xabcdef0012345678
        sc.w    s3, s2, (s1)
        CHECK_EQ s3, 0, 13
        ld      s4, 0(s1)
        CHECK_EQ s4, 0x7777777712345678, 14
        /* LR.W on the upper word */
        addi    s5, s1, 4
        lr.w    s3, (s5)
        CHECK_EQ s3, 0x77777777, 15
        sc.w    s3, zero, (s5)
        CHECK_EQ s3, 0, 16
        ld      s4, 0(s1)
        CHECK_EQ s4, 0x0000000012345678, 17

        /* the aq/rl forms behave the same */
        lr.d.aq s3, (s1)
        li      s2, 99
        sc.d.rl s3, s2, (s1)
        CHECK_EQ s3, 0, 18
        lr.w.aqrl s3, (s1)
        CHECK_EQ s3, 99, 19
        sc.w.aqrl s3, zero, (s1)
        CHECK_EQ s3, 0, 20

        /* every AMO, doubleword */
        TEST_AMO_D 21, amoswap.d, 0x1122334455667788, 0x99, 0x1122334455667788, 0x99
        TEST_AMO_D 22, amoadd.d, 0x7fffffffffffffff, 1, 0x7fffffffffffffff, 0x8000000000000000
        TEST_AMO_D 23, amoxor.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xff00ff00ff00ff00, 0xf0f0f0f0f0f0f0f0
        TEST_AMO_D 24, amoand.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xff00ff00ff00ff00, 0x0f000f000f000f00
        TEST_AMO_D 25, amoor.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xff00ff00ff00ff00, 0xfff0fff0fff0fff0
        TEST_AMO_D 26, amomin.d, -5, 3, -5, -5
        TEST_AMO_D 27, amomin.d, 3, -5, 3, -5
        TEST_AMO_D 28, amomax.d, -5, 3, -5, 3
        TEST_AMO_D 29, amomax.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
        TEST_AMO_D 30, amominu.d, -5, 3, -5, 3
        TEST_AMO_D 31, amominu.d, 3, -5, 3, 3
        TEST_AMO_D 32, amomaxu.d, -5, 3, -5, -5
        TEST_AMO_D 33, amomaxu.d, 3, 0x8000000000000000, 3, 0x8000000000000000
        TEST_AMO_D 34, amoadd.d.aqrl, 40, 2, 40, 42
        TEST_AMO_D 35, amoswap.d.aq, 1, 2, 1, 2

        /* every AMO, word: 32-bit operation, old value sign-extended */
        TEST_AMO_W 41, amoswap.w, 0x80000000, 0x1234567800000001, 0xffffffff80000000, 1
        TEST_AMO_W 42, amoadd.w, 0x7fffffff, 1, 0x7fffffff, 0x80000000
        TEST_AMO_W 43, amoadd.w, 0xffffffff, 1, 0xffffffffffffffff, 0
        TEST_AMO_W 44, amoxor.w, 0xff00ff00, 0x0ff00ff0, 0xffffffffff00ff00, 0xf0f0f0f0
        TEST_AMO_W 45, amoand.w, 0xff00ff00, 0x0ff00ff0, 0xffffffffff00ff00, 0x0f000f00
        TEST_AMO_W 46, amoor.w, 0x0f00ff00, 0x00f00ff0, 0x0f00ff00, 0x0ff0fff0
        TEST_AMO_W 47, amomin.w, 0x80000000, 1, 0xffffffff80000000, 0x80000000
        TEST_AMO_W 48, amomin.w, 5, 0x00000000fffffffb, 5, 0xfffffffb   /* -5 as a word */
        TEST_AMO_W 49, amomax.w, 0x80000000, 1, 0xffffffff80000000, 1
        TEST_AMO_W 50, amomax.w, 5, 0x0000000100000003, 5, 5           /* upper bits of rs2 ignored */
        TEST_AMO_W 51, amominu.w, 0x80000000, 1, 0xffffffff80000000, 1
        TEST_AMO_W 52, amominu.w, 7, 0xffffffff00000009, 7, 7
        TEST_AMO_W 53, amomaxu.w, 0x80000000, 1, 0xffffffff80000000, 0x80000000
        TEST_AMO_W 54, amomaxu.w, 7, 0x00000000fffffff0, 7, 0xfffffff0
        TEST_AMO_W 55, amoadd.w.aqrl, 40, 2, 40, 42

        /* rd = x0: memory still updated */
        la      s1, word
        sd      zero, 0(s1)
        li      s2, 5
        amoadd.d x0, s2, (s1)
        amoadd.d x0, s2, (s1)
        ld      s4, 0(s1)
        CHECK_EQ s4, 10, 56
        /* rd == rs2 */
        li      s2, 7
        amoswap.d s2, s2, (s1)
        CHECK_EQ s2, 10, 57
        ld      s4, 0(s1)
        CHECK_EQ s4, 7, 58

        /*
         * Misaligned AMO: traps with mepc and mtval = the address. (The cause, 6, is
         * checked in qemu-differences.S: QEMU 7.2 reports 4.)
         */
        la      s1, word
        addi    s2, s1, 4
        EXPECT_TRAP 1f
misaligned_amo_d:
        amoadd.d s3, s2, (s2)
        TRAP_MISSED
1:      CHECK_MEPC misaligned_amo_d, 61
        CHECK_MTVAL_LABEL word + 4, 62

        addi    s2, s1, 2
        EXPECT_TRAP 1f
misaligned_amo_w:
        amoswap.w s3, s2, (s2)
        TRAP_MISSED
1:      CHECK_MEPC misaligned_amo_w, 64
        CHECK_MTVAL_LABEL word + 2, 65

        /* misaligned LR: load address misaligned */
        addi    s2, s1, 1
        EXPECT_TRAP 1f
misaligned_lr:
        lr.w    s3, (s2)
        TRAP_MISSED
1:      CHECK_MCAUSE CAUSE_MISALIGNED_LOAD, 66
        CHECK_MEPC misaligned_lr, 67
        CHECK_MTVAL_LABEL word + 1, 68
        /* memory was not modified by the faulting AMOs */
        ld      s4, 0(s1)
        CHECK_EQ s4, 7, 69
        PASS
