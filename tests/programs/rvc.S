/*
 * RV64C: every compressed instruction, written with explicit c.* mnemonics: loads and
 * stores (incl. FP and sp-relative), immediates at their extremes (c.lui negative,
 * c.addi16sp, c.addi4spn), W forms, jumps and branches with their link values, 32-bit
 * instructions at 2-byte aligned addresses, c.ebreak, and reserved encodings trapping as
 * illegal instructions with mtval = the 16 instruction bits.
 */
#include "test-macros.h"

        .data
        .align 4
/* 256 bytes: dword i holds 0x0101010101010101 * i, word 1 = 0x80000000 (negative) */
buf:
        .set i, 0
        .rept 32
        .dword 0x0101010101010101 * i
        .set i, i + 1
        .endr
stackbuf:
        .skip 1024

        .text
        .globl test_main
test_main:
        ENABLE_FPU
        mv      s10, sp
        la      s0, buf
        li      t0, 0x80000000
        sw      t0, 4(s0)                  /* word 1 = 0x80000000 */

        /* quadrant 0: loads and stores relative to a compressed register */
        c.ld    a0, 16(s0)
        CHECK_EQ a0, 0x0202020202020202, 1
        c.ld    a0, 248(s0)
        CHECK_EQ a0, 0x1f1f1f1f1f1f1f1f, 2
        c.lw    a1, 4(s0)
        CHECK_EQ a1, 0xffffffff80000000, 3
        c.lw    a1, 124(s0)                 /* high word of dword 15 */
        CHECK_EQ a1, 0x0f0f0f0f, 4
        c.fld   fa0, 24(s0)
        fmv.x.d a2, fa0
        CHECK_EQ a2, 0x0303030303030303, 5
        c.fld   fs1, 248(s0)
        fmv.x.d a2, fs1
        CHECK_EQ a2, 0x1f1f1f1f1f1f1f1f, 6
        li      a3, 0x1122334455667788
        c.sd    a3, 240(s0)
        ld      a4, 240(s0)
        CHECK_EQ a4, 0x1122334455667788, 7
        c.sw    a3, 124(s0)
        ld      a4, 120(s0)
        CHECK_EQ a4, 0x556677880f0f0f0f, 8
        li      a3, 0x0123456789abcdef
        fmv.d.x fa5, a3
        c.fsd   fa5, 0(s0)
        ld      a4, 0(s0)
        CHECK_EQ a4, 0x0123456789abcdef, 9

        /* c.addi4spn: rd' = sp + nzuimm (x4, up to 1020) */
        la      sp, stackbuf
        c.addi4spn a0, sp, 4
        addi    a1, sp, 4
        CHECK_EQR a0, a1, 10
        c.addi4spn a5, sp, 1020
        addi    a1, sp, 1020
        CHECK_EQR a5, a1, 11

        /* quadrant 2: sp-relative loads and stores */
        li      a3, 0xfedcba9876543210
        c.sdsp  a3, 504(sp)
        ld      a4, 504(sp)
        CHECK_EQ a4, 0xfedcba9876543210, 12
        c.ldsp  t1, 504(sp)
        CHECK_EQ t1, 0xfedcba9876543210, 13
        c.swsp  a3, 252(sp)
        lwu     a4, 252(sp)
        CHECK_EQ a4, 0x76543210, 14
        li      a3, 0x8000abcd
        c.swsp  a3, 0(sp)
        c.lwsp  t2, 0(sp)
        CHECK_EQ t2, 0xffffffff8000abcd, 15
        li      a3, 0x4010000000000000        /* 4.0 */
        fmv.d.x ft3, a3
        c.fsdsp ft3, 8(sp)
        ld      a4, 8(sp)
        CHECK_EQ a4, 0x4010000000000000, 16
        c.fldsp ft4, 8(sp)
        fmv.x.d a4, ft4
        CHECK_EQ a4, 0x4010000000000000, 17
        c.fldsp ft5, 504(sp)
        fmv.x.d a4, ft5
        CHECK_EQ a4, 0xfedcba9876543210, 18

        /* c.addi16sp: sp += nzimm (x16, -512..496) */
        mv      a1, sp
        c.addi16sp sp, 496
        addi    a1, a1, 496
        CHECK_EQR sp, a1, 19
        c.addi16sp sp, -512
        addi    a1, a1, -512
        CHECK_EQR sp, a1, 20
        mv      sp, s10

        /* quadrant 1: immediates */
        c.li    a0, -32
        CHECK_EQ a0, -32, 21
        c.li    t3, 31
        CHECK_EQ t3, 31, 22
        c.addi  a0, 31
        CHECK_EQ a0, -1, 23
        c.addi  t3, -32
        CHECK_EQ t3, -1, 24
        c.nop
        li      a0, 0x7fffffff
        c.addiw a0, 1
        CHECK_EQ a0, 0xffffffff80000000, 25
        li      t4, 0x12345678ffffffff
        c.addiw t4, 0                      /* sext.w */
        CHECK_EQ t4, -1, 26
        c.addiw t4, -32
        CHECK_EQ t4, -33, 27
        c.lui   a0, 0xfffff                 /* negative: -1 << 12 */
        CHECK_EQ a0, 0xfffffffffffff000, 28
        c.lui   a0, 0xfffe0                 /* most negative: -32 << 12 */
        CHECK_EQ a0, 0xfffffffffffe0000, 29
        c.lui   t5, 31
        CHECK_EQ t5, 0x1f000, 30
        c.lui   a0, 1
        CHECK_EQ a0, 0x1000, 31

        /* shifts and logic */
        li      a0, 0x8000000000000000
        c.srli  a0, 63
        CHECK_EQ a0, 1, 32
        li      a0, 0x8000000000000000
        c.srai  a0, 63
        CHECK_EQ a0, -1, 33
        li      a0, 0x8000000000000000
        c.srai  a0, 32
        CHECK_EQ a0, 0xffffffff80000000, 34
        li      a0, 0x123456789abcdef0
        c.srli  a0, 4
        CHECK_EQ a0, 0x0123456789abcdef, 35
        li      t3, 1
        c.slli  t3, 63
        CHECK_EQ t3, 0x8000000000000000, 36
        li      t3, 0x123456789abcdef0
        c.slli  t3, 32
        CHECK_EQ t3, 0x9abcdef000000000, 37
        li      a0, 0x123456789abcdeff
        c.andi  a0, -32
        CHECK_EQ a0, 0x123456789abcdee0, 38
        li      a0, 0x123456789abcdeff
        c.andi  a0, 31
        CHECK_EQ a0, 0x1f, 39
        li      a0, 0xff00ff00ff00ff00
        li      a1, 0x0ff00ff00ff00ff0
        c.and   a0, a1
        CHECK_EQ a0, 0x0f000f000f000f00, 40
        li      a0, 0xff00ff00ff00ff00
        c.or    a0, a1
        CHECK_EQ a0, 0xfff0fff0fff0fff0, 41
        li      a0, 0xff00ff00ff00ff00
        c.xor   a0, a1
        CHECK_EQ a0, 0xf0f0f0f0f0f0f0f0, 42
        li      a0, 5
        li      a1, 7
        c.sub   a0, a1
        CHECK_EQ a0, -2, 43
        li      a0, 0x0000000080000000
        li      a1, 1
        c.subw  a0, a1
        CHECK_EQ a0, 0x7fffffff, 44
        li      a0, 0x7fffffff
        c.addw  a0, a1
        CHECK_EQ a0, 0xffffffff80000000, 45
        li      a0, 0x1234567800000000
        li      a1, 0x0000000100000005
        c.addw  a0, a1
        CHECK_EQ a0, 5, 46
        li      t3, 40
        li      t4, 2
        c.add   t3, t4
        CHECK_EQ t3, 42, 47
        c.mv    t5, t3
        CHECK_EQ t5, 42, 48

        /* c.j forward and backward */
        li      s1, 0
        c.j     1f
        FAIL    49
