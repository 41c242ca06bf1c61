/*
 * Basic CSR behaviour: the Zicsr instructions (swap/set/clear, immediate forms, x0
 * rules), misa, mhartid and the boot registers, scratch registers, sie/sip as views of
 * mie/mip under mideleg, mtvec direct and vectored modes, and illegal instruction for
 * unknown CSRs, writes to read-only CSRs and access from a lower privilege.
 */
#include "test-macros.h"

        .text
        .globl test_main
test_main:
        /* boot: a0 = hartid, a1 = device tree in RAM (magic 0xd00dfeed, big-endian) */
        csrr    s1, mhartid
        CHECK_EQR a0, s1, 1
        CHECK_EQ s1, 0, 2
        li      t0, 0x80000000
        bltu    a1, t0, 1f
        li      t0, 0x88000000
        bgeu    a1, t0, 1f
        lwu     s2, 0(a1)
        CHECK_EQ s2, 0xedfe0dd0, 3
        j       2f
1:      FAIL    4
2:      PMP_ALLOW_ALL
        li      t0, CLINT_MTIMECMP
        li      t1, -1
        sd      t1, 0(t0)

        /* misa: RV64 (MXL = 2) with exactly A C D F I M S U */
        csrr    s1, misa
        CHECK_EQ s1, 0x800000000014112d, 5

        /* Zicsr: csrrw returns the old value and writes all 64 bits */
        li      s2, 0x0123456789abcdef
        csrw    mscratch, s2
        li      s3, 0xfedcba9876543210
        csrrw   s4, mscratch, s3
        CHECK_EQ s4, 0x0123456789abcdef, 6
        csrr    s4, mscratch
        CHECK_EQ s4, 0xfedcba9876543210, 7
        /* csrrs / csrrc: read old, set / clear bits */
        li      s2, 0x00000000000000ff
        csrrs   s4, mscratch, s2
        CHECK_EQ s4, 0xfedcba9876543210, 8
        csrr    s4, mscratch
        CHECK_EQ s4, 0xfedcba98765432ff, 9
        li      s2, 0xff00000000000000
        csrrc   s4, mscratch, s2
        csrr    s4, mscratch
        CHECK_EQ s4, 0x00dcba98765432ff, 10
        /* immediate forms: 5-bit zero-extended uimm */
        csrrwi  s4, mscratch, 31
        CHECK_EQ s4, 0x00dcba98765432ff, 11
        csrr    s4, mscratch
        CHECK_EQ s4, 31, 12
        csrrci  s4, mscratch, 5
        csrr    s4, mscratch
        CHECK_EQ s4, 26, 13
        csrrsi  s4, mscratch, 16 + 1
        csrr    s4, mscratch
        CHECK_EQ s4, 27, 14
        /* rd = x0 with csrrw still writes */
        li      s2, 0x55
        csrrw   x0, mscratch, s2
        csrr    s4, mscratch
        CHECK_EQ s4, 0x55, 15
        /* rd == rs1 */
        li      s4, 0x66
        csrrw   s4, mscratch, s4
        CHECK_EQ s4, 0x55, 16
        csrr    s4, mscratch
        CHECK_EQ s4, 0x66, 17

        /* sscratch: its own 64-bit register */
        li      s2, 0xa5a5a5a5a5a5a5a5
        csrw    sscratch, s2
        csrr    s4, sscratch
        CHECK_EQ s4, 0xa5a5a5a5a5a5a5a5, 18
        csrr    s4, mscratch
        CHECK_EQ s4, 0x66, 19
        /* sscratch is accessible from S-mode */
        LEGAL_IN PRV_S, 20, csrrw s5, sscratch, zero
        CHECK_EQ s5, 0xa5a5a5a5a5a5a5a5, 22
        csrr    s4, sscratch
        CHECK_EQ s4, 0, 23

        /* read-only CSRs: reading is fine, so are csrrs/csrrc with rs1 = x0 and uimm = 0 */
        csrrs   s4, mhartid, x0
        csrrc   s4, mhartid, x0
        csrrsi  s4, mhartid, 0
        csrrci  s4, mvendorid, 0
        csrr    s4, marchid
        csrr    s4, mimpid
        csrr    s4, cycle
        /* ... but any write is illegal */
        li      s2, 1
        EXPECT_ILLEGAL 24, csrw mhartid, s2
        EXPECT_ILLEGAL 27, csrrs s4, mvendorid, s2
        EXPECT_ILLEGAL 30, csrrwi s4, marchid, 0
        EXPECT_ILLEGAL 33, csrrci s4, mimpid, 1
        EXPECT_ILLEGAL 36, csrw cycle, s2
        EXPECT_ILLEGAL 39, csrrs s4, instret, s2
        EXPECT_ILLEGAL 42, csrwi time, 0

        /* unknown CSRs are illegal (0x123 unallocated; hgatp 0x680 needs H) */
        EXPECT_ILLEGAL 45, csrr s4, 0x123
        EXPECT_ILLEGAL 48, csrw 0x123, s2
        EXPECT_ILLEGAL 51, csrr s4, 0x680
        EXPECT_ILLEGAL 54, csrr s4, 0x5ff

        /* CSRs of a more privileged level are illegal from a lower one */
        EXPECT_ILLEGAL_IN PRV_S, 57, csrr s4, mstatus
        EXPECT_ILLEGAL_IN PRV_S, 61, csrw mscratch, s2
        EXPECT_ILLEGAL_IN PRV_S, 65, csrr s4, mhartid
        EXPECT_ILLEGAL_IN PRV_U, 69, csrr s4, sstatus
        EXPECT_ILLEGAL_IN PRV_U, 73, csrr s4, sscratch
        EXPECT_ILLEGAL_IN PRV_U, 77, csrr s4, mscratch
        EXPECT_ILLEGAL_IN PRV_U, 81, csrr s4, satp

        /*
         * sie/sip are views of mie/mip restricted to mideleg (Priv. spec 4.1.3): bits of
         * interrupts not delegated read as zero.
         */
        li      t0, 0xaaa
        csrw    mie, t0
        csrr    s4, mie
        CHECK_EQ s4, 0xaaa, 85
        csrw    mideleg, zero
        csrr    s4, sie
        CHECK_EQ s4, 0, 86
        li      t0, 0x222
        csrw    mideleg, t0
        csrr    s4, mideleg
        CHECK_EQ s4, 0x222, 87
        csrr    s4, sie
        CHECK_EQ s4, 0x222, 88
        csrw    sie, zero                     /* clears only the delegated bits in mie */
        csrr    s4, mie
        CHECK_EQ s4, 0x888, 89
        li      t0, 0xfff
        csrw    sie, t0                       /* M-level bits cannot be set through sie */
        csrr    s4, mie
        CHECK_EQ s4, 0xaaa, 90
        csrw    mie, zero
        li      t0, MIP_SSIP
        csrw    mideleg, t0
        csrs    sie, t0                        /* only SSIE now reachable */
        li      t0, MIP_STIP
        csrs    sie, t0
        csrr    s4, mie
        CHECK_EQ s4, MIP_SSIP, 91
        csrw    mie, zero
        /* mip: M-mode writes SSIP/STIP/SEIP; MSIP/MTIP/MEIP are not writable there */
        li      s7, 0xaaa                      /* the standard interrupt bits */
        li      t0, -1
        csrw    mip, t0
        csrr    s4, mip
        and     s4, s4, s7
        CHECK_EQ s4, 0x222, 92
        csrr    s4, sip                        /* only SSIP delegated */
        and     s4, s4, s7
        CHECK_EQ s4, MIP_SSIP, 93
        li      t0, 0x222
        csrw    mideleg, t0
        csrr    s4, sip
        and     s4, s4, s7
        CHECK_EQ s4, 0x222, 94
        csrw    sip, zero                      /* S-mode may clear SSIP only */
        csrr    s4, mip
        and     s4, s4, s7
        CHECK_EQ s4, MIP_STIP | MIP_SEIP, 95
        li      t0, MIP_SSIP
        csrs    sip, t0
        csrr    s4, mip
        and     s4, s4, s7
        CHECK_EQ s4, 0x222, 96
        li      t0, 0x222
        csrc    mip, t0
        csrr    s4, mip
        and     s4, s4, s7
        CHECK_EQ s4, 0, 97
        csrw    mideleg, zero

        /* mtvec direct: base written and read back */
        la      t0, alt_handler
        csrw    mtvec, t0
        csrr    s4, mtvec
        CHECK_LABEL s4, alt_handler, 98
        li      s6, 0
        ecall
        CHECK_EQ s6, 1, 99                     /* alt_handler ran and returned past ecall */

        /*
         * mtvec vectored (MODE = 1): exceptions go to BASE, interrupt cause n to
         * BASE + 4n (Priv. spec 3.1.7).
         */
        la      t0, vec_table
        ori     t0, t0, 1
        csrw    mtvec, t0
        csrr    s4, mtvec
        la      t1, vec_table
        ori     t1, t1, 1
        CHECK_EQR s4, t1, 100
        li      s6, 0
        ecall                                   /* exception: BASE */
        CHECK_EQ s6, 0x100, 101
        /* machine software interrupt (cause 3): BASE + 12 */
        csrci   mstatus, MSTATUS_MIE
        li      s6, 0
        li      t0, MIP_MSIP
        csrw    mie, t0
        li      t0, CLINT_MSIP
        li      t1, 1
        sw      t1, 0(t0)
        csrsi   mstatus, MSTATUS_MIE
        WAIT_NONZERO s6, 1000
        csrci   mstatus, MSTATUS_MIE
        CHECK_EQ s6, 0x103, 102
        /* supervisor timer interrupt, not delegated (cause 5): BASE + 20 */
        li      t0, MIP_STIP
        csrw    mie, t0
        csrs    mip, t0
        li      s6, 0
        csrsi   mstatus, MSTATUS_MIE
        WAIT_NONZERO s6, 1000
        csrci   mstatus, MSTATUS_MIE
        CHECK_EQ s6, 0x105, 103
        csrw    mie, zero
        la      t0, rt_trap_handler
        csrw    mtvec, t0
        PASS

