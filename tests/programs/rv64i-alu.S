/*
 * RV64I integer computation: register-register and immediate forms, the W forms and their
 * sign extension, shifts at every interesting shift amount, LUI/AUIPC and x0 as a sink.
 * Built with .option norvc so every instruction is the 32-bit encoding.
 */
#include "test-macros.h"
        .option norvc

/* rd = op(v1, v2); operands in s1/s2, result in s3. */
.macro TEST_RR code, op, expected, v1, v2
        li      s1, \v1
        li      s2, \v2
        \op     s3, s1, s2
        CHECK_EQ s3, \expected, \code
.endm

/* rd = op(v1, imm) */
.macro TEST_RI code, op, expected, v1, imm
        li      s1, \v1
        \op     s3, s1, \imm
        CHECK_EQ s3, \expected, \code
.endm

        .text
        .globl test_main
test_main:
        /* ADD / SUB */
        TEST_RR 1, add, 3, 1, 2
        TEST_RR 2, add, 0x8000000000000000, 0x7fffffffffffffff, 1
        TEST_RR 3, add, 0, -1, 1
        TEST_RR 4, sub, 0xffffffffffffffff, 0, 1
        TEST_RR 5, sub, 0x7fffffffffffffff, 0x8000000000000000, 1
        TEST_RR 6, sub, 0, 0x123456789abcdef0, 0x123456789abcdef0
        /* ADDI: 12-bit signed immediate extremes */
        TEST_RI 7, addi, 0xffffffffffffffff, 0, -1
        TEST_RI 8, addi, 2047, 0, 2047
        TEST_RI 9, addi, -2048, 0, -2048
        TEST_RI 10, addi, 0x8000000000000000, 0x80000000000007ff, -2047

        /* W forms operate on the low 32 bits and sign-extend the 32-bit result */
        TEST_RR 11, addw, 0xffffffff80000000, 0x7fffffff, 1
        TEST_RR 12, addw, 0, 0xffffffff, 1
        TEST_RR 13, addw, 3, 0x1234567800000001, 0xabcdef0000000002
        TEST_RR 14, subw, 0xffffffffffffffff, 0, 1
        TEST_RR 15, subw, 0x7fffffff, 0x80000000, 1
        TEST_RR 16, subw, 2, 0x1234567800000005, 0x3
        TEST_RI 17, addiw, 0xffffffff80000000, 0x7fffffff, 1
        TEST_RI 18, addiw, 1, 0xffffffff00000001, 0
        TEST_RI 19, addiw, 0xffffffff80000000, 0x80000000, 0
        TEST_RI 20, addiw, 0x7fffffff, 0x80000000, -1
        TEST_RI 21, addiw, 0xfffffffffffff800, 0, -2048

        /* Comparisons */
        TEST_RR 22, slt, 1, -1, 1
        TEST_RR 23, slt, 0, 1, -1
        TEST_RR 24, slt, 0, 5, 5
        TEST_RR 25, slt, 1, 0x8000000000000000, 0x7fffffffffffffff
        TEST_RR 26, sltu, 0, -1, 1
        TEST_RR 27, sltu, 1, 1, -1
        TEST_RR 28, sltu, 0, 7, 7
        TEST_RI 29, slti, 0, 0, -1
        TEST_RI 30, slti, 1, -2, -1
        TEST_RI 31, slti, 1, 0x8000000000000000, 0
        TEST_RI 32, sltiu, 1, 0, -1         /* immediate sign-extends, then compares unsigned */
        TEST_RI 33, sltiu, 0, -1, -1
        TEST_RI 34, sltiu, 1, 0, 1          /* seqz */
        TEST_RI 35, sltiu, 0, 5, 1

        /* Logic */
        TEST_RR 36, and, 0x0f000f000f000f00, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f
        TEST_RR 37, or, 0xff0fff0fff0fff0f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f
        TEST_RR 38, xor, 0xf00ff00ff00ff00f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f
        TEST_RI 39, andi, 0x123456789abcdef0, 0x123456789abcdef7, -16
        TEST_RI 40, andi, 0x7f0, 0x123456789abcdff0, 0x7ff
        TEST_RI 41, ori, 0xffffffffffffff00 | 0x45, 0x45, -256
        TEST_RI 42, ori, 0x12345678000007ff, 0x1234567800000000, 0x7ff
        TEST_RI 43, xori, 0xedcba9876543210f, 0x123456789abcdef0, -1
        TEST_RI 44, xori, 0x123456789abcd90f, 0x123456789abcdef0, 0x7ff

        /* Shifts by register: only the low 6 bits of rs2 count */
        TEST_RR 45, sll, 0x123456789abcdef0, 0x123456789abcdef0, 0
        TEST_RR 46, sll, 0x2468acf13579bde0, 0x123456789abcdef0, 1
        TEST_RR 47, sll, 0x8000000000000000, 1, 63
        TEST_RR 48, sll, 0x123456789abcdef0, 0x123456789abcdef0, 64
        TEST_RR 49, sll, 2, 1, 65
        TEST_RR 50, sll, 0x8000000000000000, 1, -1
        TEST_RR 51, srl, 1, 0x8000000000000000, 63
        TEST_RR 52, srl, 0x4000000000000000, 0x8000000000000000, 1
        TEST_RR 53, srl, 0x8000000000000000, 0x8000000000000000, 0
        TEST_RR 54, srl, 0x8000000000000000, 0x8000000000000000, 64
        TEST_RR 55, srl, 0x00000000ffffffff, 0xffffffffffffffff, 32
        TEST_RR 56, sra, 0xffffffffffffffff, 0x8000000000000000, 63
        TEST_RR 57, sra, 0xc000000000000000, 0x8000000000000000, 1
        TEST_RR 58, sra, 0x8000000000000000, 0x8000000000000000, 64
        TEST_RR 59, sra, 0x0000000012345678, 0x1234567800000000, 32
        TEST_RR 60, sra, 0, 0x7fffffffffffffff, 63
        /* Shifts by immediate */
        TEST_RI 61, slli, 0x123456789abcdef0, 0x123456789abcdef0, 0
        TEST_RI 62, slli, 0x8000000000000000, 1, 63
        TEST_RI 63, slli, 0x9abcdef000000000, 0x123456789abcdef0, 32
        TEST_RI 64, slli, 0x0000000080000000, 1, 31
        TEST_RI 65, srli, 1, 0x8000000000000000, 63
        TEST_RI 66, srli, 0x0000000012345678, 0x123456789abcdef0, 32
        TEST_RI 67, srli, 0x8000000000000000, 0x8000000000000000, 0
        TEST_RI 68, srai, 0xffffffffffffffff, 0x8000000000000000, 63
        TEST_RI 69, srai, 0xffffffff80000000, 0x8000000000000000, 32
        TEST_RI 70, srai, 0x0091a2b3c4d5e6f7, 0x123456789abcdef0, 5
        TEST_RI 71, srai, 0x8000000000000001, 0x8000000000000001, 0

        /* W shifts: low 5 bits of rs2, operate on the low word, sign-extend the result */
        TEST_RR 72, sllw, 0xffffffff80000000, 1, 31
        TEST_RR 73, sllw, 1, 1, 32
        TEST_RR 74, sllw, 0x0000000012345678, 0xffffffff12345678, 0
        TEST_RR 75, sllw, 0xfffffffff0000000, 0x000000000000000f, 28
        TEST_RR 76, srlw, 1, 0xffffffff80000000, 31
        TEST_RR 77, srlw, 0xffffffff80000000, 0x0000000080000000, 0
        TEST_RR 78, srlw, 0xffffffff80000000, 0x0000000080000000, 32
        TEST_RR 79, srlw, 0x0000000008000000, 0x1234567880000000, 4
        TEST_RR 80, sraw, 0xffffffffffffffff, 0x0000000080000000, 31
        TEST_RR 81, sraw, 0xfffffffff8000000, 0x1234567880000000, 4
        TEST_RR 82, sraw, 0x0000000007ffffff, 0xffffffff7fffffff, 4
        TEST_RR 83, sraw, 0xffffffff80000000, 0x0000000080000000, 32
        TEST_RI 84, slliw, 0xffffffff80000000, 1, 31
        TEST_RI 85, slliw, 0x0000000012345678, 0xabcdef0012345678, 0
        TEST_RI 86, slliw, 0x0000000023456780, 0x0000000012345678, 4
        TEST_RI 87, srliw, 1, 0xffffffff80000000, 31
        TEST_RI 88, srliw, 0xffffffff80000000, 0x0000000080000000, 0
        TEST_RI 89, srliw, 0x000000000fffffff, 0x00000000ffffffff, 4
        TEST_RI 90, sraiw, 0xffffffffffffffff, 0x0000000080000000, 31
        TEST_RI 91, sraiw, 0x000000007fffffff, 0x123456787fffffff, 0
        TEST_RI 92, sraiw, 0xfffffffff8000000, 0x0000000080000000, 4

        /* LUI: 20-bit immediate into bits 31:12, sign-extended to 64 bits */
        lui     s3, 0x80000
        CHECK_EQ s3, 0xffffffff80000000, 93
        lui     s3, 0xfffff
        CHECK_EQ s3, 0xfffffffffffff000, 94
        lui     s3, 0x7ffff
        CHECK_EQ s3, 0x000000007ffff000, 95
        lui     s3, 0
        CHECK_EQ s3, 0, 96

        /* AUIPC: pc + sign-extended (imm << 12) */
