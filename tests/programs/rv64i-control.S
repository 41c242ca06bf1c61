/*
 * RV64I control transfer: every conditional branch taken and not taken (signed and
 * unsigned edge values, forward and backward), JAL/JALR link values and targets,
 * JALR clearing bit 0 of the target, and rd == rs1 for JALR. 32-bit encodings only.
 */
#include "test-macros.h"
        .option norvc

.macro BR_TAKEN code, op, v1, v2
        li      s1, \v1
        li      s2, \v2
        \op     s1, s2, .Ltaken\@
        FAIL    \code
.Ltaken\@:
.endm

.macro BR_NOT_TAKEN code, op, v1, v2
        li      s1, \v1
        li      s2, \v2
        \op     s1, s2, .Lbad\@
        j       .Lok\@
.Lbad\@:
        FAIL    \code
.Lok\@:
.endm

        .text
        .globl test_main
test_main:
        BR_TAKEN 1, beq, 5, 5
        BR_NOT_TAKEN 2, beq, 5, 6
        BR_NOT_TAKEN 3, beq, 0x100000000, 0        /* all 64 bits compared */
        BR_TAKEN 4, bne, 0x100000000, 0
        BR_NOT_TAKEN 5, bne, -1, -1
        BR_TAKEN 6, blt, -1, 0
        BR_NOT_TAKEN 7, blt, 0, -1
        BR_NOT_TAKEN 8, blt, 3, 3
        BR_TAKEN 9, blt, 0x8000000000000000, 0x7fffffffffffffff
        BR_TAKEN 10, bge, 3, 3
        BR_TAKEN 11, bge, 0, -1
        BR_NOT_TAKEN 12, bge, -1, 0
        BR_NOT_TAKEN 13, bge, 0x8000000000000000, 0x7fffffffffffffff
        BR_TAKEN 14, bltu, 0, -1
        BR_NOT_TAKEN 15, bltu, -1, 0
        BR_NOT_TAKEN 16, bltu, 7, 7
        BR_TAKEN 17, bltu, 0x7fffffffffffffff, 0x8000000000000000
        BR_TAKEN 18, bgeu, 7, 7
        BR_TAKEN 19, bgeu, -1, 0
        BR_NOT_TAKEN 20, bgeu, 0, -1
        BR_NOT_TAKEN 21, bgeu, 0x7fffffffffffffff, 0x8000000000000000

        /* backward branch: a counted loop runs exactly 5 times */
        li      s1, 5
        li      s3, 0
1:      addi    s3, s3, 1
        addi    s1, s1, -1
        bnez    s1, 1b
        CHECK_EQ s3, 5, 22

        /* JAL: ra = address of the next instruction, jumps to the target */
        li      s3, 0
jal_site:
        jal     ra, jal_target
jal_return:
        CHECK_EQ s3, 1, 23
        j       1f
jal_target:
        li      s3, 1
        CHECK_LABEL ra, jal_return, 24
        jr      ra
1:
        /* JAL with another link register and a backward target */
        j       2f
jal_back_target:
        CHECK_LABEL s4, jal_back_return, 25
        jr      s4
2:      jal     s4, jal_back_target
jal_back_return:

        /* JALR: target = (rs1 + imm) & ~1, rd = pc + 4 */
        la      s1, jalr_target1
        jalr    s5, 0(s1)
jalr_ret1:
        FAIL    26
jalr_target1:
        CHECK_LABEL s5, jalr_ret1, 27

        la      s1, jalr_target2 + 1          /* odd address: bit 0 is cleared */
        jalr    s5, 0(s1)
jalr_ret2:
        FAIL    28
jalr_target2:
        CHECK_LABEL s5, jalr_ret2, 29

        la      s1, jalr_target3 + 16         /* negative offset */
        jalr    s5, -16(s1)
        FAIL    30
jalr_target3:

        la      s1, jalr_target4 - 7          /* positive odd sum: bit 0 cleared */
        jalr    s5, 7(s1)
        FAIL    31
jalr_target4:

        /* rd == rs1: the target uses the old rs1 value */
        la      s5, jalr_target5
        jalr    s5, 0(s5)
jalr_ret5:
        FAIL    32
jalr_target5:
        CHECK_LABEL s5, jalr_ret5, 33

        /* JALR with rd = x0 does not link */
        la      s1, jalr_target6
        jalr    x0, 0(s1)
        FAIL    34
jalr_target6:
        CHECK_EQ x0, 0, 35

        /* JAL with rd = x0 (plain jump) */
        jal     x0, jal0_target
        FAIL    36
jal0_target:
        CHECK_EQ x0, 0, 37

        /* a function call through a register and return */
        li      a0, 20
        la      s1, add_22
        jalr    ra, s1
        CHECK_EQ a0, 42, 38
        PASS

add_22:
        addi    a0, a0, 22
        ret
