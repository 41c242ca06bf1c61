/*
 * Interrupts (Priv. spec 3.1.9, 3.1.6.1, 3.3.3): machine timer through CLINT mtimecmp,
 * machine software interrupt through msip, priority among several pending ones, global
 * enables by privilege (M-level interrupts are taken in S/U even with MIE = 0; S-level
 * ones never in M), delegation of SSI/STI to S-mode, WFI waking with and without a trap.
 * irq_handler logs every interrupt cause in order and clears its source; exceptions go on
 * to the default handler.
 */
#include "test-macros.h"

#define INT(n) (CAUSE_INTERRUPT | (n))

/* append the cause in t1 to irq_log (clobbers t0, t2) */
.macro call_log_cause
        la      t0, irq_log
        ld      t2, 0(t0)
        addi    t2, t2, 1
        sd      t2, 0(t0)
        slli    t2, t2, 3
        add     t2, t0, t2
        sd      t1, 0(t2)
.endm

        .bss
        .align 3
irq_log:  .skip 8 * 17                 /* count, then causes */
irq_tval: .skip 8                      /* OR of mtval/stval over all interrupts */
irq_save: .skip 32

        .text
        .globl test_main
test_main:
        PMP_ALLOW_ALL
        la      t0, irq_handler
        csrw    mtvec, t0
        la      t0, s_irq_handler
        csrw    stvec, t0
        li      s0, CLINT_MTIMECMP
        li      t0, -1
        sd      t0, 0(s0)
        csrw    mie, zero
        csrw    mip, zero
        csrw    mideleg, zero
        csrci   mstatus, MSTATUS_MIE

        /* machine timer interrupt: WFI wakes, mepc = the instruction after WFI */
        call    log_reset
        li      t0, MIP_MTIP
        csrw    mie, t0
        /* 200 ms ahead: far enough that the WFI is reached first even when time is
         * wall-clock based and the hart is slow (an earlier interrupt would return to the
         * WFI, which could then wait forever); blocks compiled one by one (lockstep,
         * threshold 1) on a loaded host took more than 10 ms to get there */
        li      t1, CLINT_MTIME
        ld      t1, 0(t1)
        li      t2, 2000000
        add     t1, t1, t2
        sd      t1, 0(s0)
        csrsi   mstatus, MSTATUS_MIE
        .option push
        .option norvc
timer_wfi:
        wfi
timer_after_wfi:
        .option pop
        WAIT_NONZERO s6, 1000000
        csrci   mstatus, MSTATUS_MIE
        ld      t0, irq_log
        CHECK_EQ t0, 1, 1
        ld      t0, irq_log + 8
        CHECK_EQ t0, INT(7), 2
        CHECK_LABEL s7, timer_after_wfi, 3       /* handler leaves mepc in s7 */
        ld      t0, irq_tval
        CHECK_EQ t0, 0, 4
        csrr    t0, mip
        andi    t0, t0, MIP_MTIP
        CHECK_EQ t0, 0, 5                        /* mtimecmp moved: MTIP clear */

        /* machine software interrupt */
        call    log_reset
        li      t0, MIP_MSIP
        csrw    mie, t0
        li      t0, CLINT_MSIP
        li      t1, 1
        sw      t1, 0(t0)
        csrr    t0, mip
        andi    t0, t0, MIP_MSIP
        CHECK_EQ t0, MIP_MSIP, 6                 /* pending, not taken: MIE = 0 */
        ld      t0, irq_log
        CHECK_EQ t0, 0, 7
        csrsi   mstatus, MSTATUS_MIE
        WAIT_NONZERO s6, 1000
        csrci   mstatus, MSTATUS_MIE
        ld      t0, irq_log + 8
        CHECK_EQ t0, INT(3), 8

        /* WFI with the interrupt enabled in mie but MIE = 0: resumes without a trap */
        call    log_reset
        li      t0, CLINT_MSIP
        li      t1, 1
        sw      t1, 0(t0)
        wfi
        ld      t0, irq_log
        CHECK_EQ t0, 0, 9
        csrsi   mstatus, MSTATUS_MIE              /* now taken */
        WAIT_NONZERO s6, 1000
        csrci   mstatus, MSTATUS_MIE
        ld      t0, irq_log
        CHECK_EQ t0, 1, 10

        /*
         * several pending at once: MSI, MTI, SEI, SSI and STI are all taken, one after the
         * other. (The order, MSI > MTI > SEI > SSI > STI, is checked in
         * qemu-differences.S: QEMU 7.2 takes the lowest cause number first.)
         */
        call    log_reset
        li      t0, CLINT_MSIP
        li      t1, 1
        sw      t1, 0(t0)
        sd      zero, 0(s0)                      /* mtimecmp = 0: MTIP */
        li      t0, MIP_SEIP | MIP_SSIP | MIP_STIP
        csrs    mip, t0
        li      t0, MIP_MSIP | MIP_MTIP | MIP_SEIP | MIP_SSIP | MIP_STIP
        csrw    mie, t0
        csrsi   mstatus, MSTATUS_MIE
        li      t0, 1000
