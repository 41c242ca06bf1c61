/*
 * RV64M: multiply high/low for every signedness with edge values, division and remainder
 * by zero and the INT_MIN / -1 overflow (Unpriv. spec 7.2, table 7.1), and the W forms.
 */
#include "test-macros.h"
        .option norvc

.macro TEST_RR code, op, expected, v1, v2
        li      s1, \v1
        li      s2, \v2
        \op     s3, s1, s2
        CHECK_EQ s3, \expected, \code
.endm

#define MIN64 0x8000000000000000
#define MAX64 0x7fffffffffffffff

        .text
        .globl test_main
test_main:
        TEST_RR 1, mul, 42, 7, 6
        TEST_RR 2, mul, 1, -1, -1
        TEST_RR 3, mul, MIN64, MIN64, -1
        TEST_RR 4, mul, 0x23456789abcdef00, 0x123456789abcdef0, 0x10
        TEST_RR 5, mul, -42, 7, -6
        TEST_RR 6, mul, 0, MIN64, 2

        TEST_RR 7, mulh, 0, -1, -1
        TEST_RR 8, mulh, 0x4000000000000000, MIN64, MIN64
        TEST_RR 9, mulh, 0, MIN64, -1
        TEST_RR 10, mulh, 0xffffffffffffffff, -1, 1
        TEST_RR 11, mulh, 0x3fffffffffffffff, MAX64, MAX64
        TEST_RR 12, mulh, 0xc000000000000000, MIN64, MAX64
        TEST_RR 13, mulh, 0xffffffffffffffff, 5, -3

        TEST_RR 14, mulhu, 0xfffffffffffffffe, -1, -1
        TEST_RR 15, mulhu, 1, MIN64, 2
        TEST_RR 16, mulhu, 0, 0xffffffff, 0xffffffff
        TEST_RR 17, mulhu, 0x4000000000000000, MIN64, MIN64

        TEST_RR 18, mulhsu, 0xffffffffffffffff, -1, -1
        TEST_RR 19, mulhsu, MIN64, MIN64, -1
        TEST_RR 20, mulhsu, 1, 2, MIN64
        TEST_RR 21, mulhsu, 0xffffffffffffffff, -2, 3
        TEST_RR 22, mulhsu, 0xc000000000000000, MIN64, MIN64
        TEST_RR 23, mulhsu, 0x7ffffffffffffffe, MAX64, -1

        TEST_RR 24, mulw, 0xfffffffffffffffe, 0x7fffffff, 2
        TEST_RR 25, mulw, 15, 0x1234567800000003, 0xabcdef0000000005
        TEST_RR 26, mulw, 0, 0x10000, 0x10000
        TEST_RR 27, mulw, 0xffffffff80000000, 0x40000000, 2
        TEST_RR 28, mulw, 1, -1, -1

        TEST_RR 29, div, 3, 20, 6
        TEST_RR 30, div, -3, -20, 6
        TEST_RR 31, div, -3, 20, -6
        TEST_RR 32, div, 3, -20, -6
        TEST_RR 33, div, -1, 20, 0
        TEST_RR 34, div, -1, -20, 0
        TEST_RR 35, div, MIN64, MIN64, -1
        TEST_RR 36, div, 0, 5, 6

        TEST_RR 37, divu, 3, 20, 6
        TEST_RR 38, divu, MAX64, -1, 2
        TEST_RR 39, divu, 0xffffffffffffffff, 20, 0
        TEST_RR 40, divu, 0, MIN64, -1
        TEST_RR 41, divu, 1, -1, -1

        TEST_RR 42, rem, 2, 20, 6
        TEST_RR 43, rem, -2, -20, 6
        TEST_RR 44, rem, 2, 20, -6
        TEST_RR 45, rem, -2, -20, -6
        TEST_RR 46, rem, 20, 20, 0
        TEST_RR 47, rem, -20, -20, 0
        TEST_RR 48, rem, 0, MIN64, -1

        TEST_RR 49, remu, 2, 20, 6
        TEST_RR 50, remu, 1, -1, 2
        TEST_RR 51, remu, -20, -20, 0
        TEST_RR 52, remu, MAX64, MAX64, MIN64

        TEST_RR 53, divw, 0xffffffff80000000, 0x80000000, -1
        TEST_RR 54, divw, -1, 20, 0
        TEST_RR 55, divw, -3, -20, 6
        TEST_RR 56, divw, 3, 0xffffffff00000014, 0x0000000100000006
        TEST_RR 57, divw, 0xffffffffffffffff, 0x00000000ffffffff, 0x1234567800000001

        TEST_RR 58, divuw, 0x7fffffff, 0xffffffff, 2
        TEST_RR 59, divuw, 0xffffffff80000000, 0x80000000, 1
        TEST_RR 60, divuw, 0xffffffffffffffff, 20, 0
        TEST_RR 61, divuw, 0x7fffffff, 0x12345678fffffffe, 0xabcdef0000000002

        TEST_RR 62, remw, 0, 0x80000000, -1
        TEST_RR 63, remw, 0xffffffff80000001, 0x0000000080000001, 0
        TEST_RR 64, remw, -2, -20, 6
        TEST_RR 65, remw, 2, 0xffffffff00000014, 0x0000000100000006

        TEST_RR 66, remuw, 15, 0xffffffff, 0x10
        TEST_RR 67, remuw, 0xffffffff80000001, 0x80000001, 0
        TEST_RR 68, remuw, 0xffffffff80000001, 0x1234567880000001, 0xffffffff00000000
        TEST_RR 69, remuw, 1, 0xffffffff, 0xfffffffe

        /* destination equal to a source */
        li      s1, 6
        li      s2, 7
        mul     s1, s1, s2
        CHECK_EQ s1, 42, 70
        li      s1, 100
        li      s2, 7
        rem     s2, s1, s2
        CHECK_EQ s2, 2, 71
        /* results written to x0 are discarded */
        div     x0, s1, x0
        CHECK_EQ x0, 0, 72
        PASS