2:      li      s1, 2
        c.j     3f
1:      li      s1, 1
        c.j     2b
3:      CHECK_EQ s1, 2, 50

        /* c.beqz / c.bnez taken and not taken */
        li      a0, 0
        c.beqz  a0, 1f
        FAIL    51
1:      li      a0, 1
        c.beqz  a0, 2f
        c.j     3f
2:      FAIL    52
3:      c.bnez  a0, 4f
        FAIL    53
4:      li      a0, 0
        c.bnez  a0, 5f
        c.j     6f
5:      FAIL    54
6:      li      a0, 0x100000000              /* all 64 bits tested */
        c.beqz  a0, 7f
        c.j     8f
7:      FAIL    55
8:

        /* c.jr and c.jalr: link = pc + 2, bit 0 of the target cleared */
        la      t0, cjr_target
        c.jr    t0
        FAIL    56
cjr_target:
        la      t0, cjalr_target
cjalr_site:
        c.jalr  t0
cjalr_return:
        c.j     1f
cjalr_target:
        CHECK_LABEL ra, cjalr_return, 57
        la      t1, cjalr_site
        addi    t1, t1, 2
        CHECK_EQR ra, t1, 58
        c.jr    ra
1:      la      t0, cjalr_target2 + 1
        c.jalr  t0
        c.j     2f