1:      ld      t1, irq_log
        li      t2, 5
        beq     t1, t2, 2f
        addi    t0, t0, -1
        bnez    t0, 1b
2:      csrci   mstatus, MSTATUS_MIE
        ld      t0, irq_log
        CHECK_EQ t0, 5, 11
        li      s1, 0                            /* OR of 1 << cause over the log */
        la      s2, irq_log + 8
        li      s3, 5
1:      ld      t0, 0(s2)
        bgez    t0, 2f                           /* not an interrupt cause */
        li      t1, 1
        sll     t1, t1, t0                       /* shift uses the low 6 bits */
        or      s1, s1, t1
2:      addi    s2, s2, 8
        addi    s3, s3, -1
        bnez    s3, 1b
        CHECK_EQ s1, MIP_MSIP | MIP_MTIP | MIP_SEIP | MIP_SSIP | MIP_STIP, 12
        ld      t0, irq_tval
        CHECK_EQ t0, 0, 17

        /* M-level interrupts are taken in S and U even with MIE = 0 */
        call    log_reset
        li      t0, MIP_MSIP
        csrw    mie, t0
        csrci   mstatus, MSTATUS_MIE
        li      t0, CLINT_MSIP
        li      t1, 1
        sw      t1, 0(t0)
        RUN_IN  PRV_S, 1f, 2f
1:      WAIT_NONZERO s6, 1000
        ecall
2:      ld      t0, irq_log
        CHECK_EQ t0, 1, 18
        ld      t0, irq_log + 8
        CHECK_EQ t0, INT(3), 19
        CHECK_EQ s8, PRV_S, 20                   /* handler: previous privilege in s8 */
        call    log_reset
        li      t0, CLINT_MSIP
        li      t1, 1
        sw      t1, 0(t0)
        RUN_IN  PRV_U, 1f, 2f
1:      WAIT_NONZERO s6, 1000
        ecall
2:      ld      t0, irq_log + 8
        CHECK_EQ t0, INT(3), 21
        CHECK_EQ s8, PRV_U, 22

        /* delegated SSI: not taken in M even with MIE = 1 */
        call    log_reset
        li      t0, MIP_SSIP | MIP_STIP
        csrw    mideleg, t0
        li      t0, MIP_SSIP
        csrw    mie, t0
        csrs    mip, t0
        csrsi   mstatus, MSTATUS_MIE
        li      t0, 1000
1:      addi    t0, t0, -1
        bnez    t0, 1b
        csrci   mstatus, MSTATUS_MIE
        ld      t0, irq_log
        CHECK_EQ t0, 0, 23
        /* in S-mode with SIE = 0: not taken; WFI resumes (TW = 0 makes it legal) */
        csrci   mstatus, MSTATUS_SIE
        RUN_IN  PRV_S, 1f, 2f
1:      li      t0, 1000
3:      addi    t0, t0, -1
        bnez    t0, 3b
        wfi
        ld      s9, irq_log
        csrsi   sstatus, MSTATUS_SIE            /* now taken, in S */
        WAIT_NONZERO s6, 1000
        csrci   sstatus, MSTATUS_SIE
        ecall
2:      CHECK_MCAUSE CAUSE_SUPERVISOR_ECALL, 24
        CHECK_EQ s9, 0, 25
        ld      t0, irq_log
        CHECK_EQ t0, 1, 26
        ld      t0, irq_log + 8
        CHECK_EQ t0, INT(1), 27
        CHECK_EQ s8, 1, 28                        /* S handler: SPP in s8 */
        ld      t0, irq_tval
        CHECK_EQ t0, 0, 29
        /* in U-mode: S-level interrupts are taken whatever SIE says */
        call    log_reset
        li      t0, MIP_SSIP
        csrs    mip, t0
        csrci   mstatus, MSTATUS_SIE
        RUN_IN  PRV_U, 1f, 2f
