/*
 * Sv39 address translation (Priv. spec 4.3, 4.4): 4 KiB pages, 2 MiB and 1 GiB
 * superpages (and misaligned ones faulting), A/D bits set by hardware, R/W/X/U
 * permissions with SUM and MXR, page faults 12/13/15 with mtval = virtual address, fetch
 * faults including an instruction straddling into an unmapped page, non-canonical
 * addresses, MPRV translating M-mode accesses, SFENCE.VMA after a PTE change, and satp
 * ignoring writes of an unsupported MODE.
 *
 * Map: VA 0x0-0x3fffffff and 0x80000000-0xbfffffff identity (1 GiB pages: devices, RAM);
 * VA 0x40000000-0x7fffffff through l1/l0 (test pages below); 0xc0000000 1 GiB alias of
 * RAM; 0x100000000 a misaligned 1 GiB page.
 */
#include "test-macros.h"
        .option norvc

#define VA_RW     0x40000000    /* data_page, RW, A = D = 0 initially */
#define VA_RO     0x40001000    /* data_page, R */
#define VA_XO     0x40002000    /* data_page, X only */
#define VA_USER   0x40003000    /* data_page, RW U */
#define VA_NONE   0x40004000    /* invalid */
#define VA_WO     0x40005000    /* W without R: reserved encoding */
#define VA_CODE   0x40006000    /* code_page, X (next page invalid) */
#define VA_UCODE  0x40009000    /* code_page, RX U */
#define VA_PTR    0x4000a000    /* non-leaf PTE at the last level */
#define VA_SWAP   0x4000b000    /* data_page, later other_page */
#define VA_MEGA   0x40200000    /* 2 MiB page -> PA 0x80000000 */
#define VA_BADMEGA 0x40400000   /* 2 MiB page with a misaligned PPN */
#define VA_GIGA   0xc0000000    /* 1 GiB page -> PA 0x80000000 */
#define VA_BADGIGA 0x100000000  /* 1 GiB page with a misaligned PPN */
#define VA_NONCANON 0x0000004000000000  /* bit 38 = 1 but bits 63:39 = 0 */

        .data
        .align 12
data_page:
        .dword 0x1111111111111111, 0x2222222222222222
        .align 12
other_page:
        .dword 0x3333333333333333, 0x4444444444444444
        .align 12

        .bss
        .align 12
root:   .skip 4096
l1:     .skip 4096
l0:     .skip 4096

        .text
        .align 12
/* executed through VA_CODE (S) and VA_UCODE (U) */
code_page:
        addi    s1, zero, 42
        ecall
code_load:                              /* code_page + 8: a load for U-mode tests */
        ld      s1, 0(s2)
        ecall
        . = code_page + 0xffe
straddle:                               /* low half on this page, high half on the next */
        addi    s1, zero, 43
        ecall

/* enter privilege priv at virtual address va; the next trap resumes at back */
.macro RUN_AT priv, va, back
        EXPECT_TRAP \back
        li      t0, MSTATUS_MPP
        csrc    mstatus, t0
        li      t0, (\priv) << 11
        csrs    mstatus, t0
        li      t0, \va
        csrw    mepc, t0
        mret
.endm

/* S-mode jump to va must raise a fetch page fault with mepc = mtval = va */
.macro FETCH_FAULT va, code
        li      s2, \va
        RUN_IN  PRV_S, .Ljump\@, .Lback\@
.Ljump\@:
        jalr    s2
        TRAP_MISSED
.Lback\@:
        CHECK_MCAUSE CAUSE_FETCH_PAGE_FAULT, \code
        ld      t0, rt_trap + TRAP_EPC
        CHECK_EQ t0, \va, \code + 1
        CHECK_MTVAL \va, \code + 2
.endm

        .globl test_main
