/*
 * Sstc: stimecmp raises the supervisor timer interrupt when time >= stimecmp
 * (menvcfg.STCE = 1), mip.STIP then follows the comparison and is not writable, and
 * access from S-mode is gated by menvcfg.STCE and mcounteren.TM. Needs Sstc (QEMU:
 * sstc=true).
 */
#include "test-macros.h"
        .option norvc

#define STCE (1 << 63)

        .text
        .globl test_main
test_main:
        PMP_ALLOW_ALL
        csrw    mie, zero
        csrw    mip, zero
        li      t0, STCE
        csrs    menvcfg, t0
        csrwi   mcounteren, 2                 /* TM */

        /* STIP follows stimecmp <= time */
        li      t0, -1
        csrw    stimecmp, t0
        csrr    s1, stimecmp
        CHECK_EQ s1, -1, 1
        csrr    s1, mip
        andi    s1, s1, MIP_STIP
        CHECK_EQ s1, 0, 2
        li      t0, MIP_STIP                   /* not writable while STCE = 1 */
        csrs    mip, t0
        csrr    s1, mip
        andi    s1, s1, MIP_STIP
        CHECK_EQ s1, 0, 3
        csrw    stimecmp, zero
        li      t0, 1000
1:      csrr    s1, mip
        andi    s1, s1, MIP_STIP
        bnez    s1, 2f
        addi    t0, t0, -1
        bnez    t0, 1b
2:      CHECK_EQ s1, MIP_STIP, 4
        li      t0, MIP_STIP
        csrc    mip, t0
        csrr    s1, mip
        andi    s1, s1, MIP_STIP
        CHECK_EQ s1, MIP_STIP, 5
        li      t0, -1
        csrw    stimecmp, t0
        li      t0, 1000
1:      csrr    s1, mip
        andi    s1, s1, MIP_STIP
        beqz    s1, 2f
        addi    t0, t0, -1
        bnez    t0, 1b
2:      CHECK_EQ s1, 0, 6

        /* a supervisor timer interrupt taken in S-mode, woken from WFI */
        la      t0, rt_strap_handler
        csrw    stvec, t0
        li      t0, MIP_STIP
        csrw    mideleg, t0
        csrw    mie, t0
        RUN_IN  PRV_S, 1f, 3f
1:      EXPECT_STRAP 2f
        rdtime  t0
        addi    t0, t0, 200
        csrw    stimecmp, t0
        csrr    s2, stimecmp
        sub     s2, s2, t0                     /* 0 when S can read it back */
        csrsi   sstatus, MSTATUS_SIE
sti_wfi:
        wfi
sti_after_wfi:
        li      t0, 1000000
4:      addi    t0, t0, -1
        bnez    t0, 4b
        FAIL    7
2:      li      t0, -1
        csrw    stimecmp, t0
        csrr    s3, sip
        ecall
3:      CHECK_MCAUSE CAUSE_SUPERVISOR_ECALL, 8
        CHECK_EQ s2, 0, 9
        CHECK_SCAUSE CAUSE_INTERRUPT | 5, 10
        ld      t0, rt_strap + TRAP_EPC
        la      t1, sti_wfi
        beq     t0, t1, 4f                     /* interrupt before WFI retired */
        CHECK_LABEL t0, sti_after_wfi, 11
4:      andi    s3, s3, MIP_STIP
        CHECK_EQ s3, 0, 12                     /* stimecmp = -1 cleared STIP */

        /* access control: mcounteren.TM = 0 or STCE = 0 makes stimecmp illegal in S */
        csrwi   mcounteren, 0
        EXPECT_ILLEGAL_IN PRV_S, 20, csrr s1, stimecmp
        csrwi   mcounteren, 2
        LEGAL_IN PRV_S, 24, csrr s1, stimecmp
        li      t0, STCE
        csrc    menvcfg, t0
        EXPECT_ILLEGAL_IN PRV_S, 26, csrw stimecmp, zero
        li      t0, STCE
        csrs    menvcfg, t0
        EXPECT_ILLEGAL_IN PRV_U, 30, csrr s1, stimecmp
        /* M-mode always has access */
        csrr    s1, stimecmp
        CHECK_EQ s1, -1, 34

        /* STCE = 0: mip.STIP is M-writable again, stimecmp no longer drives it */
        li      t0, STCE
        csrc    menvcfg, t0
        csrw    mideleg, zero
        csrw    mie, zero
        csrw    stimecmp, zero
        li      t0, MIP_STIP
        csrc    mip, t0
        csrr    s1, mip
        andi    s1, s1, MIP_STIP
        CHECK_EQ s1, 0, 35
        csrs    mip, t0
        csrr    s1, mip
        andi    s1, s1, MIP_STIP
        CHECK_EQ s1, MIP_STIP, 36
        csrc    mip, t0
        PASS
