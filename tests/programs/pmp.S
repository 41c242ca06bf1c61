/*
 * Physical memory protection (Priv. spec 3.7): 16 entries, TOR/NA4/NAPOT matching at
 * 4-byte grain, lowest-numbered match wins, S/U accesses that match no entry fail once
 * entries are configured, partial matches fail, M-mode ignores unlocked entries but obeys
 * locked ones, locked entries ignore writes, and access faults 1/5/7 with mtval.
 *
 * Fixed entries: 13 = TOR [0, RAM) RW (devices), 15 = TOR [RAM, page_a) RWX (code).
 */
#include "test-macros.h"
        .option norvc

#define CFG_R    0x01
#define CFG_W    0x02
#define CFG_X    0x04
#define CFG_TOR  0x08
#define CFG_NA4  0x10
#define CFG_NAPOT 0x18
#define CFG_L    0x80

        .data
        .align 12
page_a: .dword 0xaaaa, 0
        .align 12
page_b: .dword 0xb0b0b0b0b0b0b0b0, 0xb1b1b1b1b1b1b1b1
        .align 12
page_c: .dword 0xcccc
        .align 12
page_d: .dword 0xdddd
        .align 12

        .text
/* like EXPECT_FAULT_IN with mtval = the address of a label expression */
.macro FAULT_AT priv, code, cause, where, insn:vararg
        RUN_IN  \priv, .Lsite\@, .Lback\@
.Lsite\@:
        \insn
        TRAP_MISSED
.Lback\@:
        CHECK_MCAUSE \cause, \code
        CHECK_MEPC .Lsite\@, \code + 1
        CHECK_MTVAL_LABEL \where, \code + 2
        CHECK_MPP \priv, \code + 3
.endm

        .globl test_main
test_main:
        /* all 16 pmpaddr registers exist and hold a 4-byte-granular address */
        .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
        li      t0, 0x12345 + \n
        csrw    pmpaddr\n, t0
        .endr
        .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
        csrr    t1, pmpaddr\n
        CHECK_EQ t1, 0x12345 + \n, 1 + \n
        .endr
        /* pmpcfg1/3 do not exist on RV64 */
        EXPECT_ILLEGAL 17, csrr s1, pmpcfg1
        EXPECT_ILLEGAL 20, csrr s1, pmpcfg3

        /* fixed entries */
        csrw    pmpcfg0, zero
        csrw    pmpaddr12, zero
        li      t0, 0x80000000 >> 2
        csrw    pmpaddr13, t0
        csrw    pmpaddr14, t0
        la      t0, page_a
        srli    t0, t0, 2
        csrw    pmpaddr15, t0
        li      t0, ((CFG_TOR | CFG_R | CFG_W) << 40) | ((CFG_TOR | CFG_R | CFG_W | CFG_X) << 56)
        csrw    pmpcfg2, t0
        csrr    s1, pmpcfg2
        CHECK_EQR s1, t0, 23

        /* no entry matches page_a: S and U fail, M succeeds */
        la      s2, page_a
        RUN_IN  PRV_S, 1f, 2f
1:      ld      s1, 0(s2)
        TRAP_MISSED
2:      CHECK_MCAUSE CAUSE_LOAD_ACCESS, 24
        CHECK_MEPC 1b, 25
        CHECK_MTVAL_LABEL page_a, 26
        CHECK_MPP PRV_S, 27
        RUN_IN  PRV_U, 1f, 2f
1:      sd      s1, 8(s2)
        TRAP_MISSED
2:      CHECK_MCAUSE CAUSE_STORE_ACCESS, 28
        CHECK_MTVAL_LABEL page_a + 8, 29
        ld      s1, page_a
        CHECK_EQ s1, 0xaaaa, 30

        /* NAPOT 4 KiB, R only, on page_a */
        la      t0, page_a
        srli    t0, t0, 2
        ori     t0, t0, 0x1ff
        csrw    pmpaddr0, t0
        li      t0, CFG_NAPOT | CFG_R
        csrw    pmpcfg0, t0
        LEGAL_IN PRV_S, 31, ld s1, 0(s2)
        CHECK_EQ s1, 0xaaaa, 33
        LEGAL_IN PRV_U, 34, ld s1, 0x7f8(s2)
        RUN_IN  PRV_S, 1f, 2f
1:      sd      s1, 8(s2)
        TRAP_MISSED
2:      CHECK_MCAUSE CAUSE_STORE_ACCESS, 36
        CHECK_MTVAL_LABEL page_a + 8, 37
        RUN_IN  PRV_S, 1f, 2f
1:      jalr    s2                             /* no X: fetch access fault */
        TRAP_MISSED
2:      CHECK_MCAUSE CAUSE_FETCH_ACCESS, 38
        ld      t0, rt_trap + TRAP_EPC
        CHECK_LABEL t0, page_a, 39
        CHECK_MTVAL_LABEL page_a, 40
        la      s3, page_a + 0x1000            /* just past the region */
        RUN_IN  PRV_S, 1f, 2f
1:      ld      s1, 0(s3)
        TRAP_MISSED