test_main:
        PMP_ALLOW_ALL
        /* root: identity gigapages for devices and RAM, l1 for 0x40000000 */
        SET_PTE_PA root, 0, 0x0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
        SET_PTE root, 1, l1, PTE_V
        SET_PTE_PA root, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
        SET_PTE_PA root, 3, 0x80000000, PTE_V | PTE_R | PTE_A | PTE_D
        SET_PTE_PA root, 4, 0x80200000, PTE_V | PTE_R | PTE_A | PTE_D
        SET_PTE l1, 0, l0, PTE_V
        SET_PTE_PA l1, 1, 0x80000000, PTE_V | PTE_R | PTE_A | PTE_D
        SET_PTE_PA l1, 2, 0x80001000, PTE_V | PTE_R | PTE_A | PTE_D
        SET_PTE l0, 0, data_page, PTE_V | PTE_R | PTE_W
        SET_PTE l0, 1, data_page, PTE_V | PTE_R | PTE_A
        SET_PTE l0, 2, data_page, PTE_V | PTE_X | PTE_A
        SET_PTE l0, 3, data_page, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
        SET_PTE l0, 5, data_page, PTE_V | PTE_W | PTE_A | PTE_D
        SET_PTE l0, 6, code_page, PTE_V | PTE_X | PTE_A
        SET_PTE l0, 9, code_page, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A
        SET_PTE l0, 10, l0, PTE_V
        SET_PTE l0, 11, data_page, PTE_V | PTE_R | PTE_A
        la      t0, root
        srli    t0, t0, 12
        li      t1, SATP_SV39
        or      t0, t0, t1
        csrw    satp, t0
        csrr    s1, satp
        CHECK_EQR s1, t0, 1
        sfence.vma
        /* M-mode is not translated */
        ld      s1, data_page
        CHECK_EQ s1, 0x1111111111111111, 2

        /* 4 KiB page: load sets A, store sets D */
        li      s2, VA_RW
        LEGAL_IN PRV_S, 3, ld s1, 0(s2)
        CHECK_EQ s1, 0x1111111111111111, 5
        GET_PTE s3, l0, 0
        andi    s3, s3, PTE_A | PTE_D
        CHECK_EQ s3, PTE_A, 6
        li      s4, 0x5555
        LEGAL_IN PRV_S, 7, sd s4, 8(s2)
        GET_PTE s3, l0, 0
        andi    s3, s3, PTE_A | PTE_D
        CHECK_EQ s3, PTE_A | PTE_D, 9
        ld      s1, data_page + 8
        CHECK_EQ s1, 0x5555, 10
        /* an offset within the page */
        li      s2, VA_RW + 8
        LEGAL_IN PRV_S, 11, ld s1, 0(s2)
        CHECK_EQ s1, 0x5555, 13

        /* permissions */
        li      s2, VA_RO
        EXPECT_FAULT_IN PRV_S, 14, CAUSE_STORE_PAGE_FAULT, VA_RO + 8, sd s4, 8(s2)
        LEGAL_IN PRV_S, 18, ld s1, 0(s2)
        li      s2, VA_XO
        EXPECT_FAULT_IN PRV_S, 20, CAUSE_LOAD_PAGE_FAULT, VA_XO, ld s1, 0(s2)
        li      t0, MSTATUS_MXR                 /* MXR: X pages become readable */
        csrs    mstatus, t0
        LEGAL_IN PRV_S, 24, ld s1, 0(s2)
        CHECK_EQ s1, 0x1111111111111111, 26
        EXPECT_FAULT_IN PRV_S, 27, CAUSE_STORE_PAGE_FAULT, VA_XO, sd s4, 0(s2)
        li      t0, MSTATUS_MXR
        csrc    mstatus, t0
        li      s2, VA_NONE
        EXPECT_FAULT_IN PRV_S, 31, CAUSE_LOAD_PAGE_FAULT, VA_NONE + 0x10, ld s1, 0x10(s2)
        EXPECT_FAULT_IN PRV_S, 35, CAUSE_STORE_PAGE_FAULT, VA_NONE + 4, sw s4, 4(s2)
        /* (an AMO page fault is a store page fault: qemu-differences.S) */
        li      s2, VA_WO
        EXPECT_FAULT_IN PRV_S, 43, CAUSE_LOAD_PAGE_FAULT, VA_WO, ld s1, 0(s2)
        EXPECT_FAULT_IN PRV_S, 47, CAUSE_STORE_PAGE_FAULT, VA_WO, sd s4, 0(s2)
        li      s2, VA_PTR
        EXPECT_FAULT_IN PRV_S, 51, CAUSE_LOAD_PAGE_FAULT, VA_PTR, ld s1, 0(s2)

        /* U pages: S needs SUM to load/store, U may; U cannot touch S pages */
        li      s2, VA_USER
        EXPECT_FAULT_IN PRV_S, 55, CAUSE_LOAD_PAGE_FAULT, VA_USER, ld s1, 0(s2)
        EXPECT_FAULT_IN PRV_S, 59, CAUSE_STORE_PAGE_FAULT, VA_USER, sd s1, 0(s2)
        li      t0, MSTATUS_SUM
        csrs    mstatus, t0
        LEGAL_IN PRV_S, 63, ld s1, 0(s2)
        CHECK_EQ s1, 0x1111111111111111, 65
        LEGAL_IN PRV_S, 66, sd s1, 0(s2)
        li      t0, MSTATUS_SUM
        csrc    mstatus, t0
        /* (U-mode code must run from a U page: code_load through VA_UCODE) */
        li      s1, 0
        RUN_AT  PRV_U, VA_UCODE + 8, 1f
