/*
 * Sv48 address translation (Priv. spec 4.5): the four-level walk for 4 KiB pages with
 * A/D updates, 2 MiB, 1 GiB and 512 GiB pages (and a misaligned 512 GiB page faulting),
 * addresses that are canonical for Sv48 but not for Sv39, and non-canonical ones.
 *
 * Map: l3[0] -> l2: identity 1 GiB pages for devices (0) and RAM (2), l2[1] -> l1 -> l0
 * (4 KiB pages at 0x40000000), l2[3] 1 GiB alias of RAM at 0xc0000000, l1[1] 2 MiB alias
 * of RAM at 0x40200000; l3[1] a 512 GiB page at VA 0x8000000000 -> PA 0; l3[2] a 512 GiB
 * page with a misaligned PPN.
 */
#include "test-macros.h"
        .option norvc

#define VA_RW     0x40000000
#define VA_NONE   0x40001000
#define VA_MEGA   0x40200000
#define VA_GIGA   0xc0000000
#define VA_TERA   0x8000000000
#define VA_BADTERA 0x10000000000
#define VA_NONCANON 0x0000800000000000    /* bit 47 = 1, bits 63:48 = 0 */
#define VA_HIGH   0xffff800000000000      /* canonical, unmapped (l3[256]) */

        .data
        .align 12
data_page:
        .dword 0x1111111111111111, 0x2222222222222222
        .align 12

        .bss
        .align 12
l3:     .skip 4096
l2:     .skip 4096
l1:     .skip 4096
l0:     .skip 4096

        .text
        .globl test_main
test_main:
        PMP_ALLOW_ALL
        SET_PTE l3, 0, l2, PTE_V
        SET_PTE_PA l3, 1, 0x0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
        SET_PTE_PA l3, 2, 0x80000000, PTE_V | PTE_R | PTE_A | PTE_D
        SET_PTE_PA l2, 0, 0x0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
        SET_PTE l2, 1, l1, PTE_V
        SET_PTE_PA l2, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
        SET_PTE_PA l2, 3, 0x80000000, PTE_V | PTE_R | PTE_A | PTE_D
        SET_PTE l1, 0, l0, PTE_V
        SET_PTE_PA l1, 1, 0x80000000, PTE_V | PTE_R | PTE_A | PTE_D
        SET_PTE l0, 0, data_page, PTE_V | PTE_R | PTE_W
        la      t0, l3
        srli    t0, t0, 12
        li      t1, SATP_SV48
        or      t0, t0, t1
        csrw    satp, t0
        csrr    s1, satp
        CHECK_EQR s1, t0, 1
        sfence.vma

        /* 4 KiB page through four levels: A on load, D on store */
        li      s2, VA_RW
        LEGAL_IN PRV_S, 2, ld s1, 8(s2)
        CHECK_EQ s1, 0x2222222222222222, 4
        GET_PTE s3, l0, 0
        andi    s3, s3, PTE_A | PTE_D
        CHECK_EQ s3, PTE_A, 5
        li      s4, 0x7777
        LEGAL_IN PRV_S, 6, sd s4, 0(s2)
        GET_PTE s3, l0, 0
        andi    s3, s3, PTE_A | PTE_D
        CHECK_EQ s3, PTE_A | PTE_D, 8
        ld      s1, data_page
        CHECK_EQ s1, 0x7777, 9
        li      s2, VA_NONE
        EXPECT_FAULT_IN PRV_S, 10, CAUSE_LOAD_PAGE_FAULT, VA_NONE, ld s1, 0(s2)
        EXPECT_FAULT_IN PRV_S, 14, CAUSE_STORE_PAGE_FAULT, VA_NONE + 8, sd s1, 8(s2)

        /* superpages: offset of data_page in RAM through each alias */
        la      s2, data_page
        li      t0, 0x80000000
        sub     s2, s2, t0
        li      t0, VA_MEGA
        add     s3, s2, t0
        LEGAL_IN PRV_S, 18, ld s1, 0(s3)
        CHECK_EQ s1, 0x7777, 20
        li      t0, VA_GIGA
        add     s3, s2, t0
        LEGAL_IN PRV_S, 21, ld s1, 0(s3)
        CHECK_EQ s1, 0x7777, 23
        /* 512 GiB page at 0x8000000000 maps PA 0: RAM is at 0x8000000000 + 0x80000000 */
        la      s2, data_page
        li      t0, VA_TERA
        add     s3, s2, t0
        LEGAL_IN PRV_S, 24, ld s1, 8(s3)
        CHECK_EQ s1, 0x2222222222222222, 26
        li      s4, 0x8888
        LEGAL_IN PRV_S, 27, sd s4, 8(s3)
        ld      s1, data_page + 8
        CHECK_EQ s1, 0x8888, 29
        li      s3, VA_BADTERA + 0x2000
        EXPECT_FAULT_IN PRV_S, 30, CAUSE_LOAD_PAGE_FAULT, VA_BADTERA + 0x2000, ld s1, 0(s3)

        /* canonical form: bits 63:48 equal bit 47 */
        li      s3, VA_NONCANON
        EXPECT_FAULT_IN PRV_S, 34, CAUSE_LOAD_PAGE_FAULT, VA_NONCANON, ld s1, 0(s3)
        EXPECT_FAULT_IN PRV_S, 38, CAUSE_STORE_PAGE_FAULT, VA_NONCANON, sd s1, 0(s3)
        RUN_IN  PRV_S, 1f, 2f
1:      jalr    s3
        TRAP_MISSED
2:      CHECK_MCAUSE CAUSE_FETCH_PAGE_FAULT, 42
        CHECK_MTVAL VA_NONCANON, 43
        li      s3, VA_HIGH                     /* canonical but unmapped */
        EXPECT_FAULT_IN PRV_S, 44, CAUSE_LOAD_PAGE_FAULT, VA_HIGH, ld s1, 0(s3)

        /* MPRV with MPP = S walks Sv48 for M-mode loads */
        la      s2, data_page
        li      t0, VA_TERA
        add     s3, s2, t0
        li      t0, MSTATUS_MPP
        csrc    mstatus, t0
        li      t0, MSTATUS_MPRV | (PRV_S << 11)
        csrs    mstatus, t0
        ld      s1, 0(s3)
        li      t0, MSTATUS_MPRV
        csrc    mstatus, t0
        CHECK_EQ s1, 0x7777, 48

        csrw    satp, zero
        sfence.vma
        PASS