2:      CHECK_MCAUSE CAUSE_LOAD_ACCESS, 41
        /* M-mode ignores the unlocked entry */
        li      t0, 0xa0a0
        sd      t0, page_a + 8, t1
        ld      s1, page_a + 8
        CHECK_EQ s1, 0xa0a0, 42

        /* NA4: exactly 4 bytes at page_b + 8, RW */
        la      s2, page_b
        addi    t0, s2, 8
        srli    t0, t0, 2
        csrw    pmpaddr1, t0
        li      t0, (CFG_NAPOT | CFG_R) | ((CFG_NA4 | CFG_R | CFG_W) << 8)
        csrw    pmpcfg0, t0
        LEGAL_IN PRV_S, 43, lw s1, 8(s2)
        CHECK_EQ s1, 0xffffffffb1b1b1b1, 45
        LEGAL_IN PRV_S, 46, sh zero, 10(s2)
        FAULT_AT PRV_S, 48, CAUSE_LOAD_ACCESS, page_b + 12, lw s1, 12(s2)
        FAULT_AT PRV_S, 52, CAUSE_LOAD_ACCESS, page_b + 4, lw s1, 4(s2)
        /* partial match: an 8-byte access over the 4-byte region fails */
        FAULT_AT PRV_S, 56, CAUSE_LOAD_ACCESS, page_b + 8, ld s1, 8(s2)

        /* TOR: entry 3 = [page_c, page_c + 0x800) R; entry 4 = NAPOT page_c RW.
         * The lower-numbered entry decides where both match. */
        la      s2, page_c
        srli    t0, s2, 2
        csrw    pmpaddr2, t0
        addi    t0, s2, 0x7ff
        addi    t0, t0, 1
        srli    t0, t0, 2
        csrw    pmpaddr3, t0
        srli    t0, s2, 2
        ori     t0, t0, 0x1ff
        csrw    pmpaddr4, t0
        li      t0, (CFG_NAPOT | CFG_R) | ((CFG_NA4 | CFG_R | CFG_W) << 8) | ((CFG_TOR | CFG_R) << 24) | ((CFG_NAPOT | CFG_R | CFG_W) << 32)
        csrw    pmpcfg0, t0
        LEGAL_IN PRV_S, 60, ld s1, 0(s2)
        CHECK_EQ s1, 0xcccc, 62
        FAULT_AT PRV_S, 63, CAUSE_STORE_ACCESS, page_c + 0x10, sd s1, 0x10(s2)
        addi    s3, s2, 0x7f8
        FAULT_AT PRV_S, 67, CAUSE_STORE_ACCESS, page_c + 0x7f8, sd s1, 0(s3)
        addi    s3, s3, 8                      /* page_c + 0x800: only entry 4 matches */
        LEGAL_IN PRV_S, 71, sd s1, 0(s3)
        ld      s1, page_c + 0x800
        CHECK_EQ s1, 0xcccc, 73
        /* an access straddling the TOR bound matches entry 3 only partly: fails */
        addi    s3, s2, 0x7fc
        FAULT_AT PRV_S, 74, CAUSE_LOAD_ACCESS, page_c + 0x7fc, ld s1, 0(s3)

        /* entries off again: S is denied everything outside the fixed entries */
        csrw    pmpcfg0, zero
        FAULT_AT PRV_S, 78, CAUSE_LOAD_ACCESS, page_c, ld s1, 0(s2)

        /*
         * Locked entry 5 (NAPOT page_d, R): applies to M-mode too, and its pmpcfg byte
         * and pmpaddr ignore writes until reset. (Last: it cannot be undone.)
         */
        la      s2, page_d
        srli    t0, s2, 2
        ori     t0, t0, 0x1ff
        csrw    pmpaddr5, t0
        li      t0, (CFG_L | CFG_NAPOT | CFG_R) << 40
        csrw    pmpcfg0, t0
        ld      s1, 0(s2)
        CHECK_EQ s1, 0xdddd, 82
        EXPECT_TRAP 1f
m_store:
        sd      zero, 0(s2)
        TRAP_MISSED
1:      CHECK_MCAUSE CAUSE_STORE_ACCESS, 83
        CHECK_MEPC m_store, 84
        CHECK_MTVAL_LABEL page_d, 85
        CHECK_MPP PRV_M, 86
        EXPECT_TRAP 1f
        jalr    s2                             /* no X, even for M */
        TRAP_MISSED
1:      CHECK_MCAUSE CAUSE_FETCH_ACCESS, 87
        CHECK_MTVAL_LABEL page_d, 88
        csrw    pmpcfg0, zero                   /* ignored for the locked byte */
        csrr    s1, pmpcfg0
        li      t0, (CFG_L | CFG_NAPOT | CFG_R) << 40
        CHECK_EQR s1, t0, 89
        csrr    s3, pmpaddr5
        csrw    pmpaddr5, zero
        csrr    s1, pmpaddr5
        CHECK_EQR s1, s3, 90
        LEGAL_IN PRV_S, 91, ld s1, 0(s2)         /* S may read it too */
        PASS