cjalr_target2:
        c.jr    ra
2:
        /* a 32-bit instruction at an address that is 2 mod 4 */
        .align 2
        c.nop
misaligned32:
        addi    a0, zero, 123
        la      t0, misaligned32
        andi    t0, t0, 3
        CHECK_EQ t0, 2, 59
        CHECK_EQ a0, 123, 60
        /* jalr to a 2-byte-aligned target */
        la      t0, half_target
        jalr    ra, 0(t0)
        c.j     3f
        .align 2
        c.nop
half_target:
        li      s1, 77
        ret
3:      CHECK_EQ s1, 77, 61
        la      t0, half_target
        andi    t0, t0, 3
        CHECK_EQ t0, 2, 62

        /* c.ebreak: breakpoint, mepc = its address, mtval = pc or 0 */
        EXPECT_TRAP 1f
cebreak_site:
        c.ebreak
        TRAP_MISSED
1:      CHECK_MCAUSE CAUSE_BREAKPOINT, 63
        CHECK_MEPC cebreak_site, 64
        ld      t0, rt_trap + TRAP_TVAL
        beqz    t0, 2f
        CHECK_LABEL t0, cebreak_site, 65
2:
        /* reserved / illegal compressed encodings: illegal instruction, mtval = bits */
        .macro ILLEGAL16 bits, code
        EXPECT_TRAP .Lback\@
.Lsite\@:
        .half   \bits
        TRAP_MISSED
.Lback\@:
        CHECK_MCAUSE CAUSE_ILLEGAL_INSTRUCTION, \code
        CHECK_MEPC .Lsite\@, \code + 1
        CHECK_MTVAL \bits, \code + 2
        .endm
        ILLEGAL16 0x0000, 70        /* all zeros: defined illegal */
        ILLEGAL16 0x0004, 73        /* c.addi4spn with nzuimm = 0 */
        ILLEGAL16 0x6101, 76        /* c.addi16sp with nzimm = 0 */
        ILLEGAL16 0x6501, 79        /* c.lui rd=x10 with nzimm = 0 */
        ILLEGAL16 0x8002, 82        /* c.jr with rs1 = x0 */
        ILLEGAL16 0x4002, 85        /* c.lwsp with rd = x0 */
        ILLEGAL16 0x6002, 88        /* c.ldsp with rd = x0 */
        ILLEGAL16 0x9c41, 91        /* reserved in the c.subw/c.addw group (funct2 = 10) */
        PASS