auipc0: auipc   s3, 0
        CHECK_LABEL s3, auipc0, 97
auipc1: auipc   s3, 0xfffff                 /* pc - 4096 */
        la      s1, auipc1
        li      s2, 4096
        sub     s1, s1, s2
        CHECK_EQR s3, s1, 98
auipc2: auipc   s3, 0x80000                 /* pc - 2 GiB */
        la      s1, auipc2
        li      s2, 0xffffffff80000000
        add     s1, s1, s2
        CHECK_EQR s3, s1, 99
auipc3: auipc   s3, 1
        la      s1, auipc3
        addi    s1, s1, 2047
        addi    s1, s1, 2047
        addi    s1, s1, 2
        CHECK_EQR s3, s1, 100

        /* x0 ignores writes from every kind of instruction */
        li      s1, 0x55
        addi    x0, s1, 1
        CHECK_EQ x0, 0, 101
        add     x0, s1, s1
        CHECK_EQ x0, 0, 102
        lui     x0, 0x12345
        CHECK_EQ x0, 0, 103
        auipc   x0, 1
        CHECK_EQ x0, 0, 104
        slli    x0, s1, 3
        CHECK_EQ x0, 0, 105
        addiw   x0, s1, 1
        CHECK_EQ x0, 0, 106
        /* reading x0 always gives zero */
        add     s3, x0, x0
        CHECK_EQ s3, 0, 107
        /* rd == rs1 == rs2 */
        li      s3, 21
        add     s3, s3, s3
        CHECK_EQ s3, 42, 108
        /* sext.w / negw / not pseudo-instructions */
        li      s1, 0x00000000fffffffe
        sext.w  s3, s1
        CHECK_EQ s3, -2, 109
        li      s1, 0x80000000
        negw    s3, s1
        CHECK_EQ s3, 0xffffffff80000000, 110
        /* fence / fence.i / nop retire without effect */
        li      s3, 9
        fence
        fence   rw, rw
        fence.i
        nop
        CHECK_EQ s3, 9, 111
        PASS
