/*
 * Checks where QEMU 7.2 (the reference machine) is known to behave differently from
 * Vireo. Soft checks: every mismatch is printed and the program goes on, so the QEMU run
 * lists exactly the known differences (tests/programs-qemu.test.ts expects that list).
 *   - misaligned AMO: Store/AMO address misaligned (cause 6). QEMU 7.2 reports cause 4.
 *   - AMO page fault: Store/AMO page fault (15). QEMU 7.2 reports a load page fault (13).
 *   - satp MODE = 10 (Sv57, not implemented by Vireo) leaves satp unchanged; QEMU 7.2
 *     implements Sv57 and takes it.
 *   - AMO to an address with no device: Store/AMO access fault (cause 7). QEMU 7.2
 *     reports a load access fault (5).
 *   - misaligned SC: Store/AMO address misaligned (cause 6) whether or not a reservation
 *     is held (Unpriv. spec 8.2). QEMU 7.2 just fails the SC without trapping.
 *   - ebreak / c.ebreak: Vireo writes the pc to mtval (allowed by Priv. spec 3.1.16, as is
 *     0). QEMU 7.2 writes 0.
 *   - MRET/SRET to a mode below M clear MPRV (Priv. spec 1.12, 3.1.6.3). QEMU 7.2 keeps it.
 *   - MPP is WARL over M, S, U: writing the reserved 2 must not read back 2. QEMU 7.2
 *     stores it.
 *   - interrupt priority MEI > MSI > MTI > SEI > SSI > STI (Priv. spec 3.1.9). QEMU 7.2
 *     (without AIA) takes the lowest cause number first.
 *   - a value written to minstret is what the next instruction reads: the writing
 *     instruction does not count itself (Unpriv. spec 9.1). QEMU (run with -icount)
 *     reads one more.
 */
#include "test-macros.h"

        .data
        .align 4
word:   .dword 0, 0

        .bss
        .align 12
root:   .skip 4096

        .text
        .globl test_main
test_main:
        la      s1, word
        /* misaligned AMO */
        addi    s2, s1, 4
        sd      zero, rt_trap + TRAP_CAUSE, t0
        EXPECT_TRAP 1f
        amoor.d s3, s1, (s2)
        TRAP_MISSED
1:      ld      s3, rt_trap + TRAP_CAUSE
        CHECK_EQ_SOFT s3, CAUSE_MISALIGNED_STORE, 1

        addi    s2, s1, 6
        sd      zero, rt_trap + TRAP_CAUSE, t0
        EXPECT_TRAP 1f
        amomaxu.w s3, s1, (s2)
        TRAP_MISSED
1:      ld      s3, rt_trap + TRAP_CAUSE
        CHECK_EQ_SOFT s3, CAUSE_MISALIGNED_STORE, 2

        /* AMO access fault */
        li      s2, 0x100000000000
        sd      zero, rt_trap + TRAP_CAUSE, t0
        EXPECT_TRAP 1f
        amoswap.d s3, s1, (s2)
        TRAP_MISSED
1:      ld      s3, rt_trap + TRAP_CAUSE
        CHECK_EQ_SOFT s3, CAUSE_STORE_ACCESS, 16

        /* misaligned SC without a reservation */
        addi    s2, s1, 4
        sd      zero, rt_trap + TRAP_CAUSE, t0
        sd      zero, rt_trap + TRAP_TVAL, t0
        EXPECT_TRAP 1f
        sc.d    s3, s1, (s2)
1:      sd      zero, rt_trap + TRAP_RESUME, t0
        ld      s3, rt_trap + TRAP_CAUSE
        CHECK_EQ_SOFT s3, CAUSE_MISALIGNED_STORE, 3
        ld      s3, rt_trap + TRAP_TVAL
        sub     s3, s3, s2
        CHECK_EQ_SOFT s3, 0, 4
        /* misaligned SC while holding a reservation on the aligned word */
        addi    s2, s1, 2
        sd      zero, rt_trap + TRAP_CAUSE, t0
        lr.w    s4, (s1)
        EXPECT_TRAP 1f
        sc.w    s3, s1, (s2)
1:      sd      zero, rt_trap + TRAP_RESUME, t0
        ld      s3, rt_trap + TRAP_CAUSE
        CHECK_EQ_SOFT s3, CAUSE_MISALIGNED_STORE, 5

        /* ebreak writes the pc to mtval */
        EXPECT_TRAP 1f
ebreak_site:
        ebreak
        TRAP_MISSED
1:      ld      s3, rt_trap + TRAP_TVAL
        la      s4, ebreak_site
        sub     s3, s3, s4
        CHECK_EQ_SOFT s3, 0, 7

        EXPECT_TRAP 1f
c_ebreak_site:
        c.ebreak
        TRAP_MISSED
