/*
 * Synchronous exceptions into M-mode (Priv. spec 3.1.14-3.1.16, 3.3): illegal
 * instruction (mtval = bits), breakpoint, load/store/fetch access faults outside any
 * device (mtval = address), ecall from U/S/M (mtval = 0), the mstatus stack on trap entry,
 * MRET/SRET effects, MRET/SRET illegal from lower modes, and delegation of exceptions to
 * S-mode through medeleg. (Instruction-address-misaligned cannot happen with C.)
 */
#include "test-macros.h"
        .option norvc

#define NOWHERE 0x100000000000          /* far above RAM and every device */

.macro ILLEGAL32 bits, code
        EXPECT_TRAP .Lback\@
.Lsite\@:
        .word   \bits
        TRAP_MISSED
.Lback\@:
        CHECK_MCAUSE CAUSE_ILLEGAL_INSTRUCTION, \code
        CHECK_MEPC .Lsite\@, \code + 1
        CHECK_MTVAL \bits, \code + 2
.endm

        .text
        .globl test_main
test_main:
        PMP_ALLOW_ALL
        /* illegal instructions: mtval holds the instruction bits */
        ILLEGAL32 0xfe000033, 1          /* OP, funct7 = 0x7f */
        ILLEGAL32 0x8000003b, 4          /* OP-32, funct7 = 0x40 with funct3 = 0 and bit 31 */
        ILLEGAL32 0x0000300f, 7          /* MISC-MEM, funct3 = 3 */
        ILLEGAL32 0x00200073, 10         /* SYSTEM: uret (N is not implemented) */
        ILLEGAL32 0x30500073, 13         /* SYSTEM, funct3 = 0, unknown funct12 */

        /* breakpoint: mepc = the ebreak, mtval = its address or 0 */
        EXPECT_TRAP 1f
ebreak_site:
        ebreak
        TRAP_MISSED
1:      CHECK_MCAUSE CAUSE_BREAKPOINT, 16
        CHECK_MEPC ebreak_site, 17
        ld      t0, rt_trap + TRAP_TVAL
        beqz    t0, 2f
        CHECK_LABEL t0, ebreak_site, 18
2:
        /* ecall from M, S and U: causes 11, 9, 8; mtval written with 0 */
        li      t0, -1
        csrw    mtval, t0
        EXPECT_TRAP 1f
ecall_m:
        ecall
        TRAP_MISSED
1:      CHECK_MCAUSE CAUSE_MACHINE_ECALL, 19
        CHECK_MEPC ecall_m, 20
        CHECK_MTVAL 0, 21
        CHECK_MPP PRV_M, 22
        li      t0, -1
        csrw    mtval, t0
        RUN_IN  PRV_S, ecall_s, 1f
ecall_s:
        ecall
1:      CHECK_MCAUSE CAUSE_SUPERVISOR_ECALL, 23
        CHECK_MEPC ecall_s, 24
        CHECK_MTVAL 0, 25
        CHECK_MPP PRV_S, 26
        RUN_IN  PRV_U, ecall_u, 1f
ecall_u:
        ecall
1:      CHECK_MCAUSE CAUSE_USER_ECALL, 27
        CHECK_MEPC ecall_u, 28
        CHECK_MPP PRV_U, 29

        /* access faults: nothing is mapped at NOWHERE or at 0 */
        li      s1, NOWHERE + 8
        EXPECT_TRAP 1f
load_fault:
        ld      s2, 0(s1)
        TRAP_MISSED
1:      CHECK_MCAUSE CAUSE_LOAD_ACCESS, 30
        CHECK_MEPC load_fault, 31
        CHECK_MTVAL NOWHERE + 8, 32
        EXPECT_TRAP 1f
        lw      s2, 0(zero)
        TRAP_MISSED
1:      CHECK_MCAUSE CAUSE_LOAD_ACCESS, 33
        CHECK_MTVAL 0, 34
        li      s1, NOWHERE
        EXPECT_TRAP 1f
store_fault:
        sw      s2, 0x10(s1)
        TRAP_MISSED
1:      CHECK_MCAUSE CAUSE_STORE_ACCESS, 35
        CHECK_MEPC store_fault, 36
        CHECK_MTVAL NOWHERE + 0x10, 37
        EXPECT_TRAP 1f
        amoadd.w s2, s2, (s1)                /* (cause 7 checked in qemu-differences.S) */
        TRAP_MISSED
1:      CHECK_MTVAL NOWHERE, 39
        li      s1, NOWHERE + 0x40
        EXPECT_TRAP 1f
        jalr    ra, 0(s1)                     /* fetch from nowhere: mepc = mtval = target */
        TRAP_MISSED
1:      CHECK_MCAUSE CAUSE_FETCH_ACCESS, 40
        ld      t0, rt_trap + TRAP_EPC
        CHECK_EQ t0, NOWHERE + 0x40, 41
        CHECK_MTVAL NOWHERE + 0x40, 42

        /* trap entry: MPIE = MIE, MIE = 0, MPP = previous privilege */
        csrw    mie, zero
        csrsi   mstatus, MSTATUS_MIE
        EXPECT_TRAP 1f
        ecall
1:      ld      s1, rt_trap + TRAP_STATUS
        andi    s2, s1, MSTATUS_MIE | MSTATUS_MPIE
        CHECK_EQ s2, MSTATUS_MPIE, 43
        csrci   mstatus, MSTATUS_MIE
        EXPECT_TRAP 1f
        ecall
