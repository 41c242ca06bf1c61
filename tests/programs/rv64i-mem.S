/*
 * RV64I loads and stores: every width, sign vs zero extension, positive and negative
 * offsets, partial stores leaving neighbours intact, x0 as destination, and misaligned
 * accesses (Vireo completes them, as QEMU does), including ones crossing a page.
 */
#include "test-macros.h"
        .option norvc

        .data
        .align 4
/* bytes in memory: 88 97 a6 b5 c4 d3 e2 f1 | 7f 6e 5d 4c 3b 2a 19 08 */
pattern:
        .dword 0xf1e2d3c4b5a69788
        .dword 0x08192a3b4c5d6e7f
scratch:
        .dword 0, 0, 0

        .align 12
        .skip 4096 - 16
page_edge:                          /* 16 bytes before a page boundary */
        .skip 32

        .text
        .globl test_main
test_main:
        la      s1, pattern
        lb      s3, 0(s1)
        CHECK_EQ s3, 0xffffffffffffff88, 1
        lbu     s3, 0(s1)
        CHECK_EQ s3, 0x88, 2
        lb      s3, 8(s1)
        CHECK_EQ s3, 0x7f, 3
        lbu     s3, 8(s1)
        CHECK_EQ s3, 0x7f, 4
        lh      s3, 0(s1)
        CHECK_EQ s3, 0xffffffffffff9788, 5
        lhu     s3, 0(s1)
        CHECK_EQ s3, 0x9788, 6
        lh      s3, 8(s1)
        CHECK_EQ s3, 0x6e7f, 7
        lhu     s3, 6(s1)
        CHECK_EQ s3, 0xf1e2, 8
        lw      s3, 0(s1)
        CHECK_EQ s3, 0xffffffffb5a69788, 9
        lwu     s3, 0(s1)
        CHECK_EQ s3, 0xb5a69788, 10
        lw      s3, 8(s1)
        CHECK_EQ s3, 0x4c5d6e7f, 11
        lwu     s3, 4(s1)
        CHECK_EQ s3, 0xf1e2d3c4, 12
        lw      s3, 4(s1)
        CHECK_EQ s3, 0xfffffffff1e2d3c4, 13
        ld      s3, 0(s1)
        CHECK_EQ s3, 0xf1e2d3c4b5a69788, 14
        ld      s3, 8(s1)
        CHECK_EQ s3, 0x08192a3b4c5d6e7f, 15
        /* negative offsets */
        addi    s2, s1, 16
        ld      s3, -16(s2)
        CHECK_EQ s3, 0xf1e2d3c4b5a69788, 16
        lb      s3, -1(s2)
        CHECK_EQ s3, 0x08, 17
        lh      s3, -10(s2)
        CHECK_EQ s3, 0xfffffffffffff1e2, 18
        /* 12-bit offset extremes */
        addi    s2, s1, -2047
        ld      s3, 2047(s2)
        CHECK_EQ s3, 0xf1e2d3c4b5a69788, 19
        li      s4, 2048
        add     s2, s1, s4
        ld      s3, -2048(s2)
        CHECK_EQ s3, 0xf1e2d3c4b5a69788, 20
        /* a load into x0 has no architectural effect */
        ld      x0, 0(s1)
        CHECK_EQ x0, 0, 21

        /* stores of every width only touch their own bytes */
        la      s2, scratch
        li      s4, 0x123456789abcdef0
        sd      zero, 0(s2)
        sb      s4, 3(s2)
        ld      s3, 0(s2)
        CHECK_EQ s3, 0x00000000f0000000, 22
        sd      zero, 0(s2)
        sh      s4, 2(s2)
        ld      s3, 0(s2)
        CHECK_EQ s3, 0x00000000def00000, 23
        sd      zero, 0(s2)
        sw      s4, 4(s2)
        ld      s3, 0(s2)
        CHECK_EQ s3, 0x9abcdef000000000, 24
        sd      s4, 0(s2)
        ld      s3, 0(s2)
        CHECK_EQ s3, 0x123456789abcdef0, 25
        li      s5, -1
        sd      s5, 8(s2)
        sb      zero, 15(s2)
        ld      s3, 8(s2)
        CHECK_EQ s3, 0x00ffffffffffffff, 26
        sh      zero, 8(s2)
        ld      s3, 8(s2)
        CHECK_EQ s3, 0x00ffffffffff0000, 27
        sw      s4, -4(s2)                   /* negative offset store (into pattern+12) */
        ld      s3, 8(s1)
        CHECK_EQ s3, 0x9abcdef04c5d6e7f, 28
        li      s5, 0x08192a3b4c5d6e7f         /* restore pattern */
        sd      s5, 8(s1)

        /* misaligned loads complete */
        lh      s3, 1(s1)
        CHECK_EQ s3, 0xffffffffffffa697, 29
        lhu     s3, 7(s1)
        CHECK_EQ s3, 0x7ff1, 30
        lw      s3, 1(s1)
        CHECK_EQ s3, 0xffffffffc4b5a697, 31
        lwu     s3, 3(s1)
        CHECK_EQ s3, 0xe2d3c4b5, 32
        lw      s3, 6(s1)
        CHECK_EQ s3, 0x6e7ff1e2, 33
        ld      s3, 1(s1)
        CHECK_EQ s3, 0x7ff1e2d3c4b5a697, 34
        ld      s3, 5(s1)
        CHECK_EQ s3, 0x3b4c5d6e7ff1e2d3, 35
        ld      s3, 7(s1)
        CHECK_EQ s3, 0x192a3b4c5d6e7ff1, 36

        /* misaligned stores complete */
        la      s2, scratch
        sd      zero, 0(s2)
        sd      zero, 8(s2)
        li      s4, 0x1122334455667788
        sd      s4, 3(s2)
        ld      s3, 0(s2)
        CHECK_EQ s3, 0x4455667788000000, 37
        ld      s3, 8(s2)
        CHECK_EQ s3, 0x0000000000112233, 38
        sw      s4, 6(s2)
        ld      s3, 0(s2)
        CHECK_EQ s3, 0x7788667788000000, 39
        ld      s3, 8(s2)
        CHECK_EQ s3, 0x0000000000115566, 40
        sh      s4, 7(s2)
        ld      s3, 0(s2)
        CHECK_EQ s3, 0x8888667788000000, 41
        ld      s3, 8(s2)
        CHECK_EQ s3, 0x0000000000115577, 42

        /* misaligned accesses crossing a 4 KiB page boundary */
        la      s2, page_edge
        li      s4, 0x0102030405060708
        sd      s4, 13(s2)                   /* bytes 13..20: crosses at 16 */
        ld      s3, 13(s2)
        CHECK_EQ s3, 0x0102030405060708, 43
        lw      s3, 14(s2)
        CHECK_EQ s3, 0x04050607, 44
        lbu     s3, 16(s2)
        CHECK_EQ s3, 0x05, 45
        lbu     s3, 15(s2)
        CHECK_EQ s3, 0x06, 46
        lh      s3, 15(s2)
        CHECK_EQ s3, 0x0506, 47
        PASS
