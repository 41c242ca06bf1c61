/*
 * mstatus and its sstatus view (Priv. spec 3.1.6, 4.1.1): UXL/SXL, MPP/SPP values,
 * FS with SD and dirty tracking, read-only fields, which bits sstatus exposes, and the
 * trap-virtualization bits TVM/TW/TSR plus MPRV (with PMP deciding the effective rights).
 */
#include "test-macros.h"

        .data
        .align 12
allowed: .dword 0x1111
        .align 12
denied:  .dword 0x2222

        .text
        .globl test_main
test_main:
        /* UXL = SXL = 2 (64-bit) */
        csrr    s1, mstatus
        srli    s2, s1, 32
        andi    s2, s2, 0xf
        CHECK_EQ s2, 0xa, 1
        csrr    s1, sstatus
        srli    s2, s1, 32
        andi    s2, s2, 0xf
        CHECK_EQ s2, 0x2, 2                  /* sstatus shows UXL only */

        /* MPP holds M, S and U */
        .irp prv, 0, 1, 3
        li      t0, MSTATUS_MPP
        csrc    mstatus, t0
        li      t0, \prv << 11
        csrs    mstatus, t0
        csrr    s1, mstatus
        srli    s1, s1, 11
        andi    s1, s1, 3
        CHECK_EQ s1, \prv, 3 + \prv
        .endr
        /* SPP is one bit */
        li      t0, MSTATUS_SPP
        csrs    mstatus, t0
        csrr    s1, mstatus
        andi    s1, s1, MSTATUS_SPP
        CHECK_EQ s1, MSTATUS_SPP, 7
        li      t0, MSTATUS_SPP
        csrc    mstatus, t0
        csrr    s1, mstatus
        andi    s1, s1, MSTATUS_SPP
        CHECK_EQ s1, 0, 8

        /* FS and SD: SD summarises FS == Dirty */
        li      s3, MSTATUS_FS
        li      s4, MSTATUS_SD
        csrc    mstatus, s3
        csrr    s1, mstatus
        and     s2, s1, s3
        CHECK_EQ s2, 0, 9
        and     s2, s1, s4
        CHECK_EQ s2, 0, 10
        csrs    mstatus, s4                  /* SD is read-only */
        csrr    s1, mstatus
        and     s2, s1, s4
        CHECK_EQ s2, 0, 11
        csrs    mstatus, s3                  /* Dirty */
        csrr    s1, mstatus
        and     s2, s1, s4
        CHECK_EQ s2, MSTATUS_SD, 12
        csrr    s1, sstatus                  /* visible through sstatus too */
        and     s2, s1, s4
        CHECK_EQ s2, MSTATUS_SD, 13
        and     s2, s1, s3
        CHECK_EQ s2, MSTATUS_FS, 14
        csrc    mstatus, s3
        li      t0, 2 << 13                  /* Clean */
        csrs    mstatus, t0
        csrr    s1, mstatus
        and     s2, s1, s4
        CHECK_EQ s2, 0, 15
        /* an FP register write turns Initial into Dirty */
        csrc    mstatus, s3
        li      t0, 1 << 13
        csrs    mstatus, t0
        fmv.w.x fa0, zero
        csrr    s1, mstatus
        and     s2, s1, s3
        CHECK_EQ s2, MSTATUS_FS, 16
        and     s2, s1, s4
        CHECK_EQ s2, MSTATUS_SD, 17
        /* so does a write of fflags */
        csrc    mstatus, s3
        li      t0, 2 << 13
        csrs    mstatus, t0
        csrwi   fflags, 1
        csrr    s1, mstatus
        and     s2, s1, s3
        CHECK_EQ s2, MSTATUS_FS, 18
        /* sstatus.FS writes reach mstatus */
        csrc    sstatus, s3
        csrr    s1, mstatus
        and     s2, s1, s3
        CHECK_EQ s2, 0, 19

        /* read-only zero fields: XS, UBE, SBE, MBE (little-endian only) */
        li      t0, MSTATUS_XS | MSTATUS_UBE | (3 << 36)
        csrs    mstatus, t0
        csrr    s1, mstatus
        and     s2, s1, t0
        CHECK_EQ s2, 0, 20

        /* sstatus shows and writes only the S-level fields */
        li      t0, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR
        csrs    mstatus, t0
        csrr    s1, sstatus
        and     s2, s1, t0
        CHECK_EQ s2, 0, 21
        csrc    mstatus, t0
        li      t0, -1
        csrw    sstatus, t0
        csrr    s1, mstatus
        li      t0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR
        and     s2, s1, t0
        CHECK_EQ s2, 0, 22
        li      t0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_FS
        and     s2, s1, t0
        CHECK_EQR s2, t0, 23
        csrc    sstatus, t0
        csrr    s1, mstatus
        and     s2, s1, t0
        CHECK_EQ s2, 0, 24
        csrs    mstatus, t0                   /* and M-mode sets them back through mstatus */
        csrr    s1, sstatus
        and     s2, s1, t0
        CHECK_EQR s2, t0, 25
        csrc    mstatus, t0

        PMP_ALLOW_ALL

        /* TVM: satp and sfence.vma are illegal in S-mode when set, legal when clear */
        LEGAL_IN PRV_S, 30, csrr s5, satp
        LEGAL_IN PRV_S, 32, sfence.vma
        li      t0, MSTATUS_TVM
        csrs    mstatus, t0
        EXPECT_ILLEGAL_IN PRV_S, 34, csrr s5, satp
        li      t0, MSTATUS_TVM
        csrs    mstatus, t0
        EXPECT_ILLEGAL_IN PRV_S, 38, csrw satp, zero
        li      t0, MSTATUS_TVM
        csrs    mstatus, t0
        EXPECT_ILLEGAL_IN PRV_S, 42, sfence.vma
        li      t0, MSTATUS_TVM
        csrs    mstatus, t0
        EXPECT_ILLEGAL_IN PRV_S, 46, sfence.vma zero, s1
        /* TVM does not affect M-mode */
        li      t0, MSTATUS_TVM
        csrs    mstatus, t0
        csrr    s5, satp
        sfence.vma
        li      t0, MSTATUS_TVM
        csrc    mstatus, t0

        /* TW: WFI in S-mode is illegal */
        li      t0, MSTATUS_TW
        csrs    mstatus, t0
        EXPECT_ILLEGAL_IN PRV_S, 50, wfi
        li      t0, MSTATUS_TW
        csrc    mstatus, t0

        /* TSR: sret in S-mode is illegal when set */
        li      t0, MSTATUS_TSR
        csrs    mstatus, t0
        EXPECT_ILLEGAL_IN PRV_S, 54, sret
        li      t0, MSTATUS_TSR
        csrc    mstatus, t0
        /* ... and legal when clear: returns to SPP (S here) at sepc */
        la      t0, 1f
        csrw    sepc, t0
        li      t0, MSTATUS_SPP
        csrs    mstatus, t0
        RUN_IN  PRV_S, 2f, 3f