1:      ld      s1, rt_trap + TRAP_STATUS
        andi    s2, s1, MSTATUS_MIE | MSTATUS_MPIE
        CHECK_EQ s2, 0, 44

        /* MRET: MIE = MPIE, MPIE = 1, MPP = U (least privileged), pc = mepc */
        li      t0, MSTATUS_MPP | MSTATUS_MPIE
        csrs    mstatus, t0
        la      t0, 1f
        csrw    mepc, t0
        mret
        FAIL    45
1:      csrr    s1, mstatus
        csrci   mstatus, MSTATUS_MIE
        andi    s2, s1, MSTATUS_MIE | MSTATUS_MPIE
        CHECK_EQ s2, MSTATUS_MIE | MSTATUS_MPIE, 46
        srli    s2, s1, 11
        andi    s2, s2, 3
        CHECK_EQ s2, PRV_U, 47
        li      t0, MSTATUS_MPP
        csrs    mstatus, t0
        li      t0, MSTATUS_MPIE
        csrc    mstatus, t0
        la      t0, 1f
        csrw    mepc, t0
        mret
1:      csrr    s1, mstatus
        andi    s2, s1, MSTATUS_MIE | MSTATUS_MPIE
        CHECK_EQ s2, MSTATUS_MPIE, 48

        /* SRET from M: to SPP (S) at sepc; SIE = SPIE, SPIE = 1, SPP = U */
        li      t0, MSTATUS_SPP | MSTATUS_SPIE
        csrs    mstatus, t0
        csrci   mstatus, MSTATUS_SIE
        la      t0, 1f
        csrw    sepc, t0
        EXPECT_TRAP 2f
        sret
        FAIL    49
1:      csrr    s3, sstatus                  /* legal: this is S-mode */
        ecall
2:      CHECK_MCAUSE CAUSE_SUPERVISOR_ECALL, 50
        andi    s2, s3, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
        CHECK_EQ s2, MSTATUS_SIE | MSTATUS_SPIE, 51
        csrci   mstatus, MSTATUS_SIE
        /* SRET with SPP = U goes to U-mode */
        li      t0, MSTATUS_SPP
        csrc    mstatus, t0
        la      t0, 1f
        csrw    sepc, t0
        EXPECT_TRAP 2f
        sret
1:      ecall
2:      CHECK_MCAUSE CAUSE_USER_ECALL, 52

        /* xRET from a lower privilege than the instruction's is illegal */
        EXPECT_ILLEGAL_IN PRV_U, 53, sret
        EXPECT_ILLEGAL_IN PRV_U, 57, mret
        EXPECT_ILLEGAL_IN PRV_S, 61, mret

        /*
         * Delegation: medeleg bit 8 sends ecall from U to S (Priv. spec 3.1.8). The S
         * handler records scause/sepc/stval/sstatus and resumes in S-mode.
         */
        la      t0, rt_strap_handler
        csrw    stvec, t0
        li      t0, (1 << CAUSE_USER_ECALL) | (1 << CAUSE_ILLEGAL_INSTRUCTION)
        csrw    medeleg, t0
        csrr    s1, medeleg
        CHECK_EQ s1, (1 << CAUSE_USER_ECALL) | (1 << CAUSE_ILLEGAL_INSTRUCTION), 65
        /* S sets its handler's resume point, drops to U (SIE = 1 first), U does ecall */
        RUN_IN  PRV_S, 1f, 3f
1:      EXPECT_STRAP 2f
        csrsi   sstatus, MSTATUS_SIE
        li      t0, MSTATUS_SPP
        csrc    sstatus, t0
        la      t0, deleg_ecall
        csrw    sepc, t0
        sret
deleg_ecall:
        ecall                                  /* U: goes to S */
2:      csrr    s3, sstatus                    /* back in S, after the S handler */
        csrr    s4, scause
        ecall                                  /* S: not delegated, goes to M */
3:      CHECK_MCAUSE CAUSE_SUPERVISOR_ECALL, 66
        CHECK_SCAUSE CAUSE_USER_ECALL, 67
        CHECK_SEPC deleg_ecall, 68
        CHECK_STVAL 0, 69
        ld      s1, rt_strap + TRAP_STATUS     /* sstatus seen by the S handler */
        andi    s2, s1, MSTATUS_SPP | MSTATUS_SIE | MSTATUS_SPIE
        CHECK_EQ s2, MSTATUS_SPIE, 70          /* SPP = U, SPIE = old SIE, SIE = 0 */
        CHECK_EQ s4, CAUSE_USER_ECALL, 71

        /* a delegated illegal instruction in S-mode: stval = bits, SPP = S */
        RUN_IN  PRV_S, 1f, 3f
1:      EXPECT_STRAP 2f
deleg_illegal:
        .word   0xfe000033
        FAIL    72
2:      ecall
3:      CHECK_MCAUSE CAUSE_SUPERVISOR_ECALL, 73
        CHECK_SCAUSE CAUSE_ILLEGAL_INSTRUCTION, 74
        CHECK_SEPC deleg_illegal, 75
        CHECK_STVAL 0xfe000033, 76
        ld      s1, rt_strap + TRAP_STATUS
        andi    s2, s1, MSTATUS_SPP
        CHECK_EQ s2, MSTATUS_SPP, 77

        /* traps taken in M-mode are never delegated */
        ILLEGAL32 0xfe000033, 78
        ld      t0, rt_strap + TRAP_COUNT
        CHECK_EQ t0, 2, 81                    /* the S handler ran exactly twice */
        csrw    medeleg, zero
        /* not delegated any more: U ecall goes to M */
        RUN_IN  PRV_U, 1f, 2f
1:      ecall
2:      CHECK_MCAUSE CAUSE_USER_ECALL, 82
        PASS