1:      ld      s3, rt_trap + TRAP_TVAL
        la      s4, c_ebreak_site
        sub     s3, s3, s4
        CHECK_EQ_SOFT s3, 0, 9

        /* MRET to U clears MPRV */
        PMP_ALLOW_ALL
        li      t0, MSTATUS_MPRV
        csrs    mstatus, t0
        RUN_IN  PRV_U, 1f, 2f
1:      ecall
2:      ld      s1, rt_trap + TRAP_STATUS       /* mstatus when the ecall trapped */
        li      t0, MSTATUS_MPRV
        and     s1, s1, t0
        CHECK_EQ_SOFT s1, 0, 10
        /* SRET from M to S clears MPRV */
        li      t0, MSTATUS_MPRV
        csrw    mstatus, t0                    /* MPP = U, SPP = U */
        li      t0, MSTATUS_SPP
        csrs    mstatus, t0
        la      t0, 1f
        csrw    sepc, t0
        EXPECT_TRAP 2f
        li      t0, MSTATUS_MPP                 /* arm while MPRV has no effect */
        csrs    mstatus, t0
        sret
1:      ecall
2:      ld      s1, rt_trap + TRAP_STATUS
        li      t0, MSTATUS_MPRV
        and     s1, s1, t0
        CHECK_EQ_SOFT s1, 0, 11
        CHECK_MCAUSE CAUSE_SUPERVISOR_ECALL, 12
        li      t0, MSTATUS_MPRV
        csrc    mstatus, t0

        /* MPP = 2 (reserved) is not kept */
        li      t0, MSTATUS_MPP
        csrc    mstatus, t0
        li      t0, 2 << 11
        csrs    mstatus, t0
        csrr    s1, mstatus
        srli    s1, s1, 11
        andi    s1, s1, 3
        xori    s1, s1, 2
        seqz    s1, s1
        CHECK_EQ_SOFT s1, 0, 13
        li      t0, MSTATUS_MPP
        csrs    mstatus, t0

        /* priority: pend MSI, MTI, SEI, SSI, STI; clear each after it is taken */
        li      t0, CLINT_MSIP
        li      t1, 1
        sw      t1, 0(t0)
        li      t0, CLINT_MTIMECMP
        sd      zero, 0(t0)
        li      t0, MIP_SEIP | MIP_SSIP | MIP_STIP
        csrs    mip, t0
        li      t0, MIP_MSIP | MIP_MTIP | MIP_SEIP | MIP_SSIP | MIP_STIP
        csrw    mie, t0
        .irp cause, 3, 7, 9, 1, 5
        sd      zero, rt_trap + TRAP_CAUSE, t0
        EXPECT_TRAP 1f
        csrsi   mstatus, MSTATUS_MIE            /* the handler returns with MIE = 0 */
        li      t0, 1000
2:      addi    t0, t0, -1
        bnez    t0, 2b
        sd      zero, rt_trap + TRAP_RESUME, t0
1:      csrci   mstatus, MSTATUS_MIE
        ld      s3, rt_trap + TRAP_CAUSE
        CHECK_EQ_SOFT s3, CAUSE_INTERRUPT | \cause, 20 + (\cause / 2)
        li      t0, 1 << \cause                  /* stop that one only */
        csrc    mie, t0
        .endr
        li      t0, CLINT_MSIP
        sw      zero, 0(t0)
        li      t0, CLINT_MTIMECMP
        li      t1, -1
        sd      t1, 0(t0)
        csrw    mip, zero
        csrw    mie, zero

        /* AMO page fault (Sv39, nothing mapped at 0x40000000) */
        SET_PTE_PA root, 0, 0x0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
        SET_PTE_PA root, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
        la      t0, root
        srli    t0, t0, 12
        li      t1, SATP_SV39
        or      t0, t0, t1
        csrw    satp, t0
        sfence.vma
        li      s2, 0x40000000
        sd      zero, rt_trap + TRAP_CAUSE, t0
        RUN_IN  PRV_S, 1f, 2f
1:      amoadd.d s1, s1, (s2)
        TRAP_MISSED
2:      ld      s3, rt_trap + TRAP_CAUSE
        CHECK_EQ_SOFT s3, CAUSE_STORE_PAGE_FAULT, 31
        CHECK_MTVAL 0x40000000, 32
        /* satp: Sv57 is not supported, so the write is ignored */
        csrr    s1, satp
        li      t0, (10 << 60)
        csrw    satp, t0
        csrr    s2, satp
        sub     s3, s2, s1
        CHECK_EQ_SOFT s3, 0, 33
        csrw    satp, zero
        sfence.vma

        /* the value written to minstret is read by the next instruction */
        li      s1, 1000
        csrw    minstret, s1
        csrr    s2, minstret
        CHECK_EQ_SOFT s2, 1000, 14
        PASS
