/*
 * Counters (Zicntr, Priv. spec 3.1.10-3.1.12): cycle and instret advance, instret counts
 * exactly one per retired instruction, minstret/mcycle are writable, time follows the
 * CLINT's mtime, mcounteren/scounteren gate access from S and U, and menvcfg/senvcfg
 * exist with menvcfg.STCE writable (Sstc).
 */
#include "test-macros.h"

        .text
        .globl test_main
test_main:
        PMP_ALLOW_ALL
        /* cycle and mcycle advance */
        rdcycle s1
        li      t0, 100
1:      addi    t0, t0, -1
        bnez    t0, 1b
        rdcycle s2
        bgtu    s2, s1, 1f
        FAIL    1
1:      csrr    s1, mcycle
        nop
        nop
        csrr    s2, mcycle
        bgtu    s2, s1, 1f
        FAIL    2
1:
        /* instret: each retired instruction counts once; a CSR read sees the count before
         * its own instruction */
        .option push
        .option norvc
        csrr    s1, minstret
        csrr    s2, minstret
        sub     s3, s2, s1
        CHECK_EQ s3, 1, 3
        rdinstret s1
        nop
        addi    zero, zero, 0
        add     t0, t0, t0
        rdinstret s2
        sub     s3, s2, s1
        CHECK_EQ s3, 4, 4
        /* a taken branch and a jump count as one each */
        csrr    s1, instret
        beqz    zero, 1f
        nop
1:      j       2f
        nop
2:      csrr    s2, instret
        sub     s3, s2, s1
        CHECK_EQ s3, 3, 5
        .option pop
        /* minstret is writable (exact timing of the write: qemu-differences.S) */
        li      s1, 0x100000000
        csrw    minstret, s1
        csrr    s2, minstret
        li      t0, 0x100000000
        sub     s3, s2, t0
        li      t0, 4
        bgeu    s3, t0, 1f                  /* within a few instructions of the value written */
        csrr    s2, instret                 /* instret mirrors minstret */
        sub     s3, s2, s1
        li      t0, 8
        bgeu    s3, t0, 1f
        j       2f
1:      FAIL    6
2:      li      s1, 0x200000000
        csrw    mcycle, s1
        csrr    s2, mcycle
        bgeu    s2, s1, 1f
        FAIL    7
1:      li      t0, 0x200000000 + 0x10000000
        bltu    s2, t0, 1f
        FAIL    8
1:
        /* time reads mtime: bracketed by two MMIO reads */
        li      s4, CLINT_MTIME
        ld      s1, 0(s4)
        rdtime  s2
        ld      s3, 0(s4)
        bgeu    s2, s1, 1f
        FAIL    9
1:      bgeu    s3, s2, 1f
        FAIL    10
1:      /* and advances */
        rdtime  s1
        li      t0, 10000000
1:      rdtime  s2
        bne     s2, s1, 2f
        addi    t0, t0, -1
        bnez    t0, 1b
        FAIL    11
2:
        /* mcounteren = 0: S-mode reads of cycle/time/instret are illegal */
        csrw    mcounteren, zero
        csrw    scounteren, zero
        EXPECT_ILLEGAL_IN PRV_S, 20, rdcycle s5
        EXPECT_ILLEGAL_IN PRV_S, 24, rdtime s5
        EXPECT_ILLEGAL_IN PRV_S, 28, rdinstret s5
        EXPECT_ILLEGAL_IN PRV_U, 32, rdcycle s5
        /* M-mode is never gated */
        rdcycle s5
        rdtime  s5
        rdinstret s5
        /* mcounteren.CY only */
        csrwi   mcounteren, 1
        LEGAL_IN PRV_S, 36, rdcycle s5
        EXPECT_ILLEGAL_IN PRV_S, 38, rdtime s5
        EXPECT_ILLEGAL_IN PRV_S, 42, rdinstret s5
        /* all three for S; U additionally needs scounteren */
        csrwi   mcounteren, 7
        LEGAL_IN PRV_S, 46, rdcycle s5
        LEGAL_IN PRV_S, 48, rdtime s5
        LEGAL_IN PRV_S, 50, rdinstret s5
        EXPECT_ILLEGAL_IN PRV_U, 52, rdcycle s5
        EXPECT_ILLEGAL_IN PRV_U, 56, rdtime s5
        EXPECT_ILLEGAL_IN PRV_U, 60, rdinstret s5
        csrwi   scounteren, 2                /* TM only */
        LEGAL_IN PRV_U, 64, rdtime s5
        EXPECT_ILLEGAL_IN PRV_U, 66, rdcycle s5
        csrwi   scounteren, 7
        LEGAL_IN PRV_U, 70, rdcycle s5
        LEGAL_IN PRV_U, 72, rdinstret s5
        /* scounteren alone does not open U when mcounteren is clear */
        csrwi   mcounteren, 5                /* CY, IR */
        EXPECT_ILLEGAL_IN PRV_U, 74, rdtime s5
        EXPECT_ILLEGAL_IN PRV_S, 78, rdtime s5
        /* counter CSRs are read-only even from M */
        EXPECT_ILLEGAL 82, csrw instret, zero
        /* counter values seen from S match M's view */
        csrwi   mcounteren, 7
        LEGAL_IN PRV_S, 85, rdinstret s5
        csrr    s6, minstret
        bltu    s5, s6, 1f
        FAIL    87
1:
        /* menvcfg / senvcfg exist; STCE (bit 63) is writable with Sstc */
        csrr    s1, menvcfg
        li      t0, 1
        slli    t0, t0, 63
        csrs    menvcfg, t0
        csrr    s1, menvcfg
        srli    s1, s1, 63
        CHECK_EQ s1, 1, 90
        csrc    menvcfg, t0
        csrr    s1, menvcfg
        srli    s1, s1, 63
        CHECK_EQ s1, 0, 91
        csrr    s1, senvcfg
        LEGAL_IN PRV_S, 92, csrr s5, senvcfg
        LEGAL_IN PRV_S, 94, csrw senvcfg, zero
        EXPECT_ILLEGAL_IN PRV_S, 96, csrr s5, menvcfg
        EXPECT_ILLEGAL_IN PRV_U, 100, csrr s5, senvcfg
        PASS