1:      CHECK_MCAUSE CAUSE_USER_ECALL, 68
        CHECK_EQ s1, 0x1111111111111111, 69
        li      s2, VA_RW
        RUN_AT  PRV_U, VA_UCODE + 8, 1f
1:      CHECK_MCAUSE CAUSE_LOAD_PAGE_FAULT, 70
        ld      t0, rt_trap + TRAP_EPC
        CHECK_EQ t0, VA_UCODE + 8, 71
        CHECK_MTVAL VA_RW, 72
        CHECK_MPP PRV_U, 73
        /* U cannot execute S pages (the identity-mapped RAM) */
        RUN_IN  PRV_U, 1f, 2f
1:      nop
        TRAP_MISSED
2:      CHECK_MCAUSE CAUSE_FETCH_PAGE_FAULT, 127
        CHECK_MEPC 1b, 128
        CHECK_MTVAL_LABEL 1b, 129

        /* instruction fetch */
        li      s2, VA_CODE
        RUN_IN  PRV_S, 1f, 2f
1:      li      s1, 0
        jalr    s2
        TRAP_MISSED
2:      CHECK_MCAUSE CAUSE_SUPERVISOR_ECALL, 74
        ld      t0, rt_trap + TRAP_EPC
        CHECK_EQ t0, VA_CODE + 4, 75             /* mepc is a virtual address */
        CHECK_EQ s1, 42, 76
        FETCH_FAULT VA_RO, 131                   /* not executable */
        FETCH_FAULT VA_NONE, 134                 /* invalid */
        FETCH_FAULT VA_UCODE, 137                /* U page */
        FETCH_FAULT VA_NONCANON, 140             /* not canonical */
        li      t0, MSTATUS_SUM                  /* SUM never allows S to execute U pages */
        csrs    mstatus, t0
        li      s2, VA_UCODE
        RUN_IN  PRV_S, 1f, 2f
1:      jalr    s2
        TRAP_MISSED
2:      CHECK_MCAUSE CAUSE_FETCH_PAGE_FAULT, 80
        li      t0, MSTATUS_SUM
        csrc    mstatus, t0
        /* U executes its own page */
        li      s1, 0
        RUN_AT  PRV_U, VA_UCODE, 2f
2:      CHECK_MCAUSE CAUSE_USER_ECALL, 81
        CHECK_EQ s1, 42, 130
        ld      t0, rt_trap + TRAP_EPC
        CHECK_EQ t0, VA_UCODE + 4, 82
        /* a 4-byte instruction straddling into an invalid page: mepc = its start, mtval =
         * the start of the page that faulted */
        li      s2, VA_CODE + 0xffe
        RUN_IN  PRV_S, 1f, 2f
1:      jalr    s2
        TRAP_MISSED