/* Direct-mode handler for an ecall: s6 = 1, return past the ecall. */
        .align 2
alt_handler:
        li      s6, 1
        csrr    t0, mepc
        addi    t0, t0, 4
        csrw    mepc, t0
        mret

        .option push
        .option norvc
        .align 8
vec_table:
        j       vec_exception                   /* 0: exceptions */
        j       vec_unexpected                  /* 1 */
        j       vec_unexpected                  /* 2 */
        j       vec_msi                         /* 3: MSI */
        j       vec_unexpected                  /* 4 */
        j       vec_sti                         /* 5: STI */
        .rept 6
        j       vec_unexpected                  /* 6-11 */
        .endr
        .option pop

vec_exception:
        csrr    t0, mcause
        CHECK_EQ t0, CAUSE_MACHINE_ECALL, 104
        li      s6, 0x100
        csrr    t0, mepc
        addi    t0, t0, 4
        csrw    mepc, t0
        mret
vec_unexpected:
        FAIL    105
vec_msi:
        csrr    t0, mcause
        CHECK_EQ t0, CAUSE_INTERRUPT | 3, 106
        li      t0, CLINT_MSIP
        sw      zero, 0(t0)
        li      s6, 0x103
        mret
vec_sti:
        csrr    t0, mcause
        CHECK_EQ t0, CAUSE_INTERRUPT | 5, 107
        li      t0, MIP_STIP
        csrc    mip, t0
        li      s6, 0x105
        mret