1:      WAIT_NONZERO s6, 1000
        ecall
2:      CHECK_MCAUSE CAUSE_USER_ECALL, 30
        ld      t0, irq_log
        CHECK_EQ t0, 1, 31
        ld      t0, irq_log + 8
        CHECK_EQ t0, INT(1), 32
        CHECK_EQ s8, 0, 33
        /* delegated STI (set by M through mip.STIP) goes to S too */
        call    log_reset
        li      t0, MIP_STIP
        csrw    mie, t0
        csrs    mip, t0
        csrsi   mstatus, MSTATUS_SIE
        RUN_IN  PRV_S, 1f, 2f
1:      WAIT_NONZERO s6, 1000
        ecall
2:      ld      t0, irq_log
        CHECK_EQ t0, 1, 34
        ld      t0, irq_log + 8
        CHECK_EQ t0, INT(5), 35
        /* mie masks: a pending, delegated, disabled SSI is not taken in U */
        call    log_reset
        csrw    mie, zero
        li      t0, MIP_SSIP
        csrs    mip, t0
        RUN_IN  PRV_U, 1f, 2f
1:      li      t0, 1000
3:      addi    t0, t0, -1
        bnez    t0, 3b
        ecall
2:      ld      t0, irq_log
        CHECK_EQ t0, 0, 36
        csrw    mip, zero
        csrw    mideleg, zero
        csrw    mie, zero
        la      t0, rt_trap_handler
        csrw    mtvec, t0
        PASS

log_reset:
        la      t0, irq_log
        sd      zero, 0(t0)
        sd      zero, irq_tval, t0
        li      s6, 0
        ret

/*
 * M-mode handler: interrupts are logged (cause, OR of mtval), their source cleared,
 * s6 = 1, s7 = mepc, s8 = previous privilege; exceptions go to rt_trap_handler.
 */
        .align 2
irq_handler:
        csrw    mscratch, t0
        la      t0, irq_save
        sd      t1, 0(t0)
        sd      t2, 8(t0)
        csrr    t1, mcause
        bltz    t1, 1f
        ld      t1, 0(t0)
        ld      t2, 8(t0)
        csrr    t0, mscratch
        j       rt_trap_handler
1:      call_log_cause
        csrr    t2, mtval
        ld      t0, irq_tval
        or      t2, t2, t0
        sd      t2, irq_tval, t0
        csrr    s7, mepc
        csrr    s8, mstatus
        srli    s8, s8, 11
        andi    s8, s8, 3
        li      s6, 1
        slli    t1, t1, 1
        srli    t1, t1, 1
        li      t2, 3
        bne     t1, t2, 2f
        li      t0, CLINT_MSIP
        sw      zero, 0(t0)
        j       9f
2:      li      t2, 7
        bne     t1, t2, 3f
        li      t0, -1
        sd      t0, 0(s0)
        j       9f
3:      li      t2, 9
        bne     t1, t2, 4f
        li      t0, MIP_SEIP
        csrc    mip, t0
        j       9f
4:      li      t2, 1
        bne     t1, t2, 5f
        li      t0, MIP_SSIP
        csrc    mip, t0
        j       9f
5:      li      t2, 5
        bne     t1, t2, 6f
        li      t0, MIP_STIP
        csrc    mip, t0
        j       9f
6:      FAIL    90
9:      la      t0, irq_save
        ld      t1, 0(t0)
        ld      t2, 8(t0)
        csrr    t0, mscratch
        mret

/* S-mode handler: logs like the M one; clears SSIP, masks STIE; s8 = SPP. */
        .align 2
s_irq_handler:
        csrw    sscratch, t0
        la      t0, irq_save
        sd      t1, 16(t0)
        sd      t2, 24(t0)
        csrr    t1, scause
        bltz    t1, 1f
        ld      t1, 16(t0)
        ld      t2, 24(t0)
        csrr    t0, sscratch
        j       rt_strap_handler
1:      call_log_cause
        csrr    t2, stval
        ld      t0, irq_tval
        or      t2, t2, t0
        sd      t2, irq_tval, t0
        csrr    s8, sstatus
        srli    s8, s8, 8
        andi    s8, s8, 1
        li      s6, 1
        li      t0, MIP_SSIP
        csrc    sip, t0
        li      t0, MIP_STIP
        csrc    sie, t0
        la      t0, irq_save
        ld      t1, 16(t0)
        ld      t2, 24(t0)
        csrr    t0, sscratch
        sret