2:      CHECK_MCAUSE CAUSE_FETCH_PAGE_FAULT, 83
        ld      t0, rt_trap + TRAP_EPC
        CHECK_EQ t0, VA_CODE + 0xffe, 84
        CHECK_MTVAL VA_CODE + 0x1000, 85

        /* superpages */
        la      s2, data_page
        li      t0, 0x80000000
        sub     s2, s2, t0                         /* offset of data_page in RAM */
        li      t0, VA_MEGA
        add     s3, s2, t0
        LEGAL_IN PRV_S, 86, ld s1, 0(s3)
        CHECK_EQ s1, 0x1111111111111111, 88
        li      t0, VA_GIGA
        add     s3, s2, t0
        LEGAL_IN PRV_S, 89, ld s1, 8(s3)
        CHECK_EQ s1, 0x5555, 91
        li      s3, VA_BADMEGA + 0x18
        EXPECT_FAULT_IN PRV_S, 92, CAUSE_LOAD_PAGE_FAULT, VA_BADMEGA + 0x18, ld s1, 0(s3)
        li      s3, VA_BADGIGA + 0x1000
        EXPECT_FAULT_IN PRV_S, 96, CAUSE_LOAD_PAGE_FAULT, VA_BADGIGA + 0x1000, ld s1, 0(s3)
        /* non-canonical addresses: bits 63:39 must equal bit 38 */
        li      s3, VA_NONCANON
        EXPECT_FAULT_IN PRV_S, 100, CAUSE_LOAD_PAGE_FAULT, VA_NONCANON, ld s1, 0(s3)
        EXPECT_FAULT_IN PRV_S, 104, CAUSE_STORE_PAGE_FAULT, VA_NONCANON, sd s1, 0(s3)
        li      s3, 0xffffff8000000000 ^ 0x0000004000000000   /* upper ones, bit 38 = 0 */
        EXPECT_FAULT_IN PRV_S, 108, CAUSE_LOAD_PAGE_FAULT, 0xffffff8000000000 ^ 0x0000004000000000, ld s1, 0(s3)

        /* MPRV: M-mode loads translated with MPP's privilege */
        li      s2, VA_RW
        EXPECT_TRAP 1f
        li      t0, MSTATUS_MPP
        csrc    mstatus, t0
        li      t0, MSTATUS_MPRV | (PRV_S << 11)
        csrs    mstatus, t0
        ld      s1, 0(s2)
        li      t0, MSTATUS_MPRV | MSTATUS_MPP
        csrc    mstatus, t0
        sd      zero, rt_trap + TRAP_RESUME, t0
        j       2f
1:      FAIL    112
2:      CHECK_EQ s1, 0x1111111111111111, 113
        li      t0, MSTATUS_MPP
        csrs    mstatus, t0
        EXPECT_TRAP 1f
        li      t0, MSTATUS_MPP
        csrc    mstatus, t0
        li      t0, MSTATUS_MPRV                   /* MPP = U: S page not accessible */
        csrs    mstatus, t0
mprv_fault:
        ld      s1, 0(s2)
        TRAP_MISSED
1:      li      t0, MSTATUS_MPRV
        csrc    mstatus, t0
        CHECK_MCAUSE CAUSE_LOAD_PAGE_FAULT, 114
        CHECK_MEPC mprv_fault, 115
        CHECK_MTVAL VA_RW, 116
        CHECK_MPP PRV_M, 117

        /* SFENCE.VMA makes a changed PTE visible */
        li      s2, VA_SWAP
        LEGAL_IN PRV_S, 118, ld s1, 0(s2)
        CHECK_EQ s1, 0x1111111111111111, 120
        SET_PTE l0, 11, other_page, PTE_V | PTE_R | PTE_A
        RUN_IN  PRV_S, 1f, 2f
1:      sfence.vma s2, zero
        ld      s1, 0(s2)
        ecall
2:      CHECK_EQ s1, 0x3333333333333333, 121
        SET_PTE l0, 11, data_page, PTE_V | PTE_R | PTE_A
        RUN_IN  PRV_S, 1f, 2f
1:      sfence.vma
        ld      s1, 0(s2)
        ecall
2:      CHECK_EQ s1, 0x1111111111111111, 122

        /* satp: an unsupported MODE (5 is reserved) leaves satp unchanged */
        csrr    s1, satp
        li      t0, (5 << 60) | 0x1234
        csrw    satp, t0
        csrr    s2, satp
        CHECK_EQR s2, s1, 123
        /* Bare again: S-mode addresses are physical */
        csrw    satp, zero
        sfence.vma
        la      s2, other_page
        LEGAL_IN PRV_S, 124, ld s1, 0(s2)
        CHECK_EQ s1, 0x3333333333333333, 126
        PASS