2:      sret
        FAIL    58
1:      ecall
3:      CHECK_MCAUSE CAUSE_SUPERVISOR_ECALL, 59
        CHECK_MEPC 1b, 60

        /*
         * MPRV: M-mode loads and stores use the privilege in MPP (Priv. spec 3.1.6.3).
         * PMP entry 0 (TOR) grants R on the page `allowed`; nothing matches `denied`.
         */
        la      t0, allowed
        srli    t0, t0, 2
        csrw    pmpaddr0, t0
        la      t0, allowed + 4096
        srli    t0, t0, 2
        csrw    pmpaddr1, t0
        li      t0, (0x09 << 8)               /* entry 1: TOR, R; entry 0: off */
        csrw    pmpcfg0, t0
        /* without MPRV, M-mode ignores PMP entries that are not locked */
        ld      s1, denied
        CHECK_EQ s1, 0x2222, 61
        li      t0, MSTATUS_MPRV | MSTATUS_MPP
        csrs    mstatus, t0                   /* MPRV with MPP = M: still M */
        ld      s1, denied
        CHECK_EQ s1, 0x2222, 62
        li      t0, MSTATUS_MPP
        csrc    mstatus, t0                   /* MPP = U: loads/stores checked as U */
        ld      s1, allowed
        CHECK_EQ s1, 0x1111, 63
        /* arm the handler while MPRV has no effect (MPP = M); it returns with MPRV = 0 */
        li      t0, MSTATUS_MPP
        csrs    mstatus, t0
        la      s2, denied
        EXPECT_TRAP 1f
        li      t0, MSTATUS_MPP
        csrc    mstatus, t0
mprv_load:
        ld      s1, 0(s2)
        TRAP_MISSED
1:      CHECK_MCAUSE CAUSE_LOAD_ACCESS, 64
        CHECK_MEPC mprv_load, 65
        CHECK_MTVAL_LABEL denied, 66
        la      s2, allowed
        EXPECT_TRAP 1f
        li      t0, MSTATUS_MPP
        csrc    mstatus, t0
        li      t0, MSTATUS_MPRV                 /* the handler cleared it */
        csrs    mstatus, t0
mprv_store:
        sd      zero, 0(s2)                   /* R only: store access fault */
        TRAP_MISSED
1:      CHECK_MCAUSE CAUSE_STORE_ACCESS, 67
        CHECK_MEPC mprv_store, 68
        CHECK_MTVAL_LABEL allowed, 69
        CHECK_MPP PRV_M, 73                   /* the trap came from M-mode */
        /* MPRV does not apply to instruction fetch: this code is still running */
        li      t0, MSTATUS_MPRV
        csrc    mstatus, t0
        ld      s1, denied
        CHECK_EQ s1, 0x2222, 70
        ld      s1, allowed
        CHECK_EQ s1, 0x1111, 71

        /* (MRET clearing MPRV is checked in qemu-differences.S) */
        PASS
